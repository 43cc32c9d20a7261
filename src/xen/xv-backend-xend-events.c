/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Lifecycle events of the xend backend.
 *
 * One fd for the daemon: an epoll set over the xenstore watch fd (@introduceDomain and
 * @releaseDomain, which xenstored also fires when a domain shuts down or crashes), the inotify fd
 * of the XM directory, an eventfd that operations signal, and a periodic timer (pausing a domain
 * fires no watch, so a domain paused by another tool is noticed at the next tick).
 *
 * hypervisor_process_events() never sleeps: it drains those fds, then diffs the hypervisor's
 * domain list against the previous snapshot. Every change is reported once, in order, whoever
 * caused it, with the reason Xen gives (the shutdown code) or, for what xenvirt did itself, the
 * action it recorded. Operations never emit lifecycle events themselves (so nothing is
 * duplicated); they only queue DEFINED/UNDEFINED for XenD-managed definitions, which leave no
 * trace the diff could see.
 */

#include <assert.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-backend-xend-internal.h"
#include "xv-log.h"

static void snaps_free(Snap *l, size_t n) {
        for (size_t i = 0; l && i < n; i++)
                free(l[i].name);
        free(l);
}

static int epoll_add(XendBackend *h, int fd) {
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

        if (h->epoll_fd < 0 || fd < 0)
                return 0;
        if (epoll_ctl(h->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int backend_events_add_xm(XendBackend *h) {
        /* Called with xend_lock held, from open or from the first XenD contact. */
        if (!h->xm || h->xm_fd_added)
                return 0;
        if (h->epoll_fd < 0)
                return 0;
        h->xm_fd_added = true;
        return epoll_add(h, xm_dir_inotify_fd(h->xm));
}

static int snap_cmp(const void *a, const void *b) {
        const Snap *x = a, *y = b;

        return (x->domid > y->domid) - (x->domid < y->domid);
}

/* The current hypervisor list as a snapshot; domains not named in xenstore yet are left out, so
 * that they count as new at the next look. */
static int take_snapshot(XendBackend *h, Snap **ret, size_t *ret_n) {
        _cleanup_free_ HcallDomainInfo *l = NULL;
        _cleanup_strv_free_ char **names = NULL;
        Snap *s;
        size_t n = 0, k = 0;
        int r;

        if (!h->hc) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        r = hcall_list_domains(h->hc, &l, &n, NULL);
        if (r < 0)
                return r;
        names = new0(char *, n + 1);
        if (!names)
                return -ENOMEM;
        r = backend_names_of(h, l, n, names);
        s = r < 0 ? NULL : new0(Snap, n);
        if (!s) {
                /* The array may have holes: strv_free() would stop at the first. */
                for (size_t i = 0; i < n; i++)
                        names[i] = mfree(names[i]);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                char *name = TAKE_PTR(names[i]);

                if (!name)
                        continue;
                s[k++] = (Snap) {
                        .domid = l[i].domid,
                        .uuid = l[i].uuid,
                        .name = name,
                        .state = l[i].state,
                        .shutdown = l[i].shutdown,
                        .shutdown_code = l[i].shutdown_code,
                };
        }
        /* Xen lists by domid already; sorting makes sure of it for snap_find(). */
        qsort(s, k, sizeof(Snap), snap_cmp);
        *ret = s;
        *ret_n = k;
        return 0;
}

int backend_events_init(XendBackend *h, XvError *error) {
        struct itimerspec its = {
                .it_interval = { .tv_sec = BACKEND_POLL_USEC / 1000000, .tv_nsec = (BACKEND_POLL_USEC % 1000000) * 1000 },
                .it_value = { .tv_sec = BACKEND_POLL_USEC / 1000000, .tv_nsec = (BACKEND_POLL_USEC % 1000000) * 1000 },
        };
        int r;

        h->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (h->epoll_fd < 0)
                return xv_error_set_errnof(error, -errno, "Cannot create the event poll set");
        h->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (h->wake_fd < 0)
                return xv_error_set_errnof(error, -errno, "Cannot create the wake-up eventfd");
        h->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (h->timer_fd < 0)
                return xv_error_set_errnof(error, -errno, "Cannot create the poll timer");
        if (timerfd_settime(h->timer_fd, 0, &its, NULL) < 0)
                return xv_error_set_errnof(error, -errno, "Cannot arm the poll timer");

        r = epoll_add(h, h->wake_fd);
        if (r >= 0)
                r = epoll_add(h, h->timer_fd);
        if (r >= 0 && h->xs)
                r = epoll_add(h, xenstore_event_fd(h->xs));
        if (r < 0)
                return xv_error_set_errnof(error, r, "Cannot build the event poll set");
        {
                pthread_mutex_lock(&h->xend_lock);
                r = backend_events_add_xm(h);
                pthread_mutex_unlock(&h->xend_lock);
                if (r < 0)
                        return xv_error_set_errnof(error, r, "Cannot watch the XM directory");
        }

        r = take_snapshot(h, &h->snap, &h->n_snap);
        if (r == -ENOMEM)
                return r;
        h->snap_valid = r >= 0;
        return 0;
}

void backend_events_done(XendBackend *h) {
        h->epoll_fd = safe_close(h->epoll_fd);
        h->wake_fd = safe_close(h->wake_fd);
        h->timer_fd = safe_close(h->timer_fd);
        snaps_free(h->snap, h->n_snap);
        h->snap = NULL;
        h->n_snap = 0;
}

int xendbe_set_event_callback(XvHypervisor *hv, HvEventCallback callback, void *userdata) {
        XendBackend *h = xend_of(hv);

        pthread_mutex_lock(&h->event_lock);
        h->callback = callback;
        h->userdata = userdata;
        pthread_mutex_unlock(&h->event_lock);
        return 0;
}

int xendbe_event_fd(XvHypervisor *hv) {
        XendBackend *h = xend_of(hv);

        return h->epoll_fd;
}

static void signal_loop(XendBackend *h) {
        uint64_t one = 1;

        if (h->wake_fd >= 0)
                (void) !write(h->wake_fd, &one, sizeof(one));
}

void backend_queue_event(XendBackend *h, const char *name, const XvUuid *uuid, int id, int event, int detail) {
        char *n = strdup(name);

        if (!n)
                return;
        pthread_mutex_lock(&h->track_lock);
        if (h->n_queue < BACKEND_EVENTS_MAX) {
                HvEvent *q = reallocarray(h->queue, h->n_queue + 1, sizeof(HvEvent));

                if (q) {
                        h->queue = q;
                        h->queue[h->n_queue++] = (HvEvent) {
                                .ref = { .name = TAKE_PTR(n), .uuid = *uuid, .id = id },
                                .event = event,
                                .detail = detail,
                        };
                }
        }
        pthread_mutex_unlock(&h->track_lock);
        free(n);
        signal_loop(h);
}

typedef struct EventList {
        HvEvent *l;
        size_t n, allocated;
} EventList;

static void event_list_done(EventList *e) {
        for (size_t i = 0; i < e->n; i++)
                hv_domain_ref_done(&e->l[i].ref);
        free(e->l);
        *e = (EventList) {};
}

static int emit(EventList *e, const char *name, const XvUuid *uuid, int id, int event, int detail) {
        char *n = strdup(name);

        if (!n)
                return -ENOMEM;
        if (GREEDY_REALLOC(e->l, e->allocated, e->n + 1) < 0) {
                free(n);
                return -ENOMEM;
        }
        e->l[e->n++] = (HvEvent) { .ref = { .name = n, .uuid = *uuid, .id = id }, .event = event, .detail = detail };
        return 0;
}

/* Snapshots are sorted by domid (take_snapshot()): a binary search, so that a diff is not
 * quadratic in the number of domains. */
static const Snap *snap_find(const Snap *l, size_t n, int domid, const XvUuid *uuid) {
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

/* A newly set shutdown flag: the guest (or a tool) ended the domain with Xen's shutdown code. */
static int emit_shutdown(XendBackend *h, EventList *e, const Snap *s) {
        switch (s->shutdown_code) {
        case HCALL_SHUTDOWN_CRASH:
        case HCALL_SHUTDOWN_WATCHDOG:
                backend_track(h, &s->uuid, TRACK_CRASHED);
                return emit(e, s->name, &s->uuid, s->domid, XVP_DOMAIN_EVENT_CRASHED, XVP_DOMAIN_EVENT_CRASHED_PANICKED);
        case HCALL_SHUTDOWN_SUSPEND:
                /* Part of a save or migration: the STOPPED event that follows says which. */
                return 0;
        default:
                if (backend_track_get(h, &s->uuid) != TRACK_SHUTDOWN)
                        backend_track(h, &s->uuid, TRACK_SHUTDOWN);
                return emit(e, s->name, &s->uuid, s->domid, XVP_DOMAIN_EVENT_SHUTDOWN, XVP_DOMAIN_EVENT_SHUTDOWN_FINISHED);
        }
}

static int emit_gone(XendBackend *h, EventList *e, const Snap *p) {
        TrackAction a = backend_track_get(h, &p->uuid);
        int detail;

        if (p->shutdown)
                detail = p->shutdown_code == HCALL_SHUTDOWN_CRASH || p->shutdown_code == HCALL_SHUTDOWN_WATCHDOG ?
                        XVP_DOMAIN_EVENT_STOPPED_CRASHED :
                        p->shutdown_code == HCALL_SHUTDOWN_SUSPEND ?
                        (a == TRACK_MIGRATED ? XVP_DOMAIN_EVENT_STOPPED_MIGRATED : XVP_DOMAIN_EVENT_STOPPED_SAVED) :
                        XVP_DOMAIN_EVENT_STOPPED_SHUTDOWN;
        else
                switch (a) {
                case TRACK_SAVED:
                        detail = XVP_DOMAIN_EVENT_STOPPED_SAVED;
                        break;
                case TRACK_MIGRATED:
                        detail = XVP_DOMAIN_EVENT_STOPPED_MIGRATED;
                        break;
                case TRACK_CRASHED:
                        detail = XVP_DOMAIN_EVENT_STOPPED_CRASHED;
                        break;
                case TRACK_SHUTDOWN: {
                        /* The shutdown state was too short to be seen: report it now. */
                        int r = emit(e, p->name, &p->uuid, p->domid, XVP_DOMAIN_EVENT_SHUTDOWN,
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
                backend_track(h, &p->uuid, TRACK_CRASHED);
                break;
        case XVP_DOMAIN_EVENT_STOPPED_SHUTDOWN:
                backend_track(h, &p->uuid, TRACK_SHUTDOWN);
                break;
        case XVP_DOMAIN_EVENT_STOPPED_DESTROYED:
                backend_track(h, &p->uuid, TRACK_DESTROYED);
                break;
        default:
                break;
        }
        return emit(e, p->name, &p->uuid, -1, XVP_DOMAIN_EVENT_STOPPED, detail);
}

static int diff(XendBackend *h, const Snap *old, size_t n_old, Snap *now, size_t n_now, EventList *e) {
        int r;

        for (size_t i = 0; i < n_old; i++)
                if (!snap_find(now, n_now, old[i].domid, &old[i].uuid)) {
                        r = emit_gone(h, e, &old[i]);
                        if (r < 0)
                                return r;
                }

        for (size_t i = 0; i < n_now; i++) {
                Snap *n = &now[i];
                const Snap *p = snap_find(old, n_old, n->domid, &n->uuid);

                if (!p) {
                        TrackAction a = backend_track_get(h, &n->uuid);

                        r = emit(e, n->name, &n->uuid, n->domid, XVP_DOMAIN_EVENT_STARTED,
                                 a == TRACK_RESTORED ? XVP_DOMAIN_EVENT_STARTED_RESTORED : XVP_DOMAIN_EVENT_STARTED_BOOTED);
                        if (r < 0)
                                return r;
                        if (a != TRACK_BOOTED && a != TRACK_RESTORED && a != TRACK_PAUSED && a != TRACK_UNPAUSED)
                                backend_track(h, &n->uuid, TRACK_BOOTED);
                        if (n->shutdown)
                                r = emit_shutdown(h, e, n);
                        else if (n->state == XVP_DOMAIN_PAUSED && (a == TRACK_BOOTED || a == TRACK_RESTORED))
                                /* Being started by xenvirt: domains are built paused. Seen as
                                 * running, so that a domain left paused is reported at the next look. */
                                n->state = XVP_DOMAIN_RUNNING;
                        else if (n->state == XVP_DOMAIN_PAUSED)
                                r = emit(e, n->name, &n->uuid, n->domid, XVP_DOMAIN_EVENT_SUSPENDED,
                                         XVP_DOMAIN_EVENT_SUSPENDED_PAUSED);
                        if (r < 0)
                                return r;
                        continue;
                }

                if (n->shutdown) {
                        if (!p->shutdown) {
                                r = emit_shutdown(h, e, n);
                                if (r < 0)
                                        return r;
                        }
                        continue;
                }
                if (p->state != XVP_DOMAIN_PAUSED && n->state == XVP_DOMAIN_PAUSED)
                        r = emit(e, n->name, &n->uuid, n->domid, XVP_DOMAIN_EVENT_SUSPENDED,
                                 XVP_DOMAIN_EVENT_SUSPENDED_PAUSED);
                else if (p->state == XVP_DOMAIN_PAUSED && n->state != XVP_DOMAIN_PAUSED &&
                         n->state != XVP_DOMAIN_SHUTDOWN)
                        r = emit(e, n->name, &n->uuid, n->domid, XVP_DOMAIN_EVENT_RESUMED,
                                 XVP_DOMAIN_EVENT_RESUMED_UNPAUSED);
                else
                        r = 0;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int collect(XendBackend *h, EventList *e) {
        _cleanup_strv_free_ char **paths = NULL;
        Snap *now = NULL;
        size_t n_now = 0;
        uint64_t v;
        XmDir *xm;
        int r;

        /* Drain every source: the diff below looks at the whole state anyway. */
        while (read(h->wake_fd, &v, sizeof(v)) > 0)
                ;
        while (read(h->timer_fd, &v, sizeof(v)) > 0)
                ;
        if (h->xs) {
                bool resync = false;

                r = xenstore_read_events(h->xs, &paths, &resync, NULL);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || resync || strv_length(paths) > 0) {
                        backend_cache_invalidate(h);
                        /* A domain introduced or released: what XenD said about inactive
                         * domains may no longer hold (started or stopped elsewhere). */
                        backend_inactive_invalidate(h);
                }
        }

        /* The XM directory: what inotify (or our own writes) changed since the last report. */
        xm = backend_xm(h);
        if (xm) {
                XmDirChange *c = NULL;
                size_t n = 0;

                r = xm_dir_take_changes(xm, &c, &n);
                if (r == -ENOMEM)
                        return r;
                for (size_t i = 0; r >= 0 && i < n; i++)
                        r = emit(e, c[i].name, &c[i].uuid, -1,
                                 c[i].type == XM_DIR_CHANGE_REMOVED ? XVP_DOMAIN_EVENT_UNDEFINED : XVP_DOMAIN_EVENT_DEFINED,
                                 c[i].type == XM_DIR_CHANGE_UPDATED ? XVP_DOMAIN_EVENT_DEFINED_UPDATED :
                                 c[i].type == XM_DIR_CHANGE_ADDED ? XVP_DOMAIN_EVENT_DEFINED_ADDED :
                                 XVP_DOMAIN_EVENT_UNDEFINED_REMOVED);
                xm_dir_changes_free(c, n);
                if (r < 0)
                        return r;
        }

        /* The hypervisor's list against the previous look. */
        r = take_snapshot(h, &now, &n_now);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;       /* hypercalls failing: keep the old snapshot, look again later */
        if (h->snap_valid) {
                r = diff(h, h->snap, h->n_snap, now, n_now, e);
                if (r < 0) {
                        snaps_free(now, n_now);
                        return r;
                }
        }
        snaps_free(h->snap, h->n_snap);
        h->snap = now;
        h->n_snap = n_now;
        h->snap_valid = true;
        return 0;
}

/* Moves the queue (events of operations and of earlier looks) to the front of @e. */
static int take_queue(XendBackend *h, EventList *e) {
        EventList q = {};

        pthread_mutex_lock(&h->track_lock);
        q = (EventList) { .l = h->queue, .n = h->n_queue, .allocated = h->n_queue };
        h->queue = NULL;
        h->n_queue = 0;
        pthread_mutex_unlock(&h->track_lock);

        if (q.n == 0)
                return 0;
        if (GREEDY_REALLOC(q.l, q.allocated, q.n + e->n) < 0) {
                event_list_done(&q);
                return -ENOMEM;
        }
        if (e->n > 0)
                memcpy(q.l + q.n, e->l, e->n * sizeof(HvEvent));
        q.n += e->n;
        free(e->l);
        *e = q;
        return 0;
}

/* After an operation: look at the hypervisor now, so that a state the operation passed through
 * (a domain created and saved before the loop looked) is still reported, then wake the loop to
 * deliver. Runs on the operation's thread; only hypercalls and xenstore, never XenD. */
void backend_wake(XendBackend *h) {
        _cleanup_(event_list_done) EventList e = {};

        pthread_mutex_lock(&h->event_lock);
        if (collect(h, &e) >= 0 && e.n > 0) {
                pthread_mutex_lock(&h->track_lock);
                if (h->n_queue + e.n <= BACKEND_EVENTS_MAX) {
                        HvEvent *q = reallocarray(h->queue, h->n_queue + e.n, sizeof(HvEvent));

                        if (q) {
                                memcpy(q + h->n_queue, e.l, e.n * sizeof(HvEvent));
                                h->queue = q;
                                h->n_queue += e.n;
                                e.n = 0;
                        }
                }
                pthread_mutex_unlock(&h->track_lock);
        }
        pthread_mutex_unlock(&h->event_lock);
        signal_loop(h);
}

int xendbe_process_events(XvHypervisor *hv) {
        XendBackend *h = xend_of(hv);
        _cleanup_(event_list_done) EventList e = {};
        HvEventCallback cb;
        void *userdata;
        int r;

        pthread_mutex_lock(&h->event_lock);
        r = collect(h, &e);
        if (r >= 0)
                r = take_queue(h, &e);
        cb = h->callback;
        userdata = h->userdata;
        pthread_mutex_unlock(&h->event_lock);
        if (r < 0)
                return r;

        /* Delivered without any backend lock held: the callback may call back into the backend. */
        for (size_t i = 0; cb && i < e.n; i++)
                cb(hv, &e.l[i], userdata);
        return (int) MIN(e.n, (size_t) INT32_MAX);
}
