/* scratch.c - private scratch folders; see scratch.h. */
#define _XOPEN_SOURCE 700
#include "scratch.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool scratch_make(const char *program, const char *purpose, char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/asynclab-%s-XXXXXX", purpose);
    if (mkdtemp(dir) != NULL)
        return true;
    fprintf(stderr, "%s: cannot make a scratch folder in /tmp: %s\n", program, strerror(errno));
    dir[0] = '\0';
    return false;
}

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void scratch_remove(const char *dir)
{
    if (dir[0] != '\0')
        /* Depth first, and symbolic links removed, not followed. */
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
