/*
 * grade.c - `make grade LAB=slow_api [SRC=file | DIR=workspace] [SEED=n]`:
 * grades one lab submission out of 100 (docs/labs/README.md).
 *
 * It builds the submission against this checkout (labs/workspace.mk),
 * starts the slowservers it needs, and runs it on work drawn from SEED, so
 * a program that prints the replies it expects instead of fetching them
 * scores nothing.  Concurrency is proved by the server's own counters
 * (/stats max_in_flight), never by a clock; every run is killed after a
 * bound, so a submission that hangs or spins is graded, not waited for.
 * One line per check says what earned or lost its points; the last line is
 * "total: N/100".  --json prints the same as one JSON object.
 *
 *     build/bin/grade --lab slow_api --src async.c [--seed N] [--json]
 *     build/bin/grade --lab slow_api --dir WORKSPACE --run [-- ARGS]
 *     build/bin/grade --lab slow_api --rubric      (the points, for HANDOUT.md)
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "exit_codes.h"
#include "launch.h"
#include "parse.h"
#include "predict.h"
#include "rubric.h"
#include "scratch.h"
#include "seed.h"
#include "server_stats.h"
#include "servers.h"

static const char PROGRAM[] = "grade";

/* How long a submission may take to build, and the slack every run gets on
 * top of its own bound (a loaded machine starts programs slowly). */
#define BUILD_LIMIT_S 180.0
#define RUN_SLACK_S 3.0
/* Efficiency: a run must end within this ratio of --predict, plus a fixed
 * allowance for starting the program and connecting. */
#define PREDICT_RATIO 1.25
#define PREDICT_ALLOWANCE_S 0.5

struct grading;

struct lab {
    const char *name;              /* "slow_api" */
    const char *source;            /* the file a student hands in: "async.c" */
    bool needs_server;             /* runs against slowserver (--run starts one) */
    const struct rubric_check *checks;
    size_t check_count;
    void (*grade)(struct grading *grading);
};

struct grading {
    const struct lab *lab;
    char submission[PATH_MAX];     /* the source file graded */
    char work_dir[64];             /* scratch: the built program, traces */
    char program[PATH_MAX];        /* the built submission */
    unsigned long seed;
    bool memcheck;
    struct server_pool servers;
    struct grade_sheet sheet;
    json_t *work;                  /* what the seed drew, for --json */
};

static char bin_dir[PATH_MAX];

/* ---------------------------------------------------------------- runs */

/* Runs the built submission with `args` (NULL-terminated), after --url
 * unless url is NULL. */
static int run_submission(struct grading *grading, const char *url, const char *const *args,
                          double limit_s, const struct launch_event *event,
                          struct launch_result *result)
{
    const char *argv[32] = { grading->program, "--url", url };
    size_t count = url ? 3 : 1;
    for (size_t i = 0; args[i] != NULL && count < 31; i++)
        argv[count++] = args[i];
    argv[count] = NULL;
    return launch_run_bounded(PROGRAM, (char *const *)argv, limit_s + RUN_SLACK_S, event,
                              result);
}

/* The same under valgrind; its exit status is 99 when it found an error. */
static int run_under_valgrind(struct grading *grading, const char *url, const char *const *args,
                              double limit_s, struct launch_result *result)
{
    const char *argv[40] = { "valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
                             "--errors-for-leak-kinds=definite,indirect",
                             "--show-leak-kinds=definite,indirect", grading->program,
                             "--url", url };
    size_t count = url ? 9 : 7;
    for (size_t i = 0; args[i] != NULL && count < 39; i++)
        argv[count++] = args[i];
    argv[count] = NULL;
    return launch_run_bounded(PROGRAM, (char *const *)argv, limit_s, NULL, result);
}

static bool valgrind_installed(void)
{
    const char *argv[] = { "valgrind", "--version", NULL };
    struct launch_result result;
    int status = launch_run_bounded(PROGRAM, (char *const *)argv, 20.0, NULL, &result);
    launch_result_free(&result);
    return status == 0;
}

/* The first line of `text` that contains `needle`, or "" (for reasons). */
static void line_with(const char *text, const char *needle, char *line, size_t size)
{
    line[0] = '\0';
    const char *found = strstr(text, needle);
    if (found == NULL)
        return;
    const char *start = found;
    while (start > text && start[-1] != '\n')
        start--;
    const char *end = strchr(found, '\n');
    int length = end ? (int)(end - start) : (int)strlen(start);
    snprintf(line, size, "%.*s", length, start);
}

/* How a run ended, in words, for a reason. */
static void describe_end(const struct launch_result *result, char *text, size_t size)
{
    if (result->killed)
        snprintf(text, size, "killed after %.1f s (it did not end)", result->wall_s);
    else if (result->status > 128)
        snprintf(text, size, "crashed (signal %d)", result->status - 128);
    else
        snprintf(text, size, "exit %d", result->status);
}

/* A TCP port on 127.0.0.1 where nothing listens (bound, then closed). */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET,
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t length = sizeof address;
    int port = 1;  /* tcpmux: nothing listens there either */
    if (fd >= 0 && bind(fd, (struct sockaddr *)&address, sizeof address) == 0
        && getsockname(fd, (struct sockaddr *)&address, &length) == 0)
        port = ntohs(address.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* ---------------------------------------------------------------- shared checks */

/* Runs the submission once on `args` and checks it ends with exit `want`
 * (2: set-up problem, 1: usage), saying `what` it was given. */
static void grade_exit_status(struct grading *grading, size_t check, const char *url,
                              const char *const *args, int want, const char *what)
{
    struct launch_result result;
    char end[64];
    run_submission(grading, url, args, 10.0, NULL, &result);
    describe_end(&result, end, sizeof end);
    bool right = result.status == want && !result.killed;
    grade_check(&grading->sheet, check, right, "%s: %s%s", what, end,
                right ? "" : want == 2 ? ", not exit 2" : ", not exit 1");
    launch_result_free(&result);
}

/* No server at --url: a closed port on loopback. */
static void grade_server_down(struct grading *grading, size_t check, const char *const *args)
{
    char url[64], what[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", closed_port());
    snprintf(what, sizeof what, "no server at %s", url);
    grade_exit_status(grading, check, url, args, 2, what);
}

/* Stops the server under a running submission: SIGKILL, no goodbye. */
static void kill_server(void *context, pid_t pid)
{
    (void)pid;
    struct server *server = context;
    if (server->pid > 0)
        kill(server->pid, SIGKILL);
}

/* A server of its own, killed 0.5 s into work (`args`) that would take
 * seconds: the program must still end, within RUN_SLACK_S, with exit 3. */
static void grade_server_dies(struct grading *grading, size_t check, const char *const *args)
{
    struct server_pool doomed;
    server_pool_init(&doomed, PROGRAM, bin_dir);
    const char *doomed_url = server_pool_url(&doomed, "async", true);
    if (doomed_url == NULL) {
        grade_skip(&grading->sheet, check, "could not start a second slowserver");
        return;
    }
    struct launch_result result;
    struct launch_event kill_it = { 0.5, kill_server, &doomed.servers[0], 0 };
    run_submission(grading, doomed_url, args, 0.5, &kill_it, &result);
    server_pool_stop(&doomed);
    char end[64];
    describe_end(&result, end, sizeof end);
    bool ended_right = !result.killed && result.status == 3;
    grade_check(&grading->sheet, check, ended_right, "server killed 0.5 s in: %s%s", end,
                ended_right ? ", the failures reported"
                : result.killed ? ": it must give up on transfers that fail"
                                : ", not exit 3 (what failed must say so)");
    launch_result_free(&result);
}

/* ---------------------------------------------------------------- delay labs */
/*
 * slow_api and blocking_pitfall: requests to /delay-me, one reply line each.
 * Both are graded on two runs of seeded work; what differs is what run 2
 * proves (the --concurrency limit, or a heartbeat that stays on time).
 */

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

static double allowed_time(double predicted)
{
    return PREDICT_RATIO * predicted + PREDICT_ALLOWANCE_S;
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

/*
 * A program that sleeps while it waits uses next to no CPU; one that spins
 * uses all it can get.  On a busy machine "all it can get" may be a small
 * share, so the measure is one request with nothing else to do, and the
 * yardstick the lesson's own async.c on the same request a moment before.
 */
#define IDLE_DELAY "0.8"
#define IDLE_CPU_RATIO 2.0
#define IDLE_CPU_ALLOWANCE_S 0.05

static void grade_sleeping(struct grading *grading, const char *url)
{
    struct grade_sheet *sheet = &grading->sheet;
    if (sheet->results[DELAY_REPLIES_RUN1].outcome != CHECK_PASSED) {
        grade_check(sheet, DELAY_SLEEPS, false, "not measured: the replies were not right");
        return;
    }
    const char *args[] = { "--delays", IDLE_DELAY, "--quiet", NULL };
    char lesson[PATH_MAX + 64];
    snprintf(lesson, sizeof lesson, "%s/%s_async", bin_dir, grading->lab->name);
    const char *argv[] = { lesson, "--url", url, "--delays", IDLE_DELAY, "--quiet", NULL };
    struct launch_result yardstick, result;
    launch_run_bounded(PROGRAM, (char *const *)argv, 30.0, NULL, &yardstick);
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

static void grade_memory(struct grading *grading, size_t check, const char *url,
                         const char *const *args)
{
    if (!grading->memcheck) {
        grade_skip(&grading->sheet, check, "skipped (--no-memcheck)");
        return;
    }
    if (!valgrind_installed()) {
        grade_skip(&grading->sheet, check, "skipped: valgrind is not installed");
        return;
    }
    struct launch_result result;
    run_under_valgrind(grading, url, args, 120.0, &result);
    char detail[200] = "";
    line_with(result.err, "lost in", detail, sizeof detail);
    if (detail[0] == '\0')
        line_with(result.err, "Invalid", detail, sizeof detail);
    char end[64];
    describe_end(&result, end, sizeof end);
    /* The program's own status may be 3 (a batch that fails by design);
     * valgrind's 99 is what marks an error. */
    bool clean = result.status != 99 && result.status < 128 && !result.killed;
    grade_check(&grading->sheet, check, clean, "valgrind: %s%s%s", clean ? "clean" : end,
                detail[0] ? ": " : "", detail);
    launch_result_free(&result);
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

/* ---------------------------------------------------------------- database */
/*
 * The database lab: three SQLite queries on worker threads, completions
 * back through a pipe.  No server: the grader builds a seeded database
 * (database_makedb --seed), so the row counts are the seed's, and proves
 * the overlap with the work windows each query's own thread recorded
 * (each query's bar in the trace, and args.answered_s).
 */

enum {
    DB_REPLIES, DB_EXIT_OK, DB_WORK_OVERLAPS, DB_REPORTED_PROMPTLY, DB_SLEEPS,
    DB_MISSING, DB_BAD_FLAG, DB_DAMAGED, DB_VALGRIND,
};

static const struct rubric_check DATABASE_CHECKS[] = {
    [DB_REPLIES] = { "correctness", 30,
        "every query's row count printed once, right for the seeded database" },
    [DB_EXIT_OK] = { "correctness", 5, "exit 0" },
    [DB_WORK_OVERLAPS] = { "concurrency", 20,
        "the three queries' work overlaps (work windows their threads recorded in the trace)" },
    [DB_REPORTED_PROMPTLY] = { "concurrency", 15,
        "each result reported within 0.15 s (or a fifth of the run) of its query's end: the loop "
        "wakes on the pipe" },
    [DB_SLEEPS] = { "efficiency", 10,
        "the loop sleeps while the workers work: its own thread's CPU (sampled from /proc) "
        "under 2% of the run (+0.05 s); needs the queries on workers" },
    [DB_MISSING] = { "robustness", 3, "no database at --db: exit 2" },
    [DB_BAD_FLAG] = { "robustness", 2, "--bogus: exit 1" },
    [DB_DAMAGED] = { "robustness", 5,
        "a damaged database: every query's failure reported, exit 2, within 4 s" },
    [DB_VALGRIND] = { "memory", 10,
        "valgrind: no memory errors, nothing leaked (every thread joined, connection closed)" },
};

#define DB_QUERIES 3
#define DB_PROMPT_S 0.15
#define DB_PROMPT_SHARE 0.2
#define DB_LOOP_CPU_SHARE 0.02
#define DB_LOOP_CPU_ALLOWANCE_S 0.05

/* One query's times in the trace, in seconds from the program's start. */
struct query_times {
    bool found;
    double work_start, work_end, reported;
};

/* Runs one of the checkout's own programs (database_makedb, database_sync). */
static int run_tool(const char *tool, const char *const *args, double limit_s,
                    struct launch_result *result)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", bin_dir, tool);
    const char *argv[16] = { path };
    size_t count = 1;
    for (size_t i = 0; args[i] != NULL && count < 15; i++)
        argv[count++] = args[i];
    argv[count] = NULL;
    return launch_run_bounded(PROGRAM, (char *const *)argv, limit_s, NULL, result);
}

static bool make_database(struct grading *grading, const char *path, long cities)
{
    char cities_text[32], seed_text[32];
    snprintf(cities_text, sizeof cities_text, "%ld", cities);
    snprintf(seed_text, sizeof seed_text, "%lu", grading->seed);
    const char *args[] = { "--out", path, "--cities", cities_text, "--seed", seed_text,
                           "--force", "--quiet", NULL };
    struct launch_result result;
    bool made = run_tool("database_makedb", args, 120.0, &result) == 0;
    if (!made)
        fprintf(stderr, "%s: database_makedb failed: %s", PROGRAM, result.err);
    launch_result_free(&result);
    return made;
}

/* The row count the program printed for query n, or -1. */
static long long printed_rows(const char *out, int number, int *times)
{
    char label[64];
    snprintf(label, sizeof label, "Q%d: Query made! Db replied '", number);
    long long rows = -1;
    *times = 0;
    for (const char *at = strstr(out, label); at != NULL; at = strstr(at + 1, label)) {
        rows = strtoll(at + strlen(label), NULL, 10);
        (*times)++;
    }
    return rows;
}

/* A copy of the database with its middle overwritten: the schema reads,
 * the queries hit pages that are garbage. */
static bool damage_copy(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    bool ok = in != NULL && out != NULL;
    if (ok) {
        fseek(in, 0, SEEK_END);
        long size = ftell(in);
        rewind(in);
        struct seed noise = seed_start(7);
        char page[4096];
        size_t got;
        long at = 0;
        while ((got = fread(page, 1, sizeof page, in)) > 0) {
            if (at > size / 3 && at < 2 * size / 3)
                for (size_t i = 0; i < got; i++)
                    page[i] = (char)seed_next(&noise);
            ok = ok && fwrite(page, 1, got, out) == got;
            at += (long)got;
        }
    }
    if (in != NULL)
        fclose(in);
    if (out != NULL && fclose(out) != 0)
        ok = false;
    return ok;
}

/* Reads each query's work window and when the loop reported it from the
 * program's trace: a query's bar is the window its own thread stamped
 * (database_query_run), and args.answered_s when the loop had the result. */
static bool read_query_times(const char *trace_path, struct query_times times[DB_QUERIES])
{
    memset(times, 0, DB_QUERIES * sizeof times[0]);
    json_t *trace = json_load_file(trace_path, 0, NULL);
    size_t index;
    json_t *event;
    json_array_foreach(json_object_get(trace, "traceEvents"), index, event) {
        json_t *args = json_object_get(event, "args");
        json_t *answered = json_object_get(args, "answered_s");
        const char *name = json_string_value(json_object_get(event, "name"));
        int number = 0;
        if (answered == NULL || name == NULL || sscanf(name, "Q%d", &number) != 1
            || number < 1 || number > DB_QUERIES)
            continue;
        struct query_times *query = &times[number - 1];
        query->found = true;
        query->work_start = json_number_value(json_object_get(event, "ts")) / 1e6;
        query->work_end = query->work_start
                        + json_number_value(json_object_get(event, "dur")) / 1e6;
        query->reported = json_number_value(answered);
    }
    json_decref(trace);
    for (int i = 0; i < DB_QUERIES; i++)
        if (!times[i].found)
            return false;
    return true;
}

/* The CPU a running program's main thread (the event loop) has used so
 * far, from /proc: the workers' CPU is the queries', the loop's is its own. */
static void sample_main_thread(void *context, pid_t pid)
{
    double *seconds = context;
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)pid);
    FILE *stat = fopen(path, "r");
    if (stat == NULL)
        return;
    /* Fields 14 and 15, utime and stime in clock ticks, come after the
     * command name, which is in parentheses and may hold spaces. */
    char *after_name = fgets(line, sizeof line, stat) ? strrchr(line, ')') : NULL;
    unsigned long user = 0, system = 0;
    if (after_name != NULL
        && sscanf(after_name + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                  &user, &system) == 2)
        *seconds = (double)(user + system) / (double)sysconf(_SC_CLK_TCK);
    fclose(stat);
}

/* main_cpu_s: what the submission's main thread used while the queries ran. */
static void grade_database_concurrency(struct grading *grading, const char *trace_path,
                                       double main_cpu_s)
{
    struct grade_sheet *sheet = &grading->sheet;
    struct query_times times[DB_QUERIES];
    if (!read_query_times(trace_path, times)) {
        grade_check(sheet, DB_WORK_OVERLAPS, false, "no trace with all three queries' work");
        grade_check(sheet, DB_REPORTED_PROMPTLY, false, "no trace with all three queries' work");
        grade_check(sheet, DB_SLEEPS, false, "not measured: the queries did not all run");
        return;
    }
    double latest_start = 0, earliest_end = 1e300, latest_report = 0;
    int late = 0;
    for (int i = 0; i < DB_QUERIES; i++) {
        if (times[i].work_start > latest_start)
            latest_start = times[i].work_start;
        if (times[i].work_end < earliest_end)
            earliest_end = times[i].work_end;
        double delay = times[i].reported - times[i].work_end;
        if (delay > latest_report) {
            latest_report = delay;
            late = i + 1;
        }
    }
    bool overlap = latest_start < earliest_end;
    double wall = 0;
    for (int i = 0; i < DB_QUERIES; i++)
        if (times[i].reported > wall)
            wall = times[i].reported;
    /* A loaded machine delays every wake-up a little; waiting for the
     * wrong worker delays a result by most of the run. */
    double prompt = wall * DB_PROMPT_SHARE > DB_PROMPT_S ? wall * DB_PROMPT_SHARE : DB_PROMPT_S;
    grade_check(sheet, DB_WORK_OVERLAPS, overlap,
                overlap ? "all three queries were working at once (for %.3f s)"
                        : "the queries' work did not overlap (the last began %.3f s after "
                          "the first ended): they ran one at a time",
                overlap ? earliest_end - latest_start : latest_start - earliest_end);
    if (!overlap)
        grade_check(sheet, DB_REPORTED_PROMPTLY, false, "not judged: the queries did not overlap");
    else
        grade_check(sheet, DB_REPORTED_PROMPTLY, latest_report <= prompt,
                    "the slowest report came %.3f s after its query (Q%d) ended (allowed %.3f)%s",
                    latest_report, late, prompt, latest_report <= prompt ? ""
                    : ": results wait for something else instead of waking the loop");
    double allowed = DB_LOOP_CPU_SHARE * wall + DB_LOOP_CPU_ALLOWANCE_S;
    bool sleeps = main_cpu_s <= allowed;
    if (!overlap) {
        grade_check(sheet, DB_SLEEPS, false, "not judged: the queries did not run on workers");
        return;
    }
    grade_check(sheet, DB_SLEEPS, sleeps, "the event loop's thread used %.2f s of CPU in the "
                "%.2f s the queries took (allowed %.2f)%s", main_cpu_s, wall, allowed,
                sleeps ? "" : ": the loop spins instead of sleeping in poll");
}

static void grade_database(struct grading *grading)
{
    struct grade_sheet *sheet = &grading->sheet;
    struct seed draw = seed_start(grading->seed);
    long cities = seed_between(&draw, 200000, 300000);
    char db[PATH_MAX], damaged[PATH_MAX], small[PATH_MAX], trace[PATH_MAX];
    snprintf(db, sizeof db, "%s/lab.db", grading->work_dir);
    snprintf(damaged, sizeof damaged, "%s/damaged.db", grading->work_dir);
    snprintf(small, sizeof small, "%s/small.db", grading->work_dir);
    snprintf(trace, sizeof trace, "%s/trace.json", grading->work_dir);
    grading->work = json_pack("{s:I}", "cities", (json_int_t)cities);
    if (!make_database(grading, db, cities) || !damage_copy(db, damaged)) {
        grade_fail_rest(sheet, "the grader could not build its database");
        return;
    }

    /* The answers: the lesson's own program on the same file. */
    struct launch_result result;
    const char *key_args[] = { "--db", db, NULL };
    run_tool("database_async", key_args, 120.0, &result);
    long long want[DB_QUERIES];
    for (int i = 0; i < DB_QUERIES; i++) {
        int times;
        want[i] = printed_rows(result.out, i + 1, &times);
    }
    launch_result_free(&result);

    const char *args[] = { "--db", db, "--trace", trace, NULL };
    double main_cpu_s = 0;
    struct launch_event sampler = { 0.05, sample_main_thread, &main_cpu_s, 0.05 };
    run_submission(grading, NULL, args, 60.0, &sampler, &result);
    char end[64], why[200] = "";
    describe_end(&result, end, sizeof end);
    bool right = !result.killed;
    for (int i = 0; i < DB_QUERIES && right; i++) {
        int times;
        long long got = printed_rows(result.out, i + 1, &times);
        if (times != 1 || got != want[i]) {
            right = false;
            snprintf(why, sizeof why, times == 0 ? "no line \"Q%d: Query made! Db replied '%lld' rows\""
                     : times > 1 ? "Q%d's result printed more than once (want %lld)"
                     : "Q%d: wrong row count (want %lld)", i + 1, want[i]);
        }
    }
    grade_check(sheet, DB_REPLIES, right, "%s%s",
                right ? "all three row counts printed once, right for this database" : why,
                result.killed ? "; killed" : "");
    grade_check(sheet, DB_EXIT_OK, result.status == 0, "%s", end);
    grade_database_concurrency(grading, trace, main_cpu_s);
    launch_result_free(&result);

    const char *missing[] = { "--db", "/nonexistent/asynclab.db", NULL };
    grade_exit_status(grading, DB_MISSING, NULL, missing, 2, "no database");
    const char *bogus[] = { "--bogus", NULL };
    grade_exit_status(grading, DB_BAD_FLAG, NULL, bogus, 1, "--bogus");
    const char *broken[] = { "--db", damaged, NULL };
    run_submission(grading, NULL, broken, 1.0, NULL, &result);
    describe_end(&result, end, sizeof end);
    int failures = 0;
    for (const char *at = strstr(result.out, ": Query failed"); at; at = strstr(at + 1, ": Query failed"))
        failures++;
    bool handled = result.status == 2 && !result.killed && failures == DB_QUERIES;
    grade_check(sheet, DB_DAMAGED, handled, "damaged database: %s, %d of 3 failures reported%s",
                end, failures, handled ? "" : result.killed
                ? ": a failed query must still wake the loop" : "");
    launch_result_free(&result);

    if (grading->memcheck && !make_database(grading, small, 2000)) {
        grade_skip(sheet, DB_VALGRIND, "could not build the small database");
        return;
    }
    const char *small_args[] = { "--db", small, "--quiet", NULL };
    grade_memory(grading, DB_VALGRIND, NULL, small_args);
}

/* ---------------------------------------------------------------- timeouts */
/*
 * The timeouts lab: the lesson's batch of six (a fast reply, a slow one, one
 * slower than its timeout, /hang, a 500, a 503) all at once, each attempt
 * bounded by --timeout, the batch by --deadline.  The seed draws the scale
 * and the timeout, and so which tasks succeed.
 */

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

/* The lesson's own --predict for the same flags; -1 if it says none. */
static double lesson_prediction(const char *program, const char *const *args)
{
    const char *argv[16];
    size_t count = 0;
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", bin_dir, program);
    argv[count++] = path;
    for (size_t i = 0; args[i] != NULL && count < 14; i++)
        argv[count++] = args[i];
    argv[count++] = "--predict";
    argv[count] = NULL;
    struct launch_result result;
    launch_run_bounded(PROGRAM, (char *const *)argv, 20.0, NULL, &result);
    const char *found = strstr(result.out, "Predicted time: ");
    double seconds = -1;
    if (found == NULL || sscanf(found + strlen("Predicted time: "), "%lf", &seconds) != 1)
        seconds = -1;
    launch_result_free(&result);
    return seconds;
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
    snprintf(lesson, sizeof lesson, "%s/timeouts_async", bin_dir);
    const char *argv[] = { lesson, "--url", url, "--timeout", "0.8", "--quiet", NULL };
    const char *args[] = { "--timeout", "0.8", "--quiet", NULL };
    struct launch_result yardstick, result;
    launch_run_bounded(PROGRAM, (char *const *)argv, 30.0, NULL, &yardstick);
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

/* ---------------------------------------------------------------- producer_consumer */
/*
 * The producer-consumer lab: items fetched by up to P producers into a queue
 * of at most Q, processed by up to C consumers, on one event loop.  The seed
 * draws the work so that the consumers are the slow stage (the queue fills
 * and backpressure matters); the server's per-path counters show how many
 * fetches and posts were in flight.
 */

enum {
    PC_DONE, PC_SUMMARY, PC_EXIT, PC_FETCHES, PC_POSTS, PC_ON_TIME, PC_SLEEPS,
    PC_SERVER_DOWN, PC_BAD_FLAG, PC_SERVER_DIES, PC_VALGRIND,
};

static const struct rubric_check PRODUCER_CONSUMER_CHECKS[] = {
    [PC_DONE] = { "correctness", 25,
        "every item fetched and processed once: a \"done\" line per id, none lost" },
    [PC_SUMMARY] = { "correctness", 5, "\"Items processed: N of N\"" },
    [PC_EXIT] = { "correctness", 5, "exit 0" },
    [PC_FETCHES] = { "concurrency", 15,
        "fetches in flight: min(P, Q) at most and at once (slowserver's /stats for /items): "
        "the producers work together and the room check holds them back" },
    [PC_POSTS] = { "concurrency", 15, "posts in flight: exactly C at most (/stats for /process)" },
    [PC_ON_TIME] = { "efficiency", 10,
        "the run ends within 1.25x of the lesson's --predict (+0.5 s)" },
    [PC_SLEEPS] = { "efficiency", 5,
        "it sleeps while it waits: at most twice the CPU of the lesson's async.c on the same "
        "work (+0.05 s)" },
    [PC_SERVER_DOWN] = { "robustness", 3, "no server at --url: exit 2" },
    [PC_BAD_FLAG] = { "robustness", 2, "--queue 0: exit 1" },
    [PC_SERVER_DIES] = { "robustness", 5,
        "the server dies mid-run: the program still ends, within 3 s, with exit 3" },
    [PC_VALGRIND] = { "memory", 10, "valgrind: no memory errors, nothing leaked" },
};

struct pc_work {
    char items[16], fetch[16], process[16], producers[16], consumers[16], queue[16];
    long item_count, p, c, q;
};

static void pc_draw(unsigned long seed, struct pc_work *work)
{
    struct seed draw = seed_start(seed);
    work->item_count = seed_between(&draw, 8, 14);
    work->p = seed_between(&draw, 2, 3);
    work->c = seed_between(&draw, 2, 3);
    work->q = seed_between(&draw, 2, 4);
    /* Fetching at P / F items a second always outpaces processing at C / D. */
    snprintf(work->items, sizeof work->items, "%ld", work->item_count);
    snprintf(work->fetch, sizeof work->fetch, "%g", seed_step(&draw, 0.1, 0.15, 0.05));
    snprintf(work->process, sizeof work->process, "%g", seed_step(&draw, 0.4, 0.6, 0.05));
    snprintf(work->producers, sizeof work->producers, "%ld", work->p);
    snprintf(work->consumers, sizeof work->consumers, "%ld", work->c);
    snprintf(work->queue, sizeof work->queue, "%ld", work->q);
}

static void grade_producer_consumer(struct grading *grading)
{
    struct grade_sheet *sheet = &grading->sheet;
    struct pc_work work;
    pc_draw(grading->seed, &work);
    grading->work = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "items", work.items,
                              "fetch_delay", work.fetch, "process_delay", work.process,
                              "producers", work.producers, "consumers", work.consumers,
                              "queue", work.queue);
    const char *url = server_pool_url(&grading->servers, "async", true);
    if (url == NULL) {
        grade_fail_rest(sheet, "the grader could not start slowserver");
        return;
    }
    const char *args[] = { "--items", work.items, "--fetch-delay", work.fetch,
                           "--process-delay", work.process, "--producers", work.producers,
                           "--consumers", work.consumers, "--queue", work.queue, NULL };
    double serial = (double)work.item_count * (atof(work.fetch) + atof(work.process));
    struct launch_result result;
    server_stats_reset(url);
    run_submission(grading, url, args, serial + 2.0, NULL, &result);
    long fetches = server_stats_path(url, "/items", "max_in_flight");
    long posts = server_stats_path(url, "/process", "max_in_flight");
    char end[64], why[160] = "every item done once, none lost";
    describe_end(&result, end, sizeof end);
    bool done = !result.killed && strstr(result.out, ": lost:") == NULL;
    for (long id = 0; id < work.item_count && done; id++) {
        char line[96];
        snprintf(line, sizeof line, "\nI%ld: done       the server acknowledged id %ld\n", id, id);
        const char *first = strstr(result.out, line);
        if (first == NULL || strstr(first + 1, line) != NULL) {
            done = false;
            snprintf(why, sizeof why, first ? "I%ld processed more than once"
                                            : "no \"I%ld: done\" line", id);
        }
    }
    if (strstr(result.out, ": lost:") != NULL)
        snprintf(why, sizeof why, "items lost: fetched into a full queue (no backpressure)");
    grade_check(sheet, PC_DONE, done, "%s%s%s", why, result.killed ? "; " : "",
                result.killed ? end : "");
    char summary[64];
    snprintf(summary, sizeof summary, "Items processed: %ld of %ld", work.item_count,
             work.item_count);
    grade_check(sheet, PC_SUMMARY, strstr(result.out, summary) != NULL, "%s\"%s\"",
                strstr(result.out, summary) ? "" : "no line ", summary);
    grade_check(sheet, PC_EXIT, result.status == 0, "%s", end);
    long want_fetches = work.p < work.q ? work.p : work.q;
    grade_check(sheet, PC_FETCHES, fetches == want_fetches,
                "P=%ld, Q=%ld: the server held %ld fetches at once%s", work.p, work.q,
                fetches < 0 ? 0 : fetches, fetches == want_fetches ? ""
                : fetches > want_fetches ? ": more than the room check allows"
                                         : ": the producers did not work together");
    grade_check(sheet, PC_POSTS, posts == work.c, "C=%ld: the server held %ld posts at once%s",
                work.c, posts < 0 ? 0 : posts, posts == work.c ? ""
                : posts > work.c ? ": more than C" : ": the consumers did not work together");

    double predicted = lesson_prediction("producer_consumer_async", args);
    char lesson[PATH_MAX + 64];
    snprintf(lesson, sizeof lesson, "%s/producer_consumer_async", bin_dir);
    const char *argv[32] = { lesson, "--url", url };
    size_t count = 3;
    for (size_t i = 0; args[i] != NULL; i++)
        argv[count++] = args[i];
    argv[count] = NULL;
    struct launch_result yardstick;
    launch_run_bounded(PROGRAM, (char *const *)argv, serial + 5.0, NULL, &yardstick);
    if (!done) {
        grade_check(sheet, PC_ON_TIME, false, "not timed: the items were not all done");
        grade_check(sheet, PC_SLEEPS, false, "not measured: the items were not all done");
    } else {
        grade_check(sheet, PC_ON_TIME, result.wall_s <= allowed_time(predicted),
                    "took %.2f s (predicted %.2f, allowed %.2f)", result.wall_s, predicted,
                    allowed_time(predicted));
        double allowed = IDLE_CPU_RATIO * yardstick.cpu_s + IDLE_CPU_ALLOWANCE_S;
        grade_check(sheet, PC_SLEEPS, result.cpu_s <= allowed, "used %.3f s of CPU (the "
                    "lesson's async.c %.3f s, allowed %.3f)%s", result.cpu_s, yardstick.cpu_s,
                    allowed, result.cpu_s <= allowed ? ""
                    : ": it spins instead of sleeping in curl_multi_poll");
    }
    launch_result_free(&yardstick);
    launch_result_free(&result);

    const char *plain[] = { "--items", "2", NULL };
    grade_server_down(grading, PC_SERVER_DOWN, plain);
    const char *bad[] = { "--queue", "0", NULL };
    grade_exit_status(grading, PC_BAD_FLAG, "http://127.0.0.1:1", bad, 1, "--queue 0");
    const char *slow[] = { "--items", "6", "--fetch-delay", "1", "--process-delay", "1", NULL };
    grade_server_dies(grading, PC_SERVER_DIES, slow);
    const char *small[] = { "--items", "3", "--scale", "0.1", "--quiet", NULL };
    grade_memory(grading, PC_VALGRIND, url, small);
}

/* ---------------------------------------------------------------- labs */

static const struct lab LABS[] = {
    { "slow_api", "async.c", true, SLOW_API_CHECKS,
      sizeof SLOW_API_CHECKS / sizeof SLOW_API_CHECKS[0], grade_slow_api },
    { "blocking_pitfall", "async.c", true, BLOCKING_PITFALL_CHECKS,
      sizeof BLOCKING_PITFALL_CHECKS / sizeof BLOCKING_PITFALL_CHECKS[0],
      grade_blocking_pitfall },
    { "database", "async.c", false, DATABASE_CHECKS,
      sizeof DATABASE_CHECKS / sizeof DATABASE_CHECKS[0], grade_database },
    { "timeouts", "async.c", true, TIMEOUTS_CHECKS,
      sizeof TIMEOUTS_CHECKS / sizeof TIMEOUTS_CHECKS[0], grade_timeouts },
    { "producer_consumer", "async.c", true, PRODUCER_CONSUMER_CHECKS,
      sizeof PRODUCER_CONSUMER_CHECKS / sizeof PRODUCER_CONSUMER_CHECKS[0],
      grade_producer_consumer },
};
#define LAB_COUNT (sizeof LABS / sizeof LABS[0])

static const struct lab *find_lab(const char *name)
{
    for (size_t i = 0; i < LAB_COUNT; i++)
        if (strcmp(LABS[i].name, name) == 0)
            return &LABS[i];
    return NULL;
}

/* ---------------------------------------------------------------- build */

/* Builds the submission with the workspace's own Makefile rules; false
 * (every check failed, with the compiler's first error) if it does not. */
static bool build_submission(struct grading *grading)
{
    char makefile[PATH_MAX + 32], root[PATH_MAX + 16], lab[64], source[PATH_MAX + 16],
        output[PATH_MAX + 16];
    snprintf(makefile, sizeof makefile, "%s/labs/workspace.mk", ASYNCLAB_ROOT);
    snprintf(root, sizeof root, "ASYNCLAB=%s", ASYNCLAB_ROOT);
    snprintf(lab, sizeof lab, "LAB=%s", grading->lab->name);
    snprintf(source, sizeof source, "SUBMISSION=%s", grading->submission);
    snprintf(grading->program, sizeof grading->program, "%s/submission", grading->work_dir);
    snprintf(output, sizeof output, "PROGRAM=%s", grading->program);
    const char *argv[] = { "make", "-s", "--no-print-directory", "-f", makefile, root, lab,
                           source, output, "SANITIZE=", "ASYNCLAB_BUILT=1", grading->program,
                           NULL };
    struct launch_result result;
    launch_run_bounded(PROGRAM, (char *const *)argv, BUILD_LIMIT_S, NULL, &result);
    bool built = result.status == 0 && !result.killed && access(grading->program, X_OK) == 0;
    if (!built) {
        char first_error[240] = "";
        line_with(result.err, "error", first_error, sizeof first_error);
        if (first_error[0] == '\0')
            launch_last_line(result.err, first_error, sizeof first_error);
        char reason[300];
        snprintf(reason, sizeof reason, "does not build: %s", first_error);
        grade_fail_rest(&grading->sheet, reason);
    }
    launch_result_free(&result);
    return built;
}

/* ---------------------------------------------------------------- main */

/* Ctrl+C: stop the servers we started, then leave. */
static struct server_pool *running_servers;

static void stop_on_signal(int signal_number)
{
    if (running_servers != NULL)
        for (size_t i = 0; i < sizeof running_servers->servers / sizeof running_servers->servers[0];
             i++)
            if (running_servers->servers[i].pid > 0)
                kill(running_servers->servers[i].pid, SIGTERM);
    launch_kill_running();
    _exit(128 + signal_number);
}

/* Arguments --run hands on: run_once adds at most three of its own. */
enum { MAX_RUN_ARGS = 60 };

struct options {
    const char *lab;
    const char *src;
    const char *dir;
    unsigned long seed;
    bool seed_given;
    bool json;
    bool rubric;
    bool run;
    bool memcheck;
    /* after --: the arguments for --run (NULL-terminated: memset, and one spare) */
    char *run_args[MAX_RUN_ARGS + 1];
};

static void usage(FILE *stream)
{
    fprintf(stream,
            "usage: %s --lab NAME (--src FILE | --dir WORKSPACE) [--seed N] [--json] "
            "[--no-memcheck]\n"
            "       %s --lab NAME (--src FILE | --dir WORKSPACE) --run [-- ARGS]\n"
            "       %s --lab NAME --rubric\n"
            "Grades a lab submission out of 100 on work drawn from the seed "
            "(docs/labs/README.md).\nLabs:", PROGRAM, PROGRAM, PROGRAM);
    for (size_t i = 0; i < LAB_COUNT; i++)
        fprintf(stream, " %s", LABS[i].name);
    fprintf(stream, "\n\nExample:\n  build/bin/%s --lab slow_api --src labs-out/slow_api/async.c "
            "--seed 42\n", PROGRAM);
}

static const struct option OPTIONS[] = {
    { "lab", required_argument, NULL, 0 },  { "src", required_argument, NULL, 0 },
    { "dir", required_argument, NULL, 0 },  { "seed", required_argument, NULL, 0 },
    { "json", no_argument, NULL, 0 },       { "rubric", no_argument, NULL, 0 },
    { "run", no_argument, NULL, 0 },        { "no-memcheck", no_argument, NULL, 0 },
    { NULL, 0, NULL, 0 },
};

static int apply_option(void *context, const struct option *option, const char *value)
{
    struct options *options = context;
    const char *name = option->name;
    if (strcmp(name, "lab") == 0) {
        if (find_lab(value) == NULL)
            return args_bad_value(PROGRAM, name, value, "the name of a lab");
        options->lab = value;
    } else if (strcmp(name, "seed") == 0) {
        long seed;
        if (!parse_long_in(value, 0, SEED_MAX, &seed))
            return args_bad_value(PROGRAM, name, value, SEED_EXPECTED);
        options->seed = (unsigned long)seed;
        options->seed_given = true;
    } else if (strcmp(name, "src") == 0) {
        options->src = value;
    } else if (strcmp(name, "dir") == 0) {
        options->dir = value;
    } else if (strcmp(name, "json") == 0) {
        options->json = true;
    } else if (strcmp(name, "rubric") == 0) {
        options->rubric = true;
    } else if (strcmp(name, "run") == 0) {
        options->run = true;
    } else {  /* no-memcheck */
        options->memcheck = false;
    }
    return -1;
}

/* Arguments that are not options (those after --) go to the program --run
 * starts, and are a mistake without --run. */
static int parse_options(int argc, char **argv, struct options *options)
{
    static const char *const required[] = { "lab", NULL };
    memset(options, 0, sizeof *options);
    options->memcheck = true;
    size_t run_count = 0;
    const struct args_parser parser = {
        .program = PROGRAM, .options = OPTIONS, .required = required, .apply = apply_option,
        .usage = usage, .context = options, .operands = (const char **)options->run_args,
        .operand_max = MAX_RUN_ARGS, .operand_count = &run_count,
    };
    int status = args_parse(&parser, argc, argv);
    if (status >= 0)
        return status;
    if (run_count > 0 && !options->run) {
        fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", PROGRAM,
                options->run_args[0]);
        return EXIT_USAGE;
    }
    if (!options->rubric && (options->src == NULL) == (options->dir == NULL)) {
        fprintf(stderr, "%s: give --src FILE or --dir WORKSPACE (one of them)\n", PROGRAM);
        return EXIT_USAGE;
    }
    return -1;
}

/* The source file to grade, as an absolute path; false after a message. */
static bool find_submission(const struct options *options, const struct lab *lab,
                            char *path, size_t size)
{
    char given[PATH_MAX + 64];
    if (options->src != NULL)
        snprintf(given, sizeof given, "%s", options->src);
    else
        snprintf(given, sizeof given, "%s/%s", options->dir, lab->source);
    if (realpath(given, path) == NULL || access(path, R_OK) != 0 || size < PATH_MAX) {
        fprintf(stderr, "%s: cannot read the submission %s: %s\n", PROGRAM, given,
                strerror(errno));
        return false;
    }
    return true;
}

/* --run: the student's own program (against a fresh server, if the lab
 * needs one; on the checkout's lesson database unless --db or
 * $ASYNCLAB_DB says otherwise), its output as it is. */
static int run_once(struct grading *grading, char **args)
{
    const char *url = NULL;
    if (grading->lab->needs_server && (url = server_pool_url(&grading->servers, "async",
                                                             false)) == NULL)
        return EXIT_SETUP;
    setenv("ASYNCLAB_DB", ASYNCLAB_ROOT "/build/asynclab.db", 0);
    const char *argv[64] = { grading->program, "--url", url };
    size_t count = url ? 3 : 1;
    for (size_t i = 0; args[i] != NULL && count < 63; i++)
        argv[count++] = args[i];
    argv[count] = NULL;
    fflush(stdout);
    pid_t pid = launch_start(PROGRAM, (char *const *)argv, -1);
    return pid > 0 ? launch_wait(pid) : EXIT_SETUP;
}

static void print_json(const struct grading *grading)
{
    json_t *report = grade_to_json(&grading->sheet);
    json_object_set_new(report, "lab", json_string(grading->lab->name));
    json_object_set_new(report, "submission", json_string(grading->submission));
    json_object_set_new(report, "seed", json_integer((json_int_t)grading->seed));
    if (grading->work != NULL)
        json_object_set(report, "work", grading->work);
    char *text = json_dumps(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text != NULL)
        printf("%s\n", text);
    free(text);
    json_decref(report);
}

int main(int argc, char **argv)
{
    struct options options;
    int early = parse_options(argc, argv, &options);
    if (early >= 0)
        return early;
    const struct lab *lab = find_lab(options.lab);
    if (options.rubric) {
        rubric_print_markdown(lab->checks, lab->check_count, stdout);
        return 0;
    }
    if (!launch_find_bin_dir(bin_dir, sizeof bin_dir)) {
        fprintf(stderr, "%s: cannot tell where slowserver is\n", PROGRAM);
        return EXIT_SETUP;
    }

    struct grading grading = { .lab = lab, .memcheck = options.memcheck };
    if (!find_submission(&options, lab, grading.submission, sizeof grading.submission))
        return EXIT_SETUP;
    grading.seed = options.seed_given ? options.seed
                                      : (unsigned long)(time(NULL) ^ getpid()) % 2147483648UL;
    if (!scratch_make(PROGRAM, "grade", grading.work_dir, sizeof grading.work_dir))
        return EXIT_SETUP;
    setenv("NO_COLOR", "1", 1);  /* plain lines to compare */
    server_pool_init(&grading.servers, PROGRAM, bin_dir);
    running_servers = &grading.servers;
    signal(SIGINT, stop_on_signal);
    signal(SIGTERM, stop_on_signal);
    signal(SIGPIPE, SIG_IGN);
    grade_sheet_init(&grading.sheet, lab->checks, lab->check_count);

    if (!options.json && !options.run)
        printf("grading %s for lab %s, seed %lu (SEED=%lu grades the same work again)\n",
               grading.submission, lab->name, grading.seed, grading.seed);
    fflush(stdout);
    int status = 0;
    if (build_submission(&grading)) {
        if (options.run)
            status = run_once(&grading, options.run_args);
        else
            lab->grade(&grading);
    } else if (options.run) {
        fprintf(stderr, "%s: %s\n", PROGRAM, grading.sheet.results[0].reason);
        status = EXIT_SETUP;
    }
    server_pool_stop(&grading.servers);
    running_servers = NULL;
    scratch_remove(grading.work_dir);

    if (!options.run) {
        if (options.json)
            print_json(&grading);
        else
            grade_print(&grading.sheet, stdout);
    }
    json_decref(grading.work);
    return status;
}
