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
 * "total: N/100".  --json prints the same as one JSON object.  This file
 * reads the command line and picks the lab; harness/grade/grading.h says
 * where the rest is.
 *
 *     build/bin/grade --lab slow_api --src async.c [--seed N] [--json]
 *     build/bin/grade --lab slow_api --dir WORKSPACE --run [-- ARGS]
 *     build/bin/grade --lab slow_api --rubric      (the points, for HANDOUT.md)
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "exit_codes.h"
#include "grade/grading.h"
#include "launch.h"
#include "parse.h"
#include "rubric.h"
#include "scratch.h"
#include "seed.h"
#include "servers.h"

const char GRADE_PROGRAM[] = "grade";
static const char *const PROGRAM = GRADE_PROGRAM;
char grade_bin_dir[PATH_MAX];

/* ---------------------------------------------------------------- labs */

static const struct lab *const LABS[] = {
    &SLOW_API_LAB, &BLOCKING_PITFALL_LAB, &DATABASE_LAB, &TIMEOUTS_LAB, &PRODUCER_CONSUMER_LAB,
};
#define LAB_COUNT (sizeof LABS / sizeof LABS[0])

static const struct lab *find_lab(const char *name)
{
    for (size_t i = 0; i < LAB_COUNT; i++)
        if (strcmp(LABS[i]->name, name) == 0)
            return LABS[i];
    return NULL;
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
        fprintf(stream, " %s", LABS[i]->name);
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
static int run_once(struct grading *grading, char *const *args)
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

/* Everything before the build: the submission's path, the seed, a scratch
 * directory, the servers' pool and the signal handlers.  False after a
 * message. */
static bool start_grading(const struct options *options, const struct lab *lab,
                          struct grading *grading)
{
    if (!launch_find_bin_dir(PROGRAM, grade_bin_dir, sizeof grade_bin_dir))
        return false;
    *grading = (struct grading){ .lab = lab, .memcheck = options->memcheck };
    if (!find_submission(options, lab, grading->submission, sizeof grading->submission))
        return false;
    grading->seed = options->seed_given ? options->seed
                                        : (unsigned long)(time(NULL) ^ getpid()) % 2147483648UL;
    if (!scratch_make(PROGRAM, "grade", grading->work_dir, sizeof grading->work_dir))
        return false;
    setenv("NO_COLOR", "1", 1);  /* plain lines to compare */
    server_pool_init(&grading->servers, PROGRAM, grade_bin_dir);
    running_servers = &grading->servers;
    signal(SIGINT, stop_on_signal);
    signal(SIGTERM, stop_on_signal);
    signal(SIGPIPE, SIG_IGN);
    grade_sheet_init(&grading->sheet, lab->checks, lab->check_count);
    return true;
}

/* Builds the submission, then grades it (or, with --run, runs it once).
 * Returns the exit status. */
static int build_and_grade(const struct options *options, struct grading *grading)
{
    if (!options->json && !options->run)
        printf("grading %s for lab %s, seed %lu (SEED=%lu grades the same work again)\n",
               grading->submission, grading->lab->name, grading->seed, grading->seed);
    fflush(stdout);
    int status = 0;
    if (build_submission(grading)) {
        if (options->run)
            status = run_once(grading, options->run_args);
        else
            grading->lab->grade(grading);
    } else if (options->run) {
        fprintf(stderr, "%s: %s\n", PROGRAM, grading->sheet.results[0].reason);
        status = EXIT_SETUP;
    }
    server_pool_stop(&grading->servers);
    running_servers = NULL;
    scratch_remove(grading->work_dir);
    return status;
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
    struct grading grading;
    if (!start_grading(&options, lab, &grading))
        return EXIT_SETUP;
    int status = build_and_grade(&options, &grading);
    if (!options.run) {
        if (options.json)
            print_json(&grading);
        else
            grade_print(&grading.sheet, stdout);
    }
    json_decref(grading.work);
    return status;
}
