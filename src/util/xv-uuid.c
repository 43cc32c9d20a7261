/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "xv-uuid.h"
#include "xv-parse-util.h"

int uuid_from_string(const char *s, XvUuid *ret) {
        XvUuid u;
        size_t i = 0;

        if (!s)
                return -EINVAL;

        /* libvirt's virUUIDParse() skips a dash before any byte; we do the same, so both
         * "4dea22b31d52d8f32516782e98ab3fa0" and the dashed form are accepted. */
        while (i < UUID_RAW_LEN) {
                int hi, lo;

                if (*s == '-' && i > 0)
                        s++;
                hi = unhexchar(s[0]);
                if (hi < 0)
                        return -EINVAL;
                lo = unhexchar(s[1]);
                if (lo < 0)
                        return -EINVAL;
                u.bytes[i++] = (uint8_t) (hi << 4 | lo);
                s += 2;
        }

        if (*s != '\0')
                return -EINVAL;

        *ret = u;
        return 0;
}

char *uuid_format(const XvUuid *u, char buf[static UUID_STRING_BUF]) {
        const uint8_t *b = u->bytes;

        (void) snprintf(buf, UUID_STRING_BUF,
                        "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                        b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                        b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
        return buf;
}

char *uuid_format_compact(const XvUuid *u, char buf[static 33]) {
        for (size_t i = 0; i < UUID_RAW_LEN; i++)
                (void) snprintf(buf + 2 * i, 3, "%02x", u->bytes[i]);
        return buf;
}

bool uuid_is_zero(const XvUuid *u) {
        for (size_t i = 0; i < UUID_RAW_LEN; i++)
                if (u->bytes[i])
                        return false;
        return true;
}

bool uuid_equal(const XvUuid *a, const XvUuid *b) {
        return memcmp(a->bytes, b->bytes, UUID_RAW_LEN) == 0;
}

int uuid_new_random(XvUuid *ret) {
        XvUuid u;
        ssize_t n;

        n = getrandom(u.bytes, sizeof(u.bytes), 0);
        if (n < 0)
                return -errno;
        if ((size_t) n != sizeof(u.bytes))
                return -EIO;

        u.bytes[6] = (u.bytes[6] & 0x0F) | 0x40;        /* version 4 */
        u.bytes[8] = (u.bytes[8] & 0x3F) | 0x80;        /* RFC 4122 variant */
        *ret = u;
        return 0;
}
