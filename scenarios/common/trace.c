/*
 * trace.c - builds a Chrome trace in memory with jansson and writes it once.
 *
 * Keeping the events in memory until the end means the timed work never
 * waits for the disk; one event is a few hundred bytes, so even the 10 000
 * request runs stay small.
 */
#include "trace.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct trace {
    double origin;
    json_t *events;  /* the traceEvents array */
    int task_events;
    int named_rows;  /* the next row's place in the viewer */
};

/* Our events are jansson objects; the opaque type only hides that. */
static json_t *as_json(struct trace_event *event)
{
    return (json_t *)event;
}

struct trace *trace_new(double origin)
{
    struct trace *trace = calloc(1, sizeof *trace);
    if (trace == NULL)
        return NULL;
    trace->origin = origin;
    trace->events = json_array();
    if (trace->events == NULL) {
        free(trace);
        return NULL;
    }
    /* The viewer's heading for all the rows: which program this was (glibc
     * keeps the name the program was started by). */
    json_t *process = json_pack("{s:s, s:s, s:i, s:{s:s}}", "name", "process_name", "ph", "M",
                                "pid", 1, "args", "name", program_invocation_short_name);
    if (process != NULL)
        json_array_append_new(trace->events, process);
    return trace;
}

/* Trace times are whole microseconds since the origin. */
static json_int_t microseconds_since(const struct trace *trace, double when)
{
    return (json_int_t)llround((when - trace->origin) * 1e6);
}

struct trace_event *trace_add(struct trace *trace, const char *name, int tid,
                              double start, double end)
{
    if (trace == NULL)
        return NULL;
    json_int_t ts = microseconds_since(trace, start);
    json_int_t dur = microseconds_since(trace, end) - ts;
    json_t *event = json_pack("{s:s, s:s, s:I, s:I, s:i, s:i, s:{}}",
                              "name", name, "ph", "X", "ts", ts, "dur", dur < 0 ? 0 : dur,
                              "pid", 1, "tid", tid, "args");
    if (event == NULL || json_array_append_new(trace->events, event) != 0)
        return NULL;
    trace->task_events++;
    return (struct trace_event *)event;
}

void trace_set_text(struct trace_event *event, const char *key, const char *value)
{
    if (event != NULL && value != NULL)
        json_object_set_new(json_object_get(as_json(event), "args"), key, json_string(value));
}

void trace_set_number(struct trace_event *event, const char *key, double value)
{
    if (event != NULL)
        json_object_set_new(json_object_get(as_json(event), "args"), key, json_real(value));
}

void trace_set_integer(struct trace_event *event, const char *key, long long value)
{
    if (event != NULL)
        json_object_set_new(json_object_get(as_json(event), "args"), key,
                            json_integer((json_int_t)value));
}

void trace_name_task(struct trace *trace, int tid, const char *label)
{
    if (trace == NULL)
        return;
    /* Metadata ("M") events: the viewer shows `label` as the row's name, and
     * the rows in sort_index order rather than by tid or by first event. */
    json_t *name = json_pack("{s:s, s:s, s:i, s:i, s:{s:s}}", "name", "thread_name", "ph", "M",
                             "pid", 1, "tid", tid, "args", "name", label);
    json_t *order = json_pack("{s:s, s:s, s:i, s:i, s:{s:i}}", "name", "thread_sort_index",
                              "ph", "M", "pid", 1, "tid", tid, "args", "sort_index",
                              trace->named_rows++);
    if (name != NULL)
        json_array_append_new(trace->events, name);
    if (order != NULL)
        json_array_append_new(trace->events, order);
}

bool trace_path_writable(const char *path, const char *program)
{
    FILE *file = fopen(path, "w");
    if (file == NULL) {
        fprintf(stderr, "%s: cannot write trace '%s': %s\n", program, path, strerror(errno));
        return false;
    }
    fclose(file);
    return true;
}

int trace_write(const struct trace *trace, const char *path, const char *program)
{
    json_t *document = json_pack("{s:O, s:s}", "traceEvents", trace->events,
                                 "displayTimeUnit", "ms");
    if (document == NULL) {
        fprintf(stderr, "%s: cannot build the trace (out of memory)\n", program);
        return -1;
    }
    int result = json_dump_file(document, path, JSON_COMPACT);
    json_decref(document);
    if (result != 0) {
        fprintf(stderr, "%s: cannot write trace '%s': %s\n", program, path, strerror(errno));
        return -1;
    }
    return 0;
}

int trace_event_count(const struct trace *trace)
{
    return trace ? trace->task_events : 0;
}

void trace_free(struct trace *trace)
{
    if (trace == NULL)
        return;
    json_decref(trace->events);
    free(trace);
}
