/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Handlers of CONNECT_DOMAIN_XML_FROM_NATIVE / TO_NATIVE (virsh domxml-from-native,
 * domxml-to-native): libvirt domain XML <-> XenD S-expressions ("xen-sxpr") and XM configuration
 * files ("xen-xm"), through the domain model. Pure conversions: the backend is only asked for the
 * xend config format version, which decides the shape of both native formats.
 */

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xv-domain-xml.h"
#include "xv-native.h"
#include "xv-sexpr-domain.h"
#include "xvd-proc.h"

/* The xend config format version of the host. While XenD cannot be reached the backend reports 0;
 * the conversion then uses the newest format (3.1.0), which is what a current XenD speaks. */
static int native_config_version(Manager *m, XvError *error) {
        XvHypervisor *h;
        int r, v;

        r = proc_hypervisor(m, &h, error);
        if (r < 0)
                return r;

        v = hypervisor_get_xend_config_version(h);
        if (v < XEND_CONFIG_VERSION_3_0_2 || v > XEND_CONFIG_VERSION_3_1_0)
                return XEND_CONFIG_VERSION_3_1_0;
        return v;
}

/* What both directions check first: no flags, a known format; returns the version to use. */
static int native_prepare(Manager *m, unsigned flags, const char *format, XvError *error) {
        int r;

        r = proc_check_flags(flags, 0, error);
        if (r < 0)
                return r;
        r = native_check_format(format, error);
        if (r < 0)
                return r;
        return native_config_version(m, error);
}

int proc_connect_domain_xml_from_native(Manager *m, Client *c, const xvp_connect_domain_xml_from_native_args *args,
                                        xvp_connect_domain_xml_from_native_ret *ret, XvError *error) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_free_ char *xml = NULL;
        int version, r;

        version = native_prepare(m, args->flags, args->native_format, error);
        if (version < 0)
                return version;

        r = native_parse(args->native_format, args->native_config, version, &def, error);
        if (r < 0)
                return r;

        r = domain_def_format_xml(def, 0, &xml, error);
        if (r < 0)
                return r;

        ret->domain_xml = TAKE_PTR(xml);
        return 0;
}

int proc_connect_domain_xml_to_native(Manager *m, Client *c, const xvp_connect_domain_xml_to_native_args *args,
                                      xvp_connect_domain_xml_to_native_ret *ret, XvError *error) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_free_ char *text = NULL;
        int version, r;

        version = native_prepare(m, args->flags, args->native_format, error);
        if (version < 0)
                return version;

        r = domain_def_parse_xml(args->domain_xml, &def, error);
        if (r < 0)
                return r;

        r = native_format(args->native_format, def, version, &text, error);
        if (r < 0)
                return r;

        ret->native_config = TAKE_PTR(text);
        return 0;
}
