/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The public error functions, and the errors the library determines itself.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "xv-client.h"

void xv_error_clear(xv_error *e) {
        xv_error_done(ERR(e));
}

/* xv_error_is_set() is src/util/xv-error.c's definition: see xv-client.h. */

int lib_error_setf(XvError *e, int r, xvp_error_code code, xvp_error_domain domain, const char *format, ...) {
        char *detail = NULL, *m = NULL;
        va_list ap;

        if (!e || xv_error_is_set(e))
                return r;

        va_start(ap, format);
        if (vasprintf(&detail, format, ap) < 0)
                detail = NULL;
        va_end(ap);

        /* libvirt composes its messages as the code's fixed text followed by the detail, except
         * for RPC errors, whose detail stands alone. */
        if (detail && code == XVP_ERR_RPC)
                m = TAKE_PTR(detail);
        else if (detail && asprintf(&m, "%s: %s", xv_error_code_to_string(code), detail) < 0)
                m = NULL;
        free(detail);

        e->code = code;
        e->domain = domain;
        e->message = m;
        return r;
}

int check_conn(xv_conn *c, XvError *error) {
        if (!c)
                return lib_error_setf(error, -EINVAL, XVP_ERR_INVALID_CONN, XVP_FROM_NONE, "%s", "NULL connection");
        return 0;
}

int check_arg(bool ok, const char *what, XvError *error) {
        if (!ok)
                return lib_error_setf(error, -EINVAL, XVP_ERR_INVALID_ARG, XVP_FROM_NONE, "%s", what);
        return 0;
}
