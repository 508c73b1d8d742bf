/*
 * blocking_pitfall/sync.c - three calls to a slow API, one after another:
 * the baseline of the blocking-pitfall lesson.
 *
 * Demonstrates: with blocking calls the waits add up.  curl_easy_perform
 * does not return until the whole reply is in, so the lesson's delays of 10,
 * 2 and 5 s take 17 s.  There is no event loop here and nothing else that
 * could run meanwhile, so nobody notices the waiting.  async_blocking.c puts
 * the very same call inside an event loop, and the loop notices.
 * docs/blocking_pitfall.md explains all four programs.
 *
 *     build/bin/blocking_pitfall_sync [--delays 10,2,5] [--scale F]
 */
#include <stdlib.h>

#include "blocking_pitfall.h"
#include "http.h"
#include "output.h"

static const struct lesson_program PROGRAM = {
    .name = "blocking_pitfall_sync",
    .purpose = "Calls a slow API three times with the libcurl easy interface: one after another.",
    .concurrent = false,
    .prediction = "sync: the sum of the delays",
    .has_heartbeat = false,
};

/* Sends one request and waits, doing nothing else, until it has finished. */
static void run_request(struct blocking_pitfall *run, CURL *easy, struct http_body *body,
                        struct delay_request *request)
{
    http_body_reset(body);
    curl_easy_setopt(easy, CURLOPT_URL, request->url);
    blocking_pitfall_request_started(run, request);

    CURLcode result = curl_easy_perform(easy);  /* blocks for the whole delay */

    blocking_pitfall_request_finished(run, request, result, http_status(easy), body);
}

int main(int argc, char **argv)
{
    struct blocking_pitfall run;
    int early_exit = blocking_pitfall_setup(&run, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    /* One handle for every request: libcurl keeps its connection open and
     * reuses it, so only the first request pays for connecting. */
    struct http_body body = { 0 };
    CURL *easy = http_easy_new(&body);
    if (easy == NULL) {
        output_error(PROGRAM.name, "out of memory");
        blocking_pitfall_abandon(&run);
        return EXIT_SETUP;
    }

    for (long i = 0; i < run.request_count; i++)
        run_request(&run, easy, &body, &run.requests[i]);

    curl_easy_cleanup(easy);
    http_body_free(&body);
    return blocking_pitfall_finish(&run);
}
