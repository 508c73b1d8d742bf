/*
 * timeouts.h - everything sync.c and async.c of the timeouts lesson share
 * that is NOT about concurrency: the command line, the mixed batch of six
 * requests, the lines printed, the trace and the summary.  Keeping it here
 * is what lets `diff sync.c async.c` show only how each program waits.
 * The lesson is docs/timeouts.md.
 *
 * The lesson's own ideas have files of their own, next to this one:
 *     outcome.c     what an attempt's result means: ok, timed out, error
 *     retry.c       the retry policy: what is retried, and the backoff
 *     interrupt.c   Ctrl+C: the signal handler and its wake-up pipe
 *     prediction.c  --predict: the lesson's model of the batch
 */
#ifndef ASYNCLAB_TIMEOUTS_H
#define ASYNCLAB_TIMEOUTS_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "http.h"
#include "interrupt.h"
#include "outcome.h"
#include "retry.h"
#include "trace.h"

/* The lesson's batch: fast, slow but in time, too slow, /hang, 500, 503. */
#define TIMEOUTS_TASK_COUNT 6

/* Why a task was cancelled. */
enum timeouts_cancel_reason {
    TIMEOUTS_BY_DEADLINE,    /* --deadline passed */
    TIMEOUTS_BY_FAIL_FAST,   /* --fail-fast: another task failed */
    TIMEOUTS_BY_INTERRUPT,   /* Ctrl+C (SIGINT) or SIGTERM */
};

/* What the caller does after an attempt. */
enum timeouts_next {
    TIMEOUTS_TASK_DONE,    /* the task has its outcome */
    TIMEOUTS_TASK_RETRY,   /* send it again at task->retry_at */
};

struct timeouts_task {
    int number;             /* 1-based: T1, T2, ... */
    char label[8];          /* "T1" */
    const char *role;       /* what it shows: "fast", "never answers", ... */
    double delay;           /* the server's delay, --scale applied; < 0: never answers */
    long asks_status;       /* /status/CODE: the error it asks for (0: none) */
    double asks_retry_after; /* the Retry-After it asks the server for (< 0: none) */
    char *url;
    int attempts;           /* attempts sent so far */
    double first_started;   /* clock_now() of the first attempt (0: never started) */
    double attempt_started; /* clock_now() of the current attempt */
    double retry_at;        /* waiting to be retried at this clock_now() (0: not) */
    uint64_t jitter_state;  /* this task's own random numbers (see --seed) */
    bool attempt_open;      /* an attempt is in flight */
    enum timeouts_outcome outcome;
    enum timeouts_cancel_reason cancel_reason;  /* when outcome is CANCELLED */
    long status;            /* last HTTP status (0: none) */
    int error;              /* last CURLcode */
};

struct timeouts_batch {
    struct cli_common common;
    double timeout;        /* per attempt, --scale applied; 0: none */
    double deadline;       /* for the whole batch, --scale applied; 0: none */
    bool fail_fast;
    long retries;          /* extra attempts for 429/503 and refused connections */
    long seed;             /* seeds the backoff jitter: runs are reproducible */
    struct timeouts_task tasks[TIMEOUTS_TASK_COUNT];
    double started;        /* clock_now() when the batch began */
    double deadline_at;    /* clock_now() by which the batch ends (0: none) */
    const struct timeouts_task *first_failure;  /* for --fail-fast's message */
    struct trace *trace;
};

/*
 * Parses the command line, prepares the batch, checks the server and
 * installs the Ctrl+C handler.  `program->concurrent` only changes the
 * --help example and the --predict model.  Returns -1 when the program should go on and run
 * the batch; otherwise the exit status to return at once (after --help,
 * --predict, a usage error or an unreachable server).
 */
int timeouts_setup(struct timeouts_batch *batch, const struct lesson_program *program,
                   int argc, char **argv);

/* Call just before an attempt is sent: prints "T1: Requesting '...'". */
void timeouts_attempt_started(struct timeouts_batch *batch, struct timeouts_task *task);

/*
 * Call when an attempt is over, however it ended.  Decides what the result
 * means, prints it, and says whether to send the task again (then
 * task->retry_at is when: exponential backoff with jitter, never sooner
 * than the server's Retry-After) or whether the task is done.
 */
enum timeouts_next timeouts_attempt_finished(struct timeouts_batch *batch,
                                             struct timeouts_task *task, CURL *easy,
                                             CURLcode result);

/* Marks a task that has not ended as cancelled and prints why. */
void timeouts_task_cancel(struct timeouts_batch *batch, struct timeouts_task *task,
                          enum timeouts_cancel_reason reason);

/* True once a task has ended with anything but success or cancellation. */
bool timeouts_task_failed(const struct timeouts_task *task);

/* True while any task has not ended; the first that has not (NULL: none). */
bool timeouts_any_pending(const struct timeouts_batch *batch);
struct timeouts_task *timeouts_first_pending(struct timeouts_batch *batch);

/* True if no task may start (or go on) any more, and why: Ctrl+C, an
 * earlier failure with --fail-fast, or the deadline has passed. */
bool timeouts_must_stop(const struct timeouts_batch *batch, enum timeouts_cancel_reason *reason);

/* "No limit" to arithmetic that takes the smaller of two limits. */
#define TIMEOUTS_NO_LIMIT 1e18
/* The shortest limit an attempt can have: 1 ms, libcurl's smallest. */
#define TIMEOUTS_SMALLEST_LIMIT 0.001

/* Seconds until the batch's deadline: may be negative once it has passed;
 * TIMEOUTS_NO_LIMIT when there is no deadline. */
double timeouts_time_left(const struct timeouts_batch *batch, double now);

/* The limit of an attempt started at `now` by a program that keeps the
 * deadline by never waiting past it (sync.c): the attempt's own timeout, or
 * what is left of the deadline if that is less (at least
 * TIMEOUTS_SMALLEST_LIMIT, even once it has passed); TIMEOUTS_NO_LIMIT when
 * there is neither.  async.c gives an attempt only its own timeout: its
 * loop keeps the deadline, and cancels what is still running then. */
double timeouts_limit_within_deadline(const struct timeouts_batch *batch, double now);

/* When a loop that keeps the limits itself must wake next: the deadline or
 * the earliest retry that is waiting (a clock_now() value, or
 * TIMEOUTS_NO_LIMIT when there is neither). */
double timeouts_next_wake(const struct timeouts_batch *batch, double now);

/* A limit in seconds as libcurl's CURLOPT_TIMEOUT_MS takes it: whole
 * milliseconds, rounded up, at least 1; 0 (none) for no limit. */
long timeouts_limit_ms(double seconds);

/* One transfer: an easy handle and the reply it collects.  sync.c reuses
 * one for every attempt; async.c has one per task: transfers[i] carries
 * the attempts of tasks[i], on the multi handle while tasks[i].attempt_open. */
struct timeouts_transfer {
    CURL *easy;
    struct http_body body;
};

/* `count` transfers with their easy handles, or NULL if out of memory. */
struct timeouts_transfer *timeouts_transfers_new(int count);
void timeouts_transfers_free(struct timeouts_transfer *transfers, int count);

/* Prints the summary, writes the trace, frees everything; returns the exit
 * status: 0 all ok, 3 (EXIT_TASKS_FAILED) some failed or were cancelled,
 * 128 + the signal number after Ctrl+C (130) or SIGTERM. */
int timeouts_finish(struct timeouts_batch *batch);

/* The lab's starter (docs/labs/README.md) runs this where async.c has its
 * event loop: sync.c's way, one attempt after another on transfers[0],
 * each bounded by timeouts_limit_within_deadline. */
void timeouts_run_one_at_a_time(struct timeouts_batch *batch,
                                struct timeouts_transfer *transfers);

/* Frees what timeouts_setup took, printing nothing: for a program that
 * could not even start its work (out of memory). */
void timeouts_abandon(struct timeouts_batch *batch);

#endif
