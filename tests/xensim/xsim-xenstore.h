/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * xensim's xenstore: the real xenstore wire protocol (xen/io/xs_wire.h) on a UNIX socket, so that
 * the unmodified libxenstore and xenstore-utils work against it with XENSTORED_PATH pointing at
 * the socket. The tree follows the host state through a state listener: a domain that gets a
 * domid gets its /local/domain/<id> and /vm/<uuid> trees and an @introduceDomain event; a
 * released one loses them (unless faults.xenstore_stale) and fires @releaseDomain. Writes of
 * control/shutdown and memory/target make the simulated guest act, as a PV guest's xenbus
 * handlers would.
 *
 * Every socket client is treated as a dom0 process: it may read and write everything, relative
 * paths are relative to /local/domain/0, and permissions are stored and reported but not
 * enforced.
 */

#include <stdbool.h>

#include "xsim-state.h"
#include "xv-macro.h"

#define XSIM_XENSTORE_CONNS_MAX         256             /* simultaneous clients */
#define XSIM_XENSTORE_OUTPUT_MAX        (1024 * 1024)   /* queued bytes per client before it is dropped */
#define XSIM_XENSTORE_WATCHES_MAX       128             /* per client (cxenstored's default quota) */
#define XSIM_XENSTORE_TRANSACTIONS_MAX  10              /* open transactions per client (likewise) */
#define XSIM_XENSTORE_TX_ACCESSES_MAX   4096            /* distinct paths one transaction may touch */
/* Bytes of a watch token: an event carries a path of up to 3072 bytes and the token, two NULs,
 * within the 4096-byte payload. */
#define XSIM_XENSTORE_TOKEN_MAX         (4096 - 3072 - 2)

typedef struct XsimXenstore XsimXenstore;

/* Binds and listens on @socket_path (replacing a stale socket file), registers its sources on
 * host->event and its state listener, and writes the trees of the domains that already have a
 * domid (domain 0 at least). When host->faults.xenstore_absent is set, starts without listening. */
int xsim_xenstore_new(XsimHost *host, const char *socket_path, XsimXenstore **ret);
/* The state offers no way to remove a listener: free the xenstore only when the host will emit no
 * more events (xsim_host_free() emits none), i.e. just before or after freeing the host. */
XsimXenstore *xsim_xenstore_free(XsimXenstore *xs);
DEFINE_CLEANUP_FUNC(XsimXenstore *, xsim_xenstore_free);

/* Fault injection: @absent closes the listening socket (and removes the socket file) and drops
 * every client; clearing it listens again. Keeps host->faults.xenstore_absent in step. */
int xsim_xenstore_set_absent(XsimXenstore *xs, bool absent);
/* How many watches the connected clients hold on @path (as registered: "@introduceDomain" or a
 * canonical absolute path), so that a test can see a client re-register after a reconnect. */
size_t xsim_xenstore_count_watches(XsimXenstore *xs, const char *path);

/* Direct access for other xensim modules and tests. Paths are absolute. A write behaves like one
 * from a dom0 client (watches fire, the guest reacts to control/shutdown and memory/target). */
int xsim_xenstore_write(XsimXenstore *xs, const char *path, const char *value);
/* Returns a copy of the value; -ENOENT when the node does not exist. */
int xsim_xenstore_read(XsimXenstore *xs, const char *path, char **ret);
/* Removes the node and its children; -ENOENT when it does not exist (the wire RM answers OK for
 * a missing node whose parent exists, as xenstored does). */
int xsim_xenstore_rm(XsimXenstore *xs, const char *path);
