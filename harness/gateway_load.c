/*
 * gateway_load.c - the service lesson's load driver: K clients at once,
 * each asking a gateway for GET /dashboard, and what each one waited.
 *
 * For every gateway variant (harness/scenarios.h's service line) and every
 * K it starts a fresh slowserver-backed gateway on a free port, sends K
 * requests all at once (one libcurl multi handle: the driver itself must
 * never be what makes clients wait), checks every merged reply, and stops
 * the gateway again.  It reports each run's latency percentiles (p50, p95,
 * p99, max), throughput (replies per second over the run), the most
 * requests the upstream slowserver had in flight at once (its /stats), and
 * the gateway's thread count and peak memory (/proc).  A variant whose
 * model says a K would take longer than --cap is not run at that K.
 * `make run-scenario SCENARIO=service` runs this; `make bench` adds --json.
 * docs/service.md is the lesson.  harness/gateway_load/load.h says where
 * the clients and the table are.
 *
 *     build/bin/gateway_load [--scale F] [--k 1,10,100,1000] [--variants LIST]
 *                            [--cap S] [--upstream URL] [--json FILE] [--predict]
 *     build/bin/gateway_load --gateway URL [--k LIST]   (a gateway you started)
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
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "clock.h"
#include "fdlimit.h"
#include "gateway_load/load.h"
#include "http.h"
#include "launch.h"
#include "machine.h"
#include "parse.h"
#include "scenarios.h"
#include "servers.h"

const char LOAD_PROGRAM[] = "gateway_load";
static const char *const PROGRAM = LOAD_PROGRAM;

#define DEFAULT_KS "1,10,100,1000"
#define DEFAULT_CAP_S 60.0
#define MAX_K 20000L

volatile sig_atomic_t interrupted;

static void note_interrupt(int signal_number)
{
    (void)signal_number;
    interrupted = 1;
}

/* ------------------------------------------------------------ the upstream */

/* POST /stats/reset (reset true) or a field of GET /stats; -1 on error. */
static long upstream_stat(const char *upstream, bool reset)
{
    struct http_body body = { 0 };
    char *url = http_url(upstream, reset ? "/stats/reset" : "/stats");
    CURL *easy = url ? http_easy_new(&body) : NULL;
    long value = -1;
    if (easy != NULL) {
        curl_easy_setopt(easy, CURLOPT_URL, url);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT, 10L);
        if (reset)
            curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
        if (curl_easy_perform(easy) == CURLE_OK && !reset) {
            json_t *stats = json_loads(body.data ? body.data : "", 0, NULL);
            value = json_is_integer(json_object_get(stats, "max_in_flight"))
                    ? (long)json_integer_value(json_object_get(stats, "max_in_flight")) : -1;
            json_decref(stats);
        } else if (reset) {
            value = http_status(easy) == 204 ? 0 : -1;
        }
        curl_easy_cleanup(easy);
    }
    http_body_free(&body);
    free(url);
    return value;
}

/* ------------------------------------------------------------ gateways */

static char bin_dir[PATH_MAX];

#define GATEWAY_PATH_MAX (PATH_MAX + 64)

static void gateway_path(const char *variant, char *path, size_t size)
{
    snprintf(path, size, "%s/service_%s", bin_dir, variant);
}

/* What the gateway's own --predict says the last of K clients waits. */
static double ask_prediction(const struct options *options, const char *variant, long k)
{
    char path[GATEWAY_PATH_MAX], clients[32];
    gateway_path(variant, path, sizeof path);
    snprintf(clients, sizeof clients, "%ld", k);
    char *const argv[] = { path, "--scale", (char *)options->scale, "--clients", clients,
                           "--predict", NULL };
    char *out = NULL;
    double predicted = NAN;
    if (launch_capture(PROGRAM, argv, &out, NULL) != 0
        || sscanf(out, "Predicted time: %lf s", &predicted) != 1)
        predicted = NAN;
    free(out);
    return predicted;
}

/* A fresh gateway for one run, so that its thread count and peak memory
 * are this run's alone. */
static void measure(const struct options *options, const char *upstream, struct run *run)
{
    char path[GATEWAY_PATH_MAX], url[SERVER_URL_MAX];
    gateway_path(run->variant, path, sizeof path);
    char *const argv[] = { path, "--port", "0", "--upstream", (char *)upstream, "--scale",
                           (char *)options->scale, "--quiet", NULL };
    int out_fd;
    pid_t pid = server_start_listening(PROGRAM, argv, url, sizeof url, &out_fd);
    if (pid < 0) {
        snprintf(run->first_problem, sizeof run->first_problem, "%s did not start", argv[0]);
        if (out_fd >= 0)
            close(out_fd);
        return;
    }
    upstream_stat(upstream, true);
    /* Generous: a client gives up only when something is really wrong. */
    double timeout = (isfinite(run->predicted) ? 3 * run->predicted : options->cap) + 30.0;
    drive(url, run, timeout, pid);
    run->upstream_max_in_flight = upstream_stat(upstream, false);
    kill(pid, SIGTERM);
    run->gateway_exit = launch_wait(pid);
    close(out_fd);
}

/* ------------------------------------------------------------ options */

static void usage(FILE *stream)
{
    fprintf(stream,
            "usage: %s [--scale F] [--k LIST] [--variants LIST] [--cap S] [--upstream URL]\n"
            "                    [--json FILE] [--predict]\n"
            "       %s --gateway URL [--k LIST]\n"
            "Sends K concurrent GET /dashboard requests to each service gateway (a fresh one per\n"
            "run, in front of a slowserver it starts unless --upstream is given) and prints the\n"
            "latency percentiles, throughput, upstream concurrency, gateway threads and memory.\n"
            "Defaults: --scale 1 --k %s --variants sync,async,sync_threads --cap %g\n"
            "(a run whose model says the last client would wait longer than the cap is skipped).\n"
            "Example: %s --scale 0.1 --k 1,10,100\n", PROGRAM, PROGRAM, DEFAULT_KS,
            DEFAULT_CAP_S, PROGRAM);
}

static const struct scenario *service_scenario(void)
{
    for (size_t i = 0; i < SCENARIO_COUNT; i++)
        if (SCENARIOS[i].serves)
            return &SCENARIOS[i];
    return NULL;
}

/* --variants a,b: pointers into the value, which is split in place. */
static bool parse_variants(char *value, struct options *options)
{
    size_t count = 0;
    for (char *save = NULL, *name = strtok_r(value, ",", &save); name != NULL;
         name = strtok_r(NULL, ",", &save)) {
        if (count == SCENARIO_MAX_VARIANTS || strpbrk(name, "/.") != NULL)
            return false;
        options->variants[count++] = name;
    }
    options->variants[count] = NULL;
    return count > 0;
}

static const struct option OPTIONS[] = {
    { "scale", required_argument, NULL, 0 },    { "k", required_argument, NULL, 0 },
    { "variants", required_argument, NULL, 0 }, { "cap", required_argument, NULL, 0 },
    { "upstream", required_argument, NULL, 0 }, { "gateway", required_argument, NULL, 0 },
    { "json", required_argument, NULL, 0 },     { "predict", no_argument, NULL, 0 },
    { NULL, 0, NULL, 0 },
};

static int apply_option(void *context, const struct option *option, const char *text)
{
    struct options *options = context;
    const char *name = option->name;
    char *value = (char *)text;  /* getopt_long's optarg: argv, ours to split */
    double number;
    bool ok = true;
    const char *expected = "";
    if (strcmp(name, "predict") == 0) {
        options->predict = true;
    } else if (strcmp(name, "scale") == 0) {
        ok = parse_double_in(value, 0, 1000, &number) && number > 0;
        expected = "a number greater than 0, at most 1000";
        if (ok)
            snprintf(options->scale, sizeof options->scale, "%s", value);
    } else if (strcmp(name, "k") == 0) {
        ok = parse_double_list(value, 1, MAX_K, options->ks, MAX_KS, &options->k_count);
        for (size_t i = 0; ok && i < options->k_count; i++)
            ok = options->ks[i] == floor(options->ks[i]);
        expected = "comma-separated whole numbers";
    } else if (strcmp(name, "variants") == 0) {
        ok = parse_variants(value, options);
        expected = "comma-separated variant names";
    } else if (strcmp(name, "cap") == 0) {
        ok = parse_double_in(value, 0, 100000, &options->cap);
        expected = "seconds from 0 to 100000";
    } else if (strcmp(name, "json") == 0) {
        ok = value[0] != '\0';
        options->json_path = value;
        expected = "a file path";
    } else {  /* upstream, gateway */
        ok = strncmp(value, "http://", 7) == 0;
        *(strcmp(name, "upstream") == 0 ? &options->upstream : &options->gateway) = value;
        expected = "an http:// URL";
    }
    return ok ? -1 : args_bad_value(PROGRAM, name, value, expected);
}

static int parse_options(int argc, char **argv, struct options *options)
{
    memset(options, 0, sizeof *options);
    snprintf(options->scale, sizeof options->scale, "1");
    options->cap = DEFAULT_CAP_S;
    char defaults[] = DEFAULT_KS;
    parse_double_list(defaults, 1, MAX_K, options->ks, MAX_KS, &options->k_count);
    const struct scenario *scenario = service_scenario();
    for (size_t i = 0; scenario != NULL && scenario->variants[i] != NULL; i++)
        options->variants[i] = scenario->variants[i];
    return args_parse_options(PROGRAM, OPTIONS, apply_option, usage, options, argc, argv);
}

/* ------------------------------------------------------------ main */

/* --gateway URL: someone else's gateway, each K once. */
static int drive_given_gateway(const struct options *options)
{
    if (!http_server_reachable(PROGRAM, options->gateway))
        return EXIT_SETUP;
    print_header();
    bool all_right = true;
    for (size_t i = 0; i < options->k_count && !interrupted; i++) {
        struct run run = { .variant = "given", .k = (long)options->ks[i], .predicted = NAN,
                           .upstream_max_in_flight = -1, .gateway_threads = -1,
                           .gateway_peak_rss_kb = -1 };
        drive(options->gateway, &run, options->cap + 30.0, 0);
        print_run(&run);
        all_right = all_right && run.right == run.k;
    }
    return interrupted ? 130 : all_right ? EXIT_ALL_DONE : EXIT_TASKS_FAILED;
}

static void print_predictions(const struct options *options)
{
    printf("The model, for the last of K clients at once (scale %s):\n", options->scale);
    for (size_t v = 0; options->variants[v] != NULL; v++) {
        printf("  %-13s", options->variants[v]);
        for (size_t i = 0; i < options->k_count; i++)
            printf("  K=%-5.0f %8.3f s", options->ks[i],
                   ask_prediction(options, options->variants[v], (long)options->ks[i]));
        printf("\n");
    }
}

/* Every variant at every K; the runs go to `runs`.  True if every run that
 * was not skipped got K right replies and its gateway stopped cleanly. */
static bool run_all(const struct options *options, const char *upstream, json_t *runs)
{
    bool all_right = true;
    print_header();
    for (size_t v = 0; options->variants[v] != NULL && !interrupted; v++) {
        for (size_t i = 0; i < options->k_count && !interrupted; i++) {
            struct run run = { .variant = options->variants[v], .k = (long)options->ks[i],
                               .gateway_exit = -1 };
            run.predicted = ask_prediction(options, run.variant, run.k);
            run.skipped = isfinite(run.predicted) && run.predicted > options->cap;
            if (!run.skipped)
                measure(options, upstream, &run);
            if (interrupted)
                break;
            print_run(&run);
            json_array_append_new(runs, run_json(&run));
            if (!run.skipped && (run.right != run.k || run.gateway_exit != 0))
                all_right = false;
        }
    }
    return all_right;
}

/* Every gateway --variants names must have been built (not needed with
 * --gateway, which drives one that is already running). */
static bool gateways_built(const struct options *options)
{
    for (size_t v = 0; options->gateway == NULL && options->variants[v] != NULL; v++) {
        char path[GATEWAY_PATH_MAX];
        gateway_path(options->variants[v], path, sizeof path);
        if (access(path, X_OK) != 0) {
            fprintf(stderr, "%s: no gateway %s (run make; the variants are the service "
                    "line's in harness/scenarios.h)\n", PROGRAM, path);
            return false;
        }
    }
    return true;
}

/* Every variant at every K against one upstream slowserver (ours, or
 * --upstream's), the table printed as it goes and --json written. */
static int drive_every_gateway(const struct options *options)
{
    struct server_pool servers;
    server_pool_init(&servers, PROGRAM, bin_dir);
    if (options->upstream != NULL)
        server_pool_adopt(&servers, "async", options->upstream);
    const char *upstream = server_pool_url(&servers, "async", false);
    int status = EXIT_SETUP;
    if (upstream != NULL) {
        printf("==========\nservice at scale %s: K clients at once, each GET /dashboard "
               "(three upstream calls of %g, %g and %g s); a fresh gateway per run\n",
               options->scale, 2 * atof(options->scale), 3 * atof(options->scale),
               atof(options->scale));
        json_t *runs = json_array();
        bool all_right = run_all(options, upstream, runs);
        printf("right = replies whose three parts were all there and right; upstream = the most "
               "requests slowserver had in flight at once; threads = the gateway's most\n"
               "==========\n");
        status = all_right ? EXIT_ALL_DONE : EXIT_TASKS_FAILED;
        if (!interrupted && options->json_path != NULL && !write_json(options, runs))
            status = EXIT_SETUP;
        json_decref(runs);
    }
    server_pool_stop(&servers);
    return status;
}

int main(int argc, char **argv)
{
    struct options options;
    int early_exit = parse_options(argc, argv, &options);
    if (early_exit >= 0)
        return early_exit;
    if (!launch_find_bin_dir(PROGRAM, bin_dir, sizeof bin_dir))
        return EXIT_SETUP;
    if (!gateways_built(&options))
        return EXIT_USAGE;
    if (options.predict) {
        print_predictions(&options);
        return EXIT_ALL_DONE;
    }
    /* The gateways and the slowserver are in our process group, so a
     * Ctrl+C reaches them too; we stop the run and wait for them. */
    struct sigaction on_interrupt = { .sa_handler = note_interrupt };
    sigaction(SIGINT, &on_interrupt, NULL);
    sigaction(SIGTERM, &on_interrupt, NULL);
    signal(SIGPIPE, SIG_IGN);
    fdlimit_raise();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int status = options.gateway != NULL ? drive_given_gateway(&options)
                                         : drive_every_gateway(&options);
    curl_global_cleanup();
    if (options.gateway == NULL && interrupted) {
        fprintf(stderr, "%s: interrupted; the gateway and the slowserver it started are "
                "stopped\n", PROGRAM);
        return 130;
    }
    return status;
}

