/*
 * seed.h - random work that is the same every time for the same seed, so
 * `--seed N` gives each student a problem of their own and the grader can
 * hand out work that printed answers cannot match (docs/labs/README.md).
 *
 * splitmix64 (Steele, Lea and Flood, 2014): a 64-bit state and a few
 * multiplies, plenty for drawing delays; not for anything secret.
 */
#ifndef ASYNCLAB_SEED_H
#define ASYNCLAB_SEED_H

#include <stdint.h>

/* What `--seed` accepts, in every program that takes one (the lessons, the
 * grader and grade_all): a seed fits a signed 32-bit number, so it can be
 * written into a trace or a CSV and read back anywhere. */
#define SEED_MAX 2147483647L
#define SEED_EXPECTED "a whole number from 0 to 2147483647"

struct seed { uint64_t state; };

struct seed seed_start(uint64_t seed);

/* The next 64 random bits. */
uint64_t seed_next(struct seed *seed);

/* A whole number from low to high, both included. */
long seed_between(struct seed *seed, long low, long high);

/* One of low, low + step, ..., up to high: delays that print short ("0.35"). */
double seed_step(struct seed *seed, double low, double high, double step);

#endif
