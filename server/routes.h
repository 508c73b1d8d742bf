/*
 * routes.h - slowserver's request handling: the libmicrohttpd callbacks and
 * the state they share.
 *
 * main.c owns the daemon and the command line; everything a request does,
 * from its first byte to its completion, happens behind these callbacks.
 */
#ifndef SLOWSERVER_ROUTES_H
#define SLOWSERVER_ROUTES_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "delay_timer.h"
#include "live.h"
#include "stats.h"

/* How requests wait (see docs/slowserver.md for the lesson behind each). */
enum server_mode {
    SERVER_MODE_ASYNC,      /* suspended, resumed by the timer: no thread held */
    SERVER_MODE_THREADS,    /* one thread per connection, sleeping */
    SERVER_MODE_BLOCKING,   /* one thread for everything, sleeping */
};

/* What every callback needs; one per server, passed as the callbacks' cls. */
struct server_app {
    enum server_mode mode;
    double max_delay;
    bool quiet;                      /* no line per finished request */
    unsigned int idle_timeout_s;     /* --idle-timeout (0: none); main sets it */

    struct server_stats *stats;
    struct server_live *live_view;   /* NULL with --no-live */
    struct server_timer *timer;      /* async mode only */
    int shutdown_fd;                 /* eventfd, readable once shutdown began */
    atomic_bool shutting_down;

    /* Every request context alive, observers included, so that shutdown
     * can wait for them; guarded by lock, idle signalled when it hits 0. */
    pthread_mutex_t lock;
    pthread_cond_t idle;
    long live;
};

/* Sets up app (stats, shutdown eventfd, and the timer in async mode).
 * Returns 0, or -1 with errno set. */
int server_app_init(struct server_app *app, enum server_mode mode, double max_delay, bool quiet);

/* Begins shutdown: every waiting request ends with a 503, or a close where
 * nothing can be answered any more, and no new wait begins. */
void server_app_begin_shutdown(struct server_app *app);

/* Waits up to timeout_s for every request to complete; true if they did. */
bool server_app_wait_idle(struct server_app *app, double timeout_s);

/* Stops the async-mode timer thread (resuming whatever it still holds):
 * call it before MHD_stop_daemon, so that no thread outside libmicrohttpd
 * touches a connection while the daemon tears them down. */
void server_app_stop_timer(struct server_app *app);

/* Frees what server_app_init made; the daemon must be stopped already. */
void server_app_destroy(struct server_app *app);

/* MHD_AccessHandlerCallback: cls is the struct server_app. */
enum MHD_Result server_handle_request(void *cls, struct MHD_Connection *connection,
                                      const char *url, const char *method,
                                      const char *version, const char *upload_data,
                                      size_t *upload_data_size, void **req_cls);

/* MHD_OPTION_UNESCAPE_CALLBACK: libmicrohttpd's own decoder turns "%00"
 * into a NUL that cuts a value or a path short; server_unescape (params.h)
 * keeps it encoded. */
size_t server_unescape_callback(void *cls, struct MHD_Connection *connection, char *text);

/* MHD_RequestCompletedCallback (MHD_OPTION_NOTIFY_COMPLETED). */
void server_request_completed(void *cls, struct MHD_Connection *connection,
                              void **req_cls, enum MHD_RequestTerminationCode why);

#endif
