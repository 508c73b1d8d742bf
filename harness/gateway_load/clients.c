/*
 * clients.c - the load itself: K clients at once on one libcurl multi
 * handle (the driver must never be what makes a client wait), each reply
 * checked part by part, each client's latency, and the percentiles.
 */
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "http.h"
#include "load.h"
#include "machine.h"

#define SAMPLE_INTERVAL_MS 20

/* What a right dashboard holds: the gateway's three parts, each slowserver's
 * /items/N for the client's user N (docs/service.md). */
static const char *const PARTS[] = { "profile", "orders", "recommendations" };
#define PART_COUNT (sizeof PARTS / sizeof PARTS[0])

/* One client: one GET /dashboard?user=N. */
struct client {
    CURL *easy;
    struct http_body body;
    long user;
    double latency;        /* seconds, < 0 until it is over */
    bool replied;          /* an HTTP reply arrived (any status) */
};

static bool part_is_right(const json_t *reply, const char *name, long user)
{
    const json_t *part = json_object_get(reply, name);
    json_int_t id = json_integer_value(json_object_get(part, "id"));
    json_int_t value = json_integer_value(json_object_get(part, "value"));
    return json_is_object(part) && id == user && value == (user * 7919) % 1000;
}

/* True if body is the dashboard of `user` with every part present and right. */
static bool reply_is_right(const struct client *client, long status, char *why, size_t size)
{
    if (status != 200) {
        snprintf(why, size, "user=%ld: HTTP %ld: %.120s", client->user, status,
                 client->body.data ? client->body.data : "");
        return false;
    }
    json_t *reply = json_loads(client->body.data ? client->body.data : "", 0, NULL);
    bool right = json_integer_value(json_object_get(reply, "user")) == client->user
                 && json_object_size(json_object_get(reply, "failed")) == 0;
    for (size_t i = 0; i < PART_COUNT && right; i++)
        right = part_is_right(reply, PARTS[i], client->user);
    json_decref(reply);
    if (!right)
        snprintf(why, size, "user=%ld: wrong reply %.120s", client->user,
                 client->body.data ? client->body.data : "");
    return right;
}

/* ------------------------------------------------------------ driving */

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The nearest-rank percentile of sorted values. */
static double percentile(const double *sorted, size_t count, double p)
{
    if (count == 0)
        return NAN;
    size_t rank = (size_t)ceil(p / 100.0 * (double)count);
    return sorted[rank > 0 ? rank - 1 : 0];
}

static void summarise(struct run *run, const struct client *clients, double makespan)
{
    double *latencies = malloc((size_t)run->k * sizeof *latencies);
    size_t count = 0;
    for (long i = 0; latencies != NULL && i < run->k; i++)
        if (clients[i].replied)
            latencies[count++] = clients[i].latency;
    if (latencies != NULL)
        qsort(latencies, count, sizeof *latencies, compare_doubles);
    run->p50 = latencies ? percentile(latencies, count, 50) : NAN;
    run->p95 = latencies ? percentile(latencies, count, 95) : NAN;
    run->p99 = latencies ? percentile(latencies, count, 99) : NAN;
    run->max = latencies ? percentile(latencies, count, 100) : NAN;
    run->throughput = makespan > 0 ? (double)count / makespan : NAN;
    free(latencies);
}

static void keep_max(long *max, long value)
{
    if (value > *max)
        *max = value;
}

static void client_finished(struct run *run, struct client *client, CURLcode result,
                            double now, double started)
{
    client->latency = now - started;
    client->replied = result == CURLE_OK;
    long status = http_status(client->easy);
    char why[200];
    if (!client->replied) {
        run->failed++;
        snprintf(why, sizeof why, "user=%ld: %s", client->user, curl_easy_strerror(result));
    } else {
        run->replied++;
        if (reply_is_right(client, status, why, sizeof why))
            run->right++;
    }
    if (run->first_problem[0] == '\0' && !(client->replied && status == 200
                                           && run->right == run->replied))
        snprintf(run->first_problem, sizeof run->first_problem, "%s", why);
}

static bool add_clients(CURLM *multi, struct client *clients, long k, const char *gateway,
                        double timeout)
{
    for (long i = 0; i < k; i++) {
        struct client *client = &clients[i];
        client->user = i;
        client->latency = -1;
        char *url = http_url(gateway, "/dashboard?user=%ld", i);
        client->easy = url ? http_easy_new(&client->body) : NULL;
        if (client->easy == NULL) {
            free(url);
            return false;
        }
        curl_easy_setopt(client->easy, CURLOPT_URL, url);
        curl_easy_setopt(client->easy, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000.0));
        curl_easy_setopt(client->easy, CURLOPT_PRIVATE, client);
        free(url);
        curl_multi_add_handle(multi, client->easy);
    }
    return true;
}

/*
 * K clients at once against gateway, each given `timeout` seconds; while
 * they run, samples the thread count of `watch` (the gateway; 0: none).
 */
void drive(const char *gateway, struct run *run, double timeout, pid_t watch)
{
    CURLM *multi = curl_multi_init();
    struct client *clients = calloc((size_t)run->k, sizeof *clients);
    if (multi == NULL || clients == NULL || !add_clients(multi, clients, run->k, gateway, timeout))
        snprintf(run->first_problem, sizeof run->first_problem, "out of memory");
    double started = clock_now(), last_reply = started;
    long pending = run->first_problem[0] ? 0 : run->k;
    while (pending > 0 && !interrupted) {
        int running = 0;
        http_multi_check(curl_multi_perform(multi, &running), LOAD_PROGRAM);
        CURLMsg *message;
        int queued;
        while ((message = curl_multi_info_read(multi, &queued)) != NULL) {
            if (message->msg != CURLMSG_DONE)
                continue;
            struct client *client = NULL;
            curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&client);
            last_reply = clock_now();
            client_finished(run, client, message->data.result, last_reply, started);
            pending--;
        }
        if (watch > 0)
            keep_max(&run->gateway_threads, machine_proc_status(watch, "Threads"));
        if (pending > 0)
            http_multi_check(curl_multi_poll(multi, NULL, 0, SAMPLE_INTERVAL_MS, NULL), LOAD_PROGRAM);
    }
    if (watch > 0)
        run->gateway_peak_rss_kb = machine_proc_status(watch, "VmHWM");
    summarise(run, clients, last_reply - started);
    for (long i = 0; clients != NULL && i < run->k; i++) {
        if (clients[i].easy != NULL) {
            curl_multi_remove_handle(multi, clients[i].easy);
            curl_easy_cleanup(clients[i].easy);
        }
        http_body_free(&clients[i].body);
    }
    free(clients);
    curl_multi_cleanup(multi);
}
