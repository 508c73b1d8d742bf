/*
 * Integration tests: bench_scale (`make bench-scale`) at a small K.
 *
 * The benchmark's numbers are for the report; what is tested here is that
 * it measures what it says: every pairing runs at every K, the event-loop
 * programs keep a fixed number of threads while the thread-per-request and
 * thread-per-connection ones grow a thread per request, and the file it
 * writes holds all of it.  No timing is asserted beyond a lower bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "process.h"

#define SMALL_K 3
#define LARGER_K 20

static char out_dir[64];
static json_t *scale;

static int run_small_sweep(void **state)
{
    (void)state;
    snprintf(out_dir, sizeof out_dir, "/tmp/asynclab-scale-%d", (int)getpid());
    const char *argv[] = { test_bin("bench_scale"), "--k", "3,20", "--delay", "0.3",
                           "--out", out_dir, "--no-throughput", NULL };
    struct test_process_result result;
    if (test_run(argv, 120.0, &result) != 0 || result.exit_status != 0) {
        fprintf(stderr, "bench_scale failed: %s\n", result.err);
        test_process_result_free(&result);
        return -1;
    }
    test_process_result_free(&result);
    char path[128];
    snprintf(path, sizeof path, "%s/scale.json", out_dir);
    json_error_t error;
    scale = json_load_file(path, 0, &error);
    return scale ? 0 : -1;
}

static int remove_output(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/scale.json", out_dir);
    unlink(path);
    rmdir(out_dir);
    json_decref(scale);
    return 0;
}

/* The run of `client` against a server in `mode` at K, or fail. */
static const json_t *find_run(const char *client, const char *mode, long k)
{
    size_t i;
    const json_t *run;
    json_array_foreach(json_object_get(scale, "runs"), i, run) {
        if (strcmp(json_string_value(json_object_get(run, "client")), client) == 0
            && strcmp(json_string_value(json_object_get(run, "server_mode")), mode) == 0
            && json_integer_value(json_object_get(run, "k")) == k)
            return run;
    }
    fail_msg("no run of %s against a %s server at K=%ld", client, mode, k);
    return NULL;
}

static long field(const json_t *run, const char *name)
{
    return (long)json_integer_value(json_object_get(run, name));
}

/* A run of the io_uring client on a kernel that will not give it a ring:
 * recorded as failed with that reason (and skipped at the larger K). */
static bool uring_missing(const json_t *run)
{
    const char *failure = json_string_value(json_object_get(run, "failure"));
    const char *skipped = json_string_value(json_object_get(run, "skipped"));
    const char *why = failure != NULL ? failure : skipped;
    bool missing = strcmp(json_string_value(json_object_get(run, "client")),
                          "event_loops_async_uring") == 0
                   && why != NULL && strstr(why, "io_uring is not available") != NULL;
    if (missing)
        print_message("io_uring client not measured: %s\n", why);
    return missing;
}

static void every_pairing_completes_at_every_k(void **state)
{
    (void)state;
    const json_t *runs = json_object_get(scale, "runs");
    assert_int_equal(json_array_size(runs), 6 * 2);  /* six pairings, two K */
    size_t i;
    const json_t *run;
    json_array_foreach(runs, i, run) {
        if (uring_missing(run))
            continue;
        assert_true(json_is_true(json_object_get(run, "ok")));
        /* Nobody can beat the delay: a generous lower bound, not a threshold. */
        assert_true(json_real_value(json_object_get(run, "elapsed_over_delay")) >= 1.0);
        assert_true(json_real_value(json_object_get(run, "client_cpu_us_per_request")) > 0);
        assert_true(field(run, "server_peak_rss_kb") > 0);
    }
}

static void event_loops_keep_their_thread_count(void **state)
{
    (void)state;
    const char *loops[] = { "slow_api_async_epoll", "slow_api_async", "event_loops_async" };
    for (size_t i = 0; i < 3; i++) {
        const json_t *small = find_run(loops[i], "async", SMALL_K);
        const json_t *larger = find_run(loops[i], "async", LARGER_K);
        assert_int_equal(field(small, "client_max_threads"), 1);
        assert_int_equal(field(larger, "client_max_threads"), 1);
        /* The async-mode server: the same threads whatever K is. */
        assert_int_equal(field(small, "server_max_threads"), field(larger, "server_max_threads"));
    }
}

static void threads_grow_with_the_requests(void **state)
{
    (void)state;
    /* A thread per request in the client, a thread per connection in the server. */
    assert_true(field(find_run("slow_api_sync_threads", "async", LARGER_K), "client_max_threads")
                >= LARGER_K);
    assert_true(field(find_run("slow_api_async_epoll", "threads", LARGER_K), "server_max_threads")
                >= LARGER_K);
}

static void bad_flags_are_exit_1(void **state)
{
    (void)state;
    const char *cases[][3] = { { "--k", "0", NULL }, { "--k", "1.5", NULL },
                               { "--delay", "x", NULL }, { "--bogus", NULL, NULL } };
    for (size_t i = 0; i < 4; i++) {
        const char *argv[] = { test_bin("bench_scale"), cases[i][0], cases[i][1], NULL };
        struct test_process_result result;
        assert_int_equal(test_run(argv, 30.0, &result), 0);
        assert_int_equal(result.exit_status, 1);
        test_process_result_free(&result);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_pairing_completes_at_every_k),
        cmocka_unit_test(event_loops_keep_their_thread_count),
        cmocka_unit_test(threads_grow_with_the_requests),
        cmocka_unit_test(bad_flags_are_exit_1),
    };
    return cmocka_run_group_tests_name("bench_scale", tests, run_small_sweep, remove_output);
}
