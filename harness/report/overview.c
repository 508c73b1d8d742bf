/*
 * overview.c - REPORT.md's "At a glance": one line per scenario.
 */
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>

#include "report.h"


/* Whether two results differ by less than their noise: docs/harness.md's
 * rule, a difference smaller than the stddev of either run is not one.  A
 * single run has no spread, so it ties with nothing. */
static bool within_the_noise(const struct hyperfine_result *a, const struct hyperfine_result *b)
{
    double noise = fmax(isfinite(a->stddev) ? a->stddev : 0, isfinite(b->stddev) ? b->stddev : 0);
    return isfinite(a->median) && isfinite(b->median) && fabs(a->median - b->median) < noise;
}

/* The "fastest" cell: the fastest variant, or every variant that ties with
 * it ("async_offload = async (a tie, within the noise)"), fastest first.
 * Returns whether the baseline is among them (its speedup is noise, then). */
static bool fastest_cell(const struct hyperfine_file *measured,
                         const struct hyperfine_result *fastest, char *text, size_t size)
{
    size_t used = (size_t)snprintf(text, size, "%s", fastest->name);
    bool tie = false;
    for (size_t i = 0; i < measured->count && used < size; i++) {
        const struct hyperfine_result *r = &measured->results[i];
        if (r != fastest && within_the_noise(r, fastest)) {
            used += (size_t)snprintf(text + used, size - used, " = %s", r->name);
            tie = true;
        }
    }
    if (tie && used < size)
        snprintf(text + used, size - used, " (a tie, within the noise)");
    return fastest != &measured->results[0] && within_the_noise(fastest, &measured->results[0]);
}

/* One line per scenario: the baseline, the fastest variant and its speedup,
 * so a reader sees the whole suite before the details. */
static void write_overview_line(const struct paths *paths, const json_t *entry, FILE *md)
{
    const char *name = text_or(entry, "name", "?");
    fprintf(md, "| [%s](#%s) | ", name, name);
    char json_path[PATH_MAX], why[1024];
    path_in(json_path, sizeof json_path, paths->in, text_or(entry, "hyperfine_json", ""));
    struct hyperfine_file measured;
    if (!json_is_true(json_object_get(entry, "measured"))
        || hyperfine_load(json_path, &measured, why, sizeof why) != 0 || measured.count == 0) {
        fputs("– | – | – | not measured (see below) |\n", md);
        return;
    }
    const struct hyperfine_result *baseline = &measured.results[0], *fastest = baseline;
    bool by_design = json_is_true(json_object_get(entry, "fails_by_design"));
    size_t failing = 0;
    for (size_t i = 0; i < measured.count; i++) {
        const struct hyperfine_result *r = &measured.results[i];
        if (isfinite(r->median) && !(r->median >= fastest->median))
            fastest = r;
        failing += really_failed(r, by_design) ? 1 : 0;
    }
    char median[32], speedup[64] = "–", fastest_text[512];
    bool baseline_tied = fastest_cell(&measured, fastest, fastest_text, sizeof fastest_text);
    if (fastest->median > 0 && isfinite(baseline->median))
        snprintf(speedup, sizeof speedup, "%.2f×%s", baseline->median / fastest->median,
                 baseline_tied ? " (inside the noise)" : "");
    fprintf(md, "%s %s | %s | %s | %s |\n", baseline->name,
            seconds(baseline->median, median, sizeof median), fastest_text, speedup,
            failing ? "some runs FAILED" : by_design ? "measured (exit 3 by design)" : "measured");
    hyperfine_free(&measured);
}

void write_overview(const struct paths *paths, const json_t *summary, FILE *md)
{
    fputs("\n## At a glance\n\n| scenario | baseline | fastest | its speedup | status |\n"
          "|---|---:|---|---:|---|\n", md);
    size_t index;
    const json_t *entry;
    json_array_foreach(json_object_get(summary, "scenarios"), index, entry)
        write_overview_line(paths, entry, md);
}

