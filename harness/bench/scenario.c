/*
 * scenario.c - one scenario's variants timed together: a command per
 * variant (with its trace and its slowserver), their predictions and the
 * lesson's numbers for summary.json, one hyperfine call over them all.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "exit_codes.h"
#include "hyperfine.h"

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
json_t *bench_scenario(const struct options *options, const struct scenario *scenario)
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
