/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "xv-alloc.h"
#include "xv-domain-xml.h"
#include "xv-sexpr-domain.h"

/* Converts arbitrary SXP to the model at every xend config version. A model that came out must
 * format as XML, and the (vm ...) printed for it must parse and be a fixed point of
 * (vm ...) → model → (vm ...). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(sexpr_freep) Sexpr *s = NULL;

        if (size > 64 * 1024)
                return 0;

        if (sexpr_parse((const char *) data, size, &s, NULL) < 0)
                return 0;

        for (int version = 1; version <= 4; version++) {
                _cleanup_(domain_def_freep) DomainDef *def = NULL, *def2 = NULL;
                _cleanup_(sexpr_freep) Sexpr *vm = NULL;
                _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
                _cleanup_free_ char *xml = NULL, *sxp = NULL, *sxp2 = NULL;
                SexprDomainOptions opts = SEXPR_DOMAIN_OPTIONS_INIT(version);

                (void) sexpr_domain_state(s);
                if (sexpr_domain_to_def(s, &opts, &def, &error) < 0) {
                        if (!error.message)
                                abort();
                        continue;
                }

                (void) domain_def_format_xml(def, DOMAIN_XML_SECURE, &xml, NULL);

                if (sexpr_domain_from_def(def, version, &sxp, NULL) < 0)
                        continue;
                if (sexpr_parse_string(sxp, &vm, NULL) < 0)
                        abort();
                /* What XenD would report back: our config plus the domain id. */
                if (def->id >= 0) {
                        char id[16];

                        snprintf(id, sizeof(id), "%d", def->id);
                        if (!sexpr_add_pair(vm, "domid", id))
                                return 0;
                }
                if (sexpr_domain_to_def(vm, &opts, &def2, &error) < 0 ||
                    sexpr_domain_from_def(def2, version, &sxp2, &error) < 0) {
                        fprintf(stderr, "our own output is refused at v%d: %s\n%s\n", version,
                                strnull(error.message), sxp);
                        abort();
                }
                if (!streq(sxp, sxp2)) {
                        fprintf(stderr, "not a fixed point at v%d:\n%s\n%s\n", version, sxp, sxp2);
                        abort();
                }
        }
        return 0;
}
