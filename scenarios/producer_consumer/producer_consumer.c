/*
 * producer_consumer.c - the producer-consumer lesson's shared,
 * non-concurrent parts; see producer_consumer.h.  Nothing in here waits
 * for the network.
 */
#include "producer_consumer.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fdlimit.h"
#include "output.h"
#include "seed.h"
#include "prediction.h"

/*
 * The lesson's defaults: 12 items, fetching one takes 0.2 s and processing
 * one 0.6 s.  Two producers fetch 10 items a second, three consumers
 * process 5: the producers are faster, so the queue of 4 fills up and
 * backpressure visibly holds the producers back, then the queue drains at
 * the end.  One at a time that is 12 x 0.8 = 9.6 s; the pipeline takes
 * about 2.8 s (the consumers' 4 rounds of 0.6 s, after the first fetches).
 */
#define LESSON_ITEMS 12L
#define LESSON_PRODUCERS 2L
#define LESSON_CONSUMERS 3L
#define LESSON_QUEUE 4L
#define LESSON_FETCH_DELAY_S 0.2
#define LESSON_PROCESS_DELAY_S 0.6
#define MAX_DELAY_S 3600.0

/* ------------------------------------------------------ the command line */

static struct cli_long_target items_target;
static struct cli_long_target producers_target;
static struct cli_long_target consumers_target;
static struct cli_long_target queue_target;
static struct cli_double_target fetch_delay_target;
static struct cli_double_target process_delay_target;

static void set_defaults(struct pc_run *run, const char *program)
{
    memset(run, 0, sizeof *run);
    run->common.program = program;
    run->item_count = 0;           /* 0 and -1: not given (fill_work_defaults) */
    run->producers = LESSON_PRODUCERS;
    run->consumers = LESSON_CONSUMERS;
    run->queue_capacity = LESSON_QUEUE;
    run->fetch_delay = -1;
    run->process_delay = -1;
}

/* The work not given on the command line: the lesson's, or after --seed N
 * 6 to 16 items of 0.1 to 0.4 s to fetch and 0.3 to 0.8 s to process. */
static void fill_work_defaults(struct pc_run *run)
{
    struct seed draw = seed_start(run->common.seed);
    bool seeded = run->common.seeded;
    long items = seeded ? seed_between(&draw, 6, 16) : LESSON_ITEMS;
    double fetch = seeded ? seed_step(&draw, 0.1, 0.4, 0.05) : LESSON_FETCH_DELAY_S;
    double process = seeded ? seed_step(&draw, 0.3, 0.8, 0.05) : LESSON_PROCESS_DELAY_S;
    if (run->item_count == 0)
        run->item_count = items;
    if (run->fetch_delay < 0)
        run->fetch_delay = fetch;
    if (run->process_delay < 0)
        run->process_delay = process;
}

static enum cli_result parse_command_line(struct pc_run *run,
                                          const struct lesson_program *program,
                                          int argc, char **argv)
{
    bool is_async = program->concurrent;
    items_target = (struct cli_long_target){ &run->item_count, 1, PC_MAX_ITEMS };
    producers_target = (struct cli_long_target){ &run->producers, 1, PC_MAX_WORKERS };
    consumers_target = (struct cli_long_target){ &run->consumers, 1, PC_MAX_WORKERS };
    queue_target = (struct cli_long_target){ &run->queue_capacity, 1, PC_MAX_ITEMS };
    fetch_delay_target = (struct cli_double_target){ &run->fetch_delay, 0.0, MAX_DELAY_S };
    process_delay_target = (struct cli_double_target){ &run->process_delay, 0.0, MAX_DELAY_S };
    /* The flags every program has come first, so the sync program can
     * simply list fewer of them. */
    const struct cli_option options[] = {
        { "items", "N", "fetch and process N items, ids 0 to N-1 (default 12)",
          "a whole number from 1 to 100000", cli_apply_long, &items_target },
        { "fetch-delay", "S", "seconds the server takes to hand out an item (default 0.2)",
          "seconds between 0 and 3600", cli_apply_double, &fetch_delay_target },
        { "process-delay", "S", "seconds the server takes to process an item (default 0.6)",
          "seconds between 0 and 3600", cli_apply_double, &process_delay_target },
        { "producers", "P", "at most P fetches in flight at once (default 2)",
          "a whole number from 1 to 1000", cli_apply_long, &producers_target },
        { "consumers", "C", "at most C posts in flight at once (default 3)",
          "a whole number from 1 to 1000", cli_apply_long, &consumers_target },
        { "queue", "Q", "the queue between them holds at most Q items (default 4)",
          "a whole number from 1 to 100000", cli_apply_long, &queue_target },
    };
    const struct cli_program description = {
        .name = program->name,
        .purpose = program->purpose,
        .example = is_async ? "build/bin/producer_consumer_async --queue 2 --scale 0.5"
                            : "build/bin/producer_consumer_sync --items 6 --scale 0.5",
        .options = options,
        .option_count = is_async ? 6 : 3,
    };
    return cli_parse(&description, argc, argv, &run->common);
}

/* ----------------------------------------------------------------- setup */

static void free_run(struct pc_run *run)
{
    trace_free(run->trace);
    run->trace = NULL;
    curl_slist_free_all(run->json_header);
    run->json_header = NULL;
    free(run->process_url);
    run->process_url = NULL;
    free(run->acknowledged);
    run->acknowledged = NULL;
}

/* Row names in a trace viewer: "fetcher 1".."fetcher P", then "consumer 1"..
 * The sync program has one of each, used in turn. */
static void name_trace_rows(struct pc_run *run)
{
    char label[32];
    for (long i = 1; i <= run->producers; i++) {
        snprintf(label, sizeof label, "fetcher %ld", i);
        trace_name_task(run->trace, (int)i, label);
    }
    for (long i = 1; i <= run->consumers; i++) {
        snprintf(label, sizeof label, "consumer %ld", i);
        trace_name_task(run->trace, (int)(run->producers + i), label);
    }
}

static bool allocate_run(struct pc_run *run)
{
    run->process_url = http_url(run->common.url, "/process?delay=%g", run->process_delay);
    run->json_header = curl_slist_append(NULL, "Content-Type: application/json");
    run->acknowledged = calloc((size_t)run->item_count, 1);
    return run->process_url != NULL && run->json_header != NULL && run->acknowledged != NULL;
}

int pc_setup(struct pc_run *run, const struct lesson_program *description, int argc,
             char **argv)
{
    const char *program = description->name;
    bool is_async = description->concurrent;
    set_defaults(run, program);
    run->is_async = is_async;
    switch (parse_command_line(run, description, argc, argv)) {
    case CLI_EXIT_OK: return EXIT_ALL_DONE;
    case CLI_EXIT_USAGE: return EXIT_USAGE;
    case CLI_RUN: break;
    }
    fill_work_defaults(run);
    if (!is_async)  /* one fetch, then one post, then the next item */
        run->producers = run->consumers = 1;
    run->fetch_delay *= run->common.scale;
    run->process_delay *= run->common.scale;
    output_init(run->common.quiet);
    if (run->common.predict) {
        pc_print_prediction(run, is_async);
        return EXIT_ALL_DONE;
    }

    fdlimit_make_room(program, run->producers + run->consumers, 1);
    if (!allocate_run(run)) {
        output_error(program, "out of memory");
        free_run(run);
        return EXIT_SETUP;
    }
    if ((run->common.trace_path != NULL && !trace_path_writable(run->common.trace_path, program))
        || !http_global_init(program) || !http_server_reachable(program, run->common.url)) {
        http_global_cleanup();
        free_run(run);
        return EXIT_SETUP;
    }
    if (run->common.trace_path != NULL) {
        run->trace = trace_new(clock_now());
        trace_one_thread(run->trace, is_async);  /* both programs have one thread */
        name_trace_rows(run);
    }
    http_set_bounds(http_bounds_for(&run->common, run->fetch_delay > run->process_delay
                                                      ? run->fetch_delay : run->process_delay));
    output_rule();
    run->started = clock_now();
    return -1;
}

/* ------------------------------------------------------- an item's journey */

struct pc_item pc_item_new(long id)
{
    struct pc_item item = { .id = id };
    snprintf(item.label, sizeof item.label, "I%ld", id);
    return item;
}

void pc_prepare_fetch(struct pc_run *run, CURL *easy, const struct pc_item *item)
{
    char url[CLI_URL_MAX + 64];
    snprintf(url, sizeof url, "%s/items/%ld?delay=%g", run->common.url, item->id,
             run->fetch_delay);
    curl_easy_setopt(easy, CURLOPT_URL, url);  /* libcurl keeps its own copy */
}

void pc_prepare_post(struct pc_run *run, CURL *easy, const struct pc_item *item)
{
    curl_easy_setopt(easy, CURLOPT_URL, run->process_url);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, run->json_header);
    /* Not copied: the item keeps its JSON until the post has finished. */
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)item->json_length);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, item->json);
}

void pc_fetch_started(struct pc_item *item)
{
    item->fetch_started = clock_now();
    output_task(item->label, TONE_PLAIN, "fetching   GET /items/%ld", item->id);
}

/* The "id" member of a JSON object, or -1 if the text is not such an object. */
static long json_id_of(const char *text, size_t length)
{
    json_error_t error;
    json_t *document = json_loadb(text, length, 0, &error);
    json_t *id = json_object_get(document, "id");  /* NULL-safe */
    long value = json_is_integer(id) ? (long)json_integer_value(id) : -1;
    json_decref(document);
    return value;
}

static void add_trace_event(struct pc_run *run, const struct pc_item *item, const char *what,
                            int row, double started, const char *outcome, long acknowledged_id)
{
    char name[96];
    snprintf(name, sizeof name, "%s %s", item->label, what);
    struct trace_event *event = trace_add(run->trace, name, row, started, clock_now());
    trace_set_integer(event, "item", item->id);
    trace_set_text(event, "outcome", outcome);
    if (acknowledged_id >= 0)
        trace_set_integer(event, "acknowledged_id", acknowledged_id);
}

static void fetch_failed(struct pc_run *run, struct pc_item *item, int fetcher, const char *why)
{
    output_task(item->label, TONE_BAD, "fetch failed: %s", why);
    add_trace_event(run, item, "GET /items", fetcher, item->fetch_started, why, -1);
    run->failures++;
}

bool pc_fetch_finished(struct pc_run *run, struct pc_item *item, int fetcher,
                       CURLcode result, long status, const struct http_body *body)
{
    char why[96];
    if (result != CURLE_OK) {
        fetch_failed(run, item, fetcher, curl_easy_strerror(result));
        return false;
    }
    if (status != 200) {
        snprintf(why, sizeof why, "HTTP %ld", status);
        fetch_failed(run, item, fetcher, why);
        return false;
    }
    if (json_id_of(body->data, body->length) != item->id) {
        fetch_failed(run, item, fetcher, "the reply is not a JSON item with this id");
        return false;
    }
    item->json = malloc(body->length + 1);
    if (item->json == NULL) {
        fetch_failed(run, item, fetcher, "out of memory");
        return false;
    }
    memcpy(item->json, body->data, body->length + 1);
    item->json_length = body->length;
    /* Show the item itself when it is short, as the lesson's items are. */
    if (item->json_length <= 60 && strchr(item->json, '\n') == NULL)
        output_task(item->label, TONE_GOOD, "fetched    %s", item->json);
    else
        output_task(item->label, TONE_GOOD, "fetched    %zu bytes of JSON", item->json_length);
    add_trace_event(run, item, "GET /items", fetcher, item->fetch_started, "ok", -1);
    return true;
}

void pc_item_lost(struct pc_run *run, struct pc_item *item)
{
    output_task(item->label, TONE_BAD, "lost: fetched, but the queue was full");
    run->failures++;
    free(item->json);
    item->json = NULL;
}

void pc_post_started(struct pc_item *item)
{
    item->post_started = clock_now();
    output_task(item->label, TONE_PLAIN, "processing POST /process");
}

/* Checks the server's {"ok":true,"bytes":LEN,"id":ID}: it must be about
 * this item, all of it.  Returns NULL if so, or what is wrong. */
static const char *check_acknowledgement(const struct pc_item *item,
                                         const struct http_body *reply, long *acknowledged_id)
{
    json_error_t error;
    json_t *document = json_loadb(reply->data, reply->length, 0, &error);
    json_t *id = json_object_get(document, "id");
    json_t *bytes = json_object_get(document, "bytes");
    *acknowledged_id = json_is_integer(id) ? (long)json_integer_value(id) : -1;
    const char *problem = NULL;
    if (!json_is_true(json_object_get(document, "ok")) || *acknowledged_id < 0)
        problem = "the reply is not an acknowledgement";
    else if (*acknowledged_id != item->id)
        problem = "the server acknowledged another item";
    else if (!json_is_integer(bytes) || json_integer_value(bytes) != (json_int_t)item->json_length)
        problem = "the server did not get the whole item";
    json_decref(document);
    return problem;
}

void pc_post_finished(struct pc_run *run, struct pc_item *item, int consumer,
                      CURLcode result, long status, const struct http_body *reply)
{
    int row = (int)(run->producers + consumer);
    long acknowledged_id = -1;
    char why[96];
    const char *problem = NULL;
    if (result != CURLE_OK) {
        problem = curl_easy_strerror(result);
    } else if (status != 200) {
        snprintf(why, sizeof why, "HTTP %ld", status);
        problem = why;
    } else {
        problem = check_acknowledgement(item, reply, &acknowledged_id);
    }
    if (problem == NULL && run->acknowledged[item->id]++ > 0)
        problem = "processed twice";

    if (problem == NULL) {
        run->processed++;
        output_task(item->label, TONE_GOOD, "done       the server acknowledged id %ld",
                    acknowledged_id);
    } else {
        run->failures++;
        output_task(item->label, TONE_BAD, "processing failed: %s", problem);
    }
    add_trace_event(run, item, "POST /process", row, item->post_started,
                    problem ? problem : "ok", acknowledged_id);
    free(item->json);
    item->json = NULL;
}

void pc_queue_changed(struct pc_run *run, const struct pc_queue *queue, long fetching)
{
    if (queue->count > run->deepest)
        run->deepest = queue->count;
    long free_places = queue->capacity - queue->count - fetching;
    /* A little picture: '#' an item waiting, '+' a place a fetch in flight
     * has reserved, '.' free.  Long queues are shown as numbers only. */
    char picture[40] = "";
    if (queue->capacity <= 32) {
        size_t at = 0;
        picture[at++] = '[';
        for (long i = 0; i < queue->capacity; i++)
            picture[at++] = i < queue->count ? '#' : i < queue->count + fetching ? '+' : '.';
        picture[at++] = ']';
        picture[at++] = ' ';
        picture[at] = '\0';
    }
    output_task("queue", TONE_NOTE, "%s%ld waiting, %ld on the way, %ld free%s", picture,
                queue->count, fetching, free_places,
                free_places == 0 ? ": no new fetch may start" : "");
}

int pc_finish(struct pc_run *run)
{
    double elapsed = clock_now() - run->started;
    output_separator();
    output_summary("Items processed: %ld of %ld", run->processed, run->item_count);
    if (run->failures > 0)
        output_summary("Failed: %ld of %ld items", run->failures, run->item_count);
    if (run->is_async)
        output_summary("Deepest queue: %ld of %ld", run->deepest, run->queue_capacity);
    output_summary("Time elapsed: %.3f s", elapsed);
    output_rule();

    int status = run->failures > 0 ? EXIT_TASKS_FAILED : EXIT_ALL_DONE;
    status = trace_save(run->trace, run->common.trace_path, run->common.program, status);
    pc_abandon(run);  /* the same release, now that all is said */
    return status;
}

void pc_abandon(struct pc_run *run)
{
    free_run(run);
    http_global_cleanup();
}

static struct pc_slot *new_slots(long count, bool is_fetcher)
{
    struct pc_slot *slots = calloc((size_t)count, sizeof *slots);
    for (long i = 0; slots != NULL && i < count; i++) {
        slots[i].number = (int)i + 1;
        slots[i].is_fetcher = is_fetcher;
        slots[i].easy = http_easy_new(&slots[i].body);
        if (slots[i].easy == NULL)
            return slots;  /* pc_workers_new sees the NULL handle */
        curl_easy_setopt(slots[i].easy, CURLOPT_PRIVATE, &slots[i]);
    }
    return slots;
}

static void free_slots(struct pc_slot *slots, long count)
{
    for (long i = 0; slots != NULL && i < count; i++) {
        if (slots[i].easy != NULL)
            curl_easy_cleanup(slots[i].easy);
        http_body_free(&slots[i].body);
        free(slots[i].item.json);
    }
    free(slots);
}

struct pc_slot *pc_idle_slot(struct pc_slot *slots, long count)
{
    for (long i = 0; i < count; i++)
        if (!slots[i].busy)
            return &slots[i];
    return NULL;
}

bool pc_workers_new(const struct pc_run *run, struct pc_workers *workers)
{
    workers->fetchers = new_slots(run->producers, true);
    workers->consumers = new_slots(run->consumers, false);
    return workers->fetchers != NULL && workers->fetchers[run->producers - 1].easy != NULL
        && workers->consumers != NULL && workers->consumers[run->consumers - 1].easy != NULL;
}

void pc_workers_free(const struct pc_run *run, struct pc_workers *workers)
{
    free_slots(workers->fetchers, run->producers);
    free_slots(workers->consumers, run->consumers);
    workers->fetchers = workers->consumers = NULL;
}

void pc_run_one_at_a_time(struct pc_run *run, struct pc_workers *workers)
{
    struct pc_slot *fetcher = workers->fetchers, *consumer = workers->consumers;
    for (long id = 0; id < run->item_count; id++) {
        http_body_reset(&fetcher->body);
        fetcher->item = pc_item_new(id);
        pc_prepare_fetch(run, fetcher->easy, &fetcher->item);
        pc_fetch_started(&fetcher->item);
        CURLcode result = curl_easy_perform(fetcher->easy);  /* blocks */
        if (!pc_fetch_finished(run, &fetcher->item, fetcher->number, result,
                               http_status(fetcher->easy), &fetcher->body))
            continue;
        http_body_reset(&consumer->body);
        consumer->item = fetcher->item;  /* the post slot owns the JSON now */
        fetcher->item.json = NULL;
        pc_prepare_post(run, consumer->easy, &consumer->item);
        pc_post_started(&consumer->item);
        result = curl_easy_perform(consumer->easy);  /* blocks */
        pc_post_finished(run, &consumer->item, consumer->number, result,
                         http_status(consumer->easy), &consumer->body);
    }
}
