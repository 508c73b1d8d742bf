/*
 * slow_api.h - everything sync.c and async.c of the slow-API lesson share
 * that is NOT about concurrency: the command line, the list of requests,
 * the lines printed as each one starts and finishes, the trace, and the
 * summary.  Keeping it here is what lets `diff sync.c async.c` show only
 * the difference that matters.  The lesson is docs/slow_api.md.
 *
 * The requests themselves and their lines are common/delay_requests.h,
 * which the blocking-pitfall lesson sends and prints the same way.
 */
#ifndef ASYNCLAB_SLOW_API_H
#define ASYNCLAB_SLOW_API_H

#include <stdbool.h>

#include "cli.h"
#include "delay_requests.h"
#include "http.h"
#include "trace.h"

#define SLOW_API_MAX_DELAYS 64
#define SLOW_API_MAX_REQUESTS 100000L

struct slow_api {
    struct cli_common common;
    double delays[SLOW_API_MAX_DELAYS];  /* the lesson's delays, unscaled */
    size_t delay_count;
    long request_count;                  /* --requests; cycles through delays */
    long concurrency;                    /* async only: at most this many in flight */
    struct delay_request *requests;
    double started;                      /* clock_now() when the work began */
    struct trace *trace;
    long failures;
};

/* One transfer that can be in flight in the async programs: its easy
 * handle and reply.  --concurrency N makes N slots; a slot is reused for
 * the next request as soon as its transfer finishes. */
struct slow_api_slot {
    CURL *easy;
    struct http_body body;
    struct delay_request *request;
};

/* `count` slots with their easy handles, or NULL if out of memory. */
struct slow_api_slot *slow_api_slots_new(long count);
void slow_api_slots_free(struct slow_api_slot *slots, long count);

/* The lab's starter (docs/labs/README.md) runs this where async.c has its
 * event loop: every request in turn on the slot's easy handle, blocking, so
 * the starter works, serially, before the student writes the loop. */
void slow_api_run_one_at_a_time(struct slow_api *run, struct slow_api_slot *slot);


/*
 * Parses the command line and prepares the requests.  Returns -1 when the
 * program should go on and send the requests; otherwise the exit status to
 * return at once (after --help, --predict, a usage error or an unreachable
 * server).
 */
int slow_api_setup(struct slow_api *run, const struct lesson_program *program,
                   int argc, char **argv);

/* The same for a program that writes HTTP itself (scenarios/event_loops):
 * libcurl is never initialised, and server_reachable checks the server
 * instead of libcurl's GET /health (printing one line if it is not there). */
int slow_api_setup_without_curl(struct slow_api *run, const struct lesson_program *program,
                                int argc, char **argv,
                                bool (*server_reachable)(const char *program, const char *url));

/* Call just before a request is sent: prints "R1: Requesting '...'". */
void slow_api_request_started(struct slow_api *run, struct delay_request *request);

/* Call when a request is over, however it ended: prints the server's reply
 * or why it failed, and records the request in the trace. */
void slow_api_request_finished(struct slow_api *run, struct delay_request *request,
                               CURLcode result, long status, const struct http_body *body);

/* The same without libcurl: error is NULL if a reply arrived (see
 * delay_request_ended). */
void slow_api_request_ended(struct slow_api *run, struct delay_request *request,
                            const char *error, long status, const char *body);

/* Frees what slow_api_setup took, printing nothing: for a program that
 * could not even start its work (out of memory, no event loop). */
void slow_api_abandon(struct slow_api *run);

/* Prints the summary, writes the trace, frees everything; returns the exit
 * status (0, or EXIT_TASKS_FAILED if any request failed). */
int slow_api_finish(struct slow_api *run);

#endif
