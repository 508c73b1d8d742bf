/*
 * timeouts/sync.c - a mixed batch of requests, one after another, each
 * bounded by a timeout.
 *
 * Demonstrates: every wait needs a limit, and with blocking calls the
 * limits add up.  The batch is a fast reply, a slow one that beats its
 * timeout, one slower than its timeout, /hang (which never answers), a 500
 * and a 503.  curl_easy_perform blocks until the reply, the timeout
 * (CURLOPT_TIMEOUT_MS) or the batch's --deadline, whichever comes first, so
 * the run takes the SUM of the waits: about 6.7 s at the lesson's numbers.
 * With --timeout 0 the program waits on /hang forever and only Ctrl+C ends
 * it; the progress callback below is how a blocking transfer notices.
 * Compare with async.c; docs/timeouts.md explains both.
 *
 *     build/bin/timeouts_sync [--timeout S] [--deadline S] [--fail-fast]
 *                             [--retries N] [--seed N] [--scale F]
 */
#include <math.h>
#include <poll.h>

#include "clock.h"
#include "http.h"
#include "output.h"
#include "timeouts.h"

static const char PROGRAM[] = "timeouts_sync";

/* libcurl's limit for one transfer in milliseconds; 0 means none. */
static long limit_ms(double seconds)
{
    if (seconds <= 0 || seconds >= TIMEOUTS_NO_LIMIT)
        return 0;
    return seconds * 1000 < 1 ? 1 : (long)ceil(seconds * 1000);
}

/* libcurl calls this while a transfer runs (on progress, and at least once
 * a second); a non-zero return aborts the transfer.  It is the only way to
 * stop a blocking curl_easy_perform from outside: Ctrl+C sets the flag. */
static int abort_on_interrupt(void *data, curl_off_t download_total, curl_off_t downloaded,
                              curl_off_t upload_total, curl_off_t uploaded)
{
    (void)data, (void)download_total, (void)downloaded, (void)upload_total, (void)uploaded;
    return timeouts_interrupted();
}

/* Sleeps until `when` (a clock_now() value); Ctrl+C wakes it early.  Waiting
 * in poll() on the wake-up pipe rather than in sleep() closes the gap where
 * a signal arriving just before the sleep would be noticed only after it. */
static void sleep_until(double when)
{
    struct pollfd wake = { timeouts_wake_fd(), POLLIN, 0 };
    double left;
    while (!timeouts_interrupted() && (left = when - clock_now()) > 0)
        poll(&wake, 1, (int)ceil(left * 1000));
}

/* Runs one task to its end: each attempt blocks until its reply, its
 * timeout or the deadline; a retry first sleeps through its backoff. */
static void run_task(struct timeouts_batch *batch, CURL *easy, struct http_body *body,
                     struct timeouts_task *task)
{
    for (;;) {
        /* The attempt may last its timeout, but never past the deadline:
         * bounding it by what remains is how a blocking program keeps one. */
        double per_attempt = batch->timeout > 0 ? batch->timeout : TIMEOUTS_NO_LIMIT;
        double limit = fmin(per_attempt, timeouts_time_left(batch, clock_now()));
        http_body_reset(body);
        curl_easy_setopt(easy, CURLOPT_URL, task->url);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, limit_ms(limit));
        timeouts_attempt_started(batch, task);

        CURLcode result = curl_easy_perform(easy);  /* blocks: nothing else happens */

        if (timeouts_attempt_finished(batch, task, easy, result) == TIMEOUTS_TASK_DONE)
            return;
        /* Back off before the retry, but not past the deadline. */
        double now = clock_now();
        sleep_until(fmin(task->retry_at, now + timeouts_time_left(batch, now)));
        if (timeouts_interrupted()) {
            timeouts_task_cancel(batch, task, TIMEOUTS_BY_INTERRUPT);
            return;
        }
        if (timeouts_time_left(batch, clock_now()) <= 0) {
            timeouts_task_cancel(batch, task, TIMEOUTS_BY_DEADLINE);
            return;
        }
    }
}

int main(int argc, char **argv)
{
    struct timeouts_batch batch;
    int early_exit = timeouts_setup(&batch, PROGRAM, false, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    struct http_body body = { 0 };
    CURL *easy = http_easy_new(&body);
    if (easy == NULL) {
        output_error(PROGRAM, "out of memory");
        timeouts_free(&batch);
        return EXIT_SETUP;
    }
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, abort_on_interrupt);

    /* One task after another.  A task that cannot start any more (Ctrl+C,
     * an earlier failure with --fail-fast, the deadline passed) is
     * cancelled, so the summary still accounts for every one. */
    for (int i = 0; i < TIMEOUTS_TASK_COUNT; i++) {
        struct timeouts_task *task = &batch.tasks[i];
        if (timeouts_interrupted())
            timeouts_task_cancel(&batch, task, TIMEOUTS_BY_INTERRUPT);
        else if (batch.fail_fast && batch.first_failure != NULL)
            timeouts_task_cancel(&batch, task, TIMEOUTS_BY_FAIL_FAST);
        else if (timeouts_time_left(&batch, clock_now()) <= 0)
            timeouts_task_cancel(&batch, task, TIMEOUTS_BY_DEADLINE);
        else
            run_task(&batch, easy, &body, task);
    }

    curl_easy_cleanup(easy);
    http_body_free(&body);
    return timeouts_finish(&batch);
}
