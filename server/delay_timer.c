/*
 * delay_timer.c - async mode's timer and hang-up watcher; see delay_timer.h.
 *
 * Threads: server_timer_hold runs on libmicrohttpd's thread, everything else
 * of the loop on the timer's own thread; one mutex guards the heap.  Only
 * the timer thread ever takes a hold out of the heap, and it resumes the
 * connection only after that, with the lock released and the socket
 * already unregistered from epoll.  That order is what makes the socket's
 * lifetime safe: libmicrohttpd cannot close a connection while it is
 * suspended, so the fd stays valid for as long as epoll knows it.
 */
#include "delay_timer.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define EVENT_BATCH 256

struct server_timer {
    pthread_mutex_t lock;
    struct server_hold **heap;   /* min-heap by deadline */
    size_t count, capacity;
    bool closing;                /* shutdown began: resume all, hold nothing new */
    bool stopping;               /* the thread should exit */

    int epoll_fd, timer_fd, wake_fd;
    pthread_t thread;
    /* Addresses only, to tell the two control fds from held sockets in
     * epoll's data.ptr (which otherwise points to a struct server_hold). */
    char timer_tag, wake_tag;
};

/* ------------------------------------------------------------ the heap */

static bool earlier(const struct server_hold *a, const struct server_hold *b)
{
    return a->deadline < b->deadline;
}

static void place(struct server_timer *timer, size_t index, struct server_hold *hold)
{
    timer->heap[index] = hold;
    hold->heap_index = index;
}

static void sift_up(struct server_timer *timer, size_t index)
{
    struct server_hold *hold = timer->heap[index];
    while (index > 0) {
        size_t parent = (index - 1) / 2;
        if (!earlier(hold, timer->heap[parent]))
            break;
        place(timer, index, timer->heap[parent]);
        index = parent;
    }
    place(timer, index, hold);
}

static void sift_down(struct server_timer *timer, size_t index)
{
    struct server_hold *hold = timer->heap[index];
    for (;;) {
        size_t child = 2 * index + 1;
        if (child >= timer->count)
            break;
        if (child + 1 < timer->count && earlier(timer->heap[child + 1], timer->heap[child]))
            child++;
        if (!earlier(timer->heap[child], hold))
            break;
        place(timer, index, timer->heap[child]);
        index = child;
    }
    place(timer, index, hold);
}

static bool heap_reserve(struct server_timer *timer)
{
    if (timer->count < timer->capacity)
        return true;
    size_t capacity = timer->capacity ? 2 * timer->capacity : 64;
    struct server_hold **grown = realloc(timer->heap, capacity * sizeof *grown);
    if (grown == NULL)
        return false;
    timer->heap = grown;
    timer->capacity = capacity;
    return true;
}

static void heap_push(struct server_timer *timer, struct server_hold *hold)
{
    place(timer, timer->count++, hold);
    sift_up(timer, hold->heap_index);
}

static void heap_remove(struct server_timer *timer, struct server_hold *hold)
{
    size_t index = hold->heap_index;
    struct server_hold *last = timer->heap[--timer->count];
    if (index < timer->count) {
        place(timer, index, last);
        sift_up(timer, index);
        sift_down(timer, last->heap_index);
    }
}

/* ------------------------------------------------------------ the fds */

/* Arms the timerfd for the earliest deadline, or disarms it if none. */
static void arm(struct server_timer *timer)
{
    struct itimerspec when = { 0 };
    if (timer->count > 0) {
        when.it_value = server_timespec(timer->heap[0]->deadline);
        /* An all-zero it_value would disarm: any deadline is > 0 on the
         * monotonic clock, but make sure. */
        if (when.it_value.tv_sec == 0 && when.it_value.tv_nsec == 0)
            when.it_value.tv_nsec = 1;
    }
    /* clock_now() is CLOCK_MONOTONIC, the clock the timerfd was made with,
     * so the deadline can be given as an absolute time. */
    timerfd_settime(timer->timer_fd, TFD_TIMER_ABSTIME, &when, NULL);
}

static void wake(struct server_timer *timer)
{
    uint64_t one = 1;
    while (write(timer->wake_fd, &one, sizeof one) < 0 && errno == EINTR)
        ;
}

static void drain(int fd)
{
    uint64_t count;
    while (read(fd, &count, sizeof count) < 0 && errno == EINTR)
        ;
}

static bool watch(int epoll_fd, int fd, void *tag, uint32_t events)
{
    struct epoll_event event = { .events = events, .data.ptr = tag };
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) == 0;
}

/* ------------------------------------------------------------ holding */

bool server_timer_hold(struct server_timer *timer, struct server_hold *hold,
                       struct MHD_Connection *connection, int fd, double deadline)
{
    pthread_mutex_lock(&timer->lock);
    /* Checking `closing` and suspending under one lock means a request is
     * either held before shutdown begins (and resumed by it) or refused. */
    if (timer->closing || !heap_reserve(timer)) {
        pthread_mutex_unlock(&timer->lock);
        return false;
    }
    hold->connection = connection;
    hold->deadline = deadline;
    hold->end = SERVER_WAIT_DONE;
    /* Suspend before the timer can see the hold: it must never resume a
     * connection that is not suspended yet. */
    MHD_suspend_connection(connection);
    heap_push(timer, hold);
    if (hold->heap_index == 0)
        arm(timer);
    /* Level-triggered EPOLLRDHUP: a client that is already gone is noticed
     * at once.  If the socket cannot be watched, the hold still ends at
     * its deadline. */
    hold->fd = fd >= 0 && watch(timer->epoll_fd, fd, hold, EPOLLRDHUP) ? fd : -1;
    pthread_mutex_unlock(&timer->lock);
    return true;
}

/* Takes a hold out (lock held) and adds it to the list to resume. */
static void release(struct server_timer *timer, struct server_hold *hold,
                    enum server_wait_end end, struct server_hold **resume)
{
    heap_remove(timer, hold);
    /* Unregister now, while the connection is still suspended and its
     * socket therefore still open. */
    if (hold->fd >= 0)
        epoll_ctl(timer->epoll_fd, EPOLL_CTL_DEL, hold->fd, NULL);
    hold->end = end;
    hold->next = *resume;
    *resume = hold;
}

/* Takes out everything a batch of events ends (lock held) and returns
 * those holds as a list linked through their `next`. */
static struct server_hold *collect(struct server_timer *timer, const struct epoll_event *events,
                                   int ready)
{
    struct server_hold *resume = NULL;
    for (int i = 0; i < ready; i++) {
        void *tag = events[i].data.ptr;
        if (tag == &timer->timer_tag || tag == &timer->wake_tag) {
            drain(tag == &timer->timer_tag ? timer->timer_fd : timer->wake_fd);
            continue;
        }
        /* A hold is in this batch only if its socket is still registered,
         * which means it is still held: release() unregisters. */
        release(timer, tag, SERVER_WAIT_HANGUP, &resume);
    }
    double now = clock_now();
    while (timer->count > 0 && (timer->closing || timer->heap[0]->deadline <= now))
        release(timer, timer->heap[0], timer->closing ? SERVER_WAIT_SHUTDOWN : SERVER_WAIT_DONE,
                &resume);
    arm(timer);
    return resume;
}

static void *run(void *arg)
{
    struct server_timer *timer = arg;
    struct epoll_event events[EVENT_BATCH];
    for (;;) {
        int ready = epoll_wait(timer->epoll_fd, events, EVENT_BATCH, -1);
        if (ready < 0 && errno != EINTR)
            break;
        pthread_mutex_lock(&timer->lock);
        struct server_hold *resume = collect(timer, events, ready < 0 ? 0 : ready);
        bool stopping = timer->stopping;
        pthread_mutex_unlock(&timer->lock);
        /* Resume outside the lock: libmicrohttpd takes its own locks here,
         * and its thread may be waiting for ours in server_timer_hold.
         * Read `next` first: once resumed, the request may finish and its
         * hold be freed at any moment. */
        while (resume != NULL) {
            struct server_hold *next = resume->next;
            MHD_resume_connection(resume->connection);
            resume = next;
        }
        if (stopping)
            break;
    }
    return NULL;
}

/* ------------------------------------------------------------ life cycle */

static void close_fds(struct server_timer *timer)
{
    if (timer->epoll_fd >= 0)
        close(timer->epoll_fd);
    if (timer->timer_fd >= 0)
        close(timer->timer_fd);
    if (timer->wake_fd >= 0)
        close(timer->wake_fd);
}

struct server_timer *server_timer_start(void)
{
    struct server_timer *timer = calloc(1, sizeof *timer);
    if (timer == NULL)
        return NULL;
    timer->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    timer->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    timer->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&timer->lock, NULL);
    int error = 0;
    if (timer->epoll_fd < 0 || timer->timer_fd < 0 || timer->wake_fd < 0
        || !watch(timer->epoll_fd, timer->timer_fd, &timer->timer_tag, EPOLLIN)
        || !watch(timer->epoll_fd, timer->wake_fd, &timer->wake_tag, EPOLLIN))
        error = errno;
    else
        error = pthread_create(&timer->thread, NULL, run, timer);
    if (error != 0) {
        close_fds(timer);
        pthread_mutex_destroy(&timer->lock);
        free(timer);
        errno = error;
        return NULL;
    }
    return timer;
}

void server_timer_shutdown(struct server_timer *timer)
{
    pthread_mutex_lock(&timer->lock);
    timer->closing = true;
    pthread_mutex_unlock(&timer->lock);
    wake(timer);
}

void server_timer_stop(struct server_timer *timer)
{
    if (timer == NULL)
        return;
    pthread_mutex_lock(&timer->lock);
    bool running = !timer->stopping;
    timer->closing = true;     /* anything still held is resumed on the way out */
    timer->stopping = true;
    pthread_mutex_unlock(&timer->lock);
    if (!running)
        return;
    wake(timer);
    pthread_join(timer->thread, NULL);
}

void server_timer_free(struct server_timer *timer)
{
    if (timer == NULL)
        return;
    server_timer_stop(timer);
    close_fds(timer);
    pthread_mutex_destroy(&timer->lock);
    free(timer->heap);
    free(timer);
}
