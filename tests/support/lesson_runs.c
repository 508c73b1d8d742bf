/* lesson_runs.c - the slow-API lesson's structural proofs; see lesson_runs.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lesson_runs.h"

#include "checks.h"
#include "process.h"
#include "trace_intervals.h"

void test_assert_lesson_replies(const char *out)
{
    test_assert_contains(out, "R1: Requesting '");
    test_assert_contains(out, "/delay-me?seconds=0.5'");
    test_assert_contains(out, "R1: Request finally done! "
                              "Server replied 'Done, I waited for 0.5 secs'");
    test_assert_contains(out, "R2: Request finally done! "
                              "Server replied 'Done, I waited for 0.1 secs'");
    test_assert_contains(out, "R3: Request finally done! "
                              "Server replied 'Done, I waited for 0.25 secs'");
    test_assert_contains(out, "Time elapsed: ");
}

/* Runs the lesson's three requests; returns the trace's three intervals. */
static void run_lesson(const struct test_server *server, const char *program,
                       const char *trace_path, long expected_in_flight,
                       long long (*intervals)[2], struct test_process_result *result)
{
    assert_int_equal(test_server_reset_stats(server), 0);
    const char *args[] = { "--scale", LESSON_RUNS_SCALE, "--trace", trace_path, NULL };
    *result = test_run_client(program, server->url, args);
    assert_int_equal(result->exit_status, 0);
    test_assert_lesson_replies(result->out);
    assert_int_equal(test_server_stat(server, "/delay-me", "requests"), 3);
    assert_int_equal(test_server_stat(server, NULL, "max_in_flight"), expected_in_flight);
    assert_int_equal(test_trace_intervals(trace_path, NULL, intervals, 3), 3);
}

void test_assert_one_at_a_time(const struct test_server *server, const char *program,
                               const char *trace_path)
{
    long long intervals[3][2];
    struct test_process_result result;
    run_lesson(server, program, trace_path, 1, intervals, &result);
    assert_true(test_none_overlap(intervals, 3));
    test_process_result_free(&result);
}

void test_assert_all_three_in_flight(const struct test_server *server, const char *program,
                                     const char *trace_path)
{
    long long intervals[3][2];
    struct test_process_result result;
    /* The overlap, as the server counted it (all three held at once) and as
     * the program recorded its own work (every window overlaps every
     * other).  Not the order of the replies' lines: R2 (0.1 s) printing
     * before R1 (0.5 s) is a race a loaded machine loses when the loop is
     * starved long enough to find both replies in one wake-up. */
    run_lesson(server, program, trace_path, 3, intervals, &result);
    assert_true(test_all_overlap(intervals, 3));
    test_process_result_free(&result);
}
