/*
 * http.h - libcurl plumbing that every HTTP scenario needs and no lesson is
 * about: collecting a reply body, building URLs, and checking up front that
 * the server is there at all.
 *
 * What the lessons ARE about (curl_easy_perform in sync.c, the multi loop in
 * async.c) stays in the scenario files, in plain sight.
 *
 * libcurl's return codes, the rule every program follows:
 *   - a transfer's own result (the CURLcode of curl_easy_perform, or the
 *     one in a CURLMSG_DONE message) is the lesson's outcome: always read,
 *     reported, and counted;
 *   - curl_easy_setopt, curl_easy_getinfo, curl_multi_add_handle and
 *     curl_multi_remove_handle are not checked: with the options and the
 *     handles these programs pass they fail only for a programming error
 *     (which the tests would show) or when memory runs out, and neither
 *     is what a lesson is about;
 *   - curl_multi_perform, curl_multi_poll and curl_multi_socket_action are
 *     checked, with http_multi_check: when they fail the multi handle itself
 *     is broken, and a loop that went on would spin for ever.
 */
#ifndef ASYNCLAB_HTTP_H
#define ASYNCLAB_HTTP_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

/* A reply body, collected as it arrives; always NUL-terminated. */
struct http_body {
    char *data;
    size_t length;
};

/* Replies larger than this are refused: a lesson's replies are tiny, and a
 * misdirected --url must not fill memory. */
#define HTTP_BODY_MAX (4u * 1024u * 1024u)

/* curl_global_init/cleanup, once per program. */
bool http_global_init(const char *program);
void http_global_cleanup(void);

/*
 * Nothing may wait for ever, so every transfer is bounded twice: a stall
 * timeout (libcurl's low-speed limit: fewer than 1 byte a second for that
 * long) catches a server that stopped answering, and a maximum time catches
 * one that trickles.  A lesson's server is silent by design for as long as
 * its longest delay, so both are derived from that wait unless --stall-timeout
 * or --max-time say otherwise.
 */
struct http_bounds {
    double stall_s;     /* no bytes for this long: give up */
    double max_time_s;  /* any one transfer, connecting included */
};
#define HTTP_STALL_MARGIN_S 10.0
#define HTTP_MAX_TIME_MARGIN_S 30.0

/* The bounds for work whose longest silent wait is longest_wait_s (scale
 * applied), with the command line's overrides. */
struct http_bounds http_bounds_for(const struct cli_common *common, double longest_wait_s);

/* Every handle http_easy_new makes from now on carries these bounds. */
void http_set_bounds(struct http_bounds bounds);

/* A new easy handle that appends the reply to *body, never raises signals,
 * gives up connecting after a few seconds and carries the bounds set last.
 * NULL if out of memory. */
CURL *http_easy_new(struct http_body *body);

/* Forget the previous reply before reusing the handle for another request. */
void http_body_reset(struct http_body *body);
void http_body_free(struct http_body *body);

/* base + printf-style path, e.g. http_url(base, "/delay-me?seconds=%g", 2.0).
 * Returns a malloc'd string (NULL if out of memory). */
char *http_url(const char *base, const char *path_format, ...)
    __attribute__((format(printf, 2, 3)));

/* The path and query of a URL ("/delay-me?seconds=2"), for the names of
 * trace events; the whole of `url` if it has no "scheme://host/". */
const char *http_url_path(const char *url);

/* GET base/health.  True if the server answers 200; otherwise prints one
 * line saying what failed and how to start the server, and returns false
 * (the caller exits with EXIT_SETUP). */
bool http_server_reachable(const char *program, const char *base_url);

/* The same check, silent: true if base/health answers 200. */
bool http_server_probe(const char *base_url);

/* The event loops' check on curl_multi_perform, curl_multi_poll and
 * curl_multi_socket_action: returns if `code` is CURLM_OK; otherwise says
 * in one line that the event loop cannot go on and ends the program with
 * EXIT_TASKS_FAILED, since its unfinished tasks never will. */
void http_multi_check(CURLMcode code, const char *program);

/* The reply's HTTP status, or 0 if there was none. */
long http_status(CURL *easy);

#endif
