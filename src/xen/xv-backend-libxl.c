/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * LibxlBackend (Xen >= 4.5): opening, host facts, lookups, listing and state. Domain operations
 * live in xv-backend-libxl-domain.c, events, the libxl event thread and autostart in
 * xv-backend-libxl-events.c.
 *
 * One designated channel per operation and domain state:
 *   running domains (whoever created them): hypercalls for identity and numbers (reads of
 *                    numbers and state from one snapshot all callers share, h->info), xenstore
 *                    for names (a cache dropped by every domain introduced or released), libxl's
 *                    stored configuration for dumpxml (texts cached in h->xml_cache);
 *   inactive domains: the XlStore (xenvirtd's own xl-format files, HvConfig.xl_dir);
 *   persistence / autostart: the XlStore, by UUID;
 *   lifecycle: libxl (xv-libxl-ops.h).
 */

#include <assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-backend-libxl-internal.h"
#include "xv-capabilities.h"
#include "xv-fileio.h"
#include "xv-libxl-ops.h"
#include "xv-lock.h"
#include "xv-log.h"
#include "xv-parse-util.h"
#include "xv-time.h"

#define LX_SAVE_DIR_DEFAULT "/var/lib/xenvirt/save"

void lx_dom_done(LxDom *d) {
        d->name = mfree(d->name);
        d->def = domain_def_free(d->def);
}

int lx_fill_ref(const LxDom *d, HvDomainRef *ret) {
        char *n;

        assert(d->name);
        n = strdup(d->name);

        if (!n)
                return -ENOMEM;
        *ret = (HvDomainRef) { .name = n, .uuid = d->uuid, .id = d->id };
        return 0;
}

int lx_check_writable(LibxlBackend *h, XvError *error) {
        if (h->read_only)
                return xv_error_setf(error, XVP_ERR_OPERATION_DENIED, "The connection to the hypervisor is read-only");
        return 0;
}

int lx_need_libxl(LibxlBackend *h, XvError *error) {
        if (!h->ctx)
                return xv_error_setf(error, XVP_ERR_NO_SUPPORT, "libxl is not available on this host");
        return 0;
}

int lx_need_hc(LibxlBackend *h, XvError *error) {
        if (!h->hc)
                return xv_error_setf(error, XVP_ERR_NO_XEN, "Hypercalls are not available on this host");
        return 0;
}

/* ---- the running-domain name cache ---------------------------------------------------------- */

void lx_cache_invalidate(LibxlBackend *h) {
        {
                LOCKED(&h->cache_lock);

                h->cache_valid = false;
        }
        /* A domain started or stopped (or introduced, released): its numbers changed too. */
        xvb_info_cache_invalidate(&h->info);
}

void lx_changed(LibxlBackend *h, const char *name, const XvUuid *uuid) {
        xvb_info_cache_invalidate(&h->info);
        if (name || uuid)
                xml_cache_drop_domain(h->xml_cache, name, uuid);
        else
                xml_cache_drop_all(h->xml_cache);
}

/* Whether the name cache is current: valid, and no watch event waits (every domain introduced or
 * released fires one, as does every write of a domain's name or vm node). Then a domain it does
 * not know is not running (but for one that is still being built, which xenstore does not name
 * yet). Called with cache_lock held; @events_pending is what xenstore_events_pending() said just
 * before it was taken (polled outside the lock, which then covers a table lookup and no system
 * call). */
static bool cache_current_locked(LibxlBackend *h, bool events_pending) {
        return h->cache_valid && !events_pending;
}

/* Rereads xenstore's domains into the table. When xenstore cannot be read the entries of the
 * last read stay (to be trusted only with a uuid the hypervisor confirms); when the table cannot
 * take them all it is left empty. */
static int cache_refresh_locked(LibxlBackend *h, XvError *error) {
        XsDomain *l = NULL;
        size_t n = 0;
        int r;

        if (!h->xs)
                return xv_error_setf(error, XVP_ERR_NO_XENSTORE, "xenstore is not available");
        r = xenstore_list_domains(h->xs, &l, &n, error);
        if (r < 0)
                return r;
        domain_table_clear(h->running);
        h->cache_valid = false;
        for (size_t i = 0; i < n && r >= 0; i++)
                r = domain_table_put(h->running, l[i].id, l[i].name, l[i].has_uuid ? &l[i].uuid : NULL);
        xs_domains_free(l, n);
        if (r < 0) {
                domain_table_clear(h->running);
                return r;
        }
        h->cache_valid = true;
        return 0;
}

/* The name of running domain @domid (hypervisor handle @uuid), from the cache, refreshed once
 * when it does not know the domain or knows it under another uuid. */
int lx_name_of(LibxlBackend *h, int domid, const XvUuid *uuid, char **ret, XvError *error) {
        bool pending = xenstore_events_pending(h->xs);
        LOCKED(&h->cache_lock);
        int r;

        if (pending)
                h->cache_valid = false;
        for (int attempt = 0; attempt < 2; attempt++) {
                _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
                bool stale = false;

                if (!h->cache_valid || attempt > 0) {
                        r = cache_refresh_locked(h, &e);
                        if (r < 0 && (r == -ENOMEM || !uuid)) {
                                xv_error_move(error, &e);
                                return r;
                        }
                        /* xenstored away: its last names still hold for the same (id, uuid). */
                        stale = r < 0;
                }
                {
                        const DomainTableEntry *c = domain_table_find_id(h->running, domid);

                        if (c && c->name && !(uuid && c->has_uuid && !uuid_equal(&c->uuid, uuid)) &&
                            !(stale && !c->has_uuid))
                                return strdup_or_null(c->name, ret);
                }
                if (stale) {
                        xv_error_move(error, &e);
                        return r;
                }
        }
        return xv_error_setf(error, XVP_ERR_NO_DOMAIN, "Domain %d has no name in xenstore", domid);
}

/* Running domain @id (@uuid: NULL, any) from the shared snapshot when @shared and no watch event
 * waits (one may postdate the snapshot), else from the hypervisor (xvb_running_info()). */
static int running_info(LibxlBackend *h, int id, const XvUuid *uuid, bool shared, HcallDomainInfo *ret,
                        XvError *error) {
        return xvb_running_info(&h->info, h->hc, shared && !xenstore_events_pending(h->xs), id, uuid, ret, error);
}

/* Running domain by name: (id, uuid) from the cache (refreshed once on a miss), confirmed by the
 * hypervisor. With @shared, from the hypervisor's shared snapshot, and a miss of a current cache
 * (cache_current_locked()) is final: a name it does not know is not running. -ENOENT when no
 * running domain has that name. */
static int running_by_name(LibxlBackend *h, const char *name, bool shared, HcallDomainInfo *ret, XvError *error) {
        for (int attempt = 0; attempt < 2; attempt++) {
                bool stale = false, has_uuid = false, current = false;
                XvUuid uuid = {};
                int id = -1, r;

                {
                        bool pending = xenstore_events_pending(h->xs);
                        LOCKED(&h->cache_lock);
                        const DomainTableEntry *c;

                        if (pending)
                                h->cache_valid = false;
                        if (!h->cache_valid || attempt > 0) {
                                r = cache_refresh_locked(h, NULL);
                                if (r == -ENOMEM)
                                        return r;
                                stale = r < 0;
                        }
                        c = domain_table_find_name(h->running, name);
                        if (c) {
                                id = c->id;
                                uuid = c->uuid;
                                has_uuid = c->has_uuid;
                        }
                        current = shared && !stale && cache_current_locked(h, pending);
                }
                if (id < 0 || (stale && !has_uuid)) {
                        if (attempt == 0 && !stale && !current)
                                continue;
                        return -ENOENT;
                }
                r = running_info(h, id, NULL, shared, ret, NULL);
                if (r >= 0 && has_uuid && !uuid_equal(&ret->uuid, &uuid)) {
                        if (attempt == 0 && !stale)
                                continue;
                        return -ENOENT;
                }
                if (r >= 0)
                        return 0;
                if (r != -ESRCH && r != -ENOENT)
                        return hcall_domain_info(h->hc, id, ret, error);
        }
        return -ENOENT;
}

/* Running domain @uuid from a current name cache (cache_current_locked()) and the shared snapshot:
 * 0 and its info, -ENOENT when it is not running, -EAGAIN when the cache cannot say (the caller
 * asks the hypervisor for its whole list). */
static int running_by_uuid_shared(LibxlBackend *h, const XvUuid *uuid, HcallDomainInfo *ret) {
        int id = -1, r;

        {
                bool pending = xenstore_events_pending(h->xs);
                LOCKED(&h->cache_lock);
                const DomainTableEntry *c;

                if (!cache_current_locked(h, pending))
                        return -EAGAIN;
                c = domain_table_find_uuid(h->running, uuid);
                if (c)
                        id = c->id;
        }
        if (id < 0)
                return -ENOENT;
        r = running_info(h, id, uuid, /* shared= */ true, ret, NULL);
        if (r == -ENOMEM)
                return r;
        return r < 0 ? -EAGAIN : 0;
}

/* Whether the name cache is current (see cache_current_locked()). */
static bool cache_current(LibxlBackend *h) {
        bool pending = xenstore_events_pending(h->xs);
        LOCKED(&h->cache_lock);

        return cache_current_locked(h, pending);
}

int lx_running_by_uuid(LibxlBackend *h, const XvUuid *uuid, HcallDomainInfo *ret, XvError *error) {
        _cleanup_free_ HcallDomainInfo *l = NULL;
        size_t n = 0;
        int r;

        r = lx_need_hc(h, error);
        if (r < 0)
                return r;
        r = hcall_list_domains(h->hc, &l, &n, error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (uuid_equal(&l[i].uuid, uuid)) {
                        *ret = l[i];
                        return 0;
                }
        return -ENOENT;
}

/* ---- what xenvirtd did last ------------------------------------------------------------------ */

static LxTrack *track_find_locked(LibxlBackend *h, const XvUuid *uuid, bool create) {
        LxTrack *oldest = NULL;

        for (size_t i = 0; i < h->n_tracks; i++) {
                if (uuid_equal(&h->tracks[i].uuid, uuid))
                        return &h->tracks[i];
                if (!oldest || h->tracks[i].stamp < oldest->stamp)
                        oldest = &h->tracks[i];
        }
        if (!create)
                return NULL;
        if (h->n_tracks >= LX_TRACK_MAX) {
                /* Forget the least recently touched domain. */
                *oldest = (LxTrack) { .uuid = *uuid };
                return oldest;
        }
        if (!h->tracks) {
                h->tracks = new0(LxTrack, LX_TRACK_MAX);
                if (!h->tracks)
                        return NULL;
        }
        h->tracks[h->n_tracks] = (LxTrack) { .uuid = *uuid };
        return &h->tracks[h->n_tracks++];
}

void lx_track(LibxlBackend *h, const XvUuid *uuid, LxAction action) {
        LOCKED(&h->track_lock);
        LxTrack *t = track_find_locked(h, uuid, true);

        if (!t)
                return;
        t->action = action;
        t->stamp = ++h->track_stamp;
}

LxAction lx_track_get(LibxlBackend *h, const XvUuid *uuid) {
        LOCKED(&h->track_lock);
        LxTrack *t = track_find_locked(h, uuid, false);

        return t ? t->action : LX_NONE;
}

void lx_state_reason(LibxlBackend *h, const HcallDomainInfo *info, int *ret_state, int *ret_reason) {
        LxAction a = lx_track_get(h, &info->uuid);
        int state = info->state, reason = info->reason;

        switch (state) {
        case XVP_DOMAIN_RUNNING:
                reason = a == LX_RESTORED || a == LX_RESTORING ? XVP_DOMAIN_RUNNING_RESTORED :
                        a == LX_UNPAUSED ? XVP_DOMAIN_RUNNING_UNPAUSED : XVP_DOMAIN_RUNNING_BOOTED;
                break;
        case XVP_DOMAIN_BLOCKED:
                reason = 0;
                break;
        case XVP_DOMAIN_PAUSED:
                reason = a == LX_PAUSED ? XVP_DOMAIN_PAUSED_USER :
                        a == LX_SAVED ? XVP_DOMAIN_PAUSED_SAVE :
                        a == LX_STARTING || a == LX_RESTORING || a == LX_BOOTED || a == LX_RESTORED ?
                        XVP_DOMAIN_PAUSED_STARTING_UP :
                        XVP_DOMAIN_PAUSED_UNKNOWN;
                break;
        case XVP_DOMAIN_SHUTDOWN:
                reason = a == LX_SHUTDOWN ? XVP_DOMAIN_SHUTDOWN_USER : XVP_DOMAIN_SHUTDOWN_UNKNOWN;
                break;
        default:
                break;
        }
        *ret_state = state;
        *ret_reason = reason;
}

int lx_inactive_reason(LibxlBackend *h, const XvUuid *uuid, const char *name) {
        switch (lx_track_get(h, uuid)) {
        case LX_SHUTDOWN:
                return XVP_DOMAIN_SHUTOFF_SHUTDOWN;
        case LX_DESTROYED:
                return XVP_DOMAIN_SHUTOFF_DESTROYED;
        case LX_SAVED:
                return XVP_DOMAIN_SHUTOFF_SAVED;
        case LX_CRASHED:
                return XVP_DOMAIN_SHUTOFF_CRASHED;
        default:
                return name && lx_has_managed_save(h, name) ? XVP_DOMAIN_SHUTOFF_SAVED : XVP_DOMAIN_SHUTOFF_UNKNOWN;
        }
}

int lx_managed_save_path(LibxlBackend *h, const char *name, char **ret) {
        if (isempty(name) || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                return -EINVAL;
        if (asprintf(ret, "%s/%s.save", h->save_dir, name) < 0)
                return -ENOMEM;
        return 0;
}

bool lx_has_managed_save(LibxlBackend *h, const char *name) {
        _cleanup_free_ char *p = NULL;

        if (lx_managed_save_path(h, name, &p) < 0)
                return false;
        return access(p, F_OK) == 0;
}

/* ---- resolving a client's domain reference --------------------------------------------------- */

static int no_domain(const HvDomainRef *ref, XvError *error) {
        char u[UUID_STRING_BUF];

        if (uuid_is_zero(&ref->uuid) && ref->name)
                xv_error_setf(error, XVP_ERR_NO_DOMAIN, "no domain with matching name '%s'", ref->name);
        else
                xv_error_setf(error, XVP_ERR_NO_DOMAIN, "no domain with matching uuid '%s' (%s)",
                              uuid_format(&ref->uuid, u), strempty(ref->name));
        return -ENOENT;
}

/* Whether running domain @uuid has a stored definition (Domain-0 always counts as persistent). */
static int stored_uuid(LibxlBackend *h, int domid, const XvUuid *uuid, bool *ret, XvError *error) {
        int r;

        if (domid == 0) {
                *ret = true;
                return 0;
        }
        r = xl_store_lookup_uuid(h->store, uuid, NULL, error);
        if (r < 0)
                return r;
        *ret = r > 0;
        return 0;
}

static int resolve_running(LibxlBackend *h, const HcallDomainInfo *info, const char *fallback_name, LxDom *ret,
                           XvError *error) {
        _cleanup_free_ char *name = NULL;
        bool persistent = false;
        int r;

        r = lx_name_of(h, info->domid, &info->uuid, &name, NULL);
        if (r < 0 && r != -ENOENT && r != -ENOMEM && !fallback_name)
                return lx_name_of(h, info->domid, &info->uuid, &name, error);
        if (r == -ENOMEM)
                return r;
        if (!name) {
                /* Just introduced, name not written yet: keep what the client called it. */
                if (!fallback_name)
                        return xv_error_setf(error, XVP_ERR_NO_DOMAIN, "Domain %d has no name yet", info->domid);
                name = strdup(fallback_name);
                if (!name)
                        return -ENOMEM;
        }
        r = stored_uuid(h, info->domid, &info->uuid, &persistent, error);
        if (r < 0)
                return r;
        *ret = (LxDom) {
                .name = TAKE_PTR(name), .uuid = info->uuid, .id = info->domid, .info = *info,
                .persistent = persistent,
        };
        return 0;
}

static int resolve_stored(LibxlBackend *h, const char *name, const XvUuid *uuid, LxDom *ret, XvError *error) {
        _cleanup_free_ char *n = NULL;
        XvUuid u = {};
        int r;

        if (uuid) {
                r = xl_store_lookup_uuid(h->store, uuid, &n, error);
                if (r <= 0)
                        return r < 0 ? r : -ENOENT;
                u = *uuid;
        } else {
                assert(name);
                r = xl_store_lookup_name(h->store, name, &u, error);
                if (r <= 0)
                        return r < 0 ? r : -ENOENT;
                n = strdup(name);
                if (!n)
                        return -ENOMEM;
        }
        *ret = (LxDom) { .name = TAKE_PTR(n), .uuid = u, .id = -1, .persistent = true };
        return 0;
}

static int resolve_as(LibxlBackend *h, const HvDomainRef *ref, bool shared, LxDom *ret, XvError *error) {
        HcallDomainInfo info;
        LxDom d = {};
        int r;

        assert(ref);
        r = lx_need_hc(h, error);
        if (r < 0)
                return r;

        if (!uuid_is_zero(&ref->uuid)) {
                /* The id the client holds is only a hint: check it before scanning the list. */
                if (ref->id >= 0 && running_info(h, ref->id, &ref->uuid, shared, &info, NULL) >= 0)
                        return resolve_running(h, &info, ref->name, ret, error);
                r = shared ? running_by_uuid_shared(h, &ref->uuid, &info) : -EAGAIN;
                if (r == -EAGAIN)
                        r = lx_running_by_uuid(h, &ref->uuid, &info, error);
                if (r >= 0)
                        return resolve_running(h, &info, ref->name, ret, error);
                if (r != -ENOENT)
                        return r;
                r = resolve_stored(h, NULL, &ref->uuid, &d, error);
                if (r == -ENOENT)
                        return no_domain(ref, error);
                if (r < 0)
                        return r;
                *ret = d;
                return 0;
        }

        if (ref->name) {
                r = running_by_name(h, ref->name, shared, &info, error);
                if (r >= 0)
                        return resolve_running(h, &info, ref->name, ret, error);
                if (r != -ENOENT)
                        return r;
                r = resolve_stored(h, ref->name, NULL, &d, error);
                if (r == -ENOENT)
                        return no_domain(ref, error);
                if (r < 0)
                        return r;
                /* Started a moment ago under its stored UUID, before xenstore named it? (With
                 * @shared, a current name cache says no.) */
                if (!(shared && cache_current(h)) && lx_running_by_uuid(h, &d.uuid, &info, NULL) >= 0) {
                        _cleanup_free_ char *n = TAKE_PTR(d.name);

                        return resolve_running(h, &info, n, ret, error);
                }
                *ret = d;
                return 0;
        }

        if (ref->id >= 0) {
                r = running_info(h, ref->id, NULL, shared, &info, NULL);
                if (r == -ESRCH || r == -ENOENT)
                        return xv_error_setf(error, XVP_ERR_NO_DOMAIN, "no domain with matching id %d", ref->id);
                if (r < 0) {
                        /* The snapshot could not say: the hypervisor itself, then resolved alike. */
                        r = hcall_domain_info(h->hc, ref->id, &info, error);
                        if (r < 0)
                                return r;
                }
                return resolve_running(h, &info, NULL, ret, error);
        }
        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "A domain reference needs a UUID, a name or an id");
}

int lx_resolve(LibxlBackend *h, const HvDomainRef *ref, LxDom *ret, XvError *error) {
        return resolve_as(h, ref, /* shared= */ false, ret, error);
}

int lx_resolve_light(LibxlBackend *h, const HvDomainRef *ref, LxDom *ret, XvError *error) {
        return resolve_as(h, ref, /* shared= */ true, ret, error);
}

int lx_dom_stored_def(LibxlBackend *h, LxDom *d, XvError *error) {
        if (d->def)
                return 0;
        if (!d->persistent || d->id == 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Domain '%s' is transient: it has no persistent definition",
                                     d->name);
        return xl_store_load_by_uuid(h->store, &d->uuid, &d->def, error);
}

/* ---- lifetime -------------------------------------------------------------------------------- */

static int copy_or_default(const char *s, const char *def, char **ret) {
        return strdup_or_null(isempty(s) ? def : s, ret);
}

static XvHypervisor *lx_close(XvHypervisor *hv) {
        LibxlBackend *h = lx_of(hv);

        if (!h)
                return NULL;
        lx_threads_stop(h);
        lx_owned_free_all(h);
        lx_events_done(h);
        if (h->ctx)
                libxl_ctx_free(h->ctx);
        /* What xtl_logger_destroy() does, without linking libxentoollog (only libxenlight is). */
        if (h->logger && h->logger->destroy)
                h->logger->destroy(h->logger);
        xl_store_close(h->store);
        xenstore_close(h->xs);
        hcall_close(h->hc);
        domain_table_free(h->running);
        xml_cache_free(h->xml_cache);
        xvb_info_cache_done(&h->info);
        free(h->tracks);
        for (size_t i = 0; i < h->n_queue; i++)
                hv_domain_ref_done(&h->queue[i].ref);
        free(h->queue);
        free(h->caps_xml);
        free(h->xl_dir);
        free(h->host_root);
        free(h->save_dir);
        (void) pthread_mutex_destroy(&h->cache_lock);
        (void) pthread_mutex_destroy(&h->track_lock);
        (void) pthread_mutex_destroy(&h->event_lock);
        free(h);
        return NULL;
}

static void lx_closep(LibxlBackend **h) {
        if (*h)
                (void) lx_close(&(*h)->base);
}

/* libxl forks hotplug scripts and device models. xenvirtd forks nothing else and leaves SIGCHLD at
 * its default: libxl owns SIGCHLD and reaps only its own children (never a waitpid(-1)). */
static const libxl_childproc_hooks lx_childproc_hooks = {
        .chldowner = libxl_sigchld_owner_libxl_always_selective_reap,
};

static int lx_open(const HvConfig *config, XvHypervisor **ret, XvError *error) {
        _cleanup_(lx_closep) LibxlBackend *h = NULL;
        HvConfig def = { .backend = HV_BACKEND_LIBXL };
        XvError e = XV_ERROR_NULL;
        int r;

        assert(ret);
        if (!config)
                config = &def;

        h = new0(LibxlBackend, 1);
        if (!h)
                return -ENOMEM;
        h->base.ops = &hv_backend_libxl;
        h->epoll_fd = h->wake_fd = h->timer_fd = h->stop_fd = -EBADF;
        xvb_look_pacer_init(&h->look_pacer, -EBADF, LX_POLL_USEC);  /* no timer until the events start */
        (void) pthread_mutex_init(&h->cache_lock, NULL);
        (void) pthread_mutex_init(&h->track_lock, NULL);
        (void) pthread_mutex_init(&h->event_lock, NULL);
        xvb_info_cache_init(&h->info, monotonic_usec, XVB_INFO_MAX_AGE_USEC);
        if (domain_table_new(&h->running) < 0)
                return -ENOMEM;
        if (xml_cache_new(LX_XML_CACHE_MAX, LX_XML_CACHE_BYTES_MAX, LX_XML_RUNNING_MAX_AGE_USEC,
                          LX_XML_INACTIVE_MAX_AGE_USEC, &h->xml_cache) < 0)
                return -ENOMEM;
        h->read_only = config->read_only;
        if (copy_or_default(config->xl_dir, XL_STORE_DIR_DEFAULT, &h->xl_dir) < 0 ||
            copy_or_default(config->host_root, "", &h->host_root) < 0 ||
            copy_or_default(config->managed_save_dir, LX_SAVE_DIR_DEFAULT, &h->save_dir) < 0)
                return -ENOMEM;
        if (!h->host_root) {
                h->host_root = strdup("");
                if (!h->host_root)
                        return -ENOMEM;
        }
        if (streq(h->host_root, "/"))
                h->host_root[0] = 0;

        /* libxl first: without a working context this backend has nothing to offer, and auto
         * detection falls back to xend. */
        h->logger = lxops_logger_new();
        if (!h->logger)
                return -ENOMEM;
        r = libxl_ctx_alloc(&h->ctx, LIBXL_VERSION, 0, h->logger);
        if (r != 0 || !h->ctx) {
                h->ctx = NULL;
                return xv_error_setf(error, XVP_ERR_NO_SUPPORT,
                                     "The libxl backend is not available on this host: cannot open a libxl context (libxl error %d)",
                                     r);
        }
        libxl_childproc_setmode(h->ctx, &lx_childproc_hooks, NULL);
        if (!libxl_get_version_info(h->ctx))
                return xv_error_setf(error, XVP_ERR_NO_SUPPORT,
                                     "The libxl backend is not available on this host: libxl cannot talk to the hypervisor");

        r = hcall_open(&h->hc, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                log_debug("Hypercalls unavailable: %s", strempty(e.message));
        xv_error_done(&e);

        r = xenstore_open_or_retry(h->read_only, &h->xs, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                log_debug("xenstore unavailable: %s", strempty(e.message));
        xv_error_done(&e);

        r = xl_store_open(h->xl_dir, h->read_only, &h->store, error);
        if (r < 0)
                return r;

        r = lx_events_init(h, error);
        if (r < 0)
                return r;
        r = lx_threads_start(h, error);
        if (r < 0)
                return r;

        log_debug("libxl backend: definitions in %s", h->xl_dir);
        *ret = &TAKE_PTR(h)->base;
        return 0;
}

static void lx_get_status(XvHypervisor *hv, HvStatus *ret) {
        LibxlBackend *h = lx_of(hv);

        *ret = (HvStatus) {
                .xend_ok = false,
                .xend_config_version = 0,
                .xenstore_ok = h->xs && xenstore_is_connected(h->xs),
                .hypercalls_ok = h->hc != NULL,
                .xm_dir_active = false,
                .backend = "libxl",
        };
}

static void lx_probe_status(XvHypervisor *hv, HvStatus *ret) {
        lx_get_status(hv, ret);
}

static int lx_get_xend_config_version(XvHypervisor *hv) {
        return 0;
}

/* ---- host -------------------------------------------------------------------------------- */

static const char *lx_get_type(XvHypervisor *hv) {
        return "Xen";
}

static int lx_get_version(XvHypervisor *hv, uint64_t *ret, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        int r;

        r = lx_need_hc(h, error);
        if (r < 0)
                return r;
        return xvb_get_version(h->hc, ret, error);
}

static int lx_get_hostname(XvHypervisor *hv, char **ret, XvError *error) {
        return xvb_get_hostname(ret, error);
}

static int lx_get_max_vcpus(XvHypervisor *hv, const char *type, int *ret, XvError *error) {
        return xvb_get_max_vcpus(type, LX_MAX_VCPUS, ret, error);
}

static int lx_node_get_info(XvHypervisor *hv, HvNodeInfo *ret, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        int r;

        r = lx_need_hc(h, error);
        if (r < 0)
                return r;
        return xvb_node_get_info(h->hc, ret, error);
}

static int lx_node_get_free_memory(XvHypervisor *hv, uint64_t *ret_bytes, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        int r;

        r = lx_need_hc(h, error);
        if (r < 0)
                return r;
        return xvb_node_get_free_memory(h->hc, ret_bytes, error);
}

static int lx_node_get_cells_free_memory(XvHypervisor *hv, int start_cell, int max_cells, uint64_t *ret_bytes,
                                         int *ret_n, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        int r;

        r = lx_need_hc(h, error);
        if (r < 0)
                return r;
        return xvb_node_get_cells_free_memory(h->hc, start_cell, max_cells, ret_bytes, ret_n, error);
}

static int lx_node_get_cpu_map(XvHypervisor *hv, uint8_t **ret_map, size_t *ret_len, unsigned *ret_online,
                               int *ret_cpus, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        int r;

        r = lx_need_hc(h, error);
        if (r < 0)
                return r;
        return xvb_node_get_cpu_map(h->hc, ret_map, ret_len, ret_online, ret_cpus, error);
}

typedef struct CpuTopology {
        libxl_cputopology *l;
        int n;
} CpuTopology;

static void cpu_topology_done(CpuTopology *t) {
        if (t->l)
                libxl_cputopology_list_free(t->l, t->n);
        *t = (CpuTopology) {};
}

/* NUMA cells from libxl's topology (libxl_get_cpu_topology): which node each CPU is on. */
static int add_numa_cells(LibxlBackend *h, Capabilities *caps) {
        _cleanup_(cpu_topology_done) CpuTopology topo = {};
        _cleanup_free_ unsigned *cpus = NULL;
        int r;

        if (!h->ctx)
                return 0;
        topo.l = libxl_get_cpu_topology(h->ctx, &topo.n);
        if (!topo.l || topo.n <= 0 || topo.n > CAPABILITIES_CPUS_MAX)
                return 0;
        cpus = new0(unsigned, (size_t) topo.n);
        if (!cpus)
                return -ENOMEM;
        for (unsigned node = 0; node < CAPABILITIES_CELLS_MAX; node++) {
                size_t n = 0;

                for (int i = 0; i < topo.n; i++)
                        if (topo.l[i].node == node && topo.l[i].core != LIBXL_CPUTOPOLOGY_INVALID_ENTRY)
                                cpus[n++] = (unsigned) i;
                if (n == 0)
                        continue;
                r = capabilities_add_numa_cell(caps, node, cpus, n, 0, NULL);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

static int build_capabilities(LibxlBackend *h, char **ret, XvError *error) {
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;
        int r;

        r = lx_need_hc(h, error);
        if (r < 0)
                return r;
        r = xvb_capabilities_base(h->hc, h->host_root, &caps, error);
        if (r < 0)
                return r;
        r = add_numa_cells(h, caps);
        if (r < 0)
                return r;
        return capabilities_format_xml(caps, ret, error);
}

static int lx_get_capabilities(XvHypervisor *hv, char **ret_xml, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_free_ char *xml = NULL;
        char *s;
        int r;

        {
                LOCKED(&h->event_lock);

                if (h->caps_xml) {
                        s = strdup(h->caps_xml);
                        if (!s)
                                return -ENOMEM;
                        *ret_xml = s;
                        return 0;
                }
        }
        r = build_capabilities(h, &xml, error);
        if (r < 0)
                return r;
        s = strdup(xml);
        if (!s)
                return -ENOMEM;
        {
                LOCKED(&h->event_lock);

                if (!h->caps_xml)
                        h->caps_xml = TAKE_PTR(xml);
        }
        *ret_xml = s;
        return 0;
}

/* ---- listing and lookups ------------------------------------------------------------------ */

static int lx_list_domain_ids(XvHypervisor *hv, int **ret, size_t *ret_n, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        int r;

        r = lx_need_hc(h, error);
        if (r < 0)
                return r;
        return xvb_list_domain_ids(h->hc, ret, ret_n, error);
}

/* Names of the running domains, from one hypercall list + the name cache. */
static int names_of(void *backend, const HcallDomainInfo *l, size_t n, char **names) {
        for (size_t i = 0; i < n; i++)
                if (lx_name_of(backend, l[i].domid, &l[i].uuid, &names[i], NULL) == -ENOMEM)
                        return -ENOMEM;
        return 0;
}

static int running_names(LibxlBackend *h, HcallDomainInfo **ret_info, char ***ret_names, size_t *ret_n,
                         XvError *error) {
        int r;

        r = lx_need_hc(h, error);
        if (r < 0)
                return r;
        return xvb_running_names(h->hc, names_of, h, ret_info, ret_names, ret_n, error);
}

static bool uuid_running(const HcallDomainInfo *info, size_t n, const XvUuid *uuid) {
        for (size_t i = 0; i < n; i++)
                if (uuid_equal(&info[i].uuid, uuid))
                        return true;
        return false;
}

static int lx_list_defined_names(XvHypervisor *hv, char ***ret, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_free_ HcallDomainInfo *info = NULL;
        _cleanup_strv_free_ char **running = NULL, **out = NULL;
        XlStoreEntry *l = NULL;
        size_t n = 0, n_running = 0;
        int r;

        r = running_names(h, &info, &running, &n_running, error);
        if (r < 0)
                return r;
        r = xl_store_list(h->store, &l, &n, error);
        if (r < 0)
                return r;
        out = new0(char *, 1);
        if (!out) {
                xl_store_entries_free(l, n);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                if (!uuid_running(info, n_running, &l[i].uuid) && strv_extend(&out, l[i].name) < 0) {
                        xl_store_entries_free(l, n);
                        return -ENOMEM;
                }
        xl_store_entries_free(l, n);
        *ret = TAKE_PTR(out);
        return 0;
}

/* A lookup returns identity only (name, uuid, id): a running domain the name cache knows with its
 * uuid needs no hypercall when the cache is current (refreshed since the last watch event). A
 * domain that died a moment ago may still be returned: the next call on it reports
 * XVP_ERR_NO_DOMAIN, as for any handle of a dead domain. -ENOENT when the cache cannot say (the
 * caller resolves, light). Matches on @name, else @uuid, else @id. */
static int lookup_cached(LibxlBackend *h, const char *name, const XvUuid *uuid, int id, HvDomainRef *ret) {
        bool pending = xenstore_events_pending(h->xs);
        LOCKED(&h->cache_lock);
        const DomainTableEntry *c;
        char *n;

        if (pending)
                h->cache_valid = false;
        if (!h->cache_valid && cache_refresh_locked(h, NULL) < 0)
                return -ENOENT;
        c = name ? domain_table_find_name(h->running, name) :
            uuid ? domain_table_find_uuid(h->running, uuid) : domain_table_find_id(h->running, id);
        if (!c || !c->name || !c->has_uuid)
                return -ENOENT;
        n = strdup(c->name);
        if (!n)
                return -ENOMEM;
        *ret = (HvDomainRef) { .name = n, .uuid = c->uuid, .id = c->id };
        return 0;
}

static int lx_lookup_by_id(XvHypervisor *hv, int id, HvDomainRef *ret, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        HvDomainRef ref = { .id = id };
        _cleanup_(lx_dom_done) LxDom d = {};
        int r;

        if (id < 0)
                return xv_error_setf(error, XVP_ERR_NO_DOMAIN, "no domain with matching id %d", id);
        r = lookup_cached(h, NULL, NULL, id, ret);
        if (r != -ENOENT)
                return r;
        r = lx_resolve_light(h, &ref, &d, error);
        if (r < 0)
                return r;
        return lx_fill_ref(&d, ret);
}

static int lx_lookup_by_name(XvHypervisor *hv, const char *name, HvDomainRef *ret, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        HvDomainRef ref = { .name = (char *) name, .id = -1 };
        _cleanup_(lx_dom_done) LxDom d = {};
        int r;

        if (isempty(name))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Empty domain name");
        r = lookup_cached(h, name, NULL, -1, ret);
        if (r != -ENOENT)
                return r;
        r = lx_resolve_light(h, &ref, &d, error);
        if (r < 0)
                return r;
        return lx_fill_ref(&d, ret);
}

static int lx_lookup_by_uuid(XvHypervisor *hv, const XvUuid *uuid, HvDomainRef *ret, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        /* Domain-0's UUID is all zeroes: a null UUID means id 0 here. */
        HvDomainRef ref = { .uuid = *uuid, .id = uuid_is_zero(uuid) ? 0 : -1 };
        _cleanup_(lx_dom_done) LxDom d = {};
        int r;

        r = uuid_is_zero(uuid) ? -ENOENT : lookup_cached(h, NULL, uuid, -1, ret);
        if (r != -ENOENT)
                return r;
        r = lx_resolve_light(h, &ref, &d, error);
        if (r < 0)
                return r;
        return lx_fill_ref(&d, ret);
}

static void info_from_hcall(LibxlBackend *h, const HcallDomainInfo *i, HvDomainInfo *ret) {
        *ret = (HvDomainInfo) {
                .max_memory_kib = i->max_memory_kib,
                .memory_kib = i->memory_kib,
                .nr_vcpus = i->online_vcpus,
                .cpu_time_ns = i->cpu_time_ns,
        };
        lx_state_reason(h, i, &ret->state, &ret->reason);
}

static void info_from_def(LibxlBackend *h, const DomainDef *def, const XvUuid *uuid, const char *name,
                          HvDomainInfo *ret) {
        *ret = (HvDomainInfo) {
                .state = XVP_DOMAIN_SHUTOFF,
                .reason = lx_inactive_reason(h, uuid, name),
        };
        if (def) {
                ret->max_memory_kib = def->memory_kib;
                ret->memory_kib = domain_def_current_memory(def);
                ret->nr_vcpus = domain_def_current_vcpus(def);
        }
}

static int lx_domain_get_info(XvHypervisor *hv, const HvDomainRef *dom, HvDomainInfo *ret, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        int r;

        r = lx_resolve_light(h, dom, &d, error);
        if (r < 0)
                return r;
        if (d.id >= 0) {
                info_from_hcall(h, &d.info, ret);
                return 0;
        }
        r = lx_dom_stored_def(h, &d, error);
        if (r < 0)
                return r;
        info_from_def(h, d.def, &d.uuid, d.name, ret);
        return 0;
}

static int lx_domain_get_state(XvHypervisor *hv, const HvDomainRef *dom, int *ret_state, int *ret_reason,
                               XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        int r;

        r = lx_resolve_light(h, dom, &d, error);
        if (r < 0)
                return r;
        if (d.id >= 0) {
                int s, reason;

                lx_state_reason(h, &d.info, &s, &reason);
                *ret_state = s;
                if (ret_reason)
                        *ret_reason = reason;
                return 0;
        }
        *ret_state = XVP_DOMAIN_SHUTOFF;
        if (ret_reason)
                *ret_reason = lx_inactive_reason(h, &d.uuid, d.name);
        return 0;
}

static int lx_domain_is_active(XvHypervisor *hv, const HvDomainRef *dom, bool *ret, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        int r;

        r = lx_resolve_light(h, dom, &d, error);
        if (r < 0)
                return r;
        *ret = d.id >= 0;
        return 0;
}

static int lx_domain_is_persistent(XvHypervisor *hv, const HvDomainRef *dom, bool *ret, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        int r;

        r = lx_resolve_light(h, dom, &d, error);
        if (r < 0)
                return r;
        *ret = d.persistent;
        return 0;
}

/* ---- list all ------------------------------------------------------------------------------- */

typedef struct StoreList {
        XlStoreEntry *l;
        size_t n;
} StoreList;

static void store_list_done(StoreList *s) {
        s->l = xl_store_entries_free(s->l, s->n);
        s->n = 0;
}

static int lx_list_all_domains(XvHypervisor *hv, unsigned flags, HvDomainSummary **ret, size_t *ret_n,
                               XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_free_ HcallDomainInfo *info = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_(store_list_done) StoreList st = {};
        _cleanup_(xvb_summary_list_done) XvbSummaryList c = { .flags = flags };
        size_t n_running = 0;
        int r;

        if (flags & ~LIST_ALL_FLAGS)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported list flags 0x%x", flags & ~LIST_ALL_FLAGS);
        r = running_names(h, &info, &names, &n_running, error);
        if (r < 0)
                return r;
        r = xl_store_list(h->store, &st.l, &st.n, error);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n_running; i++) {
                HvDomainSummary s = {
                        .ref = { .name = TAKE_PTR(names[i]), .uuid = info[i].uuid, .id = info[i].domid },
                };

                info_from_hcall(h, &info[i], &s.info);
                s.has_managed_save = lx_has_managed_save(h, s.ref.name);
                s.persistent = info[i].domid == 0;
                for (size_t j = 0; j < st.n; j++)
                        if (uuid_equal(&st.l[j].uuid, &s.ref.uuid)) {
                                s.persistent = true;
                                s.autostart = st.l[j].autostart;
                                break;
                        }
                r = xvb_summary_list_add(&c, &s);
                if (r < 0)
                        return r;
        }
        for (size_t j = 0; j < st.n; j++) {
                HvDomainSummary s = { .ref.id = -1, .persistent = true };

                if (uuid_running(info, n_running, &st.l[j].uuid))
                        continue;
                s.ref.name = strdup(st.l[j].name);
                if (!s.ref.name)
                        return -ENOMEM;
                s.ref.uuid = st.l[j].uuid;
                s.autostart = st.l[j].autostart;
                s.has_managed_save = lx_has_managed_save(h, st.l[j].name);
                {
                        /* Memory and vcpus from the definition (the store caches parsed files). */
                        _cleanup_(domain_def_freep) DomainDef *def = NULL;

                        (void) xl_store_load_by_name(h->store, st.l[j].name, &def, NULL);
                        info_from_def(h, def, &st.l[j].uuid, st.l[j].name, &s.info);
                }
                r = xvb_summary_list_add(&c, &s);
                if (r < 0)
                        return r;
        }
        *ret_n = c.n;
        *ret = TAKE_PTR(c.l);
        c.n = 0;
        return 0;
}

const HvBackendOps hv_backend_libxl = {
        .name = "libxl",
        .open = lx_open,
        .close = lx_close,
        .get_status = lx_get_status,
        .probe_status = lx_probe_status,
        .set_event_callback = lx_set_event_callback,
        .event_fd = lx_event_fd,
        .process_events = lx_process_events,
        .get_type = lx_get_type,
        .get_version = lx_get_version,
        .get_hostname = lx_get_hostname,
        .get_capabilities = lx_get_capabilities,
        .get_max_vcpus = lx_get_max_vcpus,
        .node_get_info = lx_node_get_info,
        .node_get_free_memory = lx_node_get_free_memory,
        .node_get_cells_free_memory = lx_node_get_cells_free_memory,
        .node_get_cpu_map = lx_node_get_cpu_map,
        .get_xend_config_version = lx_get_xend_config_version,
        .list_all_domains = lx_list_all_domains,
        .list_domain_ids = lx_list_domain_ids,
        .list_defined_names = lx_list_defined_names,
        .lookup_by_id = lx_lookup_by_id,
        .lookup_by_name = lx_lookup_by_name,
        .lookup_by_uuid = lx_lookup_by_uuid,
        .domain_get_info = lx_domain_get_info,
        .domain_get_state = lx_domain_get_state,
        .domain_get_def = lx_domain_get_def,
        .domain_get_xml = lx_domain_get_xml,
        .domain_get_os_type = lx_domain_get_os_type,
        .domain_is_active = lx_domain_is_active,
        .domain_is_persistent = lx_domain_is_persistent,
        .domain_define = lx_domain_define,
        .domain_undefine = lx_domain_undefine,
        .domain_create_xml = lx_domain_create_xml,
        .domain_create = lx_domain_create,
        .domain_suspend = lx_domain_suspend,
        .domain_resume = lx_domain_resume,
        .domain_shutdown = lx_domain_shutdown,
        .domain_reboot = lx_domain_reboot,
        .domain_destroy = lx_domain_destroy,
        .domain_save = lx_domain_save,
        .domain_restore = lx_domain_restore,
        .domain_managed_save = lx_domain_managed_save,
        .domain_has_managed_save = lx_domain_has_managed_save,
        .domain_managed_save_remove = lx_domain_managed_save_remove,
        .domain_core_dump = lx_domain_core_dump,
        .domain_set_memory = lx_domain_set_memory,
        .domain_set_vcpus = lx_domain_set_vcpus,
        .domain_get_vcpus_flags = lx_domain_get_vcpus_flags,
        .domain_get_vcpus = lx_domain_get_vcpus,
        .domain_pin_vcpu = lx_domain_pin_vcpu,
        .domain_get_vcpu_pin_info = lx_domain_get_vcpu_pin_info,
        .domain_get_autostart = lx_domain_get_autostart,
        .domain_set_autostart = lx_domain_set_autostart,
        .domain_attach_device = lx_domain_attach_device,
        .domain_detach_device = lx_domain_detach_device,
        .domain_update_device = lx_domain_update_device,
        .domain_block_stats = lx_domain_block_stats,
        .domain_interface_stats = lx_domain_interface_stats,
        .domain_get_scheduler_type = lx_domain_get_scheduler_type,
        .domain_get_sched_params = lx_domain_get_sched_params,
        .domain_set_sched_params = lx_domain_set_sched_params,
        .domain_migrate_perform = lx_domain_migrate_perform,
};
