/*
 * outcome.h - what an attempt's result means in the timeouts lesson: ok,
 * timed out, an HTTP error, a refused connection, something else
 * (docs/timeouts.md, "What counts as a timeout").
 *
 * libcurl reports two things about a transfer: its own result code (did
 * the transfer happen at all, and why not) and, when it did, the reply's
 * HTTP status.  A 500 is a transfer that worked and brought bad news; a
 * timeout is CURLE_OPERATION_TIMEDOUT and no reply at all.
 */
#ifndef ASYNCLAB_TIMEOUTS_OUTCOME_H
#define ASYNCLAB_TIMEOUTS_OUTCOME_H

#include <curl/curl.h>
#include <stdbool.h>

/* How a task ended.  PENDING: it has not ended yet (in flight, or waiting
 * to be retried, or not started). */
enum timeouts_outcome {
    TIMEOUTS_PENDING,
    TIMEOUTS_OK,
    TIMEOUTS_TIMED_OUT,
    TIMEOUTS_HTTP_ERROR,
    TIMEOUTS_REFUSED,
    TIMEOUTS_TRANSPORT_ERROR,  /* any other libcurl error */
    TIMEOUTS_CANCELLED,
};

/* What the attempt on `easy` that ended with `result` and HTTP `status`
 * (0: no reply) amounts to. */
enum timeouts_outcome outcome_of_attempt(CURL *easy, CURLcode result, long status);

/* True for an outcome that counts as a failure: anything that ended but
 * did not succeed and was not cancelled. */
bool outcome_is_failure(enum timeouts_outcome outcome);

/* "ok", "timed out", "http error", ... for traces and summaries. */
const char *outcome_name(enum timeouts_outcome outcome);

#endif
