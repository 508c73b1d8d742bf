/*
 * run_scenario.c - `make run-scenario SCENARIO=slow_api [SCALE=0.1]`.
 *
 * Runs every program of one scenario against the same slowserver, one after
 * another, lets the student watch each one's own output, and ends with a
 * side-by-side: each program's elapsed time, what the lesson's model
 * predicted, and the speedup over the sync program.
 *
 * If a server already answers at the URL (say, `make run-server` in another
 * terminal) it is used; otherwise one is started on a free port and stopped
 * at the end, also when the student presses Ctrl+C.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "clock.h"
#include "http.h"
#include "parse.h"
#include "scenarios.h"
#include "servers.h"
#include "launch.h"

static const char PROGRAM[] = "run_scenario";

/* Set by SIGINT/SIGTERM: stop after the program that is running.  The
 * load driver (run_gateways) gets a SIGTERM sent to us alone passed on. */
static volatile sig_atomic_t interrupted;

static void note_interrupt(int signal_number)
{
    (void)signal_number;
    interrupted = 1;
    launch_forward_term();
}

struct options {
    const char *scenario;
    const char *scale;   /* passed through as typed */
    char url[CLI_URL_MAX];
    bool url_given;
};

struct variant_result {
    const char *variant;
    double elapsed;      /* wall time of the whole program */
    double predicted;    /* from its --predict; < 0 if unknown */
    int exit_status;
};

static char bin_dir[4096];
static struct server_pool servers;

static void usage(FILE *stream)
{
    fprintf(stream, "usage: %s --scenario NAME [--scale F] [--url URL]\n"
            "Runs a scenario's programs one after another against one slowserver and compares them.\n"
            "Scenarios:", PROGRAM);
    for (size_t i = 0; i < SCENARIO_COUNT; i++)
        fprintf(stream, " %s", SCENARIOS[i].name);
    fprintf(stream, "\nExample: %s --scenario slow_api --scale 0.1\n", PROGRAM);
}

static const struct option OPTIONS[] = {
    { "scenario", required_argument, NULL, 0 },
    { "scale", required_argument, NULL, 0 },
    { "url", required_argument, NULL, 0 },
    { NULL, 0, NULL, 0 },
};

static int apply_option(void *context, const struct option *option, const char *value)
{
    struct options *options = context;
    if (strcmp(option->name, "scenario") == 0) {
        options->scenario = value;
    } else if (strcmp(option->name, "scale") == 0) {
        double scale;
        if (!parse_double_in(value, 0.0, 1000.0, &scale) || scale <= 0.0)
            return args_bad_value(PROGRAM, "scale", value,
                                  "a number greater than 0, at most 1000");
        options->scale = value;
    } else {  /* url */
        snprintf(options->url, sizeof options->url, "%s", value);
        options->url_given = true;
    }
    return -1;
}

static int parse_options(int argc, char **argv, struct options *options)
{
    options->scenario = NULL;
    options->scale = "1";
    const char *env_url = getenv("ASYNCLAB_URL");
    snprintf(options->url, sizeof options->url, "%s",
             env_url && env_url[0] ? env_url : CLI_DEFAULT_URL);
    options->url_given = env_url && env_url[0];
    static const char *const required[] = { "scenario", NULL };
    const struct args_parser parser = {
        .program = PROGRAM,
        .options = OPTIONS,
        .required = required,
        .apply = apply_option,
        .usage = usage,
        .context = options,
    };
    return args_parse(&parser, argc, argv);
}

static const struct scenario *find_scenario(const char *name)
{
    for (size_t i = 0; name != NULL && i < SCENARIO_COUNT; i++)
        if (strcmp(SCENARIOS[i].name, name) == 0)
            return &SCENARIOS[i];
    return NULL;
}

/* Runs a program and waits for it; its output goes straight to ours. */
static int run_program(char *const argv[])
{
    pid_t pid = launch_start(PROGRAM, argv, -1);
    return pid < 0 ? -1 : launch_wait(pid);
}

/* Asks a program what the lesson's model predicts ("Predicted time: X s"):
 * the same command line with --predict added. */
static double ask_prediction(char *const *argv)
{
    char *with_predict[10];
    int argc = 0;
    for (; argv[argc] != NULL && argc < 8; argc++)
        with_predict[argc] = argv[argc];
    with_predict[argc++] = "--predict";
    with_predict[argc] = NULL;

    char *out = NULL;
    double predicted = -1;
    if (launch_capture(PROGRAM, with_predict, &out, NULL) == 0
        && sscanf(out, "Predicted time: %lf s", &predicted) != 1)
        predicted = -1;
    free(out);
    return predicted;
}

/* The URL of a server in `mode`, starting one on first use.  An async-mode
 * server that already answers at the user's URL is used as it is. */
static const char *server_url(const struct options *options, const char *mode)
{
    static bool checked_for_running_server;
    if (strcmp(mode, "async") == 0 && !checked_for_running_server) {
        checked_for_running_server = true;
        if (http_server_probe(options->url)) {
            server_pool_adopt(&servers, "async", options->url);
            printf("Using the server already running at %s\n"
                   "  live view: open %s/live in a browser to watch its requests wait\n",
                   options->url, options->url);
        } else if (options->url_given) {
            fprintf(stderr, "%s: nothing answers at %s; start it with: make run-server\n",
                    PROGRAM, options->url);
            return NULL;
        }
    }
    return server_pool_url(&servers, mode, false);
}

static bool run_variant(const struct scenario *scenario, const char *variant,
                        const struct options *options, struct variant_result *result)
{
    char program[64];
    const char *mode;
    variant_split(variant, program, sizeof program, &mode);
    const char *url = NULL;
    if (scenario->uses_server && (url = server_url(options, mode)) == NULL)
        return false;

    char path[sizeof bin_dir + 128];
    snprintf(path, sizeof path, "%s/%s_%s", bin_dir, scenario->name, program);
    char *argv[8] = { path, "--scale", (char *)options->scale };
    int argc = 3;
    if (url != NULL) {
        argv[argc++] = "--url";
        argv[argc++] = (char *)url;
    }
    argv[argc] = NULL;

    result->variant = variant;
    result->predicted = ask_prediction(argv);
    printf("\n>>> %s_%s --scale %s%s%s\n", scenario->name, program, options->scale,
           url ? " against a slowserver in mode " : "", url ? mode : "");
    fflush(stdout);
    double started = clock_now();
    result->exit_status = run_program(argv);
    result->elapsed = clock_now() - started;
    return true;
}

/* The service lesson's programs are servers: build/bin/gateway_load starts
 * them, drives them with K clients and prints the side-by-side itself. */
static int run_gateways(const struct options *options)
{
    char path[sizeof bin_dir + 32];
    snprintf(path, sizeof path, "%s/gateway_load", bin_dir);
    char *argv[] = { path, "--scale", (char *)options->scale, NULL, NULL, NULL };
    if (options->url_given) {
        argv[3] = "--upstream";
        argv[4] = (char *)options->url;
    }
    int status = launch_run_forwarding(PROGRAM, argv);
    return status < 0 ? EXIT_SETUP : status;
}

static void print_comparison(const struct scenario *scenario, const struct options *options,
                             const struct variant_result *results, size_t count)
{
    const struct variant_result *baseline = &results[0];
    printf("\n==========\n%s at scale %s, side by side (wall time of each program)\n",
           scenario->name, options->scale);
    printf("%-16s %12s %12s %10s %10s  %s\n", "program", "elapsed", "predicted", "speedup",
           "ideal", "exit");
    for (size_t i = 0; i < count; i++) {
        const struct variant_result *r = &results[i];
        char predicted[32] = "?", ideal[32] = "?";
        if (r->predicted >= 0)
            snprintf(predicted, sizeof predicted, "%.3f s", r->predicted);
        if (r->predicted > 0 && baseline->predicted >= 0)
            snprintf(ideal, sizeof ideal, "%.2fx", baseline->predicted / r->predicted);
        printf("%-16s %10.3f s %12s %9.2fx %10s  %d\n", r->variant, r->elapsed, predicted,
               baseline->elapsed / r->elapsed, ideal, r->exit_status);
    }
    printf("speedup = %s elapsed / this elapsed; ideal = the same ratio of the predictions\n"
           "==========\n", baseline->variant);
}

/* Each variant in turn, until one cannot start or Ctrl+C; the servers
 * started for them are stopped again.  False if one could not start. */
static bool run_variants(const struct scenario *scenario, const struct options *options,
                         struct variant_result *results, size_t *count)
{
    server_pool_init(&servers, PROGRAM, bin_dir);
    curl_global_init(CURL_GLOBAL_DEFAULT);  /* for the /health probe */
    bool started_all = true;
    for (*count = 0; *count < SCENARIO_MAX_VARIANTS && scenario->variants[*count] && !interrupted;
         ++*count) {
        if (!run_variant(scenario, scenario->variants[*count], options, &results[*count])) {
            started_all = false;
            break;
        }
    }
    curl_global_cleanup();
    server_pool_stop(&servers);
    return started_all;
}

/* A lesson whose batch fails partly on purpose (timeouts) exits 3 every
 * time; that is its success, and anything else is still a failure. */
static int exit_status_of(const struct scenario *scenario, const struct variant_result *results,
                          size_t count)
{
    int expected = scenario->fails_by_design ? EXIT_TASKS_FAILED : EXIT_ALL_DONE;
    for (size_t i = 0; i < count; i++)
        if (results[i].exit_status != expected)
            return EXIT_TASKS_FAILED;
    if (scenario->fails_by_design)
        printf("(exit 3 from every program is this lesson's expected result: some tasks "
               "fail on purpose)\\n");
    return EXIT_ALL_DONE;
}

int main(int argc, char **argv)
{
    struct options options;
    int early_exit = parse_options(argc, argv, &options);
    if (early_exit >= 0)
        return early_exit;
    const struct scenario *scenario = find_scenario(options.scenario);
    if (scenario == NULL) {
        scenarios_unknown(stderr, PROGRAM, options.scenario);
        return EXIT_USAGE;
    }
    if (!launch_find_bin_dir(PROGRAM, bin_dir, sizeof bin_dir))
        return EXIT_SETUP;

    /* The children get Ctrl+C from the terminal as well; we only have to
     * stop starting new ones and clean up the server. */
    struct sigaction on_interrupt = { .sa_handler = note_interrupt };
    sigaction(SIGINT, &on_interrupt, NULL);
    sigaction(SIGTERM, &on_interrupt, NULL);
    if (scenario->serves)
        return run_gateways(&options);

    struct variant_result results[SCENARIO_MAX_VARIANTS];
    size_t count = 0;
    bool started_all = run_variants(scenario, &options, results, &count);
    if (!started_all)
        return EXIT_SETUP;
    if (interrupted) {
        fprintf(stderr, "%s: interrupted; the servers it started are stopped\n", PROGRAM);
        return 130;
    }
    print_comparison(scenario, &options, results, count);
    return exit_status_of(scenario, results, count);
}
