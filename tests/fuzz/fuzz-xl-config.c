/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "fuzz.h"
#include "xv-alloc.h"
#include "xv-domain-def.h"
#include "xv-xl-domain.h"
#include "xv-xm-config.h"

/* One xl.cfg -> model -> xl.cfg trip; NULL when the text does not describe a domain. */
static char *trip(const char *text) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        char *out = NULL;

        if (xl_domain_parse_text(text, &def, &error) < 0)
                return NULL;
        /* A definition read from an xl.cfg must be writable as one. */
        if (xl_domain_format_text(def, &out, &error) < 0)
                abort();
        return out;
}

/* Parses arbitrary bytes as an xl.cfg file. Whatever describes a domain must format to text that
 * parses again, and the conversion must reach a fixed point after one trip. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL, *once = NULL, *twice = NULL;

        if (size > XM_CONFIG_SIZE_MAX + 16)
                return 0;

        text = strndup((const char *) data, size);
        if (!text)
                return 0;

        once = trip(text);
        if (!once)
                return 0;
        twice = trip(once);
        if (!twice || !streq(once, twice))
                abort();
        return 0;
}
