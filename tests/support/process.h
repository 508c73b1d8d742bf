/*
 * process.h - run a built program from a test and capture what it did:
 * its exit status, stdout and stderr.  A bounded wait means a test can
 * never hang on a program that does.
 */
#ifndef ASYNCLAB_TEST_PROCESS_H
#define ASYNCLAB_TEST_PROCESS_H

#include <stdbool.h>

struct test_process_result {
    int exit_status;   /* the program's exit status; -1 if killed or timed out */
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

void test_process_result_free(struct test_process_result *result);

/* Seconds on the monotonic clock: for deadlines and bounded waits, never to
 * judge how fast something ran. */
double test_now_seconds(void);

#endif
