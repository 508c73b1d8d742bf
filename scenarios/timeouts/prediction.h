/*
 * prediction.h - --predict for the timeouts lesson: what the lesson's model
 * says the batch takes, printed without sending a request
 * (docs/timeouts.md, "Predict first").
 *
 * A reply takes its delay unless the timeout is shorter; /hang takes the
 * timeout (for ever without one); a retried 503 adds its waits, known in
 * advance because the jitter is seeded.  One after another the times add
 * up; all at once the longest counts; --fail-fast and --deadline cut both.
 */
#ifndef ASYNCLAB_TIMEOUTS_PREDICTION_H
#define ASYNCLAB_TIMEOUTS_PREDICTION_H

#include <stdbool.h>

struct timeouts_batch;

/* Prints "Predicted time: ..." for the batch as set up. */
void timeouts_print_prediction(const struct timeouts_batch *batch, bool is_async);

#endif
