/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>

#include "xv-alloc.h"

int greedy_realloc(void **p, size_t *allocated, size_t need, size_t size) {
        size_t n;
        void *q;

        if (need <= *allocated)
                return 0;

        /* Double, but never less than 4 elements and never past what size_t can count. */
        n = MAX(need, *allocated > SIZE_MAX / 2 ? need : *allocated * 2);
        n = MAX(n, (size_t) 4);
        if (size > 0 && n > SIZE_MAX / size)
                return -ENOMEM;

        q = realloc(*p, n * size);
        if (!q)
                return -ENOMEM;

        *p = q;
        *allocated = n;
        return 0;
}

int strdup_or_null(const char *s, char **ret) {
        char *c = NULL;

        if (s) {
                c = strdup(s);
                if (!c)
                        return -ENOMEM;
        }
        *ret = c;
        return 0;
}

int free_and_strdup(char **p, const char *s) {
        char *c;
        int r;

        r = strdup_or_null(s, &c);
        if (r < 0)
                return r;
        free(*p);
        *p = c;
        return 0;
}

char **strv_free(char **l) {
        for (char **i = l; i && *i; i++)
                free(*i);
        free(l);
        return NULL;
}

size_t strv_length(char * const *l) {
        size_t n = 0;

        for (; l && *l; l++)
                n++;
        return n;
}

int strv_push(char ***l, char *value) {
        size_t n = strv_length(*l);
        char **c;

        if (n >= SIZE_MAX / sizeof(char *) - 2) {
                free(value);
                return -ENOMEM;
        }
        c = realloc(*l, (n + 2) * sizeof(char *));
        if (!c) {
                free(value);
                return -ENOMEM;
        }
        c[n] = value;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *value) {
        char *v = strdup(value);

        if (!v)
                return -ENOMEM;
        return strv_push(l, v);
}

bool strv_contains(char * const *l, const char *s) {
        STRV_FOREACH(i, l)
                if (streq(*i, s))
                        return true;
        return false;
}
