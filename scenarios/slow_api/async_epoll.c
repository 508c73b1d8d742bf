/*
 * slow_api/async_epoll.c - the async program with an event loop that scales.
 *
 * Demonstrates: the same work as async.c, with the loop written the way
 * servers and large clients write it.  async.c asks libcurl to check every
 * transfer on each turn (curl_multi_perform) and to poll every socket
 * (curl_multi_poll): fine for three requests, but each turn costs time in
 * proportion to the number of transfers, so at 10 000 requests in flight
 * most of the CPU goes to looking at sockets that have nothing to say.
 *
 * Here the kernel keeps the list of sockets (epoll), libcurl tells us which
 * sockets to watch (CURLMOPT_SOCKETFUNCTION) and when it next needs the
 * clock (CURLMOPT_TIMERFUNCTION), and each turn handles only the sockets
 * that are ready (curl_multi_socket_action).  A turn costs time in
 * proportion to what happened, not to what is waiting.
 *
 * Read it beside async.c: start_request and finish_request are the same;
 * only the loop differs.  docs/scale.md measures the difference.
 *
 *     build/bin/slow_api_async_epoll [--delays 10,2,5] [--requests N]
 *                                    [--concurrency N] [--scale F]
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"
#include "http.h"
#include "output.h"
#include "slow_api.h"

static const struct lesson_program PROGRAM = {
    .name = "slow_api_async_epoll",
    .purpose = "Calls a slow API with the libcurl multi interface driven by epoll: all at once, one thread.",
    .concurrent = true,
    .fds_per_request = 1,  /* its socket */
};

/* How many ready sockets one epoll_wait may report. */
#define READY_BATCH 256

/* The loop's state, as libcurl's callbacks update it. */
struct loop {
    int epoll_fd;
    double timer_due;  /* clock_now() when libcurl wants its timeout; < 0: none */
};

/* libcurl: "watch this socket for these events" (or stop watching it). */
static int watch_socket(CURL *easy, curl_socket_t fd, int what, void *loop_pointer,
                        void *socket_pointer)
{
    (void)easy;
    (void)socket_pointer;
    struct loop *loop = loop_pointer;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    struct epoll_event event = {
        .events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u),
        .data.fd = fd,
    };
    /* A socket is added once and modified afterwards; trying ADD first and
     * falling back to MOD saves keeping our own table of sockets. */
    if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0 && errno == EEXIST)
        epoll_ctl(loop->epoll_fd, EPOLL_CTL_MOD, fd, &event);
    return 0;
}

/* libcurl: "call me back in timeout_ms" (-1: no timeout needed). */
static int set_timer(CURLM *multi, long timeout_ms, void *loop_pointer)
{
    (void)multi;
    struct loop *loop = loop_pointer;
    loop->timer_due = timeout_ms < 0 ? -1.0 : clock_now() + (double)timeout_ms / 1000.0;
    return 0;
}

/* How long epoll_wait may sleep: until libcurl's timer, at most 1 s. */
static int wait_ms(const struct loop *loop)
{
    if (loop->timer_due < 0)
        return 1000;
    double left = loop->timer_due - clock_now();
    if (left <= 0)
        return 0;
    return left > 1.0 ? 1000 : (int)(left * 1000.0) + 1;
}

/* Tells libcurl what epoll saw on each ready socket. */
static void handle_ready_sockets(CURLM *multi, const struct epoll_event *ready, int count)
{
    for (int i = 0; i < count; i++) {
        int flags = 0;
        if (ready[i].events & EPOLLIN)
            flags |= CURL_CSELECT_IN;
        if (ready[i].events & EPOLLOUT)
            flags |= CURL_CSELECT_OUT;
        if (ready[i].events & (EPOLLERR | EPOLLHUP))
            flags |= CURL_CSELECT_ERR;
        int running;
        http_multi_check(curl_multi_socket_action(multi, ready[i].data.fd, flags, &running),
                         PROGRAM.name);
    }
}

static void handle_timer_if_due(CURLM *multi, struct loop *loop)
{
    if (loop->timer_due >= 0 && clock_now() >= loop->timer_due) {
        loop->timer_due = -1.0;
        int running;
        http_multi_check(curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running),
                         PROGRAM.name);
    }
}

/* With every request in flight at once no connection is ever idle, so
 * nothing can be reused; yet libcurl 7.88 still searches its connection
 * cache for each new transfer, and that search grows with the number of
 * open connections.  Skipping it (fresh connection, closed after use) cut
 * the client's CPU per request by more than half at 10 000 requests
 * (docs/scale.md).  With a --concurrency limit, reuse pays and stays on. */
static void skip_connection_reuse(struct slow_api_slot *slots, long count)
{
    for (long i = 0; i < count; i++) {
        curl_easy_setopt(slots[i].easy, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(slots[i].easy, CURLOPT_FORBID_REUSE, 1L);
    }
}

/* libcurl gives every easy handle its own cache of TLS sessions (840
 * bytes in 7.88), even for plain http://, when the handle first starts a
 * transfer.  One share handle holding a single cache for all of them saves
 * that per request at 10 000 in flight (docs/event_loops.md).  A share
 * used by one thread needs no lock callbacks.  NULL: no sharing. */
static CURLSH *share_tls_sessions(struct slow_api_slot *slots, long count)
{
    CURLSH *share = curl_share_init();
    if (share != NULL && curl_share_setopt(share, CURLSHOPT_SHARE,
                                           CURL_LOCK_DATA_SSL_SESSION) == CURLSHE_OK)
        for (long i = 0; i < count; i++)
            curl_easy_setopt(slots[i].easy, CURLOPT_SHARE, share);
    return share;
}

/* Hands a request to the multi handle and returns at once: nothing waits. */
static void start_request(struct slow_api *run, CURLM *multi, struct slow_api_slot *slot,
                          struct delay_request *request)
{
    http_body_reset(&slot->body);
    slot->request = request;
    curl_easy_setopt(slot->easy, CURLOPT_URL, request->url);
    curl_easy_setopt(slot->easy, CURLOPT_PRIVATE, slot);
    slow_api_request_started(run, request);

    curl_multi_add_handle(multi, slot->easy);  /* queued, not sent yet */
}

/* Reports one finished transfer and takes it off the multi handle. */
static struct slow_api_slot *finish_request(struct slow_api *run, CURLM *multi, CURLMsg *message)
{
    struct slow_api_slot *slot = NULL;
    curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&slot);
    slow_api_request_finished(run, slot->request, message->data.result,
                              http_status(slot->easy), &slot->body);
    curl_multi_remove_handle(multi, slot->easy);
    return slot;
}

int main(int argc, char **argv)
{
    struct slow_api run;
    int early_exit = slow_api_setup(&run, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    struct loop loop = { epoll_create1(EPOLL_CLOEXEC), -1.0 };
    CURLM *multi = curl_multi_init();
    struct slow_api_slot *slots = slow_api_slots_new(run.concurrency);
    if (loop.epoll_fd < 0 || multi == NULL || slots == NULL) {
        output_error(PROGRAM.name, "cannot set up the event loop (out of memory or fds)");
        slow_api_slots_free(slots, run.concurrency);
        curl_multi_cleanup(multi);
        if (loop.epoll_fd >= 0)
            close(loop.epoll_fd);
        slow_api_abandon(&run);
        return EXIT_SETUP;
    }
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, watch_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, &loop);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, set_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, &loop);
    if (run.concurrency >= run.request_count)
        skip_connection_reuse(slots, run.concurrency);
    CURLSH *share = share_tls_sessions(slots, run.concurrency);

    long next = 0;       /* the next request to start */
    long in_flight = 0;  /* requests handed to libcurl and not finished */
    while (next < run.request_count && in_flight < run.concurrency)
        start_request(&run, multi, &slots[in_flight++], &run.requests[next++]);

    /* The event loop: sleep until a socket is ready or libcurl's timer is
     * due, then give libcurl exactly those events. */
    struct epoll_event ready[READY_BATCH];
    while (in_flight > 0) {
        int count = epoll_wait(loop.epoll_fd, ready, READY_BATCH, wait_ms(&loop));
        if (count > 0)
            handle_ready_sockets(multi, ready, count);
        handle_timer_if_due(multi, &loop);

        CURLMsg *message;
        int queued = 0;
        while ((message = curl_multi_info_read(multi, &queued)) != NULL) {
            if (message->msg != CURLMSG_DONE)
                continue;
            struct slow_api_slot *freed = finish_request(&run, multi, message);
            in_flight--;
            if (next < run.request_count) {
                start_request(&run, multi, freed, &run.requests[next++]);
                in_flight++;
            }
        }
    }

    slow_api_slots_free(slots, run.concurrency);
    curl_share_cleanup(share);  /* after the handles that used it */
    curl_multi_cleanup(multi);
    close(loop.epoll_fd);
    return slow_api_finish(&run);
}
