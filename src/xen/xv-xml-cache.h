/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * XmlCache: what a backend last built for dumpxml, one entry per domain (by UUID), each for one
 * incarnation of it (the domain id it had when it was built; -1 inactive): the definition and/or
 * its formatted XML per variant (the dumpxml flags that change the text), handed out as copies. Backend-neutral and thread-safe (its own mutex, a leaf: nothing else is taken
 * while it is held, so any backend lock may be held while calling in).
 *
 * What keeps an entry correct is the caller's business: it drops the entries of a domain on
 * every change it makes or is told about (xml_cache_drop_domain(), _drop_id(), _drop_inactive(),
 * _drop_all()). Two rules are the cache's own:
 *  - an entry is served only to a reader that asks for the same domain id, and only while it is
 *    younger than the maximum age of its kind (running or inactive), so that changes that leave
 *    no trace anyone is told about become visible after that long;
 *  - a reader takes xml_cache_gen() before it starts reading what it builds the entry from, and
 *    xml_cache_put() refuses the entry when a drop of that domain (or a wider one) happened since:
 *    a definition read before a change never outlives the drop that followed the change.
 *
 * Bounded by entries and by bytes: at most @max_entries entries, and the sum of their costs (their
 * texts, XML_CACHE_DEF_COST per definition, XML_CACHE_ENTRY_COST and the name per entry) at most
 * @max_bytes. A put past either bound first removes the least recently used entries (read by a hit
 * or put: a hit counts as a use, a miss does not); an entry that alone costs more than @max_bytes
 * is not stored. Eviction only ever removes entries: the drop and generation rules are unchanged.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xv-domain-def.h"
#include "xv-macro.h"
#include "xv-uuid.h"

#define XML_CACHE_ENTRIES_MAX   (64 * 1024)     /* the largest @max_entries accepted */
#define XML_CACHE_BYTES_MAX     (1024 * 1024 * 1024)    /* the largest @max_bytes accepted */
/* What an entry is charged besides its texts: the slot, the copy of the name and the two index
 * records of the DomainTable (with malloc's overhead), rounded up. */
#define XML_CACHE_ENTRY_COST    256
/* What a cached DomainDef is charged: a copy of tests/bench/domain.xml's definition holds 0.85 KiB
 * of heap (glibc, chunk overheads included); charged 2 KiB for domains with more devices. */
#define XML_CACHE_DEF_COST      2048
#define XML_CACHE_DROPS_MAX     256             /* drops remembered for xml_cache_put()'s check */
#define XML_CACHE_VARIANTS      4               /* formatted texts per entry: variant 0..3 */

typedef struct XmlCache XmlCache;

/* Counters since xml_cache_new(), and the current size. */
typedef struct XmlCacheStats {
        uint64_t text_hits;     /* xml_cache_get_xml() that returned 1 */
        uint64_t text_misses;   /* ... that returned 0 (nothing held, another incarnation, expired) */
        uint64_t def_hits;      /* the same for xml_cache_get() */
        uint64_t def_misses;
        uint64_t expired;       /* entries removed by a reader because of their age */
        uint64_t evicted;       /* entries removed to make room (either bound) */
        uint64_t too_big;       /* puts refused because they alone exceed the byte budget */
        size_t n_entries;
        size_t bytes;           /* the sum of the entries' costs, <= @max_bytes */
} XmlCacheStats;

/* -EINVAL when @max_entries is 0 or above XML_CACHE_ENTRIES_MAX, or @max_bytes 0 or above
 * XML_CACHE_BYTES_MAX. Ages are in µs (CLOCK_MONOTONIC). */
int xml_cache_new(size_t max_entries, size_t max_bytes, uint64_t running_max_age_usec,
                  uint64_t inactive_max_age_usec, XmlCache **ret);
XmlCache *xml_cache_free(XmlCache *c);
DEFINE_CLEANUP_FUNC(XmlCache *, xml_cache_free);

/* Changes the maximum ages (e.g. to follow a backend's effective TTL); they apply to the entries
 * held as well, at their next read. */
void xml_cache_set_max_age(XmlCache *c, uint64_t running_max_age_usec, uint64_t inactive_max_age_usec);

/* The clock of the stamps and of xml_cache_get()'s @now_usec: monotonic_usec() (xv-time.h). */

/* The generation to hand to xml_cache_put(): take it before reading anything the entry is built from. */
uint64_t xml_cache_gen(XmlCache *c);

/* 1 and a copy of the definition of domain @uuid as domain @id (-1: inactive) in *ret when the
 * cache holds one younger than its maximum age at @now_usec; 0 (*ret untouched) when not;
 * -ENOMEM. A NULL cache holds nothing. */
int xml_cache_get(XmlCache *c, const XvUuid *uuid, int id, uint64_t now_usec, DomainDef **ret);

/* Stores a copy of @def as domain @uuid (@name) running as @id (-1: inactive), built from what
 * was read at generation @gen and at time @stamp_usec (taken before the reads). Best effort:
 * nothing is stored on OOM or when a drop since @gen concerned that domain. */
void xml_cache_put(XmlCache *c, uint64_t gen, const XvUuid *uuid, const char *name, int id,
                   uint64_t stamp_usec, const DomainDef *def);

/* The same for the formatted text of variant @variant (< XML_CACHE_VARIANTS): 1 and a copy in
 * *ret, 0, or -ENOMEM. */
int xml_cache_get_xml(XmlCache *c, const XvUuid *uuid, int id, unsigned variant, uint64_t now_usec,
                      char **ret);
/* The same as xml_cache_put() for the formatted text of variant @variant. An entry of the same
 * incarnation keeps what it holds (the definition, other variants) and the older stamp. */
void xml_cache_put_xml(XmlCache *c, uint64_t gen, const XvUuid *uuid, const char *name, int id,
                       uint64_t stamp_usec, unsigned variant, const char *xml);

/* Drops the entries of domain @name and/or @uuid (either may be NULL; both NULL: everything). */
void xml_cache_drop_domain(XmlCache *c, const char *name, const XvUuid *uuid);
/* Drops the entry of the domain running as @id. */
void xml_cache_drop_id(XmlCache *c, int id);
/* Drops the entries of inactive domains. */
void xml_cache_drop_inactive(XmlCache *c);
void xml_cache_drop_all(XmlCache *c);

size_t xml_cache_size(XmlCache *c);
/* The counters and the size (all zero for a NULL cache), e.g. for a debug log of the hit rate. */
void xml_cache_get_stats(XmlCache *c, XmlCacheStats *ret);
