/*
 * service/sync.c - a gateway whose handler calls its upstreams one after
 * another, on the one thread that serves everybody.
 *
 * Demonstrates: the server-side pitfall, in the service's own code.
 * GET /dashboard makes three upstream calls and merges their replies; a
 * POST /register's welcome email runs after its 202 has gone.  Here
 * libmicrohttpd runs one thread, which runs the handlers too, and each
 * call is a curl_easy_perform that blocks it until the reply is in.  One
 * dashboard takes the sum of the delays (2 + 3 + 1 = 6 s), and while it
 * waits nobody else is served: the K-th client waits about K times 6 s.
 * Compare with async.c; docs/service.md explains both.
 *
 *     build/bin/service_sync --port 0 --upstream http://127.0.0.1:8000 [--scale F]
 */
#include "service.h"

static const struct lesson_program PROGRAM = {
    .name = "service_sync",
    .purpose = "A gateway whose /dashboard calls its three upstreams in turn, on one thread.",
    .concurrent = false,
};

/* Blocks the thread, the only one serving, until the upstream answers. */
static void call_upstream(struct service_request *request, struct service_call *call)
{
    CURL *easy = service_call_begin(request->service, call);
    CURLcode result = easy ? curl_easy_perform(easy) : CURLE_OUT_OF_MEMORY;
    service_call_end(request, call, result);
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
    for (int i = 0; i < SERVICE_UPSTREAM_COUNT; i++)  /* one after another */
        call_upstream(request, &request->calls[i]);
    return service_reply_dashboard(request);
}

/* Blocks the thread again, after the 202, until the email is sent: whoever
 * comes next waits for it too. */
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

    /* libmicrohttpd's one thread runs the handlers: while one waits, all wait. */
    if (!service_start(&service, MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
                       handle_request, send_email)) {
        service_abandon(&service);
        return EXIT_SETUP;
    }
    service_serve_until_stopped(&service);
    return service_finish(&service);
}
