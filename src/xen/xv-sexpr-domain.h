/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "xv-domain-def.h"
#include "xv-error.h"
#include "xv-sexpr.h"

/* What XenD's S-expression alone cannot say: run-time facts that come from xenstore, and the
 * xend config format version (shared/reference/xen-driver.md §2.5) that decides the shape. */
typedef struct SexprDomainOptions {
        int xend_config_version;        /* 1..4 */
        const char *console_tty;        /* /local/domain/<id>/console/tty, or NULL */
        const char *serial_tty;         /* /local/domain/<id>/serial/0/tty, or NULL */
        int vnc_port;                   /* /local/domain/<id>/console/vnc-port, or -1 */
} SexprDomainOptions;

#define SEXPR_DOMAIN_OPTIONS_INIT(version) \
        ((SexprDomainOptions) { .xend_config_version = (version), .vnc_port = -1 })

/* (domain ...) as XenD returns it for ?detail=1 → model. */
int sexpr_domain_to_def(const Sexpr *sxp, const SexprDomainOptions *opts, DomainDef **ret,
                        XvError *error);

/* Model → (vm ...) as sent to XenD with op=create / op=new. Returns the printed SXP text. */
int sexpr_domain_from_def(const DomainDef *def, int xend_config_version, char **ret,
                          XvError *error);
