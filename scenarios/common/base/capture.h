/*
 * capture.h - a child program's stdout and stderr, collected into memory
 * through two pipes.  The harness (harness/lib/launch.c) and the tests
 * (tests/support/process.c) both start programs this way:
 *
 *     struct capture out, err;
 *     capture_pipes(&out, &err);           two close-on-exec pipes
 *     start the child with out.write_fd as its stdout, err.write_fd as its
 *         stderr (capture_spawn_actions does it for posix_spawn)
 *     capture_close_write_ends(&out, &err);
 *     capture_until_closed(&out, &err, -1);  read both until the child is done
 *     ... capture_text(&out), capture_text(&err) ...
 */
#ifndef ASYNCLAB_CAPTURE_H
#define ASYNCLAB_CAPTURE_H

#include <spawn.h>
#include <stdbool.h>
#include <stddef.h>

struct capture {
    int read_fd;     /* the parent's end */
    int write_fd;    /* the child's end, until capture_close_write_ends */
    char *text;      /* what was read, NUL-terminated; NULL if nothing */
    size_t length;
};

/* Two pipes, both ends close-on-exec, so that programs started at the same
 * time do not inherit each other's pipes (the child's copies on 1 and 2
 * are made with dup2, which clears the flag).  False if a pipe failed. */
bool capture_pipes(struct capture *out, struct capture *err);

/* posix_spawn actions that make the pipes the child's stdout and stderr;
 * the caller destroys them after the spawn. */
void capture_spawn_actions(const struct capture *out, const struct capture *err,
                           posix_spawn_file_actions_t *actions);

/* After the child has started: our copies of its ends, closed, so that
 * reading sees end of file when the child is done. */
void capture_close_write_ends(struct capture *out, struct capture *err);

/* Reads both pipes until the child closes them (it exits), or until
 * `deadline` (a clock_now() value; < 0: none) passes, which returns false.
 * Closes the read ends either way. */
bool capture_until_closed(struct capture *out, struct capture *err, double deadline);

/* The same without closing: reads until both pipes close (true) or until
 * `until` (a clock_now() value; < 0: none) passes (false), so a caller can
 * do something at a given time and read on.  A pipe that closes is closed
 * (its read_fd becomes -1). */
bool capture_read_until(struct capture *out, struct capture *err, double until);

/* Closes what capture_read_until left open. */
void capture_close_read_ends(struct capture *out, struct capture *err);

/* The text read, or a new empty string: the caller frees it. */
char *capture_text(struct capture *capture);

#endif
