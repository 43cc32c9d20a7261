/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * XvHypervisor: the driver's backend interface. The daemon's handlers call only these functions;
 * a backend implements them with ONE designated channel per operation and domain state (never
 * "try each channel in turn"). Today's backend is "xend" (XenD + xenstore + hypercalls + XM
 * files, src/xen/xv-backend-xend.c); a "libxl" backend for Xen >= 4.5 comes later behind the
 * same interface.
 *
 * Threading: every function may be called concurrently from the daemon's worker threads, on the
 * same or on different domains. Operations that wait on XenD, a guest or the disk have deadlines
 * (HvConfig.xend_timeout_usec). No backend lock is held across a XenD request, so a hung XenD call
 * never blocks list/info of other domains (those are served from hypercalls and xenstore).
 * Events are not delivered from a backend thread: the daemon polls hypervisor_event_fd() on its
 * loop and calls hypervisor_process_events(), which runs the callback on the caller's thread.
 *
 * Units: memory in KiB, cpu time in nanoseconds. Domain states, reasons, events and flags use
 * libvirt's numbers (the XVP_* enums of protocol/xenvirt_protocol.x), so handlers pass them
 * through unchanged.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xv-domain-def.h"
#include "xv-domain-xml.h"
#include "xv-error.h"
#include "xv-macro.h"
#include "xv-uuid.h"

typedef struct XvHypervisor XvHypervisor;

typedef enum HvBackendType {
        HV_BACKEND_AUTO,                /* XenD reachable → xend; Xen >= 4.5 with libxl → libxl */
        HV_BACKEND_XEND,
        HV_BACKEND_LIBXL,
        _HV_BACKEND_TYPE_MAX,
        _HV_BACKEND_TYPE_INVALID = -EINVAL,
} HvBackendType;

const char *hv_backend_type_to_string(HvBackendType t);
HvBackendType hv_backend_type_from_string(const char *s);

typedef struct HvConfig {
        HvBackendType backend;
        const char *xend_socket;        /* default /var/lib/xend/xend-socket */
        const char *xend_tcp;           /* "host:port": only when explicitly configured; insecure */
        uint64_t xend_timeout_usec;     /* per XenD request; default 30 s */
        const char *xm_dir;             /* default /etc/xen */
        const char *host_root;          /* prefix for /sys, /proc host files; default "" (= "/") */
        const char *managed_save_dir;   /* default /var/lib/xenvirt/save */
        const char *xl_dir;             /* libxl: persistent definitions (xl format); default /etc/xen/xenvirt */
        bool read_only;                 /* open xenstore read-only, refuse writes */
} HvConfig;

/* The channels' state, for status reporting (nodeinfo, sd_notify STATUS). */
typedef struct HvStatus {
        bool xend_ok;
        int xend_config_version;        /* 0 while XenD is unreachable */
        bool xenstore_ok;
        bool hypercalls_ok;
        bool xm_dir_active;             /* xend config version <= 2 */
        const char *backend;            /* "xend", "libxl" */
} HvStatus;

/* A domain's identity as clients name it (libvirt's remote_nonnull_domain). id is -1 when inactive. */
typedef struct HvDomainRef {
        char *name;
        XvUuid uuid;
        int id;
} HvDomainRef;

void hv_domain_ref_done(HvDomainRef *ref);
int hv_domain_ref_copy(const HvDomainRef *src, HvDomainRef *dst);

typedef struct HvDomainInfo {
        int state;                      /* XVP domain state: 1 running, 2 blocked, 3 paused, 4 shutdown, 5 shutoff, 6 crashed */
        int reason;                     /* the state's reason (libvirt numbering) */
        uint64_t max_memory_kib;
        uint64_t memory_kib;
        unsigned nr_vcpus;
        uint64_t cpu_time_ns;
} HvDomainInfo;

/* One row of list-all-domains: identity plus what the flags filter on. */
typedef struct HvDomainSummary {
        HvDomainRef ref;
        HvDomainInfo info;
        bool persistent;
        bool autostart;
        bool has_managed_save;
} HvDomainSummary;

void hv_domain_summaries_free(HvDomainSummary *list, size_t n);

typedef struct HvNodeInfo {
        char model[32];                 /* "x86_64" */
        uint64_t memory_kib;
        unsigned cpus;
        unsigned mhz;
        unsigned nodes;
        unsigned sockets;               /* per node */
        unsigned cores;                 /* per socket */
        unsigned threads;               /* per core */
} HvNodeInfo;

typedef struct HvVcpuInfo {
        unsigned number;
        int state;                      /* 0 offline, 1 running, 2 blocked */
        uint64_t cpu_time_ns;
        int cpu;                        /* -1 when offline */
} HvVcpuInfo;

typedef struct HvBlockStats {
        int64_t rd_req, rd_bytes, wr_req, wr_bytes, errs;       /* -1 = unknown */
} HvBlockStats;

typedef struct HvInterfaceStats {
        int64_t rx_bytes, rx_packets, rx_errs, rx_drop;
        int64_t tx_bytes, tx_packets, tx_errs, tx_drop;
} HvInterfaceStats;

typedef struct HvSchedParams {
        unsigned weight;                /* credit: 1..65535 */
        unsigned cap;                   /* credit: 0..65534 (0 = no cap) */
} HvSchedParams;

/* Flags (libvirt's values). */
#define HV_AFFECT_CURRENT        0u
#define HV_AFFECT_LIVE           1u
#define HV_AFFECT_CONFIG         2u
#define HV_MEM_MAXIMUM           4u
#define HV_VCPU_MAXIMUM          4u
#define HV_XML_SECURE            1u
#define HV_XML_INACTIVE          2u
#define HV_DUMP_CRASH            1u
#define HV_DUMP_LIVE             2u

/* The domain XML formatting flags of dumpxml's HV_XML_* @flags; XVP_ERR_INVALID_ARG for any other
 * bit. @ret may be NULL (the check alone). */
int hv_xml_flags(unsigned flags, DomainXmlFlags *ret, XvError *error);

/* A lifecycle event (libvirt's VIR_DOMAIN_EVENT_* and details). */
typedef struct HvEvent {
        HvDomainRef ref;
        int event;                      /* 0 defined, 1 undefined, 2 started, 3 suspended, 4 resumed, 5 stopped, 6 shutdown, 7 pmsuspended, 8 crashed */
        int detail;
} HvEvent;

typedef void (*HvEventCallback)(XvHypervisor *h, const HvEvent *event, void *userdata);

/* Lifetime. Opening succeeds when at least one channel works; hypervisor_get_status() says which. */
int hypervisor_open(const HvConfig *config, XvHypervisor **ret, XvError *error);
XvHypervisor *hypervisor_close(XvHypervisor *h);
DEFINE_CLEANUP_FUNC(XvHypervisor *, hypervisor_close);
void hypervisor_get_status(XvHypervisor *h, HvStatus *ret);
/* The same after asking the channels now (XenD's node request): may block up to the XenD timeout,
 * so worker threads only. */
void hypervisor_probe_status(XvHypervisor *h, HvStatus *ret);

/* Events: an fd to poll for POLLIN (xenstore watches, inotify on the XM directory), and the call
 * that reads it and runs @callback for each lifecycle event, in order, once each. */
int hypervisor_set_event_callback(XvHypervisor *h, HvEventCallback callback, void *userdata);
int hypervisor_event_fd(XvHypervisor *h);
int hypervisor_process_events(XvHypervisor *h);

/* Host. */
const char *hypervisor_get_type(XvHypervisor *h);                       /* "Xen" */
int hypervisor_get_version(XvHypervisor *h, uint64_t *ret, XvError *error);    /* major*1000000+minor*1000+micro */
int hypervisor_get_hostname(XvHypervisor *h, char **ret, XvError *error);
int hypervisor_get_capabilities(XvHypervisor *h, char **ret_xml, XvError *error);
int hypervisor_get_max_vcpus(XvHypervisor *h, const char *type, int *ret, XvError *error);
int hypervisor_node_get_info(XvHypervisor *h, HvNodeInfo *ret, XvError *error);
int hypervisor_node_get_free_memory(XvHypervisor *h, uint64_t *ret_bytes, XvError *error);
int hypervisor_node_get_cells_free_memory(XvHypervisor *h, int start_cell, int max_cells,
                                          uint64_t *ret_bytes, int *ret_n, XvError *error);
int hypervisor_node_get_cpu_map(XvHypervisor *h, uint8_t **ret_map, size_t *ret_len,
                                unsigned *ret_online, int *ret_cpus, XvError *error);
int hypervisor_get_xend_config_version(XvHypervisor *h);             /* for native formats */

/* Listing and lookups. list_all is one pass (no N+1 XenD requests). Flags are libvirt's
 * CONNECT_LIST_DOMAINS_* filter bits; 0 = all. */
int hypervisor_list_all_domains(XvHypervisor *h, unsigned flags, HvDomainSummary **ret, size_t *ret_n,
                                XvError *error);
int hypervisor_list_domain_ids(XvHypervisor *h, int **ret, size_t *ret_n, XvError *error);
int hypervisor_list_defined_names(XvHypervisor *h, char ***ret, XvError *error);
int hypervisor_lookup_by_id(XvHypervisor *h, int id, HvDomainRef *ret, XvError *error);
int hypervisor_lookup_by_name(XvHypervisor *h, const char *name, HvDomainRef *ret, XvError *error);
int hypervisor_lookup_by_uuid(XvHypervisor *h, const XvUuid *uuid, HvDomainRef *ret, XvError *error);

/* Domain operations. @dom is what the client sent (name + uuid + id); the backend resolves it by
 * UUID first and answers XVP_ERR_NO_DOMAIN when it is gone. Operations that create or change a
 * domain return its (new) identity through @ret_ref where given. */
int hypervisor_domain_get_info(XvHypervisor *h, const HvDomainRef *dom, HvDomainInfo *ret, XvError *error);
int hypervisor_domain_get_state(XvHypervisor *h, const HvDomainRef *dom, int *ret_state, int *ret_reason,
                                XvError *error);
int hypervisor_domain_get_def(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, DomainDef **ret,
                              XvError *error);
/* dumpxml: the domain's XML for HV_XML_* @flags (a backend may serve it from a cache). */
int hypervisor_domain_get_xml(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, char **ret_xml,
                              XvError *error);
int hypervisor_domain_get_os_type(XvHypervisor *h, const HvDomainRef *dom, char **ret, XvError *error);
int hypervisor_domain_is_active(XvHypervisor *h, const HvDomainRef *dom, bool *ret, XvError *error);
int hypervisor_domain_is_persistent(XvHypervisor *h, const HvDomainRef *dom, bool *ret, XvError *error);

int hypervisor_domain_define(XvHypervisor *h, const DomainDef *def, HvDomainRef *ret_ref, XvError *error);
int hypervisor_domain_undefine(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
int hypervisor_domain_create_xml(XvHypervisor *h, const DomainDef *def, unsigned flags, HvDomainRef *ret_ref,
                                 XvError *error);
int hypervisor_domain_create(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, HvDomainRef *ret_ref,
                             XvError *error);
int hypervisor_domain_suspend(XvHypervisor *h, const HvDomainRef *dom, XvError *error);
int hypervisor_domain_resume(XvHypervisor *h, const HvDomainRef *dom, XvError *error);
int hypervisor_domain_shutdown(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
int hypervisor_domain_reboot(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
int hypervisor_domain_destroy(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
int hypervisor_domain_save(XvHypervisor *h, const HvDomainRef *dom, const char *path, XvError *error);
int hypervisor_domain_restore(XvHypervisor *h, const char *path, XvError *error);
int hypervisor_domain_managed_save(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
int hypervisor_domain_has_managed_save(XvHypervisor *h, const HvDomainRef *dom, bool *ret, XvError *error);
int hypervisor_domain_managed_save_remove(XvHypervisor *h, const HvDomainRef *dom, XvError *error);
int hypervisor_domain_core_dump(XvHypervisor *h, const HvDomainRef *dom, const char *path, unsigned flags,
                                XvError *error);
int hypervisor_domain_set_memory(XvHypervisor *h, const HvDomainRef *dom, uint64_t kib, unsigned flags,
                                 XvError *error);
int hypervisor_domain_set_vcpus(XvHypervisor *h, const HvDomainRef *dom, unsigned n, unsigned flags,
                                XvError *error);
int hypervisor_domain_get_vcpus_flags(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, int *ret,
                                      XvError *error);
/* Fills up to @max_info entries and, when @maplen > 0, @max_info cpumaps of @maplen bytes each. */
int hypervisor_domain_get_vcpus(XvHypervisor *h, const HvDomainRef *dom, int max_info, int maplen,
                                HvVcpuInfo **ret_info, size_t *ret_n, uint8_t **ret_maps, XvError *error);
int hypervisor_domain_pin_vcpu(XvHypervisor *h, const HvDomainRef *dom, unsigned vcpu, const uint8_t *map,
                               size_t maplen, unsigned flags, XvError *error);
int hypervisor_domain_get_vcpu_pin_info(XvHypervisor *h, const HvDomainRef *dom, int ncpumaps, int maplen,
                                        unsigned flags, uint8_t **ret_maps, int *ret_n, XvError *error);
int hypervisor_domain_get_autostart(XvHypervisor *h, const HvDomainRef *dom, bool *ret, XvError *error);
int hypervisor_domain_set_autostart(XvHypervisor *h, const HvDomainRef *dom, bool autostart, XvError *error);
int hypervisor_domain_attach_device(XvHypervisor *h, const HvDomainRef *dom, const char *xml, unsigned flags,
                                    XvError *error);
int hypervisor_domain_detach_device(XvHypervisor *h, const HvDomainRef *dom, const char *xml, unsigned flags,
                                    XvError *error);
int hypervisor_domain_update_device(XvHypervisor *h, const HvDomainRef *dom, const char *xml, unsigned flags,
                                    XvError *error);
int hypervisor_domain_block_stats(XvHypervisor *h, const HvDomainRef *dom, const char *path, HvBlockStats *ret,
                                  XvError *error);
int hypervisor_domain_interface_stats(XvHypervisor *h, const HvDomainRef *dom, const char *path,
                                      HvInterfaceStats *ret, XvError *error);
int hypervisor_domain_get_scheduler_type(XvHypervisor *h, const HvDomainRef *dom, char **ret, int *ret_nparams,
                                         XvError *error);
int hypervisor_domain_get_sched_params(XvHypervisor *h, const HvDomainRef *dom, HvSchedParams *ret,
                                       XvError *error);
/* Only the fields whose bits are set in @mask change (1 = weight, 2 = cap). */
int hypervisor_domain_set_sched_params(XvHypervisor *h, const HvDomainRef *dom, const HvSchedParams *params,
                                       unsigned mask, XvError *error);
/* Migration v1 through XenD's op=migrate: uri is "host", "host:port" or "xenmigr://host[:port]". */
int hypervisor_domain_migrate_perform(XvHypervisor *h, const HvDomainRef *dom, const char *uri, unsigned flags,
                                      XvError *error);
