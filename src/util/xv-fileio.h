/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Reads a whole regular file, refusing anything larger than @max_size bytes (-EFBIG) before
 * allocating for it. The result is NUL-terminated; *ret_size (optional) excludes the NUL. */
int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size);

/* The temporary file of an atomic write of DIR/NAME is DIR/.NAME.xenvirt-XXXXXX: a dot-file, which
 * directory scans (the XM directory's among them) skip, so that a writer killed before its rename
 * leaves nothing that reads as a torn copy of NAME. */
#define ATOMIC_TMP_INFIX ".xenvirt-"
#define ATOMIC_TMP_SUFFIX_LEN 6u        /* the XXXXXX of mkostemp() */
/* How much longer than NAME the temporary file's name is. */
#define ATOMIC_TMP_NAME_EXTRA (1u + sizeof(ATOMIC_TMP_INFIX) - 1u + ATOMIC_TMP_SUFFIX_LEN)

/* Whether @filename (a name within a directory) is such a temporary file. */
bool atomic_tmp_name_is(const char *filename);

/* Writes @path atomically: a temporary file in the same directory, write, fsync, rename over the
 * target, fsync the directory. Readers see the old or the new content, never a mix; on any
 * failure the old file is intact and the temporary file is removed. */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);
