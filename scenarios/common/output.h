/*
 * output.h - the lessons' console style, shared by every scenario program.
 *
 *     ==========
 *     R1: Requesting 'http://127.0.0.1:8000/delay-me?seconds=10'
 *     R1: Request finally done! Server replied 'Done, I waited for 10 secs'
 *     ----------
 *     Time elapsed: 10.012 s
 *     ==========
 *
 * Colour is used only when stdout is a terminal that can show it (not
 * TERM=dumb) and NO_COLOR is unset or empty (https://no-color.org), so
 * piped or captured output is plain text.  With
 * --quiet only the summary lines are printed.
 */
#ifndef ASYNCLAB_OUTPUT_H
#define ASYNCLAB_OUTPUT_H

#include <stdbool.h>

enum output_tone { TONE_PLAIN, TONE_GOOD, TONE_BAD, TONE_NOTE };

/* Decides colour and quietness once, before anything is printed. */
void output_init(bool quiet);

/* The colour rule above, given what output_init looks at (getenv's results;
 * NULL for unset).  Separate so that it can be tested without a terminal. */
bool output_colour_wanted(bool stdout_is_terminal, const char *no_color, const char *term);

/* The "==========" that opens and closes a run, and the "----------" before
 * the summary.  Suppressed by --quiet. */
void output_rule(void);
void output_separator(void);

/* One line about one task: "<label>: <message>", the label coloured by tone.
 * Suppressed by --quiet. */
void output_task(const char *label, enum output_tone tone, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* A summary line ("Time elapsed: 10.012 s"): printed even with --quiet. */
void output_summary(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* A one-line error on stderr, prefixed with the program's name. */
void output_error(const char *program, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

#endif
