/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xv-macro.h"
#include "xv-parse-util.h"

int safe_atou64_full(const char *s, unsigned base, uint64_t *ret) {
        unsigned long long v;
        char *end = NULL;

        if (!s || !*s || isspace((unsigned char) s[0]) || s[0] == '-' || s[0] == '+')
                return -EINVAL;

        errno = 0;
        v = strtoull(s, &end, (int) base);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || !end || *end != '\0' || end == s)
                return -EINVAL;

        *ret = (uint64_t) v;
        return 0;
}

int safe_atoi64_full(const char *s, unsigned base, int64_t *ret) {
        long long v;
        char *end = NULL;

        if (!s || !*s || isspace((unsigned char) s[0]) || s[0] == '+')
                return -EINVAL;

        errno = 0;
        v = strtoll(s, &end, (int) base);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || !end || *end != '\0' || end == s)
                return -EINVAL;

        *ret = (int64_t) v;
        return 0;
}

int safe_atou32_full(const char *s, unsigned base, uint32_t *ret) {
        uint64_t v;
        int r;

        r = safe_atou64_full(s, base, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

int safe_atoi32(const char *s, int32_t *ret) {
        int64_t v;
        int r;

        r = safe_atoi64(s, &v);
        if (r < 0)
                return r;
        if (v < INT32_MIN || v > INT32_MAX)
                return -ERANGE;
        *ret = (int32_t) v;
        return 0;
}

int safe_atou(const char *s, unsigned *ret) {
        uint32_t v;
        int r;

        r = safe_atou32(s, &v);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

int safe_atoi(const char *s, int *ret) {
        int32_t v;
        int r;

        r = safe_atoi32(s, &v);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

int parse_u64_prefix(const char *s, uint64_t *ret, const char **ret_end) {
        uint64_t v = 0;
        const char *p = s;

        if (!s || !isdigit((unsigned char) *s))
                return -EINVAL;

        for (; isdigit((unsigned char) *p); p++) {
                unsigned d = (unsigned) (*p - '0');

                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }

        *ret = v;
        if (ret_end)
                *ret_end = p;
        return 0;
}

int parse_scaled(uint64_t value, const char *unit, uint64_t default_unit, uint64_t *ret_bytes) {
        static const struct {
                const char *name;
                uint64_t factor;
        } units[] = {
                { "b", 1 }, { "byte", 1 }, { "bytes", 1 },
                { "k", 1ULL << 10 }, { "KiB", 1ULL << 10 }, { "KB", 1000ULL },
                { "M", 1ULL << 20 }, { "MiB", 1ULL << 20 }, { "MB", 1000ULL * 1000 },
                { "G", 1ULL << 30 }, { "GiB", 1ULL << 30 }, { "GB", 1000ULL * 1000 * 1000 },
                { "T", 1ULL << 40 }, { "TiB", 1ULL << 40 }, { "TB", 1000ULL * 1000 * 1000 * 1000 },
                { "P", 1ULL << 50 }, { "PiB", 1ULL << 50 }, { "PB", 1000ULL * 1000 * 1000 * 1000 * 1000 },
                { "E", 1ULL << 60 }, { "EiB", 1ULL << 60 }, { "EB", 1000ULL * 1000 * 1000 * 1000 * 1000 * 1000 },
        };
        uint64_t factor = 0;

        if (isempty(unit))
                factor = default_unit;
        else
                for (size_t i = 0; i < ELEMENTSOF(units); i++)
                        /* libvirt accepts the single-letter forms in either case ("k", "K"). */
                        if (streq(unit, units[i].name) ||
                            (strlen(units[i].name) == 1 && strcasecmp(unit, units[i].name) == 0)) {
                                factor = units[i].factor;
                                break;
                        }

        if (factor == 0)
                return -EINVAL;
        if (value > UINT64_MAX / factor)
                return -ERANGE;

        *ret_bytes = value * factor;
        return 0;
}

int unhexchar(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

int parse_boolean(const char *s) {
        if (!s)
                return -EINVAL;
        if (streq(s, "1") || strcasecmp(s, "yes") == 0 || strcasecmp(s, "on") == 0 ||
            strcasecmp(s, "true") == 0)
                return 1;
        if (streq(s, "0") || strcasecmp(s, "no") == 0 || strcasecmp(s, "off") == 0 ||
            strcasecmp(s, "false") == 0)
                return 0;
        return -EINVAL;
}
