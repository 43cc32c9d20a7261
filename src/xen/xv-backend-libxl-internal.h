/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The libxl backend's private state, shared by its files: xv-backend-libxl.c (open, host,
 * lookups, listing, state), xv-backend-libxl-domain.c (domain operations) and
 * xv-backend-libxl-events.c (lifecycle events, the libxl event thread, autostart). Nothing
 * outside these files includes this header.
 *
 * Channels (one per operation and domain state):
 *   running domains: identity, info, state, vcpus, affinity from hypercalls, names from xenstore
 *                    (a short-lived cache, dropped by every xenstore watch event), whoever
 *                    created them (xenvirtd, `xl`, another libxl user: "adopted" domains);
 *   lifecycle:       libxl (one libxl_ctx, thread-safe) through the lxops_* wrappers;
 *   inactive domains: xenvirtd's own xl-format files (XlStore, HvConfig.xl_dir).
 *
 * Locks (never held across a libxl call that waits on a guest; taken in this order):
 *   event_lock   the hypercall snapshot that process_events() and lx_wake() diff
 *   cache_lock   the running-domain name cache
 *   track_lock   per-domain "what xenvirtd did last", the definitions of the domains xenvirtd
 *                started (for on_poweroff/on_reboot/on_crash) and the queue of undelivered events
 *   info.lock, the xml cache's own lock: leaves (nothing else is taken while they are held).
 *
 * Caches of what running domains look like (both dropped by every change made through the
 * backend, see lx_changed(), and by the xenstore watch events of the events file):
 *   info         the hypervisor's list of every domain, shared by getinfo/get_state/is_active
 *                (xvb_info_cache_get(), at most XVB_INFO_MAX_AGE_USEC old);
 *   xml_cache    dumpxml's text per running domain and incarnation, as libxl's stored
 *                configuration (or the hypervisor) gave it, at most LX_XML_RUNNING_MAX_AGE_USEC
 *                old. Definitions read from the XlStore are not cached: the store already keeps
 *                them parsed and promises that a file another tool edits is seen on the next call.
 */

#include <pthread.h>
#include <libxl.h>

#include "xv-backend.h"
#include "xv-backend-common.h"
#include "xv-domain-table.h"
#include "xv-hcall.h"
#include "xv-xenstore.h"
#include "xv-xl-store.h"
#include "xv-xml-cache.h"

#define LX_TRACK_MAX            4096    /* domains whose last action we remember */
#define LX_EVENTS_MAX           4096    /* queued events not yet delivered */
#define LX_POLL_USEC            (2ULL * 1000 * 1000)    /* pause/unpause by other tools: no watch fires */
#define LX_DEVICE_XML_MAX       (64 * 1024)
#define LX_MAX_VCPUS            128     /* libxl's HVM/PV limit we report (virConnectGetMaxVcpus) */
#define LX_MAPLEN_MAX           1024    /* bytes of one vcpu affinity map */
#define LX_LIBXL_FDS_MAX        256     /* fds libxl may ask the event thread to poll */
/* dumpxml's cache, bounded as the xend backend's (one entry per domain id, 32 MiB, the least
 * recently used evicted first); a running domain's text is reused for at most two seconds, so that
 * what another tool changes through libxl without a trace in xenstore (its userdata alone) shows
 * after that long, as with the xend backend. Inactive definitions are never stored (the store's
 * own cache serves them), so their age bound only satisfies xml_cache_new(). */
#define LX_XML_CACHE_MAX        32768
#define LX_XML_CACHE_BYTES_MAX  (32U * 1024 * 1024)
#define LX_XML_RUNNING_MAX_AGE_USEC (2ULL * 1000 * 1000)
#define LX_XML_INACTIVE_MAX_AGE_USEC (2ULL * 1000 * 1000)

/* What xenvirtd did last to a domain: decides the state reasons and the event details. */
typedef enum LxAction {
        LX_NONE,
        LX_STARTING,            /* libxl is building it (paused until libxl is done) */
        LX_RESTORING,           /* likewise, from a save image */
        LX_BOOTED,
        LX_RESTORED,
        LX_PAUSED,
        LX_UNPAUSED,
        LX_SHUTDOWN,
        LX_DESTROYED,
        LX_SAVED,
        LX_CRASHED,             /* observed, not done */
        _LX_ACTION_MAX,
} LxAction;

typedef struct LxTrack {
        XvUuid uuid;
        LxAction action;
        uint64_t stamp;
} LxTrack;

/* A domain xenvirtd started (or found running with a stored definition at open): its death is
 * watched through libxl, and the guest's own poweroff/reboot/crash is acted upon as its
 * definition says (libxl leaves that to the toolstack). */
typedef struct LxOwned {
        uint32_t domid;
        XvUuid uuid;
        DomainDef *def;                 /* what to start again on reboot */
        libxl_evgen_domain_death *deathw;
} LxOwned;

typedef XvbSnap LxSnap;

typedef struct LibxlBackend {
        XvHypervisor base;              /* .ops = &hv_backend_libxl */

        char *xl_dir, *host_root, *save_dir;
        bool read_only;

        libxl_ctx *ctx;                 /* NULL when libxl could not be opened */
        xentoollog_logger *logger;
        XsChannel *xs;
        Hcall *hc;
        XlStore *store;

        pthread_mutex_t cache_lock;
        DomainTable *running;           /* xenstore's domains (id → name, uuid), hashed three ways */
        bool cache_valid;

        pthread_mutex_t track_lock;
        LxTrack *tracks;
        size_t n_tracks;
        uint64_t track_stamp;
        HvEvent *queue;
        size_t n_queue;
        LxOwned *owned;
        size_t n_owned;

        XvbInfoCache info;              /* getinfo/state/is-active of running domains */
        XmlCache *xml_cache;            /* dumpxml of running domains (own lock, a leaf) */
        /* The watches on /local/domain and /vm that drop dumpxml's texts, on a channel of their
         * own: a guest writing its own nodes must not make h->xs's events pending (which drops
         * the name cache at every lookup until the loop drained them). */

        pthread_mutex_t event_lock;
        LxSnap *snap;
        size_t n_snap;
        bool snap_valid;
        XvbLookPacer look_pacer;        /* looks asked for by watch events, spaced */
        int epoll_fd, wake_fd, timer_fd;
        HvEventCallback callback;
        void *userdata;
        char *caps_xml;

        /* The libxl event thread (domain death) and the autostart thread. */
        pthread_t event_thread, autostart_thread;
        bool event_thread_started, autostart_thread_started;
        int stop_fd;                    /* eventfd: the threads end when it is readable */
} LibxlBackend;

static inline LibxlBackend *lx_of(XvHypervisor *hv) {
        return hv ? (LibxlBackend *) ((char *) hv - offsetof(LibxlBackend, base)) : NULL;
}

/* A resolved domain. */
typedef struct LxDom {
        char *name;
        XvUuid uuid;
        int id;                         /* -1 when inactive */
        HcallDomainInfo info;           /* valid when id >= 0 */
        bool persistent;                /* in the store (or Domain-0) */
        DomainDef *def;                 /* the stored definition, loaded on demand */
} LxDom;

void lx_dom_done(LxDom *d);

int lx_check_writable(LibxlBackend *h, XvError *error);
int lx_need_libxl(LibxlBackend *h, XvError *error);
int lx_need_hc(LibxlBackend *h, XvError *error);
int lx_resolve(LibxlBackend *h, const HvDomainRef *ref, LxDom *ret, XvError *error);
/* The same for lookups and reads of numbers and state: a running domain's info may come from the
 * shared snapshot (h->info, at most XVB_INFO_MAX_AGE_USEC old, dropped by every change), and a
 * domain a current name cache does not know (valid, no watch event waiting) is not running, with
 * no hypercall list to make sure (a domain still being built, not named in xenstore yet, counts
 * as not running yet). */
int lx_resolve_light(LibxlBackend *h, const HvDomainRef *ref, LxDom *ret, XvError *error);
/* The stored definition of @d (loaded into d->def once); XVP_ERR_OPERATION_INVALID when the
 * domain is transient. */
int lx_dom_stored_def(LibxlBackend *h, LxDom *d, XvError *error);
int lx_fill_ref(const LxDom *d, HvDomainRef *ret);
int lx_running_by_uuid(LibxlBackend *h, const XvUuid *uuid, HcallDomainInfo *ret, XvError *error);
int lx_name_of(LibxlBackend *h, int domid, const XvUuid *uuid, char **ret, XvError *error);
/* Drops the name cache and the info snapshot (a domain came or went). */
void lx_cache_invalidate(LibxlBackend *h);
/* A domain changed (through the backend, or a watch said so): drops the info snapshot and the
 * cached dumpxml texts of domain @name and/or @uuid (both NULL: of every domain). */
void lx_changed(LibxlBackend *h, const char *name, const XvUuid *uuid);

void lx_track(LibxlBackend *h, const XvUuid *uuid, LxAction action);
LxAction lx_track_get(LibxlBackend *h, const XvUuid *uuid);
void lx_state_reason(LibxlBackend *h, const HcallDomainInfo *info, int *ret_state, int *ret_reason);
int lx_inactive_reason(LibxlBackend *h, const XvUuid *uuid, const char *name);

int lx_managed_save_path(LibxlBackend *h, const char *name, char **ret);
bool lx_has_managed_save(LibxlBackend *h, const char *name);

/* Events (xv-backend-libxl-events.c). */
void lx_queue_event(LibxlBackend *h, const char *name, const XvUuid *uuid, int id, int event, int detail);
void lx_wake(LibxlBackend *h);
int lx_events_init(LibxlBackend *h, XvError *error);
void lx_events_done(LibxlBackend *h);
/* Starts the libxl event thread and, unless read-only, the autostart thread. */
int lx_threads_start(LibxlBackend *h, XvError *error);
void lx_threads_stop(LibxlBackend *h);
/* Watches the death of domain @domid, started by xenvirtd from @def (copied). */
void lx_own(LibxlBackend *h, uint32_t domid, const DomainDef *def);
void lx_disown(LibxlBackend *h, uint32_t domid);
void lx_owned_free_all(LibxlBackend *h);
/* Starts a domain from @def (libxl), tracks it as booted and watches it. */
int lx_start_def(LibxlBackend *h, const DomainDef *def, bool paused, int *ret_id, XvError *error);

/* The operations of hv_backend_libxl defined outside xv-backend-libxl.c. */
int lx_domain_get_def(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, DomainDef **ret, XvError *error);
int lx_domain_get_xml(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, char **ret, XvError *error);
int lx_domain_get_os_type(XvHypervisor *h, const HvDomainRef *dom, char **ret, XvError *error);
int lx_domain_define(XvHypervisor *h, const DomainDef *def, HvDomainRef *ret_ref, XvError *error);
int lx_domain_undefine(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
int lx_domain_create_xml(XvHypervisor *h, const DomainDef *def, unsigned flags, HvDomainRef *ret_ref, XvError *error);
int lx_domain_create(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, HvDomainRef *ret_ref, XvError *error);
int lx_domain_suspend(XvHypervisor *h, const HvDomainRef *dom, XvError *error);
int lx_domain_resume(XvHypervisor *h, const HvDomainRef *dom, XvError *error);
int lx_domain_shutdown(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
int lx_domain_reboot(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
int lx_domain_destroy(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
int lx_domain_save(XvHypervisor *h, const HvDomainRef *dom, const char *path, XvError *error);
int lx_domain_restore(XvHypervisor *h, const char *path, XvError *error);
int lx_domain_managed_save(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
int lx_domain_has_managed_save(XvHypervisor *h, const HvDomainRef *dom, bool *ret, XvError *error);
int lx_domain_managed_save_remove(XvHypervisor *h, const HvDomainRef *dom, XvError *error);
int lx_domain_core_dump(XvHypervisor *h, const HvDomainRef *dom, const char *path, unsigned flags, XvError *error);
int lx_domain_set_memory(XvHypervisor *h, const HvDomainRef *dom, uint64_t kib, unsigned flags, XvError *error);
int lx_domain_set_vcpus(XvHypervisor *h, const HvDomainRef *dom, unsigned n, unsigned flags, XvError *error);
int lx_domain_get_vcpus_flags(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, int *ret, XvError *error);
int lx_domain_get_vcpus(XvHypervisor *h, const HvDomainRef *dom, int max_info, int maplen, HvVcpuInfo **ret_info,
                        size_t *ret_n, uint8_t **ret_maps, XvError *error);
int lx_domain_pin_vcpu(XvHypervisor *h, const HvDomainRef *dom, unsigned vcpu, const uint8_t *map, size_t maplen,
                       unsigned flags, XvError *error);
int lx_domain_get_vcpu_pin_info(XvHypervisor *h, const HvDomainRef *dom, int ncpumaps, int maplen, unsigned flags,
                                uint8_t **ret_maps, int *ret_n, XvError *error);
int lx_domain_get_autostart(XvHypervisor *h, const HvDomainRef *dom, bool *ret, XvError *error);
int lx_domain_set_autostart(XvHypervisor *h, const HvDomainRef *dom, bool autostart, XvError *error);
int lx_domain_attach_device(XvHypervisor *h, const HvDomainRef *dom, const char *xml, unsigned flags, XvError *error);
int lx_domain_detach_device(XvHypervisor *h, const HvDomainRef *dom, const char *xml, unsigned flags, XvError *error);
int lx_domain_update_device(XvHypervisor *h, const HvDomainRef *dom, const char *xml, unsigned flags, XvError *error);
int lx_domain_block_stats(XvHypervisor *h, const HvDomainRef *dom, const char *path, HvBlockStats *ret, XvError *error);
int lx_domain_interface_stats(XvHypervisor *h, const HvDomainRef *dom, const char *path, HvInterfaceStats *ret,
                              XvError *error);
int lx_domain_get_scheduler_type(XvHypervisor *h, const HvDomainRef *dom, char **ret, int *ret_nparams, XvError *error);
int lx_domain_get_sched_params(XvHypervisor *h, const HvDomainRef *dom, HvSchedParams *ret, XvError *error);
int lx_domain_set_sched_params(XvHypervisor *h, const HvDomainRef *dom, const HvSchedParams *params, unsigned mask,
                               XvError *error);
int lx_domain_migrate_perform(XvHypervisor *h, const HvDomainRef *dom, const char *uri, unsigned flags, XvError *error);
int lx_set_event_callback(XvHypervisor *h, HvEventCallback callback, void *userdata);
int lx_event_fd(XvHypervisor *h);
int lx_process_events(XvHypervisor *h);

