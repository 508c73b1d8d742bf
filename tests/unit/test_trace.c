/* Unit tests: the Chrome trace writer (scenarios/common/trace.c).  The file
 * it writes must parse as JSON and hold one complete event per task. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace.h"

static char path[64];

static int make_path(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/asynclab-trace-%d.json", (int)getpid());
    return 0;
}

static int remove_path(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

/* The "X" events of a written trace file. */
static json_t *complete_events(json_t *document)
{
    json_t *events = json_object_get(document, "traceEvents");
    json_t *complete = json_array();
    size_t i;
    json_t *event;
    json_array_foreach(events, i, event)
        if (strcmp(json_string_value(json_object_get(event, "ph")), "X") == 0)
            json_array_append(complete, event);
    return complete;
}

static void writes_one_complete_event_per_task(void **state)
{
    (void)state;
    struct trace *trace = trace_new(100.0);
    trace_name_task(trace, 1, "R1");
    trace_name_task(trace, 2, "R2");
    trace_name_task(trace, 3, "R3");
    struct trace_event *r1 = trace_add(trace, "R1 GET /delay-me?seconds=10", 1, 100.0, 110.0);
    trace_set_text(r1, "url", "http://127.0.0.1:8000/delay-me?seconds=10");
    trace_set_integer(r1, "status", 200);
    trace_set_number(r1, "work_seconds", 0.5);
    trace_add(trace, "R2 \"quoted\" name", 2, 100.5, 102.5);
    trace_add(trace, "R3", 3, 101.0, 106.0);
    assert_int_equal(trace_event_count(trace), 3);
    assert_int_equal(trace_write(trace, path, "test"), 0);
    trace_free(trace);

    json_error_t error;
    json_t *document = json_load_file(path, 0, &error);
    assert_non_null(document);
    assert_string_equal(json_string_value(json_object_get(document, "displayTimeUnit")), "ms");
    json_t *complete = complete_events(document);
    assert_int_equal(json_array_size(complete), 3);

    json_t *first = json_array_get(complete, 0);
    assert_string_equal(json_string_value(json_object_get(first, "name")),
                        "R1 GET /delay-me?seconds=10");
    assert_int_equal(json_integer_value(json_object_get(first, "ts")), 0);
    assert_int_equal(json_integer_value(json_object_get(first, "dur")), 10000000);
    assert_int_equal(json_integer_value(json_object_get(first, "tid")), 1);
    assert_int_equal(json_integer_value(json_object_get(first, "pid")), 1);
    json_t *args = json_object_get(first, "args");
    assert_true(json_is_integer(json_object_get(args, "status")));  /* 200, not 200.0 */
    assert_int_equal(json_integer_value(json_object_get(args, "status")), 200);
    assert_true(json_real_value(json_object_get(args, "work_seconds")) == 0.5);

    json_t *second = json_array_get(complete, 1);
    assert_string_equal(json_string_value(json_object_get(second, "name")), "R2 \"quoted\" name");
    assert_int_equal(json_integer_value(json_object_get(second, "ts")), 500000);
    assert_int_equal(json_integer_value(json_object_get(second, "dur")), 2000000);
    json_decref(complete);
    json_decref(document);
}

/* The M event named `what` for tid (any tid when tid is 0). */
static json_t *metadata(json_t *document, const char *what, json_int_t tid)
{
    size_t i;
    json_t *event;
    json_array_foreach(json_object_get(document, "traceEvents"), i, event)
        if (strcmp(json_string_value(json_object_get(event, "ph")), "M") == 0
            && strcmp(json_string_value(json_object_get(event, "name")), what) == 0
            && (tid == 0 || json_integer_value(json_object_get(event, "tid")) == tid))
            return event;
    return NULL;
}

/* Perfetto shows the process under the program's name and the rows in the
 * order they were named, whatever their tids. */
static void names_the_process_and_orders_the_rows(void **state)
{
    (void)state;
    struct trace *trace = trace_new(0.0);
    trace_name_task(trace, 4, "Heartbeat");
    trace_name_task(trace, 1, "R1");
    trace_name_task(trace, 2, "R2");
    trace_add(trace, "R1", 1, 0.0, 1.0);
    assert_int_equal(trace_write(trace, path, "test"), 0);
    trace_free(trace);

    json_t *document = json_load_file(path, 0, NULL);
    assert_non_null(document);
    json_t *process = metadata(document, "process_name", 0);
    assert_non_null(process);
    assert_string_equal(json_string_value(json_object_get(json_object_get(process, "args"), "name")),
                        "test_trace");
    const json_int_t tids[] = { 4, 1, 2 };
    for (json_int_t place = 0; place < 3; place++) {
        json_t *order = metadata(document, "thread_sort_index", tids[place]);
        assert_non_null(order);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(order, "args"),
                                                            "sort_index")), place);
    }
    json_decref(document);
}

/* A one-thread program's trace: its tasks are async slices on tid 1, the one
 * thread has a span of its own, and reading the file back gives the same
 * tasks, rows and names as a threaded program's complete events. */
static void a_one_thread_program_is_drawn_as_one_thread(void **state)
{
    (void)state;
    struct trace *trace = trace_new(0.0);
    trace_one_thread(trace, true);
    trace_name_task(trace, 1, "R1");
    trace_name_task(trace, 2, "R2");
    trace_set_integer(trace_add(trace, "R1 GET /delay-me?seconds=10", 1, 0.0, 10.0), "status", 200);
    trace_add(trace, "R2 GET /delay-me?seconds=2", 2, 0.5, 2.5);
    assert_int_equal(trace_write(trace, path, "test"), 0);
    trace_free(trace);

    json_t *document = json_load_file(path, 0, NULL);
    assert_non_null(document);
    size_t i, begins = 0, ends = 0, spans = 0;
    json_t *event;
    json_array_foreach(json_object_get(document, "traceEvents"), i, event) {
        const char *phase = json_string_value(json_object_get(event, "ph"));
        if (strcmp(phase, "M") != 0 && json_object_get(event, "tid") != NULL)
            assert_int_equal(json_integer_value(json_object_get(event, "tid")), 1);
        begins += strcmp(phase, "b") == 0;
        ends += strcmp(phase, "e") == 0;
        if (strcmp(phase, "X") == 0) {
            spans++;
            assert_string_equal(json_string_value(json_object_get(event, "cat")), "thread");
            assert_int_equal(json_integer_value(json_object_get(event, "ts")), 0);
            assert_int_equal(json_integer_value(json_object_get(event, "dur")), 10000000);
        }
    }
    assert_int_equal(begins, 2);
    assert_int_equal(ends, 2);
    assert_int_equal(spans, 1);
    json_t *thread = metadata(document, "thread_name", 1);
    assert_non_null(strstr(json_string_value(json_object_get(json_object_get(thread, "args"),
                                                             "name")), "one thread"));
    json_decref(document);

    bool one_thread = false;
    char why[256];
    json_t *tasks = trace_read_tasks(path, &one_thread, why, sizeof why);
    assert_non_null(tasks);
    assert_true(one_thread);
    size_t complete = 0;
    json_array_foreach(tasks, i, event) {
        if (strcmp(json_string_value(json_object_get(event, "ph")), "X") != 0)
            continue;
        complete++;
        if (json_integer_value(json_object_get(event, "tid")) == 2) {
            assert_int_equal(json_integer_value(json_object_get(event, "ts")), 500000);
            assert_int_equal(json_integer_value(json_object_get(event, "dur")), 2000000);
        } else {
            assert_int_equal(json_integer_value(json_object_get(event, "tid")), 1);
            assert_int_equal(json_integer_value(
                json_object_get(json_object_get(event, "args"), "status")), 200);
        }
    }
    assert_int_equal(complete, 2);
    json_t *wrapper = json_pack("{s:O}", "traceEvents", tasks);
    json_t *r2 = metadata(wrapper, "thread_name", 2);
    assert_non_null(r2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r2, "args"), "name")),
                        "R2");
    json_decref(wrapper);
    json_decref(tasks);
}

static void an_unwritable_path_is_reported(void **state)
{
    (void)state;
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *null = fopen("/dev/null", "w");
    dup2(fileno(null), STDERR_FILENO);
    bool writable = trace_path_writable("/nonexistent-dir/trace.json", "test");
    struct trace *trace = trace_new(0.0);
    int written = trace_write(trace, "/nonexistent-dir/trace.json", "test");
    trace_free(trace);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    fclose(null);
    assert_false(writable);
    assert_int_equal(written, -1);
    assert_true(trace_path_writable(path, "test"));
}

static void a_disabled_trace_accepts_calls(void **state)
{
    (void)state;
    /* Programs run without --trace pass NULL around; that must be harmless. */
    struct trace_event *event = trace_add(NULL, "x", 1, 0.0, 1.0);
    assert_null(event);
    trace_set_text(event, "k", "v");
    trace_set_number(event, "k", 1.0);
    trace_name_task(NULL, 1, "R1");
    assert_int_equal(trace_event_count(NULL), 0);
    trace_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(writes_one_complete_event_per_task, make_path, remove_path),
        cmocka_unit_test_setup_teardown(names_the_process_and_orders_the_rows, make_path, remove_path),
        cmocka_unit_test_setup_teardown(a_one_thread_program_is_drawn_as_one_thread, make_path,
                                        remove_path),
        cmocka_unit_test_setup_teardown(an_unwritable_path_is_reported, make_path, remove_path),
        cmocka_unit_test(a_disabled_trace_accepts_calls),
    };
    return cmocka_run_group_tests_name("trace", tests, NULL, NULL);
}
