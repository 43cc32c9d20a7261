/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * XsChannel: the driver's xenstore channel, a thin typed layer over the real libxenstore
 * (xs_open() honours $XENSTORED_PATH, so tests point it at xensim).
 *
 * Two libxenstore handles are kept: one for requests (reads, and writes unless read-only) and a
 * dedicated one for watches, because a handle with watches runs libxenstore's reader thread and
 * queues events that only xs_read_watch() drains. Requests are thread-safe (libxenstore serializes
 * them per handle); the channel's own mutex is held only to swap handles on reconnect and to
 * drain the watch queue, never across a sleep.
 *
 * Xenstore may hold stale ids (a domain whose tree was not yet removed) and may not yet hold the
 * name/vm of a domain that was just introduced: callers validate ids against hypercalls and treat
 * -ENOENT from the per-domain reads as "not (yet) there". Nothing here retries with sleeps.
 *
 * Reconnect: when xenstored goes away every call fails with XVP_ERR_NO_XENSTORE (domain
 * XVP_FROM_XENSTORE) and the channel is marked disconnected; the next call, and
 * xenstore_read_events() (driven by a retry timer inside the event fd, 250 ms doubling up to 4 s
 * while xenstored stays away), re-open the handles and re-register the watches. After a
 * reconnect events may have been lost, which xenstore_read_events() reports so the caller
 * rescans. A failed connect is -ENOTCONN whatever connect() said, never -ENOENT (which means a
 * missing node here).
 *
 * Domain ids are ints in [0, XENSTORE_DOMID_MAX].
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xv-error.h"
#include "xv-macro.h"
#include "xv-uuid.h"

#define XENSTORE_DOMID_MAX 0x7FEF               /* DOMID_FIRST_RESERVED - 1 */
#define XENSTORE_DOMAINS_MAX 32752              /* entries of /local/domain we accept: one per possible domid */
#define XENSTORE_DEVICES_MAX 1024               /* entries of a backend/<type>/<domid> directory */
#define XENSTORE_VALUE_MAX 4096                 /* xenstored's XENSTORE_PAYLOAD_MAX */
#define XENSTORE_WATCHES_MAX 256                /* extra watches added with xenstore_add_watch() */
#define XENSTORE_EVENTS_MAX 1024                /* events drained per xenstore_read_events() call */

/* The two global watches, registered at open and after every reconnect. */
#define XENSTORE_WATCH_INTRODUCE "@introduceDomain"
#define XENSTORE_WATCH_RELEASE "@releaseDomain"
/* The trees of the domains' nodes: a watch on either fires for any write below it. */
#define XENSTORE_TREE_DOMAINS "/local/domain"
#define XENSTORE_TREE_VMS "/vm"

/* Frontend/backend states of xenbus (xen/io/xenbus.h). */
#define XENSTORE_XENBUS_STATE_CONNECTED 4

typedef struct XsChannel XsChannel;

/* One running domain as xenstore describes it. */
typedef struct XsDomain {
        int id;
        char *name;                     /* NULL when /local/domain/<id>/name is missing */
        XvUuid uuid;
        bool has_uuid;                  /* false when .../vm is missing or unparsable */
} XsDomain;

void xs_domains_free(XsDomain *list, size_t n);

/* Opening fails (XVP_ERR_NO_XENSTORE) when xenstored is not reachable. @read_only refuses every
 * write with XVP_ERR_OPERATION_DENIED. */
int xenstore_open(bool read_only, XsChannel **ret, XvError *error);
/* The same, but an unreachable xenstored is not an error: the channel starts disconnected, and
 * reconnects as one that lost its connection does (every call tries once, the event fd's timer
 * retries with back-off). Fails only for local resources (memory, fds). */
int xenstore_open_or_retry(bool read_only, XsChannel **ret, XvError *error);
XsChannel *xenstore_close(XsChannel *c);
DEFINE_CLEANUP_FUNC(XsChannel *, xenstore_close);

bool xenstore_is_connected(XsChannel *c);
bool xenstore_is_read_only(XsChannel *c);
/* Re-opens the handles and re-registers the watches if disconnected; 0 when connected. */
int xenstore_reconnect(XsChannel *c, XvError *error);

/* Raw access (paths are absolute). -ENOENT (XVP_ERR_OPERATION_FAILED) when the node does not
 * exist. A connection failure is XVP_ERR_NO_XENSTORE; a request is repeated once after a
 * reconnect, never with a sleep. */
int xenstore_read(XsChannel *c, const char *path, char **ret, XvError *error);
int xenstore_directory(XsChannel *c, const char *path, char ***ret, XvError *error);
int xenstore_write(XsChannel *c, const char *path, const char *value, XvError *error);

/* The ids listed under /local/domain (sorted, may be stale). */
int xenstore_list_domain_ids(XsChannel *c, int **ret, size_t *ret_n, XvError *error);
/* Every listed domain with its name and uuid, in one pass (sorted by id; entries whose name or vm
 * vanished mid-scan are kept with name NULL / has_uuid false). */
int xenstore_list_domains(XsChannel *c, XsDomain **ret, size_t *ret_n, XvError *error);
/* One domain's name and uuid (two reads; missing nodes leave name NULL / has_uuid false). */
int xenstore_read_domain(XsChannel *c, int domid, XsDomain *ret, XvError *error);

/* Per-domain reads (/local/domain/<domid>/...). A missing node is -ENOENT: XVP_ERR_NO_DOMAIN when
 * the domain's directory is gone too, XVP_ERR_OPERATION_FAILED when only that node is missing
 * (e.g. no serial/0/tty for a PV guest, or a tty not yet written right after start). Values are
 * validated: a tty must pass xenstore_parse_tty(), a VNC port is 1..65535. */
int xenstore_get_domain_name(XsChannel *c, int domid, char **ret, XvError *error);
int xenstore_get_domain_uuid(XsChannel *c, int domid, XvUuid *ret, XvError *error);
int xenstore_get_vm_path(XsChannel *c, int domid, char **ret, XvError *error);       /* "/vm/<uuid>[-suffix]" */
int xenstore_get_os_type(XsChannel *c, int domid, char **ret, XvError *error);       /* <vm>/image/ostype */
int xenstore_get_console_tty(XsChannel *c, int domid, char **ret, XvError *error);
int xenstore_get_serial_tty(XsChannel *c, int domid, char **ret, XvError *error);    /* serial/0/tty */
int xenstore_get_vnc_port(XsChannel *c, int domid, int *ret, XvError *error);
int xenstore_get_memory_target(XsChannel *c, int domid, uint64_t *ret_kib, XvError *error);

/* Backend devices of a domain under /local/domain/0/backend: the devid whose node matches.
 * Disk: "dev" of vbd then tap equals @target (a leading "/dev/" and a ":disk"/":cdrom" suffix
 * are ignored on both sides). NIC: "mac" equals @mac (case-insensitive). PCI: "dev-0" equals
 * @bdf ("[dddd:]bb:ss.f", domain 0000 assumed when omitted, case-insensitive).
 * -ENOENT (XVP_ERR_OPERATION_INVALID, "no such device") when none matches. */
int xenstore_find_disk_devid(XsChannel *c, int domid, const char *target, int *ret_devid, XvError *error);
int xenstore_find_nic_devid(XsChannel *c, int domid, const char *mac, int *ret_devid, XvError *error);
int xenstore_find_pci_devid(XsChannel *c, int domid, const char *bdf, int *ret_devid, XvError *error);
/* The xenbus state of backend/vbd (or tap) /<domid>/<devid>/state. */
int xenstore_get_vbd_state(XsChannel *c, int domid, int devid, int *ret_state, XvError *error);

/* Writes: -EPERM (XVP_ERR_OPERATION_DENIED) on a read-only channel; -ENOENT (XVP_ERR_NO_DOMAIN)
 * when /local/domain/<domid> is gone (dom0 may create any node, so nothing is written for a
 * vanished domain). @request is "poweroff", "reboot", "suspend" or "halt"; domain 0 is refused
 * with -EBUSY (XVP_ERR_OPERATION_INVALID). */
int xenstore_request_shutdown(XsChannel *c, int domid, const char *request, XvError *error);
int xenstore_set_memory_target(XsChannel *c, int domid, uint64_t kib, XvError *error);

/* Watches. The event fd is stable for the channel's lifetime (an epoll fd over the watch handle
 * and a reconnect timer): poll it for POLLIN, then call xenstore_read_events(), which never
 * blocks. It returns the fired paths (a strv, possibly empty; the global watches fire as
 * "@introduceDomain"/"@releaseDomain", per-domain ones as the node's path) and sets
 * *ret_resync when events may have been missed (reconnect or overflow) so the caller rescans.
 * Watching the initial registration fires each watch once; callers treat every event as "rescan",
 * never as a count. */
int xenstore_event_fd(XsChannel *c);
/* Whether watch events wait on @c that nobody drained yet: then what a caller cached of the
 * domains may be out of date. Also true without a channel, while disconnected, and after a
 * reconnect until xenstore_read_events() reported the resync. The event fd's own timer (health
 * checks, retries) does not count. One poll(2) of the watch fd, no lock, no waiting. */
bool xenstore_events_pending(XsChannel *c);
int xenstore_read_events(XsChannel *c, char ***ret_paths, bool *ret_resync, XvError *error);
/* Extra watches (e.g. /local/domain/<id>/control/shutdown), kept across reconnects. */
int xenstore_add_watch(XsChannel *c, const char *path, XvError *error);
/* Watches on the trees of every domain's nodes (XENSTORE_TREE_DOMAINS, XENSTORE_TREE_VMS): a
 * write below a domain's nodes fires. Only -ENOMEM fails: a watch xenstored does not take now is
 * registered by the next reconnect (which resyncs). */
int xenstore_watch_domain_trees(XsChannel *c);
int xenstore_remove_watch(XsChannel *c, const char *path, XvError *error);

/* Parsers for values read from xenstore (pure, fuzzed). */
/* A domain id as xenstore spells it: decimal, no sign, no leading zeros (except "0"). */
int xenstore_parse_domid(const char *s, int *ret);
/* "/vm/<uuid>" or "/vm/<uuid>-<suffix>" (suffix after rename); the uuid in either spelling. */
int xenstore_parse_vm_path(const char *s, XvUuid *ret);
/* The domain a fired path belongs to: "/local/domain/<id>[/...]" → id; -EINVAL otherwise. */
int xenstore_path_domid(const char *path, int *ret);
/* The frontend domain of a backend node: "/local/domain/<id>/backend/<type>/<frontend id>[/...]"
 * → frontend id; -EINVAL otherwise. */
int xenstore_path_backend_domid(const char *path, int *ret);
/* The domain a fired path below /vm belongs to: "/vm/<uuid>[-<suffix>][/...]" → uuid; -EINVAL otherwise. */
int xenstore_path_vm_uuid(const char *path, XvUuid *ret);
/* Whether @path is @tree or below it ("/vm" holds "/vm" and "/vm/x", not "/vmx"). */
bool xenstore_path_in_tree(const char *path, const char *tree);
/* A tty value: an absolute path under /dev of bounded length without ".." or control chars. */
int xenstore_parse_tty(const char *s);
