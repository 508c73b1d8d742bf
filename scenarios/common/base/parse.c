/*
 * parse.c - strict number parsing shared by the scenarios and slowserver.
 *
 * strtod and strtol are permissive on purpose (they stop at the first bad
 * character and report nothing), so every caller would otherwise repeat the
 * same end-pointer, errno and finiteness checks.  They live here once.
 */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Leading white space is accepted by strtod/strtol; a user-typed value with
 * it is almost always a quoting mistake, so refuse it. */
static bool starts_cleanly(const char *text)
{
    return text != NULL && text[0] != '\0' && !isspace((unsigned char)text[0]);
}

bool parse_double(const char *text, double *out)
{
    if (!starts_cleanly(text))
        return false;
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !isfinite(value))
        return false;
    /* strtod also reads hexadecimal ("0x1p3"); a delay is never written so. */
    if (strpbrk(text, "xX") != NULL)
        return false;
    *out = value;
    return true;
}

bool parse_double_in(const char *text, double min, double max, double *out)
{
    double value;
    if (!parse_double(text, &value) || value < min || value > max)
        return false;
    *out = value;
    return true;
}

bool parse_long_in(const char *text, long min, long max, long *out)
{
    if (!starts_cleanly(text))
        return false;
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < min || value > max)
        return false;
    *out = value;
    return true;
}

bool parse_double_list(const char *text, double min, double max,
                       double *out, size_t capacity, size_t *count)
{
    if (!starts_cleanly(text))
        return false;
    size_t stored = 0;
    const char *item = text;
    for (;;) {
        const char *comma = strchr(item, ',');
        size_t len = comma ? (size_t)(comma - item) : strlen(item);
        char buffer[64];
        if (len == 0 || len >= sizeof buffer || stored == capacity)
            return false;
        memcpy(buffer, item, len);
        buffer[len] = '\0';
        if (!parse_double_in(buffer, min, max, &out[stored]))
            return false;
        stored++;
        if (comma == NULL)
            break;
        item = comma + 1;
    }
    *count = stored;
    return true;
}
