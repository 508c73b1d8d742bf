/*
 * capture.h - a child program's stdout and stderr, collected into memory
 * through two pipes.  The harness (harness/lib/launch.c) and the tests
 * (tests/support/process.c) both start programs this way.
 *
 *     struct capture out, err;
 *     posix_spawn_file_actions_t actions;
 *     capture_open(&out, &err, &actions);      two pipes, routed to 1 and 2
 *     posix_spawn(..., &actions, ...);
 *     capture_started(&out, &err, &actions);   the parent's write ends closed
 *     capture_until_closed(&out, &err, -1);    read both until the child is done
 *     ... out.text, err.text ...               then capture_text() or free()
 */
#ifndef ASYNCLAB_CAPTURE_H
#define ASYNCLAB_CAPTURE_H

#include <spawn.h>
#include <stdbool.h>
#include <stddef.h>

struct capture {
    int read_fd;     /* the parent's end */
    int write_fd;    /* the child's end, until capture_started closes it here */
    char *text;      /* what was read, NUL-terminated; NULL if nothing */
    size_t length;
};

/* Two pipes, and spawn actions that make them the child's stdout and
 * stderr (and close every other end in the child, so that a daemon the
 * child leaves behind cannot hold them open).  False if a pipe failed. */
bool capture_open(struct capture *out, struct capture *err, posix_spawn_file_actions_t *actions);

/* After posix_spawn: frees the actions and closes the write ends here. */
void capture_started(struct capture *out, struct capture *err,
                     posix_spawn_file_actions_t *actions);

/* Reads both pipes until the child closes them (it exits), or until
 * `deadline` (a clock_now() value; < 0: none) passes, which returns false.
 * Closes the read ends either way. */
bool capture_until_closed(struct capture *out, struct capture *err, double deadline);

/* The text read, or a new empty string: the caller frees it. */
char *capture_text(struct capture *capture);

#endif
