/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libxl_utils.h>

#include "xv-alloc.h"
#include "xv-domain-xml.h"
#include "xv-libxl-domcfg.h"
#include "xv-libxl-ops.h"
#include "xv-log.h"

#define LXOPS_SAVE_MAGIC_LEN (sizeof(LXOPS_SAVE_MAGIC) - 1)
/* Credit scheduler ranges (xl sched-credit). */
#define SCHED_WEIGHT_MAX 65535u
#define SCHED_CAP_MAX 65534

/* ------------------------------------------------------------------------------------------ */
/* The logger */

typedef struct LxopsLogger {
        xentoollog_logger vtable;
} LxopsLogger;

/* xtl_level_to_string() lives in libxentoollog, which xenvirt does not link directly. */
static const char *level_name(xentoollog_level level) {
        switch (level) {
        case XTL_DEBUG:
                return "debug";
        case XTL_VERBOSE:
                return "verbose";
        case XTL_DETAIL:
                return "detail";
        case XTL_PROGRESS:
                return "progress";
        case XTL_INFO:
                return "info";
        case XTL_NOTICE:
                return "notice";
        case XTL_WARN:
                return "warning";
        case XTL_ERROR:
                return "error";
        case XTL_CRITICAL:
                return "critical";
        default:
                return "?";
        }
}

static void lxops_logger_vmessage(xentoollog_logger *logger, xentoollog_level level, int errnoval,
                                  const char *context, const char *format, va_list al) _printf_(5, 0);
static void lxops_logger_vmessage(xentoollog_logger *logger, xentoollog_level level, int errnoval,
                                  const char *context, const char *format, va_list al) {
        _cleanup_free_ char *msg = NULL;

        if (log_get_max_level() < LOG_DEBUG)
                return;
        if (vasprintf(&msg, format, al) < 0)
                return;
        /* libxl's errors are reported to the caller through the XvError: debug level only. */
        if (errnoval > 0)
                log_debug("%s (%s): %s: %s", strempty(context), level_name(level), msg,
                          strerror(errnoval));
        else
                log_debug("%s (%s): %s", strempty(context), level_name(level), msg);
}

static void lxops_logger_destroy(xentoollog_logger *logger) {
        free(logger);
}

xentoollog_logger *lxops_logger_new(void) {
        LxopsLogger *l = new0(LxopsLogger, 1);

        if (!l)
                return NULL;
        l->vtable.vmessage = lxops_logger_vmessage;
        l->vtable.progress = NULL;
        l->vtable.destroy = lxops_logger_destroy;
        return &l->vtable;
}

/* ------------------------------------------------------------------------------------------ */
/* Errors */

static xvp_error_code error_code(int rc) {
        switch (rc) {
        case ERROR_DOMAIN_NOTFOUND:
        case ERROR_DOMAIN_DESTROYED:
                return XVP_ERR_NO_DOMAIN;
        case ERROR_NOTFOUND:
                return XVP_ERR_DEVICE_MISSING;
        case ERROR_INVAL:
                return XVP_ERR_INVALID_ARG;
        case ERROR_NOMEM:
                return XVP_ERR_NO_MEMORY;
        case ERROR_NOPARAVIRT:
        case ERROR_NOT_READY:
        case ERROR_DEVICE_EXISTS:
                return XVP_ERR_OPERATION_INVALID;
        case ERROR_FEATURE_REMOVED:
        case ERROR_NI:
        case ERROR_VERSION:
                return XVP_ERR_NO_SUPPORT;
        case ERROR_TIMEDOUT:
        case ERROR_GUEST_TIMEDOUT:
                return XVP_ERR_OPERATION_TIMEOUT;
        case ERROR_LOCK_FAIL:
                return XVP_ERR_RESOURCE_BUSY;
        default:
                return XVP_ERR_OPERATION_FAILED;
        }
}

int lxops_error(XvError *error, int rc, const char *what, const char *name, uint32_t domid) {
        const char *ename = libxl_error_to_string((libxl_error) rc);
        xvp_error_code code = error_code(rc);
        int r;

        if (name)
                r = xv_error_setf(error, code, "Failed to %s domain '%s': libxl error %s (%d)", what, name,
                                  strnull(ename), rc);
        else if (domid != LXOPS_DOMID_NONE)
                r = xv_error_setf(error, code, "Failed to %s domain %" PRIu32 ": libxl error %s (%d)", what,
                                  domid, strnull(ename), rc);
        else
                r = xv_error_setf(error, code, "Failed to %s: libxl error %s (%d)", what, strnull(ename), rc);
        return xv_error_domain(error, XVP_FROM_LIBXL, r);
}

static int lxops_errorf(XvError *error, xvp_error_code code, const char *format, ...) _printf_(3, 4);
static int lxops_errorf(XvError *error, xvp_error_code code, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = xv_error_setv(error, code, format, ap);
        va_end(ap);
        return xv_error_domain(error, XVP_FROM_LIBXL, r);
}
#ifdef __clang_analyzer__
#  define lxops_errorf(...) XV_ERROR_NEGATIVE_((lxops_errorf)(__VA_ARGS__))
#endif

/* A failed call on a running domain: many libxl calls say ERROR_FAIL when the domain is simply
 * gone, so ask libxl whether it still exists before choosing the code. */
static int op_failed(libxl_ctx *ctx, XvError *error, int rc, const char *what, const char *name, uint32_t domid) {
        if (rc != ERROR_DOMAIN_NOTFOUND && libxl_domain_info(ctx, NULL, domid) == ERROR_DOMAIN_NOTFOUND)
                rc = ERROR_DOMAIN_NOTFOUND;
        return lxops_error(error, rc, what, name, domid);
}

/* ------------------------------------------------------------------------------------------ */
/* Creation */

static void config_done(libxl_domain_config *c) {
        libxl_domain_config_dispose(c);
}

static int check_not_running(libxl_ctx *ctx, const DomainDef *def, XvError *error) {
        uint32_t id;

        if (libxl_name_to_domid(ctx, def->name, &id) == 0)
                return lxops_errorf(error, XVP_ERR_OPERATION_INVALID, "domain '%s' is already running (id %" PRIu32 ")",
                                    def->name, id);
        return 0;
}

static int finish_start(libxl_ctx *ctx, const char *name, uint32_t domid, bool paused, uint32_t *ret_domid,
                        XvError *error) {
        int rc;

        /* libxl leaves a new domain paused. */
        if (!paused) {
                rc = libxl_domain_unpause(ctx, domid, NULL);
                if (rc != 0) {
                        (void) libxl_domain_destroy(ctx, domid, NULL);
                        return lxops_error(error, rc, "start", name, domid);
                }
        }
        *ret_domid = domid;
        return 0;
}

int lxops_create(libxl_ctx *ctx, const DomainDef *def, bool paused, uint32_t *ret_domid, XvError *error) {
        _cleanup_(config_done) libxl_domain_config cfg = {};
        uint32_t domid = LXOPS_DOMID_NONE;
        int r, rc;

        r = domcfg_from_def(ctx, def, &cfg, error);
        if (r < 0)
                return r;
        r = check_not_running(ctx, def, error);
        if (r < 0)
                return r;

        /* On failure libxl destroys what it had built itself. */
        rc = libxl_domain_create_new(ctx, &cfg, &domid, NULL, NULL);
        if (rc != 0)
                return lxops_error(error, rc, "create", def->name, LXOPS_DOMID_NONE);

        return finish_start(ctx, def->name, domid, paused, ret_domid, error);
}

int lxops_restore(libxl_ctx *ctx, const DomainDef *def, int fd, bool paused, uint32_t *ret_domid,
                  XvError *error) {
        _cleanup_(config_done) libxl_domain_config cfg = {};
        libxl_domain_restore_params params;
        uint32_t domid = LXOPS_DOMID_NONE;
        int r, rc;

        r = domcfg_from_def(ctx, def, &cfg, error);
        if (r < 0)
                return r;
        r = check_not_running(ctx, def, error);
        if (r < 0)
                return r;

        libxl_domain_restore_params_init(&params);
        params.checkpointed_stream = LIBXL_CHECKPOINTED_STREAM_NONE;
        params.stream_version = 2;
        rc = libxl_domain_create_restore(ctx, &cfg, &domid, fd, -1, &params, NULL, NULL);
        libxl_domain_restore_params_dispose(&params);
        if (rc != 0)
                return lxops_error(error, rc, "restore", def->name, LXOPS_DOMID_NONE);

        return finish_start(ctx, def->name, domid, paused, ret_domid, error);
}

/* ------------------------------------------------------------------------------------------ */
/* Lifecycle */

static int shutdown_or_reboot(libxl_ctx *ctx, uint32_t domid, const char *name, bool reboot, bool acpi_fallback,
                              XvError *error) {
        const char *what = reboot ? "reboot" : "shut down";
        int rc;

        rc = reboot ? libxl_domain_reboot(ctx, domid, NULL) : libxl_domain_shutdown(ctx, domid, NULL);
        if (rc == ERROR_NOPARAVIRT) {
                if (!acpi_fallback)
                        return lxops_errorf(error, XVP_ERR_OPERATION_INVALID,
                                            "Cannot %s domain '%s': the guest has no PV drivers to receive the request "
                                            "(an ACPI %s would be needed)", what, name ?: "?",
                                            reboot ? "reset" : "power button press");
                rc = libxl_send_trigger(ctx, domid, reboot ? LIBXL_TRIGGER_RESET : LIBXL_TRIGGER_POWER, 0, NULL);
        }
        if (rc != 0)
                return op_failed(ctx, error, rc, what, name, domid);
        return 0;
}

int lxops_shutdown(libxl_ctx *ctx, uint32_t domid, const char *name, bool acpi_fallback, XvError *error) {
        return shutdown_or_reboot(ctx, domid, name, false, acpi_fallback, error);
}

int lxops_reboot(libxl_ctx *ctx, uint32_t domid, const char *name, bool acpi_fallback, XvError *error) {
        return shutdown_or_reboot(ctx, domid, name, true, acpi_fallback, error);
}

int lxops_destroy(libxl_ctx *ctx, uint32_t domid, const char *name, XvError *error) {
        int rc = libxl_domain_destroy(ctx, domid, NULL);

        return rc == 0 ? 0 : op_failed(ctx, error, rc, "destroy", name, domid);
}

int lxops_pause(libxl_ctx *ctx, uint32_t domid, const char *name, XvError *error) {
        int rc = libxl_domain_pause(ctx, domid, NULL);

        return rc == 0 ? 0 : op_failed(ctx, error, rc, "suspend", name, domid);
}

int lxops_unpause(libxl_ctx *ctx, uint32_t domid, const char *name, XvError *error) {
        int rc = libxl_domain_unpause(ctx, domid, NULL);

        return rc == 0 ? 0 : op_failed(ctx, error, rc, "resume", name, domid);
}

int lxops_save(libxl_ctx *ctx, uint32_t domid, const char *name, int fd, XvError *error) {
        int rc;

        rc = libxl_domain_suspend(ctx, domid, fd, 0, NULL);
        if (rc != 0) {
                /* As xl does: let the guest carry on (a cooperative resume: it saw the suspend). */
                int rc2 = libxl_domain_resume(ctx, domid, 1, NULL);

                if (rc2 != 0)
                        log_debug("resuming domain %" PRIu32 " after a failed save: libxl error %d", domid, rc2);
                return op_failed(ctx, error, rc, "save", name, domid);
        }

        rc = libxl_domain_destroy(ctx, domid, NULL);
        if (rc != 0)
                return lxops_error(error, rc, "destroy (after saving)", name, domid);
        return 0;
}

static int write_all(int fd, const void *buf, size_t n) {
        const uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = write(fd, p, n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

static int read_all(int fd, void *buf, size_t n) {
        uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = read(fd, p, n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EBADMSG;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

int lxops_save_file(libxl_ctx *ctx, uint32_t domid, const DomainDef *def, const char *path, XvError *error) {
        _cleanup_free_ char *xml = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint8_t len[4];
        size_t n;
        int r;

        r = domain_def_format_xml(def, DOMAIN_XML_SECURE | DOMAIN_XML_INACTIVE, &xml, error);
        if (r < 0)
                return r;
        n = strlen(xml);
        if (n > LXOPS_SAVE_XML_MAX)
                return lxops_errorf(error, XVP_ERR_INTERNAL, "domain XML of %zu bytes is too large to save", n);
        len[0] = (uint8_t) n;
        len[1] = (uint8_t) (n >> 8);
        len[2] = (uint8_t) (n >> 16);
        len[3] = (uint8_t) (n >> 24);

        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                return xv_error_set_errnof(error, -errno, "Failed to create save file '%s'", path);

        r = write_all(fd, LXOPS_SAVE_MAGIC, LXOPS_SAVE_MAGIC_LEN);
        if (r >= 0)
                r = write_all(fd, len, sizeof(len));
        if (r >= 0)
                r = write_all(fd, xml, n);
        if (r < 0) {
                (void) unlink(path);
                return xv_error_set_errnof(error, r, "Failed to write save file '%s'", path);
        }

        r = lxops_save(ctx, domid, def->name, fd, error);
        if (r < 0) {
                (void) unlink(path);
                return r;
        }
        if (fsync(fd) < 0)
                log_debug("fsync of save file '%s' failed: %m", path);
        return 0;
}

static int read_header(int fd, const char *path, DomainDef **ret, XvError *error) {
        _cleanup_free_ char *xml = NULL;
        char magic[LXOPS_SAVE_MAGIC_LEN];
        uint8_t len[4];
        uint32_t n;
        int r;

        r = read_all(fd, magic, sizeof(magic));
        if (r >= 0 && memcmp(magic, LXOPS_SAVE_MAGIC, sizeof(magic)) != 0)
                r = -EBADMSG;
        if (r >= 0)
                r = read_all(fd, len, sizeof(len));
        if (r == -EBADMSG)
                return lxops_errorf(error, XVP_ERR_INVALID_ARG, "'%s' is not a xenvirt (libxl) save file", path);
        if (r < 0)
                return xv_error_set_errnof(error, r, "Failed to read save file '%s'", path);

        n = (uint32_t) len[0] | (uint32_t) len[1] << 8 | (uint32_t) len[2] << 16 | (uint32_t) len[3] << 24;
        if (n == 0 || n > LXOPS_SAVE_XML_MAX)
                return lxops_errorf(error, XVP_ERR_INVALID_ARG, "save file '%s': bad header length %" PRIu32, path, n);
        xml = new(char, (size_t) n + 1);
        if (!xml)
                return -ENOMEM;
        r = read_all(fd, xml, n);
        if (r == -EBADMSG)
                return lxops_errorf(error, XVP_ERR_INVALID_ARG, "save file '%s' is truncated", path);
        if (r < 0)
                return xv_error_set_errnof(error, r, "Failed to read save file '%s'", path);
        xml[n] = '\0';
        if (strlen(xml) != n)
                return lxops_errorf(error, XVP_ERR_INVALID_ARG, "save file '%s': NUL byte in the header", path);

        return domain_def_parse_xml(xml, ret, error);
}

int lxops_save_file_read_def(const char *path, DomainDef **ret, XvError *error) {
        _cleanup_close_ int fd = -EBADF;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return xv_error_set_errnof(error, -errno, "Failed to open save file '%s'", path);
        return read_header(fd, path, ret, error);
}

int lxops_restore_file(libxl_ctx *ctx, const char *path, bool paused, uint32_t *ret_domid,
                       DomainDef **ret_def, XvError *error) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint32_t domid = 0;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return xv_error_set_errnof(error, -errno, "Failed to open save file '%s'", path);
        r = read_header(fd, path, &def, error);
        if (r < 0)
                return r;
        r = lxops_restore(ctx, def, fd, paused, &domid, error);
        if (r < 0)
                return r;
        *ret_domid = domid;
        if (ret_def)
                *ret_def = TAKE_PTR(def);
        return 0;
}

int lxops_core_dump(libxl_ctx *ctx, uint32_t domid, const char *name, const char *path, bool live,
                    bool crash, XvError *error) {
        bool paused_here = false;
        int rc;

        if (!live) {
                libxl_dominfo info;

                libxl_dominfo_init(&info);
                rc = libxl_domain_info(ctx, &info, domid);
                if (rc == 0 && !info.paused) {
                        rc = libxl_domain_pause(ctx, domid, NULL);
                        paused_here = rc == 0;
                }
                libxl_dominfo_dispose(&info);
                if (rc != 0)
                        return op_failed(ctx, error, rc, "pause (for a core dump)", name, domid);
        }

        rc = libxl_domain_core_dump(ctx, domid, path, NULL);
        if (rc != 0) {
                if (paused_here)
                        (void) libxl_domain_unpause(ctx, domid, NULL);
                return op_failed(ctx, error, rc, "dump the core of", name, domid);
        }

        if (crash) {
                rc = libxl_domain_destroy(ctx, domid, NULL);
                if (rc != 0)
                        return op_failed(ctx, error, rc, "destroy (after a core dump)", name, domid);
        } else if (paused_here) {
                rc = libxl_domain_unpause(ctx, domid, NULL);
                if (rc != 0)
                        return op_failed(ctx, error, rc, "resume (after a core dump)", name, domid);
        }
        return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Resources */

int lxops_set_memory(libxl_ctx *ctx, uint32_t domid, const char *name, uint64_t kib, XvError *error) {
        int rc;

        if (kib == 0 || kib > INT64_MAX)
                return lxops_errorf(error, XVP_ERR_INVALID_ARG, "invalid memory size %" PRIu64 " KiB", kib);
        rc = libxl_set_memory_target(ctx, domid, (int64_t) kib, 0, 1);
        return rc == 0 ? 0 : op_failed(ctx, error, rc, "set the memory of", name, domid);
}

int lxops_set_max_memory(libxl_ctx *ctx, uint32_t domid, const char *name, uint64_t kib, XvError *error) {
        int rc;

        if (kib == 0 || kib == LIBXL_MEMKB_DEFAULT)
                return lxops_errorf(error, XVP_ERR_INVALID_ARG, "invalid maximum memory %" PRIu64 " KiB", kib);
        rc = libxl_domain_setmaxmem(ctx, domid, kib);
        return rc == 0 ? 0 : op_failed(ctx, error, rc, "set the maximum memory of", name, domid);
}

static void bitmap_done(libxl_bitmap *b) {
        libxl_bitmap_dispose(b);
}

int lxops_set_vcpus(libxl_ctx *ctx, uint32_t domid, const char *name, unsigned n, unsigned max,
                    XvError *error) {
        _cleanup_(bitmap_done) libxl_bitmap map = {};
        int rc;

        if (n < 1 || n > max || max > DOMCFG_VCPUS_MAX)
                return lxops_errorf(error, XVP_ERR_INVALID_ARG, "invalid vcpu count %u (maximum %u)", n, max);
        libxl_bitmap_init(&map);
        map.map = new0(uint8_t, max / 8 + 1);
        if (!map.map)
                return -ENOMEM;
        map.size = max / 8 + 1;
        for (unsigned i = 0; i < n; i++)
                map.map[i / 8] |= (uint8_t) (1u << (i % 8));

        rc = libxl_set_vcpuonline(ctx, domid, &map, NULL);
        return rc == 0 ? 0 : op_failed(ctx, error, rc, "set the vcpus of", name, domid);
}

int lxops_pin_vcpu(libxl_ctx *ctx, uint32_t domid, const char *name, unsigned vcpu, const uint8_t *cpumap,
                   size_t maplen, XvError *error) {
        _cleanup_(bitmap_done) libxl_bitmap map = {};
        int rc;

        if (maplen == 0 || maplen > DOMCFG_CPUMAP_BITS_MAX / 8)
                return lxops_errorf(error, XVP_ERR_INVALID_ARG, "invalid CPU map length %zu", maplen);
        if (vcpu >= DOMCFG_VCPUS_MAX)
                return lxops_errorf(error, XVP_ERR_INVALID_ARG, "invalid vcpu %u", vcpu);
        libxl_bitmap_init(&map);
        map.map = new(uint8_t, maplen);
        if (!map.map)
                return -ENOMEM;
        memcpy(map.map, cpumap, maplen);
        map.size = (uint32_t) maplen;

        rc = libxl_set_vcpuaffinity(ctx, domid, vcpu, &map, NULL);
        return rc == 0 ? 0 : op_failed(ctx, error, rc, "pin a vcpu of", name, domid);
}

int lxops_sched_credit_get(libxl_ctx *ctx, uint32_t domid, const char *name, unsigned *ret_weight,
                           unsigned *ret_cap, const char **ret_sched, XvError *error) {
        libxl_domain_sched_params p;
        int rc;

        libxl_domain_sched_params_init(&p);
        rc = libxl_domain_sched_params_get(ctx, domid, &p);
        if (rc != 0) {
                libxl_domain_sched_params_dispose(&p);
                return op_failed(ctx, error, rc, "get the scheduler parameters of", name, domid);
        }
        if (p.sched != LIBXL_SCHEDULER_CREDIT && p.sched != LIBXL_SCHEDULER_CREDIT2) {
                const char *s = libxl_scheduler_to_string(p.sched);

                libxl_domain_sched_params_dispose(&p);
                return lxops_errorf(error, XVP_ERR_NO_SUPPORT, "the %s scheduler has no weight and cap",
                                    strnull(s));
        }
        if (ret_weight)
                *ret_weight = p.weight > 0 ? (unsigned) p.weight : 0;
        if (ret_cap)
                *ret_cap = p.cap > 0 ? (unsigned) p.cap : 0;
        if (ret_sched)
                *ret_sched = libxl_scheduler_to_string(p.sched);
        libxl_domain_sched_params_dispose(&p);
        return 0;
}

int lxops_sched_credit_set(libxl_ctx *ctx, uint32_t domid, const char *name, unsigned weight, int cap,
                           XvError *error) {
        libxl_domain_sched_params p;
        int rc;

        if (weight > SCHED_WEIGHT_MAX)
                return lxops_errorf(error, XVP_ERR_INVALID_ARG, "invalid weight %u (1..%u)", weight, SCHED_WEIGHT_MAX);
        if (cap > SCHED_CAP_MAX)
                return lxops_errorf(error, XVP_ERR_INVALID_ARG, "invalid cap %d (0..%d)", cap, SCHED_CAP_MAX);

        /* The domain's own scheduler (sched unknown); unset fields keep their value. */
        libxl_domain_sched_params_init(&p);
        if (weight > 0)
                p.weight = (int) weight;
        if (cap >= 0)
                p.cap = cap;
        rc = libxl_domain_sched_params_set(ctx, domid, &p);
        libxl_domain_sched_params_dispose(&p);
        return rc == 0 ? 0 : op_failed(ctx, error, rc, "set the scheduler parameters of", name, domid);
}

/* ------------------------------------------------------------------------------------------ */
/* Devices */

static void disk_done(libxl_device_disk *d) {
        libxl_device_disk_dispose(d);
}

static void nic_done(libxl_device_nic *n) {
        libxl_device_nic_dispose(n);
}

int lxops_disk_add(libxl_ctx *ctx, uint32_t domid, const char *name, const DomainDisk *disk, bool hvm,
                   XvError *error) {
        _cleanup_(disk_done) libxl_device_disk d = {};
        int r, rc;

        r = domcfg_disk_from_def(ctx, disk, hvm, &d, error);
        if (r < 0)
                return r;
        rc = libxl_device_disk_add(ctx, domid, &d, NULL);
        return rc == 0 ? 0 : op_failed(ctx, error, rc, "attach a disk to", name, domid);
}

int lxops_disk_remove(libxl_ctx *ctx, uint32_t domid, const char *name, const DomainDisk *disk, bool hvm,
                      XvError *error) {
        libxl_device_disk *list;
        const char *dst;
        int num = 0, rc = ERROR_NOTFOUND;

        if (isempty(disk->dst))
                return lxops_errorf(error, XVP_ERR_NO_TARGET, "Missing disk target");
        dst = strncmp(disk->dst, "ioemu:", 6) == 0 ? disk->dst + 6 : disk->dst;

        /* What libxl knows about the attached disk (backend, path), found by its target. */
        list = libxl_device_disk_list(ctx, domid, &num);
        if (num > DOMCFG_DEVICES_MAX)
                num = DOMCFG_DEVICES_MAX;
        for (int i = 0; list && i < num; i++)
                if (streq_ptr(list[i].vdev, dst)) {
                        rc = libxl_device_disk_remove(ctx, domid, &list[i], NULL);
                        break;
                }
        if (list)
                libxl_device_disk_list_free(list, num);

        if (rc == ERROR_NOTFOUND)
                return lxops_errorf(error, XVP_ERR_DEVICE_MISSING, "domain '%s' has no disk '%s'",
                                    name ?: "?", dst);
        return rc == 0 ? 0 : op_failed(ctx, error, rc, "detach a disk from", name, domid);
}

int lxops_nic_add(libxl_ctx *ctx, uint32_t domid, const char *name, const DomainNet *net, bool hvm,
                  XvError *error) {
        _cleanup_(nic_done) libxl_device_nic n = {};
        int r, rc;

        r = domcfg_nic_from_def(ctx, net, hvm, &n, error);
        if (r < 0)
                return r;
        /* libxl picks the next free device id. */
        n.devid = -1;
        rc = libxl_device_nic_add(ctx, domid, &n, NULL);
        return rc == 0 ? 0 : op_failed(ctx, error, rc, "attach an interface to", name, domid);
}

int lxops_nic_remove(libxl_ctx *ctx, uint32_t domid, const char *name, const DomainNet *net, bool hvm,
                     XvError *error) {
        libxl_device_nic *list;
        int num = 0, found = -1, rc = 0;
        bool ambiguous = false;

        list = libxl_device_nic_list(ctx, domid, &num);
        if (num > DOMCFG_DEVICES_MAX)
                num = DOMCFG_DEVICES_MAX;
        for (int i = 0; list && i < num; i++) {
                if (net->has_mac ? memcmp(list[i].mac, net->mac, 6) == 0 : true) {
                        if (found >= 0)
                                ambiguous = true;
                        found = i;
                        if (net->has_mac)
                                break;
                }
        }
        if (found >= 0 && !ambiguous)
                rc = libxl_device_nic_remove(ctx, domid, &list[found], NULL);
        if (list)
                libxl_device_nic_list_free(list, num);

        if (found < 0)
                return lxops_errorf(error, XVP_ERR_DEVICE_MISSING, "domain '%s' has no matching interface",
                                    name ?: "?");
        if (ambiguous)
                return lxops_errorf(error, XVP_ERR_OPERATION_FAILED,
                                    "domain '%s' has several interfaces: name the one to detach by its MAC address",
                                    name ?: "?");
        return rc == 0 ? 0 : op_failed(ctx, error, rc, "detach an interface from", name, domid);
}

/* ------------------------------------------------------------------------------------------ */
/* Inspection */

int lxops_get_def(libxl_ctx *ctx, uint32_t domid, const char *name, DomainDef **ret, XvError *error) {
        _cleanup_(config_done) libxl_domain_config cfg = {};
        DomainDef *def = NULL;
        int r, rc;

        libxl_domain_config_init(&cfg);
        rc = libxl_retrieve_domain_configuration(ctx, domid, &cfg, NULL);
        if (rc != 0)
                return op_failed(ctx, error, rc, "get the configuration of", name, domid);

        r = domcfg_to_def(&cfg, &def, error);
        if (r < 0)
                return r;
        def->id = (int) domid;
        *ret = def;
        return 0;
}
