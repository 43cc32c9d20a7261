/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "xv-alloc.h"
#include "xv-parse-util.h"
#include "xv-sexpr-domain.h"
#include "xv-strbuf.h"
#include "xv-xen-chr.h"
#include "xv-xen-domain.h"

/*
 * The conversion follows what libvirt's xend driver did per xend config version
 * (shared/reference/xen-driver.md §2.4, §2.5): the same keys, the same version branches, so
 * that a XenD of any of those releases understands what we send and we read what it returns.
 */

/* PV framebuffers moved from image keys (vnc 1)/(sdl 1) to (device (vfb ...)) with 3.0.4. */
#define XEND_CONFIG_MIN_VERS_PVFB_NEWCONF XEND_CONFIG_VERSION_3_0_4
/* Up to 3.0.4, HVM NICs were marked (type ioemu); later that broke PV drivers in HVM guests. */
#define XEND_CONFIG_MAX_VERS_NET_TYPE_IOEMU XEND_CONFIG_VERSION_3_0_4

#define DEFAULT_VIF_SCRIPT "vif-bridge"

/* XenD's memory values are MiB; anything above this would overflow KiB in 64 bits. */
#define SEXPR_DOMAIN_MEMORY_MIB_MAX (UINT64_MAX >> 10)

/* ---- Small lookup helpers ---- */

/* Looks @rel up below the top-level list, whatever its head: (domain ...) as XenD returns it,
 * or (vm ...) as we send it (which lets tests feed our own output back). */
static const Sexpr *dlookup(const Sexpr *root, const char *rel) {
        char path[SEXPR_PATH_MAX + 1];
        const char *top = sexpr_head(root);
        int n;

        if (!top)
                return NULL;
        n = snprintf(path, sizeof(path), "%s/%s", top, rel);
        if (n < 0 || (size_t) n >= sizeof(path))
                return NULL;
        return sexpr_lookup(root, path);
}

static const char *dnode(const Sexpr *root, const char *rel) {
        return sexpr_atom(sexpr_item(dlookup(root, rel), 1));
}

/* The value of the (key value) child of list @l. */
static const char *child_value(const Sexpr *l, const char *key) {
        SEXPR_FOREACH_CHILD(c, l)
                if (streq_ptr(sexpr_head(c), key))
                        return sexpr_atom(sexpr_item(c, 1));
        return NULL;
}

static int bad_sexpr(XvError *error, const char *format, ...) _printf_(2, 3);
static int bad_sexpr(XvError *error, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = xv_error_setv(error, XVP_ERR_INTERNAL, format, ap);
        va_end(ap);
        return xv_error_domain(error, XVP_FROM_SEXPR, r);
}

/* Copies a value (NULL stays NULL), refusing values longer than the model accepts. */
static int dup_value(const char *v, const char *what, char **ret, XvError *error) {
        char *s;

        if (!v) {
                *ret = NULL;
                return 0;
        }
        if (strnlen(v, DOMAIN_STRING_MAX + 1) > DOMAIN_STRING_MAX)
                return bad_sexpr(error, "Value of (%s) is longer than %d bytes", what, DOMAIN_STRING_MAX);
        s = strdup(v);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* An integer the way XenD writes it: decimal, or with C prefixes (PCI addresses "0x1b"). */
static int parse_int_value(const char *v, const char *what, int64_t *ret, XvError *error) {
        if (safe_atoi64_full(v, 0, ret) < 0)
                return bad_sexpr(error, "Invalid integer '%s' in (%s)", v, what);
        return 0;
}

/* An optional integer key below the top list: *ret untouched when absent. */
static int dnode_int(const Sexpr *root, const char *rel, int64_t *ret, XvError *error) {
        const char *v = dnode(root, rel);

        if (!v)
                return 0;
        return parse_int_value(v, rel, ret, error);
}

static int add_error(int r, const char *what, XvError *error) {
        if (r == -E2BIG)
                return bad_sexpr(error, "Too many %s devices (at most %d)", what, DOMAIN_DEVICES_MAX);
        return r;
}

/* ---- Run-time facts ---- */

static const char * const domain_state_table[_SEXPR_DOMAIN_STATE_MAX] = {
        [SEXPR_DOMAIN_NOSTATE]  = "nostate",
        [SEXPR_DOMAIN_RUNNING]  = "running",
        [SEXPR_DOMAIN_BLOCKED]  = "blocked",
        [SEXPR_DOMAIN_PAUSED]   = "paused",
        [SEXPR_DOMAIN_SHUTDOWN] = "shutdown",
        [SEXPR_DOMAIN_SHUTOFF]  = "shutoff",
        [SEXPR_DOMAIN_CRASHED]  = "crashed",
};

const char *sexpr_domain_state_to_string(SexprDomainState s) {
        if (s < 0 || s >= _SEXPR_DOMAIN_STATE_MAX)
                return NULL;
        return domain_state_table[s];
}

SexprDomainState sexpr_domain_state(const Sexpr *sxp) {
        const char *flags = dnode(sxp, "state");

        if (flags) {
                /* The letters of "-b----" in libvirt's order of precedence. */
                static const struct {
                        char letter;
                        SexprDomainState state;
                } table[] = {
                        { 'c', SEXPR_DOMAIN_CRASHED },
                        { 's', SEXPR_DOMAIN_SHUTOFF },
                        { 'd', SEXPR_DOMAIN_SHUTDOWN },
                        { 'p', SEXPR_DOMAIN_PAUSED },
                        { 'b', SEXPR_DOMAIN_BLOCKED },
                        { 'r', SEXPR_DOMAIN_RUNNING },
                };

                for (size_t i = 0; i < ELEMENTSOF(table); i++)
                        if (strchr(flags, table[i].letter))
                                return table[i].state;
                return SEXPR_DOMAIN_NOSTATE;
        }

        /* Inactive domains of a managed xend have no state; (status 0) means halted. */
        if (!dnode(sxp, "domid") || streq_ptr(dnode(sxp, "status"), "0"))
                return SEXPR_DOMAIN_SHUTOFF;
        return SEXPR_DOMAIN_NOSTATE;
}

int sexpr_domain_id(const Sexpr *sxp, int *ret) {
        const char *v = dnode(sxp, "domid");

        assert(ret);
        if (!v)
                return -ENOENT;
        return safe_atoi(v, ret);
}

/* A non-negative number at @key, which XenD may print as an integer or a float ("1.0"). */
static int get_double_loose(const Sexpr *sxp, const char *key, double *ret) {
        const char *v = dnode(sxp, key);
        char *end;
        double d;

        if (!v)
                return -ENOENT;
        if (!*v)
                return -EINVAL;
        errno = 0;
        d = strtod(v, &end);
        if (*end || errno != 0 || !isfinite(d) || d < 0)
                return -EINVAL;
        *ret = d;
        return 0;
}

int sexpr_domain_cpu_time(const Sexpr *sxp, uint64_t *ret_ns) {
        double d;
        int r;

        assert(ret_ns);
        r = get_double_loose(sxp, "cpu_time", &d);
        if (r < 0)
                return r;
        if (d * 1e9 >= 18446744073709551615.0)
                return -ERANGE;
        *ret_ns = (uint64_t) (d * 1e9);
        return 0;
}

/* The same, for a 32-bit value (cpu_weight, cpu_cap); a fraction is cut off. */
static int get_unsigned_loose(const Sexpr *sxp, const char *key, unsigned *ret) {
        double d;
        int r;

        assert(ret);
        r = get_double_loose(sxp, key, &d);
        if (r < 0)
                return r;
        if (d > UINT32_MAX)
                return -ERANGE;
        *ret = (unsigned) d;
        return 0;
}

int sexpr_domain_cpu_weight(const Sexpr *sxp, unsigned *ret) {
        return get_unsigned_loose(sxp, "cpu_weight", ret);
}

int sexpr_domain_cpu_cap(const Sexpr *sxp, unsigned *ret) {
        return get_unsigned_loose(sxp, "cpu_cap", ret);
}

int sexpr_domain_autostart(const Sexpr *sxp, bool *ret) {
        const char *v = dnode(sxp, "on_xend_start");

        assert(ret);
        if (!v)
                return -ENOENT;
        *ret = streq(v, "start");
        return 0;
}

/* ---- (domain ...) → DomainDef ---- */

static int parse_os(const Sexpr *root, DomainDef *def, bool hvm, XvError *error) {
        const char *image = hvm ? "image/hvm" : "image/linux";
        const Sexpr *img = dlookup(root, image);
        int r;

        if (hvm) {
                r = dup_value(child_value(img, "loader"), "loader", &def->loader, error);
                if (r < 0)
                        return r;
                if (!def->loader) {
                        /* Without a separate loader, (kernel) names hvmloader itself. */
                        r = dup_value(child_value(img, "kernel"), "kernel", &def->loader, error);
                        if (r < 0)
                                return r;
                        if (!def->loader)
                                return bad_sexpr(error, "domain information incomplete, missing HVM loader");
                } else {
                        r = dup_value(child_value(img, "kernel"), "kernel", &def->kernel, error);
                        if (r < 0)
                                return r;
                }
        } else {
                r = dup_value(child_value(img, "kernel"), "kernel", &def->kernel, error);
                if (r < 0)
                        return r;
        }

        /* Direct kernel boot (HVM with a loader) and PV share the remaining keys. */
        if (!hvm || def->kernel) {
                r = dup_value(child_value(img, "ramdisk"), "ramdisk", &def->initrd, error);
                if (r < 0)
                        return r;
                r = dup_value(child_value(img, "args"), "args", &def->cmdline, error);
                if (r < 0)
                        return r;
                r = dup_value(child_value(img, "root"), "root", &def->root, error);
                if (r < 0)
                        return r;
        }

        /* Old xend repeats hvmloader as the kernel; an empty (kernel) means none either. */
        if (hvm && def->kernel && (streq(def->kernel, def->loader) || isempty(def->kernel)))
                def->kernel = mfree(def->kernel);

        if (hvm && !def->kernel) {
                const char *boot = child_value(img, "boot");

                for (const char *p = strempty(boot); *p && def->n_boot < DOMAIN_BOOT_DEVS_MAX; p++)
                        switch (*p) {
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

        if (!hvm && !def->kernel && !def->bootloader)
                return bad_sexpr(error, "domain information incomplete, missing kernel & bootloader");

        return 0;
}

static DomainDiskBus disk_bus_from_dst(const char *dst) {
        if (strncmp(dst, "xvd", 3) == 0)
                return DOMAIN_DISK_BUS_XEN;
        if (strncmp(dst, "sd", 2) == 0)
                return DOMAIN_DISK_BUS_SCSI;
        /* hd*, and anything xend did not tell apart, is IDE (libvirt's reading). */
        return DOMAIN_DISK_BUS_IDE;
}

static int parse_disk(const Sexpr *dev, DomainDef *def, bool hvm, int version, XvError *error) {
        const char *kind = sexpr_head(dev);
        const char *src = child_value(dev, "uname");
        const char *dst = child_value(dev, "dev");
        const char *mode = child_value(dev, "mode");
        const char *bootable = child_value(dev, "bootable");
        _cleanup_free_ char *target = NULL;
        DomainDisk *disk;
        size_t len;
        int r;

        if (!dst)
                return bad_sexpr(error, "domain information incomplete, %s has no dev", kind);

        len = strlen(dst);
        if (!src && !(hvm && len >= 6 && streq(dst + len - 6, ":cdrom")))
                return bad_sexpr(error, "domain information incomplete, %s has no src", kind);

        r = domain_def_add_device(def->disks, def->n_disks, &disk);
        if (r < 0)
                return add_error(r, "disk", error);

        disk->type = DOMAIN_DISK_TYPE_FILE;
        disk->device = DOMAIN_DISK_DEVICE_DISK;

        if (src) {
                const char *colon = strchr(src, ':');

                if (!colon)
                        return bad_sexpr(error, "cannot parse vbd filename '%s', missing driver name", src);

                /* blktap2 devices come as (tap2 (uname 'tap:aio:...')) or with 'tap2:' itself. */
                if (streq(kind, "tap2") && strncmp(src, "tap:", 4) == 0)
                        disk->driver_name = strdup("tap2");
                else
                        disk->driver_name = strndup(src, colon - src);
                if (!disk->driver_name)
                        return -ENOMEM;
                src = colon + 1;

                if (streq(disk->driver_name, "tap") || streq(disk->driver_name, "tap2")) {
                        colon = strchr(src, ':');
                        if (!colon)
                                return bad_sexpr(error, "cannot parse vbd filename '%s', missing driver type",
                                                 src);
                        disk->driver_type = strndup(src, colon - src);
                        if (!disk->driver_type)
                                return -ENOMEM;
                        src = colon + 1;
                } else if (streq(disk->driver_name, "phy"))
                        disk->type = DOMAIN_DISK_TYPE_BLOCK;

                /* "file:" with nothing after it is an empty drive, as is a missing uname. */
                r = dup_value(isempty(src) ? NULL : src, "uname", &disk->src, error);
                if (r < 0)
                        return r;
        }

        if (strncmp(dst, "ioemu:", 6) == 0)
                dst += 6;
        target = strdup(dst);
        if (!target)
                return -ENOMEM;

        /* Since 3.0.3 the device carries its kind: "hdc:cdrom", "hda:disk". libvirt read the
         * suffix only from those versions on; we also take the two known ones from 3.0.2, where
         * a PV CD-ROM was written that way too and would otherwise not read back. */
        {
                char *suffix = strrchr(target, ':');

                if (suffix && (version >= XEND_CONFIG_VERSION_3_0_3 ||
                               streq(suffix, ":cdrom") || streq(suffix, ":disk"))) {
                        if (streq(suffix, ":cdrom"))
                                disk->device = DOMAIN_DISK_DEVICE_CDROM;
                        *suffix = '\0';
                }
        }
        if (strlen(target) > DOMAIN_NAME_MAX || !xen_disk_target_valid(target))
                return bad_sexpr(error, "Invalid disk device name '%s'", dst);
        disk->dst = TAKE_PTR(target);
        disk->bus = disk_bus_from_dst(disk->dst);

        if (mode && strchr(mode, 'r'))
                disk->readonly = true;
        if (mode && strchr(mode, '!'))
                disk->shareable = true;

        /* xend's boot disk comes first, as libvirt reported it. */
        if (streq_ptr(bootable, "1") && def->n_disks > 1) {
                DomainDisk t = def->disks[0];

                def->disks[0] = def->disks[def->n_disks - 1];
                def->disks[def->n_disks - 1] = t;
        }

        return 0;
}

/* "10240KB/s", "1Mb/s@20ms": KiB/s. */
static int parse_vif_rate(const char *rate, uint64_t *ret, XvError *error) {
        const char *p;
        uint64_t v;
        int r;

        r = parse_u64_prefix(rate, &v, &p);
        if (r < 0)
                return bad_sexpr(error, "Invalid rate '%s' specified", rate);

        if (*p == 'G' || *p == 'M' || *p == 'K') {
                uint64_t m = *p == 'G' ? 1024 * 1024 : *p == 'M' ? 1024 : 1;

                if (v > UINT64_MAX / m)
                        return bad_sexpr(error, "Invalid rate '%s' specified", rate);
                v *= m;
                p++;
        }
        if ((p[0] != 'B' && p[0] != 'b') || p[1] != '/' || p[2] != 's' || (p[3] != '\0' && p[3] != '@'))
                return bad_sexpr(error, "Invalid rate '%s' specified", rate);
        if (p[0] == 'b')
                v /= 8;

        *ret = v;
        return 0;
}

static int split_ips(const char *ips, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const char *p = ips;
        int r;

        for (;;) {
                size_t n;

                p += strspn(p, " \t");
                if (!*p)
                        break;
                n = strcspn(p, " \t");
                if (strv_length(l) >= DOMAIN_DEVICES_MAX)
                        return -E2BIG;
                r = strv_push(&l, strndup(p, n));
                if (r < 0)
                        return r;
                p += n;
        }

        *ret = TAKE_PTR(l);
        return 0;
}

static int parse_net(const Sexpr *dev, DomainDef *def, unsigned index, XvError *error) {
        const char *script = child_value(dev, "script");
        const char *bridge = child_value(dev, "bridge");
        const char *model = child_value(dev, "model");
        const char *type = child_value(dev, "type");
        const char *ip = child_value(dev, "ip");
        const char *vifname = child_value(dev, "vifname");
        const char *mac = child_value(dev, "mac");
        const char *rate = child_value(dev, "rate");
        DomainNet *net;
        int r;

        r = domain_def_add_device(def->nets, def->n_nets, &net);
        if (r < 0)
                return add_error(r, "interface", error);

        /* A bridge, or the bridge script without one, is a bridged NIC; anything else is
         * "ethernet" with its own script. */
        if (bridge || streq_ptr(script, DEFAULT_VIF_SCRIPT)) {
                net->type = DOMAIN_NET_TYPE_BRIDGE;
                r = dup_value(bridge, "bridge", &net->bridge, error);
                if (r < 0)
                        return r;
        } else
                net->type = DOMAIN_NET_TYPE_ETHERNET;

        r = dup_value(script, "script", &net->script, error);
        if (r < 0)
                return r;

        if (ip) {
                r = split_ips(ip, &net->ips);
                if (r < 0)
                        return add_error(r, "IP address", error);
        }

        /* Without a vifname, a running domain's backend interface is vif<domid>.<index>. */
        if (vifname)
                r = dup_value(vifname, "vifname", &net->ifname, error);
        else if (def->id != -1)
                r = asprintf(&net->ifname, "vif%d.%u", def->id, index) < 0 ? -ENOMEM : 0;
        if (r < 0)
                return r;

        if (mac) {
                if (domain_mac_parse(mac, net->mac) < 0)
                        return bad_sexpr(error, "malformed mac address '%s'", mac);
                net->has_mac = true;
        }

        if (model)
                r = dup_value(model, "model", &net->model, error);
        else if (streq_ptr(type, "netfront"))
                r = dup_value("netfront", "type", &net->model, error);
        if (r < 0)
                return r;

        if (rate) {
                r = parse_vif_rate(rate, &net->rate_average, error);
                if (r < 0)
                        return r;
        }

        return 0;
}

static int parse_pci(const Sexpr *pci, DomainDef *def, XvError *error) {
        int r;

        /* One (device (pci (dev ...) (dev ...))) holds every passed-through function. */
        SEXPR_FOREACH_CHILD(d, pci) {
                static const struct {
                        const char *key;
                        int64_t max;
                } fields[] = {
                        { "domain", 0xffff },
                        { "bus",    0xff },
                        { "slot",   0x1f },
                        { "func",   0x7 },
                };
                int64_t v[ELEMENTSOF(fields)];
                DomainHostdevPci *h;

                if (!streq_ptr(sexpr_head(d), "dev"))
                        continue;

                for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                        const char *s = child_value(d, fields[i].key);

                        if (!s)
                                return bad_sexpr(error, "missing PCI %s", fields[i].key);
                        r = parse_int_value(s, fields[i].key, &v[i], error);
                        if (r < 0)
                                return r;
                        if (v[i] < 0 || v[i] > fields[i].max)
                                return bad_sexpr(error, "PCI %s '%s' out of range", fields[i].key, s);
                }

                r = domain_def_add_device(def->hostdevs, def->n_hostdevs, &h);
                if (r < 0)
                        return add_error(r, "PCI", error);
                h->domain = (unsigned) v[0];
                h->bus = (unsigned) v[1];
                h->slot = (unsigned) v[2];
                h->function = (unsigned) v[3];
                h->managed = false;
        }

        return 0;
}

static int vnc_port_adjust(int port) {
        /* A display number rather than a port. */
        if (port >= 0 && port < 5900)
                port += 5900;
        return port;
}

/* (device (vfb ...)): PV framebuffers since 3.0.4, HVM since 3.0.5. */
static int parse_graphics_new(const Sexpr *vfb, DomainDef *def, const SexprDomainOptions *opts,
                              XvError *error) {
        const char *type = child_value(vfb, "type");
        DomainGraphics *g;
        int r;

        if (!type)
                type = child_value(vfb, "vnc") ? "vnc" : child_value(vfb, "sdl") ? "sdl" : "unknown";

        if (!streq(type, "vnc") && !streq(type, "sdl"))
                return bad_sexpr(error, "unknown graphics type '%s'", type);

        r = domain_def_add_device(def->graphics, def->n_graphics, &g);
        if (r < 0)
                return add_error(r, "graphics", error);

        if (streq(type, "sdl")) {
                g->type = DOMAIN_GRAPHICS_SDL;
                r = dup_value(child_value(vfb, "display"), "display", &g->display, error);
                if (r < 0)
                        return r;
                return dup_value(child_value(vfb, "xauthority"), "xauthority", &g->xauth, error);
        }

        g->type = DOMAIN_GRAPHICS_VNC;
        g->port = opts->vnc_port;
        if (g->port == -1) {
                const char *display = child_value(vfb, "vncdisplay");
                int d;

                if (display && safe_atoi(display, &d) == 0 && d >= 0 && d <= 65535)
                        g->port = d;
        }
        g->autoport = streq_ptr(child_value(vfb, "vncunused"), "1") || g->port == -1;
        g->port = vnc_port_adjust(g->port);

        r = dup_value(child_value(vfb, "vnclisten"), "vnclisten", &g->listen, error);
        if (r < 0)
                return r;
        r = dup_value(child_value(vfb, "vncpasswd"), "vncpasswd", &g->passwd, error);
        if (r < 0)
                return r;
        return dup_value(child_value(vfb, "keymap"), "keymap", &g->keymap, error);
}

/* (image (hvm|linux (vnc 1) ...)): HVM up to 3.0.4, PV before 3.0.4. */
static int parse_graphics_old(const Sexpr *img, DomainDef *def, int version,
                              const SexprDomainOptions *opts, XvError *error) {
        const char *vnc = child_value(img, "vnc");
        const char *sdl = child_value(img, "sdl");
        DomainGraphics *g;
        int r;

        if (vnc && vnc[0] == '1') {
                r = domain_def_add_device(def->graphics, def->n_graphics, &g);
                if (r < 0)
                        return add_error(r, "graphics", error);

                g->type = DOMAIN_GRAPHICS_VNC;
                g->port = opts->vnc_port;
                if (g->port == -1) {
                        const char *display = child_value(img, "vncdisplay");
                        int d;

                        /* xend 3.0.2 always used display = domid. Later ones take a configured
                         * (vncdisplay), which libvirt ignored here (it only read it from the
                         * vfb device) and so lost a fixed port of an inactive domain; otherwise
                         * -1 until xenstore knows. */
                        if (version < XEND_CONFIG_VERSION_3_0_3) {
                                if (def->id >= 0)
                                        g->port = 5900 + def->id;
                        } else if (display && safe_atoi(display, &d) == 0 && d >= 0 && d <= 65535)
                                g->port = vnc_port_adjust(d);
                }
                g->autoport = streq_ptr(child_value(img, "vncunused"), "1") || g->port == -1;

                r = dup_value(child_value(img, "vnclisten"), "vnclisten", &g->listen, error);
                if (r < 0)
                        return r;
                r = dup_value(child_value(img, "vncpasswd"), "vncpasswd", &g->passwd, error);
                if (r < 0)
                        return r;
                return dup_value(child_value(img, "keymap"), "keymap", &g->keymap, error);
        }

        if (sdl && sdl[0] == '1') {
                r = domain_def_add_device(def->graphics, def->n_graphics, &g);
                if (r < 0)
                        return add_error(r, "graphics", error);

                g->type = DOMAIN_GRAPHICS_SDL;
                r = dup_value(child_value(img, "display"), "display", &g->display, error);
                if (r < 0)
                        return r;
                return dup_value(child_value(img, "xauthority"), "xauthority", &g->xauth, error);
        }

        return 0;
}

static int add_image_disk(DomainDef *def, const char *src, const char *dst, DomainDiskDevice device,
                          DomainDiskBus bus, bool readonly, XvError *error) {
        DomainDisk *disk;
        int r;

        r = domain_def_add_device(def->disks, def->n_disks, &disk);
        if (r < 0)
                return add_error(r, "disk", error);

        disk->type = DOMAIN_DISK_TYPE_FILE;
        disk->device = device;
        disk->bus = bus;
        disk->readonly = readonly;
        disk->driver_name = strdup("file");
        disk->dst = strdup(dst);
        if (!disk->driver_name || !disk->dst)
                return -ENOMEM;
        return dup_value(src, dst, &disk->src, error);
}

static int add_chr(DomainChr **vec, size_t *n, const char *spec, const char *tty, int port,
                   const char *what, XvError *error) {
        DomainChr *c;
        int r;

        r = xen_chr_append(vec, n, spec, port, &c, error);
        if (r < 0)
                return add_error(r, what, error);

        if (c->type == DOMAIN_CHR_PTY && tty) {
                c->path = strdup(tty);
                if (!c->path)
                        return -ENOMEM;
        }
        return 0;
}

static int parse_serials(const Sexpr *img, DomainDef *def, const char *tty, XvError *error) {
        const Sexpr *serial = NULL, *ports = NULL;
        int r;

        SEXPR_FOREACH_CHILD(c, img)
                if (streq_ptr(sexpr_head(c), "serial")) {
                        serial = c;
                        break;
                }
        if (!serial)
                return 0;

        /* Several ports are a list: (serial (pty /dev/ttyS1 none)); "none" keeps a port free. */
        SEXPR_FOREACH_CHILD(c, serial)
                if (sexpr_is_list(c)) {
                        ports = c;
                        break;
                }

        if (ports) {
                for (size_t i = 0; i < sexpr_n_items(ports); i++) {
                        const char *spec = sexpr_atom(sexpr_item(ports, i));

                        if (!spec || streq(spec, "none"))
                                continue;
                        r = add_chr(&def->serials, &def->n_serials, spec, tty, (int) i, "serial", error);
                        if (r < 0)
                                return r;
                }
                return 0;
        }

        {
                const char *spec = sexpr_atom(sexpr_item(serial, 1));

                if (!spec || streq(spec, "none"))
                        return 0;
                return add_chr(&def->serials, &def->n_serials, spec, tty, 0, "serial", error);
        }
}

static int parse_sound(const char *str, DomainDef *def, XvError *error) {
        static const char * const models[] = { "sb16", "es1370", "pcspk", "ac97", "ich6" };
        const char *p = str;
        int r;

        /* Xen's qemu took "all"; libvirt read it as the two cards that qemu had then. */
        if (streq(str, "all"))
                str = p = "sb16,es1370";

        for (;;) {
                size_t n = strcspn(p, ",");
                const char *model = NULL;
                DomainSound *s;

                for (size_t i = 0; i < ELEMENTSOF(models); i++)
                        if (strlen(models[i]) == n && strncmp(p, models[i], n) == 0)
                                model = models[i];
                if (!model)
                        return bad_sexpr(error, "unknown sound model '%.*s'", (int) n, p);

                r = domain_def_add_device(def->sounds, def->n_sounds, &s);
                if (r < 0)
                        return add_error(r, "sound", error);
                s->model = strdup(model);
                if (!s->model)
                        return -ENOMEM;

                if (!p[n])
                        break;
                p += n + 1;
        }

        return 0;
}

static int parse_clock(const Sexpr *root, DomainDef *def, bool hvm, int version, XvError *error) {
        int64_t localtime = 0;
        int r;

        /* xend 3.0.3 added a second, lower-priority (localtime) in the image. */
        r = dnode_int(root, "localtime", &localtime, error);
        if (r < 0)
                return r;
        r = dnode_int(root, hvm ? "image/hvm/localtime" : "image/linux/localtime", &localtime, error);
        if (r < 0)
                return r;

        if (hvm && version >= XEND_CONFIG_VERSION_3_1_0) {
                /* Managed HVM domains since 3.1.0 keep a persistent RTC offset. */
                int64_t offset = 0;

                r = dnode_int(root, "image/hvm/rtc_timeoffset", &offset, error);
                if (r < 0)
                        return r;
                xen_domain_clock_from_xen(&def->clock, localtime, true, offset);
        } else
                xen_domain_clock_from_xen(&def->clock, localtime, false, 0);

        if (hvm && dlookup(root, "image/hvm/hpet")) {
                int64_t hpet = 0;

                r = dnode_int(root, "image/hvm/hpet", &hpet, error);
                if (r < 0)
                        return r;
                r = xen_domain_add_timer(def, "hpet", hpet ? DOMAIN_TRISTATE_YES : DOMAIN_TRISTATE_NO,
                                         NULL);
                if (r < 0)
                        return add_error(r, "timer", error);
        }

        return 0;
}

static int parse_lifecycle(const Sexpr *root, const char *key, DomainLifecycleAction dflt,
                           DomainLifecycleAction *ret, XvError *error) {
        const char *v = dnode(root, key);
        DomainLifecycleAction a;

        if (!v) {
                *ret = dflt;
                return 0;
        }
        a = domain_lifecycle_action_from_string(v);
        if (a < 0)
                return bad_sexpr(error, "unknown lifecycle type %s", v);
        *ret = a;
        return 0;
}

int sexpr_domain_to_def(const Sexpr *sxp, const SexprDomainOptions *opts, DomainDef **ret,
                        XvError *error) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        const SexprDomainOptions dflt = SEXPR_DOMAIN_OPTIONS_INIT(XEND_CONFIG_VERSION_3_1_0);
        const char *v, *top = sexpr_head(sxp);
        const Sexpr *img;
        int64_t i64;
        uint64_t maxmem = 0, memory = 0, avail = 0;
        unsigned nets = 0;
        int version;
        bool hvm;
        int r;

        assert(sxp);
        assert(ret);

        if (!opts)
                opts = &dflt;
        version = opts->xend_config_version;
        if (version < XEND_CONFIG_VERSION_3_0_2 || version > XEND_CONFIG_VERSION_3_1_0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported xend config version %d",
                                     version);

        if (!streq_ptr(top, "domain") && !streq_ptr(top, "vm"))
                return bad_sexpr(error, "Expected a (domain ...) S-expression, got (%s ...)", strnull(top));

        r = domain_def_new(&def);
        if (r < 0)
                return r;
        def->virt_type = DOMAIN_VIRT_XEN;

        v = dnode(sxp, "domid");
        if (v) {
                if (safe_atoi(v, &def->id) < 0 || def->id < 0)
                        return bad_sexpr(error, "Invalid domain id '%s'", v);
        } else if (version < XEND_CONFIG_VERSION_3_0_4)
                /* Before 3.0.4 xend only knew running domains, which all have an id. */
                return bad_sexpr(error, "domain information incomplete, missing id");
        else
                def->id = -1;

        v = dnode(sxp, "name");
        if (!v)
                return bad_sexpr(error, "domain information incomplete, missing name");
        if (strlen(v) > DOMAIN_NAME_MAX)
                return bad_sexpr(error, "Domain name longer than %d bytes", DOMAIN_NAME_MAX);
        def->name = strdup(v);
        if (!def->name)
                return -ENOMEM;

        v = dnode(sxp, "uuid");
        if (!v)
                return bad_sexpr(error, "domain information incomplete, missing uuid");
        if (uuid_from_string(v, &def->uuid) < 0)
                return bad_sexpr(error, "Invalid UUID '%s'", v);
        def->has_uuid = true;

        r = dup_value(dnode(sxp, "description"), "description", &def->description, error);
        if (r < 0)
                return r;

        hvm = dlookup(sxp, "image/hvm");
        def->os_type = hvm ? DOMAIN_OS_HVM : DOMAIN_OS_LINUX;

        if (!hvm) {
                r = dup_value(dnode(sxp, "bootloader"), "bootloader", &def->bootloader, error);
                if (r < 0)
                        return r;
                /* "(bootloader)" without a value: pick the default one. */
                if (!def->bootloader && dlookup(sxp, "bootloader")) {
                        def->bootloader = strdup("");
                        if (!def->bootloader)
                                return -ENOMEM;
                }
                if (def->bootloader) {
                        r = dup_value(dnode(sxp, "bootloader_args"), "bootloader_args",
                                      &def->bootloader_args, error);
                        if (r < 0)
                                return r;
                }
        }

        /* Domain-0 has no image worth showing. */
        if (def->id != 0 && dlookup(sxp, "image")) {
                r = parse_os(sxp, def, hvm, error);
                if (r < 0)
                        return r;
        }

        /* Memory: MiB in xend, KiB here. */
        v = dnode(sxp, "maxmem");
        if (v && safe_atou64(v, &maxmem) < 0)
                return bad_sexpr(error, "Invalid (maxmem %s)", v);
        v = dnode(sxp, "memory");
        if (v && safe_atou64(v, &memory) < 0)
                return bad_sexpr(error, "Invalid (memory %s)", v);
        if (maxmem == 0)
                maxmem = memory;
        if (memory == 0 || memory > maxmem)
                memory = maxmem;
        if (maxmem > SEXPR_DOMAIN_MEMORY_MIB_MAX)
                return bad_sexpr(error, "Memory size %" PRIu64 " MiB out of range", maxmem);
        def->memory_kib = maxmem << 10;
        def->current_memory_kib = memory << 10;

        /* vcpus is the maximum; vcpu_avail the bitmap of those online. */
        v = dnode(sxp, "vcpus");
        if (v) {
                if (safe_atou(v, &def->vcpus) < 0 || def->vcpus > DOMAIN_VCPUS_MAX)
                        return bad_sexpr(error, "Invalid (vcpus %s)", v);
        }
        if (def->vcpus == 0)
                def->vcpus = 1;
        v = dnode(sxp, "vcpu_avail");
        if (v && safe_atou64(v, &avail) < 0)
                return bad_sexpr(error, "Invalid (vcpu_avail %s)", v);
        {
                unsigned current = (unsigned) __builtin_popcountll(avail);

                if (current > 0 && current < def->vcpus)
                        def->vcpus_current = current;
        }

        /* The pinning XenD reports is a per-vcpu list; only a plain "1-3,^2" string is a cpuset. */
        r = dup_value(dnode(sxp, "cpus"), "cpus", &def->cpuset, error);
        if (r < 0)
                return r;
        if (def->cpuset && isempty(def->cpuset))
                def->cpuset = mfree(def->cpuset);

        r = parse_lifecycle(sxp, "on_poweroff", DOMAIN_LIFECYCLE_DESTROY, &def->on_poweroff, error);
        if (r < 0)
                return r;
        r = parse_lifecycle(sxp, "on_reboot", DOMAIN_LIFECYCLE_RESTART, &def->on_reboot, error);
        if (r < 0)
                return r;
        r = parse_lifecycle(sxp, "on_crash", DOMAIN_LIFECYCLE_DESTROY, &def->on_crash, error);
        if (r < 0)
                return r;

        img = dlookup(sxp, hvm ? "image/hvm" : "image/linux");

        if (hvm) {
                static const struct {
                        const char *key;
                        DomainFeature feature;
                } features[] = {
                        { "acpi",     DOMAIN_FEATURE_ACPI },
                        { "apic",     DOMAIN_FEATURE_APIC },
                        { "pae",      DOMAIN_FEATURE_PAE },
                        { "hap",      DOMAIN_FEATURE_HAP },
                        { "viridian", DOMAIN_FEATURE_VIRIDIAN },
                };

                for (size_t i = 0; i < ELEMENTSOF(features); i++) {
                        v = child_value(img, features[i].key);
                        if (!v)
                                continue;
                        r = parse_int_value(v, features[i].key, &i64, error);
                        if (r < 0)
                                return r;
                        domain_def_set_feature(def, features[i].feature, i64 != 0);
                }
        }

        r = parse_clock(sxp, def, hvm, version, error);
        if (r < 0)
                return r;

        r = dup_value(child_value(img, "device_model"), "device_model", &def->emulator, error);
        if (r < 0)
                return r;

        /* Devices, each kind in XenD's order. */
        SEXPR_FOREACH_CHILD(d, sxp) {
                const Sexpr *dev;
                const char *kind;

                if (!streq_ptr(sexpr_head(d), "device"))
                        continue;
                dev = sexpr_item(d, 1);
                kind = sexpr_head(dev);
                if (streq_ptr(kind, "vbd") || streq_ptr(kind, "tap") || streq_ptr(kind, "tap2"))
                        r = parse_disk(dev, def, hvm, version, error);
                else
                        r = 0;
                if (r < 0)
                        return r;
        }

        SEXPR_FOREACH_CHILD(d, sxp) {
                const Sexpr *dev = sexpr_item(d, 1);

                if (!streq_ptr(sexpr_head(d), "device") || !streq_ptr(sexpr_head(dev), "vif"))
                        continue;
                r = parse_net(dev, def, nets++, error);
                if (r < 0)
                        return r;
        }

        SEXPR_FOREACH_CHILD(d, sxp) {
                const Sexpr *dev = sexpr_item(d, 1);

                if (!streq_ptr(sexpr_head(d), "device") || !streq_ptr(sexpr_head(dev), "pci"))
                        continue;
                r = parse_pci(dev, def, error);
                if (r < 0)
                        return r;
                break;
        }

        SEXPR_FOREACH_CHILD(d, sxp) {
                const Sexpr *dev = sexpr_item(d, 1);

                if (!streq_ptr(sexpr_head(d), "device") || !streq_ptr(sexpr_head(dev), "vfb"))
                        continue;
                r = parse_graphics_new(dev, def, opts, error);
                if (r < 0)
                        return r;
                break;
        }

        if (def->n_graphics == 0 && img) {
                r = parse_graphics_old(img, def, version, opts, error);
                if (r < 0)
                        return r;
        }

        if (hvm) {
                /* xend 3.0.2 kept the CD-ROM in the image, always on hdc. */
                if (version == XEND_CONFIG_VERSION_3_0_2) {
                        bool have_hdc = false;

                        /* ...unless a (vbd) already claimed hdc: one device per target. */
                        for (size_t i = 0; i < def->n_disks; i++)
                                if (streq(def->disks[i].dst, "hdc"))
                                        have_hdc = true;

                        v = child_value(img, "cdrom");
                        if (!isempty(v) && !have_hdc) {
                                r = add_image_disk(def, v, "hdc", DOMAIN_DISK_DEVICE_CDROM,
                                                   DOMAIN_DISK_BUS_IDE, true, error);
                                if (r < 0)
                                        return r;
                        }
                }

                /* Every xend keeps floppies in the image. */
                for (size_t i = 0; i < 2; i++) {
                        const char *fd = i == 0 ? "fda" : "fdb";

                        v = child_value(img, fd);
                        if (isempty(v))
                                continue;
                        r = add_image_disk(def, v, fd, DOMAIN_DISK_DEVICE_FLOPPY, DOMAIN_DISK_BUS_FDC,
                                           false, error);
                        if (r < 0)
                                return r;
                }

                SEXPR_FOREACH_CHILD(c, img) {
                        DomainInput *in;

                        if (!streq_ptr(sexpr_head(c), "usbdevice"))
                                continue;
                        v = sexpr_atom(sexpr_item(c, 1));
                        if (!streq_ptr(v, "mouse") && !streq_ptr(v, "tablet"))
                                continue;       /* other USB devices have no place in the model */
                        r = domain_def_add_device(def->inputs, def->n_inputs, &in);
                        if (r < 0)
                                return add_error(r, "input", error);
                        in->type = streq(v, "tablet") ? DOMAIN_INPUT_TABLET : DOMAIN_INPUT_MOUSE;
                        in->bus = DOMAIN_INPUT_BUS_USB;
                }

                r = parse_serials(img, def, opts->serial_tty, error);
                if (r < 0)
                        return r;

                v = child_value(img, "parallel");
                if (v && !streq(v, "none")) {
                        r = add_chr(&def->parallels, &def->n_parallels, v, NULL, 0, "parallel", error);
                        if (r < 0)
                                return r;
                }

                /* The console of an HVM guest is its first serial port. */
                r = xen_domain_add_hvm_console(def);
                if (r < 0)
                        return add_error(r, "console", error);

                v = child_value(img, "soundhw");
                if (!isempty(v)) {
                        r = parse_sound(v, def, error);
                        if (r < 0)
                                return r;
                }
        } else if (def->id != 0) {
                /* The PV console is not in the S-expression: every PV guest has one, a pty. */
                r = xen_domain_add_pv_console(def, opts->console_tty);
                if (r < 0)
                        return add_error(r, "console", error);
        }

        /* A graphical console brings its mouse: PS/2 on HVM, the PV keyboard/mouse device on PV. */
        if (def->n_graphics > 0) {
                r = xen_domain_add_input(def, DOMAIN_INPUT_MOUSE, xen_domain_input_bus(def));
                if (r < 0)
                        return add_error(r, "input", error);
        }

        *ret = TAKE_PTR(def);
        return 0;
}

/* ---- DomainDef → (vm ...) ---- */

static int unsupported(XvError *error, const char *format, ...) _printf_(2, 3);
static int unsupported(XvError *error, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = xv_error_setv(error, XVP_ERR_CONFIG_UNSUPPORTED, format, ap);
        va_end(ap);
        return r;
}

/* Old HVM XML spells targets "ioemu:hda"; the prefix is xend's business, added per version. */
static const char *disk_target(const DomainDisk *disk) {
        const char *dst = strempty(disk->dst);

        if (strncmp(dst, "ioemu:", 6) == 0)
                dst += 6;
        return dst;
}

static int build_disk(Sexpr *parent, const DomainDisk *disk, bool hvm, int version, XvError *error) {
        const char *dst = disk_target(disk);
        const char *kind = "vbd";
        Sexpr *d;

        if (isempty(dst))
                return xv_error_setf(error, XVP_ERR_NO_TARGET, "Disk without a target device");
        /* xend reads a colon as the start of the ":disk"/":cdrom" kind, and "ioemu:" as a prefix:
         * only real device names come back the same. */
        if (!xen_disk_target_valid(dst))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid disk target '%s'", dst);
        if (disk->transient)
                return unsupported(error, "transient disks not supported yet");
        /* XenD reports a (vbd) without (uname) only as an empty HVM CD-ROM drive. */
        if (isempty(disk->src) && !(hvm && disk->device == DOMAIN_DISK_DEVICE_CDROM))
                return xv_error_setf(error, XVP_ERR_NO_SOURCE,
                                     "Disk '%s' has no source (only an HVM CD-ROM may be empty)", dst);

        if (streq_ptr(disk->driver_name, "tap"))
                kind = "tap";
        else if (streq_ptr(disk->driver_name, "tap2"))
                kind = "tap2";

        d = sexpr_add_list(parent, kind);

        if (hvm) {
                /* xend 3.0.2 wants an "ioemu:" prefix; later ones the kind as a suffix. */
                if (version == XEND_CONFIG_VERSION_3_0_2)
                        sexpr_add_pairf(d, "dev", "ioemu:%s", dst);
                else
                        sexpr_add_pairf(d, "dev", "%s:%s", dst,
                                        disk->device == DOMAIN_DISK_DEVICE_CDROM ? "cdrom" : "disk");
        } else if (disk->device == DOMAIN_DISK_DEVICE_CDROM)
                sexpr_add_pairf(d, "dev", "%s:cdrom", dst);
        else
                sexpr_add_pair(d, "dev", dst);

        if (!isempty(disk->src)) {
                if (streq_ptr(disk->driver_name, "tap") || streq_ptr(disk->driver_name, "tap2")) {
                        const char *type = disk->driver_type ?: "aio";

                        /* blktap calls raw images "aio". */
                        if (streq(type, "raw"))
                                type = "aio";
                        sexpr_add_pairf(d, "uname", "%s:%s:%s", disk->driver_name, type, disk->src);
                } else if (disk->driver_name)
                        sexpr_add_pairf(d, "uname", "%s:%s", disk->driver_name, disk->src);
                else if (disk->type == DOMAIN_DISK_TYPE_FILE)
                        sexpr_add_pairf(d, "uname", "file:%s", disk->src);
                else if (disk->type == DOMAIN_DISK_TYPE_BLOCK)
                        sexpr_add_pairf(d, "uname", "phy:%s%s", disk->src[0] == '/' ? "" : "/dev/",
                                        disk->src);
                else
                        return unsupported(error, "unsupported disk type %d", (int) disk->type);
        }

        sexpr_add_pair(d, "mode", disk->readonly ? "r" : disk->shareable ? "w!" : "w");
        return 0;
}

static int mac_generate(uint8_t mac[static 6]) {
        ssize_t n;

        /* Xen's OUI, 00:16:3e, as xend and libvirt used for generated addresses. */
        n = getrandom(mac + 3, 3, 0);
        if (n != 3)
                return n < 0 ? -errno : -EIO;
        mac[0] = 0x00;
        mac[1] = 0x16;
        mac[2] = 0x3e;
        mac[3] &= 0x7f;
        return 0;
}

static int build_net(Sexpr *parent, const DomainNet *net, bool hvm, int version, XvError *error) {
        char buf[18];
        uint8_t mac[6];
        Sexpr *v;
        int r;

        if (net->script && net->type != DOMAIN_NET_TYPE_BRIDGE && net->type != DOMAIN_NET_TYPE_ETHERNET)
                return unsupported(error, "scripts are not supported on interfaces of type %s",
                                   strnull(domain_net_type_to_string(net->type)));
        if (net->ips && net->ips[0] && net->ips[1])
                return unsupported(error, "Driver does not support setting multiple IP addresses");

        if (net->has_mac)
                memcpy(mac, net->mac, sizeof(mac));
        else {
                r = mac_generate(mac);
                if (r < 0)
                        return xv_error_set_errnof(error, r, "Failed to generate a MAC address");
        }

        v = sexpr_add_list(parent, "vif");
        sexpr_add_pair(v, "mac", domain_mac_format(mac, buf));
        if (net->rate_average > 0)
                sexpr_add_pairf(v, "rate", "%" PRIu64 "KB/s", net->rate_average);

        switch (net->type) {
        case DOMAIN_NET_TYPE_BRIDGE:
        case DOMAIN_NET_TYPE_NETWORK:
                /* A virtual network must have been resolved to its bridge by the caller. */
                if (isempty(net->bridge)) {
                        if (net->type == DOMAIN_NET_TYPE_NETWORK)
                                return unsupported(error, "network '%s' is not resolved to a bridge",
                                                   strnull(net->network));
                        return xv_error_setf(error, XVP_ERR_NO_SOURCE, "Bridged interface without a bridge");
                }
                sexpr_add_pair(v, "bridge", net->bridge);
                sexpr_add_pair(v, "script",
                               net->type == DOMAIN_NET_TYPE_BRIDGE && net->script ? net->script :
                                                                                    DEFAULT_VIF_SCRIPT);
                if (net->type == DOMAIN_NET_TYPE_BRIDGE && net->ips && net->ips[0])
                        sexpr_add_pair(v, "ip", net->ips[0]);
                break;

        case DOMAIN_NET_TYPE_ETHERNET:
                if (net->script)
                        sexpr_add_pair(v, "script", net->script);
                if (net->ips && net->ips[0])
                        sexpr_add_pair(v, "ip", net->ips[0]);
                break;

        default:
                return unsupported(error, "unsupported network type %d", (int) net->type);
        }

        /* vif* names are xend's own choice; only a custom name is configuration. */
        if (net->ifname && strncmp(net->ifname, "vif", 3) != 0)
                sexpr_add_pair(v, "vifname", net->ifname);

        if (!hvm) {
                if (net->model)
                        sexpr_add_pair(v, "model", net->model);
        } else if (streq_ptr(net->model, "netfront"))
                sexpr_add_pair(v, "type", "netfront");
        else {
                if (net->model)
                        sexpr_add_pair(v, "model", net->model);
                /* (type ioemu) broke PV drivers in HVM guests on later xend. */
                if (version <= XEND_CONFIG_MAX_VERS_NET_TYPE_IOEMU)
                        sexpr_add_pair(v, "type", "ioemu");
        }

        return 0;
}

static void build_pci_dev(Sexpr *parent, const DomainHostdevPci *h) {
        Sexpr *d = sexpr_add_list(parent, "dev");

        sexpr_add_pairf(d, "domain", "0x%04x", h->domain);
        sexpr_add_pairf(d, "bus", "0x%02x", h->bus);
        sexpr_add_pairf(d, "slot", "0x%02x", h->slot);
        sexpr_add_pairf(d, "func", "0x%x", h->function);
}

static int check_hostdev(const DomainHostdevPci *h, XvError *error) {
        if (h->managed)
                return unsupported(error, "managed PCI devices not supported with XenD");
        if (h->domain > 0xffff || h->bus > 0xff || h->slot > 0x1f || h->function > 7)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid PCI address %x:%x:%x.%x",
                                     h->domain, h->bus, h->slot, h->function);
        return 0;
}

/* The SDL and VNC options, spelled the same in a (vfb) device and in an HVM or old PV image. */
static void build_sdl_options(Sexpr *list, const DomainGraphics *g) {
        if (g->display)
                sexpr_add_pair(list, "display", g->display);
        if (g->xauth)
                sexpr_add_pair(list, "xauthority", g->xauth);
}

static void build_vnc_options(Sexpr *list, const DomainGraphics *g) {
        if (g->autoport || g->port <= 0)
                sexpr_add_pair(list, "vncunused", "1");
        else {
                sexpr_add_pair(list, "vncunused", "0");
                sexpr_add_pair_i64(list, "vncdisplay", g->port - 5900);
        }
        if (g->listen)
                sexpr_add_pair(list, "vnclisten", g->listen);
        if (g->passwd)
                sexpr_add_pair(list, "vncpasswd", g->passwd);
        if (g->keymap)
                sexpr_add_pair(list, "keymap", g->keymap);
}

static int build_graphics_new(Sexpr *vm, const DomainGraphics *g, XvError *error) {
        Sexpr *vfb;

        sexpr_add_list(sexpr_add_list(vm, "device"), "vkbd");
        vfb = sexpr_add_list(sexpr_add_list(vm, "device"), "vfb");

        if (g->type == DOMAIN_GRAPHICS_SDL) {
                sexpr_add_pair(vfb, "type", "sdl");
                build_sdl_options(vfb, g);
                return 0;
        }
        if (g->type != DOMAIN_GRAPHICS_VNC)
                return unsupported(error, "unexpected graphics type %d", (int) g->type);

        sexpr_add_pair(vfb, "type", "vnc");
        build_vnc_options(vfb, g);
        return 0;
}

static int build_graphics_old(Sexpr *img, const DomainGraphics *g, int version, XvError *error) {
        if (g->type == DOMAIN_GRAPHICS_SDL) {
                sexpr_add_pair(img, "sdl", "1");
                build_sdl_options(img, g);
                return 0;
        }
        if (g->type != DOMAIN_GRAPHICS_VNC)
                return unsupported(error, "unexpected graphics type %d", (int) g->type);

        sexpr_add_pair(img, "vnc", "1");
        /* xend 3.0.2 had no VNC options: the display was the domain id. */
        if (version >= XEND_CONFIG_VERSION_3_0_3)
                build_vnc_options(img, g);
        return 0;
}

static int chr_string(const DomainChr *chr, char **ret, XvError *error) {
        return xen_chr_format(chr, ret, error);
}

static int build_serials(Sexpr *img, const DomainDef *def, XvError *error) {
        const DomainChr *serials = def->serials;
        size_t n = def->n_serials;
        DomainChr from_console;
        int r;

        /* An HVM <console> without <serial> is the first serial port (libvirt's reading of
         * such XML). */
        if (n == 0 && def->n_consoles > 0 && def->consoles[0].target_type != DOMAIN_CHR_TARGET_XEN) {
                from_console = def->consoles[0];
                from_console.target_port = 0;
                serials = &from_console;
                n = 1;
        }

        if (n == 0) {
                sexpr_add_pair(img, "serial", "none");
                return 0;
        }

        if (n == 1 && serials[0].target_port <= 0) {
                _cleanup_free_ char *s = NULL;

                r = chr_string(&serials[0], &s, error);
                if (r < 0)
                        return r;
                sexpr_add_pair(img, "serial", s);
                return 0;
        }

        /* Several ports, or one not at port 0: a list with "none" for the free ports. */
        {
                int maxport = -1;
                Sexpr *list = sexpr_add_list(sexpr_add_list(img, "serial"), NULL);
                int next_free = 0;

                for (size_t i = 0; i < n; i++)
                        maxport = MAX(maxport, serials[i].target_port);
                if (maxport >= DOMAIN_DEVICES_MAX)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Serial port %d out of range",
                                             maxport);

                for (int port = 0; port <= maxport; port++) {
                        const DomainChr *chr = NULL;
                        _cleanup_free_ char *s = NULL;

                        for (size_t i = 0; i < n; i++)
                                if (serials[i].target_port == port) {
                                        chr = &serials[i];
                                        break;
                                }
                        /* A serial without a port number takes the next free one. */
                        if (!chr)
                                for (size_t i = 0; i < n; i++)
                                        if (serials[i].target_port < 0 && (int) i == next_free) {
                                                chr = &serials[i];
                                                next_free++;
                                                break;
                                        }
                        if (!chr) {
                                sexpr_add_atom(list, "none");
                                continue;
                        }
                        r = chr_string(chr, &s, error);
                        if (r < 0)
                                return r;
                        sexpr_add_atom(list, s);
                }
        }
        return 0;
}

static int build_hvm_image(Sexpr *img, const DomainDef *def, int version, XvError *error) {
        static const DomainFeature features[] = {
                DOMAIN_FEATURE_ACPI, DOMAIN_FEATURE_APIC, DOMAIN_FEATURE_PAE,
                DOMAIN_FEATURE_HAP, DOMAIN_FEATURE_VIRIDIAN,
        };
        char boot[DOMAIN_BOOT_DEVS_MAX + 1] = {};
        int r;

        /* With a separate kernel, hvmloader is the (loader); otherwise it is the "kernel". */
        if (def->kernel)
                sexpr_add_pair(img, "loader", def->loader);
        else
                sexpr_add_pair(img, "kernel", def->loader);

        sexpr_add_pair_u64(img, "vcpus", def->vcpus);
        if (domain_def_current_vcpus(def) < def->vcpus)
                sexpr_add_pair_u64(img, "vcpu_avail", (UINT64_C(1) << domain_def_current_vcpus(def)) - 1);

        for (size_t i = 0; i < def->n_boot && i < DOMAIN_BOOT_DEVS_MAX; i++)
                boot[i] = (char) (def->boot[i] == DOMAIN_BOOT_FLOPPY ? 'a' :
                                  def->boot[i] == DOMAIN_BOOT_CDROM ? 'd' :
                                  def->boot[i] == DOMAIN_BOOT_NET ? 'n' : 'c');
        sexpr_add_pair(img, "boot", def->n_boot > 0 ? boot : "c");

        for (size_t i = 0, cdroms = 0; i < def->n_disks; i++) {
                const DomainDisk *disk = &def->disks[i];

                if (disk->device == DOMAIN_DISK_DEVICE_CDROM && version == XEND_CONFIG_VERSION_3_0_2) {
                        /* Only xend 3.0.2 wants the CD-ROM here, and only one, on hdc. */
                        if (streq(disk_target(disk), "hdc") && !isempty(disk->src) && cdroms++ == 0)
                                sexpr_add_pair(img, "cdrom", disk->src);
                } else if (disk->device == DOMAIN_DISK_DEVICE_FLOPPY) {
                        /* Every xend keeps floppies in the image. */
                        const char *dst = disk_target(disk);

                        if (!streq(dst, "fda") && !streq(dst, "fdb"))
                                return unsupported(error, "Floppy target '%s' is not fda or fdb", dst);
                        if (!isempty(disk->src))
                                sexpr_add_pair(img, dst, disk->src);
                }
        }

        /* A guest defined without any <features> gets the default-on PAE of the x86 HVM
         * capabilities, as the libvirt releases contemporary with xend 3.1+ applied them (the
         * 2012 driver for older xend did not). */
        if (def->features == 0 && version >= XEND_CONFIG_VERSION_3_1_0)
                sexpr_add_pair(img, "pae", "1");
        for (size_t i = 0; i < ELEMENTSOF(features); i++)
                if (domain_def_has_feature(def, features[i]))
                        sexpr_add_pair(img, domain_feature_to_string(features[i]), "1");

        sexpr_add_pair(img, "usb", "1");

        for (size_t i = 0; i < def->n_inputs; i++) {
                const DomainInput *in = &def->inputs[i];

                if (in->bus != DOMAIN_INPUT_BUS_USB)
                        continue;
                if (in->type != DOMAIN_INPUT_MOUSE && in->type != DOMAIN_INPUT_TABLET)
                        return unsupported(error, "unexpected USB input type %d", (int) in->type);
                sexpr_add_pair(img, "usbdevice", in->type == DOMAIN_INPUT_MOUSE ? "mouse" : "tablet");
        }

        if (def->n_parallels > 0) {
                _cleanup_free_ char *s = NULL;

                r = chr_string(&def->parallels[0], &s, error);
                if (r < 0)
                        return r;
                sexpr_add_pair(img, "parallel", s);
        } else
                sexpr_add_pair(img, "parallel", "none");

        r = build_serials(img, def, error);
        if (r < 0)
                return r;

        if (def->n_sounds > 0) {
                _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
                _cleanup_free_ char *s = NULL;

                for (size_t i = 0; i < def->n_sounds; i++) {
                        if (isempty(def->sounds[i].model) || strchr(def->sounds[i].model, ','))
                                return unsupported(error, "Invalid sound model '%s'",
                                                   strempty(def->sounds[i].model));
                        if (i > 0)
                                strbuf_appendc(&b, ',');
                        strbuf_append(&b, def->sounds[i].model);
                }
                r = strbuf_steal(&b, &s);
                if (r < 0)
                        return r;
                sexpr_add_pair(img, "soundhw", s);
        }

        return 0;
}

static int localtime_for(const DomainDef *def, bool hvm, int version, int *ret_localtime,
                         long long *ret_offset, XvError *error) {
        const DomainClock *c = &def->clock;
        bool rtc_variable = hvm && version >= XEND_CONFIG_VERSION_3_1_0;

        /* Since 3.1 an HVM guest's RTC offset persists, and a fixed offset with
         * adjustment='reset' is refused there, as libvirt's XenD driver refused it. */
        if (rtc_variable && c->adjustment_reset &&
            (c->offset == DOMAIN_CLOCK_UTC || c->offset == DOMAIN_CLOCK_LOCALTIME))
                return unsupported(error, "unsupported clock adjustment='reset'");

        return xen_domain_clock_to_xen(c, rtc_variable, ret_localtime, ret_offset, error);
}

int sexpr_domain_build(const DomainDef *def, int version, Sexpr **ret, XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *vm = NULL;
        char uuid[UUID_STRING_BUF];
        const char *bootloader;
        Sexpr *img = NULL;
        bool hvm;
        int localtime = 0;
        long long rtc_offset = 0;
        int r;

        assert(def);
        assert(ret);

        if (version < XEND_CONFIG_VERSION_3_0_2 || version > XEND_CONFIG_VERSION_3_1_0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported xend config version %d",
                                     version);
        if (isempty(def->name))
                return xv_error_setf(error, XVP_ERR_NO_NAME, "Domain without a name");
        if (def->vcpus == 0 || def->vcpus > 64)
                /* vcpu_avail is a 64-bit mask. */
                return unsupported(error, "Unsupported number of vcpus %u (1..64)", def->vcpus);

        hvm = domain_def_is_hvm(def);

        r = sexpr_new_list("vm", &vm);
        if (r < 0)
                return r;

        sexpr_add_pair(vm, "name", def->name);
        /* MiB, rounded up. */
        sexpr_add_pair_u64(vm, "memory", (domain_def_current_memory(def) + 1023) / 1024);
        sexpr_add_pair_u64(vm, "maxmem", (def->memory_kib + 1023) / 1024);
        sexpr_add_pair_u64(vm, "vcpus", def->vcpus);
        if (domain_def_current_vcpus(def) < def->vcpus)
                sexpr_add_pair_u64(vm, "vcpu_avail", (UINT64_C(1) << domain_def_current_vcpus(def)) - 1);
        if (def->cpuset)
                sexpr_add_pair(vm, "cpus", def->cpuset);
        /* Like libvirt, whose XML parser generated a UUID when <uuid> was absent (and like the
         * XM writer), a definition without one gets a fresh UUID: XenD's replies always carry one,
         * and xenvirt identifies domains by it. */
        if (def->has_uuid)
                sexpr_add_pair(vm, "uuid", uuid_format(&def->uuid, uuid));
        else {
                XvUuid u;

                r = uuid_new_random(&u);
                if (r < 0)
                        return xv_error_set_errnof(error, r, "Failed to generate UUID");
                sexpr_add_pair(vm, "uuid", uuid_format(&u, uuid));
        }
        if (def->description)
                sexpr_add_pair(vm, "description", def->description);

        /* A bootloader is a PV matter (pygrub); HVM guests boot hvmloader, and xend's reply
         * for them is read without one. */
        bootloader = hvm ? NULL : def->bootloader;

        if (bootloader) {
                /* An empty bootloader asks xend for its default one. */
                sexpr_add_pair(vm, "bootloader", isempty(bootloader) ? NULL : bootloader);
                if (def->bootloader_args)
                        sexpr_add_pair(vm, "bootloader_args", def->bootloader_args);
        }

        sexpr_add_pair(vm, "on_poweroff", domain_lifecycle_action_to_string(def->on_poweroff));
        sexpr_add_pair(vm, "on_reboot", domain_lifecycle_action_to_string(def->on_reboot));
        sexpr_add_pair(vm, "on_crash", domain_lifecycle_action_to_string(def->on_crash));
        if (!domain_lifecycle_action_to_string(def->on_poweroff) ||
            !domain_lifecycle_action_to_string(def->on_reboot) ||
            !domain_lifecycle_action_to_string(def->on_crash))
                return xv_error_setf(error, XVP_ERR_INTERNAL, "unexpected lifecycle value");

        if (!bootloader) {
                img = sexpr_add_list(sexpr_add_list(vm, "image"), hvm ? "hvm" : "linux");

                if (hvm && !def->loader)
                        return xv_error_setf(error, XVP_ERR_NO_KERNEL, "no HVM domain loader");
                /* xend could not build it, and reading it back would fail the same way. */
                if (!hvm && !def->kernel)
                        return xv_error_setf(error, XVP_ERR_NO_KERNEL,
                                             "PV domain needs a kernel or a bootloader");

                /* Without a kernel of its own, an HVM guest boots hvmloader, which takes no
                 * initrd or arguments: xend would drop them, and so does the reader. */
                if (def->kernel)
                        sexpr_add_pair(img, "kernel", def->kernel);
                if (def->initrd && (!hvm || def->kernel))
                        sexpr_add_pair(img, "ramdisk", def->initrd);
                if (def->root && (!hvm || def->kernel))
                        sexpr_add_pair(img, "root", def->root);
                if (def->cmdline && (!hvm || def->kernel))
                        sexpr_add_pair(img, "args", def->cmdline);

                if (hvm) {
                        r = build_hvm_image(img, def, version, error);
                        if (r < 0)
                                return r;
                }

                /* PV may name a device model (for its framebuffer) since 3.0.4. */
                if (def->emulator && (hvm || version >= XEND_CONFIG_VERSION_3_0_4))
                        sexpr_add_pair(img, "device_model", def->emulator);

                for (size_t i = 0; i < def->clock.n_timers; i++) {
                        const DomainTimer *t = &def->clock.timers[i];

                        if (streq_ptr(t->name, "hpet") && t->present != DOMAIN_TRISTATE_ABSENT) {
                                sexpr_add_pair(img, "hpet", t->present == DOMAIN_TRISTATE_YES ? "1" : "0");
                                break;
                        }
                }

                /* HVM graphics, and PV graphics before 3.0.4, are image keys. */
                if ((hvm || version < XEND_CONFIG_MIN_VERS_PVFB_NEWCONF) && def->n_graphics == 1) {
                        r = build_graphics_old(img, &def->graphics[0], version, error);
                        if (r < 0)
                                return r;
                }
        } else if (def->cmdline) {
                /* A bootloader finds the kernel, but PV kernel arguments still apply. */
                img = sexpr_add_list(sexpr_add_list(vm, "image"), "linux");
                sexpr_add_pair(img, "args", def->cmdline);
        }

        r = localtime_for(def, hvm, version, &localtime, &rtc_offset, error);
        if (r < 0)
                return r;

        /* Since 3.1 xend reads an HVM guest's clock from the image (rtc_timeoffset, localtime).
         * libvirt never wrote an image-level localtime for PV guests (a bootloader guest has no
         * image at all), and the PV conformance vectors agree: PV keeps the top-level key only. */
        if (version >= XEND_CONFIG_VERSION_3_1_0 && hvm && img) {
                sexpr_add_pair_i64(img, "rtc_timeoffset", rtc_offset);
                sexpr_add_pair_i64(img, "localtime", localtime);
        }
        /* The pre-3.1 location, kept for compatibility. */
        sexpr_add_pair_i64(vm, "localtime", localtime);

        for (size_t i = 0; i < def->n_disks; i++) {
                const DomainDisk *disk = &def->disks[i];

                /* Floppies, and 3.0.2's CD-ROM, live in the image (see above). */
                if (hvm && disk->device == DOMAIN_DISK_DEVICE_FLOPPY)
                        continue;
                if (hvm && disk->device == DOMAIN_DISK_DEVICE_CDROM && version == XEND_CONFIG_VERSION_3_0_2)
                        continue;

                r = build_disk(sexpr_add_list(vm, "device"), disk, hvm, version, error);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < def->n_nets; i++) {
                r = build_net(sexpr_add_list(vm, "device"), &def->nets[i], hvm, version, error);
                if (r < 0)
                        return r;
        }

        if (def->n_hostdevs > 0) {
                /* One (device (pci ...)) holds every function (xend's layout). */
                Sexpr *pci = sexpr_add_list(sexpr_add_list(vm, "device"), "pci");

                for (size_t i = 0; i < def->n_hostdevs; i++) {
                        r = check_hostdev(&def->hostdevs[i], error);
                        if (r < 0)
                                return r;
                        build_pci_dev(pci, &def->hostdevs[i]);
                }
        }

        if (!hvm && version >= XEND_CONFIG_MIN_VERS_PVFB_NEWCONF && def->n_graphics == 1) {
                r = build_graphics_new(vm, &def->graphics[0], error);
                if (r < 0)
                        return r;
        }

        r = sexpr_check(vm);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(vm);
        return 0;
}

int sexpr_domain_from_def(const DomainDef *def, int xend_config_version, char **ret, XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *vm = NULL;
        int r;

        assert(ret);

        r = sexpr_domain_build(def, xend_config_version, &vm, error);
        if (r < 0)
                return r;
        return sexpr_format(vm, ret);
}

/* ---- Hot-plug device configurations ---- */

/* Hands out the one device a build_*() call appended to @holder, a temporary list, once the
 * checks every formatted S-expression gets have passed. */
static int holder_take_device(Sexpr *holder, Sexpr **ret) {
        int r;

        r = sexpr_check(holder);
        if (r < 0)
                return r;

        assert(holder->n_items == 1);
        *ret = holder->items[0];
        holder->n_items = 0;
        return 0;
}

int sexpr_device_from_disk(const DomainDisk *disk, bool hvm, int version, Sexpr **ret, XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *holder = NULL;
        int r;

        assert(disk);
        assert(ret);

        if (hvm && disk->device == DOMAIN_DISK_DEVICE_FLOPPY)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Cannot directly attach floppy %s",
                                     strempty(disk->src));
        if (hvm && disk->device == DOMAIN_DISK_DEVICE_CDROM && version == XEND_CONFIG_VERSION_3_0_2)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Cannot directly attach CDROM %s",
                                     strempty(disk->src));

        r = sexpr_new_list(NULL, &holder);
        if (r < 0)
                return r;
        r = build_disk(holder, disk, hvm, version, error);
        if (r < 0)
                return r;
        return holder_take_device(holder, ret);
}

int sexpr_device_from_net(const DomainNet *net, bool hvm, int version, Sexpr **ret, XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *holder = NULL;
        int r;

        assert(net);
        assert(ret);

        r = sexpr_new_list(NULL, &holder);
        if (r < 0)
                return r;
        r = build_net(holder, net, hvm, version, error);
        if (r < 0)
                return r;
        return holder_take_device(holder, ret);
}

int sexpr_device_from_hostdev(const DomainHostdevPci *hostdev, bool detach, Sexpr **ret, XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *pci = NULL;
        int r;

        assert(hostdev);
        assert(ret);

        r = check_hostdev(hostdev, error);
        if (r < 0)
                return r;

        r = sexpr_new_list("pci", &pci);
        if (r < 0)
                return r;
        build_pci_dev(pci, hostdev);
        /* xend's PCI hot-plug state machine: Initialising to add, Closing to remove. */
        sexpr_add_pair(pci, "state", detach ? "Closing" : "Initialising");
        r = sexpr_check(pci);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(pci);
        return 0;
}
