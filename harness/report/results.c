/*
 * results.c - reading REPORT.md's numbers out of the results directory's
 * JSON: a missing value is NAN or a fallback, never an error, so a report
 * renders from whatever an older or interrupted run left.
 */
#include <math.h>
#include <stdio.h>

#include "exit_codes.h"
#include "report.h"

void path_in(char *path, size_t size, const char *dir, const char *file)
{
    snprintf(path, size, "%s/%s", dir, file);
}

double number_or_nan(const json_t *object, const char *key)
{
    const json_t *value = json_object_get(object, key);
    return json_is_number(value) ? json_number_value(value) : NAN;
}

double item_or_nan(const json_t *array, size_t index)
{
    const json_t *value = json_array_get(array, index);
    return json_is_number(value) ? json_number_value(value) : NAN;
}

const char *text_or(const json_t *object, const char *key, const char *fallback)
{
    const char *text = json_string_value(json_object_get(object, key));
    return text ? text : fallback;
}

/* Runs that failed other than as the lesson means them to. */
bool really_failed(const struct hyperfine_result *measured, bool by_design)
{
    return measured != NULL && measured->failed_runs > 0
           && !(by_design && measured->first_failure == EXIT_TASKS_FAILED);
}

