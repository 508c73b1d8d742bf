/* output.c - the lessons' console style; see output.h. */
#include "output.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static bool quiet_mode;
static bool use_colour;

void output_init(bool quiet)
{
    quiet_mode = quiet;
    use_colour = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
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
