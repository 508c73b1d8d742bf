/*
 * server_stats.h - read and reset slowserver's /stats counters, the
 * structural proof of concurrency (docs/slowserver.md): the grader asks the
 * server how many requests it held at once instead of trusting a clock.
 */
#ifndef ASYNCLAB_HARNESS_SERVER_STATS_H
#define ASYNCLAB_HARNESS_SERVER_STATS_H

#include <stdbool.h>

/* POST /stats/reset; false if the server did not answer 204. */
bool server_stats_reset(const char *base_url);

/* /stats "paths" -> path -> field (say "/delay-me", "max_in_flight"), or -1
 * if the server did not answer or has no such counter (0 requests seen). */
long server_stats_path(const char *base_url, const char *path, const char *field);

/* A top-level /stats counter (say "max_in_flight"), or -1. */
long server_stats_total(const char *base_url, const char *field);

#endif
