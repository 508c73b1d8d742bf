/*
 * clock.h - elapsed time the way benchmarks need it.
 *
 * CLOCK_MONOTONIC never jumps when the wall clock is adjusted (NTP, a user
 * changing the date), so differences of it are true durations.  Every time in
 * asynclab is "seconds since some earlier clock_now()", as a double.
 */
#ifndef ASYNCLAB_CLOCK_H
#define ASYNCLAB_CLOCK_H

/* Seconds on the monotonic clock, from an arbitrary origin. */
double clock_now(void);

#endif
