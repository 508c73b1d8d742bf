/*
 * timeouts/sync.c - the lesson's mixed batch, one request after another,
 * each bounded by a timeout and the whole batch by a deadline.
 *
 * The batch: a fast reply, a slow one that beats its timeout, one slower
 * than its timeout, /hang (which never answers), a 500 and a 503.
 *
 * Demonstrates: every wait needs a limit, and how the limits combine.  Each
 * attempt has its own timeout (CURLOPT_TIMEOUT_MS), the batch its --deadline;
 * --fail-fast and Ctrl+C cancel what is left, and every task is reported.
 * One after another the waits add up: curl_easy_perform blocks until the
 * reply, the timeout or the deadline, so the run takes their SUM, 6.7 s at
 * the lesson's numbers.  With --timeout 0, /hang holds it until Ctrl+C, and
 * a progress callback (interrupt.c) is how a blocking transfer notices.
 * Compare sync.c with async.c; docs/timeouts.md explains both.
 *
 *     build/bin/timeouts_sync
 *         [--timeout S] [--deadline S] [--fail-fast] [--retries N] [--seed N] [--scale F]
 */
#include "clock.h"
#include "output.h"
#include "timeouts.h"

static const struct lesson_program PROGRAM = {
    .name = "timeouts_sync",
    .purpose = "Runs a mixed batch one request after another, each with a timeout.",
    .concurrent = false,
};

/* Sets an attempt up on the one easy handle, for curl_easy_perform to send. */
static void start_attempt(struct timeouts_batch *batch,
                          struct timeouts_transfer *transfer, struct timeouts_task *task)
{
    double limit = timeouts_limit_within_deadline(batch, clock_now());  /* ends by the deadline */
    http_body_reset(&transfer->body);
    curl_easy_setopt(transfer->easy, CURLOPT_URL, task->url);
    curl_easy_setopt(transfer->easy, CURLOPT_TIMEOUT_MS, timeouts_limit_ms(limit));
    timeouts_attempt_started(batch, task);
}

/* Cancels every task that has not ended.
 * Between two attempts nothing is in flight: there is nothing to take back. */
static void cancel_the_rest(struct timeouts_batch *batch,
                            enum timeouts_cancel_reason reason)
{
    for (int i = 0; i < TIMEOUTS_TASK_COUNT; i++) {
        timeouts_task_cancel(batch, &batch->tasks[i], reason);  /* only if not ended */
    }
}

/* Reports the attempt that just ended.
 * With --fail-fast a failure cancels everything else, as an asyncio
 * TaskGroup does (plain gather does not: docs/timeouts.md). */
static void finish_attempt(struct timeouts_batch *batch, struct timeouts_task *task,
                           CURL *easy, CURLcode result)
{
    timeouts_attempt_finished(batch, task, easy, result);
    /* TIMEOUTS_TASK_RETRY: the loop starts it again at task->retry_at. */
    if (batch->fail_fast && timeouts_task_failed(task))
        cancel_the_rest(batch, TIMEOUTS_BY_FAIL_FAST);
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

    /* The loop: one task after another, each with its attempts and the
     * backoff before each retry, until every task has an outcome. */
    while (timeouts_any_pending(&batch)) {
        /* The limits the loop keeps itself: Ctrl+C, the deadline, --fail-fast.
         * The tasks left are cancelled, so the summary accounts for each. */
        enum timeouts_cancel_reason reason;
        if (timeouts_must_stop(&batch, &reason)) {
            cancel_the_rest(&batch, reason);
            break;
        }
        struct timeouts_task *task = timeouts_first_pending(&batch);
        start_attempt(&batch, transfer, task);

        CURLcode result = curl_easy_perform(transfer->easy);  /* blocks: nothing else happens */
        finish_attempt(&batch, task, transfer->easy, result);

        /* Sleep until the retry or the deadline is due, or Ctrl+C writes
         * to the wake-up pipe. */
        if (task->retry_at > 0)
            interrupt_sleep_until(timeouts_next_wake(&batch, clock_now()));
    }

    timeouts_transfers_free(transfer, 1);
    return timeouts_finish(&batch);
}
