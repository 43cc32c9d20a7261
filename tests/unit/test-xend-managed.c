/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* src/xen/xv-xend-managed: XenD's managed-domain directory, read once and kept current through
 * inotify. Every answer matches the directory at the moment of the question (a directory made or
 * removed is seen by the very next one, no waiting), the directory is read again only after a
 * change, names that are not UUIDs are ignored, and a directory that is missing, removed or
 * replaced is watched again. Runs on a temporary directory. */

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-xend-managed.h"

static const char *const U1 = "6b656e63-6800-4000-8000-000000000001";
static const char *const U2 = "6b656e63-6800-4000-8000-000000000002";

static void mk(const char *dir, const char *name) {
        _cleanup_free_ char *p = test_path(dir, name);

        ASSERT_EQ(mkdir(p, 0755), 0);
}

/* An entry goes with what XenD wrote in it. */
static void rm(const char *dir, const char *name) {
        _cleanup_free_ char *p = test_path(dir, name);

        test_rm_rf(p);
        ASSERT_ERROR(access(p, F_OK) < 0 ? -errno : 0, ENOENT);
}

static int contains(XendManaged *m, const char *uuid) {
        XvUuid u;

        ASSERT_OK(uuid_from_string(uuid, &u));
        return xend_managed_contains(m, &u);
}

TEST(changes_show_at_once_and_cost_one_read_each) {
        _cleanup_free_ char *d = test_mkdtemp("xv-test-xend-managed");
        _cleanup_(xend_managed_freep) XendManaged *m = NULL;
        _cleanup_free_ char *domains = test_path(d, "domains");

        ASSERT_OK(xend_managed_new(domains, &m));
        /* Not there yet (XenD not started): an error, the caller looks itself. */
        ASSERT_ERROR(contains(m, U1), ENOENT);
        ASSERT_EQ(mkdir(domains, 0755), 0);
        ASSERT_EQ(contains(m, U1), 0);
        ASSERT_EQ(xend_managed_scans(m), (uint64_t) 1);

        mk(domains, U1);
        ASSERT_EQ(contains(m, U1), 1);
        ASSERT_EQ(contains(m, U2), 0);
        ASSERT_EQ(xend_managed_scans(m), (uint64_t) 2);
        /* No change: many questions, no read of the directory. */
        for (unsigned i = 0; i < 100; i++)
                ASSERT_EQ(contains(m, U1), 1);
        ASSERT_EQ(xend_managed_scans(m), (uint64_t) 2);
        /* A config file written inside an entry does not matter. */
        {
                _cleanup_free_ char *sub = test_path(domains, U1);
                _cleanup_free_ char *cfg = test_path(sub, "config.sxp");
                FILE *f = fopen(cfg, "we");

                ASSERT_NOT_NULL(f);
                fputs("(domain)\n", f);
                ASSERT_EQ(fclose(f), 0);
        }
        ASSERT_EQ(contains(m, U1), 1);
        ASSERT_EQ(xend_managed_scans(m), (uint64_t) 2);

        mk(domains, U2);
        mk(domains, "not-a-uuid");
        mk(domains, ".6b656e63-6800-4000-8000-00000000000");
        {
                HcallDomainInfo info[3] = {};
                bool got[3] = { true, false, true };

                ASSERT_OK(uuid_from_string(U2, &info[0].uuid));
                ASSERT_OK(uuid_from_string("6b656e63-6800-4000-8000-000000000009", &info[1].uuid));
                ASSERT_OK(uuid_from_string(U1, &info[2].uuid));
                ASSERT_OK(xend_managed_mark(m, info, 3, got));
                ASSERT_TRUE(got[0]);
                ASSERT_FALSE(got[1]);
                ASSERT_TRUE(got[2]);
        }
        rm(domains, U1);
        ASSERT_EQ(contains(m, U1), 0);
        ASSERT_EQ(contains(m, U2), 1);
        test_rm_rf(d);
}

TEST(a_directory_removed_or_replaced_is_watched_again) {
        _cleanup_free_ char *d = test_mkdtemp("xv-test-xend-managed");
        _cleanup_(xend_managed_freep) XendManaged *m = NULL;
        _cleanup_free_ char *domains = test_path(d, "domains");
        _cleanup_free_ char *moved = test_path(d, "domains.moved");

        ASSERT_EQ(mkdir(domains, 0755), 0);
        mk(domains, U1);
        ASSERT_OK(xend_managed_new(domains, &m));
        ASSERT_EQ(contains(m, U1), 1);

        /* Moved away and replaced by another directory: the new one answers. */
        ASSERT_EQ(rename(domains, moved), 0);
        ASSERT_EQ(mkdir(domains, 0755), 0);
        mk(domains, U2);
        ASSERT_EQ(contains(m, U1), 0);
        ASSERT_EQ(contains(m, U2), 1);
        /* The moved one is not watched any more. */
        mk(moved, "6b656e63-6800-4000-8000-000000000003");
        ASSERT_EQ(contains(m, "6b656e63-6800-4000-8000-000000000003"), 0);

        /* Removed: an error until it is back, then current again. */
        test_rm_rf(domains);
        ASSERT_ERROR(contains(m, U2), ENOENT);
        ASSERT_EQ(mkdir(domains, 0755), 0);
        ASSERT_EQ(contains(m, U2), 0);
        mk(domains, U2);
        ASSERT_EQ(contains(m, U2), 1);
        test_rm_rf(d);
}

DEFINE_TEST_MAIN
