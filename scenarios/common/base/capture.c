/* capture.c - a child's output through two pipes; see capture.h. */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

bool capture_pipes(struct capture *out, struct capture *err)
{
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0)
        return false;
    if (pipe2(err_pipe, O_CLOEXEC) != 0) {
        close(out_pipe[0]);
        close(out_pipe[1]);
        return false;
    }
    *out = (struct capture){ out_pipe[0], out_pipe[1], NULL, 0 };
    *err = (struct capture){ err_pipe[0], err_pipe[1], NULL, 0 };
    return true;
}

void capture_spawn_actions(const struct capture *out, const struct capture *err,
                           posix_spawn_file_actions_t *actions)
{
    posix_spawn_file_actions_init(actions);
    posix_spawn_file_actions_adddup2(actions, out->write_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(actions, err->write_fd, STDERR_FILENO);
}

void capture_close_write_ends(struct capture *out, struct capture *err)
{
    close(out->write_fd);
    close(err->write_fd);
    out->write_fd = err->write_fd = -1;
}

/* Appends what can be read now; false at end of file (or out of memory). */
static bool read_some(struct capture *capture)
{
    char chunk[4096];
    ssize_t got = read(capture->read_fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR)
        return true;
    if (got <= 0)
        return false;
    char *grown = realloc(capture->text, capture->length + (size_t)got + 1);
    if (grown == NULL)
        return false;
    memcpy(grown + capture->length, chunk, (size_t)got);
    capture->text = grown;
    capture->length += (size_t)got;
    grown[capture->length] = '\0';
    return true;
}

static void close_read_end(struct capture *capture)
{
    if (capture->read_fd >= 0)
        close(capture->read_fd);
    capture->read_fd = -1;
}

bool capture_read_until(struct capture *out, struct capture *err, double until)
{
    while (out->read_fd >= 0 || err->read_fd >= 0) {
        int wait_ms = -1;
        if (until >= 0) {
            double left = until - clock_now();
            if (left <= 0)
                return false;
            wait_ms = (int)(left * 1000) + 1;
        }
        /* poll skips a negative fd: a pipe already closed is not watched. */
        struct pollfd fds[2] = { { out->read_fd, POLLIN, 0 }, { err->read_fd, POLLIN, 0 } };
        if (poll(fds, 2, wait_ms) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[0].revents && !read_some(out))
            close_read_end(out);
        if (fds[1].revents && !read_some(err))
            close_read_end(err);
    }
    return true;
}

void capture_close_read_ends(struct capture *out, struct capture *err)
{
    close_read_end(out);
    close_read_end(err);
}

bool capture_until_closed(struct capture *out, struct capture *err, double deadline)
{
    bool in_time = capture_read_until(out, err, deadline);
    capture_close_read_ends(out, err);
    return in_time;
}

char *capture_text(struct capture *capture)
{
    char *text = capture->text ? capture->text : strdup("");
    capture->text = NULL;
    return text;
}
