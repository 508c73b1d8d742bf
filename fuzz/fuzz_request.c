/*
 * fuzz_request.c - libFuzzer target: the whole of slowserver's request
 * handling, from raw bytes on a socket to the reply.
 *
 * One libmicrohttpd daemon, configured as slowserver configures it (its
 * own handler, completion and unescape callbacks from server/routes.c,
 * the same memory limit), runs for the whole fuzzing session without a listening
 * socket: each input is written into one end of a socketpair whose other
 * end is handed to the daemon with MHD_add_connection, as if a client had
 * connected and sent those bytes.  After every input the invariants must
 * hold, or the target aborts (which libFuzzer reports as a finding):
 *
 *   - the exchange ends within a bound: once the server has read the
 *     whole input, the client half-closes (as a client that has nothing
 *     more to send does), and the server must then close the connection:
 *     after its reply, or on seeing the hang-up during a delay or in the
 *     middle of an incomplete request (where libmicrohttpd stalls, the
 *     client closes for good, and the server must let go then; see
 *     exchange()).  Never later than the bound, which is shorter than the
 *     idle timeout: no input may hold the server;
 *   - whatever came back starts with an HTTP/1.x status line;
 *   - afterwards nothing is left: /stats in_flight is 0, no request
 *     context is alive, libmicrohttpd holds no connection.
 *
 * The end of an exchange is structural, not a silence timer: "the server
 * has read every byte" (SIOCOUTQ, see unread_by_peer), then the server's
 * close (read as end-of-stream).  So an input costs what the server does
 * with it, not a fixed wait.  (20 ms without progress ends an exchange
 * only where libmicrohttpd stalls, and each time is counted.)  Delays are
 * capped at 5 ms (--max-delay) so that valid waits stay cheap.
 * ASYNCLAB_FUZZ_MODE=threads|blocking runs the other server modes (default
 * async).  `make fuzz` runs it; docs/fuzzing.md has the figures.
 */
#include <errno.h>
#include <linux/sockios.h>   /* SIOCOUTQ */
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "routes.h"
#include "waiting.h"   /* server_timespec */

#define MAX_DELAY_S 0.005
/* The exchange must end within END_BOUND_S: a reply is due within the
 * largest delay, and the client's hang-up ends everything else at once.
 * The idle timeout is longer than the bound on purpose, so that an input
 * the server lets go of only at its idle timeout is a finding too, not a
 * slow pass. */
#define END_BOUND_S 2.0
#define IDLE_TIMEOUT_S 3u
/* A server that neither reads nor answers for this long has stalled (see
 * exchange()): the client then closes for good.  Four times the longest
 * delay (MAX_DELAY_S), so it never cuts a wait short. */
#define STALL_S 0.02
#define CONNECTION_MEMORY 4096   /* as server/main.c */
/* How often the client looks whether the server has read all it sent
 * (nothing wakes a sender when its peer reads). */
#define POLL_STEP_S 50e-6

#define REQUIRE(condition, what)                                     \
    do {                                                             \
        if (!(condition)) {                                          \
            fprintf(stderr, "fuzz_request: invariant broken: %s\n", what); \
            abort();                                                 \
        }                                                            \
    } while (0)

static struct server_app app;
static struct MHD_Daemon *daemon_handle;

static enum server_mode mode_from_environment(void)
{
    const char *mode = getenv("ASYNCLAB_FUZZ_MODE");
    if (mode != NULL && strcmp(mode, "threads") == 0)
        return SERVER_MODE_THREADS;
    if (mode != NULL && strcmp(mode, "blocking") == 0)
        return SERVER_MODE_BLOCKING;
    return SERVER_MODE_ASYNC;
}

/* As server/main.c's mode_flags, without a listening socket. */
static unsigned int daemon_flags(enum server_mode mode)
{
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET;
    if (mode == SERVER_MODE_THREADS)
        return flags | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    return flags | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    enum server_mode mode = mode_from_environment();
    if (server_app_init(&app, mode, MAX_DELAY_S, true) != 0)
        abort();
    app.idle_timeout_s = IDLE_TIMEOUT_S;
    daemon_handle = MHD_start_daemon(daemon_flags(mode), 0, NULL, NULL, server_handle_request, &app,
                                     MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S,
                                     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
                                     MHD_OPTION_NOTIFY_COMPLETED, server_request_completed, &app,
                                     MHD_OPTION_UNESCAPE_CALLBACK, server_unescape_callback, NULL,
                                     MHD_OPTION_END);
    if (daemon_handle == NULL)
        abort();
    return 0;
}

/* How many of the bytes written to fd its peer has not read yet.  On an
 * AF_UNIX stream socket a sent buffer stays charged to the sender until
 * the receiver reads it, so SIOCOUTQ is exactly "sent but not consumed". */
static int unread_by_peer(int fd)
{
    int unread = 0;
    if (ioctl(fd, SIOCOUTQ, &unread) != 0)
        return 0;   /* cannot tell: hang up at once, as a client could */
    return unread;
}

/* Keeps what fits of a chunk of the reply. */
static void keep_reply(const char *chunk, size_t got, char *reply, size_t reply_size,
                       size_t *reply_length)
{
    size_t room = reply_size - *reply_length;
    size_t keep = got < room ? got : room;
    memcpy(reply + *reply_length, chunk, keep);
    *reply_length += keep;
}

/* How an exchange ended. */
enum exchange_end {
    SERVER_CLOSED,            /* the server closed the connection: the normal end */
    STALLED_READING,          /* it stopped reading the input; the client closed */
    STALLED_AFTER_HALF_CLOSE, /* it missed the half-close; the client closed */
    OVER_THE_BOUND,           /* neither within END_BOUND_S: a finding */
};

/*
 * Writes the input and reads the reply at the same time (a server that
 * answers early may stop reading).  Once the server has read every byte,
 * the client half-closes, and the exchange is over when the server closes
 * its end: for a complete request after answering (or when it sees the
 * hang-up during a delay), for an incomplete one when it reads the end of
 * the stream.  *reply gets the first bytes of the reply.
 *
 * Why half-close only then: libmicrohttpd's epoll mode (async, blocking)
 * is edge-triggered, and after a short read it waits for the next edge
 * before reading again; a FIN that arrives together with the data is no
 * new edge, so it would go unseen until the idle timeout.  Sent after the
 * server has read everything, the FIN is an edge of its own.
 *
 * libmicrohttpd 0.9.75 stalls in two more ways that the long run found
 * (docs/fuzzing.md): with pipelined requests it sometimes loses that FIN
 * too, and a request line with more query arguments than its memory pool
 * holds gets neither its 431 nor a close.  Either way the server makes no
 * progress (it reads nothing, answers nothing) until its idle timeout.  So
 * after STALL_S without progress the client closes for good, which is
 * another edge, and says which stall it was; the caller counts them and
 * still requires the server to let go of the connection within the bound.
 */
static enum exchange_end exchange(int fd, const uint8_t *data, size_t size, char *reply,
                                  size_t reply_size, size_t *reply_length)
{
    double deadline = clock_now() + END_BOUND_S;
    double stalled_at = clock_now() + STALL_S;
    size_t sent = 0;
    int unread = -1;
    bool writing = true;
    *reply_length = 0;
    for (;;) {
        double now = clock_now();
        if (writing && sent == size) {
            int left = unread_by_peer(fd);
            if (left != unread)
                stalled_at = now + STALL_S;   /* the server read some */
            unread = left;
        }
        if (writing && sent == size && unread == 0) {
            shutdown(fd, SHUT_WR);
            writing = false;
            stalled_at = now + STALL_S;
        }
        if (now >= deadline)
            return OVER_THE_BOUND;
        if (now >= stalled_at)
            return writing ? STALLED_READING : STALLED_AFTER_HALF_CLOSE;
        /* While the server still reads what was sent, look again soon. */
        bool draining = writing && sent == size;
        struct pollfd ready = { fd, (short)(POLLIN | (writing && !draining ? POLLOUT : 0)), 0 };
        struct timespec wait = server_timespec(draining ? POLL_STEP_S : stalled_at - now);
        if (ppoll(&ready, 1, &wait, NULL) < 0 && errno != EINTR)
            return OVER_THE_BOUND;
        if (writing && !draining && (ready.revents & POLLOUT)) {
            ssize_t wrote = send(fd, data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (wrote > 0) {
                sent += (size_t)wrote;
                stalled_at = clock_now() + STALL_S;
            } else if (wrote < 0 && errno != EAGAIN && errno != EINTR) {
                sent = size;   /* the server closed: read what it said */
            }
        }
        if (ready.revents & (POLLIN | POLLHUP | POLLERR)) {
            char chunk[4096];
            ssize_t got = recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
                return SERVER_CLOSED;
            if (got > 0) {
                keep_reply(chunk, (size_t)got, reply, reply_size, reply_length);
                stalled_at = clock_now() + STALL_S;   /* still answering */
            }
        }
    }
}

/* One line per stall (about one input in 200), so that scripts/fuzz.sh
 * can count them.  Whether a request context was alive says where it
 * stalled: in libmicrohttpd's parsing, before or between requests (as
 * both stalls found so far), or while slowserver's handler had a request. */
static void note_stall(enum exchange_end end, long requests_alive)
{
    static unsigned long count;
    fprintf(stderr, "fuzz_request: note: the server stalled %s, %s; the client closed (%lu so far)\n",
            end == STALLED_READING ? "reading the input" : "after the half-close",
            requests_alive > 0 ? "during a request" : "between requests", ++count);
}

/* A stall with a request context alive is not one of the two understood
 * ones (both happen before slowserver's handler has a request), so its
 * input is kept for a look: in $ASYNCLAB_FUZZ_STALLS/, if set (scripts/fuzz.sh
 * sets build/fuzz/findings/). */
static void keep_stall_input(const uint8_t *data, size_t size)
{
    static unsigned long kept;
    const char *folder = getenv("ASYNCLAB_FUZZ_STALLS");
    if (folder == NULL || kept >= 100)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/fuzz_request-stall-during-request-%d-%lu", folder,
             (int)getpid(), ++kept);
    FILE *file = fopen(path, "wb");
    if (file == NULL)
        return;
    fwrite(data, 1, size, file);
    fclose(file);
}

static long live_contexts(void)
{
    pthread_mutex_lock(&app.lock);
    long live = app.live;
    pthread_mutex_unlock(&app.lock);
    return live;
}

static unsigned int open_connections(void)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info != NULL ? info->num_connections : 0;
}

/* The server cleans up on its own threads, just after closing: wait for it
 * (bounded) before judging. */
static bool nothing_left(void)
{
    double deadline = clock_now() + END_BOUND_S;
    while (clock_now() < deadline) {
        if (server_stats_in_flight(app.stats) == 0 && live_contexts() == 0
            && open_connections() == 0)
            return true;
        nanosleep(&(struct timespec){ 0, 200 * 1000 }, NULL);
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
        return 0;
    struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(40000) };
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (MHD_add_connection(daemon_handle, pair[1], (const struct sockaddr *)&peer,
                           sizeof peer) != MHD_YES) {
        close(pair[0]);
        close(pair[1]);
        return 0;
    }
    char reply[16];
    size_t reply_length;
    enum exchange_end end = exchange(pair[0], data, size, reply, sizeof reply, &reply_length);
    long requests_alive = live_contexts();
    close(pair[0]);
    REQUIRE(end != OVER_THE_BOUND, "the connection did not end within the bound");
    if (end == STALLED_READING || end == STALLED_AFTER_HALF_CLOSE)
        note_stall(end, requests_alive);
    if ((end == STALLED_READING || end == STALLED_AFTER_HALF_CLOSE) && requests_alive > 0)
        keep_stall_input(data, size);
    REQUIRE(reply_length == 0 || (reply_length >= 8 && memcmp(reply, "HTTP/1.", 7) == 0),
            "the reply does not start with an HTTP/1.x status line");
    REQUIRE(nothing_left(), "a request, its context or its connection was left behind");
    return 0;
}
