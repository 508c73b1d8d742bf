/*
 * grading.h - what the parts of `grade` (harness/grade.c and harness/grade/)
 * share.  grade.c reads the command line and picks the lab; submission.c
 * builds the submission and runs it, bounded; checks.c holds the checks
 * every lab makes (exit statuses, a dead server, valgrind, the time
 * allowed); each lab's own checks and the work its seed draws are in a file
 * of their own: delay_labs.c (slow_api, blocking_pitfall), database.c,
 * timeouts.c, producer_consumer.c.
 */
#ifndef ASYNCLAB_GRADING_H
#define ASYNCLAB_GRADING_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "launch.h"
#include "rubric.h"
#include "servers.h"

extern const char GRADE_PROGRAM[];     /* "grade", for messages */
/* Where this checkout's programs are (slowserver, the lessons' own
 * programs the grader compares with); set once, by main. */
extern char grade_bin_dir[PATH_MAX];

/* The slack every run gets on top of its own bound (a loaded machine
 * starts programs slowly). */
#define RUN_SLACK_S 3.0
/* Efficiency: a run must end within this ratio of --predict, plus a fixed
 * allowance for starting the program and connecting. */
#define PREDICT_RATIO 1.25
#define PREDICT_ALLOWANCE_S 0.5

/*
 * A program that sleeps while it waits uses next to no CPU; one that spins
 * uses all it can get.  On a busy machine "all it can get" may be a small
 * share, so the measure is one request with nothing else to do, and the
 * yardstick the lesson's own async.c on the same request a moment before.
 */
#define IDLE_DELAY "0.8"
#define IDLE_CPU_RATIO 2.0
#define IDLE_CPU_ALLOWANCE_S 0.05

struct grading;

struct lab {
    const char *name;              /* "slow_api" */
    const char *source;            /* the file a student hands in: "async.c" */
    bool needs_server;             /* runs against slowserver (--run starts one) */
    const struct rubric_check *checks;
    size_t check_count;
    void (*grade)(struct grading *grading);
};

struct grading {
    const struct lab *lab;
    char submission[PATH_MAX];     /* the source file graded */
    char work_dir[64];             /* scratch: the built program, traces */
    char program[PATH_MAX];        /* the built submission */
    unsigned long seed;
    bool memcheck;
    struct server_pool servers;
    struct grade_sheet sheet;
    json_t *work;                  /* what the seed drew, for --json */
};

/* The labs (one file each, but slow_api and blocking_pitfall share one). */
extern const struct lab SLOW_API_LAB, BLOCKING_PITFALL_LAB, DATABASE_LAB, TIMEOUTS_LAB,
    PRODUCER_CONSUMER_LAB;

/* ---------------------------------------------------------------- submission.c */

/* Builds the submission (labs/workspace.mk) into grading->program; false,
 * and every check failed with the compiler's first error, if it does not. */
bool build_submission(struct grading *grading);
/* Runs the built submission with `args` (NULL-terminated), after --url
 * unless url is NULL, killed after limit_s + RUN_SLACK_S. */
int run_submission(struct grading *grading, const char *url, const char *const *args,
                   double limit_s, const struct launch_event *event,
                   struct launch_result *result);
/* The same under valgrind; its exit status is 99 when it found an error. */
int run_under_valgrind(struct grading *grading, const char *url, const char *const *args,
                       double limit_s, struct launch_result *result);
bool valgrind_installed(void);
/* The first line of `text` that contains `needle`, or "" (for reasons). */
void line_with(const char *text, const char *needle, char *line, size_t size);
/* How a run ended, in words, for a reason: "exit 3", "killed after ...". */
void describe_end(const struct launch_result *result, char *text, size_t size);

/* ---------------------------------------------------------------- checks.c */

/* The run bound --predict allows: PREDICT_RATIO times it, plus
 * PREDICT_ALLOWANCE_S. */
double allowed_time(double predicted);
/* The lesson's own --predict for the same flags; -1 if it says none. */
double lesson_prediction(const char *program, const char *const *args);
/* Runs the submission once on `args` and checks it ends with exit `want`
 * (2: set-up problem, 1: usage), saying `what` it was given. */
void grade_exit_status(struct grading *grading, size_t check, const char *url,
                       const char *const *args, int want, const char *what);
/* No server at --url (a closed port on loopback): exit 2. */
void grade_server_down(struct grading *grading, size_t check, const char *const *args);
/* The server killed 0.5 s into work that would take seconds: the program
 * must still end, within RUN_SLACK_S, with exit 3. */
void grade_server_dies(struct grading *grading, size_t check, const char *const *args);
/* valgrind on `args`: no errors, nothing leaked (skipped with --no-memcheck
 * or without valgrind). */
void grade_memory(struct grading *grading, size_t check, const char *url,
                  const char *const *args);

#endif
