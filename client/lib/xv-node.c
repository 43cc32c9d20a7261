/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host and connection-level procedures: identity, versions, capabilities, node information and
 * the native configuration formats.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xv-client.h"

/* The procedures without arguments whose reply is one string. */
static int conn_get_string(xv_conn *c, int proc, char **ret, xv_error *error) {
        char *reply = NULL;
        int r;

        r = check_arg(ret, "ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        /* Every {string} reply struct has the layout of one xvp_nonnull_string. */
        r = conn_call_public(c, proc, NULL, NULL, XDR(xvp_nonnull_string), &reply, error);
        if (r < 0)
                return r;
        *ret = reply;
        return 0;
}

static int conn_get_u64(xv_conn *c, int proc, uint64_t *ret, xv_error *error) {
        u_quad_t reply = 0;
        int r;

        r = check_arg(ret, "ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        r = conn_call_public(c, proc, NULL, NULL, XDR(u_quad_t), &reply, error);
        if (r < 0)
                return r;
        *ret = reply;
        return 0;
}

int xv_conn_get_hostname(xv_conn *c, char **ret, xv_error *error) {
        return conn_get_string(c, XVP_PROC_CONNECT_GET_HOSTNAME, ret, error);
}

int xv_conn_get_type(xv_conn *c, char **ret, xv_error *error) {
        return conn_get_string(c, XVP_PROC_CONNECT_GET_TYPE, ret, error);
}

int xv_conn_get_capabilities(xv_conn *c, char **ret_xml, xv_error *error) {
        return conn_get_string(c, XVP_PROC_CONNECT_GET_CAPABILITIES, ret_xml, error);
}

int xv_conn_get_version(xv_conn *c, uint64_t *ret, xv_error *error) {
        return conn_get_u64(c, XVP_PROC_CONNECT_GET_VERSION, ret, error);
}

int xv_conn_get_lib_version(xv_conn *c, uint64_t *ret, xv_error *error) {
        return conn_get_u64(c, XVP_PROC_CONNECT_GET_LIB_VERSION, ret, error);
}

int xv_conn_get_max_vcpus(xv_conn *c, const char *type, int *ret, xv_error *error) {
        xvp_nonnull_string t = (char *) type;
        xvp_connect_get_max_vcpus_args args = { .type = type ? &t : NULL };
        xvp_connect_get_max_vcpus_ret reply = {};
        int r;

        r = check_arg(ret, "ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        r = conn_call_public(c, XVP_PROC_CONNECT_GET_MAX_VCPUS, XDR(xvp_connect_get_max_vcpus_args), &args,
                             XDR(xvp_connect_get_max_vcpus_ret), &reply, error);
        if (r < 0)
                return r;
        *ret = reply.max_vcpus;
        return 0;
}

int xv_conn_get_host_status(xv_conn *c, xv_host_status *ret, xv_error *error) {
        xvp_connect_get_host_status_ret reply = {};
        int r;

        if (!ret)
                return check_arg(false, "ret must not be NULL", ERR(error));
        r = conn_call_public(c, XVP_PROC_CONNECT_GET_HOST_STATUS, NULL, NULL,
                             XDR(xvp_connect_get_host_status_ret), &reply, error);
        if (r < 0)
                return r;
        *ret = (xv_host_status) {
                .xend_up = reply.xend_up,
                .xend_config_version = reply.xend_config_version,
                .xenstore_up = reply.xenstore_up,
                .hypercalls_up = reply.hypercalls_up,
                .xm_dir_active = reply.xm_dir_active,
                .polkit_auth = reply.polkit_auth,
                .polkit_acls = reply.polkit_acls,
        };
        (void) snprintf(ret->backend, sizeof(ret->backend), "%s", reply.backend ? reply.backend : "");
        xdr_free(XDR(xvp_connect_get_host_status_ret), (char *) &reply);
        return 0;
}

int xv_node_get_info(xv_conn *c, xv_node_info *ret, xv_error *error) {
        xvp_node_get_info_ret reply = {};
        int r;

        if (!ret)
                return check_arg(false, "ret must not be NULL", ERR(error));
        r = conn_call_public(c, XVP_PROC_NODE_GET_INFO, NULL, NULL, XDR(xvp_node_get_info_ret), &reply, error);
        if (r < 0)
                return r;

        *ret = (xv_node_info) {
                .memory_kib = reply.memory,
                .cpus = (unsigned) reply.cpus,
                .mhz = (unsigned) reply.mhz,
                .nodes = (unsigned) reply.nodes,
                .sockets = (unsigned) reply.sockets,
                .cores = (unsigned) reply.cores,
                .threads = (unsigned) reply.threads,
        };
        _Static_assert(sizeof(ret->model) == sizeof(reply.model), "model sizes differ");
        memcpy(ret->model, reply.model, sizeof(ret->model));
        ret->model[sizeof(ret->model) - 1] = '\0';
        return 0;
}

int xv_node_get_free_memory(xv_conn *c, uint64_t *ret_bytes, xv_error *error) {
        return conn_get_u64(c, XVP_PROC_NODE_GET_FREE_MEMORY, ret_bytes, error);
}

int xv_node_get_cells_free_memory(xv_conn *c, int start_cell, int max_cells, uint64_t *ret, int *ret_n,
                                  xv_error *error) {
        xvp_node_get_cells_free_memory_args args = { .start_cell = start_cell, .maxcells = max_cells };
        xvp_node_get_cells_free_memory_ret reply = {};
        int r;

        if (!ret || !ret_n || start_cell < 0 || max_cells <= 0 || max_cells > XVP_NODE_CELLS_MAX)
                return check_arg(false, "max_cells must be 1 to 1024 and start_cell not negative", ERR(error));
        r = conn_call_public(c, XVP_PROC_NODE_GET_CELLS_FREE_MEMORY, XDR(xvp_node_get_cells_free_memory_args),
                             &args, XDR(xvp_node_get_cells_free_memory_ret), &reply, error);
        if (r < 0)
                return r;

        /* The caller's array holds max_cells entries: never write more. */
        if (reply.cells.cells_len > (u_int) max_cells) {
                xdr_free(XDR(xvp_node_get_cells_free_memory_ret), (char *) &reply);
                return lib_error_setf(ERR(error), -EBADMSG, XVP_ERR_RPC, XVP_FROM_REMOTE,
                                      "too many cells: %u > %d", reply.cells.cells_len, max_cells);
        }
        for (u_int i = 0; i < reply.cells.cells_len; i++)
                ret[i] = reply.cells.cells_val[i];
        *ret_n = (int) reply.cells.cells_len;
        xdr_free(XDR(xvp_node_get_cells_free_memory_ret), (char *) &reply);
        return 0;
}

int xv_conn_domain_xml_from_native(xv_conn *c, const char *format, const char *config, char **ret_xml,
                                   xv_error *error) {
        xvp_connect_domain_xml_from_native_args args = {
                .native_format = (char *) format,
                .native_config = (char *) config,
        };
        xvp_connect_domain_xml_from_native_ret reply = {};
        int r;

        r = check_arg(format && config && ret_xml, "format, config and ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        r = conn_call_public(c, XVP_PROC_CONNECT_DOMAIN_XML_FROM_NATIVE, XDR(xvp_connect_domain_xml_from_native_args),
                             &args, XDR(xvp_connect_domain_xml_from_native_ret), &reply, error);
        if (r < 0)
                return r;
        *ret_xml = steal_string(&reply.domain_xml);
        return 0;
}

int xv_conn_domain_xml_to_native(xv_conn *c, const char *format, const char *xml, char **ret_config,
                                 xv_error *error) {
        xvp_connect_domain_xml_to_native_args args = {
                .native_format = (char *) format,
                .domain_xml = (char *) xml,
        };
        xvp_connect_domain_xml_to_native_ret reply = {};
        int r;

        r = check_arg(format && xml && ret_config, "format, xml and ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        r = conn_call_public(c, XVP_PROC_CONNECT_DOMAIN_XML_TO_NATIVE, XDR(xvp_connect_domain_xml_to_native_args),
                             &args, XDR(xvp_connect_domain_xml_to_native_ret), &reply, error);
        if (r < 0)
                return r;
        *ret_config = steal_string(&reply.native_config);
        return 0;
}
