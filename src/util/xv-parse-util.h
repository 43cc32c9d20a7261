/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Number parsing that rejects what atoi() and bare strtol() silently accept: empty strings,
 * trailing garbage, leading blanks, signs on unsigned values, overflow. All return 0 or a
 * negative errno (-EINVAL for syntax, -ERANGE for overflow) and write *ret on success only.
 * Base 10, except where "base" is given (0 = C prefixes 0x and 0 allowed). */
int safe_atou64_full(const char *s, unsigned base, uint64_t *ret);
int safe_atoi64_full(const char *s, unsigned base, int64_t *ret);

static inline int safe_atou64(const char *s, uint64_t *ret) {
        return safe_atou64_full(s, 10, ret);
}
static inline int safe_atoi64(const char *s, int64_t *ret) {
        return safe_atoi64_full(s, 10, ret);
}
int safe_atou32_full(const char *s, unsigned base, uint32_t *ret);
static inline int safe_atou32(const char *s, uint32_t *ret) {
        return safe_atou32_full(s, 10, ret);
}
int safe_atoi32(const char *s, int32_t *ret);
int safe_atou(const char *s, unsigned *ret);
int safe_atoi(const char *s, int *ret);

/* Parses a leading unsigned decimal number (up to the first non-digit), stores the rest in *ret_end.
 * At least one digit is required. */
int parse_u64_prefix(const char *s, uint64_t *ret, const char **ret_end);

/* Scales @value by a libvirt-style unit ("b", "bytes", "k", "KiB", "KB", "M", "MiB", "MB", "G",
 * "GiB", "GB", "T", "TiB", "TB", and "P"/"E" likewise; NULL or "" means @default_unit) into
 * bytes. Overflow is -ERANGE, an unknown unit -EINVAL. */
int parse_scaled(uint64_t value, const char *unit, uint64_t default_unit, uint64_t *ret_bytes);

/* The value of one hexadecimal digit (either case), or -EINVAL. */
int unhexchar(char c);

/* "yes"/"no", "on"/"off", "1"/"0", "true"/"false". */
int parse_boolean(const char *s);
