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
 * programs and slowserver live beside the harness.  False if unknown. */
bool launch_find_bin_dir(char *dir, size_t size);

/* Starts argv (argv[0] a path, or a bare name looked up in PATH) with its
 * stdout sent to stdout_fd (-1: ours).  Returns the pid, or -1 after
 * printing one line prefixed by `program`. */
pid_t launch_start(const char *program, char *const argv[], int stdout_fd);

/* The same, with stderr sent to stderr_fd as well (-1: ours). */
pid_t launch_start_redirected(const char *program, char *const argv[], int stdout_fd,
                              int stderr_fd);

/* Waits for pid, retrying when a signal interrupts the wait.  Returns its
 * exit status, 128 + the signal if a signal ended it, or -1. */
int launch_wait(pid_t pid);

/* Runs argv to the end, collecting its stdout and stderr (either pointer
 * may be NULL to discard it).  *out and *err are malloc'd, NUL-terminated.
 * Returns the exit status as launch_wait does, or -1 if it could not start. */
int launch_capture(const char *program, char *const argv[], char **out, char **err);

/* The last non-empty line of `text`, copied into line (empty if none). */
void launch_last_line(const char *text, char *line, size_t size);

#endif
