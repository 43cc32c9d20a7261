/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * xensim's hypervisor: answers the hypercalls the real libxenctrl issues through the replacement
 * libxencall.so.1 (tests/xensim/hv/), over a UNIX socket (protocol: hv/xsim-hv-proto.h). Reads
 * come from the XsimHost; changes (pause, unpause, destroy, shutdown, max_mem, affinity, credit
 * parameters) go through the xsim_domain_*() functions, so that xenstore and XenD see them.
 * Runs on the host's sd-event loop.
 */

#include "xsim-state.h"

#define XSIM_HV_CONNECTIONS_MAX 256

typedef struct XsimHv XsimHv;

/* Binds @socket_path (a stale socket file there is replaced) and serves it on host->event. */
int xsim_hv_new(XsimHost *host, const char *socket_path, XsimHv **ret);
/* The hypercalls served, counted by kind ("sysctl getdomaininfolist", "domctl pausedomain", ...;
 * kinds beyond XSIM_HV_STATS_KINDS_MAX count as "other"), for the per-call counts of
 * tests/integration/t0665: appends "total N", "COUNT KIND" per kind in first-seen order and
 * "other N" to @out (a StrBuf), or with @reset zeroes them. */
#define XSIM_HV_STATS_KINDS_MAX 64
struct StrBuf;
void xsim_hv_stats(XsimHv *hv, bool reset, struct StrBuf *out);

/* Closes every connection, stops listening and removes the socket file. */
XsimHv *xsim_hv_free(XsimHv *hv);
DEFINE_CLEANUP_FUNC(XsimHv *, xsim_hv_free);
