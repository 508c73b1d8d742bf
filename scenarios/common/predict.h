/*
 * predict.h - what the lessons' simple model says a run should take.
 *
 * Tasks of known duration start in order, at most `concurrency` at a time,
 * each as soon as a slot frees up.  With concurrency 1 that is the sync
 * program: the sum of the durations.  With unlimited concurrency it is the
 * async ideal: the longest one.  In between it is "curl's 10 at a time".
 * Real runs add overheads the model ignores; the harness compares the two.
 */
#ifndef ASYNCLAB_PREDICT_H
#define ASYNCLAB_PREDICT_H

#include <stddef.h>

/* Seconds until the last of `count` tasks ends.  concurrency <= 0 means
 * unlimited. */
double predict_makespan(const double *durations, size_t count, long concurrency);

#endif
