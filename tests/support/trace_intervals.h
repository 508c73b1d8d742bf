/*
 * trace_intervals.h - the tasks in a program's Chrome trace (--trace FILE)
 * as [start, end] intervals, and whether they overlapped.
 *
 * This is how the integration tests prove concurrency from the programs'
 * own records without timing anything: a sync program's tasks never share
 * a moment, an async one's all do.  Times are the trace's microseconds.
 */
#ifndef ASYNCLAB_TEST_TRACE_INTERVALS_H
#define ASYNCLAB_TEST_TRACE_INTERVALS_H

#include <stdbool.h>
#include <stddef.h>

/* Reads the trace at path and stores each complete ("X") event's
 * [ts, ts + dur] in intervals, in file order; with name_prefix non-NULL,
 * only the events whose name starts with it.  Fails the running cmocka
 * test if the file cannot be read or holds more than capacity such events.
 * Returns how many it stored. */
size_t test_trace_intervals(const char *path, const char *name_prefix,
                            long long (*intervals)[2], size_t capacity);

/* Fails the running cmocka test unless the trace at path opens well in
 * Perfetto and chrome://tracing: its process is named `program`; every
 * event's tid is 1 or more and has a sort index; a one-thread program's
 * tasks are async slices on tid 1 (with one span of the thread itself), a
 * threaded program's are complete events; and the args that are counts or
 * codes (status, attempt, item, rows, ...) are JSON integers. */
void test_assert_trace_viewable(const char *path, const char *program, bool one_thread);

/* True if some moment lies inside every one of the count (>= 1) intervals. */
bool test_all_overlap(long long (*intervals)[2], size_t count);

/* True if no two of the count intervals share any time. */
bool test_none_overlap(long long (*intervals)[2], size_t count);

#endif
