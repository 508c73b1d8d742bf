/*
 * params.c - the rules of slowserver's API as plain functions; see params.h.
 *
 * Numbers go through scenarios/common/base/parse.c, so the server and its clients
 * agree on what a number is (no NaN, no infinity, no trailing junk).
 */
#include "params.h"

#include <stdio.h>
#include <string.h>

#include "parse.h"

struct route_entry {
    const char *path;      /* the exact path, or the prefix of the paths under it */
    bool prefix;           /* "/status/CODE", "/items/N", "/live/FILE" */
    enum server_route route;
    const char *method;
};

static const struct route_entry routes[] = {
    { "/delay-me", false, SERVER_ROUTE_DELAY_ME, "GET" },
    { "/status", true, SERVER_ROUTE_STATUS, "GET" },
    { "/items", true, SERVER_ROUTE_ITEMS, "GET" },
    { "/process", false, SERVER_ROUTE_PROCESS, "POST" },
    { "/stream", false, SERVER_ROUTE_STREAM, "GET" },
    { "/hang", false, SERVER_ROUTE_HANG, "GET" },
    { "/health", false, SERVER_ROUTE_HEALTH, "GET" },
    { "/stats", false, SERVER_ROUTE_STATS, "GET" },
    { "/stats/reset", false, SERVER_ROUTE_STATS_RESET, "POST" },
    /* Before "/live", which would take it as one of the page's files. */
    { "/live/events", false, SERVER_ROUTE_LIVE_EVENTS, "GET" },
    { "/live", true, SERVER_ROUTE_LIVE, "GET" },
};
#define ROUTE_COUNT (sizeof routes / sizeof routes[0])

/* True if path is prefix itself or prefix followed by '/' and more. */
static bool under(const char *path, const char *prefix)
{
    size_t length = strlen(prefix);
    return strncmp(path, prefix, length) == 0 && (path[length] == '\0' || path[length] == '/');
}

enum server_route server_route_of(const char *path)
{
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        const struct route_entry *entry = &routes[i];
        if (entry->prefix ? under(path, entry->path) : strcmp(path, entry->path) == 0)
            return entry->route;
    }
    return SERVER_ROUTE_OTHER;
}

const char *server_route_name(enum server_route route)
{
    for (size_t i = 0; i < ROUTE_COUNT; i++)
        if (routes[i].route == route)
            return routes[i].path;
    return "other";
}

const char *server_route_method(enum server_route route)
{
    for (size_t i = 0; i < ROUTE_COUNT; i++)
        if (routes[i].route == route)
            return routes[i].method;
    return NULL;
}

static bool all_digits(const char *text)
{
    if (*text == '\0')
        return false;
    for (; *text != '\0'; text++)
        if (*text < '0' || *text > '9')
            return false;
    return true;
}

bool server_path_number(enum server_route route, const char *path, long *number,
                        char *reason, size_t reason_size)
{
    const char *prefix = server_route_name(route);
    const char *what = route == SERVER_ROUTE_STATUS ? "CODE" : "N";
    long min = route == SERVER_ROUTE_STATUS ? 200 : 0;
    long max = route == SERVER_ROUTE_STATUS ? 599 : SERVER_MAX_ITEM_ID;
    size_t length = strlen(prefix);
    /* parse_long_in alone would take "+5"; a path segment is digits only. */
    const char *digits = path + length + 1;
    bool ok = strncmp(path, prefix, length) == 0 && path[length] == '/'
              && all_digits(digits) && parse_long_in(digits, min, max, number);
    if (!ok)
        snprintf(reason, reason_size, "the path must be %s/%s with %s an integer between %ld and %ld\n",
                 prefix, what, what, min, max);
    return ok;
}

bool server_param_seconds(const char *name, const char *text, bool required,
                          double max_delay, double *seconds,
                          char *reason, size_t reason_size)
{
    if (text == NULL && !required) {
        *seconds = 0;
        return true;
    }
    if (text == NULL) {
        snprintf(reason, reason_size, "%s is missing: it must be a number between 0 and %g\n",
                 name, max_delay);
        return false;
    }
    if (!parse_double_in(text, 0, max_delay, seconds)) {
        snprintf(reason, reason_size, "%s must be a number between 0 and %g\n", name, max_delay);
        return false;
    }
    return true;
}

bool server_param_integer(const char *name, const char *text, long fallback,
                          long min, long max, long *value,
                          char *reason, size_t reason_size)
{
    if (text == NULL) {
        *value = fallback;
        return true;
    }
    if (!parse_long_in(text, min, max, value)) {
        snprintf(reason, reason_size, "%s must be an integer between %ld and %ld\n", name, min, max);
        return false;
    }
    return true;
}

bool server_param_stream(const char *lines_text, const char *interval_text,
                         double max_delay, long *lines, double *interval,
                         char *reason, size_t reason_size)
{
    if (lines_text == NULL || !parse_long_in(lines_text, 1, SERVER_MAX_STREAM_LINES, lines)) {
        snprintf(reason, reason_size, "lines must be an integer between 1 and %ld\n",
                 SERVER_MAX_STREAM_LINES);
        return false;
    }
    if (!server_param_seconds("interval", interval_text, true, max_delay, interval,
                              reason, reason_size))
        return false;
    if ((double)*lines * *interval > max_delay) {
        snprintf(reason, reason_size, "lines * interval must be at most %g seconds\n", max_delay);
        return false;
    }
    return true;
}

long server_item_value(long id)
{
    return (long)(((unsigned long long)id * 7919u) % 1000u);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t server_unescape(char *text)
{
    char *out = text;
    for (const char *in = text; *in != '\0'; in++) {
        int high = in[0] == '%' ? hex_value(in[1]) : -1;
        int low = high >= 0 ? hex_value(in[2]) : -1;
        if (low >= 0 && (high | low) != 0) {
            *out++ = (char)(high * 16 + low);
            in += 2;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
    return (size_t)(out - text);
}
