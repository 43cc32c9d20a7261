/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "xv-alloc.h"
#include "xv-parse-util.h"
#include "xv-strbuf.h"
#include "xv-uuid.h"
#include "xv-xen-chr.h"
#include "xv-xen-domain.h"
#include "xv-xm-domain.h"

/* libvirt's MIN_XEN_GUEST_SIZE * 2: the memory of a config without a memory key, in MiB. */
#define XM_DEFAULT_MEMORY_MIB 128
/* Largest memory value accepted, in MiB (1 PiB): keeps the KiB arithmetic far from overflow. */
#define XM_MEMORY_MIB_MAX (UINT64_C(1) << 30)
/* vcpu_avail is a bit mask in a C long on the xend side. */
#define XM_VCPU_AVAIL_BITS 64
/* Host CPUs a cpuset may name. */
#define XM_CPUSET_CPUS_MAX 4096
/* The first VNC display's TCP port. */
#define XM_VNC_PORT_BASE 5900

static int conf_error(XvError *error, const char *format, ...) _printf_(2, 3);
static int conf_error(XvError *error, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = xv_error_setv(error, XVP_ERR_CONF_SYNTAX, format, ap);
        va_end(ap);
        return r;
}
#ifdef __clang_analyzer__
/* The analyzer does not follow variadic functions: tell it that this one returns a negative errno. */
#  define conf_error(...) XV_ERROR_NEGATIVE_((conf_error)(__VA_ARGS__))
#endif

static bool version_valid(int v) {
        return v >= XM_CONFIG_VERSION_MIN && v <= XM_CONFIG_VERSION_MAX;
}

/* ------------------------------------------------------------------------------------------ */
/* Typed lookups with libvirt's leniency: numbers may be written as strings. */

static int get_string(const XmConfig *c, const char *key, const char **ret, XvError *error) {
        const char *s = NULL;
        int r;

        r = xm_config_get_string(c, key, &s, error);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        if (strlen(s) > DOMAIN_STRING_MAX)
                return conf_error(error, "config value %s is longer than %u bytes", key,
                                  (unsigned) DOMAIN_STRING_MAX);
        *ret = s;
        return 0;
}

static int copy_string(const XmConfig *c, const char *key, char **ret, XvError *error) {
        const char *s;
        int r;

        r = get_string(c, key, &s, error);
        if (r < 0)
                return r;
        return free_and_strdup(ret, s);
}

static int get_bool(const XmConfig *c, const char *key, int def, int *ret, XvError *error) {
        const XmValue *v = xm_config_get(c, key);

        if (!v)
                *ret = def;
        else if (v->type == XM_VALUE_INT)
                *ret = v->num != 0;
        else if (v->type == XM_VALUE_STRING)
                *ret = streq(v->str, "1");
        else
                return conf_error(error, "config value %s was malformed", key);
        return 0;
}

static int get_llong(const XmConfig *c, const char *key, long long def, long long *ret, XvError *error) {
        int r;

        r = xm_config_get_int(c, key, ret, error);
        if (r == -ENOENT) {
                *ret = def;
                return 0;
        }
        return r;
}

static int get_ulong(const XmConfig *c, const char *key, uint64_t def, uint64_t max, uint64_t *ret,
                     XvError *error) {
        long long v;
        int r;

        r = get_llong(c, key, (long long) def, &v, error);
        if (r < 0)
                return r;
        if (v < 0 || (uint64_t) v > max)
                return conf_error(error, "config value %s is out of range", key);
        *ret = (uint64_t) v;
        return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* cpuset: "0-3,^2,8" in, canonical ranges out ("0-1,3,8"), as libvirt reformats it. */

static int cpuset_canonicalize(const char *s, char **ret) {
        _cleanup_free_ uint8_t *map = NULL;
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        const char *p = s;
        bool any = false;
        int r;

        map = new0(uint8_t, XM_CPUSET_CPUS_MAX);
        if (!map)
                return -ENOMEM;

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
                if (*p == '-') {
                        if (negate)
                                return -EINVAL;
                        r = parse_u64_prefix(p + 1, &z, &end);
                        if (r < 0)
                                return -EINVAL;
                        p = end;
                }
                if (a > z || z >= XM_CPUSET_CPUS_MAX)
                        return -EINVAL;
                for (uint64_t i = a; i <= z; i++)
                        map[i] = !negate;

                while (*p == ' ' || *p == '\t')
                        p++;
                if (*p == '\0')
                        break;
                if (*p != ',')
                        return -EINVAL;
                p++;
        }

        for (unsigned i = 0; i < XM_CPUSET_CPUS_MAX; i++) {
                unsigned j;

                if (!map[i])
                        continue;
                for (j = i; j + 1 < XM_CPUSET_CPUS_MAX && map[j + 1]; j++)
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
                return -EINVAL;

        return strbuf_steal(&b, ret);
}

/* ------------------------------------------------------------------------------------------ */
/* Reading: XmConfig -> DomainDef */

static int parse_general(const XmConfig *c, DomainDef *def, XvError *error) {
        const char *s;
        int r;

        r = get_string(c, "name", &s, error);
        if (r < 0)
                return r;
        if (!s)
                return xv_error_setf(error, XVP_ERR_NO_NAME, "config value name was missing");
        if (strlen(s) >= DOMAIN_NAME_MAX)
                return conf_error(error, "config value name is longer than %u bytes",
                                  (unsigned) DOMAIN_NAME_MAX - 1);
        def->name = strdup(s);
        if (!def->name)
                return -ENOMEM;

        r = get_string(c, "uuid", &s, error);
        if (r < 0)
                return r;
        if (s) {
                if (uuid_from_string(s, &def->uuid) < 0)
                        return conf_error(error, "%s not parseable", s);
        } else {
                /* No uuid in the file: a fresh one, as libvirt did. */
                r = uuid_new_random(&def->uuid);
                if (r < 0)
                        return xv_error_set_errnof(error, r, "Failed to generate UUID");
        }
        def->has_uuid = true;

        r = get_string(c, "builder", &s, error);
        if (r < 0)
                return r;
        def->os_type = streq_ptr(s, "hvm") ? DOMAIN_OS_HVM : DOMAIN_OS_LINUX;
        return 0;
}

static int parse_os(const XmConfig *c, int version, DomainDef *def, XvError *error) {
        int r;

        if (domain_def_is_hvm(def)) {
                const char *boot;

                /* xm's `loader` key (Xen >= 3.2) names the firmware when `kernel` is a direct
                 * boot kernel; without it, `kernel` is the firmware (hvmloader). */
                if (version >= 4 && xm_config_has(c, "loader")) {
                        r = copy_string(c, "loader", &def->loader, error);
                        if (r < 0)
                                return r;
                        r = copy_string(c, "kernel", &def->kernel, error);
                        if (r < 0)
                                return r;
                        r = copy_string(c, "ramdisk", &def->initrd, error);
                        if (r < 0)
                                return r;
                        r = copy_string(c, "extra", &def->cmdline, error);
                        if (r < 0)
                                return r;
                } else {
                        r = copy_string(c, "kernel", &def->loader, error);
                        if (r < 0)
                                return r;
                }

                r = get_string(c, "boot", &boot, error);
                if (r < 0)
                        return r;
                if (!boot)
                        boot = "c";
                for (size_t i = 0; boot[i] && def->n_boot < DOMAIN_BOOT_DEVS_MAX; i++) {
                        DomainBootDev d;

                        switch (boot[i]) {
                        case 'a':
                                d = DOMAIN_BOOT_FLOPPY;
                                break;
                        case 'd':
                                d = DOMAIN_BOOT_CDROM;
                                break;
                        case 'n':
                                d = DOMAIN_BOOT_NET;
                                break;
                        default:
                                d = DOMAIN_BOOT_DISK;
                                break;
                        }
                        def->boot[def->n_boot++] = d;
                }
        } else {
                const char *extra, *root;

                r = copy_string(c, "bootloader", &def->bootloader, error);
                if (r < 0)
                        return r;
                r = copy_string(c, "bootargs", &def->bootloader_args, error);
                if (r < 0)
                        return r;
                r = copy_string(c, "kernel", &def->kernel, error);
                if (r < 0)
                        return r;
                r = copy_string(c, "ramdisk", &def->initrd, error);
                if (r < 0)
                        return r;

                r = get_string(c, "extra", &extra, error);
                if (r < 0)
                        return r;
                r = get_string(c, "root", &root, error);
                if (r < 0)
                        return r;

                /* xm passes `root` to the kernel as "root=..." in front of `extra`. */
                if (root) {
                        if (asprintf(&def->cmdline, "root=%s%s%s", root, extra ? " " : "",
                                     strempty(extra)) < 0) {
                                def->cmdline = NULL;
                                return -ENOMEM;
                        }
                } else {
                        r = free_and_strdup(&def->cmdline, extra);
                        if (r < 0)
                                return r;
                }
        }

        return 0;
}

static int parse_memory_vcpus(const XmConfig *c, DomainDef *def, XvError *error) {
        uint64_t memory = 0, maxmem = 0, vcpus = 0, avail = 0;
        const char *s;
        int r;

        r = get_ulong(c, "memory", XM_DEFAULT_MEMORY_MIB, XM_MEMORY_MIB_MAX, &memory, error);
        if (r < 0)
                return r;
        r = get_ulong(c, "maxmem", memory, XM_MEMORY_MIB_MAX, &maxmem, error);
        if (r < 0)
                return r;
        if (memory == 0 || maxmem == 0)
                return conf_error(error, "config value memory must be greater than zero");

        def->memory_kib = maxmem * 1024;
        /* A balloon target above the maximum is clamped, as libvirt's post-parse did. */
        def->current_memory_kib = MIN(memory, maxmem) * 1024;

        r = get_ulong(c, "vcpus", 1, DOMAIN_VCPUS_MAX, &vcpus, error);
        if (r < 0)
                return r;
        if (vcpus < 1)
                return conf_error(error, "config value vcpus is out of range");
        def->vcpus = (unsigned) vcpus;

        if (xm_config_has(c, "maxvcpus")) {
                uint64_t max = 0;

                /* Later xm files: vcpus is the online count, maxvcpus the maximum. */
                r = get_ulong(c, "maxvcpus", 1, DOMAIN_VCPUS_MAX, &max, error);
                if (r < 0)
                        return r;
                if (max < vcpus)
                        return conf_error(error, "config value maxvcpus is smaller than vcpus");
                def->vcpus = (unsigned) max;
                def->vcpus_current = max == vcpus ? 0 : (unsigned) vcpus;
        } else if (xm_config_has(c, "vcpu_avail")) {
                unsigned n;

                r = get_ulong(c, "vcpu_avail", 0, UINT64_MAX >> 1, &avail, error);
                if (r < 0)
                        return r;
                n = MIN((unsigned) __builtin_popcountll(avail), def->vcpus);
                def->vcpus_current = n == def->vcpus ? 0 : n;
                if (n == 0)
                        return conf_error(error, "config value vcpu_avail leaves no vcpu online");
        }

        r = get_string(c, "cpus", &s, error);
        if (r < 0)
                return r;
        if (s) {
                r = cpuset_canonicalize(s, &def->cpuset);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return conf_error(error, "config value cpus '%s' is not a valid CPU set", s);
        }

        return 0;
}

static int parse_lifecycle_one(const XmConfig *c, const char *key, DomainLifecycleAction def_action,
                               bool crash, DomainLifecycleAction *ret, XvError *error) {
        DomainLifecycleAction a;
        const char *s;
        int r;

        r = get_string(c, key, &s, error);
        if (r < 0)
                return r;
        if (!s) {
                *ret = def_action;
                return 0;
        }

        a = domain_lifecycle_action_from_string(s);
        /* The coredump actions exist for on_crash only. */
        if (a < 0 || (!crash && (a == DOMAIN_LIFECYCLE_COREDUMP_DESTROY ||
                                 a == DOMAIN_LIFECYCLE_COREDUMP_RESTART)))
                return conf_error(error, "unexpected value %s for %s", s, key);
        *ret = a;
        return 0;
}

static int parse_lifecycle(const XmConfig *c, DomainDef *def, XvError *error) {
        int r;

        r = parse_lifecycle_one(c, "on_poweroff", DOMAIN_LIFECYCLE_DESTROY, false, &def->on_poweroff, error);
        if (r < 0)
                return r;
        r = parse_lifecycle_one(c, "on_reboot", DOMAIN_LIFECYCLE_RESTART, false, &def->on_reboot, error);
        if (r < 0)
                return r;
        return parse_lifecycle_one(c, "on_crash", DOMAIN_LIFECYCLE_RESTART, true, &def->on_crash, error);
}

/* xm's tsc_mode (a name, or its number in Xen's enumeration) <-> the <timer name='tsc' mode>. */
static const struct {
        const char *xm, *number, *mode;
} tsc_modes[] = {
        { "default",         "0", "auto" },
        { "always_emulate",  "1", "emulate" },
        { "native",          "2", "native" },
        { "native_paravirt", "3", "paravirt" },
};

static const char *tsc_mode_from_xm(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(tsc_modes); i++)
                if (streq(s, tsc_modes[i].xm) || streq(s, tsc_modes[i].number))
                        return tsc_modes[i].mode;
        return NULL;
}

static const char *tsc_mode_to_xm(const char *mode) {
        for (size_t i = 0; i < ELEMENTSOF(tsc_modes); i++)
                if (streq_ptr(mode, tsc_modes[i].mode))
                        return tsc_modes[i].xm;
        return NULL;
}

static int parse_features_clock(const XmConfig *c, int version, DomainDef *def, XvError *error) {
        static const struct {
                const char *key;
                DomainFeature feature;
        } features[] = {
                { "pae",      DOMAIN_FEATURE_PAE },
                { "acpi",     DOMAIN_FEATURE_ACPI },
                { "apic",     DOMAIN_FEATURE_APIC },
                { "hap",      DOMAIN_FEATURE_HAP },
                { "viridian", DOMAIN_FEATURE_VIRIDIAN },
        };
        const XmValue *tsc;
        const char *s;
        char number[32];
        int localtime, v, r;

        if (domain_def_is_hvm(def)) {
                for (size_t i = 0; i < ELEMENTSOF(features); i++) {
                        r = get_bool(c, features[i].key, 0, &v, error);
                        if (r < 0)
                                return r;
                        domain_def_set_feature(def, features[i].feature, v);
                }

                r = get_bool(c, "hpet", -1, &v, error);
                if (r < 0)
                        return r;
                if (v != -1) {
                        r = xen_domain_add_timer(def, "hpet", v ? DOMAIN_TRISTATE_YES : DOMAIN_TRISTATE_NO,
                                                 NULL);
                        if (r < 0)
                                return r;
                }
        }

        /* Later xm files: the TSC mode, for PV and HVM guests alike, by name or number. */
        tsc = xm_config_get(c, "tsc_mode");
        if (tsc && tsc->type == XM_VALUE_INT) {
                (void) snprintf(number, sizeof(number), "%lld", tsc->num);
                s = number;
        } else {
                r = get_string(c, "tsc_mode", &s, error);
                if (r < 0)
                        return r;
        }
        if (s) {
                const char *mode = tsc_mode_from_xm(s);

                if (!mode)
                        return conf_error(error, "unexpected value %s for tsc_mode", s);
                r = xen_domain_add_timer(def, "tsc", DOMAIN_TRISTATE_ABSENT, mode);
                if (r < 0)
                        return r;
        }

        r = get_bool(c, "localtime", 0, &localtime, error);
        if (r < 0)
                return r;

        if (domain_def_is_hvm(def) && version >= 4) {
                long long offset;

                /* xend >= 3.1 keeps the emulated RTC's offset for managed HVM domains. */
                r = get_llong(c, "rtc_timeoffset", 0, &offset, error);
                if (r < 0)
                        return r;
                xen_domain_clock_from_xen(&def->clock, localtime, true, offset);
        } else
                xen_domain_clock_from_xen(&def->clock, localtime, false, 0);

        return 0;
}

/* Splits "drv:rest" of a disk source; returns the driver name length or 0. */
static size_t disk_prefix_len(const char *src) {
        const char *colon = strchr(src, ':');

        /* A prefix is a plain word: a path that merely contains a colon has a slash first. */
        if (!colon || colon == src)
                return 0;
        for (const char *p = src; p < colon; p++)
                if (!isalnum((unsigned char) *p) && *p != '_' && *p != '-')
                        return 0;
        return (size_t) (colon - src);
}

/* Parses one "SOURCE,TARGET[:cdrom],MODE" entry. Returns 1 and fills @ret, 0 for an entry
 * libvirt skipped silently, or a negative errno. */
static int parse_disk(const char *spec, bool hvm, int version, DomainDisk *ret, XvError *error) {
        _cleanup_(domain_disk_done) DomainDisk disk = {};
        _cleanup_free_ char *src = NULL, *dst = NULL;
        const char *comma, *head, *mode;
        char *colon;
        size_t n;

        comma = strchr(spec, ',');
        if (!comma)
                return 0;
        if (comma > spec) {
                src = strndup(spec, (size_t) (comma - spec));
                if (!src)
                        return -ENOMEM;
        }

        head = comma + 1;
        /* Remove the legacy "ioemu:" marker of xend 3.0.2 HVM disks. */
        if (strncmp(head, "ioemu:", 6) == 0)
                head += 6;

        comma = strchr(head, ',');
        if (!comma)
                return 0;
        dst = strndup(head, (size_t) (comma - head));
        if (!dst)
                return -ENOMEM;
        mode = comma + 1;

        if (src) {
                n = disk_prefix_len(src);
                if (n > 0) {
                        disk.driver_name = strndup(src, n);
                        if (!disk.driver_name)
                                return -ENOMEM;
                        memmove(src, src + n + 1, strlen(src + n + 1) + 1);

                        /* tap:FORMAT:path (blktap) and tap2:FORMAT:path (blktap2). */
                        if (streq(disk.driver_name, "tap") || streq(disk.driver_name, "tap2")) {
                                n = disk_prefix_len(src);
                                if (n == 0)
                                        return 0;
                                /* The 2012 converter kept "aio" as written; later ones call
                                 * it by its format, raw. */
                                if (n == 3 && strncmp(src, "aio", 3) == 0 && version >= 4)
                                        disk.driver_type = strdup("raw");
                                else
                                        disk.driver_type = strndup(src, n);
                                if (!disk.driver_type)
                                        return -ENOMEM;
                                memmove(src, src + n + 1, strlen(src + n + 1) + 1);
                        }
                }
                if (isempty(src))
                        src = mfree(src);
        }

        if (!disk.driver_name) {
                disk.driver_name = strdup("phy");
                if (!disk.driver_name)
                        return -ENOMEM;
        }
        disk.type = streq(disk.driver_name, "phy") ? DOMAIN_DISK_TYPE_BLOCK : DOMAIN_DISK_TYPE_FILE;

        disk.device = DOMAIN_DISK_DEVICE_DISK;
        colon = strchr(dst, ':');
        if (colon) {
                if (streq(colon, ":cdrom"))
                        disk.device = DOMAIN_DISK_DEVICE_CDROM;
                *colon = '\0';
        }
        if (isempty(dst))
                return conf_error(error, "disk '%s' has no target device", spec);
        if (!xen_disk_target_valid(dst))
                return conf_error(error, "disk '%s' has an invalid target device '%s'", spec, dst);

        if (strncmp(dst, "xvd", 3) == 0 || !hvm)
                disk.bus = DOMAIN_DISK_BUS_XEN;
        else if (strncmp(dst, "sd", 2) == 0)
                disk.bus = DOMAIN_DISK_BUS_SCSI;
        else
                disk.bus = DOMAIN_DISK_BUS_IDE;

        if (streq(mode, "r") || streq(mode, "ro"))
                disk.readonly = true;
        else if (streq(mode, "w!") || streq(mode, "!"))
                disk.shareable = true;

        disk.src = TAKE_PTR(src);
        disk.dst = TAKE_PTR(dst);
        *ret = disk;
        disk = (DomainDisk) {};
        return 1;
}

static int parse_disks(const XmConfig *c, int version, DomainDef *def, XvError *error) {
        const XmValue *list = xm_config_get(c, "disk");
        const char *cdrom;
        int r;

        if (list && list->type == XM_VALUE_LIST)
                for (size_t i = 0; i < list->n_items; i++) {
                        DomainDisk disk, *slot;

                        if (list->items[i].type != XM_VALUE_STRING)
                                continue;

                        r = parse_disk(list->items[i].str, domain_def_is_hvm(def), version, &disk, error);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                continue;

                        r = domain_def_add_device(def->disks, def->n_disks, &slot);
                        if (r < 0) {
                                domain_disk_done(&disk);
                                return r == -E2BIG ? conf_error(error, "too many disks") : r;
                        }
                        *slot = disk;
                }

        /* HVM floppies are image options of their own (fda, fdb). */
        if (domain_def_is_hvm(def))
                for (const char *const *fd = (const char *const[]) { "fda", "fdb", NULL }; *fd; fd++) {
                        const char *path;
                        DomainDisk *slot;

                        r = get_string(c, *fd, &path, error);
                        if (r < 0)
                                return r;
                        if (isempty(path))
                                continue;
                        r = domain_def_add_device(def->disks, def->n_disks, &slot);
                        if (r < 0)
                                return r == -E2BIG ? conf_error(error, "too many disks") : r;
                        *slot = (DomainDisk) {
                                .type = DOMAIN_DISK_TYPE_FILE,
                                .device = DOMAIN_DISK_DEVICE_FLOPPY,
                                .bus = DOMAIN_DISK_BUS_FDC,
                        };
                        slot->driver_name = strdup("file");
                        slot->src = strdup(path);
                        slot->dst = strdup(*fd);
                        if (!slot->driver_name || !slot->src || !slot->dst)
                                return -ENOMEM;
                }

        /* xend 3.0.2 had the HVM CD-ROM as a key of its own, always on hdc. */
        if (domain_def_is_hvm(def) && version == 1) {
                DomainDisk *slot;

                r = get_string(c, "cdrom", &cdrom, error);
                if (r < 0)
                        return r;
                if (cdrom) {
                        r = domain_def_add_device(def->disks, def->n_disks, &slot);
                        if (r < 0)
                                return r == -E2BIG ? conf_error(error, "too many disks") : r;
                        *slot = (DomainDisk) {
                                .type = DOMAIN_DISK_TYPE_FILE,
                                .device = DOMAIN_DISK_DEVICE_CDROM,
                                .bus = DOMAIN_DISK_BUS_IDE,
                                .readonly = true,
                        };
                        slot->driver_name = strdup("file");
                        slot->src = strdup(cdrom);
                        slot->dst = strdup("hdc");
                        if (!slot->driver_name || !slot->src || !slot->dst)
                                return -ENOMEM;
                }
        }

        return 0;
}

/* "NUM[G|M|K](B|b)/s[@interval]" in bytes or bits per second -> KiB/s, as xend read it. */
static int parse_vif_rate(const char *rate, uint64_t *ret) {
        const char *p = rate;
        uint64_t v;
        int r;

        r = parse_u64_prefix(p, &v, &p);
        if (r < 0)
                return -EINVAL;

        switch (*p) {
        case 'G':
                if (v > UINT64_MAX / (1024 * 1024))
                        return -ERANGE;
                v *= 1024 * 1024;
                p++;
                break;
        case 'M':
                if (v > UINT64_MAX / 1024)
                        return -ERANGE;
                v *= 1024;
                p++;
                break;
        case 'K':
                p++;
                break;
        default:
                break;
        }

        if (*p == 'b')
                v /= 8;
        else if (*p != 'B')
                return -EINVAL;
        p++;
        if (strncmp(p, "/s", 2) != 0)
                return -EINVAL;
        p += 2;
        if (*p != '\0' && *p != '@')
                return -EINVAL;

        *ret = v;
        return 0;
}

static int parse_vif(const char *spec, DomainNet *ret, XvError *error) {
        _cleanup_(domain_net_done) DomainNet net = {};
        _cleanup_free_ char *mac = NULL, *bridge = NULL, *script = NULL, *model = NULL,
                *type = NULL, *vifname = NULL, *ip = NULL, *rate = NULL;
        const char *key = spec;
        int r;

        while (key && *key) {
                const char *next = strchr(key, ','), *data = strchr(key, '=');
                size_t len;
                char **target = NULL;

                if (!data || (next && data > next))
                        return 0;       /* libvirt skipped the whole NIC */
                data++;
                len = next ? (size_t) (next - data) : strlen(data);

                if (strncmp(key, "mac=", 4) == 0)
                        target = &mac;
                else if (strncmp(key, "bridge=", 7) == 0)
                        target = &bridge;
                else if (strncmp(key, "script=", 7) == 0)
                        target = &script;
                else if (strncmp(key, "model=", 6) == 0)
                        target = &model;
                else if (strncmp(key, "type=", 5) == 0)
                        target = &type;
                else if (strncmp(key, "vifname=", 8) == 0)
                        target = &vifname;
                else if (strncmp(key, "ip=", 3) == 0)
                        target = &ip;
                else if (strncmp(key, "rate=", 5) == 0)
                        target = &rate;

                if (target) {
                        free(*target);
                        *target = strndup(data, len);
                        if (!*target)
                                return -ENOMEM;
                }

                key = next;
                while (key && (*key == ',' || *key == ' ' || *key == '\t'))
                        key++;
        }

        if (mac) {
                if (domain_mac_parse(mac, net.mac) < 0)
                        return xv_error_setf(error, XVP_ERR_INVALID_MAC, "malformed mac address '%s'", mac);
                net.has_mac = true;
        }

        if (!isempty(bridge) || streq_ptr(script, "vif-bridge") || streq_ptr(script, "vif-vnic"))
                net.type = DOMAIN_NET_TYPE_BRIDGE;
        else
                net.type = DOMAIN_NET_TYPE_ETHERNET;

        if (net.type == DOMAIN_NET_TYPE_BRIDGE && !isempty(bridge))
                net.bridge = TAKE_PTR(bridge);
        if (!isempty(ip)) {
                r = strv_push(&net.ips, TAKE_PTR(ip));
                if (r < 0)
                        return r;
        }
        if (!isempty(script))
                net.script = TAKE_PTR(script);
        if (!isempty(model))
                net.model = TAKE_PTR(model);
        else if (streq_ptr(type, "netfront")) {
                net.model = strdup("netfront");
                if (!net.model)
                        return -ENOMEM;
        }
        if (!isempty(vifname))
                net.ifname = TAKE_PTR(vifname);
        if (!isempty(rate) && parse_vif_rate(rate, &net.rate_average) < 0)
                return conf_error(error, "Invalid rate '%s' specified", rate);

        *ret = net;
        net = (DomainNet) {};
        return 1;
}

static int parse_vifs(const XmConfig *c, DomainDef *def, XvError *error) {
        const XmValue *list = xm_config_get(c, "vif");
        int r;

        if (!list || list->type != XM_VALUE_LIST)
                return 0;

        for (size_t i = 0; i < list->n_items; i++) {
                DomainNet net, *slot;

                if (list->items[i].type != XM_VALUE_STRING)
                        continue;

                r = parse_vif(list->items[i].str, &net, error);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;

                r = domain_def_add_device(def->nets, def->n_nets, &slot);
                if (r < 0) {
                        domain_net_done(&net);
                        return r == -E2BIG ? conf_error(error, "too many network interfaces") : r;
                }
                *slot = net;
        }

        return 0;
}

/* "DDDD:BB:SS.F", hexadecimal. Returns 1 on success, 0 for a malformed entry (skipped). */
static int parse_pci(const char *s, DomainHostdevPci *ret) {
        unsigned v[4] = {};
        static const struct {
                unsigned max_digits;
                char sep;
        } parts[4] = { { 4, ':' }, { 2, ':' }, { 2, '.' }, { 1, '\0' } };
        const char *p = s;

        for (size_t i = 0; i < 4; i++) {
                unsigned n = 0;

                for (; unhexchar(*p) >= 0; p++) {
                        if (++n > parts[i].max_digits)
                                return 0;
                        v[i] = v[i] * 16 + (unsigned) unhexchar(*p);
                }
                if (n == 0 || *p != parts[i].sep)
                        return 0;
                if (*p)
                        p++;
        }

        *ret = (DomainHostdevPci) { .domain = v[0], .bus = v[1], .slot = v[2], .function = v[3] };
        return 1;
}

static int parse_pcis(const XmConfig *c, DomainDef *def, XvError *error) {
        const XmValue *list = xm_config_get(c, "pci");
        int r;

        if (!list || list->type != XM_VALUE_LIST)
                return 0;

        for (size_t i = 0; i < list->n_items; i++) {
                DomainHostdevPci pci, *slot;

                if (list->items[i].type != XM_VALUE_STRING || !parse_pci(list->items[i].str, &pci))
                        continue;

                r = domain_def_add_device(def->hostdevs, def->n_hostdevs, &slot);
                if (r < 0)
                        return r == -E2BIG ? conf_error(error, "too many PCI devices") : r;
                *slot = pci;
        }

        return 0;
}

static int parse_usb(const XmConfig *c, DomainDef *def, XvError *error) {
        const char *s;
        int r;

        if (!domain_def_is_hvm(def))
                return 0;

        r = get_string(c, "usbdevice", &s, error);
        if (r < 0)
                return r;
        if (streq_ptr(s, "mouse"))
                return xen_domain_add_input(def, DOMAIN_INPUT_MOUSE, DOMAIN_INPUT_BUS_USB);
        if (streq_ptr(s, "tablet"))
                return xen_domain_add_input(def, DOMAIN_INPUT_TABLET, DOMAIN_INPUT_BUS_USB);
        if (streq_ptr(s, "keyboard"))
                return xen_domain_add_input(def, DOMAIN_INPUT_KEYBOARD, DOMAIN_INPUT_BUS_USB);
        return 0;
}

static int parse_graphics_keys(const XmConfig *c, DomainDef *def, XvError *error) {
        DomainGraphics *g;
        int vnc, sdl, r;

        r = get_bool(c, "vnc", 0, &vnc, error);
        if (r < 0)
                return r;
        r = get_bool(c, "sdl", 0, &sdl, error);
        if (r < 0)
                return r;
        if (!vnc && !sdl)
                return 0;

        r = domain_def_add_device(def->graphics, def->n_graphics, &g);
        if (r < 0)
                return r;

        if (vnc) {
                int unused;

                g->type = DOMAIN_GRAPHICS_VNC;
                r = get_bool(c, "vncunused", 1, &unused, error);
                if (r < 0)
                        return r;
                g->autoport = unused;
                if (g->autoport)
                        g->port = -1;
                else {
                        uint64_t display = 0;

                        r = get_ulong(c, "vncdisplay", 0, 65535 - XM_VNC_PORT_BASE, &display, error);
                        if (r < 0)
                                return r;
                        g->port = (int) display + XM_VNC_PORT_BASE;
                }
                r = copy_string(c, "vnclisten", &g->listen, error);
                if (r < 0)
                        return r;
                r = copy_string(c, "vncpasswd", &g->passwd, error);
                if (r < 0)
                        return r;
                return copy_string(c, "keymap", &g->keymap, error);
        }

        g->type = DOMAIN_GRAPHICS_SDL;
        r = copy_string(c, "display", &g->display, error);
        if (r < 0)
                return r;
        return copy_string(c, "xauthority", &g->xauth, error);
}

static int parse_vfb(const XmConfig *c, DomainDef *def, XvError *error) {
        const XmValue *list = xm_config_get(c, "vfb");
        DomainGraphics *g;
        const char *key;
        int r;

        if (!list || list->type != XM_VALUE_LIST || list->n_items == 0 ||
            list->items[0].type != XM_VALUE_STRING)
                return 0;

        key = list->items[0].str;
        r = domain_def_add_device(def->graphics, def->n_graphics, &g);
        if (r < 0)
                return r;
        g->type = strstr(key, "type=sdl") ? DOMAIN_GRAPHICS_SDL : DOMAIN_GRAPHICS_VNC;

        while (key && *key) {
                const char *next = strchr(key, ',');
                size_t len = next ? (size_t) (next - key) : strlen(key);
                _cleanup_free_ char *item = strndup(key, len);
                const char *value;
                char **target = NULL;

                if (!item)
                        return -ENOMEM;
                value = strchr(item, '=');
                if (!value)
                        break;
                value++;

                if (g->type == DOMAIN_GRAPHICS_VNC) {
                        if (strncmp(item, "vncunused=", 10) == 0) {
                                if (streq(value, "1")) {
                                        g->autoport = true;
                                        g->port = -1;
                                }
                        } else if (strncmp(item, "vnclisten=", 10) == 0)
                                target = &g->listen;
                        else if (strncmp(item, "vncpasswd=", 10) == 0)
                                target = &g->passwd;
                        else if (strncmp(item, "keymap=", 7) == 0)
                                target = &g->keymap;
                        else if (strncmp(item, "vncdisplay=", 11) == 0) {
                                unsigned display;

                                if (safe_atou(value, &display) < 0 || display > 65535 - XM_VNC_PORT_BASE)
                                        return conf_error(error, "invalid vncdisplay value '%s'", value);
                                if (!g->autoport)
                                        g->port = (int) display + XM_VNC_PORT_BASE;
                        }
                } else {
                        if (strncmp(item, "display=", 8) == 0)
                                target = &g->display;
                        else if (strncmp(item, "xauthority=", 11) == 0)
                                target = &g->xauth;
                }

                if (target) {
                        r = free_and_strdup(target, value);
                        if (r < 0)
                                return r;
                }

                key = next;
                while (key && (*key == ',' || *key == ' ' || *key == '\t'))
                        key++;
        }

        return 0;
}

static int parse_graphics(const XmConfig *c, int version, DomainDef *def, XvError *error) {
        int r;

        /* HVM guests, and PV guests of xend < 3.0.4, use the old image keys. */
        if (domain_def_is_hvm(def) || version < 3) {
                r = parse_graphics_keys(c, def, error);
                if (r < 0)
                        return r;
        }

        /* Newer PV guests have a paravirtual framebuffer device. */
        if (!domain_def_is_hvm(def) && def->n_graphics == 0)
                return parse_vfb(c, def, error);

        return 0;
}

static int parse_chrs(const XmConfig *c, DomainDef *def, XvError *error) {
        const XmValue *v;
        const char *s;
        int r;

        if (!domain_def_is_hvm(def))
                /* A PV guest always has its xenconsole. */
                return xen_domain_add_pv_console(def, NULL);

        r = get_string(c, "parallel", &s, error);
        if (r < 0)
                return r;
        if (s && !streq(s, "none")) {
                r = xen_chr_append(&def->parallels, &def->n_parallels, s, 0, NULL, error);
                if (r < 0)
                        return r;
        }

        v = xm_config_get(c, "serial");
        if (v && v->type == XM_VALUE_LIST) {
                /* One entry per port; "none" leaves a port unused. */
                for (size_t i = 0; i < v->n_items; i++) {
                        if (v->items[i].type != XM_VALUE_STRING)
                                return conf_error(error, "config value serial has a non-string item");
                        if (streq(v->items[i].str, "none"))
                                continue;
                        r = xen_chr_append(&def->serials, &def->n_serials, v->items[i].str, (int) i, NULL,
                                           error);
                        if (r < 0)
                                return r;
                }
        } else {
                r = get_string(c, "serial", &s, error);
                if (r < 0)
                        return r;
                if (s && !streq(s, "none")) {
                        r = xen_chr_append(&def->serials, &def->n_serials, s, 0, NULL, error);
                        if (r < 0)
                                return r;
                }
        }

        /* The console of an HVM guest is its first serial port, target port included. */
        return xen_domain_add_hvm_console(def);
}

static int add_sound(DomainDef *def, const char *model, size_t len) {
        DomainSound *snd;
        int r;

        r = domain_def_add_device(def->sounds, def->n_sounds, &snd);
        if (r < 0)
                return r;
        snd->model = strndup(model, len);
        return snd->model ? 0 : -ENOMEM;
}

static int parse_sound(const XmConfig *c, DomainDef *def, XvError *error) {
        const char *s;
        int r;

        if (!domain_def_is_hvm(def))
                return 0;

        r = get_string(c, "soundhw", &s, error);
        if (r < 0 || !s)
                return r;

        if (streq(s, "all")) {
                /* Every model qemu-dm had, in libvirt's enumeration order. */
                r = add_sound(def, "sb16", 4);
                if (r < 0)
                        return r;
                return add_sound(def, "es1370", 6);
        }

        for (const char *p = s; *p; ) {
                size_t len = strcspn(p, ",");

                if (len == 0)
                        return conf_error(error, "config value soundhw '%s' has an empty model", s);
                for (size_t i = 0; i < len; i++)
                        if (!isalnum((unsigned char) p[i]))
                                return conf_error(error, "unknown sound model in '%s'", s);
                r = add_sound(def, p, len);
                if (r < 0)
                        return r == -E2BIG ? conf_error(error, "too many sound devices") : r;
                p += len;
                if (*p == ',')
                        p++;
        }

        return 0;
}

/* The devices libvirt added to every parsed definition: a mouse (and, in later versions, a
 * keyboard) on the guest's natural bus. The 2012-era converter added the mouse only with
 * graphics. */
static int add_implicit_inputs(int version, DomainDef *def) {
        DomainInputBus bus = xen_domain_input_bus(def);
        int r;

        if (version < 4 && def->n_graphics == 0)
                return 0;

        r = xen_domain_add_input(def, DOMAIN_INPUT_MOUSE, bus);
        if (r < 0)
                return r;
        if (version >= 4)
                return xen_domain_add_input(def, DOMAIN_INPUT_KEYBOARD, bus);
        return 0;
}

int xm_domain_to_def(const XmConfig *c, int version, DomainDef **ret, XvError *error) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        int r;

        assert(c);
        assert(ret);

        if (!version_valid(version))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported xend config version %d",
                                     version);

        r = domain_def_new(&def);
        if (r < 0)
                return r;

        r = parse_general(c, def, error);
        if (r < 0)
                return r;
        r = parse_os(c, version, def, error);
        if (r < 0)
                return r;
        r = parse_memory_vcpus(c, def, error);
        if (r < 0)
                return r;
        r = parse_lifecycle(c, def, error);
        if (r < 0)
                return r;
        r = parse_features_clock(c, version, def, error);
        if (r < 0)
                return r;
        r = copy_string(c, "device_model", &def->emulator, error);
        if (r < 0)
                return r;
        r = parse_disks(c, version, def, error);
        if (r < 0)
                return r;
        r = parse_vifs(c, def, error);
        if (r < 0)
                return r;
        r = parse_pcis(c, def, error);
        if (r < 0)
                return r;
        r = parse_usb(c, def, error);
        if (r < 0)
                return r;
        r = parse_graphics(c, version, def, error);
        if (r < 0)
                return r;
        r = parse_chrs(c, def, error);
        if (r < 0)
                return r;
        r = parse_sound(c, def, error);
        if (r < 0)
                return r;
        r = add_implicit_inputs(version, def);
        if (r < 0)
                return r;

        r = domain_def_validate(def, error);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(def);
        return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing: DomainDef -> XmConfig */

typedef struct Writer {
        XmConfig *c;
        const DomainDef *def;
        int version;
        bool hvm;
        XvError *error;
} Writer;

static int set_list(Writer *w, const char *key, char ***items) {
        int r;

        if (strv_length(*items) == 0) {
                *items = strv_free(*items);
                return 0;
        }
        r = xm_config_set_list_strv(w->c, key, TAKE_PTR(*items));
        return r == -E2BIG ? conf_error(w->error, "too many entries for %s", key) : r;
}

static int format_general(Writer *w) {
        char buf[UUID_STRING_BUF];
        XvUuid uuid = w->def->uuid;
        int r;

        if (isempty(w->def->name))
                return xv_error_setf(w->error, XVP_ERR_NO_NAME, "Missing domain name");
        r = xm_config_set_string(w->c, "name", w->def->name);
        if (r < 0)
                return r;

        if (!w->def->has_uuid) {
                r = uuid_new_random(&uuid);
                if (r < 0)
                        return xv_error_set_errnof(w->error, r, "Failed to generate UUID");
        }
        return xm_config_set_string(w->c, "uuid", uuid_format(&uuid, buf));
}

static int format_memory_vcpus(Writer *w) {
        const DomainDef *def = w->def;
        unsigned current = domain_def_current_vcpus(def);
        int r;

        /* MiB, rounded up from KiB. */
        r = xm_config_set_int(w->c, "maxmem", (long long) ((def->memory_kib + 1023) / 1024));
        if (r < 0)
                return r;
        r = xm_config_set_int(w->c, "memory", (long long) ((domain_def_current_memory(def) + 1023) / 1024));
        if (r < 0)
                return r;

        if (current < def->vcpus && current >= XM_VCPU_AVAIL_BITS - 1) {
                /* Too many online vcpus for xend's vcpu_avail mask: say it the way later xm
                 * files did, maxvcpus for the maximum and vcpus for the online count. */
                r = xm_config_set_int(w->c, "maxvcpus", def->vcpus);
                if (r < 0)
                        return r;
                r = xm_config_set_int(w->c, "vcpus", current);
                if (r < 0)
                        return r;
        } else {
                r = xm_config_set_int(w->c, "vcpus", def->vcpus);
                if (r < 0)
                        return r;
                if (current < def->vcpus) {
                        r = xm_config_set_int(w->c, "vcpu_avail",
                                              (long long) ((UINT64_C(1) << current) - 1));
                        if (r < 0)
                                return r;
                }
        }

        if (def->cpuset) {
                _cleanup_free_ char *cpus = NULL;

                /* libvirt wrote the set in its canonical form, ranges without exclusions. */
                r = cpuset_canonicalize(def->cpuset, &cpus);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return xv_error_setf(w->error, XVP_ERR_CONFIG_UNSUPPORTED,
                                             "cpuset '%s' is not a valid CPU set", def->cpuset);
                r = xm_config_set_string(w->c, "cpus", cpus);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int format_features(Writer *w) {
        const DomainDef *def = w->def;
        int r;

        r = xm_config_set_int(w->c, "pae", domain_def_has_feature(def, DOMAIN_FEATURE_PAE));
        if (r < 0)
                return r;
        r = xm_config_set_int(w->c, "acpi", domain_def_has_feature(def, DOMAIN_FEATURE_ACPI));
        if (r < 0)
                return r;
        r = xm_config_set_int(w->c, "apic", domain_def_has_feature(def, DOMAIN_FEATURE_APIC));
        if (r < 0)
                return r;

        if (w->version == 3) {
                r = xm_config_set_int(w->c, "hap", domain_def_has_feature(def, DOMAIN_FEATURE_HAP));
                if (r < 0)
                        return r;
                r = xm_config_set_int(w->c, "viridian",
                                      domain_def_has_feature(def, DOMAIN_FEATURE_VIRIDIAN));
                if (r < 0)
                        return r;
        } else if (w->version >= 4) {
                if (domain_def_has_feature(def, DOMAIN_FEATURE_HAP)) {
                        r = xm_config_set_int(w->c, "hap", 1);
                        if (r < 0)
                                return r;
                }
                r = xm_config_set_int(w->c, "viridian",
                                      domain_def_has_feature(def, DOMAIN_FEATURE_VIRIDIAN));
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < def->clock.n_timers; i++) {
                const DomainTimer *t = &def->clock.timers[i];

                if (!streq_ptr(t->name, "hpet") || t->present == DOMAIN_TRISTATE_ABSENT)
                        continue;
                r = xm_config_set_int(w->c, "hpet", t->present == DOMAIN_TRISTATE_YES);
                if (r < 0)
                        return r;
        }

        return 0;
}

static int format_os(Writer *w) {
        const DomainDef *def = w->def;
        int r;

        if (w->hvm) {
                char boot[DOMAIN_BOOT_DEVS_MAX + 1];
                size_t n = 0;

                r = xm_config_set_string(w->c, "builder", "hvm");
                if (r < 0)
                        return r;

                if (def->kernel) {
                        /* Direct kernel boot: the firmware moves to `loader` (xm, Xen >= 3.2). */
                        if (w->version < 4)
                                return xv_error_setf(w->error, XVP_ERR_CONFIG_UNSUPPORTED,
                                                     "HVM direct kernel boot needs xend config version 4");
                        if (def->loader) {
                                r = xm_config_set_string(w->c, "loader", def->loader);
                                if (r < 0)
                                        return r;
                        }
                        r = xm_config_set_string(w->c, "kernel", def->kernel);
                        if (r < 0)
                                return r;
                        if (def->initrd) {
                                r = xm_config_set_string(w->c, "ramdisk", def->initrd);
                                if (r < 0)
                                        return r;
                        }
                        if (def->cmdline) {
                                r = xm_config_set_string(w->c, "extra", def->cmdline);
                                if (r < 0)
                                        return r;
                        }
                } else if (def->loader) {
                        r = xm_config_set_string(w->c, "kernel", def->loader);
                        if (r < 0)
                                return r;
                }

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
                if (n == 0)
                        boot[n++] = 'c';
                boot[n] = '\0';
                return xm_config_set_string(w->c, "boot", boot);
        }

        if (def->bootloader) {
                r = xm_config_set_string(w->c, "bootloader", def->bootloader);
                if (r < 0)
                        return r;
        }
        if (def->bootloader_args) {
                r = xm_config_set_string(w->c, "bootargs", def->bootloader_args);
                if (r < 0)
                        return r;
        }
        if (def->kernel) {
                r = xm_config_set_string(w->c, "kernel", def->kernel);
                if (r < 0)
                        return r;
        }
        if (def->initrd) {
                r = xm_config_set_string(w->c, "ramdisk", def->initrd);
                if (r < 0)
                        return r;
        }
        if (def->cmdline || def->root) {
                _cleanup_free_ char *extra = NULL;

                /* The SXP-only <root> has no key of its own here: fold it into the command line. */
                if (def->root) {
                        if (asprintf(&extra, "root=%s%s%s", def->root, def->cmdline ? " " : "",
                                     strempty(def->cmdline)) < 0)
                                return -ENOMEM;
                }
                r = xm_config_set_string(w->c, "extra", extra ?: def->cmdline);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int format_tsc_mode(Writer *w) {
        const DomainClock *clock = &w->def->clock;

        for (size_t i = 0; i < clock->n_timers; i++) {
                const DomainTimer *t = &clock->timers[i];
                const char *mode;

                if (!streq_ptr(t->name, "tsc") || !t->mode)
                        continue;
                mode = tsc_mode_to_xm(t->mode);
                if (!mode)
                        return xv_error_setf(w->error, XVP_ERR_CONFIG_UNSUPPORTED,
                                             "unsupported tsc timer mode '%s'", t->mode);
                return xm_config_set_string(w->c, "tsc_mode", mode);
        }
        return 0;
}

static int format_clock(Writer *w) {
        bool rtc_variable = w->hvm && w->version >= 4;
        long long offset;
        int localtime;
        int r;

        r = format_tsc_mode(w);
        if (r < 0)
                return r;

        /* adjustment='reset' is written like any fixed offset here, as this converter always
         * did; the S-expression converter refuses it where the RTC offset persists. */
        r = xen_domain_clock_to_xen(&w->def->clock, rtc_variable, &localtime, &offset, w->error);
        if (r < 0)
                return r;

        if (rtc_variable) {
                r = xm_config_set_int(w->c, "rtc_timeoffset", offset);
                if (r < 0)
                        return r;
        }

        return xm_config_set_int(w->c, "localtime", localtime);
}

static int format_lifecycle(Writer *w) {
        static const char * const keys[] = { "on_poweroff", "on_reboot", "on_crash" };
        const DomainLifecycleAction actions[] = { w->def->on_poweroff, w->def->on_reboot, w->def->on_crash };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const char *s = domain_lifecycle_action_to_string(actions[i]);

                if (!s)
                        return xv_error_setf(w->error, XVP_ERR_INTERNAL, "unexpected lifecycle action %d",
                                             (int) actions[i]);
                r = xm_config_set_string(w->c, keys[i], s);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int format_emulator(Writer *w) {
        /* The 2012 converter wrote device_model for HVM guests only. */
        if (!w->def->emulator || (!w->hvm && w->version < 4))
                return 0;
        return xm_config_set_string(w->c, "device_model", w->def->emulator);
}

static int format_usb(Writer *w) {
        int r;

        if (!w->hvm)
                return 0;

        for (size_t i = 0; i < w->def->n_inputs; i++) {
                const DomainInput *in = &w->def->inputs[i];
                const char *type;

                if (in->bus != DOMAIN_INPUT_BUS_USB)
                        continue;
                type = domain_input_type_to_string(in->type);
                if (!type)
                        continue;
                r = xm_config_set_int(w->c, "usb", 1);
                if (r < 0)
                        return r;
                return xm_config_set_string(w->c, "usbdevice", type);
        }
        return 0;
}

static int vnc_display(Writer *w, const DomainGraphics *g, int *ret) {
        if (g->port < XM_VNC_PORT_BASE || g->port > 65535)
                return xv_error_setf(w->error, XVP_ERR_CONFIG_UNSUPPORTED,
                                     "VNC port %d is not a display number (5900 + N)", g->port);
        *ret = g->port - XM_VNC_PORT_BASE;
        return 0;
}

/* A display without a port (0 = not given, as a vfb without vncunused and vncdisplay reads)
 * can only be written as "pick one". */
static bool vnc_autoport(const DomainGraphics *g) {
        return g->autoport || g->port <= 0;
}

static int format_graphics(Writer *w) {
        const DomainGraphics *g;
        int display = 0, r;

        if (w->def->n_graphics == 0)
                return 0;
        /* XM files have room for one display; the first one wins. */
        g = &w->def->graphics[0];

        if (w->hvm || w->version < 3) {
                if (g->type == DOMAIN_GRAPHICS_SDL) {
                        r = xm_config_set_int(w->c, "sdl", 1);
                        if (r < 0)
                                return r;
                        r = xm_config_set_int(w->c, "vnc", 0);
                        if (r < 0)
                                return r;
                        if (g->display) {
                                r = xm_config_set_string(w->c, "display", g->display);
                                if (r < 0)
                                        return r;
                        }
                        if (g->xauth) {
                                r = xm_config_set_string(w->c, "xauthority", g->xauth);
                                if (r < 0)
                                        return r;
                        }
                        return 0;
                }

                r = xm_config_set_int(w->c, "sdl", 0);
                if (r < 0)
                        return r;
                r = xm_config_set_int(w->c, "vnc", 1);
                if (r < 0)
                        return r;
                r = xm_config_set_int(w->c, "vncunused", vnc_autoport(g));
                if (r < 0)
                        return r;
                if (!vnc_autoport(g)) {
                        r = vnc_display(w, g, &display);
                        if (r < 0)
                                return r;
                        r = xm_config_set_int(w->c, "vncdisplay", display);
                        if (r < 0)
                                return r;
                }
                if (g->listen) {
                        r = xm_config_set_string(w->c, "vnclisten", g->listen);
                        if (r < 0)
                                return r;
                }
                if (g->passwd) {
                        r = xm_config_set_string(w->c, "vncpasswd", g->passwd);
                        if (r < 0)
                                return r;
                }
                if (g->keymap) {
                        r = xm_config_set_string(w->c, "keymap", g->keymap);
                        if (r < 0)
                                return r;
                }
                return 0;
        } else {
                _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
                _cleanup_strv_free_ char **l = NULL;
                char *s = NULL;

                if (g->type == DOMAIN_GRAPHICS_SDL) {
                        strbuf_append(&b, "type=sdl");
                        if (g->display)
                                strbuf_appendf(&b, ",display=%s", g->display);
                        if (g->xauth)
                                strbuf_appendf(&b, ",xauthority=%s", g->xauth);
                } else {
                        strbuf_appendf(&b, "type=vnc,vncunused=%d", vnc_autoport(g));
                        if (!vnc_autoport(g)) {
                                r = vnc_display(w, g, &display);
                                if (r < 0)
                                        return r;
                                strbuf_appendf(&b, ",vncdisplay=%d", display);
                        }
                        if (g->listen)
                                strbuf_appendf(&b, ",vnclisten=%s", g->listen);
                        if (g->passwd)
                                strbuf_appendf(&b, ",vncpasswd=%s", g->passwd);
                        if (g->keymap)
                                strbuf_appendf(&b, ",keymap=%s", g->keymap);
                }

                r = strbuf_steal(&b, &s);
                if (r < 0)
                        return r;
                r = strv_push(&l, s);
                if (r < 0)
                        return r;
                return set_list(w, "vfb", &l);
        }
}

static bool startswith_ioemu(const char *s) {
        return strncmp(s, "ioemu:", 6) == 0;
}

static int format_disk(Writer *w, const DomainDisk *d, char **ret) {
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        if (d->transient)
                return xv_error_setf(w->error, XVP_ERR_CONFIG_UNSUPPORTED,
                                     "transient disks not supported yet");
        if (isempty(d->dst))
                return xv_error_setf(w->error, XVP_ERR_NO_TARGET, "Missing disk target");

        if (d->src) {
                bool tap = streq_ptr(d->driver_name, "tap") || streq_ptr(d->driver_name, "tap2");

                /* The 2012 converter wrote any driver name as the prefix; the later one only
                 * with a format, else the prefix follows the disk type. Blktap keeps its name
                 * either way, with raw spelled "aio". */
                if (d->driver_name && (d->driver_type || w->version < 4 || tap)) {
                        strbuf_appendf(&b, "%s:", d->driver_name);
                        if (tap)
                                strbuf_appendf(&b, "%s:", !d->driver_type || streq(d->driver_type, "raw") ?
                                               "aio" : d->driver_type);
                } else if (d->type == DOMAIN_DISK_TYPE_FILE)
                        strbuf_append(&b, "file:");
                else if (d->type == DOMAIN_DISK_TYPE_BLOCK)
                        strbuf_append(&b, "phy:");
                else
                        return xv_error_setf(w->error, XVP_ERR_CONFIG_UNSUPPORTED,
                                             "unsupported disk type %s",
                                             strnull(domain_disk_type_to_string(d->type)));
                strbuf_append(&b, d->src);
        }

        strbuf_appendc(&b, ',');
        if (w->hvm && w->version == 1)
                strbuf_append(&b, "ioemu:");
        /* Hand-written XML sometimes carries the legacy marker in the target name itself. */
        strbuf_append(&b, startswith_ioemu(d->dst) ? d->dst + 6 : d->dst);
        if (d->device == DOMAIN_DISK_DEVICE_CDROM)
                strbuf_append(&b, ":cdrom");

        if (d->readonly)
                strbuf_append(&b, ",r");
        else if (d->shareable)
                strbuf_append(&b, ",!");
        else
                strbuf_append(&b, ",w");

        return strbuf_steal(&b, ret);
}

static bool is_old_cdrom(Writer *w, const DomainDisk *d) {
        return w->hvm && w->version == 1 && d->device == DOMAIN_DISK_DEVICE_CDROM &&
                streq_ptr(d->dst, "hdc");
}

static int format_cdrom(Writer *w) {
        for (size_t i = 0; i < w->def->n_disks; i++) {
                const DomainDisk *d = &w->def->disks[i];

                if (is_old_cdrom(w, d) && d->src)
                        return xm_config_set_string(w->c, "cdrom", d->src);
        }
        return 0;
}

static int format_disks(Writer *w) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        for (size_t i = 0; i < w->def->n_disks; i++) {
                const DomainDisk *d = &w->def->disks[i];
                char *s = NULL;

                /* Floppies only exist as image keys, which xm never had; the 3.0.2 CD-ROM has its
                 * own key. */
                if (d->device == DOMAIN_DISK_DEVICE_FLOPPY || is_old_cdrom(w, d))
                        continue;

                r = format_disk(w, d, &s);
                if (r < 0)
                        return r;
                r = strv_push(&l, s);
                if (r < 0)
                        return r;
        }

        return set_list(w, "disk", &l);
}

static int format_vif(Writer *w, const DomainNet *n, char **ret) {
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        size_t n_ips = strv_length(n->ips);

        if (n_ips > 1)
                return xv_error_setf(w->error, XVP_ERR_CONFIG_UNSUPPORTED,
                                     "Driver does not support setting multiple IP addresses");

        if (n->has_mac) {
                char buf[18];

                strbuf_appendf(&b, "mac=%s", domain_mac_format(n->mac, buf));
        }

        switch (n->type) {
        case DOMAIN_NET_TYPE_BRIDGE:
                if (n->bridge)
                        strbuf_appendf(&b, ",bridge=%s", n->bridge);
                if (n_ips == 1)
                        strbuf_appendf(&b, ",ip=%s", n->ips[0]);
                if (n->script)
                        strbuf_appendf(&b, ",script=%s", n->script);
                break;
        case DOMAIN_NET_TYPE_ETHERNET:
                if (n->script)
                        strbuf_appendf(&b, ",script=%s", n->script);
                if (n_ips == 1)
                        strbuf_appendf(&b, ",ip=%s", n->ips[0]);
                break;
        default:
                /* libvirt resolved a network to its bridge through the network driver at this
                 * point; an XM file has no such driver to ask. */
                return xv_error_setf(w->error, XVP_ERR_CONFIG_UNSUPPORTED,
                                     "network interfaces of type '%s' cannot be written to an XM config",
                                     strnull(domain_net_type_to_string(n->type)));
        }

        if (!w->hvm) {
                if (n->model)
                        strbuf_appendf(&b, ",model=%s", n->model);
        } else if (streq_ptr(n->model, "netfront"))
                strbuf_append(&b, ",type=netfront");
        else {
                if (n->model)
                        strbuf_appendf(&b, ",model=%s", n->model);
                /* "type=ioemu" breaks PV drivers in HVM guests; xend >= 3.1 dropped it. */
                if (w->version <= 3)
                        strbuf_append(&b, ",type=ioemu");
        }

        if (n->ifname)
                strbuf_appendf(&b, ",vifname=%s", n->ifname);
        if (n->rate_average > 0)
                strbuf_appendf(&b, ",rate=%" PRIu64 "KB/s", n->rate_average);

        /* Without a MAC the string starts with the separator of the next item. */
        if (!n->has_mac && b.len > 0 && b.buf[0] == ',') {
                _cleanup_free_ char *s = NULL;
                int r;

                r = strbuf_steal(&b, &s);
                if (r < 0)
                        return r;
                *ret = strdup(s + 1);
                return *ret ? 0 : -ENOMEM;
        }

        return strbuf_steal(&b, ret);
}

static int format_vifs(Writer *w) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        for (size_t i = 0; i < w->def->n_nets; i++) {
                char *s = NULL;

                r = format_vif(w, &w->def->nets[i], &s);
                if (r < 0)
                        return r;
                r = strv_push(&l, s);
                if (r < 0)
                        return r;
        }

        return set_list(w, "vif", &l);
}

static int format_pcis(Writer *w) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        for (size_t i = 0; i < w->def->n_hostdevs; i++) {
                const DomainHostdevPci *p = &w->def->hostdevs[i];
                char *s = NULL;

                if (asprintf(&s, "%04x:%02x:%02x.%x", p->domain, p->bus, p->slot, p->function) < 0)
                        return -ENOMEM;
                r = strv_push(&l, s);
                if (r < 0)
                        return r;
        }

        return set_list(w, "pci", &l);
}

static int format_chrs(Writer *w) {
        const DomainDef *def = w->def;
        int r;

        if (!w->hvm)
                return 0;

        if (def->n_parallels > 0) {
                _cleanup_free_ char *s = NULL;

                r = xen_chr_format(&def->parallels[0], &s, w->error);
                if (r < 0)
                        return r;
                r = xm_config_set_string(w->c, "parallel", s);
        } else
                r = xm_config_set_string(w->c, "parallel", "none");
        if (r < 0)
                return r;

        if (def->n_serials == 0)
                return xm_config_set_string(w->c, "serial", "none");

        if (def->n_serials == 1 && def->serials[0].target_port <= 0) {
                _cleanup_free_ char *s = NULL;

                r = xen_chr_format(&def->serials[0], &s, w->error);
                if (r < 0)
                        return r;
                return xm_config_set_string(w->c, "serial", s);
        }

        /* Several ports: a list indexed by port number, "none" for the gaps. */
        {
                _cleanup_strv_free_ char **l = NULL;
                int maxport = -1;

                for (size_t i = 0; i < def->n_serials; i++) {
                        int port = def->serials[i].target_port >= 0 ? def->serials[i].target_port : (int) i;

                        maxport = MAX(maxport, port);
                }
                if (maxport >= XM_LIST_MAX)
                        return xv_error_setf(w->error, XVP_ERR_CONFIG_UNSUPPORTED,
                                             "serial port %d is out of range", maxport);

                for (int port = 0; port <= maxport; port++) {
                        const DomainChr *chr = NULL;
                        char *s = NULL;

                        for (size_t i = 0; i < def->n_serials; i++) {
                                int p = def->serials[i].target_port >= 0 ?
                                        def->serials[i].target_port : (int) i;

                                if (p == port) {
                                        chr = &def->serials[i];
                                        break;
                                }
                        }

                        if (chr) {
                                r = xen_chr_format(chr, &s, w->error);
                                if (r < 0)
                                        return r;
                        } else {
                                s = strdup("none");
                                if (!s)
                                        return -ENOMEM;
                        }
                        r = strv_push(&l, s);
                        if (r < 0)
                                return r;
                }

                return set_list(w, "serial", &l);
        }
}

static int format_sound(Writer *w) {
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        _cleanup_free_ char *s = NULL;
        int r;

        if (!w->hvm || w->def->n_sounds == 0)
                return 0;

        for (size_t i = 0; i < w->def->n_sounds; i++) {
                if (isempty(w->def->sounds[i].model))
                        return xv_error_setf(w->error, XVP_ERR_CONFIG_UNSUPPORTED,
                                             "sound device without a model");
                if (i > 0)
                        strbuf_appendc(&b, ',');
                strbuf_append(&b, w->def->sounds[i].model);
        }

        r = strbuf_steal(&b, &s);
        if (r < 0)
                return r;
        return xm_config_set_string(w->c, "soundhw", s);
}

typedef int (*WriterStep)(Writer *w);

static int run_steps(Writer *w, const WriterStep *steps, size_t n) {
        int r;

        for (size_t i = 0; i < n; i++) {
                r = steps[i](w);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* xm's HVM image options include fda and fdb (xm create's "Disk image to use as floppy a/b");
 * a floppy is written there rather than lost. */
static int format_floppies(Writer *w) {
        for (size_t i = 0; i < w->def->n_disks; i++) {
                const DomainDisk *d = &w->def->disks[i];
                int r;

                if (d->device != DOMAIN_DISK_DEVICE_FLOPPY)
                        continue;
                if (!d->dst || (!streq(d->dst, "fda") && !streq(d->dst, "fdb")))
                        return conf_error(w->error, "floppy target '%s' is not fda or fdb", strnull(d->dst));
                if (!d->src)
                        continue;
                r = xm_config_set_string(w->c, d->dst, d->src);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int format_hvm_only(Writer *w, WriterStep step) {
        return w->hvm ? step(w) : 0;
}

static int format_features_hvm(Writer *w) {
        return format_hvm_only(w, format_features);
}

static int format_cdrom_hvm(Writer *w) {
        return format_hvm_only(w, format_cdrom);
}

static int format_floppies_hvm(Writer *w) {
        return format_hvm_only(w, format_floppies);
}

int xm_domain_from_def(const DomainDef *def, int version, XmConfig **ret, XvError *error) {
        /* The key order of libvirt's converters: the 2012 xen_xm.c for xend < 3.1, the later
         * xen_common.c + xen_xm.c pair (OS keys and disks at the end) for 3.1 and newer. */
        static const WriterStep steps_old[] = {
                format_general, format_memory_vcpus, format_os, format_features_hvm, format_cdrom_hvm,
                format_floppies_hvm, format_clock, format_lifecycle, format_emulator, format_usb, format_graphics,
                format_disks, format_vifs, format_pcis, format_chrs, format_sound,
        };
        static const WriterStep steps_new[] = {
                format_general, format_memory_vcpus, format_features_hvm, format_clock, format_lifecycle,
                format_emulator, format_graphics, format_vifs, format_pcis, format_chrs, format_sound,
                format_os, format_floppies_hvm, format_disks, format_usb,
        };
        _cleanup_(xm_config_freep) XmConfig *c = NULL;
        Writer w;
        int r;

        assert(def);
        assert(ret);

        if (!version_valid(version))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported xend config version %d",
                                     version);

        r = xm_config_new(&c);
        if (r < 0)
                return r;

        w = (Writer) {
                .c = c,
                .def = def,
                .version = version,
                .hvm = domain_def_is_hvm(def),
                .error = error,
        };

        if (version >= 4)
                r = run_steps(&w, steps_new, ELEMENTSOF(steps_new));
        else
                r = run_steps(&w, steps_old, ELEMENTSOF(steps_old));
        if (r < 0)
                return r;

        *ret = TAKE_PTR(c);
        return 0;
}

/* Every key the converter reads or writes, in any version. */
static const char * const known_keys[] = {
        "name", "uuid", "builder", "kernel", "loader", "ramdisk", "extra", "root", "bootloader",
        "bootargs", "boot", "memory", "maxmem", "vcpus", "vcpu_avail", "maxvcpus", "cpus",
        "on_poweroff", "on_reboot", "on_crash", "pae", "acpi", "apic", "hap", "viridian", "hpet", "tsc_mode",
        "localtime", "rtc_timeoffset", "device_model", "disk", "cdrom", "fda", "fdb", "vif", "pci", "usb",
        "usbdevice", "vnc", "vncunused", "vncdisplay", "vnclisten", "vncpasswd", "keymap", "sdl",
        "display", "xauthority", "vfb", "serial", "parallel", "soundhw",
};

int xm_domain_update_config(XmConfig *c, const DomainDef *def, int version, XvError *error) {
        _cleanup_(xm_config_freep) XmConfig *fresh = NULL;
        int r;

        assert(c);

        r = xm_domain_from_def(def, version, &fresh, error);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(known_keys); i++)
                if (!xm_config_has(fresh, known_keys[i]))
                        (void) xm_config_remove(c, known_keys[i]);

        for (size_t i = 0; i < fresh->n_entries; i++) {
                r = xm_config_set_value(c, fresh->entries[i].key, &fresh->entries[i].value);
                if (r < 0)
                        return r == -E2BIG ? conf_error(error, "too many entries in the config") : r;
        }

        return 0;
}

int xm_domain_parse_text(const char *text, int version, DomainDef **ret, XvError *error) {
        _cleanup_(xm_config_freep) XmConfig *c = NULL;
        int r;

        r = xm_config_parse(text, &c, error);
        if (r < 0)
                return r;
        return xm_domain_to_def(c, version, ret, error);
}

int xm_domain_format_text(const DomainDef *def, int version, char **ret, XvError *error) {
        _cleanup_(xm_config_freep) XmConfig *c = NULL;
        int r;

        r = xm_domain_from_def(def, version, &c, error);
        if (r < 0)
                return r;
        return xm_config_format(c, ret, error);
}
