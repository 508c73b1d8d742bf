/*
 * postgres.c - the PostgreSQL programs' shared, non-concurrent parts; see
 * postgres.h.
 */
#include "postgres.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "output.h"
#include "proc_stat.h"

/* libpq's messages may span lines ("...failed: ...\n\tIs the server
 * running...?\n"); an error here is one line, so keep the first. */
static void first_line(const char *message, char *line, size_t size)
{
    snprintf(line, size, "%s", message != NULL ? message : "");
    line[strcspn(line, "\n")] = '\0';
}

/* The fix to print when the data is not there, by where it was sought. */
static void print_problem(const struct database *run, const char *problem, const char *detail)
{
    if (run->conninfo_is_default)
        output_error(run->common.program, "%s (%s); start the lesson's PostgreSQL with: %s",
                     problem, detail, database_postgres_hint());
    else
        output_error(run->common.program, "%s (%s); check --conninfo or the PG* variables, or "
                     "drop them to use the lesson's own server (%s)", problem, detail,
                     database_postgres_hint());
}

/* A query stuck behind someone's lock would otherwise wait for ever.  Unless
 * the user set a statement_timeout of their own (PGOPTIONS, --conninfo's
 * options), give each statement POSTGRES_STATEMENT_TIMEOUT; one that runs
 * out fails with the server's "canceling statement due to statement
 * timeout".  If even this fails, the first query will say why. */
static void bound_every_statement(PGconn *connection)
{
    PQclear(PQexec(connection, "SELECT set_config('statement_timeout', '"
                   POSTGRES_STATEMENT_TIMEOUT "', false) "
                   "WHERE current_setting('statement_timeout') = '0'"));
}

PGconn *postgres_connect(const struct database *run)
{
    /* Later keywords win, and the conninfo comes last: what the user wrote
     * overrides these defaults.  An empty conninfo leaves every setting it
     * does not make to libpq's PG* environment variables. */
    const char *const keywords[] = { "connect_timeout", "application_name", "dbname", NULL };
    const char *const values[] = { POSTGRES_CONNECT_TIMEOUT, run->common.program, run->conninfo,
                                   NULL };
    PGconn *connection = PQconnectdbParams(keywords, values, 1);
    if (connection != NULL && PQstatus(connection) == CONNECTION_OK) {
        bound_every_statement(connection);
        return connection;
    }

    char detail[512];
    first_line(connection ? PQerrorMessage(connection) : "out of memory", detail, sizeof detail);
    print_problem(run, "cannot connect to PostgreSQL", detail);
    PQfinish(connection);
    return NULL;
}

/* The names of the lesson's tables the server does not have ("" if none).
 * to_regclass looks a name up without locking the table, so this check
 * never waits behind someone else's lock (the tests hold one on purpose). */
#define MISSING_TABLES \
    "SELECT coalesce(string_agg(name, ', '), '') FROM unnest(ARRAY['states', 'cities']) AS name " \
    "WHERE to_regclass(name) IS NULL"

bool postgres_check(struct database *run)
{
    PGconn *connection = postgres_connect(run);
    if (connection == NULL)
        return false;
    PGresult *missing = PQexec(connection, MISSING_TABLES);
    char detail[512];
    if (PQresultStatus(missing) != PGRES_TUPLES_OK)
        first_line(PQresultErrorMessage(missing), detail, sizeof detail);
    else if (PQgetvalue(missing, 0, 0)[0] != '\0')
        snprintf(detail, sizeof detail, "no table %s", PQgetvalue(missing, 0, 0));
    else
        detail[0] = '\0';
    bool usable = detail[0] == '\0';
    if (!usable && run->conninfo_is_default)
        output_error(run->common.program, "the lesson's PostgreSQL lacks its tables (%s); "
                     "load them with: %s", detail, database_postgres_hint());
    else if (!usable)
        output_error(run->common.program, "this PostgreSQL lacks the lesson's tables (%s); "
                     "load them with: build/bin/database_makedb --postgres | psql "
                     "(with your connection's options)", detail);
    PQclear(missing);
    PQfinish(connection);
    return usable;
}

void postgres_query_started(struct database *run, struct database_query *query,
                            const PGconn *connection)
{
    query->server_cpu_at_start = postgres_backend_cpu_seconds(connection);
    database_query_started(run, query);
}

void postgres_query_finished(struct database *run, struct database_query *query,
                             const PGconn *connection)
{
    query->work_seconds = clock_now() - query->started;
    double cpu_now = postgres_backend_cpu_seconds(connection);
    if (cpu_now >= 0 && query->server_cpu_at_start >= 0)
        query->server_cpu_seconds = cpu_now - query->server_cpu_at_start;
    database_query_finished(run, query);
}

void postgres_record_result(struct database_query *query, const PGresult *result)
{
    if (PQresultStatus(result) == PGRES_TUPLES_OK) {
        query->result = SQLITE_OK;
        query->rows = PQntuples(result);
        return;
    }
    query->result = SQLITE_ERROR;
    first_line(PQresultErrorMessage(result), query->error, sizeof query->error);
}

void postgres_record_failure(struct database_query *query, const PGconn *connection)
{
    query->result = SQLITE_ERROR;
    first_line(PQerrorMessage(connection), query->error, sizeof query->error);
}

double postgres_backend_cpu_seconds(const PGconn *connection)
{
    /* Over a Unix socket the backend is a process on this machine; over
     * TCP it may be anywhere, and its pid would name some other process. */
    const char *host = PQhost(connection);
    if (host == NULL || host[0] != '/')
        return -1;
    struct proc_stat stat;
    return proc_stat_read(PQbackendPID(connection), 0, &stat) ? stat.cpu_seconds : -1;
}
