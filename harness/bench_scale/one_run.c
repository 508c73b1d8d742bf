/*
 * one_run.c - one run of bench_scale: a fresh slowserver, the client with
 * K requests at once, and what that cost each side: CPU (the processes'
 * own clocks), peak memory and threads (/proc, sampled while it runs), and
 * the listen queue's overflows (/proc/net/netstat).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "launch.h"
#include "machine.h"
#include "scale.h"
#include "servers.h"

#define SAMPLE_INTERVAL_S 0.02

/* User + system CPU seconds a live process has used, or NAN.  The
 * process's CPU-time clock counts in nanoseconds and includes threads that
 * have already exited; /proc/PID/stat counts in 10 ms ticks, too coarse for
 * a few requests. */
static double proc_cpu_seconds(pid_t pid)
{
    clockid_t clock;
    struct timespec used;
    if (clock_getcpuclockid(pid, &clock) != 0 || clock_gettime(clock, &used) != 0)
        return NAN;
    return (double)used.tv_sec + (double)used.tv_nsec / 1e9;
}

/* The kernel's TcpExt ListenOverflows counter (SYNs dropped because a
 * listen queue was full), or -1. */
static long listen_overflows(void)
{
    FILE *file = fopen("/proc/net/netstat", "r");
    if (file == NULL)
        return -1;
    char names[4096], values[4096];
    long result = -1;
    while (fgets(names, sizeof names, file) != NULL && fgets(values, sizeof values, file) != NULL) {
        if (strncmp(names, "TcpExt:", 7) != 0)
            continue;
        char *name_save = NULL, *value_save = NULL;
        char *name = strtok_r(names, " \n", &name_save);
        char *value = strtok_r(values, " \n", &value_save);
        while (name != NULL && value != NULL) {
            if (strcmp(name, "ListenOverflows") == 0) {
                result = strtol(value, NULL, 10);
                break;
            }
            name = strtok_r(NULL, " \n", &name_save);
            value = strtok_r(NULL, " \n", &value_save);
        }
        break;
    }
    fclose(file);
    return result;
}

/* ------------------------------------------------------------ one run */

static void sleep_seconds(double seconds)
{
    struct timespec pause = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };
    nanosleep(&pause, NULL);
}

static void keep_max(long *max, long value)
{
    if (value > *max)
        *max = value;
}

/* The first line of a file, for the failure reason. */
static void first_line(FILE *file, char *line, size_t size)
{
    line[0] = '\0';
    rewind(file);
    if (fgets(line, (int)size, file) != NULL)
        line[strcspn(line, "\n")] = '\0';
}

/* The client's own measure of its run: "Time elapsed: X s". */
static double read_elapsed(FILE *file)
{
    char line[256];
    double elapsed = NAN;
    rewind(file);
    while (fgets(line, sizeof line, file) != NULL)
        sscanf(line, "Time elapsed: %lf s", &elapsed);
    return elapsed;
}

/* Waits for the client, sampling both processes' thread counts while it
 * runs and killing it at the deadline; its status and usage in *m. */
static void wait_sampling(pid_t pid, pid_t server_pid, double timeout, struct measurement *m)
{
    double deadline = clock_now() + timeout;
    struct rusage usage;
    int status = 0;
    for (;;) {
        pid_t done = wait4(pid, &status, WNOHANG, &usage);
        if (done == pid)
            break;
        if (done < 0 && errno != EINTR)
            break;
        keep_max(&m->client_max_threads, machine_proc_status(pid, "Threads"));
        keep_max(&m->server_max_threads, machine_proc_status(server_pid, "Threads"));
        if (!m->timed_out && clock_now() > deadline) {
            m->timed_out = true;
            kill(pid, SIGKILL);
        }
        sleep_seconds(SAMPLE_INTERVAL_S);
    }
    m->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    m->client_cpu = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6
                    + (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
    m->client_peak_rss_kb = usage.ru_maxrss;  /* Linux reports kilobytes */
}

/* Why the run failed, from how it ended and what it printed first. */
static void describe_failure(FILE *out, FILE *err, double timeout, struct measurement *m)
{
    if (m->timed_out)
        snprintf(m->failure, sizeof m->failure, "did not finish within %.0f s", timeout);
    else if (m->exit_status != 0) {
        char line[200];
        first_line(err, line, sizeof line);
        if (line[0] == '\0')  /* --quiet still prints "Failed: N of K requests" */
            first_line(out, line, sizeof line);
        snprintf(m->failure, sizeof m->failure, "exit %d: %s", m->exit_status,
                 line[0] ? line : "(no message)");
    }
}

/* Runs the client to the end (or the timeout), sampling both processes'
 * thread counts while it runs; fills in the client's side of *m. */
static void run_client(char *const argv[], pid_t server_pid, double timeout, struct measurement *m)
{
    FILE *out = tmpfile(), *err = tmpfile();
    if (out == NULL || err == NULL) {
        snprintf(m->failure, sizeof m->failure, "cannot create temporary files");
        if (out) fclose(out);
        if (err) fclose(err);
        return;
    }
    pid_t pid = launch_start_redirected(SCALE_PROGRAM, argv, fileno(out), fileno(err));
    if (pid < 0) {
        snprintf(m->failure, sizeof m->failure, "cannot start %s", argv[0]);
        fclose(out);
        fclose(err);
        return;
    }
    wait_sampling(pid, server_pid, timeout, m);
    m->elapsed = read_elapsed(out);
    describe_failure(out, err, timeout, m);
    fclose(out);
    fclose(err);
}

/* One run: a fresh server (so its peak memory and CPU belong to this run
 * alone), K requests of `delay` seconds at once, the server stopped again. */
bool measure(const char *bin_dir, const struct pairing *pairing, long k, double delay,
             long concurrency, double timeout, struct measurement *m)
{
    memset(m, 0, sizeof *m);
    m->elapsed = m->client_cpu = m->server_cpu = NAN;
    struct server_pool pool;
    server_pool_init(&pool, SCALE_PROGRAM, bin_dir);
    const char *url = server_pool_url(&pool, pairing->server_mode, true);
    if (url == NULL) {
        snprintf(m->failure, sizeof m->failure, "slowserver --mode %s did not start",
                 pairing->server_mode);
        server_pool_stop(&pool);
        return false;
    }
    pid_t server_pid = 0;
    for (size_t i = 0; i < sizeof pool.servers / sizeof pool.servers[0]; i++)
        if (strcmp(pool.servers[i].mode, pairing->server_mode) == 0)
            server_pid = pool.servers[i].pid;

    char path[PATH_MAX], requests[32], delays[32], limit[32];
    snprintf(path, sizeof path, "%s/%s", bin_dir, pairing->client);
    snprintf(requests, sizeof requests, "%ld", k);
    snprintf(delays, sizeof delays, "%g", delay);
    snprintf(limit, sizeof limit, "%ld", concurrency);
    char *const argv[] = { path, "--url", (char *)url, "--delays", delays, "--requests", requests,
                           "--concurrency", limit, "--quiet", NULL };

    long overflows_before = listen_overflows();
    double server_cpu_before = proc_cpu_seconds(server_pid);
    run_client(argv, server_pid, timeout, m);
    m->server_cpu = proc_cpu_seconds(server_pid) - server_cpu_before;
    m->server_peak_rss_kb = machine_proc_status(server_pid, "VmHWM");
    m->listen_overflows = listen_overflows() - overflows_before;
    server_pool_stop(&pool);
    return m->failure[0] == '\0';
}
