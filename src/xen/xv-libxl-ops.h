/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Thin synchronous wrappers over libxl's lifecycle calls (ao_how NULL: each call returns when
 * libxl has finished). Each maps libxl's error codes to an XvError with libvirt's codes, in domain
 * XVP_FROM_LIBXL, and a message naming the operation and the domain:
 *
 *   ERROR_DOMAIN_NOTFOUND, ERROR_DOMAIN_DESTROYED            → XVP_ERR_NO_DOMAIN (42)
 *   ERROR_NOTFOUND (a device)                                → XVP_ERR_DEVICE_MISSING (99)
 *   ERROR_INVAL                                              → XVP_ERR_INVALID_ARG (8)
 *   ERROR_NOMEM                                              → XVP_ERR_NO_MEMORY (2)
 *   ERROR_NOPARAVIRT, ERROR_NOT_READY, ERROR_DEVICE_EXISTS   → XVP_ERR_OPERATION_INVALID (55)
 *   ERROR_FEATURE_REMOVED, ERROR_NI, ERROR_VERSION           → XVP_ERR_NO_SUPPORT (3)
 *   ERROR_TIMEDOUT, ERROR_GUEST_TIMEDOUT                     → XVP_ERR_OPERATION_TIMEOUT (68)
 *   ERROR_LOCK_FAIL                                          → XVP_ERR_RESOURCE_BUSY (87)
 *   anything else (ERROR_FAIL, ERROR_QMP_*, ...)             → XVP_ERR_OPERATION_FAILED (9)
 *
 * libxl's own log text goes to the context's logger: lxops_logger_new() makes one that forwards
 * everything to log_debug() (warnings and errors to log_debug too: the XvError is what the caller
 * reports).
 *
 * @name in every call is only for messages; NULL → "domain <domid>". Every count taken from the
 * caller or from libxl is checked against the DOMCFG_* limits of xv-libxl-domcfg.h.
 * Return value: 0 or a negative errno (matching the XvError's code, see xv_error_setf()).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libxl.h>

#include "xv-domain-def.h"
#include "xv-error.h"
#include "xv-macro.h"

/* Header written by lxops_save_file() before libxl's stream:
 *   "XenvirtLibxlSave\n" (16+1 bytes) | uint32 LE xml length | domain XML (secure form) | stream. */
#define LXOPS_SAVE_MAGIC          "XenvirtLibxlSave\n"
#define LXOPS_SAVE_XML_MAX        DOMAIN_XML_SIZE_MAX

/* A xentoollog logger that forwards libxl's messages to log_debug(). Destroy with
 * xtl_logger_destroy() (libxentoollog) or logger->destroy(logger). NULL on OOM. */
xentoollog_logger *lxops_logger_new(void);

/* Sets @error from libxl error @rc (< 0) for "<what>" on domain @name/@domid: "Failed to <what>
 * domain 'NAME': <libxl error name> (rc)". Returns the negative errno. Exposed for callers that
 * make libxl calls of their own (the backend's listing, events). @domid may be
 * LXOPS_DOMID_NONE when there is no domain yet. */
#define LXOPS_DOMID_NONE UINT32_MAX
int lxops_error(XvError *error, int rc, const char *what, const char *name, uint32_t domid);

/* --- Creation ------------------------------------------------------------------------------ */

/* domcfg_from_def() + libxl_domain_create_new(); the domain is left paused when @paused, else
 * unpaused. *ret_domid set on success. A failure after libxl allocated a domid destroys it. */
int lxops_create(libxl_ctx *ctx, const DomainDef *def, bool paused, uint32_t *ret_domid, XvError *error);

/* libxl_domain_create_restore() from @fd, positioned at the start of libxl's stream (as
 * libxl_domain_suspend() wrote it), with the configuration @def the domain had when saved. */
int lxops_restore(libxl_ctx *ctx, const DomainDef *def, int fd, bool paused, uint32_t *ret_domid,
                  XvError *error);

/* --- Lifecycle of a running domain ------------------------------------------------------------ */

/* Asks the guest to power off / reboot through the PV control node. An HVM guest without PV
 * drivers cannot be asked that way: with @acpi_fallback the ACPI power button (reboot: reset
 * trigger) is sent instead; without it the call fails with XVP_ERR_OPERATION_INVALID and a
 * message saying that the guest has no PV drivers. */
int lxops_shutdown(libxl_ctx *ctx, uint32_t domid, const char *name, bool acpi_fallback, XvError *error);
int lxops_reboot(libxl_ctx *ctx, uint32_t domid, const char *name, bool acpi_fallback, XvError *error);
int lxops_destroy(libxl_ctx *ctx, uint32_t domid, const char *name, XvError *error);
int lxops_pause(libxl_ctx *ctx, uint32_t domid, const char *name, XvError *error);
int lxops_unpause(libxl_ctx *ctx, uint32_t domid, const char *name, XvError *error);

/* libxl_domain_suspend() to @fd, then libxl_domain_destroy(): on success the domain is gone. On
 * a failed suspend the domain is resumed (libxl_domain_resume, cooperative) and kept. */
int lxops_save(libxl_ctx *ctx, uint32_t domid, const char *name, int fd, XvError *error);

/* A whole save file: header with @def as XML (LXOPS_SAVE_MAGIC) + libxl's stream, written to
 * @path (created 0600, O_EXCL not used: an existing file is truncated). On failure the file is
 * removed and the domain is still running. */
int lxops_save_file(libxl_ctx *ctx, uint32_t domid, const DomainDef *def, const char *path, XvError *error);
/* Reads the header of a file written by lxops_save_file() and restores from it. *ret_def (if not
 * NULL) receives the saved definition; *ret_domid the new domain id. */
int lxops_restore_file(libxl_ctx *ctx, const char *path, bool paused, uint32_t *ret_domid,
                       DomainDef **ret_def, XvError *error);
/* Only reads the header: the definition stored in a save file (for checks before restoring). */
int lxops_save_file_read_def(const char *path, DomainDef **ret, XvError *error);

/* libxl_domain_core_dump() to @path. Not @live: the domain is paused for the dump and unpaused
 * afterwards (unless it was paused already). @crash: destroyed after a successful dump. */
int lxops_core_dump(libxl_ctx *ctx, uint32_t domid, const char *name, const char *path, bool live,
                    bool crash, XvError *error);

/* --- Resources -------------------------------------------------------------------------------- */

/* Balloon target (libxl_set_memory_target, absolute, enforce) and maximum (libxl_domain_setmaxmem),
 * both in KiB. */
int lxops_set_memory(libxl_ctx *ctx, uint32_t domid, const char *name, uint64_t kib, XvError *error);
int lxops_set_max_memory(libxl_ctx *ctx, uint32_t domid, const char *name, uint64_t kib, XvError *error);

/* Brings vcpus 0..@n-1 online and the rest (up to @max, the domain's maximum) offline. 1 <= n <=
 * max <= DOMCFG_VCPUS_MAX, else XVP_ERR_INVALID_ARG. */
int lxops_set_vcpus(libxl_ctx *ctx, uint32_t domid, const char *name, unsigned n, unsigned max,
                    XvError *error);

/* Hard affinity of @vcpu: @map is libvirt's cpumap (bit i of byte i/8 = host cpu i), @maplen bytes
 * (<= DOMCFG_CPUMAP_BITS_MAX / 8). */
int lxops_pin_vcpu(libxl_ctx *ctx, uint32_t domid, const char *name, unsigned vcpu, const uint8_t *map,
                   size_t maplen, XvError *error);

/* Credit scheduler parameters (weight 1..65535, cap 0..65534, 0 = none). get also returns the
 * scheduler's name ("credit", "credit2", ...) through @ret_sched if not NULL (static string).
 * set: a zero @weight means "leave unchanged"; @cap < 0 likewise. */
int lxops_sched_credit_get(libxl_ctx *ctx, uint32_t domid, const char *name, unsigned *ret_weight,
                           unsigned *ret_cap, const char **ret_sched, XvError *error);
int lxops_sched_credit_set(libxl_ctx *ctx, uint32_t domid, const char *name, unsigned weight, int cap,
                           XvError *error);

/* --- Devices ---------------------------------------------------------------------------------- */

/* Hot-plug/unplug a disk or NIC described in the model (@hvm: the guest's type). Removal finds the
 * device by target (disk: vdev) or by MAC (nic; without a MAC: the only NIC, or
 * XVP_ERR_OPERATION_FAILED when ambiguous); absent → XVP_ERR_DEVICE_MISSING. */
int lxops_disk_add(libxl_ctx *ctx, uint32_t domid, const char *name, const DomainDisk *disk, bool hvm,
                   XvError *error);
int lxops_disk_remove(libxl_ctx *ctx, uint32_t domid, const char *name, const DomainDisk *disk, bool hvm,
                      XvError *error);
int lxops_nic_add(libxl_ctx *ctx, uint32_t domid, const char *name, const DomainNet *net, bool hvm,
                  XvError *error);
int lxops_nic_remove(libxl_ctx *ctx, uint32_t domid, const char *name, const DomainNet *net, bool hvm,
                     XvError *error);

/* --- Inspection ------------------------------------------------------------------------------- */

/* libxl_retrieve_domain_configuration() + domcfg_to_def(); the def's id is set to @domid. Works
 * for domains created by xl or any other libxl user. */
int lxops_get_def(libxl_ctx *ctx, uint32_t domid, const char *name, DomainDef **ret, XvError *error);
