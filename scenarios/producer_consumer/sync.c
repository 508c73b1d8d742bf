/*
 * producer_consumer/sync.c - fetch an item, process it, then the next one.
 *
 * The work: N items.  Each is fetched from the server (GET /items/i), then
 * handed back to it to be processed (POST /process), by fetch slots and post
 * slots (struct pc_slot in producer_consumer.h) that carry one transfer at a
 * time each.  The lesson's 12 items take 0.2 s each to fetch and 0.6 s each
 * to process: 9.6 s one after another, about 2.8 s overlapped.
 *
 * Demonstrates: two kinds of waiting, for the server to hand out an item and
 * for it to process one, that never overlap.  While the server processes
 * item 3, nobody is fetching item 4; while item 4 is fetched, the processing
 * side sits idle.  There is no queue: never more than one item is in hand.
 *
 * Compare sync.c with async.c; docs/producer_consumer.md explains both.
 *
 *     build/bin/producer_consumer_sync [--items N]
 *         [--fetch-delay S] [--process-delay S] [--scale F]
 */
#include <stdbool.h>

#include "http.h"
#include "output.h"
#include "producer_consumer.h"

static const struct lesson_program PROGRAM = {
    .name = "producer_consumer_sync",
    .purpose = "Fetches work items and has them processed"
               ", one item at a time, with the libcurl easy interface.",
    .concurrent = false,
};

/* Fetches one item and waits, doing nothing else, until it is here. */
static bool fetch_item(struct pc_run *run, struct pc_slot *slot, long id)
{
    http_body_reset(&slot->body);
    slot->item = pc_item_new(id);
    pc_prepare_fetch(run, slot->easy, &slot->item);
    pc_fetch_started(&slot->item);

    CURLcode result = curl_easy_perform(slot->easy);  /* blocks for the fetch delay */

    bool fetched = pc_fetch_finished(run, &slot->item, slot->number, result,
                                     http_status(slot->easy), &slot->body);
    return fetched;  /* then post_item, at once: there is no queue */
}

/* Posts one item and waits, doing nothing else, until it is processed. */
static void post_item(struct pc_run *run, struct pc_slot *slot, struct pc_item *item)
{
    http_body_reset(&slot->body);
    slot->item = *item;   /* the slot owns the item's JSON until the post ends */
    item->json = NULL;
    pc_prepare_post(run, slot->easy, &slot->item);
    pc_post_started(&slot->item);

    CURLcode result = curl_easy_perform(slot->easy);  /* blocks for the process delay */

    pc_post_finished(run, &slot->item, slot->number, result, http_status(slot->easy),
                     &slot->body);
}

int main(int argc, char **argv)
{
    struct pc_run run;
    int early_exit = pc_setup(&run, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    /* One slot for fetching and one for posting, used in turn.  Each slot is
     * reused for every item it carries, and the connections stay open. */
    struct pc_workers workers;
    if (!pc_workers_new(&run, &workers)) {
        output_error(PROGRAM.name, "out of memory");
        pc_workers_free(&run, &workers);
        pc_abandon(&run);
        return EXIT_SETUP;
    }

    /* One item after another: fetched, then processed. */
    for (long id = 0; id < run.item_count; id++)
        if (fetch_item(&run, workers.fetchers, id))
            post_item(&run, workers.consumers, &workers.fetchers->item);

    pc_workers_free(&run, &workers);
    return pc_finish(&run);
}
