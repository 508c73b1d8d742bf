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

double test_now_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

int test_run(const char *const argv[], double timeout_s, struct test_process_result *result)
{
    memset(result, 0, sizeof *result);
    result->exit_status = -1;
    struct capture out, err;
    posix_spawn_file_actions_t actions;
    if (!capture_open(&out, &err, &actions))
        return -1;
    pid_t pid;
    int spawned = posix_spawn(&pid, argv[0], &actions, NULL, (char *const *)argv, environ);
    capture_started(&out, &err, &actions);
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

void test_process_result_free(struct test_process_result *result)
{
    free(result->out);
    free(result->err);
    result->out = result->err = NULL;
}
