/* Unit tests: the one command-line parser (scenarios/common/base/args.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "exit_codes.h"

/* What the options below fill in. */
struct seen {
    const char *name;
    int count;
    bool loud;
};

static const struct option OPTIONS[] = {
    { "name", required_argument, NULL, 0 },
    { "count", required_argument, NULL, 0 },
    { "loud", no_argument, NULL, 0 },
    { NULL, 0, NULL, 0 },
};

static int apply(void *context, const struct option *option, const char *value)
{
    struct seen *seen = context;
    if (strcmp(option->name, "name") == 0)
        seen->name = value;
    else if (strcmp(option->name, "loud") == 0)
        seen->loud = true;
    else if (sscanf(value, "%d", &seen->count) != 1)
        return args_bad_value("demo", option->name, value, "a number");
    return -1;
}

static void usage(FILE *stream)
{
    fprintf(stream, "usage: demo --name N [--count C] [--loud] [FILE]\n");
}

static char captured[512];   /* what the last parse wrote to stderr */

/* Parses `words` (after the program name), with --name required and at
 * most one FILE; stderr goes to `captured`. */
static int parse(const char *const *words, struct seen *seen, const char **file)
{
    char *argv[16] = { "demo" };
    int argc = 1;
    for (; words[argc - 1] != NULL; argc++)
        argv[argc] = (char *)words[argc - 1];
    argv[argc] = NULL;
    static const char *const required[] = { "name", NULL };
    size_t files = 0;
    *seen = (struct seen){ 0 };
    *file = NULL;
    const struct args_parser parser = {
        .program = "demo", .options = OPTIONS, .required = required, .apply = apply,
        .usage = usage, .context = seen, .operands = file, .operand_max = 1,
        .operand_count = &files,
    };
    fflush(stderr);
    FILE *sink = tmpfile();
    assert_non_null(sink);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(sink), STDERR_FILENO);
    int status = args_parse(&parser, argc, argv);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(sink);
    size_t length = fread(captured, 1, sizeof captured - 1, sink);
    captured[length] = '\0';
    fclose(sink);
    return status;
}

static void both_spellings_of_a_value_work(void **state)
{
    (void)state;
    struct seen seen;
    const char *file;
    const char *spaced[] = { "--name", "a", "--count", "3", "--loud", "in.txt", NULL };
    assert_int_equal(parse(spaced, &seen, &file), -1);
    assert_string_equal(seen.name, "a");
    assert_int_equal(seen.count, 3);
    assert_true(seen.loud);
    assert_string_equal(file, "in.txt");
    const char *joined[] = { "--count=7", "--name=b", NULL };
    assert_int_equal(parse(joined, &seen, &file), -1);
    assert_string_equal(seen.name, "b");
    assert_int_equal(seen.count, 7);
    assert_null(file);
}

static void each_mistake_is_one_line_naming_it(void **state)
{
    (void)state;
    struct seen seen;
    const char *file;
    const struct { const char *words[4]; const char *says; } cases[] = {
        { { "--loud", NULL }, "demo: missing --name, which is required" },
        { { "--name", "a", "--count=x" }, "demo: invalid value 'x' for --count (expected a number" },
        { { "--name", "a", "--bogus=1" }, "demo: unknown option '--bogus'" },
        { { "--name", "a", "--count" }, "demo: --count needs a value" },
        { { "--name", "a", "one" }, NULL },  /* one FILE is fine ... */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int status = parse(cases[i].words, &seen, &file);
        if (cases[i].says == NULL) {
            assert_int_equal(status, -1);
            continue;
        }
        assert_int_equal(status, EXIT_USAGE);
        if (strncmp(captured, cases[i].says, strlen(cases[i].says)) != 0)
            fail_msg("expected '%s...', got '%s'", cases[i].says, captured);
        assert_non_null(strchr(captured, '\n'));  /* one line, ending with its newline */
        assert_ptr_equal(strchr(captured, '\n') + 1, captured + strlen(captured));
    }
    const char *two_files[] = { "--name", "a", "one", "two", NULL };  /* ... two are not */
    assert_int_equal(parse(two_files, &seen, &file), EXIT_USAGE);
    assert_string_equal(captured, "demo: unexpected argument 'two' (see --help)\n");
}

static void help_and_version_end_cleanly(void **state)
{
    (void)state;
    struct seen seen;
    const char *file;
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    FILE *null = fopen("/dev/null", "w");
    dup2(fileno(null), STDOUT_FILENO);
    const char *help[] = { "--help", NULL }, *version[] = { "--version", NULL };
    int help_status = parse(help, &seen, &file);      /* no --name needed for these */
    int version_status = parse(version, &seen, &file);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    fclose(null);
    assert_int_equal(help_status, EXIT_ALL_DONE);
    assert_int_equal(version_status, EXIT_ALL_DONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_spellings_of_a_value_work),
        cmocka_unit_test(each_mistake_is_one_line_naming_it),
        cmocka_unit_test(help_and_version_end_cleanly),
    };
    return cmocka_run_group_tests_name("args", tests, NULL, NULL);
}
