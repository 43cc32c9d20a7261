/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "xv-alloc.h"
#include "xv-domain-def.h"
#include "xv-parse-util.h"

/* The highest physical CPU number a cpuset may name (libvirt's bitmaps stop well before). */
#define CPUSET_CPU_MAX 4096

/* String tables: the spelling of libvirt's domain XML. A NULL entry has no spelling (for example
 * DOMAIN_DISK_BUS_DEFAULT, which means "not given") and is never matched by from_string(). */
#define DEFINE_STRING_TABLE(name, type, max)                                    \
        const char *name##_to_string(type t) {                                  \
                if ((int) t < 0 || (int) t >= (int) (max))                      \
                        return NULL;                                            \
                return name##_table[t];                                         \
        }                                                                       \
        type name##_from_string(const char *s) {                                \
                if (!s)                                                         \
                        return (type) -EINVAL;                                  \
                for (size_t i = 0; i < (size_t) (max); i++)                     \
                        if (name##_table[i] && streq(name##_table[i], s))       \
                                return (type) i;                                \
                return (type) -EINVAL;                                          \
        }

static const char * const domain_os_type_table[_DOMAIN_OS_TYPE_MAX] = {
        [DOMAIN_OS_LINUX] = "linux",
        [DOMAIN_OS_XEN] = "xen",
        [DOMAIN_OS_HVM] = "hvm",
};
DEFINE_STRING_TABLE(domain_os_type, DomainOsType, _DOMAIN_OS_TYPE_MAX);

static const char * const domain_lifecycle_action_table[_DOMAIN_LIFECYCLE_ACTION_MAX] = {
        [DOMAIN_LIFECYCLE_DESTROY] = "destroy",
        [DOMAIN_LIFECYCLE_RESTART] = "restart",
        [DOMAIN_LIFECYCLE_RENAME_RESTART] = "rename-restart",
        [DOMAIN_LIFECYCLE_PRESERVE] = "preserve",
        [DOMAIN_LIFECYCLE_COREDUMP_DESTROY] = "coredump-destroy",
        [DOMAIN_LIFECYCLE_COREDUMP_RESTART] = "coredump-restart",
};
DEFINE_STRING_TABLE(domain_lifecycle_action, DomainLifecycleAction, _DOMAIN_LIFECYCLE_ACTION_MAX);

static const char * const domain_boot_dev_table[_DOMAIN_BOOT_DEV_MAX] = {
        [DOMAIN_BOOT_FLOPPY] = "fd",
        [DOMAIN_BOOT_DISK] = "hd",
        [DOMAIN_BOOT_CDROM] = "cdrom",
        [DOMAIN_BOOT_NET] = "network",
};
DEFINE_STRING_TABLE(domain_boot_dev, DomainBootDev, _DOMAIN_BOOT_DEV_MAX);

static const char * const domain_feature_table[_DOMAIN_FEATURE_MAX] = {
        [DOMAIN_FEATURE_PAE] = "pae",
        [DOMAIN_FEATURE_ACPI] = "acpi",
        [DOMAIN_FEATURE_APIC] = "apic",
        [DOMAIN_FEATURE_HAP] = "hap",
        [DOMAIN_FEATURE_VIRIDIAN] = "viridian",
};
DEFINE_STRING_TABLE(domain_feature, DomainFeature, _DOMAIN_FEATURE_MAX);

static const char * const domain_clock_offset_table[_DOMAIN_CLOCK_OFFSET_MAX] = {
        [DOMAIN_CLOCK_UTC] = "utc",
        [DOMAIN_CLOCK_LOCALTIME] = "localtime",
        [DOMAIN_CLOCK_VARIABLE] = "variable",
};
DEFINE_STRING_TABLE(domain_clock_offset, DomainClockOffset, _DOMAIN_CLOCK_OFFSET_MAX);

static const char * const domain_clock_basis_table[_DOMAIN_CLOCK_BASIS_MAX] = {
        [DOMAIN_CLOCK_BASIS_UTC] = "utc",
        [DOMAIN_CLOCK_BASIS_LOCALTIME] = "localtime",
};
DEFINE_STRING_TABLE(domain_clock_basis, DomainClockBasis, _DOMAIN_CLOCK_BASIS_MAX);

static const char * const domain_disk_type_table[_DOMAIN_DISK_TYPE_MAX] = {
        [DOMAIN_DISK_TYPE_FILE] = "file",
        [DOMAIN_DISK_TYPE_BLOCK] = "block",
};
DEFINE_STRING_TABLE(domain_disk_type, DomainDiskType, _DOMAIN_DISK_TYPE_MAX);

static const char * const domain_disk_device_table[_DOMAIN_DISK_DEVICE_MAX] = {
        [DOMAIN_DISK_DEVICE_DISK] = "disk",
        [DOMAIN_DISK_DEVICE_CDROM] = "cdrom",
        [DOMAIN_DISK_DEVICE_FLOPPY] = "floppy",
};
DEFINE_STRING_TABLE(domain_disk_device, DomainDiskDevice, _DOMAIN_DISK_DEVICE_MAX);

static const char * const domain_disk_bus_table[_DOMAIN_DISK_BUS_MAX] = {
        [DOMAIN_DISK_BUS_DEFAULT] = NULL,
        [DOMAIN_DISK_BUS_IDE] = "ide",
        [DOMAIN_DISK_BUS_FDC] = "fdc",
        [DOMAIN_DISK_BUS_SCSI] = "scsi",
        [DOMAIN_DISK_BUS_XEN] = "xen",
        [DOMAIN_DISK_BUS_USB] = "usb",
        [DOMAIN_DISK_BUS_VIRTIO] = "virtio",
};
DEFINE_STRING_TABLE(domain_disk_bus, DomainDiskBus, _DOMAIN_DISK_BUS_MAX);

static const char * const domain_net_type_table[_DOMAIN_NET_TYPE_MAX] = {
        [DOMAIN_NET_TYPE_BRIDGE] = "bridge",
        [DOMAIN_NET_TYPE_ETHERNET] = "ethernet",
        [DOMAIN_NET_TYPE_NETWORK] = "network",
};
DEFINE_STRING_TABLE(domain_net_type, DomainNetType, _DOMAIN_NET_TYPE_MAX);

static const char * const domain_graphics_type_table[_DOMAIN_GRAPHICS_TYPE_MAX] = {
        [DOMAIN_GRAPHICS_VNC] = "vnc",
        [DOMAIN_GRAPHICS_SDL] = "sdl",
};
DEFINE_STRING_TABLE(domain_graphics_type, DomainGraphicsType, _DOMAIN_GRAPHICS_TYPE_MAX);

static const char * const domain_input_type_table[_DOMAIN_INPUT_TYPE_MAX] = {
        [DOMAIN_INPUT_MOUSE] = "mouse",
        [DOMAIN_INPUT_TABLET] = "tablet",
        [DOMAIN_INPUT_KEYBOARD] = "keyboard",
};
DEFINE_STRING_TABLE(domain_input_type, DomainInputType, _DOMAIN_INPUT_TYPE_MAX);

static const char * const domain_input_bus_table[_DOMAIN_INPUT_BUS_MAX] = {
        [DOMAIN_INPUT_BUS_PS2] = "ps2",
        [DOMAIN_INPUT_BUS_USB] = "usb",
        [DOMAIN_INPUT_BUS_XEN] = "xen",
};
DEFINE_STRING_TABLE(domain_input_bus, DomainInputBus, _DOMAIN_INPUT_BUS_MAX);

static const char * const domain_chr_type_table[_DOMAIN_CHR_TYPE_MAX] = {
        [DOMAIN_CHR_NULL] = "null",
        [DOMAIN_CHR_VC] = "vc",
        [DOMAIN_CHR_PTY] = "pty",
        [DOMAIN_CHR_DEV] = "dev",
        [DOMAIN_CHR_FILE] = "file",
        [DOMAIN_CHR_PIPE] = "pipe",
        [DOMAIN_CHR_STDIO] = "stdio",
        [DOMAIN_CHR_UDP] = "udp",
        [DOMAIN_CHR_TCP] = "tcp",
        [DOMAIN_CHR_UNIX] = "unix",
};
DEFINE_STRING_TABLE(domain_chr_type, DomainChrType, _DOMAIN_CHR_TYPE_MAX);

static const char * const domain_chr_tcp_protocol_table[_DOMAIN_CHR_TCP_PROTOCOL_MAX] = {
        [DOMAIN_CHR_TCP_RAW] = "raw",
        [DOMAIN_CHR_TCP_TELNET] = "telnet",
};
DEFINE_STRING_TABLE(domain_chr_tcp_protocol, DomainChrTcpProtocol, _DOMAIN_CHR_TCP_PROTOCOL_MAX);

static const char * const domain_chr_target_type_table[_DOMAIN_CHR_TARGET_TYPE_MAX] = {
        [DOMAIN_CHR_TARGET_NONE] = NULL,
        [DOMAIN_CHR_TARGET_SERIAL] = "serial",
        [DOMAIN_CHR_TARGET_XEN] = "xen",
};
DEFINE_STRING_TABLE(domain_chr_target_type, DomainChrTargetType, _DOMAIN_CHR_TARGET_TYPE_MAX);

int domain_def_new(DomainDef **ret) {
        DomainDef *def;

        assert(ret);

        def = new0(DomainDef, 1);
        if (!def)
                return -ENOMEM;

        def->virt_type = DOMAIN_VIRT_XEN;
        def->id = -1;
        def->on_poweroff = DOMAIN_LIFECYCLE_DESTROY;
        def->on_reboot = DOMAIN_LIFECYCLE_RESTART;
        def->on_crash = DOMAIN_LIFECYCLE_DESTROY;
        def->os_type = DOMAIN_OS_LINUX;
        def->clock.offset = DOMAIN_CLOCK_UTC;

        *ret = def;
        return 0;
}

static void domain_timer_done(DomainTimer *t) {
        t->name = mfree(t->name);
        t->mode = mfree(t->mode);
        t->tickpolicy = mfree(t->tickpolicy);
}

void domain_disk_done(DomainDisk *d) {
        if (!d)
                return;
        d->driver_name = mfree(d->driver_name);
        d->driver_type = mfree(d->driver_type);
        d->src = mfree(d->src);
        d->dst = mfree(d->dst);
}

void domain_net_done(DomainNet *n) {
        if (!n)
                return;
        n->bridge = mfree(n->bridge);
        n->network = mfree(n->network);
        n->source_dev = mfree(n->source_dev);
        n->script = mfree(n->script);
        n->ips = strv_free(n->ips);
        n->model = mfree(n->model);
        n->ifname = mfree(n->ifname);
}

void domain_graphics_done(DomainGraphics *g) {
        if (!g)
                return;
        g->listen = mfree(g->listen);
        if (g->passwd) {
                /* A secret: do not leave it behind in freed heap memory. */
                explicit_bzero(g->passwd, strlen(g->passwd));
                g->passwd = mfree(g->passwd);
        }
        g->keymap = mfree(g->keymap);
        g->display = mfree(g->display);
        g->xauth = mfree(g->xauth);
}

void domain_chr_init(DomainChr *c) {
        assert(c);

        *c = (DomainChr) {
                .target_port = -1,
        };
}

void domain_chr_done(DomainChr *c) {
        if (!c)
                return;
        c->path = mfree(c->path);
        c->host = mfree(c->host);
        c->service = mfree(c->service);
        c->bind_host = mfree(c->bind_host);
        c->bind_service = mfree(c->bind_service);
}

static void domain_chrs_free(DomainChr *v, size_t n) {
        for (size_t i = 0; i < n; i++)
                domain_chr_done(&v[i]);
        free(v);
}

DomainDef *domain_def_free(DomainDef *def) {
        if (!def)
                return NULL;

        free(def->name);
        free(def->description);
        free(def->cpuset);
        free(def->os_arch);
        free(def->os_machine);
        free(def->bootloader);
        free(def->bootloader_args);
        free(def->kernel);
        free(def->initrd);
        free(def->cmdline);
        free(def->root);
        free(def->loader);
        free(def->emulator);
        free(def->memballoon_model);

        for (size_t i = 0; i < def->clock.n_timers; i++)
                domain_timer_done(&def->clock.timers[i]);
        free(def->clock.timers);

        for (size_t i = 0; i < def->n_disks; i++)
                domain_disk_done(&def->disks[i]);
        free(def->disks);
        for (size_t i = 0; i < def->n_nets; i++)
                domain_net_done(&def->nets[i]);
        free(def->nets);
        free(def->hostdevs);
        for (size_t i = 0; i < def->n_graphics; i++)
                domain_graphics_done(&def->graphics[i]);
        free(def->graphics);
        free(def->inputs);
        domain_chrs_free(def->serials, def->n_serials);
        domain_chrs_free(def->parallels, def->n_parallels);
        domain_chrs_free(def->consoles, def->n_consoles);
        for (size_t i = 0; i < def->n_sounds; i++)
                free(def->sounds[i].model);
        free(def->sounds);
        for (size_t i = 0; i < def->n_videos; i++)
                free(def->videos[i].model);
        free(def->videos);

        return mfree(def);
}

int domain_def_add_device_internal(void **vec, size_t *n, size_t size, void **ret) {
        void *p;

        assert(vec);
        assert(n);
        assert(size > 0);

        if (*n >= DOMAIN_DEVICES_MAX)
                return -E2BIG;

        /* At most DOMAIN_DEVICES_MAX elements: growing one at a time costs nothing. */
        p = realloc(*vec, (*n + 1) * size);
        if (!p)
                return -ENOMEM;
        *vec = p;
        memset((uint8_t *) p + *n * size, 0, size);
        if (ret)
                *ret = (uint8_t *) p + *n * size;
        (*n)++;
        return 0;
}

/* Deep copy helpers. Each copies into a zeroed destination and may leave it half-filled on
 * failure; the caller's destructor frees whatever was copied. */
#define COPY_STR(dst, src)                                              \
        do {                                                            \
                if ((src) && !((dst) = strdup(src)))                    \
                        return -ENOMEM;                                 \
        } while (0)

static int domain_disk_copy(const DomainDisk *s, DomainDisk *d) {
        *d = (DomainDisk) {
                .type = s->type,
                .device = s->device,
                .bus = s->bus,
                .readonly = s->readonly,
                .shareable = s->shareable,
                .transient = s->transient,
        };
        COPY_STR(d->driver_name, s->driver_name);
        COPY_STR(d->driver_type, s->driver_type);
        COPY_STR(d->src, s->src);
        COPY_STR(d->dst, s->dst);
        return 0;
}

static int domain_net_copy(const DomainNet *s, DomainNet *d) {
        *d = (DomainNet) {
                .type = s->type,
                .has_mac = s->has_mac,
                .rate_average = s->rate_average,
        };
        memcpy(d->mac, s->mac, sizeof(d->mac));
        COPY_STR(d->bridge, s->bridge);
        COPY_STR(d->network, s->network);
        COPY_STR(d->source_dev, s->source_dev);
        COPY_STR(d->script, s->script);
        COPY_STR(d->model, s->model);
        COPY_STR(d->ifname, s->ifname);
        STRV_FOREACH(ip, s->ips)
                if (strv_extend(&d->ips, *ip) < 0)
                        return -ENOMEM;
        return 0;
}

static int domain_graphics_copy(const DomainGraphics *s, DomainGraphics *d) {
        *d = (DomainGraphics) {
                .type = s->type,
                .port = s->port,
                .autoport = s->autoport,
                .fullscreen = s->fullscreen,
        };
        COPY_STR(d->listen, s->listen);
        COPY_STR(d->passwd, s->passwd);
        COPY_STR(d->keymap, s->keymap);
        COPY_STR(d->display, s->display);
        COPY_STR(d->xauth, s->xauth);
        return 0;
}

int domain_chr_copy(const DomainChr *s, DomainChr *d) {
        *d = (DomainChr) {
                .type = s->type,
                .listen = s->listen,
                .protocol = s->protocol,
                .target_port = s->target_port,
                .target_type = s->target_type,
        };
        COPY_STR(d->path, s->path);
        COPY_STR(d->host, s->host);
        COPY_STR(d->service, s->service);
        COPY_STR(d->bind_host, s->bind_host);
        COPY_STR(d->bind_service, s->bind_service);
        return 0;
}

static int domain_timer_copy(const DomainTimer *s, DomainTimer *d) {
        *d = (DomainTimer) {
                .present = s->present,
        };
        COPY_STR(d->name, s->name);
        COPY_STR(d->mode, s->mode);
        COPY_STR(d->tickpolicy, s->tickpolicy);
        return 0;
}

static int domain_sound_copy(const DomainSound *s, DomainSound *d) {
        *d = (DomainSound) {};
        COPY_STR(d->model, s->model);
        return 0;
}

static int domain_video_copy(const DomainVideo *s, DomainVideo *d) {
        *d = *s;
        d->model = NULL;
        COPY_STR(d->model, s->model);
        return 0;
}

static int domain_hostdev_copy(const DomainHostdevPci *s, DomainHostdevPci *d) {
        *d = *s;
        return 0;
}

static int domain_input_copy(const DomainInput *s, DomainInput *d) {
        *d = *s;
        return 0;
}

/* Copies a device vector element by element. The destination count grows with each element that
 * was started, so that the destructor of the destination also frees a half-copied element. */
#define COPY_VECTOR(dst, n_dst, src, n_src, copy)                               \
        do {                                                                    \
                if ((n_src) > 0) {                                              \
                        (dst) = calloc((n_src), sizeof((src)[0]));              \
                        if (!(dst))                                             \
                                return -ENOMEM;                                 \
                        for (size_t _i = 0; _i < (n_src); _i++) {               \
                                (n_dst) = _i + 1;                               \
                                r = copy(&(src)[_i], &(dst)[_i]);               \
                                if (r < 0)                                      \
                                        return r;                               \
                        }                                                       \
                }                                                               \
        } while (0)

int domain_def_copy(const DomainDef *def, DomainDef **ret) {
        _cleanup_(domain_def_freep) DomainDef *c = NULL;
        int r;

        assert(def);
        assert(ret);

        c = new0(DomainDef, 1);
        if (!c)
                return -ENOMEM;

        c->virt_type = def->virt_type;
        c->id = def->id;
        c->uuid = def->uuid;
        c->has_uuid = def->has_uuid;
        c->memory_kib = def->memory_kib;
        c->current_memory_kib = def->current_memory_kib;
        c->vcpus = def->vcpus;
        c->vcpus_current = def->vcpus_current;
        c->on_poweroff = def->on_poweroff;
        c->on_reboot = def->on_reboot;
        c->on_crash = def->on_crash;
        c->os_type = def->os_type;
        memcpy(c->boot, def->boot, sizeof(c->boot));
        c->n_boot = def->n_boot;
        c->features = def->features;
        c->clock = def->clock;
        c->clock.timers = NULL;
        c->clock.n_timers = 0;

        COPY_STR(c->name, def->name);
        COPY_STR(c->description, def->description);
        COPY_STR(c->cpuset, def->cpuset);
        COPY_STR(c->os_arch, def->os_arch);
        COPY_STR(c->os_machine, def->os_machine);
        COPY_STR(c->bootloader, def->bootloader);
        COPY_STR(c->bootloader_args, def->bootloader_args);
        COPY_STR(c->kernel, def->kernel);
        COPY_STR(c->initrd, def->initrd);
        COPY_STR(c->cmdline, def->cmdline);
        COPY_STR(c->root, def->root);
        COPY_STR(c->loader, def->loader);
        COPY_STR(c->emulator, def->emulator);
        COPY_STR(c->memballoon_model, def->memballoon_model);

        COPY_VECTOR(c->clock.timers, c->clock.n_timers, def->clock.timers, def->clock.n_timers,
                    domain_timer_copy);
        COPY_VECTOR(c->disks, c->n_disks, def->disks, def->n_disks, domain_disk_copy);
        COPY_VECTOR(c->nets, c->n_nets, def->nets, def->n_nets, domain_net_copy);
        COPY_VECTOR(c->hostdevs, c->n_hostdevs, def->hostdevs, def->n_hostdevs, domain_hostdev_copy);
        COPY_VECTOR(c->graphics, c->n_graphics, def->graphics, def->n_graphics, domain_graphics_copy);
        COPY_VECTOR(c->inputs, c->n_inputs, def->inputs, def->n_inputs, domain_input_copy);
        COPY_VECTOR(c->serials, c->n_serials, def->serials, def->n_serials, domain_chr_copy);
        COPY_VECTOR(c->parallels, c->n_parallels, def->parallels, def->n_parallels, domain_chr_copy);
        COPY_VECTOR(c->consoles, c->n_consoles, def->consoles, def->n_consoles, domain_chr_copy);
        COPY_VECTOR(c->sounds, c->n_sounds, def->sounds, def->n_sounds, domain_sound_copy);
        COPY_VECTOR(c->videos, c->n_videos, def->videos, def->n_videos, domain_video_copy);

        *ret = TAKE_PTR(c);
        return 0;
}

static bool domain_name_is_valid(const char *name) {
        if (isempty(name))
                return false;
        if (strlen(name) >= DOMAIN_NAME_MAX)
                return false;
        /* A name becomes a file name under /etc/xen and a xenstore value: no slashes, no control
         * characters. */
        for (const char *p = name; *p; p++)
                if (*p == '/' || (unsigned char) *p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

static const char *skip_blanks(const char *p) {
        return p + strspn(p, " \t");
}

/* libvirt's cpuset syntax: "N", "N-M" and "^N" items separated by commas, blanks allowed around
 * items, e.g. "0-3,^2". The converters copy it into XM files and S-expressions, so anything else
 * (quotes in particular) must not get that far. */
static bool cpuset_is_valid(const char *s) {
        const char *p = s;

        for (;;) {
                uint64_t a, b;
                bool negate;

                p = skip_blanks(p);
                negate = *p == '^';
                if (negate)
                        p++;
                if (parse_u64_prefix(p, &a, &p) < 0 || a >= CPUSET_CPU_MAX)
                        return false;
                if (*p == '-') {
                        if (negate)
                                return false;
                        p++;
                        if (parse_u64_prefix(p, &b, &p) < 0 || b >= CPUSET_CPU_MAX || b < a)
                                return false;
                }
                p = skip_blanks(p);
                if (*p == 0)
                        return true;
                if (*p != ',')
                        return false;
                p++;
        }
}

int domain_def_validate(const DomainDef *def, XvError *error) {
        assert(def);

        if (!def->name)
                return xv_error_setf(error, XVP_ERR_NO_NAME, "Missing domain name");
        if (!domain_name_is_valid(def->name))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid domain name '%s'", def->name);

        if (def->memory_kib == 0)
                return xv_error_setf(error, XVP_ERR_XML, "Memory size must be greater than zero");
        if (def->current_memory_kib > def->memory_kib)
                return xv_error_setf(error, XVP_ERR_XML,
                                     "Current memory %" PRIu64 " KiB exceeds maximum memory %" PRIu64 " KiB",
                                     def->current_memory_kib, def->memory_kib);

        if (def->vcpus < 1 || def->vcpus > DOMAIN_VCPUS_MAX)
                return xv_error_setf(error, XVP_ERR_XML, "Number of vcpus %u is out of range 1..%u",
                                     def->vcpus, (unsigned) DOMAIN_VCPUS_MAX);
        if (def->vcpus_current > def->vcpus)
                return xv_error_setf(error, XVP_ERR_XML,
                                     "Current vcpu count %u exceeds maximum vcpu count %u",
                                     def->vcpus_current, def->vcpus);

        if (def->cpuset && !cpuset_is_valid(def->cpuset))
                return xv_error_setf(error, XVP_ERR_XML, "Invalid cpuset '%s'", def->cpuset);

        for (size_t i = 0; i < def->n_disks; i++) {
                const DomainDisk *d = &def->disks[i];

                if (isempty(d->dst))
                        return xv_error_setf(error, XVP_ERR_NO_TARGET, "Missing disk target");
                if (!d->src && d->device == DOMAIN_DISK_DEVICE_DISK)
                        return xv_error_setf(error, XVP_ERR_NO_SOURCE,
                                             "Missing source for disk '%s'", d->dst);
                for (size_t j = 0; j < i; j++)
                        if (streq_ptr(def->disks[j].dst, d->dst))
                                return xv_error_setf(error, XVP_ERR_XML,
                                                     "Target '%s' duplicated for disk sources '%s' and '%s'",
                                                     d->dst, strempty(def->disks[j].src),
                                                     strempty(d->src));
        }

        return 0;
}

int domain_mac_parse(const char *s, uint8_t ret[static 6]) {
        uint8_t mac[6];
        const char *p = s;

        if (!s)
                return -EINVAL;

        /* Six groups of one or two hex digits separated by ':', as virMacAddrParse() takes. */
        for (size_t i = 0; i < 6; i++) {
                int a, b;

                a = unhexchar(*p);
                if (a < 0)
                        return -EINVAL;
                p++;
                b = unhexchar(*p);
                if (b >= 0) {
                        a = a * 16 + b;
                        p++;
                }
                mac[i] = (uint8_t) a;

                if (i < 5) {
                        if (*p != ':')
                                return -EINVAL;
                        p++;
                }
        }
        if (*p != 0)
                return -EINVAL;

        memcpy(ret, mac, 6);
        return 0;
}

char *domain_mac_format(const uint8_t mac[static 6], char buf[static 18]) {
        static const char hex[] = "0123456789abcdef";
        char *p = buf;

        for (size_t i = 0; i < 6; i++) {
                if (i > 0)
                        *p++ = ':';
                *p++ = hex[mac[i] >> 4];
                *p++ = hex[mac[i] & 15];
        }
        *p = 0;
        return buf;
}

DomainDiskBus domain_disk_bus_from_target(const char *dst) {
        static const struct {
                const char *prefix;
                DomainDiskBus bus;
        } table[] = {
                { "xvd", DOMAIN_DISK_BUS_XEN },
                { "hd", DOMAIN_DISK_BUS_IDE },
                { "sd", DOMAIN_DISK_BUS_SCSI },
                { "fd", DOMAIN_DISK_BUS_FDC },
                { "vd", DOMAIN_DISK_BUS_VIRTIO },
        };

        if (!dst)
                return DOMAIN_DISK_BUS_DEFAULT;

        /* Old HVM configurations spell an emulated disk "ioemu:hda". */
        if (strncmp(dst, "ioemu:", 6) == 0)
                dst += 6;

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strncmp(dst, table[i].prefix, strlen(table[i].prefix)) == 0)
                        return table[i].bus;

        return DOMAIN_DISK_BUS_DEFAULT;
}
