/*
 * database/sync.c - three heavy SQLite queries, one after another.
 *
 * Demonstrates: a blocking call that is not waiting at all.  Each query
 * opens its own connection and runs to its last row before the next one
 * starts; while SQLite sorts millions of rows for Q1, Q2 and Q3 have not
 * been asked for.  Unlike the slow-API lesson, the time goes into work on
 * this machine's CPU, not into waiting for someone else, so the async
 * version (async.c) can only overlap as much work as there are cores to do
 * it.  docs/database.md explains both and compares their times.
 *
 *     build/bin/database_sync [--db build/asynclab.db] [--trace FILE]
 */
#include "database.h"

static const struct lesson_program PROGRAM = {
    .name = "database_sync",
    .purpose = "Runs three heavy SQLite queries one after another, a connection each.",
    .concurrent = false,
    .postgres = false,  /* SQLite */
};

/* Runs one query and waits, doing nothing else, until it has every row. */
static void run_query(struct database *run, struct database_query *query)
{
    database_query_started(run, query);

    database_query_run(run->path, query);  /* blocks while SQLite does the work */

    database_query_finished(run, query);
}

int main(int argc, char **argv)
{
    struct database run;
    int early_exit = database_setup(&run, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    for (int i = 0; i < DATABASE_QUERY_COUNT; i++)
        run_query(&run, &run.queries[i]);

    return database_finish(&run);
}
