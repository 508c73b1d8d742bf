/*
 * launch.h - start the programs the harness drives (scenario programs,
 * slowserver, hyperfine, gnuplot) and collect what they said.
 *
 * Nothing here goes through a shell: every program gets its argv as it is,
 * so a path or URL is never re-split or re-interpreted.  Every program
 * started here dies with the harness (SIGTERM when its parent dies, even
 * by SIGKILL), so a killed bench leaves no slowserver or hyperfine behind.
 */
#ifndef ASYNCLAB_HARNESS_LAUNCH_H
#define ASYNCLAB_HARNESS_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The directory this program was started from (build/bin): the scenario
 * programs and slowserver live beside the harness.  False, after one line
 * prefixed by `program`, if unknown. */
bool launch_find_bin_dir(const char *program, char *dir, size_t size);

/* Starts argv (argv[0] a path, or a bare name looked up in PATH) with its
 * stdout sent to stdout_fd (-1: ours).  Returns the pid, or -1 after
 * printing one line prefixed by `program`. */
pid_t launch_start(const char *program, char *const argv[], int stdout_fd);

/* The same, with stderr sent to stderr_fd as well (-1: ours). */
pid_t launch_start_redirected(const char *program, char *const argv[], int stdout_fd,
                              int stderr_fd);

/* The same in a process group of its own, as a shell starts a job: a
 * signal sent to the group reaches everything it started, and what is
 * left of it can be counted (the tests' Ctrl+C and kill -9 checks). */
pid_t launch_start_job(const char *program, char *const argv[], int stdout_fd, int stderr_fd);

/* Waits for pid, retrying when a signal interrupts the wait.  Returns its
 * exit status, 128 + the signal if a signal ended it, or -1. */
int launch_wait(pid_t pid);

/* Runs argv to the end, collecting its stdout and stderr (either pointer
 * may be NULL to discard it).  *out and *err are malloc'd, NUL-terminated.
 * Returns the exit status as launch_wait does, or -1 if it could not start. */
int launch_capture(const char *program, char *const argv[], char **out, char **err);

/* What launch_run_bounded saw of one run. */
struct launch_result {
    int status;        /* as launch_wait returns it; 128 + 9 when killed */
    bool killed;       /* it outlived its bound and was killed */
    double wall_s;     /* from start to exit */
    double cpu_s;      /* user + system time it used */
    char *out;         /* its stdout and stderr, malloc'd, NUL-terminated */
    char *err;
};

/* Optional: something to do while the program runs, `at_s` seconds after
 * the start and then every `every_s` seconds (0: once).  The grader stops a
 * server under a running submission, or samples its main thread's CPU. */
struct launch_event {
    double at_s;
    void (*act)(void *context, pid_t pid);
    void *context;
    double every_s;
};

/*
 * Runs argv with its output collected, in a process group of its own, and
 * kills the whole group (SIGKILL) if it is still running after limit_s
 * seconds, so a program that hangs or spins cannot hold up its caller.
 * `event` may be NULL.  Returns result->status (-1 if it could not start).
 */
int launch_run_bounded(const char *program, char *const argv[], double limit_s,
                       const struct launch_event *event, struct launch_result *result);
void launch_result_free(struct launch_result *result);

/* Runs argv in the foreground (our stdout and stderr; what it prints is
 * the user's to watch) to the end.  While it runs, launch_forward_term()
 * from a signal handler passes SIGTERM on to it: a `kill` of the harness
 * alone reaches the program it is running (a Ctrl+C from the terminal
 * reaches both anyway).  Returns its status as launch_wait does, or -1 if
 * it could not start. */
int launch_run_forwarding(const char *program, char *const argv[]);
/* From a signal handler: SIGTERM to the program launch_run_forwarding is
 * running, and to any it starts from now on. */
void launch_forward_term(void);

/* From a signal handler: kills the process group launch_run_bounded is
 * waiting for, if any (a grader stopped with Ctrl+C leaves nothing behind). */
void launch_kill_running(void);

/* The last non-empty line of `text`, copied into line (empty if none). */
void launch_last_line(const char *text, char *line, size_t size);

#endif
