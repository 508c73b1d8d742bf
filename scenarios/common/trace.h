/*
 * trace.h - record what each task did and when, as a Chrome trace.
 *
 * --trace FILE writes the Chrome Trace Event Format, which Perfetto
 * (https://ui.perfetto.dev) and chrome://tracing open as they are:
 *
 *   {"traceEvents":[
 *     {"name":"process_name","ph":"M","pid":1,"args":{"name":"slow_api_async"}},
 *     {"name":"thread_name","ph":"M","pid":1,"tid":1,"args":{"name":"R1"}},
 *     {"name":"thread_sort_index","ph":"M","pid":1,"tid":1,"args":{"sort_index":0}},
 *     {"name":"R1 GET /delay-me?seconds=10","ph":"X",
 *      "ts":<us from start>,"dur":<us>,"pid":1,"tid":1,"args":{"status":200,...}}, ...],
 *    "displayTimeUnit":"ms"}
 *
 * Each task is one complete ("X") event on its own row (tid), so the sync
 * run draws a staircase and the async run draws bars that overlap.  The
 * process is named after the program, rows are shown in the order they were
 * named, and tids start at 1 (Perfetto treats tid 0 as the idle task).
 * The harness reads the same files to draw its timeline charts.
 *
 * A program whose tasks all run on its one thread (every sync program, and
 * every event loop without worker threads) says so with trace_one_thread:
 * rows per task would draw threads that do not exist.  Its tasks are then
 * written as async slices ("b"/"e" pairs, "cat":"task", "id": the row,
 * "args":{"task":"R1",...}) on tid 1, the one thread, which also carries a
 * complete event ("cat":"thread") from the first task's start to the last
 * one's end: Perfetto and chrome://tracing show one thread, and a row per
 * task under it.  trace_read_tasks reads either form back.
 */
#ifndef ASYNCLAB_TRACE_H
#define ASYNCLAB_TRACE_H

#include <jansson.h>
#include <stdbool.h>

struct trace;
struct trace_event;

/* A new, empty trace whose times are measured from `origin` (a clock_now()
 * value, usually the program's start).  NULL if out of memory. */
struct trace *trace_new(double origin);

/* Records that task `tid` (1 or more) spent [start, end] (clock_now()
 * values) on `name`.
 * Returns the event so details can be attached, or NULL (out of memory;
 * the setters below accept NULL and do nothing). */
struct trace_event *trace_add(struct trace *trace, const char *name, int tid,
                              double start, double end);

void trace_set_text(struct trace_event *event, const char *key, const char *value);
void trace_set_number(struct trace_event *event, const char *key, double value);
/* For counts and codes ("status":200, not 200.0). */
void trace_set_integer(struct trace_event *event, const char *key, long long value);

/* Says that every task of this program runs on its one thread, which is an
 * event loop (true) or does one task after another (false); the thread's
 * row is named so. */
void trace_one_thread(struct trace *trace, bool event_loop);

/* Names a task's row in the viewer ("R1"), so a student can find it; rows
 * are shown in the order they are named. */
void trace_name_task(struct trace *trace, int tid, const char *label);

/* Checks before any work is done that `path` can be written, so a typo in
 * --trace fails in the first second rather than after the run.  Creates or
 * empties the file.  On failure prints one line prefixed by `program`. */
bool trace_path_writable(const char *path, const char *program);

/* Writes the trace to `path`.  Returns 0, or -1 with errno-style reason in
 * a one-line message on stderr prefixed by `program`. */
int trace_write(const struct trace *trace, const char *path, const char *program);

/* The one rule every program follows at the end of its run: writes the
 * trace if one was asked for (trace != NULL) and returns the exit status
 * to end with: `status`, or EXIT_SETUP (2) if the trace could not be
 * written, whatever the run's own outcome, because the user asked for a
 * file and has none (the error line says why). */
int trace_save(const struct trace *trace, const char *path, const char *program, int status);

/* Reads a trace file back as the tasks it holds, whichever form it was
 * written in: a JSON array of one complete ("X") event per task slice
 * (name, ts, dur, "tid": the task's row, args) and, per row, a
 * "thread_name" and a "thread_sort_index" metadata event.  *one_thread
 * (may be NULL) says whether the program declared itself one-threaded.
 * NULL, with the reason in why, if the file is not a readable trace.  The
 * caller json_decref()s the array. */
json_t *trace_read_tasks(const char *path, bool *one_thread, char *why, size_t why_size);

/* How many task events the trace holds (tests use it). */
int trace_event_count(const struct trace *trace);

void trace_free(struct trace *trace);

#endif
