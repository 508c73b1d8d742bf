/*
 * server.h - a real slowserver for tests, and HTTP requests to it.
 *
 * Every integration test runs against its own server on a free port
 * (--port 0), so tests never depend on, or disturb, a server a developer
 * left running on 8000.  The server's /stats counters are how tests prove
 * concurrency without timing anything.
 */
#ifndef ASYNCLAB_TEST_SERVER_H
#define ASYNCLAB_TEST_SERVER_H

#include <stddef.h>
#include <sys/types.h>

struct test_server {
    pid_t pid;
    int port;
    char url[64];      /* "http://127.0.0.1:PORT" */
    int stdout_fd;     /* the rest of the server's stdout (its request log without --quiet) */
};

/* Starts ASYNCLAB_BIN_DIR/slowserver --port 0 --quiet --mode MODE plus
 * extra_args (NULL-terminated, may be NULL), reads the first stdout line,
 * fills port and url.  Returns 0, or -1 after printing why. */
int test_server_start(struct test_server *server, const char *mode, const char *const *extra_args);

/* The same without --quiet: the server then logs one line per finished
 * request, which test_server_read_line returns. */
int test_server_start_verbose(struct test_server *server, const char *mode,
                              const char *const *extra_args);

/* Starts ASYNCLAB_BIN_DIR/<program> with arguments (NULL-terminated), a
 * program that, like slowserver, prints "listening on URL" first (the
 * service lesson's gateways); fills port and url.  Stop it with
 * test_server_stop.  Returns 0, or -1 after printing why. */
int test_program_serve(struct test_server *server, const char *program,
                       const char *const *arguments);

/* Reads the server's next stdout line (without its '\n') into line,
 * waiting at most timeout_s.  Returns 0, or -1 on timeout or end. */
int test_server_read_line(struct test_server *server, char *line, size_t size, double timeout_s);

/* SIGTERM, waitpid; returns the exit status (0 = clean), or -1 if it had to
 * be killed after a bounded wait. */
int test_server_stop(struct test_server *server);

struct test_reply {
    long status;
    char *body;        /* NUL-terminated */
    size_t length;
    char *headers;     /* the raw header block, NUL-terminated */
};

/* One blocking libcurl request (method "GET"/"POST"/...; body may be NULL);
 * timeout_s bounds it.  Returns 0 when an HTTP reply arrived, -1 on
 * transport error/timeout (reply is then empty but still safe to free). */
int test_http(const char *method, const char *url, const char *body, size_t body_length,
              double timeout_s, struct test_reply *reply);
void test_reply_free(struct test_reply *reply);

/* The value of a header in reply (case-insensitive name) copied into
 * value; returns 0, or -1 if the reply does not have it. */
int test_reply_header(const struct test_reply *reply, const char *name, char *value, size_t size);

/* GET url/stats and return a number from it: path NULL for the top-level
 * field, else that path's field ("/delay-me", "max_in_flight"); path
 * "responses" reads the count of a status ("responses", "404"), path "live"
 * a counter of the live view ("live", "viewers").  -1 on
 * error or when the field is absent. */
long test_server_stat(const struct test_server *server, const char *path, const char *field);

/* POST /stats/reset; returns 0 on 204. */
int test_server_reset_stats(const struct test_server *server);

/* Polls a /stats field until it equals want or timeout_s passes; returns
 * the last value read.  For "in_flight drops to 0 after a client gives up". */
long test_server_wait_stat(const struct test_server *server, const char *path, const char *field,
                           long want, double timeout_s);

#endif
