/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-error.h"
#include "xv-fileio.h"
#include "xv-xl-domain.h"
#include "xv-xl-store.h"

#define UUID1 "c7a5fdb0-cdaf-9455-926a-d65c16db1801"
#define UUID2 "c7a5fdb0-cdaf-9455-926a-d65c16db1802"

static DomainDef *make_def(const char *name, const char *uuid, unsigned mem_mib) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_free_ char *text = NULL;
        DomainDef *def = NULL;

        ASSERT_TRUE(asprintf(&text, "name = '%s'\nuuid = '%s'\nmemory = %u\nkernel = '/boot/vmlinuz'\n"
                             "disk = [ '/img/%s,raw,xvda,rw' ]\n", name, uuid, mem_mib, name) >= 0);
        if (xl_domain_parse_text(text, &def, &e) < 0)
                test_fail(__FILE__, __LINE__, "parse failed: %s", strnull(e.message));
        return def;
}

static void write_text(const char *dir, const char *file, const char *text) {
        _cleanup_free_ char *path = test_path(dir, file);

        ASSERT_OK(write_file_atomic(path, text, strlen(text), 0600));
}

static size_t count_entries(XlStore *s) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        XlStoreEntry *l = NULL;
        size_t n = 0;

        ASSERT_OK(xl_store_list(s, &l, &n, &e));
        xl_store_entries_free(l, n);
        return n;
}

TEST(open_creates_dirs) {
        _cleanup_free_ char *tmp = test_mkdtemp("test-xl-store"), *dir = test_path(tmp, "xl"), *autodir = test_path(dir, "auto");
        _cleanup_(xl_store_closep) XlStore *s = NULL, *ro = NULL;
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_(domain_def_freep) DomainDef *def = make_def("a", UUID1, 256);
        struct stat st;

        /* Read-only on a missing directory: an empty store, nothing created. */
        ASSERT_OK(xl_store_open(dir, true, &ro, &e));
        ASSERT_EQ(count_entries(ro), 0u);
        ASSERT_LT(stat(dir, &st), 0);
        ASSERT_LT(xl_store_save(ro, def, &e), 0);
        ASSERT_EQ((int) e.code, (int) XVP_ERR_OPERATION_DENIED);

        ASSERT_OK(xl_store_open(dir, false, &s, NULL));
        ASSERT_OK(stat(dir, &st));
        ASSERT_EQ(st.st_mode & 07777, 0700u);
        ASSERT_OK(stat(autodir, &st));
        ASSERT_EQ(st.st_mode & 07777, 0755u);
        ASSERT_STREQ(xl_store_dir(s), dir);
        test_rm_rf(tmp);
}

TEST(save_load_remove) {
        _cleanup_free_ char *dir = test_mkdtemp("test-xl-store"), *path = test_path(dir, "a.cfg"), *text = NULL;
        _cleanup_(xl_store_closep) XlStore *s = NULL;
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_(domain_def_freep) DomainDef *def = make_def("a", UUID1, 256), *got = NULL;
        XlStoreEntry *l = NULL;
        size_t n = 0;
        struct stat st;
        XvUuid u;
        DIR *d;
        struct dirent *de;

        ASSERT_OK(xl_store_open(dir, false, &s, NULL));
        ASSERT_EQ(xl_store_save(s, def, &e), 1);
        ASSERT_OK(stat(path, &st));
        ASSERT_EQ(st.st_mode & 07777, 0600u);
        text = test_read_file(path);
        ASSERT_TRUE(strncmp(text, "# Domain configuration written by xenvirtd", 42) == 0);
        ASSERT_NOT_NULL(strstr(text, "name = \"a\"\n"));
        ASSERT_NOT_NULL(strstr(text, "type = \"pv\"\n"));

        /* No temporary file left behind (atomic write). */
        d = opendir(dir);
        ASSERT_NOT_NULL(d);
        while ((de = readdir(d)))
                ASSERT_FALSE(atomic_tmp_name_is(de->d_name));
        closedir(d);

        /* Same name, same uuid: an update. */
        def->memory_kib = 512 * 1024;
        ASSERT_EQ(xl_store_save(s, def, &e), 0);

        ASSERT_OK(xl_store_load_by_name(s, "a", &got, &e));
        ASSERT_EQ(got->memory_kib, 512u * 1024);
        ASSERT_STREQ(got->disks[0].src, "/img/a");
        got = domain_def_free(got);
        ASSERT_OK(uuid_from_string(UUID1, &u));
        ASSERT_OK(xl_store_load_by_uuid(s, &u, &got, &e));
        ASSERT_STREQ(got->name, "a");
        got = domain_def_free(got);
        ASSERT_EQ(xl_store_lookup_name(s, "a", &u, &e), 1);
        ASSERT_EQ(xl_store_lookup_name(s, "b", NULL, &e), 0);

        ASSERT_OK(xl_store_list(s, &l, &n, &e));
        ASSERT_EQ(n, 1u);
        ASSERT_STREQ(l[0].name, "a");
        ASSERT_FALSE(l[0].autostart);
        l = xl_store_entries_free(l, n);

        ASSERT_OK(xl_store_remove(s, "a", &e));
        ASSERT_LT(stat(path, &st), 0);
        ASSERT_EQ(count_entries(s), 0u);

        ASSERT_LT(xl_store_load_by_name(s, "a", &got, &e), 0);
        ASSERT_EQ((int) e.code, (int) XVP_ERR_NO_DOMAIN);
        ASSERT_STREQ(e.message, "no domain with matching name 'a'");
        xv_error_done(&e);
        ASSERT_LT(xl_store_load_by_uuid(s, &u, &got, &e), 0);
        ASSERT_EQ((int) e.code, (int) XVP_ERR_NO_DOMAIN);
        ASSERT_STREQ(e.message, "no domain with matching uuid '" UUID1 "'");
        xv_error_done(&e);
        ASSERT_LT(xl_store_remove(s, "a", &e), 0);
        ASSERT_EQ((int) e.code, (int) XVP_ERR_NO_DOMAIN);
        test_rm_rf(dir);
}

TEST(clashes_and_names) {
        _cleanup_free_ char *dir = test_mkdtemp("test-xl-store"), *longname = NULL;
        _cleanup_(xl_store_closep) XlStore *s = NULL;
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_(domain_def_freep) DomainDef *a = make_def("a", UUID1, 256), *a2 = make_def("a", UUID2, 256),
                *b = make_def("b", UUID1, 256), *bad = make_def("x", UUID2, 256);

        ASSERT_OK(xl_store_open(dir, false, &s, NULL));
        ASSERT_EQ(xl_store_save(s, a, &e), 1);

        ASSERT_LT(xl_store_save(s, a2, &e), 0);
        ASSERT_EQ((int) e.code, (int) XVP_ERR_OPERATION_FAILED);
        ASSERT_STREQ(e.message, "domain 'a' already exists with uuid " UUID1);
        xv_error_done(&e);

        /* A rename (same uuid, new name) is refused likewise. */
        ASSERT_LT(xl_store_save(s, b, &e), 0);
        ASSERT_EQ((int) e.code, (int) XVP_ERR_OPERATION_FAILED);
        ASSERT_STREQ(e.message, "domain 'a' is already defined with uuid " UUID1);
        xv_error_done(&e);

        for (const char *const *n = (const char *const[]) { "a/b", ".hidden", "", "tab\there", NULL }; *n; n++) {
                ASSERT_OK(free_and_strdup(&bad->name, *n));
                ASSERT_EQ(xl_store_save(s, bad, &e), -EINVAL);
                ASSERT_EQ((int) e.code, (int) XVP_ERR_INVALID_ARG);
                xv_error_done(&e);
        }
        longname = malloc(XL_STORE_NAME_MAX + 2);
        ASSERT_NOT_NULL(longname);
        memset(longname, 'n', XL_STORE_NAME_MAX + 1);
        longname[XL_STORE_NAME_MAX + 1] = '\0';
        ASSERT_OK(free_and_strdup(&bad->name, longname));
        ASSERT_EQ(xl_store_save(s, bad, &e), -EINVAL);
        ASSERT_EQ((int) e.code, (int) XVP_ERR_INVALID_ARG);
        xv_error_done(&e);

        /* No uuid. */
        ASSERT_OK(free_and_strdup(&bad->name, "x"));
        bad->has_uuid = false;
        ASSERT_EQ(xl_store_save(s, bad, &e), -EINVAL);
        xv_error_done(&e);

        /* A foreign file of the same name that is not a valid definition is never overwritten. */
        write_text(dir, "y.cfg", "this is not = = valid\n");
        ASSERT_OK(free_and_strdup(&bad->name, "y"));
        bad->has_uuid = true;
        ASSERT_LT(xl_store_save(s, bad, &e), 0);
        ASSERT_EQ((int) e.code, (int) XVP_ERR_OPERATION_FAILED);
        ASSERT_EQ(count_entries(s), 1u);
        test_rm_rf(dir);
}

TEST(autostart) {
        _cleanup_free_ char *dir = test_mkdtemp("test-xl-store"), *link = test_path(dir, "auto/a.cfg");
        _cleanup_(xl_store_closep) XlStore *s = NULL;
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_(domain_def_freep) DomainDef *a = make_def("a", UUID1, 256);
        XlStoreEntry *l = NULL;
        size_t n = 0;
        char buf[256];
        ssize_t k;
        struct stat st;

        ASSERT_OK(xl_store_open(dir, false, &s, NULL));
        ASSERT_EQ(xl_store_save(s, a, &e), 1);
        ASSERT_EQ(xl_store_get_autostart(s, "a", &e), 0);
        ASSERT_OK(xl_store_set_autostart(s, "a", true, &e));
        ASSERT_OK(xl_store_set_autostart(s, "a", true, &e));      /* idempotent */
        ASSERT_EQ(xl_store_get_autostart(s, "a", &e), 1);
        k = readlink(link, buf, sizeof(buf) - 1);
        ASSERT_GT(k, 0);
        buf[k] = '\0';
        ASSERT_STREQ(buf, "../a.cfg");
        /* The link resolves to the definition. */
        ASSERT_OK(stat(link, &st));

        ASSERT_OK(xl_store_list(s, &l, &n, &e));
        ASSERT_EQ(n, 1u);
        ASSERT_TRUE(l[0].autostart);
        l = xl_store_entries_free(l, n);

        ASSERT_OK(xl_store_set_autostart(s, "a", false, &e));
        ASSERT_OK(xl_store_set_autostart(s, "a", false, &e));
        ASSERT_EQ(xl_store_get_autostart(s, "a", &e), 0);

        ASSERT_OK(xl_store_set_autostart(s, "a", true, &e));
        ASSERT_OK(xl_store_remove(s, "a", &e));
        ASSERT_LT(lstat(link, &st), 0);

        ASSERT_LT(xl_store_set_autostart(s, "zz", true, &e), 0);
        ASSERT_EQ((int) e.code, (int) XVP_ERR_NO_DOMAIN);
        test_rm_rf(dir);
}

/* A removal interrupted between the definition and its autostart link leaves a dangling link: the
 * next open removes it, and a new definition of the name does not inherit it. */
TEST(dangling_autostart_links) {
        _cleanup_free_ char *dir = test_mkdtemp("test-xl-store"), *cfg = test_path(dir, "a.cfg");
        _cleanup_free_ char *link_a = test_path(dir, "auto/a.cfg"), *link_b = test_path(dir, "auto/b.cfg");
        _cleanup_free_ char *foreign = test_path(dir, "auto/foreign.cfg");
        _cleanup_(xl_store_closep) XlStore *s = NULL;
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_(domain_def_freep) DomainDef *a = make_def("a", UUID1, 256), *b = make_def("b", UUID2, 256);
        struct stat st;

        ASSERT_OK(xl_store_open(dir, false, &s, NULL));
        ASSERT_EQ(xl_store_save(s, a, &e), 1);
        ASSERT_EQ(xl_store_save(s, b, &e), 1);
        ASSERT_OK(xl_store_set_autostart(s, "a", true, &e));
        ASSERT_OK(xl_store_set_autostart(s, "b", true, &e));
        s = xl_store_close(s);

        /* a's removal stopped after its definition went; a link to a file elsewhere is not ours. */
        ASSERT_EQ(unlink(cfg), 0);
        ASSERT_EQ(symlink("/nonexistent/foreign.cfg", foreign), 0);
        ASSERT_OK(xl_store_open(dir, false, &s, NULL));
        ASSERT_LT(lstat(link_a, &st), 0);
        ASSERT_OK(lstat(link_b, &st));
        ASSERT_OK(lstat(foreign, &st));
        ASSERT_EQ(xl_store_get_autostart(s, "b", &e), 1);

        /* The same, found by a new definition of the name while the store is open. */
        ASSERT_EQ(symlink("../a.cfg", link_a), 0);
        ASSERT_EQ(xl_store_save(s, a, &e), 1);
        ASSERT_EQ(xl_store_get_autostart(s, "a", &e), 0);

        /* A removal takes the definition and then the link. */
        ASSERT_OK(xl_store_remove(s, "b", &e));
        ASSERT_LT(lstat(link_b, &st), 0);
        test_rm_rf(dir);
}

TEST(external_edits) {
        _cleanup_free_ char *dir = test_mkdtemp("test-xl-store"), *path = test_path(dir, "ext.cfg");
        _cleanup_(xl_store_closep) XlStore *s = NULL;
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_(domain_def_freep) DomainDef *got = NULL, *a = make_def("a", UUID1, 256);
        XlStoreEntry *l = NULL;
        size_t n = 0;

        ASSERT_OK(xl_store_open(dir, false, &s, NULL));
        ASSERT_EQ(xl_store_save(s, a, &e), 1);
        ASSERT_EQ(count_entries(s), 1u);

        /* Added by another tool. */
        write_text(dir, "ext.cfg", "name = 'ext'\nuuid = '" UUID2 "'\nmemory = 128\nkernel = '/k'\n");
        ASSERT_EQ(count_entries(s), 2u);
        ASSERT_OK(xl_store_load_by_name(s, "ext", &got, &e));
        ASSERT_EQ(got->memory_kib, 128u * 1024);
        got = domain_def_free(got);

        /* Edited in place (same inode; the size changes). */
        {
                FILE *f = fopen(path, "w");

                ASSERT_NOT_NULL(f);
                fputs("name = 'ext'\nuuid = '" UUID2 "'\nmemory = 1024\nkernel = '/k'\n", f);
                fclose(f);
        }
        ASSERT_OK(xl_store_load_by_name(s, "ext", &got, &e));
        ASSERT_EQ(got->memory_kib, 1024u * 1024);
        got = domain_def_free(got);

        /* Broken by an edit: skipped, the others still listed. */
        write_text(dir, "ext.cfg", "name = 'ext'\nmemory = [ \n");
        ASSERT_OK(xl_store_list(s, &l, &n, &e));
        ASSERT_EQ(n, 1u);
        ASSERT_STREQ(l[0].name, "a");
        l = xl_store_entries_free(l, n);

        /* A file whose name key differs from its file name, and files that are not *.cfg or are
         * dot-files, are not definitions. */
        write_text(dir, "ext.cfg", "name = 'other'\nuuid = '" UUID2 "'\nkernel = '/k'\n");
        write_text(dir, "notes.txt", "name = 'n'\nuuid = '" UUID2 "'\nkernel = '/k'\n");
        write_text(dir, ".hidden.cfg", "name = '.hidden'\nuuid = '" UUID2 "'\nkernel = '/k'\n");
        ASSERT_EQ(count_entries(s), 1u);

        /* A copy under another name with the same uuid: the first in name order keeps it. */
        write_text(dir, "b.cfg", "name = 'b'\nuuid = '" UUID1 "'\nkernel = '/k'\n");
        ASSERT_OK(xl_store_list(s, &l, &n, &e));
        ASSERT_EQ(n, 1u);
        ASSERT_STREQ(l[0].name, "a");
        l = xl_store_entries_free(l, n);

        /* Once the first owner of the uuid is gone, the copy is a definition again. */
        ASSERT_OK(xl_store_remove(s, "a", &e));
        ASSERT_OK(xl_store_list(s, &l, &n, &e));
        ASSERT_EQ(n, 1u);
        ASSERT_STREQ(l[0].name, "b");
        l = xl_store_entries_free(l, n);

        /* Removed by another tool. */
        {
                _cleanup_free_ char *b = test_path(dir, "b.cfg");

                ASSERT_OK(unlink(b));
        }
        ASSERT_OK(unlink(path));
        ASSERT_EQ(count_entries(s), 0u);
        test_rm_rf(dir);
}

TEST(thousand_entries) {
        _cleanup_free_ char *dir = test_mkdtemp("test-xl-store");
        _cleanup_(xl_store_closep) XlStore *s = NULL;
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        struct timespec t0, t1, t2;
        XlStoreEntry *l = NULL;
        size_t n = 0;

        for (unsigned i = 0; i < 1000; i++) {
                _cleanup_free_ char *file = NULL, *text = NULL;

                ASSERT_TRUE(asprintf(&file, "d%04u.cfg", i) >= 0);
                ASSERT_TRUE(asprintf(&text, "name = 'd%04u'\nuuid = 'c7a5fdb0-cdaf-9455-926a-d65c16d%05u'\n"
                                     "memory = 128\nkernel = '/k'\nvif = [ 'bridge=xenbr0' ]\n"
                                     "disk = [ '/img/d%04u,raw,xvda,rw' ]\n", i, i, i) >= 0);
                write_text(dir, file, text);
        }

        ASSERT_OK(xl_store_open(dir, false, &s, NULL));
        clock_gettime(CLOCK_MONOTONIC, &t0);
        ASSERT_OK(xl_store_list(s, &l, &n, &e));
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ASSERT_EQ(n, 1000u);
        ASSERT_STREQ(l[0].name, "d0000");
        ASSERT_STREQ(l[999].name, "d0999");
        l = xl_store_entries_free(l, n);
        ASSERT_OK(xl_store_list(s, &l, &n, &e));
        clock_gettime(CLOCK_MONOTONIC, &t2);
        ASSERT_EQ(n, 1000u);
        l = xl_store_entries_free(l, n);
        /* Diagnostics only: the second call reuses the parsed index (a stat per file). */
        printf("# first list %.1f ms, second %.1f ms\n",
               (double) (t1.tv_sec - t0.tv_sec) * 1e3 + (double) (t1.tv_nsec - t0.tv_nsec) / 1e6,
               (double) (t2.tv_sec - t1.tv_sec) * 1e3 + (double) (t2.tv_nsec - t1.tv_nsec) / 1e6);
        test_rm_rf(dir);
}

typedef struct Saver {
        XlStore *store;
        unsigned index;
} Saver;

/* Saves 20 definitions of its own (names from the thread's index: thread ids are addresses,
 * which can share their low bits) and lists the store after each. */
static void *saver(void *arg) {
        const Saver *sv = arg;

        for (unsigned i = 0; i < 20; i++) {
                _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
                _cleanup_(domain_def_freep) DomainDef *def = NULL;
                _cleanup_free_ char *name = NULL, *uuid = NULL;
                XlStoreEntry *l = NULL;
                size_t n = 0;

                if (asprintf(&name, "t%u-%u", sv->index, i) < 0)
                        return (void *) 1;
                def = make_def("x", UUID1, 128);
                if (free_and_strdup(&def->name, name) < 0 || uuid_new_random(&def->uuid) < 0)
                        return (void *) 1;
                if (xl_store_save(sv->store, def, &e) != 1)
                        return (void *) 1;
                if (xl_store_list(sv->store, &l, &n, &e) < 0)
                        return (void *) 1;
                xl_store_entries_free(l, n);
        }
        return NULL;
}

TEST(threads) {
        _cleanup_free_ char *dir = test_mkdtemp("test-xl-store");
        _cleanup_(xl_store_closep) XlStore *s = NULL;
        pthread_t t[4];
        Saver sv[ELEMENTSOF(t)];

        ASSERT_OK(xl_store_open(dir, false, &s, NULL));
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                sv[i] = (Saver) { .store = s, .index = (unsigned) i };
                ASSERT_EQ(pthread_create(&t[i], NULL, saver, &sv[i]), 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                void *r = NULL;

                ASSERT_EQ(pthread_join(t[i], &r), 0);
                ASSERT_NULL(r);
        }
        ASSERT_EQ(count_entries(s), 80u);
        test_rm_rf(dir);
}

DEFINE_TEST_MAIN
