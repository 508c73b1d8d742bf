/* atomic_file.c - write a temporary file, then rename it; see atomic_file.h. */
#include "atomic_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *atomic_file_open(struct atomic_file *file, const char *path)
{
    memset(file, 0, sizeof *file);
    const char *slash = strrchr(path, '/');
    int dir_length = slash ? (int)(slash - path + 1) : 0;
    const char *name = path + dir_length;
    if (snprintf(file->path, sizeof file->path, "%s", path) >= (int)sizeof file->path
        || snprintf(file->temporary, sizeof file->temporary, "%.*s.%s.XXXXXX", dir_length, path,
                    name) >= (int)sizeof file->temporary) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    int fd = mkstemp(file->temporary);
    if (fd < 0)
        return NULL;
    /* mkstemp makes it 0600; a result file is for everyone to read. */
    fchmod(fd, 0644);
    file->stream = fdopen(fd, "w");
    if (file->stream == NULL) {
        int saved = errno;
        close(fd);
        unlink(file->temporary);
        errno = saved;
    }
    return file->stream;
}

bool atomic_file_commit(struct atomic_file *file)
{
    /* fsync: a crash just after the rename must not leave an empty file. */
    bool written = fflush(file->stream) == 0 && fsync(fileno(file->stream)) == 0;
    int saved = errno;
    if (fclose(file->stream) != 0 && written) {
        written = false;
        saved = errno;
    }
    file->stream = NULL;
    if (written && rename(file->temporary, file->path) == 0)
        return true;
    if (written)
        saved = errno;
    unlink(file->temporary);
    errno = saved;
    return false;
}

void atomic_file_abandon(struct atomic_file *file)
{
    if (file->stream != NULL)
        fclose(file->stream);
    file->stream = NULL;
    unlink(file->temporary);
}

bool atomic_json_dump(const char *program, const json_t *document, const char *path, size_t flags)
{
    struct atomic_file file;
    FILE *stream = atomic_file_open(&file, path);
    bool written = stream != NULL && json_dumpf(document, stream, flags) == 0;
    if (stream != NULL && !written)
        atomic_file_abandon(&file);
    else if (stream != NULL)
        written = atomic_file_commit(&file);
    if (!written)
        fprintf(stderr, "%s: cannot write %s: %s\n", program, path, strerror(errno));
    return written;
}
