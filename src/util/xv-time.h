/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* CLOCK_MONOTONIC in µs: the clock of every age, deadline and stamp in xenvirt's caches and
 * timeouts (never set back, unaffected by changes of the wall clock). */
uint64_t monotonic_usec(void);
