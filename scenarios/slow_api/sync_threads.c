/*
 * slow_api/sync_threads.c - the same calls, each on a thread of its own.
 *
 * Demonstrates: the other way to overlap waiting.  Every thread runs the
 * plain blocking code of sync.c (curl_easy_perform), and the kernel switches
 * between the threads while they wait, so the requests overlap as they do
 * in async.c.  The price is a thread per request in flight: a stack, a
 * kernel task, and a limit on how many there can be.  docs/scale.md measures
 * that price against the event loop of async.c at thousands of requests.
 *
 *     build/bin/slow_api_sync_threads [--delays 10,2,5] [--requests N]
 *                                     [--concurrency N] [--scale F]
 *
 * --concurrency N starts N threads that share the requests (a thread pool);
 * by default there is one thread per request.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "output.h"
#include "slow_api.h"

static const struct lesson_program PROGRAM = {
    .name = "slow_api_sync_threads",
    .purpose = "Calls a slow API several times with the libcurl easy interface, a thread per request.",
    .concurrent = true,
    .fds_per_request = 3,  /* its socket, and the socket pair of the private multi handle
                       libcurl's easy interface keeps for each easy handle */
    .worker_threads = true,
};

/* A blocking libcurl transfer needs little stack; the default 8 MiB per
 * thread would only reserve address space for nothing. */
#define WORKER_STACK_BYTES (256u * 1024u)

/* What the worker threads share.  The lock guards the request counter and
 * everything slow_api_request_started/finished touch (output, trace). */
struct pool {
    struct slow_api *run;
    pthread_mutex_t lock;
    long next;
};

/* Takes the next request nobody has taken yet, or NULL when all are taken. */
static struct delay_request *take_request(struct pool *pool)
{
    struct delay_request *request = NULL;
    pthread_mutex_lock(&pool->lock);
    if (pool->next < pool->run->request_count)
        request = &pool->run->requests[pool->next++];
    pthread_mutex_unlock(&pool->lock);
    return request;
}

/* One thread: exactly sync.c's loop, but over the requests it takes. */
static void *worker(void *argument)
{
    struct pool *pool = argument;
    struct http_body body = { 0 };
    CURL *easy = http_easy_new(&body);
    struct delay_request *request;
    while (easy != NULL && (request = take_request(pool)) != NULL) {
        http_body_reset(&body);
        curl_easy_setopt(easy, CURLOPT_URL, request->url);
        pthread_mutex_lock(&pool->lock);
        slow_api_request_started(pool->run, request);
        pthread_mutex_unlock(&pool->lock);

        CURLcode result = curl_easy_perform(easy);  /* blocks this thread only */

        pthread_mutex_lock(&pool->lock);
        slow_api_request_finished(pool->run, request, result, http_status(easy), &body);
        pthread_mutex_unlock(&pool->lock);
    }
    if (easy != NULL)
        curl_easy_cleanup(easy);
    http_body_free(&body);
    return NULL;
}

/* Starts up to `wanted` threads; returns how many really started.  When the
 * system refuses a thread (a limit on threads or memory), the ones that did
 * start still do all the work, and the caller says so. */
static long start_workers(struct pool *pool, pthread_t *threads, long wanted, int *error)
{
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, WORKER_STACK_BYTES);
    long started = 0;
    *error = 0;
    for (; started < wanted; started++) {
        *error = pthread_create(&threads[started], &attributes, worker, pool);
        if (*error != 0)
            break;
    }
    pthread_attr_destroy(&attributes);
    return started;
}

int main(int argc, char **argv)
{
    struct slow_api run;
    int early_exit = slow_api_setup(&run, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    struct pool pool = { .run = &run, .next = 0 };
    pthread_mutex_init(&pool.lock, NULL);
    pthread_t *threads = calloc((size_t)run.concurrency, sizeof *threads);
    int error = 0;
    long started = threads ? start_workers(&pool, threads, run.concurrency, &error) : 0;
    if (started < run.concurrency)
        output_error(PROGRAM.name, "could start only %ld of %ld threads (%s)", started,
                     run.concurrency, error ? strerror(error) : "out of memory");
    if (started == 0) {
        /* Nothing can run: count every request as failed. */
        run.failures = run.request_count;
    }
    for (long i = 0; i < started; i++)
        pthread_join(threads[i], NULL);

    free(threads);
    pthread_mutex_destroy(&pool.lock);
    int status = slow_api_finish(&run);
    /* Fewer threads than asked is a run that did not measure what was asked. */
    return started < run.concurrency && status == EXIT_ALL_DONE ? EXIT_TASKS_FAILED : status;
}
