/* seed.c - deterministic random work per seed; see seed.h. */
#include "seed.h"

#include <math.h>

struct seed seed_start(uint64_t seed)
{
    return (struct seed){ seed };
}

uint64_t seed_next(struct seed *seed)
{
    uint64_t z = (seed->state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

long seed_between(struct seed *seed, long low, long high)
{
    uint64_t span = (uint64_t)(high - low) + 1;
    return low + (long)(seed_next(seed) % span);
}

double seed_step(struct seed *seed, double low, double high, double step)
{
    long steps = lround((high - low) / step);
    return low + (double)seed_between(seed, 0, steps) * step;
}
