/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Lifecycle events of the xend backend.
 *
 * One fd for the daemon: an epoll set over the xenstore watch fd (@introduceDomain and
 * @releaseDomain, which xenstored also fires when a domain shuts down or crashes; /local/domain and
 * /vm, whose writes only drop dumpxml's cached texts of the domain written), the inotify fd
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
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-backend-xend-internal.h"
#include "xv-log.h"
#include "xv-time.h"

int backend_events_add_xm(XendBackend *h) {
        /* Called with xend_lock held, from open or from the first XenD contact. */
        if (!h->xm || h->xm_fd_added)
                return 0;
        if (h->epoll_fd < 0)
                return 0;
        h->xm_fd_added = true;
        return xvb_epoll_add(h->epoll_fd, xm_dir_inotify_fd(h->xm));
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
                s[k++] = xvb_snap_of(&l[i], name);
        }
        /* Xen lists by domid already; sorting makes sure of it for xvb_snap_find(). */
        xvb_snaps_sort(s, k);
        *ret = s;
        *ret_n = k;
        return 0;
}

int backend_events_init(XendBackend *h, XvError *error) {
        int r;

        r = xvb_events_fds_open(&h->epoll_fd, &h->wake_fd, &h->timer_fd, BACKEND_POLL_USEC, error);
        if (r < 0)
                return r;
        xvb_look_pacer_init(&h->look_pacer, h->timer_fd, BACKEND_POLL_USEC);
        if (h->xs) {
                r = xvb_epoll_add(h->epoll_fd, xenstore_event_fd(h->xs));
                if (r < 0)
                        return xv_error_set_errnof(error, r, "Cannot build the event poll set");
                /* dumpxml's cache: any write below a domain's nodes drops its definition (a
                 * reconnect resyncs, which drops everything). */
                r = xenstore_watch_domain_trees(h->xs);
                if (r < 0)
                        return r;
        }
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
        xvb_snaps_free(h->snap, h->n_snap);
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

void backend_queue_event(XendBackend *h, const char *name, const XvUuid *uuid, int id, int event, int detail) {
        if (xvb_queue_push(&h->track_lock, &h->queue, &h->n_queue, BACKEND_EVENTS_MAX,
                           name, uuid, id, event, detail) == -ENOMEM)
                return;
        xvb_signal(h->wake_fd);
}

typedef XvbEventList EventList;

static int emit(EventList *e, const char *name, const XvUuid *uuid, int id, int event, int detail) {
        return xvb_emit(e, SIZE_MAX, name, uuid, id, event, detail);
}

static XvbTrack track_get(void *backend, const XvUuid *uuid) {
        switch (backend_track_get(backend, uuid)) {
        case TRACK_SAVED:
                return XVB_TRACK_SAVED;
        case TRACK_MIGRATED:
                return XVB_TRACK_MIGRATED;
        case TRACK_CRASHED:
                return XVB_TRACK_CRASHED;
        case TRACK_SHUTDOWN:
                return XVB_TRACK_SHUTDOWN;
        case TRACK_DESTROYED:
                return XVB_TRACK_DESTROYED;
        default:
                return XVB_TRACK_OTHER;
        }
}

static void track_set(void *backend, const XvUuid *uuid, XvbTrack t) {
        switch (t) {
        case XVB_TRACK_CRASHED:
                backend_track(backend, uuid, TRACK_CRASHED);
                break;
        case XVB_TRACK_SHUTDOWN:
                backend_track(backend, uuid, TRACK_SHUTDOWN);
                break;
        case XVB_TRACK_DESTROYED:
                backend_track(backend, uuid, TRACK_DESTROYED);
                break;
        default:
                break;
        }
}

static XvbTracker tracker_of(XendBackend *h) {
        return (XvbTracker) { .backend = h, .get = track_get, .set = track_set, .max_events = SIZE_MAX };
}

static int emit_shutdown(XendBackend *h, EventList *e, const Snap *s) {
        XvbTracker t = tracker_of(h);

        return xvb_emit_shutdown(&t, e, s);
}

static int emit_gone(XendBackend *h, EventList *e, const Snap *p) {
        XvbTracker t = tracker_of(h);

        return xvb_emit_gone(&t, e, p);
}

static int diff(void *backend, const Snap *old, size_t n_old, Snap *now, size_t n_now, EventList *e) {
        XendBackend *h = backend;
        int r;

        for (size_t i = 0; i < n_old; i++)
                if (!xvb_snap_find(now, n_now, old[i].domid, &old[i].uuid)) {
                        /* Stopped or destroyed, by whoever: what XenD says of this domain as an
                         * inactive one (if it keeps it) is asked again; the others stay. */
                        backend_inactive_invalidate_domain(h, old[i].name, &old[i].uuid);
                        r = emit_gone(h, e, &old[i]);
                        if (r < 0)
                                return r;
                }

        for (size_t i = 0; i < n_now; i++) {
                Snap *n = &now[i];
                const Snap *p = xvb_snap_find(old, n_old, n->domid, &n->uuid);

                if (!p) {
                        TrackAction a = backend_track_get(h, &n->uuid);

                        /* Started, by whoever: no longer an inactive domain. */
                        backend_inactive_invalidate_domain(h, n->name, &n->uuid);

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

/* Drops dumpxml's cached definitions that the fired @paths may have changed: a domain's own nodes
 * (by id), its backend devices (by frontend id), its /vm nodes (by uuid); anything else in those
 * trees (a watch's initial fire on the tree itself) drops everything. True when a path is a domain
 * introduced or released, or one this does not know: then the caller rescans as before these
 * watches (and the inactive entries go with the inactive-domain cache). */
static bool xml_drop_paths(XendBackend *h, char **paths) {
        bool rescan = false;

        STRV_FOREACH(p, paths)
                if (xvb_xml_cache_drop_path(h->xml_cache, *p) == XVB_TREE_OTHER)
                        rescan = true;
        return rescan;
}

/* @look: look at the hypervisor's list whatever fired (after an operation). Otherwise writes below
 * the domains' xenstore nodes alone (which only drop dumpxml's cached texts) do not cost a look:
 * a domain starting writes dozens of them, and @introduceDomain says it anyway. */
static int collect_as(XendBackend *h, EventList *e, bool look) {
        _cleanup_strv_free_ char **paths = NULL;
        Snap *now = NULL;
        size_t n_now = 0;
        bool came_or_went = false, lost = false, watch_look = false;
        uint64_t start;
        XmDir *xm;
        int r;

        /* Drain every source: the diff below looks at the whole state anyway. */
        if (xvb_drain(h->wake_fd) | xvb_drain(h->timer_fd))
                look = true;
        if (h->xs) {
                bool resync = false;

                r = xenstore_read_events(h->xs, &paths, &resync, NULL);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || resync)
                        xml_cache_drop_all(h->xml_cache);
                /* Nothing fired at all (a spurious wake-up): look, as always before. */
                if (strv_length(paths) == 0)
                        look = true;
                if (r < 0 || resync) {
                        /* Events lost: whatever XenD said about inactive domains may be stale. */
                        lost = true;
                        backend_inactive_invalidate(h);
                }
                if (r < 0 || resync || xml_drop_paths(h, paths)) {
                        came_or_went = true;
                        backend_cache_invalidate(h);
                        if (lost)
                                look = true;
                        else
                                watch_look = true;      /* paced: xvb_look_due() below */
                }
        } else
                look = true;

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
        if (!xvb_look_now(&h->look_pacer, look, watch_look))
                return 0;
        /* A look watch events asked for and the pacer deferred: a domain came or went then. */
        came_or_went = came_or_went || h->look_pacer.deferred;

        /* The hypervisor's list against the previous look: the domains that came or went drop
         * their own inactive-cache entries (diff()), not everyone's. */
        start = monotonic_usec();
        r = take_snapshot(h, &now, &n_now);
        /* No diff to say which domain a @introduceDomain / @releaseDomain was about (unless
         * everything went already). */
        if (came_or_went && !lost && (r < 0 || !h->snap_valid))
                backend_inactive_invalidate(h);
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

/* After an operation: look at the hypervisor now, so that a state the operation passed through
 * (a domain created and saved before the loop looked) is still reported, then wake the loop to
 * deliver. Runs on the operation's thread; only hypercalls and xenstore, never XenD. */
static XvbEventSource source_of(XendBackend *h, bool look) {
        return (XvbEventSource) {
                .backend = h,
                .collect = look ? collect_and_look : collect,
                .event_lock = &h->event_lock,
                .queue_lock = &h->track_lock,
                .queue = &h->queue,
                .n_queue = &h->n_queue,
                .queue_max = BACKEND_EVENTS_MAX,
                .wake_fd = h->wake_fd,
                .callback = &h->callback,
                .userdata = &h->userdata,
        };
}

void backend_wake(XendBackend *h) {
        XvbEventSource s = source_of(h, /* look= */ true);

        xvb_wake(&s);
}

int xendbe_process_events(XvHypervisor *hv) {
        XvbEventSource s = source_of(xend_of(hv), /* look= */ false);

        return xvb_process_events(hv, &s);
}
