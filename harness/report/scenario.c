/*
 * scenario.c - one scenario's section of REPORT.md: the table of its
 * variants, the commands, the bar chart and a timeline per variant.
 */
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "charts.h"
#include "report.h"

/* Everything about one variant that the table, the bar chart and the
 * timeline need. */
struct variant_row {
    const char *name;
    const struct hyperfine_result *measured;  /* NULL: not in hyperfine's JSON */
    double predicted;                         /* NAN if unknown */
    const char *prediction;                   /* the model's one-line explanation */
    double lesson;                            /* the Python lesson's seconds, NAN if none */
    const char *trace;                        /* relative to the results directory */
    const char *server_mode;                  /* NULL: no server */
    const char *command;
};

#define MAX_VARIANTS 16

/* "async@blocking" -> "async-on-blocking", as bench names the trace files. */
static void file_safe(const char *name, char *safe, size_t size)
{
    const char *at = strchr(name, '@');
    if (at == NULL)
        snprintf(safe, size, "%s", name);
    else
        snprintf(safe, size, "%.*s-on-%s", (int)(at - name), name, at + 1);
}

/* ------------------------------------------------------------ scenarios */

static void read_variant(const json_t *entry, const struct hyperfine_file *measured,
                         struct variant_row *row)
{
    row->name = text_or(entry, "name", "?");
    row->measured = measured ? hyperfine_find(measured, row->name) : NULL;
    row->predicted = number_or_nan(entry, "predicted_s");
    row->prediction = text_or(entry, "prediction", "");
    row->lesson = number_or_nan(entry, "lesson_s");
    row->trace = text_or(entry, "trace", NULL);
    row->server_mode = text_or(entry, "server_mode", NULL);
    row->command = text_or(entry, "command", "");
}

/* "build/bin/slow_api_sync --scale 0.1 ..." without the directory: the
 * table shows which program and flags, not where this machine keeps them. */
static const char *program_and_flags(const char *command)
{
    const char *space = strchr(command, ' ');
    const char *slash = command;
    for (const char *c = command; *c && (space == NULL || c < space); c++)
        if (*c == '/')
            slash = c + 1;
    return slash;
}

/* The "runs" cell: how many, and how many failed (exit status) if any. */
static void runs_cell(const struct hyperfine_result *measured, bool by_design, char *text,
                      size_t size)
{
    if (measured->failed_runs == 0) {
        snprintf(text, size, "%zu", measured->runs);
    } else if (measured->first_failure < 0) {
        snprintf(text, size, "%zu (%zu killed by a signal)", measured->runs,
                 measured->failed_runs);
    } else {
        snprintf(text, size, "%zu (%zu exited %d%s)", measured->runs, measured->failed_runs,
                 measured->first_failure,
                 really_failed(measured, by_design) ? ": FAILED" : ", by design");
    }
}

/* One variant's row; speedups are over `baseline` (the first row's
 * measurement) and, for the lesson's numbers, over `lesson_baseline`. */
static void write_table_row(FILE *md, const struct variant_row *row,
                            const struct hyperfine_result *baseline,
                            const struct variant_row *lesson_baseline, bool by_design)
{
    const struct hyperfine_result *m = row->measured;
    char median[32], stddev[32], predicted[32], speedup[32] = "–", efficiency[32] = "–";
    char runs[96] = "–", lesson[64] = "–", lesson_speedup[32] = "–";
    double median_s = m ? m->median : NAN;
    if (m != NULL && baseline != NULL && isfinite(baseline->median) && median_s > 0)
        snprintf(speedup, sizeof speedup, "%.2f×", baseline->median / median_s);
    if (isfinite(row->predicted) && median_s > 0)
        snprintf(efficiency, sizeof efficiency, "%.0f %%", 100 * row->predicted / median_s);
    if (m != NULL)
        runs_cell(m, by_design, runs, sizeof runs);
    /* The lesson's seconds are another machine's (and, for some lessons,
     * another database's): its ratios are what compare. */
    if (isfinite(row->lesson))
        snprintf(lesson, sizeof lesson, "%g s", row->lesson);
    if (isfinite(row->lesson) && lesson_baseline != NULL && row->lesson > 0)
        snprintf(lesson_speedup, sizeof lesson_speedup, "%.2f×",
                 lesson_baseline->lesson / row->lesson);
    fputs("| ", md);
    put_cell_text(md, row->name);
    fprintf(md, " | %s | %s | %s | %s | %s | %s | %s | %s |\n",
            seconds(median_s, median, sizeof median),
            m && isfinite(m->stddev) ? seconds(m->stddev, stddev, sizeof stddev)
            : m && m->runs == 1 ? "– (1 run)" : "–",
            speedup, seconds(row->predicted, predicted, sizeof predicted), efficiency, runs,
            lesson, lesson_speedup);
}

static void write_table(FILE *md, const struct variant_row *rows, size_t count, bool by_design)
{
    /* The lesson's ratios are taken over the first row it has a number for
     * (the database lesson timed only its PostgreSQL programs). */
    const struct variant_row *lesson_baseline = NULL;
    for (size_t i = 0; i < count && lesson_baseline == NULL; i++)
        if (isfinite(rows[i].lesson))
            lesson_baseline = &rows[i];
    fprintf(md, "| variant | median | stddev | speedup over %s | predicted | efficiency | "
            "runs | Python lesson | lesson's speedup |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n", rows[0].name);
    for (size_t i = 0; i < count; i++)
        write_table_row(md, &rows[i], rows[0].measured, lesson_baseline, by_design);
}

static void write_commands(FILE *md, const struct variant_row *rows, size_t count)
{
    fputs("\n<details><summary>Commands, and what each prediction assumes</summary>\n\n", md);
    for (size_t i = 0; i < count; i++) {
        fprintf(md, "- **%s**: `%s`", rows[i].name, program_and_flags(rows[i].command));
        if (rows[i].server_mode != NULL)
            fprintf(md, " against a slowserver in `--mode %s`", rows[i].server_mode);
        if (rows[i].prediction[0] != '\0')
            fprintf(md, "; predicted time = %s", rows[i].prediction);
        fputs("\n", md);
    }
    fputs("\n</details>\n", md);
}

static void draw_bars(const struct paths *paths, const char *scenario,
                      const struct variant_row *rows, size_t count, const char *scale_text,
                      bool by_design, FILE *md)
{
    struct chart_bar bars[MAX_VARIANTS];
    size_t runs = 0;
    for (size_t i = 0; i < count; i++) {
        const struct hyperfine_result *m = rows[i].measured;
        bars[i] = (struct chart_bar){ rows[i].name, m ? m->median : NAN, m ? m->stddev : NAN,
                                      rows[i].predicted, really_failed(m, by_design) };
        if (m != NULL && m->runs > runs)
            runs = m->runs;
    }
    char title[256], svg[PATH_MAX], file[256];
    snprintf(title, sizeof title, "%s%s: median of %zu run%s per variant", scenario,
             scale_text, runs, runs == 1 ? "" : "s");
    snprintf(file, sizeof file, "charts/%s.svg", scenario);
    path_in(svg, sizeof svg, paths->out, file);
    if (chart_bars(svg, title, bars, count) == 0)
        fprintf(md, "\n![%s: measured median per variant against the prediction](%s)\n",
                scenario, file);
    else
        report_failures = true;
}

/* One x axis for the whole scenario, so a longer run looks longer: the
 * latest end in any of its traces. */
static double timelines_x_max(const struct paths *paths, const struct variant_row *rows,
                              size_t count)
{
    double x_max = 0;
    for (size_t i = 0; i < count; i++) {
        char trace[PATH_MAX];
        if (rows[i].trace == NULL)
            continue;
        path_in(trace, sizeof trace, paths->in, rows[i].trace);
        double end = trace_end(trace);
        if (end > x_max)
            x_max = end;
    }
    return x_max;
}

/* One variant's timeline, or a line saying why there is none. */
static void draw_variant_timeline(const struct paths *paths, const char *scenario,
                                  const struct variant_row *row, const char *scale_text,
                                  double x_max, FILE *md)
{
    char trace[PATH_MAX], svg[PATH_MAX], file[256], safe[128], title[256];
    file_safe(row->name, safe, sizeof safe);
    snprintf(file, sizeof file, "charts/timeline-%s-%s.svg", scenario, safe);
    path_in(svg, sizeof svg, paths->out, file);
    snprintf(title, sizeof title, "%s %s%s: one traced run", scenario, row->name, scale_text);
    if (row->trace != NULL)
        path_in(trace, sizeof trace, paths->in, row->trace);
    if (row->trace != NULL && draw_timeline(trace, svg, title, x_max))
        fprintf(md, "\n![%s %s timeline](%s)\n", scenario, row->name, file);
    else
        fprintf(md, "\n- %s: no trace to draw (%s)\n", row->name,
                row->trace ? row->trace : "none recorded");
}

static void draw_timelines(const struct paths *paths, const char *scenario,
                           const struct variant_row *rows, size_t count, const char *scale_text,
                           FILE *md)
{
    double x_max = timelines_x_max(paths, rows, count);
    fputs("\nTimelines, one traced run per variant (each bar is one task, from start to "
          "finish; red: the task failed):\n", md);
    for (size_t i = 0; i < count; i++)
        draw_variant_timeline(paths, scenario, &rows[i], scale_text, x_max, md);
}

/* The heading and the lines under it: when, where, against what. */
static void write_scenario_intro(FILE *md, const json_t *summary, const json_t *entry,
                                 const char *name, bool by_design)
{
    fprintf(md, "\n## %s\n\n", name);
    write_measured_by_bench(md, summary);
    if (json_is_true(json_object_get(entry, "uses_server")))
        fputs("Against the bundled slowserver on loopback. ", md);
    else
        fputs("No slowserver involved. ", md);
    fprintf(md, "Lesson: [docs/%s.md](../docs/%s.md).%s\n\n", name, name,
            by_design ? " Some tasks fail **by design** in this lesson (exit status 3), "
                        "so its runs are timed with hyperfine's `--ignore-failure`." : "");
}

/* The scenario's hyperfine JSON into measured; false (and the report says
 * why) if there is none to read. */
static bool load_measurements(const struct paths *paths, const json_t *entry,
                              struct hyperfine_file *measured, FILE *md)
{
    char json_path[PATH_MAX], why[1024] = "";
    path_in(json_path, sizeof json_path, paths->in, text_or(entry, "hyperfine_json", ""));
    bool have_measurements = hyperfine_load(json_path, measured, why, sizeof why) == 0;
    if (have_measurements && why[0])
        fprintf(stderr, "%s: note: %s\n", REPORT_PROGRAM, why);
    if (!json_is_true(json_object_get(entry, "measured")))
        fprintf(md, "**Not measured:** %s\n\n", text_or(entry, "error", "no reason recorded"));
    else if (!have_measurements)
        fprintf(md, "**No measurements:** %s\n\n", why);
    return have_measurements;
}

/* The charts, for a scenario that was measured. */
static void draw_scenario_charts(const struct paths *paths, const json_t *entry,
                                 const char *name, const struct variant_row *rows,
                                 size_t count, const char *scale_text, bool by_design, FILE *md)
{
    /* The scale multiplies slowserver's delays; without the server there
     * is nothing for it to multiply (the database lesson). */
    char at_scale[64];
    snprintf(at_scale, sizeof at_scale, json_is_true(json_object_get(entry, "uses_server"))
             ? " at scale %s" : " (no server delays: the scale does not apply)", scale_text);
    draw_bars(paths, name, rows, count, at_scale, by_design, md);
    draw_timelines(paths, name, rows, count, at_scale, md);
}

void write_scenario(const struct paths *paths, const json_t *summary, const json_t *entry,
                    const char *scale_text, FILE *md)
{
    const char *name = text_or(entry, "name", "?");
    bool by_design = json_is_true(json_object_get(entry, "fails_by_design"));
    write_scenario_intro(md, summary, entry, name, by_design);
    struct hyperfine_file measured = { 0 };
    bool have_measurements = load_measurements(paths, entry, &measured, md);

    struct variant_row rows[MAX_VARIANTS];
    size_t count = 0, index;
    const json_t *variant;
    json_array_foreach(json_object_get(entry, "variants"), index, variant)
        if (count < MAX_VARIANTS)
            read_variant(variant, have_measurements ? &measured : NULL, &rows[count++]);
    if (count > 0) {
        /* Even unmeasured, the table shows what the run would be compared with. */
        write_table(md, rows, count, by_design);
        const char *note = text_or(entry, "lesson_note", NULL);
        if (note != NULL)
            fprintf(md, "\nPython lesson numbers: %s.\n", note);
        write_commands(md, rows, count);
        if (have_measurements)
            draw_scenario_charts(paths, entry, name, rows, count, scale_text, by_design, md);
    }
    hyperfine_free(&measured);
}
