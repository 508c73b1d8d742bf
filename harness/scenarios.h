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
 *
 * Two optional fields may follow the variants (docs/harness.md):
 *     .fails_by_design = true       the programs exit 3 on purpose, so the
 *                                   benchmark ignores exit 3 (only exit 3)
 *     .lesson = { { "sync", 17 }, { "async", 10 } }
 *                                   what the Python lesson printed for some
 *                                   variants at scale 1, shown in the report
 *     .lesson_note = "PostgreSQL"   where those numbers come from
 *     .serves = true                the programs are servers (the service
 *                                   lesson): the harness drives them with
 *                                   build/bin/gateway_load, not hyperfine
 */
#ifndef ASYNCLAB_HARNESS_SCENARIOS_H
#define ASYNCLAB_HARNESS_SCENARIOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SCENARIO_MAX_VARIANTS 8

/* A time the Python lesson printed for one of the variants. */
struct lesson_time {
    const char *variant;
    double seconds;
};

struct scenario {
    const char *name;                              /* folder under scenarios/ */
    bool uses_server;                              /* false: no slowserver, no --url */
    const char *variants[SCENARIO_MAX_VARIANTS];   /* NULL-terminated; [0] is the baseline */

    /* Optional: a line may stop after the variants, and these are then
     * false, 0 and NULL. */
    bool fails_by_design;   /* exits 3 on purpose (the timeout lesson): the
                               benchmark passes --ignore-failure to hyperfine */
    struct lesson_time lesson[SCENARIO_MAX_VARIANTS];  /* what the Python lesson printed
                                                          (scale 1), by variant */
    const char *lesson_note;                           /* where those numbers come from */
    bool serves;            /* gateways, not clients: run by build/bin/gateway_load */
};

/* Lines that stop after the variants leave the optional fields to their
 * zero defaults on purpose; -Wextra would call that a missing initializer. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static const struct scenario SCENARIOS[] = {
    { "slow_api", true, { "sync", "async", NULL },
      .lesson = { { "sync", 17 }, { "async", 10 } } },
    { "blocking_pitfall", true,
      { "sync", "async_blocking", "async", "async_offload", "async@blocking", NULL },
      .lesson = { { "sync", 17 }, { "async_blocking", 17 }, { "async", 10 } },
      .lesson_note = "sync and async are the lesson's sync.py and async.py, async_blocking "
                     "its async_w_sync.py; it has no program like async_offload or a "
                     "blocking server" },
    { "database", false, { "sync", "async", "sync_postgres", "async_postgres", NULL },
      .lesson = { { "sync_postgres", 22.9 }, { "async_postgres", 18.4 } },
      .lesson_note = "measured on PostgreSQL with asyncpg by the Python lesson; sync and "
                     "async are SQLite, which it did not measure" },
    { "producer_consumer", true, { "sync", "async", NULL } },
    { "timeouts", true, { "sync", "async", NULL }, .fails_by_design = true },
    { "event_loops", true, { "sync", "async", "async_uring", NULL } },
    { "service", true, { "sync", "async", "sync_threads", NULL },
      .lesson = { { "sync", 6 }, { "async", 3 } },
      .lesson_note = "one client's GET /dashboard (FastAPI's /dashboard)", .serves = true },
};

#pragma GCC diagnostic pop

#define SCENARIO_COUNT (sizeof SCENARIOS / sizeof SCENARIOS[0])

/* "program: unknown scenario 'NAME' (one of: slow_api, ...)": one line. */
static inline void scenarios_unknown(FILE *stream, const char *program, const char *name)
{
    fprintf(stream, "%s: unknown scenario '%s' (one of:", program, name ? name : "");
    for (size_t i = 0; i < SCENARIO_COUNT; i++)
        fprintf(stream, "%s %s", i ? "," : "", SCENARIOS[i].name);
    fprintf(stream, ")\n");
}

#endif
