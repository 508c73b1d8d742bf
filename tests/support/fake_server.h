/*
 * fake_server.h - a loopback HTTP server that misbehaves on purpose, for
 * the client fault-injection tests.
 *
 * It answers GET /health with 200, like slowserver, so a client's start-up
 * check passes and the fault meets the client's real work; every other
 * request gets the chosen fault.  It runs on a thread of the test program,
 * so a client started with test_run can talk to it while the test waits.
 */
#ifndef ASYNCLAB_TEST_FAKE_SERVER_H
#define ASYNCLAB_TEST_FAKE_SERVER_H

#include <pthread.h>

enum fake_fault {
    FAKE_SILENT,               /* reads the request, never answers, keeps the connection */
    FAKE_HEADERS_THEN_SILENCE, /* a 200 header block promising a body that never comes */
    FAKE_GARBAGE,              /* bytes that are not HTTP, then closes */
    FAKE_STATUS_500,           /* a well-formed 500 */
    FAKE_CLOSE_AFTER_HEADERS,  /* a 200 header block promising a body, then closes */
};

struct fake_server {
    enum fake_fault fault;
    int listen_fd;
    int stop_pipe[2];
    pthread_t thread;
    char url[64];              /* "http://127.0.0.1:PORT" */
    int faulted;               /* requests that got the fault (read after stop) */
};

/* Listens on a free loopback port and starts serving; 0, or -1 after
 * printing why. */
int fake_server_start(struct fake_server *server, enum fake_fault fault);

/* Stops the thread and closes every connection; returns faulted. */
int fake_server_stop(struct fake_server *server);

/* "silent", "headers-then-silence", ...: for test names and messages. */
const char *fake_fault_name(enum fake_fault fault);

#endif
