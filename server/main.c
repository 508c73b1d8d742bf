/*
 * main.c - slowserver: the bundled slow HTTP server of asynclab.
 *
 * This file is the server's life cycle: read the command line, open the
 * listening socket, start libmicrohttpd in the chosen mode, wait for
 * SIGINT/SIGTERM, and shut down so that no request is left hanging.  What
 * a request does lives in routes.c; docs/slowserver.md is the user's guide.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "args.h"
#include "exit_codes.h"
#include "fdlimit.h"
#include "parse.h"
#include "routes.h"

#define PROGRAM "slowserver"

/* Below 4096 pending connections, a burst of 10 000 clients overflows the
 * kernel's accept queue: it drops SYNs and those clients retry a whole
 * second later (the kernel caps this at net.core.somaxconn). */
#define LISTEN_BACKLOG 4096

/* libmicrohttpd's memory per connection: request line and headers, the
 * reply's headers and a send buffer all come out of it.  Its default (32 KiB)
 * makes 10 000 held connections cost over 300 MB; our requests and
 * replies are tiny, and POST bodies go to a buffer of our own (routes.c), so
 * a few KiB is plenty.  docs/slowserver.md has the measurements. */
#define CONNECTION_MEMORY 4096

/* File descriptors kept free for everything that is not a client socket:
 * stdio, the listening socket, epoll, timerfd, eventfds, MHD's own pipe. */
#define FD_HEADROOM 32

/* How long shutdown waits for answered requests to finish sending. */
#define SHUTDOWN_GRACE_S 2.0

struct options {
    long port;
    const char *bind;
    enum server_mode mode;
    const char *mode_name;
    double max_delay;
    long max_connections;
    long idle_timeout;
    bool quiet;
    bool live;
};

/* ------------------------------------------------------------ options */

static void usage(FILE *out)
{
    fprintf(out,
        "usage: " PROGRAM " [--port N] [--bind ADDR] [--mode async|threads|blocking]\n"
        "                  [--max-delay S] [--max-connections N] [--idle-timeout S] [--quiet]\n"
        "                  [--no-live]\n"
        "\n"
        "A deliberately slow HTTP server for asynclab's lessons.\n"
        "\n"
        "  --port N             port to listen on (default 8000; 0 picks a free one)\n"
        "  --bind ADDR          address to listen on (default 127.0.0.1)\n"
        "  --mode MODE          async: a waiting request holds no thread (default)\n"
        "                       threads: one thread per connection, sleeping\n"
        "                       blocking: one thread, so one request at a time\n"
        "  --max-delay S        longest delay a request may ask for, seconds (default 60)\n"
        "  --max-connections N  connections open at once (default 16384, capped by the fd limit)\n"
        "  --idle-timeout S     close a connection idle this many seconds (default 30; 0 never)\n"
        "  --quiet              print only the 'listening on' line\n"
        "  --no-live            no live view (/live, /live/events: 404)\n"
        "  -h, --help           this help\n"
        "\n"
        "Endpoints: /delay-me?seconds=S  /status/CODE?delay=S  /items/N?delay=S\n"
        "           POST /process?delay=S  /stream?lines=N&interval=S  /hang  /health\n"
        "           /stats  POST /stats/reset  /live (watch requests wait in a browser)\n"
        "           (see docs/slowserver.md)\n"
        "\n"
        "Example: " PROGRAM " --port 8000 & curl 'http://127.0.0.1:8000/delay-me?seconds=2'\n");
}

static bool parse_mode(const char *text, struct options *options)
{
    static const struct { const char *name; enum server_mode mode; } modes[] = {
        { "async", SERVER_MODE_ASYNC },
        { "threads", SERVER_MODE_THREADS },
        { "blocking", SERVER_MODE_BLOCKING },
    };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(text, modes[i].name) == 0) {
            options->mode = modes[i].mode;
            options->mode_name = modes[i].name;
            return true;
        }
    }
    return false;
}

static const struct option OPTIONS[] = {
    { "port", required_argument, NULL, 'p' },
    { "bind", required_argument, NULL, 'b' },
    { "mode", required_argument, NULL, 'm' },
    { "max-delay", required_argument, NULL, 'd' },
    { "max-connections", required_argument, NULL, 'c' },
    { "idle-timeout", required_argument, NULL, 'i' },
    { "quiet", no_argument, NULL, 'q' },
    { "no-live", no_argument, NULL, 'L' },
    { NULL, 0, NULL, 0 },
};

/* Applies one option (args_parse calls it); -1, or EXIT_USAGE after
 * saying what is wrong with the value. */
static int apply_option(void *context, const struct option *option, const char *value)
{
    struct options *options = context;
    bool ok = true;
    const char *expected = "";
    switch (option->val) {
    case 'p':
        ok = parse_long_in(value, 0, 65535, &options->port);
        expected = "a port number from 0 to 65535";
        break;
    case 'b':
        options->bind = value;
        break;
    case 'm':
        ok = parse_mode(value, options);
        expected = "async, threads or blocking";
        break;
    case 'd':
        ok = parse_double_in(value, 0, 86400, &options->max_delay);
        expected = "seconds from 0 to 86400";
        break;
    case 'c':
        ok = parse_long_in(value, 1, 1000000, &options->max_connections);
        expected = "a whole number from 1 to 1000000";
        break;
    case 'i':
        ok = parse_long_in(value, 0, 86400, &options->idle_timeout);
        expected = "whole seconds from 0 to 86400";
        break;
    case 'q':
        options->quiet = true;
        break;
    case 'L':
        options->live = false;
        break;
    }
    return ok ? -1 : args_bad_value(PROGRAM, option->name, value, expected);
}

/* Returns -1 when the server should run, else the exit status. */
static int parse_options(int argc, char **argv, struct options *options)
{
    *options = (struct options){ .port = 8000, .bind = "127.0.0.1", .mode = SERVER_MODE_ASYNC,
                                 .mode_name = "async", .max_delay = 60, .max_connections = 16384,
                                 .idle_timeout = 30, .live = true };
    return args_parse_options(PROGRAM, OPTIONS, apply_option, usage, options, argc, argv);
}

/* Every connection is a file descriptor: raise the fd limit as far as it
 * goes, and connect no more clients than it leaves room for. */
static long fit_connections(long wanted)
{
    long limit = fdlimit_raise();
    if (limit < 0 || wanted <= limit - FD_HEADROOM)
        return wanted;
    long usable = limit > FD_HEADROOM + 1 ? limit - FD_HEADROOM : 1;
    fprintf(stderr, PROGRAM ": the open-file limit is %ld, so --max-connections is lowered "
            "from %ld to %ld\n", limit, wanted, usable);
    return usable;
}

/* ------------------------------------------------------------ the socket */

struct listener {
    int fd;
    char url[80];   /* http://ADDR:PORT with the real port */
};

/* Fills address from text (IPv4 or IPv6) and port; false if not an address. */
static bool make_address(const char *text, long port, struct sockaddr_storage *address,
                         socklen_t *length)
{
    memset(address, 0, sizeof *address);
    struct sockaddr_in *v4 = (struct sockaddr_in *)address;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)address;
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *length = sizeof *v4;
        return true;
    }
    if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *length = sizeof *v6;
        return true;
    }
    return false;
}

/* Which port the kernel gave us (it picks one for --port 0). */
static long bound_port(int fd)
{
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    if (getsockname(fd, (struct sockaddr *)&address, &length) != 0)
        return -1;
    if (address.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&address)->sin6_port);
    return ntohs(((struct sockaddr_in *)&address)->sin_port);
}

/*
 * Opens the listening socket ourselves rather than letting libmicrohttpd do
 * it: then a port in use is a clear message (MHD_start_daemon only says it
 * failed) and --port 0 tells us its port.  Returns 0 or an exit status.
 */
static int open_listener(const struct options *options, struct listener *listener)
{
    struct sockaddr_storage address;
    socklen_t length;
    if (!make_address(options->bind, options->port, &address, &length))
        return args_bad_value(PROGRAM, "bind", options->bind,
                              "a numeric IPv4 or IPv6 address, such as 127.0.0.1");
    int fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    /* Lets a restarted server take its port back while old connections
     * linger in TIME_WAIT; it does not allow two listeners on one port. */
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (fd < 0 || bind(fd, (struct sockaddr *)&address, length) != 0
        || listen(fd, LISTEN_BACKLOG) != 0) {
        int error = errno;
        if (error == EADDRINUSE)
            fprintf(stderr, PROGRAM ": port %ld on %s is already in use (another slowserver? "
                    "try --port 0 for a free one)\n", options->port, options->bind);
        else
            fprintf(stderr, PROGRAM ": cannot listen on %s port %ld: %s\n", options->bind,
                    options->port, strerror(error));
        if (fd >= 0)
            close(fd);
        return EXIT_SETUP;
    }
    bool v6 = address.ss_family == AF_INET6;
    snprintf(listener->url, sizeof listener->url, "http://%s%s%s:%ld", v6 ? "[" : "",
             options->bind, v6 ? "]" : "", bound_port(fd));
    listener->fd = fd;
    return 0;
}

/* ------------------------------------------------------------ the daemon */

static unsigned int mode_flags(enum server_mode mode)
{
    /* Common to all: MHD runs its own thread, logs its errors to stderr,
     * and has the wake-up pipe (ITC) that MHD_quiesce_daemon needs. */
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    switch (mode) {
    case SERVER_MODE_ASYNC:
        /* One epoll thread for every connection; delays suspend. */
        return flags | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    case SERVER_MODE_THREADS:
        /* A thread per connection (which needs poll, not epoll). */
        return flags | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    case SERVER_MODE_BLOCKING:
        /* One thread, and the handler sleeps in it; the live view's
         * stream waits suspended, or it would hold that thread (live.c). */
        return flags | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    }
    return flags;
}

/* MHD_OPTION_EXTERNAL_LOGGER: libmicrohttpd's own complaints, marked as
 * such.  routes.c closes a connection without a reply on purpose (its
 * client is gone, /hang ran out, a stream is cut short) by returning MHD_NO
 * or MHD_CONTENT_READER_END_WITH_ERROR, and libmicrohttpd reports each of
 * those as an application error: expected here, so not printed. */
/* Most of libmicrohttpd's messages are about what a client did (hung up
 * mid-request, sent a malformed line): a client must not decide how much
 * the operator's terminal shows.  The first few are printed; the rest are
 * counted, and shut_down says how many there were. */
#define LIBMICROHTTPD_MESSAGES_SHOWN 10
static atomic_long libmicrohttpd_messages;

static void log_libmicrohttpd(void *cls, const char *format, va_list arguments)
{
    (void)cls;
    char message[512];
    vsnprintf(message, sizeof message, format, arguments);
    if (strstr(message, "Application reported internal error") != NULL
        || strstr(message, "application error generating response") != NULL)
        return;
    long count = atomic_fetch_add(&libmicrohttpd_messages, 1) + 1;
    if (count > LIBMICROHTTPD_MESSAGES_SHOWN)
        return;
    fprintf(stderr, PROGRAM ": libmicrohttpd: %s%s%s", message,
            strchr(message, '\n') != NULL ? "" : "\n",
            count == LIBMICROHTTPD_MESSAGES_SHOWN
                ? PROGRAM ": libmicrohttpd: further messages are counted, not shown\n" : "");
}

static void report_unshown_messages(void)
{
    long count = atomic_load(&libmicrohttpd_messages);
    if (count > LIBMICROHTTPD_MESSAGES_SHOWN)
        fprintf(stderr, PROGRAM ": libmicrohttpd: %ld messages in all, %d shown\n", count,
                LIBMICROHTTPD_MESSAGES_SHOWN);
}

static struct MHD_Daemon *start_daemon(struct server_app *app, const struct options *options,
                                       int listen_fd)
{
    return MHD_start_daemon(mode_flags(options->mode), 0, NULL, NULL,
                            server_handle_request, app,
                            /* first, so that it sees the messages about the other options */
                            MHD_OPTION_EXTERNAL_LOGGER, log_libmicrohttpd, NULL,
                            MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)options->max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)options->idle_timeout,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
                            MHD_OPTION_NOTIFY_COMPLETED, server_request_completed, app,
                            MHD_OPTION_UNESCAPE_CALLBACK, server_unescape_callback, NULL,
                            MHD_OPTION_END);
}

/* ------------------------------------------------------------ running */

/*
 * SIGINT and SIGTERM are blocked in every thread (the mask is inherited,
 * and this runs before any thread starts) and taken synchronously with
 * sigwait() in main: shutting down is ordinary code then, not something
 * squeezed into a signal handler.
 */
static void block_stop_signals(sigset_t *signals)
{
    sigemptyset(signals);
    sigaddset(signals, SIGINT);
    sigaddset(signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, signals, NULL);
}

static void wait_for_stop_signal(const sigset_t *signals)
{
    int received;
    while (sigwait(signals, &received) != 0)
        ;
}

/* Stop accepting, end every wait, give replies a moment to go out, stop. */
static void shut_down(struct MHD_Daemon *daemon, struct server_app *app)
{
    MHD_socket listen_fd = MHD_quiesce_daemon(daemon);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);    /* ours now: clients still queued on it are refused */
    long in_flight = server_stats_in_flight(app->stats);
    if (!app->quiet)
        printf("shutting down: %ld request%s in flight\n", in_flight, in_flight == 1 ? "" : "s");
    server_app_begin_shutdown(app);
    if (!server_app_wait_idle(app, SHUTDOWN_GRACE_S))
        fprintf(stderr, PROGRAM ": some requests were still running after %.0f s; closing them\n",
                SHUTDOWN_GRACE_S);
    server_app_stop_timer(app);
    MHD_stop_daemon(daemon);
    report_unshown_messages();
}

int main(int argc, char **argv)
{
    struct options options;
    int status = parse_options(argc, argv, &options);
    if (status >= 0)
        return status;
    options.max_connections = fit_connections(options.max_connections);

    /* Tests and the harness read our stdout through a pipe: one line at a
     * time, and a reader that went away must not kill us (SIGPIPE). */
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    sigset_t stop_signals;
    block_stop_signals(&stop_signals);

    struct listener listener;
    status = open_listener(&options, &listener);
    if (status != 0)
        return status;
    struct server_app app;
    if (server_app_init(&app, options.mode, options.max_delay, options.quiet) != 0) {
        fprintf(stderr, PROGRAM ": cannot set up: %s\n", strerror(errno));
        close(listener.fd);
        return EXIT_SETUP;
    }
    app.idle_timeout_s = (unsigned int)options.idle_timeout;
    if (options.live)
        app.live_view = server_live_new(options.mode_name, options.mode == SERVER_MODE_THREADS);
    if (options.live && app.live_view == NULL) {
        fprintf(stderr, PROGRAM ": cannot set up the live view: %s\n", strerror(errno));
        server_app_destroy(&app);
        close(listener.fd);
        return EXIT_SETUP;
    }
    struct MHD_Daemon *daemon = start_daemon(&app, &options, listener.fd);
    if (daemon == NULL) {
        fprintf(stderr, PROGRAM ": libmicrohttpd would not start in mode %s\n", options.mode_name);
        server_app_destroy(&app);
        close(listener.fd);
        return EXIT_SETUP;
    }

    printf("listening on %s\n", listener.url);
    fflush(stdout);
    if (!options.quiet)
        printf("mode %s, max delay %g s, up to %ld connections; Ctrl-C stops\n",
               options.mode_name, options.max_delay, options.max_connections);
    if (!options.quiet && options.live)
        printf("live view: open %s/live in a browser to watch the requests wait\n", listener.url);

    wait_for_stop_signal(&stop_signals);
    shut_down(daemon, &app);
    server_app_destroy(&app);
    return EXIT_ALL_DONE;
}
