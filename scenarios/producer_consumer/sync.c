/*
 * producer_consumer/sync.c - fetch an item, process it, then the next one.
 *
 * Demonstrates: two kinds of waiting that never overlap.  While the server
 * processes item 3, nobody is fetching item 4; while item 4 is fetched, the
 * processing side sits idle.  Every item costs its fetch plus its
 * processing, so the lesson's 12 items of 0.2 s + 0.6 s take 9.6 s.  There
 * is no queue, because there is never more than one item in hand.  Compare
 * with async.c, where a bounded queue lets both sides wait at the same
 * time; docs/producer_consumer.md explains both.
 *
 *     build/bin/producer_consumer_sync [--items N] [--fetch-delay S]
 *                                      [--process-delay S] [--scale F]
 */
#include <stdbool.h>

#include "http.h"
#include "output.h"
#include "producer_consumer.h"

static const char PROGRAM[] = "producer_consumer_sync";

/* Fetches one item and waits, doing nothing else, until it is here. */
static bool fetch_item(struct pc_run *run, CURL *fetcher, struct http_body *body,
                       struct pc_item *item)
{
    http_body_reset(body);
    pc_prepare_fetch(run, fetcher, item);
    pc_fetch_started(item);

    CURLcode result = curl_easy_perform(fetcher);  /* blocks for the fetch delay */

    return pc_fetch_finished(run, item, 1, result, http_status(fetcher), body);
}

/* Posts one item and waits, doing nothing else, until it is processed. */
static void process_item(struct pc_run *run, CURL *consumer, struct http_body *reply,
                         struct pc_item *item)
{
    http_body_reset(reply);
    pc_prepare_post(run, consumer, item);
    pc_post_started(item);

    CURLcode result = curl_easy_perform(consumer);  /* blocks for the process delay */

    pc_post_finished(run, item, 1, result, http_status(consumer), reply);
}

int main(int argc, char **argv)
{
    struct pc_run run;
    int early_exit = pc_setup(&run, PROGRAM, false, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    /* One handle for fetching and one for posting, each reused for every
     * item (and keeping its connection open), used in turn. */
    struct http_body body = { 0 }, reply = { 0 };
    CURL *fetcher = http_easy_new(&body);
    CURL *consumer = http_easy_new(&reply);
    if (fetcher == NULL || consumer == NULL) {
        output_error(PROGRAM, "out of memory");
        curl_easy_cleanup(fetcher);
        curl_easy_cleanup(consumer);
        pc_finish(&run, false);
        return EXIT_SETUP;
    }

    for (long id = 0; id < run.item_count; id++) {
        struct pc_item item = pc_item_new(id);
        if (fetch_item(&run, fetcher, &body, &item))
            process_item(&run, consumer, &reply, &item);
    }

    curl_easy_cleanup(fetcher);
    curl_easy_cleanup(consumer);
    http_body_free(&body);
    http_body_free(&reply);
    return pc_finish(&run, false);
}
