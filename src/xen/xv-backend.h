/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The backend interface behind XvHypervisor (xv-hypervisor.h). A backend is a table of
 * operations, one per hypervisor_*() function with the same signature; src/xen/xv-hypervisor.c
 * picks the backend at open time and forwards every call through the table. Backends:
 *
 *   hv_backend_xend    Xen <= 4.4: XenD + xenstore + hypercalls + XM files (xv-backend-xend*.c)
 *   hv_backend_libxl   Xen >= 4.5: libxl for lifecycle, hypercalls + xenstore for monitoring,
 *                      xenvirtd's own xl-format definitions (xv-backend-libxl*.c)
 *
 * A backend's state begins with an XvHypervisor (its .ops), so the dispatcher reaches the table
 * and the backend gets its state back with container_of.
 */

#include "xv-hypervisor.h"

typedef struct HvBackendOps {
        const char *name;               /* "xend", "libxl": HvStatus.backend, logs */

        int (*open)(const HvConfig *config, XvHypervisor **ret, XvError *error);
        XvHypervisor *(*close)(XvHypervisor *h);
        void (*get_status)(XvHypervisor *h, HvStatus *ret);
        void (*probe_status)(XvHypervisor *h, HvStatus *ret);
        int (*set_event_callback)(XvHypervisor *h, HvEventCallback callback, void *userdata);
        int (*event_fd)(XvHypervisor *h);
        int (*process_events)(XvHypervisor *h);
        const char *(*get_type)(XvHypervisor *h);
        int (*get_version)(XvHypervisor *h, uint64_t *ret, XvError *error);
        int (*get_hostname)(XvHypervisor *h, char **ret, XvError *error);
        int (*get_capabilities)(XvHypervisor *h, char **ret_xml, XvError *error);
        int (*get_max_vcpus)(XvHypervisor *h, const char *type, int *ret, XvError *error);
        int (*node_get_info)(XvHypervisor *h, HvNodeInfo *ret, XvError *error);
        int (*node_get_free_memory)(XvHypervisor *h, uint64_t *ret_bytes, XvError *error);
        int (*node_get_cells_free_memory)(XvHypervisor *h, int start_cell, int max_cells, uint64_t *ret_bytes, int *ret_n, XvError *error);
        int (*node_get_cpu_map)(XvHypervisor *h, uint8_t **ret_map, size_t *ret_len, unsigned *ret_online, int *ret_cpus, XvError *error);
        int (*get_xend_config_version)(XvHypervisor *h);
        int (*list_all_domains)(XvHypervisor *h, unsigned flags, HvDomainSummary **ret, size_t *ret_n, XvError *error);
        int (*list_domain_ids)(XvHypervisor *h, int **ret, size_t *ret_n, XvError *error);
        int (*list_defined_names)(XvHypervisor *h, char ***ret, XvError *error);
        int (*lookup_by_id)(XvHypervisor *h, int id, HvDomainRef *ret, XvError *error);
        int (*lookup_by_name)(XvHypervisor *h, const char *name, HvDomainRef *ret, XvError *error);
        int (*lookup_by_uuid)(XvHypervisor *h, const XvUuid *uuid, HvDomainRef *ret, XvError *error);
        int (*domain_get_info)(XvHypervisor *h, const HvDomainRef *dom, HvDomainInfo *ret, XvError *error);
        int (*domain_get_state)(XvHypervisor *h, const HvDomainRef *dom, int *ret_state, int *ret_reason, XvError *error);
        int (*domain_get_def)(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, DomainDef **ret, XvError *error);
        /* Optional: dumpxml's text for HV_XML_* @flags (NULL: domain_get_def + domain_def_format_xml). */
        int (*domain_get_xml)(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, char **ret_xml, XvError *error);
        int (*domain_get_os_type)(XvHypervisor *h, const HvDomainRef *dom, char **ret, XvError *error);
        int (*domain_is_active)(XvHypervisor *h, const HvDomainRef *dom, bool *ret, XvError *error);
        int (*domain_is_persistent)(XvHypervisor *h, const HvDomainRef *dom, bool *ret, XvError *error);
        int (*domain_define)(XvHypervisor *h, const DomainDef *def, HvDomainRef *ret_ref, XvError *error);
        int (*domain_undefine)(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
        int (*domain_create_xml)(XvHypervisor *h, const DomainDef *def, unsigned flags, HvDomainRef *ret_ref, XvError *error);
        int (*domain_create)(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, HvDomainRef *ret_ref, XvError *error);
        int (*domain_suspend)(XvHypervisor *h, const HvDomainRef *dom, XvError *error);
        int (*domain_resume)(XvHypervisor *h, const HvDomainRef *dom, XvError *error);
        int (*domain_shutdown)(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
        int (*domain_reboot)(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
        int (*domain_destroy)(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
        int (*domain_save)(XvHypervisor *h, const HvDomainRef *dom, const char *path, XvError *error);
        int (*domain_restore)(XvHypervisor *h, const char *path, XvError *error);
        int (*domain_managed_save)(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, XvError *error);
        int (*domain_has_managed_save)(XvHypervisor *h, const HvDomainRef *dom, bool *ret, XvError *error);
        int (*domain_managed_save_remove)(XvHypervisor *h, const HvDomainRef *dom, XvError *error);
        int (*domain_core_dump)(XvHypervisor *h, const HvDomainRef *dom, const char *path, unsigned flags, XvError *error);
        int (*domain_set_memory)(XvHypervisor *h, const HvDomainRef *dom, uint64_t kib, unsigned flags, XvError *error);
        int (*domain_set_vcpus)(XvHypervisor *h, const HvDomainRef *dom, unsigned n, unsigned flags, XvError *error);
        int (*domain_get_vcpus_flags)(XvHypervisor *h, const HvDomainRef *dom, unsigned flags, int *ret, XvError *error);
        int (*domain_get_vcpus)(XvHypervisor *h, const HvDomainRef *dom, int max_info, int maplen, HvVcpuInfo **ret_info, size_t *ret_n, uint8_t **ret_maps, XvError *error);
        int (*domain_pin_vcpu)(XvHypervisor *h, const HvDomainRef *dom, unsigned vcpu, const uint8_t *map, size_t maplen, unsigned flags, XvError *error);
        int (*domain_get_vcpu_pin_info)(XvHypervisor *h, const HvDomainRef *dom, int ncpumaps, int maplen, unsigned flags, uint8_t **ret_maps, int *ret_n, XvError *error);
        int (*domain_get_autostart)(XvHypervisor *h, const HvDomainRef *dom, bool *ret, XvError *error);
        int (*domain_set_autostart)(XvHypervisor *h, const HvDomainRef *dom, bool autostart, XvError *error);
        int (*domain_attach_device)(XvHypervisor *h, const HvDomainRef *dom, const char *xml, unsigned flags, XvError *error);
        int (*domain_detach_device)(XvHypervisor *h, const HvDomainRef *dom, const char *xml, unsigned flags, XvError *error);
        int (*domain_update_device)(XvHypervisor *h, const HvDomainRef *dom, const char *xml, unsigned flags, XvError *error);
        int (*domain_block_stats)(XvHypervisor *h, const HvDomainRef *dom, const char *path, HvBlockStats *ret, XvError *error);
        int (*domain_interface_stats)(XvHypervisor *h, const HvDomainRef *dom, const char *path, HvInterfaceStats *ret, XvError *error);
        int (*domain_get_scheduler_type)(XvHypervisor *h, const HvDomainRef *dom, char **ret, int *ret_nparams, XvError *error);
        int (*domain_get_sched_params)(XvHypervisor *h, const HvDomainRef *dom, HvSchedParams *ret, XvError *error);
        int (*domain_set_sched_params)(XvHypervisor *h, const HvDomainRef *dom, const HvSchedParams *params, unsigned mask, XvError *error);
        int (*domain_migrate_perform)(XvHypervisor *h, const HvDomainRef *dom, const char *uri, unsigned flags, XvError *error);
} HvBackendOps;

struct XvHypervisor {
        const HvBackendOps *ops;
};

extern const HvBackendOps hv_backend_xend;
extern const HvBackendOps hv_backend_libxl;
