/*
 * producer_consumer.h - everything sync.c and async.c of the
 * producer-consumer lesson share that is NOT about concurrency: the command
 * line, the items, reading the server's JSON, the lines printed as an item
 * moves along, the bounded queue itself (a ring buffer: a data structure,
 * not a concurrency mechanism), the trace and the summary.  The lesson is
 * docs/producer_consumer.md.
 *
 * The work: N items.  Producing item i is `GET /items/i?delay=F` (the
 * server answers a small JSON object {"id":i,...} after F seconds);
 * consuming it is `POST /process?delay=D` with that JSON as the body (the
 * server acknowledges with {"ok":true,"bytes":LEN,"id":i} after D seconds).
 *
 * pc_ is this scenario's prefix: every scenario's shared objects are linked
 * into every test program, so exported names must not clash.
 */
#ifndef ASYNCLAB_PRODUCER_CONSUMER_H
#define ASYNCLAB_PRODUCER_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "http.h"
#include "trace.h"

#define PC_MAX_ITEMS 100000L
#define PC_MAX_WORKERS 1000L   /* --producers, --consumers */

/* One work item on its way from the server, through the queue, back to the
 * server.  Whoever holds it (a fetch, the queue, a post) owns `json`. */
struct pc_item {
    long id;              /* 0 .. N-1: the N in /items/N */
    char label[16];       /* "I3" */
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

struct pc_run {
    struct cli_common common;
    long item_count;          /* --items N */
    long producers;           /* --producers P: fetches in flight at most */
    long consumers;           /* --consumers C: posts in flight at most */
    long queue_capacity;      /* --queue Q */
    double fetch_delay;       /* --fetch-delay, --scale applied */
    double process_delay;     /* --process-delay, --scale applied */
    char *process_url;        /* the same for every item */
    struct curl_slist *json_header;  /* Content-Type: application/json */
    double started;           /* clock_now() when the work began */
    struct trace *trace;
    unsigned char *acknowledged;  /* acknowledged[id]: times the server acked id */
    long processed;           /* items the server acknowledged correctly */
    long failures;            /* items that failed at either end */
    long deepest;             /* the most items the queue ever held */
};

/*
 * Parses the command line.  `is_async` adds --producers, --consumers and
 * --queue, which mean nothing to a program that handles one item at a time.
 * Returns -1 when the program should go on and do the work; otherwise the
 * exit status to return at once (after --help, --predict, a usage error or
 * an unreachable server).
 */
int pc_setup(struct pc_run *run, const char *program, bool is_async, int argc, char **argv);

/* A fresh item for `id` with its label; no JSON yet. */
struct pc_item pc_item_new(long id);

/* Points `easy` at GET /items/<id>: the producer's request. */
void pc_prepare_fetch(struct pc_run *run, CURL *easy, const struct pc_item *item);
/* Points `easy` at POST /process with the item's JSON: the consumer's request. */
void pc_prepare_post(struct pc_run *run, CURL *easy, const struct pc_item *item);

/* Call just before the fetch is sent. */
void pc_fetch_started(struct pc_item *item);

/* Call when the fetch is over, however it ended; `fetcher` (1..P) is the
 * slot that fetched it, a row in the trace.  On success the item
 * takes a copy of the server's JSON and true is returned: it is ready to be
 * processed.  Otherwise the failure is reported and counted. */
bool pc_fetch_finished(struct pc_run *run, struct pc_item *item, int fetcher,
                       CURLcode result, long status, const struct http_body *body);

/* Call if a fetched item found no place in the queue, which the
 * reservation rule in async.c makes impossible: reports the item as lost,
 * counts it as failed and frees its JSON. */
void pc_item_lost(struct pc_run *run, struct pc_item *item);

/* Call just before the post is sent. */
void pc_post_started(struct pc_item *item);

/* Call when the post is over (`consumer`, 1..C, is the slot): checks the
 * server's acknowledgement, reports it, and frees the item's JSON (its
 * journey ends here). */
void pc_post_finished(struct pc_run *run, struct pc_item *item, int consumer,
                      CURLcode result, long status, const struct http_body *reply);

/* Prints the queue's depth after it changed, with the places that fetches
 * in flight have reserved, and remembers the deepest it got. */
void pc_queue_changed(struct pc_run *run, const struct pc_queue *queue, long fetching);

/* Prints the summary, writes the trace, frees everything; returns the exit
 * status (0, or EXIT_TASKS_FAILED if any item failed). */
int pc_finish(struct pc_run *run, bool is_async);

#endif
