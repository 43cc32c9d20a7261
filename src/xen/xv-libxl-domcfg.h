/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * DomainDef <-> libxl_domain_config (libxl, Xen >= 4.5; built against Xen 4.17's libxl).
 *
 * Every string, array and bitmap in a libxl_domain_config produced here is allocated with
 * malloc() (what libxl's *_dispose() functions free), so libxl_domain_config_dispose() releases
 * everything, on success and on failure alike. Nothing here talks to Xen: @ctx may be NULL (pure,
 * offline conversion, used by the unit tests); when given it is only used for libxl's
 * default-filling helpers that need one.
 *
 * What the model says and libxl cannot carry (or Xen >= 4.5 no longer does) is refused with
 * XVP_ERR_CONFIG_UNSUPPORTED (libvirt code 67) and a message naming the element, e.g. a
 * <parallel> port, a transient disk, a tap2 driver for a removable medium, an SDL display for a
 * PV guest together with VNC, more than one graphics device of a kind, a floppy disk. Errors are
 * in domain XVP_FROM_LIBXL.
 *
 * Mapping summary (from_def; to_def is the inverse for the same fields):
 *   c_info:  type PV (os "linux"/"xen") or HVM ("hvm"); name; uuid (a random one if the def has
 *            none: libxl wants one); run_hotplug_scripts default.
 *   b_info:  max_memkb = memory, target_memkb = currentMemory, max_vcpus = vcpu, avail_vcpus =
 *            bits 0..current-1, cpumap = <vcpu cpuset=> (parsed: "0-3,^2,7"), on_* actions;
 *            PV: kernel/ramdisk/cmdline (cmdline from <cmdline>, or "root=<root>" plus it),
 *            bootloader ("pygrub" for an empty <bootloader/>) + bootloader_args (split on blanks);
 *            HVM: firmware from <loader> (hvmloader path kept), boot order "cdn...", pae, acpi,
 *            apic, hap, viridian, rtc offset / localtime, vnc/sdl, serial ("pty", "/dev/...",
 *            "file:...", "tcp:..."), usb tablet, soundhw, nographic, device_model_version.
 *   disks:   pdev_path (src), vdev (dst), format from driver type (raw, qcow, qcow2, vhd), backend
 *            from driver name (phy → phy, file/qemu → qdisk, tap/tap2 → tap), readonly, is_cdrom,
 *            removable (for CD-ROMs).
 *   nics:    mac, bridge (bridge or network name), script, model + nictype vif/vif_ioemu (HVM),
 *            ip (space-separated list), ifname, rate_bytes_per_interval.
 *   vfbs/vkbs: PV graphics; consoles; pcidevs: domain:bus:slot.func, managed → rdm/permissive off.
 */

#include <stdbool.h>
#include <libxl.h>

#include "xv-domain-def.h"
#include "xv-error.h"

/* Limits on what a libxl configuration may carry into the model (checked before any
 * allocation, both directions). */
#define DOMCFG_DEVICES_MAX        DOMAIN_DEVICES_MAX     /* per device kind */
#define DOMCFG_VCPUS_MAX          DOMAIN_VCPUS_MAX
#define DOMCFG_CPUMAP_BITS_MAX    (64 * 1024)            /* host cpus a cpuset may name */
#define DOMCFG_STRING_MAX         DOMAIN_STRING_MAX
#define DOMCFG_IPS_MAX            64                     /* addresses on one NIC */
#define DOMCFG_BOOTLOADER_ARGS_MAX 64                    /* words of bootloader_args */

/* Builds @ret (which the caller has NOT initialised: this function calls
 * libxl_domain_config_init() on it) from @def. On failure @ret is still initialised and may hold
 * part of the configuration: the caller always calls libxl_domain_config_dispose(). */
int domcfg_from_def(libxl_ctx *ctx, const DomainDef *def, libxl_domain_config *ret, XvError *error);

/* The reverse: a new DomainDef (id -1; the caller sets the id of a running domain) from a
 * configuration, e.g. what libxl_retrieve_domain_configuration() returned for a domain created
 * by xl. Fields the model has no place for are ignored (logged at debug level); counts are
 * checked against the DOMCFG_*_MAX limits. Sets *ret on success only. */
int domcfg_to_def(const libxl_domain_config *cfg, DomainDef **ret, XvError *error);

/* Device conversions for attach/detach. @hvm: the guest's type (decides nictype ioemu and the
 * CD-ROM rules). @ret is initialised here (libxl_device_*_init()); the caller disposes it
 * (libxl_device_*_dispose()) whatever the result. */
int domcfg_disk_from_def(libxl_ctx *ctx, const DomainDisk *disk, bool hvm, libxl_device_disk *ret,
                         XvError *error);
int domcfg_nic_from_def(libxl_ctx *ctx, const DomainNet *net, bool hvm, libxl_device_nic *ret,
                        XvError *error);
/* @ret is overwritten (zeroed first); on failure it is released with domain_*_done(). */
int domcfg_disk_to_def(const libxl_device_disk *disk, DomainDisk *ret, XvError *error);
int domcfg_nic_to_def(const libxl_device_nic *nic, DomainNet *ret, XvError *error);

/* "0-3,^2,7" → bitmap (allocated with malloc, at least @min_bits wide); refuses cpus beyond
 * DOMCFG_CPUMAP_BITS_MAX. @ret is initialised here; dispose with libxl_bitmap_dispose(). */
int domcfg_cpuset_parse(const char *s, unsigned min_bits, libxl_bitmap *ret, XvError *error);
/* The set bits as a cpuset string ("0-3,7"); NULL with -ENOENT when none is set. */
int domcfg_cpuset_format(const libxl_bitmap *map, char **ret);
