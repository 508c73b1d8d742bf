/* charts.c - gnuplot scripts for the report's charts; see charts.h. */
#include "charts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"

/* Colour-blind safe (after Paul Tol's palettes), each dark enough to read
 * as a thin line on white: blue, green, ochre, teal, purple. */
static const char *const COLOURS[] = { "#4477aa", "#228833", "#aa7700", "#008877", "#aa3377" };
#define FAILED_COLOUR "#cc3311"
#define MODEL_COLOUR "#555555"
#define TASK_COLOUR "#77aadd"   /* light enough for black text across it */

/* A colour as the number "lc rgb variable" reads from a data column. */
static void put_colour(FILE *script, const char *hex)
{
    fprintf(script, " %ld", strtol(hex + 1, NULL, 16));
}

/* A number for a data block, or gnuplot's missing-value mark. */
static void put_number(FILE *script, double value)
{
    if (isfinite(value))
        fprintf(script, " %.6f", value);
    else
        fputs(" ?", script);
}

/* A string for a data block: double quotes, with any inside them softened. */
static void put_text(FILE *script, const char *text)
{
    fputs(" \"", script);
    for (const char *c = text ? text : ""; *c; c++)
        fputc(*c == '"' ? '\'' : *c == '\n' ? ' ' : *c, script);
    fputc('"', script);
}

/* A string inside a gnuplot command: single quotes, a quote doubled. */
static void put_quoted(FILE *script, const char *text)
{
    fputc('\'', script);
    for (const char *c = text; *c; c++) {
        if (*c == '\'')
            fputc('\'', script);
        fputc(*c, script);
    }
    fputc('\'', script);
}

/* A script file to fill; its path goes in path[]. */
static FILE *open_script(char *path, size_t size)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, size, "%s/asynclab-chart-XXXXXX", dir && dir[0] ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "report: cannot create a temporary file for gnuplot in %s\n",
                dir && dir[0] ? dir : "/tmp");
        return NULL;
    }
    return fdopen(fd, "w");
}

/* The lines every chart starts with: an SVG of this size, plain text
 * (noenhanced: "slow_api" must not become "slow" with a subscript). */
static void put_preamble(FILE *script, const char *svg_path, int width, int height,
                         const char *title)
{
    fprintf(script, "set terminal svg size %d,%d noenhanced font 'Helvetica,13' "
            "background rgb 'white'\n", width, height);
    fputs("set output ", script);
    put_quoted(script, svg_path);
    fputs("\nset title ", script);
    put_quoted(script, title);
    fputs("\nset datafile missing '?'\nset border 3\nset tics nomirror\n", script);
}

/* Runs gnuplot on the finished script and removes it. */
static int run_gnuplot(FILE *script, const char *script_path, const char *svg_path)
{
    bool written = fclose(script) == 0;
    char *errors = NULL;
    char *const argv[] = { "gnuplot", (char *)script_path, NULL };
    int status = written ? launch_capture("report", argv, NULL, &errors) : -1;
    unlink(script_path);
    if (!written) {
        fprintf(stderr, "report: cannot write the gnuplot script for %s\n", svg_path);
    } else if (status > 0) {  /* -1: it did not start, and launch said why */
        char line[256];
        launch_last_line(errors, line, sizeof line);
        fprintf(stderr, "report: gnuplot could not draw %s: %s\n", svg_path,
                line[0] ? line : "no reason given");
    }
    free(errors);
    return status == 0 ? 0 : -1;
}

/* One line per bar: x, label, median, stddev, colour, label height, the
 * text above the bar. */
static void put_bar_data(FILE *script, const struct chart_bar *bars, size_t count)
{
    fputs("$bars << EOD\n", script);
    for (size_t i = 0; i < count; i++) {
        const struct chart_bar *bar = &bars[i];
        double spread = isfinite(bar->stddev) ? bar->stddev : 0.0;
        double top = bar->median + spread;
        if (isfinite(bar->predicted) && !(bar->predicted <= top))
            top = bar->predicted;
        fprintf(script, "%zu", i);
        put_text(script, bar->label);
        put_number(script, bar->median);
        put_number(script, spread);
        put_colour(script, bar->failed ? FAILED_COLOUR
                                        : COLOURS[i % (sizeof COLOURS / sizeof COLOURS[0])]);
        put_number(script, top);
        char text[64] = "";
        if (isfinite(bar->median))
            snprintf(text, sizeof text, "%.3f s%s", bar->median,
                     bar->failed ? " (runs failed)" : "");
        put_text(script, text);
        fputc('\n', script);
    }
    fputs("EOD\n", script);
}

/* The model's prediction: one short line across each bar.  A blank line
 * between segments keeps gnuplot from joining them.  Returns whether any
 * bar has a prediction. */
static bool put_model_data(FILE *script, const struct chart_bar *bars, size_t count)
{
    fputs("$model << EOD\n", script);
    bool any_prediction = false;
    for (size_t i = 0; i < count; i++) {
        if (isfinite(bars[i].predicted)) {
            fprintf(script, "%f %f\n%f %f\n\n", (double)i - 0.38, bars[i].predicted,
                    (double)i + 0.38, bars[i].predicted);
            any_prediction = true;
        }
    }
    fputs("? ?\nEOD\n", script);
    return any_prediction;
}

int chart_bars(const char *svg_path, const char *title, const struct chart_bar *bars,
               size_t count)
{
    char script_path[4096];
    FILE *script = open_script(script_path, sizeof script_path);
    if (script == NULL)
        return -1;
    put_preamble(script, svg_path, 720, 420, title);
    fputs("set ylabel 'seconds'\nset yrange [0:*]\nset offsets 0,0,graph 0.12,0\n"
          "set xtics scale 0\n"
          "set grid ytics lc rgb '#dddddd'\n"
          "set boxwidth 0.6\nset style fill solid 0.85 border rgb '#333333'\n"
          "set key outside bottom center horizontal\n", script);
    fprintf(script, "set xrange [-0.6:%f]\n", (double)count - 0.4);
    put_bar_data(script, bars, count);
    bool any_prediction = put_model_data(script, bars, count);
    fputs("plot $bars using 1:3:5:xtic(2) with boxes lc rgb variable "
          "title 'measured: median of the runs', \\\n"
          /* Head size in screen units: in x units the key's sample grows with
           * fewer bars until it draws as an open box. */
          "  '' using 1:($3-$4):(0):(2*$4) with vectors heads size screen 0.008,90 "
          "lc rgb '#222222' title 'spread: one standard deviation', \\\n", script);
    if (any_prediction)
        fputs("  $model using 1:2 with lines lw 3 dt 2 lc rgb '" FAILED_COLOUR "' "
              "title 'predicted by the model (--predict)', \\\n", script);
    else
        fputs("  NaN with lines lc rgb '#ffffff' "
              "title 'no model line: --predict has no number for these programs', \\\n",
              script);
    fputs("  $bars using 1:6:7 with labels offset 0,0.9 font ',11' notitle\n", script);
    return run_gnuplot(script, script_path, svg_path);
}

/* Where a task's text goes in a timeline: never across a bar's edge, where
 * half of it would sit on the bar's colour and half on white. */
enum placement {
    TEXT_NONE,
    TEXT_AFTER_START,   /* inside the bar from its start: the bar is long enough */
    TEXT_AFTER_END,     /* on white right of the bar's end */
    TEXT_BEFORE_START,  /* on white left of the bar's start, near the right edge */
    TEXT_INSIDE,        /* the first word, centred, when several tasks share a row */
};

/* About how wide a character of the 10-point label font is, in data units
 * of an 800-pixel-wide chart whose plot area is about 700 pixels. */
static double character_width(double x_range)
{
    return x_range * 6.5 / 700.0;
}

static enum placement label_placement(const struct chart_span *span, int tasks_on_row,
                                      size_t row_count, double x_range, char *text,
                                      size_t size)
{
    text[0] = '\0';
    if (row_count > 12 || span->text == NULL)
        return TEXT_NONE;
    if (tasks_on_row == 1) {
        snprintf(text, size, "%s", span->text);
        double text_width = character_width(x_range) * (double)(strlen(text) + 2);
        if (span->end - span->start > text_width)
            return TEXT_AFTER_START;
        if (span->end + text_width > x_range && span->start - text_width >= 0)
            return TEXT_BEFORE_START;
        return TEXT_AFTER_END;
    }
    /* Shared row: the first word ("I3"), and only if it fits in the bar. */
    snprintf(text, size, "%.*s", (int)strcspn(span->text, " "), span->text);
    double text_width = character_width(x_range) * (double)(strlen(text) + 1);
    return span->end - span->start > text_width ? TEXT_INSIDE : TEXT_NONE;
}

/* The axes: seconds across, one row per task or thread down (named while
 * there are few enough rows to read the names). */
static void put_timeline_axes(FILE *script, const char *const *row_labels, size_t row_count,
                              double x_max, bool label_rows)
{
    fputs("set xlabel 'seconds since the program started'\nset grid xtics lc rgb '#dddddd'\n",
          script);
    /* Borders on hundreds of thin bars would hide their colour. */
    fputs(label_rows ? "set style fill solid 0.85 border rgb '#333333'\n"
                     : "set style fill solid 1.0 noborder\n", script);
    fprintf(script, "set xrange [0:%f]\n", x_max > 0 ? x_max * 1.02 : 1.0);  /* = right, below */
    fprintf(script, "set yrange [%f:-0.6]\n", (double)row_count - 0.4);
    if (label_rows) {
        fputs("set ytics (", script);
        for (size_t row = 0; row < row_count; row++) {
            put_quoted(script, row_labels[row] ? row_labels[row] : "?");
            fprintf(script, " %zu%s", row, row + 1 < row_count ? ", " : "");
        }
        fputs(")\n", script);
    } else {
        fprintf(script, "set ylabel '%zu tasks, one per row'\nunset ytics\n", row_count);
    }
}

/* One line per task: centre x, row, half width, half height, colour,
 * text, text x, placement.  Returns whether any task failed. */
static bool put_span_data(FILE *script, const struct chart_span *spans, size_t span_count,
                          size_t row_count, double x_max, bool label_rows)
{
    double half_height = label_rows ? 0.32 : 0.45;
    double right = x_max > 0 ? x_max * 1.02 : 1.0;
    bool any_failed = false;
    int *per_row = calloc(row_count + 1, sizeof *per_row);
    for (size_t i = 0; per_row != NULL && i < span_count; i++)
        if (spans[i].row >= 0 && (size_t)spans[i].row < row_count)
            per_row[spans[i].row]++;
    fputs("$spans << EOD\n", script);
    for (size_t i = 0; i < span_count; i++) {
        const struct chart_span *span = &spans[i];
        char text[128];
        enum placement placement = label_placement(span, per_row ? per_row[span->row] : 2,
                                                   row_count, right, text, sizeof text);
        fprintf(script, "%.6f %d %.6f %.3f", (span->start + span->end) / 2, span->row,
                (span->end - span->start) / 2, half_height);
        put_colour(script, span->failed ? FAILED_COLOUR : TASK_COLOUR);
        put_text(script, text);
        fprintf(script, " %.6f %d\n", placement == TEXT_AFTER_END ? span->end
                                       : placement == TEXT_INSIDE ? (span->start + span->end) / 2
                                       : span->start, (int)placement);
        any_failed = any_failed || span->failed;
    }
    free(per_row);
    fputs("EOD\n", script);
    return any_failed;
}

/* The bars, the key (red only when a task failed) and the texts. */
static void put_timeline_plot(FILE *script, bool any_failed)
{
    fputs("set key outside bottom center horizontal\n"
          "plot $spans using 1:2:3:4:5 with boxxyerror lc rgb variable notitle, \\\n"
          "  NaN with boxes lc rgb '" TASK_COLOUR "' title 'a task, from start to finish'",
          script);
    if (any_failed)
        fputs(", \\\n  NaN with boxes lc rgb '" FAILED_COLOUR "' "
              "title 'a task that failed (timeout, error reply)'", script);
    /* One labels plot per placement: gnuplot aligns a whole plot at once. */
    const char *alignments[] = { NULL, "left offset 0.4,0", "left offset 0.4,0",
                                 "right offset -0.4,0", "center" };
    for (int placement = TEXT_AFTER_START; placement <= TEXT_INSIDE; placement++)
        fprintf(script, ", \\\n  '' using ($8 == %d ? $7 : NaN):2:6 with labels %s "
                "font ',10' notitle", placement, alignments[placement]);
    fputc('\n', script);
}

int chart_timeline(const char *svg_path, const char *title, const struct chart_span *spans,
                   size_t span_count, const char *const *row_labels, size_t row_count,
                   double x_max)
{
    char script_path[4096];
    FILE *script = open_script(script_path, sizeof script_path);
    if (script == NULL)
        return -1;
    /* Beyond a few dozen rows a label per row is noise: draw thin bars and
     * let the shape (staircase or block) speak. */
    bool label_rows = row_count <= 40;
    int height = (label_rows ? 140 + 26 * (int)row_count : 640) + 30;  /* + the key */
    put_preamble(script, svg_path, 800, height, title);
    put_timeline_axes(script, row_labels, row_count, x_max, label_rows);
    bool any_failed = put_span_data(script, spans, span_count, row_count, x_max, label_rows);
    put_timeline_plot(script, any_failed);
    return run_gnuplot(script, script_path, svg_path);
}

static void put_points(FILE *script, const char *name, const struct chart_point *points,
                       size_t count)
{
    fprintf(script, "$%s << EOD\n", name);
    for (size_t i = 0; i < count; i++) {
        put_number(script, points[i].k);
        put_number(script, points[i].median);
        put_number(script, points[i].min);
        put_number(script, points[i].max);
        put_number(script, points[i].predicted);
        fputc('\n', script);
    }
    /* gnuplot refuses to plot an empty block; one unplottable line is fine. */
    if (count == 0)
        fputs("? ? ? ? ?\n", script);
    fputs("EOD\n", script);
}

/* Room around the points on both log axes, so no line lies on a border. */
static void put_sweep_ranges(FILE *script, const struct chart_point *sync, size_t sync_count,
                             const struct chart_point *async, size_t async_count)
{
    double k_low = INFINITY, k_high = 0, y_low = INFINITY, y_high = 0;
    const struct chart_point *sides[] = { sync, async };
    size_t counts[] = { sync_count, async_count };
    for (size_t side = 0; side < 2; side++) {
        for (size_t i = 0; i < counts[side]; i++) {
            const struct chart_point *p = &sides[side][i];
            double values[] = { p->median, p->min, p->max, p->predicted };
            k_low = fmin(k_low, p->k);
            k_high = fmax(k_high, p->k);
            for (size_t v = 0; v < 4; v++) {
                if (isfinite(values[v]) && values[v] > 0) {
                    y_low = fmin(y_low, values[v]);
                    y_high = fmax(y_high, values[v]);
                }
            }
        }
    }
    if (k_high > 0)
        fprintf(script, "set xrange [%g:%g]\n", k_low / 1.6, k_high * 1.6);
    if (y_high > 0)
        fprintf(script, "set yrange [%g:%g]\n", y_low / 2, y_high * 3);
}

int chart_sweep(const char *svg_path, const char *title, const char *x_label,
                const struct chart_point *sync, size_t sync_count,
                const struct chart_point *async, size_t async_count)
{
    char script_path[4096];
    FILE *script = open_script(script_path, sizeof script_path);
    if (script == NULL)
        return -1;
    put_preamble(script, svg_path, 760, 520, title);
    fputs("set logscale xy\nset xlabel ", script);
    put_quoted(script, x_label);
    fputs("\nset ylabel 'elapsed seconds'\nset grid xtics ytics mxtics mytics "
          "lc rgb '#e4e4e4'\nset key below maxrows 2\n"
          "set format x '%g'\nset format y '%g'\n", script);
    put_sweep_ranges(script, sync, sync_count, async, async_count);
    put_points(script, "sync", sync, sync_count);
    put_points(script, "async", async, async_count);
    fprintf(script,
            "plot $sync using 1:5 with lines dt 2 lw 1.5 lc rgb '%s' title 'sync model: K x delay', \\\n"
            "  $async using 1:5 with lines dt 3 lw 1.5 lc rgb '%s' title 'async model: one delay', \\\n"
            "  $sync using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb '%s' "
            "title 'sync measured (median, min-max)', \\\n"
            "  $async using 1:2:3:4 with yerrorlines lw 2 pt 5 lc rgb '%s' "
            "title 'async measured (median, min-max)'\n",
            MODEL_COLOUR, MODEL_COLOUR, COLOURS[0], COLOURS[1]);
    return run_gnuplot(script, script_path, svg_path);
}

void chart_gnuplot_version(char *text, size_t size)
{
    char *out = NULL;
    char *const argv[] = { "gnuplot", "--version", NULL };
    text[0] = '\0';
    if (launch_capture("report", argv, &out, NULL) == 0)
        launch_last_line(out, text, size);
    free(out);
}

/* The last point of a line that ends early, and the note why, in the
 * line's colour: without it a line that stops looks like one that was
 * never meant to go further. */
static void put_stop_notes(FILE *script, const struct chart_series *series, size_t count)
{
    for (size_t s = 0; s < count; s++) {
        const struct chart_series *line = &series[s];
        size_t last = line->count;
        for (size_t i = 0; i < line->count; i++)
            if (isfinite(line->x[i]) && isfinite(line->y[i]))
                last = i;
        if (line->stopped == NULL || last == line->count)
            continue;
        fprintf(script, "set label %zu ", s + 1);
        put_quoted(script, line->stopped);
        fprintf(script, " at %g,%g right offset -1.2,1.6 front font ',11' tc rgb '%s' "
                "point pt 6 ps 2.4 lw 2 lc rgb '%s'\n", line->x[last], line->y[last],
                COLOURS[s % (sizeof COLOURS / sizeof COLOURS[0])],
                COLOURS[s % (sizeof COLOURS / sizeof COLOURS[0])]);
    }
}

/* The smallest and largest x of every series (low > high if none). */
static void x_extent(const struct chart_series *series, size_t count, double *low,
                     double *high)
{
    *low = INFINITY;
    *high = -INFINITY;
    for (size_t s = 0; s < count; s++)
        for (size_t i = 0; i < series[s].count; i++)
            if (isfinite(series[s].x[i])) {
                *low = fmin(*low, series[s].x[i]);
                *high = fmax(*high, series[s].x[i]);
            }
}

/* One data block per series: $series0, $series1, ... */
static void put_series_data(FILE *script, const struct chart_series *series, size_t count)
{
    for (size_t s = 0; s < count; s++) {
        fprintf(script, "$series%zu << EOD\n", s);
        for (size_t i = 0; i < series[s].count; i++) {
            put_number(script, series[s].x[i]);
            put_number(script, series[s].y[i]);
            fputc('\n', script);
        }
        if (series[s].count == 0)
            fputs("? ?\n", script);
        fputs("EOD\n", script);
    }
}

static void put_lines_plot(FILE *script, const struct chart_series *series, size_t count,
                           bool draw_reference)
{
    fputs("plot ", script);
    for (size_t s = 0; s < count; s++) {
        fprintf(script, "%s$series%zu using 1:2 with linespoints lw 2 pt %zu lc rgb '%s' title ",
                s ? ", \\\n  " : "", s, 5 + 2 * (s % 4),
                COLOURS[s % (sizeof COLOURS / sizeof COLOURS[0])]);
        put_quoted(script, series[s].label);
    }
    if (draw_reference)
        fprintf(script, ", \\\n  $reference using 1:2 with lines dt 2 lw 1.5 lc rgb '%s' "
                "title 'ideal'", MODEL_COLOUR);
    fputc('\n', script);
}

int chart_lines(const char *svg_path, const char *title, const char *x_label,
                const char *y_label, const struct chart_series *series, size_t count,
                bool log_y, bool y_from_zero, double reference)
{
    char script_path[4096];
    FILE *script = open_script(script_path, sizeof script_path);
    if (script == NULL)
        return -1;
    put_preamble(script, svg_path, 760, 520, title);
    fprintf(script, "set logscale x\n%sset xlabel ", log_y ? "set logscale y\n" : "");
    put_quoted(script, x_label);
    fputs("\nset ylabel ", script);
    put_quoted(script, y_label);
    fputs("\nset grid xtics ytics mxtics lc rgb '#e4e4e4'\nset key top left reverse Left\n"
          "set format x '%g'\nset format y '%g'\n", script);
    /* The reference is two points spanning every x, not a function: a
     * function is sampled, and on a log axis its samples go astray. */
    double x_low, x_high;
    x_extent(series, count, &x_low, &x_high);
    /* Room around the points, except below the zero of a y_from_zero axis
     * (gnuplot's offset would take it down to -20 MB). */
    bool from_zero = y_from_zero && !log_y;
    fprintf(script, "set offsets graph 0.05, graph 0.05, graph 0.05, %s\n%s",
            from_zero ? "0" : "graph 0.05", from_zero ? "set yrange [0:*]\n" : "");
    bool draw_reference = isfinite(reference) && x_low <= x_high;
    if (draw_reference)
        fprintf(script, "$reference << EOD\n%g %g\n%g %g\nEOD\n", x_low, reference, x_high,
                reference);
    put_series_data(script, series, count);
    put_stop_notes(script, series, count);
    put_lines_plot(script, series, count, draw_reference);
    return run_gnuplot(script, script_path, svg_path);
}
