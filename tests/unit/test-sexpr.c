/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-error.h"
#include "xv-sexpr.h"

static Sexpr *parse_ok(const char *text) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        Sexpr *s = NULL;

        ASSERT_OK(sexpr_parse_string(text, &s, &error));
        ASSERT_NOT_NULL(s);
        return s;
}

static char *format_ok(const Sexpr *s) {
        char *t = NULL;

        ASSERT_OK(sexpr_format(s, &t));
        return t;
}

/* Parses and prints @text, comparing with @printed. */
static void check_reprint(const char *text, const char *printed) {
        _cleanup_(sexpr_freep) Sexpr *s = parse_ok(text);
        _cleanup_free_ char *t = format_ok(s);

        ASSERT_STREQ(t, printed);
}

static void check_rejected_n(const char *text, size_t size, int err, const char *message) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        Sexpr *s = NULL;

        ASSERT_ERROR(sexpr_parse(text, size, &s, &error), err);
        ASSERT_NULL(s);
        ASSERT_STREQ(error.message, message);
}

static void check_rejected(const char *text, const char *message) {
        check_rejected_n(text, strlen(text), EBADMSG, message);
}

TEST(parse_basic) {
        check_reprint("(domain (domid 5) (name rhel5))", "(domain (domid 5) (name rhel5))");
        check_reprint("  (a(b c)\n\t(d))  ", "(a (b c) (d))");
        check_reprint("(a 'b c' \"d e\")", "(a 'b c' 'd e')");
        check_reprint("(features )", "(features)");
        check_reprint("(cpus (()))", "(cpus (()))");
        check_reprint("atom", "atom");
        check_reprint("''", "''");
        /* A quote ends a bare word, as in sxp.py. */
        check_reprint("(a b'c d')", "(a b 'c d')");
}

TEST(parse_escapes) {
        _cleanup_(sexpr_freep) Sexpr *s = parse_ok("(x 'a\\'b\\\\c\\nd\\te\\101\\q' \"it's\")");

        ASSERT_STREQ(sexpr_atom(sexpr_item(s, 1)), "a'b\\c\nd\teAq");
        ASSERT_STREQ(sexpr_atom(sexpr_item(s, 2)), "it's");
}

TEST(parse_tolerated_imbalance) {
        /* libvirt's reader closed one missing parenthesis at the end... */
        check_reprint("(domain (name a) (image (linux (kernel k)))", "(domain (name a) (image (linux (kernel k))))");
        /* ...and ignored surplus ones after the expression. */
        check_reprint("(domain (name a)))", "(domain (name a))");
        check_reprint("(domain (name a)) ) )\n", "(domain (name a))");
}

TEST(parse_errors) {
        check_rejected("(name 'abc", "Unterminated string at byte 6");
        check_rejected("(domain (name \"x)", "Unterminated string at byte 14");
        check_rejected("(name 'abc\\'", "Unterminated string at byte 6");
        check_rejected("(name 'abc\\", "Unterminated string at byte 6");
        check_rejected(")", "Unexpected ')' at byte 0");
        check_rejected("(a) b", "Unexpected data after the expression at byte 4");
        check_rejected("(a) (b)", "Unexpected data after the expression at byte 4");
        check_rejected("(a (b (c)", "Missing 2 closing parentheses at byte 9");
        check_rejected("", "Empty S-expression");
        check_rejected("  \n", "Empty S-expression");
        check_rejected("(a '\\0')", "Invalid octal escape at byte 4");
        check_rejected_n("(a b\0c)", 7, EBADMSG, "Unexpected NUL at byte 4");
        check_rejected_n("(a 'b\0c')", 9, EBADMSG, "Unexpected NUL at byte 5");
}

TEST(depth_limit) {
        char text[2 * (SEXPR_DEPTH_MAX + 1) + 1];
        _cleanup_(sexpr_freep) Sexpr *s = NULL;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;

        /* Exactly the limit is fine. */
        memset(text, '(', SEXPR_DEPTH_MAX);
        memset(text + SEXPR_DEPTH_MAX, ')', SEXPR_DEPTH_MAX);
        text[2 * SEXPR_DEPTH_MAX] = '\0';
        ASSERT_OK(sexpr_parse_string(text, &s, &error));

        memset(text, '(', SEXPR_DEPTH_MAX + 1);
        memset(text + SEXPR_DEPTH_MAX + 1, ')', SEXPR_DEPTH_MAX + 1);
        text[2 * (SEXPR_DEPTH_MAX + 1)] = '\0';
        check_rejected(text, "Lists nested deeper than 32 levels at byte 32");
}

TEST(size_limit) {
        _cleanup_free_ char *text = malloc(SEXPR_SIZE_MAX + 2);

        ASSERT_NOT_NULL(text);
        memset(text, ' ', SEXPR_SIZE_MAX + 1);
        text[0] = 'a';
        text[SEXPR_SIZE_MAX + 1] = '\0';
        check_rejected_n(text, SEXPR_SIZE_MAX + 1, EOVERFLOW,
                         "S-expression of 1048577 bytes exceeds the limit of 1048576 bytes");
        /* The limit itself is accepted. */
        {
                _cleanup_(sexpr_freep) Sexpr *s = NULL;

                ASSERT_OK(sexpr_parse(text, SEXPR_SIZE_MAX, &s, NULL));
                ASSERT_STREQ(sexpr_atom(s), "a");
        }
}

TEST(quoting) {
        ASSERT_TRUE(sexpr_atom_is_bare("xenbr0"));
        ASSERT_TRUE(sexpr_atom_is_bare("/usr/lib/xen/boot/hvmloader"));
        ASSERT_TRUE(sexpr_atom_is_bare("00:16:3e:1d:06:15"));
        ASSERT_TRUE(sexpr_atom_is_bare("tap:aio:/xen/rhel5.img"));
        ASSERT_FALSE(sexpr_atom_is_bare(""));
        ASSERT_FALSE(sexpr_atom_is_bare("a b"));
        ASSERT_FALSE(sexpr_atom_is_bare("a(b"));
        ASSERT_FALSE(sexpr_atom_is_bare("a)b"));
        ASSERT_FALSE(sexpr_atom_is_bare("a'b"));
        ASSERT_FALSE(sexpr_atom_is_bare("a\"b"));
        ASSERT_FALSE(sexpr_atom_is_bare("a\\b"));
        ASSERT_FALSE(sexpr_atom_is_bare("a\nb"));
}

/* The XSA-198 class: nothing in a value may close the atom or the list it is in. */
TEST(escaping_round_trip) {
        static const char * const values[] = {
                "plain",
                "",
                "two words",
                "it's",
                "\"double\"",
                "x')(on_crash 'preserve')(name 'evil",
                "a\\b\\",
                "\\'",
                "line1\nline2\r\n\ttab",
                "(((",
                ")))",
                "\x01\x02\x1f\x7f",
                "caf\xc3\xa9",
        };

        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                _cleanup_(sexpr_freep) Sexpr *vm = NULL, *back = NULL;
                _cleanup_free_ char *text = NULL;

                ASSERT_OK(sexpr_new_list("vm", &vm));
                ASSERT_NOT_NULL(sexpr_add_pair(vm, "name", values[i]));
                ASSERT_NOT_NULL(sexpr_add_pair(vm, "on_crash", "destroy"));
                text = format_ok(vm);
                /* Printed on one line: a newline would end XenD's form field value. */
                ASSERT_NULL(strchr(text, '\n'));

                back = parse_ok(text);
                ASSERT_EQ(sexpr_n_items(back), 3u);
                ASSERT_STREQ(sexpr_node(back, "vm/name"), values[i]);
                ASSERT_STREQ(sexpr_node(back, "vm/on_crash"), "destroy");
        }
}

TEST(escaping_printed_form) {
        _cleanup_(sexpr_freep) Sexpr *vm = NULL;
        _cleanup_free_ char *text = NULL;

        ASSERT_OK(sexpr_new_list("vm", &vm));
        sexpr_add_pair(vm, "uname", "file:/root/'\\some.img");
        sexpr_add_pair(vm, "args", " ro quiet ");
        sexpr_add_pair(vm, "bootloader", NULL);
        sexpr_add_pair(vm, "ctl", "a\001b\nc");
        text = format_ok(vm);
        ASSERT_STREQ(text, "(vm (uname 'file:/root/\\'\\\\some.img') (args ' ro quiet ') (bootloader) "
                           "(ctl 'a\\001b\\nc'))");
}

TEST(lookup) {
        _cleanup_(sexpr_freep) Sexpr *s = parse_ok(
                "(domain (domid 5) (name 'r h') (memory 175) (cpu_time 137.18) (weight -3) (big 18446744073709551616)"
                " (image (hvm (kernel /k) (acpi 1) (serial (pty none)))) (bootloader) (features )"
                " (device (vif (mac m1))) (device (vbd (dev xvda))))");
        const Sexpr *hvm;
        const char *str;
        uint64_t u;
        int64_t i;
        int n;
        double d;
        bool b;

        ASSERT_STREQ(sexpr_head(s), "domain");
        ASSERT_STREQ(sexpr_node(s, "domain/name"), "r h");
        ASSERT_STREQ(sexpr_node(s, "domain/image/hvm/kernel"), "/k");
        hvm = sexpr_lookup(s, "domain/image/hvm");
        ASSERT_STREQ(sexpr_head(hvm), "hvm");
        ASSERT_NULL(sexpr_node(s, "domain/image/hvm/serial"));      /* a list, not an atom */
        ASSERT_TRUE(sexpr_is_list(sexpr_item(sexpr_lookup(s, "domain/image/hvm/serial"), 1)));
        ASSERT_NULL(sexpr_node(s, "domain/bootloader"));
        ASSERT_TRUE(sexpr_has(s, "domain/bootloader"));
        ASSERT_FALSE(sexpr_has(s, "domain/nothere"));
        ASSERT_NULL(sexpr_lookup(s, "vm/name"));
        ASSERT_NULL(sexpr_lookup(s, "domain//name"));
        ASSERT_NULL(sexpr_lookup(s, "domain/name/"));
        ASSERT_NULL(sexpr_lookup(s, ""));
        /* The first (device) wins. */
        ASSERT_STREQ(sexpr_node(s, "domain/device/vif/mac"), "m1");
        ASSERT_NULL(sexpr_node(s, "domain/device/vbd/dev"));

        ASSERT_OK(sexpr_get_u64(s, "domain/memory", &u));
        ASSERT_EQ(u, 175u);
        ASSERT_OK(sexpr_get_int(s, "domain/domid", &n));
        ASSERT_EQ(n, 5);
        ASSERT_OK(sexpr_get_i64(s, "domain/weight", &i));
        ASSERT_EQ(i, -3);
        ASSERT_OK(sexpr_get_double(s, "domain/cpu_time", &d));
        ASSERT_TRUE(d > 137.17 && d < 137.19);
        ASSERT_OK(sexpr_get_bool(s, "domain/image/hvm/acpi", &b));
        ASSERT_TRUE(b);
        ASSERT_OK(sexpr_get_string(s, "domain/name", &str));
        ASSERT_STREQ(str, "r h");

        /* Absent is -ENOENT, never a silent 0. */
        ASSERT_ERROR(sexpr_get_u64(s, "domain/maxmem", &u), ENOENT);
        ASSERT_ERROR(sexpr_get_u64(s, "domain/bootloader", &u), ENOENT);
        ASSERT_ERROR(sexpr_get_u64(s, "domain/name", &u), EINVAL);
        ASSERT_ERROR(sexpr_get_u64(s, "domain/weight", &u), EINVAL);
        ASSERT_ERROR(sexpr_get_u64(s, "domain/big", &u), ERANGE);
        ASSERT_ERROR(sexpr_get_string(s, "domain/image/hvm/serial", &str), EINVAL);
        ASSERT_ERROR(sexpr_get_double(s, "domain/name", &d), EINVAL);
}

TEST(iteration) {
        _cleanup_(sexpr_freep) Sexpr *s = parse_ok("(domain (name a) (device (vbd)) x (device (vif)))");
        unsigned devices = 0, atoms = 0;

        SEXPR_FOREACH_CHILD(c, s) {
                if (streq_ptr(sexpr_head(c), "device"))
                        devices++;
                if (sexpr_is_atom(c))
                        atoms++;
        }
        ASSERT_EQ(devices, 2u);
        ASSERT_EQ(atoms, 1u);
        ASSERT_EQ(sexpr_n_items(s), 5u);
        ASSERT_NULL(sexpr_item(s, 5));
        ASSERT_EQ(sexpr_n_items(sexpr_item(s, 3)), 0u);     /* an atom has no items */
}

TEST(builders) {
        _cleanup_(sexpr_freep) Sexpr *vm = NULL;
        _cleanup_free_ char *text = NULL;
        Sexpr *img;

        ASSERT_OK(sexpr_new_list("vm", &vm));
        sexpr_add_pair_u64(vm, "memory", 420);
        sexpr_add_pair_i64(vm, "rtc_timeoffset", -3600);
        img = sexpr_add_list(sexpr_add_list(vm, "image"), "hvm");
        sexpr_add_pairf(img, "boot", "%s", "cd");
        sexpr_add_atom(sexpr_add_list(img, "serial"), "x");
        ASSERT_OK(sexpr_check(vm));
        text = format_ok(vm);
        ASSERT_STREQ(text, "(vm (memory 420) (rtc_timeoffset -3600) (image (hvm (boot cd) (serial x))))");

        /* Builders on a NULL parent are no-ops (the failure was recorded further up). */
        ASSERT_NULL(sexpr_add_list(NULL, "x"));
        ASSERT_NULL(sexpr_add_pair(NULL, "x", "y"));
        ASSERT_NULL(sexpr_add_atom(NULL, "x"));

        /* A recorded failure makes the whole tree fail. */
        img->failed = true;
        ASSERT_ERROR(sexpr_check(vm), ENOMEM);
        {
                char *t = NULL;

                ASSERT_ERROR(sexpr_format(vm, &t), ENOMEM);
                ASSERT_NULL(t);
        }
}

DEFINE_TEST_MAIN
