/*
 * scenarios.h - the one list of scenarios the harness knows.
 *
 * A new scenario joins `make run-scenario` (and the benchmarks) by one line
 * here: its folder name under scenarios/ and its programs, sync first, as
 * build/bin/<name>_<variant>.  The first variant is the baseline every
 * speedup is measured against.
 */
#ifndef ASYNCLAB_HARNESS_SCENARIOS_H
#define ASYNCLAB_HARNESS_SCENARIOS_H

#include <stddef.h>

#define SCENARIO_MAX_VARIANTS 8

struct scenario {
    const char *name;                              /* folder under scenarios/ */
    const char *variants[SCENARIO_MAX_VARIANTS];   /* NULL-terminated; [0] is the baseline */
};

static const struct scenario SCENARIOS[] = {
    { "slow_api", { "sync", "async", NULL } },
};

#define SCENARIO_COUNT (sizeof SCENARIOS / sizeof SCENARIOS[0])

#endif
