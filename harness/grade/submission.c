/*
 * submission.c - building the submission against this checkout and running
 * it, every run killed after a bound (launch_run_bounded), so a submission
 * that hangs or spins is graded, not waited for.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "grading.h"

/* How long a submission may take to build. */
#define BUILD_LIMIT_S 180.0

/* Runs the built submission with `args` (NULL-terminated), after --url
 * unless url is NULL. */
int run_submission(struct grading *grading, const char *url, const char *const *args,
                   double limit_s, const struct launch_event *event,
                   struct launch_result *result)
{
    const char *argv[32] = { grading->program, "--url", url };
    size_t count = url ? 3 : 1;
    for (size_t i = 0; args[i] != NULL && count < 31; i++)
        argv[count++] = args[i];
    argv[count] = NULL;
    return launch_run_bounded(GRADE_PROGRAM, (char *const *)argv, limit_s + RUN_SLACK_S, event,
                              result);
}

/* The same under valgrind; its exit status is 99 when it found an error. */
int run_under_valgrind(struct grading *grading, const char *url, const char *const *args,
                       double limit_s, struct launch_result *result)
{
    const char *argv[40] = { "valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
                             "--errors-for-leak-kinds=definite,indirect",
                             "--show-leak-kinds=definite,indirect", grading->program,
                             "--url", url };
    size_t count = url ? 9 : 7;
    for (size_t i = 0; args[i] != NULL && count < 39; i++)
        argv[count++] = args[i];
    argv[count] = NULL;
    return launch_run_bounded(GRADE_PROGRAM, (char *const *)argv, limit_s, NULL, result);
}

bool valgrind_installed(void)
{
    const char *argv[] = { "valgrind", "--version", NULL };
    struct launch_result result;
    int status = launch_run_bounded(GRADE_PROGRAM, (char *const *)argv, 20.0, NULL, &result);
    launch_result_free(&result);
    return status == 0;
}

/* The first line of `text` that contains `needle`, or "" (for reasons). */
void line_with(const char *text, const char *needle, char *line, size_t size)
{
    line[0] = '\0';
    const char *found = strstr(text, needle);
    if (found == NULL)
        return;
    const char *start = found;
    while (start > text && start[-1] != '\n')
        start--;
    const char *end = strchr(found, '\n');
    int length = end ? (int)(end - start) : (int)strlen(start);
    snprintf(line, size, "%.*s", length, start);
}

/* How a run ended, in words, for a reason. */
void describe_end(const struct launch_result *result, char *text, size_t size)
{
    if (result->killed)
        snprintf(text, size, "killed after %.1f s (it did not end)", result->wall_s);
    else if (result->status > 128)
        snprintf(text, size, "crashed (signal %d)", result->status - 128);
    else
        snprintf(text, size, "exit %d", result->status);
}

/* Builds the submission with the workspace's own Makefile rules; false
 * (every check failed, with the compiler's first error) if it does not. */
bool build_submission(struct grading *grading)
{
    char makefile[PATH_MAX + 32], root[PATH_MAX + 16], lab[64], source[PATH_MAX + 16],
        output[PATH_MAX + 16];
    snprintf(makefile, sizeof makefile, "%s/labs/workspace.mk", ASYNCLAB_ROOT);
    snprintf(root, sizeof root, "ASYNCLAB=%s", ASYNCLAB_ROOT);
    snprintf(lab, sizeof lab, "LAB=%s", grading->lab->name);
    snprintf(source, sizeof source, "SUBMISSION=%s", grading->submission);
    snprintf(grading->program, sizeof grading->program, "%s/submission", grading->work_dir);
    snprintf(output, sizeof output, "PROGRAM=%s", grading->program);
    const char *argv[] = { "make", "-s", "--no-print-directory", "-f", makefile, root, lab,
                           source, output, "SANITIZE=", "ASYNCLAB_BUILT=1", grading->program,
                           NULL };
    struct launch_result result;
    launch_run_bounded(GRADE_PROGRAM, (char *const *)argv, BUILD_LIMIT_S, NULL, &result);
    bool built = result.status == 0 && !result.killed && access(grading->program, X_OK) == 0;
    if (!built) {
        char first_error[240] = "";
        line_with(result.err, "error", first_error, sizeof first_error);
        if (first_error[0] == '\0')
            launch_last_line(result.err, first_error, sizeof first_error);
        char reason[300];
        snprintf(reason, sizeof reason, "does not build: %s", first_error);
        grade_fail_rest(&grading->sheet, reason);
    }
    launch_result_free(&result);
    return built;
}
