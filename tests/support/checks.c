/* checks.c - assertions the integration tests share; see checks.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "checks.h"

#include <string.h>

void test_assert_contains_at(const char *haystack, const char *needle, const char *file, int line)
{
    if (haystack != NULL && strstr(haystack, needle) != NULL)
        return;
    print_error("ERROR: expected to find \"%s\" in:\n%s\n", needle,
                haystack != NULL ? haystack : "(nothing)");
    _fail(file, line);
}

void test_assert_one_line_at(const char *text, const char *file, int line)
{
    size_t length = strlen(text);
    if (length > 0 && strchr(text, '\n') == text + length - 1)
        return;
    print_error("ERROR: expected exactly one line, got:\n%s\n", text);
    _fail(file, line);
}
