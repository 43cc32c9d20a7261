/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "xv-domain-def.h"
#include "xv-error.h"

/*
 * Xen's character-device strings, as they appear in XenD's (serial ...)/(parallel ...) image
 * keys and in XM config files (serial = "..."): "pty", "null", "vc", "stdio", "/dev/ttyS0",
 * "file:/path", "pipe:/path", "tcp:host:port[,server][,nowait]", "telnet:host:port[,...]",
 * "udp:host:port[@bindhost:bindport]", "unix:/path[,server][,nowait]".
 *
 * "none" (no device at all) is the caller's business: xen_chr_parse("none") is -EINVAL, like
 * any other unknown spelling.
 */

/* Longest accepted specification, checked before anything is copied. */
#define XEN_CHR_SPEC_MAX 4096

/* Parses @spec into *ret. *ret is fully initialized by the function (zero, except target_port
 * = -1, like domain_chr_init()) and only written on success; the caller owns its strings and
 * releases them with domain_chr_done(). A pty never has a path here: the allocated tty is a
 * run-time fact the caller fills in. Returns 0, -ENOMEM, or -EINVAL with @error set. */
int xen_chr_parse(const char *spec, DomainChr *ret, XvError *error);

/* Formats @chr as Xen spells it (the inverse of xen_chr_parse()) into a new string. Types Xen
 * cannot express and missing mandatory parts are -EINVAL with @error set. */
int xen_chr_format(const DomainChr *chr, char **ret, XvError *error);

/* Parses @spec and appends the device, on target port @port, to the vector *@vec of *@n elements
 * (one of a DomainDef's serials, parallels or consoles). The new element is returned through @ret
 * when that is not NULL. Past DOMAIN_DEVICES_MAX this is -E2BIG without a message: each converter
 * words its own. */
int xen_chr_append(DomainChr **vec, size_t *n, const char *spec, int port, DomainChr **ret,
                   XvError *error);
