/* stats.c - the counters behind GET /stats; see stats.h for what they mean. */
#include "stats.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* HTTP status codes are three digits; index the array by the code itself. */
#define STATUS_SLOTS 600

struct counter {
    long requests;
    long in_flight;
    long max_in_flight;
};

/* The numbers alone, so /stats can copy them out under the lock. */
struct counts {
    struct counter total;
    struct counter paths[SERVER_COUNTED_ROUTES];
    long responses[STATUS_SLOTS];
};

struct server_stats {
    pthread_mutex_t lock;
    struct counts counts;
};

/* Observers are invisible; /health has its own bucket but stays out of the
 * total (clients check it before they start, and that is not their work). */
static bool counted_at_all(enum server_route route)
{
    return route < SERVER_COUNTED_ROUTES;
}

static bool counted_in_total(enum server_route route)
{
    return counted_at_all(route) && route != SERVER_ROUTE_HEALTH;
}

struct server_stats *server_stats_new(void)
{
    struct server_stats *stats = calloc(1, sizeof *stats);
    if (stats != NULL)
        pthread_mutex_init(&stats->lock, NULL);
    return stats;
}

void server_stats_free(struct server_stats *stats)
{
    if (stats == NULL)
        return;
    pthread_mutex_destroy(&stats->lock);
    free(stats);
}

static void counter_begin(struct counter *counter)
{
    counter->requests++;
    counter->in_flight++;
    if (counter->in_flight > counter->max_in_flight)
        counter->max_in_flight = counter->in_flight;
}

void server_stats_begin(struct server_stats *stats, enum server_route route)
{
    if (!counted_at_all(route))
        return;
    pthread_mutex_lock(&stats->lock);
    counter_begin(&stats->counts.paths[route]);
    if (counted_in_total(route))
        counter_begin(&stats->counts.total);
    pthread_mutex_unlock(&stats->lock);
}

void server_stats_end(struct server_stats *stats, enum server_route route)
{
    if (!counted_at_all(route))
        return;
    pthread_mutex_lock(&stats->lock);
    stats->counts.paths[route].in_flight--;
    if (counted_in_total(route))
        stats->counts.total.in_flight--;
    pthread_mutex_unlock(&stats->lock);
}

void server_stats_response(struct server_stats *stats, enum server_route route, unsigned status)
{
    if (!counted_in_total(route) || status >= STATUS_SLOTS)
        return;
    pthread_mutex_lock(&stats->lock);
    stats->counts.responses[status]++;
    pthread_mutex_unlock(&stats->lock);
}

static void counter_reset(struct counter *counter)
{
    counter->requests = 0;
    counter->max_in_flight = counter->in_flight;
}

void server_stats_reset(struct server_stats *stats)
{
    pthread_mutex_lock(&stats->lock);
    counter_reset(&stats->counts.total);
    for (int i = 0; i < SERVER_COUNTED_ROUTES; i++)
        counter_reset(&stats->counts.paths[i]);
    for (int i = 0; i < STATUS_SLOTS; i++)
        stats->counts.responses[i] = 0;
    pthread_mutex_unlock(&stats->lock);
}

long server_stats_in_flight(struct server_stats *stats)
{
    pthread_mutex_lock(&stats->lock);
    long in_flight = stats->counts.total.in_flight;
    pthread_mutex_unlock(&stats->lock);
    return in_flight;
}

/* Adds requests, in_flight and max_in_flight to object; false if out of memory. */
static bool add_counter(json_t *object, const struct counter *counter)
{
    return json_object_set_new(object, "requests", json_integer(counter->requests)) == 0
        && json_object_set_new(object, "in_flight", json_integer(counter->in_flight)) == 0
        && json_object_set_new(object, "max_in_flight", json_integer(counter->max_in_flight)) == 0;
}

/* Builds the document from a copy taken under the lock, so that the JSON
 * work (allocations) does not hold up request handling. */
static char *render(const struct counts *snapshot, const char *key, json_t *extra)
{
    json_t *root = json_object(), *paths = json_object(), *responses = json_object();
    bool ok = root != NULL && paths != NULL && responses != NULL && add_counter(root, &snapshot->total);
    for (int i = 0; ok && i < SERVER_COUNTED_ROUTES; i++) {
        json_t *path = json_object();
        ok = path != NULL && add_counter(path, &snapshot->paths[i])
             && json_object_set_new(paths, server_route_name((enum server_route)i), path) == 0;
    }
    for (int code = 0; ok && code < STATUS_SLOTS; code++) {
        if (snapshot->responses[code] == 0)
            continue;
        char key[8];
        snprintf(key, sizeof key, "%d", code);
        ok = json_object_set_new(responses, key, json_integer(snapshot->responses[code])) == 0;
    }
    /* json_object_set_new takes its value even when it fails, so after the
     * two calls below nothing but root needs freeing. */
    ok = json_object_set_new(root, "paths", paths) == 0 && ok;
    paths = NULL;
    ok = json_object_set_new(root, "responses", responses) == 0 && ok;
    responses = NULL;
    if (extra != NULL)
        ok = json_object_set_new(root, key, extra) == 0 && ok;
    char *text = ok ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return text;
}

char *server_stats_json(struct server_stats *stats)
{
    return server_stats_json_with(stats, NULL, NULL);
}

char *server_stats_json_with(struct server_stats *stats, const char *key, json_t *extra)
{
    struct counts *snapshot = malloc(sizeof *snapshot);
    if (snapshot == NULL) {
        json_decref(extra);
        return NULL;
    }
    pthread_mutex_lock(&stats->lock);
    *snapshot = stats->counts;
    pthread_mutex_unlock(&stats->lock);
    char *text = render(snapshot, key, extra);
    free(snapshot);
    return text;
}
