/* Unit tests: the shared command line (scenarios/common/cli.c), the
 * transfers' bounds derived from it (scenarios/common/http.c) and the
 * timing model behind --predict (scenarios/common/predict.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "http.h"
#include "predict.h"

static double delays[8];
static size_t delay_count;
static long requests;
static bool verbose;
static struct cli_list_target delays_target = { delays, 8, &delay_count, 0, 60 };
static struct cli_long_target requests_target = { &requests, 1, 1000 };

static const struct cli_option options[] = {
    { "delays", "LIST", "delays", "a list", cli_apply_double_list, &delays_target },
    { "requests", "N", "count", "1 to 1000", cli_apply_long, &requests_target },
    { "verbose", NULL, "more", "nothing", cli_apply_flag, &verbose },
};
static const struct cli_program program = {
    "test_prog", "a test program", "test_prog --delays 1,2", options, 3,
};

static int reset(void **state)
{
    (void)state;
    delay_count = 0;
    requests = 0;
    verbose = false;
    unsetenv("ASYNCLAB_URL");
    return 0;
}

/* Parses a NULL-terminated argument list, with stderr silenced so the
 * expected error lines do not clutter the test log. */
static enum cli_result parse(struct cli_common *common, const char *const *args)
{
    char *argv[16];
    int argc = 0;
    argv[argc++] = (char *)"test_prog";
    for (; *args != NULL; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *null = fopen("/dev/null", "w");
    dup2(fileno(null), STDERR_FILENO);
    enum cli_result result = cli_parse(&program, argc, argv, common);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    fclose(null);
    return result;
}

static void defaults_follow_the_design(void **state)
{
    (void)state;
    struct cli_common common;
    const char *args[] = { NULL };
    assert_int_equal(parse(&common, args), CLI_RUN);
    assert_string_equal(common.url, "http://127.0.0.1:8000");
    assert_true(common.scale == 1.0);
    assert_null(common.trace_path);
    assert_false(common.quiet);
    assert_false(common.predict);
}

static void common_flags_are_read(void **state)
{
    (void)state;
    struct cli_common common;
    const char *args[] = { "--url", "http://127.0.0.1:9000/", "--scale", "0.1", "--trace",
                           "t.json", "--quiet", "--predict", NULL };
    assert_int_equal(parse(&common, args), CLI_RUN);
    assert_string_equal(common.url, "http://127.0.0.1:9000");  /* trailing slash dropped */
    assert_true(common.scale == 0.1);
    assert_string_equal(common.trace_path, "t.json");
    assert_true(common.quiet && common.predict);
}

static void environment_sets_the_url_and_the_flag_wins(void **state)
{
    (void)state;
    struct cli_common common;
    setenv("ASYNCLAB_URL", "http://127.0.0.1:7000", 1);
    const char *none[] = { NULL };
    assert_int_equal(parse(&common, none), CLI_RUN);
    assert_string_equal(common.url, "http://127.0.0.1:7000");
    const char *flag[] = { "--url", "http://127.0.0.1:7001", NULL };
    assert_int_equal(parse(&common, flag), CLI_RUN);
    assert_string_equal(common.url, "http://127.0.0.1:7001");
}

static void scenario_options_are_applied(void **state)
{
    (void)state;
    struct cli_common common;
    const char *args[] = { "--delays", "3,1", "--requests=12", "--verbose", NULL };
    assert_int_equal(parse(&common, args), CLI_RUN);
    assert_int_equal(delay_count, 2);
    assert_true(delays[0] == 3.0 && delays[1] == 1.0);
    assert_int_equal(requests, 12);
    assert_true(verbose);
}

static void bad_input_is_a_usage_error(void **state)
{
    (void)state;
    struct cli_common common;
    const char *cases[][3] = {
        { "--scale", "0", NULL },        { "--scale", "-1", NULL },
        { "--scale", "abc", NULL },      { "--url", "ftp://x", NULL },
        { "--delays", "1,,2", NULL },    { "--requests", "0", NULL },
        { "--requests", "1001", NULL },  { "--nope", NULL, NULL },
        { "--scale", NULL, NULL },       { "stray", NULL, NULL },
        { "--url", "http:///", NULL },   { "--url", "http://:8000", NULL },
        { "--url", "http://?x", NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(parse(&common, cases[i]), CLI_EXIT_USAGE);
}

static void a_bad_environment_url_is_a_usage_error(void **state)
{
    (void)state;
    struct cli_common common;
    setenv("ASYNCLAB_URL", "localhost:8000", 1);
    const char *none[] = { NULL };
    assert_int_equal(parse(&common, none), CLI_EXIT_USAGE);
}

static void help_asks_for_a_clean_exit(void **state)
{
    (void)state;
    struct cli_common common;
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    FILE *null = fopen("/dev/null", "w");
    dup2(fileno(null), STDOUT_FILENO);
    const char *args[] = { "-h", NULL };
    enum cli_result result = parse(&common, args);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    fclose(null);
    assert_int_equal(result, CLI_EXIT_OK);
}

static void prediction_is_the_sum_one_at_a_time(void **state)
{
    (void)state;
    const double lesson[] = { 10, 2, 5 };
    assert_true(predict_makespan(lesson, 3, 1) == 17.0);
}

static void prediction_is_the_longest_all_at_once(void **state)
{
    (void)state;
    const double lesson[] = { 10, 2, 5 };
    assert_true(predict_makespan(lesson, 3, 0) == 10.0);
    assert_true(predict_makespan(lesson, 3, 3) == 10.0);
    assert_true(predict_makespan(lesson, 3, 100) == 10.0);
}

static void prediction_packs_tasks_into_free_slots(void **state)
{
    (void)state;
    /* Two slots: 10 runs alone in one; 2 then 5 share the other (7 s). */
    const double lesson[] = { 10, 2, 5 };
    assert_true(predict_makespan(lesson, 3, 2) == 10.0);
    /* Two slots, six 1 s tasks: three rounds. */
    const double ones[] = { 1, 1, 1, 1, 1, 1 };
    assert_true(predict_makespan(ones, 6, 2) == 3.0);
    assert_true(predict_makespan(ones, 0, 2) == 0.0);
}

/* Nothing waits for ever: the default bounds follow the longest wait the
 * work has (a 10 s delay: 20 s without a byte, 50 s in all), and the flags
 * replace them. */
static void transfer_bounds_follow_the_work_unless_given(void **state)
{
    (void)state;
    struct cli_common common;
    const char *none[] = { NULL };
    assert_int_equal(parse(&common, none), CLI_RUN);
    struct http_bounds bounds = http_bounds_for(&common, 10.0);
    assert_float_equal(bounds.stall_s, 10.0 + HTTP_STALL_MARGIN_S, 1e-9);
    assert_float_equal(bounds.max_time_s, 2 * 10.0 + HTTP_MAX_TIME_MARGIN_S, 1e-9);
    bounds = http_bounds_for(&common, 0.0);
    assert_true(bounds.stall_s > 0 && bounds.max_time_s > 0);

    const char *given[] = { "--stall-timeout", "1.5", "--max-time", "7", NULL };
    assert_int_equal(parse(&common, given), CLI_RUN);
    bounds = http_bounds_for(&common, 10.0);
    assert_float_equal(bounds.stall_s, 1.5, 1e-9);
    assert_float_equal(bounds.max_time_s, 7.0, 1e-9);

    const char *bad[][3] = { { "--stall-timeout", "0", NULL }, { "--max-time", "-1", NULL },
                             { "--stall-timeout", "soon", NULL }, { "--max-time", "1e9", NULL } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(parse(&common, bad[i]), CLI_EXIT_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(defaults_follow_the_design, reset),
        cmocka_unit_test_setup(common_flags_are_read, reset),
        cmocka_unit_test_setup(environment_sets_the_url_and_the_flag_wins, reset),
        cmocka_unit_test_setup(scenario_options_are_applied, reset),
        cmocka_unit_test_setup(bad_input_is_a_usage_error, reset),
        cmocka_unit_test_setup(a_bad_environment_url_is_a_usage_error, reset),
        cmocka_unit_test_setup(help_asks_for_a_clean_exit, reset),
        cmocka_unit_test_setup(transfer_bounds_follow_the_work_unless_given, reset),
        cmocka_unit_test(prediction_is_the_sum_one_at_a_time),
        cmocka_unit_test(prediction_is_the_longest_all_at_once),
        cmocka_unit_test(prediction_packs_tasks_into_free_slots),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
