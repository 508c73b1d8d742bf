/*
 * delay_requests.h - the requests the slow-API lessons (slow_api and
 * blocking_pitfall) send to slowserver's /delay-me: R1, R2, ..., each asking
 * the server to wait its delay, and the lines printed as each one starts and
 * finishes.  Both lessons print the very same lines, so they are written once.
 *
 * How the requests are carried out (one after another, overlapped, on
 * threads) is what the lessons are about, and stays in their programs.
 */
#ifndef ASYNCLAB_DELAY_REQUESTS_H
#define ASYNCLAB_DELAY_REQUESTS_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "http.h"
#include "trace.h"

struct delay_request {
    int number;        /* 1-based: R1, R2, ... */
    char label[16];    /* "R1" */
    double delay;      /* seconds asked of the server, --scale applied */
    char *url;         /* <server>/delay-me?seconds=<delay> */
    double started;    /* clock_now() when the request was sent */
};

/* `count` requests to server, R1 to R<count>: request i asks for
 * delays[i % delay_count] * scale seconds.  NULL if out of memory. */
struct delay_request *delay_requests_new(const char *server, const double *delays,
                                         size_t delay_count, long count, double scale);

/* The delays when --delays was not given: the lesson's 10, 2 and 5 s, or,
 * after --seed N, 3 to 8 delays of 1 to 10 s (in half seconds, before
 * --scale), the same for the same seed.  Returns how many it wrote. */
size_t delay_requests_default_delays(const struct cli_common *common, double *delays,
                                     size_t capacity);

/* Frees the list delay_requests_new made (NULL is fine). */
/* The longest of the requests' (scaled) delays: how long the server is
 * silent by design, from which the transfers' bounds are derived. */
double delay_requests_longest(const struct delay_request *requests, long count);

void delay_requests_free(struct delay_request *requests, long count);

/* Call just before a request is sent: prints "R1: Requesting '...'". */
void delay_request_started(struct delay_request *request);

/* Call when a request is over, however it ended: prints the server's reply
 * or why it failed, and records the request in trace (which may be NULL).
 * Returns true if it succeeded: a reply with status 200. */
bool delay_request_finished(struct delay_request *request, struct trace *trace,
                            CURLcode result, long status, const struct http_body *body);

/* The same for a program that speaks HTTP itself, without libcurl
 * (scenarios/event_loops): error is why the request failed, NULL if a reply
 * arrived; body is the reply's text (NULL for none). */
bool delay_request_ended(struct delay_request *request, struct trace *trace,
                         const char *error, long status, const char *body);

#endif
