/*
 * fuzz_params.c - libFuzzer target: slowserver's path and parameter
 * parsers and its %-decoder (server/params.c), and the strict number
 * parsers under them (scenarios/common/base/parse.c), on arbitrary bytes.
 *
 * The input is split at its first two NUL bytes into a path and two
 * parameter values, so the fuzzer can grow each on its own.  Besides "no
 * crash, no sanitizer report", every accepted value is checked against the
 * range its parser promises, and every refusal must give a reason.
 * `make fuzz` runs it; docs/slowserver.md says what the parsers accept.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "parse.h"

#define MAX_DELAY 60.0

/* The invariants: a broken one is a finding, reported as a crash. */
#define REQUIRE(condition) \
    do {                   \
        if (!(condition))  \
            abort();       \
    } while (0)

/* A refusal says why, on one line that fits its buffer. */
static void require_reason(const char *reason)
{
    size_t length = strnlen(reason, SERVER_REASON_SIZE);
    REQUIRE(length > 0 && length < SERVER_REASON_SIZE);
}

static void fuzz_path(const char *path)
{
    enum server_route route = server_route_of(path);
    REQUIRE(route <= SERVER_ROUTE_LIVE_EVENTS);
    REQUIRE(server_route_name(route) != NULL);
    long number = -1;
    char reason[SERVER_REASON_SIZE] = "";
    if (route != SERVER_ROUTE_STATUS && route != SERVER_ROUTE_ITEMS)
        return;
    if (!server_path_number(route, path, &number, reason, sizeof reason)) {
        require_reason(reason);
        return;
    }
    if (route == SERVER_ROUTE_STATUS)
        REQUIRE(number >= 200 && number <= 599);
    else
        REQUIRE(number >= 0 && number <= SERVER_MAX_ITEM_ID);
}

static void fuzz_values(const char *first, const char *second)
{
    char reason[SERVER_REASON_SIZE] = "";
    double seconds = -1;
    if (server_param_seconds("seconds", first, true, MAX_DELAY, &seconds, reason, sizeof reason))
        REQUIRE(isfinite(seconds) && seconds >= 0 && seconds <= MAX_DELAY);
    else
        require_reason(reason);

    long lines = -1;
    double interval = -1;
    reason[0] = '\0';
    if (server_param_stream(first, second, MAX_DELAY, &lines, &interval, reason, sizeof reason))
        REQUIRE(lines >= 1 && lines <= SERVER_MAX_STREAM_LINES && isfinite(interval)
                && interval >= 0 && (double)lines * interval <= MAX_DELAY);
    else
        require_reason(reason);

    long value = -1;
    reason[0] = '\0';
    if (server_param_integer("n", first, 7, 0, 1000, &value, reason, sizeof reason))
        REQUIRE(value >= 0 && value <= 1000);
    else
        require_reason(reason);

    double number;
    if (parse_double_in(first, -5.0, 5.0, &number))
        REQUIRE(isfinite(number) && number >= -5.0 && number <= 5.0);
    long whole;
    if (parse_long_in(first, -3, 3, &whole))
        REQUIRE(whole >= -3 && whole <= 3);
    double list[4];
    size_t count = 99;
    if (parse_double_list(first, 0.0, 10.0, list, 4, &count)) {
        REQUIRE(count >= 1 && count <= 4);
        for (size_t i = 0; i < count; i++)
            REQUIRE(isfinite(list[i]) && list[i] >= 0.0 && list[i] <= 10.0);
    } else {
        REQUIRE(count == 99);  /* untouched on failure */
    }
}

/* Decoding never grows a string and never makes a NUL inside it. */
static void fuzz_unescape(const char *text)
{
    char *copy = strdup(text);
    if (copy == NULL)
        return;
    size_t length = server_unescape(copy);
    REQUIRE(length <= strlen(text) && strlen(copy) == length);
    if (strchr(text, '%') == NULL)
        REQUIRE(strcmp(copy, text) == 0);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* One copy with a NUL after it, so every field is a C string. */
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    const char *path = text;
    const char *first = path + strlen(path);
    first += first < text + size ? 1 : 0;
    const char *second = first + strlen(first);
    second += second < text + size ? 1 : 0;

    fuzz_path(path);
    fuzz_values(first, second);
    fuzz_unescape(path);
    free(text);
    return 0;
}
