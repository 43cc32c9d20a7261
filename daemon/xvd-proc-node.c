/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Handlers of the host ("node") procedures: node info, capabilities, free memory, CPU map, the
 * maximum vCPU count and the (empty) security model. Each turns validated args into ret through
 * the backend; the dispatcher owns args and ret and frees ret after encoding it.
 */

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xv-alloc.h"
#include "xvd-proc.h"

int proc_node_get_info(Manager *m, Client *c, const void *args, xvp_node_get_info_ret *ret, XvError *error) {
        XvHypervisor *h;
        HvNodeInfo info = {};
        int r;

        assert(ret);

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        r = hypervisor_node_get_info(h, &info, error);
        if (r < 0)
                return r;

        /* A fixed char[32] on the wire: always NUL-terminated, the rest zero. */
        memset(ret->model, 0, sizeof(ret->model));
        memcpy(ret->model, info.model, strnlen(info.model, sizeof(ret->model) - 1));
        ret->memory = info.memory_kib;
        ret->cpus = (int) info.cpus;
        ret->mhz = (int) info.mhz;
        ret->nodes = (int) info.nodes;
        ret->sockets = (int) info.sockets;
        ret->cores = (int) info.cores;
        ret->threads = (int) info.threads;
        return 0;
}

int proc_connect_get_capabilities(Manager *m, Client *c, const void *args, xvp_connect_get_capabilities_ret *ret,
                                  XvError *error) {
        _cleanup_free_ char *xml = NULL;
        XvHypervisor *h;
        int r;

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        r = hypervisor_get_capabilities(h, &xml, error);
        if (r < 0)
                return r;

        ret->capabilities = TAKE_PTR(xml);
        return 0;
}

int proc_connect_get_max_vcpus(Manager *m, Client *c, const xvp_connect_get_max_vcpus_args *args,
                               xvp_connect_get_max_vcpus_ret *ret, XvError *error) {
        XvHypervisor *h;
        int n = 0, r;

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        r = hypervisor_get_max_vcpus(h, args->type ? *args->type : NULL, &n, error);
        if (r < 0)
                return r;

        ret->max_vcpus = n;
        return 0;
}

int proc_node_get_free_memory(Manager *m, Client *c, const void *args, xvp_node_get_free_memory_ret *ret,
                              XvError *error) {
        XvHypervisor *h;
        uint64_t bytes = 0;
        int r;

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        r = hypervisor_node_get_free_memory(h, &bytes, error);
        if (r < 0)
                return r;

        ret->free_mem = bytes;
        return 0;
}

int proc_node_get_cells_free_memory(Manager *m, Client *c, const xvp_node_get_cells_free_memory_args *args,
                                    xvp_node_get_cells_free_memory_ret *ret, XvError *error) {
        _cleanup_free_ uint64_t *cells = NULL;
        XvHypervisor *h;
        int n = 0, r;

        /* The client copies every returned cell into an array of maxcells entries without checking
         * the count, so the backend gets exactly that many slots and we never return more. */
        if (args->maxcells <= 0 || args->maxcells > XVP_NODE_CELLS_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "maxcells must be between 1 and %d, got %d",
                                     XVP_NODE_CELLS_MAX, args->maxcells);
        if (args->start_cell < 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "startCell must not be negative, got %d",
                                     args->start_cell);

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        cells = new0(uint64_t, (size_t) args->maxcells);
        if (!cells)
                return -ENOMEM;

        r = hypervisor_node_get_cells_free_memory(h, args->start_cell, args->maxcells, cells, &n, error);
        if (r < 0)
                return r;
        if (n < 0 || n > args->maxcells)
                return xv_error_setf(error, XVP_ERR_INTERNAL, "backend returned %d cells for maxcells %d",
                                     n, args->maxcells);

        ret->cells.cells_len = (u_int) n;
        ret->cells.cells_val = n > 0 ? TAKE_PTR(cells) : NULL;
        return 0;
}

int proc_node_get_cpu_map(Manager *m, Client *c, const xvp_node_get_cpu_map_args *args,
                          xvp_node_get_cpu_map_ret *ret, XvError *error) {
        _cleanup_free_ uint8_t *map = NULL;
        XvHypervisor *h;
        size_t len = 0;
        unsigned online = 0;
        int cpus = 0, r;

        r = proc_check_flags(args->flags, 0, error);
        if (r < 0)
                return r;

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        r = hypervisor_node_get_cpu_map(h, &map, &len, &online, &cpus, error);
        if (r < 0)
                return r;

        if (args->need_map) {
                if (len > XVP_CPUMAP_MAX)
                        return xv_error_setf(error, XVP_ERR_INTERNAL, "host CPU map of %zu bytes exceeds %d",
                                             len, XVP_CPUMAP_MAX);
                ret->cpumap.cpumap_len = (u_int) len;
                ret->cpumap.cpumap_val = len > 0 ? (char *) TAKE_PTR(map) : NULL;
        }
        if (args->need_online)
                ret->online = online;
        ret->ret = cpus;
        return 0;
}

/* Xen has no security driver here (no sVirt labels), so the model and the DOI are empty; virsh
 * dominfo then skips DOMAIN_GET_SECURITY_LABEL. The char arrays carry their terminating NUL, as
 * libvirtd sends them. */
int proc_node_get_security_model(Manager *m, Client *c, const void *args, xvp_node_get_security_model_ret *ret,
                                 XvError *error) {
        _cleanup_free_ char *model = NULL, *doi = NULL;

        model = new0(char, 1);
        doi = new0(char, 1);
        if (!model || !doi)
                return -ENOMEM;

        ret->model.model_len = 1;
        ret->model.model_val = TAKE_PTR(model);
        ret->doi.doi_len = 1;
        ret->doi.doi_val = TAKE_PTR(doi);
        return 0;
}
