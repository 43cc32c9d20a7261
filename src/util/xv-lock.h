/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>

#include "xv-macro.h"

static inline void mutex_unlockp(pthread_mutex_t **m) {
        if (*m)
                (void) pthread_mutex_unlock(*m);
}

/* Holds mutex @m from here to the end of the enclosing scope (one per scope). */
#define LOCKED(m) \
        _cleanup_(mutex_unlockp) _unused_ pthread_mutex_t *_locked_ = ((void) pthread_mutex_lock(m), (m))
