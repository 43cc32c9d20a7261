/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "fuzz.h"
#include "xv-alloc.h"
#include "xv-domain-def.h"
#include "xv-xm-config.h"
#include "xv-xm-domain.h"

/* One cfg -> model -> cfg trip; NULL when the config does not describe a domain. */
static char *trip(const char *text, int version) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        char *out = NULL;

        if (xm_domain_parse_text(text, version, &def, &error) < 0)
                return NULL;
        /* A definition read from a config must be writable at the same version. */
        if (xm_domain_format_text(def, version, &out, &error) < 0)
                abort();
        return out;
}

/* Parses arbitrary bytes as an XM config. Whatever parses must format to text that parses to the
 * same text again, and every version's domain conversion must reach a fixed point after one
 * trip. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(xm_config_freep) XmConfig *c = NULL, *c2 = NULL;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_free_ char *text = NULL, *out = NULL, *out2 = NULL;

        /* The parser refuses more than XM_CONFIG_SIZE_MAX itself (a unit test checks it); let the
         * fuzzer reach that refusal but no further. */
        if (size > XM_CONFIG_SIZE_MAX + 16)
                return 0;

        text = strndup((const char *) data, size);
        if (!text)
                return 0;

        if (xm_config_parse(text, &c, &error) < 0)
                return 0;

        if (xm_config_format(c, &out, &error) < 0)
                abort();
        if (xm_config_parse(out, &c2, &error) < 0)
                abort();
        if (xm_config_format(c2, &out2, &error) < 0)
                abort();
        if (!streq(out, out2))
                abort();

        for (int version = XM_CONFIG_VERSION_MIN; version <= XM_CONFIG_VERSION_MAX; version++) {
                _cleanup_free_ char *once = NULL, *twice = NULL;

                once = trip(text, version);
                if (!once)
                        continue;
                twice = trip(once, version);
                if (!twice || !streq(once, twice))
                        abort();
        }

        return 0;
}
