/*
 * timeouts/async.c - the lesson's mixed batch, all at once,
 * each bounded by a timeout and the whole batch by a deadline.
 *
 * The batch: a fast reply, a slow one that beats its timeout, one slower
 * than its timeout, /hang (which never answers), a 500 and a 503.
 *
 * Demonstrates: every wait needs a limit, and how the limits combine.  Each
 * attempt has its own timeout (CURLOPT_TIMEOUT_MS), the batch its --deadline;
 * --fail-fast and Ctrl+C cancel what is left, and every task is reported.
 * All at once, concurrency turns N timeouts into one: the six requests are
 * in flight together on one libcurl multi handle, so the run takes about the
 * LONGEST allowed wait (2 s at the lesson's numbers) instead of the sum, and
 * the event loop keeps the deadline, the retries and the cancelling itself.
 * Compare sync.c with async.c; docs/timeouts.md explains both.
 * (LAB:cut/LAB:end: what the lab's starter leaves out; docs/labs/README.md.)
 *
 *     build/bin/timeouts_async
 *         [--timeout S] [--deadline S] [--fail-fast] [--retries N] [--seed N] [--scale F]
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

/* LAB:cut write start_attempt (its own CURLOPT_TIMEOUT_MS), cancel_the_rest
 * (remove every transfer still in flight, cancel every task not ended),
 * finish_attempt (report it; with --fail-fast cancel the rest), start_due_retries,
 * and poll_timeout_ms (sleep no longer than until the deadline or next retry). */
/* Hands an attempt to the multi handle and returns at once: nothing waits. */
static void start_attempt(struct timeouts_batch *batch, CURLM *multi,
                          struct timeouts_transfer *transfer, struct timeouts_task *task)
{
    double limit = batch->timeout;  /* its own timeout: the loop keeps the deadline */
    http_body_reset(&transfer->body);
    curl_easy_setopt(transfer->easy, CURLOPT_URL, task->url);
    curl_easy_setopt(transfer->easy, CURLOPT_TIMEOUT_MS, timeouts_limit_ms(limit));
    curl_easy_setopt(transfer->easy, CURLOPT_PRIVATE, task);
    timeouts_attempt_started(batch, task);
    curl_multi_add_handle(multi, transfer->easy);  /* queued, not sent yet */
}

/* Cancels every task that has not ended.
 * Every transfer still in flight comes off the multi handle, which closes its
 * connection: the server sees the client hang up and stops holding it. */
static void cancel_the_rest(struct timeouts_batch *batch,
                            CURLM *multi, struct timeouts_transfer *transfers,
                            enum timeouts_cancel_reason reason)
{
    for (int i = 0; i < TIMEOUTS_TASK_COUNT; i++) {
        if (batch->tasks[i].attempt_open)
            curl_multi_remove_handle(multi, transfers[i].easy);
        timeouts_task_cancel(batch, &batch->tasks[i], reason);  /* only if not ended */
    }
}

/* Reports the attempt that just ended and takes it off the multi handle.
 * With --fail-fast a failure cancels everything else, as an asyncio
 * TaskGroup does (plain gather does not: docs/timeouts.md). */
static void finish_attempt(struct timeouts_batch *batch, CURLM *multi,
                           struct timeouts_transfer *transfers, CURLMsg *message)
{
    CURL *easy = message->easy_handle;
    struct timeouts_task *task = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&task);
    curl_multi_remove_handle(multi, easy);
    CURLcode result = message->data.result;
    timeouts_attempt_finished(batch, task, easy, result);
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

/* How long the loop may sleep: until the deadline or the next retry that is
 * due, at most a second; libcurl itself cuts it short for a transfer's timeout. */
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

    /* LAB:cut replace this one-at-a-time run with the event loop: every task
     * at once, then each turn: stop (cancel_the_rest) if timeouts_must_stop,
     * start due retries, curl_multi_perform and finish what it reports, then
     * sleep in curl_multi_poll (with the wake-up pipe) for poll_timeout_ms. */
    /* The event loop: all tasks at once, each with its attempts and the
     * backoff before each retry, until every task has an outcome. */
    for (int i = 0; i < TIMEOUTS_TASK_COUNT; i++)
        start_attempt(&batch, multi, &transfers[i], &batch.tasks[i]);
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
