/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The dumpxml cache (see xv-xml-cache.h). A dense array of entries, indexed by UUID and name
 * through a DomainTable whose ids are the array slots (a removal moves the last entry into the
 * hole). Drops by domain id and of every inactive entry walk the array: they come from xenstore
 * watch events and lifecycle changes, not from readers, and the array is bounded.
 *
 * Recency is an intrusive doubly linked list through the slots (indexes, not pointers, so that
 * the array may move; a removal that moves the last entry relinks its neighbours). A hit and a
 * put move their entry to the head; putting past either bound removes entries from the tail:
 * every operation stays O(1) apart from the drops that walk the array.
 */

#include <assert.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "xv-alloc.h"
#include "xv-domain-table.h"
#include "xv-lock.h"
#include "xv-xml-cache.h"

/* No slot: the end of the recency list. */
#define NIL UINT32_MAX

_Static_assert(XML_CACHE_ENTRIES_MAX < NIL, "slots fit the recency links");
_Static_assert(XML_CACHE_BYTES_MAX < UINT32_MAX, "a cost that fits the budget fits an entry");

typedef struct Entry {
        XvUuid uuid;
        char *name;
        int id;                 /* -1: inactive */
        uint32_t prev, next;    /* recency list: towards the head (newer) and the tail (older) */
        uint32_t cost;          /* what it is charged against the byte budget (entry_cost()) */
        uint64_t stamp;         /* CLOCK_MONOTONIC µs, taken before what it was built from was read */
        DomainDef *def;         /* NULL: not cached */
        char *xml[XML_CACHE_VARIANTS];  /* NULL: not cached */
} Entry;

typedef enum DropKind {
        DROP_DOMAIN,            /* by name and/or uuid */
        DROP_ID,
        DROP_INACTIVE,
        DROP_ALL,
} DropKind;

/* One drop, generation @gen. */
typedef struct Drop {
        uint64_t gen;
        DropKind kind;
        char *name;             /* DROP_DOMAIN: NULL when by uuid only */
        XvUuid uuid;
        bool has_uuid;
        int id;                 /* DROP_ID */
} Drop;

struct XmlCache {
        pthread_mutex_t lock;
        size_t max_entries, max_bytes;
        uint64_t running_max_age, inactive_max_age;

        Entry *entries;
        size_t n_entries, n_allocated;
        DomainTable *index;     /* slot → name, uuid */
        uint32_t head, tail;    /* the most and the least recently read or put entry; NIL: empty */
        size_t bytes;           /* the sum of the entries' costs */
        XmlCacheStats stats;    /* counters only (n_entries, bytes are filled in by the getter) */

        uint64_t gen;           /* bumped by every drop */
        uint64_t gen_all;       /* the generation of the last DROP_ALL */
        Drop drops[XML_CACHE_DROPS_MAX];        /* slot gen % XML_CACHE_DROPS_MAX */
};

/* What @e is charged: its slot, name and index records, its texts and its definition. */
static size_t entry_cost(const Entry *e) {
        size_t cost = XML_CACHE_ENTRY_COST + strlen(e->name) + 1;

        if (e->def)
                cost += XML_CACHE_DEF_COST;
        for (size_t i = 0; i < XML_CACHE_VARIANTS; i++)
                if (e->xml[i])
                        cost += strlen(e->xml[i]) + 1;
        return cost;
}

static void lru_unlink(XmlCache *c, uint32_t slot) {
        Entry *e = &c->entries[slot];

        if (e->prev != NIL)
                c->entries[e->prev].next = e->next;
        else
                c->head = e->next;
        if (e->next != NIL)
                c->entries[e->next].prev = e->prev;
        else
                c->tail = e->prev;
        e->prev = e->next = NIL;
}

static void lru_push_head(XmlCache *c, uint32_t slot) {
        Entry *e = &c->entries[slot];

        e->prev = NIL;
        e->next = c->head;
        if (c->head != NIL)
                c->entries[c->head].prev = slot;
        else
                c->tail = slot;
        c->head = slot;
}

static void lru_touch(XmlCache *c, uint32_t slot) {
        if (c->head == slot)
                return;
        lru_unlink(c, slot);
        lru_push_head(c, slot);
}

static void entry_done(Entry *e) {
        e->name = mfree(e->name);
        e->def = domain_def_free(e->def);
        for (size_t i = 0; i < XML_CACHE_VARIANTS; i++)
                e->xml[i] = mfree(e->xml[i]);
}

static void clear_locked(XmlCache *c) {
        for (size_t i = 0; i < c->n_entries; i++)
                entry_done(&c->entries[i]);
        c->n_entries = 0;
        c->head = c->tail = NIL;
        c->bytes = 0;
        domain_table_clear(c->index);
}

/* Removes the entry in @slot (the last one moves into it, its neighbours follow). */
static void remove_locked(XmlCache *c, size_t slot) {
        size_t last = c->n_entries - 1;
        Entry gone;

        lru_unlink(c, (uint32_t) slot);
        gone = c->entries[slot];
        assert(c->bytes >= gone.cost);
        c->bytes -= gone.cost;
        (void) domain_table_remove(c->index, (int) slot);
        if (slot != last) {
                Entry *moved = &c->entries[slot];

                (void) domain_table_remove(c->index, (int) last);
                *moved = c->entries[last];
                if (moved->prev != NIL)
                        c->entries[moved->prev].next = (uint32_t) slot;
                else
                        c->head = (uint32_t) slot;
                if (moved->next != NIL)
                        c->entries[moved->next].prev = (uint32_t) slot;
                else
                        c->tail = (uint32_t) slot;
        }
        c->n_entries--;
        entry_done(&gone);
        /* On OOM, forget everything rather than keep an entry no lookup finds. */
        if (slot != last &&
            domain_table_put(c->index, (int) slot, c->entries[slot].name, &c->entries[slot].uuid) < 0)
                clear_locked(c);
}

static Entry *find_uuid_locked(XmlCache *c, const XvUuid *uuid) {
        const DomainTableEntry *t = domain_table_find_uuid(c->index, uuid);

        return t ? &c->entries[t->id] : NULL;
}

static Entry *find_name_locked(XmlCache *c, const char *name) {
        const DomainTableEntry *t = domain_table_find_name(c->index, name);

        return t ? &c->entries[t->id] : NULL;
}

/* Opens generation gen + 1 for @d (its name is taken). */
static void bump_locked(XmlCache *c, Drop d) {
        Drop *x;

        c->gen++;
        x = &c->drops[c->gen % XML_CACHE_DROPS_MAX];
        free(x->name);
        d.gen = c->gen;
        *x = d;
        if (d.kind == DROP_ALL)
                c->gen_all = c->gen;
}

static bool drop_hits(const Drop *d, const XvUuid *uuid, const char *name, int id) {
        switch (d->kind) {
        case DROP_DOMAIN:
                return (d->has_uuid && uuid_equal(&d->uuid, uuid)) || (d->name && streq(d->name, name));
        case DROP_ID:
                return id >= 0 && d->id == id;
        case DROP_INACTIVE:
                return id < 0;
        default:
                return true;
        }
}

/* Whether what was read at generation @gen about that domain predates no drop of it.
 * Conservative: false when the drops since @gen are no longer all remembered. */
static bool gen_ok_locked(XmlCache *c, uint64_t gen, const XvUuid *uuid, const char *name, int id) {
        if (gen == c->gen)
                return true;
        if (gen < c->gen_all || gen > c->gen || c->gen - gen >= XML_CACHE_DROPS_MAX)
                return false;
        for (uint64_t g = gen + 1; g <= c->gen; g++) {
                const Drop *d = &c->drops[g % XML_CACHE_DROPS_MAX];

                if (d->gen != g || drop_hits(d, uuid, name, id))
                        return false;
        }
        return true;
}

int xml_cache_new(size_t max_entries, size_t max_bytes, uint64_t running_max_age_usec,
                  uint64_t inactive_max_age_usec, XmlCache **ret) {
        _cleanup_(xml_cache_freep) XmlCache *c = NULL;
        int r;

        assert(ret);
        if (max_entries == 0 || max_entries > XML_CACHE_ENTRIES_MAX || max_bytes == 0 ||
            max_bytes > XML_CACHE_BYTES_MAX)
                return -EINVAL;
        c = new0(XmlCache, 1);
        if (!c)
                return -ENOMEM;
        r = pthread_mutex_init(&c->lock, NULL);
        if (r != 0) {
                c = mfree(c);
                return -r;
        }
        c->max_entries = max_entries;
        c->max_bytes = max_bytes;
        c->head = c->tail = NIL;
        c->running_max_age = running_max_age_usec;
        c->inactive_max_age = inactive_max_age_usec;
        r = domain_table_new(&c->index);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

XmlCache *xml_cache_free(XmlCache *c) {
        if (!c)
                return NULL;
        if (c->index)
                clear_locked(c);
        free(c->entries);
        c->index = domain_table_free(c->index);
        for (size_t i = 0; i < XML_CACHE_DROPS_MAX; i++)
                free(c->drops[i].name);
        (void) pthread_mutex_destroy(&c->lock);
        return mfree(c);
}

void xml_cache_set_max_age(XmlCache *c, uint64_t running_max_age_usec, uint64_t inactive_max_age_usec) {
        if (!c)
                return;

        LOCKED(&c->lock);
        c->running_max_age = running_max_age_usec;
        c->inactive_max_age = inactive_max_age_usec;
}

uint64_t xml_cache_gen(XmlCache *c) {
        if (!c)
                return 0;

        LOCKED(&c->lock);
        return c->gen;
}

/* The entry of @uuid as @id when it is younger than its maximum age at @now (an expired one is
 * removed). */
static Entry *get_locked(XmlCache *c, const XvUuid *uuid, int id, uint64_t now) {
        Entry *e = find_uuid_locked(c, uuid);
        uint64_t max_age;

        if (!e || e->id != id)
                return NULL;
        max_age = id >= 0 ? c->running_max_age : c->inactive_max_age;
        if (now >= e->stamp && now - e->stamp >= max_age) {
                c->stats.expired++;
                remove_locked(c, (size_t) (e - c->entries));
                return NULL;
        }
        return e;
}

int xml_cache_get(XmlCache *c, const XvUuid *uuid, int id, uint64_t now_usec, DomainDef **ret) {
        DomainDef *copy = NULL;
        Entry *e;
        int r;

        assert(uuid);
        assert(ret);
        if (!c)
                return 0;

        LOCKED(&c->lock);
        e = get_locked(c, uuid, id, now_usec);
        if (!e || !e->def) {
                c->stats.def_misses++;
                return 0;
        }
        c->stats.def_hits++;
        lru_touch(c, (uint32_t) (e - c->entries));
        /* Copied under the lock: the entry may be replaced or dropped as soon as it is released. */
        r = domain_def_copy(e->def, &copy);
        if (r < 0)
                return r;
        *ret = copy;
        return 1;
}

int xml_cache_get_xml(XmlCache *c, const XvUuid *uuid, int id, unsigned variant, uint64_t now_usec,
                      char **ret) {
        Entry *e;
        char *copy;

        assert(uuid);
        assert(ret);
        assert(variant < XML_CACHE_VARIANTS);
        if (!c)
                return 0;

        LOCKED(&c->lock);
        e = get_locked(c, uuid, id, now_usec);
        if (!e || !e->xml[variant]) {
                c->stats.text_misses++;
                return 0;
        }
        c->stats.text_hits++;
        lru_touch(c, (uint32_t) (e - c->entries));
        copy = strdup(e->xml[variant]);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 1;
}

/* Removes least recently used entries until the byte budget holds. The entry at the head is
 * never one of them: it is the one just put, and alone it fits. */
static void shrink_locked(XmlCache *c) {
        while (c->bytes > c->max_bytes && c->tail != NIL && c->tail != c->head) {
                c->stats.evicted++;
                remove_locked(c, c->tail);
        }
}

/* Stores @def or the text @xml of @variant (taken) for @uuid as @id; see xml_cache_put(). */
static void put_take(XmlCache *c, uint64_t gen, const XvUuid *uuid, char *name, int id, uint64_t stamp,
                     DomainDef *def, unsigned variant, char *xml) {
        _cleanup_(domain_def_freep) DomainDef *d = def;
        _cleanup_free_ char *n = name, *x = xml;
        _cleanup_(entry_done) Entry fresh = {};
        size_t slot, cost;
        Entry *e;

        LOCKED(&c->lock);
        if (!gen_ok_locked(c, gen, uuid, n, id))
                return;
        e = find_uuid_locked(c, uuid);
        if (e && e->id == id && streq(e->name, n)) {
                /* The same incarnation: add to what it holds; the older stamp expires first. */
                slot = (size_t) (e - c->entries);
                cost = e->cost;
                if (d)
                        cost += e->def ? 0 : XML_CACHE_DEF_COST;
                else
                        cost = cost - (e->xml[variant] ? strlen(e->xml[variant]) + 1 : 0) + strlen(x) + 1;
                if (cost > c->max_bytes) {
                        /* Past the budget on its own: keeps what it held rather than flush the rest. */
                        c->stats.too_big++;
                        return;
                }
                if (d) {
                        domain_def_free(e->def);
                        e->def = TAKE_PTR(d);
                } else {
                        free(e->xml[variant]);
                        e->xml[variant] = TAKE_PTR(x);
                }
                c->bytes = c->bytes - e->cost + cost;
                e->cost = (uint32_t) cost;
                assert(cost == entry_cost(e));
                e->stamp = MIN(e->stamp, stamp);
                lru_touch(c, (uint32_t) slot);
                shrink_locked(c);
                return;
        }
        /* Another incarnation's entry: it goes, whatever happens to this one. */
        if (e)
                remove_locked(c, (size_t) (e - c->entries));

        fresh = (Entry) { .uuid = *uuid, .name = TAKE_PTR(n), .id = id, .stamp = stamp, .def = TAKE_PTR(d),
                          .prev = NIL, .next = NIL };
        if (x)
                fresh.xml[variant] = TAKE_PTR(x);
        cost = entry_cost(&fresh);
        if (cost > c->max_bytes) {
                c->stats.too_big++;
                return;
        }
        while (c->n_entries > 0 &&
               (c->n_entries >= c->max_entries || c->bytes + cost > c->max_bytes)) {
                c->stats.evicted++;
                remove_locked(c, c->tail);
        }
        if (GREEDY_REALLOC(c->entries, c->n_allocated, c->n_entries + 1) < 0)
                return;
        slot = c->n_entries;
        if (domain_table_put(c->index, (int) slot, fresh.name, uuid) < 0)
                return;
        c->n_entries++;
        fresh.cost = (uint32_t) cost;
        c->entries[slot] = fresh;
        fresh = (Entry) {};
        c->bytes += c->entries[slot].cost;
        lru_push_head(c, (uint32_t) slot);
}

void xml_cache_put(XmlCache *c, uint64_t gen, const XvUuid *uuid, const char *name, int id,
                   uint64_t stamp_usec, const DomainDef *def) {
        DomainDef *copy = NULL;
        char *n;

        assert(uuid);
        assert(name);
        assert(def);
        if (!c)
                return;
        /* Copied before taking the lock: the lock is only ever held for bookkeeping and copies out. */
        if (domain_def_copy(def, &copy) < 0)
                return;
        n = strdup(name);
        if (!n) {
                domain_def_free(copy);
                return;
        }
        put_take(c, gen, uuid, n, id, stamp_usec, copy, 0, NULL);
}

void xml_cache_put_xml(XmlCache *c, uint64_t gen, const XvUuid *uuid, const char *name, int id,
                       uint64_t stamp_usec, unsigned variant, const char *xml) {
        char *n, *x;

        assert(uuid);
        assert(name);
        assert(xml);
        assert(variant < XML_CACHE_VARIANTS);
        if (!c)
                return;
        n = strdup(name);
        x = strdup(xml);
        if (!n || !x) {
                free(n);
                free(x);
                return;
        }
        put_take(c, gen, uuid, n, id, stamp_usec, NULL, variant, x);
}

void xml_cache_drop_domain(XmlCache *c, const char *name, const XvUuid *uuid) {
        _cleanup_free_ char *copy = NULL;
        Entry *e;

        if (!c)
                return;
        if (name) {
                copy = strdup(name);
                if (!copy)
                        name = NULL;    /* OOM: by uuid only, or everything */
        }
        if (!name && !uuid) {
                xml_cache_drop_all(c);
                return;
        }

        LOCKED(&c->lock);
        bump_locked(c, (Drop) { .kind = DROP_DOMAIN, .name = TAKE_PTR(copy), .has_uuid = uuid != NULL,
                                .uuid = uuid ? *uuid : (XvUuid) {} });
        while (uuid && (e = find_uuid_locked(c, uuid)))
                remove_locked(c, (size_t) (e - c->entries));
        while (name && (e = find_name_locked(c, name)))
                remove_locked(c, (size_t) (e - c->entries));
}

/* Removes every entry @match accepts. From the end: a removal moves the last entry, already looked
 * at, into the hole (and an OOM while reindexing empties the cache). */
static void remove_where_locked(XmlCache *c, bool (*match)(const Entry *e, int id), int id) {
        for (size_t i = c->n_entries; i > 0; i--)
                if (i - 1 < c->n_entries && match(&c->entries[i - 1], id))
                        remove_locked(c, i - 1);
}

static bool entry_has_id(const Entry *e, int id) {
        return id >= 0 && e->id == id;
}

static bool entry_is_inactive(const Entry *e, int id) {
        return e->id < 0;
}

void xml_cache_drop_id(XmlCache *c, int id) {
        if (!c)
                return;

        LOCKED(&c->lock);
        bump_locked(c, (Drop) { .kind = DROP_ID, .id = id });
        remove_where_locked(c, entry_has_id, id);
}

void xml_cache_drop_inactive(XmlCache *c) {
        if (!c)
                return;

        LOCKED(&c->lock);
        bump_locked(c, (Drop) { .kind = DROP_INACTIVE });
        remove_where_locked(c, entry_is_inactive, -1);
}

void xml_cache_drop_all(XmlCache *c) {
        if (!c)
                return;

        LOCKED(&c->lock);
        bump_locked(c, (Drop) { .kind = DROP_ALL });
        clear_locked(c);
}

size_t xml_cache_size(XmlCache *c) {
        if (!c)
                return 0;

        LOCKED(&c->lock);
        return c->n_entries;
}

void xml_cache_get_stats(XmlCache *c, XmlCacheStats *ret) {
        assert(ret);
        if (!c) {
                *ret = (XmlCacheStats) {};
                return;
        }

        LOCKED(&c->lock);
        *ret = c->stats;
        ret->n_entries = c->n_entries;
        ret->bytes = c->bytes;
}
