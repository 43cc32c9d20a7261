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
#define TEST_BYTES (16 * 1024 * 1024)   /* a byte budget no test of the entry bound reaches */

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

        ASSERT_OK(xml_cache_new(max, TEST_BYTES, RUNNING_AGE, INACTIVE_AGE, &c));
        return c;
}

TEST(new_checks_its_bound) {
        XmlCache *c = NULL;

        ASSERT_ERROR(xml_cache_new(0, TEST_BYTES, 1, 1, &c), EINVAL);
        ASSERT_ERROR(xml_cache_new(XML_CACHE_ENTRIES_MAX + 1, TEST_BYTES, 1, 1, &c), EINVAL);
        ASSERT_NULL(c);
        ASSERT_OK(xml_cache_new(XML_CACHE_ENTRIES_MAX, TEST_BYTES, 1, 1, &c));
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

        /* New maximum ages apply to what is held. */
        put(c, 2, -1, 5000);
        xml_cache_set_max_age(c, 2 * RUNNING_AGE, 2 * INACTIVE_AGE);
        ASSERT_EQ(has(c, 1, 3, 5000 + RUNNING_AGE), 1);
        ASSERT_EQ(has(c, 2, -1, 5000 + INACTIVE_AGE), 1);
        xml_cache_set_max_age(c, RUNNING_AGE / 2, INACTIVE_AGE);
        ASSERT_EQ(has(c, 1, 3, 5000 + RUNNING_AGE / 2), 0);
        ASSERT_EQ(has(c, 2, -1, 5000 + INACTIVE_AGE), 0);
        xml_cache_set_max_age(NULL, 1, 1);
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

/* Puts the text of variant @v of domain @n ("d<n>") as @id, @len bytes of one letter. */
static void put_text(XmlCache *c, unsigned n, int id, unsigned v, size_t len) {
        _cleanup_free_ char *x = NULL;
        XvUuid u = uuid_of(n);
        char name[32];

        x = malloc(len + 1);
        ASSERT_NOT_NULL(x);
        memset(x, 'a' + (int) ((n + v) % 26), len);
        x[len] = 0;
        (void) snprintf(name, sizeof(name), "d%u", n);
        xml_cache_put_xml(c, xml_cache_gen(c), &u, name, id, 0, v, x);
}

/* The length of the text of variant @v of domain @n as @id when served (checking its letters), else -1. */
static ssize_t text_len(XmlCache *c, unsigned n, int id, unsigned v) {
        _cleanup_free_ char *x = NULL;
        XvUuid u = uuid_of(n);
        size_t len;
        int r;

        r = xml_cache_get_xml(c, &u, id, v, 0, &x);
        ASSERT_OK(r);
        if (r == 0)
                return -1;
        len = strlen(x);
        for (size_t i = 0; i < len; i++)
                ASSERT_EQ(x[i], (char) ('a' + (int) ((n + v) % 26)));
        return (ssize_t) len;
}

/* What an entry of domain @n ("d<n>") with a definition and texts of @text_bytes (sum of lengths + 1
 * each) costs. */
static size_t cost_of(unsigned n, bool def, size_t text_bytes) {
        char name[32];

        return XML_CACHE_ENTRY_COST + (size_t) snprintf(name, sizeof(name), "d%u", n) + 1 +
                (def ? XML_CACHE_DEF_COST : 0) + text_bytes;
}

TEST(new_bounded_checks_its_bounds) {
        XmlCache *c = NULL;

        ASSERT_ERROR(xml_cache_new(16, 0, 1, 1, &c), EINVAL);
        ASSERT_ERROR(xml_cache_new(16, (size_t) XML_CACHE_BYTES_MAX + 1, 1, 1, &c), EINVAL);
        ASSERT_ERROR(xml_cache_new(0, 4096, 1, 1, &c), EINVAL);
        ASSERT_NULL(c);
        ASSERT_OK(xml_cache_new(16, XML_CACHE_BYTES_MAX, 1, 1, &c));
        c = xml_cache_free(c);
}

/* Full by entries: the entry least recently read (or put) goes; a miss is no use. */
TEST(lru_evicts_the_least_recently_read) {
        _cleanup_(xml_cache_freep) XmlCache *c = cache_new(3);
        XmlCacheStats st;

        put(c, 1, 1, 0);
        put(c, 2, 2, 0);
        put(c, 3, 3, 0);
        ASSERT_EQ(has(c, 1, 1, 0), 1);          /* recency: 1 3 2 */
        ASSERT_EQ(has(c, 2, 7, 0), 0);          /* a miss (another incarnation) does not count */
        put(c, 4, 4, 0);                        /* 2 goes: 4 1 3 */
        ASSERT_EQ(xml_cache_size(c), (size_t) 3);
        ASSERT_EQ(has(c, 2, 2, 0), 0);
        ASSERT_EQ(has(c, 3, 3, 0), 1);          /* 3 4 1 */
        put(c, 5, 5, 0);                        /* 1 goes: 5 3 4 */
        ASSERT_EQ(has(c, 1, 1, 0), 0);
        ASSERT_EQ(has(c, 4, 4, 0), 1);          /* 4 5 3 */
        put(c, 5, 5, 0);                        /* a put of what is held is a use: 5 4 3 */
        put(c, 6, 6, 0);                        /* 3 goes: 6 5 4 */
        ASSERT_EQ(has(c, 3, 3, 0), 0);
        ASSERT_EQ(has(c, 4, 4, 0), 1);
        ASSERT_EQ(has(c, 5, 5, 0), 1);
        ASSERT_EQ(has(c, 6, 6, 0), 1);

        xml_cache_get_stats(c, &st);
        ASSERT_EQ(st.evicted, (uint64_t) 3);
        ASSERT_EQ(st.def_hits, (uint64_t) 6);
        ASSERT_EQ(st.def_misses, (uint64_t) 4);
        ASSERT_EQ(st.text_hits + st.text_misses, (uint64_t) 0);
        ASSERT_EQ(st.n_entries, (size_t) 3);
        ASSERT_EQ(st.bytes, 3 * cost_of(4, true, 0));
        xml_cache_get_stats(NULL, &st);
        ASSERT_EQ(st.def_hits, (uint64_t) 0);
}

/* Full by bytes: as many least recently used entries go as needed; a bigger text of a held entry
 * evicts others, never itself. */
TEST(byte_budget_evicts_until_it_fits) {
        _cleanup_(xml_cache_freep) XmlCache *c = NULL;
        size_t one = cost_of(1, false, 1001);
        XmlCacheStats st;

        ASSERT_OK(xml_cache_new(64, 4 * one, RUNNING_AGE, INACTIVE_AGE, &c));
        for (unsigned i = 1; i <= 4; i++)
                put_text(c, i, (int) i, 0, 1000);
        ASSERT_EQ(xml_cache_size(c), (size_t) 4);
        ASSERT_EQ(text_len(c, 1, 1, 0), 1000);  /* 1 4 3 2 */

        /* Twice the size: the two least recently used go. */
        put_text(c, 5, 5, 0, 2000 + (one - cost_of(5, false, 0)) - 1001 + 1 - 1);
        xml_cache_get_stats(c, &st);
        ASSERT_EQ(st.n_entries, (size_t) 3);
        ASSERT_EQ(st.evicted, (uint64_t) 2);
        ASSERT_LE(st.bytes, 4 * one);
        ASSERT_EQ(text_len(c, 2, 2, 0), -1);
        ASSERT_EQ(text_len(c, 3, 3, 0), -1);
        ASSERT_EQ(text_len(c, 4, 4, 0), 1000);
        ASSERT_EQ(text_len(c, 1, 1, 0), 1000);  /* 1 4 5 */

        /* A definition is charged XML_CACHE_DEF_COST: 5, then 4 go (the budget is 4 * one). */
        ASSERT_LE((size_t) XML_CACHE_DEF_COST, 4 * one);
        put(c, 6, 6, 0);
        xml_cache_get_stats(c, &st);
        ASSERT_LE(st.bytes, 4 * one);
        ASSERT_EQ(has(c, 6, 6, 0), 1);
        ASSERT_EQ(text_len(c, 1, 1, 0), 1000);
        ASSERT_EQ(text_len(c, 5, 5, 0), -1);

        /* Another variant of the most recent entry grows it: the others go, it stays. */
        put_text(c, 1, 1, 1, 4 * one - cost_of(1, false, 1001) - 1 - 10);
        xml_cache_get_stats(c, &st);
        ASSERT_EQ(st.n_entries, (size_t) 1);
        ASSERT_EQ(st.bytes, 4 * one - 10);
        ASSERT_EQ(text_len(c, 1, 1, 0), 1000);
        ASSERT_EQ(text_len(c, 1, 1, 1), (ssize_t) (4 * one - cost_of(1, false, 1001) - 1 - 10));
        ASSERT_EQ(has(c, 6, 6, 0), 0);

        /* Replaced by a smaller text of the same variant: the charge follows. */
        put_text(c, 1, 1, 1, 10);
        xml_cache_get_stats(c, &st);
        ASSERT_EQ(st.bytes, cost_of(1, false, 1001 + 11));
        xml_cache_drop_all(c);
        xml_cache_get_stats(c, &st);
        ASSERT_EQ(st.bytes, (size_t) 0);
}

/* An entry that alone exceeds the budget is not stored, and flushes nothing. */
TEST(entry_bigger_than_the_budget_is_not_stored) {
        _cleanup_(xml_cache_freep) XmlCache *c = NULL;
        size_t budget = 3 * cost_of(1, false, 101);
        XmlCacheStats st;

        ASSERT_OK(xml_cache_new(64, budget, RUNNING_AGE, INACTIVE_AGE, &c));
        put_text(c, 1, 1, 0, 100);
        put_text(c, 2, 2, 0, 100);
        put_text(c, 3, 3, 0, budget);
        xml_cache_get_stats(c, &st);
        ASSERT_EQ(st.too_big, (uint64_t) 1);
        ASSERT_EQ(st.evicted, (uint64_t) 0);
        ASSERT_EQ(st.n_entries, (size_t) 2);
        ASSERT_EQ(text_len(c, 3, 3, 0), -1);
        ASSERT_EQ(text_len(c, 1, 1, 0), 100);
        ASSERT_EQ(text_len(c, 2, 2, 0), 100);

        /* Exactly the budget fits (everything else goes). */
        put_text(c, 3, 3, 0, budget - cost_of(3, false, 1));
        xml_cache_get_stats(c, &st);
        ASSERT_EQ(st.n_entries, (size_t) 1);
        ASSERT_EQ(st.bytes, budget);
        ASSERT_EQ(text_len(c, 3, 3, 0), (ssize_t) (budget - cost_of(3, false, 1)));

        /* A held entry keeps what it holds when a new variant would take it past the budget. */
        put_text(c, 3, 3, 1, 1);
        xml_cache_get_stats(c, &st);
        ASSERT_EQ(st.too_big, (uint64_t) 2);
        ASSERT_EQ(text_len(c, 3, 3, 0), (ssize_t) (budget - cost_of(3, false, 1)));
        ASSERT_EQ(text_len(c, 3, 3, 1), -1);

        /* A too big entry of another incarnation still removes the stale one. */
        put_text(c, 3, 4, 0, budget);
        ASSERT_EQ(xml_cache_size(c), (size_t) 0);
}

/* Eviction removes entries and nothing else: it is no drop (a reader's generation stays good),
 * and the drops still refuse what was read before them. */
TEST(eviction_keeps_the_generation_and_drop_rules) {
        _cleanup_(xml_cache_freep) XmlCache *c = cache_new(2);
        _cleanup_(domain_def_freep) DomainDef *def = def_of("d1", 1024);
        XvUuid u1 = uuid_of(1);
        uint64_t gen;

        gen = xml_cache_gen(c);
        put(c, 2, 2, 0);
        put(c, 3, -1, 0);
        put(c, 4, 4, 0);                        /* evicts 2 */
        ASSERT_EQ(xml_cache_gen(c), gen);
        xml_cache_put(c, gen, &u1, "d1", 7, 0, def);    /* evicts 3 */
        ASSERT_EQ(has(c, 1, 7, 0), 1);
        ASSERT_EQ(has(c, 3, -1, 0), 0);

        gen = xml_cache_gen(c);
        xml_cache_drop_id(c, 7);
        put(c, 5, 5, 0);
        put(c, 6, 6, 0);
        put(c, 8, 8, 0);
        xml_cache_put(c, gen, &u1, "d1", 7, 0, def);
        ASSERT_EQ(has(c, 1, 7, 0), 0);
        ASSERT_EQ(has(c, 8, 8, 0), 1);

        /* The drops walk the array: they see the entries eviction moved. */
        put(c, 9, -1, 0);
        xml_cache_drop_inactive(c);
        ASSERT_EQ(xml_cache_size(c), (size_t) 1);
        ASSERT_EQ(has(c, 8, 8, 0), 1);
        xml_cache_drop_id(c, 8);
        ASSERT_EQ(xml_cache_size(c), (size_t) 0);
}

/* A simple model of the cache: per domain, what it holds and when it was last used. */
#define MODEL_DOMAINS 48
typedef struct ModelEntry {
        bool held;
        int id;
        bool def;
        ssize_t len[XML_CACHE_VARIANTS];        /* -1: none */
        uint64_t used;
} ModelEntry;

typedef struct Model {
        ModelEntry e[MODEL_DOMAINS];
        size_t max_entries, max_bytes;
        uint64_t clock;
} Model;

static size_t model_cost(const ModelEntry *m, unsigned n) {
        size_t text = 0;

        for (size_t v = 0; v < XML_CACHE_VARIANTS; v++)
                if (m->len[v] >= 0)
                        text += (size_t) m->len[v] + 1;
        return cost_of(n, m->def, text);
}

static void model_totals(const Model *m, size_t *ret_n, size_t *ret_bytes) {
        size_t n = 0, bytes = 0;

        for (unsigned i = 0; i < MODEL_DOMAINS; i++)
                if (m->e[i].held) {
                        n++;
                        bytes += model_cost(&m->e[i], i);
                }
        *ret_n = n;
        *ret_bytes = bytes;
}

/* Removes the least recently used entry other than @keep (MODEL_DOMAINS: none kept). */
static void model_evict(Model *m, unsigned keep) {
        unsigned victim = MODEL_DOMAINS;

        for (unsigned i = 0; i < MODEL_DOMAINS; i++)
                if (m->e[i].held && i != keep && (victim == MODEL_DOMAINS || m->e[i].used < m->e[victim].used))
                        victim = i;
        ASSERT_LT(victim, (unsigned) MODEL_DOMAINS);
        m->e[victim].held = false;
}

static ModelEntry model_empty(int id) {
        ModelEntry e = { .held = true, .id = id };

        for (size_t v = 0; v < XML_CACHE_VARIANTS; v++)
                e.len[v] = -1;
        return e;
}

/* A put of a definition (@v < 0) or a text of @len for domain @n as @id. */
static void model_put(Model *m, unsigned n, int id, int v, size_t len) {
        ModelEntry *e = &m->e[n], next;
        size_t count, bytes;

        if (e->held && e->id == id) {
                next = *e;
                if (v < 0)
                        next.def = true;
                else
                        next.len[v] = (ssize_t) len;
                if (model_cost(&next, n) > m->max_bytes)
                        return;
                next.used = ++m->clock;
                *e = next;
                for (;;) {
                        model_totals(m, &count, &bytes);
                        if (bytes <= m->max_bytes)
                                break;
                        model_evict(m, n);
                }
                return;
        }
        e->held = false;
        next = model_empty(id);
        if (v < 0)
                next.def = true;
        else
                next.len[v] = (ssize_t) len;
        if (model_cost(&next, n) > m->max_bytes)
                return;
        for (;;) {
                model_totals(m, &count, &bytes);
                if (count == 0 || (count < m->max_entries && bytes + model_cost(&next, n) <= m->max_bytes))
                        break;
                model_evict(m, MODEL_DOMAINS);
        }
        next.used = ++m->clock;
        *e = next;
}

/* Reads variant @v (< 0: the definition) of domain @n as @id from both and compares. */
static void model_check_get(XmlCache *c, Model *m, unsigned n, int id, int v) {
        ModelEntry *e = &m->e[n];
        bool hit;

        if (v < 0) {
                hit = e->held && e->id == id && e->def;
                ASSERT_EQ(has(c, n, id, 0), (int) hit);
        } else {
                hit = e->held && e->id == id && e->len[v] >= 0;
                ASSERT_EQ(text_len(c, n, id, (unsigned) v), hit ? e->len[v] : -1);
        }
        if (hit)
                e->used = ++m->clock;
}

static uint64_t rng_next(uint64_t *s) {
        /* xorshift64: deterministic, so that a failure reproduces. */
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

/* 100k random puts, reads and drops against the model: same hits, same entries, same bytes, so
 * the recency list and the index stay consistent through the moves of many evictions. */
TEST(random_ops_match_a_model) {
        _cleanup_(xml_cache_freep) XmlCache *c = NULL;
        Model m = { .max_entries = 16, .max_bytes = 8 * 1024 };
        uint64_t seed = 0x9e3779b97f4a7c15ULL;
        XmlCacheStats st;

        ASSERT_OK(xml_cache_new(m.max_entries, m.max_bytes, RUNNING_AGE, INACTIVE_AGE, &c));
        for (unsigned op = 0; op < 100000; op++) {
                uint64_t r = rng_next(&seed);
                unsigned n = (unsigned) (r % MODEL_DOMAINS);
                int id = (int) ((r >> 8) % 3) - 1;      /* -1 (inactive), 0, 1: incarnations */
                int v = (int) ((r >> 16) % (XML_CACHE_VARIANTS + 1)) - 1;      /* -1: definition */
                size_t len = (size_t) ((r >> 24) % 5000);
                size_t count, bytes;

                switch ((r >> 40) % 16) {
                case 0 ... 5:
                        if (v < 0)
                                put(c, n, id, 0);
                        else
                                put_text(c, n, id, (unsigned) v, len);
                        model_put(&m, n, id, v, len);
                        break;
                case 6 ... 12:
                        /* Half of the reads ask for the incarnation held, for hits. */
                        if (m.e[n].held && (r >> 48) % 2)
                                id = m.e[n].id;
                        model_check_get(c, &m, n, id, v);
                        break;
                case 13: {
                        XvUuid u = uuid_of(n);

                        xml_cache_drop_domain(c, NULL, &u);
                        m.e[n].held = false;
                        break;
                }
                case 14:
                        /* Ids of running domains only: -1 is no domain id. */
                        id = MAX(id, 0);
                        xml_cache_drop_id(c, id);
                        for (unsigned i = 0; i < MODEL_DOMAINS; i++)
                                if (m.e[i].id == id)
                                        m.e[i].held = false;
                        break;
                default:
                        if (r % 64 == 0) {
                                xml_cache_drop_inactive(c);
                                for (unsigned i = 0; i < MODEL_DOMAINS; i++)
                                        if (m.e[i].id < 0)
                                                m.e[i].held = false;
                        }
                }
                model_totals(&m, &count, &bytes);
                xml_cache_get_stats(c, &st);
                ASSERT_EQ(st.n_entries, count);
                ASSERT_EQ(st.bytes, bytes);
                ASSERT_LE(st.bytes, m.max_bytes);
                ASSERT_LE(st.n_entries, m.max_entries);
                if (op % 1000 == 999)
                        for (unsigned i = 0; i < MODEL_DOMAINS; i++)
                                for (int x = -1; x < XML_CACHE_VARIANTS; x++)
                                        model_check_get(c, &m, i, m.e[i].held ? m.e[i].id : 0, x);
        }
        xml_cache_get_stats(c, &st);
        ASSERT_GT(st.evicted, (uint64_t) 1000);
        ASSERT_GT(st.text_hits, (uint64_t) 300);
        ASSERT_GT(st.def_hits, (uint64_t) 50);
        ASSERT_GT(st.too_big, (uint64_t) 0);
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

        ASSERT_OK(uuid_from_string("6f1a2b3c-0000-4000-8000-000000066001", &want));
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
