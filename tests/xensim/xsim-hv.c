/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The hypervisor beneath libxenctrl. The replacement libxencall forwards each hypercall with its
 * raw register arguments; guest handles point into a memfd arena both sides have mapped (see
 * hv/xsim-hv-proto.h), so this file decodes Xen's own structures the way Xen does: check the
 * interface version, copy the argument in, act, copy the result out. Only what Xen 4.17's
 * libxenctrl needs for domain listing and control is implemented; anything else is -ENOSYS,
 * which is what Xen answers for an operation it does not know.
 */

/* Xen's domctl/sysctl headers are for tool stacks only; xensim plays the hypervisor side of them. */
#define __XEN_TOOLS__ 1

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/domctl.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/sysctl.h>
#include <xen/version.h>

#include "hv/xsim-hv-proto.h"
#include "xsim-hv.h"
#include "xv-alloc.h"
#include "xv-strbuf.h"

#define XSIM_PAGE_KIB 4                 /* 4 KiB pages: tot_pages/max_pages count these */

/* What this Xen was "compiled" with; libvirt shows some of it in capabilities. */
#define XSIM_COMPILER       "gcc (Debian 12.2.0-14) 12.2.0"
#define XSIM_COMPILE_BY     "xensim"
#define XSIM_COMPILE_DOMAIN "xenvirt.test"
#define XSIM_COMPILE_DATE   "Sat Jan  1 00:00:00 UTC 2022"
#define XSIM_CHANGESET      "unavailable"
#define XSIM_CAPABILITIES   "xen-3.0-x86_64 xen-3.0-x86_32p hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64"
/* HYPERVISOR_VIRT_START of a 64-bit PV hypervisor. */
#define XSIM_VIRT_START     UINT64_C(0xFFFF800000000000)

typedef struct HvConn HvConn;

typedef struct HvStat {
        const char *kind;               /* static */
        uint64_t count;
} HvStat;

struct XsimHv {
        XsimHost *host;
        HvStat stats[XSIM_HV_STATS_KINDS_MAX];
        size_t n_stats;
        uint64_t stats_total, stats_other;
        int listen_fd;
        sd_event_source *listen_source;
        char *socket_path;
        HvConn *conns;
        size_t n_conns;
};

struct HvConn {
        XsimHv *hv;
        int fd;
        sd_event_source *source;
        uint8_t *arena;                 /* our mapping of the client's arena; NULL before HELLO */
        uint64_t arena_base;            /* the client's address of the same memory */
        HvConn *prev, *next;
};

/* Guest handles are { type *p; } on x86_64: the client's address. */
#define HANDLE_ADDR(h) ((uint64_t) (uintptr_t) (h).p)

static HvConn *conn_free(HvConn *c) {
        if (!c)
                return NULL;
        if (c->hv) {
                if (c->prev)
                        c->prev->next = c->next;
                else
                        c->hv->conns = c->next;
                if (c->next)
                        c->next->prev = c->prev;
                c->hv->n_conns--;
        }
        sd_event_source_disable_unref(c->source);
        safe_close(c->fd);
        if (c->arena)
                (void) munmap(c->arena, XSIM_HV_ARENA_SIZE);
        return mfree(c);
}

/* Translates a guest address range into our mapping; NULL (→ -EFAULT) outside the arena, just as
 * Xen faults on a guest address that is not mapped. */
static void *guest_ptr(HvConn *c, uint64_t addr, size_t size) {
        uint64_t off;

        if (!c->arena || addr < c->arena_base)
                return NULL;
        off = addr - c->arena_base;
        if (off > XSIM_HV_ARENA_SIZE || size > XSIM_HV_ARENA_SIZE - off)
                return NULL;
        return c->arena + off;
}

static int copy_from_guest(HvConn *c, void *dst, uint64_t addr, size_t size) {
        const void *p = guest_ptr(c, addr, size);

        if (!p)
                return -EFAULT;
        memcpy(dst, p, size);
        return 0;
}

static int copy_to_guest(HvConn *c, uint64_t addr, const void *src, size_t size) {
        void *p = guest_ptr(c, addr, size);

        if (!p)
                return -EFAULT;
        memcpy(p, src, size);
        return 0;
}

/* Copies a string into a fixed-size Xen character array, NUL padded and always terminated. */
static int copy_string_to_guest(HvConn *c, uint64_t addr, const char *s, size_t size) {
        char *p = guest_ptr(c, addr, size);

        if (!p)
                return -EFAULT;
        memset(p, 0, size);
        strncpy(p, strempty(s), size - 1);
        return 0;
}

/* Xen's domain list is ordered by domid, and only domains with a domid exist for it. */
static int domain_cmp(const void *a, const void *b) {
        const XsimDomain *x = *(XsimDomain * const *) a, *y = *(XsimDomain * const *) b;

        return (x->domid > y->domid) - (x->domid < y->domid);
}

static int host_sorted_domains(XsimHost *host, XsimDomain ***ret, size_t *ret_n) {
        _cleanup_free_ XsimDomain **list = NULL;
        size_t n = 0;

        if (host->n_domains > XSIM_DOMAINS_MAX)
                return -E2BIG;
        list = new(XsimDomain *, host->n_domains + 1);
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < host->n_domains; i++)
                if (host->domains[i]->domid >= 0)
                        list[n++] = host->domains[i];
        qsort(list, n, sizeof(XsimDomain *), domain_cmp);
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

/* The caller is always Domain-0, so DOMID_SELF names it. */
static XsimDomain *hv_domain_by_id(XsimHost *host, uint32_t domid) {
        if (domid == DOMID_SELF)
                domid = 0;
        if (domid >= DOMID_FIRST_RESERVED)
                return NULL;
        return xsim_domain_by_id(host, (int) domid);
}

/* Xen 4.17's getdomaininfo answers for the first domain whose id is >= the one asked for; libxenctrl's
 * xc_domain_getinfo() relies on that to walk the list. */
static XsimDomain *hv_domain_at_or_after(XsimHost *host, uint32_t domid) {
        XsimDomain *best = NULL;

        if (domid == DOMID_SELF)
                domid = 0;
        for (size_t i = 0; i < host->n_domains; i++) {
                XsimDomain *d = host->domains[i];

                if (d->domid < 0 || (uint32_t) d->domid < domid)
                        continue;
                if (!best || d->domid < best->domid)
                        best = d;
        }
        return best;
}

static bool vcpu_runs(const XsimDomain *d, unsigned i) {
        return d->state == XSIM_STATE_RUNNING && d->vcpus[i].online && !d->vcpus[i].blocked;
}

static void fill_domaininfo(XsimDomain *d, struct xen_domctl_getdomaininfo *info) {
        bool all_blocked = true, any_running = false;
        unsigned online = 0;

        xsim_domain_account(d);
        memset(info, 0, sizeof(*info));
        info->domain = (domid_t) d->domid;

        for (unsigned i = 0; i < d->max_vcpus && i < XSIM_VCPUS_MAX; i++) {
                if (!d->vcpus[i].online)
                        continue;
                online++;
                if (!d->vcpus[i].blocked)
                        all_blocked = false;
                if (vcpu_runs(d, i))
                        any_running = true;
        }

        /* Xen's rule: "blocked" when no online vcpu is runnable, "running" when one is on a cpu. */
        if (all_blocked)
                info->flags |= XEN_DOMINF_blocked;
        if (any_running)
                info->flags |= XEN_DOMINF_running;
        if (d->hvm)
                info->flags |= XEN_DOMINF_hvm_guest | XEN_DOMINF_hap;
        switch (d->state) {
        case XSIM_STATE_PAUSED:
                info->flags |= XEN_DOMINF_paused;
                break;
        case XSIM_STATE_SHUTDOWN:
                info->flags |= XEN_DOMINF_shutdown |
                        (((uint32_t) d->shutdown_reason & XEN_DOMINF_shutdownmask)
                         << XEN_DOMINF_shutdownshift);
                break;
        case XSIM_STATE_CRASHED:
                /* Xen has no "crashed" flag: a crash is a shutdown with code SHUTDOWN_crash. */
                info->flags |= XEN_DOMINF_shutdown | ((uint32_t) SHUTDOWN_crash << XEN_DOMINF_shutdownshift);
                break;
        case XSIM_STATE_DYING:
                info->flags |= XEN_DOMINF_dying;
                break;
        default:
                break;
        }

        info->tot_pages = d->memory_kib / XSIM_PAGE_KIB;
        info->max_pages = d->max_memory_kib / XSIM_PAGE_KIB;
        info->shared_info_frame = 0x1000 + (uint64_t) d->domid;
        info->cpu_time = d->cpu_time_ns;
        info->nr_online_vcpus = online;
        info->max_vcpu_id = d->max_vcpus > 0 ? d->max_vcpus - 1 : XEN_INVALID_MAX_VCPU_ID;
        memcpy(info->handle, d->uuid.bytes, sizeof(info->handle));
        info->cpupool = 0;
        info->gpaddr_bits = 52;
        if (d->hvm)
                info->arch_config.emulation_flags = XEN_X86_EMU_ALL;
}

static uint64_t host_cpu_mask(const XsimHost *host) {
        if (host->nr_cpus >= 64)
                return UINT64_MAX;
        return (UINT64_C(1) << host->nr_cpus) - 1;
}

static unsigned host_nr_cpus(const XsimHost *host) {
        return MIN(host->nr_cpus, (unsigned) XSIM_PCPUS_MAX);
}

/* xenctl_bitmap → uint64_t: bits beyond what the guest passed are clear, bits beyond
 * XSIM_PCPUS_MAX are ignored (Xen ignores bits beyond nr_cpu_ids). */
static int bitmap_from_guest(HvConn *c, const struct xenctl_bitmap *b, uint64_t *ret) {
        size_t guest_bytes = ((size_t) b->nr_bits + 7) / 8, n = MIN(guest_bytes, sizeof(uint64_t));
        uint8_t bytes[sizeof(uint64_t)] = {};
        uint64_t mask = 0;
        int r;

        if (b->nr_bits == 0)
                return -EINVAL;
        r = copy_from_guest(c, bytes, HANDLE_ADDR(b->bitmap), n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                mask |= (uint64_t) bytes[i] << (8 * i);
        if (b->nr_bits < 64)
                mask &= (UINT64_C(1) << b->nr_bits) - 1;
        *ret = mask;
        return 0;
}

/* uint64_t → xenctl_bitmap: as many bytes as the guest's bitmap holds, zero beyond ours. */
static int bitmap_to_guest(HvConn *c, const struct xenctl_bitmap *b, uint64_t mask) {
        size_t guest_bytes = ((size_t) b->nr_bits + 7) / 8;
        uint8_t *p;

        if (b->nr_bits == 0)
                return -EINVAL;
        p = guest_ptr(c, HANDLE_ADDR(b->bitmap), guest_bytes);
        if (!p)
                return -EFAULT;
        memset(p, 0, guest_bytes);
        for (size_t i = 0; i < MIN(guest_bytes, sizeof(uint64_t)); i++)
                p[i] = (uint8_t) (mask >> (8 * i));
        if (b->nr_bits % 8 != 0 && guest_bytes <= sizeof(uint64_t))
                p[guest_bytes - 1] &= (uint8_t) ((1u << (b->nr_bits % 8)) - 1);
        return 0;
}

static uint32_t host_sched_id(const XsimHost *host) {
        if (streq_ptr(host->scheduler, "credit2"))
                return XEN_SCHEDULER_CREDIT2;
        if (streq_ptr(host->scheduler, "rtds"))
                return XEN_SCHEDULER_RTDS;
        if (streq_ptr(host->scheduler, "arinc653"))
                return XEN_SCHEDULER_ARINC653;
        if (streq_ptr(host->scheduler, "null"))
                return XEN_SCHEDULER_NULL;
        return XEN_SCHEDULER_CREDIT;
}

static uint64_t now_nsec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

static int64_t hv_xen_version(HvConn *c, uint64_t cmd, uint64_t arg) {
        XsimHost *host = c->hv->host;

        switch (cmd) {
        case XENVER_version:
                return (int64_t) ((host->xen_major << 16) | (host->xen_minor & 0xffff));
        case XENVER_extraversion:
                return copy_string_to_guest(c, arg, host->xen_extra, sizeof(xen_extraversion_t));
        case XENVER_compile_info: {
                xen_compile_info_t info = {};

                strncpy(info.compiler, XSIM_COMPILER, sizeof(info.compiler) - 1);
                strncpy(info.compile_by, XSIM_COMPILE_BY, sizeof(info.compile_by) - 1);
                strncpy(info.compile_domain, XSIM_COMPILE_DOMAIN, sizeof(info.compile_domain) - 1);
                strncpy(info.compile_date, XSIM_COMPILE_DATE, sizeof(info.compile_date) - 1);
                return copy_to_guest(c, arg, &info, sizeof(info));
        }
        case XENVER_capabilities:
                return copy_string_to_guest(c, arg, XSIM_CAPABILITIES, sizeof(xen_capabilities_info_t));
        case XENVER_changeset:
                return copy_string_to_guest(c, arg, XSIM_CHANGESET, sizeof(xen_changeset_info_t));
        case XENVER_platform_parameters: {
                xen_platform_parameters_t p = { .virt_start = XSIM_VIRT_START };

                return copy_to_guest(c, arg, &p, sizeof(p));
        }
        case XENVER_get_features: {
                xen_feature_info_t fi;
                int r;

                r = copy_from_guest(c, &fi, arg, sizeof(fi));
                if (r < 0)
                        return r;
                fi.submap = 0;  /* no guest features: the caller is dom0, not a guest */
                return copy_to_guest(c, arg, &fi, sizeof(fi));
        }
        case XENVER_pagesize:
                return XSIM_HV_PAGE_SIZE;
        case XENVER_guest_handle: {
                xen_domain_handle_t h = {};     /* Domain-0's handle is all zero */

                return copy_to_guest(c, arg, h, sizeof(h));
        }
        case XENVER_commandline:
                return copy_string_to_guest(c, arg, "placeholder", sizeof(xen_commandline_t));
        case XENVER_build_id:
                return -ENODATA;        /* a hypervisor built without a build id */
        default:
                return -ENOSYS;
        }
}

static int64_t hv_memory_op(HvConn *c, uint64_t cmd, uint64_t arg) {
        XsimHost *host = c->hv->host;

        /* Xen's MEMOP_CMD_MASK: the bits above 6 carry a continuation's start extent. */
        cmd &= (UINT64_C(1) << 6) - 1;
        switch (cmd) {
        case XENMEM_maximum_ram_page:
                return (int64_t) (host->total_memory_kib / XSIM_PAGE_KIB);
        case XENMEM_current_reservation:
        case XENMEM_maximum_reservation: {
                XsimDomain *d;
                domid_t domid;
                int r;

                r = copy_from_guest(c, &domid, arg, sizeof(domid));
                if (r < 0)
                        return r;
                d = hv_domain_by_id(host, domid);
                if (!d)
                        return -ESRCH;
                return (int64_t) ((cmd == XENMEM_current_reservation ? d->memory_kib : d->max_memory_kib) /
                                  XSIM_PAGE_KIB);
        }
        default:
                return -ENOSYS;
        }
}

/* Lists of at most this many domains (libxenctrl asks for one at a time for a single domain's
 * info) are answered by that many scans instead of sorting the whole host: at 10,000 domains a
 * sort per single-domain call made the simulator, not the daemon, the cost of a call. */
#define GETDOMAININFOLIST_SCAN_MAX 8

static int sysctl_getdomaininfolist(HvConn *c, struct xen_sysctl_getdomaininfolist *op) {
        _cleanup_free_ XsimDomain **list = NULL;
        uint32_t written = 0;
        size_t n;
        int r;

        if (op->max_domains <= GETDOMAININFOLIST_SCAN_MAX) {
                uint32_t next = op->first_domain;
                XsimDomain *d;

                while (written < op->max_domains && next < DOMID_FIRST_RESERVED &&
                       (d = hv_domain_at_or_after(c->hv->host, next))) {
                        struct xen_domctl_getdomaininfo info;

                        fill_domaininfo(d, &info);
                        r = copy_to_guest(c, HANDLE_ADDR(op->buffer) + (uint64_t) written * sizeof(info),
                                          &info, sizeof(info));
                        if (r < 0)
                                return r;
                        written++;
                        next = (uint32_t) d->domid + 1;
                }
                op->num_domains = written;
                return 0;
        }

        r = host_sorted_domains(c->hv->host, &list, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && written < op->max_domains; i++) {
                struct xen_domctl_getdomaininfo info;

                if ((uint32_t) list[i]->domid < op->first_domain)
                        continue;
                fill_domaininfo(list[i], &info);
                r = copy_to_guest(c, HANDLE_ADDR(op->buffer) + (uint64_t) written * sizeof(info),
                                  &info, sizeof(info));
                if (r < 0)
                        return r;
                written++;
        }
        op->num_domains = written;
        return 0;
}

static void sysctl_physinfo(XsimHost *host, struct xen_sysctl_physinfo *pi) {
        unsigned nodes = MAX(host->nr_nodes, 1u), cpus = MAX(host_nr_cpus(host), 1u);

        memset(pi, 0, sizeof(*pi));
        pi->threads_per_core = host->threads_per_core;
        pi->cores_per_socket = host->cores_per_socket;
        pi->nr_cpus = cpus;
        pi->max_cpu_id = cpus - 1;
        pi->nr_nodes = nodes;
        pi->max_node_id = 63;           /* as Xen 4.17 on x86: MAX_NUMNODES - 1, whatever is present */
        pi->cpu_khz = host->cpu_mhz * 1000;
        /* Every simulated host runs PV and HVM guests (it claims hvm-3.0-* in capabilities). */
        pi->capabilities = XEN_SYSCTL_PHYSCAP_hvm | XEN_SYSCTL_PHYSCAP_pv | XEN_SYSCTL_PHYSCAP_hap |
                XEN_SYSCTL_PHYSCAP_shadow;
        pi->total_pages = host->total_memory_kib / XSIM_PAGE_KIB;
        pi->free_pages = xsim_host_free_memory_kib(host) / XSIM_PAGE_KIB;
        pi->max_mfn = pi->total_pages;
}

static int sysctl_getcpuinfo(HvConn *c, struct xen_sysctl_getcpuinfo *op) {
        XsimHost *host = c->hv->host;
        unsigned cpus = MAX(host_nr_cpus(host), 1u);
        uint64_t busy = 0, now = now_nsec(), idle;
        uint32_t n = MIN(op->max_cpus, cpus);

        /* Spread the domains' cpu time evenly over the pcpus; the rest of the uptime was idle. */
        for (size_t i = 0; i < host->n_domains; i++) {
                xsim_domain_account(host->domains[i]);
                busy += host->domains[i]->cpu_time_ns;
        }
        idle = now > busy / cpus ? now - busy / cpus : 0;
        for (uint32_t i = 0; i < n; i++) {
                struct xen_sysctl_cpuinfo ci = { .idletime = idle };
                int r;

                r = copy_to_guest(c, HANDLE_ADDR(op->info) + (uint64_t) i * sizeof(ci), &ci, sizeof(ci));
                if (r < 0)
                        return r;
        }
        op->nr_cpus = n;
        return 0;
}

static void sysctl_availheap(XsimHost *host, struct xen_sysctl_availheap *op) {
        /* Like Xen: node -1 is the whole heap, a node that is not there has nothing. */
        if (op->node == -1)
                op->avail_bytes = xsim_host_free_memory_kib(host) * 1024;
        else if (op->node >= 0 && (unsigned) op->node < host->nr_nodes)
                op->avail_bytes = xsim_host_node_free_memory_kib(host, (unsigned) op->node) * 1024;
        else
                op->avail_bytes = 0;
}

/* Both topology calls answer "how many?" to null handles and -ENOBUFS (with the count) to a
 * short array, as Xen does, so that libxenctrl can size its buffers. */
static int sysctl_cputopoinfo(HvConn *c, struct xen_sysctl_cputopoinfo *op) {
        XsimHost *host = c->hv->host;
        unsigned cpus = MAX(host_nr_cpus(host), 1u);
        unsigned threads = MAX(host->threads_per_core, 1u), cores = MAX(host->cores_per_socket, 1u);
        unsigned sockets_per_node = MAX(host->sockets_per_node, 1u);
        uint32_t n;

        if (HANDLE_ADDR(op->cputopo) == 0) {
                op->num_cpus = cpus;
                return 0;
        }
        n = MIN(op->num_cpus, cpus);
        for (uint32_t i = 0; i < n; i++) {
                unsigned socket = i / (threads * cores);
                struct xen_sysctl_cputopo t = {
                        .core = (i / threads) % cores,
                        .socket = socket,
                        .node = MIN(socket / sockets_per_node, MAX(host->nr_nodes, 1u) - 1),
                };
                int r;

                r = copy_to_guest(c, HANDLE_ADDR(op->cputopo) + (uint64_t) i * sizeof(t), &t, sizeof(t));
                if (r < 0)
                        return r;
        }
        if (op->num_cpus < cpus) {
                op->num_cpus = cpus;
                return -ENOBUFS;
        }
        op->num_cpus = cpus;
        return 0;
}

static int sysctl_numainfo(HvConn *c, struct xen_sysctl_numainfo *op) {
        XsimHost *host = c->hv->host;
        unsigned nodes = MAX(host->nr_nodes, 1u);
        uint32_t n;

        if (HANDLE_ADDR(op->meminfo) == 0 && HANDLE_ADDR(op->distance) == 0) {
                op->num_nodes = nodes;
                return 0;
        }
        n = MIN(op->num_nodes, nodes);
        for (uint32_t i = 0; i < n; i++) {
                if (HANDLE_ADDR(op->meminfo) != 0) {
                        struct xen_sysctl_meminfo m = {
                                .memsize = host->total_memory_kib * 1024 / nodes,
                                .memfree = (host->nr_nodes > 0 ? xsim_host_node_free_memory_kib(host, i)
                                            : xsim_host_free_memory_kib(host)) * 1024,
                        };
                        int r;

                        r = copy_to_guest(c, HANDLE_ADDR(op->meminfo) + (uint64_t) i * sizeof(m),
                                          &m, sizeof(m));
                        if (r < 0)
                                return r;
                }
                if (HANDLE_ADDR(op->distance) != 0)
                        for (uint32_t j = 0; j < n; j++) {
                                uint32_t dist = i == j ? 10 : 20;
                                int r;

                                r = copy_to_guest(c, HANDLE_ADDR(op->distance) +
                                                  ((uint64_t) i * n + j) * sizeof(dist),
                                                  &dist, sizeof(dist));
                                if (r < 0)
                                        return r;
                        }
        }
        if (op->num_nodes < nodes) {
                op->num_nodes = nodes;
                return -ENOBUFS;
        }
        op->num_nodes = nodes;
        return 0;
}

static int64_t hv_sysctl(HvConn *c, uint64_t arg) {
        XsimHost *host = c->hv->host;
        struct xen_sysctl op;
        int r;

        r = copy_from_guest(c, &op, arg, sizeof(op));
        if (r < 0)
                return r;
        /* Xen refuses a tool stack built against another interface version. */
        if (op.interface_version != XEN_SYSCTL_INTERFACE_VERSION)
                return -EACCES;

        switch (op.cmd) {
        case XEN_SYSCTL_physinfo:
                sysctl_physinfo(host, &op.u.physinfo);
                r = 0;
                break;
        case XEN_SYSCTL_sched_id:
                op.u.sched_id.sched_id = host_sched_id(host);
                r = 0;
                break;
        case XEN_SYSCTL_getdomaininfolist:
                r = sysctl_getdomaininfolist(c, &op.u.getdomaininfolist);
                break;
        case XEN_SYSCTL_getcpuinfo:
                r = sysctl_getcpuinfo(c, &op.u.getcpuinfo);
                break;
        case XEN_SYSCTL_availheap:
                sysctl_availheap(host, &op.u.availheap);
                r = 0;
                break;
        case XEN_SYSCTL_cputopoinfo:
                r = sysctl_cputopoinfo(c, &op.u.cputopoinfo);
                break;
        case XEN_SYSCTL_numainfo:
                r = sysctl_numainfo(c, &op.u.numainfo);
                break;
        default:
                return -ENOSYS;
        }
        if (r < 0 && r != -ENOBUFS)
                return r;
        /* The counts of an -ENOBUFS answer must reach the caller too. */
        if (copy_to_guest(c, arg, &op, sizeof(op)) < 0)
                return -EFAULT;
        return r;
}

static int domctl_vcpuaffinity(HvConn *c, XsimDomain *d, uint32_t cmd, struct xen_domctl_vcpuaffinity *op) {
        uint64_t online = host_cpu_mask(c->hv->host), hard = 0, soft = 0;
        int r;

        if (op->vcpu >= d->max_vcpus || op->vcpu >= XSIM_VCPUS_MAX)
                return -EINVAL;
        if (!(op->flags & (XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT)) ||
            (op->flags & ~(XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT | XEN_VCPUAFFINITY_FORCE)))
                return -EINVAL;

        if (cmd == XEN_DOMCTL_getvcpuaffinity) {
                /* The plain masks as set. xensim keeps no soft affinity: it is "all cpus". */
                if (op->flags & XEN_VCPUAFFINITY_HARD) {
                        r = bitmap_to_guest(c, &op->cpumap_hard, d->vcpus[op->vcpu].affinity);
                        if (r < 0)
                                return r;
                }
                if (op->flags & XEN_VCPUAFFINITY_SOFT) {
                        r = bitmap_to_guest(c, &op->cpumap_soft, online);
                        if (r < 0)
                                return r;
                }
                return 0;
        }

        if (op->flags & XEN_VCPUAFFINITY_HARD) {
                r = bitmap_from_guest(c, &op->cpumap_hard, &hard);
                if (r < 0)
                        return r;
                if ((hard & online) == 0)
                        return -EINVAL;
        }
        if (op->flags & XEN_VCPUAFFINITY_SOFT) {
                r = bitmap_from_guest(c, &op->cpumap_soft, &soft);
                if (r < 0)
                        return r;
        }
        if (op->flags & XEN_VCPUAFFINITY_HARD) {
                r = xsim_domain_pin_vcpu(d, op->vcpu, hard, NULL);
                if (r < 0)
                        return r;
                /* What the scheduler will use: the new hard affinity within the online cpus. */
                r = bitmap_to_guest(c, &op->cpumap_hard, d->vcpus[op->vcpu].affinity & online);
                if (r < 0)
                        return r;
        }
        if (op->flags & XEN_VCPUAFFINITY_SOFT) {
                r = bitmap_to_guest(c, &op->cpumap_soft, soft & online & d->vcpus[op->vcpu].affinity);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int domctl_scheduler_op(XsimHost *host, XsimDomain *d, struct xen_domctl_scheduler_op *op) {
        unsigned weight, cap;

        if (op->sched_id != host_sched_id(host))
                return -EINVAL;
        if (op->sched_id != XEN_SCHEDULER_CREDIT && op->sched_id != XEN_SCHEDULER_CREDIT2)
                return -ENOSYS;
        /* credit and credit2 share the { weight, cap } layout. */
        switch (op->cmd) {
        case XEN_DOMCTL_SCHEDOP_getinfo:
                op->u.credit.weight = (uint16_t) d->sched_weight;
                op->u.credit.cap = (uint16_t) d->sched_cap;
                return 0;
        case XEN_DOMCTL_SCHEDOP_putinfo:
                /* Xen's credit scheduler: weight 0 and cap 0xffff leave the value unchanged. */
                weight = op->u.credit.weight != 0 ? op->u.credit.weight : d->sched_weight;
                cap = op->u.credit.cap != UINT16_MAX ? op->u.credit.cap : d->sched_cap;
                return xsim_domain_set_sched(d, weight, cap, NULL);
        default:
                /* Neither credit scheduler has per-vcpu parameters. */
                return -EINVAL;
        }
}

static int domctl_max_vcpus(XsimDomain *d, uint32_t max) {
        /* Xen fixes the vcpu array at creation: it cannot shrink (-EINVAL) and never grows from a
         * non-zero count (-EBUSY); asking for the current count succeeds. */
        if (max > XSIM_VCPUS_MAX || max < d->max_vcpus)
                return -EINVAL;
        if (max > d->max_vcpus)
                return -EBUSY;
        return 0;
}

static int64_t hv_domctl(HvConn *c, uint64_t arg) {
        XsimHost *host = c->hv->host;
        struct xen_domctl op;
        XsimDomain *d;
        int r;

        r = copy_from_guest(c, &op, arg, sizeof(op));
        if (r < 0)
                return r;
        if (op.interface_version != XEN_DOMCTL_INTERFACE_VERSION)
                return -EACCES;

        if (op.cmd == XEN_DOMCTL_getdomaininfo) {
                d = hv_domain_at_or_after(host, op.domain);
                if (!d && op.domain >= DOMID_FIRST_RESERVED && op.domain != DOMID_SELF)
                        return -EINVAL;
                if (!d)
                        return -ESRCH;
        } else {
                d = hv_domain_by_id(host, op.domain);
                if (!d)
                        return -ESRCH;
        }

        switch (op.cmd) {
        case XEN_DOMCTL_getdomaininfo:
                fill_domaininfo(d, &op.u.getdomaininfo);
                op.domain = op.u.getdomaininfo.domain;
                r = 0;
                break;
        case XEN_DOMCTL_pausedomain:
                if (d->domid == 0)
                        return -EINVAL;         /* Xen: the caller cannot pause itself */
                /* Xen counts controller pauses, so pausing a paused domain succeeds; xensim keeps no
                 * count, so a second pause is a no-op instead. */
                if (d->state == XSIM_STATE_PAUSED)
                        return 0;
                r = xsim_domain_pause(d, NULL);
                break;
        case XEN_DOMCTL_unpausedomain:
                /* Xen: unpausing a domain no controller paused is -EINVAL. */
                if (d->state != XSIM_STATE_PAUSED)
                        return -EINVAL;
                r = xsim_domain_unpause(d, NULL);
                break;
        case XEN_DOMCTL_destroydomain:
                if (d->domid == 0)
                        return -EINVAL;         /* domain_kill() refuses the caller's own domain */
                r = xsim_domain_destroy(d, NULL);
                break;
        case XEN_DOMCTL_max_mem:
                r = xsim_domain_set_max_memory(d, op.u.max_mem.max_memkb, NULL);
                break;
        case XEN_DOMCTL_max_vcpus:
                r = domctl_max_vcpus(d, op.u.max_vcpus.max);
                break;
        case XEN_DOMCTL_getvcpuinfo: {
                struct xen_domctl_getvcpuinfo *vi = &op.u.getvcpuinfo;
                const XsimVcpu *v;

                if (vi->vcpu >= d->max_vcpus || vi->vcpu >= XSIM_VCPUS_MAX)
                        return -EINVAL;
                xsim_domain_account(d);
                v = &d->vcpus[vi->vcpu];
                vi->online = v->online;
                vi->blocked = v->blocked;
                vi->running = vcpu_runs(d, vi->vcpu);
                vi->cpu_time = v->cpu_time_ns;
                vi->cpu = v->cpu >= 0 ? (uint32_t) v->cpu : 0;
                r = 0;
                break;
        }
        case XEN_DOMCTL_setvcpuaffinity:
        case XEN_DOMCTL_getvcpuaffinity:
                r = domctl_vcpuaffinity(c, d, op.cmd, &op.u.vcpuaffinity);
                break;
        case XEN_DOMCTL_scheduler_op:
                r = domctl_scheduler_op(host, d, &op.u.scheduler_op);
                break;
        default:
                return -ENOSYS;
        }
        if (r < 0)
                return r;
        if (copy_to_guest(c, arg, &op, sizeof(op)) < 0)
                return -EFAULT;
        return 0;
}

static int64_t hv_sched_op(HvConn *c, uint64_t cmd, uint64_t arg) {
        struct sched_remote_shutdown rs;
        XsimDomain *d;
        int r;

        /* Only the remote shutdown a tool stack issues (xc_domain_shutdown()); the rest of
         * sched_op is what a guest does to itself. */
        if (cmd != SCHEDOP_remote_shutdown)
                return -ENOSYS;
        r = copy_from_guest(c, &rs, arg, sizeof(rs));
        if (r < 0)
                return r;
        d = hv_domain_by_id(c->hv->host, rs.domain_id);
        if (!d)
                return -ESRCH;
        if (rs.reason > SHUTDOWN_MAX)
                return -EINVAL;
        return xsim_domain_shutdown(d, (XsimShutdownReason) rs.reason, NULL);
}

/* The name of a sysctl or domctl command, for the hypercall counters. */
static const char *cmd_name(uint64_t op, uint32_t cmd) {
        if (op == __HYPERVISOR_sysctl)
                switch (cmd) {
                case XEN_SYSCTL_physinfo:
                        return "sysctl physinfo";
                case XEN_SYSCTL_sched_id:
                        return "sysctl sched_id";
                case XEN_SYSCTL_getdomaininfolist:
                        return "sysctl getdomaininfolist";
                case XEN_SYSCTL_getcpuinfo:
                        return "sysctl getcpuinfo";
                case XEN_SYSCTL_availheap:
                        return "sysctl availheap";
                case XEN_SYSCTL_cputopoinfo:
                        return "sysctl cputopoinfo";
                case XEN_SYSCTL_numainfo:
                        return "sysctl numainfo";
                default:
                        return "sysctl other";
                }
        switch (cmd) {
        case XEN_DOMCTL_getdomaininfo:
                return "domctl getdomaininfo";
        case XEN_DOMCTL_pausedomain:
                return "domctl pausedomain";
        case XEN_DOMCTL_unpausedomain:
                return "domctl unpausedomain";
        case XEN_DOMCTL_destroydomain:
                return "domctl destroydomain";
        case XEN_DOMCTL_max_mem:
                return "domctl max_mem";
        case XEN_DOMCTL_max_vcpus:
                return "domctl max_vcpus";
        case XEN_DOMCTL_getvcpuinfo:
                return "domctl getvcpuinfo";
        case XEN_DOMCTL_getvcpuaffinity:
                return "domctl getvcpuaffinity";
        case XEN_DOMCTL_setvcpuaffinity:
                return "domctl setvcpuaffinity";
        case XEN_DOMCTL_scheduler_op:
                return "domctl scheduler_op";
        default:
                return "domctl other";
        }
}

static void hv_count_kind(XsimHv *hv, const char *kind) {
        hv->stats_total++;
        for (size_t i = 0; i < hv->n_stats; i++)
                if (streq(hv->stats[i].kind, kind)) {
                        hv->stats[i].count++;
                        return;
                }
        if (hv->n_stats >= XSIM_HV_STATS_KINDS_MAX) {
                hv->stats_other++;
                return;
        }
        hv->stats[hv->n_stats++] = (HvStat) { .kind = kind, .count = 1 };
}

/* Counts one hypercall by kind ("hv stats" on the control socket). */
static void hv_count(HvConn *c, uint64_t op, const uint64_t args[static XSIM_HV_HYPERCALL_ARGS]) {
        uint32_t cmd = UINT32_MAX;

        switch (op) {
        case __HYPERVISOR_xen_version:
                hv_count_kind(c->hv, "xen_version");
                return;
        case __HYPERVISOR_memory_op:
                hv_count_kind(c->hv, "memory_op");
                return;
        case __HYPERVISOR_sched_op:
                hv_count_kind(c->hv, "sched_op");
                return;
        case __HYPERVISOR_sysctl: {
                struct xen_sysctl sop = { .cmd = UINT32_MAX };

                (void) copy_from_guest(c, &sop, args[0], sizeof(sop));
                /* A list of one is how a tool stack asks for one domain (xc_domain_getinfolist(),
                 * hcall_domain_info()): counted apart from the lists of every domain. */
                if (sop.cmd == XEN_SYSCTL_getdomaininfolist && sop.u.getdomaininfolist.max_domains == 1)
                        hv_count_kind(c->hv, "sysctl getdomaininfolist one");
                else
                        hv_count_kind(c->hv, cmd_name(op, sop.cmd));
                return;
        }
        case __HYPERVISOR_domctl:
                /* The structure starts with the command. */
                (void) copy_from_guest(c, &cmd, args[0], sizeof(cmd));
                hv_count_kind(c->hv, cmd_name(op, cmd));
                return;
        default:
                hv_count_kind(c->hv, "other");
                return;
        }
}

void xsim_hv_stats(XsimHv *hv, bool reset, struct StrBuf *out) {
        if (reset) {
                hv->n_stats = 0;
                hv->stats_total = hv->stats_other = 0;
                return;
        }
        strbuf_appendf(out, "total %" PRIu64 "\n", hv->stats_total);
        for (size_t i = 0; i < hv->n_stats; i++)
                strbuf_appendf(out, "%" PRIu64 " %s\n", hv->stats[i].count, hv->stats[i].kind);
        strbuf_appendf(out, "other %" PRIu64 "\n", hv->stats_other);
}

static int64_t hv_hypercall(HvConn *c, uint64_t op, const uint64_t args[static XSIM_HV_HYPERCALL_ARGS]) {
        hv_count(c, op, args);
        if (c->hv->host->faults.hypervisor_fail)
                return -EPERM;

        switch (op) {
        case __HYPERVISOR_xen_version:
                return hv_xen_version(c, args[0], args[1]);
        case __HYPERVISOR_memory_op:
                return hv_memory_op(c, args[0], args[1]);
        case __HYPERVISOR_sysctl:
                return hv_sysctl(c, args[0]);
        case __HYPERVISOR_domctl:
                return hv_domctl(c, args[0]);
        case __HYPERVISOR_sched_op:
                return hv_sched_op(c, args[0], args[1]);
        default:
                return -ENOSYS;
        }
}

/* Maps the client's arena after checking that it is a sealed memfd of the agreed size: a file
 * that could shrink under our mapping would turn a client bug into a SIGBUS in xensim. */
static int conn_hello(HvConn *c, const XsimHvRequest *req, int fd) {
        struct stat st;
        int seals;
        void *p;

        if (c->arena)
                return -EBUSY;
        if (req->version != XSIM_HV_PROTO_VERSION)
                return -EPROTONOSUPPORT;
        if (fd < 0 || req->arena_size != XSIM_HV_ARENA_SIZE || req->arena_base == 0 ||
            req->arena_base > UINT64_MAX - XSIM_HV_ARENA_SIZE)
                return -EINVAL;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || (uint64_t) st.st_size < XSIM_HV_ARENA_SIZE)
                return -EINVAL;
        seals = fcntl(fd, F_GET_SEALS);
        if (seals < 0 || !(seals & F_SEAL_SHRINK))
                return -EINVAL;

        p = mmap(NULL, XSIM_HV_ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
                return -errno;
        c->arena = p;
        c->arena_base = req->arena_base;
        return 0;
}

static int conn_reply(HvConn *c, int64_t ret) {
        XsimHvReply reply = {
                .magic = XSIM_HV_MAGIC,
                .type = XSIM_HV_MSG_REPLY,
                .ret = ret,
        };
        ssize_t n;

        /* The client waits for this reply before it sends anything else, so the socket buffer
         * always has room; a full buffer means a misbehaving client, which is dropped. */
        n = send(c->fd, &reply, sizeof(reply), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0)
                return -errno;
        if ((size_t) n != sizeof(reply))
                return -EIO;
        return 0;
}

/* Reads one record. Returns 0 when nothing was there, 1 when a record was handled, < 0 when the
 * connection is to be dropped. */
static int conn_process(HvConn *c) {
        union {
                struct cmsghdr cmsghdr;
                uint8_t buf[CMSG_SPACE(sizeof(int) * 4)];
        } control = {};
        XsimHvRequest req;
        struct iovec iov = { .iov_base = &req, .iov_len = sizeof(req) };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = sizeof(control),
        };
        _cleanup_close_ int fd = -EBADF;
        int64_t ret;
        ssize_t n;
        bool bad_fds = false;
        int r;

        n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (n == 0)
                return -ECONNRESET;

        /* Take every passed descriptor before judging the record, so none leaks. */
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                        int got;

                        memcpy(&got, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
                        if (fd < 0)
                                fd = got;
                        else {
                                safe_close(got);
                                bad_fds = true;
                        }
                }
        }
        if (bad_fds || (mh.msg_flags & MSG_CTRUNC) || (size_t) n != sizeof(req) ||
            req.magic != XSIM_HV_MAGIC)
                return -EBADMSG;

        switch (req.type) {
        case XSIM_HV_MSG_HELLO:
                ret = conn_hello(c, &req, fd);
                break;
        case XSIM_HV_MSG_CALL:
                if (!c->arena || fd >= 0)
                        return -EBADMSG;
                ret = hv_hypercall(c, req.op, req.args);
                break;
        default:
                return -EBADMSG;
        }

        r = conn_reply(c, ret);
        if (r < 0)
                return r;
        return 1;
}

static int conn_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        HvConn *c = userdata;
        int r;

        r = conn_process(c);
        if (r < 0 || (r == 0 && (revents & (EPOLLHUP | EPOLLERR))))
                conn_free(c);
        return 0;
}

static int hv_on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        XsimHv *hv = userdata;
        _cleanup_close_ int cfd = -EBADF;
        HvConn *c;
        int r;

        cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
                return 0;       /* EAGAIN, or a client that gave up: nothing to do */
        if (hv->n_conns >= XSIM_HV_CONNECTIONS_MAX)
                return 0;       /* refused by closing, like a full accept queue */

        c = new0(HvConn, 1);
        if (!c)
                return 0;
        c->fd = TAKE_FD(cfd);
        r = sd_event_add_io(hv->host->event, &c->source, c->fd, EPOLLIN, conn_on_io, c);
        if (r < 0) {
                conn_free(c);
                return 0;
        }
        c->hv = hv;
        c->next = hv->conns;
        if (hv->conns)
                hv->conns->prev = c;
        hv->conns = c;
        hv->n_conns++;
        return 0;
}

int xsim_hv_new(XsimHost *host, const char *socket_path, XsimHv **ret) {
        _cleanup_(xsim_hv_freep) XsimHv *hv = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct stat st;
        size_t l;
        int r;

        if (!host || !host->event || isempty(socket_path) || !ret)
                return -EINVAL;
        l = strlen(socket_path);
        if (l >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, socket_path, l + 1);

        hv = new0(XsimHv, 1);
        if (!hv)
                return -ENOMEM;
        hv->host = host;
        hv->listen_fd = -EBADF;

        hv->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (hv->listen_fd < 0)
                return -errno;
        /* A socket left behind by an earlier xensim is replaced; anything else there is not ours. */
        if (lstat(socket_path, &st) >= 0 && S_ISSOCK(st.st_mode))
                (void) unlink(socket_path);
        if (bind(hv->listen_fd, (const struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        /* Only now is the file ours to remove again. */
        hv->socket_path = strdup(socket_path);
        if (!hv->socket_path) {
                (void) unlink(socket_path);
                return -ENOMEM;
        }
        if (listen(hv->listen_fd, SOMAXCONN) < 0)
                return -errno;
        r = sd_event_add_io(host->event, &hv->listen_source, hv->listen_fd, EPOLLIN, hv_on_accept, hv);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(hv);
        return 0;
}

XsimHv *xsim_hv_free(XsimHv *hv) {
        if (!hv)
                return NULL;
        while (hv->conns)
                conn_free(hv->conns);
        sd_event_source_disable_unref(hv->listen_source);
        safe_close(hv->listen_fd);
        if (hv->socket_path) {
                (void) unlink(hv->socket_path);
                free(hv->socket_path);
        }
        return mfree(hv);
}
