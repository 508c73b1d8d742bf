/*
 * Integration tests: the blocking-pitfall programs against real slowservers.
 *
 * What the lesson claims is proven by the server's own counters (/stats
 * max_in_flight: how many requests it was holding at once) and by the
 * programs' traces (do the request intervals overlap?).  The one timing
 * bound is one the lesson rests on: a loop stuck in a 0.5 s blocking call
 * cannot have run its heartbeat less than 0.4 s late, so the broken
 * program's worst lag is at least that, and the fixed programs' must stay
 * below it.
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
#include "lesson_runs.h"
#include "process.h"
#include "server.h"
#include "trace.h"
#include "trace_intervals.h"

/* The lesson's 10, 2 and 5 s shrunk 20 times: 0.5, 0.1 and 0.25 s. */
#define SCALE "0.05"
#define LONGEST_DELAY_S 0.5
#define HEARTBEAT_S 0.1   /* BLOCKING_PITFALL_HEARTBEAT_S */
#define REQUESTS 3
/* The heartbeat was due 0.1 s after the loop began; a loop held by R1
 * (0.5 s) cannot run that tick until 0.5 s, so at least 0.4 s late.  (The
 * server's timer never fires early; the 1 ms is the printout's rounding.)
 * That lower bound on the broken program is the upper bound the fixed ones
 * must stay under: generous for a loop that never blocks, whose worst lag
 * is a few milliseconds, and impossible for one that blocks. */
#define BLOCKED_LAG_S (LONGEST_DELAY_S - HEARTBEAT_S - 0.001)

static struct test_server server;           /* --mode async: overlaps every wait */
static struct test_server blocking_server;  /* --mode blocking: one request at a time */
static char trace_path[64];

static int start(void **state)
{
    (void)state;
    snprintf(trace_path, sizeof trace_path, "/tmp/asynclab-blocking-pitfall-%d.json",
             (int)getpid());
    if (test_server_start(&server, "async", NULL) != 0)
        return -1;
    return test_server_start(&blocking_server, "blocking", NULL);
}

static int stop(void **state)
{
    (void)state;
    unlink(trace_path);
    int async_status = test_server_stop(&server);
    int blocking_status = test_server_stop(&blocking_server);
    return async_status == 0 && blocking_status == 0 ? 0 : -1;
}

static int reset_stats(void **state)
{
    (void)state;
    if (test_server_reset_stats(&server) != 0)
        return -1;
    return test_server_reset_stats(&blocking_server);
}

/* Runs build/bin/blocking_pitfall_<variant> at the test scale with a trace,
 * against `target`, and checks that it did all its work. */
static struct test_process_result run_variant(const char *variant,
                                              const struct test_server *target)
{
    char program[64];
    snprintf(program, sizeof program, "blocking_pitfall_%s", variant);
    const char *args[] = { "--scale", SCALE, "--trace", trace_path, NULL };
    struct test_process_result result = test_run_client(program, target->url, args);
    if (result.exit_status != 0)
        fail_msg("%s exited %d:\n%s%s", program, result.exit_status, result.out, result.err);
    return result;
}

/* The value of "Worst heartbeat lag: X s"; fails the test if it is missing. */
static double worst_lag(const char *out)
{
    const char *line = strstr(out, "Worst heartbeat lag: ");
    double lag = -1;
    if (line == NULL || sscanf(line, "Worst heartbeat lag: %lf s", &lag) != 1 || lag < 0)
        fail_msg("no parsable 'Worst heartbeat lag: X s' line in:\n%s", out);
    return lag;
}

/* The trace's request events ([start, end] in us) and how many "Heartbeat
 * late" events it has. */
static size_t load_requests(long long (*intervals)[2], size_t capacity, int *late_heartbeats)
{
    char why[512];
    json_t *document = trace_read_tasks(trace_path, NULL, why, sizeof why);
    if (document == NULL)
        fail_msg("trace %s", why);
    size_t count = 0, i;
    json_t *event;
    *late_heartbeats = 0;
    json_array_foreach(document, i, event) {
        if (strcmp(json_string_value(json_object_get(event, "ph")), "X") != 0)
            continue;
        if (strcmp(json_string_value(json_object_get(event, "name")), "Heartbeat late") == 0) {
            (*late_heartbeats)++;
            continue;
        }
        assert_true(count < capacity);
        long long ts = json_integer_value(json_object_get(event, "ts"));
        intervals[count][0] = ts;
        intervals[count][1] = ts + json_integer_value(json_object_get(event, "dur"));
        count++;
    }
    json_decref(document);
    return count;
}

static void sync_is_serial_and_has_no_loop(void **state)
{
    (void)state;
    struct test_process_result result = run_variant("sync", &server);
    test_assert_lesson_replies(result.out);
    assert_null(strstr(result.out, "heartbeat"));  /* no loop, nothing to measure */
    assert_int_equal(test_server_stat(&server, "/delay-me", "requests"), REQUESTS);
    assert_int_equal(test_server_stat(&server, NULL, "max_in_flight"), 1);
    test_process_result_free(&result);
}

static void async_blocking_stalls_its_own_loop(void **state)
{
    (void)state;
    struct test_process_result result = run_variant("async_blocking", &server);
    test_assert_lesson_replies(result.out);
    /* An event loop, and still one request at a time. */
    assert_int_equal(test_server_stat(&server, "/delay-me", "requests"), REQUESTS);
    assert_int_equal(test_server_stat(&server, NULL, "max_in_flight"), 1);

    long long intervals[REQUESTS][2];
    int late_heartbeats;
    assert_int_equal(load_requests(intervals, REQUESTS, &late_heartbeats), REQUESTS);
    assert_true(test_none_overlap(intervals, REQUESTS));
    assert_true(late_heartbeats > 0);
    test_assert_trace_viewable(trace_path, "blocking_pitfall_async_blocking", true);

    /* R1 held the loop: see BLOCKED_LAG_S. */
    double lag = worst_lag(result.out);
    if (lag < BLOCKED_LAG_S)
        fail_msg("worst heartbeat lag %.3f s, below the %.3f s the blocking call forces",
                 lag, BLOCKED_LAG_S);
    test_assert_contains(result.out, "Heartbeat: ");  /* told as it happened, too */
    test_process_result_free(&result);
}

/* async and async_offload: all three requests at the server at once, and a
 * heartbeat that reports its lag. */
static void assert_overlaps_all_three(const char *variant, bool one_thread)
{
    struct test_process_result result = run_variant(variant, &server);
    test_assert_lesson_replies(result.out);
    /* The overlap is proven by the server's max_in_flight and the
     * program's own windows, not by R2's line coming before R1's: a race a
     * loaded machine loses (lesson_runs.c). */
    assert_int_equal(test_server_stat(&server, "/delay-me", "requests"), REQUESTS);
    assert_int_equal(test_server_stat(&server, NULL, "max_in_flight"), REQUESTS);

    long long intervals[REQUESTS][2];
    int late_heartbeats;
    assert_int_equal(load_requests(intervals, REQUESTS, &late_heartbeats), REQUESTS);
    assert_true(test_all_overlap(intervals, REQUESTS));
    char program[64];
    snprintf(program, sizeof program, "blocking_pitfall_%s", variant);
    test_assert_trace_viewable(trace_path, program, one_thread);
    /* The fix's claim: the heartbeat stays on time while R1 waits. */
    double lag = worst_lag(result.out);
    if (lag >= BLOCKED_LAG_S)
        fail_msg("%s: worst heartbeat lag %.3f s, as late as a loop that blocks (%.3f s)",
                 variant, lag, BLOCKED_LAG_S);
    test_process_result_free(&result);
}

static void async_overlaps_with_non_blocking_transfers(void **state)
{
    (void)state;
    assert_overlaps_all_three("async", true);
}

static void async_offload_overlaps_on_worker_threads(void **state)
{
    (void)state;
    assert_overlaps_all_three("async_offload", false);  /* its workers are threads */
}

/* The server-side pitfall: however concurrent the client, a server that
 * sleeps in its only thread holds one request at a time. */
static void a_blocking_server_serialises_every_client(void **state)
{
    (void)state;
    const char *variants[] = { "async", "async_offload", "async_blocking" };
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        assert_int_equal(test_server_reset_stats(&blocking_server), 0);
        struct test_process_result result = run_variant(variants[i], &blocking_server);
        test_assert_lesson_replies(result.out);
        assert_int_equal(test_server_stat(&blocking_server, "/delay-me", "requests"), REQUESTS);
        assert_int_equal(test_server_stat(&blocking_server, NULL, "max_in_flight"), 1);
        test_process_result_free(&result);
    }
}

static void assert_prediction(const char *variant, const char *expected)
{
    char program[64];
    snprintf(program, sizeof program, "blocking_pitfall_%s", variant);
    /* Port 1: nothing listens there, and --predict must not try. */
    const char *argv[] = { test_bin(program), "--url", "http://127.0.0.1:1", "--predict", NULL };
    struct test_process_result result;
    assert_int_equal(test_run(argv, TEST_RUN_TIMEOUT_S, &result), 0);
    assert_int_equal(result.exit_status, 0);
    test_assert_contains(result.out, expected);
    test_assert_one_line(result.out);
    test_process_result_free(&result);
}

static void predict_sums_for_blocking_and_takes_the_longest_otherwise(void **state)
{
    (void)state;
    assert_prediction("sync", "Predicted time: 17.000 s (");
    assert_prediction("async_blocking", "Predicted time: 17.000 s (");
    assert_prediction("async", "Predicted time: 10.000 s (");
    assert_prediction("async_offload", "Predicted time: 10.000 s (");
}

static void quiet_prints_only_the_summary(void **state)
{
    (void)state;
    const char *args[] = { "--delays", "0,0", "--quiet", NULL };
    struct test_process_result result =
        test_run_client("blocking_pitfall_async_offload", server.url, args);
    assert_int_equal(result.exit_status, 0);
    assert_true(strncmp(result.out, "Worst heartbeat lag: ", 21) == 0);
    const char *second = strchr(result.out, '\n') + 1;
    assert_true(strncmp(second, "Time elapsed: ", 14) == 0);
    test_assert_one_line(second);
    test_process_result_free(&result);
}

static void bad_input_is_one_line_and_the_right_exit_status(void **state)
{
    (void)state;
    const char *variants[] = { "blocking_pitfall_sync", "blocking_pitfall_async_blocking",
                               "blocking_pitfall_async", "blocking_pitfall_async_offload" };
    const char *usage_cases[][3] = {
        { "--delays", "abc", NULL }, { "--delays", "1,,2", NULL }, { "--scale", "0", NULL },
        { "--requests", "3", NULL }, { "--bogus", NULL, NULL },
    };
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        for (size_t i = 0; i < sizeof usage_cases / sizeof usage_cases[0]; i++) {
            const char *argv[] = { test_bin(variants[v]), usage_cases[i][0], usage_cases[i][1],
                                   NULL };
            struct test_process_result result;
            assert_int_equal(test_run(argv, TEST_RUN_TIMEOUT_S, &result), 0);
            assert_int_equal(result.exit_status, 1);
            test_assert_one_line(result.err);
            test_process_result_free(&result);
        }
        /* Nothing listens on port 1: a setup problem, with the hint. */
        struct test_process_result result =
            test_run_client(variants[v], "http://127.0.0.1:1", NULL);
        assert_int_equal(result.exit_status, 2);
        test_assert_contains(result.err, "start it with: make run-server");
        test_assert_one_line(result.err);
        test_process_result_free(&result);
    }
}

static void a_failed_request_is_exit_3_and_the_loop_goes_on(void **state)
{
    (void)state;
    /* The server refuses a delay above its --max-delay (60 s) with 400. */
    const char *args[] = { "--delays", "0.1,61", NULL };
    struct test_process_result result =
        test_run_client("blocking_pitfall_async_offload", server.url, args);
    assert_int_equal(result.exit_status, 3);
    test_assert_contains(result.out, "R2: Request failed: HTTP 400");
    test_assert_contains(result.out, "R1: Request finally done!");
    test_assert_contains(result.out, "Failed: 1 of 2 requests");
    test_process_result_free(&result);
}

static void run_scenario_compares_all_five_legs(void **state)
{
    (void)state;
    const char *argv[] = { test_bin("run_scenario"), "--scenario", "blocking_pitfall",
                           "--scale", "0.02", NULL };
    struct test_process_result result;
    assert_int_equal(test_run(argv, TEST_RUN_TIMEOUT_S, &result), 0);
    if (result.exit_status != 0)
        fail_msg("run_scenario exited %d:\n%s%s", result.exit_status, result.out, result.err);
    /* The server-side leg got a server of its own, in --mode blocking. */
    test_assert_contains(result.out, "Started slowserver --mode blocking at http://127.0.0.1:");
    /* One comparison, with a row per leg, after every program's own output. */
    const char *table = strstr(result.out, "side by side");
    assert_non_null(table);
    assert_null(strstr(table + 1, "side by side"));
    const char *rows[] = { "\nsync ", "\nasync_blocking ", "\nasync ", "\nasync_offload ",
                           "\nasync@blocking " };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        test_assert_contains(table, rows[i]);
    test_process_result_free(&result);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(sync_is_serial_and_has_no_loop, reset_stats),
        cmocka_unit_test_setup(async_blocking_stalls_its_own_loop, reset_stats),
        cmocka_unit_test_setup(async_overlaps_with_non_blocking_transfers, reset_stats),
        cmocka_unit_test_setup(async_offload_overlaps_on_worker_threads, reset_stats),
        cmocka_unit_test_setup(a_blocking_server_serialises_every_client, reset_stats),
        cmocka_unit_test(predict_sums_for_blocking_and_takes_the_longest_otherwise),
        cmocka_unit_test_setup(quiet_prints_only_the_summary, reset_stats),
        cmocka_unit_test(bad_input_is_one_line_and_the_right_exit_status),
        cmocka_unit_test_setup(a_failed_request_is_exit_3_and_the_loop_goes_on, reset_stats),
        cmocka_unit_test(run_scenario_compares_all_five_legs),
    };
    return cmocka_run_group_tests_name("blocking_pitfall", tests, start, stop);
}
