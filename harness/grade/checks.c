/*
 * checks.c - the checks every lab makes in the same way: how a program
 * ends without a server, with a bad flag, when its server dies; valgrind;
 * and the time --predict allows.
 */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "grading.h"

/* A TCP port on 127.0.0.1 where nothing listens (bound, then closed). */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET,
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t length = sizeof address;
    int port = 1;  /* tcpmux: nothing listens there either */
    if (fd >= 0 && bind(fd, (struct sockaddr *)&address, sizeof address) == 0
        && getsockname(fd, (struct sockaddr *)&address, &length) == 0)
        port = ntohs(address.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Runs the submission once on `args` and checks it ends with exit `want`
 * (2: set-up problem, 1: usage), saying `what` it was given. */
void grade_exit_status(struct grading *grading, size_t check, const char *url,
                       const char *const *args, int want, const char *what)
{
    struct launch_result result;
    char end[64];
    run_submission(grading, url, args, 10.0, NULL, &result);
    describe_end(&result, end, sizeof end);
    bool right = result.status == want && !result.killed;
    grade_check(&grading->sheet, check, right, "%s: %s%s", what, end,
                right ? "" : want == 2 ? ", not exit 2" : ", not exit 1");
    launch_result_free(&result);
}

/* No server at --url: a closed port on loopback. */
void grade_server_down(struct grading *grading, size_t check, const char *const *args)
{
    char url[64], what[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", closed_port());
    snprintf(what, sizeof what, "no server at %s", url);
    grade_exit_status(grading, check, url, args, 2, what);
}

/* Stops the server under a running submission: SIGKILL, no goodbye. */
static void kill_server(void *context, pid_t pid)
{
    (void)pid;
    struct server *server = context;
    if (server->pid > 0)
        kill(server->pid, SIGKILL);
}

/* A server of its own, killed 0.5 s into work (`args`) that would take
 * seconds: the program must still end, within RUN_SLACK_S, with exit 3. */
void grade_server_dies(struct grading *grading, size_t check, const char *const *args)
{
    struct server_pool doomed;
    server_pool_init(&doomed, GRADE_PROGRAM, grade_bin_dir);
    const char *doomed_url = server_pool_url(&doomed, "async", true);
    if (doomed_url == NULL) {
        grade_skip(&grading->sheet, check, "could not start a second slowserver");
        return;
    }
    struct launch_result result;
    struct launch_event kill_it = { 0.5, kill_server, &doomed.servers[0], 0 };
    run_submission(grading, doomed_url, args, 0.5, &kill_it, &result);
    server_pool_stop(&doomed);
    char end[64];
    describe_end(&result, end, sizeof end);
    bool ended_right = !result.killed && result.status == 3;
    grade_check(&grading->sheet, check, ended_right, "server killed 0.5 s in: %s%s", end,
                ended_right ? ", the failures reported"
                : result.killed ? ": it must give up on transfers that fail"
                                : ", not exit 3 (what failed must say so)");
    launch_result_free(&result);
}

void grade_memory(struct grading *grading, size_t check, const char *url,
                  const char *const *args)
{
    if (!grading->memcheck) {
        grade_skip(&grading->sheet, check, "skipped (--no-memcheck)");
        return;
    }
    if (!valgrind_installed()) {
        grade_skip(&grading->sheet, check, "skipped: valgrind is not installed");
        return;
    }
    struct launch_result result;
    run_under_valgrind(grading, url, args, 120.0, &result);
    char detail[200] = "";
    line_with(result.err, "lost in", detail, sizeof detail);
    if (detail[0] == '\0')
        line_with(result.err, "Invalid", detail, sizeof detail);
    char end[64];
    describe_end(&result, end, sizeof end);
    /* The program's own status may be 3 (a batch that fails by design);
     * valgrind's 99 is what marks an error. */
    bool clean = result.status != 99 && result.status < 128 && !result.killed;
    grade_check(&grading->sheet, check, clean, "valgrind: %s%s%s", clean ? "clean" : end,
                detail[0] ? ": " : "", detail);
    launch_result_free(&result);
}

double allowed_time(double predicted)
{
    return PREDICT_RATIO * predicted + PREDICT_ALLOWANCE_S;
}

/* The lesson's own --predict for the same flags; -1 if it says none. */
double lesson_prediction(const char *program, const char *const *args)
{
    const char *argv[16];
    size_t count = 0;
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", grade_bin_dir, program);
    argv[count++] = path;
    for (size_t i = 0; args[i] != NULL && count < 14; i++)
        argv[count++] = args[i];
    argv[count++] = "--predict";
    argv[count] = NULL;
    struct launch_result result;
    launch_run_bounded(GRADE_PROGRAM, (char *const *)argv, 20.0, NULL, &result);
    const char *found = strstr(result.out, "Predicted time: ");
    double seconds = -1;
    if (found == NULL || sscanf(found + strlen("Predicted time: "), "%lf", &seconds) != 1)
        seconds = -1;
    launch_result_free(&result);
    return seconds;
}
