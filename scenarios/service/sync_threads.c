/*
 * service/sync_threads.c - a gateway with a thread per connection, and a
 * thread per upstream call: blocking calls, overlapped by threads.
 *
 * Demonstrates: a framework's thread pool, for a plain `def` endpoint.
 * GET /dashboard makes three upstream calls and merges their replies; a
 * POST /register's welcome email runs after its 202 has gone.  Here
 * libmicrohttpd gives every connection its own thread, so one waiting
 * handler no longer holds up the others; the handler starts a thread for
 * each of its three upstream calls (sync.c's curl_easy_perform, unchanged)
 * and joins them, so one dashboard takes the longest delay, as in async.c.
 * The price is visible in the thread count: 1 + 3 threads per client
 * waiting, and their memory.  docs/service.md compares the three.
 *
 *     build/bin/service_sync_threads --port 0 --upstream http://127.0.0.1:8000 [--scale F]
 */
#include <pthread.h>

#include "service.h"

static const struct lesson_program PROGRAM = {
    .name = "service_sync_threads",
    .purpose = "A gateway with a thread per connection, whose /dashboard runs its three calls on threads.",
    .concurrent = true,
};

/* A blocking libcurl transfer needs little stack; the default 8 MiB per
 * thread would only reserve address space for nothing. */
#define CALL_STACK_BYTES (256u * 1024u)

/* Exactly sync.c's call: this thread blocks until the upstream answers. */
static void call_upstream(struct service_request *request, struct service_call *call)
{
    CURL *easy = service_call_begin(request->service, call);
    CURLcode result = easy ? curl_easy_perform(easy) : CURLE_OUT_OF_MEMORY;
    service_call_end(request, call, result);
}

static void *call_thread(void *argument)
{
    struct service_call *call = argument;
    call_upstream(call->request, call);
    return NULL;
}

static enum MHD_Result handle_request(void *cls, struct MHD_Connection *connection,
                                      const char *url, const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **req_cls)
{
    (void)version, (void)upload_data;
    struct service_request *request;
    enum MHD_Result result;
    if (!service_dashboard_wanted(cls, connection, url, method, upload_data_size, req_cls,
                                  &request, &result))
        return result;

    request->calls_started = true;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, CALL_STACK_BYTES);
    pthread_t threads[SERVICE_UPSTREAM_COUNT];
    bool started[SERVICE_UPSTREAM_COUNT];
    for (int i = 0; i < SERVICE_UPSTREAM_COUNT; i++)  /* all three at once */
        started[i] = pthread_create(&threads[i], &attributes, call_thread,
                                    &request->calls[i]) == 0;
    pthread_attr_destroy(&attributes);
    for (int i = 0; i < SERVICE_UPSTREAM_COUNT; i++) {
        if (started[i])
            pthread_join(threads[i], NULL);
        else  /* out of threads: this one makes the call itself */
            call_upstream(request, &request->calls[i]);
    }
    return service_reply_dashboard(request);
}

/* Exactly sync.c's email: the thread of the connection that asked for it
 * blocks until it is sent. */
static void send_email(struct service_task *task)
{
    CURL *easy = service_task_begin(task);
    CURLcode result = easy ? curl_easy_perform(easy) : CURLE_OUT_OF_MEMORY;
    service_task_end(task, result);
}

int main(int argc, char **argv)
{
    struct service service;
    int early_exit = service_setup(&service, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    /* A thread per connection runs the handlers (which needs poll, not epoll). */
    if (!service_start(&service, MHD_USE_INTERNAL_POLLING_THREAD
                                 | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL,
                       handle_request, send_email)) {
        service_abandon(&service);
        return EXIT_SETUP;
    }
    service_serve_until_stopped(&service);
    return service_finish(&service);
}
