/*
 * blocking_pitfall/async_offload.c - the other fix: keep the blocking call,
 * but run it on a worker thread.
 *
 * Demonstrates: when a library only offers a blocking call, the event loop
 * can hand that call to another thread and carry on.  This is the loop of
 * async.c, with the same heartbeat; each task runs curl_easy_perform, as in
 * async_blocking.c, but on a thread of its own.  When the call returns, the
 * worker writes the task's number into a pipe; the loop sleeps in poll() on
 * that pipe (and the heartbeat's timeout) and, woken, reports the task on
 * its own thread.  That is what Python's asyncio.to_thread does: a thread
 * pool runs the blocking function and the loop is woken through its
 * self-pipe when the result is ready.  The requests overlap (about 10 s for
 * 10, 2 and 5 s) and the heartbeat ticks on time.  The price is a thread
 * (stack, scheduling) per call in flight, which async.c does not pay.
 * Compare: diff async.c async_offload.c; docs/blocking_pitfall.md.
 *
 *     build/bin/blocking_pitfall_async_offload [--delays 10,2,5] [--scale F]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "blocking_pitfall.h"
#include "http.h"
#include "output.h"

static const struct lesson_program PROGRAM = {
    .name = "blocking_pitfall_async_offload",
    .purpose = "An event loop that runs each blocking curl_easy_perform on a worker thread.",
    .concurrent = true,
    .prediction = "async_offload: the longest delay, the blocking calls wait on worker threads",
    .has_heartbeat = true,
    .worker_threads = true,
};

/* One request of the event loop: its transfer and its reply, and the worker
 * thread that performs it. */
struct task {
    struct blocking_pitfall_transfer transfer;  /* first: blocking_pitfall_tasks_new fills it */
    long index;            /* what the worker writes into the pipe when done */
    int done_fd;           /* the pipe's write end */
    pthread_t worker;
    bool worker_started;
    CURLcode result;       /* written by the worker, read by the loop after the join */
};

/* Tells the loop a task is done: its index, through the pipe.  A write this
 * small (far below PIPE_BUF) goes in whole, so workers finishing together
 * never mix their messages. */
static void report_done(struct task *task)
{
    while (write(task->done_fd, &task->index, sizeof task->index) < 0 && errno == EINTR)
        ;
}

/* A worker thread: the blocking call, then the message.  Nothing else; the
 * printing and the bookkeeping happen on the loop's thread. */
static void *perform_on_worker(void *argument)
{
    struct task *task = argument;
    task->result = curl_easy_perform(task->transfer.easy);  /* blocks this worker only */
    report_done(task);
    return NULL;
}

/* Hands a request to a new worker thread and returns at once; the worker
 * will report to done_fd as task number `index`. */
static void start_task(struct blocking_pitfall *run, struct task *task, long index, int done_fd)
{
    task->index = index;
    task->done_fd = done_fd;
    http_body_reset(&task->transfer.body);
    curl_easy_setopt(task->transfer.easy, CURLOPT_URL, task->transfer.request->url);
    blocking_pitfall_request_started(run, task->transfer.request);

    task->worker_started = pthread_create(&task->worker, NULL, perform_on_worker, task) == 0;
    if (!task->worker_started) {  /* no thread: the task fails, through the same pipe */
        task->result = CURLE_FAILED_INIT;
        report_done(task);
    }
}

/* Reads every completion the workers have sent so far and reports those
 * tasks.  Returns how many finished; never waits (the pipe is non-blocking). */
static long run_ready_tasks(struct blocking_pitfall *run, struct task *tasks, int done_fd)
{
    long finished = 0;
    long index;
    while (read(done_fd, &index, sizeof index) == (ssize_t)sizeof index) {
        struct task *task = &tasks[index];
        if (task->worker_started)
            pthread_join(task->worker, NULL);  /* returns at once: it has written */
        blocking_pitfall_request_finished(run, task->transfer.request, task->result,
                                          http_status(task->transfer.easy),
                                          &task->transfer.body);
        finished++;
    }
    return finished;
}

int main(int argc, char **argv)
{
    struct blocking_pitfall run;
    int early_exit = blocking_pitfall_setup(&run, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    /* The workers write into done[1]; the loop reads done[0] without ever
     * blocking on it, and sleeps in poll() instead. */
    int done[2];
    if (pipe2(done, O_CLOEXEC) != 0 || fcntl(done[0], F_SETFL, O_NONBLOCK) != 0) {
        output_error(PROGRAM.name, "cannot create a pipe");
        blocking_pitfall_abandon(&run);
        return EXIT_SETUP;
    }
    struct task *tasks = blocking_pitfall_tasks_new(&run, sizeof *tasks);
    if (tasks == NULL) {
        output_error(PROGRAM.name, "out of memory");
        close(done[0]);
        close(done[1]);
        blocking_pitfall_abandon(&run);
        return EXIT_SETUP;
    }

    for (long i = 0; i < run.request_count; i++)
        start_task(&run, &tasks[i], i, done[1]);

    /* The event loop.  Each turn: the heartbeat if it is due, then every
     * task that can make progress, then sleep until there is more to do. */
    long unfinished = run.request_count;
    while (unfinished > 0) {
        blocking_pitfall_heartbeat(&run);

        unfinished -= run_ready_tasks(&run, tasks, done[0]);

        if (unfinished > 0) {  /* until a worker reports or the next tick is due */
            struct pollfd worker_news = { .fd = done[0], .events = POLLIN };
            poll(&worker_news, 1, blocking_pitfall_ms_until_heartbeat(&run));
        }
    }

    blocking_pitfall_tasks_free(&run, tasks, sizeof *tasks);
    close(done[0]);
    close(done[1]);
    return blocking_pitfall_finish(&run);
}
