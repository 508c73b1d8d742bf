/*
 * database/async.c - three heavy SQLite queries, all at once.
 *
 * Demonstrates: how an event loop uses a library that can only block.
 * SQLite has no non-blocking interface: sqlite3_step returns when it has
 * the next row, however much work that takes.  So, like Python's aiosqlite,
 * this program hands each query to a worker thread with its own read-only
 * connection, and the main thread runs an event loop that sleeps in poll()
 * until a worker writes "Qn is done" into a pipe; it then prints that
 * result, in the order the queries finish.  The blocking happens on the
 * workers; the loop itself never blocks on SQLite.
 *
 * The catch, and the point of the lesson: the queries are CPU work, not
 * waiting.  Three of them in parallel go no faster than the cores can run
 * them, and the longest query is never shorter than itself.  Compare with
 * sync.c; docs/database.md explains both and compares their times.
 * (LAB:cut/LAB:end: what the lab's starter leaves out; docs/labs/README.md.)
 *
 *     build/bin/database_async [--db build/asynclab.db] [--trace FILE]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "database.h"
#include "output.h"

static const struct lesson_program PROGRAM = {
    .name = "database_async",
    .purpose = "Runs three heavy SQLite queries at once, each on a worker thread with its own\n"
               "connection, and collects the results in an event loop (the aiosqlite way).",
    .concurrent = true,
    .postgres = false,  /* SQLite */
};

/* LAB:cut write the worker: a thread per query that runs database_query_run
 * (it blocks only that thread) and then writes the query's number into the
 * completions pipe; start_query (database_query_started, pthread_create) and
 * finish_query (pthread_join, then database_query_finished). */
/* One query's worker thread, and where it reports back. */
struct worker {
    pthread_t thread;
    bool running;
    const char *path;
    struct database_query *query;
    int completions;  /* write end of the pipe the event loop watches */
};

/* The worker's whole life: run the blocking query, then tell the loop. */
static void *run_in_worker(void *argument)
{
    struct worker *worker = argument;
    database_query_run(worker->path, worker->query);  /* blocks this thread only */

    /* One byte naming the query.  Writes this small are atomic, so three
     * workers finishing together cannot mix their bytes up. */
    unsigned char number = (unsigned char)worker->query->number;
    while (write(worker->completions, &number, 1) < 0 && errno == EINTR)
        ;
    return NULL;
}

/* Hands a query to a new worker thread and returns at once: nothing waits. */
static void start_query(struct database *run, struct worker *worker, int completions,
                        struct database_query *query)
{
    *worker = (struct worker){ .path = run->path, .query = query, .completions = completions };
    database_query_started(run, query);
    worker->running = pthread_create(&worker->thread, NULL, run_in_worker, worker) == 0;
    if (!worker->running) {
        query->result = SQLITE_ERROR;  /* it never ran */
        snprintf(query->error, sizeof query->error, "could not start a worker thread");
        database_query_finished(run, query);
    }
}

/* A worker said its query is done: collect the thread, report the result. */
static void finish_query(struct database *run, struct worker *worker)
{
    pthread_join(worker->thread, NULL);  /* it has already returned: no wait */
    worker->running = false;
    database_query_finished(run, worker->query);
}
/* LAB:end */

int main(int argc, char **argv)
{
    struct database run;
    int early_exit = database_setup(&run, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    int completions[2];  /* [0] the loop reads, [1] the workers write */
    if (pipe2(completions, O_CLOEXEC) != 0) {
        output_error(PROGRAM.name, "cannot create a pipe");
        database_abandon(&run);
        return EXIT_SETUP;
    }

    /* LAB:cut replace this serial run with the workers and the event loop:
     * start every query on its worker, then until none is pending sleep in
     * poll() on completions[0] and finish each query whose number you read. */
    struct worker workers[DATABASE_QUERY_COUNT];
    int pending = 0;  /* queries handed to a worker and not reported yet */
    for (int i = 0; i < DATABASE_QUERY_COUNT; i++) {
        start_query(&run, &workers[i], completions[1], &run.queries[i]);
        pending += workers[i].running;
    }

    /* The event loop.  It has one thing to watch here; a real program would
     * poll its sockets and timers in the same call. */
    while (pending > 0) {
        struct pollfd ready = { .fd = completions[0], .events = POLLIN };
        if (poll(&ready, 1, -1) < 0)  /* sleep until some worker is done */
            continue;                 /* EINTR: a signal woke us; look again */

        unsigned char done[DATABASE_QUERY_COUNT];
        ssize_t count = read(completions[0], done, sizeof done);
        for (ssize_t i = 0; i < count; i++) {
            finish_query(&run, &workers[done[i] - 1]);
            pending--;
        }
    }
    /* LAB:end database_run_one_at_a_time(&run); */

    close(completions[0]);
    close(completions[1]);
    return database_finish(&run);
}
