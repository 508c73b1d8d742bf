/*
 * routes.c - what slowserver does with a request, from its first byte to
 * its completion.
 *
 * libmicrohttpd calls server_handle_request several times per request:
 *
 *   1. once the headers are in: we set up a context (*req_cls) and turn away
 *      what needs no body to judge (headers libmicrohttpd lets through but
 *      HTTP/1.1 forbids, unknown path, wrong method, a body announced too
 *      large);
 *   2. once per piece of the body, if there is one;
 *   3. once the request is complete, with *upload_data_size == 0: we check
 *      the parameters and start the delay;
 *   4. in async mode, once more after the delay timer resumed the
 *      connection: we answer (or close, if the client is gone).
 *
 * The delay is the whole point of this server, and the one place the three
 * modes differ: wait_until() either suspends the connection and returns
 * (async: libmicrohttpd goes on serving others, and calls us again later)
 * or sleeps on the current thread (threads, blocking).
 *
 * A request ends in server_request_completed, whatever happened to it: that
 * is where it stops being "in flight" and its context is freed.
 */
#include "routes.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "params.h"
#include "parse.h"
#include "waiting.h"

/* Retry-After for 429 and 503 when the request does not ask for one. */
#define DEFAULT_RETRY_AFTER 1L
#define MAX_RETRY_AFTER 86400L

/* What the server knows about one request; libmicrohttpd keeps the pointer
 * for us in *req_cls. */
struct server_request {
    struct server_app *app;
    struct MHD_Connection *connection;
    enum server_route route;
    int fd;                       /* the client socket, watched for hang-ups */
    double started;               /* clock_now() at the first handler call */
    long live_id;                 /* its id in the live view; 0 if not shown */
    unsigned status;              /* the status queued; 0 while none */
    char method[8];               /* for the log line */
    char *path;                   /* for the log line; NULL with --quiet */

    bool checked;                 /* parameters checked (done once) */
    long number;                  /* CODE of /status/CODE, N of /items/N */
    double deadline;              /* when the delay ends (clock_now() seconds) */
    long retry_after;             /* /status: Retry-After of 429 and 503 */

    bool holding;                 /* async: suspended in the delay timer */
    enum server_wait_end wait_end;
    struct server_hold hold;

    char *body;                   /* POST /process: the body so far */
    size_t body_length, body_capacity;
    bool body_too_large;

    long lines, lines_sent;       /* GET /stream */
    double interval, stream_started;
};

/* ------------------------------------------------------------ app */

int server_app_init(struct server_app *app, enum server_mode mode, double max_delay, bool quiet)
{
    memset(app, 0, sizeof *app);
    app->mode = mode;
    app->max_delay = max_delay;
    app->quiet = quiet;
    atomic_init(&app->shutting_down, false);
    app->shutdown_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    app->stats = server_stats_new();
    if (mode == SERVER_MODE_ASYNC)
        app->timer = server_timer_start();
    if (app->shutdown_fd < 0 || app->stats == NULL || (mode == SERVER_MODE_ASYNC && app->timer == NULL)) {
        int error = errno;
        if (app->shutdown_fd >= 0)
            close(app->shutdown_fd);
        server_stats_free(app->stats);
        server_timer_free(app->timer);
        errno = error;
        return -1;
    }
    /* Shutdown waits with a timeout; measure it on the monotonic clock. */
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&app->idle, &attributes);
    pthread_condattr_destroy(&attributes);
    pthread_mutex_init(&app->lock, NULL);
    return 0;
}

void server_app_begin_shutdown(struct server_app *app)
{
    atomic_store(&app->shutting_down, true);
    server_live_shutdown(app->live_view);
    /* Nobody reads the eventfd, so it stays readable: every sleeping
     * thread, and every one that starts to sleep later, wakes at once. */
    uint64_t one = 1;
    while (write(app->shutdown_fd, &one, sizeof one) < 0 && errno == EINTR)
        ;
    if (app->timer != NULL)
        server_timer_shutdown(app->timer);
}

bool server_app_wait_idle(struct server_app *app, double timeout_s)
{
    struct timespec until = server_timespec(clock_now() + timeout_s);
    pthread_mutex_lock(&app->lock);
    int waited = 0;
    while (app->live > 0 && waited != ETIMEDOUT)
        waited = pthread_cond_timedwait(&app->idle, &app->lock, &until);
    bool idle = app->live == 0;
    pthread_mutex_unlock(&app->lock);
    return idle;
}

void server_app_stop_timer(struct server_app *app)
{
    server_timer_stop(app->timer);
}

void server_app_destroy(struct server_app *app)
{
    server_timer_free(app->timer);
    server_stats_free(app->stats);
    server_live_free(app->live_view);
    close(app->shutdown_fd);
    pthread_cond_destroy(&app->idle);
    pthread_mutex_destroy(&app->lock);
}

static void count_live(struct server_app *app, long change)
{
    pthread_mutex_lock(&app->lock);
    app->live += change;
    if (app->live == 0)
        pthread_cond_broadcast(&app->idle);
    pthread_mutex_unlock(&app->lock);
}

/* ------------------------------------------------------------ replies */

static bool shutting_down(const struct server_request *request)
{
    return atomic_load(&request->app->shutting_down);
}

/* Queues a reply with a copy of body; header/value is an optional extra
 * header.  Returns what MHD_queue_response returned. */
static enum MHD_Result reply(struct server_request *request, unsigned status,
                             const char *content_type, const char *body, size_t length,
                             const char *header, const char *value)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(length, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (response == NULL)
        return MHD_NO;
    if (content_type != NULL)
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (header != NULL)
        MHD_add_response_header(response, header, value);
    /* A stopping server should not invite the client to send more. */
    if (shutting_down(request))
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result queued = MHD_queue_response(request->connection, status, response);
    MHD_destroy_response(response);   /* MHD keeps its own reference */
    if (queued == MHD_YES) {
        request->status = status;
        server_stats_response(request->app->stats, request->route, status);
    }
    return queued;
}

static enum MHD_Result reply_text(struct server_request *request, unsigned status, const char *text)
{
    return reply(request, status, "text/plain", text, strlen(text), NULL, NULL);
}

static enum MHD_Result reply_json(struct server_request *request, char *json)
{
    if (json == NULL)
        return reply_text(request, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    enum MHD_Result queued = reply(request, MHD_HTTP_OK, "application/json", json, strlen(json),
                                   NULL, NULL);
    free(json);
    return queued;
}

static enum MHD_Result reply_shutting_down(struct server_request *request)
{
    return reply_text(request, MHD_HTTP_SERVICE_UNAVAILABLE, "server shutting down\n");
}

/* ------------------------------------------------------------ waiting */

/*
 * Waits until deadline.  Returns true when the wait is over, with
 * request->wait_end saying why.  Returns false in async mode when the
 * connection has been suspended instead: the caller must return to
 * libmicrohttpd now, which calls it again once the timer resumes the
 * connection, and the same call then returns true.
 */
static bool wait_until(struct server_request *request, double deadline)
{
    struct server_app *app = request->app;
    if (request->holding) {             /* called again: the timer resumed us */
        request->holding = false;
        request->wait_end = request->hold.end;
        return true;
    }
    if (deadline <= clock_now()) {
        request->wait_end = SERVER_WAIT_DONE;
        return true;
    }
    if (shutting_down(request)) {
        request->wait_end = SERVER_WAIT_SHUTDOWN;
        return true;
    }
    if (app->mode == SERVER_MODE_ASYNC) {
        if (server_timer_hold(app->timer, &request->hold, request->connection, request->fd, deadline)) {
            request->holding = true;
            return false;
        }
        request->wait_end = SERVER_WAIT_SHUTDOWN;   /* refused: shutdown began */
        return true;
    }
    request->wait_end = server_sleep_until(deadline, request->fd, app->shutdown_fd);
    return true;
}

/* ------------------------------------------------------------ endpoints */

static const char *query(const struct server_request *request, const char *name)
{
    return MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, name);
}

/* Checks the parameters of the request's route and works out its delay. */
static bool check(struct server_request *request, const char *url, char *reason, size_t size)
{
    double max = request->app->max_delay;
    double delay = 0;
    long lines = 0;
    bool ok = true;
    switch (request->route) {
    case SERVER_ROUTE_DELAY_ME:
        ok = server_param_seconds("seconds", query(request, "seconds"), true, max, &delay, reason, size);
        break;
    case SERVER_ROUTE_STATUS:
        ok = server_path_number(request->route, url, &request->number, reason, size)
             && server_param_seconds("delay", query(request, "delay"), false, max, &delay, reason, size)
             && server_param_integer("retry_after", query(request, "retry_after"), DEFAULT_RETRY_AFTER,
                                     0, MAX_RETRY_AFTER, &request->retry_after, reason, size);
        break;
    case SERVER_ROUTE_ITEMS:
        ok = server_path_number(request->route, url, &request->number, reason, size)
             && server_param_seconds("delay", query(request, "delay"), false, max, &delay, reason, size);
        break;
    case SERVER_ROUTE_PROCESS:
        ok = server_param_seconds("delay", query(request, "delay"), false, max, &delay, reason, size);
        break;
    case SERVER_ROUTE_STREAM:
        /* The stream waits between lines, in its content reader, not before. */
        ok = server_param_stream(query(request, "lines"), query(request, "interval"), max,
                                 &lines, &request->interval, reason, size);
        request->lines = lines;
        break;
    case SERVER_ROUTE_HANG:
        delay = max;                 /* "never", within reason */
        break;
    default:
        break;
    }
    request->deadline = clock_now() + delay;
    return ok;
}

static enum MHD_Result answer_delay_me(struct server_request *request)
{
    /* Echo the value exactly as the client wrote it ("2", "0.25"). */
    const char *seconds = query(request, "seconds");
    char *text = NULL;
    if (asprintf(&text, "Done, I waited for %s secs", seconds) < 0)
        return MHD_NO;
    enum MHD_Result queued = reply_text(request, MHD_HTTP_OK, text);
    free(text);
    return queued;
}

static enum MHD_Result answer_status(struct server_request *request)
{
    unsigned code = (unsigned)request->number;
    char text[32] = "";
    /* 204 and 304 may not carry a body. */
    if (code != MHD_HTTP_NO_CONTENT && code != MHD_HTTP_NOT_MODIFIED)
        snprintf(text, sizeof text, "Status %u\n", code);
    char retry_after[24];
    snprintf(retry_after, sizeof retry_after, "%ld", request->retry_after);
    bool asks_retry = code == MHD_HTTP_TOO_MANY_REQUESTS || code == MHD_HTTP_SERVICE_UNAVAILABLE;
    return reply(request, code, "text/plain", text, strlen(text),
                 asks_retry ? MHD_HTTP_HEADER_RETRY_AFTER : NULL, retry_after);
}

static enum MHD_Result answer_item(struct server_request *request)
{
    long id = request->number;
    char json[96];
    snprintf(json, sizeof json, "{\"id\":%ld,\"name\":\"item-%ld\",\"value\":%ld}",
             id, id, server_item_value(id));
    return reply(request, MHD_HTTP_OK, "application/json", json, strlen(json), NULL, NULL);
}

static enum MHD_Result answer_process(struct server_request *request)
{
    /* "id" is echoed only from a JSON object that has an integer one;
     * anything else (not JSON, an array, a string id) acknowledges null. */
    json_error_t error;
    json_t *document = request->body_length > 0
                       ? json_loadb(request->body, request->body_length, 0, &error) : NULL;
    json_t *id = json_object_get(document, "id");
    json_t *answer = json_pack("{s:b, s:I, s:O?}", "ok", 1,
                               "bytes", (json_int_t)request->body_length, "id", json_is_integer(id) ? id : NULL);
    char *text = answer != NULL ? json_dumps(answer, JSON_COMPACT) : NULL;
    json_decref(answer);
    json_decref(document);
    return reply_json(request, text);
}

/* In threads and blocking mode the stream waits for each line on the
 * connection's thread, and libmicrohttpd counts that wait as the
 * connection being idle: a line interval longer than --idle-timeout would
 * cut the stream.  So while the stream runs, the connection's own timeout
 * also allows the server's silence (`silence_s`); 0 restores the plain
 * idle timeout for what follows on the connection.  Async mode waits
 * outside libmicrohttpd and needs none of this. */
static void allow_silence(struct server_request *request, double silence_s)
{
    unsigned int idle = request->app->idle_timeout_s;
    if (request->app->mode == SERVER_MODE_ASYNC || idle == 0)
        return;
    MHD_set_connection_option(request->connection, MHD_CONNECTION_OPTION_TIMEOUT,
                              idle + (unsigned int)ceil(silence_s));
}

/* MHD_ContentReaderCallback of /stream: line k is due k intervals after the
 * reply started.  Returning 0 after suspending the connection is how a
 * content reader waits without a thread (libmicrohttpd calls it again once
 * the timer resumes the connection). */
static ssize_t read_stream(void *cls, uint64_t position, char *buffer, size_t size)
{
    struct server_request *request = cls;
    (void)position;
    if (request->lines_sent == request->lines) {
        allow_silence(request, 0.0);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    double due = request->stream_started + (double)(request->lines_sent + 1) * request->interval;
    if (!wait_until(request, due))
        return 0;
    /* A client that left, or a server that stops, cuts the stream short;
     * closing (rather than ending the chunks) tells the client it is cut. */
    if (request->wait_end != SERVER_WAIT_DONE)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    int length = snprintf(buffer, size, "line %ld\n", request->lines_sent + 1);
    if (length < 0 || (size_t)length >= size)
        return MHD_CONTENT_READER_END_WITH_ERROR;   /* libmicrohttpd gives far more room */
    request->lines_sent++;
    return length;
}

static enum MHD_Result answer_stream(struct server_request *request)
{
    /* An unknown size makes libmicrohttpd use chunked encoding. */
    struct MHD_Response *response =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 256, read_stream, request, NULL);
    if (response == NULL)
        return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    request->stream_started = clock_now();
    allow_silence(request, request->interval);
    enum MHD_Result queued = MHD_queue_response(request->connection, MHD_HTTP_OK, response);
    MHD_destroy_response(response);
    if (queued == MHD_YES) {
        request->status = MHD_HTTP_OK;
        server_stats_response(request->app->stats, request->route, MHD_HTTP_OK);
    }
    return queued;
}

static enum MHD_Result answer_stats(struct server_request *request)
{
    return reply_json(request, server_stats_json_with(request->app->stats, "live",
                                                      server_live_stats(request->app->live_view)));
}

/* The page and its event stream are live.c's; with --no-live, no such path. */
static enum MHD_Result answer_live(struct server_request *request, const char *url)
{
    struct server_app *app = request->app;
    if (app->live_view == NULL)
        return reply_text(request, MHD_HTTP_NOT_FOUND, "the live view is off (--no-live)\n");
    if (request->route == SERVER_ROUTE_LIVE_EVENTS)
        return server_live_answer_events(app->live_view, request->connection, request->fd,
                                         &request->status);
    return server_live_answer_page(app->live_view, request->connection, url, &request->status);
}

static enum MHD_Result answer_reset(struct server_request *request)
{
    server_stats_reset(request->app->stats);
    return reply(request, MHD_HTTP_NO_CONTENT, NULL, "", 0, NULL, NULL);
}

/* The request is complete and its delay is over: answer it. */
static enum MHD_Result answer(struct server_request *request, const char *url)
{
    switch (request->route) {
    case SERVER_ROUTE_DELAY_ME:    return answer_delay_me(request);
    case SERVER_ROUTE_STATUS:      return answer_status(request);
    case SERVER_ROUTE_ITEMS:       return answer_item(request);
    case SERVER_ROUTE_PROCESS:     return answer_process(request);
    case SERVER_ROUTE_STREAM:      return answer_stream(request);
    case SERVER_ROUTE_HANG:        return MHD_NO;   /* max-delay passed: close, no reply */
    case SERVER_ROUTE_HEALTH:      return reply_text(request, MHD_HTTP_OK, "ok\n");
    case SERVER_ROUTE_STATS:       return answer_stats(request);
    case SERVER_ROUTE_STATS_RESET: return answer_reset(request);
    case SERVER_ROUTE_LIVE:
    case SERVER_ROUTE_LIVE_EVENTS: return answer_live(request, url);
    case SERVER_ROUTE_OTHER:       break;
    }
    return reply_text(request, MHD_HTTP_NOT_FOUND, "no such path\n");
}

/* ------------------------------------------------------------ the handler */

static int connection_fd(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info != NULL ? info->connect_fd : -1;
}

/* True if the client announced a body larger than /process takes. */
static bool announces_too_much(struct MHD_Connection *connection)
{
    const char *text =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    long length;
    return text != NULL && (!parse_long_in(text, 0, (long)SERVER_MAX_BODY, &length));
}

/* --- what libmicrohttpd 0.9.75 lets through, and slowserver refuses.
 * Each is a request that two HTTP parsers could read differently (a proxy
 * in front and this server), which is how requests are smuggled; HTTP/1.1
 * (RFC 9110, RFC 9112) says to refuse them.  The handler's first call
 * comes with the headers, before any body, so each is refused there. */

/* HTTP/1.1 makes Host mandatory; only HTTP/1.0 may leave it out (the
 * library itself refuses any version that is not HTTP/1.x). */
static bool lacks_host(struct MHD_Connection *connection, const char *version)
{
    return strcmp(version, MHD_HTTP_VERSION_1_0) != 0
           && MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST) == NULL;
}

/* MHD_KeyValueIteratorN: notes (in *dirty) a value with a bare CR in it,
 * and stops there.  The value's length is the library's, so a CR inside
 * it is seen.  A NUL cannot be: libmicrohttpd 0.9.75 ends the value at
 * the NUL and drops the rest of the line before we are called. */
static enum MHD_Result note_carriage_return(void *cls, enum MHD_ValueKind kind, const char *key,
                                            size_t key_size, const char *value, size_t value_size)
{
    bool *dirty = cls;
    (void)kind;
    (void)key;
    (void)key_size;
    *dirty = value != NULL && memchr(value, '\r', value_size) != NULL;
    return *dirty ? MHD_NO : MHD_YES;
}

/* A bare CR in a header value: a parser in front of us that ends the line
 * at the CR sees other headers than we do. */
static bool has_carriage_return_in_a_value(struct MHD_Connection *connection)
{
    bool dirty = false;
    MHD_get_connection_values_n(connection, MHD_HEADER_KIND, note_carriage_return, &dirty);
    return dirty;
}

struct length_headers {
    const char *first;
    size_t first_size;
    bool differ;
};

/* MHD_KeyValueIteratorN: notes whether the Content-Length headers agree. */
static enum MHD_Result compare_length(void *cls, enum MHD_ValueKind kind, const char *key,
                                      size_t key_size, const char *value, size_t value_size)
{
    struct length_headers *lengths = cls;
    (void)kind;
    (void)key_size;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) != 0 || value == NULL)
        return MHD_YES;
    if (lengths->first == NULL) {
        lengths->first = value;
        lengths->first_size = value_size;
    } else if (value_size != lengths->first_size || memcmp(value, lengths->first, value_size) != 0) {
        lengths->differ = true;
    }
    return MHD_YES;
}

/* Two Content-Length headers that disagree: the library takes the first,
 * a proxy may take the last, and the rest of the body becomes a request. */
static bool has_conflicting_lengths(struct MHD_Connection *connection)
{
    struct length_headers lengths = { 0 };
    MHD_get_connection_values_n(connection, MHD_HEADER_KIND, compare_length, &lengths);
    return lengths.differ;
}

/* A transfer coding other than chunked (gzip...): the library cannot tell
 * where such a body ends, and would wait for the idle timeout. */
static bool has_unknown_transfer_coding(struct MHD_Connection *connection)
{
    const char *coding =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    return coding != NULL && strcasecmp(coding, "chunked") != 0;
}

/* Where the body's end is unclear, so is the next request's start: the
 * refusal closes the connection. */
static enum MHD_Result refuse_and_close(struct server_request *request, unsigned status,
                                        const char *text)
{
    return reply(request, status, "text/plain", text, strlen(text),
                 MHD_HTTP_HEADER_CONNECTION, "close");
}

/* Step 1: what can be refused from the request line and headers alone.
 * Refusing now means the body (if any) is never read. */
static enum MHD_Result screen(struct server_request *request, const char *method,
                              const char *version)
{
    struct MHD_Connection *connection = request->connection;
    if (lacks_host(connection, version))
        return refuse_and_close(request, MHD_HTTP_BAD_REQUEST,
                                "a request in HTTP/1.1 needs a Host header\n");
    if (has_carriage_return_in_a_value(connection))
        return refuse_and_close(request, MHD_HTTP_BAD_REQUEST, "a bare CR in a header value\n");
    if (has_conflicting_lengths(connection))
        return refuse_and_close(request, MHD_HTTP_BAD_REQUEST,
                                "two different Content-Length headers\n");
    if (has_unknown_transfer_coding(connection))
        return refuse_and_close(request, MHD_HTTP_NOT_IMPLEMENTED,
                                "the only Transfer-Encoding taken is chunked\n");
    const char *allowed = server_route_method(request->route);
    if (allowed == NULL)
        return reply_text(request, MHD_HTTP_NOT_FOUND, "no such path (see docs/slowserver.md)\n");
    if (strcmp(method, allowed) != 0) {
        char text[64];
        snprintf(text, sizeof text, "this path only answers %s\n", allowed);
        return reply(request, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", text, strlen(text),
                     MHD_HTTP_HEADER_ALLOW, allowed);
    }
    if (request->route == SERVER_ROUTE_PROCESS && announces_too_much(request->connection))
        return reply_text(request, MHD_HTTP_CONTENT_TOO_LARGE, "the body may be at most 1 MiB\n");
    return MHD_YES;
}

/* For the log line: the path and the query arguments as libmicrohttpd
 * decoded them ("/delay-me?seconds=2"), cut at a sensible length. */
struct target_text {
    char text[160];
    size_t length;
    char separator;
};

static enum MHD_Result add_argument(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    struct target_text *target = cls;
    (void)kind;
    size_t room = sizeof target->text - target->length;
    int written = snprintf(target->text + target->length, room, "%c%s%s%s", target->separator,
                           key, value != NULL ? "=" : "", value != NULL ? value : "");
    target->length += written < 0 ? 0 : (size_t)written < room ? (size_t)written : room - 1;
    target->separator = '&';
    return MHD_YES;
}

/* Whatever a client sends may reach the operator's terminal through the
 * log: a decoded "%0A" would split the line, an escape sequence (ESC, or
 * the C1 controls, bytes 0x80-0x9f) would command the terminal.  So every
 * byte outside printable ASCII becomes '?'. */
static void make_printable(char *text)
{
    for (char *c = text; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
            *c = '?';
}

static char *describe_target(struct MHD_Connection *connection, const char *url)
{
    struct target_text target = { .separator = '?' };
    snprintf(target.text, sizeof target.text, "%s", url);
    target.length = strlen(target.text);
    MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, add_argument, &target);
    make_printable(target.text);
    return strdup(target.text);
}

static enum MHD_Result begin(struct server_app *app, struct MHD_Connection *connection,
                             const char *url, const char *method, const char *version,
                             void **req_cls)
{
    struct server_request *request = calloc(1, sizeof *request);
    if (request == NULL)
        return MHD_NO;   /* closes the connection */
    request->app = app;
    request->connection = connection;
    request->route = server_route_of(url);
    request->fd = connection_fd(connection);
    request->started = clock_now();
    snprintf(request->method, sizeof request->method, "%s", method);
    make_printable(request->method);
    if (!app->quiet)
        request->path = describe_target(connection, url);
    *req_cls = request;
    count_live(app, +1);
    server_stats_begin(app->stats, request->route);
    /* The live view shows the arguments too when the log line has them. */
    request->live_id = server_live_begin(app->live_view, request->route,
                                         request->path != NULL ? request->path : url);
    return screen(request, method, version);
}

/* Step 2: a piece of the body.  Only /process keeps it, up to 1 MiB; a
 * chunked body has no Content-Length, so the limit is also counted here. */
static enum MHD_Result receive_body(struct server_request *request, const char *data, size_t *size)
{
    size_t piece = *size;
    *size = 0;   /* consumed, whether kept or not */
    if (request->route != SERVER_ROUTE_PROCESS || request->body_too_large || request->status != 0)
        return MHD_YES;
    if (piece > SERVER_MAX_BODY - request->body_length) {
        request->body_too_large = true;
        free(request->body);
        request->body = NULL;
        request->body_length = request->body_capacity = 0;
        /* libmicrohttpd 0.9 cannot queue a reply in the middle of a body,
         * so the rest is read and dropped, and serve() answers 413. */
        return MHD_YES;
    }
    if (request->body_length + piece > request->body_capacity) {
        size_t capacity = request->body_capacity ? request->body_capacity : 4096;
        while (capacity < request->body_length + piece)
            capacity *= 2;
        if (capacity > SERVER_MAX_BODY)
            capacity = SERVER_MAX_BODY;
        char *grown = realloc(request->body, capacity);
        if (grown == NULL)
            return MHD_NO;
        request->body = grown;
        request->body_capacity = capacity;
    }
    memcpy(request->body + request->body_length, data, piece);
    request->body_length += piece;
    return MHD_YES;
}

/* Steps 3 and 4: the request is complete; check it, wait, answer. */
static enum MHD_Result serve(struct server_request *request, const char *url)
{
    if (request->status != 0)
        return MHD_YES;    /* refused in step 1; libmicrohttpd is sending that */
    if (request->body_too_large)
        return reply_text(request, MHD_HTTP_CONTENT_TOO_LARGE, "the body may be at most 1 MiB\n");
    if (!request->checked) {
        char reason[SERVER_REASON_SIZE];
        request->checked = true;
        if (!check(request, url, reason, sizeof reason))
            return reply_text(request, MHD_HTTP_BAD_REQUEST, reason);
    }
    if (!wait_until(request, request->deadline))
        return MHD_YES;    /* suspended: we are called again when it is time */
    switch (request->wait_end) {
    case SERVER_WAIT_HANGUP:
        return MHD_NO;     /* nobody to answer: close the connection */
    case SERVER_WAIT_SHUTDOWN:
        return reply_shutting_down(request);
    case SERVER_WAIT_DONE:
        break;
    }
    return answer(request, url);
}

enum MHD_Result server_handle_request(void *cls, struct MHD_Connection *connection,
                                      const char *url, const char *method,
                                      const char *version, const char *upload_data,
                                      size_t *upload_data_size, void **req_cls)
{
    struct server_request *request = *req_cls;
    if (request == NULL)
        return begin(cls, connection, url, method, version, req_cls);
    if (*upload_data_size != 0)
        return receive_body(request, upload_data, upload_data_size);
    return serve(request, url);
}

size_t server_unescape_callback(void *cls, struct MHD_Connection *connection, char *text)
{
    (void)cls;
    (void)connection;
    return server_unescape(text);
}

/* ------------------------------------------------------------ completion */

static void log_request(const struct server_request *request)
{
    char status[16] = "closed";      /* ended without a reply */
    if (request->status != 0)
        snprintf(status, sizeof status, "%u", request->status);
    /* One printf per line: stdio locks the stream, so lines from several
     * threads never interleave. */
    printf("%s %s %s %.3f s\n", request->method, request->path ? request->path : "?", status,
           clock_now() - request->started);
}

void server_request_completed(void *cls, struct MHD_Connection *connection,
                              void **req_cls, enum MHD_RequestTerminationCode why)
{
    struct server_app *app = cls;
    struct server_request *request = *req_cls;
    (void)connection;
    (void)why;
    if (request == NULL)
        return;
    *req_cls = NULL;
    if (!app->quiet)
        log_request(request);
    server_stats_end(app->stats, request->route);
    server_live_end(app->live_view, request->live_id, request->status);
    free(request->body);
    free(request->path);
    free(request);
    count_live(app, -1);
}
