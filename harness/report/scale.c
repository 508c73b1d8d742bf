/*
 * scale.c - REPORT.md's Scale section, from DIR/scale.json (bench_scale,
 * docs/scale.md): thousands of requests at once, event loop against threads.
 */
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "charts.h"
#include "report.h"

#define MAX_SCALE_PAIRINGS 8

/* One pairing's column of numbers, in the order of scale.json's runs. */
struct scale_line {
    const char *pairing;
    double k[MAX_SCALE_KS], ratio[MAX_SCALE_KS], client_mb[MAX_SCALE_KS], server_mb[MAX_SCALE_KS];
    size_t count;
    char stopped[96];   /* "stops: K = 10000 failed (exit 3)", or "" */
};

static struct scale_line *scale_line_for(struct scale_line *lines, size_t *count,
                                         const char *pairing)
{
    for (size_t i = 0; i < *count; i++)
        if (strcmp(lines[i].pairing, pairing) == 0)
            return &lines[i];
    if (*count == MAX_SCALE_PAIRINGS)
        return NULL;
    lines[*count] = (struct scale_line){ .pairing = pairing };
    return &lines[(*count)++];
}

/* Where a pairing's line ends, for its charts: the K it did not reach and
 * the first words of why ("exit 3"); the table has the whole reason. */
static void stop_note(const json_t *run, char *text, size_t size)
{
    const char *failure = text_or(run, "failure", NULL);
    const char *skipped = text_or(run, "skipped", NULL);
    if (failure != NULL)
        snprintf(text, size, "stops: K = %.0f failed (%.*s)", number_or_nan(run, "k"),
                 (int)strcspn(failure, ":"), failure);
    else
        snprintf(text, size, "stops: K = %.0f %s", number_or_nan(run, "k"),
                 skipped ? "skipped" : "not reached");
}

static void write_scale_row(FILE *md, const json_t *run)
{
    char cells[8][32];
    const char *failure = text_or(run, "failure", text_or(run, "skipped", NULL));
    fprintf(md, "| %s | %.0f | ", text_or(run, "pairing", "?"), number_or_nan(run, "k"));
    if (!json_is_true(json_object_get(run, "ok"))) {
        fputs("not reached: ", md);
        put_cell_text(md, failure ? failure : "no reason recorded");
        fputs(" | | | | | | | |\n", md);
        return;
    }
    snprintf(cells[0], 32, "%.3f", number_or_nan(run, "elapsed_over_delay"));
    snprintf(cells[1], 32, "%.0f µs", number_or_nan(run, "client_cpu_us_per_request"));
    snprintf(cells[2], 32, "%.0f µs", number_or_nan(run, "server_cpu_us_per_request"));
    snprintf(cells[3], 32, "%.1f MB", number_or_nan(run, "client_peak_rss_kb") / 1024.0);
    snprintf(cells[4], 32, "%.1f MB", number_or_nan(run, "server_peak_rss_kb") / 1024.0);
    snprintf(cells[5], 32, "%.0f", number_or_nan(run, "client_max_threads"));
    snprintf(cells[6], 32, "%.0f", number_or_nan(run, "server_max_threads"));
    snprintf(cells[7], 32, "%.0f", number_or_nan(run, "listen_overflows"));
    fprintf(md, "%s | %s | %s | %s | %s | %s | %s | %s |\n", cells[0], cells[1], cells[2],
            cells[3], cells[4], cells[5], cells[6], cells[7]);
}

static void draw_scale_chart(const struct paths *paths, FILE *md, const char *file,
                             const char *title, const char *y_label, const char *alt,
                             const struct scale_line *lines, size_t count, size_t which)
{
    struct chart_series series[MAX_SCALE_PAIRINGS];
    for (size_t i = 0; i < count; i++) {
        const double *y = which == 0 ? lines[i].ratio
                          : which == 1 ? lines[i].client_mb : lines[i].server_mb;
        series[i] = (struct chart_series){ lines[i].pairing, lines[i].k, y, lines[i].count,
                                           lines[i].stopped[0] ? lines[i].stopped : NULL };
    }
    char svg[PATH_MAX], relative[128];
    snprintf(relative, sizeof relative, "charts/%s", file);
    path_in(svg, sizeof svg, paths->out, relative);
    bool memory = which != 0;
    if (chart_lines(svg, title, "K: requests in flight at once", y_label, series, count,
                    false, memory, memory ? NAN : 1.0) == 0)
        fprintf(md, "\n![%s](%s)\n", alt, relative);
    else
        report_failures = true;
}

static void write_throughput(FILE *md, const json_t *throughput)
{
    if (!json_is_array(throughput) || json_array_size(throughput) == 0)
        return;
    fputs("\nThroughput with no delay at all (D = 0):\n\n| client | what | requests/s |\n"
          "|---|---|---:|\n", md);
    size_t i;
    const json_t *entry;
    json_array_foreach(throughput, i, entry) {
        const char *client = text_or(entry, "client", "?");
        char what[160];
        if (json_object_get(entry, "command") != NULL)
            snprintf(what, sizeof what, "%s", text_or(entry, "command", ""));
        else
            snprintf(what, sizeof what, "%.0f requests, %.0f in flight on reused connections",
                     number_or_nan(entry, "requests"), number_or_nan(entry, "in_flight"));
        fprintf(md, "| %s | %s | %.0f |\n", client, what,
                number_or_nan(entry, "requests_per_second"));
    }
}

/* One run as the next point on its pairing's line (a failed run: no
 * point, and the line says where it stops). */
static void add_to_scale_line(struct scale_line *lines, size_t *line_count, const json_t *run)
{
    struct scale_line *line = scale_line_for(lines, line_count, text_or(run, "pairing", "?"));
    if (line == NULL || line->count == MAX_SCALE_KS)
        return;
    bool ok = json_is_true(json_object_get(run, "ok"));
    if (!ok && line->stopped[0] == '\0')
        stop_note(run, line->stopped, sizeof line->stopped);
    line->k[line->count] = number_or_nan(run, "k");
    line->ratio[line->count] = ok ? number_or_nan(run, "elapsed_over_delay") : NAN;
    line->client_mb[line->count] = ok ? number_or_nan(run, "client_peak_rss_kb") / 1024 : NAN;
    line->server_mb[line->count] = ok ? number_or_nan(run, "server_peak_rss_kb") / 1024 : NAN;
    line->count++;
}

/* The scale section, from DIR/scale.json if `make bench-scale` wrote one. */
void write_scale(const struct paths *paths, FILE *md)
{
    char path[PATH_MAX];
    path_in(path, sizeof path, paths->in, "scale.json");
    json_error_t error;
    json_t *scale = json_load_file(path, 0, &error);
    if (scale == NULL)
        return;  /* no scale run: nothing to say */
    const json_t *runs = json_object_get(scale, "runs");
    double delay = number_or_nan(scale, "delay");
    fprintf(md, "\n## Scale: K requests of %g s all at once, event loop against threads\n\n"
            "From `make bench-scale` (one run per cell, a fresh slowserver each; "
            "[docs/scale.md](../docs/scale.md) explains it). elapsed / D is the client's own "
            "elapsed time over the delay: 1.000 is ideal. CPU is user + system time over K.\n\n",
            delay);
    write_measured_on(md, text_or(scale, "date", NULL), json_object_get(scale, "machine"),
                      "`make bench-scale`, a run of its own");
    fputs("| pairing | K | elapsed / D | client CPU / request | server CPU / request | "
          "client peak RSS | server peak RSS | client threads | server threads | "
          "listen overflows |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n", md);
    struct scale_line lines[MAX_SCALE_PAIRINGS];
    size_t line_count = 0, i;
    const json_t *run;
    json_array_foreach(runs, i, run) {
        write_scale_row(md, run);
        add_to_scale_line(lines, &line_count, run);
    }
    write_throughput(md, json_object_get(scale, "throughput"));
    draw_scale_chart(paths, md, "scale-elapsed.svg", "Elapsed over the delay, by K",
                     "elapsed / D (1 is ideal)", "elapsed over delay against K, per pairing",
                     lines, line_count, 0);
    draw_scale_chart(paths, md, "scale-client-memory.svg", "Client peak memory, by K",
                     "client peak RSS, MB", "client peak RSS against K, per pairing",
                     lines, line_count, 1);
    draw_scale_chart(paths, md, "scale-server-memory.svg", "Server peak memory, by K",
                     "server peak RSS, MB", "server peak RSS against K, per pairing",
                     lines, line_count, 2);
    json_decref(scale);
}

