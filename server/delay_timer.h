/*
 * delay_timer.h - how a request waits in async mode: without a thread.
 *
 * A delayed request is suspended (MHD_suspend_connection: libmicrohttpd
 * stops looking at its socket and the event loop moves on to other
 * connections) and handed to this timer together with its deadline.  One
 * thread runs a small event loop (epoll) over
 *
 *   - a timerfd armed for the earliest deadline (a binary heap keeps the
 *     held requests ordered by deadline),
 *   - the socket of every held request, for EPOLLRDHUP: libmicrohttpd does
 *     not watch suspended sockets, so without this a client that gives up
 *     would stay "in flight" until its deadline,
 *   - an eventfd that wakes the loop for shutdown.
 *
 * When a deadline passes or a client hangs up, the timer unregisters the
 * socket, records why the wait ended in the hold, and resumes the
 * connection (MHD_resume_connection); libmicrohttpd then calls the handler
 * again, which answers or closes.  10 000 held requests are 10 000 small
 * structs and sockets, not 10 000 threads.
 */
#ifndef SLOWSERVER_DELAY_TIMER_H
#define SLOWSERVER_DELAY_TIMER_H

#include <stdbool.h>
#include <stddef.h>

#include "waiting.h"

struct MHD_Connection;
struct server_timer;

/* One held request; lives in the request's own context.  The timer owns it
 * from server_timer_hold until it resumes the connection. */
struct server_hold {
    struct MHD_Connection *connection;
    int fd;                       /* the client socket; -1 if not watched */
    double deadline;              /* clock_now() seconds */
    size_t heap_index;            /* position in the timer's heap */
    enum server_wait_end end;     /* why the wait ended, set before resuming */
    struct server_hold *next;     /* the timer's list of holds to resume */
};

/* Starts the timer thread.  NULL (errno set) if it cannot. */
struct server_timer *server_timer_start(void);

/*
 * Suspends connection and holds it until deadline, or until its client
 * hangs up, or shutdown.  Call it from the access handler or a content
 * reader of that connection, then return from there.  Returns false, and
 * suspends nothing, once server_timer_shutdown has begun (or if out of
 * memory): the caller should answer at once.
 */
bool server_timer_hold(struct server_timer *timer, struct server_hold *hold,
                       struct MHD_Connection *connection, int fd, double deadline);

/* Resumes every held connection with SERVER_WAIT_SHUTDOWN and refuses
 * further holds.  Returns at once; the timer thread does the resuming. */
void server_timer_shutdown(struct server_timer *timer);

/* Resumes anything still held (as shutdown does), stops the thread and
 * waits for it.  Afterwards the timer touches no connection any more, so
 * the daemon may be stopped; holds are refused.  NULL is fine, and so is
 * a second call. */
void server_timer_stop(struct server_timer *timer);

/* Stops (if still running) and frees the timer; NULL is fine. */
void server_timer_free(struct server_timer *timer);

#endif
