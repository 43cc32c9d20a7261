/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "xv-domain-def.h"
#include "xv-error.h"
#include "xv-xm-config.h"

/*
 * xl.cfg(5) <-> DomainDef: the format `xl create` reads, libvirt's "xen-xl". The grammar is the
 * XM file grammar (parsed by xv-xm-config, bounded and fuzzed); the keys are xl's: `type`
 * ("pv", "hvm", "pvh") instead of `builder`, xl-disk-configuration(5) disk specs (positional
 * "target,format,vdev,access" and key=value), vif/vfb/pci lists, `device_model_version`.
 * Unknown or unsupported values fail with a precise XvError (XVP_ERR_CONF_SYNTAX for syntax,
 * XVP_ERR_CONFIG_UNSUPPORTED / XVP_ERR_INVALID_ARG for values), domain XVP_FROM_XENXL.
 */

int xl_domain_to_def(const XmConfig *c, DomainDef **ret, XvError *error);
int xl_domain_from_def(const DomainDef *def, XmConfig **ret, XvError *error);

int xl_domain_parse_text(const char *text, DomainDef **ret, XvError *error);
int xl_domain_format_text(const DomainDef *def, char **ret, XvError *error);
