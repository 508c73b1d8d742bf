/* waiting.c - the interruptible wait of threads and blocking mode; see waiting.h. */
/* ppoll and POLLRDHUP are GNU extensions: the Makefile defines _GNU_SOURCE. */
#include "waiting.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <time.h>

#include "clock.h"

struct timespec server_timespec(double seconds)
{
    struct timespec span;
    span.tv_sec = (time_t)seconds;
    span.tv_nsec = (long)((seconds - (double)span.tv_sec) * 1e9);
    if (span.tv_nsec >= 1000000000L)   /* rounding can reach one second */
        span.tv_nsec = 999999999L;
    return span;
}

enum server_wait_end server_sleep_until(double deadline, int connection_fd, int shutdown_fd)
{
    for (;;) {
        double left = deadline - clock_now();
        if (left <= 0)
            return SERVER_WAIT_DONE;
        /* POLLRDHUP: the client closed its end.  poll() ignores fds < 0. */
        struct pollfd watched[2] = {
            { .fd = connection_fd, .events = POLLRDHUP },
            { .fd = shutdown_fd, .events = POLLIN },
        };
        struct timespec timeout = server_timespec(left);
        int ready = ppoll(watched, 2, &timeout, NULL);
        if (ready < 0 && errno != EINTR) {
            /* Cannot watch (should not happen): at least do not spin. */
            struct timespec pause = server_timespec(fmin(left, 0.01));
            nanosleep(&pause, NULL);
            continue;
        }
        if (ready > 0 && watched[1].revents != 0)
            return SERVER_WAIT_SHUTDOWN;
        if (ready > 0 && (watched[0].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0)
            return SERVER_WAIT_HANGUP;
    }
}
