/*
 * params.h - what a request asks for, checked before anything waits on it.
 *
 * Everything here is plain text in, checked values (or a one-line reason)
 * out: no sockets, no libmicrohttpd.  That keeps the rules of the server's
 * little API in one place that unit tests can exercise directly, and keeps
 * the handlers in routes.c about HTTP and waiting only.
 */
#ifndef SLOWSERVER_PARAMS_H
#define SLOWSERVER_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

/* The largest POST body /process accepts (1 MiB); more is 413. */
#define SERVER_MAX_BODY ((size_t)1024 * 1024)

/* The largest /items/N and the largest /stream?lines=N. */
#define SERVER_MAX_ITEM_ID 1000000000L
#define SERVER_MAX_STREAM_LINES 10000L

/* Room for any reason these functions write (one line, '\n' included). */
#define SERVER_REASON_SIZE 160

/*
 * The endpoints.  The first SERVER_COUNTED_ROUTES are the buckets /stats
 * reports under "paths"; the observers after them are never counted,
 * so that reading the counters (or watching the live view) does not change
 * them.
 */
enum server_route {
    SERVER_ROUTE_DELAY_ME,
    SERVER_ROUTE_STATUS,
    SERVER_ROUTE_ITEMS,
    SERVER_ROUTE_PROCESS,
    SERVER_ROUTE_STREAM,
    SERVER_ROUTE_HANG,
    SERVER_ROUTE_HEALTH,
    SERVER_ROUTE_OTHER,          /* any unknown path: 404 */
    SERVER_ROUTE_STATS,          /* GET /stats */
    SERVER_ROUTE_STATS_RESET,    /* POST /stats/reset */
    SERVER_ROUTE_LIVE,           /* GET /live and /live/FILE: the live view's page */
    SERVER_ROUTE_LIVE_EVENTS,    /* GET /live/events: its Server-Sent Events */
};
#define SERVER_COUNTED_ROUTES (SERVER_ROUTE_OTHER + 1)

/* Which endpoint a path belongs to.  Everything under "/status/" and
 * "/items/" belongs to those endpoints even when the number after it is
 * bad (that is a 400 from server_path_number, not a 404). */
enum server_route server_route_of(const char *path);

/* The name /stats uses for a counted route ("/delay-me", ..., "other"). */
const char *server_route_name(enum server_route route);

/* The one method a route answers ("GET" or "POST"); also the Allow header
 * of its 405 reply.  NULL for SERVER_ROUTE_OTHER, which answers nothing. */
const char *server_route_method(enum server_route route);

/* The number in "/status/CODE" (200..599) or "/items/N" (0..1e9): digits
 * only, nothing after them.  On failure writes the reason. */
bool server_path_number(enum server_route route, const char *path, long *number,
                        char *reason, size_t reason_size);

/*
 * A delay query parameter: seconds, fractional allowed, 0 <= s <= max_delay.
 * text is the parameter's value, NULL when the request does not have it;
 * then a required parameter is an error and an optional one is 0.
 */
bool server_param_seconds(const char *name, const char *text, bool required,
                          double max_delay, double *seconds,
                          char *reason, size_t reason_size);

/* An optional integer query parameter in [min, max], fallback if absent. */
bool server_param_integer(const char *name, const char *text, long fallback,
                          long min, long max, long *value,
                          char *reason, size_t reason_size);

/* /stream's lines (1..10000) and interval (a delay), both required, with
 * lines * interval <= max_delay so that no stream outlives the longest delay. */
bool server_param_stream(const char *lines_text, const char *interval_text,
                         double max_delay, long *lines, double *interval,
                         char *reason, size_t reason_size);

/* The "value" of /items/N: any fixed function of N does, so clients can
 * check what they got; this one is (N * 7919) mod 1000. */
long server_item_value(long id);

/*
 * Decodes %XX escapes in place (MHD_OPTION_UNESCAPE_CALLBACK uses it for
 * paths and query values) and returns the new length.  "%00" is left as
 * it is: decoded, a NUL would end the C string early, and
 * "seconds=2%00junk" would be read as 2, "/health%00x" as /health.  Left
 * encoded, the value fails strict parsing (400) and the path matches no
 * route (404).  A '%' without two hex digits after it is kept too.
 */
size_t server_unescape(char *text);

#endif
