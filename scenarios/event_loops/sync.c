/*
 * event_loops/sync.c - the slow API's requests over blocking sockets, one
 * after another, with no HTTP library.
 *
 * Demonstrates: what libcurl's curl_easy_perform does underneath.  connect,
 * send and recv each block this thread until the kernel has done its part,
 * so while the server takes 10 s over R1 nothing else happens; the lesson's
 * 10, 2 and 5 s take 17 s.  One connection carries every request
 * (keep-alive), as libcurl's would.  Compare with async.c (epoll) and
 * async_uring.c (io_uring); docs/event_loops.md explains all three.
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

/* The one connection, kept open from one request to the next. */
struct connection {
    const struct raw_http_server *server;
    int fd;  /* -1: not connected */
};

static void disconnect(struct connection *connection)
{
    if (connection->fd >= 0)
        close(connection->fd);
    connection->fd = -1;
}

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

/* What went wrong with a request: nothing (what NULL), or what and errno. */
struct failure {
    const char *what;
    int error_number;  /* 0: what says it all */
};
static const struct failure NO_FAILURE = { NULL, 0 };

static struct failure failed_with_errno(const char *what)
{
    return (struct failure){ what, errno };
}

/* Connects if not connected yet. */
static struct failure connect_blocking(const struct slow_api *run,
                                       struct connection *connection, double deadline)
{
    if (connection->fd >= 0)
        return NO_FAILURE;
    const struct raw_http_server *server = connection->server;
    connection->fd = socket(server->address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connection->fd < 0)
        return failed_with_errno("cannot open a socket");
    bound_by(connection->fd, event_loops_give_up_at(run, deadline, clock_now()));
    if (connect(connection->fd, (const struct sockaddr *)&server->address,
                server->address_length) != 0)  /* blocks for the handshake */
        return errno == EINPROGRESS ? (struct failure){ EVENT_LOOPS_TIMED_OUT, 0 }
                                    : failed_with_errno("cannot connect");
    return NO_FAILURE;
}

/* Sends the whole request. */
static struct failure send_blocking(int fd, const char *data, size_t length)
{
    while (length > 0) {
        ssize_t sent = send(fd, data, length, MSG_NOSIGNAL);  /* blocks while the buffer is full */
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0)
            return errno == EAGAIN ? (struct failure){ EVENT_LOOPS_TIMED_OUT, 0 }
                                   : failed_with_errno("cannot send the request");
        data += sent;
        length -= (size_t)sent;
    }
    return NO_FAILURE;
}

/* Receives until the reply is complete, or until it is given up. */
static struct failure receive_blocking(const struct slow_api *run, int fd,
                                       struct raw_http_reply *reply, double deadline)
{
    enum raw_http_progress progress = RAW_HTTP_MORE;
    while (progress == RAW_HTTP_MORE) {
        bound_by(fd, event_loops_give_up_at(run, deadline, clock_now()));
        size_t room;
        char *space = raw_http_reply_space(reply, &room);
        ssize_t got = recv(fd, space, room, 0);  /* blocks for the server's whole delay */
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return errno == EAGAIN ? (struct failure){ EVENT_LOOPS_TIMED_OUT, 0 }
                                   : failed_with_errno("cannot receive the reply");
        progress = raw_http_reply_received(reply, (size_t)got);
    }
    return progress == RAW_HTTP_BAD ? (struct failure){ reply->error, 0 } : NO_FAILURE;
}

/* Sends one request and waits, doing nothing else, until it has finished. */
static void run_request(struct slow_api *run, struct connection *connection,
                        struct raw_http_reply *reply, struct delay_request *request)
{
    char text[RAW_HTTP_REQUEST_MAX];
    size_t length = raw_http_request(text, connection->server, request->url);
    raw_http_reply_reset(reply);
    slow_api_request_started(run, request);
    double deadline = event_loops_deadline(run, request);

    struct failure failed = length == 0
                                ? (struct failure){ "the request does not fit in its buffer", 0 }
                                : connect_blocking(run, connection, deadline);
    if (failed.what == NULL) {
        bound_by(connection->fd, event_loops_give_up_at(run, deadline, clock_now()));
        failed = send_blocking(connection->fd, text, length);
    }
    if (failed.what == NULL)
        failed = receive_blocking(run, connection->fd, reply, deadline);

    if (failed.what != NULL)
        event_loops_request_failed(run, request, failed.what, failed.error_number);
    else
        event_loops_reply_arrived(run, request, reply);
    if (failed.what != NULL || !reply->keep_alive)
        disconnect(connection);  /* the next request starts on a fresh one */
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
    struct connection connection = { &server, -1 };
    struct raw_http_reply reply;

    for (long i = 0; i < run.request_count; i++)
        run_request(&run, &connection, &reply, &run.requests[i]);

    disconnect(&connection);
    return slow_api_finish(&run);
}
