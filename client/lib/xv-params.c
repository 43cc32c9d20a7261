/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Typed parameters: scheduler parameters and bulk domain statistics.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xv-alloc.h"
#include "xv-client.h"

void xv_params_free(xv_param *params, size_t n) {
        if (!params)
                return;
        for (size_t i = 0; i < n; i++)
                if (params[i].type == XV_PARAM_STRING)
                        free(params[i].value.s);
        free(params);
}

int params_from_wire(const xvp_typed_param *w, size_t n, xv_param **ret, XvError *error) {
        xv_param *p = new0(xv_param, n);

        if (!p)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const xvp_typed_param_value *v = &w[i].value;
                size_t len = strlen(w[i].field ?: "");

                /* libvirt's client refuses names that do not fit its 80-byte buffer too. */
                if (len >= XV_PARAM_FIELD_LENGTH) {
                        xv_params_free(p, i);
                        return lib_error_setf(error, -EBADMSG, XVP_ERR_INTERNAL, XVP_FROM_REMOTE,
                                              "parameter %.*s... too big for destination", 20, w[i].field);
                }
                memcpy(p[i].field, w[i].field ?: "", len + 1);
                p[i].type = v->type;
                switch (v->type) {
                case XVP_TYPED_PARAM_INT:
                        p[i].value.i = v->xvp_typed_param_value_u.i;
                        break;
                case XVP_TYPED_PARAM_UINT:
                        p[i].value.ui = v->xvp_typed_param_value_u.ui;
                        break;
                case XVP_TYPED_PARAM_LLONG:
                        p[i].value.l = v->xvp_typed_param_value_u.l;
                        break;
                case XVP_TYPED_PARAM_ULLONG:
                        p[i].value.ul = v->xvp_typed_param_value_u.ul;
                        break;
                case XVP_TYPED_PARAM_DOUBLE:
                        p[i].value.d = v->xvp_typed_param_value_u.d;
                        break;
                case XVP_TYPED_PARAM_BOOLEAN:
                        p[i].value.b = v->xvp_typed_param_value_u.b != 0;
                        break;
                case XVP_TYPED_PARAM_STRING:
                        p[i].value.s = strdup(v->xvp_typed_param_value_u.s ?: "");
                        if (!p[i].value.s) {
                                xv_params_free(p, i);
                                return -ENOMEM;
                        }
                        break;
                default:
                        /* The decoder refuses other types already. */
                        xv_params_free(p, i);
                        return lib_error_setf(error, -EBADMSG, XVP_ERR_RPC, XVP_FROM_REMOTE,
                                              "unknown parameter type %d", v->type);
                }
        }
        *ret = p;
        return 0;
}

void params_wire_free(xvp_typed_param *w, size_t n) {
        /* The names and strings are borrowed from the caller's xv_param array. */
        (void) n;
        free(w);
}

int params_to_wire(const xv_param *p, size_t n, xvp_typed_param **ret, XvError *error) {
        xvp_typed_param *w = new0(xvp_typed_param, n);

        if (!w)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                xvp_typed_param_value *v = &w[i].value;

                if (strnlen(p[i].field, XV_PARAM_FIELD_LENGTH) >= XV_PARAM_FIELD_LENGTH) {
                        free(w);
                        return lib_error_setf(error, -EINVAL, XVP_ERR_INVALID_ARG, XVP_FROM_NONE, "%s",
                                              "parameter name not NUL-terminated within 80 bytes");
                }
                w[i].field = (char *) p[i].field;
                v->type = p[i].type;
                switch (p[i].type) {
                case XV_PARAM_INT:
                        v->xvp_typed_param_value_u.i = p[i].value.i;
                        break;
                case XV_PARAM_UINT:
                        v->xvp_typed_param_value_u.ui = p[i].value.ui;
                        break;
                case XV_PARAM_LLONG:
                        v->xvp_typed_param_value_u.l = p[i].value.l;
                        break;
                case XV_PARAM_ULLONG:
                        v->xvp_typed_param_value_u.ul = p[i].value.ul;
                        break;
                case XV_PARAM_DOUBLE:
                        v->xvp_typed_param_value_u.d = p[i].value.d;
                        break;
                case XV_PARAM_BOOLEAN:
                        v->xvp_typed_param_value_u.b = p[i].value.b;
                        break;
                case XV_PARAM_STRING:
                        if (!p[i].value.s) {
                                free(w);
                                return lib_error_setf(error, -EINVAL, XVP_ERR_INVALID_ARG, XVP_FROM_NONE,
                                                      "string parameter '%s' without a value", p[i].field);
                        }
                        v->xvp_typed_param_value_u.s = p[i].value.s;
                        break;
                default:
                        free(w);
                        return lib_error_setf(error, -EINVAL, XVP_ERR_INVALID_ARG, XVP_FROM_NONE,
                                              "parameter '%s' has unknown type %d", p[i].field, p[i].type);
                }
        }
        *ret = w;
        return 0;
}

/* ------------------------------------------------------------------------------------------
 * Scheduler
 */

int xv_domain_get_scheduler_type(xv_domain *d, char **ret, int *ret_nparams, xv_error *error) {
        xvp_domain_get_scheduler_type_args args = { .dom = domain_to_wire(d) };
        xvp_domain_get_scheduler_type_ret reply = {};
        int r;

        r = check_arg(ret, "ret must not be NULL", ERR(error));
        if (r < 0)
                return r;
        r = domain_call(d, XVP_PROC_DOMAIN_GET_SCHEDULER_TYPE, XDR(xvp_domain_get_scheduler_type_args), &args,
                        XDR(xvp_domain_get_scheduler_type_ret), &reply, error);
        if (r < 0)
                return r;
        *ret = steal_string(&reply.type);
        if (ret_nparams)
                *ret_nparams = reply.nparams;
        return 0;
}

int xv_domain_get_scheduler_params(xv_domain *d, unsigned flags, xv_param **ret, size_t *ret_n, xv_error *error) {
        xvp_domain_get_scheduler_parameters_flags_ret reply = {};
        _cleanup_free_ char *type = NULL;
        int nparams = 0, r;

        if (!ret || !ret_n)
                return check_arg(false, "ret and ret_n must not be NULL", ERR(error));
        /* As virsh: the scheduler type says how many parameters to ask for. */
        r = xv_domain_get_scheduler_type(d, &type, &nparams, error);
        if (r < 0)
                return r;
        if (nparams < 0 || nparams > XVP_DOMAIN_SCHEDULER_PARAMETERS_MAX)
                return lib_error_setf(ERR(error), -EBADMSG, XVP_ERR_RPC, XVP_FROM_REMOTE,
                                      "scheduler reports %d parameters", nparams);

        xvp_domain_get_scheduler_parameters_flags_args args = {
                .dom = domain_to_wire(d),
                .nparams = nparams,
                .flags = flags,
        };
        if (flags == 0)
                r = domain_call(d, XVP_PROC_DOMAIN_GET_SCHEDULER_PARAMETERS, XDR(xvp_domain_get_scheduler_parameters_args),
                                &args, XDR(xvp_domain_get_scheduler_parameters_ret), &reply, error);
        else
                r = domain_call(d, XVP_PROC_DOMAIN_GET_SCHEDULER_PARAMETERS_FLAGS,
                                XDR(xvp_domain_get_scheduler_parameters_flags_args), &args,
                                XDR(xvp_domain_get_scheduler_parameters_flags_ret), &reply, error);
        if (r < 0)
                return r;

        if (reply.params.params_len > (u_int) nparams)
                r = lib_error_setf(ERR(error), -EBADMSG, XVP_ERR_RPC, XVP_FROM_REMOTE,
                                   "too many parameters '%u' for nparams '%d'", reply.params.params_len, nparams);
        else
                r = params_from_wire(reply.params.params_val, reply.params.params_len, ret, ERR(error));
        if (r >= 0)
                *ret_n = reply.params.params_len;
        xdr_free(XDR(xvp_domain_get_scheduler_parameters_flags_ret), (char *) &reply);
        return r < 0 ? r : 0;
}

int xv_domain_set_scheduler_params(xv_domain *d, const xv_param *params, size_t n, unsigned flags,
                                   xv_error *error) {
        xvp_typed_param *w = NULL;
        int r;

        if (!params || n == 0 || n > XVP_DOMAIN_SCHEDULER_PARAMETERS_MAX)
                return check_arg(false, "1 to 16 parameters are needed", ERR(error));
        r = params_to_wire(params, n, &w, ERR(error));
        if (r < 0)
                return r;

        xvp_domain_set_scheduler_parameters_flags_args args = {
                .dom = domain_to_wire(d),
                .params = { .params_len = (u_int) n, .params_val = w },
                .flags = flags,
        };
        if (flags == 0)
                r = domain_call(d, XVP_PROC_DOMAIN_SET_SCHEDULER_PARAMETERS, XDR(xvp_domain_set_scheduler_parameters_args),
                                &args, NULL, NULL, error);
        else
                r = domain_call(d, XVP_PROC_DOMAIN_SET_SCHEDULER_PARAMETERS_FLAGS,
                                XDR(xvp_domain_set_scheduler_parameters_flags_args), &args, NULL, NULL, error);
        params_wire_free(w, n);
        return r;
}

/* ------------------------------------------------------------------------------------------
 * Bulk statistics
 */

void xv_domain_stats_free(xv_domain_stats *list, size_t n) {
        if (!list)
                return;
        for (size_t i = 0; i < n; i++) {
                xv_domain_unref(list[i].dom);
                xv_params_free(list[i].params, list[i].n_params);
        }
        free(list);
}

int xv_conn_get_all_domain_stats(xv_conn *c, xv_domain *const *doms, size_t n_doms, unsigned stats,
                                 unsigned flags, xv_domain_stats **ret, size_t *ret_n, xv_error *error) {
        _cleanup_free_ xvp_nonnull_domain *w = NULL;
        xvp_connect_get_all_domain_stats_ret reply = {};
        xv_domain_stats *list;
        size_t n;
        int r;

        if (!ret || !ret_n || (!doms && n_doms > 0) || n_doms > XVP_DOMAIN_LIST_MAX)
                return check_arg(false, "ret and ret_n must not be NULL, at most 16384 domains", ERR(error));
        if (n_doms > 0) {
                w = new0(xvp_nonnull_domain, n_doms);
                if (!w)
                        return -ENOMEM;
                for (size_t i = 0; i < n_doms; i++) {
                        if (!doms[i])
                                return check_arg(false, "domain handles must not be NULL", ERR(error));
                        w[i] = domain_to_wire(doms[i]);
                }
        }

        xvp_connect_get_all_domain_stats_args args = {
                .doms = { .doms_len = (u_int) n_doms, .doms_val = w },
                .stats = stats,
                .flags = flags,
        };
        r = conn_call_public(c, XVP_PROC_CONNECT_GET_ALL_DOMAIN_STATS, XDR(xvp_connect_get_all_domain_stats_args),
                             &args, XDR(xvp_connect_get_all_domain_stats_ret), &reply, error);
        if (r < 0)
                return r;

        n = reply.ret_stats.ret_stats_len;
        list = new0(xv_domain_stats, n);
        if (!list) {
                xdr_free(XDR(xvp_connect_get_all_domain_stats_ret), (char *) &reply);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                xvp_domain_stats_record *rec = &reply.ret_stats.ret_stats_val[i];

                r = domain_from_wire(c, &rec->dom, &list[i].dom);
                if (r >= 0)
                        r = params_from_wire(rec->params.params_val, rec->params.params_len, &list[i].params,
                                             ERR(error));
                if (r < 0) {
                        xv_domain_stats_free(list, i + 1);
                        xdr_free(XDR(xvp_connect_get_all_domain_stats_ret), (char *) &reply);
                        return r;
                }
                list[i].n_params = rec->params.params_len;
        }
        xdr_free(XDR(xvp_connect_get_all_domain_stats_ret), (char *) &reply);
        *ret = list;
        *ret_n = n;
        return 0;
}
