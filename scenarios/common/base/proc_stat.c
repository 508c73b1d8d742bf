/*
 * proc_stat.c - one /proc/<pid>/stat line, read and split (proc_stat.h).
 */
#include "proc_stat.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool proc_stat_read(int pid, int tid, struct proc_stat *stat)
{
    char path[64], line[1024];
    if (tid > 0)
        snprintf(path, sizeof path, "/proc/%d/task/%d/stat", pid, tid);
    else
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return false;
    size_t length = fread(line, 1, sizeof line - 1, file);
    fclose(file);
    line[length] = '\0';

    /* The name runs from the first '(' to the last ')'. */
    const char *open = strchr(line, '(');
    const char *close = strrchr(line, ')');
    if (open == NULL || close == NULL || close < open)
        return false;
    size_t name_length = (size_t)(close - open - 1);
    if (name_length >= sizeof stat->name)
        name_length = sizeof stat->name - 1;
    memcpy(stat->name, open + 1, name_length);
    stat->name[name_length] = '\0';

    /* Then fields 3 to 15: state, ppid, pgrp, session, tty, tpgid, flags,
     * four fault counts, utime and stime (in clock ticks). */
    unsigned long user_ticks, system_ticks;
    if (sscanf(close + 1, " %c %d %d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &stat->state,
               &stat->parent, &stat->group, &user_ticks, &system_ticks) != 5)
        return false;
    stat->cpu_seconds = (double)(user_ticks + system_ticks) / (double)sysconf(_SC_CLK_TCK);
    return true;
}
