/* lesson_database.c - the lesson's data for tests; see lesson_database.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lesson_database.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "checks.h"

const char *const TEST_LESSON_SQL[3] = {
    "SELECT c.name, s.state FROM cities c JOIN states s ON c.state_id = s.id "
    "WHERE s.state IN (SELECT state FROM states) ORDER BY s.long_name, c.name",
    "SELECT c.name, s.state FROM cities c JOIN states s ON c.state_id = s.id "
    "WHERE s.state LIKE 'M%' OR s.state LIKE '%P' ORDER BY s.long_name, c.name",
    "SELECT c.name, s.state FROM cities c JOIN states s ON c.state_id = s.id "
    "WHERE c.name LIKE 'A%' ORDER BY s.long_name, c.name",
};

void test_make_database(const char *path, const char *cities, const char *seed)
{
    const char *arguments[] = { "--out", path, "--cities", cities, "--seed", seed, "--quiet",
                                NULL };
    struct test_process_result result = test_run_program("database_makedb", arguments);
    if (result.exit_status != 0)
        fail_msg("database_makedb failed: %s", result.err);
    test_process_result_free(&result);
}

long long test_count_rows(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *statement = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &statement, NULL), SQLITE_OK);
    long long rows = 0;
    int result;
    while ((result = sqlite3_step(statement)) == SQLITE_ROW)
        rows++;
    assert_int_equal(result, SQLITE_DONE);
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return rows;
}

long long test_reported_rows(const char *out, int number)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "Q%d: Query made! Db replied '", number);
    const char *line = strstr(out, prefix);
    if (line == NULL)
        return -1;
    long long rows = -1;
    if (sscanf(line + strlen(prefix), "%lld' rows", &rows) != 1)
        return -1;
    return rows;
}
