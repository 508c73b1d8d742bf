/* event_loops.c - the event_loops lesson's shared parts; see event_loops.h. */
#include "event_loops.h"

#include <stdio.h>
#include <string.h>

#include "output.h"

bool event_loops_resolve(struct slow_api *run, struct raw_http_server *server)
{
    char reason[320];
    if (raw_http_server_resolve(run->common.url, server, reason, sizeof reason))
        return true;
    output_error(run->common.program, "%s", reason);
    slow_api_abandon(run);
    return false;
}

double event_loops_deadline(const struct slow_api *run, const struct delay_request *request)
{
    if (run->common.max_time > 0.0)
        return request->started + run->common.max_time;
    return request->started + 2.0 * request->delay + EVENT_LOOPS_PATIENCE_S
           + (double)run->concurrency * EVENT_LOOPS_PATIENCE_PER_REQUEST_S;
}

double event_loops_give_up_at(const struct slow_api *run, double deadline, double since)
{
    double stall = run->common.stall_timeout;
    return stall > 0.0 && since + stall < deadline ? since + stall : deadline;
}

void event_loops_request_finished(struct slow_api *run, struct delay_request *request,
                                  const char *failure, int error_number,
                                  const struct raw_http_reply *reply)
{
    if (failure == NULL) {
        slow_api_request_ended(run, request, NULL, reply->status, raw_http_reply_body(reply));
        return;
    }
    char reason[256];
    if (error_number != 0)
        snprintf(reason, sizeof reason, "%s: %s", failure, strerror(error_number));
    else
        snprintf(reason, sizeof reason, "%s", failure);
    slow_api_request_ended(run, request, reason, 0, NULL);
}
