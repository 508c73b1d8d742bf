/*
 * scratch.h - a private folder under /tmp for one harness run (the built
 * submission, its traces, a seeded database, unpacked handins), removed
 * with everything in it at the end.
 */
#ifndef ASYNCLAB_HARNESS_SCRATCH_H
#define ASYNCLAB_HARNESS_SCRATCH_H

#include <stdbool.h>
#include <stddef.h>

/* Makes /tmp/asynclab-<purpose>-XXXXXX into dir; false after a message. */
bool scratch_make(const char *program, const char *purpose, char *dir, size_t size);

/* Removes dir and everything under it (nothing is followed out of it). */
void scratch_remove(const char *dir);

#endif
