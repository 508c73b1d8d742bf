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
#include <getopt.h>
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

#include "launch.h"
#include "predict.h"
#include "rubric.h"
#include "seed.h"
#include "server_stats.h"
#include "servers.h"

static const char PROGRAM[] = "grade";

#define EXIT_USAGE 1
#define EXIT_SETUP 2

/* How long a submission may take to build, and the slack every run gets on
 * top of its own bound (a loaded machine starts programs slowly). */
#define BUILD_LIMIT_S 180.0
#define RUN_SLACK_S 5.0
/* Efficiency: a run must end within this ratio of --predict, plus a fixed
 * allowance for starting the program and connecting. */
#define PREDICT_RATIO 1.25
#define PREDICT_ALLOWANCE_S 0.5
/* A program that sleeps while it waits uses a sliver of the CPU; one that
 * spins uses all of it. */
#define CPU_SHARE_MAX 0.1
#define CPU_ALLOWANCE_S 0.05

struct grading;

struct lab {
    const char *name;              /* "slow_api" */
    const char *source;            /* the file a student hands in: "async.c" */
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

/* Runs the built submission with `args` (NULL-terminated) after --url. */
static int run_submission(struct grading *grading, const char *url, const char *const *args,
                          double limit_s, const struct launch_event *event,
                          struct launch_result *result)
{
    const char *argv[32] = { grading->program, "--url", url };
    size_t count = 3;
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
    size_t count = 9;
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

/* ---------------------------------------------------------------- slow_api */

enum {
    SLOW_API_REPLIES_ALL, SLOW_API_REPLIES_LIMITED, SLOW_API_EXIT_OK,
    SLOW_API_ALL_IN_FLIGHT, SLOW_API_LIMIT_HELD,
    SLOW_API_ON_TIME, SLOW_API_SLEEPS,
    SLOW_API_SERVER_DOWN, SLOW_API_BAD_FLAG, SLOW_API_SERVER_DIES,
    SLOW_API_VALGRIND,
};

static const struct rubric_check SLOW_API_CHECKS[] = {
    [SLOW_API_REPLIES_ALL] = { "correctness", 15,
        "run 1 (no --concurrency): every request's reply printed once, with the server's text" },
    [SLOW_API_REPLIES_LIMITED] = { "correctness", 15,
        "run 2 (--concurrency C): the same" },
    [SLOW_API_EXIT_OK] = { "correctness", 5, "both runs exit 0" },
    [SLOW_API_ALL_IN_FLIGHT] = { "concurrency", 15,
        "run 1: all N requests in flight at once (slowserver's /stats max_in_flight)" },
    [SLOW_API_LIMIT_HELD] = { "concurrency", 15,
        "run 2: exactly C requests in flight at most: the limit reached, never passed" },
    [SLOW_API_ON_TIME] = { "efficiency", 10,
        "both runs end within 1.25x of --predict (+0.5 s to start); needs correct replies" },
    [SLOW_API_SLEEPS] = { "efficiency", 5,
        "it sleeps while it waits (curl_multi_poll): CPU time under 10% of the run" },
    [SLOW_API_SERVER_DOWN] = { "robustness", 3, "no server at --url: exit 2" },
    [SLOW_API_BAD_FLAG] = { "robustness", 2, "--concurrency 0: exit 1" },
    [SLOW_API_SERVER_DIES] = { "robustness", 5,
        "the server dies mid-run: the program still ends, within 5 s, with exit 3" },
    [SLOW_API_VALGRIND] = { "memory", 10,
        "valgrind: no memory errors, nothing leaked (every handle cleaned up)" },
};

struct slow_api_work {
    int count;                 /* N requests, one delay each */
    double delays[16];
    long concurrency;          /* C, for run 2 */
    char delay_list[256];      /* "0.35,0.5,..." for --delays */
    char concurrency_text[16];
};

/* The seed's problem: 5 to 8 requests of 0.3 to 0.6 s, at most C of them
 * at once.  Short enough to grade fast; long enough that one-at-a-time
 * (at least 1.5 s) can never pass for all-at-once (at most 1.25 s). */
static void slow_api_draw(unsigned long seed, struct slow_api_work *work)
{
    struct seed draw = seed_start(seed);
    work->count = (int)seed_between(&draw, 5, 8);
    size_t used = 0;
    for (int i = 0; i < work->count; i++) {
        work->delays[i] = seed_step(&draw, 0.3, 0.6, 0.05);
        used += (size_t)snprintf(work->delay_list + used, sizeof work->delay_list - used,
                                 "%s%g", i ? "," : "", work->delays[i]);
    }
    work->concurrency = seed_between(&draw, 2, work->count / 2);
    snprintf(work->concurrency_text, sizeof work->concurrency_text, "%ld", work->concurrency);
}

/* Every request's reply line, exactly once, with the text the server sends. */
static bool slow_api_replies_right(const struct slow_api_work *work,
                                   const struct launch_result *result, char *why, size_t size)
{
    for (int i = 0; i < work->count; i++) {
        char want[160];
        snprintf(want, sizeof want, "R%d: Request finally done! Server replied "
                 "'Done, I waited for %g secs'\n", i + 1, work->delays[i]);
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
    snprintf(why, size, "all %d replies printed once, with the server's text", work->count);
    return true;
}

/* Runs the submission on the work (limited to C in flight or not) and
 * reads the server's max_in_flight for /delay-me afterwards. */
static long slow_api_run(struct grading *grading, const char *url,
                         const struct slow_api_work *work, bool limited,
                         struct launch_result *result)
{
    double serial = 0;
    for (int i = 0; i < work->count; i++)
        serial += work->delays[i];
    server_stats_reset(url);
    const char *args[] = { "--delays", work->delay_list,
                           limited ? "--concurrency" : NULL, work->concurrency_text, NULL };
    run_submission(grading, url, args, 2.0 * serial, NULL, result);
    return server_stats_path(url, "/delay-me", "max_in_flight");
}

static void slow_api_grade_replies(struct grading *grading, size_t check, const char *run_name,
                                   const struct slow_api_work *work,
                                   const struct launch_result *result)
{
    char why[256], end[64];
    describe_end(result, end, sizeof end);
    bool right = slow_api_replies_right(work, result, why, sizeof why);
    if (result->killed || result->status > 128)
        grade_check(&grading->sheet, check, false, "%s: %s; %s", run_name, end, why);
    else
        grade_check(&grading->sheet, check, right, "%s: %s", run_name, why);
}

static double slow_api_allowed(double predicted)
{
    return PREDICT_RATIO * predicted + PREDICT_ALLOWANCE_S;
}

/* Stops the server under a running submission: SIGKILL, no goodbye. */
static void kill_server(void *context)
{
    struct server *server = context;
    if (server->pid > 0)
        kill(server->pid, SIGKILL);
}

static void slow_api_robustness(struct grading *grading)
{
    struct grade_sheet *sheet = &grading->sheet;
    struct launch_result result;
    char end[64], url[64];

    snprintf(url, sizeof url, "http://127.0.0.1:%d", closed_port());
    const char *plain[] = { "--delays", "0.3", NULL };
    run_submission(grading, url, plain, 15.0, NULL, &result);
    describe_end(&result, end, sizeof end);
    grade_check(sheet, SLOW_API_SERVER_DOWN, result.status == 2 && !result.killed,
                "no server at %s: %s%s", url, end, result.status == 2 ? "" : ", not exit 2");
    launch_result_free(&result);

    const char *bad[] = { "--concurrency", "0", NULL };
    run_submission(grading, "http://127.0.0.1:1", bad, 5.0, NULL, &result);
    describe_end(&result, end, sizeof end);
    grade_check(sheet, SLOW_API_BAD_FLAG, result.status == 1 && !result.killed,
                "--concurrency 0: %s%s", end, result.status == 1 ? "" : ", not exit 1");
    launch_result_free(&result);

    /* A server of its own, killed 0.5 s into three 3 s requests. */
    struct server_pool doomed;
    server_pool_init(&doomed, PROGRAM, bin_dir);
    const char *doomed_url = server_pool_url(&doomed, "async", true);
    if (doomed_url == NULL) {
        grade_skip(sheet, SLOW_API_SERVER_DIES, "could not start a second slowserver");
        return;
    }
    const char *slow[] = { "--delays", "3,3,3", NULL };
    struct launch_event kill_it = { 0.5, kill_server, &doomed.servers[0] };
    /* The run's bound: 0.5 s until the kill, then 5 s (RUN_SLACK_S). */
    run_submission(grading, doomed_url, slow, 0.5, &kill_it, &result);
    server_pool_stop(&doomed);
    describe_end(&result, end, sizeof end);
    bool ended_right = !result.killed && result.status == 3;
    grade_check(sheet, SLOW_API_SERVER_DIES, ended_right, "server killed 0.5 s in: %s%s", end,
                ended_right ? ", the failures reported"
                : result.killed ? ": it must give up on transfers that fail"
                                : ", not exit 3 (failed requests must say so)");
    launch_result_free(&result);
}

static void slow_api_memory(struct grading *grading, const char *url)
{
    if (!grading->memcheck) {
        grade_skip(&grading->sheet, SLOW_API_VALGRIND, "skipped (--no-memcheck)");
        return;
    }
    if (!valgrind_installed()) {
        grade_skip(&grading->sheet, SLOW_API_VALGRIND, "skipped: valgrind is not installed");
        return;
    }
    const char *args[] = { "--delays", "0.1,0.2,0.1", "--concurrency", "2", "--quiet", NULL };
    struct launch_result result;
    run_under_valgrind(grading, url, args, 120.0, &result);
    char detail[200] = "";
    line_with(result.err, "lost in", detail, sizeof detail);
    if (detail[0] == '\0')
        line_with(result.err, "Invalid", detail, sizeof detail);
    char end[64];
    describe_end(&result, end, sizeof end);
    bool clean = result.status == 0 && !result.killed;
    grade_check(&grading->sheet, SLOW_API_VALGRIND, clean, "valgrind: %s%s%s",
                clean ? "clean" : end, detail[0] ? ": " : "", detail);
    launch_result_free(&result);
}

static void grade_slow_api(struct grading *grading)
{
    struct grade_sheet *sheet = &grading->sheet;
    struct slow_api_work work;
    slow_api_draw(grading->seed, &work);
    grading->work = json_pack("{s:s, s:i, s:I}", "delays", work.delay_list,
                              "requests", work.count, "concurrency", (json_int_t)work.concurrency);
    const char *url = server_pool_url(&grading->servers, "async", true);
    if (url == NULL) {
        grade_fail_rest(sheet, "the grader could not start slowserver");
        return;
    }

    struct launch_result all, limited;
    long all_in_flight = slow_api_run(grading, url, &work, false, &all);
    long limited_in_flight = slow_api_run(grading, url, &work, true, &limited);

    slow_api_grade_replies(grading, SLOW_API_REPLIES_ALL, "run 1", &work, &all);
    slow_api_grade_replies(grading, SLOW_API_REPLIES_LIMITED, "run 2", &work, &limited);
    char end_all[64], end_limited[64];
    describe_end(&all, end_all, sizeof end_all);
    describe_end(&limited, end_limited, sizeof end_limited);
    grade_check(sheet, SLOW_API_EXIT_OK, all.status == 0 && limited.status == 0,
                "run 1: %s, run 2: %s", end_all, end_limited);

    if (all_in_flight < 0)
        all_in_flight = 0;  /* no /delay-me request reached the server */
    grade_check(sheet, SLOW_API_ALL_IN_FLIGHT, all_in_flight == work.count,
                "run 1: the server held %ld of the %d requests at once%s", all_in_flight,
                work.count, all_in_flight == work.count ? "" : ": they were not all overlapped");
    if (limited_in_flight < 0)
        limited_in_flight = 0;
    grade_check(sheet, SLOW_API_LIMIT_HELD, limited_in_flight == work.concurrency,
                "run 2 (--concurrency %ld): the server held %ld at once%s", work.concurrency,
                limited_in_flight,
                limited_in_flight > work.concurrency ? ": the limit was ignored"
                : limited_in_flight < work.concurrency ? ": the limit was never reached" : "");

    bool replies_right = sheet->results[SLOW_API_REPLIES_ALL].outcome == CHECK_PASSED
                      && sheet->results[SLOW_API_REPLIES_LIMITED].outcome == CHECK_PASSED;
    double predicted_all = predict_makespan(work.delays, (size_t)work.count, 0);
    double predicted_limited = predict_makespan(work.delays, (size_t)work.count,
                                                work.concurrency);
    bool on_time = all.wall_s <= slow_api_allowed(predicted_all)
                && limited.wall_s <= slow_api_allowed(predicted_limited);
    if (!replies_right)
        grade_check(sheet, SLOW_API_ON_TIME, false, "not timed: the replies were not right");
    else
        grade_check(sheet, SLOW_API_ON_TIME, on_time,
                    "run 1 took %.2f s (predicted %.2f, allowed %.2f), run 2 %.2f s "
                    "(predicted %.2f, allowed %.2f)", all.wall_s, predicted_all,
                    slow_api_allowed(predicted_all), limited.wall_s, predicted_limited,
                    slow_api_allowed(predicted_limited));

    double wall = all.wall_s + limited.wall_s, cpu = all.cpu_s + limited.cpu_s;
    bool sleeps = cpu <= CPU_SHARE_MAX * wall + CPU_ALLOWANCE_S;
    if (!replies_right)
        grade_check(sheet, SLOW_API_SLEEPS, false, "not measured: the replies were not right");
    else
        grade_check(sheet, SLOW_API_SLEEPS, sleeps, "used %.2f s of CPU in %.2f s (%.0f%%)%s",
                    cpu, wall, wall > 0 ? 100.0 * cpu / wall : 0.0,
                    sleeps ? "" : ": it spins instead of sleeping in curl_multi_poll");
    launch_result_free(&all);
    launch_result_free(&limited);

    slow_api_robustness(grading);
    slow_api_memory(grading, url);
}

/* ---------------------------------------------------------------- labs */

static const struct lab LABS[] = {
    { "slow_api", "async.c", SLOW_API_CHECKS,
      sizeof SLOW_API_CHECKS / sizeof SLOW_API_CHECKS[0], grade_slow_api },
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
                           source, output, "SANITIZE=", grading->program, NULL };
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
    char **run_args;      /* after --: the arguments for --run */
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
    fprintf(stream, "\n");
}

static int parse_options(int argc, char **argv, struct options *options)
{
    static const struct option table[] = {
        { "lab", required_argument, NULL, 'l' }, { "src", required_argument, NULL, 's' },
        { "dir", required_argument, NULL, 'd' }, { "seed", required_argument, NULL, 'S' },
        { "json", no_argument, NULL, 'j' }, { "rubric", no_argument, NULL, 'r' },
        { "run", no_argument, NULL, 'R' }, { "no-memcheck", no_argument, NULL, 'M' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    memset(options, 0, sizeof *options);
    options->memcheck = true;
    opterr = 0;
    int code;
    while ((code = getopt_long(argc, argv, "h", table, NULL)) != -1) {
        char *end;
        switch (code) {
        case 'l': options->lab = optarg; break;
        case 's': options->src = optarg; break;
        case 'd': options->dir = optarg; break;
        case 'S':
            errno = 0;
            options->seed = strtoul(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || optarg[0] == '\0' || optarg[0] == '-'
                || options->seed > 2147483647UL) {
                fprintf(stderr, "%s: --seed wants a whole number from 0 to 2147483647, "
                        "not '%s'\n", PROGRAM, optarg);
                return EXIT_USAGE;
            }
            options->seed_given = true;
            break;
        case 'j': options->json = true; break;
        case 'r': options->rubric = true; break;
        case 'R': options->run = true; break;
        case 'M': options->memcheck = false; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "%s: bad option '%s' (see --help)\n", PROGRAM, argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    options->run_args = argv + optind;
    if (optind < argc && !options->run) {
        fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", PROGRAM, argv[optind]);
        return EXIT_USAGE;
    }
    if (options->lab == NULL || find_lab(options->lab) == NULL) {
        fprintf(stderr, "%s: --lab must name a lab (see --help), not '%s'\n", PROGRAM,
                options->lab ? options->lab : "");
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

/* --run: the student's own program against a fresh server, output as it is. */
static int run_once(struct grading *grading, char **args)
{
    const char *url = server_pool_url(&grading->servers, "async", false);
    if (url == NULL)
        return EXIT_SETUP;
    const char *argv[64] = { grading->program, "--url", url };
    size_t count = 3;
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

static void remove_work_dir(const struct grading *grading)
{
    if (grading->program[0] != '\0')
        unlink(grading->program);
    rmdir(grading->work_dir);
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
    snprintf(grading.work_dir, sizeof grading.work_dir, "/tmp/asynclab-grade-XXXXXX");
    if (mkdtemp(grading.work_dir) == NULL) {
        fprintf(stderr, "%s: cannot make a scratch directory: %s\n", PROGRAM, strerror(errno));
        return EXIT_SETUP;
    }
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
    remove_work_dir(&grading);

    if (!options.run) {
        if (options.json)
            print_json(&grading);
        else
            grade_print(&grading.sheet, stdout);
    }
    json_decref(grading.work);
    return status;
}
