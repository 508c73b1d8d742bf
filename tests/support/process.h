/*
 * process.h - run a built program from a test and capture what it did:
 * its exit status, stdout and stderr.  A bounded wait means a test can
 * never hang on a program that does.  Every program is started through
 * the harness's launcher (harness/lib/launch.h): it gets SIGTERM from the
 * kernel when the test dies, even by SIGKILL, so a killed test run leaves
 * no program, slowserver or gateway behind.
 */
#ifndef ASYNCLAB_TEST_PROCESS_H
#define ASYNCLAB_TEST_PROCESS_H

#include <stdbool.h>
#include <stddef.h>

struct test_process_result {
    int exit_status;   /* its exit status, 128 + N if signal N ended it; -1 if timed out */
    bool timed_out;
    char *out;         /* everything it wrote to stdout, NUL-terminated */
    char *err;         /* everything it wrote to stderr */
};

/* How long a test lets one program run before it gives up on it (generous:
 * the sanitizers and valgrind slow everything down). */
#define TEST_RUN_TIMEOUT_S 60.0

/* The absolute path of a program built into ASYNCLAB_BIN_DIR.  Returns a
 * pointer into one of a few rotating static buffers. */
const char *test_bin(const char *name);

/* Runs argv (argv[0] is the path; NULL-terminated), waiting at most
 * timeout_s before killing it.  Returns 0 if it could be started. */
int test_run(const char *const argv[], double timeout_s, struct test_process_result *result);

/* Runs count programs at the same time (argvs[i] as for test_run), each
 * under the same timeout, and returns when all have ended.  results[i] is
 * what argvs[i] did.  Returns 0 if every one could be started. */
int test_run_all(const char *const *const argvs[], size_t count, double timeout_s,
                 struct test_process_result results[]);

/* Starts argv in a process group of its own, as a shell starts a job, with
 * stdout and stderr both on the pipe *output_fd (the caller closes it).
 * Returns the pid, which is also the group's id, or -1. */
int test_start_job(const char *const argv[], int *output_fd);

/* Appends what the job writes to `out` (size bytes, NUL-terminated, may
 * already hold text) until `marker` appears, the pipe closes, or timeout_s
 * passes.  True if the marker is there. */
bool test_read_until(int fd, char *out, size_t size, const char *marker, double timeout_s);

/* Waits at most timeout_s until no process of group pgid is left running
 * (zombies not counted).  Returns how many are still running. */
int test_wait_group_gone(int pgid, double timeout_s);

/* Waits at most timeout_s until process pid is gone (a zombie counts as
 * gone: it no longer runs).  True if it is. */
bool test_wait_pid_gone(int pid, double timeout_s);

void test_process_result_free(struct test_process_result *result);

#endif
