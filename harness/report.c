/*
 * report.c - `make report`: REPORT.md and the SVG charts from a results
 * directory's JSON alone.
 *
 * It reads DIR/summary.json (written by bench: machine, versions, scale,
 * and for each scenario which hyperfine JSON and which traces belong to it),
 * each scenario's hyperfine JSON, the traces and the sweep, and writes
 * DIR/REPORT.md with one table per scenario and DIR/charts/ (SVG) drawn by
 * gnuplot.  Nothing is measured here, so a results directory copied from
 * another machine renders the same.  docs/harness.md explains every column.
 *
 *     build/bin/report [DIR] [--out DIR2]     (default DIR: results)
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "charts.h"
#include "args.h"
#include "exit_codes.h"
#include "hyperfine.h"
#include "trace.h"

static const char PROGRAM[] = "report";

struct paths {
    const char *in;   /* where summary.json and its files are */
    const char *out;  /* where REPORT.md and charts/ go (default: in) */
};

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
#define MAX_TIMELINE_ROWS 20000

static bool failures;  /* a chart or a file could not be made */

/* ------------------------------------------------------------ helpers */

static void path_in(char *path, size_t size, const char *dir, const char *file)
{
    snprintf(path, size, "%s/%s", dir, file);
}

static double number_or_nan(const json_t *object, const char *key)
{
    const json_t *value = json_object_get(object, key);
    return json_is_number(value) ? json_number_value(value) : NAN;
}

static double item_or_nan(const json_t *array, size_t index)
{
    const json_t *value = json_array_get(array, index);
    return json_is_number(value) ? json_number_value(value) : NAN;
}

static const char *text_or(const json_t *object, const char *key, const char *fallback)
{
    const char *text = json_string_value(json_object_get(object, key));
    return text ? text : fallback;
}

/* A time for a table: "1.702 s", "4.9 ms" below 10 ms, "40 µs" below 1 ms,
 * a dash when unknown. */
static const char *seconds(double value, char *text, size_t size)
{
    if (!isfinite(value))
        return "–";
    if (value < 0.00095)
        snprintf(text, size, "%.0f µs", value * 1e6);
    else if (value < 0.00995)
        snprintf(text, size, "%.1f ms", value * 1000);
    else
        snprintf(text, size, "%.3f s", value);
    return text;
}

/* "async@blocking" -> "async-on-blocking", as bench names the trace files. */
static void file_safe(const char *name, char *safe, size_t size)
{
    const char *at = strchr(name, '@');
    if (at == NULL)
        snprintf(safe, size, "%s", name);
    else
        snprintf(safe, size, "%.*s-on-%s", (int)(at - name), name, at + 1);
}

/* A Markdown table cell must not contain '|' or a newline. */
static void put_cell_text(FILE *md, const char *text)
{
    for (const char *c = text; *c; c++) {
        if (*c == '|')
            fputc('\\', md);
        fputc(*c == '\n' ? ' ' : *c, md);
    }
}

/* ------------------------------------------------------------ timelines */

struct trace_rows {
    int tids[MAX_TIMELINE_ROWS];      /* ascending, for bsearch */
    char *labels[MAX_TIMELINE_ROWS];  /* labels[i] names tids[i] */
    long sort_keys[MAX_TIMELINE_ROWS];
    int place[MAX_TIMELINE_ROWS];     /* the chart row tids[i] is drawn on */
    size_t count;
};

static int row_of(struct trace_rows *rows, int tid)
{
    for (size_t i = 0; i < rows->count; i++)
        if (rows->tids[i] == tid)
            return (int)i;
    if (rows->count == MAX_TIMELINE_ROWS)
        return -1;
    rows->tids[rows->count] = tid;
    rows->labels[rows->count] = NULL;
    return (int)rows->count++;
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The chart row of each tid: the trace's own order ("thread_sort_index"
 * metadata, as Perfetto uses it), tid order where it gives none. */
static const struct trace_rows *rows_being_placed;

static int compare_sort_keys(const void *a, const void *b)
{
    const struct trace_rows *rows = rows_being_placed;
    int i = *(const int *)a, j = *(const int *)b;
    if (rows->sort_keys[i] != rows->sort_keys[j])
        return (rows->sort_keys[i] > rows->sort_keys[j]) - (rows->sort_keys[i] < rows->sort_keys[j]);
    return (rows->tids[i] > rows->tids[j]) - (rows->tids[i] < rows->tids[j]);
}

static void place_rows(const json_t *events, struct trace_rows *rows)
{
    for (size_t i = 0; i < rows->count; i++)
        rows->sort_keys[i] = LONG_MAX;
    size_t index;
    const json_t *event;
    json_array_foreach(events, index, event) {
        if (strcmp(text_or(event, "ph", ""), "M") != 0
            || strcmp(text_or(event, "name", ""), "thread_sort_index") != 0)
            continue;
        int tid = (int)number_or_nan(event, "tid");
        double key = number_or_nan(json_object_get(event, "args"), "sort_index");
        int *found = bsearch(&tid, rows->tids, rows->count, sizeof tid, compare_ints);
        if (found != NULL && isfinite(key))
            rows->sort_keys[found - rows->tids] = (long)key;
    }
    int *order = malloc(rows->count * sizeof *order + 1);
    if (order == NULL) {
        for (size_t i = 0; i < rows->count; i++)
            rows->place[i] = (int)i;
        return;
    }
    for (size_t i = 0; i < rows->count; i++)
        order[i] = (int)i;
    rows_being_placed = rows;
    qsort(order, rows->count, sizeof *order, compare_sort_keys);
    for (size_t rank = 0; rank < rows->count; rank++)
        rows->place[order[rank]] = (int)rank;
    free(order);
}

/* Rows in the trace's order, each named by its "thread_name" metadata event
 * when the trace has one ("R1"), else "task N". */
static void collect_rows(const json_t *events, struct trace_rows *rows)
{
    size_t index;
    const json_t *event;
    json_array_foreach(events, index, event)
        if (strcmp(text_or(event, "ph", ""), "X") == 0)
            row_of(rows, (int)number_or_nan(event, "tid"));
    qsort(rows->tids, rows->count, sizeof rows->tids[0], compare_ints);
    json_array_foreach(events, index, event) {
        if (strcmp(text_or(event, "ph", ""), "M") != 0
            || strcmp(text_or(event, "name", ""), "thread_name") != 0)
            continue;
        int tid = (int)number_or_nan(event, "tid");
        const char *label = text_or(json_object_get(event, "args"), "name", NULL);
        for (size_t i = 0; i < rows->count && label; i++)
            if (rows->tids[i] == tid && rows->labels[i] == NULL)
                rows->labels[i] = strdup(label);
    }
    for (size_t i = 0; i < rows->count; i++) {
        if (rows->labels[i] == NULL) {
            char label[32];
            snprintf(label, sizeof label, "task %d", rows->tids[i]);
            rows->labels[i] = strdup(label);
        }
    }
    place_rows(events, rows);
}

/* A task failed if the scenario said so in its args ("outcome" other
 * than "ok"); traces without an outcome count as fine. */
static bool event_failed(const json_t *event)
{
    const char *outcome = text_or(json_object_get(event, "args"), "outcome", NULL);
    return outcome != NULL && strcmp(outcome, "ok") != 0;
}

/* The latest end of any task in a trace file, in seconds (0 if none). */
static double trace_end(const char *path)
{
    char why[256];
    json_t *tasks = trace_read_tasks(path, NULL, why, sizeof why);
    double end = 0;
    size_t index;
    const json_t *event;
    json_array_foreach(tasks, index, event) {
        double stop = (number_or_nan(event, "ts") + number_or_nan(event, "dur")) / 1e6;
        if (strcmp(text_or(event, "ph", ""), "X") == 0 && isfinite(stop) && stop > end)
            end = stop;
    }
    json_decref(tasks);
    return end;
}

/* Draws one variant's trace as a Gantt chart.  Returns false if there was
 * no usable trace (the report then says so instead of embedding a chart). */
static bool draw_timeline(const char *trace_path, const char *svg_path, const char *title,
                          double x_max)
{
    char why[256];
    bool one_thread = false;
    json_t *events = trace_read_tasks(trace_path, &one_thread, why, sizeof why);
    if (events == NULL)
        return false;
    char titled[320];
    snprintf(titled, sizeof titled, "%s%s", title, one_thread ? ", every task on one thread" : "");
    struct trace_rows *rows = calloc(1, sizeof *rows);
    struct chart_span *spans = calloc(json_array_size(events) + 1, sizeof *spans);
    size_t count = 0;
    if (rows != NULL && spans != NULL) {
        collect_rows(events, rows);
        size_t index;
        const json_t *event;
        json_array_foreach(events, index, event) {
            double ts = number_or_nan(event, "ts"), dur = number_or_nan(event, "dur");
            if (strcmp(text_or(event, "ph", ""), "X") != 0 || !isfinite(ts) || !isfinite(dur))
                continue;
            int tid = (int)number_or_nan(event, "tid");
            int *found = bsearch(&tid, rows->tids, rows->count, sizeof tid, compare_ints);
            if (found == NULL)
                continue;
            spans[count++] = (struct chart_span){ rows->place[found - rows->tids], ts / 1e6,
                                                  (ts + dur) / 1e6, text_or(event, "name", ""),
                                                  event_failed(event) };
        }
    }
    const char **labels = rows ? calloc(rows->count + 1, sizeof *labels) : NULL;
    for (size_t i = 0; labels != NULL && i < rows->count; i++)
        labels[rows->place[i]] = rows->labels[i];
    bool drawn = count > 0 && labels != NULL
                 && chart_timeline(svg_path, titled, spans, count, labels, rows->count,
                                   x_max) == 0;
    free(labels);
    if (count > 0 && !drawn)
        failures = true;
    for (size_t i = 0; rows != NULL && i < rows->count; i++)
        free(rows->labels[i]);
    free(rows);
    free(spans);
    json_decref(events);
    return drawn;
}

/* ------------------------------------------------------------ provenance */

/* "*Measured 2026-12-01T21:44:12Z on <cpu>, 2 cores, <kernel> (how).*": every
 * section says when and where its numbers come from, since a section may
 * come from another run than the one beside it (bench-scale's). */
static void write_measured_on(FILE *md, const char *date, const json_t *machine,
                              const char *how)
{
    fputs("*Measured ", md);
    if (date != NULL)
        fprintf(md, "%s ", date);
    if (json_is_object(machine))
        fprintf(md, "on %s, %d cores, %s, ", text_or(machine, "cpu", "an unknown CPU"),
                (int)number_or_nan(machine, "cores"),
                text_or(machine, "kernel", "an unknown kernel"));
    fprintf(md, "by %s", how);
    if (date == NULL || !json_is_object(machine))
        fprintf(md, " (%s not recorded)",
                date == NULL && !json_is_object(machine) ? "date and machine"
                : date == NULL ? "date" : "machine");
    fputs(".*\n\n", md);
}

static void write_measured_by_bench(FILE *md, const json_t *summary)
{
    char how[256];
    snprintf(how, sizeof how, "`%s`", text_or(summary, "command", "make bench"));
    write_measured_on(md, text_or(summary, "date", NULL), json_object_get(summary, "machine"),
                      how);
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

/* Runs that failed other than as the lesson means them to. */
static bool really_failed(const struct hyperfine_result *measured, bool by_design)
{
    return measured != NULL && measured->failed_runs > 0
           && !(by_design && measured->first_failure == EXIT_TASKS_FAILED);
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

static void write_table(FILE *md, const struct variant_row *rows, size_t count, bool by_design)
{
    const struct hyperfine_result *baseline = rows[0].measured;
    /* The lesson's ratios are taken over the first row it has a number for
     * (the database lesson timed only its PostgreSQL programs). */
    const struct variant_row *lesson_baseline = NULL;
    for (size_t i = 0; i < count && lesson_baseline == NULL; i++)
        if (isfinite(rows[i].lesson))
            lesson_baseline = &rows[i];
    fprintf(md, "| variant | median | stddev | speedup over %s | predicted | efficiency | "
            "runs | Python lesson | lesson's speedup |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n", rows[0].name);
    for (size_t i = 0; i < count; i++) {
        const struct variant_row *row = &rows[i];
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
        /* The lesson's seconds are another machine's (and, for some
         * lessons, another database's): its ratios are what compare. */
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
        failures = true;
}

static void draw_timelines(const struct paths *paths, const char *scenario,
                           const struct variant_row *rows, size_t count, const char *scale_text,
                           FILE *md)
{
    /* One x axis for the whole scenario, so a longer run looks longer. */
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
    fputs("\nTimelines, one traced run per variant (each bar is one task, from start to "
          "finish; red: the task failed):\n", md);
    for (size_t i = 0; i < count; i++) {
        char trace[PATH_MAX], svg[PATH_MAX], file[256], safe[128], title[256];
        file_safe(rows[i].name, safe, sizeof safe);
        snprintf(file, sizeof file, "charts/timeline-%s-%s.svg", scenario, safe);
        path_in(svg, sizeof svg, paths->out, file);
        snprintf(title, sizeof title, "%s %s%s: one traced run", scenario, rows[i].name,
                 scale_text);
        if (rows[i].trace != NULL)
            path_in(trace, sizeof trace, paths->in, rows[i].trace);
        if (rows[i].trace != NULL && draw_timeline(trace, svg, title, x_max))
            fprintf(md, "\n![%s %s timeline](%s)\n", scenario, rows[i].name, file);
        else
            fprintf(md, "\n- %s: no trace to draw (%s)\n", rows[i].name,
                    rows[i].trace ? rows[i].trace : "none recorded");
    }
}

static void write_scenario(const struct paths *paths, const json_t *summary,
                           const json_t *entry, const char *scale_text, FILE *md)
{
    const char *name = text_or(entry, "name", "?");
    bool by_design = json_is_true(json_object_get(entry, "fails_by_design"));
    fprintf(md, "\n## %s\n\n", name);
    write_measured_by_bench(md, summary);
    if (json_is_true(json_object_get(entry, "uses_server")))
        fputs("Against the bundled slowserver on loopback. ", md);
    else
        fputs("No slowserver involved. ", md);
    fprintf(md, "Lesson: [docs/%s.md](../docs/%s.md).%s\n\n", name, name,
            by_design ? " Some tasks fail **by design** in this lesson (exit status 3), "
                        "so its runs are timed with hyperfine's `--ignore-failure`." : "");

    char json_path[PATH_MAX], why[1024] = "";
    path_in(json_path, sizeof json_path, paths->in, text_or(entry, "hyperfine_json", ""));
    struct hyperfine_file measured = { 0 };
    bool have_measurements = hyperfine_load(json_path, &measured, why, sizeof why) == 0;
    if (have_measurements && why[0])
        fprintf(stderr, "%s: note: %s\n", PROGRAM, why);
    if (!json_is_true(json_object_get(entry, "measured")))
        fprintf(md, "**Not measured:** %s\n\n", text_or(entry, "error", "no reason recorded"));
    else if (!have_measurements)
        fprintf(md, "**No measurements:** %s\n\n", why);

    struct variant_row rows[MAX_VARIANTS];
    size_t count = 0, index;
    const json_t *variant;
    json_array_foreach(json_object_get(entry, "variants"), index, variant)
        if (count < MAX_VARIANTS)
            read_variant(variant, have_measurements ? &measured : NULL, &rows[count++]);

    if (count == 0) {
        hyperfine_free(&measured);
        return;
    }
    /* Even unmeasured, the table shows what the run would be compared with. */
    write_table(md, rows, count, by_design);
    const char *note = text_or(entry, "lesson_note", NULL);
    if (note != NULL)
        fprintf(md, "\nPython lesson numbers: %s.\n", note);
    write_commands(md, rows, count);
    if (have_measurements) {
        /* The scale multiplies slowserver's delays; without the server
         * there is nothing for it to multiply (the database lesson). */
        char at_scale[64];
        snprintf(at_scale, sizeof at_scale, json_is_true(json_object_get(entry, "uses_server"))
                 ? " at scale %s" : " (no server delays: the scale does not apply)", scale_text);
        draw_bars(paths, name, rows, count, at_scale, by_design, md);
        draw_timelines(paths, name, rows, count, at_scale, md);
    }
    hyperfine_free(&measured);
}

/* ------------------------------------------------------------ the sweep */

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

static void write_sweep(const struct paths *paths, const json_t *summary, FILE *md)
{
    const json_t *sweep = json_object_get(summary, "sweep");
    struct chart_point sync[32], async[32];
    char sync_why[1024] = "", async_why[1024] = "";
    size_t sync_count = read_sweep_side(paths, json_object_get(sweep, "sync"), sync, 32,
                                        sync_why, sizeof sync_why);
    size_t async_count = read_sweep_side(paths, json_object_get(sweep, "async"), async, 32,
                                         async_why, sizeof async_why);
    double delay = number_or_nan(sweep, "delay_s"), cap = number_or_nan(sweep, "cap_s");
    const char *scenario = text_or(sweep, "scenario", "slow_api");
    fprintf(md, "\n## Scaling sweep: %s, K requests of %g s each\n\n", scenario, delay);
    write_measured_by_bench(md, summary);
    fprintf(md, "The same delay K times: sync sends them one after another, async all at once. "
            "Median of %d run%s per K; sync only while its prediction stays under %g s.\n\n",
            (int)number_or_nan(sweep, "runs"), number_or_nan(sweep, "runs") == 1 ? "" : "s", cap);
    if (sync_why[0])
        fprintf(md, "Sync: %s.\n\n", sync_why);
    if (async_why[0])
        fprintf(md, "Async: %s.\n\n", async_why);
    if (sync_count + async_count == 0)
        return;

    fputs("| K | sync median | sync predicted | async median | async predicted | async "
          "efficiency | async speedup over sync |\n|---:|---:|---:|---:|---:|---:|---:|\n", md);
    /* Every K either side measured, in the order the async side has them
     * (it has them all unless it failed). */
    const struct chart_point *order = async_count >= sync_count ? async : sync;
    size_t order_count = async_count >= sync_count ? async_count : sync_count;
    for (size_t i = 0; i < order_count; i++) {
        double k = order[i].k;
        const struct chart_point *s = point_for(sync, sync_count, k);
        const struct chart_point *a = point_for(async, async_count, k);
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
    char svg[PATH_MAX], title[256], x_label[128];
    path_in(svg, sizeof svg, paths->out, "charts/sweep.svg");
    snprintf(title, sizeof title, "%s: elapsed time against the number of requests K",
             scenario);
    snprintf(x_label, sizeof x_label, "K: requests, each asking for a %g s delay", delay);
    if (chart_sweep(svg, title, x_label, sync, sync_count, async, async_count) == 0)
        fputs("\n![elapsed against K on log axes, sync and async, measured and "
              "predicted](charts/sweep.svg)\n", md);
    else
        failures = true;
}

/* ------------------------------------------------------------ header */

/* ------------------------------------------------------------ scale (bench_scale) */

#define MAX_SCALE_PAIRINGS 8
#define MAX_SCALE_KS 16

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
        failures = true;
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

/* The scale section, from DIR/scale.json if `make bench-scale` wrote one. */
static void write_scale(const struct paths *paths, FILE *md)
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
        struct scale_line *line = scale_line_for(lines, &line_count, text_or(run, "pairing", "?"));
        if (line == NULL || line->count == MAX_SCALE_KS)
            continue;
        bool ok = json_is_true(json_object_get(run, "ok"));
        if (!ok && line->stopped[0] == '\0')
            stop_note(run, line->stopped, sizeof line->stopped);
        line->k[line->count] = number_or_nan(run, "k");
        line->ratio[line->count] = ok ? number_or_nan(run, "elapsed_over_delay") : NAN;
        line->client_mb[line->count] = ok ? number_or_nan(run, "client_peak_rss_kb") / 1024 : NAN;
        line->server_mb[line->count] = ok ? number_or_nan(run, "server_peak_rss_kb") / 1024 : NAN;
        line->count++;
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

/* ------------------------------------------------------------ service (gateway_load) */

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
        failures = true;
}

/* The service section, from DIR/service.json if gateway_load wrote one. */
static void write_service(const struct paths *paths, FILE *md)
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

static void write_header(const json_t *summary, FILE *md, const char *scale_text)
{
    const json_t *machine = json_object_get(summary, "machine");
    const json_t *versions = json_object_get(summary, "versions");
    char gnuplot[128];
    chart_gnuplot_version(gnuplot, sizeof gnuplot);
    const char *scale_name = text_or(summary, "scale_name", NULL);
    fprintf(md, "# asynclab benchmark report\n\n"
            "Made by `%s` on %s; rendered from the JSON beside this file by `make report`. "
            "How to read it: [docs/harness.md](../docs/harness.md).\n\n",
            text_or(summary, "command", "make bench"), text_or(summary, "date", "an unknown date"));
    fprintf(md, "| | |\n|---|---|\n");
    fprintf(md, "| scale | %s%s%s (every delay × %s; 1 is the lessons' own numbers) |\n",
            scale_text, scale_name ? " = " : "", scale_name ? scale_name : "", scale_text);
    fprintf(md, "| runs | %d timed runs per variant after %d warm-up run%s |\n",
            (int)number_or_nan(summary, "runs"), (int)number_or_nan(summary, "warmup"),
            number_or_nan(summary, "warmup") == 1 ? "" : "s");
    fprintf(md, "| suite wall time | %.0f s |\n", number_or_nan(summary, "wall_time_s"));
    fprintf(md, "| CPU | %s, %d cores online |\n", text_or(machine, "cpu", "unknown"),
            (int)number_or_nan(machine, "cores"));
    fprintf(md, "| kernel | %s |\n", text_or(machine, "kernel", "unknown"));
    fprintf(md, "| memory | %.0f MB |\n", number_or_nan(machine, "memory_mb"));
    fprintf(md, "| libraries | libcurl %s, libmicrohttpd %s, SQLite %s, jansson %s |\n",
            text_or(versions, "libcurl", "?"), text_or(versions, "libmicrohttpd", "?"),
            text_or(versions, "sqlite", "?"), text_or(versions, "jansson", "?"));
    fprintf(md, "| tools | hyperfine %s; charts by %s |\n", text_or(versions, "hyperfine", "?"),
            gnuplot[0] ? gnuplot : "gnuplot (version unknown)");
    fputs("\n**Columns.** *median* and *stddev*: hyperfine's, over the timed runs "
          "(wall time of the whole program, start-up included). *speedup*: the first "
          "variant's median divided by this one's. *predicted*: what the lesson's model says "
          "(`--predict`: the sum of the delays for sync, the longest for async, ...). "
          "*efficiency*: predicted / measured, 100 % is the model's ideal. *Python lesson*: "
          "what the original Python lesson printed (at scale 1, on its own machine), and "
          "*lesson's speedup* the same ratio as ours computed from those numbers: compare "
          "the speedups, not the seconds.\n", md);
}

/* ------------------------------------------------------------ overview */

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

static void write_overview(const struct paths *paths, const json_t *summary, FILE *md)
{
    fputs("\n## At a glance\n\n| scenario | baseline | fastest | its speedup | status |\n"
          "|---|---:|---|---:|---|\n", md);
    size_t index;
    const json_t *entry;
    json_array_foreach(json_object_get(summary, "scenarios"), index, entry)
        write_overview_line(paths, entry, md);
}

/* ------------------------------------------------------------ main */

static void usage(FILE *stream)
{
    fprintf(stream, "usage: %s [DIR] [--out DIR2]\n"
            "Renders DIR/REPORT.md and DIR/charts/*.svg from DIR/summary.json and the JSON\n"
            "files it names (as written by bench).  DIR defaults to build/results, where\n"
            "make bench writes; --out writes them to DIR2 instead.\n"
            "Example: %s results\n", PROGRAM, PROGRAM);
}

static const struct option OPTIONS[] = {
    { "out", required_argument, NULL, 0 },
    { NULL, 0, NULL, 0 },
};

static int apply_option(void *context, const struct option *option, const char *value)
{
    (void)option;  /* --out, the only one */
    ((struct paths *)context)->out = value;
    return -1;
}

static int parse_options(int argc, char **argv, struct paths *paths)
{
    paths->in = "build/results";  /* where make bench writes */
    paths->out = NULL;
    const char *dir[1] = { NULL };
    size_t dirs = 0;
    const struct args_parser parser = {
        .program = PROGRAM,
        .options = OPTIONS,
        .apply = apply_option,
        .usage = usage,
        .context = paths,
        .operands = dir,
        .operand_max = 1,
        .operand_count = &dirs,
    };
    int status = args_parse(&parser, argc, argv);
    if (status >= 0)
        return status;
    if (dirs == 1)
        paths->in = dir[0];
    if (paths->out == NULL)
        paths->out = paths->in;
    return -1;
}

static bool make_dir(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return true;
    fprintf(stderr, "%s: cannot create %s: %s\n", PROGRAM, path, strerror(errno));
    return false;
}

static json_t *load_summary(const char *dir)
{
    char path[PATH_MAX];
    path_in(path, sizeof path, dir, "summary.json");
    json_error_t error;
    json_t *summary = json_load_file(path, 0, &error);
    if (summary == NULL) {
        if (errno == ENOENT || strstr(error.text, "No such file"))
            fprintf(stderr, "%s: no %s; run make bench first\n", PROGRAM, path);
        else
            fprintf(stderr, "%s: cannot read %s: %s (line %d)\n", PROGRAM, path, error.text,
                    error.line);
        return NULL;
    }
    if (!json_is_object(summary) || !json_is_array(json_object_get(summary, "scenarios"))) {
        fprintf(stderr, "%s: %s is not a summary written by bench (no \"scenarios\" list)\n",
                PROGRAM, path);
        json_decref(summary);
        return NULL;
    }
    return summary;
}

int main(int argc, char **argv)
{
    struct paths paths;
    int early_exit = parse_options(argc, argv, &paths);
    if (early_exit >= 0)
        return early_exit;
    json_t *summary = load_summary(paths.in);
    if (summary == NULL)
        return EXIT_SETUP;
    char charts[PATH_MAX], report_path[PATH_MAX];
    path_in(charts, sizeof charts, paths.out, "charts");
    path_in(report_path, sizeof report_path, paths.out, "REPORT.md");
    /* Written beside REPORT.md and renamed over it when complete: Ctrl+C
     * while rendering leaves the old report, never an empty one. */
    struct atomic_file report_file;
    FILE *md = NULL;
    if (!make_dir(paths.out) || !make_dir(charts)
        || (md = atomic_file_open(&report_file, report_path)) == NULL) {
        if (md == NULL && errno)
            fprintf(stderr, "%s: cannot write %s: %s\n", PROGRAM, report_path, strerror(errno));
        json_decref(summary);
        return EXIT_SETUP;
    }

    double scale = number_or_nan(summary, "scale");
    char scale_text[32] = "?";
    if (isfinite(scale))
        snprintf(scale_text, sizeof scale_text, "%g", scale);
    write_header(summary, md, scale_text);
    write_overview(&paths, summary, md);
    size_t index;
    const json_t *entry;
    json_array_foreach(json_object_get(summary, "scenarios"), index, entry)
        write_scenario(&paths, summary, entry, scale_text, md);
    if (json_is_object(json_object_get(summary, "sweep")))
        write_sweep(&paths, summary, md);
    write_scale(&paths, md);
    write_service(&paths, md);
    bool written = atomic_file_commit(&report_file);
    json_decref(summary);
    if (!written) {
        fprintf(stderr, "%s: cannot finish %s\n", PROGRAM, report_path);
        return EXIT_SETUP;
    }
    printf("Report: %s%s\n", report_path, failures ? " (some charts are missing, see above)" : "");
    return failures ? EXIT_SETUP : EXIT_ALL_DONE;
}
