/*
 * service_upstream.c - the gateways' calls to their upstream: each call's
 * easy handle and how it ended, the merge of a dashboard's three replies
 * into one JSON reply, and the background task's call.  Starting and
 * waiting for the transfers is the programs' own business.  See service.h.
 */
#include "service.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "output.h"
#include "service_parts.h"

/* ------------------------------------------------------------ upstream calls */

/* libcurl asks this about once a second during a transfer: non-zero ends it. */
static int abort_when_dropping(void *cls, curl_off_t dltotal, curl_off_t dlnow,
                               curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    const struct service *service = cls;
    return atomic_load(&service->dropping) ? 1 : 0;
}

CURL *service_call_begin(struct service *service, struct service_call *call)
{
    call->started = clock_now();
    call->easy = call->url ? http_easy_new(&call->body) : NULL;
    if (call->easy == NULL)
        return NULL;
    curl_easy_setopt(call->easy, CURLOPT_URL, call->url);
    call->error[0] = '\0';
    curl_easy_setopt(call->easy, CURLOPT_ERRORBUFFER, call->error);
    curl_easy_setopt(call->easy, CURLOPT_TIMEOUT_MS, (long)(service->timeout * 1000.0));
    curl_easy_setopt(call->easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(call->easy, CURLOPT_XFERINFOFUNCTION, abort_when_dropping);
    curl_easy_setopt(call->easy, CURLOPT_XFERINFODATA, service);
    return call->easy;
}

/* Why a call did not give us its part ("" when it did). */
static void call_problem(const struct service *service, const struct service_call *call,
                         char *why, size_t size)
{
    why[0] = '\0';
    /* Two bounds end a call with the same code: --timeout, the lesson's,
     * and the stall bound (no byte for --stall-timeout seconds), which can
     * be the shorter; libcurl's message says which. */
    bool whole_timeout = call->finished - call->started >= service->timeout * 0.99;
    if (call->result == CURLE_OPERATION_TIMEDOUT && (whole_timeout || call->error[0] == '\0'))
        snprintf(why, size, "timed out after %g s", service->timeout);
    else if (call->result == CURLE_OPERATION_TIMEDOUT)
        snprintf(why, size, "stalled: %.100s", call->error);
    else if (call->result == CURLE_ABORTED_BY_CALLBACK)
        snprintf(why, size, "dropped at shutdown");
    else if (call->result != CURLE_OK)
        snprintf(why, size, "%.100s",
                 call->error[0] ? call->error : curl_easy_strerror(call->result));
    else if (call->status != 200)
        snprintf(why, size, "HTTP %ld", call->status);
}

static void trace_call(struct service *service, int row, const char *label,
                       const struct service_call *call)
{
    char why[128];
    call_problem(service, call, why, sizeof why);
    service_lock(service);
    struct trace_event *event = trace_add(service->trace, label, row, call->started,
                                          call->finished);
    trace_set_text(event, "url", call->url ? call->url : "");
    trace_set_number(event, "status", (double)call->status);
    trace_set_text(event, "outcome", why[0] ? why : "ok");
    service_unlock(service);
}

void service_call_end(struct service_request *request, struct service_call *call,
                      CURLcode result)
{
    struct service *service = request->service;
    call->finished = clock_now();
    call->result = call->easy ? result : CURLE_OUT_OF_MEMORY;
    call->status = call->easy ? http_status(call->easy) : 0;
    if (call->easy != NULL)
        curl_easy_cleanup(call->easy);
    call->easy = NULL;
    char label[96];
    snprintf(label, sizeof label, "%s user=%ld", call->name, request->user);
    trace_call(service, request->row + 1 + (int)(call - request->calls), label, call);
}

/* ------------------------------------------------------------ the merge */

/* The part a call contributes: its JSON object, or NULL (then *why says). */
static json_t *call_part(const struct service *service, const struct service_call *call,
                         char *why, size_t size)
{
    call_problem(service, call, why, size);
    if (why[0] != '\0')
        return NULL;
    json_t *part = json_loads(call->body.data ? call->body.data : "", 0, NULL);
    if (!json_is_object(part)) {
        json_decref(part);
        snprintf(why, size, "the reply was not a JSON object");
        return NULL;
    }
    return part;
}

enum MHD_Result service_reply_dashboard(struct service_request *request)
{
    struct service *service = request->service;
    json_t *reply = json_pack("{s:I}", "user", (json_int_t)request->user);
    json_t *failed = json_object();
    int answered = 0, timed_out = 0, failed_otherwise = 0;
    for (int i = 0; i < SERVICE_UPSTREAM_COUNT; i++) {
        const struct service_call *call = &request->calls[i];
        char why[128];
        json_t *part = call_part(service, call, why, sizeof why);
        json_object_set_new(reply, call->name, part ? part : json_null());
        if (part != NULL)
            answered++;
        else
            json_object_set_new(failed, call->name, json_string(why));
        if (call->result == CURLE_OPERATION_TIMEDOUT)
            timed_out++;
        else if (part == NULL)
            failed_otherwise++;
    }
    json_object_set_new(reply, "failed", failed);
    char *text = json_dumps(reply, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(reply);
    service_lock(service);
    service->dashboards++;
    service->partial += answered > 0 && answered < SERVICE_UPSTREAM_COUNT;
    service->timed_out += timed_out > 0;
    service->unanswered += answered == 0;
    service_unlock(service);
    /* Nothing came back: the gateway's own upstream failed it.  504 says it
     * only waited too long (a retry later may do); 502 that an upstream
     * answered garbage, an error or hung up (as nginx tells them apart). */
    unsigned status = answered > 0 ? MHD_HTTP_OK
                    : failed_otherwise > 0 ? MHD_HTTP_BAD_GATEWAY : MHD_HTTP_GATEWAY_TIMEOUT;
    if (text == NULL)
        return MHD_NO;
    return service_queue_reply(request, status, "application/json", text);
}

/* ------------------------------------------------------------ tasks */

CURL *service_task_begin(struct service_task *task)
{
    CURL *easy = service_call_begin(task->service, &task->call);
    if (easy != NULL)
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, task->payload);
    return easy;
}

void service_task_end(struct service_task *task, CURLcode result)
{
    struct service *service = task->service;
    struct service_call *call = &task->call;
    call->finished = clock_now();
    call->result = call->easy ? result : CURLE_OUT_OF_MEMORY;
    call->status = call->easy ? http_status(call->easy) : 0;
    char label[96], why[128];
    snprintf(label, sizeof label, "welcome-email user=%ld", task->user);
    call_problem(service, call, why, sizeof why);
    trace_call(service, task->row, label, call);
    if (why[0] != '\0')
        fprintf(stderr, "%s: %s: %s\n", service->program->name, label, why);
    else if (!service->common.quiet)
        output_task(label, TONE_GOOD, "sent %.3f s after the 202, took %.3f s",
                    call->started - task->reply_done, call->finished - call->started);
    service_lock(service);
    service->tasks_running--;
    if (call->result == CURLE_ABORTED_BY_CALLBACK)
        service->tasks_dropped++;
    else if (why[0] != '\0')
        service->tasks_failed++;
    else
        service->tasks_done++;
    pthread_cond_broadcast(&service->changed);
    service_unlock(service);
    if (call->easy != NULL)
        curl_easy_cleanup(call->easy);
    free(call->url);
    http_body_free(&call->body);
    free(task);
}
