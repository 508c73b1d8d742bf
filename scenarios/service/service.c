/*
 * service.c - the service lesson's set-up and shutdown, shared by its three
 * gateways; see service.h.  The HTTP front end is in service_http.c, the
 * upstream calls, their merge and the background task in
 * service_upstream.c.  Nothing in these files waits for an upstream call,
 * a dashboard's or a welcome email's: how they wait is what sync.c,
 * async.c and sync_threads.c are about.
 */
#include "service.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fdlimit.h"
#include "output.h"
#include "predict.h"
#include "seed.h"
#include "service_parts.h"

/* The lesson's dashboard: three upstream calls of 2, 3 and 1 s. */
static const double LESSON_DELAYS[SERVICE_UPSTREAM_COUNT] = { 2.0, 3.0, 1.0 };
/* The welcome email takes 1 s at scale 1. */
#define LESSON_EMAIL_DELAY 1.0
#define MAX_DELAY_S 3600.0
/* A safety net, not part of the lesson: no upstream call may hang a
 * dashboard for longer, whatever the scale (--timeout overrides). */
#define DEFAULT_TIMEOUT_S 10.0
#define DEFAULT_GRACE_S 10.0
#define DEFAULT_PORT 8080

static struct cli_long_target port_target, clients_target;
static long predict_clients;
static struct cli_list_target delays_target;
static struct cli_double_target timeout_target, grace_target, email_target;
static char upstream_option[CLI_URL_MAX];
static size_t delay_count;

/* ------------------------------------------------------------ set-up */

static bool apply_upstream(const char *value, void *target)
{
    size_t length = strlen(value);
    if (strncmp(value, "http://", 7) != 0 || length <= 7 || length >= CLI_URL_MAX)
        return false;
    memcpy(target, value, length + 1);
    return true;
}

static enum cli_result parse_command_line(struct service *service,
                                          const struct lesson_program *program,
                                          int argc, char **argv)
{
    port_target = (struct cli_long_target){ &service->port, 0, 65535 };
    clients_target = (struct cli_long_target){ &predict_clients, 1, 1000000 };
    delays_target = (struct cli_list_target){ service->delays, SERVICE_UPSTREAM_COUNT,
                                              &delay_count, 0.0, MAX_DELAY_S };
    timeout_target = (struct cli_double_target){ &service->timeout, 0.001, MAX_DELAY_S };
    grace_target = (struct cli_double_target){ &service->grace, 0.0, MAX_DELAY_S };
    email_target = (struct cli_double_target){ &service->email_delay, 0.0, MAX_DELAY_S };
    const struct cli_option options[] = {
        { "port", "N", "port to listen on, on 127.0.0.1 (default 8080; 0 picks a free one)",
          "a whole number from 0 to 65535", cli_apply_long, &port_target },
        { "upstream", "URL", "the upstream slowserver (the same as --url)",
          "an http:// URL", apply_upstream, upstream_option },
        { "delays", "LIST", "the three upstream delays in seconds (default 2,3,1)",
          "three comma-separated seconds between 0 and 3600", cli_apply_double_list,
          &delays_target },
        { "timeout", "S", "give up on one upstream call after S seconds (default 10)",
          "seconds, more than 0, at most 3600", cli_apply_double, &timeout_target },
        { "email-delay", "S", "the background task's upstream delay (default 1)",
          "seconds between 0 and 3600", cli_apply_double, &email_target },
        { "grace", "S", "at shutdown, wait at most S seconds for running work (default 10)",
          "seconds between 0 and 3600", cli_apply_double, &grace_target },
        { "clients", "K", "with --predict: the wait of the last of K clients at once (default 1)",
          "a whole number from 1 to 1000000", cli_apply_long, &clients_target },
    };
    char example[160];
    snprintf(example, sizeof example, "build/bin/%s --port 0 --upstream http://127.0.0.1:8000 "
             "--scale 0.1", program->name);
    const struct cli_program description = {
        .name = program->name,
        .purpose = program->purpose,
        .example = example,
        .options = options,
        .option_count = sizeof options / sizeof options[0],
    };
    return cli_parse(&description, argc, argv, &service->common);
}

/* Copies --upstream over --url; either way no trailing slash. */
static void settle_upstream(struct service *service)
{
    if (upstream_option[0] != '\0')
        snprintf(service->common.url, sizeof service->common.url, "%s", upstream_option);
    size_t length = strlen(service->common.url);
    while (length > 7 && service->common.url[length - 1] == '/')
        service->common.url[--length] = '\0';
}

/* The lesson's model: a dashboard alone takes the sum of its calls when
 * they run in turn and the longest when they overlap.  K clients at once:
 * one thread serving them in turn makes the last wait K dashboards; a
 * concurrent gateway serves them all at once (as long as the cores keep up). */
static void print_prediction(const struct service *service)
{
    bool concurrent = service->program->concurrent;
    double one = predict_makespan(service->delays, SERVICE_UPSTREAM_COUNT, concurrent ? 0 : 1);
    double predicted = concurrent ? one : one * (double)predict_clients;
    if (predict_clients == 1)
        output_summary("Predicted time: %.3f s (one dashboard: %s)", predicted,
                       concurrent ? "its three calls at once, the longest decides"
                                  : "its three calls in turn, the sum");
    else
        output_summary("Predicted time: %.3f s (the last of %ld clients at once: %s)",
                       predicted, predict_clients,
                       concurrent ? "all served together, the longest call decides"
                                  : "served one after another, each the sum of its calls");
}

static void set_defaults(struct service *service, const struct lesson_program *program)
{
    memset(service, 0, sizeof *service);
    service->program = program;
    service->port = DEFAULT_PORT;
    memcpy(service->delays, LESSON_DELAYS, sizeof LESSON_DELAYS);
    service->email_delay = LESSON_EMAIL_DELAY;
    service->timeout = DEFAULT_TIMEOUT_S;
    service->grace = DEFAULT_GRACE_S;
    upstream_option[0] = '\0';
    predict_clients = 1;
    delay_count = 0;  /* --delays not given: fill_delays */
}

/* The upstream delays when --delays was not given: the lesson's, or after
 * --seed N three delays of 0.5 to 4 s and an email of 0.5 to 2 s drawn
 * from N (the same N, the same work). */
static void fill_delays(struct service *service)
{
    if (delay_count != 0)
        return;
    delay_count = SERVICE_UPSTREAM_COUNT;
    if (!service->common.seeded)
        return;
    struct seed draw = seed_start(service->common.seed);
    for (size_t i = 0; i < SERVICE_UPSTREAM_COUNT; i++)
        service->delays[i] = seed_step(&draw, 0.5, 4.0, 0.5);
    service->email_delay = seed_step(&draw, 0.5, 2.0, 0.5);
}

void service_stop_signals(sigset_t *signals)
{
    sigemptyset(signals);
    sigaddset(signals, SIGINT);
    sigaddset(signals, SIGTERM);
}

/* Signals are taken by the program's own waiting (sigwait, or a signalfd in
 * the event loop), so they are blocked before any thread exists. */
static void block_stop_signals(void)
{
    sigset_t signals;
    service_stop_signals(&signals);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
}

/* The condition variable waits on the monotonic clock, like every time here. */
static void init_shared_state(struct service *service)
{
    pthread_mutex_init(&service->lock, NULL);
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&service->changed, &attributes);
    pthread_condattr_destroy(&attributes);
}

int service_setup(struct service *service, const struct lesson_program *program,
                  int argc, char **argv)
{
    set_defaults(service, program);
    switch (parse_command_line(service, program, argc, argv)) {
    case CLI_EXIT_OK: return EXIT_ALL_DONE;
    case CLI_EXIT_USAGE: return EXIT_USAGE;
    case CLI_RUN: break;
    }
    fill_delays(service);
    if (delay_count != SERVICE_UPSTREAM_COUNT) {
        output_error(program->name, "--delays needs exactly %d values (profile, orders, "
                     "recommendations)", SERVICE_UPSTREAM_COUNT);
        return EXIT_USAGE;
    }
    settle_upstream(service);
    for (size_t i = 0; i < SERVICE_UPSTREAM_COUNT; i++)
        service->delays[i] *= service->common.scale;
    service->email_delay *= service->common.scale;
    output_init(service->common.quiet);
    if (service->common.predict) {
        print_prediction(service);
        return EXIT_ALL_DONE;
    }
    if (service->common.trace_path != NULL
        && !trace_path_writable(service->common.trace_path, program->name))
        return EXIT_SETUP;
    /* A dying client must not kill the gateway (SIGPIPE), and the load
     * driver reads our first line through a pipe. */
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    block_stop_signals();
    fdlimit_raise();
    if (!http_global_init(program->name))
        return EXIT_SETUP;
    if (!http_server_reachable(program->name, service->common.url)) {
        http_global_cleanup();
        return EXIT_SETUP;
    }
    /* --stall-timeout and --max-time bound every upstream call as in the
     * other lessons; --timeout, the lesson's own limit, is set per call. */
    double longest = service->email_delay;
    for (size_t i = 0; i < SERVICE_UPSTREAM_COUNT; i++)
        longest = service->delays[i] > longest ? service->delays[i] : longest;
    http_set_bounds(http_bounds_for(&service->common, longest));
    service->started = clock_now();
    service->trace = service->common.trace_path ? trace_new(service->started) : NULL;
    init_shared_state(service);
    return -1;
}

/* ------------------------------------------------------------ shutdown */

bool service_idle(struct service *service)
{
    service_lock(service);
    bool idle = service->fetching == 0 && service->tasks_running == 0;
    service_unlock(service);
    return idle;
}

/* Stop accepting: the listening socket closes, queued clients are refused. */
void service_stop_accepting(struct service *service)
{
    MHD_socket listen_fd = MHD_quiesce_daemon(service->daemon);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    atomic_store(&service->stopping, true);
    if (!service->common.quiet) {
        service_lock(service);
        printf("shutting down: %ld dashboard%s and %ld background task%s running\n",
               service->fetching, service->fetching == 1 ? "" : "s",
               service->tasks_running, service->tasks_running == 1 ? "" : "s");
        service_unlock(service);
    }
}

static void wait_until_idle(struct service *service, double seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)seconds;
    deadline.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    service_lock(service);
    while (service->fetching > 0 || service->tasks_running > 0)
        if (pthread_cond_timedwait(&service->changed, &service->lock, &deadline) == ETIMEDOUT)
            break;
    service_unlock(service);
}

void service_serve_until_stopped(struct service *service)
{
    sigset_t signals;
    service_stop_signals(&signals);
    int received;
    while (sigwait(&signals, &received) != 0)
        ;
    service_stop_accepting(service);
    wait_until_idle(service, service->grace);
    /* What still runs is cut off: each transfer's progress callback sees
     * this within about a second, and the handlers return. */
    atomic_store(&service->dropping, true);
    MHD_stop_daemon(service->daemon);
    service->daemon = NULL;
}

void service_abandon(struct service *service)
{
    trace_free(service->trace);
    pthread_cond_destroy(&service->changed);
    pthread_mutex_destroy(&service->lock);
    http_global_cleanup();
}

int service_finish(struct service *service)
{
    output_summary("%s stopped: %ld dashboards (%ld partial, %ld with a timeout, %ld failed), "
                   "%ld bad requests; background tasks: %ld done, %ld failed, %ld dropped",
                   service->program->name, service->dashboards, service->partial,
                   service->timed_out, service->unanswered, service->bad_requests,
                   service->tasks_done, service->tasks_failed, service->tasks_dropped);
    int status = service->tasks_dropped + service->tasks_failed > 0 ? EXIT_TASKS_FAILED
                                                                     : EXIT_ALL_DONE;
    status = trace_save(service->trace, service->common.trace_path, service->program->name,
                        status);
    service_abandon(service);  /* the same release, now that all is said */
    return status;
}
