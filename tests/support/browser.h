/*
 * browser.h - a headless chromium for tests, driven over the Chrome
 * DevTools Protocol.
 *
 * chromium is started with --remote-debugging-pipe: it reads protocol
 * commands (JSON, each ended by a NUL byte) on its fd 3 and writes replies
 * and events on its fd 4.  A pipe needs no port, so nothing else on the
 * machine can talk to this browser; and a test that dies takes its browser
 * with it (PR_SET_PDEATHSIG).  Four commands are all a test needs: open a
 * page, evaluate JavaScript in it, take a screenshot, close.
 */
#ifndef ASYNCLAB_TEST_BROWSER_H
#define ASYNCLAB_TEST_BROWSER_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

struct test_browser {
    pid_t pid;
    int to_browser, from_browser;   /* our ends of its fd 3 and fd 4 */
    char *pending;                  /* bytes read past the last message */
    size_t pending_length;
    long next_id;
    char session[128];              /* the page's session, once attached */
    char profile[64];               /* a throw-away --user-data-dir */
};

/* Where chromium is ($CHROMIUM, else chromium or chromium-browser on PATH)
 * copied into path.  Returns 0, or -1 if there is none. */
int test_browser_find(char *path, size_t size);

/* Starts chromium (headless, loopback only), opens url in a new page and
 * attaches to it.  Returns 0, or -1 after printing why (and stopping
 * whatever was started). */
int test_browser_start(struct test_browser *browser, const char *chromium, const char *url);

/* Evaluates a JavaScript expression in the page; *value gets its value (a
 * new reference; the caller json_decref's it).  Returns 0, or -1 after
 * printing why. */
int test_browser_eval(struct test_browser *browser, const char *expression, json_t **value);

/* The page as it looks now, written to png_path.  Returns 0 or -1. */
int test_browser_screenshot(struct test_browser *browser, const char *png_path);

/* Closes the browser (politely, then by force after a bounded wait) and
 * removes its profile.  Safe on a browser that never started. */
void test_browser_stop(struct test_browser *browser);

#endif
