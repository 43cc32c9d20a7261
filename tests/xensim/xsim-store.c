/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xsim-store.h"
#include "xv-alloc.h"
#include "xv-parse-util.h"

static XsimNode *node_free(XsimNode *n) {
        if (!n)
                return NULL;
        for (size_t i = 0; i < n->n_children; i++)
                node_free(n->children[i]);
        free(n->children);
        free(n->index);
        free(n->perms);
        free(n->value);
        free(n->name);
        return mfree(n);
}
DEFINE_CLEANUP_FUNC(XsimNode *, node_free);

/* FNV-1a */
static uint32_t name_hash(const char *name, size_t len) {
        uint32_t h = 2166136261u;

        for (size_t i = 0; i < len; i++)
                h = (h ^ (uint8_t) name[i]) * 16777619u;
        return h;
}

static void index_insert(XsimNode **index, size_t size, XsimNode *c) {
        size_t i = c->hash & (size - 1);

        while (index[i])
                i = (i + 1) & (size - 1);
        index[i] = c;
}

/* (Re)builds the index of @n's children with room for @need of them at most half full. */
static int index_rebuild(XsimNode *n, size_t need) {
        XsimNode **index;
        size_t size = 2 * XSIM_NODE_INDEX_MIN;

        while (size < 2 * need)
                size *= 2;
        index = new0(XsimNode *, size);
        if (!index)
                return -ENOMEM;
        for (size_t i = 0; i < n->n_children; i++)
                index_insert(index, size, n->children[i]);
        free(n->index);
        n->index = index;
        n->index_size = size;
        return 0;
}

/* Before @n gets one more child: the index follows the number of children. */
static int index_grow(XsimNode *n) {
        size_t need = n->n_children + 1;

        if (need < XSIM_NODE_INDEX_MIN)
                return 0;
        if (n->index && need * 2 <= n->index_size)
                return 0;
        return index_rebuild(n, need);
}

/* Takes @c out of @n's index: backward-shift deletion, so that no probe chain breaks. */
static void index_remove(XsimNode *n, const XsimNode *c) {
        size_t mask = n->index_size - 1, i, j;

        if (!n->index)
                return;
        for (i = c->hash & mask; n->index[i] != c; i = (i + 1) & mask)
                assert(n->index[i]);
        for (j = (i + 1) & mask; n->index[j]; j = (j + 1) & mask) {
                size_t home = n->index[j]->hash & mask;

                /* The entry at j may move to the hole at i when its home slot is not in (i, j]. */
                if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
                        n->index[i] = n->index[j];
                        i = j;
                }
        }
        n->index[i] = NULL;
}

static int node_new(const char *name, size_t name_len, const XsimPerm *perms, size_t n_perms,
                    XsimNode **ret) {
        _cleanup_(node_freep) XsimNode *n = NULL;

        n = new0(XsimNode, 1);
        if (!n)
                return -ENOMEM;
        n->name = strndup(name, name_len);
        n->hash = name_hash(name, name_len);
        n->value = strdup("");
        n->perms = new(XsimPerm, MAX(n_perms, (size_t) 1));
        if (!n->name || !n->value || !n->perms)
                return -ENOMEM;
        memcpy(n->perms, perms, n_perms * sizeof(XsimPerm));
        n->n_perms = n_perms;
        *ret = TAKE_PTR(n);
        return 0;
}

static uint64_t store_next_generation(XsimStore *s) {
        return ++s->generation;
}

int xsim_store_new(XsimStore **ret) {
        _cleanup_(xsim_store_freep) XsimStore *s = NULL;
        /* xenstored's root belongs to dom0 and is unreadable for everybody else. */
        static const XsimPerm root_perms[] = { { 0, 'n' } };
        int r;

        s = new0(XsimStore, 1);
        if (!s)
                return -ENOMEM;
        r = node_new("", 0, root_perms, ELEMENTSOF(root_perms), &s->root);
        if (r < 0)
                return r;
        s->n_nodes = 1;
        s->root->generation = store_next_generation(s);
        *ret = TAKE_PTR(s);
        return 0;
}

XsimStore *xsim_store_free(XsimStore *s) {
        if (!s)
                return NULL;
        node_free(s->root);
        return mfree(s);
}

static int node_clone(const XsimNode *n, XsimNode *parent, XsimNode **ret) {
        _cleanup_(node_freep) XsimNode *c = NULL;
        int r;

        r = node_new(n->name, strlen(n->name), n->perms, n->n_perms, &c);
        if (r < 0)
                return r;
        free(c->value);
        c->value = malloc(n->value_len + 1);
        if (!c->value)
                return -ENOMEM;
        memcpy(c->value, n->value, n->value_len + 1);
        c->value_len = n->value_len;
        c->generation = n->generation;
        c->base_generation = n->generation;
        c->parent = parent;
        if (n->n_children > 0) {
                c->children = new0(XsimNode *, n->n_children);
                if (!c->children)
                        return -ENOMEM;
                c->allocated_children = n->n_children;
                for (size_t i = 0; i < n->n_children; i++) {
                        r = node_clone(n->children[i], c, &c->children[i]);
                        if (r < 0)
                                return r;
                        c->n_children++;
                }
                if (n->index) {
                        r = index_rebuild(c, c->n_children);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int xsim_store_clone(const XsimStore *s, XsimStore **ret) {
        _cleanup_(xsim_store_freep) XsimStore *c = NULL;
        int r;

        assert(s);

        c = new0(XsimStore, 1);
        if (!c)
                return -ENOMEM;
        r = node_clone(s->root, NULL, &c->root);
        if (r < 0)
                return r;
        c->n_nodes = s->n_nodes;
        c->generation = s->generation;
        *ret = TAKE_PTR(c);
        return 0;
}

static bool path_char_valid(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '@';
}

bool xsim_store_path_valid(const char *path) {
        size_t len;

        if (!path || path[0] != '/')
                return false;
        len = strlen(path);
        if (len > XSIM_STORE_PATH_MAX)
                return false;
        if (len == 1)
                return true;
        if (path[len - 1] == '/')
                return false;
        for (const char *p = path + 1; *p; p++) {
                if (*p == '/') {
                        if (p[-1] == '/')
                                return false;
                } else if (!path_char_valid(*p))
                        return false;
        }
        return true;
}

static XsimNode *node_child(const XsimNode *n, const char *name, size_t name_len) {
        if (n->index) {
                size_t mask = n->index_size - 1;

                for (size_t i = name_hash(name, name_len) & mask; n->index[i]; i = (i + 1) & mask)
                        if (strlen(n->index[i]->name) == name_len &&
                            memcmp(n->index[i]->name, name, name_len) == 0)
                                return n->index[i];
                return NULL;
        }
        for (size_t i = 0; i < n->n_children; i++)
                if (strlen(n->children[i]->name) == name_len &&
                    memcmp(n->children[i]->name, name, name_len) == 0)
                        return n->children[i];
        return NULL;
}

/* Walks @path as far as it exists. Returns the deepest existing node and, in *ret_rest, the part
 * of the path below it that is missing ("" when the whole path exists). */
static XsimNode *store_walk(XsimStore *s, const char *path, const char **ret_rest) {
        XsimNode *n = s->root;
        const char *p = path;

        assert(path[0] == '/');
        while (*p == '/')
                p++;
        while (*p) {
                size_t l = strcspn(p, "/");
                XsimNode *c = node_child(n, p, l);

                if (!c)
                        break;
                n = c;
                p += l;
                while (*p == '/')
                        p++;
        }
        *ret_rest = p;
        return n;
}

XsimNode *xsim_store_lookup(XsimStore *s, const char *path) {
        const char *rest;
        XsimNode *n;

        assert(s);
        if (!xsim_store_path_valid(path))
                return NULL;
        n = store_walk(s, path, &rest);
        return *rest ? NULL : n;
}

uint64_t xsim_store_generation(XsimStore *s, const char *path) {
        XsimNode *n = xsim_store_lookup(s, path);

        return n ? n->generation : 0;
}

static size_t count_components(const char *rest) {
        size_t n = 0;

        for (const char *p = rest; *p; p += strcspn(p, "/"), p += *p == '/')
                n++;
        return n;
}

/* Creates the missing part of @path below the deepest existing node; returns the target node. */
static int store_create(XsimStore *s, const char *path, XsimNode **ret) {
        const char *rest;
        XsimNode *n;
        size_t missing;
        int r;

        n = store_walk(s, path, &rest);
        missing = count_components(rest);
        if (missing == 0) {
                *ret = n;
                return 0;
        }
        if (missing > XSIM_STORE_NODES_MAX - MIN(s->n_nodes, (size_t) XSIM_STORE_NODES_MAX))
                return -ENOSPC;

        while (*rest) {
                size_t l = strcspn(rest, "/");
                XsimNode *c;

                /* A new node inherits its parent's permissions, as in xenstored for dom0 writes. */
                r = node_new(rest, l, n->perms, n->n_perms, &c);
                if (r < 0)
                        return r;
                if (GREEDY_REALLOC(n->children, n->allocated_children, n->n_children + 1) < 0 ||
                    index_grow(n) < 0) {
                        node_free(c);
                        return -ENOMEM;
                }
                n->children[n->n_children++] = c;
                if (n->index)
                        index_insert(n->index, n->index_size, c);
                c->parent = n;
                n->generation = store_next_generation(s);
                c->generation = store_next_generation(s);
                s->n_nodes++;
                n = c;
                rest += l;
                while (*rest == '/')
                        rest++;
        }
        *ret = n;
        return 0;
}

int xsim_store_write(XsimStore *s, const char *path, const void *value, size_t len) {
        _cleanup_free_ char *copy = NULL;
        XsimNode *n;
        int r;

        assert(s);
        assert(value || len == 0);

        if (!xsim_store_path_valid(path))
                return -EINVAL;
        if (len > XSIM_STORE_VALUE_MAX)
                return -E2BIG;

        /* Allocate first, so that a failure leaves no half-created parents behind a missing value. */
        copy = malloc(len + 1);
        if (!copy)
                return -ENOMEM;
        if (len > 0)
                memcpy(copy, value, len);
        copy[len] = 0;

        r = store_create(s, path, &n);
        if (r < 0)
                return r;
        free(n->value);
        n->value = TAKE_PTR(copy);
        n->value_len = len;
        n->generation = store_next_generation(s);
        return 0;
}

int xsim_store_mkdir(XsimStore *s, const char *path) {
        XsimNode *n;

        assert(s);
        if (!xsim_store_path_valid(path))
                return -EINVAL;
        return store_create(s, path, &n);
}

static size_t node_count(const XsimNode *n) {
        size_t c = 1;

        for (size_t i = 0; i < n->n_children; i++)
                c += node_count(n->children[i]);
        return c;
}

int xsim_store_rm(XsimStore *s, const char *path) {
        XsimNode *n, *parent;
        size_t i;

        assert(s);
        if (!xsim_store_path_valid(path))
                return -EINVAL;
        n = xsim_store_lookup(s, path);
        if (!n)
                return -ENOENT;
        parent = n->parent;
        if (!parent)
                return -EINVAL;         /* xenstored refuses to remove the root */

        for (i = 0; i < parent->n_children; i++)
                if (parent->children[i] == n)
                        break;
        assert(i < parent->n_children);
        index_remove(parent, n);
        memmove(parent->children + i, parent->children + i + 1,
                (parent->n_children - i - 1) * sizeof(XsimNode *));
        parent->n_children--;
        parent->generation = store_next_generation(s);
        s->n_nodes -= node_count(n);
        node_free(n);
        return 0;
}

int xsim_store_set_perms(XsimStore *s, const char *path, const XsimPerm *perms, size_t n) {
        XsimPerm *copy;
        XsimNode *node;

        assert(s);
        if (!xsim_store_path_valid(path))
                return -EINVAL;
        if (n == 0 || n > XSIM_STORE_PERMS_MAX)
                return -EINVAL;
        node = xsim_store_lookup(s, path);
        if (!node)
                return -ENOENT;
        copy = new(XsimPerm, n);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, perms, n * sizeof(XsimPerm));
        free(node->perms);
        node->perms = copy;
        node->n_perms = n;
        node->generation = store_next_generation(s);
        return 0;
}

int xsim_perm_parse(const char *s, XsimPerm *ret) {
        unsigned domid;
        int r;

        assert(ret);
        if (!s || !strchr("nrwb", s[0]) || s[0] == 0)
                return -EINVAL;
        r = safe_atou(s + 1, &domid);
        if (r < 0)
                return -EINVAL;
        if (domid > UINT16_MAX)
                return -EINVAL;         /* domids are 16 bits, DOMID_SELF and friends included */
        *ret = (XsimPerm) { .domid = domid, .access = s[0] };
        return 0;
}

char *xsim_perm_format(const XsimPerm *p, char buf[static XSIM_PERM_STRING_MAX]) {
        (void) snprintf(buf, XSIM_PERM_STRING_MAX, "%c%u", p->access, p->domid);
        return buf;
}
