/*
 * Unit tests: database_query_run, the one blocking call of the database
 * lesson, on a hand-made database whose answers can be counted by eye.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "database.h"

static char path[64];

/* Three states and six cities:
 *   Q1 (every state)              6 rows
 *   Q2 (code M... or ...P)        MG and SP: Araxá, Uberaba, Campinas, Americana = 4
 *   Q3 (name LIKE 'A%')           Araxá, Americana, alvorada (LIKE ignores ASCII case) = 3 */
static const char *const SCHEMA_AND_ROWS =
    "CREATE TABLE states(id INTEGER PRIMARY KEY, long_name TEXT NOT NULL, state TEXT NOT NULL);"
    "CREATE TABLE cities(id INTEGER PRIMARY KEY, name TEXT NOT NULL, state_id INTEGER NOT NULL);"
    "INSERT INTO states VALUES (1, 'Minas Gerais', 'MG'), (2, 'São Paulo', 'SP'),"
    " (3, 'Bahia', 'BA');"
    "INSERT INTO cities VALUES (1, 'Araxá', 1), (2, 'Uberaba', 1), (3, 'Campinas', 2),"
    " (4, 'Americana', 2), (5, 'Salvador', 3), (6, 'alvorada', 3);";

static int create_database(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/asynclab-unit-db-%d.db", (int)getpid());
    unlink(path);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, SCHEMA_AND_ROWS, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    return 0;
}

static int remove_database(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static void each_query_counts_its_rows(void **state)
{
    (void)state;
    struct database_query queries[DATABASE_QUERY_COUNT];
    database_queries_init(queries);
    const long long expected[DATABASE_QUERY_COUNT] = { 6, 4, 3 };
    for (int i = 0; i < DATABASE_QUERY_COUNT; i++) {
        database_query_run(path, &queries[i]);
        assert_int_equal(queries[i].result, SQLITE_OK);
        assert_int_equal(queries[i].rows, expected[i]);
        assert_true(queries[i].work_seconds >= 0.0);
        assert_string_equal(queries[i].error, "");
    }
}

static void the_queries_are_labelled_and_share_one_shape(void **state)
{
    (void)state;
    struct database_query queries[DATABASE_QUERY_COUNT];
    database_queries_init(queries);
    for (int i = 0; i < DATABASE_QUERY_COUNT; i++) {
        char label[8];
        snprintf(label, sizeof label, "Q%d", i + 1);
        assert_string_equal(queries[i].label, label);
        assert_int_equal(queries[i].number, i + 1);
        /* The condition is the query's own WHERE clause. */
        assert_non_null(strstr(queries[i].sql, queries[i].condition));
        assert_non_null(strstr(queries[i].sql, "ORDER BY s.long_name, c.name"));
    }
}

static void a_missing_file_is_an_error_and_is_not_created(void **state)
{
    (void)state;
    char missing[80];
    snprintf(missing, sizeof missing, "%s.missing", path);
    struct database_query queries[DATABASE_QUERY_COUNT];
    database_queries_init(queries);
    database_query_run(missing, &queries[0]);
    assert_int_equal(queries[0].result & 0xff, SQLITE_CANTOPEN);
    assert_int_equal(queries[0].rows, 0);
    assert_true(queries[0].error[0] != '\0');
    assert_int_not_equal(access(missing, F_OK), 0);
}

static void a_file_that_is_not_sqlite_is_an_error(void **state)
{
    (void)state;
    char garbage[80];
    snprintf(garbage, sizeof garbage, "%s.garbage", path);
    FILE *file = fopen(garbage, "w");
    assert_non_null(file);
    fputs("not a database, though long enough to have a header of one........\n", file);
    fclose(file);
    struct database_query queries[DATABASE_QUERY_COUNT];
    database_queries_init(queries);
    database_query_run(garbage, &queries[1]);
    unlink(garbage);
    assert_int_equal(queries[1].result & 0xff, SQLITE_NOTADB);
    assert_non_null(strstr(queries[1].error, "not a database"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_query_counts_its_rows),
        cmocka_unit_test(the_queries_are_labelled_and_share_one_shape),
        cmocka_unit_test(a_missing_file_is_an_error_and_is_not_created),
        cmocka_unit_test(a_file_that_is_not_sqlite_is_an_error),
    };
    return cmocka_run_group_tests_name("database_query", tests, create_database,
                                       remove_database);
}
