/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-fileio.h"

int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, allocated = 0;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t) st.st_size > max_size)
                return -EFBIG;

        /* The size may change while we read (or be 0 for procfs-like files): read until EOF,
         * but never past the limit. */
        for (;;) {
                ssize_t n;

                if (GREEDY_REALLOC(buf, allocated, MIN(len + 4096, max_size + 1) + 1) < 0)
                        return -ENOMEM;
                n = read(fd, buf + len, MIN(allocated - len - 1, max_size + 1 - len));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max_size)
                        return -EFBIG;
        }

        if (!buf) {
                buf = strdup("");
                if (!buf)
                        return -ENOMEM;
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = len;
        return 0;
}

static int write_all(int fd, const void *data, size_t size) {
        const char *p = data;

        while (size > 0) {
                ssize_t n = write(fd, p, size);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                size -= (size_t) n;
        }
        return 0;
}

bool atomic_tmp_name_is(const char *filename) {
        const char *infix;

        if (filename[0] != '.')
                return false;
        infix = strstr(filename + 1, ATOMIC_TMP_INFIX);
        return infix && infix > filename + 1 && strlen(infix + strlen(ATOMIC_TMP_INFIX)) == ATOMIC_TMP_SUFFIX_LEN;
}

int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode) {
        _cleanup_free_ char *tmp = NULL, *dircopy = NULL;
        _cleanup_close_ int fd = -EBADF, dfd = -EBADF;
        const char *base = strrchr(path, '/');
        int r;

        /* DIR/.NAME.xenvirt-XXXXXX (see ATOMIC_TMP_INFIX). */
        if (asprintf(&tmp, "%.*s.%s" ATOMIC_TMP_INFIX "XXXXXX", base ? (int) (base - path + 1) : 0, path,
                     base ? base + 1 : path) < 0)
                return -ENOMEM;
        dircopy = strdup(path);
        if (!dircopy)
                return -ENOMEM;

        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;

        r = write_all(fd, data, size);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }

        /* The rename is durable only once the directory entry is on disk. */
        dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) fsync(dfd);
        return 0;
}
