/* Unit tests: slowserver's request rules (server/params.c), no network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "params.h"

#define MAX_DELAY 60.0

/* The reason a failed check writes: exactly one line, ending in '\n'. */
static void assert_one_line(const char *reason)
{
    size_t length = strlen(reason);
    assert_true(length > 1);
    assert_int_equal(reason[length - 1], '\n');
    assert_null(memchr(reason, '\n', length - 1));
}

static void accepts_delays_in_range(void **state)
{
    (void)state;
    char reason[SERVER_REASON_SIZE];
    const struct { const char *text; double value; } good[] = {
        { "0", 0 }, { "2", 2 }, { "0.25", 0.25 }, { "60", 60 }, { "1e-3", 0.001 }, { "10.5", 10.5 },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        double seconds = -1;
        assert_true(server_param_seconds("seconds", good[i].text, true, MAX_DELAY, &seconds,
                                         reason, sizeof reason));
        assert_true(seconds == good[i].value);
    }
}

static void refuses_bad_delays_with_a_reason(void **state)
{
    (void)state;
    const char *bad[] = { "", "abc", "-1", "-0.001", "60.001", "61", "1e9", "nan", "NaN", "inf",
                          "-inf", "infinity", "2s", "2 ", " 2", "0x10", "1,5", "--1", "1e999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char reason[SERVER_REASON_SIZE] = "";
        double seconds = 0;
        assert_false(server_param_seconds("seconds", bad[i], true, MAX_DELAY, &seconds,
                                          reason, sizeof reason));
        assert_string_equal(reason, "seconds must be a number between 0 and 60\n");
    }
}

static void a_missing_delay_is_an_error_only_when_required(void **state)
{
    (void)state;
    char reason[SERVER_REASON_SIZE] = "";
    double seconds = 5;
    assert_true(server_param_seconds("delay", NULL, false, MAX_DELAY, &seconds, reason, sizeof reason));
    assert_true(seconds == 0);
    assert_false(server_param_seconds("seconds", NULL, true, MAX_DELAY, &seconds, reason, sizeof reason));
    assert_one_line(reason);
    assert_non_null(strstr(reason, "seconds"));
    assert_non_null(strstr(reason, "missing"));
}

static void the_limit_follows_max_delay(void **state)
{
    (void)state;
    char reason[SERVER_REASON_SIZE] = "";
    double seconds;
    assert_true(server_param_seconds("delay", "0.5", true, 0.5, &seconds, reason, sizeof reason));
    assert_false(server_param_seconds("delay", "0.6", true, 0.5, &seconds, reason, sizeof reason));
    assert_string_equal(reason, "delay must be a number between 0 and 0.5\n");
}

static void checks_optional_integers(void **state)
{
    (void)state;
    char reason[SERVER_REASON_SIZE] = "";
    long value = 0;
    assert_true(server_param_integer("retry_after", NULL, 1, 0, 86400, &value, reason, sizeof reason));
    assert_int_equal(value, 1);
    assert_true(server_param_integer("retry_after", "30", 1, 0, 86400, &value, reason, sizeof reason));
    assert_int_equal(value, 30);
    const char *bad[] = { "", "-1", "1.5", "x", "86401", "99999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(server_param_integer("retry_after", bad[i], 1, 0, 86400, &value,
                                          reason, sizeof reason));
        assert_string_equal(reason, "retry_after must be an integer between 0 and 86400\n");
    }
}

static void checks_stream_parameters(void **state)
{
    (void)state;
    char reason[SERVER_REASON_SIZE] = "";
    long lines = 0;
    double interval = -1;
    assert_true(server_param_stream("3", "0.5", MAX_DELAY, &lines, &interval, reason, sizeof reason));
    assert_int_equal(lines, 3);
    assert_true(interval == 0.5);
    assert_true(server_param_stream("10000", "0", MAX_DELAY, &lines, &interval, reason, sizeof reason));
    assert_true(server_param_stream("60", "1", MAX_DELAY, &lines, &interval, reason, sizeof reason));

    const char *bad[][2] = {
        { NULL, "1" }, { "0", "1" }, { "10001", "0" }, { "-1", "1" }, { "2.5", "1" }, { "x", "1" },
        { "3", NULL }, { "3", "-1" }, { "3", "nan" }, { "3", "61" },
        { "61", "1" },   /* 61 s in all: longer than max-delay */
        { "7", "10" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        reason[0] = '\0';
        assert_false(server_param_stream(bad[i][0], bad[i][1], MAX_DELAY, &lines, &interval,
                                         reason, sizeof reason));
        assert_one_line(reason);
    }
}

static void routes_paths_to_endpoints(void **state)
{
    (void)state;
    const struct { const char *path; enum server_route route; } cases[] = {
        { "/delay-me", SERVER_ROUTE_DELAY_ME },
        { "/status/404", SERVER_ROUTE_STATUS },
        { "/status", SERVER_ROUTE_STATUS },          /* ours, but a 400: no CODE */
        { "/status/abc", SERVER_ROUTE_STATUS },
        { "/items/7", SERVER_ROUTE_ITEMS },
        { "/process", SERVER_ROUTE_PROCESS },
        { "/stream", SERVER_ROUTE_STREAM },
        { "/hang", SERVER_ROUTE_HANG },
        { "/health", SERVER_ROUTE_HEALTH },
        { "/stats", SERVER_ROUTE_STATS },
        { "/stats/reset", SERVER_ROUTE_STATS_RESET },
        { "/live", SERVER_ROUTE_LIVE },
        { "/live/live.js", SERVER_ROUTE_LIVE },
        { "/live/events", SERVER_ROUTE_LIVE_EVENTS },
        { "/livex", SERVER_ROUTE_OTHER },
        { "/", SERVER_ROUTE_OTHER },
        { "", SERVER_ROUTE_OTHER },
        { "/delay-me/", SERVER_ROUTE_OTHER },
        { "/delay", SERVER_ROUTE_OTHER },
        { "/statusx", SERVER_ROUTE_OTHER },
        { "/itemsx/1", SERVER_ROUTE_OTHER },
        { "/health/", SERVER_ROUTE_OTHER },
        { "/stats/other", SERVER_ROUTE_OTHER },
        { "/HEALTH", SERVER_ROUTE_OTHER },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(server_route_of(cases[i].path), cases[i].route);
}

static void names_and_methods_of_routes(void **state)
{
    (void)state;
    assert_string_equal(server_route_name(SERVER_ROUTE_DELAY_ME), "/delay-me");
    assert_string_equal(server_route_name(SERVER_ROUTE_STATUS), "/status");
    assert_string_equal(server_route_name(SERVER_ROUTE_ITEMS), "/items");
    assert_string_equal(server_route_name(SERVER_ROUTE_OTHER), "other");
    assert_string_equal(server_route_method(SERVER_ROUTE_DELAY_ME), "GET");
    assert_string_equal(server_route_method(SERVER_ROUTE_PROCESS), "POST");
    assert_string_equal(server_route_method(SERVER_ROUTE_STATS_RESET), "POST");
    assert_string_equal(server_route_method(SERVER_ROUTE_STATS), "GET");
    assert_null(server_route_method(SERVER_ROUTE_OTHER));
}

static void reads_status_codes_from_the_path(void **state)
{
    (void)state;
    char reason[SERVER_REASON_SIZE] = "";
    long code = 0;
    const struct { const char *path; long code; } good[] = {
        { "/status/200", 200 }, { "/status/404", 404 }, { "/status/429", 429 }, { "/status/599", 599 },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_true(server_path_number(SERVER_ROUTE_STATUS, good[i].path, &code, reason, sizeof reason));
        assert_int_equal(code, good[i].code);
    }
    const char *bad[] = { "/status", "/status/", "/status/199", "/status/600", "/status/abc",
                          "/status/+200", "/status/-404", "/status/ 404", "/status/404/x",
                          "/status/404x", "/status/4.04", "/status/99999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        reason[0] = '\0';
        assert_false(server_path_number(SERVER_ROUTE_STATUS, bad[i], &code, reason, sizeof reason));
        assert_string_equal(reason,
                            "the path must be /status/CODE with CODE an integer between 200 and 599\n");
    }
}

static void reads_item_numbers_from_the_path(void **state)
{
    (void)state;
    char reason[SERVER_REASON_SIZE] = "";
    long id = -1;
    assert_true(server_path_number(SERVER_ROUTE_ITEMS, "/items/0", &id, reason, sizeof reason));
    assert_int_equal(id, 0);
    assert_true(server_path_number(SERVER_ROUTE_ITEMS, "/items/42", &id, reason, sizeof reason));
    assert_int_equal(id, 42);
    assert_true(server_path_number(SERVER_ROUTE_ITEMS, "/items/1000000000", &id, reason, sizeof reason));
    assert_int_equal(id, 1000000000L);
    const char *bad[] = { "/items", "/items/", "/items/-1", "/items/1000000001", "/items/x",
                          "/items/1e3", "/items/+1", "/items/1/2", "/items/99999999999999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        reason[0] = '\0';
        assert_false(server_path_number(SERVER_ROUTE_ITEMS, bad[i], &id, reason, sizeof reason));
        assert_one_line(reason);
    }
}

static void item_values_are_a_fixed_function_of_the_id(void **state)
{
    (void)state;
    assert_int_equal(server_item_value(0), 0);
    assert_int_equal(server_item_value(1), 919);
    assert_int_equal(server_item_value(42), 598);
    assert_int_equal(server_item_value(42), server_item_value(42));
    long value = server_item_value(SERVER_MAX_ITEM_ID);
    assert_true(value >= 0 && value < 1000);
}

/* %XX decodes, except %00, which would hide the rest of the string. */
static void unescape_keeps_an_encoded_nul(void **state)
{
    (void)state;
    const char *cases[][2] = {
        { "2%00junk", "2%00junk" },   { "/health%00x", "/health%00x" },
        { "%30.5", "0.5" },           { "a%2Fb", "a/b" },
        { "%zz%4", "%zz%4" },         { "100%", "100%" },
        { "%2500", "%00" },           { "", "" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[32];
        snprintf(text, sizeof text, "%s", cases[i][0]);
        assert_int_equal(server_unescape(text), strlen(cases[i][1]));
        assert_string_equal(text, cases[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_delays_in_range),
        cmocka_unit_test(refuses_bad_delays_with_a_reason),
        cmocka_unit_test(a_missing_delay_is_an_error_only_when_required),
        cmocka_unit_test(the_limit_follows_max_delay),
        cmocka_unit_test(checks_optional_integers),
        cmocka_unit_test(checks_stream_parameters),
        cmocka_unit_test(routes_paths_to_endpoints),
        cmocka_unit_test(names_and_methods_of_routes),
        cmocka_unit_test(reads_status_codes_from_the_path),
        cmocka_unit_test(reads_item_numbers_from_the_path),
        cmocka_unit_test(item_values_are_a_fixed_function_of_the_id),
        cmocka_unit_test(unescape_keeps_an_encoded_nul),
    };
    return cmocka_run_group_tests_name("server_params", tests, NULL, NULL);
}
