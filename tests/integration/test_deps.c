/*
 * Integration tests: scripts/deps.sh, behind `make deps` and the first line
 * of every make target, and the value checks make runs before it builds.
 *
 * deps.sh runs against stand-in apt-get, dpkg-query and id commands put
 * first on PATH (small shell scripts this file writes), so nothing is
 * installed: the stand-in dpkg-query says every package is missing, and the
 * stand-in apt-get records what it was asked for, prints a screenful of
 * noise and fails for the one package named in FAKE_APT_BROKEN.
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

#define DEPS_SH ASYNCLAB_SOURCE_DIR "/scripts/deps.sh"

static char fake_dir[64];
static char asked_file[128];   /* what the stand-in apt-get was asked, one call a line */
static char log_file[128];

static void write_script(const char *name, const char *body)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", fake_dir, name);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fprintf(file, "#!/bin/sh\n%s", body);
    fclose(file);
    assert_int_equal(chmod(path, 0755), 0);
}

static int make_fake_tools(void **state)
{
    (void)state;
    snprintf(fake_dir, sizeof fake_dir, "/tmp/asynclab-deps-XXXXXX");
    if (mkdtemp(fake_dir) == NULL)
        return -1;
    snprintf(asked_file, sizeof asked_file, "%s/asked", fake_dir);
    snprintf(log_file, sizeof log_file, "%s/deps.log", fake_dir);
    write_script("dpkg-query", "echo 'unknown ok not-installed'\n");
    write_script("id", "echo 0\n");
    write_script("apt-get",
                 "echo \"$*\" >> \"$FAKE_APT_ASKED\"\n"
                 "i=0; while [ $i -lt 40 ]; do echo \"Unpacking noise $i ...\"; i=$((i+1)); done\n"
                 "for a; do [ \"$a\" = \"$FAKE_APT_BROKEN\" ] && "
                 "{ echo \"E: Unable to locate package $a\" >&2; exit 100; }; done\n"
                 "exit 0\n");
    char path[4096];
    snprintf(path, sizeof path, "%s:%s", fake_dir, getenv("PATH"));
    setenv("PATH", path, 1);
    setenv("FAKE_APT_ASKED", asked_file, 1);
    setenv("DEPS_LOG", log_file, 1);
    return 0;
}

static int remove_fake_tools(void **state)
{
    (void)state;
    return test_remove_tree(fake_dir);
}

/* Runs deps.sh with the given needs (NULL-terminated), the stand-in apt-get
 * failing for broken (or for nothing). */
static struct test_process_result run_deps(const char *broken, const char *const *needs)
{
    unlink(asked_file);
    setenv("FAKE_APT_BROKEN", broken ? broken : "", 1);
    const char *argv[16] = { "/bin/sh", DEPS_SH };
    size_t argc = 2;
    for (; *needs != NULL; needs++)
        argv[argc++] = *needs;
    argv[argc] = NULL;
    struct test_process_result result;
    assert_int_equal(test_run(argv, TEST_RUN_TIMEOUT_S, &result), 0);
    assert_false(result.timed_out);
    return result;
}

static char *read_asked(void)
{
    FILE *file = fopen(asked_file, "r");
    static char text[4096];
    text[0] = '\0';
    if (file != NULL) {
        size_t n = fread(text, 1, sizeof text - 1, file);
        text[n] = '\0';
        fclose(file);
    }
    return text;
}

static size_t count_lines(const char *text)
{
    size_t lines = 0;
    for (; *text; text++)
        lines += *text == '\n';
    return lines;
}

/* A lesson needs only the libraries it links: none of the tests', the
 * benchmark's or the load generator's packages. */
static void the_build_need_installs_only_the_libraries(void **state)
{
    (void)state;
    struct test_process_result result = run_deps(NULL, (const char *[]){ "build", NULL });
    assert_int_equal(result.exit_status, 0);
    const char *asked = read_asked();
    test_assert_contains(asked, "install -y --no-install-recommends build-essential pkg-config "
                                "libcurl4-openssl-dev libmicrohttpd-dev");
    for (const char **other = (const char *[]){ "libcmocka-dev", "valgrind", "hyperfine",
                                                "gnuplot-nox", "wrk", NULL }; *other; other++)
        if (strstr(asked, *other) != NULL)
            fail_msg("deps.sh build asked apt-get for %s:\n%s", *other, asked);
    test_process_result_free(&result);
}

/* One line per step, apt-get's noise only in the log the lines name. */
static void it_prints_one_line_per_step_and_logs_the_rest(void **state)
{
    (void)state;
    struct test_process_result result = run_deps(NULL, (const char *[]){ "scale", NULL });
    assert_int_equal(result.exit_status, 0);
    assert_int_equal(count_lines(result.out), 2);
    test_assert_contains(result.out, "deps: updating the package lists");
    test_assert_contains(result.out, log_file);
    test_assert_contains(result.out, "deps: installing wrk ... done\n");
    assert_string_equal(result.err, "");
    assert_null(strstr(result.out, "noise"));
    char *log = test_read_file(log_file);
    test_assert_contains(log, "Unpacking noise 39");
    free(log);
    test_process_result_free(&result);
}

static void a_failed_install_names_the_package_and_the_log(void **state)
{
    (void)state;
    struct test_process_result result = run_deps("gnuplot-nox", (const char *[]){ "bench", NULL });
    assert_int_equal(result.exit_status, 1);
    test_assert_contains(result.out, "... failed\n");
    test_assert_one_line(result.err);
    test_assert_contains(result.err, "could not install gnuplot-nox;");
    assert_null(strstr(result.err, "hyperfine"));
    test_assert_contains(result.err, log_file);
    test_process_result_free(&result);
}

static void an_unknown_need_is_refused_in_one_line(void **state)
{
    (void)state;
    struct test_process_result result = run_deps(NULL, (const char *[]){ "bulid", NULL });
    assert_int_equal(result.exit_status, 2);
    test_assert_one_line(result.err);
    test_assert_contains(result.err, "unknown need 'bulid'");
    assert_string_equal(read_asked(), "");
    test_process_result_free(&result);
}

/* `make run-scenario SCALE=abc` stops before it builds anything: the
 * programs would land in a scratch BIN/OBJ, which must stay absent. */
static void make_refuses_a_bad_scale_before_building(void **state)
{
    (void)state;
    char bin[160], obj[160], bin_arg[200], obj_arg[200];
    snprintf(bin, sizeof bin, "%s/bin", fake_dir);
    snprintf(obj, sizeof obj, "%s/obj", fake_dir);
    snprintf(bin_arg, sizeof bin_arg, "BIN=%s", bin);
    snprintf(obj_arg, sizeof obj_arg, "OBJ=%s", obj);
    const char *argv[] = { "/usr/bin/make", "--no-print-directory", "-C", ASYNCLAB_SOURCE_DIR,
                           "run-scenario", "SCENARIO=database", "SCALE=abc",
                           bin_arg, obj_arg, NULL };
    struct test_process_result result;
    assert_int_equal(test_run(argv, TEST_RUN_TIMEOUT_S, &result), 0);
    assert_int_not_equal(result.exit_status, 0);
    test_assert_contains(result.err, "SCALE=abc is not a valid value");
    assert_int_not_equal(access(bin, F_OK), 0);
    assert_int_not_equal(access(obj, F_OK), 0);
    test_process_result_free(&result);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_build_need_installs_only_the_libraries),
        cmocka_unit_test(it_prints_one_line_per_step_and_logs_the_rest),
        cmocka_unit_test(a_failed_install_names_the_package_and_the_log),
        cmocka_unit_test(an_unknown_need_is_refused_in_one_line),
        cmocka_unit_test(make_refuses_a_bad_scale_before_building),
    };
    return cmocka_run_group_tests(tests, make_fake_tools, remove_fake_tools);
}
