/* launch.c - start programs without a shell and collect their output; see launch.h. */
#include "launch.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

bool launch_find_bin_dir(char *dir, size_t size)
{
    ssize_t length = readlink("/proc/self/exe", dir, size - 1);
    if (length <= 0)
        return false;
    dir[length] = '\0';
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        return false;
    *slash = '\0';
    return true;
}

static pid_t start_with_actions(const char *program, char *const argv[],
                                posix_spawn_file_actions_t *actions)
{
    pid_t pid;
    /* posix_spawnp looks a bare name ("hyperfine") up in PATH and runs a
     * path as it is. */
    int spawned = posix_spawnp(&pid, argv[0], actions, NULL, argv, environ);
    if (spawned != 0) {
        fprintf(stderr, "%s: cannot start %s: %s%s\n", program, argv[0], strerror(spawned),
                strchr(argv[0], '/') ? " (run make first)" : " (run make deps first)");
        return -1;
    }
    return pid;
}

pid_t launch_start_redirected(const char *program, char *const argv[], int stdout_fd,
                              int stderr_fd)
{
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (stdout_fd >= 0)
        posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
    if (stderr_fd >= 0)
        posix_spawn_file_actions_adddup2(&actions, stderr_fd, STDERR_FILENO);
    pid_t pid = start_with_actions(program, argv, &actions);
    posix_spawn_file_actions_destroy(&actions);
    return pid;
}

pid_t launch_start(const char *program, char *const argv[], int stdout_fd)
{
    return launch_start_redirected(program, argv, stdout_fd, -1);
}

int launch_wait(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

struct collected {
    int fd;
    char *text;
    size_t length;
};

/* Appends what can be read now; false at end of file (or out of memory). */
static bool collect_some(struct collected *collected)
{
    char chunk[4096];
    ssize_t got = read(collected->fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR)
        return true;
    if (got <= 0)
        return false;
    char *grown = realloc(collected->text, collected->length + (size_t)got + 1);
    if (grown == NULL)
        return false;
    memcpy(grown + collected->length, chunk, (size_t)got);
    collected->text = grown;
    collected->length += (size_t)got;
    grown[collected->length] = '\0';
    return true;
}

/* Reads both pipes until the program closes them (it exits). */
static void collect_until_closed(struct collected *out, struct collected *err)
{
    bool out_open = true, err_open = true;
    while (out_open || err_open) {
        struct pollfd fds[2] = { { out_open ? out->fd : -1, POLLIN, 0 },
                                 { err_open ? err->fd : -1, POLLIN, 0 } };
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (out_open && fds[0].revents)
            out_open = collect_some(out);
        if (err_open && fds[1].revents)
            err_open = collect_some(err);
    }
}

static char *text_or_empty(struct collected *collected)
{
    return collected->text ? collected->text : strdup("");
}

/* Starts argv with its stdout and stderr into two new pipes, whose read
 * ends it leaves in out_fd and err_fd; in a process group of its own if
 * asked (so it can be killed with everything it started).  The pid, or -1
 * after one line prefixed by `program`. */
static pid_t start_with_pipes(const char *program, char *const argv[], bool own_group,
                              int *out_fd, int *err_fd)
{
    int out_pipe[2], err_pipe[2];
    *out_fd = *err_fd = -1;
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
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    if (own_group) {
        posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attributes, 0);
    }
    pid_t pid;
    int spawned = posix_spawnp(&pid, argv[0], &actions, &attributes, argv, environ);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (spawned != 0) {
        fprintf(stderr, "%s: cannot start %s: %s%s\n", program, argv[0], strerror(spawned),
                strchr(argv[0], '/') ? " (run make first)" : " (run make deps first)");
        close(out_pipe[0]);
        close(err_pipe[0]);
        return -1;
    }
    *out_fd = out_pipe[0];
    *err_fd = err_pipe[0];
    return pid;
}

int launch_capture(const char *program, char *const argv[], char **out, char **err)
{
    int out_fd, err_fd;
    pid_t pid = start_with_pipes(program, argv, false, &out_fd, &err_fd);

    struct collected collected_out = { out_fd, NULL, 0 };
    struct collected collected_err = { err_fd, NULL, 0 };
    if (pid > 0) {
        collect_until_closed(&collected_out, &collected_err);
        close(out_fd);
        close(err_fd);
    }
    int status = pid > 0 ? launch_wait(pid) : -1;

    if (out != NULL)
        *out = text_or_empty(&collected_out);
    else
        free(collected_out.text);
    if (err != NULL)
        *err = text_or_empty(&collected_err);
    else
        free(collected_err.text);
    return status;
}

static double monotonic_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* Reads both pipes until they close or `deadline` passes (then false),
 * doing `event` once when its time comes. */
static bool collect_until(struct collected *out, struct collected *err, pid_t pid,
                          double started, double deadline, const struct launch_event *event)
{
    bool out_open = true, err_open = true, event_done = event == NULL;
    double event_at = event ? started + event->at_s : deadline;
    while (out_open || err_open) {
        double now = monotonic_now();
        if (now >= deadline)
            return false;
        if (!event_done && now >= event_at) {
            event->act(event->context, pid);
            event_done = event->every_s <= 0;
            event_at = now + event->every_s;
        }
        double until = event_done || event_at > deadline ? deadline : event_at;
        int wait_ms = (int)((until - now) * 1000.0) + 1;
        struct pollfd fds[2] = { { out_open ? out->fd : -1, POLLIN, 0 },
                                 { err_open ? err->fd : -1, POLLIN, 0 } };
        int ready = poll(fds, 2, wait_ms);
        if (ready < 0 && errno != EINTR)
            return true;
        if (ready <= 0)
            continue;
        if (out_open && fds[0].revents)
            out_open = collect_some(out);
        if (err_open && fds[1].revents)
            err_open = collect_some(err);
    }
    return true;
}

/* The process group launch_run_bounded waits for; 0 when none. */
static volatile pid_t running_group;

void launch_kill_running(void)
{
    if (running_group > 0)
        kill(-running_group, SIGKILL);
}

static int wait_with_usage(pid_t pid, double *cpu_s)
{
    int status;
    struct rusage usage;
    while (wait4(pid, &status, 0, &usage) < 0)
        if (errno != EINTR)
            return -1;
    *cpu_s = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6
           + (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

int launch_run_bounded(const char *program, char *const argv[], double limit_s,
                       const struct launch_event *event, struct launch_result *result)
{
    memset(result, 0, sizeof *result);
    result->status = -1;
    int out_fd, err_fd;
    double started = monotonic_now();
    /* A group of its own: killing it also kills anything it started. */
    pid_t pid = start_with_pipes(program, argv, true, &out_fd, &err_fd);
    struct collected out = { out_fd, NULL, 0 };
    struct collected err = { err_fd, NULL, 0 };
    if (pid > 0) {
        running_group = pid;
        if (!collect_until(&out, &err, pid, started, started + limit_s, event)) {
            kill(-pid, SIGKILL);
            result->killed = true;
        }
        result->status = wait_with_usage(pid, &result->cpu_s);
        running_group = 0;
        result->wall_s = monotonic_now() - started;
        close(out_fd);
        close(err_fd);
    }
    result->out = text_or_empty(&out);
    result->err = text_or_empty(&err);
    return result->status;
}

void launch_result_free(struct launch_result *result)
{
    free(result->out);
    free(result->err);
    result->out = result->err = NULL;
}

void launch_last_line(const char *text, char *line, size_t size)
{
    line[0] = '\0';
    if (text == NULL)
        return;
    const char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        end--;
    const char *start = end;
    while (start > text && start[-1] != '\n')
        start--;
    snprintf(line, size, "%.*s", (int)(end - start), start);
}
