/* trace_intervals.c - a trace's tasks as intervals; see trace_intervals.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "trace_intervals.h"

#include <jansson.h>
#include <string.h>

size_t test_trace_intervals(const char *path, const char *name_prefix,
                            long long (*intervals)[2], size_t capacity)
{
    json_error_t error;
    json_t *document = json_load_file(path, 0, &error);
    if (document == NULL)
        fail_msg("cannot read the trace %s: %s", path, error.text);
    size_t count = 0, i;
    json_t *event;
    json_array_foreach(json_object_get(document, "traceEvents"), i, event) {
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
    json_decref(document);
    return count;
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
