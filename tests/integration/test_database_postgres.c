/*
 * Integration tests: the PostgreSQL half of the database lesson, against a
 * real server the tests start themselves (scripts/pg.sh, in /tmp, with a
 * small data set), and the lesson's four programs side by side.
 *
 * Concurrency is proven from the server's side.  The test holds an
 * exclusive lock on the cities table while a program runs, so every query
 * the program has sent stays in the server, waiting, and shows up in
 * pg_stat_activity as active; a connection of the test's own counts them.
 * The async program must have all three in the server at once, from one
 * thread; the sync program never more than one.  Nothing is timed.  And
 * the server holds row for row what the SQLite file holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <sqlite3.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "clock.h"
#include "lib/launch.h"
#include "lesson_database.h"
#include "postgres.h"
#include "proc_stat.h"
#include "process.h"
#include "trace_intervals.h"

#define CITIES "20000"
#define SEED "7"

/* How long the test waits for the server to show what it expects. */
#define WAIT_S 30.0

static struct test_postgres pg;
static char sqlite_path[64];   /* the same rows as the server's, in SQLite */
static char trace_path[64];
static long long expected_rows[3];

/* ------------------------------------------------------------ helpers */

static void pause_briefly(void)
{
    nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
}

/* A program running on a thread of the test, so that the test can watch
 * the server meanwhile. */
struct background_run {
    pthread_t thread;
    const char *argv[8];
    struct test_process_result result;
    int spawned;
    atomic_bool done;
};

static void *run_in_background(void *argument)
{
    struct background_run *run = argument;
    run->spawned = test_run(run->argv, TEST_RUN_TIMEOUT_S, &run->result);
    atomic_store(&run->done, true);
    return NULL;
}

static void start_in_background(struct background_run *run, const char *program)
{
    *run = (struct background_run){ .argv = { test_bin(program), "--conninfo", pg.conninfo,
                                              "--trace", trace_path, NULL } };
    assert_int_equal(pthread_create(&run->thread, NULL, run_in_background, run), 0);
}

static struct test_process_result finish_background(struct background_run *run)
{
    pthread_join(run->thread, NULL);
    assert_int_equal(run->spawned, 0);
    if (run->result.timed_out)
        fail_msg("%s did not finish in time: %s", run->argv[0], run->result.out);
    return run->result;
}

/* The thread count of our child process whose name begins like `program`
 * (the kernel keeps 15 characters of it), or -1 if there is none. */
static long child_threads(const char *program)
{
    DIR *processes = opendir("/proc");
    assert_non_null(processes);
    long threads = -1;
    struct dirent *entry;
    while (threads < 0 && (entry = readdir(processes)) != NULL) {
        struct proc_stat stat;
        if (!proc_stat_read(atoi(entry->d_name), 0, &stat) || stat.parent != getpid()
            || strncmp(stat.name, program, 15) != 0)
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/%s/status", entry->d_name);
        FILE *status = fopen(path, "r");
        char line[256];
        while (status != NULL && fgets(line, sizeof line, status) != NULL)
            if (sscanf(line, "Threads: %ld", &threads) == 1)
                break;
        if (status != NULL)
            fclose(status);
    }
    closedir(processes);
    return threads;
}

/*
 * Runs `program` while the test holds an exclusive lock on cities: waits
 * until `want` of its queries are active in the server (or WAIT_S passes),
 * counts the program's threads then, releases the lock and keeps counting
 * active queries until the program is done.  Returns the most seen active
 * at once; *result gets what the program did.
 */
static long most_active_queries(const char *program, long want, long *threads,
                                struct test_process_result *result)
{
    PGconn *locker = test_postgres_connect(&pg);
    PGconn *watcher = test_postgres_connect(&pg);
    test_postgres_exec(locker, "BEGIN");
    test_postgres_exec(locker, "LOCK TABLE cities IN ACCESS EXCLUSIVE MODE");

    struct background_run run;
    start_in_background(&run, program);
    long most = 0;
    double deadline = clock_now() + WAIT_S;
    while (most < want && !atomic_load(&run.done) && clock_now() < deadline) {
        long active = test_postgres_active_queries(watcher, program);
        most = active > most ? active : most;
        pause_briefly();
    }
    /* Time enough for a query that should not be there to show up too. */
    for (int i = 0; i < 20; i++) {
        long active = test_postgres_active_queries(watcher, program);
        most = active > most ? active : most;
        pause_briefly();
    }
    *threads = child_threads(program);
    test_postgres_exec(locker, "COMMIT");
    while (!atomic_load(&run.done)) {
        long active = test_postgres_active_queries(watcher, program);
        most = active > most ? active : most;
    }
    *result = finish_background(&run);
    PQfinish(locker);
    PQfinish(watcher);
    return most;
}

static void assert_counts_match_sqlite(const char *out)
{
    for (int i = 0; i < 3; i++)
        assert_int_equal(test_reported_rows(out, i + 1), expected_rows[i]);
}

/* The "Qn: ..." lines of a program's output, in order, into lines. */
static void task_lines(const char *out, char *lines, size_t size)
{
    size_t used = 0;
    lines[0] = '\0';
    for (const char *line = out; *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t length = end ? (size_t)(end - line + 1) : strlen(line);
        if (line[0] == 'Q' && line[1] >= '1' && line[1] <= '3' && used + length < size) {
            memcpy(lines + used, line, length);
            used += length;
            lines[used] = '\0';
        }
        line += length;
    }
}

static void set_pg_environment(void)
{
    assert_int_equal(setenv("PGHOST", pg.host, 1), 0);
    assert_int_equal(setenv("PGUSER", "asynclab", 1), 0);
    assert_int_equal(setenv("PGDATABASE", "asynclab", 1), 0);
}

static void unset_pg_environment(void)
{
    unsetenv("PGHOST");
    unsetenv("PGUSER");
    unsetenv("PGDATABASE");
}

/* ------------------------------------------------------------ fixtures */

static int start(void **state)
{
    (void)state;
    int pid = (int)getpid();
    snprintf(sqlite_path, sizeof sqlite_path, "/tmp/asynclab-pg-%d.db", pid);
    snprintf(trace_path, sizeof trace_path, "/tmp/asynclab-pg-%d.json", pid);
    unlink(sqlite_path);
    test_make_database(sqlite_path, CITIES, SEED);
    for (int i = 0; i < 3; i++)
        expected_rows[i] = test_count_rows(sqlite_path, TEST_LESSON_SQL[i]);
    /* Q1 is every city; the other two are proper, non-empty subsets. */
    assert_int_equal(expected_rows[0], atoll(CITIES));
    assert_in_range(expected_rows[1], 1, expected_rows[0] - 1);
    assert_in_range(expected_rows[2], 1, expected_rows[0] - 1);
    return test_postgres_start(&pg, CITIES, SEED);
}

static int stop(void **state)
{
    (void)state;
    test_postgres_remove(&pg);
    unlink(sqlite_path);
    unlink(trace_path);
    return 0;
}

/* ------------------------------------------------------------ the programs */

static void sync_has_at_most_one_query_in_the_server(void **state)
{
    (void)state;
    long threads;
    struct test_process_result result;
    long most = most_active_queries("database_sync_postgres", 1, &threads, &result);
    assert_int_equal(result.exit_status, 0);
    assert_int_equal(most, 1);
    assert_counts_match_sqlite(result.out);
    test_assert_contains(result.out, "the server's backends ");

    long long intervals[3][2];
    assert_int_equal(test_trace_intervals(trace_path, NULL, intervals, 3), 3);
    assert_true(test_none_overlap(intervals, 3));
    test_process_result_free(&result);
}

static void async_has_all_three_in_the_server_at_once_from_one_thread(void **state)
{
    (void)state;
    long threads;
    struct test_process_result result;
    long most = most_active_queries("database_async_postgres", 3, &threads, &result);
    assert_int_equal(result.exit_status, 0);
    assert_int_equal(most, 3);
    assert_int_equal(threads, 1);  /* no worker threads: the server does the work */
    assert_counts_match_sqlite(result.out);
    /* All three are asked for before any answer is printed. */
    const char *last_question = strstr(result.out, "Q3: Querying '");
    const char *first_answer = strstr(result.out, "Query made!");
    assert_non_null(last_question);
    assert_non_null(first_answer);
    assert_true(last_question < first_answer);
    test_process_result_free(&result);
}

static void sync_prints_the_same_lines_as_the_sqlite_program(void **state)
{
    (void)state;
    const char *sqlite_arguments[] = { "--db", sqlite_path, NULL };
    struct test_process_result sqlite = test_run_program("database_sync", sqlite_arguments);
    const char *postgres_arguments[] = { "--conninfo", pg.conninfo, NULL };
    struct test_process_result postgres = test_run_program("database_sync_postgres",
                                                           postgres_arguments);
    assert_int_equal(sqlite.exit_status, 0);
    assert_int_equal(postgres.exit_status, 0);
    static char sqlite_lines[4096], postgres_lines[4096];
    task_lines(sqlite.out, sqlite_lines, sizeof sqlite_lines);
    task_lines(postgres.out, postgres_lines, sizeof postgres_lines);
    test_assert_contains(sqlite_lines, "Q3: Query made! Db replied '");
    assert_string_equal(postgres_lines, sqlite_lines);
    test_process_result_free(&sqlite);
    test_process_result_free(&postgres);
}

/* Every row of both tables, in id order, as "id|text|text-or-number"
 * lines: the same on either side if the data is. */
static const char *const DUMPS[] = {
    "SELECT id || '|' || long_name || '|' || state FROM states ORDER BY id",
    "SELECT id || '|' || name || '|' || state_id FROM cities ORDER BY id",
};

static void the_server_holds_the_same_rows_as_the_sqlite_file(void **state)
{
    (void)state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(sqlite_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    PGconn *connection = test_postgres_connect(&pg);
    for (size_t d = 0; d < sizeof DUMPS / sizeof DUMPS[0]; d++) {
        PGresult *rows = PQexec(connection, DUMPS[d]);
        assert_int_equal(PQresultStatus(rows), PGRES_TUPLES_OK);
        sqlite3_stmt *statement = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, DUMPS[d], -1, &statement, NULL), SQLITE_OK);
        int row = 0;
        for (; sqlite3_step(statement) == SQLITE_ROW; row++) {
            assert_true(row < PQntuples(rows));
            assert_string_equal(PQgetvalue(rows, row, 0),
                                (const char *)sqlite3_column_text(statement, 0));
        }
        assert_int_equal(row, PQntuples(rows));
        assert_true(row >= 27);
        sqlite3_finalize(statement);
        PQclear(rows);
    }
    PQfinish(connection);
    sqlite3_close(db);
}

static void the_server_can_come_from_the_pg_environment(void **state)
{
    (void)state;
    set_pg_environment();
    const char *arguments[] = { NULL };
    struct test_process_result result = test_run_program("database_async_postgres", arguments);
    unset_pg_environment();
    assert_int_equal(result.exit_status, 0);
    assert_counts_match_sqlite(result.out);
    test_process_result_free(&result);
}

static void a_database_without_the_tables_is_exit_2(void **state)
{
    (void)state;
    char conninfo[sizeof pg.host + 64];
    snprintf(conninfo, sizeof conninfo, "host=%s user=asynclab dbname=postgres", pg.host);
    const char *programs[] = { "database_sync_postgres", "database_async_postgres" };
    for (size_t i = 0; i < 2; i++) {
        const char *arguments[] = { "--conninfo", conninfo, NULL };
        struct test_process_result result = test_run_program(programs[i], arguments);
        assert_int_equal(result.exit_status, 2);
        test_assert_one_line(result.err);
        test_assert_contains(result.err, "lacks the lesson's tables");
        test_assert_contains(result.err, "database_makedb --postgres | psql");
        assert_string_equal(result.out, "");
        test_process_result_free(&result);
    }
}

static void bad_flags_are_exit_1_with_one_line(void **state)
{
    (void)state;
    const char *cases[][3] = {
        { "--conninfo", "", NULL }, { "--conninfo", NULL, NULL }, { "--db", "x.db", NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct test_process_result result = test_run_program("database_async_postgres",
                                                             cases[i]);
        assert_int_equal(result.exit_status, 1);
        test_assert_one_line(result.err);
        test_process_result_free(&result);
    }
}

static void run_scenario_compares_all_four_programs(void **state)
{
    (void)state;
    assert_int_equal(setenv("ASYNCLAB_DB", sqlite_path, 1), 0);
    set_pg_environment();
    const char *arguments[] = { "--scenario", "database", NULL };
    struct test_process_result result = test_run_program("run_scenario", arguments);
    unsetenv("ASYNCLAB_DB");
    unset_pg_environment();
    assert_int_equal(result.exit_status, 0);
    test_assert_contains(result.out, "side by side");
    test_assert_contains(result.out, "\nsync ");
    test_assert_contains(result.out, "\nasync ");
    test_assert_contains(result.out, "\nsync_postgres ");
    test_assert_contains(result.out, "\nasync_postgres ");
    assert_true(strstr(result.out, "slowserver") == NULL);
    test_process_result_free(&result);
}

/* ------------------------------------------------------------ a stopped server */

static const char *const START_OPTIONS[] = { "--cities", CITIES, "--seed", SEED, "--makedb",
                                             ASYNCLAB_BIN_DIR "/database_makedb", NULL };

static int restart(void **state)
{
    (void)state;
    return test_postgres_script(&pg, "start", START_OPTIONS) == 0 ? 0 : -1;
}

static void a_stopped_server_is_exit_2_with_the_fix(void **state)
{
    (void)state;
    assert_int_equal(test_postgres_script(&pg, "stop", NULL), 0);
    assert_false(test_postgres_running(&pg));
    const char *programs[] = { "database_sync_postgres", "database_async_postgres" };
    for (size_t i = 0; i < 2; i++) {
        const char *arguments[] = { "--conninfo", pg.conninfo, NULL };
        struct test_process_result result = test_run_program(programs[i], arguments);
        assert_int_equal(result.exit_status, 2);
        test_assert_one_line(result.err);
        test_assert_contains(result.err, "cannot connect to PostgreSQL");
        test_assert_contains(result.err, "check --conninfo or the PG* variables");
        assert_string_equal(result.out, "");
        test_process_result_free(&result);
    }
}

/* pg.sh with DIR [options] -- COMMAND, as a child of ours in a process
 * group of its own: its pid, which is also the group's. */
static pid_t start_with(const char *const *command)
{
    const char *argv[24] = { "/bin/sh", ASYNCLAB_SOURCE_DIR "/scripts/pg.sh", "with", pg.dir };
    size_t argc = 4;
    for (size_t i = 0; START_OPTIONS[i] != NULL; i++)
        argv[argc++] = START_OPTIONS[i];
    argv[argc++] = "--";
    for (; *command != NULL; command++)
        argv[argc++] = *command;
    argv[argc] = NULL;
    /* A process group of its own, as a terminal's job has; it dies with us. */
    pid_t pid = launch_start_job("test_database_postgres", (char *const *)argv, -1, -1);
    assert_true(pid > 0);
    return pid;
}

static int wait_for(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void pg_with_stops_the_server_when_the_command_fails(void **state)
{
    (void)state;
    assert_int_equal(test_postgres_script(&pg, "stop", NULL), 0);
    const char *failing[] = { "/bin/sh", "-c", "exit 3", NULL };
    assert_int_equal(wait_for(start_with(failing)), 3);
    assert_false(test_postgres_running(&pg));
}

static void pg_with_stops_the_server_on_ctrl_c(void **state)
{
    (void)state;
    assert_int_equal(test_postgres_script(&pg, "stop", NULL), 0);
    const char *waiting[] = { "sleep", "60", NULL };
    pid_t with = start_with(waiting);
    double deadline = clock_now() + WAIT_S;
    while (!test_postgres_running(&pg) && clock_now() < deadline)
        pause_briefly();
    assert_true(test_postgres_running(&pg));
    kill(-with, SIGINT);  /* Ctrl+C: the terminal signals the whole job */
    assert_int_equal(wait_for(with), 130);
    assert_false(test_postgres_running(&pg));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sync_has_at_most_one_query_in_the_server),
        cmocka_unit_test(async_has_all_three_in_the_server_at_once_from_one_thread),
        cmocka_unit_test(sync_prints_the_same_lines_as_the_sqlite_program),
        cmocka_unit_test(the_server_holds_the_same_rows_as_the_sqlite_file),
        cmocka_unit_test(the_server_can_come_from_the_pg_environment),
        cmocka_unit_test(a_database_without_the_tables_is_exit_2),
        cmocka_unit_test(bad_flags_are_exit_1_with_one_line),
        cmocka_unit_test(run_scenario_compares_all_four_programs),
        cmocka_unit_test_teardown(a_stopped_server_is_exit_2_with_the_fix, restart),
        cmocka_unit_test_teardown(pg_with_stops_the_server_when_the_command_fails, restart),
        cmocka_unit_test_teardown(pg_with_stops_the_server_on_ctrl_c, restart),
    };
    return cmocka_run_group_tests_name("postgres", tests, start, stop);
}
