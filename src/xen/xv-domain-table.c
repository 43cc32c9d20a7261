/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "xv-alloc.h"
#include "xv-domain-table.h"

#define DOMAIN_TABLE_BUCKETS_MIN        64u

struct DomainTable {
        DomainTableEntry **entries;     /* dense, for iteration */
        size_t n, allocated;
        DomainTableEntry **by_id, **by_name, **by_uuid;
        size_t n_buckets;               /* a power of two, >= n */
        uint64_t seed;
};

static uint64_t mix64(uint64_t x) {
        /* splitmix64's finalizer */
        x ^= x >> 30;
        x *= UINT64_C(0xbf58476d1ce4e5b9);
        x ^= x >> 27;
        x *= UINT64_C(0x94d049bb133111eb);
        x ^= x >> 31;
        return x;
}

static size_t hash_id(const DomainTable *t, int id) {
        return (size_t) (mix64((uint64_t) (unsigned) id ^ t->seed) & (t->n_buckets - 1));
}

static size_t hash_name(const DomainTable *t, const char *s) {
        uint64_t h = UINT64_C(0xcbf29ce484222325) ^ t->seed;    /* FNV-1a, seeded, then mixed */

        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= UINT64_C(0x100000001b3);
        }
        return (size_t) (mix64(h) & (t->n_buckets - 1));
}

static size_t hash_uuid(const DomainTable *t, const XvUuid *u) {
        uint64_t a, b;

        memcpy(&a, u->bytes, 8);
        memcpy(&b, u->bytes + 8, 8);
        return (size_t) (mix64(a ^ mix64(b ^ t->seed)) & (t->n_buckets - 1));
}

static void link_entry(DomainTable *t, DomainTableEntry *e) {
        size_t b = hash_id(t, e->id);

        e->next_id = t->by_id[b];
        t->by_id[b] = e;
        e->next_name = NULL;
        if (e->name) {
                b = hash_name(t, e->name);
                e->next_name = t->by_name[b];
                t->by_name[b] = e;
        }
        e->next_uuid = NULL;
        if (e->has_uuid) {
                b = hash_uuid(t, &e->uuid);
                e->next_uuid = t->by_uuid[b];
                t->by_uuid[b] = e;
        }
}

static void unlink_entry(DomainTable *t, DomainTableEntry *e) {
        DomainTableEntry **p;

        for (p = &t->by_id[hash_id(t, e->id)]; *p; p = &(*p)->next_id)
                if (*p == e) {
                        *p = e->next_id;
                        break;
                }
        if (e->name)
                for (p = &t->by_name[hash_name(t, e->name)]; *p; p = &(*p)->next_name)
                        if (*p == e) {
                                *p = e->next_name;
                                break;
                        }
        if (e->has_uuid)
                for (p = &t->by_uuid[hash_uuid(t, &e->uuid)]; *p; p = &(*p)->next_uuid)
                        if (*p == e) {
                                *p = e->next_uuid;
                                break;
                        }
}

static int rehash(DomainTable *t, size_t n_buckets) {
        DomainTableEntry **id = new0(DomainTableEntry *, n_buckets), **name = new0(DomainTableEntry *, n_buckets),
                **uuid = new0(DomainTableEntry *, n_buckets);

        if (!id || !name || !uuid) {
                free(id);
                free(name);
                free(uuid);
                return -ENOMEM;
        }
        free(t->by_id);
        free(t->by_name);
        free(t->by_uuid);
        t->by_id = id;
        t->by_name = name;
        t->by_uuid = uuid;
        t->n_buckets = n_buckets;
        /* Oldest first, so that the last put stays in front of its chains. */
        for (size_t i = 0; i < t->n; i++)
                link_entry(t, t->entries[i]);
        return 0;
}

int domain_table_new(DomainTable **ret) {
        DomainTable *t;

        t = new0(DomainTable, 1);
        if (!t)
                return -ENOMEM;
        if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != (ssize_t) sizeof(t->seed))
                t->seed = (uint64_t) time(NULL) ^ (uint64_t) (uintptr_t) t;
        if (rehash(t, DOMAIN_TABLE_BUCKETS_MIN) < 0) {
                free(t);
                return -ENOMEM;
        }
        *ret = t;
        return 0;
}

void domain_table_clear(DomainTable *t) {
        if (!t)
                return;
        for (size_t i = 0; i < t->n; i++) {
                free(t->entries[i]->name);
                free(t->entries[i]);
        }
        t->n = 0;
        memset(t->by_id, 0, t->n_buckets * sizeof(*t->by_id));
        memset(t->by_name, 0, t->n_buckets * sizeof(*t->by_name));
        memset(t->by_uuid, 0, t->n_buckets * sizeof(*t->by_uuid));
}

DomainTable *domain_table_free(DomainTable *t) {
        if (!t)
                return NULL;
        domain_table_clear(t);
        free(t->entries);
        free(t->by_id);
        free(t->by_name);
        free(t->by_uuid);
        return mfree(t);
}

size_t domain_table_size(const DomainTable *t) {
        return t ? t->n : 0;
}

const DomainTableEntry *domain_table_at(const DomainTable *t, size_t i) {
        return t && i < t->n ? t->entries[i] : NULL;
}

static DomainTableEntry *find_id(const DomainTable *t, int id) {
        for (DomainTableEntry *e = t->by_id[hash_id(t, id)]; e; e = e->next_id)
                if (e->id == id)
                        return e;
        return NULL;
}

const DomainTableEntry *domain_table_find_id(const DomainTable *t, int id) {
        return t && id >= 0 ? find_id(t, id) : NULL;
}

const DomainTableEntry *domain_table_find_name(const DomainTable *t, const char *name) {
        if (!t || !name)
                return NULL;
        for (DomainTableEntry *e = t->by_name[hash_name(t, name)]; e; e = e->next_name)
                if (streq(e->name, name))
                        return e;
        return NULL;
}

const DomainTableEntry *domain_table_find_uuid(const DomainTable *t, const XvUuid *uuid) {
        if (!t || !uuid)
                return NULL;
        for (DomainTableEntry *e = t->by_uuid[hash_uuid(t, uuid)]; e; e = e->next_uuid)
                if (uuid_equal(&e->uuid, uuid))
                        return e;
        return NULL;
}

bool domain_table_remove(DomainTable *t, int id) {
        DomainTableEntry *e = t && id >= 0 ? find_id(t, id) : NULL;

        if (!e)
                return false;
        unlink_entry(t, e);
        t->entries[e->pos] = t->entries[t->n - 1];
        t->entries[e->pos]->pos = e->pos;
        t->n--;
        free(e->name);
        free(e);
        return true;
}

int domain_table_put(DomainTable *t, int id, const char *name, const XvUuid *uuid) {
        _cleanup_free_ char *copy = NULL;
        DomainTableEntry *e;
        int r;

        if (!t || id < 0)
                return -EINVAL;
        r = strdup_or_null(name, &copy);
        if (r < 0)
                return r;
        e = find_id(t, id);
        if (e) {
                /* Re-linked so that the new name and UUID lead to it first. */
                unlink_entry(t, e);
                free(e->name);
                e->name = TAKE_PTR(copy);
                e->has_uuid = uuid != NULL;
                e->uuid = uuid ? *uuid : (XvUuid) {};
                link_entry(t, e);
                return 0;
        }
        if (t->n >= DOMAIN_TABLE_MAX)
                return -E2BIG;
        if (GREEDY_REALLOC(t->entries, t->allocated, t->n + 1) < 0)
                return -ENOMEM;
        if (t->n + 1 > t->n_buckets) {
                r = rehash(t, t->n_buckets * 2);
                if (r < 0)
                        return r;
        }
        e = new0(DomainTableEntry, 1);
        if (!e)
                return -ENOMEM;
        *e = (DomainTableEntry) {
                .id = id, .name = TAKE_PTR(copy), .uuid = uuid ? *uuid : (XvUuid) {}, .has_uuid = uuid != NULL,
                .pos = t->n,
        };
        t->entries[t->n++] = e;
        link_entry(t, e);
        return 0;
}
