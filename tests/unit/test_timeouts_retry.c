/*
 * Unit tests: the timeouts lesson's retry policy (scenarios/timeouts/
 * timeouts.c): exponential backoff, jitter that keeps at least half of each
 * wait, the server's Retry-After as a floor, and a seed that makes it all
 * repeatable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "timeouts.h"

static struct timeouts_batch batch_at_scale(double scale)
{
    struct timeouts_batch batch;
    memset(&batch, 0, sizeof batch);
    batch.common.scale = scale;
    return batch;
}

/* Retry k waits between half and all of base * 2^(k-1). */
static void waits_grow_exponentially_within_their_jitter(void **state)
{
    (void)state;
    struct timeouts_batch batch = batch_at_scale(1.0);
    uint64_t jitter = 42;
    for (int retry = 1; retry <= 6; retry++) {
        double ceiling = TIMEOUTS_BACKOFF_BASE_S * (double)(1 << (retry - 1));
        double wait = timeouts_retry_wait(&batch, &jitter, retry, -1);
        assert_true(wait >= ceiling / 2);
        assert_true(wait <= ceiling);
    }
}

static void scale_shrinks_the_backoff(void **state)
{
    (void)state;
    struct timeouts_batch batch = batch_at_scale(0.01);
    uint64_t jitter = 42;
    double wait = timeouts_retry_wait(&batch, &jitter, 1, -1);
    assert_true(wait <= TIMEOUTS_BACKOFF_BASE_S * 0.01);
    assert_true(wait > 0);
}

/* The server's Retry-After is a floor, capped so a server cannot park us. */
static void retry_after_is_honoured_and_capped(void **state)
{
    (void)state;
    struct timeouts_batch batch = batch_at_scale(1.0);
    uint64_t jitter = 42;
    assert_true(timeouts_retry_wait(&batch, &jitter, 1, 7.0) == 7.0);
    /* Shorter than the backoff: the backoff wins. */
    double wait = timeouts_retry_wait(&batch, &jitter, 3, 0.0);
    assert_true(wait >= TIMEOUTS_BACKOFF_BASE_S * 2);
    assert_true(timeouts_retry_wait(&batch, &jitter, 1, 86400.0) == TIMEOUTS_RETRY_AFTER_MAX_S);
}

/* Same seed, same waits; another seed, other waits. */
static void the_seed_makes_the_jitter_repeatable(void **state)
{
    (void)state;
    struct timeouts_batch batch = batch_at_scale(1.0);
    uint64_t first = 7, second = 7, other = 8;
    bool any_difference = false;
    for (int retry = 1; retry <= 5; retry++) {
        double a = timeouts_retry_wait(&batch, &first, retry, -1);
        double b = timeouts_retry_wait(&batch, &second, retry, -1);
        double c = timeouts_retry_wait(&batch, &other, retry, -1);
        assert_true(a == b);
        any_difference = any_difference || a != c;
    }
    assert_true(any_difference);
}

/* A blocking attempt is bounded by what is left of the deadline, and a
 * deadline that has already passed still bounds it: the smallest limit
 * libcurl takes, never 0, which to libcurl means no limit at all. */
static void a_passed_deadline_still_bounds_an_attempt(void **state)
{
    (void)state;
    struct timeouts_batch batch = batch_at_scale(1.0);
    double now = 100.0;
    batch.timeout = 0;  /* --timeout 0: no per-attempt limit */
    assert_int_equal(timeouts_limit_ms(timeouts_limit_within_deadline(&batch, now)), 0);

    batch.deadline_at = now + 0.25;
    assert_int_equal(timeouts_limit_ms(timeouts_limit_within_deadline(&batch, now)), 250);
    batch.deadline_at = now;
    assert_int_equal(timeouts_limit_ms(timeouts_limit_within_deadline(&batch, now)), 1);
    batch.deadline_at = now - 3;
    assert_int_equal(timeouts_limit_ms(timeouts_limit_within_deadline(&batch, now)), 1);

    batch.timeout = 2;
    assert_int_equal(timeouts_limit_ms(timeouts_limit_within_deadline(&batch, now)), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(waits_grow_exponentially_within_their_jitter),
        cmocka_unit_test(scale_shrinks_the_backoff),
        cmocka_unit_test(retry_after_is_honoured_and_capped),
        cmocka_unit_test(the_seed_makes_the_jitter_repeatable),
        cmocka_unit_test(a_passed_deadline_still_bounds_an_attempt),
    };
    return cmocka_run_group_tests_name("timeouts_retry", tests, NULL, NULL);
}
