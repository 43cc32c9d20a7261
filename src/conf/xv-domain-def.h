/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xv-error.h"
#include "xv-macro.h"
#include "xv-uuid.h"

/*
 * DomainDef: the one in-memory model of a Xen domain. Every converter goes through it:
 * domain XML (xv-domain-xml), XenD S-expressions (xv-sexpr-domain) and XM config files
 * (xv-xm-domain). It covers what libvirt's Xen driver supported (shared/reference/xen-driver.md
 * §6). Memory is in KiB everywhere. Strings are owned, NULL when absent.
 *
 * Enums follow the systemd template: a _MAX sentinel and _INVALID = -EINVAL. Each has a
 * to_string()/from_string() pair with the spelling used in libvirt's domain XML.
 */

/* Hard limits, checked by every parser before anything is allocated. */
#define DOMAIN_NAME_MAX           256           /* bytes, like a file name */
#define DOMAIN_VCPUS_MAX          4096
#define DOMAIN_DEVICES_MAX        256           /* per device kind */
#define DOMAIN_BOOT_DEVS_MAX      4
#define DOMAIN_STRING_MAX         4096          /* any single attribute or text value */
#define DOMAIN_XML_SIZE_MAX       (1024 * 1024)

typedef enum DomainVirtType {
        DOMAIN_VIRT_XEN,
        _DOMAIN_VIRT_TYPE_MAX,
        _DOMAIN_VIRT_TYPE_INVALID = -EINVAL,
} DomainVirtType;

typedef enum DomainOsType {
        DOMAIN_OS_LINUX,        /* "linux": paravirtualized (what the Xen driver prints) */
        DOMAIN_OS_XEN,          /* "xen": the same, other spelling; kept as written */
        DOMAIN_OS_HVM,          /* "hvm": fully virtualized */
        _DOMAIN_OS_TYPE_MAX,
        _DOMAIN_OS_TYPE_INVALID = -EINVAL,
} DomainOsType;

typedef enum DomainLifecycleAction {
        DOMAIN_LIFECYCLE_DESTROY,
        DOMAIN_LIFECYCLE_RESTART,
        DOMAIN_LIFECYCLE_RENAME_RESTART,
        DOMAIN_LIFECYCLE_PRESERVE,
        DOMAIN_LIFECYCLE_COREDUMP_DESTROY,
        DOMAIN_LIFECYCLE_COREDUMP_RESTART,
        _DOMAIN_LIFECYCLE_ACTION_MAX,
        _DOMAIN_LIFECYCLE_ACTION_INVALID = -EINVAL,
} DomainLifecycleAction;

typedef enum DomainBootDev {
        DOMAIN_BOOT_FLOPPY,     /* "fd" */
        DOMAIN_BOOT_DISK,       /* "hd" */
        DOMAIN_BOOT_CDROM,      /* "cdrom" */
        DOMAIN_BOOT_NET,        /* "network" */
        _DOMAIN_BOOT_DEV_MAX,
        _DOMAIN_BOOT_DEV_INVALID = -EINVAL,
} DomainBootDev;

/* <features>: presence flags, one bit each. */
typedef enum DomainFeature {
        DOMAIN_FEATURE_PAE,
        DOMAIN_FEATURE_ACPI,
        DOMAIN_FEATURE_APIC,
        DOMAIN_FEATURE_HAP,
        DOMAIN_FEATURE_VIRIDIAN,
        _DOMAIN_FEATURE_MAX,
        _DOMAIN_FEATURE_INVALID = -EINVAL,
} DomainFeature;

typedef enum DomainClockOffset {
        DOMAIN_CLOCK_UTC,
        DOMAIN_CLOCK_LOCALTIME,
        DOMAIN_CLOCK_VARIABLE,
        _DOMAIN_CLOCK_OFFSET_MAX,
        _DOMAIN_CLOCK_OFFSET_INVALID = -EINVAL,
} DomainClockOffset;

typedef enum DomainClockBasis {
        DOMAIN_CLOCK_BASIS_UTC,
        DOMAIN_CLOCK_BASIS_LOCALTIME,
        _DOMAIN_CLOCK_BASIS_MAX,
        _DOMAIN_CLOCK_BASIS_INVALID = -EINVAL,
} DomainClockBasis;

typedef enum DomainTristate {
        DOMAIN_TRISTATE_ABSENT,
        DOMAIN_TRISTATE_YES,
        DOMAIN_TRISTATE_NO,
} DomainTristate;

typedef struct DomainTimer {
        char *name;             /* "hpet", "tsc", "rtc", "pit", "platform", "kvmclock"... */
        DomainTristate present;
        char *mode;             /* tsc: "auto", "native", "emulate", "paravirt", "smpsafe" */
        char *tickpolicy;
} DomainTimer;

typedef struct DomainClock {
        DomainClockOffset offset;
        bool has_adjustment;            /* adjustment='N' given (variable) */
        long long adjustment;           /* seconds */
        bool adjustment_reset;          /* adjustment='reset' (utc/localtime, 2012-era output) */
        DomainClockBasis basis;         /* variable only */
        bool has_basis;
        DomainTimer *timers;
        size_t n_timers;
} DomainClock;

typedef enum DomainDiskType {
        DOMAIN_DISK_TYPE_FILE,
        DOMAIN_DISK_TYPE_BLOCK,
        _DOMAIN_DISK_TYPE_MAX,
        _DOMAIN_DISK_TYPE_INVALID = -EINVAL,
} DomainDiskType;

typedef enum DomainDiskDevice {
        DOMAIN_DISK_DEVICE_DISK,
        DOMAIN_DISK_DEVICE_CDROM,
        DOMAIN_DISK_DEVICE_FLOPPY,
        _DOMAIN_DISK_DEVICE_MAX,
        _DOMAIN_DISK_DEVICE_INVALID = -EINVAL,
} DomainDiskDevice;

typedef enum DomainDiskBus {
        DOMAIN_DISK_BUS_DEFAULT,        /* not given: inferred from the target's prefix */
        DOMAIN_DISK_BUS_IDE,
        DOMAIN_DISK_BUS_FDC,
        DOMAIN_DISK_BUS_SCSI,
        DOMAIN_DISK_BUS_XEN,
        DOMAIN_DISK_BUS_USB,
        DOMAIN_DISK_BUS_VIRTIO,
        _DOMAIN_DISK_BUS_MAX,
        _DOMAIN_DISK_BUS_INVALID = -EINVAL,
} DomainDiskBus;

typedef struct DomainDisk {
        DomainDiskType type;
        DomainDiskDevice device;
        char *driver_name;      /* "file", "phy", "tap", "tap2", "qemu"; NULL = none given */
        char *driver_type;      /* "aio", "raw", "qcow", "qcow2", "vmdk"...; NULL = none */
        char *src;              /* file path or block device; NULL for an empty CD-ROM */
        char *dst;              /* target dev: "xvda", "hda", "sda1", "fda" */
        DomainDiskBus bus;
        bool readonly;
        bool shareable;
        bool transient;         /* parsed so that converters can refuse it with a clear error */
} DomainDisk;

typedef enum DomainNetType {
        DOMAIN_NET_TYPE_BRIDGE,
        DOMAIN_NET_TYPE_ETHERNET,
        DOMAIN_NET_TYPE_NETWORK,
        _DOMAIN_NET_TYPE_MAX,
        _DOMAIN_NET_TYPE_INVALID = -EINVAL,
} DomainNetType;

typedef struct DomainNet {
        DomainNetType type;
        bool has_mac;
        uint8_t mac[6];
        char *bridge;           /* bridge: <source bridge> */
        char *network;          /* network: <source network> */
        char *source_dev;       /* ethernet: legacy <source dev> */
        char *script;           /* <script path> */
        char **ips;             /* <ip address>, NULL-terminated; NULL when none */
        char *model;            /* <model type>: "netfront", "e1000", ... */
        char *ifname;           /* <target dev>: vifname */
        uint64_t rate_average;  /* <bandwidth><outbound average> in KiB/s; 0 = none */
} DomainNet;

typedef struct DomainHostdevPci {
        unsigned domain;
        unsigned bus;
        unsigned slot;
        unsigned function;
        bool managed;
} DomainHostdevPci;

typedef enum DomainGraphicsType {
        DOMAIN_GRAPHICS_VNC,
        DOMAIN_GRAPHICS_SDL,
        _DOMAIN_GRAPHICS_TYPE_MAX,
        _DOMAIN_GRAPHICS_TYPE_INVALID = -EINVAL,
} DomainGraphicsType;

typedef struct DomainGraphics {
        DomainGraphicsType type;
        /* vnc */
        int port;               /* -1 = pick automatically; 0 = not given */
        bool autoport;
        char *listen;           /* address */
        char *passwd;           /* a secret: formatted only with DOMAIN_XML_SECURE */
        char *keymap;
        /* sdl */
        char *display;
        char *xauth;
        bool fullscreen;
} DomainGraphics;

typedef enum DomainInputType {
        DOMAIN_INPUT_MOUSE,
        DOMAIN_INPUT_TABLET,
        DOMAIN_INPUT_KEYBOARD,
        _DOMAIN_INPUT_TYPE_MAX,
        _DOMAIN_INPUT_TYPE_INVALID = -EINVAL,
} DomainInputType;

typedef enum DomainInputBus {
        DOMAIN_INPUT_BUS_PS2,
        DOMAIN_INPUT_BUS_USB,
        DOMAIN_INPUT_BUS_XEN,
        _DOMAIN_INPUT_BUS_MAX,
        _DOMAIN_INPUT_BUS_INVALID = -EINVAL,
} DomainInputBus;

typedef struct DomainInput {
        DomainInputType type;
        DomainInputBus bus;
} DomainInput;

/* Character devices: <serial>, <parallel>, <console>. */
typedef enum DomainChrType {
        DOMAIN_CHR_NULL,
        DOMAIN_CHR_VC,
        DOMAIN_CHR_PTY,
        DOMAIN_CHR_DEV,
        DOMAIN_CHR_FILE,
        DOMAIN_CHR_PIPE,
        DOMAIN_CHR_STDIO,
        DOMAIN_CHR_UDP,
        DOMAIN_CHR_TCP,
        DOMAIN_CHR_UNIX,
        _DOMAIN_CHR_TYPE_MAX,
        _DOMAIN_CHR_TYPE_INVALID = -EINVAL,
} DomainChrType;

typedef enum DomainChrTcpProtocol {
        DOMAIN_CHR_TCP_RAW,
        DOMAIN_CHR_TCP_TELNET,
        _DOMAIN_CHR_TCP_PROTOCOL_MAX,
        _DOMAIN_CHR_TCP_PROTOCOL_INVALID = -EINVAL,
} DomainChrTcpProtocol;

typedef enum DomainChrTargetType {
        DOMAIN_CHR_TARGET_NONE,         /* serial/parallel: no target type */
        DOMAIN_CHR_TARGET_SERIAL,       /* console backed by the first serial port (HVM) */
        DOMAIN_CHR_TARGET_XEN,          /* PV console */
        _DOMAIN_CHR_TARGET_TYPE_MAX,
        _DOMAIN_CHR_TARGET_TYPE_INVALID = -EINVAL,
} DomainChrTargetType;

typedef struct DomainChr {
        DomainChrType type;
        char *path;             /* dev, file, pipe, unix; pty: the allocated pty (runtime, may be NULL) */
        /* tcp: host/service and listen (mode='bind'); udp: connect host/service + bind_* */
        char *host;
        char *service;
        bool listen;
        DomainChrTcpProtocol protocol;
        char *bind_host;
        char *bind_service;
        int target_port;        /* -1 = not given */
        DomainChrTargetType target_type;
} DomainChr;

typedef struct DomainSound {
        char *model;            /* "sb16", "es1370", "ac97", "pcspk"... */
} DomainSound;

typedef struct DomainVideo {
        char *model;            /* "cirrus", "vga", "xen", "vmvga" */
        unsigned vram_kib;      /* 0 = not given */
        unsigned heads;         /* 0 = not given */
        bool primary;
} DomainVideo;

/* A flat vector of devices of one kind. */
#define DOMAIN_DEVICE_VECTOR(type, name) \
        type *name;                      \
        size_t n_##name

typedef struct DomainDef {
        DomainVirtType virt_type;
        int id;                         /* -1 when inactive */
        char *name;
        XvUuid uuid;
        bool has_uuid;
        char *description;

        uint64_t memory_kib;            /* <memory>: the maximum */
        uint64_t current_memory_kib;    /* <currentMemory>: 0 = same as memory */

        unsigned vcpus;                 /* <vcpu>: the maximum */
        unsigned vcpus_current;         /* <vcpu current=>: 0 = same as vcpus */
        char *cpuset;                   /* <vcpu cpuset=>, e.g. "1-3,^2", as written */

        DomainLifecycleAction on_poweroff;
        DomainLifecycleAction on_reboot;
        DomainLifecycleAction on_crash;

        /* <os> */
        DomainOsType os_type;
        char *os_arch;                  /* <type arch=> */
        char *os_machine;               /* <type machine=> */
        char *bootloader;               /* <bootloader>; "" for an empty <bootloader/> */
        char *bootloader_args;
        char *kernel;
        char *initrd;
        char *cmdline;
        char *root;
        char *loader;
        DomainBootDev boot[DOMAIN_BOOT_DEVS_MAX];
        size_t n_boot;

        uint32_t features;              /* 1 << DomainFeature */
        DomainClock clock;
        char *emulator;

        DOMAIN_DEVICE_VECTOR(DomainDisk, disks);
        DOMAIN_DEVICE_VECTOR(DomainNet, nets);
        DOMAIN_DEVICE_VECTOR(DomainHostdevPci, hostdevs);
        DOMAIN_DEVICE_VECTOR(DomainGraphics, graphics);
        DOMAIN_DEVICE_VECTOR(DomainInput, inputs);
        DOMAIN_DEVICE_VECTOR(DomainChr, serials);
        DOMAIN_DEVICE_VECTOR(DomainChr, parallels);
        DOMAIN_DEVICE_VECTOR(DomainChr, consoles);
        DOMAIN_DEVICE_VECTOR(DomainSound, sounds);
        DOMAIN_DEVICE_VECTOR(DomainVideo, videos);
        char *memballoon_model;         /* "xen", "none"; NULL = none given */
} DomainDef;

/* A new, empty definition with libvirt's defaults: id -1, on_poweroff destroy, on_reboot restart,
 * on_crash destroy (virDomainDefParseXML's defaults for absent elements). */
int domain_def_new(DomainDef **ret);
DomainDef *domain_def_free(DomainDef *def);
DEFINE_CLEANUP_FUNC(DomainDef *, domain_def_free);

/* Deep copy. */
int domain_def_copy(const DomainDef *def, DomainDef **ret);

/* Appends a zeroed element to one of the device vectors, refusing past DOMAIN_DEVICES_MAX.
 * Returns a pointer to the new element through *ret. */
#define domain_def_add_device(vec, n, ret) \
        domain_def_add_device_internal((void **) &(vec), &(n), sizeof((vec)[0]), (void **) (ret))
int domain_def_add_device_internal(void **vec, size_t *n, size_t size, void **ret);

void domain_disk_done(DomainDisk *d);
void domain_net_done(DomainNet *n);
void domain_graphics_done(DomainGraphics *g);
void domain_chr_done(DomainChr *c);
void domain_chr_init(DomainChr *c);     /* target_port = -1, the rest zero */
/* Deep copy of @s into @d, which is overwritten. On failure @d may hold some of the strings: the
 * caller releases it with domain_chr_done() (or with the definition that holds it). */
int domain_chr_copy(const DomainChr *s, DomainChr *d);

/* Semantic checks shared by every input format: name present and sane, memory > 0 and
 * current <= max, vcpus in 1..DOMAIN_VCPUS_MAX and current <= max, duplicate disk targets,
 * an empty source only for removable media. */
int domain_def_validate(const DomainDef *def, XvError *error);

/* Convenience accessors. */
static inline bool domain_def_is_hvm(const DomainDef *def) {
        return def->os_type == DOMAIN_OS_HVM;
}
static inline bool domain_def_has_feature(const DomainDef *def, DomainFeature f) {
        return def->features & (UINT32_C(1) << f);
}
static inline void domain_def_set_feature(DomainDef *def, DomainFeature f, bool on) {
        if (on)
                def->features |= UINT32_C(1) << f;
        else
                def->features &= ~(UINT32_C(1) << f);
}
static inline uint64_t domain_def_current_memory(const DomainDef *def) {
        return def->current_memory_kib ?: def->memory_kib;
}
static inline unsigned domain_def_current_vcpus(const DomainDef *def) {
        return def->vcpus_current ?: def->vcpus;
}

/* "aa:bb:cc:dd:ee:ff" parse (either case) / format (lower case, 18-byte buffer). */
int domain_mac_parse(const char *s, uint8_t ret[static 6]);
char *domain_mac_format(const uint8_t mac[static 6], char buf[static 18]);

/* String tables. from_string() returns the enum value or -EINVAL. */
#define DOMAIN_DECLARE_STRING_TABLE(name, type)                  \
        const char *name##_to_string(type t) _pure_;             \
        type name##_from_string(const char *s) _pure_

DOMAIN_DECLARE_STRING_TABLE(domain_os_type, DomainOsType);
DOMAIN_DECLARE_STRING_TABLE(domain_lifecycle_action, DomainLifecycleAction);
DOMAIN_DECLARE_STRING_TABLE(domain_boot_dev, DomainBootDev);
DOMAIN_DECLARE_STRING_TABLE(domain_feature, DomainFeature);
DOMAIN_DECLARE_STRING_TABLE(domain_clock_offset, DomainClockOffset);
DOMAIN_DECLARE_STRING_TABLE(domain_clock_basis, DomainClockBasis);
DOMAIN_DECLARE_STRING_TABLE(domain_disk_type, DomainDiskType);
DOMAIN_DECLARE_STRING_TABLE(domain_disk_device, DomainDiskDevice);
DOMAIN_DECLARE_STRING_TABLE(domain_disk_bus, DomainDiskBus);
DOMAIN_DECLARE_STRING_TABLE(domain_net_type, DomainNetType);
DOMAIN_DECLARE_STRING_TABLE(domain_graphics_type, DomainGraphicsType);
DOMAIN_DECLARE_STRING_TABLE(domain_input_type, DomainInputType);
DOMAIN_DECLARE_STRING_TABLE(domain_input_bus, DomainInputBus);
DOMAIN_DECLARE_STRING_TABLE(domain_chr_type, DomainChrType);
DOMAIN_DECLARE_STRING_TABLE(domain_chr_tcp_protocol, DomainChrTcpProtocol);
DOMAIN_DECLARE_STRING_TABLE(domain_chr_target_type, DomainChrTargetType);

/* The disk bus implied by a target name: hd* → ide, sd* → scsi, xvd* → xen, fd* → fdc,
 * vd* → virtio; DOMAIN_DISK_BUS_DEFAULT when it cannot be told. */
DomainDiskBus domain_disk_bus_from_target(const char *dst);
