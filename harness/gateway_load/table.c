/*
 * table.c - what gateway_load shows: a row per run on stdout, and with
 * --json the whole set for the report (DIR/service.json).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "load.h"
#include "machine.h"

static const char *cell(double seconds, char *text, size_t size)
{
    if (isnan(seconds))
        snprintf(text, size, "-");
    else
        snprintf(text, size, "%.3f s", seconds);
    return text;
}

void print_header(void)
{
    printf("%-13s %5s %9s %9s %9s %9s %9s %9s %9s %9s %8s %9s\n", "variant", "K", "right",
           "p50", "p95", "p99", "max", "model", "req/s", "upstream", "threads", "peak RSS");
}

void print_run(const struct run *run)
{
    char model[24], p50[24], p95[24], p99[24], max[24];
    cell(run->predicted, model, sizeof model);
    if (run->skipped) {
        printf("%-13s %5ld   skipped: the model says the last client waits %s\n",
               run->variant, run->k, model);
        return;
    }
    char right[32];
    snprintf(right, sizeof right, "%ld/%ld", run->right, run->k);
    printf("%-13s %5ld %9s %9s %9s %9s %9s %9s %9.1f %9ld %8ld %6.1f MB\n", run->variant,
           run->k, right, cell(run->p50, p50, sizeof p50), cell(run->p95, p95, sizeof p95),
           cell(run->p99, p99, sizeof p99), cell(run->max, max, sizeof max), model,
           run->throughput, run->upstream_max_in_flight, run->gateway_threads,
           (double)run->gateway_peak_rss_kb / 1024.0);
    if (run->first_problem[0] != '\0')
        printf("%13s first problem: %s\n", "", run->first_problem);
    fflush(stdout);
}

json_t *run_json(const struct run *run)
{
    json_t *entry = json_pack("{s:s, s:I, s:b}", "variant", run->variant, "k",
                              (json_int_t)run->k, "skipped", run->skipped);
    if (isfinite(run->predicted))
        json_object_set_new(entry, "predicted_s", json_real(run->predicted));
    if (run->skipped)
        return entry;
    const struct { const char *key; double value; } numbers[] = {
        { "p50_s", run->p50 }, { "p95_s", run->p95 }, { "p99_s", run->p99 },
        { "max_s", run->max }, { "requests_per_second", run->throughput },
    };
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        if (isfinite(numbers[i].value))
            json_object_set_new(entry, numbers[i].key, json_real(numbers[i].value));
    json_object_set_new(entry, "replied", json_integer(run->replied));
    json_object_set_new(entry, "right", json_integer(run->right));
    json_object_set_new(entry, "failed", json_integer(run->failed));
    json_object_set_new(entry, "upstream_max_in_flight", json_integer(run->upstream_max_in_flight));
    json_object_set_new(entry, "gateway_threads", json_integer(run->gateway_threads));
    json_object_set_new(entry, "gateway_peak_rss_kb", json_integer(run->gateway_peak_rss_kb));
    json_object_set_new(entry, "gateway_exit", json_integer(run->gateway_exit));
    if (run->first_problem[0])
        json_object_set_new(entry, "first_problem", json_string(run->first_problem));
    return entry;
}

bool write_json(const struct options *options, json_t *runs)
{
    double scale = atof(options->scale);
    json_t *document = json_pack("{s:f, s:[f,f,f], s:f, s:o, s:o, s:o}", "scale", scale,
                                 "delays_s", 2.0 * scale, 3.0 * scale, 1.0 * scale,
                                 "cap_s", options->cap, "machine", machine_describe(),
                                 "versions", machine_versions(), "runs", json_incref(runs));
    bool written = json_dump_file(document, options->json_path,
                                  JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0;
    json_decref(document);
    if (!written)
        fprintf(stderr, "%s: cannot write %s\n", LOAD_PROGRAM, options->json_path);
    return written;
}
