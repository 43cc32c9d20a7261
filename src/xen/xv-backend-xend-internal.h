/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The xend backend's private state, shared by its files: xv-backend-xend.c (open, host, lookups,
 * state), xv-backend-xend-domain.c (domain operations) and xv-backend-xend-events.c (lifecycle
 * events). Nothing outside these files includes this header.
 *
 * Locks (never held across a XenD request or a guest wait; taken in this order when nested):
 *   event_lock   the hypercall snapshot that process_events() and backend_wake() diff (hypercalls
 *                and xenstore only)
 *   xend_lock    the detected xend config version, the lazily opened XM directory, capabilities
 *   cache_lock   the running-domain name cache (id → name, uuid), refreshed from xenstore
 *   track_lock   per-domain "what xenvirt did last" (state reasons), the managed-domain set and
 *                the queue of events not yet delivered
 *   inactive_lock  the inactive-domain cache (a leaf: nothing else is taken while holding it)
 */

#include <pthread.h>

#include "xv-capabilities.h"
#include "xv-hcall.h"
#include "xv-hypervisor.h"
#include "xv-sexpr.h"
#include "xv-xend.h"
#include "xv-xenstore.h"
#include "xv-xm-dir.h"

#define BACKEND_TRACK_MAX       4096    /* domains whose last action we remember */
#define BACKEND_EVENTS_MAX      4096    /* queued events not yet delivered */
#define BACKEND_POLL_USEC       (2ULL * 1000 * 1000)    /* pause/unpause by other tools: no watch fires */
#define BACKEND_DEVICE_XML_MAX  (64 * 1024)
#define BACKEND_MAX_VCPUS       32      /* libvirt's MAX_VIRT_CPUS for the Xen driver */

/*
 * How long XenD's description of an inactive domain (config version >= 3) is reused before it is
 * fetched again. Every change xenvirt makes drops the whole cache (BACKEND_CHANGES_INACTIVE), as
 * does any xenstore watch event (a domain introduced or released), so a read after a write through
 * xenvirt is never stale; a change made by another tool behind xenvirt's back (xm new/delete,
 * a direct XenD request) becomes visible at the latest after this long.
 */
#define BACKEND_INACTIVE_TTL_USEC (2ULL * 1000 * 1000)
#define BACKEND_INACTIVE_MAX    4096    /* cached inactive domains */

/* What xenvirt did last to a domain: decides the state reasons and the event details. */
typedef enum TrackAction {
        TRACK_NONE,
        TRACK_BOOTED,
        TRACK_RESTORED,
        TRACK_PAUSED,
        TRACK_UNPAUSED,
        TRACK_SHUTDOWN,
        TRACK_DESTROYED,
        TRACK_SAVED,
        TRACK_MIGRATED,
        TRACK_CRASHED,          /* observed, not done */
        _TRACK_ACTION_MAX,
} TrackAction;

typedef struct Track {
        XvUuid uuid;
        TrackAction action;
        bool managed;           /* known to be defined (persistent) in XenD */
        uint64_t stamp;
} Track;

/* One inactive domain as XenD last described it. */
typedef struct Inactive {
        char *name;
        XvUuid uuid;
        Sexpr *sxp;             /* the (domain ...) expression; handed out as copies */
        uint64_t stamp;         /* CLOCK_MONOTONIC µs when XenD answered */
} Inactive;

typedef struct Snap {
        int domid;
        XvUuid uuid;
        char *name;
        int state;
        bool shutdown;
        unsigned shutdown_code;
} Snap;

struct XvHypervisor {
        char *xend_socket, *xend_tcp, *xm_dir_path, *host_root, *save_dir;
        uint64_t xend_timeout_usec;
        bool read_only;

        Xend *xend;
        XsChannel *xs;
        Hcall *hc;

        pthread_mutex_t xend_lock;
        int cfg_version;                /* 0 until XenD answered */
        XmDir *xm;                      /* cfg <= 2 */
        char *caps_xml;

        pthread_mutex_t cache_lock;
        XsDomain *cache;
        size_t n_cache;
        bool cache_valid;

        pthread_mutex_t track_lock;
        Track *tracks;
        size_t n_tracks;
        uint64_t track_stamp;
        HvEvent *queue;
        size_t n_queue;

        pthread_mutex_t inactive_lock;
        Inactive *inactive;
        size_t n_inactive, n_inactive_allocated;
        uint64_t inactive_gen;          /* bumped by every invalidation */

        pthread_mutex_t event_lock;
        Snap *snap;
        size_t n_snap;
        bool snap_valid;
        int epoll_fd, wake_fd, timer_fd, xm_fd_added;
        HvEventCallback callback;
        void *userdata;
};

/* A resolved domain. */
typedef struct Dom {
        char *name;
        XvUuid uuid;
        int id;                 /* -1 when inactive */
        HcallDomainInfo info;   /* valid when id >= 0 */
        Sexpr *sxp;             /* XenD's (domain ...) when it was fetched to resolve an inactive domain */
        DomainDef *xmdef;       /* the XM definition (cfg <= 2, inactive) */
} Dom;

void dom_done(Dom *d);

/* The XenD config version, detecting it (one request) the first time; a clear error while XenD is down. */
int backend_xend(XvHypervisor *h, int *ret_cfg, XvError *error);
XmDir *backend_xm(XvHypervisor *h);

int backend_resolve(XvHypervisor *h, const HvDomainRef *ref, Dom *ret, XvError *error);
int backend_fill_ref(const Dom *d, HvDomainRef *ret);
int backend_dom_info(XvHypervisor *h, const Dom *d, HvDomainInfo *ret);
int backend_running_by_uuid(XvHypervisor *h, const XvUuid *uuid, HcallDomainInfo *ret, XvError *error);
int backend_name_of(XvHypervisor *h, int domid, const XvUuid *uuid, char **ret, XvError *error);
void backend_cache_invalidate(XvHypervisor *h);

/* The inactive-domain cache. A reader takes the generation before its XenD request and stores
 * the answer only when no invalidation happened meanwhile, so an answer that may predate a change
 * never outlives the invalidation that followed the change. */
uint64_t backend_inactive_gen(XvHypervisor *h);
void backend_inactive_put(XvHypervisor *h, uint64_t gen, const Sexpr *sxp);
void backend_inactive_invalidate(XvHypervisor *h);
static inline void backend_inactive_invalidatep(XvHypervisor **h) {
        if (*h)
                backend_inactive_invalidate(*h);
}
/* Declared at the top of every operation that may change what XenD says about a domain: drops
 * the inactive-domain cache on every return, after the XenD request (success or failure). */
#define BACKEND_CHANGES_INACTIVE(h) \
        _cleanup_(backend_inactive_invalidatep) _unused_ XvHypervisor *_inactive_inval_##__LINE__ = (h)

void backend_track(XvHypervisor *h, const XvUuid *uuid, TrackAction action);
TrackAction backend_track_get(XvHypervisor *h, const XvUuid *uuid);
void backend_track_managed(XvHypervisor *h, const XvUuid *uuid, bool managed);
bool backend_is_managed(XvHypervisor *h, const XvUuid *uuid);
void backend_state_reason(XvHypervisor *h, const HcallDomainInfo *info, int *ret_state, int *ret_reason);
int backend_inactive_reason(XvHypervisor *h, const XvUuid *uuid, const char *name);

/* Queues an event produced by an operation (define/undefine through XenD) and wakes the loop. */
void backend_queue_event(XvHypervisor *h, const char *name, const XvUuid *uuid, int id, int event, int detail);
/* Wakes the daemon's loop so that process_events() looks at the hypercall list now. */
void backend_wake(XvHypervisor *h);

int backend_managed_save_path(XvHypervisor *h, const char *name, char **ret);
bool backend_has_managed_save(XvHypervisor *h, const char *name);

int backend_events_init(XvHypervisor *h, XvError *error);
void backend_events_done(XvHypervisor *h);
int backend_events_add_xm(XvHypervisor *h);

int backend_check_writable(XvHypervisor *h, XvError *error);
