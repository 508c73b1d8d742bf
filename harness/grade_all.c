/*
 * grade_all.c - `make grade-all LAB=slow_api SUBMISSIONS=dir [SEED=n]`:
 * grades a class (docs/labs/README.md).
 *
 * Every entry of the folder is one submission: a handin tarball from `make
 * handin` (*.tar.gz, *.tgz), a workspace folder, or the lab's source file
 * itself (*.c).  Each is graded by build/bin/grade on the same seed (one
 * problem for the class, drawn afresh unless SEED is given), several at
 * once (--jobs, default one per core: grading mostly waits on the slow
 * server), and the grades land in one CSV and one JSON table:
 *
 *     build/bin/grade_all --lab slow_api --submissions handins/ --out grades
 *         -> grades.csv, grades.json
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seed.h"
#include "args.h"
#include "launch.h"
#include "parse.h"
#include "rubric.h"
#include "scratch.h"

static const char PROGRAM[] = "grade_all";

#define MAX_SUBMISSIONS 1000

struct submission {
    char name[256];            /* the entry's name in the folder */
    char path[PATH_MAX + 300];  /* the folder, file or unpacked folder to grade */
    bool is_dir;
    char report[PATH_MAX];     /* where grade's --json went */
    pid_t pid;
    int status;
    char problem[200];         /* set when it could not even be graded */
};

struct options {
    const char *lab;
    const char *folder;
    const char *out;
    const char *seed;
    long jobs;
    bool memcheck;
};

static char scratch[64];

static bool ends_with(const char *text, const char *suffix)
{
    size_t length = strlen(text), suffix_length = strlen(suffix);
    return length >= suffix_length && strcmp(text + length - suffix_length, suffix) == 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct submission *)a)->name, ((const struct submission *)b)->name);
}

/* Unpacks a handin tarball into a scratch folder of its own (tar, no shell). */
static bool unpack(struct submission *submission, const char *archive, size_t index)
{
    snprintf(submission->path, sizeof submission->path, "%s/%zu", scratch, index);
    if (mkdir(submission->path, 0700) != 0)
        return false;
    const char *argv[] = { "tar", "--no-same-owner", "-xzf", archive, "-C", submission->path,
                           NULL };
    struct launch_result result;
    launch_run_bounded(PROGRAM, (char *const *)argv, 60.0, NULL, &result);
    bool ok = result.status == 0;
    if (!ok)
        snprintf(submission->problem, sizeof submission->problem, "cannot unpack: %.150s",
                 result.err);
    launch_result_free(&result);
    submission->is_dir = true;
    return ok;
}

/* Reads the folder's entries into submissions (sorted); returns how many. */
static size_t list_submissions(const char *folder, struct submission *submissions)
{
    DIR *dir = opendir(folder);
    if (dir == NULL)
        return 0;
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL && count < MAX_SUBMISSIONS) {
        if (entry->d_name[0] == '.')
            continue;
        struct submission *submission = &submissions[count++];
        memset(submission, 0, sizeof *submission);
        snprintf(submission->name, sizeof submission->name, "%s", entry->d_name);
    }
    closedir(dir);
    qsort(submissions, count, sizeof *submissions, by_name);

    for (size_t i = 0; i < count; i++) {
        struct submission *submission = &submissions[i];
        char full[PATH_MAX + 300];
        snprintf(full, sizeof full, "%s/%s", folder, submission->name);
        struct stat info;
        if (stat(full, &info) != 0) {
            snprintf(submission->problem, sizeof submission->problem, "cannot read it");
        } else if (S_ISDIR(info.st_mode)) {
            snprintf(submission->path, sizeof submission->path, "%s", full);
            submission->is_dir = true;
        } else if (ends_with(submission->name, ".tar.gz") || ends_with(submission->name, ".tgz")) {
            unpack(submission, full, i);
        } else if (ends_with(submission->name, ".c")) {
            snprintf(submission->path, sizeof submission->path, "%s", full);
        } else {
            snprintf(submission->problem, sizeof submission->problem,
                     "not a submission (a .tar.gz handin, a folder or a .c file)");
        }
    }
    return count;
}

/* Starts `grade --json` on one submission, its report into a file. */
static void start_grading(const struct options *options, const char *grader,
                          struct submission *submission, size_t index)
{
    snprintf(submission->report, sizeof submission->report, "%s/%zu.json", scratch, index);
    int fd = open(submission->report, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        snprintf(submission->problem, sizeof submission->problem, "cannot write %s",
                 submission->report);
        return;
    }
    const char *argv[] = { grader, "--lab", options->lab,
                           submission->is_dir ? "--dir" : "--src", submission->path,
                           "--seed", options->seed, "--json",
                           options->memcheck ? NULL : "--no-memcheck", NULL };
    submission->pid = launch_start(PROGRAM, (char *const *)argv, fd);
    close(fd);
    if (submission->pid < 0)
        snprintf(submission->problem, sizeof submission->problem, "the grader did not start");
}

/* Grades them all, at most `jobs` at a time. */
static void grade_all(const struct options *options, const char *grader,
                      struct submission *submissions, size_t count)
{
    size_t next = 0, running = 0;
    while (next < count || running > 0) {
        while (next < count && running < (size_t)options->jobs) {
            struct submission *submission = &submissions[next];
            if (submission->problem[0] == '\0') {
                start_grading(options, grader, submission, next);
                if (submission->pid > 0) {
                    running++;
                    fprintf(stderr, "grading %s\n", submission->name);
                }
            }
            next++;
        }
        if (running == 0)
            continue;
        int status;
        pid_t done = wait(&status);
        if (done < 0 && errno == EINTR)
            continue;
        if (done < 0)
            break;
        for (size_t i = 0; i < count; i++)
            if (submissions[i].pid == done) {
                submissions[i].status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
                submissions[i].pid = 0;
                running--;
            }
    }
}

static int category_points(json_t *report, const char *category)
{
    return (int)json_integer_value(json_object_get(
        json_object_get(json_object_get(report, "categories"), category), "points"));
}

static void write_csv_header(FILE *csv)
{
    fprintf(csv, "submission,total");
    for (size_t c = 0; c < RUBRIC_CATEGORY_COUNT; c++)
        fprintf(csv, ",%s", RUBRIC_CATEGORIES[c]);
    fprintf(csv, ",seed,problem\n");
}

/* One submission's CSV row (a NULL report: no points, and its problem). */
static void write_csv_row(FILE *csv, const struct submission *submission, json_t *report,
                          const char *seed)
{
    /* Names are file names: quote them, doubling any quote. */
    fputc('"', csv);
    for (const char *c = submission->name; *c; c++)
        fprintf(csv, *c == '"' ? "\"\"" : "%c", *c);
    fprintf(csv, "\",%d", report ? (int)json_integer_value(json_object_get(report, "total"))
                                 : 0);
    for (size_t c = 0; c < RUBRIC_CATEGORY_COUNT; c++)
        fprintf(csv, ",%d", report ? category_points(report, RUBRIC_CATEGORIES[c]) : 0);
    fprintf(csv, ",%s,%s\n", seed, submission->problem);
}

/* The grader's report for one submission, or one saying what went wrong
 * (which it also writes into submission->problem). */
static json_t *report_of(struct submission *submission)
{
    json_t *report = submission->problem[0] ? NULL
                                            : json_load_file(submission->report, 0, NULL);
    if (report == NULL && submission->problem[0] == '\0')
        snprintf(submission->problem, sizeof submission->problem,
                 "the grader gave no report (exit %d)", submission->status);
    return report;
}

static bool write_json_table(const struct options *options, json_t *rows,
                             const char *json_path)
{
    json_t *table = json_pack("{s:s, s:s, s:o}", "lab", options->lab, "seed", options->seed,
                              "submissions", rows);
    int written = json_dump_file(table, json_path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(table);
    if (written != 0) {
        fprintf(stderr, "%s: cannot write %s\n", PROGRAM, json_path);
        return false;
    }
    return true;
}

/* One CSV row and one JSON entry per submission, and a line each on
 * stdout. */
static bool write_tables(const struct options *options, struct submission *submissions,
                         size_t count)
{
    char csv_path[PATH_MAX], json_path[PATH_MAX];
    snprintf(csv_path, sizeof csv_path, "%s.csv", options->out);
    snprintf(json_path, sizeof json_path, "%s.json", options->out);
    FILE *csv = fopen(csv_path, "w");
    if (csv == NULL) {
        fprintf(stderr, "%s: cannot write %s: %s\n", PROGRAM, csv_path, strerror(errno));
        return false;
    }
    write_csv_header(csv);
    json_t *rows = json_array();
    for (size_t i = 0; i < count; i++) {
        struct submission *submission = &submissions[i];
        json_t *report = report_of(submission);
        write_csv_row(csv, submission, report, options->seed);
        if (report == NULL)
            report = json_pack("{s:i, s:s}", "total", 0, "problem", submission->problem);
        json_object_set_new(report, "submission", json_string(submission->name));
        json_array_append_new(rows, report);
        printf("%-40s %3d/100%s%s\n", submission->name,
               (int)json_integer_value(json_object_get(report, "total")),
               submission->problem[0] ? "  " : "", submission->problem);
    }
    fclose(csv);
    if (!write_json_table(options, rows, json_path))
        return false;
    printf("Wrote %s and %s (seed %s)\n", csv_path, json_path, options->seed);
    return true;
}

static void usage(FILE *stream)
{
    fprintf(stream,
            "usage: %s --lab NAME --submissions DIR [--seed N] [--jobs N] [--out PREFIX] "
            "[--no-memcheck]\nGrades every submission in DIR; writes PREFIX.csv and "
            "PREFIX.json.\n\nExample:\n  build/bin/%s --lab slow_api --submissions "
            "handins/ --seed 42 --out grades\n", PROGRAM, PROGRAM);
}

static const struct option OPTIONS[] = {
    { "lab", required_argument, NULL, 0 },  { "submissions", required_argument, NULL, 0 },
    { "out", required_argument, NULL, 0 },  { "seed", required_argument, NULL, 0 },
    { "jobs", required_argument, NULL, 0 }, { "no-memcheck", no_argument, NULL, 0 },
    { NULL, 0, NULL, 0 },
};

/* The seed stays text: it is handed on to grade as it was typed, once it
 * is known to be one grade takes. */
static int apply_option(void *context, const struct option *option, const char *value)
{
    struct options *options = context;
    const char *name = option->name;
    long number;
    if (strcmp(name, "lab") == 0) {
        options->lab = value;
    } else if (strcmp(name, "submissions") == 0) {
        options->folder = value;
    } else if (strcmp(name, "out") == 0) {
        options->out = value;
    } else if (strcmp(name, "seed") == 0) {
        if (!parse_long_in(value, 0, SEED_MAX, &number))
            return args_bad_value(PROGRAM, name, value, SEED_EXPECTED);
        options->seed = value;
    } else if (strcmp(name, "jobs") == 0) {
        if (!parse_long_in(value, 1, 64, &options->jobs))
            return args_bad_value(PROGRAM, name, value, "a whole number from 1 to 64");
    } else {  /* no-memcheck */
        options->memcheck = false;
    }
    return -1;
}

static int parse_options(int argc, char **argv, struct options *options)
{
    static const char *const required[] = { "lab", "submissions", NULL };
    memset(options, 0, sizeof *options);
    options->memcheck = true;
    options->out = "grades";
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    options->jobs = cores > 0 ? cores : 2;
    const struct args_parser parser = {
        .program = PROGRAM, .options = OPTIONS, .required = required, .apply = apply_option,
        .usage = usage, .context = options,
    };
    return args_parse(&parser, argc, argv);
}

int main(int argc, char **argv)
{
    struct options options;
    int early = parse_options(argc, argv, &options);
    if (early >= 0)
        return early;
    char bin_dir[PATH_MAX], grader[PATH_MAX + 8], seed[32];
    if (!launch_find_bin_dir(PROGRAM, bin_dir, sizeof bin_dir))
        return 2;
    snprintf(grader, sizeof grader, "%s/grade", bin_dir);
    if (options.seed == NULL) {
        snprintf(seed, sizeof seed, "%lu", (unsigned long)(time(NULL) ^ getpid()) % 2147483648UL);
        options.seed = seed;
    }
    static struct submission submissions[MAX_SUBMISSIONS];
    DIR *probe = opendir(options.folder);
    if (probe == NULL) {
        fprintf(stderr, "%s: cannot read %s: %s\n", PROGRAM, options.folder, strerror(errno));
        return 2;
    }
    closedir(probe);
    if (!scratch_make(PROGRAM, "grade-all", scratch, sizeof scratch))
        return 2;
    size_t count = list_submissions(options.folder, submissions);
    if (count == 0)
        fprintf(stderr, "%s: %s holds no submissions\n", PROGRAM, options.folder);
    grade_all(&options, grader, submissions, count);
    bool written = write_tables(&options, submissions, count);
    scratch_remove(scratch);
    return written && count > 0 ? 0 : 2;
}
