/*
 * event_loops.h - what the three programs of the event_loops lesson share
 * that is not about how they wait: the slow-API lesson's command line,
 * requests, lines and summary (slow_api.h), the hand-written HTTP
 * (raw_http.h), and one rule for when a request is given up.
 * The lesson is docs/event_loops.md.
 */
#ifndef ASYNCLAB_EVENT_LOOPS_H
#define ASYNCLAB_EVENT_LOOPS_H

#include "raw_http.h"
#include "slow_api.h"

/* A request is given up twice its delay plus 2 s after it was sent, plus
 * 1 ms for each request in flight (10 s at 10 000: each one is work for
 * the loop and the server before they reach any given reply, and on a
 * loaded machine that adds up); --max-time S sets that allowance instead.
 * With --stall-timeout S it is also given up after S seconds without
 * progress.  So a server that accepts and never answers cannot make any of
 * the programs wait forever. */
#define EVENT_LOOPS_PATIENCE_S 2.0
#define EVENT_LOOPS_PATIENCE_PER_REQUEST_S 0.001
#define EVENT_LOOPS_TIMED_OUT "timed out: no complete reply in time (by default twice its " \
                              "delay plus 2 s and 1 ms per request in flight)"

/* Resolves --url into server once, before the loop.  On failure prints
 * one line, releases what slow_api_setup took, and returns false (the
 * program exits EXIT_SETUP). */
bool event_loops_resolve(struct slow_api *run, struct raw_http_server *server);

/* clock_now() at which the request (already started) is given up. */
double event_loops_deadline(const struct slow_api *run, const struct delay_request *request);

/* The same, earlier if --stall-timeout is due first for a request whose
 * last progress (connected, bytes sent or received) was at since. */
double event_loops_give_up_at(const struct slow_api *run, double deadline, double since);

/* The request is over: prints and records its reply, or when failure is
 * not NULL the line "<failure>: <strerror(error_number)>" (just failure
 * when error_number is 0). */
void event_loops_request_finished(struct slow_api *run, struct delay_request *request,
                                  const char *failure, int error_number,
                                  const struct raw_http_reply *reply);

#endif
