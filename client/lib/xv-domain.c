/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Domain handles and the domain procedures: thin stubs over conn_call(), one per API function.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-client.h"

/* ------------------------------------------------------------------------------------------
 * Handles
 */

int domain_new(xv_conn *c, const char *name, const uint8_t uuid[16], int id, xv_domain **ret) {
        xv_domain *d = new0(xv_domain, 1);
        XvUuid u;

        if (!d)
                return -ENOMEM;
        d->name = strdup(name ?: "");
        if (!d->name) {
                free(d);
                return -ENOMEM;
        }
        atomic_init(&d->n_ref, 1);
        memcpy(d->uuid, uuid, sizeof(d->uuid));
        memcpy(u.bytes, uuid, sizeof(u.bytes));
        uuid_format(&u, d->uuid_string);
        d->id = id;
        d->conn = xv_conn_ref(c);
        *ret = d;
        return 0;
}

int domain_from_wire(xv_conn *c, const xvp_nonnull_domain *w, xv_domain **ret) {
        return domain_new(c, w->name, (const uint8_t *) w->uuid, w->id, ret);
}

xvp_nonnull_domain domain_to_wire(xv_domain *d) {
        xvp_nonnull_domain w = { .id = -1 };

        if (d) {
                w.name = d->name;
                memcpy(w.uuid, d->uuid, sizeof(w.uuid));
                w.id = d->id;
        }
        return w;
}

xv_domain *xv_domain_ref(xv_domain *d) {
        if (d)
                atomic_fetch_add(&d->n_ref, 1);
        return d;
}

xv_domain *xv_domain_unref(xv_domain *d) {
        if (!d || atomic_fetch_sub(&d->n_ref, 1) != 1)
                return NULL;
        free(d->name);
        xv_conn_unref(d->conn);
        free(d);
        return NULL;
}

const char *xv_domain_get_name(xv_domain *d) {
        return d ? d->name : NULL;
}

void xv_domain_get_uuid(xv_domain *d, uint8_t ret[16]) {
        if (d && ret)
                memcpy(ret, d->uuid, sizeof(d->uuid));
}

const char *xv_domain_get_uuid_string(xv_domain *d) {
        return d ? d->uuid_string : NULL;
}

int xv_domain_get_id(xv_domain *d) {
        return d ? d->id : -1;
}

xv_conn *xv_domain_get_conn(xv_domain *d) {
        return d ? d->conn : NULL;
}

int domain_call(xv_domain *d, int proc, xdrproc_t args_filter, const void *args, xdrproc_t ret_filter, void *ret,
                xv_error *error) {
        if (!d)
                return lib_error_setf(ERR(error), -EINVAL, XVP_ERR_INVALID_DOMAIN, XVP_FROM_NONE, "%s", "NULL domain");
        return conn_call(d->conn, proc, args_filter, args, ret_filter, ret, ERR(error));
}

int conn_call_public(xv_conn *c, int proc, xdrproc_t args_filter, const void *args, xdrproc_t ret_filter,
                     void *ret, xv_error *error) {
        int r = check_conn(c, ERR(error));

        if (r < 0)
                return r;
        return conn_call(c, proc, args_filter, args, ret_filter, ret, ERR(error));
}

/* Turns a reply's domain into a handle for *@ret (NULL: not wanted); frees the wire copy. */
static int domain_reply(xv_conn *c, xvp_nonnull_domain *w, xv_domain **ret) {
        int r = 0;

        if (ret)
                r = domain_from_wire(c, w, ret);
        xdr_free(XDR(xvp_nonnull_domain), (char *) w);
        return r;
}

/* ------------------------------------------------------------------------------------------
 * Lookups and lists
 */

int xv_domain_lookup_by_name(xv_conn *c, const char *name, xv_domain **ret, xv_error *error) {
        xvp_domain_lookup_by_name_args args = { .name = (char *) name };
        xvp_domain_lookup_by_name_ret reply = {};
        int r;

        r = check_arg(name && ret, "name and ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        r = conn_call_public(c, XVP_PROC_DOMAIN_LOOKUP_BY_NAME, XDR(xvp_domain_lookup_by_name_args), &args,
                             XDR(xvp_domain_lookup_by_name_ret), &reply, error);
        if (r < 0)
                return r;
        return domain_reply(c, &reply.dom, ret);
}

int xv_domain_lookup_by_id(xv_conn *c, int id, xv_domain **ret, xv_error *error) {
        xvp_domain_lookup_by_id_args args = { .id = id };
        xvp_domain_lookup_by_id_ret reply = {};
        int r;

        r = check_arg(ret, "ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        r = conn_call_public(c, XVP_PROC_DOMAIN_LOOKUP_BY_ID, XDR(xvp_domain_lookup_by_id_args), &args,
                             XDR(xvp_domain_lookup_by_id_ret), &reply, error);
        if (r < 0)
                return r;
        return domain_reply(c, &reply.dom, ret);
}

int xv_domain_lookup_by_uuid(xv_conn *c, const uint8_t uuid[16], xv_domain **ret, xv_error *error) {
        xvp_domain_lookup_by_uuid_args args = {};
        xvp_domain_lookup_by_uuid_ret reply = {};
        int r;

        r = check_arg(uuid && ret, "uuid and ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        memcpy(args.uuid, uuid, sizeof(args.uuid));
        r = conn_call_public(c, XVP_PROC_DOMAIN_LOOKUP_BY_UUID, XDR(xvp_domain_lookup_by_uuid_args), &args,
                             XDR(xvp_domain_lookup_by_uuid_ret), &reply, error);
        if (r < 0)
                return r;
        return domain_reply(c, &reply.dom, ret);
}

int xv_domain_lookup_by_uuid_string(xv_conn *c, const char *uuid, xv_domain **ret, xv_error *error) {
        XvUuid u;
        int r;

        r = check_arg(uuid && ret, "uuid and ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        if (uuid_from_string(uuid, &u) < 0)
                return lib_error_setf(ERR(error), -EINVAL, XVP_ERR_INVALID_ARG, XVP_FROM_NONE,
                                      "malformed UUID '%s'", uuid);
        return xv_domain_lookup_by_uuid(c, u.bytes, ret, error);
}

void xv_domain_list_free(xv_domain **list) {
        if (!list)
                return;
        for (xv_domain **d = list; *d; d++)
                xv_domain_unref(*d);
        free(list);
}

int xv_conn_list_all_domains(xv_conn *c, unsigned flags, xv_domain ***ret, size_t *ret_n, xv_error *error) {
        xvp_connect_list_all_domains_args args = { .need_results = 1, .flags = flags };
        xvp_connect_list_all_domains_ret reply = {};
        xv_domain **list;
        size_t n;
        int r;

        r = check_arg(ret, "ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        r = conn_call_public(c, XVP_PROC_CONNECT_LIST_ALL_DOMAINS, XDR(xvp_connect_list_all_domains_args), &args,
                             XDR(xvp_connect_list_all_domains_ret), &reply, error);
        if (r < 0)
                return r;

        /* The array is bounded by XVP_DOMAIN_LIST_MAX in the decoder already. */
        n = reply.domains.domains_len;
        list = new0(xv_domain *, n + 1);
        if (!list) {
                xdr_free(XDR(xvp_connect_list_all_domains_ret), (char *) &reply);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                r = domain_from_wire(c, &reply.domains.domains_val[i], &list[i]);
                if (r < 0) {
                        xv_domain_list_free(list);
                        xdr_free(XDR(xvp_connect_list_all_domains_ret), (char *) &reply);
                        return r;
                }
        }
        xdr_free(XDR(xvp_connect_list_all_domains_ret), (char *) &reply);
        *ret = list;
        if (ret_n)
                *ret_n = n;
        return 0;
}

static int conn_get_int(xv_conn *c, int proc, int *ret, xv_error *error) {
        int reply = 0, r;

        r = check_arg(ret, "ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        /* Every {int} reply struct has the layout of one int. */
        r = conn_call_public(c, proc, NULL, NULL, XDR(int), &reply, error);
        if (r < 0)
                return r;
        *ret = reply;
        return 0;
}

int xv_conn_num_of_domains(xv_conn *c, int *ret, xv_error *error) {
        return conn_get_int(c, XVP_PROC_CONNECT_NUM_OF_DOMAINS, ret, error);
}

int xv_conn_num_of_defined_domains(xv_conn *c, int *ret, xv_error *error) {
        return conn_get_int(c, XVP_PROC_CONNECT_NUM_OF_DEFINED_DOMAINS, ret, error);
}

/* ------------------------------------------------------------------------------------------
 * State and information
 */

static const char *const state_names[] = {
        [XV_DOMAIN_NOSTATE] = "no state",
        [XV_DOMAIN_RUNNING] = "running",
        [XV_DOMAIN_BLOCKED] = "idle",
        [XV_DOMAIN_PAUSED] = "paused",
        [XV_DOMAIN_SHUTDOWN] = "in shutdown",
        [XV_DOMAIN_SHUTOFF] = "shut off",
        [XV_DOMAIN_CRASHED] = "crashed",
        [XV_DOMAIN_PMSUSPENDED] = "pmsuspended",
};

const char *xv_domain_state_to_string(int state) {
        if (state < 0 || (size_t) state >= ELEMENTSOF(state_names))
                return "no state";
        return state_names[state];
}

static const char *const running_reasons[] = {
        "unknown", "booted", "migrated", "restored", "from snapshot", "unpaused", "migration canceled",
        "save canceled", "event wakeup", "crashed", "post-copy", "post-copy failed",
};
static const char *const paused_reasons[] = {
        "unknown", "user", "migrating", "saving", "dumping", "I/O error", "watchdog", "from snapshot",
        "shutting down", "creating snapshot", "crashed", "starting up", "post-copy", "post-copy failed",
};
static const char *const shutdown_reasons[] = { "unknown", "user" };
static const char *const shutoff_reasons[] = {
        "unknown", "shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot", "daemon",
};
static const char *const crashed_reasons[] = { "unknown", "panicked" };
static const char *const unknown_reasons[] = { "unknown" };

const char *xv_domain_state_reason_to_string(int state, int reason) {
        const char *const *names;
        size_t n;

        switch (state) {
        case XV_DOMAIN_RUNNING:
                names = running_reasons, n = ELEMENTSOF(running_reasons);
                break;
        case XV_DOMAIN_PAUSED:
                names = paused_reasons, n = ELEMENTSOF(paused_reasons);
                break;
        case XV_DOMAIN_SHUTDOWN:
                names = shutdown_reasons, n = ELEMENTSOF(shutdown_reasons);
                break;
        case XV_DOMAIN_SHUTOFF:
                names = shutoff_reasons, n = ELEMENTSOF(shutoff_reasons);
                break;
        case XV_DOMAIN_CRASHED:
                names = crashed_reasons, n = ELEMENTSOF(crashed_reasons);
                break;
        default:
                names = unknown_reasons, n = ELEMENTSOF(unknown_reasons);
                break;
        }
        if (reason < 0 || (size_t) reason >= n)
                return "unknown";
        return names[reason];
}

int xv_domain_get_info(xv_domain *d, xv_domain_info *ret, xv_error *error) {
        xvp_domain_get_info_args args = { .dom = domain_to_wire(d) };
        xvp_domain_get_info_ret reply = {};
        int r;

        if (!ret)
                return check_arg(false, "ret must not be NULL", ERR(error));
        r = domain_call(d, XVP_PROC_DOMAIN_GET_INFO, XDR(xvp_domain_get_info_args), &args,
                        XDR(xvp_domain_get_info_ret), &reply, error);
        if (r < 0)
                return r;
        *ret = (xv_domain_info) {
                .state = reply.state,
                .max_mem_kib = reply.max_mem,
                .memory_kib = reply.memory,
                .nr_virt_cpu = reply.nr_virt_cpu,
                .cpu_time_ns = reply.cpu_time,
        };
        return 0;
}

int xv_domain_get_state(xv_domain *d, int *ret_state, int *ret_reason, xv_error *error) {
        xvp_domain_get_state_args args = { .dom = domain_to_wire(d) };
        xvp_domain_get_state_ret reply = {};
        int r;

        r = domain_call(d, XVP_PROC_DOMAIN_GET_STATE, XDR(xvp_domain_get_state_args), &args,
                        XDR(xvp_domain_get_state_ret), &reply, error);
        if (r < 0)
                return r;
        if (ret_state)
                *ret_state = reply.state;
        if (ret_reason)
                *ret_reason = reply.reason;
        return 0;
}

/* The procedures whose args are just the domain and whose reply is one int. */
static int domain_get_int(xv_domain *d, int proc, int *ret, xv_error *error) {
        xvp_nonnull_domain args = domain_to_wire(d);
        int reply = 0, r;

        r = check_arg(ret, "ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        r = domain_call(d, proc, XDR(xvp_nonnull_domain), &args, XDR(int), &reply, error);
        if (r < 0)
                return r;
        *ret = reply;
        return 0;
}

static int domain_get_bool(xv_domain *d, int proc, bool *ret, xv_error *error) {
        int v = 0, r;

        r = check_arg(ret, "ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        r = domain_get_int(d, proc, &v, error);
        if (r < 0)
                return r;
        *ret = v != 0;
        return 0;
}

int xv_domain_is_active(xv_domain *d, bool *ret, xv_error *error) {
        return domain_get_bool(d, XVP_PROC_DOMAIN_IS_ACTIVE, ret, error);
}

int xv_domain_is_persistent(xv_domain *d, bool *ret, xv_error *error) {
        return domain_get_bool(d, XVP_PROC_DOMAIN_IS_PERSISTENT, ret, error);
}

int xv_domain_get_autostart(xv_domain *d, bool *ret, xv_error *error) {
        return domain_get_bool(d, XVP_PROC_DOMAIN_GET_AUTOSTART, ret, error);
}

int xv_domain_get_max_vcpus(xv_domain *d, int *ret, xv_error *error) {
        return domain_get_int(d, XVP_PROC_DOMAIN_GET_MAX_VCPUS, ret, error);
}

int xv_domain_get_os_type(xv_domain *d, char **ret, xv_error *error) {
        xvp_domain_get_os_type_args args = { .dom = domain_to_wire(d) };
        xvp_domain_get_os_type_ret reply = {};
        int r;

        r = check_arg(ret, "ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        r = domain_call(d, XVP_PROC_DOMAIN_GET_OS_TYPE, XDR(xvp_domain_get_os_type_args), &args,
                        XDR(xvp_domain_get_os_type_ret), &reply, error);
        if (r < 0)
                return r;
        *ret = steal_string(&reply.type);
        return 0;
}

int xv_domain_get_max_memory(xv_domain *d, uint64_t *ret_kib, xv_error *error) {
        xvp_domain_get_max_memory_args args = { .dom = domain_to_wire(d) };
        xvp_domain_get_max_memory_ret reply = {};
        int r;

        r = check_arg(ret_kib, "ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        r = domain_call(d, XVP_PROC_DOMAIN_GET_MAX_MEMORY, XDR(xvp_domain_get_max_memory_args), &args,
                        XDR(xvp_domain_get_max_memory_ret), &reply, error);
        if (r < 0)
                return r;
        *ret_kib = reply.memory;
        return 0;
}

int xv_domain_get_xml_desc(xv_domain *d, unsigned flags, char **ret_xml, xv_error *error) {
        xvp_domain_get_xml_desc_args args = { .dom = domain_to_wire(d), .flags = flags };
        xvp_domain_get_xml_desc_ret reply = {};
        int r;

        r = check_arg(ret_xml, "ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        r = domain_call(d, XVP_PROC_DOMAIN_GET_XML_DESC, XDR(xvp_domain_get_xml_desc_args), &args,
                        XDR(xvp_domain_get_xml_desc_ret), &reply, error);
        if (r < 0)
                return r;
        *ret_xml = steal_string(&reply.xml);
        return 0;
}

int xv_domain_set_autostart(xv_domain *d, bool autostart, xv_error *error) {
        xvp_domain_set_autostart_args args = { .dom = domain_to_wire(d), .autostart = autostart };

        return domain_call(d, XVP_PROC_DOMAIN_SET_AUTOSTART, XDR(xvp_domain_set_autostart_args), &args, NULL, NULL,
                           error);
}

/* ------------------------------------------------------------------------------------------
 * Lifecycle
 */

int xv_domain_define_xml(xv_conn *c, const char *xml, unsigned flags, xv_domain **ret, xv_error *error) {
        xvp_domain_define_xml_flags_args args = { .xml = (char *) xml, .flags = flags };
        xvp_domain_define_xml_flags_ret reply = {};
        int r;

        r = check_arg(xml, "xml must not be NULL", ERR(error));
        if (r < 0)
                return r;
        /* Without flags the old procedure, which every daemon has (virsh does the same). */
        if (flags == 0)
                r = conn_call_public(c, XVP_PROC_DOMAIN_DEFINE_XML, XDR(xvp_domain_define_xml_args), &args,
                                     XDR(xvp_domain_define_xml_ret), &reply, error);
        else
                r = conn_call_public(c, XVP_PROC_DOMAIN_DEFINE_XML_FLAGS, XDR(xvp_domain_define_xml_flags_args),
                                     &args, XDR(xvp_domain_define_xml_flags_ret), &reply, error);
        if (r < 0)
                return r;
        return domain_reply(c, &reply.dom, ret);
}

int xv_domain_create_xml(xv_conn *c, const char *xml, unsigned flags, xv_domain **ret, xv_error *error) {
        xvp_domain_create_xml_args args = { .xml_desc = (char *) xml, .flags = flags };
        xvp_domain_create_xml_ret reply = {};
        int r;

        r = check_arg(xml, "xml must not be NULL", ERR(error));
        if (r < 0)
                return r;
        r = conn_call_public(c, XVP_PROC_DOMAIN_CREATE_XML, XDR(xvp_domain_create_xml_args), &args,
                             XDR(xvp_domain_create_xml_ret), &reply, error);
        if (r < 0)
                return r;
        return domain_reply(c, &reply.dom, ret);
}

int xv_domain_create(xv_domain *d, unsigned flags, xv_error *error) {
        xvp_domain_create_with_flags_args args = { .dom = domain_to_wire(d), .flags = flags };
        xvp_domain_create_with_flags_ret reply = {};
        int r;

        /* Handles are immutable: the new id is only in handles made after this. */
        r = domain_call(d, XVP_PROC_DOMAIN_CREATE_WITH_FLAGS, XDR(xvp_domain_create_with_flags_args), &args,
                        XDR(xvp_domain_create_with_flags_ret), &reply, error);
        if (r < 0)
                return r;
        return domain_reply(d->conn, &reply.dom, NULL);
}

/* The procedures whose args are the domain and flags, with a void reply. */
static int domain_flags_call(xv_domain *d, int proc, unsigned flags, xv_error *error) {
        xvp_domain_destroy_flags_args args = { .dom = domain_to_wire(d), .flags = flags };

        return domain_call(d, proc, XDR(xvp_domain_destroy_flags_args), &args, NULL, NULL, error);
}

/* The procedures whose args are the domain alone, with a void reply. */
static int domain_plain_call(xv_domain *d, int proc, xv_error *error) {
        xvp_nonnull_domain args = domain_to_wire(d);

        return domain_call(d, proc, XDR(xvp_nonnull_domain), &args, NULL, NULL, error);
}

int xv_domain_undefine(xv_domain *d, unsigned flags, xv_error *error) {
        return domain_flags_call(d, XVP_PROC_DOMAIN_UNDEFINE_FLAGS, flags, error);
}

int xv_domain_shutdown(xv_domain *d, unsigned flags, xv_error *error) {
        if (flags == 0)
                return domain_plain_call(d, XVP_PROC_DOMAIN_SHUTDOWN, error);
        return domain_flags_call(d, XVP_PROC_DOMAIN_SHUTDOWN_FLAGS, flags, error);
}

int xv_domain_reboot(xv_domain *d, unsigned flags, xv_error *error) {
        return domain_flags_call(d, XVP_PROC_DOMAIN_REBOOT, flags, error);
}

int xv_domain_destroy(xv_domain *d, unsigned flags, xv_error *error) {
        if (flags == 0)
                return domain_plain_call(d, XVP_PROC_DOMAIN_DESTROY, error);
        return domain_flags_call(d, XVP_PROC_DOMAIN_DESTROY_FLAGS, flags, error);
}

int xv_domain_suspend(xv_domain *d, xv_error *error) {
        return domain_plain_call(d, XVP_PROC_DOMAIN_SUSPEND, error);
}

int xv_domain_resume(xv_domain *d, xv_error *error) {
        return domain_plain_call(d, XVP_PROC_DOMAIN_RESUME, error);
}

int path_absolute(const char *path, char **ret, XvError *error) {
        _cleanup_free_ char *cwd = NULL;
        char *p;

        if (isempty(path))
                return lib_error_setf(error, -EINVAL, XVP_ERR_INVALID_ARG, XVP_FROM_NONE, "%s", "empty path");
        if (path[0] == '/')
                p = strdup(path);
        else {
                cwd = getcwd(NULL, 0);
                if (!cwd)
                        return lib_error_setf(error, -errno, XVP_ERR_SYSTEM, XVP_FROM_NONE,
                                              "cannot resolve '%s' against the working directory", path);
                if (asprintf(&p, "%s/%s", cwd, path) < 0)
                        p = NULL;
        }
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int xv_domain_save(xv_domain *d, const char *path, const char *dxml, unsigned flags, xv_error *error) {
        _cleanup_free_ char *to = NULL;
        int r;

        r = path_absolute(path, &to, ERR(error));
        if (r < 0)
                return r;

        xvp_nonnull_string x = (char *) dxml;
        xvp_domain_save_flags_args args = {
                .dom = domain_to_wire(d),
                .to = to,
                .dxml = dxml ? &x : NULL,
                .flags = flags,
        };
        if (!dxml && flags == 0)
                return domain_call(d, XVP_PROC_DOMAIN_SAVE, XDR(xvp_domain_save_args), &args, NULL, NULL, error);
        return domain_call(d, XVP_PROC_DOMAIN_SAVE_FLAGS, XDR(xvp_domain_save_flags_args), &args, NULL, NULL, error);
}

int xv_domain_restore(xv_conn *c, const char *path, const char *dxml, unsigned flags, xv_error *error) {
        _cleanup_free_ char *from = NULL;
        int r;

        r = path_absolute(path, &from, ERR(error));
        if (r < 0)
                return r;

        xvp_nonnull_string x = (char *) dxml;
        xvp_domain_restore_flags_args args = {
                .from = from,
                .dxml = dxml ? &x : NULL,
                .flags = flags,
        };
        if (!dxml && flags == 0)
                return conn_call_public(c, XVP_PROC_DOMAIN_RESTORE, XDR(xvp_domain_restore_args), &args, NULL,
                                        NULL, error);
        return conn_call_public(c, XVP_PROC_DOMAIN_RESTORE_FLAGS, XDR(xvp_domain_restore_flags_args), &args, NULL,
                                NULL, error);
}

int xv_domain_managed_save(xv_domain *d, unsigned flags, xv_error *error) {
        return domain_flags_call(d, XVP_PROC_DOMAIN_MANAGED_SAVE, flags, error);
}

int xv_domain_has_managed_save(xv_domain *d, bool *ret, xv_error *error) {
        xvp_domain_has_managed_save_image_args args = { .dom = domain_to_wire(d) };
        xvp_domain_has_managed_save_image_ret reply = {};
        int r;

        r = check_arg(ret, "ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        r = domain_call(d, XVP_PROC_DOMAIN_HAS_MANAGED_SAVE_IMAGE, XDR(xvp_domain_has_managed_save_image_args),
                        &args, XDR(xvp_domain_has_managed_save_image_ret), &reply, error);
        if (r < 0)
                return r;
        *ret = reply.result != 0;
        return 0;
}

int xv_domain_managed_save_remove(xv_domain *d, xv_error *error) {
        return domain_flags_call(d, XVP_PROC_DOMAIN_MANAGED_SAVE_REMOVE, 0, error);
}

int xv_domain_core_dump(xv_domain *d, const char *path, unsigned flags, xv_error *error) {
        _cleanup_free_ char *to = NULL;
        int r;

        r = path_absolute(path, &to, ERR(error));
        if (r < 0)
                return r;

        xvp_domain_core_dump_args args = { .dom = domain_to_wire(d), .to = to, .flags = flags };
        return domain_call(d, XVP_PROC_DOMAIN_CORE_DUMP, XDR(xvp_domain_core_dump_args), &args, NULL, NULL, error);
}

/* ------------------------------------------------------------------------------------------
 * Resources
 */

int xv_domain_set_memory(xv_domain *d, uint64_t kib, unsigned flags, xv_error *error) {
        xvp_domain_set_memory_flags_args args = { .dom = domain_to_wire(d), .memory = kib, .flags = flags };

        return domain_call(d, XVP_PROC_DOMAIN_SET_MEMORY_FLAGS, XDR(xvp_domain_set_memory_flags_args), &args, NULL,
                           NULL, error);
}

int xv_domain_set_max_memory(xv_domain *d, uint64_t kib, xv_error *error) {
        xvp_domain_set_max_memory_args args = { .dom = domain_to_wire(d), .memory = kib };

        return domain_call(d, XVP_PROC_DOMAIN_SET_MAX_MEMORY, XDR(xvp_domain_set_max_memory_args), &args, NULL,
                           NULL, error);
}

int xv_domain_set_vcpus(xv_domain *d, unsigned n, unsigned flags, xv_error *error) {
        xvp_domain_set_vcpus_flags_args args = { .dom = domain_to_wire(d), .nvcpus = n, .flags = flags };

        if (flags == 0)
                return domain_call(d, XVP_PROC_DOMAIN_SET_VCPUS, XDR(xvp_domain_set_vcpus_args), &args, NULL, NULL,
                                   error);
        return domain_call(d, XVP_PROC_DOMAIN_SET_VCPUS_FLAGS, XDR(xvp_domain_set_vcpus_flags_args), &args, NULL,
                           NULL, error);
}

int xv_domain_get_vcpus_flags(xv_domain *d, unsigned flags, int *ret, xv_error *error) {
        xvp_domain_get_vcpus_flags_args args = { .dom = domain_to_wire(d), .flags = flags };
        xvp_domain_get_vcpus_flags_ret reply = {};
        int r;

        if (!ret)
                return check_arg(false, "ret must not be NULL", ERR(error));
        r = domain_call(d, XVP_PROC_DOMAIN_GET_VCPUS_FLAGS, XDR(xvp_domain_get_vcpus_flags_args), &args,
                        XDR(xvp_domain_get_vcpus_flags_ret), &reply, error);
        if (r < 0)
                return r;
        *ret = reply.num;
        return 0;
}

void xv_vcpu_info_free(xv_vcpu_info *list, size_t n) {
        if (!list)
                return;
        for (size_t i = 0; i < n; i++)
                free(list[i].cpumap);
        free(list);
}

/* The number of host CPUs, as virsh sizes its maps: NODE_GET_CPU_MAP, else NODE_GET_INFO. */
static int host_cpus(xv_conn *c, int *ret, xv_error *error) {
        xvp_node_get_cpu_map_args args = {};
        xvp_node_get_cpu_map_ret reply = {};
        xv_node_info info;
        int r;

        r = conn_call(c, XVP_PROC_NODE_GET_CPU_MAP, XDR(xvp_node_get_cpu_map_args), &args,
                      XDR(xvp_node_get_cpu_map_ret), &reply, NULL);
        if (r >= 0) {
                *ret = reply.ret;
                xdr_free(XDR(xvp_node_get_cpu_map_ret), (char *) &reply);
                return 0;
        }
        r = xv_node_get_info(c, &info, error);
        if (r < 0)
                return r;
        *ret = (int) info.cpus;
        return 0;
}

int xv_domain_get_vcpus(xv_domain *d, xv_vcpu_info **ret, size_t *ret_n, size_t *ret_cpumap_len, xv_error *error) {
        xvp_domain_get_vcpus_ret reply = {};
        xv_domain_info info;
        xv_vcpu_info *list;
        int cpus, maplen, r;
        size_t n;

        if (!d || !ret || !ret_n)
                return check_arg(false, "domain, ret and ret_n must not be NULL", ERR(error));
        r = host_cpus(d->conn, &cpus, error);
        if (r < 0)
                return r;
        r = xv_domain_get_info(d, &info, error);
        if (r < 0)
                return r;
        if (cpus <= 0 || cpus > XVP_CPUMAP_MAX * 8 || info.nr_virt_cpu > XVP_VCPUINFO_MAX)
                return lib_error_setf(ERR(error), -EBADMSG, XVP_ERR_RPC, XVP_FROM_REMOTE,
                                      "host reports %d CPUs and %u vCPUs", cpus, info.nr_virt_cpu);
        maplen = (cpus + 7) / 8;

        xvp_domain_get_vcpus_args args = {
                .dom = domain_to_wire(d),
                .maxinfo = (int) info.nr_virt_cpu,
                .maplen = maplen,
        };
        r = domain_call(d, XVP_PROC_DOMAIN_GET_VCPUS, XDR(xvp_domain_get_vcpus_args), &args,
                        XDR(xvp_domain_get_vcpus_ret), &reply, error);
        if (r < 0)
                return r;

        /* libvirt's client-side checks: no more entries than asked for, maps within the buffer. */
        n = reply.info.info_len;
        if (n > info.nr_virt_cpu || reply.cpumaps.cpumaps_len > n * (size_t) maplen) {
                xdr_free(XDR(xvp_domain_get_vcpus_ret), (char *) &reply);
                return lib_error_setf(ERR(error), -EBADMSG, XVP_ERR_RPC, XVP_FROM_REMOTE,
                                      "host reports too many vCPUs: %zu > %u", n, info.nr_virt_cpu);
        }

        list = new0(xv_vcpu_info, n);
        if (!list) {
                xdr_free(XDR(xvp_domain_get_vcpus_ret), (char *) &reply);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                size_t off = i * (size_t) maplen;

                list[i].number = reply.info.info_val[i].number;
                list[i].state = reply.info.info_val[i].state;
                list[i].cpu_time_ns = reply.info.info_val[i].cpu_time;
                list[i].cpu = reply.info.info_val[i].cpu;
                list[i].cpumap = new0(uint8_t, maplen);
                if (!list[i].cpumap) {
                        xv_vcpu_info_free(list, n);
                        xdr_free(XDR(xvp_domain_get_vcpus_ret), (char *) &reply);
                        return -ENOMEM;
                }
                if (off < reply.cpumaps.cpumaps_len)
                        memcpy(list[i].cpumap, reply.cpumaps.cpumaps_val + off,
                               MIN((size_t) maplen, reply.cpumaps.cpumaps_len - off));
        }
        xdr_free(XDR(xvp_domain_get_vcpus_ret), (char *) &reply);

        *ret = list;
        *ret_n = n;
        if (ret_cpumap_len)
                *ret_cpumap_len = (size_t) maplen;
        return 0;
}

int xv_domain_pin_vcpu(xv_domain *d, unsigned vcpu, const uint8_t *cpumap, size_t cpumap_len, unsigned flags,
                       xv_error *error) {
        xvp_domain_pin_vcpu_flags_args args = {
                .dom = domain_to_wire(d),
                .vcpu = vcpu,
                .cpumap = { .cpumap_len = (u_int) cpumap_len, .cpumap_val = (char *) cpumap },
                .flags = flags,
        };
        int r;

        r = check_arg(cpumap && cpumap_len > 0 && cpumap_len <= XVP_CPUMAP_MAX,
                      "cpumap must hold 1 to 2048 bytes", ERR(error));
        if (r < 0)
                return r;
        if (flags == 0)
                return domain_call(d, XVP_PROC_DOMAIN_PIN_VCPU, XDR(xvp_domain_pin_vcpu_args), &args, NULL, NULL,
                                   error);
        return domain_call(d, XVP_PROC_DOMAIN_PIN_VCPU_FLAGS, XDR(xvp_domain_pin_vcpu_flags_args), &args, NULL,
                           NULL, error);
}

/* ------------------------------------------------------------------------------------------
 * Devices
 */

static int domain_device_call(xv_domain *d, int proc_plain, int proc_flags, const char *xml, unsigned flags,
                              xv_error *error) {
        xvp_domain_attach_device_flags_args args = { .dom = domain_to_wire(d), .xml = (char *) xml, .flags = flags };
        int r;

        r = check_arg(xml, "xml must not be NULL", ERR(error));
        if (r < 0)
                return r;
        if (flags == 0 && proc_plain > 0)
                return domain_call(d, proc_plain, XDR(xvp_domain_attach_device_args), &args, NULL, NULL, error);
        return domain_call(d, proc_flags, XDR(xvp_domain_attach_device_flags_args), &args, NULL, NULL, error);
}

int xv_domain_attach_device(xv_domain *d, const char *xml, unsigned flags, xv_error *error) {
        return domain_device_call(d, XVP_PROC_DOMAIN_ATTACH_DEVICE, XVP_PROC_DOMAIN_ATTACH_DEVICE_FLAGS, xml, flags,
                                  error);
}

int xv_domain_detach_device(xv_domain *d, const char *xml, unsigned flags, xv_error *error) {
        return domain_device_call(d, XVP_PROC_DOMAIN_DETACH_DEVICE, XVP_PROC_DOMAIN_DETACH_DEVICE_FLAGS, xml, flags,
                                  error);
}

int xv_domain_update_device(xv_domain *d, const char *xml, unsigned flags, xv_error *error) {
        return domain_device_call(d, 0, XVP_PROC_DOMAIN_UPDATE_DEVICE_FLAGS, xml, flags, error);
}

/* ------------------------------------------------------------------------------------------
 * Statistics
 */

int xv_domain_block_stats(xv_domain *d, const char *device, xv_block_stats *ret, xv_error *error) {
        xvp_domain_block_stats_args args = { .dom = domain_to_wire(d), .path = (char *) device };
        xvp_domain_block_stats_ret reply = {};
        int r;

        r = check_arg(device && ret, "device and ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        r = domain_call(d, XVP_PROC_DOMAIN_BLOCK_STATS, XDR(xvp_domain_block_stats_args), &args,
                        XDR(xvp_domain_block_stats_ret), &reply, error);
        if (r < 0)
                return r;
        *ret = (xv_block_stats) {
                .rd_req = reply.rd_req,
                .rd_bytes = reply.rd_bytes,
                .wr_req = reply.wr_req,
                .wr_bytes = reply.wr_bytes,
                .errs = reply.errs,
        };
        return 0;
}

int xv_domain_interface_stats(xv_domain *d, const char *device, xv_interface_stats *ret, xv_error *error) {
        xvp_domain_interface_stats_args args = { .dom = domain_to_wire(d), .device = (char *) device };
        xvp_domain_interface_stats_ret reply = {};
        int r;

        r = check_arg(device && ret, "device and ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        r = domain_call(d, XVP_PROC_DOMAIN_INTERFACE_STATS, XDR(xvp_domain_interface_stats_args), &args,
                        XDR(xvp_domain_interface_stats_ret), &reply, error);
        if (r < 0)
                return r;
        *ret = (xv_interface_stats) {
                .rx_bytes = reply.rx_bytes,
                .rx_packets = reply.rx_packets,
                .rx_errs = reply.rx_errs,
                .rx_drop = reply.rx_drop,
                .tx_bytes = reply.tx_bytes,
                .tx_packets = reply.tx_packets,
                .tx_errs = reply.tx_errs,
                .tx_drop = reply.tx_drop,
        };
        return 0;
}
