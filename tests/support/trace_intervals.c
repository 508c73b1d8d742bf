/* trace_intervals.c - a trace's tasks as intervals; see trace_intervals.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "trace_intervals.h"

#include <jansson.h>
#include <string.h>

#include "trace.h"

/* The trace's tasks as trace_read_tasks gives them; fails the test if the
 * file is no trace. */
static json_t *tasks_of(const char *path)
{
    char why[512];
    json_t *tasks = trace_read_tasks(path, NULL, why, sizeof why);
    if (tasks == NULL)
        fail_msg("cannot read the trace %s", why);
    return tasks;
}

size_t test_trace_intervals(const char *path, const char *name_prefix,
                            long long (*intervals)[2], size_t capacity)
{
    json_t *tasks = tasks_of(path);
    size_t count = 0, i;
    json_t *event;
    json_array_foreach(tasks, i, event) {
        if (strcmp(json_string_value(json_object_get(event, "ph")), "X") != 0)
            continue;
        if (name_prefix != NULL
            && strncmp(json_string_value(json_object_get(event, "name")), name_prefix,
                       strlen(name_prefix)) != 0)
            continue;
        if (count == capacity)
            fail_msg("the trace %s has more than the %zu events expected", path, capacity);
        long long ts = json_integer_value(json_object_get(event, "ts"));
        intervals[count][0] = ts;
        intervals[count][1] = ts + json_integer_value(json_object_get(event, "dur"));
        count++;
    }
    json_decref(tasks);
    return count;
}

/* The M event named `what` for tid (or for the process when tid < 0). */
static const json_t *metadata(const json_t *events, const char *what, json_int_t tid)
{
    size_t i;
    const json_t *event;
    json_array_foreach(events, i, event) {
        if (strcmp(json_string_value(json_object_get(event, "ph")), "M") == 0
            && strcmp(json_string_value(json_object_get(event, "name")), what) == 0
            && (tid < 0 || json_integer_value(json_object_get(event, "tid")) == tid))
            return event;
    }
    return NULL;
}

/* Fails unless the counts and codes among a task's args are JSON integers. */
static void assert_integer_args(const char *path, const json_t *args)
{
    for (const char **key = (const char *[]){ "status", "attempt", "item", "acknowledged_id",
                                              "rows", NULL }; *key; key++) {
        const json_t *value = json_object_get(args, *key);
        if (value != NULL && !json_is_integer(value))
            fail_msg("the trace %s writes %s as %s, not as an integer", path, *key,
                     json_dumps(value, JSON_ENCODE_ANY));
    }
}

static const char *phase_of(const json_t *event)
{
    const char *phase = json_string_value(json_object_get(event, "ph"));
    return phase ? phase : "";
}

static bool is_thread_span(const json_t *event)
{
    const char *category = json_string_value(json_object_get(event, "cat"));
    return category != NULL && strcmp(category, "thread") == 0;
}

void test_assert_trace_viewable(const char *path, const char *program, bool one_thread)
{
    json_error_t error;
    json_t *document = json_load_file(path, 0, &error);
    if (document == NULL)
        fail_msg("cannot read the trace %s: %s", path, error.text);
    const json_t *events = json_object_get(document, "traceEvents");
    const json_t *process = metadata(events, "process_name", -1);
    if (process == NULL)
        fail_msg("the trace %s names no process", path);
    const char *name = json_string_value(json_object_get(json_object_get(process, "args"), "name"));
    if (name == NULL || strcmp(name, program) != 0)
        fail_msg("the trace %s names its process '%s', not '%s'", path, name ? name : "?", program);
    size_t i, tasks = 0, spans = 0;
    const json_t *event;
    json_array_foreach(events, i, event) {
        const char *phase = phase_of(event);
        if (strcmp(phase, "M") == 0 || strcmp(phase, "e") == 0)
            continue;
        json_int_t tid = json_integer_value(json_object_get(event, "tid"));
        if (tid < 1)
            fail_msg("the trace %s has an event on tid %lld", path, (long long)tid);
        if (metadata(events, "thread_sort_index", tid) == NULL)
            fail_msg("the trace %s gives tid %lld no sort index", path, (long long)tid);
        if (is_thread_span(event)) {
            spans++;
            continue;
        }
        /* One thread: each task an async slice on it, its row's name with it. */
        if (one_thread && (strcmp(phase, "b") != 0 || tid != 1
                           || json_object_get(json_object_get(event, "args"), "task") == NULL))
            fail_msg("the trace %s of a one-thread program has a task that is not an async "
                     "slice on tid 1 with its task's name", path);
        if (!one_thread && strcmp(phase, "X") != 0)
            fail_msg("the trace %s of a program with worker threads has a '%s' event", path,
                     phase);
        assert_integer_args(path, json_object_get(event, "args"));
        tasks++;
    }
    if (tasks == 0)
        fail_msg("the trace %s holds no task", path);
    if (spans != (one_thread ? 1u : 0u))
        fail_msg("the trace %s has %zu one-thread spans; expected %d", path, spans, one_thread);
    json_t *read_back = tasks_of(path);
    size_t slices = 0;
    json_array_foreach(read_back, i, event)
        slices += strcmp(phase_of(event), "X") == 0;
    json_decref(read_back);
    if (slices != tasks)
        fail_msg("the trace %s reads back as %zu tasks, not %zu (an unclosed slice?)", path,
                 slices, tasks);
    json_decref(document);
}

bool test_all_overlap(long long (*intervals)[2], size_t count)
{
    long long latest_start = intervals[0][0], earliest_end = intervals[0][1];
    for (size_t i = 1; i < count; i++) {
        if (intervals[i][0] > latest_start)
            latest_start = intervals[i][0];
        if (intervals[i][1] < earliest_end)
            earliest_end = intervals[i][1];
    }
    return latest_start < earliest_end;
}

bool test_none_overlap(long long (*intervals)[2], size_t count)
{
    for (size_t i = 0; i < count; i++)
        for (size_t j = i + 1; j < count; j++)
            if (intervals[i][0] < intervals[j][1] && intervals[j][0] < intervals[i][1])
                return false;
    return true;
}
