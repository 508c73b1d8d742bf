/*
 * Integration tests: build/bin/report on the fixture results in
 * tests/fixtures/report/ (see its summary.json).
 *
 * The fixtures hold what real runs produce and what a report must survive:
 * hyperfine 1.x and 2.x files (schema_version, no median), a single run
 * whose stddev is null, runs that fail by design and runs that fail for
 * real, a scenario that was never measured, a truncated JSON file, a
 * variant without a trace, and a sweep whose sync side stopped at the cap.
 * Every number the tests look for follows from the fixture's own numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checks.h"
#include "files.h"
#include "process.h"

#define FIXTURES "tests/fixtures/report"
#define FAILED_RED "rgb(204,  51,  17)"   /* how gnuplot's SVG writes the failed colour */

static char out_dir[64];
static char *report;   /* REPORT.md as rendered from the fixtures */

static char *read_output(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    return test_read_file(path);
}

/* Renders the fixtures once into a fresh directory for all the tests. */
static int render(void **state)
{
    (void)state;
    struct stat info;
    if (stat(FIXTURES "/summary.json", &info) != 0) {
        fprintf(stderr, "test_report: %s missing; run the tests from the repository root "
                "(make test)\n", FIXTURES);
        return -1;
    }
    snprintf(out_dir, sizeof out_dir, "/tmp/asynclab-report-XXXXXX");
    if (mkdtemp(out_dir) == NULL)
        return -1;
    const char *argv[] = { test_bin("report"), FIXTURES, "--out", out_dir, NULL };
    struct test_process_result result;
    if (test_run(argv, TEST_RUN_TIMEOUT_S, &result) != 0)
        return -1;
    int status = result.exit_status;
    if (status != 0)
        fprintf(stderr, "report exited %d: %s\n", status, result.err);
    test_process_result_free(&result);
    report = read_output("REPORT.md");
    return status == 0 && report != NULL ? 0 : -1;
}

static int clean_up(void **state)
{
    (void)state;
    free(report);
    return test_remove_tree(out_dir);
}

static void assert_lacks(const char *haystack, const char *needle)
{
    if (haystack != NULL && strstr(haystack, needle) != NULL)
        fail_msg("did not expect \"%s\" in:\n%s", needle, haystack);
}

/* The part of the report from "## name" to the next "## ". */
static char *section(const char *name)
{
    char heading[128];
    snprintf(heading, sizeof heading, "\n## %s\n", name);
    const char *start = strstr(report, heading);
    assert_non_null(start);
    const char *end = strstr(start + strlen(heading), "\n## ");
    size_t length = end ? (size_t)(end - start) : strlen(start);
    char *text = strndup(start, length);
    assert_non_null(text);
    return text;
}

static void the_header_describes_machine_and_run(void **state)
{
    (void)state;
    test_assert_contains(report, "build/bin/bench --scale quick --runs 3 --out results");
    test_assert_contains(report, "| scale | 0.1 = quick");
    test_assert_contains(report, "| runs | 3 timed runs per variant after 1 warm-up run |");
    test_assert_contains(report, "| CPU | Fixture CPU @ 1.00GHz, 2 cores online |");
    test_assert_contains(report, "libcurl 7.88.1, libmicrohttpd 0.9.75, SQLite 3.40.1");
    test_assert_contains(report, "hyperfine 1.15.0");
}

static void the_overview_has_one_line_per_scenario(void **state)
{
    (void)state;
    char *text = section("At a glance");
    test_assert_contains(text, "| [slow_api](#slow_api) | sync 1.702 s | async | 1.69× | "
                               "measured |");
    test_assert_contains(text, "| [timeouts](#timeouts) | sync 0.310 s | async | 2.82× | "
                               "measured (exit 3 by design) |");
    /* A failed 0.01 s run spreads sync's times (stddev 0.11 s) over the
     * 0.09 s between sync and async: no winner can be named. */
    test_assert_contains(text, "| [flaky](#flaky) | sync 0.200 s | async = sync (a tie, within "
                               "the noise) | 1.82× (inside the noise) | some runs FAILED |");
    test_assert_contains(text, "| [database](#database) | – | – | – | not measured (see below) |");
    free(text);
}

/* async_offload is 1 ms faster than async with spreads of 2 ms: no winner. */
static void a_difference_inside_the_noise_is_a_tie(void **state)
{
    (void)state;
    char *text = section("At a glance");
    test_assert_contains(text, "| [tied](#tied) | sync 0.300 s | async_offload = async "
                               "(a tie, within the noise) | 3.00× | measured |");
    free(text);
    /* The lesson timed only async and async_offload: its ratio is over async. */
    text = section("tied");
    test_assert_contains(text, "| async | 0.101 s | 2.0 ms | 2.97× | – | – | 3 | 10 s | 1.00× |");
    test_assert_contains(text, "| async_offload | 0.100 s | 2.0 ms | 3.00× | – | – | 3 | 5 s | "
                               "2.00× |");
    free(text);
    text = section("At a glance");
    /* slow_api's async beats the others by far more than their spread. */
    test_assert_contains(text, "| [slow_api](#slow_api) | sync 1.702 s | async | 1.69× |");
    free(text);
}

/* Every section says when and on what machine; the scale section comes
 * from a run of its own, whose scale.json (an old one) has no date. */
static void each_section_says_when_and_where_it_was_measured(void **state)
{
    (void)state;
    const char *by_bench = "*Measured 2026-01-01T12:00:00Z on Fixture CPU @ 1.00GHz, 2 cores, "
                           "Linux 6.1.0 x86_64, by `build/bin/bench --scale quick --runs 3 "
                           "--out results`.*";
    const char *sections[] = { "slow_api", "timeouts", "tied",
                               "Scaling sweep: slow_api, K requests of 0.1 s each" };
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        char *text = section(sections[i]);
        test_assert_contains(text, by_bench);
        free(text);
    }
    char *scale = section("Scale: K requests of 1 s all at once, event loop against threads");
    test_assert_contains(scale, "*Measured on AMD EPYC, 2 cores, ");
    test_assert_contains(scale, "by `make bench-scale`, a run of its own (date not recorded).*");
    free(scale);
}

static void a_table_row_has_median_speedup_prediction_efficiency_and_lesson(void **state)
{
    (void)state;
    char *text = section("slow_api");
    /* sync 1.702 s, async 1.010 s: 1.702 / 1.010 = 1.69; 1.0 / 1.010 = 99 %;
     * the lesson's 17 s and 10 s: 1.70. */
    test_assert_contains(text, "| sync | 1.702 s | 0.010 s | 1.00× | 1.700 s | 100 % | 3 | "
                               "17 s | 1.00× |");
    test_assert_contains(text, "| async | 1.010 s | 5.0 ms | 1.69× | 1.000 s | 99 % | 3 | "
                               "10 s | 1.70× |");
    /* The pitfall: the model assumes a concurrent server, so efficiency drops. */
    test_assert_contains(text, "| async@blocking | 1.705 s | 5.0 ms | 1.00× | 1.000 s | 59 % | 3 | "
                               "– | – |");
    test_assert_contains(text, "against a slowserver in `--mode blocking`");
    /* The command is shown without this machine's directories. */
    test_assert_contains(text, "`slow_api_sync --scale 0.1 --quiet");
    free(text);
}

static void hyperfine_2_without_median_and_a_single_run_with_null_stddev(void **state)
{
    (void)state;
    char *text = section("newer_hyperfine");
    /* times 0.5, 0.3, 0.4: median 0.4 and sample stddev 0.1, computed here. */
    test_assert_contains(text, "| sync | 0.400 s | 0.100 s | 1.00× |");
    /* One run: no spread, said so rather than printed as 0. */
    test_assert_contains(text, "| async | 0.200 s | – (1 run) | 2.00× | – | – | 1 | – | – |");
    free(text);
}

static void failures_by_design_and_real_failures_are_told_apart(void **state)
{
    (void)state;
    char *timeouts = section("timeouts");
    test_assert_contains(timeouts, "fail **by design**");
    test_assert_contains(timeouts, "| 3 (3 exited 3, by design) |");
    assert_lacks(timeouts, "FAILED");
    free(timeouts);

    char *flaky = section("flaky");
    test_assert_contains(flaky, "| 3 (1 exited 2: FAILED) |");
    free(flaky);
}

static void an_unmeasured_scenario_says_why_and_keeps_its_lesson_numbers(void **state)
{
    (void)state;
    char *text = section("database");
    test_assert_contains(text, "**Not measured:** database_sync exited 2 (setup problem)");
    test_assert_contains(text, "build it with: make db");
    test_assert_contains(text, "| sync | – | – | – | 2.290 s | – | – | 22.9 s | 1.00× |");
    test_assert_contains(text, "| async | – | – | – | 1.840 s | – | – | 18.4 s | 1.24× |");
    test_assert_contains(text, "PostgreSQL");
    assert_lacks(text, "![");   /* no charts without measurements */
    free(text);
}

static void a_truncated_hyperfine_file_is_reported_not_fatal(void **state)
{
    (void)state;
    char *text = section("corrupt");
    test_assert_contains(text, "**No measurements:** cannot read");
    test_assert_contains(text, "corrupt.json");
    free(text);
}

static void the_sweep_table_stops_sync_at_the_cap(void **state)
{
    (void)state;
    char *text = section("Scaling sweep: slow_api, K requests of 0.1 s each");
    test_assert_contains(text, "| 10 | 1.020 s | 1.000 s | 0.106 s | 0.100 s | 94 % | 9.6× |");
    /* Over the 5 s cap, sync was not run, but its prediction is shown. */
    test_assert_contains(text, "| 100 | not run (over the cap) | 10.000 s | 0.120 s | 0.100 s | "
                               "83 % | – |");
    test_assert_contains(text, "](charts/sweep.svg)");
    free(text);
}

static void charts_are_svg_files_embedded_by_relative_path(void **state)
{
    (void)state;
    const char *charts[] = { "charts/slow_api.svg", "charts/timeline-slow_api-sync.svg",
                             "charts/timeline-slow_api-async.svg", "charts/newer_hyperfine.svg",
                             "charts/timeouts.svg", "charts/timeline-timeouts-sync.svg",
                             "charts/flaky.svg", "charts/sweep.svg" };
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++) {
        char link[128];
        snprintf(link, sizeof link, "](%s)", charts[i]);
        test_assert_contains(report, link);
        char *svg = read_output(charts[i]);
        test_assert_contains(svg, "<svg");
        test_assert_contains(svg, "</svg>");
        free(svg);
    }
    /* No trace, no timeline: said in words, and no file. */
    test_assert_contains(report, "- async@blocking: no trace to draw");
    char *missing = read_output("charts/timeline-slow_api-async-on-blocking.svg");
    assert_null(missing);
}

static void only_real_failures_turn_a_bar_red(void **state)
{
    (void)state;
    /* A filled shape in the failed colour (the dashed prediction line is
     * the same red, but a stroke, not a fill). */
    const char *red_fill = "fill = '" FAILED_RED;
    char *flaky = read_output("charts/flaky.svg");
    char *timeouts = read_output("charts/timeouts.svg");
    test_assert_contains(flaky, red_fill);
    /* The timeout lesson's exit 3 is its point, not a failure. */
    assert_lacks(timeouts, red_fill);
    free(flaky);
    free(timeouts);
}

static void timelines_show_failed_tasks_in_red_and_only_those(void **state)
{
    (void)state;
    char *timeouts = read_output("charts/timeline-timeouts-sync.svg");
    char *slow_api = read_output("charts/timeline-slow_api-sync.svg");
    test_assert_contains(timeouts, FAILED_RED);
    assert_lacks(slow_api, FAILED_RED);
    /* Rows are named by the trace's thread_name events. */
    test_assert_contains(slow_api, ">R3</text>");
    free(timeouts);
    free(slow_api);
}

/* What the charts say besides their data: the legend for a failed task,
 * the title of a lesson that has no delays to scale, a model that is
 * missing, the point where a line stops, and memory that is never shown
 * below zero. */
static void charts_explain_what_they_leave_out(void **state)
{
    (void)state;
    char *timeouts = read_output("charts/timeline-timeouts-sync.svg");
    char *slow_api = read_output("charts/timeline-slow_api-sync.svg");
    test_assert_contains(timeouts, "a task that failed (timeout, error reply)");
    test_assert_contains(slow_api, "a task, from start to finish");
    assert_lacks(slow_api, "a task that failed");
    free(timeouts);
    free(slow_api);

    char *no_server = read_output("charts/newer_hyperfine.svg");
    test_assert_contains(no_server, "newer_hyperfine (no server delays: the scale does not apply)");
    assert_lacks(no_server, "at scale");
    free(no_server);
    char *with_server = read_output("charts/slow_api.svg");
    test_assert_contains(with_server, "slow_api at scale 0.1: median of 3 runs");
    assert_lacks(with_server, "no model line");
    free(with_server);
    char *no_model = read_output("charts/tied.svg");
    test_assert_contains(no_model, "no model line: --predict has no number for these programs");
    free(no_model);

    /* The thread client failed at K = 10000; the event loop did not. */
    const char *scale_charts[] = { "charts/scale-elapsed.svg", "charts/scale-client-memory.svg",
                                   "charts/scale-server-memory.svg" };
    for (size_t i = 0; i < 3; i++) {
        char *svg = read_output(scale_charts[i]);
        test_assert_contains(svg, "stops: K = 10000 failed (exit 3)");
        free(svg);
    }
    const char *memory_charts[] = { "charts/scale-client-memory.svg",
                                    "charts/scale-server-memory.svg" };
    for (size_t i = 0; i < 2; i++) {
        char *svg = read_output(memory_charts[i]);
        assert_lacks(svg, ">-");   /* no negative tick label */
        free(svg);
    }
}

static void bad_input_is_one_line_and_a_status(void **state)
{
    (void)state;
    struct test_process_result result;
    const char *missing[] = { test_bin("report"), "/nonexistent/results", NULL };
    assert_int_equal(test_run(missing, TEST_RUN_TIMEOUT_S, &result), 0);
    assert_int_equal(result.exit_status, 2);
    test_assert_contains(result.err, "run make bench first");
    test_assert_one_line(result.err);
    test_process_result_free(&result);

    /* A hyperfine file is not a summary. */
    char dir[sizeof out_dir + 32];
    snprintf(dir, sizeof dir, "%s/not-a-summary", out_dir);
    mkdir(dir, 0755);
    char path[sizeof dir + 32];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs("{\"results\": []}\n", file);
    fclose(file);
    const char *wrong[] = { test_bin("report"), dir, NULL };
    assert_int_equal(test_run(wrong, TEST_RUN_TIMEOUT_S, &result), 0);
    assert_int_equal(result.exit_status, 2);
    test_assert_contains(result.err, "not a summary written by bench");
    test_process_result_free(&result);

    const char *usage[] = { test_bin("report"), "a", "b", NULL };
    assert_int_equal(test_run(usage, TEST_RUN_TIMEOUT_S, &result), 0);
    assert_int_equal(result.exit_status, 1);
    test_process_result_free(&result);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_header_describes_machine_and_run),
        cmocka_unit_test(the_overview_has_one_line_per_scenario),
        cmocka_unit_test(a_difference_inside_the_noise_is_a_tie),
        cmocka_unit_test(each_section_says_when_and_where_it_was_measured),
        cmocka_unit_test(a_table_row_has_median_speedup_prediction_efficiency_and_lesson),
        cmocka_unit_test(hyperfine_2_without_median_and_a_single_run_with_null_stddev),
        cmocka_unit_test(failures_by_design_and_real_failures_are_told_apart),
        cmocka_unit_test(an_unmeasured_scenario_says_why_and_keeps_its_lesson_numbers),
        cmocka_unit_test(a_truncated_hyperfine_file_is_reported_not_fatal),
        cmocka_unit_test(the_sweep_table_stops_sync_at_the_cap),
        cmocka_unit_test(charts_are_svg_files_embedded_by_relative_path),
        cmocka_unit_test(only_real_failures_turn_a_bar_red),
        cmocka_unit_test(timelines_show_failed_tasks_in_red_and_only_those),
        cmocka_unit_test(charts_explain_what_they_leave_out),
        cmocka_unit_test(bad_input_is_one_line_and_a_status),
    };
    return cmocka_run_group_tests_name("report", tests, render, clean_up);
}
