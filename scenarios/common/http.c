/* http.c - libcurl plumbing shared by the HTTP scenarios; see http.h. */
#include "http.h"

#include <math.h>

#include "exit_codes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Long enough for a loaded machine, short enough that a wrong --url does not
 * leave a student staring at a silent terminal. */
#define CONNECT_TIMEOUT_S 5L
#define HEALTH_TIMEOUT_S 10L

/* Unbounded until a program says what its work is. */
static struct http_bounds transfer_bounds;

struct http_bounds http_bounds_for(const struct cli_common *common, double longest_wait_s)
{
    struct http_bounds bounds = {
        longest_wait_s + HTTP_STALL_MARGIN_S,
        2.0 * longest_wait_s + HTTP_MAX_TIME_MARGIN_S,
    };
    if (common->stall_timeout > 0.0)
        bounds.stall_s = common->stall_timeout;
    if (common->max_time > 0.0)
        bounds.max_time_s = common->max_time;
    return bounds;
}

void http_set_bounds(struct http_bounds bounds)
{
    transfer_bounds = bounds;
}

bool http_global_init(const char *program)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "%s: libcurl could not initialise\n", program);
        return false;
    }
    return true;
}

void http_global_cleanup(void)
{
    curl_global_cleanup();
}

/* libcurl calls this with each piece of the reply as it arrives. */
static size_t collect_body(char *data, size_t size, size_t count, void *userdata)
{
    struct http_body *body = userdata;
    size_t bytes = size * count;
    if (body->length + bytes > HTTP_BODY_MAX)
        return 0;  /* makes libcurl fail the transfer with CURLE_WRITE_ERROR */
    char *grown = realloc(body->data, body->length + bytes + 1);
    if (grown == NULL)
        return 0;
    memcpy(grown + body->length, data, bytes);
    body->data = grown;
    body->length += bytes;
    body->data[body->length] = '\0';
    return bytes;
}

CURL *http_easy_new(struct http_body *body)
{
    CURL *easy = curl_easy_init();
    if (easy == NULL)
        return NULL;
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, body);
    /* Timeouts must not be delivered by SIGALRM in a program with threads
     * or an event loop. */
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "asynclab/1");
    /* The receive buffer, allocated when the transfer connects, is 16 KB
     * by default and the lessons' replies are under 200 bytes: at 10 000
     * transfers in flight the smallest buffer libcurl allows saves 3 KB of
     * resident memory per request (docs/event_loops.md). */
    curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, 1024L);
    if (transfer_bounds.stall_s > 0.0) {
        /* The low-speed window counts whole seconds. */
        curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, (long)ceil(transfer_bounds.stall_s));
    }
    if (transfer_bounds.max_time_s > 0.0)
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)ceil(transfer_bounds.max_time_s * 1000.0));
    return easy;
}

void http_body_reset(struct http_body *body)
{
    body->length = 0;
    if (body->data != NULL)
        body->data[0] = '\0';
}

void http_body_free(struct http_body *body)
{
    free(body->data);
    body->data = NULL;
    body->length = 0;
}

char *http_url(const char *base, const char *path_format, ...)
{
    char path[1024];
    va_list args;
    va_start(args, path_format);
    int written = vsnprintf(path, sizeof path, path_format, args);
    va_end(args);
    if (written < 0 || (size_t)written >= sizeof path)
        return NULL;
    size_t size = strlen(base) + (size_t)written + 1;
    char *url = malloc(size);
    if (url != NULL)
        snprintf(url, size, "%s%s", base, path);
    return url;
}

const char *http_url_path(const char *url)
{
    const char *host = strstr(url, "://");
    const char *path = host ? strchr(host + 3, '/') : NULL;
    return path ? path : url;
}

void http_multi_check(CURLMcode code, const char *program)
{
    if (code == CURLM_OK)
        return;
    fprintf(stderr, "%s: the event loop cannot go on: %s\n", program, curl_multi_strerror(code));
    exit(EXIT_TASKS_FAILED);
}

long http_status(CURL *easy)
{
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

/* GET base/health; the transfer's result and the HTTP status. */
static CURLcode get_health(const char *base_url, long *status)
{
    struct http_body body = { 0 };
    char *url = http_url(base_url, "/health");
    CURL *easy = url ? http_easy_new(&body) : NULL;
    CURLcode result = CURLE_OUT_OF_MEMORY;
    *status = 0;
    if (easy != NULL) {
        curl_easy_setopt(easy, CURLOPT_URL, url);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT, HEALTH_TIMEOUT_S);
        result = curl_easy_perform(easy);
        *status = http_status(easy);
        curl_easy_cleanup(easy);
    }
    http_body_free(&body);
    free(url);
    return result;
}

bool http_server_probe(const char *base_url)
{
    long status;
    return get_health(base_url, &status) == CURLE_OK && status == 200;
}

bool http_server_reachable(const char *program, const char *base_url)
{
    long status;
    CURLcode result = get_health(base_url, &status);
    if (result != CURLE_OK) {
        fprintf(stderr, "%s: cannot reach the server at %s (%s); start it with: make run-server\n",
                program, base_url, curl_easy_strerror(result));
        return false;
    }
    if (status != 200) {
        fprintf(stderr, "%s: %s/health answered HTTP %ld, so it is not slowserver; "
                "start it with: make run-server\n", program, base_url, status);
        return false;
    }
    return true;
}
