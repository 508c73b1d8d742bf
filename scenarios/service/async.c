/*
 * service/async.c - a gateway that fans out: one thread, one event loop,
 * serving libmicrohttpd's sockets and libcurl's together.
 *
 * Demonstrates: a server that waits without holding a thread.
 * GET /dashboard makes three upstream calls and merges their replies; a
 * POST /register's welcome email runs after its 202 has gone.  Here
 * libmicrohttpd runs no thread of its own: our loop runs it (MHD_run).
 * The handler hands its calls to one libcurl multi handle and suspends
 * its connection (MHD_suspend_connection): it returns at once, and the
 * thread goes on serving other clients.  When the third reply is in, the
 * loop resumes the connection and libmicrohttpd calls the handler again,
 * which merges the replies.  One dashboard takes the longest delay (3 s,
 * not 6), and K clients at once take about that too: async def +
 * asyncio.gather.  The email is one more transfer on the multi handle.
 * Compare with sync.c; docs/service.md explains both.
 *
 *     build/bin/service_async --port 0 --upstream http://127.0.0.1:8000 [--scale F]
 */
#include <sys/signalfd.h>
#include <unistd.h>

#include "clock.h"
#include "service.h"

static const struct lesson_program PROGRAM = {
    .name = "service_async",
    .purpose = "A gateway whose /dashboard makes its three calls at once, on one thread and one loop.",
    .concurrent = true,
};

/* The loop sleeps at most this long, whatever else it waits for. */
#define MAX_WAIT_MS 1000

struct loop {
    CURLM *multi;    /* every upstream transfer in flight */
    int mhd_fd;      /* libmicrohttpd's epoll descriptor: readable when it has work */
    int signal_fd;   /* readable once SIGINT or SIGTERM arrived */
};

/* Hands one transfer to the multi handle and returns at once: nothing waits. */
static bool start_call(struct loop *loop, CURL *easy, struct service_call *call)
{
    if (easy == NULL)
        return false;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, call);
    curl_multi_add_handle(loop->multi, easy);  /* queued, not sent yet */
    return true;
}

/* Starts the call; the loop finishes it (finish_call) when the reply is in. */
static void call_upstream(struct service_request *request, struct service_call *call)
{
    CURL *easy = service_call_begin(request->service, call);
    if (start_call(request->service->variant, easy, call))
        request->calls_pending++;
    else
        service_call_end(request, call, CURLE_OUT_OF_MEMORY);
}

static enum MHD_Result handle_request(void *cls, struct MHD_Connection *connection,
                                      const char *url, const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **req_cls)
{
    (void)version, (void)upload_data;
    struct service_request *request;
    enum MHD_Result result;
    if (!service_dashboard_wanted(cls, connection, url, method, upload_data_size, req_cls,
                                  &request, &result))
        return result;

    if (request->calls_started)  /* resumed: the three replies are in */
        return service_reply_dashboard(request);
    request->calls_started = true;
    for (int i = 0; i < SERVICE_UPSTREAM_COUNT; i++)  /* all three at once */
        call_upstream(request, &request->calls[i]);
    if (request->calls_pending == 0)  /* none could start: nothing to wait for */
        return service_reply_dashboard(request);
    /* libmicrohttpd leaves this connection alone until we resume it. */
    MHD_suspend_connection(connection);
    return MHD_YES;
}

/* Joins the same multi handle as everything else, after the 202; the loop
 * ends the task when it is sent. */
static void send_email(struct service_task *task)
{
    CURL *easy = service_task_begin(task);
    if (!start_call(task->service->variant, easy, &task->call))
        service_task_end(task, CURLE_OUT_OF_MEMORY);
}

/* One transfer is over: a dashboard whose last call it was is resumed. */
static void finish_call(struct service_call *call, CURLcode result)
{
    if (call->task != NULL) {
        service_task_end(call->task, result);
        return;
    }
    struct service_request *request = call->request;
    service_call_end(request, call, result);
    if (--request->calls_pending == 0)
        MHD_resume_connection(request->connection);
}

static void finish_transfers(CURLM *multi)
{
    CURLMsg *message;
    int queued = 0;
    while ((message = curl_multi_info_read(multi, &queued)) != NULL) {
        if (message->msg != CURLMSG_DONE)
            continue;
        CURL *easy = message->easy_handle;  /* message is gone after the remove */
        CURLcode result = message->data.result;
        struct service_call *call = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&call);
        curl_multi_remove_handle(multi, easy);
        finish_call(call, result);
    }
}

/* Sleeps until a client, an upstream or a signal needs us, or until
 * libmicrohttpd's own next timeout.  True if a stop signal arrived. */
static bool wait_for_events(struct loop *loop, struct MHD_Daemon *daemon)
{
    MHD_UNSIGNED_LONG_LONG mhd_timeout;
    int timeout_ms = MAX_WAIT_MS;
    if (MHD_get_timeout(daemon, &mhd_timeout) == MHD_YES && mhd_timeout < MAX_WAIT_MS)
        timeout_ms = (int)mhd_timeout;
    struct curl_waitfd extra[2] = {
        { loop->mhd_fd, CURL_WAIT_POLLIN, 0 },
        { loop->signal_fd, CURL_WAIT_POLLIN, 0 },
    };
    /* libcurl adds its own sockets and sleeps less if a transfer's timer is due. */
    http_multi_check(curl_multi_poll(loop->multi, extra, 2, timeout_ms, NULL), PROGRAM.name);
    if (!(extra[1].revents & CURL_WAIT_POLLIN))
        return false;
    struct signalfd_siginfo signal_info;
    return read(loop->signal_fd, &signal_info, sizeof signal_info) > 0;
}

/* Stop accepting, let what runs finish for up to the grace, then cut off
 * what is left (its transfers end as "dropped" on the next turn). */
static bool shutdown_step(struct service *service, bool stop_signal, double *deadline)
{
    if (stop_signal && !atomic_load(&service->stopping)) {
        service_stop_accepting(service);
        *deadline = clock_now() + service->grace;
    }
    if (!atomic_load(&service->stopping))
        return false;
    if (service_idle(service))
        return true;
    if (clock_now() > *deadline)
        atomic_store(&service->dropping, true);
    return false;
}

int main(int argc, char **argv)
{
    struct service service;
    int early_exit = service_setup(&service, &PROGRAM, argc, argv);
    if (early_exit >= 0)
        return early_exit;

    /* No thread of libmicrohttpd's own: our loop runs it, handlers and all. */
    sigset_t signals;
    service_stop_signals(&signals);
    struct loop loop = { .multi = curl_multi_init(), .mhd_fd = -1,  /* set once it runs */
                         .signal_fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK) };
    service.variant = &loop;
    if (loop.multi == NULL || loop.signal_fd < 0
        || !service_start(&service, MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME,
                          handle_request, send_email)) {
        if (loop.signal_fd >= 0)
            close(loop.signal_fd);
        curl_multi_cleanup(loop.multi);
        service_abandon(&service);
        return EXIT_SETUP;
    }
    loop.mhd_fd = MHD_get_daemon_info(service.daemon, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd;

    /* The event loop: one thread, every socket of both libraries. */
    double deadline = 0;
    for (;;) {
        bool stop_signal = wait_for_events(&loop, service.daemon);
        int running = 0;
        http_multi_check(curl_multi_perform(loop.multi, &running), PROGRAM.name);  /* upstream */
        finish_transfers(loop.multi);              /* merge, resume, end tasks */
        MHD_run(service.daemon);                   /* clients: accept, read, reply */
        if (shutdown_step(&service, stop_signal, &deadline))
            break;
    }

    MHD_stop_daemon(service.daemon);
    service.daemon = NULL;
    curl_multi_cleanup(loop.multi);
    close(loop.signal_fd);
    return service_finish(&service);
}
