/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the xend and the libxl backends share: the hypercall snapshot of the domain list, the
 * list of events a look produces, the queue of events not yet delivered, and the fds of the event
 * loop (epoll set, wake-up eventfd, poll timer). Backend-neutral: every function takes the
 * channels, locks and fields it works on, so that each backend keeps its own struct and locking.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xv-backend.h"
#include "xv-capabilities.h"
#include "xv-error.h"
#include "xv-hcall.h"

/* One domain of the hypervisor's list, as the last look saw it. */
typedef struct XvbSnap {
        int domid;
        XvUuid uuid;
        char *name;
        int state;
        bool shutdown;
        unsigned shutdown_code;
        uint64_t cpu_time_ns;
} XvbSnap;

void xvb_snaps_free(XvbSnap *l, size_t n);
/* Takes @name. */
XvbSnap xvb_snap_of(const HcallDomainInfo *info, char *name);
/* Sorts by domid, for xvb_snap_find(). */
void xvb_snaps_sort(XvbSnap *l, size_t n);
const XvbSnap *xvb_snap_find(const XvbSnap *l, size_t n, int domid, const XvUuid *uuid);

/* Events found by one look, in order. */
typedef struct XvbEventList {
        HvEvent *l;
        size_t n, allocated;
} XvbEventList;

void xvb_event_list_done(XvbEventList *e);
/* Appends an event; beyond @max events it is dropped (SIZE_MAX: no limit). */
int xvb_emit(XvbEventList *e, size_t max, const char *name, const XvUuid *uuid, int id, int event, int detail);

/* Diffs the previous snapshot against @now into @e (the backend's own rules). */
typedef int (*XvbDiffFn)(void *backend, const XvbSnap *old, size_t n_old, XvbSnap *now, size_t n_now, XvbEventList *e);

/* Diffs @now against the previous snapshot (when there is a valid one) and makes @now the
 * snapshot; takes @now in all cases. */
int xvb_snap_advance(void *backend, XvbDiffFn diff, XvbSnap **snap, size_t *n_snap, bool *snap_valid,
                     XvbSnap *now, size_t n_now, XvbEventList *e);

/* The queue (*queue, *n_queue under @lock) of events not yet delivered. */
/* Queues one event: -ENOBUFS when @max events are queued already (the event is dropped),
 * -ENOMEM when @name cannot be copied. */
int xvb_queue_push(pthread_mutex_t *lock, HvEvent **queue, size_t *n_queue, size_t max,
                   const char *name, const XvUuid *uuid, int id, int event, int detail);
/* Moves the queue to the front of @e. */
int xvb_queue_take(pthread_mutex_t *lock, HvEvent **queue, size_t *n_queue, XvbEventList *e);
/* Moves @e to the end of the queue, unless that would exceed @max (then @e is left as it is). */
void xvb_queue_append(pthread_mutex_t *lock, HvEvent **queue, size_t *n_queue, size_t max, XvbEventList *e);

/* Delivers @e to @cb (which may be NULL); returns how many events there were, capped. */
int xvb_deliver(XvHypervisor *hv, HvEventCallback cb, void *userdata, const XvbEventList *e);

/* The event loop's fds: an epoll set over a wake-up eventfd and a periodic timer. */
int xvb_events_fds_open(int *epoll_fd, int *wake_fd, int *timer_fd, uint64_t poll_usec, XvError *error);
int xvb_epoll_add(int epoll_fd, int fd);
void xvb_signal(int wake_fd);
/* Drains an eventfd or timerfd (reads whatever it has to say); whether it had fired. */
bool xvb_drain(int fd);

/* ---- looks that xenstore watch events ask for, spaced ---- */

/*
 * A look (the hypervisor's list, the names, the diff against the previous look) costs O(N). A
 * burst of watch events (hundreds of domains introduced at once, each writing dozens of nodes)
 * arrives in many small reads, and a look per read kept the loop listing every domain thousands
 * of times a second for seconds (10,000 domains: ~2,000 looks/s for 6 s after they came).
 *
 * A look that watch events alone ask for is made at the earliest XVB_LOOK_GAP_FACTOR times the
 * last look's duration after that look ended (never more than XVB_LOOK_GAP_MAX_USEC later), so
 * that looking costs at most about 1 / XVB_LOOK_GAP_FACTOR of a CPU; the poll timer is armed to
 * fire when it is due. Looks after an operation, on the wake-up eventfd or on the timer are never
 * deferred. The events themselves are read (and the caches they concern dropped) at once: only
 * the report of what came or went waits, by a few milliseconds on the largest hosts.
 * Not thread-safe: the backend's event lock covers it.
 */
#define XVB_LOOK_GAP_FACTOR     20
#define XVB_LOOK_GAP_MAX_USEC   (100ULL * 1000)

typedef struct XvbLookPacer {
        int timer_fd;                   /* the backend's periodic poll timer */
        uint64_t poll_usec;             /* its period */
        uint64_t last_end;              /* CLOCK_MONOTONIC µs; 0: no look yet */
        uint64_t last_cost;
        uint64_t next_tick;             /* deferred: when the periodic timer was to fire next */
        bool deferred;                  /* a look watch events asked for is owed: the timer fires for it */
} XvbLookPacer;

void xvb_look_pacer_init(XvbLookPacer *p, int timer_fd, uint64_t poll_usec);
/* Whether a look that watch events ask for is due at @now. When it is not, the poll timer is
 * set to fire once when it is, and false is returned. */
bool xvb_look_due(XvbLookPacer *p, uint64_t now);
/* Whether to look now: when @asked (after an operation, on the eventfd or the timer, or a wake-up
 * with nothing fired), or when @by_watch and xvb_look_due() says so. */
bool xvb_look_now(XvbLookPacer *p, bool asked, bool by_watch);
/* Records a look made from @start to @end; after a deferred one, the poll timer goes back to its
 * period, in its old phase. */
void xvb_look_done(XvbLookPacer *p, uint64_t start, uint64_t end);

/* ---- one shared hypervisor snapshot for info, state and is-active of running domains ---- */

/*
 * The hypervisor's list of every domain (one batched getinfolist), shared by all callers while it
 * is young enough, so that a burst of getinfo calls costs one hypercall list instead of one
 * hypercall each. Whoever finds it too old refreshes it, one at a time and without the lock held:
 * the calls that come during that refresh ask for their own domain (-ESTALE), none waits for it.
 * Every change made through the backend and every xenstore watch event invalidates it
 * (xvb_info_cache_invalidate(), which never waits), and a refresh that an invalidation overtook
 * is thrown away, so that a client sees its own change at once.
 *
 * Young enough: at most max(max_age_usec, XVB_INFO_LIST_COST_FACTOR x the last list's duration),
 * and never more than XVB_INFO_MAX_AGE_CAP_USEC, so that refreshing costs at most about 1 /
 * XVB_INFO_LIST_COST_FACTOR of a CPU on a host of any size (at N = 1000 a list takes ~0.1 ms; at
 * 10,000, ~1 ms). That is also how late a change by another tool that fires no watch (a pause)
 * can show.
 *
 * A list of n domains costs about as much as 1 + n / XVB_INFO_DOMAINS_PER_CALL calls for one
 * domain (a getinfolist hypercall per 256 domains, plus the copying): it is made only when at
 * least that many calls came within the current window (one maximum age long; n of the last
 * list). Below that rate each call is left to ask for its one domain (-ESTALE), so a quiet host
 * with many domains pays no list per call.
 */
#define XVB_INFO_MAX_AGE_USEC 1000ULL  /* CLOCK_MONOTONIC */
#define XVB_INFO_MAX_AGE_CAP_USEC (50ULL * 1000)
#define XVB_INFO_LIST_COST_FACTOR 20
#define XVB_INFO_DOMAINS_PER_CALL 256

/* The clock in µs (CLOCK_MONOTONIC in the backends; tests pass their own). */
typedef uint64_t (*XvbClockFn)(void);
/* Lists every domain, sorted by domid (hcall_list_domains() in the backends). */
typedef int (*XvbListFn)(void *userdata, HcallDomainInfo **ret, size_t *ret_n);

typedef struct XvbInfoCache {
        pthread_mutex_t lock;
        XvbClockFn now;
        uint64_t max_age_usec;          /* the floor of the maximum age */
        HcallDomainInfo *l;             /* sorted by domid; NULL until the first refresh */
        size_t n;
        uint64_t stamp;                 /* now() before the list was asked for */
        bool valid;
        uint64_t gen;                   /* bumped by every invalidation */
        bool refreshing;                /* a caller is listing (without the lock) */
        uint64_t list_usec;             /* how long the last list took */
        uint64_t window_start;          /* the current window of calls */
        uint64_t window_calls;          /* calls in it */
        uint64_t n_refreshes;           /* hypercall lists made, for tests */
} XvbInfoCache;

void xvb_info_cache_init(XvbInfoCache *c, XvbClockFn now, uint64_t max_age_usec);
void xvb_info_cache_done(XvbInfoCache *c);
void xvb_info_cache_invalidate(XvbInfoCache *c);
/* The maximum age now (see above). */
uint64_t xvb_info_cache_max_age(XvbInfoCache *c);
/* The info of domain @domid from a snapshot young enough (refreshed through @list when it is
 * older or invalid, and the calls warrant a list). -ENOENT when that snapshot does not have
 * @domid (or has it under another UUID than @uuid, when @uuid is not NULL), -ESTALE when no list
 * was worth making or another caller is making one: the caller asks the hypervisor for the
 * domain itself. Other errors are @list's. */
int xvb_info_cache_get(XvbInfoCache *c, XvbListFn list, void *userdata, int domid, const XvUuid *uuid,
                       HcallDomainInfo *ret);

/* Running domain @id with hypervisor handle @uuid (NULL: any): with @snapshot, from @c (the
 * snapshot all callers share), else, or when the snapshot cannot answer (not in it: just created
 * or gone; too few calls to pay for a list; the list failed), asked of hypervisor @hc now. The
 * caller passes @snapshot false while a watch event it has not drained yet (a domain came or went)
 * may postdate the snapshot. -ESRCH when @id runs under another uuid. */
int xvb_running_info(XvbInfoCache *c, Hcall *hc, bool snapshot, int id, const XvUuid *uuid,
                     HcallDomainInfo *ret, XvError *error);

/* ---- domain operations served from hypercalls and host files ---- */

#include "xv-xenstore.h"

/* The vcpus of running domain @domid (at most @max_info, of the max_vcpu_id + 1 it has) and,
 * when @maplen > 0, their affinity maps (@maplen bytes each). */
int xvb_vcpus_live(Hcall *hc, int domid, unsigned max_vcpu_id, int max_info, int maplen,
                   HvVcpuInfo **ret_info, size_t *ret_n, uint8_t **ret_maps, XvError *error);
/* The affinity maps of the first @ncpumaps vcpus of running domain @domid. */
int xvb_vcpu_affinities(Hcall *hc, int domid, unsigned max_vcpu_id, int ncpumaps, int maplen,
                        uint8_t **ret_maps, size_t *ret_n, XvError *error);
/* Block statistics of disk @path of running domain @domid (@name for messages). */
int xvb_block_stats(XsChannel *xs, const char *host_root, int domid, const char *name, const char *path,
                    HvBlockStats *ret, XvError *error);
/* The name of the hypervisor's scheduler. */
int xvb_sched_name(Hcall *hc, const char **ret, XvError *error);

/* ---- host queries served from hypercalls (@hc not NULL) ---- */

int xvb_get_version(Hcall *hc, uint64_t *ret, XvError *error);
int xvb_get_hostname(char **ret, XvError *error);
int xvb_get_max_vcpus(const char *type, int max, int *ret, XvError *error);
int xvb_node_get_info(Hcall *hc, HvNodeInfo *ret, XvError *error);
int xvb_node_get_free_memory(Hcall *hc, uint64_t *ret_bytes, XvError *error);
int xvb_node_get_cells_free_memory(Hcall *hc, int start_cell, int max_cells, uint64_t *ret_bytes, int *ret_n,
                                   XvError *error);
int xvb_node_get_cpu_map(Hcall *hc, uint8_t **ret_map, size_t *ret_len, unsigned *ret_online, int *ret_cpus,
                         XvError *error);

/* The host's capabilities without NUMA cells: Xen's version and guest types (from
 * @host_root/sys/hypervisor/properties/capabilities, else the hypercall), /proc/cpuinfo, uname. */
int xvb_capabilities_base(Hcall *hc, const char *host_root, Capabilities **ret, XvError *error);

/* ---- listing ---- */

int xvb_list_domain_ids(Hcall *hc, int **ret, size_t *ret_n, XvError *error);
/* Fills names[i] with the name of l[i] (NULL where it has none yet); < 0 only on failure. */
typedef int (*XvbNamesOfFn)(void *backend, const HcallDomainInfo *l, size_t n, char **names);
/* The running domains and their names (from @names_of, else "Domain-<id>"), one hypercall list. */
int xvb_running_names(Hcall *hc, XvbNamesOfFn names_of, void *backend, HcallDomainInfo **ret_info,
                      char ***ret_names, size_t *ret_n, XvError *error);

/* ---- list all: libvirt's connectListAllDomains filter flags ---- */

#define LIST_ACTIVE             XVP_CONNECT_LIST_DOMAINS_ACTIVE
#define LIST_INACTIVE           XVP_CONNECT_LIST_DOMAINS_INACTIVE
#define LIST_PERSISTENT         XVP_CONNECT_LIST_DOMAINS_PERSISTENT
#define LIST_TRANSIENT          XVP_CONNECT_LIST_DOMAINS_TRANSIENT
#define LIST_RUNNING            XVP_CONNECT_LIST_DOMAINS_RUNNING
#define LIST_PAUSED             XVP_CONNECT_LIST_DOMAINS_PAUSED
#define LIST_SHUTOFF            XVP_CONNECT_LIST_DOMAINS_SHUTOFF
#define LIST_OTHER              XVP_CONNECT_LIST_DOMAINS_OTHER
#define LIST_MANAGEDSAVE        XVP_CONNECT_LIST_DOMAINS_MANAGEDSAVE
#define LIST_NO_MANAGEDSAVE     XVP_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE
#define LIST_AUTOSTART          XVP_CONNECT_LIST_DOMAINS_AUTOSTART
#define LIST_NO_AUTOSTART       XVP_CONNECT_LIST_DOMAINS_NO_AUTOSTART
#define LIST_ALL_FLAGS          0x3fffu

bool xvb_summary_matches(const HvDomainSummary *s, unsigned flags);

/* The summaries that match @flags. */
typedef struct XvbSummaryList {
        HvDomainSummary *l;
        size_t n, allocated;
        unsigned flags;
} XvbSummaryList;

void xvb_summary_list_done(XvbSummaryList *c);
/* Takes @s: appended when it matches the list's flags, else freed. */
int xvb_summary_list_add(XvbSummaryList *c, HvDomainSummary *s);

/* ---- a backend's event loop, as the two entry points below see it ---- */

typedef int (*XvbCollectFn)(void *backend, XvbEventList *e);

typedef struct XvbEventSource {
        void *backend;
        XvbCollectFn collect;           /* called with *event_lock held */
        pthread_mutex_t *event_lock;    /* the snapshot, callback and userdata */
        pthread_mutex_t *queue_lock;    /* *queue, *n_queue */
        HvEvent **queue;
        size_t *n_queue;
        size_t queue_max;
        int wake_fd;
        HvEventCallback *callback;
        void **userdata;
} XvbEventSource;

/* After an operation: looks at the hypervisor now (so that a state the operation passed through
 * is still reported), queues what changed and wakes the loop to deliver. */
void xvb_wake(const XvbEventSource *s);
/* One round of the loop: what changed since the last look, after the queue, delivered without any
 * backend lock held (the callback may call back into the backend). Returns how many. */
int xvb_process_events(XvHypervisor *hv, const XvbEventSource *s);

/* ---- lifecycle events of domains that shut down or vanished ---- */

/* What a backend recorded last about a domain, as far as the events below care. */
typedef enum XvbTrack {
        XVB_TRACK_OTHER,
        XVB_TRACK_SAVED,
        XVB_TRACK_MIGRATED,
        XVB_TRACK_CRASHED,
        XVB_TRACK_SHUTDOWN,
        XVB_TRACK_DESTROYED,
} XvbTrack;

/* A backend's track list: @get reads it, @set records what was observed. */
typedef struct XvbTracker {
        void *backend;
        XvbTrack (*get)(void *backend, const XvUuid *uuid);
        void (*set)(void *backend, const XvUuid *uuid, XvbTrack t);
        size_t max_events;              /* for xvb_emit() */
} XvbTracker;

/* A newly set shutdown flag: the guest (or a tool) ended the domain with Xen's shutdown code. */
int xvb_emit_shutdown(const XvbTracker *t, XvbEventList *e, const XvbSnap *s);
/* A domain of the previous look that is gone: STOPPED with the reason Xen or the track list gives. */
int xvb_emit_gone(const XvbTracker *t, XvbEventList *e, const XvbSnap *p);

/* ---- dumpxml's cache and the xenstore trees of the domains ---- */

#include "xv-xml-cache.h"

/* What a fired watch path was (xvb_xml_cache_drop_path()). */
typedef enum XvbTreePath {
        XVB_TREE_OTHER,         /* not below the domains' trees (@introduceDomain, @releaseDomain...) */
        XVB_TREE_NODE,          /* a node of a domain, its backend devices or its /vm, or a tree */
        XVB_TREE_IDENTITY,      /* what names a domain: /local/domain/<id> itself, its name, its vm */
} XvbTreePath;

/* Drops from @c what a write at fired watch path @path may have changed: a domain's own nodes
 * (by id), its backend devices (by frontend id), its /vm nodes (by uuid); anything else in those
 * trees (a watch's initial fire on the tree itself) drops everything. Says what @path was. */
XvbTreePath xvb_xml_cache_drop_path(XmlCache *c, const char *path);
