/*
 * producer_consumer.h - everything sync.c and async.c of the
 * producer-consumer lesson share that is NOT about concurrency: the command
 * line, the items, reading the server's JSON, the lines printed as an item
 * moves along, the trace and the summary.  The lesson is
 * docs/producer_consumer.md.
 *
 * The lesson's own ideas have files of their own, next to this one:
 *     queue.c       the bounded queue (a ring buffer) and the room check,
 *                   backpressure's one rule
 *     prediction.c  --predict: the pipeline replayed on paper, by the same
 *                   rules as async.c
 *
 * The work: N items.  Producing item i is `GET /items/i?delay=F` (the
 * server answers a small JSON object {"id":i,...} after F seconds);
 * consuming it is `POST /process?delay=D` with that JSON as the body (the
 * server acknowledges with {"ok":true,"bytes":LEN,"id":i} after D seconds).
 *
 * pc_ is this scenario's prefix, so its names stand out next to common/'s.
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

#include "queue.h"

struct pc_run {
    struct cli_common common;
    bool is_async;            /* async.c: P and C slots, the queue, its summary line */
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
 * Parses the command line.  A concurrent program adds --producers, --consumers and
 * --queue, which mean nothing to a program that handles one item at a time.
 * Returns -1 when the program should go on and do the work; otherwise the
 * exit status to return at once (after --help, --predict, a usage error or
 * an unreachable server).
 */
int pc_setup(struct pc_run *run, const struct lesson_program *program, int argc, char **argv);

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

/* One transfer that can be in flight: a fetch slot (a producer) or a post
 * slot (a consumer), reused as soon as its transfer is over.  sync.c has
 * one of each; async.c has P and C. */
struct pc_slot {
    CURL *easy;              /* its CURLOPT_PRIVATE points back at the slot */
    struct http_body body;   /* the reply */
    struct pc_item item;     /* the item being fetched or posted */
    int number;              /* 1..P or 1..C: a row in the trace */
    bool is_fetcher;
    bool busy;
};

/* The run's slots: --producers fetch slots and --consumers post slots
 * (one of each in sync.c). */
struct pc_workers {
    struct pc_slot *fetchers;
    struct pc_slot *consumers;
};

/* Makes the slots with their easy handles; false if out of memory (free
 * what was made with pc_workers_free all the same). */
bool pc_workers_new(const struct pc_run *run, struct pc_workers *workers);
/* The first of `count` slots that is not busy (NULL: none). */
struct pc_slot *pc_idle_slot(struct pc_slot *slots, long count);

/* Frees the slots, with the JSON of any item one still holds. */
void pc_workers_free(const struct pc_run *run, struct pc_workers *workers);

/* Prints the summary, writes the trace, frees everything; returns the exit
 * status (0, or EXIT_TASKS_FAILED if any item failed). */
int pc_finish(struct pc_run *run);

/* The lab's starter (docs/labs/README.md) runs this where async.c has its
 * event loop: sync.c's way, each item fetched and then processed, blocking,
 * on the first fetch slot and the first post slot. */
void pc_run_one_at_a_time(struct pc_run *run, struct pc_workers *workers);

/* Frees what pc_setup took, printing nothing: for a program that could
 * not even start its work (out of memory). */
void pc_abandon(struct pc_run *run);

#endif
