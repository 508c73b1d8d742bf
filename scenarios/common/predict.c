/* predict.c - the lessons' timing model; see predict.h. */
#include "predict.h"

#include <stdlib.h>

/* Index of the slot that frees up first. */
static size_t earliest_free(const double *free_at, size_t slots)
{
    size_t best = 0;
    for (size_t i = 1; i < slots; i++)
        if (free_at[i] < free_at[best])
            best = i;
    return best;
}

double predict_makespan(const double *durations, size_t count, long concurrency)
{
    size_t slots = (concurrency <= 0 || (size_t)concurrency > count) ? count : (size_t)concurrency;
    if (slots == 0)
        return 0.0;
    if (slots == count) {  /* everything at once: the longest task decides */
        double longest = 0.0;
        for (size_t i = 0; i < count; i++)
            if (durations[i] > longest)
                longest = durations[i];
        return longest;
    }
    double *free_at = calloc(slots, sizeof *free_at);
    if (free_at == NULL)
        return -1.0;
    double makespan = 0.0;
    for (size_t i = 0; i < count; i++) {
        size_t slot = earliest_free(free_at, slots);
        free_at[slot] += durations[i];
        if (free_at[slot] > makespan)
            makespan = free_at[slot];
    }
    free(free_at);
    return makespan;
}
