/*
 * event_loops/async.c - the slow API's requests over non-blocking sockets,
 * all at once in one epoll loop, with no HTTP library.
 *
 * Demonstrates: what libcurl's multi interface does underneath.
 * connect, send and recv never block: each returns at once, done or
 * "would block" (EAGAIN), and epoll says when to try again: READINESS.
 * Each request is a small state machine (connecting, sending, receiving)
 * that moves on only when epoll says its socket is ready.  One thread,
 * every request in flight, so the lesson's 10, 2 and 5 s take about 10 s.
 * Each request reuses the connection if the server kept it open
 * (keep-alive), as libcurl's would.
 * Timeouts come from the loop itself: epoll_wait never sleeps past the
 * next sweep of the deadlines.
 * sync.c blocks, async.c waits for readiness (epoll), async_uring.c for
 * completion (io_uring); docs/event_loops.md explains all three.
 *
 * This lesson is the one place asynclab writes HTTP by hand (raw_http.c),
 * because the system calls are the lesson; everywhere else libcurl does it.
 *
 *     build/bin/event_loops_async [--delays 10,2,5] [--requests N]
 *                                 [--concurrency N] [--scale F]
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "event_loops.h"
#include "output.h"

static const struct lesson_program PROGRAM = {
    .name = "event_loops_async",
    .purpose = "Calls a slow API over non-blocking sockets and one epoll loop, writing HTTP by hand.",
    .concurrent = true,
    .fds_per_request = 1,  /* its socket */
};

#define READY_BATCH 256
#define SWEEP_INTERVAL_S 0.1  /* how often the deadlines are checked */

enum step { IDLE, CONNECTING, SENDING, RECEIVING };  /* the state machine */

/* One request in flight and its socket; --concurrency N makes N of them,
 * and the next request reuses the connection if the server kept it open. */
struct connection {
    enum step step;
    int fd;                 /* -1: none open */
    bool watched;           /* fd is in the epoll set */
    struct delay_request *request;
    double deadline;
    double progressed;      /* clock_now() of its last step forward */
    char text[RAW_HTTP_REQUEST_MAX];
    size_t length, sent;
    struct raw_http_reply reply;
};

struct loop {
    int epoll_fd;
    const struct raw_http_server *server;
    struct slow_api *run;
    long next;       /* the next request to start */
    long in_flight;
};

/* Asks epoll to report when fd can be written (EPOLLOUT) or read (EPOLLIN). */
static void watch(struct loop *loop, struct connection *connection, uint32_t events)
{
    struct epoll_event event = { .events = events, .data.ptr = connection };
    epoll_ctl(loop->epoll_fd, connection->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
              connection->fd, &event);
    connection->watched = true;
}

static void disconnect(struct connection *connection)
{
    if (connection->fd >= 0)
        close(connection->fd);  /* also takes it out of the epoll set */
    connection->fd = -1;
    connection->watched = false;
}

static void start_request(struct loop *loop, struct connection *connection,
                          struct delay_request *request);

/* The request is over, however it ended; the connection takes the next one. */
static void finish_request(struct loop *loop, struct connection *connection,
                           const char *failure, int error_number)
{
    event_loops_request_finished(loop->run, connection->request, failure, error_number,
                                 &connection->reply);
    if (failure != NULL || !connection->reply.keep_alive)
        disconnect(connection);  /* the next request starts on a fresh one */
    connection->step = IDLE;
    loop->in_flight--;
    if (loop->next < loop->run->request_count)
        start_request(loop, connection, &loop->run->requests[loop->next++]);
    else
        disconnect(connection);
}

/* Starts connecting and returns at once: the handshake goes on in the kernel. */
static bool connect_nonblocking(struct loop *loop, struct connection *connection)
{
    const struct raw_http_server *server = loop->server;
    connection->fd = socket(server->address.ss_family,
                            SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (connection->fd < 0) {
        finish_request(loop, connection, "cannot connect", errno);
        return false;
    }
    int connected = connect(connection->fd, (const struct sockaddr *)&server->address,
                            server->address_length);
    if (connected != 0 && errno != EINPROGRESS) {  /* EINPROGRESS: under way */
        finish_request(loop, connection, "cannot connect", errno);
        return false;
    }
    return true;
}

/* Sends what the socket takes now; true once the whole request is sent. */
static bool send_some(struct loop *loop, struct connection *connection)
{
    while (connection->sent < connection->length) {
        ssize_t sent = send(connection->fd, connection->text + connection->sent,
                            connection->length - connection->sent, MSG_NOSIGNAL);
        if (sent < 0 && errno == EAGAIN)
            return false;  /* the socket's buffer is full: wait for EPOLLOUT */
        if (sent < 0) {
            finish_request(loop, connection, "cannot send the request", errno);
            return false;
        }
        connection->sent += (size_t)sent;
        connection->progressed = clock_now();
    }
    return true;
}

/* Reads what has arrived, finishing the request once the reply is whole. */
static void receive_some(struct loop *loop, struct connection *connection)
{
    for (;;) {
        size_t room;
        char *space = raw_http_reply_space(&connection->reply, &room);
        ssize_t got = recv(connection->fd, space, room, 0);
        if (got < 0 && errno == EAGAIN)
            return;  /* nothing more yet: wait for EPOLLIN */
        if (got < 0) {
            finish_request(loop, connection, "cannot receive the reply", errno);
            return;
        }
        connection->progressed = clock_now();
        switch (raw_http_reply_received(&connection->reply, (size_t)got)) {
        case RAW_HTTP_MORE: continue;
        case RAW_HTTP_DONE: finish_request(loop, connection, NULL, 0); return;
        case RAW_HTTP_BAD: finish_request(loop, connection, connection->reply.error, 0); return;
        }
    }
}

/* Hands a request to the loop and returns at once: nothing waits. */
static void start_request(struct loop *loop, struct connection *connection,
                          struct delay_request *request)
{
    connection->request = request;
    connection->length = raw_http_request(connection->text, loop->server, request->url);
    connection->sent = 0;
    raw_http_reply_reset(&connection->reply);
    slow_api_request_started(loop->run, request);
    connection->deadline = event_loops_deadline(loop->run, request);
    connection->progressed = request->started;
    loop->in_flight++;
    if (connection->length == 0) {
        finish_request(loop, connection, "the request does not fit in its buffer", 0);
        return;
    }
    /* A kept-alive connection is ready to send; a new one must connect. */
    connection->step = connection->fd >= 0 ? SENDING : CONNECTING;
    if (connection->fd < 0 && !connect_nonblocking(loop, connection))
        return;
    watch(loop, connection, EPOLLOUT);  /* writable: connected, or room to send */
}

/* epoll says this connection's socket is ready: take the next step. */
static void on_ready(struct loop *loop, struct connection *connection)
{
    if (connection->step == CONNECTING) {
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(connection->fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
            finish_request(loop, connection, "cannot connect", error);
            return;
        }
        connection->step = SENDING;
    }
    if (connection->step == SENDING && send_some(loop, connection)) {
        connection->step = RECEIVING;
        watch(loop, connection, EPOLLIN);  /* readable: the reply has begun */
    } else if (connection->step == RECEIVING) {
        receive_some(loop, connection);
    }
}

/* Gives up every request past its deadline (or stalled too long).  A sweep is O(in flight); libcurl
 * keeps its timers sorted instead, which pays when there are many kinds. */
static void sweep_deadlines(struct loop *loop, struct connection *connections, long count)
{
    double now = clock_now();
    for (long i = 0; i < count; i++)
        if (connections[i].step != IDLE
            && now > event_loops_give_up_at(loop->run, connections[i].deadline,
                                            connections[i].progressed))
            finish_request(loop, &connections[i], EVENT_LOOPS_TIMED_OUT, 0);
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
    struct loop loop = { .epoll_fd = epoll_create1(EPOLL_CLOEXEC), .server = &server, .run = &run };
    struct connection *connections = calloc((size_t)run.concurrency, sizeof *connections);
    if (loop.epoll_fd < 0 || connections == NULL) {
        output_error(PROGRAM.name, "cannot set up the event loop (out of memory or fds)");
        free(connections);
        if (loop.epoll_fd >= 0)
            close(loop.epoll_fd);
        slow_api_abandon(&run);
        return EXIT_SETUP;
    }
    for (long i = 0; i < run.concurrency; i++)
        connections[i].fd = -1;
    for (long i = 0; i < run.concurrency && loop.next < run.request_count; i++)
        start_request(&loop, &connections[i], &run.requests[loop.next++]);

    /* The event loop: sleep until a socket is ready or the next sweep is due,
     * then move exactly those requests on. */
    struct epoll_event ready[READY_BATCH];
    double next_sweep = clock_now() + SWEEP_INTERVAL_S;
    while (loop.in_flight > 0) {
        double left = next_sweep - clock_now();
        int count = epoll_wait(loop.epoll_fd, ready, READY_BATCH,
                               left > 0 ? (int)(left * 1000.0) + 1 : 0);
        for (int i = 0; i < count; i++)
            on_ready(&loop, ready[i].data.ptr);
        if (clock_now() >= next_sweep) {
            sweep_deadlines(&loop, connections, run.concurrency);
            next_sweep = clock_now() + SWEEP_INTERVAL_S;
        }
    }

    for (long i = 0; i < run.concurrency; i++)
        disconnect(&connections[i]);
    free(connections);
    close(loop.epoll_fd);
    return slow_api_finish(&run);
}
