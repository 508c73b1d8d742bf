/*
 * service.c - the service lesson's shared, non-concurrent parts; see
 * service.h.  Nothing in here waits for a dashboard's upstream calls: how
 * they wait is what sync.c, async.c and sync_threads.c are about.  (The
 * one blocking call here is the welcome email of the two blocking
 * variants, service_completed_blocking, which they share word for word.)
 */
#include "service.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fdlimit.h"
#include "output.h"
#include "seed.h"
#include "parse.h"
#include "predict.h"

/* The lesson's dashboard: three upstream calls of 2, 3 and 1 s. */
static const char *const UPSTREAM_NAMES[SERVICE_UPSTREAM_COUNT] = {
    "profile", "orders", "recommendations",
};
static const double LESSON_DELAYS[SERVICE_UPSTREAM_COUNT] = { 2.0, 3.0, 1.0 };
/* The welcome email takes 1 s at scale 1. */
#define LESSON_EMAIL_DELAY 1.0
#define MAX_DELAY_S 3600.0
/* A safety net, not part of the lesson: no upstream call may hang a
 * dashboard for longer, whatever the scale (--timeout overrides). */
#define DEFAULT_TIMEOUT_S 10.0
#define DEFAULT_GRACE_S 10.0
#define DEFAULT_PORT 8080

/* libmicrohttpd settings, as slowserver's (docs/slowserver.md): a burst of
 * a thousand clients must not overflow the accept queue, and a connection's
 * memory pool need only hold our small requests and replies. */
#define LISTEN_BACKLOG 4096
#define CONNECTION_MEMORY 8192
#define CONNECTION_LIMIT 16384
#define IDLE_TIMEOUT_S 30
/* A connection thread (threads variant) only runs blocking libcurl calls. */
#define THREAD_STACK_BYTES (256u * 1024u)

static struct cli_long_target port_target, clients_target;
static long predict_clients;
static struct cli_list_target delays_target;
static struct cli_double_target timeout_target, grace_target, email_target;
static char upstream_option[CLI_URL_MAX];
static size_t delay_count;

/* ------------------------------------------------------------ set-up */

static bool apply_upstream(const char *value, void *target)
{
    size_t length = strlen(value);
    if (strncmp(value, "http://", 7) != 0 || length <= 7 || length >= CLI_URL_MAX)
        return false;
    memcpy(target, value, length + 1);
    return true;
}

static enum cli_result parse_command_line(struct service *service,
                                          const struct lesson_program *program,
                                          int argc, char **argv)
{
    port_target = (struct cli_long_target){ &service->port, 0, 65535 };
    clients_target = (struct cli_long_target){ &predict_clients, 1, 1000000 };
    delays_target = (struct cli_list_target){ service->delays, SERVICE_UPSTREAM_COUNT,
                                              &delay_count, 0.0, MAX_DELAY_S };
    timeout_target = (struct cli_double_target){ &service->timeout, 0.001, MAX_DELAY_S };
    grace_target = (struct cli_double_target){ &service->grace, 0.0, MAX_DELAY_S };
    email_target = (struct cli_double_target){ &service->email_delay, 0.0, MAX_DELAY_S };
    const struct cli_option options[] = {
        { "port", "N", "port to listen on, on 127.0.0.1 (default 8080; 0 picks a free one)",
          "a whole number from 0 to 65535", cli_apply_long, &port_target },
        { "upstream", "URL", "the upstream slowserver (the same as --url)",
          "an http:// URL", apply_upstream, upstream_option },
        { "delays", "LIST", "the three upstream delays in seconds (default 2,3,1)",
          "three comma-separated seconds between 0 and 3600", cli_apply_double_list,
          &delays_target },
        { "timeout", "S", "give up on one upstream call after S seconds (default 10)",
          "seconds, more than 0, at most 3600", cli_apply_double, &timeout_target },
        { "email-delay", "S", "the background task's upstream delay (default 1)",
          "seconds between 0 and 3600", cli_apply_double, &email_target },
        { "grace", "S", "at shutdown, wait at most S seconds for running work (default 10)",
          "seconds between 0 and 3600", cli_apply_double, &grace_target },
        { "clients", "K", "with --predict: the wait of the last of K clients at once (default 1)",
          "a whole number from 1 to 1000000", cli_apply_long, &clients_target },
    };
    char example[160];
    snprintf(example, sizeof example, "build/bin/%s --port 0 --upstream http://127.0.0.1:8000 "
             "--scale 0.1", program->name);
    const struct cli_program description = {
        .name = program->name,
        .purpose = program->purpose,
        .example = example,
        .options = options,
        .option_count = sizeof options / sizeof options[0],
    };
    return cli_parse(&description, argc, argv, &service->common);
}

/* Copies --upstream over --url; either way no trailing slash. */
static void settle_upstream(struct service *service)
{
    if (upstream_option[0] != '\0')
        snprintf(service->common.url, sizeof service->common.url, "%s", upstream_option);
    size_t length = strlen(service->common.url);
    while (length > 7 && service->common.url[length - 1] == '/')
        service->common.url[--length] = '\0';
}

/* The lesson's model: a dashboard alone takes the sum of its calls when
 * they run in turn and the longest when they overlap.  K clients at once:
 * one thread serving them in turn makes the last wait K dashboards; a
 * concurrent gateway serves them all at once (as long as the cores keep up). */
static void print_prediction(const struct service *service)
{
    bool concurrent = service->program->concurrent;
    double one = predict_makespan(service->delays, SERVICE_UPSTREAM_COUNT, concurrent ? 0 : 1);
    double predicted = concurrent ? one : one * (double)predict_clients;
    if (predict_clients == 1)
        output_summary("Predicted time: %.3f s (one dashboard: %s)", predicted,
                       concurrent ? "its three calls at once, the longest decides"
                                  : "its three calls in turn, the sum");
    else
        output_summary("Predicted time: %.3f s (the last of %ld clients at once: %s)",
                       predicted, predict_clients,
                       concurrent ? "all served together, the longest call decides"
                                  : "served one after another, each the sum of its calls");
}

static void set_defaults(struct service *service, const struct lesson_program *program)
{
    memset(service, 0, sizeof *service);
    service->program = program;
    service->port = DEFAULT_PORT;
    memcpy(service->delays, LESSON_DELAYS, sizeof LESSON_DELAYS);
    service->email_delay = LESSON_EMAIL_DELAY;
    service->timeout = DEFAULT_TIMEOUT_S;
    service->grace = DEFAULT_GRACE_S;
    upstream_option[0] = '\0';
    predict_clients = 1;
    delay_count = 0;  /* --delays not given: fill_delays */
}

/* The upstream delays when --delays was not given: the lesson's, or after
 * --seed N three delays of 0.5 to 4 s and an email of 0.5 to 2 s drawn
 * from N (the same N, the same work). */
static void fill_delays(struct service *service)
{
    if (delay_count != 0)
        return;
    delay_count = SERVICE_UPSTREAM_COUNT;
    if (!service->common.seeded)
        return;
    struct seed draw = seed_start(service->common.seed);
    for (size_t i = 0; i < SERVICE_UPSTREAM_COUNT; i++)
        service->delays[i] = seed_step(&draw, 0.5, 4.0, 0.5);
    service->email_delay = seed_step(&draw, 0.5, 2.0, 0.5);
}

/* Signals are taken by the program's own waiting (sigwait, or a signalfd in
 * the event loop), so they are blocked before any thread exists. */
static void block_stop_signals(void)
{
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
}

/* The condition variable waits on the monotonic clock, like every time here. */
static void init_shared_state(struct service *service)
{
    pthread_mutex_init(&service->lock, NULL);
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&service->changed, &attributes);
    pthread_condattr_destroy(&attributes);
}

int service_setup(struct service *service, const struct lesson_program *program,
                  int argc, char **argv)
{
    set_defaults(service, program);
    switch (parse_command_line(service, program, argc, argv)) {
    case CLI_EXIT_OK: return EXIT_ALL_DONE;
    case CLI_EXIT_USAGE: return EXIT_USAGE;
    case CLI_RUN: break;
    }
    fill_delays(service);
    if (delay_count != SERVICE_UPSTREAM_COUNT) {
        output_error(program->name, "--delays needs exactly %d values (profile, orders, "
                     "recommendations)", SERVICE_UPSTREAM_COUNT);
        return EXIT_USAGE;
    }
    settle_upstream(service);
    for (size_t i = 0; i < SERVICE_UPSTREAM_COUNT; i++)
        service->delays[i] *= service->common.scale;
    service->email_delay *= service->common.scale;
    output_init(service->common.quiet);
    if (service->common.predict) {
        print_prediction(service);
        return EXIT_ALL_DONE;
    }
    if (service->common.trace_path != NULL
        && !trace_path_writable(service->common.trace_path, program->name))
        return EXIT_SETUP;
    /* A dying client must not kill the gateway (SIGPIPE), and the load
     * driver reads our first line through a pipe. */
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    block_stop_signals();
    fdlimit_raise();
    if (!http_global_init(program->name))
        return EXIT_SETUP;
    if (!http_server_reachable(program->name, service->common.url)) {
        http_global_cleanup();
        return EXIT_SETUP;
    }
    /* --stall-timeout and --max-time bound every upstream call as in the
     * other lessons; --timeout, the lesson's own limit, is set per call. */
    double longest = service->email_delay;
    for (size_t i = 0; i < SERVICE_UPSTREAM_COUNT; i++)
        longest = service->delays[i] > longest ? service->delays[i] : longest;
    http_set_bounds(http_bounds_for(&service->common, longest));
    service->started = clock_now();
    service->trace = service->common.trace_path ? trace_new(service->started) : NULL;
    init_shared_state(service);
    return -1;
}

/* ------------------------------------------------------------ the daemon */

/* libmicrohttpd's complaints at start-up are kept for our one-line error;
 * later ones are printed.  Closing a connection without a reply on purpose
 * is reported as an application error: expected, so not printed. */
static char start_problem[256];
static bool daemon_started;

static void log_libmicrohttpd(void *cls, const char *format, va_list arguments)
{
    const struct service *service = cls;
    char message[256];
    vsnprintf(message, sizeof message, format, arguments);
    message[strcspn(message, "\n")] = '\0';
    if (!daemon_started) {
        snprintf(start_problem, sizeof start_problem, "%s", message);
        return;
    }
    /* A client hanging up is the client's business (and a test's). */
    if (strstr(message, "Application reported internal error") == NULL
        && strstr(message, "closed by remote side") == NULL)
        fprintf(stderr, "%s: libmicrohttpd: %s\n", service->program->name, message);
}

bool service_start(struct service *service, unsigned int flags,
                   MHD_AccessHandlerCallback handler, MHD_RequestCompletedCallback completed)
{
    /* Loopback only: nothing outside this machine can reach the lesson. */
    struct sockaddr_in address = { .sin_family = AF_INET,
                                   .sin_port = htons((uint16_t)service->port) };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    start_problem[0] = '\0';
    daemon_started = false;
    service->daemon = MHD_start_daemon(
        flags | MHD_USE_ERROR_LOG | MHD_USE_ITC, 0, NULL, NULL, handler, service,
        MHD_OPTION_EXTERNAL_LOGGER, log_libmicrohttpd, service,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&address,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)LISTEN_BACKLOG,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONNECTION_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK_BYTES,
        MHD_OPTION_NOTIFY_COMPLETED, completed, service,
        MHD_OPTION_END);
    if (service->daemon == NULL) {
        output_error(service->program->name, "cannot listen on 127.0.0.1 port %ld: %s",
                     service->port, start_problem[0] ? start_problem : "libmicrohttpd refused");
        return false;
    }
    daemon_started = true;
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(service->daemon, MHD_DAEMON_INFO_BIND_PORT);
    printf("listening on http://127.0.0.1:%u\n", info ? (unsigned)info->port : 0u);
    fflush(stdout);
    return true;
}

/* ------------------------------------------------------------ replies */

static enum MHD_Result queue_reply(struct service_request *request, unsigned status,
                                   const char *content_type, char *body)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (response == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW,
                                request->route == SERVICE_ROUTE_REGISTER ? "POST" : "GET");
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result result = MHD_queue_response(request->connection, status, response);
    MHD_destroy_response(response);
    request->status = status;
    return result;
}

static enum MHD_Result queue_text(struct service_request *request, unsigned status,
                                  const char *format, ...) __attribute__((format(printf, 3, 4)));

static enum MHD_Result queue_text(struct service_request *request, unsigned status,
                                  const char *format, ...)
{
    char line[256];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(line, sizeof line, format, arguments);
    va_end(arguments);
    return queue_reply(request, status, "text/plain", strdup(line));
}

/* ------------------------------------------------------------ requests */

static void lock(struct service *service) { pthread_mutex_lock(&service->lock); }
static void unlock(struct service *service) { pthread_mutex_unlock(&service->lock); }

/* Reserves `count` rows of the trace. */
static int take_rows(struct service *service, int count)
{
    lock(service);
    int row = service->next_row;
    service->next_row += count;
    unlock(service);
    return row + 1;  /* tid 0 reads as "no thread" in some viewers */
}

static enum service_route route_of(const char *url)
{
    if (strcmp(url, "/dashboard") == 0)
        return SERVICE_ROUTE_DASHBOARD;
    if (strcmp(url, "/register") == 0)
        return SERVICE_ROUTE_REGISTER;
    return SERVICE_ROUTE_OTHER;
}

static void prepare_calls(struct service *service, struct service_request *request)
{
    for (int i = 0; i < SERVICE_UPSTREAM_COUNT; i++) {
        struct service_call *call = &request->calls[i];
        call->name = UPSTREAM_NAMES[i];
        call->request = request;
        call->url = http_url(service->common.url, "/items/%ld?delay=%g", request->user,
                             service->delays[i]);
    }
}

static struct service_request *request_new(struct service *service,
                                           struct MHD_Connection *connection,
                                           const char *url, const char *method)
{
    struct service_request *request = calloc(1, sizeof *request);
    if (request == NULL)
        return NULL;
    request->service = service;
    request->connection = connection;
    request->route = route_of(url);
    request->started = clock_now();
    request->user = 1;
    request->row = take_rows(service, 1 + SERVICE_UPSTREAM_COUNT);
    snprintf(request->target, sizeof request->target, "%s %.80s", method, url);
    return request;
}

/* The checks every request passes before any work: route, method, user=N. */
static enum MHD_Result refuse_if_bad(struct service_request *request, const char *url,
                                     const char *method, bool *refused)
{
    *refused = true;
    static const char *const METHODS[] = { "GET", "POST" };
    if (strcmp(url, "/health") == 0 && strcmp(method, "GET") == 0)
        return queue_text(request, MHD_HTTP_OK, "ok\n");
    if (request->route == SERVICE_ROUTE_OTHER)
        return queue_text(request, MHD_HTTP_NOT_FOUND,
                          "no such path: try GET /dashboard or POST /register\n");
    if (strcmp(method, METHODS[request->route]) != 0)
        return queue_text(request, MHD_HTTP_METHOD_NOT_ALLOWED, "%s takes %s only\n", url,
                          METHODS[request->route]);
    const char *user = MHD_lookup_connection_value(request->connection,
                                                   MHD_GET_ARGUMENT_KIND, "user");
    if (user != NULL && !parse_long_in(user, 0, SERVICE_MAX_USER, &request->user))
        return queue_text(request, MHD_HTTP_BAD_REQUEST,
                          "user must be an integer between 0 and %ld\n", SERVICE_MAX_USER);
    if (user != NULL)
        snprintf(request->target + strlen(request->target),
                 sizeof request->target - strlen(request->target), "?user=%ld", request->user);
    if (atomic_load(&request->service->stopping))
        return queue_text(request, MHD_HTTP_SERVICE_UNAVAILABLE, "service shutting down\n");
    *refused = false;
    return MHD_YES;
}

static enum MHD_Result reply_registered(struct service_request *request)
{
    char body[96];
    snprintf(body, sizeof body, "{\"registered\":%ld,\"welcome_email\":\"queued\"}",
             request->user);
    /* The task is owed from now on, though it starts only when the reply
     * is out: a shutdown in between must wait for it too. */
    lock(request->service);
    request->service->tasks_running++;
    unlock(request->service);
    return queue_reply(request, MHD_HTTP_ACCEPTED, "application/json", strdup(body));
}

bool service_dashboard_wanted(struct service *service, struct MHD_Connection *connection,
                              const char *url, const char *method, size_t *upload_data_size,
                              void **req_cls, struct service_request **out,
                              enum MHD_Result *result)
{
    *result = MHD_YES;
    struct service_request *request = *req_cls;
    if (request == NULL) {  /* the headers are in: the request begins */
        request = request_new(service, connection, url, method);
        *req_cls = request;
        if (request == NULL)
            *result = MHD_NO;
        return false;
    }
    if (*upload_data_size > 0) {  /* no route reads a body: drop it */
        *upload_data_size = 0;
        return false;
    }
    *out = request;
    if (request->calls_started)  /* resumed, or called again: the variant's turn */
        return true;
    if (request->status != 0)
        return false;
    bool refused;
    *result = refuse_if_bad(request, url, method, &refused);
    if (refused)
        return false;
    if (request->route == SERVICE_ROUTE_REGISTER) {
        *result = reply_registered(request);
        return false;
    }
    prepare_calls(service, request);
    lock(service);
    service->fetching++;
    unlock(service);
    return true;
}

/* ------------------------------------------------------------ upstream calls */

/* libcurl asks this about once a second during a transfer: non-zero ends it. */
static int abort_when_dropping(void *cls, curl_off_t dltotal, curl_off_t dlnow,
                               curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    const struct service *service = cls;
    return atomic_load(&service->dropping) ? 1 : 0;
}

CURL *service_call_begin(struct service *service, struct service_call *call)
{
    call->started = clock_now();
    call->easy = call->url ? http_easy_new(&call->body) : NULL;
    if (call->easy == NULL)
        return NULL;
    curl_easy_setopt(call->easy, CURLOPT_URL, call->url);
    call->error[0] = '\0';
    curl_easy_setopt(call->easy, CURLOPT_ERRORBUFFER, call->error);
    curl_easy_setopt(call->easy, CURLOPT_TIMEOUT_MS, (long)(service->timeout * 1000.0));
    curl_easy_setopt(call->easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(call->easy, CURLOPT_XFERINFOFUNCTION, abort_when_dropping);
    curl_easy_setopt(call->easy, CURLOPT_XFERINFODATA, service);
    return call->easy;
}

/* Why a call did not give us its part ("" when it did). */
static void call_problem(const struct service *service, const struct service_call *call,
                         char *why, size_t size)
{
    why[0] = '\0';
    /* Two bounds end a call with the same code: --timeout, the lesson's,
     * and the stall bound (no byte for --stall-timeout seconds), which can
     * be the shorter; libcurl's message says which. */
    bool whole_timeout = call->finished - call->started >= service->timeout * 0.99;
    if (call->result == CURLE_OPERATION_TIMEDOUT && (whole_timeout || call->error[0] == '\0'))
        snprintf(why, size, "timed out after %g s", service->timeout);
    else if (call->result == CURLE_OPERATION_TIMEDOUT)
        snprintf(why, size, "stalled: %.100s", call->error);
    else if (call->result == CURLE_ABORTED_BY_CALLBACK)
        snprintf(why, size, "dropped at shutdown");
    else if (call->result != CURLE_OK)
        snprintf(why, size, "%.100s",
                 call->error[0] ? call->error : curl_easy_strerror(call->result));
    else if (call->status != 200)
        snprintf(why, size, "HTTP %ld", call->status);
}

static void trace_call(struct service *service, int row, const char *label,
                       const struct service_call *call)
{
    char why[128];
    call_problem(service, call, why, sizeof why);
    lock(service);
    struct trace_event *event = trace_add(service->trace, label, row, call->started,
                                          call->finished);
    trace_set_text(event, "url", call->url ? call->url : "");
    trace_set_number(event, "status", (double)call->status);
    trace_set_text(event, "outcome", why[0] ? why : "ok");
    unlock(service);
}

void service_call_end(struct service_request *request, struct service_call *call,
                      CURLcode result)
{
    struct service *service = request->service;
    call->finished = clock_now();
    call->result = call->easy ? result : CURLE_OUT_OF_MEMORY;
    call->status = call->easy ? http_status(call->easy) : 0;
    if (call->easy != NULL)
        curl_easy_cleanup(call->easy);
    call->easy = NULL;
    char label[96];
    snprintf(label, sizeof label, "%s user=%ld", call->name, request->user);
    trace_call(service, request->row + 1 + (int)(call - request->calls), label, call);
}

/* ------------------------------------------------------------ the merge */

/* The part a call contributes: its JSON object, or NULL (then *why says). */
static json_t *call_part(const struct service *service, const struct service_call *call,
                         char *why, size_t size)
{
    call_problem(service, call, why, size);
    if (why[0] != '\0')
        return NULL;
    json_t *part = json_loads(call->body.data ? call->body.data : "", 0, NULL);
    if (!json_is_object(part)) {
        json_decref(part);
        snprintf(why, size, "the reply was not a JSON object");
        return NULL;
    }
    return part;
}

enum MHD_Result service_reply_dashboard(struct service_request *request)
{
    struct service *service = request->service;
    json_t *reply = json_pack("{s:I}", "user", (json_int_t)request->user);
    json_t *failed = json_object();
    int answered = 0, timed_out = 0, failed_otherwise = 0;
    for (int i = 0; i < SERVICE_UPSTREAM_COUNT; i++) {
        const struct service_call *call = &request->calls[i];
        char why[128];
        json_t *part = call_part(service, call, why, sizeof why);
        json_object_set_new(reply, call->name, part ? part : json_null());
        if (part != NULL)
            answered++;
        else
            json_object_set_new(failed, call->name, json_string(why));
        if (call->result == CURLE_OPERATION_TIMEDOUT)
            timed_out++;
        else if (part == NULL)
            failed_otherwise++;
    }
    json_object_set_new(reply, "failed", failed);
    char *text = json_dumps(reply, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(reply);
    lock(service);
    service->dashboards++;
    service->partial += answered > 0 && answered < SERVICE_UPSTREAM_COUNT;
    service->timed_out += timed_out > 0;
    service->unanswered += answered == 0;
    unlock(service);
    /* Nothing came back: the gateway's own upstream failed it.  504 says it
     * only waited too long (a retry later may do); 502 that an upstream
     * answered garbage, an error or hung up (as nginx tells them apart). */
    unsigned status = answered > 0 ? MHD_HTTP_OK
                    : failed_otherwise > 0 ? MHD_HTTP_BAD_GATEWAY : MHD_HTTP_GATEWAY_TIMEOUT;
    if (text == NULL)
        return MHD_NO;
    return queue_reply(request, status, "application/json", text);
}

/* ------------------------------------------------------------ completion */

static void log_request(const struct service *service, const struct service_request *request,
                        double finished)
{
    if (service->common.quiet)
        return;
    char calls[256] = "";
    size_t used = 0;
    for (int i = 0; i < SERVICE_UPSTREAM_COUNT && request->calls_started; i++) {
        const struct service_call *call = &request->calls[i];
        used += (size_t)snprintf(calls + used, sizeof calls - used, "%s%s %.3f s",
                                 i ? ", " : " (", call->name, call->finished - call->started);
    }
    if (used > 0)
        snprintf(calls + used, sizeof calls - used, ")");
    char status[16];
    snprintf(status, sizeof status, request->status ? "%u" : "closed", request->status);
    output_task(request->target, request->status == 200 || request->status == 202
                                     ? TONE_GOOD : TONE_BAD,
                "%s after %.3f s%s", status, finished - request->started, calls);
}

static void trace_request(struct service *service, const struct service_request *request,
                          double finished)
{
    lock(service);
    struct trace_event *event = trace_add(service->trace, request->target, request->row,
                                          request->started, finished);
    trace_set_number(event, "user", (double)request->user);
    trace_set_number(event, "status", (double)request->status);
    unlock(service);
}

static struct service_task *task_new(struct service *service,
                                     const struct service_request *request, double reply_done)
{
    struct service_task *task = calloc(1, sizeof *task);
    if (task == NULL)
        return NULL;
    task->service = service;
    task->user = request->user;
    task->row = take_rows(service, 1);
    task->reply_done = reply_done;
    task->call.name = "welcome-email";
    task->call.task = task;
    task->call.url = http_url(service->common.url, "/process?delay=%g", service->email_delay);
    snprintf(task->payload, sizeof task->payload, "{\"id\":%ld}", request->user);
    return task;
}

static void request_free(struct service_request *request)
{
    for (int i = 0; i < SERVICE_UPSTREAM_COUNT; i++) {
        if (request->calls[i].easy != NULL)
            curl_easy_cleanup(request->calls[i].easy);
        free(request->calls[i].url);
        http_body_free(&request->calls[i].body);
    }
    free(request);
}

struct service_task *service_request_completed(struct service *service,
                                               struct service_request *request)
{
    if (request == NULL)
        return NULL;
    double finished = clock_now();
    log_request(service, request, finished);
    trace_request(service, request, finished);
    struct service_task *task = NULL;
    /* The registration was accepted: its email is owed even if the client
     * hung up before it read the 202. */
    if (request->route == SERVICE_ROUTE_REGISTER && request->status == MHD_HTTP_ACCEPTED) {
        task = task_new(service, request, finished);
        if (task == NULL) {
            output_error(service->program->name, "out of memory: welcome email for user=%ld "
                         "not sent", request->user);
            lock(service);
            service->tasks_running--;
            service->tasks_failed++;
            unlock(service);
        }
    }
    lock(service);
    if (request->calls[0].name != NULL)  /* its calls were prepared */
        service->fetching--;
    service->bad_requests += request->status >= 400 && request->status < 500;
    pthread_cond_broadcast(&service->changed);
    unlock(service);
    request_free(request);
    return task;
}

/* ------------------------------------------------------------ tasks */

CURL *service_task_begin(struct service_task *task)
{
    CURL *easy = service_call_begin(task->service, &task->call);
    if (easy != NULL)
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, task->payload);
    return easy;
}

void service_task_end(struct service_task *task, CURLcode result)
{
    struct service *service = task->service;
    struct service_call *call = &task->call;
    call->finished = clock_now();
    call->result = call->easy ? result : CURLE_OUT_OF_MEMORY;
    call->status = call->easy ? http_status(call->easy) : 0;
    char label[96], why[128];
    snprintf(label, sizeof label, "welcome-email user=%ld", task->user);
    call_problem(service, call, why, sizeof why);
    trace_call(service, task->row, label, call);
    if (why[0] != '\0')
        fprintf(stderr, "%s: %s: %s\n", service->program->name, label, why);
    else if (!service->common.quiet)
        output_task(label, TONE_GOOD, "sent %.3f s after the 202, took %.3f s",
                    call->started - task->reply_done, call->finished - call->started);
    lock(service);
    service->tasks_running--;
    if (call->result == CURLE_ABORTED_BY_CALLBACK)
        service->tasks_dropped++;
    else if (why[0] != '\0')
        service->tasks_failed++;
    else
        service->tasks_done++;
    pthread_cond_broadcast(&service->changed);
    unlock(service);
    if (call->easy != NULL)
        curl_easy_cleanup(call->easy);
    free(call->url);
    http_body_free(&call->body);
    free(task);
}

void service_completed_blocking(void *cls, struct MHD_Connection *connection, void **req_cls,
                                enum MHD_RequestTerminationCode why)
{
    (void)connection, (void)why;
    struct service_task *task = service_request_completed(cls, *req_cls);
    *req_cls = NULL;
    if (task != NULL) {
        CURL *easy = service_task_begin(task);
        service_task_end(task, easy ? curl_easy_perform(easy) : CURLE_OUT_OF_MEMORY);
    }
}

/* ------------------------------------------------------------ shutdown */

bool service_idle(struct service *service)
{
    lock(service);
    bool idle = service->fetching == 0 && service->tasks_running == 0;
    unlock(service);
    return idle;
}

/* Stop accepting: the listening socket closes, queued clients are refused. */
void service_stop_accepting(struct service *service)
{
    MHD_socket listen_fd = MHD_quiesce_daemon(service->daemon);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    atomic_store(&service->stopping, true);
    if (!service->common.quiet) {
        lock(service);
        printf("shutting down: %ld dashboard%s and %ld background task%s running\n",
               service->fetching, service->fetching == 1 ? "" : "s",
               service->tasks_running, service->tasks_running == 1 ? "" : "s");
        unlock(service);
    }
}

static void wait_until_idle(struct service *service, double seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)seconds;
    deadline.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    lock(service);
    while (service->fetching > 0 || service->tasks_running > 0)
        if (pthread_cond_timedwait(&service->changed, &service->lock, &deadline) == ETIMEDOUT)
            break;
    unlock(service);
}

void service_serve_until_stopped(struct service *service)
{
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    int received;
    while (sigwait(&signals, &received) != 0)
        ;
    service_stop_accepting(service);
    wait_until_idle(service, service->grace);
    /* What still runs is cut off: each transfer's progress callback sees
     * this within about a second, and the handlers return. */
    atomic_store(&service->dropping, true);
    MHD_stop_daemon(service->daemon);
    service->daemon = NULL;
}

void service_abandon(struct service *service)
{
    trace_free(service->trace);
    pthread_cond_destroy(&service->changed);
    pthread_mutex_destroy(&service->lock);
    http_global_cleanup();
}

int service_finish(struct service *service)
{
    output_summary("%s stopped: %ld dashboards (%ld partial, %ld with a timeout, %ld failed), "
                   "%ld bad requests; background tasks: %ld done, %ld failed, %ld dropped",
                   service->program->name, service->dashboards, service->partial,
                   service->timed_out, service->unanswered, service->bad_requests,
                   service->tasks_done, service->tasks_failed, service->tasks_dropped);
    int status = service->tasks_dropped + service->tasks_failed > 0 ? EXIT_TASKS_FAILED
                                                                     : EXIT_ALL_DONE;
    status = trace_save(service->trace, service->common.trace_path, service->program->name,
                        status);
    service_abandon(service);  /* the same release, now that all is said */
    return status;
}
