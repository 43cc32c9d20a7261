/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <stdio.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-error.h"
#include "xv-strbuf.h"
#include "xv-xm-config.h"

static XmConfig *parse_ok(const char *text) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        XmConfig *c = NULL;
        int r;

        r = xm_config_parse(text, &c, &error);
        if (r < 0)
                test_fail(__FILE__, __LINE__, "parse failed: %s", strnull(error.message));
        return c;
}

static void check_error(const char *text, const char *message) {
        _cleanup_(xm_config_freep) XmConfig *c = NULL;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;

        ASSERT_ERROR(xm_config_parse(text, &c, &error), EBADMSG);
        ASSERT_NULL(c);
        ASSERT_EQ(error.code, XVP_ERR_CONF_SYNTAX);
        ASSERT_STREQ(error.message, message);
}

TEST(values_and_types) {
        _cleanup_(xm_config_freep) XmConfig *c =
                parse_ok("name = \"vm\"\nmemory = 512\nvcpus = '4'\ndisk = [ 'a', 2, ]\n");
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        const XmValue *list;
        const char *s;
        long long n;

        ASSERT_OK(xm_config_get_string(c, "name", &s, &error));
        ASSERT_STREQ(s, "vm");
        ASSERT_OK(xm_config_get_int(c, "memory", &n, &error));
        ASSERT_EQ(n, 512);
        /* libvirt accepted numbers written as strings. */
        ASSERT_OK(xm_config_get_int(c, "vcpus", &n, &error));
        ASSERT_EQ(n, 4);
        ASSERT_OK(xm_config_get_list(c, "disk", &list, &error));
        ASSERT_EQ(list->n_items, 2u);
        ASSERT_EQ(list->items[0].type, XM_VALUE_STRING);
        ASSERT_STREQ(list->items[0].str, "a");
        ASSERT_EQ(list->items[1].type, XM_VALUE_INT);
        ASSERT_EQ(list->items[1].num, 2);

        ASSERT_ERROR(xm_config_get_string(c, "missing", &s, &error), ENOENT);
        ASSERT_FALSE(xv_error_is_set(&error));
        ASSERT_ERROR(xm_config_get_string(c, "memory", &s, &error), EBADMSG);
        ASSERT_STREQ(error.message, "config value memory was not a string");
}

TEST(syntax_errors_name_the_line) {
        check_error("name = \"x\"\n\nmemory 512\n", "Syntax error at line 3: expected '=' after 'memory'");
        check_error("a = 1\n\n\nb = \"open\n", "Syntax error at line 4: unterminated string");
        check_error("disk = [ 'a',\n 'b'\n", "Syntax error at line 3: unterminated list, expected ']'");
        check_error("x = [ [ 1 ] ]\n", "Syntax error at line 1: nested lists are not supported");
        check_error("x = 1 2\n", "Syntax error at line 1: unexpected '2' after the value of 'x'");
        check_error("x =\n", "Syntax error at line 1: expected a value after 'x =', got end of line");
        check_error("x = [ 1 2 ]\n", "Syntax error at line 1: expected ',' or ']' in list, got '2'");
        check_error("1x = 2\n", "Syntax error at line 1: expected a key, got '1'");
        check_error("x = 12ab\n", "Syntax error at line 1: invalid integer '12a'");
        check_error("x = 99999999999999999999\n", "Syntax error at line 1: integer out of range");
        check_error("x = \"a\\x00\"\n", "Syntax error at line 1: NUL characters are not supported in strings");
        check_error("x = -\n", "Syntax error at line 1: expected a digit after the sign, got end of line");
}

TEST(line_numbers_count_continuations) {
        /* Lines joined by a backslash or by brackets still count. */
        check_error("disk = [ 'a',\n\n  'b', ]\nx = \\\n  1\ny 2\n",
                    "Syntax error at line 6: expected '=' after 'y'");
        check_error("s = '''a\nb\nc''' junk\n", "Syntax error at line 3: unexpected 'j' after the value of 's'");
}

TEST(semicolons_separate_statements) {
        _cleanup_(xm_config_freep) XmConfig *c = parse_ok("a = 1; b = 'x' ;\nc = 3;\n");
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_free_ char *out = NULL;

        ASSERT_OK(xm_config_format(c, &out, &error));
        ASSERT_TRUE(streq(out, "a = 1\nb = \"x\"\nc = 3\n"));
        check_error("a = 1; 2\n", "Syntax error at line 1: unexpected '2' after the value of 'a'");
}

TEST(escapes_follow_python) {
        _cleanup_(xm_config_freep) XmConfig *c =
                parse_ok("a = 'it\\'s'\nb = \"\\t\\n\\\\\\\"\"\nc = \"\\q\\101\\x42\"\nd = 'x\\\ny'\n");
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        const char *s;

        ASSERT_OK(xm_config_get_string(c, "a", &s, &error));
        ASSERT_STREQ(s, "it's");
        ASSERT_OK(xm_config_get_string(c, "b", &s, &error));
        ASSERT_STREQ(s, "\t\n\\\"");
        ASSERT_OK(xm_config_get_string(c, "c", &s, &error));
        ASSERT_STREQ(s, "\\qAB");
        ASSERT_OK(xm_config_get_string(c, "d", &s, &error));
        ASSERT_STREQ(s, "xy");
}

TEST(format_round_trips) {
        const char *text = "s = 'a\"b\\\\c\\n\\x01'\nn = -5\nl = [ 'x', 3 ]\ne = []\n";
        _cleanup_(xm_config_freep) XmConfig *c = parse_ok(text), *c2 = NULL;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_free_ char *out = NULL, *out2 = NULL;

        ASSERT_OK(xm_config_format(c, &out, &error));
        ASSERT_STREQ(out, "s = \"a\\\"b\\\\c\\n\\x01\"\nn = -5\nl = [ \"x\", 3 ]\ne = [ ]\n");
        c2 = parse_ok(out);
        ASSERT_OK(xm_config_format(c2, &out2, &error));
        ASSERT_STREQ(out, out2);
}

TEST(unknown_keys_preserved_on_rewrite) {
        _cleanup_(xm_config_freep) XmConfig *c =
                parse_ok("# hand-written\nname = 'vm'\nmy_tool_setting = 'keep me'\nmemory = 256\n"
                         "other = [ 'a' ]\n");
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_free_ char *out = NULL;
        char **l = NULL;

        /* Setters replace in place and append new keys at the end. */
        ASSERT_OK(xm_config_set_int(c, "memory", 512));
        ASSERT_OK(xm_config_set_string(c, "name", "vm2"));
        ASSERT_OK(strv_extend(&l, "phy:/dev/x,xvda,w"));
        ASSERT_OK(xm_config_set_list_strv(c, "disk", l));
        ASSERT_EQ(xm_config_remove(c, "other"), 1);
        ASSERT_EQ(xm_config_remove(c, "other"), 0);

        ASSERT_OK(xm_config_format(c, &out, &error));
        ASSERT_STREQ(out, "# hand-written\nname = \"vm2\"\nmy_tool_setting = \"keep me\"\nmemory = 512\n"
                     "disk = [ \"phy:/dev/x,xvda,w\" ]\n");
}

TEST(comment_lines_kept_verbatim) {
        _cleanup_(xm_config_freep) XmConfig *c =
                parse_ok("# head\n\n  # indented\na = 1 # trailing comments go\n\n# tail");
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_free_ char *out = NULL;

        ASSERT_EQ(c->n_keys, 1u);
        ASSERT_EQ(c->n_entries, 3u);
        ASSERT_NULL(c->entries[0].key);
        ASSERT_OK(xm_config_format(c, &out, &error));
        /* (streq, not ASSERT_STREQ: its pointer-equality shortcut confuses gcc's
         * -Wfree-nonheap-object about the _cleanup_ of out.) */
        ASSERT_TRUE(streq(out, "# head\n\n  # indented\na = 1\n\n# tail\n"));
}

TEST(duplicate_key_last_value_first_position) {
        _cleanup_(xm_config_freep) XmConfig *c = parse_ok("a = 1\nb = 2\na = 3\n");
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_free_ char *out = NULL;

        ASSERT_OK(xm_config_format(c, &out, &error));
        ASSERT_STREQ(out, "a = 3\nb = 2\n");
}

TEST(limits) {
        _cleanup_(xm_config_freep) XmConfig *c = NULL;
        _cleanup_(xv_error_done) XvError e1 = XV_ERROR_NULL, e2 = XV_ERROR_NULL, e3 = XV_ERROR_NULL;
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        _cleanup_free_ char *big = NULL, *many = NULL, *entries = NULL;

        /* Size: checked before anything else. */
        big = malloc(XM_CONFIG_SIZE_MAX + 2);
        ASSERT_NOT_NULL(big);
        memset(big, '#', XM_CONFIG_SIZE_MAX + 1);
        big[XM_CONFIG_SIZE_MAX + 1] = '\0';
        ASSERT_ERROR(xm_config_parse(big, &c, &e1), EBADMSG);
        ASSERT_STREQ(e1.message, "Config file is larger than 65536 bytes");
        /* Exactly at the limit is fine. */
        big[XM_CONFIG_SIZE_MAX] = '\0';
        ASSERT_OK(xm_config_parse(big, &c, NULL));
        c = xm_config_free(c);

        /* List items. */
        strbuf_append(&b, "l = [");
        for (unsigned i = 0; i <= XM_LIST_MAX; i++)
                strbuf_append(&b, "1,");
        strbuf_append(&b, "]\n");
        ASSERT_OK(strbuf_steal(&b, &many));
        ASSERT_ERROR(xm_config_parse(many, &c, &e2), EBADMSG);
        ASSERT_STREQ(e2.message, "Syntax error at line 1: list has more than 1024 items");

        /* Entries. */
        for (unsigned i = 0; i <= XM_CONFIG_ENTRIES_MAX; i++)
                strbuf_appendf(&b, "k%u=1\n", i);
        ASSERT_OK(strbuf_steal(&b, &entries));
        ASSERT_ERROR(xm_config_parse(entries, &c, &e3), EBADMSG);
        ASSERT_STREQ(e3.message, "Syntax error at line 1025: more than 1024 entries");
}

static int compare_string(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

/* Every tests/data/xm-config/<case>.cfg parses to <case>.out (the config rewritten) or fails
 * with exactly <case>.err. */
TEST(golden_files) {
        _cleanup_free_ char *dir = test_path(test_srcdir(), "data/xm-config");
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0, failed = 0;
        DIR *d;

        d = opendir(dir);
        ASSERT_NOT_NULL(d);
        for (struct dirent *de; (de = readdir(d)); ) {
                size_t len = strlen(de->d_name);

                if (len > 4 && streq(de->d_name + len - 4, ".cfg"))
                        ASSERT_OK(strv_extend(&names, de->d_name));
        }
        closedir(d);
        n = strv_length(names);
        ASSERT_GT(n, 0u);
        ASSERT_NOT_NULL(names);
        qsort(names, n, sizeof(char *), compare_string);

        STRV_FOREACH(name, names) {
                _cleanup_free_ char *path = test_path(dir, *name), *text = test_read_file(path), *out = NULL;
                _cleanup_free_ char *base = strndup(*name, strlen(*name) - 4);
                _cleanup_(xm_config_freep) XmConfig *c = NULL;
                _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
                int r;

                ASSERT_NOT_NULL(base);
                r = xm_config_parse(text, &c, &error);
                if (r < 0) {
                        _cleanup_free_ char *msg = NULL;

                        ASSERT_TRUE(asprintf(&msg, "%s\n", strnull(error.message)) >= 0);
                        r = test_compare_golden("xm-config", base, ".err", msg);
                } else {
                        ASSERT_OK(xm_config_format(c, &out, &error));
                        r = test_compare_golden("xm-config", base, ".out", out);
                }
                if (r < 0) {
                        printf("# golden mismatch for %s\n", *name);
                        failed++;
                }
        }
        ASSERT_EQ(failed, 0u);
}

DEFINE_TEST_MAIN
