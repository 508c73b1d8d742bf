/*
 * slow_api/sync.c - three calls to a slow API, one after another.
 *
 * Demonstrates: with blocking calls the waits add up.  curl_easy_perform
 * does not return until the whole reply is in, so while the server takes
 * 10 s over R1, R2 and R3 have not even been sent.  The lesson's delays of
 * 10, 2 and 5 s take 17 s here.  Compare with async.c, which does the same
 * work in about 10 s; docs/slow_api.md explains both.
 *
 *     build/bin/slow_api_sync [--delays 10,2,5] [--requests N] [--scale F]
 */
#include <stdlib.h>

#include "http.h"
#include "output.h"
#include "slow_api.h"

static const struct lesson_program PROGRAM = {
    .name = "slow_api_sync",
    .purpose = "Calls a slow API several times with the libcurl easy interface: one after another.",
    .concurrent = false,
    .fds_per_request = 1,  /* its socket */
};

/* Sends one request and waits, doing nothing else, until it has finished. */
static void run_request(struct slow_api *run, CURL *easy, struct http_body *body,
                        struct delay_request *request)
{
    http_body_reset(body);
    curl_easy_setopt(easy, CURLOPT_URL, request->url);
    slow_api_request_started(run, request);

    CURLcode result = curl_easy_perform(easy);  /* blocks for the whole delay */

    slow_api_request_finished(run, request, result, http_status(easy), body);
}

int main(int argc, char **argv)
{
    struct slow_api run;
    int early_exit = slow_api_setup(&run, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    /* One handle for every request: libcurl keeps its connection open and
     * reuses it, so only the first request pays for connecting. */
    struct http_body body = { 0 };
    CURL *easy = http_easy_new(&body);
    if (easy == NULL) {
        output_error(PROGRAM.name, "out of memory");
        slow_api_abandon(&run);
        return EXIT_SETUP;
    }

    for (long i = 0; i < run.request_count; i++)
        run_request(&run, easy, &body, &run.requests[i]);

    curl_easy_cleanup(easy);
    http_body_free(&body);
    return slow_api_finish(&run);
}
