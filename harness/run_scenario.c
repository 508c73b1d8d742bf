/*
 * run_scenario.c - `make run-scenario SCENARIO=slow_api [SCALE=0.1]`.
 *
 * Runs every program of one scenario against the same slowserver, one after
 * another, lets the student watch each one's own output, and ends with a
 * side-by-side: each program's elapsed time, what the lesson's model
 * predicted, and the speedup over the sync program.
 *
 * If a server already answers at the URL (say, `make run-server` in another
 * terminal) it is used; otherwise one is started on a free port and stopped
 * at the end, also when the student presses Ctrl+C.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "http.h"
#include "parse.h"
#include "scenarios.h"

static const char PROGRAM[] = "run_scenario";
extern char **environ;

/* Set by SIGINT/SIGTERM: stop after the program that is running. */
static volatile sig_atomic_t interrupted;

static void note_interrupt(int signal_number)
{
    (void)signal_number;
    interrupted = 1;
}

struct options {
    const char *scenario;
    const char *scale;   /* passed through as typed */
    char url[CLI_URL_MAX];
    bool url_given;
};

struct variant_result {
    const char *variant;
    double elapsed;      /* wall time of the whole program */
    double predicted;    /* from its --predict; < 0 if unknown */
    int exit_status;
};

struct server {
    const char *mode;    /* slowserver --mode */
    pid_t pid;           /* 0: we did not start one */
    int stdout_fd;
    char url[CLI_URL_MAX];
};

/* One server per --mode a scenario needs; the first is the usual async one. */
static struct server servers[] = {
    { "async", 0, -1, "" }, { "threads", 0, -1, "" }, { "blocking", 0, -1, "" },
};
#define SERVER_COUNT (sizeof servers / sizeof servers[0])

static char bin_dir[PATH_MAX];

/* The programs live beside this one in build/bin. */
static bool find_bin_dir(void)
{
    ssize_t length = readlink("/proc/self/exe", bin_dir, sizeof bin_dir - 1);
    if (length <= 0)
        return false;
    bin_dir[length] = '\0';
    char *slash = strrchr(bin_dir, '/');
    if (slash == NULL)
        return false;
    *slash = '\0';
    return true;
}

static void usage(FILE *stream)
{
    fprintf(stream, "usage: %s --scenario NAME [--scale F] [--url URL]\n"
            "Runs a scenario's programs one after another against one slowserver and compares them.\n"
            "Scenarios:", PROGRAM);
    for (size_t i = 0; i < SCENARIO_COUNT; i++)
        fprintf(stream, " %s", SCENARIOS[i].name);
    fprintf(stream, "\nExample: %s --scenario slow_api --scale 0.1\n", PROGRAM);
}

static int parse_options(int argc, char **argv, struct options *options)
{
    options->scenario = NULL;
    options->scale = "1";
    const char *env_url = getenv("ASYNCLAB_URL");
    snprintf(options->url, sizeof options->url, "%s",
             env_url && env_url[0] ? env_url : CLI_DEFAULT_URL);
    options->url_given = env_url && env_url[0];
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        if (strcmp(flag, "-h") == 0 || strcmp(flag, "--help") == 0) {
            usage(stdout);
            return EXIT_ALL_DONE;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "%s: bad option '%s' (unknown, or missing its value; see --help)\n",
                    PROGRAM, flag);
            return EXIT_USAGE;
        }
        const char *value = argv[++i];
        if (strcmp(flag, "--scenario") == 0) {
            options->scenario = value;
        } else if (strcmp(flag, "--scale") == 0) {
            double scale;
            if (!parse_double_in(value, 0.0, 1000.0, &scale) || scale <= 0.0) {
                fprintf(stderr, "%s: invalid value '%s' for --scale (expected a number greater "
                        "than 0, at most 1000)\n", PROGRAM, value);
                return EXIT_USAGE;
            }
            options->scale = value;
        } else if (strcmp(flag, "--url") == 0) {
            snprintf(options->url, sizeof options->url, "%s", value);
            options->url_given = true;
        } else {
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", PROGRAM, flag);
            return EXIT_USAGE;
        }
    }
    return -1;
}

static const struct scenario *find_scenario(const char *name)
{
    for (size_t i = 0; name != NULL && i < SCENARIO_COUNT; i++)
        if (strcmp(SCENARIOS[i].name, name) == 0)
            return &SCENARIOS[i];
    return NULL;
}

/* Reads the server's first line, "listening on http://ADDR:PORT", waiting
 * at most a few seconds for it. */
static bool read_listening_line(int fd, char *url, size_t size)
{
    char line[256];
    size_t length = 0;
    double deadline = clock_now() + 10.0;
    while (length < sizeof line - 1) {
        struct pollfd ready = { fd, POLLIN, 0 };
        int left_ms = (int)((deadline - clock_now()) * 1000);
        if (left_ms <= 0 || poll(&ready, 1, left_ms) <= 0)
            return false;
        ssize_t got = read(fd, &line[length], 1);
        if (got <= 0)
            return false;
        if (line[length] == '\n')
            break;
        length++;
    }
    line[length] = '\0';
    const char *prefix = "listening on ";
    if (strncmp(line, prefix, strlen(prefix)) != 0)
        return false;
    snprintf(url, size, "%s", line + strlen(prefix));
    return true;
}

static bool start_server(struct server *server, const char *mode, char *url, size_t size)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/slowserver", bin_dir);
    int out[2];
    if (pipe(out) != 0)
        return false;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    char *const argv[] = { path, "--port", "0", "--quiet", "--mode", (char *)mode, NULL };
    int spawned = posix_spawn(&server->pid, path, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    server->stdout_fd = out[0];
    if (spawned != 0) {
        fprintf(stderr, "%s: cannot start %s: %s (run make first)\n", PROGRAM, path,
                strerror(spawned));
        server->pid = 0;
        return false;
    }
    if (!read_listening_line(out[0], url, size)) {
        fprintf(stderr, "%s: slowserver did not say where it listens\n", PROGRAM);
        return false;
    }
    return true;
}

static void stop_servers(void)
{
    for (size_t i = 0; i < SERVER_COUNT; i++) {
        struct server *server = &servers[i];
        if (server->pid > 0) {
            kill(server->pid, SIGTERM);
            while (waitpid(server->pid, NULL, 0) < 0 && errno == EINTR)
                ;
            server->pid = 0;
        }
        if (server->stdout_fd >= 0)
            close(server->stdout_fd);
        server->stdout_fd = -1;
    }
}

/* Runs a program and waits for it; its output goes straight to ours. */
static int run_program(char *const argv[], int stdout_fd)
{
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (stdout_fd >= 0)
        posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
    pid_t pid;
    int spawned = posix_spawn(&pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
        fprintf(stderr, "%s: cannot start %s: %s (run make first)\n", PROGRAM, argv[0],
                strerror(spawned));
        return -1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Asks a program what the lesson's model predicts ("Predicted time: X s"):
 * the same command line with --predict added. */
static double ask_prediction(char *const *argv)
{
    char *with_predict[10];
    int argc = 0;
    for (; argv[argc] != NULL && argc < 8; argc++)
        with_predict[argc] = argv[argc];
    with_predict[argc++] = "--predict";
    with_predict[argc] = NULL;

    FILE *capture = tmpfile();
    if (capture == NULL)
        return -1;
    double predicted = -1;
    if (run_program(with_predict, fileno(capture)) == 0) {
        rewind(capture);
        if (fscanf(capture, "Predicted time: %lf s", &predicted) != 1)
            predicted = -1;
    }
    fclose(capture);
    return predicted;
}

/* The URL of a server in `mode`, starting one on first use.  An async-mode
 * server that already answers at the user's URL is used as it is. */
static const char *server_url(const struct options *options, const char *mode)
{
    for (size_t i = 0; i < SERVER_COUNT; i++) {
        struct server *server = &servers[i];
        if (strcmp(server->mode, mode) != 0)
            continue;
        if (server->url[0] != '\0')
            return server->url;
        if (i == 0 && http_server_probe(options->url)) {
            snprintf(server->url, sizeof server->url, "%s", options->url);
            printf("Using the server already running at %s\n", server->url);
            return server->url;
        }
        if (i == 0 && options->url_given) {
            fprintf(stderr, "%s: nothing answers at %s; start it with: make run-server\n",
                    PROGRAM, options->url);
            return NULL;
        }
        if (!start_server(server, mode, server->url, sizeof server->url)) {
            server->url[0] = '\0';
            return NULL;
        }
        printf("Started slowserver --mode %s at %s (stopped again at the end)\n", mode, server->url);
        return server->url;
    }
    fprintf(stderr, "%s: no slowserver mode '%s'\n", PROGRAM, mode);
    return NULL;
}

/* "async@blocking": program "async", server mode "blocking". */
static void split_variant(const char *variant, char *program, size_t size, const char **mode)
{
    const char *at = strchr(variant, '@');
    size_t length = at ? (size_t)(at - variant) : strlen(variant);
    snprintf(program, size, "%.*s", (int)length, variant);
    *mode = at ? at + 1 : "async";
}

static bool run_variant(const struct scenario *scenario, const char *variant,
                        const struct options *options, struct variant_result *result)
{
    char program[64];
    const char *mode;
    split_variant(variant, program, sizeof program, &mode);
    const char *url = NULL;
    if (scenario->uses_server && (url = server_url(options, mode)) == NULL)
        return false;

    char path[PATH_MAX + 128];
    snprintf(path, sizeof path, "%s/%s_%s", bin_dir, scenario->name, program);
    char *argv[8] = { path, "--scale", (char *)options->scale };
    int argc = 3;
    if (url != NULL) {
        argv[argc++] = "--url";
        argv[argc++] = (char *)url;
    }
    argv[argc] = NULL;

    result->variant = variant;
    result->predicted = ask_prediction(argv);
    printf("\n>>> %s_%s --scale %s%s%s\n", scenario->name, program, options->scale,
           url ? " against a slowserver in mode " : "", url ? mode : "");
    fflush(stdout);
    double started = clock_now();
    result->exit_status = run_program(argv, -1);
    result->elapsed = clock_now() - started;
    return true;
}

static void print_comparison(const struct scenario *scenario, const struct options *options,
                             const struct variant_result *results, size_t count)
{
    const struct variant_result *baseline = &results[0];
    printf("\n==========\n%s at scale %s, side by side (wall time of each program)\n",
           scenario->name, options->scale);
    printf("%-16s %12s %12s %10s %10s  %s\n", "program", "elapsed", "predicted", "speedup",
           "ideal", "exit");
    for (size_t i = 0; i < count; i++) {
        const struct variant_result *r = &results[i];
        char predicted[32] = "?", ideal[32] = "?";
        if (r->predicted >= 0)
            snprintf(predicted, sizeof predicted, "%.3f s", r->predicted);
        if (r->predicted > 0 && baseline->predicted >= 0)
            snprintf(ideal, sizeof ideal, "%.2fx", baseline->predicted / r->predicted);
        printf("%-16s %10.3f s %12s %9.2fx %10s  %d\n", r->variant, r->elapsed, predicted,
               baseline->elapsed / r->elapsed, ideal, r->exit_status);
    }
    printf("speedup = %s elapsed / this elapsed; ideal = the same ratio of the predictions\n"
           "==========\n", baseline->variant);
}

int main(int argc, char **argv)
{
    struct options options;
    int early_exit = parse_options(argc, argv, &options);
    if (early_exit >= 0)
        return early_exit;
    const struct scenario *scenario = find_scenario(options.scenario);
    if (scenario == NULL) {
        fprintf(stderr, "%s: unknown scenario '%s'; ", PROGRAM,
                options.scenario ? options.scenario : "");
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!find_bin_dir()) {
        fprintf(stderr, "%s: cannot tell where the programs are\n", PROGRAM);
        return EXIT_SETUP;
    }

    /* The children get Ctrl+C from the terminal as well; we only have to
     * stop starting new ones and clean up the server. */
    struct sigaction on_interrupt = { .sa_handler = note_interrupt };
    sigaction(SIGINT, &on_interrupt, NULL);
    sigaction(SIGTERM, &on_interrupt, NULL);

    curl_global_init(CURL_GLOBAL_DEFAULT);  /* for the /health probe */
    struct variant_result results[SCENARIO_MAX_VARIANTS];
    size_t count = 0;
    bool started_all = true;
    for (; count < SCENARIO_MAX_VARIANTS && scenario->variants[count] && !interrupted; count++) {
        if (!run_variant(scenario, scenario->variants[count], &options, &results[count])) {
            started_all = false;
            break;
        }
    }
    curl_global_cleanup();

    stop_servers();
    if (!started_all)
        return EXIT_SETUP;
    if (interrupted) {
        fprintf(stderr, "%s: interrupted; the servers it started are stopped\n", PROGRAM);
        return 130;
    }
    print_comparison(scenario, &options, results, count);
    for (size_t i = 0; i < count; i++)
        if (results[i].exit_status != 0)
            return EXIT_TASKS_FAILED;
    return EXIT_ALL_DONE;
}
