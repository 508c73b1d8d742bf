/*
 * trace.c - builds a Chrome trace in memory with jansson and writes it once.
 *
 * Keeping the events in memory until the end means the timed work never
 * waits for the disk; one event is a few hundred bytes, so even the 10 000
 * request runs stay small.
 */
#include "trace.h"

#include "exit_codes.h"

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
    char *one_thread;  /* NULL, or the name of the one thread every task runs on */
};

/* The only tid of a one-thread program's trace. */
#define ONE_THREAD_TID 1

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

void trace_one_thread(struct trace *trace, bool event_loop)
{
    if (trace == NULL)
        return;
    free(trace->one_thread);
    trace->one_thread = strdup(event_loop ? "the one thread: an event loop over every task"
                                          : "the one thread: one task after another");
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

/* The label trace_name_task gave row tid, or NULL. */
static const char *row_label(const json_t *events, json_int_t tid)
{
    size_t i;
    const json_t *event;
    json_array_foreach(events, i, event)
        if (strcmp(json_string_value(json_object_get(event, "name")), "thread_name") == 0
            && json_integer_value(json_object_get(event, "tid")) == tid)
            return json_string_value(json_object_get(json_object_get(event, "args"), "name"));
    return NULL;
}

static void append_metadata(json_t *events, const char *what, const char *key, json_t *value)
{
    json_array_append_new(events, json_pack("{s:s, s:s, s:i, s:i, s:{s:o}}", "name", what,
                                            "ph", "M", "pid", 1, "tid", ONE_THREAD_TID, "args",
                                            key, value));
}

/* The events of a one-thread program: the process's name, the one thread
 * (its name, its place, and a slice spanning every task), and each task as
 * a "b"/"e" pair on it, its row as the async id. */
static json_t *one_thread_events(const struct trace *trace)
{
    json_t *events = json_array();
    append_metadata(events, "thread_name", "name", json_string(trace->one_thread));
    append_metadata(events, "thread_sort_index", "sort_index", json_integer(0));
    json_int_t first = -1, last = -1;
    size_t i;
    json_t *event;
    json_array_foreach(trace->events, i, event) {
        const char *phase = json_string_value(json_object_get(event, "ph"));
        if (strcmp(phase, "M") == 0) {
            if (strcmp(json_string_value(json_object_get(event, "name")), "process_name") == 0)
                json_array_append(events, event);
            continue;
        }
        json_int_t row = json_integer_value(json_object_get(event, "tid"));
        json_int_t ts = json_integer_value(json_object_get(event, "ts"));
        json_int_t end = ts + json_integer_value(json_object_get(event, "dur"));
        first = first < 0 || ts < first ? ts : first;
        last = end > last ? end : last;
        json_t *args = json_deep_copy(json_object_get(event, "args"));
        const char *label = row_label(trace->events, row);
        if (label != NULL)
            json_object_set_new(args, "task", json_string(label));
        const char *name = json_string_value(json_object_get(event, "name"));
        json_array_append_new(events, json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:i, s:o}",
                                                "name", name, "cat", "task", "ph", "b",
                                                "id", row, "ts", ts, "pid", 1,
                                                "tid", ONE_THREAD_TID, "args", args));
        json_array_append_new(events, json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:i}",
                                                "name", name, "cat", "task", "ph", "e",
                                                "id", row, "ts", end, "pid", 1,
                                                "tid", ONE_THREAD_TID));
    }
    if (first >= 0)
        json_array_append_new(events, json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:i, s:{}}",
                                                "name", trace->one_thread, "cat", "thread",
                                                "ph", "X", "ts", first, "dur", last - first,
                                                "pid", 1, "tid", ONE_THREAD_TID, "args"));
    return events;
}

int trace_write(const struct trace *trace, const char *path, const char *program)
{
    json_t *events = trace->one_thread ? one_thread_events(trace) : json_incref(trace->events);
    json_t *document = json_pack("{s:o, s:s}", "traceEvents", events, "displayTimeUnit", "ms");
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

int trace_save(const struct trace *trace, const char *path, const char *program, int status)
{
    if (trace != NULL && trace_write(trace, path, program) != 0)
        return EXIT_SETUP;
    return status;
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
    free(trace->one_thread);
    free(trace);
}

/* ------------------------------------------------------------ reading */

static const char *text_of(const json_t *object, const char *key)
{
    const char *text = json_string_value(json_object_get(object, key));
    return text ? text : "";
}

/* The "e" that closes the "b" at index `begin`: the first later one with
 * its id (the writer puts it right after, so this is a short search). */
static const json_t *end_of(const json_t *events, size_t begin)
{
    json_int_t id = json_integer_value(json_object_get(json_array_get(events, begin), "id"));
    for (size_t i = begin + 1; i < json_array_size(events); i++) {
        const json_t *event = json_array_get(events, i);
        if (strcmp(text_of(event, "ph"), "e") == 0
            && json_integer_value(json_object_get(event, "id")) == id)
            return event;
    }
    return NULL;
}

static void add_row_metadata(json_t *tasks, json_int_t row, const char *label)
{
    json_array_append_new(tasks, json_pack("{s:s, s:s, s:I, s:{s:s}}", "name", "thread_name",
                                           "ph", "M", "tid", row, "args", "name", label));
    json_array_append_new(tasks, json_pack("{s:s, s:s, s:I, s:{s:I}}", "name",
                                           "thread_sort_index", "ph", "M", "tid", row, "args",
                                           "sort_index", row));
}

/* A one-thread program's async slices as complete events, a row per id. */
static void read_async_slices(const json_t *events, json_t *tasks)
{
    json_t *named = json_object();
    size_t i;
    const json_t *event;
    json_array_foreach(events, i, event) {
        if (strcmp(text_of(event, "ph"), "b") != 0)
            continue;
        const json_t *end = end_of(events, i);
        if (end == NULL)
            continue;
        json_int_t row = json_integer_value(json_object_get(event, "id"));
        json_int_t ts = json_integer_value(json_object_get(event, "ts"));
        json_t *args = json_object_get(event, "args");
        json_array_append_new(tasks, json_pack("{s:s, s:s, s:I, s:I, s:I, s:O}", "name",
                                               text_of(event, "name"), "ph", "X", "ts", ts,
                                               "dur", json_integer_value(json_object_get(end, "ts")) - ts,
                                               "tid", row, "args", args ? args : json_object()));
        char key[32];
        snprintf(key, sizeof key, "%lld", (long long)row);
        const char *label = json_string_value(json_object_get(args, "task"));
        if (label != NULL && json_object_get(named, key) == NULL) {
            json_object_set_new(named, key, json_true());
            add_row_metadata(tasks, row, label);
        }
    }
    json_decref(named);
}

json_t *trace_read_tasks(const char *path, bool *one_thread, char *why, size_t why_size)
{
    json_error_t error;
    json_t *document = json_load_file(path, 0, &error);
    const json_t *events = json_object_get(document, "traceEvents");
    if (!json_is_array(events)) {
        snprintf(why, why_size, "%s: %s", path,
                 document ? "no traceEvents array" : error.text);
        json_decref(document);
        return NULL;
    }
    bool single = false;
    size_t i;
    const json_t *event;
    json_array_foreach(events, i, event)
        single = single || strcmp(text_of(event, "cat"), "thread") == 0;
    json_t *tasks = json_array();
    if (single) {
        read_async_slices(events, tasks);
    } else {
        json_array_foreach(events, i, event) {
            const char *phase = text_of(event, "ph"), *name = text_of(event, "name");
            if (strcmp(phase, "X") == 0
                || (strcmp(phase, "M") == 0 && (strcmp(name, "thread_name") == 0
                                                || strcmp(name, "thread_sort_index") == 0)))
                json_array_append(tasks, (json_t *)event);
        }
    }
    if (one_thread != NULL)
        *one_thread = single;
    json_decref(document);
    return tasks;
}
