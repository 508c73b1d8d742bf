/* launch.c - start programs without a shell and collect their output; see launch.h. */
#include "launch.h"


#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "clock.h"

bool launch_find_bin_dir(const char *program, char *dir, size_t size)
{
    ssize_t length = readlink("/proc/self/exe", dir, size - 1);
    char *slash = NULL;
    if (length > 0) {
        dir[length] = '\0';
        slash = strrchr(dir, '/');
    }
    if (slash == NULL) {
        fprintf(stderr, "%s: cannot tell where the programs are\n", program);
        return false;
    }
    *slash = '\0';
    return true;
}

/* What the child does with its file descriptors before it runs argv. */
struct child_fds {
    int stdout_fd;   /* -1: keep ours */
    int stderr_fd;
    int close_fds[2];  /* the parent's ends of capture pipes; -1: none */
    bool own_group;    /* in a process group of its own (launch_run_bounded) */
};

/* In the child, between fork and exec: tie its life to the harness.  If the
 * harness is killed (SIGKILL, the OOM killer) no handler of ours runs, so
 * the kernel must end the children: PR_SET_PDEATHSIG sends SIGTERM when
 * the parent dies.  The parent may already have died before the prctl, so
 * check that it is still the one that forked us. */
static void die_with_parent(pid_t parent)
{
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
        _exit(127);
}

static void run_child(char *const argv[], const struct child_fds *fds, pid_t parent,
                      int error_pipe)
{
    die_with_parent(parent);
    if (fds->own_group)
        setpgid(0, 0);
    if ((fds->stdout_fd >= 0 && dup2(fds->stdout_fd, STDOUT_FILENO) < 0)
        || (fds->stderr_fd >= 0 && dup2(fds->stderr_fd, STDERR_FILENO) < 0)) {
        int error = errno;
        (void)!write(error_pipe, &error, sizeof error);
        _exit(127);
    }
    for (size_t i = 0; i < 2; i++)
        if (fds->close_fds[i] >= 0)
            close(fds->close_fds[i]);
    /* execvp looks a bare name ("hyperfine") up in PATH and runs a path as
     * it is. */
    execvp(argv[0], argv);
    int error = errno;
    (void)!write(error_pipe, &error, sizeof error);
    _exit(127);
}

/* fork + exec rather than posix_spawn, which cannot set the death signal.
 * A close-on-exec pipe carries exec's errno back: nothing read means the
 * program is running. */
static pid_t start_child(const char *program, char *const argv[], const struct child_fds *fds)
{
    int error_pipe[2];
    if (pipe2(error_pipe, O_CLOEXEC) != 0) {
        fprintf(stderr, "%s: cannot start %s: %s\n", program, argv[0], strerror(errno));
        return -1;
    }
    fflush(NULL);  /* the child must not write our buffered output again */
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        run_child(argv, fds, parent, error_pipe[1]);
    close(error_pipe[1]);
    int error = 0;
    ssize_t got = -1;
    if (pid > 0)
        while ((got = read(error_pipe[0], &error, sizeof error)) < 0 && errno == EINTR)
            ;
    else
        error = errno;
    close(error_pipe[0]);
    if (pid > 0 && got <= 0)
        return pid;
    if (pid > 0)
        launch_wait(pid);
    fprintf(stderr, "%s: cannot start %s: %s%s\n", program, argv[0], strerror(error),
            strchr(argv[0], '/') ? " (run make first)" : " (run make deps first)");
    return -1;
}

pid_t launch_start_redirected(const char *program, char *const argv[], int stdout_fd,
                              int stderr_fd)
{
    const struct child_fds fds = { stdout_fd, stderr_fd, { -1, -1 }, false };
    return start_child(program, argv, &fds);
}

pid_t launch_start_job(const char *program, char *const argv[], int stdout_fd, int stderr_fd)
{
    const struct child_fds fds = { stdout_fd, stderr_fd, { -1, -1 }, true };
    return start_child(program, argv, &fds);
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
    if (!capture_pipes(&out_capture, &err_capture))
        return -1;
    const struct child_fds fds = { out_capture.write_fd, err_capture.write_fd,
                                   { out_capture.read_fd, err_capture.read_fd }, false };
    pid_t pid = start_child(program, argv, &fds);
    capture_close_write_ends(&out_capture, &err_capture);
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

/* The child launch_run_forwarding waits for (0: none), and whether a
 * SIGTERM has been asked to be passed on: once it has, every child started
 * that way gets one, even one that was starting when it came. */
static volatile pid_t forwarding_to;
static volatile sig_atomic_t term_forwarded;

void launch_forward_term(void)
{
    term_forwarded = 1;
    if (forwarding_to > 0)
        kill(forwarding_to, SIGTERM);
}

int launch_run_forwarding(const char *program, char *const argv[])
{
    fflush(stdout);
    pid_t pid = launch_start(program, argv, -1);
    if (pid < 0)
        return -1;
    forwarding_to = pid;
    if (term_forwarded)  /* the signal came while it was starting */
        kill(pid, SIGTERM);
    int status = launch_wait(pid);
    forwarding_to = 0;
    return status;
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

/* A launch_event with the pid it is about, for capture's tick. */
struct event_call {
    const struct launch_event *event;
    pid_t pid;
};

static void call_event(void *context)
{
    struct event_call *call = context;
    call->event->act(call->event->context, call->pid);
}

int launch_run_bounded(const char *program, char *const argv[], double limit_s,
                       const struct launch_event *event, struct launch_result *result)
{
    memset(result, 0, sizeof *result);
    result->status = -1;
    struct capture out, err;
    if (!capture_pipes(&out, &err)) {
        /* The caller reads out and err whatever happened. */
        fprintf(stderr, "%s: cannot start %s: %s\n", program, argv[0], strerror(errno));
        result->out = strdup("");
        result->err = strdup("");
        return -1;
    }
    /* A group of its own: killing it also kills anything it started. */
    const struct child_fds fds = { out.write_fd, err.write_fd, { out.read_fd, err.read_fd },
                                   true };
    double started = clock_now();
    pid_t pid = start_child(program, argv, &fds);
    capture_close_write_ends(&out, &err);
    if (pid > 0) {
        running_group = pid;
        struct event_call call = { event, pid };
        bool ended = capture_until_closed_ticking(&out, &err, started + limit_s,
                                                  event ? started + event->at_s : -1,
                                                  event ? event->every_s : 0,
                                                  event ? call_event : NULL, &call);
        if (!ended) {
            kill(-pid, SIGKILL);
            result->killed = true;
        }
        result->status = wait_with_usage(pid, &result->cpu_s);
        running_group = 0;
        result->wall_s = clock_now() - started;
    } else {
        capture_until_closed(&out, &err, 0);  /* closes the read ends */
    }
    result->out = capture_text(&out);
    result->err = capture_text(&err);
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
