/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Reads a whole regular file, refusing anything larger than @max_size bytes (-EFBIG) before
 * allocating for it. The result is NUL-terminated; *ret_size (optional) excludes the NUL. */
int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size);

/* Writes @path atomically: a temporary file in the same directory, write, fsync, rename over the
 * target, fsync the directory. Readers see the old or the new content, never a mix; on any
 * failure the old file is intact and the temporary file is removed. */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);
