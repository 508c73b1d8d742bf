/*
 * Integration tests: the slow-API pair against a real slowserver.
 *
 * Concurrency is proven by the server's own counters (/stats max_in_flight)
 * and by the programs' traces (do the request intervals overlap?), never by
 * how long anything took: these machines are too noisy for that.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "lesson_runs.h"
#include "process.h"
#include "server.h"

static struct test_server server;
static char trace_path[64];

static int start(void **state)
{
    (void)state;
    snprintf(trace_path, sizeof trace_path, "/tmp/asynclab-slow-api-%d.json", (int)getpid());
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

static void sync_sends_one_request_at_a_time(void **state)
{
    (void)state;
    test_assert_one_at_a_time(&server, "slow_api_sync", trace_path);
}

static void async_has_all_three_in_flight(void **state)
{
    (void)state;
    test_assert_all_three_in_flight(&server, "slow_api_async", trace_path);
}

static void async_epoll_has_all_three_in_flight(void **state)
{
    (void)state;
    test_assert_all_three_in_flight(&server, "slow_api_async_epoll", trace_path);
}

static void sync_threads_has_all_three_in_flight(void **state)
{
    (void)state;
    test_assert_all_three_in_flight(&server, "slow_api_sync_threads", trace_path);
}

static void assert_concurrency_limit(const char *program)
{
    assert_int_equal(test_server_reset_stats(&server), 0);
    const char *args[] = { "--delays", "0.1", "--requests", "8", "--concurrency", "2",
                           "--quiet", NULL };
    struct test_process_result result = test_run_client(program, server.url, args);
    assert_int_equal(result.exit_status, 0);
    assert_int_equal(test_server_stat(&server, "/delay-me", "requests"), 8);
    assert_int_equal(test_server_stat(&server, NULL, "max_in_flight"), 2);
    test_process_result_free(&result);
}

static void overlapping_programs_respect_the_concurrency_limit(void **state)
{
    (void)state;
    assert_concurrency_limit("slow_api_async");
    assert_concurrency_limit("slow_api_async_epoll");
    assert_concurrency_limit("slow_api_sync_threads");
}

static void quiet_prints_only_the_summary(void **state)
{
    (void)state;
    const char *args[] = { "--delays", "0", "--quiet", NULL };
    struct test_process_result result = test_run_client("slow_api_sync", server.url, args);
    assert_int_equal(result.exit_status, 0);
    /* Exactly one line, and it is the summary. */
    assert_true(strncmp(result.out, "Time elapsed: ", 14) == 0);
    test_assert_one_line(result.out);
    test_process_result_free(&result);
}

static void predict_prints_the_lesson_model_without_a_server(void **state)
{
    (void)state;
    const char *sync_argv[] = { test_bin("slow_api_sync"), "--url", "http://127.0.0.1:1",
                                "--predict", NULL };
    struct test_process_result result;
    assert_int_equal(test_run(sync_argv, TEST_RUN_TIMEOUT_S, &result), 0);
    assert_int_equal(result.exit_status, 0);
    test_assert_contains(result.out, "Predicted time: 17.000 s");
    test_process_result_free(&result);

    const char *async_argv[] = { test_bin("slow_api_async"), "--url", "http://127.0.0.1:1",
                                 "--predict", NULL };
    assert_int_equal(test_run(async_argv, TEST_RUN_TIMEOUT_S, &result), 0);
    assert_int_equal(result.exit_status, 0);
    test_assert_contains(result.out, "Predicted time: 10.000 s");
    test_process_result_free(&result);
}

static void an_unreachable_server_is_exit_2_with_a_hint(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", test_closed_port());
    const char *programs[] = { "slow_api_sync", "slow_api_async" };
    for (size_t i = 0; i < 2; i++) {
        struct test_process_result result = test_run_client(programs[i], url, NULL);
        assert_int_equal(result.exit_status, 2);
        test_assert_contains(result.err, "start it with: make run-server");
        /* One line, not a stack of them. */
        test_assert_one_line(result.err);
        test_process_result_free(&result);
    }
}

static void bad_flags_are_exit_1_with_one_line(void **state)
{
    (void)state;
    const char *cases[][3] = {
        { "--delays", "abc", NULL }, { "--requests", "-2", NULL },
        { "--scale", "0", NULL },    { "--concurrency", "2", NULL },  /* sync has none */
        { "--bogus", NULL, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[] = { test_bin("slow_api_sync"), cases[i][0], cases[i][1], NULL };
        struct test_process_result result;
        assert_int_equal(test_run(argv, TEST_RUN_TIMEOUT_S, &result), 0);
        assert_int_equal(result.exit_status, 1);
        test_assert_one_line(result.err);
        test_process_result_free(&result);
    }
}

static void a_failed_request_is_exit_3(void **state)
{
    (void)state;
    /* The server refuses a delay above its --max-delay (60 s) with 400. */
    const char *args[] = { "--delays", "0.1,61", NULL };
    struct test_process_result result = test_run_client("slow_api_async", server.url, args);
    assert_int_equal(result.exit_status, 3);
    test_assert_contains(result.out, "R2: Request failed: HTTP 400");
    test_assert_contains(result.out, "R1: Request finally done!");
    test_assert_contains(result.out, "Failed: 1 of 2 requests");
    test_process_result_free(&result);
}

static void run_scenario_compares_both_programs(void **state)
{
    (void)state;
    const char *argv[] = { test_bin("run_scenario"), "--scenario", "slow_api",
                           "--scale", "0.02", NULL };
    struct test_process_result result;
    assert_int_equal(test_run(argv, TEST_RUN_TIMEOUT_S, &result), 0);
    assert_int_equal(result.exit_status, 0);
    test_assert_contains(result.out, "Started slowserver --mode async at http://127.0.0.1:");
    test_assert_contains(result.out, "/live in a browser");
    test_assert_contains(result.out, "side by side");
    /* Each program's own --predict at scale 0.02: 17 * 0.02 and 10 * 0.02. */
    test_assert_contains(result.out, "0.340 s");
    test_assert_contains(result.out, "0.200 s");
    test_assert_contains(result.out, "\nsync ");
    test_assert_contains(result.out, "\nasync ");
    test_process_result_free(&result);

    const char *unknown[] = { test_bin("run_scenario"), "--scenario", "nope", NULL };
    assert_int_equal(test_run(unknown, TEST_RUN_TIMEOUT_S, &result), 0);
    assert_int_equal(result.exit_status, 1);
    test_process_result_free(&result);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(sync_sends_one_request_at_a_time, reset_stats),
        cmocka_unit_test(async_has_all_three_in_flight),
        cmocka_unit_test(async_epoll_has_all_three_in_flight),
        cmocka_unit_test(sync_threads_has_all_three_in_flight),
        cmocka_unit_test(overlapping_programs_respect_the_concurrency_limit),
        cmocka_unit_test_setup(quiet_prints_only_the_summary, reset_stats),
        cmocka_unit_test(predict_prints_the_lesson_model_without_a_server),
        cmocka_unit_test(an_unreachable_server_is_exit_2_with_a_hint),
        cmocka_unit_test(bad_flags_are_exit_1_with_one_line),
        cmocka_unit_test_setup(a_failed_request_is_exit_3, reset_stats),
        cmocka_unit_test(run_scenario_compares_both_programs),
    };
    return cmocka_run_group_tests_name("slow_api", tests, start, stop);
}
