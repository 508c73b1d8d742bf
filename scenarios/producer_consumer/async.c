/*
 * producer_consumer/async.c - fetch items and process them at the same
 * time, with a bounded queue in between and one event loop.
 *
 * Demonstrates: a bounded queue between producers and consumers overlaps
 * two kinds of waiting and keeps memory bounded by backpressure.  Up to P
 * fetches (the producers) and up to C posts (the consumers) are in flight
 * on one libcurl multi handle.  A fetched item goes into a queue of at most
 * Q items; a consumer takes the oldest as soon as it is free.  When the
 * queue is full no new fetch starts: the fast side is held back to the pace
 * of the slow side, and no more than Q items are ever waiting in memory.
 * The lesson's 12 items of 0.2 s + 0.6 s take about 2.8 s instead of
 * 9.6 s.  One thread does it all, as asyncio does with asyncio.Queue.
 * Compare with sync.c; docs/producer_consumer.md explains both.
 * (LAB:cut/LAB:end: what the lab's starter leaves out; docs/labs/README.md.)
 *
 *     build/bin/producer_consumer_async [--items N] [--producers P]
 *         [--consumers C] [--queue Q] [--fetch-delay S]
 *         [--process-delay S] [--scale F]
 */
#include <stdbool.h>

#include "http.h"
#include "output.h"
#include "producer_consumer.h"

static const struct lesson_program PROGRAM = {
    .name = "producer_consumer_async",
    .purpose = "Fetches work items and has them processed through a bounded queue, "
               "with one libcurl multi event loop.",
    .concurrent = true,
};

/* Everything the event loop changes. */
struct pipeline {
    CURLM *multi;
    struct pc_workers workers; /* P fetch slots (the producers), C post slots */
    long fetching;             /* fetches in flight, at most P */
    long posting;              /* posts in flight, at most C */
    struct pc_queue queue;     /* fetched, waiting for a consumer, at most Q */
    long next_id;              /* the next item to fetch */
};

/* LAB:cut write start_fetch and fetch_done (a fetched item goes into the
 * queue), start_post and post_done, start_fetches (the producers: while a
 * fetch slot is idle, items are left and pc_queue_has_room says so),
 * take_from_queue (the consumers) and finish_transfer (CURLOPT_PRIVATE
 * finds the slot). */
/* Hands a fetch to the multi handle and returns at once: nothing waits. */
static void start_fetch(struct pc_run *run, struct pipeline *pipeline, struct pc_slot *slot,
                        long id)
{
    http_body_reset(&slot->body);
    slot->item = pc_item_new(id);
    pc_prepare_fetch(run, slot->easy, &slot->item);
    pc_fetch_started(&slot->item);

    curl_multi_add_handle(pipeline->multi, slot->easy);  /* queued, not sent yet */
    slot->busy = true;
    pipeline->fetching++;
}

/* A fetch landed: the item goes into the queue, where its place was
 * reserved when the fetch started. */
static void fetch_done(struct pc_run *run, struct pipeline *pipeline, struct pc_slot *slot,
                       CURLcode result)
{
    pipeline->fetching--;
    bool fetched = pc_fetch_finished(run, &slot->item, slot->number, result,
                                     http_status(slot->easy), &slot->body);
    if (!fetched)
        return;
    if (pc_queue_push(&pipeline->queue, &slot->item))
        pc_queue_changed(run, &pipeline->queue, pipeline->fetching);
    else  /* impossible: the place was reserved when the fetch started */
        pc_item_lost(run, &slot->item);
}

/* Hands a post to the multi handle and returns at once. */
static void start_post(struct pc_run *run, struct pipeline *pipeline, struct pc_slot *slot,
                       struct pc_item *item)
{
    http_body_reset(&slot->body);
    slot->item = *item;   /* the slot owns the item's JSON until the post ends */
    item->json = NULL;
    pc_prepare_post(run, slot->easy, &slot->item);
    pc_post_started(&slot->item);

    curl_multi_add_handle(pipeline->multi, slot->easy);  /* queued, not sent yet */
    slot->busy = true;
    pipeline->posting++;
}

static void post_done(struct pc_run *run, struct pipeline *pipeline, struct pc_slot *slot,
                      CURLcode result)
{
    pipeline->posting--;
    pc_post_finished(run, &slot->item, slot->number, result, http_status(slot->easy),
                     &slot->body);
}

/* The producers: start fetches while a fetch slot is idle, items are left,
 * and the queue has room (pc_queue_has_room: backpressure). */
static void start_fetches(struct pc_run *run, struct pipeline *pipeline)
{
    while (pipeline->next_id < run->item_count && pipeline->fetching < run->producers
           && pc_queue_has_room(pipeline->queue.count, pipeline->fetching,
                                pipeline->queue.capacity))
        start_fetch(run, pipeline, pc_idle_slot(pipeline->workers.fetchers, run->producers),
                    pipeline->next_id++);
}

/* The consumers: every idle post slot takes the oldest item in the queue. */
static void take_from_queue(struct pc_run *run, struct pipeline *pipeline)
{
    struct pc_item item;
    while (pipeline->posting < run->consumers && pc_queue_pop(&pipeline->queue, &item)) {
        pc_queue_changed(run, &pipeline->queue, pipeline->fetching);
        start_post(run, pipeline, pc_idle_slot(pipeline->workers.consumers, run->consumers),
                   &item);
    }
}

/* Reports one finished transfer and takes it off the multi handle. */
static void finish_transfer(struct pc_run *run, struct pipeline *pipeline, CURLMsg *message)
{
    struct pc_slot *slot = NULL;
    curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&slot);
    curl_multi_remove_handle(pipeline->multi, slot->easy);
    slot->busy = false;
    if (slot->is_fetcher)
        fetch_done(run, pipeline, slot, message->data.result);
    else
        post_done(run, pipeline, slot, message->data.result);
}
/* LAB:end */

int main(int argc, char **argv)
{
    struct pc_run run;
    int early_exit = pc_setup(&run, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    /* P slots for fetching and C for posting, all on one multi handle,
     * which also keeps the connections open for a slot's next request. */
    struct pipeline pipeline = { .multi = curl_multi_init() };
    if (!pc_workers_new(&run, &pipeline.workers) || pipeline.multi == NULL
        || !pc_queue_init(&pipeline.queue, run.queue_capacity)) {
        output_error(PROGRAM.name, "out of memory");
        pc_workers_free(&run, &pipeline.workers);
        curl_multi_cleanup(pipeline.multi);
        pc_abandon(&run);
        return EXIT_SETUP;
    }

    /* LAB:cut replace this one-at-a-time run with the event loop: start the
     * fetches, then until nothing is in flight let libcurl work, finish each
     * transfer it reports, let the consumers take from the queue and the
     * producers fetch again, and sleep in curl_multi_poll. */
    /* The event loop: it runs until nothing is in flight, which (with the
     * queue emptied by the consumers and no room check left to pass) means
     * every item has been fetched and processed, or has failed. */
    start_fetches(&run, &pipeline);
    while (pipeline.fetching + pipeline.posting > 0) {
        int still_running = 0;
        http_multi_check(curl_multi_perform(pipeline.multi, &still_running), PROGRAM.name);  /* never waits */

        CURLMsg *message;
        int queued = 0;
        while ((message = curl_multi_info_read(pipeline.multi, &queued)) != NULL)
            if (message->msg == CURLMSG_DONE)
                finish_transfer(&run, &pipeline, message);

        /* Consumers first: every item they take frees a place for a fetch. */
        take_from_queue(&run, &pipeline);
        start_fetches(&run, &pipeline);

        /* Sleep until a socket is ready or 1 s passes. */
        if (pipeline.fetching + pipeline.posting > 0)
            http_multi_check(curl_multi_poll(pipeline.multi, NULL, 0, 1000, NULL), PROGRAM.name);
    }
    /* LAB:end pc_run_one_at_a_time(&run, &pipeline.workers); */

    pc_workers_free(&run, &pipeline.workers);
    pc_queue_free(&pipeline.queue);
    curl_multi_cleanup(pipeline.multi);
    return pc_finish(&run, true);
}
