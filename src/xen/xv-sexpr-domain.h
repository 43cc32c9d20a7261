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

/* (domain ...) as XenD returns it for ?detail=1 → model. A (vm ...) as we send it is read the
 * same way. Devices XenD implies are added as libvirt showed them: the PV console (a pty, path
 * from @opts), the HVM console (a copy of the first serial port) and the mouse of a graphical
 * console (PS/2 on HVM, xen on PV). */
int sexpr_domain_to_def(const Sexpr *sxp, const SexprDomainOptions *opts, DomainDef **ret,
                        XvError *error);

/* Model → (vm ...) as sent to XenD with op=create / op=new. Returns the printed SXP text. */
int sexpr_domain_from_def(const DomainDef *def, int xend_config_version, char **ret,
                          XvError *error);

/* The xend config format versions of shared/reference/xen-driver.md §2.5 (libvirt's names). */
#define XEND_CONFIG_VERSION_3_0_2 1
#define XEND_CONFIG_VERSION_3_0_3 2
#define XEND_CONFIG_VERSION_3_0_4 3
#define XEND_CONFIG_VERSION_3_1_0 4

/* The run state XenD reports in (state "-b----") and (status N). */
typedef enum SexprDomainState {
        SEXPR_DOMAIN_NOSTATE,
        SEXPR_DOMAIN_RUNNING,
        SEXPR_DOMAIN_BLOCKED,
        SEXPR_DOMAIN_PAUSED,
        SEXPR_DOMAIN_SHUTDOWN,          /* dying */
        SEXPR_DOMAIN_SHUTOFF,
        SEXPR_DOMAIN_CRASHED,
        _SEXPR_DOMAIN_STATE_MAX,
        _SEXPR_DOMAIN_STATE_INVALID = -EINVAL,
} SexprDomainState;

/* Scans the state letters (c, s, d, p, b, r in this priority); without a state, a domain with
 * no domid or with (status 0) is shut off. Never fails on a (domain ...) list. */
SexprDomainState sexpr_domain_state(const Sexpr *sxp);
const char *sexpr_domain_state_to_string(SexprDomainState s) _pure_;

/* (domid N): -ENOENT when absent (an inactive domain of a managed xend). */
int sexpr_domain_id(const Sexpr *sxp, int *ret);

/* (cpu_time 137.189121425), float seconds → nanoseconds. -ENOENT when absent. */
int sexpr_domain_cpu_time(const Sexpr *sxp, uint64_t *ret_ns);

/* Credit scheduler parameters (cpu_weight may be written as a float, "1.0"). -ENOENT when absent. */
int sexpr_domain_cpu_weight(const Sexpr *sxp, unsigned *ret);
int sexpr_domain_cpu_cap(const Sexpr *sxp, unsigned *ret);

/* Autostart: (on_xend_start start). -ENOENT when the key is absent. */
int sexpr_domain_autostart(const Sexpr *sxp, bool *ret);

/* Device configurations for op=device_create / device_configure: (vbd ...) / (tap ...) /
 * (tap2 ...), (vif ...) and (pci (dev ...)(state 'Initialising'|'Closing')), without the
 * (device ...) wrapper. The type of a disk device (for device_destroy's type=) is the head of
 * the returned list. A floppy, or an old-xend HVM CD-ROM, cannot be attached (-EINVAL). */
int sexpr_device_from_disk(const DomainDisk *disk, bool hvm, int xend_config_version, Sexpr **ret,
                           XvError *error);
int sexpr_device_from_net(const DomainNet *net, bool hvm, int xend_config_version, Sexpr **ret,
                          XvError *error);
int sexpr_device_from_hostdev(const DomainHostdevPci *hostdev, bool detach, Sexpr **ret,
                              XvError *error);

/* Model → the (vm ...) tree (what sexpr_domain_from_def() prints). */
int sexpr_domain_build(const DomainDef *def, int xend_config_version, Sexpr **ret, XvError *error);
