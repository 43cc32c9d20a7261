/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * xensim's one consistent host state. The three interfaces (XenD over HTTP/SXP, xenstore over
 * its wire protocol, the hypervisor beneath libxenctrl) all read and change this state, so a
 * domain created over XenD appears in xenstore (with an @introduceDomain event) and in the
 * hypervisor's domain list at once. Single-threaded: everything runs on xensim's sd-event loop.
 */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "xv-error.h"
#include "xv-macro.h"
#include "xv-uuid.h"

#define XSIM_DOMAINS_MAX        16384
#define XSIM_VCPUS_MAX          128
#define XSIM_PCPUS_MAX          64      /* affinity maps are one uint64_t */
#define XSIM_NODES_MAX          8

typedef struct Sexpr Sexpr;             /* src/xen/xv-sexpr.h */

typedef enum XsimRunState {
        XSIM_STATE_RUNNING,             /* 'r' (or 'b' when all vcpus are blocked) */
        XSIM_STATE_PAUSED,              /* 'p' */
        XSIM_STATE_SHUTDOWN,            /* 's': shut down, not yet destroyed (the reason says why) */
        XSIM_STATE_CRASHED,             /* 'c' */
        XSIM_STATE_DYING,               /* 'd' */
        XSIM_STATE_HALTED,              /* a managed (xend-defined) domain that is not running */
        _XSIM_RUN_STATE_MAX,
} XsimRunState;

/* The hypervisor's shutdown codes (xen/sched.h SHUTDOWN_*). */
typedef enum XsimShutdownReason {
        XSIM_SHUTDOWN_POWEROFF = 0,
        XSIM_SHUTDOWN_REBOOT = 1,
        XSIM_SHUTDOWN_SUSPEND = 2,
        XSIM_SHUTDOWN_CRASH = 3,
        XSIM_SHUTDOWN_WATCHDOG = 4,
} XsimShutdownReason;

typedef struct XsimVcpu {
        bool online;
        bool blocked;
        int cpu;                        /* physical cpu it last ran on */
        uint64_t cpu_time_ns;
        uint64_t affinity;              /* bit n = may run on pcpu n */
} XsimVcpu;

typedef struct XsimDomain {
        int domid;                      /* -1 while halted */
        char *name;
        XvUuid uuid;
        bool hvm;
        bool managed;                   /* defined in xend (op=new): survives destruction as halted */
        bool autostart;                 /* on_xend_start = start */
        XsimRunState state;
        XsimShutdownReason shutdown_reason;
        uint64_t memory_kib;            /* current (balloon target) */
        uint64_t max_memory_kib;
        unsigned max_vcpus;
        XsimVcpu vcpus[XSIM_VCPUS_MAX];
        uint64_t cpu_time_ns;           /* accumulated while running */
        uint64_t running_since_usec;    /* CLOCK_MONOTONIC when last set running, 0 otherwise */
        unsigned sched_weight;          /* credit scheduler: 1..65535, default 256 */
        unsigned sched_cap;             /* 0..65534 */
        Sexpr *config;                  /* the (vm ...) configuration XenD was given; owned */
        char *on_poweroff, *on_reboot, *on_crash;       /* "destroy", "restart", "preserve"... */
        unsigned n_devices;             /* next device id for hot-plug */
        struct XsimHost *host;
        sd_event_source *action_source; /* pending on_poweroff/on_reboot/on_crash action; owned */
} XsimDomain;

/* What happened, for the listeners (xenstore keeps its tree and fires watches from these). */
typedef enum XsimEvent {
        XSIM_EVENT_INTRODUCED,          /* a domain got a domid (created, started, restored, rebooted) */
        XSIM_EVENT_RELEASED,            /* a domain's domid is gone (destroyed) */
        XSIM_EVENT_CHANGED,             /* run state, memory or vcpus changed */
        XSIM_EVENT_DEFINED,             /* managed config created or changed */
        XSIM_EVENT_UNDEFINED,
} XsimEvent;

typedef void (*XsimListener)(struct XsimHost *host, XsimEvent event, XsimDomain *d, void *userdata);

/* Fault injection switches, set from the command line or the control socket. */
typedef struct XsimFaults {
        bool xend_absent;               /* XenD socket not listening */
        unsigned xend_delay_ms;         /* every XenD reply is delayed */
        bool xend_garbage;              /* replies with non-HTTP bytes */
        bool xend_error500;             /* every request gets a 500 with a Python-style message */
        bool xend_drop;                 /* connections closed without a reply */
        bool xend_partial;              /* replies cut in the middle of the body, then closed */
        bool xend_hold_listings;        /* replies to GET /xend/domain?detail=1 wait until off */
        unsigned xend_held;             /* such replies waiting now (for in-flight checks) */
        bool xenstore_absent;
        bool xenstore_stale;            /* /local/domain/<id> trees stay after destruction */
        bool hypervisor_fail;           /* hypercalls fail with EPERM */
        unsigned xend_requests;         /* counter of XenD requests served (for O(1) checks) */
} XsimFaults;

typedef struct XsimHost {
        sd_event *event;
        /* Host facts. */
        unsigned xen_major, xen_minor;
        char *xen_extra;                /* ".1" */
        int xend_config_version;        /* 1..4 */
        unsigned nr_cpus, nr_nodes, sockets_per_node, cores_per_socket, threads_per_core;
        unsigned cpu_mhz;
        uint64_t total_memory_kib;
        char *hostname;
        char *scheduler;                /* "credit" */
        char *root;                     /* simulated host files (sysfs stats, /proc/net/dev) */
        char *xm_dir;                   /* /etc/xen-style directory */
        XsimFaults faults;
        /* Domains, indexed by position; domain 0 is always first. */
        XsimDomain **domains;
        size_t n_domains;
        int next_domid;
        XsimListener listeners[4];
        void *listener_data[4];
        size_t n_listeners;
        unsigned action_delay_ms;       /* how long a shut-down domain waits before its on_* action */
} XsimHost;

int xsim_host_new(sd_event *event, int xend_config_version, const char *root, XsimHost **ret);
XsimHost *xsim_host_free(XsimHost *host);
DEFINE_CLEANUP_FUNC(XsimHost *, xsim_host_free);

int xsim_host_add_listener(XsimHost *host, XsimListener listener, void *userdata);

/* Free memory: total minus what every running domain holds. */
uint64_t xsim_host_free_memory_kib(const XsimHost *host);
/* Free memory of one NUMA node (memory is split evenly between nodes). */
uint64_t xsim_host_node_free_memory_kib(const XsimHost *host, unsigned node);

/* Lookups: by domid, by name, by UUID, or by XenD's <d> which may be any of the three. */
XsimDomain *xsim_domain_by_id(XsimHost *host, int domid);
XsimDomain *xsim_domain_by_name(XsimHost *host, const char *name);
XsimDomain *xsim_domain_by_uuid(XsimHost *host, const XvUuid *uuid);
XsimDomain *xsim_domain_lookup(XsimHost *host, const char *name_id_or_uuid);

/* Creates a domain from parsed facts; it starts PAUSED with a fresh domid (XenD's op=create
 * leaves it paused until op=unpause). Takes ownership of @config. */
int xsim_domain_create(XsimHost *host, const char *name, const XvUuid *uuid, bool hvm,
                       uint64_t memory_kib, uint64_t max_memory_kib, unsigned vcpus,
                       Sexpr *config, XsimDomain **ret, XvError *error);
/* Defines a managed, halted domain (op=new); redefining an existing one replaces its config. */
int xsim_domain_define(XsimHost *host, const char *name, const XvUuid *uuid, bool hvm,
                       uint64_t memory_kib, uint64_t max_memory_kib, unsigned vcpus,
                       Sexpr *config, XsimDomain **ret, XvError *error);
int xsim_domain_undefine(XsimDomain *d, XvError *error);          /* halted managed only */
int xsim_domain_start(XsimDomain *d, XvError *error);             /* halted managed → paused with a domid */
int xsim_domain_pause(XsimDomain *d, XvError *error);
int xsim_domain_unpause(XsimDomain *d, XvError *error);
/* A guest-initiated or requested shutdown with a reason; the on_* action then runs:
 * destroy → released (halted if managed), restart → released and introduced again with a new domid,
 * preserve → stays in SHUTDOWN/CRASHED. */
int xsim_domain_shutdown(XsimDomain *d, XsimShutdownReason reason, XvError *error);
int xsim_domain_destroy(XsimDomain *d, XvError *error);
int xsim_domain_set_memory(XsimDomain *d, uint64_t kib, XvError *error);       /* balloon target */
int xsim_domain_set_max_memory(XsimDomain *d, uint64_t kib, XvError *error);
int xsim_domain_set_vcpus(XsimDomain *d, unsigned online, XvError *error);
int xsim_domain_pin_vcpu(XsimDomain *d, unsigned vcpu, uint64_t affinity, XvError *error);
int xsim_domain_set_sched(XsimDomain *d, unsigned weight, unsigned cap, XvError *error);
/* Updates cpu_time_ns of a running domain and its vcpus from the clock; called before reading. */
void xsim_domain_account(XsimDomain *d);
/* The value of (@key ...) in a device of a configuration, e.g. "mac" in (vif (mac ...) ...); NULL
 * when it is absent or @dev has no head. */
const char *xsim_device_value(const Sexpr *dev, const char *key);
/* The one-letter state string XenD reports: "r-----", "-b----", "--p---", "---s--", "----c-", "-----d". */
const char *xsim_domain_state_string(const XsimDomain *d, char buf[static 7]);

/* Shuts a domain down with XSIM_SHUTDOWN_CRASH; the same as xsim_domain_shutdown(d, CRASH). */
int xsim_domain_crash(XsimDomain *d, XvError *error);
/* The run state's name for logs and the control socket ("running", "paused", ...). */
const char *xsim_run_state_to_string(XsimRunState s);

/* Notifies the listeners; the state functions above call it themselves. RELEASED is emitted while
 * d->domid still holds the id that goes away (so a listener can remove /local/domain/<id>); a
 * domain that is not managed is freed right after its RELEASED event, a managed one becomes
 * HALTED with domid -1. UNDEFINED is emitted just before the domain is freed. */
void xsim_host_emit(XsimHost *host, XsimEvent event, XsimDomain *d);
