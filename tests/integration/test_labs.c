/*
 * Integration tests: the labs (docs/labs/README.md) - `make lab` writes a
 * workspace whose starter builds cleanly, and the grader gives each
 * submission exactly the points it deserves: the lesson's own async.c all
 * of them, the starter the correctness points and no concurrency, and every
 * deliberately wrong submission of tests/fixtures/labs/ exactly what its
 * fixture expects, with the reason printed.
 *
 * The submissions are graded the way a teacher grades a class: one
 * grade_all run over a folder, so grade-all's CSV and JSON are tested too.
 * That run skips valgrind (slow); a second one grades the reference and the
 * leaking submission with it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checks.h"
#include "files.h"
#include "process.h"

#define LAB "slow_api"
#define SEED "5"
#define LESSON ASYNCLAB_SOURCE_DIR "/scenarios/" LAB "/async.c"
#define FIXTURES ASYNCLAB_SOURCE_DIR "/tests/fixtures/labs/" LAB
/* Grading a folder takes a while (the starter alone sends its requests
 * one at a time); the grader bounds every run it makes. */
#define GRADE_ALL_TIMEOUT_S 400.0

static char scratch[64];
static json_t *grades;          /* the folder graded without valgrind */
static json_t *memcheck_grades; /* reference and leaks_handles, with valgrind */

/* ---------------------------------------------------------------- files */

static char *read_text(const char *path)
{
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return NULL;
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    rewind(file);
    char *text = malloc((size_t)size + 1);
    if (text != NULL) {
        size_t got = fread(text, 1, (size_t)size, file);
        text[got] = '\0';
    }
    fclose(file);
    return text;
}

static int write_text(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    if (file == NULL)
        return -1;
    fputs(text, file);
    return fclose(file);
}

/* Replaces the one occurrence of `find` in *text with `replace`; -1 if
 * it does not occur exactly once (the fixture no longer fits the lesson). */
static int replace_once(char **text, const char *find, const char *replace)
{
    char *at = strstr(*text, find);
    if (at == NULL || strstr(at + 1, find) != NULL)
        return -1;
    size_t before = (size_t)(at - *text), find_length = strlen(find);
    size_t replace_length = strlen(replace), rest = strlen(at + find_length);
    char *edited = malloc(before + replace_length + rest + 1);
    if (edited == NULL)
        return -1;
    memcpy(edited, *text, before);
    memcpy(edited + before, replace, replace_length);
    memcpy(edited + before + replace_length, at + find_length, rest + 1);
    free(*text);
    *text = edited;
    return 0;
}

/* Applies a fixture's "@@ find / @@ replace / @@ end" blocks to source. */
static int apply_edit(char **source, const char *edit)
{
    char find[4096] = "", replace[4096] = "";
    char *mode = NULL;
    const char *line = edit;
    while (*line != '\0') {
        const char *end = strchr(line, '\n');
        size_t length = end ? (size_t)(end - line) + 1 : strlen(line);
        if (strncmp(line, "@@ find\n", 8) == 0) {
            find[0] = replace[0] = '\0';
            mode = find;
        } else if (strncmp(line, "@@ replace\n", 11) == 0) {
            mode = replace;
        } else if (strncmp(line, "@@ end\n", 7) == 0) {
            if (replace_once(source, find, replace) != 0) {
                fprintf(stderr, "fixture no longer matches async.c:\n%s", find);
                return -1;
            }
            mode = NULL;
        } else if (mode != NULL && strlen(mode) + length < sizeof find) {
            strncat(mode, line, length);
        }
        line += length;
    }
    return 0;
}

static const char *const WRONG[] = {
    "serial_loop", "busy_wait", "ignores_concurrency", "leaks_handles",
    "blocks_in_callback", "hardcoded_output", "never_returns",
};
#define WRONG_COUNT (sizeof WRONG / sizeof WRONG[0])

static int write_wrong_submission(const char *folder, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, FIXTURES "/%s.edit", name);
    char *edit = read_text(path);
    char *source = read_text(LESSON);
    int status = edit && source ? apply_edit(&source, edit) : -1;
    snprintf(path, sizeof path, "%s/%s.c", folder, name);
    if (status == 0)
        status = write_text(path, source);
    free(edit);
    free(source);
    return status;
}

static int copy_file(const char *from, const char *to)
{
    char *text = read_text(from);
    int status = text ? write_text(to, text) : -1;
    free(text);
    return status;
}

/* ---------------------------------------------------------------- runs */

static struct test_process_result run_shell(const char *command)
{
    const char *argv[] = { "/bin/sh", "-c", command, NULL };
    struct test_process_result result;
    assert_int_equal(test_run(argv, GRADE_ALL_TIMEOUT_S, &result), 0);
    return result;
}

static int make_workspace(const char *dir, const char *force)
{
    char command[1024];
    snprintf(command, sizeof command, "cd '%s' && scripts/make-lab.sh %s '%s' '%s' '%s'",
             ASYNCLAB_SOURCE_DIR, LAB, dir, force, ASYNCLAB_BIN_DIR);
    const char *argv[] = { "/bin/sh", "-c", command, NULL };
    struct test_process_result result;
    if (test_run(argv, 120.0, &result) != 0)
        return -1;
    int status = result.exit_status;
    if (status != 0)
        fprintf(stderr, "%s%s", result.out, result.err);
    test_process_result_free(&result);
    return status;
}

/* grade_all over `folder`; the JSON table it wrote, or NULL. */
static json_t *grade_folder(const char *folder, const char *out, bool memcheck)
{
    const char *argv[] = { test_bin("grade_all"), "--lab", LAB, "--submissions", folder,
                           "--seed", SEED, "--jobs", "2", "--out", out,
                           memcheck ? NULL : "--no-memcheck", NULL };
    struct test_process_result result;
    if (test_run(argv, GRADE_ALL_TIMEOUT_S, &result) != 0)
        return NULL;
    printf("%s", result.out);
    test_process_result_free(&result);
    char path[256];
    snprintf(path, sizeof path, "%s.json", out);
    return json_load_file(path, 0, NULL);
}

static int setup(void **state)
{
    (void)state;
    snprintf(scratch, sizeof scratch, "/tmp/asynclab-labs-%d", (int)getpid());
    char folder[128], workspace[128], starter[160], out[128];
    snprintf(folder, sizeof folder, "%s/submissions", scratch);
    snprintf(workspace, sizeof workspace, "%s/workspace", scratch);
    if (mkdir(scratch, 0700) != 0 || mkdir(folder, 0700) != 0)
        return -1;
    if (make_workspace(workspace, "") != 0)
        return -1;
    snprintf(starter, sizeof starter, "%s/starter.c", folder);
    char reference[160];
    snprintf(reference, sizeof reference, "%s/reference.c", folder);
    char workspace_source[160];
    snprintf(workspace_source, sizeof workspace_source, "%s/async.c", workspace);
    if (copy_file(workspace_source, starter) != 0 || copy_file(LESSON, reference) != 0)
        return -1;
    for (size_t i = 0; i < WRONG_COUNT; i++)
        if (write_wrong_submission(folder, WRONG[i]) != 0)
            return -1;
    snprintf(out, sizeof out, "%s/grades", scratch);
    grades = grade_folder(folder, out, false);

    /* The valgrind pair: the reference and the leak. */
    snprintf(folder, sizeof folder, "%s/memcheck", scratch);
    snprintf(reference, sizeof reference, "%s/reference.c", folder);
    if (mkdir(folder, 0700) != 0 || copy_file(LESSON, reference) != 0
        || write_wrong_submission(folder, "leaks_handles") != 0)
        return -1;
    snprintf(out, sizeof out, "%s/memcheck-grades", scratch);
    memcheck_grades = grade_folder(folder, out, true);
    return grades != NULL && memcheck_grades != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(grades);
    json_decref(memcheck_grades);
    return test_remove_tree(scratch);
}

/* ---------------------------------------------------------------- checks */

static json_t *grade_of(json_t *table, const char *name)
{
    char file[128];
    snprintf(file, sizeof file, "%s.c", name);
    size_t index;
    json_t *row;
    json_array_foreach(json_object_get(table, "submissions"), index, row)
        if (strcmp(json_string_value(json_object_get(row, "submission")), file) == 0)
            return row;
    fail_msg("no grade for %s", file);
    return NULL;
}

static int points(json_t *grade, const char *category)
{
    json_t *entry = json_object_get(json_object_get(grade, "categories"), category);
    assert_non_null(entry);
    return (int)json_integer_value(json_object_get(entry, "points"));
}

static int most(json_t *grade, const char *category)
{
    json_t *entry = json_object_get(json_object_get(grade, "categories"), category);
    return (int)json_integer_value(json_object_get(entry, "max"));
}

/* The reasons of every check, one per line, for assert_contains. */
static char *reasons(json_t *grade)
{
    size_t size = 1, index;
    json_t *check;
    json_array_foreach(json_object_get(grade, "checks"), index, check)
        size += strlen(json_string_value(json_object_get(check, "reason"))) + 1;
    char *text = calloc(size, 1);
    json_array_foreach(json_object_get(grade, "checks"), index, check) {
        strcat(text, json_string_value(json_object_get(check, "reason")));
        strcat(text, "\n");
    }
    return text;
}

/* Every "expect CATEGORY POINTS" and "reason TEXT" line of the fixture. */
static void assert_fixture_grade(json_t *table, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, FIXTURES "/%s.edit", name);
    char *edit = read_text(path);
    assert_non_null(edit);
    json_t *grade = grade_of(table, name);
    char *why = reasons(grade);
    int expectations = 0;
    for (char *line = strtok(edit, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char category[32];
        int want;
        if (sscanf(line, "expect %31s %d", category, &want) == 2) {
            if (strcmp(category, "memory") == 0 && most(grade, "memory") == 0)
                continue;  /* valgrind skipped in this run */
            if (points(grade, category) != want)
                fail_msg("%s: %s %d, expected %d; reasons:\n%s", name, category,
                         points(grade, category), want, why);
            expectations++;
        } else if (strncmp(line, "reason ", 7) == 0) {
            test_assert_contains(why, line + 7);
            expectations++;
        }
    }
    assert_true(expectations >= 5);
    free(why);
    free(edit);
}

static void test_reference_scores_100(void **state)
{
    (void)state;
    json_t *grade = grade_of(memcheck_grades, "reference");
    for (const char *const *category = (const char *const[]){ "correctness", "concurrency",
             "efficiency", "robustness", "memory", NULL }; *category; category++) {
        assert_true(most(grade, *category) > 0);
        assert_int_equal(points(grade, *category), most(grade, *category));
    }
    assert_int_equal(json_integer_value(json_object_get(grade, "total")), 100);
}

static void test_starter_gets_correctness_and_no_concurrency(void **state)
{
    (void)state;
    json_t *grade = grade_of(grades, "starter");
    assert_int_equal(points(grade, "correctness"), most(grade, "correctness"));
    assert_int_equal(points(grade, "concurrency"), 0);
    char *why = reasons(grade);
    test_assert_contains(why, "they were not all overlapped");
    free(why);
}

static void test_starter_builds_without_warnings(void **state)
{
    (void)state;
    char command[512];
    snprintf(command, sizeof command, "make -s -C '%s/workspace' 2>&1", scratch);
    struct test_process_result result = run_shell(command);
    assert_int_equal(result.exit_status, 0);
    assert_null(strstr(result.out, "warning"));
    test_process_result_free(&result);
}

#define WRONG_TEST(name) \
    static void test_wrong_##name(void **state) { (void)state; assert_fixture_grade(grades, #name); }
WRONG_TEST(serial_loop)
WRONG_TEST(busy_wait)
WRONG_TEST(ignores_concurrency)
WRONG_TEST(blocks_in_callback)
WRONG_TEST(hardcoded_output)
WRONG_TEST(never_returns)

static void test_wrong_leaks_handles(void **state)
{
    (void)state;
    assert_fixture_grade(memcheck_grades, "leaks_handles");
}

static void test_grade_all_writes_csv(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/grades.csv", scratch);
    char *csv = read_text(path);
    assert_non_null(csv);
    test_assert_contains(csv, "submission,total,correctness,concurrency,efficiency,"
                              "robustness,memory,seed,problem\n");
    test_assert_contains(csv, "\"hardcoded_output.c\",");
    int rows = 0;
    for (const char *c = csv; *c; c++)
        rows += *c == '\n';
    assert_int_equal(rows, 1 + 2 + (int)WRONG_COUNT);
    free(csv);
}

static void test_make_lab_keeps_existing_work(void **state)
{
    (void)state;
    char workspace[128];
    snprintf(workspace, sizeof workspace, "%s/workspace", scratch);
    assert_int_not_equal(make_workspace(workspace, ""), 0);
    assert_int_equal(make_workspace(workspace, "1"), 0);
    assert_int_not_equal(make_workspace("build/lab-in-build", "1"), 0);
}

static void test_grader_rejects_bad_input(void **state)
{
    (void)state;
    const char *no_lab[] = { test_bin("grade"), "--lab", "nope", "--src", LESSON, NULL };
    struct test_process_result result;
    assert_int_equal(test_run(no_lab, 30.0, &result), 0);
    assert_int_equal(result.exit_status, 1);
    test_assert_one_line(result.err);
    test_process_result_free(&result);

    const char *missing[] = { test_bin("grade"), "--lab", LAB, "--src", "/nonexistent.c", NULL };
    assert_int_equal(test_run(missing, 30.0, &result), 0);
    assert_int_equal(result.exit_status, 2);
    test_assert_one_line(result.err);
    test_process_result_free(&result);
}

/* --seed N: the same problem for the same N, another for another N. */
static void test_seed_draws_the_work(void **state)
{
    (void)state;
    char first[128] = "", again[128] = "", other[128] = "";
    char *outputs[] = { first, again, other };
    const char *seeds[] = { "1", "1", "2" };
    for (int i = 0; i < 3; i++) {
        const char *argv[] = { test_bin("slow_api_sync"), "--seed", seeds[i], "--predict", NULL };
        struct test_process_result result;
        assert_int_equal(test_run(argv, 30.0, &result), 0);
        assert_int_equal(result.exit_status, 0);
        snprintf(outputs[i], 128, "%s", result.out);
        test_process_result_free(&result);
    }
    assert_string_equal(first, again);
    assert_string_not_equal(first, other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_scores_100),
        cmocka_unit_test(test_starter_gets_correctness_and_no_concurrency),
        cmocka_unit_test(test_starter_builds_without_warnings),
        cmocka_unit_test(test_wrong_serial_loop),
        cmocka_unit_test(test_wrong_busy_wait),
        cmocka_unit_test(test_wrong_ignores_concurrency),
        cmocka_unit_test(test_wrong_leaks_handles),
        cmocka_unit_test(test_wrong_blocks_in_callback),
        cmocka_unit_test(test_wrong_hardcoded_output),
        cmocka_unit_test(test_wrong_never_returns),
        cmocka_unit_test(test_grade_all_writes_csv),
        cmocka_unit_test(test_make_lab_keeps_existing_work),
        cmocka_unit_test(test_grader_rejects_bad_input),
        cmocka_unit_test(test_seed_draws_the_work),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
