/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define UUID_RAW_LEN 16
#define UUID_STRING_LEN 36              /* 8-4-4-4-12, without the terminating NUL */
#define UUID_STRING_BUF (UUID_STRING_LEN + 1)

typedef struct XvUuid {
        uint8_t bytes[UUID_RAW_LEN];
} XvUuid;

/* Accepts the dashed form (8-4-4-4-12) and the 32-digit form XenD and old libvirt wrote, in
 * either case, and libvirt's tolerance for dashes between any byte pairs. Surrounding blanks are
 * rejected. Returns 0 or -EINVAL. */
int uuid_from_string(const char *s, XvUuid *ret);

/* Formats in the canonical dashed lower-case form into @buf (UUID_STRING_BUF bytes); returns buf. */
char *uuid_format(const XvUuid *u, char buf[static UUID_STRING_BUF]);

/* Formats the 32 hex digits without dashes (XenD's spelling); @buf holds 33 bytes. */
char *uuid_format_compact(const XvUuid *u, char buf[static 33]);

bool uuid_is_zero(const XvUuid *u);
bool uuid_equal(const XvUuid *a, const XvUuid *b);

/* A random version-4 UUID from getrandom(). Returns 0 or a negative errno. */
int uuid_new_random(XvUuid *ret);
