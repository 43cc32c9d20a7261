/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "xv-alloc.h"
#include "xv-xen-domain.h"

void xen_domain_clock_from_xen(DomainClock *clock, bool localtime, bool rtc_variable,
                               long long rtc_offset) {
        assert(clock);

        if (rtc_variable) {
                clock->offset = DOMAIN_CLOCK_VARIABLE;
                clock->has_adjustment = true;
                clock->adjustment = rtc_offset;
                clock->has_basis = true;
                clock->basis = localtime ? DOMAIN_CLOCK_BASIS_LOCALTIME : DOMAIN_CLOCK_BASIS_UTC;
        } else {
                /* PV guests have no emulated RTC, and xend before 3.1 kept no offset for HVM
                 * guests either: the offset is fixed. */
                clock->offset = localtime ? DOMAIN_CLOCK_LOCALTIME : DOMAIN_CLOCK_UTC;
                clock->adjustment_reset = true;
        }
}

int xen_domain_clock_to_xen(const DomainClock *clock, bool rtc_variable, int *ret_localtime,
                            long long *ret_offset, XvError *error) {
        long long offset = 0;
        int localtime;

        assert(clock);
        assert(ret_localtime);
        assert(ret_offset);

        switch (clock->offset) {
        case DOMAIN_CLOCK_VARIABLE:
                if (!rtc_variable)
                        /* Nowhere to keep the offset. */
                        return xv_error_setf(error, XVP_ERR_CONFIG_UNSUPPORTED,
                                             "unsupported clock offset='%s'",
                                             strnull(domain_clock_offset_to_string(clock->offset)));
                localtime = clock->has_basis && clock->basis == DOMAIN_CLOCK_BASIS_LOCALTIME;
                offset = clock->has_adjustment ? clock->adjustment : 0;
                break;
        case DOMAIN_CLOCK_UTC:
                localtime = 0;
                break;
        case DOMAIN_CLOCK_LOCALTIME:
                localtime = 1;
                break;
        default:
                return xv_error_setf(error, XVP_ERR_CONFIG_UNSUPPORTED, "unsupported clock offset='%s'",
                                     strnull(domain_clock_offset_to_string(clock->offset)));
        }

        *ret_localtime = localtime;
        *ret_offset = offset;
        return 0;
}

int xen_domain_add_timer(DomainDef *def, const char *name, DomainTristate present, const char *mode) {
        DomainTimer *t;
        int r;

        assert(def);
        assert(name);

        r = domain_def_add_device(def->clock.timers, def->clock.n_timers, &t);
        if (r < 0)
                return r;
        /* The element is counted already: domain_def_free() releases whatever is set here. */
        t->present = present;
        t->name = strdup(name);
        if (!t->name)
                return -ENOMEM;
        if (mode) {
                t->mode = strdup(mode);
                if (!t->mode)
                        return -ENOMEM;
        }
        return 0;
}

int xen_domain_add_input(DomainDef *def, DomainInputType type, DomainInputBus bus) {
        DomainInput *in;
        int r;

        assert(def);

        r = domain_def_add_device(def->inputs, def->n_inputs, &in);
        if (r < 0)
                return r;
        in->type = type;
        in->bus = bus;
        return 0;
}

int xen_domain_add_pv_console(DomainDef *def, const char *tty) {
        DomainChr *c;
        int r;

        assert(def);

        r = domain_def_add_device(def->consoles, def->n_consoles, &c);
        if (r < 0)
                return r;
        domain_chr_init(c);
        c->type = DOMAIN_CHR_PTY;
        c->target_type = DOMAIN_CHR_TARGET_XEN;
        c->target_port = 0;
        if (tty) {
                c->path = strdup(tty);
                if (!c->path)
                        return -ENOMEM;
        }
        return 0;
}

int xen_domain_add_hvm_console(DomainDef *def) {
        DomainChr *c;
        int r;

        assert(def);

        if (def->n_serials == 0)
                return 0;

        r = domain_def_add_device(def->consoles, def->n_consoles, &c);
        if (r < 0)
                return r;
        r = domain_chr_copy(&def->serials[0], c);
        if (r < 0)
                return r;
        /* A copy of the port, its number included (libvirt's formatter did the same). */
        c->target_type = DOMAIN_CHR_TARGET_SERIAL;
        return 0;
}

bool xen_disk_target_valid(const char *dst) {
        static const char * const prefixes[] = { "xvd", "hd", "sd", "vd", "fd", "ubd" };

        if (!dst)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++) {
                size_t l = strlen(prefixes[i]);

                if (strncmp(dst, prefixes[i], l) != 0 || !islower((unsigned char) dst[l]))
                        continue;
                for (const char *p = dst + l; *p; p++)
                        if (!islower((unsigned char) *p) && !isdigit((unsigned char) *p))
                                return false;
                return true;
        }
        return false;
}
