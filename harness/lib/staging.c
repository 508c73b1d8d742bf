/* staging.c - write a run aside, then move it into place; see staging.h. */
#include "staging.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scratch.h"

bool staging_create(const char *program, const char *dir, const char *subdir, char *staging,
                    size_t size)
{
    snprintf(staging, size, "%s/" STAGING_PREFIX "XXXXXX", dir);
    if (mkdtemp(staging) == NULL) {
        fprintf(stderr, "%s: cannot create a directory in %s: %s\n", program, dir,
                strerror(errno));
        return false;
    }
    chmod(staging, 0755);
    if (subdir != NULL) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", staging, subdir);
        if (mkdir(path, 0755) != 0) {
            fprintf(stderr, "%s: cannot create %s: %s\n", program, path, strerror(errno));
            staging_discard(staging);
            return false;
        }
    }
    return true;
}

static bool move_file(const char *program, const char *from_dir, const char *to_dir,
                      const char *relative)
{
    char from[PATH_MAX], to[PATH_MAX];
    snprintf(from, sizeof from, "%s/%s", from_dir, relative);
    snprintf(to, sizeof to, "%s/%s", to_dir, relative);
    if (rename(from, to) == 0)
        return true;
    fprintf(stderr, "%s: cannot move %s to %s: %s\n", program, from, to, strerror(errno));
    return false;
}

/* Moves the files of staging/sub (sub "" for staging itself) except `last`;
 * descends one level. */
static bool move_directory(const char *program, const char *staging, const char *dir,
                           const char *sub, const char *last)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", staging, sub);
    DIR *listing = opendir(path);
    if (listing == NULL)
        return false;
    bool moved = true;
    struct dirent *entry;
    while (moved && (entry = readdir(listing)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0
            || (sub[0] == '\0' && last != NULL && strcmp(entry->d_name, last) == 0))
            continue;
        char relative[PATH_MAX], source[PATH_MAX], target[PATH_MAX];
        struct stat info;
        if (snprintf(relative, sizeof relative, "%s%s%s", sub, sub[0] ? "/" : "",
                     entry->d_name) >= (int)sizeof relative
            || snprintf(source, sizeof source, "%s/%s", staging, relative) >= (int)sizeof source
            || snprintf(target, sizeof target, "%s/%s", dir, relative) >= (int)sizeof target
            || lstat(source, &info) != 0)
            moved = false;
        else if (S_ISDIR(info.st_mode) && sub[0] == '\0')
            moved = (mkdir(target, 0755) == 0 || errno == EEXIST)
                    && move_directory(program, staging, dir, relative, NULL);
        else
            moved = move_file(program, staging, dir, relative);
    }
    closedir(listing);
    return moved;
}

bool staging_publish(const char *program, const char *staging, const char *dir, const char *last)
{
    bool moved = move_directory(program, staging, dir, "", last)
                 && (last == NULL || move_file(program, staging, dir, last));
    if (moved)
        staging_discard(staging);  /* only the empty directories are left */
    return moved;
}

void staging_discard(const char *staging)
{
    scratch_remove(staging);  /* the same walk: depth first, never through a link */
}
