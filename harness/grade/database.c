/*
 * database.c - grading the database lab.
 *
 * The database lab: three SQLite queries on worker threads, completions
 * back through a pipe.  No server: the grader builds a seeded database
 * (database_makedb --seed), so the row counts are the seed's, and proves
 * the overlap with the work windows each query's own thread recorded
 * (each query's bar in the trace, and args.answered_s).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grading.h"
#include "proc_stat.h"
#include "seed.h"
#include "server_stats.h"

enum {
    DB_REPLIES, DB_EXIT_OK, DB_WORK_OVERLAPS, DB_REPORTED_PROMPTLY, DB_SLEEPS,
    DB_MISSING, DB_BAD_FLAG, DB_DAMAGED, DB_VALGRIND,
};

static const struct rubric_check DATABASE_CHECKS[] = {
    [DB_REPLIES] = { "correctness", 30,
        "every query's row count printed once, right for the seeded database" },
    [DB_EXIT_OK] = { "correctness", 5, "exit 0" },
    [DB_WORK_OVERLAPS] = { "concurrency", 20,
        "the three queries' work overlaps (work windows their threads recorded in the trace)" },
    [DB_REPORTED_PROMPTLY] = { "concurrency", 15,
        "each result reported within 0.15 s (or a fifth of the run) of its query's end: the loop "
        "wakes on the pipe" },
    [DB_SLEEPS] = { "efficiency", 10,
        "the loop sleeps while the workers work: its own thread's CPU (sampled from /proc) "
        "under 2% of the run (+0.05 s); needs the queries on workers" },
    [DB_MISSING] = { "robustness", 3, "no database at --db: exit 2" },
    [DB_BAD_FLAG] = { "robustness", 2, "--bogus: exit 1" },
    [DB_DAMAGED] = { "robustness", 5,
        "a damaged database: every query's failure reported, exit 2, within 4 s" },
    [DB_VALGRIND] = { "memory", 10,
        "valgrind: no memory errors, nothing leaked (every thread joined, connection closed)" },
};

#define DB_QUERIES 3
#define DB_PROMPT_S 0.15
#define DB_PROMPT_SHARE 0.2
#define DB_LOOP_CPU_SHARE 0.02
#define DB_LOOP_CPU_ALLOWANCE_S 0.05

/* One query's times in the trace, in seconds from the program's start. */
struct query_times {
    bool found;
    double work_start, work_end, reported;
};

/* Runs one of the checkout's own programs (database_makedb, database_sync). */
static int run_tool(const char *tool, const char *const *args, double limit_s,
                    struct launch_result *result)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", grade_bin_dir, tool);
    const char *argv[16] = { path };
    size_t count = 1;
    for (size_t i = 0; args[i] != NULL && count < 15; i++)
        argv[count++] = args[i];
    argv[count] = NULL;
    return launch_run_bounded(GRADE_PROGRAM, (char *const *)argv, limit_s, NULL, result);
}

static bool make_database(struct grading *grading, const char *path, long cities)
{
    char cities_text[32], seed_text[32];
    snprintf(cities_text, sizeof cities_text, "%ld", cities);
    snprintf(seed_text, sizeof seed_text, "%lu", grading->seed);
    const char *args[] = { "--out", path, "--cities", cities_text, "--seed", seed_text,
                           "--force", "--quiet", NULL };
    struct launch_result result;
    bool made = run_tool("database_makedb", args, 120.0, &result) == 0;
    if (!made)
        fprintf(stderr, "%s: database_makedb failed: %s", GRADE_PROGRAM, result.err);
    launch_result_free(&result);
    return made;
}

/* The row count the program printed for query n, or -1. */
static long long printed_rows(const char *out, int number, int *times)
{
    char label[64];
    snprintf(label, sizeof label, "Q%d: Query made! Db replied '", number);
    long long rows = -1;
    *times = 0;
    for (const char *at = strstr(out, label); at != NULL; at = strstr(at + 1, label)) {
        rows = strtoll(at + strlen(label), NULL, 10);
        (*times)++;
    }
    return rows;
}

/* A copy of the database with its middle overwritten: the schema reads,
 * the queries hit pages that are garbage. */
static bool damage_copy(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    bool ok = in != NULL && out != NULL;
    if (ok) {
        fseek(in, 0, SEEK_END);
        long size = ftell(in);
        rewind(in);
        struct seed noise = seed_start(7);
        char page[4096];
        size_t got;
        long at = 0;
        while ((got = fread(page, 1, sizeof page, in)) > 0) {
            if (at > size / 3 && at < 2 * size / 3)
                for (size_t i = 0; i < got; i++)
                    page[i] = (char)seed_next(&noise);
            ok = ok && fwrite(page, 1, got, out) == got;
            at += (long)got;
        }
    }
    if (in != NULL)
        fclose(in);
    if (out != NULL && fclose(out) != 0)
        ok = false;
    return ok;
}

/* Reads each query's work window and when the loop reported it from the
 * program's trace: a query's bar is the window its own thread stamped
 * (database_query_run), and args.answered_s when the loop had the result. */
static bool read_query_times(const char *trace_path, struct query_times times[DB_QUERIES])
{
    memset(times, 0, DB_QUERIES * sizeof times[0]);
    json_t *trace = json_load_file(trace_path, 0, NULL);
    size_t index;
    json_t *event;
    json_array_foreach(json_object_get(trace, "traceEvents"), index, event) {
        json_t *args = json_object_get(event, "args");
        json_t *answered = json_object_get(args, "answered_s");
        const char *name = json_string_value(json_object_get(event, "name"));
        int number = 0;
        if (answered == NULL || name == NULL || sscanf(name, "Q%d", &number) != 1
            || number < 1 || number > DB_QUERIES)
            continue;
        struct query_times *query = &times[number - 1];
        query->found = true;
        query->work_start = json_number_value(json_object_get(event, "ts")) / 1e6;
        query->work_end = query->work_start
                        + json_number_value(json_object_get(event, "dur")) / 1e6;
        query->reported = json_number_value(answered);
    }
    json_decref(trace);
    for (int i = 0; i < DB_QUERIES; i++)
        if (!times[i].found)
            return false;
    return true;
}

/* The CPU a running program's main thread (the event loop) has used so
 * far, from /proc: the workers' CPU is the queries', the loop's is its own. */
static void sample_main_thread(void *context, pid_t pid)
{
    double *seconds = context;
    struct proc_stat stat;
    if (proc_stat_read((int)pid, (int)pid, &stat))  /* the thread whose id is the pid's */
        *seconds = stat.cpu_seconds;
}

/* What the trace says about the three queries: when the last began work,
 * the first ended it, the program ended (its last report), and which
 * query's result was reported longest after its work ended. */
struct query_overlap {
    double latest_start, earliest_end, wall, latest_report;
    int late;  /* that query's number, 1 to 3 */
};

static struct query_overlap overlap_of(const struct query_times times[DB_QUERIES])
{
    struct query_overlap o = { .latest_start = 0, .earliest_end = 1e300 };
    for (int i = 0; i < DB_QUERIES; i++) {
        if (times[i].work_start > o.latest_start)
            o.latest_start = times[i].work_start;
        if (times[i].work_end < o.earliest_end)
            o.earliest_end = times[i].work_end;
        double delay = times[i].reported - times[i].work_end;
        if (delay > o.latest_report) {
            o.latest_report = delay;
            o.late = i + 1;
        }
    }
    for (int i = 0; i < DB_QUERIES; i++)
        if (times[i].reported > o.wall)
            o.wall = times[i].reported;
    return o;
}

/* main_cpu_s: what the submission's main thread used while the queries ran. */
static void grade_database_concurrency(struct grading *grading, const char *trace_path,
                                       double main_cpu_s)
{
    struct grade_sheet *sheet = &grading->sheet;
    struct query_times times[DB_QUERIES];
    if (!read_query_times(trace_path, times)) {
        grade_check(sheet, DB_WORK_OVERLAPS, false, "no trace with all three queries' work");
        grade_check(sheet, DB_REPORTED_PROMPTLY, false, "no trace with all three queries' work");
        grade_check(sheet, DB_SLEEPS, false, "not measured: the queries did not all run");
        return;
    }
    struct query_overlap o = overlap_of(times);
    bool overlap = o.latest_start < o.earliest_end;
    /* A loaded machine delays every wake-up a little; waiting for the
     * wrong worker delays a result by most of the run. */
    double prompt = o.wall * DB_PROMPT_SHARE > DB_PROMPT_S ? o.wall * DB_PROMPT_SHARE
                                                            : DB_PROMPT_S;
    grade_check(sheet, DB_WORK_OVERLAPS, overlap,
                overlap ? "all three queries were working at once (for %.3f s)"
                        : "the queries' work did not overlap (the last began %.3f s after "
                          "the first ended): they ran one at a time",
                overlap ? o.earliest_end - o.latest_start : o.latest_start - o.earliest_end);
    if (!overlap) {
        grade_check(sheet, DB_REPORTED_PROMPTLY, false, "not judged: the queries did not overlap");
        grade_check(sheet, DB_SLEEPS, false, "not judged: the queries did not run on workers");
        return;
    }
    grade_check(sheet, DB_REPORTED_PROMPTLY, o.latest_report <= prompt,
                "the slowest report came %.3f s after its query (Q%d) ended (allowed %.3f)%s",
                o.latest_report, o.late, prompt, o.latest_report <= prompt ? ""
                : ": results wait for something else instead of waking the loop");
    double allowed = DB_LOOP_CPU_SHARE * o.wall + DB_LOOP_CPU_ALLOWANCE_S;
    bool sleeps = main_cpu_s <= allowed;
    grade_check(sheet, DB_SLEEPS, sleeps, "the event loop's thread used %.2f s of CPU in the "
                "%.2f s the queries took (allowed %.2f)%s", main_cpu_s, o.wall, allowed,
                sleeps ? "" : ": the loop spins instead of sleeping in poll");
}

/* The row counts the lesson's own program prints for the same file. */
static void expected_rows(const char *db, long long want[DB_QUERIES])
{
    struct launch_result result;
    const char *key_args[] = { "--db", db, NULL };
    run_tool("database_async", key_args, 120.0, &result);
    for (int i = 0; i < DB_QUERIES; i++) {
        int times;
        want[i] = printed_rows(result.out, i + 1, &times);
    }
    launch_result_free(&result);
}

/* Each query's row count printed exactly once, and right. */
static void grade_rows(struct grade_sheet *sheet, const struct launch_result *result,
                       const long long want[DB_QUERIES])
{
    char why[200] = "";
    bool right = !result->killed;
    for (int i = 0; i < DB_QUERIES && right; i++) {
        int times;
        long long got = printed_rows(result->out, i + 1, &times);
        if (times != 1 || got != want[i]) {
            right = false;
            snprintf(why, sizeof why, times == 0 ? "no line \"Q%d: Query made! Db replied '%lld' rows\""
                     : times > 1 ? "Q%d's result printed more than once (want %lld)"
                     : "Q%d: wrong row count (want %lld)", i + 1, want[i]);
        }
    }
    grade_check(sheet, DB_REPLIES, right, "%s%s",
                right ? "all three row counts printed once, right for this database" : why,
                result->killed ? "; killed" : "");
}

/* A damaged file: every query's failure reported, exit 2, on time. */
static void grade_damaged(struct grading *grading, const char *damaged)
{
    struct launch_result result;
    char end[64];
    const char *broken[] = { "--db", damaged, NULL };
    run_submission(grading, NULL, broken, 1.0, NULL, &result);
    describe_end(&result, end, sizeof end);
    int failures = 0;
    for (const char *at = strstr(result.out, ": Query failed"); at; at = strstr(at + 1, ": Query failed"))
        failures++;
    bool handled = result.status == 2 && !result.killed && failures == DB_QUERIES;
    grade_check(&grading->sheet, DB_DAMAGED, handled,
                "damaged database: %s, %d of 3 failures reported%s", end, failures,
                handled ? "" : result.killed ? ": a failed query must still wake the loop" : "");
    launch_result_free(&result);
}

static void grade_database(struct grading *grading)
{
    struct grade_sheet *sheet = &grading->sheet;
    struct seed draw = seed_start(grading->seed);
    long cities = seed_between(&draw, 200000, 300000);
    char db[PATH_MAX], damaged[PATH_MAX], small[PATH_MAX], trace[PATH_MAX];
    snprintf(db, sizeof db, "%s/lab.db", grading->work_dir);
    snprintf(damaged, sizeof damaged, "%s/damaged.db", grading->work_dir);
    snprintf(small, sizeof small, "%s/small.db", grading->work_dir);
    snprintf(trace, sizeof trace, "%s/trace.json", grading->work_dir);
    grading->work = json_pack("{s:I}", "cities", (json_int_t)cities);
    if (!make_database(grading, db, cities) || !damage_copy(db, damaged)) {
        grade_fail_rest(sheet, "the grader could not build its database");
        return;
    }
    long long want[DB_QUERIES];
    expected_rows(db, want);

    struct launch_result result;
    const char *args[] = { "--db", db, "--trace", trace, NULL };
    double main_cpu_s = 0;
    struct launch_event sampler = { 0.05, sample_main_thread, &main_cpu_s, 0.05 };
    run_submission(grading, NULL, args, 60.0, &sampler, &result);
    char end[64];
    describe_end(&result, end, sizeof end);
    grade_rows(sheet, &result, want);
    grade_check(sheet, DB_EXIT_OK, result.status == 0, "%s", end);
    grade_database_concurrency(grading, trace, main_cpu_s);
    launch_result_free(&result);

    const char *missing[] = { "--db", "/nonexistent/asynclab.db", NULL };
    grade_exit_status(grading, DB_MISSING, NULL, missing, 2, "no database");
    const char *bogus[] = { "--bogus", NULL };
    grade_exit_status(grading, DB_BAD_FLAG, NULL, bogus, 1, "--bogus");
    grade_damaged(grading, damaged);

    if (grading->memcheck && !make_database(grading, small, 2000)) {
        grade_skip(sheet, DB_VALGRIND, "could not build the small database");
        return;
    }
    const char *small_args[] = { "--db", small, "--quiet", NULL };
    grade_memory(grading, DB_VALGRIND, NULL, small_args);
}

const struct lab DATABASE_LAB = {
    "database", "async.c", false, DATABASE_CHECKS,
    sizeof DATABASE_CHECKS / sizeof DATABASE_CHECKS[0], grade_database,
};
