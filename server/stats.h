/*
 * stats.h - the counters behind GET /stats.
 *
 * Tests and lessons prove concurrency with these numbers instead of with
 * timings: if a client's requests overlapped at the server, max_in_flight
 * says how many did.  A request is in flight from the handler's first call
 * until libmicrohttpd reports it completed, whatever the outcome, so a
 * client that gives up makes in_flight drop.
 *
 * The observers (/stats, /stats/reset) are never counted anywhere, and
 * /health only under its own path: reading the counters, or checking that
 * the server is up, must not disturb what is being measured.  "responses"
 * counts the status codes of the requests the top level counts.
 *
 * All functions are thread-safe (one mutex: a handful of increments per
 * request is nothing next to a network round trip).
 */
#ifndef SLOWSERVER_STATS_H
#define SLOWSERVER_STATS_H

#include <jansson.h>

#include "params.h"

struct server_stats;

struct server_stats *server_stats_new(void);
void server_stats_free(struct server_stats *stats);

/* A request for route started (first handler call) / completed. */
void server_stats_begin(struct server_stats *stats, enum server_route route);
void server_stats_end(struct server_stats *stats, enum server_route route);

/* A reply with this status was queued for a request on route. */
void server_stats_response(struct server_stats *stats, enum server_route route, unsigned status);

/* Zeroes requests and responses; every max_in_flight becomes the current
 * in_flight (which is never zeroed: those requests are still running). */
void server_stats_reset(struct server_stats *stats);

/* The JSON document of GET /stats, malloc'd (NULL if out of memory):
 * {"requests":R,"in_flight":I,"max_in_flight":M,
 *  "paths":{"/delay-me":{"requests":r,"in_flight":i,"max_in_flight":m},...,"other":{...}},
 *  "responses":{"200":n,...}}  (only the status codes seen since the reset) */
char *server_stats_json(struct server_stats *stats);

/* The same document with one more top-level member, key: extra (taken;
 * NULL adds nothing).  How /stats reports the live view's counters. */
char *server_stats_json_with(struct server_stats *stats, const char *key, json_t *extra);

/* The top-level in_flight (for tests and the shutdown message). */
long server_stats_in_flight(struct server_stats *stats);

#endif
