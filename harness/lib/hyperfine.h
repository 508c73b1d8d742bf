/*
 * hyperfine.h - read the JSON that `hyperfine --export-json` writes, as
 * defensively as a file from another machine or another hyperfine deserves.
 *
 * What the file looks like depends on hyperfine's version:
 *   - 1.x: {"results":[{"command","mean","stddev","median","min","max",
 *     "times":[...],"exit_codes":[...],"parameters":{...}}, ...]};
 *     old 1.x has no "median" and no "exit_codes";
 *   - 2.x: the same results plus a top-level "schema_version".
 * "stddev" is null when there was a single run; an exit code is null when a
 * signal ended the run.  Whatever is missing is computed from "times" when
 * it can be, and otherwise left as NAN so the report prints a dash.
 */
#ifndef ASYNCLAB_HARNESS_HYPERFINE_H
#define ASYNCLAB_HARNESS_HYPERFINE_H

#include <stddef.h>

struct hyperfine_result {
    char name[128];         /* the command's name (-n), or the command */
    char parameter[64];     /* the first parameter's value ("" if none) */
    double mean, median, stddev, min, max;   /* seconds; NAN if unknown */
    size_t runs;            /* timed runs */
    size_t failed_runs;     /* runs with a non-zero (or no) exit code */
    int first_failure;      /* the first non-zero exit code; -1 killed; 0 none */
};

struct hyperfine_file {
    int schema_major;       /* 0 when the file has no schema_version (1.x) */
    size_t count;
    struct hyperfine_result *results;
};

/* Loads `path`.  Returns 0, or -1 with a one-line reason in `why`.
 * A newer schema than 2 is read as far as it goes, with a note in `why`. */
int hyperfine_load(const char *path, struct hyperfine_file *file, char *why, size_t why_size);

/* The result called `name`, or NULL. */
const struct hyperfine_result *hyperfine_find(const struct hyperfine_file *file,
                                              const char *name);

void hyperfine_free(struct hyperfine_file *file);

#endif
