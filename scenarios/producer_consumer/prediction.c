/* prediction.c - --predict for the producer-consumer lesson; see prediction.h. */
#include "prediction.h"

#include <stdlib.h>

#include "output.h"
#include "producer_consumer.h"

/* Removes the transfers that end at `now` from `ends` (their end times);
 * returns how many are left.  Ties within a nanosecond count as one moment. */
static long remove_ended(double *ends, long count, double now, long *ended)
{
    long kept = 0;
    for (long i = 0; i < count; i++)
        if (ends[i] > now + 1e-9)
            ends[kept++] = ends[i];
    if (ended != NULL)
        *ended = count - kept;
    return kept;
}

static double earliest(const double *a, long a_count, const double *b, long b_count)
{
    double first = a_count > 0 ? a[0] : b[0];
    for (long i = 0; i < a_count; i++)
        first = a[i] < first ? a[i] : first;
    for (long i = 0; i < b_count; i++)
        first = b[i] < first ? b[i] : first;
    return first;
}

/*
 * The pipeline model: async.c's own rules played out on paper with exact
 * delays and no overheads.  Consumers take from the queue, producers start
 * fetches while a slot is idle and the queue has room for them, then time
 * jumps to the next transfer that ends.  Roughly, the slower stage sets the
 * pace: about max(N/P x F, N/C x D) plus one item's worth of the other.
 */
static double simulate_pipeline(const struct pc_run *run)
{
    double *fetch_ends = calloc((size_t)run->producers, sizeof *fetch_ends);
    double *post_ends = calloc((size_t)run->consumers, sizeof *post_ends);
    double now = -1.0;
    if (fetch_ends != NULL && post_ends != NULL)
        now = 0.0;
    long next = 0, queued = 0, fetching = 0, posting = 0, landed = 0;
    while (now >= 0.0) {
        while (posting < run->consumers && queued > 0) {
            queued--;
            post_ends[posting++] = now + run->process_delay;
        }
        while (next < run->item_count && fetching < run->producers
               && pc_queue_has_room(queued, fetching, run->queue_capacity)) {
            next++;
            fetch_ends[fetching++] = now + run->fetch_delay;
        }
        if (fetching + posting == 0)
            break;
        now = earliest(fetch_ends, fetching, post_ends, posting);
        fetching = remove_ended(fetch_ends, fetching, now, &landed);
        queued += landed;
        posting = remove_ended(post_ends, posting, now, NULL);
    }
    free(fetch_ends);
    free(post_ends);
    return now;
}

void pc_print_prediction(const struct pc_run *run, bool is_async)
{
    if (!is_async)
        output_summary("Predicted time: %.3f s (sync: items x (fetch + process))",
                       (double)run->item_count * (run->fetch_delay + run->process_delay));
    else
        output_summary("Predicted time: %.3f s (async: the pipeline replayed with exact "
                       "delays; the slower stage sets the pace)",
                       simulate_pipeline(run));
}
