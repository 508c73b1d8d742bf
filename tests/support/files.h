/*
 * files.h - the scratch directories integration tests make (mkdtemp in
 * /tmp) for a program to write its results into, their removal, and
 * reading and writing the files in them.
 */
#ifndef ASYNCLAB_TEST_FILES_H
#define ASYNCLAB_TEST_FILES_H

/* Removes path and everything below it, without following symbolic links.
 * Returns 0, or -1 if something could not be removed. */
int test_remove_tree(const char *path);

/* The whole of a file as a NUL-terminated string the caller frees, or NULL
 * if it cannot be read. */
char *test_read_file(const char *path);

/* Creates (or replaces) path with text; fails the test if it cannot. */
void test_write_file(const char *path, const char *text);

#endif
