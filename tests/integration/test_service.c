/*
 * Integration tests: the service lesson's three gateways in front of a real
 * slowserver, driven by build/bin/gateway_load and by single requests.
 *
 * Concurrency is proven by the upstream's own counters (/stats
 * max_in_flight: 3K for K clients at once when the calls overlap, 1 when
 * they run in turn), and the background task's order by the gateway's own
 * trace (the task's call starts after libmicrohttpd finished with the 202),
 * never by how long anything took.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "checks.h"
#include "faulty_server.h"
#include "process.h"
#include "server.h"
#include "trace_intervals.h"

/* The lesson's 2, 3 and 1 s shrunk 20 times: 0.1, 0.15 and 0.05 s. */
#define SCALE "0.05"
#define REPLY_TIMEOUT_S 30.0

static const char *const VARIANTS[] = { "service_sync", "service_async", "service_sync_threads" };
#define VARIANT_COUNT (sizeof VARIANTS / sizeof VARIANTS[0])

static struct test_server upstream;
/* The gateway a test runs: one at a time, stopped by the teardown when a
 * failed assertion ended the test before it could stop it itself. */
static struct test_server gateway;
/* A slowserver of the test's own, to stop or kill under the gateway. */
static struct test_server doomed;
static char trace_path[64];

static int start(void **state)
{
    (void)state;
    snprintf(trace_path, sizeof trace_path, "/tmp/asynclab-service-%d.json", (int)getpid());
    return test_server_start(&upstream, "async", NULL);
}

static int stop(void **state)
{
    (void)state;
    unlink(trace_path);
    return test_server_stop(&upstream) == 0 ? 0 : -1;
}

static int stop_leftover_gateway(void **state)
{
    (void)state;
    if (gateway.pid > 0)
        test_server_stop(&gateway);
    if (doomed.pid > 0) {
        kill(doomed.pid, SIGCONT);
        test_server_stop(&doomed);
    }
    return 0;
}

/* A gateway in front of upstream_url, with extra flags. */
static void serve_in_front_of(const char *upstream_url, const char *program,
                              const char *const *extra)
{
    const char *argv[24] = { "--port", "0", "--upstream", upstream_url, "--scale", SCALE,
                             "--quiet" };
    size_t argc = 7;
    for (; extra != NULL && *extra != NULL && argc < 23; extra++)
        argv[argc++] = *extra;
    argv[argc] = NULL;
    assert_int_equal(test_program_serve(&gateway, program, argv), 0);
}

/* A gateway in front of the test's slowserver. */
static void serve(const char *program, const char *const *extra)
{
    serve_in_front_of(upstream.url, program, extra);
}

/* SIGTERM, then the gateway's summary line ("... stopped: ..."), then its
 * exit status. */
static int stop_gateway(char *summary, size_t size)
{
    kill(gateway.pid, SIGTERM);
    summary[0] = '\0';
    while (test_server_read_line(&gateway, summary, size, REPLY_TIMEOUT_S) == 0
           && strstr(summary, " stopped: ") == NULL)
        ;
    return test_server_stop(&gateway);
}

static void get(const char *method, const char *path, struct test_reply *reply)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", gateway.url, path);
    assert_int_equal(test_http(method, url, NULL, 0, REPLY_TIMEOUT_S, reply), 0);
}

/* ------------------------------------------------------------ concurrency */

/* gateway_load's K clients at once against one gateway: every reply right,
 * and the upstream saw `want_in_flight` calls at once at most. */
static void assert_fan_out(const char *program, long k, long want_in_flight)
{
    serve(program, NULL);
    assert_int_equal(test_server_reset_stats(&upstream), 0);
    char k_text[16], right[32];
    snprintf(k_text, sizeof k_text, "%ld", k);
    snprintf(right, sizeof right, "%ld/%ld", k, k);
    const char *args[] = { "--gateway", gateway.url, "--k", k_text, NULL };
    struct test_process_result result = test_run_program("gateway_load", args);
    assert_int_equal(result.exit_status, 0);
    test_assert_contains(result.out, right);
    assert_int_equal(test_server_stat(&upstream, "/items", "requests"), 3 * k);
    assert_int_equal(test_server_stat(&upstream, "/items", "max_in_flight"), want_in_flight);
    test_process_result_free(&result);
    char summary[256];
    assert_int_equal(stop_gateway(summary, sizeof summary), 0);
}

static void sync_makes_one_upstream_call_at_a_time(void **state)
{
    (void)state;
    assert_fan_out("service_sync", 3, 1);
}

static void async_has_three_calls_per_client_in_flight(void **state)
{
    (void)state;
    assert_fan_out("service_async", 5, 15);
}

static void threads_have_three_calls_per_client_in_flight(void **state)
{
    (void)state;
    assert_fan_out("service_sync_threads", 5, 15);
}

/* ------------------------------------------------------------ replies */

static void assert_part(const json_t *reply, const char *name, long user)
{
    const json_t *part = json_object_get(reply, name);
    assert_true(json_is_object(part));
    assert_int_equal(json_integer_value(json_object_get(part, "id")), user);
    assert_int_equal(json_integer_value(json_object_get(part, "value")), (user * 7919) % 1000);
}

static void every_variant_merges_the_three_replies(void **state)
{
    (void)state;
    for (size_t v = 0; v < VARIANT_COUNT; v++) {
        serve(VARIANTS[v], NULL);
        struct test_reply reply;
        get("GET", "/dashboard?user=42", &reply);
        assert_int_equal(reply.status, 200);
        json_t *merged = json_loads(reply.body, 0, NULL);
        assert_non_null(merged);
        assert_int_equal(json_integer_value(json_object_get(merged, "user")), 42);
        assert_part(merged, "profile", 42);
        assert_part(merged, "orders", 42);
        assert_part(merged, "recommendations", 42);
        assert_int_equal(json_object_size(json_object_get(merged, "failed")), 0);
        json_decref(merged);
        test_reply_free(&reply);
        char summary[256];
        assert_int_equal(stop_gateway(summary, sizeof summary), 0);
        test_assert_contains(summary, "1 dashboards (0 partial");
    }
}

/* orders asks for 5 s, and each call may take 1 s: it alone fails. */
static void a_slow_upstream_is_named_and_the_rest_is_served(void **state)
{
    (void)state;
    for (size_t v = 0; v < VARIANT_COUNT; v++) {
        const char *extra[] = { "--delays", "1,100,1", "--timeout", "1", NULL };
        serve(VARIANTS[v], extra);
        struct test_reply reply;
        get("GET", "/dashboard?user=3", &reply);
        assert_int_equal(reply.status, 200);
        json_t *merged = json_loads(reply.body, 0, NULL);
        assert_part(merged, "profile", 3);
        assert_part(merged, "recommendations", 3);
        assert_true(json_is_null(json_object_get(merged, "orders")));
        const json_t *failed = json_object_get(merged, "failed");
        assert_int_equal(json_object_size(failed), 1);
        test_assert_contains(json_string_value(json_object_get(failed, "orders")), "timed out");
        json_decref(merged);
        test_reply_free(&reply);
        char summary[256];
        assert_int_equal(stop_gateway(summary, sizeof summary), 0);
        test_assert_contains(summary, "1 dashboards (1 partial, 1 with a timeout, 0 failed)");
    }
}

static void nothing_back_is_a_504_naming_all_three(void **state)
{
    (void)state;
    const char *extra[] = { "--delays", "40,40,40", "--timeout", "0.2", NULL };
    serve("service_async", extra);
    struct test_reply reply;
    get("GET", "/dashboard", &reply);
    assert_int_equal(reply.status, 504);
    json_t *merged = json_loads(reply.body, 0, NULL);
    assert_int_equal(json_object_size(json_object_get(merged, "failed")), 3);
    json_decref(merged);
    test_reply_free(&reply);
    char summary[256];
    assert_int_equal(stop_gateway(summary, sizeof summary), 0);
}

/* ------------------------------------------------------------ the background task */

/* The 202 is out before the welcome email's call starts, by the gateway's
 * own clock: the trace's "POST /register" event ends (libmicrohttpd is
 * done with the reply) before the "welcome-email" event begins. */
static void the_background_call_starts_after_the_202(void **state)
{
    (void)state;
    for (size_t v = 0; v < VARIANT_COUNT; v++) {
        assert_int_equal(test_server_reset_stats(&upstream), 0);
        const char *extra[] = { "--trace", trace_path, "--email-delay", "2", NULL };
        serve(VARIANTS[v], extra);
        struct test_reply reply;
        get("POST", "/register?user=7", &reply);
        assert_int_equal(reply.status, 202);
        test_assert_contains(reply.body, "\"registered\":7");
        test_reply_free(&reply);
        /* Shutdown waits for the task (the grace is 10 s). */
        char summary[256];
        assert_int_equal(stop_gateway(summary, sizeof summary), 0);
        test_assert_contains(summary, "background tasks: 1 done, 0 failed, 0 dropped");
        assert_int_equal(test_server_stat(&upstream, "/process", "requests"), 1);

        long long reply_span[1][2], task_span[1][2];
        assert_int_equal(test_trace_intervals(trace_path, "POST /register", reply_span, 1), 1);
        assert_int_equal(test_trace_intervals(trace_path, "welcome-email", task_span, 1), 1);
        assert_true(reply_span[0][1] <= task_span[0][0]);
    }
}

/* A task that outlives the grace is dropped, said so, and exit 3. */
static void shutdown_reports_the_tasks_it_dropped(void **state)
{
    (void)state;
    const char *programs[] = { "service_sync", "service_async" };
    for (size_t v = 0; v < 2; v++) {
        const char *extra[] = { "--email-delay", "200", "--grace", "0", NULL };
        serve(programs[v], extra);
        struct test_reply reply;
        get("POST", "/register?user=9", &reply);
        assert_int_equal(reply.status, 202);
        test_reply_free(&reply);
        assert_int_equal(test_server_wait_stat(&upstream, "/process", "in_flight", 1, 10.0), 1);
        char summary[256];
        assert_int_equal(stop_gateway(summary, sizeof summary), 3);
        test_assert_contains(summary, "background tasks: 0 done, 0 failed, 1 dropped");
        assert_int_equal(test_server_wait_stat(&upstream, "/process", "in_flight", 0, 10.0), 0);
    }
}

/* ------------------------------------------------------------ bad input */

static void assert_status(const char *method, const char *path, long status, const char *allow)
{
    struct test_reply reply;
    get(method, path, &reply);
    assert_int_equal(reply.status, status);
    if (allow != NULL) {
        char value[32];
        assert_int_equal(test_reply_header(&reply, "Allow", value, sizeof value), 0);
        assert_string_equal(value, allow);
    }
    test_reply_free(&reply);
}

/* Connects, sends `text`, and closes without reading the reply. */
static void send_and_hang_up(const char *text)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET,
                                   .sin_port = htons((uint16_t)gateway.port) };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&address, sizeof address), 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void gateways_survive_bad_requests_and_hang_ups(void **state)
{
    (void)state;
    for (size_t v = 0; v < VARIANT_COUNT; v++) {
        assert_int_equal(test_server_reset_stats(&upstream), 0);
        serve(VARIANTS[v], NULL);
        assert_status("GET", "/dashboard?user=abc", 400, NULL);
        assert_status("GET", "/dashboard?user=-1", 400, NULL);
        assert_status("GET", "/dashboard?user=10000000000", 400, NULL);
        assert_status("GET", "/nowhere", 404, NULL);
        assert_status("POST", "/dashboard", 405, "GET");
        assert_status("GET", "/register", 405, "POST");
        send_and_hang_up("GET /dashboard?user=5 HTTP/1.1\r\nHo");
        send_and_hang_up("GET /dashboard?user=6 HTTP/1.1\r\nHost: x\r\n\r\n");
        send_and_hang_up("POST /register?user=8 HTTP/1.1\r\nHost: x\r\n"
                                   "Content-Length: 100\r\n\r\n{\"half");
        /* The one whose client left mid-request still made its calls. */
        assert_int_equal(test_server_wait_stat(&upstream, "/items", "requests", 3, 10.0), 3);
        assert_status("GET", "/dashboard?user=1", 200, NULL);
        char summary[256];
        assert_int_equal(stop_gateway(summary, sizeof summary), 0);
        test_assert_contains(summary, "6 bad requests");
    }
}

static void bad_command_lines_are_one_line_errors(void **state)
{
    (void)state;
    const char *bad_delays[] = { "--delays", "1,2", NULL };
    struct test_process_result result = test_run_program("service_async", bad_delays);
    assert_int_equal(result.exit_status, 1);
    test_assert_one_line(result.err);
    test_process_result_free(&result);

    char closed[64];
    snprintf(closed, sizeof closed, "http://127.0.0.1:%d", test_closed_port());
    const char *no_upstream[] = { "--port", "0", "--upstream", closed, NULL };
    result = test_run_program("service_sync", no_upstream);
    assert_int_equal(result.exit_status, 2);
    test_assert_one_line(result.err);
    test_process_result_free(&result);

    char port[16];
    snprintf(port, sizeof port, "%d", upstream.port);
    const char *port_in_use[] = { "--port", port, "--upstream", upstream.url, NULL };
    result = test_run_program("service_sync_threads", port_in_use);
    assert_int_equal(result.exit_status, 2);
    test_assert_one_line(result.err);
    test_process_result_free(&result);
}

/* ------------------------------------------------------------ a failing upstream */

/* The gateway's own bound on an upstream call is --timeout; the stall and
 * max-time bounds are set far beyond it, so a gateway that ignored
 * --timeout would still be waiting when the test's request gives up
 * (FAULT_REPLY_BOUND_S).  "Within its bound" is that, never a timing. */
#define FAULT_TIMEOUT "0.5"
#define FAULT_REPLY_BOUND_S 20.0
#define FAR_BOUNDS "--stall-timeout", "60", "--max-time", "120"

/* A dashboard request on a thread of its own, so that the test can stop or
 * kill the upstream while the gateway is fetching. */
struct pending_get {
    char url[256];
    struct test_reply reply;
    int got;            /* test_http's return value */
    pthread_t thread;
};

static void *get_in_background(void *argument)
{
    struct pending_get *pending = argument;
    pending->got = test_http("GET", pending->url, NULL, 0, FAULT_REPLY_BOUND_S, &pending->reply);
    return NULL;
}

static void start_get(struct pending_get *pending, const char *path)
{
    memset(pending, 0, sizeof *pending);
    snprintf(pending->url, sizeof pending->url, "%s%s", gateway.url, path);
    assert_int_equal(pthread_create(&pending->thread, NULL, get_in_background, pending), 0);
}

static void finish_get(struct pending_get *pending)
{
    pthread_join(pending->thread, NULL);
    assert_int_equal(pending->got, 0);  /* a reply came, within the bound */
}

/* A dashboard whose three parts all failed: `status`, every part null and
 * named under "failed", each reason mentioning `why` (NULL: not checked). */
static void assert_all_parts_failed(const struct test_reply *reply, long status, const char *why)
{
    assert_int_equal(reply->status, status);
    json_t *merged = json_loads(reply->body, 0, NULL);
    assert_non_null(merged);
    const json_t *failed = json_object_get(merged, "failed");
    assert_int_equal(json_object_size(failed), 3);
    const char *names[] = { "profile", "orders", "recommendations" };
    for (size_t i = 0; i < 3; i++) {
        assert_true(json_is_null(json_object_get(merged, names[i])));
        const char *reason = json_string_value(json_object_get(failed, names[i]));
        assert_non_null(reason);
        if (why != NULL)
            test_assert_contains(reason, why);
    }
    json_decref(merged);
}

/* The gateway is still up and its own: /health answers 200. */
static void assert_gateway_healthy(void)
{
    struct test_reply reply;
    get("GET", "/health", &reply);
    assert_int_equal(reply.status, 200);
    test_reply_free(&reply);
}

struct upstream_fault {
    enum faulty_fault fault;
    long status;        /* the gateway's reply to its client */
    const char *why;    /* in each part's reason */
    int timed_out;      /* dashboards counted "with a timeout" */
};

/* Timed out: 504 Gateway Timeout.  Answered wrongly: 502 Bad Gateway. */
static const struct upstream_fault FAULTS[] = {
    { FAULTY_SILENT, 504, "timed out after 0.5 s", 1 },
    { FAULTY_HEADERS_THEN_SILENCE, 504, "timed out after 0.5 s", 1 },
    { FAULTY_GARBAGE, 502, NULL, 0 },
    { FAULTY_STATUS_500, 502, "HTTP 500", 0 },
    { FAULTY_CLOSE_AFTER_HEADERS, 502, NULL, 0 },
};

/* One dashboard and one registration against an upstream that fails: the
 * dashboard gets the fault's status, the 202 still comes (the task fails
 * after it), the gateway stays up, and its summary counts exactly that:
 * one dashboard, failed; one background task, failed; exit 3. */
static void assert_gateway_survives(const char *program, const struct upstream_fault *fault)
{
    struct faulty_server bad;
    assert_int_equal(faulty_server_start(&bad, fault->fault), 0);
    const char *extra[] = { "--timeout", FAULT_TIMEOUT, FAR_BOUNDS, NULL };
    serve_in_front_of(bad.url, program, extra);
    struct pending_get dashboard;
    start_get(&dashboard, "/dashboard?user=4");
    finish_get(&dashboard);
    assert_all_parts_failed(&dashboard.reply, fault->status, fault->why);
    test_reply_free(&dashboard.reply);

    struct test_reply reply;
    get("POST", "/register?user=5", &reply);
    assert_int_equal(reply.status, 202);
    test_reply_free(&reply);
    assert_gateway_healthy();

    char summary[256], want[200];
    assert_int_equal(stop_gateway(summary, sizeof summary), 3);
    snprintf(want, sizeof want, "1 dashboards (0 partial, %d with a timeout, 1 failed), "
             "0 bad requests; background tasks: 0 done, 1 failed, 0 dropped", fault->timed_out);
    test_assert_contains(summary, want);
    /* Three calls and the email met the fault: nothing was retried. */
    assert_int_equal(faulty_server_stop(&bad), 4);
}

static void a_failing_upstream_is_a_502_or_504_and_the_gateway_stays_up(void **state)
{
    (void)state;
    for (size_t v = 0; v < VARIANT_COUNT; v++)
        for (size_t f = 0; f < sizeof FAULTS / sizeof FAULTS[0]; f++) {
            print_message("%s, upstream %s\n", VARIANTS[v], faulty_fault_name(FAULTS[f].fault));
            assert_gateway_survives(VARIANTS[v], &FAULTS[f]);
        }
}

/* Headers, then no byte for --stall-timeout: the stall bound, shorter than
 * --timeout here, ends the calls, and the reason says so rather than
 * blaming a --timeout that never ran out. */
static void a_stalled_upstream_is_named_as_stalled(void **state)
{
    (void)state;
    struct faulty_server bad;
    assert_int_equal(faulty_server_start(&bad, FAULTY_HEADERS_THEN_SILENCE), 0);
    const char *extra[] = { "--timeout", "60", "--stall-timeout", "1", NULL };
    serve_in_front_of(bad.url, "service_async", extra);
    struct pending_get dashboard;
    start_get(&dashboard, "/dashboard?user=4");
    finish_get(&dashboard);
    assert_all_parts_failed(&dashboard.reply, 504, "stalled: ");
    test_reply_free(&dashboard.reply);
    char summary[256];
    assert_int_equal(stop_gateway(summary, sizeof summary), 0);
    test_assert_contains(summary, "1 dashboards (0 partial, 1 with a timeout, 1 failed)");
    assert_int_equal(faulty_server_stop(&bad), 3);
}

/* Starts `doomed` and the gateway `program` in front of it, asks for a
 * dashboard in the background, and returns once the upstream holds the
 * calls the variant makes at once (three, or sync's one in turn): the
 * upstream's own count says they are in flight, not a pause. */
static void fetch_until_the_upstream_holds_them(const char *program, const char *const *extra,
                                                struct pending_get *dashboard)
{
    assert_int_equal(test_server_start(&doomed, "async", NULL), 0);
    serve_in_front_of(doomed.url, program, extra);
    start_get(dashboard, "/dashboard?user=2");
    long at_once = strcmp(program, "service_sync") == 0 ? 1 : 3;
    assert_int_equal(test_server_wait_stat(&doomed, "/items", "in_flight", at_once, 10.0),
                     at_once);
}

/* slowserver stopped (SIGSTOP) while the calls wait for it: 504 within
 * --timeout; once it runs again (SIGCONT) the same gateway serves whole
 * dashboards again. */
static void a_stopped_upstream_is_a_504_until_it_runs_again(void **state)
{
    (void)state;
    for (size_t v = 0; v < VARIANT_COUNT; v++) {
        /* 0.5 s calls: still in flight when the signal lands. */
        const char *extra[] = { "--delays", "10,10,10", "--timeout", "1.5", FAR_BOUNDS, NULL };
        struct pending_get dashboard;
        fetch_until_the_upstream_holds_them(VARIANTS[v], extra, &dashboard);
        kill(doomed.pid, SIGSTOP);
        finish_get(&dashboard);
        assert_all_parts_failed(&dashboard.reply, 504, "timed out after 1.5 s");
        test_reply_free(&dashboard.reply);
        assert_gateway_healthy();

        kill(doomed.pid, SIGCONT);
        struct test_reply reply;
        get("GET", "/dashboard?user=3", &reply);
        assert_int_equal(reply.status, 200);
        json_t *merged = json_loads(reply.body, 0, NULL);
        assert_part(merged, "profile", 3);
        assert_part(merged, "orders", 3);
        assert_part(merged, "recommendations", 3);
        json_decref(merged);
        test_reply_free(&reply);
        char summary[256];
        assert_int_equal(stop_gateway(summary, sizeof summary), 0);
        test_assert_contains(summary, "2 dashboards (0 partial, 1 with a timeout, 1 failed)");
        assert_int_equal(test_server_stop(&doomed), 0);
    }
}

/* slowserver killed (SIGKILL) while the calls wait for it: 502 at once,
 * not a wait for --timeout (30 s, beyond the test's 20 s bound); the next
 * dashboard, refused a connection, is a 502 too, and the gateway stays up
 * and stops cleanly. */
static void a_killed_upstream_is_a_502(void **state)
{
    (void)state;
    for (size_t v = 0; v < VARIANT_COUNT; v++) {
        const char *extra[] = { "--delays", "200,200,200", "--timeout", "30", FAR_BOUNDS, NULL };
        struct pending_get dashboard;
        fetch_until_the_upstream_holds_them(VARIANTS[v], extra, &dashboard);
        kill(doomed.pid, SIGKILL);
        test_server_stop(&doomed);  /* reaps it */
        finish_get(&dashboard);
        assert_all_parts_failed(&dashboard.reply, 502, NULL);
        test_reply_free(&dashboard.reply);

        struct test_reply reply;
        get("GET", "/dashboard?user=3", &reply);
        assert_all_parts_failed(&reply, 502, NULL);
        test_reply_free(&reply);
        assert_gateway_healthy();
        char summary[256];
        assert_int_equal(stop_gateway(summary, sizeof summary), 0);
        test_assert_contains(summary, "2 dashboards (0 partial, 0 with a timeout, 2 failed)");
    }
}

/* ------------------------------------------------------------ the model and the driver */

static void predict_gives_the_lessons_model(void **state)
{
    (void)state;
    const char *one[] = { "--predict", NULL };
    struct test_process_result result = test_run_program("service_sync", one);
    assert_int_equal(result.exit_status, 0);
    test_assert_contains(result.out, "Predicted time: 6.000 s");
    test_process_result_free(&result);
    result = test_run_program("service_async", one);
    test_assert_contains(result.out, "Predicted time: 3.000 s");
    test_process_result_free(&result);
    const char *ten[] = { "--predict", "--clients", "10", NULL };
    result = test_run_program("service_sync", ten);
    test_assert_contains(result.out, "Predicted time: 60.000 s");
    test_process_result_free(&result);
    result = test_run_program("service_sync_threads", ten);
    test_assert_contains(result.out, "Predicted time: 3.000 s");
    test_process_result_free(&result);
}

/* The whole run-scenario path at a tiny scale and K: it starts the
 * gateways itself and records what the upstream saw. */
static void the_driver_runs_each_variant_and_records_the_upstream(void **state)
{
    (void)state;
    char json_path[80];
    snprintf(json_path, sizeof json_path, "/tmp/asynclab-service-load-%d.json", (int)getpid());
    const char *args[] = { "--scale", "0.02", "--k", "1,4", "--variants", "sync,async",
                           "--upstream", upstream.url, "--json", json_path, NULL };
    struct test_process_result result = test_run_program("gateway_load", args);
    assert_int_equal(result.exit_status, 0);
    json_t *document = json_load_file(json_path, 0, NULL);
    unlink(json_path);
    const json_t *runs = json_object_get(document, "runs");
    assert_int_equal(json_array_size(runs), 4);
    const long want_in_flight[] = { 1, 1, 3, 12 };  /* sync K=1,4; async K=1,4 */
    for (size_t i = 0; i < 4; i++) {
        const json_t *run = json_array_get(runs, i);
        long k = (long)json_integer_value(json_object_get(run, "k"));
        assert_int_equal(json_integer_value(json_object_get(run, "right")), k);
        assert_int_equal(json_integer_value(json_object_get(run, "upstream_max_in_flight")),
                         want_in_flight[i]);
        assert_int_equal(json_integer_value(json_object_get(run, "gateway_exit")), 0);
        assert_true(json_real_value(json_object_get(run, "p99_s"))
                    >= json_real_value(json_object_get(run, "p50_s")));
    }
    json_decref(document);
    test_process_result_free(&result);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(sync_makes_one_upstream_call_at_a_time, stop_leftover_gateway),
        cmocka_unit_test_teardown(async_has_three_calls_per_client_in_flight, stop_leftover_gateway),
        cmocka_unit_test_teardown(threads_have_three_calls_per_client_in_flight, stop_leftover_gateway),
        cmocka_unit_test_teardown(every_variant_merges_the_three_replies, stop_leftover_gateway),
        cmocka_unit_test_teardown(a_slow_upstream_is_named_and_the_rest_is_served, stop_leftover_gateway),
        cmocka_unit_test_teardown(nothing_back_is_a_504_naming_all_three, stop_leftover_gateway),
        cmocka_unit_test_teardown(the_background_call_starts_after_the_202, stop_leftover_gateway),
        cmocka_unit_test_teardown(shutdown_reports_the_tasks_it_dropped, stop_leftover_gateway),
        cmocka_unit_test_teardown(gateways_survive_bad_requests_and_hang_ups, stop_leftover_gateway),
        cmocka_unit_test_teardown(a_failing_upstream_is_a_502_or_504_and_the_gateway_stays_up,
                                  stop_leftover_gateway),
        cmocka_unit_test_teardown(a_stalled_upstream_is_named_as_stalled, stop_leftover_gateway),
        cmocka_unit_test_teardown(a_stopped_upstream_is_a_504_until_it_runs_again,
                                  stop_leftover_gateway),
        cmocka_unit_test_teardown(a_killed_upstream_is_a_502, stop_leftover_gateway),
        cmocka_unit_test_teardown(bad_command_lines_are_one_line_errors, stop_leftover_gateway),
        cmocka_unit_test_teardown(predict_gives_the_lessons_model, stop_leftover_gateway),
        cmocka_unit_test_teardown(the_driver_runs_each_variant_and_records_the_upstream, stop_leftover_gateway),
    };
    return cmocka_run_group_tests(tests, start, stop);
}
