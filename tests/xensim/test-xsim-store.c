/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xensim's xenstore tree with many children under one node (/local/domain at N = 10,000): the
 * by-name index of a node's children must find every child after insertions, removals in any
 * order and a transaction's clone, exactly as the linear search it replaces did. */
#include <stdio.h>
#include <string.h>

#include "tests.h"
#include "xsim-store.h"

#define CHILDREN 3000

static void path_of(unsigned i, char buf[static 64]) {
        (void) snprintf(buf, 64, "/local/domain/%u/name", i);
}

static void check_present(XsimStore *s, unsigned i, bool present) {
        char p[64];
        XsimNode *n;

        path_of(i, p);
        n = xsim_store_lookup(s, p);
        if (!present) {
                ASSERT_NULL(n);
                return;
        }
        ASSERT_NOT_NULL(n);
        {
                char v[32];

                (void) snprintf(v, sizeof(v), "d%u", i);
                ASSERT_STREQ(n->value, v);
        }
}

TEST(store_many_children) {
        _cleanup_(xsim_store_freep) XsimStore *s = NULL;
        _cleanup_(xsim_store_freep) XsimStore *c = NULL;
        XsimNode *dir;
        char p[64], v[32];

        ASSERT_OK(xsim_store_new(&s));
        for (unsigned i = 0; i < CHILDREN; i++) {
                path_of(i, p);
                (void) snprintf(v, sizeof(v), "d%u", i);
                ASSERT_OK(xsim_store_write(s, p, v, strlen(v)));
        }
        dir = xsim_store_lookup(s, "/local/domain");
        ASSERT_NOT_NULL(dir);
        ASSERT_EQ(dir->n_children, (size_t) CHILDREN);
        /* Children stay listed in creation order. */
        ASSERT_STREQ(dir->children[0]->name, "0");
        ASSERT_STREQ(dir->children[CHILDREN - 1]->name, "2999");
        for (unsigned i = 0; i < CHILDREN; i++)
                check_present(s, i, true);
        ASSERT_NULL(xsim_store_lookup(s, "/local/domain/3000"));
        ASSERT_NULL(xsim_store_lookup(s, "/local/domain/01"));

        /* Remove every third, then every fifth of those left (probe chains get holes). */
        for (unsigned i = 0; i < CHILDREN; i += 3) {
                (void) snprintf(p, sizeof(p), "/local/domain/%u", i);
                ASSERT_OK(xsim_store_rm(s, p));
        }
        for (unsigned i = 1; i < CHILDREN; i += 5) {
                (void) snprintf(p, sizeof(p), "/local/domain/%u", i);
                if (i % 3 != 0)
                        ASSERT_OK(xsim_store_rm(s, p));
        }
        for (unsigned i = 0; i < CHILDREN; i++)
                check_present(s, i, i % 3 != 0 && i % 5 != 1);

        /* A transaction's clone finds the same children; writing to it leaves the original. */
        ASSERT_OK(xsim_store_clone(s, &c));
        for (unsigned i = 0; i < CHILDREN; i++)
                check_present(c, i, i % 3 != 0 && i % 5 != 1);
        ASSERT_OK(xsim_store_write(c, "/local/domain/0/name", "d0", 2));
        check_present(c, 0, true);
        check_present(s, 0, false);

        /* Re-created children are found again, and the tree can be emptied. */
        for (unsigned i = 0; i < CHILDREN; i += 3) {
                path_of(i, p);
                (void) snprintf(v, sizeof(v), "d%u", i);
                ASSERT_OK(xsim_store_write(s, p, v, strlen(v)));
        }
        for (unsigned i = 0; i < CHILDREN; i++)
                check_present(s, i, i % 5 != 1 || i % 3 == 0);
        ASSERT_OK(xsim_store_rm(s, "/local/domain"));
        ASSERT_NULL(xsim_store_lookup(s, "/local/domain/2/name"));
        ASSERT_EQ(s->n_nodes, (size_t) 2);      /* the root and /local */
}

DEFINE_TEST_MAIN
