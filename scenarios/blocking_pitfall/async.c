/*
 * blocking_pitfall/async.c - the fix: an event loop whose tasks never block.
 *
 * Demonstrates: the same event loop as async_blocking.c, with the same
 * heartbeat, but every request is a non-blocking transfer on one libcurl
 * multi handle.  A turn of the loop lets libcurl send and receive whatever
 * it can without waiting (curl_multi_perform), reports the transfers that
 * finished, and only then sleeps, in curl_multi_poll, until a socket is
 * ready or the next heartbeat tick is due.  The loop is never stuck, so the
 * 10, 2 and 5 s requests overlap (about 10 s in all) and the heartbeat ticks
 * on time throughout: its worst lag stays near zero.
 * Compare: diff async_blocking.c async.c; docs/blocking_pitfall.md.
 * (LAB:cut/LAB:end: what the lab's starter leaves out; docs/labs/README.md.)
 *
 *     build/bin/blocking_pitfall_async [--delays 10,2,5] [--scale F]
 */
#include <stdlib.h>

#include "blocking_pitfall.h"
#include "http.h"
#include "output.h"

static const struct lesson_program PROGRAM = {
    .name = "blocking_pitfall_async",
    .purpose = "An event loop with non-blocking libcurl multi transfers and a heartbeat.",
    .concurrent = true,
    .prediction = "async: the longest delay, the loop never blocks",
    .has_heartbeat = true,
};

/* One request of the event loop: its transfer and its reply. */
struct task {
    struct blocking_pitfall_transfer transfer;  /* first: blocking_pitfall_tasks_new fills it */
};

/* LAB:cut write start_task (hand the task's request to the multi handle,
 * remembering the task in CURLOPT_PRIVATE) and run_ready_tasks (let libcurl
 * work without waiting, then report every transfer that finished and take
 * it off the multi handle; return how many finished). */
/* Hands a request to the multi handle and returns at once: nothing waits. */
static void start_task(struct blocking_pitfall *run, CURLM *multi, struct task *task)
{
    http_body_reset(&task->transfer.body);
    curl_easy_setopt(task->transfer.easy, CURLOPT_URL, task->transfer.request->url);
    curl_easy_setopt(task->transfer.easy, CURLOPT_PRIVATE, task);
    blocking_pitfall_request_started(run, task->transfer.request);

    curl_multi_add_handle(multi, task->transfer.easy);  /* queued, not sent yet */
}

/* Lets every transfer make whatever progress it can right now, then reports
 * the ones that finished.  Returns how many did; never waits. */
static long run_ready_tasks(struct blocking_pitfall *run, CURLM *multi)
{
    int still_running = 0;
    http_multi_check(curl_multi_perform(multi, &still_running), run->program->name);  /* never waits */

    long finished = 0;
    CURLMsg *message;
    int queued = 0;
    while ((message = curl_multi_info_read(multi, &queued)) != NULL) {
        if (message->msg != CURLMSG_DONE)
            continue;
        struct task *task = NULL;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&task);
        blocking_pitfall_request_finished(run, task->transfer.request, message->data.result,
                                          http_status(task->transfer.easy),
                                          &task->transfer.body);
        curl_multi_remove_handle(multi, task->transfer.easy);
        finished++;
    }
    return finished;
}
/* LAB:end */

int main(int argc, char **argv)
{
    struct blocking_pitfall run;
    int early_exit = blocking_pitfall_setup(&run, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    CURLM *multi = curl_multi_init();
    struct task *tasks = blocking_pitfall_tasks_new(&run, sizeof *tasks);
    if (multi == NULL || tasks == NULL) {
        output_error(PROGRAM.name, "out of memory");
        curl_multi_cleanup(multi);
        blocking_pitfall_abandon(&run);
        return EXIT_SETUP;
    }

    /* LAB:cut start every task's transfer here, before the loop. */
    for (long i = 0; i < run.request_count; i++)
        start_task(&run, multi, &tasks[i]);
    /* LAB:end */

    /* The event loop.  Each turn: the heartbeat if it is due, then every
     * task that can make progress, then sleep until there is more to do. */
    long unfinished = run.request_count;
    while (unfinished > 0) {
        blocking_pitfall_heartbeat(&run);

        /* LAB:cut this call blocks the loop for a whole request: replace it
         * with run_ready_tasks, then sleep in curl_multi_poll until a socket
         * is ready or the next heartbeat is due. */
        unfinished -= run_ready_tasks(&run, multi);

        if (unfinished > 0)  /* until a socket is ready or the next tick is due */
            http_multi_check(curl_multi_poll(multi, NULL, 0, blocking_pitfall_ms_until_heartbeat(&run),
                                             NULL), PROGRAM.name);
        /* LAB:end unfinished -= blocking_pitfall_perform_next(&run, tasks->transfer.easy, &tasks->transfer.body); */
    }

    blocking_pitfall_tasks_free(&run, tasks, sizeof *tasks);
    curl_multi_cleanup(multi);
    return blocking_pitfall_finish(&run);
}
