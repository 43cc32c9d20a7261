/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-error.h"
#include "xv-fileio.h"
#include "xv-log.h"
#include "xv-parse-util.h"
#include "xv-strbuf.h"
#include "xv-uuid.h"

typedef struct Item {
        int *freed;
} Item;

static Item *item_free(Item *i) {
        if (i)
                (*i->freed)++;
        free(i);
        return NULL;
}
DEFINE_CLEANUP_FUNC(Item *, item_free);

TEST(cleanup_runs_and_take_ptr_moves) {
        int freed = 0;
        Item *kept;

        {
                _cleanup_(item_freep) Item *a = new0(Item, 1);
                ASSERT_NOT_NULL(a);
                a->freed = &freed;
        }
        ASSERT_EQ(freed, 1);

        {
                _cleanup_(item_freep) Item *b = new0(Item, 1);
                ASSERT_NOT_NULL(b);
                b->freed = &freed;
                kept = TAKE_PTR(b);
                ASSERT_NULL(b);
        }
        ASSERT_EQ(freed, 1);
        item_free(kept);
        ASSERT_EQ(freed, 2);
}

TEST(take_fd_and_safe_close) {
        _cleanup_close_ int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int moved;

        ASSERT_GE(fd, 0);
        moved = TAKE_FD(fd);
        ASSERT_EQ(fd, -EBADF);
        errno = 42;
        ASSERT_EQ(safe_close(moved), -EBADF);
        ASSERT_EQ(errno, 42);
        ASSERT_EQ(safe_close(-EBADF), -EBADF);
}

TEST(error_first_wins_and_maps_errno) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_free_ char *s = NULL;

        ASSERT_FALSE(xv_error_is_set(&e));
        ASSERT_ERROR(xv_error_setf(&e, XVP_ERR_NO_DOMAIN, "no domain with matching name '%s'", "vm1"), ENOENT);
        ASSERT_ERROR(xv_error_setf(&e, XVP_ERR_XML, "later error"), EBADMSG);
        ASSERT_EQ(e.code, XVP_ERR_NO_DOMAIN);
        ASSERT_STREQ(e.message, "no domain with matching name 'vm1'");
        ASSERT_EQ(xv_error_domain(&e, XVP_FROM_XEND, -ENOENT), -ENOENT);
        ASSERT_EQ(e.domain, XVP_FROM_XEND);
        s = xv_error_format(&e, -ENOENT);
        ASSERT_STREQ(s, "Domain not found: no domain with matching name 'vm1'");

        /* NULL error objects are allowed: only the errno comes back. */
        ASSERT_ERROR(xv_error_setf(NULL, XVP_ERR_NO_SUPPORT, "x"), EOPNOTSUPP);
        ASSERT_EQ(xv_error_code_from_errno(-ETIMEDOUT), XVP_ERR_OPERATION_TIMEOUT);
        ASSERT_STREQ(xv_error_code_to_string(XVP_ERR_NO_SUPPORT),
                     "this function is not supported by the connection driver");
}

TEST(error_set_errno_appends_strerror) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL, moved = XV_ERROR_NULL;

        ASSERT_ERROR(xv_error_set_errnof(&e, -EACCES, "Cannot open '%s'", "/etc/xen/vm"), EACCES);
        ASSERT_EQ(e.code, XVP_ERR_SYSTEM);
        ASSERT_STREQ(e.message, "Cannot open '/etc/xen/vm': Permission denied");
        xv_error_move(&moved, &e);
        ASSERT_FALSE(xv_error_is_set(&e));
        ASSERT_STREQ(moved.message, "Cannot open '/etc/xen/vm': Permission denied");
}

TEST(error_set_full_keeps_domain_and_first_error) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL, f = XV_ERROR_NULL;

        ASSERT_EQ(xv_error_set_errno_full(&e, -ENOENT, XVP_ERR_NO_XENSTORE, XVP_FROM_XENSTORE,
                                          "Cannot read '%s'", "/local/domain"), -ENOENT);
        ASSERT_EQ(e.code, XVP_ERR_NO_XENSTORE);
        ASSERT_EQ(e.domain, XVP_FROM_XENSTORE);
        ASSERT_STREQ(e.message, "Cannot read '/local/domain': No such file or directory");

        /* A later error changes neither the message nor the domain, and r passes through. */
        ASSERT_EQ(xv_error_set_full(&e, -EIO, XVP_ERR_XEN_CALL, XVP_FROM_XEN, "later"), -EIO);
        ASSERT_EQ(e.domain, XVP_FROM_XENSTORE);
        ASSERT_STREQ(e.message, "Cannot read '/local/domain': No such file or directory");

        ASSERT_EQ(xv_error_set_full(&f, -EPERM, XVP_ERR_XEN_CALL, XVP_FROM_XEN, "%s failed", "xc_domain_pause"),
                  -EPERM);
        ASSERT_EQ(f.domain, XVP_FROM_XEN);
        ASSERT_STREQ(f.message, "xc_domain_pause failed");
        ASSERT_EQ(xv_error_set_full(NULL, -EPERM, XVP_ERR_XEN_CALL, XVP_FROM_XEN, "x"), -EPERM);
}

TEST(parse_numbers_strictly) {
        uint64_t u;
        int64_t i;
        uint32_t u32;
        int v;

        ASSERT_OK(safe_atou64("18446744073709551615", &u));
        ASSERT_TRUE(u == UINT64_MAX);
        ASSERT_ERROR(safe_atou64("18446744073709551616", &u), ERANGE);
        ASSERT_ERROR(safe_atou64("", &u), EINVAL);
        ASSERT_ERROR(safe_atou64(" 1", &u), EINVAL);
        ASSERT_ERROR(safe_atou64("1 ", &u), EINVAL);
        ASSERT_ERROR(safe_atou64("-1", &u), EINVAL);
        ASSERT_ERROR(safe_atou64("+1", &u), EINVAL);
        ASSERT_ERROR(safe_atou64("12abc", &u), EINVAL);
        ASSERT_ERROR(safe_atou64(NULL, &u), EINVAL);
        ASSERT_OK(safe_atou64_full("0x1f", 0, &u));
        ASSERT_EQ(u, 31);
        ASSERT_OK(safe_atoi64("-42", &i));
        ASSERT_EQ(i, -42);
        ASSERT_ERROR(safe_atou32("4294967296", &u32), ERANGE);
        ASSERT_ERROR(safe_atoi("2147483648", &v), ERANGE);
        ASSERT_OK(safe_atoi("-2147483648", &v));
        ASSERT_EQ(v, INT32_MIN);
}

TEST(parse_units_and_booleans) {
        uint64_t b;
        const char *end;

        ASSERT_OK(parse_scaled(4, "MiB", 1024, &b));
        ASSERT_EQ(b, 4 * 1024 * 1024);
        ASSERT_OK(parse_scaled(4, NULL, 1024, &b));
        ASSERT_EQ(b, 4096);
        ASSERT_OK(parse_scaled(1, "k", 1, &b));
        ASSERT_EQ(b, 1024);
        ASSERT_OK(parse_scaled(1, "KB", 1, &b));
        ASSERT_EQ(b, 1000);
        ASSERT_OK(parse_scaled(2, "G", 1, &b));
        ASSERT_EQ(b, 2ULL << 30);
        ASSERT_ERROR(parse_scaled(1, "furlong", 1, &b), EINVAL);
        ASSERT_ERROR(parse_scaled(UINT64_MAX / 2, "KiB", 1, &b), ERANGE);

        ASSERT_OK(parse_u64_prefix("5900abc", &b, &end));
        ASSERT_EQ(b, 5900);
        ASSERT_STREQ(end, "abc");
        ASSERT_ERROR(parse_u64_prefix("abc", &b, &end), EINVAL);

        ASSERT_EQ(unhexchar('0'), 0);
        ASSERT_EQ(unhexchar('a'), 10);
        ASSERT_EQ(unhexchar('F'), 15);
        ASSERT_EQ(unhexchar('g'), -EINVAL);
        ASSERT_EQ(unhexchar('\0'), -EINVAL);

        ASSERT_EQ(parse_boolean("yes"), 1);
        ASSERT_EQ(parse_boolean("OFF"), 0);
        ASSERT_EQ(parse_boolean("maybe"), -EINVAL);
}

TEST(uuid_both_spellings) {
        XvUuid a, b;
        char buf[UUID_STRING_BUF], compact[33];

        ASSERT_OK(uuid_from_string("4dea22b31d52d8f32516782e98ab3fa0", &a));
        ASSERT_OK(uuid_from_string("4DEA22B3-1D52-D8F3-2516-782E98AB3FA0", &b));
        ASSERT_TRUE(uuid_equal(&a, &b));
        ASSERT_STREQ(uuid_format(&a, buf), "4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
        ASSERT_STREQ(uuid_format_compact(&a, compact), "4dea22b31d52d8f32516782e98ab3fa0");

        ASSERT_ERROR(uuid_from_string("4dea22b31d52d8f32516782e98ab3fa", &a), EINVAL);
        ASSERT_ERROR(uuid_from_string("4dea22b31d52d8f32516782e98ab3fa00", &a), EINVAL);
        ASSERT_ERROR(uuid_from_string("-4dea22b31d52d8f32516782e98ab3fa0", &a), EINVAL);
        ASSERT_ERROR(uuid_from_string("zdea22b31d52d8f32516782e98ab3fa0", &a), EINVAL);
        ASSERT_ERROR(uuid_from_string(" 4dea22b31d52d8f32516782e98ab3fa0", &a), EINVAL);

        ASSERT_OK(uuid_new_random(&a));
        ASSERT_FALSE(uuid_is_zero(&a));
        ASSERT_EQ(a.bytes[6] >> 4, 4);
        ASSERT_OK(uuid_new_random(&b));
        ASSERT_FALSE(uuid_equal(&a, &b));
}

TEST(strbuf_appends_escapes_and_limits) {
        _cleanup_free_ char *s = NULL;
        StrBuf b = STRBUF_INIT;

        strbuf_append(&b, "<a x='");
        strbuf_append_xml_escaped(&b, "1<2 & 'q' \"d\">");
        strbuf_appendf(&b, "'>%d</a>", 42);
        strbuf_indent(&b, 40);
        strbuf_appendc(&b, '!');
        ASSERT_OK(strbuf_steal(&b, &s));
        ASSERT_TRUE(strncmp(s, "<a x='1&lt;2 &amp; &apos;q&apos; &quot;d&quot;&gt;'>42</a>", 58) == 0);
        ASSERT_EQ(strlen(s), 58 + 40 + 1);

        b = STRBUF_INIT;
        b.limit = 8;
        strbuf_append(&b, "12345");
        strbuf_append(&b, "6789");
        strbuf_append(&b, "0");
        ASSERT_ERROR(strbuf_steal(&b, &s), E2BIG);
}

TEST(strv_helpers) {
        _cleanup_strv_free_ char **l = NULL;

        ASSERT_EQ(strv_length(l), 0);
        ASSERT_OK(strv_extend(&l, "a"));
        ASSERT_OK(strv_extend(&l, "b"));
        ASSERT_EQ(strv_length(l), 2);
        ASSERT_TRUE(strv_contains(l, "b"));
        ASSERT_FALSE(strv_contains(l, "c"));
}

TEST(atomic_write_replaces_and_bounded_read) {
        char dir[] = "/tmp/xv-test-XXXXXX";
        _cleanup_free_ char *path = NULL, *data = NULL;
        struct stat st;
        size_t size;

        ASSERT_NOT_NULL(mkdtemp(dir));
        path = test_path(dir, "vm1");

        ASSERT_OK(write_file_atomic(path, "old\n", 4, 0600));
        ASSERT_OK(write_file_atomic(path, "new content\n", 12, 0644));
        ASSERT_OK(read_full_file(path, 64, &data, &size));
        ASSERT_STREQ(data, "new content\n");
        ASSERT_EQ(size, 12);
        ASSERT_OK(stat(path, &st));
        ASSERT_EQ(st.st_mode & 0777, 0644);
        free(TAKE_PTR(data));

        /* The temporary files are dot-files that scans skip and cleanups recognise. */
        ASSERT_TRUE(atomic_tmp_name_is(".vm1" ATOMIC_TMP_INFIX "a1B2c3"));
        ASSERT_FALSE(atomic_tmp_name_is("vm1" ATOMIC_TMP_INFIX "a1B2c3"));
        ASSERT_FALSE(atomic_tmp_name_is(ATOMIC_TMP_INFIX "a1B2c3"));
        ASSERT_FALSE(atomic_tmp_name_is(".vm1" ATOMIC_TMP_INFIX "a1B2"));

        ASSERT_ERROR(read_full_file(path, 4, &data, &size), EFBIG);
        ASSERT_NULL(data);
        ASSERT_ERROR(read_full_file(dir, 64, &data, &size), EISDIR);

        /* A failed write (directory gone) leaves nothing behind and reports the errno. */
        ASSERT_OK(unlink(path));
        ASSERT_OK(rmdir(dir));
        ASSERT_ERROR(write_file_atomic(path, "x", 1, 0644), ENOENT);
}

TEST(log_returns_negative_errno) {
        log_set_target(LOG_TARGET_NULL);
        ASSERT_EQ(log_error_errno(EIO, "ignored: %m"), -EIO);
        ASSERT_EQ(log_warning_errno(-ENOENT, "x"), -ENOENT);
        log_set_target(LOG_TARGET_STDERR);
        log_set_max_level(LOG_DEBUG);
        ASSERT_EQ(log_debug_errno(-EPERM, "a debug line for the test log: %m"), -EPERM);
        ASSERT_EQ(errno, EPERM);
}

DEFINE_TEST_MAIN
