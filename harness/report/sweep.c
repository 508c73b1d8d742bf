/*
 * sweep.c - REPORT.md's scaling sweep: one scenario at K = 1, 10, 100, ...
 * requests, sync against async, measured against predicted.
 */
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "charts.h"
#include "report.h"


/* A sweep side's points: K (the hyperfine parameter), the measured median
 * and range, and the prediction bench stored for that K. */
static size_t read_sweep_side(const struct paths *paths, const json_t *side,
                              struct chart_point *points, size_t capacity, char *why,
                              size_t why_size)
{
    char json_path[PATH_MAX];
    path_in(json_path, sizeof json_path, paths->in, text_or(side, "hyperfine_json", ""));
    struct hyperfine_file measured;
    if (!json_is_true(json_object_get(side, "measured"))) {
        snprintf(why, why_size, "%s", text_or(side, "error", "not measured"));
        return 0;
    }
    if (hyperfine_load(json_path, &measured, why, why_size) != 0)
        return 0;
    /* One point per K bench asked about; the Ks it did not run (sync over
     * the cap) keep their prediction and have no measurement. */
    const json_t *ks = json_object_get(side, "ks");
    const json_t *predicted = json_object_get(side, "predicted_s");
    size_t count = 0;
    for (size_t i = 0; i < json_array_size(ks) && count < capacity; i++) {
        double k = json_number_value(json_array_get(ks, i));
        struct chart_point *point = &points[count++];
        *point = (struct chart_point){ k, NAN, NAN, NAN,
                                       item_or_nan(predicted, i) };
        for (size_t j = 0; j < measured.count; j++) {
            const struct hyperfine_result *m = &measured.results[j];
            if (atof(m->parameter) == k) {
                point->median = m->median;
                point->min = m->min;
                point->max = m->max;
            }
        }
    }
    hyperfine_free(&measured);
    return count;
}

static const struct chart_point *point_for(const struct chart_point *points, size_t count,
                                           double k)
{
    for (size_t i = 0; i < count; i++)
        if (points[i].k == k)
            return &points[i];
    return NULL;
}

/* Both sides of the sweep, as read from their hyperfine JSON. */
struct sweep_sides {
    struct chart_point sync[32], async[32];
    size_t sync_count, async_count;
    char sync_why[1024], async_why[1024];  /* why a side has no points, or "" */
};

/* One row of the table: K, each side's median and prediction, async's
 * efficiency and its speedup over sync. */
static void write_sweep_row(FILE *md, const struct sweep_sides *sides, double k, double cap)
{
    const struct chart_point *s = point_for(sides->sync, sides->sync_count, k);
    const struct chart_point *a = point_for(sides->async, sides->async_count, k);
    char t1[32], t2[32], t3[32], t4[32], efficiency[32] = "–", speedup[32] = "–";
    if (a && isfinite(a->predicted) && a->median > 0)
        snprintf(efficiency, sizeof efficiency, "%.0f %%", 100 * a->predicted / a->median);
    bool sync_ran = s != NULL && isfinite(s->median);
    bool over_cap = s != NULL && !sync_ran && s->predicted > cap;
    if (a && sync_ran && a->median > 0)
        snprintf(speedup, sizeof speedup, "%.1f×", s->median / a->median);
    fprintf(md, "| %.0f | %s | %s | %s | %s | %s | %s |\n", k,
            sync_ran ? seconds(s->median, t1, sizeof t1)
            : over_cap ? "not run (over the cap)" : "–",
            s ? seconds(s->predicted, t2, sizeof t2) : "–",
            a ? seconds(a->median, t3, sizeof t3) : "–",
            a ? seconds(a->predicted, t4, sizeof t4) : "–", efficiency, speedup);
}

static void write_sweep_table(FILE *md, const struct sweep_sides *sides, double cap)
{
    fputs("| K | sync median | sync predicted | async median | async predicted | async "
          "efficiency | async speedup over sync |\n|---:|---:|---:|---:|---:|---:|---:|\n", md);
    /* Every K either side measured, in the order the async side has them
     * (it has them all unless it failed). */
    bool async_leads = sides->async_count >= sides->sync_count;
    const struct chart_point *order = async_leads ? sides->async : sides->sync;
    size_t order_count = async_leads ? sides->async_count : sides->sync_count;
    for (size_t i = 0; i < order_count; i++)
        write_sweep_row(md, sides, order[i].k, cap);
}

static void draw_sweep(const struct paths *paths, FILE *md, const struct sweep_sides *sides,
                       const char *scenario, double delay)
{
    char svg[PATH_MAX], title[256], x_label[128];
    path_in(svg, sizeof svg, paths->out, "charts/sweep.svg");
    snprintf(title, sizeof title, "%s: elapsed time against the number of requests K",
             scenario);
    snprintf(x_label, sizeof x_label, "K: requests, each asking for a %g s delay", delay);
    if (chart_sweep(svg, title, x_label, sides->sync, sides->sync_count, sides->async,
                    sides->async_count) == 0)
        fputs("\n![elapsed against K on log axes, sync and async, measured and "
              "predicted](charts/sweep.svg)\n", md);
    else
        report_failures = true;
}

void write_sweep(const struct paths *paths, const json_t *summary, FILE *md)
{
    const json_t *sweep = json_object_get(summary, "sweep");
    struct sweep_sides sides = { .sync_why = "", .async_why = "" };
    sides.sync_count = read_sweep_side(paths, json_object_get(sweep, "sync"), sides.sync, 32,
                                       sides.sync_why, sizeof sides.sync_why);
    sides.async_count = read_sweep_side(paths, json_object_get(sweep, "async"), sides.async, 32,
                                        sides.async_why, sizeof sides.async_why);
    double delay = number_or_nan(sweep, "delay_s"), cap = number_or_nan(sweep, "cap_s");
    const char *scenario = text_or(sweep, "scenario", "slow_api");
    fprintf(md, "\n## Scaling sweep: %s, K requests of %g s each\n\n", scenario, delay);
    write_measured_by_bench(md, summary);
    fprintf(md, "The same delay K times: sync sends them one after another, async all at once. "
            "Median of %d run%s per K; sync only while its prediction stays under %g s.\n\n",
            (int)number_or_nan(sweep, "runs"), number_or_nan(sweep, "runs") == 1 ? "" : "s", cap);
    if (sides.sync_why[0])
        fprintf(md, "Sync: %s.\n\n", sides.sync_why);
    if (sides.async_why[0])
        fprintf(md, "Async: %s.\n\n", sides.async_why);
    if (sides.sync_count + sides.async_count == 0)
        return;
    write_sweep_table(md, &sides, cap);
    draw_sweep(paths, md, &sides, scenario, delay);
}
