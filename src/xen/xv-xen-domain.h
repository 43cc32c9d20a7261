/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "xv-domain-def.h"
#include "xv-error.h"

/*
 * The parts of Xen's domain model that XenD's S-expressions (xv-sexpr-domain.c) and XM config
 * files (xv-xm-domain.c) share, so that both converters read and write them the same way: the
 * localtime/rtc_timeoffset pair behind <clock>, and the devices a parsed definition gets without
 * either format naming them.
 *
 * Errors from the device vectors are returned as they come (-E2BIG past DOMAIN_DEVICES_MAX,
 * -ENOMEM): each converter words its own message.
 */

/* Sets @clock from xend's localtime flag. With @rtc_variable (an HVM guest of xend >= 3.1, whose
 * emulated RTC keeps a persistent offset) the clock is variable: @rtc_offset seconds on a UTC or
 * local basis. Otherwise the offset is fixed and adjustment='reset', as libvirt read it. */
void xen_domain_clock_from_xen(DomainClock *clock, bool localtime, bool rtc_variable,
                               long long rtc_offset);

/* The inverse: the localtime flag and RTC offset for @clock. Without @rtc_variable only a fixed
 * UTC or local offset can be expressed and the offset is 0. Anything else is
 * XVP_ERR_CONFIG_UNSUPPORTED. adjustment='reset' is not looked at: whether it can be written is
 * the caller's decision. */
int xen_domain_clock_to_xen(const DomainClock *clock, bool rtc_variable, int *ret_localtime,
                            long long *ret_offset, XvError *error);

/* Appends a <timer> named @name; @mode may be NULL. */
int xen_domain_add_timer(DomainDef *def, const char *name, DomainTristate present, const char *mode);

/* Appends an <input> of @type on @bus. */
int xen_domain_add_input(DomainDef *def, DomainInputType type, DomainInputBus bus);

/* The bus a guest's implied mouse and keyboard sit on: PS/2 for HVM, the PV input device
 * otherwise. */
static inline DomainInputBus xen_domain_input_bus(const DomainDef *def) {
        return domain_def_is_hvm(def) ? DOMAIN_INPUT_BUS_PS2 : DOMAIN_INPUT_BUS_XEN;
}

/* Appends the xenconsole every PV guest has and neither format mentions: a pty on target port 0,
 * with @tty as its path when the allocated tty is known (NULL otherwise). */
int xen_domain_add_pv_console(DomainDef *def, const char *tty);

/* An HVM guest's console is its first serial port: appends a copy of serials[0], port number
 * included, as a <console target type='serial'>. Nothing when there is no serial port. */
int xen_domain_add_hvm_console(DomainDef *def);

/* Whether @dst names a guest disk device Xen understands: one of the Linux device prefixes fd, hd,
 * sd, vd, xvd or ubd, then a letter (the disk), then letters or digits (more disk letters and a
 * partition). Anything else, e.g. "ioemu" or "disk", would collide with the "ioemu:" prefix and
 * the ":disk"/":cdrom" suffixes xend adds to device names, and could not come back the same. */
bool xen_disk_target_valid(const char *dst);
