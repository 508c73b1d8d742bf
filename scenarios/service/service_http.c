/*
 * service_http.c - the gateways' HTTP front end: libmicrohttpd's daemon on
 * loopback, the routes and their replies, each request from its headers to
 * its completion (the log line, the trace, the background task it leaves).
 * See service.h.
 */
#include "service.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "output.h"
#include "parse.h"
#include "service_parts.h"

/* The lesson's dashboard's three upstream calls (their delays: service.c). */
static const char *const UPSTREAM_NAMES[SERVICE_UPSTREAM_COUNT] = {
    "profile", "orders", "recommendations",
};
/* libmicrohttpd settings, as slowserver's (docs/slowserver.md): a burst of
 * a thousand clients must not overflow the accept queue, and a connection's
 * memory pool need only hold our small requests and replies. */
#define LISTEN_BACKLOG 4096
#define CONNECTION_MEMORY 8192
#define CONNECTION_LIMIT 16384
#define IDLE_TIMEOUT_S 30
/* A connection thread (threads variant) only runs blocking libcurl calls. */
#define THREAD_STACK_BYTES (256u * 1024u)

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

static void request_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
                              enum MHD_RequestTerminationCode why);

bool service_start(struct service *service, unsigned int flags,
                   MHD_AccessHandlerCallback handler,
                   void (*send_email)(struct service_task *task))
{
    /* Loopback only: nothing outside this machine can reach the lesson. */
    struct sockaddr_in address = { .sin_family = AF_INET,
                                   .sin_port = htons((uint16_t)service->port) };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    start_problem[0] = '\0';
    daemon_started = false;
    service->send_email = send_email;
    service->daemon = MHD_start_daemon(
        flags | MHD_USE_ERROR_LOG | MHD_USE_ITC, 0, NULL, NULL, handler, service,
        MHD_OPTION_EXTERNAL_LOGGER, log_libmicrohttpd, service,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&address,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)LISTEN_BACKLOG,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONNECTION_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)IDLE_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK_BYTES,
        MHD_OPTION_NOTIFY_COMPLETED, request_completed, service,
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

enum MHD_Result service_queue_reply(struct service_request *request, unsigned status,
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
    return service_queue_reply(request, status, "text/plain", strdup(line));
}

/* ------------------------------------------------------------ requests */

/* Reserves `count` rows of the trace. */
static int take_rows(struct service *service, int count)
{
    service_lock(service);
    int row = service->next_row;
    service->next_row += count;
    service_unlock(service);
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
    service_lock(request->service);
    request->service->tasks_running++;
    service_unlock(request->service);
    return service_queue_reply(request, MHD_HTTP_ACCEPTED, "application/json", strdup(body));
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
    service_lock(service);
    service->fetching++;
    service_unlock(service);
    return true;
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
    service_lock(service);
    struct trace_event *event = trace_add(service->trace, request->target, request->row,
                                          request->started, finished);
    trace_set_number(event, "user", (double)request->user);
    trace_set_number(event, "status", (double)request->status);
    service_unlock(service);
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

/* Logs, traces and frees a request libmicrohttpd is done with.  For a POST
 * /register it returns the background task now owed; otherwise NULL. */
static struct service_task *finish_request(struct service *service,
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
            service_lock(service);
            service->tasks_running--;
            service->tasks_failed++;
            service_unlock(service);
        }
    }
    service_lock(service);
    if (request->calls[0].name != NULL)  /* its calls were prepared */
        service->fetching--;
    service->bad_requests += request->status >= 400 && request->status < 500;
    pthread_cond_broadcast(&service->changed);
    service_unlock(service);
    request_free(request);
    return task;
}

/* libmicrohttpd is done with a request: its reply was sent, or the client
 * went away.  This is where a background task starts, after the response
 * (as FastAPI's BackgroundTasks do), on whatever thread the variant says. */
static void request_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
                              enum MHD_RequestTerminationCode why)
{
    (void)connection, (void)why;
    struct service *service = cls;
    struct service_task *task = finish_request(service, *req_cls);
    *req_cls = NULL;
    if (task != NULL)
        service->send_email(task);
}
