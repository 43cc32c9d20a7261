/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The libxl backend's domain operations. Each resolves the client's reference first (hypercalls
 * + xenstore for running domains, the XlStore for inactive ones), then acts through the one
 * channel designated for it: libxl (xv-libxl-ops.h) for the lifecycle and live changes of running
 * domains, the XlStore for definitions, hypercalls/xenstore/host files for monitoring.
 */

#include <assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-backend-libxl-internal.h"
#include "xv-domain-xml.h"
#include "xv-hoststats.h"
#include "xv-libxl-ops.h"
#include "xv-log.h"
#include "xv-time.h"

#define START_PAUSED            1u      /* VIR_DOMAIN_START_PAUSED */
#define UNDEFINE_MANAGED_SAVE   1u      /* VIR_DOMAIN_UNDEFINE_MANAGED_SAVE */
#define LX_PATH_MAX             4096

static int refuse_dom0(const LxDom *d, const char *what, XvError *error) {
        if (d->id == 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Cannot %s Domain-0", what);
        return 0;
}

static int require_active(const LxDom *d, XvError *error) {
        if (d->id < 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Domain '%s' is not running", d->name);
        return 0;
}

static int require_inactive(const LxDom *d, XvError *error) {
        if (d->id >= 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Domain '%s' is already running", d->name);
        return 0;
}

/* Resolves @ref for an operation that needs the domain running. */
static int resolve_active(LibxlBackend *h, const HvDomainRef *ref, LxDom *d, XvError *error) {
        int r;

        r = lx_resolve(h, ref, d, error);
        if (r < 0)
                return r;
        return require_active(d, error);
}

/* Resolves @ref for an operation that changes something through libxl. */
static int resolve_for_libxl(LibxlBackend *h, const HvDomainRef *ref, LxDom *d, XvError *error) {
        int r;

        r = lx_check_writable(h, error);
        if (r < 0)
                return r;
        r = lx_need_libxl(h, error);
        if (r < 0)
                return r;
        return lx_resolve(h, ref, d, error);
}

static int check_path(const char *path, XvError *error) {
        if (isempty(path) || path[0] != '/' || strlen(path) > LX_PATH_MAX || strchr(path, '\n'))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "'%s' is not an absolute path", strempty(path));
        return 0;
}

/* ---- definitions ------------------------------------------------------------------------------ */

/* A running domain nothing describes (created by a tool whose configuration libxl cannot give
 * back): what the hypervisor and xenstore know. */
static int minimal_def(LibxlBackend *h, const LxDom *d, DomainDef **ret) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_free_ char *ostype = NULL;
        int r;

        r = domain_def_new(&def);
        if (r < 0)
                return r;
        def->name = strdup(d->name);
        if (!def->name)
                return -ENOMEM;
        def->id = d->id;
        def->uuid = d->uuid;
        def->has_uuid = true;
        def->memory_kib = d->info.max_memory_kib ?: d->info.memory_kib;
        def->current_memory_kib = d->info.memory_kib;
        def->vcpus = d->info.max_vcpu_id + 1;
        def->vcpus_current = d->info.online_vcpus;
        def->os_type = d->info.hvm ? DOMAIN_OS_HVM : DOMAIN_OS_LINUX;
        *ret = TAKE_PTR(def);
        return 0;
}

/* The definition of @d as dumpxml shows it. *ret_cacheable (may be NULL) tells whether it came
 * from libxl or the hypervisor (what dumpxml's cache may keep), not from the XlStore. */
static int dom_get_def_as(LibxlBackend *h, LxDom *d, bool inactive, DomainDef **ret, bool *ret_cacheable,
                          XvError *error) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        int r;

        if (ret_cacheable)
                *ret_cacheable = false;

        if (d->id < 0 || (inactive && d->persistent && d->id != 0)) {
                r = lx_dom_stored_def(h, d, error);
                if (r < 0)
                        return r;
                r = domain_def_copy(d->def, ret);
                if (r < 0)
                        return r;
                (*ret)->id = inactive ? -1 : d->id;
                return 0;
        }
        /* Running: libxl's record of its configuration (any libxl user's, `xl` included). */
        if (h->ctx && d->id > 0) {
                r = lxops_get_def(h->ctx, (uint32_t) d->id, d->name, ret, &e);
                if (r >= 0) {
                        (*ret)->id = inactive ? -1 : d->id;
                        if (ret_cacheable)
                                *ret_cacheable = true;
                        return 0;
                }
                if (r == -ENOMEM)
                        return r;
                log_debug("libxl has no configuration of domain '%s' (%s), using what else is known", d->name,
                          strempty(e.message));
        }
        if (d->persistent && d->id != 0 && lx_dom_stored_def(h, d, NULL) >= 0) {
                r = domain_def_copy(d->def, ret);
                if (r < 0)
                        return r;
                (*ret)->id = inactive ? -1 : d->id;
                return 0;
        }
        r = minimal_def(h, d, ret);
        if (r < 0)
                return r;
        if (inactive)
                (*ret)->id = -1;
        if (ret_cacheable)
                *ret_cacheable = true;
        return 0;
}

static int dom_get_def(LibxlBackend *h, LxDom *d, bool inactive, DomainDef **ret, XvError *error) {
        return dom_get_def_as(h, d, inactive, ret, NULL, error);
}

int lx_domain_get_def(XvHypervisor *hv, const HvDomainRef *dom, unsigned flags, DomainDef **ret, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        int r;

        r = hv_xml_flags(flags, NULL, error);
        if (r < 0)
                return r;
        r = lx_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        return dom_get_def(h, &d, flags & HV_XML_INACTIVE, ret, error);
}

/* The variant of a text is its HV_XML_* flags. */
_Static_assert((HV_XML_SECURE | HV_XML_INACTIVE) < XML_CACHE_VARIANTS, "a variant per flags combination");

/* dumpxml's text. For a running domain, libxl's stored configuration costs a dozen hypercalls and
 * as many xenstore reads: the formatted text is kept per incarnation (h->xml_cache), dropped by
 * every change made through the backend (lx_changed()) and by xenstore writes below the domain's
 * nodes (the events file), and reused for at most LX_XML_RUNNING_MAX_AGE_USEC. The generation and
 * the stamp are taken before anything is read, so that a change whose drop comes in meanwhile
 * is not cached (see xv-xml-cache.h). */
int lx_domain_get_xml(XvHypervisor *hv, const HvDomainRef *dom, unsigned flags, char **ret, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_(lx_dom_done) LxDom d = {};
        _cleanup_free_ char *xml = NULL;
        DomainXmlFlags xml_flags;
        bool cacheable = false;
        uint64_t gen, stamp;
        int r;

        r = hv_xml_flags(flags, &xml_flags, error);
        if (r < 0)
                return r;
        gen = xml_cache_gen(h->xml_cache);
        stamp = monotonic_usec();
        r = lx_resolve_light(h, dom, &d, error);
        if (r < 0)
                return r;
        if (d.id >= 0) {
                r = xml_cache_get_xml(h->xml_cache, &d.uuid, d.id, flags, stamp, &xml);
                if (r < 0)
                        return r;
                if (r > 0) {
                        *ret = TAKE_PTR(xml);
                        return 0;
                }
        }
        r = dom_get_def_as(h, &d, flags & HV_XML_INACTIVE, &def, &cacheable, error);
        if (r < 0)
                return r;
        r = domain_def_format_xml(def, xml_flags, &xml, error);
        if (r < 0)
                return r;
        if (cacheable && d.id >= 0)
                xml_cache_put_xml(h->xml_cache, gen, &d.uuid, d.name, d.id, stamp, flags, xml);
        *ret = TAKE_PTR(xml);
        return 0;
}

int lx_domain_get_os_type(XvHypervisor *hv, const HvDomainRef *dom, char **ret, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        bool hvm;
        char *s;
        int r;

        r = lx_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        if (d.id >= 0)
                hvm = d.info.hvm;
        else {
                r = lx_dom_stored_def(h, &d, error);
                if (r < 0)
                        return r;
                hvm = domain_def_is_hvm(d.def);
        }
        s = strdup(hvm ? "hvm" : "linux");
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* A copy of @def with a UUID (a new one when it has none). */
static int def_with_uuid(const DomainDef *def, DomainDef **ret) {
        _cleanup_(domain_def_freep) DomainDef *c = NULL;
        int r;

        r = domain_def_copy(def, &c);
        if (r < 0)
                return r;
        if (!c->has_uuid || uuid_is_zero(&c->uuid)) {
                r = uuid_new_random(&c->uuid);
                if (r < 0)
                        return r;
                c->has_uuid = true;
        }
        c->id = -1;
        *ret = TAKE_PTR(c);
        return 0;
}

/* The running domain (if any) named like @def under another UUID: a definition must not shadow it. */
static int check_running_clash(LibxlBackend *h, const DomainDef *def, HcallDomainInfo *ret_info, XvError *error) {
        HvDomainRef ref = { .name = def->name, .id = -1 };
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_(lx_dom_done) LxDom d = {};
        char u[UUID_STRING_BUF];
        int r;

        r = lx_resolve(h, &ref, &d, &e);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                xv_error_move(error, &e);
                return r;
        }
        if (d.id < 0)
                return 0;
        if (def->has_uuid && !uuid_equal(&d.uuid, &def->uuid))
                return xv_error_setf(error, XVP_ERR_OPERATION_FAILED, "domain '%s' already exists with uuid %s",
                                     d.name, uuid_format(&d.uuid, u));
        if (ret_info)
                *ret_info = d.info;
        return 1;
}

int lx_domain_define(XvHypervisor *hv, const DomainDef *def, HvDomainRef *ret_ref, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(domain_def_freep) DomainDef *c = NULL;
        HcallDomainInfo running = { .domid = -1 };
        int r, added;

        assert(def);
        r = lx_check_writable(h, error);
        if (r < 0)
                return r;
        r = domain_def_validate(def, error);
        if (r < 0)
                return r;
        r = xl_store_check_name(def->name, error);
        if (r < 0)
                return r;
        r = check_running_clash(h, def, &running, error);
        if (r < 0)
                return r;
        r = def_with_uuid(def, &c);
        if (r < 0)
                return r;
        if (!def->has_uuid) {
                /* Redefining without a UUID keeps the one the name already has. */
                XvUuid u;

                if (running.domid >= 0)
                        c->uuid = running.uuid;
                else if (xl_store_lookup_name(h->store, def->name, &u, NULL) > 0)
                        c->uuid = u;
        }
        added = xl_store_save(h->store, c, error);
        if (added < 0)
                return added;
        lx_changed(h, c->name, &c->uuid);
        lx_queue_event(h, c->name, &c->uuid, -1, XVP_DOMAIN_EVENT_DEFINED,
                       added ? XVP_DOMAIN_EVENT_DEFINED_ADDED : XVP_DOMAIN_EVENT_DEFINED_UPDATED);
        if (ret_ref) {
                HcallDomainInfo info;

                ret_ref->name = strdup(c->name);
                if (!ret_ref->name)
                        return -ENOMEM;
                ret_ref->uuid = c->uuid;
                ret_ref->id = lx_running_by_uuid(h, &c->uuid, &info, NULL) >= 0 ? info.domid : -1;
        }
        return 0;
}

int lx_domain_undefine(XvHypervisor *hv, const HvDomainRef *dom, unsigned flags, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        int r;

        if (flags & ~UNDEFINE_MANAGED_SAVE)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        r = lx_check_writable(h, error);
        if (r < 0)
                return r;
        r = lx_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        r = refuse_dom0(&d, "undefine", error);
        if (r < 0)
                return r;
        if (!d.persistent)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Cannot undefine transient domain '%s'", d.name);
        if (lx_has_managed_save(h, d.name)) {
                _cleanup_free_ char *p = NULL;

                if (!(flags & UNDEFINE_MANAGED_SAVE))
                        return xv_error_setf(error, XVP_ERR_OPERATION_INVALID,
                                             "Refusing to undefine while domain managed save image exists");
                r = lx_managed_save_path(h, d.name, &p);
                if (r < 0)
                        return r;
                if (unlink(p) < 0 && errno != ENOENT)
                        return xv_error_set_errnof(error, -errno, "Cannot remove the managed save image '%s'", p);
        }
        {
                /* The store names the file after the stored name, which may differ from xenstore's
                 * name of a running domain renamed by another tool. */
                _cleanup_free_ char *stored = NULL;

                r = xl_store_lookup_uuid(h->store, &d.uuid, &stored, error);
                if (r < 0)
                        return r;
                if (r == 0)
                        return xv_error_setf(error, XVP_ERR_NO_DOMAIN, "Domain '%s' is not defined", d.name);
                r = xl_store_remove(h->store, stored, error);
                lx_changed(h, d.name, &d.uuid);
                if (r < 0)
                        return r;
        }
        lx_queue_event(h, d.name, &d.uuid, d.id, XVP_DOMAIN_EVENT_UNDEFINED, XVP_DOMAIN_EVENT_UNDEFINED_REMOVED);
        return 0;
}

/* ---- starting --------------------------------------------------------------------------------- */

int lx_start_def(LibxlBackend *h, const DomainDef *def, bool paused, int *ret_id, XvError *error) {
        uint32_t domid = 0;
        int r;

        assert(def->has_uuid);
        r = lx_need_libxl(h, error);
        if (r < 0)
                return r;
        /* Recorded first: the watch may see the new domain before libxl returns. */
        lx_track(h, &def->uuid, LX_STARTING);
        r = lxops_create(h->ctx, def, paused, &domid, error);
        lx_cache_invalidate(h);
        lx_changed(h, def->name, &def->uuid);
        if (r < 0) {
                lx_track(h, &def->uuid, LX_NONE);
                lx_wake(h);
                return r;
        }
        lx_track(h, &def->uuid, LX_BOOTED);
        lx_own(h, domid, def);
        lx_wake(h);
        if (ret_id)
                *ret_id = (int) domid;
        return 0;
}

static int fill_ret_ref(const char *name, const XvUuid *uuid, int id, HvDomainRef *ret_ref) {
        if (!ret_ref)
                return 0;
        ret_ref->name = strdup(name);
        if (!ret_ref->name)
                return -ENOMEM;
        ret_ref->uuid = *uuid;
        ret_ref->id = id;
        return 0;
}

int lx_domain_create_xml(XvHypervisor *hv, const DomainDef *def, unsigned flags, HvDomainRef *ret_ref,
                         XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(domain_def_freep) DomainDef *c = NULL;
        XvUuid stored;
        int id, r;

        if (flags & ~START_PAUSED)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        r = lx_check_writable(h, error);
        if (r < 0)
                return r;
        r = lx_need_libxl(h, error);
        if (r < 0)
                return r;
        r = domain_def_validate(def, error);
        if (r < 0)
                return r;
        r = check_running_clash(h, def, NULL, error);
        if (r < 0)
                return r;
        if (r > 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Domain '%s' is already running", def->name);
        r = def_with_uuid(def, &c);
        if (r < 0)
                return r;
        /* A definition of that name: the new domain takes its UUID (or must carry the same). */
        if (xl_store_lookup_name(h->store, def->name, &stored, NULL) > 0) {
                char u[UUID_STRING_BUF];

                if (def->has_uuid && !uuid_equal(&stored, &def->uuid))
                        return xv_error_setf(error, XVP_ERR_OPERATION_FAILED, "domain '%s' already exists with uuid %s",
                                             def->name, uuid_format(&stored, u));
                c->uuid = stored;
        }
        r = lx_start_def(h, c, flags & START_PAUSED, &id, error);
        if (r < 0)
                return r;
        return fill_ret_ref(c->name, &c->uuid, id, ret_ref);
}

/* Restores @path (a file lxops_save_file() wrote) and watches the new domain. */
static int restore_file(LibxlBackend *h, const char *path, bool paused, const XvUuid *expect, DomainDef **ret_def,
                        int *ret_id, XvError *error) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL, *restored = NULL;
        uint32_t domid = 0;
        int r;

        r = lxops_save_file_read_def(path, &def, error);
        if (r < 0)
                return r;
        if (expect && !uuid_equal(&def->uuid, expect))
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "The save image '%s' is of another domain ('%s')",
                                     path, def->name);
        {
                HcallDomainInfo info;

                if (lx_running_by_uuid(h, &def->uuid, &info, NULL) >= 0)
                        return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Domain '%s' is already running",
                                             def->name);
        }
        lx_track(h, &def->uuid, LX_RESTORING);
        r = lxops_restore_file(h->ctx, path, paused, &domid, &restored, error);
        lx_cache_invalidate(h);
        lx_changed(h, def->name, &def->uuid);
        if (r < 0) {
                lx_track(h, &def->uuid, LX_NONE);
                lx_wake(h);
                return r;
        }
        lx_track(h, &def->uuid, LX_RESTORED);
        lx_own(h, domid, restored ?: def);
        lx_wake(h);
        if (ret_id)
                *ret_id = (int) domid;
        if (ret_def)
                *ret_def = restored ? TAKE_PTR(restored) : TAKE_PTR(def);
        return 0;
}

int lx_domain_create(XvHypervisor *hv, const HvDomainRef *dom, unsigned flags, HvDomainRef *ret_ref, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        int id = -1, r;

        if (flags & ~START_PAUSED)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        r = resolve_for_libxl(h, dom, &d, error);
        if (r < 0)
                return r;
        r = require_inactive(&d, error);
        if (r < 0)
                return r;

        if (lx_has_managed_save(h, d.name)) {
                _cleanup_free_ char *image = NULL;

                r = lx_managed_save_path(h, d.name, &image);
                if (r < 0)
                        return r;
                r = restore_file(h, image, flags & START_PAUSED, &d.uuid, NULL, &id, error);
                if (r < 0)
                        return r;
                /* The image is consumed: starting it twice would fork the guest's disks. */
                if (unlink(image) < 0)
                        log_debug_errno(-errno, "Cannot remove the managed save image '%s', ignoring: %m", image);
        } else {
                r = lx_dom_stored_def(h, &d, error);
                if (r < 0)
                        return r;
                d.def->uuid = d.uuid;
                d.def->has_uuid = true;
                r = lx_start_def(h, d.def, flags & START_PAUSED, &id, error);
                if (r < 0)
                        return r;
        }
        return fill_ret_ref(d.name, &d.uuid, id, ret_ref);
}

/* ---- simple lifecycle operations ------------------------------------------------------------- */

typedef enum SimpleOp {
        OP_PAUSE,
        OP_UNPAUSE,
        OP_SHUTDOWN,
        OP_REBOOT,
        OP_DESTROY,
} SimpleOp;

static int simple_op(LibxlBackend *h, const HvDomainRef *dom, SimpleOp op, XvError *error) {
        static const char *const verbs[] = {
                [OP_PAUSE] = "suspend", [OP_UNPAUSE] = "resume", [OP_SHUTDOWN] = "shut down",
                [OP_REBOOT] = "reboot", [OP_DESTROY] = "destroy",
        };
        _cleanup_(lx_dom_done) LxDom d = {};
        uint32_t domid;
        LxAction before;
        int r;

        r = resolve_for_libxl(h, dom, &d, error);
        if (r < 0)
                return r;
        r = refuse_dom0(&d, verbs[op], error);
        if (r < 0)
                return r;
        r = require_active(&d, error);
        if (r < 0)
                return r;
        domid = (uint32_t) d.id;
        before = lx_track_get(h, &d.uuid);

        switch (op) {
        case OP_PAUSE:
                r = lxops_pause(h->ctx, domid, d.name, error);
                if (r >= 0)
                        lx_track(h, &d.uuid, LX_PAUSED);
                break;
        case OP_UNPAUSE:
                r = lxops_unpause(h->ctx, domid, d.name, error);
                if (r >= 0)
                        lx_track(h, &d.uuid, LX_UNPAUSED);
                break;
        case OP_SHUTDOWN:
                /* Recorded first: the guest may be gone before libxl returns. */
                lx_track(h, &d.uuid, LX_SHUTDOWN);
                r = lxops_shutdown(h->ctx, domid, d.name, /* acpi_fallback= */ true, error);
                if (r < 0)
                        lx_track(h, &d.uuid, before);
                break;
        case OP_REBOOT:
                r = lxops_reboot(h->ctx, domid, d.name, /* acpi_fallback= */ true, error);
                break;
        case OP_DESTROY:
                /* Not a guest shutdown: the death watch must not restart it. */
                lx_disown(h, domid);
                lx_track(h, &d.uuid, LX_DESTROYED);
                r = lxops_destroy(h->ctx, domid, d.name, error);
                if (r < 0)
                        lx_track(h, &d.uuid, before);
                lx_cache_invalidate(h);
                break;
        }
        lx_changed(h, d.name, &d.uuid);
        lx_wake(h);
        return r;
}

int lx_domain_suspend(XvHypervisor *hv, const HvDomainRef *dom, XvError *error) {
        return simple_op(lx_of(hv), dom, OP_PAUSE, error);
}

int lx_domain_resume(XvHypervisor *hv, const HvDomainRef *dom, XvError *error) {
        return simple_op(lx_of(hv), dom, OP_UNPAUSE, error);
}

int lx_domain_shutdown(XvHypervisor *hv, const HvDomainRef *dom, unsigned flags, XvError *error) {
        if (flags != 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        return simple_op(lx_of(hv), dom, OP_SHUTDOWN, error);
}

int lx_domain_reboot(XvHypervisor *hv, const HvDomainRef *dom, unsigned flags, XvError *error) {
        if (flags != 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        return simple_op(lx_of(hv), dom, OP_REBOOT, error);
}

int lx_domain_destroy(XvHypervisor *hv, const HvDomainRef *dom, unsigned flags, XvError *error) {
        if (flags != 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        return simple_op(lx_of(hv), dom, OP_DESTROY, error);
}

/* ---- save / restore / dump ------------------------------------------------------------------ */

static int save_to(LibxlBackend *h, LxDom *d, const char *path, XvError *error) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        LxAction before;
        int r;

        r = refuse_dom0(d, "save", error);
        if (r < 0)
                return r;
        r = require_active(d, error);
        if (r < 0)
                return r;
        r = dom_get_def(h, d, /* inactive= */ false, &def, error);
        if (r < 0)
                return r;
        def->uuid = d->uuid;
        def->has_uuid = true;
        before = lx_track_get(h, &d->uuid);
        lx_track(h, &d->uuid, LX_SAVED);
        lx_disown(h, (uint32_t) d->id);
        r = lxops_save_file(h->ctx, (uint32_t) d->id, def, path, error);
        lx_cache_invalidate(h);
        lx_changed(h, d->name, &d->uuid);
        if (r < 0) {
                /* Still running: watch it again. */
                lx_track(h, &d->uuid, before);
                lx_own(h, (uint32_t) d->id, def);
        }
        lx_wake(h);
        return r;
}

int lx_domain_save(XvHypervisor *hv, const HvDomainRef *dom, const char *path, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        int r;

        r = check_path(path, error);
        if (r < 0)
                return r;
        r = resolve_for_libxl(h, dom, &d, error);
        if (r < 0)
                return r;
        return save_to(h, &d, path, error);
}

int lx_domain_restore(XvHypervisor *hv, const char *path, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        int r;

        r = check_path(path, error);
        if (r < 0)
                return r;
        r = lx_check_writable(h, error);
        if (r < 0)
                return r;
        r = lx_need_libxl(h, error);
        if (r < 0)
                return r;
        return restore_file(h, path, /* paused= */ false, NULL, NULL, NULL, error);
}

int lx_domain_managed_save(XvHypervisor *hv, const HvDomainRef *dom, unsigned flags, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        _cleanup_free_ char *path = NULL;
        int r;

        if (flags != 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        r = resolve_for_libxl(h, dom, &d, error);
        if (r < 0)
                return r;
        if (!d.persistent)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Cannot do managed save for transient domain '%s'",
                                     d.name);
        r = lx_managed_save_path(h, d.name, &path);
        if (r < 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Domain name '%s' cannot name a save image", d.name);
        if (mkdir(h->save_dir, 0700) < 0 && errno != EEXIST)
                return xv_error_set_errnof(error, -errno, "Cannot create the managed save directory '%s'", h->save_dir);
        return save_to(h, &d, path, error);
}

int lx_domain_has_managed_save(XvHypervisor *hv, const HvDomainRef *dom, bool *ret, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        int r;

        r = lx_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        *ret = lx_has_managed_save(h, d.name);
        return 0;
}

int lx_domain_managed_save_remove(XvHypervisor *hv, const HvDomainRef *dom, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        _cleanup_free_ char *p = NULL;
        int r;

        r = lx_check_writable(h, error);
        if (r < 0)
                return r;
        r = lx_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        r = lx_managed_save_path(h, d.name, &p);
        if (r < 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Domain name '%s' cannot name a save image", d.name);
        if (unlink(p) < 0 && errno != ENOENT)
                return xv_error_set_errnof(error, -errno, "Cannot remove the managed save image '%s'", p);
        return 0;
}

int lx_domain_core_dump(XvHypervisor *hv, const HvDomainRef *dom, const char *path, unsigned flags,
                        XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        int r;

        if (flags & ~(HV_DUMP_CRASH | HV_DUMP_LIVE))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        r = check_path(path, error);
        if (r < 0)
                return r;
        r = resolve_for_libxl(h, dom, &d, error);
        if (r < 0)
                return r;
        r = refuse_dom0(&d, "dump", error);
        if (r < 0)
                return r;
        r = require_active(&d, error);
        if (r < 0)
                return r;
        if (flags & HV_DUMP_CRASH) {
                lx_disown(h, (uint32_t) d.id);
                lx_track(h, &d.uuid, LX_CRASHED);
        }
        r = lxops_core_dump(h->ctx, (uint32_t) d.id, d.name, path, flags & HV_DUMP_LIVE, flags & HV_DUMP_CRASH, error);
        lx_changed(h, d.name, &d.uuid);
        lx_wake(h);
        return r;
}

/* ---- memory and vcpus ------------------------------------------------------------------------ */

/* Which of live / config an operation affects: CURRENT means live for a running domain. */
static int affect(const LxDom *d, unsigned flags, bool *ret_live, bool *ret_config, XvError *error) {
        bool live = flags & HV_AFFECT_LIVE, config = flags & HV_AFFECT_CONFIG;

        if (!live && !config) {
                live = d->id >= 0;
                config = d->id < 0;
        }
        if (live && d->id < 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Domain '%s' is not running", d->name);
        if (config && !d->persistent)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID,
                                     "Cannot change the persistent configuration of transient domain '%s'", d->name);
        if (config && d->id == 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Domain-0 has no persistent configuration");
        *ret_live = live;
        *ret_config = config;
        return 0;
}

/* Rewrites a stored definition after @edit changed it; DEFINED/UPDATED is reported. */
static int store_rewrite(LibxlBackend *h, LxDom *d, int (*edit)(DomainDef *def, const void *arg, XvError *error),
                         const void *arg, XvError *error) {
        int r;

        r = lx_dom_stored_def(h, d, error);
        if (r < 0)
                return r;
        r = edit(d->def, arg, error);
        if (r < 0)
                return r;
        r = domain_def_validate(d->def, error);
        if (r < 0)
                return r;
        r = xl_store_save(h->store, d->def, error);
        if (r < 0)
                return r;
        lx_changed(h, d->name, &d->uuid);
        lx_queue_event(h, d->name, &d->uuid, d->id, XVP_DOMAIN_EVENT_DEFINED, XVP_DOMAIN_EVENT_DEFINED_UPDATED);
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

int lx_domain_set_memory(XvHypervisor *hv, const HvDomainRef *dom, uint64_t kib, unsigned flags, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        bool live, config, max = flags & HV_MEM_MAXIMUM;
        int r;

        if (flags & ~(HV_AFFECT_LIVE | HV_AFFECT_CONFIG | HV_MEM_MAXIMUM))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        if (kib == 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Memory must be greater than zero");
        r = lx_check_writable(h, error);
        if (r < 0)
                return r;
        r = lx_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        r = affect(&d, flags, &live, &config, error);
        if (r < 0)
                return r;
        if (live) {
                r = lx_need_libxl(h, error);
                if (r < 0)
                        return r;
                if (!max && d.info.max_memory_kib > 0 && kib > d.info.max_memory_kib)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Cannot set memory higher than the maximum memory");
                r = max ? lxops_set_max_memory(h->ctx, (uint32_t) d.id, d.name, kib, error)
                        : lxops_set_memory(h->ctx, (uint32_t) d.id, d.name, kib, error);
                /* Also on failure: libxl may have changed part of it. */
                lx_changed(h, d.name, &d.uuid);
                if (r < 0)
                        return r;
        }
        if (config)
                return store_rewrite(h, &d, max ? edit_max_memory : edit_memory, &kib, error);
        return 0;
}

static int edit_vcpus(DomainDef *def, const void *arg, XvError *error) {
        unsigned n = *(const unsigned *) arg;

        if (n > def->vcpus)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Requested vcpus %u is greater than the maximum of %u",
                                     n, def->vcpus);
        def->vcpus_current = n == def->vcpus ? 0 : n;
        return 0;
}

static int edit_max_vcpus(DomainDef *def, const void *arg, XvError *error) {
        unsigned n = *(const unsigned *) arg;

        if (def->vcpus_current > n || (def->vcpus_current == 0 && def->vcpus > n))
                def->vcpus_current = n;
        def->vcpus = n;
        if (def->vcpus_current == def->vcpus)
                def->vcpus_current = 0;
        return 0;
}

int lx_domain_set_vcpus(XvHypervisor *hv, const HvDomainRef *dom, unsigned n, unsigned flags, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        bool live, config, max = flags & HV_VCPU_MAXIMUM;
        int r;

        if (flags & ~(HV_AFFECT_LIVE | HV_AFFECT_CONFIG | HV_VCPU_MAXIMUM))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        if (n == 0 || n > LX_MAX_VCPUS)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid number of vcpus %u (1..%u)", n, LX_MAX_VCPUS);
        r = lx_check_writable(h, error);
        if (r < 0)
                return r;
        r = lx_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        r = affect(&d, flags, &live, &config, error);
        if (r < 0)
                return r;
        if (live) {
                unsigned maxv = d.info.max_vcpu_id + 1;

                if (max)
                        return xv_error_setf(error, XVP_ERR_OPERATION_INVALID,
                                             "Cannot change the maximum vcpus of running domain '%s'", d.name);
                if (n > maxv)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                             "Requested vcpus %u is greater than the maximum of %u", n, maxv);
                r = lx_need_libxl(h, error);
                if (r < 0)
                        return r;
                r = lxops_set_vcpus(h->ctx, (uint32_t) d.id, d.name, n, maxv, error);
                lx_changed(h, d.name, &d.uuid);
                if (r < 0)
                        return r;
        }
        if (config)
                return store_rewrite(h, &d, max ? edit_max_vcpus : edit_vcpus, &n, error);
        return 0;
}

int lx_domain_get_vcpus_flags(XvHypervisor *hv, const HvDomainRef *dom, unsigned flags, int *ret, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        bool live = flags & HV_AFFECT_LIVE;
        int r;

        if (flags & ~(HV_AFFECT_LIVE | HV_AFFECT_CONFIG | HV_VCPU_MAXIMUM))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        if ((flags & HV_AFFECT_LIVE) && (flags & HV_AFFECT_CONFIG))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Flags live and config are mutually exclusive");
        r = lx_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        if (!(flags & (HV_AFFECT_LIVE | HV_AFFECT_CONFIG)))
                live = d.id >= 0;
        if (live && d.id < 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Domain '%s' is not running", d.name);
        if (live) {
                *ret = (int) ((flags & HV_VCPU_MAXIMUM) ? d.info.max_vcpu_id + 1 : d.info.online_vcpus);
                return 0;
        }
        {
                _cleanup_(domain_def_freep) DomainDef *def = NULL;

                r = dom_get_def(h, &d, /* inactive= */ true, &def, error);
                if (r < 0)
                        return r;
                *ret = (int) ((flags & HV_VCPU_MAXIMUM) ? def->vcpus : domain_def_current_vcpus(def));
        }
        return 0;
}

int lx_domain_get_vcpus(XvHypervisor *hv, const HvDomainRef *dom, int max_info, int maplen, HvVcpuInfo **ret_info,
                        size_t *ret_n, uint8_t **ret_maps, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        int r;

        if (max_info <= 0 || max_info > HCALL_VCPUS_MAX || maplen < 0 || maplen > LX_MAPLEN_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid vcpu info request (%d, %d)", max_info, maplen);
        r = resolve_active(h, dom, &d, error);
        if (r < 0)
                return r;
        return xvb_vcpus_live(h->hc, d.id, d.info.max_vcpu_id, max_info, maplen, ret_info, ret_n, ret_maps, error);
}

int lx_domain_pin_vcpu(XvHypervisor *hv, const HvDomainRef *dom, unsigned vcpu, const uint8_t *map, size_t maplen,
                       unsigned flags, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        bool live, config;
        int r;

        if (flags & ~(HV_AFFECT_LIVE | HV_AFFECT_CONFIG))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        if (!map || maplen == 0 || maplen > LX_MAPLEN_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid cpu map");
        r = lx_check_writable(h, error);
        if (r < 0)
                return r;
        r = lx_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        r = affect(&d, flags, &live, &config, error);
        if (r < 0)
                return r;
        if (config)
                return xv_error_setf(error, XVP_ERR_NO_SUPPORT,
                                     "Per-vcpu pinning cannot be stored in an xl configuration; pin the running domain");
        if (vcpu > d.info.max_vcpu_id)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "vcpu %u does not exist", vcpu);
        r = lx_need_libxl(h, error);
        if (r < 0)
                return r;
        r = lxops_pin_vcpu(h->ctx, (uint32_t) d.id, d.name, vcpu, map, maplen, error);
        lx_changed(h, d.name, &d.uuid);
        return r;
}

int lx_domain_get_vcpu_pin_info(XvHypervisor *hv, const HvDomainRef *dom, int ncpumaps, int maplen, unsigned flags,
                                uint8_t **ret_maps, int *ret_n, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_free_ uint8_t *maps = NULL;
        _cleanup_(lx_dom_done) LxDom d = {};
        bool live = flags & HV_AFFECT_LIVE;
        size_t n;
        int r;

        if (flags & ~(HV_AFFECT_LIVE | HV_AFFECT_CONFIG))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        if (ncpumaps <= 0 || ncpumaps > HCALL_VCPUS_MAX || maplen <= 0 || maplen > LX_MAPLEN_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid pin info request (%d, %d)", ncpumaps, maplen);
        r = lx_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        if (!(flags & (HV_AFFECT_LIVE | HV_AFFECT_CONFIG)))
                live = d.id >= 0;
        if (live && d.id < 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Domain '%s' is not running", d.name);
        if (live) {
                r = xvb_vcpu_affinities(h->hc, d.id, d.info.max_vcpu_id, ncpumaps, maplen, &maps, &n, error);
                if (r < 0)
                        return r;
        } else {
                _cleanup_(domain_def_freep) DomainDef *def = NULL;

                /* An xl config pins all vcpus alike (cpus=); without it every CPU is allowed. */
                r = dom_get_def(h, &d, /* inactive= */ true, &def, error);
                if (r < 0)
                        return r;
                n = MIN((size_t) ncpumaps, (size_t) def->vcpus);
                maps = new(uint8_t, n * (size_t) maplen + 1);
                if (!maps)
                        return -ENOMEM;
                memset(maps, 0xff, n * (size_t) maplen);
        }
        *ret_maps = TAKE_PTR(maps);
        *ret_n = (int) n;
        return 0;
}

/* ---- autostart -------------------------------------------------------------------------------- */

static int stored_name(LibxlBackend *h, const LxDom *d, char **ret, XvError *error) {
        int r;

        if (!d->persistent || d->id == 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Cannot set autostart for transient domain '%s'",
                                     d->name);
        r = xl_store_lookup_uuid(h->store, &d->uuid, ret, error);
        if (r < 0)
                return r;
        if (r == 0)
                return xv_error_setf(error, XVP_ERR_NO_DOMAIN, "Domain '%s' is not defined", d->name);
        return 0;
}

int lx_domain_get_autostart(XvHypervisor *hv, const HvDomainRef *dom, bool *ret, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        _cleanup_free_ char *name = NULL;
        int r;

        r = lx_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        if (!d.persistent || d.id == 0) {
                *ret = false;
                return 0;
        }
        r = stored_name(h, &d, &name, error);
        if (r < 0)
                return r;
        r = xl_store_get_autostart(h->store, name, error);
        if (r < 0)
                return r;
        *ret = r > 0;
        return 0;
}

int lx_domain_set_autostart(XvHypervisor *hv, const HvDomainRef *dom, bool autostart, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        _cleanup_free_ char *name = NULL;
        int r;

        r = lx_check_writable(h, error);
        if (r < 0)
                return r;
        r = lx_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        r = stored_name(h, &d, &name, error);
        if (r < 0)
                return r;
        return xl_store_set_autostart(h->store, name, autostart, error);
}

/* ---- devices ------------------------------------------------------------------------------- */

typedef enum DeviceOp {
        DEVICE_ATTACH,
        DEVICE_DETACH,
} DeviceOp;

/* Parses one device element by wrapping it in a minimal domain. Exactly one disk or interface. */
static int parse_device(const char *xml, DomainDef **ret, XvError *error) {
        _cleanup_free_ char *doc = NULL;
        DomainDef *def = NULL;
        size_t n;
        int r;

        if (!xml || strlen(xml) > LX_DEVICE_XML_MAX)
                return xv_error_setf(error, XVP_ERR_XML, "Device XML missing or larger than %u bytes", LX_DEVICE_XML_MAX);
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
        if (n != 1 || (def->n_disks + def->n_nets) != 1) {
                domain_def_free(def);
                return xv_error_setf(error, XVP_ERR_OPERATION_UNSUPPORTED,
                                     "Only one disk or interface can be attached or detached");
        }
        *ret = def;
        return 0;
}

typedef struct DeviceEdit {
        DeviceOp op;
        DomainDef *dev;
} DeviceEdit;

static int edit_device(DomainDef *def, const void *arg, XvError *error) {
        const DeviceEdit *a = arg;
        DomainDef *dev = a->dev;
        int r;

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
                        return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "No disk with target '%s'", strempty(nd->dst));
                domain_disk_done(&def->disks[i]);
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
                if (!nn->has_mac && def->n_nets == 1)
                        i = 0;
                if (i >= def->n_nets)
                        return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "No matching interface");
                domain_net_done(&def->nets[i]);
                memmove(&def->nets[i], &def->nets[i + 1], (def->n_nets - i - 1) * sizeof(DomainNet));
                def->n_nets--;
                return 0;
        }
}

static int device_op(LibxlBackend *h, const HvDomainRef *dom, const char *xml, unsigned flags, DeviceOp op,
                     XvError *error) {
        _cleanup_(domain_def_freep) DomainDef *dev = NULL;
        _cleanup_(lx_dom_done) LxDom d = {};
        bool live, config, hvm;
        int r;

        if (flags & ~(HV_AFFECT_LIVE | HV_AFFECT_CONFIG))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        r = parse_device(xml, &dev, error);
        if (r < 0)
                return r;
        r = lx_check_writable(h, error);
        if (r < 0)
                return r;
        r = lx_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        r = affect(&d, flags, &live, &config, error);
        if (r < 0)
                return r;
        if (live) {
                uint32_t domid = (uint32_t) d.id;

                r = refuse_dom0(&d, op == DEVICE_ATTACH ? "attach a device to" : "detach a device from", error);
                if (r < 0)
                        return r;
                r = lx_need_libxl(h, error);
                if (r < 0)
                        return r;
                hvm = d.info.hvm;
                if (dev->n_disks)
                        r = op == DEVICE_ATTACH ? lxops_disk_add(h->ctx, domid, d.name, &dev->disks[0], hvm, error)
                                                : lxops_disk_remove(h->ctx, domid, d.name, &dev->disks[0], hvm, error);
                else
                        r = op == DEVICE_ATTACH ? lxops_nic_add(h->ctx, domid, d.name, &dev->nets[0], hvm, error)
                                                : lxops_nic_remove(h->ctx, domid, d.name, &dev->nets[0], hvm, error);
                lx_changed(h, d.name, &d.uuid);
                if (r < 0)
                        return r;
        }
        if (config) {
                DeviceEdit a = { .op = op, .dev = dev };

                return store_rewrite(h, &d, edit_device, &a, error);
        }
        return 0;
}

int lx_domain_attach_device(XvHypervisor *hv, const HvDomainRef *dom, const char *xml, unsigned flags, XvError *error) {
        return device_op(lx_of(hv), dom, xml, flags, DEVICE_ATTACH, error);
}

int lx_domain_detach_device(XvHypervisor *hv, const HvDomainRef *dom, const char *xml, unsigned flags, XvError *error) {
        return device_op(lx_of(hv), dom, xml, flags, DEVICE_DETACH, error);
}

int lx_domain_update_device(XvHypervisor *hv, const HvDomainRef *dom, const char *xml, unsigned flags, XvError *error) {
        return xv_error_setf(error, XVP_ERR_NO_SUPPORT, "Updating a device is not supported by the libxl backend");
}

/* ---- statistics ------------------------------------------------------------------------------ */

int lx_domain_block_stats(XvHypervisor *hv, const HvDomainRef *dom, const char *path, HvBlockStats *ret,
                          XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        int r;

        if (isempty(path))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Missing disk path");
        r = resolve_active(h, dom, &d, error);
        if (r < 0)
                return r;
        return xvb_block_stats(h->xs, h->host_root, d.id, d.name, path, ret, error);
}

int lx_domain_interface_stats(XvHypervisor *hv, const HvDomainRef *dom, const char *path, HvInterfaceStats *ret,
                              XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        int r;

        if (isempty(path))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Missing interface name");
        r = resolve_active(h, dom, &d, error);
        if (r < 0)
                return r;
        return hoststats_interface(h->host_root, d.id, path, ret, error);
}

/* ---- scheduler ----------------------------------------------------------------------------- */

static int sched_name(LibxlBackend *h, const char **ret, XvError *error) {
        int r;

        r = lx_need_hc(h, error);
        if (r < 0)
                return r;
        return xvb_sched_name(h->hc, ret, error);
}

int lx_domain_get_scheduler_type(XvHypervisor *hv, const HvDomainRef *dom, char **ret, int *ret_nparams,
                                 XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        const char *name;
        char *s;
        int r;

        r = lx_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
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

static int require_credit_or_credit2(LibxlBackend *h, XvError *error) {
        const char *name;
        int r;

        r = sched_name(h, &name, error);
        if (r < 0)
                return r;
        /* libxl gives weight and cap for both credit schedulers (credit2 is Xen 4.17's default). */
        if (!streq(name, "credit") && !streq(name, "credit2"))
                return xv_error_setf(error, XVP_ERR_NO_SUPPORT, "Scheduler '%s' parameters are not supported", name);
        return 0;
}

int lx_domain_get_sched_params(XvHypervisor *hv, const HvDomainRef *dom, HvSchedParams *ret, XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        int r;

        r = lx_resolve(h, dom, &d, error);
        if (r < 0)
                return r;
        r = require_credit_or_credit2(h, error);
        if (r < 0)
                return r;
        if (d.id < 0) {
                /* xl configs carry no scheduler parameters: a new domain gets the defaults. */
                *ret = (HvSchedParams) { .weight = 256, .cap = 0 };
                return 0;
        }
        r = lx_need_libxl(h, error);
        if (r < 0)
                return r;
        return lxops_sched_credit_get(h->ctx, (uint32_t) d.id, d.name, &ret->weight, &ret->cap, NULL, error);
}

int lx_domain_set_sched_params(XvHypervisor *hv, const HvDomainRef *dom, const HvSchedParams *params, unsigned mask,
                               XvError *error) {
        LibxlBackend *h = lx_of(hv);
        _cleanup_(lx_dom_done) LxDom d = {};
        int r;

        if (mask & ~3u)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid parameter mask 0x%x", mask);
        if ((mask & 1) && (params->weight < 1 || params->weight > 65535))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Credit scheduler weight parameter (%u) is out of range (1-65535)", params->weight);
        if ((mask & 2) && params->cap > 65534)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Credit scheduler cap parameter (%u) is out of range (0-65534)", params->cap);
        r = resolve_for_libxl(h, dom, &d, error);
        if (r < 0)
                return r;
        r = require_credit_or_credit2(h, error);
        if (r < 0)
                return r;
        if (d.id < 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID,
                                     "Scheduler parameters of inactive domain '%s' cannot be stored in an xl configuration",
                                     d.name);
        r = lxops_sched_credit_set(h->ctx, (uint32_t) d.id, d.name, (mask & 1) ? params->weight : 0,
                                   (mask & 2) ? (int) params->cap : -1, error);
        lx_changed(h, d.name, &d.uuid);
        return r;
}

/* ---- migration ---------------------------------------------------------------------------------- */

int lx_domain_migrate_perform(XvHypervisor *hv, const HvDomainRef *dom, const char *uri, unsigned flags,
                              XvError *error) {
        return xv_error_setf(error, XVP_ERR_NO_SUPPORT,
                             "Migration version 1 is XenD's operation; the libxl backend does not support it");
}
