/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef XENVIRT_H
#define XENVIRT_H

/*
 * libxenvirt: the client library of xenvirtd.
 *
 * It speaks xenvirtd's RPC protocol (wire-compatible with libvirt's remote protocol) over the
 * daemon's local UNIX sockets, with the same generated XDR code the daemon uses.
 *
 * Conventions, valid for every function below unless its comment says otherwise:
 *
 *  - Return values: 0 (or a documented non-negative value) on success, a negative errno-style
 *    value on failure. On failure *@error, when @error is not NULL, is filled with the
 *    libvirt-compatible code, domain and message (as the daemon sent them, or as the library
 *    determined them: -ETIMEDOUT for a timeout, -ENOTCONN for a closed connection, ...).
 *    Release it with xv_error_clear(). An @error that already holds an error is left as it is
 *    (the first error wins), so one xv_error can collect a sequence of calls.
 *  - Out-parameters named ret* are only written on success. Strings and arrays returned
 *    through them belong to the caller: free strings with free(), arrays with the matching
 *    *_free() function below.
 *  - Thread safety: an xv_conn may be shared by any number of threads. Calls on one
 *    connection run concurrently: each waits only for its own reply (replies are matched by
 *    serial). xv_domain handles are immutable and may be shared too. Reference counting
 *    (xv_conn_ref/unref, xv_domain_ref/unref) is atomic.
 *  - Flags arguments take libvirt's values for the matching API (e.g. VIR_DOMAIN_XML_SECURE
 *    is XV_DOMAIN_XML_SECURE); unknown bits are refused by the daemon.
 *  - Memory sizes are in KiB, times in nanoseconds, as in libvirt.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Errors
 */

typedef struct xv_error {
        int code;               /* libvirt's virErrorNumber (3 = no support, 42 = no domain, ...) */
        int domain;             /* libvirt's virErrorDomain (7 = RPC, 10 = Xen, ...) */
        char *message;          /* the text libvirt clients print after "error: " */
} xv_error;

#define XV_ERROR_NULL ((xv_error) { 0, 0, NULL })

/* Frees the message and resets *@e to XV_ERROR_NULL. */
void xv_error_clear(xv_error *e);
/* Whether @e holds an error. */
bool xv_error_is_set(const xv_error *e);

/* The codes clients most often test for (libvirt's values). */
enum {
        XV_ERR_OK = 0,
        XV_ERR_INTERNAL_ERROR = 1,
        XV_ERR_NO_SUPPORT = 3,
        XV_ERR_NO_CONNECT = 5,          /* a URI no driver serves */
        XV_ERR_INVALID_ARG = 8,
        XV_ERR_OPERATION_FAILED = 9,
        XV_ERR_OPERATION_DENIED = 29,   /* e.g. a write call on a read-only connection */
        XV_ERR_OPERATION_INVALID = 55,
        XV_ERR_NO_DOMAIN = 42,
        XV_ERR_SYSTEM_ERROR = 38,       /* e.g. the socket cannot be reached */
        XV_ERR_RPC = 39,                /* e.g. the connection is closed (-ENOTCONN) */
        XV_ERR_AUTH_FAILED = 45,
        XV_ERR_OPERATION_TIMEOUT = 68,  /* a call outlived xv_conn_set_timeout() (-ETIMEDOUT) */
        XV_ERR_ACCESS_DENIED = 88,
        XV_ERR_AUTH_UNAVAILABLE = 94,
};

/* ---------------------------------------------------------------------------------------------
 * Connections
 */

typedef struct xv_conn xv_conn;

/* xv_conn_open() flags. */
#define XV_CONN_READ_ONLY       (1u << 0)      /* monitoring only; VIR_CONNECT_RO */

/* Default socket paths (a URI's ?socket= overrides them). */
#define XV_SOCKET_RW_DEFAULT    "/run/xenvirt/xenvirtd-sock"
#define XV_SOCKET_RO_DEFAULT    "/run/xenvirt/xenvirtd-sock-ro"

/* Opens a connection. @uri: "xen:///system" (also "xen:///", "xen://"), optionally with
 * "?socket=PATH"; NULL means $XENVIRT_DEFAULT_URI, else "xen:///system". Without ?socket= the
 * read-write socket is used, or the read-only one with XV_CONN_READ_ONLY. Performs the whole
 * handshake: authentication list, polkit authentication when the daemon asks for it (errors:
 * XV_ERR_AUTH_FAILED / XV_ERR_AUTH_UNAVAILABLE), keepalive negotiation, connect-open. The
 * connection starts a private I/O thread that reads replies and events and answers keepalive
 * pings. "xen+unix://" is accepted as a spelling of "xen://", query parameters other than
 * socket= are ignored. Errors as libvirt's: any other URI (another scheme, a host part, a path
 * other than "/" or "/system") fails with XV_ERR_NO_CONNECT and -EINVAL, an empty or over-long
 * socket= with XV_ERR_INVALID_ARG, a socket that cannot be reached with XV_ERR_SYSTEM_ERROR and
 * the connect() errno, a refused CONNECT_OPEN with the daemon's error. */
int xv_conn_open(const char *uri, unsigned flags, xv_conn **ret, xv_error *error);

xv_conn *xv_conn_ref(xv_conn *c);
/* Drops a reference; the last one sends connect-close, stops the I/O thread and frees. Never
 * call it from inside an event callback of the same connection. Returns NULL. */
xv_conn *xv_conn_unref(xv_conn *c);

/* Per-call timeout (default 0 = none: wait as long as the connection lives). A call that times
 * out fails with -ETIMEDOUT; its late reply is dropped. */
int xv_conn_set_timeout(xv_conn *c, uint64_t usec);
/* Client-side keepalive: a ping after @interval_sec seconds of silence, the connection is
 * declared dead after @count unanswered ones (default 5 s, 5; interval 0 disables). */
int xv_conn_set_keepalive(xv_conn *c, unsigned interval_sec, unsigned count);
/* Whether the connection is still usable (not closed by the daemon or keepalive). */
bool xv_conn_is_alive(xv_conn *c);
bool xv_conn_is_read_only(xv_conn *c);

/* The URI the connection was opened with (owned by @c, valid for its life). */
const char *xv_conn_get_uri(xv_conn *c);
int xv_conn_get_hostname(xv_conn *c, char **ret, xv_error *error);
int xv_conn_get_type(xv_conn *c, char **ret, xv_error *error);                 /* "Xen" */
/* Versions are major * 1000000 + minor * 1000 + micro. */
int xv_conn_get_version(xv_conn *c, uint64_t *ret, xv_error *error);           /* the hypervisor's */
int xv_conn_get_lib_version(xv_conn *c, uint64_t *ret, xv_error *error);       /* the daemon's */
int xv_conn_get_capabilities(xv_conn *c, char **ret_xml, xv_error *error);
int xv_conn_get_max_vcpus(xv_conn *c, const char *type, int *ret, xv_error *error);

/* The daemon's view of the host: the backend that serves it and the state of each of its
 * channels. xenvirt's own procedure: a libvirt daemon answers XV_ERR_NO_SUPPORT. */
typedef struct xv_host_status {
        char backend[16];               /* "xend" */
        bool xend_up;
        int xend_config_version;        /* 0 while XenD is unreachable */
        bool xenstore_up;
        bool hypercalls_up;
        bool xm_dir_active;             /* inactive domains live in the XM config directory */
        bool polkit_auth;               /* connections are authorized by polkit */
        bool polkit_acls;               /* every call is checked with polkit */
} xv_host_status;

int xv_conn_get_host_status(xv_conn *c, xv_host_status *ret, xv_error *error);

/* ---------------------------------------------------------------------------------------------
 * Host
 */

typedef struct xv_node_info {
        char model[32];
        uint64_t memory_kib;
        unsigned cpus;
        unsigned mhz;
        unsigned nodes;
        unsigned sockets;
        unsigned cores;
        unsigned threads;
} xv_node_info;

int xv_node_get_info(xv_conn *c, xv_node_info *ret, xv_error *error);
int xv_node_get_free_memory(xv_conn *c, uint64_t *ret_bytes, xv_error *error);
/* Free memory in bytes of cells @start_cell .. @start_cell + @max_cells - 1; *@ret_n cells were
 * filled into the caller's @ret array (at least @max_cells long). */
int xv_node_get_cells_free_memory(xv_conn *c, int start_cell, int max_cells, uint64_t *ret, int *ret_n,
                                  xv_error *error);

/* Native configuration formats: "xen-sxpr", "xen-xm" (and later "xen-xl"). */
int xv_conn_domain_xml_from_native(xv_conn *c, const char *format, const char *config, char **ret_xml,
                                   xv_error *error);
int xv_conn_domain_xml_to_native(xv_conn *c, const char *format, const char *xml, char **ret_config,
                                 xv_error *error);

/* ---------------------------------------------------------------------------------------------
 * Domain handles
 */

typedef struct xv_domain xv_domain;

xv_domain *xv_domain_ref(xv_domain *d);
xv_domain *xv_domain_unref(xv_domain *d);      /* returns NULL */

/* The identity as the daemon reported it when the handle was made; the id is -1 for a domain
 * that was not running then. Strings are owned by the handle. */
const char *xv_domain_get_name(xv_domain *d);
void xv_domain_get_uuid(xv_domain *d, uint8_t ret[16]);
const char *xv_domain_get_uuid_string(xv_domain *d);    /* "xxxxxxxx-xxxx-..." */
int xv_domain_get_id(xv_domain *d);
xv_conn *xv_domain_get_conn(xv_domain *d);              /* not a new reference */

/* Lookups fail with XV_ERR_NO_DOMAIN when there is no such domain. */
int xv_domain_lookup_by_name(xv_conn *c, const char *name, xv_domain **ret, xv_error *error);
int xv_domain_lookup_by_id(xv_conn *c, int id, xv_domain **ret, xv_error *error);
int xv_domain_lookup_by_uuid(xv_conn *c, const uint8_t uuid[16], xv_domain **ret, xv_error *error);
/* Accepts the 36-character form with or without dashes. */
int xv_domain_lookup_by_uuid_string(xv_conn *c, const char *uuid, xv_domain **ret, xv_error *error);

/* Listing. Flags as virConnectListAllDomains: */
#define XV_LIST_DOMAINS_ACTIVE          (1u << 0)
#define XV_LIST_DOMAINS_INACTIVE        (1u << 1)
#define XV_LIST_DOMAINS_PERSISTENT      (1u << 2)
#define XV_LIST_DOMAINS_TRANSIENT       (1u << 3)
#define XV_LIST_DOMAINS_RUNNING         (1u << 4)
#define XV_LIST_DOMAINS_PAUSED          (1u << 5)
#define XV_LIST_DOMAINS_SHUTOFF         (1u << 6)
#define XV_LIST_DOMAINS_OTHER           (1u << 7)
#define XV_LIST_DOMAINS_AUTOSTART       (1u << 10)
#define XV_LIST_DOMAINS_NO_AUTOSTART    (1u << 11)

/* *@ret is a NULL-terminated array of handles, *@ret_n its length (may be NULL); 0 flags means
 * every domain. The order is the daemon's (running domains by id, then inactive by name). */
int xv_conn_list_all_domains(xv_conn *c, unsigned flags, xv_domain ***ret, size_t *ret_n, xv_error *error);
void xv_domain_list_free(xv_domain **list);
int xv_conn_num_of_domains(xv_conn *c, int *ret, xv_error *error);             /* running */
int xv_conn_num_of_defined_domains(xv_conn *c, int *ret, xv_error *error);     /* inactive */

/* ---------------------------------------------------------------------------------------------
 * Domain state and information
 */

typedef enum xv_domain_state {
        XV_DOMAIN_NOSTATE = 0,
        XV_DOMAIN_RUNNING = 1,
        XV_DOMAIN_BLOCKED = 2,
        XV_DOMAIN_PAUSED = 3,
        XV_DOMAIN_SHUTDOWN = 4,
        XV_DOMAIN_SHUTOFF = 5,
        XV_DOMAIN_CRASHED = 6,
        XV_DOMAIN_PMSUSPENDED = 7,
} xv_domain_state;

/* virsh's words: "running", "idle", "paused", "in shutdown", "shut off", "crashed",
 * "pmsuspended", "no state". Static strings. */
const char *xv_domain_state_to_string(int state);
/* virsh's words for a (state, reason) pair, e.g. "booted", "user", "destroyed"; "unknown" for
 * values the library does not know. Static strings. */
const char *xv_domain_state_reason_to_string(int state, int reason);

typedef struct xv_domain_info {
        int state;                      /* xv_domain_state */
        uint64_t max_mem_kib;
        uint64_t memory_kib;
        unsigned nr_virt_cpu;
        uint64_t cpu_time_ns;
} xv_domain_info;

int xv_domain_get_info(xv_domain *d, xv_domain_info *ret, xv_error *error);
int xv_domain_get_state(xv_domain *d, int *ret_state, int *ret_reason, xv_error *error);
int xv_domain_is_active(xv_domain *d, bool *ret, xv_error *error);
int xv_domain_is_persistent(xv_domain *d, bool *ret, xv_error *error);
int xv_domain_get_os_type(xv_domain *d, char **ret, xv_error *error);
int xv_domain_get_max_memory(xv_domain *d, uint64_t *ret_kib, xv_error *error);
int xv_domain_get_max_vcpus(xv_domain *d, int *ret, xv_error *error);

#define XV_DOMAIN_XML_SECURE            (1u << 0)
#define XV_DOMAIN_XML_INACTIVE          (1u << 1)
int xv_domain_get_xml_desc(xv_domain *d, unsigned flags, char **ret_xml, xv_error *error);

int xv_domain_get_autostart(xv_domain *d, bool *ret, xv_error *error);
int xv_domain_set_autostart(xv_domain *d, bool autostart, xv_error *error);

/* ---------------------------------------------------------------------------------------------
 * Lifecycle
 */

/* Define (persistent, inactive) and create (transient, running) from domain XML; *@ret (may be
 * NULL) receives a handle of the new domain. */
int xv_domain_define_xml(xv_conn *c, const char *xml, unsigned flags, xv_domain **ret, xv_error *error);
#define XV_DOMAIN_START_PAUSED          (1u << 0)
int xv_domain_create_xml(xv_conn *c, const char *xml, unsigned flags, xv_domain **ret, xv_error *error);
/* Starts a defined domain ("virsh start"); flags: XV_DOMAIN_START_PAUSED. */
int xv_domain_create(xv_domain *d, unsigned flags, xv_error *error);

#define XV_DOMAIN_UNDEFINE_MANAGED_SAVE (1u << 0)
int xv_domain_undefine(xv_domain *d, unsigned flags, xv_error *error);
int xv_domain_shutdown(xv_domain *d, unsigned flags, xv_error *error);
int xv_domain_reboot(xv_domain *d, unsigned flags, xv_error *error);
int xv_domain_destroy(xv_domain *d, unsigned flags, xv_error *error);
int xv_domain_suspend(xv_domain *d, xv_error *error);
int xv_domain_resume(xv_domain *d, xv_error *error);

/* Save, restore and dump take paths on the daemon's host. @dxml may be NULL. */
int xv_domain_save(xv_domain *d, const char *path, const char *dxml, unsigned flags, xv_error *error);
int xv_domain_restore(xv_conn *c, const char *path, const char *dxml, unsigned flags, xv_error *error);
int xv_domain_managed_save(xv_domain *d, unsigned flags, xv_error *error);
int xv_domain_has_managed_save(xv_domain *d, bool *ret, xv_error *error);
int xv_domain_managed_save_remove(xv_domain *d, xv_error *error);
#define XV_DUMP_CRASH                   (1u << 0)
#define XV_DUMP_LIVE                    (1u << 1)
int xv_domain_core_dump(xv_domain *d, const char *path, unsigned flags, xv_error *error);

/* ---------------------------------------------------------------------------------------------
 * Resources
 */

/* Flags as virDomainModificationImpact / virDomainMemoryModFlags / virDomainVcpuFlags. */
#define XV_DOMAIN_AFFECT_CURRENT        0u
#define XV_DOMAIN_AFFECT_LIVE           (1u << 0)
#define XV_DOMAIN_AFFECT_CONFIG         (1u << 1)
#define XV_DOMAIN_MEM_MAXIMUM           (1u << 2)
#define XV_DOMAIN_VCPU_MAXIMUM          (1u << 2)

int xv_domain_set_memory(xv_domain *d, uint64_t kib, unsigned flags, xv_error *error);
int xv_domain_set_max_memory(xv_domain *d, uint64_t kib, xv_error *error);
int xv_domain_set_vcpus(xv_domain *d, unsigned n, unsigned flags, xv_error *error);
/* "virsh vcpucount": the count for one combination of flags. */
int xv_domain_get_vcpus_flags(xv_domain *d, unsigned flags, int *ret, xv_error *error);

typedef struct xv_vcpu_info {
        unsigned number;
        int state;                      /* 0 offline, 1 running, 2 blocked */
        uint64_t cpu_time_ns;
        int cpu;                        /* the physical CPU it runs on, -1 if none */
        uint8_t *cpumap;                /* affinity bitmap, cpumap_len bytes, bit i = CPU i */
} xv_vcpu_info;

/* Every vCPU of a running domain, with affinity maps @cpumap_len bytes each (0: the library
 * sizes them for the host's CPUs). Free with xv_vcpu_info_free(*ret, *ret_n). */
int xv_domain_get_vcpus(xv_domain *d, xv_vcpu_info **ret, size_t *ret_n, size_t *ret_cpumap_len,
                        xv_error *error);
void xv_vcpu_info_free(xv_vcpu_info *list, size_t n);
int xv_domain_pin_vcpu(xv_domain *d, unsigned vcpu, const uint8_t *cpumap, size_t cpumap_len, unsigned flags,
                       xv_error *error);

/* Devices, from device XML ("<disk ...>", "<interface ...>"). */
int xv_domain_attach_device(xv_domain *d, const char *xml, unsigned flags, xv_error *error);
int xv_domain_detach_device(xv_domain *d, const char *xml, unsigned flags, xv_error *error);
int xv_domain_update_device(xv_domain *d, const char *xml, unsigned flags, xv_error *error);

/* ---------------------------------------------------------------------------------------------
 * Typed parameters (scheduler parameters, domain statistics)
 */

typedef enum xv_param_type {
        XV_PARAM_INT = 1,
        XV_PARAM_UINT = 2,
        XV_PARAM_LLONG = 3,
        XV_PARAM_ULLONG = 4,
        XV_PARAM_DOUBLE = 5,
        XV_PARAM_BOOLEAN = 6,
        XV_PARAM_STRING = 7,
} xv_param_type;

#define XV_PARAM_FIELD_LENGTH 80

typedef struct xv_param {
        char field[XV_PARAM_FIELD_LENGTH];
        int type;                       /* xv_param_type */
        union {
                int i;
                unsigned ui;
                long long l;
                unsigned long long ul;
                double d;
                bool b;
                char *s;                /* owned by the array */
        } value;
} xv_param;

void xv_params_free(xv_param *params, size_t n);

/* "credit" etc.; *@ret_nparams the number of parameters the scheduler has. */
int xv_domain_get_scheduler_type(xv_domain *d, char **ret, int *ret_nparams, xv_error *error);
int xv_domain_get_scheduler_params(xv_domain *d, unsigned flags, xv_param **ret, size_t *ret_n, xv_error *error);
int xv_domain_set_scheduler_params(xv_domain *d, const xv_param *params, size_t n, unsigned flags,
                                   xv_error *error);

typedef struct xv_block_stats {
        int64_t rd_req, rd_bytes, wr_req, wr_bytes, errs;       /* -1: not available */
} xv_block_stats;
typedef struct xv_interface_stats {
        int64_t rx_bytes, rx_packets, rx_errs, rx_drop;
        int64_t tx_bytes, tx_packets, tx_errs, tx_drop;
} xv_interface_stats;

/* @device: a disk target ("xvda") / an interface name ("vif3.0"), as virsh takes them. */
int xv_domain_block_stats(xv_domain *d, const char *device, xv_block_stats *ret, xv_error *error);
int xv_domain_interface_stats(xv_domain *d, const char *device, xv_interface_stats *ret, xv_error *error);

/* "virsh domstats": one record per domain. @stats: VIR_DOMAIN_STATS_* bits (0: all the daemon
 * has); @doms NULL: every domain matching @flags (XV_LIST_DOMAINS_*). */
typedef struct xv_domain_stats {
        xv_domain *dom;
        xv_param *params;
        size_t n_params;
} xv_domain_stats;

int xv_conn_get_all_domain_stats(xv_conn *c, xv_domain *const *doms, size_t n_doms, unsigned stats,
                                 unsigned flags, xv_domain_stats **ret, size_t *ret_n, xv_error *error);
void xv_domain_stats_free(xv_domain_stats *list, size_t n);

/* ---------------------------------------------------------------------------------------------
 * Events
 *
 * Callbacks never run inside the library's I/O thread. They run where the application
 * dispatches them: poll xv_conn_get_event_fd() for POLLIN and call xv_conn_dispatch_events(),
 * or let xv_conn_start_event_thread() do that on a helper thread. A callback may call any
 * function of the library on the same connection except xv_conn_unref() of its last reference.
 */

/* Lifecycle event types and details: libvirt's virDomainEventType / *DetailType values. */
typedef enum xv_event_type {
        XV_EVENT_DEFINED = 0,
        XV_EVENT_UNDEFINED = 1,
        XV_EVENT_STARTED = 2,
        XV_EVENT_SUSPENDED = 3,
        XV_EVENT_RESUMED = 4,
        XV_EVENT_STOPPED = 5,
        XV_EVENT_SHUTDOWN = 6,
        XV_EVENT_PMSUSPENDED = 7,
        XV_EVENT_CRASHED = 8,
} xv_event_type;

/* virsh's words ("Started", "Stopped" / "Booted", "Destroyed", ...). Static strings. */
const char *xv_event_type_to_string(int event);
const char *xv_event_detail_to_string(int event, int detail);

/* @dom is valid during the call; take a reference to keep it. */
typedef void (*xv_lifecycle_cb)(xv_conn *c, xv_domain *dom, int event, int detail, void *userdata);
typedef void (*xv_reboot_cb)(xv_conn *c, xv_domain *dom, void *userdata);

/* Registers a callback for one domain (@dom) or all (@dom NULL). *@ret_id identifies it for
 * deregistration. @free_userdata (may be NULL) runs when the registration ends. */
int xv_conn_register_lifecycle_event(xv_conn *c, xv_domain *dom, xv_lifecycle_cb cb, void *userdata,
                                     void (*free_userdata)(void *), int *ret_id, xv_error *error);
int xv_conn_register_reboot_event(xv_conn *c, xv_domain *dom, xv_reboot_cb cb, void *userdata,
                                  void (*free_userdata)(void *), int *ret_id, xv_error *error);
int xv_conn_deregister_event(xv_conn *c, int id, xv_error *error);

/* A file descriptor (owned by @c) that polls readable while events wait to be dispatched, and
 * also when the connection dies (then xv_conn_is_alive() is false). */
int xv_conn_get_event_fd(xv_conn *c);
/* Runs the callbacks of every queued event in the calling thread; returns how many ran. Only
 * one thread dispatches at a time (others wait). */
int xv_conn_dispatch_events(xv_conn *c);
/* A helper thread that dispatches events as they come, until the connection is freed. */
int xv_conn_start_event_thread(xv_conn *c, xv_error *error);

/* A callback for the connection's end (daemon gone, keepalive timeout); @reason: 0 error,
 * 1 end of file, 2 keepalive, 3 client request (libvirt's virConnectCloseReason). Runs once,
 * dispatched like events. */
typedef void (*xv_close_cb)(xv_conn *c, int reason, void *userdata);
int xv_conn_set_close_callback(xv_conn *c, xv_close_cb cb, void *userdata);

#ifdef __cplusplus
}
#endif

#endif
