/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* src/xen/xv-xm-dir: skip rules, name ownership, define/undefine, autostart links, inotify-driven
 * change reports. Runs on a temporary directory. */

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-fileio.h"
#include "xv-xm-dir.h"
#include "xv-xm-domain.h"

static void write_at(const char *dir, const char *file, const char *text) {
        _cleanup_free_ char *p = test_path(dir, file);
        FILE *f = fopen(p, "we");

        ASSERT_NOT_NULL(f);
        fputs(text, f);
        ASSERT_EQ(fclose(f), 0);
}

static char *config(const char *name, const char *uuid) {
        char *s;

        ASSERT_TRUE(asprintf(&s,
                             "name = \"%s\"\n"
                             "uuid = \"%s\"\n"
                             "memory = 256\n"
                             "vcpus = 1\n"
                             "kernel = \"/boot/vmlinuz\"\n"
                             "disk = [ \"phy:/dev/vg/%s,xvda,w\" ]\n",
                             name, uuid, name) >= 0);
        return s;
}

static void put(const char *dir, const char *file, const char *name, const char *uuid) {
        _cleanup_free_ char *c = config(name, uuid);

        write_at(dir, file, c);
}

static size_t count(XmDir *x) {
        XmDirDomain *l = NULL;
        size_t n = 0;

        ASSERT_OK(xm_dir_list(x, &l, &n, NULL));
        xm_dir_domains_free(l, n);
        return n;
}

#define U1 "11111111-2222-3333-4444-555555555555"
#define U2 "21111111-2222-3333-4444-555555555555"
#define U3 "31111111-2222-3333-4444-555555555555"

TEST(skip_rules) {
        ASSERT_TRUE(xm_dir_name_is_skipped(".hidden"));
        ASSERT_TRUE(xm_dir_name_is_skipped("xend-config.sxp"));
        ASSERT_TRUE(xm_dir_name_is_skipped("xend-config.sxp.rpmsave"));
        ASSERT_TRUE(xm_dir_name_is_skipped("xend-pci-quirks.sxp"));
        ASSERT_TRUE(xm_dir_name_is_skipped("xmexample1"));
        ASSERT_TRUE(xm_dir_name_is_skipped("qemu-ifup"));
        ASSERT_TRUE(xm_dir_name_is_skipped("#vm1#"));
        ASSERT_TRUE(xm_dir_name_is_skipped("vm1~"));
        ASSERT_TRUE(xm_dir_name_is_skipped(""));
        ASSERT_FALSE(xm_dir_name_is_skipped("vm1"));
        ASSERT_FALSE(xm_dir_name_is_skipped("vm1.cfg"));
}

TEST(scan_skips_and_parses) {
        _cleanup_free_ char *d = test_mkdtemp("xv-test-xm-dir"), *sub = test_path(d, "scripts");
        _cleanup_(xm_dir_freep) XmDir *x = NULL;
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        XmDirDomain *l = NULL;
        size_t n = 0;

        put(d, "vm1", "vm1", U1);
        put(d, "vm1~", "backup", U2);
        put(d, ".vm1.swp", "swap", U2);
        put(d, "xmexample2", "example", U2);
        put(d, "xend-config.sxp", "cfg", U2);
        write_at(d, "empty", "");
        write_at(d, "garbage", "this is ((( not a config\n");
        ASSERT_EQ(mkdir(sub, 0755), 0);

        ASSERT_OK(xm_dir_new(d, 4, true, &x, NULL));
        ASSERT_OK(xm_dir_list(x, &l, &n, NULL));
        ASSERT_EQ(n, 1u);
        ASSERT_STREQ(l[0].name, "vm1");
        ASSERT_STREQ(l[0].file, "vm1");
        ASSERT_FALSE(l[0].autostart);
        xm_dir_domains_free(l, n);

        ASSERT_OK(xm_dir_get(x, "vm1", &def, NULL));
        ASSERT_EQ(def->memory_kib, 256u * 1024);
        ASSERT_ERROR(xm_dir_get(x, "backup", &def, NULL), ENOENT);
        test_rm_rf(d);
}

TEST(first_file_claiming_a_name_wins) {
        _cleanup_free_ char *d = test_mkdtemp("xv-test-xm-dir"), *name = NULL;
        _cleanup_(xm_dir_freep) XmDir *x = NULL;
        XvUuid u1, u2;

        put(d, "a-first", "web", U1);
        put(d, "b-second", "web", U2);
        ASSERT_OK(xm_dir_new(d, 4, true, &x, NULL));
        ASSERT_EQ(count(x), 1u);
        ASSERT_OK(uuid_from_string(U1, &u1));
        ASSERT_OK(uuid_from_string(U2, &u2));
        ASSERT_OK(xm_dir_find_uuid(x, &u1, &name));
        ASSERT_STREQ(name, "web");
        ASSERT_ERROR(xm_dir_find_uuid(x, &u2, &name), ENOENT);

        /* The owner keeps the name while it claims it, even when a file sorting earlier appears. */
        put(d, "0-zeroth", "web", U3);
        ASSERT_EQ(count(x), 1u);
        name = mfree(name);
        ASSERT_OK(xm_dir_find_uuid(x, &u1, &name));
        test_rm_rf(d);
}

TEST(define_undefine_and_uuid_clash) {
        _cleanup_free_ char *d = test_mkdtemp("xv-test-xm-dir"), *text = config("db", U1), *p = NULL;
        _cleanup_(xm_dir_freep) XmDir *x = NULL;
        _cleanup_(domain_def_freep) DomainDef *def = NULL, *back = NULL;
        XvError e = XV_ERROR_NULL;
        struct stat st;
        bool updated = true;

        ASSERT_OK(xm_dir_new(d, 2, true, &x, NULL));
        ASSERT_OK(xm_domain_parse_text(text, 2, &def, NULL));
        ASSERT_OK(xm_dir_define(x, def, &updated, NULL));
        ASSERT_FALSE(updated);
        p = test_path(d, "db");
        ASSERT_EQ(stat(p, &st), 0);
        ASSERT_EQ(st.st_mode & 0777, 0600u);
        ASSERT_OK(xm_dir_get(x, "db", &back, NULL));
        ASSERT_TRUE(uuid_equal(&back->uuid, &def->uuid));

        /* Redefinition updates in place. */
        def->memory_kib = 512 * 1024;
        ASSERT_OK(xm_dir_define(x, def, &updated, NULL));
        ASSERT_TRUE(updated);
        back = domain_def_free(back);
        ASSERT_OK(xm_dir_get(x, "db", &back, NULL));
        ASSERT_EQ(back->memory_kib, 512u * 1024);

        /* Same UUID under another name is refused. */
        free(def->name);
        def->name = strdup("db2");
        ASSERT_TRUE(xm_dir_define(x, def, NULL, &e) < 0);
        ASSERT_EQ(e.code, XVP_ERR_OPERATION_FAILED);
        xv_error_done(&e);

        /* Names that cannot be files, or would be skipped, are refused. */
        free(def->name);
        def->name = strdup("../evil");
        def->has_uuid = false;
        ASSERT_TRUE(xm_dir_define(x, def, NULL, &e) < 0);
        ASSERT_EQ(e.code, XVP_ERR_INVALID_ARG);
        xv_error_done(&e);
        free(def->name);
        def->name = strdup("backup~");
        ASSERT_TRUE(xm_dir_define(x, def, NULL, &e) < 0);
        xv_error_done(&e);

        ASSERT_OK(xm_dir_undefine(x, "db", NULL));
        ASSERT_TRUE(stat(p, &st) < 0);
        ASSERT_EQ(count(x), 0u);
        ASSERT_TRUE(xm_dir_undefine(x, "db", &e) < 0);
        ASSERT_EQ(e.code, XVP_ERR_NO_DOMAIN);
        xv_error_done(&e);
        test_rm_rf(d);
}

TEST(define_without_uuid_keeps_identity) {
        _cleanup_free_ char *d = test_mkdtemp("xv-test-xm-dir"), *text = config("keep", U3);
        _cleanup_(xm_dir_freep) XmDir *x = NULL;
        _cleanup_(domain_def_freep) DomainDef *def = NULL, *back = NULL;

        write_at(d, "keep", text);
        ASSERT_OK(xm_dir_new(d, 4, true, &x, NULL));
        ASSERT_OK(xm_domain_parse_text(text, 4, &def, NULL));
        def->has_uuid = false;
        def->uuid = (XvUuid) {};
        ASSERT_OK(xm_dir_define(x, def, NULL, NULL));
        ASSERT_OK(xm_dir_get(x, "keep", &back, NULL));
        {
                XvUuid u3;

                ASSERT_OK(uuid_from_string(U3, &u3));
                ASSERT_TRUE(uuid_equal(&back->uuid, &u3));
        }
        test_rm_rf(d);
}

TEST(autostart_links) {
        _cleanup_free_ char *d = test_mkdtemp("xv-test-xm-dir"), *link = NULL, *target = NULL;
        _cleanup_(xm_dir_freep) XmDir *x = NULL;
        char buf[PATH_MAX];
        ssize_t l;
        bool on = true;

        put(d, "vm1.cfg", "vm1", U1);
        ASSERT_OK(xm_dir_new(d, 1, true, &x, NULL));
        ASSERT_OK(xm_dir_get_autostart(x, "vm1", &on, NULL));
        ASSERT_FALSE(on);
        ASSERT_OK(xm_dir_set_autostart(x, "vm1", true, NULL));
        ASSERT_OK(xm_dir_get_autostart(x, "vm1", &on, NULL));
        ASSERT_TRUE(on);
        link = test_path(d, "auto/vm1");
        target = test_path(d, "vm1.cfg");
        l = readlink(link, buf, sizeof(buf) - 1);
        ASSERT_GT(l, 0);
        buf[l] = 0;
        ASSERT_STREQ(buf, target);
        {
                XmDirDomain *ll = NULL;
                size_t n = 0;

                ASSERT_OK(xm_dir_list(x, &ll, &n, NULL));
                ASSERT_EQ(n, 1u);
                ASSERT_TRUE(ll[0].autostart);
                xm_dir_domains_free(ll, n);
        }
        ASSERT_OK(xm_dir_set_autostart(x, "vm1", false, NULL));
        ASSERT_TRUE(access(link, F_OK) < 0);
        /* Undefining removes the link too. */
        ASSERT_OK(xm_dir_set_autostart(x, "vm1", true, NULL));
        ASSERT_OK(xm_dir_undefine(x, "vm1", NULL));
        ASSERT_TRUE(access(link, F_OK) < 0);
        test_rm_rf(d);
}

/* An undefine interrupted between removing the config and its autostart link leaves a dangling
 * link; the next open removes it, and only it. */
TEST(dangling_autostart_link_of_an_interrupted_undefine) {
        _cleanup_free_ char *d = test_mkdtemp("xv-test-xm-dir"), *elsewhere = test_mkdtemp("xv-test-xm-dir");
        _cleanup_free_ char *cfg1 = NULL, *link1 = NULL, *link2 = NULL, *foreign = NULL, *foreign_link = NULL;
        _cleanup_(xm_dir_freep) XmDir *x = NULL;
        bool on = false;

        put(d, "vm1", "vm1", U1);
        put(d, "vm2", "vm2", U2);
        ASSERT_OK(xm_dir_new(d, 2, false, &x, NULL));
        ASSERT_OK(xm_dir_set_autostart(x, "vm1", true, NULL));
        ASSERT_OK(xm_dir_set_autostart(x, "vm2", true, NULL));
        xm_dir_free(TAKE_PTR(x));

        /* vm1's undefine stopped after its config went; a link to a config outside the directory
         * that is gone too is not ours to remove. */
        cfg1 = test_path(d, "vm1");
        ASSERT_EQ(unlink(cfg1), 0);
        foreign = test_path(elsewhere, "gone");
        foreign_link = test_path(d, "auto/foreign");
        ASSERT_EQ(symlink(foreign, foreign_link), 0);

        ASSERT_OK(xm_dir_new(d, 2, false, &x, NULL));
        link1 = test_path(d, "auto/vm1");
        link2 = test_path(d, "auto/vm2");
        ASSERT_TRUE(faccessat(AT_FDCWD, link1, F_OK, AT_SYMLINK_NOFOLLOW) < 0);
        ASSERT_EQ(faccessat(AT_FDCWD, link2, F_OK, AT_SYMLINK_NOFOLLOW), 0);
        ASSERT_EQ(faccessat(AT_FDCWD, foreign_link, F_OK, AT_SYMLINK_NOFOLLOW), 0);
        ASSERT_OK(xm_dir_get_autostart(x, "vm2", &on, NULL));
        ASSERT_TRUE(on);
        ASSERT_TRUE(xm_dir_get_autostart(x, "vm1", &on, NULL) < 0);

        /* An undefine removes the config and then the link. */
        ASSERT_OK(xm_dir_undefine(x, "vm2", NULL));
        ASSERT_TRUE(faccessat(AT_FDCWD, link2, F_OK, AT_SYMLINK_NOFOLLOW) < 0);
        test_rm_rf(d);
        test_rm_rf(elsewhere);
}

static void take(XmDir *x, XmDirChange **c, size_t *n) {
        ASSERT_OK(xm_dir_take_changes(x, c, n));
}

TEST(changes_from_inotify_and_own_writes) {
        _cleanup_free_ char *d = test_mkdtemp("xv-test-xm-dir"), *p = NULL, *text = config("made", U2);
        _cleanup_(xm_dir_freep) XmDir *x = NULL;
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        XmDirChange *c = NULL;
        size_t n = 0;

        put(d, "old", "old", U1);
        ASSERT_OK(xm_dir_new(d, 2, true, &x, NULL));
        ASSERT_GE(xm_dir_inotify_fd(x), 0);
        /* What existed at open is not reported. */
        take(x, &c, &n);
        ASSERT_EQ(n, 0u);

        /* A file written by another tool. */
        put(d, "new", "new", U3);
        ASSERT_EQ(xm_dir_sync(x, NULL), 1);
        take(x, &c, &n);
        ASSERT_EQ(n, 1u);
        ASSERT_EQ(c[0].type, XM_DIR_CHANGE_ADDED);
        ASSERT_STREQ(c[0].name, "new");
        xm_dir_changes_free(c, n);

        /* Rewritten: updated. */
        put(d, "new", "new", U3);
        take(x, &c, &n);
        ASSERT_EQ(n, 1u);
        ASSERT_EQ(c[0].type, XM_DIR_CHANGE_UPDATED);
        xm_dir_changes_free(c, n);

        /* Our own define is reported once, although inotify sees it too. */
        ASSERT_OK(xm_domain_parse_text(text, 2, &def, NULL));
        ASSERT_OK(xm_dir_define(x, def, NULL, NULL));
        take(x, &c, &n);
        ASSERT_EQ(n, 1u);
        ASSERT_EQ(c[0].type, XM_DIR_CHANGE_ADDED);
        ASSERT_STREQ(c[0].name, "made");
        xm_dir_changes_free(c, n);
        take(x, &c, &n);
        ASSERT_EQ(n, 0u);

        /* Removal by another tool, and an empty file (not a domain yet). */
        p = test_path(d, "old");
        ASSERT_EQ(unlink(p), 0);
        write_at(d, "pending", "");
        take(x, &c, &n);
        ASSERT_EQ(n, 1u);
        ASSERT_EQ(c[0].type, XM_DIR_CHANGE_REMOVED);
        ASSERT_STREQ(c[0].name, "old");
        xm_dir_changes_free(c, n);

        /* A rename away (moved-from) removes, a rename in (moved-to) adds. */
        {
                _cleanup_free_ char *from = test_path(d, "new"), *to = test_path(d, "new~");

                ASSERT_EQ(rename(from, to), 0);
                take(x, &c, &n);
                ASSERT_EQ(n, 1u);
                ASSERT_EQ(c[0].type, XM_DIR_CHANGE_REMOVED);
                xm_dir_changes_free(c, n);
                ASSERT_EQ(rename(to, from), 0);
                take(x, &c, &n);
                ASSERT_EQ(n, 1u);
                ASSERT_EQ(c[0].type, XM_DIR_CHANGE_ADDED);
                xm_dir_changes_free(c, n);
        }
        test_rm_rf(d);
}

TEST(mtime_reparse_only_when_changed) {
        _cleanup_free_ char *d = test_mkdtemp("xv-test-xm-dir");
        _cleanup_(xm_dir_freep) XmDir *x = NULL;
        XmDirChange *c = NULL;
        size_t n = 0;

        put(d, "vm", "vm", U1);
        ASSERT_OK(xm_dir_new(d, 4, /* watch= */ false, &x, NULL));
        ASSERT_EQ(xm_dir_inotify_fd(x), -EBADF);
        /* Without inotify every read rescans, but an unchanged file is not a change. */
        ASSERT_EQ(xm_dir_sync(x, NULL), 0);
        take(x, &c, &n);
        ASSERT_EQ(n, 0u);
        {
                _cleanup_free_ char *p = test_path(d, "vm");
                struct timespec ts[2] = { { .tv_sec = 1000 }, { .tv_sec = 1000 } };

                ASSERT_EQ(utimensat(AT_FDCWD, p, ts, 0), 0);
        }
        ASSERT_EQ(xm_dir_sync(x, NULL), 1);
        take(x, &c, &n);
        ASSERT_EQ(n, 1u);
        ASSERT_EQ(c[0].type, XM_DIR_CHANGE_UPDATED);
        xm_dir_changes_free(c, n);
        test_rm_rf(d);
}

DEFINE_TEST_MAIN
