/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Handlers of the connection-level procedures: authentication list, open/close, feature
 * queries, host identity, and event registration. All of them are @blocking: no except
 * GET_VERSION, so most run on the loop thread and may use the client's connection state.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "xv-alloc.h"
#include "xv-log.h"
#include "xv-parse-util.h"
#include "xvd-client.h"
#include "xvd-config.h"
#include "xvd-dispatch-table.h"
#include "xvd-manager.h"

#define CONNECT_URI_DEFAULT "xen:///system"

int proc_auth_list(Manager *m, Client *c, const void *args, xvp_auth_list_ret *ret, XvError *error) {
        xvp_auth_type *types;

        /* libvirtd's answer: the socket's auth type, except for root, who is never asked. */
        ret->types.types_len = 0;
        ret->types.types_val = NULL;
        if (!client_offers_polkit(c) || client_is_authenticated(c))
                return 0;

        types = new(xvp_auth_type, 1);
        if (!types)
                return -ENOMEM;
        types[0] = XVP_AUTH_POLKIT;
        ret->types.types_len = 1;
        ret->types.types_val = types;
        return 0;
}

int proc_auth_polkit(Manager *m, Client *c, const void *args, xvp_auth_polkit_ret *ret, XvError *error) {
        /* The dispatcher asked polkit before running this; reaching here means the client is in. */
        if (!client_is_authenticated(c))
                return xv_error_set_full(error, -EACCES, XVP_ERR_AUTH_FAILED, XVP_FROM_POLKIT,
                                         "access denied by policy");
        ret->complete = 1;
        return 0;
}

int proc_connect_open(Manager *m, Client *c, const xvp_connect_open_args *args, void *ret, XvError *error) {
        const char *name = args->name ? *args->name : NULL;
        bool read_only = args->flags & XVP_CONNECT_RO;
        int r;

        if (client_is_open(c))
                return xv_error_setf(error, XVP_ERR_INTERNAL, "connection already open");
        if (args->flags & ~(unsigned) XVP_CONNECT_RO)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "unsupported flags (0x%x) in function %s",
                                     args->flags & ~(unsigned) XVP_CONNECT_RO, "connect-open");

        /* The clients strip transport and query: "xen:///system", "xen:///", "xen:///session".
         * No name at all means the default connection. */
        if (name && strncmp(name, "xen", 3) != 0)
                return xv_error_setf(error, XVP_ERR_NO_CONNECT, "%s", name);

        /* The read-only socket stays read-only whatever the flags say. */
        r = client_set_open(c, name ?: CONNECT_URI_DEFAULT, read_only || client_is_ro_socket(c));
        if (r < 0)
                return r;

        log_debug("Client %s opened '%s'%s.", client_get_description(c), name ?: CONNECT_URI_DEFAULT,
                  client_is_read_only(c) ? " read-only" : "");
        return 0;
}

int proc_connect_close(Manager *m, Client *c, const void *args, void *ret, XvError *error) {
        /* libvirtd closes the socket right after this reply; so do we. */
        client_set_closed(c);
        client_close_after_flush(c);
        return 0;
}

int proc_connect_supports_feature(Manager *m, Client *c, const xvp_connect_supports_feature_args *args,
                                  xvp_connect_supports_feature_ret *ret, XvError *error) {
        switch (args->feature) {
        case XVP_FEATURE_PROGRAM_KEEPALIVE:
                /* Asking is the client's consent: from now on idle clients get pinged. */
                client_enable_keepalive(c);
                ret->supported = 1;
                break;
        case XVP_FEATURE_REMOTE_EVENT_CALLBACK:
        case XVP_FEATURE_MIGRATION_V1:
                /* Migration v1 (prepare/perform/finish over XenD's op=migrate), what libvirt's
                 * Xen driver offered too. */
                ret->supported = 1;
                break;
        default:
                /* Never an error: an error would make some API calls fail instead of falling back. */
                ret->supported = 0;
                break;
        }
        return 0;
}

int proc_connect_get_type(Manager *m, Client *c, const void *args, xvp_connect_get_type_ret *ret,
                          XvError *error) {
        char *t = strdup(hypervisor_get_type(manager_get_hypervisor(m)));

        if (!t)
                return -ENOMEM;
        ret->type = t;
        return 0;
}

int proc_connect_get_version(Manager *m, Client *c, const void *args, xvp_connect_get_version_ret *ret,
                             XvError *error) {
        uint64_t v;
        int r;

        r = hypervisor_get_version(manager_get_hypervisor(m), &v, error);
        if (r < 0)
                return r;
        ret->hv_ver = v;
        return 0;
}

/* PACKAGE_VERSION "major.minor.micro" as libvirt encodes versions: major * 10^6 + minor * 10^3 + micro. */
static int parse_version(const char *s, uint64_t *ret) {
        uint64_t v = 0;
        const char *p = s;

        for (unsigned i = 0; i < 3; i++) {
                uint64_t part = 0;
                const char *end;

                if (parse_u64_prefix(p, &part, &end) < 0 || part > 999)
                        return -EINVAL;
                v = v * 1000 + part;
                if (*end == '.')
                        p = end + 1;
                else if (*end == '\0') {
                        for (unsigned j = i + 1; j < 3; j++)
                                v *= 1000;
                        break;
                } else
                        return -EINVAL;
        }
        *ret = v;
        return 0;
}

int proc_connect_get_lib_version(Manager *m, Client *c, const void *args, xvp_connect_get_lib_version_ret *ret,
                                 XvError *error) {
        uint64_t v;

        if (parse_version(PACKAGE_VERSION, &v) < 0)
                return xv_error_setf(error, XVP_ERR_INTERNAL, "cannot parse version '%s'", PACKAGE_VERSION);
        ret->lib_ver = v;
        return 0;
}

int proc_connect_get_hostname(Manager *m, Client *c, const void *args, xvp_connect_get_hostname_ret *ret,
                              XvError *error) {
        char *h = NULL;
        int r;

        r = hypervisor_get_hostname(manager_get_hypervisor(m), &h, error);
        if (r < 0)
                return r;
        ret->hostname = h;
        return 0;
}

int proc_connect_get_host_status(Manager *m, Client *c, const void *args, xvp_connect_get_host_status_ret *ret,
                                 XvError *error) {
        /* The authorization keys are read once at startup (not reloadable): safe on a worker. */
        const Config *config = manager_get_config(m);
        HvStatus st = {};

        hypervisor_probe_status(manager_get_hypervisor(m), &st);
        ret->backend = strdup(st.backend ?: "xend");
        if (!ret->backend)
                return -ENOMEM;
        ret->xend_up = st.xend_ok;
        ret->xend_config_version = st.xend_config_version;
        ret->xenstore_up = st.xenstore_ok;
        ret->hypercalls_up = st.hypercalls_ok;
        ret->xm_dir_active = st.xm_dir_active;
        ret->polkit_auth = config->auth_unix_rw == CONFIG_AUTH_POLKIT || config->auth_unix_ro == CONFIG_AUTH_POLKIT;
        ret->polkit_acls = config->access_polkit;
        return 0;
}

int proc_connect_get_uri(Manager *m, Client *c, const void *args, xvp_connect_get_uri_ret *ret, XvError *error) {
        char *u = strdup(client_get_uri(c) ?: CONNECT_URI_DEFAULT);

        if (!u)
                return -ENOMEM;
        ret->uri = u;
        return 0;
}

int proc_connect_is_secure(Manager *m, Client *c, const void *args, xvp_connect_is_secure_ret *ret,
                           XvError *error) {
        /* A local UNIX socket: nobody can eavesdrop, as libvirtd answers for its unix sockets. */
        ret->secure = 1;
        return 0;
}

int proc_connect_domain_event_callback_register_any(
                Manager *m,
                Client *c,
                const xvp_connect_domain_event_callback_register_any_args *args,
                xvp_connect_domain_event_callback_register_any_ret *ret,
                XvError *error) {

        XvUuid uuid;
        int id, r;

        /* Only lifecycle events exist on Xen here; virsh event --all tolerates the other ids failing. */
        if (args->event_id != XVP_DOMAIN_EVENT_ID_LIFECYCLE)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "unsupported event ID %d", args->event_id);

        if (args->dom)
                memcpy(uuid.bytes, args->dom->uuid, sizeof(uuid.bytes));

        id = manager_next_callback_id(m);
        r = client_add_event_callback(c, id, args->event_id, args->dom ? &uuid : NULL);
        if (r == -E2BIG)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "too many event callbacks on this connection (limit %u)",
                                     CLIENT_EVENT_CALLBACKS_MAX);
        if (r < 0)
                return r;

        ret->callback_id = id;
        return 0;
}

int proc_connect_domain_event_callback_deregister_any(
                Manager *m,
                Client *c,
                const xvp_connect_domain_event_callback_deregister_any_args *args,
                void *ret,
                XvError *error) {

        if (client_remove_event_callback(c, args->callback_id) < 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "callback %d not registered", args->callback_id);
        return 0;
}

int proc_connect_domain_event_register_any(Manager *m, Client *c, const xvp_connect_domain_event_register_any_args *args,
                                           void *ret, XvError *error) {
        if (args->event_id != XVP_DOMAIN_EVENT_ID_LIFECYCLE)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "unsupported event ID %d", args->event_id);
        if (client_get_legacy_event(c, args->event_id))
                return xv_error_setf(error, XVP_ERR_INTERNAL, "domain event %d already registered", args->event_id);
        return client_set_legacy_event(c, args->event_id, true);
}

int proc_connect_domain_event_deregister_any(Manager *m, Client *c,
                                             const xvp_connect_domain_event_deregister_any_args *args,
                                             void *ret, XvError *error) {
        if (!client_get_legacy_event(c, args->event_id))
                return xv_error_setf(error, XVP_ERR_INTERNAL, "domain event %d not registered", args->event_id);
        return client_set_legacy_event(c, args->event_id, false);
}

/* The oldest pair (105/106) is the lifecycle case of 167/168: libvirtd records both as the same
 * legacy lifecycle registration, so they share the flag, and delivery is MESSAGE 107 either way.
 * libvirtd leaves cb_registered at 0 and stock clients decode the reply as void; we answer 1
 * because the flag does say that a registration is now in place. */
int proc_connect_domain_event_register(Manager *m, Client *c, const void *args,
                                       xvp_connect_domain_event_register_ret *ret, XvError *error) {
        int r;

        if (client_get_legacy_event(c, XVP_DOMAIN_EVENT_ID_LIFECYCLE))
                return xv_error_setf(error, XVP_ERR_INTERNAL, "domain event %d already registered",
                                     XVP_DOMAIN_EVENT_ID_LIFECYCLE);
        r = client_set_legacy_event(c, XVP_DOMAIN_EVENT_ID_LIFECYCLE, true);
        if (r < 0)
                return r;
        ret->cb_registered = 1;
        return 0;
}

int proc_connect_domain_event_deregister(Manager *m, Client *c, const void *args,
                                         xvp_connect_domain_event_deregister_ret *ret, XvError *error) {
        int r;

        if (!client_get_legacy_event(c, XVP_DOMAIN_EVENT_ID_LIFECYCLE))
                return xv_error_setf(error, XVP_ERR_INTERNAL, "domain event %d not registered",
                                     XVP_DOMAIN_EVENT_ID_LIFECYCLE);
        r = client_set_legacy_event(c, XVP_DOMAIN_EVENT_ID_LIFECYCLE, false);
        if (r < 0)
                return r;
        ret->cb_registered = 1;
        return 0;
}

int proc_connect_register_close_callback(Manager *m, Client *c, const void *args, void *ret, XvError *error) {
        /* Accepted for completeness; feature 15 is answered 0, so stock clients do not send it. */
        client_set_close_callback(c, true);
        return 0;
}

int proc_connect_unregister_close_callback(Manager *m, Client *c, const void *args, void *ret, XvError *error) {
        client_set_close_callback(c, false);
        return 0;
}
