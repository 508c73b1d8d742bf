/*
 * raw_http.h - the little HTTP the event_loops lesson writes by hand.
 *
 * This is the one place in asynclab where HTTP is not left to libcurl: the
 * lesson (docs/event_loops.md) is the system calls underneath, so its three
 * programs open sockets and move bytes themselves, and need just enough HTTP
 * to do it.  Only what slowserver sends is understood: an HTTP/1.1 reply
 * with a Content-Length, on a connection that stays open for the next
 * request unless the server says "Connection: close".  Anything else (a
 * chunked body, a reply too big, a second Content-Length) is refused with a
 * one-line reason, never guessed at.  Nothing in here waits: the programs
 * decide how the bytes travel (blocking calls, epoll, io_uring).
 */
#ifndef ASYNCLAB_RAW_HTTP_H
#define ASYNCLAB_RAW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* slowserver's replies are under 200 bytes; a reply larger than this (head
 * and body together) is refused, so every request in flight costs one
 * fixed buffer and no allocation. */
#define RAW_HTTP_REPLY_MAX 1024
#define RAW_HTTP_REQUEST_MAX 384

/* Where the server is: resolved once, before any request is sent. */
struct raw_http_server {
    struct sockaddr_storage address;
    socklen_t address_length;
    char host[256];   /* the Host header: "127.0.0.1:8000" */
};

/* Resolves "http://HOST:PORT" (no path).  On failure writes a one-line
 * reason into error and returns false. */
bool raw_http_server_resolve(const char *url, struct raw_http_server *server,
                             char *error, size_t error_size);

/* A blocking connect to the server at url, closed again: what the programs
 * check before they start (they exit 2 if this prints its line). */
bool raw_http_server_reachable(const char *program, const char *url);

/* Writes "GET <url's path> HTTP/1.1" and its headers into request (at least
 * RAW_HTTP_REQUEST_MAX bytes).  Returns the length, or 0 if it does not fit. */
size_t raw_http_request(char *request, const struct raw_http_server *server, const char *url);

/* One reply as it arrives. */
struct raw_http_reply {
    char data[RAW_HTTP_REPLY_MAX + 1];  /* as received, NUL-terminated */
    size_t received;
    size_t head_length;      /* up to and including the blank line; 0 until it is in */
    size_t content_length;
    long status;             /* 200 */
    bool keep_alive;         /* false after "Connection: close" */
    const char *error;       /* why the reply was refused */
};

enum raw_http_progress {
    RAW_HTTP_MORE,  /* the reply is not complete yet: receive more */
    RAW_HTTP_DONE,  /* status, headers and the whole body are in */
    RAW_HTTP_BAD,   /* not a reply this client handles; see reply->error */
};

void raw_http_reply_reset(struct raw_http_reply *reply);

/* Where the next bytes received go, and how many fit there. */
char *raw_http_reply_space(struct raw_http_reply *reply, size_t *room);

/* Takes count more bytes, just written at raw_http_reply_space, and says
 * whether the reply is complete.  count 0 means the server closed the
 * connection, which before the last byte is an error. */
enum raw_http_progress raw_http_reply_received(struct raw_http_reply *reply, size_t count);

/* The body of a complete reply, NUL-terminated. */
const char *raw_http_reply_body(const struct raw_http_reply *reply);

#endif
