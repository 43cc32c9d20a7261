/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * src/xen/xv-domain-table.c: the three indexes (id, name, uuid) against a plain array model
 * through puts, replacements, removals, growth and clearing.
 */
#include <stdio.h>
#include <string.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-domain-table.h"

static XvUuid uuid_of(unsigned n) {
        XvUuid u = {};

        u.bytes[0] = 0x6f;
        memcpy(u.bytes + 8, &n, sizeof(n));
        return u;
}

TEST(empty_table_finds_nothing) {
        _cleanup_(domain_table_freep) DomainTable *t = NULL;
        XvUuid u = uuid_of(1);

        ASSERT_OK(domain_table_new(&t));
        ASSERT_EQ(domain_table_size(t), (size_t) 0);
        ASSERT_NULL(domain_table_find_id(t, 0));
        ASSERT_NULL(domain_table_find_name(t, "x"));
        ASSERT_NULL(domain_table_find_uuid(t, &u));
        ASSERT_NULL(domain_table_at(t, 0));
        ASSERT_FALSE(domain_table_remove(t, 0));
        ASSERT_ERROR(domain_table_put(t, -1, "x", NULL), EINVAL);
        ASSERT_NULL(domain_table_find_id(t, -1));
        ASSERT_NULL(domain_table_find_name(t, NULL));
}

TEST(put_replace_remove) {
        _cleanup_(domain_table_freep) DomainTable *t = NULL;
        const DomainTableEntry *e;
        XvUuid a = uuid_of(1), b = uuid_of(2);

        ASSERT_OK(domain_table_new(&t));
        ASSERT_OK(domain_table_put(t, 3, "web", &a));
        ASSERT_OK(domain_table_put(t, 4, NULL, NULL));          /* not named yet */
        ASSERT_EQ(domain_table_size(t), (size_t) 2);
        e = domain_table_find_name(t, "web");
        ASSERT_NOT_NULL(e);
        ASSERT_EQ(e->id, 3);
        ASSERT_TRUE(domain_table_find_uuid(t, &a) == e);
        ASSERT_TRUE(domain_table_find_id(t, 3) == e);
        e = domain_table_find_id(t, 4);
        ASSERT_NOT_NULL(e);
        ASSERT_NULL(e->name);
        ASSERT_FALSE(e->has_uuid);

        /* Replacing id 4 names it; replacing id 3 renames it and drops the old keys. */
        ASSERT_OK(domain_table_put(t, 4, "db", &b));
        ASSERT_EQ(domain_table_find_name(t, "db")->id, 4);
        ASSERT_EQ(domain_table_find_uuid(t, &b)->id, 4);
        ASSERT_OK(domain_table_put(t, 3, "web2", &a));
        ASSERT_NULL(domain_table_find_name(t, "web"));
        ASSERT_EQ(domain_table_find_name(t, "web2")->id, 3);
        ASSERT_EQ(domain_table_size(t), (size_t) 2);

        /* A name shared by two ids (a stale entry): the one put last wins, the other stays by id. */
        ASSERT_OK(domain_table_put(t, 7, "db", NULL));
        ASSERT_EQ(domain_table_find_name(t, "db")->id, 7);
        ASSERT_TRUE(domain_table_remove(t, 7));
        ASSERT_EQ(domain_table_find_name(t, "db")->id, 4);

        ASSERT_TRUE(domain_table_remove(t, 3));
        ASSERT_FALSE(domain_table_remove(t, 3));
        ASSERT_NULL(domain_table_find_name(t, "web2"));
        ASSERT_NULL(domain_table_find_uuid(t, &a));
        ASSERT_EQ(domain_table_size(t), (size_t) 1);
        ASSERT_EQ(domain_table_at(t, 0)->id, 4);

        domain_table_clear(t);
        ASSERT_EQ(domain_table_size(t), (size_t) 0);
        ASSERT_NULL(domain_table_find_id(t, 4));
        ASSERT_NULL(domain_table_find_name(t, "db"));
        ASSERT_OK(domain_table_put(t, 4, "again", &b));
        ASSERT_EQ(domain_table_find_uuid(t, &b)->id, 4);
}

#define MODEL_N 5000

/* Thousands of entries through growth and removal, every index checked against the model. */
TEST(many_entries_match_a_model) {
        _cleanup_(domain_table_freep) DomainTable *t = NULL;
        static bool present[MODEL_N];
        static unsigned gen[MODEL_N];
        unsigned seed = 12345;

        ASSERT_OK(domain_table_new(&t));
        for (unsigned step = 0; step < 4 * MODEL_N; step++) {
                unsigned id;

                seed = seed * 1103515245u + 12345u;
                id = (seed >> 8) % MODEL_N;
                if ((seed >> 4) % 4 == 0) {
                        ASSERT_EQ(domain_table_remove(t, (int) id), present[id]);
                        present[id] = false;
                } else {
                        char name[32];
                        XvUuid u = uuid_of(id * 8 + ++gen[id] % 8);

                        (void) snprintf(name, sizeof(name), "dom-%u-%u", id, gen[id]);
                        ASSERT_OK(domain_table_put(t, (int) id, name, &u));
                        present[id] = true;
                }
        }
        {
                size_t n = 0;

                for (unsigned id = 0; id < MODEL_N; id++) {
                        const DomainTableEntry *e = domain_table_find_id(t, (int) id);
                        XvUuid u = uuid_of(id * 8 + gen[id] % 8);
                        char name[32];

                        (void) snprintf(name, sizeof(name), "dom-%u-%u", id, gen[id]);
                        if (!present[id]) {
                                ASSERT_NULL(e);
                                ASSERT_NULL(domain_table_find_name(t, name));
                                continue;
                        }
                        n++;
                        ASSERT_NOT_NULL(e);
                        ASSERT_STREQ(e->name, name);
                        ASSERT_TRUE(domain_table_find_name(t, name) == e);
                        ASSERT_TRUE(domain_table_find_uuid(t, &u) == e);
                }
                ASSERT_EQ(domain_table_size(t), n);
                for (size_t i = 0; i < n; i++)
                        ASSERT_TRUE(present[domain_table_at(t, i)->id]);
        }
}

DEFINE_TEST_MAIN
