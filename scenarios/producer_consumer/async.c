/*
 * producer_consumer/async.c - fetch items and process them at the same time.
 *
 * The work: N items.  Each is fetched from the server (GET /items/i), then
 * handed back to it to be processed (POST /process), by fetch slots and post
 * slots (struct pc_slot in producer_consumer.h) that carry one transfer at a
 * time each.  The lesson's 12 items take 0.2 s each to fetch and 0.6 s each
 * to process: 9.6 s one after another, about 2.8 s overlapped.
 *
 * Demonstrates: two kinds of waiting, for the server to hand out an item and
 * for it to process one, overlapped by a bounded queue between them.  Up to
 * P fetches (the producers) and C posts (the consumers) are in flight on one
 * libcurl multi handle, on one thread, as asyncio does with asyncio.Queue.
 * A fetched item waits in a queue of at most Q until a consumer takes it.
 * While the queue is full no fetch starts (backpressure): the fast side is
 * held back to the slow side's pace, and no more than Q items wait in memory.
 *
 * Compare sync.c with async.c; docs/producer_consumer.md explains both.
 * (LAB:cut/LAB:end: what the lab's starter leaves out; docs/labs/README.md.)
 *
 *     build/bin/producer_consumer_async [--items N]
 *         [--producers P] [--consumers C] [--queue Q]
 *         [--fetch-delay S] [--process-delay S] [--scale F]
 */
#include <stdbool.h>

#include "http.h"
#include "output.h"
#include "producer_consumer.h"

static const struct lesson_program PROGRAM = {
    .name = "producer_consumer_async",
    .purpose = "Fetches work items and has them processed"
               " through a bounded queue, with one libcurl multi event loop.",
    .concurrent = true,
};

/* Everything the event loop changes. */
struct loop {
    CURLM *multi;
    struct pc_workers *workers;  /* P fetch slots (the producers), C post slots */
    long fetching;               /* fetches in flight, at most P */
    long posting;                /* posts in flight, at most C */
    struct pc_queue queue;       /* fetched, waiting for a consumer, at most Q */
    long next_id;                /* the next item to fetch */
};

/* LAB:cut write start_fetch and fetch_done (a fetched item goes into the queue),
 * start_post and post_done, start_fetches (the producers: while a fetch slot is
 * idle, items are left and pc_queue_has_room says so), take_from_queue (the
 * consumers) and finish_transfer (CURLOPT_PRIVATE finds the slot). */
/* Hands a fetch to the multi handle and returns at once: nothing waits. */
static void start_fetch(struct pc_run *run, struct loop *loop, struct pc_slot *slot, long id)
{
    http_body_reset(&slot->body);
    slot->item = pc_item_new(id);
    pc_prepare_fetch(run, slot->easy, &slot->item);
    pc_fetch_started(&slot->item);

    curl_multi_add_handle(loop->multi, slot->easy);  /* queued, not sent yet */
    slot->busy = true;
    loop->fetching++;
}

/* A fetch landed: the item goes into the queue, where its place is reserved. */
static void fetch_done(struct pc_run *run, struct loop *loop, struct pc_slot *slot, CURLcode result)
{
    loop->fetching--;
    bool fetched = pc_fetch_finished(run, &slot->item, slot->number, result,
                                     http_status(slot->easy), &slot->body);
    if (!fetched)
        return;
    if (pc_queue_push(&loop->queue, &slot->item))
        pc_queue_changed(run, &loop->queue, loop->fetching);
    else  /* impossible: pc_queue_has_room reserved the place */
        pc_item_lost(run, &slot->item);
}

/* Hands a post to the multi handle and returns at once. */
static void start_post(struct pc_run *run, struct loop *loop, struct pc_slot *slot,
                       struct pc_item *item)
{
    http_body_reset(&slot->body);
    slot->item = *item;   /* the slot owns the item's JSON until the post ends */
    item->json = NULL;
    pc_prepare_post(run, slot->easy, &slot->item);
    pc_post_started(&slot->item);

    curl_multi_add_handle(loop->multi, slot->easy);  /* queued, not sent yet */
    slot->busy = true;
    loop->posting++;
}

static void post_done(struct pc_run *run, struct loop *loop, struct pc_slot *slot, CURLcode result)
{
    loop->posting--;
    pc_post_finished(run, &slot->item, slot->number, result, http_status(slot->easy),
                     &slot->body);
}

/* The producers: start fetches while a fetch slot is idle, items are left,
 * and the queue has room (pc_queue_has_room: backpressure). */
static void start_fetches(struct pc_run *run, struct loop *loop)
{
    while (loop->next_id < run->item_count && loop->fetching < run->producers
           && pc_queue_has_room(loop->queue.count, loop->fetching, loop->queue.capacity))
        start_fetch(run, loop, pc_idle_slot(loop->workers->fetchers, run->producers),
                    loop->next_id++);
}

/* The consumers: every idle post slot takes the oldest item in the queue. */
static void take_from_queue(struct pc_run *run, struct loop *loop)
{
    struct pc_item item;
    while (loop->posting < run->consumers && pc_queue_pop(&loop->queue, &item)) {
        pc_queue_changed(run, &loop->queue, loop->fetching);
        start_post(run, loop, pc_idle_slot(loop->workers->consumers, run->consumers), &item);
    }
}

/* Reports one finished transfer and takes it off the multi handle. */
static void finish_transfer(struct pc_run *run, struct loop *loop, CURLMsg *message)
{
    struct pc_slot *slot = NULL;
    curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&slot);
    curl_multi_remove_handle(loop->multi, slot->easy);
    slot->busy = false;
    if (slot->is_fetcher)
        fetch_done(run, loop, slot, message->data.result);
    else
        post_done(run, loop, slot, message->data.result);
}
/* LAB:end */

int main(int argc, char **argv)
{
    struct pc_run run;
    int early_exit = pc_setup(&run, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    /* P slots for fetching and C for posting, on one multi handle.  Each slot is
     * reused for every item it carries, and the connections stay open. */
    struct pc_workers workers;
    struct loop loop = { .multi = curl_multi_init(), .workers = &workers };
    if (!pc_workers_new(&run, &workers) || loop.multi == NULL
        || !pc_queue_init(&loop.queue, run.queue_capacity)) {
        output_error(PROGRAM.name, "out of memory");
        pc_workers_free(&run, &workers);
        curl_multi_cleanup(loop.multi);
        pc_abandon(&run);
        return EXIT_SETUP;
    }

    /* LAB:cut replace this one-at-a-time run with the event loop: start the
     * fetches, then until nothing is in flight let libcurl work, finish each
     * transfer it reports, let the consumers take from the queue and the
     * producers fetch again, and sleep in curl_multi_poll. */
    /* The event loop.  Nothing in flight means nothing is left to fetch and the
     * consumers have emptied the queue: every item is processed, or has failed. */
    start_fetches(&run, &loop);
    while (loop.fetching + loop.posting > 0) {
        int still_running = 0;
        http_multi_check(curl_multi_perform(loop.multi, &still_running), PROGRAM.name);  /* never waits */

        CURLMsg *message;
        int queued = 0;
        while ((message = curl_multi_info_read(loop.multi, &queued)) != NULL)
            if (message->msg == CURLMSG_DONE)
                finish_transfer(&run, &loop, message);

        /* Consumers first: every item they take frees a place for a fetch. */
        take_from_queue(&run, &loop);
        start_fetches(&run, &loop);

        if (loop.fetching + loop.posting > 0)  /* sleep until a socket is ready, 1 s at most */
            http_multi_check(curl_multi_poll(loop.multi, NULL, 0, 1000, NULL), PROGRAM.name);
    }
    /* LAB:end pc_run_one_at_a_time(&run, &workers); */

    pc_workers_free(&run, &workers);
    pc_queue_free(&loop.queue);
    curl_multi_cleanup(loop.multi);
    return pc_finish(&run);
}
