/*
 * exit_codes.h - the exit statuses every asynclab program shares: scenario
 * programs, slowserver's helpers and the harness alike (docs/contracts.md).
 *
 * A script can tell the three failures apart without reading any output:
 * the user typed something wrong, something the run needs is missing, or
 * the run happened and some of its tasks failed.
 */
#ifndef ASYNCLAB_EXIT_CODES_H
#define ASYNCLAB_EXIT_CODES_H

enum {
    EXIT_ALL_DONE = 0,      /* all work done */
    EXIT_USAGE = 1,         /* bad command line */
    EXIT_SETUP = 2,         /* server unreachable, database missing, ... */
    EXIT_TASKS_FAILED = 3,  /* some tasks failed or timed out */
};

#endif
