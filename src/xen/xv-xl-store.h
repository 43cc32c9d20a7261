/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "xv-domain-def.h"
#include "xv-error.h"
#include "xv-macro.h"
#include "xv-uuid.h"

/*
 * XlStore: the persistent (inactive) domain definitions of the libxl backend, kept by xenvirtd
 * itself as xl.cfg(5) files (the format `xl create` reads, see xv-xl-domain.h):
 *
 *     DIR/NAME.cfg            one definition; its name and uuid keys are authoritative
 *     DIR/auto/NAME.cfg       autostart: a symbolic link to ../NAME.cfg
 *
 * DIR defaults to /etc/xen/xenvirt (XL_STORE_DIR_DEFAULT). Writes are atomic
 * (write_file_atomic(): a reader sees the old or the new file, never a torn one; the temporary
 * files are dot-files, which the store ignores). Files added, edited or removed by other tools
 * (an operator with an editor, `xl`, a second xenvirtd) are seen on the next call: the store
 * rescans when the directory's mtime changed, and re-reads a file only when its (inode, mtime,
 * size) changed, so that listing a thousand definitions costs a readdir and a stat per file.
 * Files that do not parse (or lack a name or uuid) are skipped with a warning and do not hide the
 * others. A file's name must match its name key ("NAME.cfg"); a file whose name key differs is
 * skipped likewise.
 *
 * All functions are thread-safe (one mutex per store). Every error is reported through @error
 * (may be NULL) with libvirt's codes; the return value is a negative errno.
 */

#define XL_STORE_DIR_DEFAULT    "/etc/xen/xenvirt"
#define XL_STORE_DOMAINS_MAX    4096            /* definitions per directory */
#define XL_STORE_FILE_SIZE_MAX  65536           /* bytes per file: XM_CONFIG_SIZE_MAX */
#define XL_STORE_SUFFIX         ".cfg"
/* Longest domain name the store accepts: NAME.cfg and its atomic-write temporary name must fit
 * in NAME_MAX (255). */
#define XL_STORE_NAME_MAX       200

typedef struct XlStore XlStore;

typedef struct XlStoreEntry {
        char *name;
        XvUuid uuid;
        bool autostart;
} XlStoreEntry;

/* Opens the store in @dir (absolute or relative path, copied). Unless @read_only, creates @dir
 * (mode 0700: the files may hold VNC passwords) and @dir/auto (0755) when missing. A read-only
 * store refuses save/remove/set_autostart with XVP_ERR_OPERATION_DENIED, and a missing @dir is
 * then an empty store. Errors: XVP_ERR_SYSTEM with the path and strerror. */
int xl_store_open(const char *dir, bool read_only, XlStore **ret, XvError *error);
XlStore *xl_store_close(XlStore *s);
DEFINE_CLEANUP_FUNC(XlStore *, xl_store_close);

/* The directory the store was opened on (borrowed, valid until close). */
const char *xl_store_dir(const XlStore *s);

/* Every valid definition, sorted by name: a new array of *ret_n entries (the caller frees it
 * with xl_store_entries_free()). *ret is NULL when there are none. More than
 * XL_STORE_DOMAINS_MAX files fail with XVP_ERR_OPERATION_FAILED. */
int xl_store_list(XlStore *s, XlStoreEntry **ret, size_t *ret_n, XvError *error);
XlStoreEntry *xl_store_entries_free(XlStoreEntry *entries, size_t n);

/* Loads one definition (a fresh DomainDef, id -1). XVP_ERR_NO_DOMAIN
 * "Domain not found: no domain with matching name 'NAME'" / "... uuid 'UUID'" when absent;
 * a file that exists but does not parse fails with its parse error. ret may be NULL (an
 * existence check). */
int xl_store_load_by_name(XlStore *s, const char *name, DomainDef **ret, XvError *error);
int xl_store_load_by_uuid(XlStore *s, const XvUuid *uuid, DomainDef **ret, XvError *error);

/* Looks up only the index (no parse of the definition): 1 and the uuid / name when defined,
 * 0 when not. *ret_name is a new string. Either out pointer may be NULL. */
int xl_store_lookup_name(XlStore *s, const char *name, XvUuid *ret_uuid, XvError *error);
int xl_store_lookup_uuid(XlStore *s, const XvUuid *uuid, char **ret_name, XvError *error);

/* Writes @def (which must have a name and a uuid: the caller generates a missing uuid) as
 * DIR/NAME.cfg atomically. Returns 1 when a new definition was added, 0 when an existing one
 * (same name, same uuid) was replaced. Refusals, as libvirt words them:
 *   - same uuid under another name (also a rename):  XVP_ERR_OPERATION_FAILED
 *     "domain 'OLDNAME' is already defined with uuid UUID"
 *   - same name under another uuid:                  XVP_ERR_OPERATION_FAILED
 *     "domain 'NAME' already exists with uuid OTHERUUID"
 *   - a name that cannot be a file name (empty, '/', leading '.', control characters, longer
 *     than XL_STORE_NAME_MAX): XVP_ERR_INVALID_ARG
 *   - no uuid: XVP_ERR_INVALID_ARG
 *   - DIR/NAME.cfg exists but is not a valid definition (someone else's file, or broken by
 *     an edit): XVP_ERR_OPERATION_FAILED, the file is left alone
 *   - a model xl.cfg cannot express: the converter's error (XVP_ERR_CONFIG_UNSUPPORTED ...). */
int xl_store_save(XlStore *s, const DomainDef *def, XvError *error);

/* Removes DIR/NAME.cfg and its autostart link. XVP_ERR_NO_DOMAIN when not defined. */
int xl_store_remove(XlStore *s, const char *name, XvError *error);

/* Autostart flag: a link DIR/auto/NAME.cfg. get returns 1/0 (XVP_ERR_NO_DOMAIN when the
 * domain is not defined); set creates or removes the link (idempotent). */
int xl_store_get_autostart(XlStore *s, const char *name, XvError *error);
int xl_store_set_autostart(XlStore *s, const char *name, bool autostart, XvError *error);

/* The path of DIR/NAME.cfg (a new string), whether or not it exists; -EINVAL with
 * XVP_ERR_INVALID_ARG for an unusable name. For messages and for `xl create`-style use. */
int xl_store_path(XlStore *s, const char *name, char **ret, XvError *error);

/* Whether @name can be stored (the checks of xl_store_save() on the name alone). */
int xl_store_check_name(const char *name, XvError *error);
