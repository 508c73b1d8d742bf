/*
 * postgres.h - what sync_postgres.c and async_postgres.c share that is NOT
 * about concurrency: opening a connection to the server, checking that it
 * holds the lesson's tables, turning a finished result into the query's
 * row count or error, and reading how much CPU the server's backend process
 * spent.  How the queries are sent and the answers waited for is left to
 * the two programs: that is the lesson (docs/database.md).
 */
#ifndef ASYNCLAB_DATABASE_POSTGRES_H
#define ASYNCLAB_DATABASE_POSTGRES_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "database.h"

/* How long connecting may take before libpq gives up (seconds, as text:
 * libpq's connect_timeout).  A --conninfo that says otherwise wins. */
#define POSTGRES_CONNECT_TIMEOUT "10"

/* The longest one query may run (or wait for a lock) unless the user set a
 * statement_timeout of their own: far beyond the lesson's queries, short
 * of for ever. */
#define POSTGRES_STATEMENT_TIMEOUT "10min"

/*
 * Connects to run->conninfo, blocking until the server has answered (at
 * most POSTGRES_CONNECT_TIMEOUT).  The connection names the program in
 * pg_stat_activity (application_name).  Returns NULL after printing one
 * line that says what is wrong and what to do; the caller exits with
 * EXIT_SETUP.
 */
PGconn *postgres_connect(const struct database *run);

/* The server is there and holds the lesson's tables: each query plans.
 * Prints why not (and the fix) and returns false otherwise. */
bool postgres_check(struct database *run);

/* Call just before the query goes to the server on `connection`: prints
 * "Q1: Querying '...'" and notes the backend's CPU time so far. */
void postgres_query_started(struct database *run, struct database_query *query,
                            const PGconn *connection);

/* Records a query's outcome from a result it produced (which the caller
 * still frees): the row count, or the server's message as the error. */
void postgres_record_result(struct database_query *query, const PGresult *result);

/* Records that a query failed on the connection itself (lost, refused). */
void postgres_record_failure(struct database_query *query, const PGconn *connection);

/* Call when the query is complete: records how long it took and the CPU
 * its backend spent on it, and prints "Q1: Query made! ..." (or why not). */
void postgres_query_finished(struct database *run, struct database_query *query,
                             const PGconn *connection);

/* CPU seconds the connection's backend process has used so far, read from
 * /proc: only for a server on this machine (a Unix socket); < 0 when it
 * cannot be seen. */
double postgres_backend_cpu_seconds(const PGconn *connection);

#endif
