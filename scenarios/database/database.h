/*
 * database.h - everything sync.c and async.c of the database lesson share
 * that is NOT about concurrency: the command line, the three queries, the
 * blocking function that runs one of them on a connection of its own, the
 * lines printed as each starts and finishes, the trace and the summary.
 * What is left in sync.c and async.c is the one difference that matters:
 * where the blocking call runs and how its result comes back.  The lesson
 * is docs/database.md; the database itself comes from makedb/makedb.c.
 *
 * The same four programs' worth of set-up serves both engines: SQLite (a
 * file, sync.c and async.c) and PostgreSQL (a server, sync_postgres.c and
 * async_postgres.c, whose connections are in postgres.h).
 */
#ifndef ASYNCLAB_DATABASE_H
#define ASYNCLAB_DATABASE_H

#include <limits.h>
#include <stdbool.h>

#include "cli.h"
#include "trace.h"

#define DATABASE_QUERY_COUNT 3

struct database_query {
    int number;            /* 1-based: Q1, Q2, Q3 */
    char label[8];         /* "Q1" */
    const char *sql;
    const char *condition; /* its WHERE clause, for the trace's event name */
    double started;        /* clock_now() when the program asked for it */
    double finished;       /* clock_now() when the program had the answer */

    /* Filled by database_query_run, on whatever thread ran it: the work
     * window is stamped by the thread that did the work, not by the loop
     * that asked for it, so the trace shows when SQLite really ran. */
    long long rows;
    double work_started;   /* clock_now() as database_query_run began */
    double work_finished;  /* clock_now() as it returned */
    double work_seconds;   /* work_finished - work_started */
    long thread;           /* the OS thread id (gettid) that ran it */
    int result;            /* SQLITE_OK (0), or the SQLite error code; PostgreSQL
                              failures are SQLITE_ERROR */
    char error[256];       /* the engine's message when result != SQLITE_OK */
    double server_cpu_seconds;  /* PostgreSQL: CPU its backend process spent on
                                   this query; < 0 when unknown (and for SQLite) */
    double server_cpu_at_start; /* the backend's CPU time when it was sent */
};

struct database {
    struct cli_common common;
    char path[PATH_MAX];   /* --db, $ASYNCLAB_DB, or build/asynclab.db */
    bool path_is_default;
    bool postgres;         /* the data is in a PostgreSQL server, not the file */
    char conninfo[PATH_MAX + 64];  /* PostgreSQL: --conninfo, "" for libpq's PG*
                                      environment, or the lesson's cluster */
    bool conninfo_is_default;      /* the lesson's own cluster (build/pg) */
    struct database_query queries[DATABASE_QUERY_COUNT];
    double started;        /* clock_now() when the work began */
    struct trace *trace;
    long failures;
    bool damaged;          /* some query found the file corrupt */
    bool concurrent;       /* the program's own description says so */
};


/*
 * Parses the command line and checks that the database is there and is one
 * this lesson can query.  Returns -1 when the program should go on and run
 * the queries; otherwise the exit status to return at once (after --help,
 * --predict, a usage error, or a missing or unusable database).
 */
int database_setup(struct database *run, const struct lesson_program *program,
                   int argc, char **argv);

/* Fills in the lesson's three queries, not yet run (database_setup does
 * this; the unit tests call it alone). */
void database_queries_init(struct database_query queries[DATABASE_QUERY_COUNT]);

/* Call just before a query is handed to the database: prints "Q1: Querying '...'". */
void database_query_started(struct database *run, struct database_query *query);

/*
 * Opens a read-only connection of its own to `path`, runs the query, fetches
 * every row, and closes the connection.  It blocks until SQLite has
 * produced the last row: all of that time is SQLite's own CPU work (the file
 * is in the page cache after the first run).  It touches nothing but *query,
 * so it may run on any thread.
 */
void database_query_run(const char *path, struct database_query *query);

/* Call when the program has the query's result in hand: prints "Q1: Query
 * made! Db replied 'N' rows" (or why it failed) and records the trace. */
void database_query_finished(struct database *run, struct database_query *query);

/* The lab's starter (docs/labs/README.md) runs this where async.c has its
 * workers and event loop: each query in turn, blocking, on the main thread. */
void database_run_one_at_a_time(struct database *run);

/* The command that starts the lesson's PostgreSQL ("make pg"), for hints. */
const char *database_postgres_hint(void);

/* Prints the summary, writes the trace, frees everything; returns the exit
 * status (0; EXIT_TASKS_FAILED if a query failed; EXIT_SETUP if the file
 * turned out to be corrupt). */
int database_finish(struct database *run);

/* Frees what database_setup took, printing nothing: for a program that
 * could not even start its work (no pipe for the workers). */
void database_abandon(struct database *run);

#endif
