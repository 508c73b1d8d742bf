/*
 * faulty_server.h - a loopback HTTP server that misbehaves on purpose, for
 * the client fault-injection tests.
 *
 * Unlike fake_server.h, which answers every request the same way, it
 * answers GET /health with 200, like slowserver, so a client's start-up
 * check passes and the fault meets the client's real work; every other
 * request gets the chosen fault.  It runs on a thread of the test program,
 * so a client started with test_run can talk to it while the test waits.
 */
#ifndef ASYNCLAB_TEST_FAULTY_SERVER_H
#define ASYNCLAB_TEST_FAULTY_SERVER_H

#include <pthread.h>

enum faulty_fault {
    FAULTY_SILENT,               /* reads the request, never answers, keeps the connection */
    FAULTY_HEADERS_THEN_SILENCE, /* a 200 header block promising a body that never comes */
    FAULTY_GARBAGE,              /* bytes that are not HTTP, then closes */
    FAULTY_STATUS_500,           /* a well-formed 500 */
    FAULTY_CLOSE_AFTER_HEADERS,  /* a 200 header block promising a body, then closes */
};

struct faulty_server {
    enum faulty_fault fault;
    int listen_fd;
    int stop_pipe[2];
    pthread_t thread;
    char url[64];              /* "http://127.0.0.1:PORT" */
    int faulted;               /* requests that got the fault (read after stop) */
};

/* Listens on a free loopback port and starts serving; 0, or -1 after
 * printing why. */
int faulty_server_start(struct faulty_server *server, enum faulty_fault fault);

/* Stops the thread and closes every connection; returns faulted. */
int faulty_server_stop(struct faulty_server *server);

/* "silent", "headers-then-silence", ...: for test names and messages. */
const char *faulty_fault_name(enum faulty_fault fault);

#endif
