/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxl_utils.h>

#include "xv-alloc.h"
#include "xv-libxl-domcfg.h"
#include "xv-log.h"
#include "xv-parse-util.h"
#include "xv-strbuf.h"
#include "xv-xen-chr.h"
#include "xv-xen-domain.h"

/* The first VNC display's TCP port. */
#define VNC_PORT_BASE 5900
#define VNC_PORT_MAX 65535
/* xl's default credit interval for a rate-limited vif; 1 s when the rate in KiB/s does not divide
 * evenly into it, so that the rate reads back exactly. */
#define NIC_RATE_INTERVAL_USECS UINT32_C(50000)
#define NIC_RATE_INTERVAL_EXACT_USECS UINT32_C(1000000)
/* <os><type machine='xenpvh'>: libvirt's spelling of a PVH guest. */
#define MACHINE_PVH "xenpvh"
/* libxl finds its own pygrub (in Xen's private bin directory) when given the bare name. */
#define PYGRUB "pygrub"
/* The PCI address ranges a <hostdev> may name. */
#define PCI_DOMAIN_MAX 0xffffu
#define PCI_BUS_MAX 0xffu
#define PCI_SLOT_MAX 0x1fu
#define PCI_FUNC_MAX 0x7u

static int domcfg_error(XvError *error, xvp_error_code code, const char *format, ...) _printf_(3, 4);
static int domcfg_error(XvError *error, xvp_error_code code, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = xv_error_setv(error, code, format, ap);
        va_end(ap);
        return xv_error_domain(error, XVP_FROM_LIBXL, r);
}
#ifdef __clang_analyzer__
/* The analyzer does not follow variadic functions: tell it that this one returns a negative errno. */
#  define domcfg_error(...) XV_ERROR_NEGATIVE_((domcfg_error)(__VA_ARGS__))
#endif

#define unsupported(error, ...) domcfg_error((error), XVP_ERR_CONFIG_UNSUPPORTED, __VA_ARGS__)

static int dup_string(const char *s, char **ret) {
        char *p = NULL;

        if (s) {
                p = strdup(s);
                if (!p)
                        return -ENOMEM;
        }
        free(*ret);
        *ret = p;
        return 0;
}

/* A string coming from libxl (possibly from a configuration xl wrote): bounded before copying. */
static int dup_bounded(const char *s, const char *what, char **ret, XvError *error) {
        if (s && strnlen(s, DOMCFG_STRING_MAX + 1) > DOMCFG_STRING_MAX)
                return domcfg_error(error, XVP_ERR_OVERFLOW, "libxl configuration: %s longer than %d bytes",
                                    what, DOMCFG_STRING_MAX);
        return dup_string(s, ret);
}

static const char *basename_of(const char *path) {
        const char *s = strrchr(path, '/');

        return s ? s + 1 : path;
}

/* ------------------------------------------------------------------------------------------ */
/* Bitmaps: allocated with calloc(), which libxl_bitmap_dispose() frees. */

static int bitmap_alloc(libxl_bitmap *b, unsigned bits) {
        size_t bytes = bits / 8 + 1;

        libxl_bitmap_init(b);
        b->map = calloc(bytes, 1);
        if (!b->map)
                return -ENOMEM;
        b->size = (uint32_t) bytes;
        return 0;
}

static void bitmap_set_bit(libxl_bitmap *b, unsigned bit) {
        if (bit / 8 < b->size)
                b->map[bit / 8] |= (uint8_t) (1u << (bit % 8));
}

static bool bitmap_bit(const libxl_bitmap *b, unsigned bit) {
        return bit / 8 < b->size && (b->map[bit / 8] & (1u << (bit % 8)));
}

static unsigned bitmap_bits(const libxl_bitmap *b) {
        return MIN(b->size, DOMCFG_CPUMAP_BITS_MAX / 8) * 8;
}

/* Parses @s into @map (DOMCFG_CPUMAP_BITS_MAX bytes, one per cpu); -EINVAL when malformed. */
static int cpuset_parse_bytes(const char *s, uint8_t *map) {
        const char *p = s;
        int r;

        for (;;) {
                bool negate = false;
                uint64_t a, z;
                const char *end;

                while (*p == ' ' || *p == '\t')
                        p++;
                if (*p == '^') {
                        negate = true;
                        p++;
                }
                r = parse_u64_prefix(p, &a, &end);
                if (r < 0)
                        return -EINVAL;
                p = end;
                z = a;
                if (*p == '-' && !negate) {
                        r = parse_u64_prefix(p + 1, &z, &end);
                        if (r < 0)
                                return -EINVAL;
                        p = end;
                }
                if (a > z || z >= DOMCFG_CPUMAP_BITS_MAX)
                        return -EINVAL;
                for (uint64_t i = a; i <= z; i++)
                        map[i] = !negate;

                while (*p == ' ' || *p == '\t')
                        p++;
                if (*p == '\0')
                        return 0;
                if (*p != ',')
                        return -EINVAL;
                p++;
        }
}

int domcfg_cpuset_parse(const char *s, unsigned min_bits, libxl_bitmap *ret, XvError *error) {
        _cleanup_free_ uint8_t *map = NULL;
        unsigned highest = 0;
        bool any = false;
        int r;

        libxl_bitmap_init(ret);
        if (min_bits > DOMCFG_CPUMAP_BITS_MAX)
                return domcfg_error(error, XVP_ERR_INVALID_ARG, "CPU map of %u bits is too large", min_bits);
        map = new0(uint8_t, DOMCFG_CPUMAP_BITS_MAX);
        if (!map)
                return -ENOMEM;

        r = cpuset_parse_bytes(s, map);
        for (unsigned i = 0; r >= 0 && i < DOMCFG_CPUMAP_BITS_MAX; i++)
                if (map[i]) {
                        highest = i;
                        any = true;
                }
        if (r < 0 || !any)
                return unsupported(error, "cpuset '%s' is not a valid CPU set", s);

        r = bitmap_alloc(ret, MAX(highest + 1, min_bits));
        if (r < 0)
                return r;
        for (unsigned i = 0; i <= highest; i++)
                if (map[i])
                        bitmap_set_bit(ret, i);
        return 0;
}

int domcfg_cpuset_format(const libxl_bitmap *map, char **ret) {
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        unsigned n = bitmap_bits(map);
        bool any = false;

        for (unsigned i = 0; i < n; i++) {
                unsigned j;

                if (!bitmap_bit(map, i))
                        continue;
                for (j = i; j + 1 < n && bitmap_bit(map, j + 1); j++)
                        ;
                if (any)
                        strbuf_appendc(&b, ',');
                if (j == i)
                        strbuf_appendf(&b, "%u", i);
                else
                        strbuf_appendf(&b, "%u-%u", i, j);
                any = true;
                i = j;
        }
        if (!any)
                return -ENOENT;
        return strbuf_steal(&b, ret);
}

static bool bitmap_all_set(const libxl_bitmap *b) {
        if (b->size == 0)
                return false;
        for (uint32_t i = 0; i < b->size; i++)
                if (b->map[i] != 0xff)
                        return false;
        return true;
}

/* ------------------------------------------------------------------------------------------ */
/* String lists (NULL-terminated, malloc()ed: libxl_string_list_dispose() frees them). */

static int string_list_split(const char *s, size_t max, libxl_string_list *ret, XvError *error) {
        _cleanup_strv_free_ char **l = NULL;
        const char *p = s;
        size_t n = 0;
        int r;

        for (;;) {
                size_t len;

                p += strspn(p, " \t\n");
                if (*p == '\0')
                        break;
                len = strcspn(p, " \t\n");
                if (++n > max)
                        return unsupported(error, "more than %zu words in '%s'", max, s);
                r = strv_push(&l, strndup(p, len));
                if (r < 0)
                        return r;
                p += len;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int string_list_join(char *const *l, const char *sep, size_t max, const char *what,
                            char **ret, XvError *error) {
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        size_t n = 0;

        if (!l || !l[0]) {
                *ret = NULL;
                return 0;
        }
        b.limit = DOMCFG_STRING_MAX;
        for (char * const *s = l; *s; s++) {
                if (++n > max)
                        return domcfg_error(error, XVP_ERR_OVERFLOW, "libxl configuration: more than %zu %s",
                                            max, what);
                if (s != l)
                        strbuf_append(&b, sep);
                strbuf_append(&b, *s);
        }
        if (b.error == -E2BIG)
                return domcfg_error(error, XVP_ERR_OVERFLOW, "libxl configuration: %s longer than %d bytes",
                                    what, DOMCFG_STRING_MAX);
        return strbuf_steal(&b, ret);
}

/* ------------------------------------------------------------------------------------------ */
/* Lifecycle actions: the same six values on both sides. */

static int action_to_libxl(DomainLifecycleAction a, libxl_action_on_shutdown *ret) {
        static const libxl_action_on_shutdown map[_DOMAIN_LIFECYCLE_ACTION_MAX] = {
                [DOMAIN_LIFECYCLE_DESTROY] = LIBXL_ACTION_ON_SHUTDOWN_DESTROY,
                [DOMAIN_LIFECYCLE_RESTART] = LIBXL_ACTION_ON_SHUTDOWN_RESTART,
                [DOMAIN_LIFECYCLE_RENAME_RESTART] = LIBXL_ACTION_ON_SHUTDOWN_RESTART_RENAME,
                [DOMAIN_LIFECYCLE_PRESERVE] = LIBXL_ACTION_ON_SHUTDOWN_PRESERVE,
                [DOMAIN_LIFECYCLE_COREDUMP_DESTROY] = LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_DESTROY,
                [DOMAIN_LIFECYCLE_COREDUMP_RESTART] = LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_RESTART,
        };

        if ((int) a < 0 || a >= _DOMAIN_LIFECYCLE_ACTION_MAX)
                return -EINVAL;
        *ret = map[a];
        return 0;
}

static int action_from_libxl(libxl_action_on_shutdown a, DomainLifecycleAction *ret) {
        switch (a) {
        case LIBXL_ACTION_ON_SHUTDOWN_DESTROY:
                *ret = DOMAIN_LIFECYCLE_DESTROY;
                return 0;
        case LIBXL_ACTION_ON_SHUTDOWN_RESTART:
                *ret = DOMAIN_LIFECYCLE_RESTART;
                return 0;
        case LIBXL_ACTION_ON_SHUTDOWN_RESTART_RENAME:
                *ret = DOMAIN_LIFECYCLE_RENAME_RESTART;
                return 0;
        case LIBXL_ACTION_ON_SHUTDOWN_PRESERVE:
                *ret = DOMAIN_LIFECYCLE_PRESERVE;
                return 0;
        case LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_DESTROY:
                *ret = DOMAIN_LIFECYCLE_COREDUMP_DESTROY;
                return 0;
        case LIBXL_ACTION_ON_SHUTDOWN_COREDUMP_RESTART:
                *ret = DOMAIN_LIFECYCLE_COREDUMP_RESTART;
                return 0;
        default:
                return -EINVAL;
        }
}

/* ------------------------------------------------------------------------------------------ */
/* Disks */

static int disk_format_from_def(const DomainDisk *d, libxl_disk_format *ret, XvError *error) {
        const char *t = d->driver_type;

        if (!d->src) {
                *ret = LIBXL_DISK_FORMAT_EMPTY;
                return 0;
        }
        if (!t || streq(t, "raw") || streq(t, "aio"))
                *ret = LIBXL_DISK_FORMAT_RAW;
        else if (streq(t, "qcow"))
                *ret = LIBXL_DISK_FORMAT_QCOW;
        else if (streq(t, "qcow2"))
                *ret = LIBXL_DISK_FORMAT_QCOW2;
        else if (streq(t, "vhd"))
                *ret = LIBXL_DISK_FORMAT_VHD;
        else if (streq(t, "qed"))
                *ret = LIBXL_DISK_FORMAT_QED;
        else
                return unsupported(error, "disk '%s': driver type '%s' is not supported by libxl",
                                   strnull(d->dst), t);
        return 0;
}

static int disk_backend_from_def(const DomainDisk *d, libxl_disk_backend *ret, XvError *error) {
        const char *n = d->driver_name;

        /* Without a driver name libxl picks: blkback for a block device, qdisk for an image. */
        if (!n)
                *ret = LIBXL_DISK_BACKEND_UNKNOWN;
        else if (streq(n, "phy"))
                *ret = LIBXL_DISK_BACKEND_PHY;
        else if (streq(n, "file") || streq(n, "qemu") || streq(n, "qdisk"))
                /* xend's loop-mounted "file:" has no libxl equivalent: QEMU's disk backend serves
                 * images, as libvirt's libxl driver does for both names. */
                *ret = LIBXL_DISK_BACKEND_QDISK;
        else if (streq(n, "tap") || streq(n, "tap2"))
                *ret = LIBXL_DISK_BACKEND_TAP;
        else
                return unsupported(error, "disk '%s': driver name '%s' is not supported by libxl",
                                   strnull(d->dst), n);
        return 0;
}

int domcfg_disk_from_def(libxl_ctx *ctx _unused_, const DomainDisk *d, bool hvm _unused_,
                         libxl_device_disk *ret, XvError *error) {
        const char *dst;
        int r;

        libxl_device_disk_init(ret);

        if (isempty(d->dst))
                return domcfg_error(error, XVP_ERR_NO_TARGET, "Missing disk target");
        /* Hand-written XML sometimes carries xend's legacy marker in the target name itself. */
        dst = strncmp(d->dst, "ioemu:", 6) == 0 ? d->dst + 6 : d->dst;
        if (!xen_disk_target_valid(dst))
                return unsupported(error, "disk target '%s' is not a Xen virtual device name", d->dst);
        if (d->device == DOMAIN_DISK_DEVICE_FLOPPY)
                return unsupported(error, "disk '%s': floppy disks are not supported by libxl", d->dst);
        if (d->transient)
                return unsupported(error, "disk '%s': transient disks are not supported by libxl", d->dst);
        if (d->bus == DOMAIN_DISK_BUS_USB || d->bus == DOMAIN_DISK_BUS_VIRTIO ||
            d->bus == DOMAIN_DISK_BUS_FDC)
                return unsupported(error, "disk '%s': bus '%s' is not supported by libxl", d->dst,
                                   strnull(domain_disk_bus_to_string(d->bus)));
        if (!d->src && d->device != DOMAIN_DISK_DEVICE_CDROM)
                return domcfg_error(error, XVP_ERR_NO_SOURCE, "disk '%s' has no source", d->dst);
        /* libxl never refuses a disk that another domain also has open, so <shareable/> is what
         * it does anyway; it has no flag to carry it. */
        if (d->shareable)
                log_debug("disk '%s': shareable is implicit with libxl", d->dst);

        r = disk_format_from_def(d, &ret->format, error);
        if (r < 0)
                return r;
        r = disk_backend_from_def(d, &ret->backend, error);
        if (r < 0)
                return r;
        r = dup_string(d->src, &ret->pdev_path);
        if (r < 0)
                return r;
        r = dup_string(dst, &ret->vdev);
        if (r < 0)
                return r;
        ret->readwrite = !d->readonly && d->device != DOMAIN_DISK_DEVICE_CDROM;
        ret->is_cdrom = d->device == DOMAIN_DISK_DEVICE_CDROM;
        ret->removable = ret->is_cdrom;
        return 0;
}

int domcfg_disk_to_def(const libxl_device_disk *x, DomainDisk *ret, XvError *error) {
        _cleanup_(domain_disk_done) DomainDisk d = {};
        const char *name = NULL, *type = NULL;
        int r;

        *ret = (DomainDisk) {};
        if (isempty(x->vdev))
                return domcfg_error(error, XVP_ERR_INTERNAL, "libxl configuration: a disk without a vdev");

        d.device = x->is_cdrom ? DOMAIN_DISK_DEVICE_CDROM : DOMAIN_DISK_DEVICE_DISK;
        d.readonly = !x->readwrite || x->is_cdrom;
        d.bus = DOMAIN_DISK_BUS_DEFAULT;

        switch (x->backend) {
        case LIBXL_DISK_BACKEND_PHY:
                name = "phy";
                break;
        case LIBXL_DISK_BACKEND_QDISK:
                name = "qemu";
                break;
        case LIBXL_DISK_BACKEND_TAP:
                name = "tap";
                break;
        default:
                break;
        }
        switch (x->format) {
        case LIBXL_DISK_FORMAT_QCOW:
                type = "qcow";
                break;
        case LIBXL_DISK_FORMAT_QCOW2:
                type = "qcow2";
                break;
        case LIBXL_DISK_FORMAT_VHD:
                type = "vhd";
                break;
        case LIBXL_DISK_FORMAT_QED:
                type = "qed";
                break;
        case LIBXL_DISK_FORMAT_RAW:
                /* Raw is what an image without a type is: say it only with a driver name, as
                 * libvirt does. */
                if (name)
                        type = "raw";
                break;
        default:
                break;
        }

        r = dup_bounded(x->vdev, "disk vdev", &d.dst, error);
        if (r < 0)
                return r;
        if (x->format != LIBXL_DISK_FORMAT_EMPTY && !isempty(x->pdev_path)) {
                r = dup_bounded(x->pdev_path, "disk path", &d.src, error);
                if (r < 0)
                        return r;
        }
        /* A block device is what blkback serves from /dev; everything else is an image file. */
        d.type = d.src && strncmp(d.src, "/dev/", 5) == 0 && x->backend != LIBXL_DISK_BACKEND_QDISK ?
                DOMAIN_DISK_TYPE_BLOCK : DOMAIN_DISK_TYPE_FILE;
        r = dup_string(name, &d.driver_name);
        if (r < 0)
                return r;
        r = dup_string(type, &d.driver_type);
        if (r < 0)
                return r;
        *ret = d;
        d = (DomainDisk) {};
        return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* NICs */

static int join_ips(char * const *ips, char **ret, XvError *error) {
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        size_t n = strv_length(ips);

        if (n == 0) {
                *ret = NULL;
                return 0;
        }
        if (n > DOMCFG_IPS_MAX)
                return unsupported(error, "more than %d IP addresses on one interface", DOMCFG_IPS_MAX);
        STRV_FOREACH(ip, ips) {
                if (ip != ips)
                        strbuf_appendc(&b, ' ');
                strbuf_append(&b, *ip);
        }
        return strbuf_steal(&b, ret);
}

int domcfg_nic_from_def(libxl_ctx *ctx _unused_, const DomainNet *n, bool hvm, libxl_device_nic *ret,
                        XvError *error) {
        int r;

        libxl_device_nic_init(ret);

        switch (n->type) {
        case DOMAIN_NET_TYPE_BRIDGE:
                r = dup_string(n->bridge, &ret->bridge);
                if (r < 0)
                        return r;
                break;
        case DOMAIN_NET_TYPE_ETHERNET:
                /* The legacy <source dev> of a routed interface is vif-route's outgoing device. */
                r = dup_string(n->source_dev, &ret->gatewaydev);
                if (r < 0)
                        return r;
                break;
        default:
                /* libvirt resolves a network to its bridge through its network driver; xenvirtd
                 * has none to ask. */
                return unsupported(error, "interface of type '%s' is not supported by libxl; use a bridge",
                                   strnull(domain_net_type_to_string(n->type)));
        }

        if (n->has_mac)
                memcpy(ret->mac, n->mac, sizeof(ret->mac));
        r = dup_string(n->script, &ret->script);
        if (r < 0)
                return r;
        r = dup_string(n->ifname, &ret->ifname);
        if (r < 0)
                return r;
        r = join_ips(n->ips, &ret->ip, error);
        if (r < 0)
                return r;

        if (hvm && !streq_ptr(n->model, "netfront")) {
                /* An emulated NIC (with its PV twin): the model names QEMU's device. */
                ret->nictype = LIBXL_NIC_TYPE_VIF_IOEMU;
                r = dup_string(n->model, &ret->model);
        } else {
                ret->nictype = LIBXL_NIC_TYPE_VIF;
                /* libxl ignores the model of a PV NIC; it is kept for the way back. */
                r = dup_string(hvm ? NULL : n->model, &ret->model);
        }
        if (r < 0)
                return r;

        if (n->rate_average > 0) {
                if (n->rate_average > UINT64_MAX / 1024)
                        return unsupported(error, "interface bandwidth %" PRIu64 " KiB/s is too large",
                                           n->rate_average);
                if (n->rate_average * 1024 % (NIC_RATE_INTERVAL_EXACT_USECS / NIC_RATE_INTERVAL_USECS) == 0) {
                        ret->rate_interval_usecs = NIC_RATE_INTERVAL_USECS;
                        ret->rate_bytes_per_interval = n->rate_average * 1024 /
                                (NIC_RATE_INTERVAL_EXACT_USECS / NIC_RATE_INTERVAL_USECS);
                } else {
                        ret->rate_interval_usecs = NIC_RATE_INTERVAL_EXACT_USECS;
                        ret->rate_bytes_per_interval = n->rate_average * 1024;
                }
        }
        return 0;
}

static bool mac_is_zero(const libxl_mac mac) {
        for (size_t i = 0; i < 6; i++)
                if (mac[i])
                        return false;
        return true;
}

int domcfg_nic_to_def(const libxl_device_nic *x, DomainNet *ret, XvError *error) {
        _cleanup_(domain_net_done) DomainNet n = {};
        int r;

        *ret = (DomainNet) {};
        n.type = x->bridge ? DOMAIN_NET_TYPE_BRIDGE : DOMAIN_NET_TYPE_ETHERNET;
        if (!mac_is_zero(x->mac)) {
                n.has_mac = true;
                memcpy(n.mac, x->mac, sizeof(n.mac));
        }
        r = dup_bounded(x->bridge, "nic bridge", &n.bridge, error);
        if (r < 0)
                return r;
        if (!x->bridge) {
                r = dup_bounded(x->gatewaydev, "nic gatewaydev", &n.source_dev, error);
                if (r < 0)
                        return r;
        }
        r = dup_bounded(x->script, "nic script", &n.script, error);
        if (r < 0)
                return r;
        r = dup_bounded(x->ifname, "nic ifname", &n.ifname, error);
        if (r < 0)
                return r;
        r = dup_bounded(x->model, "nic model", &n.model, error);
        if (r < 0)
                return r;
        if (x->ip) {
                if (strnlen(x->ip, DOMCFG_STRING_MAX + 1) > DOMCFG_STRING_MAX)
                        return domcfg_error(error, XVP_ERR_OVERFLOW, "libxl configuration: nic ip too long");
                r = string_list_split(x->ip, DOMCFG_IPS_MAX, &n.ips, error);
                if (r < 0)
                        return r;
        }
        if (x->rate_bytes_per_interval > 0 && x->rate_interval_usecs > 0) {
                /* bytes per interval → KiB/s, without overflowing for absurd values. */
                long double kib = (long double) x->rate_bytes_per_interval * 1e6L /
                        (long double) x->rate_interval_usecs / 1024.0L;

                n.rate_average = kib >= (long double) UINT64_MAX ? UINT64_MAX : (uint64_t) (kib + 0.5L);
        }
        *ret = n;
        n = (DomainNet) {};
        return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* From the model */

static int from_def_vcpus(const DomainDef *def, libxl_domain_build_info *b, XvError *error) {
        unsigned current = domain_def_current_vcpus(def);
        int r;

        if (def->vcpus < 1 || def->vcpus > DOMCFG_VCPUS_MAX || current > def->vcpus)
                return domcfg_error(error, XVP_ERR_INVALID_ARG, "invalid vcpu count %u (current %u)",
                                    def->vcpus, current);
        b->max_vcpus = (int) def->vcpus;
        r = bitmap_alloc(&b->avail_vcpus, def->vcpus);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < current; i++)
                bitmap_set_bit(&b->avail_vcpus, i);

        if (def->cpuset) {
                libxl_bitmap_dispose(&b->cpumap);
                r = domcfg_cpuset_parse(def->cpuset, 0, &b->cpumap, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int from_def_clock(const DomainDef *def, bool hvm, libxl_domain_build_info *b, XvError *error) {
        long long offset = 0;
        int localtime = 0, r;

        r = xen_domain_clock_to_xen(&def->clock, hvm, &localtime, &offset, error);
        if (r < 0)
                return xv_error_domain(error, XVP_FROM_LIBXL, r);
        libxl_defbool_set(&b->localtime, localtime);
        if (hvm) {
                if (offset < INT32_MIN || offset > INT32_MAX)
                        return unsupported(error, "clock adjustment %lld s is out of range", offset);
                /* libxl keeps the signed offset in an unsigned field, as xl does. */
                b->rtc_timeoffset = (uint32_t) (int32_t) offset;
        }

        for (size_t i = 0; i < def->clock.n_timers; i++) {
                const DomainTimer *t = &def->clock.timers[i];

                if (streq_ptr(t->name, "hpet") && hvm) {
                        if (t->present != DOMAIN_TRISTATE_ABSENT)
                                libxl_defbool_set(&b->u.hvm.hpet, t->present == DOMAIN_TRISTATE_YES);
                } else if (streq_ptr(t->name, "tsc")) {
                        if (!t->mode || streq(t->mode, "auto"))
                                b->tsc_mode = LIBXL_TSC_MODE_DEFAULT;
                        else if (streq(t->mode, "native"))
                                b->tsc_mode = LIBXL_TSC_MODE_NATIVE;
                        else if (streq(t->mode, "emulate"))
                                b->tsc_mode = LIBXL_TSC_MODE_ALWAYS_EMULATE;
                        else if (streq(t->mode, "paravirt"))
                                b->tsc_mode = LIBXL_TSC_MODE_NATIVE_PARAVIRT;
                        else
                                return unsupported(error, "tsc timer mode '%s' is not supported by libxl", t->mode);
                } else
                        return unsupported(error, "timer '%s' is not supported by libxl%s", strnull(t->name),
                                           hvm ? "" : " for a PV guest");
        }
        return 0;
}

static int from_def_pv_boot(const DomainDef *def, libxl_domain_build_info *b, XvError *error) {
        int r;

        if (def->bootloader) {
                /* An empty <bootloader/> means "the default one"; any path to pygrub means Xen's own
                 * pygrub, which libxl finds in its private bin directory given the bare name. */
                const char *bl = isempty(def->bootloader) || streq(basename_of(def->bootloader), PYGRUB) ?
                        PYGRUB : def->bootloader;

                r = dup_string(bl, &b->bootloader);
                if (r < 0)
                        return r;
                if (def->bootloader_args) {
                        r = string_list_split(def->bootloader_args, DOMCFG_BOOTLOADER_ARGS_MAX,
                                              &b->bootloader_args, error);
                        if (r < 0)
                                return r;
                }
        } else if (def->bootloader_args)
                return unsupported(error, "bootloader arguments without a bootloader");
        return 0;
}

static int from_def_kernel(const DomainDef *def, libxl_domain_build_info *b) {
        int r;

        r = dup_string(def->kernel, &b->kernel);
        if (r < 0)
                return r;
        r = dup_string(def->initrd, &b->ramdisk);
        if (r < 0)
                return r;
        if (def->root) {
                /* The SXP-era <root> has no field of its own: fold it into the command line. */
                free(b->cmdline);
                if (asprintf(&b->cmdline, "root=%s%s%s", def->root, def->cmdline ? " " : "",
                             strempty(def->cmdline)) < 0) {
                        b->cmdline = NULL;
                        return -ENOMEM;
                }
                return 0;
        }
        return dup_string(def->cmdline, &b->cmdline);
}

static bool is_default_hvmloader(const char *loader) {
        /* Every Xen installs hvmloader somewhere below its lib directory; libxl knows where. */
        return streq(basename_of(loader), "hvmloader");
}

static int vnc_from_def(const DomainGraphics *g, libxl_vnc_info *vnc, char **keymap, XvError *error) {
        int r;

        libxl_defbool_set(&vnc->enable, true);
        if (g->autoport || g->port <= 0) {
                libxl_defbool_set(&vnc->findunused, true);
                vnc->display = 0;
        } else {
                if (g->port < VNC_PORT_BASE || g->port > VNC_PORT_MAX)
                        return unsupported(error, "VNC port %d is not a display number (5900 + N)", g->port);
                libxl_defbool_set(&vnc->findunused, false);
                vnc->display = g->port - VNC_PORT_BASE;
        }
        r = dup_string(g->listen, &vnc->listen);
        if (r < 0)
                return r;
        r = dup_string(g->passwd, &vnc->passwd);
        if (r < 0)
                return r;
        return dup_string(g->keymap, keymap);
}

static int sdl_from_def(const DomainGraphics *g, libxl_sdl_info *sdl) {
        int r;

        libxl_defbool_set(&sdl->enable, true);
        r = dup_string(g->display, &sdl->display);
        if (r < 0)
                return r;
        return dup_string(g->xauth, &sdl->xauthority);
}

/* One VNC and one SDL display at most: libxl has one of each per frame buffer (PV) or emulator
 * (HVM). */
static int pick_graphics(const DomainDef *def, const DomainGraphics **ret_vnc, const DomainGraphics **ret_sdl,
                         XvError *error) {
        const DomainGraphics *vnc = NULL, *sdl = NULL;

        for (size_t i = 0; i < def->n_graphics; i++) {
                const DomainGraphics *g = &def->graphics[i];
                const DomainGraphics **slot = g->type == DOMAIN_GRAPHICS_VNC ? &vnc : &sdl;

                if (g->type != DOMAIN_GRAPHICS_VNC && g->type != DOMAIN_GRAPHICS_SDL)
                        return unsupported(error, "graphics type %d is not supported by libxl", (int) g->type);
                if (*slot)
                        return unsupported(error, "more than one %s display is not supported by libxl",
                                           domain_graphics_type_to_string(g->type));
                *slot = g;
        }
        *ret_vnc = vnc;
        *ret_sdl = sdl;
        return 0;
}

static int from_def_serials(const DomainDef *def, libxl_domain_build_info *b, XvError *error) {
        _cleanup_strv_free_ char **l = NULL;
        int maxport = -1, r;

        if (def->n_serials == 0)
                return 0;

        for (size_t i = 0; i < def->n_serials; i++) {
                int port = def->serials[i].target_port >= 0 ? def->serials[i].target_port : (int) i;

                maxport = MAX(maxport, port);
        }
        if (maxport >= DOMCFG_DEVICES_MAX)
                return unsupported(error, "serial port %d is out of range", maxport);

        /* QEMU numbers its serial ports in the order given: a list indexed by port, "none" for
         * the gaps. */
        for (int port = 0; port <= maxport; port++) {
                const DomainChr *chr = NULL;
                char *s = NULL;

                for (size_t i = 0; i < def->n_serials; i++) {
                        int p = def->serials[i].target_port >= 0 ? def->serials[i].target_port : (int) i;

                        if (p == port) {
                                if (chr)
                                        return unsupported(error, "two serial devices on port %d", port);
                                chr = &def->serials[i];
                        }
                }
                if (chr) {
                        r = xen_chr_format(chr, &s, error);
                        if (r < 0)
                                return xv_error_domain(error, XVP_FROM_LIBXL, r);
                } else {
                        s = strdup("none");
                        if (!s)
                                return -ENOMEM;
                }
                r = strv_push(&l, s);
                if (r < 0)
                        return r;
        }

        if (maxport == 0) {
                b->u.hvm.serial = TAKE_PTR(l[0]);
                return 0;
        }
        b->u.hvm.serial_list = TAKE_PTR(l);
        return 0;
}

static int from_def_hvm_devices(const DomainDef *def, libxl_domain_build_info *b, XvError *error) {
        const DomainGraphics *vnc, *sdl;
        int r;

        r = pick_graphics(def, &vnc, &sdl, error);
        if (r < 0)
                return r;
        libxl_defbool_set(&b->u.hvm.vnc.enable, false);
        libxl_defbool_set(&b->u.hvm.sdl.enable, false);
        if (vnc) {
                r = vnc_from_def(vnc, &b->u.hvm.vnc, &b->u.hvm.keymap, error);
                if (r < 0)
                        return r;
        }
        if (sdl) {
                r = sdl_from_def(sdl, &b->u.hvm.sdl);
                if (r < 0)
                        return r;
        }
        libxl_defbool_set(&b->u.hvm.nographic, !vnc && !sdl);

        if (def->n_videos > 1)
                return unsupported(error, "more than one video device is not supported by libxl");
        if (def->n_videos == 1) {
                const DomainVideo *v = &def->videos[0];

                if (streq_ptr(v->model, "cirrus"))
                        b->u.hvm.vga.kind = LIBXL_VGA_INTERFACE_TYPE_CIRRUS;
                else if (streq_ptr(v->model, "vga"))
                        b->u.hvm.vga.kind = LIBXL_VGA_INTERFACE_TYPE_STD;
                else if (streq_ptr(v->model, "qxl"))
                        b->u.hvm.vga.kind = LIBXL_VGA_INTERFACE_TYPE_QXL;
                else if (streq_ptr(v->model, "none"))
                        b->u.hvm.vga.kind = LIBXL_VGA_INTERFACE_TYPE_NONE;
                else
                        return unsupported(error, "video model '%s' is not supported by libxl for an HVM guest",
                                           strnull(v->model));
                if (v->heads > 1)
                        return unsupported(error, "video with %u heads is not supported by libxl", v->heads);
                b->video_memkb = v->vram_kib;
        }

        r = from_def_serials(def, b, error);
        if (r < 0)
                return r;

        if (def->n_sounds > 0) {
                _cleanup_(strbuf_done) StrBuf s = STRBUF_INIT;

                for (size_t i = 0; i < def->n_sounds; i++) {
                        if (isempty(def->sounds[i].model))
                                return unsupported(error, "sound device without a model");
                        if (i > 0)
                                strbuf_appendc(&s, ',');
                        strbuf_append(&s, def->sounds[i].model);
                }
                r = strbuf_steal(&s, &b->u.hvm.soundhw);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < def->n_inputs; i++) {
                const DomainInput *in = &def->inputs[i];

                /* The PS/2 mouse and keyboard are always there; USB devices must be asked for. */
                if (in->bus != DOMAIN_INPUT_BUS_USB)
                        continue;
                libxl_defbool_set(&b->u.hvm.usb, true);
                r = strv_extend(&b->u.hvm.usbdevice_list, domain_input_type_to_string(in->type));
                if (r < 0)
                        return r;
        }

        if (def->n_boot > 0) {
                char boot[DOMAIN_BOOT_DEVS_MAX + 1];
                size_t n = 0;

                for (size_t i = 0; i < def->n_boot && i < DOMAIN_BOOT_DEVS_MAX; i++)
                        switch (def->boot[i]) {
                        case DOMAIN_BOOT_FLOPPY:
                                boot[n++] = 'a';
                                break;
                        case DOMAIN_BOOT_CDROM:
                                boot[n++] = 'd';
                                break;
                        case DOMAIN_BOOT_NET:
                                boot[n++] = 'n';
                                break;
                        default:
                                boot[n++] = 'c';
                                break;
                        }
                boot[n] = '\0';
                r = dup_string(boot, &b->u.hvm.boot);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int from_def_build_info(const DomainDef *def, libxl_domain_type type, libxl_domain_config *c,
                               XvError *error) {
        libxl_domain_build_info *b = &c->b_info;
        bool hvm = type == LIBXL_DOMAIN_TYPE_HVM;
        int r;

        libxl_domain_build_info_init_type(b, type);

        if (def->memory_kib == 0 || domain_def_current_memory(def) > def->memory_kib)
                return domcfg_error(error, XVP_ERR_INVALID_ARG, "invalid memory %" PRIu64 " KiB (current %" PRIu64 ")",
                                    def->memory_kib, domain_def_current_memory(def));
        b->max_memkb = def->memory_kib;
        b->target_memkb = domain_def_current_memory(def);

        r = from_def_vcpus(def, b, error);
        if (r < 0)
                return r;
        r = from_def_clock(def, hvm, b, error);
        if (r < 0)
                return r;
        r = from_def_kernel(def, b);
        if (r < 0)
                return r;

        if (def->emulator) {
                /* xend's qemu-dm (qemu-traditional) is gone from Xen >= 4.16: a definition that
                 * names it means "the device model", which is libxl's default. */
                if (streq(basename_of(def->emulator), "qemu-dm"))
                        log_debug("emulator '%s' is qemu-traditional; using libxl's default device model",
                                  def->emulator);
                else {
                        r = dup_string(def->emulator, &b->device_model);
                        if (r < 0)
                                return r;
                        b->device_model_version = LIBXL_DEVICE_MODEL_VERSION_QEMU_XEN;
                }
        }

        if (!hvm) {
                if (def->loader)
                        return unsupported(error, "a firmware loader is not supported by libxl for a PV guest");
                return from_def_pv_boot(def, b, error);
        }

        if (def->bootloader)
                return unsupported(error, "a bootloader is not supported by libxl for an HVM guest");
        if (def->loader && !is_default_hvmloader(def->loader)) {
                r = dup_string(def->loader, &b->u.hvm.system_firmware);
                if (r < 0)
                        return r;
        }
        libxl_defbool_set(&b->acpi, domain_def_has_feature(def, DOMAIN_FEATURE_ACPI));
        libxl_defbool_set(&b->apic, domain_def_has_feature(def, DOMAIN_FEATURE_APIC));
        libxl_defbool_set(&b->u.hvm.pae, domain_def_has_feature(def, DOMAIN_FEATURE_PAE));
        libxl_defbool_set(&b->u.hvm.viridian, domain_def_has_feature(def, DOMAIN_FEATURE_VIRIDIAN));
        /* Without <hap/> libxl's default applies: hardware paging where the host has it. */
        if (domain_def_has_feature(def, DOMAIN_FEATURE_HAP))
                libxl_defbool_set(&c->c_info.hap, true);

        return from_def_hvm_devices(def, b, error);
}

static int from_def_pv_graphics(const DomainDef *def, libxl_domain_config *c, XvError *error) {
        const DomainGraphics *vnc, *sdl;
        libxl_device_vfb *vfb;
        int r;

        r = pick_graphics(def, &vnc, &sdl, error);
        if (r < 0)
                return r;
        if (!vnc && !sdl)
                return 0;

        /* One frame buffer carries both displays, with its keyboard and pointer. */
        c->vfbs = new0(libxl_device_vfb, 1);
        if (!c->vfbs)
                return -ENOMEM;
        c->num_vfbs = 1;
        vfb = &c->vfbs[0];
        libxl_device_vfb_init(vfb);
        libxl_defbool_set(&vfb->vnc.enable, vnc != NULL);
        libxl_defbool_set(&vfb->sdl.enable, sdl != NULL);
        if (vnc) {
                r = vnc_from_def(vnc, &vfb->vnc, &vfb->keymap, error);
                if (r < 0)
                        return r;
        }
        if (sdl) {
                r = sdl_from_def(sdl, &vfb->sdl);
                if (r < 0)
                        return r;
        }

        c->vkbs = new0(libxl_device_vkb, 1);
        if (!c->vkbs)
                return -ENOMEM;
        c->num_vkbs = 1;
        libxl_device_vkb_init(&c->vkbs[0]);
        return 0;
}

static int from_def_check_pv_devices(const DomainDef *def, XvError *error) {
        if (def->n_serials > 0)
                return unsupported(error, "serial ports are not supported by libxl for a PV guest; use the console");
        if (def->n_sounds > 0)
                return unsupported(error, "sound devices are not supported by libxl for a PV guest");
        for (size_t i = 0; i < def->n_inputs; i++)
                if (def->inputs[i].bus == DOMAIN_INPUT_BUS_USB)
                        return unsupported(error, "USB input devices are not supported by libxl for a PV guest");
        for (size_t i = 0; i < def->n_videos; i++)
                if (!streq_ptr(def->videos[i].model, "xen"))
                        return unsupported(error, "video model '%s' is not supported by libxl for a PV guest",
                                           strnull(def->videos[i].model));
        return 0;
}

static int from_def_consoles(const DomainDef *def, bool hvm, XvError *error) {
        size_t n_pv = 0;

        /* libxl gives every guest one PV console, a pty served by xenconsoled; an HVM guest's
         * <console target type='serial'> is its first serial port. */
        for (size_t i = 0; i < def->n_consoles; i++) {
                const DomainChr *c = &def->consoles[i];

                if (c->target_type == DOMAIN_CHR_TARGET_SERIAL) {
                        if (!hvm || def->n_serials == 0)
                                return unsupported(error, "a serial console needs a serial port%s",
                                                   hvm ? "" : " (HVM only)");
                        continue;
                }
                if (c->type != DOMAIN_CHR_PTY)
                        return unsupported(error, "console type '%s' is not supported by libxl (the console is a pty)",
                                           strnull(domain_chr_type_to_string(c->type)));
                if (++n_pv > 1)
                        return unsupported(error, "more than one PV console is not supported by libxl");
        }
        return 0;
}

static int from_def_devices(libxl_ctx *ctx, const DomainDef *def, bool hvm, libxl_domain_config *c,
                            XvError *error) {
        int r;

        if (def->n_disks > DOMCFG_DEVICES_MAX || def->n_nets > DOMCFG_DEVICES_MAX ||
            def->n_hostdevs > DOMCFG_DEVICES_MAX)
                return unsupported(error, "more than %d devices of a kind", DOMCFG_DEVICES_MAX);

        if (def->n_disks > 0) {
                c->disks = new0(libxl_device_disk, def->n_disks);
                if (!c->disks)
                        return -ENOMEM;
                for (size_t i = 0; i < def->n_disks; i++) {
                        c->num_disks++;
                        r = domcfg_disk_from_def(ctx, &def->disks[i], hvm, &c->disks[i], error);
                        if (r < 0)
                                return r;
                }
        }

        if (def->n_nets > 0) {
                c->nics = new0(libxl_device_nic, def->n_nets);
                if (!c->nics)
                        return -ENOMEM;
                for (size_t i = 0; i < def->n_nets; i++) {
                        c->num_nics++;
                        r = domcfg_nic_from_def(ctx, &def->nets[i], hvm, &c->nics[i], error);
                        if (r < 0)
                                return r;
                        /* Device ids in definition order, as xl numbers them. */
                        c->nics[i].devid = (libxl_devid) i;
                }
        }

        if (def->n_hostdevs > 0) {
                c->pcidevs = new0(libxl_device_pci, def->n_hostdevs);
                if (!c->pcidevs)
                        return -ENOMEM;
                for (size_t i = 0; i < def->n_hostdevs; i++) {
                        const DomainHostdevPci *h = &def->hostdevs[i];
                        libxl_device_pci *p = &c->pcidevs[i];

                        libxl_device_pci_init(p);
                        c->num_pcidevs++;
                        if (h->domain > PCI_DOMAIN_MAX || h->bus > PCI_BUS_MAX || h->slot > PCI_SLOT_MAX ||
                            h->function > PCI_FUNC_MAX)
                                return unsupported(error, "PCI address %x:%x:%x.%x is out of range", h->domain,
                                                   h->bus, h->slot, h->function);
                        p->domain = (int) h->domain;
                        p->bus = (uint8_t) h->bus;
                        p->dev = (uint8_t) h->slot;
                        p->func = (uint8_t) h->function;
                        /* managed='yes': take the device from its host driver, as xl's seize=1. */
                        p->seize = h->managed;
                }
        }

        if (def->n_parallels > 0)
                return unsupported(error, "parallel ports are not supported by libxl");
        r = from_def_consoles(def, hvm, error);
        if (r < 0)
                return r;
        if (streq_ptr(def->memballoon_model, "none"))
                log_debug("memballoon 'none': libxl guests always have the balloon interface");

        if (hvm)
                return 0;
        r = from_def_check_pv_devices(def, error);
        if (r < 0)
                return r;
        return from_def_pv_graphics(def, c, error);
}

int domcfg_from_def(libxl_ctx *ctx, const DomainDef *def, libxl_domain_config *c, XvError *error) {
        libxl_domain_type type;
        int r;

        libxl_domain_config_init(c);

        if (isempty(def->name) || strlen(def->name) > DOMAIN_NAME_MAX)
                return domcfg_error(error, XVP_ERR_NO_NAME, "missing or invalid domain name");
        if (def->virt_type != DOMAIN_VIRT_XEN)
                return unsupported(error, "domain type %d is not supported by libxl", (int) def->virt_type);

        switch (def->os_type) {
        case DOMAIN_OS_LINUX:
        case DOMAIN_OS_XEN:
                type = streq_ptr(def->os_machine, MACHINE_PVH) ? LIBXL_DOMAIN_TYPE_PVH : LIBXL_DOMAIN_TYPE_PV;
                break;
        case DOMAIN_OS_HVM:
                type = LIBXL_DOMAIN_TYPE_HVM;
                break;
        default:
                return domcfg_error(error, XVP_ERR_OS_TYPE, "unknown OS type %d", (int) def->os_type);
        }

        libxl_domain_create_info_init(&c->c_info);
        c->c_info.type = type;
        r = dup_string(def->name, &c->c_info.name);
        if (r < 0)
                return r;
        if (def->has_uuid)
                memcpy(libxl_uuid_bytearray(&c->c_info.uuid), def->uuid.bytes, UUID_RAW_LEN);
        else
                libxl_uuid_generate(&c->c_info.uuid);

        r = from_def_build_info(def, type, c, error);
        if (r < 0)
                return r;

        r = action_to_libxl(def->on_poweroff, &c->on_poweroff);
        if (r >= 0)
                r = action_to_libxl(def->on_reboot, &c->on_reboot);
        if (r >= 0)
                r = action_to_libxl(def->on_crash, &c->on_crash);
        if (r < 0)
                return domcfg_error(error, XVP_ERR_INTERNAL, "unexpected lifecycle action");

        return from_def_devices(ctx, def, type == LIBXL_DOMAIN_TYPE_HVM, c, error);
}

/* ------------------------------------------------------------------------------------------ */
/* To the model */

/* A defbool's value, or libxl's default for it when unset. */
static bool defbool_or(libxl_defbool b, bool def) {
        return libxl_defbool_is_default(b) ? def : libxl_defbool_val(b);
}

static int to_def_vcpus(const libxl_domain_build_info *b, DomainDef *def, XvError *error) {
        const libxl_bitmap *cpumap = NULL;
        unsigned online = 0;

        if (b->max_vcpus < 1 || b->max_vcpus > DOMCFG_VCPUS_MAX)
                return domcfg_error(error, XVP_ERR_OVERFLOW, "libxl configuration: %d vcpus (limit %d)",
                                    b->max_vcpus, DOMCFG_VCPUS_MAX);
        def->vcpus = (unsigned) b->max_vcpus;
        if (b->avail_vcpus.size > 0) {
                for (unsigned i = 0; i < def->vcpus; i++)
                        if (bitmap_bit(&b->avail_vcpus, i))
                                online++;
                if (online > 0 && online < def->vcpus)
                        def->vcpus_current = online;
        }

        /* The affinity of all vcpus: b_info.cpumap (libvirt, xenvirtd), or xl's per-vcpu arrays
         * when they all say the same. */
        if (b->cpumap.size > 0)
                cpumap = &b->cpumap;
        else if (b->num_vcpu_hard_affinity > 0 && b->num_vcpu_hard_affinity <= DOMCFG_VCPUS_MAX) {
                cpumap = &b->vcpu_hard_affinity[0];
                for (int i = 1; i < b->num_vcpu_hard_affinity; i++)
                        if (!libxl_bitmap_equal(cpumap, &b->vcpu_hard_affinity[i], 0)) {
                                log_debug("libxl configuration: per-vcpu affinity differs; not shown as a cpuset");
                                cpumap = NULL;
                                break;
                        }
        }
        if (cpumap && !bitmap_all_set(cpumap)) {
                int r = domcfg_cpuset_format(cpumap, &def->cpuset);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}

static int to_def_serials(const libxl_domain_build_info *b, DomainDef *def, XvError *error) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_strv_free_ char **single = NULL;
        char * const *l = b->u.hvm.serial_list;
        size_t port = 0;
        int r;

        if (!l || !l[0]) {
                if (!b->u.hvm.serial)
                        return 0;
                r = strv_extend(&single, b->u.hvm.serial);
                if (r < 0)
                        return r;
                l = single;
        }

        STRV_FOREACH(s, l) {
                DomainChr *chr = NULL;

                if (port >= DOMCFG_DEVICES_MAX)
                        return domcfg_error(error, XVP_ERR_OVERFLOW, "libxl configuration: more than %d serial ports",
                                            DOMCFG_DEVICES_MAX);
                if (streq(*s, "none")) {
                        port++;
                        continue;
                }
                if (strnlen(*s, XEN_CHR_SPEC_MAX + 1) > XEN_CHR_SPEC_MAX)
                        return domcfg_error(error, XVP_ERR_OVERFLOW, "libxl configuration: serial device too long");
                r = xen_chr_append(&def->serials, &def->n_serials, *s, (int) port, &chr, &e);
                if (r == -E2BIG)
                        return domcfg_error(error, XVP_ERR_OVERFLOW, "libxl configuration: too many serial ports");
                if (r == -EINVAL) {
                        /* QEMU spellings Xen's parser does not know ("mon:stdio", "chardev:...")
                         * cannot be shown: leave them out rather than failing the whole dumpxml. */
                        log_debug("libxl configuration: serial device '%s' not representable, ignoring: %s",
                                  *s, strnull(e.message));
                        xv_error_done(&e);
                        port++;
                        continue;
                }
                if (r < 0) {
                        xv_error_move(error, &e);
                        return r;
                }
                port++;
        }
        return 0;
}

static int to_def_add_graphics(DomainDef *def, const libxl_vnc_info *vnc, const libxl_sdl_info *sdl,
                               const char *keymap, bool vnc_default, XvError *error) {
        DomainGraphics *g;
        int r;

        if (defbool_or(vnc->enable, vnc_default)) {
                r = domain_def_add_device(def->graphics, def->n_graphics, &g);
                if (r < 0)
                        return r;
                g->type = DOMAIN_GRAPHICS_VNC;
                if (defbool_or(vnc->findunused, true)) {
                        g->autoport = true;
                        g->port = -1;
                } else {
                        if (vnc->display < 0 || vnc->display > VNC_PORT_MAX - VNC_PORT_BASE)
                                return domcfg_error(error, XVP_ERR_OVERFLOW,
                                                    "libxl configuration: VNC display %d out of range", vnc->display);
                        g->port = VNC_PORT_BASE + vnc->display;
                }
                r = dup_bounded(vnc->listen, "VNC listen address", &g->listen, error);
                if (r < 0)
                        return r;
                r = dup_bounded(vnc->passwd, "VNC password", &g->passwd, error);
                if (r < 0)
                        return r;
                r = dup_bounded(keymap, "keymap", &g->keymap, error);
                if (r < 0)
                        return r;
        }
        if (defbool_or(sdl->enable, false)) {
                r = domain_def_add_device(def->graphics, def->n_graphics, &g);
                if (r < 0)
                        return r;
                g->type = DOMAIN_GRAPHICS_SDL;
                r = dup_bounded(sdl->display, "SDL display", &g->display, error);
                if (r < 0)
                        return r;
                r = dup_bounded(sdl->xauthority, "SDL xauthority", &g->xauth, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int to_def_hvm(const libxl_domain_config *cfg, DomainDef *def, XvError *error) {
        const libxl_domain_build_info *b = &cfg->b_info;
        int r;

        domain_def_set_feature(def, DOMAIN_FEATURE_ACPI, defbool_or(b->acpi, defbool_or(b->u.hvm.acpi, true)));
        domain_def_set_feature(def, DOMAIN_FEATURE_APIC, defbool_or(b->apic, defbool_or(b->u.hvm.apic, true)));
        domain_def_set_feature(def, DOMAIN_FEATURE_PAE, defbool_or(b->u.hvm.pae, true));
        domain_def_set_feature(def, DOMAIN_FEATURE_VIRIDIAN, defbool_or(b->u.hvm.viridian, false));
        domain_def_set_feature(def, DOMAIN_FEATURE_HAP, defbool_or(cfg->c_info.hap, false));

        if (!libxl_defbool_is_default(b->u.hvm.hpet)) {
                r = xen_domain_add_timer(def, "hpet",
                                         libxl_defbool_val(b->u.hvm.hpet) ? DOMAIN_TRISTATE_YES : DOMAIN_TRISTATE_NO,
                                         NULL);
                if (r < 0)
                        return r;
        }

        r = dup_bounded(b->u.hvm.system_firmware, "system firmware", &def->loader, error);
        if (r < 0)
                return r;

        if (b->u.hvm.boot) {
                size_t len = strnlen(b->u.hvm.boot, DOMAIN_BOOT_DEVS_MAX + 1);

                for (size_t i = 0; i < len && def->n_boot < DOMAIN_BOOT_DEVS_MAX; i++)
                        switch (b->u.hvm.boot[i]) {
                        case 'a':
                                def->boot[def->n_boot++] = DOMAIN_BOOT_FLOPPY;
                                break;
                        case 'c':
                                def->boot[def->n_boot++] = DOMAIN_BOOT_DISK;
                                break;
                        case 'd':
                                def->boot[def->n_boot++] = DOMAIN_BOOT_CDROM;
                                break;
                        case 'n':
                                def->boot[def->n_boot++] = DOMAIN_BOOT_NET;
                                break;
                        default:
                                break;
                        }
        }

        /* libxl turns VNC on for an HVM guest unless told otherwise (or nographic). */
        r = to_def_add_graphics(def, &b->u.hvm.vnc, &b->u.hvm.sdl, b->u.hvm.keymap,
                                !defbool_or(b->u.hvm.nographic, false), error);
        if (r < 0)
                return r;

        switch (b->u.hvm.vga.kind) {
        case LIBXL_VGA_INTERFACE_TYPE_STD:
        case LIBXL_VGA_INTERFACE_TYPE_QXL:
        case LIBXL_VGA_INTERFACE_TYPE_NONE: {
                DomainVideo *v;

                r = domain_def_add_device(def->videos, def->n_videos, &v);
                if (r < 0)
                        return r;
                v->model = strdup(b->u.hvm.vga.kind == LIBXL_VGA_INTERFACE_TYPE_STD ? "vga" :
                                  b->u.hvm.vga.kind == LIBXL_VGA_INTERFACE_TYPE_QXL ? "qxl" : "none");
                if (!v->model)
                        return -ENOMEM;
                v->vram_kib = b->video_memkb <= UINT32_MAX ? (unsigned) b->video_memkb : 0;
                break;
        }
        default:
                /* Cirrus, libxl's default, is what a definition without <video> gets. */
                if (b->video_memkb > 0 && b->video_memkb != LIBXL_MEMKB_DEFAULT && b->video_memkb <= UINT32_MAX) {
                        DomainVideo *v;

                        r = domain_def_add_device(def->videos, def->n_videos, &v);
                        if (r < 0)
                                return r;
                        v->model = strdup("cirrus");
                        if (!v->model)
                                return -ENOMEM;
                        v->vram_kib = (unsigned) b->video_memkb;
                }
                break;
        }

        r = to_def_serials(b, def, error);
        if (r < 0)
                return r;

        if (b->u.hvm.soundhw) {
                _cleanup_strv_free_ char **models = NULL;

                r = string_list_split(b->u.hvm.soundhw, DOMCFG_DEVICES_MAX, &models, error);
                if (r < 0)
                        return r;
                /* "sb16,es1370": split on commas too. */
                STRV_FOREACH(m, models) {
                        const char *p = *m;

                        while (*p) {
                                size_t len = strcspn(p, ",");
                                DomainSound *s;

                                if (len > 0) {
                                        r = domain_def_add_device(def->sounds, def->n_sounds, &s);
                                        if (r < 0)
                                                return r;
                                        s->model = strndup(p, len);
                                        if (!s->model)
                                                return -ENOMEM;
                                }
                                p += len;
                                if (*p == ',')
                                        p++;
                        }
                }
        }

        if (defbool_or(b->u.hvm.usb, false) || b->u.hvm.usbdevice || b->u.hvm.usbdevice_list) {
                _cleanup_strv_free_ char **single = NULL;
                char * const *l = b->u.hvm.usbdevice_list;

                if ((!l || !l[0]) && b->u.hvm.usbdevice) {
                        r = strv_extend(&single, b->u.hvm.usbdevice);
                        if (r < 0)
                                return r;
                        l = single;
                }
                STRV_FOREACH(u, l) {
                        DomainInputType t = domain_input_type_from_string(*u);

                        if (t < 0) {
                                log_debug("libxl configuration: USB device '%s' not shown", *u);
                                continue;
                        }
                        r = xen_domain_add_input(def, t, DOMAIN_INPUT_BUS_USB);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int to_def_pv(const libxl_domain_config *cfg, DomainDef *def, XvError *error) {
        const libxl_domain_build_info *b = &cfg->b_info;
        const char *bootloader = b->bootloader ?: (b->type == LIBXL_DOMAIN_TYPE_PV ? b->u.pv.bootloader : NULL);
        char *const *bargs = b->bootloader_args ?:
                (b->type == LIBXL_DOMAIN_TYPE_PV ? b->u.pv.bootloader_args : NULL);
        int r;

        r = dup_bounded(bootloader, "bootloader", &def->bootloader, error);
        if (r < 0)
                return r;
        r = string_list_join(bargs, " ", DOMCFG_BOOTLOADER_ARGS_MAX, "bootloader arguments",
                             &def->bootloader_args, error);
        if (r < 0)
                return r;

        if (cfg->num_vfbs < 0 || cfg->num_vfbs > DOMCFG_DEVICES_MAX)
                return domcfg_error(error, XVP_ERR_OVERFLOW, "libxl configuration: %d frame buffers", cfg->num_vfbs);
        for (int i = 0; i < cfg->num_vfbs; i++) {
                r = to_def_add_graphics(def, &cfg->vfbs[i].vnc, &cfg->vfbs[i].sdl, cfg->vfbs[i].keymap, false,
                                        error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int to_def_devices(const libxl_domain_config *cfg, DomainDef *def, XvError *error) {
        int r;

        if (cfg->num_disks < 0 || cfg->num_disks > DOMCFG_DEVICES_MAX ||
            cfg->num_nics < 0 || cfg->num_nics > DOMCFG_DEVICES_MAX ||
            cfg->num_pcidevs < 0 || cfg->num_pcidevs > DOMCFG_DEVICES_MAX)
                return domcfg_error(error, XVP_ERR_OVERFLOW,
                                    "libxl configuration: %d disks, %d nics, %d PCI devices (limit %d each)",
                                    cfg->num_disks, cfg->num_nics, cfg->num_pcidevs, DOMCFG_DEVICES_MAX);

        for (int i = 0; i < cfg->num_disks; i++) {
                DomainDisk *d;

                r = domain_def_add_device(def->disks, def->n_disks, &d);
                if (r < 0)
                        return r;
                r = domcfg_disk_to_def(&cfg->disks[i], d, error);
                if (r < 0)
                        return r;
        }
        for (int i = 0; i < cfg->num_nics; i++) {
                DomainNet *n;

                r = domain_def_add_device(def->nets, def->n_nets, &n);
                if (r < 0)
                        return r;
                r = domcfg_nic_to_def(&cfg->nics[i], n, error);
                if (r < 0)
                        return r;
                if (domain_def_is_hvm(def) && cfg->nics[i].nictype == LIBXL_NIC_TYPE_VIF && !n->model) {
                        n->model = strdup("netfront");
                        if (!n->model)
                                return -ENOMEM;
                }
        }
        for (int i = 0; i < cfg->num_pcidevs; i++) {
                const libxl_device_pci *p = &cfg->pcidevs[i];
                DomainHostdevPci *h;

                r = domain_def_add_device(def->hostdevs, def->n_hostdevs, &h);
                if (r < 0)
                        return r;
                h->domain = (unsigned) p->domain & PCI_DOMAIN_MAX;
                h->bus = p->bus;
                h->slot = p->dev & PCI_SLOT_MAX;
                h->function = p->func & PCI_FUNC_MAX;
                h->managed = p->seize;
        }
        return 0;
}

int domcfg_to_def(const libxl_domain_config *cfg, DomainDef **ret, XvError *error) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        const libxl_domain_build_info *b = &cfg->b_info;
        libxl_domain_type type = cfg->c_info.type;
        const char *kernel, *ramdisk, *cmdline;
        int r;

        r = domain_def_new(&def);
        if (r < 0)
                return r;

        switch (type) {
        case LIBXL_DOMAIN_TYPE_HVM:
                def->os_type = DOMAIN_OS_HVM;
                break;
        case LIBXL_DOMAIN_TYPE_PVH:
                def->os_type = DOMAIN_OS_LINUX;
                def->os_machine = strdup(MACHINE_PVH);
                if (!def->os_machine)
                        return -ENOMEM;
                break;
        case LIBXL_DOMAIN_TYPE_PV:
                def->os_type = DOMAIN_OS_LINUX;
                break;
        default:
                return domcfg_error(error, XVP_ERR_OS_TYPE, "libxl configuration: unknown domain type %d", (int) type);
        }

        if (isempty(cfg->c_info.name))
                return domcfg_error(error, XVP_ERR_NO_NAME, "libxl configuration: no domain name");
        if (strnlen(cfg->c_info.name, DOMAIN_NAME_MAX + 1) > DOMAIN_NAME_MAX)
                return domcfg_error(error, XVP_ERR_OVERFLOW, "libxl configuration: domain name too long");
        r = dup_string(cfg->c_info.name, &def->name);
        if (r < 0)
                return r;
        if (!libxl_uuid_is_nil(&cfg->c_info.uuid)) {
                memcpy(def->uuid.bytes, libxl_uuid_bytearray_const(&cfg->c_info.uuid), UUID_RAW_LEN);
                def->has_uuid = true;
        }

        if (b->max_memkb == 0 || b->max_memkb == LIBXL_MEMKB_DEFAULT)
                return domcfg_error(error, XVP_ERR_INTERNAL, "libxl configuration: no memory size");
        def->memory_kib = b->max_memkb;
        if (b->target_memkb != LIBXL_MEMKB_DEFAULT && b->target_memkb > 0 && b->target_memkb < b->max_memkb)
                def->current_memory_kib = b->target_memkb;

        r = to_def_vcpus(b, def, error);
        if (r < 0)
                return r;

        r = action_from_libxl(cfg->on_poweroff, &def->on_poweroff);
        if (r < 0)
                log_debug("libxl configuration: on_poweroff %d not representable", (int) cfg->on_poweroff);
        r = action_from_libxl(cfg->on_reboot, &def->on_reboot);
        if (r < 0)
                log_debug("libxl configuration: on_reboot %d not representable", (int) cfg->on_reboot);
        r = action_from_libxl(cfg->on_crash, &def->on_crash);
        if (r < 0)
                log_debug("libxl configuration: on_crash %d not representable", (int) cfg->on_crash);

        /* Xen >= 4.6 moved these out of the type union; configurations written before keep them
         * there. */
        kernel = b->kernel ?: (type == LIBXL_DOMAIN_TYPE_PV ? b->u.pv.kernel : NULL);
        ramdisk = b->ramdisk ?: (type == LIBXL_DOMAIN_TYPE_PV ? b->u.pv.ramdisk : NULL);
        cmdline = b->cmdline ?: (type == LIBXL_DOMAIN_TYPE_PV ? b->u.pv.cmdline : NULL);
        r = dup_bounded(kernel, "kernel", &def->kernel, error);
        if (r < 0)
                return r;
        r = dup_bounded(ramdisk, "ramdisk", &def->initrd, error);
        if (r < 0)
                return r;
        r = dup_bounded(cmdline, "cmdline", &def->cmdline, error);
        if (r < 0)
                return r;

        {
                bool localtime = defbool_or(b->localtime, false);

                if (type == LIBXL_DOMAIN_TYPE_HVM)
                        xen_domain_clock_from_xen(&def->clock, localtime, true,
                                                  (long long) (int32_t) b->rtc_timeoffset);
                else
                        xen_domain_clock_from_xen(&def->clock, localtime, false, 0);
        }
        if (b->tsc_mode != LIBXL_TSC_MODE_DEFAULT) {
                const char *mode = b->tsc_mode == LIBXL_TSC_MODE_NATIVE ? "native" :
                        b->tsc_mode == LIBXL_TSC_MODE_ALWAYS_EMULATE ? "emulate" :
                        b->tsc_mode == LIBXL_TSC_MODE_NATIVE_PARAVIRT ? "paravirt" : NULL;

                if (mode) {
                        r = xen_domain_add_timer(def, "tsc", DOMAIN_TRISTATE_ABSENT, mode);
                        if (r < 0)
                                return r;
                }
        }

        if (b->device_model) {
                r = dup_bounded(b->device_model, "device model", &def->emulator, error);
                if (r < 0)
                        return r;
        }

        if (type == LIBXL_DOMAIN_TYPE_HVM)
                r = to_def_hvm(cfg, def, error);
        else
                r = to_def_pv(cfg, def, error);
        if (r < 0)
                return r;

        r = to_def_devices(cfg, def, error);
        if (r < 0)
                return r;

        /* The devices every guest has without naming them: a mouse and a keyboard on its natural
         * bus, and the console (an HVM guest's is its first serial port). */
        r = xen_domain_add_input(def, DOMAIN_INPUT_MOUSE, xen_domain_input_bus(def));
        if (r < 0)
                return r;
        r = xen_domain_add_input(def, DOMAIN_INPUT_KEYBOARD, xen_domain_input_bus(def));
        if (r < 0)
                return r;
        if (type == LIBXL_DOMAIN_TYPE_HVM)
                r = xen_domain_add_hvm_console(def);
        else
                r = xen_domain_add_pv_console(def, NULL);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(def);
        return 0;
}
