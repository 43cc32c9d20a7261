/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Lifecycle events of the libxl backend, the libxl event thread and autostart.
 *
 * One fd for the daemon: an epoll set over the xenstore watch fd (@introduceDomain and
 * @releaseDomain: xenstored fires them for every domain created, shut down or destroyed, by
 * xenvirtd, by `xl` or by any other libxl user), an eventfd that operations and the libxl event
 * thread signal, and a periodic timer (pausing fires no watch). process_events() never sleeps: it
 * drains those fds and diffs the hypervisor's domain list against the previous snapshot, so every
 * change is reported once, in order, whoever caused it ("adopted" domains included), with the
 * reason Xen gives (the shutdown code) or, for what xenvirtd did itself, the action it recorded.
 * Operations queue only DEFINED/UNDEFINED (the store leaves no trace the diff could see).
 *
 * Two more watches on the same channel, on the trees /local/domain and /vm, keep dumpxml's cache
 * honest: a write below a domain's nodes (another tool attaching a disk, setting the memory
 * target, renaming) drops the cached text of that domain and the shared info snapshot. Such
 * writes cost no look at the hypervisor (a domain starting writes dozens of them, and
 * @introduceDomain says so anyway); a domain's name or vm node also drops the name cache. (A
 * second xenstore channel for them, as this backend once had, went with intermittent heap
 * corruption on real Xen while guests booted or shut down: one channel, as the xend backend has.)
 *
 * The libxl event thread: libxl leaves a guest's own poweroff/reboot/crash to the toolstack
 * (`xl` keeps a process per domain for it). For the domains xenvirtd started, the thread watches
 * libxl's domain death events (libxl_evenable_domain_death, libxl_osevent_beforepoll/afterpoll
 * with a stop eventfd) and applies the definition's on_poweroff/on_reboot/on_crash: destroy,
 * restart, or preserve. Domains other tools created are left to them.
 *
 * The autostart thread runs once at open: it takes over the watch of the stored domains that
 * are already running (a xenvirtd restart must not lose them), then starts every autostart
 * definition that is not running, logging failures. The daemon is ready meanwhile.
 */

#include <assert.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-backend-libxl-internal.h"
#include "xv-libxl-ops.h"
#include "xv-log.h"
#include "xv-time.h"

/* The current hypervisor list; domains not named in xenstore yet are left out, so that they
 * count as new at the next look. */
static int take_snapshot(LibxlBackend *h, LxSnap **ret, size_t *ret_n) {
        _cleanup_free_ HcallDomainInfo *l = NULL;
        LxSnap *s;
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
        s = new0(LxSnap, n ?: 1);
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char *name = NULL;

                r = lx_name_of(h, l[i].domid, &l[i].uuid, &name, NULL);
                if (r == -ENOMEM) {
                        xvb_snaps_free(s, k);
                        return r;
                }
                if (!name)
                        continue;
                s[k++] = xvb_snap_of(&l[i], name);
        }
        /* Xen lists by domid already; sorting makes sure of it for xvb_snap_find(). */
        xvb_snaps_sort(s, k);
        *ret = s;
        *ret_n = k;
        return 0;
}

int lx_events_init(LibxlBackend *h, XvError *error) {
        int r;

        r = xvb_events_fds_open(&h->epoll_fd, &h->wake_fd, &h->timer_fd, LX_POLL_USEC, error);
        if (r < 0)
                return r;
        xvb_look_pacer_init(&h->look_pacer, h->timer_fd, LX_POLL_USEC);
        h->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (h->stop_fd < 0)
                return xv_error_set_errnof(error, -errno, "Cannot create the stop eventfd");
        if (h->xs) {
                r = xvb_epoll_add(h->epoll_fd, xenstore_event_fd(h->xs));
                if (r < 0)
                        return xv_error_set_errnof(error, r, "Cannot build the event poll set");
                /* dumpxml's cache: any write below a domain's nodes drops its text (a reconnect
                 * resyncs, which drops everything). */
                r = xenstore_watch_domain_trees(h->xs);
                if (r < 0)
                        return r;
        }

        r = take_snapshot(h, &h->snap, &h->n_snap);
        if (r == -ENOMEM)
                return r;
        h->snap_valid = r >= 0;
        return 0;
}

void lx_events_done(LibxlBackend *h) {
        h->epoll_fd = safe_close(h->epoll_fd);
        h->wake_fd = safe_close(h->wake_fd);
        h->timer_fd = safe_close(h->timer_fd);
        h->stop_fd = safe_close(h->stop_fd);
        xvb_snaps_free(h->snap, h->n_snap);
        h->snap = NULL;
        h->n_snap = 0;
}

int lx_set_event_callback(XvHypervisor *hv, HvEventCallback callback, void *userdata) {
        LibxlBackend *h = lx_of(hv);

        pthread_mutex_lock(&h->event_lock);
        h->callback = callback;
        h->userdata = userdata;
        pthread_mutex_unlock(&h->event_lock);
        return 0;
}

int lx_event_fd(XvHypervisor *hv) {
        return lx_of(hv)->epoll_fd;
}

void lx_queue_event(LibxlBackend *h, const char *name, const XvUuid *uuid, int id, int event, int detail) {
        int r = xvb_queue_push(&h->track_lock, &h->queue, &h->n_queue, LX_EVENTS_MAX, name, uuid, id, event, detail);

        if (r == -ENOBUFS)
                log_warning("libxl backend: event queue full (%u), dropping an event of '%s'", LX_EVENTS_MAX, name);
        else if (r == -ENOMEM)
                return;
        xvb_signal(h->wake_fd);
}

typedef XvbEventList EventList;

static int emit(EventList *e, const char *name, const XvUuid *uuid, int id, int event, int detail) {
        return xvb_emit(e, LX_EVENTS_MAX, name, uuid, id, event, detail);
}

static XvbTrack track_get(void *backend, const XvUuid *uuid) {
        switch (lx_track_get(backend, uuid)) {
        case LX_SAVED:
                return XVB_TRACK_SAVED;
        case LX_CRASHED:
                return XVB_TRACK_CRASHED;
        case LX_SHUTDOWN:
                return XVB_TRACK_SHUTDOWN;
        case LX_DESTROYED:
                return XVB_TRACK_DESTROYED;
        default:
                return XVB_TRACK_OTHER;
        }
}

static void track_set(void *backend, const XvUuid *uuid, XvbTrack t) {
        switch (t) {
        case XVB_TRACK_CRASHED:
                lx_track(backend, uuid, LX_CRASHED);
                break;
        case XVB_TRACK_SHUTDOWN:
                lx_track(backend, uuid, LX_SHUTDOWN);
                break;
        case XVB_TRACK_DESTROYED:
                lx_track(backend, uuid, LX_DESTROYED);
                break;
        default:
                break;
        }
}

static XvbTracker tracker_of(LibxlBackend *h) {
        return (XvbTracker) { .backend = h, .get = track_get, .set = track_set, .max_events = LX_EVENTS_MAX };
}

static int emit_shutdown(LibxlBackend *h, EventList *e, const LxSnap *s) {
        XvbTracker t = tracker_of(h);

        return xvb_emit_shutdown(&t, e, s);
}

static int emit_gone(LibxlBackend *h, EventList *e, const LxSnap *p) {
        XvbTracker t = tracker_of(h);

        return xvb_emit_gone(&t, e, p);
}

/* A paused domain libxl is still building: xenvirtd is starting or restoring it, or it has never
 * run a single instruction (domains are built paused; a guest paused later has used CPU time). */
static bool being_built(const LxSnap *n, LxAction a) {
        return a == LX_STARTING || a == LX_RESTORING || n->cpu_time_ns == 0;
}

/* libxl pauses a domain before saving or destroying it. */
static bool paused_by_libxl(LxAction a) {
        return a == LX_SAVED || a == LX_DESTROYED;
}

static int diff(void *backend, const LxSnap *old, size_t n_old, LxSnap *now, size_t n_now, EventList *e) {
        LibxlBackend *h = backend;
        int r;

        for (size_t i = 0; i < n_old; i++)
                if (!xvb_snap_find(now, n_now, old[i].domid, &old[i].uuid)) {
                        r = emit_gone(h, e, &old[i]);
                        if (r < 0)
                                return r;
                }

        for (size_t i = 0; i < n_now; i++) {
                LxSnap *n = &now[i];
                const LxSnap *p = xvb_snap_find(old, n_old, n->domid, &n->uuid);

                if (!p) {
                        LxAction a = lx_track_get(h, &n->uuid);

                        r = emit(e, n->name, &n->uuid, n->domid, XVP_DOMAIN_EVENT_STARTED,
                                 a == LX_RESTORED || a == LX_RESTORING ? XVP_DOMAIN_EVENT_STARTED_RESTORED
                                                                       : XVP_DOMAIN_EVENT_STARTED_BOOTED);
                        if (r < 0)
                                return r;
                        if (a != LX_STARTING && a != LX_RESTORING && a != LX_BOOTED && a != LX_RESTORED &&
                            a != LX_PAUSED && a != LX_UNPAUSED)
                                lx_track(h, &n->uuid, LX_BOOTED);
                        if (n->shutdown)
                                r = emit_shutdown(h, e, n);
                        else if (n->state == XVP_DOMAIN_PAUSED && being_built(n, a))
                                /* Built paused (by xenvirtd, xl or any libxl user): seen as running, so
                                 * that only a domain left paused once built is reported. */
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
                if (n->state == XVP_DOMAIN_PAUSED && p->state != XVP_DOMAIN_PAUSED &&
                    (being_built(n, lx_track_get(h, &n->uuid)) || paused_by_libxl(lx_track_get(h, &n->uuid)))) {
                        /* Still being built, or paused by libxl on its way to a save or destroy:
                         * not a pause anybody asked for. */
                        n->state = p->state;
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

/* Sorts what fired on h->xs by xvb_xml_cache_drop_path(), as the xend backend does. A path outside
 * the domains' trees (@introduceDomain, @releaseDomain: a domain came or went, or one this does
 * not know) drops the name cache and asks for a look at the hypervisor. A write below a domain's
 * nodes has dropped the cached texts it may have changed; it also drops the shared info snapshot,
 * and the name cache when it names a domain (its directory, name or vm node); it costs no look.
 * True when a path asks for a look. */
static bool sort_paths(LibxlBackend *h, char **paths) {
        bool look = false, tree = false, rescan = false;

        STRV_FOREACH(p, paths)
                switch (xvb_xml_cache_drop_path(h->xml_cache, *p)) {
                case XVB_TREE_OTHER:
                        look = true;
                        break;
                case XVB_TREE_IDENTITY:
                        rescan = true;
                        _fallthrough_;
                case XVB_TREE_NODE:
                        tree = true;
                        break;
                }
        if (tree)
                xvb_info_cache_invalidate(&h->info);
        if (look || rescan)
                lx_cache_invalidate(h);
        return look;
}

/* @look: look at the hypervisor's list whatever fired (after an operation). Otherwise writes below
 * the domains' xenstore nodes alone (they only drop cached texts and numbers, sort_paths()) cost
 * no look; anything else does, as before those watches. */
static int collect_as(LibxlBackend *h, EventList *e, bool look) {
        _cleanup_strv_free_ char **paths = NULL;
        LxSnap *now = NULL;
        size_t n_now = 0;
        bool fired, watch_look = false;
        uint64_t start;
        int r;

        /* Drain every source: the diff below looks at the whole state anyway. */
        fired = xvb_drain(h->wake_fd) | xvb_drain(h->timer_fd);
        if (fired)
                look = true;
        if (h->xs) {
                bool resync = false;

                r = xenstore_read_events(h->xs, &paths, &resync, NULL);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || resync) {
                        /* Events may have been lost. */
                        xml_cache_drop_all(h->xml_cache);
                        lx_cache_invalidate(h);
                        look = true;
                } else if (strv_length(paths) > 0) {
                        fired = true;
                        if (sort_paths(h, paths))
                                watch_look = true;      /* paced: xvb_look_due() below */
                }
        }
        /* Nothing fired at all (a spurious wake-up, or no xenstore): look, as always before. */
        if (!look && !fired)
                look = true;
        if (!xvb_look_now(&h->look_pacer, look, watch_look))
                return 0;

        start = monotonic_usec();
        r = take_snapshot(h, &now, &n_now);
        if (r >= 0)
                r = xvb_snap_advance(h, diff, &h->snap, &h->n_snap, &h->snap_valid, now, n_now, e);
        else if (r != -ENOMEM)
                r = 0;          /* hypercalls failing: keep the old snapshot, look again later */
        xvb_look_done(&h->look_pacer, start, monotonic_usec());
        return r;
}

static int collect(void *backend, EventList *e) {
        return collect_as(backend, e, /* look= */ false);
}

static int collect_and_look(void *backend, EventList *e) {
        return collect_as(backend, e, /* look= */ true);
}

/* After an operation: look at the hypervisor now (so that a state the operation passed through
 * is still reported), queue what changed, wake the loop to deliver. */
static XvbEventSource source_of(LibxlBackend *h, bool look) {
        return (XvbEventSource) {
                .backend = h,
                .collect = look ? collect_and_look : collect,
                .event_lock = &h->event_lock,
                .queue_lock = &h->track_lock,
                .queue = &h->queue,
                .n_queue = &h->n_queue,
                .queue_max = LX_EVENTS_MAX,
                .wake_fd = h->wake_fd,
                .callback = &h->callback,
                .userdata = &h->userdata,
        };
}

void lx_wake(LibxlBackend *h) {
        XvbEventSource s = source_of(h, /* look= */ true);

        /* Something changed (an operation, a death libxl reported): the numbers too. */
        xvb_info_cache_invalidate(&h->info);
        xvb_wake(&s);
}

int lx_process_events(XvHypervisor *hv) {
        XvbEventSource s = source_of(lx_of(hv), /* look= */ false);

        return xvb_process_events(hv, &s);
}

/* ---- domains xenvirtd owns: death watches -------------------------------------------------------- */

static void owned_done(LibxlBackend *h, LxOwned *o) {
        if (o->deathw && h->ctx)
                libxl_evdisable_domain_death(h->ctx, o->deathw);
        o->deathw = NULL;
        o->def = domain_def_free(o->def);
}

void lx_own(LibxlBackend *h, uint32_t domid, const DomainDef *def) {
        _cleanup_(domain_def_freep) DomainDef *copy = NULL;
        libxl_evgen_domain_death *w = NULL;
        int rc;

        if (!h->ctx || !def || domain_def_copy(def, &copy) < 0)
                return;
        pthread_mutex_lock(&h->track_lock);
        for (size_t i = 0; i < h->n_owned; i++)
                if (h->owned[i].domid == domid) {
                        /* Already watched (a restart re-owning its new domid never gets here). */
                        pthread_mutex_unlock(&h->track_lock);
                        return;
                }
        if (h->n_owned >= LX_TRACK_MAX) {
                pthread_mutex_unlock(&h->track_lock);
                log_warning("libxl backend: too many watched domains (%u), not watching '%s'", LX_TRACK_MAX, def->name);
                return;
        }
        pthread_mutex_unlock(&h->track_lock);

        rc = libxl_evenable_domain_death(h->ctx, domid, /* for_user= */ domid, &w);
        if (rc != 0) {
                log_warning("libxl backend: cannot watch the death of domain '%s' (%u): libxl error %d",
                            def->name, domid, rc);
                return;
        }
        pthread_mutex_lock(&h->track_lock);
        {
                LxOwned *o = reallocarray(h->owned, h->n_owned + 1, sizeof(LxOwned));

                if (!o) {
                        pthread_mutex_unlock(&h->track_lock);
                        libxl_evdisable_domain_death(h->ctx, w);
                        return;
                }
                h->owned = o;
                h->owned[h->n_owned++] = (LxOwned) {
                        .domid = domid, .uuid = def->uuid, .def = TAKE_PTR(copy), .deathw = w,
                };
        }
        pthread_mutex_unlock(&h->track_lock);
}

/* Removes @domid from the watched set; returns its entry through @ret (the caller disposes). */
static bool owned_take(LibxlBackend *h, uint32_t domid, LxOwned *ret) {
        bool found = false;

        pthread_mutex_lock(&h->track_lock);
        for (size_t i = 0; i < h->n_owned; i++)
                if (h->owned[i].domid == domid) {
                        *ret = h->owned[i];
                        h->owned[i] = h->owned[--h->n_owned];
                        found = true;
                        break;
                }
        pthread_mutex_unlock(&h->track_lock);
        return found;
}

void lx_disown(LibxlBackend *h, uint32_t domid) {
        LxOwned o;

        if (owned_take(h, domid, &o))
                owned_done(h, &o);
}

void lx_owned_free_all(LibxlBackend *h) {
        for (size_t i = 0; i < h->n_owned; i++)
                owned_done(h, &h->owned[i]);
        h->owned = mfree(h->owned);
        h->n_owned = 0;
}

static DomainLifecycleAction action_for(const DomainDef *def, uint8_t reason) {
        switch (reason) {
        case LIBXL_SHUTDOWN_REASON_POWEROFF:
                return def->on_poweroff;
        case LIBXL_SHUTDOWN_REASON_REBOOT:
                return def->on_reboot;
        case LIBXL_SHUTDOWN_REASON_CRASH:
        case LIBXL_SHUTDOWN_REASON_WATCHDOG:
                return def->on_crash;
        default:
                return DOMAIN_LIFECYCLE_DESTROY;
        }
}

/* A guest xenvirtd started shut itself down: act as its definition says. */
static void on_guest_shutdown(LibxlBackend *h, uint32_t domid, uint8_t reason) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        DomainLifecycleAction action;
        bool crashed = reason == LIBXL_SHUTDOWN_REASON_CRASH || reason == LIBXL_SHUTDOWN_REASON_WATCHDOG;
        LxOwned o;
        int id, r;

        if (reason == LIBXL_SHUTDOWN_REASON_SUSPEND)
                return;         /* a save in progress: lxops_save() destroys the domain itself */
        if (!owned_take(h, domid, &o))
                return;
        action = action_for(o.def, reason);
        log_debug("libxl backend: domain '%s' (%u) shut down (reason %u), action %s", o.def->name, domid, reason,
                  domain_lifecycle_action_to_string(action) ?: "?");
        if (action == DOMAIN_LIFECYCLE_PRESERVE) {
                owned_done(h, &o);
                return;
        }
        lx_track(h, &o.uuid, crashed ? LX_CRASHED : LX_SHUTDOWN);
        if (action == DOMAIN_LIFECYCLE_COREDUMP_DESTROY || action == DOMAIN_LIFECYCLE_COREDUMP_RESTART)
                log_debug("libxl backend: no core dump directory configured, destroying '%s' without a dump",
                          o.def->name);
        r = lxops_destroy(h->ctx, domid, o.def->name, &e);
        if (r < 0)
                log_warning("libxl backend: cannot destroy domain '%s' after its shutdown: %s", o.def->name,
                            strempty(e.message));
        lx_wake(h);
        if (r >= 0 && (action == DOMAIN_LIFECYCLE_RESTART || action == DOMAIN_LIFECYCLE_RENAME_RESTART ||
                       action == DOMAIN_LIFECYCLE_COREDUMP_RESTART)) {
                /* As xl does: the same definition again, as a new domain. */
                xv_error_done(&e);
                r = lx_start_def(h, o.def, /* paused= */ false, &id, &e);
                if (r < 0)
                        log_warning("libxl backend: cannot restart domain '%s': %s", o.def->name,
                                    strempty(e.message));
        }
        owned_done(h, &o);
}

static void handle_event(LibxlBackend *h, const libxl_event *ev) {
        switch (ev->type) {
        case LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN:
                on_guest_shutdown(h, ev->domid, ev->u.domain_shutdown.shutdown_reason);
                break;
        case LIBXL_EVENT_TYPE_DOMAIN_DEATH:
                lx_disown(h, ev->domid);
                lx_wake(h);
                break;
        default:
                break;
        }
}

static bool stop_requested(LibxlBackend *h) {
        struct pollfd p = { .fd = h->stop_fd, .events = POLLIN };

        return poll(&p, 1, 0) > 0;
}

static void *event_thread(void *userdata) {
        LibxlBackend *h = userdata;
        _cleanup_free_ struct pollfd *fds = new0(struct pollfd, LX_LIBXL_FDS_MAX + 1);

        if (!fds)
                return NULL;
        for (;;) {
                struct timeval now;
                int nfds = LX_LIBXL_FDS_MAX, timeout = 1000, rc;
                libxl_event *ev;

                fds[0] = (struct pollfd) { .fd = h->stop_fd, .events = POLLIN };
                (void) gettimeofday(&now, NULL);
                rc = libxl_osevent_beforepoll(h->ctx, &nfds, fds + 1, &timeout, now);
                if (rc != 0) {
                        /* More fds than we poll: poll only for the stop request and retry. */
                        log_debug("libxl backend: libxl wants %d fds (error %d)", nfds, rc);
                        nfds = 0;
                        timeout = 1000;
                }
                if (poll(fds, (nfds_t) nfds + 1, timeout) < 0 && errno != EINTR) {
                        log_warning_errno(-errno, "libxl backend: poll failed: %m");
                        (void) usleep(100 * 1000);
                }
                if (fds[0].revents)
                        break;
                (void) gettimeofday(&now, NULL);
                if (nfds > 0)
                        libxl_osevent_afterpoll(h->ctx, nfds, fds + 1, now);
                while (libxl_event_check(h->ctx, &ev, LIBXL_EVENTMASK_ALL, NULL, NULL) == 0) {
                        handle_event(h, ev);
                        libxl_event_free(h->ctx, ev);
                        if (stop_requested(h))
                                return NULL;
                }
        }
        return NULL;
}

/* ---- autostart -------------------------------------------------------------------------------- */

static void *autostart_thread(void *userdata) {
        LibxlBackend *h = userdata;
        _cleanup_free_ HcallDomainInfo *running = NULL;
        XlStoreEntry *l = NULL;
        size_t n = 0, n_running = 0;
        XvError e = XV_ERROR_NULL;

        if (xl_store_list(h->store, &l, &n, &e) < 0) {
                log_warning("libxl backend: cannot list the definitions in %s: %s", h->xl_dir, strempty(e.message));
                xv_error_done(&e);
                return NULL;
        }
        if (h->hc && hcall_list_domains(h->hc, &running, &n_running, NULL) < 0)
                n_running = 0;

        for (size_t i = 0; i < n && !stop_requested(h); i++) {
                _cleanup_(domain_def_freep) DomainDef *def = NULL;
                bool is_running = false;
                int id, r;

                for (size_t j = 0; j < n_running; j++)
                        if (uuid_equal(&running[j].uuid, &l[i].uuid)) {
                                /* Ours from before a restart: watch it again. */
                                if (xl_store_load_by_name(h->store, l[i].name, &def, NULL) >= 0)
                                        lx_own(h, (uint32_t) running[j].domid, def);
                                is_running = true;
                                break;
                        }
                if (is_running || !l[i].autostart || h->read_only)
                        continue;
                if (!def) {
                        r = xl_store_load_by_name(h->store, l[i].name, &def, &e);
                        if (r < 0) {
                                log_warning("libxl backend: cannot autostart '%s': %s", l[i].name, strempty(e.message));
                                xv_error_done(&e);
                                continue;
                        }
                }
                r = lx_start_def(h, def, /* paused= */ false, &id, &e);
                if (r < 0)
                        log_warning("libxl backend: cannot autostart '%s': %s", l[i].name, strempty(e.message));
                else
                        log_info("libxl backend: autostarted '%s' (id %d)", l[i].name, id);
                xv_error_done(&e);
        }
        xl_store_entries_free(l, n);
        return NULL;
}

int lx_threads_start(LibxlBackend *h, XvError *error) {
        int r;

        if (!h->ctx)
                return 0;
        r = -pthread_create(&h->event_thread, NULL, event_thread, h);
        if (r < 0)
                return xv_error_set_errnof(error, r, "Cannot start the libxl event thread");
        h->event_thread_started = true;
        r = -pthread_create(&h->autostart_thread, NULL, autostart_thread, h);
        if (r < 0)
                return xv_error_set_errnof(error, r, "Cannot start the autostart thread");
        h->autostart_thread_started = true;
        return 0;
}

void lx_threads_stop(LibxlBackend *h) {
        uint64_t one = 1;

        if (h->stop_fd >= 0)
                (void) !write(h->stop_fd, &one, sizeof(one));
        if (h->autostart_thread_started)
                (void) pthread_join(h->autostart_thread, NULL);
        h->autostart_thread_started = false;
        if (h->event_thread_started)
                (void) pthread_join(h->event_thread, NULL);
        h->event_thread_started = false;
}
