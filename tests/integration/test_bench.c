/*
 * Integration tests: build/bin/bench, the harness behind `make bench`, on
 * the slow-API scenario at a tiny scale (a few seconds in all).
 *
 * What is checked is what the results are made of, never how fast anything
 * ran: every variant in harness/scenarios.h has its hyperfine result, its
 * prediction and a trace of a real run (sync's requests never overlap,
 * async's all do); the sweep measured the Ks it was given; the report was
 * rendered; and the slowserver bench started is gone afterwards, also when
 * the run is interrupted with Ctrl+C.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scenarios.h"
#include "checks.h"
#include "files.h"
#include "process.h"
#include "trace_intervals.h"

#define SCALE "0.01"
#define RUN_TIMEOUT_S 120.0

static char out_dir[64];
static struct test_process_result smoke;   /* the one smoke run all tests look at */

static json_t *load(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", out_dir, name);
    json_error_t error;
    json_t *document = json_load_file(path, 0, &error);
    if (document == NULL)
        fail_msg("cannot read %s: %s", path, error.text);
    return document;
}

/* One bench run on slow_api, tiny: two timed runs, no warm-up, a sweep of
 * K = 1 and 3. */
static int run_bench_once(void **state)
{
    (void)state;
    snprintf(out_dir, sizeof out_dir, "/tmp/asynclab-bench-XXXXXX");
    if (mkdtemp(out_dir) == NULL)
        return -1;
    const char *argv[] = { test_bin("bench"), "--scenario", "slow_api", "--scale", SCALE,
                           "--runs", "2", "--warmup", "0", "--sweep-ks", "1,3",
                           "--out", out_dir, NULL };
    if (test_run(argv, RUN_TIMEOUT_S, &smoke) != 0)
        return -1;
    if (smoke.exit_status != 0)
        fprintf(stderr, "bench exited %d:\n%s\n%s\n", smoke.exit_status, smoke.out, smoke.err);
    return 0;
}

static int clean_up(void **state)
{
    (void)state;
    test_process_result_free(&smoke);
    return test_remove_tree(out_dir);
}

static const struct scenario *slow_api(void)
{
    for (size_t i = 0; i < SCENARIO_COUNT; i++)
        if (strcmp(SCENARIOS[i].name, "slow_api") == 0)
            return &SCENARIOS[i];
    fail_msg("slow_api is not in harness/scenarios.h");
    return NULL;
}

/* The Python lesson's time for a variant as the list gives it (0: none,
 * which bench writes as null and jansson reads back as 0). */
static double lesson_seconds(const struct scenario *scenario, const char *variant)
{
    for (size_t i = 0; i < SCENARIO_MAX_VARIANTS && scenario->lesson[i].variant; i++)
        if (strcmp(scenario->lesson[i].variant, variant) == 0)
            return scenario->lesson[i].seconds;
    return 0;
}

/* The port of the first "Started slowserver --mode M at URL" line. */
static int started_server_port(const char *out)
{
    const char *line = strstr(out, "Started slowserver --mode async at http://127.0.0.1:");
    assert_non_null(line);
    return atoi(strstr(line, "127.0.0.1:") + strlen("127.0.0.1:"));
}

static bool something_listens_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool connected = connect(fd, (struct sockaddr *)&address, sizeof address) == 0;
    close(fd);
    return connected;
}

static void every_variant_was_measured_and_predicted(void **state)
{
    (void)state;
    assert_int_equal(smoke.exit_status, 0);
    const struct scenario *scenario = slow_api();
    json_t *summary = load("summary.json");
    assert_true(json_number_value(json_object_get(summary, "scale")) == atof(SCALE));
    assert_int_equal(json_integer_value(json_object_get(summary, "runs")), 2);
    json_t *machine = json_object_get(summary, "machine");
    assert_true(json_integer_value(json_object_get(machine, "cores")) >= 1);
    assert_non_null(json_string_value(json_object_get(machine, "kernel")));
    json_t *versions = json_object_get(summary, "versions");
    for (const char **name = (const char *[]){ "libcurl", "libmicrohttpd", "sqlite",
                                               "hyperfine", NULL }; *name; name++)
        assert_non_null(json_string_value(json_object_get(versions, *name)));
    assert_string_not_equal(json_string_value(json_object_get(versions, "hyperfine")), "unknown");

    json_t *entry = json_array_get(json_object_get(summary, "scenarios"), 0);
    assert_string_equal(json_string_value(json_object_get(entry, "name")), "slow_api");
    assert_true(json_is_true(json_object_get(entry, "measured")));
    json_t *variants = json_object_get(entry, "variants");
    json_t *measured = load("slow_api.json");
    json_t *results = json_object_get(measured, "results");
    size_t count = 0;
    for (; count < SCENARIO_MAX_VARIANTS && scenario->variants[count]; count++) {
        json_t *variant = json_array_get(variants, count);
        json_t *result = json_array_get(results, count);
        assert_string_equal(json_string_value(json_object_get(variant, "name")),
                            scenario->variants[count]);
        assert_string_equal(json_string_value(json_object_get(result, "command")),
                            scenario->variants[count]);
        assert_true(json_number_value(json_object_get(variant, "predicted_s")) > 0);
        assert_true(json_number_value(json_object_get(variant, "lesson_s"))
                    == lesson_seconds(scenario, scenario->variants[count]));
        assert_int_equal(json_array_size(json_object_get(result, "times")), 2);
        size_t index;
        json_t *code;
        json_array_foreach(json_object_get(result, "exit_codes"), index, code)
            assert_int_equal(json_integer_value(code), 0);
    }
    assert_int_equal(json_array_size(results), count);
    /* The lesson's delays at this scale: 17 s and 10 s times 0.01. */
    assert_true(fabs(json_number_value(json_object_get(json_array_get(variants, 0),
                                                       "predicted_s")) - 0.17) < 1e-9);
    json_decref(measured);
    json_decref(summary);
}

/* hyperfine's own Markdown and CSV tables sit beside its JSON, a row per
 * variant (and per K for the sweep). */
static void hyperfine_markdown_and_csv_sit_beside_its_json(void **state)
{
    (void)state;
    const struct scenario *scenario = slow_api();
    char path[256];
    snprintf(path, sizeof path, "%s/slow_api.md", out_dir);
    char *markdown = test_read_file(path);
    snprintf(path, sizeof path, "%s/slow_api.csv", out_dir);
    char *csv = test_read_file(path);
    test_assert_contains(markdown, "| Command |");
    test_assert_contains(csv, "command,mean,stddev");
    for (size_t i = 0; i < SCENARIO_MAX_VARIANTS && scenario->variants[i]; i++) {
        char row[64];
        snprintf(row, sizeof row, "| `%s` |", scenario->variants[i]);
        test_assert_contains(markdown, row);
        snprintf(row, sizeof row, "\n%s,", scenario->variants[i]);
        test_assert_contains(csv, row);
    }
    free(markdown);
    free(csv);
    snprintf(path, sizeof path, "%s/sweep-async.csv", out_dir);
    char *sweep = test_read_file(path);
    test_assert_contains(sweep, "async K=3,");
    free(sweep);
}

/* [start, end] of each task in one of the traces bench kept. */
static size_t trace_intervals(const char *file, long long (*intervals)[2], size_t capacity)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", out_dir, file);
    return test_trace_intervals(path, NULL, intervals, capacity);
}

static void the_kept_traces_are_real_runs_of_each_variant(void **state)
{
    (void)state;
    long long intervals[3][2];
    assert_int_equal(trace_intervals("traces/slow_api-sync.json", intervals, 3), 3);
    assert_true(test_none_overlap(intervals, 3));

    assert_int_equal(trace_intervals("traces/slow_api-async.json", intervals, 3), 3);
    assert_true(test_all_overlap(intervals, 3));

    const struct scenario *scenario = slow_api();
    for (size_t i = 0; i < SCENARIO_MAX_VARIANTS && scenario->variants[i]; i++) {
        char path[256], program[64];
        snprintf(path, sizeof path, "%s/traces/slow_api-%s.json", out_dir, scenario->variants[i]);
        snprintf(program, sizeof program, "slow_api_%s", scenario->variants[i]);
        test_assert_trace_viewable(path, program, true);  /* sync and async: one thread each */
    }
}

static void the_sweep_measured_each_k(void **state)
{
    (void)state;
    json_t *summary = load("summary.json");
    json_t *sweep = json_object_get(summary, "sweep");
    const char *sides[] = { "sync", "async" };
    for (size_t i = 0; i < 2; i++) {
        json_t *side = json_object_get(sweep, sides[i]);
        assert_true(json_is_true(json_object_get(side, "measured")));
        json_t *ks = json_object_get(side, "ks");
        assert_int_equal(json_array_size(ks), 2);
        assert_int_equal(json_integer_value(json_array_get(ks, 1)), 3);
        json_t *measured = load(json_string_value(json_object_get(side, "hyperfine_json")));
        json_t *results = json_object_get(measured, "results");
        assert_int_equal(json_array_size(results), 2);
        json_t *parameters = json_object_get(json_array_get(results, 1), "parameters");
        assert_string_equal(json_string_value(json_object_get(parameters, "k")), "3");
        json_decref(measured);
    }
    json_decref(summary);
}

/* The seconds in a report cell such as "0.188 s" or "95.2 ms". */
static double cell_seconds(const char *cell)
{
    double value;
    char unit[8];
    if (sscanf(cell, "%lf %7s", &value, unit) != 2)
        fail_msg("not a time: %.20s", cell);
    if (strcmp(unit, "s") == 0)
        return value;
    if (strcmp(unit, "ms") == 0)
        return value / 1e3;
    if (strcmp(unit, "µs") == 0)
        return value / 1e6;
    fail_msg("unknown unit in %.20s", cell);
    return 0;
}

/* The row "| <variant> | <median> | <stddev> | <speedup>× | ..." of the
 * report: its median in seconds and its speedup. */
static void report_row(const char *report, const char *variant, double *median, double *speedup)
{
    char start[64];
    snprintf(start, sizeof start, "\n| %s | ", variant);
    const char *row = strstr(report, start);
    if (row == NULL)
        fail_msg("REPORT.md has no row for %s", variant);
    row += strlen(start);
    *median = cell_seconds(row);
    const char *cell = strchr(strchr(row, '|') + 1, '|');  /* past median and stddev */
    assert_non_null(cell);
    if (sscanf(cell + 1, " %lf", speedup) != 1)
        fail_msg("no speedup in the %s row", variant);
}

/* The report says what the JSON beside it says: each variant's median as
 * hyperfine measured it, the speedup as the ratio of those medians, and
 * charts that are SVG drawings of this run (the timeline names its tasks). */
static void the_report_was_rendered(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/REPORT.md", out_dir);
    char *report = test_read_file(path);
    assert_non_null(report);
    test_assert_contains(report, "\n## slow_api\n");
    json_t *measured = load("slow_api.json");
    json_t *results = json_object_get(measured, "results");
    double sync_median = json_number_value(json_object_get(json_array_get(results, 0), "median"));
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_t *result = json_array_get(results, i);
        double json_median = json_number_value(json_object_get(result, "median"));
        double median, speedup;
        report_row(report, json_string_value(json_object_get(result, "command")), &median,
                   &speedup);
        /* Printed to three significant digits: within 1 % of the JSON. */
        assert_true(fabs(median - json_median) <= 0.01 * json_median);
        assert_true(fabs(speedup - sync_median / json_median) <= 0.01 + 0.01 * speedup);
    }
    json_decref(measured);

    const char *charts[] = { "charts/slow_api.svg", "charts/timeline-slow_api-sync.svg",
                             "charts/timeline-slow_api-async.svg", "charts/sweep.svg" };
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++) {
        char link[96];
        snprintf(link, sizeof link, "](%s)", charts[i]);
        test_assert_contains(report, link);  /* the report shows it */
        snprintf(path, sizeof path, "%s/%s", out_dir, charts[i]);
        char *svg = test_read_file(path);
        assert_non_null(svg);
        test_assert_contains(svg, "<svg");
        if (strstr(charts[i], "timeline-") != NULL) {
            test_assert_contains(svg, ">R1<");
            test_assert_contains(svg, ">R2<");
            test_assert_contains(svg, ">R3<");
        }
        free(svg);
    }
    free(report);
    test_assert_contains(smoke.out, "Suite wall time: ");
}

static void the_server_is_stopped_afterwards(void **state)
{
    (void)state;
    assert_false(something_listens_on(started_server_port(smoke.out)));
}

static void ctrl_c_stops_the_run_and_its_server(void **state)
{
    (void)state;
    char interrupted_dir[64];
    snprintf(interrupted_dir, sizeof interrupted_dir, "/tmp/asynclab-bench-int-XXXXXX");
    assert_non_null(mkdtemp(interrupted_dir));
    /* Scale 1: the sync program's 17 s are far longer than this test. */
    const char *argv[] = { test_bin("bench"), "--scenario", "slow_api", "--scale", "1",
                           "--runs", "2", "--warmup", "0", "--sweep-ks", "none",
                           "--out", interrupted_dir, NULL };
    /* Its own process group, as a shell gives a job: Ctrl+C reaches every
     * process in it (bench, hyperfine, the program, slowserver). */
    int output_fd;
    pid_t pid = test_start_job(argv, &output_fd);
    assert_true(pid > 0);

    static char output[65536];
    output[0] = '\0';
    bool benchmarking = test_read_until(output_fd, output, sizeof output, "Benchmark 1", 30.0);
    kill(-pid, SIGINT);
    /* Drain the pipe until bench and everything it started have closed it. */
    test_read_until(output_fd, output, sizeof output, "\x01never\x01", 30.0);
    close(output_fd);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!benchmarking)
        fail_msg("bench never started hyperfine:\n%s", output);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 130);
    test_assert_contains(output, "bench: interrupted; the servers it started are stopped");
    assert_false(something_listens_on(started_server_port(output)));
    /* An interrupted run leaves no summary behind to be mistaken for a result. */
    char path[128];
    snprintf(path, sizeof path, "%s/summary.json", interrupted_dir);
    struct stat info;
    assert_int_not_equal(stat(path, &info), 0);
    test_remove_tree(interrupted_dir);
}

static void bad_flags_are_exit_1_with_one_line(void **state)
{
    (void)state;
    const char *cases[][3] = {
        { "--runs", "0", NULL }, { "--scale", "slow", NULL }, { "--scenario", "nope", NULL },
        { "--sweep-ks", "1,x", NULL }, { "--out", "a dir", NULL }, { "--bogus", NULL, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[] = { test_bin("bench"), cases[i][0], cases[i][1], NULL };
        struct test_process_result result;
        assert_int_equal(test_run(argv, RUN_TIMEOUT_S, &result), 0);
        assert_int_equal(result.exit_status, 1);
        /* One line; the unknown scenario's names the known ones. */
        test_assert_one_line(result.err);
        if (strcmp(cases[i][0], "--scenario") == 0)
            test_assert_contains(result.err, "(one of: slow_api,");
        test_process_result_free(&result);
    }
}

int main(void)
{
    const struct CMUnitTest smoke_tests[] = {
        cmocka_unit_test(every_variant_was_measured_and_predicted),
        cmocka_unit_test(hyperfine_markdown_and_csv_sit_beside_its_json),
        cmocka_unit_test(the_kept_traces_are_real_runs_of_each_variant),
        cmocka_unit_test(the_sweep_measured_each_k),
        cmocka_unit_test(the_report_was_rendered),
        cmocka_unit_test(the_server_is_stopped_afterwards),
    };
    const struct CMUnitTest other_tests[] = {
        cmocka_unit_test(ctrl_c_stops_the_run_and_its_server),
        cmocka_unit_test(bad_flags_are_exit_1_with_one_line),
    };
    int failed = cmocka_run_group_tests_name("bench smoke run", smoke_tests, run_bench_once,
                                             clean_up);
    return failed + cmocka_run_group_tests_name("bench", other_tests, NULL, NULL);
}
