/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "fuzz.h"
#include "xv-alloc.h"
#include "xv-sexpr.h"

/* Parses arbitrary bytes (NUL included) as XenD SXP. Whatever parses must print, and the
 * printed text must parse back to a tree that prints the same: the printer's quoting can
 * never let a value escape its atom. The accessors must cope with any shape. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(sexpr_freep) Sexpr *s = NULL, *s2 = NULL;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_free_ char *out = NULL, *out2 = NULL;
        static const char * const paths[] = {
                "domain/name", "domain/image/hvm/kernel", "domain/image/hvm/serial", "domain/device/vbd/dev",
                "vm/image/linux/args", "domain//x", "domain/", "a/b/c/d/e/f",
        };
        const char *v;
        uint64_t u;
        int64_t i;
        double d;
        bool b;

        if (size > 256 * 1024)
                return 0;

        if (sexpr_parse((const char *) data, size, &s, &error) < 0) {
                if (!error.message)
                        abort();        /* every rejection says why (OOM aside, which cannot happen here) */
                return 0;
        }

        for (size_t k = 0; k < ELEMENTSOF(paths); k++) {
                (void) sexpr_lookup(s, paths[k]);
                (void) sexpr_node(s, paths[k]);
                (void) sexpr_get_string(s, paths[k], &v);
                (void) sexpr_get_u64(s, paths[k], &u);
                (void) sexpr_get_i64(s, paths[k], &i);
                (void) sexpr_get_double(s, paths[k], &d);
                (void) sexpr_get_bool(s, paths[k], &b);
        }
        SEXPR_FOREACH_CHILD(c, s)
                (void) sexpr_head(c);

        if (sexpr_format(s, &out) < 0)
                abort();
        if (strchr(out, '\n'))
                abort();
        if (sexpr_parse_string(out, &s2, NULL) < 0)
                abort();
        if (sexpr_format(s2, &out2) < 0)
                abort();
        if (!streq(out, out2))
                abort();
        return 0;
}
