/*
 * database/async_postgres.c - the lesson's three heavy queries on a
 * PostgreSQL server, all at once, on one thread.
 *
 * Demonstrates: a truly non-blocking database client, the way asyncpg is
 * one.  Each query gets a connection of its own (the server runs one
 * backend process per connection, and one query at a time on each), is
 * sent with PQsendQuery, which returns at once, and then the program's one
 * thread sleeps in poll() on the three sockets.  When a socket is
 * readable, PQconsumeInput takes in what arrived without blocking;
 * PQisBusy says whether a whole result is there yet, and only then does
 * PQgetResult hand it over.  No worker threads: the parallelism is the
 * server's three backend processes, on the server's cores.
 *
 * The catch, as in the SQLite pair: the queries are CPU work, the
 * server's.  Three at once go no faster than the cores can run them.
 * Compare with sync_postgres.c; docs/database.md explains both.
 *
 *     build/bin/database_async_postgres [--conninfo STRING] [--trace FILE]
 */
#include <poll.h>
#include <stdbool.h>

#include "output.h"
#include "postgres.h"

static const struct lesson_program PROGRAM = {
    .name = "database_async_postgres",
    .purpose = "Runs three heavy queries on PostgreSQL at once, one connection each, sent with\n"
               "PQsendQuery and collected in one poll() loop on one thread (the asyncpg way).",
    .concurrent = true,
    .postgres = true,
};

/* One query's connection and where its answer stands. */
struct connection {
    PGconn *pg;
    struct database_query *query;
    bool waiting;  /* sent, and not yet complete */
    bool sending;  /* part of the query is still in libpq's output buffer */
};

/* Sends a query and returns at once: the server works, nothing here waits. */
static void start_query(struct database *run, struct connection *connection,
                        struct database_query *query)
{
    connection->query = query;
    postgres_query_started(run, query, connection->pg);
    if (!PQsendQuery(connection->pg, query->sql)) {
        postgres_record_failure(query, connection->pg);
        postgres_query_finished(run, query, connection->pg);
        return;
    }
    connection->waiting = true;
    /* In non-blocking mode a send may stop short; the loop finishes it
     * when the socket can take more (PQflush returns 1 until done). */
    connection->sending = PQflush(connection->pg) == 1;
}

/*
 * The socket is readable: take in what arrived and collect every result
 * that is complete.  Returns true when the query is finished (its last
 * result collected, or the connection failed).
 */
static bool read_answer(struct connection *connection)
{
    if (!PQconsumeInput(connection->pg)) {  /* reads what is there; never blocks */
        postgres_record_failure(connection->query, connection->pg);
        return true;
    }
    while (!PQisBusy(connection->pg)) {  /* a whole result is here: PQgetResult won't block */
        PGresult *result = PQgetResult(connection->pg);
        if (result == NULL)  /* no more results: the query is complete */
            return true;
        postgres_record_result(connection->query, result);
        PQclear(result);
    }
    return false;  /* the rest has not arrived yet: back to poll */
}

/* Opens one connection per query, in non-blocking mode; false after an
 * error (the ones already open are closed). */
static bool open_connections(const struct database *run, struct connection connections[])
{
    for (int i = 0; i < DATABASE_QUERY_COUNT; i++) {
        connections[i] = (struct connection){ .pg = postgres_connect(run) };
        if (connections[i].pg == NULL || PQsetnonblocking(connections[i].pg, 1) != 0) {
            for (int j = 0; j <= i; j++)
                PQfinish(connections[j].pg);
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    struct database run;
    int early_exit = database_setup(&run, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    struct connection connections[DATABASE_QUERY_COUNT];
    if (!open_connections(&run, connections)) {
        trace_free(run.trace);
        return EXIT_SETUP;
    }
    int pending = 0;  /* queries sent and not complete yet */
    for (int i = 0; i < DATABASE_QUERY_COUNT; i++) {
        start_query(&run, &connections[i], &run.queries[i]);
        pending += connections[i].waiting;
    }

    /* The event loop: one poll() on every socket still waiting. */
    while (pending > 0) {
        struct pollfd sockets[DATABASE_QUERY_COUNT];
        struct connection *owners[DATABASE_QUERY_COUNT];
        nfds_t count = 0;
        for (int i = 0; i < DATABASE_QUERY_COUNT; i++) {
            if (!connections[i].waiting)
                continue;
            sockets[count] = (struct pollfd){
                .fd = PQsocket(connections[i].pg),
                .events = POLLIN | (connections[i].sending ? POLLOUT : 0),
            };
            owners[count++] = &connections[i];
        }
        if (poll(sockets, count, -1) < 0)  /* sleep until some socket is ready */
            continue;                      /* EINTR: a signal woke us; look again */

        for (nfds_t i = 0; i < count; i++) {
            struct connection *connection = owners[i];
            if (sockets[i].revents & POLLOUT)
                connection->sending = PQflush(connection->pg) == 1;
            if ((sockets[i].revents & (POLLIN | POLLHUP | POLLERR)) && read_answer(connection)) {
                connection->waiting = false;
                pending--;
                postgres_query_finished(&run, connection->query, connection->pg);
            }
        }
    }

    for (int i = 0; i < DATABASE_QUERY_COUNT; i++)
        PQfinish(connections[i].pg);
    return database_finish(&run);
}
