/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xv-alloc.h"
#include "xv-fileio.h"
#include "xv-hoststats.h"
#include "xv-parse-util.h"

#define XVD_MAJOR 202
#define XVD_EXTENDED (1 << 28)
#define XVD_EXTENDED_DISKS_MAX (1 << 20)        /* 20 bits of disk number in the extended scheme */
#define SECTOR_SIZE 512
#define NET_DEV_FIELDS 16                       /* 8 receive + 8 transmit columns */

static int stats_errorf(XvError *error, int r, xvp_error_code code, const char *format, ...) _printf_(4, 5);
static int stats_errorf(XvError *error, int r, xvp_error_code code, const char *format, ...) {
        va_list ap;

        if (!error || xv_error_is_set(error))
                return r;
        va_start(ap, format);
        (void) xv_error_setv(error, code, format, ap);
        va_end(ap);
        return xv_error_domain(error, XVP_FROM_STATS_LINUX, r);
}

/* Linux's disk letters: "a".."z" = 0..25, "aa".."zz" = 26..701 (bijective base 26). */
static int parse_disk_letters(const char *s, size_t n, unsigned *ret) {
        unsigned v = 0;

        if (n == 0 || n > 2)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < 'a' || s[i] > 'z')
                        return -EINVAL;
                v = v * 26 + (unsigned) (s[i] - 'a') + (i + 1 < n ? 1 : 0);
        }
        *ret = v;
        return 0;
}

/* An optional partition number: empty (0 = whole disk) or decimal without leading zeros. */
static int parse_partition(const char *s, unsigned *ret) {
        if (*s == '\0') {
                *ret = 0;
                return 0;
        }
        if (*s == '0' || strspn(s, "0123456789") != strlen(s) || strlen(s) > 3)
                return -EINVAL;
        return safe_atou(s, ret);
}

int hoststats_disk_devid(const char *path, int *ret) {
        /* Two IDE disks per major, in Linux's order (Documentation/admin-guide/devices.txt). */
        static const unsigned ide_majors[] = { 3, 22, 33, 34, 56, 57, 88, 89, 90, 91 };
        const char *letters;
        unsigned disk, part;
        size_t n;

        if (!path || !ret)
                return -EINVAL;
        if (strncmp(path, "/dev/", 5) == 0)
                path += 5;

        if (strncmp(path, "xvd", 3) == 0) {
                letters = path + 3;
                n = strspn(letters, "abcdefghijklmnopqrstuvwxyz");
                if (parse_disk_letters(letters, n, &disk) < 0 || parse_partition(letters + n, &part) < 0)
                        return -EINVAL;
                if (disk < 16 && part < 16)
                        *ret = (XVD_MAJOR << 8) | (int) (disk << 4) | (int) part;
                else if (disk < XVD_EXTENDED_DISKS_MAX && part < 256)
                        *ret = XVD_EXTENDED | (int) (disk << 8) | (int) part;
                else
                        return -EINVAL;
                return 0;
        }
        if (strncmp(path, "hd", 2) == 0) {
                letters = path + 2;
                n = strspn(letters, "abcdefghijklmnopqrstuvwxyz");
                if (n != 1 || parse_disk_letters(letters, n, &disk) < 0 || parse_partition(letters + n, &part) < 0 ||
                    disk >= 2 * ELEMENTSOF(ide_majors) || part >= 64)
                        return -EINVAL;
                *ret = (int) ((ide_majors[disk / 2] << 8) | ((disk % 2) * 64 + part));
                return 0;
        }
        if (strncmp(path, "sd", 2) == 0) {
                unsigned major;

                letters = path + 2;
                n = strspn(letters, "abcdefghijklmnopqrstuvwxyz");
                if (parse_disk_letters(letters, n, &disk) < 0 || parse_partition(letters + n, &part) < 0 ||
                    disk >= 256 || part >= 16)
                        return -EINVAL;
                /* sda-sdp: 8; then 16 disks per major in 65..71, then 128..135. */
                if (disk < 16)
                        major = 8;
                else if (disk < 128)
                        major = 65 + disk / 16 - 1;
                else
                        major = 128 + disk / 16 - 8;
                *ret = (int) ((major << 8) | ((disk % 16) * 16 + part));
                return 0;
        }
        return -EINVAL;
}

/* Reads one counter file: -ENOENT when missing, -EBADMSG when not a number. */
static int read_counter(const char *dir, const char *name, uint64_t *ret) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len = 0;
        int r;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        r = read_full_file(path, HOSTSTATS_COUNTER_MAX, &text, &len);
        if (r < 0)
                return r;
        if (len > 0 && text[len - 1] == '\n')
                text[--len] = '\0';
        if (safe_atou64(text, ret) < 0)
                return -EBADMSG;
        return 0;
}

int hoststats_block(const char *root, int domid, int devid, HvBlockStats *ret, XvError *error) {
        static const char *const bases[] = { "sys/bus/xen-backend/devices", "sys/devices/xen-backend" };
        static const char *const kinds[] = { "vbd", "tap" };

        if (!ret)
                return -EINVAL;
        if (domid < 0 || devid < 0)
                return stats_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Invalid device %d of domain %d", devid,
                                    domid);
        root = strempty(root);

        for (size_t b = 0; b < ELEMENTSOF(bases); b++)
                for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                        _cleanup_free_ char *dir = NULL;
                        uint64_t v[5];
                        bool found = false, have[5] = {};
                        static const char *const files[] = { "rd_req", "rd_sect", "wr_req", "wr_sect", "oo_req" };

                        if (asprintf(&dir, "%s/%s/%s-%d-%d/statistics", root, bases[b], kinds[k], domid, devid) < 0)
                                return -ENOMEM;
                        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                                int r = read_counter(dir, files[i], &v[i]);

                                if (r == -ENOENT)
                                        continue;
                                if (r == -ENOMEM)
                                        return r;
                                if (r < 0)
                                        return stats_errorf(error, r, XVP_ERR_OPERATION_FAILED,
                                                            "Cannot read %s/%s: %s", dir, files[i], strerror(-r));
                                /* Counters beyond int64 (the API's type) are garbage, and sectors must
                                 * convert to bytes. */
                                if (v[i] > INT64_MAX / SECTOR_SIZE)
                                        return stats_errorf(error, -ERANGE, XVP_ERR_OPERATION_FAILED,
                                                            "Counter %s/%s out of range", dir, files[i]);
                                have[i] = found = true;
                        }
                        if (!found)
                                continue;
                        *ret = (HvBlockStats) {
                                .rd_req = have[0] ? (int64_t) v[0] : -1,
                                .rd_bytes = have[1] ? (int64_t) v[1] * SECTOR_SIZE : -1,
                                .wr_req = have[2] ? (int64_t) v[2] : -1,
                                .wr_bytes = have[3] ? (int64_t) v[3] * SECTOR_SIZE : -1,
                                .errs = have[4] ? (int64_t) v[4] : -1,
                        };
                        return 0;
                }

        return stats_errorf(error, -ENOENT, XVP_ERR_OPERATION_FAILED,
                            "Block statistics of device %d of domain %d: no stats in this Xen", devid, domid);
}

int hoststats_block_by_path(const char *root, int domid, const char *path, HvBlockStats *ret, XvError *error) {
        int devid;

        if (hoststats_disk_devid(path, &devid) < 0)
                return stats_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG,
                                    "'%s' is not a guest disk name (xvdX, hdX or sdX)", strnull(path));
        return hoststats_block(root, domid, devid, ret, error);
}

/* "vif<domid>.<n>" for this domid. */
static int check_ifname(const char *ifname, int domid) {
        const char *dot;
        char buf[16];
        unsigned id, n;
        size_t len;

        if (!ifname || strncmp(ifname, "vif", 3) != 0)
                return -EINVAL;
        dot = strchr(ifname + 3, '.');
        if (!dot)
                return -EINVAL;
        len = (size_t) (dot - ifname - 3);
        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, ifname + 3, len);
        buf[len] = '\0';
        /* Decimal without leading zeros, as the kernel names the device. */
        if (strspn(buf, "0123456789") != len || (buf[0] == '0' && len > 1) || safe_atou(buf, &id) < 0 ||
            (int) id != domid)
                return -EINVAL;
        if (dot[1] == '\0' || strspn(dot + 1, "0123456789") != strlen(dot + 1) || (dot[1] == '0' && dot[2]) ||
            safe_atou(dot + 1, &n) < 0)
                return -EINVAL;
        return 0;
}

/* Parses the 16 counters after "name:" into @v. */
static int parse_net_dev_fields(const char *s, size_t len, uint64_t v[static NET_DEV_FIELDS]) {
        size_t i = 0, n = 0;

        while (i < len) {
                char buf[24];
                size_t start;

                while (i < len && (s[i] == ' ' || s[i] == '\t'))
                        i++;
                if (i >= len)
                        break;
                start = i;
                while (i < len && s[i] != ' ' && s[i] != '\t')
                        i++;
                if (n >= NET_DEV_FIELDS || i - start >= sizeof(buf))
                        return -EINVAL;
                memcpy(buf, s + start, i - start);
                buf[i - start] = '\0';
                if (safe_atou64(buf, &v[n]) < 0 || v[n] > INT64_MAX)
                        return -EINVAL;
                n++;
        }
        return n == NET_DEV_FIELDS ? 0 : -EINVAL;
}

int hoststats_parse_net_dev(const char *text, size_t len, const char *ifname, HvInterfaceStats *ret) {
        size_t pos = 0, iflen;

        if (!text || !ifname || !ret)
                return -EINVAL;
        iflen = strlen(ifname);
        if (iflen == 0)
                return -EINVAL;

        while (pos < len) {
                const char *line = text + pos, *nl, *colon, *name;
                size_t line_len, name_len;
                uint64_t v[NET_DEV_FIELDS];

                nl = memchr(line, '\n', len - pos);
                line_len = nl ? (size_t) (nl - line) : len - pos;
                pos += line_len + 1;
                if (memchr(line, '\0', line_len))
                        return -EINVAL;

                colon = memchr(line, ':', line_len);
                if (!colon)
                        continue;       /* the two header lines */
                name = line;
                while (name < colon && (*name == ' ' || *name == '\t'))
                        name++;
                name_len = (size_t) (colon - name);
                if (name_len != iflen || memcmp(name, ifname, iflen) != 0)
                        continue;

                if (parse_net_dev_fields(colon + 1, line_len - (size_t) (colon + 1 - line), v) < 0)
                        return -EINVAL;
                /* The counters are the host's side of the vif: what the host receives, the guest
                 * transmitted. */
                *ret = (HvInterfaceStats) {
                        .rx_bytes = (int64_t) v[8],
                        .rx_packets = (int64_t) v[9],
                        .rx_errs = (int64_t) v[10],
                        .rx_drop = (int64_t) v[11],
                        .tx_bytes = (int64_t) v[0],
                        .tx_packets = (int64_t) v[1],
                        .tx_errs = (int64_t) v[2],
                        .tx_drop = (int64_t) v[3],
                };
                return 0;
        }
        return -ENOENT;
}

int hoststats_interface(const char *root, int domid, const char *ifname, HvInterfaceStats *ret,
                        XvError *error) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len = 0;
        int r;

        if (!ret)
                return -EINVAL;
        /* Custom vifnames are not resolved: the device must be named after the domain id, as
         * the vif-bridge script names it by default. */
        if (domid < 0 || check_ifname(ifname, domid) < 0)
                return stats_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG,
                                    "Invalid interface '%s' for domain %d (expected vif%d.N)", strnull(ifname), domid,
                                    domid);
        if (asprintf(&path, "%s/proc/net/dev", strempty(root)) < 0)
                return -ENOMEM;
        r = read_full_file(path, HOSTSTATS_NET_DEV_MAX, &text, &len);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return stats_errorf(error, r, XVP_ERR_OPERATION_FAILED, "Cannot read %s: %s", path, strerror(-r));
        r = hoststats_parse_net_dev(text, len, ifname, ret);
        if (r == -ENOENT)
                return stats_errorf(error, r, XVP_ERR_INVALID_ARG, "No interface '%s' on this host", ifname);
        if (r < 0)
                return stats_errorf(error, r, XVP_ERR_OPERATION_FAILED, "Malformed line for '%s' in %s", ifname,
                                    path);
        return 0;
}
