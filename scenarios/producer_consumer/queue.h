/*
 * queue.h - the producer-consumer lesson's bounded queue, and the one rule
 * that keeps it bounded (docs/producer_consumer.md, "The queue").
 *
 * The queue is a ring buffer: a data structure, not a concurrency
 * mechanism.  What makes it teach backpressure is pc_queue_has_room: the
 * producers start a fetch only when it passes.
 */
#ifndef ASYNCLAB_PRODUCER_CONSUMER_QUEUE_H
#define ASYNCLAB_PRODUCER_CONSUMER_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

/* One work item on its way from the server, through the queue, back to the
 * server.  Whoever holds it (a fetch, the queue, a post) owns `json`. */
struct pc_item {
    long id;              /* 0 .. N-1: the N in /items/N */
    char label[24];       /* "I3"; room for any long */
    char *json;           /* the item as the server sent it; posted as is */
    size_t json_length;
    double fetch_started; /* clock_now() values, for the lines and the trace */
    double post_started;
};

/*
 * The bounded queue between the two sides: a ring buffer of `capacity`
 * items.  `head` is the oldest; items are appended after the newest and
 * taken from the head, so they leave in the order they came (FIFO).  The
 * slots are allocated once: the queue never grows, which is the point.
 */
struct pc_queue {
    struct pc_item *slots;
    long capacity;
    long head;    /* index of the oldest item */
    long count;   /* items in the queue now */
};

bool pc_queue_init(struct pc_queue *queue, long capacity);
bool pc_queue_is_full(const struct pc_queue *queue);
bool pc_queue_is_empty(const struct pc_queue *queue);
/* Moves *item to the back of the queue: the queue owns its JSON from now
 * on (item->json becomes NULL).  False, and nothing changes, if full. */
bool pc_queue_push(struct pc_queue *queue, struct pc_item *item);
/* Moves the oldest item, and its JSON, into *item; false if the queue is empty. */
bool pc_queue_pop(struct pc_queue *queue, struct pc_item *item);
/* Frees the queue and the JSON of any item still in it. */
void pc_queue_free(struct pc_queue *queue);

/*
 * Backpressure: may one more fetch start, with `waiting` items in a queue
 * of `capacity` and `fetching` fetches in flight?  A fetch in flight will
 * need a place when it lands, so it counts against the free places from
 * the moment it starts: that is why the queue can never overflow.
 * async.c's producers and the --predict simulation both ask this.
 */
bool pc_queue_has_room(long waiting, long fetching, long capacity);

#endif
