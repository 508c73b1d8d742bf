/*
 * Integration test: every program in build/bin answers --help the same
 * way: exit 0, a first line "usage: <program> ...", and an example to copy.
 * A program added later is checked without being listed here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "checks.h"
#include "process.h"

static void every_program_has_usage_and_an_example(void **state)
{
    (void)state;
    DIR *dir = opendir(ASYNCLAB_BIN_DIR);
    assert_non_null(dir);
    size_t checked = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        struct stat info;
        const char *path = test_bin(entry->d_name);
        if (entry->d_name[0] == '.' || stat(path, &info) != 0 || !S_ISREG(info.st_mode)
            || !(info.st_mode & S_IXUSR))
            continue;
        const char *argv[] = { path, "--help", NULL };
        struct test_process_result result;
        assert_int_equal(test_run(argv, TEST_RUN_TIMEOUT_S, &result), 0);
        char first[sizeof entry->d_name + 16];
        snprintf(first, sizeof first, "usage: %s ", entry->d_name);
        if (result.exit_status != 0 || strncmp(result.out, first, strlen(first)) != 0
            || strstr(result.out, "Example") == NULL)
            fail_msg("%s --help: exit %d, expected a first line \"%s...\" and an Example:\n%s%s",
                     entry->d_name, result.exit_status, first, result.out, result.err);
        test_process_result_free(&result);
        checked++;
    }
    closedir(dir);
    assert_true(checked >= 10);  /* the harness, the server and the lessons' programs */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_program_has_usage_and_an_example),
    };
    return cmocka_run_group_tests_name("help", tests, NULL, NULL);
}
