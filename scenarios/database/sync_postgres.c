/*
 * database/sync_postgres.c - the lesson's three heavy queries on a
 * PostgreSQL server, one after another, on one connection.
 *
 * Demonstrates: a blocking client of a database server.  PQexec sends a
 * query and returns when the server has sent back every row; meanwhile
 * this program does nothing at all (it sleeps in the kernel, waiting for
 * the socket), while one backend process of the server scans, joins and
 * sorts.  Only one query is ever in the server at a time.
 * async_postgres.c sends all three at once on three connections and waits
 * for them in one event loop; `diff` the two.  docs/database.md compares
 * them with the SQLite pair (sync.c, async.c).
 *
 *     build/bin/database_sync_postgres [--conninfo STRING] [--trace FILE]
 */
#include "postgres.h"

static const struct lesson_program PROGRAM = {
    .name = "database_sync_postgres",
    .purpose = "Runs three heavy queries on PostgreSQL one after another, on one connection (PQexec).",
    .concurrent = false,
    .postgres = true,
};

/* Runs one query and waits, doing nothing else, until it has every row. */
static void run_query(struct database *run, PGconn *connection, struct database_query *query)
{
    postgres_query_started(run, query, connection);

    PGresult *result = PQexec(connection, query->sql);  /* blocks while the server works */

    if (result != NULL)
        postgres_record_result(query, result);
    else
        postgres_record_failure(query, connection);
    PQclear(result);
    postgres_query_finished(run, query, connection);
}

int main(int argc, char **argv)
{
    struct database run;
    int early_exit = database_setup(&run, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    PGconn *connection = postgres_connect(&run);
    if (connection == NULL) {
        trace_free(run.trace);
        return EXIT_SETUP;
    }

    for (int i = 0; i < DATABASE_QUERY_COUNT; i++)
        run_query(&run, connection, &run.queries[i]);

    PQfinish(connection);
    return database_finish(&run);
}
