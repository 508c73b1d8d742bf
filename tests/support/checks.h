/*
 * checks.h - what the integration tests assert about a program's output,
 * shared so that every test says it the same way.
 *
 * Each check fails the running cmocka test itself, reporting the file and
 * line of the call (they are macros for that), not of this helper.
 */
#ifndef ASYNCLAB_TEST_CHECKS_H
#define ASYNCLAB_TEST_CHECKS_H

/* Fails unless needle occurs in haystack; a NULL haystack (a file that
 * could not be read) fails too. */
#define test_assert_contains(haystack, needle) \
    test_assert_contains_at((haystack), (needle), __FILE__, __LINE__)

/* Fails unless text is exactly one line: not empty, and its only '\n' is
 * its last character.  For "an error is one line on stderr", and for a
 * summary or prediction that must be all a program printed. */
#define test_assert_one_line(text) test_assert_one_line_at((text), __FILE__, __LINE__)

void test_assert_contains_at(const char *haystack, const char *needle, const char *file, int line);
void test_assert_one_line_at(const char *text, const char *file, int line);

#endif
