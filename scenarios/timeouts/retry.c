/* retry.c - the retry policy; see retry.h. */
#include "retry.h"

#include <math.h>

#include "parse.h"
#include "timeouts.h"

/* 429 Too Many Requests and 503 Service Unavailable mean "try again later";
 * a refused connection may be a server restarting.  A timeout is not
 * retried: it has already used up its whole allowance once, and a 500 is a
 * bug that the same request will hit again. */
bool retry_worth_it(enum timeouts_outcome outcome, long status)
{
    return outcome == TIMEOUTS_REFUSED
        || (outcome == TIMEOUTS_HTTP_ERROR && (status == 429 || status == 503));
}

/* Only the delay-seconds form is read; the HTTP-date form, which
 * slowserver never sends, falls back to the backoff alone. */
double retry_after_of(CURL *easy)
{
    struct curl_header *header = NULL;
    double seconds;
    if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &header) != CURLHE_OK
        || !parse_double_in(header->value, 0.0, 1e9, &seconds))
        return -1;
    return seconds;
}

/* SplitMix64 (Steele, Lea and Flood, 2014): a tiny generator whose whole
 * state is one number, so every task can have its own and the jitter does
 * not depend on the order in which tasks happen to need it. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A number in [0, 1). */
static double random_fraction(uint64_t *state)
{
    return (double)(next_random(state) >> 11) / 9007199254740992.0;  /* 2^53 */
}

uint64_t retry_jitter_start(long seed, int number)
{
    return (uint64_t)seed * 1000003u + (uint64_t)number;
}

double timeouts_retry_wait(const struct timeouts_batch *batch, uint64_t *jitter_state,
                           int retry, double retry_after)
{
    /* Exponential: each retry waits twice as long as the one before, so a
     * struggling server gets more and more room. */
    double ceiling = TIMEOUTS_BACKOFF_BASE_S * batch->common.scale * ldexp(1.0, retry - 1);
    /* Jitter: a random part of the wait, so many clients that failed
     * together do not all come back at the same instant.  Half of it is
     * kept so the waits still grow. */
    double wait = ceiling * (0.5 + 0.5 * random_fraction(jitter_state));
    /* The server knows best: never come back sooner than it asked. */
    if (retry_after >= 0)
        wait = fmax(wait, fmin(retry_after, TIMEOUTS_RETRY_AFTER_MAX_S));
    return wait;
}
