/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * XendBackend over XenD + xenstore + hypercalls + the XM directory: opening, host facts,
 * lookups, listing and state. Domain operations live in xv-backend-xend-domain.c, events in
 * xv-backend-xend-events.c.
 *
 * One designated channel per operation and domain state:
 *   running domains: identity, info, state, vcpus, affinity, scheduler from hypercalls, names
 *                    from xenstore (through a short-lived cache); never XenD;
 *   inactive domains: XenD (config version >= 3, one ?detail=1 request, kept for
 *                    BACKEND_INACTIVE_TTL_USEC in the inactive-domain cache, which every change
 *                    through xenvirt and every xenstore watch event drops; a listing fills it
 *                    too) or the XM directory (<= 2);
 *   list-all: one hypercall list + the xenstore name cache + at most ONE XenD request (or the XM
 *             directory) for the inactive and persistence/autostart part.
 */

#include <assert.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-backend-xend-internal.h"
#include "xv-fileio.h"
#include "xv-log.h"
#include "xv-parse-util.h"
#include "xv-sexpr-domain.h"

#define HV_CPUINFO_PATH "/proc/cpuinfo"
#define HV_XEN_CAPS_PATH "/sys/hypervisor/properties/capabilities"
#define HV_XEND_DOMAINS_DIR "/var/lib/xend/domains"

static void mutex_unlockp(pthread_mutex_t **m) {
        if (*m)
                (void) pthread_mutex_unlock(*m);
}

#define LOCKED(m) \
        _cleanup_(mutex_unlockp) _unused_ pthread_mutex_t *_locked_##__LINE__ = \
                ((void) pthread_mutex_lock(m), (m))

void dom_done(Dom *d) {
        d->name = mfree(d->name);
        d->sxp = sexpr_free(d->sxp);
        d->xmdef = domain_def_free(d->xmdef);
}

int backend_fill_ref(const Dom *d, HvDomainRef *ret) {
        char *n = strdup(d->name);

        if (!n)
                return -ENOMEM;
        *ret = (HvDomainRef) { .name = n, .uuid = d->uuid, .id = d->id };
        return 0;
}

static int dup_or_null(const char *s, char **ret) {
        return strdup_or_null(s, ret);
}

/* ---- XenD and the XM directory ------------------------------------------------------------- */

static int open_xm_locked(XendBackend *h, int cfg, XvError *error) {
        int r;

        if (cfg > XEND_CONFIG_VERSION_3_0_3 || h->xm)
                return 0;
        r = xm_dir_new(h->xm_dir_path, cfg, /* watch= */ true, &h->xm, error);
        if (r < 0)
                return r;
        (void) backend_events_add_xm(h);
        return 0;
}

int backend_xend(XendBackend *h, int *ret_cfg, XvError *error) {
        XvError e = XV_ERROR_NULL;
        int v, r;

        v = xend_get_config_version(h->xend);
        if (v <= 0) {
                r = xend_detect_config_version(h->xend, &v, &e);
                if (r < 0) {
                        if (r == -ENOMEM) {
                                xv_error_done(&e);
                                return r;
                        }
                        r = xv_error_setf(error, XVP_ERR_OPERATION_FAILED, "XenD is not available: %s",
                                          strempty(e.message));
                        xv_error_done(&e);
                        return xv_error_domain(error, XVP_FROM_XEND, r);
                }
        }
        {
                LOCKED(&h->xend_lock);

                h->cfg_version = v;
                r = open_xm_locked(h, v, error);
                if (r < 0)
                        return r;
        }
        if (ret_cfg)
                *ret_cfg = v;
        return 0;
}

XmDir *backend_xm(XendBackend *h) {
        LOCKED(&h->xend_lock);

        return h->xm;
}

int backend_check_writable(XendBackend *h, XvError *error) {
        if (h->read_only)
                return xv_error_setf(error, XVP_ERR_OPERATION_DENIED, "The connection to the hypervisor is read-only");
        return 0;
}

/* ---- the running-domain name cache ---------------------------------------------------------- */

void backend_cache_invalidate(XendBackend *h) {
        LOCKED(&h->cache_lock);

        h->cache_valid = false;
}

/* Whether xenstore has pending watch events that nobody drained yet: then names may have changed. */
static bool xenstore_events_pending(XendBackend *h) {
        struct pollfd p = { .fd = h->xs ? xenstore_event_fd(h->xs) : -1, .events = POLLIN };

        if (p.fd < 0)
                return true;
        return poll(&p, 1, 0) != 0;
}

static int cache_refresh_locked(XendBackend *h, XvError *error) {
        XsDomain *l = NULL;
        size_t n = 0;
        int r;

        if (!h->xs)
                return xv_error_setf(error, XVP_ERR_NO_XENSTORE, "xenstore is not available");
        r = xenstore_list_domains(h->xs, &l, &n, error);
        if (r < 0)
                return r;
        xs_domains_free(h->cache, h->n_cache);
        h->cache = l;
        h->n_cache = n;
        h->cache_valid = true;
        return 0;
}

/* The name of running domain @domid whose hypervisor handle is @uuid, from the cache (refreshed
 * once when it does not know the domain or knows it under another uuid). */
int backend_name_of(XendBackend *h, int domid, const XvUuid *uuid, char **ret, XvError *error) {
        LOCKED(&h->cache_lock);
        int r;

        if (h->cache_valid && xenstore_events_pending(h))
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
                        /* xenstored away: the names it gave last still hold for the domains it
                         * named (same id, same uuid), since nothing renames them meanwhile. Without
                         * this, every domain would look nameless (and gone) until it is back. */
                        stale = r < 0;
                }
                for (size_t i = 0; i < h->n_cache; i++) {
                        const XsDomain *c = &h->cache[i];

                        if (c->id != domid || !c->name)
                                continue;
                        if (uuid && c->has_uuid && !uuid_equal(&c->uuid, uuid))
                                break;
                        if (stale && !c->has_uuid)
                                break;
                        return dup_or_null(c->name, ret);
                }
                if (stale) {
                        xv_error_move(error, &e);
                        return r;
                }
        }
        return xv_error_setf(error, XVP_ERR_NO_DOMAIN, "Domain %d has no name in xenstore", domid);
}

/* Running domain by name: (id, uuid) from the cache, confirmed by the hypervisor. With
 * @refresh_on_miss, a name the cache does not know costs a fresh read of xenstore. */
static int running_by_name(XendBackend *h, const char *name, bool refresh_on_miss, HcallDomainInfo *ret,
                           XvError *error) {
        for (int attempt = 0; attempt < (refresh_on_miss ? 2 : 1); attempt++) {
                bool stale = false, has_uuid = false;
                XvUuid uuid = {};
                int id = -1, r;

                {
                        LOCKED(&h->cache_lock);

                        if (h->cache_valid && xenstore_events_pending(h))
                                h->cache_valid = false;
                        if (!h->cache_valid || attempt > 0) {
                                r = cache_refresh_locked(h, NULL);
                                if (r == -ENOMEM)
                                        return r;
                                /* xenstored away: its last names, each confirmed by its uuid below
                                 * (a name it does not know resolves through XenD instead). */
                                stale = r < 0;
                        }
                        for (size_t i = 0; i < h->n_cache; i++)
                                if (streq_ptr(h->cache[i].name, name)) {
                                        id = h->cache[i].id;
                                        uuid = h->cache[i].uuid;
                                        has_uuid = h->cache[i].has_uuid;
                                        break;
                                }
                }
                if (id < 0 || (stale && !has_uuid)) {
                        if (attempt == 0 && !stale)
                                continue;
                        return -ENOENT;
                }
                r = hcall_domain_info(h->hc, id, ret, NULL);
                if (r >= 0 && stale && !uuid_equal(&ret->uuid, &uuid))
                        return -ENOENT;
                if (r >= 0)
                        return 0;
                if (r != -ESRCH)
                        return hcall_domain_info(h->hc, id, ret, error);
                /* A stale xenstore entry: refresh once. */
        }
        return -ENOENT;
}

int backend_running_by_uuid(XendBackend *h, const XvUuid *uuid, HcallDomainInfo *ret, XvError *error) {
        _cleanup_free_ HcallDomainInfo *l = NULL;
        size_t n = 0;
        int r;

        if (!h->hc)
                return xv_error_setf(error, XVP_ERR_NO_XEN, "Hypercalls are not available");
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

/* ---- what xenvirt did last ------------------------------------------------------------------ */

static Track *track_find_locked(XendBackend *h, const XvUuid *uuid, bool create) {
        Track *oldest = NULL;

        for (size_t i = 0; i < h->n_tracks; i++) {
                if (uuid_equal(&h->tracks[i].uuid, uuid))
                        return &h->tracks[i];
                if (!oldest || h->tracks[i].stamp < oldest->stamp)
                        oldest = &h->tracks[i];
        }
        if (!create)
                return NULL;
        if (h->n_tracks >= BACKEND_TRACK_MAX) {
                /* Forget the least recently touched domain. */
                *oldest = (Track) { .uuid = *uuid };
                return oldest;
        }
        if (!h->tracks) {
                h->tracks = new0(Track, BACKEND_TRACK_MAX);
                if (!h->tracks)
                        return NULL;
        }
        h->tracks[h->n_tracks] = (Track) { .uuid = *uuid };
        return &h->tracks[h->n_tracks++];
}

void backend_track(XendBackend *h, const XvUuid *uuid, TrackAction action) {
        LOCKED(&h->track_lock);
        Track *t = track_find_locked(h, uuid, true);

        if (!t)
                return;
        t->action = action;
        t->stamp = ++h->track_stamp;
}

TrackAction backend_track_get(XendBackend *h, const XvUuid *uuid) {
        LOCKED(&h->track_lock);
        Track *t = track_find_locked(h, uuid, false);

        return t ? t->action : TRACK_NONE;
}

void backend_track_managed(XendBackend *h, const XvUuid *uuid, bool managed) {
        LOCKED(&h->track_lock);
        Track *t = track_find_locked(h, uuid, managed);

        if (!t)
                return;
        t->managed = managed;
        t->stamp = ++h->track_stamp;
}

bool backend_is_managed(XendBackend *h, const XvUuid *uuid) {
        _cleanup_free_ char *path = NULL;
        char u[UUID_STRING_BUF];

        {
                LOCKED(&h->track_lock);
                Track *t = track_find_locked(h, uuid, false);

                if (t && t->managed)
                        return true;
        }
        /* XenD keeps every managed domain in a directory named after its UUID; libvirt peeked at it
         * too ("no official way"). */
        if (asprintf(&path, "%s" HV_XEND_DOMAINS_DIR "/%s", h->host_root, uuid_format(uuid, u)) < 0)
                return false;
        return access(path, F_OK) == 0;
}

void backend_state_reason(XendBackend *h, const HcallDomainInfo *info, int *ret_state, int *ret_reason) {
        TrackAction a = backend_track_get(h, &info->uuid);
        int state = info->state, reason = info->reason;

        switch (state) {
        case XVP_DOMAIN_RUNNING:
        case XVP_DOMAIN_BLOCKED:
                if (state == XVP_DOMAIN_RUNNING)
                        reason = a == TRACK_RESTORED ? XVP_DOMAIN_RUNNING_RESTORED :
                                a == TRACK_UNPAUSED ? XVP_DOMAIN_RUNNING_UNPAUSED :
                                a == TRACK_MIGRATED ? XVP_DOMAIN_RUNNING_MIGRATED : XVP_DOMAIN_RUNNING_BOOTED;
                else
                        reason = 0;
                break;
        case XVP_DOMAIN_PAUSED:
                reason = a == TRACK_PAUSED ? XVP_DOMAIN_PAUSED_USER :
                        a == TRACK_SAVED ? XVP_DOMAIN_PAUSED_SAVE :
                        a == TRACK_MIGRATED ? XVP_DOMAIN_PAUSED_MIGRATION :
                        a == TRACK_BOOTED || a == TRACK_RESTORED ? XVP_DOMAIN_PAUSED_STARTING_UP :
                        XVP_DOMAIN_PAUSED_UNKNOWN;
                break;
        case XVP_DOMAIN_SHUTDOWN:
                reason = a == TRACK_SHUTDOWN ? XVP_DOMAIN_SHUTDOWN_USER : XVP_DOMAIN_SHUTDOWN_UNKNOWN;
                break;
        default:
                break;
        }
        *ret_state = state;
        *ret_reason = reason;
}

int backend_inactive_reason(XendBackend *h, const XvUuid *uuid, const char *name) {
        switch (backend_track_get(h, uuid)) {
        case TRACK_SHUTDOWN:
                return XVP_DOMAIN_SHUTOFF_SHUTDOWN;
        case TRACK_DESTROYED:
                return XVP_DOMAIN_SHUTOFF_DESTROYED;
        case TRACK_SAVED:
                return XVP_DOMAIN_SHUTOFF_SAVED;
        case TRACK_MIGRATED:
                return XVP_DOMAIN_SHUTOFF_MIGRATED;
        case TRACK_CRASHED:
                return XVP_DOMAIN_SHUTOFF_CRASHED;
        default:
                return name && backend_has_managed_save(h, name) ? XVP_DOMAIN_SHUTOFF_SAVED
                                                                 : XVP_DOMAIN_SHUTOFF_UNKNOWN;
        }
}

int backend_managed_save_path(XendBackend *h, const char *name, char **ret) {
        if (isempty(name) || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                return -EINVAL;
        if (asprintf(ret, "%s/%s.save", h->save_dir, name) < 0)
                return -ENOMEM;
        return 0;
}

bool backend_has_managed_save(XendBackend *h, const char *name) {
        _cleanup_free_ char *p = NULL;

        if (backend_managed_save_path(h, name, &p) < 0)
                return false;
        return access(p, F_OK) == 0;
}

/* ---- the inactive-domain cache ---------------------------------------------------------------- */

static uint64_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

static void inactive_clear_locked(XendBackend *h) {
        for (size_t i = 0; i < h->n_inactive; i++) {
                free(h->inactive[i].name);
                sexpr_free(h->inactive[i].sxp);
        }
        h->inactive = mfree(h->inactive);
        h->n_inactive = h->n_inactive_allocated = 0;
}

static void sexpr_copy_items(Sexpr *dst, const Sexpr *src) {
        for (size_t i = 0; i < sexpr_n_items(src); i++) {
                const Sexpr *c = sexpr_item(src, i);

                if (sexpr_is_atom(c))
                        (void) sexpr_add_atom(dst, sexpr_atom(c));
                else
                        sexpr_copy_items(sexpr_add_list(dst, NULL), c);
        }
}

/* A deep copy: callers edit their Dom's expression (autostart), never the cached one. The
 * recursion is bounded by SEXPR_DEPTH_MAX, which the parser enforced on @src. */
static int sexpr_copy(const Sexpr *src, Sexpr **ret) {
        _cleanup_(sexpr_freep) Sexpr *c = NULL;
        int r;

        if (!sexpr_is_list(src))
                return -EINVAL;
        r = sexpr_new_list(NULL, &c);
        if (r < 0)
                return r;
        sexpr_copy_items(c, src);
        r = sexpr_check(c);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

uint64_t backend_inactive_gen(XendBackend *h) {
        LOCKED(&h->inactive_lock);

        return h->inactive_gen;
}

void backend_inactive_invalidate(XendBackend *h) {
        LOCKED(&h->inactive_lock);

        h->inactive_gen++;
        inactive_clear_locked(h);
}

/* Remembers XenD's description @sxp of an inactive domain, fetched when the generation was @gen.
 * Running domains are not cached: the hypervisor answers for them. Best effort: nothing is
 * stored on OOM or when the cache is full. */
void backend_inactive_put(XendBackend *h, uint64_t gen, const Sexpr *sxp) {
        _cleanup_(sexpr_freep) Sexpr *copy = NULL;
        _cleanup_free_ char *name = NULL;
        const char *n = sexpr_node(sxp, "domain/name"), *u = sexpr_node(sxp, "domain/uuid");
        uint64_t stamp = now_usec();
        XvUuid uuid;
        int id;

        if (!n || !u || uuid_parse(u, &uuid) < 0)
                return;
        if (sexpr_domain_id(sxp, &id) >= 0 && id >= 0)
                return;
        /* Copied before taking the lock: the lock is only ever held for list bookkeeping. */
        if (sexpr_copy(sxp, &copy) < 0)
                return;
        name = strdup(n);
        if (!name)
                return;

        LOCKED(&h->inactive_lock);
        if (h->inactive_gen != gen)
                return;
        for (size_t i = 0; i < h->n_inactive; i++) {
                Inactive *e = &h->inactive[i];

                if (!uuid_equal(&e->uuid, &uuid) && !streq(e->name, name))
                        continue;
                free(e->name);
                e->name = TAKE_PTR(name);
                sexpr_free(e->sxp);
                e->sxp = TAKE_PTR(copy);
                e->uuid = uuid;
                e->stamp = stamp;
                return;
        }
        if (h->n_inactive >= BACKEND_INACTIVE_MAX)
                return;
        if (GREEDY_REALLOC(h->inactive, h->n_inactive_allocated, h->n_inactive + 1) < 0)
                return;
        h->inactive[h->n_inactive++] = (Inactive) {
                .name = TAKE_PTR(name), .uuid = uuid, .sxp = TAKE_PTR(copy), .stamp = stamp,
        };
}

/* Whether the cache holds inactive domain @uuid and will for a while yet (half the TTL): then
 * refreshing it from a listing is not worth the copy. */
static bool inactive_fresh(XendBackend *h, const XvUuid *uuid) {
        uint64_t now = now_usec();

        LOCKED(&h->inactive_lock);
        for (size_t i = 0; i < h->n_inactive; i++)
                if (uuid_equal(&h->inactive[i].uuid, uuid))
                        return now - h->inactive[i].stamp < BACKEND_INACTIVE_TTL_USEC / 2;
        return false;
}

/* A copy of the cached description of inactive domain @name or @uuid when it is younger than
 * BACKEND_INACTIVE_TTL_USEC. -ENOENT on a miss (also for a domain that does not exist: that is
 * asked of XenD every time, so a domain defined elsewhere is found at once). */
static int inactive_get(XendBackend *h, const char *name, const XvUuid *uuid, Sexpr **ret) {
        const Sexpr *found = NULL;
        uint64_t now = now_usec();

        LOCKED(&h->inactive_lock);
        for (size_t i = 0; i < h->n_inactive; i++) {
                const Inactive *e = &h->inactive[i];

                if (uuid ? !uuid_equal(&e->uuid, uuid) : !streq(e->name, name))
                        continue;
                if (now - e->stamp < BACKEND_INACTIVE_TTL_USEC)
                        found = e->sxp;
                break;
        }
        if (!found)
                return -ENOENT;
        /* The copy is a few dozen small allocations: cheap next to the XenD round trip it saves. */
        return sexpr_copy(found, ret);
}

/* ---- resolving a client's domain reference --------------------------------------------------- */

static int no_domain(const HvDomainRef *ref, XvError *error) {
        char u[UUID_STRING_BUF];

        xv_error_setf(error, XVP_ERR_NO_DOMAIN, "no domain with matching uuid '%s' (%s)",
                      uuid_format(&ref->uuid, u), strempty(ref->name));
        return -ENOENT;
}

/* Fills @d from an inactive domain's XenD expression. */
static int dom_from_sxp(Sexpr *sxp, Dom *d, XvError *error) {
        const char *name = sexpr_node(sxp, "domain/name"), *uuid = sexpr_node(sxp, "domain/uuid");

        if (!name || !uuid || uuid_parse(uuid, &d->uuid) < 0)
                return xv_error_setf(error, XVP_ERR_INTERNAL, "XenD described a domain without name or UUID");
        d->name = strdup(name);
        if (!d->name)
                return -ENOMEM;
        d->sxp = sxp;
        return 0;
}

static int resolve_running(XendBackend *h, const HcallDomainInfo *info, const char *fallback_name, Dom *ret,
                           XvError *error) {
        _cleanup_free_ char *name = NULL;
        int r;

        r = backend_name_of(h, info->domid, &info->uuid, &name, NULL);
        if (r < 0 && r != -ENOENT && r != -ENOMEM && !fallback_name)
                return backend_name_of(h, info->domid, &info->uuid, &name, error);
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
        *ret = (Dom) { .name = TAKE_PTR(name), .uuid = info->uuid, .id = info->domid, .info = *info };
        return 0;
}

/* An inactive domain by name or UUID (the XenD request or the XM lookup). -ENOENT when unknown. */
static int resolve_inactive(XendBackend *h, const char *name, const XvUuid *uuid, Dom *ret, XvError *error) {
        XvError e = XV_ERROR_NULL;
        int cfg, r;

        r = backend_xend(h, &cfg, error);
        if (r < 0)
                return r;

        if (cfg >= XEND_CONFIG_VERSION_3_0_4) {
                _cleanup_(sexpr_freep) Sexpr *sxp = NULL;
                char u[UUID_STRING_BUF];
                Dom d = { .id = -1 };
                uint64_t gen;
                int id;

                r = inactive_get(h, name, uuid, &sxp);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0) {
                        r = dom_from_sxp(sxp, &d, error);
                        if (r < 0)
                                return r;
                        TAKE_PTR(sxp);
                        *ret = d;
                        return 0;
                }

                gen = backend_inactive_gen(h);
                r = xend_domain_get(h->xend, uuid ? uuid_format(uuid, u) : name, &sxp, &e);
                if (r < 0) {
                        if (e.code == XVP_ERR_NO_DOMAIN || r == -ENOENT) {
                                xv_error_done(&e);
                                return -ENOENT;
                        }
                        xv_error_move(error, &e);
                        return r;
                }
                if (sexpr_domain_id(sxp, &id) >= 0 && id >= 0) {
                        /* Running after all (started a moment ago): the hypervisor answers for it. */
                        HcallDomainInfo info;

                        r = hcall_domain_info(h->hc, id, &info, error);
                        if (r < 0)
                                return r;
                        return resolve_running(h, &info, sexpr_node(sxp, "domain/name"), ret, error);
                }
                r = dom_from_sxp(sxp, &d, error);
                if (r < 0)
                        return r;
                TAKE_PTR(sxp);
                if (name && !streq(d.name, name) && !uuid) {
                        dom_done(&d);
                        return -ENOENT;
                }
                backend_track_managed(h, &d.uuid, true);
                backend_inactive_put(h, gen, d.sxp);
                *ret = d;
                return 0;
        } else {
                _cleanup_free_ char *n = NULL;
                XmDir *xm = backend_xm(h);
                Dom d = { .id = -1 };

                if (!xm)
                        return -ENOENT;
                if (uuid) {
                        r = xm_dir_find_uuid(xm, uuid, &n);
                        if (r < 0)
                                return r;
                        name = n;
                }
                r = xm_dir_get(xm, name, &d.xmdef, NULL);
                if (r < 0)
                        return r;
                d.uuid = d.xmdef->uuid;
                d.name = strdup(d.xmdef->name);
                if (!d.name) {
                        dom_done(&d);
                        return -ENOMEM;
                }
                *ret = d;
                return 0;
        }
}

/* Inactive domain @name from the cache, when the hypervisor confirms that it is not running; a
 * running domain of that UUID resolves as running. -ENOENT on a cache miss. */
static int resolve_inactive_cached(XendBackend *h, const char *name, Dom *ret, XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *sxp = NULL;
        HcallDomainInfo info;
        Dom d = { .id = -1 };
        int r;

        r = inactive_get(h, name, NULL, &sxp);
        if (r < 0)
                return r;
        r = dom_from_sxp(sxp, &d, error);
        if (r < 0)
                return r;
        TAKE_PTR(sxp);
        r = backend_running_by_uuid(h, &d.uuid, &info, error);
        if (r >= 0) {
                dom_done(&d);
                return resolve_running(h, &info, name, ret, error);
        }
        if (r != -ENOENT) {
                dom_done(&d);
                return r;
        }
        *ret = d;
        return 0;
}

int backend_resolve(XendBackend *h, const HvDomainRef *ref, Dom *ret, XvError *error) {
        HcallDomainInfo info;
        int r;

        assert(ref);
        if (!h->hc)
                return xv_error_setf(error, XVP_ERR_NO_XEN, "Hypercalls are not available");

        if (!uuid_is_null(&ref->uuid)) {
                /* The id the client holds is only a hint: check it before scanning the list. */
                if (ref->id >= 0 && hcall_domain_info(h->hc, ref->id, &info, NULL) >= 0 &&
                    uuid_equal(&info.uuid, &ref->uuid))
                        return resolve_running(h, &info, ref->name, ret, error);
                r = backend_running_by_uuid(h, &ref->uuid, &info, error);
                if (r >= 0)
                        return resolve_running(h, &info, ref->name, ret, error);
                if (r != -ENOENT)
                        return r;
                r = resolve_inactive(h, ref->name, &ref->uuid, ret, error);
                if (r == -ENOENT)
                        return no_domain(ref, error);
                return r;
        }

        if (ref->name) {
                /* Inactive domains are the ones the running-name cache does not know: rather than
                 * rereading xenstore for each, ask the inactive-domain cache and have the
                 * hypervisor confirm by UUID that the domain is not running after all. */
                r = running_by_name(h, ref->name, /* refresh_on_miss= */ false, &info, error);
                if (r >= 0)
                        return resolve_running(h, &info, ref->name, ret, error);
                if (r != -ENOENT)
                        return r;
                r = resolve_inactive_cached(h, ref->name, ret, error);
                if (r != -ENOENT)
                        return r;

                r = running_by_name(h, ref->name, /* refresh_on_miss= */ true, &info, error);
                if (r >= 0)
                        return resolve_running(h, &info, ref->name, ret, error);
                if (r != -ENOENT)
                        return r;
                r = resolve_inactive(h, ref->name, NULL, ret, error);
                if (r == -ENOENT)
                        return no_domain(ref, error);
                return r;
        }

        if (ref->id >= 0) {
                r = hcall_domain_info(h->hc, ref->id, &info, error);
                if (r < 0)
                        return r;
                return resolve_running(h, &info, NULL, ret, error);
        }
        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "A domain reference needs a UUID, a name or an id");
}

/* ---- lifetime -------------------------------------------------------------------------------- */

static int copy_or_default(const char *s, const char *def, char **ret) {
        return strdup_or_null(isempty(s) ? def : s, ret);
}

static XendBackend *backend_free(XendBackend *h) {
        if (!h)
                return NULL;
        backend_events_done(h);
        xm_dir_free(h->xm);
        xend_free(h->xend);
        xenstore_close(h->xs);
        hcall_close(h->hc);
        xs_domains_free(h->cache, h->n_cache);
        inactive_clear_locked(h);
        free(h->tracks);
        for (size_t i = 0; i < h->n_queue; i++)
                hv_domain_ref_done(&h->queue[i].ref);
        free(h->queue);
        free(h->caps_xml);
        free(h->xend_socket);
        free(h->xend_tcp);
        free(h->xm_dir_path);
        free(h->host_root);
        free(h->save_dir);
        (void) pthread_mutex_destroy(&h->xend_lock);
        (void) pthread_mutex_destroy(&h->cache_lock);
        (void) pthread_mutex_destroy(&h->track_lock);
        (void) pthread_mutex_destroy(&h->inactive_lock);
        (void) pthread_mutex_destroy(&h->event_lock);
        return mfree(h);
}
DEFINE_CLEANUP_FUNC(XendBackend *, backend_free);

XvHypervisor *xendbe_close(XvHypervisor *hv) {
        backend_free(xend_of(hv));
        return NULL;
}

int xendbe_open(const HvConfig *config, XvHypervisor **ret, XvError *error) {
        _cleanup_(backend_freep) XendBackend *h = NULL;
        HvConfig def = { .backend = HV_BACKEND_AUTO };
        XvError e = XV_ERROR_NULL;
        int r;

        assert(ret);
        if (!config)
                config = &def;

        h = new0(XendBackend, 1);
        if (!h)
                return -ENOMEM;
        h->base.ops = &hv_backend_xend;
        h->epoll_fd = h->wake_fd = h->timer_fd = -EBADF;
        (void) pthread_mutex_init(&h->xend_lock, NULL);
        (void) pthread_mutex_init(&h->cache_lock, NULL);
        (void) pthread_mutex_init(&h->track_lock, NULL);
        (void) pthread_mutex_init(&h->inactive_lock, NULL);
        (void) pthread_mutex_init(&h->event_lock, NULL);
        h->read_only = config->read_only;
        h->xend_timeout_usec = config->xend_timeout_usec ?: XEND_TIMEOUT_DEFAULT_USEC;
        if (strdup_or_null(config->xend_socket, &h->xend_socket) < 0 ||
            strdup_or_null(config->xend_tcp, &h->xend_tcp) < 0 ||
            copy_or_default(config->xm_dir, "/etc/xen", &h->xm_dir_path) < 0 ||
            copy_or_default(config->host_root, "", &h->host_root) < 0 ||
            copy_or_default(config->managed_save_dir, "/var/lib/xenvirt/save", &h->save_dir) < 0)
                return -ENOMEM;
        if (!h->host_root) {
                h->host_root = strdup("");
                if (!h->host_root)
                        return -ENOMEM;
        }
        /* "/" as the root would make every path start with "//". */
        if (streq(h->host_root, "/"))
                h->host_root[0] = 0;

        r = xend_new(h->xend_socket, h->xend_tcp, h->xend_timeout_usec, &h->xend);
        if (r < 0)
                return xv_error_set_errnof(error, r, "Invalid XenD address '%s'",
                                           strempty(h->xend_tcp ?: h->xend_socket));

        /* The channels are opened independently: the daemon must come up and report what is
         * missing rather than refuse to start (XenD in particular may be restarting). */
        r = hcall_open(&h->hc, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                log_debug("Hypercalls unavailable: %s", strempty(e.message));
        xv_error_done(&e);

        /* xenstored may come later (or come back): the channel then connects by itself. */
        r = xenstore_open_or_retry(h->read_only, &h->xs, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                log_debug("xenstore unavailable: %s", strempty(e.message));
        else if (!xenstore_is_connected(h->xs))
                log_debug("xenstore unavailable for now, retrying in the background");
        xv_error_done(&e);

        r = backend_xend(h, NULL, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                log_debug("XenD unavailable: %s", strempty(e.message));
        xv_error_done(&e);

        if (!h->hc && !xenstore_is_connected(h->xs) && xend_get_config_version(h->xend) <= 0)
                return xv_error_setf(error, XVP_ERR_NO_CONNECT, "No Xen channel is available");

        r = backend_events_init(h, error);
        if (r < 0)
                return r;

        *ret = &TAKE_PTR(h)->base;
        return 0;
}

void xendbe_get_status(XvHypervisor *hv, HvStatus *ret) {
        XendBackend *h = xend_of(hv);

        LOCKED(&h->xend_lock);

        *ret = (HvStatus) {
                .xend_ok = xend_get_config_version(h->xend) > 0,
                .xend_config_version = xend_get_config_version(h->xend),
                .xenstore_ok = h->xs && xenstore_is_connected(h->xs),
                .hypercalls_ok = h->hc != NULL,
                .xm_dir_active = h->xm != NULL,
                .backend = "xend",
        };
}

void xendbe_probe_status(XvHypervisor *hv, HvStatus *ret) {
        XendBackend *h = xend_of(hv);
        int v;

        /* One node request: forgetting the config version makes the detection ask XenD again. A
         * XenD that stopped answering stays at 0 (down, and detected again by the next call that
         * needs it); one that answers has its config version read afresh. */
        xend_reset_config_version(h->xend);
        (void) xend_detect_config_version(h->xend, &v, NULL);
        xendbe_get_status(hv, ret);
}

int xendbe_get_xend_config_version(XvHypervisor *hv) {
        XendBackend *h = xend_of(hv);
        int v = xend_get_config_version(h->xend);

        if (v <= 0 && backend_xend(h, &v, NULL) < 0)
                return 0;
        return v;
}

/* ---- host -------------------------------------------------------------------------------- */

const char *xendbe_get_type(_unused_ XvHypervisor *hv) {
        return "Xen";
}

static int need_hc(XendBackend *h, XvError *error) {
        if (!h->hc)
                return xv_error_setf(error, XVP_ERR_NO_XEN, "Hypercalls are not available on this host");
        return 0;
}

int xendbe_get_version(XvHypervisor *hv, uint64_t *ret, XvError *error) {
        XendBackend *h = xend_of(hv);
        HcallVersion v;
        int r;

        r = need_hc(h, error);
        if (r < 0)
                return r;
        r = hcall_version(h->hc, &v, error);
        if (r < 0)
                return r;
        *ret = (uint64_t) v.major * 1000000 + (uint64_t) v.minor * 1000 + v.micro;
        return 0;
}

int xendbe_get_hostname(_unused_ XvHypervisor *hv, char **ret, XvError *error) {
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

int xendbe_get_max_vcpus(_unused_ XvHypervisor *hv, const char *type, int *ret, XvError *error) {
        if (type && strcasecmp(type, "xen") != 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unknown hypervisor type '%s'", type);
        *ret = BACKEND_MAX_VCPUS;
        return 0;
}

int xendbe_node_get_info(XvHypervisor *hv, HvNodeInfo *ret, XvError *error) {
        XendBackend *h = xend_of(hv);
        HcallPhysinfo p;
        struct utsname u;
        int r;

        /* The hypervisor knows the topology; XenD's /xend/node/ only relayed it. */
        r = need_hc(h, error);
        if (r < 0)
                return r;
        r = hcall_physinfo(h->hc, &p, error);
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

int xendbe_node_get_free_memory(XvHypervisor *hv, uint64_t *ret_bytes, XvError *error) {
        XendBackend *h = xend_of(hv);
        HcallPhysinfo p;
        int r;

        r = need_hc(h, error);
        if (r < 0)
                return r;
        r = hcall_physinfo(h->hc, &p, error);
        if (r < 0)
                return r;
        *ret_bytes = p.free_kib * 1024;
        return 0;
}

int xendbe_node_get_cells_free_memory(XvHypervisor *hv, int start_cell, int max_cells, uint64_t *ret_bytes,
                                      int *ret_n, XvError *error) {
        XendBackend *h = xend_of(hv);
        int r;

        r = need_hc(h, error);
        if (r < 0)
                return r;
        if (start_cell < 0 || max_cells <= 0 || max_cells > HCALL_NODES_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid NUMA cell range %d+%d", start_cell,
                                     max_cells);
        return hcall_node_free_memory(h->hc, start_cell, max_cells, ret_bytes, ret_n, error);
}

int xendbe_node_get_cpu_map(XvHypervisor *hv, uint8_t **ret_map, size_t *ret_len, unsigned *ret_online,
                            int *ret_cpus, XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_free_ uint8_t *map = NULL;
        HcallPhysinfo p;
        unsigned cpus;
        size_t len;
        int r;

        r = need_hc(h, error);
        if (r < 0)
                return r;
        r = hcall_physinfo(h->hc, &p, error);
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

/* Parses XenD's node_to_cpu ("node0:0-3,6\nnode1:no cpus") into cells. */
static int add_numa_cells(Capabilities *caps, const char *n2c, XvError *error) {
        const char *p = n2c;

        while (p && *p) {
                _cleanup_free_ unsigned *cpus = NULL;
                size_t n = 0, len = strcspn(p, "\n");
                _cleanup_free_ char *line = strndup(p, len);
                const char *q, *colon;
                uint64_t id;
                int r;

                if (!line)
                        return -ENOMEM;
                p += len + (p[len] == '\n');
                q = line + strspn(line, " \t");
                if (strncmp(q, "node", 4) != 0 || !(colon = strchr(q, ':')))
                        continue;
                {
                        _cleanup_free_ char *num = strndup(q + 4, (size_t) (colon - q - 4));

                        if (!num)
                                return -ENOMEM;
                        if (safe_atou64(num, &id) < 0 || id >= CAPABILITIES_CELLS_MAX)
                                continue;
                }
                cpus = new0(unsigned, CAPABILITIES_CPUS_MAX);
                if (!cpus)
                        return -ENOMEM;
                q = colon + 1;
                while (*q && !strstr(colon + 1, "no cpus")) {
                        uint64_t a, b;
                        const char *end;

                        q += strspn(q, " ,");
                        if (!*q)
                                break;
                        if (parse_u64_prefix(q, &a, &end) < 0)
                                break;
                        b = a;
                        if (*end == '-' && parse_u64_prefix(end + 1, &b, &end) < 0)
                                break;
                        if (b < a || b >= CAPABILITIES_CPUS_MAX)
                                break;
                        for (uint64_t c = a; c <= b && n < CAPABILITIES_CPUS_MAX; c++)
                                cpus[n++] = (unsigned) c;
                        q = end;
                }
                r = capabilities_add_numa_cell(caps, (unsigned) id, cpus, n, 0, error);
                if (r == -ENOMEM)
                        return r;
        }
        return 0;
}

static int build_capabilities(XendBackend *h, char **ret, bool *ret_complete, XvError *error) {
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;
        _cleanup_free_ char *cpuinfo = NULL, *xen_caps = NULL, *path = NULL;
        XendNodeInfo node = {};
        HcallVersion v = {};
        struct utsname u;
        bool have_node;
        int r;

        r = need_hc(h, error);
        if (r < 0)
                return r;
        r = hcall_version(h->hc, &v, error);
        if (r < 0)
                return r;

        if (asprintf(&path, "%s" HV_CPUINFO_PATH, h->host_root) < 0)
                return -ENOMEM;
        r = read_full_file(path, CAPABILITIES_CPUINFO_SIZE_MAX, &cpuinfo, NULL);
        if (r < 0)
                log_debug_errno(r, "Cannot read %s, ignoring: %m", path);
        path = mfree(path);
        if (asprintf(&path, "%s" HV_XEN_CAPS_PATH, h->host_root) < 0)
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

        /* NUMA topology: XenD's node_to_cpu (the one XenD fact capabilities need). */
        have_node = xend_node_info(h->xend, &node, NULL) >= 0;
        if (have_node && node.node_to_cpu) {
                r = add_numa_cells(caps, node.node_to_cpu, NULL);
                if (r == -ENOMEM) {
                        xend_node_info_done(&node);
                        return r;
                }
        }
        xend_node_info_done(&node);

        r = capabilities_format_xml(caps, ret, error);
        if (r < 0)
                return r;
        *ret_complete = have_node;
        return 0;
}

int xendbe_get_capabilities(XvHypervisor *hv, char **ret_xml, XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_free_ char *xml = NULL;
        bool complete = false;
        char *s;
        int r;

        {
                LOCKED(&h->xend_lock);

                if (h->caps_xml) {
                        s = strdup(h->caps_xml);
                        if (!s)
                                return -ENOMEM;
                        *ret_xml = s;
                        return 0;
                }
        }
        /* Built outside the lock: it asks XenD for the NUMA topology. */
        r = build_capabilities(h, &xml, &complete, error);
        if (r < 0)
                return r;
        assert(xml);    /* build_capabilities() sets it when it succeeds */
        s = strdup(xml);
        if (!s)
                return -ENOMEM;
        if (complete) {
                LOCKED(&h->xend_lock);

                /* Host-static: kept for the daemon's lifetime (only when XenD gave the topology). */
                if (!h->caps_xml)
                        h->caps_xml = TAKE_PTR(xml);
        }
        *ret_xml = s;
        return 0;
}

/* ---- listing and lookups ------------------------------------------------------------------ */

int xendbe_list_domain_ids(XvHypervisor *hv, int **ret, size_t *ret_n, XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_free_ HcallDomainInfo *l = NULL;
        int *ids;
        size_t n = 0;
        int r;

        r = need_hc(h, error);
        if (r < 0)
                return r;
        r = hcall_list_domains(h->hc, &l, &n, error);
        if (r < 0)
                return r;
        ids = new0(int, n);
        if (!ids)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                ids[i] = l[i].domid;
        *ret = ids;
        *ret_n = n;
        return 0;
}

/* Names of the running domains, from one hypercall list + the name cache. */
static int running_names(XendBackend *h, HcallDomainInfo **ret_info, char ***ret_names, size_t *ret_n,
                         XvError *error) {
        _cleanup_free_ HcallDomainInfo *l = NULL;
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;
        int r;

        r = need_hc(h, error);
        if (r < 0)
                return r;
        r = hcall_list_domains(h->hc, &l, &n, error);
        if (r < 0)
                return r;
        names = new0(char *, n + 1);
        if (!names)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = backend_name_of(h, l[i].domid, &l[i].uuid, &names[i], NULL);
                if (r == -ENOMEM)
                        return r;
                if (!names[i]) {
                        /* Introduced but not named yet (or a stale handle): xenstore will say soon. */
                        if (asprintf(&names[i], "Domain-%d", l[i].domid) < 0)
                                return -ENOMEM;
                }
        }
        *ret_info = TAKE_PTR(l);
        *ret_names = TAKE_PTR(names);
        *ret_n = n;
        return 0;
}

int xendbe_list_defined_names(XvHypervisor *hv, char ***ret, XvError *error) {
        XendBackend *h = xend_of(hv);
        int cfg, r;

        r = backend_xend(h, &cfg, error);
        if (r < 0)
                return r;
        if (cfg >= XEND_CONFIG_VERSION_3_0_4)
                return xend_list_domain_names(h->xend, /* halted= */ true, ret, error);

        {
                _cleanup_free_ HcallDomainInfo *info = NULL;
                _cleanup_strv_free_ char **running = NULL, **out = NULL;
                XmDirDomain *l = NULL;
                size_t n = 0, n_running = 0;

                r = running_names(h, &info, &running, &n_running, error);
                if (r < 0)
                        return r;
                r = xm_dir_list(backend_xm(h), &l, &n, error);
                if (r < 0)
                        return r;
                out = new0(char *, 1);
                if (!out) {
                        xm_dir_domains_free(l, n);
                        return -ENOMEM;
                }
                for (size_t i = 0; i < n; i++) {
                        bool active = strv_contains(running, l[i].name);

                        for (size_t j = 0; j < n_running && !active; j++)
                                active = uuid_equal(&info[j].uuid, &l[i].uuid);
                        if (!active && strv_extend(&out, l[i].name) < 0) {
                                xm_dir_domains_free(l, n);
                                return -ENOMEM;
                        }
                }
                xm_dir_domains_free(l, n);
                *ret = TAKE_PTR(out);
                return 0;
        }
}

int xendbe_lookup_by_id(XvHypervisor *hv, int id, HvDomainRef *ret, XvError *error) {
        XendBackend *h = xend_of(hv);
        HcallDomainInfo info;
        _cleanup_(dom_done) Dom d = {};
        int r;

        r = need_hc(h, error);
        if (r < 0)
                return r;
        if (id < 0)
                return xv_error_setf(error, XVP_ERR_NO_DOMAIN, "no domain with matching id %d", id);
        r = hcall_domain_info(h->hc, id, &info, NULL);
        if (r == -ESRCH || r == -ENOENT)
                return xv_error_setf(error, XVP_ERR_NO_DOMAIN, "no domain with matching id %d", id);
        if (r < 0)
                return hcall_domain_info(h->hc, id, &info, error);
        r = resolve_running(h, &info, NULL, &d, error);
        if (r < 0)
                return r;
        return backend_fill_ref(&d, ret);
}

int xendbe_lookup_by_name(XvHypervisor *hv, const char *name, HvDomainRef *ret, XvError *error) {
        XendBackend *h = xend_of(hv);
        HvDomainRef ref = { .name = (char *) name, .id = -1 };
        _cleanup_(dom_done) Dom d = {};
        int r;

        if (isempty(name))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Empty domain name");
        r = backend_resolve(h, &ref, &d, error);
        if (r < 0)
                return r;
        return backend_fill_ref(&d, ret);
}

int xendbe_lookup_by_uuid(XvHypervisor *hv, const XvUuid *uuid, HvDomainRef *ret, XvError *error) {
        XendBackend *h = xend_of(hv);

        /* Domain-0's UUID is all zeroes in Xen, and libvirt finds it by that UUID: a null UUID
         * means id 0 here, not "no UUID given". */
        HvDomainRef ref = { .uuid = *uuid, .id = uuid_is_null(uuid) ? 0 : -1 };
        _cleanup_(dom_done) Dom d = {};
        int r;

        r = backend_resolve(h, &ref, &d, error);
        if (r < 0)
                return r;
        return backend_fill_ref(&d, ret);
}

static void info_from_hcall(XendBackend *h, const HcallDomainInfo *i, HvDomainInfo *ret) {
        *ret = (HvDomainInfo) {
                .max_memory_kib = i->max_memory_kib,
                .memory_kib = i->memory_kib,
                .nr_vcpus = i->online_vcpus,
                .cpu_time_ns = i->cpu_time_ns,
        };
        backend_state_reason(h, i, &ret->state, &ret->reason);
}

static void info_from_def(XendBackend *h, const DomainDef *def, HvDomainInfo *ret) {
        *ret = (HvDomainInfo) {
                .state = XVP_DOMAIN_SHUTOFF,
                .reason = backend_inactive_reason(h, &def->uuid, def->name),
                .max_memory_kib = def->memory_kib,
                .memory_kib = domain_def_current_memory(def),
                .nr_vcpus = domain_def_current_vcpus(def),
        };
}

/* An inactive domain's numbers from XenD's expression (no conversion to a full definition). */
static void info_from_sxp(XendBackend *h, const Dom *d, HvDomainInfo *ret) {
        uint64_t mem = 0, maxmem = 0, vcpus = 0;

        (void) sexpr_get_u64(d->sxp, "domain/memory", &mem);
        if (sexpr_get_u64(d->sxp, "domain/maxmem", &maxmem) < 0)
                maxmem = mem;
        (void) sexpr_get_u64(d->sxp, "domain/vcpus", &vcpus);
        *ret = (HvDomainInfo) {
                .state = XVP_DOMAIN_SHUTOFF,
                .reason = backend_inactive_reason(h, &d->uuid, d->name),
                .max_memory_kib = maxmem * 1024,
                .memory_kib = mem * 1024,
                .nr_vcpus = (unsigned) vcpus,
        };
        (void) sexpr_domain_cpu_time(d->sxp, &ret->cpu_time_ns);
}

int backend_dom_info(XendBackend *h, const Dom *d, HvDomainInfo *ret) {
        if (d->id >= 0)
                info_from_hcall(h, &d->info, ret);
        else if (d->xmdef)
                info_from_def(h, d->xmdef, ret);
        else if (d->sxp)
                info_from_sxp(h, d, ret);
        else
                return -EINVAL;
        return 0;
}

int xendbe_domain_get_info(XvHypervisor *hv, const HvDomainRef *dom, HvDomainInfo *ret, XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_(dom_done) Dom d = {};
        int r;

        r = backend_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        return backend_dom_info(h, &d, ret);
}

int xendbe_domain_get_state(XvHypervisor *hv, const HvDomainRef *dom, int *ret_state, int *ret_reason,
                            XvError *error) {
        HvDomainInfo info;
        int r;

        r = xendbe_domain_get_info(hv, dom, &info, error);
        if (r < 0)
                return r;
        *ret_state = info.state;
        if (ret_reason)
                *ret_reason = info.reason;
        return 0;
}

int xendbe_domain_is_active(XvHypervisor *hv, const HvDomainRef *dom, bool *ret, XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_(dom_done) Dom d = {};
        int r;

        r = backend_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        *ret = d.id >= 0;
        return 0;
}

int xendbe_domain_is_persistent(XvHypervisor *hv, const HvDomainRef *dom, bool *ret, XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_(dom_done) Dom d = {};
        int cfg, r;

        r = backend_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        if (d.id < 0 || d.id == 0) {
                /* Inactive domains exist only as definitions; Domain-0 always exists. */
                *ret = true;
                return 0;
        }
        r = backend_xend(h, &cfg, error);
        if (r < 0)
                return r;
        if (cfg >= XEND_CONFIG_VERSION_3_0_4)
                *ret = backend_is_managed(h, &d.uuid);
        else {
                _cleanup_free_ char *name = NULL;

                r = xm_dir_find_uuid(backend_xm(h), &d.uuid, &name);
                if (r < 0 && r != -ENOENT)
                        return r;
                *ret = r >= 0;
        }
        return 0;
}

/* ---- list all ------------------------------------------------------------------------------- */

#define LIST_ACTIVE             XVP_CONNECT_LIST_DOMAINS_ACTIVE
#define LIST_INACTIVE           XVP_CONNECT_LIST_DOMAINS_INACTIVE
#define LIST_PERSISTENT         XVP_CONNECT_LIST_DOMAINS_PERSISTENT
#define LIST_TRANSIENT          XVP_CONNECT_LIST_DOMAINS_TRANSIENT
#define LIST_RUNNING            XVP_CONNECT_LIST_DOMAINS_RUNNING
#define LIST_PAUSED             XVP_CONNECT_LIST_DOMAINS_PAUSED
#define LIST_SHUTOFF            XVP_CONNECT_LIST_DOMAINS_SHUTOFF
#define LIST_OTHER              XVP_CONNECT_LIST_DOMAINS_OTHER
#define LIST_MANAGEDSAVE        XVP_CONNECT_LIST_DOMAINS_MANAGEDSAVE
#define LIST_NO_MANAGEDSAVE     XVP_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE
#define LIST_AUTOSTART          XVP_CONNECT_LIST_DOMAINS_AUTOSTART
#define LIST_NO_AUTOSTART       XVP_CONNECT_LIST_DOMAINS_NO_AUTOSTART
#define LIST_ALL_FLAGS          0x3fffu

static bool summary_matches(const HvDomainSummary *s, unsigned flags) {
        bool active = s->ref.id >= 0;
        int st = s->info.state;

        if ((flags & (LIST_ACTIVE | LIST_INACTIVE)) && !((flags & LIST_ACTIVE && active) ||
                                                        (flags & LIST_INACTIVE && !active)))
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
            !((flags & LIST_MANAGEDSAVE && s->has_managed_save) || (flags & LIST_NO_MANAGEDSAVE && !s->has_managed_save)))
                return false;
        if ((flags & (LIST_AUTOSTART | LIST_NO_AUTOSTART)) &&
            !((flags & LIST_AUTOSTART && s->autostart) || (flags & LIST_NO_AUTOSTART && !s->autostart)))
                return false;
        return true;
}

typedef struct ListCtx {
        HvDomainSummary *l;
        size_t n, allocated;
        unsigned flags;
} ListCtx;

static void list_ctx_done(ListCtx *c) {
        hv_domain_summaries_free(c->l, c->n);
        *c = (ListCtx) {};
}

typedef struct XmList {
        XmDirDomain *l;
        size_t n;
} XmList;

static void xm_list_done(XmList *x) {
        xm_dir_domains_free(x->l, x->n);
        *x = (XmList) {};
}

static int list_add(ListCtx *c, HvDomainSummary *s) {
        if (!summary_matches(s, c->flags)) {
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

int xendbe_list_all_domains(XvHypervisor *hv, unsigned flags, HvDomainSummary **ret, size_t *ret_n,
                            XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_free_ HcallDomainInfo *info = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_(sexpr_freep) Sexpr *all = NULL;
        _cleanup_(xm_list_done) XmList xm = {};
        _cleanup_(list_ctx_done) ListCtx c = { .flags = flags };
        size_t n_running = 0;
        uint64_t gen = 0;
        bool need_defs;
        int cfg = 0, r;

        if (flags & ~LIST_ALL_FLAGS)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported list flags 0x%x", flags & ~LIST_ALL_FLAGS);

        r = running_names(h, &info, &names, &n_running, error);
        if (r < 0)
                return r;

        /* Definitions are needed for inactive domains, persistence and autostart; a listing of
         * active domains by state alone costs no XenD request. */
        need_defs = !(flags & LIST_ACTIVE) || (flags & LIST_INACTIVE) ||
                (flags & (LIST_PERSISTENT | LIST_TRANSIENT | LIST_AUTOSTART | LIST_NO_AUTOSTART | LIST_SHUTOFF));
        if (need_defs) {
                r = backend_xend(h, &cfg, error);
                if (r < 0)
                        return r;
                if (cfg >= XEND_CONFIG_VERSION_3_0_4) {
                        gen = backend_inactive_gen(h);
                        r = xend_list_domains_detail(h->xend, /* include_halted= */ true, &all, error);
                } else
                        r = xm_dir_list(backend_xm(h), &xm.l, &xm.n, error);
                if (r < 0)
                        return r;
        } else {
                /* No request: persistence from what is already known (the XM directory is local). */
                cfg = xend_get_config_version(h->xend);
                if (cfg > 0 && cfg <= XEND_CONFIG_VERSION_3_0_3 && backend_xm(h)) {
                        r = xm_dir_list(backend_xm(h), &xm.l, &xm.n, error);
                        if (r < 0)
                                return r;
                }
        }

        for (size_t i = 0; i < n_running; i++) {
                HvDomainSummary s = {
                        .ref = { .name = TAKE_PTR(names[i]), .uuid = info[i].uuid, .id = info[i].domid },
                };

                info_from_hcall(h, &info[i], &s.info);
                s.has_managed_save = backend_has_managed_save(h, s.ref.name);
                if (info[i].domid == 0)
                        s.persistent = true;
                else if (all) {
                        SEXPR_FOREACH_CHILD(x, all) {
                                const char *u = sexpr_node(x, "domain/uuid");
                                XvUuid uu;
                                bool a = false;

                                if (!u || uuid_parse(u, &uu) < 0 || !uuid_equal(&uu, &s.ref.uuid))
                                        continue;
                                if (sexpr_domain_autostart(x, &a) >= 0 && a) {
                                        /* Only managed domains can be started by XenD. */
                                        s.autostart = true;
                                        backend_track_managed(h, &uu, true);
                                }
                                break;
                        }
                        s.persistent = backend_is_managed(h, &s.ref.uuid);
                } else if (cfg >= XEND_CONFIG_VERSION_3_0_4)
                        s.persistent = backend_is_managed(h, &s.ref.uuid);
                else
                        for (size_t j = 0; j < xm.n; j++)
                                if (uuid_equal(&xm.l[j].uuid, &s.ref.uuid) || streq(xm.l[j].name, s.ref.name)) {
                                        s.persistent = true;
                                        s.autostart = xm.l[j].autostart;
                                        break;
                                }
                r = list_add(&c, &s);
                if (r < 0)
                        return r;
        }

        if (all) {
                SEXPR_FOREACH_CHILD(x, all) {
                        const char *name = sexpr_node(x, "domain/name"), *u = sexpr_node(x, "domain/uuid");
                        HvDomainSummary s = { .ref.id = -1, .persistent = true };
                        Dom d = {};
                        int id;

                        if (!name || !u || uuid_parse(u, &s.ref.uuid) < 0)
                                continue;
                        if (sexpr_domain_id(x, &id) >= 0 && id >= 0)
                                continue;
                        backend_track_managed(h, &s.ref.uuid, true);
                        /* The listing has just paid for the details: lookups reuse them. */
                        if (!inactive_fresh(h, &s.ref.uuid))
                                backend_inactive_put(h, gen, x);
                        s.ref.name = strdup(name);
                        if (!s.ref.name) {
                                r = -ENOMEM;
                                return r;
                        }
                        d = (Dom) { .name = s.ref.name, .uuid = s.ref.uuid, .id = -1, .sxp = (Sexpr *) x };
                        info_from_sxp(h, &d, &s.info);
                        (void) sexpr_domain_autostart(x, &s.autostart);
                        s.has_managed_save = backend_has_managed_save(h, name);
                        r = list_add(&c, &s);
                        if (r < 0)
                                return r;
                }
        }
        for (size_t j = 0; need_defs && j < xm.n; j++) {
                HvDomainSummary s = { .ref.id = -1, .persistent = true };
                bool active = false;

                for (size_t i = 0; i < n_running && !active; i++)
                        active = uuid_equal(&info[i].uuid, &xm.l[j].uuid);
                for (size_t i = 0; i < c.n && !active; i++)
                        active = c.l[i].ref.id >= 0 && streq(c.l[i].ref.name, xm.l[j].name);
                if (active)
                        continue;
                s.ref.name = strdup(xm.l[j].name);
                if (!s.ref.name) {
                                return -ENOMEM;
                }
                s.ref.uuid = xm.l[j].uuid;
                s.autostart = xm.l[j].autostart;
                s.has_managed_save = backend_has_managed_save(h, xm.l[j].name);
                s.info = (HvDomainInfo) {
                        .state = XVP_DOMAIN_SHUTOFF,
                        .reason = backend_inactive_reason(h, &xm.l[j].uuid, xm.l[j].name),
                };
                {
                        /* Memory and vcpus of an XM domain come from its cached definition. */
                        _cleanup_(domain_def_freep) DomainDef *def = NULL;

                        if (xm_dir_get(backend_xm(h), xm.l[j].name, &def, NULL) >= 0)
                                info_from_def(h, def, &s.info);
                }
                r = list_add(&c, &s);
                if (r < 0)
                        return r;
        }

        *ret_n = c.n;
        *ret = TAKE_PTR(c.l);
        c.n = 0;
        return 0;
}

const HvBackendOps hv_backend_xend = {
        .name = "xend",
        .open = xendbe_open,
        .close = xendbe_close,
        .get_status = xendbe_get_status,
        .probe_status = xendbe_probe_status,
        .set_event_callback = xendbe_set_event_callback,
        .event_fd = xendbe_event_fd,
        .process_events = xendbe_process_events,
        .get_type = xendbe_get_type,
        .get_version = xendbe_get_version,
        .get_hostname = xendbe_get_hostname,
        .get_capabilities = xendbe_get_capabilities,
        .get_max_vcpus = xendbe_get_max_vcpus,
        .node_get_info = xendbe_node_get_info,
        .node_get_free_memory = xendbe_node_get_free_memory,
        .node_get_cells_free_memory = xendbe_node_get_cells_free_memory,
        .node_get_cpu_map = xendbe_node_get_cpu_map,
        .get_xend_config_version = xendbe_get_xend_config_version,
        .list_all_domains = xendbe_list_all_domains,
        .list_domain_ids = xendbe_list_domain_ids,
        .list_defined_names = xendbe_list_defined_names,
        .lookup_by_id = xendbe_lookup_by_id,
        .lookup_by_name = xendbe_lookup_by_name,
        .lookup_by_uuid = xendbe_lookup_by_uuid,
        .domain_get_info = xendbe_domain_get_info,
        .domain_get_state = xendbe_domain_get_state,
        .domain_get_def = xendbe_domain_get_def,
        .domain_get_os_type = xendbe_domain_get_os_type,
        .domain_is_active = xendbe_domain_is_active,
        .domain_is_persistent = xendbe_domain_is_persistent,
        .domain_define = xendbe_domain_define,
        .domain_undefine = xendbe_domain_undefine,
        .domain_create_xml = xendbe_domain_create_xml,
        .domain_create = xendbe_domain_create,
        .domain_suspend = xendbe_domain_suspend,
        .domain_resume = xendbe_domain_resume,
        .domain_shutdown = xendbe_domain_shutdown,
        .domain_reboot = xendbe_domain_reboot,
        .domain_destroy = xendbe_domain_destroy,
        .domain_save = xendbe_domain_save,
        .domain_restore = xendbe_domain_restore,
        .domain_managed_save = xendbe_domain_managed_save,
        .domain_has_managed_save = xendbe_domain_has_managed_save,
        .domain_managed_save_remove = xendbe_domain_managed_save_remove,
        .domain_core_dump = xendbe_domain_core_dump,
        .domain_set_memory = xendbe_domain_set_memory,
        .domain_set_vcpus = xendbe_domain_set_vcpus,
        .domain_get_vcpus_flags = xendbe_domain_get_vcpus_flags,
        .domain_get_vcpus = xendbe_domain_get_vcpus,
        .domain_pin_vcpu = xendbe_domain_pin_vcpu,
        .domain_get_vcpu_pin_info = xendbe_domain_get_vcpu_pin_info,
        .domain_get_autostart = xendbe_domain_get_autostart,
        .domain_set_autostart = xendbe_domain_set_autostart,
        .domain_attach_device = xendbe_domain_attach_device,
        .domain_detach_device = xendbe_domain_detach_device,
        .domain_update_device = xendbe_domain_update_device,
        .domain_block_stats = xendbe_domain_block_stats,
        .domain_interface_stats = xendbe_domain_interface_stats,
        .domain_get_scheduler_type = xendbe_domain_get_scheduler_type,
        .domain_get_sched_params = xendbe_domain_get_sched_params,
        .domain_set_sched_params = xendbe_domain_set_sched_params,
        .domain_migrate_perform = xendbe_domain_migrate_perform,
};
