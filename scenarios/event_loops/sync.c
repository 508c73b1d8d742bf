/*
 * event_loops/sync.c - the slow API's requests over blocking sockets,
 * one after another, with no HTTP library.
 *
 * Demonstrates: what libcurl's curl_easy_perform does underneath.
 * connect, send and recv each block this thread until the kernel has done
 * its part, so while the server takes 10 s over R1 nothing else happens:
 * one request at a time, so the lesson's 10, 2 and 5 s take 17 s.
 * Each request reuses the connection if the server kept it open
 * (keep-alive), as libcurl's would.
 * Timeouts come from the kernel: each blocking call is bounded by the
 * socket's SO_SNDTIMEO and SO_RCVTIMEO, set to what is left before the
 * request's deadline.
 * sync.c blocks, async.c waits for readiness (epoll), async_uring.c for
 * completion (io_uring); docs/event_loops.md explains all three.
 *
 * This lesson is the one place asynclab writes HTTP by hand (raw_http.c),
 * because the system calls are the lesson; everywhere else libcurl does it.
 *
 *     build/bin/event_loops_sync [--delays 10,2,5] [--requests N] [--scale F]
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "clock.h"
#include "event_loops.h"
#include "output.h"

static const struct lesson_program PROGRAM = {
    .name = "event_loops_sync",
    .purpose = "Calls a slow API over blocking sockets, writing HTTP by hand: one request after another.",
    .concurrent = false,
    .fds_per_request = 1,  /* its socket */
};

/* The one request in flight and its socket; the next request reuses the
 * connection if the server kept it open. */
struct connection {
    const struct raw_http_server *server;
    int fd;                 /* -1: none open */
    struct delay_request *request;
    double deadline;
    char text[RAW_HTTP_REQUEST_MAX];
    size_t length, sent;
    struct raw_http_reply reply;
};

/* Every blocking call on fd gives up at the deadline: the kernel's own
 * timers (SO_SNDTIMEO bounds connect and send, SO_RCVTIMEO recv). */
static void bound_by(int fd, double deadline)
{
    double left = deadline - clock_now();
    if (left < 0.001)
        left = 0.001;
    struct timeval limit = { (time_t)left, (suseconds_t)((left - (double)(time_t)left) * 1e6) };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
}

static void disconnect(struct connection *connection)
{
    if (connection->fd >= 0)
        close(connection->fd);
    connection->fd = -1;
}

/* The request is over, however it ended. */
static void finish_request(struct slow_api *run, struct connection *connection,
                           const char *failure, int error_number)
{
    event_loops_request_finished(run, connection->request, failure, error_number,
                                 &connection->reply);
    if (failure != NULL || !connection->reply.keep_alive)
        disconnect(connection);  /* the next request starts on a fresh one */
}

/* Connects and returns once the handshake is done: the thread waits for it. */
static bool connect_blocking(struct slow_api *run, struct connection *connection)
{
    const struct raw_http_server *server = connection->server;
    connection->fd = socket(server->address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connection->fd < 0) {
        finish_request(run, connection, "cannot open a socket", errno);
        return false;
    }
    bound_by(connection->fd, event_loops_give_up_at(run, connection->deadline, clock_now()));
    /* Blocks for the whole handshake. */
    int connected = connect(connection->fd, (const struct sockaddr *)&server->address,
                            server->address_length);
    if (connected != 0 && errno == EINPROGRESS) {
        finish_request(run, connection, EVENT_LOOPS_TIMED_OUT, 0);  /* SO_SNDTIMEO ran out */
        return false;
    }
    if (connected != 0) {
        finish_request(run, connection, "cannot connect", errno);
        return false;
    }
    return true;
}

/* Sends the whole request; false if the request failed instead. */
static bool send_blocking(struct slow_api *run, struct connection *connection)
{
    bound_by(connection->fd, event_loops_give_up_at(run, connection->deadline, clock_now()));
    while (connection->sent < connection->length) {
        /* Blocks while the socket's buffer is full. */
        ssize_t sent = send(connection->fd, connection->text + connection->sent,
                            connection->length - connection->sent, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;  /* a signal came first: send again */
        if (sent < 0 && errno == EAGAIN) {
            finish_request(run, connection, EVENT_LOOPS_TIMED_OUT, 0);  /* SO_SNDTIMEO ran out */
            return false;
        }
        if (sent < 0) {
            finish_request(run, connection, "cannot send the request", errno);
            return false;
        }
        connection->sent += (size_t)sent;
    }
    return true;
}

/* Receives until the reply is whole, then finishes the request. */
static void receive_blocking(struct slow_api *run, struct connection *connection)
{
    for (;;) {
        bound_by(connection->fd, event_loops_give_up_at(run, connection->deadline, clock_now()));
        size_t room;
        char *space = raw_http_reply_space(&connection->reply, &room);
        /* Blocks for the server's whole delay. */
        ssize_t got = recv(connection->fd, space, room, 0);
        if (got < 0 && errno == EINTR)
            continue;  /* a signal came first: receive again */
        if (got < 0 && errno == EAGAIN) {
            finish_request(run, connection, EVENT_LOOPS_TIMED_OUT, 0);  /* SO_RCVTIMEO ran out */
            return;
        }
        if (got < 0) {
            finish_request(run, connection, "cannot receive the reply", errno);
            return;
        }
        switch (raw_http_reply_received(&connection->reply, (size_t)got)) {
        case RAW_HTTP_MORE: continue;
        case RAW_HTTP_DONE: finish_request(run, connection, NULL, 0); return;
        case RAW_HTTP_BAD: finish_request(run, connection, connection->reply.error, 0); return;
        }
    }
}

/* Sends one request and waits, doing nothing else, until it has finished. */
static void run_request(struct slow_api *run, struct connection *connection,
                        struct delay_request *request)
{
    connection->request = request;
    connection->length = raw_http_request(connection->text, connection->server, request->url);
    connection->sent = 0;
    raw_http_reply_reset(&connection->reply);
    slow_api_request_started(run, request);
    connection->deadline = event_loops_deadline(run, request);
    if (connection->length == 0) {
        finish_request(run, connection, "the request does not fit in its buffer", 0);
        return;
    }
    /* A kept-alive connection is ready to send; a new one must connect. */
    if (connection->fd < 0 && !connect_blocking(run, connection))
        return;
    if (send_blocking(run, connection))
        receive_blocking(run, connection);
}

int main(int argc, char **argv)
{
    struct slow_api run;
    int early_exit = slow_api_setup_without_curl(&run, &PROGRAM, argc, argv,
                                                 raw_http_server_reachable);
    if (early_exit >= 0)
        return early_exit;

    struct raw_http_server server;
    if (!event_loops_resolve(&run, &server))
        return EXIT_SETUP;
    struct connection connection = { .server = &server, .fd = -1 };

    for (long i = 0; i < run.request_count; i++)
        run_request(&run, &connection, &run.requests[i]);

    disconnect(&connection);
    return slow_api_finish(&run);
}
