/*
 * args.h - the one command-line parser every asynclab program uses: the
 * lessons' programs (through common/cli.c), slowserver, the database
 * generator and the harness.
 *
 * getopt_long does the scanning, so every program accepts both
 * `--runs 5` and `--runs=5`, in any order.  This wrapper adds what they all
 * need and should say the same way:
 *
 *     -h, --help      the program's usage, exit 0
 *     --version       "<program> (asynclab) <version>", exit 0
 *     a bad value     "<program>: invalid value 'x' for --runs (expected ...)"
 *     an unknown or valueless option, a stray argument, a missing required
 *                     option: one line naming it, and exit 1 (EXIT_USAGE)
 *
 * A program describes its options with getopt_long's own `struct option`
 * table and gets each one, as it comes, in its `apply` callback, which
 * checks the value (args_bad_value says what is wrong with it).
 */
#ifndef ASYNCLAB_ARGS_H
#define ASYNCLAB_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifndef ASYNCLAB_VERSION
#define ASYNCLAB_VERSION "0.1"
#endif

struct args_parser {
    const char *program;              /* its name, for every message */
    const struct option *options;     /* zero-terminated; "help" and "version" are added */
    const char *const *required;      /* NULL-terminated names that must be given, or NULL */
    /* Called for each option given, with its value (NULL for a flag).
     * Returns -1 to go on, or the exit status to stop with (after printing
     * one line, for a bad value). */
    int (*apply)(void *context, const struct option *option, const char *value);
    void (*usage)(FILE *stream);      /* for --help */
    void *context;                    /* handed to apply */
    /* Arguments that are not options: at most operand_max of them are
     * stored in operands (0: none allowed); *operand_count says how many. */
    const char **operands;
    size_t operand_max;
    size_t *operand_count;
};

/* Parses argv.  Returns -1 when the program should go on, 0 after --help
 * or --version, EXIT_USAGE after a mistake (one line on stderr). */
int args_parse(const struct args_parser *parser, int argc, char **argv);

/* The common case in one call: options only, none required, no operands. */
int args_parse_options(const char *program, const struct option *options,
                       int (*apply)(void *context, const struct option *option,
                                    const char *value),
                       void (*usage)(FILE *stream), void *context, int argc, char **argv);

/* Prints "<program>: invalid value '<value>' for --<flag> (expected
 * <expected>; see --help)" and returns EXIT_USAGE. */
int args_bad_value(const char *program, const char *flag, const char *value,
                   const char *expected);

#endif
