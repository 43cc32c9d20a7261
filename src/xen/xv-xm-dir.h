/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The XM config directory (/etc/xen): inactive domains of a host whose XenD is too old to manage
 * them itself (xend config version <= 2, shared/reference/xen-driver.md §5).
 *
 * Every regular, non-empty file that is not skipped and parses as an XM config defines one
 * domain. Skipped: dot-files, names beginning "xend-config.sxp", "xend-pci-", "xmexample",
 * "qemu-ifup" or '#', names ending in '~', anything but a regular file (scripts/, auto/), empty
 * files (inotify reports a new file before its content exists) and files that do not parse
 * (logged at debug, never fatal). The first file claiming a name owns it (files are scanned in
 * name order, and an owner keeps its name while it claims it); the others are ignored.
 *
 * The cache is refreshed from inotify (IN_CREATE, IN_CLOSE_WRITE, IN_DELETE, IN_MOVED_TO,
 * IN_MOVED_FROM): a file is re-parsed only when its mtime or size changed. Without inotify every
 * read rescans. Changes are reported as DEFINED/UNDEFINED by xm_dir_take_changes(), relative to
 * what was reported last, so a change made through this module and seen again by inotify is
 * reported once.
 *
 * Autostart is a symlink auto/<name> pointing at the domain's file. Writes are atomic
 * (write_file_atomic: readers see the old or the new file).
 *
 * Thread safety: every function takes the object's mutex; none blocks on anything but the local
 * file system.
 */

#include <stdbool.h>
#include <stddef.h>

#include "xv-domain-def.h"
#include "xv-error.h"
#include "xv-macro.h"
#include "xv-uuid.h"

#define XM_DIR_ENTRIES_MAX      4096    /* files considered in one directory */
#define XM_DIR_PATH_MAX         4096

typedef struct XmDir XmDir;

typedef struct XmDirDomain {
        char *name;
        XvUuid uuid;
        char *file;                     /* file name inside the directory */
        bool autostart;
} XmDirDomain;

void xm_dir_domains_free(XmDirDomain *l, size_t n);

typedef enum XmDirChangeType {
        XM_DIR_CHANGE_ADDED,            /* DEFINED / added */
        XM_DIR_CHANGE_UPDATED,          /* DEFINED / updated */
        XM_DIR_CHANGE_REMOVED,          /* UNDEFINED / removed */
        _XM_DIR_CHANGE_TYPE_MAX,
        _XM_DIR_CHANGE_TYPE_INVALID = -EINVAL,
} XmDirChangeType;

typedef struct XmDirChange {
        XmDirChangeType type;
        char *name;
        XvUuid uuid;
} XmDirChange;

void xm_dir_changes_free(XmDirChange *l, size_t n);

/* Opens @path (which must exist) for the config format of @xend_config_version (1..4). With
 * @watch an inotify watch keeps the cache current. The first scan runs here; what it finds counts
 * as already reported (no DEFINED events for the domains that existed at open). */
int xm_dir_new(const char *path, int xend_config_version, bool watch, XmDir **ret, XvError *error);
XmDir *xm_dir_free(XmDir *d);
DEFINE_CLEANUP_FUNC(XmDir *, xm_dir_free);

const char *xm_dir_path(const XmDir *d);
/* The inotify fd to poll (POLLIN), or -EBADF without a watch. */
int xm_dir_inotify_fd(const XmDir *d);

/* Reads pending inotify events (never blocks) and rescans when any arrived (always without a
 * watch). Returns 1 when the set of domains or a definition changed, else 0. */
int xm_dir_sync(XmDir *d, XvError *error);

/* Every domain, sorted by name. */
int xm_dir_list(XmDir *d, XmDirDomain **ret, size_t *ret_n, XvError *error);
/* A copy of the definition named @name, or -ENOENT (error XVP_ERR_NO_DOMAIN). */
int xm_dir_get(XmDir *d, const char *name, DomainDef **ret, XvError *error);
/* The name of the domain with @uuid, or -ENOENT (no error set). */
int xm_dir_find_uuid(XmDir *d, const XvUuid *uuid, char **ret_name);

/* Writes the file for @def (replacing the file that owns the name, else creating <dir>/<name>).
 * Refuses the same UUID under another name, and names that cannot be file names or would be
 * skipped. Sets *ret_updated (optional) when the name existed. */
int xm_dir_define(XmDir *d, const DomainDef *def, bool *ret_updated, XvError *error);
/* Removes the domain's file and its autostart link. */
int xm_dir_undefine(XmDir *d, const char *name, XvError *error);

int xm_dir_get_autostart(XmDir *d, const char *name, bool *ret, XvError *error);
int xm_dir_set_autostart(XmDir *d, const char *name, bool autostart, XvError *error);

/* The changes since the last call (or since xm_dir_new()), in order: removals, then additions and
 * updates, each sorted by name. */
int xm_dir_take_changes(XmDir *d, XmDirChange **ret, size_t *ret_n);

/* The skip rules on a bare file name (exposed for the test). */
bool xm_dir_name_is_skipped(const char *filename);
