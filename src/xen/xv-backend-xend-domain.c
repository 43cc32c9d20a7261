/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The xend backend's domain operations. Each resolves the client's reference first (hypercalls
 * for running domains, XenD or the XM directory for inactive ones), then acts through the one
 * channel designated for that operation and state. No backend lock is held across a XenD call.
 */

#include <assert.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-backend-xend-internal.h"
#include "xv-domain-xml.h"
#include "xv-hoststats.h"
#include "xv-log.h"
#include "xv-parse-util.h"
#include "xv-sexpr-domain.h"
#include "xv-strbuf.h"
#include "xv-time.h"

#define START_PAUSED            1u      /* VIR_DOMAIN_START_PAUSED */
#define UNDEFINE_MANAGED_SAVE   1u      /* VIR_DOMAIN_UNDEFINE_MANAGED_SAVE */
#define MIGRATE_LIVE            1u      /* VIR_MIGRATE_LIVE */
#define DEVICE_MODIFY_FORCE     4u      /* VIR_DOMAIN_DEVICE_MODIFY_FORCE */

static int refuse_dom0(const Dom *d, const char *what, XvError *error) {
        if (d->id == 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Cannot %s Domain-0", what);
        return 0;
}

static int require_active(const Dom *d, XvError *error) {
        if (d->id < 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Domain '%s' is not running", d->name);
        return 0;
}

static int require_inactive(const Dom *d, XvError *error) {
        if (d->id >= 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Domain '%s' is already running", d->name);
        return 0;
}

/* For operations on a running guest: Domain-0 refused with @what, then an inactive domain. */
static int require_active_guest(const Dom *d, const char *what, XvError *error) {
        int r;

        r = refuse_dom0(d, what, error);
        if (r < 0)
                return r;
        return require_active(d, error);
}

/* Resolves @ref and makes sure XenD answers (for operations XenD serves). */
static int resolve_for_xend(XendBackend *h, const HvDomainRef *ref, Dom *d, int *ret_cfg, XvError *error) {
        int r;

        r = backend_check_writable(h, error);
        if (r < 0)
                return r;
        r = backend_resolve(h, ref, d, error);
        if (r < 0)
                return r;
        return backend_xend(h, ret_cfg, error);
}

/* The full definition: XenD's ?detail=1 for running domains and managed inactive ones (with the
 * console pty and VNC port from xenstore), or the XM file. */
static int dom_get_def(XendBackend *h, Dom *d, DomainDef **ret, XvError *error) {
        _cleanup_free_ char *tty = NULL, *serial = NULL;
        SexprDomainOptions opts;
        int cfg, r;

        if (d->xmdef)
                return domain_def_copy(d->xmdef, ret);
        r = backend_xend(h, &cfg, error);
        if (r < 0)
                return r;
        if (!d->sxp) {
                r = xend_domain_get(h->xend, d->name, &d->sxp, error);
                if (r < 0)
                        return r;
        }
        opts = SEXPR_DOMAIN_OPTIONS_INIT(cfg);
        if (d->id > 0 && h->xs) {
                (void) xenstore_get_console_tty(h->xs, d->id, &tty, NULL);
                (void) xenstore_get_serial_tty(h->xs, d->id, &serial, NULL);
                (void) xenstore_get_vnc_port(h->xs, d->id, &opts.vnc_port, NULL);
                opts.console_tty = tty;
                opts.serial_tty = serial;
        }
        r = sexpr_domain_to_def(d->sxp, &opts, ret, error);
        if (r < 0)
                return r;
        (*ret)->id = d->id;
        return 0;
}

/* The definition of domain @ref, resolved light into @d: from dumpxml's cache (BACKEND_XML_CACHE_MAX)
 * when it holds one for this incarnation, else built (then @d is resolved fully: XenD's expression,
 * the xenstore values) and remembered when @store. @gen and @stamp are taken before anything was
 * read, so that a change whose drop comes in meanwhile is not cached (see xv-xml-cache.h). */
static int dom_get_def_cached(XendBackend *h, const HvDomainRef *ref, Dom *d, uint64_t gen, uint64_t stamp,
                              bool store, DomainDef **ret, XvError *error) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        int r;

        r = xml_cache_get(h->xml_cache, &d->uuid, d->id, stamp, &def);
        if (r < 0)
                return r;
        if (r == 0) {
                dom_done(d);
                *d = (Dom) {};
                r = backend_resolve(h, ref, d, error);
                if (r < 0)
                        return r;
                r = dom_get_def(h, d, &def, error);
                if (r < 0)
                        return r;
                /* XM files are read from the directory (no XenD): not worth an entry. */
                if (store && !d->xmdef)
                        xml_cache_put(h->xml_cache, gen, &d->uuid, d->name, d->id, stamp, def);
        }
        def->id = d->id;
        *ret = TAKE_PTR(def);
        return 0;
}

int xendbe_domain_get_def(XvHypervisor *hv, const HvDomainRef *dom, unsigned flags, DomainDef **ret,
                          XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_(dom_done) Dom d = {};
        uint64_t gen, stamp;
        int r;

        r = hv_xml_flags(flags, NULL, error);
        if (r < 0)
                return r;
        gen = xml_cache_gen(h->xml_cache);
        stamp = monotonic_usec();
        /* Identity and incarnation only (no copy of XenD's expression): a hit needs nothing else. */
        r = backend_resolve_light(h, dom, &d, error);
        if (r < 0)
                return r;
        r = dom_get_def_cached(h, dom, &d, gen, stamp, /* store= */ true, ret, error);
        if (r < 0)
                return r;
        if (flags & HV_XML_INACTIVE)
                (*ret)->id = -1;
        return 0;
}

/* The variant of a text is its HV_XML_* flags. */
_Static_assert((HV_XML_SECURE | HV_XML_INACTIVE) < XML_CACHE_VARIANTS, "a variant per flags combination");

/* dumpxml's text: the formatted XML of the variant @flags names is what the cache keeps (one text
 * of about a kilobyte per domain, rather than the definition's few dozen allocations), so that a
 * hit costs no conversion and no formatting. */
int xendbe_domain_get_xml(XvHypervisor *hv, const HvDomainRef *dom, unsigned flags, char **ret,
                          XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_free_ char *xml = NULL;
        _cleanup_(dom_done) Dom d = {};
        DomainXmlFlags xml_flags;
        uint64_t gen, stamp;
        int r;

        r = hv_xml_flags(flags, &xml_flags, error);
        if (r < 0)
                return r;
        gen = xml_cache_gen(h->xml_cache);
        stamp = monotonic_usec();
        r = backend_resolve_light(h, dom, &d, error);
        if (r < 0)
                return r;
        r = xml_cache_get_xml(h->xml_cache, &d.uuid, d.id, flags, stamp, &xml);
        if (r < 0)
                return r;
        if (r == 0) {
                r = dom_get_def_cached(h, dom, &d, gen, stamp, /* store= */ false, &def, error);
                if (r < 0)
                        return r;
                if (flags & HV_XML_INACTIVE)
                        def->id = -1;
                r = domain_def_format_xml(def, xml_flags, &xml, error);
                if (r < 0)
                        return r;
                if (!d.xmdef)
                        xml_cache_put_xml(h->xml_cache, gen, &d.uuid, d.name, d.id, stamp, flags, xml);
        }
        *ret = TAKE_PTR(xml);
        return 0;
}

int xendbe_domain_get_os_type(XvHypervisor *hv, const HvDomainRef *dom, char **ret, XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_(dom_done) Dom d = {};
        bool hvm;
        char *s;
        int r;

        r = backend_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        if (d.id >= 0)
                hvm = d.info.hvm;
        else if (d.sxp)
                hvm = sexpr_has(d.sxp, "domain/image/hvm");
        else {
                r = dom_get_def(h, &d, &def, error);
                if (r < 0)
                        return r;
                hvm = domain_def_is_hvm(def);
        }
        s = strdup(hvm ? "hvm" : "linux");
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* ---- define / undefine ---------------------------------------------------------------------- */

/* The running domain (if any) that carries @name under another UUID: a definition must not
 * shadow it. Returns 1 when a domain of that name exists (*ret_id its domid, -1 when inactive),
 * 0 when there is none: with XenD, resolving an unknown name has just asked XenD for it. */
static int check_name_clash(XendBackend *h, const DomainDef *def, int *ret_id, XvError *error) {
        HvDomainRef ref = { .name = def->name, .id = -1 };
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_(dom_done) Dom d = {};
        int r;

        *ret_id = -1;

        /* Only "no such domain" means there is no clash. Anything else (XenD timing out or down)
         * fails the define now: going on would only wait for the same XenD again. */
        r = backend_resolve(h, &ref, &d, &e);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                xv_error_move(error, &e);
                return r;
        }
        if (def->has_uuid && !uuid_equal(&d.uuid, &def->uuid)) {
                char u[UUID_STRING_BUF];

                return xv_error_setf(error, XVP_ERR_OPERATION_FAILED,
                                     "Domain '%s' already exists with UUID %s", d.name, uuid_format(&d.uuid, u));
        }
        *ret_id = d.id;
        return 1;
}

int xendbe_domain_define(XvHypervisor *hv, const DomainDef *def, HvDomainRef *ret_ref, XvError *error) {
        XendBackend *h = xend_of(hv);

        BACKEND_CHANGES_INACTIVE(h);
        _cleanup_(sexpr_freep) Sexpr *after = NULL;
        _cleanup_free_ char *sxp = NULL;
        bool existed;
        XvUuid uuid;
        int cfg, id, r;

        assert(def);
        r = backend_check_writable(h, error);
        if (r < 0)
                return r;
        r = domain_def_validate(def, error);
        if (r < 0)
                return r;
        if (strchr(def->name, '\n'))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Domain name must not contain a newline");
        BACKEND_CHANGES_DOMAIN(def->name, def->has_uuid ? &def->uuid : NULL);
        r = backend_xend(h, &cfg, error);
        if (r < 0)
                return r;
        r = check_name_clash(h, def, &id, error);
        if (r < 0)
                return r;
        existed = r > 0;

        if (cfg <= XEND_CONFIG_VERSION_3_0_3) {
                _cleanup_(domain_def_freep) DomainDef *back = NULL;
                bool updated = false;

                r = xm_dir_define(backend_xm(h), def, &updated, error);
                if (r < 0)
                        return r;
                r = xm_dir_get(backend_xm(h), def->name, &back, error);
                if (r < 0)
                        return r;
                /* The DEFINED event comes from the XM directory's change list. */
                backend_wake(h);
                if (ret_ref) {
                        ret_ref->name = strdup(def->name);
                        if (!ret_ref->name)
                                return -ENOMEM;
                        ret_ref->uuid = back->uuid;
                        ret_ref->id = -1;
                }
                return 0;
        }

        /* A managed inactive domain of that name (an update) was found by check_name_clash(): an
         * unknown name costs one XenD request there, not a second one here. */
        r = sexpr_domain_from_def(def, cfg, &sxp, error);
        if (r < 0)
                return r;
        r = xend_domain_new(h->xend, sxp, NULL, error);
        if (r < 0)
                return r;
        if (def->has_uuid)
                uuid = def->uuid;
        else {
                const char *u;

                /* XenD chose the UUID: read it back. */
                r = xend_domain_get(h->xend, def->name, &after, error);
                if (r < 0)
                        return r;
                u = sexpr_node(after, "domain/uuid");
                if (!u || uuid_from_string(u, &uuid) < 0)
                        return xv_error_setf(error, XVP_ERR_INTERNAL, "XenD defined '%s' without a UUID", def->name);
        }
        backend_track_managed(h, &uuid, true);
        backend_queue_event(h, def->name, &uuid, -1, XVP_DOMAIN_EVENT_DEFINED,
                            existed ? XVP_DOMAIN_EVENT_DEFINED_UPDATED : XVP_DOMAIN_EVENT_DEFINED_ADDED);
        if (ret_ref) {
                ret_ref->name = strdup(def->name);
                if (!ret_ref->name)
                        return -ENOMEM;
                ret_ref->uuid = uuid;
                /* Defining changes no running domain: it keeps the domid it was found with (a
                 * new definition has none), without a look at the whole hypervisor list. */
                ret_ref->id = id;
        }
        return 0;
}

int xendbe_domain_undefine(XvHypervisor *hv, const HvDomainRef *dom, unsigned flags, XvError *error) {
        XendBackend *h = xend_of(hv);

        BACKEND_CHANGES_INACTIVE(h);
        _cleanup_(dom_done) Dom d = {};
        int cfg, r;

        if (flags & ~UNDEFINE_MANAGED_SAVE)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        r = resolve_for_xend(h, dom, &d, &cfg, error);
        if (r < 0)
                return r;
        BACKEND_CHANGES_DOMAIN(d.name, &d.uuid);
        r = refuse_dom0(&d, "undefine", error);
        if (r < 0)
                return r;
        if (backend_has_managed_save(h, d.name)) {
                _cleanup_free_ char *p = NULL;

                if (!(flags & UNDEFINE_MANAGED_SAVE))
                        return xv_error_setf(error, XVP_ERR_OPERATION_INVALID,
                                             "Refusing to undefine while domain managed save image exists");
                r = backend_managed_save_path(h, d.name, &p);
                if (r < 0)
                        return r;
                if (unlink(p) < 0 && errno != ENOENT)
                        return xv_error_set_errnof(error, -errno, "Cannot remove the managed save image '%s'", p);
        }
        if (cfg <= XEND_CONFIG_VERSION_3_0_3) {
                r = xm_dir_undefine(backend_xm(h), d.name, error);
                if (r < 0)
                        return r;
                backend_wake(h);
                return 0;
        }
        r = xend_domain_delete(h->xend, d.name, error);
        if (r < 0)
                return r;
        backend_track_managed(h, &d.uuid, false);
        backend_queue_event(h, d.name, &d.uuid, d.id, XVP_DOMAIN_EVENT_UNDEFINED, XVP_DOMAIN_EVENT_UNDEFINED_REMOVED);
        return 0;
}

/* ---- starting --------------------------------------------------------------------------------- */

/* The domid XenD gave a domain it just created: from its answer, else from the hypervisor. */
static int created_id(XendBackend *h, const Sexpr *reply, const char *name, XvUuid *uuid, int *ret_id,
                      XvError *error) {
        HcallDomainInfo info;
        const char *u;
        int id, r;

        if (reply && (u = sexpr_node(reply, "domain/uuid")) && uuid_from_string(u, uuid) >= 0 &&
            sexpr_domain_id(reply, &id) >= 0) {
                *ret_id = id;
                return 0;
        }
        if (!uuid_is_zero(uuid) && backend_running_by_uuid(h, uuid, &info, NULL) >= 0) {
                *ret_id = info.domid;
                return 0;
        }
        {
                _cleanup_(sexpr_freep) Sexpr *sxp = NULL;

                r = xend_domain_get(h->xend, name, &sxp, error);
                if (r < 0)
                        return r;
                u = sexpr_node(sxp, "domain/uuid");
                if (!u || uuid_from_string(u, uuid) < 0 || sexpr_domain_id(sxp, &id) < 0)
                        return xv_error_setf(error, XVP_ERR_INTERNAL, "XenD did not report the new domain '%s'", name);
                *ret_id = id;
        }
        return 0;
}

/* SXP → op=create → wait_for_devices → unpause; the half-built domain is destroyed on failure. */
static int create_from_def(XendBackend *h, const DomainDef *def, int cfg, bool paused, HvDomainRef *ret_ref,
                           XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *reply = NULL;
        _cleanup_free_ char *sxp = NULL;
        XvUuid uuid = def->has_uuid ? def->uuid : (XvUuid) {};
        int id = -1, r;

        r = sexpr_domain_from_def(def, cfg, &sxp, error);
        if (r < 0)
                return r;
        r = xend_domain_create(h->xend, sxp, &reply, error);
        if (r < 0)
                return r;
        backend_cache_invalidate(h);

        r = created_id(h, reply, def->name, &uuid, &id, error);
        if (r >= 0)
                backend_track(h, &uuid, TRACK_BOOTED);
        if (r >= 0)
                r = xend_domain_wait_for_devices(h->xend, def->name, error);
        if (r >= 0 && !paused)
                r = xend_domain_unpause(h->xend, def->name, error);
        if (r < 0) {
                /* Do not leave a paused shell behind. */
                (void) xend_domain_destroy(h->xend, def->name, NULL);
                backend_wake(h);
                return r;
        }
        backend_wake(h);
        if (ret_ref) {
                ret_ref->name = strdup(def->name);
                if (!ret_ref->name)
                        return -ENOMEM;
                ret_ref->uuid = uuid;
                ret_ref->id = id;
        }
        return 0;
}

int xendbe_domain_create_xml(XvHypervisor *hv, const DomainDef *def, unsigned flags, HvDomainRef *ret_ref,
                             XvError *error) {
        XendBackend *h = xend_of(hv);

        BACKEND_CHANGES_INACTIVE(h);
        int cfg, r;

        if (flags & ~START_PAUSED)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        r = backend_check_writable(h, error);
        if (r < 0)
                return r;
        r = domain_def_validate(def, error);
        if (r < 0)
                return r;
        BACKEND_CHANGES_DOMAIN(def->name, def->has_uuid ? &def->uuid : NULL);
        r = backend_xend(h, &cfg, error);
        if (r < 0)
                return r;
        return create_from_def(h, def, cfg, flags & START_PAUSED, ret_ref, error);
}

int xendbe_domain_create(XvHypervisor *hv, const HvDomainRef *dom, unsigned flags, HvDomainRef *ret_ref,
                         XvError *error) {
        XendBackend *h = xend_of(hv);

        BACKEND_CHANGES_INACTIVE(h);
        _cleanup_(dom_done) Dom d = {};
        _cleanup_free_ char *image = NULL;
        HcallDomainInfo info;
        int cfg, r;

        if (flags & ~START_PAUSED)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        r = resolve_for_xend(h, dom, &d, &cfg, error);
        if (r < 0)
                return r;
        BACKEND_CHANGES_DOMAIN(d.name, &d.uuid);
        r = require_inactive(&d, error);
        if (r < 0)
                return r;

        if (backend_has_managed_save(h, d.name)) {
                r = backend_managed_save_path(h, d.name, &image);
                if (r < 0)
                        return r;
                r = xend_domain_restore(h->xend, image, NULL, error);
                if (r < 0)
                        return r;
                backend_track(h, &d.uuid, TRACK_RESTORED);
                /* The image is consumed: starting it twice would fork the guest's disks. */
                if (unlink(image) < 0)
                        log_debug_errno(-errno, "Cannot remove the managed save image '%s', ignoring: %m", image);
                if (flags & START_PAUSED)
                        (void) xend_domain_pause(h->xend, d.name, NULL);
        } else if (cfg <= XEND_CONFIG_VERSION_3_0_3) {
                if (!d.xmdef)
                        return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Domain '%s' has no XM config", d.name);
                return create_from_def(h, d.xmdef, cfg, flags & START_PAUSED, ret_ref, error);
        } else {
                r = xend_domain_start(h->xend, d.name, error);
                if (r < 0)
                        return r;
                backend_track(h, &d.uuid, TRACK_BOOTED);
                if (flags & START_PAUSED)
                        (void) xend_domain_pause(h->xend, d.name, NULL);
        }
        backend_cache_invalidate(h);
        backend_wake(h);
        if (ret_ref) {
                ret_ref->name = strdup(d.name);
                if (!ret_ref->name)
                        return -ENOMEM;
                ret_ref->uuid = d.uuid;
                ret_ref->id = backend_running_by_uuid(h, &d.uuid, &info, NULL) >= 0 ? info.domid : -1;
        }
        return 0;
}

/* ---- simple lifecycle operations ------------------------------------------------------------- */

typedef enum SimpleOp {
        OP_PAUSE,
        OP_UNPAUSE,
        OP_SHUTDOWN,
        OP_REBOOT,
        OP_DESTROY,
} SimpleOp;

static int simple_op(XendBackend *h, const HvDomainRef *dom, SimpleOp op, XvError *error) {
        BACKEND_CHANGES_INACTIVE(h);
        static const char *const verbs[] = {
                [OP_PAUSE] = "suspend", [OP_UNPAUSE] = "resume", [OP_SHUTDOWN] = "shut down",
                [OP_REBOOT] = "reboot", [OP_DESTROY] = "destroy",
        };
        _cleanup_(dom_done) Dom d = {};
        int r;

        r = resolve_for_xend(h, dom, &d, NULL, error);
        if (r < 0)
                return r;
        BACKEND_CHANGES_DOMAIN(d.name, &d.uuid);
        r = require_active_guest(&d, verbs[op], error);
        if (r < 0)
                return r;

        /* Record the intent first: the hypervisor may report the result before XenD answers. */
        switch (op) {
        case OP_PAUSE:
                r = xend_domain_pause(h->xend, d.name, error);
                if (r >= 0)
                        backend_track(h, &d.uuid, TRACK_PAUSED);
                break;
        case OP_UNPAUSE:
                r = xend_domain_unpause(h->xend, d.name, error);
                if (r >= 0)
                        backend_track(h, &d.uuid, TRACK_UNPAUSED);
                break;
        case OP_SHUTDOWN:
                backend_track(h, &d.uuid, TRACK_SHUTDOWN);
                r = xend_domain_shutdown(h->xend, d.name, "poweroff", error);
                break;
        case OP_REBOOT:
                r = xend_domain_shutdown(h->xend, d.name, "reboot", error);
                break;
        case OP_DESTROY:
                backend_track(h, &d.uuid, TRACK_DESTROYED);
                r = xend_domain_destroy(h->xend, d.name, error);
                backend_cache_invalidate(h);
                break;
        }
        backend_wake(h);
        return r;
}

int xendbe_domain_suspend(XvHypervisor *hv, const HvDomainRef *dom, XvError *error) {
        XendBackend *h = xend_of(hv);

        return simple_op(h, dom, OP_PAUSE, error);
}

int xendbe_domain_resume(XvHypervisor *hv, const HvDomainRef *dom, XvError *error) {
        XendBackend *h = xend_of(hv);

        return simple_op(h, dom, OP_UNPAUSE, error);
}

int xendbe_domain_shutdown(XvHypervisor *hv, const HvDomainRef *dom, unsigned flags, XvError *error) {
        XendBackend *h = xend_of(hv);

        if (flags != 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        return simple_op(h, dom, OP_SHUTDOWN, error);
}

int xendbe_domain_reboot(XvHypervisor *hv, const HvDomainRef *dom, unsigned flags, XvError *error) {
        XendBackend *h = xend_of(hv);

        if (flags != 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        return simple_op(h, dom, OP_REBOOT, error);
}

int xendbe_domain_destroy(XvHypervisor *hv, const HvDomainRef *dom, unsigned flags, XvError *error) {
        XendBackend *h = xend_of(hv);

        if (flags != 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        return simple_op(h, dom, OP_DESTROY, error);
}

/* ---- save / restore / dump ------------------------------------------------------------------ */

static int check_path(const char *path, XvError *error) {
        if (isempty(path) || path[0] != '/' || strlen(path) > 4096 || strchr(path, '\n'))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "'%s' is not an absolute path", strempty(path));
        return 0;
}

static int save_to(XendBackend *h, const HvDomainRef *dom, const char *path, XvError *error) {
        BACKEND_CHANGES_INACTIVE(h);
        _cleanup_(dom_done) Dom d = {};
        int r;

        r = check_path(path, error);
        if (r < 0)
                return r;
        r = resolve_for_xend(h, dom, &d, NULL, error);
        if (r < 0)
                return r;
        BACKEND_CHANGES_DOMAIN(d.name, &d.uuid);
        r = require_active_guest(&d, "save", error);
        if (r < 0)
                return r;
        backend_track(h, &d.uuid, TRACK_SAVED);
        r = xend_domain_save(h->xend, d.name, path, error);
        if (r < 0)
                backend_track(h, &d.uuid, TRACK_NONE);
        backend_cache_invalidate(h);
        backend_wake(h);
        return r;
}

int xendbe_domain_save(XvHypervisor *hv, const HvDomainRef *dom, const char *path, XvError *error) {
        XendBackend *h = xend_of(hv);

        return save_to(h, dom, path, error);
}

int xendbe_domain_restore(XvHypervisor *hv, const char *path, XvError *error) {
        XendBackend *h = xend_of(hv);

        BACKEND_CHANGES_INACTIVE(h);
        _cleanup_(sexpr_freep) Sexpr *reply = NULL;
        const char *u;
        XvUuid uuid;
        int r;

        r = check_path(path, error);
        if (r < 0)
                return r;
        r = backend_check_writable(h, error);
        if (r < 0)
                return r;
        r = backend_xend(h, NULL, error);
        if (r < 0)
                return r;
        r = xend_domain_restore(h->xend, path, &reply, error);
        if (r < 0)
                return r;
        if (reply && (u = sexpr_node(reply, "domain/uuid")) && uuid_from_string(u, &uuid) >= 0)
                backend_track(h, &uuid, TRACK_RESTORED);
        backend_cache_invalidate(h);
        backend_wake(h);
        return 0;
}

int xendbe_domain_managed_save(XvHypervisor *hv, const HvDomainRef *dom, unsigned flags, XvError *error) {
        XendBackend *h = xend_of(hv);

        BACKEND_CHANGES_INACTIVE(h);
        _cleanup_(dom_done) Dom d = {};
        _cleanup_free_ char *path = NULL;
        int r;

        if (flags != 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        r = backend_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        BACKEND_CHANGES_DOMAIN(d.name, &d.uuid);
        r = backend_managed_save_path(h, d.name, &path);
        if (r < 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Domain name '%s' cannot name a file", d.name);
        if (mkdir(h->save_dir, 0700) < 0 && errno != EEXIST)
                return xv_error_set_errnof(error, -errno, "Cannot create '%s'", h->save_dir);
        return save_to(h, dom, path, error);
}

int xendbe_domain_has_managed_save(XvHypervisor *hv, const HvDomainRef *dom, bool *ret, XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_(dom_done) Dom d = {};
        int r;

        r = backend_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        *ret = backend_has_managed_save(h, d.name);
        return 0;
}

int xendbe_domain_managed_save_remove(XvHypervisor *hv, const HvDomainRef *dom, XvError *error) {
        XendBackend *h = xend_of(hv);

        BACKEND_CHANGES_INACTIVE(h);
        _cleanup_(dom_done) Dom d = {};
        _cleanup_free_ char *path = NULL;
        int r;

        r = backend_check_writable(h, error);
        if (r < 0)
                return r;
        r = backend_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        BACKEND_CHANGES_DOMAIN(d.name, &d.uuid);
        r = backend_managed_save_path(h, d.name, &path);
        if (r < 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Domain name '%s' cannot name a file", d.name);
        if (unlink(path) < 0 && errno != ENOENT)
                return xv_error_set_errnof(error, -errno, "Cannot remove '%s'", path);
        return 0;
}

int xendbe_domain_core_dump(XvHypervisor *hv, const HvDomainRef *dom, const char *path, unsigned flags,
                            XvError *error) {
        XendBackend *h = xend_of(hv);

        BACKEND_CHANGES_INACTIVE(h);
        _cleanup_(dom_done) Dom d = {};
        int r;

        if (flags & ~(HV_DUMP_CRASH | HV_DUMP_LIVE))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        r = check_path(path, error);
        if (r < 0)
                return r;
        r = resolve_for_xend(h, dom, &d, NULL, error);
        if (r < 0)
                return r;
        BACKEND_CHANGES_DOMAIN(d.name, &d.uuid);
        r = require_active_guest(&d, "dump", error);
        if (r < 0)
                return r;
        if (flags & HV_DUMP_CRASH)
                backend_track(h, &d.uuid, TRACK_CRASHED);
        r = xend_domain_dump(h->xend, d.name, path, flags & HV_DUMP_LIVE, flags & HV_DUMP_CRASH, error);
        backend_wake(h);
        return r;
}

/* ---- memory and vcpus ------------------------------------------------------------------------ */

/* Which of live / config an operation affects: CURRENT means live for a running domain. */
static int affect(const Dom *d, unsigned flags, int cfg, bool *ret_live, bool *ret_config, XvError *error) {
        bool live = flags & HV_AFFECT_LIVE, config = flags & HV_AFFECT_CONFIG;

        if (!live && !config) {
                live = d->id >= 0;
                config = d->id < 0;
        }
        if (live && d->id < 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Domain '%s' is not running", d->name);
        /* XenD 3.0.4 and later change the persistent config of a running domain with the live one. */
        if (live && cfg >= XEND_CONFIG_VERSION_3_0_4 && d->id > 0)
                config = true;
        *ret_live = live;
        *ret_config = config;
        return 0;
}

/* Rewrites an inactive domain's XM file after @edit changed its definition. */
static int xm_rewrite(XendBackend *h, Dom *d, int (*edit)(DomainDef *def, const void *arg, XvError *error),
                      const void *arg, XvError *error) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        int r;

        r = xm_dir_get(backend_xm(h), d->name, &def, error);
        if (r < 0)
                return r;
        r = edit(def, arg, error);
        if (r < 0)
                return r;
        r = domain_def_validate(def, error);
        if (r < 0)
                return r;
        r = xm_dir_define(backend_xm(h), def, NULL, error);
        if (r < 0)
                return r;
        backend_wake(h);
        return 0;
}

/* Redefines a managed XenD domain after @edit (op=new with the whole configuration). */
static int xend_redefine(XendBackend *h, Dom *d, int cfg,
                         int (*edit)(DomainDef *def, const void *arg, XvError *error), const void *arg,
                         XvError *error) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_free_ char *sxp = NULL;
        int r;

        r = dom_get_def(h, d, &def, error);
        if (r < 0)
                return r;
        def->id = -1;
        r = edit(def, arg, error);
        if (r < 0)
                return r;
        r = domain_def_validate(def, error);
        if (r < 0)
                return r;
        r = sexpr_domain_from_def(def, cfg, &sxp, error);
        if (r < 0)
                return r;
        r = xend_domain_new(h->xend, sxp, NULL, error);
        if (r < 0)
                return r;
        backend_queue_event(h, d->name, &d->uuid, d->id, XVP_DOMAIN_EVENT_DEFINED, XVP_DOMAIN_EVENT_DEFINED_UPDATED);
        return 0;
}

static int edit_max_memory(DomainDef *def, const void *arg, XvError *error) {
        uint64_t kib = *(const uint64_t *) arg;

        def->memory_kib = kib;
        if (def->current_memory_kib > kib)
                def->current_memory_kib = kib;
        return 0;
}

static int edit_memory(DomainDef *def, const void *arg, XvError *error) {
        uint64_t kib = *(const uint64_t *) arg;

        if (kib > def->memory_kib)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Cannot set memory higher than the maximum memory");
        def->current_memory_kib = kib;
        return 0;
}

int xendbe_domain_set_memory(XvHypervisor *hv, const HvDomainRef *dom, uint64_t kib, unsigned flags,
                             XvError *error) {
        XendBackend *h = xend_of(hv);

        BACKEND_CHANGES_INACTIVE(h);
        _cleanup_(dom_done) Dom d = {};
        bool live, config;
        int cfg, r;

        if (flags & ~(HV_AFFECT_LIVE | HV_AFFECT_CONFIG | HV_MEM_MAXIMUM))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        if (kib == 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Memory size must be greater than zero");
        r = resolve_for_xend(h, dom, &d, &cfg, error);
        if (r < 0)
                return r;
        BACKEND_CHANGES_DOMAIN(d.name, &d.uuid);
        r = affect(&d, flags, cfg, &live, &config, error);
        if (r < 0)
                return r;

        if (flags & HV_MEM_MAXIMUM) {
                if (live) {
                        r = hcall_domain_set_max_memory(h->hc, d.id, kib, error);
                        if (r < 0)
                                return r;
                }
                if (config && d.id != 0) {
                        if (cfg >= XEND_CONFIG_VERSION_3_0_4 || d.id > 0)
                                r = d.id > 0 && cfg <= XEND_CONFIG_VERSION_3_0_3 ? 0 :
                                        xend_domain_maxmem_set(h->xend, d.name, kib, error);
                        else
                                r = xm_rewrite(h, &d, edit_max_memory, &kib, error);
                        if (r < 0)
                                return r;
                }
                return 0;
        }

        if (live) {
                if (kib > d.info.max_memory_kib)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                             "Cannot set memory higher than the maximum memory (%" PRIu64 " KiB)",
                                             d.info.max_memory_kib);
                return xend_domain_mem_target_set(h->xend, d.name, kib, error);
        }
        if (cfg >= XEND_CONFIG_VERSION_3_0_4)
                return xend_domain_mem_target_set(h->xend, d.name, kib, error);
        return xm_rewrite(h, &d, edit_memory, &kib, error);
}

static int edit_vcpus(DomainDef *def, const void *arg, XvError *error) {
        unsigned n = *(const unsigned *) arg;

        if (n > def->vcpus)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Requested vcpus %u is greater than the maximum of %u", n, def->vcpus);
        def->vcpus_current = n == def->vcpus ? 0 : n;
        return 0;
}

static int edit_max_vcpus(DomainDef *def, const void *arg, XvError *error) {
        unsigned n = *(const unsigned *) arg;

        def->vcpus = n;
        if (def->vcpus_current >= n)
                def->vcpus_current = 0;
        return 0;
}

int xendbe_domain_set_vcpus(XvHypervisor *hv, const HvDomainRef *dom, unsigned n, unsigned flags,
                            XvError *error) {
        XendBackend *h = xend_of(hv);

        BACKEND_CHANGES_INACTIVE(h);
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_(dom_done) Dom d = {};
        bool live, config;
        unsigned max;
        int cfg, r;

        if (flags & ~(HV_AFFECT_LIVE | HV_AFFECT_CONFIG | HV_VCPU_MAXIMUM))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        if (n == 0 || n > DOMAIN_VCPUS_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid number of vcpus %u", n);
        r = resolve_for_xend(h, dom, &d, &cfg, error);
        if (r < 0)
                return r;
        BACKEND_CHANGES_DOMAIN(d.name, &d.uuid);
        r = affect(&d, flags, cfg, &live, &config, error);
        if (r < 0)
                return r;

        if (flags & HV_VCPU_MAXIMUM) {
                /* The maximum is fixed while a domain runs (XenD cannot grow a live vcpu array). */
                if (live)
                        return xv_error_setf(error, XVP_ERR_OPERATION_INVALID,
                                             "Cannot change the maximum vcpus of a running domain");
                if (cfg >= XEND_CONFIG_VERSION_3_0_4)
                        return xend_redefine(h, &d, cfg, edit_max_vcpus, &n, error);
                return xm_rewrite(h, &d, edit_max_vcpus, &n, error);
        }

        /* XenD does not check the request against the maximum (libvirt's TOCTOU note): we do. */
        if (live)
                max = d.info.max_vcpu_id + 1;
        else {
                r = dom_get_def(h, &d, &def, error);
                if (r < 0)
                        return r;
                max = def->vcpus;
        }
        if (n > max)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Requested vcpus %u is greater than the maximum of %u", n, max);
        if (live || cfg >= XEND_CONFIG_VERSION_3_0_4)
                return xend_domain_set_vcpus(h->xend, d.name, n, error);
        return xm_rewrite(h, &d, edit_vcpus, &n, error);
}

int xendbe_domain_get_vcpus_flags(XvHypervisor *hv, const HvDomainRef *dom, unsigned flags, int *ret,
                                  XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_(dom_done) Dom d = {};
        bool live, config;
        int r;

        if (flags & ~(HV_AFFECT_LIVE | HV_AFFECT_CONFIG | HV_VCPU_MAXIMUM))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        if ((flags & HV_AFFECT_LIVE) && (flags & HV_AFFECT_CONFIG))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Flags live and config are mutually exclusive");
        r = backend_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        r = affect(&d, flags, /* cfg= */ 0, &live, &config, error);
        if (r < 0)
                return r;
        if (live) {
                *ret = (int) ((flags & HV_VCPU_MAXIMUM) ? d.info.max_vcpu_id + 1 : d.info.online_vcpus);
                return 0;
        }
        r = dom_get_def(h, &d, &def, error);
        if (r < 0)
                return r;
        *ret = (int) ((flags & HV_VCPU_MAXIMUM) ? def->vcpus : domain_def_current_vcpus(def));
        return 0;
}

int xendbe_domain_get_vcpus(XvHypervisor *hv, const HvDomainRef *dom, int max_info, int maplen,
                            HvVcpuInfo **ret_info, size_t *ret_n, uint8_t **ret_maps, XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_free_ HvVcpuInfo *info = NULL;
        _cleanup_free_ uint8_t *maps = NULL;
        _cleanup_(dom_done) Dom d = {};
        size_t n;
        int r;

        if (max_info <= 0 || max_info > HCALL_VCPUS_MAX || maplen < 0 || maplen > 1024)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid vcpu info request (%d, %d)", max_info, maplen);
        r = backend_resolve(h, dom, &d, error);
        if (r < 0)
                return r;

        if (d.id >= 0)
                return xvb_vcpus_live(h->hc, d.id, d.info.max_vcpu_id, max_info, maplen, ret_info, ret_n, ret_maps,
                                      error);
        if (d.xmdef) {
                /* XenD of config version <= 2 knows running domains only. */
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Domain '%s' is not running", d.name);
        } else {
                _cleanup_(sexpr_freep) Sexpr *vl = NULL;
                size_t i = 0;

                r = backend_xend(h, NULL, error);
                if (r < 0)
                        return r;
                r = xend_domain_vcpuinfo(h->xend, d.name, &vl, error);
                if (r < 0)
                        return r;
                n = MIN((size_t) max_info, sexpr_n_children(vl));
                info = new0(HvVcpuInfo, n);
                maps = new0(uint8_t, n * (size_t) maplen);
                if (!info || !maps)
                        return -ENOMEM;
                SEXPR_FOREACH_CHILD(v, vl) {
                        int num = (int) i, online = 0, blocked = 0, cpu = -1;
                        double t = 0;

                        if (i >= n)
                                break;
                        (void) sexpr_get_int(v, "vcpu/number", &num);
                        (void) sexpr_get_int(v, "vcpu/online", &online);
                        (void) sexpr_get_int(v, "vcpu/blocked", &blocked);
                        (void) sexpr_get_int(v, "vcpu/cpu", &cpu);
                        (void) sexpr_get_double(v, "vcpu/cpu_time", &t);
                        info[i] = (HvVcpuInfo) {
                                .number = (unsigned) MAX(num, 0),
                                .state = !online ? 0 : blocked ? 2 : 1,
                                .cpu_time_ns = (uint64_t) (t * 1e9),
                                .cpu = online ? cpu : -1,
                        };
                        /* XenD prints the affinity as a nested list, (cpumap (0 1 2 3)); an inactive
                         * domain without one keeps an empty map. */
                        (void) xend_vcpu_cpumap(v, maps + i * (size_t) maplen, (size_t) maplen);
                        i++;
                }
                n = i;
        }
        *ret_info = TAKE_PTR(info);
        *ret_n = n;
        if (ret_maps)
                *ret_maps = TAKE_PTR(maps);
        return 0;
}

int xendbe_domain_pin_vcpu(XvHypervisor *hv, const HvDomainRef *dom, unsigned vcpu, const uint8_t *map,
                           size_t maplen, unsigned flags, XvError *error) {
        XendBackend *h = xend_of(hv);

        BACKEND_CHANGES_INACTIVE(h);
        _cleanup_(dom_done) Dom d = {};
        bool live, config;
        int cfg, r;

        if (flags & ~(HV_AFFECT_LIVE | HV_AFFECT_CONFIG))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        if (!map || maplen == 0 || maplen > 1024)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid cpu map");
        r = backend_check_writable(h, error);
        if (r < 0)
                return r;
        r = backend_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        BACKEND_CHANGES_DOMAIN(d.name, &d.uuid);
        r = affect(&d, flags, /* cfg= */ 0, &live, &config, error);
        if (r < 0)
                return r;
        if (live) {
                if (vcpu > d.info.max_vcpu_id)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "vcpu %u does not exist", vcpu);
                return hcall_vcpu_set_affinity(h->hc, d.id, vcpu, map, maplen, error);
        }
        r = backend_xend(h, &cfg, error);
        if (r < 0)
                return r;
        if (cfg <= XEND_CONFIG_VERSION_3_0_3)
                return xv_error_setf(error, XVP_ERR_NO_SUPPORT,
                                     "Pinning a vcpu of an inactive domain needs xend config version 3 or later");
        return xend_domain_pincpu_map(h->xend, d.name, vcpu, map, maplen, error);
}

int xendbe_domain_get_vcpu_pin_info(XvHypervisor *hv, const HvDomainRef *dom, int ncpumaps, int maplen,
                                    unsigned flags, uint8_t **ret_maps, int *ret_n, XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_free_ uint8_t *maps = NULL;
        _cleanup_free_ HvVcpuInfo *info = NULL;
        _cleanup_(dom_done) Dom d = {};
        bool live, config;
        size_t n = 0;
        int r;

        if (flags & ~(HV_AFFECT_LIVE | HV_AFFECT_CONFIG))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        if (ncpumaps <= 0 || ncpumaps > HCALL_VCPUS_MAX || maplen <= 0 || maplen > 1024)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid pin info request (%d, %d)", ncpumaps, maplen);
        r = backend_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        r = affect(&d, flags, 0, &live, &config, error);
        if (r < 0)
                return r;
        if (live) {
                r = xvb_vcpu_affinities(h->hc, d.id, d.info.max_vcpu_id, ncpumaps, maplen, &maps, &n, error);
                if (r < 0)
                        return r;
        } else if (d.xmdef) {
                /* An XM config pins all vcpus alike (cpus=); without it every CPU is allowed. */
                n = MIN((size_t) ncpumaps, (size_t) d.xmdef->vcpus);
                maps = new(uint8_t, n * (size_t) maplen);
                if (!maps)
                        return -ENOMEM;
                memset(maps, 0xff, n * (size_t) maplen);
        } else {
                HvDomainRef ref = { .name = d.name, .uuid = d.uuid, .id = d.id };

                r = xendbe_domain_get_vcpus(hv, &ref, ncpumaps, maplen, &info, &n, &maps, error);
                if (r < 0)
                        return r;
        }
        *ret_maps = TAKE_PTR(maps);
        *ret_n = (int) n;
        return 0;
}

/* ---- autostart -------------------------------------------------------------------------------- */

int xendbe_domain_get_autostart(XvHypervisor *hv, const HvDomainRef *dom, bool *ret, XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_(dom_done) Dom d = {};
        int cfg, r;

        r = backend_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        r = backend_xend(h, &cfg, error);
        if (r < 0)
                return r;
        if (cfg <= XEND_CONFIG_VERSION_3_0_3) {
                r = xm_dir_get_autostart(backend_xm(h), d.name, ret, NULL);
                if (r == -ENOENT) {
                        *ret = false;
                        return 0;
                }
                return r < 0 ? xm_dir_get_autostart(backend_xm(h), d.name, ret, error) : 0;
        }
        if (!d.sxp) {
                r = xend_domain_get(h->xend, d.name, &d.sxp, error);
                if (r < 0)
                        return r;
        }
        *ret = false;
        (void) sexpr_domain_autostart(d.sxp, ret);
        return 0;
}

/* Sets (on_xend_start X) in a (domain ...) expression, adding it when absent. */
static int sxp_set_autostart(Sexpr *sxp, bool on) {
        const char *v = on ? "start" : "ignore";

        for (size_t i = 1; i < sxp->n_items; i++) {
                Sexpr *c = sxp->items[i];

                if (streq_ptr(sexpr_head(c), "on_xend_start") && c->n_items >= 2 && sexpr_is_atom(c->items[1])) {
                        char *s = strdup(v);

                        if (!s)
                                return -ENOMEM;
                        free(c->items[1]->value);
                        c->items[1]->value = s;
                        return 0;
                }
        }
        sexpr_add_pair(sxp, "on_xend_start", v);
        return sexpr_check(sxp);
}

int xendbe_domain_set_autostart(XvHypervisor *hv, const HvDomainRef *dom, bool autostart, XvError *error) {
        XendBackend *h = xend_of(hv);

        BACKEND_CHANGES_INACTIVE(h);
        _cleanup_(dom_done) Dom d = {};
        _cleanup_free_ char *text = NULL;
        int cfg, r;

        r = resolve_for_xend(h, dom, &d, &cfg, error);
        if (r < 0)
                return r;
        BACKEND_CHANGES_DOMAIN(d.name, &d.uuid);
        if (cfg <= XEND_CONFIG_VERSION_3_0_3)
                return xm_dir_set_autostart(backend_xm(h), d.name, autostart, error);

        if (d.id >= 0 && !backend_is_managed(h, &d.uuid))
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Cannot set autostart for transient domain '%s'",
                                     d.name);
        /* XenD has no autostart operation: post the whole configuration back with the flag
         * changed (op=new), as libvirt did. */
        if (!d.sxp) {
                r = xend_domain_get(h->xend, d.name, &d.sxp, error);
                if (r < 0)
                        return r;
        }
        r = sxp_set_autostart(d.sxp, autostart);
        if (r < 0)
                return r;
        r = sexpr_format(d.sxp, &text);
        if (r < 0)
                return r;
        return xend_domain_new(h->xend, text, NULL, error);
}

/* ---- devices ------------------------------------------------------------------------------- */

/* Parses one device element by wrapping it in a minimal domain (the XML parser reads whole
 * domains only). Exactly one disk, interface or PCI hostdev must come out. */
static int parse_device(const char *xml, DomainDef **ret, XvError *error) {
        _cleanup_free_ char *doc = NULL;
        DomainDef *def = NULL;
        size_t n;
        int r;

        if (!xml || strlen(xml) > BACKEND_DEVICE_XML_MAX)
                return xv_error_setf(error, XVP_ERR_XML, "Device XML missing or larger than %u bytes",
                                     BACKEND_DEVICE_XML_MAX);
        if (strstr(xml, "<?xml") || strstr(xml, "<!"))
                return xv_error_setf(error, XVP_ERR_XML, "Device XML must be a single element");
        if (asprintf(&doc, "<domain type='xen'><name>device</name><memory>1024</memory><vcpu>1</vcpu>"
                     "<os><type>linux</type></os><devices>%s</devices></domain>", xml) < 0)
                return -ENOMEM;
        r = domain_def_parse_xml(doc, &def, error);
        if (r < 0)
                return r;
        n = def->n_disks + def->n_nets + def->n_hostdevs + def->n_graphics + def->n_inputs + def->n_serials +
                def->n_parallels + def->n_consoles + def->n_sounds + def->n_videos;
        if (n != 1 || (def->n_disks + def->n_nets + def->n_hostdevs) != 1) {
                domain_def_free(def);
                return xv_error_setf(error, XVP_ERR_OPERATION_UNSUPPORTED,
                                     "Only one disk, interface or PCI host device can be attached or detached");
        }
        *ret = def;
        return 0;
}

static int device_sxp_text(const Sexpr *dev, char **ret) {
        return sexpr_format(dev, ret);
}

/* The device id XenD knows a device by: the backend devid from xenstore for a running domain,
 * else the target name (disks) or the MAC (NICs) that XenD matches in an inactive config. */
static int device_id(XendBackend *h, const Dom *d, const DomainDef *dev, char **ret, XvError *error) {
        char mac[18];
        int devid, r;

        if (d->id > 0 && h->xs) {
                if (dev->n_disks)
                        r = xenstore_find_disk_devid(h->xs, d->id, dev->disks[0].dst, &devid, error);
                else if (dev->n_nets)
                        r = xenstore_find_nic_devid(h->xs, d->id, domain_mac_format(dev->nets[0].mac, mac), &devid,
                                                    error);
                else {
                        char bdf[32];
                        const DomainHostdevPci *p = &dev->hostdevs[0];

                        (void) snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x", p->domain, p->bus, p->slot, p->function);
                        r = xenstore_find_pci_devid(h->xs, d->id, bdf, &devid, error);
                }
                if (r < 0)
                        return r;
                return asprintf(ret, "%d", devid) < 0 ? -ENOMEM : 0;
        }
        if (dev->n_disks)
                return strdup_or_null(dev->disks[0].dst, ret);
        if (dev->n_nets) {
                if (!dev->nets[0].has_mac)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "An interface needs a MAC address to be found");
                return strdup_or_null(domain_mac_format(dev->nets[0].mac, mac), ret);
        }
        return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "PCI devices can only be detached from running domains");
}

typedef enum DeviceOp {
        DEVICE_ATTACH,
        DEVICE_DETACH,
        DEVICE_UPDATE,
} DeviceOp;

static int device_flags(const Dom *d, unsigned flags, int cfg, XvError *error) {
        bool live = flags & HV_AFFECT_LIVE, config = flags & HV_AFFECT_CONFIG;

        if (!live && !config)
                return 0;
        if (d->id >= 0) {
                if (!live)
                        return xv_error_setf(error, XVP_ERR_OPERATION_INVALID,
                                             "Cannot modify only the persistent config of a running domain");
                if (cfg >= XEND_CONFIG_VERSION_3_0_4 && !config && d->id > 0)
                        return xv_error_setf(error, XVP_ERR_OPERATION_INVALID,
                                             "XenD changes the live and the persistent config together");
        } else if (live)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Domain '%s' is not running", d->name);
        return 0;
}

/* XM files of inactive domains (config version <= 2): edit the definition and rewrite. */
static int edit_device(DomainDef *def, const void *arg, XvError *error) {
        const struct {
                DeviceOp op;
                DomainDef *dev;
        } *a = arg;
        DomainDef *dev = a->dev;
        int r;

        if (dev->n_hostdevs)
                return xv_error_setf(error, XVP_ERR_OPERATION_UNSUPPORTED, "PCI devices cannot be changed in XM configs");
        if (dev->n_disks) {
                DomainDisk *nd = &dev->disks[0];
                size_t i;

                for (i = 0; i < def->n_disks; i++)
                        if (streq_ptr(def->disks[i].dst, nd->dst))
                                break;
                if (a->op == DEVICE_ATTACH) {
                        DomainDisk *slot;

                        if (i < def->n_disks)
                                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Target '%s' already exists", nd->dst);
                        r = domain_def_add_device(def->disks, def->n_disks, &slot);
                        if (r < 0)
                                return r;
                        *slot = *nd;
                        *nd = (DomainDisk) {};
                        dev->n_disks = 0;
                        return 0;
                }
                if (i >= def->n_disks)
                        return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "No disk with target '%s'", nd->dst);
                domain_disk_done(&def->disks[i]);
                if (a->op == DEVICE_UPDATE) {
                        def->disks[i] = *nd;
                        *nd = (DomainDisk) {};
                        dev->n_disks = 0;
                        return 0;
                }
                memmove(&def->disks[i], &def->disks[i + 1], (def->n_disks - i - 1) * sizeof(DomainDisk));
                def->n_disks--;
                return 0;
        }
        {
                DomainNet *nn = &dev->nets[0];
                size_t i;

                for (i = 0; i < def->n_nets; i++)
                        if (nn->has_mac && def->nets[i].has_mac && memcmp(def->nets[i].mac, nn->mac, 6) == 0)
                                break;
                if (a->op == DEVICE_ATTACH) {
                        DomainNet *slot;

                        r = domain_def_add_device(def->nets, def->n_nets, &slot);
                        if (r < 0)
                                return r;
                        *slot = *nn;
                        *nn = (DomainNet) {};
                        dev->n_nets = 0;
                        return 0;
                }
                if (a->op == DEVICE_UPDATE)
                        return xv_error_setf(error, XVP_ERR_OPERATION_UNSUPPORTED, "Only disks can be updated");
                if (i >= def->n_nets)
                        return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "No matching interface");
                domain_net_done(&def->nets[i]);
                memmove(&def->nets[i], &def->nets[i + 1], (def->n_nets - i - 1) * sizeof(DomainNet));
                def->n_nets--;
                return 0;
        }
}

static int device_op(XendBackend *h, const HvDomainRef *dom, const char *xml, unsigned flags, DeviceOp op,
                     XvError *error) {
        BACKEND_CHANGES_INACTIVE(h);
        _cleanup_(domain_def_freep) DomainDef *dev = NULL, *cur = NULL;
        _cleanup_(sexpr_freep) Sexpr *sxp = NULL;
        _cleanup_free_ char *text = NULL, *id = NULL;
        _cleanup_(dom_done) Dom d = {};
        bool hvm, cdrom_present = false;
        int cfg, r;

        if (flags & ~(HV_AFFECT_LIVE | HV_AFFECT_CONFIG | DEVICE_MODIFY_FORCE))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        r = parse_device(xml, &dev, error);
        if (r < 0)
                return r;
        r = resolve_for_xend(h, dom, &d, &cfg, error);
        if (r < 0)
                return r;
        BACKEND_CHANGES_DOMAIN(d.name, &d.uuid);
        r = device_flags(&d, flags, cfg, error);
        if (r < 0)
                return r;
        if (op == DEVICE_UPDATE && !dev->n_disks)
                return xv_error_setf(error, XVP_ERR_OPERATION_UNSUPPORTED, "Only disks (CD-ROM media) can be updated");

        if (d.id < 0 && cfg <= XEND_CONFIG_VERSION_3_0_3) {
                struct {
                        DeviceOp op;
                        DomainDef *dev;
                } arg = { op, dev };

                return xm_rewrite(h, &d, edit_device, &arg, error);
        }

        r = dom_get_def(h, &d, &cur, error);
        if (r < 0)
                return r;
        hvm = domain_def_is_hvm(cur);
        if (dev->n_disks)
                for (size_t i = 0; i < cur->n_disks; i++)
                        if (streq_ptr(cur->disks[i].dst, dev->disks[0].dst))
                                cdrom_present = cur->disks[i].device == DOMAIN_DISK_DEVICE_CDROM;

        if (dev->n_disks)
                r = sexpr_device_from_disk(&dev->disks[0], hvm, cfg, &sxp, error);
        else if (dev->n_nets)
                r = sexpr_device_from_net(&dev->nets[0], hvm, cfg, &sxp, error);
        else {
                if (dev->hostdevs[0].managed)
                        return xv_error_setf(error, XVP_ERR_CONFIG_UNSUPPORTED, "managed PCI devices not supported with XenD");
                r = sexpr_device_from_hostdev(&dev->hostdevs[0], op == DEVICE_DETACH, &sxp, error);
        }
        if (r < 0)
                return r;
        r = device_sxp_text(sxp, &text);
        if (r < 0)
                return r;

        if (op == DEVICE_ATTACH && !cdrom_present)
                r = xend_domain_device_create(h->xend, d.name, text, error);
        else if (op == DEVICE_DETACH && !dev->n_hostdevs) {
                r = device_id(h, &d, dev, &id, error);
                if (r < 0)
                        return r;
                r = xend_domain_device_destroy(h->xend, d.name, sexpr_head(sxp), id, flags & DEVICE_MODIFY_FORCE,
                                               /* rm_cfg= */ true, error);
        } else {
                /* A CD-ROM media change, an update, or a PCI unplug (state Closing). */
                r = device_id(h, &d, dev, &id, error);
                if (r < 0)
                        return r;
                r = xend_domain_device_configure(h->xend, d.name, text, id, error);
        }
        if (r < 0)
                return r;
        if (d.id < 0)
                backend_queue_event(h, d.name, &d.uuid, -1, XVP_DOMAIN_EVENT_DEFINED, XVP_DOMAIN_EVENT_DEFINED_UPDATED);
        return 0;
}

int xendbe_domain_attach_device(XvHypervisor *hv, const HvDomainRef *dom, const char *xml, unsigned flags,
                                XvError *error) {
        XendBackend *h = xend_of(hv);

        return device_op(h, dom, xml, flags, DEVICE_ATTACH, error);
}

int xendbe_domain_detach_device(XvHypervisor *hv, const HvDomainRef *dom, const char *xml, unsigned flags,
                                XvError *error) {
        XendBackend *h = xend_of(hv);

        return device_op(h, dom, xml, flags, DEVICE_DETACH, error);
}

int xendbe_domain_update_device(XvHypervisor *hv, const HvDomainRef *dom, const char *xml, unsigned flags,
                                XvError *error) {
        XendBackend *h = xend_of(hv);

        return device_op(h, dom, xml, flags, DEVICE_UPDATE, error);
}

/* ---- statistics ------------------------------------------------------------------------------ */

int xendbe_domain_block_stats(XvHypervisor *hv, const HvDomainRef *dom, const char *path, HvBlockStats *ret,
                              XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_(dom_done) Dom d = {};
        int r;

        if (isempty(path))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Missing disk path");
        r = backend_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        r = require_active(&d, error);
        if (r < 0)
                return r;
        return xvb_block_stats(h->xs, h->host_root, d.id, d.name, path, ret, error);
}

int xendbe_domain_interface_stats(XvHypervisor *hv, const HvDomainRef *dom, const char *path,
                                  HvInterfaceStats *ret, XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_(dom_done) Dom d = {};
        int r;

        if (isempty(path))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Missing interface name");
        r = backend_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        r = require_active(&d, error);
        if (r < 0)
                return r;
        return hoststats_interface(h->host_root, d.id, path, ret, error);
}

/* ---- scheduler ----------------------------------------------------------------------------- */

static int sched_name(XendBackend *h, const char **ret, XvError *error) {
        if (!h->hc)
                return xv_error_setf(error, XVP_ERR_NO_XEN, "Hypercalls are not available");
        return xvb_sched_name(h->hc, ret, error);
}

int xendbe_domain_get_scheduler_type(XvHypervisor *hv, const HvDomainRef *dom, char **ret, int *ret_nparams,
                                     XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_(dom_done) Dom d = {};
        const char *name;
        char *s;
        int r;

        r = backend_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        /* The scheduler is host-wide: the hypervisor answers for running and inactive domains. */
        r = sched_name(h, &name, error);
        if (r < 0)
                return r;
        s = strdup(name);
        if (!s)
                return -ENOMEM;
        *ret = s;
        if (ret_nparams)
                *ret_nparams = streq(name, "credit") ? 2 : streq(name, "credit2") ? 1 : 0;
        return 0;
}

static int require_credit(XendBackend *h, XvError *error) {
        const char *name;
        int r;

        r = sched_name(h, &name, error);
        if (r < 0)
                return r;
        if (!streq(name, "credit"))
                return xv_error_setf(error, XVP_ERR_NO_SUPPORT, "Scheduler '%s' parameters are not supported", name);
        return 0;
}

static int inactive_sched(XendBackend *h, Dom *d, HvSchedParams *ret, XvError *error) {
        int cfg, r;

        r = backend_xend(h, &cfg, error);
        if (r < 0)
                return r;
        if (cfg <= XEND_CONFIG_VERSION_3_0_3)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID,
                                     "Scheduler parameters of inactive domains need xend config version 3 or later");
        if (!d->sxp) {
                r = xend_domain_get(h->xend, d->name, &d->sxp, error);
                if (r < 0)
                        return r;
        }
        *ret = (HvSchedParams) { .weight = 256, .cap = 0 };
        (void) sexpr_domain_cpu_weight(d->sxp, &ret->weight);
        (void) sexpr_domain_cpu_cap(d->sxp, &ret->cap);
        return 0;
}

int xendbe_domain_get_sched_params(XvHypervisor *hv, const HvDomainRef *dom, HvSchedParams *ret,
                                   XvError *error) {
        XendBackend *h = xend_of(hv);
        _cleanup_(dom_done) Dom d = {};
        int r;

        r = backend_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        r = require_credit(h, error);
        if (r < 0)
                return r;
        if (d.id >= 0)
                return hcall_sched_credit_get(h->hc, d.id, &ret->weight, &ret->cap, error);
        return inactive_sched(h, &d, ret, error);
}

int xendbe_domain_set_sched_params(XvHypervisor *hv, const HvDomainRef *dom, const HvSchedParams *params,
                                   unsigned mask, XvError *error) {
        XendBackend *h = xend_of(hv);

        BACKEND_CHANGES_INACTIVE(h);
        _cleanup_(dom_done) Dom d = {};
        HvSchedParams cur;
        int r;

        if (mask & ~3u)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid parameter mask 0x%x", mask);
        if ((mask & 1) && (params->weight < 1 || params->weight > 65535))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Credit scheduler weight parameter (%u) is out of range (1-65535)",
                                     params->weight);
        if ((mask & 2) && params->cap > 65534)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Credit scheduler cap parameter (%u) is out of range (0-65534)",
                                     params->cap);
        r = backend_check_writable(h, error);
        if (r < 0)
                return r;
        r = backend_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        BACKEND_CHANGES_DOMAIN(d.name, &d.uuid);
        r = require_credit(h, error);
        if (r < 0)
                return r;
        if (d.id >= 0) {
                r = hcall_sched_credit_get(h->hc, d.id, &cur.weight, &cur.cap, error);
                if (r < 0)
                        return r;
        } else {
                r = inactive_sched(h, &d, &cur, error);
                if (r < 0)
                        return r;
        }
        if (mask & 1)
                cur.weight = params->weight;
        if (mask & 2)
                cur.cap = params->cap;
        if (d.id >= 0)
                return hcall_sched_credit_set(h->hc, d.id, cur.weight, cur.cap, error);
        return xend_domain_sched_credit_set(h->xend, d.name, cur.weight, cur.cap, error);
}

/* ---- migration ---------------------------------------------------------------------------------- */

/* "host", "host:port", "xenmigr://host[:port]" (other schemes are refused); "[v6addr]:port" too. */
static int parse_migrate_uri(const char *uri, char **ret_host, unsigned *ret_port, XvError *error) {
        _cleanup_free_ char *host = NULL;
        const char *p = uri, *portstr = NULL;
        unsigned port = 0;
        size_t l;

        if (isempty(uri) || strlen(uri) > 1024)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Missing migration URI");
        if (strstr(p, "://")) {
                if (strncmp(p, "xenmigr://", 10) != 0)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                             "Only xenmigr:// migrations are supported by XenD, not '%s'", uri);
                p += 10;
        }
        l = strcspn(p, "/");
        if (p[l] == '/' && p[l + 1] != 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid migration URI '%s'", uri);
        host = strndup(p, l);
        if (!host)
                return -ENOMEM;
        if (host[0] == '[') {
                char *close = strchr(host, ']');

                if (!close || (close[1] != 0 && close[1] != ':'))
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid host in migration URI '%s'", uri);
                if (close[1] == ':')
                        portstr = close + 2;
                *close = 0;
                memmove(host, host + 1, strlen(host));
        } else {
                char *colon = strchr(host, ':');

                /* A bare IPv6 address has several colons and no port. */
                if (colon && !strchr(colon + 1, ':')) {
                        *colon = 0;
                        portstr = colon + 1;
                }
        }
        if (portstr) {
                uint32_t v;

                if (safe_atou32(portstr, &v) < 0 || v == 0 || v > 65535)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid port in migration URI '%s'", uri);
                port = v;
        }
        if (isempty(host) || strpbrk(host, " \t\n&=?#@"))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid host in migration URI '%s'", uri);
        *ret_host = TAKE_PTR(host);
        *ret_port = port;
        return 0;
}

int xendbe_domain_migrate_perform(XvHypervisor *hv, const HvDomainRef *dom, const char *uri, unsigned flags,
                                  XvError *error) {
        XendBackend *h = xend_of(hv);

        BACKEND_CHANGES_INACTIVE(h);
        _cleanup_free_ char *host = NULL;
        _cleanup_(dom_done) Dom d = {};
        unsigned port = 0;
        int r;

        r = parse_migrate_uri(uri, &host, &port, error);
        if (r < 0)
                return r;
        r = resolve_for_xend(h, dom, &d, NULL, error);
        if (r < 0)
                return r;
        BACKEND_CHANGES_DOMAIN(d.name, &d.uuid);
        r = require_active_guest(&d, "migrate", error);
        if (r < 0)
                return r;
        backend_track(h, &d.uuid, TRACK_MIGRATED);
        r = xend_domain_migrate(h->xend, d.name, host, flags & MIGRATE_LIVE, port, error);
        if (r < 0)
                backend_track(h, &d.uuid, TRACK_NONE);
        backend_wake(h);
        return r;
}
