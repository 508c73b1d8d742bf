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
 * This file writes the header and puts the sections in order; each section
 * has a file in harness/report/ (report.h lists them).
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
#include "report/report.h"

const char REPORT_PROGRAM[] = "report";
static const char *const PROGRAM = REPORT_PROGRAM;

bool report_failures;

/* ------------------------------------------------------------ header */

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

/* REPORT.md, opened beside where it goes: it is renamed over the old one
 * when complete (atomic_file_commit), so Ctrl+C while rendering leaves the
 * old report, never an empty one.  NULL after a message. */
static FILE *open_report(const struct paths *paths, struct atomic_file *report_file,
                         char *report_path, size_t size)
{
    char charts[PATH_MAX];
    path_in(charts, sizeof charts, paths->out, "charts");
    path_in(report_path, size, paths->out, "REPORT.md");
    FILE *md = NULL;
    if (!make_dir(paths->out) || !make_dir(charts)
        || (md = atomic_file_open(report_file, report_path)) == NULL) {
        if (md == NULL && errno)
            fprintf(stderr, "%s: cannot write %s: %s\n", PROGRAM, report_path, strerror(errno));
        return NULL;
    }
    return md;
}

/* Every section, in the order a reader wants them: the suite at a glance,
 * each scenario, then the runs of their own (sweep, scale, service). */
static void write_sections(const struct paths *paths, const json_t *summary, FILE *md)
{
    double scale = number_or_nan(summary, "scale");
    char scale_text[32] = "?";
    if (isfinite(scale))
        snprintf(scale_text, sizeof scale_text, "%g", scale);
    write_header(summary, md, scale_text);
    write_overview(paths, summary, md);
    size_t index;
    const json_t *entry;
    json_array_foreach(json_object_get(summary, "scenarios"), index, entry)
        write_scenario(paths, summary, entry, scale_text, md);
    if (json_is_object(json_object_get(summary, "sweep")))
        write_sweep(paths, summary, md);
    write_scale(paths, md);
    write_service(paths, md);
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
    char report_path[PATH_MAX];
    struct atomic_file report_file;
    FILE *md = open_report(&paths, &report_file, report_path, sizeof report_path);
    if (md == NULL) {
        json_decref(summary);
        return EXIT_SETUP;
    }
    write_sections(&paths, summary, md);
    bool written = atomic_file_commit(&report_file);
    json_decref(summary);
    if (!written) {
        fprintf(stderr, "%s: cannot finish %s\n", PROGRAM, report_path);
        return EXIT_SETUP;
    }
    printf("Report: %s%s\n", report_path,
           report_failures ? " (some charts are missing, see above)" : "");
    return report_failures ? EXIT_SETUP : EXIT_ALL_DONE;
}
