/*
 * service.c - REPORT.md's Service section, from DIR/service.json
 * (gateway_load, docs/service.md): K clients at once against each gateway.
 */
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "charts.h"
#include "report.h"

#define MAX_SERVICE_VARIANTS 8

/* One variant's latencies by K, for the chart. */
struct service_line {
    const char *variant;
    double k[MAX_SCALE_KS], p50[MAX_SCALE_KS], p99[MAX_SCALE_KS];
    size_t count;
};

static void write_service_row(FILE *md, const json_t *run)
{
    fprintf(md, "| %s | %.0f | ", text_or(run, "variant", "?"), number_or_nan(run, "k"));
    char model_text[32], cells[4][32];
    const char *model = seconds(number_or_nan(run, "predicted_s"), model_text, sizeof model_text);
    if (json_is_true(json_object_get(run, "skipped"))) {
        fprintf(md, "skipped: the model says the last client waits %s | | | | %s | | | | |\n",
                model, model);
        return;
    }
    fprintf(md, "%.0f/%.0f | ", number_or_nan(run, "right"), number_or_nan(run, "k"));
    fprintf(md, "%s | %s | %s | %s | %s | %.1f | %.0f | %.0f | %.1f MB |\n",
            seconds(number_or_nan(run, "p50_s"), cells[0], 32),
            seconds(number_or_nan(run, "p95_s"), cells[1], 32),
            seconds(number_or_nan(run, "p99_s"), cells[2], 32),
            seconds(number_or_nan(run, "max_s"), cells[3], 32), model,
            number_or_nan(run, "requests_per_second"),
            number_or_nan(run, "upstream_max_in_flight"), number_or_nan(run, "gateway_threads"),
            number_or_nan(run, "gateway_peak_rss_kb") / 1024.0);
}

static struct service_line *service_line_for(struct service_line *lines, size_t *count,
                                             const char *variant)
{
    for (size_t i = 0; i < *count; i++)
        if (strcmp(lines[i].variant, variant) == 0)
            return &lines[i];
    if (*count == MAX_SERVICE_VARIANTS)
        return NULL;
    lines[*count] = (struct service_line){ .variant = variant };
    return &lines[(*count)++];
}

static void draw_service_chart(const struct paths *paths, FILE *md,
                               const struct service_line *lines, size_t count)
{
    struct chart_series series[2 * MAX_SERVICE_VARIANTS];
    char labels[2 * MAX_SERVICE_VARIANTS][48];
    for (size_t i = 0; i < count; i++) {
        snprintf(labels[2 * i], sizeof labels[0], "%s p50", lines[i].variant);
        snprintf(labels[2 * i + 1], sizeof labels[0], "%s p99", lines[i].variant);
        series[2 * i] = (struct chart_series){ labels[2 * i], lines[i].k, lines[i].p50,
                                               lines[i].count, NULL };
        series[2 * i + 1] = (struct chart_series){ labels[2 * i + 1], lines[i].k, lines[i].p99,
                                                   lines[i].count, NULL };
    }
    char svg[PATH_MAX];
    path_in(svg, sizeof svg, paths->out, "charts/service-latency.svg");
    if (chart_lines(svg, "GET /dashboard latency with K clients at once",
                    "K: clients at once", "latency, seconds", series, 2 * count, true,
                    false, NAN) == 0)
        fputs("\n![p50 and p99 latency of GET /dashboard against K, per gateway]"
              "(charts/service-latency.svg)\n", md);
    else
        report_failures = true;
}

/* The service section, from DIR/service.json if gateway_load wrote one. */
void write_service(const struct paths *paths, FILE *md)
{
    char path[PATH_MAX];
    path_in(path, sizeof path, paths->in, "service.json");
    json_error_t error;
    json_t *service = json_load_file(path, 0, &error);
    if (service == NULL)
        return;  /* no gateway run: nothing to say */
    const json_t *delays = json_object_get(service, "delays_s");
    fprintf(md, "\n## Service: K clients at once against each gateway\n\n"
            "From `gateway_load` (one run per cell, a fresh gateway each; "
            "[docs/service.md](../docs/service.md) explains it). Each client asks for "
            "GET /dashboard, which needs three upstream calls of %g, %g and %g s; model = "
            "what the lesson's model says the last client waits; upstream = the most "
            "requests slowserver had in flight at once.\n\n",
            item_or_nan(delays, 0), item_or_nan(delays, 1), item_or_nan(delays, 2));
    fputs("| gateway | K | right | p50 | p95 | p99 | max | model | replies/s | upstream | "
          "threads | peak RSS |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
          md);
    struct service_line lines[MAX_SERVICE_VARIANTS];
    size_t line_count = 0, i;
    const json_t *run;
    json_array_foreach(json_object_get(service, "runs"), i, run) {
        write_service_row(md, run);
        struct service_line *line = service_line_for(lines, &line_count,
                                                     text_or(run, "variant", "?"));
        if (line == NULL || line->count == MAX_SCALE_KS)
            continue;
        line->k[line->count] = number_or_nan(run, "k");
        line->p50[line->count] = number_or_nan(run, "p50_s");
        line->p99[line->count] = number_or_nan(run, "p99_s");
        line->count++;
    }
    draw_service_chart(paths, md, lines, line_count);
    json_decref(service);
}
