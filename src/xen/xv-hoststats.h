/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Domain block and interface statistics from host files (no Xen call involved):
 *   block: blkback/blktap sysfs counters <root>/sys/bus/xen-backend/devices/{vbd,tap}-<domid>-<devid>/
 *          statistics/{rd_req,rd_sect,wr_req,wr_sect,oo_req} (fallback <root>/sys/devices/xen-backend/...)
 *   interface: the "vif<domid>.<n>" line of <root>/proc/net/dev (host side, so RX/TX are swapped).
 * @root is a prefix for tests and chroots; NULL or "" means the real host.
 */

#include <stddef.h>
#include <stdint.h>

#include "xv-error.h"
#include "xv-hypervisor.h"

#define HOSTSTATS_NET_DEV_MAX (1024 * 1024)     /* bytes of /proc/net/dev we read */
/* Bytes of one sysfs counter file: sysfs attributes claim a size of one page (4096) whatever they
 * hold, and the reader checks the claimed size first. */
#define HOSTSTATS_COUNTER_MAX 4096

/* The Xen virtual device number of a guest disk name ("xvda", "/dev/xvdb1", "hda", "sdc2"):
 *   xvd[a-p]N: 202 << 8 | disk << 4 | N (N < 16);
 *   xvd beyond p or with two letters: 1 << 28 | disk << 8 | N (N < 256);
 *   hd: IDE majors 3,22,33,34,56,57,88,89,90,91 (two disks per major, 64 minors each, N < 64);
 *   sd: SCSI majors 8,65..71,128..135 (16 disks per major, 16 minors each, N < 16).
 * -EINVAL for anything else. */
int hoststats_disk_devid(const char *path, int *ret);

/* -ENOENT (XVP_ERR_OPERATION_FAILED "no stats in this Xen") when no counter file exists. */
int hoststats_block(const char *root, int domid, int devid, HvBlockStats *ret, XvError *error);
/* Same, from a guest disk name; XVP_ERR_INVALID_ARG when @path is not one. */
int hoststats_block_by_path(const char *root, int domid, const char *path, HvBlockStats *ret, XvError *error);

/* @ifname must be "vif<domid>.<n>" for this @domid (XVP_ERR_INVALID_ARG otherwise). */
int hoststats_interface(const char *root, int domid, const char *ifname, HvInterfaceStats *ret,
                        XvError *error);
/* Parses a /proc/net/dev text for @ifname (pure, fuzzed); -ENOENT when the line is absent,
 * -EINVAL when the text is malformed. */
int hoststats_parse_net_dev(const char *text, size_t len, const char *ifname, HvInterfaceStats *ret);
