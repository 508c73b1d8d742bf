/*
 * Integration tests: the database pair and its generator, on a small
 * database built in /tmp for the run (a few hundred kilobytes, so every
 * query takes milliseconds).
 *
 * What the programs report is checked against SQLite itself: the test runs
 * the lesson's SQL, written out here independently of the programs, and
 * counts the rows.  Concurrency is proven by the programs' traces (do the
 * three query intervals overlap?), never by how long anything took.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checks.h"
#include "lesson_database.h"
#include "process.h"
#include "trace.h"
#include "trace_intervals.h"

/* Big enough that each query runs for tens of milliseconds, so the async
 * workers overlap even when a loaded machine is slow to start a thread. */
#define CITIES "60000"
#define SEED "7"

static char db_path[64];      /* the small database every test queries */
static char trace_path[64];
static char scratch_path[64]; /* a file a test may create and break */
static char scratch2_path[64];
static long long expected_rows[3];

/* ------------------------------------------------------------ helpers */

/* FNV-1a over every row of both tables, in id order: the content, not the
 * file's bytes. */
static uint64_t content_hash(const char *path)
{
    static const char *const dumps[] = {
        "SELECT id, long_name, state FROM states ORDER BY id",
        "SELECT id, name, state_id FROM cities ORDER BY id",
    };
    uint64_t hash = UINT64_C(14695981039346656037);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    for (size_t d = 0; d < 2; d++) {
        sqlite3_stmt *statement = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, dumps[d], -1, &statement, NULL), SQLITE_OK);
        while (sqlite3_step(statement) == SQLITE_ROW) {
            for (int column = 0; column < 3; column++) {
                const unsigned char *text = sqlite3_column_text(statement, column);
                for (; text != NULL && *text != '\0'; text++)
                    hash = (hash ^ *text) * UINT64_C(1099511628211);
                hash = (hash ^ 0x1f) * UINT64_C(1099511628211);  /* field separator */
            }
        }
        sqlite3_finalize(statement);
    }
    sqlite3_close(db);
    return hash;
}

/* The OS thread that ran each query (the trace's args.thread, tid 1..3),
 * and when the program asked for it and had the answer (args.asked_s and
 * args.answered_s, in microseconds), as its main thread saw it. */
static long long threads[3];
static long long asked_answered[3][2];

/* How many different threads ran the three queries. */
static int distinct_threads(void)
{
    return 1 + (threads[1] != threads[0]) + (threads[2] != threads[0] && threads[2] != threads[1]);
}

/* Loads the trace: each complete event's [start, end] in microseconds, in
 * the row of its query (tid 1..3), and the rows it recorded.  The interval
 * is the work window the thread that ran the query stamped itself, so an
 * overlap means SQLite really ran the queries at the same time. */
static void load_trace(long long intervals[3][2], long long rows[3])
{
    char why[512];
    json_t *document = trace_read_tasks(trace_path, NULL, why, sizeof why);
    if (document == NULL)
        fail_msg("cannot read the trace %s", why);
    int seen = 0;
    size_t i;
    json_t *event;
    json_array_foreach(document, i, event) {
        if (strcmp(json_string_value(json_object_get(event, "ph")), "X") != 0)
            continue;
        json_int_t tid = json_integer_value(json_object_get(event, "tid"));
        assert_in_range(tid, 1, 3);
        long long ts = json_integer_value(json_object_get(event, "ts"));
        intervals[tid - 1][0] = ts;
        intervals[tid - 1][1] = ts + json_integer_value(json_object_get(event, "dur"));
        rows[tid - 1] = (long long)json_number_value(
            json_object_get(json_object_get(event, "args"), "rows"));
        threads[tid - 1] = json_integer_value(json_object_get(json_object_get(event, "args"),
                                                              "thread"));
        assert_true(threads[tid - 1] > 0);
        json_t *args = json_object_get(event, "args");
        asked_answered[tid - 1][0] = llround(1e6 * json_number_value(json_object_get(args, "asked_s")));
        asked_answered[tid - 1][1] =
            llround(1e6 * json_number_value(json_object_get(args, "answered_s")));
        seen++;
    }
    json_decref(document);
    assert_int_equal(seen, 3);
}

static void write_file(const char *path, const char *bytes, size_t length)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(bytes, 1, length, file), length);
    assert_int_equal(fclose(file), 0);
}

/* ------------------------------------------------------------ fixtures */

static int start(void **state)
{
    (void)state;
    int pid = (int)getpid();
    snprintf(db_path, sizeof db_path, "/tmp/asynclab-db-%d.db", pid);
    snprintf(trace_path, sizeof trace_path, "/tmp/asynclab-db-%d.json", pid);
    snprintf(scratch_path, sizeof scratch_path, "/tmp/asynclab-db-%d-scratch.db", pid);
    snprintf(scratch2_path, sizeof scratch2_path, "/tmp/asynclab-db-%d-scratch2.db", pid);
    unlink(db_path);
    test_make_database(db_path, CITIES, SEED);
    for (int i = 0; i < 3; i++)
        expected_rows[i] = test_count_rows(db_path, TEST_LESSON_SQL[i]);
    /* Guards against a test that passes on an empty or degenerate file:
     * Q1 is every city, and the other two are proper, non-empty subsets. */
    assert_int_equal(expected_rows[0], atoll(CITIES));
    assert_in_range(expected_rows[1], 1, expected_rows[0] - 1);
    assert_in_range(expected_rows[2], 1, expected_rows[0] - 1);
    return 0;
}

static int stop(void **state)
{
    (void)state;
    unlink(db_path);
    unlink(trace_path);
    unlink(scratch_path);
    unlink(scratch2_path);
    return 0;
}

static int remove_scratch(void **state)
{
    (void)state;
    unlink(scratch_path);
    unlink(scratch2_path);
    unlink(trace_path);
    return 0;
}

/* ------------------------------------------------------------ the programs */

static void assert_counts_match_sqlite(const char *out, const long long trace_rows[3])
{
    for (int i = 0; i < 3; i++) {
        assert_int_equal(test_reported_rows(out, i + 1), expected_rows[i]);
        assert_int_equal(trace_rows[i], expected_rows[i]);
    }
}

static void sync_counts_match_and_queries_take_turns(void **state)
{
    (void)state;
    const char *arguments[] = { "--db", db_path, "--trace", trace_path, NULL };
    struct test_process_result result = test_run_program("database_sync", arguments);
    assert_int_equal(result.exit_status, 0);
    test_assert_contains(result.out, "Q1: Querying 'SELECT c.name, s.state FROM cities c JOIN");
    test_assert_contains(result.out, "Time elapsed: ");

    long long intervals[3][2], rows[3];
    load_trace(intervals, rows);
    test_assert_trace_viewable(trace_path, "database_sync", true);
    assert_counts_match_sqlite(result.out, rows);
    assert_true(test_none_overlap(intervals, 3));
    /* And in the lesson's order: Q2 is not asked for before Q1 is done. */
    assert_true(intervals[0][1] <= intervals[1][0] && intervals[1][1] <= intervals[2][0]);
    assert_int_equal(distinct_threads(), 1);  /* the main thread did it all */
    test_process_result_free(&result);
}

static void async_counts_match_and_queries_overlap(void **state)
{
    (void)state;
    const char *arguments[] = { "--db", db_path, "--trace", trace_path, NULL };
    struct test_process_result result = test_run_program("database_async", arguments);
    assert_int_equal(result.exit_status, 0);
    /* All three are asked for before any answer is printed. */
    const char *last_question = strstr(result.out, "Q3: Querying '");
    const char *first_answer = strstr(result.out, "Query made!");
    assert_non_null(last_question);
    assert_non_null(first_answer);
    assert_true(last_question < first_answer);

    long long intervals[3][2], rows[3];
    load_trace(intervals, rows);
    test_assert_trace_viewable(trace_path, "database_async", false);  /* a worker per query */
    assert_counts_match_sqlite(result.out, rows);
    /* All three were asked for before any was answered. */
    assert_true(test_all_overlap(asked_answered, 3));
    /* And SQLite really ran them at once: three threads stamped their own
     * work windows, and each of the shorter two overlaps Q1's, the longest
     * (a worker that ran only after another had finished would not: a
     * serialised program fails here).  Not all three at one instant: on a
     * loaded machine Q3's thread may start after Q2's has finished. */
    assert_int_equal(distinct_threads(), 3);
    long long q1_q2[2][2] = { { intervals[0][0], intervals[0][1] },
                              { intervals[1][0], intervals[1][1] } };
    long long q1_q3[2][2] = { { intervals[0][0], intervals[0][1] },
                              { intervals[2][0], intervals[2][1] } };
    assert_true(test_all_overlap(q1_q2, 2));
    assert_true(test_all_overlap(q1_q3, 2));
    test_process_result_free(&result);
}

static void the_database_can_come_from_the_environment(void **state)
{
    (void)state;
    assert_int_equal(setenv("ASYNCLAB_DB", db_path, 1), 0);
    const char *arguments[] = { NULL };
    struct test_process_result result = test_run_program("database_async", arguments);
    unsetenv("ASYNCLAB_DB");
    assert_int_equal(result.exit_status, 0);
    assert_int_equal(test_reported_rows(result.out, 1), expected_rows[0]);
    test_process_result_free(&result);
}

static void quiet_prints_only_the_summary(void **state)
{
    (void)state;
    const char *programs[] = { "database_sync", "database_async" };
    for (size_t i = 0; i < 2; i++) {
        const char *arguments[] = { "--db", db_path, "--quiet", NULL };
        struct test_process_result result = test_run_program(programs[i], arguments);
        assert_int_equal(result.exit_status, 0);
        assert_true(strncmp(result.out, "Time elapsed: ", 14) == 0);
        test_assert_one_line(result.out);
        test_process_result_free(&result);
    }
}

static void predict_states_the_model_without_the_database(void **state)
{
    (void)state;
    const char *arguments[] = { "--db", "/nonexistent/asynclab.db", "--predict", NULL };
    struct test_process_result result = test_run_program("database_sync", arguments);
    assert_int_equal(result.exit_status, 0);
    test_assert_one_line(result.out);
    test_assert_contains(result.out, "Predicted time: ? s (sync: the sum of the three queries");
    test_process_result_free(&result);

    result = test_run_program("database_async", arguments);
    assert_int_equal(result.exit_status, 0);
    test_assert_one_line(result.out);
    test_assert_contains(result.out, "Predicted time: ? s (async: max(longest query, sum of the");
    test_process_result_free(&result);
}

static void scale_and_url_are_accepted_and_change_nothing(void **state)
{
    (void)state;
    const char *arguments[] = { "--db", db_path, "--scale", "0.1", "--url",
                                "http://127.0.0.1:1", NULL };
    struct test_process_result result = test_run_program("database_sync", arguments);
    assert_int_equal(result.exit_status, 0);
    test_assert_contains(result.err, "--scale does nothing here");
    for (int i = 0; i < 3; i++)
        assert_int_equal(test_reported_rows(result.out, i + 1), expected_rows[i]);
    test_process_result_free(&result);
}

static void a_missing_database_is_exit_2_with_the_command_that_builds_it(void **state)
{
    (void)state;
    const char *programs[] = { "database_sync", "database_async" };
    for (size_t i = 0; i < 2; i++) {
        const char *arguments[] = { "--db", scratch_path, NULL };
        struct test_process_result result = test_run_program(programs[i], arguments);
        assert_int_equal(result.exit_status, 2);
        test_assert_one_line(result.err);
        test_assert_contains(result.err, "no database at");
        test_assert_contains(result.err, "database_makedb --out ");
        test_assert_contains(result.err, scratch_path);
        assert_string_equal(result.out, "");
        /* Opened read-only: a missing file is not created. */
        struct stat file;
        assert_int_not_equal(stat(scratch_path, &file), 0);
        test_process_result_free(&result);
    }
}

/* Runs both programs on scratch_path and expects exit 2 naming `reason`,
 * with the file left exactly as it was. */
static void assert_refused_as_unusable(const char *reason)
{
    struct stat before, after;
    assert_int_equal(stat(scratch_path, &before), 0);
    const char *programs[] = { "database_sync", "database_async" };
    for (size_t i = 0; i < 2; i++) {
        const char *arguments[] = { "--db", scratch_path, NULL };
        struct test_process_result result = test_run_program(programs[i], arguments);
        assert_int_equal(result.exit_status, 2);
        test_assert_contains(result.err, reason);
        test_assert_contains(result.err, "database_makedb --force --out ");
        test_process_result_free(&result);
    }
    assert_int_equal(stat(scratch_path, &after), 0);
    assert_int_equal(before.st_size, after.st_size);
    assert_int_equal(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
    assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
}

static void a_file_that_is_not_a_database_is_exit_2(void **state)
{
    (void)state;
    const char garbage[] = "this is not an SQLite file, it only has its name\n";
    write_file(scratch_path, garbage, sizeof garbage - 1);
    assert_refused_as_unusable("file is not a database");
}

/* A FIFO would block the open for ever; a directory is no database. */
static void a_path_that_is_not_a_regular_file_is_exit_2(void **state)
{
    (void)state;
    assert_int_equal(mkfifo(scratch_path, 0600), 0);
    const char *paths[] = { scratch_path, "/tmp" };
    const char *programs[] = { "database_sync", "database_async" };
    for (size_t p = 0; p < 2; p++) {
        for (size_t i = 0; i < 2; i++) {
            const char *arguments[] = { "--db", paths[p], NULL };
            struct test_process_result result = test_run_program(programs[i], arguments);
            assert_int_equal(result.exit_status, 2);
            test_assert_one_line(result.err);
            test_assert_contains(result.err, "is not a regular file");
            test_process_result_free(&result);
        }
    }
}

static void a_database_without_the_tables_is_exit_2(void **state)
{
    (void)state;
    write_file(scratch_path, "", 0);  /* SQLite reads an empty file as an empty database */
    assert_refused_as_unusable("no such table");
}

/* Copies the test database with one page in the cities table overwritten:
 * the header and schema are fine, so only a query finds the damage. */
static void write_damaged_copy(const char *path)
{
    FILE *source = fopen(db_path, "rb");
    assert_non_null(source);
    static char bytes[4 * 1024 * 1024];
    size_t length = fread(bytes, 1, sizeof bytes, source);
    fclose(source);
    assert_true(length > 40 * 4096 && length < sizeof bytes);
    memset(bytes + 20 * 4096, 0xff, 4096);
    write_file(path, bytes, length);
}

static void a_database_damaged_inside_is_exit_2(void **state)
{
    (void)state;
    write_damaged_copy(scratch_path);
    const char *programs[] = { "database_sync", "database_async" };
    for (size_t i = 0; i < 2; i++) {
        const char *arguments[] = { "--db", scratch_path, NULL };
        struct test_process_result result = test_run_program(programs[i], arguments);
        assert_int_equal(result.exit_status, 2);
        test_assert_contains(result.out, "Query failed: database disk image is malformed");
        test_assert_contains(result.err, "is damaged; build it with: ");
        test_process_result_free(&result);
    }
}

static void bad_flags_are_exit_1_with_one_line(void **state)
{
    (void)state;
    const char *cases[][3] = {
        { "--db", "", NULL }, { "--db", NULL, NULL }, { "--scale", "0", NULL },
        { "--bogus", NULL, NULL }, { "extra", NULL, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct test_process_result result = test_run_program("database_async", cases[i]);
        assert_int_equal(result.exit_status, 1);
        test_assert_one_line(result.err);
        test_process_result_free(&result);
    }
}

/* ------------------------------------------------------------ the generator */

static void the_generator_is_deterministic(void **state)
{
    (void)state;
    test_make_database(scratch_path, "3000", SEED);
    test_make_database(scratch2_path, "3000", SEED);
    uint64_t first = content_hash(scratch_path);
    assert_true(first == content_hash(scratch2_path));

    /* The seed matters (so the check above can fail)... */
    unlink(scratch2_path);
    test_make_database(scratch2_path, "3000", "8");
    assert_true(first != content_hash(scratch2_path));
    /* ...and so does the size. */
    unlink(scratch2_path);
    test_make_database(scratch2_path, "3001", SEED);
    assert_true(first != content_hash(scratch2_path));
}

static void the_generator_builds_the_lesson_schema(void **state)
{
    (void)state;
    /* The 27 federative units, among them the ones the queries pick out. */
    assert_int_equal(test_count_rows(db_path, "SELECT * FROM states"), 27);
    assert_int_equal(test_count_rows(db_path, "SELECT * FROM states WHERE state = 'SP' "
                                         "AND long_name = 'São Paulo'"), 1);
    assert_int_equal(test_count_rows(db_path, "SELECT * FROM states WHERE state LIKE 'M%' "
                                         "OR state LIKE '%P'"), 6);
    /* Every city in a real state. */
    assert_int_equal(test_count_rows(db_path, "SELECT * FROM cities WHERE state_id NOT IN "
                                         "(SELECT id FROM states)"), 0);
    /* No index beyond the primary keys: the lesson needs slow queries. */
    assert_int_equal(test_count_rows(db_path, "SELECT * FROM sqlite_master WHERE type = 'index'"), 0);
}

static void the_generator_never_replaces_a_file_unasked(void **state)
{
    (void)state;
    const char precious[] = "somebody's precious file\n";
    write_file(scratch_path, precious, sizeof precious - 1);
    const char *arguments[] = { "--out", scratch_path, "--cities", "100", NULL };
    struct test_process_result result = test_run_program("database_makedb", arguments);
    assert_int_equal(result.exit_status, 2);
    test_assert_one_line(result.err);
    test_assert_contains(result.err, "--force");
    test_process_result_free(&result);

    char content[64] = { 0 };
    FILE *file = fopen(scratch_path, "rb");
    assert_non_null(file);
    assert_int_equal(fread(content, 1, sizeof content - 1, file), sizeof precious - 1);
    fclose(file);
    assert_string_equal(content, precious);

    /* Asked, it does. */
    const char *forced[] = { "--out", scratch_path, "--cities", "100", "--force", "--quiet",
                             NULL };
    result = test_run_program("database_makedb", forced);
    assert_int_equal(result.exit_status, 0);
    assert_int_equal(test_count_rows(scratch_path, "SELECT * FROM cities"), 100);
    test_process_result_free(&result);
}

static void the_generator_rejects_bad_flags(void **state)
{
    (void)state;
    const char *cases[][3] = {
        { "--cities", "0", NULL }, { "--cities", "many", NULL }, { "--seed", "-1", NULL },
        { "--bogus", NULL, NULL }, { "--out", NULL, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct test_process_result result = test_run_program("database_makedb", cases[i]);
        assert_int_equal(result.exit_status, 1);
        test_assert_one_line(result.err);
        test_process_result_free(&result);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(sync_counts_match_and_queries_take_turns, remove_scratch),
        cmocka_unit_test_teardown(async_counts_match_and_queries_overlap, remove_scratch),
        cmocka_unit_test(the_database_can_come_from_the_environment),
        cmocka_unit_test(quiet_prints_only_the_summary),
        cmocka_unit_test(predict_states_the_model_without_the_database),
        cmocka_unit_test(scale_and_url_are_accepted_and_change_nothing),
        cmocka_unit_test_teardown(a_missing_database_is_exit_2_with_the_command_that_builds_it,
                                  remove_scratch),
        cmocka_unit_test_teardown(a_file_that_is_not_a_database_is_exit_2, remove_scratch),
        cmocka_unit_test_teardown(a_path_that_is_not_a_regular_file_is_exit_2, remove_scratch),
        cmocka_unit_test_teardown(a_database_without_the_tables_is_exit_2, remove_scratch),
        cmocka_unit_test_teardown(a_database_damaged_inside_is_exit_2, remove_scratch),
        cmocka_unit_test(bad_flags_are_exit_1_with_one_line),
        cmocka_unit_test_teardown(the_generator_is_deterministic, remove_scratch),
        cmocka_unit_test(the_generator_builds_the_lesson_schema),
        cmocka_unit_test_teardown(the_generator_never_replaces_a_file_unasked, remove_scratch),
        cmocka_unit_test(the_generator_rejects_bad_flags),
    };
    return cmocka_run_group_tests_name("database", tests, start, stop);
}
