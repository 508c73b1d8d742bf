/*
 * live.c - the live view's event stream and page; see live.h.
 *
 * Threads: server_live_begin and server_live_end run wherever requests
 * start and finish (libmicrohttpd's thread in async and blocking mode, a
 * connection's own thread in threads mode), read_events on the viewer's
 * connection.  One mutex guards the viewers and their rings.  As in the
 * delay timer, a viewer is suspended under that lock and resumed only after
 * it is released: libmicrohttpd takes locks of its own in
 * MHD_resume_connection.
 *
 * Threads mode is the exception: there every connection has a thread of its
 * own anyway, and libmicrohttpd 0.9 does not reliably wake a suspended
 * connection's thread (its threads share one wake-up pipe), so a viewer's
 * thread waits on a condition variable instead.
 */
#include "live.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "live_assets.h"

/* The longest event text: the path is cut well below this. */
#define EVENT_TEXT_SIZE 512
#define PATH_SHOWN 200

/* libmicrohttpd asks the stream for at most this much at a time. */
#define STREAM_BLOCK_SIZE ((size_t)64 * 1024)

/* The kernel's send buffer for a viewer: small, so that a viewer that stops
 * reading fills it (and then its ring) after a few dozen kilobytes rather
 * than after the megabytes loopback allows by default. */
#define VIEWER_SOCKET_BUFFER 65536

/* Threads mode: how often a waiting viewer's thread looks whether its
 * viewer is still there. */
#define THREAD_WAIT_CHECK_S 1

struct viewer {
    struct server_live *live;
    struct MHD_Connection *connection;
    int fd;                          /* its socket; -1 if unknown */
    struct viewer *prev, *next;      /* live->viewers */
    struct viewer *resume_next;      /* a list of viewers to resume */
    bool suspended;                  /* waiting for an event */
    bool greeted;                    /* the hello event went out */
    long dropped;                    /* events this viewer missed */
    bool dropped_untold;             /* ... and has not been told about yet */
    size_t head, length;             /* the ring: oldest byte, bytes queued */
    char ring[LIVE_QUEUE_BYTES];
};

struct server_live {
    pthread_mutex_t lock;
    bool wait_on_thread;             /* threads mode: viewers wait on `wakeup` */
    pthread_cond_t wakeup;           /* broadcast when there is news */
    char mode[16];
    double started;                  /* clock_now() when the server started */
    long next_id;
    long in_flight;                  /* the requests shown, begun and not ended */
    bool closing;
    struct viewer *viewers;
    long viewer_count;
    /* For /stats. */
    long viewers_total, refused, events, dropped;
    size_t max_queued;
};

struct server_live *server_live_new(const char *mode_name, bool wait_on_thread)
{
    struct server_live *live = calloc(1, sizeof *live);
    if (live == NULL)
        return NULL;
    pthread_mutex_init(&live->lock, NULL);
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&live->wakeup, &attributes);
    pthread_condattr_destroy(&attributes);
    live->wait_on_thread = wait_on_thread;
    snprintf(live->mode, sizeof live->mode, "%s", mode_name);
    live->started = clock_now();
    return live;
}

void server_live_free(struct server_live *live)
{
    if (live == NULL)
        return;
    pthread_cond_destroy(&live->wakeup);
    pthread_mutex_destroy(&live->lock);
    free(live);
}

/* Seconds since the server started: the page's time axis. */
static double live_time(const struct server_live *live)
{
    return clock_now() - live->started;
}

/* ------------------------------------------------------------ the rings */

/* Copies a whole event into the ring, or drops it: never half of one. */
static void ring_put(struct viewer *viewer, const char *text, size_t length)
{
    if (length > LIVE_QUEUE_BYTES - viewer->length) {
        viewer->dropped++;
        viewer->dropped_untold = true;
        viewer->live->dropped++;
        return;
    }
    size_t tail = (viewer->head + viewer->length) % LIVE_QUEUE_BYTES;
    size_t first = length < LIVE_QUEUE_BYTES - tail ? length : LIVE_QUEUE_BYTES - tail;
    memcpy(viewer->ring + tail, text, first);
    memcpy(viewer->ring, text + first, length - first);
    viewer->length += length;
    if (viewer->length > viewer->live->max_queued)
        viewer->live->max_queued = viewer->length;
}

/* Moves up to size bytes out of the ring; returns how many. */
static size_t ring_take(struct viewer *viewer, char *buffer, size_t size)
{
    size_t taken = 0;
    while (taken < size && viewer->length > 0) {
        size_t run = LIVE_QUEUE_BYTES - viewer->head;
        if (run > viewer->length)
            run = viewer->length;
        if (run > size - taken)
            run = size - taken;
        memcpy(buffer + taken, viewer->ring + viewer->head, run);
        viewer->head = (viewer->head + run) % LIVE_QUEUE_BYTES;
        viewer->length -= run;
        taken += run;
    }
    return taken;
}

/* ------------------------------------------------------------ publishing */

/* Writes one Server-Sent Event ("event: NAME\ndata: JSON\n\n") into text;
 * returns its length, or 0 if it did not fit or data is NULL.  Takes data. */
static size_t format_event(char *text, size_t size, const char *name, json_t *data)
{
    int head = snprintf(text, size, "event: %s\ndata: ", name);
    size_t length = 0;
    if (data != NULL && head > 0 && (size_t)head < size) {
        size_t json = json_dumpb(data, text + head, size - (size_t)head - 2,
                                 JSON_COMPACT | JSON_REAL_PRECISION(9));
        if (json > 0 && json <= size - (size_t)head - 2) {
            memcpy(text + head + json, "\n\n", 2);
            length = (size_t)head + json + 2;
        }
    }
    json_decref(data);
    return length;
}

/* Copies an event to every viewer (lock held) and collects the viewers it
 * wakes, linked through resume_next, for the caller to resume. */
static struct viewer *publish(struct server_live *live, const char *text, size_t length)
{
    struct viewer *resume = NULL;
    live->events++;
    if (live->wait_on_thread)
        pthread_cond_broadcast(&live->wakeup);
    for (struct viewer *viewer = live->viewers; viewer != NULL; viewer = viewer->next) {
        ring_put(viewer, text, length);
        if (viewer->suspended) {
            viewer->suspended = false;     /* ours to resume, nobody else's */
            viewer->resume_next = resume;
            resume = viewer;
        }
    }
    return resume;
}

/* Outside the lock.  Reads resume_next first: once resumed, a viewer may
 * end and be freed at any moment. */
static void resume_all(struct viewer *resume)
{
    while (resume != NULL) {
        struct viewer *next = resume->resume_next;
        MHD_resume_connection(resume->connection);
        resume = next;
    }
}

/* What /health and the observers (/stats, the live view itself) do is not
 * shown, for the reason /stats does not count them: watching must not
 * change what is watched. */
static bool shown(enum server_route route)
{
    return route < SERVER_COUNTED_ROUTES && route != SERVER_ROUTE_HEALTH;
}

/* The path as JSON wants it: valid UTF-8 (jansson refuses anything else,
 * and a client may send any bytes), cut at PATH_SHOWN. */
static json_t *path_value(enum server_route route, const char *path)
{
    char cut[PATH_SHOWN + 1];
    snprintf(cut, sizeof cut, "%s", path);
    json_t *value = json_string(cut);
    return value != NULL ? value : json_string(server_route_name(route));
}

long server_live_begin(struct server_live *live, enum server_route route, const char *path)
{
    if (live == NULL || !shown(route))
        return 0;
    pthread_mutex_lock(&live->lock);
    long id = ++live->next_id;
    live->in_flight++;
    struct viewer *resume = NULL;
    if (live->viewers != NULL) {
        char text[EVENT_TEXT_SIZE];
        size_t length = format_event(text, sizeof text, "begin",
            json_pack("{s:I, s:f, s:o, s:I}", "id", (json_int_t)id, "t", live_time(live),
                      "path", path_value(route, path), "in_flight", (json_int_t)live->in_flight));
        if (length > 0)
            resume = publish(live, text, length);
    }
    pthread_mutex_unlock(&live->lock);
    resume_all(resume);
    return id;
}

void server_live_end(struct server_live *live, long id, unsigned status)
{
    if (live == NULL || id == 0)
        return;
    pthread_mutex_lock(&live->lock);
    live->in_flight--;
    struct viewer *resume = NULL;
    if (live->viewers != NULL) {
        char text[EVENT_TEXT_SIZE];
        size_t length = format_event(text, sizeof text, "end",
            json_pack("{s:I, s:f, s:I, s:I}", "id", (json_int_t)id, "t", live_time(live),
                      "status", (json_int_t)status, "in_flight", (json_int_t)live->in_flight));
        if (length > 0)
            resume = publish(live, text, length);
    }
    pthread_mutex_unlock(&live->lock);
    resume_all(resume);
}

/* ------------------------------------------------------------ a viewer */

/* The first event of a stream: the server's clock (the page lines its
 * time axis up with it), what is in flight already, and the server's mode.
 * "retry" makes the browser reconnect within a second after a restart. */
static size_t format_hello(struct server_live *live, char *text, size_t size)
{
    int retry = snprintf(text, size, "retry: 1000\n");
    if (retry < 0 || (size_t)retry >= size)
        return 0;
    size_t event = format_event(text + retry, size - (size_t)retry, "hello",
        json_pack("{s:f, s:I, s:s, s:I}", "t", live_time(live),
                  "in_flight", (json_int_t)live->in_flight, "mode", live->mode,
                  "queue_bytes", (json_int_t)LIVE_QUEUE_BYTES));
    return event > 0 ? (size_t)retry + event : 0;
}

/* Writes what the viewer is owed before its queue (lock held): the hello,
 * or the news that it missed events.  Returns the bytes written. */
static size_t format_notices(struct viewer *viewer, char *buffer, size_t size)
{
    bool hello = !viewer->greeted;
    if (!hello && !viewer->dropped_untold)
        return 0;
    char text[EVENT_TEXT_SIZE];
    size_t length = hello ? format_hello(viewer->live, text, sizeof text)
                          : format_event(text, sizeof text, "dropped",
                                         json_pack("{s:I}", "dropped", (json_int_t)viewer->dropped));
    if (length == 0 || length > size)
        return 0;                    /* the next call has more room */
    if (hello)
        viewer->greeted = true;
    else
        viewer->dropped_untold = false;
    memcpy(buffer, text, length);
    return length;
}

/* True if the viewer closed its end.  A viewer sends nothing after its
 * request, so anything but "nothing to read yet" means it is gone.  Asked
 * before each wait: the first write to a closed socket still succeeds, and
 * an idle viewer would otherwise stay until its second event. */
static bool viewer_left(const struct viewer *viewer)
{
    char byte;
    if (viewer->fd < 0)
        return false;
    ssize_t got = recv(viewer->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* MHD_ContentReaderCallback of /live/events.  Returning 0 right after
 * suspending the connection is how a stream waits without a thread: the
 * next event resumes it and libmicrohttpd calls this again. */
static ssize_t read_events(void *cls, uint64_t position, char *buffer, size_t size)
{
    struct viewer *viewer = cls;
    struct server_live *live = viewer->live;
    (void)position;
    pthread_mutex_lock(&live->lock);
    size_t written;
    bool left = false;
    for (;;) {
        written = format_notices(viewer, buffer, size);
        written += ring_take(viewer, buffer + written, size - written);
        if (written > 0 || live->closing)
            break;
        left = viewer_left(viewer);
        if (left || !live->wait_on_thread)
            break;           /* suspend (below), or end the stream */
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += THREAD_WAIT_CHECK_S;
        pthread_cond_timedwait(&live->wakeup, &live->lock, &until);
    }
    /* The stream ends when the server stops or the viewer left; for the
     * browser that is the end of a reply, which EventSource retries. */
    bool over = written == 0 && (live->closing || left);
    if (written == 0 && !over) {
        viewer->suspended = true;
        MHD_suspend_connection(viewer->connection);
    }
    pthread_mutex_unlock(&live->lock);
    return over ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)written;
}

/* MHD_ContentReaderFreeCallback: the stream is over (the viewer left, or
 * the server stops), so the viewer goes. */
static void free_viewer(void *cls)
{
    struct viewer *viewer = cls;
    struct server_live *live = viewer->live;
    pthread_mutex_lock(&live->lock);
    if (viewer->prev != NULL)
        viewer->prev->next = viewer->next;
    else
        live->viewers = viewer->next;
    if (viewer->next != NULL)
        viewer->next->prev = viewer->prev;
    live->viewer_count--;
    pthread_mutex_unlock(&live->lock);
    free(viewer);
}

/* A new viewer in the list, or NULL when there is no room (or memory). */
static struct viewer *add_viewer(struct server_live *live, struct MHD_Connection *connection,
                                 int fd)
{
    pthread_mutex_lock(&live->lock);
    struct viewer *viewer = NULL;
    if (!live->closing && live->viewer_count < LIVE_MAX_VIEWERS)
        viewer = calloc(1, sizeof *viewer);
    if (viewer != NULL) {
        viewer->live = live;
        viewer->connection = connection;
        viewer->fd = fd;
        viewer->next = live->viewers;
        if (live->viewers != NULL)
            live->viewers->prev = viewer;
        live->viewers = viewer;
        live->viewer_count++;
        live->viewers_total++;
    } else {
        live->refused++;
    }
    pthread_mutex_unlock(&live->lock);
    return viewer;
}

static enum MHD_Result queue_text(struct MHD_Connection *connection, unsigned code,
                                  const char *text, unsigned *status)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (response == NULL)
        return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    enum MHD_Result queued = MHD_queue_response(connection, code, response);
    MHD_destroy_response(response);
    if (queued == MHD_YES)
        *status = code;
    return queued;
}

enum MHD_Result server_live_answer_events(struct server_live *live, struct MHD_Connection *connection,
                                          int fd, unsigned *status)
{
    struct viewer *viewer = add_viewer(live, connection, fd);
    if (viewer == NULL)
        return queue_text(connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                          "too many live viewers, or the server is stopping\n", status);
    int buffer = VIEWER_SOCKET_BUFFER;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    struct MHD_Response *response = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, STREAM_BLOCK_SIZE, read_events, viewer, free_viewer);
    if (response == NULL) {
        free_viewer(viewer);
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    /* The stream ends only with its connection, so it needs no chunked
     * encoding, whose buffer comes out of the connection's few KiB
     * (main.c): each call of read_events could then pass on only that
     * much, and a busy server would drop events even for a quick viewer.
     * Unchunked, it fills the response's own STREAM_BLOCK_SIZE. */
    MHD_set_response_options(response, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT, MHD_RO_END);
    enum MHD_Result queued = MHD_queue_response(connection, MHD_HTTP_OK, response);
    MHD_destroy_response(response);    /* frees the viewer too if it was not queued */
    if (queued == MHD_YES)
        *status = MHD_HTTP_OK;
    return queued;
}

void server_live_shutdown(struct server_live *live)
{
    if (live == NULL)
        return;
    struct viewer *resume = NULL;
    pthread_mutex_lock(&live->lock);
    live->closing = true;
    pthread_cond_broadcast(&live->wakeup);
    for (struct viewer *viewer = live->viewers; viewer != NULL; viewer = viewer->next) {
        if (viewer->suspended) {
            viewer->suspended = false;
            viewer->resume_next = resume;
            resume = viewer;
        }
    }
    pthread_mutex_unlock(&live->lock);
    resume_all(resume);
}

/* ------------------------------------------------------------ the page */

static const char *content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot != NULL && strcmp(dot, ".html") == 0)
        return "text/html; charset=utf-8";
    if (dot != NULL && strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (dot != NULL && strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    return "application/octet-stream";
}

enum MHD_Result server_live_answer_page(struct server_live *live, struct MHD_Connection *connection,
                                        const char *url, unsigned *status)
{
    (void)live;
    /* "/live" is the page itself; "/live/NAME" one of the files beside it. */
    const char *name = strcmp(url, "/live") == 0 || strcmp(url, "/live/") == 0
                       ? "index.html" : url + strlen("/live/");
    const struct live_asset *asset = live_asset_named(name);
    if (asset == NULL)
        return queue_text(connection, MHD_HTTP_NOT_FOUND, "no such file in the live view\n", status);
    struct MHD_Response *response =
        MHD_create_response_from_buffer(asset->size, (void *)asset->data, MHD_RESPMEM_PERSISTENT);
    if (response == NULL)
        return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(asset->name));
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result queued = MHD_queue_response(connection, MHD_HTTP_OK, response);
    MHD_destroy_response(response);
    if (queued == MHD_YES)
        *status = MHD_HTTP_OK;
    return queued;
}

/* ------------------------------------------------------------ /stats */

json_t *server_live_stats(struct server_live *live)
{
    if (live == NULL)
        return NULL;
    pthread_mutex_lock(&live->lock);
    size_t queued = 0;
    for (struct viewer *viewer = live->viewers; viewer != NULL; viewer = viewer->next)
        queued += viewer->length;
    json_t *stats = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                              "viewers", (json_int_t)live->viewer_count,
                              "viewers_total", (json_int_t)live->viewers_total,
                              "refused", (json_int_t)live->refused,
                              "events", (json_int_t)live->events,
                              "dropped", (json_int_t)live->dropped,
                              "queued_bytes", (json_int_t)queued,
                              "max_queued_bytes", (json_int_t)live->max_queued,
                              "queue_bytes", (json_int_t)LIVE_QUEUE_BYTES);
    pthread_mutex_unlock(&live->lock);
    return stats;
}
