/*
 * timeouts/async.c - the same mixed batch, all at once, each request
 * bounded by a timeout and the whole batch by a deadline.
 *
 * The batch: a fast reply, a slow one that beats its timeout, one slower
 * than its timeout, /hang (which never answers), a 500 and a 503.
 *
 * Demonstrates: concurrency turns N timeouts into one.  All six requests
 * are in flight together on one libcurl multi handle, each with its own
 * CURLOPT_TIMEOUT_MS, so the run takes about the LONGEST allowed wait (2 s
 * at the lesson's numbers) instead of the sum.  The event loop below keeps
 * the other limits itself: it wakes for the --deadline and for retries that
 * are due (the curl_multi_poll timeout is computed from them), removes
 * every transfer still running when the deadline passes, at the first
 * failure with --fail-fast, or on Ctrl+C, and still reports every task.
 * Compare with sync.c; docs/timeouts.md explains both.
 * (LAB:cut/LAB:end: what the lab's starter leaves out; docs/labs/README.md.)
 *
 *     build/bin/timeouts_async [--timeout S] [--deadline S] [--fail-fast]
 *                              [--retries N] [--seed N] [--scale F]
 */
#include <math.h>

#include "clock.h"
#include "output.h"
#include "timeouts.h"

static const struct lesson_program PROGRAM = {
    .name = "timeouts_async",
    .purpose = "Runs a mixed batch all at once, each request with a timeout, the batch with a deadline.",
    .concurrent = true,
};

/* LAB:cut write start_attempt (each attempt with its own CURLOPT_TIMEOUT_MS),
 * cancel_the_rest (remove every transfer still in flight, cancel every task
 * not ended), finish_attempt (report it; with --fail-fast cancel the rest),
 * start_due_retries, and poll_timeout_ms (sleep no longer than until the
 * deadline or the next retry). */
/* Hands an attempt to the multi handle and returns at once: nothing waits.
 * Each attempt carries its own timeout; the deadline is the loop's job. */
static void start_attempt(struct timeouts_batch *batch, CURLM *multi,
                          struct timeouts_transfer *transfer, struct timeouts_task *task)
{
    http_body_reset(&transfer->body);
    curl_easy_setopt(transfer->easy, CURLOPT_URL, task->url);
    curl_easy_setopt(transfer->easy, CURLOPT_TIMEOUT_MS, timeouts_limit_ms(batch->timeout));
    curl_easy_setopt(transfer->easy, CURLOPT_PRIVATE, task);
    timeouts_attempt_started(batch, task);

    curl_multi_add_handle(multi, transfer->easy);  /* queued, not sent yet */
    transfer->in_flight = true;
}

/* Takes every transfer still in flight off the multi handle and cancels
 * every task that has not ended (in flight or waiting for a retry).
 * Removing an unfinished transfer closes its connection, so the server
 * sees the client hang up and stops holding the request. */
static void cancel_the_rest(struct timeouts_batch *batch, CURLM *multi,
                            struct timeouts_transfer *transfers,
                            enum timeouts_cancel_reason reason)
{
    for (int i = 0; i < TIMEOUTS_TASK_COUNT; i++) {
        if (transfers[i].in_flight) {
            curl_multi_remove_handle(multi, transfers[i].easy);
            transfers[i].in_flight = false;
        }
        timeouts_task_cancel(batch, &batch->tasks[i], reason);  /* only if not ended */
    }
}

/* Reports one finished transfer and takes it off the multi handle.  With
 * --fail-fast a failure cancels everything else, as asyncio.gather does
 * by default. */
static void finish_attempt(struct timeouts_batch *batch, CURLM *multi,
                           struct timeouts_transfer *transfers, CURLMsg *message)
{
    struct timeouts_task *task = NULL;
    curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&task);
    struct timeouts_transfer *transfer = &transfers[task->number - 1];
    curl_multi_remove_handle(multi, transfer->easy);
    transfer->in_flight = false;

    timeouts_attempt_finished(batch, task, transfer->easy, message->data.result);
    /* TIMEOUTS_TASK_RETRY: the loop starts it again at task->retry_at. */
    if (batch->fail_fast && timeouts_task_failed(task))
        cancel_the_rest(batch, multi, transfers, TIMEOUTS_BY_FAIL_FAST);
}

/* Starts again every task whose backoff is over. */
static void start_due_retries(struct timeouts_batch *batch, CURLM *multi,
                              struct timeouts_transfer *transfers, double now)
{
    for (int i = 0; i < TIMEOUTS_TASK_COUNT; i++) {
        struct timeouts_task *task = &batch->tasks[i];
        if (task->outcome == TIMEOUTS_PENDING && task->retry_at > 0 && task->retry_at <= now)
            start_attempt(batch, multi, &transfers[i], task);
    }
}

/* How long the loop may sleep: until the deadline or the next retry that
 * is due, and at most a second.  libcurl shortens it further by itself
 * when a transfer's own timeout comes sooner. */
static int poll_timeout_ms(const struct timeouts_batch *batch, double now)
{
    double wait = fmin(1.0, timeouts_next_wake(batch, now) - now);
    return wait <= 0 ? 0 : (int)ceil(wait * 1000);
}
/* LAB:end */

int main(int argc, char **argv)
{
    struct timeouts_batch batch;
    int early_exit = timeouts_setup(&batch, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    /* One transfer per task, all on one multi handle. */
    CURLM *multi = curl_multi_init();
    struct timeouts_transfer *transfers = timeouts_transfers_new(TIMEOUTS_TASK_COUNT);
    if (multi == NULL || transfers == NULL) {
        output_error(PROGRAM.name, "out of memory");
        timeouts_transfers_free(transfers, TIMEOUTS_TASK_COUNT);
        curl_multi_cleanup(multi);
        timeouts_abandon(&batch);
        return EXIT_SETUP;
    }

    /* LAB:cut replace this one-at-a-time run with the event loop: start every
     * task at once, then until none is pending stop (cancel_the_rest) when
     * timeouts_must_stop says so, start the retries that are due, let libcurl
     * work and finish what it reports, and sleep in curl_multi_poll (with the
     * wake-up pipe) no longer than poll_timeout_ms. */
    /* Every task at once. */
    for (int i = 0; i < TIMEOUTS_TASK_COUNT; i++)
        start_attempt(&batch, multi, &transfers[i], &batch.tasks[i]);

    /* The event loop: it runs until every task has an outcome. */
    struct curl_waitfd wake = { .fd = timeouts_wake_fd(), .events = CURL_WAIT_POLLIN };
    while (timeouts_any_pending(&batch)) {
        /* The limits the loop keeps itself: Ctrl+C, the deadline, --fail-fast.
         * The tasks left are cancelled, so the summary accounts for each. */
        enum timeouts_cancel_reason reason;
        if (timeouts_must_stop(&batch, &reason)) {
            cancel_the_rest(&batch, multi, transfers, reason);
            break;
        }
        start_due_retries(&batch, multi, transfers, clock_now());

        int still_running = 0;
        http_multi_check(curl_multi_perform(multi, &still_running), PROGRAM.name);  /* never waits */
        CURLMsg *message;
        int queued = 0;
        while ((message = curl_multi_info_read(multi, &queued)) != NULL)
            if (message->msg == CURLMSG_DONE)
                finish_attempt(&batch, multi, transfers, message);

        /* Sleep until a socket is ready, a timer is due, or Ctrl+C writes
         * to the wake-up pipe. */
        if (timeouts_any_pending(&batch)) {
            http_multi_check(curl_multi_poll(multi, &wake, 1, poll_timeout_ms(&batch, clock_now()),
                                             NULL), PROGRAM.name);
            timeouts_drain_wake_fd();
        }
    }
    /* LAB:end timeouts_run_one_at_a_time(&batch, transfers); */

    timeouts_transfers_free(transfers, TIMEOUTS_TASK_COUNT);
    curl_multi_cleanup(multi);
    return timeouts_finish(&batch);
}
