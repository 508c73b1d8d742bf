/*
 * fake_server.h - a server that is not slowserver, for the clients' bad
 * days: it answers every request with the same bytes, whatever they are (a
 * garbled status line, a truncated body), and closes the connection; or it
 * accepts and never answers at all.  It runs in a child process on a free
 * loopback port and dies with the test process.
 */
#ifndef ASYNCLAB_TEST_FAKE_SERVER_H
#define ASYNCLAB_TEST_FAKE_SERVER_H

#include <sys/types.h>

struct fake_server {
    pid_t pid;
    char url[64];  /* "http://127.0.0.1:PORT" */
};

/* Starts the server: once a request's blank line has arrived it sends reply
 * (NUL-terminated) and closes the connection.  reply NULL: it reads and
 * holds every connection open, never answering.  Returns 0, or -1 after
 * printing why. */
int test_fake_server_start(struct fake_server *server, const char *reply);

/* Kills and reaps it; returns 0. */
int test_fake_server_stop(struct fake_server *server);

#endif
