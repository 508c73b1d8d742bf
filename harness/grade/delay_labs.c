/*
 * delay_labs.c - grading the slow_api and blocking_pitfall labs.
 *
 * slow_api and blocking_pitfall: requests to /delay-me, one reply line each.
 * Both are graded on two runs of seeded work; what differs is what run 2
 * proves (the --concurrency limit, or a heartbeat that stays on time).
 */
#include <stdio.h>
#include <string.h>

#include "grading.h"
#include "predict.h"
#include "seed.h"
#include "server_stats.h"

enum {
    DELAY_REPLIES_RUN1, DELAY_REPLIES_RUN2, DELAY_EXIT_OK,
    DELAY_ALL_IN_FLIGHT, DELAY_RUN2_CONCURRENCY,
    DELAY_ON_TIME, DELAY_SLEEPS,
    DELAY_SERVER_DOWN, DELAY_BAD_FLAG, DELAY_SERVER_DIES,
    DELAY_VALGRIND,
};

#define SHARED_CHECKS(bad_flag) \
    [DELAY_EXIT_OK] = { "correctness", 5, "both runs exit 0" }, \
    [DELAY_ALL_IN_FLIGHT] = { "concurrency", 15, \
        "run 1: all N requests in flight at once (slowserver's /stats max_in_flight)" }, \
    [DELAY_ON_TIME] = { "efficiency", 10, \
        "both runs end within 1.25x of --predict (+0.5 s to start); needs correct replies" }, \
    [DELAY_SLEEPS] = { "efficiency", 5, \
        "it sleeps while it waits: while one 0.8 s request waits, at most twice the CPU the " \
        "lesson's async.c uses (+0.05 s)" }, \
    [DELAY_SERVER_DOWN] = { "robustness", 3, "no server at --url: exit 2" }, \
    [DELAY_BAD_FLAG] = { "robustness", 2, bad_flag ": exit 1" }, \
    [DELAY_SERVER_DIES] = { "robustness", 5, \
        "the server dies mid-run: the program still ends, within 3 s, with exit 3" }, \
    [DELAY_VALGRIND] = { "memory", 10, \
        "valgrind: no memory errors, nothing leaked (every handle cleaned up)" }

static const struct rubric_check SLOW_API_CHECKS[] = {
    [DELAY_REPLIES_RUN1] = { "correctness", 15,
        "run 1 (no --concurrency): every request's reply printed once, with the server's text" },
    [DELAY_REPLIES_RUN2] = { "correctness", 15, "run 2 (--concurrency C): the same" },
    [DELAY_RUN2_CONCURRENCY] = { "concurrency", 15,
        "run 2: exactly C requests in flight at most: the limit reached, never passed" },
    SHARED_CHECKS("--concurrency 0"),
};

static const struct rubric_check BLOCKING_PITFALL_CHECKS[] = {
    [DELAY_REPLIES_RUN1] = { "correctness", 15,
        "run 1: every request's reply printed once, with the server's text" },
    [DELAY_REPLIES_RUN2] = { "correctness", 15, "run 2 (twice as many requests): the same" },
    [DELAY_RUN2_CONCURRENCY] = { "concurrency", 15,
        "the heartbeat stays on time: worst lag under 0.25 s in both runs (the loop never blocks)" },
    SHARED_CHECKS("--delays x"),
};

/* What one run sends: N delays, and (slow_api's run 2) a limit C. */
struct delay_run {
    int count;
    double delays[24];
    long concurrency;          /* 0: no --concurrency */
    char delay_list[256];      /* "0.35,0.5,..." for --delays */
    char concurrency_text[16];
    const char *name;          /* "run 1" */
};

/* The lab's specifics. */
struct delay_lab {
    bool limits_run2;          /* run 2 is run 1 with --concurrency C */
    bool has_heartbeat;        /* the program prints "Worst heartbeat lag: X s" */
    const char *bad_flag[3];
    const char *memcheck_args[6];
};

static const struct delay_lab SLOW_API = {
    true, false, { "--concurrency", "0", NULL },
    { "--delays", "0.1,0.2,0.1", "--concurrency", "2", "--quiet", NULL },
};
static const struct delay_lab BLOCKING_PITFALL = {
    false, true, { "--delays", "x", NULL },
    { "--delays", "0.1,0.2,0.1", "--quiet", NULL },
};

/* The heartbeat may run this late at most; a blocked loop makes it wait a
 * whole request (up to 0.6 s and more below). */
#define HEARTBEAT_LAG_MAX_S 0.25

static void draw_delays(struct seed *draw, struct delay_run *run, int count, double low,
                        double high)
{
    run->count = count;
    size_t used = 0;
    for (int i = 0; i < count; i++) {
        run->delays[i] = seed_step(draw, low, high, 0.05);
        used += (size_t)snprintf(run->delay_list + used, sizeof run->delay_list - used,
                                 "%s%g", i ? "," : "", run->delays[i]);
    }
}

/* The seed's problem.  Run 1: 5 to 8 requests of 0.3 to 0.6 s, short
 * enough to grade fast and long enough that one-at-a-time (at least 1.5 s)
 * can never pass for all-at-once (at most 1.25 s).  Run 2: the same with a
 * limit C (slow_api), or 6 to 10 other requests of 0.4 to 0.7 s, long enough
 * that a blocked loop's heartbeat is late by far more than a busy machine's. */
static void draw_work(unsigned long seed, const struct delay_lab *lab, struct delay_run runs[2])
{
    struct seed draw = seed_start(seed);
    memset(runs, 0, 2 * sizeof runs[0]);
    runs[0].name = "run 1";
    runs[1].name = "run 2";
    draw_delays(&draw, &runs[0], (int)seed_between(&draw, 5, 8), 0.3, 0.6);
    if (lab->limits_run2) {
        struct delay_run *limited = &runs[1];
        memcpy(limited->delays, runs[0].delays, sizeof limited->delays);
        memcpy(limited->delay_list, runs[0].delay_list, sizeof limited->delay_list);
        limited->count = runs[0].count;
        limited->concurrency = seed_between(&draw, 2, runs[0].count / 2);
        snprintf(limited->concurrency_text, sizeof limited->concurrency_text, "%ld",
                 limited->concurrency);
    } else {
        draw_delays(&draw, &runs[1], (int)seed_between(&draw, 6, 10), 0.4, 0.7);
    }
}

/* Every request's reply line, exactly once, with the text the server sends. */
static bool replies_right(const struct delay_run *run, const struct launch_result *result,
                          char *why, size_t size)
{
    for (int i = 0; i < run->count; i++) {
        char want[160];
        snprintf(want, sizeof want, "R%d: Request finally done! Server replied "
                 "'Done, I waited for %g secs'\n", i + 1, run->delays[i]);
        const char *first = strstr(result->out, want);
        if (first == NULL) {
            want[strlen(want) - 1] = '\0';
            snprintf(why, size, "no line \"%s\"", want);
            return false;
        }
        if (strstr(first + 1, want) != NULL) {
            snprintf(why, size, "R%d's reply printed more than once", i + 1);
            return false;
        }
    }
    snprintf(why, size, "all %d replies printed once, with the server's text", run->count);
    return true;
}

/* Runs the submission on one run's work and reads the server's
 * max_in_flight for /delay-me afterwards (0 if none reached it). */
static long run_delays(struct grading *grading, const char *url, const struct delay_run *run,
                       struct launch_result *result)
{
    double serial = 0;
    for (int i = 0; i < run->count; i++)
        serial += run->delays[i];
    server_stats_reset(url);
    const char *args[] = { "--delays", run->delay_list,
                           run->concurrency ? "--concurrency" : NULL, run->concurrency_text,
                           NULL };
    run_submission(grading, url, args, 2.0 * serial, NULL, result);
    long most = server_stats_path(url, "/delay-me", "max_in_flight");
    return most > 0 ? most : 0;
}

static void grade_replies(struct grading *grading, size_t check, const struct delay_run *run,
                          const struct launch_result *result)
{
    char why[256], end[64];
    describe_end(result, end, sizeof end);
    bool right = replies_right(run, result, why, sizeof why);
    if (result->killed || result->status > 128)
        grade_check(&grading->sheet, check, false, "%s: %s; %s", run->name, end, why);
    else
        grade_check(&grading->sheet, check, right, "%s: %s", run->name, why);
}

/* The last "Worst heartbeat lag: X s" the program printed; -1 if none. */
static double heartbeat_lag(const char *out)
{
    const char *label = "Worst heartbeat lag: ", *found = NULL;
    for (const char *at = strstr(out, label); at != NULL; at = strstr(at + 1, label))
        found = at;
    double lag;
    return found && sscanf(found + strlen(label), "%lf", &lag) == 1 ? lag : -1.0;
}

static void grade_run2_concurrency(struct grading *grading, const struct delay_lab *lab,
                                   const struct delay_run runs[2],
                                   const struct launch_result results[2], long run2_in_flight)
{
    struct grade_sheet *sheet = &grading->sheet;
    if (lab->limits_run2) {
        long limit = runs[1].concurrency;
        grade_check(sheet, DELAY_RUN2_CONCURRENCY, run2_in_flight == limit,
                    "run 2 (--concurrency %ld): the server held %ld at once%s", limit,
                    run2_in_flight, run2_in_flight > limit ? ": the limit was ignored"
                    : run2_in_flight < limit ? ": the limit was never reached" : "");
        return;
    }
    double lags[2] = { heartbeat_lag(results[0].out), heartbeat_lag(results[1].out) };
    bool on_time = lags[0] >= 0 && lags[1] >= 0 && lags[0] < HEARTBEAT_LAG_MAX_S
                && lags[1] < HEARTBEAT_LAG_MAX_S;
    if (lags[0] < 0 || lags[1] < 0)
        grade_check(sheet, DELAY_RUN2_CONCURRENCY, false,
                    "no \"Worst heartbeat lag\" line: did the program finish?");
    else
        grade_check(sheet, DELAY_RUN2_CONCURRENCY, on_time,
                    "worst heartbeat lag %.3f s in run 1, %.3f s in run 2%s", lags[0], lags[1],
                    on_time ? "" : ": something blocks the event loop");
}

static void grade_efficiency(struct grading *grading, const struct delay_run runs[2],
                             const struct launch_result results[2])
{
    struct grade_sheet *sheet = &grading->sheet;
    if (sheet->results[DELAY_REPLIES_RUN1].outcome != CHECK_PASSED
        || sheet->results[DELAY_REPLIES_RUN2].outcome != CHECK_PASSED) {
        grade_check(sheet, DELAY_ON_TIME, false, "not timed: the replies were not right");
        return;
    }
    double predicted[2];
    bool on_time = true;
    for (int i = 0; i < 2; i++) {
        predicted[i] = predict_makespan(runs[i].delays, (size_t)runs[i].count,
                                        runs[i].concurrency);
        on_time = on_time && results[i].wall_s <= allowed_time(predicted[i]);
    }
    grade_check(sheet, DELAY_ON_TIME, on_time,
                "run 1 took %.2f s (predicted %.2f, allowed %.2f), run 2 %.2f s "
                "(predicted %.2f, allowed %.2f)", results[0].wall_s, predicted[0],
                allowed_time(predicted[0]), results[1].wall_s, predicted[1],
                allowed_time(predicted[1]));

}


static void grade_sleeping(struct grading *grading, const char *url)
{
    struct grade_sheet *sheet = &grading->sheet;
    if (sheet->results[DELAY_REPLIES_RUN1].outcome != CHECK_PASSED) {
        grade_check(sheet, DELAY_SLEEPS, false, "not measured: the replies were not right");
        return;
    }
    const char *args[] = { "--delays", IDLE_DELAY, "--quiet", NULL };
    char lesson[PATH_MAX + 64];
    snprintf(lesson, sizeof lesson, "%s/%s_async", grade_bin_dir, grading->lab->name);
    const char *argv[] = { lesson, "--url", url, "--delays", IDLE_DELAY, "--quiet", NULL };
    struct launch_result yardstick, result;
    launch_run_bounded(GRADE_PROGRAM, (char *const *)argv, 30.0, NULL, &yardstick);
    run_submission(grading, url, args, 30.0, NULL, &result);
    double allowed = IDLE_CPU_RATIO * yardstick.cpu_s + IDLE_CPU_ALLOWANCE_S;
    bool sleeps = result.cpu_s <= allowed;
    char end[64];
    describe_end(&result, end, sizeof end);
    if (result.status != 0)
        grade_check(sheet, DELAY_SLEEPS, false, "one " IDLE_DELAY " s request: %s, not exit 0",
                    end);
    else
        grade_check(sheet, DELAY_SLEEPS, sleeps, "while one request waited " IDLE_DELAY " s it "
                    "used %.3f s of CPU (the lesson's async.c %.3f s, allowed %.3f)%s",
                    result.cpu_s, yardstick.cpu_s, allowed,
                    sleeps ? "" : ": it spins instead of sleeping in curl_multi_poll");
    launch_result_free(&yardstick);
    launch_result_free(&result);
}

static void grade_robustness(struct grading *grading, const struct delay_lab *lab)
{
    const char *plain[] = { "--delays", "0.3", NULL };
    grade_server_down(grading, DELAY_SERVER_DOWN, plain);
    char what[64];
    snprintf(what, sizeof what, "%s %s", lab->bad_flag[0], lab->bad_flag[1]);
    grade_exit_status(grading, DELAY_BAD_FLAG, "http://127.0.0.1:1", lab->bad_flag, 1, what);
    const char *slow[] = { "--delays", "3,3,3", NULL };
    grade_server_dies(grading, DELAY_SERVER_DIES, slow);
}

static void grade_delay_lab(struct grading *grading, const struct delay_lab *lab)
{
    struct grade_sheet *sheet = &grading->sheet;
    struct delay_run runs[2];
    draw_work(grading->seed, lab, runs);
    grading->work = json_pack("{s:s, s:s, s:I}", "run1_delays", runs[0].delay_list,
                              "run2_delays", runs[1].delay_list,
                              "run2_concurrency", (json_int_t)runs[1].concurrency);
    const char *url = server_pool_url(&grading->servers, "async", true);
    if (url == NULL) {
        grade_fail_rest(sheet, "the grader could not start slowserver");
        return;
    }

    struct launch_result results[2];
    long in_flight[2];
    for (int i = 0; i < 2; i++)
        in_flight[i] = run_delays(grading, url, &runs[i], &results[i]);

    grade_replies(grading, DELAY_REPLIES_RUN1, &runs[0], &results[0]);
    grade_replies(grading, DELAY_REPLIES_RUN2, &runs[1], &results[1]);
    char ends[2][64];
    describe_end(&results[0], ends[0], sizeof ends[0]);
    describe_end(&results[1], ends[1], sizeof ends[1]);
    grade_check(sheet, DELAY_EXIT_OK, results[0].status == 0 && results[1].status == 0,
                "run 1: %s, run 2: %s", ends[0], ends[1]);

    grade_check(sheet, DELAY_ALL_IN_FLIGHT, in_flight[0] == runs[0].count,
                "run 1: the server held %ld of the %d requests at once%s", in_flight[0],
                runs[0].count, in_flight[0] == runs[0].count ? ""
                : ": they were not all overlapped");
    grade_run2_concurrency(grading, lab, runs, results, in_flight[1]);
    grade_efficiency(grading, runs, results);
    launch_result_free(&results[0]);
    launch_result_free(&results[1]);
    grade_sleeping(grading, url);

    grade_robustness(grading, lab);
    grade_memory(grading, DELAY_VALGRIND, url, lab->memcheck_args);
}

static void grade_slow_api(struct grading *grading)
{
    grade_delay_lab(grading, &SLOW_API);
}

static void grade_blocking_pitfall(struct grading *grading)
{
    grade_delay_lab(grading, &BLOCKING_PITFALL);
}

const struct lab SLOW_API_LAB = {
    "slow_api", "async.c", true, SLOW_API_CHECKS,
    sizeof SLOW_API_CHECKS / sizeof SLOW_API_CHECKS[0], grade_slow_api,
};
const struct lab BLOCKING_PITFALL_LAB = {
    "blocking_pitfall", "async.c", true, BLOCKING_PITFALL_CHECKS,
    sizeof BLOCKING_PITFALL_CHECKS / sizeof BLOCKING_PITFALL_CHECKS[0], grade_blocking_pitfall,
};
