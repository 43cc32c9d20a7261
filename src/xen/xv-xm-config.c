/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

#include "xv-alloc.h"
#include "xv-parse-util.h"
#include "xv-strbuf.h"
#include "xv-xm-config.h"

void xm_value_done(XmValue *v) {
        if (!v)
                return;

        v->str = mfree(v->str);
        for (size_t i = 0; i < v->n_items; i++)
                xm_value_done(&v->items[i]);
        v->items = mfree(v->items);
        v->n_items = 0;
}

int xm_config_new(XmConfig **ret) {
        XmConfig *c;

        assert(ret);

        c = new0(XmConfig, 1);
        if (!c)
                return -ENOMEM;

        *ret = c;
        return 0;
}

XmConfig *xm_config_free(XmConfig *c) {
        if (!c)
                return NULL;

        for (size_t i = 0; i < c->n_entries; i++) {
                free(c->entries[i].key);
                free(c->entries[i].comment);
                xm_value_done(&c->entries[i].value);
        }
        free(c->entries);
        return mfree(c);
}

static XmEntry *config_find(const XmConfig *c, const char *key) {
        for (size_t i = 0; i < c->n_entries; i++)
                if (streq_ptr(c->entries[i].key, key))
                        return &c->entries[i];
        return NULL;
}

/* Stores @value under @key, taking ownership of both on success only. */
static int config_put(XmConfig *c, char *key, XmValue *value) {
        XmEntry *e;

        e = config_find(c, key);
        if (e) {
                /* Python semantics: the last assignment wins; the key keeps its first position. */
                xm_value_done(&e->value);
                e->value = *value;
                *value = (XmValue) {};
                free(key);
                return 0;
        }

        if (c->n_keys >= XM_CONFIG_ENTRIES_MAX)
                return -E2BIG;
        if (GREEDY_REALLOC(c->entries, c->allocated, c->n_entries + 1) < 0)
                return -ENOMEM;

        c->entries[c->n_entries++] = (XmEntry) {
                .key = key,
                .value = *value,
        };
        c->n_keys++;
        *value = (XmValue) {};
        return 0;
}

/* Appends a run of comment and blank lines, taking ownership of @text on success. Runs only
 * ever sit between keys, so there are at most XM_CONFIG_ENTRIES_MAX + 1 of them. */
static int config_put_comment(XmConfig *c, char *text) {
        if (GREEDY_REALLOC(c->entries, c->allocated, c->n_entries + 1) < 0)
                return -ENOMEM;

        c->entries[c->n_entries++] = (XmEntry) {
                .comment = text,
        };
        return 0;
}

static int flush_comments(XmConfig *c, StrBuf *comments) {
        char *text = NULL;
        int r;

        if (comments->len == 0)
                return 0;

        r = strbuf_steal(comments, &text);
        if (r < 0)
                return r;
        r = config_put_comment(c, text);
        if (r < 0)
                free(text);
        return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Parser */

typedef struct Parser {
        const char *p;
        unsigned line;
        XvError *error;
} Parser;

static int parser_error(Parser *ps, unsigned line, const char *format, ...) _printf_(3, 4);
static int parser_error(Parser *ps, unsigned line, const char *format, ...) {
        char msg[512];
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(msg, sizeof(msg), format, ap);
        va_end(ap);

        return xv_error_setf(ps->error, XVP_ERR_CONF_SYNTAX, "Syntax error at line %u: %s", line, msg);
}

/* A printable rendering of the character at @p for error messages. */
static const char *char_name(const char *p, char buf[static 16]) {
        unsigned char ch = (unsigned char) *p;

        if (ch == '\0')
                return "end of file";
        if (ch == '\n')
                return "end of line";
        if (isprint(ch))
                (void) snprintf(buf, 16, "'%c'", ch);
        else
                (void) snprintf(buf, 16, "'\\x%02x'", ch);
        return buf;
}

static bool at_newline_continuation(const char *p) {
        return p[0] == '\\' && (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n'));
}

/* Skips blanks within a line, and backslash-newline continuations (explicit line joining). */
static void skip_blank(Parser *ps) {
        for (;;) {
                if (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' || *ps->p == '\f')
                        ps->p++;
                else if (at_newline_continuation(ps->p)) {
                        ps->p += ps->p[1] == '\n' ? 2 : 3;
                        ps->line++;
                } else
                        return;
        }
}

static void skip_comment(Parser *ps) {
        if (*ps->p != '#')
                return;
        while (*ps->p && *ps->p != '\n')
                ps->p++;
}

/* Inside brackets Python joins lines implicitly: newlines and comments are blanks there. */
static void skip_space_in_list(Parser *ps) {
        for (;;) {
                skip_blank(ps);
                if (*ps->p == '#')
                        skip_comment(ps);
                else if (*ps->p == '\n') {
                        ps->p++;
                        ps->line++;
                } else
                        return;
        }
}

static int parse_string(Parser *ps, char **ret) {
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        unsigned start_line = ps->line;
        char quote = *ps->p;
        bool triple;
        int r;

        assert(quote == '"' || quote == '\'');

        triple = ps->p[1] == quote && ps->p[2] == quote;
        ps->p += triple ? 3 : 1;

        for (;;) {
                char ch = *ps->p;

                if (ch == '\0')
                        return parser_error(ps, start_line, "unterminated string");

                if (ch == quote) {
                        if (!triple) {
                                ps->p++;
                                break;
                        }
                        if (ps->p[1] == quote && ps->p[2] == quote) {
                                ps->p += 3;
                                break;
                        }
                }

                if (ch == '\n') {
                        if (!triple)
                                return parser_error(ps, start_line, "unterminated string");
                        ps->line++;
                        strbuf_appendc(&b, ch);
                        ps->p++;
                        continue;
                }

                if (ch != '\\') {
                        strbuf_appendc(&b, ch);
                        ps->p++;
                        continue;
                }

                /* A backslash escape, with Python's meaning. */
                ps->p++;
                ch = *ps->p;
                switch (ch) {
                case '\0':
                        return parser_error(ps, start_line, "unterminated string");
                case '\n':
                        /* Backslash-newline continues the string on the next line. */
                        ps->line++;
                        ps->p++;
                        continue;
                case '\r':
                        if (ps->p[1] == '\n') {
                                ps->line++;
                                ps->p += 2;
                                continue;
                        }
                        strbuf_appendc(&b, '\\');
                        break;
                case '\\': case '\'': case '"':
                        strbuf_appendc(&b, ch);
                        ps->p++;
                        continue;
                case 'n': strbuf_appendc(&b, '\n'); ps->p++; continue;
                case 't': strbuf_appendc(&b, '\t'); ps->p++; continue;
                case 'r': strbuf_appendc(&b, '\r'); ps->p++; continue;
                case 'a': strbuf_appendc(&b, '\a'); ps->p++; continue;
                case 'b': strbuf_appendc(&b, '\b'); ps->p++; continue;
                case 'f': strbuf_appendc(&b, '\f'); ps->p++; continue;
                case 'v': strbuf_appendc(&b, '\v'); ps->p++; continue;
                case 'x': {
                        int hi = unhexchar(ps->p[1]), lo = hi < 0 ? -1 : unhexchar(ps->p[2]);

                        if (hi < 0 || lo < 0)
                                return parser_error(ps, ps->line, "invalid \\x escape in string");
                        if (hi == 0 && lo == 0)
                                return parser_error(ps, ps->line,
                                                    "NUL characters are not supported in strings");
                        strbuf_appendc(&b, (char) (hi * 16 + lo));
                        ps->p += 3;
                        continue;
                }
                default:
                        if (ch >= '0' && ch <= '7') {
                                unsigned v = 0;

                                for (unsigned i = 0; i < 3 && *ps->p >= '0' && *ps->p <= '7'; i++)
                                        v = v * 8 + (unsigned) (*ps->p++ - '0');
                                if (v == 0 || v > 0xff)
                                        return parser_error(ps, ps->line,
                                                            "octal escape out of range in string");
                                strbuf_appendc(&b, (char) v);
                                continue;
                        }
                        /* Unknown escapes keep their backslash, as in Python. */
                        strbuf_appendc(&b, '\\');
                        break;
                }
        }

        r = strbuf_steal(&b, ret);
        if (r < 0)
                return r;
        return 0;
}

static int parse_int(Parser *ps, long long *ret) {
        const char *start = ps->p;
        bool negative = false;
        unsigned long long v = 0;
        char buf[16];

        if (*ps->p == '-' || *ps->p == '+') {
                negative = *ps->p == '-';
                ps->p++;
        }

        if (ps->p[0] == '0' && (ps->p[1] == 'x' || ps->p[1] == 'X')) {
                ps->p += 2;
                if (unhexchar(*ps->p) < 0)
                        return parser_error(ps, ps->line, "invalid integer '%.*s'",
                                            (int) (ps->p - start), start);
                for (; unhexchar(*ps->p) >= 0; ps->p++) {
                        if (v > (ULLONG_MAX >> 4))
                                return parser_error(ps, ps->line, "integer out of range");
                        v = v * 16 + (unsigned) unhexchar(*ps->p);
                }
        } else {
                if (!isdigit((unsigned char) *ps->p))
                        return parser_error(ps, ps->line, "expected a digit after the sign, got %s",
                                            char_name(ps->p, buf));
                for (; isdigit((unsigned char) *ps->p); ps->p++) {
                        unsigned d = (unsigned) (*ps->p - '0');

                        if (v > (ULLONG_MAX - d) / 10)
                                return parser_error(ps, ps->line, "integer out of range");
                        v = v * 10 + d;
                }
        }

        if (isalnum((unsigned char) *ps->p) || *ps->p == '_' || *ps->p == '.')
                return parser_error(ps, ps->line, "invalid integer '%.*s%c'",
                                    (int) (ps->p - start), start, *ps->p);

        if (negative ? v > (unsigned long long) LLONG_MAX + 1 : v > (unsigned long long) LLONG_MAX)
                return parser_error(ps, ps->line, "integer out of range");

        *ret = negative ? (long long) (0 - v) : (long long) v;
        return 0;
}

static bool starts_int(const char *p) {
        if (*p == '-' || *p == '+')
                p++;
        return isdigit((unsigned char) *p);
}

static int parse_scalar(Parser *ps, XmValue *ret, const char *context) {
        char buf[16];
        int r;

        if (*ps->p == '"' || *ps->p == '\'') {
                char *s = NULL;

                r = parse_string(ps, &s);
                if (r < 0)
                        return r;
                *ret = (XmValue) { .type = XM_VALUE_STRING, .str = s };
                return 0;
        }

        if (starts_int(ps->p) || ((*ps->p == '-' || *ps->p == '+') && !isdigit((unsigned char) ps->p[1]))) {
                long long v = 0;

                r = parse_int(ps, &v);
                if (r < 0)
                        return r;
                *ret = (XmValue) { .type = XM_VALUE_INT, .num = v };
                return 0;
        }

        return parser_error(ps, ps->line, "expected a value %s, got %s", context, char_name(ps->p, buf));
}

static int parse_list(Parser *ps, XmValue *ret) {
        XmValue list = { .type = XM_VALUE_LIST };
        size_t allocated = 0;
        char buf[16];
        int r;

        assert(*ps->p == '[');
        ps->p++;

        for (;;) {
                XmValue item = {};

                skip_space_in_list(ps);
                if (*ps->p == ']') {
                        ps->p++;
                        break;
                }
                if (*ps->p == '[') {
                        xm_value_done(&list);
                        return parser_error(ps, ps->line, "nested lists are not supported");
                }
                if (*ps->p == '\0') {
                        xm_value_done(&list);
                        return parser_error(ps, ps->line, "unterminated list, expected ']'");
                }

                if (list.n_items >= XM_LIST_MAX) {
                        xm_value_done(&list);
                        return parser_error(ps, ps->line, "list has more than %u items", XM_LIST_MAX);
                }

                r = parse_scalar(ps, &item, "in list");
                if (r < 0) {
                        xm_value_done(&list);
                        return r;
                }

                if (GREEDY_REALLOC(list.items, allocated, list.n_items + 1) < 0) {
                        xm_value_done(&item);
                        xm_value_done(&list);
                        return -ENOMEM;
                }
                list.items[list.n_items++] = item;

                skip_space_in_list(ps);
                if (*ps->p == ',') {
                        ps->p++;
                        continue;
                }
                if (*ps->p == ']') {
                        ps->p++;
                        break;
                }

                xm_value_done(&list);
                if (*ps->p == '\0')
                        return parser_error(ps, ps->line, "unterminated list, expected ']'");
                return parser_error(ps, ps->line, "expected ',' or ']' in list, got %s",
                                    char_name(ps->p, buf));
        }

        *ret = list;
        return 0;
}

static bool is_key_start(char c) {
        return isalpha((unsigned char) c) || c == '_';
}

static bool is_key_char(char c) {
        return isalnum((unsigned char) c) || c == '_' || c == '.' || c == '-';
}

int xm_config_parse(const char *text, XmConfig **ret, XvError *error) {
        _cleanup_(xm_config_freep) XmConfig *c = NULL;
        _cleanup_(strbuf_done) StrBuf comments = STRBUF_INIT;
        Parser ps = { .p = text, .line = 1, .error = error };
        size_t len;
        char buf[16];
        int r;

        assert(text);
        assert(ret);

        len = strnlen(text, XM_CONFIG_SIZE_MAX + 1);
        if (len > XM_CONFIG_SIZE_MAX)
                return xv_error_setf(error, XVP_ERR_CONF_SYNTAX,
                                     "Config file is larger than %u bytes", XM_CONFIG_SIZE_MAX);

        r = xm_config_new(&c);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_free_ char *key = NULL;
                _cleanup_(xm_value_done) XmValue value = {};
                const char *start, *line_start = ps.p;
                unsigned key_line;
                bool more;

                skip_blank(&ps);
                skip_comment(&ps);
                if (*ps.p == '\0' || *ps.p == '\n') {
                        /* A blank or comment-only line: kept verbatim with its neighbours. */
                        if (ps.p > line_start || *ps.p == '\n') {
                                strbuf_appendn(&comments, line_start, (size_t) (ps.p - line_start));
                                strbuf_appendc(&comments, '\n');
                        }
                        if (*ps.p == '\0')
                                break;
                        ps.p++;
                        ps.line++;
                        continue;
                }

                r = flush_comments(c, &comments);
                if (r < 0)
                        return r;

                if (!is_key_start(*ps.p))
                        return parser_error(&ps, ps.line, "expected a key, got %s", char_name(ps.p, buf));

                start = ps.p;
                while (is_key_char(*ps.p))
                        ps.p++;
                if ((size_t) (ps.p - start) > XM_KEY_MAX)
                        return parser_error(&ps, ps.line, "key longer than %u bytes", XM_KEY_MAX);
                key = strndup(start, (size_t) (ps.p - start));
                if (!key)
                        return -ENOMEM;
                key_line = ps.line;

                skip_blank(&ps);
                if (*ps.p != '=')
                        return parser_error(&ps, ps.line, "expected '=' after '%s'", key);
                ps.p++;
                skip_blank(&ps);

                if (*ps.p == '[')
                        r = parse_list(&ps, &value);
                else {
                        char context[XM_KEY_MAX + 32];

                        (void) snprintf(context, sizeof(context), "after '%s ='", key);
                        r = parse_scalar(&ps, &value, context);
                }
                if (r < 0)
                        return r;

                skip_blank(&ps);
                /* As in Python, ';' may separate several statements on one line. */
                more = false;
                if (*ps.p == ';') {
                        ps.p++;
                        skip_blank(&ps);
                        more = is_key_start(*ps.p);
                }
                if (!more) {
                        skip_comment(&ps);
                        if (*ps.p != '\n' && *ps.p != '\0')
                                return parser_error(&ps, ps.line, "unexpected %s after the value of '%s'",
                                                    char_name(ps.p, buf), key);
                        if (*ps.p == '\n') {
                                ps.p++;
                                ps.line++;
                        }
                }

                if (!config_find(c, key) && c->n_keys >= XM_CONFIG_ENTRIES_MAX)
                        return parser_error(&ps, key_line, "more than %u entries", XM_CONFIG_ENTRIES_MAX);

                r = config_put(c, key, &value);
                if (r < 0)
                        return r;
                TAKE_PTR(key);
        }

        r = flush_comments(c, &comments);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(c);
        return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Writer */

static void format_string(StrBuf *b, const char *s) {
        strbuf_appendc(b, '"');
        for (const char *p = s; *p; p++) {
                unsigned char ch = (unsigned char) *p;

                switch (ch) {
                case '"':  strbuf_append(b, "\\\""); break;
                case '\\': strbuf_append(b, "\\\\"); break;
                case '\n': strbuf_append(b, "\\n"); break;
                case '\t': strbuf_append(b, "\\t"); break;
                case '\r': strbuf_append(b, "\\r"); break;
                default:
                        if (ch < 0x20 || ch == 0x7f)
                                strbuf_appendf(b, "\\x%02x", ch);
                        else
                                strbuf_appendc(b, (char) ch);
                }
        }
        strbuf_appendc(b, '"');
}

static void format_value(StrBuf *b, const XmValue *v) {
        switch (v->type) {
        case XM_VALUE_STRING:
                format_string(b, strempty(v->str));
                break;
        case XM_VALUE_INT:
                strbuf_appendf(b, "%lld", v->num);
                break;
        case XM_VALUE_LIST:
                strbuf_append(b, "[ ");
                for (size_t i = 0; i < v->n_items; i++) {
                        if (i > 0)
                                strbuf_append(b, ", ");
                        format_value(b, &v->items[i]);
                }
                strbuf_append(b, v->n_items > 0 ? " ]" : "]");
                break;
        default:
                assert(false);
        }
}

int xm_config_format(const XmConfig *c, char **ret, XvError *error) {
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        int r;

        assert(c);
        assert(ret);

        for (size_t i = 0; i < c->n_entries; i++) {
                if (!c->entries[i].key) {
                        strbuf_append(&b, strempty(c->entries[i].comment));
                        continue;
                }
                strbuf_append(&b, c->entries[i].key);
                strbuf_append(&b, " = ");
                format_value(&b, &c->entries[i].value);
                strbuf_appendc(&b, '\n');
        }

        r = strbuf_steal(&b, ret);
        if (r < 0)
                return xv_error_set_errnof(error, r, "Failed to format XM config");
        return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Accessors */

const XmValue *xm_config_get(const XmConfig *c, const char *key) {
        const XmEntry *e;

        assert(c);
        assert(key);

        e = config_find(c, key);
        return e ? &e->value : NULL;
}

bool xm_config_has(const XmConfig *c, const char *key) {
        return xm_config_get(c, key) != NULL;
}

int xm_config_get_string(const XmConfig *c, const char *key, const char **ret, XvError *error) {
        const XmValue *v = xm_config_get(c, key);

        if (!v)
                return -ENOENT;
        if (v->type != XM_VALUE_STRING)
                return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "config value %s was not a string", key);

        *ret = v->str;
        return 0;
}

int xm_config_get_int(const XmConfig *c, const char *key, long long *ret, XvError *error) {
        const XmValue *v = xm_config_get(c, key);
        int64_t n;

        if (!v)
                return -ENOENT;
        if (v->type == XM_VALUE_INT) {
                *ret = v->num;
                return 0;
        }
        if (v->type == XM_VALUE_STRING && safe_atoi64(v->str, &n) >= 0) {
                *ret = n;
                return 0;
        }

        return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "config value %s was malformed", key);
}

int xm_config_get_list(const XmConfig *c, const char *key, const XmValue **ret, XvError *error) {
        const XmValue *v = xm_config_get(c, key);

        if (!v)
                return -ENOENT;
        if (v->type != XM_VALUE_LIST)
                return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "config value %s was not a list", key);

        *ret = v;
        return 0;
}

static int config_set(XmConfig *c, const char *key, XmValue *value) {
        _cleanup_free_ char *k = NULL;
        int r;

        assert(c);
        assert(key);

        k = strdup(key);
        if (!k)
                return -ENOMEM;

        r = config_put(c, k, value);
        if (r < 0)
                return r;
        TAKE_PTR(k);
        return 0;
}

int xm_config_set_string(XmConfig *c, const char *key, const char *value) {
        _cleanup_(xm_value_done) XmValue v = { .type = XM_VALUE_STRING };

        assert(value);

        v.str = strdup(value);
        if (!v.str)
                return -ENOMEM;

        return config_set(c, key, &v);
}

int xm_config_set_int(XmConfig *c, const char *key, long long value) {
        XmValue v = { .type = XM_VALUE_INT, .num = value };

        return config_set(c, key, &v);
}

int xm_config_set_list_strv(XmConfig *c, const char *key, char **items) {
        _cleanup_strv_free_ char **l = items;
        _cleanup_(xm_value_done) XmValue v = { .type = XM_VALUE_LIST };
        size_t n = strv_length(l);

        if (n > XM_LIST_MAX)
                return -E2BIG;

        v.items = new0(XmValue, n);
        if (!v.items)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                v.items[i] = (XmValue) { .type = XM_VALUE_STRING, .str = l[i] };
                l[i] = NULL;
                v.n_items++;
        }

        return config_set(c, key, &v);
}

static int value_copy(const XmValue *s, XmValue *ret) {
        XmValue v = { .type = s->type, .num = s->num };

        if (s->str) {
                v.str = strdup(s->str);
                if (!v.str)
                        return -ENOMEM;
        }
        if (s->n_items > 0) {
                if (s->n_items > XM_LIST_MAX) {
                        xm_value_done(&v);
                        return -E2BIG;
                }
                v.items = new0(XmValue, s->n_items);
                if (!v.items) {
                        xm_value_done(&v);
                        return -ENOMEM;
                }
                for (size_t i = 0; i < s->n_items; i++) {
                        int r = value_copy(&s->items[i], &v.items[i]);

                        if (r < 0) {
                                xm_value_done(&v);
                                return r;
                        }
                        v.n_items++;
                }
        }

        *ret = v;
        return 0;
}

int xm_config_set_value(XmConfig *c, const char *key, const XmValue *value) {
        _cleanup_(xm_value_done) XmValue v = {};
        int r;

        assert(value);

        r = value_copy(value, &v);
        if (r < 0)
                return r;
        return config_set(c, key, &v);
}

int xm_config_remove(XmConfig *c, const char *key) {
        XmEntry *e;
        size_t i;

        assert(c);

        e = config_find(c, key);
        if (!e)
                return 0;

        i = (size_t) (e - c->entries);
        free(e->key);
        free(e->comment);
        xm_value_done(&e->value);
        memmove(c->entries + i, c->entries + i + 1, (c->n_entries - i - 1) * sizeof(XmEntry));
        c->n_entries--;
        c->n_keys--;
        return 1;
}
