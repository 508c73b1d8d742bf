/*
 * postgres.c - a real PostgreSQL for tests; see postgres.h.
 */
#include "postgres.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process.h"

#define SCRIPT ASYNCLAB_SOURCE_DIR "/scripts/pg.sh"

/* initdb, start and COPY of a small data set take a few seconds; allow
 * for a slow, shared machine. */
#define SCRIPT_TIMEOUT_S 120.0

int test_postgres_script(const struct test_postgres *pg, const char *command,
                         const char *const *arguments)
{
    const char *argv[16] = { "/bin/sh", SCRIPT, command, pg->dir };
    size_t argc = 4;
    for (size_t i = 0; arguments != NULL && arguments[i] != NULL && argc < 15; i++)
        argv[argc++] = arguments[i];
    argv[argc] = NULL;
    struct test_process_result result;
    if (test_run(argv, SCRIPT_TIMEOUT_S, &result) != 0)
        return -1;
    fputs(result.err, stderr);
    int status = result.exit_status;
    test_process_result_free(&result);
    return status;
}

/* ------------------------------------------------------------ interruption */

/* The cluster to remove if the test run is interrupted. */
static const char *interrupted_cluster;

/* Ctrl+C or SIGTERM: remove the cluster (fork, exec and wait are safe in a
 * signal handler), then die of the same signal. */
static void remove_and_die(int signal_number)
{
    if (interrupted_cluster != NULL) {
        pid_t child = fork();
        if (child == 0) {
            execl("/bin/sh", "sh", SCRIPT, "remove", interrupted_cluster, (char *)NULL);
            _exit(127);
        }
        if (child > 0)
            waitpid(child, NULL, 0);
    }
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

static void remove_on_interrupt(const char *dir)
{
    interrupted_cluster = dir;
    struct sigaction on_signal = { .sa_handler = remove_and_die };
    sigaction(SIGINT, &on_signal, NULL);
    sigaction(SIGTERM, &on_signal, NULL);
    sigaction(SIGHUP, &on_signal, NULL);
}

/* ------------------------------------------------------------ the cluster */

int test_postgres_start(struct test_postgres *pg, const char *cities, const char *seed)
{
    memset(pg, 0, sizeof *pg);
    char scratch[] = "/tmp/asynclab-pgtest.XXXXXX";
    if (mkdtemp(scratch) == NULL) {
        perror("mkdtemp");
        return -1;
    }
    /* The server's own user must be able to reach the cluster inside it. */
    chmod(scratch, 0755);
    snprintf(pg->dir, sizeof pg->dir, "%s/pg", scratch);
    remove_on_interrupt(pg->dir);
    const char *arguments[] = { "--cities", cities, "--seed", seed, "--makedb",
                                ASYNCLAB_BIN_DIR "/database_makedb", NULL };
    if (test_postgres_script(pg, "start", arguments) != 0) {
        fprintf(stderr, "test_postgres_start: scripts/pg.sh start %s failed\n", pg->dir);
        test_postgres_remove(pg);
        return -1;
    }
    char real[PATH_MAX];
    if (realpath(pg->dir, real) == NULL) {
        perror(pg->dir);
        test_postgres_remove(pg);
        return -1;
    }
    snprintf(pg->host, sizeof pg->host, "%s", real);
    snprintf(pg->conninfo, sizeof pg->conninfo, "host=%s user=asynclab dbname=asynclab",
             pg->host);
    return 0;
}

void test_postgres_remove(struct test_postgres *pg)
{
    if (pg->dir[0] == '\0')
        return;
    test_postgres_script(pg, "remove", NULL);
    interrupted_cluster = NULL;
    char *slash = strrchr(pg->dir, '/');
    if (slash != NULL) {
        *slash = '\0';
        rmdir(pg->dir);  /* the scratch directory, empty now */
    }
    pg->dir[0] = '\0';
}

bool test_postgres_running(const struct test_postgres *pg)
{
    char path[sizeof pg->host + 32];
    snprintf(path, sizeof path, "%s/data/postmaster.pid", pg->host);
    struct stat file;
    return stat(path, &file) == 0;
}

/* ------------------------------------------------------------ queries */

PGconn *test_postgres_connect(const struct test_postgres *pg)
{
    PGconn *connection = PQconnectdb(pg->conninfo);
    if (PQstatus(connection) != CONNECTION_OK)
        fail_msg("cannot connect to the test's PostgreSQL: %s", PQerrorMessage(connection));
    return connection;
}

void test_postgres_exec(PGconn *connection, const char *sql)
{
    PGresult *result = PQexec(connection, sql);
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        char message[512];
        snprintf(message, sizeof message, "%s", PQresultErrorMessage(result));
        PQclear(result);
        fail_msg("%s failed: %s", sql, message);
    }
    PQclear(result);
}

long test_postgres_active_queries(PGconn *connection, const char *application_name)
{
    const char *parameters[] = { application_name };
    PGresult *result = PQexecParams(connection,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'",
        1, NULL, parameters, NULL, NULL, 0);
    long count = -1;
    if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1)
        count = atol(PQgetvalue(result, 0, 0));
    PQclear(result);
    return count;
}
