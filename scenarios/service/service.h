/*
 * service.h - everything the three gateway programs of the service lesson
 * share that is NOT about how they wait: the command line, the listening
 * socket, the routes and their bad-request replies, the upstream calls'
 * URLs, merging the three replies into one JSON object, the background
 * task's request, the request log, the trace and the shutdown report.
 * Keeping it here is what lets `diff sync.c async.c` show only the
 * concurrency.  service.c holds the set-up and the shutdown, service_http.c
 * the HTTP front end, service_upstream.c the upstream calls and the merge.
 * The lesson is docs/service.md.
 *
 * The gateway answers
 *     GET  /dashboard?user=N  three upstream calls (profile, orders and
 *                             recommendations: slowserver's /items/N with
 *                             the lesson's 2, 3 and 1 s), merged
 *     POST /register?user=N   202 at once; after the reply has gone, a
 *                             background task makes the "welcome email"
 *                             call (slowserver's POST /process)
 *     GET  /health            200 ok
 */
#ifndef ASYNCLAB_SERVICE_H
#define ASYNCLAB_SERVICE_H

#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "cli.h"
#include "http.h"
#include "trace.h"

#define SERVICE_UPSTREAM_COUNT 3
#define SERVICE_MAX_USER 1000000000L

struct service_request;
struct service_task;

struct service {
    const struct lesson_program *program;
    struct cli_common common;            /* common.url is the upstream */
    long port;                           /* --port (0: the kernel picks) */
    double delays[SERVICE_UPSTREAM_COUNT];  /* seconds, --scale applied */
    double email_delay;                  /* the background task's upstream delay */
    double timeout;                      /* per upstream call, seconds */
    double grace;                        /* shutdown waits this long for tasks */
    double started;                      /* clock_now() at start-up */
    struct MHD_Daemon *daemon;
    void *variant;                       /* the program's own state (async: its loop) */
    void (*send_email)(struct service_task *task);  /* the variant's, from service_start */

    /* Everything below is shared by the threads of the threads variant;
     * the lock guards it, `changed` is signalled when a count drops. */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct trace *trace;
    int next_row;                        /* the trace's next row (tid) */
    long fetching;                       /* dashboards whose calls were begun, not
                                            completed: what shutdown waits for (a
                                            request still arriving holds no work) */
    long tasks_running;
    long dashboards, partial, timed_out, bad_requests;
    long unanswered;                     /* dashboards with nothing back: 502 or 504 */
    long tasks_done, tasks_failed, tasks_dropped;
    atomic_bool stopping;                /* no new work: new requests get 503 */
    atomic_bool dropping;                /* the grace is over: abort what still runs */
};

/* One upstream call: one of a dashboard's three, or a background task's. */
struct service_call {
    const char *name;            /* "profile" */
    struct service_request *request;  /* whose call it is: one of these two */
    struct service_task *task;
    char *url;
    CURL *easy;
    struct http_body body;
    CURLcode result;
    char error[CURL_ERROR_SIZE]; /* libcurl's own words for a failure */
    long status;
    double started, finished;    /* clock_now() */
};

enum service_route {
    SERVICE_ROUTE_DASHBOARD,
    SERVICE_ROUTE_REGISTER,
    SERVICE_ROUTE_OTHER,         /* /health, and every refused request */
};

/* One request to the gateway: libmicrohttpd's req_cls. */
struct service_request {
    struct service *service;
    enum service_route route;
    long user;
    int row;                     /* its row in the trace; its calls' rows follow */
    char target[96];             /* "GET /dashboard", for the log and the trace */
    double started;
    unsigned status;             /* of the reply queued (0: none yet) */
    struct MHD_Connection *connection;
    struct service_call calls[SERVICE_UPSTREAM_COUNT];
    bool calls_started;          /* the variant has begun the upstream calls */
    int calls_pending;           /* async: calls not finished yet */
};

/* The background task of one POST /register: the welcome email. */
struct service_task {
    struct service *service;
    long user;
    int row;
    double reply_done;           /* when libmicrohttpd finished with the 202 */
    struct service_call call;
    char payload[64];            /* the POST body: {"id":N} */
};

/* SIGINT and SIGTERM: the signals that stop a gateway (blocked by
 * service_setup, so that only the program's own waiting takes them). */
void service_stop_signals(sigset_t *signals);

/*
 * Parses the command line, blocks SIGINT and SIGTERM (so that only the
 * program's own waiting takes them), checks the upstream is there.  Returns
 * -1 when the program should serve; otherwise the exit status to return at
 * once (after --help, --predict, a usage error, an unreachable upstream).
 */
int service_setup(struct service *service, const struct lesson_program *program,
                  int argc, char **argv);

/*
 * Starts libmicrohttpd on 127.0.0.1:--port with `flags` plus the ones every
 * variant needs and the program's handler (its cls is the struct service),
 * and prints "listening on http://ADDR:PORT".  Once libmicrohttpd is done
 * with a request, the request is logged, traced and freed here; for an
 * accepted POST /register, `send_email` then runs its background task, the
 * variant's way, and must end it with service_task_end.  Returns false
 * after a one-line error (port in use, ...).
 */
bool service_start(struct service *service, unsigned int flags,
                   MHD_AccessHandlerCallback handler,
                   void (*send_email)(struct service_task *task));

/*
 * The front of every handler: routes the request, reads and drops any
 * upload, answers bad requests (4xx), /health, /register (202) and, once
 * shutdown began, 503.  Returns true only for a dashboard the variant must
 * fetch (then *request is it, its calls prepared); otherwise *result is
 * what the handler returns.
 */
bool service_dashboard_wanted(struct service *service, struct MHD_Connection *connection,
                              const char *url, const char *method, size_t *upload_data_size,
                              void **req_cls, struct service_request **request,
                              enum MHD_Result *result);

/* A new easy handle for one upstream call (its URL, the per-upstream
 * timeout, an abort once the shutdown's grace is over); records its start.
 * NULL if out of memory (the call is then recorded as failed). */
CURL *service_call_begin(struct service *service, struct service_call *call);

/* Records how one of the request's calls ended and cleans up its easy handle. */
void service_call_end(struct service_request *request, struct service_call *call,
                      CURLcode result);

/* Merges the three calls into one JSON reply and queues it on the
 * request's connection: 200 if any part came back; if none did, 504 when
 * every call timed out, 502 when any was answered wrongly or not at all. */
enum MHD_Result service_reply_dashboard(struct service_request *request);

/* The task's easy handle, ready to run (NULL if out of memory: end the
 * task at once then). */
CURL *service_task_begin(struct service_task *task);

/* Ends a background task however it went (done, failed, dropped) and frees it. */
void service_task_end(struct service_task *task, CURLcode result);

/* For the variants that block in libmicrohttpd's threads: waits for
 * SIGINT/SIGTERM, then for running dashboards and tasks (at most the grace),
 * aborts what is left, and stops the daemon. */
void service_serve_until_stopped(struct service *service);

/* The first step of any shutdown: close the listening socket, and answer
 * 503 to whatever request starts from now on. */
void service_stop_accepting(struct service *service);

/* True once nothing runs any more (no dashboard fetching, no task). */
bool service_idle(struct service *service);

/* Frees what service_setup took, printing nothing (the daemon never started). */
void service_abandon(struct service *service);

/* Prints the shutdown report, writes the trace, frees everything.  Returns
 * the exit status: 0, or EXIT_TASKS_FAILED if a background task failed or
 * was dropped. */
int service_finish(struct service *service);

#endif
