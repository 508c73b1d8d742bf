/* process.c - run a program under test and capture its output; see process.h. */
#include "process.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "lib/launch.h"
#include "proc_stat.h"

const char *test_bin(const char *name)
{
    static char paths[4][512];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, sizeof paths[0], "%s/%s", ASYNCLAB_BIN_DIR, name);
    return path;
}

/* Through the harness's launcher (harness/lib/launch.h), so that what a
 * test starts dies with the test, even one killed by SIGKILL, and a run
 * that outlives its bound is killed with everything it started. */
int test_run(const char *const argv[], double timeout_s, struct test_process_result *result)
{
    memset(result, 0, sizeof *result);
    result->exit_status = -1;
    struct launch_result run;
    int status = launch_run_bounded("test", (char *const *)argv, timeout_s, NULL, &run);
    if (status < 0 && run.wall_s == 0.0) {  /* it never ran */
        launch_result_free(&run);
        return -1;
    }
    result->timed_out = run.killed;
    result->exit_status = run.killed ? -1 : status;
    result->out = run.out;
    result->err = run.err;
    return 0;
}

struct concurrent_run {
    const char *const *argv;
    double timeout_s;
    struct test_process_result *result;
    int started;   /* test_run's return value */
};

static void *run_one(void *argument)
{
    struct concurrent_run *run = argument;
    run->started = test_run(run->argv, run->timeout_s, run->result);
    return NULL;
}

int test_run_all(const char *const *const argvs[], size_t count, double timeout_s,
                 struct test_process_result results[])
{
    struct concurrent_run *runs = calloc(count, sizeof *runs);
    pthread_t *threads = calloc(count, sizeof *threads);
    bool *running = calloc(count, sizeof *running);
    int failed = runs == NULL || threads == NULL || running == NULL ? -1 : 0;
    for (size_t i = 0; failed == 0 && i < count; i++) {
        memset(&results[i], 0, sizeof results[i]);
        runs[i] = (struct concurrent_run){ argvs[i], timeout_s, &results[i], -1 };
        running[i] = pthread_create(&threads[i], NULL, run_one, &runs[i]) == 0;
    }
    for (size_t i = 0; running != NULL && i < count; i++) {
        if (running[i])
            pthread_join(threads[i], NULL);
        if (!running[i] || runs[i].started != 0)
            failed = -1;
    }
    free(runs);
    free(threads);
    free(running);
    return failed;
}

int test_start_job(const char *const argv[], int *output_fd)
{
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = launch_start_job("test", (char *const *)argv, out[1], out[1]);
    close(out[1]);
    if (pid < 0) {
        close(out[0]);
        return -1;
    }
    *output_fd = out[0];
    return pid;
}

bool test_read_until(int fd, char *out, size_t size, const char *marker, double timeout_s)
{
    size_t length = strlen(out);
    double deadline = clock_now() + timeout_s;
    while (strstr(out, marker) == NULL && length < size - 1) {
        double left = deadline - clock_now();
        struct pollfd ready = { fd, POLLIN, 0 };
        if (left <= 0 || poll(&ready, 1, (int)(left * 1000) + 1) <= 0)
            return false;
        ssize_t got = read(fd, out + length, size - 1 - length);
        if (got <= 0)
            return false;
        length += (size_t)got;
        out[length] = '\0';
    }
    return strstr(out, marker) != NULL;
}

/* Processes of group pgid that are not zombies. */
static int running_in_group(int pgid)
{
    DIR *proc = opendir("/proc");
    int count = 0;
    struct dirent *entry;
    struct proc_stat stat;
    while (proc != NULL && (entry = readdir(proc)) != NULL)
        if (proc_stat_read(atoi(entry->d_name), 0, &stat) && stat.group == pgid
            && stat.state != 'Z')
            count++;
    if (proc != NULL)
        closedir(proc);
    return count;
}

/* True while pid is a process that has not ended (a zombie has). */
static bool still_running(int pid)
{
    struct proc_stat stat;
    return proc_stat_read(pid, 0, &stat) && stat.state != 'Z';
}

bool test_wait_pid_gone(int pid, double timeout_s)
{
    double deadline = clock_now() + timeout_s;
    while (still_running(pid) && clock_now() < deadline)
        nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
    return !still_running(pid);
}

int test_wait_group_gone(int pgid, double timeout_s)
{
    double deadline = clock_now() + timeout_s;
    int left;
    while ((left = running_in_group(pgid)) > 0 && clock_now() < deadline)
        nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
    return left;
}

void test_process_result_free(struct test_process_result *result)
{
    free(result->out);
    free(result->err);
    result->out = result->err = NULL;
}
