/*
 * atomic_file.h - replace a file all at once or not at all.
 *
 * A result file rewritten in place is empty or half-written while it is
 * being written, and stays so if the writer is interrupted.  These write
 * a hidden temporary file in the same directory (so rename(2) cannot cross
 * file systems) and rename it over the old one only when it is complete:
 * a reader, or the next run, sees the old file or the new one.
 */
#ifndef ASYNCLAB_HARNESS_ATOMIC_FILE_H
#define ASYNCLAB_HARNESS_ATOMIC_FILE_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

struct atomic_file {
    char path[PATH_MAX];       /* the file it will replace */
    char temporary[PATH_MAX];  /* DIR/.NAME.XXXXXX, while being written */
    FILE *stream;
};

/* Opens the temporary file for writing; NULL (errno set) if it cannot. */
FILE *atomic_file_open(struct atomic_file *file, const char *path);

/* Finishes the temporary file and renames it over path; false (errno set,
 * the temporary file removed, path untouched) if anything failed. */
bool atomic_file_commit(struct atomic_file *file);

/* Gives up: closes and removes the temporary file; path is untouched. */
void atomic_file_abandon(struct atomic_file *file);

/* json_dump_file, but all or nothing.  Prints one line prefixed by
 * `program` on failure. */
bool atomic_json_dump(const char *program, const json_t *document, const char *path, size_t flags);

#endif
