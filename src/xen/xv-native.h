/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "xv-domain-def.h"
#include "xv-error.h"

/* Xen's native configuration formats by libvirt's names, for domxml-from-native /
 * domxml-to-native: XenD S-expressions, XM config files and xl.cfg files (xen-xl, the libxl
 * toolstack's format). The xend config format version (1..4) decides the shape of the first two;
 * xl.cfg has one shape and ignores it. */
#define NATIVE_FORMAT_SXPR "xen-sxpr"
#define NATIVE_FORMAT_XM   "xen-xm"
#define NATIVE_FORMAT_XL   "xen-xl"

/* 0 for a supported format name; XVP_ERR_INVALID_ARG "unsupported config type X" otherwise. */
int native_check_format(const char *format, XvError *error);

/* Native text -> model. A configuration, not a running domain: no console ptys, no VNC port. */
int native_parse(const char *format, const char *text, int xend_config_version, DomainDef **ret,
                 XvError *error);

/* Model -> native text. */
int native_format(const char *format, const DomainDef *def, int xend_config_version, char **ret,
                  XvError *error);
