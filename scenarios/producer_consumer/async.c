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
 *
 *     build/bin/producer_consumer_async [--items N] [--producers P]
 *         [--consumers C] [--queue Q] [--fetch-delay S]
 *         [--process-delay S] [--scale F]
 */
#include <stdbool.h>
#include <stdlib.h>

#include "http.h"
#include "output.h"
#include "producer_consumer.h"

static const char PROGRAM[] = "producer_consumer_async";

/* A slot is one transfer that can be in flight: P fetch slots (the
 * producers) and C post slots (the consumers), each reused as soon as its
 * transfer is over. */
struct slot {
    CURL *easy;
    struct http_body body;   /* the reply */
    struct pc_item item;     /* the item being fetched or posted */
    int number;              /* 1..P or 1..C: a row in the trace */
    bool is_fetcher;
    bool busy;
};

/* Everything the event loop changes. */
struct pipeline {
    CURLM *multi;
    struct slot *fetchers;
    struct slot *consumers;
    long fetching;            /* fetches in flight, at most P */
    long posting;             /* posts in flight, at most C */
    struct pc_queue queue;    /* fetched, waiting for a consumer, at most Q */
    long next_id;             /* the next item to fetch */
};

static struct slot *idle_slot(struct slot *slots, long count)
{
    for (long i = 0; i < count; i++)
        if (!slots[i].busy)
            return &slots[i];
    return NULL;
}

/* Hands a fetch to the multi handle and returns at once: nothing waits. */
static void start_fetch(struct pc_run *run, struct pipeline *pipeline, struct slot *slot, long id)
{
    http_body_reset(&slot->body);
    slot->item = pc_item_new(id);
    slot->busy = true;
    pc_prepare_fetch(run, slot->easy, &slot->item);
    pc_fetch_started(&slot->item);

    curl_multi_add_handle(pipeline->multi, slot->easy);  /* queued, not sent yet */
    pipeline->fetching++;
}

/* Hands a post to the multi handle and returns at once. */
static void start_post(struct pc_run *run, struct pipeline *pipeline, struct slot *slot,
                       struct pc_item *item)
{
    http_body_reset(&slot->body);
    slot->item = *item;   /* the slot owns the item's JSON until the post ends */
    slot->busy = true;
    pc_prepare_post(run, slot->easy, &slot->item);
    pc_post_started(&slot->item);

    curl_multi_add_handle(pipeline->multi, slot->easy);
    pipeline->posting++;
}

/*
 * The producers: start fetches while a fetch slot is idle, items are left,
 * and the queue has room.  Backpressure: a fetch in flight will need a
 * place in the queue when it lands, so it counts against the free space
 * from the moment it starts.  That is why the queue can never overflow.
 */
static void start_fetches(struct pc_run *run, struct pipeline *pipeline)
{
    while (pipeline->next_id < run->item_count && pipeline->fetching < run->producers
           && pipeline->queue.count + pipeline->fetching < pipeline->queue.capacity)
        start_fetch(run, pipeline, idle_slot(pipeline->fetchers, run->producers),
                    pipeline->next_id++);
}

/* The consumers: every idle post slot takes the oldest item in the queue. */
static void take_from_queue(struct pc_run *run, struct pipeline *pipeline)
{
    struct pc_item item;
    while (pipeline->posting < run->consumers && pc_queue_pop(&pipeline->queue, &item)) {
        pc_queue_changed(run, &pipeline->queue, pipeline->fetching);
        start_post(run, pipeline, idle_slot(pipeline->consumers, run->consumers), &item);
    }
}

/* A fetch landed: the item goes into the queue (the place was reserved). */
static void fetch_done(struct pc_run *run, struct pipeline *pipeline, struct slot *slot,
                       CURLcode result)
{
    pipeline->fetching--;
    if (pc_fetch_finished(run, &slot->item, slot->number, result, http_status(slot->easy),
                          &slot->body)) {
        if (pc_queue_push(&pipeline->queue, &slot->item))
            pc_queue_changed(run, &pipeline->queue, pipeline->fetching);
        else  /* impossible: the place was reserved when the fetch started */
            pc_item_lost(run, &slot->item);
    }
}

static void post_done(struct pc_run *run, struct pipeline *pipeline, struct slot *slot,
                      CURLcode result)
{
    pipeline->posting--;
    pc_post_finished(run, &slot->item, slot->number, result, http_status(slot->easy),
                     &slot->body);
}

/* Reports one finished transfer and takes it off the multi handle. */
static void finish_transfer(struct pc_run *run, struct pipeline *pipeline, CURLMsg *message)
{
    struct slot *slot = NULL;
    curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&slot);
    curl_multi_remove_handle(pipeline->multi, slot->easy);
    slot->busy = false;
    if (slot->is_fetcher)
        fetch_done(run, pipeline, slot, message->data.result);
    else
        post_done(run, pipeline, slot, message->data.result);
}

static struct slot *make_slots(long count, bool is_fetcher)
{
    struct slot *slots = calloc((size_t)count, sizeof *slots);
    for (long i = 0; slots != NULL && i < count; i++) {
        slots[i].number = (int)i + 1;
        slots[i].is_fetcher = is_fetcher;
        slots[i].easy = http_easy_new(&slots[i].body);
        if (slots[i].easy == NULL)
            return slots;  /* the caller sees the NULL handle */
        curl_easy_setopt(slots[i].easy, CURLOPT_PRIVATE, &slots[i]);
    }
    return slots;
}

static void free_slots(struct slot *slots, long count)
{
    for (long i = 0; slots != NULL && i < count; i++) {
        if (slots[i].easy != NULL)
            curl_easy_cleanup(slots[i].easy);
        http_body_free(&slots[i].body);
        free(slots[i].item.json);
    }
    free(slots);
}

static void free_pipeline(struct pc_run *run, struct pipeline *pipeline)
{
    free_slots(pipeline->fetchers, run->producers);
    free_slots(pipeline->consumers, run->consumers);
    pc_queue_free(&pipeline->queue);
    curl_multi_cleanup(pipeline->multi);
}

static bool make_pipeline(struct pc_run *run, struct pipeline *pipeline)
{
    *pipeline = (struct pipeline){ 0 };
    pipeline->multi = curl_multi_init();
    pipeline->fetchers = make_slots(run->producers, true);
    pipeline->consumers = make_slots(run->consumers, false);
    return pc_queue_init(&pipeline->queue, run->queue_capacity) && pipeline->multi != NULL
        && pipeline->fetchers != NULL && pipeline->fetchers[run->producers - 1].easy != NULL
        && pipeline->consumers != NULL && pipeline->consumers[run->consumers - 1].easy != NULL;
}

int main(int argc, char **argv)
{
    struct pc_run run;
    int early_exit = pc_setup(&run, PROGRAM, true, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    /* One multi handle for every transfer, fetches and posts alike: it also
     * keeps the connections open, so a slot's next request reuses them. */
    struct pipeline pipeline;
    if (!make_pipeline(&run, &pipeline)) {
        output_error(PROGRAM, "out of memory");
        free_pipeline(&run, &pipeline);
        pc_finish(&run, true);
        return EXIT_SETUP;
    }

    start_fetches(&run, &pipeline);

    /* The event loop: it runs until nothing is in flight, which (with the
     * queue emptied by the consumers and no room check left to pass) means
     * every item has been fetched and processed, or has failed. */
    while (pipeline.fetching + pipeline.posting > 0) {
        int still_running = 0;
        curl_multi_perform(pipeline.multi, &still_running);  /* send, receive: never waits */

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
            curl_multi_poll(pipeline.multi, NULL, 0, 1000, NULL);
    }

    free_pipeline(&run, &pipeline);
    return pc_finish(&run, true);
}
