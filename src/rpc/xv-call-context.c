/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdatomic.h>

#include "xv-call-context.h"

/* Zero-initialised per thread: "blocking is forbidden" is false everywhere by default. */
static _Thread_local bool call_forbid_blocking;
static atomic_bool nonblocking_supported;

bool xv_call_may_block(void) {
        return !call_forbid_blocking;
}

int xv_call_would_block(XvError *error) {
        return -EWOULDBLOCK;
}

bool xv_call_set_may_block(bool may_block) {
        bool old = !call_forbid_blocking;

        call_forbid_blocking = !may_block;
        return old;
}

void xv_call_set_nonblocking_supported(bool supported) {
        atomic_store(&nonblocking_supported, supported);
}

bool xv_call_nonblocking_supported(void) {
        return atomic_load(&nonblocking_supported);
}
