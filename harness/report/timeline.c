/*
 * timeline.c - one variant's trace (docs/harness.md: the Chrome trace
 * format) as a Gantt chart: a row per thread or task, a bar per task.
 */
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "charts.h"
#include "report.h"
#include "trace.h"

#define MAX_TIMELINE_ROWS 20000

struct trace_rows {
    int tids[MAX_TIMELINE_ROWS];      /* ascending, for bsearch */
    char *labels[MAX_TIMELINE_ROWS];  /* labels[i] names tids[i] */
    long sort_keys[MAX_TIMELINE_ROWS];
    int place[MAX_TIMELINE_ROWS];     /* the chart row tids[i] is drawn on */
    size_t count;
};

static int row_of(struct trace_rows *rows, int tid)
{
    for (size_t i = 0; i < rows->count; i++)
        if (rows->tids[i] == tid)
            return (int)i;
    if (rows->count == MAX_TIMELINE_ROWS)
        return -1;
    rows->tids[rows->count] = tid;
    rows->labels[rows->count] = NULL;
    return (int)rows->count++;
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The chart row of each tid: the trace's own order ("thread_sort_index"
 * metadata, as Perfetto uses it), tid order where it gives none. */
static const struct trace_rows *rows_being_placed;

static int compare_sort_keys(const void *a, const void *b)
{
    const struct trace_rows *rows = rows_being_placed;
    int i = *(const int *)a, j = *(const int *)b;
    if (rows->sort_keys[i] != rows->sort_keys[j])
        return (rows->sort_keys[i] > rows->sort_keys[j]) - (rows->sort_keys[i] < rows->sort_keys[j]);
    return (rows->tids[i] > rows->tids[j]) - (rows->tids[i] < rows->tids[j]);
}

static void place_rows(const json_t *events, struct trace_rows *rows)
{
    for (size_t i = 0; i < rows->count; i++)
        rows->sort_keys[i] = LONG_MAX;
    size_t index;
    const json_t *event;
    json_array_foreach(events, index, event) {
        if (strcmp(text_or(event, "ph", ""), "M") != 0
            || strcmp(text_or(event, "name", ""), "thread_sort_index") != 0)
            continue;
        int tid = (int)number_or_nan(event, "tid");
        double key = number_or_nan(json_object_get(event, "args"), "sort_index");
        int *found = bsearch(&tid, rows->tids, rows->count, sizeof tid, compare_ints);
        if (found != NULL && isfinite(key))
            rows->sort_keys[found - rows->tids] = (long)key;
    }
    int *order = malloc(rows->count * sizeof *order + 1);
    if (order == NULL) {
        for (size_t i = 0; i < rows->count; i++)
            rows->place[i] = (int)i;
        return;
    }
    for (size_t i = 0; i < rows->count; i++)
        order[i] = (int)i;
    rows_being_placed = rows;
    qsort(order, rows->count, sizeof *order, compare_sort_keys);
    for (size_t rank = 0; rank < rows->count; rank++)
        rows->place[order[rank]] = (int)rank;
    free(order);
}

/* Rows in the trace's order, each named by its "thread_name" metadata event
 * when the trace has one ("R1"), else "task N". */
static void collect_rows(const json_t *events, struct trace_rows *rows)
{
    size_t index;
    const json_t *event;
    json_array_foreach(events, index, event)
        if (strcmp(text_or(event, "ph", ""), "X") == 0)
            row_of(rows, (int)number_or_nan(event, "tid"));
    qsort(rows->tids, rows->count, sizeof rows->tids[0], compare_ints);
    json_array_foreach(events, index, event) {
        if (strcmp(text_or(event, "ph", ""), "M") != 0
            || strcmp(text_or(event, "name", ""), "thread_name") != 0)
            continue;
        int tid = (int)number_or_nan(event, "tid");
        const char *label = text_or(json_object_get(event, "args"), "name", NULL);
        for (size_t i = 0; i < rows->count && label; i++)
            if (rows->tids[i] == tid && rows->labels[i] == NULL)
                rows->labels[i] = strdup(label);
    }
    for (size_t i = 0; i < rows->count; i++) {
        if (rows->labels[i] == NULL) {
            char label[32];
            snprintf(label, sizeof label, "task %d", rows->tids[i]);
            rows->labels[i] = strdup(label);
        }
    }
    place_rows(events, rows);
}

/* A task failed if the scenario said so in its args ("outcome" other
 * than "ok"); traces without an outcome count as fine. */
static bool event_failed(const json_t *event)
{
    const char *outcome = text_or(json_object_get(event, "args"), "outcome", NULL);
    return outcome != NULL && strcmp(outcome, "ok") != 0;
}

/* The latest end of any task in a trace file, in seconds (0 if none). */
double trace_end(const char *path)
{
    char why[256];
    json_t *tasks = trace_read_tasks(path, NULL, why, sizeof why);
    double end = 0;
    size_t index;
    const json_t *event;
    json_array_foreach(tasks, index, event) {
        double stop = (number_or_nan(event, "ts") + number_or_nan(event, "dur")) / 1e6;
        if (strcmp(text_or(event, "ph", ""), "X") == 0 && isfinite(stop) && stop > end)
            end = stop;
    }
    json_decref(tasks);
    return end;
}

/* Draws one variant's trace as a Gantt chart.  Returns false if there was
 * no usable trace (the report then says so instead of embedding a chart). */
/* Each finished task ("X" event) as a bar on its row; returns how many. */
static size_t collect_spans(const json_t *events, const struct trace_rows *rows,
                            struct chart_span *spans)
{
    size_t count = 0, index;
    const json_t *event;
    json_array_foreach(events, index, event) {
        double ts = number_or_nan(event, "ts"), dur = number_or_nan(event, "dur");
        if (strcmp(text_or(event, "ph", ""), "X") != 0 || !isfinite(ts) || !isfinite(dur))
            continue;
        int tid = (int)number_or_nan(event, "tid");
        int *found = bsearch(&tid, rows->tids, rows->count, sizeof tid, compare_ints);
        if (found == NULL)
            continue;
        spans[count++] = (struct chart_span){ rows->place[found - rows->tids], ts / 1e6,
                                              (ts + dur) / 1e6, text_or(event, "name", ""),
                                              event_failed(event) };
    }
    return count;
}

/* The rows' labels in the order they are drawn (NULL if out of memory). */
static const char **labels_in_place(const struct trace_rows *rows)
{
    const char **labels = calloc(rows->count + 1, sizeof *labels);
    for (size_t i = 0; labels != NULL && i < rows->count; i++)
        labels[rows->place[i]] = rows->labels[i];
    return labels;
}

static void free_rows(struct trace_rows *rows)
{
    for (size_t i = 0; rows != NULL && i < rows->count; i++)
        free(rows->labels[i]);
    free(rows);
}

bool draw_timeline(const char *trace_path, const char *svg_path, const char *title,
                   double x_max)
{
    char why[256];
    bool one_thread = false;
    json_t *events = trace_read_tasks(trace_path, &one_thread, why, sizeof why);
    if (events == NULL)
        return false;
    char titled[320];
    snprintf(titled, sizeof titled, "%s%s", title, one_thread ? ", every task on one thread" : "");
    struct trace_rows *rows = calloc(1, sizeof *rows);
    struct chart_span *spans = calloc(json_array_size(events) + 1, sizeof *spans);
    size_t count = 0;
    if (rows != NULL && spans != NULL) {
        collect_rows(events, rows);
        count = collect_spans(events, rows, spans);
    }
    const char **labels = rows ? labels_in_place(rows) : NULL;
    bool drawn = count > 0 && labels != NULL
                 && chart_timeline(svg_path, titled, spans, count, labels, rows->count,
                                   x_max) == 0;
    free(labels);
    if (count > 0 && !drawn)
        report_failures = true;
    free_rows(rows);
    free(spans);
    json_decref(events);
    return drawn;
}
