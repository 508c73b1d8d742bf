/*
 * Integration tests: the harness when its run is cut short or its files
 * are being replaced.
 *
 * - A bench killed with SIGKILL (no handler runs) must not leave its
 *   slowservers and hyperfine running: they die with it.
 * - A bench interrupted after one scenario was measured must leave the old
 *   results exactly as they were: it writes into a fresh directory.
 * - A complete run, and report, replace each file with a new one (rename)
 *   instead of rewriting it in place, so no reader ever sees half a file.
 *   Proven structurally with hard links: a file rewritten in place changes
 *   under every name it has; a file replaced by rename leaves the old
 *   inode, and so the other name, as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checks.h"
#include "files.h"
#include "process.h"

#define OLD "old results\n"
#define JOB_TIMEOUT_S 60.0

struct scratch {
    char root[64];        /* /tmp/asynclab-bench-faults-XXXXXX */
    char results[128];    /* root/results: what bench --out is given */
};

static void scratch_make(struct scratch *scratch)
{
    snprintf(scratch->root, sizeof scratch->root, "/tmp/asynclab-bench-faults-XXXXXX");
    assert_non_null(mkdtemp(scratch->root));
    snprintf(scratch->results, sizeof scratch->results, "%s/results", scratch->root);
    char traces[160];
    snprintf(traces, sizeof traces, "%s/traces", scratch->results);
    assert_int_equal(mkdir(scratch->results, 0755), 0);
    assert_int_equal(mkdir(traces, 0755), 0);
}

static void path_in(char *path, size_t size, const char *dir, const char *name)
{
    snprintf(path, size, "%s/%s", dir, name);
}

/* Writes OLD into results/<name> and hard-links it as root/witness-N, so
 * the test can tell a rewrite in place from a replacement. */
static void seed_old_file(const struct scratch *scratch, const char *name, int witness)
{
    char path[256], link_path[256], link_name[32];
    path_in(path, sizeof path, scratch->results, name);
    test_write_file(path, OLD);
    snprintf(link_name, sizeof link_name, "witness-%d", witness);
    path_in(link_path, sizeof link_path, scratch->root, link_name);
    assert_int_equal(link(path, link_path), 0);
}

/* The files of a slow_api run that a new run would replace. */
static const char *const RUN_FILES[] = { "summary.json", "slow_api.json",
                                         "traces/slow_api-sync.json" };
#define RUN_FILE_COUNT 3

static void seed_old_run(const struct scratch *scratch)
{
    for (int i = 0; i < RUN_FILE_COUNT; i++)
        seed_old_file(scratch, RUN_FILES[i], i);
}

static void assert_file_is(const char *dir, const char *name, const char *want)
{
    char path[256];
    path_in(path, sizeof path, dir, name);
    char *text = test_read_file(path);
    if (text == NULL || strcmp(text, want) != 0)
        fail_msg("%s: expected \"%s\", found \"%.200s\"", path, want, text ? text : "(none)");
    free(text);
}

static void assert_file_contains(const char *dir, const char *name, const char *needle)
{
    char path[256];
    path_in(path, sizeof path, dir, name);
    char *text = test_read_file(path);
    test_assert_contains(text, needle);
    free(text);
}

static void assert_witnesses_untouched(const struct scratch *scratch, int count)
{
    for (int i = 0; i < count; i++) {
        char name[32];
        snprintf(name, sizeof name, "witness-%d", i);
        assert_file_is(scratch->root, name, OLD);
    }
}

/* No staging directory may be left behind in results/. */
static void assert_no_leftovers(const char *dir)
{
    DIR *listing = opendir(dir);
    assert_non_null(listing);
    struct dirent *entry;
    while ((entry = readdir(listing)) != NULL)
        if (entry->d_name[0] == '.' && strcmp(entry->d_name, ".") != 0
            && strcmp(entry->d_name, "..") != 0)
            fail_msg("left behind in %s: %s", dir, entry->d_name);
    closedir(listing);
}

/* Starts bench as a job and waits for marker in its output. */
static pid_t start_bench(const char *const argv[], int *output_fd, char *output, size_t size,
                         const char *marker)
{
    pid_t pid = test_start_job(argv, output_fd);
    assert_true(pid > 0);
    output[0] = '\0';
    if (!test_read_until(*output_fd, output, size, marker, JOB_TIMEOUT_S)) {
        kill(-pid, SIGKILL);
        fail_msg("bench never printed \"%s\":\n%s", marker, output);
    }
    return pid;
}

/* bench on slow_api at scale 1, a run far longer than the test, once
 * hyperfine has begun timing. */
static pid_t start_long_bench(const struct scratch *scratch, int *output_fd)
{
    const char *argv[] = { test_bin("bench"), "--scenario", "slow_api", "--scale", "1",
                           "--runs", "2", "--warmup", "0", "--sweep-ks", "none",
                           "--out", scratch->results, NULL };
    static char output[65536];
    return start_bench(argv, output_fd, output, sizeof output, "Benchmark 1");
}

static void killed_bench_leaves_nothing_running(void **state)
{
    (void)state;
    struct scratch scratch;
    scratch_make(&scratch);
    int output_fd;
    pid_t pid = start_long_bench(&scratch, &output_fd);
    kill(pid, SIGKILL);  /* bench alone, as the OOM killer would */
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    /* Its slowserver and hyperfine get SIGTERM from the kernel; the client
     * hyperfine was running then fails at once against the stopped server. */
    int left = test_wait_group_gone(pid, 20.0);
    kill(-pid, SIGKILL);  /* whatever is left, so a failure cleans up too */
    close(output_fd);
    test_wait_group_gone(pid, 5.0);
    test_remove_tree(scratch.root);
    if (left > 0)
        fail_msg("%d of bench's processes still running after it was killed", left);
}

/* A SIGTERM to bench alone (a `kill PID`, not the terminal's Ctrl+C, which
 * reaches the whole group) is passed on to the hyperfine it is running
 * (launch_run_forwarding): bench ends at once, with 130, instead of waiting
 * out a run at scale 1 that takes far longer than this test. */
static void terminated_bench_passes_it_on(void **state)
{
    (void)state;
    struct scratch scratch;
    scratch_make(&scratch);
    int output_fd;
    pid_t pid = start_long_bench(&scratch, &output_fd);
    kill(pid, SIGTERM);
    int left = test_wait_group_gone(pid, 20.0);
    kill(-pid, SIGKILL);  /* whatever is left, so a failure cleans up too */
    close(output_fd);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    test_remove_tree(scratch.root);
    if (left > 0)
        fail_msg("%d of bench's processes still running 20 s after a SIGTERM to bench", left);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 130);
}

static void interrupted_bench_leaves_the_old_results(void **state)
{
    (void)state;
    struct scratch scratch;
    scratch_make(&scratch);
    seed_old_run(&scratch);
    /* slow_api is measured in a second or two; the interrupt comes during
     * the next scenario, after slow_api's files were written. */
    const char *argv[] = { test_bin("bench"), "--scale", "0.01", "--runs", "2", "--warmup", "0",
                           "--sweep-ks", "none", "--out", scratch.results, NULL };
    static char output[65536];
    int output_fd;
    pid_t pid = start_bench(argv, &output_fd, output, sizeof output, "== blocking_pitfall");
    kill(-pid, SIGINT);
    test_read_until(output_fd, output, sizeof output, "\x01never\x01", JOB_TIMEOUT_S);
    close(output_fd);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 130);
    for (int i = 0; i < RUN_FILE_COUNT; i++)
        assert_file_is(scratch.results, RUN_FILES[i], OLD);
    assert_no_leftovers(scratch.results);
    test_remove_tree(scratch.root);
}

static void a_complete_run_replaces_its_files(void **state)
{
    (void)state;
    struct scratch scratch;
    scratch_make(&scratch);
    seed_old_run(&scratch);
    seed_old_file(&scratch, "REPORT.md", RUN_FILE_COUNT);
    const char *args[] = { "--scenario", "slow_api", "--scale", "0.01", "--runs", "2",
                           "--warmup", "0", "--sweep-ks", "none", "--out", scratch.results, NULL };
    struct test_process_result result = test_run_program("bench", args);
    if (result.exit_status != 0)
        fail_msg("bench exited %d:\n%s%s", result.exit_status, result.out, result.err);
    test_process_result_free(&result);
    assert_witnesses_untouched(&scratch, RUN_FILE_COUNT + 1);
    char path[256];
    path_in(path, sizeof path, scratch.results, "summary.json");
    char *summary = test_read_file(path);
    test_assert_contains(summary, "\"asynclab_results\"");
    /* The commands name the traces where they ended up. */
    test_assert_contains(summary, "--trace /tmp/asynclab-bench-faults-");
    assert_null(strstr(summary, ".incomplete-"));
    free(summary);
    assert_file_contains(scratch.results, "traces/slow_api-sync.json", "traceEvents");
    assert_no_leftovers(scratch.results);
    assert_no_leftovers(scratch.root);
    test_remove_tree(scratch.root);
}

static void report_replaces_report_md(void **state)
{
    (void)state;
    struct scratch scratch;
    scratch_make(&scratch);
    seed_old_file(&scratch, "REPORT.md", 0);
    const char *args[] = { "tests/fixtures/report", "--out", scratch.results, NULL };
    struct test_process_result result = test_run_program("report", args);
    assert_int_equal(result.exit_status, 0);
    test_process_result_free(&result);
    assert_witnesses_untouched(&scratch, 1);
    assert_file_contains(scratch.results, "REPORT.md", "# ");
    assert_no_leftovers(scratch.results);
    test_remove_tree(scratch.root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(killed_bench_leaves_nothing_running),
        cmocka_unit_test(terminated_bench_passes_it_on),
        cmocka_unit_test(interrupted_bench_leaves_the_old_results),
        cmocka_unit_test(a_complete_run_replaces_its_files),
        cmocka_unit_test(report_replaces_report_md),
    };
    return cmocka_run_group_tests_name("bench faults", tests, NULL, NULL);
}
