/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "xv-domain-def.h"
#include "xv-error.h"

typedef enum DomainXmlFlags {
        DOMAIN_XML_SECURE   = 1 << 0,   /* format secrets (VNC passwords); parse keeps them always */
        DOMAIN_XML_INACTIVE = 1 << 1,   /* format the persistent config: no id, no runtime pty paths or ports */
} DomainXmlFlags;

/* Parses a libvirt-style <domain> document (at most DOMAIN_XML_SIZE_MAX bytes; no network, no
 * external entities, no entity expansion). Sets *ret on success only; on failure @error names
 * the element or attribute at fault (code XVP_ERR_XML, or XVP_ERR_CONFIG_UNSUPPORTED for valid
 * XML that Xen cannot do). */
int domain_def_parse_xml(const char *xml, DomainDef **ret, XvError *error);

/* Formats canonical XML in libvirt's element order, such that parse → format is a fixed point. */
int domain_def_format_xml(const DomainDef *def, DomainXmlFlags flags, char **ret, XvError *error);
