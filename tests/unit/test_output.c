/* Unit tests: when the lessons' console output is coloured
 * (scenarios/common/output.c, output_colour_wanted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "output.h"

static void a_terminal_gets_colour(void **state)
{
    (void)state;
    assert_true(output_colour_wanted(true, NULL, "xterm-256color"));
    assert_true(output_colour_wanted(true, NULL, NULL));
}

static void a_pipe_never_does(void **state)
{
    (void)state;
    assert_false(output_colour_wanted(false, NULL, "xterm"));
}

static void no_color_counts_only_when_set_and_not_empty(void **state)
{
    (void)state;
    assert_false(output_colour_wanted(true, "1", "xterm"));
    assert_false(output_colour_wanted(true, "0", "xterm"));  /* any value, even "0" */
    assert_true(output_colour_wanted(true, "", "xterm"));
}

static void a_dumb_terminal_gets_none(void **state)
{
    (void)state;
    assert_false(output_colour_wanted(true, NULL, "dumb"));
    assert_true(output_colour_wanted(true, NULL, "dumber-but-not-dumb"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_terminal_gets_colour),
        cmocka_unit_test(a_pipe_never_does),
        cmocka_unit_test(no_color_counts_only_when_set_and_not_empty),
        cmocka_unit_test(a_dumb_terminal_gets_none),
    };
    return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
