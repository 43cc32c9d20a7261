/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xv-macro.h"

/* Allocation helpers. They never abort: a NULL return is -ENOMEM for the caller. */

#define new(t, n) ((t *) malloc_multiply(sizeof(t), (n)))
#define new0(t, n) ((t *) calloc((n) ?: 1, sizeof(t)))

static inline void *malloc_multiply(size_t size, size_t n) {
        if (size > 0 && n > SIZE_MAX / size)
                return NULL;
        return malloc(size * n ?: 1);
}

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

/* Grows *p (an array of *allocated elements of @size bytes) so that it can hold @need elements.
 * Returns 0 or -ENOMEM; the array is untouched on failure. */
int greedy_realloc(void **p, size_t *allocated, size_t need, size_t size);

#define GREEDY_REALLOC(array, allocated, need) \
        greedy_realloc((void **) &(array), &(allocated), (need), sizeof((array)[0]))

/* strdup() that maps NULL to NULL and tells OOM apart: returns 0 or -ENOMEM. */
int strdup_or_null(const char *s, char **ret);

/* Replaces *p with a copy of s (NULL allowed). Returns 0 or -ENOMEM; *p is untouched on failure. */
int free_and_strdup(char **p, const char *s);

/* NULL-terminated string vectors. */
char **strv_free(char **l);
DEFINE_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)
size_t strv_length(char * const *l);
int strv_push(char ***l, char *value);           /* takes ownership of value, even on failure */
int strv_extend(char ***l, const char *value);   /* copies value */
bool strv_contains(char * const *l, const char *s);

/* NOLINTNEXTLINE(bugprone-macro-parentheses): s is the name of the loop variable */
#define STRV_FOREACH(s, l) for (char * const *s = (l); s && *s; s++)
