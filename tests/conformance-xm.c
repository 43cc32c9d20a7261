/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Conformance handler for the "xmconfig" folder: the XM config (.cfg) is converted to domain
 * XML and compared with the case's XML; unless the case is one-way, the XML is converted back
 * to a config and compared with the case's .cfg, as libvirt's xmconfigtest did.
 */
#include <stdio.h>
#include <string.h>

#include "conformance.h"
#include "xv-domain-xml.h"
#include "xv-error.h"
#include "xv-xm-domain.h"

static int cfg_to_xml(const ConformanceCase *c) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_free_ char *text = NULL, *xml = NULL;
        int r;

        r = conformance_read_input(c, c->inputs[0], false, &text);
        if (r < 0)
                return r;

        r = xm_domain_parse_text(text, c->xend_config_version, &def, &error);
        if (r < 0) {
                conformance_report("cfg -> model", r, &error);
                return r;
        }

        r = domain_def_format_xml(def, DOMAIN_XML_SECURE, &xml, &error);
        if (r < 0) {
                conformance_report("model -> XML", r, &error);
                return r;
        }

        return conformance_compare(CONFORMANCE_XML, c->expected, xml);
}

static int xml_to_cfg(const ConformanceCase *c) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_free_ char *xml = NULL, *cfg = NULL;
        int r;

        r = conformance_read_input(c, c->expected, false, &xml);
        if (r < 0)
                return r;

        r = domain_def_parse_xml(xml, &def, &error);
        if (r < 0) {
                conformance_report("XML -> model", r, &error);
                return r;
        }

        r = xm_domain_format_text(def, c->xend_config_version, &cfg, &error);
        if (r < 0) {
                conformance_report("model -> cfg", r, &error);
                return r;
        }

        return conformance_compare(CONFORMANCE_CFG, c->inputs[0], cfg);
}

static int xm_conformance(const ConformanceCase *c) {
        int r, ret = 0;

        if (!c->inputs || !c->inputs[0]) {
                printf("# case %s has no input\n", c->name);
                return -EINVAL;
        }

        r = cfg_to_xml(c);
        if (r < 0)
                ret = r;

        if (!c->one_way) {
                r = xml_to_cfg(c);
                if (r < 0 && ret == 0)
                        ret = r;
        }

        return ret;
}

CONFORMANCE_FOLDER("xmconfig", xm_conformance);
