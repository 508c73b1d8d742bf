/*
 * scenarios.h - the one list of scenarios the harness knows.
 *
 * A new scenario joins `make run-scenario` (and the benchmarks) by one line
 * here: its folder name under scenarios/, whether it talks to slowserver,
 * and its programs, sync first, as build/bin/<name>_<variant>.  The first
 * variant is the baseline every speedup is measured against.
 *
 * A variant written "async@blocking" runs build/bin/<name>_async against a
 * slowserver started with --mode blocking (the server-side pitfall); a plain
 * variant runs against the usual async-mode server.
 */
#ifndef ASYNCLAB_HARNESS_SCENARIOS_H
#define ASYNCLAB_HARNESS_SCENARIOS_H

#include <stdbool.h>
#include <stddef.h>

#define SCENARIO_MAX_VARIANTS 8

struct scenario {
    const char *name;                              /* folder under scenarios/ */
    bool uses_server;                              /* false: no slowserver, no --url */
    const char *variants[SCENARIO_MAX_VARIANTS];   /* NULL-terminated; [0] is the baseline */
};

static const struct scenario SCENARIOS[] = {
    { "slow_api", true, { "sync", "async", NULL } },
    { "blocking_pitfall", true,
      { "sync", "async_blocking", "async", "async_offload", "async@blocking", NULL } },
    { "database", false, { "sync", "async", NULL } },
    { "producer_consumer", true, { "sync", "async", NULL } },
    { "timeouts", true, { "sync", "async", NULL } },
};

#define SCENARIO_COUNT (sizeof SCENARIOS / sizeof SCENARIOS[0])

#endif
