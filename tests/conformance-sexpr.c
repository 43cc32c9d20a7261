/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Conformance handlers for the "sexpr2xml" folder (XenD's (domain ...) → domain XML, as
 * libvirt's sexpr2xmltest did: no xenstore, so no console tty and no VNC port) and the
 * "xml2sexpr" folder (domain XML → the (vm ...) sent to XenD), each at the case's xend config
 * version.
 */
#include <stdio.h>
#include <string.h>

#include "conformance.h"
#include "xv-domain-xml.h"
#include "xv-error.h"
#include "xv-sexpr-domain.h"
#include "xv-sexpr.h"

static int sexpr2xml(const ConformanceCase *c) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_(sexpr_freep) Sexpr *sxp = NULL;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_free_ char *text = NULL, *xml = NULL;
        SexprDomainOptions opts = SEXPR_DOMAIN_OPTIONS_INIT(c->xend_config_version);
        int r;

        if (!c->inputs || !c->inputs[0]) {
                printf("# case %s has no input\n", c->name);
                return -EINVAL;
        }

        r = conformance_read_input(c, c->inputs[0], true, &text);
        if (r < 0)
                return r;

        r = sexpr_parse_string(text, &sxp, &error);
        if (r < 0) {
                conformance_report("SXP parse", r, &error);
                return r;
        }

        r = sexpr_domain_to_def(sxp, &opts, &def, &error);
        if (r < 0) {
                conformance_report("SXP -> model", r, &error);
                return r;
        }

        r = domain_def_format_xml(def, 0, &xml, &error);
        if (r < 0) {
                conformance_report("model -> XML", r, &error);
                return r;
        }

        return conformance_compare(CONFORMANCE_XML, c->expected, xml);
}

static int xml2sexpr(const ConformanceCase *c) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_free_ char *xml = NULL, *sxp = NULL;
        int r;

        if (!c->inputs || !c->inputs[0]) {
                printf("# case %s has no input\n", c->name);
                return -EINVAL;
        }

        r = conformance_read_input(c, c->inputs[0], false, &xml);
        if (r < 0)
                return r;

        r = domain_def_parse_xml(xml, &def, &error);
        if (r < 0) {
                conformance_report("XML -> model", r, &error);
                return r;
        }

        r = sexpr_domain_from_def(def, c->xend_config_version, &sxp, &error);
        if (r < 0) {
                conformance_report("model -> SXP", r, &error);
                return r;
        }

        return conformance_compare(CONFORMANCE_SXP, c->expected, sxp);
}

CONFORMANCE_FOLDER("sexpr2xml", sexpr2xml);
CONFORMANCE_FOLDER("xml2sexpr", xml2sexpr);
