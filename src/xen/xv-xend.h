/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Typed XenD operations (the endpoint table of xen-driver.md §2.3) over xv-xend-http.
 *
 * @d in the domain operations is what XenD accepts after /xend/domain/: a name, a numeric id or a
 * UUID string. It is percent-encoded into the path; an empty identifier, "." / ".." or one holding
 * '/' is refused with XVP_ERR_INVALID_ARG before any request. Every form value is URL-encoded.
 *
 * Memory arguments are KiB (the driver's unit); XenD wants MiB, so they are rounded up. A 404 on a
 * domain is XVP_ERR_NO_DOMAIN; other failures carry XenD's message (see xv-xend-http.h).
 *
 * Threading: a Xend holds immutable configuration plus the detected xend config version, which is
 * cached atomically; any number of threads may call any operation concurrently. Every call opens
 * its own connection and blocks the calling thread up to the configured timeout.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xv-error.h"
#include "xv-hypervisor.h"
#include "xv-macro.h"
#include "xv-sexpr.h"
#include "xv-xend-http.h"

#define XEND_DOMAIN_NAMES_MAX 65536U            /* names in one domain list */
#define XEND_MIGRATE_PORT_DEFAULT 0             /* 0 = XenD's relocation port (8002) */

typedef struct Xend Xend;

/* See xend_http_new() for the transport arguments. Makes no request. */
int xend_new(const char *socket_path, const char *tcp_hostport, uint64_t timeout_usec, Xend **ret);
Xend *xend_free(Xend *x);
DEFINE_CLEANUP_FUNC(Xend *, xend_free);

bool xend_is_insecure(const Xend *x);
const XendHttp *xend_get_http(const Xend *x);

/* Raw requests for anything not wrapped below: @path is the full path (with query), @form_body
 * NULL for GET. The reply is returned only on success (xend_http_call()). */
int xend_request(Xend *x, const char *method, const char *path, const char *form_body, XendReply **ret,
                 XvError *error);
/* The same, parsing the successful reply body as one S-expression: a body that does not parse is
 * XVP_ERR_INTERNAL ("Invalid S-expression from XenD for '<path>': ..."). */
int xend_request_sexpr(Xend *x, const char *method, const char *path, const char *form_body, Sexpr **ret,
                       XvError *error);

/* ---- host */

/* GET /xend/node/. */
int xend_get_node(Xend *x, Sexpr **ret, XvError *error);

/* node/xend_config_format (absent ⇒ 1, as on Xen <= 3.0.2). Asks XenD the first time, then
 * returns the cached value. */
int xend_detect_config_version(Xend *x, int *ret, XvError *error);
/* The cached version without a request: 0 when not detected yet. */
int xend_get_config_version(const Xend *x);
/* Forgets the cached version (XenD restarted, maybe upgraded). */
void xend_reset_config_version(Xend *x);

typedef struct XendNodeInfo {
        HvNodeInfo node;                /* model (machine), memory_kib, cpus, mhz, nodes, sockets per node,
                                         * cores per socket, threads per core */
        uint64_t free_memory_kib;       /* UINT64_MAX when XenD does not say */
        unsigned xen_major;
        unsigned xen_minor;
        char *xen_extra;                /* ".4" or "-rc1"; NULL when absent */
        char *xen_caps;                 /* "xen-3.0-x86_64 hvm-3.0-x86_32 ..."; NULL when absent */
        char *xen_scheduler;            /* "credit", "sedf"; NULL when absent */
        char *node_to_cpu;              /* raw, e.g. "node0:0-3\nnode1:4-7"; NULL when absent */
        int xend_config_format;         /* 1 when absent */
} XendNodeInfo;

void xend_node_info_done(XendNodeInfo *info);

/* Parses a (node ...) reply. Missing counts are derived the way XenD would have computed them
 * (Xen 3.2 changed sockets_per_node from host-wide to per node; see the function). A missing or
 * malformed nr_cpus / total_memory is XVP_ERR_INTERNAL. */
int xend_node_info_from_sexpr(const Sexpr *node, XendNodeInfo *ret, XvError *error);
/* GET /xend/node/ + the above. Also caches the config version. */
int xend_node_info(Xend *x, XendNodeInfo *ret, XvError *error);

#define XEND_CPUS_MAX 4096U                     /* host cpus we accept in node_to_cpu */
#define XEND_NODES_MAX 1024U

/* Parses node_to_cpu ("node0:0-3,8\nnode1:4-7", lines possibly indented; "node1:no cpus") into a
 * new array of @nr_cpus entries: the NUMA node of each cpu, -1 for a cpu no node lists. A cpu or
 * node out of range, or anything unparsable, is XVP_ERR_INTERNAL. */
int xend_parse_node_to_cpu(const char *text, unsigned nr_cpus, int **ret_cpu_node, XvError *error);

/* ---- domain lists */

/* GET /xend/domain (running domains) or ?state=halted (defined, inactive: needs config version >= 3,
 * XVP_ERR_NO_SUPPORT before). NULL-terminated vector, possibly empty. */
int xend_list_domain_names(Xend *x, bool halted, char ***ret, XvError *error);

/* One request for every domain with its details (GET /xend/domain?detail=1, with state=all when
 * @include_halted and the config version is >= 3). Returns (domains (domain ...) (domain ...) ...):
 * SEXPR_FOREACH_CHILD() visits the (domain ...) expressions. */
int xend_list_domains_detail(Xend *x, bool include_halted, Sexpr **ret, XvError *error);
/* The parser of that reply, exposed for the fuzzer: the outer list is split into items before
 * parsing, so SEXPR_SIZE_MAX bounds each domain rather than the whole list (thousands of domains
 * are several MiB; the reply is bounded by XEND_REPLY_SIZE_MAX). At most XEND_DOMAIN_NAMES_MAX
 * items. */
int xend_parse_list_detail(const char *body, size_t size, Sexpr **ret, XvError *error);

/* The same request, but @f is called on each (domain ...) as it is parsed and the tree is freed
 * after the call: the listing never exists as one tree (about 7 KiB per domain in small
 * allocations: 7 MiB for 1000 domains, for a reply of 275 KiB). A negative return of @f stops the
 * walk and is returned. */
typedef int (*XendDomainFunc)(const Sexpr *domain, void *userdata);
int xend_foreach_domain_detail(Xend *x, bool include_halted, XendDomainFunc f, void *userdata, XvError *error);

/* ---- one domain */

/* GET /xend/domain/<d>?detail=1: the (domain ...) expression. */
int xend_domain_get(Xend *x, const char *d, Sexpr **ret, XvError *error);

/* GET /xend/domain/<d>?op=vcpuinfo. XenD >= 3.0.4 wraps the vcpus as (domain ... (vcpu ...) ...),
 * older ones answer a bare list of (vcpu ...); both become (vcpus (vcpu ...) (vcpu ...) ...):
 * SEXPR_FOREACH_CHILD() visits the (vcpu ...) items (anything else is dropped). */
int xend_domain_vcpuinfo(Xend *x, const char *d, Sexpr **ret, XvError *error);

/* Fills the libvirt cpumap @map (@maplen bytes, zeroed first) from a (vcpu ... (cpumap ...)) item of
 * xend_domain_vcpuinfo(). XenD prints Python's list as a nested list, (cpumap (0 1 2 3)); a flat
 * (cpumap 0 1 2 3) is accepted too. CPUs beyond the map are ignored. Returns the number of cpus set,
 * -ENOENT without a cpumap, -EINVAL for a non-number. */
int xend_vcpu_cpumap(const Sexpr *vcpu, uint8_t *map, size_t maplen);

/* POST /xend/domain/ op=create / op=new (config version >= 3) / op=restore. @config is the domain's
 * SXP text (vm ...). On success *ret (when not NULL) gets what XenD answered: the new domain's
 * (domain ...) for create and restore; NULL when the body was empty or not an S-expression. */
int xend_domain_create(Xend *x, const char *config, Sexpr **ret, XvError *error);
int xend_domain_new(Xend *x, const char *config, Sexpr **ret, XvError *error);
int xend_domain_restore(Xend *x, const char *file, Sexpr **ret, XvError *error);

/* POST /xend/domain/<d> op=... */
int xend_domain_wait_for_devices(Xend *x, const char *d, XvError *error);
int xend_domain_unpause(Xend *x, const char *d, XvError *error);
int xend_domain_pause(Xend *x, const char *d, XvError *error);
/* @reason: "poweroff", "reboot" or "halt" (anything else is XVP_ERR_INVALID_ARG). */
int xend_domain_shutdown(Xend *x, const char *d, const char *reason, XvError *error);
int xend_domain_destroy(Xend *x, const char *d, XvError *error);
int xend_domain_save(Xend *x, const char *d, const char *file, XvError *error);
int xend_domain_dump(Xend *x, const char *d, const char *file, bool live, bool crash, XvError *error);
int xend_domain_maxmem_set(Xend *x, const char *d, uint64_t kib, XvError *error);
int xend_domain_mem_target_set(Xend *x, const char *d, uint64_t kib, XvError *error);
int xend_domain_set_vcpus(Xend *x, const char *d, unsigned n, XvError *error);
/* @cpus: "0,1,5" (digits and commas); sent as "[0,1,5]" to config version < 3 XenD. */
int xend_domain_pincpu(Xend *x, const char *d, unsigned vcpu, const char *cpus, XvError *error);
/* The same from a libvirt cpumap (bit i of byte i/8 = cpu i); an empty map is XVP_ERR_INVALID_ARG. */
int xend_domain_pincpu_map(Xend *x, const char *d, unsigned vcpu, const uint8_t *map, size_t maplen,
                           XvError *error);
/* Formats a cpumap as "0,1,5". Returns 0 or -ENOMEM; "" for an empty map. */
int xend_cpumap_format(const uint8_t *map, size_t maplen, char **ret);
int xend_domain_device_create(Xend *x, const char *d, const char *config, XvError *error);
int xend_domain_device_configure(Xend *x, const char *d, const char *config, const char *dev, XvError *error);
/* @type: "vbd", "tap", "tap2", "vif", "pci", "vfb", "vkbd", ... */
int xend_domain_device_destroy(Xend *x, const char *d, const char *type, const char *dev, bool force,
                               bool rm_cfg, XvError *error);
int xend_domain_start(Xend *x, const char *d, XvError *error);          /* config version >= 3 */
int xend_domain_delete(Xend *x, const char *d, XvError *error);         /* config version >= 3 */
/* @port: 0 = XenD's default relocation port. Sends the union of the parameters any XenD version
 * required (node=-1, ssl=0, change_home_server=0, resource=0): XenD rejects missing ones and
 * ignores unknown ones. */
int xend_domain_migrate(Xend *x, const char *d, const char *destination, bool live, unsigned port,
                        XvError *error);
int xend_domain_sched_credit_set(Xend *x, const char *d, unsigned weight, unsigned cap, XvError *error);
