/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Helpers shared by the domain and node handlers (daemon/xvd-proc-domain.c, xvd-proc-node.c,
 * xvd-proc-native.c): the backend of the connection, flag checks with libvirt's wording, and the
 * conversion between the wire's domain handle and the backend's HvDomainRef.
 *
 * Handlers run on worker threads (@blocking: yes): they touch only their arguments and the
 * backend, never Manager internals.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xv-error.h"
#include "xv-hypervisor.h"
#include "xv-macro.h"
#include "xvd-dispatch-table.h"
#include "xvd-manager.h"

/* The wire bounds we build replies against, checked before anything is allocated. */
#define PROC_TYPED_PARAM_FIELD_MAX (XVP_TYPED_PARAM_FIELD_LENGTH - 1)

/* libvirt's wording for unknown flag bits, so that scripts matching libvirt's errors keep working. */
static inline int proc_check_flags_internal(unsigned flags, unsigned supported, const char *func,
                                            XvError *error) {
        if (flags & ~supported)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "unsupported flags (0x%x) in function %s",
                                     flags & ~supported, func);
        return 0;
}
#define proc_check_flags(flags, supported, error) \
        proc_check_flags_internal((flags), (supported), __func__, (error))

/* The backend of the connection. The dispatcher only calls domain and node handlers after
 * CONNECT_OPEN succeeded, so a missing backend is a daemon bug, reported rather than crashed on. */
static inline int proc_hypervisor(Manager *m, XvHypervisor **ret, XvError *error) {
        XvHypervisor *h;

        h = manager_get_hypervisor(m);
        if (!h) {
                /* An explicit negative return: the compiler cannot see that xv_error_setf()'s is. */
                (void) xv_error_setf(error, XVP_ERR_INTERNAL, "hypervisor connection not open");
                return -ENOTCONN;
        }
        *ret = h;
        return 0;
}

/* Copies the client's domain handle (name, uuid, id): the handler must not keep pointers into args.
 * The backend resolves it by UUID. */
static inline int proc_ref_from_wire(const xvp_nonnull_domain *d, HvDomainRef *ret) {
        char *name;

        name = strdup(d->name ?: "");
        if (!name)
                return -ENOMEM;
        *ret = (HvDomainRef) { .name = name, .id = d->id };
        memcpy(ret->uuid.bytes, d->uuid, UUID_RAW_LEN);
        return 0;
}

/* Moves a backend identity into a reply's domain handle (the name's ownership goes to the reply). */
static inline void proc_ref_to_wire(HvDomainRef *ref, xvp_nonnull_domain *ret) {
        ret->name = TAKE_PTR(ref->name);
        memcpy(ret->uuid, ref->uuid.bytes, UUID_RAW_LEN);
        ret->id = ref->id;
}

static inline void hv_domain_ref_donep(HvDomainRef *ref) {
        hv_domain_ref_done(ref);
}
#define _cleanup_ref_ _cleanup_(hv_domain_ref_donep)
