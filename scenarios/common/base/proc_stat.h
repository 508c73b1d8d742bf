/*
 * proc_stat.h - what the kernel says of one process (or one thread) in
 * /proc/<pid>/stat: its name, state, parent, process group and CPU time.
 *
 * The lessons measure CPU per side (the PostgreSQL backend, an event loop's
 * thread), the grader samples a submission's loop, and the tests check that
 * what they started is gone.  The line is "PID (NAME) STATE PPID PGRP ...",
 * and NAME may hold spaces and parentheses, so it is read in one place.
 */
#ifndef ASYNCLAB_PROC_STAT_H
#define ASYNCLAB_PROC_STAT_H

#include <stdbool.h>

struct proc_stat {
    char name[64];        /* the kernel keeps the first 15 characters */
    char state;           /* 'R' running, 'S' sleeping, 'Z' zombie, ... */
    int parent;
    int group;            /* the process group */
    double cpu_seconds;   /* user + system, so far */
};

/* Reads /proc/<pid>/stat, or with tid > 0 the thread's
 * /proc/<pid>/task/<tid>/stat.  False if there is no such process (or
 * thread), or the line cannot be read. */
bool proc_stat_read(int pid, int tid, struct proc_stat *stat);

#endif
