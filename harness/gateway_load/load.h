/*
 * load.h - what the parts of `gateway_load` (harness/gateway_load.c and
 * harness/gateway_load/) share.  gateway_load.c reads the command line
 * and starts a fresh gateway per run; clients.c sends the K clients at once
 * and checks their replies; table.c prints the table and writes --json.
 */
#ifndef ASYNCLAB_GATEWAY_LOAD_H
#define ASYNCLAB_GATEWAY_LOAD_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "scenarios.h"

extern const char LOAD_PROGRAM[];   /* "gateway_load", for messages */
/* Set by SIGINT/SIGTERM: the clients still waiting are given up. */
extern volatile sig_atomic_t interrupted;

#define MAX_KS 16

struct options {
    char scale[32];
    double ks[MAX_KS];
    size_t k_count;
    const char *variants[SCENARIO_MAX_VARIANTS + 1];
    double cap;
    const char *upstream;   /* NULL: start a slowserver */
    const char *gateway;    /* drive this gateway only */
    const char *json_path;
    bool predict;
};

/* One run: one variant, one K. */
struct run {
    const char *variant;
    long k;
    double predicted;      /* the model's wait for the last client; NAN if unknown */
    bool skipped;
    long replied, right, failed;
    char first_problem[200];
    double p50, p95, p99, max, throughput;
    long upstream_max_in_flight;
    long gateway_threads, gateway_peak_rss_kb;
    int gateway_exit;
};

/* clients.c: K clients at once against gateway, each given `timeout`
 * seconds; fills run's counts and percentiles.  While they run it samples
 * the thread count of `watch` (the gateway; 0: none). */
void drive(const char *gateway, struct run *run, double timeout, pid_t watch);

/* table.c: the table on stdout, a row per run as it ends. */
void print_header(void);
void print_run(const struct run *run);
/* A run as one entry of --json's "runs"; the whole file. */
json_t *run_json(const struct run *run);
bool write_json(const struct options *options, json_t *runs);

#endif
