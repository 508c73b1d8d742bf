/*
 * Integration tests: slowserver's live view (server/live.c), its page and
 * its event stream, read by a raw client.
 *
 * The viewers here speak HTTP/1.0 over plain sockets: libmicrohttpd then
 * sends the stream as it comes, without chunked encoding, and a test can
 * read events byte for byte, or stop reading on purpose to be a slow viewer.
 * What the server did about a viewer (freed it, dropped events for it) is
 * read from the "live" counters of /stats, never inferred from timings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "checks.h"
#include "clock.h"
#include "live.h"
#include "process.h"
#include "server.h"

#define TIMEOUT_S 10.0          /* bound on anything that should happen */
#define VIEWERS 12              /* "many viewers" */
#define AT_ONCE 3               /* requests held together */
/* Requests sent past a slow viewer: about 600 KB of events, twice what its
 * ring, the stream's block and the socket buffers hold together. */
#define FLOOD 4000

#define READ_SIZE 65536         /* a raw client's recv at a time */

static struct test_server server;

static int start_async(void **state)
{
    (void)state;
    return test_server_start(&server, "async", NULL);
}

/* The slow viewer reads nothing while the flood goes by, which on a loaded
 * machine takes longer than the default --idle-timeout (30 s): it would be
 * cut for idling, by design, before it could be told what it missed. */
static int start_async_never_idle(void **state)
{
    (void)state;
    const char *never_idle[] = { "--idle-timeout", "0", NULL };
    return test_server_start(&server, "async", never_idle);
}

static int stop_server(void **state)
{
    (void)state;
    if (server.pid > 0)
        test_server_stop(&server);
    server.pid = 0;
    return 0;
}

/* ------------------------------------------------------------ raw clients */

struct raw_client {
    int fd;
    char *text;             /* everything read so far, NUL-terminated */
    size_t length, capacity;
    bool closed;            /* the server ended the stream */
};

/* Connects to the server; receive_buffer > 0 makes the socket's receive
 * buffer that small first (a viewer that barely takes anything). */
static struct raw_client raw_connect(int receive_buffer)
{
    struct raw_client client = { .fd = socket(AF_INET, SOCK_STREAM, 0) };
    assert_true(client.fd >= 0);
    if (receive_buffer > 0)
        setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t)server.port) };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(client.fd, (struct sockaddr *)&address, sizeof address), 0);
    return client;
}

static void raw_send(struct raw_client *client, const char *path)
{
    char request[256];
    int length = snprintf(request, sizeof request, "GET %s HTTP/1.0\r\n\r\n", path);
    assert_int_equal(send(client->fd, request, (size_t)length, MSG_NOSIGNAL), length);
}

/* Reads whatever has arrived, waiting at most timeout_s for something.
 * Returns false on timeout. */
static bool raw_read_some(struct raw_client *client, double timeout_s)
{
    struct pollfd poller = { .fd = client->fd, .events = POLLIN };
    if (client->closed || poll(&poller, 1, (int)(timeout_s * 1000)) <= 0)
        return false;
    if (client->capacity - client->length < READ_SIZE + 1) {
        client->capacity = client->capacity * 2 + READ_SIZE + 1;
        client->text = realloc(client->text, client->capacity);
        assert_non_null(client->text);
    }
    ssize_t got = recv(client->fd, client->text + client->length, READ_SIZE, 0);
    if (got <= 0)
        client->closed = true;
    else
        client->length += (size_t)got;
    client->text[client->length] = '\0';
    return got > 0;
}

static size_t count_of(const char *text, const char *needle)
{
    size_t count = 0;
    for (const char *at = text; at != NULL && (at = strstr(at, needle)) != NULL; at++)
        count++;
    return count;
}

/* Reads until needle has appeared want times (true) or timeout_s passed. */
static bool raw_read_until(struct raw_client *client, const char *needle, size_t want,
                           double timeout_s)
{
    double deadline = clock_now() + timeout_s;
    /* Counts only in what each read added (and the needle's length before
     * it): rescanning all of a long stream after every read would make the
     * reader slow enough to become a slow viewer itself. */
    size_t found = count_of(client->text, needle), scanned = client->length;
    while (found < want) {
        double left = deadline - clock_now();
        if (left <= 0 || client->closed)
            return false;
        raw_read_some(client, left);
        size_t from = scanned >= strlen(needle) ? scanned - strlen(needle) + 1 : 0;
        found += count_of(client->text + from, needle);
        scanned = client->length;
    }
    return true;
}

/* Reads until the server closes the connection (true) or timeout_s. */
static bool raw_read_to_end(struct raw_client *client, double timeout_s)
{
    double deadline = clock_now() + timeout_s;
    while (!client->closed && clock_now() < deadline)
        raw_read_some(client, deadline - clock_now());
    return client->closed;
}

static void raw_close(struct raw_client *client)
{
    if (client->fd >= 0)
        close(client->fd);
    client->fd = -1;
    free(client->text);
    client->text = NULL;
}

/* A viewer: /live/events asked for, its headers and hello read. */
static struct raw_client open_viewer(int receive_buffer)
{
    struct raw_client viewer = raw_connect(receive_buffer);
    raw_send(&viewer, "/live/events");
    if (!raw_read_until(&viewer, "event: hello\n", 1, TIMEOUT_S))
        fail_msg("no hello event; the viewer read:\n%s", viewer.text ? viewer.text : "");
    test_assert_contains(viewer.text, " 200 OK\r\n");
    return viewer;
}

/* The largest "in_flight" any begin event in text reported. */
static long max_in_flight_in(const char *text)
{
    long max = -1;
    for (const char *at = text; (at = strstr(at, "event: begin\ndata: ")) != NULL; at++) {
        json_t *data = json_loadb(at + 19, strcspn(at + 19, "\n"), 0, NULL);
        long in_flight = (long)json_integer_value(json_object_get(data, "in_flight"));
        if (in_flight > max)
            max = in_flight;
        json_decref(data);
    }
    return max;
}

static long live_stat(const char *field)
{
    return test_server_stat(&server, "live", field);
}

/* ------------------------------------------------------------ the tests */

static void the_page_and_its_files_are_served_and_not_counted(void **state)
{
    (void)state;
    const struct { const char *path; long status; const char *type; const char *has; } cases[] = {
        { "/live", 200, "text/html; charset=utf-8", "src=\"/live/live.js\"" },
        { "/live/live.js", 200, "text/javascript; charset=utf-8", "new EventSource(\"/live/events\")" },
        { "/live/live.css", 200, "text/css; charset=utf-8", "canvas" },
        { "/live/secret.txt", 404, "text/plain", "no such file" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char url[128];
        snprintf(url, sizeof url, "%s%s", server.url, cases[i].path);
        struct test_reply reply;
        assert_int_equal(test_http("GET", url, NULL, 0, TIMEOUT_S, &reply), 0);
        assert_int_equal(reply.status, cases[i].status);
        char type[64];
        assert_int_equal(test_reply_header(&reply, "Content-Type", type, sizeof type), 0);
        assert_string_equal(type, cases[i].type);
        if (strstr(reply.body, cases[i].has) == NULL)
            fail_msg("%s lacks \"%s\"", cases[i].path, cases[i].has);
        test_reply_free(&reply);
    }
    /* Watching is an observer, like /stats: it is neither counted nor shown. */
    assert_int_equal(test_server_stat(&server, NULL, "requests"), 0);
    assert_int_equal(live_stat("events"), 0);
}

/* AT_ONCE requests held together, answered in any order. */
static void hold_requests_together(const char *path)
{
    struct raw_client clients[AT_ONCE];
    for (int i = 0; i < AT_ONCE; i++) {
        clients[i] = raw_connect(0);
        raw_send(&clients[i], path);
    }
    for (int i = 0; i < AT_ONCE; i++) {
        assert_true(raw_read_to_end(&clients[i], TIMEOUT_S));
        test_assert_contains(clients[i].text, " 200 OK\r\n");
        raw_close(&clients[i]);
    }
}

static void every_viewer_sees_every_request(void **state)
{
    (void)state;
    struct raw_client viewers[VIEWERS];
    for (int i = 0; i < VIEWERS; i++)
        viewers[i] = open_viewer(0);
    assert_int_equal(live_stat("viewers"), VIEWERS);
    hold_requests_together("/delay-me?seconds=0.3");
    for (int i = 0; i < VIEWERS; i++) {
        if (!raw_read_until(&viewers[i], "event: end\n", AT_ONCE, TIMEOUT_S))
            fail_msg("viewer %d saw only:\n%s", i, viewers[i].text);
        assert_int_equal(count_of(viewers[i].text, "event: begin\n"), AT_ONCE);
        assert_int_equal(count_of(viewers[i].text, "\"path\":\"/delay-me\""), AT_ONCE);
        assert_int_equal(count_of(viewers[i].text, "\"status\":200"), AT_ONCE);
        /* Each viewer sees the overlap the server had. */
        assert_int_equal(max_in_flight_in(viewers[i].text), AT_ONCE);
        raw_close(&viewers[i]);
    }
    assert_int_equal(live_stat("events"), 2 * AT_ONCE);
    assert_int_equal(live_stat("dropped"), 0);
}

static void a_viewer_that_leaves_is_freed(void **state)
{
    (void)state;
    struct raw_client viewer = open_viewer(0);
    assert_int_equal(live_stat("viewers"), 1);
    raw_close(&viewer);
    /* An idle stream is suspended, so the server learns of the hang-up
     * when the next event fails to go out. */
    struct test_reply reply;
    char url[128];
    snprintf(url, sizeof url, "%s/items/1", server.url);
    assert_int_equal(test_http("GET", url, NULL, 0, TIMEOUT_S, &reply), 0);
    test_reply_free(&reply);
    assert_int_equal(test_server_wait_stat(&server, "live", "viewers", 0, TIMEOUT_S), 0);
    assert_int_equal(live_stat("viewers_total"), 1);
}

struct fast_reader {
    struct raw_client *viewer;
    size_t want;             /* end events to wait for */
    bool all;
};

/* Reads the whole flood.  It gives up only when nothing more arrived for
 * TIMEOUT_S, not after a total time: the flood's pace is the machine's (one
 * request after another; a loaded machine took longer than the minute a
 * total bound allowed), and the flood is finite. */
static void *read_fast(void *arg)
{
    struct fast_reader *reader = arg;
    size_t before;
    do {
        before = reader->viewer->length;
        reader->all = raw_read_until(reader->viewer, "event: end\n", reader->want, TIMEOUT_S);
    } while (!reader->all && reader->viewer->length > before);
    return NULL;
}

/* The dropped count of the last "dropped" event in text, -1 if none. */
static long last_dropped_in(const char *text)
{
    const char *last = NULL;
    for (const char *at = text; (at = strstr(at, "event: dropped\ndata: ")) != NULL; at++)
        last = at;
    if (last == NULL)
        return -1;
    json_t *data = json_loadb(last + 21, strcspn(last + 21, "\n"), 0, NULL);
    long dropped = (long)json_integer_value(json_object_get(data, "dropped"));
    json_decref(data);
    return dropped;
}

static void a_slow_viewer_costs_a_bounded_queue_and_slows_nobody(void **state)
{
    (void)state;
    struct raw_client slow = open_viewer(4096);     /* then never reads, for now */
    struct raw_client fast = open_viewer(0);
    struct fast_reader reader = { .viewer = &fast, .want = FLOOD };
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, read_fast, &reader), 0);
    char url[128];
    snprintf(url, sizeof url, "%s/items/7", server.url);
    for (int i = 0; i < FLOOD; i++) {
        struct test_reply reply;
        assert_int_equal(test_http("GET", url, NULL, 0, TIMEOUT_S, &reply), 0);
        assert_int_equal(reply.status, 200);
        test_reply_free(&reply);
    }
    pthread_join(thread, NULL);
    /* The fast viewer got everything; the slow one cost one ring at most. */
    assert_true(reader.all);
    assert_int_equal(count_of(fast.text, "event: dropped"), 0);
    long dropped = live_stat("dropped");
    assert_true(dropped > 0);
    assert_true(live_stat("max_queued_bytes") <= live_stat("queue_bytes"));
    assert_int_equal(test_server_stat(&server, "responses", "200"), FLOOD);
    /* Once it reads again, the slow viewer is told how much it missed. */
    raw_close(&fast);
    while (last_dropped_in(slow.text) != dropped && raw_read_some(&slow, TIMEOUT_S))
        ;
    assert_int_equal(last_dropped_in(slow.text), dropped);
    raw_close(&slow);
}

static void more_viewers_than_allowed_get_503(void **state)
{
    (void)state;
    struct raw_client viewers[LIVE_MAX_VIEWERS + 1];
    for (int i = 0; i < LIVE_MAX_VIEWERS; i++)
        viewers[i] = open_viewer(0);
    viewers[LIVE_MAX_VIEWERS] = raw_connect(0);
    raw_send(&viewers[LIVE_MAX_VIEWERS], "/live/events");
    assert_true(raw_read_to_end(&viewers[LIVE_MAX_VIEWERS], TIMEOUT_S));
    test_assert_contains(viewers[LIVE_MAX_VIEWERS].text, " 503 ");
    assert_int_equal(live_stat("refused"), 1);
    for (int i = 0; i <= LIVE_MAX_VIEWERS; i++)
        raw_close(&viewers[i]);
}

static void every_mode_streams_and_shutdown_ends_the_streams(void **state)
{
    (void)state;
    const char *modes[] = { "async", "threads", "blocking" };
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        assert_int_equal(test_server_start(&server, modes[m], NULL), 0);
        struct raw_client viewer = open_viewer(0);
        hold_requests_together("/delay-me?seconds=0.2");
        if (!raw_read_until(&viewer, "event: end\n", AT_ONCE, TIMEOUT_S))
            fail_msg("mode %s: the viewer saw only:\n%s", modes[m], viewer.text);
        /* Blocking mode serves one at a time, and the stream shows it. */
        assert_int_equal(max_in_flight_in(viewer.text), strcmp(modes[m], "blocking") == 0 ? 1 : AT_ONCE);
        /* Stopping the server ends the stream (not a hang, not a kill). */
        if (test_server_stop(&server) != 0)
            fail_msg("mode %s: the server did not stop cleanly with a viewer", modes[m]);
        server.pid = 0;
        assert_true(raw_read_to_end(&viewer, TIMEOUT_S));
        raw_close(&viewer);
    }
}

static void no_live_turns_the_view_off(void **state)
{
    (void)state;
    const char *args[] = { "--no-live", NULL };
    assert_int_equal(test_server_start(&server, "async", args), 0);
    const char *paths[] = { "/live", "/live/events", "/live/live.js" };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char url[128];
        snprintf(url, sizeof url, "%s%s", server.url, paths[i]);
        struct test_reply reply;
        assert_int_equal(test_http("GET", url, NULL, 0, TIMEOUT_S, &reply), 0);
        assert_int_equal(reply.status, 404);
        test_reply_free(&reply);
    }
    assert_int_equal(live_stat("viewers"), -1);     /* no "live" in /stats */
}

/* Without --quiet: the address of the page, and paths with arguments. */
static void the_server_says_where_the_page_is(void **state)
{
    (void)state;
    assert_int_equal(test_server_start_verbose(&server, "async", NULL), 0);
    char want[160], line[256];
    snprintf(want, sizeof want, "live view: open %s/live in a browser", server.url);
    bool found = false;
    while (!found && test_server_read_line(&server, line, sizeof line, TIMEOUT_S) == 0)
        found = strstr(line, want) != NULL;
    assert_true(found);
    struct raw_client viewer = open_viewer(0);
    hold_requests_together("/items/3?delay=0");
    assert_true(raw_read_until(&viewer, "event: end\n", AT_ONCE, TIMEOUT_S));
    assert_int_equal(count_of(viewer.text, "\"path\":\"/items/3?delay=0\""), AT_ONCE);
    raw_close(&viewer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_page_and_its_files_are_served_and_not_counted,
                                        start_async, stop_server),
        cmocka_unit_test_setup_teardown(every_viewer_sees_every_request, start_async, stop_server),
        cmocka_unit_test_setup_teardown(a_viewer_that_leaves_is_freed, start_async, stop_server),
        cmocka_unit_test_setup_teardown(a_slow_viewer_costs_a_bounded_queue_and_slows_nobody,
                                        start_async_never_idle, stop_server),
        cmocka_unit_test_setup_teardown(more_viewers_than_allowed_get_503, start_async, stop_server),
        cmocka_unit_test_teardown(every_mode_streams_and_shutdown_ends_the_streams, stop_server),
        cmocka_unit_test_teardown(no_live_turns_the_view_off, stop_server),
        cmocka_unit_test_teardown(the_server_says_where_the_page_is, stop_server),
    };
    return cmocka_run_group_tests_name("live", tests, NULL, NULL);
}
