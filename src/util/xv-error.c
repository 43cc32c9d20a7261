/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The definitions below, not the static analyzer's wrappers of xv-error.h. */
#define XV_ERROR_IMPLEMENTATION 1

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xv-error.h"

typedef struct ErrorInfo {
        int errnum;             /* the errno returned by xv_error_setf() for this code */
        const char *prefix;     /* libvirt's text for the code, as printed by its clients */
} ErrorInfo;

static const ErrorInfo error_info[] = {
        [XVP_ERR_OK]                    = { 0,          "no error" },
        [XVP_ERR_INTERNAL]              = { EIO,        "internal error" },
        [XVP_ERR_NO_MEMORY]             = { ENOMEM,     "out of memory" },
        [XVP_ERR_NO_SUPPORT]            = { EOPNOTSUPP, "this function is not supported by the connection driver" },
        [XVP_ERR_NO_CONNECT]            = { ENOTCONN,   "no connection driver available" },
        [XVP_ERR_INVALID_CONN]          = { EINVAL,     "invalid connection pointer in" },
        [XVP_ERR_INVALID_DOMAIN]        = { EINVAL,     "invalid domain pointer in" },
        [XVP_ERR_INVALID_ARG]           = { EINVAL,     "invalid argument" },
        [XVP_ERR_OPERATION_FAILED]      = { EIO,        "operation failed" },
        [XVP_ERR_GET_FAILED]            = { EIO,        "GET operation failed" },
        [XVP_ERR_POST_FAILED]           = { EIO,        "POST operation failed" },
        [XVP_ERR_HTTP]                  = { EPROTO,     "got unknown HTTP error code" },
        [XVP_ERR_SEXPR_SERIAL]          = { EBADMSG,    "failed to serialize S-Expr" },
        [XVP_ERR_NO_XEN]                = { ENXIO,      "could not use Xen hypervisor entry" },
        [XVP_ERR_XEN_CALL]              = { EIO,        "failed Xen syscall" },
        [XVP_ERR_OS_TYPE]               = { EINVAL,     "unknown OS type" },
        [XVP_ERR_NO_KERNEL]             = { EINVAL,     "missing kernel information" },
        [XVP_ERR_NO_ROOT]               = { EINVAL,     "missing root device information" },
        [XVP_ERR_NO_SOURCE]             = { EINVAL,     "missing source information for device" },
        [XVP_ERR_NO_TARGET]             = { EINVAL,     "missing target information for device" },
        [XVP_ERR_NO_NAME]               = { EINVAL,     "missing name information" },
        [XVP_ERR_NO_OS]                 = { EINVAL,     "missing operating system information" },
        [XVP_ERR_NO_DEVICE]             = { ENODEV,     "missing devices information" },
        [XVP_ERR_NO_XENSTORE]           = { ENXIO,      "could not connect to Xen Store" },
        [XVP_ERR_CALL_FAILED]           = { EIO,        "library call failed" },
        [XVP_ERR_XML]                   = { EBADMSG,    "XML error" },
        [XVP_ERR_DOM_EXIST]             = { EEXIST,     "this domain exists already" },
        [XVP_ERR_OPERATION_DENIED]      = { EPERM,      "operation forbidden" },
        [XVP_ERR_OPEN_FAILED]           = { EIO,        "failed to open" },
        [XVP_ERR_READ_FAILED]           = { EIO,        "failed to read" },
        [XVP_ERR_PARSE_FAILED]          = { EBADMSG,    "failed to parse" },
        [XVP_ERR_CONF_SYNTAX]           = { EBADMSG,    "configuration file syntax error" },
        [XVP_ERR_WRITE_FAILED]          = { EIO,        "failed to write" },
        [XVP_ERR_XML_DETAIL]            = { EBADMSG,    "parser error" },
        [XVP_ERR_SYSTEM]                = { EIO,        "system call error" },
        [XVP_ERR_RPC]                   = { EPROTO,     "RPC error" },
        [XVP_ERR_NO_DOMAIN]             = { ENOENT,     "Domain not found" },
        [XVP_ERR_INVALID_MAC]           = { EINVAL,     "invalid MAC address" },
        [XVP_ERR_AUTH_FAILED]           = { EACCES,     "authentication failed" },
        [XVP_ERR_OPERATION_INVALID]     = { EBUSY,      "Requested operation is not valid" },
        [XVP_ERR_CONFIG_UNSUPPORTED]    = { EOPNOTSUPP, "unsupported configuration" },
        [XVP_ERR_OPERATION_TIMEOUT]     = { ETIMEDOUT,  "Timed out during operation" },
        [XVP_ERR_ARGUMENT_UNSUPPORTED]  = { EINVAL,     "argument unsupported" },
        [XVP_ERR_OPERATION_ABORTED]     = { ECANCELED,  "operation aborted" },
        [XVP_ERR_OVERFLOW]              = { EOVERFLOW,  "value too large" },
        [XVP_ERR_OPERATION_UNSUPPORTED] = { EOPNOTSUPP, "Operation not supported" },
        [XVP_ERR_RESOURCE_BUSY]         = { EBUSY,      "resource busy" },
        [XVP_ERR_ACCESS_DENIED]         = { EACCES,     "access denied" },
        [XVP_ERR_AUTH_UNAVAILABLE]      = { EACCES,     "authentication unavailable" },
        [XVP_ERR_DEVICE_MISSING]        = { ENODEV,     "device not found" },
};

static const ErrorInfo *error_info_get(xvp_error_code code) {
        if ((unsigned) code >= ELEMENTSOF(error_info) || !error_info[code].prefix)
                return &error_info[XVP_ERR_INTERNAL];
        return &error_info[code];
}

int xv_error_code_to_errno(xvp_error_code code) {
        if (code == XVP_ERR_OK)
                return 0;
        return -error_info_get(code)->errnum;
}

xvp_error_code xv_error_code_from_errno(int r) {
        switch (r < 0 ? -r : r) {
        case ENOMEM:
                return XVP_ERR_NO_MEMORY;
        case ENOENT:
        case ESRCH:
                return XVP_ERR_NO_DOMAIN;
        case EINVAL:
                return XVP_ERR_INVALID_ARG;
        case EEXIST:
                return XVP_ERR_DOM_EXIST;
        case EPERM:
                return XVP_ERR_OPERATION_DENIED;
        case EACCES:
                return XVP_ERR_ACCESS_DENIED;
        case EOPNOTSUPP:
                return XVP_ERR_NO_SUPPORT;
        case ETIMEDOUT:
                return XVP_ERR_OPERATION_TIMEOUT;
        case EBADMSG:
                return XVP_ERR_PARSE_FAILED;
        case EBUSY:
                return XVP_ERR_OPERATION_INVALID;
        case EOVERFLOW:
        case E2BIG:
                return XVP_ERR_OVERFLOW;
        default:
                return XVP_ERR_SYSTEM;
        }
}

const char *xv_error_code_to_string(xvp_error_code code) {
        return error_info_get(code)->prefix;
}

bool xv_error_is_set(const XvError *e) {
        return e && e->code != XVP_ERR_OK;
}

int xv_error_setv(XvError *e, xvp_error_code code, const char *format, va_list ap) {
        assert(code != XVP_ERR_OK);

        /* The first error wins: a caller further up must not overwrite the root cause. */
        if (e && !xv_error_is_set(e)) {
                char *m = NULL;

                if (format && vasprintf(&m, format, ap) < 0)
                        m = NULL;       /* OOM: the code alone still means something */
                e->code = code;
                e->message = m;
        }

        return xv_error_code_to_errno(code);
}

int xv_error_setf(XvError *e, xvp_error_code code, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = xv_error_setv(e, code, format, ap);
        va_end(ap);
        return r;
}

int xv_error_set_errnof(XvError *e, int r, const char *format, ...) {
        assert(r < 0);

        if (e && !xv_error_is_set(e)) {
                char *m = NULL, *t = NULL;
                va_list ap;

                va_start(ap, format);
                if (vasprintf(&m, format, ap) < 0)
                        m = NULL;
                va_end(ap);

                if (m && asprintf(&t, "%s: %s", m, strerror(-r)) >= 0) {
                        free(m);
                        m = t;
                }
                e->code = r == -ENOMEM ? XVP_ERR_NO_MEMORY : XVP_ERR_SYSTEM;
                e->message = m;
        }

        return r;
}

int xv_error_set_full(XvError *e, int r, xvp_error_code code, xvp_error_domain domain,
                      const char *format, ...) {
        va_list ap;

        if (!e || xv_error_is_set(e))
                return r;
        va_start(ap, format);
        (void) xv_error_setv(e, code, format, ap);
        va_end(ap);
        return xv_error_domain(e, domain, r);
}

int xv_error_set_errno_full(XvError *e, int r, xvp_error_code code, xvp_error_domain domain,
                            const char *format, ...) {
        _cleanup_free_ char *m = NULL;
        va_list ap;

        if (!e || xv_error_is_set(e))
                return r;
        va_start(ap, format);
        if (vasprintf(&m, format, ap) < 0)
                m = NULL;
        va_end(ap);
        (void) xv_error_setf(e, code, "%s: %s", strnull(m), strerror(-r));
        return xv_error_domain(e, domain, r);
}

int xv_error_domain(XvError *e, xvp_error_domain domain, int r) {
        if (xv_error_is_set(e) && e->domain == XVP_FROM_NONE)
                e->domain = domain;
        return r;
}

void xv_error_move(XvError *dst, XvError *src) {
        if (!src)
                return;
        if (dst && !xv_error_is_set(dst)) {
                *dst = *src;
                *src = XV_ERROR_NULL;
                return;
        }
        xv_error_done(src);
}

void xv_error_done(XvError *e) {
        if (!e)
                return;
        free(e->message);
        *e = XV_ERROR_NULL;
}

char *xv_error_format(const XvError *e, int r) {
        char *s = NULL;

        if (!xv_error_is_set(e))
                return strdup(r < 0 ? strerror(-r) : "unknown error");

        if (!e->message)
                return strdup(xv_error_code_to_string(e->code));

        if (asprintf(&s, "%s: %s", xv_error_code_to_string(e->code), e->message) < 0)
                return NULL;
        return s;
}
