/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * XendManaged: which domains XenD manages, as XenD's own state directory tells
 * (/var/lib/xend/domains/<uuid>, one directory per managed domain; libvirt's legacy driver looked
 * there too, "no official way"). Read once, then kept current through inotify: every question
 * first reads the events pending on the watch (one non-blocking read()) and reads the directory
 * again only when one came, so an answer is exactly as current as reading the directory at that
 * moment, without reading it per domain or per listing.
 *
 * Thread-safe (its own mutex, a leaf). When the directory does not exist or cannot be watched,
 * the questions fail (-errno) and the caller looks for the one directory itself; the watch is
 * tried again at the next question (XenD creates the directory when it starts).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xv-hcall.h"
#include "xv-macro.h"
#include "xv-uuid.h"

/* The most entries read from the directory (Xen's domid space, with room for inactive ones). */
#define XEND_MANAGED_MAX (64 * 1024)

typedef struct XendManaged XendManaged;

/* @dir: XenD's domains directory (HOST_ROOT/var/lib/xend/domains). -ENOMEM only: the directory is
 * looked at by the first question (the inotify fd is made here). */
int xend_managed_new(const char *dir, XendManaged **ret);
XendManaged *xend_managed_free(XendManaged *m);
DEFINE_CLEANUP_FUNC(XendManaged *, xend_managed_free);

/* 1 when XenD keeps a directory for @uuid, 0 when not, -errno when the directory cannot be read
 * or watched (or holds more than XEND_MANAGED_MAX entries). */
int xend_managed_contains(XendManaged *m, const XvUuid *uuid);

/* The same for each of @info[0..n): @ret[i] set to whether XenD manages @info[i]'s domain, under
 * one look at the events. 0, or -errno as above (@ret untouched). */
int xend_managed_mark(XendManaged *m, const HcallDomainInfo *info, size_t n, bool *ret);

/* How many times the directory was read (for tests). */
uint64_t xend_managed_scans(XendManaged *m);
