/*
 * markdown.c - how REPORT.md writes a cell and says where its numbers come
 * from.
 */
#include <math.h>
#include <stdio.h>

#include "report.h"

/* A time for a table: "1.702 s", "4.9 ms" below 10 ms, "40 µs" below 1 ms,
 * a dash when unknown. */
const char *seconds(double value, char *text, size_t size)
{
    if (!isfinite(value))
        return "–";
    if (value < 0.00095)
        snprintf(text, size, "%.0f µs", value * 1e6);
    else if (value < 0.00995)
        snprintf(text, size, "%.1f ms", value * 1000);
    else
        snprintf(text, size, "%.3f s", value);
    return text;
}

/* A Markdown table cell must not contain '|' or a newline. */
void put_cell_text(FILE *md, const char *text)
{
    for (const char *c = text; *c; c++) {
        if (*c == '|')
            fputc('\\', md);
        fputc(*c == '\n' ? ' ' : *c, md);
    }
}

/* "*Measured 2026-12-01T21:44:12Z on <cpu>, 2 cores, <kernel> (how).*": every
 * section says when and where its numbers come from, since a section may
 * come from another run than the one beside it (bench-scale's). */
void write_measured_on(FILE *md, const char *date, const json_t *machine, const char *how)
{
    fputs("*Measured ", md);
    if (date != NULL)
        fprintf(md, "%s ", date);
    if (json_is_object(machine))
        fprintf(md, "on %s, %d cores, %s, ", text_or(machine, "cpu", "an unknown CPU"),
                (int)number_or_nan(machine, "cores"),
                text_or(machine, "kernel", "an unknown kernel"));
    fprintf(md, "by %s", how);
    if (date == NULL || !json_is_object(machine))
        fprintf(md, " (%s not recorded)",
                date == NULL && !json_is_object(machine) ? "date and machine"
                : date == NULL ? "date" : "machine");
    fputs(".*\n\n", md);
}

void write_measured_by_bench(FILE *md, const json_t *summary)
{
    char how[256];
    snprintf(how, sizeof how, "`%s`", text_or(summary, "command", "make bench"));
    write_measured_on(md, text_or(summary, "date", NULL), json_object_get(summary, "machine"),
                      how);
}

