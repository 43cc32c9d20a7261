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
/* Closes every connection, stops listening and removes the socket file. */
XsimHv *xsim_hv_free(XsimHv *hv);
DEFINE_CLEANUP_FUNC(XsimHv *, xsim_hv_free);
