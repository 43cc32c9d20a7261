/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The daemon's domain XML parser: the module xml-parser.so (src/modules.inc.am), loaded on the
 * first definition a client sends (define, create, device attach/update, native import). Until
 * then the daemon maps neither libxml2 nor ICU nor libstdc++: monitoring, listing and dumpxml
 * (formatting is shared code, xv-domain-xml-format.c) never need them. Tools and tests link the
 * parser itself (libxv-xmlparse) instead of this file.
 */

#include <assert.h>
#include <pthread.h>

#include "xv-domain-xml.h"
#include "xv-lock.h"
#include "xv-module.h"

#define XML_PARSER_MODULE "xml-parser.so"

typedef int (*ParseFn)(const char *xml, DomainDef **ret, XvError *error);

int domain_def_parse_xml(const char *xml, DomainDef **ret, XvError *error) {
        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        static ParseFn parse = NULL;
        ParseFn p = __atomic_load_n(&parse, __ATOMIC_ACQUIRE);
        void *sym;
        int r;

        assert(xml);
        assert(ret);

        if (!p) {
                LOCKED(&lock);

                p = parse;
                if (!p) {
                        /* The module's own definition of this function: dlsym() on its handle
                         * searches the module first, not the daemon. */
                        r = module_load_symbol(XML_PARSER_MODULE, "domain_def_parse_xml", &sym, error);
                        if (r < 0)
                                return r;
                        p = (ParseFn) sym;
                        assert(p != domain_def_parse_xml);
                        __atomic_store_n(&parse, p, __ATOMIC_RELEASE);
                }
        }
        return p(xml, ret, error);
}
