/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <time.h>

#include "xv-time.h"

uint64_t monotonic_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}
