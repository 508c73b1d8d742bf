/*
 * retry.h - the timeouts lesson's retry policy (docs/timeouts.md,
 * "Retries"): which failures are worth another attempt, and how long to
 * wait before it.
 *
 * The wait before retry number `retry` (1, 2, ...) is exponential,
 * base * 2^(retry-1), jittered down by at most half from the task's own
 * seeded random numbers (--seed), and never shorter than the Retry-After
 * the server asked for.
 */
#ifndef ASYNCLAB_TIMEOUTS_RETRY_H
#define ASYNCLAB_TIMEOUTS_RETRY_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "outcome.h"

struct timeouts_batch;

/* Backoff before the first retry, in the lesson's seconds (before --scale). */
#define TIMEOUTS_BACKOFF_BASE_S 0.5
/* A server may ask for any Retry-After; we wait at most this long. */
#define TIMEOUTS_RETRY_AFTER_MAX_S 60.0

/* True if an attempt that ended so deserves another. */
bool retry_worth_it(enum timeouts_outcome outcome, long status);

/* The reply's Retry-After in seconds, or -1 if there is none we can use. */
double retry_after_of(CURL *easy);

/* The first state of task `number`'s random numbers under `seed`. */
uint64_t retry_jitter_start(long seed, int number);

/* The wait before retry number `retry`, drawn from *jitter_state (which it
 * advances); retry_after < 0: the server sent none. */
double timeouts_retry_wait(const struct timeouts_batch *batch, uint64_t *jitter_state,
                           int retry, double retry_after);

#endif
