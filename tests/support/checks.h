/*
 * checks.h - what the integration tests assert about a program's output,
 * and running a program that must run, shared so that every test says it
 * the same way.
 *
 * Each helper fails the running cmocka test itself, reporting the file and
 * line of the call (they are macros for that), not of this helper.
 */
#ifndef ASYNCLAB_TEST_CHECKS_H
#define ASYNCLAB_TEST_CHECKS_H

#include "process.h"

/* Fails unless needle occurs in haystack; a NULL haystack (a file that
 * could not be read) fails too. */
#define test_assert_contains(haystack, needle) \
    test_assert_contains_at((haystack), (needle), __FILE__, __LINE__)

/* Fails unless text is exactly one line: not empty, and its only '\n' is
 * its last character.  For "an error is one line on stderr", and for a
 * summary or prediction that must be all a program printed. */
#define test_assert_one_line(text) test_assert_one_line_at((text), __FILE__, __LINE__)

/* Runs build/bin/<program> with arguments (NULL-terminated; NULL for none)
 * for at most TEST_RUN_TIMEOUT_S and returns what it did; fails the test if
 * it could not be started or did not finish in time.  The caller frees the
 * result with test_process_result_free. */
#define test_run_program(program, arguments) \
    test_run_program_at((program), NULL, (arguments), __FILE__, __LINE__)

/* The same for a client of a server at url:
 * build/bin/<program> --url <url> <arguments...>. */
#define test_run_client(program, url, arguments) \
    test_run_program_at((program), (url), (arguments), __FILE__, __LINE__)

/* A loopback port on which nothing listens (one is bound, noted and closed
 * again), for "an unreachable server is exit 2"; fails the test if no port
 * can be had. */
int test_closed_port(void);

void test_assert_contains_at(const char *haystack, const char *needle, const char *file, int line);
void test_assert_one_line_at(const char *text, const char *file, int line);
struct test_process_result test_run_program_at(const char *program, const char *url,
                                               const char *const *arguments,
                                               const char *file, int line);

#endif
