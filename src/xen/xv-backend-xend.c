/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * XendBackend over XenD + xenstore + hypercalls + the XM directory: opening, host facts,
 * lookups, listing and state. Domain operations live in xv-backend-xend-domain.c, events in
 * xv-backend-xend-events.c.
 *
 * One designated channel per operation and domain state:
 *   running domains: identity, info, state, vcpus, affinity, scheduler from hypercalls, names
 *                    from xenstore through the running-domain cache (a DomainTable hashed by id,
 *                    name and uuid, brought up to date incrementally after each watch event);
 *                    never XenD;
 *   inactive domains: XenD (config version >= 3, one ?detail=1 request, kept in the
 *                    inactive-domain cache (hashed by name and uuid) for the effective TTL:
 *                    max(BACKEND_INACTIVE_TTL_USEC, BACKEND_INACTIVE_TTL_FACTOR x the last
 *                    detailed listing's wall time), at most BACKEND_INACTIVE_TTL_MAX_USEC; a
 *                    change through xenvirt drops the entries of the domain it changed and every
 *                    xenstore watch event drops all; once expired, ONE detailed listing refreshes
 *                    every entry on the backend's refresh thread while every call is served the
 *                    expired ones (up to BACKEND_INACTIVE_STALE_TTLS effective TTLs old), so
 *                    listings take at most ~1/BACKEND_INACTIVE_TTL_FACTOR of the time and a
 *                    change behind xenvirt's back shows within BACKEND_INACTIVE_STALE_TTLS
 *                    effective TTLs plus one listing; a listing fills it too) or the XM
 *                    directory (<= 2);
 *   list-all: one hypercall list + the running-domain cache + ONE XenD request (the names of
 *             the inactive domains checked against the digest of the last detailed listing,
 *             used expired too while the refresh thread renews it, or a detailed listing when
 *             the names differ or no digest is kept) or the XM directory, for the inactive and
 *             persistence/autostart part.
 * Every XenD request may wait: none is made where xv_call_may_block() says no (the daemon's
 * loop thread), and no lock is held across one.
 */

#include <assert.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-backend-xend-internal.h"
#include "xv-call-context.h"
#include "xv-fileio.h"
#include "xv-lock.h"
#include "xv-log.h"
#include "xv-parse-util.h"
#include "xv-sexpr-domain.h"
#include "xv-time.h"

#define HV_XEND_DOMAINS_DIR "/var/lib/xend/domains"

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
                        if (r == -ENOMEM || r == -EWOULDBLOCK) {
                                xv_error_done(&e);
                                return r;
                        }
                        r = xv_error_setf(error, XVP_ERR_OPERATION_FAILED, "XenD is not available: %s",
                                          strempty(e.message));
                        xv_error_done(&e);
                        return xv_error_domain(error, XVP_FROM_XEND, r);
                }
        }
        /* The XM directory (config version <= 2) is a directory scan: never on the loop thread. */
        if (v <= XEND_CONFIG_VERSION_3_0_3 && !xv_call_may_block())
                return xv_call_would_block(error);
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

/*
 * h->running: the domains xenstore lists under /local/domain (id → name, uuid), hashed by id,
 * name and uuid. Invalidated by every xenstore watch event (@introduceDomain/@releaseDomain, also
 * while not yet drained: see xenstore_events_pending()) and by every operation that starts or
 * stops a domain; the next use brings it up to date incrementally: one directory read, then the
 * name and vm nodes of the ids it did not know (or knew incompletely) only. A full reread happens
 * when an entry contradicts the hypervisor (an id reused under another uuid). A running domain
 * renamed by another tool (no watch fires) is still found by its new name: a name the cache does
 * not know goes to XenD, which answers for it as running.
 */

void backend_cache_invalidate(XendBackend *h) {
        {
                LOCKED(&h->cache_lock);

                h->cache_valid = false;
        }
        /* A domain started or stopped (or introduced, released): its numbers changed too. */
        backend_info_invalidate(h);
}

void backend_info_invalidate(XendBackend *h) {
        xvb_info_cache_invalidate(&h->info);
}

/* An entry contradicted the hypervisor: the next use rereads everything. */
static void cache_invalidate_full(XendBackend *h) {
        LOCKED(&h->cache_lock);

        h->cache_valid = false;
        h->cache_need_full = true;
}

static int cache_put_locked(XendBackend *h, const XsDomain *d) {
        return domain_table_put(h->running, d->id, d->name, d->has_uuid ? &d->uuid : NULL);
}

static void cache_count_incomplete_locked(XendBackend *h) {
        size_t n = 0;

        for (size_t i = 0; i < domain_table_size(h->running); i++) {
                const DomainTableEntry *e = domain_table_at(h->running, i);

                if (!e->name || !e->has_uuid)
                        n++;
        }
        h->n_cache_incomplete = n;
}

/* Drops the entries the hypervisor does not run (a tree xenstored left behind, an id reused
 * under another uuid): then a current cache is a true answer without a hypercall per lookup.
 * One hypercall list per refresh; nothing is dropped when hypercalls fail. */
static int cache_drop_dead_locked(XendBackend *h) {
        _cleanup_free_ HcallDomainInfo *l = NULL;
        _cleanup_free_ int *dead = NULL;
        size_t n = 0, m = domain_table_size(h->running), n_dead = 0;

        if (!h->hc || hcall_list_domains(h->hc, &l, &n, NULL) < 0)
                return 0;
        dead = new0(int, m);
        if (!dead)
                return -ENOMEM;
        for (size_t i = 0; i < m; i++) {
                const DomainTableEntry *e = domain_table_at(h->running, i);
                const HcallDomainInfo *x = hcall_list_find(l, n, e->id);

                if (!x || (e->has_uuid && !uuid_equal(&x->uuid, &e->uuid)))
                        dead[n_dead++] = e->id;
        }
        for (size_t i = 0; i < n_dead; i++)
                (void) domain_table_remove(h->running, dead[i]);
        return 0;
}

static int cache_refresh_full_locked(XendBackend *h, XvError *error) {
        XsDomain *l = NULL;
        size_t n = 0;
        int r;

        if (!h->xs)
                return xv_error_setf(error, XVP_ERR_NO_XENSTORE, "xenstore is not available");
        h->cache_valid = false;         /* until the reread succeeds; the old entries stay */
        r = xenstore_list_domains(h->xs, &l, &n, error);
        if (r < 0)
                return r;
        domain_table_clear(h->running);
        for (size_t i = 0; i < n; i++) {
                r = cache_put_locked(h, &l[i]);
                if (r < 0) {
                        xs_domains_free(l, n);
                        domain_table_clear(h->running);
                        h->cache_valid = false;
                        return r;
                }
        }
        xs_domains_free(l, n);
        r = cache_drop_dead_locked(h);
        if (r < 0)
                return r;
        cache_count_incomplete_locked(h);
        h->cache_valid = true;
        h->cache_need_full = false;
        return 0;
}

/* Brings the cache up to date with the ids xenstore lists: drops the ids gone, reads the new
 * ones and those known incompletely (name or vm missing when last read). */
static int cache_refresh_locked(XendBackend *h, XvError *error) {
        _cleanup_free_ int *ids = NULL;
        _cleanup_free_ bool *keep = NULL;
        size_t n_ids = 0, n;
        int r;

        if (!h->xs)
                return xv_error_setf(error, XVP_ERR_NO_XENSTORE, "xenstore is not available");
        if (h->cache_need_full || domain_table_size(h->running) == 0)
                return cache_refresh_full_locked(h, error);
        /* Until it succeeds: a failure half way leaves entries xenstore did report, to be trusted
         * only with a uuid the hypervisor confirms (as after a failed full reread). */
        h->cache_valid = false;
        r = xenstore_list_domain_ids(h->xs, &ids, &n_ids, error);
        if (r < 0)
                return r;
        /* Drop the ids no longer listed (ids are sorted: a binary search each). */
        n = domain_table_size(h->running);
        keep = new0(bool, n);
        if (!keep)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int id = domain_table_at(h->running, i)->id;
                size_t lo = 0, hi = n_ids;

                while (lo < hi) {
                        size_t mid = lo + (hi - lo) / 2;

                        if (ids[mid] < id)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                keep[i] = lo < n_ids && ids[lo] == id;
        }
        {
                _cleanup_free_ int *gone = new0(int, n);
                size_t n_gone = 0;

                if (!gone)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++)
                        if (!keep[i])
                                gone[n_gone++] = domain_table_at(h->running, i)->id;
                for (size_t i = 0; i < n_gone; i++)
                        (void) domain_table_remove(h->running, gone[i]);
        }
        for (size_t i = 0; i < n_ids; i++) {
                const DomainTableEntry *e = domain_table_find_id(h->running, ids[i]);
                XsDomain d = {};

                if (e && e->name && e->has_uuid)
                        continue;
                r = xenstore_read_domain(h->xs, ids[i], &d, error);
                if (r < 0)
                        return r;
                r = cache_put_locked(h, &d);
                free(d.name);
                if (r < 0) {
                        domain_table_clear(h->running);
                        h->cache_valid = false;
                        return r;
                }
        }
        r = cache_drop_dead_locked(h);
        if (r < 0)
                return r;
        cache_count_incomplete_locked(h);
        h->cache_valid = true;
        return 0;
}

/* Makes the cache usable: refreshed when invalid or when watch events wait (@events_pending: what
 * xenstore_events_pending() said just before cache_lock was taken; the caller polls outside the
 * lock, so that the lock is held for a table lookup and not across a system call). Returns 0, or
 * < 0 when xenstore could not be read (the entries of the last successful read are still there,
 * to be trusted only with a uuid the hypervisor confirms). */
static int cache_ensure_locked(XendBackend *h, bool events_pending, XvError *error) {
        if (events_pending)
                h->cache_valid = false;
        if (h->cache_valid)
                return 0;
        return cache_refresh_locked(h, error);
}

static bool cache_entry_matches(const DomainTableEntry *e, const XvUuid *uuid, bool stale) {
        if (!e || !e->name)
                return false;
        if (uuid && e->has_uuid && !uuid_equal(&e->uuid, uuid))
                return false;
        if (stale && !e->has_uuid)
                return false;
        return true;
}

/* The names of running domains @l[0..n) (hypervisor ids and uuids) into @names (NULL where
 * xenstore names none yet). One pass over the cache; one refresh when an entry is missing or
 * contradicts the hypervisor. Fails with -ENOMEM, or with xenstore's error when it cannot be read
 * and a name is missing (the names found are filled in anyway). */
static int cache_names_of(XendBackend *h, const HcallDomainInfo *l, size_t n, char **names, XvError *error) {
        bool pending = xenstore_events_pending(h->xs);
        LOCKED(&h->cache_lock);
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        bool stale = false, missing = false;
        int r, stale_r;

        r = cache_ensure_locked(h, pending, &e);
        if (r == -ENOMEM)
                return r;
        stale = r < 0;
        stale_r = r;
        for (int attempt = 0; attempt < 2; attempt++) {
                for (size_t i = 0; i < n; i++) {
                        const DomainTableEntry *c;

                        if (names[i])
                                continue;
                        c = domain_table_find_id(h->running, l[i].domid);
                        if (!cache_entry_matches(c, &l[i].uuid, stale)) {
                                missing = true;
                                continue;
                        }
                        names[i] = strdup(c->name);
                        if (!names[i])
                                return -ENOMEM;
                }
                if (!missing || stale || attempt > 0)
                        break;
                /* An id the cache does not know or knows under another uuid: reread all once. */
                missing = false;
                xv_error_done(&e);
                r = cache_refresh_full_locked(h, &e);
                if (r == -ENOMEM)
                        return r;
                stale = r < 0;
                stale_r = r;
        }
        if (stale) {
                bool any = false;

                for (size_t i = 0; i < n && !any; i++)
                        any = !names[i];
                if (any) {
                        xv_error_move(error, &e);
                        return stale_r;
                }
        }
        return 0;
}

/* The name of running domain @domid whose hypervisor handle is @uuid, from the cache (refreshed
 * once when it does not know the domain or knows it under another uuid). */
int backend_name_of(XendBackend *h, int domid, const XvUuid *uuid, char **ret, XvError *error) {
        HcallDomainInfo info = { .domid = domid };
        char *name = NULL;
        int r;

        if (uuid)
                info.uuid = *uuid;
        if (!uuid) {
                /* No uuid to confirm with: a name read now. */
                bool pending = xenstore_events_pending(h->xs);
                LOCKED(&h->cache_lock);
                const DomainTableEntry *c;

                r = cache_ensure_locked(h, pending, error);
                if (r < 0)
                        return r;
                c = domain_table_find_id(h->running, domid);
                if (!c || !c->name) {
                        r = cache_refresh_full_locked(h, error);
                        if (r < 0)
                                return r;
                        c = domain_table_find_id(h->running, domid);
                }
                if (c && c->name)
                        return dup_or_null(c->name, ret);
                return xv_error_setf(error, XVP_ERR_NO_DOMAIN, "Domain %d has no name in xenstore", domid);
        }
        r = cache_names_of(h, &info, 1, &name, error);
        if (r < 0)
                return r;
        if (!name)
                return xv_error_setf(error, XVP_ERR_NO_DOMAIN, "Domain %d has no name in xenstore", domid);
        *ret = name;
        return 0;
}

int backend_names_of(XendBackend *h, const HcallDomainInfo *l, size_t n, char **names) {
        int r = cache_names_of(h, l, n, names, NULL);

        /* xenstore unreadable: the names it gave last, where the hypervisor confirms them. */
        return r == -ENOMEM ? r : 0;
}

/* Running domain @id (@uuid: NULL, any) from the shared snapshot when @shared and no watch event
 * waits (one may postdate the snapshot), else from the hypervisor (xvb_running_info()). */
static int running_info(XendBackend *h, int id, const XvUuid *uuid, bool shared, HcallDomainInfo *ret,
                        XvError *error) {
        return xvb_running_info(&h->info, h->hc, shared && !xenstore_events_pending(h->xs), id, uuid, ret, error);
}

typedef enum ResolveMode {
        RESOLVE_FULL,           /* with XenD's expression of an inactive domain */
        RESOLVE_LIGHT,          /* identity and numbers (HvDomainInfo; running: the shared snapshot) */
        RESOLVE_IDENTITY,       /* name, uuid and id only (lookups): Dom.info holds domid and uuid only */
} ResolveMode;

/* Running domain by name: (id, uuid) from the cache, confirmed by the hypervisor. The cache is
 * current while it is valid and no watch event waits (every domain introduced or released fires
 * one): then a name it does not know is not running, and costs nothing more. With
 * @refresh_on_miss, a cache that could not be brought up to date is reread once more. With
 * RESOLVE_IDENTITY, only ret->domid and ret->uuid are wanted: a current entry with its uuid answers
 * without a hypercall (a domain that died a moment ago may still be returned; the next call on
 * it reports XVP_ERR_NO_DOMAIN, as for any handle of a dead domain). */
static int running_by_name(XendBackend *h, const char *name, bool refresh_on_miss, ResolveMode mode,
                           HcallDomainInfo *ret, XvError *error) {
        for (int attempt = 0; attempt < (refresh_on_miss ? 2 : 1); attempt++) {
                bool stale = false, has_uuid = false;
                XvUuid uuid = {};
                int id = -1, r;

                {
                        bool pending = attempt == 0 && xenstore_events_pending(h->xs);
                        LOCKED(&h->cache_lock);
                        const DomainTableEntry *c;

                        r = attempt == 0 ? cache_ensure_locked(h, pending, NULL) : cache_refresh_locked(h, NULL);
                        if (r == -ENOMEM)
                                return r;
                        /* xenstored away: its last names, each confirmed by its uuid below
                         * (a name it does not know resolves through XenD instead). */
                        stale = r < 0;
                        c = domain_table_find_name(h->running, name);
                        if (c) {
                                id = c->id;
                                uuid = c->uuid;
                                has_uuid = c->has_uuid;
                        }
                }
                if (id < 0 || (stale && !has_uuid))
                        return -ENOENT;
                if (mode == RESOLVE_IDENTITY && !stale && has_uuid) {
                        *ret = (HcallDomainInfo) { .domid = id, .uuid = uuid };
                        return 0;
                }
                r = running_info(h, id, NULL, mode != RESOLVE_FULL, ret, NULL);
                if (r >= 0 && has_uuid && !uuid_equal(&ret->uuid, &uuid)) {
                        /* The id was reused: the entry is stale. */
                        if (stale)
                                return -ENOENT;
                        cache_invalidate_full(h);
                        continue;
                }
                if (r >= 0)
                        return 0;
                if (r != -ESRCH)
                        return hcall_domain_info(h->hc, id, ret, error);
                /* A stale xenstore entry (the release not seen yet): refresh once. */
                backend_cache_invalidate(h);
        }
        return -ENOENT;
}

/* Running domain by uuid; with @identity, only ret->domid and ret->uuid are wanted (see
 * running_by_name()). */
static int running_by_uuid(XendBackend *h, const XvUuid *uuid, bool identity, HcallDomainInfo *ret,
                           XvError *error) {
        _cleanup_free_ HcallDomainInfo *l = NULL;
        size_t n = 0;
        int r;

        if (!h->hc)
                return xv_error_setf(error, XVP_ERR_NO_XEN, "Hypercalls are not available");
        {
                bool trusted = false;
                int id = -1;

                {
                        bool pending = xenstore_events_pending(h->xs);
                        LOCKED(&h->cache_lock);
                        const DomainTableEntry *c;

                        /* The cache answers when it is current and every entry has its uuid;
                         * otherwise the hypervisor's list does. */
                        r = cache_ensure_locked(h, pending, NULL);
                        if (r == -ENOMEM)
                                return r;
                        trusted = r >= 0 && h->n_cache_incomplete == 0;
                        c = domain_table_find_uuid(h->running, uuid);
                        if (c)
                                id = c->id;
                }
                if (id >= 0 && identity && r >= 0) {
                        *ret = (HcallDomainInfo) { .domid = id, .uuid = *uuid };
                        return 0;
                }
                if (id >= 0) {
                        r = hcall_domain_info(h->hc, id, ret, NULL);
                        if (r >= 0 && uuid_equal(&ret->uuid, uuid))
                                return 0;
                } else if (trusted)
                        return -ENOENT;
        }
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

int backend_running_by_uuid(XendBackend *h, const XvUuid *uuid, HcallDomainInfo *ret, XvError *error) {
        return running_by_uuid(h, uuid, /* identity= */ false, ret, error);
}

/* Running domain @id by the xenstore cache alone, when it is current and knows the domain's name
 * and uuid: -ENOENT when it cannot say (the caller asks the hypervisor). */
static int running_by_id_cached(XendBackend *h, int id, HvDomainRef *ret) {
        _cleanup_free_ char *name = NULL;
        XvUuid uuid;

        {
                bool pending = xenstore_events_pending(h->xs);
                LOCKED(&h->cache_lock);
                const DomainTableEntry *c;
                int r;

                r = cache_ensure_locked(h, pending, NULL);
                if (r == -ENOMEM)
                        return r;
                c = r >= 0 ? domain_table_find_id(h->running, id) : NULL;
                if (!c || !c->name || !c->has_uuid)
                        return -ENOENT;
                name = strdup(c->name);
                if (!name)
                        return -ENOMEM;
                uuid = c->uuid;
        }
        *ret = (HvDomainRef) { .name = TAKE_PTR(name), .uuid = uuid, .id = id };
        return 0;
}

/* ---- what xenvirt did last ------------------------------------------------------------------ */

/* h->tracks is indexed by h->track_index (entry id = slot, keyed by uuid). */
static Track *track_find_locked(XendBackend *h, const XvUuid *uuid, bool create) {
        const DomainTableEntry *e = domain_table_find_uuid(h->track_index, uuid);
        Track *oldest = NULL;
        size_t slot;

        if (e)
                return &h->tracks[e->id];
        if (!create)
                return NULL;
        if (h->n_tracks >= BACKEND_TRACK_MAX) {
                /* Forget the least recently touched domain. */
                for (size_t i = 0; i < h->n_tracks; i++)
                        if (!oldest || h->tracks[i].stamp < oldest->stamp)
                                oldest = &h->tracks[i];
                slot = (size_t) (oldest - h->tracks);
        } else {
                if (!h->tracks) {
                        h->tracks = new0(Track, BACKEND_TRACK_MAX);
                        if (!h->tracks)
                                return NULL;
                }
                slot = h->n_tracks;
        }
        if (domain_table_put(h->track_index, (int) slot, NULL, uuid) < 0)
                return NULL;
        h->tracks[slot] = (Track) { .uuid = *uuid };
        if (slot == h->n_tracks)
                h->n_tracks++;
        return &h->tracks[slot];
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
        int r;

        {
                LOCKED(&h->track_lock);
                Track *t = track_find_locked(h, uuid, false);

                if (t && t->managed)
                        return true;
        }
        /* XenD keeps every managed domain in a directory named after its UUID; libvirt peeked at it
         * too ("no official way"). Watched (xv-xend-managed.h); looked at directly when it cannot be. */
        r = xend_managed_contains(h->managed, uuid);
        if (r >= 0)
                return r > 0;
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

static void inactive_clear_locked(XendBackend *h) {
        for (size_t i = 0; i < h->n_inactive; i++) {
                free(h->inactive[i].name);
                free(h->inactive[i].text);
        }
        h->inactive = mfree(h->inactive);
        h->n_inactive = h->n_inactive_allocated = 0;
        domain_table_clear(h->inactive_index);
}

/* h->inactive is indexed by h->inactive_index (entry id = slot, keyed by name and uuid). */
static Inactive *inactive_find_locked(XendBackend *h, const char *name, const XvUuid *uuid) {
        const DomainTableEntry *e = uuid ? domain_table_find_uuid(h->inactive_index, uuid) :
                domain_table_find_name(h->inactive_index, name);

        return e ? &h->inactive[e->id] : NULL;
}

uint64_t backend_inactive_gen(XendBackend *h) {
        LOCKED(&h->inactive_lock);

        return h->inactive_gen;
}

/* Removes the entry in @slot (the last one moves into it). */
static void inactive_remove_locked(XendBackend *h, size_t slot) {
        size_t last = h->n_inactive - 1;
        Inactive gone = h->inactive[slot];

        (void) domain_table_remove(h->inactive_index, (int) slot);
        if (slot != last) {
                (void) domain_table_remove(h->inactive_index, (int) last);
                h->inactive[slot] = h->inactive[last];
        }
        h->n_inactive--;
        free(gone.name);
        free(gone.text);
        /* On OOM, forget everything rather than keep an entry no lookup finds. */
        if (slot != last &&
            domain_table_put(h->inactive_index, (int) slot, h->inactive[slot].name, &h->inactive[slot].uuid) < 0)
                inactive_clear_locked(h);
}

/* Opens generation h->inactive_gen + 1 and remembers what it invalidated (@name / @uuid, taken;
 * both NULL: everything). */
static void inactive_bump_locked(XendBackend *h, char *name, const XvUuid *uuid) {
        InactiveDrop *x;

        h->inactive_gen++;
        x = &h->inactive_drops[h->inactive_gen % BACKEND_INACTIVE_DROPS_MAX];
        free(x->name);
        *x = (InactiveDrop) { .gen = h->inactive_gen, .name = name, .has_uuid = uuid != NULL };
        if (uuid)
                x->uuid = *uuid;
        else if (!name)
                h->inactive_gen_all = h->inactive_gen;
}

/* Whether XenD's answer about @name / @uuid, asked for at generation @gen, predates no
 * invalidation of that domain (nor a whole one). Conservative: false when the invalidations since
 * @gen are no longer all remembered. */
static bool inactive_gen_ok_locked(XendBackend *h, uint64_t gen, const char *name, const XvUuid *uuid) {
        if (gen == h->inactive_gen)
                return true;
        if (gen < h->inactive_gen_all || gen > h->inactive_gen ||
            h->inactive_gen - gen > BACKEND_INACTIVE_DROPS_MAX)
                return false;
        for (uint64_t g = gen + 1; g <= h->inactive_gen; g++) {
                const InactiveDrop *x = &h->inactive_drops[g % BACKEND_INACTIVE_DROPS_MAX];

                if (x->gen != g || (!x->name && !x->has_uuid))
                        return false;
                if ((x->has_uuid && uuid_equal(&x->uuid, uuid)) || (x->name && streq(x->name, name)))
                        return false;
        }
        return true;
}

void backend_inactive_invalidate(XendBackend *h) {
        xml_cache_drop_inactive(h->xml_cache);

        LOCKED(&h->inactive_lock);

        inactive_bump_locked(h, NULL, NULL);
        inactive_clear_locked(h);
        backend_digest_drop_locked(h);
}

void backend_inactive_invalidate_domain(XendBackend *h, const char *name, const XvUuid *uuid) {
        _cleanup_free_ char *copy = NULL;

        xml_cache_drop_domain(h->xml_cache, name, uuid);
        if (name) {
                copy = strdup(name);
                if (!copy)
                        name = NULL;    /* OOM: everything */
        }
        if (!name && !uuid) {
                backend_inactive_invalidate(h);
                return;
        }

        LOCKED(&h->inactive_lock);
        Inactive *e;

        inactive_bump_locked(h, TAKE_PTR(copy), uuid);
        while (uuid && (e = inactive_find_locked(h, NULL, uuid)))
                inactive_remove_locked(h, (size_t) (e - h->inactive));
        while (name && (e = inactive_find_locked(h, name, NULL)))
                inactive_remove_locked(h, (size_t) (e - h->inactive));
        /* The listing describes every domain: it goes as a whole. */
        backend_digest_drop_locked(h);
}

void backend_inactive_change_target(InactiveChange *c, const char *name, const XvUuid *uuid) {
        if (c->targeted || (!name && !uuid)) {
                c->all = true;          /* a second domain, or none known: everything */
                return;
        }
        c->targeted = true;
        if (name) {
                c->name = strdup(name);
                if (!c->name)
                        c->all = true;
        }
        if (uuid) {
                c->uuid = *uuid;
                c->has_uuid = true;
        }
}

void backend_inactive_change_done(InactiveChange *c) {
        if (c->h) {
                /* Every operation that may change a domain ends here: its client sees the change
                 * at once in the numbers of running domains too. */
                backend_info_invalidate(c->h);
                if (!c->targeted || c->all) {
                        backend_inactive_invalidate(c->h);
                        xml_cache_drop_all(c->h->xml_cache);
                } else
                        backend_inactive_invalidate_domain(c->h, c->name, c->has_uuid ? &c->uuid : NULL);
        }
        c->name = mfree(c->name);
}

/* The numbers of an inactive domain's XenD expression (state SHUTOFF; the reason is the caller's). */
static void sxp_numbers(const Sexpr *sxp, HvDomainInfo *ret) {
        uint64_t mem = 0, maxmem = 0, vcpus = 0;

        (void) sexpr_get_u64(sxp, "domain/memory", &mem);
        if (sexpr_get_u64(sxp, "domain/maxmem", &maxmem) < 0)
                maxmem = mem;
        (void) sexpr_get_u64(sxp, "domain/vcpus", &vcpus);
        *ret = (HvDomainInfo) {
                .state = XVP_DOMAIN_SHUTOFF,
                .max_memory_kib = maxmem * 1024,
                .memory_kib = mem * 1024,
                .nr_vcpus = (unsigned) vcpus,
        };
        (void) sexpr_domain_cpu_time(sxp, &ret->cpu_time_ns);
}

/* Remembers XenD's description @sxp of an inactive domain, fetched when the generation was @gen,
 * as text (Inactive.text). Running domains are not cached: the hypervisor answers for them. Best
 * effort: nothing is stored on OOM or when the cache is full. */
static void inactive_put(XendBackend *h, uint64_t gen, const Sexpr *sxp) {
        _cleanup_free_ char *name = NULL, *text = NULL;
        char *shrunk;
        const char *n = sexpr_node(sxp, "domain/name"), *u = sexpr_node(sxp, "domain/uuid");
        uint64_t stamp = monotonic_usec();
        HvDomainInfo info;
        XvUuid uuid;
        int id;

        if (!n || !u || uuid_from_string(u, &uuid) < 0)
                return;
        if (sexpr_domain_id(sxp, &id) >= 0 && id >= 0)
                return;
        sxp_numbers(sxp, &info);
        name = strdup(n);
        if (!name)
                return;
        /* Printed before taking the lock (the lock is only ever held for list bookkeeping), and
         * cut to its length: the printer's buffer grows by doubling. */
        if (sexpr_format(sxp, &text) < 0)
                return;
        shrunk = realloc(text, strlen(text) + 1);
        if (shrunk)
                text = shrunk;

        LOCKED(&h->inactive_lock);
        Inactive *e;
        size_t slot;

        if (!inactive_gen_ok_locked(h, gen, name, &uuid))
                return;
        /* The same domain (by uuid), or another one that held this name (renamed or redefined). */
        e = inactive_find_locked(h, NULL, &uuid) ?: inactive_find_locked(h, name, NULL);
        if (e) {
                slot = (size_t) (e - h->inactive);
                if (domain_table_put(h->inactive_index, (int) slot, name, &uuid) < 0)
                        return;
                /* dumpxml's definition was built from the expression replaced here: it goes
                 * unless the listing brought the very same one (then it stays as good). */
                if (!streq(e->name, name) || !uuid_equal(&e->uuid, &uuid) || !streq(e->text, text))
                        xml_cache_drop_domain(h->xml_cache, e->name, &e->uuid);
                free(e->name);
                e->name = TAKE_PTR(name);
                free(e->text);
                e->text = TAKE_PTR(text);
                e->uuid = uuid;
                e->stamp = stamp;
                e->info = info;
                return;
        }
        if (h->n_inactive >= BACKEND_INACTIVE_MAX)
                return;
        if (GREEDY_REALLOC(h->inactive, h->n_inactive_allocated, h->n_inactive + 1) < 0)
                return;
        slot = h->n_inactive;
        if (domain_table_put(h->inactive_index, (int) slot, name, &uuid) < 0)
                return;
        h->inactive[h->n_inactive++] = (Inactive) {
                .name = TAKE_PTR(name), .uuid = uuid, .text = TAKE_PTR(text), .stamp = stamp, .info = info,
        };
}

void backend_inactive_put(XendBackend *h, uint64_t gen, const Sexpr *sxp) {
        inactive_put(h, gen, sxp);
}

/* The effective TTL of the inactive-domain cache and the digest (BACKEND_INACTIVE_TTL_USEC). */
static uint64_t inactive_ttl_locked(XendBackend *h) {
        return h->inactive_ttl_usec ?: BACKEND_INACTIVE_TTL_USEC;
}

/* Whether the cache holds inactive domain @uuid and will for a while yet (half the TTL): then
 * refreshing it from a listing is not worth printing it again. */
static bool inactive_fresh(XendBackend *h, const XvUuid *uuid) {
        uint64_t now = monotonic_usec();

        LOCKED(&h->inactive_lock);
        Inactive *e = inactive_find_locked(h, NULL, uuid);

        return e && now - e->stamp < inactive_ttl_locked(h) / 2;
}

static void inactive_refresh_start(XendBackend *h);

/* Inactive domain @name or @uuid from the cache (@light: identity and numbers only, else with its
 * expression, parsed from the cached text into a tree of the caller's). -ENOENT when the cache
 * does not know it (also for a domain that does not exist: that is asked of XenD every time, so a
 * domain defined elsewhere is found at once). Once expired (older than the effective TTL), the
 * entry is still returned while the background refresh this starts runs (stale while
 * revalidating: nothing changed through xenvirt since it was read, or the invalidation would have
 * dropped it); -ESTALE when it is older than BACKEND_INACTIVE_STALE_TTLS effective TTLs (nobody
 * asked for a long time), or when the last detailed listing did not confirm it (it was not in
 * it: undefined or renamed behind xenvirt's back). */
static int inactive_get(XendBackend *h, const char *name, const XvUuid *uuid, bool light, Dom *ret) {
        _cleanup_free_ char *n = NULL, *text = NULL;
        _cleanup_(sexpr_freep) Sexpr *sxp = NULL;
        bool expired = false, stale = false;
        HvDomainInfo info = {};
        XvUuid u = {};
        int r;

        {
                uint64_t now = monotonic_usec(), ttl;
                LOCKED(&h->inactive_lock);
                const Inactive *e = inactive_find_locked(h, name, uuid);

                if (!e)
                        return -ENOENT;
                ttl = inactive_ttl_locked(h);
                if (now - e->stamp >= ttl) {
                        expired = true;
                        /* A listing skips printing the entries younger than half the TTL
                         * (inactive_fresh()): those count as confirmed by it. */
                        stale = now - e->stamp >= ttl * BACKEND_INACTIVE_STALE_TTLS ||
                                e->stamp + ttl / 2 < h->inactive_listed;
                }
                if (!stale) {
                        n = strdup(e->name);
                        /* A light resolution (identity and numbers only) needs no expression.
                         * The text is copied (one allocation) and parsed after the lock is
                         * released. */
                        if (!n || (!light && !(text = strdup(e->text))))
                                return -ENOMEM;
                        u = e->uuid;
                        info = e->info;
                }
        }
        /* Started after the lock is released (it takes it itself), never waited for. */
        if (expired)
                inactive_refresh_start(h);
        if (stale)
                return -ESTALE;
        if (text) {
                /* The cache holds only what sexpr_format() printed from a parsed tree; should
                 * it not parse back, XenD is asked (-ENOENT) as for a domain not cached. */
                r = sexpr_parse_string(text, &sxp, NULL);
                if (r < 0)
                        return r == -ENOMEM ? r : -ENOENT;
        }
        *ret = (Dom) { .name = TAKE_PTR(n), .uuid = u, .id = -1, .sxp = TAKE_PTR(sxp),
                       .has_sxp_info = true, .sxp_info = info };
        return 0;
}

/* ---- XenD's listing, digested --------------------------------------------------------------- */

/* Listings of at least this many domains are followed by malloc_trim() (digest_fetch_gen()). */
#define DIGEST_TRIM_MIN_DOMAINS 64

/*
 * What list-all needs from XenD's ?detail=1 listing (config version >= 3), digested once per
 * fetch: per domain its name, uuid, whether XenD runs it, autostart and the numbers of an
 * inactive domain, hashed by uuid. Shared (reference counted, immutable) between the listings
 * running at the same time and reused while younger than the effective TTL (see
 * BACKEND_INACTIVE_TTL_USEC), within the generation of the inactive-domain cache: every change
 * through xenvirt and every xenstore watch event drops it with that cache. Expired, it is still
 * used while the background refresh runs, up to BACKEND_INACTIVE_STALE_TTLS effective TTLs, as
 * long as XenD's names of inactive domains match it. So a listing costs ONE XenD request, and
 * never waits for a detailed listing unless its digest is gone or its names changed.
 */
typedef struct DigestEntry {
        char *name;
        XvUuid uuid;
        int id;                         /* >= 0: running according to XenD */
        bool autostart;
        uint64_t memory_kib, max_memory_kib, cpu_time_ns;
        unsigned vcpus;
} DigestEntry;

struct XendDigest {
        unsigned refs;
        uint64_t gen, stamp;
        DigestEntry *entries;
        size_t n;
        DomainTable *by_uuid;           /* entry id = index; the inactive ones by name too */
        size_t n_inactive;
};

static XendDigest *digest_unref(XendDigest *d) {
        if (!d || __atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) > 0)
                return NULL;
        for (size_t i = 0; i < d->n; i++)
                free(d->entries[i].name);
        free(d->entries);
        domain_table_free(d->by_uuid);
        return mfree(d);
}
DEFINE_CLEANUP_FUNC(XendDigest *, digest_unref);

void backend_digest_drop_locked(XendBackend *h) {
        h->digest = digest_unref(h->digest);
}

static const DigestEntry *digest_find(const XendDigest *d, const XvUuid *uuid) {
        const DomainTableEntry *e = d ? domain_table_find_uuid(d->by_uuid, uuid) : NULL;

        return e ? &d->entries[e->id] : NULL;
}

/* Builds the digest of @all; the inactive domains also go to the inactive-domain cache, so that
 * lookups reuse what the listing paid for. */
/* A digest being built, one domain at a time (digest_add()). */
typedef struct DigestBuild {
        XendBackend *h;
        XendDigest *d;
        size_t n_allocated;
} DigestBuild;

static int digest_new(uint64_t gen, XendDigest **ret) {
        _cleanup_(digest_unrefp) XendDigest *d = NULL;
        int r;

        d = new0(XendDigest, 1);
        if (!d)
                return -ENOMEM;
        d->refs = 1;
        d->gen = gen;
        d->stamp = monotonic_usec();
        r = domain_table_new(&d->by_uuid);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}

/* Adds XenD's description @x of one domain to the digest; an inactive domain also goes to the
 * inactive-domain cache, so that lookups reuse what the listing paid for. Nothing here needs
 * the rest of the listing, so it can be called on each domain as the listing is parsed. */
static int digest_add(DigestBuild *b, const Sexpr *x) {
        const char *name = sexpr_node(x, "domain/name"), *u = sexpr_node(x, "domain/uuid");
        XendDigest *d = b->d;
        DigestEntry *e;
        uint64_t mem = 0, maxmem = 0, vcpus = 0;
        int id, r;

        if (GREEDY_REALLOC(d->entries, b->n_allocated, d->n + 1) < 0)
                return -ENOMEM;
        e = &d->entries[d->n];
        *e = (DigestEntry) {};
        if (!name || !u || uuid_from_string(u, &e->uuid) < 0)
                return 0;
        e->id = sexpr_domain_id(x, &id) >= 0 && id >= 0 ? id : -1;
        (void) sexpr_domain_autostart(x, &e->autostart);
        (void) sexpr_get_u64(x, "domain/memory", &mem);
        if (sexpr_get_u64(x, "domain/maxmem", &maxmem) < 0)
                maxmem = mem;
        (void) sexpr_get_u64(x, "domain/vcpus", &vcpus);
        e->memory_kib = mem * 1024;
        e->max_memory_kib = maxmem * 1024;
        e->vcpus = (unsigned) vcpus;
        (void) sexpr_domain_cpu_time(x, &e->cpu_time_ns);
        e->name = strdup(name);
        if (!e->name)
                return -ENOMEM;
        r = domain_table_put(d->by_uuid, (int) d->n, e->id < 0 ? e->name : NULL, &e->uuid);
        if (r < 0) {
                e->name = mfree(e->name);
                return r;
        }
        d->n++;
        if (e->id >= 0) {
                /* Only managed domains can be started by XenD. */
                if (e->autostart)
                        backend_track_managed(b->h, &e->uuid, true);
                return 0;
        }
        d->n_inactive++;
        backend_track_managed(b->h, &e->uuid, true);
        if (!inactive_fresh(b->h, &e->uuid))
                inactive_put(b->h, d->gen, x);
        return 0;
}

static int digest_add_one(const Sexpr *domain, void *userdata) {
        return digest_add(userdata, domain);
}

/* Whether XenD's inactive domains are still those of @d: the same set of names. */
static bool digest_matches(const XendDigest *d, char **halted) {
        size_t n = 0;

        STRV_FOREACH(name, halted) {
                const DomainTableEntry *e = domain_table_find_name(d->by_uuid, *name);

                if (!e || d->entries[e->id].id >= 0)
                        return false;
                n++;
        }
        return n == d->n_inactive;
}

/* The current digest, for ONE XenD request: the shared one while it is fresh and XenD's names of
 * inactive domains (a short answer) still match it, else XenD's detailed listing. Asking XenD
 * every time keeps a listing as current as XenD (a domain defined or undefined by another tool
 * shows at once) and its failures visible; only the parse of every definition is saved. */
static int digest_fetch_gen(XendBackend *h, uint64_t gen, XendDigest **ret, XvError *error);

static int digest_fetch(XendBackend *h, XendDigest **ret, XvError *error) {
        return digest_fetch_gen(h, backend_inactive_gen(h), ret, error);
}

static int digest_get(XendBackend *h, XendDigest **ret, XvError *error) {
        _cleanup_(digest_unrefp) XendDigest *cached = NULL;
        bool expired = false;
        XendDigest *d;
        uint64_t gen;
        int r;

        {
                uint64_t now = monotonic_usec(), ttl;
                LOCKED(&h->inactive_lock);

                ttl = inactive_ttl_locked(h);
                d = h->digest;
                if (d && d->gen == h->inactive_gen && now - d->stamp < ttl * BACKEND_INACTIVE_STALE_TTLS) {
                        __atomic_add_fetch(&d->refs, 1, __ATOMIC_ACQ_REL);
                        cached = d;
                        expired = now - d->stamp >= ttl;
                }
                gen = h->inactive_gen;
        }
        if (cached) {
                _cleanup_strv_free_ char **halted = NULL;

                r = xend_list_domain_names(h->xend, /* halted= */ true, &halted, error);
                if (r < 0)
                        return r;
                if (digest_matches(cached, halted)) {
                        /* The same inactive domains: an expired digest serves while the
                         * background refresh runs (only their numbers may lag). */
                        if (expired)
                                inactive_refresh_start(h);
                        *ret = TAKE_PTR(cached);
                        return 0;
                }
        }
        return digest_fetch_gen(h, gen, ret, error);
}

/* XenD's detailed listing, digested and shared (and every inactive domain put in the cache). */
static int digest_fetch_gen(XendBackend *h, uint64_t gen, XendDigest **ret, XvError *error) {
        _cleanup_(digest_unrefp) XendDigest *built = NULL;
        DigestBuild b = { .h = h };
        XendDigest *d;
        int r;

        r = digest_new(gen, &built);
        if (r < 0)
                return r;
        b.d = built;
        /* Digested as XenD's listing is parsed, one domain at a time: the listing never exists
         * as one tree. */
        r = xend_foreach_domain_detail(h->xend, /* include_halted= */ true, digest_add_one, &b, error);
        if (built->n >= DIGEST_TRIM_MIN_DOMAINS)
                /* What this listing freed (its text, the tree of each domain, the inactive cache
                 * entries it replaced) goes back now: glibc trims only the top of a heap by
                 * itself, and a worker's arena would keep it resident. */
                (void) malloc_trim(0);
        if (r < 0)
                return r;
        d = TAKE_PTR(built);
        {
                /* The next listing comes at the earliest BACKEND_INACTIVE_TTL_FACTOR times as long
                 * as this one took, from its start (d->stamp): a bounded share of the time. */
                uint64_t ttl = (monotonic_usec() - d->stamp) * BACKEND_INACTIVE_TTL_FACTOR;
                LOCKED(&h->inactive_lock);

                h->inactive_ttl_usec = MIN(MAX(ttl, BACKEND_INACTIVE_TTL_USEC), BACKEND_INACTIVE_TTL_MAX_USEC);
                /* A running domain's definition lives as long, at least (see
                 * BACKEND_XML_RUNNING_MAX_AGE_USEC); the cache's lock is a leaf. */
                xml_cache_set_max_age(h->xml_cache, MAX(BACKEND_XML_RUNNING_MAX_AGE_USEC, h->inactive_ttl_usec),
                                      BACKEND_XML_INACTIVE_MAX_AGE_USEC);
                /* Every inactive domain XenD has was put in the cache (or dropped meanwhile). */
                h->inactive_listed = MAX(h->inactive_listed, d->stamp);
                if (h->inactive_gen == gen) {
                        digest_unref(h->digest);
                        __atomic_add_fetch(&d->refs, 1, __ATOMIC_ACQ_REL);
                        h->digest = d;
                }
        }
        *ret = d;
        return 0;
}

/* ---- refreshing in the background ------------------------------------------------------------ */

static void *inactive_refresh_thread(void *userdata) {
        XendBackend *h = userdata;
        _cleanup_(digest_unrefp) XendDigest *d = NULL;
        XvError e = XV_ERROR_NULL;
        int r;

        r = digest_fetch(h, &d, &e);
        if (r < 0)
                log_debug_errno(r, "Refreshing the inactive domains from XenD failed: %s", strempty(e.message));
        xv_error_done(&e);
        /* Released here, not after the last step: a joiner holds the lock. */
        d = digest_unref(d);

        LOCKED(&h->inactive_lock);

        /* The last step: inactive_refresh_start() joins this thread once it sees this. */
        h->inactive_refreshing = false;
        return NULL;
}

/* Starts the refresh of the inactive-domain cache and the digest (ONE detailed listing) on the
 * backend's refresh thread, unless it is at work, a listing started less than an effective TTL
 * ago (so that listings take a bounded share of the time, and a failing XenD is asked again only
 * that often), or the backend is closing. Never waits: the thread of the previous refresh has
 * finished (its last step is clearing inactive_refreshing) and is joined here. */
static void inactive_refresh_start(XendBackend *h) {
        uint64_t now = monotonic_usec();
        int r;

        LOCKED(&h->inactive_lock);

        if (h->inactive_refreshing || h->refresh_closed ||
            now - MAX(h->refresh_started, h->inactive_listed) < inactive_ttl_locked(h))
                return;
        if (h->refresh_joinable) {
                (void) pthread_join(h->refresh_thread, NULL);
                h->refresh_joinable = false;
        }
        r = pthread_create(&h->refresh_thread, NULL, inactive_refresh_thread, h);
        if (r != 0) {
                /* Expired entries are served until too old, then asked for one by one. */
                log_debug_errno(r, "Cannot start refreshing the inactive domains: %m");
                return;
        }
        h->refresh_joinable = true;
        h->inactive_refreshing = true;
        h->refresh_started = now;
}

/* At close: no refresh starts any more; one at work is waited for (at most one XenD request
 * timeout). */
static void inactive_refresh_stop(XendBackend *h) {
        pthread_t t;
        bool joinable;

        {
                LOCKED(&h->inactive_lock);

                h->refresh_closed = true;
                joinable = h->refresh_joinable;
                h->refresh_joinable = false;
                t = h->refresh_thread;
        }
        if (joinable)
                (void) pthread_join(t, NULL);
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

        if (!name || !uuid || uuid_from_string(uuid, &d->uuid) < 0)
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

static int resolve_running_as(const HcallDomainInfo *info, const char *name, Dom *ret) {
        char *n = strdup(name);

        if (!n)
                return -ENOMEM;
        *ret = (Dom) { .name = n, .uuid = info->uuid, .id = info->domid, .info = *info };
        return 0;
}

/* An inactive domain by name or UUID (the XenD request or the XM lookup). -ENOENT when unknown. */
static int resolve_inactive(XendBackend *h, const char *name, const XvUuid *uuid, bool light, Dom *ret,
                            XvError *error) {
        XvError e = XV_ERROR_NULL;
        int cfg = 0, r;

        r = backend_xend(h, &cfg, error);
        if (r < 0)
                return r;

        if (cfg >= XEND_CONFIG_VERSION_3_0_4) {
                _cleanup_(sexpr_freep) Sexpr *sxp = NULL;
                char u[UUID_STRING_BUF];
                Dom d = { .id = -1 };
                uint64_t gen;
                int id;

                /* Expired entries are served while ONE detailed listing refreshes every inactive
                 * domain in the background (inactive_get()): no call waits for it. */
                r = inactive_get(h, name, uuid, light, ret);
                if (r != -ENOENT && r != -ESTALE)
                        return r;

                /* Unknown, expired too long ago, or no longer in XenD's listing: XenD is asked
                 * for this one. */
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
static int resolve_inactive_cached(XendBackend *h, const char *name, bool light, Dom *ret, XvError *error) {
        HcallDomainInfo info;
        Dom d = { .id = -1 };
        int r;

        r = inactive_get(h, name, NULL, light, &d);
        if (r == -ESTALE)
                return -ENOENT;         /* resolve_inactive() refreshes it */
        if (r < 0)
                return r;
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

static int resolve(XendBackend *h, const HvDomainRef *ref, ResolveMode mode, Dom *ret, XvError *error) {
        bool light = mode != RESOLVE_FULL;
        HcallDomainInfo info;
        int r;

        assert(ref);
        if (!h->hc)
                return xv_error_setf(error, XVP_ERR_NO_XEN, "Hypercalls are not available");


        if (!uuid_is_zero(&ref->uuid)) {
                /* The id the client holds is only a hint: check it before scanning the list
                 * (a light resolution in the shared snapshot). */
                if (ref->id >= 0 && running_info(h, ref->id, &ref->uuid, light, &info, NULL) >= 0) {
                        /* A light resolution returns no name to anyone: the client's will do. */
                        if (light && ref->name)
                                return resolve_running_as(&info, ref->name, ret);
                        return resolve_running(h, &info, ref->name, ret, error);
                }
                r = running_by_uuid(h, &ref->uuid, mode == RESOLVE_IDENTITY, &info, error);
                if (r >= 0)
                        return resolve_running(h, &info, ref->name, ret, error);
                if (r != -ENOENT)
                        return r;
                r = resolve_inactive(h, ref->name, &ref->uuid, light, ret, error);
                if (r == -ENOENT)
                        return no_domain(ref, error);
                return r;
        }

        if (ref->name) {
                /* Inactive domains are the ones the running-name cache does not know: rather than
                 * rereading xenstore for each, ask the inactive-domain cache and have the
                 * hypervisor confirm by UUID that the domain is not running after all. */
                r = running_by_name(h, ref->name, /* refresh_on_miss= */ false, mode, &info, error);
                /* Found by that name in xenstore and confirmed by the hypervisor: the name holds. */
                if (r >= 0 && light)
                        return resolve_running_as(&info, ref->name, ret);
                if (r >= 0)
                        return resolve_running(h, &info, ref->name, ret, error);
                if (r != -ENOENT)
                        return r;
                r = resolve_inactive_cached(h, ref->name, light, ret, error);
                if (r != -ENOENT)
                        return r;

                r = running_by_name(h, ref->name, /* refresh_on_miss= */ true, mode, &info, error);
                if (r >= 0)
                        return resolve_running(h, &info, ref->name, ret, error);
                if (r != -ENOENT)
                        return r;
                r = resolve_inactive(h, ref->name, NULL, light, ret, error);
                if (r == -ENOENT)
                        return no_domain(ref, error);
                return r;
        }

        if (ref->id >= 0) {
                r = running_info(h, ref->id, NULL, light, &info, error);
                if (r < 0)
                        return r;
                return resolve_running(h, &info, NULL, ret, error);
        }
        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "A domain reference needs a UUID, a name or an id");
}

int backend_resolve(XendBackend *h, const HvDomainRef *ref, Dom *ret, XvError *error) {
        return resolve(h, ref, RESOLVE_FULL, ret, error);
}

int backend_resolve_light(XendBackend *h, const HvDomainRef *ref, Dom *ret, XvError *error) {
        return resolve(h, ref, RESOLVE_LIGHT, ret, error);
}

/* For lookups: the domain's name, uuid and id (Dom.info is not filled in). */
static int resolve_identity(XendBackend *h, const HvDomainRef *ref, Dom *ret, XvError *error) {
        return resolve(h, ref, RESOLVE_IDENTITY, ret, error);
}


/* ---- lifetime -------------------------------------------------------------------------------- */

static int copy_or_default(const char *s, const char *def, char **ret) {
        return strdup_or_null(isempty(s) ? def : s, ret);
}

static XendBackend *backend_free(XendBackend *h) {
        if (!h)
                return NULL;
        /* First: the refresh thread uses XenD, the caches and the tracking. */
        inactive_refresh_stop(h);
        backend_events_done(h);
        xml_cache_free(h->xml_cache);
        xend_managed_free(h->managed);
        xm_dir_free(h->xm);
        xend_free(h->xend);
        xenstore_close(h->xs);
        hcall_close(h->hc);
        xvb_info_cache_done(&h->info);
        inactive_clear_locked(h);
        for (size_t i = 0; i < BACKEND_INACTIVE_DROPS_MAX; i++)
                free(h->inactive_drops[i].name);
        backend_digest_drop_locked(h);
        domain_table_free(h->running);
        domain_table_free(h->inactive_index);
        domain_table_free(h->track_index);
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
        xvb_look_pacer_init(&h->look_pacer, -EBADF, BACKEND_POLL_USEC);     /* no timer until the events start */
        (void) pthread_mutex_init(&h->xend_lock, NULL);
        (void) pthread_mutex_init(&h->cache_lock, NULL);
        if (domain_table_new(&h->running) < 0 || domain_table_new(&h->inactive_index) < 0 ||
            domain_table_new(&h->track_index) < 0)
                return -ENOMEM;
        (void) pthread_mutex_init(&h->track_lock, NULL);
        (void) pthread_mutex_init(&h->inactive_lock, NULL);
        (void) pthread_mutex_init(&h->event_lock, NULL);
        xvb_info_cache_init(&h->info, monotonic_usec, XVB_INFO_MAX_AGE_USEC);
        if (xml_cache_new(BACKEND_XML_CACHE_MAX, BACKEND_XML_CACHE_BYTES_MAX, BACKEND_XML_RUNNING_MAX_AGE_USEC,
                          BACKEND_XML_INACTIVE_MAX_AGE_USEC, &h->xml_cache) < 0)
                return -ENOMEM;
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
        {
                _cleanup_free_ char *dir = NULL;

                if (asprintf(&dir, "%s" HV_XEND_DOMAINS_DIR, h->host_root) < 0 ||
                    xend_managed_new(dir, &h->managed) < 0)
                        return -ENOMEM;
        }

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

        /* Every XenD request and XM directory scan checks xv_call_may_block() before it starts
         * (xend_request(), backend_xend()); nothing else here waits for long, and no lock is held
         * across a XenD request: read-only calls may be tried on the loop thread. */
        xv_call_set_nonblocking_supported(true);
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
        int r;

        r = need_hc(h, error);
        if (r < 0)
                return r;
        return xvb_get_version(h->hc, ret, error);
}

int xendbe_get_hostname(_unused_ XvHypervisor *hv, char **ret, XvError *error) {
        return xvb_get_hostname(ret, error);
}

int xendbe_get_max_vcpus(_unused_ XvHypervisor *hv, const char *type, int *ret, XvError *error) {
        return xvb_get_max_vcpus(type, BACKEND_MAX_VCPUS, ret, error);
}

int xendbe_node_get_info(XvHypervisor *hv, HvNodeInfo *ret, XvError *error) {
        XendBackend *h = xend_of(hv);
        int r;

        /* The hypervisor knows the topology; XenD's /xend/node/ only relayed it. */
        r = need_hc(h, error);
        if (r < 0)
                return r;
        return xvb_node_get_info(h->hc, ret, error);
}

int xendbe_node_get_free_memory(XvHypervisor *hv, uint64_t *ret_bytes, XvError *error) {
        XendBackend *h = xend_of(hv);
        int r;

        r = need_hc(h, error);
        if (r < 0)
                return r;
        return xvb_node_get_free_memory(h->hc, ret_bytes, error);
}

int xendbe_node_get_cells_free_memory(XvHypervisor *hv, int start_cell, int max_cells, uint64_t *ret_bytes,
                                      int *ret_n, XvError *error) {
        XendBackend *h = xend_of(hv);
        int r;

        r = need_hc(h, error);
        if (r < 0)
                return r;
        return xvb_node_get_cells_free_memory(h->hc, start_cell, max_cells, ret_bytes, ret_n, error);
}

int xendbe_node_get_cpu_map(XvHypervisor *hv, uint8_t **ret_map, size_t *ret_len, unsigned *ret_online,
                            int *ret_cpus, XvError *error) {
        XendBackend *h = xend_of(hv);
        int r;

        r = need_hc(h, error);
        if (r < 0)
                return r;
        return xvb_node_get_cpu_map(h->hc, ret_map, ret_len, ret_online, ret_cpus, error);
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
        XendNodeInfo node = {};
        bool have_node;
        int r;

        r = need_hc(h, error);
        if (r < 0)
                return r;
        r = xvb_capabilities_base(h->hc, h->host_root, &caps, error);
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
        int r;

        r = need_hc(h, error);
        if (r < 0)
                return r;
        return xvb_list_domain_ids(h->hc, ret, ret_n, error);
}

/* Names of the running domains, from one hypercall list + the name cache. */
static int names_of(void *backend, const HcallDomainInfo *l, size_t n, char **names) {
        return backend_names_of(backend, l, n, names);
}

static int running_names(XendBackend *h, HcallDomainInfo **ret_info, char ***ret_names, size_t *ret_n,
                         XvError *error) {
        int r;

        r = need_hc(h, error);
        if (r < 0)
                return r;
        return xvb_running_names(h->hc, names_of, h, ret_info, ret_names, ret_n, error);
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
        /* The identity is all a lookup returns: a current xenstore cache knows it. */
        r = running_by_id_cached(h, id, ret);
        if (r != -ENOENT)
                return r;
        r = hcall_domain_info(h->hc, id, &info, NULL);
        if (r == -ESRCH || r == -ENOENT)
                return xv_error_setf(error, XVP_ERR_NO_DOMAIN, "no domain with matching id %d", id);
        if (r < 0) {
                /* Asked again for the error's text; a success this time is resolved alike. */
                r = hcall_domain_info(h->hc, id, &info, error);
                if (r < 0)
                        return r;
        }
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
        r = resolve_identity(h, &ref, &d, error);
        if (r < 0)
                return r;
        return backend_fill_ref(&d, ret);
}

int xendbe_lookup_by_uuid(XvHypervisor *hv, const XvUuid *uuid, HvDomainRef *ret, XvError *error) {
        XendBackend *h = xend_of(hv);

        /* Domain-0's UUID is all zeroes in Xen, and libvirt finds it by that UUID: a null UUID
         * means id 0 here, not "no UUID given". */
        HvDomainRef ref = { .uuid = *uuid, .id = uuid_is_zero(uuid) ? 0 : -1 };
        _cleanup_(dom_done) Dom d = {};
        int r;

        r = resolve_identity(h, &ref, &d, error);
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
        else if (d->has_sxp_info) {
                *ret = d->sxp_info;
                ret->reason = backend_inactive_reason(h, &d->uuid, d->name);
        } else if (d->sxp)
                info_from_sxp(h, d, ret);
        else
                return -EINVAL;
        return 0;
}

int xendbe_domain_get_info(XvHypervisor *hv, const HvDomainRef *dom, HvDomainInfo *ret, XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_(dom_done) Dom d = {};
        int r;

        r = backend_resolve_light(h, dom, &d, error);
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

        r = backend_resolve_light(h, dom, &d, error);
        if (r < 0)
                return r;
        *ret = d.id >= 0;
        return 0;
}

int xendbe_domain_is_persistent(XvHypervisor *hv, const HvDomainRef *dom, bool *ret, XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_(dom_done) Dom d = {};
        int cfg = 0, r;

        r = backend_resolve_light(h, dom, &d, error);
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

typedef struct XmList {
        XmDirDomain *l;
        size_t n;
} XmList;

static void xm_list_done(XmList *x) {
        xm_dir_domains_free(x->l, x->n);
        *x = (XmList) {};
}

/* Which of the running domains @info[0..n) XenD manages, from the watched directory
 * (xv-xend-managed.h): *ret is NULL when it cannot be read (the caller asks backend_is_managed()
 * per domain); a domain not found there may still be managed by what xenvirt did last (the
 * caller asks backend_is_managed() for it). */
static int list_managed_running(XendBackend *h, const HcallDomainInfo *info, size_t n, bool **ret) {
        _cleanup_free_ bool *managed = NULL;

        *ret = NULL;
        managed = new0(bool, n + 1);
        if (!managed)
                return -ENOMEM;
        if (xend_managed_mark(h->managed, info, n, managed) < 0)
                return 0;
        *ret = TAKE_PTR(managed);
        return 0;
}

int xendbe_list_all_domains(XvHypervisor *hv, unsigned flags, HvDomainSummary **ret, size_t *ret_n,
                            XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_free_ HcallDomainInfo *info = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_(digest_unrefp) XendDigest *digest = NULL;
        _cleanup_free_ bool *running_now = NULL, *managed = NULL;
        _cleanup_(xm_list_done) XmList xm = {};
        _cleanup_(xvb_summary_list_done) XvbSummaryList c = { .flags = flags };
        /* Managed saves are looked for (a file access per domain) only when the flags filter on
         * them: nothing else reads has_managed_save. */
        bool want_save = flags & (LIST_MANAGEDSAVE | LIST_NO_MANAGEDSAVE);
        size_t n_running = 0;
        bool need_defs;
        int cfg = 0, r;

        if (flags & ~LIST_ALL_FLAGS)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported list flags 0x%x", flags & ~LIST_ALL_FLAGS);

        /* Definitions are needed for inactive domains, persistence and autostart; a listing of
         * active domains by state alone costs no XenD request. */
        need_defs = !(flags & LIST_ACTIVE) || (flags & LIST_INACTIVE) ||
                (flags & (LIST_PERSISTENT | LIST_TRANSIENT | LIST_AUTOSTART | LIST_NO_AUTOSTART | LIST_SHUTOFF));
        /* They come from XenD (or the XM directory), which the loop thread does not wait for:
         * such a listing goes to a worker before it reads anything, rather than after the
         * hypervisor's list and the names, which the worker would read again. */
        if (need_defs && !xv_call_may_block())
                return xv_call_would_block(error);

        r = running_names(h, &info, &names, &n_running, error);
        if (r < 0)
                return r;

        if (need_defs) {
                r = backend_xend(h, &cfg, error);
                if (r < 0)
                        return r;
                if (cfg >= XEND_CONFIG_VERSION_3_0_4)
                        r = digest_get(h, &digest, error);
                else
                        r = xm_dir_list(backend_xm(h), &xm.l, &xm.n, error);
                if (r < 0)
                        return r;
                if (digest) {
                        running_now = new0(bool, digest->n);
                        if (!running_now)
                                return -ENOMEM;
                }
        } else {
                /* No request: persistence from what is already known (the XM directory is local). */
                cfg = xend_get_config_version(h->xend);
                if (cfg > 0 && cfg <= XEND_CONFIG_VERSION_3_0_3 && !xv_call_may_block())
                        return xv_call_would_block(error);
                if (cfg > 0 && cfg <= XEND_CONFIG_VERSION_3_0_3 && backend_xm(h)) {
                        r = xm_dir_list(backend_xm(h), &xm.l, &xm.n, error);
                        if (r < 0)
                                return r;
                }
        }
        if (cfg >= XEND_CONFIG_VERSION_3_0_4) {
                r = list_managed_running(h, info, n_running, &managed);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < n_running; i++) {
                HvDomainSummary s = {
                        .ref = { .name = TAKE_PTR(names[i]), .uuid = info[i].uuid, .id = info[i].domid },
                };

                info_from_hcall(h, &info[i], &s.info);
                if (want_save)
                        s.has_managed_save = backend_has_managed_save(h, s.ref.name);
                if (info[i].domid == 0)
                        s.persistent = true;
                else if (digest) {
                        const DigestEntry *e = digest_find(digest, &s.ref.uuid);

                        /* Started since XenD described it (the watch event not drained yet):
                         * listed once, as running. */
                        if (e && e->id < 0)
                                running_now[e - digest->entries] = true;
                        s.autostart = e && e->autostart;
                        s.persistent = (managed && managed[i]) || backend_is_managed(h, &s.ref.uuid);
                } else if (cfg >= XEND_CONFIG_VERSION_3_0_4)
                        s.persistent = (managed && managed[i]) || backend_is_managed(h, &s.ref.uuid);
                else
                        for (size_t j = 0; j < xm.n; j++)
                                if (uuid_equal(&xm.l[j].uuid, &s.ref.uuid) || streq(xm.l[j].name, s.ref.name)) {
                                        s.persistent = true;
                                        s.autostart = xm.l[j].autostart;
                                        break;
                                }
                r = xvb_summary_list_add(&c, &s);
                if (r < 0)
                        return r;
        }

        for (size_t j = 0; digest && j < digest->n; j++) {
                const DigestEntry *e = &digest->entries[j];
                HvDomainSummary s = { .ref.id = -1, .ref.uuid = e->uuid, .persistent = true,
                                      .autostart = e->autostart };

                if (e->id >= 0 || running_now[j])
                        continue;
                s.ref.name = strdup(e->name);
                if (!s.ref.name)
                        return -ENOMEM;
                /* The state reason is not listed (only the state filters): no per-domain lookups. */
                s.info = (HvDomainInfo) {
                        .state = XVP_DOMAIN_SHUTOFF,
                        .max_memory_kib = e->max_memory_kib,
                        .memory_kib = e->memory_kib,
                        .nr_vcpus = e->vcpus,
                        .cpu_time_ns = e->cpu_time_ns,
                };
                if (want_save)
                        s.has_managed_save = backend_has_managed_save(h, e->name);
                r = xvb_summary_list_add(&c, &s);
                if (r < 0)
                        return r;
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
                r = xvb_summary_list_add(&c, &s);
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
        .domain_get_xml = xendbe_domain_get_xml,
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
