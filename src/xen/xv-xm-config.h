/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "xv-error.h"
#include "xv-macro.h"

/*
 * XmConfig: the Python-like "key = value" files of /etc/xen (xm's domain configs). Values are
 * strings (either quote style, backslash escapes), integers, or flat lists of strings and
 * integers. The parsed entries are kept in file order, so that a rewrite preserves keys this
 * program does not understand: setters replace a value in place and append unknown keys.
 * Whole-line comments and blank lines are kept too, verbatim, as entries without a key; comments
 * after a value or inside a list, and the layout of values, are not.
 */

/* Hard limits, checked before anything is allocated for them. */
#define XM_CONFIG_SIZE_MAX      65536   /* bytes of text, as libvirt's MAX_CONFIG_FILE_SIZE */
#define XM_CONFIG_ENTRIES_MAX   1024    /* assignments per file */
#define XM_LIST_MAX             1024    /* items per list */
#define XM_KEY_MAX              256     /* bytes per key */

typedef enum XmValueType {
        XM_VALUE_STRING,
        XM_VALUE_INT,
        XM_VALUE_LIST,
        _XM_VALUE_TYPE_MAX,
        _XM_VALUE_TYPE_INVALID = -EINVAL,
} XmValueType;

typedef struct XmValue XmValue;
struct XmValue {
        XmValueType type;
        char *str;              /* XM_VALUE_STRING */
        long long num;          /* XM_VALUE_INT */
        XmValue *items;         /* XM_VALUE_LIST: strings and integers only */
        size_t n_items;
};

typedef struct XmEntry {
        char *key;              /* NULL for a run of comment and blank lines */
        XmValue value;
        char *comment;          /* key == NULL: the lines verbatim, each ending in a newline */
} XmEntry;

typedef struct XmConfig {
        XmEntry *entries;
        size_t n_entries;       /* keys and comment runs */
        size_t n_keys;          /* keys alone: at most XM_CONFIG_ENTRIES_MAX */
        size_t allocated;
} XmConfig;

int xm_config_new(XmConfig **ret);
XmConfig *xm_config_free(XmConfig *c);
DEFINE_CLEANUP_FUNC(XmConfig *, xm_config_free);

/* Parses @text (NUL-terminated, at most XM_CONFIG_SIZE_MAX bytes). Syntax errors (code
 * XVP_ERR_CONF_SYNTAX, -EBADMSG) name the line, e.g. "Syntax error at line 3: expected '='
 * after 'memory'". A key assigned twice keeps its first position and its last value, as
 * Python would evaluate it. */
int xm_config_parse(const char *text, XmConfig **ret, XvError *error);

/* Writes one "key = value" line per entry, in entry order, with double-quoted strings that
 * Python's ast.literal_eval() reads back to the same value. */
int xm_config_format(const XmConfig *c, char **ret, XvError *error);

/* Lookups. get() returns NULL when the key is absent. The typed getters return -ENOENT when the
 * key is absent and -EBADMSG (with @error set) when its value has the wrong type; get_int()
 * also accepts a string holding a decimal integer, as libvirt did. Borrowed results. */
const XmValue *xm_config_get(const XmConfig *c, const char *key);
int xm_config_get_string(const XmConfig *c, const char *key, const char **ret, XvError *error);
int xm_config_get_int(const XmConfig *c, const char *key, long long *ret, XvError *error);
int xm_config_get_list(const XmConfig *c, const char *key, const XmValue **ret, XvError *error);

/* Setters: replace the value of an existing key in place, or append the key. */
int xm_config_set_string(XmConfig *c, const char *key, const char *value);
int xm_config_set_int(XmConfig *c, const char *key, long long value);
/* Takes ownership of the strings in @items (a NULL-terminated vector), even on failure. */
int xm_config_set_list_strv(XmConfig *c, const char *key, char **items);
/* Deep-copies @value (a string, an integer or a list of those) under @key. */
int xm_config_set_value(XmConfig *c, const char *key, const XmValue *value);
/* Removes a key; returns 1 if it was present, 0 if not. */
int xm_config_remove(XmConfig *c, const char *key);

bool xm_config_has(const XmConfig *c, const char *key);

void xm_value_done(XmValue *v);
