/*
 * blocking_pitfall.c - the blocking-pitfall lesson's shared, non-concurrent
 * parts; see blocking_pitfall.h.  Nothing in here waits for the network, and
 * nothing in here decides when anything runs: that is the programs' job.
 */
#include "blocking_pitfall.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "output.h"
#include "predict.h"

#define MAX_DELAY_S 3600.0

/* The heartbeat's row in the trace: a tid after every request's (tids start
 * at 1 and R1 has 1), named first so that the viewer shows it above R1. */
static int heartbeat_tid(const struct blocking_pitfall *run)
{
    return (int)run->request_count + 1;
}

static struct cli_list_target delays_target;

static void set_defaults(struct blocking_pitfall *run,
                         const struct lesson_program *program)
{
    memset(run, 0, sizeof *run);
    run->program = program;
    run->common.program = program->name;
}

static enum cli_result parse_command_line(struct blocking_pitfall *run, int argc, char **argv)
{
    delays_target = (struct cli_list_target){ run->delays, BLOCKING_PITFALL_MAX_DELAYS,
                                              &run->delay_count, 0.0, MAX_DELAY_S };
    const struct cli_option options[] = {
        { "delays", "LIST", "server delays in seconds, comma-separated (default 10,2,5)",
          "at most 64 comma-separated seconds, each between 0 and 3600", cli_apply_double_list,
          &delays_target },
    };
    char example[160];
    snprintf(example, sizeof example, "build/bin/%s --scale 0.1 --trace %s.json",
             run->program->name, run->program->name);
    const struct cli_program description = {
        .name = run->program->name,
        .purpose = run->program->purpose,
        .example = example,
        .options = options,
        .option_count = sizeof options / sizeof options[0],
    };
    return cli_parse(&description, argc, argv, &run->common);
}

/* One request per delay. */
static bool build_requests(struct blocking_pitfall *run)
{
    run->request_count = (long)run->delay_count;
    run->requests = delay_requests_new(run->common.url, run->delays, run->delay_count,
                                       run->request_count, run->common.scale);
    return run->requests != NULL;
}

static void free_requests(struct blocking_pitfall *run)
{
    delay_requests_free(run->requests, run->request_count);
    run->requests = NULL;
}

/* The lesson's model: the waits add up, unless the program overlaps them. */
static void print_prediction(const struct blocking_pitfall *run)
{
    double durations[BLOCKING_PITFALL_MAX_DELAYS];
    for (long i = 0; i < run->request_count; i++)
        durations[i] = run->requests[i].delay;
    double predicted = predict_makespan(durations, (size_t)run->request_count,
                                        run->program->concurrent ? 0 : 1);
    output_summary("Predicted time: %.3f s (%s)", predicted, run->program->prediction);
}

static void start_trace(struct blocking_pitfall *run)
{
    run->trace = trace_new(clock_now());
    if (run->trace == NULL)
        return;
    if (!run->program->worker_threads)
        trace_one_thread(run->trace, run->program->has_heartbeat);
    if (run->program->has_heartbeat)
        trace_name_task(run->trace, heartbeat_tid(run), "Heartbeat");
    for (long i = 0; i < run->request_count; i++)
        trace_name_task(run->trace, run->requests[i].number, run->requests[i].label);
}

int blocking_pitfall_setup(struct blocking_pitfall *run,
                           const struct lesson_program *program,
                           int argc, char **argv)
{
    set_defaults(run, program);
    switch (parse_command_line(run, argc, argv)) {
    case CLI_EXIT_OK: return EXIT_ALL_DONE;
    case CLI_EXIT_USAGE: return EXIT_USAGE;
    case CLI_RUN: break;
    }
    if (run->delay_count == 0)
        run->delay_count = delay_requests_default_delays(&run->common, run->delays,
                                                         BLOCKING_PITFALL_MAX_DELAYS);
    output_init(run->common.quiet);
    if (!build_requests(run)) {
        output_error(program->name, "out of memory");
        free_requests(run);
        return EXIT_SETUP;
    }
    if (run->common.predict) {
        print_prediction(run);
        free_requests(run);
        return EXIT_ALL_DONE;
    }
    if ((run->common.trace_path != NULL
         && !trace_path_writable(run->common.trace_path, program->name))
        || !http_global_init(program->name)
        || !http_server_reachable(program->name, run->common.url)) {
        http_global_cleanup();
        free_requests(run);
        return EXIT_SETUP;
    }
    if (run->common.trace_path != NULL)
        start_trace(run);
    http_set_bounds(http_bounds_for(&run->common,
                                     delay_requests_longest(run->requests, run->request_count)));
    output_rule();
    run->started = clock_now();
    run->heartbeat.due = run->started + BLOCKING_PITFALL_HEARTBEAT_S;
    return -1;
}

void blocking_pitfall_request_started(struct blocking_pitfall *run,
                                      struct delay_request *request)
{
    (void)run;
    delay_request_started(request);
}

void blocking_pitfall_request_finished(struct blocking_pitfall *run,
                                       struct delay_request *request,
                                       CURLcode result, long status,
                                       const struct http_body *body)
{
    if (!delay_request_finished(request, run->trace, result, status, body))
        run->failures++;
}

void blocking_pitfall_heartbeat(struct blocking_pitfall *run)
{
    struct blocking_pitfall_heartbeat *heartbeat = &run->heartbeat;
    double now = clock_now();
    if (now < heartbeat->due)
        return;  /* not yet: the loop called early, which is fine */

    double lag = now - heartbeat->due;
    heartbeat->ticks++;
    if (lag > heartbeat->worst_lag)
        heartbeat->worst_lag = lag;
    if (lag >= BLOCKING_PITFALL_HEARTBEAT_S) {
        /* A whole tick missed: the loop was busy with something that never
         * gave it back.  Shown on the console and as a bar in the trace. */
        output_task("Heartbeat", TONE_NOTE, "%.3f s late! The event loop could not run me",
                    lag);
        struct trace_event *event = trace_add(run->trace, "Heartbeat late", heartbeat_tid(run),
                                              heartbeat->due, now);
        trace_set_number(event, "lag_s", lag);
    }
    /* Like a task that sleeps 100 ms after each tick: the next one is due an
     * interval from now, not from when this one should have run. */
    heartbeat->due = now + BLOCKING_PITFALL_HEARTBEAT_S;
}

int blocking_pitfall_ms_until_heartbeat(const struct blocking_pitfall *run)
{
    double left = run->heartbeat.due - clock_now();
    return left <= 0 ? 0 : (int)ceil(left * 1000.0);
}

int blocking_pitfall_finish(struct blocking_pitfall *run)
{
    double elapsed = clock_now() - run->started;
    /* A tick that fell due while the last task blocked never got a turn of
     * the loop; it gets one now, so that last stall is measured as well. */
    if (run->program->has_heartbeat)
        blocking_pitfall_heartbeat(run);
    output_separator();
    if (run->failures > 0)
        output_summary("Failed: %ld of %ld requests", run->failures, run->request_count);
    if (run->program->has_heartbeat)
        output_summary("Worst heartbeat lag: %.3f s (%ld ticks, one due every %.3f s)",
                       run->heartbeat.worst_lag, run->heartbeat.ticks,
                       BLOCKING_PITFALL_HEARTBEAT_S);
    output_summary("Time elapsed: %.3f s", elapsed);
    output_rule();

    int status = run->failures > 0 ? EXIT_TASKS_FAILED : EXIT_ALL_DONE;
    status = trace_save(run->trace, run->common.trace_path, run->program->name, status);
    blocking_pitfall_abandon(run);  /* the same release, now that all is said */
    return status;
}

/* The transfer at the start of task `i` of an array of task_size-byte tasks. */
static struct blocking_pitfall_transfer *transfer_of(void *tasks, size_t task_size, long i)
{
    return (struct blocking_pitfall_transfer *)((char *)tasks + (size_t)i * task_size);
}

void blocking_pitfall_tasks_free(struct blocking_pitfall *run, void *tasks, size_t task_size)
{
    for (long i = 0; tasks != NULL && i < run->request_count; i++) {
        struct blocking_pitfall_transfer *transfer = transfer_of(tasks, task_size, i);
        curl_easy_cleanup(transfer->easy);
        http_body_free(&transfer->body);
    }
    free(tasks);
}

void *blocking_pitfall_tasks_new(struct blocking_pitfall *run, size_t task_size)
{
    void *tasks = calloc((size_t)run->request_count, task_size);
    for (long i = 0; tasks != NULL && i < run->request_count; i++) {
        struct blocking_pitfall_transfer *transfer = transfer_of(tasks, task_size, i);
        transfer->request = &run->requests[i];
        transfer->easy = http_easy_new(&transfer->body);
        if (transfer->easy == NULL) {
            blocking_pitfall_tasks_free(run, tasks, task_size);  /* the rest are still zeroed */
            return NULL;
        }
    }
    return tasks;
}

long blocking_pitfall_perform_next(struct blocking_pitfall *run, CURL *easy,
                                   struct http_body *body)
{
    struct delay_request *request = &run->requests[run->blocking_next++];
    http_body_reset(body);
    curl_easy_setopt(easy, CURLOPT_URL, request->url);
    blocking_pitfall_request_started(run, request);
    CURLcode result = curl_easy_perform(easy);  /* the loop stalls here */
    blocking_pitfall_request_finished(run, request, result, http_status(easy), body);
    return 1;
}

void blocking_pitfall_abandon(struct blocking_pitfall *run)
{
    trace_free(run->trace);
    run->trace = NULL;
    free_requests(run);
    http_global_cleanup();
}
