/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "conformance.h"
#include "xv-alloc.h"
#include "xv-capabilities.h"
#include "xv-error.h"

/*
 * Folder "other": libvirt's xencapstest. Inputs are /proc/cpuinfo text and the hypervisor's
 * xen_caps string, the host arch comes from the notes ("arch=i686"), and the expected files are
 * libvirt 0.3's hand-written 2007 layout, hence CAPABILITIES_DIALECT_2007. That layout has no
 * version-dependent guest features, so the Xen version only has to be one without hap or
 * viridian: 3.0, the release of that era.
 */

#define CONFORMANCE_CAPS_XEN_MAJOR 3
#define CONFORMANCE_CAPS_XEN_MINOR 0

static int build_xml(const char *host_arch, const char *cpuinfo, const char *xen_caps, char **ret,
                     XvError *error) {
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;
        int r;

        r = capabilities_new(host_arch, CAPABILITIES_DIALECT_2007, &caps, error);
        if (r < 0)
                return r;
        r = capabilities_add_xen_guests(caps, cpuinfo, xen_caps, CONFORMANCE_CAPS_XEN_MAJOR,
                                        CONFORMANCE_CAPS_XEN_MINOR, error);
        if (r < 0)
                return r;
        return capabilities_format_xml(caps, ret, error);
}

static int conformance_caps(const ConformanceCase *c) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_free_ char *cpuinfo = NULL, *xen_caps = NULL, *xml = NULL;
        int r;

        if (!c->inputs || !c->inputs[0] || !c->inputs[1]) {
                printf("# %s: expected two inputs (cpuinfo;caps)\n", c->name);
                return -EINVAL;
        }
        if (!c->host_arch) {
                printf("# %s: no arch= in the notes\n", c->name);
                return -EINVAL;
        }

        r = conformance_read_input(c, c->inputs[0], false, &cpuinfo);
        if (r < 0)
                return r;
        r = conformance_read_input(c, c->inputs[1], false, &xen_caps);
        if (r < 0)
                return r;

        r = build_xml(c->host_arch, cpuinfo, xen_caps, &xml, &error);
        if (r < 0) {
                printf("# %s: %s\n", c->name, error.message ?: strerror(-r));
                return r;
        }

        return conformance_compare(CONFORMANCE_XML, c->expected, xml);
}

CONFORMANCE_FOLDER("other", conformance_caps);
