/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * What both Xen backends share (see xv-backend-common.h).
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-backend-common.h"
#include "xv-capabilities.h"
#include "xv-fileio.h"
#include "xv-hoststats.h"
#include "xv-lock.h"
#include "xv-log.h"
#include "xv-macro.h"
#include "xv-time.h"
#include "xv-uuid.h"
#include "xv-xenstore.h"

void xvb_snaps_free(XvbSnap *l, size_t n) {
        for (size_t i = 0; l && i < n; i++)
                free(l[i].name);
        free(l);
}

XvbSnap xvb_snap_of(const HcallDomainInfo *info, char *name) {
        return (XvbSnap) {
                .domid = info->domid,
                .uuid = info->uuid,
                .name = name,
                .state = info->state,
                .shutdown = info->shutdown,
                .shutdown_code = info->shutdown_code,
                .cpu_time_ns = info->cpu_time_ns,
        };
}

static int snap_cmp(const void *a, const void *b) {
        const XvbSnap *x = a, *y = b;

        return (x->domid > y->domid) - (x->domid < y->domid);
}

void xvb_snaps_sort(XvbSnap *l, size_t n) {
        if (n > 1)
                qsort(l, n, sizeof(XvbSnap), snap_cmp);
}

/* Snapshots are sorted by domid: a binary search, so that a diff is not quadratic in the number
 * of domains. */
const XvbSnap *xvb_snap_find(const XvbSnap *l, size_t n, int domid, const XvUuid *uuid) {
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (l[mid].domid < domid)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo < n && l[lo].domid == domid && uuid_equal(&l[lo].uuid, uuid))
                return &l[lo];
        return NULL;
}

void xvb_event_list_done(XvbEventList *e) {
        for (size_t i = 0; i < e->n; i++)
                hv_domain_ref_done(&e->l[i].ref);
        free(e->l);
        *e = (XvbEventList) {};
}

int xvb_emit(XvbEventList *e, size_t max, const char *name, const XvUuid *uuid, int id, int event, int detail) {
        char *n;

        if (e->n >= max)
                return 0;
        n = strdup(name);
        if (!n)
                return -ENOMEM;
        if (GREEDY_REALLOC(e->l, e->allocated, e->n + 1) < 0) {
                free(n);
                return -ENOMEM;
        }
        e->l[e->n++] = (HvEvent) { .ref = { .name = n, .uuid = *uuid, .id = id }, .event = event, .detail = detail };
        return 0;
}

int xvb_snap_advance(void *backend, XvbDiffFn diff, XvbSnap **snap, size_t *n_snap, bool *snap_valid,
                     XvbSnap *now, size_t n_now, XvbEventList *e) {
        if (*snap_valid) {
                int r = diff(backend, *snap, *n_snap, now, n_now, e);

                if (r < 0) {
                        xvb_snaps_free(now, n_now);
                        return r;
                }
        }
        xvb_snaps_free(*snap, *n_snap);
        *snap = now;
        *n_snap = n_now;
        *snap_valid = true;
        return 0;
}

int xvb_queue_push(pthread_mutex_t *lock, HvEvent **queue, size_t *n_queue, size_t max,
                   const char *name, const XvUuid *uuid, int id, int event, int detail) {
        char *n = strdup(name);
        int r = 0;

        if (!n)
                return -ENOMEM;
        pthread_mutex_lock(lock);
        if (*n_queue < max) {
                HvEvent *q = reallocarray(*queue, *n_queue + 1, sizeof(HvEvent));

                if (q) {
                        *queue = q;
                        q[(*n_queue)++] = (HvEvent) {
                                .ref = { .name = TAKE_PTR(n), .uuid = *uuid, .id = id },
                                .event = event,
                                .detail = detail,
                        };
                }
                /* Out of memory: the event is dropped, like one beyond @max, but silently. */
        } else
                r = -ENOBUFS;
        pthread_mutex_unlock(lock);
        free(n);
        return r;
}

int xvb_queue_take(pthread_mutex_t *lock, HvEvent **queue, size_t *n_queue, XvbEventList *e) {
        XvbEventList q = {};

        pthread_mutex_lock(lock);
        q = (XvbEventList) { .l = *queue, .n = *n_queue, .allocated = *n_queue };
        *queue = NULL;
        *n_queue = 0;
        pthread_mutex_unlock(lock);

        if (q.n == 0)
                return 0;
        if (GREEDY_REALLOC(q.l, q.allocated, q.n + e->n) < 0) {
                xvb_event_list_done(&q);
                return -ENOMEM;
        }
        if (e->n > 0)
                memcpy(q.l + q.n, e->l, e->n * sizeof(HvEvent));
        q.n += e->n;
        free(e->l);
        *e = q;
        return 0;
}

void xvb_queue_append(pthread_mutex_t *lock, HvEvent **queue, size_t *n_queue, size_t max, XvbEventList *e) {
        if (e->n == 0)
                return;
        pthread_mutex_lock(lock);
        if (*n_queue + e->n <= max) {
                HvEvent *q = reallocarray(*queue, *n_queue + e->n, sizeof(HvEvent));

                if (q) {
                        memcpy(q + *n_queue, e->l, e->n * sizeof(HvEvent));
                        *queue = q;
                        *n_queue += e->n;
                        e->n = 0;
                }
        }
        pthread_mutex_unlock(lock);
}

int xvb_deliver(XvHypervisor *hv, HvEventCallback cb, void *userdata, const XvbEventList *e) {
        /* Called without any backend lock held: the callback may call back into the backend. */
        for (size_t i = 0; cb && i < e->n; i++)
                cb(hv, &e->l[i], userdata);
        return (int) MIN(e->n, (size_t) INT32_MAX);
}

int xvb_epoll_add(int epoll_fd, int fd) {
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

        if (epoll_fd < 0 || fd < 0)
                return 0;
        if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static struct timespec timespec_of_usec(uint64_t usec) {
        return (struct timespec) { .tv_sec = (time_t) (usec / 1000000), .tv_nsec = (long) (usec % 1000000) * 1000 };
}

int xvb_events_fds_open(int *epoll_fd, int *wake_fd, int *timer_fd, uint64_t poll_usec, XvError *error) {
        struct itimerspec its = { .it_interval = timespec_of_usec(poll_usec), .it_value = timespec_of_usec(poll_usec) };
        int r;

        *epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (*epoll_fd < 0)
                return xv_error_set_errnof(error, -errno, "Cannot create the event poll set");
        *wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (*wake_fd < 0)
                return xv_error_set_errnof(error, -errno, "Cannot create the wake-up eventfd");
        *timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (*timer_fd < 0)
                return xv_error_set_errnof(error, -errno, "Cannot create the poll timer");
        if (timerfd_settime(*timer_fd, 0, &its, NULL) < 0)
                return xv_error_set_errnof(error, -errno, "Cannot arm the poll timer");
        r = xvb_epoll_add(*epoll_fd, *wake_fd);
        if (r >= 0)
                r = xvb_epoll_add(*epoll_fd, *timer_fd);
        if (r < 0)
                return xv_error_set_errnof(error, r, "Cannot build the event poll set");
        return 0;
}

void xvb_signal(int wake_fd) {
        uint64_t one = 1;

        if (wake_fd >= 0)
                (void) !write(wake_fd, &one, sizeof(one));
}

bool xvb_drain(int fd) {
        uint64_t v;
        bool fired = false;

        while (read(fd, &v, sizeof(v)) > 0)
                fired = true;
        return fired;
}

void xvb_look_pacer_init(XvbLookPacer *p, int timer_fd, uint64_t poll_usec) {
        *p = (XvbLookPacer) { .timer_fd = timer_fd, .poll_usec = MAX(poll_usec, 1u) };
}

bool xvb_look_due(XvbLookPacer *p, uint64_t now) {
        uint64_t gap = MIN(p->last_cost * XVB_LOOK_GAP_FACTOR, XVB_LOOK_GAP_MAX_USEC), due;
        struct itimerspec its = {}, old;

        if (p->last_end == 0 || now < p->last_end)
                return true;
        due = p->last_end + gap;
        if (now >= due)
                return true;
        if (p->deferred)
                return false;           /* the timer is set for it already */
        /* Once, when it is due; xvb_look_done() puts the period back. */
        its.it_value = timespec_of_usec(due - now);
        if (p->timer_fd < 0 || timerfd_settime(p->timer_fd, 0, &its, &old) < 0)
                return true;            /* no timer to come back with: look now */
        p->next_tick = now + (uint64_t) old.it_value.tv_sec * 1000000 + (uint64_t) old.it_value.tv_nsec / 1000;
        p->deferred = true;
        return false;
}

bool xvb_look_now(XvbLookPacer *p, bool asked, bool by_watch) {
        return asked || (by_watch && xvb_look_due(p, monotonic_usec()));
}

void xvb_look_done(XvbLookPacer *p, uint64_t start, uint64_t end) {
        struct itimerspec its;

        p->last_end = end;
        p->last_cost = end > start ? end - start : 0;
        if (!p->deferred)
                return;
        p->deferred = false;
        /* The periodic ticks resume where they were (other periodic timers, such as xenstore's
         * health check, keep their phase relative to this one). */
        if (p->next_tick <= end)
                p->next_tick += ((end - p->next_tick) / p->poll_usec + 1) * p->poll_usec;
        its = (struct itimerspec) { .it_value = timespec_of_usec(p->next_tick - end),
                                    .it_interval = timespec_of_usec(p->poll_usec) };
        (void) timerfd_settime(p->timer_fd, 0, &its, NULL);
}

void xvb_info_cache_init(XvbInfoCache *c, XvbClockFn now, uint64_t max_age_usec) {
        *c = (XvbInfoCache) { .now = now ?: monotonic_usec, .max_age_usec = max_age_usec };
        (void) pthread_mutex_init(&c->lock, NULL);
}

void xvb_info_cache_done(XvbInfoCache *c) {
        c->l = mfree(c->l);
        c->n = 0;
        c->valid = false;
        (void) pthread_mutex_destroy(&c->lock);
}

void xvb_info_cache_invalidate(XvbInfoCache *c) {
        LOCKED(&c->lock);

        c->valid = false;
        c->gen++;               /* a refresh in progress was overtaken: it is thrown away */
}

static uint64_t max_age_locked(const XvbInfoCache *c) {
        uint64_t by_cost = c->list_usec * XVB_INFO_LIST_COST_FACTOR;

        return MIN(MAX(c->max_age_usec, by_cost), MAX(c->max_age_usec, XVB_INFO_MAX_AGE_CAP_USEC));
}

uint64_t xvb_info_cache_max_age(XvbInfoCache *c) {
        LOCKED(&c->lock);

        return max_age_locked(c);
}

/* Lists the hypervisor's domains for the snapshot, called with c->lock held and returning with
 * it held, but not holding it across @list. 0 when the new snapshot is in place; -ESTALE when an
 * invalidation overtook the list (what it returned may predate the change); @list's errors. */
static int refresh_locked(XvbInfoCache *c, XvbListFn list, void *userdata, uint64_t t) {
        HcallDomainInfo *l = NULL;
        uint64_t gen = c->gen, done;
        size_t n = 0;
        int r;

        c->refreshing = true;
        (void) pthread_mutex_unlock(&c->lock);
        r = list(userdata, &l, &n);
        done = c->now();
        (void) pthread_mutex_lock(&c->lock);
        c->refreshing = false;
        if (r < 0)
                return r;
        c->list_usec = done > t ? done - t : 0;
        if (gen != c->gen) {
                free(l);
                return -ESTALE;
        }
        free(c->l);
        c->l = l;
        c->n = n;
        c->stamp = t;
        c->valid = true;
        c->n_refreshes++;
        return 0;
}

int xvb_info_cache_get(XvbInfoCache *c, XvbListFn list, void *userdata, int domid, const XvUuid *uuid,
                       HcallDomainInfo *ret) {
        const HcallDomainInfo *x;
        uint64_t t, age;
        int r;

        LOCKED(&c->lock);

        t = c->now();
        age = max_age_locked(c);
        if (t < c->window_start || t - c->window_start > age) {
                c->window_start = t;
                c->window_calls = 0;
        }
        c->window_calls++;
        /* A clock that went backwards (another clock injected) counts as expired too. */
        if (!c->valid || t < c->stamp || t - c->stamp > age) {
                /* Someone is listing already, or too few calls to pay for a list of this host:
                 * the caller asks for its own domain. */
                if (c->refreshing || c->window_calls < 1 + c->n / XVB_INFO_DOMAINS_PER_CALL)
                        return -ESTALE;
                r = refresh_locked(c, list, userdata, t);
                if (r < 0)
                        return r;
        }
        x = hcall_list_find(c->l, c->n, domid);
        if (!x || (uuid && !uuid_equal(&x->uuid, uuid)))
                return -ENOENT;
        *ret = *x;
        return 0;
}

static int list_of_hc(void *userdata, HcallDomainInfo **ret, size_t *ret_n) {
        return hcall_list_domains(userdata, ret, ret_n, NULL);
}

int xvb_running_info(XvbInfoCache *c, Hcall *hc, bool snapshot, int id, const XvUuid *uuid,
                     HcallDomainInfo *ret, XvError *error) {
        int r;

        if (snapshot) {
                r = xvb_info_cache_get(c, list_of_hc, hc, id, uuid, ret);
                if (r >= 0 || r == -ENOMEM)
                        return r;
        }
        r = hcall_domain_info(hc, id, ret, error);
        if (r >= 0 && uuid && !uuid_equal(&ret->uuid, uuid))
                return -ESRCH;
        return r;
}

int xvb_vcpus_live(Hcall *hc, int domid, unsigned max_vcpu_id, int max_info, int maplen,
                   HvVcpuInfo **ret_info, size_t *ret_n, uint8_t **ret_maps, XvError *error) {
        _cleanup_free_ HvVcpuInfo *info = NULL;
        _cleanup_free_ uint8_t *maps = NULL;
        size_t n;
        int r;

        n = MIN((size_t) max_info, (size_t) max_vcpu_id + 1);
        info = new0(HvVcpuInfo, n);
        maps = new0(uint8_t, n * (size_t) maplen + 1);
        if (!info || !maps)
                return -ENOMEM;
        for (size_t v = 0; v < n; v++) {
                HcallVcpuInfo vi;

                r = hcall_vcpu_info(hc, domid, (unsigned) v, &vi, error);
                if (r < 0)
                        return r;
                info[v] = (HvVcpuInfo) {
                        .number = (unsigned) v,
                        .state = !vi.online ? 0 : vi.blocked ? 2 : 1,
                        .cpu_time_ns = vi.cpu_time_ns,
                        .cpu = vi.online ? vi.cpu : -1,
                };
                if (maplen > 0) {
                        r = hcall_vcpu_get_affinity(hc, domid, (unsigned) v, maps + v * (size_t) maplen,
                                                    (size_t) maplen, error);
                        if (r < 0)
                                return r;
                }
        }
        *ret_info = TAKE_PTR(info);
        *ret_n = n;
        if (ret_maps)
                *ret_maps = TAKE_PTR(maps);
        return 0;
}

int xvb_vcpu_affinities(Hcall *hc, int domid, unsigned max_vcpu_id, int ncpumaps, int maplen,
                        uint8_t **ret_maps, size_t *ret_n, XvError *error) {
        _cleanup_free_ uint8_t *maps = NULL;
        size_t n;
        int r;

        n = MIN((size_t) ncpumaps, (size_t) max_vcpu_id + 1);
        maps = new0(uint8_t, n * (size_t) maplen + 1);
        if (!maps)
                return -ENOMEM;
        for (size_t v = 0; v < n; v++) {
                r = hcall_vcpu_get_affinity(hc, domid, (unsigned) v, maps + v * (size_t) maplen,
                                            (size_t) maplen, error);
                if (r < 0)
                        return r;
        }
        *ret_maps = TAKE_PTR(maps);
        *ret_n = n;
        return 0;
}

int xvb_block_stats(XsChannel *xs, const char *host_root, int domid, const char *name, const char *path,
                    HvBlockStats *ret, XvError *error) {
        int devid, r;

        if (!xs)
                return xv_error_setf(error, XVP_ERR_NO_XENSTORE, "xenstore is not available");
        /* The device must be one of this domain's disks (its backend lists it). */
        r = xenstore_find_disk_devid(xs, domid, path, &devid, NULL);
        if (r < 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "invalid path: '%s' is not a disk of domain '%s'",
                                     path, name);
        return hoststats_block(host_root, domid, devid, ret, error);
}

int xvb_sched_name(Hcall *hc, const char **ret, XvError *error) {
        const char *name;
        int id, r;

        r = hcall_sched_id(hc, &id, error);
        if (r < 0)
                return r;
        name = hcall_sched_name(id);
        if (!name)
                return xv_error_setf(error, XVP_ERR_NO_SUPPORT, "Unknown scheduler %d", id);
        *ret = name;
        return 0;
}

int xvb_get_version(Hcall *hc, uint64_t *ret, XvError *error) {
        HcallVersion v;
        int r;

        r = hcall_version(hc, &v, error);
        if (r < 0)
                return r;
        *ret = (uint64_t) v.major * 1000000 + (uint64_t) v.minor * 1000 + v.micro;
        return 0;
}

int xvb_get_hostname(char **ret, XvError *error) {
        char buf[HOST_NAME_MAX + 1] = {};
        char *s;

        if (gethostname(buf, sizeof(buf) - 1) < 0)
                return xv_error_set_errnof(error, -errno, "Cannot get the host name");
        s = strdup(buf);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int xvb_get_max_vcpus(const char *type, int max, int *ret, XvError *error) {
        if (type && strcasecmp(type, "xen") != 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unknown hypervisor type '%s'", type);
        *ret = max;
        return 0;
}

int xvb_node_get_info(Hcall *hc, HvNodeInfo *ret, XvError *error) {
        HcallPhysinfo p;
        struct utsname u;
        int r;

        r = hcall_physinfo(hc, &p, error);
        if (r < 0)
                return r;
        *ret = (HvNodeInfo) {
                .memory_kib = p.total_kib,
                .cpus = p.nr_cpus,
                .mhz = p.cpu_khz / 1000,
                .nodes = p.nr_nodes ?: 1,
                .sockets = p.sockets_per_node ?: 1,
                .cores = p.cores_per_socket ?: 1,
                .threads = p.threads_per_core ?: 1,
        };
        /* libvirt's rule: a topology that does not multiply out is reported as one node. */
        if (ret->nodes * ret->sockets * ret->cores * ret->threads != ret->cpus) {
                ret->nodes = 1;
                ret->sockets = ret->cpus / (ret->cores * ret->threads) ?: 1;
        }
        if (uname(&u) >= 0)
                (void) snprintf(ret->model, sizeof(ret->model), "%.31s", u.machine);
        return 0;
}

int xvb_node_get_free_memory(Hcall *hc, uint64_t *ret_bytes, XvError *error) {
        HcallPhysinfo p;
        int r;

        r = hcall_physinfo(hc, &p, error);
        if (r < 0)
                return r;
        *ret_bytes = p.free_kib * 1024;
        return 0;
}

int xvb_node_get_cells_free_memory(Hcall *hc, int start_cell, int max_cells, uint64_t *ret_bytes, int *ret_n,
                                   XvError *error) {
        if (start_cell < 0 || max_cells <= 0 || max_cells > HCALL_NODES_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid NUMA cell range %d+%d", start_cell,
                                     max_cells);
        return hcall_node_free_memory(hc, start_cell, max_cells, ret_bytes, ret_n, error);
}

int xvb_node_get_cpu_map(Hcall *hc, uint8_t **ret_map, size_t *ret_len, unsigned *ret_online, int *ret_cpus,
                         XvError *error) {
        _cleanup_free_ uint8_t *map = NULL;
        HcallPhysinfo p;
        unsigned cpus;
        size_t len;
        int r;

        r = hcall_physinfo(hc, &p, error);
        if (r < 0)
                return r;
        cpus = MAX(p.max_cpu_id + 1, p.nr_cpus);
        if (cpus > CAPABILITIES_CPUS_MAX)
                return xv_error_setf(error, XVP_ERR_INTERNAL, "Too many host CPUs (%u)", cpus);
        len = (cpus + 7) / 8;
        map = new0(uint8_t, len);
        if (!map)
                return -ENOMEM;
        /* Xen does not tell which CPUs are offline in physinfo; the online ones are the first. */
        for (unsigned i = 0; i < p.nr_cpus && i < cpus; i++)
                map[i / 8] |= 1u << (i % 8);
        if (ret_map)
                *ret_map = TAKE_PTR(map);
        if (ret_len)
                *ret_len = len;
        if (ret_online)
                *ret_online = p.nr_cpus;
        if (ret_cpus)
                *ret_cpus = (int) cpus;
        return 0;
}

#define XVB_CPUINFO_PATH "/proc/cpuinfo"
#define XVB_XEN_CAPS_PATH "/sys/hypervisor/properties/capabilities"

int xvb_capabilities_base(Hcall *hc, const char *host_root, Capabilities **ret, XvError *error) {
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;
        _cleanup_free_ char *cpuinfo = NULL, *xen_caps = NULL, *path = NULL;
        HcallVersion v = {};
        struct utsname u;
        int r;

        r = hcall_version(hc, &v, error);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s" XVB_CPUINFO_PATH, host_root) < 0)
                return -ENOMEM;
        r = read_full_file(path, CAPABILITIES_CPUINFO_SIZE_MAX, &cpuinfo, NULL);
        if (r < 0)
                log_debug_errno(r, "Cannot read %s, ignoring: %m", path);
        path = mfree(path);
        if (asprintf(&path, "%s" XVB_XEN_CAPS_PATH, host_root) < 0)
                return -ENOMEM;
        r = read_full_file(path, CAPABILITIES_XEN_CAPS_SIZE_MAX, &xen_caps, NULL);
        if (r < 0) {
                xen_caps = strdup(v.capabilities);
                if (!xen_caps)
                        return -ENOMEM;
        }
        xen_caps[strcspn(xen_caps, "\n")] = 0;
        if (uname(&u) < 0)
                return xv_error_set_errnof(error, -errno, "uname() failed");
        r = capabilities_new(u.machine, CAPABILITIES_DIALECT_CURRENT, &caps, error);
        if (r < 0)
                return r;
        r = capabilities_add_xen_guests(caps, cpuinfo, xen_caps, v.major, v.minor, error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(caps);
        return 0;
}

int xvb_list_domain_ids(Hcall *hc, int **ret, size_t *ret_n, XvError *error) {
        _cleanup_free_ HcallDomainInfo *l = NULL;
        int *ids;
        size_t n = 0;
        int r;

        r = hcall_list_domains(hc, &l, &n, error);
        if (r < 0)
                return r;
        ids = new0(int, n ?: 1);
        if (!ids)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                ids[i] = l[i].domid;
        *ret = ids;
        *ret_n = n;
        return 0;
}

int xvb_running_names(Hcall *hc, XvbNamesOfFn names_of, void *backend, HcallDomainInfo **ret_info,
                      char ***ret_names, size_t *ret_n, XvError *error) {
        _cleanup_free_ HcallDomainInfo *l = NULL;
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;
        int r;

        r = hcall_list_domains(hc, &l, &n, error);
        if (r < 0)
                return r;
        names = new0(char *, n + 1);
        if (!names)
                return -ENOMEM;
        r = names_of(backend, l, n, names);
        if (r < 0) {
                /* The array may have holes: strv_free() would stop at the first. */
                for (size_t i = 0; i < n; i++)
                        names[i] = mfree(names[i]);
                return r;
        }
        for (size_t i = 0; i < n; i++)
                /* Introduced but not named yet (or a stale handle): xenstore will say soon. */
                if (!names[i] && asprintf(&names[i], "Domain-%d", l[i].domid) < 0)
                        return -ENOMEM;
        *ret_info = TAKE_PTR(l);
        *ret_names = TAKE_PTR(names);
        *ret_n = n;
        return 0;
}

bool xvb_summary_matches(const HvDomainSummary *s, unsigned flags) {
        bool active = s->ref.id >= 0;
        int st = s->info.state;

        if ((flags & (LIST_ACTIVE | LIST_INACTIVE)) &&
            !((flags & LIST_ACTIVE && active) || (flags & LIST_INACTIVE && !active)))
                return false;
        if ((flags & (LIST_PERSISTENT | LIST_TRANSIENT)) &&
            !((flags & LIST_PERSISTENT && s->persistent) || (flags & LIST_TRANSIENT && !s->persistent)))
                return false;
        if (flags & (LIST_RUNNING | LIST_PAUSED | LIST_SHUTOFF | LIST_OTHER)) {
                bool running = st == XVP_DOMAIN_RUNNING || st == XVP_DOMAIN_BLOCKED;
                bool paused = st == XVP_DOMAIN_PAUSED;
                bool shutoff = st == XVP_DOMAIN_SHUTOFF;
                bool other = !running && !paused && !shutoff;

                if (!((flags & LIST_RUNNING && running) || (flags & LIST_PAUSED && paused) ||
                      (flags & LIST_SHUTOFF && shutoff) || (flags & LIST_OTHER && other)))
                        return false;
        }
        if ((flags & (LIST_MANAGEDSAVE | LIST_NO_MANAGEDSAVE)) &&
            !((flags & LIST_MANAGEDSAVE && s->has_managed_save) ||
              (flags & LIST_NO_MANAGEDSAVE && !s->has_managed_save)))
                return false;
        if ((flags & (LIST_AUTOSTART | LIST_NO_AUTOSTART)) &&
            !((flags & LIST_AUTOSTART && s->autostart) || (flags & LIST_NO_AUTOSTART && !s->autostart)))
                return false;
        return true;
}

void xvb_summary_list_done(XvbSummaryList *c) {
        hv_domain_summaries_free(c->l, c->n);
        *c = (XvbSummaryList) {};
}

int xvb_summary_list_add(XvbSummaryList *c, HvDomainSummary *s) {
        if (!xvb_summary_matches(s, c->flags)) {
                hv_domain_ref_done(&s->ref);
                return 0;
        }
        if (GREEDY_REALLOC(c->l, c->allocated, c->n + 1) < 0) {
                hv_domain_ref_done(&s->ref);
                return -ENOMEM;
        }
        c->l[c->n++] = *s;
        return 0;
}

void xvb_wake(const XvbEventSource *s) {
        _cleanup_(xvb_event_list_done) XvbEventList e = {};

        pthread_mutex_lock(s->event_lock);
        if (s->collect(s->backend, &e) >= 0)
                xvb_queue_append(s->queue_lock, s->queue, s->n_queue, s->queue_max, &e);
        pthread_mutex_unlock(s->event_lock);
        xvb_signal(s->wake_fd);
}

int xvb_process_events(XvHypervisor *hv, const XvbEventSource *s) {
        _cleanup_(xvb_event_list_done) XvbEventList e = {};
        HvEventCallback cb;
        void *userdata;
        int r;

        pthread_mutex_lock(s->event_lock);
        r = s->collect(s->backend, &e);
        if (r >= 0)
                r = xvb_queue_take(s->queue_lock, s->queue, s->n_queue, &e);
        cb = *s->callback;
        userdata = *s->userdata;
        pthread_mutex_unlock(s->event_lock);
        if (r < 0)
                return r;
        return xvb_deliver(hv, cb, userdata, &e);
}

int xvb_emit_shutdown(const XvbTracker *t, XvbEventList *e, const XvbSnap *s) {
        switch (s->shutdown_code) {
        case HCALL_SHUTDOWN_CRASH:
        case HCALL_SHUTDOWN_WATCHDOG:
                t->set(t->backend, &s->uuid, XVB_TRACK_CRASHED);
                return xvb_emit(e, t->max_events, s->name, &s->uuid, s->domid, XVP_DOMAIN_EVENT_CRASHED,
                                XVP_DOMAIN_EVENT_CRASHED_PANICKED);
        case HCALL_SHUTDOWN_SUSPEND:
                /* Part of a save or migration: the STOPPED event that follows says which. */
                return 0;
        default:
                if (t->get(t->backend, &s->uuid) != XVB_TRACK_SHUTDOWN)
                        t->set(t->backend, &s->uuid, XVB_TRACK_SHUTDOWN);
                return xvb_emit(e, t->max_events, s->name, &s->uuid, s->domid, XVP_DOMAIN_EVENT_SHUTDOWN,
                                XVP_DOMAIN_EVENT_SHUTDOWN_FINISHED);
        }
}

int xvb_emit_gone(const XvbTracker *t, XvbEventList *e, const XvbSnap *p) {
        XvbTrack a = t->get(t->backend, &p->uuid);
        int detail;

        if (p->shutdown)
                detail = p->shutdown_code == HCALL_SHUTDOWN_CRASH || p->shutdown_code == HCALL_SHUTDOWN_WATCHDOG ?
                        XVP_DOMAIN_EVENT_STOPPED_CRASHED :
                        p->shutdown_code == HCALL_SHUTDOWN_SUSPEND ?
                        (a == XVB_TRACK_MIGRATED ? XVP_DOMAIN_EVENT_STOPPED_MIGRATED : XVP_DOMAIN_EVENT_STOPPED_SAVED) :
                        XVP_DOMAIN_EVENT_STOPPED_SHUTDOWN;
        else
                switch (a) {
                case XVB_TRACK_SAVED:
                        detail = XVP_DOMAIN_EVENT_STOPPED_SAVED;
                        break;
                case XVB_TRACK_MIGRATED:
                        detail = XVP_DOMAIN_EVENT_STOPPED_MIGRATED;
                        break;
                case XVB_TRACK_CRASHED:
                        detail = XVP_DOMAIN_EVENT_STOPPED_CRASHED;
                        break;
                case XVB_TRACK_SHUTDOWN: {
                        /* The shutdown state was too short to be seen: report it now. */
                        int r = xvb_emit(e, t->max_events, p->name, &p->uuid, p->domid, XVP_DOMAIN_EVENT_SHUTDOWN,
                                         XVP_DOMAIN_EVENT_SHUTDOWN_FINISHED);
                        if (r < 0)
                                return r;
                        detail = XVP_DOMAIN_EVENT_STOPPED_SHUTDOWN;
                        break;
                }
                default:
                        /* Vanished without shutting down: destroyed (by us or by another tool). */
                        detail = XVP_DOMAIN_EVENT_STOPPED_DESTROYED;
                        break;
                }

        switch (detail) {
        case XVP_DOMAIN_EVENT_STOPPED_CRASHED:
                t->set(t->backend, &p->uuid, XVB_TRACK_CRASHED);
                break;
        case XVP_DOMAIN_EVENT_STOPPED_SHUTDOWN:
                t->set(t->backend, &p->uuid, XVB_TRACK_SHUTDOWN);
                break;
        case XVP_DOMAIN_EVENT_STOPPED_DESTROYED:
                t->set(t->backend, &p->uuid, XVB_TRACK_DESTROYED);
                break;
        default:
                break;
        }
        return xvb_emit(e, t->max_events, p->name, &p->uuid, -1, XVP_DOMAIN_EVENT_STOPPED, detail);
}

/* Whether @path (below /local/domain/<id>) is what names the domain: its directory itself (made
 * or removed), its name or its vm node. */
static bool identity_node(const char *path) {
        const char *rest = path + strlen(XENSTORE_TREE_DOMAINS "/");

        rest += strcspn(rest, "/");
        return streq(rest, "") || streq(rest, "/name") || streq(rest, "/vm");
}

XvbTreePath xvb_xml_cache_drop_path(XmlCache *c, const char *path) {
        XvUuid uuid;
        int id;

        if (xenstore_path_backend_domid(path, &id) >= 0) {
                xml_cache_drop_id(c, id);
                return XVB_TREE_NODE;
        }
        if (xenstore_path_domid(path, &id) >= 0) {
                xml_cache_drop_id(c, id);
                return identity_node(path) ? XVB_TREE_IDENTITY : XVB_TREE_NODE;
        }
        if (xenstore_path_vm_uuid(path, &uuid) >= 0) {
                xml_cache_drop_domain(c, NULL, &uuid);
                return XVB_TREE_NODE;
        }
        if (xenstore_path_in_tree(path, XENSTORE_TREE_DOMAINS) || xenstore_path_in_tree(path, XENSTORE_TREE_VMS)) {
                xml_cache_drop_all(c);
                return XVB_TREE_NODE;
        }
        return XVB_TREE_OTHER;
}
