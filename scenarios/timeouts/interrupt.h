/*
 * interrupt.h - Ctrl+C (and SIGTERM) for the timeouts lesson: a clean stop
 * that still reports every task (docs/timeouts.md, "Cancellation").
 *
 * The signal handler only sets a flag and writes a byte to a pipe, two of
 * the few things a handler may safely do.  The programs check the flag
 * between steps, and wait on the pipe's read end as well as on their
 * sockets, so a signal wakes them at once: the "self-pipe trick".
 */
#ifndef ASYNCLAB_TIMEOUTS_INTERRUPT_H
#define ASYNCLAB_TIMEOUTS_INTERRUPT_H

#include <curl/curl.h>
#include <stdbool.h>

/* Creates the pipe and installs the handler for SIGINT and SIGTERM.
 * False (errno says why) if either could not be done. */
bool interrupt_install(void);

/* Closes the pipe (the handler stays, and then only sets the flag). */
void interrupt_uninstall(void);

/* True once SIGINT or SIGTERM has arrived. */
bool timeouts_interrupted(void);

/* The signal that arrived (0: none), and its name for messages:
 * "Ctrl+C" or "SIGTERM". */
int interrupt_signal_number(void);
const char *interrupt_name(void);

/* The pipe's read end, readable once a signal has arrived, and a way to
 * empty it after waking up. */
int timeouts_wake_fd(void);
void timeouts_drain_wake_fd(void);

/* The two ways a blocking program notices Ctrl+C (sync.c):
 *
 * Sleeps until `when` (a clock_now() value), but returns at once on Ctrl+C.
 * It waits in poll() on the pipe rather than in sleep(), which closes the
 * gap where a signal arriving just before the sleep would be noticed only
 * after it. */
void interrupt_sleep_until(double when);

/* A CURLOPT_XFERINFOFUNCTION: libcurl calls it while a transfer runs (on
 * progress, and at least once a second), and a non-zero return aborts the
 * transfer.  It is the only way to stop a blocking curl_easy_perform from
 * outside: it returns non-zero once Ctrl+C has arrived. */
int interrupt_abort_transfer(void *data, curl_off_t download_total, curl_off_t downloaded,
                             curl_off_t upload_total, curl_off_t uploaded);

#endif
