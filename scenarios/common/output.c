/* output.c - the lessons' console style; see output.h. */
#include "output.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool quiet_mode;
static bool use_colour;

bool output_colour_wanted(bool stdout_is_terminal, const char *no_color, const char *term)
{
    /* no-color.org: an empty NO_COLOR counts as unset. */
    bool colour_refused = no_color != NULL && no_color[0] != '\0';
    /* A dumb terminal prints the escape sequences as text. */
    bool dumb = term != NULL && strcmp(term, "dumb") == 0;
    return stdout_is_terminal && !colour_refused && !dumb;
}

void output_init(bool quiet)
{
    quiet_mode = quiet;
    use_colour = output_colour_wanted(isatty(STDOUT_FILENO), getenv("NO_COLOR"), getenv("TERM"));
}

static const char *tone_colour(enum output_tone tone)
{
    if (!use_colour)
        return "";
    switch (tone) {
    case TONE_GOOD: return "\033[32m";  /* green */
    case TONE_BAD:  return "\033[31m";  /* red */
    case TONE_NOTE: return "\033[33m";  /* yellow */
    default:        return "\033[36m";  /* cyan */
    }
}

static const char *colour_reset(void)
{
    return use_colour ? "\033[0m" : "";
}

void output_rule(void)
{
    if (!quiet_mode)
        puts("==========");
}

void output_separator(void)
{
    if (!quiet_mode)
        puts("----------");
}

void output_task(const char *label, enum output_tone tone, const char *format, ...)
{
    if (quiet_mode)
        return;
    /* One line is several stdio calls; the lock keeps a line whole when a
     * program prints from more than one thread. */
    flockfile(stdout);
    printf("%s%s%s: ", tone_colour(tone), label, colour_reset());
    va_list args;
    va_start(args, format);
    vprintf(format, args);
    va_end(args);
    putchar('\n');
    /* Flushed at once so a student watching the terminal (or a pipe) sees
     * the order in which things really happened. */
    fflush(stdout);
    funlockfile(stdout);
}

void output_summary(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vprintf(format, args);
    va_end(args);
    putchar('\n');
    fflush(stdout);
}

void output_error(const char *program, const char *format, ...)
{
    fprintf(stderr, "%s: ", program);
    va_list args;
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
}
