/*
 * waiting.h - how a request waits out its delay in threads and blocking mode,
 * and the three ways any wait can end.
 *
 * In those modes the waiting happens on a thread: the request's own thread
 * (threads mode) or the server's only one (blocking mode, which is why it
 * serves one request at a time).  A plain sleep() would be simplest, but it
 * would neither notice a client that hung up nor let the server shut down
 * before the longest delay ran out.  So the thread waits in ppoll() on two
 * file descriptors: the client's socket (has the client closed it?) and a
 * shutdown eventfd that main() makes readable once, for every waiter at once.
 *
 * Async mode waits without a thread; see delay_timer.h.
 */
#ifndef SLOWSERVER_WAITING_H
#define SLOWSERVER_WAITING_H

#include <time.h>

enum server_wait_end {
    SERVER_WAIT_DONE,       /* the deadline came: answer the request */
    SERVER_WAIT_HANGUP,     /* the client went away: close, no reply */
    SERVER_WAIT_SHUTDOWN,   /* the server is stopping: answer 503 */
};

/* seconds (>= 0, as a double) as a struct timespec, for the system calls
 * that want one: ppoll, timerfd_settime, pthread_cond_timedwait. */
struct timespec server_timespec(double seconds);

/* Waits until deadline (clock_now() seconds) unless the peer of
 * connection_fd hangs up or shutdown_fd becomes readable first.  Either fd
 * may be -1 (then it is not watched). */
enum server_wait_end server_sleep_until(double deadline, int connection_fd, int shutdown_fd);

#endif
