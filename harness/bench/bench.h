/*
 * bench.h - what the parts of `bench` (harness/bench.c and harness/bench/)
 * share.  bench.c reads the command line, runs the suite and writes
 * summary.json; command.c builds command lines and runs hyperfine on them;
 * scenario.c times one scenario's variants; sweep.c the scaling sweep.
 */
#ifndef ASYNCLAB_BENCH_H
#define ASYNCLAB_BENCH_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "scenarios.h"
#include "servers.h"

extern const char BENCH_PROGRAM[];   /* "bench", for messages */

/* "quick" keeps the whole suite within a few minutes on a 2-core machine;
 * scale 1 reproduces the lessons' own numbers (and takes a while). */
#define QUICK_SCALE 0.1
#define DEFAULT_RUNS 5
#define DEFAULT_WARMUP 1
/* The sweep: K requests of one delay (1 s at scale 1). */
#define SWEEP_DELAY "1"
#define SWEEP_DEFAULT_KS "1,10,100,1000,10000"
#define SWEEP_MAX_KS 16
#define SWEEP_DEFAULT_CAP_S 10.0
#define SWEEP_MAX_RUNS 3
#define SWEEP_SCENARIO "slow_api"

struct options {
    char scale_text[32];     /* passed to the programs as typed ("0.1") */
    double scale;
    const char *scale_name;  /* "quick", or NULL when a number was given */
    long runs;
    long warmup;
    const char *out_dir;     /* where this run writes: a staging directory (staging.h) */
    const char *results_dir; /* --out: where the results go once the run is complete */
    const char *only;        /* --scenario: just this one */
    double sweep_ks[SWEEP_MAX_KS];
    size_t sweep_k_count;    /* 0: no sweep */
    double sweep_cap;        /* sync runs only up to this predicted time */
};

/* Set by SIGINT/SIGTERM: nothing new is started once it is. */
extern volatile sig_atomic_t interrupted;
/* Where the programs are, as the commands show them: relative to the
 * working directory if inside it ("build/bin"). */
extern char program_dir[4096];
/* The slowservers the variants run against, started as they are needed. */
extern struct server_pool servers;

/* ---------------------------------------------------------------- command.c */

/* Up to this many words in one command line: enough for hyperfine with
 * every variant of a scenario (3 words each). */
#define MAX_WORDS (12 + 3 * SCENARIO_MAX_VARIANTS)

struct command {
    char *words[MAX_WORDS + 1];  /* NULL-terminated; each malloc'd */
    int count;
};

/* Appends a copy of word. */
void command_add(struct command *command, const char *word);
/* Replaces the word after `flag` with `value`. */
void command_replace_word(struct command *command, const char *flag, const char *value);
void command_free(struct command *command);
/* hyperfine's --export-json to json_path, and beside it the Markdown and
 * CSV tables. */
void add_exports(struct command *hyperfine, const char *json_path);
/* The command as one line for hyperfine: a word with a space is quoted. */
void command_line(const struct command *command, char *line, size_t size);
/* The program's own --predict for this command line: the number (NAN if
 * none) and, in note, what the model assumes. */
double ask_prediction(const struct command *command, char *note, size_t note_size);
/* Runs hyperfine in the foreground; returns its exit status (-1 if
 * interrupted before it started). */
int run_hyperfine(struct command *hyperfine);
/* After hyperfine gave up: which program failed, and what it said last. */
void diagnose(const struct command *commands, const char *const *names, size_t count,
              bool fails_by_design, char *why, size_t why_size);

/* ---------------------------------------------------------------- scenario.c, sweep.c */

/* One scenario, all its variants in one hyperfine call: its entry for
 * summary.json ("measured" false, and an "error", if it failed). */
json_t *bench_scenario(const struct options *options, const struct scenario *scenario);
/* The scaling sweep: its entry for summary.json, NULL if no slowserver. */
json_t *bench_sweep(const struct options *options);

#endif
