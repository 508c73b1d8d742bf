/*
 * timeouts.c - the timeouts lesson's shared, non-concurrent parts; see
 * timeouts.h.  Nothing in here waits for the network: sync.c and async.c
 * each wait in their own way, and call in here before and after.
 */
#include "timeouts.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "output.h"
#include "prediction.h"

/* ------------------------------------------------------------ the batch */

/* The lesson's batch, in the lesson's seconds (before --scale).  With the
 * default 2 s timeout: two succeed, one is too slow, one never answers, and
 * two get an error status, one of which (503) says "retry later". */
struct task_spec {
    const char *role;
    double delay;         /* < 0: /hang */
    long status;          /* 0: /delay-me, else /status/CODE */
    double retry_after;   /* < 0: none asked for */
};

static const struct task_spec LESSON_BATCH[TIMEOUTS_TASK_COUNT] = {
    { "fast", 0.2, 0, -1 },
    { "slow, but within its timeout", 1.5, 0, -1 },
    { "slower than its timeout", 5.0, 0, -1 },
    { "never answers", -1, 0, -1 },
    { "server error", 0.4, 500, -1 },
    { "overloaded: asks us to retry later", 0.6, 503, 1.0 },
};

#define LESSON_TIMEOUT_S 2.0
#define MAX_SECONDS 3600.0
#define MAX_RETRIES 10L

/* ------------------------------------------------------------ command line */

static struct cli_double_target timeout_target;
static struct cli_double_target deadline_target;
static struct cli_long_target retries_target;

static enum cli_result parse_command_line(struct timeouts_batch *batch,
                                          const struct lesson_program *program,
                                          int argc, char **argv)
{
    timeout_target = (struct cli_double_target){ &batch->timeout, 0.0, MAX_SECONDS };
    deadline_target = (struct cli_double_target){ &batch->deadline, 0.0, MAX_SECONDS };
    retries_target = (struct cli_long_target){ &batch->retries, 0, MAX_RETRIES };
    const struct cli_option options[] = {
        { "timeout", "S", "give up on one attempt after S seconds; 0 = wait forever (default 2)",
          "seconds from 0 to 3600", cli_apply_double, &timeout_target },
        { "deadline", "S", "give up on the whole batch after S seconds; 0 = none (default)",
          "seconds from 0 to 3600", cli_apply_double, &deadline_target },
        { "fail-fast", NULL, "cancel every other task at the first failure",
          "no value", cli_apply_flag, &batch->fail_fast },
        { "retries", "N", "retry 429/503 and refused connections up to N times (default 0)",
          "a whole number from 0 to 10", cli_apply_long, &retries_target },
    };
    const struct cli_program description = {
        .name = program->name,
        .purpose = program->purpose,
        .example = program->concurrent ? "build/bin/timeouts_async --scale 0.5 --deadline 1"
                                       : "build/bin/timeouts_sync --scale 0.5 --retries 2",
        .options = options,
        .option_count = sizeof options / sizeof options[0],
    };
    return cli_parse(&description, argc, argv, &batch->common);
}

/* ------------------------------------------------------------ the tasks */

/* HTTP's Retry-After is a whole number of seconds, so the lesson's 1 s is
 * scaled and then rounded: below --scale 0.5 the server says 0 and only
 * our own backoff spaces the retries. */
static long retry_after_asked(const struct timeouts_batch *batch, const struct task_spec *spec)
{
    return lround(spec->retry_after * batch->common.scale);
}

static char *task_url(const struct timeouts_batch *batch, const struct task_spec *spec)
{
    double scale = batch->common.scale;
    if (spec->delay < 0)
        return http_url(batch->common.url, "/hang");
    if (spec->status == 0)
        return http_url(batch->common.url, "/delay-me?seconds=%g", spec->delay * scale);
    if (spec->retry_after < 0)
        return http_url(batch->common.url, "/status/%ld?delay=%g", spec->status,
                        spec->delay * scale);
    return http_url(batch->common.url, "/status/%ld?delay=%g&retry_after=%ld", spec->status,
                    spec->delay * scale, retry_after_asked(batch, spec));
}

static bool build_tasks(struct timeouts_batch *batch)
{
    for (int i = 0; i < TIMEOUTS_TASK_COUNT; i++) {
        const struct task_spec *spec = &LESSON_BATCH[i];
        struct timeouts_task *task = &batch->tasks[i];
        task->number = i + 1;
        snprintf(task->label, sizeof task->label, "T%d", task->number);
        task->role = spec->role;
        task->delay = spec->delay < 0 ? -1 : spec->delay * batch->common.scale;
        task->asks_status = spec->status;
        task->asks_retry_after = spec->retry_after < 0 ? -1
                                 : (double)retry_after_asked(batch, spec);
        task->jitter_state = retry_jitter_start(batch->seed, task->number);
        task->outcome = TIMEOUTS_PENDING;
        task->url = task_url(batch, spec);
        if (task->url == NULL)
            return false;
    }
    return true;
}

static void free_tasks(struct timeouts_batch *batch)
{
    for (int i = 0; i < TIMEOUTS_TASK_COUNT; i++) {
        free(batch->tasks[i].url);
        batch->tasks[i].url = NULL;
    }
}

/* ------------------------------------------------------------ outcomes */

bool timeouts_task_failed(const struct timeouts_task *task)
{
    return outcome_is_failure(task->outcome);
}

bool timeouts_any_pending(const struct timeouts_batch *batch)
{
    for (int i = 0; i < TIMEOUTS_TASK_COUNT; i++)
        if (batch->tasks[i].outcome == TIMEOUTS_PENDING)
            return true;
    return false;
}

struct timeouts_task *timeouts_first_pending(struct timeouts_batch *batch)
{
    for (int i = 0; i < TIMEOUTS_TASK_COUNT; i++)
        if (batch->tasks[i].outcome == TIMEOUTS_PENDING)
            return &batch->tasks[i];
    return NULL;
}

bool timeouts_must_stop(const struct timeouts_batch *batch, enum timeouts_cancel_reason *reason)
{
    if (timeouts_interrupted())
        *reason = TIMEOUTS_BY_INTERRUPT;
    else if (batch->fail_fast && batch->first_failure != NULL)
        *reason = TIMEOUTS_BY_FAIL_FAST;
    else if (timeouts_time_left(batch, clock_now()) <= 0)
        *reason = TIMEOUTS_BY_DEADLINE;
    else
        return false;
    return true;
}

double timeouts_time_left(const struct timeouts_batch *batch, double now)
{
    return batch->deadline_at > 0 ? batch->deadline_at - now : TIMEOUTS_NO_LIMIT;
}

double timeouts_next_wake(const struct timeouts_batch *batch, double now)
{
    double wake = now + timeouts_time_left(batch, now);
    for (int i = 0; i < TIMEOUTS_TASK_COUNT; i++) {
        const struct timeouts_task *task = &batch->tasks[i];
        if (task->outcome == TIMEOUTS_PENDING && task->retry_at > 0)
            wake = fmin(wake, task->retry_at);
    }
    return wake;
}

double timeouts_limit_within_deadline(const struct timeouts_batch *batch, double now)
{
    double per_attempt = batch->timeout > 0 ? batch->timeout : TIMEOUTS_NO_LIMIT;
    /* A deadline that passed a moment ago (after the loop's stop check) is
     * still a limit: the smallest one, for 0 would mean none to libcurl. */
    double left = fmax(timeouts_time_left(batch, now), TIMEOUTS_SMALLEST_LIMIT);
    return fmin(per_attempt, left);
}

long timeouts_limit_ms(double seconds)
{
    if (seconds <= 0 || seconds >= TIMEOUTS_NO_LIMIT)
        return 0;
    return seconds * 1000 < 1 ? 1 : (long)ceil(seconds * 1000);
}

/* Records the attempt that just ended in the trace: one bar per attempt,
 * so the gaps a backoff leaves show up. */
static void trace_attempt(struct timeouts_batch *batch, struct timeouts_task *task,
                          double ended, const char *outcome)
{
    char name[300];
    if (task->attempts > 1)
        snprintf(name, sizeof name, "%s GET %s (attempt %d)", task->label, http_url_path(task->url),
                 task->attempts);
    else
        snprintf(name, sizeof name, "%s GET %s", task->label, http_url_path(task->url));
    struct trace_event *event = trace_add(batch->trace, name, task->number,
                                          task->attempt_started, ended);
    trace_set_text(event, "url", task->url);
    trace_set_integer(event, "status", task->status);
    trace_set_integer(event, "attempt", task->attempts);
    trace_set_text(event, "outcome", outcome);
}

void timeouts_attempt_started(struct timeouts_batch *batch, struct timeouts_task *task)
{
    double now = clock_now();
    task->attempts++;
    task->attempt_started = now;
    task->attempt_open = true;
    task->retry_at = 0;
    if (task->attempts == 1) {
        task->first_started = now;
        output_task(task->label, TONE_PLAIN, "Requesting '%s' (%s)", task->url, task->role);
    } else {
        output_task(task->label, TONE_PLAIN, "Requesting '%s' again (attempt %d of %ld)",
                    task->url, task->attempts, batch->retries + 1);
    }
}

/* ", 3 attempts" after a task that needed more than one, else "". */
static const char *attempts_note(const struct timeouts_task *task, char *buffer, size_t size)
{
    if (task->attempts <= 1)
        return "";
    snprintf(buffer, size, ", %d attempts", task->attempts);
    return buffer;
}

/* Prints the final line of a task that ended on its own. */
static void print_outcome(const struct timeouts_task *task, double now)
{
    char note[32];
    double total = now - task->first_started;
    switch (task->outcome) {
    case TIMEOUTS_OK:
        output_task(task->label, TONE_GOOD, "ok %ld in %.2f s%s", task->status, total,
                    attempts_note(task, note, sizeof note));
        break;
    case TIMEOUTS_TIMED_OUT:
        output_task(task->label, TONE_BAD, "timed out after %.2f s%s",
                    now - task->attempt_started, attempts_note(task, note, sizeof note));
        break;
    case TIMEOUTS_HTTP_ERROR:
        output_task(task->label, TONE_BAD, "HTTP %ld after %.2f s%s", task->status, total,
                    attempts_note(task, note, sizeof note));
        break;
    case TIMEOUTS_REFUSED:
        output_task(task->label, TONE_BAD, "connection refused%s",
                    attempts_note(task, note, sizeof note));
        break;
    default:
        output_task(task->label, TONE_BAD, "failed: %s%s",
                    curl_easy_strerror((CURLcode)task->error),
                    attempts_note(task, note, sizeof note));
        break;
    }
}

enum timeouts_next timeouts_attempt_finished(struct timeouts_batch *batch,
                                             struct timeouts_task *task, CURL *easy,
                                             CURLcode result)
{
    task->error = (int)result;
    task->status = http_status(easy);
    /* sync.c's progress callback stopped the transfer for Ctrl+C. */
    if (result == CURLE_ABORTED_BY_CALLBACK && timeouts_interrupted()) {
        timeouts_task_cancel(batch, task, TIMEOUTS_BY_INTERRUPT);
        return TIMEOUTS_TASK_DONE;
    }

    double now = clock_now();
    enum timeouts_outcome outcome = outcome_of_attempt(easy, result, task->status);
    task->attempt_open = false;
    trace_attempt(batch, task, now, outcome_name(outcome));

    /* A timeout cut short by the batch's deadline (sync.c bounds each
     * attempt by what is left of it) is the deadline's doing. */
    if (outcome == TIMEOUTS_TIMED_OUT && timeouts_time_left(batch, now) <= 0) {
        timeouts_task_cancel(batch, task, TIMEOUTS_BY_DEADLINE);
        return TIMEOUTS_TASK_DONE;
    }
    if (retry_worth_it(outcome, task->status) && task->attempts <= batch->retries) {
        double retry_after = retry_after_of(easy);
        double wait = timeouts_retry_wait(batch, &task->jitter_state, task->attempts, retry_after);
        task->retry_at = now + wait;
        char asked[48] = "";
        if (retry_after >= 0)
            snprintf(asked, sizeof asked, "; the server said Retry-After: %g", retry_after);
        char what[32];
        if (outcome == TIMEOUTS_REFUSED)
            snprintf(what, sizeof what, "connection refused");
        else
            snprintf(what, sizeof what, "HTTP %ld", task->status);
        output_task(task->label, TONE_NOTE, "%s; retry %d of %ld in %.2f s%s", what,
                    task->attempts, batch->retries, wait, asked);
        return TIMEOUTS_TASK_RETRY;
    }
    task->outcome = outcome;
    print_outcome(task, now);
    if (timeouts_task_failed(task) && batch->first_failure == NULL)
        batch->first_failure = task;
    return TIMEOUTS_TASK_DONE;
}

/* "deadline", "fail-fast: T5 failed", "Ctrl+C". */
static void describe_reason(const struct timeouts_batch *batch,
                            enum timeouts_cancel_reason reason, char *text, size_t size)
{
    switch (reason) {
    case TIMEOUTS_BY_DEADLINE:
        snprintf(text, size, "deadline");
        break;
    case TIMEOUTS_BY_FAIL_FAST:
        snprintf(text, size, "fail-fast: %s failed",
                 batch->first_failure ? batch->first_failure->label : "a task");
        break;
    case TIMEOUTS_BY_INTERRUPT:
        snprintf(text, size, "%s", interrupt_name());
        break;
    }
}

void timeouts_task_cancel(struct timeouts_batch *batch, struct timeouts_task *task,
                          enum timeouts_cancel_reason reason)
{
    if (task->outcome != TIMEOUTS_PENDING)
        return;
    double now = clock_now();
    if (task->attempt_open) {
        trace_attempt(batch, task, now, "cancelled");
        task->attempt_open = false;
    }
    task->outcome = TIMEOUTS_CANCELLED;
    task->cancel_reason = reason;
    task->retry_at = 0;
    char why[64];
    describe_reason(batch, reason, why, sizeof why);
    if (task->attempts == 0)
        output_task(task->label, TONE_NOTE, "cancelled (%s) before it started", why);
    else
        output_task(task->label, TONE_NOTE, "cancelled (%s) after %.2f s", why,
                    now - task->first_started);
}

/* ------------------------------------------------------------ setup, finish */

int timeouts_setup(struct timeouts_batch *batch, const struct lesson_program *program,
                   int argc, char **argv)
{
    memset(batch, 0, sizeof *batch);
    batch->common.program = program->name;
    batch->timeout = LESSON_TIMEOUT_S;
    batch->seed = 1;
    switch (parse_command_line(batch, program, argc, argv)) {
    case CLI_EXIT_OK: return EXIT_ALL_DONE;
    case CLI_EXIT_USAGE: return EXIT_USAGE;
    case CLI_RUN: break;
    }
    /* --seed (a common flag) seeds the backoff's jitter, so runs repeat
     * exactly; without it, seed 1. */
    if (batch->common.seeded)
        batch->seed = (long)batch->common.seed;
    /* Every time on the command line is in the lesson's seconds, like the
     * server delays: --scale shrinks them all together. */
    batch->timeout *= batch->common.scale;
    batch->deadline *= batch->common.scale;
    output_init(batch->common.quiet);
    if (!build_tasks(batch)) {
        output_error(program->name, "out of memory");
        free_tasks(batch);
        return EXIT_SETUP;
    }
    if (batch->common.predict) {
        timeouts_print_prediction(batch, program->concurrent);
        free_tasks(batch);
        return EXIT_ALL_DONE;
    }
    if ((batch->common.trace_path != NULL
         && !trace_path_writable(batch->common.trace_path, program->name))
        || !http_global_init(program->name) || !http_server_reachable(program->name, batch->common.url)) {
        http_global_cleanup();
        free_tasks(batch);
        return EXIT_SETUP;
    }
    if (!interrupt_install()) {
        output_error(program->name, "cannot install the Ctrl+C handler: %s", strerror(errno));
        interrupt_uninstall();
        http_global_cleanup();
        free_tasks(batch);
        return EXIT_SETUP;
    }
    if (batch->common.trace_path != NULL) {
        batch->trace = trace_new(clock_now());
        trace_one_thread(batch->trace, program->concurrent);  /* both programs have one thread */
        for (int i = 0; i < TIMEOUTS_TASK_COUNT && batch->trace; i++)
            trace_name_task(batch->trace, batch->tasks[i].number, batch->tasks[i].label);
    }
    /* This lesson bounds its waits itself (--timeout, --deadline), and
     * --timeout 0 waits for ever on purpose; a stall timeout applies only
     * when asked for. */
    http_set_bounds((struct http_bounds){ batch->common.stall_timeout, 0.0 });
    output_rule();
    batch->started = clock_now();
    batch->deadline_at = batch->deadline > 0 ? batch->started + batch->deadline : 0;
    return -1;
}

/* "T3 (timed out), T5 (HTTP 500)": the tasks that failed, or with
 * `cancelled` the ones that were cancelled, each with how or why. */
static void list_tasks(const struct timeouts_batch *batch, bool cancelled, char *text, size_t size)
{
    size_t used = 0;
    text[0] = '\0';
    for (int i = 0; i < TIMEOUTS_TASK_COUNT && used < size; i++) {
        const struct timeouts_task *task = &batch->tasks[i];
        char how[64];
        if (cancelled && task->outcome == TIMEOUTS_CANCELLED)
            describe_reason(batch, task->cancel_reason, how, sizeof how);
        else if (!cancelled && task->outcome == TIMEOUTS_HTTP_ERROR)
            snprintf(how, sizeof how, "HTTP %ld", task->status);
        else if (!cancelled && timeouts_task_failed(task))
            snprintf(how, sizeof how, "%s", outcome_name(task->outcome));
        else
            continue;
        used += (size_t)snprintf(text + used, size - used, "%s%s (%s)", used ? ", " : "",
                                 task->label, how);
    }
}

int timeouts_finish(struct timeouts_batch *batch)
{
    double elapsed = clock_now() - batch->started;
    int ok = 0, failed = 0, cancelled = 0;
    for (int i = 0; i < TIMEOUTS_TASK_COUNT; i++) {
        const struct timeouts_task *task = &batch->tasks[i];
        ok += task->outcome == TIMEOUTS_OK;
        failed += timeouts_task_failed(task);
        cancelled += task->outcome == TIMEOUTS_CANCELLED;
    }
    output_separator();
    output_summary("Outcomes: %d ok, %d failed, %d cancelled, of %d tasks", ok, failed,
                   cancelled, TIMEOUTS_TASK_COUNT);
    char list[512];
    if (failed > 0) {
        list_tasks(batch, false, list, sizeof list);
        output_summary("Failed: %s", list);
    }
    if (cancelled > 0) {
        list_tasks(batch, true, list, sizeof list);
        output_summary("Cancelled: %s", list);
    }
    if (timeouts_interrupted())
        output_summary("Interrupted by %s: this summary is partial", interrupt_name());
    output_summary("Time elapsed: %.3f s", elapsed);
    output_rule();

    int status = timeouts_interrupted() ? 128 + interrupt_signal_number()
               : failed + cancelled > 0 ? EXIT_TASKS_FAILED : EXIT_ALL_DONE;
    status = trace_save(batch->trace, batch->common.trace_path, batch->common.program, status);
    timeouts_abandon(batch);  /* the same release, now that all is said */
    return status;
}

void timeouts_abandon(struct timeouts_batch *batch)
{
    trace_free(batch->trace);
    batch->trace = NULL;
    interrupt_uninstall();
    free_tasks(batch);
    http_global_cleanup();
}

struct timeouts_transfer *timeouts_transfers_new(int count)
{
    struct timeouts_transfer *transfers = calloc((size_t)count, sizeof *transfers);
    for (int i = 0; transfers != NULL && i < count; i++) {
        transfers[i].easy = http_easy_new(&transfers[i].body);
        if (transfers[i].easy == NULL) {
            timeouts_transfers_free(transfers, count);
            return NULL;
        }
    }
    return transfers;
}

void timeouts_transfers_free(struct timeouts_transfer *transfers, int count)
{
    for (int i = 0; transfers != NULL && i < count; i++) {
        if (transfers[i].easy != NULL)
            curl_easy_cleanup(transfers[i].easy);
        http_body_free(&transfers[i].body);
    }
    free(transfers);
}

void timeouts_run_one_at_a_time(struct timeouts_batch *batch,
                                struct timeouts_transfer *transfers)
{
    struct timeouts_transfer *transfer = &transfers[0];
    while (timeouts_any_pending(batch)) {
        enum timeouts_cancel_reason reason;
        if (timeouts_must_stop(batch, &reason)) {
            for (int i = 0; i < TIMEOUTS_TASK_COUNT; i++)
                timeouts_task_cancel(batch, &batch->tasks[i], reason);
            return;
        }
        struct timeouts_task *task = timeouts_first_pending(batch);
        double limit = timeouts_limit_within_deadline(batch, clock_now());
        http_body_reset(&transfer->body);
        curl_easy_setopt(transfer->easy, CURLOPT_URL, task->url);
        curl_easy_setopt(transfer->easy, CURLOPT_TIMEOUT_MS, timeouts_limit_ms(limit));
        timeouts_attempt_started(batch, task);
        CURLcode result = curl_easy_perform(transfer->easy);  /* blocks */
        timeouts_attempt_finished(batch, task, transfer->easy, result);
        if (task->retry_at > 0)
            interrupt_sleep_until(timeouts_next_wake(batch, clock_now()));
    }
}
