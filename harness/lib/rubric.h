/*
 * rubric.h - the points of a lab and the grade one submission earned, the
 * grader's scoring sheet (docs/labs/README.md).
 *
 * A lab's rubric is a fixed table of checks, each in one category with its
 * points; the same table prints the handout's points (`grade --rubric`) and
 * scores a submission, so the two cannot disagree.  A check is passed (all
 * its points), failed (none, with the reason), or skipped (left out of the
 * total, which is then scaled to 100: valgrind missing, say).
 */
#ifndef ASYNCLAB_HARNESS_RUBRIC_H
#define ASYNCLAB_HARNESS_RUBRIC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

struct rubric_check {
    const char *category;     /* "correctness", "concurrency", ... */
    int points;
    const char *description;  /* what earns the points, for the handout */
};

enum check_outcome { CHECK_UNGRADED, CHECK_PASSED, CHECK_FAILED, CHECK_SKIPPED };

struct check_result {
    enum check_outcome outcome;
    char reason[320];         /* why it passed, failed or was skipped */
};

#define RUBRIC_MAX_CHECKS 16

struct grade_sheet {
    const struct rubric_check *checks;
    size_t check_count;
    struct check_result results[RUBRIC_MAX_CHECKS];
};

void grade_sheet_init(struct grade_sheet *sheet, const struct rubric_check *checks,
                      size_t count);

/* Records check `index`: passed or failed, with a printf-style reason. */
void grade_check(struct grade_sheet *sheet, size_t index, bool passed, const char *format, ...)
    __attribute__((format(printf, 4, 5)));
void grade_skip(struct grade_sheet *sheet, size_t index, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Every check still ungraded fails with `reason` (a build that failed). */
void grade_fail_rest(struct grade_sheet *sheet, const char *reason);

/* The total out of 100: points earned over the points of the checks that
 * were not skipped, rounded. */
int grade_total(const struct grade_sheet *sheet);

/* Points earned in one category, and the most it could have earned. */
void grade_category(const struct grade_sheet *sheet, const char *category, int *earned,
                    int *possible);

/* One line per check, then "total: N/100" as the last line. */
void grade_print(const struct grade_sheet *sheet, FILE *stream);

/* {"checks":[...],"categories":{...},"total":N}; NULL if out of memory. */
json_t *grade_to_json(const struct grade_sheet *sheet);

/* The rubric as a Markdown table, for HANDOUT.md. */
void rubric_print_markdown(const struct rubric_check *checks, size_t count, FILE *stream);

/* The categories, in the order reports list them. */
extern const char *const RUBRIC_CATEGORIES[];
#define RUBRIC_CATEGORY_COUNT 5

#endif
