/* launch.c - start programs without a shell and collect their output; see launch.h. */
#include "launch.h"


#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"

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

int launch_capture(const char *program, char *const argv[], char **out, char **err)
{
    struct capture out_capture, err_capture;
    posix_spawn_file_actions_t actions;
    if (!capture_open(&out_capture, &err_capture, &actions))
        return -1;
    pid_t pid = start_with_actions(program, argv, &actions);
    capture_started(&out_capture, &err_capture, &actions);
    capture_until_closed(&out_capture, &err_capture, -1);  /* returns once both close */
    int status = pid > 0 ? launch_wait(pid) : -1;

    char *out_text = capture_text(&out_capture), *err_text = capture_text(&err_capture);
    if (out != NULL)
        *out = out_text;
    else
        free(out_text);
    if (err != NULL)
        *err = err_text;
    else
        free(err_text);
    return status;
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
