/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "fuzz.h"
#include "xv-alloc.h"
#include "xv-domain-xml.h"

/* Parses arbitrary bytes as domain XML; whatever parses must format, re-parse and format to the
 * same text (the fixed point the unit tests check on real documents), with every flag combination
 * the daemon uses. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL, *def2 = NULL, *def3 = NULL, *copy = NULL;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_free_ char *xml = NULL, *out = NULL, *out2 = NULL, *out3 = NULL;
        _cleanup_free_ char *inactive = NULL, *inactive2 = NULL;

        /* The parser's own limit (DOMAIN_XML_SIZE_MAX) has a unit test; a smaller cap keeps the
         * fuzzer fast. */
        if (size > 64 * 1024)
                return 0;

        xml = strndup((const char *) data, size);
        if (!xml)
                return 0;

        if (domain_def_parse_xml(xml, &def, &error) < 0)
                return 0;

        if (domain_def_format_xml(def, DOMAIN_XML_SECURE, &out, &error) < 0)
                abort();
        if (domain_def_parse_xml(out, &def2, &error) < 0)
                abort();
        if (domain_def_format_xml(def2, DOMAIN_XML_SECURE, &out2, &error) < 0)
                abort();
        if (!streq(out, out2))
                abort();
        /* The persistent configuration is a fixed point of its own. */
        if (domain_def_format_xml(def, DOMAIN_XML_INACTIVE, &inactive, &error) < 0)
                abort();
        if (domain_def_parse_xml(inactive, &def3, &error) < 0)
                abort();
        if (domain_def_format_xml(def3, DOMAIN_XML_INACTIVE, &inactive2, &error) < 0)
                abort();
        if (!streq(inactive, inactive2))
                abort();

        /* A deep copy formats like its original. */
        if (domain_def_copy(def, &copy) < 0)
                return 0;
        def = domain_def_free(def);
        if (domain_def_format_xml(copy, DOMAIN_XML_SECURE, &out3, &error) < 0 || !streq(out, out3))
                abort();
        return 0;
}
