/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Handlers of the domain procedures: lookups, listing, info, XML, lifecycle, resources, devices,
 * statistics, scheduler, migration v1 and bulk statistics. Each one checks its flags and bounds,
 * calls the backend (src/xen/xv-hypervisor.h) and fills ret; the dispatcher owns args and ret,
 * encodes ret and frees it (memory is handed over with TAKE_PTR).
 *
 * Flags: unknown bits are refused with libvirt's "unsupported flags (0x%x) in function %s". Flags
 * whose meaning the backend implements are passed through unchanged (both use libvirt's values).
 * Sizes: no reply ever carries more entries than the client declared it can take.
 */

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xv-alloc.h"
#include "xv-domain-xml.h"
#include "xvd-client.h"
#include "xvd-proc.h"

/* libvirt's flag values that are not in the .x as constants. */
#define DOMAIN_START_PAUSED             (1u << 0)
#define DOMAIN_START_VALIDATE           (1u << 4)
#define DOMAIN_DEFINE_VALIDATE          (1u << 0)
#define DOMAIN_UNDEFINE_MANAGED_SAVE    (1u << 0)
#define DOMAIN_UNDEFINE_SNAPSHOTS_METADATA (1u << 1)
#define DOMAIN_UNDEFINE_CHECKPOINTS_METADATA (1u << 4)
#define DOMAIN_SHUTDOWN_PARAVIRT        (1u << 4)
#define DOMAIN_REBOOT_PARAVIRT          (1u << 4)
#define DOMAIN_DESTROY_GRACEFUL         (1u << 0)
#define DOMAIN_DEVICE_MODIFY_FORCE      (1u << 2)
#define DOMAIN_MESSAGE_DEVICE           (1u << 0)
#define DOMAIN_MESSAGE_TAINTING         (1u << 1)
#define DOMAIN_MEMORY_STAT_ACTUAL_BALLOON 6
#define MIGRATE_LIVE                    (1u << 0)
#define MIGRATE_PERSIST_DEST            (1u << 3)
#define MIGRATE_UNDEFINE_SOURCE         (1u << 4)
#define MIGRATE_PAUSED                  (1u << 5)
#define MIGRATE_SUPPORTED_FLAGS         (MIGRATE_LIVE | MIGRATE_PERSIST_DEST | MIGRATE_UNDEFINE_SOURCE | MIGRATE_PAUSED)
#define GET_ALL_STATS_NOWAIT            (1u << 29)
#define GET_ALL_STATS_BACKING           (1u << 30)
#define GET_ALL_STATS_ENFORCE_STATS     (1u << 31)

#define LIST_FILTERS_ACTIVE      (XVP_CONNECT_LIST_DOMAINS_ACTIVE | XVP_CONNECT_LIST_DOMAINS_INACTIVE)
#define LIST_FILTERS_PERSISTENT  (XVP_CONNECT_LIST_DOMAINS_PERSISTENT | XVP_CONNECT_LIST_DOMAINS_TRANSIENT)
#define LIST_FILTERS_STATE       (XVP_CONNECT_LIST_DOMAINS_RUNNING | XVP_CONNECT_LIST_DOMAINS_PAUSED | \
                                  XVP_CONNECT_LIST_DOMAINS_SHUTOFF | XVP_CONNECT_LIST_DOMAINS_OTHER)
#define LIST_FILTERS_MANAGEDSAVE (XVP_CONNECT_LIST_DOMAINS_MANAGEDSAVE | XVP_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE)
#define LIST_FILTERS_AUTOSTART   (XVP_CONNECT_LIST_DOMAINS_AUTOSTART | XVP_CONNECT_LIST_DOMAINS_NO_AUTOSTART)
#define LIST_FILTERS_ALL         (LIST_FILTERS_ACTIVE | LIST_FILTERS_PERSISTENT | LIST_FILTERS_STATE | \
                                  LIST_FILTERS_MANAGEDSAVE | LIST_FILTERS_AUTOSTART)

/* The groups of CONNECT_GET_ALL_DOMAIN_STATS this daemon fills. */
#define DOMAIN_STATS_SUPPORTED   (XVP_DOMAIN_STATS_STATE | XVP_DOMAIN_STATS_CPU_TOTAL | \
                                  XVP_DOMAIN_STATS_BALLOON | XVP_DOMAIN_STATS_VCPU)
/* Per-domain typed parameters of the bulk statistics: the fixed ones plus two per vCPU. */
#define DOMAIN_STATS_FIXED_PARAMS 8
#define DOMAIN_STATS_VCPUS_MAX   ((XVP_CONNECT_GET_ALL_DOMAIN_STATS_MAX - DOMAIN_STATS_FIXED_PARAMS) / 2)

typedef struct SummaryList {
        HvDomainSummary *items;
        size_t n;
} SummaryList;

static void summary_list_done(SummaryList *l) {
        hv_domain_summaries_free(l->items, l->n);
        *l = (SummaryList) {};
}

static bool domain_state_is_active(int state) {
        return state != XVP_DOMAIN_SHUTOFF && state != XVP_DOMAIN_NOSTATE;
}

/* Whether a listed domain passes libvirt's CONNECT_LIST_DOMAINS_* filter groups: within a group
 * the bits are alternatives, the groups combine with "and"; a group without bits does not filter. */
static bool summary_matches(const HvDomainSummary *s, unsigned flags) {
        bool active = s->ref.id >= 0 || domain_state_is_active(s->info.state);

        if ((flags & LIST_FILTERS_ACTIVE) &&
            !(((flags & XVP_CONNECT_LIST_DOMAINS_ACTIVE) && active) ||
              ((flags & XVP_CONNECT_LIST_DOMAINS_INACTIVE) && !active)))
                return false;

        if ((flags & LIST_FILTERS_PERSISTENT) &&
            !(((flags & XVP_CONNECT_LIST_DOMAINS_PERSISTENT) && s->persistent) ||
              ((flags & XVP_CONNECT_LIST_DOMAINS_TRANSIENT) && !s->persistent)))
                return false;

        if (flags & LIST_FILTERS_STATE) {
                int st = s->info.state;
                bool running = st == XVP_DOMAIN_RUNNING || st == XVP_DOMAIN_BLOCKED;
                bool paused = st == XVP_DOMAIN_PAUSED;
                bool shutoff = !active;
                bool other = !running && !paused && !shutoff;

                if (!(((flags & XVP_CONNECT_LIST_DOMAINS_RUNNING) && running) ||
                      ((flags & XVP_CONNECT_LIST_DOMAINS_PAUSED) && paused) ||
                      ((flags & XVP_CONNECT_LIST_DOMAINS_SHUTOFF) && shutoff) ||
                      ((flags & XVP_CONNECT_LIST_DOMAINS_OTHER) && other)))
                        return false;
        }

        if ((flags & LIST_FILTERS_MANAGEDSAVE) &&
            !(((flags & XVP_CONNECT_LIST_DOMAINS_MANAGEDSAVE) && s->has_managed_save) ||
              ((flags & XVP_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE) && !s->has_managed_save)))
                return false;

        if ((flags & LIST_FILTERS_AUTOSTART) &&
            !(((flags & XVP_CONNECT_LIST_DOMAINS_AUTOSTART) && s->autostart) ||
              ((flags & XVP_CONNECT_LIST_DOMAINS_NO_AUTOSTART) && !s->autostart)))
                return false;

        return true;
}

/* One backend pass over every domain, filtered by @flags. The backend filters too; filtering again
 * here keeps the reply right whatever subset of the bits a backend honours. */
/* The listing filters (libvirt's ACL filter callbacks): the decision is the authz code's
 * (client_acl_domain_visible(), org.xenvirt.api.domain.getattr with the domain's details); with
 * ACLs off or for root it says yes at once. */
static bool domain_visible(Client *c, const HvDomainRef *ref) {
        return client_acl_domain_visible(c, ref->name, &ref->uuid);
}

/* Keeps the running domain ids the caller may see. */
static void filter_ids(XvHypervisor *h, Client *c, int *ids, size_t *n) {
        size_t k = 0;

        if (!client_acl_applies(c))
                return;
        for (size_t i = 0; i < *n; i++) {
                _cleanup_ref_ HvDomainRef ref = {};

                if (hypervisor_lookup_by_id(h, ids[i], &ref, NULL) >= 0 && domain_visible(c, &ref))
                        ids[k++] = ids[i];
        }
        *n = k;
}

/* Keeps the defined (inactive) domain names the caller may see; the others are freed. */
static void filter_names(XvHypervisor *h, Client *c, char **names) {
        size_t k = 0;

        if (!client_acl_applies(c) || !names)
                return;
        for (size_t i = 0; names[i]; i++) {
                _cleanup_ref_ HvDomainRef ref = {};

                if (hypervisor_lookup_by_name(h, names[i], &ref, NULL) >= 0 && domain_visible(c, &ref))
                        names[k++] = names[i];
                else
                        names[i] = mfree(names[i]);
        }
        names[k] = NULL;
}

static int list_all(XvHypervisor *h, Client *c, unsigned flags, SummaryList *ret, XvError *error) {
        HvDomainSummary *items = NULL;
        size_t n = 0, k = 0;
        int r;

        r = hypervisor_list_all_domains(h, flags, &items, &n, error);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n; i++) {
                if (summary_matches(&items[i], flags) && items[i].ref.name && domain_visible(c, &items[i].ref)) {
                        if (k != i) {
                                items[k] = items[i];
                                items[i] = (HvDomainSummary) {};
                        }
                        k++;
                } else
                        hv_domain_ref_done(&items[i].ref);
        }

        /* Entries k..n-1 are empty now; free them with the list. */
        *ret = (SummaryList) { .items = items, .n = n };
        return (int) MIN(k, (size_t) INT32_MAX);
}

/* ---- lookups ----------------------------------------------------------------------------------- */

int proc_domain_lookup_by_id(Manager *m, Client *c, const xvp_domain_lookup_by_id_args *args,
                             xvp_domain_lookup_by_id_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        r = hypervisor_lookup_by_id(h, args->id, &ref, error);
        if (r < 0)
                return r;

        proc_ref_to_wire(&ref, &ret->dom);
        return 0;
}

int proc_domain_lookup_by_name(Manager *m, Client *c, const xvp_domain_lookup_by_name_args *args,
                               xvp_domain_lookup_by_name_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        r = hypervisor_lookup_by_name(h, args->name, &ref, error);
        if (r < 0)
                return r;

        proc_ref_to_wire(&ref, &ret->dom);
        return 0;
}

int proc_domain_lookup_by_uuid(Manager *m, Client *c, const xvp_domain_lookup_by_uuid_args *args,
                               xvp_domain_lookup_by_uuid_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        XvUuid uuid;
        int r;

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        memcpy(uuid.bytes, args->uuid, UUID_RAW_LEN);
        r = hypervisor_lookup_by_uuid(h, &uuid, &ref, error);
        if (r < 0)
                return r;

        proc_ref_to_wire(&ref, &ret->dom);
        return 0;
}

/* ---- listing ----------------------------------------------------------------------------------- */

int proc_connect_list_all_domains(Manager *m, Client *c, const xvp_connect_list_all_domains_args *args,
                                  xvp_connect_list_all_domains_ret *ret, XvError *error) {
        _cleanup_(summary_list_done) SummaryList list = {};
        _cleanup_free_ xvp_nonnull_domain *doms = NULL;
        XvHypervisor *h;
        size_t k = 0;
        int n, r;

        r = proc_check_flags(args->flags, LIST_FILTERS_ALL, error);
        if (r < 0)
                return r;

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        n = list_all(h, c, args->flags, &list, error);
        if (n < 0)
                return n;
        if (n > XVP_DOMAIN_LIST_MAX)
                return xv_error_setf(error, XVP_ERR_INTERNAL, "too many domains (%d > %d)", n,
                                     XVP_DOMAIN_LIST_MAX);

        /* The client library returns 'ret' as the count: it must equal the array length, and with
         * need_results 0 the array stays empty while ret still counts. */
        if (args->need_results && n > 0) {
                doms = new0(xvp_nonnull_domain, (size_t) n);
                if (!doms)
                        return -ENOMEM;
                for (size_t i = 0; i < list.n && k < (size_t) n; i++) {
                        if (!list.items[i].ref.name)
                                continue;
                        proc_ref_to_wire(&list.items[i].ref, &doms[k++]);
                }
                ret->domains.domains_len = (u_int) k;
                ret->domains.domains_val = TAKE_PTR(doms);
                ret->ret = (u_int) k;
        } else
                ret->ret = (u_int) n;

        return 0;
}

int proc_connect_num_of_domains(Manager *m, Client *c, const void *args, xvp_connect_num_of_domains_ret *ret,
                                XvError *error) {
        _cleanup_free_ int *ids = NULL;
        XvHypervisor *h;
        size_t n = 0;
        int r;

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        r = hypervisor_list_domain_ids(h, &ids, &n, error);
        if (r < 0)
                return r;
        filter_ids(h, c, ids, &n);

        ret->num = (int) MIN(n, (size_t) XVP_DOMAIN_LIST_MAX);
        return 0;
}

int proc_connect_list_domains(Manager *m, Client *c, const xvp_connect_list_domains_args *args,
                              xvp_connect_list_domains_ret *ret, XvError *error) {
        _cleanup_free_ int *ids = NULL;
        XvHypervisor *h;
        size_t n = 0;
        int r;

        if (args->maxids < 0 || args->maxids > XVP_DOMAIN_LIST_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "maxids must be between 0 and %d, got %d",
                                     XVP_DOMAIN_LIST_MAX, args->maxids);

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        r = hypervisor_list_domain_ids(h, &ids, &n, error);
        if (r < 0)
                return r;
        filter_ids(h, c, ids, &n);

        /* libvirt's contract: at most maxids ids, the rest are silently left out. */
        n = MIN(n, (size_t) args->maxids);
        ret->ids.ids_len = (u_int) n;
        ret->ids.ids_val = n > 0 ? TAKE_PTR(ids) : NULL;
        return 0;
}

int proc_connect_num_of_defined_domains(Manager *m, Client *c, const void *args,
                                        xvp_connect_num_of_defined_domains_ret *ret, XvError *error) {
        _cleanup_strv_free_ char **names = NULL;
        XvHypervisor *h;
        int r;

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        r = hypervisor_list_defined_names(h, &names, error);
        if (r < 0)
                return r;
        filter_names(h, c, names);

        ret->num = (int) MIN(strv_length(names), (size_t) XVP_DOMAIN_LIST_MAX);
        return 0;
}

int proc_connect_list_defined_domains(Manager *m, Client *c, const xvp_connect_list_defined_domains_args *args,
                                      xvp_connect_list_defined_domains_ret *ret, XvError *error) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char **out = NULL;
        XvHypervisor *h;
        size_t n;
        int r;

        if (args->maxnames < 0 || args->maxnames > XVP_DOMAIN_LIST_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "maxnames must be between 0 and %d, got %d",
                                     XVP_DOMAIN_LIST_MAX, args->maxnames);

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        r = hypervisor_list_defined_names(h, &names, error);
        if (r < 0)
                return r;
        filter_names(h, c, names);

        n = MIN(strv_length(names), (size_t) args->maxnames);
        if (n == 0)
                return 0;

        out = new0(char *, n);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                out[i] = TAKE_PTR(names[i]);
        /* Names past maxnames stay in @names; compact them to the front so strv_free() finds them. */
        for (size_t i = n, j = 0; ; i++, j++) {
                names[j] = names[i];
                if (!names[i])
                        break;
        }

        ret->names.names_len = (u_int) n;
        ret->names.names_val = TAKE_PTR(out);
        return 0;
}

/* ---- info and XML ------------------------------------------------------------------------------ */

/* The backend and the resolved copy of the client's domain handle, which every domain handler needs
 * first. On success @ret_ref owns a copy of the name (freed by the caller's _cleanup_ref_). */
static int domain_begin(Manager *m, const xvp_nonnull_domain *wire, XvHypervisor **ret_h, HvDomainRef *ret_ref,
                        XvError *error) {
        int r;

        r = proc_hypervisor(m, ret_h, error);
        if (r < 0)
                return r;

        return proc_ref_from_wire(wire, ret_ref);
}

int proc_domain_get_info(Manager *m, Client *c, const xvp_domain_get_info_args *args,
                         xvp_domain_get_info_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        HvDomainInfo info = {};
        XvHypervisor *h;
        int r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_get_info(h, &ref, &info, error);
        if (r < 0)
                return r;

        ret->state = (u_char) info.state;
        ret->max_mem = info.max_memory_kib;
        ret->memory = info.memory_kib;
        ret->nr_virt_cpu = (u_short) MIN(info.nr_vcpus, (unsigned) UINT16_MAX);
        ret->cpu_time = info.cpu_time_ns;
        return 0;
}

int proc_domain_get_state(Manager *m, Client *c, const xvp_domain_get_state_args *args,
                          xvp_domain_get_state_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int state = 0, reason = 0, r;

        r = proc_check_flags(args->flags, 0, error);
        if (r < 0)
                return r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_get_state(h, &ref, &state, &reason, error);
        if (r < 0)
                return r;

        ret->state = state;
        ret->reason = reason;
        return 0;
}

int proc_domain_get_max_memory(Manager *m, Client *c, const xvp_domain_get_max_memory_args *args,
                               xvp_domain_get_max_memory_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        HvDomainInfo info = {};
        XvHypervisor *h;
        int r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_get_info(h, &ref, &info, error);
        if (r < 0)
                return r;

        ret->memory = info.max_memory_kib;
        return 0;
}

int proc_domain_get_xml_desc(Manager *m, Client *c, const xvp_domain_get_xml_desc_args *args,
                             xvp_domain_get_xml_desc_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        _cleanup_free_ char *xml = NULL;
        unsigned hv_flags = 0;
        XvHypervisor *h;
        int r;

        /* UPDATE_CPU is accepted and has nothing to do: Xen guests of this driver carry no <cpu>
         * model that the host CPU could update. */
        r = proc_check_flags(args->flags, XVP_DOMAIN_XML_SECURE | XVP_DOMAIN_XML_INACTIVE |
                             XVP_DOMAIN_XML_UPDATE_CPU, error);
        if (r < 0)
                return r;

        if (args->flags & XVP_DOMAIN_XML_SECURE)
                hv_flags |= HV_XML_SECURE;
        if (args->flags & XVP_DOMAIN_XML_INACTIVE)
                hv_flags |= HV_XML_INACTIVE;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_get_xml(h, &ref, hv_flags, &xml, error);
        if (r < 0)
                return r;

        ret->xml = TAKE_PTR(xml);
        return 0;
}

int proc_domain_get_os_type(Manager *m, Client *c, const xvp_domain_get_os_type_args *args,
                            xvp_domain_get_os_type_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        _cleanup_free_ char *type = NULL;
        XvHypervisor *h;
        int r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_get_os_type(h, &ref, &type, error);
        if (r < 0)
                return r;

        ret->type = TAKE_PTR(type);
        return 0;
}

int proc_domain_is_active(Manager *m, Client *c, const xvp_domain_is_active_args *args,
                          xvp_domain_is_active_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        bool b = false;
        int r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_is_active(h, &ref, &b, error);
        if (r < 0)
                return r;

        ret->active = b;
        return 0;
}

int proc_domain_is_persistent(Manager *m, Client *c, const xvp_domain_is_persistent_args *args,
                              xvp_domain_is_persistent_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        bool b = false;
        int r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_is_persistent(h, &ref, &b, error);
        if (r < 0)
                return r;

        ret->persistent = b;
        return 0;
}

/* XenD applies live changes to the stored configuration as well, so a running domain's persistent
 * definition never lags behind it: always 0, as libvirt's Xen driver answered. The domain must
 * still exist. */
int proc_domain_is_updated(Manager *m, Client *c, const xvp_domain_is_updated_args *args,
                           xvp_domain_is_updated_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        bool b = false;
        int r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_is_active(h, &ref, &b, error);
        if (r < 0)
                return r;

        ret->updated = 0;
        return 0;
}

/* ---- define, create, undefine ------------------------------------------------------------------ */

/* Parses a client's domain XML. A definition without <uuid> gets the UUID of the existing domain
 * of that name (a re-define must update it, not collide with it), else a new random one. */
static int parse_domain_xml(XvHypervisor *h, const char *xml, bool validate, DomainDef **ret, XvError *error) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        int r;

        r = domain_def_parse_xml(xml, &def, error);
        if (r < 0)
                return r;

        if (validate) {
                r = domain_def_validate(def, error);
                if (r < 0)
                        return r;
        }

        if (!def->has_uuid) {
                _cleanup_ref_ HvDomainRef existing = {};

                if (hypervisor_lookup_by_name(h, def->name, &existing, NULL) >= 0)
                        def->uuid = existing.uuid;
                else {
                        r = uuid_new_random(&def->uuid);
                        if (r < 0)
                                return xv_error_set_errnof(error, r, "Failed to generate a UUID");
                }
                def->has_uuid = true;
        }

        *ret = TAKE_PTR(def);
        return 0;
}

static int define_xml(Manager *m, const char *xml, unsigned flags, xvp_nonnull_domain *ret, XvError *error) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        r = parse_domain_xml(h, xml, flags & DOMAIN_DEFINE_VALIDATE, &def, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_define(h, def, &ref, error);
        if (r < 0)
                return r;

        proc_ref_to_wire(&ref, ret);
        return 0;
}

int proc_domain_define_xml(Manager *m, Client *c, const xvp_domain_define_xml_args *args,
                           xvp_domain_define_xml_ret *ret, XvError *error) {
        return define_xml(m, args->xml, 0, &ret->dom, error);
}

int proc_domain_define_xml_flags(Manager *m, Client *c, const xvp_domain_define_xml_flags_args *args,
                                 xvp_domain_define_xml_flags_ret *ret, XvError *error) {
        int r;

        r = proc_check_flags(args->flags, DOMAIN_DEFINE_VALIDATE, error);
        if (r < 0)
                return r;

        return define_xml(m, args->xml, args->flags, &ret->dom, error);
}

int proc_domain_create_xml(Manager *m, Client *c, const xvp_domain_create_xml_args *args,
                           xvp_domain_create_xml_ret *ret, XvError *error) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        r = proc_check_flags(args->flags, DOMAIN_START_PAUSED | DOMAIN_START_VALIDATE, error);
        if (r < 0)
                return r;

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        r = parse_domain_xml(h, args->xml_desc, args->flags & DOMAIN_START_VALIDATE, &def, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_create_xml(h, def, args->flags & DOMAIN_START_PAUSED, &ref, error);
        if (r < 0)
                return r;

        proc_ref_to_wire(&ref, &ret->dom);
        return 0;
}

static int create_domain(Manager *m, const xvp_nonnull_domain *dom, unsigned flags, HvDomainRef *ret_ref,
                         XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        r = domain_begin(m, dom, &h, &ref, error);
        if (r < 0)
                return r;

        return hypervisor_domain_create(h, &ref, flags, ret_ref, error);
}

int proc_domain_create(Manager *m, Client *c, const xvp_domain_create_args *args, void *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};

        /* The reply is void: the client library asks LOOKUP_BY_UUID next to learn the new id. */
        return create_domain(m, &args->dom, 0, &ref, error);
}

int proc_domain_create_with_flags(Manager *m, Client *c, const xvp_domain_create_with_flags_args *args,
                                  xvp_domain_create_with_flags_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        int r;

        r = proc_check_flags(args->flags, DOMAIN_START_PAUSED, error);
        if (r < 0)
                return r;

        r = create_domain(m, &args->dom, args->flags, &ref, error);
        if (r < 0)
                return r;

        /* No LOOKUP_BY_UUID follows this call: the reply must carry the new id. */
        if (ref.name)
                proc_ref_to_wire(&ref, &ret->dom);
        else {
                HvDomainRef tmp = {};

                r = proc_ref_from_wire(&args->dom, &tmp);
                if (r < 0)
                        return r;
                proc_ref_to_wire(&tmp, &ret->dom);
        }
        return 0;
}

static int undefine_domain(Manager *m, const xvp_nonnull_domain *dom, unsigned flags, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        r = domain_begin(m, dom, &h, &ref, error);
        if (r < 0)
                return r;

        return hypervisor_domain_undefine(h, &ref, flags, error);
}

int proc_domain_undefine(Manager *m, Client *c, const xvp_domain_undefine_args *args, void *ret, XvError *error) {
        return undefine_domain(m, &args->dom, 0, error);
}

int proc_domain_undefine_flags(Manager *m, Client *c, const xvp_domain_undefine_flags_args *args, void *ret,
                               XvError *error) {
        int r;

        /* Snapshot and checkpoint metadata do not exist for Xen domains here, so removing it along
         * with the domain is trivially done; the managed-save bit goes to the backend. */
        r = proc_check_flags(args->flags, DOMAIN_UNDEFINE_MANAGED_SAVE | DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                             DOMAIN_UNDEFINE_CHECKPOINTS_METADATA, error);
        if (r < 0)
                return r;

        return undefine_domain(m, &args->dom, args->flags & DOMAIN_UNDEFINE_MANAGED_SAVE, error);
}

/* ---- lifecycle --------------------------------------------------------------------------------- */

int proc_domain_suspend(Manager *m, Client *c, const xvp_domain_suspend_args *args, void *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        return hypervisor_domain_suspend(h, &ref, error);
}

int proc_domain_resume(Manager *m, Client *c, const xvp_domain_resume_args *args, void *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        return hypervisor_domain_resume(h, &ref, error);
}

static int shutdown_domain(Manager *m, const xvp_nonnull_domain *dom, unsigned flags, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        r = domain_begin(m, dom, &h, &ref, error);
        if (r < 0)
                return r;

        return hypervisor_domain_shutdown(h, &ref, flags, error);
}

int proc_domain_shutdown(Manager *m, Client *c, const xvp_domain_shutdown_args *args, void *ret, XvError *error) {
        return shutdown_domain(m, &args->dom, 0, error);
}

int proc_domain_shutdown_flags(Manager *m, Client *c, const xvp_domain_shutdown_flags_args *args, void *ret,
                               XvError *error) {
        int r;

        /* A Xen guest is asked to shut down through its PV control node: that is the one mode. */
        r = proc_check_flags(args->flags, DOMAIN_SHUTDOWN_PARAVIRT, error);
        if (r < 0)
                return r;

        return shutdown_domain(m, &args->dom, args->flags, error);
}

int proc_domain_reboot(Manager *m, Client *c, const xvp_domain_reboot_args *args, void *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        r = proc_check_flags(args->flags, DOMAIN_REBOOT_PARAVIRT, error);
        if (r < 0)
                return r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        return hypervisor_domain_reboot(h, &ref, args->flags, error);
}

static int destroy_domain(Manager *m, const xvp_nonnull_domain *dom, unsigned flags, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        r = domain_begin(m, dom, &h, &ref, error);
        if (r < 0)
                return r;

        return hypervisor_domain_destroy(h, &ref, flags, error);
}

int proc_domain_destroy(Manager *m, Client *c, const xvp_domain_destroy_args *args, void *ret, XvError *error) {
        return destroy_domain(m, &args->dom, 0, error);
}

int proc_domain_destroy_flags(Manager *m, Client *c, const xvp_domain_destroy_flags_args *args, void *ret,
                              XvError *error) {
        int r;

        /* GRACEFUL means "do not escalate to SIGKILL": a Xen destroy is one hypercall, with
         * nothing to escalate, so both modes are the same operation. */
        r = proc_check_flags(args->flags, DOMAIN_DESTROY_GRACEFUL, error);
        if (r < 0)
                return r;

        return destroy_domain(m, &args->dom, 0, error);
}

static int save_domain(Manager *m, const xvp_nonnull_domain *dom, const char *to, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        if (to[0] != '/')
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "save path '%s' is not absolute", to);

        r = domain_begin(m, dom, &h, &ref, error);
        if (r < 0)
                return r;

        return hypervisor_domain_save(h, &ref, to, error);
}

int proc_domain_save(Manager *m, Client *c, const xvp_domain_save_args *args, void *ret, XvError *error) {
        return save_domain(m, &args->dom, args->to, error);
}

int proc_domain_save_flags(Manager *m, Client *c, const xvp_domain_save_flags_args *args, void *ret,
                           XvError *error) {
        int r;

        r = proc_check_flags(args->flags, 0, error);
        if (r < 0)
                return r;
        if (args->dxml)
                return xv_error_setf(error, XVP_ERR_ARGUMENT_UNSUPPORTED, "xml modification unsupported");

        return save_domain(m, &args->dom, args->to, error);
}

static int restore_domain(Manager *m, const char *from, XvError *error) {
        XvHypervisor *h;
        int r;

        if (from[0] != '/')
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "restore path '%s' is not absolute", from);

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        return hypervisor_domain_restore(h, from, error);
}

int proc_domain_restore(Manager *m, Client *c, const xvp_domain_restore_args *args, void *ret, XvError *error) {
        return restore_domain(m, args->from, error);
}

int proc_domain_restore_flags(Manager *m, Client *c, const xvp_domain_restore_flags_args *args, void *ret,
                              XvError *error) {
        int r;

        r = proc_check_flags(args->flags, 0, error);
        if (r < 0)
                return r;
        if (args->dxml)
                return xv_error_setf(error, XVP_ERR_ARGUMENT_UNSUPPORTED, "xml modification unsupported");

        return restore_domain(m, args->from, error);
}

int proc_domain_managed_save(Manager *m, Client *c, const xvp_domain_managed_save_args *args, void *ret,
                             XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        r = proc_check_flags(args->flags, 0, error);
        if (r < 0)
                return r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        return hypervisor_domain_managed_save(h, &ref, args->flags, error);
}

int proc_domain_has_managed_save_image(Manager *m, Client *c, const xvp_domain_has_managed_save_image_args *args,
                                       xvp_domain_has_managed_save_image_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        bool b = false;
        int r;

        r = proc_check_flags(args->flags, 0, error);
        if (r < 0)
                return r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_has_managed_save(h, &ref, &b, error);
        if (r < 0)
                return r;

        ret->result = b;
        return 0;
}

int proc_domain_managed_save_remove(Manager *m, Client *c, const xvp_domain_managed_save_remove_args *args,
                                    void *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        r = proc_check_flags(args->flags, 0, error);
        if (r < 0)
                return r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        return hypervisor_domain_managed_save_remove(h, &ref, error);
}

int proc_domain_core_dump(Manager *m, Client *c, const xvp_domain_core_dump_args *args, void *ret,
                          XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        r = proc_check_flags(args->flags, HV_DUMP_CRASH | HV_DUMP_LIVE, error);
        if (r < 0)
                return r;
        if ((args->flags & HV_DUMP_CRASH) && (args->flags & HV_DUMP_LIVE))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "crash and live flags are mutually exclusive");
        if (args->to[0] != '/')
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "dump path '%s' is not absolute", args->to);

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        return hypervisor_domain_core_dump(h, &ref, args->to, args->flags, error);
}

/* ---- memory and vCPUs -------------------------------------------------------------------------- */

static int set_memory(Manager *m, const xvp_nonnull_domain *dom, uint64_t kib, unsigned flags, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        if (kib == 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "memory size must be greater than zero");

        r = domain_begin(m, dom, &h, &ref, error);
        if (r < 0)
                return r;

        return hypervisor_domain_set_memory(h, &ref, kib, flags, error);
}

int proc_domain_set_memory(Manager *m, Client *c, const xvp_domain_set_memory_args *args, void *ret,
                           XvError *error) {
        /* virDomainSetMemory() is defined as the live balloon target. */
        return set_memory(m, &args->dom, args->memory, HV_AFFECT_LIVE, error);
}

int proc_domain_set_max_memory(Manager *m, Client *c, const xvp_domain_set_max_memory_args *args, void *ret,
                               XvError *error) {
        return set_memory(m, &args->dom, args->memory, HV_MEM_MAXIMUM, error);
}

int proc_domain_set_memory_flags(Manager *m, Client *c, const xvp_domain_set_memory_flags_args *args, void *ret,
                                 XvError *error) {
        int r;

        r = proc_check_flags(args->flags, HV_AFFECT_LIVE | HV_AFFECT_CONFIG | HV_MEM_MAXIMUM, error);
        if (r < 0)
                return r;

        return set_memory(m, &args->dom, args->memory, args->flags, error);
}

static int set_vcpus(Manager *m, const xvp_nonnull_domain *dom, unsigned n, unsigned flags, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        if (n == 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "vcpus count must be greater than zero");

        r = domain_begin(m, dom, &h, &ref, error);
        if (r < 0)
                return r;

        return hypervisor_domain_set_vcpus(h, &ref, n, flags, error);
}

int proc_domain_set_vcpus(Manager *m, Client *c, const xvp_domain_set_vcpus_args *args, void *ret,
                          XvError *error) {
        /* virDomainSetVcpus() changes the running domain. */
        return set_vcpus(m, &args->dom, args->nvcpus, HV_AFFECT_LIVE, error);
}

int proc_domain_set_vcpus_flags(Manager *m, Client *c, const xvp_domain_set_vcpus_flags_args *args, void *ret,
                                XvError *error) {
        int r;

        r = proc_check_flags(args->flags, HV_AFFECT_LIVE | HV_AFFECT_CONFIG | HV_VCPU_MAXIMUM, error);
        if (r < 0)
                return r;

        return set_vcpus(m, &args->dom, args->nvcpus, args->flags, error);
}

int proc_domain_get_vcpus_flags(Manager *m, Client *c, const xvp_domain_get_vcpus_flags_args *args,
                                xvp_domain_get_vcpus_flags_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int n = 0, r;

        r = proc_check_flags(args->flags, HV_AFFECT_LIVE | HV_AFFECT_CONFIG | HV_VCPU_MAXIMUM, error);
        if (r < 0)
                return r;
        if ((args->flags & HV_AFFECT_LIVE) && (args->flags & HV_AFFECT_CONFIG))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "flags 'live' and 'config' are mutually exclusive");

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_get_vcpus_flags(h, &ref, args->flags, &n, error);
        if (r < 0)
                return r;

        ret->num = n;
        return 0;
}

int proc_domain_get_max_vcpus(Manager *m, Client *c, const xvp_domain_get_max_vcpus_args *args,
                              xvp_domain_get_max_vcpus_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        bool active = false;
        int n = 0, r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        /* virDomainGetMaxVcpus(): the maximum of the running domain, or of the config when off. */
        r = hypervisor_domain_is_active(h, &ref, &active, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_get_vcpus_flags(h, &ref, HV_VCPU_MAXIMUM | (active ? HV_AFFECT_LIVE : HV_AFFECT_CONFIG),
                                              &n, error);
        if (r < 0)
                return r;

        ret->num = n;
        return 0;
}

int proc_domain_get_vcpus(Manager *m, Client *c, const xvp_domain_get_vcpus_args *args,
                          xvp_domain_get_vcpus_ret *ret, XvError *error) {
        _cleanup_free_ HvVcpuInfo *info = NULL;
        _cleanup_free_ xvp_vcpu_info *out = NULL;
        _cleanup_free_ uint8_t *maps = NULL;
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        size_t n = 0;
        int r;

        /* The client takes at most maxinfo entries and maxinfo * maplen map bytes. */
        if (args->maxinfo < 1 || args->maxinfo > XVP_VCPUINFO_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "maxinfo must be between 1 and %d, got %d",
                                     XVP_VCPUINFO_MAX, args->maxinfo);
        if (args->maplen < 0 || args->maplen > XVP_CPUMAP_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "maplen must be between 0 and %d, got %d",
                                     XVP_CPUMAP_MAX, args->maplen);
        if ((int64_t) args->maxinfo * args->maplen > XVP_CPUMAPS_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "maxinfo * maplen must not exceed %d",
                                     XVP_CPUMAPS_MAX);

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_get_vcpus(h, &ref, args->maxinfo, args->maplen, &info, &n,
                                        args->maplen > 0 ? &maps : NULL, error);
        if (r < 0)
                return r;

        n = MIN(n, (size_t) args->maxinfo);
        if (n > 0) {
                out = new0(xvp_vcpu_info, n);
                if (!out)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++)
                        out[i] = (xvp_vcpu_info) {
                                .number = info[i].number,
                                .state = info[i].state,
                                .cpu_time = info[i].cpu_time_ns,
                                .cpu = info[i].cpu,
                        };
                ret->info.info_len = (u_int) n;
                ret->info.info_val = TAKE_PTR(out);
        }

        if (args->maplen > 0 && n > 0 && maps) {
                ret->cpumaps.cpumaps_len = (u_int) (n * (size_t) args->maplen);
                ret->cpumaps.cpumaps_val = (char *) TAKE_PTR(maps);
        }
        return 0;
}

static int pin_vcpu(Manager *m, const xvp_nonnull_domain *dom, unsigned vcpu, const char *map, size_t len,
                    unsigned flags, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        if (len == 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "cpumap must not be empty");

        r = domain_begin(m, dom, &h, &ref, error);
        if (r < 0)
                return r;

        return hypervisor_domain_pin_vcpu(h, &ref, vcpu, (const uint8_t *) map, len, flags, error);
}

int proc_domain_pin_vcpu(Manager *m, Client *c, const xvp_domain_pin_vcpu_args *args, void *ret,
                         XvError *error) {
        /* virDomainPinVcpu() changes the running domain. */
        return pin_vcpu(m, &args->dom, args->vcpu, args->cpumap.cpumap_val, args->cpumap.cpumap_len,
                        HV_AFFECT_LIVE, error);
}

int proc_domain_pin_vcpu_flags(Manager *m, Client *c, const xvp_domain_pin_vcpu_flags_args *args, void *ret,
                               XvError *error) {
        int r;

        r = proc_check_flags(args->flags, HV_AFFECT_LIVE | HV_AFFECT_CONFIG, error);
        if (r < 0)
                return r;

        return pin_vcpu(m, &args->dom, args->vcpu, args->cpumap.cpumap_val, args->cpumap.cpumap_len,
                        args->flags, error);
}

int proc_domain_get_vcpu_pin_info(Manager *m, Client *c, const xvp_domain_get_vcpu_pin_info_args *args,
                                  xvp_domain_get_vcpu_pin_info_ret *ret, XvError *error) {
        _cleanup_free_ uint8_t *maps = NULL;
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int n = 0, r;

        r = proc_check_flags(args->flags, HV_AFFECT_LIVE | HV_AFFECT_CONFIG, error);
        if (r < 0)
                return r;
        if (args->ncpumaps < 1 || args->ncpumaps > XVP_VCPUINFO_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "ncpumaps must be between 1 and %d, got %d",
                                     XVP_VCPUINFO_MAX, args->ncpumaps);
        if (args->maplen < 1 || args->maplen > XVP_CPUMAP_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "maplen must be between 1 and %d, got %d",
                                     XVP_CPUMAP_MAX, args->maplen);
        if ((int64_t) args->ncpumaps * args->maplen > XVP_CPUMAPS_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "ncpumaps * maplen must not exceed %d",
                                     XVP_CPUMAPS_MAX);

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_get_vcpu_pin_info(h, &ref, args->ncpumaps, args->maplen, args->flags, &maps, &n,
                                                error);
        if (r < 0)
                return r;

        /* The client refuses num > ncpumaps and reads ncpumaps * maplen bytes at most. */
        n = MAX(0, MIN(n, args->ncpumaps));
        ret->num = n;
        if (n > 0 && maps) {
                ret->cpumaps.cpumaps_len = (u_int) ((size_t) n * (size_t) args->maplen);
                ret->cpumaps.cpumaps_val = (char *) TAKE_PTR(maps);
        }
        return 0;
}

/* ---- autostart --------------------------------------------------------------------------------- */

int proc_domain_get_autostart(Manager *m, Client *c, const xvp_domain_get_autostart_args *args,
                              xvp_domain_get_autostart_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        bool b = false;
        int r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_get_autostart(h, &ref, &b, error);
        if (r < 0)
                return r;

        ret->autostart = b;
        return 0;
}

int proc_domain_set_autostart(Manager *m, Client *c, const xvp_domain_set_autostart_args *args, void *ret,
                              XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        return hypervisor_domain_set_autostart(h, &ref, args->autostart != 0, error);
}

/* ---- devices ----------------------------------------------------------------------------------- */

typedef enum DeviceOp {
        DEVICE_ATTACH,
        DEVICE_DETACH,
        DEVICE_UPDATE,
} DeviceOp;

static int modify_device(Manager *m, DeviceOp op, const xvp_nonnull_domain *dom, const char *xml, unsigned flags,
                         XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        r = domain_begin(m, dom, &h, &ref, error);
        if (r < 0)
                return r;

        switch (op) {
        case DEVICE_ATTACH:
                return hypervisor_domain_attach_device(h, &ref, xml, flags, error);
        case DEVICE_DETACH:
                return hypervisor_domain_detach_device(h, &ref, xml, flags, error);
        case DEVICE_UPDATE:
                return hypervisor_domain_update_device(h, &ref, xml, flags, error);
        }
        return -EINVAL;
}

/* The flag-less calls mean "the domain as it is now" (AFFECT_CURRENT): the live domain when it
 * runs, its configuration when it is off. */
int proc_domain_attach_device(Manager *m, Client *c, const xvp_domain_attach_device_args *args, void *ret,
                              XvError *error) {
        return modify_device(m, DEVICE_ATTACH, &args->dom, args->xml, HV_AFFECT_CURRENT, error);
}

int proc_domain_attach_device_flags(Manager *m, Client *c, const xvp_domain_attach_device_flags_args *args,
                                    void *ret, XvError *error) {
        int r;

        r = proc_check_flags(args->flags, HV_AFFECT_LIVE | HV_AFFECT_CONFIG, error);
        if (r < 0)
                return r;

        return modify_device(m, DEVICE_ATTACH, &args->dom, args->xml, args->flags, error);
}

int proc_domain_detach_device(Manager *m, Client *c, const xvp_domain_detach_device_args *args, void *ret,
                              XvError *error) {
        return modify_device(m, DEVICE_DETACH, &args->dom, args->xml, HV_AFFECT_CURRENT, error);
}

int proc_domain_detach_device_flags(Manager *m, Client *c, const xvp_domain_detach_device_flags_args *args,
                                    void *ret, XvError *error) {
        int r;

        r = proc_check_flags(args->flags, HV_AFFECT_LIVE | HV_AFFECT_CONFIG, error);
        if (r < 0)
                return r;

        return modify_device(m, DEVICE_DETACH, &args->dom, args->xml, args->flags, error);
}

int proc_domain_update_device_flags(Manager *m, Client *c, const xvp_domain_update_device_flags_args *args,
                                    void *ret, XvError *error) {
        int r;

        r = proc_check_flags(args->flags, HV_AFFECT_LIVE | HV_AFFECT_CONFIG | DOMAIN_DEVICE_MODIFY_FORCE, error);
        if (r < 0)
                return r;

        return modify_device(m, DEVICE_UPDATE, &args->dom, args->xml, args->flags, error);
}

/* ---- statistics -------------------------------------------------------------------------------- */

int proc_domain_block_stats(Manager *m, Client *c, const xvp_domain_block_stats_args *args,
                            xvp_domain_block_stats_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        HvBlockStats st = {};
        XvHypervisor *h;
        int r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_block_stats(h, &ref, args->path, &st, error);
        if (r < 0)
                return r;

        *ret = (xvp_domain_block_stats_ret) {
                .rd_req = st.rd_req,
                .rd_bytes = st.rd_bytes,
                .wr_req = st.wr_req,
                .wr_bytes = st.wr_bytes,
                .errs = st.errs,
        };
        return 0;
}

/* The typed-parameter form is not offered: code 3 makes virsh fall back to BLOCK_STATS, which
 * carries everything Xen's blkback counters have. */
int proc_domain_block_stats_flags(Manager *m, Client *c, const xvp_domain_block_stats_flags_args *args,
                                  xvp_domain_block_stats_flags_ret *ret, XvError *error) {
        return xv_error_setf(error, XVP_ERR_NO_SUPPORT, "virDomainBlockStatsFlags");
}

int proc_domain_interface_stats(Manager *m, Client *c, const xvp_domain_interface_stats_args *args,
                                xvp_domain_interface_stats_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        HvInterfaceStats st = {};
        XvHypervisor *h;
        int r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_interface_stats(h, &ref, args->device, &st, error);
        if (r < 0)
                return r;

        *ret = (xvp_domain_interface_stats_ret) {
                .rx_bytes = st.rx_bytes,
                .rx_packets = st.rx_packets,
                .rx_errs = st.rx_errs,
                .rx_drop = st.rx_drop,
                .tx_bytes = st.tx_bytes,
                .tx_packets = st.tx_packets,
                .tx_errs = st.tx_errs,
                .tx_drop = st.tx_drop,
        };
        return 0;
}

/* Xen reports no guest-internal memory statistics here; the balloon target (the domain's current
 * memory) is the one value there is. */
int proc_domain_memory_stats(Manager *m, Client *c, const xvp_domain_memory_stats_args *args,
                             xvp_domain_memory_stats_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        HvDomainInfo info = {};
        XvHypervisor *h;
        int r;

        r = proc_check_flags(args->flags, 0, error);
        if (r < 0)
                return r;
        if (args->max_stats > XVP_DOMAIN_MEMORY_STATS_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "maxStats must not exceed %d",
                                     XVP_DOMAIN_MEMORY_STATS_MAX);

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_get_info(h, &ref, &info, error);
        if (r < 0)
                return r;
        if (!domain_state_is_active(info.state))
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "domain is not running");

        /* The client copies every entry into an array of maxStats: never send more. */
        if (args->max_stats < 1)
                return 0;

        ret->stats.stats_val = new0(xvp_domain_memory_stat, 1);
        if (!ret->stats.stats_val)
                return -ENOMEM;
        ret->stats.stats_val[0] = (xvp_domain_memory_stat) {
                .tag = DOMAIN_MEMORY_STAT_ACTUAL_BALLOON,
                .val = info.memory_kib,
        };
        ret->stats.stats_len = 1;
        return 0;
}

/* ---- scheduler --------------------------------------------------------------------------------- */

int proc_domain_get_scheduler_type(Manager *m, Client *c, const xvp_domain_get_scheduler_type_args *args,
                                   xvp_domain_get_scheduler_type_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        _cleanup_free_ char *type = NULL;
        XvHypervisor *h;
        int n = 0, r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_get_scheduler_type(h, &ref, &type, &n, error);
        if (r < 0)
                return r;

        ret->type = TAKE_PTR(type);
        ret->nparams = MAX(0, MIN(n, XVP_DOMAIN_SCHEDULER_PARAMETERS_MAX));
        return 0;
}

static int typed_param_uint(xvp_typed_param *p, const char *field, unsigned value) {
        p->field = strdup(field);
        if (!p->field)
                return -ENOMEM;
        p->value.type = XVP_TYPED_PARAM_UINT;
        p->value.xvp_typed_param_value_u.ui = value;
        return 0;
}

/* Frees a typed parameter array that has not been handed to a reply yet. */
static void typed_params_free(xvp_typed_param *params, size_t n) {
        if (!params)
                return;
        for (size_t i = 0; i < n; i++) {
                free(params[i].field);
                if (params[i].value.type == XVP_TYPED_PARAM_STRING)
                        free(params[i].value.xvp_typed_param_value_u.s);
        }
        free(params);
}

static int get_sched_params(Manager *m, const xvp_nonnull_domain *dom, int nparams, u_int *ret_len,
                            xvp_typed_param **ret_val, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        HvSchedParams sp = {};
        xvp_typed_param *params;
        XvHypervisor *h;
        size_t n;
        int r;

        if (nparams < 0 || nparams > XVP_DOMAIN_SCHEDULER_PARAMETERS_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "nparams must be between 0 and %d, got %d",
                                     XVP_DOMAIN_SCHEDULER_PARAMETERS_MAX, nparams);

        r = domain_begin(m, dom, &h, &ref, error);
        if (r < 0)
                return r;

        r = hypervisor_domain_get_sched_params(h, &ref, &sp, error);
        if (r < 0)
                return r;

        /* The client refuses more entries than the nparams it sent (from GET_SCHEDULER_TYPE). */
        n = MIN((size_t) nparams, (size_t) 2);
        if (n == 0)
                return 0;

        params = new0(xvp_typed_param, n);
        if (!params)
                return -ENOMEM;
        r = typed_param_uint(&params[0], "weight", sp.weight);
        if (r >= 0 && n > 1)
                r = typed_param_uint(&params[1], "cap", sp.cap);
        if (r < 0) {
                typed_params_free(params, n);
                return r;
        }

        *ret_len = (u_int) n;
        *ret_val = params;
        return 0;
}

int proc_domain_get_scheduler_parameters(Manager *m, Client *c,
                                         const xvp_domain_get_scheduler_parameters_args *args,
                                         xvp_domain_get_scheduler_parameters_ret *ret, XvError *error) {
        return get_sched_params(m, &args->dom, args->nparams, &ret->params.params_len, &ret->params.params_val,
                                error);
}

int proc_domain_get_scheduler_parameters_flags(Manager *m, Client *c,
                                               const xvp_domain_get_scheduler_parameters_flags_args *args,
                                               xvp_domain_get_scheduler_parameters_flags_ret *ret,
                                               XvError *error) {
        int r;

        /* XenD keeps the credit parameters of a domain in its stored config too, so live and config
         * read the same values. */
        r = proc_check_flags(args->flags, HV_AFFECT_LIVE | HV_AFFECT_CONFIG | XVP_TYPED_PARAM_STRING_OKAY, error);
        if (r < 0)
                return r;

        return get_sched_params(m, &args->dom, args->nparams, &ret->params.params_len, &ret->params.params_val,
                                error);
}

/* Accepts an integral typed parameter that fits @max, whatever integer type the client chose. */
static int typed_param_get_uint(const xvp_typed_param *p, unsigned max, unsigned *ret, XvError *error) {
        const xvp_typed_param_value *v = &p->value;
        int64_t s;
        uint64_t u;

        switch (v->type) {
        case XVP_TYPED_PARAM_UINT:
                u = v->xvp_typed_param_value_u.ui;
                break;
        case XVP_TYPED_PARAM_ULLONG:
                u = v->xvp_typed_param_value_u.ul;
                break;
        case XVP_TYPED_PARAM_INT:
                s = v->xvp_typed_param_value_u.i;
                if (s < 0)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "invalid value for parameter '%.*s'",
                                             PROC_TYPED_PARAM_FIELD_MAX, p->field);
                u = (uint64_t) s;
                break;
        case XVP_TYPED_PARAM_LLONG:
                s = v->xvp_typed_param_value_u.l;
                if (s < 0)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "invalid value for parameter '%.*s'",
                                             PROC_TYPED_PARAM_FIELD_MAX, p->field);
                u = (uint64_t) s;
                break;
        default:
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "invalid type for parameter '%.*s', expected 'uint'",
                                     PROC_TYPED_PARAM_FIELD_MAX, p->field);
        }
        if (u > max)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "value of parameter '%.*s' must not exceed %u",
                                     PROC_TYPED_PARAM_FIELD_MAX, p->field, max);
        *ret = (unsigned) u;
        return 0;
}

static int set_sched_params(Manager *m, const xvp_nonnull_domain *dom, const xvp_typed_param *params, u_int n,
                            XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        HvSchedParams sp = {};
        unsigned mask = 0;
        XvHypervisor *h;
        int r;

        for (u_int i = 0; i < n; i++) {
                const char *field = params[i].field ?: "";

                if (streq(field, "weight")) {
                        r = typed_param_get_uint(&params[i], 65535, &sp.weight, error);
                        if (r < 0)
                                return r;
                        if (sp.weight == 0)
                                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "weight must be between 1 and 65535");
                        mask |= 1;
                } else if (streq(field, "cap")) {
                        r = typed_param_get_uint(&params[i], 65534, &sp.cap, error);
                        if (r < 0)
                                return r;
                        mask |= 2;
                } else
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "parameter '%.*s' not supported",
                                             PROC_TYPED_PARAM_FIELD_MAX, field);
        }

        r = domain_begin(m, dom, &h, &ref, error);
        if (r < 0)
                return r;

        if (mask == 0)
                return 0;

        return hypervisor_domain_set_sched_params(h, &ref, &sp, mask, error);
}

int proc_domain_set_scheduler_parameters(Manager *m, Client *c,
                                         const xvp_domain_set_scheduler_parameters_args *args, void *ret,
                                         XvError *error) {
        return set_sched_params(m, &args->dom, args->params.params_val, args->params.params_len, error);
}

int proc_domain_set_scheduler_parameters_flags(Manager *m, Client *c,
                                               const xvp_domain_set_scheduler_parameters_flags_args *args,
                                               void *ret, XvError *error) {
        int r;

        r = proc_check_flags(args->flags, HV_AFFECT_LIVE | HV_AFFECT_CONFIG, error);
        if (r < 0)
                return r;

        return set_sched_params(m, &args->dom, args->params.params_val, args->params.params_len, error);
}

/* ---- snapshots and messages -------------------------------------------------------------------- */

/* No snapshot support: code 3 is what virsh undefine tolerates (any other code would fail it). */
int proc_domain_snapshot_num(Manager *m, Client *c, const xvp_domain_snapshot_num_args *args,
                             xvp_domain_snapshot_num_ret *ret, XvError *error) {
        return xv_error_setf(error, XVP_ERR_NO_SUPPORT, "virDomainSnapshotNum");
}

/* Xen domains here have no taint or deprecation messages: an empty list (the domain must exist). */
int proc_domain_get_messages(Manager *m, Client *c, const xvp_domain_get_messages_args *args,
                             xvp_domain_get_messages_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        bool b = false;
        int r;

        r = proc_check_flags(args->flags, DOMAIN_MESSAGE_DEVICE | DOMAIN_MESSAGE_TAINTING, error);
        if (r < 0)
                return r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        return hypervisor_domain_is_active(h, &ref, &b, error);
}

/* ---- migration v1 ------------------------------------------------------------------------------ */

static int check_migrate_args(uint64_t flags, char *const *dname, uint64_t resource, XvError *error) {
        if (flags & ~(uint64_t) MIGRATE_SUPPORTED_FLAGS)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "unsupported flags (0x%llx) in function %s",
                                     (unsigned long long) (flags & ~(uint64_t) MIGRATE_SUPPORTED_FLAGS),
                                     "virDomainMigrate");
        if (dname)
                return xv_error_setf(error, XVP_ERR_ARGUMENT_UNSUPPORTED,
                                     "renaming domains during migration is not supported");
        if (resource != 0)
                return xv_error_setf(error, XVP_ERR_ARGUMENT_UNSUPPORTED, "Xen does not support bandwidth limits");
        return 0;
}

/* Destination side of v1: XenD pushes the domain itself, so there is nothing to prepare but the
 * URI the source's XenD should connect to (this host's relocation server) and an empty cookie. */
int proc_domain_migrate_prepare(Manager *m, Client *c, const xvp_domain_migrate_prepare_args *args,
                                xvp_domain_migrate_prepare_ret *ret, XvError *error) {
        _cleanup_free_ char *hostname = NULL, *uri = NULL;
        _cleanup_free_ xvp_nonnull_string *box = NULL;
        XvHypervisor *h;
        int r;

        r = check_migrate_args(args->flags, args->dname, args->resource, error);
        if (r < 0)
                return r;

        if (args->uri_in)
                return 0;       /* the client keeps using its own URI */

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        r = hypervisor_get_hostname(h, &hostname, error);
        if (r < 0)
                return r;

        if (asprintf(&uri, "xenmigr://%s", hostname) < 0)
                return -ENOMEM;
        box = new0(xvp_nonnull_string, 1);
        if (!box)
                return -ENOMEM;
        *box = TAKE_PTR(uri);
        ret->uri_out = TAKE_PTR(box);
        return 0;
}

int proc_domain_migrate_perform(Manager *m, Client *c, const xvp_domain_migrate_perform_args *args, void *ret,
                                XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        r = check_migrate_args(args->flags, args->dname, args->resource, error);
        if (r < 0)
                return r;

        r = domain_begin(m, &args->dom, &h, &ref, error);
        if (r < 0)
                return r;

        return hypervisor_domain_migrate_perform(h, &ref, args->uri, (unsigned) args->flags, error);
}

/* The domain arrived through XenD's relocation server while PERFORM ran on the source. */
int proc_domain_migrate_finish(Manager *m, Client *c, const xvp_domain_migrate_finish_args *args,
                               xvp_domain_migrate_finish_ret *ret, XvError *error) {
        _cleanup_ref_ HvDomainRef ref = {};
        XvHypervisor *h;
        int r;

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        r = hypervisor_lookup_by_name(h, args->dname, &ref, error);
        if (r < 0)
                return r;

        proc_ref_to_wire(&ref, &ret->ddom);
        return 0;
}

/* ---- bulk statistics --------------------------------------------------------------------------- */

typedef struct ParamBuilder {
        xvp_typed_param *params;
        size_t n, allocated;
} ParamBuilder;

static void param_builder_done(ParamBuilder *b) {
        typed_params_free(b->params, b->n);
        *b = (ParamBuilder) {};
}

static xvp_typed_param *param_builder_add(ParamBuilder *b, const char *field) {
        xvp_typed_param *p;

        if (b->n >= XVP_CONNECT_GET_ALL_DOMAIN_STATS_MAX)
                return NULL;
        if (GREEDY_REALLOC(b->params, b->allocated, b->n + 1) < 0)
                return NULL;
        p = &b->params[b->n];
        *p = (xvp_typed_param) {};
        p->field = strdup(field);
        if (!p->field)
                return NULL;
        b->n++;
        return p;
}

static int param_add_int(ParamBuilder *b, const char *field, int v) {
        xvp_typed_param *p = param_builder_add(b, field);

        if (!p)
                return -ENOMEM;
        p->value.type = XVP_TYPED_PARAM_INT;
        p->value.xvp_typed_param_value_u.i = v;
        return 0;
}

static int param_add_uint(ParamBuilder *b, const char *field, unsigned v) {
        xvp_typed_param *p = param_builder_add(b, field);

        if (!p)
                return -ENOMEM;
        p->value.type = XVP_TYPED_PARAM_UINT;
        p->value.xvp_typed_param_value_u.ui = v;
        return 0;
}

static int param_add_ullong(ParamBuilder *b, const char *field, uint64_t v) {
        xvp_typed_param *p = param_builder_add(b, field);

        if (!p)
                return -ENOMEM;
        p->value.type = XVP_TYPED_PARAM_ULLONG;
        p->value.xvp_typed_param_value_u.ul = v;
        return 0;
}

static int domain_stats_vcpus(XvHypervisor *h, const HvDomainSummary *s, ParamBuilder *b) {
        _cleanup_free_ HvVcpuInfo *info = NULL;
        size_t n = 0;
        int r;

        r = param_add_uint(b, "vcpu.current", s->info.nr_vcpus);
        if (r < 0)
                return r;

        if (!domain_state_is_active(s->info.state) || s->info.nr_vcpus == 0)
                return 0;

        /* Per-vCPU state and time come from the hypervisor, not from XenD; a domain that vanished
         * in between simply has no per-vCPU entries. */
        if (hypervisor_domain_get_vcpus(h, &s->ref, (int) MIN(s->info.nr_vcpus, (unsigned) DOMAIN_STATS_VCPUS_MAX),
                                        0, &info, &n, NULL, NULL) < 0)
                return 0;

        for (size_t i = 0; i < n && i < DOMAIN_STATS_VCPUS_MAX; i++) {
                char field[XVP_TYPED_PARAM_FIELD_LENGTH];

                (void) snprintf(field, sizeof(field), "vcpu.%u.state", info[i].number);
                r = param_add_int(b, field, info[i].state);
                if (r < 0)
                        return r;
                (void) snprintf(field, sizeof(field), "vcpu.%u.time", info[i].number);
                r = param_add_ullong(b, field, info[i].cpu_time_ns);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int domain_stats_record(XvHypervisor *h, HvDomainSummary *s, unsigned groups, xvp_domain_stats_record *ret) {
        _cleanup_(param_builder_done) ParamBuilder b = {};
        int r;

        if (groups & XVP_DOMAIN_STATS_STATE) {
                r = param_add_int(&b, "state.state", s->info.state);
                if (r < 0)
                        return r;
                r = param_add_int(&b, "state.reason", s->info.reason);
                if (r < 0)
                        return r;
        }
        if (groups & XVP_DOMAIN_STATS_CPU_TOTAL) {
                r = param_add_ullong(&b, "cpu.time", s->info.cpu_time_ns);
                if (r < 0)
                        return r;
        }
        if (groups & XVP_DOMAIN_STATS_BALLOON) {
                r = param_add_ullong(&b, "balloon.current", s->info.memory_kib);
                if (r < 0)
                        return r;
                r = param_add_ullong(&b, "balloon.maximum", s->info.max_memory_kib);
                if (r < 0)
                        return r;
        }
        if (groups & XVP_DOMAIN_STATS_VCPU) {
                r = domain_stats_vcpus(h, s, &b);
                if (r < 0)
                        return r;
        }

        proc_ref_to_wire(&s->ref, &ret->dom);
        ret->params.params_len = (u_int) b.n;
        ret->params.params_val = TAKE_PTR(b.params);
        b.n = 0;
        return 0;
}

static void stats_records_free(xvp_domain_stats_record *recs, size_t n) {
        if (!recs)
                return;
        for (size_t i = 0; i < n; i++) {
                free(recs[i].dom.name);
                typed_params_free(recs[i].params.params_val, recs[i].params.params_len);
        }
        free(recs);
}

int proc_connect_get_all_domain_stats(Manager *m, Client *c, const xvp_connect_get_all_domain_stats_args *args,
                                      xvp_connect_get_all_domain_stats_ret *ret, XvError *error) {
        _cleanup_(summary_list_done) SummaryList list = {};
        xvp_domain_stats_record *recs = NULL;
        unsigned groups, filter;
        XvHypervisor *h;
        size_t k = 0;
        int n, r;

        r = proc_check_flags(args->flags, (LIST_FILTERS_ACTIVE | LIST_FILTERS_PERSISTENT | LIST_FILTERS_STATE) |
                             GET_ALL_STATS_NOWAIT | GET_ALL_STATS_BACKING | GET_ALL_STATS_ENFORCE_STATS, error);
        if (r < 0)
                return r;

        groups = args->stats == 0 ? DOMAIN_STATS_SUPPORTED : args->stats;
        if ((args->flags & GET_ALL_STATS_ENFORCE_STATS) && (groups & ~DOMAIN_STATS_SUPPORTED))
                return xv_error_setf(error, XVP_ERR_ARGUMENT_UNSUPPORTED,
                                     "Stats types bits 0x%x are not supported by this daemon",
                                     groups & ~DOMAIN_STATS_SUPPORTED);
        groups &= DOMAIN_STATS_SUPPORTED;
        filter = args->flags & (LIST_FILTERS_ACTIVE | LIST_FILTERS_PERSISTENT | LIST_FILTERS_STATE);

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        /* One pass over the host, whether the client named domains or not. */
        n = list_all(h, c, args->doms.doms_len > 0 ? 0 : filter, &list, error);
        if (n < 0)
                return n;

        if (args->doms.doms_len > 0) {
                /* Exactly the named domains, in the client's order; each must exist. */
                for (u_int i = 0; i < args->doms.doms_len; i++) {
                        bool found = false;

                        for (size_t j = 0; j < list.n; j++)
                                if (list.items[j].ref.name &&
                                    memcmp(list.items[j].ref.uuid.bytes, args->doms.doms_val[i].uuid, UUID_RAW_LEN) == 0) {
                                        found = true;
                                        break;
                                }
                        if (!found)
                                return xv_error_setf(error, XVP_ERR_NO_DOMAIN, "no domain with matching uuid '%s'",
                                                     args->doms.doms_val[i].name);
                }
        }

        recs = new0(xvp_domain_stats_record, MAX(list.n, (size_t) 1));
        if (!recs)
                return -ENOMEM;

        if (args->doms.doms_len > 0) {
                for (u_int i = 0; i < args->doms.doms_len && k < XVP_DOMAIN_LIST_MAX; i++)
                        for (size_t j = 0; j < list.n; j++) {
                                HvDomainSummary *s = &list.items[j];

                                if (!s->ref.name ||
                                    memcmp(s->ref.uuid.bytes, args->doms.doms_val[i].uuid, UUID_RAW_LEN) != 0)
                                        continue;
                                if (!summary_matches(s, filter))
                                        break;
                                r = domain_stats_record(h, s, groups, &recs[k]);
                                if (r < 0) {
                                        stats_records_free(recs, k + 1);
                                        return r;
                                }
                                k++;
                                break;
                        }
        } else {
                for (size_t j = 0; j < list.n && k < XVP_DOMAIN_LIST_MAX; j++) {
                        if (!list.items[j].ref.name)
                                continue;
                        r = domain_stats_record(h, &list.items[j], groups, &recs[k]);
                        if (r < 0) {
                                stats_records_free(recs, k + 1);
                                return r;
                        }
                        k++;
                }
        }

        ret->ret_stats.ret_stats_len = (u_int) k;
        ret->ret_stats.ret_stats_val = recs;
        return 0;
}
