/*
 * database.c - the database lesson's shared, non-concurrent parts; see
 * database.h.  database_query_run is the one blocking call; everything else
 * here is bookkeeping that takes no time worth measuring.
 */
#include "database.h"

#include <sched.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "output.h"
#include "postgres.h"

/* The lesson's three requesters.  The same join and order each time, with
 * a different filter: every city; the states whose code starts with M or
 * ends with P (about a third of the cities); the cities whose name starts
 * with A (a few percent).  No index helps any of them: SQLite scans the
 * cities, looks each state up by its primary key, and sorts what is left. */
#define JOIN "SELECT c.name, s.state FROM cities c JOIN states s ON c.state_id = s.id "
#define ORDER " ORDER BY s.long_name, c.name"
#define EVERY_STATE "WHERE s.state IN (SELECT state FROM states)"
#define M_OR_P "WHERE s.state LIKE 'M%' OR s.state LIKE '%P'"
#define NAME_A "WHERE c.name LIKE 'A%'"
static const char *const CONDITIONS[DATABASE_QUERY_COUNT] = { EVERY_STATE, M_OR_P, NAME_A };
static const char *const QUERIES[DATABASE_QUERY_COUNT] = {
    JOIN EVERY_STATE ORDER, JOIN M_OR_P ORDER, JOIN NAME_A ORDER,
};

/* If SQLite has to wait for a lock (someone writing the file), give up
 * after this long instead of failing at once. */
#define BUSY_TIMEOUT_MS 5000

/* ------------------------------------------------------------ where things are */

/* The directory that holds this program's file: build/bin. */
static bool program_directory(char *directory, size_t size)
{
    ssize_t length = readlink("/proc/self/exe", directory, size - 1);
    if (length <= 0)
        return false;
    directory[length] = '\0';
    char *slash = strrchr(directory, '/');
    if (slash == NULL)
        return false;
    *slash = '\0';
    return true;
}

/* $ASYNCLAB_DB, or asynclab.db next to bin/ (build/asynclab.db, where
 * `make db` puts it), wherever the program is started from. */
static void set_default_path(struct database *run)
{
    const char *from_environment = getenv("ASYNCLAB_DB");
    if (from_environment != NULL && from_environment[0] != '\0') {
        snprintf(run->path, sizeof run->path, "%s", from_environment);
        return;
    }
    char directory[PATH_MAX];
    char *slash;
    if (program_directory(directory, sizeof directory)
        && (slash = strrchr(directory, '/')) != NULL) {
        *slash = '\0';  /* build/bin -> build */
        snprintf(run->path, sizeof run->path, "%.*s/asynclab.db", PATH_MAX - 16, directory);
        run->path_is_default = true;
    } else {
        snprintf(run->path, sizeof run->path, "build/asynclab.db");
    }
}

/*
 * Where the PostgreSQL programs connect unless told otherwise: the lesson's
 * cluster, whose socket is in build/pg next to bin/ (scripts/pg.sh; the
 * real path, as build/pg may be a link to a shorter one under /tmp).  With
 * PGHOST, PGPORT, PGDATABASE or PGSERVICE set, the user means a server of
 * their own: the conninfo stays empty and libpq reads their environment.
 */
static void set_default_conninfo(struct database *run)
{
    static const char *const USER_SETTINGS[] = { "PGHOST", "PGPORT", "PGDATABASE", "PGSERVICE" };
    for (size_t i = 0; i < sizeof USER_SETTINGS / sizeof USER_SETTINGS[0]; i++) {
        const char *value = getenv(USER_SETTINGS[i]);
        if (value != NULL && value[0] != '\0')
            return;
    }
    char directory[PATH_MAX], cluster[PATH_MAX];
    char *slash;
    if (!program_directory(directory, sizeof directory)
        || (slash = strrchr(directory, '/')) == NULL)
        snprintf(directory, sizeof directory, "build/bin");
    else
        *slash = '\0';  /* build/bin -> build */
    snprintf(cluster, sizeof cluster, "%.*s/pg", PATH_MAX - 8, directory);
    char real[PATH_MAX];
    snprintf(run->conninfo, sizeof run->conninfo, "host=%s user=asynclab dbname=asynclab",
             realpath(cluster, real) != NULL ? real : cluster);
    run->conninfo_is_default = true;
}

const char *database_postgres_hint(void)
{
#ifdef __SANITIZE_ADDRESS__
    return "make SANITIZE=1 pg";
#else
    return "make pg";
#endif
}

/* Prints the command that builds the database at run->path: `make db` for
 * the default file, the generator itself for any other. */
static void print_build_hint(const struct database *run, const char *problem, bool replace)
{
    if (run->path_is_default && !replace) {
#ifdef __SANITIZE_ADDRESS__
        const char *make = "make SANITIZE=1 db";
#else
        const char *make = "make db";
#endif
        output_error(run->common.program, "%s; build it with: %s", problem, make);
        return;
    }
    char directory[PATH_MAX];
    if (!program_directory(directory, sizeof directory))
        snprintf(directory, sizeof directory, "build/bin");
    output_error(run->common.program, "%s; build it with: %.*s/database_makedb%s --out %s",
                 problem, PATH_MAX / 2, directory, replace ? " --force" : "", run->path);
}

/* ------------------------------------------------------------ command line */

/* Copies a flag's value into a buffer of `size`; false if empty or too long. */
static bool copy_value(const char *value, char *buffer, size_t size)
{
    size_t length = strlen(value);
    if (length == 0 || length >= size)
        return false;
    memcpy(buffer, value, length + 1);
    return true;
}

static bool apply_path(const char *value, void *target)
{
    struct database *run = target;
    if (!copy_value(value, run->path, sizeof run->path))
        return false;
    run->path_is_default = false;
    return true;
}

static bool apply_conninfo(const char *value, void *target)
{
    struct database *run = target;
    if (!copy_value(value, run->conninfo, sizeof run->conninfo))
        return false;
    run->conninfo_is_default = false;
    return true;
}

static enum cli_result parse_command_line(struct database *run,
                                          const struct lesson_program *program,
                                          int argc, char **argv)
{
    const struct cli_option sqlite_options[] = {
        { "db", "PATH", "the SQLite file to query (default build/asynclab.db, or $ASYNCLAB_DB)",
          "the path of a file", apply_path, run },
    };
    const struct cli_option postgres_options[] = {
        { "conninfo", "STRING", "the server: a libpq connection string or postgresql:// URI\n"
          "                         (default: the PG* variables if set, else the lesson's own, "
          "make pg)",
          "a libpq connection string", apply_conninfo, run },
    };
    const struct cli_option *options = program->postgres ? postgres_options : sqlite_options;
    char example[128];
    snprintf(example, sizeof example, "build/bin/%s --trace %s.json", program->name,
             program->concurrent ? "async" : "sync");
    char purpose[1024];
    snprintf(purpose, sizeof purpose, "%s\n--url and --scale are accepted and ignored: there is "
             "no HTTP server, and the\ndatabase's size sets the work (database_makedb --cities N "
             "sizes it).", program->purpose);
    const struct cli_program description = {
        .name = program->name,
        .purpose = purpose,
        .example = example,
        .options = options,
        .option_count = 1,
    };
    return cli_parse(&description, argc, argv, &run->common);
}

/* ------------------------------------------------------------ setup */

void database_queries_init(struct database_query queries[DATABASE_QUERY_COUNT])
{
    for (int i = 0; i < DATABASE_QUERY_COUNT; i++) {
        struct database_query *query = &queries[i];
        memset(query, 0, sizeof *query);
        query->number = i + 1;
        snprintf(query->label, sizeof query->label, "Q%d", query->number);
        query->sql = QUERIES[i];
        query->condition = CONDITIONS[i];
        query->server_cpu_seconds = -1;
    }
}

/* How many CPUs this process may run on: the most work that can happen at
 * the same moment, whatever the program does. */
static int usable_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (int)online : 1;
}

/*
 * The lesson's model cannot give a number before the queries have run:
 * their times are SQLite's CPU work on this file on this machine, and no
 * delay on the command line says what it is.  So --predict states the
 * model and prints "?" where the number would be (the harness shows "?").
 * After a run, the sync program prints the model's number for async.
 */
static void print_prediction(bool concurrent, bool postgres)
{
    const char *engine = postgres ? "the PostgreSQL server's" : "SQLite's";
    if (concurrent)
        output_summary("Predicted time: ? s (async: max(longest query, sum of the queries / "
                       "%d core%s); query times are %s CPU work, known only by running them)",
                       usable_cores(), usable_cores() == 1 ? "" : "s", engine);
    else
        output_summary("Predicted time: ? s (sync: the sum of the three queries; query times "
                       "are %s CPU work, known only by running them)", engine);
}

/* The file is there and holds the lesson's tables: each query compiles.
 * (A file that is not SQLite fails here with "file is not a database"; one
 * damaged further in is caught when a query reads the damaged pages.) */
static bool check_database(struct database *run)
{
    struct stat file;
    if (stat(run->path, &file) != 0) {
        char problem[PATH_MAX + 64];
        snprintf(problem, sizeof problem, "no database at %s", run->path);
        print_build_hint(run, problem, false);
        return false;
    }
    /* Opening a FIFO for reading blocks until a writer comes: refuse
     * whatever is not a plain file before SQLite opens it. */
    if (!S_ISREG(file.st_mode)) {
        output_error(run->common.program, "%s is not a regular file (a FIFO, directory or "
                     "device?); --db needs an SQLite database file", run->path);
        return false;
    }
    sqlite3 *db = NULL;
    int result = sqlite3_open_v2(run->path, &db, SQLITE_OPEN_READONLY, NULL);
    for (int i = 0; result == SQLITE_OK && i < DATABASE_QUERY_COUNT; i++) {
        sqlite3_stmt *statement = NULL;
        result = sqlite3_prepare_v2(db, run->queries[i].sql, -1, &statement, NULL);
        sqlite3_finalize(statement);
    }
    bool usable = result == SQLITE_OK;
    if (!usable) {
        char problem[PATH_MAX + 320];
        snprintf(problem, sizeof problem, "%s is not a usable asynclab database (%s)",
                 run->path, db ? sqlite3_errmsg(db) : sqlite3_errstr(result));
        print_build_hint(run, problem, true);
    }
    sqlite3_close(db);
    return usable;
}

int database_setup(struct database *run, const struct lesson_program *program,
                   int argc, char **argv)
{
    memset(run, 0, sizeof *run);
    run->concurrent = program->concurrent;
    run->postgres = program->postgres;
    if (program->postgres)
        set_default_conninfo(run);
    else
        set_default_path(run);
    switch (parse_command_line(run, program, argc, argv)) {
    case CLI_EXIT_OK: return EXIT_ALL_DONE;
    case CLI_EXIT_USAGE: return EXIT_USAGE;
    case CLI_RUN: break;
    }
    output_init(run->common.quiet);
    database_queries_init(run->queries);
    if (run->common.predict) {
        print_prediction(program->concurrent, program->postgres);
        return EXIT_ALL_DONE;
    }
    if (run->common.scale != 1.0)
        output_error(program->name, "note: --scale does nothing here; the database's size sets the "
                     "work (database_makedb --cities N builds a smaller one)");
    if (run->common.seeded)
        output_error(program->name, "note: --seed does nothing here; the database's rows are the "
                     "seeded work (database_makedb --seed N builds another)");
    if ((run->common.trace_path != NULL
         && !trace_path_writable(run->common.trace_path, program->name))
        || !(program->postgres ? postgres_check(run) : check_database(run)))
        return EXIT_SETUP;
    if (run->common.trace_path != NULL) {
        run->trace = trace_new(clock_now());
        /* Only the SQLite async program has threads, a worker per query;
         * PostgreSQL's waits on its connections in one poll() loop. */
        bool worker_threads = program->concurrent && !program->postgres;
        if (!worker_threads)
            trace_one_thread(run->trace, program->concurrent);
        for (int i = 0; i < DATABASE_QUERY_COUNT && run->trace; i++)
            trace_name_task(run->trace, run->queries[i].number, run->queries[i].label);
    }
    output_rule();
    run->started = clock_now();
    return -1;
}

/* ------------------------------------------------------------ one query */

void database_query_started(struct database *run, struct database_query *query)
{
    (void)run;
    query->started = clock_now();
    output_task(query->label, TONE_PLAIN, "Querying '%s'", query->sql);
}

void database_query_run(const char *path, struct database_query *query)
{
    query->work_started = clock_now();
    query->thread = (long)gettid();
    sqlite3 *db = NULL;
    sqlite3_stmt *statement = NULL;
    long long rows = 0;
    /* Read-only: this program never changes the file, and a missing file
     * is an error rather than a new empty database. */
    int result = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    if (result == SQLITE_OK)
        result = sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    if (result == SQLITE_OK)
        result = sqlite3_prepare_v2(db, query->sql, -1, &statement, NULL);
    /* Fetch every row, as a client that wants the result must: the first
     * row of an ORDER BY comes only after SQLite has sorted them all. */
    while (result == SQLITE_OK && (result = sqlite3_step(statement)) == SQLITE_ROW) {
        (void)sqlite3_column_text(statement, 0);
        (void)sqlite3_column_text(statement, 1);
        rows++;
        result = SQLITE_OK;
    }
    if (result == SQLITE_DONE)
        result = SQLITE_OK;
    query->result = result;
    if (result != SQLITE_OK)
        snprintf(query->error, sizeof query->error, "%s",
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(result));
    sqlite3_finalize(statement);
    sqlite3_close(db);
    query->rows = rows;
    query->work_finished = clock_now();
    query->work_seconds = query->work_finished - query->work_started;
}

void database_query_finished(struct database *run, struct database_query *query)
{
    query->finished = clock_now();
    bool ok = query->result == SQLITE_OK;
    if (ok) {
        output_task(query->label, TONE_GOOD, "Query made! Db replied '%lld' rows", query->rows);
    } else {
        output_task(query->label, TONE_BAD, "Query failed: %s", query->error);
        run->failures++;
        int primary = query->result & 0xff;  /* extended codes keep it in the low byte */
        if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
            run->damaged = true;
    }

    char name[128];
    snprintf(name, sizeof name, "%s %s", query->label, query->condition);
    /* The bar is the work window the thread that ran the query stamped
     * itself; a query that never ran is drawn from asking to answer. */
    bool ran = query->work_finished > 0;
    struct trace_event *event = trace_add(run->trace, name, query->number,
                                          ran ? query->work_started : query->started,
                                          ran ? query->work_finished : query->finished);
    trace_set_text(event, "sql", query->sql);
    trace_set_integer(event, "rows", query->rows);
    trace_set_number(event, "work_seconds", query->work_seconds);
    trace_set_integer(event, "thread", query->thread);
    /* When the program asked and had the answer, as the loop saw it. */
    trace_set_number(event, "asked_s", query->started - run->started);
    trace_set_number(event, "answered_s", query->finished - run->started);
    if (query->server_cpu_seconds >= 0)
        trace_set_number(event, "server_cpu_seconds", query->server_cpu_seconds);
    trace_set_text(event, "outcome", ok ? "ok" : query->error);
}

/* ------------------------------------------------------------ the end */

/* What the lesson's model says an async run could at best achieve, now
 * that the sync run has measured each query alone. */
static void print_async_bound(const struct database *run)
{
    double sum = 0, longest = 0;
    for (int i = 0; i < DATABASE_QUERY_COUNT; i++) {
        double work = run->queries[i].work_seconds;
        sum += work;
        if (work > longest)
            longest = work;
    }
    int cores = usable_cores();
    double bound = sum / cores > longest ? sum / cores : longest;
    output_task("Model", TONE_NOTE, "async on %d core%s needs at least %.3f s = max(longest "
                "query %.3f s, all queries %.3f s / %d)", cores, cores == 1 ? "" : "s", bound,
                longest, sum, cores);
}

/* CPU seconds this process has used, all its threads together. */
static double own_cpu_seconds(void)
{
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0)
        return 0;
    return (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6
           + (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

/* Who did the work: this process, and (PostgreSQL) the server's backend
 * processes, one per connection. */
static void print_cpu(const struct database *run)
{
    if (!run->postgres) {
        output_task("CPU", TONE_NOTE, "this program %.3f s (SQLite works inside it)",
                    own_cpu_seconds());
        return;
    }
    double server = 0;
    for (int i = 0; i < DATABASE_QUERY_COUNT; i++) {
        if (run->queries[i].server_cpu_seconds < 0) {
            output_task("CPU", TONE_NOTE, "this program %.3f s, the server ? (its processes "
                        "are not visible from here)", own_cpu_seconds());
            return;
        }
        server += run->queries[i].server_cpu_seconds;
    }
    output_task("CPU", TONE_NOTE, "this program %.3f s, the server's backends %.3f s",
                own_cpu_seconds(), server);
}

int database_finish(struct database *run)
{
    double elapsed = clock_now() - run->started;
    output_separator();
    if (!run->concurrent && run->failures == 0)
        print_async_bound(run);
    print_cpu(run);
    if (run->failures > 0)
        output_summary("Failed: %ld of %d queries", run->failures, DATABASE_QUERY_COUNT);
    output_summary("Time elapsed: %.3f s", elapsed);
    output_rule();

    int status = run->failures > 0 ? EXIT_TASKS_FAILED : EXIT_ALL_DONE;
    if (run->damaged) {
        char problem[PATH_MAX + 64];
        snprintf(problem, sizeof problem, "%s is damaged", run->path);
        print_build_hint(run, problem, true);
        status = EXIT_SETUP;
    }
    status = trace_save(run->trace, run->common.trace_path, run->common.program, status);
    database_abandon(run);  /* the same release, now that all is said */
    return status;
}

void database_run_one_at_a_time(struct database *run)
{
    for (int i = 0; i < DATABASE_QUERY_COUNT; i++) {
        database_query_started(run, &run->queries[i]);
        database_query_run(run->path, &run->queries[i]);
        database_query_finished(run, &run->queries[i]);
    }
}

void database_abandon(struct database *run)
{
    trace_free(run->trace);
    run->trace = NULL;
}
