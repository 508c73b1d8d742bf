/* servers.c - start and stop slowservers by mode; see servers.h. */
#include "servers.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "launch.h"

void server_pool_init(struct server_pool *pool, const char *program, const char *bin_dir)
{
    memset(pool, 0, sizeof *pool);
    pool->program = program;
    snprintf(pool->bin_dir, sizeof pool->bin_dir, "%s", bin_dir);
    const char *modes[] = { "async", "threads", "blocking" };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        pool->servers[i].mode = modes[i];
        pool->servers[i].stdout_fd = -1;
    }
}

static struct server *find_mode(struct server_pool *pool, const char *mode)
{
    for (size_t i = 0; i < sizeof pool->servers / sizeof pool->servers[0]; i++)
        if (strcmp(pool->servers[i].mode, mode) == 0)
            return &pool->servers[i];
    return NULL;
}

void server_pool_adopt(struct server_pool *pool, const char *mode, const char *url)
{
    struct server *server = find_mode(pool, mode);
    if (server != NULL)
        snprintf(server->url, sizeof server->url, "%s", url);
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
        if (left_ms <= 0)
            return false;
        int polled = poll(&ready, 1, left_ms);
        if (polled < 0 && errno == EINTR)
            continue;
        if (polled <= 0)
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

pid_t server_start_listening(const char *program, char *const argv[], char *url, size_t size,
                             int *stdout_fd)
{
    int out[2];
    *stdout_fd = -1;
    url[0] = '\0';
    if (pipe(out) != 0)
        return -1;
    pid_t pid = launch_start(program, argv, out[1]);
    close(out[1]);
    *stdout_fd = out[0];
    if (pid < 0)
        return -1;
    if (!read_listening_line(out[0], url, size)) {
        fprintf(stderr, "%s: %s did not say where it listens\n", program, argv[0]);
        url[0] = '\0';
        kill(pid, SIGTERM);
        launch_wait(pid);
        return -1;
    }
    return pid;
}

static bool start_server(struct server_pool *pool, struct server *server)
{
    char path[sizeof pool->bin_dir + 16];
    snprintf(path, sizeof path, "%s/slowserver", pool->bin_dir);
    char *const argv[] = { path, "--port", "0", "--quiet", "--mode", (char *)server->mode, NULL };
    pid_t pid = server_start_listening(pool->program, argv, server->url, sizeof server->url,
                                       &server->stdout_fd);
    if (pid < 0)
        return false;
    server->pid = pid;
    return true;
}

const char *server_pool_url(struct server_pool *pool, const char *mode, bool quiet)
{
    struct server *server = find_mode(pool, mode);
    if (server == NULL) {
        fprintf(stderr, "%s: no slowserver mode '%s' (async, threads or blocking)\n",
                pool->program, mode);
        return NULL;
    }
    if (server->url[0] != '\0')
        return server->url;
    if (!start_server(pool, server))
        return NULL;
    if (!quiet)
        printf("Started slowserver --mode %s at %s (stopped again at the end)\n"
               "  live view: open %s/live in a browser to watch its requests wait\n", mode,
               server->url, server->url);
    return server->url;
}

void server_pool_stop(struct server_pool *pool)
{
    for (size_t i = 0; i < sizeof pool->servers / sizeof pool->servers[0]; i++) {
        struct server *server = &pool->servers[i];
        if (server->pid > 0) {
            kill(server->pid, SIGTERM);
            launch_wait(server->pid);
            server->pid = 0;
        }
        if (server->stdout_fd >= 0)
            close(server->stdout_fd);
        server->stdout_fd = -1;
    }
}

void variant_split(const char *variant, char *program, size_t size, const char **mode)
{
    const char *at = strchr(variant, '@');
    size_t length = at ? (size_t)(at - variant) : strlen(variant);
    snprintf(program, size, "%.*s", (int)length, variant);
    *mode = at ? at + 1 : "async";
}
