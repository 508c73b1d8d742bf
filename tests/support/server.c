/* server.c - start and stop a slowserver for a test, talk HTTP to it; see server.h. */
#include "server.h"

#include "clock.h"
#include "process.h"
#include "lib/launch.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Generous: under valgrind or the sanitizers the server starts slowly. */
#define START_TIMEOUT_S 10.0
#define STOP_TIMEOUT_S 10.0

static void pause_briefly(double seconds)
{
    struct timespec pause = { 0, (long)(seconds * 1e9) };
    nanosleep(&pause, NULL);
}

/* ------------------------------------------------------------ the process */

int test_server_read_line(struct test_server *server, char *line, size_t size, double timeout_s)
{
    /* Byte by byte, so nothing after the line is consumed from the pipe. */
    double deadline = clock_now() + timeout_s;
    size_t length = 0;
    while (length + 1 < size) {
        double left = deadline - clock_now();
        struct pollfd ready = { .fd = server->stdout_fd, .events = POLLIN };
        if (left <= 0 || poll(&ready, 1, (int)(left * 1000) + 1) <= 0)
            return -1;
        char c;
        ssize_t got = read(server->stdout_fd, &c, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        if (c == '\n')
            break;
        line[length++] = c;
    }
    line[length] = '\0';
    return 0;
}

/* Starts argv (argv[0] a path) with its stdout on a pipe and reads its
 * first line, "listening on URL". */
static int start_listening(struct test_server *server, const char *const *argv)
{
    const char *path = argv[0];
    memset(server, 0, sizeof *server);
    server->stdout_fd = -1;
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        perror("test_server_start: pipe");
        return -1;
    }
    /* The harness's launcher: the server dies with the test (process.h). */
    server->pid = launch_start("test_server_start", (char *const *)argv, out[1]);
    close(out[1]);
    server->stdout_fd = out[0];
    if (server->pid < 0) {
        close(out[0]);
        server->stdout_fd = -1;
        server->pid = 0;
        return -1;
    }
    char line[128];
    const char *prefix = "listening on ";
    size_t prefix_length = strlen(prefix);
    if (test_server_read_line(server, line, sizeof line, START_TIMEOUT_S) != 0
        || strncmp(line, prefix, prefix_length) != 0
        || strlen(line + prefix_length) >= sizeof server->url) {
        fprintf(stderr, "test_server_start: %s did not say where it listens\n", path);
        test_server_stop(server);
        return -1;
    }
    const char *colon = strrchr(line, ':');
    server->port = colon != NULL ? atoi(colon + 1) : 0;
    memcpy(server->url, line + prefix_length, strlen(line + prefix_length) + 1);
    return 0;
}

static int start(struct test_server *server, const char *mode, const char *const *extra_args,
                 bool quiet)
{
    char path[512];
    snprintf(path, sizeof path, "%s/slowserver", ASYNCLAB_BIN_DIR);
    const char *argv[32] = { path, "--port", "0", "--mode", mode };
    int argc = 5;
    if (quiet)
        argv[argc++] = "--quiet";
    for (; extra_args != NULL && *extra_args != NULL && argc < 31; extra_args++)
        argv[argc++] = *extra_args;
    argv[argc] = NULL;
    return start_listening(server, argv);
}

int test_program_serve(struct test_server *server, const char *program,
                       const char *const *arguments)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", ASYNCLAB_BIN_DIR, program);
    const char *argv[32] = { path };
    int argc = 1;
    for (; arguments != NULL && *arguments != NULL && argc < 31; arguments++)
        argv[argc++] = *arguments;
    argv[argc] = NULL;
    return start_listening(server, argv);
}

int test_server_start(struct test_server *server, const char *mode, const char *const *extra_args)
{
    return start(server, mode, extra_args, true);
}

int test_server_start_verbose(struct test_server *server, const char *mode,
                              const char *const *extra_args)
{
    return start(server, mode, extra_args, false);
}

int test_server_stop(struct test_server *server)
{
    int result = -1;
    if (server->pid > 0) {
        kill(server->pid, SIGTERM);
        double deadline = clock_now() + STOP_TIMEOUT_S;
        int status = 0;
        pid_t done = 0;
        while ((done = waitpid(server->pid, &status, WNOHANG)) == 0
               && clock_now() < deadline)
            pause_briefly(0.01);
        if (done == 0) {
            fprintf(stderr, "test_server_stop: server %d ignored SIGTERM; killing it\n",
                    (int)server->pid);
            kill(server->pid, SIGKILL);
            waitpid(server->pid, &status, 0);
        } else if (done > 0) {
            result = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        server->pid = 0;
    }
    if (server->stdout_fd >= 0)
        close(server->stdout_fd);
    server->stdout_fd = -1;
    return result;
}

/* ------------------------------------------------------------ HTTP */

struct buffer {
    char *data;
    size_t length;
};

static size_t append(char *data, size_t size, size_t count, void *userdata)
{
    struct buffer *buffer = userdata;
    size_t bytes = size * count;
    char *grown = realloc(buffer->data, buffer->length + bytes + 1);
    if (grown == NULL)
        return 0;
    memcpy(grown + buffer->length, data, bytes);
    buffer->data = grown;
    buffer->length += bytes;
    buffer->data[buffer->length] = '\0';
    return bytes;
}

static char *take(struct buffer *buffer)
{
    return buffer->data != NULL ? buffer->data : strdup("");
}

int test_http(const char *method, const char *url, const char *body, size_t body_length,
              double timeout_s, struct test_reply *reply)
{
    memset(reply, 0, sizeof *reply);
    struct buffer received = { 0 }, headers = { 0 };
    CURL *easy = curl_easy_init();
    CURLcode result = CURLE_FAILED_INIT;
    if (easy != NULL) {
        curl_easy_setopt(easy, CURLOPT_URL, url);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, &received);
        curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, append);
        curl_easy_setopt(easy, CURLOPT_HEADERDATA, &headers);
        if (strcmp(method, "POST") == 0) {
            curl_easy_setopt(easy, CURLOPT_POST, 1L);
            curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body != NULL ? body : "");
            curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_length);
        } else if (strcmp(method, "GET") != 0) {
            curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
            if (body != NULL) {
                curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_length);
            }
        }
        result = curl_easy_perform(easy);
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &reply->status);
        curl_easy_cleanup(easy);
    }
    reply->body = take(&received);
    reply->length = received.length;
    reply->headers = take(&headers);
    return result == CURLE_OK ? 0 : -1;
}

void test_reply_free(struct test_reply *reply)
{
    free(reply->body);
    free(reply->headers);
    reply->body = reply->headers = NULL;
}

int test_reply_header(const struct test_reply *reply, const char *name, char *value, size_t size)
{
    size_t name_length = strlen(name);
    for (const char *line = reply->headers; line != NULL && *line != '\0';) {
        const char *end = strstr(line, "\r\n");
        size_t length = end != NULL ? (size_t)(end - line) : strlen(line);
        if (length > name_length && strncasecmp(line, name, name_length) == 0
            && line[name_length] == ':') {
            const char *start = line + name_length + 1;
            while (*start == ' ')
                start++;
            snprintf(value, size, "%.*s", (int)(line + length - start), start);
            return 0;
        }
        line = end != NULL ? end + 2 : NULL;
    }
    return -1;
}

/* ------------------------------------------------------------ /stats */

long test_server_stat(const struct test_server *server, const char *path, const char *field)
{
    char url[128];
    snprintf(url, sizeof url, "%s/stats", server->url);
    struct test_reply reply;
    long value = -1;
    if (test_http("GET", url, NULL, 0, 10.0, &reply) == 0 && reply.status == 200) {
        json_t *stats = json_loads(reply.body, 0, NULL);
        json_t *scope = stats;
        if (path != NULL && (strcmp(path, "responses") == 0 || strcmp(path, "live") == 0))
            scope = json_object_get(stats, path);
        else if (path != NULL)
            scope = json_object_get(json_object_get(stats, "paths"), path);
        json_t *number = json_object_get(scope, field);
        if (json_is_integer(number))
            value = (long)json_integer_value(number);
        json_decref(stats);
    }
    test_reply_free(&reply);
    return value;
}

int test_server_reset_stats(const struct test_server *server)
{
    char url[128];
    snprintf(url, sizeof url, "%s/stats/reset", server->url);
    struct test_reply reply;
    int ok = test_http("POST", url, NULL, 0, 10.0, &reply) == 0 && reply.status == 204;
    test_reply_free(&reply);
    return ok ? 0 : -1;
}

long test_server_wait_stat(const struct test_server *server, const char *path, const char *field,
                           long want, double timeout_s)
{
    double deadline = clock_now() + timeout_s;
    long value;
    while ((value = test_server_stat(server, path, field)) != want
           && clock_now() < deadline)
        pause_briefly(0.02);
    return value;
}
