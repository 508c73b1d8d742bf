/*
 * bench_scale.c - `make bench-scale`: thousands of concurrent requests,
 * event loop against threads, measured.
 *
 * For each K (default 3, 100, 1 000, 5 000, 10 000) and each pairing of a
 * client with a server mode, it starts a fresh slowserver, sends K requests
 * of one fixed delay D all at once, and records what the run cost:
 *
 *   - elapsed / D: 1.00 is the ideal (every request waited exactly D);
 *   - CPU per request, client and server (user + system time over K);
 *   - peak memory (RSS) of both, and the most threads each had;
 *   - the kernel's listen-queue overflows during the run (dropped SYNs make
 *     clients retry a second later, so they must stay at 0).
 *
 * A pairing that fails at some K (a thread it could not start, a timeout)
 * is recorded with the reason and not tried at larger K.  Then it measures
 * throughput with D = 0.  Everything goes to DIR/scale.json, which `report`
 * renders into REPORT.md.  docs/scale.md is the lesson.  One run and how
 * its cost is measured are in harness/bench_scale/one_run.c.
 *
 *     build/bin/bench_scale [--k 3,100,1000] [--delay 1] [--out build/results]
 *                           [--timeout 120] [--no-throughput]
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "atomic_file.h"
#include "bench_scale/scale.h"
#include "exit_codes.h"
#include "clock.h"
#include "launch.h"
#include "machine.h"
#include "parse.h"
#include "servers.h"

const char SCALE_PROGRAM[] = "bench_scale";
static const char *const PROGRAM = SCALE_PROGRAM;

#define MAX_K_VALUES 16

static const struct pairing PAIRINGS[] = {
    { "event loop (epoll) client, async server", "slow_api_async_epoll", "async" },
    { "event loop (poll) client, async server", "slow_api_async", "async" },
    { "thread-per-request client, async server", "slow_api_sync_threads", "async" },
    { "event loop (epoll) client, thread-per-connection server", "slow_api_async_epoll", "threads" },
    /* The layer below libcurl (docs/event_loops.md): HTTP by hand. */
    { "hand-written epoll client, async server", "event_loops_async", "async" },
    { "hand-written io_uring client, async server", "event_loops_async_uring", "async" },
};
#define PAIRING_COUNT (sizeof PAIRINGS / sizeof PAIRINGS[0])

struct options {
    double k_values[MAX_K_VALUES];
    size_t k_count;
    double delay;
    double timeout;
    const char *out;
    bool throughput;
};

/* ------------------------------------------------------------ output */

static json_t *measurement_json(const struct pairing *pairing, long k, double delay,
                                const struct measurement *m)
{
    json_t *run = json_pack("{s:s, s:s, s:s, s:I, s:f, s:b, s:i}",
                            "pairing", pairing->label, "client", pairing->client,
                            "server_mode", pairing->server_mode, "k", (json_int_t)k,
                            "delay", delay, "ok", m->failure[0] == '\0',
                            "exit_status", m->exit_status);
    if (!isnan(m->elapsed)) {
        json_object_set_new(run, "elapsed", json_real(m->elapsed));
        if (delay > 0)
            json_object_set_new(run, "elapsed_over_delay", json_real(m->elapsed / delay));
    }
    if (!isnan(m->client_cpu))
        json_object_set_new(run, "client_cpu_us_per_request", json_real(m->client_cpu * 1e6 / (double)k));
    if (!isnan(m->server_cpu))
        json_object_set_new(run, "server_cpu_us_per_request", json_real(m->server_cpu * 1e6 / (double)k));
    json_object_set_new(run, "client_peak_rss_kb", json_integer(m->client_peak_rss_kb));
    json_object_set_new(run, "server_peak_rss_kb", json_integer(m->server_peak_rss_kb));
    json_object_set_new(run, "client_max_threads", json_integer(m->client_max_threads));
    json_object_set_new(run, "server_max_threads", json_integer(m->server_max_threads));
    json_object_set_new(run, "listen_overflows", json_integer(m->listen_overflows));
    json_object_set_new(run, "failure", m->failure[0] ? json_string(m->failure) : json_null());
    return run;
}

static void print_row(const struct pairing *pairing, long k, const struct measurement *m)
{
    if (m->failure[0] != '\0') {
        printf("  K=%-6ld %-58s FAILED: %s\n", k, pairing->label, m->failure);
        return;
    }
    printf("  K=%-6ld %-58s %7.3f s  cpu/req client %6.1f us server %6.1f us  "
           "rss %6ld/%6ld KB  threads %ld/%ld  overflows %ld\n",
           k, pairing->label, m->elapsed, m->client_cpu * 1e6 / (double)k,
           m->server_cpu * 1e6 / (double)k, m->client_peak_rss_kb, m->server_peak_rss_kb,
           m->client_max_threads, m->server_max_threads, m->listen_overflows);
    fflush(stdout);
}

/* The sweep: every pairing at every K, stopping a pairing at its first failure. */
static json_t *sweep(const char *bin_dir, const struct options *options)
{
    json_t *runs = json_array();
    for (size_t p = 0; p < PAIRING_COUNT; p++) {
        const struct pairing *pairing = &PAIRINGS[p];
        const char *stopped = NULL;
        char reason[320];
        for (size_t i = 0; i < options->k_count; i++) {
            long k = (long)options->k_values[i];
            if (stopped != NULL) {
                json_array_append_new(runs, json_pack("{s:s, s:s, s:s, s:I, s:b, s:s}",
                    "pairing", pairing->label, "client", pairing->client,
                    "server_mode", pairing->server_mode, "k", (json_int_t)k, "ok", 0,
                    "skipped", stopped));
                printf("  K=%-6ld %-58s skipped: %s\n", k, pairing->label, stopped);
                continue;
            }
            struct measurement m;
            bool ok = measure(bin_dir, pairing, k, options->delay, k, options->timeout, &m);
            print_row(pairing, k, &m);
            json_array_append_new(runs, measurement_json(pairing, k, options->delay, &m));
            if (!ok) {
                snprintf(reason, sizeof reason, "failed at K=%ld (%s)", k, m.failure);
                stopped = reason;
            }
        }
    }
    return runs;
}

/* Requests per second of wrk against a fresh async-mode slowserver, or NAN
 * when wrk is not installed. */
static double wrk_throughput(const char *bin_dir, char *command, size_t size)
{
    struct server_pool pool;
    server_pool_init(&pool, PROGRAM, bin_dir);
    const char *url = server_pool_url(&pool, "async", true);
    double rate = NAN;
    if (url != NULL) {
        char target[SERVER_URL_MAX + 32];
        snprintf(target, sizeof target, "%s/delay-me?seconds=0", url);
        snprintf(command, size, "wrk -t2 -c100 -d10s URL/delay-me?seconds=0");
        char *const argv[] = { "wrk", "-t2", "-c100", "-d10s", target, NULL };
        char *out = NULL;
        if (launch_capture(PROGRAM, argv, &out, NULL) == 0 && out != NULL) {
            const char *line = strstr(out, "Requests/sec:");
            if (line != NULL)
                sscanf(line, "Requests/sec: %lf", &rate);
        }
        free(out);
    }
    server_pool_stop(&pool);
    return rate;
}

/* D = 0: 10 000 requests, 100 in flight on reused connections. */
static json_t *throughput(const char *bin_dir)
{
    const long requests = 10000, in_flight = 100;
    json_t *results = json_array();
    const char *clients[] = { "slow_api_async_epoll", "slow_api_async" };
    for (size_t i = 0; i < 2; i++) {
        struct pairing pairing = { clients[i], clients[i], "async" };
        struct measurement m;
        measure(bin_dir, &pairing, requests, 0.0, in_flight, 120.0, &m);
        double rate = m.failure[0] == '\0' ? (double)requests / m.elapsed : NAN;
        printf("  throughput %-24s %ld requests, %ld in flight: %.0f requests/s%s%s\n",
               clients[i], requests, in_flight, rate, m.failure[0] ? " FAILED: " : "", m.failure);
        json_t *entry = json_pack("{s:s, s:I, s:I, s:f}", "client", clients[i],
                                  "requests", (json_int_t)requests, "in_flight",
                                  (json_int_t)in_flight, "elapsed", m.elapsed);
        if (!isnan(rate))
            json_object_set_new(entry, "requests_per_second", json_real(rate));
        json_array_append_new(results, entry);
    }
    char command[128];
    double rate = wrk_throughput(bin_dir, command, sizeof command);
    if (!isnan(rate)) {
        printf("  throughput %-24s %.0f requests/s\n", "wrk -t2 -c100 -d10s", rate);
        json_array_append_new(results, json_pack("{s:s, s:s, s:f}", "client", "wrk",
                                                 "command", command, "requests_per_second", rate));
    } else {
        printf("  throughput: wrk not installed or failed; skipped\n");
    }
    return results;
}

/* ------------------------------------------------------------ main */

static void usage(FILE *stream)
{
    fprintf(stream, "usage: %s [--k LIST] [--delay S] [--out DIR] [--timeout S] [--no-throughput]\n"
            "Sends K requests at once for each K and each client/server pairing; writes DIR/scale.json.\n"
            "Defaults: --k 3,100,1000,5000,10000 --delay 1 --out build/results --timeout 120\n"
            "\nExample: %s --k 3,100,1000 --out build/results\n", PROGRAM, PROGRAM);
}

static const struct option OPTIONS[] = {
    { "k", required_argument, NULL, 0 },       { "delay", required_argument, NULL, 0 },
    { "timeout", required_argument, NULL, 0 }, { "out", required_argument, NULL, 0 },
    { "no-throughput", no_argument, NULL, 0 }, { NULL, 0, NULL, 0 },
};

static int apply_option(void *context, const struct option *option, const char *value)
{
    struct options *options = context;
    const char *name = option->name;
    if (strcmp(name, "no-throughput") == 0)
        options->throughput = false;
    else if (strcmp(name, "out") == 0)
        options->out = value;
    else if (strcmp(name, "k") == 0 && !parse_double_list(value, 1, 50000, options->k_values,
                                                          MAX_K_VALUES, &options->k_count))
        return args_bad_value(PROGRAM, name, value, "up to 16 comma-separated counts, 1 to 50000");
    else if (strcmp(name, "delay") == 0 && !parse_double_in(value, 0, 60, &options->delay))
        return args_bad_value(PROGRAM, name, value, "seconds from 0 to 60");
    else if (strcmp(name, "timeout") == 0 && !parse_double_in(value, 1, 3600, &options->timeout))
        return args_bad_value(PROGRAM, name, value, "seconds from 1 to 3600");
    return -1;
}

static int parse_options(int argc, char **argv, struct options *options)
{
    static const double default_k[] = { 3, 100, 1000, 5000, 10000 };
    memcpy(options->k_values, default_k, sizeof default_k);
    options->k_count = 5;
    options->delay = 1.0;
    options->timeout = 120.0;
    options->out = "build/results";  /* not the committed reference run */
    options->throughput = true;
    int status = args_parse_options(PROGRAM, OPTIONS, apply_option, usage, options, argc, argv);
    if (status >= 0)
        return status;
    for (size_t i = 0; i < options->k_count; i++)
        if (options->k_values[i] != floor(options->k_values[i])) {
            char value[32];
            snprintf(value, sizeof value, "%g", options->k_values[i]);
            return args_bad_value(PROGRAM, "k", value, "whole numbers");
        }
    return -1;
}

/* Every run, and what scale.json says about where and when they ran. */
static json_t *run_and_describe(const char *bin_dir, const struct options *options,
                                double started)
{
    char date[32];
    machine_date_now(date, sizeof date);
    json_t *document = json_pack("{s:s, s:f, s:o, s:o}", "date", date, "delay", options->delay,
                                 "machine", machine_describe(), "versions", machine_versions());
    json_t *k_list = json_array();
    for (size_t i = 0; i < options->k_count; i++)
        json_array_append_new(k_list, json_integer((json_int_t)options->k_values[i]));
    json_object_set_new(document, "k", k_list);
    json_object_set_new(document, "runs", sweep(bin_dir, options));
    if (options->throughput)
        json_object_set_new(document, "throughput", throughput(bin_dir));
    json_object_set_new(document, "wall_seconds", json_real(clock_now() - started));
    return document;
}

int main(int argc, char **argv)
{
    struct options options;
    int early_exit = parse_options(argc, argv, &options);
    if (early_exit >= 0)
        return early_exit;
    char bin_dir[PATH_MAX];
    if (!launch_find_bin_dir(PROGRAM, bin_dir, sizeof bin_dir))
        return EXIT_SETUP;
    if (mkdir(options.out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: cannot create %s: %s\n", PROGRAM, options.out, strerror(errno));
        return EXIT_SETUP;
    }
    /* Servers are stopped by server_pool_stop after each run; a Ctrl+C
     * reaches them too (same process group), so none is left behind. */
    printf("Scale sweep: K requests of %g s all at once, a fresh slowserver per run\n",
           options.delay);
    double started = clock_now();
    json_t *document = run_and_describe(bin_dir, &options, started);

    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/scale.json", options.out);
    bool written = atomic_json_dump(PROGRAM, document, path,
                                    JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    json_decref(document);
    if (!written)
        return EXIT_SETUP;
    printf("Wrote %s (%.0f s)\n", path, clock_now() - started);
    return EXIT_ALL_DONE;
}

