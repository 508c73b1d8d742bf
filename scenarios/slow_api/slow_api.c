/*
 * slow_api.c - the slow-API lesson's shared, non-concurrent parts; see
 * slow_api.h.  Nothing in here waits for the network.
 */
#include "slow_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fdlimit.h"
#include "output.h"
#include "predict.h"

#define MAX_DELAY_S 3600.0

static struct cli_list_target delays_target;
static struct cli_long_target requests_target;
static struct cli_long_target concurrency_target;

static void set_defaults(struct slow_api *run, const char *program)
{
    memset(run, 0, sizeof *run);
    run->common.program = program;
}

static enum cli_result parse_command_line(struct slow_api *run,
                                          const struct lesson_program *program,
                                          int argc, char **argv)
{
    delays_target = (struct cli_list_target){ run->delays, SLOW_API_MAX_DELAYS,
                                              &run->delay_count, 0.0, MAX_DELAY_S };
    requests_target = (struct cli_long_target){ &run->request_count, 1, SLOW_API_MAX_REQUESTS };
    concurrency_target = (struct cli_long_target){ &run->concurrency, 1, SLOW_API_MAX_REQUESTS };
    const struct cli_option options[] = {
        { "delays", "LIST", "server delays in seconds, comma-separated (default 10,2,5)",
          "a comma-separated list of seconds between 0 and 3600", cli_apply_double_list,
          &delays_target },
        { "requests", "N", "send N requests, cycling through the delays (default: one each)",
          "a whole number from 1 to 100000", cli_apply_long, &requests_target },
        { "concurrency", "N", "at most N requests in flight at once (default: all of them)",
          "a whole number from 1 to 100000", cli_apply_long, &concurrency_target },
    };
    char example[128];
    snprintf(example, sizeof example, "build/bin/%s --scale 0.1 --trace trace.json",
             program->name);
    const struct cli_program description = {
        .name = program->name,
        .purpose = program->purpose,
        .example = example,
        .options = options,
        /* --concurrency means nothing to a program that sends one at a time. */
        .option_count = program->concurrent ? 3 : 2,
    };
    return cli_parse(&description, argc, argv, &run->common);
}

/* --requests N cycles through the delays. */
static bool build_requests(struct slow_api *run)
{
    run->requests = delay_requests_new(run->common.url, run->delays, run->delay_count,
                                       run->request_count, run->common.scale);
    return run->requests != NULL;
}

static void free_requests(struct slow_api *run)
{
    delay_requests_free(run->requests, run->request_count);
    run->requests = NULL;
}

static void print_prediction(const struct slow_api *run, bool concurrent)
{
    double *durations = malloc((size_t)run->request_count * sizeof *durations);
    if (durations == NULL)
        return;
    for (long i = 0; i < run->request_count; i++)
        durations[i] = run->requests[i].delay;
    double predicted = predict_makespan(durations, (size_t)run->request_count,
                                        concurrent ? run->concurrency : 1);
    free(durations);
    output_summary("Predicted time: %.3f s (%s)", predicted,
                   !concurrent ? "one at a time: the sum of the delays"
                   : run->concurrency < run->request_count
                       ? "overlapping: the delays packed into the concurrency limit"
                       : "all at once: the longest delay");
}

/* libcurl's way of checking for the server, and what it needs first. */
static bool curl_server_reachable(const char *program, const char *url)
{
    return http_global_init(program) && http_server_reachable(program, url);
}

int slow_api_setup(struct slow_api *run, const struct lesson_program *description,
                   int argc, char **argv)
{
    return slow_api_setup_without_curl(run, description, argc, argv, curl_server_reachable);
}

int slow_api_setup_without_curl(struct slow_api *run, const struct lesson_program *description,
                                int argc, char **argv,
                                bool (*server_reachable)(const char *program, const char *url))
{
    const char *program = description->name;
    bool concurrent = description->concurrent;
    set_defaults(run, program);
    switch (parse_command_line(run, description, argc, argv)) {
    case CLI_EXIT_OK: return EXIT_ALL_DONE;
    case CLI_EXIT_USAGE: return EXIT_USAGE;
    case CLI_RUN: break;
    }
    if (run->delay_count == 0)
        run->delay_count = delay_requests_default_delays(&run->common, run->delays,
                                                         SLOW_API_MAX_DELAYS);
    if (run->request_count == 0)
        run->request_count = (long)run->delay_count;
    if (!concurrent || run->concurrency == 0 || run->concurrency > run->request_count)
        run->concurrency = concurrent ? run->request_count : 1;
    output_init(run->common.quiet);
    if (!build_requests(run)) {
        output_error(program, "out of memory");
        free_requests(run);
        return EXIT_SETUP;
    }
    if (run->common.predict) {
        print_prediction(run, concurrent);
        free_requests(run);
        return EXIT_ALL_DONE;
    }

    /* Every request is a socket: make room for thousands of them. */
    fdlimit_make_room(program, run->concurrency, description->fds_per_request);
    if ((run->common.trace_path != NULL && !trace_path_writable(run->common.trace_path, program))
        || !server_reachable(program, run->common.url)) {
        http_global_cleanup();
        free_requests(run);
        return EXIT_SETUP;
    }
    if (run->common.trace_path != NULL) {
        run->trace = trace_new(clock_now());
        if (!description->worker_threads)
            trace_one_thread(run->trace, description->concurrent);
        for (long i = 0; i < run->request_count && run->trace; i++)
            trace_name_task(run->trace, run->requests[i].number, run->requests[i].label);
    }
    http_set_bounds(http_bounds_for(&run->common,
                                     delay_requests_longest(run->requests, run->request_count)));
    output_rule();
    run->started = clock_now();
    return -1;
}

void slow_api_request_started(struct slow_api *run, struct delay_request *request)
{
    (void)run;
    delay_request_started(request);
}

void slow_api_request_finished(struct slow_api *run, struct delay_request *request,
                               CURLcode result, long status, const struct http_body *body)
{
    if (!delay_request_finished(request, run->trace, result, status, body))
        run->failures++;
}

void slow_api_request_ended(struct slow_api *run, struct delay_request *request,
                            const char *error, long status, const char *body)
{
    if (!delay_request_ended(request, run->trace, error, status, body))
        run->failures++;
}

void slow_api_abandon(struct slow_api *run)
{
    trace_free(run->trace);
    run->trace = NULL;
    free_requests(run);
    http_global_cleanup();
}

int slow_api_finish(struct slow_api *run)
{
    double elapsed = clock_now() - run->started;
    output_separator();
    if (run->failures > 0)
        output_summary("Failed: %ld of %ld requests", run->failures, run->request_count);
    output_summary("Time elapsed: %.3f s", elapsed);
    output_rule();

    int status = run->failures > 0 ? EXIT_TASKS_FAILED : EXIT_ALL_DONE;
    status = trace_save(run->trace, run->common.trace_path, run->common.program, status);
    slow_api_abandon(run);  /* the same release, now that all is said */
    return status;
}

struct slow_api_slot *slow_api_slots_new(long count)
{
    struct slow_api_slot *slots = calloc((size_t)count, sizeof *slots);
    for (long i = 0; slots != NULL && i < count; i++) {
        slots[i].easy = http_easy_new(&slots[i].body);
        if (slots[i].easy == NULL) {
            slow_api_slots_free(slots, count);
            return NULL;
        }
    }
    return slots;
}

void slow_api_slots_free(struct slow_api_slot *slots, long count)
{
    for (long i = 0; slots != NULL && i < count; i++) {
        if (slots[i].easy != NULL)
            curl_easy_cleanup(slots[i].easy);
        http_body_free(&slots[i].body);
    }
    free(slots);
}

void slow_api_run_one_at_a_time(struct slow_api *run, struct slow_api_slot *slot)
{
    for (long i = 0; i < run->request_count; i++) {
        struct delay_request *request = &run->requests[i];
        http_body_reset(&slot->body);
        curl_easy_setopt(slot->easy, CURLOPT_URL, request->url);
        slow_api_request_started(run, request);
        CURLcode result = curl_easy_perform(slot->easy);
        slow_api_request_finished(run, request, result, http_status(slot->easy), &slot->body);
    }
}
