/*
 * event_loops/async_uring.c - the slow API's requests as io_uring
 * operations, all at once in one loop, with no HTTP library.
 *
 * Demonstrates: COMPLETION instead of readiness.  async.c asks the kernel
 * "tell me when this socket is ready" and then makes the call itself; here
 * the call (connect, send, recv) is handed to the kernel as an operation in
 * a ring shared with it, and the loop reaps what has finished: "this recv
 * got 128 bytes, already in your buffer".
 * Each request is a small state machine (connecting, sending, receiving)
 * that moves on only when its operation completes.  One thread,
 * every request in flight, so the lesson's 10, 2 and 5 s take about 10 s.
 * Each request reuses the connection if the server kept it open
 * (keep-alive), as libcurl's would.
 * Timeouts come from the kernel: each operation is linked to an io_uring
 * timeout that cancels it at the request's deadline.
 * Where io_uring is not available (an old kernel, a seccomp profile,
 * kernel.io_uring_disabled) it says so in one line and exits 2.
 * sync.c blocks, async.c waits for readiness (epoll), async_uring.c for
 * completion (io_uring); docs/event_loops.md explains all three.
 *
 * This lesson is the one place asynclab writes HTTP by hand (raw_http.c),
 * because the system calls are the lesson; everywhere else libcurl does it.
 *
 *     build/bin/event_loops_async_uring [--delays 10,2,5] [--requests N]
 *                                       [--concurrency N] [--scale F]
 */
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "event_loops.h"
#include "output.h"

static const struct lesson_program PROGRAM = {
    .name = "event_loops_async_uring",
    .purpose = "Calls a slow API with io_uring operations (connect, send, recv), writing HTTP by hand.",
    .concurrent = true,
    .fds_per_request = 1,  /* its socket */
};

#define RING_ENTRIES 4096

enum step { IDLE, CONNECTING, SENDING, RECEIVING };  /* the state machine */

/* One request in flight and its socket; --concurrency N makes N of them,
 * and the next request reuses the connection if the server kept it open.
 * At most one operation of a connection is in the ring at a time. */
struct connection {
    enum step step;
    int fd;                 /* -1: none open */
    struct delay_request *request;
    double deadline;
    struct __kernel_timespec time_left;  /* read by the kernel at submission */
    char text[RAW_HTTP_REQUEST_MAX];
    size_t length, sent;
    struct raw_http_reply reply;
};

struct loop {
    struct io_uring ring;
    const struct raw_http_server *server;
    struct slow_api *run;
    long next;       /* the next request to start */
    long in_flight;
};

static void disconnect(struct connection *connection)
{
    if (connection->fd >= 0)
        close(connection->fd);
    connection->fd = -1;
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

/* The operation this connection's step needs, linked to a timeout that
 * cancels it at the request's deadline. */
static void submit_step(struct loop *loop, struct connection *connection)
{
    if (io_uring_sq_space_left(&loop->ring) < 2)  /* a linked pair goes in together */
        io_uring_submit(&loop->ring);
    if (io_uring_sq_space_left(&loop->ring) < 2) {  /* the kernel took none: give up */
        finish_request(loop, connection, "the io_uring submission queue stays full", 0);
        return;
    }
    struct io_uring_sqe *operation = io_uring_get_sqe(&loop->ring);
    size_t room;
    char *space;
    switch (connection->step) {
    case CONNECTING:
        io_uring_prep_connect(operation, connection->fd,
                              (const struct sockaddr *)&loop->server->address,
                              loop->server->address_length);
        break;
    case SENDING:
        io_uring_prep_send(operation, connection->fd, connection->text + connection->sent,
                           connection->length - connection->sent, MSG_NOSIGNAL);
        break;
    default:
        space = raw_http_reply_space(&connection->reply, &room);
        io_uring_prep_recv(operation, connection->fd, space, room, 0);
        break;
    }
    io_uring_sqe_set_data(operation, connection);
    operation->flags |= IOSQE_IO_LINK;

    double now = clock_now();  /* each operation is progress: --stall-timeout counts from here */
    double left = event_loops_give_up_at(loop->run, connection->deadline, now) - now;
    left = left > 0 ? left : 0;
    connection->time_left.tv_sec = (long long)left;
    connection->time_left.tv_nsec = (long long)((left - (double)(long long)left) * 1e9);
    struct io_uring_sqe *timeout = io_uring_get_sqe(&loop->ring);
    io_uring_prep_link_timeout(timeout, &connection->time_left, 0);
    io_uring_sqe_set_data(timeout, NULL);  /* its own completion tells nothing new */
}

/* Hands a request to the ring and returns at once: nothing waits. */
static void start_request(struct loop *loop, struct connection *connection,
                          struct delay_request *request)
{
    connection->request = request;
    connection->length = raw_http_request(connection->text, loop->server, request->url);
    connection->sent = 0;
    raw_http_reply_reset(&connection->reply);
    slow_api_request_started(loop->run, request);
    connection->deadline = event_loops_deadline(loop->run, request);
    loop->in_flight++;
    if (connection->length == 0) {
        finish_request(loop, connection, "the request does not fit in its buffer", 0);
        return;
    }
    /* A kept-alive connection is ready to send; a new one must connect.  The
     * socket stays blocking: io_uring never blocks the loop on it. */
    connection->step = connection->fd >= 0 ? SENDING : CONNECTING;
    if (connection->fd < 0
        && (connection->fd = socket(loop->server->address.ss_family,
                                    SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        finish_request(loop, connection, "cannot open a socket", errno);
        return;
    }
    submit_step(loop, connection);
}

/* One operation of this connection has completed with result (a byte count,
 * or -errno): take the next step. */
static void on_completion(struct loop *loop, struct connection *connection, int result)
{
    static const char *const failures[] = {
        [CONNECTING] = "cannot connect", [SENDING] = "cannot send the request",
        [RECEIVING] = "cannot receive the reply",
    };
    if (result == -ECANCELED) {  /* its linked timeout fired first */
        finish_request(loop, connection, EVENT_LOOPS_TIMED_OUT, 0);
        return;
    }
    if (result < 0) {
        finish_request(loop, connection, failures[connection->step], -result);
        return;
    }
    if (connection->step == CONNECTING) {
        connection->step = SENDING;
    } else if (connection->step == SENDING) {
        connection->sent += (size_t)result;
        if (connection->sent == connection->length)
            connection->step = RECEIVING;
    } else {
        switch (raw_http_reply_received(&connection->reply, (size_t)result)) {
        case RAW_HTTP_MORE: break;
        case RAW_HTTP_DONE: finish_request(loop, connection, NULL, 0); return;
        case RAW_HTTP_BAD: finish_request(loop, connection, connection->reply.error, 0); return;
        }
    }
    submit_step(loop, connection);
}

/* The ring, if this kernel offers it with every operation used here. */
static bool open_ring(struct io_uring *ring)
{
    int failed = io_uring_queue_init(RING_ENTRIES, ring, 0);
    if (failed < 0) {
        output_error(PROGRAM.name, "io_uring is not available here (io_uring_setup: %s)",
                     strerror(-failed));
        return false;
    }
    struct io_uring_probe *probe = io_uring_get_probe_ring(ring);
    const int needed[] = { IORING_OP_CONNECT, IORING_OP_SEND, IORING_OP_RECV,
                           IORING_OP_LINK_TIMEOUT };
    bool all = probe != NULL;
    for (size_t i = 0; all && i < sizeof needed / sizeof needed[0]; i++)
        all = io_uring_opcode_supported(probe, needed[i]);
    io_uring_free_probe(probe);
    if (!all) {
        output_error(PROGRAM.name, "io_uring is not available here (this kernel's io_uring "
                     "lacks connect, send, recv or linked timeouts)");
        io_uring_queue_exit(ring);
    }
    return all;
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
    struct loop loop = { .server = &server, .run = &run };
    if (!open_ring(&loop.ring)) {
        slow_api_abandon(&run);
        return EXIT_SETUP;
    }
    struct connection *connections = calloc((size_t)run.concurrency, sizeof *connections);
    if (connections == NULL) {
        output_error(PROGRAM.name, "out of memory");
        io_uring_queue_exit(&loop.ring);
        slow_api_abandon(&run);
        return EXIT_SETUP;
    }
    for (long i = 0; i < run.concurrency; i++)
        connections[i].fd = -1;
    for (long i = 0; i < run.concurrency && loop.next < run.request_count; i++)
        start_request(&loop, &connections[i], &run.requests[loop.next++]);

    /* The event loop: submit what was queued, sleep until at least one
     * operation completes, then move on the requests whose operations did. */
    while (loop.in_flight > 0) {
        io_uring_submit_and_wait(&loop.ring, 1);
        struct io_uring_cqe *completion;
        unsigned head, reaped = 0;
        io_uring_for_each_cqe(&loop.ring, head, completion) {
            struct connection *connection = io_uring_cqe_get_data(completion);
            if (connection != NULL)
                on_completion(&loop, connection, completion->res);
            reaped++;
        }
        io_uring_cq_advance(&loop.ring, reaped);
    }

    for (long i = 0; i < run.concurrency; i++)
        disconnect(&connections[i]);
    free(connections);
    io_uring_queue_exit(&loop.ring);
    return slow_api_finish(&run);
}
