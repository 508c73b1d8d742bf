/*
 * live.h - the live view: a page at /live that watches requests wait, fed
 * by Server-Sent Events from /live/events (docs/slowserver.md, "The live
 * view").
 *
 * routes.c tells this module when a request starts and when it ends; the
 * module turns each into one small event and copies it into the queue of
 * every viewer (a browser tab holding /live/events open).  A viewer's
 * queue is a fixed ring of LIVE_QUEUE_BYTES: an event that does not fit is
 * dropped for that viewer and counted, and the viewer is told how many it
 * missed.  So a slow or stuck viewer costs at most its ring, and publishing
 * never waits for anyone: it copies a few hundred bytes under one mutex.
 *
 * An empty queue does not hold a thread either: the viewer's connection is
 * suspended (MHD_suspend_connection) and resumed by the next event, as the
 * delay timer does for held requests.  (In threads mode the viewer's own
 * thread waits instead; see live.c.)
 *
 * Every function takes NULL for "the live view is off" (--no-live) and then
 * does nothing.
 */
#ifndef SLOWSERVER_LIVE_H
#define SLOWSERVER_LIVE_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>

#include "params.h"

/* Bytes of events waiting for one viewer; about 500 events. */
#define LIVE_QUEUE_BYTES ((size_t)64 * 1024)

/* Viewers at once; one more is answered 503.  With the rings above this
 * bounds the live view's memory to 2 MiB however many tabs are opened. */
#define LIVE_MAX_VIEWERS 32

struct server_live;

/* mode_name is shown on the page.  wait_on_thread: a viewer with nothing
 * to send waits on its connection's own thread (threads mode) rather than
 * suspended (the other modes, which need MHD_ALLOW_SUSPEND_RESUME).
 * NULL (errno set) if out of memory. */
struct server_live *server_live_new(const char *mode_name, bool wait_on_thread);
void server_live_free(struct server_live *live);

/* A request on route started; path is what the page shows (the path,
 * with its arguments where the server has them).  Returns the id its end must quote, or 0 when the live view does
 * not show this route (observers, /health) or is off. */
long server_live_begin(struct server_live *live, enum server_route route, const char *path);

/* The request with this id ended; status is the code it was answered
 * with, 0 if it was closed without an answer. */
void server_live_end(struct server_live *live, long id, unsigned status);

/* Queues the reply to GET /live or /live/FILE (the page, its script and
 * its style sheet; 404 for anything else); *status gets the code queued. */
enum MHD_Result server_live_answer_page(struct server_live *live, struct MHD_Connection *connection,
                                        const char *url, unsigned *status);

/* Queues the event stream of GET /live/events, or a 503 when
 * LIVE_MAX_VIEWERS are watching already; *status gets the code queued.
 * fd is the viewer's socket (-1 if unknown): its send buffer is made small,
 * so that a viewer that stops reading shows as drops soon. */
enum MHD_Result server_live_answer_events(struct server_live *live, struct MHD_Connection *connection,
                                          int fd, unsigned *status);

/* Every stream ends (after sending what it has queued) and no new one
 * starts.  Returns at once. */
void server_live_shutdown(struct server_live *live);

/* The "live" object of GET /stats, a new reference (NULL if off):
 * {"viewers":V,"viewers_total":T,"refused":R,"events":E,"dropped":D,
 *  "queued_bytes":Q,"max_queued_bytes":M,"queue_bytes":LIVE_QUEUE_BYTES}
 * events counts events published, dropped the copies not delivered to some
 * viewer, queued_bytes what waits in all rings now, max_queued_bytes the
 * fullest any single ring has been. */
json_t *server_live_stats(struct server_live *live);

#endif
