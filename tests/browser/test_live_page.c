/*
 * Browser test (`make test-browser`): the live view in a real, headless
 * chromium, against a real slowserver, while slow_api's programs run.
 *
 * The page keeps what it has seen as data-* attributes on <main id="live">
 * (server/live/live.js); the test reads them back through the DevTools
 * protocol.  That the page saw three requests in flight at once for async,
 * and never more than one for sync, is the lesson's claim, checked where
 * the student sees it.  A screenshot of each run goes to
 * $ASYNCLAB_SCREENSHOTS (default /tmp).
 *
 * Without chromium (and when `make test-browser` could not install it) the
 * tests say so and are skipped: never passed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "browser.h"
#include "checks.h"
#include "clock.h"
#include "process.h"
#include "server.h"

#define REQUESTS 3               /* slow_api's three calls */
#define SCALE "0.2"              /* its delays 10, 2, 5 s become 2, 0.4, 1 s */
#define WAIT_S 60.0              /* bound on the page catching up */

static struct test_server server;
static struct test_browser browser;
static char why_no_browser[256];

static int start_all(void **state)
{
    (void)state;
    char chromium[256];
    if (test_browser_find(chromium, sizeof chromium) != 0) {
        const char *chosen = getenv("CHROMIUM");
        if (chosen != NULL && *chosen != '\0')
            snprintf(why_no_browser, sizeof why_no_browser,
                     "CHROMIUM=%s is not a program that can be run", chosen);
        else
            snprintf(why_no_browser, sizeof why_no_browser,
                     "chromium is not installed (make test-browser installs it as root; "
                     "or set CHROMIUM to one)");
        return 0;
    }
    if (test_server_start(&server, "async", NULL) != 0)
        return -1;
    char url[128];
    snprintf(url, sizeof url, "%s/live", server.url);
    if (test_browser_start(&browser, chromium, url) != 0) {
        test_server_stop(&server);
        return -1;
    }
    return 0;
}

static int stop_all(void **state)
{
    (void)state;
    test_browser_stop(&browser);
    if (server.pid > 0)
        test_server_stop(&server);
    return 0;
}

static void skip_without_browser(void)
{
    if (why_no_browser[0] != '\0') {
        printf("SKIPPED: %s\n", why_no_browser);
        skip();
    }
}

/* One of the page's data-* numbers ("maxInFlight", "seen", ...). */
static long page_number(const char *name)
{
    char expression[160];
    snprintf(expression, sizeof expression,
             "Number(document.getElementById('live').dataset.%s)", name);
    json_t *value;
    if (test_browser_eval(&browser, expression, &value) != 0)
        fail_msg("could not read data-%s from the page", name);
    long number = json_is_number(value) ? (long)json_number_value(value) : -1;
    json_decref(value);
    return number;
}

static const char *page_text(const char *expression)
{
    static char text[256];
    json_t *value;
    if (test_browser_eval(&browser, expression, &value) != 0)
        fail_msg("could not evaluate %s", expression);
    snprintf(text, sizeof text, "%s", json_is_string(value) ? json_string_value(value) : "?");
    json_decref(value);
    return text;
}

/* Polls a page number until it is want; returns the last value read. */
static long wait_for_page(const char *name, long want)
{
    double deadline = clock_now() + WAIT_S;
    long value;
    while ((value = page_number(name)) != want && clock_now() < deadline) {
        struct timespec pause = { 0, 50 * 1000 * 1000 };
        nanosleep(&pause, NULL);
    }
    return value;
}

static void screenshot(const char *name)
{
    const char *directory = getenv("ASYNCLAB_SCREENSHOTS");
    char path[512];
    snprintf(path, sizeof path, "%s/live-%s.png", directory && *directory ? directory : "/tmp", name);
    assert_int_equal(test_browser_screenshot(&browser, path), 0);
    printf("screenshot: %s\n", path);
}

/* A lesson program run on a thread of its own, so that the test can look
 * at the page while the program's requests wait. */
struct program_run {
    char path[512];
    const char *argv[8];
    struct test_process_result result;
    int started;
    atomic_bool over;
};

static void *run_program(void *arg)
{
    struct program_run *run = arg;
    run->started = test_run(run->argv, TEST_RUN_TIMEOUT_S, &run->result);
    atomic_store(&run->over, true);
    return NULL;
}

/* Runs program against the server and waits until the page has seen all
 * its requests finish.  Screenshots: "<name>-waiting" once the page shows
 * `held` requests waiting at once (if it catches that moment), and
 * "<name>" at the end. */
static void run_and_screenshot(const char *program, const char *name, long held)
{
    double deadline = clock_now() + WAIT_S;
    /* ?. : until the page has loaded, there is no element to ask. */
    while (strcmp(page_text("document.getElementById('live')?.dataset.connected ?? 'loading'"), "yes") != 0)
        if (clock_now() > deadline)
            fail_msg("the page never connected to /live/events");
    struct program_run run = { .over = false };
    snprintf(run.path, sizeof run.path, "%s", test_bin(program));
    const char *argv[] = { run.path, "--url", server.url, "--scale", SCALE, "--quiet", NULL };
    memcpy(run.argv, argv, sizeof argv);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, run_program, &run), 0);
    while (!atomic_load(&run.over) && page_number("open") < held)
        ;                            /* each look is a round trip to the browser */
    char waiting[64];
    snprintf(waiting, sizeof waiting, "%s-waiting", name);
    if (!atomic_load(&run.over)) {
        /* A quarter of a second for the bars to grow: less than the 0.4 s
         * that all three of async's requests wait together. */
        struct timespec pause = { 0, 250 * 1000 * 1000 };
        nanosleep(&pause, NULL);
        screenshot(waiting);
    }
    else
        printf("no %s screenshot: the run ended before the page showed %ld waiting\n", waiting, held);
    pthread_join(thread, NULL);
    assert_int_equal(run.started, 0);
    assert_int_equal(run.result.exit_status, 0);
    test_process_result_free(&run.result);
    long finished = wait_for_page("finished", REQUESTS);
    if (finished != REQUESTS)
        fail_msg("the page saw %ld requests finish, not %d; it shows: %s", finished, REQUESTS,
                 page_text("document.getElementById('recent').innerText"));
    assert_int_equal(page_number("seen"), REQUESTS);
    assert_int_equal(page_number("dropped"), 0);
    screenshot(name);
}

static void the_page_sees_sync_wait_one_at_a_time(void **state)
{
    (void)state;
    skip_without_browser();
    run_and_screenshot("slow_api_sync", "sync", 1);
    long max = page_number("maxInFlight");
    printf("page after slow_api_sync: most in flight at once %ld\n", max);
    assert_int_equal(max, 1);
}

static void the_page_sees_async_hold_all_three_at_once(void **state)
{
    (void)state;
    skip_without_browser();
    /* The page's own "clear" button: forget the sync run's requests. */
    page_text("document.getElementById('clear').click(), 'clicked'");
    assert_int_equal(page_number("seen"), 0);
    run_and_screenshot("slow_api_async", "async", REQUESTS);
    long max = page_number("maxInFlight");
    printf("page after slow_api_async: most in flight at once %ld\n", max);
    assert_int_equal(max, REQUESTS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_page_sees_sync_wait_one_at_a_time),
        cmocka_unit_test(the_page_sees_async_hold_all_three_at_once),
    };
    return cmocka_run_group_tests_name("browser", tests, start_all, stop_all);
}
