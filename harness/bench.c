/*
 * bench.c - `make bench`: every variant of every scenario through hyperfine.
 *
 * For each scenario in harness/scenarios.h it starts the slowservers the
 * variants need (on free ports; stopped at the end, also on Ctrl+C), asks
 * each program what the lesson's model predicts (--predict), and hands all
 * the variants to one hyperfine call: a warm-up run, then --runs timed runs
 * each, exported as results/<scenario>.json.  Every run also writes a trace,
 * so the last one of each variant is kept for the timeline charts.  Then a
 * scaling sweep: slow_api sync and async for K requests of one delay.
 * Everything it learned (machine, versions, predictions, which files hold
 * what) goes into results/summary.json, and build/bin/report turns that
 * into REPORT.md and charts.  docs/harness.md explains how to read them.
 * This file runs the suite; harness/bench/bench.h says what its other
 * files do.
 *
 *     build/bin/bench [--scale F|quick] [--runs N] [--warmup N] [--out DIR]
 *                     [--scenario NAME] [--sweep-ks LIST|none] [--sweep-cap S]
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "atomic_file.h"
#include "bench/bench.h"
#include "exit_codes.h"
#include "clock.h"
#include "hyperfine.h"
#include "launch.h"
#include "machine.h"
#include "parse.h"
#include "scenarios.h"
#include "servers.h"
#include "staging.h"

const char BENCH_PROGRAM[] = "bench";
static const char *const PROGRAM = BENCH_PROGRAM;

/* Set by SIGINT/SIGTERM; the handler also passes SIGTERM on to the running
 * hyperfine, so a `kill` of bench alone does not leave it behind. */
volatile sig_atomic_t interrupted;

static void on_interrupt(int signal_number)
{
    (void)signal_number;
    interrupted = 1;
    launch_forward_term();
}

static char bin_dir[4096];
char program_dir[4096];
struct server_pool servers;

static void usage(FILE *stream)
{
    fprintf(stream,
            "usage: %s [--scale F|quick] [--runs N] [--warmup N] [--out DIR] [--scenario NAME]\n"
            "             [--sweep-ks LIST|none] [--sweep-cap S]\n"
            "Benchmarks every variant of every scenario with hyperfine and writes DIR/summary.json,\n"
            "one hyperfine JSON per scenario, a trace per variant, and (via report) REPORT.md and\n"
            "charts.  Defaults: --scale quick (%g), --runs %d, --warmup %d, --out build/results,\n"
            "--sweep-ks %s, --sweep-cap %g (seconds a sync sweep run may be predicted to take).\n"
            "Scenarios:", PROGRAM, QUICK_SCALE, DEFAULT_RUNS, DEFAULT_WARMUP, SWEEP_DEFAULT_KS,
            SWEEP_DEFAULT_CAP_S);
    for (size_t i = 0; i < SCENARIO_COUNT; i++)
        fprintf(stream, " %s", SCENARIOS[i].name);
    fprintf(stream, "\nExample: %s --scale quick --runs 5 --out /tmp/my-run\n", PROGRAM);
}

static int bad_value(const char *flag, const char *value, const char *expected)
{
    return args_bad_value(PROGRAM, flag + 2, value, expected);  /* flag: "--runs" */
}

static const struct scenario *find_scenario(const char *name)
{
    for (size_t i = 0; name != NULL && i < SCENARIO_COUNT; i++)
        if (strcmp(SCENARIOS[i].name, name) == 0)
            return &SCENARIOS[i];
    return NULL;
}

static int apply_option(struct options *options, const char *flag, const char *value)
{
    if (strcmp(flag, "--scale") == 0) {
        if (strcmp(value, "quick") == 0) {
            options->scale = QUICK_SCALE;
            options->scale_name = "quick";
        } else if (parse_double_in(value, 0.0, 1000.0, &options->scale) && options->scale > 0) {
            options->scale_name = NULL;
        } else {
            return bad_value(flag, value, "quick, or a number greater than 0, at most 1000");
        }
        snprintf(options->scale_text, sizeof options->scale_text, "%g", options->scale);
    } else if (strcmp(flag, "--runs") == 0) {
        if (!parse_long_in(value, 1, 1000, &options->runs))
            return bad_value(flag, value, "a whole number from 1 to 1000");
    } else if (strcmp(flag, "--warmup") == 0) {
        if (!parse_long_in(value, 0, 100, &options->warmup))
            return bad_value(flag, value, "a whole number from 0 to 100");
    } else if (strcmp(flag, "--out") == 0) {
        if (value[0] == '\0' || strpbrk(value, " \t\n'\"\\") != NULL)
            return bad_value(flag, value, "a directory path without spaces or quotes");
        options->out_dir = value;
    } else if (strcmp(flag, "--scenario") == 0) {
        if (find_scenario(value) == NULL) {
            scenarios_unknown(stderr, PROGRAM, value);
            return EXIT_USAGE;
        }
        options->only = value;
    } else if (strcmp(flag, "--sweep-ks") == 0) {
        if (strcmp(value, "none") == 0)
            options->sweep_k_count = 0;
        else if (!parse_double_list(value, 1, 100000, options->sweep_ks, SWEEP_MAX_KS,
                                    &options->sweep_k_count))
            return bad_value(flag, value, "none, or up to 16 comma-separated counts of 1 to 100000");
        for (size_t i = 0; i < options->sweep_k_count; i++)
            if (options->sweep_ks[i] != floor(options->sweep_ks[i]))
                return bad_value(flag, value, "whole numbers");
    } else if (strcmp(flag, "--sweep-cap") == 0) {
        if (!parse_double_in(value, 0.0, 100000.0, &options->sweep_cap))
            return bad_value(flag, value, "seconds, from 0 to 100000");
    } else {
        fprintf(stderr, "%s: unknown option '%s' (see --help)\n", PROGRAM, flag);
        return EXIT_USAGE;
    }
    return -1;
}

static const struct option OPTIONS[] = {
    { "scale", required_argument, NULL, 0 },    { "runs", required_argument, NULL, 0 },
    { "warmup", required_argument, NULL, 0 },   { "out", required_argument, NULL, 0 },
    { "scenario", required_argument, NULL, 0 }, { "sweep-ks", required_argument, NULL, 0 },
    { "sweep-cap", required_argument, NULL, 0 }, { NULL, 0, NULL, 0 },
};

static int apply_parsed(void *context, const struct option *option, const char *value)
{
    char flag[32];
    snprintf(flag, sizeof flag, "--%s", option->name);
    return apply_option(context, flag, value);
}

static int parse_options(int argc, char **argv, struct options *options)
{
    memset(options, 0, sizeof *options);
    options->scale = QUICK_SCALE;
    options->scale_name = "quick";
    snprintf(options->scale_text, sizeof options->scale_text, "%g", QUICK_SCALE);
    options->runs = DEFAULT_RUNS;
    options->warmup = DEFAULT_WARMUP;
    options->out_dir = "build/results";  /* not the committed reference run */
    options->sweep_cap = SWEEP_DEFAULT_CAP_S;
    parse_double_list(SWEEP_DEFAULT_KS, 1, 100000, options->sweep_ks, SWEEP_MAX_KS,
                      &options->sweep_k_count);
    return args_parse_options(PROGRAM, OPTIONS, apply_parsed, usage, options, argc, argv);
}

static bool make_dir(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return true;
    fprintf(stderr, "%s: cannot create %s: %s\n", PROGRAM, path, strerror(errno));
    return false;
}

/* ------------------------------------------------------------ summary */

static json_t *command_of_this_run(int argc, char **argv)
{
    char line[2048] = "";
    size_t used = 0;
    for (int i = 0; i < argc && used < sizeof line; i++)
        used += (size_t)snprintf(line + used, sizeof line - used, "%s%s", i ? " " : "",
                                 i == 0 ? "build/bin/bench" : argv[i]);
    return json_string(line);
}

/* summary.json goes into the staging directory with the rest, and is the
 * last file moved into place. */
static bool write_summary(const struct options *options, json_t *summary)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/summary.json", options->out_dir);
    return atomic_json_dump(PROGRAM, summary, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER)
           && staging_publish(PROGRAM, options->out_dir, options->results_dir, "summary.json");
}

/* The harness programs live in build/bin; the commands are shown relative
 * to the working directory when they can be ("build/bin/slow_api_sync"). */
static void choose_program_dir(void)
{
    char cwd[4096];
    size_t length = getcwd(cwd, sizeof cwd) ? strlen(cwd) : 0;
    if (length > 0 && strncmp(bin_dir, cwd, length) == 0 && bin_dir[length] == '/')
        snprintf(program_dir, sizeof program_dir, "%s", bin_dir + length + 1);
    else
        snprintf(program_dir, sizeof program_dir, "%s", bin_dir);
}

static bool prepare_out_dir(const char *out_dir)
{
    char path[PATH_MAX];
    if (!make_dir(out_dir))
        return false;
    snprintf(path, sizeof path, "%s/traces", out_dir);
    return make_dir(path);
}

static bool hyperfine_available(void)
{
    char *const argv[] = { "hyperfine", "--version", NULL };
    return launch_capture(PROGRAM, argv, NULL, NULL) == 0;
}

/* ------------------------------------------------------------ the gateways */

/* The service lesson's programs are servers, not runs to time: its load
 * driver starts each gateway in front of our slowserver, sends K clients
 * at once and writes DIR/service.json (latency percentiles per K), which
 * the report draws.  A variant whose model says the last client would wait
 * longer than the sweep's cap is skipped at that K, as in the sweep. */
static bool bench_gateways(const struct options *options, const struct scenario *scenario)
{
    const char *url = server_pool_url(&servers, "async", false);
    if (url == NULL)
        return false;
    char path[sizeof bin_dir + 32], json_path[PATH_MAX], cap[32];
    snprintf(path, sizeof path, "%s/gateway_load", bin_dir);
    snprintf(json_path, sizeof json_path, "%s/%s.json", options->out_dir, scenario->name);
    snprintf(cap, sizeof cap, "%g", options->sweep_cap);
    char *const argv[] = { path, "--scale", (char *)options->scale_text, "--upstream",
                           (char *)url, "--cap", cap, "--json", json_path, NULL };
    printf("\n== %s: K clients at once against each gateway (gateway_load)\n", scenario->name);
    return launch_run_forwarding(PROGRAM, argv) == 0;
}

/* build/bin/report DIR: REPORT.md and the charts from what was written. */
static int run_report(const char *out_dir)
{
    char path[sizeof bin_dir + 16];
    snprintf(path, sizeof path, "%s/report", bin_dir);
    char *const argv[] = { path, (char *)out_dir, NULL };
    pid_t pid = launch_start(PROGRAM, argv, -1);
    return pid < 0 ? -1 : launch_wait(pid);
}

/* Everything before the first run: where the programs are, hyperfine,
 * the output directory and its staging directory (options->out_dir from
 * now on; options->results_dir is where it is published), the signal
 * handlers and the server pool.  False after a message. */
static bool prepare_run(struct options *options, char *staging, size_t size)
{
    if (!launch_find_bin_dir(PROGRAM, bin_dir, sizeof bin_dir))
        return false;
    choose_program_dir();
    if (!hyperfine_available())
        return false;  /* launch said: cannot start hyperfine (run make deps first) */
    if (!prepare_out_dir(options->out_dir)
        || !staging_create(PROGRAM, options->out_dir, "traces", staging, size))
        return false;
    options->results_dir = options->out_dir;
    options->out_dir = staging;

    struct sigaction interrupt = { .sa_handler = on_interrupt };
    sigaction(SIGINT, &interrupt, NULL);
    sigaction(SIGTERM, &interrupt, NULL);
    server_pool_init(&servers, PROGRAM, bin_dir);
    return true;
}

/* Every scenario asked for, in harness/scenarios.h's order: their entries
 * for summary.json (the service lesson's gateways write a file of their
 * own).  *all_measured turns false if one was not. */
static json_t *bench_scenarios(const struct options *options, bool *all_measured)
{
    json_t *scenarios = json_array();
    for (size_t i = 0; i < SCENARIO_COUNT && !interrupted; i++) {
        if (options->only != NULL && strcmp(options->only, SCENARIOS[i].name) != 0)
            continue;
        if (SCENARIOS[i].serves) {
            if (!bench_gateways(options, &SCENARIOS[i]) && !interrupted) {
                *all_measured = false;
                fprintf(stderr, "%s: %s not measured: gateway_load failed\n", PROGRAM,
                        SCENARIOS[i].name);
            }
            continue;
        }
        json_t *entry = bench_scenario(options, &SCENARIOS[i]);
        if (!json_is_true(json_object_get(entry, "measured"))) {
            *all_measured = false;
            fprintf(stderr, "%s: %s not measured: %s\n", PROGRAM, SCENARIOS[i].name,
                    json_string_value(json_object_get(entry, "error")));
        }
        json_array_append_new(scenarios, entry);
    }
    return scenarios;
}

static bool sweep_wanted(const struct options *options)
{
    return options->sweep_k_count > 0 && find_scenario(SWEEP_SCENARIO) != NULL
           && (options->only == NULL || strcmp(options->only, SWEEP_SCENARIO) == 0);
}

/* summary.json's contents; takes scenarios and sweep over. */
static json_t *summary_of_run(const struct options *options, int argc, char **argv,
                              const char *date, double wall_time, json_t *scenarios,
                              json_t *sweep)
{
    return json_pack(
        "{s:i, s:s, s:o, s:f, s:s*, s:i, s:i, s:f, s:o, s:o, s:o, s:o}",
        "asynclab_results", 1, "date", date, "command", command_of_this_run(argc, argv),
        "scale", options->scale, "scale_name", options->scale_name,
        "runs", (int)options->runs, "warmup", (int)options->warmup, "wall_time_s", wall_time,
        "machine", machine_describe(), "versions", machine_versions(),
        "scenarios", scenarios, "sweep", sweep ? sweep : json_null());
}

/* The summary published and REPORT.md rendered from the results. */
static int finish_run(const struct options *options, json_t *summary, const char *staging,
                      double wall_time, bool all_measured)
{
    bool written = summary != NULL && write_summary(options, summary);
    json_decref(summary);
    if (!written) {
        staging_discard(staging);
        return EXIT_SETUP;
    }
    printf("\nSuite wall time: %.1f s (scale %s, %ld run%s per variant); results in %s/\n",
           wall_time, options->scale_text, options->runs, options->runs == 1 ? "" : "s",
           options->results_dir);
    fflush(stdout);
    int report_status = run_report(options->results_dir);
    if (report_status != 0) {
        fprintf(stderr, "%s: report ended with status %d; the results are complete, "
                "render them again with: make report\n", PROGRAM, report_status);
        return EXIT_SETUP;
    }
    return all_measured ? EXIT_ALL_DONE : EXIT_TASKS_FAILED;
}

int main(int argc, char **argv)
{
    struct options options;
    int early_exit = parse_options(argc, argv, &options);
    if (early_exit >= 0)
        return early_exit;
    char staging[PATH_MAX];
    if (!prepare_run(&options, staging, sizeof staging))
        return EXIT_SETUP;

    double started = clock_now();
    char date[32];
    machine_date_now(date, sizeof date);
    bool all_measured = true;
    json_t *scenarios = bench_scenarios(&options, &all_measured);
    json_t *sweep = sweep_wanted(&options) && !interrupted ? bench_sweep(&options) : NULL;
    double wall_time = clock_now() - started;
    server_pool_stop(&servers);

    if (interrupted) {
        json_decref(scenarios);
        json_decref(sweep);
        staging_discard(staging);
        fprintf(stderr, "%s: interrupted; the servers it started are stopped, "
                "%s/ is left as it was\n", PROGRAM, options.results_dir);
        return 130;
    }
    json_t *summary = summary_of_run(&options, argc, argv, date, wall_time, scenarios, sweep);
    return finish_run(&options, summary, staging, wall_time, all_measured);
}

