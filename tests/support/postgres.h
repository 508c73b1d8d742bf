/*
 * postgres.h - a real PostgreSQL for tests: the lesson's own cluster
 * (scripts/pg.sh) in a scratch directory under /tmp, loaded with a small
 * data set, stopped and removed at the end, also when a test fails or the
 * run is interrupted (Ctrl+C, SIGTERM).
 *
 * pg_stat_activity, read from a connection of the test's own, is how tests
 * see what the server is doing, without timing anything.
 */
#ifndef ASYNCLAB_TEST_POSTGRES_H
#define ASYNCLAB_TEST_POSTGRES_H

#include <libpq-fe.h>
#include <stdbool.h>

struct test_postgres {
    char dir[96];         /* the cluster (scripts/pg.sh DIR) */
    char host[4096];      /* its socket directory, DIR's real path */
    char conninfo[4200];  /* "host=... user=asynclab dbname=asynclab" */
};

/* Runs scripts/pg.sh with these arguments after the command and DIR
 * (NULL-terminated, may be NULL); returns its exit status, -1 if it could
 * not run or timed out.  Its stderr goes to ours. */
int test_postgres_script(const struct test_postgres *pg, const char *command,
                         const char *const *arguments);

/* Creates, starts and loads a cluster with `cities` cities of seed `seed`
 * (the generator's flags).  Returns 0, or -1 after printing why.  Until
 * test_postgres_remove, Ctrl+C and SIGTERM remove it before the test dies. */
int test_postgres_start(struct test_postgres *pg, const char *cities, const char *seed);

/* Stops the server and deletes the cluster. */
void test_postgres_remove(struct test_postgres *pg);

/* A connection of the test's own (fails the test if none can be had). */
PGconn *test_postgres_connect(const struct test_postgres *pg);

/* Runs a statement that returns nothing; fails the test if it fails. */
void test_postgres_exec(PGconn *connection, const char *sql);

/* How many of application_name's queries the server is running right now
 * (pg_stat_activity, state 'active'); -1 on error. */
long test_postgres_active_queries(PGconn *connection, const char *application_name);

/* True while the cluster's server runs (its postmaster.pid exists). */
bool test_postgres_running(const struct test_postgres *pg);

#endif
