/*
 * Integration tests: the event_loops lesson (blocking sockets, epoll,
 * io_uring; HTTP by hand) against a real slowserver and a fake one.
 *
 * The same structural proofs as slow_api (the server's max_in_flight, the
 * programs' own traces, every reply's text), then the replies a hand-written
 * client must refuse, a server that never answers, and a closed port.
 * Where io_uring is not available, its tests are skipped and say why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checks.h"
#include "fake_server.h"
#include "lesson_runs.h"
#include "process.h"
#include "server.h"

static struct test_server server;
static char trace_path[64];
static char uring_missing[256];  /* why io_uring cannot be used here; "" if it can */

static const char *const ALL_PROGRAMS[] = {
    "event_loops_sync", "event_loops_async", "event_loops_async_uring",
};
#define PROGRAM_COUNT (sizeof ALL_PROGRAMS / sizeof ALL_PROGRAMS[0])

/* Asks the io_uring program itself: it exits 2 with one line when the
 * kernel will not give it a ring. */
static void find_out_about_io_uring(void)
{
    const char *args[] = { "--delays", "0", "--quiet", NULL };
    struct test_process_result result =
        test_run_client("event_loops_async_uring", server.url, args);
    uring_missing[0] = '\0';
    if (result.exit_status == 2 && strstr(result.err, "io_uring is not available") != NULL)
        snprintf(uring_missing, sizeof uring_missing, "%s", result.err);
    test_process_result_free(&result);
}

static bool skipped(const char *program)
{
    if (strstr(program, "uring") == NULL || uring_missing[0] == '\0')
        return false;
    print_message("skipped %s: %s", program, uring_missing);
    return true;
}

static int start(void **state)
{
    (void)state;
    snprintf(trace_path, sizeof trace_path, "/tmp/asynclab-event-loops-%d.json", (int)getpid());
    if (test_server_start(&server, "async", NULL) != 0)
        return -1;
    find_out_about_io_uring();
    return 0;
}

static int stop(void **state)
{
    (void)state;
    unlink(trace_path);
    return test_server_stop(&server) == 0 ? 0 : -1;
}

static void sync_sends_one_request_at_a_time(void **state)
{
    (void)state;
    test_assert_one_at_a_time(&server, "event_loops_sync", trace_path);
}

static void async_has_all_three_in_flight(void **state)
{
    (void)state;
    test_assert_all_three_in_flight(&server, "event_loops_async", trace_path);
}

static void async_uring_has_all_three_in_flight(void **state)
{
    (void)state;
    if (skipped("event_loops_async_uring"))
        skip();
    test_assert_all_three_in_flight(&server, "event_loops_async_uring", trace_path);
}

/* 8 requests, 2 at a time: each connection carries 4 requests in turn. */
static void the_loops_respect_the_concurrency_limit(void **state)
{
    (void)state;
    for (size_t i = 1; i < PROGRAM_COUNT; i++) {
        if (skipped(ALL_PROGRAMS[i]))
            continue;
        assert_int_equal(test_server_reset_stats(&server), 0);
        const char *args[] = { "--delays", "0.1", "--requests", "8", "--concurrency", "2",
                               "--quiet", NULL };
        struct test_process_result result = test_run_client(ALL_PROGRAMS[i], server.url, args);
        assert_int_equal(result.exit_status, 0);
        assert_int_equal(test_server_stat(&server, "/delay-me", "requests"), 8);
        assert_int_equal(test_server_stat(&server, NULL, "max_in_flight"), 2);
        test_process_result_free(&result);
    }
}

static void an_http_error_status_is_a_failed_request(void **state)
{
    (void)state;
    /* The server refuses a delay above its --max-delay (60 s) with 400. */
    for (size_t i = 0; i < PROGRAM_COUNT; i++) {
        if (skipped(ALL_PROGRAMS[i]))
            continue;
        const char *args[] = { "--delays", "0.1,61", NULL };
        struct test_process_result result = test_run_client(ALL_PROGRAMS[i], server.url, args);
        assert_int_equal(result.exit_status, 3);
        test_assert_contains(result.out, "R1: Request finally done!");
        test_assert_contains(result.out, "R2: Request failed: HTTP 400");
        test_assert_contains(result.out, "Failed: 1 of 2 requests");
        test_process_result_free(&result);
    }
}

/* Every program, one request to a fake server: exit 3 and this failure. */
static void assert_every_program_fails(const char *reply, const char *failure)
{
    struct fake_server fake;
    assert_int_equal(test_fake_server_start(&fake, reply), 0);
    for (size_t i = 0; i < PROGRAM_COUNT; i++) {
        if (skipped(ALL_PROGRAMS[i]))
            continue;
        const char *args[] = { "--delays", "0", NULL };
        struct test_process_result result = test_run_client(ALL_PROGRAMS[i], fake.url, args);
        if (result.exit_status != 3 || strstr(result.out, failure) == NULL)
            print_error("%s against a server that sends \"%s\":\n%s%s\n", ALL_PROGRAMS[i],
                        reply ? reply : "(nothing)", result.out, result.err);
        assert_int_equal(result.exit_status, 3);
        test_assert_contains(result.out, "R1: Request failed: ");
        test_assert_contains(result.out, failure);
        test_process_result_free(&result);
    }
    test_fake_server_stop(&fake);
}

static void replies_outside_what_slowserver_sends_are_refused(void **state)
{
    (void)state;
    assert_every_program_fails("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
                               "the status line is not 'HTTP/1.1 NNN ...'");
    assert_every_program_fails("hello\r\n\r\n", "the status line is not");
    assert_every_program_fails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "2\r\nok\r\n0\r\n\r\n", "Transfer-Encoding is not handled");
    assert_every_program_fails("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nok",
                               "no Content-Length");
    assert_every_program_fails("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n"
                               "\r\nok", "an unusable Content-Length");
    assert_every_program_fails("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\nok",
                               "an unusable Content-Length");
    assert_every_program_fails("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
                               "more bytes than its Content-Length");
}

static void truncated_replies_are_refused(void **state)
{
    (void)state;
    assert_every_program_fails("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort",
                               "closed the connection in the middle of the reply");
    assert_every_program_fails("HTTP/1.1 200 OK\r\nContent-Len",
                               "closed the connection in the middle of the reply");
    assert_every_program_fails("", "closed the connection without replying");
}

static void a_server_that_never_answers_times_out(void **state)
{
    (void)state;
    assert_every_program_fails(NULL, "timed out: no complete reply in time");
}

/* A 30 s request to a silent server: by default given up after 62 s (the
 * test would stop waiting first and fail), with either flag in half a second. */
static void max_time_and_stall_timeout_bound_a_request(void **state)
{
    (void)state;
    struct fake_server fake;
    assert_int_equal(test_fake_server_start(&fake, NULL), 0);
    const char *flags[] = { "--max-time", "--stall-timeout" };
    for (size_t i = 0; i < PROGRAM_COUNT; i++) {
        for (size_t f = 0; f < 2 && !skipped(ALL_PROGRAMS[i]); f++) {
            const char *args[] = { "--delays", "30", flags[f], "0.5", NULL };
            struct test_process_result result = test_run_client(ALL_PROGRAMS[i], fake.url, args);
            assert_int_equal(result.exit_status, 3);
            test_assert_contains(result.out, "R1: Request failed: timed out");
            test_process_result_free(&result);
        }
    }
    test_fake_server_stop(&fake);
}

/* Two requests, one after the other, to a fake server that closes every
 * connection after its reply; returns what the program printed. */
static struct test_process_result two_requests_in_turn(const char *program, const char *reply)
{
    struct fake_server fake;
    assert_int_equal(test_fake_server_start(&fake, reply), 0);
    const char *args[] = { "--delays", "0", "--requests", "2", "--concurrency", "1", NULL };
    if (strcmp(program, "event_loops_sync") == 0)
        args[4] = NULL;  /* sync has no --concurrency: it is always 1 */
    struct test_process_result result = test_run_client(program, fake.url, args);
    test_fake_server_stop(&fake);
    return result;
}

/* The second request goes on the first one's connection: a server that
 * closes it without saying so fails that request (libcurl would retry it on
 * a new connection; these programs do not).  "Connection: close" is heard. */
static void a_connection_is_kept_for_the_next_request_unless_the_server_closes_it(void **state)
{
    (void)state;
    for (size_t i = 0; i < PROGRAM_COUNT; i++) {
        if (skipped(ALL_PROGRAMS[i]))
            continue;
        struct test_process_result kept = two_requests_in_turn(
            ALL_PROGRAMS[i], "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assert_int_equal(kept.exit_status, 3);
        test_assert_contains(kept.out, "R1: Request finally done! Server replied 'ok'");
        test_assert_contains(kept.out, "R2: Request failed: ");
        test_process_result_free(&kept);

        struct test_process_result closed = two_requests_in_turn(
            ALL_PROGRAMS[i], "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
        assert_int_equal(closed.exit_status, 0);
        test_assert_contains(closed.out, "R2: Request finally done! Server replied 'ok'");
        test_process_result_free(&closed);
    }
}

static void a_closed_port_is_exit_2_with_a_hint(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", test_closed_port());
    for (size_t i = 0; i < PROGRAM_COUNT; i++) {
        struct test_process_result result = test_run_client(ALL_PROGRAMS[i], url, NULL);
        assert_int_equal(result.exit_status, 2);
        test_assert_contains(result.err, "Connection refused");
        test_assert_contains(result.err, "start it with: make run-server");
        test_assert_one_line(result.err);
        test_process_result_free(&result);
    }
}

/* Runs the io_uring program with io_uring_setup forbidden (EPERM) by a
 * seccomp filter, as a container's profile would: the child reports
 * whether it said so in one line and exited 2. */
static int run_with_io_uring_forbidden(void)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 1 /* EPERM */),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program = { sizeof filter / sizeof filter[0], filter };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
        || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0)
        return 10;
    const char *argv[] = { test_bin("event_loops_async_uring"), "--url", server.url,
                           "--delays", "0", NULL };
    struct test_process_result result;
    if (test_run(argv, TEST_RUN_TIMEOUT_S, &result) != 0)
        return 11;
    size_t length = strlen(result.err);
    bool one_line = length > 0 && strchr(result.err, '\n') == result.err + length - 1;
    bool said_so = strstr(result.err, "io_uring is not available here") != NULL
                   && strstr(result.err, "Operation not permitted") != NULL;
    if (result.exit_status != 2 || !one_line || !said_so)
        fprintf(stderr, "exit %d, stderr: %s\n", result.exit_status, result.err);
    return result.exit_status == 2 && one_line && said_so ? 0 : 1;
}

static void without_io_uring_it_says_so_and_exits_2(void **state)
{
    (void)state;
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(run_with_io_uring_forbidden());
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sync_sends_one_request_at_a_time),
        cmocka_unit_test(async_has_all_three_in_flight),
        cmocka_unit_test(async_uring_has_all_three_in_flight),
        cmocka_unit_test(the_loops_respect_the_concurrency_limit),
        cmocka_unit_test(an_http_error_status_is_a_failed_request),
        cmocka_unit_test(replies_outside_what_slowserver_sends_are_refused),
        cmocka_unit_test(truncated_replies_are_refused),
        cmocka_unit_test(a_server_that_never_answers_times_out),
        cmocka_unit_test(max_time_and_stall_timeout_bound_a_request),
        cmocka_unit_test(a_connection_is_kept_for_the_next_request_unless_the_server_closes_it),
        cmocka_unit_test(a_closed_port_is_exit_2_with_a_hint),
        cmocka_unit_test(without_io_uring_it_says_so_and_exits_2),
    };
    return cmocka_run_group_tests_name("event_loops", tests, start, stop);
}
