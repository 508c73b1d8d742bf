/*
 * cli.h - the command line every scenario program shares (DESIGN.md).
 *
 *     --url URL     server base URL (default http://127.0.0.1:8000, env ASYNCLAB_URL)
 *     --scale F     multiply every delay by F (default 1)
 *     --trace FILE  write a Chrome Trace Event JSON of every task
 *     --quiet       print only the summary line
 *     --predict     print the time the lesson's model predicts and exit
 *     --stall-timeout S  give up on a reply that sends nothing for S seconds
 *     --max-time S       give up on any one request after S seconds
 *     --seed N      random work drawn from N instead of the lesson's (seed.h)
 *     -h, --help    usage with the scenario's own flags and an example
 *
 * A scenario adds its own flags as a table of struct cli_option; the parser
 * handles both kinds, and --help lists both.  Bad input ends in one line on
 * stderr and exit status 1 (EXIT_USAGE), never a crash.
 */
#ifndef ASYNCLAB_CLI_H
#define ASYNCLAB_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "exit_codes.h"

#define CLI_DEFAULT_URL "http://127.0.0.1:8000"
#define CLI_URL_MAX 512

/*
 * What a lesson's program says about itself: one of these, written with
 * designated initialisers, stands at the top of every sync.c, async.c and
 * variant, and its scenario's setup takes it.  The first three fields are
 * every program's; the rest belong to the lessons that use them, and stay
 * zero elsewhere.
 */
struct lesson_program {
    const char *name;        /* "slow_api_async": messages, --help, --version */
    const char *purpose;     /* one line for --help */
    bool concurrent;         /* its waits overlap: --predict's model, the options it offers */
    const char *prediction;  /* blocking_pitfall: why, for --predict */
    bool has_heartbeat;      /* blocking_pitfall: an event loop with the background task */
    int fds_per_request;     /* slow_api: file descriptors each request in flight holds */
    bool postgres;           /* database: queries PostgreSQL instead of SQLite */
    bool worker_threads;     /* its blocking calls run on threads of their own, not the
                                one thread (the trace says whether it is one-threaded) */
};

struct cli_common {
    const char *program;       /* the program's name, for messages */
    char url[CLI_URL_MAX];     /* base URL without a trailing slash */
    double scale;              /* every delay is multiplied by this */
    const char *trace_path;    /* NULL: no trace */
    bool quiet;
    bool predict;
    double stall_timeout;      /* --stall-timeout; 0: derived from the work (http.h) */
    double max_time;           /* --max-time; 0: derived from the work */
    bool seeded;               /* --seed was given */
    unsigned long seed;
};

/* One of a scenario's own flags. */
struct cli_option {
    const char *name;        /* long name without the dashes: "delays" */
    const char *value_name;  /* "LIST"; NULL for a flag that takes no value */
    const char *help;        /* one line for --help */
    const char *expects;     /* what a valid value is, for the error message */
    /* Parses `value` (NULL for a flag) into `target`; false if invalid. */
    bool (*apply)(const char *value, void *target);
    void *target;
};

struct cli_program {
    const char *name;                  /* "slow_api_async" */
    const char *purpose;               /* one line: what the program shows */
    const char *example;               /* one example command line */
    const struct cli_option *options;  /* the scenario's own flags */
    size_t option_count;
};

enum cli_result {
    CLI_RUN,         /* go on: *common and the options' targets are filled */
    CLI_EXIT_OK,     /* --help was printed: exit 0 */
    CLI_EXIT_USAGE,  /* an error was printed: exit EXIT_USAGE */
};

enum cli_result cli_parse(const struct cli_program *program, int argc, char **argv,
                          struct cli_common *common);

/* Ready-made `apply` functions and the targets they fill. */
struct cli_long_target { long *value; long min; long max; };
bool cli_apply_long(const char *value, void *target);

struct cli_double_target { double *value; double min; double max; };
bool cli_apply_double(const char *value, void *target);

struct cli_list_target {
    double *values;
    size_t capacity;
    size_t *count;
    double min;
    double max;
};
bool cli_apply_double_list(const char *value, void *target);

/* target is a bool *, set to true. */
bool cli_apply_flag(const char *value, void *target);

#endif
