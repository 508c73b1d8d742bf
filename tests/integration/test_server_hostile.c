/*
 * Integration tests: slowserver against a hostile client, in all three
 * modes.
 *
 * The bad-input matrix: raw bytes on a socket (malformed request lines and
 * versions, headers, encodings, bodies, methods, pipelining), each with the
 * status line(s) it must get back, or "closed without a reply".  Then what
 * a client can do with time: slowloris, many idle connections, hang-ups in
 * the middle of a request, a stream whose lines come slower than the idle
 * timeout.  After every case the server must still be well: /health
 * answers 200 and /stats shows nothing left in flight.
 *
 * The statuses are the ones docs/slowserver.md ("What it refuses and why")
 * lists; some come from libmicrohttpd before slowserver sees the request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "clock.h"
#include "process.h"
#include "server.h"

/* Short, so that the cases about idleness end quickly. */
#define IDLE_TIMEOUT "1"
#define MAX_DELAY "5"
/* How long a case may take before the test calls the server stuck. */
#define CASE_TIMEOUT_S 10.0

#define CLOSED (-1)   /* the server closes the connection without a reply */

struct raw_case {
    const char *name;
    const char *bytes;      /* NULL: built by build() */
    size_t length;
    char *(*build)(size_t *length);
    int want[3];            /* statuses in order, 0-terminated; or { CLOSED } */
};

#define RAW(title, text, ...) \
    { .name = title, .bytes = text, .length = sizeof text - 1, .want = { __VA_ARGS__ } }
#define BUILT(title, builder, ...) { .name = title, .build = builder, .want = { __VA_ARGS__ } }
#define HOST "Host: test\r\n"
#define JSON "Content-Type: application/json\r\n"

static char *repeated(const char *head, const char *unit, size_t times, const char *tail,
                      size_t *length)
{
    size_t size = strlen(head) + strlen(unit) * times + strlen(tail) + 1;
    char *text = malloc(size);
    assert_non_null(text);
    char *end = text + sprintf(text, "%s", head);
    for (size_t i = 0; i < times; i++)
        end += sprintf(end, "%s", unit);
    end += sprintf(end, "%s", tail);
    *length = (size_t)(end - text);
    return text;
}

static char *long_uri(size_t *length)
{
    return repeated("GET /", "a", 100000, " HTTP/1.1\r\n" HOST "\r\n", length);
}

static char *huge_header(size_t *length)
{
    return repeated("GET /health HTTP/1.1\r\n" HOST "X-Big: ", "b", 70000, "\r\n\r\n", length);
}

static char *many_headers(size_t *length)
{
    return repeated("GET /health HTTP/1.1\r\n" HOST, "X-Many: v\r\n", 3000, "\r\n", length);
}

static char *header_block_over_4k(size_t *length)
{
    return repeated("GET /health HTTP/1.1\r\n" HOST "X-Big: ", "b", 6000, "\r\n\r\n", length);
}

static char *header_block_under_4k(size_t *length)
{
    return repeated("GET /health HTTP/1.1\r\n" HOST "X-Big: ", "b", 2000, "\r\n\r\n", length);
}

static const struct raw_case CASES[] = {
    /* request lines and versions */
    RAW("GET / is not a route", "GET / HTTP/1.1\r\n" HOST "\r\n", 404),
    RAW("HTTP/1.1 health", "GET /health HTTP/1.1\r\n" HOST "\r\n", 200),
    RAW("HTTP/1.0 without Host", "GET /health HTTP/1.0\r\n\r\n", 200),
    RAW("one word", "GARBAGE\r\n\r\n", CLOSED),
    RAW("method only", "GET\r\n\r\n", CLOSED),
    RAW("HTTP/0.9 line", "GET /health\r\n\r\n", 400),
    RAW("HTTP/2.0", "GET /health HTTP/2.0\r\n" HOST "\r\n", 505),
    RAW("not HTTP", "GET /health FTP/1.1\r\n" HOST "\r\n", 400),
    RAW("extra word", "GET /health HTTP/1.1 extra\r\n" HOST "\r\n", 400),
    BUILT("URI of 100 kB", long_uri, 414),
    RAW("NUL in the path", "GET /hea\0lth HTTP/1.1\r\n" HOST "\r\n", 404),
    RAW("bytes 0xfe 0xff in the path", "GET /\xff\xfe HTTP/1.1\r\n" HOST "\r\n", 404),
    RAW("bad percent escape in the path", "GET /%zz HTTP/1.1\r\n" HOST "\r\n", 404),
    RAW("%00 in a path", "GET /health%00xyz HTTP/1.1\r\n" HOST "\r\n", 404),
    RAW("%00 in a path number", "GET /status/200%00xyz HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("%00 in a value", "GET /delay-me?seconds=0.01%00junk HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("percent-encoded digits in a value", "GET /delay-me?seconds=%30.01 HTTP/1.1\r\n" HOST
        "\r\n", 200),
    RAW("bad percent escape in the query", "GET /health?x=%ZZ HTTP/1.1\r\n" HOST "\r\n", 200),
    RAW("absolute URI", "GET http://test/health HTTP/1.1\r\n" HOST "\r\n", 404),
    RAW("path without a slash", "GET health HTTP/1.1\r\n" HOST "\r\n", 404),
    RAW("asterisk", "OPTIONS * HTTP/1.1\r\n" HOST "\r\n", 404),
    RAW("bare LF line ends", "GET /health HTTP/1.1\n" HOST "\n", 200),
    /* methods */
    RAW("lower-case method", "get /health HTTP/1.1\r\n" HOST "\r\n", 405),
    RAW("unknown method", "BREW /health HTTP/1.1\r\n" HOST "\r\n", 405),
    RAW("DELETE", "DELETE /delay-me?seconds=1 HTTP/1.1\r\n" HOST "\r\n", 405),
    RAW("POST /health", "POST /health HTTP/1.1\r\n" HOST "Content-Length: 0\r\n\r\n", 405),
    RAW("HEAD /health", "HEAD /health HTTP/1.1\r\n" HOST "\r\n", 405),
    RAW("POST /stats", "POST /stats HTTP/1.1\r\n" HOST "Content-Length: 0\r\n\r\n", 405),
    RAW("GET /stats/reset", "GET /stats/reset HTTP/1.1\r\n" HOST "\r\n", 405),
    RAW("POST /items/1", "POST /items/1 HTTP/1.1\r\n" HOST "Content-Length: 0\r\n\r\n", 405),
    RAW("GET /process", "GET /process HTTP/1.1\r\n" HOST "\r\n", 405),
    /* parameters */
    RAW("seconds=abc", "GET /delay-me?seconds=abc HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("seconds=-1", "GET /delay-me?seconds=-1 HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("seconds=1e9", "GET /delay-me?seconds=1e9 HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("seconds=nan", "GET /delay-me?seconds=nan HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("seconds=inf", "GET /delay-me?seconds=inf HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("seconds empty", "GET /delay-me?seconds= HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("seconds missing", "GET /delay-me HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("seconds=0x10", "GET /delay-me?seconds=0x10 HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("seconds with a space", "GET /delay-me?seconds=%201 HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("seconds=0.01", "GET /delay-me?seconds=0.01 HTTP/1.1\r\n" HOST "\r\n", 200),
    RAW("/status/999", "GET /status/999 HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("/status/99", "GET /status/99 HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("/status/abc", "GET /status/abc HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("/status/200/x", "GET /status/200/x HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("/status/200", "GET /status/200 HTTP/1.1\r\n" HOST "\r\n", 200),
    RAW("/items/-1", "GET /items/-1 HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("/items/abc", "GET /items/abc HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("/items/ of 23 digits", "GET /items/99999999999999999999999 HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("/items/3", "GET /items/3 HTTP/1.1\r\n" HOST "\r\n", 200),
    RAW("lines=0", "GET /stream?lines=0 HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("interval=-1", "GET /stream?lines=1&interval=-1 HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("lines=100000000", "GET /stream?lines=100000000 HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("lines * interval over max-delay",
        "GET /stream?lines=10&interval=1 HTTP/1.1\r\n" HOST "\r\n", 400),
    RAW("/process?delay=x", "POST /process?delay=x HTTP/1.1\r\n" HOST JSON
        "Content-Length: 8\r\n\r\n{\"id\":1}", 400),
    /* headers */
    RAW("header without a colon", "GET /health HTTP/1.1\r\n" HOST "Foo\r\n\r\n", 400),
    BUILT("header of 70 kB", huge_header, 431),
    BUILT("3000 headers", many_headers, 431),
    BUILT("header block over 4 kB", header_block_over_4k, 431),
    BUILT("header block under 4 kB", header_block_under_4k, 200),
    /* what libmicrohttpd 0.9.75 lets through and slowserver refuses */
    RAW("HTTP/1.1 without Host", "GET /health HTTP/1.1\r\n\r\n", 400),
    RAW("HTTP/1.1 without Host, known path", "GET /items/1 HTTP/1.1\r\nX-A: b\r\n\r\n", 400),
    /* Library-only: libmicrohttpd ends the value at the NUL and drops the
     * rest of the line before slowserver sees it, so it cannot refuse. */
    RAW("NUL in a header value", "GET /health HTTP/1.1\r\n" HOST "X-A: a\0b\r\n\r\n", 200),
    RAW("bare CR in a header value", "GET /health HTTP/1.1\r\n" HOST "X-A: a\rb\r\n\r\n", 400),
    RAW("CR before a header's CRLF", "GET /health HTTP/1.1\r\n" HOST "X-A: ab\r\r\n\r\n", 400),
    RAW("bare CR in Host", "GET /health HTTP/1.1\r\nHost: te\rst\r\n\r\n", 400),
    /* bodies and encodings */
    RAW("Content-Length of 2 MB", "POST /process HTTP/1.1\r\n" HOST JSON
        "Content-Length: 2000000\r\n\r\n", 413),
    RAW("JSON body", "POST /process HTTP/1.1\r\n" HOST JSON
        "Content-Length: 8\r\n\r\n{\"id\":1}", 200),
    RAW("chunked JSON body", "POST /process HTTP/1.1\r\n" HOST JSON
        "Transfer-Encoding: chunked\r\n\r\n8\r\n{\"id\":1}\r\n0\r\n\r\n", 200),
    RAW("bad chunk size", "POST /process HTTP/1.1\r\n" HOST JSON
        "Transfer-Encoding: chunked\r\n\r\nzz\r\n{\"id\":1}\r\n0\r\n\r\n", 400),
    RAW("Expect: 100-continue", "POST /process HTTP/1.1\r\n" HOST JSON
        "Expect: 100-continue\r\nContent-Length: 8\r\n\r\n{\"id\":1}", 100, 200),
    RAW("two different Content-Length headers", "POST /process HTTP/1.1\r\n" HOST JSON
        "Content-Length: 2\r\nContent-Length: 8\r\n\r\n{\"id\":1}", 400),
    RAW("two different Content-Length headers, lower case", "POST /process HTTP/1.1\r\n" HOST
        JSON "content-length: 8\r\nContent-Length: 2\r\n\r\n{\"id\":1}", 400),
    RAW("two equal Content-Length headers", "POST /process HTTP/1.1\r\n" HOST JSON
        "Content-Length: 8\r\nContent-Length: 8\r\n\r\n{\"id\":1}", 200),
    RAW("Transfer-Encoding: gzip", "POST /process HTTP/1.1\r\n" HOST JSON
        "Transfer-Encoding: gzip\r\n\r\nabcd", 501),
    RAW("Transfer-Encoding: gzip, chunked", "POST /process HTTP/1.1\r\n" HOST JSON
        "Transfer-Encoding: gzip, chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n", 501),
    RAW("Transfer-Encoding: CHUNKED", "POST /process HTTP/1.1\r\n" HOST JSON
        "Transfer-Encoding: CHUNKED\r\n\r\n8\r\n{\"id\":1}\r\n0\r\n\r\n", 200),
    /* Library-only: libmicrohttpd refuses these before slowserver sees
     * them, and sends its header block twice (0.9.75). */
    RAW("Content-Length: -1", "POST /process HTTP/1.1\r\n" HOST JSON
        "Content-Length: -1\r\n\r\n", 400, 400),
    RAW("Content-Length: abc", "GET /health HTTP/1.1\r\n" HOST "Content-Length: abc\r\n\r\n",
        400, 400),
    RAW("GET with a body", "GET /health HTTP/1.1\r\n" HOST "Content-Length: 4\r\n\r\nabcd", 200),
    /* pipelining */
    RAW("two requests in one write", "GET /health HTTP/1.1\r\n" HOST "\r\n"
        "GET /status/204 HTTP/1.1\r\n" HOST "\r\n", 200, 204),
    RAW("a request, then garbage", "GET /health HTTP/1.1\r\n" HOST "\r\nGARBAGE\r\n\r\n", 200),
    RAW("a bad request, then a good one", "GET /delay-me?seconds=x HTTP/1.1\r\n" HOST "\r\n"
        "GET /health HTTP/1.1\r\n" HOST "\r\n", 400, 200),
    RAW("Connection: close", "GET /health HTTP/1.1\r\n" HOST "Connection: close\r\n\r\n", 200),
};
#define CASE_COUNT (sizeof CASES / sizeof CASES[0])

/* ------------------------------------------------------------ raw sockets */

static int connect_to(const struct test_server *server)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = { .sin_family = AF_INET,
                                   .sin_port = htons((uint16_t)server->port) };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&address, sizeof address), 0);
    return fd;
}

static void send_bytes(int fd, const char *bytes, size_t length)
{
    while (length > 0) {
        ssize_t sent = send(fd, bytes, length, MSG_NOSIGNAL);
        if (sent <= 0)
            return;  /* the server may refuse and close before reading it all */
        bytes += sent;
        length -= (size_t)sent;
    }
}

struct reply_log {
    char text[65536];
    size_t length;
    bool closed;
};

/* The status codes of every status line in the replies, in order. */
static size_t statuses(const struct reply_log *log, int *codes, size_t capacity)
{
    size_t count = 0;
    for (const char *line = log->text; line != NULL && count < capacity;) {
        if (strncmp(line, "HTTP/1.", 7) == 0 && line[8] == ' ')
            codes[count++] = atoi(line + 9);
        line = strchr(line, '\n');  /* a body may end in a bare '\n' */
        line = line ? line + 1 : NULL;
    }
    return count;
}

/* Reads until `want` replies have arrived (each with its header block),
 * the server closes, or timeout_s passes. */
static void read_replies(int fd, struct reply_log *log, size_t want, double timeout_s)
{
    double deadline = clock_now() + timeout_s;
    for (;;) {
        int codes[8];
        size_t have = statuses(log, codes, 8);
        const char *last = log->length ? strstr(log->text, "\r\n\r\n") : NULL;
        if (want > 0 && have >= want && last != NULL) {
            /* A moment for a reply that should not be there (a header
             * block sent twice) to show itself. */
            deadline = clock_now() + 0.03;
            want = 0;
        }
        double left = deadline - clock_now();
        struct pollfd ready = { fd, POLLIN, 0 };
        if (left <= 0 || poll(&ready, 1, (int)(left * 1000) + 1) <= 0)
            return;
        ssize_t got = recv(fd, log->text + log->length, sizeof log->text - 1 - log->length, 0);
        if (got <= 0) {
            log->closed = true;
            return;
        }
        log->length += (size_t)got;
        log->text[log->length] = '\0';
    }
}

/* Sends bytes on fd and reads what comes back, as read_replies does. */
static struct reply_log *send_and_read(int fd, const char *bytes, size_t length, size_t want)
{
    send_bytes(fd, bytes, length);
    static struct reply_log log;
    memset(&log, 0, sizeof log);
    read_replies(fd, &log, want, CASE_TIMEOUT_S);
    return &log;
}

/* ------------------------------------------------------- after every case */

static void assert_server_is_well(const struct test_server *server, const char *after)
{
    char url[128];
    snprintf(url, sizeof url, "%s/health", server->url);
    struct test_reply reply;
    int answered = test_http("GET", url, NULL, 0, CASE_TIMEOUT_S, &reply);
    long status = reply.status;
    test_reply_free(&reply);
    if (answered != 0 || status != 200)
        fail_msg("after \"%s\": /health answered %ld", after, status);
    long in_flight = test_server_wait_stat(server, NULL, "in_flight", 0, CASE_TIMEOUT_S);
    if (in_flight != 0)
        fail_msg("after \"%s\": /stats in_flight is %ld, not 0", after, in_flight);
}

static void run_case(const struct test_server *server, const struct raw_case *raw)
{
    size_t length = raw->length;
    char *built = raw->build ? raw->build(&length) : NULL;
    int fd = connect_to(server);
    send_bytes(fd, built ? built : raw->bytes, length);
    free(built);

    size_t want = 0;
    while (want < 3 && raw->want[want] > 0)
        want++;
    static struct reply_log log;
    memset(&log, 0, sizeof log);
    read_replies(fd, &log, raw->want[0] == CLOSED ? 0 : want, CASE_TIMEOUT_S);
    close(fd);

    int codes[8];
    size_t got = statuses(&log, codes, 8);
    if (raw->want[0] == CLOSED) {
        if (got != 0 || !log.closed)
            fail_msg("\"%s\": expected the connection closed without a reply, got:\n%s",
                     raw->name, log.text);
    } else {
        bool same = got == want;
        for (size_t i = 0; same && i < want; i++)
            same = codes[i] == raw->want[i];
        if (!same)
            fail_msg("\"%s\": expected %zu repl%s starting %d, got %zu:\n%.2000s", raw->name,
                     want, want == 1 ? "y" : "ies", raw->want[0], got, log.text);
    }
    assert_server_is_well(server, raw->name);
}

/* ------------------------------------------------------------ the modes */

static struct test_server server;
static const char *server_mode;

static int start_in(const char *mode)
{
    server_mode = mode;
    const char *args[] = { "--idle-timeout", IDLE_TIMEOUT, "--max-delay", MAX_DELAY, NULL };
    return test_server_start(&server, mode, args);
}

static int start_async(void **state) { (void)state; return start_in("async"); }
static int start_threads(void **state) { (void)state; return start_in("threads"); }
static int start_blocking(void **state) { (void)state; return start_in("blocking"); }

static int stop(void **state)
{
    (void)state;
    return test_server_stop(&server) == 0 ? 0 : -1;
}

static void bad_input_matrix(void **state)
{
    (void)state;
    for (size_t i = 0; i < CASE_COUNT; i++)
        run_case(&server, &CASES[i]);
}

/* What slowserver refuses where libmicrohttpd lets it through is counted in
 * /stats like any bad request: under its path, and by status. */
static void header_refusals_are_counted(void **state)
{
    (void)state;
    static const struct { const char *bytes; int status; } refused[] = {
        { "GET /items/1 HTTP/1.1\r\n\r\n", 400 },
        { "GET /items/1 HTTP/1.1\r\n" HOST "X-A: a\rb\r\n\r\n", 400 },
        { "POST /process HTTP/1.1\r\n" HOST "Content-Length: 2\r\nContent-Length: 8\r\n\r\n{}",
          400 },
        { "POST /process HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip\r\n\r\nabcd", 501 },
    };
    assert_int_equal(test_server_reset_stats(&server), 0);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        int fd = connect_to(&server);
        struct reply_log *log = send_and_read(fd, refused[i].bytes, strlen(refused[i].bytes), 1);
        close(fd);
        int code = 0;
        statuses(log, &code, 1);
        assert_int_equal(code, refused[i].status);
    }
    assert_int_equal(test_server_wait_stat(&server, NULL, "in_flight", 0, CASE_TIMEOUT_S), 0);
    assert_int_equal(test_server_stat(&server, "responses", "400"), 3);
    assert_int_equal(test_server_stat(&server, "responses", "501"), 1);
    assert_int_equal(test_server_stat(&server, "/items", "requests"), 2);
    assert_int_equal(test_server_stat(&server, "/process", "requests"), 2);
    assert_int_equal(test_server_stat(&server, NULL, "requests"), 4);
}

/* ------------------------------------------------ what a client does with time */

static void pause_s(double seconds)
{
    struct timespec pause = { (time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9) };
    nanosleep(&pause, NULL);
}

/* A byte every 50 ms, then nothing: the idle timeout closes it. */
static void slowloris_is_closed_by_the_idle_timeout(void **state)
{
    (void)state;
    int fd = connect_to(&server);
    const char partial[] = "GET /healt";
    for (size_t i = 0; i < sizeof partial - 1; i++) {
        send_bytes(fd, &partial[i], 1);
        pause_s(0.05);
    }
    static struct reply_log log;
    memset(&log, 0, sizeof log);
    read_replies(fd, &log, 0, CASE_TIMEOUT_S);
    close(fd);
    assert_true(log.closed);
    assert_int_equal(log.length, 0);
    assert_server_is_well(&server, "slowloris");
}

/* 64 connections that never send a byte do not stop the server answering. */
static void many_idle_connections_do_not_block_others(void **state)
{
    (void)state;
    int fds[64];
    for (size_t i = 0; i < 64; i++)
        fds[i] = connect_to(&server);
    assert_server_is_well(&server, "64 idle connections");
    for (size_t i = 0; i < 64; i++)
        close(fds[i]);
    assert_server_is_well(&server, "64 idle connections closed");
}

/* A client that hangs up halfway: nothing is answered, nothing is left. */
static void hang_ups_mid_request_leave_nothing_in_flight(void **state)
{
    (void)state;
    const char *halves[] = {
        "GET /delay-me?sec",
        "GET /health HTTP/1.1\r\n" HOST "X-Half: ",
        "POST /process HTTP/1.1\r\n" HOST JSON "Content-Length: 100\r\n\r\n{\"id\":",
        "POST /process HTTP/1.1\r\n" HOST JSON "Transfer-Encoding: chunked\r\n\r\n40\r\n{\"id",
    };
    for (size_t i = 0; i < sizeof halves / sizeof halves[0]; i++) {
        int fd = connect_to(&server);
        send_bytes(fd, halves[i], strlen(halves[i]));
        pause_s(0.05);
        close(fd);
        assert_server_is_well(&server, halves[i]);
    }
    /* During the wait itself: the server notices and frees the request. */
    int fd = connect_to(&server);
    const char waiting[] = "GET /delay-me?seconds=4 HTTP/1.1\r\n" HOST "\r\n";
    send_bytes(fd, waiting, sizeof waiting - 1);
    /* Blocking mode answers /stats only after the request it is holding. */
    if (strcmp(server_mode, "blocking") != 0)
        assert_int_equal(test_server_wait_stat(&server, NULL, "in_flight", 1, CASE_TIMEOUT_S), 1);
    else
        pause_s(0.2);
    close(fd);
    assert_server_is_well(&server, "a hang-up during /delay-me");
}

/* A kept-alive connection that goes quiet is closed after --idle-timeout. */
static void idle_keep_alive_is_closed(void **state)
{
    (void)state;
    int fd = connect_to(&server);
    const char request[] = "GET /health HTTP/1.1\r\n" HOST "\r\n";
    struct reply_log *log = send_and_read(fd, request, sizeof request - 1, 1);
    assert_false(log->closed);
    read_replies(fd, log, 0, CASE_TIMEOUT_S);
    close(fd);
    assert_true(log->closed);
    assert_server_is_well(&server, "an idle keep-alive connection");
}

/* The server's own silence between lines is not the client being idle: a
 * line interval longer than --idle-timeout still gets every line and the
 * closing chunk (finding: threads and blocking mode cut it). */
static void a_slow_stream_outlives_the_idle_timeout(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof url, "%s/stream?lines=1&interval=1.5", server.url);
    struct test_reply reply;
    assert_int_equal(test_http("GET", url, NULL, 0, CASE_TIMEOUT_S, &reply), 0);
    assert_int_equal(reply.status, 200);
    assert_string_equal(reply.body, "line 1\n");
    test_reply_free(&reply);
    assert_server_is_well(&server, "a slow stream");
}

/* Nothing a client sends reaches the operator's terminal as a control
 * byte: the method and the path in the request log are printable ASCII. */
static void the_log_shows_only_printable_bytes(void **state)
{
    (void)state;
    struct test_server verbose;
    assert_int_equal(test_server_start_verbose(&verbose, "async", NULL), 0);
    char line[512];
    for (int skip = 0; skip < 2; skip++)   /* the mode and live-view lines */
        assert_int_equal(test_server_read_line(&verbose, line, sizeof line, CASE_TIMEOUT_S), 0);
    int fd = connect_to(&verbose);
    const char hostile[] = "G\x1b[2JT /\xc3\xa9%0Ax?q=%1b%9b HTTP/1.1\r\n" HOST "\r\n";
    send_and_read(fd, hostile, sizeof hostile - 1, 1);
    close(fd);
    assert_int_equal(test_server_read_line(&verbose, line, sizeof line, CASE_TIMEOUT_S), 0);
    for (const char *c = line; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
            fail_msg("byte 0x%02x in the log line \"%s\"", (unsigned char)*c, line);
    test_assert_contains(line, "G?[2JT /");
    assert_int_equal(test_server_stop(&verbose), 0);
}

static size_t count_of(const char *text, const char *needle)
{
    size_t count = 0;
    for (const char *at = strstr(text, needle); at != NULL; at = strstr(at + 1, needle))
        count++;
    return count;
}

/* 50 clients that hang up mid-request make 50 of libmicrohttpd's messages;
 * the first few are printed, the rest only counted. */
static void hang_ups_do_not_flood_the_log(void **state)
{
    (void)state;
    const char *argv[] = { test_bin("slowserver"), "--port", "0", "--quiet", NULL };
    int output_fd;
    pid_t pid = test_start_job(argv, &output_fd);
    assert_true(pid > 0);
    static char output[65536];
    output[0] = '\0';
    const char *prefix = "listening on http://127.0.0.1:";
    assert_true(test_read_until(output_fd, output, sizeof output, "\n", CASE_TIMEOUT_S));
    const char *port_text = strstr(output, prefix);
    assert_non_null(port_text);
    struct test_server job = { .pid = pid, .port = atoi(port_text + strlen(prefix)) };
    for (int i = 0; i < 50; i++) {
        int fd = connect_to(&job);
        send_bytes(fd, "GET /delay-me?sec", 17);
        pause_s(0.01);
        close(fd);
    }
    pause_s(0.2);
    kill(pid, SIGTERM);
    test_read_until(output_fd, output, sizeof output, "\x01never\x01", CASE_TIMEOUT_S);
    close(output_fd);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    size_t shown = count_of(output, "slowserver: libmicrohttpd: Connection was closed");
    if (shown == 0 || shown > 10)
        fail_msg("%zu hang-up lines in the log (expected 1 to 10):\n%.3000s", shown, output);
    test_assert_contains(output, "messages in all, 10 shown");
}

#define MODE_TESTS                                                  \
    cmocka_unit_test(bad_input_matrix),                             \
    cmocka_unit_test(header_refusals_are_counted),                  \
    cmocka_unit_test(slowloris_is_closed_by_the_idle_timeout),      \
    cmocka_unit_test(many_idle_connections_do_not_block_others),    \
    cmocka_unit_test(hang_ups_mid_request_leave_nothing_in_flight), \
    cmocka_unit_test(idle_keep_alive_is_closed),                    \
    cmocka_unit_test(a_slow_stream_outlives_the_idle_timeout)

int main(void)
{
    const struct CMUnitTest tests[] = { MODE_TESTS };
    int failed = cmocka_run_group_tests_name("hostile clients, --mode async", tests,
                                             start_async, stop);
    failed += cmocka_run_group_tests_name("hostile clients, --mode threads", tests,
                                          start_threads, stop);
    failed += cmocka_run_group_tests_name("hostile clients, --mode blocking", tests,
                                          start_blocking, stop);
    const struct CMUnitTest log_tests[] = { cmocka_unit_test(the_log_shows_only_printable_bytes),
                                            cmocka_unit_test(hang_ups_do_not_flood_the_log) };
    failed += cmocka_run_group_tests_name("hostile clients and the log", log_tests, NULL, NULL);
    return failed;
}
