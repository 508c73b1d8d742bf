/*
 * fdlimit.h - raise this process's open-file limit as far as it may go.
 *
 * Every connection is a file descriptor, and the usual soft limit (1024) is
 * far below the 10 000 concurrent requests the scale lessons make.  The soft
 * limit may be raised to the hard limit without privileges, so both the
 * server and the clients do that at start-up.
 */
#ifndef ASYNCLAB_FDLIMIT_H
#define ASYNCLAB_FDLIMIT_H

/* Raises the soft RLIMIT_NOFILE to the hard limit.  Returns the soft limit
 * in force afterwards (or -1 if it could not be read). */
long fdlimit_raise(void);

/* Raises the limit, then warns on stderr, in one line prefixed by
 * `program`, if `in_flight` transfers of `fds_each` descriptors would not
 * fit in it (with a few to spare for the program's own files): the run
 * goes on, and the note says where it will start to fail. */
void fdlimit_make_room(const char *program, long in_flight, long fds_each);

#endif
