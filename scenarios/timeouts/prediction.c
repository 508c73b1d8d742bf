/* prediction.c - the lesson's model of a batch; see prediction.h. */
#include "prediction.h"

#include <math.h>

#include "output.h"
#include "retry.h"
#include "timeouts.h"

/* How long one task takes under the model, and whether it ends well. */
static double predict_task(const struct timeouts_batch *batch, const struct timeouts_task *task,
                           bool *ok)
{
    double limit = batch->timeout > 0 ? batch->timeout : INFINITY;
    if (task->delay < 0) {
        *ok = false;
        return limit;
    }
    if (task->delay >= limit) {
        *ok = false;
        return limit;
    }
    *ok = task->asks_status == 0;
    if (!retry_worth_it(TIMEOUTS_HTTP_ERROR, task->asks_status))
        return task->delay;
    double total = task->delay;
    uint64_t jitter = task->jitter_state;  /* a copy: the run draws the same numbers */
    for (int retry = 1; retry <= batch->retries; retry++)
        total += timeouts_retry_wait(batch, &jitter, retry, task->asks_retry_after) + task->delay;
    return total;
}

void timeouts_print_prediction(const struct timeouts_batch *batch, bool is_async)
{
    double total = 0, earliest_failure = INFINITY;
    bool any_failure = false;
    for (int i = 0; i < TIMEOUTS_TASK_COUNT; i++) {
        bool ok;
        double took = predict_task(batch, &batch->tasks[i], &ok);
        if (is_async)
            total = fmax(total, took);   /* all at once: the longest */
        else if (!(batch->fail_fast && any_failure))
            total += took;               /* one after another: the sum */
        if (!ok) {
            earliest_failure = fmin(earliest_failure, took);
            any_failure = true;
        }
    }
    /* All at once, fail-fast ends the batch when the first failure comes. */
    if (is_async && batch->fail_fast && any_failure)
        total = earliest_failure;
    if (batch->deadline > 0)
        total = fmin(total, batch->deadline);
    const char *model = is_async ? "async: the longest wait, each bounded by its timeout"
                                 : "sync: the sum of the waits, each bounded by its timeout";
    if (isinf(total))
        output_summary("Predicted time: never (/hang never answers and nothing bounds the wait: "
                       "--timeout 0 and no --deadline; only Ctrl+C ends it)");
    else
        output_summary("Predicted time: %.3f s (%s%s%s)", total, model,
                       batch->fail_fast ? ", stopping at the first failure" : "",
                       batch->deadline > 0 ? ", cut at the deadline" : "");
}
