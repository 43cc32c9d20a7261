/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "xv-domain-def.h"
#include "xv-error.h"
#include "xv-xm-config.h"

/*
 * XM config file <-> DomainDef (shared/reference/xen-driver.md §5.1). The xend config format
 * version (§2.5: 1 = xend 3.0.2, 2 = 3.0.3, 3 = 3.0.4, 4 = 3.1 and later) decides what the file
 * can say: the HVM CD-ROM as `cdrom` and `ioemu:` disk names (1), old-style VNC keys for PV
 * guests (< 3) versus the `vfb` list (>= 3), `type=ioemu` on HVM NICs (<= 3), and the HVM clock as
 * `rtc_timeoffset` (>= 4). Version 4 also selects the key order and the implicit devices of
 * libvirt's later (xenconfig) converter.
 */

#define XM_CONFIG_VERSION_MIN 1
#define XM_CONFIG_VERSION_MAX 4

/* Reads a parsed config. Sets *ret on success only. */
int xm_domain_to_def(const XmConfig *c, int xend_config_version, DomainDef **ret, XvError *error);

/* Builds a new config from @def, keys in the order libvirt wrote them for that version. */
int xm_domain_from_def(const DomainDef *def, int xend_config_version, XmConfig **ret, XvError *error);

/* Rewrites an existing config (typically the parsed file under /etc/xen) to describe @def: the
 * keys this converter knows are set in place, appended, or removed when @def no longer needs
 * them; every other key (comments excepted) stays where it was. */
int xm_domain_update_config(XmConfig *c, const DomainDef *def, int xend_config_version, XvError *error);

/* Text conveniences: parse + convert, convert + format. */
int xm_domain_parse_text(const char *text, int xend_config_version, DomainDef **ret, XvError *error);
int xm_domain_format_text(const DomainDef *def, int xend_config_version, char **ret, XvError *error);
