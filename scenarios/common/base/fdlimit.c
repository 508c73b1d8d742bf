/* fdlimit.c - see fdlimit.h for why the programs raise their fd limit. */
#include "fdlimit.h"

#include <stdio.h>
#include <sys/resource.h>

/* What a program needs for itself besides its transfers: stdio, the
 * trace file, libcurl's own sockets and pipes. */
#define SPARE_FDS 16

long fdlimit_raise(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return -1;
    if (limit.rlim_cur < limit.rlim_max) {
        struct rlimit raised = { .rlim_cur = limit.rlim_max, .rlim_max = limit.rlim_max };
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            limit = raised;
    }
    return limit.rlim_cur == RLIM_INFINITY ? -1 : (long)limit.rlim_cur;
}

void fdlimit_make_room(const char *program, long in_flight, long fds_each)
{
    long limit = fdlimit_raise();
    if (limit <= 0 || in_flight * fds_each + SPARE_FDS <= limit)
        return;
    if (fds_each == 1)
        fprintf(stderr, "%s: note: only %ld file descriptors allowed; "
                "expect failures above about %ld transfers in flight\n",
                program, limit, limit - SPARE_FDS);
    else
        fprintf(stderr, "%s: note: only %ld file descriptors allowed and each request in "
                "flight holds %ld here; expect failures above about %ld in flight\n",
                program, limit, fds_each, (limit - SPARE_FDS) / fds_each);
}
