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
 *   cache_lock   the running-domain name cache (id → name, uuid), refreshed from xenstore (held
 *                across those xenstore reads only)
 *   track_lock   per-domain "what xenvirt did last" (state reasons), the managed-domain set and
 *                the queue of events not yet delivered
 *   inactive_lock  the inactive-domain cache, XenD's digested listing and the background refresh
 *                thread's state (a leaf: nothing else is taken while holding it; the refresh
 *                thread is started and joined under it, see inactive_refresh_start())
 */

#include <pthread.h>

#include "xv-backend-common.h"
#include "xv-capabilities.h"
#include "xv-domain-table.h"
#include "xv-hcall.h"
#include "xv-backend.h"
#include "xv-sexpr.h"
#include "xv-xend.h"
#include "xv-xend-managed.h"
#include "xv-xenstore.h"
#include "xv-xm-dir.h"
#include "xv-xml-cache.h"

/* Domains whose last action (and XenD management) we remember: as many as the host can have
 * (XenD's listing marks every domain it manages), so that the least recently touched one, found
 * by a scan, is only forgotten beyond that. 32 bytes each, the array's pages touched as used. */
#define BACKEND_TRACK_MAX       32768
#define BACKEND_EVENTS_MAX      4096    /* queued events not yet delivered */
#define BACKEND_POLL_USEC       (2ULL * 1000 * 1000)    /* pause/unpause by other tools: no watch fires */
#define BACKEND_DEVICE_XML_MAX  (64 * 1024)
#define BACKEND_MAX_VCPUS       32      /* libvirt's MAX_VIRT_CPUS for the Xen driver */

/*
 * How long XenD's description of an inactive domain (config version >= 3) is reused before it is
 * fetched again: the effective TTL is max(BACKEND_INACTIVE_TTL_USEC, BACKEND_INACTIVE_TTL_FACTOR x
 * the wall time of the last detailed listing), at most BACKEND_INACTIVE_TTL_MAX_USEC, so that the
 * listings that refresh the cache take at most 1/BACKEND_INACTIVE_TTL_FACTOR of the time at any
 * number of domains (2 s up to about 40 ms per listing; ~20 s at 10,000 domains). Every change
 * xenvirt makes drops the entries of the domain it changed (by UUID and by name:
 * BACKEND_CHANGES_INACTIVE + BACKEND_CHANGES_DOMAIN) and XenD's digested listing; any xenstore
 * watch event (a domain introduced or released) drops the whole cache. So a read after a write
 * through xenvirt is never stale, and the other inactive domains stay served from the cache.
 * Once expired, an entry is served on while ONE detailed listing refreshes the cache on a thread
 * of the backend's (started by the first call that finds it expired, at most once per effective
 * TTL), up to BACKEND_INACTIVE_STALE_TTLS effective TTLs of age; older, or not confirmed by the
 * last listing, it is asked of XenD alone. So a change made by another tool behind xenvirt's back
 * (xm new/delete, a direct XenD request) becomes visible at the latest after
 * BACKEND_INACTIVE_STALE_TTLS x the effective TTL plus one listing; a domain defined or undefined
 * behind its back shows in the next list of all domains at once (XenD's names are checked).
 */
#define BACKEND_INACTIVE_TTL_USEC (2ULL * 1000 * 1000)
#define BACKEND_INACTIVE_TTL_FACTOR 50
#define BACKEND_INACTIVE_TTL_MAX_USEC (60ULL * 1000 * 1000)
#define BACKEND_INACTIVE_STALE_TTLS 2
#define BACKEND_INACTIVE_MAX    32768   /* cached inactive domains (about 0.5 KiB each) */
/* Targeted invalidations remembered, so that a XenD answer fetched before one of them is not
 * stored (a reader more than this many invalidations behind stores nothing). */
#define BACKEND_INACTIVE_DROPS_MAX 64

/*
 * dumpxml's cache of built definitions (xv-xml-cache.h), per domain and incarnation. Dropped for
 * a domain by every change xenvirt makes to it (BACKEND_CHANGES_INACTIVE/_DOMAIN), by any xenstore
 * write below /local/domain/<id> or /vm/<uuid> (watched), for inactive domains whenever their
 * inactive-cache entry is replaced or dropped. What XenD alone changes for a running domain
 * (another tool's XenD request that leaves no trace in xenstore) becomes visible after
 * BACKEND_XML_RUNNING_MAX_AGE_USEC or the effective TTL of inactive domains, whichever is longer
 * (see BACKEND_INACTIVE_TTL_USEC: 2 s up to about 40 ms per detailed listing, i.e. up to a
 * couple of thousand domains; longer on larger hosts, at most BACKEND_INACTIVE_TTL_MAX_USEC), the
 * same bound as for what other tools change of inactive domains. With 2 s at every size, a
 * round of dumpxml over 10,000 domains outlived every running domain's entry and each call
 * asked XenD (rpcbench dumpxml, N = 10,000: 0.19x libvirtd).
 */
/* Entries: one per domain id Xen can hand out (the least recently used goes beyond). */
#define BACKEND_XML_CACHE_MAX   BACKEND_INACTIVE_MAX
/*
 * Its byte budget (xv-xml-cache.h: texts + XML_CACHE_DEF_COST per definition + XML_CACHE_ENTRY_COST
 * per entry): 10,000 domains, each with one text of dumpxml's variant and a definition, fit. A
 * domain of tests/bench/domain.xml costs 0.9 KiB of text (rpcbench dumpxml: xml_bytes=911), 0.27
 * KiB of entry and 2 KiB charged for its definition: 10,000 of them take 31 MiB, text alone 11.5
 * MiB. Domains with more devices get fewer entries, the least recently used evicted first. The
 * heap is only taken as domains are read (1,000 domains: 1.2 MB, RSS under 64 connections 12.6 MB).
 */
#define BACKEND_XML_CACHE_BYTES_MAX (32U * 1024 * 1024)
/* 2 s, as for inactive domains (BACKEND_INACTIVE_TTL_USEC): at N = 1000 under rpcbench dumpxml,
 * 1 s -> 2 s halved the XenD requests per call (0.0096-0.018 -> 0.0046-0.009) and the hit rate
 * rose from 92-97.5% to 97.3-98.6%. */
#define BACKEND_XML_RUNNING_MAX_AGE_USEC (2ULL * 1000 * 1000)
/* An inactive domain's definition is built from its inactive-cache entry, and goes whenever that
 * entry is dropped or replaced by a different expression (inactive_put()): it is as current as
 * that cache (see BACKEND_INACTIVE_TTL_USEC), whose refreshes keep it when nothing changed. The
 * age bound is only a backstop: the longest an entry may be served. */
#define BACKEND_XML_INACTIVE_MAX_AGE_USEC (BACKEND_INACTIVE_TTL_MAX_USEC * BACKEND_INACTIVE_STALE_TTLS)

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
        char *text;             /* the (domain ...) expression as printed by sexpr_format(): a
                                 * parsed tree costs ~7 KiB per domain in small allocations, its
                                 * text ~600 bytes in one, and it is parsed only when asked for */
        HvDomainInfo info;      /* its numbers, read once (state SHUTOFF, reason 0) */
        uint64_t stamp;         /* CLOCK_MONOTONIC µs when XenD answered */
} Inactive;

/* One targeted invalidation of the inactive-domain cache (generation @gen). */
typedef struct InactiveDrop {
        uint64_t gen;
        char *name;             /* NULL: none */
        XvUuid uuid;
        bool has_uuid;
} InactiveDrop;

typedef struct XendDigest XendDigest;

typedef XvbSnap Snap;

typedef struct XendBackend {
        XvHypervisor base;              /* .ops = &hv_backend_xend */

        char *xend_socket, *xend_tcp, *xm_dir_path, *host_root, *save_dir;
        uint64_t xend_timeout_usec;
        bool read_only;

        Xend *xend;
        XsChannel *xs;
        Hcall *hc;
        XvbInfoCache info;              /* info/state of running domains (own lock, a leaf) */

        pthread_mutex_t xend_lock;
        int cfg_version;                /* 0 until XenD answered */
        XmDir *xm;                      /* cfg <= 2 */
        XendManaged *managed;           /* XenD's managed-domain directory, watched (own lock, a leaf) */
        char *caps_xml;

        pthread_mutex_t cache_lock;
        DomainTable *running;           /* id → name, uuid of the domains xenstore lists */
        size_t n_cache_incomplete;      /* entries without a name or a uuid */
        bool cache_valid, cache_need_full;

        pthread_mutex_t track_lock;
        Track *tracks;
        size_t n_tracks;
        DomainTable *track_index;       /* slot by uuid */
        uint64_t track_stamp;
        HvEvent *queue;
        size_t n_queue;

        pthread_mutex_t inactive_lock;
        Inactive *inactive;
        size_t n_inactive, n_inactive_allocated;
        DomainTable *inactive_index;    /* slot by name and uuid */
        uint64_t inactive_gen;          /* bumped by every invalidation, targeted or whole */
        uint64_t inactive_gen_all;      /* the generation of the last whole invalidation */
        InactiveDrop inactive_drops[BACKEND_INACTIVE_DROPS_MAX];  /* targeted ones, slot gen % MAX */
        XendDigest *digest;             /* XenD's last listing, digested (xendbe_list_all_domains) */
        uint64_t inactive_ttl_usec;     /* the effective TTL (see BACKEND_INACTIVE_TTL_USEC) */
        uint64_t inactive_listed;       /* CLOCK_MONOTONIC µs when the last detailed listing that
                                         * succeeded was asked for: older entries were not in it */
        uint64_t refresh_started;       /* ... when the last background refresh started */
        bool inactive_refreshing;       /* the background refresh is at work */
        bool refresh_joinable;          /* refresh_thread is to be joined (done or not) */
        bool refresh_closed;            /* the backend is closing: no refresh starts */
        pthread_t refresh_thread;

        XmlCache *xml_cache;            /* dumpxml's definitions (own lock, a leaf; xv-xml-cache.h) */

        pthread_mutex_t event_lock;
        Snap *snap;
        size_t n_snap;
        bool snap_valid;
        XvbLookPacer look_pacer;        /* looks asked for by watch events, spaced */
        int epoll_fd, wake_fd, timer_fd, xm_fd_added;
        HvEventCallback callback;
        void *userdata;
} XendBackend;

/* The xend state behind a hypervisor handle (whose ops are hv_backend_xend). */
static inline XendBackend *xend_of(XvHypervisor *hv) {
        return hv ? (XendBackend *) ((char *) hv - offsetof(XendBackend, base)) : NULL;
}

/* A resolved domain. */
typedef struct Dom {
        char *name;
        XvUuid uuid;
        int id;                 /* -1 when inactive */
        HcallDomainInfo info;   /* valid when id >= 0 */
        Sexpr *sxp;             /* XenD's (domain ...) when it was fetched to resolve an inactive domain */
        bool has_sxp_info;      /* inactive, from the cache: sxp_info holds its numbers (sxp may be NULL) */
        HvDomainInfo sxp_info;
        DomainDef *xmdef;       /* the XM definition (cfg <= 2, inactive) */
} Dom;

void dom_done(Dom *d);

/* The XenD config version, detecting it (one request) the first time; a clear error while XenD is down. */
int backend_xend(XendBackend *h, int *ret_cfg, XvError *error);
XmDir *backend_xm(XendBackend *h);

int backend_resolve(XendBackend *h, const HvDomainRef *ref, Dom *ret, XvError *error);
/* The same for callers that need identity, state and numbers only (lookups, info, state): an
 * inactive domain from the cache comes without a copy of its XenD expression (d->sxp NULL). */
int backend_resolve_light(XendBackend *h, const HvDomainRef *ref, Dom *ret, XvError *error);
int backend_fill_ref(const Dom *d, HvDomainRef *ret);
int backend_dom_info(XendBackend *h, const Dom *d, HvDomainInfo *ret);
int backend_running_by_uuid(XendBackend *h, const XvUuid *uuid, HcallDomainInfo *ret, XvError *error);
int backend_name_of(XendBackend *h, int domid, const XvUuid *uuid, char **ret, XvError *error);
/* backend_name_of() for many domains at once (names[i] NULL where xenstore names none yet; the
 * array must come in NULL-filled). Fails only with -ENOMEM. */
int backend_names_of(XendBackend *h, const HcallDomainInfo *l, size_t n, char **names);
void backend_cache_invalidate(XendBackend *h);
/* Drops the shared hypervisor snapshot: after every change made through the backend. */
void backend_info_invalidate(XendBackend *h);

/* The inactive-domain cache. A reader takes the generation before its XenD request and stores
 * the answer only when no invalidation of that domain (same UUID or name; or a whole
 * invalidation) happened meanwhile, so an answer that may predate a change never outlives the
 * invalidation that followed the change. */
uint64_t backend_inactive_gen(XendBackend *h);
void backend_inactive_put(XendBackend *h, uint64_t gen, const Sexpr *sxp);
void backend_inactive_invalidate(XendBackend *h);
/* Drops what the cache holds of domain @name and/or @uuid (either may be NULL) and the digest. */
void backend_inactive_invalidate_domain(XendBackend *h, const char *name, const XvUuid *uuid);
void backend_digest_drop_locked(XendBackend *h);

/* The domain an operation changes, invalidated when it returns. */
typedef struct InactiveChange {
        XendBackend *h;
        char *name;             /* a copy: the operation's Dom is freed before this */
        XvUuid uuid;
        bool has_uuid, targeted, all;
} InactiveChange;
void backend_inactive_change_target(InactiveChange *c, const char *name, const XvUuid *uuid);
void backend_inactive_change_done(InactiveChange *c);
/* Declared at the top of every operation that may change what XenD says about a domain: on every
 * return, after the XenD request (success or failure), drops the cache entries of the domain the
 * operation named with BACKEND_CHANGES_DOMAIN() once it resolved it, or the whole cache when it
 * named none (an early failure, or an operation whose domain is not known beforehand). */
#define BACKEND_CHANGES_INACTIVE(h) \
        _cleanup_(backend_inactive_change_done) InactiveChange _inactive_change = { .h = (h) }
#define BACKEND_CHANGES_DOMAIN(name, uuid) backend_inactive_change_target(&_inactive_change, (name), (uuid))

void backend_track(XendBackend *h, const XvUuid *uuid, TrackAction action);
TrackAction backend_track_get(XendBackend *h, const XvUuid *uuid);
void backend_track_managed(XendBackend *h, const XvUuid *uuid, bool managed);
bool backend_is_managed(XendBackend *h, const XvUuid *uuid);
void backend_state_reason(XendBackend *h, const HcallDomainInfo *info, int *ret_state, int *ret_reason);
int backend_inactive_reason(XendBackend *h, const XvUuid *uuid, const char *name);

/* Queues an event produced by an operation (define/undefine through XenD) and wakes the loop. */
void backend_queue_event(XendBackend *h, const char *name, const XvUuid *uuid, int id, int event, int detail);
/* Wakes the daemon's loop so that process_events() looks at the hypercall list now. */
void backend_wake(XendBackend *h);

int backend_managed_save_path(XendBackend *h, const char *name, char **ret);
bool backend_has_managed_save(XendBackend *h, const char *name);

int backend_events_init(XendBackend *h, XvError *error);
void backend_events_done(XendBackend *h);
int backend_events_add_xm(XendBackend *h);

int backend_check_writable(XendBackend *h, XvError *error);

/* The operations of hv_backend_xend (see xv-backend.h), defined across the three files. */
int xendbe_open(const HvConfig *config, XvHypervisor **ret, XvError *error);
XvHypervisor *xendbe_close(XvHypervisor *h);
void xendbe_get_status(XvHypervisor *h, HvStatus *ret);
void xendbe_probe_status(XvHypervisor *h, HvStatus *ret);
int xendbe_set_event_callback(XvHypervisor *h, HvEventCallback callback, void *userdata);
int xendbe_event_fd(XvHypervisor *h);
int xendbe_process_events(XvHypervisor *h);
const char *xendbe_get_type(XvHypervisor *h);
int xendbe_get_version(XvHypervisor *h, uint64_t *ret, XvError *error);
int xendbe_get_hostname(XvHypervisor *h, char **ret, XvError *error);
int xendbe_get_capabilities(XvHypervisor *h, char **ret_xml, XvError *error);
int xendbe_get_max_vcpus(XvHypervisor *h, const char *type, int *ret, XvError *error);
int xendbe_node_get_info(XvHypervisor *h, HvNodeInfo *ret, XvError *error);
int xendbe_node_get_free_memory(XvHypervisor *h, uint64_t *ret_bytes, XvError *error);
int xendbe_node_get_cells_free_memory(XvHypervisor *h, int start_cell, int max_cells, uint64_t *ret_bytes, int *ret_n, XvError *error);
int xendbe_node_get_cpu_map(XvHypervisor *h, uint8_t **ret_map, size_t *ret_len, unsigned *ret_online, int *ret_cpus, XvError *error);
int xendbe_get_xend_config_version(XvHypervisor *h);
int xendbe_list_all_domains(XvHypervisor *h, unsigned flags, HvDomainSummary **ret, size_t *ret_n, XvError *error);
int xendbe_list_domain_ids(XvHypervisor *h, int **ret, size_t *ret_n, XvError *error);
int xendbe_list_defined_names(XvHypervisor *h, char ***ret, XvError *error);
int xendbe_lookup_by_id(XvHypervisor *h, int id, HvDomainRef *ret, XvError *error);
int xendbe_lookup_by_name(XvHypervisor *h, const char *name, HvDomainRef *ret, XvError *error);
int xendbe_lookup_by_uuid(XvHypervisor *h, const XvUuid *uuid, HvDomainRef *ret, XvError *error);
int xendbe_domain_get_info(XvHypervisor *h, const HvDomainRef *dom, HvDomainInfo *ret, XvError *error);
int xendbe_domain_get_state(XvHypervisor *h, const HvDomainRef *dom, int *ret_state, int *ret_reason, XvError *error);
int xendbe_domain_get_def(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, DomainDef **ret, XvError *error);
int xendbe_domain_get_xml(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, char **ret, XvError *error);
int xendbe_domain_get_os_type(XvHypervisor *h, const HvDomainRef *dom, char **ret, XvError *error);
int xendbe_domain_is_active(XvHypervisor *h, const HvDomainRef *dom, bool *ret, XvError *error);
int xendbe_domain_is_persistent(XvHypervisor *h, const HvDomainRef *dom, bool *ret, XvError *error);
int xendbe_domain_define(XvHypervisor *h, const DomainDef *def, HvDomainRef *ret_ref, XvError *error);
int xendbe_domain_undefine(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
int xendbe_domain_create_xml(XvHypervisor *h, const DomainDef *def, unsigned flags, HvDomainRef *ret_ref, XvError *error);
int xendbe_domain_create(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, HvDomainRef *ret_ref, XvError *error);
int xendbe_domain_suspend(XvHypervisor *h, const HvDomainRef *dom, XvError *error);
int xendbe_domain_resume(XvHypervisor *h, const HvDomainRef *dom, XvError *error);
int xendbe_domain_shutdown(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
int xendbe_domain_reboot(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
int xendbe_domain_destroy(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
int xendbe_domain_save(XvHypervisor *h, const HvDomainRef *dom, const char *path, XvError *error);
int xendbe_domain_restore(XvHypervisor *h, const char *path, XvError *error);
int xendbe_domain_managed_save(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
int xendbe_domain_has_managed_save(XvHypervisor *h, const HvDomainRef *dom, bool *ret, XvError *error);
int xendbe_domain_managed_save_remove(XvHypervisor *h, const HvDomainRef *dom, XvError *error);
int xendbe_domain_core_dump(XvHypervisor *h, const HvDomainRef *dom, const char *path, unsigned flags, XvError *error);
int xendbe_domain_set_memory(XvHypervisor *h, const HvDomainRef *dom, uint64_t kib, unsigned flags, XvError *error);
int xendbe_domain_set_vcpus(XvHypervisor *h, const HvDomainRef *dom, unsigned n, unsigned flags, XvError *error);
int xendbe_domain_get_vcpus_flags(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, int *ret, XvError *error);
int xendbe_domain_get_vcpus(XvHypervisor *h, const HvDomainRef *dom, int max_info, int maplen, HvVcpuInfo **ret_info, size_t *ret_n, uint8_t **ret_maps, XvError *error);
int xendbe_domain_pin_vcpu(XvHypervisor *h, const HvDomainRef *dom, unsigned vcpu, const uint8_t *map, size_t maplen, unsigned flags, XvError *error);
int xendbe_domain_get_vcpu_pin_info(XvHypervisor *h, const HvDomainRef *dom, int ncpumaps, int maplen, unsigned flags, uint8_t **ret_maps, int *ret_n, XvError *error);
int xendbe_domain_get_autostart(XvHypervisor *h, const HvDomainRef *dom, bool *ret, XvError *error);
int xendbe_domain_set_autostart(XvHypervisor *h, const HvDomainRef *dom, bool autostart, XvError *error);
int xendbe_domain_attach_device(XvHypervisor *h, const HvDomainRef *dom, const char *xml, unsigned flags, XvError *error);
int xendbe_domain_detach_device(XvHypervisor *h, const HvDomainRef *dom, const char *xml, unsigned flags, XvError *error);
int xendbe_domain_update_device(XvHypervisor *h, const HvDomainRef *dom, const char *xml, unsigned flags, XvError *error);
int xendbe_domain_block_stats(XvHypervisor *h, const HvDomainRef *dom, const char *path, HvBlockStats *ret, XvError *error);
int xendbe_domain_interface_stats(XvHypervisor *h, const HvDomainRef *dom, const char *path, HvInterfaceStats *ret, XvError *error);
int xendbe_domain_get_scheduler_type(XvHypervisor *h, const HvDomainRef *dom, char **ret, int *ret_nparams, XvError *error);
int xendbe_domain_get_sched_params(XvHypervisor *h, const HvDomainRef *dom, HvSchedParams *ret, XvError *error);
int xendbe_domain_set_sched_params(XvHypervisor *h, const HvDomainRef *dom, const HvSchedParams *params, unsigned mask, XvError *error);
int xendbe_domain_migrate_perform(XvHypervisor *h, const HvDomainRef *dom, const char *uri, unsigned flags, XvError *error);
