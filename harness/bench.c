/*
 * bench.c - `make bench`: every variant of every scenario through hyperfine.
 *
 * For each scenario in harness/scenarios.h it starts the slowservers the
 * variants need (on free ports; stopped at the end, also on Ctrl+C), asks
 * each program what the lesson's model predicts (--predict), and hands all
 * the variants to one hyperfine call: a warm-up run, then --runs timed runs
 * each, exported as results/<scenario>.json.  Every run also writes a trace,
 * so the last one of each variant is kept for the timeline charts.  Then a
 * scaling sweep: slow_api sync and async for K requests of one delay.
 * Everything it learned (machine, versions, predictions, which files hold
 * what) goes into results/summary.json, and build/bin/report turns that
 * into REPORT.md and charts.  docs/harness.md explains how to read them.
 *
 *     build/bin/bench [--scale F|quick] [--runs N] [--warmup N] [--out DIR]
 *                     [--scenario NAME] [--sweep-ks LIST|none] [--sweep-cap S]
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "atomic_file.h"
#include "exit_codes.h"
#include "clock.h"
#include "hyperfine.h"
#include "launch.h"
#include "machine.h"
#include "parse.h"
#include "scenarios.h"
#include "servers.h"
#include "staging.h"

static const char PROGRAM[] = "bench";

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

/* Set by SIGINT/SIGTERM; the handler also passes SIGTERM on to the running
 * hyperfine, so a `kill` of bench alone does not leave it behind. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int signal_number)
{
    (void)signal_number;
    interrupted = 1;
    launch_forward_term();
}

static char bin_dir[4096];
static char program_dir[4096];  /* bin_dir, relative to the working directory if inside it */
static struct server_pool servers;

static void usage(FILE *stream)
{
    fprintf(stream,
            "usage: %s [--scale F|quick] [--runs N] [--warmup N] [--out DIR] [--scenario NAME]\n"
            "             [--sweep-ks LIST|none] [--sweep-cap S]\n"
            "Benchmarks every variant of every scenario with hyperfine and writes DIR/summary.json,\n"
            "one hyperfine JSON per scenario, a trace per variant, and (via report) REPORT.md and\n"
            "charts.  Defaults: --scale quick (%g), --runs %d, --warmup %d, --out build/results,\n"
            "--sweep-ks %s, --sweep-cap %g (seconds a sync sweep run may be predicted to take).\n"
            "Scenarios:", PROGRAM, QUICK_SCALE, DEFAULT_RUNS, DEFAULT_WARMUP, SWEEP_DEFAULT_KS,
            SWEEP_DEFAULT_CAP_S);
    for (size_t i = 0; i < SCENARIO_COUNT; i++)
        fprintf(stream, " %s", SCENARIOS[i].name);
    fprintf(stream, "\nExample: %s --scale quick --runs 5 --out /tmp/my-run\n", PROGRAM);
}

static int bad_value(const char *flag, const char *value, const char *expected)
{
    return args_bad_value(PROGRAM, flag + 2, value, expected);  /* flag: "--runs" */
}

static const struct scenario *find_scenario(const char *name)
{
    for (size_t i = 0; name != NULL && i < SCENARIO_COUNT; i++)
        if (strcmp(SCENARIOS[i].name, name) == 0)
            return &SCENARIOS[i];
    return NULL;
}

static int apply_option(struct options *options, const char *flag, const char *value)
{
    if (strcmp(flag, "--scale") == 0) {
        if (strcmp(value, "quick") == 0) {
            options->scale = QUICK_SCALE;
            options->scale_name = "quick";
        } else if (parse_double_in(value, 0.0, 1000.0, &options->scale) && options->scale > 0) {
            options->scale_name = NULL;
        } else {
            return bad_value(flag, value, "quick, or a number greater than 0, at most 1000");
        }
        snprintf(options->scale_text, sizeof options->scale_text, "%g", options->scale);
    } else if (strcmp(flag, "--runs") == 0) {
        if (!parse_long_in(value, 1, 1000, &options->runs))
            return bad_value(flag, value, "a whole number from 1 to 1000");
    } else if (strcmp(flag, "--warmup") == 0) {
        if (!parse_long_in(value, 0, 100, &options->warmup))
            return bad_value(flag, value, "a whole number from 0 to 100");
    } else if (strcmp(flag, "--out") == 0) {
        if (value[0] == '\0' || strpbrk(value, " \t\n'\"\\") != NULL)
            return bad_value(flag, value, "a directory path without spaces or quotes");
        options->out_dir = value;
    } else if (strcmp(flag, "--scenario") == 0) {
        if (find_scenario(value) == NULL) {
            scenarios_unknown(stderr, PROGRAM, value);
            return EXIT_USAGE;
        }
        options->only = value;
    } else if (strcmp(flag, "--sweep-ks") == 0) {
        if (strcmp(value, "none") == 0)
            options->sweep_k_count = 0;
        else if (!parse_double_list(value, 1, 100000, options->sweep_ks, SWEEP_MAX_KS,
                                    &options->sweep_k_count))
            return bad_value(flag, value, "none, or up to 16 comma-separated counts of 1 to 100000");
        for (size_t i = 0; i < options->sweep_k_count; i++)
            if (options->sweep_ks[i] != floor(options->sweep_ks[i]))
                return bad_value(flag, value, "whole numbers");
    } else if (strcmp(flag, "--sweep-cap") == 0) {
        if (!parse_double_in(value, 0.0, 100000.0, &options->sweep_cap))
            return bad_value(flag, value, "seconds, from 0 to 100000");
    } else {
        fprintf(stderr, "%s: unknown option '%s' (see --help)\n", PROGRAM, flag);
        return EXIT_USAGE;
    }
    return -1;
}

static const struct option OPTIONS[] = {
    { "scale", required_argument, NULL, 0 },    { "runs", required_argument, NULL, 0 },
    { "warmup", required_argument, NULL, 0 },   { "out", required_argument, NULL, 0 },
    { "scenario", required_argument, NULL, 0 }, { "sweep-ks", required_argument, NULL, 0 },
    { "sweep-cap", required_argument, NULL, 0 }, { NULL, 0, NULL, 0 },
};

static int apply_parsed(void *context, const struct option *option, const char *value)
{
    char flag[32];
    snprintf(flag, sizeof flag, "--%s", option->name);
    return apply_option(context, flag, value);
}

static int parse_options(int argc, char **argv, struct options *options)
{
    memset(options, 0, sizeof *options);
    options->scale = QUICK_SCALE;
    options->scale_name = "quick";
    snprintf(options->scale_text, sizeof options->scale_text, "%g", QUICK_SCALE);
    options->runs = DEFAULT_RUNS;
    options->warmup = DEFAULT_WARMUP;
    options->out_dir = "build/results";  /* not the committed reference run */
    options->sweep_cap = SWEEP_DEFAULT_CAP_S;
    parse_double_list(SWEEP_DEFAULT_KS, 1, 100000, options->sweep_ks, SWEEP_MAX_KS,
                      &options->sweep_k_count);
    return args_parse_options(PROGRAM, OPTIONS, apply_parsed, usage, options, argc, argv);
}

/* ------------------------------------------------------------ commands */

/* Up to this many words in one command line: enough for hyperfine with
 * every variant of a scenario (3 words each). */
#define MAX_WORDS (12 + 3 * SCENARIO_MAX_VARIANTS)

struct command {
    char *words[MAX_WORDS + 1];  /* NULL-terminated; each malloc'd */
    int count;
};

static void command_add(struct command *command, const char *word)
{
    if (command->count < MAX_WORDS)
        command->words[command->count++] = strdup(word);
    command->words[command->count] = NULL;
}

/* Replaces the word after `flag` with `value`. */
static void command_replace_word(struct command *command, const char *flag, const char *value)
{
    for (int i = 0; i + 1 < command->count; i++) {
        if (strcmp(command->words[i], flag) == 0) {
            free(command->words[i + 1]);
            command->words[i + 1] = strdup(value);
            return;
        }
    }
}

static void command_free(struct command *command)
{
    for (int i = 0; i < command->count; i++)
        free(command->words[i]);
    command->count = 0;
    command->words[0] = NULL;
}

/* The command as one line for hyperfine, which splits it like a shell
 * would (with -N, no shell runs it): a word with a space is quoted. */
/* hyperfine's --export-json to json_path ("x/slow_api.json"), and beside it
 * its Markdown and CSV tables (slow_api.md, slow_api.csv) for people who
 * paste the numbers into a document or a spreadsheet. */
static void add_exports(struct command *hyperfine, const char *json_path)
{
    size_t stem = strlen(json_path) - strlen(".json");
    char path[PATH_MAX];
    command_add(hyperfine, "--export-json");
    command_add(hyperfine, json_path);
    snprintf(path, sizeof path, "%.*s.md", (int)stem, json_path);
    command_add(hyperfine, "--export-markdown");
    command_add(hyperfine, path);
    snprintf(path, sizeof path, "%.*s.csv", (int)stem, json_path);
    command_add(hyperfine, "--export-csv");
    command_add(hyperfine, path);
}

static void command_line(const struct command *command, char *line, size_t size)
{
    size_t used = 0;
    line[0] = '\0';
    for (int i = 0; i < command->count && used < size; i++) {
        const char *word = command->words[i];
        bool quote = strpbrk(word, " \t") != NULL;
        used += (size_t)snprintf(line + used, size - used, "%s%s%s%s", i ? " " : "",
                                 quote ? "'" : "", word, quote ? "'" : "");
    }
}

/* "Predicted time: 1.700 s (sync: the sum of the delays)": the number (NAN
 * when the program says "?", as one whose work is only known by doing it)
 * and the explanation, which may itself contain parentheses. */
static double parse_prediction(const char *out, char *note, size_t note_size)
{
    const char *line = strstr(out, "Predicted time: ");
    if (line == NULL)
        return NAN;
    line += strlen("Predicted time: ");
    const char *end = line + strcspn(line, "\n");
    const char *open = memchr(line, '(', (size_t)(end - line));
    const char *close = end;
    while (close > line && close[-1] != ')')
        close--;
    if (open != NULL && close > open + 1)
        snprintf(note, note_size, "%.*s", (int)(close - 1 - (open + 1)), open + 1);
    char *number_end;
    double predicted = strtod(line, &number_end);
    return number_end != line && isfinite(predicted) ? predicted : NAN;
}

/* What the program says the lesson's model predicts: its own command line
 * plus --predict, which answers at once without any network. */
static double ask_prediction(const struct command *command, char *note, size_t note_size)
{
    struct command asking = { .count = 0 };
    for (int i = 0; i < command->count; i++)
        command_add(&asking, command->words[i]);
    command_add(&asking, "--predict");
    char *out = NULL;
    double predicted = NAN;
    note[0] = '\0';
    if (launch_capture(PROGRAM, asking.words, &out, NULL) == 0)
        predicted = parse_prediction(out, note, note_size);
    free(out);
    command_free(&asking);
    return predicted;
}

/* Runs hyperfine in the foreground (its progress is the user's to watch).
 * Returns its exit status. */
static int run_hyperfine(struct command *hyperfine)
{
    if (interrupted)
        return -1;
    return launch_run_forwarding(PROGRAM, hyperfine->words);
}

/* After hyperfine gave up: run each program once more, alone, and say
 * which one failed and what it printed last on stderr. */
static void diagnose(const struct command *commands, const char *const *names, size_t count,
                     bool fails_by_design, char *why, size_t why_size)
{
    for (size_t i = 0; i < count && !interrupted; i++) {
        char *err = NULL;
        int status = launch_capture(PROGRAM, commands[i].words, NULL, &err);
        char line[512];
        launch_last_line(err, line, sizeof line);
        free(err);
        if (status == 0 || (fails_by_design && status == EXIT_TASKS_FAILED))
            continue;
        const char *slash = strrchr(commands[i].words[0], '/');
        snprintf(why, why_size, "%s (%s) exited %d%s%s%s",
                 slash ? slash + 1 : commands[i].words[0], names[i], status,
                 status == EXIT_SETUP ? " (setup problem)"
                 : status == EXIT_TASKS_FAILED ? " (tasks failed; if that is the lesson, mark the "
                                                 "scenario fails_by_design in harness/scenarios.h)"
                 : "", line[0] ? ": " : "", line);
        return;
    }
}

/* ------------------------------------------------------------ scenarios */

static bool make_dir(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return true;
    fprintf(stderr, "%s: cannot create %s: %s\n", PROGRAM, path, strerror(errno));
    return false;
}

/* "async@blocking" -> "async-on-blocking": a file name without the '@'. */
static void variant_file_name(const char *variant, char *name, size_t size)
{
    char program[64];
    const char *mode;
    variant_split(variant, program, sizeof program, &mode);
    if (strchr(variant, '@'))
        snprintf(name, size, "%s-on-%s", program, mode);
    else
        snprintf(name, size, "%s", program);
}

/* The command that runs one variant: the program with the shared flags. */
static bool variant_command(const struct options *options, const struct scenario *scenario,
                            const char *variant, const char *trace_path, struct command *command,
                            const char **server_mode)
{
    char program[64];
    variant_split(variant, program, sizeof program, server_mode);
    char path[sizeof program_dir + 160];
    snprintf(path, sizeof path, "%s/%s_%s", program_dir, scenario->name, program);
    command_add(command, path);
    command_add(command, "--scale");
    command_add(command, options->scale_text);
    command_add(command, "--quiet");
    if (trace_path != NULL) {
        command_add(command, "--trace");
        command_add(command, trace_path);
    }
    if (scenario->uses_server) {
        const char *url = server_pool_url(&servers, *server_mode, false);
        if (url == NULL)
            return false;
        command_add(command, "--url");
        command_add(command, url);
    } else {
        *server_mode = NULL;
    }
    return true;
}

/* Everything the report needs about one variant, for summary.json. */
static json_t *describe_variant(const struct scenario *scenario, size_t index,
                                const struct command *command, const char *server_mode,
                                const char *trace_file)
{
    char line[4096], note[256];
    command_line(command, line, sizeof line);
    /* The prediction is asked without --trace (it would create the file). */
    struct command plain = { .count = 0 };
    for (int i = 0; i < command->count; i++) {
        if (strcmp(command->words[i], "--trace") == 0) {
            i++;
            continue;
        }
        command_add(&plain, command->words[i]);
    }
    double predicted = ask_prediction(&plain, note, sizeof note);
    command_free(&plain);
    double lesson = 0;
    for (size_t i = 0; i < SCENARIO_MAX_VARIANTS && scenario->lesson[i].variant; i++)
        if (strcmp(scenario->lesson[i].variant, scenario->variants[index]) == 0)
            lesson = scenario->lesson[i].seconds;
    return json_pack("{s:s, s:s*, s:s, s:o, s:s, s:s, s:o}",
                     "name", scenario->variants[index], "server_mode", server_mode,
                     "command", line,
                     "predicted_s", isfinite(predicted) ? json_real(predicted) : json_null(),
                     "prediction", note, "trace", trace_file,
                     "lesson_s", lesson > 0 ? json_real(lesson) : json_null());
}

/* With --ignore-failure hyperfine also swallows a setup failure (exit 2):
 * only exit 3, the designed failure, may be ignored. */
static bool failures_only_by_design(const char *json_path)
{
    struct hyperfine_file file;
    char why[512];
    if (hyperfine_load(json_path, &file, why, sizeof why) != 0)
        return false;
    bool only_designed = true;
    for (size_t i = 0; i < file.count; i++) {
        int failure = file.results[i].first_failure;
        if (failure != 0 && failure != EXIT_TASKS_FAILED)
            only_designed = false;
    }
    hyperfine_free(&file);
    return only_designed;
}

/* Each variant's command, and its entry for summary.json appended to
 * `variants`.  False (and why) if a slowserver it needs could not start. */
static bool prepare_variants(const struct options *options, const struct scenario *scenario,
                             size_t count, struct command *commands, json_t *variants,
                             char *why, size_t why_size)
{
    for (size_t i = 0; i < count; i++) {
        char file_name[128], trace_file[256], trace_path[PATH_MAX];
        variant_file_name(scenario->variants[i], file_name, sizeof file_name);
        snprintf(trace_file, sizeof trace_file, "traces/%s-%s.json", scenario->name, file_name);
        /* The command is shown with the trace where it will end up, and
         * run with the trace in the staging directory. */
        snprintf(trace_path, sizeof trace_path, "%s/%s", options->results_dir, trace_file);
        const char *server_mode;
        if (!variant_command(options, scenario, scenario->variants[i], trace_path, &commands[i],
                             &server_mode)) {
            snprintf(why, why_size, "no slowserver in mode %s could be started", server_mode);
            return false;
        }
        json_array_append_new(variants, describe_variant(scenario, i, &commands[i], server_mode,
                                                         trace_file));
        snprintf(trace_path, sizeof trace_path, "%s/%s", options->out_dir, trace_file);
        command_replace_word(&commands[i], "--trace", trace_path);
    }
    return true;
}

/* hyperfine over every variant: -n NAME "COMMAND" each, exported to
 * json_path. */
static void scenario_hyperfine(const struct options *options, const struct scenario *scenario,
                               const struct command *commands, size_t count,
                               const char *json_path, struct command *hyperfine)
{
    char warmup[16], runs[16];
    snprintf(warmup, sizeof warmup, "%ld", options->warmup);
    snprintf(runs, sizeof runs, "%ld", options->runs);
    /* -N: no shell between hyperfine and the program, so nothing to
     * subtract and nothing to re-quote. */
    const char *fixed[] = { "hyperfine", "-N", "--warmup", warmup, "--runs", runs };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        command_add(hyperfine, fixed[i]);
    add_exports(hyperfine, json_path);
    if (scenario->fails_by_design)
        command_add(hyperfine, "--ignore-failure");
    for (size_t i = 0; i < count; i++) {
        char line[4096];
        command_line(&commands[i], line, sizeof line);
        command_add(hyperfine, "-n");
        command_add(hyperfine, scenario->variants[i]);
        command_add(hyperfine, line);
    }
}

/* Times the variants; on failure `why` says what went wrong, naming the
 * program that failed when one did. */
static void time_variants(const struct options *options, const struct scenario *scenario,
                          const struct command *commands, size_t count, const char *json_file,
                          const char *json_path, char *why, size_t why_size)
{
    printf("\n== %s: %zu variants, %ld warm-up + %ld timed runs each, scale %s\n",
           scenario->name, count, options->warmup, options->runs, options->scale_text);
    struct command hyperfine = { .count = 0 };
    scenario_hyperfine(options, scenario, commands, count, json_path, &hyperfine);
    int status = run_hyperfine(&hyperfine);
    command_free(&hyperfine);
    if (status == 0 && scenario->fails_by_design && !failures_only_by_design(json_path)) {
        status = EXIT_SETUP;
        snprintf(why, why_size, "a run failed other than by design (see %s)", json_file);
    }
    if (status != 0 && !interrupted) {
        if (why[0] == '\0')
            snprintf(why, why_size, "hyperfine failed (exit status %d)", status);
        diagnose(commands, scenario->variants, count, scenario->fails_by_design, why,
                 why_size);
    }
}

/* One scenario: all its variants in one hyperfine call.  Returns its entry
 * for summary.json, with "measured" false and an "error" if it failed. */
static json_t *bench_scenario(const struct options *options, const struct scenario *scenario)
{
    size_t count = 0;
    while (count < SCENARIO_MAX_VARIANTS && scenario->variants[count] != NULL)
        count++;
    char json_file[256], json_path[PATH_MAX];
    snprintf(json_file, sizeof json_file, "%s.json", scenario->name);
    snprintf(json_path, sizeof json_path, "%s/%s", options->out_dir, json_file);

    json_t *variants = json_array();
    struct command commands[SCENARIO_MAX_VARIANTS] = { 0 };
    char why[1024] = "";
    if (prepare_variants(options, scenario, count, commands, variants, why, sizeof why))
        time_variants(options, scenario, commands, count, json_file, json_path, why,
                      sizeof why);
    for (size_t i = 0; i < count; i++)
        command_free(&commands[i]);

    return json_pack("{s:s, s:b, s:b, s:s*, s:s, s:b, s:s*, s:o}",
                     "name", scenario->name, "uses_server", scenario->uses_server,
                     "fails_by_design", scenario->fails_by_design,
                     "lesson_note", scenario->lesson_note, "hyperfine_json", json_file,
                     "measured", why[0] == '\0', "error", why[0] ? why : NULL,
                     "variants", variants);
}

/* ------------------------------------------------------------ the sweep */

/* Asks `program` for its prediction at every K, appending K and the
 * prediction to ks and predictions (the chart draws the model over all of
 * them), and lists in k_list the Ks to run: all of them for async, those
 * predicted under the cap for sync.  Returns k_list's length. */
static size_t sweep_predictions(const struct options *options, const char *side,
                                const char *program, const char *url, json_t *ks,
                                json_t *predictions, char *k_list, size_t size)
{
    size_t used = 0;
    for (size_t i = 0; i < options->sweep_k_count; i++) {
        char k[32], note[256];
        snprintf(k, sizeof k, "%.0f", options->sweep_ks[i]);
        struct command asking = { .count = 0 };
        const char *words[] = { program, "--delays", SWEEP_DELAY, "--scale",
                                options->scale_text, "--requests", k, "--url", url };
        for (size_t w = 0; w < sizeof words / sizeof words[0]; w++)
            command_add(&asking, words[w]);
        double predicted = ask_prediction(&asking, note, sizeof note);
        command_free(&asking);
        json_array_append_new(ks, json_integer((json_int_t)options->sweep_ks[i]));
        json_array_append_new(predictions,
                              isfinite(predicted) ? json_real(predicted) : json_null());
        if (strcmp(side, "sync") == 0 && !(predicted <= options->sweep_cap))
            continue;
        used += (size_t)snprintf(k_list + used, size - used, "%s%s", used ? "," : "", k);
    }
    return used;
}

/* hyperfine over the Ks in k_list (its --parameter-list); returns its
 * status. */
static int time_sweep_side(const struct options *options, const char *side,
                           const char *program, const char *url, const char *k_list, long runs,
                           const char *json_path)
{
    printf("\n== sweep: %s_%s for K = %s requests of %g s each, %ld run%s per K\n",
           SWEEP_SCENARIO, side, k_list, atof(SWEEP_DELAY) * options->scale, runs,
           runs == 1 ? "" : "s");
    char runs_text[24], name[32], line[sizeof program_dir + 64 + 512];
    snprintf(runs_text, sizeof runs_text, "%ld", runs);
    snprintf(name, sizeof name, "%s K={k}", side);
    snprintf(line, sizeof line, "%s --delays %s --scale %s --requests {k} --quiet --url %s",
             program, SWEEP_DELAY, options->scale_text, url);
    struct command hyperfine = { .count = 0 };
    const char *words[] = { "hyperfine", "-N", "--warmup", "0", "--runs", runs_text,
                            "--parameter-list", "k", k_list, "-n", name, line };
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++)
        command_add(&hyperfine, words[w]);
    add_exports(&hyperfine, json_path);
    int status = run_hyperfine(&hyperfine);
    command_free(&hyperfine);
    return status;
}

/* One side of the sweep (sync or async): hyperfine over the Ks with the
 * program's own prediction for each.  Sync stops at the largest K whose
 * prediction fits under the cap: its time grows with K, and 10 000
 * one-second requests in a row would take almost three hours. */
static json_t *sweep_side(const struct options *options, const char *side, const char *url,
                          long runs)
{
    char path[sizeof program_dir + 64];
    snprintf(path, sizeof path, "%s/%s_%s", program_dir, SWEEP_SCENARIO, side);
    json_t *ks = json_array(), *predictions = json_array();
    char k_list[256] = "";
    size_t used = sweep_predictions(options, side, path, url, ks, predictions, k_list,
                                    sizeof k_list);

    char json_file[64], json_path[PATH_MAX], why[1024] = "";
    snprintf(json_file, sizeof json_file, "sweep-%s.json", side);
    snprintf(json_path, sizeof json_path, "%s/%s", options->out_dir, json_file);
    if (used == 0) {
        snprintf(why, sizeof why, "no K fits under the %g s cap", options->sweep_cap);
    } else {
        int status = time_sweep_side(options, side, path, url, k_list, runs, json_path);
        if (status != 0 && !interrupted)
            snprintf(why, sizeof why, "hyperfine failed (exit status %d); try %s_%s --delays %s "
                     "--scale %s --requests %s --url URL by hand", status, SWEEP_SCENARIO, side,
                     SWEEP_DELAY, options->scale_text,
                     strrchr(k_list, ',') ? strrchr(k_list, ',') + 1 : k_list);
    }
    return json_pack("{s:s, s:o, s:o, s:b, s:s*}", "hyperfine_json", json_file, "ks", ks,
                     "predicted_s", predictions, "measured", why[0] == '\0',
                     "error", why[0] ? why : NULL);
}

static json_t *bench_sweep(const struct options *options)
{
    const char *url = server_pool_url(&servers, "async", false);
    if (url == NULL)
        return NULL;
    /* Fewer runs than the scenarios: the largest K are the slowest runs of
     * the suite, and the sweep's point is a trend over orders of magnitude. */
    long runs = options->runs < SWEEP_MAX_RUNS ? options->runs : SWEEP_MAX_RUNS;
    json_t *sync = sweep_side(options, "sync", url, runs);
    json_t *async = interrupted ? json_null() : sweep_side(options, "async", url, runs);
    return json_pack("{s:s, s:f, s:f, s:i, s:o, s:o}", "scenario", SWEEP_SCENARIO,
                     "delay_s", atof(SWEEP_DELAY) * options->scale, "cap_s", options->sweep_cap,
                     "runs", (int)runs, "sync", sync, "async", async);
}

/* ------------------------------------------------------------ summary */

static json_t *command_of_this_run(int argc, char **argv)
{
    char line[2048] = "";
    size_t used = 0;
    for (int i = 0; i < argc && used < sizeof line; i++)
        used += (size_t)snprintf(line + used, sizeof line - used, "%s%s", i ? " " : "",
                                 i == 0 ? "build/bin/bench" : argv[i]);
    return json_string(line);
}

/* summary.json goes into the staging directory with the rest, and is the
 * last file moved into place. */
static bool write_summary(const struct options *options, json_t *summary)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/summary.json", options->out_dir);
    return atomic_json_dump(PROGRAM, summary, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER)
           && staging_publish(PROGRAM, options->out_dir, options->results_dir, "summary.json");
}

/* The harness programs live in build/bin; the commands are shown relative
 * to the working directory when they can be ("build/bin/slow_api_sync"). */
static void choose_program_dir(void)
{
    char cwd[4096];
    size_t length = getcwd(cwd, sizeof cwd) ? strlen(cwd) : 0;
    if (length > 0 && strncmp(bin_dir, cwd, length) == 0 && bin_dir[length] == '/')
        snprintf(program_dir, sizeof program_dir, "%s", bin_dir + length + 1);
    else
        snprintf(program_dir, sizeof program_dir, "%s", bin_dir);
}

static bool prepare_out_dir(const char *out_dir)
{
    char path[PATH_MAX];
    if (!make_dir(out_dir))
        return false;
    snprintf(path, sizeof path, "%s/traces", out_dir);
    return make_dir(path);
}

static bool hyperfine_available(void)
{
    char *const argv[] = { "hyperfine", "--version", NULL };
    return launch_capture(PROGRAM, argv, NULL, NULL) == 0;
}

/* ------------------------------------------------------------ the gateways */

/* The service lesson's programs are servers, not runs to time: its load
 * driver starts each gateway in front of our slowserver, sends K clients
 * at once and writes DIR/service.json (latency percentiles per K), which
 * the report draws.  A variant whose model says the last client would wait
 * longer than the sweep's cap is skipped at that K, as in the sweep. */
static bool bench_gateways(const struct options *options, const struct scenario *scenario)
{
    const char *url = server_pool_url(&servers, "async", false);
    if (url == NULL)
        return false;
    char path[sizeof bin_dir + 32], json_path[PATH_MAX], cap[32];
    snprintf(path, sizeof path, "%s/gateway_load", bin_dir);
    snprintf(json_path, sizeof json_path, "%s/%s.json", options->out_dir, scenario->name);
    snprintf(cap, sizeof cap, "%g", options->sweep_cap);
    char *const argv[] = { path, "--scale", (char *)options->scale_text, "--upstream",
                           (char *)url, "--cap", cap, "--json", json_path, NULL };
    printf("\n== %s: K clients at once against each gateway (gateway_load)\n", scenario->name);
    return launch_run_forwarding(PROGRAM, argv) == 0;
}

/* build/bin/report DIR: REPORT.md and the charts from what was written. */
static int run_report(const char *out_dir)
{
    char path[sizeof bin_dir + 16];
    snprintf(path, sizeof path, "%s/report", bin_dir);
    char *const argv[] = { path, (char *)out_dir, NULL };
    pid_t pid = launch_start(PROGRAM, argv, -1);
    return pid < 0 ? -1 : launch_wait(pid);
}

/* Everything before the first run: where the programs are, hyperfine,
 * the output directory and its staging directory (options->out_dir from
 * now on; options->results_dir is where it is published), the signal
 * handlers and the server pool.  False after a message. */
static bool prepare_run(struct options *options, char *staging, size_t size)
{
    if (!launch_find_bin_dir(bin_dir, sizeof bin_dir)) {
        fprintf(stderr, "%s: cannot tell where the programs are\n", PROGRAM);
        return false;
    }
    choose_program_dir();
    if (!hyperfine_available())
        return false;  /* launch said: cannot start hyperfine (run make deps first) */
    if (!prepare_out_dir(options->out_dir)
        || !staging_create(PROGRAM, options->out_dir, "traces", staging, size))
        return false;
    options->results_dir = options->out_dir;
    options->out_dir = staging;

    struct sigaction interrupt = { .sa_handler = on_interrupt };
    sigaction(SIGINT, &interrupt, NULL);
    sigaction(SIGTERM, &interrupt, NULL);
    server_pool_init(&servers, PROGRAM, bin_dir);
    return true;
}

/* Every scenario asked for, in harness/scenarios.h's order: their entries
 * for summary.json (the service lesson's gateways write a file of their
 * own).  *all_measured turns false if one was not. */
static json_t *bench_scenarios(const struct options *options, bool *all_measured)
{
    json_t *scenarios = json_array();
    for (size_t i = 0; i < SCENARIO_COUNT && !interrupted; i++) {
        if (options->only != NULL && strcmp(options->only, SCENARIOS[i].name) != 0)
            continue;
        if (SCENARIOS[i].serves) {
            if (!bench_gateways(options, &SCENARIOS[i]) && !interrupted) {
                *all_measured = false;
                fprintf(stderr, "%s: %s not measured: gateway_load failed\n", PROGRAM,
                        SCENARIOS[i].name);
            }
            continue;
        }
        json_t *entry = bench_scenario(options, &SCENARIOS[i]);
        if (!json_is_true(json_object_get(entry, "measured"))) {
            *all_measured = false;
            fprintf(stderr, "%s: %s not measured: %s\n", PROGRAM, SCENARIOS[i].name,
                    json_string_value(json_object_get(entry, "error")));
        }
        json_array_append_new(scenarios, entry);
    }
    return scenarios;
}

static bool sweep_wanted(const struct options *options)
{
    return options->sweep_k_count > 0 && find_scenario(SWEEP_SCENARIO) != NULL
           && (options->only == NULL || strcmp(options->only, SWEEP_SCENARIO) == 0);
}

/* summary.json's contents; takes scenarios and sweep over. */
static json_t *summary_of_run(const struct options *options, int argc, char **argv,
                              const char *date, double wall_time, json_t *scenarios,
                              json_t *sweep)
{
    return json_pack(
        "{s:i, s:s, s:o, s:f, s:s*, s:i, s:i, s:f, s:o, s:o, s:o, s:o}",
        "asynclab_results", 1, "date", date, "command", command_of_this_run(argc, argv),
        "scale", options->scale, "scale_name", options->scale_name,
        "runs", (int)options->runs, "warmup", (int)options->warmup, "wall_time_s", wall_time,
        "machine", machine_describe(), "versions", machine_versions(),
        "scenarios", scenarios, "sweep", sweep ? sweep : json_null());
}

/* The summary published and REPORT.md rendered from the results. */
static int finish_run(const struct options *options, json_t *summary, const char *staging,
                      double wall_time, bool all_measured)
{
    bool written = summary != NULL && write_summary(options, summary);
    json_decref(summary);
    if (!written) {
        staging_discard(staging);
        return EXIT_SETUP;
    }
    printf("\nSuite wall time: %.1f s (scale %s, %ld run%s per variant); results in %s/\n",
           wall_time, options->scale_text, options->runs, options->runs == 1 ? "" : "s",
           options->results_dir);
    fflush(stdout);
    int report_status = run_report(options->results_dir);
    if (report_status != 0) {
        fprintf(stderr, "%s: report ended with status %d; the results are complete, "
                "render them again with: make report\n", PROGRAM, report_status);
        return EXIT_SETUP;
    }
    return all_measured ? EXIT_ALL_DONE : EXIT_TASKS_FAILED;
}

int main(int argc, char **argv)
{
    struct options options;
    int early_exit = parse_options(argc, argv, &options);
    if (early_exit >= 0)
        return early_exit;
    char staging[PATH_MAX];
    if (!prepare_run(&options, staging, sizeof staging))
        return EXIT_SETUP;

    double started = clock_now();
    char date[32];
    machine_date_now(date, sizeof date);
    bool all_measured = true;
    json_t *scenarios = bench_scenarios(&options, &all_measured);
    json_t *sweep = sweep_wanted(&options) && !interrupted ? bench_sweep(&options) : NULL;
    double wall_time = clock_now() - started;
    server_pool_stop(&servers);

    if (interrupted) {
        json_decref(scenarios);
        json_decref(sweep);
        staging_discard(staging);
        fprintf(stderr, "%s: interrupted; the servers it started are stopped, "
                "%s/ is left as it was\n", PROGRAM, options.results_dir);
        return 130;
    }
    json_t *summary = summary_of_run(&options, argc, argv, date, wall_time, scenarios, sweep);
    return finish_run(&options, summary, staging, wall_time, all_measured);
}
