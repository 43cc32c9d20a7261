/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "xv-native.h"
#include "xv-sexpr-domain.h"
#include "xv-sexpr.h"
#include "xv-xl-domain.h"
#include "xv-xm-domain.h"

int native_check_format(const char *format, XvError *error) {
        if (!format || (!streq(format, NATIVE_FORMAT_SXPR) && !streq(format, NATIVE_FORMAT_XM) &&
                        !streq(format, NATIVE_FORMAT_XL)))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "unsupported config type %s", strnull(format));
        return 0;
}

int native_parse(const char *format, const char *text, int xend_config_version, DomainDef **ret,
                 XvError *error) {
        int r;

        r = native_check_format(format, error);
        if (r < 0)
                return r;

        if (streq(format, NATIVE_FORMAT_SXPR)) {
                _cleanup_(sexpr_freep) Sexpr *sxp = NULL;
                SexprDomainOptions opts = SEXPR_DOMAIN_OPTIONS_INIT(xend_config_version);

                r = sexpr_parse(text, strlen(text), &sxp, error);
                if (r < 0)
                        return r;
                return sexpr_domain_to_def(sxp, &opts, ret, error);
        }
        if (streq(format, NATIVE_FORMAT_XL))
                return xl_domain_parse_text(text, ret, error);
        return xm_domain_parse_text(text, xend_config_version, ret, error);
}

int native_format(const char *format, const DomainDef *def, int xend_config_version, char **ret,
                  XvError *error) {
        int r;

        r = native_check_format(format, error);
        if (r < 0)
                return r;

        if (streq(format, NATIVE_FORMAT_SXPR))
                return sexpr_domain_from_def(def, xend_config_version, ret, error);
        if (streq(format, NATIVE_FORMAT_XL))
                return xl_domain_format_text(def, ret, error);
        return xm_domain_format_text(def, xend_config_version, ret, error);
}
