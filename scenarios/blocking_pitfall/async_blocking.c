/*
 * blocking_pitfall/async_blocking.c - the pitfall: an event loop whose task
 * calls a blocking function.
 *
 * Demonstrates: being inside an event loop does not make a call
 * non-blocking.  This is the loop of async.c, with the same heartbeat, but
 * each task's step sends its request with curl_easy_perform, which returns
 * only when the reply is in.  While it waits, the loop that called it waits
 * too: no other task starts, and the heartbeat that wanted to run every
 * 100 ms runs seconds late.  The requests go out one at a time, exactly as
 * in sync.c, and take as long (17 s for the lesson's 10, 2 and 5 s); the
 * worst heartbeat lag is about the longest request.  The loop is fair (one
 * task step per turn, the heartbeat between steps), and fairness does not
 * help: a step that never gives the thread back cannot be interleaved.
 * Compare: diff async_blocking.c async.c (the fix); docs/blocking_pitfall.md.
 *
 *     build/bin/blocking_pitfall_async_blocking [--delays 10,2,5] [--scale F]
 */
#include <stdbool.h>
#include <stdlib.h>

#include "blocking_pitfall.h"
#include "http.h"
#include "output.h"

static const struct lesson_program PROGRAM = {
    .name = "blocking_pitfall_async_blocking",
    .purpose = "An event loop whose tasks call curl_easy_perform: the loop stalls on each one.",
    .concurrent = false,
    .prediction = "async_blocking: the sum of the delays, each blocking call stalls the loop",
    .has_heartbeat = true,
};

/* One request of the event loop: its transfer and its reply. */
struct task {
    struct blocking_pitfall_transfer transfer;  /* first: blocking_pitfall_tasks_new fills it */
    bool ready;  /* scheduled and not yet run */
};

/* Schedules a task and returns at once, like asyncio.create_task: it runs
 * on a later turn of the loop. */
static void start_task(struct task *task)
{
    task->ready = true;
}

/* The one step of a task: it sends its request and waits for the reply in
 * curl_easy_perform.  The event loop called this step, so the event loop
 * waits as well. */
static void run_task_step(struct blocking_pitfall *run, struct task *task)
{
    http_body_reset(&task->transfer.body);
    curl_easy_setopt(task->transfer.easy, CURLOPT_URL, task->transfer.request->url);
    blocking_pitfall_request_started(run, task->transfer.request);

    CURLcode result = curl_easy_perform(task->transfer.easy);  /* blocks the whole loop */

    blocking_pitfall_request_finished(run, task->transfer.request, result,
                                      http_status(task->transfer.easy),
                                      &task->transfer.body);
    task->ready = false;
}

/* Runs the step of the next ready task, then hands the turn back to the
 * loop so the heartbeat gets its chance.  Returns how many tasks finished. */
static long run_ready_tasks(struct blocking_pitfall *run, struct task *tasks)
{
    for (long i = 0; i < run->request_count; i++) {
        if (tasks[i].ready) {
            run_task_step(run, &tasks[i]);
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct blocking_pitfall run;
    int early_exit = blocking_pitfall_setup(&run, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    struct task *tasks = blocking_pitfall_tasks_new(&run, sizeof *tasks);
    if (tasks == NULL) {
        output_error(PROGRAM.name, "out of memory");
        blocking_pitfall_abandon(&run);
        return EXIT_SETUP;
    }

    for (long i = 0; i < run.request_count; i++)
        start_task(&tasks[i]);

    /* The event loop.  Each turn: the heartbeat if it is due, then the next
     * ready task's step, then (in async.c) sleep until there is more to do. */
    long unfinished = run.request_count;
    while (unfinished > 0) {
        blocking_pitfall_heartbeat(&run);

        unfinished -= run_ready_tasks(&run, tasks);

        /* No sleep: every unfinished task is ready to run, and the next turn
         * runs one.  The waiting happened inside curl_easy_perform. */
    }

    blocking_pitfall_tasks_free(&run, tasks, sizeof *tasks);
    return blocking_pitfall_finish(&run);
}
