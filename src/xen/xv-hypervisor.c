/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * XvHypervisor's front: picks the backend when the hypervisor is opened and forwards every
 * hypervisor_*() call to it through its HvBackendOps table (xv-backend.h). Also the helpers on the
 * interface's own types.
 *
 * Auto-detection (HvConfig.backend = HV_BACKEND_AUTO), one decision at open time:
 *   1. XenD answers on its socket (or a TCP address is configured)     → xend
 *   2. the hypervisor says Xen >= 4.5 (XenD no longer exists there) and
 *      a libxl context works                                           → libxl
 *   3. otherwise                                                       → xend, which serves with
 *      the channels it has and says which are missing (XenD restarting on an old host, a host
 *      that is not running Xen at all).
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-backend.h"
#include "xv-domain-xml.h"
#include "xv-hcall.h"
#include "xv-lock.h"
#include "xv-log.h"
#include "xv-module.h"
#include "xv-xend-http.h"

/* The first Xen release without XenD. */
#define HV_LIBXL_MIN_MAJOR 4
#define HV_LIBXL_MIN_MINOR 5

/* The libxl backend is a module (src/modules.inc.am, xv-module.h): libxenlight, libxenguest,
 * libyajl and their dependencies are mapped only by a daemon that uses it. */
#define HV_LIBXL_MODULE "backend-libxl.so"

/* Defined when the program links the libxl backend itself (its unit tests link libxv-libxl);
 * else NULL, and the module is loaded. */
extern const HvBackendOps hv_backend_libxl __attribute__((weak));

void hv_domain_ref_done(HvDomainRef *ref) {
        if (!ref)
                return;
        ref->name = mfree(ref->name);
}

int hv_domain_ref_copy(const HvDomainRef *src, HvDomainRef *dst) {
        char *n = NULL;

        if (src->name) {
                n = strdup(src->name);
                if (!n)
                        return -ENOMEM;
        }
        *dst = *src;
        dst->name = n;
        return 0;
}

void hv_domain_summaries_free(HvDomainSummary *list, size_t n) {
        for (size_t i = 0; list && i < n; i++)
                hv_domain_ref_done(&list[i].ref);
        free(list);
}

const char *hv_backend_type_to_string(HvBackendType t) {
        switch (t) {
        case HV_BACKEND_AUTO:
                return "auto";
        case HV_BACKEND_XEND:
                return "xend";
        case HV_BACKEND_LIBXL:
                return "libxl";
        default:
                return NULL;
        }
}

HvBackendType hv_backend_type_from_string(const char *s) {
        for (HvBackendType t = 0; t < _HV_BACKEND_TYPE_MAX; t++)
                if (s && streq(s, hv_backend_type_to_string(t)))
                        return t;
        return _HV_BACKEND_TYPE_INVALID;
}

/* Does XenD accept a connection on its UNIX socket right now? */
static bool xend_socket_answers(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;

        if (strlen(path) >= sizeof(sa.sun_path))
                return false;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return false;
        return connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
}

/* Does the hypervisor report a release that has no XenD (4.5 and later)? */
static bool hypervisor_is_post_xend(void) {
        _cleanup_(hcall_closep) Hcall *hc = NULL;
        XvError e = XV_ERROR_NULL;
        HcallVersion v;
        bool modern = false;

        if (hcall_open(&hc, &e) >= 0 && hcall_version(hc, &v, &e) >= 0)
                modern = v.major > HV_LIBXL_MIN_MAJOR ||
                         (v.major == HV_LIBXL_MIN_MAJOR && v.minor >= HV_LIBXL_MIN_MINOR);
        else
                log_debug("Hypervisor version unknown: %s", strempty(e.message));
        xv_error_done(&e);
        return modern;
}

/* The libxl backend's operations: linked in, or from the module, loaded on first use and kept
 * loaded for the life of the process (its operations table is used until exit). */
static int libxl_backend(const HvBackendOps **ret, XvError *error) {
        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        static const HvBackendOps *loaded = NULL;
        void *ops;
        int r;

        if (&hv_backend_libxl) {
                *ret = &hv_backend_libxl;
                return 0;
        }

        LOCKED(&lock);

        if (!loaded) {
                r = module_load_symbol(HV_LIBXL_MODULE, "hv_backend_libxl", &ops, error);
                if (r < 0)
                        return r;
                loaded = ops;
        }
        *ret = loaded;
        return 0;
}

static int libxl_open(const HvConfig *config, XvHypervisor **ret, XvError *error) {
        const HvBackendOps *ops;
        int r;

        r = libxl_backend(&ops, error);
        if (r < 0)
                return r;
        return ops->open(config, ret, error);
}

int hypervisor_open(const HvConfig *config, XvHypervisor **ret, XvError *error) {
        HvConfig defaults = { .backend = HV_BACKEND_AUTO };
        XvError e = XV_ERROR_NULL;
        int r;

        if (!config)
                config = &defaults;

        switch (config->backend) {
        case HV_BACKEND_XEND:
                return hv_backend_xend.open(config, ret, error);
        case HV_BACKEND_LIBXL:
                return libxl_open(config, ret, error);
        case HV_BACKEND_AUTO:
                break;
        default:
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unknown hypervisor backend %d", config->backend);
        }

        if (config->xend_tcp || xend_socket_answers(config->xend_socket ?: XEND_SOCKET_DEFAULT)) {
                log_debug("Backend: XenD answers, using xend");
                return hv_backend_xend.open(config, ret, error);
        }
        if (hypervisor_is_post_xend()) {
                r = libxl_open(config, ret, &e);
                if (r >= 0 || r == -ENOMEM) {
                        xv_error_done(&e);
                        if (r >= 0)
                                log_debug("Backend: Xen >= 4.5 and libxl works, using libxl");
                        return r;
                }
                log_warning("Xen >= 4.5 but libxl does not work (%s); falling back to the xend backend",
                            strempty(e.message));
                xv_error_done(&e);
        }
        return hv_backend_xend.open(config, ret, error);
}

XvHypervisor *hypervisor_close(XvHypervisor *h) {
        if (h)
                h->ops->close(h);
        return NULL;
}

void hypervisor_get_status(XvHypervisor *h, HvStatus *ret) {
        h->ops->get_status(h, ret);
}

void hypervisor_probe_status(XvHypervisor *h, HvStatus *ret) {
        h->ops->probe_status(h, ret);
}

int hypervisor_set_event_callback(XvHypervisor *h, HvEventCallback callback, void *userdata) {
        return h->ops->set_event_callback(h, callback, userdata);
}

int hypervisor_event_fd(XvHypervisor *h) {
        return h->ops->event_fd(h);
}

int hypervisor_process_events(XvHypervisor *h) {
        return h->ops->process_events(h);
}

const char *hypervisor_get_type(XvHypervisor *h) {
        return h->ops->get_type(h);
}

int hypervisor_get_version(XvHypervisor *h, uint64_t *ret, XvError *error) {
        return h->ops->get_version(h, ret, error);
}

int hypervisor_get_hostname(XvHypervisor *h, char **ret, XvError *error) {
        return h->ops->get_hostname(h, ret, error);
}

int hypervisor_get_capabilities(XvHypervisor *h, char **ret_xml, XvError *error) {
        return h->ops->get_capabilities(h, ret_xml, error);
}

int hypervisor_get_max_vcpus(XvHypervisor *h, const char *type, int *ret, XvError *error) {
        return h->ops->get_max_vcpus(h, type, ret, error);
}

int hypervisor_node_get_info(XvHypervisor *h, HvNodeInfo *ret, XvError *error) {
        return h->ops->node_get_info(h, ret, error);
}

int hypervisor_node_get_free_memory(XvHypervisor *h, uint64_t *ret_bytes, XvError *error) {
        return h->ops->node_get_free_memory(h, ret_bytes, error);
}

int hypervisor_node_get_cells_free_memory(XvHypervisor *h, int start_cell, int max_cells, uint64_t *ret_bytes, int *ret_n, XvError *error) {
        return h->ops->node_get_cells_free_memory(h, start_cell, max_cells, ret_bytes, ret_n, error);
}

int hypervisor_node_get_cpu_map(XvHypervisor *h, uint8_t **ret_map, size_t *ret_len, unsigned *ret_online, int *ret_cpus, XvError *error) {
        return h->ops->node_get_cpu_map(h, ret_map, ret_len, ret_online, ret_cpus, error);
}

int hypervisor_get_xend_config_version(XvHypervisor *h) {
        return h->ops->get_xend_config_version(h);
}

int hypervisor_list_all_domains(XvHypervisor *h, unsigned flags, HvDomainSummary **ret, size_t *ret_n, XvError *error) {
        return h->ops->list_all_domains(h, flags, ret, ret_n, error);
}

int hypervisor_list_domain_ids(XvHypervisor *h, int **ret, size_t *ret_n, XvError *error) {
        return h->ops->list_domain_ids(h, ret, ret_n, error);
}

int hypervisor_list_defined_names(XvHypervisor *h, char ***ret, XvError *error) {
        return h->ops->list_defined_names(h, ret, error);
}

int hypervisor_lookup_by_id(XvHypervisor *h, int id, HvDomainRef *ret, XvError *error) {
        return h->ops->lookup_by_id(h, id, ret, error);
}

int hypervisor_lookup_by_name(XvHypervisor *h, const char *name, HvDomainRef *ret, XvError *error) {
        return h->ops->lookup_by_name(h, name, ret, error);
}

int hypervisor_lookup_by_uuid(XvHypervisor *h, const XvUuid *uuid, HvDomainRef *ret, XvError *error) {
        return h->ops->lookup_by_uuid(h, uuid, ret, error);
}

int hypervisor_domain_get_info(XvHypervisor *h, const HvDomainRef *dom, HvDomainInfo *ret, XvError *error) {
        return h->ops->domain_get_info(h, dom, ret, error);
}

int hypervisor_domain_get_state(XvHypervisor *h, const HvDomainRef *dom, int *ret_state, int *ret_reason, XvError *error) {
        return h->ops->domain_get_state(h, dom, ret_state, ret_reason, error);
}

int hypervisor_domain_get_def(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, DomainDef **ret, XvError *error) {
        return h->ops->domain_get_def(h, dom, flags, ret, error);
}

int hv_xml_flags(unsigned flags, DomainXmlFlags *ret, XvError *error) {
        if (flags & ~(HV_XML_SECURE | HV_XML_INACTIVE))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unsupported flags 0x%x", flags);
        if (ret)
                *ret = (flags & HV_XML_SECURE ? DOMAIN_XML_SECURE : 0) |
                        (flags & HV_XML_INACTIVE ? DOMAIN_XML_INACTIVE : 0);
        return 0;
}

int hypervisor_domain_get_xml(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, char **ret_xml,
                              XvError *error) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        DomainXmlFlags xml_flags;
        int r;

        if (h->ops->domain_get_xml)
                return h->ops->domain_get_xml(h, dom, flags, ret_xml, error);
        r = h->ops->domain_get_def(h, dom, flags, &def, error);
        if (r < 0)
                return r;
        r = hv_xml_flags(flags, &xml_flags, error);
        if (r < 0)
                return r;
        return domain_def_format_xml(def, xml_flags, ret_xml, error);
}

int hypervisor_domain_get_os_type(XvHypervisor *h, const HvDomainRef *dom, char **ret, XvError *error) {
        return h->ops->domain_get_os_type(h, dom, ret, error);
}

int hypervisor_domain_is_active(XvHypervisor *h, const HvDomainRef *dom, bool *ret, XvError *error) {
        return h->ops->domain_is_active(h, dom, ret, error);
}

int hypervisor_domain_is_persistent(XvHypervisor *h, const HvDomainRef *dom, bool *ret, XvError *error) {
        return h->ops->domain_is_persistent(h, dom, ret, error);
}

int hypervisor_domain_define(XvHypervisor *h, const DomainDef *def, HvDomainRef *ret_ref, XvError *error) {
        return h->ops->domain_define(h, def, ret_ref, error);
}

int hypervisor_domain_undefine(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error) {
        return h->ops->domain_undefine(h, dom, flags, error);
}

int hypervisor_domain_create_xml(XvHypervisor *h, const DomainDef *def, unsigned flags, HvDomainRef *ret_ref, XvError *error) {
        return h->ops->domain_create_xml(h, def, flags, ret_ref, error);
}

int hypervisor_domain_create(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, HvDomainRef *ret_ref, XvError *error) {
        return h->ops->domain_create(h, dom, flags, ret_ref, error);
}

int hypervisor_domain_suspend(XvHypervisor *h, const HvDomainRef *dom, XvError *error) {
        return h->ops->domain_suspend(h, dom, error);
}

int hypervisor_domain_resume(XvHypervisor *h, const HvDomainRef *dom, XvError *error) {
        return h->ops->domain_resume(h, dom, error);
}

int hypervisor_domain_shutdown(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error) {
        return h->ops->domain_shutdown(h, dom, flags, error);
}

int hypervisor_domain_reboot(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error) {
        return h->ops->domain_reboot(h, dom, flags, error);
}

int hypervisor_domain_destroy(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error) {
        return h->ops->domain_destroy(h, dom, flags, error);
}

int hypervisor_domain_save(XvHypervisor *h, const HvDomainRef *dom, const char *path, XvError *error) {
        return h->ops->domain_save(h, dom, path, error);
}

int hypervisor_domain_restore(XvHypervisor *h, const char *path, XvError *error) {
        return h->ops->domain_restore(h, path, error);
}

int hypervisor_domain_managed_save(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error) {
        return h->ops->domain_managed_save(h, dom, flags, error);
}

int hypervisor_domain_has_managed_save(XvHypervisor *h, const HvDomainRef *dom, bool *ret, XvError *error) {
        return h->ops->domain_has_managed_save(h, dom, ret, error);
}

int hypervisor_domain_managed_save_remove(XvHypervisor *h, const HvDomainRef *dom, XvError *error) {
        return h->ops->domain_managed_save_remove(h, dom, error);
}

int hypervisor_domain_core_dump(XvHypervisor *h, const HvDomainRef *dom, const char *path, unsigned flags, XvError *error) {
        return h->ops->domain_core_dump(h, dom, path, flags, error);
}

int hypervisor_domain_set_memory(XvHypervisor *h, const HvDomainRef *dom, uint64_t kib, unsigned flags, XvError *error) {
        return h->ops->domain_set_memory(h, dom, kib, flags, error);
}

int hypervisor_domain_set_vcpus(XvHypervisor *h, const HvDomainRef *dom, unsigned n, unsigned flags, XvError *error) {
        return h->ops->domain_set_vcpus(h, dom, n, flags, error);
}

int hypervisor_domain_get_vcpus_flags(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, int *ret, XvError *error) {
        return h->ops->domain_get_vcpus_flags(h, dom, flags, ret, error);
}

int hypervisor_domain_get_vcpus(XvHypervisor *h, const HvDomainRef *dom, int max_info, int maplen, HvVcpuInfo **ret_info, size_t *ret_n, uint8_t **ret_maps, XvError *error) {
        return h->ops->domain_get_vcpus(h, dom, max_info, maplen, ret_info, ret_n, ret_maps, error);
}

int hypervisor_domain_pin_vcpu(XvHypervisor *h, const HvDomainRef *dom, unsigned vcpu, const uint8_t *map, size_t maplen, unsigned flags, XvError *error) {
        return h->ops->domain_pin_vcpu(h, dom, vcpu, map, maplen, flags, error);
}

int hypervisor_domain_get_vcpu_pin_info(XvHypervisor *h, const HvDomainRef *dom, int ncpumaps, int maplen, unsigned flags, uint8_t **ret_maps, int *ret_n, XvError *error) {
        return h->ops->domain_get_vcpu_pin_info(h, dom, ncpumaps, maplen, flags, ret_maps, ret_n, error);
}

int hypervisor_domain_get_autostart(XvHypervisor *h, const HvDomainRef *dom, bool *ret, XvError *error) {
        return h->ops->domain_get_autostart(h, dom, ret, error);
}

int hypervisor_domain_set_autostart(XvHypervisor *h, const HvDomainRef *dom, bool autostart, XvError *error) {
        return h->ops->domain_set_autostart(h, dom, autostart, error);
}

int hypervisor_domain_attach_device(XvHypervisor *h, const HvDomainRef *dom, const char *xml, unsigned flags, XvError *error) {
        return h->ops->domain_attach_device(h, dom, xml, flags, error);
}

int hypervisor_domain_detach_device(XvHypervisor *h, const HvDomainRef *dom, const char *xml, unsigned flags, XvError *error) {
        return h->ops->domain_detach_device(h, dom, xml, flags, error);
}

int hypervisor_domain_update_device(XvHypervisor *h, const HvDomainRef *dom, const char *xml, unsigned flags, XvError *error) {
        return h->ops->domain_update_device(h, dom, xml, flags, error);
}

int hypervisor_domain_block_stats(XvHypervisor *h, const HvDomainRef *dom, const char *path, HvBlockStats *ret, XvError *error) {
        return h->ops->domain_block_stats(h, dom, path, ret, error);
}

int hypervisor_domain_interface_stats(XvHypervisor *h, const HvDomainRef *dom, const char *path, HvInterfaceStats *ret, XvError *error) {
        return h->ops->domain_interface_stats(h, dom, path, ret, error);
}

int hypervisor_domain_get_scheduler_type(XvHypervisor *h, const HvDomainRef *dom, char **ret, int *ret_nparams, XvError *error) {
        return h->ops->domain_get_scheduler_type(h, dom, ret, ret_nparams, error);
}

int hypervisor_domain_get_sched_params(XvHypervisor *h, const HvDomainRef *dom, HvSchedParams *ret, XvError *error) {
        return h->ops->domain_get_sched_params(h, dom, ret, error);
}

int hypervisor_domain_set_sched_params(XvHypervisor *h, const HvDomainRef *dom, const HvSchedParams *params, unsigned mask, XvError *error) {
        return h->ops->domain_set_sched_params(h, dom, params, mask, error);
}

int hypervisor_domain_migrate_perform(XvHypervisor *h, const HvDomainRef *dom, const char *uri, unsigned flags, XvError *error) {
        return h->ops->domain_migrate_perform(h, dom, uri, flags, error);
}
