/* Unit tests: strict number parsing (scenarios/common/base/parse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "parse.h"

static void accepts_plain_and_fractional_numbers(void **state)
{
    (void)state;
    double value = -1;
    assert_true(parse_double("10", &value));
    assert_true(value == 10.0);
    assert_true(parse_double("0.25", &value));
    assert_true(value == 0.25);
    assert_true(parse_double("1e-3", &value));
    assert_true(value == 0.001);
}

static void refuses_what_is_not_a_whole_number_string(void **state)
{
    (void)state;
    double value = 42;
    const char *bad[] = { "", " 1", "1 ", "abc", "1.5s", "nan", "inf", "-inf", "0x10", "1e999", "--1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(parse_double(bad[i], &value));
        assert_true(value == 42);  /* untouched on failure */
    }
    assert_false(parse_double(NULL, &value));
}

static void checks_double_ranges_inclusively(void **state)
{
    (void)state;
    double value = 0;
    assert_true(parse_double_in("0", 0, 60, &value));
    assert_true(parse_double_in("60", 0, 60, &value));
    assert_true(value == 60.0);
    assert_false(parse_double_in("-0.001", 0, 60, &value));
    assert_false(parse_double_in("60.001", 0, 60, &value));
}

static void parses_longs_strictly(void **state)
{
    (void)state;
    long value = 7;
    assert_true(parse_long_in("100", 1, 100, &value));
    assert_int_equal(value, 100);
    assert_false(parse_long_in("101", 1, 100, &value));
    assert_false(parse_long_in("0", 1, 100, &value));
    assert_false(parse_long_in("1.5", 1, 100, &value));
    assert_false(parse_long_in("99999999999999999999999", 1, 100, &value));
    assert_false(parse_long_in("", 1, 100, &value));
    assert_int_equal(value, 100);
}

static void parses_delay_lists(void **state)
{
    (void)state;
    double values[4];
    size_t count = 99;
    assert_true(parse_double_list("10,2,5", 0, 60, values, 4, &count));
    assert_int_equal(count, 3);
    assert_true(values[0] == 10.0 && values[1] == 2.0 && values[2] == 5.0);
    assert_true(parse_double_list("0.5", 0, 60, values, 4, &count));
    assert_int_equal(count, 1);
}

static void refuses_bad_lists_without_changing_the_count(void **state)
{
    (void)state;
    double values[2];
    size_t count = 99;
    const char *bad[] = { "", "1,,2", "1,", ",1", "1,x", "1,2,3", "-1", "61" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(parse_double_list(bad[i], 0, 60, values, 2, &count));
    assert_int_equal(count, 99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_plain_and_fractional_numbers),
        cmocka_unit_test(refuses_what_is_not_a_whole_number_string),
        cmocka_unit_test(checks_double_ranges_inclusively),
        cmocka_unit_test(parses_longs_strictly),
        cmocka_unit_test(parses_delay_lists),
        cmocka_unit_test(refuses_bad_lists_without_changing_the_count),
    };
    return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
