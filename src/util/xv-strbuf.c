/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xv-alloc.h"
#include "xv-strbuf.h"

static bool strbuf_reserve(StrBuf *b, size_t extra) {
        if (b->error < 0)
                return false;
        if (extra > SIZE_MAX - b->len - 1 || (b->limit > 0 && b->len + extra > b->limit)) {
                b->error = -E2BIG;
                return false;
        }
        if (GREEDY_REALLOC(b->buf, b->allocated, b->len + extra + 1) < 0) {
                b->error = -ENOMEM;
                return false;
        }
        return true;
}

void strbuf_appendn(StrBuf *b, const char *s, size_t n) {
        if (!strbuf_reserve(b, n))
                return;
        memcpy(b->buf + b->len, s, n);
        b->len += n;
        b->buf[b->len] = '\0';
}

void strbuf_append(StrBuf *b, const char *s) {
        strbuf_appendn(b, s, strlen(s));
}

void strbuf_appendc(StrBuf *b, char c) {
        strbuf_appendn(b, &c, 1);
}

void strbuf_appendf(StrBuf *b, const char *format, ...) {
        va_list ap;
        int n;

        if (b->error < 0)
                return;

        va_start(ap, format);
        n = vsnprintf(NULL, 0, format, ap);
        va_end(ap);
        if (n < 0) {
                b->error = -EINVAL;
                return;
        }
        if (!strbuf_reserve(b, (size_t) n))
                return;

        va_start(ap, format);
        (void) vsnprintf(b->buf + b->len, (size_t) n + 1, format, ap);
        va_end(ap);
        b->len += (size_t) n;
}

void strbuf_indent(StrBuf *b, unsigned n) {
        static const char spaces[] = "                                ";

        while (n > 0) {
                unsigned k = MIN(n, (unsigned) sizeof(spaces) - 1);

                strbuf_appendn(b, spaces, k);
                n -= k;
        }
}

void strbuf_append_xml_escaped(StrBuf *b, const char *s) {
        for (const char *p = s; *p; ) {
                size_t n = strcspn(p, "<>&'\"");

                strbuf_appendn(b, p, n);
                p += n;
                switch (*p) {
                case '<':  strbuf_append(b, "&lt;");   break;
                case '>':  strbuf_append(b, "&gt;");   break;
                case '&':  strbuf_append(b, "&amp;");  break;
                case '\'': strbuf_append(b, "&apos;"); break;
                case '"':  strbuf_append(b, "&quot;"); break;
                default:   continue;
                }
                p++;
        }
}

int strbuf_steal(StrBuf *b, char **ret) {
        int r = b->error;

        if (r < 0) {
                strbuf_done(b);
                return r;
        }
        if (!b->buf) {
                b->buf = strdup("");
                if (!b->buf)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(b->buf);
        *b = STRBUF_INIT;
        return 0;
}

const char *strbuf_get(const StrBuf *b) {
        return b->buf ?: "";
}

void strbuf_done(StrBuf *b) {
        free(b->buf);
        *b = STRBUF_INIT;
}
