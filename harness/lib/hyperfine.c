/* hyperfine.c - read hyperfine's JSON export with jansson; see hyperfine.h. */
#include "hyperfine.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A member that is a number, or NAN (missing, null, or not a number). */
static double number_or_nan(const json_t *object, const char *key)
{
    const json_t *value = json_object_get(object, key);
    return json_is_number(value) ? json_number_value(value) : NAN;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The statistics hyperfine may have left out, from the run times. */
static void fill_from_times(struct hyperfine_result *result, double *times, size_t n)
{
    if (n == 0)
        return;
    qsort(times, n, sizeof *times, compare_doubles);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += times[i];
    double mean = sum / (double)n;
    if (isnan(result->mean))
        result->mean = mean;
    if (isnan(result->median))
        result->median = n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
    if (isnan(result->min))
        result->min = times[0];
    if (isnan(result->max))
        result->max = times[n - 1];
    /* A single run has no spread: stddev stays NAN, as hyperfine's null. */
    if (isnan(result->stddev) && n > 1) {
        double squares = 0;
        for (size_t i = 0; i < n; i++)
            squares += (times[i] - mean) * (times[i] - mean);
        result->stddev = sqrt(squares / (double)(n - 1));
    }
}

static void read_times(const json_t *entry, struct hyperfine_result *result)
{
    const json_t *times = json_object_get(entry, "times");
    size_t n = json_is_array(times) ? json_array_size(times) : 0;
    double *values = n ? malloc(n * sizeof *values) : NULL;
    size_t kept = 0;
    for (size_t i = 0; values != NULL && i < n; i++) {
        const json_t *time = json_array_get(times, i);
        if (json_is_number(time))
            values[kept++] = json_number_value(time);
    }
    result->runs = kept;
    fill_from_times(result, values, kept);
    free(values);
}

static void read_exit_codes(const json_t *entry, struct hyperfine_result *result)
{
    const json_t *codes = json_object_get(entry, "exit_codes");
    size_t index;
    const json_t *code;
    json_array_foreach(codes, index, code) {
        /* null: the run ended by a signal, so it has no exit code. */
        int status = json_is_integer(code) ? (int)json_integer_value(code) : -1;
        if (status == 0)
            continue;
        result->failed_runs++;
        if (result->first_failure == 0)
            result->first_failure = status;
    }
    /* Files without exit_codes (old hyperfine) only exist for runs that all
     * succeeded: hyperfine stopped at the first failure then. */
    if (result->runs == 0 && json_is_array(codes))
        result->runs = json_array_size(codes);
}

static void read_name(const json_t *entry, struct hyperfine_result *result, size_t index)
{
    const char *keys[] = { "command_name", "name", "command" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *text = json_string_value(json_object_get(entry, keys[i]));
        if (text != NULL) {
            snprintf(result->name, sizeof result->name, "%s", text);
            return;
        }
    }
    snprintf(result->name, sizeof result->name, "command %zu", index + 1);
}

static void read_parameter(const json_t *entry, struct hyperfine_result *result)
{
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)json_object_get(entry, "parameters"), key, value) {
        if (json_is_string(value))
            snprintf(result->parameter, sizeof result->parameter, "%s", json_string_value(value));
        else if (json_is_number(value))
            snprintf(result->parameter, sizeof result->parameter, "%g", json_number_value(value));
        return;
    }
}

static void read_result(const json_t *entry, size_t index, struct hyperfine_result *result)
{
    memset(result, 0, sizeof *result);
    read_name(entry, result, index);
    read_parameter(entry, result);
    result->mean = number_or_nan(entry, "mean");
    result->median = number_or_nan(entry, "median");
    result->stddev = number_or_nan(entry, "stddev");
    result->min = number_or_nan(entry, "min");
    result->max = number_or_nan(entry, "max");
    read_times(entry, result);
    read_exit_codes(entry, result);
}

/* schema_version may be a number (2, 2.1) or text ("2.0.0"); 0 if absent. */
static int schema_major(const json_t *root)
{
    const json_t *version = json_object_get(root, "schema_version");
    if (json_is_number(version))
        return (int)json_number_value(version);
    if (json_is_string(version))
        return atoi(json_string_value(version));
    return 0;
}

int hyperfine_load(const char *path, struct hyperfine_file *file, char *why, size_t why_size)
{
    memset(file, 0, sizeof *file);
    why[0] = '\0';
    json_error_t error;
    json_t *root = json_load_file(path, 0, &error);
    if (root == NULL) {
        snprintf(why, why_size, "cannot read %s: %s", path, error.text);
        return -1;
    }
    const json_t *results = json_object_get(root, "results");
    if (!json_is_array(results)) {
        snprintf(why, why_size, "%s has no \"results\" list (not hyperfine's JSON?)", path);
        json_decref(root);
        return -1;
    }
    file->schema_major = schema_major(root);
    if (file->schema_major > 2)
        snprintf(why, why_size, "%s: schema_version %d is newer than this reader knows; "
                 "read as far as it goes", path, file->schema_major);
    file->count = json_array_size(results);
    file->results = calloc(file->count ? file->count : 1, sizeof *file->results);
    if (file->results == NULL) {
        snprintf(why, why_size, "out of memory reading %s", path);
        json_decref(root);
        return -1;
    }
    for (size_t i = 0; i < file->count; i++)
        read_result(json_array_get(results, i), i, &file->results[i]);
    json_decref(root);
    return 0;
}

const struct hyperfine_result *hyperfine_find(const struct hyperfine_file *file,
                                              const char *name)
{
    for (size_t i = 0; i < file->count; i++)
        if (strcmp(file->results[i].name, name) == 0)
            return &file->results[i];
    return NULL;
}

void hyperfine_free(struct hyperfine_file *file)
{
    free(file->results);
    file->results = NULL;
    file->count = 0;
}
