/*
 * Integration tests: what the tests themselves start dies with them.
 *
 * A test run killed by SIGKILL (a CI timeout, the OOM killer, kill -9)
 * runs no handler and no teardown, so nothing of ours can stop the
 * slowservers, gateways and clients it started: the kernel must.  The
 * tests' launchers (tests/support/process.h, server.h) start every program
 * through the harness's launcher, which asks for SIGTERM when the parent
 * dies (PR_SET_PDEATHSIG).  Each test here forks a stand-in for a test
 * program, lets it start a child through one launcher, kills it with
 * SIGKILL and requires the child to be gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process.h"
#include "server.h"

#define GONE_WITHIN_S 10.0

/* How the stand-in starts its child; it writes the child's pid to report. */
typedef void (*start_child_fn)(int report);

static void report_pid(int report, int pid)
{
    (void)!write(report, &pid, sizeof pid);
}

static void start_a_job(int report)
{
    const char *argv[] = { "/bin/sleep", "600", NULL };
    int output;
    report_pid(report, test_start_job(argv, &output));
}

static void start_a_server(int report)
{
    struct test_server server;
    report_pid(report, test_server_start(&server, "async", NULL) == 0 ? server.pid : -1);
}

/* test_run waits for its program, so the program says its own pid: the
 * shell's, which `exec sleep` keeps. */
static char pid_file[64];

static void run_a_program(int report)
{
    (void)report;
    const char *argv[] = { "/bin/sh", "-c", "echo $$ > \"$0\".tmp && mv \"$0\".tmp \"$0\" "
                           "&& exec sleep 600", pid_file, NULL };
    struct test_process_result result;
    test_run(argv, 600.0, &result);
}

static int pid_from_file(void)
{
    for (int tries = 0; tries < 200; tries++) {
        FILE *file = fopen(pid_file, "r");
        int pid = 0;
        if (file != NULL && fscanf(file, "%d", &pid) == 1) {
            fclose(file);
            return pid;
        }
        if (file != NULL)
            fclose(file);
        usleep(50 * 1000);
    }
    return -1;
}

/* Forks the stand-in, which starts its child and then waits to be killed;
 * kills it with SIGKILL; asserts its child is gone. */
static void assert_child_dies_with_its_parent(start_child_fn start_child, bool pid_in_file)
{
    int report[2];
    assert_int_equal(pipe(report), 0);
    snprintf(pid_file, sizeof pid_file, "/tmp/asynclab-process-%d.pid", (int)getpid());
    unlink(pid_file);
    fflush(NULL);
    pid_t parent = fork();
    assert_true(parent >= 0);
    if (parent == 0) {
        close(report[0]);
        start_child(report[1]);
        for (;;)
            pause();
    }
    close(report[1]);
    int child = -1;
    if (pid_in_file)
        child = pid_from_file();
    else if (read(report[0], &child, sizeof child) != sizeof child)
        child = -1;
    close(report[0]);
    kill(parent, SIGKILL);
    assert_int_equal(waitpid(parent, NULL, 0), parent);
    unlink(pid_file);
    assert_true(child > 0);
    bool gone = test_wait_pid_gone(child, GONE_WITHIN_S);
    if (!gone)
        kill(child, SIGKILL);  /* so that a failure leaves nothing behind either */
    assert_true(gone);
}

static void a_job_dies_with_the_test(void **state)
{
    (void)state;
    assert_child_dies_with_its_parent(start_a_job, false);
}

static void a_server_dies_with_the_test(void **state)
{
    (void)state;
    assert_child_dies_with_its_parent(start_a_server, false);
}

static void a_running_program_dies_with_the_test(void **state)
{
    (void)state;
    assert_child_dies_with_its_parent(run_a_program, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_job_dies_with_the_test),
        cmocka_unit_test(a_server_dies_with_the_test),
        cmocka_unit_test(a_running_program_dies_with_the_test),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
