/*
 * timeouts.c - grading the timeouts lab.
 *
 * The timeouts lab: the lesson's batch of six (a fast reply, a slow one, one
 * slower than its timeout, /hang, a 500, a 503) all at once, each attempt
 * bounded by --timeout, the batch by --deadline.  The seed draws the scale
 * and the timeout, and so which tasks succeed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading.h"
#include "seed.h"
#include "server_stats.h"

enum {
    TO_OUTCOMES, TO_SUMMARY, TO_EXIT, TO_ALL_IN_FLIGHT, TO_DEADLINE, TO_ON_TIME, TO_SLEEPS,
    TO_SERVER_DOWN, TO_BAD_FLAG, TO_FAIL_FAST, TO_VALGRIND,
};

static const struct rubric_check TIMEOUTS_CHECKS[] = {
    [TO_OUTCOMES] = { "correctness", 25,
        "every task's outcome printed once and right for the seed's --timeout (ok, timed out, "
        "HTTP 500, HTTP 503)" },
    [TO_SUMMARY] = { "correctness", 5, "the summary counts them: ok, failed, 0 cancelled" },
    [TO_EXIT] = { "correctness", 5, "exit 3: the batch failed partly, and says so" },
    [TO_ALL_IN_FLIGHT] = { "concurrency", 20,
        "all six requests at the server at once (slowserver's /stats max_in_flight)" },
    [TO_DEADLINE] = { "concurrency", 10,
        "--timeout 0 --deadline 1: T1, T5, T6 end, T2-T4 cancelled (deadline), on time" },
    [TO_ON_TIME] = { "efficiency", 10,
        "the batch ends within 1.25x of --predict (+0.5 s): the longest allowed wait, not the sum" },
    [TO_SLEEPS] = { "efficiency", 5,
        "it sleeps while it waits: with --timeout 0.8, at most twice the CPU of the lesson's "
        "async.c (+0.05 s)" },
    [TO_SERVER_DOWN] = { "robustness", 3, "no server at --url: exit 2" },
    [TO_BAD_FLAG] = { "robustness", 2, "--timeout x: exit 1" },
    [TO_FAIL_FAST] = { "robustness", 5,
        "--fail-fast --timeout 0: ends at the first failure (T5's 500), the rest cancelled" },
    [TO_VALGRIND] = { "memory", 10, "valgrind: no memory errors, nothing leaked" },
};

#define TO_TASKS 6

/* The line each task must end with, for a per-attempt timeout (lesson s). */
static void timeouts_expected(long timeout, const char *want[TO_TASKS])
{
    want[0] = "ok 200";
    want[1] = timeout > 1.5 ? "ok 200" : "timed out";
    want[2] = "timed out";
    want[3] = "timed out";
    want[4] = "HTTP 500";
    want[5] = "HTTP 503";
}

/* True if every task ends with its line exactly once; else why not. */
static bool task_lines_right(const char *out, const char *const want[TO_TASKS], char *why,
                             size_t size)
{
    for (int i = 0; i < TO_TASKS; i++) {
        char line[64];
        snprintf(line, sizeof line, "\nT%d: %s", i + 1, want[i]);
        const char *first = strstr(out, line);
        if (first == NULL || strstr(first + 1, line) != NULL) {
            snprintf(why, size, first ? "T%d's outcome printed more than once"
                                      : "no line \"T%d: %s ...\"", i + 1, want[i]);
            return false;
        }
    }
    snprintf(why, size, "all six outcomes right");
    return true;
}

static void timeouts_run_checks(struct grading *grading, const char *url, const char *scale,
                                long timeout)
{
    struct grade_sheet *sheet = &grading->sheet;
    char timeout_text[16];
    snprintf(timeout_text, sizeof timeout_text, "%ld", timeout);
    const char *want[TO_TASKS];
    timeouts_expected(timeout, want);
    int ok = 0;
    for (int i = 0; i < TO_TASKS; i++)
        ok += strcmp(want[i], "ok 200") == 0;

    struct launch_result result;
    const char *args[] = { "--scale", scale, "--timeout", timeout_text, NULL };
    server_stats_reset(url);
    run_submission(grading, url, args, 2.0 * (double)timeout * atof(scale) + 2.0, NULL, &result);
    long in_flight = server_stats_total(url, "max_in_flight");
    char why[200], end[64], summary[96];
    describe_end(&result, end, sizeof end);
    bool lines_right = task_lines_right(result.out, want, why, sizeof why) && !result.killed;
    grade_check(sheet, TO_OUTCOMES, lines_right, "--scale %s --timeout %ld: %s%s%s", scale,
                timeout, result.killed ? end : why, result.killed ? "; " : "",
                result.killed ? why : "");
    snprintf(summary, sizeof summary, "Outcomes: %d ok, %d failed, 0 cancelled, of 6 tasks", ok,
             TO_TASKS - ok);
    grade_check(sheet, TO_SUMMARY, strstr(result.out, summary) != NULL, "%s\"%s\"",
                strstr(result.out, summary) ? "" : "no line ", summary);
    grade_check(sheet, TO_EXIT, result.status == 3, "%s%s", end,
                result.status == 3 ? "" : ", not exit 3");
    grade_check(sheet, TO_ALL_IN_FLIGHT, in_flight >= TO_TASKS,
                "the server held %ld of the six at once%s", in_flight < 0 ? 0 : in_flight,
                in_flight >= TO_TASKS ? "" : ": they were not all in flight together");
    double predicted = lesson_prediction("timeouts_async", args);
    if (!lines_right)
        grade_check(sheet, TO_ON_TIME, false, "not timed: the outcomes were not right");
    else
        grade_check(sheet, TO_ON_TIME, result.wall_s <= allowed_time(predicted),
                    "took %.2f s (predicted %.2f, allowed %.2f)", result.wall_s, predicted,
                    allowed_time(predicted));
    launch_result_free(&result);
}

/* The limits the loop keeps itself, and bad set-ups. */
static void timeouts_limit_checks(struct grading *grading, const char *url, const char *scale)
{
    struct grade_sheet *sheet = &grading->sheet;
    struct launch_result result;
    char end[64], why[200];
    double s = atof(scale);

    /* The deadline: 1 lesson second with nothing else to bound /hang. */
    const char *deadline[] = { "--scale", scale, "--timeout", "0", "--deadline", "1", NULL };
    run_submission(grading, url, deadline, s + 1.0, NULL, &result);
    describe_end(&result, end, sizeof end);
    const char *cut[TO_TASKS] = { "ok 200", "cancelled (deadline)", "cancelled (deadline)",
                                  "cancelled (deadline)", "HTTP 500", "HTTP 503" };
    bool cut_right = !result.killed && task_lines_right(result.out, cut, why, sizeof why)
                  && result.wall_s <= s + PREDICT_ALLOWANCE_S;
    grade_check(sheet, TO_DEADLINE, cut_right, "%s; ended after %.2f s (deadline %.2f s)%s%s",
                result.killed ? end : why, result.wall_s, s,
                !result.killed && result.wall_s > s + PREDICT_ALLOWANCE_S ? ": too late" : "",
                result.killed ? ": the deadline must bound every wait" : "");
    launch_result_free(&result);

    const char *fail_fast[] = { "--scale", scale, "--timeout", "0", "--fail-fast", NULL };
    run_submission(grading, url, fail_fast, 0.4 * s + 1.0, NULL, &result);
    describe_end(&result, end, sizeof end);
    const char *first_failure = strstr(result.out, "\nT5: HTTP 500");
    bool stopped = !result.killed && result.status == 3 && first_failure != NULL
                && strstr(result.out, "cancelled (fail-fast") != NULL;
    grade_check(sheet, TO_FAIL_FAST, stopped, "--fail-fast --timeout 0: %s%s", end,
                stopped ? ", the rest cancelled at T5's 500"
                : result.killed ? ": it waited on /hang instead of cancelling"
                                : ", without T5's 500 and the rest cancelled (fail-fast)");
    launch_result_free(&result);

    const char *plain[] = { "--scale", scale, NULL };
    grade_server_down(grading, TO_SERVER_DOWN, plain);
    const char *bad[] = { "--timeout", "x", NULL };
    grade_exit_status(grading, TO_BAD_FLAG, "http://127.0.0.1:1", bad, 1, "--timeout x");
}

/* --timeout 0.8 at the lesson's scale: 0.8 s with nothing to do but wait. */
static void timeouts_sleeping(struct grading *grading, const char *url)
{
    struct grade_sheet *sheet = &grading->sheet;
    if (sheet->results[TO_OUTCOMES].outcome != CHECK_PASSED) {
        grade_check(sheet, TO_SLEEPS, false, "not measured: the outcomes were not right");
        return;
    }
    char lesson[PATH_MAX + 64];
    snprintf(lesson, sizeof lesson, "%s/timeouts_async", grade_bin_dir);
    const char *argv[] = { lesson, "--url", url, "--timeout", "0.8", "--quiet", NULL };
    const char *args[] = { "--timeout", "0.8", "--quiet", NULL };
    struct launch_result yardstick, result;
    launch_run_bounded(GRADE_PROGRAM, (char *const *)argv, 30.0, NULL, &yardstick);
    run_submission(grading, url, args, 1.0, NULL, &result);
    double allowed = IDLE_CPU_RATIO * yardstick.cpu_s + IDLE_CPU_ALLOWANCE_S;
    char end[64];
    describe_end(&result, end, sizeof end);
    if (result.killed || result.status != 3)
        grade_check(sheet, TO_SLEEPS, false, "--timeout 0.8: %s, not exit 3", end);
    else
        grade_check(sheet, TO_SLEEPS, result.cpu_s <= allowed, "--timeout 0.8: used %.3f s of "
                    "CPU (the lesson's async.c %.3f s, allowed %.3f)%s", result.cpu_s,
                    yardstick.cpu_s, allowed, result.cpu_s <= allowed ? ""
                    : ": it spins instead of sleeping in curl_multi_poll");
    launch_result_free(&yardstick);
    launch_result_free(&result);
}

static void grade_timeouts(struct grading *grading)
{
    struct seed draw = seed_start(grading->seed);
    char scale[16];
    snprintf(scale, sizeof scale, "%g", seed_step(&draw, 0.15, 0.3, 0.05));
    long timeout = seed_between(&draw, 1, 4);
    grading->work = json_pack("{s:s, s:i}", "scale", scale, "timeout", (int)timeout);
    const char *url = server_pool_url(&grading->servers, "async", true);
    if (url == NULL) {
        grade_fail_rest(&grading->sheet, "the grader could not start slowserver");
        return;
    }
    timeouts_run_checks(grading, url, scale, timeout);
    timeouts_limit_checks(grading, url, scale);
    timeouts_sleeping(grading, url);
    const char *small[] = { "--scale", "0.05", "--deadline", "0.5", "--quiet", NULL };
    grade_memory(grading, TO_VALGRIND, url, small);
}

const struct lab TIMEOUTS_LAB = {
    "timeouts", "async.c", true, TIMEOUTS_CHECKS,
    sizeof TIMEOUTS_CHECKS / sizeof TIMEOUTS_CHECKS[0], grade_timeouts,
};
