/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xv-error.h"
#include "xv-macro.h"

/*
 * S-expressions as XenD speaks them (the SXP of xen/xend/sxp.py): a list is "(" items ")", an
 * item is a list or an atom, an atom is a bare word or a quoted string ('...' or "...") in which
 * a backslash escapes the next character (\n, \t, \r, \a, \b, \f, \v and \ooo octal have their
 * C meaning). Whitespace separates items.
 *
 * The printer quotes an atom exactly when it has to: when it is empty or holds anything but
 * letters, digits and "-_./:,@+=%~*". Quoted atoms are single-quoted with backslash escapes,
 * which xend's Python parser reads back to the same bytes. libvirt's printer only quoted
 * values with spaces and never escaped, so a name with a quote could inject keys; the same
 * class of flaw became XSA-198 in pygrub.
 */

#define SEXPR_DEPTH_MAX 32                      /* nesting of lists */
#define SEXPR_SIZE_MAX (1024 * 1024)            /* bytes of text accepted by the parser */
#define SEXPR_PATH_MAX 256                      /* bytes of a lookup path like "domain/image/hvm" */

typedef enum SexprType {
        SEXPR_ATOM,
        SEXPR_LIST,
        _SEXPR_TYPE_MAX,
        _SEXPR_TYPE_INVALID = -EINVAL,
} SexprType;

typedef struct Sexpr Sexpr;
struct Sexpr {
        SexprType type;
        char *value;            /* atom: the unescaped text; NULL for a list */
        Sexpr **items;          /* list: the elements, head first */
        size_t n_items;
        size_t allocated;
        bool failed;            /* a builder call on this list ran out of memory (sticky) */
};

Sexpr *sexpr_free(Sexpr *s);
DEFINE_CLEANUP_FUNC(Sexpr *, sexpr_free);

/* Parses exactly @size bytes of @text (no NUL inside). Errors name the byte offset, e.g.
 * "Unterminated string at byte 17". Accepts what libvirt's reader accepted and XenD's
 * replies need: see the comment at sexpr_parse() for the two tolerated imbalances. */
int sexpr_parse(const char *text, size_t size, Sexpr **ret, XvError *error);
static inline int sexpr_parse_string(const char *text, Sexpr **ret, XvError *error) {
        return sexpr_parse(text, strlen(text), ret, error);
}

/* Prints the expression on one line, items separated by one space. Returns -ENOMEM also when a
 * builder call below @s failed earlier. */
int sexpr_format(const Sexpr *s, char **ret);

/* Whether @value can be printed bare; and the quoting/escaping the printer applies. */
bool sexpr_atom_is_bare(const char *value);

/* Accessors. */
static inline bool sexpr_is_list(const Sexpr *s) {
        return s && s->type == SEXPR_LIST;
}
static inline bool sexpr_is_atom(const Sexpr *s) {
        return s && s->type == SEXPR_ATOM;
}
/* The atom's text, or NULL for a list or NULL. */
const char *sexpr_atom(const Sexpr *s);
/* The head of a list, when it is an atom: "vbd" for (vbd (dev xvda) ...); NULL otherwise. */
const char *sexpr_head(const Sexpr *s);
/* The i-th item of a list (0 is the head), or NULL past the end. */
const Sexpr *sexpr_item(const Sexpr *s, size_t i);
size_t sexpr_n_items(const Sexpr *s);

/* The items of a list after its head, and how many there are (0 for an atom or NULL). */
const Sexpr * const *sexpr_children(const Sexpr *s);
size_t sexpr_n_children(const Sexpr *s);

/* Iterates over the items of a list after its head: for (image (hvm ...)) the (hvm ...).
 * "break" and "continue" work as in any for loop. */
/* NOLINTBEGIN(bugprone-macro-parentheses): c is the name of the loop variable */
#define SEXPR_FOREACH_CHILD(c, s)                                                       \
        for (const Sexpr * const *_p_##c = sexpr_children(s),                           \
                         * const *_e_##c = _p_##c + sexpr_n_children(s), *c = NULL;     \
             _p_##c < _e_##c && (c = *_p_##c, true);                                    \
             _p_##c++)
/* NOLINTEND(bugprone-macro-parentheses) */

/* Path lookup in the style of XenD's documentation: the first component names the head of @s
 * itself, every further one the first child list with that head. "domain/image/hvm" on
 * (domain ... (image (hvm ...))) gives the (hvm ...) list; NULL when absent. A path ending in
 * "/" or with empty components is invalid and gives NULL. */
const Sexpr *sexpr_lookup(const Sexpr *s, const char *path);
/* The value of a (key value) pair found by sexpr_lookup(): its second item when that is an
 * atom; NULL when absent, empty "(key)" or not an atom. */
const char *sexpr_node(const Sexpr *s, const char *path);
bool sexpr_has(const Sexpr *s, const char *path);

/* Typed values: 0 and *ret set on success; -ENOENT when the key is absent (or has no value);
 * -EINVAL (-ERANGE) when the value is not a number of that type (out of range). Never "0 means
 * error". */
int sexpr_get_string(const Sexpr *s, const char *path, const char **ret);
int sexpr_get_u64(const Sexpr *s, const char *path, uint64_t *ret);
int sexpr_get_i64(const Sexpr *s, const char *path, int64_t *ret);
int sexpr_get_int(const Sexpr *s, const char *path, int *ret);
int sexpr_get_double(const Sexpr *s, const char *path, double *ret);
/* 0/1 as XenD writes booleans; other integers count as true (like libvirt's reader). */
int sexpr_get_bool(const Sexpr *s, const char *path, bool *ret);

/*
 * Builders. Like StrBuf, they record an allocation failure in the list they were called on
 * (Sexpr.failed) and then become no-ops on a NULL parent, so a formatter builds freely and
 * checks once with sexpr_check() or sexpr_format(). They return the new node (borrowed,
 * owned by the parent) or NULL on OOM.
 */
int sexpr_new_list(const char *head, Sexpr **ret);              /* (head) or () when NULL */
Sexpr *sexpr_add_list(Sexpr *parent, const char *head);         /* appends (head) */
Sexpr *sexpr_add_atom(Sexpr *parent, const char *value);        /* appends an atom */
Sexpr *sexpr_add_pair(Sexpr *parent, const char *key, const char *value);      /* (key value); (key) for NULL */
Sexpr *sexpr_add_pairf(Sexpr *parent, const char *key, const char *format, ...) _printf_(3, 4);
Sexpr *sexpr_add_pair_u64(Sexpr *parent, const char *key, uint64_t value);
Sexpr *sexpr_add_pair_i64(Sexpr *parent, const char *key, int64_t value);
/* Appends @child (taking ownership, also on failure). */
Sexpr *sexpr_add(Sexpr *parent, Sexpr *child);
/* -ENOMEM when any builder call in the tree failed, else 0. */
int sexpr_check(const Sexpr *s);
