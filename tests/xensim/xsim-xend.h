/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * xensim's XenD: the HTTP/1.1 + SXP server XenD ran on /var/lib/xend/xend-socket, answering the
 * endpoints and operations libvirt's xend driver used (/xend/node/, /xend/domain, op=create,
 * op=unpause, ...) from and onto the shared host state. Non-blocking on the host's sd-event
 * loop; the fault switches in host->faults change how it answers.
 */

#include <stdbool.h>

#include "xsim-state.h"

#define XEND_CONNECTIONS_MAX            128
#define XEND_REQUEST_TIMEOUT_USEC       (5 * UINT64_C(1000000))   /* a stalled half request is closed */
#define XEND_SHUTDOWN_DELAY_USEC        (50 * UINT64_C(1000))     /* guest reaction to op=shutdown */
#define XEND_SAVE_FILE_MAX              (3 * 1024 * 1024)         /* a save image we read back */
#define XEND_LOG_MAX                    (64 * 1024)               /* /xend/node/log keeps this much */

typedef struct XsimXend XsimXend;

int xsim_xend_new(XsimHost *host, const char *socket_path, XsimXend **ret);
XsimXend *xsim_xend_free(XsimXend *x);
DEFINE_CLEANUP_FUNC(XsimXend *, xsim_xend_free);

/* Closes (absent) or re-opens the listening socket; open connections are closed when it goes. */
int xsim_xend_set_absent(XsimXend *x, bool absent);
