/*
 * slow_api/async.c - three calls to a slow API, all at once.
 *
 * Demonstrates: an event loop overlaps the waiting.  Every request is handed
 * to one libcurl multi handle, and a single thread loops: let libcurl make
 * progress on every transfer (curl_multi_perform), collect the ones that
 * finished (curl_multi_info_read), then sleep until any socket is ready
 * (curl_multi_poll).  The lesson's 10, 2 and 5 s requests are all in flight
 * together, so the run takes about 10 s, the longest, instead of 17 s.
 * Concurrent, not parallel: one thread does it all, waiting on many sockets
 * at once.  Compare with sync.c; docs/slow_api.md explains both.
 * (LAB:cut/LAB:end: what the lab's starter leaves out; docs/labs/README.md.)
 *
 *     build/bin/slow_api_async [--delays 10,2,5] [--requests N]
 *                              [--concurrency N] [--scale F]
 */
#include <stdlib.h>

#include "http.h"
#include "output.h"
#include "slow_api.h"

static const struct lesson_program PROGRAM = {
    .name = "slow_api_async",
    .purpose = "Calls a slow API several times with the libcurl multi interface: all at once, one thread.",
    .concurrent = true,
    .fds_per_request = 1,  /* its socket */
};

/* LAB:cut write start_request (point the slot's easy handle at the request,
 * remember the slot in CURLOPT_PRIVATE, call slow_api_request_started, add it
 * to the multi handle) and finish_request (slow_api_request_finished, then
 * take it off the multi handle and return its slot). */
/* Hands a request to the multi handle and returns at once: nothing waits. */
static void start_request(struct slow_api *run, CURLM *multi, struct slow_api_slot *slot,
                          struct delay_request *request)
{
    http_body_reset(&slot->body);
    slot->request = request;
    curl_easy_setopt(slot->easy, CURLOPT_URL, request->url);
    curl_easy_setopt(slot->easy, CURLOPT_PRIVATE, slot);
    slow_api_request_started(run, request);

    curl_multi_add_handle(multi, slot->easy);  /* queued, not sent yet */
}

/* Reports one finished transfer and takes it off the multi handle. */
static struct slow_api_slot *finish_request(struct slow_api *run, CURLM *multi, CURLMsg *message)
{
    struct slow_api_slot *slot = NULL;
    curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&slot);
    slow_api_request_finished(run, slot->request, message->data.result,
                              http_status(slot->easy), &slot->body);
    curl_multi_remove_handle(multi, slot->easy);
    return slot;
}
/* LAB:end */

int main(int argc, char **argv)
{
    struct slow_api run;
    int early_exit = slow_api_setup(&run, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    /* One multi handle for every request: it also keeps the connections
     * open between requests, so a slot's next request reuses them. */
    CURLM *multi = curl_multi_init();
    struct slow_api_slot *slots = slow_api_slots_new(run.concurrency);
    if (multi == NULL || slots == NULL) {
        output_error(PROGRAM.name, "out of memory");
        curl_multi_cleanup(multi);
        slow_api_abandon(&run);
        return EXIT_SETUP;
    }

    /* LAB:cut replace this serial loop with the event loop: start up to
     * run.concurrency requests, then until none is in flight let libcurl
     * work (curl_multi_perform), finish each transfer curl_multi_info_read
     * reports, start the next request in the slot it freed, and sleep in
     * curl_multi_poll until a socket is ready. */
    long next = 0;       /* the next request to start */
    long in_flight = 0;  /* requests handed to libcurl and not finished */
    while (next < run.request_count && in_flight < run.concurrency)
        start_request(&run, multi, &slots[in_flight++], &run.requests[next++]);

    /* The event loop. */
    while (in_flight > 0) {
        int still_running = 0;
        http_multi_check(curl_multi_perform(multi, &still_running), PROGRAM.name);  /* never waits */

        CURLMsg *message;
        int queued = 0;
        while ((message = curl_multi_info_read(multi, &queued)) != NULL) {
            if (message->msg != CURLMSG_DONE)
                continue;
            struct slow_api_slot *freed = finish_request(&run, multi, message);
            in_flight--;
            if (next < run.request_count) {
                start_request(&run, multi, freed, &run.requests[next++]);
                in_flight++;
            }
        }

        if (in_flight > 0)  /* sleep until a socket is ready or 1 s passes */
            http_multi_check(curl_multi_poll(multi, NULL, 0, 1000, NULL), PROGRAM.name);
    }
    /* LAB:end slow_api_run_one_at_a_time(&run, &slots[0]); */

    slow_api_slots_free(slots, run.concurrency);
    curl_multi_cleanup(multi);
    return slow_api_finish(&run);
}
