/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The host files a Xen driver reads besides its three sockets, kept under the simulated root
 * (XsimHost.root): the blkback statistics tree, /proc/net/dev with the vif lines, the hypervisor
 * capabilities, /proc/cpuinfo and xend's configuration file. They follow the host state through a
 * listener, so a disk of a running domain has its statistics directory and a destroyed domain's
 * entries disappear.
 */

#include "xsim-state.h"

#define XSIM_DISKS_MAX          64      /* vbd devices per domain that get statistics */
#define XSIM_VIFS_MAX           16      /* vif devices per domain that get /proc/net/dev lines */

typedef struct XsimHostFiles XsimHostFiles;

/* Writes the static files and registers a listener for the dynamic ones. */
int xsim_hostfiles_new(XsimHost *host, XsimHostFiles **ret);
XsimHostFiles *xsim_hostfiles_free(XsimHostFiles *f);
DEFINE_CLEANUP_FUNC(XsimHostFiles *, xsim_hostfiles_free);

/* Rewrites every dynamic file now (normally done from a deferred event after state changes). */
int xsim_hostfiles_refresh(XsimHostFiles *f);

/* The Xen virtual block device number of a guest device name, by Linux's major/minor rules:
 * "xvda" → 51712 (202 << 8), "xvdq" and beyond → (1 << 28) | disk << 8 | part, "hda" → 768,
 * "hdc" → 5632, "sda" → 2048. Accepts a "/dev/" prefix, an "ioemu:" prefix and a ":disk" or
 * ":cdrom" suffix, and a partition number. Returns 0 or -EINVAL. */
int xsim_disk_devid(const char *name, int *ret);
