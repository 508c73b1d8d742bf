/*
 * Integration tests: the labs (docs/labs/README.md) - `make lab` writes a
 * workspace whose starter builds cleanly, and the grader gives each
 * submission exactly the points it deserves: the lesson's own async.c all
 * of them, the starter the correctness points and no concurrency, and every
 * deliberately wrong submission of tests/fixtures/labs/ exactly what its
 * fixture expects, with the reason printed.
 *
 * The submissions are graded the way a teacher grades a class: one
 * grade_all run over a folder per lab, so grade-all's CSV and JSON are
 * tested too.  Those runs skip valgrind (slow); one more grades the
 * slow_api reference and the leaking submission with it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checks.h"
#include "files.h"
#include "process.h"

#define SEED "5"
#define SOURCE ASYNCLAB_SOURCE_DIR
/* Grading a folder takes a while (the starter alone sends its requests
 * one at a time); the grader bounds every run it makes. */
#define GRADE_ALL_TIMEOUT_S 400.0

static char scratch[64];

/* One lab's folder of submissions and the grades grade_all gave them. */
struct lab_case {
    const char *lab;
    const char *other_references[2];  /* more lesson files that must score 100 */
    json_t *grades;
    int submissions;                  /* how many the folder held */
};

static struct lab_case slow_api = { "slow_api", { NULL }, NULL, 0 };
static struct lab_case blocking_pitfall = { "blocking_pitfall", { "async_offload.c", NULL },
                                            NULL, 0 };
static struct lab_case database = { "database", { NULL }, NULL, 0 };
static struct lab_case timeouts = { "timeouts", { NULL }, NULL, 0 };
static struct lab_case producer_consumer = { "producer_consumer", { NULL }, NULL, 0 };
static json_t *memcheck_grades; /* slow_api's reference and leaks_handles, with valgrind */

/* ---------------------------------------------------------------- files */

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


static void lesson_path(const char *lab, const char *file, char *path, size_t size)
{
    snprintf(path, size, SOURCE "/scenarios/%s/%s", lab, file);
}

static void fixture_path(const char *lab, const char *name, char *path, size_t size)
{
    snprintf(path, size, SOURCE "/tests/fixtures/labs/%s/%s.edit", lab, name);
}

static int write_wrong_submission(const char *lab, const char *folder, const char *name)
{
    char path[256];
    fixture_path(lab, name, path, sizeof path);
    char *edit = test_read_file(path);
    lesson_path(lab, "async.c", path, sizeof path);
    char *source = test_read_file(path);
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
    char *text = test_read_file(from);
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

static int make_workspace(const char *lab, const char *dir, const char *force)
{
    char command[1024];
    snprintf(command, sizeof command, "cd '%s' && scripts/make-lab.sh %s '%s' '%s' '%s'",
             SOURCE, lab, dir, force, ASYNCLAB_BIN_DIR);
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

/* grade_all over several folders at once (lab, folder, output prefix and
 * grade_all's other flags for each: a NULL-terminated list of four-tuples), as
 * one shell running them in the background and waiting for them all:
 * grading mostly waits on slow requests, so they share the cores well. */
static int grade_folders(const char *const *jobs)
{
    char command[4096] = "";
    for (size_t i = 0; jobs[i] != NULL; i += 4) {
        size_t used = strlen(command);
        snprintf(command + used, sizeof command - used,
                 "'%s' --lab %s --submissions '%s' --seed " SEED " --out '%s' %s & ",
                 test_bin("grade_all"), jobs[i], jobs[i + 1], jobs[i + 2], jobs[i + 3]);
    }
    strncat(command, "wait", sizeof command - strlen(command) - 1);
    const char *argv[] = { "/bin/sh", "-c", command, NULL };
    struct test_process_result result;
    if (test_run(argv, GRADE_ALL_TIMEOUT_S, &result) != 0)
        return -1;
    printf("%s", result.out);
    test_process_result_free(&result);
    return 0;
}

static json_t *load_grades(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s-grades.json", scratch, name);
    return json_load_file(path, 0, NULL);
}

/* The lab's folder: its starter (from a workspace `make lab` wrote), the
 * lesson's own program(s), and every fixture's wrong submission. */
static int prepare_lab(struct lab_case *lab_case)
{
    const char *lab = lab_case->lab;
    char folder[128], workspace[128], from[256], to[256];
    snprintf(folder, sizeof folder, "%s/%s", scratch, lab);
    snprintf(workspace, sizeof workspace, "%s/%s-workspace", scratch, lab);
    if (mkdir(folder, 0700) != 0 || make_workspace(lab, workspace, "") != 0)
        return -1;
    snprintf(from, sizeof from, "%s/async.c", workspace);
    snprintf(to, sizeof to, "%s/starter.c", folder);
    lab_case->submissions = 2;
    if (copy_file(from, to) != 0)
        return -1;
    lesson_path(lab, "async.c", from, sizeof from);
    snprintf(to, sizeof to, "%s/reference.c", folder);
    if (copy_file(from, to) != 0)
        return -1;
    for (const char *const *other = lab_case->other_references; *other; other++) {
        lesson_path(lab, *other, from, sizeof from);
        snprintf(to, sizeof to, "%s/reference_%s", folder, *other);
        lab_case->submissions++;
        if (copy_file(from, to) != 0)
            return -1;
    }
    snprintf(from, sizeof from, SOURCE "/tests/fixtures/labs/%s", lab);
    DIR *fixtures = opendir(from);
    struct dirent *entry;
    while (fixtures != NULL && (entry = readdir(fixtures)) != NULL) {
        char name[128];
        size_t length = strlen(entry->d_name);
        if (length < 6 || strcmp(entry->d_name + length - 5, ".edit") != 0)
            continue;
        snprintf(name, sizeof name, "%.*s", (int)(length - 5), entry->d_name);
        lab_case->submissions++;
        if (write_wrong_submission(lab, folder, name) != 0) {
            closedir(fixtures);
            return -1;
        }
    }
    if (fixtures != NULL)
        closedir(fixtures);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    snprintf(scratch, sizeof scratch, "/tmp/asynclab-labs-%d", (int)getpid());
    if (mkdir(scratch, 0700) != 0 || prepare_lab(&slow_api) != 0
        || prepare_lab(&blocking_pitfall) != 0 || prepare_lab(&database) != 0
        || prepare_lab(&timeouts) != 0 || prepare_lab(&producer_consumer) != 0)
        return -1;

    /* The valgrind pair: the reference and the leak. */
    char folder[128], reference[160], lesson[256];
    snprintf(folder, sizeof folder, "%s/memcheck", scratch);
    snprintf(reference, sizeof reference, "%s/reference.c", folder);
    lesson_path("slow_api", "async.c", lesson, sizeof lesson);
    if (mkdir(folder, 0700) != 0 || copy_file(lesson, reference) != 0
        || write_wrong_submission("slow_api", folder, "leaks_handles") != 0)
        return -1;

    /* Three rounds, so that no two spinning submissions (the busy-waits)
     * compete for the two cores at once: each would starve the other's
     * server and turn a lost efficiency point into lost time points. */
    char paths[12][160];
    const char *labs[] = { "slow_api", "blocking_pitfall", "memcheck" };
    for (int i = 0; i < 3; i++) {
        snprintf(paths[2 * i], sizeof paths[0], "%s/%s", scratch, labs[i]);
        snprintf(paths[2 * i + 1], sizeof paths[0], "%s/%s-grades", scratch, labs[i]);
    }
    snprintf(paths[6], sizeof paths[0], "%s/database", scratch);
    snprintf(paths[7], sizeof paths[0], "%s/database-grades", scratch);
    snprintf(paths[8], sizeof paths[0], "%s/timeouts", scratch);
    snprintf(paths[9], sizeof paths[0], "%s/timeouts-grades", scratch);
    snprintf(paths[10], sizeof paths[0], "%s/producer_consumer", scratch);
    snprintf(paths[11], sizeof paths[0], "%s/producer_consumer-grades", scratch);
    const char *round1[] = { "slow_api", paths[0], paths[1], "--jobs 3 --no-memcheck",
                             "producer_consumer", paths[10], paths[11], "--jobs 3 --no-memcheck",
                             NULL };
    const char *round2[] = { "blocking_pitfall", paths[2], paths[3], "--jobs 2 --no-memcheck",
                             "timeouts", paths[8], paths[9], "--jobs 4 --no-memcheck", NULL };
    const char *round3[] = { "database", paths[6], paths[7], "--jobs 2 --no-memcheck",
                             "slow_api", paths[4], paths[5], "--jobs 2", NULL };
    if (grade_folders(round1) != 0 || grade_folders(round2) != 0 || grade_folders(round3) != 0)
        return -1;
    slow_api.grades = load_grades("slow_api");
    blocking_pitfall.grades = load_grades("blocking_pitfall");
    database.grades = load_grades("database");
    timeouts.grades = load_grades("timeouts");
    producer_consumer.grades = load_grades("producer_consumer");
    memcheck_grades = load_grades("memcheck");
    return slow_api.grades && blocking_pitfall.grades && database.grades && timeouts.grades
           && producer_consumer.grades && memcheck_grades ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(slow_api.grades);
    json_decref(blocking_pitfall.grades);
    json_decref(database.grades);
    json_decref(timeouts.grades);
    json_decref(producer_consumer.grades);
    json_decref(memcheck_grades);
    return test_remove_tree(scratch);
}

/* ---------------------------------------------------------------- checks */

static json_t *grade_of(json_t *table, const char *name)
{
    char file[128];
    snprintf(file, sizeof file, "%s%s", name, strstr(name, ".c") ? "" : ".c");
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
static void assert_fixture_grade(json_t *table, const char *lab, const char *name)
{
    char path[256];
    fixture_path(lab, name, path, sizeof path);
    char *edit = test_read_file(path);
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

static void assert_full_marks(json_t *grade)
{
    for (const char *const *category = (const char *const[]){ "correctness", "concurrency",
             "efficiency", "robustness", "memory", NULL }; *category; category++)
        assert_int_equal(points(grade, *category), most(grade, *category));
    assert_int_equal(json_integer_value(json_object_get(grade, "total")), 100);
}

static void test_slow_api_reference_scores_100(void **state)
{
    (void)state;
    json_t *grade = grade_of(memcheck_grades, "reference");
    assert_int_equal(most(grade, "memory"), 10);  /* valgrind ran */
    assert_full_marks(grade);
    assert_full_marks(grade_of(slow_api.grades, "reference"));
}

static void test_other_references_score_100(void **state)
{
    (void)state;
    assert_full_marks(grade_of(blocking_pitfall.grades, "reference"));
    assert_full_marks(grade_of(blocking_pitfall.grades, "reference_async_offload.c"));
    assert_full_marks(grade_of(database.grades, "reference"));
    assert_full_marks(grade_of(timeouts.grades, "reference"));
    assert_full_marks(grade_of(producer_consumer.grades, "reference"));
}

static void assert_starter_grade(json_t *table, const char *why_no_concurrency)
{
    json_t *grade = grade_of(table, "starter");
    assert_int_equal(points(grade, "correctness"), most(grade, "correctness"));
    assert_int_equal(points(grade, "concurrency"), 0);
    char *why = reasons(grade);
    test_assert_contains(why, why_no_concurrency);
    free(why);
}

static void test_starters_get_correctness_and_no_concurrency(void **state)
{
    (void)state;
    assert_starter_grade(slow_api.grades, "they were not all overlapped");
    assert_starter_grade(blocking_pitfall.grades, "they were not all overlapped");
    assert_starter_grade(database.grades, "they ran one at a time");
    assert_starter_grade(timeouts.grades, "they were not all in flight together");
    assert_starter_grade(producer_consumer.grades, "the producers did not work together");
}

static void test_starter_builds_without_warnings(void **state)
{
    (void)state;
    char command[512];
    for (const char *const *lab = (const char *const[]){ "slow_api", "blocking_pitfall",
                                                         "database", "timeouts",
                                                         "producer_consumer", NULL };
         *lab; lab++) {
        snprintf(command, sizeof command, "make -s -C '%s/%s-workspace' 2>&1", scratch, *lab);
        struct test_process_result result = run_shell(command);
        assert_int_equal(result.exit_status, 0);
        assert_null(strstr(result.out, "warning"));
        test_process_result_free(&result);
    }
}

#define WRONG_TEST(name) \
    static void test_wrong_##name(void **state) \
    { (void)state; assert_fixture_grade(slow_api.grades, "slow_api", #name); }
WRONG_TEST(serial_loop)
WRONG_TEST(busy_wait)
WRONG_TEST(ignores_concurrency)
WRONG_TEST(blocks_in_callback)
WRONG_TEST(hardcoded_output)
WRONG_TEST(never_returns)

static void test_wrong_leaks_handles(void **state)
{
    (void)state;
    assert_fixture_grade(memcheck_grades, "slow_api", "leaks_handles");
}

static void test_wrong_blocking_pitfall_submissions(void **state)
{
    (void)state;
    assert_fixture_grade(blocking_pitfall.grades, "blocking_pitfall", "blocks_in_callback");
    assert_fixture_grade(blocking_pitfall.grades, "blocking_pitfall", "busy_wait");
}

static void test_wrong_database_submissions(void **state)
{
    (void)state;
    assert_fixture_grade(database.grades, "database", "joins_in_order");
    assert_fixture_grade(database.grades, "database", "busy_wait");
    assert_fixture_grade(database.grades, "database", "silent_on_failure");
}

static void test_wrong_timeouts_and_producer_consumer_submissions(void **state)
{
    (void)state;
    assert_fixture_grade(timeouts.grades, "timeouts", "ignores_deadline");
    assert_fixture_grade(timeouts.grades, "timeouts", "no_timeout");
    assert_fixture_grade(producer_consumer.grades, "producer_consumer", "ignores_consumers");
}

static void test_grade_all_writes_csv(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/slow_api-grades.csv", scratch);
    char *csv = test_read_file(path);
    assert_non_null(csv);
    test_assert_contains(csv, "submission,total,correctness,concurrency,efficiency,"
                              "robustness,memory,seed,problem\n");
    test_assert_contains(csv, "\"hardcoded_output.c\",");
    int rows = 0;
    for (const char *c = csv; *c; c++)
        rows += *c == '\n';
    assert_int_equal(rows, 1 + slow_api.submissions);
    free(csv);
}

static void test_make_lab_keeps_existing_work(void **state)
{
    (void)state;
    char workspace[128];
    snprintf(workspace, sizeof workspace, "%s/slow_api-workspace", scratch);
    assert_int_not_equal(make_workspace("slow_api", workspace, ""), 0);
    assert_int_equal(make_workspace("slow_api", workspace, "1"), 0);
    assert_int_not_equal(make_workspace("slow_api", "build/lab-in-build", "1"), 0);
}

static void test_grader_rejects_bad_input(void **state)
{
    (void)state;
    const char *no_lab[] = { test_bin("grade"), "--lab", "nope", "--src", "x.c", NULL };
    struct test_process_result result;
    assert_int_equal(test_run(no_lab, 30.0, &result), 0);
    assert_int_equal(result.exit_status, 1);
    test_assert_one_line(result.err);
    test_process_result_free(&result);

    const char *missing[] = { test_bin("grade"), "--lab", "slow_api", "--src", "/nonexistent.c",
                              NULL };
    assert_int_equal(test_run(missing, 30.0, &result), 0);
    assert_int_equal(result.exit_status, 2);
    test_assert_one_line(result.err);
    test_process_result_free(&result);
}

/* Runs argv, expects `status`, and stderr (one line) or stdout holding `text`. */
static void expect_run(const char *const *argv, int status, const char *text)
{
    struct test_process_result result;
    assert_int_equal(test_run(argv, 30.0, &result), 0);
    if (result.exit_status != status)
        fail_msg("%s %s: exit %d, expected %d\n%s%s", argv[0], argv[1], result.exit_status,
                 status, result.out, result.err);
    if (status == 1)
        test_assert_one_line(result.err);
    test_assert_contains(status == 0 ? result.out : result.err, text);
    test_process_result_free(&result);
}

/* Both graders take the shared parser's forms: --opt=value, --version, and a
 * bad value named in one line. */
static void test_graders_share_the_parser(void **state)
{
    (void)state;
    const char *grade = test_bin("grade"), *grade_all = test_bin("grade_all");
    expect_run((const char *[]){ grade, "--version", NULL }, 0, "grade (asynclab) ");
    expect_run((const char *[]){ grade_all, "--version", NULL }, 0, "grade_all (asynclab) ");
    expect_run((const char *[]){ grade, "--lab=slow_api", "--seed=5", "--rubric", NULL }, 0,
               "| category |");
    expect_run((const char *[]){ grade, "--lab", "slow_api", "--rubric", "--seed=-1", NULL }, 1,
               "invalid value '-1' for --seed");
    /* exit 2 (the folder is missing): the options themselves were taken */
    expect_run((const char *[]){ grade_all, "--lab=slow_api", "--seed=5",
                                 "--submissions=/nonexistent", NULL }, 2, "/nonexistent");
    expect_run((const char *[]){ grade_all, "--lab", "slow_api", "--submissions", "/x",
                                 "--seed=abc", NULL }, 1, "invalid value 'abc' for --seed");
    expect_run((const char *[]){ grade_all, "--lab", "slow_api", "--submissions", "/x",
                                 "--jobs=0", NULL }, 1, "invalid value '0' for --jobs");
    expect_run((const char *[]){ grade_all, "--lab", "slow_api", NULL }, 1, "--submissions");

    /* --run: what follows -- reaches the student's program, not the grader */
    char source[256];
    lesson_path("slow_api", "async.c", source, sizeof source);
    expect_run((const char *[]){ grade, "--lab", "slow_api", "--src", source, "--run", "--",
                                 "--seed=3", "--predict", NULL }, 0, "Predicted time");
    expect_run((const char *[]){ grade, "--lab", "slow_api", "--src", source, "--", "--predict",
                                 NULL }, 1, "unexpected argument '--predict'");
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
        cmocka_unit_test(test_slow_api_reference_scores_100),
        cmocka_unit_test(test_other_references_score_100),
        cmocka_unit_test(test_starters_get_correctness_and_no_concurrency),
        cmocka_unit_test(test_starter_builds_without_warnings),
        cmocka_unit_test(test_wrong_serial_loop),
        cmocka_unit_test(test_wrong_busy_wait),
        cmocka_unit_test(test_wrong_ignores_concurrency),
        cmocka_unit_test(test_wrong_leaks_handles),
        cmocka_unit_test(test_wrong_blocks_in_callback),
        cmocka_unit_test(test_wrong_hardcoded_output),
        cmocka_unit_test(test_wrong_never_returns),
        cmocka_unit_test(test_wrong_blocking_pitfall_submissions),
        cmocka_unit_test(test_wrong_database_submissions),
        cmocka_unit_test(test_wrong_timeouts_and_producer_consumer_submissions),
        cmocka_unit_test(test_grade_all_writes_csv),
        cmocka_unit_test(test_make_lab_keeps_existing_work),
        cmocka_unit_test(test_grader_rejects_bad_input),
        cmocka_unit_test(test_graders_share_the_parser),
        cmocka_unit_test(test_seed_draws_the_work),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
