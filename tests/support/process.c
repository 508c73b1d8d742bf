/* process.c - run a program under test and capture its output; see process.h. */
#include "process.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "clock.h"

extern char **environ;

const char *test_bin(const char *name)
{
    static char paths[4][512];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, sizeof paths[0], "%s/%s", ASYNCLAB_BIN_DIR, name);
    return path;
}

int test_run(const char *const argv[], double timeout_s, struct test_process_result *result)
{
    memset(result, 0, sizeof *result);
    result->exit_status = -1;
    struct capture out, err;
    posix_spawn_file_actions_t actions;
    if (!capture_pipes(&out, &err))
        return -1;
    capture_spawn_actions(&out, &err, &actions);
    pid_t pid;
    int spawned = posix_spawn(&pid, argv[0], &actions, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    capture_close_write_ends(&out, &err);
    if (spawned != 0) {
        capture_until_closed(&out, &err, 0);  /* only closes the pipes */
        fprintf(stderr, "cannot start %s: %s\n", argv[0], strerror(spawned));
        return -1;
    }
    if (!capture_until_closed(&out, &err, clock_now() + timeout_s)) {
        result->timed_out = true;
        kill(pid, SIGKILL);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!result->timed_out && WIFEXITED(status))
        result->exit_status = WEXITSTATUS(status);
    result->out = capture_text(&out);
    result->err = capture_text(&err);
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
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
    /* Its own process group: a Ctrl+C sent to the group reaches every
     * process in it, and what is left of it can be counted. */
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);
    pid_t pid;
    int spawned = posix_spawn(&pid, argv[0], &actions, &attributes, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    close(out[1]);
    if (spawned != 0) {
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

/* Processes of group pgid that are not zombies, from /proc/PID/stat. */
static int running_in_group(int pgid)
{
    DIR *proc = opendir("/proc");
    int count = 0;
    struct dirent *entry;
    while (proc != NULL && (entry = readdir(proc)) != NULL) {
        char path[300], line[1024];
        snprintf(path, sizeof path, "/proc/%s/stat", entry->d_name);
        FILE *file = entry->d_name[0] >= '1' && entry->d_name[0] <= '9' ? fopen(path, "r") : NULL;
        if (file == NULL)
            continue;
        size_t got = fread(line, 1, sizeof line - 1, file);
        fclose(file);
        line[got] = '\0';
        /* "PID (NAME) STATE PPID PGRP ...": NAME may hold spaces, so start
         * after its last ')'. */
        const char *after = strrchr(line, ')');
        char state;
        int ppid, group;
        if (after != NULL && sscanf(after + 1, " %c %d %d", &state, &ppid, &group) == 3
            && group == pgid && state != 'Z')
            count++;
    }
    if (proc != NULL)
        closedir(proc);
    return count;
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
