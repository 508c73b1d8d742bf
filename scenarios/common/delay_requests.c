/* delay_requests.c - the slow-API lessons' /delay-me requests; see delay_requests.h. */
#include "delay_requests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "output.h"
#include "seed.h"

struct delay_request *delay_requests_new(const char *server, const double *delays,
                                         size_t delay_count, long count, double scale)
{
    struct delay_request *requests = calloc((size_t)count, sizeof *requests);
    if (requests == NULL)
        return NULL;
    for (long i = 0; i < count; i++) {
        struct delay_request *request = &requests[i];
        request->number = (int)i + 1;
        snprintf(request->label, sizeof request->label, "R%d", request->number);
        request->delay = delays[(size_t)i % delay_count] * scale;
        /* %g prints 10 as "10" and 0.2 as "0.2": what the lesson shows. */
        request->url = http_url(server, "/delay-me?seconds=%g", request->delay);
        if (request->url == NULL) {
            delay_requests_free(requests, count);
            return NULL;
        }
    }
    return requests;
}

double delay_requests_longest(const struct delay_request *requests, long count)
{
    double longest = 0.0;
    for (long i = 0; i < count; i++)
        if (requests[i].delay > longest)
            longest = requests[i].delay;
    return longest;
}

/* The lessons: three calls to an API that takes 10, 2 and 5 seconds. */
static const double LESSON_DELAYS[] = { 10.0, 2.0, 5.0 };

size_t delay_requests_default_delays(const struct cli_common *common, double *delays,
                                     size_t capacity)
{
    if (!common->seeded) {
        size_t count = sizeof LESSON_DELAYS / sizeof LESSON_DELAYS[0];
        memcpy(delays, LESSON_DELAYS, sizeof LESSON_DELAYS);
        return count;
    }
    struct seed draw = seed_start(common->seed);
    size_t count = (size_t)seed_between(&draw, 3, 8);
    if (count > capacity)
        count = capacity;
    for (size_t i = 0; i < count; i++)
        delays[i] = seed_step(&draw, 1.0, 10.0, 0.5);
    return count;
}

void delay_requests_free(struct delay_request *requests, long count)
{
    if (requests == NULL)
        return;
    for (long i = 0; i < count; i++)
        free(requests[i].url);
    free(requests);
}

void delay_request_started(struct delay_request *request)
{
    request->started = clock_now();
    output_task(request->label, TONE_PLAIN, "Requesting '%s'", request->url);
}

bool delay_request_finished(struct delay_request *request, struct trace *trace,
                            CURLcode result, long status, const struct http_body *body)
{
    return delay_request_ended(request, trace,
                               result == CURLE_OK ? NULL : curl_easy_strerror(result),
                               status, body->data);
}

bool delay_request_ended(struct delay_request *request, struct trace *trace,
                         const char *error, long status, const char *body)
{
    double finished = clock_now();
    bool ok = error == NULL && status == 200;
    if (ok) {
        output_task(request->label, TONE_GOOD, "Request finally done! Server replied '%s'",
                    body ? body : "");
    } else if (error != NULL) {
        output_task(request->label, TONE_BAD, "Request failed: %s", error);
    } else {
        output_task(request->label, TONE_BAD, "Request failed: HTTP %ld", status);
    }

    char name[256];
    snprintf(name, sizeof name, "%s GET %s", request->label, http_url_path(request->url));
    struct trace_event *event = trace_add(trace, name, request->number,
                                          request->started, finished);
    trace_set_text(event, "url", request->url);
    trace_set_integer(event, "status", status);
    trace_set_text(event, "outcome", ok ? "ok" : error != NULL ? error : "http error");
    return ok;
}
