/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Hcall: the hypercall channel, a thin typed layer over the real libxenctrl (Xen 4.17 API). One
 * xc_interface per Hcall. libxenctrl allocates its hypercall buffers per call and keeps only a
 * small per-handle buffer cache behind its own lock (xc_interface is not opened with
 * XC_OPENFLAG_NON_REENTRANT), so concurrent calls on one handle are safe; the only per-handle
 * state it does not protect is the "last error" record, which we do not use (errno is read right
 * after each call). We therefore do not serialize calls: a slow hypercall never blocks others.
 *
 * Errors: every failure sets XVP_ERR_XEN_CALL (XVP_ERR_NO_XEN when the interface cannot be
 * opened), domain XVP_FROM_XEN, with the libxenctrl call named and strerror(errno); a domain that
 * does not exist gives -ESRCH with XVP_ERR_NO_DOMAIN.
 *
 * Units: memory in KiB, cpu time in nanoseconds.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xv-error.h"
#include "xv-macro.h"
#include "xv-uuid.h"

#define HCALL_DOMID_MAX 0x7FEF                  /* DOMID_FIRST_RESERVED - 1 */
#define HCALL_DOMAINS_MAX 32752                 /* domains returned by hcall_list_domains(): Xen's domid space (DOMID_FIRST_RESERVED) */
#define HCALL_NODES_MAX 1024                    /* NUMA nodes */
#define HCALL_VCPUS_MAX 4096                    /* vcpus per domain */
#define HCALL_CAPABILITIES_MAX 1024             /* XENVER_capabilities is a 1024-byte buffer */

/* Xen's SHUTDOWN_* codes (xen/sched.h), kept raw in HcallDomainInfo.shutdown_code. */
typedef enum HcallShutdownCode {
        HCALL_SHUTDOWN_POWEROFF = 0,
        HCALL_SHUTDOWN_REBOOT = 1,
        HCALL_SHUTDOWN_SUSPEND = 2,
        HCALL_SHUTDOWN_CRASH = 3,
        HCALL_SHUTDOWN_WATCHDOG = 4,
        HCALL_SHUTDOWN_SOFT_RESET = 5,
} HcallShutdownCode;

typedef struct Hcall Hcall;

typedef struct HcallDomainInfo {
        int domid;
        XvUuid uuid;                    /* the domain handle */
        bool dying, shutdown, paused, blocked, running, hvm;
        unsigned shutdown_code;         /* HCALL_SHUTDOWN_*; meaningful only when shutdown */
        int state;                      /* XVP domain state, see hcall_domain_state() */
        int reason;                     /* its libvirt reason */
        uint64_t memory_kib;            /* tot_pages */
        uint64_t max_memory_kib;        /* max_pages */
        uint64_t cpu_time_ns;
        unsigned online_vcpus;
        unsigned max_vcpu_id;
} HcallDomainInfo;

typedef struct HcallPhysinfo {
        unsigned nr_cpus;               /* online */
        unsigned max_cpu_id;
        unsigned nr_nodes;
        unsigned max_node_id;
        unsigned threads_per_core;
        unsigned cores_per_socket;
        unsigned sockets_per_node;      /* nr_cpus / (threads * cores * nodes), at least 1 */
        unsigned cpu_khz;
        uint64_t total_kib;
        uint64_t free_kib;
        bool hvm_capable;               /* XEN_SYSCTL_PHYSCAP_hvm */
} HcallPhysinfo;

typedef struct HcallVersion {
        unsigned major, minor;
        char extra[32];                 /* XENVER_extraversion, e.g. ".3" or "-rc" */
        unsigned micro;                 /* leading number of extra (".3" → 3), 0 if none */
        char capabilities[HCALL_CAPABILITIES_MAX];      /* "xen-3.0-x86_64 hvm-3.0-x86_32 ..." */
} HcallVersion;

typedef struct HcallVcpuInfo {
        bool online, blocked, running;
        uint64_t cpu_time_ns;
        int cpu;                        /* -1 when offline */
} HcallVcpuInfo;

/* Maps Xen's domain flags to the XVP domain state and reason (libvirt's numbers):
 * dying → shutdown(4); shutdown(crash) → crashed(6) reason panicked; shutdown(other) → shutoff(5)
 * with reason shutdown (poweroff/reboot), saved (suspend) or unknown; paused → paused(3);
 * blocked → blocked(2); otherwise running(1) (a runnable vcpu waiting for a pcpu is running). */
void hcall_domain_state(bool dying, bool shutdown, unsigned shutdown_code, bool paused, bool blocked,
                        int *ret_state, int *ret_reason);
const char *hcall_shutdown_code_to_string(unsigned code);       /* "poweroff", ..., NULL if unknown */

int hcall_open(Hcall **ret, XvError *error);
Hcall *hcall_close(Hcall *h);
DEFINE_CLEANUP_FUNC(Hcall *, hcall_close);

/* Domains. hcall_list_domains() returns every domain (sorted by id) in batched getinfolist
 * calls. hcall_domain_info() gives -ESRCH (XVP_ERR_NO_DOMAIN) when @domid does not exist. */
int hcall_list_domains(Hcall *h, HcallDomainInfo **ret, size_t *ret_n, XvError *error);
/* Domain @domid in @l[0..n), a list sorted by id as hcall_list_domains() returns it; NULL if absent. */
const HcallDomainInfo *hcall_list_find(const HcallDomainInfo *l, size_t n, int domid);
int hcall_domain_info(Hcall *h, int domid, HcallDomainInfo *ret, XvError *error);
int hcall_domain_pause(Hcall *h, int domid, XvError *error);
int hcall_domain_unpause(Hcall *h, int domid, XvError *error);
int hcall_domain_destroy(Hcall *h, int domid, XvError *error);
int hcall_domain_set_max_memory(Hcall *h, int domid, uint64_t kib, XvError *error);
int hcall_domain_set_max_vcpus(Hcall *h, int domid, unsigned n, XvError *error);

/* Vcpus. Affinity maps are libvirt cpumaps (bit n of byte n/8 = pcpu n) of @maplen bytes;
 * bits beyond the host's cpus are ignored on set and cleared on get. */
int hcall_vcpu_info(Hcall *h, int domid, unsigned vcpu, HcallVcpuInfo *ret, XvError *error);
int hcall_vcpu_get_affinity(Hcall *h, int domid, unsigned vcpu, uint8_t *map, size_t maplen, XvError *error);
int hcall_vcpu_set_affinity(Hcall *h, int domid, unsigned vcpu, const uint8_t *map, size_t maplen,
                            XvError *error);

/* Scheduler. */
int hcall_sched_id(Hcall *h, int *ret, XvError *error);
const char *hcall_sched_name(int sched_id);     /* "credit", "credit2", ...; NULL if unknown */
int hcall_sched_credit_get(Hcall *h, int domid, unsigned *ret_weight, unsigned *ret_cap, XvError *error);
int hcall_sched_credit_set(Hcall *h, int domid, unsigned weight, unsigned cap, XvError *error);

/* Host. */
int hcall_physinfo(Hcall *h, HcallPhysinfo *ret, XvError *error);
int hcall_version(Hcall *h, HcallVersion *ret, XvError *error);
int hcall_max_cpus(Hcall *h, int *ret, XvError *error);
/* Free memory (bytes) of nodes [start, start + max) that exist; *ret_n = how many were filled. */
int hcall_node_free_memory(Hcall *h, int start, int max, uint64_t *ret_bytes, int *ret_n, XvError *error);
