/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Benchmark pre-population ("bench populate", make bench): N XenD-managed domains cloned from one
 * seed domain, named, numbered and started exactly as rpcbench's "setup" mode defines them through
 * the libvirt API (PREFIX00000..., every second one running), without N round trips through the
 * daemon under test. The seed (defined through the API beforehand) gives the configuration; its
 * name, UUID and MAC are replaced in every clone.
 */

#include "xsim-state.h"
#include "xv-error.h"

#define XSIM_BENCH_PREFIX_MAX   64      /* bytes of a name prefix */
#define XSIM_BENCH_COUNT_MAX    XSIM_DOMAINS_MAX

/* rpcbench's identities of domain @index under @prefix: name PREFIX%05u, UUID
 * "%08x-b3e7-4000-8000-%012x" (FNV-1a of the prefix, the index), MAC 00:16:3e:xx:xx:xx. */
#define XSIM_BENCH_NAME_MAX     (XSIM_BENCH_PREFIX_MAX + 16)
void xsim_bench_identity(const char *prefix, unsigned index, char name[static XSIM_BENCH_NAME_MAX],
                         char uuid[static 40], char mac[static 20]);

/* Defines @count domains PREFIX%05u from @first on, starting (and unpausing) those with an even
 * index. Stops at the first failure (the domains made so far stay). */
int xsim_bench_populate(XsimHost *host, const char *seed, const char *prefix, unsigned first,
                        unsigned count, XvError *error);
