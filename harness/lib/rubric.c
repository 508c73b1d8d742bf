/* rubric.c - a lab's checks and one submission's grade; see rubric.h. */
#include "rubric.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

const char *const RUBRIC_CATEGORIES[RUBRIC_CATEGORY_COUNT] = {
    "correctness", "concurrency", "efficiency", "robustness", "memory",
};

void grade_sheet_init(struct grade_sheet *sheet, const struct rubric_check *checks,
                      size_t count)
{
    memset(sheet, 0, sizeof *sheet);
    sheet->checks = checks;
    sheet->check_count = count < RUBRIC_MAX_CHECKS ? count : RUBRIC_MAX_CHECKS;
}

static void record(struct grade_sheet *sheet, size_t index, enum check_outcome outcome,
                   const char *format, va_list arguments)
{
    if (index >= sheet->check_count)
        return;
    sheet->results[index].outcome = outcome;
    vsnprintf(sheet->results[index].reason, sizeof sheet->results[index].reason, format,
              arguments);
}

void grade_check(struct grade_sheet *sheet, size_t index, bool passed, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    record(sheet, index, passed ? CHECK_PASSED : CHECK_FAILED, format, arguments);
    va_end(arguments);
}

void grade_skip(struct grade_sheet *sheet, size_t index, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    record(sheet, index, CHECK_SKIPPED, format, arguments);
    va_end(arguments);
}

void grade_fail_rest(struct grade_sheet *sheet, const char *reason)
{
    for (size_t i = 0; i < sheet->check_count; i++)
        if (sheet->results[i].outcome == CHECK_UNGRADED)
            grade_check(sheet, i, false, "%s", reason);
}

static int earned_points(const struct grade_sheet *sheet, size_t index)
{
    return sheet->results[index].outcome == CHECK_PASSED ? sheet->checks[index].points : 0;
}

void grade_category(const struct grade_sheet *sheet, const char *category, int *earned,
                    int *possible)
{
    *earned = *possible = 0;
    for (size_t i = 0; i < sheet->check_count; i++) {
        if (strcmp(sheet->checks[i].category, category) != 0
            || sheet->results[i].outcome == CHECK_SKIPPED)
            continue;
        *earned += earned_points(sheet, i);
        *possible += sheet->checks[i].points;
    }
}

int grade_total(const struct grade_sheet *sheet)
{
    int earned = 0, possible = 0;
    for (size_t c = 0; c < RUBRIC_CATEGORY_COUNT; c++) {
        int category_earned, category_possible;
        grade_category(sheet, RUBRIC_CATEGORIES[c], &category_earned, &category_possible);
        earned += category_earned;
        possible += category_possible;
    }
    return possible > 0 ? (int)lround(100.0 * earned / possible) : 0;
}

void grade_print(const struct grade_sheet *sheet, FILE *stream)
{
    for (size_t i = 0; i < sheet->check_count; i++) {
        const struct check_result *result = &sheet->results[i];
        char score[16];
        if (result->outcome == CHECK_SKIPPED)
            snprintf(score, sizeof score, " -/%d", sheet->checks[i].points);
        else
            snprintf(score, sizeof score, "%2d/%d", earned_points(sheet, i),
                     sheet->checks[i].points);
        fprintf(stream, "%-12s %6s  %s\n", sheet->checks[i].category, score, result->reason);
    }
    fprintf(stream, "total: %d/100\n", grade_total(sheet));
}

static const char *outcome_name(enum check_outcome outcome)
{
    switch (outcome) {
    case CHECK_PASSED: return "passed";
    case CHECK_FAILED: return "failed";
    case CHECK_SKIPPED: return "skipped";
    case CHECK_UNGRADED: break;
    }
    return "ungraded";
}

json_t *grade_to_json(const struct grade_sheet *sheet)
{
    json_t *checks = json_array();
    json_t *categories = json_object();
    for (size_t i = 0; i < sheet->check_count; i++) {
        const struct check_result *result = &sheet->results[i];
        json_array_append_new(checks, json_pack("{s:s, s:i, s:i, s:s, s:s}",
            "category", sheet->checks[i].category, "points", earned_points(sheet, i),
            "max", sheet->checks[i].points, "outcome", outcome_name(result->outcome),
            "reason", result->reason));
    }
    for (size_t c = 0; c < RUBRIC_CATEGORY_COUNT; c++) {
        int earned, possible;
        grade_category(sheet, RUBRIC_CATEGORIES[c], &earned, &possible);
        json_object_set_new(categories, RUBRIC_CATEGORIES[c],
                            json_pack("{s:i, s:i}", "points", earned, "max", possible));
    }
    return json_pack("{s:o, s:o, s:i}", "checks", checks, "categories", categories,
                     "total", grade_total(sheet));
}

void rubric_print_markdown(const struct rubric_check *checks, size_t count, FILE *stream)
{
    fprintf(stream, "| category | points | what earns them |\n|---|---:|---|\n");
    for (size_t i = 0; i < count; i++)
        fprintf(stream, "| %s | %d | %s |\n", checks[i].category, checks[i].points,
                checks[i].description);
}
