/*
 * charts.h - the report's SVG charts, drawn by gnuplot.
 *
 * Each function writes a small gnuplot script (the data inline, as a
 * "$data << EOD" block) to a temporary file and runs gnuplot on it; gnuplot
 * writes the SVG.  Unknown numbers are passed as NAN and left out of the
 * picture.  Each returns 0, or -1 after a one-line message on stderr.
 */
#ifndef ASYNCLAB_HARNESS_CHARTS_H
#define ASYNCLAB_HARNESS_CHARTS_H

#include <stdbool.h>
#include <stddef.h>

/* One variant's bar: the measured median with its spread, and the model. */
struct chart_bar {
    const char *label;      /* "async@blocking" */
    double median;          /* seconds */
    double stddev;          /* NAN: a single run */
    double predicted;       /* NAN: the program made no prediction */
    bool failed;            /* some runs failed: drawn in red */
};

int chart_bars(const char *svg_path, const char *title, const struct chart_bar *bars,
               size_t count);

/* One task of a traced run: a bar on its row from start to end. */
struct chart_span {
    int row;                /* 0 is the top row */
    double start, end;      /* seconds since the program started */
    const char *text;       /* written beside the bar ("R1 GET /delay-me?seconds=1") */
    bool failed;            /* drawn in red */
};

/* row_labels[row] names each row ("R1"); x_max is the right edge, shared by
 * the variants of one scenario so their timelines compare by eye. */
int chart_timeline(const char *svg_path, const char *title, const struct chart_span *spans,
                   size_t span_count, const char *const *row_labels, size_t row_count,
                   double x_max);

/* One K of the scaling sweep. */
struct chart_point {
    double k;               /* requests */
    double median, min, max;
    double predicted;
};

int chart_sweep(const char *svg_path, const char *title, const char *x_label,
                const struct chart_point *sync, size_t sync_count,
                const struct chart_point *async, size_t async_count);

/* One line of a line chart: y against x, NAN where there is no point. */
struct chart_series {
    const char *label;
    const double *x;
    const double *y;
    size_t count;
    const char *stopped;    /* NULL, or why the line ends before the others
                               ("K = 10000 failed"): written at its last point */
};

/* Lines with points on a log x axis (and a log y axis if log_y); a dashed
 * horizontal line at `reference` unless it is NAN (the ideal, say 1.0).
 * With y_from_zero the y axis starts at 0 (memory: an axis below 0 would
 * show amounts that cannot be). */
int chart_lines(const char *svg_path, const char *title, const char *x_label,
                const char *y_label, const struct chart_series *series, size_t count,
                bool log_y, bool y_from_zero, double reference);

/* "gnuplot 5.4 patchlevel 4", or "" if gnuplot cannot be run. */
void chart_gnuplot_version(char *text, size_t size);

#endif
