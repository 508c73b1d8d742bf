/*
 * parse.h - strict parsing of numbers and lists from text.
 *
 * Every number a user types (a flag, a query parameter) goes through these
 * functions, so the whole suite agrees on what "a number" is: the whole
 * string must be consumed, NaN and infinities are refused, and a range is
 * checked before the value is used.  Each returns true on success; the
 * single-value parsers leave *out untouched on failure.
 */
#ifndef ASYNCLAB_PARSE_H
#define ASYNCLAB_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* A finite decimal number such as "10", "0.25" or "1e-3". */
bool parse_double(const char *text, double *out);

/* A finite number with min <= value <= max. */
bool parse_double_in(const char *text, double min, double max, double *out);

/* A base-10 integer with min <= value <= max (no sign games, no trailing junk). */
bool parse_long_in(const char *text, long min, long max, long *out);

/*
 * A comma-separated list of numbers, each with min <= value <= max, such as
 * "10,2,5".  Stores at most `capacity` values; more is an error, and so is an
 * empty item ("1,,2").  *count receives how many were stored; on failure
 * the contents of out are unspecified and *count is untouched.
 */
bool parse_double_list(const char *text, double min, double max,
                       double *out, size_t capacity, size_t *count);

#endif
