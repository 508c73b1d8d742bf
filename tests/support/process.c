/* process.c - run a program under test and capture its output; see process.h. */
#include "process.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

const char *test_bin(const char *name)
{
    static char paths[4][512];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, sizeof paths[0], "%s/%s", ASYNCLAB_BIN_DIR, name);
    return path;
}

double test_now_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

struct capture {
    int fd;
    char *data;
    size_t length;
};

/* Reads what is available; returns false at end of file. */
static bool drain(struct capture *capture)
{
    char chunk[4096];
    ssize_t got = read(capture->fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR)
        return true;
    if (got <= 0)
        return false;
    char *grown = realloc(capture->data, capture->length + (size_t)got + 1);
    if (grown == NULL)
        return false;
    memcpy(grown + capture->length, chunk, (size_t)got);
    capture->data = grown;
    capture->length += (size_t)got;
    capture->data[capture->length] = '\0';
    return true;
}

/* Reads both pipes until both close or the deadline passes. */
static bool capture_until_closed(struct capture *out, struct capture *err, double deadline)
{
    bool out_open = true, err_open = true;
    while (out_open || err_open) {
        double left = deadline - test_now_seconds();
        if (left <= 0)
            return false;
        struct pollfd fds[2] = { { out_open ? out->fd : -1, POLLIN, 0 },
                                 { err_open ? err->fd : -1, POLLIN, 0 } };
        int ready = poll(fds, 2, (int)(left * 1000) + 1);
        if (ready < 0 && errno != EINTR)
            return false;
        if (out_open && fds[0].revents)
            out_open = drain(out);
        if (err_open && fds[1].revents)
            err_open = drain(err);
    }
    return true;
}

static char *take_text(struct capture *capture)
{
    if (capture->data == NULL)
        return strdup("");
    return capture->data;
}

int test_run(const char *const argv[], double timeout_s, struct test_process_result *result)
{
    memset(result, 0, sizeof *result);
    result->exit_status = -1;
    int out_pipe[2], err_pipe[2];
    if (pipe(out_pipe) != 0)
        return -1;
    if (pipe(err_pipe) != 0) {
        close(out_pipe[0]);
        close(out_pipe[1]);
        return -1;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
    posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
    /* The write ends too, once copied: a daemon the program leaves behind
     * (PostgreSQL's server) would otherwise hold them open, and the
     * capture below would wait for it. */
    posix_spawn_file_actions_addclose(&actions, out_pipe[1]);
    posix_spawn_file_actions_addclose(&actions, err_pipe[1]);
    pid_t pid;
    int spawned = posix_spawn(&pid, argv[0], &actions, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (spawned != 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        fprintf(stderr, "cannot start %s: %s\n", argv[0], strerror(spawned));
        return -1;
    }

    struct capture out = { out_pipe[0], NULL, 0 }, err = { err_pipe[0], NULL, 0 };
    if (!capture_until_closed(&out, &err, test_now_seconds() + timeout_s)) {
        result->timed_out = true;
        kill(pid, SIGKILL);
    }
    close(out_pipe[0]);
    close(err_pipe[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!result->timed_out && WIFEXITED(status))
        result->exit_status = WEXITSTATUS(status);
    result->out = take_text(&out);
    result->err = take_text(&err);
    return 0;
}

void test_process_result_free(struct test_process_result *result)
{
    free(result->out);
    free(result->err);
    result->out = result->err = NULL;
}
