/* server_stats.c - slowserver's /stats through libcurl and jansson; see server_stats.h. */
#include "server_stats.h"

#include <jansson.h>
#include <stdlib.h>

#include "http.h"

/* GET or POST base_url + path; the reply in *body, the status returned (0: none). */
static long ask(const char *base_url, const char *path, bool post, struct http_body *body)
{
    char *url = http_url(base_url, "%s", path);
    CURL *easy = url ? http_easy_new(body) : NULL;
    long status = 0;
    if (easy != NULL) {
        curl_easy_setopt(easy, CURLOPT_URL, url);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT, 10L);
        if (post)
            curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
        if (curl_easy_perform(easy) == CURLE_OK)
            status = http_status(easy);
        curl_easy_cleanup(easy);
    }
    free(url);
    return status;
}

bool server_stats_reset(const char *base_url)
{
    struct http_body body = { 0 };
    long status = ask(base_url, "/stats/reset", true, &body);
    http_body_free(&body);
    return status == 204;
}

/* /stats -> paths -> path -> field, or the top-level field when path is NULL. */
static long stats_number(const char *base_url, const char *path, const char *field)
{
    struct http_body body = { 0 };
    long value = -1;
    if (ask(base_url, "/stats", false, &body) == 200 && body.data != NULL) {
        json_t *stats = json_loads(body.data, 0, NULL);
        json_t *scope = path ? json_object_get(json_object_get(stats, "paths"), path) : stats;
        json_t *number = json_object_get(scope, field);
        if (json_is_integer(number))
            value = (long)json_integer_value(number);
        json_decref(stats);
    }
    http_body_free(&body);
    return value;
}

long server_stats_path(const char *base_url, const char *path, const char *field)
{
    return stats_number(base_url, path, field);
}

long server_stats_total(const char *base_url, const char *field)
{
    return stats_number(base_url, NULL, field);
}
