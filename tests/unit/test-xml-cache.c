/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * src/xen/xv-xml-cache.c: dumpxml's definition cache. Hits are copies for the same incarnation
 * only, entries expire by kind, every drop removes what it names and nothing else, a reader whose
 * reads may predate a drop of its domain stores nothing, the size stays bounded; and the xenstore
 * path parsers (src/xen/xv-xenstore.c) that map a fired watch to the domain whose entry goes.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-xenstore.h"
#include "xv-xml-cache.h"

#define RUNNING_AGE 1000        /* µs */
#define INACTIVE_AGE 5000

static XvUuid uuid_of(unsigned n) {
        XvUuid u = {};

        u.bytes[0] = 0x6f;
        memcpy(u.bytes + 8, &n, sizeof(n));
        return u;
}

static DomainDef *def_of(const char *name, uint64_t memory_kib) {
        DomainDef *def = NULL;

        ASSERT_OK(domain_def_new(&def));
        def->name = strdup(name);
        ASSERT_NOT_NULL(def->name);
        def->memory_kib = memory_kib;
        return def;
}

/* Puts domain @n ("d<n>", memory n MiB) as @id at generation gen-now and time @stamp. */
static void put(XmlCache *c, unsigned n, int id, uint64_t stamp) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        XvUuid u = uuid_of(n);
        char name[32];

        (void) snprintf(name, sizeof(name), "d%u", n);
        def = def_of(name, n * 1024);
        xml_cache_put(c, xml_cache_gen(c), &u, name, id, stamp, def);
}

/* 1 when domain @n is served as @id at time @now (and checks the copy), else 0. */
static int has(XmlCache *c, unsigned n, int id, uint64_t now) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        XvUuid u = uuid_of(n);
        char name[32];
        int r;

        r = xml_cache_get(c, &u, id, now, &def);
        ASSERT_OK(r);
        if (r == 0) {
                ASSERT_NULL(def);
                return 0;
        }
        (void) snprintf(name, sizeof(name), "d%u", n);
        ASSERT_STREQ(def->name, name);
        ASSERT_EQ(def->memory_kib, (uint64_t) n * 1024);
        return 1;
}

static XmlCache *cache_new(size_t max) {
        XmlCache *c = NULL;

        ASSERT_OK(xml_cache_new(max, RUNNING_AGE, INACTIVE_AGE, &c));
        return c;
}

TEST(new_checks_its_bound) {
        XmlCache *c = NULL;

        ASSERT_ERROR(xml_cache_new(0, 1, 1, &c), EINVAL);
        ASSERT_ERROR(xml_cache_new(XML_CACHE_ENTRIES_MAX + 1, 1, 1, &c), EINVAL);
        ASSERT_NULL(c);
        ASSERT_OK(xml_cache_new(XML_CACHE_ENTRIES_MAX, 1, 1, &c));
        c = xml_cache_free(c);
        ASSERT_NULL(c);
}

TEST(null_cache_holds_nothing) {
        DomainDef *def = NULL;
        XvUuid u = uuid_of(1);

        ASSERT_EQ(xml_cache_get(NULL, &u, 1, 0, &def), 0);
        ASSERT_NULL(def);
        xml_cache_drop_all(NULL);
        xml_cache_drop_id(NULL, 1);
        ASSERT_EQ(xml_cache_size(NULL), (size_t) 0);
}

TEST(hit_is_a_copy_for_the_same_incarnation_only) {
        _cleanup_(xml_cache_freep) XmlCache *c = cache_new(16);
        _cleanup_(domain_def_freep) DomainDef *a = NULL, *b = NULL;
        XvUuid u = uuid_of(1);

        ASSERT_EQ(has(c, 1, 5, 100), 0);
        put(c, 1, 5, 100);
        ASSERT_EQ(xml_cache_size(c), (size_t) 1);
        ASSERT_EQ(has(c, 1, 5, 100), 1);
        /* Another incarnation (restarted: new id; or stopped) is not served the old one. */
        ASSERT_EQ(has(c, 1, 6, 100), 0);
        ASSERT_EQ(has(c, 1, -1, 100), 0);
        ASSERT_EQ(has(c, 2, 5, 100), 0);

        /* Two hits are two copies: a caller may change and free its own. */
        ASSERT_EQ(xml_cache_get(c, &u, 5, 100, &a), 1);
        ASSERT_EQ(xml_cache_get(c, &u, 5, 100, &b), 1);
        ASSERT_TRUE(a != b && a->name != b->name);
        a->memory_kib = 1;
        a = domain_def_free(a);
        ASSERT_EQ(has(c, 1, 5, 100), 1);

        /* A put for the new incarnation replaces the entry. */
        put(c, 1, 6, 100);
        ASSERT_EQ(xml_cache_size(c), (size_t) 1);
        ASSERT_EQ(has(c, 1, 6, 100), 1);
        ASSERT_EQ(has(c, 1, 5, 100), 0);
}

TEST(entries_expire_by_kind) {
        _cleanup_(xml_cache_freep) XmlCache *c = cache_new(16);

        put(c, 1, 3, 1000);
        put(c, 2, -1, 1000);
        ASSERT_EQ(has(c, 1, 3, 1000 + RUNNING_AGE - 1), 1);
        ASSERT_EQ(has(c, 2, -1, 1000 + RUNNING_AGE - 1), 1);
        ASSERT_EQ(has(c, 1, 3, 1000 + RUNNING_AGE), 0);
        ASSERT_EQ(has(c, 2, -1, 1000 + RUNNING_AGE), 1);
        ASSERT_EQ(has(c, 2, -1, 1000 + INACTIVE_AGE - 1), 1);
        ASSERT_EQ(has(c, 2, -1, 1000 + INACTIVE_AGE), 0);
        /* Expired entries are removed, not only hidden. */
        ASSERT_EQ(xml_cache_size(c), (size_t) 0);
        /* A reader whose clock is behind the stamp (taken on another thread) still hits. */
        put(c, 1, 3, 5000);
        ASSERT_EQ(has(c, 1, 3, 4000), 1);
}

TEST(drops_remove_what_they_name_only) {
        _cleanup_(xml_cache_freep) XmlCache *c = cache_new(64);
        XvUuid u;

        for (unsigned i = 1; i <= 8; i++)
                put(c, i, i <= 4 ? (int) i + 10 : -1, 0);
        ASSERT_EQ(xml_cache_size(c), (size_t) 8);

        u = uuid_of(1);
        xml_cache_drop_domain(c, NULL, &u);
        ASSERT_EQ(has(c, 1, 11, 0), 0);
        ASSERT_EQ(has(c, 2, 12, 0), 1);

        xml_cache_drop_domain(c, "d2", NULL);
        ASSERT_EQ(has(c, 2, 12, 0), 0);
        ASSERT_EQ(has(c, 3, 13, 0), 1);

        xml_cache_drop_id(c, 13);
        ASSERT_EQ(has(c, 3, 13, 0), 0);
        ASSERT_EQ(has(c, 4, 14, 0), 1);
        xml_cache_drop_id(c, 99);
        ASSERT_EQ(xml_cache_size(c), (size_t) 5);

        xml_cache_drop_inactive(c);
        ASSERT_EQ(xml_cache_size(c), (size_t) 1);
        ASSERT_EQ(has(c, 4, 14, 0), 1);
        for (unsigned i = 5; i <= 8; i++)
                ASSERT_EQ(has(c, i, -1, 0), 0);

        put(c, 5, -1, 0);
        xml_cache_drop_domain(c, NULL, NULL);   /* nothing named: everything */
        ASSERT_EQ(xml_cache_size(c), (size_t) 0);
        put(c, 5, -1, 0);
        xml_cache_drop_all(c);
        ASSERT_EQ(xml_cache_size(c), (size_t) 0);
}

TEST(drop_by_name_takes_every_entry_of_that_name) {
        _cleanup_(xml_cache_freep) XmlCache *c = cache_new(16);
        _cleanup_(domain_def_freep) DomainDef *def = def_of("same", 1);
        XvUuid a = uuid_of(1), b = uuid_of(2);

        /* A domain undefined and redefined under the same name with another UUID. */
        xml_cache_put(c, xml_cache_gen(c), &a, "same", -1, 0, def);
        xml_cache_put(c, xml_cache_gen(c), &b, "same", 4, 0, def);
        ASSERT_EQ(xml_cache_size(c), (size_t) 2);
        xml_cache_drop_domain(c, "same", NULL);
        ASSERT_EQ(xml_cache_size(c), (size_t) 0);
}

/* A reader that took the generation before a drop of its domain stores nothing; one of another
 * domain does not stop it. */
TEST(put_after_a_drop_of_that_domain_is_refused) {
        _cleanup_(xml_cache_freep) XmlCache *c = cache_new(16);
        _cleanup_(domain_def_freep) DomainDef *def = def_of("d1", 1024);
        XvUuid u1 = uuid_of(1), u2 = uuid_of(2);
        uint64_t gen;

        gen = xml_cache_gen(c);
        xml_cache_drop_domain(c, NULL, &u1);
        xml_cache_put(c, gen, &u1, "d1", 7, 0, def);
        ASSERT_EQ(has(c, 1, 7, 0), 0);

        gen = xml_cache_gen(c);
        xml_cache_drop_domain(c, "d1", NULL);
        xml_cache_put(c, gen, &u1, "d1", 7, 0, def);
        ASSERT_EQ(has(c, 1, 7, 0), 0);

        gen = xml_cache_gen(c);
        xml_cache_drop_id(c, 7);
        xml_cache_put(c, gen, &u1, "d1", 7, 0, def);
        ASSERT_EQ(has(c, 1, 7, 0), 0);

        gen = xml_cache_gen(c);
        xml_cache_drop_all(c);
        xml_cache_put(c, gen, &u1, "d1", 7, 0, def);
        ASSERT_EQ(has(c, 1, 7, 0), 0);

        /* Drops of other domains, of another id, of the inactive ones (this one runs). */
        gen = xml_cache_gen(c);
        xml_cache_drop_domain(c, "d2", &u2);
        xml_cache_drop_id(c, 8);
        xml_cache_drop_inactive(c);
        xml_cache_put(c, gen, &u1, "d1", 7, 0, def);
        ASSERT_EQ(has(c, 1, 7, 0), 1);

        /* ... but the inactive drop does refuse an inactive domain's entry. */
        gen = xml_cache_gen(c);
        xml_cache_drop_inactive(c);
        xml_cache_put(c, gen, &u2, "d1", -1, 0, def);
        ASSERT_EQ(xml_cache_size(c), (size_t) 1);
}

TEST(put_too_far_behind_is_refused) {
        _cleanup_(xml_cache_freep) XmlCache *c = cache_new(16);
        _cleanup_(domain_def_freep) DomainDef *def = def_of("d1", 1024);
        XvUuid u1 = uuid_of(1);
        uint64_t gen;

        /* More drops than remembered, none of them of this domain: conservatively refused. */
        gen = xml_cache_gen(c);
        for (int i = 0; i < XML_CACHE_DROPS_MAX; i++)
                xml_cache_drop_id(c, 100 + i);
        xml_cache_put(c, gen, &u1, "d1", 7, 0, def);
        ASSERT_EQ(has(c, 1, 7, 0), 0);

        gen = xml_cache_gen(c);
        for (int i = 0; i < XML_CACHE_DROPS_MAX - 1; i++)
                xml_cache_drop_id(c, 100 + i);
        xml_cache_put(c, gen, &u1, "d1", 7, 0, def);
        ASSERT_EQ(has(c, 1, 7, 0), 1);
}

TEST(size_is_bounded) {
        _cleanup_(xml_cache_freep) XmlCache *c = cache_new(3);

        for (unsigned i = 1; i <= 10; i++) {
                put(c, i, (int) i, 0);
                ASSERT_LE(xml_cache_size(c), (size_t) 3);
                ASSERT_EQ(has(c, i, (int) i, 0), 1);
        }
        /* Replacing an entry does not count twice. */
        put(c, 10, 11, 0);
        ASSERT_LE(xml_cache_size(c), (size_t) 3);
        ASSERT_EQ(has(c, 10, 11, 0), 1);
}

/* Many entries, removals in the middle: the index follows the moves. */
TEST(many_entries_and_removals) {
        _cleanup_(xml_cache_freep) XmlCache *c = cache_new(4096);

        for (unsigned i = 0; i < 2000; i++)
                put(c, i, i % 2 ? (int) i : -1, 0);
        ASSERT_EQ(xml_cache_size(c), (size_t) 2000);
        for (unsigned i = 0; i < 2000; i += 3) {
                XvUuid u = uuid_of(i);

                xml_cache_drop_domain(c, NULL, &u);
        }
        for (unsigned i = 0; i < 2000; i++)
                ASSERT_EQ(has(c, i, i % 2 ? (int) i : -1, 0), i % 3 != 0);
        xml_cache_drop_inactive(c);
        for (unsigned i = 0; i < 2000; i++)
                ASSERT_EQ(has(c, i, i % 2 ? (int) i : -1, 0), i % 3 != 0 && i % 2);
}

/* Formatted texts: per variant, next to the definition, for the same incarnation only. */
TEST(texts_per_variant) {
        _cleanup_(xml_cache_freep) XmlCache *c = cache_new(16);
        _cleanup_(domain_def_freep) DomainDef *def = def_of("d1", 1024);
        XvUuid u = uuid_of(1);
        char *x = NULL;

        ASSERT_EQ(xml_cache_get_xml(c, &u, 3, 0, 0, &x), 0);
        xml_cache_put_xml(c, xml_cache_gen(c), &u, "d1", 3, 100, 0, "<domain id='3'/>");
        xml_cache_put_xml(c, xml_cache_gen(c), &u, "d1", 3, 50, 2, "<domain/>");
        ASSERT_EQ(xml_cache_size(c), (size_t) 1);
        ASSERT_EQ(xml_cache_get_xml(c, &u, 3, 0, 100, &x), 1);
        ASSERT_STREQ(x, "<domain id='3'/>");
        x = mfree(x);
        ASSERT_EQ(xml_cache_get_xml(c, &u, 3, 2, 100, &x), 1);
        ASSERT_STREQ(x, "<domain/>");
        x = mfree(x);
        ASSERT_EQ(xml_cache_get_xml(c, &u, 3, 1, 100, &x), 0);
        ASSERT_NULL(x);
        /* No definition was stored: a definition reader misses. */
        ASSERT_EQ(has(c, 1, 3, 100), 0);
        xml_cache_put(c, xml_cache_gen(c), &u, "d1", 3, 100, def);
        ASSERT_EQ(xml_cache_get_xml(c, &u, 3, 0, 100, &x), 1);
        x = mfree(x);
        /* The entry keeps the older stamp (50): it expires as its oldest part does. */
        ASSERT_EQ(xml_cache_get_xml(c, &u, 3, 0, 50 + RUNNING_AGE - 1, &x), 1);
        x = mfree(x);
        ASSERT_EQ(xml_cache_get_xml(c, &u, 3, 0, 50 + RUNNING_AGE, &x), 0);
        ASSERT_EQ(xml_cache_size(c), (size_t) 0);

        /* Another incarnation replaces everything the entry held. */
        xml_cache_put_xml(c, xml_cache_gen(c), &u, "d1", 3, 0, 0, "<domain id='3'/>");
        xml_cache_put_xml(c, xml_cache_gen(c), &u, "d1", 4, 0, 1, "<domain id='4'/>");
        ASSERT_EQ(xml_cache_get_xml(c, &u, 3, 0, 0, &x), 0);
        ASSERT_EQ(xml_cache_get_xml(c, &u, 4, 0, 0, &x), 0);
        ASSERT_EQ(xml_cache_get_xml(c, &u, 4, 1, 0, &x), 1);
        ASSERT_STREQ(x, "<domain id='4'/>");
        x = mfree(x);

        /* The drops and the generation check apply to texts alike. */
        {
                uint64_t gen = xml_cache_gen(c);

                xml_cache_drop_id(c, 4);
                xml_cache_put_xml(c, gen, &u, "d1", 4, 0, 0, "<domain id='4'/>");
                ASSERT_EQ(xml_cache_size(c), (size_t) 0);
        }
}

static void *hammer(void *arg) {
        XmlCache *c = arg;

        for (unsigned i = 0; i < 20000; i++) {
                _cleanup_(domain_def_freep) DomainDef *def = NULL;
                XvUuid u = uuid_of(i % 50);

                switch (i % 5) {
                case 0:
                        put(c, i % 50, (int) (i % 50), 0);
                        break;
                case 1:
                        xml_cache_drop_id(c, (int) (i % 50));
                        xml_cache_put_xml(c, xml_cache_gen(c), &u, "x", (int) (i % 50), 0, i % 4, "<domain/>");
                        break;
                case 2:
                        xml_cache_drop_domain(c, NULL, &u);
                        break;
                case 3: {
                        _cleanup_free_ char *x = NULL;

                        ASSERT_OK(xml_cache_get_xml(c, &u, (int) (i % 50), i % 4, 0, &x));
                        break;
                }
                default:
                        (void) has(c, i % 50, (int) (i % 50), 0);
                }
        }
        return NULL;
}

/* Readers, writers and droppers at once (meant for ASan/TSan and valgrind runs). */
TEST(threads) {
        _cleanup_(xml_cache_freep) XmlCache *c = cache_new(32);
        pthread_t t[4];

        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                ASSERT_EQ(pthread_create(&t[i], NULL, hammer, c), 0);
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                ASSERT_EQ(pthread_join(t[i], NULL), 0);
        ASSERT_LE(xml_cache_size(c), (size_t) 32);
}

TEST(xenstore_backend_path_names_the_frontend) {
        int id = -1;

        ASSERT_OK(xenstore_path_backend_domid("/local/domain/0/backend/vbd/5/51712/state", &id));
        ASSERT_EQ(id, 5);
        id = -1;
        ASSERT_OK(xenstore_path_backend_domid("/local/domain/0/backend/vif/12", &id));
        ASSERT_EQ(id, 12);
        ASSERT_ERROR(xenstore_path_backend_domid("/local/domain/0/backend/vbd", &id), EINVAL);
        ASSERT_ERROR(xenstore_path_backend_domid("/local/domain/0/backend/vbd/", &id), EINVAL);
        ASSERT_ERROR(xenstore_path_backend_domid("/local/domain/0/backend//5", &id), EINVAL);
        ASSERT_ERROR(xenstore_path_backend_domid("/local/domain/0/backend/vbd/05/x", &id), EINVAL);
        ASSERT_ERROR(xenstore_path_backend_domid("/local/domain/0/device/vbd/5", &id), EINVAL);
        ASSERT_ERROR(xenstore_path_backend_domid("/local/domain/5/memory/target", &id), EINVAL);
        ASSERT_ERROR(xenstore_path_backend_domid("/local/domain", &id), EINVAL);
        ASSERT_ERROR(xenstore_path_backend_domid(NULL, &id), EINVAL);
}

TEST(xenstore_vm_path_names_the_uuid) {
        XvUuid u = {}, want;

        ASSERT_OK(uuid_parse("6f1a2b3c-0000-4000-8000-000000066001", &want));
        ASSERT_OK(xenstore_path_vm_uuid("/vm/6f1a2b3c-0000-4000-8000-000000066001/image/ostype", &u));
        ASSERT_TRUE(uuid_equal(&u, &want));
        u = (XvUuid) {};
        ASSERT_OK(xenstore_path_vm_uuid("/vm/6f1a2b3c-0000-4000-8000-000000066001-1", &u));
        ASSERT_TRUE(uuid_equal(&u, &want));
        u = (XvUuid) {};
        ASSERT_OK(xenstore_path_vm_uuid("/vm/6f1a2b3c-0000-4000-8000-000000066001", &u));
        ASSERT_TRUE(uuid_equal(&u, &want));
        ASSERT_ERROR(xenstore_path_vm_uuid("/vm", &u), EINVAL);
        ASSERT_ERROR(xenstore_path_vm_uuid("/vm/", &u), EINVAL);
        ASSERT_ERROR(xenstore_path_vm_uuid("/vm//x", &u), EINVAL);
        ASSERT_ERROR(xenstore_path_vm_uuid("/vm/not-a-uuid/x", &u), EINVAL);
        ASSERT_ERROR(xenstore_path_vm_uuid("/vmx/6f1a2b3c-0000-4000-8000-000000066001", &u), EINVAL);
        ASSERT_ERROR(xenstore_path_vm_uuid("/local/domain/1", &u), EINVAL);
        ASSERT_ERROR(xenstore_path_vm_uuid(NULL, &u), EINVAL);
}

DEFINE_TEST_MAIN
