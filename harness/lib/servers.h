/*
 * servers.h - the slowservers a run needs, one per --mode, started on first
 * use on a free port and stopped at the end.
 *
 * A scenario variant names the program and, after an '@', the server mode
 * it runs against: "async" is build/bin/<scenario>_async against the usual
 * async-mode server, "async@blocking" the same program against a server in
 * --mode blocking (the server-side pitfall).
 */
#ifndef ASYNCLAB_HARNESS_SERVERS_H
#define ASYNCLAB_HARNESS_SERVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SERVER_URL_MAX 512

struct server {
    const char *mode;           /* slowserver --mode */
    pid_t pid;                  /* 0: not started by us */
    int stdout_fd;              /* its stdout, kept open so it never gets SIGPIPE */
    char url[SERVER_URL_MAX];   /* "" until known */
};

struct server_pool {
    const char *program;        /* for messages */
    char bin_dir[4096];         /* where slowserver is */
    struct server servers[3];   /* async, threads, blocking */
};

/* An empty pool; nothing starts until server_pool_url asks for a mode. */
void server_pool_init(struct server_pool *pool, const char *program, const char *bin_dir);

/* Uses a server someone else runs at `url` for `mode` instead of starting one. */
void server_pool_adopt(struct server_pool *pool, const char *mode, const char *url);

/* The base URL of a server in `mode`, starting it on first use (and saying
 * so on stdout unless quiet).  NULL after a one-line error. */
const char *server_pool_url(struct server_pool *pool, const char *mode, bool quiet);

/* Stops every server this pool started (SIGTERM, then waits). */
void server_pool_stop(struct server_pool *pool);

/* Starts argv, a program whose first stdout line is "listening on URL"
 * (slowserver, the service lesson's gateways), and copies URL into url.
 * *stdout_fd is the rest of its stdout, to keep open while it runs (so it
 * never gets SIGPIPE) and close after.  Returns its pid, or -1 after a
 * one-line error (the program is stopped again if it started). */
pid_t server_start_listening(const char *program, char *const argv[], char *url, size_t size,
                             int *stdout_fd);

/* Splits "async@blocking" into the program part ("async") and the server
 * mode ("blocking"; "async" when there is no '@'). */
void variant_split(const char *variant, char *program, size_t size, const char **mode);

#endif
