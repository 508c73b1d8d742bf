/*
 * Integration tests: the timeouts pair against a real slowserver.
 *
 * What is proven, and how, without trusting a stopwatch:
 *   - all six requests in flight at once: the server's max_in_flight;
 *   - one at a time: the sync trace's intervals never overlap;
 *   - every outcome reported: the programs' own lines;
 *   - cancellation (--fail-fast, --deadline, Ctrl+C) with /hang in the
 *     batch and --timeout 0: the program ends at all (/hang never would),
 *     and the server's in_flight falls back to 0;
 *   - retries: the server's count of /status requests.
 * The one time in here is a lower bound the lesson needs: a retry comes no
 * sooner than the server's Retry-After.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "clock.h"
#include "lib/launch.h"
#include "process.h"
#include "server.h"
#include "trace_intervals.h"

/* The lesson's delays shrunk ten times (T2 0.15 s, T3 0.5 s), with a
 * timeout of 4.5 lesson seconds (0.45 s): T2 beats it by 0.3 s, and T3,
 * which the server holds at least 0.5 s, can never beat it. */
#define SCALE "0.1"
#define TIMEOUT "4.5"
/* How long the server may take to notice a client hang-up. */
#define HANG_UP_WAIT_S 10.0

static struct test_server server;
static char trace_path[64];
static char output_path[64];

static int start(void **state)
{
    (void)state;
    snprintf(trace_path, sizeof trace_path, "/tmp/asynclab-timeouts-%d.json", (int)getpid());
    snprintf(output_path, sizeof output_path, "/tmp/asynclab-timeouts-%d.out", (int)getpid());
    return test_server_start(&server, "async", NULL);
}

static int stop(void **state)
{
    (void)state;
    unlink(trace_path);
    unlink(output_path);
    return test_server_stop(&server) == 0 ? 0 : -1;
}

static int reset_stats(void **state)
{
    (void)state;
    return test_server_reset_stats(&server);
}

static void sleep_briefly(void)
{
    struct timespec pause = { 0, 20 * 1000 * 1000 };
    nanosleep(&pause, NULL);
}

/* Polls /stats until path's field equals `expected`, for at most wait_s:
 * a bounded wait for something that must happen, not a timing test. */
static bool stat_becomes(const char *path, const char *field, long expected, double wait_s)
{
    return test_server_wait_stat(&server, path, field, expected, wait_s) == expected;
}

/* ------------------------------------------------------------ the batch */

/* Without --fail-fast every task's outcome is reported, whatever it was. */
static void assert_every_outcome(const char *out)
{
    test_assert_contains(out, "T1: ok 200 in ");
    test_assert_contains(out, "T2: ok 200 in ");
    test_assert_contains(out, "T3: timed out after ");
    test_assert_contains(out, "T4: timed out after ");
    test_assert_contains(out, "T5: HTTP 500 after ");
    test_assert_contains(out, "T6: HTTP 503 after ");
    test_assert_contains(out, "Outcomes: 2 ok, 4 failed, 0 cancelled, of 6 tasks");
    test_assert_contains(out, "Failed: T3 (timed out), T4 (timed out), "
                              "T5 (HTTP 500), T6 (HTTP 503)");
    test_assert_contains(out, "Time elapsed: ");
}

static void async_has_the_whole_batch_in_flight_at_once(void **state)
{
    (void)state;
    const char *args[] = { "--scale", SCALE, "--timeout", TIMEOUT, "--trace", trace_path, NULL };
    struct test_process_result result = test_run_client("timeouts_async", server.url, args);
    assert_int_equal(result.exit_status, 3);
    assert_every_outcome(result.out);
    assert_int_equal(test_server_stat(&server, NULL, "requests"), 6);
    assert_int_equal(test_server_stat(&server, NULL, "max_in_flight"), 6);
    long long intervals[6][2];
    assert_int_equal(test_trace_intervals(trace_path, NULL, intervals, 6), 6);
    assert_true(test_all_overlap(intervals, 6));
    test_assert_trace_viewable(trace_path, "timeouts_async", true);
    /* The timed-out transfers hung up: the server holds nothing. */
    assert_true(stat_becomes(NULL, "in_flight", 0, HANG_UP_WAIT_S));
    test_process_result_free(&result);
}

static void sync_reports_every_outcome_one_at_a_time(void **state)
{
    (void)state;
    const char *args[] = { "--scale", SCALE, "--timeout", TIMEOUT, "--trace", trace_path, NULL };
    struct test_process_result result = test_run_client("timeouts_sync", server.url, args);
    assert_int_equal(result.exit_status, 3);
    assert_every_outcome(result.out);
    assert_int_equal(test_server_stat(&server, NULL, "requests"), 6);
    long long intervals[6][2];
    assert_int_equal(test_trace_intervals(trace_path, NULL, intervals, 6), 6);
    assert_true(test_none_overlap(intervals, 6));
    assert_true(stat_becomes(NULL, "in_flight", 0, HANG_UP_WAIT_S));
    test_process_result_free(&result);
}

/* --fail-fast with --timeout 0: /hang would hold the batch forever, so the
 * program ending at all proves it cancelled /hang; the server seeing every
 * request go proves the transfers were really closed. */
static void async_fail_fast_cancels_what_is_still_running(void **state)
{
    (void)state;
    const char *args[] = { "--scale", SCALE, "--timeout", "0", "--fail-fast", NULL };
    struct test_process_result result = test_run_client("timeouts_async", server.url, args);
    assert_int_equal(result.exit_status, 3);
    test_assert_contains(result.out, "T1: ok 200 in ");
    test_assert_contains(result.out, "T3: cancelled (fail-fast: T");
    test_assert_contains(result.out, "T4: cancelled (fail-fast: T");
    test_assert_contains(result.out, " failed) after ");
    assert_int_equal(test_server_stat(&server, "/hang", "requests"), 1);
    assert_int_equal(test_server_stat(&server, NULL, "max_in_flight"), 6);
    assert_true(stat_becomes(NULL, "in_flight", 0, HANG_UP_WAIT_S));
    test_process_result_free(&result);
}

static void sync_fail_fast_starts_nothing_after_a_failure(void **state)
{
    (void)state;
    const char *args[] = { "--scale", SCALE, "--timeout", TIMEOUT, "--fail-fast", NULL };
    struct test_process_result result = test_run_client("timeouts_sync", server.url, args);
    assert_int_equal(result.exit_status, 3);
    test_assert_contains(result.out, "T3: timed out after ");
    test_assert_contains(result.out, "T4: cancelled (fail-fast: T3 failed) before it started");
    test_assert_contains(result.out, "T6: cancelled (fail-fast: T3 failed) before it started");
    test_assert_contains(result.out, "Outcomes: 2 ok, 1 failed, 3 cancelled, of 6 tasks");
    assert_int_equal(test_server_stat(&server, "/hang", "requests"), 0);
    assert_int_equal(test_server_stat(&server, "/status", "requests"), 0);
    test_process_result_free(&result);
}

/* --deadline 3 lesson seconds (0.3 s) and no per-request timeout: the
 * deadline alone ends the batch, in both programs. */
static void the_deadline_ends_the_batch_without_any_timeout(void **state)
{
    (void)state;
    const char *args[] = { "--scale", SCALE, "--timeout", "0", "--deadline", "3", NULL };
    struct test_process_result result = test_run_client("timeouts_async", server.url, args);
    assert_int_equal(result.exit_status, 3);
    test_assert_contains(result.out, "T3: cancelled (deadline) after ");
    test_assert_contains(result.out, "T4: cancelled (deadline) after ");
    test_assert_contains(result.out, "T5: HTTP 500 after ");
    assert_true(stat_becomes(NULL, "in_flight", 0, HANG_UP_WAIT_S));
    test_process_result_free(&result);

    /* Sync: T3 is cut at the deadline, and nothing after it starts. */
    assert_int_equal(test_server_reset_stats(&server), 0);
    result = test_run_client("timeouts_sync", server.url, args);
    assert_int_equal(result.exit_status, 3);
    test_assert_contains(result.out, "T3: cancelled (deadline) after ");
    test_assert_contains(result.out, "T4: cancelled (deadline) before it started");
    test_assert_contains(result.out, "T6: cancelled (deadline) before it started");
    assert_int_equal(test_server_stat(&server, "/hang", "requests"), 0);
    assert_true(stat_becomes(NULL, "in_flight", 0, HANG_UP_WAIT_S));
    test_process_result_free(&result);
}

/* ------------------------------------------------------------ retries */

/* The 503 is retried exactly --retries times; the 500 never is. */
/* At scale 0.05 the lesson's 2 s timeout would be 0.1 s, and a loaded
 * machine can take that long to get T6's 0.03 s reply through: the attempt
 * then times out instead of meeting the 503 this is about.  A timeout of 10
 * lesson seconds (0.5 s) leaves the attempts their margin; /hang still
 * fails (exit 3). */
#define RETRY_TIMEOUT "10"

static void a_503_is_retried_the_configured_number_of_times(void **state)
{
    (void)state;
    const char *programs[] = { "timeouts_sync", "timeouts_async" };
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(test_server_reset_stats(&server), 0);
        const char *args[] = { "--scale", "0.05", "--timeout", RETRY_TIMEOUT, "--retries", "2",
                               NULL };
        struct test_process_result result = test_run_client(programs[i], server.url, args);
        assert_int_equal(result.exit_status, 3);
        test_assert_contains(result.out, "T6: HTTP 503; retry 1 of 2 in ");
        test_assert_contains(result.out, "T6: HTTP 503; retry 2 of 2 in ");
        test_assert_contains(result.out, "T6: HTTP 503 after ");
        test_assert_contains(result.out, ", 3 attempts");
        /* T5 once, T6 three times. */
        assert_int_equal(test_server_stat(&server, "/status", "requests"), 4);
        assert_int_equal(test_server_stat(&server, "responses", "503"), 3);
        test_process_result_free(&result);

        assert_int_equal(test_server_reset_stats(&server), 0);
        const char *no_retry[] = { "--scale", "0.05", "--timeout", RETRY_TIMEOUT, NULL };
        result = test_run_client(programs[i], server.url, no_retry);
        assert_int_equal(test_server_stat(&server, "/status", "requests"), 2);
        test_process_result_free(&result);
    }
}

/* At --scale 0.5 the server says Retry-After: 1 while our own backoff
 * would wait at most 0.25 s: the gap between T6's attempts shows which won. */
static void a_retry_waits_for_the_servers_retry_after(void **state)
{
    (void)state;
    const char *args[] = { "--scale", "0.5", "--retries", "1", "--trace", trace_path, NULL };
    struct test_process_result result = test_run_client("timeouts_async", server.url, args);
    assert_int_equal(result.exit_status, 3);
    test_assert_contains(result.out, "the server said Retry-After: 1");
    /* T6's attempts, in attempt order. */
    long long attempts[2][2];
    assert_int_equal(test_trace_intervals(trace_path, "T6 ", attempts, 2), 2);
    long long gap_us = attempts[1][0] - attempts[0][1];
    assert_true(gap_us >= 1000000);
    test_process_result_free(&result);
}

/* The jitter is seeded: the same seed prints the same waits. */
static void the_same_seed_gives_the_same_backoff(void **state)
{
    (void)state;
    const char *args[] = { "--scale", "0.05", "--timeout", RETRY_TIMEOUT, "--retries", "2",
                           "--seed", "7", NULL };
    const char *predict[] = { test_bin("timeouts_async"), "--scale", "0.05", "--retries", "2",
                              "--seed", "7", "--predict", NULL };
    struct test_process_result first, second;
    assert_int_equal(test_run(predict, TEST_RUN_TIMEOUT_S, &first), 0);
    assert_int_equal(test_run(predict, TEST_RUN_TIMEOUT_S, &second), 0);
    assert_string_equal(first.out, second.out);
    test_process_result_free(&first);
    test_process_result_free(&second);

    first = test_run_client("timeouts_sync", server.url, args);
    second = test_run_client("timeouts_async", server.url, args);
    const char *line_1 = strstr(first.out, "T6: HTTP 503; retry 1");
    const char *line_2 = strstr(second.out, "T6: HTTP 503; retry 1");
    assert_non_null(line_1);
    assert_non_null(line_2);
    assert_memory_equal(line_1, line_2, (size_t)(strchr(line_1, '\n') - line_1));
    test_process_result_free(&first);
    test_process_result_free(&second);
}

/* "retry 1 of 1 in X s" from T6's line: the backoff the run drew. */
static double first_backoff(const char *out)
{
    const char *line = strstr(out, "T6: HTTP 503; retry 1 of 1 in ");
    double wait = -1;
    if (line == NULL || sscanf(line, "T6: HTTP 503; retry 1 of 1 in %lf s", &wait) != 1)
        fail_msg("no parsable T6 retry line in:\n%s", out);
    return wait;
}

/* And --seed is not ignored: another seed draws other waits.  At scale 0.4
 * the server's Retry-After rounds to 0, so the wait is the jitter alone:
 * from 0.1 to 0.2 s, printed to the hundredth; seeds 7 and 8 draw 0.14 and
 * 0.11.  No --deadline: one that ended the run soon after T6's first
 * reply was due cut that reply off on a loaded machine; the timeout (0.8 s)
 * ends /hang instead. */
static void another_seed_gives_another_backoff(void **state)
{
    (void)state;
    const char *seed_7[] = { "--scale", "0.4", "--retries", "1", "--seed", "7", NULL };
    const char *seed_8[] = { "--scale", "0.4", "--retries", "1", "--seed", "8", NULL };
    struct test_process_result first = test_run_client("timeouts_async", server.url, seed_7);
    struct test_process_result second = test_run_client("timeouts_async", server.url, seed_8);
    double wait_7 = first_backoff(first.out), wait_8 = first_backoff(second.out);
    assert_true(wait_7 >= 0.1 && wait_7 <= 0.2 && wait_8 >= 0.1 && wait_8 <= 0.2);
    if (wait_7 == wait_8)
        fail_msg("--seed 7 and --seed 8 both waited %.2f s: is --seed ignored?", wait_7);
    test_process_result_free(&first);
    test_process_result_free(&second);

    /* --predict draws from the same numbers: over eight seeds, more than
     * one predicted time (the third retry's jitter shows at scale 1). */
    char outputs[8][160];
    int distinct = 0;
    for (int seed = 1; seed <= 8; seed++) {
        char seed_text[8];
        snprintf(seed_text, sizeof seed_text, "%d", seed);
        const char *predict[] = { test_bin("timeouts_sync"), "--retries", "3", "--seed",
                                  seed_text, "--predict", NULL };
        struct test_process_result result;
        assert_int_equal(test_run(predict, TEST_RUN_TIMEOUT_S, &result), 0);
        snprintf(outputs[seed - 1], sizeof outputs[seed - 1], "%s", result.out);
        test_process_result_free(&result);
        bool seen = false;
        for (int other = 0; other < seed - 1; other++)
            seen = seen || strcmp(outputs[other], outputs[seed - 1]) == 0;
        distinct += !seen;
    }
    assert_true(distinct > 1);
}

/* ------------------------------------------------------------ Ctrl+C */

/* Starts a program with its stdout in output_path; returns its pid. */
static pid_t spawn_client(const char *program, const char *const *extra)
{
    const char *argv[24] = { test_bin(program), "--url", server.url };
    int argc = 3;
    for (; extra != NULL && *extra != NULL && argc < 23; extra++)
        argv[argc++] = *extra;
    argv[argc] = NULL;
    int output = open(output_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(output >= 0);
    pid_t pid = launch_start("test_timeouts", (char *const *)argv, output);  /* dies with us */
    close(output);
    assert_true(pid > 0);
    return pid;
}

/* Waits at most wait_s for the program's exit; kills it if it is late. */
static int wait_for_exit(pid_t pid, double wait_s)
{
    double give_up = clock_now() + wait_s;
    int status;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (clock_now() > give_up) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("the program did not end within %.0f s", wait_s);
        }
        sleep_briefly();
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *read_output(void)
{
    FILE *file = fopen(output_path, "r");
    assert_non_null(file);
    static char text[16384];
    size_t length = fread(text, 1, sizeof text - 1, file);
    text[length] = '\0';
    fclose(file);
    return text;
}

/* With --timeout 0, /hang holds the batch for ever: Ctrl+C is the only way
 * out.  It must end the program with a partial summary and hang up. */
static void ctrl_c_ends_a_hanging_batch_cleanly(void **state)
{
    (void)state;
    const char *programs[] = { "timeouts_async", "timeouts_sync" };
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(test_server_reset_stats(&server), 0);
        const char *args[] = { "--scale", SCALE, "--timeout", "0", NULL };
        pid_t pid = spawn_client(programs[i], args);
        /* Wait until the program is stuck on /hang, then press Ctrl+C. */
        if (!stat_becomes("/hang", "in_flight", 1, TEST_RUN_TIMEOUT_S)) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fail_msg("%s never reached /hang", programs[i]);
        }
        assert_int_equal(kill(pid, SIGINT), 0);
        assert_int_equal(wait_for_exit(pid, TEST_RUN_TIMEOUT_S), 130);

        const char *out = read_output();
        test_assert_contains(out, "T4: cancelled (Ctrl+C) after ");
        test_assert_contains(out, "Interrupted by Ctrl+C: this summary is partial");
        test_assert_contains(out, "Outcomes: ");
        test_assert_contains(out, "Time elapsed: ");
        if (i == 1) {  /* sync: what came after /hang never started */
            test_assert_contains(out, "T5: cancelled (Ctrl+C) before it started");
            assert_int_equal(test_server_stat(&server, "/status", "requests"), 0);
        }
        assert_true(stat_becomes("/hang", "in_flight", 0, HANG_UP_WAIT_S));
        assert_true(stat_becomes(NULL, "in_flight", 0, HANG_UP_WAIT_S));
    }
}

/* ------------------------------------------------------------ the command line */

static void predict_prints_the_lesson_model_without_a_server(void **state)
{
    (void)state;
    struct {
        const char *program;
        const char *flags[4];
        const char *expected;
    } cases[] = {
        /* 0.2 + 1.5 + 2 + 2 + 0.4 + 0.6, and the longest bounded wait. */
        { "timeouts_sync", { NULL }, "Predicted time: 6.700 s" },
        { "timeouts_async", { NULL }, "Predicted time: 2.000 s" },
        { "timeouts_async", { "--fail-fast", NULL }, "Predicted time: 0.400 s" },
        { "timeouts_sync", { "--deadline", "1.5", NULL }, "Predicted time: 1.500 s" },
        { "timeouts_async", { "--timeout", "0", NULL }, "Predicted time: never" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[10] = { test_bin(cases[i].program), "--url", "http://127.0.0.1:1",
                                 "--predict" };
        int argc = 4;
        for (const char *const *flag = cases[i].flags; *flag != NULL; flag++)
            argv[argc++] = *flag;
        argv[argc] = NULL;
        struct test_process_result result;
        assert_int_equal(test_run(argv, TEST_RUN_TIMEOUT_S, &result), 0);
        assert_int_equal(result.exit_status, 0);
        test_assert_contains(result.out, cases[i].expected);
        test_assert_one_line(result.out);
        test_process_result_free(&result);
    }
}

static void bad_flags_are_exit_1_with_one_line(void **state)
{
    (void)state;
    const char *cases[][3] = {
        { "--timeout", "-1", NULL },    { "--timeout", "abc", NULL },
        { "--deadline", "1e9", NULL },  { "--retries", "11", NULL },
        { "--retries", "1.5", NULL },   { "--seed", "-1", NULL },
        { "--fail-fast=yes", NULL, NULL }, { "--concurrency", "2", NULL },
        { "--timeout", NULL, NULL },
    };
    const char *programs[] = { "timeouts_sync", "timeouts_async" };
    for (size_t p = 0; p < 2; p++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            const char *argv[] = { test_bin(programs[p]), cases[i][0], cases[i][1], NULL };
            struct test_process_result result;
            assert_int_equal(test_run(argv, TEST_RUN_TIMEOUT_S, &result), 0);
            assert_int_equal(result.exit_status, 1);
            test_assert_one_line(result.err);
            test_process_result_free(&result);
        }
    }
}

static void an_unreachable_server_is_exit_2_with_a_hint(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", test_closed_port());
    const char *programs[] = { "timeouts_sync", "timeouts_async" };
    for (size_t i = 0; i < 2; i++) {
        struct test_process_result result = test_run_client(programs[i], url, NULL);
        assert_int_equal(result.exit_status, 2);
        test_assert_contains(result.err, "start it with: make run-server");
        test_process_result_free(&result);
    }
}

/* The batch fails partly by design (both programs exit 3): the side-by-side
 * is printed and run_scenario, knowing that, reports success. */
static void run_scenario_compares_a_batch_that_fails_by_design(void **state)
{
    (void)state;
    const char *argv[] = { test_bin("run_scenario"), "--scenario", "timeouts",
                           "--scale", "0.05", NULL };
    struct test_process_result result;
    assert_int_equal(test_run(argv, TEST_RUN_TIMEOUT_S, &result), 0);
    assert_int_equal(result.exit_status, 0);
    test_assert_contains(result.out, "side by side");
    test_assert_contains(result.out, "expected result");
    /* Each program's own --predict at scale 0.05: 6.7 * 0.05 and 2 * 0.05. */
    test_assert_contains(result.out, "0.335 s");
    test_assert_contains(result.out, "0.100 s");
    test_assert_contains(result.out, "\nsync ");
    test_assert_contains(result.out, "\nasync ");
    test_process_result_free(&result);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(async_has_the_whole_batch_in_flight_at_once, reset_stats),
        cmocka_unit_test_setup(sync_reports_every_outcome_one_at_a_time, reset_stats),
        cmocka_unit_test_setup(async_fail_fast_cancels_what_is_still_running, reset_stats),
        cmocka_unit_test_setup(sync_fail_fast_starts_nothing_after_a_failure, reset_stats),
        cmocka_unit_test_setup(the_deadline_ends_the_batch_without_any_timeout, reset_stats),
        cmocka_unit_test(a_503_is_retried_the_configured_number_of_times),
        cmocka_unit_test_setup(a_retry_waits_for_the_servers_retry_after, reset_stats),
        cmocka_unit_test(the_same_seed_gives_the_same_backoff),
        cmocka_unit_test(another_seed_gives_another_backoff),
        cmocka_unit_test(ctrl_c_ends_a_hanging_batch_cleanly),
        cmocka_unit_test(predict_prints_the_lesson_model_without_a_server),
        cmocka_unit_test(bad_flags_are_exit_1_with_one_line),
        cmocka_unit_test(an_unreachable_server_is_exit_2_with_a_hint),
        cmocka_unit_test(run_scenario_compares_a_batch_that_fails_by_design),
    };
    return cmocka_run_group_tests_name("timeouts", tests, start, stop);
}
