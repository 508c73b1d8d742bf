/*
 * lesson_runs.h - the structural proofs of the slow-API lesson, for every
 * program that sends its three requests (slow_api's and event_loops'):
 * the server's /stats say how many requests were in flight at once, the
 * program's own trace says whether they overlapped, and every reply's text
 * is checked.  Nothing is timed.
 */
#ifndef ASYNCLAB_TEST_LESSON_RUNS_H
#define ASYNCLAB_TEST_LESSON_RUNS_H

#include "server.h"

/* The lesson's 10, 2 and 5 s shrunk 20 times: 0.5, 0.1 and 0.25 s. */
#define LESSON_RUNS_SCALE "0.05"

/* Fails unless out holds the three requests' lines at LESSON_RUNS_SCALE. */
void test_assert_lesson_replies(const char *out);

/* Runs program against server with the lesson's requests and a trace at
 * trace_path (the server's stats are reset first): all three replies, and
 * one request at a time (max_in_flight 1, no two trace intervals overlap). */
void test_assert_one_at_a_time(const struct test_server *server, const char *program,
                               const char *trace_path);

/* The same for an overlapping program: all three in flight at once
 * (max_in_flight 3, every interval of its own trace overlaps the others). */
void test_assert_all_three_in_flight(const struct test_server *server, const char *program,
                                     const char *trace_path);

#endif
