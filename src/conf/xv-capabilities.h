/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xv-error.h"
#include "xv-macro.h"
#include "xv-uuid.h"

/*
 * Capabilities: what this host can run, as libvirt's connectGetCapabilities reports it
 * (shared/reference/xen-driver.md §1 row 9), and its <capabilities> XML formatter.
 *
 * The model is plain data: a host part (arch, CPU feature names, optional UUID, migration
 * transports, NUMA cells) and one CapabilitiesGuest per (os_type, arch) the hypervisor runs.
 * capabilities_add_xen_guests() fills it the way libvirt's Xen driver did from /proc/cpuinfo and
 * the hypervisor's xen_caps string; the generic add functions let a caller (or a test) build any
 * other host. The structures are public for reading; change them only through the functions here.
 *
 * Two dialects exist because clients compare this XML with what libvirt printed, and libvirt
 * changed both the content and the element order in early 2008:
 *
 *   CAPABILITIES_DIALECT_CURRENT  libvirt >= 0.4 (virCapabilities): <uuid>, <migration_features>
 *                                 with xenmigr, <topology>; guests carry an emulator, machines
 *                                 xenpv/xenfv, features acpi/apic/hap/viridian with default/toggle;
 *                                 <arch> children in the order wordsize, emulator, loader,
 *                                 machine*, domain. This is what the daemon serves.
 *   CAPABILITIES_DIALECT_2007     libvirt 0.3.x (xen_internal.c wrote the XML by hand; the
 *                                 xencapstest files of the conformance corpus): only HVM guests
 *                                 have an emulator (lib64 for 64-bit guests), machines pc/isapc,
 *                                 features pae/nonpae/ia64_be only, and <arch> children in the
 *                                 order wordsize, domain, emulator, machine*, loader. This order
 *                                 does not validate against today's capability schema.
 *
 * Sizes from outside are bounded before anything is allocated (the *_MAX below).
 */

#define CAPABILITIES_CPUINFO_SIZE_MAX   (1024 * 1024)   /* bytes of /proc/cpuinfo text */
#define CAPABILITIES_XEN_CAPS_SIZE_MAX  1024            /* Xen's xen_capabilities_info_t is char[1024] */
#define CAPABILITIES_NAME_MAX           64              /* arch, os type, feature, machine names */
#define CAPABILITIES_PATH_MAX           4096            /* emulator and loader paths */
#define CAPABILITIES_HOST_FEATURES_MAX  64
#define CAPABILITIES_TRANSPORTS_MAX     8
#define CAPABILITIES_GUESTS_MAX         32              /* libvirt's fixed array had 32 slots too */
#define CAPABILITIES_MACHINES_MAX       16              /* per guest */
#define CAPABILITIES_FEATURES_MAX       16              /* per guest */
#define CAPABILITIES_CELLS_MAX          1024
#define CAPABILITIES_CPUS_MAX           4096            /* physical CPU ids are 0..CPUS_MAX-1 */
#define CAPABILITIES_XML_SIZE_MAX       (4 * 1024 * 1024)

typedef enum CapabilitiesDialect {
        CAPABILITIES_DIALECT_CURRENT,
        CAPABILITIES_DIALECT_2007,
        _CAPABILITIES_DIALECT_MAX,
        _CAPABILITIES_DIALECT_INVALID = -EINVAL,
} CapabilitiesDialect;

/* A guest feature. libvirt printed pae, nonpae and ia64_be bare (<pae/>), and the switchable
 * ones with their default and whether a domain may change it (<acpi default='on' toggle='yes'/>). */
typedef struct CapabilitiesFeature {
        char *name;
        bool has_toggle;        /* print default= and toggle= */
        bool default_on;
        bool toggle;
} CapabilitiesFeature;

typedef struct CapabilitiesGuest {
        char *os_type;          /* "xen" (paravirtualized) or "hvm" */
        char *arch;             /* "i686", "x86_64", "ia64", "ppc64" */
        unsigned wordsize;      /* 32 or 64 */
        char *emulator;         /* NULL when none */
        char *loader;           /* NULL when none */
        char **machines;        /* strv, may be NULL */
        char *domain_type;      /* "xen" */
        CapabilitiesFeature *features;
        size_t n_features;
} CapabilitiesGuest;

typedef struct CapabilitiesCell {
        unsigned id;
        uint64_t memory_kib;    /* 0 = unknown, not printed */
        unsigned *cpus;         /* physical CPU ids, in the order given */
        size_t n_cpus;
} CapabilitiesCell;

typedef struct Capabilities {
        CapabilitiesDialect dialect;
        char *host_arch;
        bool has_uuid;
        XvUuid uuid;
        char **host_features;           /* strv: "vmx"/"svm", "pae" */
        bool live_migration;
        char **migration_transports;    /* strv: "xenmigr" */
        CapabilitiesCell *cells;
        size_t n_cells;
        CapabilitiesGuest **guests;
        size_t n_guests;
} Capabilities;

/* An (os_type, arch) pair the host can run; the strings are borrowed from the Capabilities. */
typedef struct CapabilitiesGuestType {
        const char *os_type;
        const char *arch;
} CapabilitiesGuestType;

const char *capabilities_dialect_to_string(CapabilitiesDialect d) _pure_;
CapabilitiesDialect capabilities_dialect_from_string(const char *s) _pure_;

/* A host of machine architecture @host_arch (uname's machine field, e.g. "x86_64", "i686";
 * letters, digits and '_' only) with no features, no guests and no cells. Returns 0, -EINVAL for
 * a bad arch or dialect, or -ENOMEM. */
int capabilities_new(const char *host_arch, CapabilitiesDialect dialect, Capabilities **ret,
                     XvError *error);
Capabilities *capabilities_free(Capabilities *caps);
DEFINE_CLEANUP_FUNC(Capabilities *, capabilities_free);

/* Fills @caps as libvirt's Xen driver did:
 *
 *  - host CPU features from the "flags" lines of @cpuinfo (/proc/cpuinfo text, may be NULL):
 *    "vmx" or "svm", and "pae" (see the quirk in the .c file);
 *  - (CURRENT dialect) live migration over the "xenmigr" transport;
 *  - one guest per (paravirt/HVM, arch) pair named by the tokens of @xen_caps (the hypervisor's
 *    /sys/hypervisor/properties/capabilities, e.g. "xen-3.0-x86_64 hvm-3.0-x86_32p"; may be
 *    NULL or empty for a host that runs no guests), in the order of first appearance, with the
 *    pae/nonpae/ia64_be flavours of one arch merged;
 *  - (CURRENT dialect) acpi and apic for HVM guests, hap from Xen 3.3 and viridian from Xen 3.4,
 *    decided by @xen_major.@xen_minor (the running hypervisor's version).
 *
 * The list of HVM guests comes from Xen alone: Xen lists hvm-* only when the CPU can run them,
 * while dom0's /proc/cpuinfo is a filtered view (later Xen releases hide vmx/svm from it).
 * Unknown architectures in @xen_caps are skipped, as new Xen ports add them. Errors: -EOVERFLOW
 * for oversize input or a full guest table, -EBADMSG for a malformed token or a control character,
 * -EINVAL for a guest @caps already has. On those errors @caps is unchanged; after -ENOMEM it may
 * hold part of the result and should be freed. */
int capabilities_add_xen_guests(Capabilities *caps, const char *cpuinfo, const char *xen_caps,
                                unsigned xen_major, unsigned xen_minor, XvError *error);

/* Generic builders. Names are checked (non-empty, at most CAPABILITIES_NAME_MAX, letters, digits,
 * '_', '-', '.'); paths must be absolute. Duplicates are ignored for host features and
 * transports, and refused (-EINVAL) for guests (same os_type and arch), features and cell ids.
 * Counts past the *_MAX limits are -EOVERFLOW. */
int capabilities_set_uuid(Capabilities *caps, const XvUuid *uuid);
int capabilities_add_host_feature(Capabilities *caps, const char *name, XvError *error);
int capabilities_add_migration_transport(Capabilities *caps, const char *transport, XvError *error);
int capabilities_add_guest(Capabilities *caps, const char *os_type, const char *arch, unsigned wordsize,
                           const char *emulator, const char *loader, char * const *machines,
                           CapabilitiesGuest **ret_guest, XvError *error);
int capabilities_guest_add_feature(CapabilitiesGuest *guest, const char *name, bool has_toggle,
                                   bool default_on, bool toggle, XvError *error);

/* Adds NUMA cell @id with @n_cpus physical CPU ids and its memory (0 = unknown). A CPU may appear
 * in one cell only, and its id must be below CAPABILITIES_CPUS_MAX. A cell may be empty (XenD
 * printed "node1:no cpus" for a memory-only node). */
int capabilities_add_numa_cell(Capabilities *caps, unsigned id, const unsigned *cpus, size_t n_cpus,
                               uint64_t memory_kib, XvError *error);

/* The guest for (@os_type, @arch), or NULL. @arch NULL matches the first guest of that os_type
 * whose arch is the host's, else the first of that os_type (libvirt's default-arch rule). */
const CapabilitiesGuest *capabilities_find_guest(const Capabilities *caps, const char *os_type,
                                                 const char *arch);

/* Every (os_type, arch) pair in guest order, as a new array of *ret_n entries (free() it; the
 * strings stay owned by @caps). An empty list gives *ret = NULL and *ret_n = 0. */
int capabilities_list_guest_types(const Capabilities *caps, CapabilitiesGuestType **ret, size_t *ret_n);

/* The <capabilities> document in @caps' dialect, two-space indented, ending in a newline. */
int capabilities_format_xml(const Capabilities *caps, char **ret, XvError *error);
