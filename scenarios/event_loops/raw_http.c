/*
 * raw_http.c - the event_loops lesson's hand-written HTTP; see raw_http.h.
 * The one place in asynclab that writes HTTP by hand, because the system
 * calls around it are the lesson; everywhere else libcurl does this.
 */
#include "raw_http.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#define CONNECT_CHECK_TIMEOUT_S 5

/* The "host:port" of an http:// URL, and where its path starts. */
static bool split_url(const char *url, char *host, size_t host_size, const char **path)
{
    if (strncmp(url, "http://", 7) != 0)
        return false;
    const char *start = url + 7;
    size_t length = strcspn(start, "/?#");
    if (length == 0 || length >= host_size)
        return false;
    memcpy(host, start, length);
    host[length] = '\0';
    *path = start + length;
    return true;
}

bool raw_http_server_resolve(const char *url, struct raw_http_server *server,
                             char *error, size_t error_size)
{
    const char *path;
    if (!split_url(url, server->host, sizeof server->host, &path)) {
        snprintf(error, error_size, "'%s' is not an http://HOST:PORT URL", url);
        return false;
    }
    char name[256];
    snprintf(name, sizeof name, "%s", server->host);
    const char *port = "80";
    char *colon = strrchr(name, ':');
    if (colon != NULL && strchr(colon, ']') == NULL) {  /* not inside "[::1]" */
        *colon = '\0';
        port = colon + 1;
    }
    if (name[0] == '[') {  /* "[::1]" is written with brackets, resolved without */
        memmove(name, name + 1, strlen(name));
        name[strcspn(name, "]")] = '\0';
    }
    /* Once, blocking, before the loop: libcurl resolves for every new
     * connection, on a thread of its own so that the loop never waits. */
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *found = NULL;
    int failed = getaddrinfo(name, port, &hints, &found);
    if (failed != 0) {
        snprintf(error, error_size, "cannot resolve '%s': %s", server->host, gai_strerror(failed));
        return false;
    }
    memcpy(&server->address, found->ai_addr, found->ai_addrlen);
    server->address_length = found->ai_addrlen;
    freeaddrinfo(found);
    return true;
}

bool raw_http_server_reachable(const char *program, const char *url)
{
    struct raw_http_server server;
    char reason[320];
    bool reachable = raw_http_server_resolve(url, &server, reason, sizeof reason);
    if (reachable) {
        int fd = socket(server.address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        /* SO_SNDTIMEO bounds a blocking connect too. */
        struct timeval limit = { CONNECT_CHECK_TIMEOUT_S, 0 };
        reachable = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) == 0
                    && connect(fd, (struct sockaddr *)&server.address, server.address_length) == 0;
        if (!reachable)
            snprintf(reason, sizeof reason, "cannot connect to %s: %s", server.host, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    if (!reachable)
        fprintf(stderr, "%s: cannot reach the server at %s (%s); start it with: make run-server\n",
                program, url, reason);
    return reachable;
}

size_t raw_http_request(char *request, const struct raw_http_server *server, const char *url)
{
    char host[256];
    const char *path;
    if (!split_url(url, host, sizeof host, &path))
        return 0;
    int length = snprintf(request, RAW_HTTP_REQUEST_MAX,
                          "GET %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: asynclab/1\r\n\r\n",
                          path[0] == '/' ? "" : "/", path, server->host);
    return length > 0 && length < RAW_HTTP_REQUEST_MAX ? (size_t)length : 0;
}

void raw_http_reply_reset(struct raw_http_reply *reply)
{
    reply->received = 0;
    reply->head_length = 0;
    reply->content_length = 0;
    reply->status = 0;
    reply->keep_alive = true;
    reply->error = NULL;
    reply->data[0] = '\0';
}

char *raw_http_reply_space(struct raw_http_reply *reply, size_t *room)
{
    *room = RAW_HTTP_REPLY_MAX - reply->received;
    return reply->data + reply->received;
}

static enum raw_http_progress refuse(struct raw_http_reply *reply, const char *why)
{
    reply->error = why;
    return RAW_HTTP_BAD;
}

/* One "Name: value" header line (without its CRLF). */
static enum raw_http_progress read_header(struct raw_http_reply *reply, const char *line,
                                          bool *have_length)
{
    if (strncasecmp(line, "Content-Length:", 15) == 0) {
        char *end;
        errno = 0;
        unsigned long long value = strtoull(line + 15, &end, 10);
        if (*have_length || errno != 0 || end == line + 15 || (*end != '\r' && *end != '\0')
            || strchr(line + 15, '-') != NULL || value > RAW_HTTP_REPLY_MAX)
            return refuse(reply, "bad reply: an unusable Content-Length");
        reply->content_length = (size_t)value;
        *have_length = true;
    } else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0) {
        return refuse(reply, "bad reply: Transfer-Encoding is not handled here (libcurl does it)");
    } else if (strncasecmp(line, "Connection:", 11) == 0 && strstr(line + 11, "close") != NULL) {
        reply->keep_alive = false;
    }
    return RAW_HTTP_MORE;
}

/* Status line and headers, once the blank line that ends them is in. */
static enum raw_http_progress read_head(struct raw_http_reply *reply)
{
    char *line = reply->data;
    int status_end = 0;
    if (sscanf(line, "HTTP/1.1 %3ld%n", &reply->status, &status_end) != 1 || status_end != 12
        || (line[12] != ' ' && line[12] != '\r') || reply->status < 100)
        return refuse(reply, "bad reply: the status line is not 'HTTP/1.1 NNN ...'");
    bool have_length = false;
    char *head_end = reply->data + reply->head_length - 2;  /* the blank line's CRLF */
    for (line = strstr(line, "\r\n") + 2; line < head_end; line = strstr(line, "\r\n") + 2) {
        *strstr(line, "\r\n") = '\0';  /* one header at a time, as a string */
        enum raw_http_progress progress = read_header(reply, line, &have_length);
        line[strlen(line)] = '\r';
        if (progress == RAW_HTTP_BAD)
            return progress;
    }
    if (!have_length)
        return refuse(reply, "bad reply: no Content-Length (only such replies are handled here)");
    return RAW_HTTP_MORE;
}

enum raw_http_progress raw_http_reply_received(struct raw_http_reply *reply, size_t count)
{
    if (count == 0)
        return refuse(reply, reply->received == 0
                                 ? "the server closed the connection without replying"
                                 : "the server closed the connection in the middle of the reply");
    reply->received += count;
    reply->data[reply->received] = '\0';
    if (reply->head_length == 0) {
        char *blank = strstr(reply->data, "\r\n\r\n");
        if (blank == NULL)
            return reply->received < RAW_HTTP_REPLY_MAX
                       ? RAW_HTTP_MORE
                       : refuse(reply, "bad reply: the headers do not fit in 1024 bytes");
        reply->head_length = (size_t)(blank - reply->data) + 4;
        if (read_head(reply) == RAW_HTTP_BAD)
            return RAW_HTTP_BAD;
    }
    size_t expected = reply->head_length + reply->content_length;
    if (expected > RAW_HTTP_REPLY_MAX)
        return refuse(reply, "bad reply: larger than the 1024 bytes this client handles");
    if (reply->received > expected)
        return refuse(reply, "bad reply: more bytes than its Content-Length");
    return reply->received == expected ? RAW_HTTP_DONE : RAW_HTTP_MORE;
}

const char *raw_http_reply_body(const struct raw_http_reply *reply)
{
    return reply->data + reply->head_length;
}
