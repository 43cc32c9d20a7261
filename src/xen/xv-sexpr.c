/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xv-alloc.h"
#include "xv-parse-util.h"
#include "xv-sexpr.h"
#include "xv-strbuf.h"

Sexpr *sexpr_free(Sexpr *s) {
        if (!s)
                return NULL;

        free(s->value);
        for (size_t i = 0; i < s->n_items; i++)
                sexpr_free(s->items[i]);
        free(s->items);
        return mfree(s);
}

static int sexpr_new(SexprType type, Sexpr **ret) {
        Sexpr *s = new0(Sexpr, 1);

        if (!s)
                return -ENOMEM;
        s->type = type;
        *ret = s;
        return 0;
}

static int atom_new_take(char *value, Sexpr **ret) {
        Sexpr *s;
        int r;

        r = sexpr_new(SEXPR_ATOM, &s);
        if (r < 0) {
                free(value);
                return r;
        }
        s->value = value;
        *ret = s;
        return 0;
}

/* Appends @child to the list @parent; @child is freed on failure. */
static int list_append(Sexpr *parent, Sexpr *child) {
        assert(parent->type == SEXPR_LIST);

        if (GREEDY_REALLOC(parent->items, parent->allocated, parent->n_items + 1) < 0) {
                sexpr_free(child);
                return -ENOMEM;
        }
        parent->items[parent->n_items++] = child;
        return 0;
}

/* ---- Parser ---- */

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool ends_bare_atom(char c) {
        return is_blank(c) || c == '(' || c == ')' || c == '\'' || c == '"' || c == '\0';
}

/* Reads the quoted string whose opening quote is at text[*pos]; leaves *pos after the closing
 * quote. */
static int parse_quoted(const char *text, size_t size, size_t *pos, char **ret, XvError *error) {
        _cleanup_free_ char *buf = NULL;
        size_t start = *pos, i = *pos + 1, n = 0, end;
        char quote = text[start];

        /* Find the closing quote first: the unescaped text is never longer than the quoted one,
         * so that bounds the allocation. */
        for (end = i; end < size && text[end] != quote; end++)
                if (text[end] == '\\')
                        end++;
        if (end >= size)
                return xv_error_setf(error, XVP_ERR_PARSE_FAILED,
                                     "Unterminated string at byte %zu", start);

        buf = new(char, end - start);
        if (!buf)
                return -ENOMEM;

        for (;;) {
                char c;

                if (i >= size)
                        return xv_error_setf(error, XVP_ERR_PARSE_FAILED,
                                             "Unterminated string at byte %zu", start);
                c = text[i];
                if (c == '\0')
                        return xv_error_setf(error, XVP_ERR_PARSE_FAILED,
                                             "Unexpected NUL at byte %zu", i);
                if (c == quote) {
                        i++;
                        break;
                }
                if (c != '\\') {
                        buf[n++] = c;
                        i++;
                        continue;
                }

                /* A backslash escapes the next character, with xend's C-like special cases. */
                if (i + 1 >= size)
                        return xv_error_setf(error, XVP_ERR_PARSE_FAILED,
                                             "Unterminated string at byte %zu", start);
                c = text[i + 1];
                switch (c) {
                case 'n': buf[n++] = '\n'; i += 2; break;
                case 't': buf[n++] = '\t'; i += 2; break;
                case 'r': buf[n++] = '\r'; i += 2; break;
                case 'a': buf[n++] = '\a'; i += 2; break;
                case 'b': buf[n++] = '\b'; i += 2; break;
                case 'f': buf[n++] = '\f'; i += 2; break;
                case 'v': buf[n++] = '\v'; i += 2; break;
                case '0' ... '7': {
                        unsigned v = 0;
                        size_t j = i + 1;

                        for (; j < size && j < i + 4 && text[j] >= '0' && text[j] <= '7'; j++)
                                v = v * 8 + (unsigned) (text[j] - '0');
                        if (v == 0 || v > 255)
                                return xv_error_setf(error, XVP_ERR_PARSE_FAILED,
                                                     "Invalid octal escape at byte %zu", i);
                        buf[n++] = (char) v;
                        i = j;
                        break;
                }
                case '\0':
                        return xv_error_setf(error, XVP_ERR_PARSE_FAILED,
                                             "Unexpected NUL at byte %zu", i + 1);
                default:
                        buf[n++] = c;
                        i += 2;
                }
        }

        buf[n] = '\0';
        *pos = i;
        *ret = TAKE_PTR(buf);
        return 0;
}

/*
 * Two imbalances are tolerated, because libvirt's reader tolerated them and stored XenD
 * replies and test inputs of that era depend on it: a single missing ')' at the end of the
 * input (the outermost list is closed implicitly), and surplus ')' after the complete
 * top-level expression (ignored). Anything else after the expression is an error.
 */
int sexpr_parse(const char *text, size_t size, Sexpr **ret, XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *root = NULL;
        Sexpr *stack[SEXPR_DEPTH_MAX];
        size_t depth = 0, i = 0;
        int r;

        assert(text || size == 0);
        assert(ret);

        if (size > SEXPR_SIZE_MAX)
                return xv_error_setf(error, XVP_ERR_OVERFLOW,
                                     "S-expression of %zu bytes exceeds the limit of %d bytes",
                                     size, SEXPR_SIZE_MAX);

        while (i < size) {
                char c = text[i];
                Sexpr *node;

                if (is_blank(c)) {
                        i++;
                        continue;
                }
                if (c == '\0')
                        return xv_error_setf(error, XVP_ERR_PARSE_FAILED, "Unexpected NUL at byte %zu", i);

                if (root && depth == 0) {
                        if (c == ')') {
                                i++;
                                continue;
                        }
                        return xv_error_setf(error, XVP_ERR_PARSE_FAILED,
                                             "Unexpected data after the expression at byte %zu", i);
                }

                if (c == ')') {
                        if (depth == 0)
                                return xv_error_setf(error, XVP_ERR_PARSE_FAILED,
                                                     "Unexpected ')' at byte %zu", i);
                        depth--;
                        i++;
                        continue;
                }

                if (c == '(') {
                        if (depth >= SEXPR_DEPTH_MAX)
                                return xv_error_setf(error, XVP_ERR_PARSE_FAILED,
                                                     "Lists nested deeper than %d levels at byte %zu",
                                                     SEXPR_DEPTH_MAX, i);
                        r = sexpr_new(SEXPR_LIST, &node);
                        if (r < 0)
                                return r;
                        i++;
                } else {
                        char *value = NULL;

                        if (c == '\'' || c == '"') {
                                r = parse_quoted(text, size, &i, &value, error);
                                if (r < 0)
                                        return r;
                        } else {
                                size_t start = i;

                                while (i < size && !ends_bare_atom(text[i]))
                                        i++;
                                value = strndup(text + start, i - start);
                                if (!value)
                                        return -ENOMEM;
                        }
                        r = atom_new_take(value, &node);
                        if (r < 0)
                                return r;
                }

                if (depth == 0)
                        root = node;
                else {
                        r = list_append(stack[depth - 1], node);
                        if (r < 0)
                                return r;
                }

                if (node->type == SEXPR_LIST)
                        stack[depth++] = node;
        }

        if (!root)
                return xv_error_setf(error, XVP_ERR_PARSE_FAILED, "Empty S-expression");
        if (depth > 1)
                return xv_error_setf(error, XVP_ERR_PARSE_FAILED,
                                     "Missing %zu closing parentheses at byte %zu", depth, size);

        *ret = TAKE_PTR(root);
        return 0;
}

/* ---- Printer ---- */

static bool is_bare_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                strchr("-_./:,@+=%~*", c);
}

bool sexpr_atom_is_bare(const char *value) {
        if (isempty(value))
                return false;
        for (const char *p = value; *p; p++)
                if (!is_bare_char(*p))
                        return false;
        return true;
}

static void format_atom(StrBuf *b, const char *value) {
        if (sexpr_atom_is_bare(value)) {
                strbuf_append(b, value);
                return;
        }

        strbuf_appendc(b, '\'');
        for (const unsigned char *p = (const unsigned char *) strempty(value); *p; p++)
                switch (*p) {
                case '\\':
                case '\'':
                        strbuf_appendc(b, '\\');
                        strbuf_appendc(b, (char) *p);
                        break;
                case '\n':
                        strbuf_append(b, "\\n");
                        break;
                case '\t':
                        strbuf_append(b, "\\t");
                        break;
                case '\r':
                        strbuf_append(b, "\\r");
                        break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                strbuf_appendf(b, "\\%03o", *p);
                        else
                                strbuf_appendc(b, (char) *p);
                }
        strbuf_appendc(b, '\'');
}

static int format_node(StrBuf *b, const Sexpr *s) {
        int r;

        if (s->type == SEXPR_ATOM) {
                format_atom(b, s->value);
                return 0;
        }

        if (s->failed)
                return -ENOMEM;

        strbuf_appendc(b, '(');
        for (size_t i = 0; i < s->n_items; i++) {
                if (i > 0)
                        strbuf_appendc(b, ' ');
                r = format_node(b, s->items[i]);
                if (r < 0)
                        return r;
        }
        strbuf_appendc(b, ')');
        return 0;
}

int sexpr_format(const Sexpr *s, char **ret) {
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        int r;

        assert(s);
        assert(ret);

        r = format_node(&b, s);
        if (r < 0)
                return r;

        return strbuf_steal(&b, ret);
}

/* ---- Accessors ---- */

const char *sexpr_atom(const Sexpr *s) {
        return sexpr_is_atom(s) ? s->value : NULL;
}

const char *sexpr_head(const Sexpr *s) {
        if (!sexpr_is_list(s) || s->n_items == 0)
                return NULL;
        return sexpr_atom(s->items[0]);
}

const Sexpr *sexpr_item(const Sexpr *s, size_t i) {
        if (!sexpr_is_list(s) || i >= s->n_items)
                return NULL;
        return s->items[i];
}

size_t sexpr_n_items(const Sexpr *s) {
        return sexpr_is_list(s) ? s->n_items : 0;
}

const Sexpr * const *sexpr_children(const Sexpr *s) {
        static const Sexpr * const none[1] = {};

        if (!sexpr_is_list(s) || s->n_items < 2)
                return none;
        return (const Sexpr * const *) s->items + 1;
}

size_t sexpr_n_children(const Sexpr *s) {
        return sexpr_is_list(s) && s->n_items > 1 ? s->n_items - 1 : 0;
}

static bool head_is(const Sexpr *s, const char *name, size_t n) {
        const char *h = sexpr_head(s);

        return h && strlen(h) == n && strncmp(h, name, n) == 0;
}

const Sexpr *sexpr_lookup(const Sexpr *s, const char *path) {
        const char *p, *slash;

        assert(path);

        if (!s || strnlen(path, SEXPR_PATH_MAX + 1) > SEXPR_PATH_MAX)
                return NULL;

        slash = strchrnul(path, '/');
        if (slash == path || !head_is(s, path, slash - path))
                return NULL;

        for (p = slash; *p; p = slash) {
                const Sexpr *found = NULL;

                p++;
                slash = strchrnul(p, '/');
                if (slash == p)
                        return NULL;

                /* The children of a list are its items after the head. */
                for (size_t i = 1; sexpr_is_list(s) && i < s->n_items; i++)
                        if (head_is(s->items[i], p, slash - p)) {
                                found = s->items[i];
                                break;
                        }
                if (!found)
                        return NULL;
                s = found;
        }

        return s;
}

const char *sexpr_node(const Sexpr *s, const char *path) {
        return sexpr_atom(sexpr_item(sexpr_lookup(s, path), 1));
}

bool sexpr_has(const Sexpr *s, const char *path) {
        return sexpr_lookup(s, path);
}

int sexpr_get_string(const Sexpr *s, const char *path, const char **ret) {
        const Sexpr *l = sexpr_lookup(s, path);
        const Sexpr *v = sexpr_item(l, 1);

        assert(ret);

        if (!v)
                return -ENOENT;
        if (!sexpr_is_atom(v))
                return -EINVAL;
        *ret = v->value;
        return 0;
}

int sexpr_get_u64(const Sexpr *s, const char *path, uint64_t *ret) {
        const char *v;
        int r;

        r = sexpr_get_string(s, path, &v);
        if (r < 0)
                return r;
        return safe_atou64(v, ret);
}

int sexpr_get_i64(const Sexpr *s, const char *path, int64_t *ret) {
        const char *v;
        int r;

        r = sexpr_get_string(s, path, &v);
        if (r < 0)
                return r;
        return safe_atoi64(v, ret);
}

int sexpr_get_int(const Sexpr *s, const char *path, int *ret) {
        const char *v;
        int r;

        r = sexpr_get_string(s, path, &v);
        if (r < 0)
                return r;
        return safe_atoi(v, ret);
}

int sexpr_get_double(const Sexpr *s, const char *path, double *ret) {
        const char *v;
        char *end;
        double d;
        int r;

        assert(ret);

        r = sexpr_get_string(s, path, &v);
        if (r < 0)
                return r;
        if (isempty(v) || is_blank(v[0]))
                return -EINVAL;

        errno = 0;
        d = strtod(v, &end);
        if (*end != '\0')
                return -EINVAL;
        if (errno == ERANGE || !isfinite(d))
                return -ERANGE;
        *ret = d;
        return 0;
}

int sexpr_get_bool(const Sexpr *s, const char *path, bool *ret) {
        int64_t v;
        int r;

        assert(ret);

        r = sexpr_get_i64(s, path, &v);
        if (r < 0)
                return r;
        *ret = v != 0;
        return 0;
}

/* ---- Builders ---- */

int sexpr_new_list(const char *head, Sexpr **ret) {
        _cleanup_(sexpr_freep) Sexpr *l = NULL;
        int r;

        assert(ret);

        r = sexpr_new(SEXPR_LIST, &l);
        if (r < 0)
                return r;
        if (head && !sexpr_add_atom(l, head))
                return -ENOMEM;

        *ret = TAKE_PTR(l);
        return 0;
}

Sexpr *sexpr_add(Sexpr *parent, Sexpr *child) {
        if (!parent) {
                sexpr_free(child);
                return NULL;
        }
        if (!child || list_append(parent, child) < 0) {
                parent->failed = true;
                return NULL;
        }
        return child;
}

Sexpr *sexpr_add_list(Sexpr *parent, const char *head) {
        Sexpr *l = NULL;

        if (!parent)
                return NULL;
        if (sexpr_new_list(head, &l) < 0) {
                parent->failed = true;
                return NULL;
        }
        return sexpr_add(parent, l);
}

Sexpr *sexpr_add_atom(Sexpr *parent, const char *value) {
        Sexpr *a = NULL;
        char *v;

        assert(value);

        if (!parent)
                return NULL;
        v = strdup(value);
        if (!v || atom_new_take(v, &a) < 0) {
                parent->failed = true;
                return NULL;
        }
        return sexpr_add(parent, a);
}

Sexpr *sexpr_add_pair(Sexpr *parent, const char *key, const char *value) {
        Sexpr *l = sexpr_add_list(parent, key);

        if (l && value && !sexpr_add_atom(l, value)) {
                /* The pair is there but incomplete: make the whole tree fail. */
                parent->failed = true;
                return NULL;
        }
        return l;
}

Sexpr *sexpr_add_pairf(Sexpr *parent, const char *key, const char *format, ...) {
        _cleanup_free_ char *v = NULL;
        va_list ap;
        int r;

        if (!parent)
                return NULL;

        va_start(ap, format);
        r = vasprintf(&v, format, ap);
        va_end(ap);
        if (r < 0) {
                v = NULL;
                parent->failed = true;
                return NULL;
        }
        return sexpr_add_pair(parent, key, v);
}

Sexpr *sexpr_add_pair_u64(Sexpr *parent, const char *key, uint64_t value) {
        return sexpr_add_pairf(parent, key, "%" PRIu64, value);
}

Sexpr *sexpr_add_pair_i64(Sexpr *parent, const char *key, int64_t value) {
        return sexpr_add_pairf(parent, key, "%" PRIi64, value);
}

int sexpr_check(const Sexpr *s) {
        int r;

        if (!sexpr_is_list(s))
                return 0;
        if (s->failed)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_items; i++) {
                r = sexpr_check(s->items[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}
