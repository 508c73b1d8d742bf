/*
 * sweep.c - the scaling sweep: slow_api's sync and async for K requests
 * of one delay, K over orders of magnitude, each K's prediction kept.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

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

json_t *bench_sweep(const struct options *options)
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
