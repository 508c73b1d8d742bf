/*
 * scale.h - what the parts of `bench_scale` (harness/bench_scale.c and
 * harness/bench_scale/) share: one_run.c runs one pairing at one K and
 * measures what it cost (from /proc and the kernel's own counters);
 * bench_scale.c sweeps the Ks, prints the table and writes scale.json.
 */
#ifndef ASYNCLAB_BENCH_SCALE_H
#define ASYNCLAB_BENCH_SCALE_H

#include <stdbool.h>

extern const char SCALE_PROGRAM[];   /* "bench_scale", for messages */

/* A client program paired with a server mode: one line of the table. */
struct pairing {
    const char *label;
    const char *client;       /* build/bin/<client> */
    const char *server_mode;  /* slowserver --mode */
};

/* What one run cost. */
struct measurement {
    int exit_status;
    bool timed_out;
    double elapsed;            /* the client's own "Time elapsed" */
    double client_cpu;         /* seconds, user + system */
    double server_cpu;
    long client_peak_rss_kb;
    long server_peak_rss_kb;
    long client_max_threads;
    long server_max_threads;
    long listen_overflows;
    char failure[256];         /* why it did not complete ("" if it did) */
};

/* One run: a fresh server (so its peak memory and CPU belong to this run
 * alone), K requests of `delay` seconds at once, the server stopped again. */
bool measure(const char *bin_dir, const struct pairing *pairing, long k, double delay,
             long concurrency, double timeout, struct measurement *m);

#endif
