/*
 * staging.h - a run's results are written into a fresh directory and
 * replace the old ones only when the run is complete.
 *
 * bench writes many files (hyperfine JSON, traces, summary.json).  Written
 * straight into results/, an interrupted run would leave some new files
 * among old ones, and the next report would show the new numbers under the
 * old run's header.  So the run writes into DIR/.incomplete-XXXXXX/ (same
 * file system, hidden), and staging_publish moves each file into DIR with
 * rename(2), summary.json last: until then DIR is exactly the old run.
 */
#ifndef ASYNCLAB_HARNESS_STAGING_H
#define ASYNCLAB_HARNESS_STAGING_H

#include <stdbool.h>
#include <stddef.h>

/* The staging directory's name inside DIR, before mkdtemp's suffix. */
#define STAGING_PREFIX ".incomplete-"

/* Creates DIR/.incomplete-XXXXXX and its subdirectory `subdir` (NULL: none);
 * its path goes into staging.  False, after one line prefixed by program,
 * if it cannot. */
bool staging_create(const char *program, const char *dir, const char *subdir, char *staging,
                    size_t size);

/* Moves every file in staging (and one level of subdirectories) to the
 * same place in dir, `last` (e.g. "summary.json") after all the others,
 * then removes staging.  False, after one line, if a file could not be moved. */
bool staging_publish(const char *program, const char *staging, const char *dir, const char *last);

/* Removes staging and everything in it: the run is abandoned. */
void staging_discard(const char *staging);

#endif
