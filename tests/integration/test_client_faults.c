/*
 * Integration tests: every client program against a server that fails.
 *
 * A fake server (tests/support/faulty_server.h) answers /health and then,
 * for the real work, stays silent, sends headers and then nothing, sends
 * garbage, answers 500, or closes after the headers; a real slowserver is
 * stopped (SIGSTOP) or killed (SIGKILL) while the clients' requests are in
 * flight.  Each client must end by itself with exit status 3 (some tasks
 * failed), its own summary line, and nothing else on stderr.
 *
 * "Ends" is proven by the program exiting before the test harness's
 * generous kill bound (TEST_RUN_TIMEOUT_S), never by timing it: a client
 * without a stall timeout is still waiting when the bound kills it.  The
 * clients run at the same time, so the whole file takes about as long as
 * its slowest client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "checks.h"
#include "clock.h"
#include "faulty_server.h"
#include "process.h"
#include "server.h"

/* A short stall timeout keeps the file fast; test_http_bounds.c covers the
 * defaults, which are derived from the work. */
#define STALL "1"

struct client {
    const char *program;
    const char *args[12];  /* after --url URL --stall-timeout STALL */
};

/* Small delays: against the fake servers the delays never matter. */
static const struct client QUICK_CLIENTS[] = {
    { "slow_api_sync", { "--scale", "0.01", NULL } },
    { "slow_api_async", { "--scale", "0.01", NULL } },
    { "slow_api_async_epoll", { "--scale", "0.01", NULL } },
    { "slow_api_sync_threads", { "--scale", "0.01", NULL } },
    { "blocking_pitfall_sync", { "--scale", "0.01", NULL } },
    { "blocking_pitfall_async", { "--scale", "0.01", NULL } },
    { "blocking_pitfall_async_blocking", { "--scale", "0.01", NULL } },
    { "blocking_pitfall_async_offload", { "--scale", "0.01", NULL } },
    { "producer_consumer_sync", { "--items", "3", "--scale", "0.1", NULL } },
    { "producer_consumer_async", { "--items", "3", "--scale", "0.1", NULL } },
    { "timeouts_sync", { "--scale", "0.25", NULL } },
    { "timeouts_async", { "--scale", "0.25", NULL } },
    /* Their own deadline (twice a delay plus 2 s) gives way to --stall-timeout. */
    { "event_loops_sync", { "--scale", "0.01", NULL } },
    { "event_loops_async", { "--scale", "0.01", NULL } },
};

/* Long delays: the requests must still be in flight when the server is
 * stopped or killed. */
static const struct client SLOW_CLIENTS[] = {
    { "slow_api_sync", { "--delays", "30,30", NULL } },
    { "slow_api_async", { "--delays", "30,30", NULL } },
    { "slow_api_async_epoll", { "--delays", "30,30", NULL } },
    { "slow_api_sync_threads", { "--delays", "30,30", NULL } },
    { "blocking_pitfall_sync", { "--delays", "30,30", NULL } },
    { "blocking_pitfall_async", { "--delays", "30,30", NULL } },
    { "blocking_pitfall_async_blocking", { "--delays", "30,30", NULL } },
    { "blocking_pitfall_async_offload", { "--delays", "30,30", NULL } },
    { "producer_consumer_sync", { "--items", "2", "--fetch-delay", "30", NULL } },
    { "producer_consumer_async", { "--items", "2", "--fetch-delay", "30", NULL } },
    { "timeouts_sync", { "--timeout", "30", NULL } },
    { "timeouts_async", { "--timeout", "30", NULL } },
    { "event_loops_sync", { "--delays", "3", NULL } },
    { "event_loops_async", { "--delays", "3", NULL } },
};
#define CLIENT_COUNT (sizeof QUICK_CLIENTS / sizeof QUICK_CLIENTS[0])

struct client_argv {
    char path[512];
    const char *argv[20];
};

static void build_argv(struct client_argv *built, const struct client *client, const char *url)
{
    snprintf(built->path, sizeof built->path, "%s", test_bin(client->program));
    size_t argc = 0;
    built->argv[argc++] = built->path;
    built->argv[argc++] = "--url";
    built->argv[argc++] = url;
    built->argv[argc++] = "--stall-timeout";
    built->argv[argc++] = STALL;
    for (size_t i = 0; client->args[i] != NULL; i++)
        built->argv[argc++] = client->args[i];
    built->argv[argc] = NULL;
}

/* What every client must have done: ended by itself, exit 3, a summary,
 * and a quiet stderr (the failures are reported per task on stdout).
 * Returns false after printing what it did instead. */
static bool gave_up(const struct client *client, const char *fault,
                    const struct test_process_result *result)
{
    if (!result->timed_out && result->exit_status == 3 && result->err[0] == '\0'
        && strstr(result->out, "Time elapsed: ") != NULL
        && strstr(result->out, "ailed") != NULL)
        return true;
    print_error("%s against a server that is %s: %s, exit %d\nstdout:\n%s\nstderr:\n%s\n",
                client->program, fault,
                result->timed_out ? "still waiting when killed" : "ended",
                result->exit_status, result->out, result->err);
    return false;
}

/* Runs every client against its url at once and checks how each ended;
 * returns how many did not end properly (the caller fails the test after
 * cleaning up, so that a failure leaves no stopped server behind). */
static size_t run_clients(const struct client *clients, const char *const urls[],
                          const char *fault)
{
    struct client_argv built[CLIENT_COUNT];
    const char *const *argvs[CLIENT_COUNT];
    struct test_process_result results[CLIENT_COUNT];
    for (size_t i = 0; i < CLIENT_COUNT; i++) {
        build_argv(&built[i], &clients[i], urls[i]);
        argvs[i] = built[i].argv;
    }
    size_t failed = 0;
    if (test_run_all(argvs, CLIENT_COUNT, TEST_RUN_TIMEOUT_S, results) != 0) {
        print_error("could not start every client\n");
        return CLIENT_COUNT;
    }
    for (size_t i = 0; i < CLIENT_COUNT; i++) {
        if (!gave_up(&clients[i], fault, &results[i]))
            failed++;
        test_process_result_free(&results[i]);
    }
    return failed;
}

static void assert_all_gave_up(size_t failed, const char *fault)
{
    if (failed > 0)
        fail_msg("%zu of %zu clients did not give up properly on a server that is %s", failed,
                 CLIENT_COUNT, fault);
}

static void against_faulty_server(enum faulty_fault fault)
{
    struct faulty_server server;
    assert_int_equal(faulty_server_start(&server, fault), 0);
    const char *urls[CLIENT_COUNT];
    for (size_t i = 0; i < CLIENT_COUNT; i++)
        urls[i] = server.url;
    size_t failed = run_clients(QUICK_CLIENTS, urls, faulty_fault_name(fault));
    int faulted = faulty_server_stop(&server);
    assert_all_gave_up(failed, faulty_fault_name(fault));
    /* Every client reached its real work: the fault was delivered. */
    assert_true(faulted >= (int)CLIENT_COUNT);
}

static void silent_server(void **state)
{
    (void)state;
    against_faulty_server(FAULTY_SILENT);
}

static void headers_then_silence(void **state)
{
    (void)state;
    against_faulty_server(FAULTY_HEADERS_THEN_SILENCE);
}

static void garbage(void **state)
{
    (void)state;
    against_faulty_server(FAULTY_GARBAGE);
}

static void status_500(void **state)
{
    (void)state;
    against_faulty_server(FAULTY_STATUS_500);
}

static void close_after_headers(void **state)
{
    (void)state;
    against_faulty_server(FAULTY_CLOSE_AFTER_HEADERS);
}

/* ------------------------------------------- a real server that fails mid-run */

struct doomed_servers {
    struct test_server servers[CLIENT_COUNT];
    const char *urls[CLIENT_COUNT];
    int signal;
};

/* Sends each server the signal once its client has work in flight, while
 * the clients run: that is "mid-run". */
static void *strike_when_busy(void *argument)
{
    struct doomed_servers *doomed = argument;
    bool struck[CLIENT_COUNT] = { false };
    double give_up = clock_now() + TEST_RUN_TIMEOUT_S / 2;
    size_t left = CLIENT_COUNT;
    while (left > 0 && clock_now() < give_up) {
        for (size_t i = 0; i < CLIENT_COUNT; i++) {
            if (!struck[i] && test_server_stat(&doomed->servers[i], NULL, "in_flight") >= 1) {
                kill(doomed->servers[i].pid, doomed->signal);
                struck[i] = true;
                left--;
            }
        }
        nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
    }
    return NULL;
}

static void against_failing_server(int signal, const char *fault)
{
    struct doomed_servers doomed = { .signal = signal };
    for (size_t i = 0; i < CLIENT_COUNT; i++) {
        assert_int_equal(test_server_start(&doomed.servers[i], "async", NULL), 0);
        doomed.urls[i] = doomed.servers[i].url;
    }
    pthread_t striker;
    assert_int_equal(pthread_create(&striker, NULL, strike_when_busy, &doomed), 0);
    size_t failed = run_clients(SLOW_CLIENTS, doomed.urls, fault);
    pthread_join(striker, NULL);
    for (size_t i = 0; i < CLIENT_COUNT; i++) {
        kill(doomed.servers[i].pid, SIGCONT);
        test_server_stop(&doomed.servers[i]);  /* a killed one has no clean exit */
    }
    assert_all_gave_up(failed, fault);
}

static void server_stopped_mid_run(void **state)
{
    (void)state;
    against_failing_server(SIGSTOP, "stopped mid-run");
}

static void server_killed_mid_run(void **state)
{
    (void)state;
    against_failing_server(SIGKILL, "killed mid-run");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(silent_server),
        cmocka_unit_test(headers_then_silence),
        cmocka_unit_test(garbage),
        cmocka_unit_test(status_500),
        cmocka_unit_test(close_after_headers),
        cmocka_unit_test(server_stopped_mid_run),
        cmocka_unit_test(server_killed_mid_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
