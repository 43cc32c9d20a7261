/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A table of domains indexed three ways: by id, by name and by UUID, each lookup O(1) on average
 * (chained hash tables over stable entries). Backend-neutral: the xend backend keeps the running
 * domains xenstore names in one (id → name, uuid); any backend may keep its own.
 *
 * Ids are unique keys (putting an id that exists replaces that entry). Names and UUIDs are
 * indexes only: when two entries share one (a stale entry next to a fresh one), a lookup returns
 * the one put last. An entry without a name (name NULL) or without a UUID (has_uuid false) is not
 * in that index. Not thread-safe: the owner locks.
 *
 * Name hashing is seeded per table, so that names chosen by clients cannot aim at one bucket.
 */

#include <stdbool.h>
#include <stddef.h>

#include "xv-macro.h"
#include "xv-uuid.h"

#define DOMAIN_TABLE_MAX        (1024 * 1024)   /* entries; putting more fails with -E2BIG */

typedef struct DomainTableEntry {
        int id;
        char *name;                     /* NULL: not known (yet) */
        XvUuid uuid;
        bool has_uuid;
        /* Private. */
        struct DomainTableEntry *next_id, *next_name, *next_uuid;
        size_t pos;                     /* index in the table's dense array */
} DomainTableEntry;

typedef struct DomainTable DomainTable;

int domain_table_new(DomainTable **ret);
DomainTable *domain_table_free(DomainTable *t);
DEFINE_CLEANUP_FUNC(DomainTable *, domain_table_free);

void domain_table_clear(DomainTable *t);
size_t domain_table_size(const DomainTable *t);
/* The entry at @i, 0 <= i < size (iteration order is arbitrary; removals reorder). */
const DomainTableEntry *domain_table_at(const DomainTable *t, size_t i);

/* Adds or replaces the entry with @id (@name copied; NULL allowed; @uuid NULL = unknown).
 * -ENOMEM, -E2BIG (DOMAIN_TABLE_MAX), -EINVAL (id < 0). */
int domain_table_put(DomainTable *t, int id, const char *name, const XvUuid *uuid);
/* Removes the entry with @id; false when there was none. */
bool domain_table_remove(DomainTable *t, int id);

const DomainTableEntry *domain_table_find_id(const DomainTable *t, int id);
const DomainTableEntry *domain_table_find_name(const DomainTable *t, const char *name);
const DomainTableEntry *domain_table_find_uuid(const DomainTable *t, const XvUuid *uuid);
