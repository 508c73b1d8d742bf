/*
 * report.h - what the parts of `report` (harness/report.c and
 * harness/report/) share.  Each section of REPORT.md has a file of its own
 * here: scenario.c (one table, bar chart and timelines per scenario),
 * overview.c ("At a glance"), sweep.c, scale.c (bench_scale's run) and
 * service.c (gateway_load's); timeline.c turns a trace into a Gantt chart;
 * results.c reads values out of the JSON files, markdown.c writes cells.
 */
#ifndef ASYNCLAB_REPORT_H
#define ASYNCLAB_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "hyperfine.h"

extern const char REPORT_PROGRAM[];   /* "report", for messages */

/* A chart or a file could not be made: the report is still written, and
 * report exits 2 afterwards to say it is incomplete. */
extern bool report_failures;

struct paths {
    const char *in;   /* where summary.json and its files are */
    const char *out;  /* where REPORT.md and charts/ go (default: in) */
};

/* ---------------------------------------------------------------- results.c */

/* DIR/FILE into path. */
void path_in(char *path, size_t size, const char *dir, const char *file);
/* A JSON number, NAN when missing or not a number. */
double number_or_nan(const json_t *object, const char *key);
double item_or_nan(const json_t *array, size_t index);
/* A JSON string, fallback when missing. */
const char *text_or(const json_t *object, const char *key, const char *fallback);
/* Runs that failed other than as the lesson means them to. */
bool really_failed(const struct hyperfine_result *measured, bool by_design);

/* ---------------------------------------------------------------- markdown.c */

/* A time for a table: "1.702 s", "4.9 ms", "40 µs", a dash when unknown;
 * returns text, or the dash. */
const char *seconds(double value, char *text, size_t size);
/* text as a Markdown table cell ('|' escaped, newlines as spaces). */
void put_cell_text(FILE *md, const char *text);
/* "*Measured <date> on <machine> by <how>.*" */
void write_measured_on(FILE *md, const char *date, const json_t *machine, const char *how);
void write_measured_by_bench(FILE *md, const json_t *summary);

/* ---------------------------------------------------------------- timeline.c */

/* The latest end of any task in a trace file, in seconds (0 if none). */
double trace_end(const char *path);
/* One trace as a Gantt chart in svg_path; false if there was no usable trace. */
bool draw_timeline(const char *trace_path, const char *svg_path, const char *title,
                   double x_max);

/* ---------------------------------------------------------------- the sections */

void write_overview(const struct paths *paths, const json_t *summary, FILE *md);
void write_scenario(const struct paths *paths, const json_t *summary, const json_t *entry,
                    const char *scale_text, FILE *md);
void write_sweep(const struct paths *paths, const json_t *summary, FILE *md);
void write_scale(const struct paths *paths, FILE *md);
void write_service(const struct paths *paths, FILE *md);

/* How many Ks a line of the scale and service charts holds at most. */
#define MAX_SCALE_KS 16

#endif
