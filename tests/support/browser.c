/* browser.c - a headless chromium driven over its DevTools pipe; see browser.h. */
#include "browser.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "files.h"
#include "process.h"

/* Bound on any one protocol command (a cold chromium start on a loaded
 * machine is the slowest of them). */
#define COMMAND_TIMEOUT_S 30.0
#define CLOSE_TIMEOUT_S 5.0

int test_browser_find(char *path, size_t size)
{
    const char *chosen = getenv("CHROMIUM");
    if (chosen != NULL && *chosen != '\0') {
        snprintf(path, size, "%s", chosen);
        return access(path, X_OK) == 0 ? 0 : -1;
    }
    const char *names[] = { "chromium", "chromium-browser" };
    const char *directories[] = { "/usr/bin", "/usr/local/bin", "/snap/bin" };
    for (size_t n = 0; n < sizeof names / sizeof names[0]; n++)
        for (size_t d = 0; d < sizeof directories / sizeof directories[0]; d++) {
            snprintf(path, size, "%s/%s", directories[d], names[n]);
            if (access(path, X_OK) == 0)
                return 0;
        }
    return -1;
}

/* In the child: the browser's end of each pipe onto fd 3 and fd 4, which
 * is where --remote-debugging-pipe looks for them.  Moved above 10 first,
 * so that the two dup2 calls cannot overwrite each other's source. */
static void place_pipes(int commands, int replies)
{
    int high_commands = fcntl(commands, F_DUPFD, 10);
    int high_replies = fcntl(replies, F_DUPFD, 10);
    if (high_commands < 0 || high_replies < 0 || dup2(high_commands, 3) < 0
        || dup2(high_replies, 4) < 0)
        _exit(127);
    close(high_commands);
    close(high_replies);
}

static int launch(struct test_browser *browser, const char *chromium)
{
    int commands[2], replies[2];
    if (pipe2(commands, O_CLOEXEC) != 0 || pipe2(replies, O_CLOEXEC) != 0)
        return -1;
    char profile_flag[96], log_path[96];
    snprintf(profile_flag, sizeof profile_flag, "--user-data-dir=%s", browser->profile);
    snprintf(log_path, sizeof log_path, "%s.log", browser->profile);
    pid_t pid = fork();
    if (pid == 0) {
        /* A test that crashes or is killed takes its browser with it. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        place_pipes(commands[0], replies[1]);
        /* Its chatter goes to a file, shown only if something fails. */
        int log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (log >= 0) {
            dup2(log, STDOUT_FILENO);
            dup2(log, STDERR_FILENO);
        }
        /* Headless, nothing fetched from the network on its own, no
         * first-run questions; --no-sandbox because tests run as root. */
        execl(chromium, chromium, "--headless", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
              "--disable-extensions", "--disable-background-networking", "--disable-sync",
              "--disable-component-update", "--no-proxy-server", "--window-size=1200,1100",
              "--remote-debugging-pipe", profile_flag, "about:blank", (char *)NULL);
        _exit(127);
    }
    close(commands[0]);
    close(replies[1]);
    if (pid < 0) {
        close(commands[1]);
        close(replies[0]);
        return -1;
    }
    browser->pid = pid;
    browser->to_browser = commands[1];
    browser->from_browser = replies[0];
    return 0;
}

static void show_browser_log(const struct test_browser *browser)
{
    char path[96], line[512];
    snprintf(path, sizeof path, "%s.log", browser->profile);
    FILE *log = fopen(path, "r");
    if (log == NULL)
        return;
    fprintf(stderr, "chromium's log:\n");
    while (fgets(line, sizeof line, log) != NULL)
        fprintf(stderr, "  %s", line);
    fclose(log);
}

/* ------------------------------------------------------------ messages */

static int send_message(struct test_browser *browser, const char *text)
{
    size_t length = strlen(text) + 1;     /* the NUL ends the message */
    for (size_t sent = 0; sent < length;) {
        ssize_t wrote = write(browser->to_browser, text + sent, length - sent);
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote <= 0)
            return -1;
        sent += (size_t)wrote;
    }
    return 0;
}

/* The next whole message from the browser (parsed), or NULL when none
 * came before deadline or the pipe closed. */
static json_t *next_message(struct test_browser *browser, double deadline)
{
    for (;;) {
        char *end = memchr(browser->pending, '\0', browser->pending_length);
        if (end != NULL) {
            size_t length = (size_t)(end - browser->pending);
            json_t *message = json_loadb(browser->pending, length, 0, NULL);
            browser->pending_length -= length + 1;
            memmove(browser->pending, end + 1, browser->pending_length);
            if (message != NULL)
                return message;
            continue;
        }
        double left = deadline - clock_now();
        struct pollfd poller = { .fd = browser->from_browser, .events = POLLIN };
        if (left <= 0 || poll(&poller, 1, (int)(left * 1000) + 1) <= 0)
            return NULL;
        char chunk[65536];
        ssize_t got = read(browser->from_browser, chunk, sizeof chunk);
        if (got <= 0)
            return NULL;
        char *grown = realloc(browser->pending, browser->pending_length + (size_t)got);
        if (grown == NULL)
            return NULL;
        browser->pending = grown;
        memcpy(browser->pending + browser->pending_length, chunk, (size_t)got);
        browser->pending_length += (size_t)got;
    }
}

/* Sends method with params (taken; NULL for none), in the page's session
 * if in_page, and returns the reply's "result" (a new reference), skipping
 * the events that arrive meanwhile.  NULL after printing why. */
static json_t *command(struct test_browser *browser, const char *method, json_t *params,
                       bool in_page)
{
    long id = ++browser->next_id;
    json_t *message = json_pack("{s:I, s:s, s:o}", "id", (json_int_t)id, "method", method,
                                "params", params != NULL ? params : json_object());
    if (message != NULL && in_page)
        json_object_set_new(message, "sessionId", json_string(browser->session));
    char *text = message != NULL ? json_dumps(message, JSON_COMPACT) : NULL;
    json_decref(message);
    int sent = text != NULL ? send_message(browser, text) : -1;
    free(text);
    if (sent != 0) {
        fprintf(stderr, "browser: cannot send %s (did chromium exit?)\n", method);
        return NULL;
    }
    double deadline = clock_now() + COMMAND_TIMEOUT_S;
    json_t *reply;
    while ((reply = next_message(browser, deadline)) != NULL) {
        json_t *reply_id = json_object_get(reply, "id");
        if (json_is_integer(reply_id) && json_integer_value(reply_id) == id)
            break;
        json_decref(reply);          /* an event, or an older reply */
    }
    if (reply == NULL) {
        fprintf(stderr, "browser: no reply to %s within %.0f s\n", method, COMMAND_TIMEOUT_S);
        return NULL;
    }
    json_t *result = json_incref(json_object_get(reply, "result"));
    if (result == NULL) {
        char *error = json_dumps(json_object_get(reply, "error"), JSON_COMPACT);
        fprintf(stderr, "browser: %s failed: %s\n", method, error ? error : "?");
        free(error);
    }
    json_decref(reply);
    return result;
}

/* ------------------------------------------------------------ the page */

static int open_page(struct test_browser *browser, const char *url)
{
    json_t *target = command(browser, "Target.createTarget", json_pack("{s:s}", "url", url), false);
    const char *target_id = json_string_value(json_object_get(target, "targetId"));
    json_t *attached = target_id == NULL ? NULL
        : command(browser, "Target.attachToTarget",
                  json_pack("{s:s, s:b}", "targetId", target_id, "flatten", 1), false);
    const char *session = json_string_value(json_object_get(attached, "sessionId"));
    if (session != NULL)
        snprintf(browser->session, sizeof browser->session, "%s", session);
    json_decref(target);
    json_decref(attached);
    return session != NULL ? 0 : -1;
}

int test_browser_start(struct test_browser *browser, const char *chromium, const char *url)
{
    memset(browser, 0, sizeof *browser);
    browser->to_browser = browser->from_browser = -1;
    snprintf(browser->profile, sizeof browser->profile, "/tmp/asynclab-chromium-XXXXXX");
    if (mkdtemp(browser->profile) == NULL) {
        fprintf(stderr, "browser: cannot make a profile directory: %s\n", strerror(errno));
        browser->profile[0] = '\0';
        return -1;
    }
    if (launch(browser, chromium) != 0 || open_page(browser, url) != 0) {
        fprintf(stderr, "browser: could not open %s in %s\n", url, chromium);
        show_browser_log(browser);
        test_browser_stop(browser);
        return -1;
    }
    return 0;
}

int test_browser_eval(struct test_browser *browser, const char *expression, json_t **value)
{
    json_t *result = command(browser, "Runtime.evaluate",
                             json_pack("{s:s, s:b}", "expression", expression, "returnByValue", 1),
                             true);
    json_t *exception = json_object_get(result, "exceptionDetails");
    json_t *remote = json_object_get(result, "result");
    *value = exception == NULL && remote != NULL ? json_incref(json_object_get(remote, "value")) : NULL;
    if (*value == NULL && result != NULL) {
        char *details = json_dumps(exception != NULL ? exception : result, JSON_COMPACT);
        fprintf(stderr, "browser: %s gave no value: %s\n", expression, details ? details : "?");
        free(details);
    }
    json_decref(result);
    return *value != NULL ? 0 : -1;
}

int test_browser_screenshot(struct test_browser *browser, const char *png_path)
{
    json_t *shot = command(browser, "Page.captureScreenshot", json_pack("{s:s}", "format", "png"), true);
    const char *data = json_string_value(json_object_get(shot, "data"));
    int status = -1;
    if (data != NULL) {
        /* The protocol sends the image as base64; coreutils decodes it. */
        char decode[512];
        snprintf(decode, sizeof decode, "base64 -d > '%s'", png_path);
        FILE *out = popen(decode, "w");
        if (out != NULL) {
            bool written = fputs(data, out) >= 0;
            status = pclose(out) == 0 && written ? 0 : -1;
        }
    }
    if (status != 0)
        fprintf(stderr, "browser: could not write a screenshot to %s\n", png_path);
    json_decref(shot);
    return status;
}

/* ------------------------------------------------------------ closing */

static bool exited_within(pid_t pid, double seconds)
{
    double deadline = clock_now() + seconds;
    do {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return true;
        struct timespec pause = { 0, 20 * 1000 * 1000 };
        nanosleep(&pause, NULL);
    } while (clock_now() < deadline);
    return false;
}

void test_browser_stop(struct test_browser *browser)
{
    if (browser->pid > 0 && browser->to_browser >= 0)
        json_decref(command(browser, "Browser.close", NULL, false));
    if (browser->to_browser >= 0)
        close(browser->to_browser);
    if (browser->from_browser >= 0)
        close(browser->from_browser);
    browser->to_browser = browser->from_browser = -1;
    if (browser->pid > 0 && !exited_within(browser->pid, CLOSE_TIMEOUT_S)) {
        kill(browser->pid, SIGKILL);
        waitpid(browser->pid, NULL, 0);
    }
    browser->pid = 0;
    free(browser->pending);
    browser->pending = NULL;
    browser->pending_length = 0;
    if (browser->profile[0] != '\0') {
        char log_path[96];
        snprintf(log_path, sizeof log_path, "%s.log", browser->profile);
        unlink(log_path);
        test_remove_tree(browser->profile);
        browser->profile[0] = '\0';
    }
}
