/*
 * timeouts/sync.c - a mixed batch of requests, one after another, each
 * bounded by a timeout.
 *
 * The batch: a fast reply, a slow one that beats its timeout, one slower
 * than its timeout, /hang (which never answers), a 500 and a 503.
 *
 * Demonstrates: every wait needs a limit, and with blocking calls the
 * limits add up.  curl_easy_perform blocks until the reply, the timeout
 * (CURLOPT_TIMEOUT_MS) or the batch's --deadline, whichever comes first, so
 * the run takes the SUM of the waits: about 6.7 s at the lesson's numbers.
 * With --timeout 0 the program waits on /hang forever and only Ctrl+C ends
 * it; a progress callback (interrupt.c) is how a blocking transfer notices.
 * Compare with async.c; docs/timeouts.md explains both.
 *
 *     build/bin/timeouts_sync [--timeout S] [--deadline S] [--fail-fast]
 *                             [--retries N] [--seed N] [--scale F]
 */
#include <math.h>

#include "clock.h"
#include "output.h"
#include "timeouts.h"

static const struct lesson_program PROGRAM = {
    .name = "timeouts_sync",
    .purpose = "Runs a mixed batch one request after another, each with a timeout.",
    .concurrent = false,
};

/* Sends an attempt and waits, doing nothing else, until its reply, its
 * timeout or the deadline: each attempt is bounded by what remains of the
 * deadline, which is how a blocking program keeps one. */
static void run_attempt(struct timeouts_batch *batch,
                        struct timeouts_transfer *transfer, struct timeouts_task *task)
{
    double per_attempt = batch->timeout > 0 ? batch->timeout : TIMEOUTS_NO_LIMIT;
    double limit = fmin(per_attempt, timeouts_time_left(batch, clock_now()));
    http_body_reset(&transfer->body);
    curl_easy_setopt(transfer->easy, CURLOPT_URL, task->url);
    curl_easy_setopt(transfer->easy, CURLOPT_TIMEOUT_MS, timeouts_limit_ms(limit));
    timeouts_attempt_started(batch, task);

    CURLcode result = curl_easy_perform(transfer->easy);  /* blocks: nothing else happens */
    timeouts_attempt_finished(batch, task, transfer->easy, result);
    /* TIMEOUTS_TASK_RETRY: the loop starts it again at task->retry_at. */
}

/* Cancels every task that has not ended.  Between two attempts nothing is
 * in flight: one transfer at a time has nothing else to take back. */
static void cancel_the_rest(struct timeouts_batch *batch, enum timeouts_cancel_reason reason)
{
    for (int i = 0; i < TIMEOUTS_TASK_COUNT; i++)
        timeouts_task_cancel(batch, &batch->tasks[i], reason);  /* only if not ended */
}

int main(int argc, char **argv)
{
    struct timeouts_batch batch;
    int early_exit = timeouts_setup(&batch, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    /* One transfer for every attempt: its handle keeps the connection. */
    struct timeouts_transfer *transfer = timeouts_transfers_new(1);
    if (transfer == NULL) {
        output_error(PROGRAM.name, "out of memory");
        timeouts_abandon(&batch);
        return EXIT_SETUP;
    }
    curl_easy_setopt(transfer->easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(transfer->easy, CURLOPT_XFERINFOFUNCTION, interrupt_abort_transfer);

    /* One task after another, each run to its end: its attempts, and the
     * backoff before each retry. */
    while (timeouts_any_pending(&batch)) {
        /* The limits the loop keeps itself: Ctrl+C, the deadline, --fail-fast.
         * The tasks left are cancelled, so the summary accounts for each. */
        enum timeouts_cancel_reason reason;
        if (timeouts_must_stop(&batch, &reason)) {
            cancel_the_rest(&batch, reason);
            break;
        }
        struct timeouts_task *task = timeouts_first_pending(&batch);
        run_attempt(&batch, transfer, task);

        /* Sleep until the retry or the deadline is due, or Ctrl+C writes
         * to the wake-up pipe. */
        if (task->retry_at > 0)
            interrupt_sleep_until(timeouts_next_wake(&batch, clock_now()));
    }

    timeouts_transfers_free(transfer, 1);
    return timeouts_finish(&batch);
}
