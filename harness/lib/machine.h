/*
 * machine.h - what a benchmark result depends on besides the code: the
 * machine it ran on and the versions of the libraries and tools involved.
 * Two results are comparable only when these are written beside them.
 */
#ifndef ASYNCLAB_HARNESS_MACHINE_H
#define ASYNCLAB_HARNESS_MACHINE_H

#include <jansson.h>
#include <sys/types.h>

/* {"cpu": "...", "cores": N, "kernel": "Linux 6.1.0-... x86_64", "memory_mb": N} */
json_t *machine_describe(void);

/* {"libcurl": "7.88.1", "libmicrohttpd": "0.9.75", "sqlite": "3.40.1",
 *  "jansson": "2.14", "hyperfine": "1.15.0"}: the libraries as this program
 * was linked (the scenario programs link the same ones), and the hyperfine
 * found in PATH. */
json_t *machine_versions(void);

/* A number field of /proc/PID/status ("Threads", "VmHWM" in kB, ...), or -1:
 * how the harness watches a process it started while it runs. */
long machine_proc_status(pid_t pid, const char *name);

/* Now, as the results write it: "2026-12-01T21:44:12Z" (UTC). */
void machine_date_now(char *text, size_t size);

#endif
