/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The xenstore tree of xensim: nodes with a binary value, ordered children, a permission list
 * and a generation counter. The wire protocol (xsim-xenstore.c) works on one main store and on
 * one clone per open transaction; a commit checks the generations the transaction saw against
 * the main store. Paths given to these functions are absolute and already validated with
 * xsim_store_path_valid(); nothing here knows about connections or watches.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xv-macro.h"

/* Nodes in one store (cxenstored's default quota is 1000 per domain; xensim holds many domains:
 * a running guest takes about 70, and make bench runs 5,000 of them at N = 10,000). */
#define XSIM_STORE_NODES_MAX    (512 * 1024)
#define XSIM_STORE_PERMS_MAX    32      /* permission entries per node */
#define XSIM_STORE_PATH_MAX     3072    /* XENSTORE_ABS_PATH_MAX */
#define XSIM_STORE_VALUE_MAX    4096    /* XENSTORE_PAYLOAD_MAX bounds any value a client can write */
#define XSIM_NODE_INDEX_MIN     16      /* children from which a node indexes them by name */

/* One "<letter><domid>" entry: 'n' none, 'r' read, 'w' write, 'b' both. The first entry names
 * the owner and gives the access of every domain not listed. */
typedef struct XsimPerm {
        unsigned domid;
        char access;
} XsimPerm;

#define XSIM_PERM_STRING_MAX 12         /* letter, up to 10 digits, NUL */

typedef struct XsimNode {
        char *name;                     /* last path component; "" for the root */
        char *value;                    /* value_len bytes plus a NUL that is not part of the value */
        size_t value_len;
        XsimPerm *perms;
        size_t n_perms;
        struct XsimNode **children;     /* in creation order, as xenstored lists them */
        size_t n_children;
        size_t allocated_children;
        /* The children by name (open addressing, linear probing), once there are
         * XSIM_NODE_INDEX_MIN of them: /local/domain holds one child per domain, and a linear
         * search made every path lookup O(domains). */
        struct XsimNode **index;
        size_t index_size;              /* a power of two, or 0 without an index */
        uint32_t hash;                  /* of name */
        struct XsimNode *parent;
        uint64_t generation;            /* changes whenever value, perms or the child list change */
        uint64_t base_generation;       /* in a clone: the original's generation; 0 for nodes created
                                         * in the clone and in a store that is not a clone */
} XsimNode;

typedef struct XsimStore {
        XsimNode *root;
        size_t n_nodes;
        uint64_t generation;            /* last generation handed out */
} XsimStore;

int xsim_store_new(XsimStore **ret);
XsimStore *xsim_store_free(XsimStore *s);
DEFINE_CLEANUP_FUNC(XsimStore *, xsim_store_free);

/* A deep copy that keeps every node's generation, for a transaction's private view. */
int xsim_store_clone(const XsimStore *s, XsimStore **ret);

/* Whether @path is a valid absolute node path: "/" or "/"-separated components of the characters
 * xenstored accepts (alphanumerics and "-_@"), no empty component, at most XSIM_STORE_PATH_MAX. */
bool xsim_store_path_valid(const char *path);

/* The node at @path, or NULL. */
XsimNode *xsim_store_lookup(XsimStore *s, const char *path);
/* The generation of the node at @path, 0 when it does not exist. */
uint64_t xsim_store_generation(XsimStore *s, const char *path);

/* Sets the value, creating the node and missing parents (which inherit their parent's permissions)
 * with empty values. -ENOSPC past XSIM_STORE_NODES_MAX, -E2BIG for a value past XSIM_STORE_VALUE_MAX. */
int xsim_store_write(XsimStore *s, const char *path, const void *value, size_t len);
/* Creates the node and missing parents; an existing node is left alone (returns 0). */
int xsim_store_mkdir(XsimStore *s, const char *path);
/* Removes the node and everything below it. -ENOENT when absent, -EINVAL for the root. */
int xsim_store_rm(XsimStore *s, const char *path);
/* Replaces the permission list; -ENOENT when absent, -EINVAL for an empty or too long list. */
int xsim_store_set_perms(XsimStore *s, const char *path, const XsimPerm *perms, size_t n);

/* "b0" <-> { 0, 'b' }. Parsing returns -EINVAL for anything else. */
int xsim_perm_parse(const char *s, XsimPerm *ret);
char *xsim_perm_format(const XsimPerm *p, char buf[static XSIM_PERM_STRING_MAX]);
