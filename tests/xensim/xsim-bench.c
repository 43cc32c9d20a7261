/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xsim-bench.h"
#include "xv-alloc.h"
#include "xv-sexpr.h"
#include "xv-strbuf.h"
#include "xv-uuid.h"

void xsim_bench_identity(const char *prefix, unsigned index, char name[static XSIM_BENCH_NAME_MAX],
                         char uuid[static 40], char mac[static 20]) {
        unsigned hash = 2166136261u;

        for (const char *q = prefix; *q; q++)
                hash = (hash ^ (unsigned char) *q) * 16777619u;
        (void) snprintf(name, XSIM_BENCH_NAME_MAX, "%s%05u", prefix, index);
        (void) snprintf(uuid, 40, "%08x-b3e7-4000-8000-%012x", hash, index);
        (void) snprintf(mac, 20, "00:16:3e:%02x:%02x:%02x", (index >> 16) & 0xff, (index >> 8) & 0xff,
                        index & 0xff);
}

/* The first MAC of a (vm ...) configuration's vifs, or NULL. */
static const char *config_mac(const Sexpr *config) {
        SEXPR_FOREACH_CHILD(dev, config) {
                if (!streq_ptr(sexpr_head(dev), "device"))
                        continue;
                SEXPR_FOREACH_CHILD(v, dev)
                        if (streq_ptr(sexpr_head(v), "vif"))
                                return xsim_device_value(v, "mac");
        }
        return NULL;
}

/* @text with every occurrence of each from[i] replaced by to[i] (tried in order at each position). */
static int replace_all(const char *text, const char *const *from, const char *const *to, size_t n, char **ret) {
        StrBuf b = STRBUF_INIT;

        for (const char *p = text; *p;) {
                size_t i;

                for (i = 0; i < n; i++)
                        if (!isempty(from[i]) && strncmp(p, from[i], strlen(from[i])) == 0)
                                break;
                if (i < n) {
                        strbuf_append(&b, to[i]);
                        p += strlen(from[i]);
                } else
                        strbuf_appendc(&b, *p++);
        }
        return strbuf_steal(&b, ret);
}

int xsim_bench_populate(XsimHost *host, const char *seed, const char *prefix, unsigned first,
                        unsigned count, XvError *error) {
        _cleanup_free_ char *text = NULL;
        char seed_uuid[UUID_STRING_BUF];
        const char *seed_mac;
        XsimDomain *s;
        int r;

        if (isempty(prefix) || strlen(prefix) >= XSIM_BENCH_PREFIX_MAX || strpbrk(prefix, " ()\"'\\"))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid prefix '%s'", strnull(prefix));
        if (count > XSIM_BENCH_COUNT_MAX || first > 99999 || 99999 - first < count)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid range %u+%u (at most %u domains, indexes below 100000)",
                                     first, count, (unsigned) XSIM_BENCH_COUNT_MAX);
        s = xsim_domain_by_name(host, seed);
        if (!s || !s->managed || !s->config)
                return xv_error_setf(error, XVP_ERR_NO_DOMAIN, "No managed domain '%s' to clone", strnull(seed));
        if (host->n_domains + count > XSIM_DOMAINS_MAX)
                return xv_error_setf(error, XVP_ERR_OPERATION_FAILED, "Too many domains (at most %u)",
                                     XSIM_DOMAINS_MAX);
        r = sexpr_format(s->config, &text);
        if (r < 0)
                return r;
        uuid_format(&s->uuid, seed_uuid);
        seed_mac = config_mac(s->config);

        for (unsigned i = first; i < first + count; i++) {
                _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
                _cleanup_(sexpr_freep) Sexpr *config = NULL;
                _cleanup_free_ char *t = NULL;
                char name[XSIM_BENCH_NAME_MAX], uuid_s[40], mac[20];
                const char *from[] = { seed, seed_uuid, seed_mac }, *to[] = { name, uuid_s, mac };
                XsimDomain *d;
                XvUuid uuid;

                xsim_bench_identity(prefix, i, name, uuid_s, mac);
                r = uuid_from_string(uuid_s, &uuid);
                if (r < 0)
                        return xv_error_set_errnof(error, r, "Bad UUID '%s'", uuid_s);
                /* New domains only: a second populate of the same range is a mistake, not an
                 * update. */
                if (xsim_domain_by_name(host, name) || xsim_domain_by_uuid(host, &uuid))
                        return xv_error_setf(error, XVP_ERR_DOM_EXIST, "Domain '%s' already exists", name);
                r = replace_all(text, from, to, ELEMENTSOF(from), &t);
                if (r < 0)
                        return r;
                r = sexpr_parse_string(t, &config, &e);
                if (r < 0) {
                        xv_error_move(error, &e);
                        return r;
                }
                r = xsim_domain_define(host, name, &uuid, s->hvm, s->memory_kib, s->max_memory_kib, s->max_vcpus,
                                       TAKE_PTR(config), &d, &e);
                if (r >= 0) {
                        /* What op=new applies beyond the definition (online vcpus, scheduler,
                         * autostart), as the seed got it. */
                        memcpy(d->vcpus, s->vcpus, sizeof(d->vcpus));
                        d->sched_weight = s->sched_weight;
                        d->sched_cap = s->sched_cap;
                        d->autostart = s->autostart;
                        if (i % 2 == 0) {
                                r = xsim_domain_start(d, &e);
                                if (r >= 0)
                                        r = xsim_domain_unpause(d, &e);
                        }
                }
                if (r < 0) {
                        xv_error_move(error, &e);
                        return r;
                }
        }
        return 0;
}
