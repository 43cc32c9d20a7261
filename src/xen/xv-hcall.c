/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenctrl.h>
#include <xentoollog.h>

#include "xv-alloc.h"
#include "xv-hcall.h"
#include "xv-parse-util.h"

/*
 * Domains fetched per getinfolist hypercall: sized by the previous list of this handle, between
 * the two bounds. XEN_SYSCTL_getdomaininfolist walks the domain list from its start at every
 * call, so a list of N domains in batches of B costs N²/2B steps in Xen and N/B round trips: a
 * large host wants large batches (xenopsd and libxl use 1024). But libxenctrl bounces the whole
 * buffer of B entries whatever the number returned, so a host of a few domains wants a small one.
 */
#define HCALL_GETINFO_BATCH_MIN 64
#define HCALL_GETINFO_BATCH_MAX 1024
#define HCALL_PAGE_KIB 4u               /* x86 pages */

struct Hcall {
        xc_interface *xch;
        size_t last_list_n;             /* domains in the last list (atomic: lists run concurrently) */
        /* libxenctrl reports failures through a logger, by default on stderr. Library code is
         * silent: failures are returned as errno and turned into an XvError here. */
        xentoollog_logger logger;
};

static void logger_vmessage(struct xentoollog_logger *logger, xentoollog_level level, int errnoval,
                            const char *context, const char *format, va_list al) {
}

static void logger_progress(struct xentoollog_logger *logger, const char *context, const char *doing_what,
                            int percent, unsigned long done, unsigned long total) {
}

static void logger_destroy(struct xentoollog_logger *logger) {
}

/* Errors of this channel: error domain XVP_FROM_XEN; the first form appends strerror(-r). */
#define hcall_error(error, r, code, ...) xv_error_set_errno_full(error, r, code, XVP_FROM_XEN, __VA_ARGS__)
#define hcall_errorf(error, r, code, ...) xv_error_set_full(error, r, code, XVP_FROM_XEN, __VA_ARGS__)

static int errno_or_eio(void) {
        int e = errno;  /* read once: the result is negative whatever errno holds */

        return e > 0 ? -e : -EIO;
}

/* A failed domain hypercall: ESRCH means the domain does not exist. */
static int domain_call_error(XvError *error, int r, const char *call, int domid) {
        if (r == -ESRCH)
                return hcall_errorf(error, r, XVP_ERR_NO_DOMAIN, "No domain with id %d", domid);
        return hcall_error(error, r, XVP_ERR_XEN_CALL, "%s(%d) failed", call, domid);
}

static int domid_check(int domid, XvError *error) {
        if (domid < 0 || domid > HCALL_DOMID_MAX)
                return hcall_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Invalid domain id %d", domid);
        return 0;
}

const char *hcall_shutdown_code_to_string(unsigned code) {
        static const char *const names[] = {
                [HCALL_SHUTDOWN_POWEROFF] = "poweroff",
                [HCALL_SHUTDOWN_REBOOT] = "reboot",
                [HCALL_SHUTDOWN_SUSPEND] = "suspend",
                [HCALL_SHUTDOWN_CRASH] = "crash",
                [HCALL_SHUTDOWN_WATCHDOG] = "watchdog",
                [HCALL_SHUTDOWN_SOFT_RESET] = "soft_reset",
        };

        return code < ELEMENTSOF(names) ? names[code] : NULL;
}

/* libvirt's state and reason numbers (virDomainState and its *Reason enums). */
enum {
        STATE_RUNNING = 1,
        STATE_BLOCKED = 2,
        STATE_PAUSED = 3,
        STATE_SHUTDOWN = 4,
        STATE_SHUTOFF = 5,
        STATE_CRASHED = 6,

        REASON_UNKNOWN = 0,
        REASON_RUNNING_BOOTED = 1,
        REASON_PAUSED_USER = 1,
        REASON_SHUTDOWN_USER = 1,
        REASON_SHUTOFF_SHUTDOWN = 1,
        REASON_SHUTOFF_SAVED = 5,
        REASON_CRASHED_PANICKED = 1,
};

void hcall_domain_state(bool dying, bool shutdown, unsigned shutdown_code, bool paused, bool blocked,
                        int *ret_state, int *ret_reason) {
        int state, reason = REASON_UNKNOWN;

        if (dying)
                state = STATE_SHUTDOWN;
        else if (shutdown && shutdown_code == HCALL_SHUTDOWN_CRASH) {
                state = STATE_CRASHED;
                reason = REASON_CRASHED_PANICKED;
        } else if (shutdown) {
                state = STATE_SHUTOFF;
                if (shutdown_code == HCALL_SHUTDOWN_POWEROFF || shutdown_code == HCALL_SHUTDOWN_REBOOT)
                        reason = REASON_SHUTOFF_SHUTDOWN;
                else if (shutdown_code == HCALL_SHUTDOWN_SUSPEND)
                        reason = REASON_SHUTOFF_SAVED;
        } else if (paused) {
                state = STATE_PAUSED;
                reason = REASON_UNKNOWN;        /* Xen does not say who paused it */
        } else if (blocked)
                state = STATE_BLOCKED;
        else
                state = STATE_RUNNING;

        if (ret_state)
                *ret_state = state;
        if (ret_reason)
                *ret_reason = reason;
}

static void info_from_xc(const xc_domaininfo_t *x, HcallDomainInfo *ret) {
        HcallDomainInfo i = {
                .domid = x->domain,
                .dying = x->flags & XEN_DOMINF_dying,
                .shutdown = x->flags & XEN_DOMINF_shutdown,
                .paused = x->flags & XEN_DOMINF_paused,
                .blocked = x->flags & XEN_DOMINF_blocked,
                .running = x->flags & XEN_DOMINF_running,
                .hvm = x->flags & XEN_DOMINF_hvm_guest,
                .shutdown_code = (x->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask,
                .memory_kib = x->tot_pages * HCALL_PAGE_KIB,
                .max_memory_kib = x->max_pages * HCALL_PAGE_KIB,
                .cpu_time_ns = x->cpu_time,
                .online_vcpus = x->nr_online_vcpus,
                .max_vcpu_id = x->max_vcpu_id,
        };

        static_assert(sizeof(i.uuid.bytes) == sizeof(x->handle), "handle is a UUID");
        memcpy(i.uuid.bytes, x->handle, sizeof(i.uuid.bytes));
        hcall_domain_state(i.dying, i.shutdown, i.shutdown_code, i.paused, i.blocked, &i.state, &i.reason);
        *ret = i;
}

int hcall_open(Hcall **ret, XvError *error) {
        _cleanup_(hcall_closep) Hcall *h = NULL;

        if (!ret)
                return -EINVAL;
        h = new0(Hcall, 1);
        if (!h)
                return hcall_errorf(error, -ENOMEM, XVP_ERR_NO_MEMORY, "Out of memory");
        h->logger = (xentoollog_logger) {
                .vmessage = logger_vmessage,
                .progress = logger_progress,
                .destroy = logger_destroy,
        };
        errno = 0;
        h->xch = xc_interface_open(&h->logger, &h->logger, 0);
        if (!h->xch)
                return hcall_error(error, errno_or_eio(), XVP_ERR_NO_XEN, "xc_interface_open failed");
        *ret = TAKE_PTR(h);
        return 0;
}

Hcall *hcall_close(Hcall *h) {
        if (!h)
                return NULL;
        if (h->xch)
                (void) xc_interface_close(h->xch);
        free(h);
        return NULL;
}

/* One batch for the whole list, as the last list went, with an eighth to spare for growth. */
static int batch_size(Hcall *h) {
        size_t last = __atomic_load_n(&h->last_list_n, __ATOMIC_RELAXED), want = last + last / 8 + 1;
        int size = HCALL_GETINFO_BATCH_MIN;

        while ((size_t) size < want && size < HCALL_GETINFO_BATCH_MAX)
                size *= 2;
        return size;
}

int hcall_list_domains(Hcall *h, HcallDomainInfo **ret, size_t *ret_n, XvError *error) {
        _cleanup_free_ xc_domaininfo_t *batch = NULL;
        _cleanup_free_ HcallDomainInfo *list = NULL;
        size_t n = 0, allocated = 0;
        uint32_t next = 0;
        int size;

        if (!h || !ret || !ret_n)
                return -EINVAL;
        size = batch_size(h);
        batch = new(xc_domaininfo_t, (size_t) size);
        if (!batch)
                return hcall_errorf(error, -ENOMEM, XVP_ERR_NO_MEMORY, "Out of memory");

        for (;;) {
                int got;

                errno = 0;
                got = xc_domain_getinfolist(h->xch, next, (unsigned) size, batch);
                if (got < 0)
                        return hcall_error(error, errno_or_eio(), XVP_ERR_XEN_CALL,
                                           "xc_domain_getinfolist(%u) failed", next);
                if (got > size)
                        return hcall_errorf(error, -EBADMSG, XVP_ERR_INTERNAL,
                                            "xc_domain_getinfolist returned %d domains, asked for %d", got, size);
                for (int i = 0; i < got; i++) {
                        /* The list is in increasing id order from @next; anything else would loop. */
                        if (batch[i].domain < next || batch[i].domain > HCALL_DOMID_MAX)
                                return hcall_errorf(error, -EBADMSG, XVP_ERR_INTERNAL,
                                                    "xc_domain_getinfolist returned domain %u out of order",
                                                    (unsigned) batch[i].domain);
                        if (n >= HCALL_DOMAINS_MAX)
                                return hcall_errorf(error, -E2BIG, XVP_ERR_INTERNAL,
                                                    "More than %d domains", HCALL_DOMAINS_MAX);
                        if (GREEDY_REALLOC(list, allocated, n + 1) < 0)
                                return hcall_errorf(error, -ENOMEM, XVP_ERR_NO_MEMORY, "Out of memory");
                        info_from_xc(&batch[i], &list[n++]);
                        next = batch[i].domain + 1u;
                }
                if (got < size || next > HCALL_DOMID_MAX)
                        break;
        }
        __atomic_store_n(&h->last_list_n, n, __ATOMIC_RELAXED);
        if (!list) {
                list = new0(HcallDomainInfo, 1);
                if (!list)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

const HcallDomainInfo *hcall_list_find(const HcallDomainInfo *l, size_t n, int domid) {
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (l[mid].domid < domid)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < n && l[lo].domid == domid ? &l[lo] : NULL;
}

int hcall_domain_info(Hcall *h, int domid, HcallDomainInfo *ret, XvError *error) {
        xc_domaininfo_t x;
        int r, got;

        if (!h || !ret)
                return -EINVAL;
        r = domid_check(domid, error);
        if (r < 0)
                return r;
        /* getinfolist from @domid returns the next existing domain, which may be a later one. */
        errno = 0;
        got = xc_domain_getinfolist(h->xch, (uint32_t) domid, 1, &x);
        if (got < 0)
                return domain_call_error(error, errno_or_eio(), "xc_domain_getinfolist", domid);
        if (got == 0 || x.domain != (uint32_t) domid)
                return hcall_errorf(error, -ESRCH, XVP_ERR_NO_DOMAIN, "No domain with id %d", domid);
        info_from_xc(&x, ret);
        return 0;
}

#define DOMAIN_CALL(h, domid, error, call, ...)                                         \
        ({                                                                              \
                int _r = domid_check((domid), (error));                                 \
                if (_r >= 0) {                                                          \
                        errno = 0;                                                      \
                        if (call((h)->xch, (uint32_t) (domid), ##__VA_ARGS__) < 0)      \
                                _r = domain_call_error((error), errno_or_eio(), #call, (domid)); \
                }                                                                       \
                _r;                                                                     \
        })

int hcall_domain_pause(Hcall *h, int domid, XvError *error) {
        if (!h)
                return -EINVAL;
        return DOMAIN_CALL(h, domid, error, xc_domain_pause);
}

int hcall_domain_unpause(Hcall *h, int domid, XvError *error) {
        if (!h)
                return -EINVAL;
        return DOMAIN_CALL(h, domid, error, xc_domain_unpause);
}

int hcall_domain_destroy(Hcall *h, int domid, XvError *error) {
        if (!h)
                return -EINVAL;
        if (domid == 0)
                return hcall_errorf(error, -EBUSY, XVP_ERR_OPERATION_INVALID, "Domain 0 cannot be destroyed");
        return DOMAIN_CALL(h, domid, error, xc_domain_destroy);
}

int hcall_domain_set_max_memory(Hcall *h, int domid, uint64_t kib, XvError *error) {
        if (!h)
                return -EINVAL;
        if (kib == 0 || kib > UINT64_MAX / 1024)
                return hcall_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Invalid maximum memory %" PRIu64 " KiB", kib);
        return DOMAIN_CALL(h, domid, error, xc_domain_setmaxmem, kib);
}

int hcall_domain_set_max_vcpus(Hcall *h, int domid, unsigned n, XvError *error) {
        if (!h)
                return -EINVAL;
        if (n == 0 || n > HCALL_VCPUS_MAX)
                return hcall_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Invalid number of vcpus %u", n);
        return DOMAIN_CALL(h, domid, error, xc_domain_max_vcpus, n);
}

static int vcpu_check(int domid, unsigned vcpu, XvError *error) {
        int r;

        r = domid_check(domid, error);
        if (r < 0)
                return r;
        if (vcpu >= HCALL_VCPUS_MAX)
                return hcall_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Invalid vcpu %u", vcpu);
        return 0;
}

int hcall_vcpu_info(Hcall *h, int domid, unsigned vcpu, HcallVcpuInfo *ret, XvError *error) {
        xc_vcpuinfo_t x = {};
        int r;

        if (!h || !ret)
                return -EINVAL;
        r = vcpu_check(domid, vcpu, error);
        if (r < 0)
                return r;
        errno = 0;
        if (xc_vcpu_getinfo(h->xch, (uint32_t) domid, vcpu, &x) < 0) {
                r = errno_or_eio();
                if (r == -ESRCH)
                        return hcall_errorf(error, r, XVP_ERR_NO_DOMAIN, "No domain with id %d", domid);
                return hcall_error(error, r, XVP_ERR_XEN_CALL, "xc_vcpu_getinfo(%d, %u) failed", domid, vcpu);
        }
        *ret = (HcallVcpuInfo) {
                .online = x.online,
                .blocked = x.blocked,
                .running = x.running,
                .cpu_time_ns = x.cpu_time,
                .cpu = x.online ? (int) x.cpu : -1,
        };
        return 0;
}

/* A libxenctrl cpumap of the host's size. */
static int cpumap_new(Hcall *h, xc_cpumap_t *ret, size_t *ret_size, XvError *error) {
        xc_cpumap_t map;
        int size;

        errno = 0;
        size = xc_get_cpumap_size(h->xch);
        if (size <= 0)
                return hcall_error(error, errno_or_eio(), XVP_ERR_XEN_CALL, "xc_get_cpumap_size failed");
        map = calloc((size_t) size, 1);
        if (!map)
                return hcall_errorf(error, -ENOMEM, XVP_ERR_NO_MEMORY, "Out of memory");
        *ret = map;
        *ret_size = (size_t) size;
        return 0;
}

int hcall_vcpu_get_affinity(Hcall *h, int domid, unsigned vcpu, uint8_t *map, size_t maplen, XvError *error) {
        _cleanup_free_ uint8_t *xmap = NULL;
        size_t size = 0;
        int r;

        if (!h || (!map && maplen > 0))
                return -EINVAL;
        r = vcpu_check(domid, vcpu, error);
        if (r < 0)
                return r;
        r = cpumap_new(h, &xmap, &size, error);
        if (r < 0)
                return r;
        assert(xmap);   /* cpumap_new() sets it when it succeeds */
        errno = 0;
        if (xc_vcpu_getaffinity(h->xch, (uint32_t) domid, (int) vcpu, xmap, NULL, XEN_VCPUAFFINITY_HARD) < 0) {
                r = errno_or_eio();
                if (r == -ESRCH)
                        return hcall_errorf(error, r, XVP_ERR_NO_DOMAIN, "No domain with id %d", domid);
                return hcall_error(error, r, XVP_ERR_XEN_CALL, "xc_vcpu_getaffinity(%d, %u) failed", domid, vcpu);
        }
        /* Both maps are little-endian bit arrays (bit n of byte n / 8 is pcpu n). The caller may pass
         * no map (NULL, 0) to check only that the vCPU exists. */
        if (maplen > 0) {
                memset(map, 0, maplen);
                memcpy(map, xmap, MIN(size, maplen));
        }
        return 0;
}

int hcall_vcpu_set_affinity(Hcall *h, int domid, unsigned vcpu, const uint8_t *map, size_t maplen,
                            XvError *error) {
        _cleanup_free_ uint8_t *xmap = NULL;
        size_t size = 0;
        bool any = false;
        int r;

        if (!h || !map || maplen == 0)
                return hcall_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Empty cpu map");
        r = vcpu_check(domid, vcpu, error);
        if (r < 0)
                return r;
        r = cpumap_new(h, &xmap, &size, error);
        if (r < 0)
                return r;
        assert(xmap);   /* cpumap_new() sets it when it succeeds */
        memcpy(xmap, map, MIN(size, maplen));
        for (size_t i = 0; i < size; i++)
                if (xmap[i])
                        any = true;
        if (!any)
                return hcall_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "The cpu map selects no host cpu");
        errno = 0;
        if (xc_vcpu_setaffinity(h->xch, (uint32_t) domid, (int) vcpu, xmap, NULL, XEN_VCPUAFFINITY_HARD) < 0) {
                r = errno_or_eio();
                if (r == -ESRCH)
                        return hcall_errorf(error, r, XVP_ERR_NO_DOMAIN, "No domain with id %d", domid);
                return hcall_error(error, r, XVP_ERR_XEN_CALL, "xc_vcpu_setaffinity(%d, %u) failed", domid, vcpu);
        }
        return 0;
}

int hcall_sched_id(Hcall *h, int *ret, XvError *error) {
        int id = -1;

        if (!h || !ret)
                return -EINVAL;
        errno = 0;
        if (xc_sched_id(h->xch, &id) < 0)
                return hcall_error(error, errno_or_eio(), XVP_ERR_XEN_CALL, "xc_sched_id failed");
        *ret = id;
        return 0;
}

const char *hcall_sched_name(int sched_id) {
        switch (sched_id) {
        case XEN_SCHEDULER_CREDIT:
                return "credit";
        case XEN_SCHEDULER_CREDIT2:
                return "credit2";
        case XEN_SCHEDULER_ARINC653:
                return "arinc653";
        case XEN_SCHEDULER_RTDS:
                return "rtds";
        case XEN_SCHEDULER_NULL:
                return "null";
        default:
                return NULL;
        }
}

int hcall_sched_credit_get(Hcall *h, int domid, unsigned *ret_weight, unsigned *ret_cap, XvError *error) {
        struct xen_domctl_sched_credit s = {};
        int r;

        if (!h)
                return -EINVAL;
        r = DOMAIN_CALL(h, domid, error, xc_sched_credit_domain_get, &s);
        if (r < 0)
                return r;
        if (ret_weight)
                *ret_weight = s.weight;
        if (ret_cap)
                *ret_cap = s.cap;
        return 0;
}

int hcall_sched_credit_set(Hcall *h, int domid, unsigned weight, unsigned cap, XvError *error) {
        struct xen_domctl_sched_credit s;

        if (!h)
                return -EINVAL;
        /* The credit scheduler's ranges (xen/common/sched/credit.c). */
        if (weight < 1 || weight > 65535)
                return hcall_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Invalid credit weight %u (1..65535)", weight);
        if (cap > 65534)
                return hcall_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Invalid credit cap %u (0..65534)", cap);
        s = (struct xen_domctl_sched_credit) { .weight = (uint16_t) weight, .cap = (uint16_t) cap };
        return DOMAIN_CALL(h, domid, error, xc_sched_credit_domain_set, &s);
}

int hcall_physinfo(Hcall *h, HcallPhysinfo *ret, XvError *error) {
        xc_physinfo_t p = {};
        unsigned per_node;

        if (!h || !ret)
                return -EINVAL;
        errno = 0;
        if (xc_physinfo(h->xch, &p) < 0)
                return hcall_error(error, errno_or_eio(), XVP_ERR_XEN_CALL, "xc_physinfo failed");

        *ret = (HcallPhysinfo) {
                .nr_cpus = p.nr_cpus,
                .max_cpu_id = p.max_cpu_id,
                .nr_nodes = MAX(p.nr_nodes, 1u),
                .max_node_id = p.max_node_id,
                .threads_per_core = MAX(p.threads_per_core, 1u),
                .cores_per_socket = MAX(p.cores_per_socket, 1u),
                .cpu_khz = p.cpu_khz,
                .total_kib = p.total_pages * HCALL_PAGE_KIB,
                .free_kib = p.free_pages * HCALL_PAGE_KIB,
                .hvm_capable = p.capabilities & XEN_SYSCTL_PHYSCAP_hvm,
        };
        /* Xen reports no socket count: what the cpus do not explain by threads and cores, split
         * over the nodes (libvirt's nodeinfo arithmetic). */
        per_node = ret->threads_per_core * ret->cores_per_socket * ret->nr_nodes;
        ret->sockets_per_node = MAX(ret->nr_cpus / per_node, 1u);
        return 0;
}

int hcall_version(Hcall *h, HcallVersion *ret, XvError *error) {
        xen_extraversion_t extra = {};
        xen_capabilities_info_t caps = {};
        HcallVersion v = {};
        uint64_t micro;
        const char *end;
        int ver;

        if (!h || !ret)
                return -EINVAL;
        errno = 0;
        ver = xc_version(h->xch, XENVER_version, NULL);
        if (ver < 0)
                return hcall_error(error, errno_or_eio(), XVP_ERR_XEN_CALL, "xc_version(XENVER_version) failed");
        v.major = (unsigned) ver >> 16;
        v.minor = (unsigned) ver & 0xffff;

        errno = 0;
        if (xc_version(h->xch, XENVER_extraversion, &extra) < 0)
                return hcall_error(error, errno_or_eio(), XVP_ERR_XEN_CALL,
                                   "xc_version(XENVER_extraversion) failed");
        errno = 0;
        if (xc_version(h->xch, XENVER_capabilities, &caps) < 0)
                return hcall_error(error, errno_or_eio(), XVP_ERR_XEN_CALL,
                                   "xc_version(XENVER_capabilities) failed");
        /* Xen fills fixed-size buffers and does not promise a terminating NUL. */
        static_assert(sizeof(v.extra) > sizeof(extra), "extra version fits");
        static_assert(sizeof(v.capabilities) >= sizeof(caps), "capabilities fit");
        memcpy(v.extra, extra, strnlen(extra, sizeof(extra)));
        memcpy(v.capabilities, caps, strnlen(caps, sizeof(caps) - 1));

        /* ".3" or ".3-rc1" → micro 3; "-rc" or "" → 0. */
        if (v.extra[0] == '.' && parse_u64_prefix(v.extra + 1, &micro, &end) >= 0 && micro <= 999)
                v.micro = (unsigned) micro;
        *ret = v;
        return 0;
}

int hcall_max_cpus(Hcall *h, int *ret, XvError *error) {
        int n;

        if (!h || !ret)
                return -EINVAL;
        errno = 0;
        n = xc_get_max_cpus(h->xch);
        if (n <= 0)
                return hcall_error(error, n < 0 ? errno_or_eio() : -EIO, XVP_ERR_XEN_CALL, "xc_get_max_cpus failed");
        *ret = n;
        return 0;
}

int hcall_node_free_memory(Hcall *h, int start, int max, uint64_t *ret_bytes, int *ret_n, XvError *error) {
        HcallPhysinfo p = {};
        int r, n = 0;

        if (!h || !ret_n || (max > 0 && !ret_bytes))
                return -EINVAL;
        if (start < 0 || max < 0 || max > HCALL_NODES_MAX)
                return hcall_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Invalid cell range %d+%d", start, max);
        r = hcall_physinfo(h, &p, error);
        if (r < 0)
                return r;
        /* One cell per node that exists: Xen's max_node_id is the largest id it could ever use
         * (MAX_NUMNODES - 1, 63 on x86), not the last node present. */
        if (start >= (int) MAX(p.nr_nodes, 1u))
                return hcall_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Start cell %d out of range (0..%u)", start,
                                    MAX(p.nr_nodes, 1u) - 1);
        for (int node = start; node < (int) MAX(p.nr_nodes, 1u) && n < max; node++) {
                uint64_t bytes = 0;

                errno = 0;
                if (xc_availheap(h->xch, 0, 0, node, &bytes) < 0)
                        return hcall_error(error, errno_or_eio(), XVP_ERR_XEN_CALL, "xc_availheap(node %d) failed",
                                           node);
                ret_bytes[n++] = bytes;
        }
        *ret_n = n;
        return 0;
}
