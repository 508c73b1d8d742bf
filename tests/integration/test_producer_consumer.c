/*
 * Integration tests: the producer-consumer pair against a real slowserver.
 *
 * What the lesson claims is checked structurally, never by the clock:
 * - every item is fetched and processed exactly once: the server's
 *   per-path request counts, and the ids the server acknowledged, which the
 *   program records in its trace;
 * - at most P fetches and C posts are in flight: the server's per-path
 *   max_in_flight for /items and /process;
 * - the queue never holds more than Q items: the program's reported
 *   deepest, and the trace (an item holds a place from the moment its fetch
 *   starts until a consumer takes it, so those intervals may overlap at
 *   most Q deep);
 * - the sync program never has two requests out; the async one overlaps a
 *   fetch with a post even with Q=1 and P=1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "trace.h"
#include "trace_intervals.h"
#include "process.h"
#include "server.h"

#define MAX_ITEMS 64

static struct test_server server;
static char trace_path[64];

static int start(void **state)
{
    (void)state;
    snprintf(trace_path, sizeof trace_path, "/tmp/asynclab-prodcons-%d.json", (int)getpid());
    return test_server_start(&server, "async", NULL);
}

static int stop(void **state)
{
    (void)state;
    unlink(trace_path);
    return test_server_stop(&server) == 0 ? 0 : -1;
}

static int reset_stats(void **state)
{
    (void)state;
    return test_server_reset_stats(&server);
}

/* Runs build/bin/<program> --url <test server> --trace <file> <extra...>:
 * every run here is traced. */
static struct test_process_result run_client(const char *program, const char *const *extra)
{
    const char *arguments[24] = { "--trace", trace_path };
    size_t count = 2;
    for (; extra != NULL && *extra != NULL; extra++) {
        assert_true(count < sizeof arguments / sizeof arguments[0] - 1);
        arguments[count++] = *extra;
    }
    arguments[count] = NULL;
    return test_run_client(program, server.url, arguments);
}

/* ------------------------------------------------------------ the trace */

/* One item's journey as the trace recorded it, in microseconds. */
struct journey {
    int fetches;           /* GET events for this item */
    int posts;             /* POST events for this item */
    long long fetch_start, fetch_end;
    long long post_start, post_end;
    long acknowledged_id;  /* what the server's reply to the POST said */
};

/* Reads the trace into journeys[item id]; fails the test on anything odd. */
static void load_journeys(struct journey *journeys, long items)
{
    memset(journeys, 0, (size_t)items * sizeof *journeys);
    char why[512];
    json_t *document = trace_read_tasks(trace_path, NULL, why, sizeof why);
    if (document == NULL)
        fail_msg("trace %s", why);
    size_t i;
    json_t *event;
    json_array_foreach(document, i, event) {
        if (strcmp(json_string_value(json_object_get(event, "ph")), "X") != 0)
            continue;
        json_t *args = json_object_get(event, "args");
        long id = (long)json_number_value(json_object_get(args, "item"));
        assert_true(id >= 0 && id < items);
        long long start = json_integer_value(json_object_get(event, "ts"));
        long long end = start + json_integer_value(json_object_get(event, "dur"));
        struct journey *journey = &journeys[id];
        if (strstr(json_string_value(json_object_get(event, "name")), " GET ") != NULL) {
            journey->fetches++;
            journey->fetch_start = start;
            journey->fetch_end = end;
        } else {
            journey->posts++;
            journey->post_start = start;
            journey->post_end = end;
            json_t *acknowledged = json_object_get(args, "acknowledged_id");
            journey->acknowledged_id = acknowledged ? (long)json_number_value(acknowledged) : -1;
        }
    }
    json_decref(document);
}

/* The server acknowledged exactly the ids 0..items-1, each once, and each
 * in reply to the post of that very item. */
static void assert_each_item_processed_once(const struct journey *journeys, long items)
{
    int seen[MAX_ITEMS] = { 0 };
    for (long id = 0; id < items; id++) {
        assert_int_equal(journeys[id].fetches, 1);
        assert_int_equal(journeys[id].posts, 1);
        long acknowledged = journeys[id].acknowledged_id;
        assert_true(acknowledged >= 0 && acknowledged < items);
        seen[acknowledged]++;
        assert_int_equal(acknowledged, id);
    }
    for (long id = 0; id < items; id++)
        assert_int_equal(seen[id], 1);
}

/* The most half-open intervals [starts[i], ends[i]) that share one moment. */
static int deepest_overlap(const long long *starts, const long long *ends, long count)
{
    int deepest = 0;
    /* The deepest point is at some interval's start: count who covers it. */
    for (long i = 0; i < count; i++) {
        int depth = 0;
        for (long j = 0; j < count; j++)
            if (starts[j] <= starts[i] && starts[i] < ends[j])
                depth++;
        if (depth > deepest)
            deepest = depth;
    }
    return deepest;
}

/* How many items at most held a place in the queue at once: from the start
 * of the item's fetch (the place is reserved) until a consumer took it. */
static int deepest_reservation(const struct journey *journeys, long items)
{
    long long starts[MAX_ITEMS], ends[MAX_ITEMS];
    for (long id = 0; id < items; id++) {
        starts[id] = journeys[id].fetch_start;
        ends[id] = journeys[id].post_start;
    }
    return deepest_overlap(starts, ends, items);
}

/* How many requests at most were out at once, fetches and posts together. */
static int deepest_requests(const struct journey *journeys, long items)
{
    long long starts[2 * MAX_ITEMS], ends[2 * MAX_ITEMS];
    for (long id = 0; id < items; id++) {
        starts[2 * id] = journeys[id].fetch_start;
        ends[2 * id] = journeys[id].fetch_end;
        starts[2 * id + 1] = journeys[id].post_start;
        ends[2 * id + 1] = journeys[id].post_end;
    }
    return deepest_overlap(starts, ends, 2 * items);
}

/* "Deepest queue: D of Q" from the summary. */
static long reported_deepest(const char *out)
{
    const char *line = strstr(out, "Deepest queue: ");
    assert_non_null(line);
    long deepest = -1;
    assert_int_equal(sscanf(line, "Deepest queue: %ld of", &deepest), 1);
    return deepest;
}

/* The largest "N waiting" among the queue lines the program printed. */
static long printed_deepest(const char *out)
{
    long deepest = -1;
    for (const char *line = strstr(out, "queue: ["); line != NULL;
         line = strstr(line + 1, "queue: [")) {
        const char *picture_end = strchr(line, ']');
        long waiting = -1;
        assert_non_null(picture_end);
        assert_int_equal(sscanf(picture_end + 1, " %ld waiting", &waiting), 1);
        if (waiting > deepest)
            deepest = waiting;
    }
    return deepest;
}

/* ---------------------------------------------------------------- tests */

static void sync_fetches_and_processes_one_at_a_time(void **state)
{
    (void)state;
    const char *args[] = { "--items", "5", "--fetch-delay", "0.02", "--process-delay", "0.03",
                           NULL };
    struct test_process_result result = run_client("producer_consumer_sync", args);
    assert_int_equal(result.exit_status, 0);
    test_assert_contains(result.out, "I0: fetching   GET /items/0");
    test_assert_contains(result.out, "I4: done       the server acknowledged id 4");
    test_assert_contains(result.out, "Items processed: 5 of 5");
    assert_true(strstr(result.out, "queue") == NULL);  /* no queue in the sync program */

    assert_int_equal(test_server_stat(&server, "/items", "requests"), 5);
    assert_int_equal(test_server_stat(&server, "/process", "requests"), 5);
    assert_int_equal(test_server_stat(&server, NULL, "max_in_flight"), 1);

    struct journey journeys[5];
    load_journeys(journeys, 5);
    assert_each_item_processed_once(journeys, 5);
    assert_int_equal(deepest_requests(journeys, 5), 1);
    test_process_result_free(&result);
}

static void async_processes_every_item_exactly_once(void **state)
{
    (void)state;
    const char *args[] = { "--items", "20", "--producers", "3", "--consumers", "2",
                           "--queue", "4", "--fetch-delay", "0.02", "--process-delay", "0.05",
                           NULL };
    struct test_process_result result = run_client("producer_consumer_async", args);
    assert_int_equal(result.exit_status, 0);
    test_assert_contains(result.out, "Items processed: 20 of 20");

    assert_int_equal(test_server_stat(&server, "/items", "requests"), 20);
    assert_int_equal(test_server_stat(&server, "/process", "requests"), 20);
    assert_true(test_server_stat(&server, "/items", "max_in_flight") <= 3);
    assert_true(test_server_stat(&server, "/process", "max_in_flight") <= 2);

    struct journey journeys[20];
    load_journeys(journeys, 20);
    test_assert_trace_viewable(trace_path, "producer_consumer_async", true);
    assert_each_item_processed_once(journeys, 20);
    assert_true(deepest_reservation(journeys, 20) <= 4);
    assert_true(reported_deepest(result.out) <= 4);
    /* A pipeline: fetching and processing overlapped at some point. */
    assert_true(deepest_requests(journeys, 20) > 1);
    test_process_result_free(&result);
}

static void async_has_P_fetches_and_C_posts_in_flight(void **state)
{
    (void)state;
    /* Room for every fetch (Q = 6 > P), and delays long enough that each
     * batch is surely at the server together. */
    const char *args[] = { "--items", "12", "--producers", "3", "--consumers", "2",
                           "--queue", "6", "--fetch-delay", "0.1", "--process-delay", "0.1",
                           "--quiet", NULL };
    struct test_process_result result = run_client("producer_consumer_async", args);
    assert_int_equal(result.exit_status, 0);
    assert_int_equal(test_server_stat(&server, "/items", "max_in_flight"), 3);
    assert_int_equal(test_server_stat(&server, "/process", "max_in_flight"), 2);
    assert_int_equal(test_server_stat(&server, "/process", "requests"), 12);
    test_process_result_free(&result);
}

static void a_full_queue_holds_the_producers_back(void **state)
{
    (void)state;
    /* Fast producers, one slow consumer: the queue fills and stays full.
     * Four producers are allowed, but only Q = 3 places exist, so no more
     * than 3 fetches may ever be out. */
    const char *args[] = { "--items", "16", "--producers", "4", "--consumers", "1",
                           "--queue", "3", "--fetch-delay", "0.01", "--process-delay", "0.05",
                           NULL };
    struct test_process_result result = run_client("producer_consumer_async", args);
    assert_int_equal(result.exit_status, 0);
    test_assert_contains(result.out, "Items processed: 16 of 16");
    test_assert_contains(result.out, "no new fetch may start");

    /* It filled (so the bound below is really tested) and never overflowed. */
    assert_int_equal(reported_deepest(result.out), 3);
    assert_int_equal(printed_deepest(result.out), 3);
    struct journey journeys[16];
    load_journeys(journeys, 16);
    assert_each_item_processed_once(journeys, 16);
    assert_int_equal(deepest_reservation(journeys, 16), 3);

    /* Were it not for the queue, all 4 producers would fetch at once. */
    assert_true(test_server_stat(&server, "/items", "max_in_flight") <= 3);
    assert_int_equal(test_server_stat(&server, "/process", "max_in_flight"), 1);
    assert_int_equal(test_server_stat(&server, "/items", "requests"), 16);
    test_process_result_free(&result);
}

static void a_queue_of_one_and_one_producer_still_finish(void **state)
{
    (void)state;
    const char *args[] = { "--items", "6", "--producers", "1", "--consumers", "1",
                           "--queue", "1", "--fetch-delay", "0.05", "--process-delay", "0.05",
                           NULL };
    struct test_process_result result = run_client("producer_consumer_async", args);
    assert_int_equal(result.exit_status, 0);
    assert_false(result.timed_out);
    test_assert_contains(result.out, "Items processed: 6 of 6");
    assert_int_equal(reported_deepest(result.out), 1);

    struct journey journeys[6];
    load_journeys(journeys, 6);
    assert_each_item_processed_once(journeys, 6);
    assert_int_equal(deepest_reservation(journeys, 6), 1);
    /* Even so it is a pipeline: the next fetch runs while an item is posted. */
    assert_int_equal(test_server_stat(&server, "/items", "max_in_flight"), 1);
    assert_int_equal(test_server_stat(&server, "/process", "max_in_flight"), 1);
    assert_int_equal(test_server_stat(&server, NULL, "max_in_flight"), 2);
    test_process_result_free(&result);
}

static void quiet_prints_only_the_summary(void **state)
{
    (void)state;
    const char *args[] = { "--items", "3", "--fetch-delay", "0", "--process-delay", "0",
                           "--quiet", NULL };
    struct test_process_result result = run_client("producer_consumer_async", args);
    assert_int_equal(result.exit_status, 0);
    assert_true(strncmp(result.out, "Items processed: 3 of 3\nDeepest queue: ", 39) == 0);
    const char *last = strstr(result.out, "\nTime elapsed: ");
    assert_non_null(last);
    test_assert_one_line(last + 1);
    test_process_result_free(&result);
}

static void failed_fetches_are_exit_3(void **state)
{
    (void)state;
    /* The server refuses a delay above its --max-delay (60 s) with 400. */
    const char *args[] = { "--items", "2", "--fetch-delay", "61", NULL };
    struct test_process_result result = run_client("producer_consumer_async", args);
    assert_int_equal(result.exit_status, 3);
    test_assert_contains(result.out, "I0: fetch failed: HTTP 400");
    test_assert_contains(result.out, "Items processed: 0 of 2");
    test_assert_contains(result.out, "Failed: 2 of 2 items");
    assert_int_equal(test_server_stat(&server, "/process", "requests"), 0);
    test_process_result_free(&result);
}

static void assert_prediction(const char *program, const char *const *extra, const char *expected)
{
    const char *argv[16] = { test_bin(program), "--url", "http://127.0.0.1:1", "--predict" };
    int argc = 4;
    for (; extra != NULL && *extra != NULL && argc < 15; extra++)
        argv[argc++] = *extra;
    argv[argc] = NULL;
    struct test_process_result result;
    assert_int_equal(test_run(argv, TEST_RUN_TIMEOUT_S, &result), 0);
    assert_int_equal(result.exit_status, 0);
    test_assert_contains(result.out, expected);
    test_process_result_free(&result);
}

static void predict_gives_the_lesson_models_without_a_server(void **state)
{
    (void)state;
    /* sync: N x (F + D) = 12 x 0.8 */
    assert_prediction("producer_consumer_sync", NULL, "Predicted time: 9.600 s");
    const char *five[] = { "--items", "5", "--fetch-delay", "1", "--process-delay", "2", NULL };
    assert_prediction("producer_consumer_sync", five, "Predicted time: 15.000 s");
    /* async defaults: three consumers, the last of whom gets its first item
     * with the second pair of fetches (0.4 s), then 4 rounds of 0.6 s. */
    assert_prediction("producer_consumer_async", NULL, "Predicted time: 2.800 s");
    /* One consumer: the first fetch, then 12 x 0.6 s of processing. */
    const char *one_consumer[] = { "--consumers", "1", NULL };
    assert_prediction("producer_consumer_async", one_consumer, "Predicted time: 7.400 s");
    /* Q = 1: one fetch at a time whatever P is: 12 x 0.2 s, then the last post. */
    const char *tiny_queue[] = { "--queue", "1", "--producers", "5", NULL };
    assert_prediction("producer_consumer_async", tiny_queue, "Predicted time: 3.000 s");
}

static void an_unreachable_server_is_exit_2_with_a_hint(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", test_closed_port());
    const char *programs[] = { "producer_consumer_sync", "producer_consumer_async" };
    for (size_t i = 0; i < 2; i++) {
        struct test_process_result result = test_run_client(programs[i], url, NULL);
        assert_int_equal(result.exit_status, 2);
        test_assert_contains(result.err, "start it with: make run-server");
        test_assert_one_line(result.err);
        test_process_result_free(&result);
    }
}

static void bad_flags_are_exit_1_with_one_line(void **state)
{
    (void)state;
    const char *cases[][4] = {
        { "producer_consumer_sync", "--queue", "2", NULL },  /* sync has no queue */
        { "producer_consumer_sync", "--items", "0", NULL },
        { "producer_consumer_sync", "--fetch-delay", "-1", NULL },
        { "producer_consumer_async", "--producers", "0", NULL },
        { "producer_consumer_async", "--consumers", "many", NULL },
        { "producer_consumer_async", "--queue", "1.5", NULL },
        { "producer_consumer_async", "--process-delay", "nan", NULL },
        { "producer_consumer_async", "--bogus", NULL, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[] = { test_bin(cases[i][0]), cases[i][1], cases[i][2], NULL };
        struct test_process_result result;
        assert_int_equal(test_run(argv, TEST_RUN_TIMEOUT_S, &result), 0);
        if (result.exit_status != 1)
            fail_msg("%s %s %s: exit %d", cases[i][0], cases[i][1],
                     cases[i][2] ? cases[i][2] : "", result.exit_status);
        test_assert_one_line(result.err);
        test_process_result_free(&result);
    }
}

static void run_scenario_compares_both_programs(void **state)
{
    (void)state;
    const char *argv[] = { test_bin("run_scenario"), "--scenario", "producer_consumer",
                           "--scale", "0.05", NULL };
    struct test_process_result result;
    assert_int_equal(test_run(argv, TEST_RUN_TIMEOUT_S, &result), 0);
    assert_int_equal(result.exit_status, 0);
    test_assert_contains(result.out, "side by side");
    /* Each program's own --predict at scale 0.05: 9.6 x 0.05 and 2.8 x 0.05. */
    test_assert_contains(result.out, "0.480 s");
    test_assert_contains(result.out, "0.140 s");
    test_assert_contains(result.out, "\nsync ");
    test_assert_contains(result.out, "\nasync ");
    test_process_result_free(&result);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(sync_fetches_and_processes_one_at_a_time, reset_stats),
        cmocka_unit_test_setup(async_processes_every_item_exactly_once, reset_stats),
        cmocka_unit_test_setup(async_has_P_fetches_and_C_posts_in_flight, reset_stats),
        cmocka_unit_test_setup(a_full_queue_holds_the_producers_back, reset_stats),
        cmocka_unit_test_setup(a_queue_of_one_and_one_producer_still_finish, reset_stats),
        cmocka_unit_test_setup(quiet_prints_only_the_summary, reset_stats),
        cmocka_unit_test_setup(failed_fetches_are_exit_3, reset_stats),
        cmocka_unit_test(predict_gives_the_lesson_models_without_a_server),
        cmocka_unit_test(an_unreachable_server_is_exit_2_with_a_hint),
        cmocka_unit_test(bad_flags_are_exit_1_with_one_line),
        cmocka_unit_test(run_scenario_compares_both_programs),
    };
    return cmocka_run_group_tests_name("producer_consumer", tests, start, stop);
}
