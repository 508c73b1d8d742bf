/*
 * blocking_pitfall.h - everything the four programs of the blocking-pitfall
 * lesson share that is NOT about concurrency: the command line, the list of
 * requests (and, for the event loops, the list of tasks with an easy handle
 * each), the lines printed as each one starts and finishes, the trace, the
 * summary, and the body of the heartbeat (the lesson's background task).
 *
 * What differs between the programs stays in them, in plain sight: how a
 * request is carried out, and the event loop that decides when the heartbeat
 * gets to run.  The lesson is docs/blocking_pitfall.md.
 *
 * The requests themselves and their lines are common/delay_requests.h,
 * which the slow-API lesson sends and prints the same way.
 */
#ifndef ASYNCLAB_BLOCKING_PITFALL_H
#define ASYNCLAB_BLOCKING_PITFALL_H

#include <stdbool.h>

#include "cli.h"
#include "delay_requests.h"
#include "http.h"
#include "trace.h"

#define BLOCKING_PITFALL_MAX_DELAYS 64

/* The heartbeat wants to run every 100 ms.  A loop that is free runs it
 * within a millisecond or so of that; a loop stuck in a blocking call runs
 * it late, by as long as the call took. */
#define BLOCKING_PITFALL_HEARTBEAT_S 0.1


/* The background task's bookkeeping: when it is next due, how late it ran. */
struct blocking_pitfall_heartbeat {
    double due;        /* clock_now() at which the next tick should run */
    double worst_lag;  /* the latest any tick ran, in seconds */
    long ticks;
};

struct blocking_pitfall {
    struct cli_common common;
    const struct lesson_program *program;
    double delays[BLOCKING_PITFALL_MAX_DELAYS];  /* the lesson's delays, unscaled */
    size_t delay_count;
    long request_count;
    struct delay_request *requests;
    struct blocking_pitfall_heartbeat heartbeat;
    double started;                              /* clock_now() when the work began */
    struct trace *trace;
    long failures;
    long blocking_next;                          /* blocking_pitfall_perform_next's next request */
};

/*
 * What every event-loop program keeps for one request: the request, the easy
 * handle that sends it and the reply that handle writes into.  A program's
 * own `struct task` starts with one of these (its first member, `transfer`)
 * and goes on with what only that program needs.
 */
struct blocking_pitfall_transfer {
    CURL *easy;
    struct http_body body;
    struct delay_request *request;
};

/* An array of one task per request, each task_size bytes (sizeof the
 * program's struct task), zeroed, with its transfer ready for its request.
 * NULL if memory or an easy handle ran out; nothing is left behind. */
void *blocking_pitfall_tasks_new(struct blocking_pitfall *run, size_t task_size);

/* Frees what blocking_pitfall_tasks_new made (NULL is fine). */
void blocking_pitfall_tasks_free(struct blocking_pitfall *run, void *tasks, size_t task_size);

/* The lab's starter (docs/labs/README.md) runs this where async.c has its
 * non-blocking turn: the next request on `easy`, in curl_easy_perform, so
 * the loop stalls for all of it - the pitfall itself.  Returns 1. */
long blocking_pitfall_perform_next(struct blocking_pitfall *run, CURL *easy,
                                   struct http_body *body);

/*
 * Parses the command line and prepares the requests (and the heartbeat's
 * first due time).  Returns -1 when the program should go on and send the
 * requests; otherwise the exit status to return at once (after --help,
 * --predict, a usage error or an unreachable server).
 */
int blocking_pitfall_setup(struct blocking_pitfall *run,
                           const struct lesson_program *program,
                           int argc, char **argv);

/* Call just before a request is sent: prints "R1: Requesting '...'". */
void blocking_pitfall_request_started(struct blocking_pitfall *run,
                                      struct delay_request *request);

/* Call when a request is over, however it ended: prints the server's reply
 * or why it failed, and records the request in the trace. */
void blocking_pitfall_request_finished(struct blocking_pitfall *run,
                                       struct delay_request *request,
                                       CURLcode result, long status,
                                       const struct http_body *body);

/*
 * The heartbeat, the lesson's background task.  The event loop calls it on
 * every turn; if a tick is due it runs one: it measures how late it is (the
 * loop lag), remembers the worst, says so if the loop kept it waiting for a
 * whole interval or more, and asks to run again 100 ms later.
 */
void blocking_pitfall_heartbeat(struct blocking_pitfall *run);

/* How long the loop may sleep before the next tick is due, in whole
 * milliseconds rounded up (0 if it is due already). */
int blocking_pitfall_ms_until_heartbeat(const struct blocking_pitfall *run);

/* Frees what blocking_pitfall_setup took, printing nothing: for a program
 * that could not even start its work (out of memory, no worker thread). */
void blocking_pitfall_abandon(struct blocking_pitfall *run);

/* Prints the summary (the worst heartbeat lag, then the time elapsed),
 * writes the trace, frees everything; returns the exit status (0, or
 * EXIT_TASKS_FAILED if any request failed). */
int blocking_pitfall_finish(struct blocking_pitfall *run);

#endif
