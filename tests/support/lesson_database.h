/*
 * lesson_database.h - the database lesson's data, as the tests see it: the
 * three queries written out independently of the programs, a small SQLite
 * database built with the generator, its row counts by SQLite itself, and
 * the counts a program printed.  Shared by the SQLite and PostgreSQL tests,
 * so that both hold the programs to the same numbers.
 */
#ifndef ASYNCLAB_TEST_LESSON_DATABASE_H
#define ASYNCLAB_TEST_LESSON_DATABASE_H

/* The three queries, word for word. */
extern const char *const TEST_LESSON_SQL[3];

/* Builds a database with the generator (--cities, --seed); fails the test
 * if it does not work. */
void test_make_database(const char *path, const char *cities, const char *seed);

/* Rows the query returns, counted through the sqlite3 library directly. */
long long test_count_rows(const char *path, const char *sql);

/* The N in the "Qn: Query made! Db replied 'N' rows" a program printed, or -1. */
long long test_reported_rows(const char *out, int number);

#endif
