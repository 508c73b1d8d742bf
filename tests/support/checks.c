/* checks.c - assertions the integration tests share; see checks.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "checks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

struct test_process_result test_run_program_at(const char *program, const char *url,
                                               const char *const *arguments,
                                               const char *file, int line)
{
    const char *argv[32] = { test_bin(program) };
    size_t argc = 1;
    if (url != NULL) {
        argv[argc++] = "--url";
        argv[argc++] = url;
    }
    for (; arguments != NULL && *arguments != NULL; arguments++) {
        if (argc == sizeof argv / sizeof argv[0] - 1) {
            print_error("ERROR: too many arguments for %s\n", program);
            _fail(file, line);
        }
        argv[argc++] = *arguments;
    }
    argv[argc] = NULL;
    struct test_process_result result;
    if (test_run(argv, TEST_RUN_TIMEOUT_S, &result) != 0) {
        print_error("ERROR: could not run %s\n", argv[0]);
        _fail(file, line);
    }
    if (result.timed_out) {
        print_error("ERROR: %s did not end within %.0f s; its output:\n%s%s\n", program,
                    TEST_RUN_TIMEOUT_S, result.out, result.err);
        _fail(file, line);
    }
    return result;
}

int test_closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = 0 };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    assert_int_equal(bind(fd, (struct sockaddr *)&address, sizeof address), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&address, &length), 0);
    close(fd);
    return ntohs(address.sin_port);
}
