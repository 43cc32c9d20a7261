/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "xv-macro.h"

/* A growing string buffer. Appends record the first allocation failure and become no-ops, so
 * a formatter can append freely and check once at the end with strbuf_steal(). */
typedef struct StrBuf {
        char *buf;
        size_t len;
        size_t allocated;
        size_t limit;           /* 0 = no limit; past it the buffer fails with -E2BIG */
        int error;              /* first failure (negative errno), sticky */
} StrBuf;

#define STRBUF_INIT ((StrBuf) {})

void strbuf_append(StrBuf *b, const char *s);
void strbuf_appendn(StrBuf *b, const char *s, size_t n);
void strbuf_appendc(StrBuf *b, char c);
void strbuf_appendf(StrBuf *b, const char *format, ...) _printf_(2, 3);
/* Appends @n spaces: the indentation helper of the formatters. */
void strbuf_indent(StrBuf *b, unsigned n);
/* Appends @s with the five XML special characters escaped, for attribute values and text. */
void strbuf_append_xml_escaped(StrBuf *b, const char *s);

/* Hands the string out (never NULL on success, "" for an empty buffer) and resets the buffer.
 * Returns 0, or the first error the buffer met. */
int strbuf_steal(StrBuf *b, char **ret);
const char *strbuf_get(const StrBuf *b);        /* borrowed; "" when empty */
void strbuf_done(StrBuf *b);
