/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-fileio.h"
#include "xv-log.h"
#include "xv-xl-domain.h"
#include "xv-xl-store.h"

/* One file of the directory as last seen. The parsed name and uuid are kept only while the
 * file's (inode, mtime, size) stay the same. */
typedef struct StoreFile {
        char *file;             /* "NAME.cfg" */
        ino_t ino;
        struct timespec mtime;
        off_t size;
        bool parsed_ok;         /* parsed, and the name matches the file name */
        bool valid;             /* parsed_ok, and the uuid is not taken by an earlier file */
        bool reparsed;          /* parsed by the current refresh (for warning once) */
        char *name;
        XvUuid uuid;
} StoreFile;

struct XlStore {
        pthread_mutex_t lock;
        char *dir;
        char *auto_dir;
        bool read_only;

        bool scanned;
        struct timespec dir_mtime;
        time_t scan_time;
        StoreFile *files;       /* sorted by file name */
        size_t n_files;
        size_t allocated;
};

/* Written at the top of every file so that an operator knows who owns it. */
#define STORE_HEADER \
        "# Domain configuration written by xenvirtd (xl.cfg format). Edits are picked up by\n" \
        "# xenvirtd on its next access; `xl create` can start this file directly.\n"

static void store_file_done(StoreFile *f) {
        free(f->file);
        free(f->name);
        *f = (StoreFile) {};
}

static void store_lockp(XlStore **s) {
        if (*s)
                (void) pthread_mutex_unlock(&(*s)->lock);
}

#define STORE_LOCK(s) \
        _cleanup_(store_lockp) _unused_ XlStore *_locked_ = ((void) pthread_mutex_lock(&(s)->lock), (s))

static void closedirp_(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

static bool timespec_eq(const struct timespec *a, const struct timespec *b) {
        return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

int xl_store_check_name(const char *name, XvError *error) {
        if (isempty(name))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Domain name must not be empty");
        if (strlen(name) > XL_STORE_NAME_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Domain name '%.32s...' is longer than %u bytes and cannot be stored",
                                     name, (unsigned) XL_STORE_NAME_MAX);
        if (name[0] == '.')
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Domain name '%s' must not begin with a dot to be stored as a file", name);
        for (const char *p = name; *p; p++)
                if (*p == '/' || (unsigned char) *p < 0x20 || *p == 0x7f)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                             "Domain name '%s' contains a character that cannot be in a file name",
                                             name);
        return 0;
}

static int store_file_path(const XlStore *s, const char *file, char **ret) {
        return asprintf(ret, "%s/%s", s->dir, file) < 0 ? -ENOMEM : 0;
}

/* The autostart link of the definition in @file: auto/@file. */
static int store_link_path(const XlStore *s, const char *file, char **ret) {
        return asprintf(ret, "%s/%s", s->auto_dir, file) < 0 ? -ENOMEM : 0;
}

int xl_store_path(XlStore *s, const char *name, char **ret, XvError *error) {
        int r;

        assert(s);
        r = xl_store_check_name(name, error);
        if (r < 0)
                return r;
        if (asprintf(ret, "%s/%s" XL_STORE_SUFFIX, s->dir, name) < 0)
                return -ENOMEM;
        return 0;
}

static int mkdir_mode(const char *path, mode_t mode, XvError *error) {
        if (mkdir(path, mode) < 0 && errno != EEXIST)
                return xv_error_set_errnof(error, -errno, "Cannot create directory %s", path);
        return 0;
}

/* Removes the links of auto/ that lead to a definition of this store ("../NAME.cfg", as
 * xl_store_set_autostart() makes them) that is gone: what a removal interrupted between the
 * definition and its link leaves (xl_store_remove()). */
static void remove_dangling_links(XlStore *s) {
        DIR *dir = opendir(s->auto_dir);

        if (!dir)
                return;
        for (struct dirent *de; (de = readdir(dir)); ) {
                char target[PATH_MAX];
                struct stat st;
                ssize_t n;

                if (de->d_name[0] == '.')
                        continue;
                n = readlinkat(dirfd(dir), de->d_name, target, sizeof(target) - 1);
                if (n <= 0)
                        continue;
                target[n] = '\0';
                if (strncmp(target, "../", 3) != 0 || strchr(target + 3, '/') ||
                    fstatat(dirfd(dir), target, &st, 0) == 0 || errno != ENOENT)
                        continue;
                if (unlinkat(dirfd(dir), de->d_name, 0) >= 0)
                        log_info("Removed the autostart link %s/%s of a removed definition", s->auto_dir,
                                 de->d_name);
        }
        closedir(dir);
}

int xl_store_open(const char *dir, bool read_only, XlStore **ret, XvError *error) {
        _cleanup_(xl_store_closep) XlStore *s = NULL;
        int r;

        assert(dir);
        assert(ret);

        if (isempty(dir) || strlen(dir) > PATH_MAX / 2)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid definitions directory '%s'", dir);

        s = new0(XlStore, 1);
        if (!s)
                return -ENOMEM;
        r = pthread_mutex_init(&s->lock, NULL);
        if (r != 0) {
                free(s);
                s = NULL;
                return -r;
        }
        s->read_only = read_only;
        s->dir = strdup(dir);
        if (!s->dir)
                return -ENOMEM;
        /* A trailing slash would show in every path and message. */
        while (strlen(s->dir) > 1 && s->dir[strlen(s->dir) - 1] == '/')
                s->dir[strlen(s->dir) - 1] = '\0';
        if (asprintf(&s->auto_dir, "%s/auto", s->dir) < 0) {
                s->auto_dir = NULL;
                return -ENOMEM;
        }

        if (!read_only) {
                /* The files may carry VNC passwords: the directory is the owner's alone. */
                r = mkdir_mode(s->dir, 0700, error);
                if (r < 0)
                        return r;
                r = mkdir_mode(s->auto_dir, 0755, error);
                if (r < 0)
                        return r;
                remove_dangling_links(s);
        }

        *ret = TAKE_PTR(s);
        return 0;
}

XlStore *xl_store_close(XlStore *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_files; i++)
                store_file_done(&s->files[i]);
        free(s->files);
        free(s->dir);
        free(s->auto_dir);
        (void) pthread_mutex_destroy(&s->lock);
        return mfree(s);
}

const char *xl_store_dir(const XlStore *s) {
        return s->dir;
}

XlStoreEntry *xl_store_entries_free(XlStoreEntry *entries, size_t n) {
        for (size_t i = 0; i < n && entries; i++)
                free(entries[i].name);
        return mfree(entries);
}

/* ---- the index -------------------------------------------------------------------------------- */

static bool file_name_wanted(const char *file) {
        size_t n = strlen(file), sfx = strlen(XL_STORE_SUFFIX);

        /* Dot-files include write_file_atomic()'s temporary files. */
        if (file[0] == '.' || n <= sfx)
                return false;
        return streq(file + n - sfx, XL_STORE_SUFFIX);
}

/* Reads the name and uuid of one file and checks that the whole definition converts. */
static int store_file_parse(XlStore *s, StoreFile *f, XvError *error) {
        _cleanup_(xm_config_freep) XmConfig *c = NULL;
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL;
        const char *name = NULL, *uuid = NULL;
        size_t n;
        int r;

        r = store_file_path(s, f->file, &path);
        if (r < 0)
                return r;
        r = read_full_file(path, XL_STORE_FILE_SIZE_MAX, &text, NULL);
        if (r == -EFBIG)
                return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "%s is larger than %u bytes", path,
                                     (unsigned) XL_STORE_FILE_SIZE_MAX);
        if (r < 0)
                return xv_error_set_errnof(error, r, "Cannot read %s", path);
        r = xm_config_parse(text, &c, error);
        if (r < 0)
                return r;
        if (xm_config_get_string(c, "name", &name, NULL) < 0 || xm_config_get_string(c, "uuid", &uuid, NULL) < 0)
                return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "%s has no name or no uuid", path);
        n = strlen(f->file) - strlen(XL_STORE_SUFFIX);
        if (strlen(name) != n || strncmp(name, f->file, n) != 0)
                return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "%s defines domain '%s', not '%.*s'", path, name,
                                     (int) n, f->file);
        if (uuid_from_string(uuid, &f->uuid) < 0)
                return xv_error_setf(error, XVP_ERR_CONF_SYNTAX, "%s has an invalid uuid '%s'", path, uuid);
        r = xl_domain_to_def(c, &def, error);
        if (r < 0)
                return r;
        return free_and_strdup(&f->name, name);
}

/* (Re)parses @f if needed; logs a warning once per version of a broken file. */
static void store_file_refresh(XlStore *s, StoreFile *f, const struct stat *st, bool force) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        int r;

        if (!force && f->ino == st->st_ino && f->size == st->st_size && timespec_eq(&f->mtime, &st->st_mtim))
                return;
        f->reparsed = true;
        f->ino = st->st_ino;
        f->size = st->st_size;
        f->mtime = st->st_mtim;
        f->valid = f->parsed_ok = false;
        f->name = mfree(f->name);

        r = store_file_parse(s, f, &e);
        if (r < 0) {
                log_warning("Ignoring domain definition %s/%s: %s", s->dir, f->file,
                            e.message ?: strerror(-r));
                return;
        }
        f->parsed_ok = true;
}

static int file_cmp(const void *a, const void *b) {
        return strcmp(((const StoreFile *) a)->file, ((const StoreFile *) b)->file);
}

static StoreFile *find_file(XlStore *s, const char *file) {
        StoreFile key = { .file = (char *) file };

        if (s->n_files == 0)
                return NULL;
        return bsearch(&key, s->files, s->n_files, sizeof(StoreFile), file_cmp);
}

/* Rereads the directory when its mtime changed and every file whose stat changed. A uuid claimed by
 * two files belongs to the first in name order; the other is ignored. */
static int store_refresh(XlStore *s, XvError *error) {
        struct stat st;
        bool rescan;

        if (stat(s->dir, &st) < 0) {
                if (errno == ENOENT && s->read_only) {
                        for (size_t i = 0; i < s->n_files; i++)
                                store_file_done(&s->files[i]);
                        s->n_files = 0;
                        return 0;
                }
                return xv_error_set_errnof(error, -errno, "Cannot access %s", s->dir);
        }

        /* As git does with its index: a directory changed within the second of the last scan may
         * change again without its mtime moving, so it is rescanned until it is older. */
        rescan = !s->scanned || !timespec_eq(&st.st_mtim, &s->dir_mtime) ||
                st.st_mtim.tv_sec >= s->scan_time - 1;

        if (rescan) {
                _cleanup_(closedirp_) DIR *d = NULL;
                StoreFile *fresh = NULL;
                size_t n = 0, allocated = 0;
                struct dirent *de;

                d = opendir(s->dir);
                if (!d)
                        return xv_error_set_errnof(error, -errno, "Cannot open %s", s->dir);

                errno = 0;
                while ((de = readdir(d))) {
                        StoreFile *old;

                        if (!file_name_wanted(de->d_name))
                                continue;
                        if (n >= XL_STORE_DOMAINS_MAX) {
                                for (size_t i = 0; i < n; i++)
                                        store_file_done(&fresh[i]);
                                free(fresh);
                                return xv_error_setf(error, XVP_ERR_OPERATION_FAILED,
                                                     "%s holds more than %u definitions", s->dir,
                                                     (unsigned) XL_STORE_DOMAINS_MAX);
                        }
                        if (GREEDY_REALLOC(fresh, allocated, n + 1) < 0) {
                                for (size_t i = 0; i < n; i++)
                                        store_file_done(&fresh[i]);
                                free(fresh);
                                return -ENOMEM;
                        }
                        /* A known file keeps its parsed index (the old array stays sorted and
                         * searchable: only the parsed name moves). */
                        old = find_file(s, de->d_name);
                        if (old) {
                                fresh[n] = *old;
                                old->name = NULL;
                        } else
                                fresh[n] = (StoreFile) {};
                        fresh[n].file = strdup(de->d_name);
                        if (!fresh[n].file) {
                                free(fresh[n].name);
                                for (size_t i = 0; i < n; i++)
                                        store_file_done(&fresh[i]);
                                free(fresh);
                                return -ENOMEM;
                        }
                        n++;
                }
                for (size_t i = 0; i < s->n_files; i++)
                        store_file_done(&s->files[i]);
                free(s->files);
                s->files = fresh;
                s->n_files = n;
                s->allocated = allocated;
                if (n > 0)
                        qsort(s->files, n, sizeof(StoreFile), file_cmp);
                s->scanned = true;
                s->dir_mtime = st.st_mtim;
                s->scan_time = time(NULL);
        }

        /* Per file: a stat, and a parse only when it changed. Files gone since the scan drop out. */
        for (size_t i = 0; i < s->n_files;) {
                StoreFile *f = &s->files[i];
                _cleanup_free_ char *path = NULL;
                struct stat fst;
                int r;

                r = store_file_path(s, f->file, &path);
                if (r < 0)
                        return r;
                if (stat(path, &fst) < 0 || !S_ISREG(fst.st_mode)) {
                        store_file_done(f);
                        memmove(f, f + 1, (s->n_files - i - 1) * sizeof(StoreFile));
                        s->n_files--;
                        continue;
                }
                f->reparsed = false;
                store_file_refresh(s, f, &fst, false);
                f->valid = f->parsed_ok;
                i++;
        }

        /* Duplicate uuids: first file wins. Quadratic only in the worst case of a store full of
         * duplicates; a thousand valid entries are compared pairwise cheaply enough (memcmp). */
        for (size_t i = 0; i < s->n_files; i++) {
                if (!s->files[i].valid)
                        continue;
                for (size_t j = i + 1; j < s->n_files; j++)
                        if (s->files[j].valid && uuid_equal(&s->files[i].uuid, &s->files[j].uuid)) {
                                char u[UUID_STRING_BUF];

                                if (s->files[i].reparsed || s->files[j].reparsed)
                                        log_warning("Ignoring domain definition %s/%s: uuid %s is already used by %s",
                                                    s->dir, s->files[j].file, uuid_format(&s->files[j].uuid, u),
                                                    s->files[i].file);
                                s->files[j].valid = false;
                        }
        }
        return 0;
}

static StoreFile *find_name(XlStore *s, const char *name) {
        _cleanup_free_ char *file = NULL;
        StoreFile *f;

        if (asprintf(&file, "%s" XL_STORE_SUFFIX, name) < 0)
                return NULL;
        f = find_file(s, file);
        return f && f->valid ? f : NULL;
}

static StoreFile *find_uuid(XlStore *s, const XvUuid *uuid) {
        for (size_t i = 0; i < s->n_files; i++)
                if (s->files[i].valid && uuid_equal(&s->files[i].uuid, uuid))
                        return &s->files[i];
        return NULL;
}

static int no_domain_name(XvError *error, const char *name) {
        return xv_error_setf(error, XVP_ERR_NO_DOMAIN, "no domain with matching name '%s'", name);
}

static int no_domain_uuid(XvError *error, const XvUuid *uuid) {
        char u[UUID_STRING_BUF];

        return xv_error_setf(error, XVP_ERR_NO_DOMAIN, "no domain with matching uuid '%s'", uuid_format(uuid, u));
}

/* With the lock held: the valid definition named @name, after a refresh from the directory;
 * VIR_ERR_NO_DOMAIN when there is none (or @name cannot be one). */
static int store_find_name_locked(XlStore *s, const char *name, StoreFile **ret, XvError *error) {
        int r;

        if (xl_store_check_name(name, NULL) < 0)
                return no_domain_name(error, strempty(name));
        r = store_refresh(s, error);
        if (r < 0)
                return r;
        *ret = find_name(s, name);
        if (!*ret)
                return no_domain_name(error, name);
        return 0;
}

static bool store_autostart(XlStore *s, const char *file) {
        _cleanup_free_ char *link = NULL;
        struct stat st;

        if (store_link_path(s, file, &link) < 0)
                return false;
        return lstat(link, &st) == 0;
}

/* ---- public operations ------------------------------------------------------------------------ */

int xl_store_list(XlStore *s, XlStoreEntry **ret, size_t *ret_n, XvError *error) {
        XlStoreEntry *l = NULL;
        size_t n = 0;
        int r;

        assert(s);
        assert(ret);
        assert(ret_n);

        STORE_LOCK(s);
        r = store_refresh(s, error);
        if (r < 0)
                return r;

        for (size_t i = 0; i < s->n_files; i++)
                n += s->files[i].valid;
        if (n > 0) {
                size_t k = 0;

                l = new0(XlStoreEntry, n);
                if (!l)
                        return -ENOMEM;
                for (size_t i = 0; i < s->n_files; i++) {
                        const StoreFile *f = &s->files[i];

                        if (!f->valid)
                                continue;
                        l[k].name = strdup(f->name);
                        if (!l[k].name) {
                                xl_store_entries_free(l, k);
                                return -ENOMEM;
                        }
                        l[k].uuid = f->uuid;
                        l[k].autostart = store_autostart(s, f->file);
                        k++;
                }
        }
        /* Sorted by file name, which is the domain name plus a constant suffix: sorted by name
         * except where a name shares a prefix with another and the next byte is below '.'. */
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && strcmp(l[j - 1].name, l[j].name) > 0; j--) {
                        XlStoreEntry t = l[j];

                        l[j] = l[j - 1];
                        l[j - 1] = t;
                }

        *ret = l;
        *ret_n = n;
        return 0;
}

static int load_file(XlStore *s, StoreFile *f, DomainDef **ret, XvError *error) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL;
        int r;

        if (!ret)
                return 0;
        r = store_file_path(s, f->file, &path);
        if (r < 0)
                return r;
        r = read_full_file(path, XL_STORE_FILE_SIZE_MAX, &text, NULL);
        if (r < 0)
                return xv_error_set_errnof(error, r, "Cannot read %s", path);
        r = xl_domain_parse_text(text, &def, error);
        if (r < 0)
                return r;
        /* The file changed between the index and this read: its name or uuid must still agree. */
        if (!streq(def->name, f->name) || !uuid_equal(&def->uuid, &f->uuid))
                return xv_error_setf(error, XVP_ERR_OPERATION_FAILED, "%s changed while it was read", path);
        *ret = TAKE_PTR(def);
        return 0;
}

int xl_store_load_by_name(XlStore *s, const char *name, DomainDef **ret, XvError *error) {
        StoreFile *f;
        int r;

        assert(s);

        STORE_LOCK(s);
        r = store_find_name_locked(s, name, &f, error);
        if (r < 0)
                return r;
        return load_file(s, f, ret, error);
}

int xl_store_load_by_uuid(XlStore *s, const XvUuid *uuid, DomainDef **ret, XvError *error) {
        StoreFile *f;
        int r;

        assert(s);
        assert(uuid);

        STORE_LOCK(s);
        r = store_refresh(s, error);
        if (r < 0)
                return r;
        f = find_uuid(s, uuid);
        if (!f)
                return no_domain_uuid(error, uuid);
        return load_file(s, f, ret, error);
}

int xl_store_lookup_name(XlStore *s, const char *name, XvUuid *ret_uuid, XvError *error) {
        StoreFile *f;
        int r;

        assert(s);
        if (xl_store_check_name(name, NULL) < 0)
                return 0;

        STORE_LOCK(s);
        r = store_refresh(s, error);
        if (r < 0)
                return r;
        f = find_name(s, name);
        if (!f)
                return 0;
        if (ret_uuid)
                *ret_uuid = f->uuid;
        return 1;
}

int xl_store_lookup_uuid(XlStore *s, const XvUuid *uuid, char **ret_name, XvError *error) {
        StoreFile *f;
        int r;

        assert(s);
        assert(uuid);

        STORE_LOCK(s);
        r = store_refresh(s, error);
        if (r < 0)
                return r;
        f = find_uuid(s, uuid);
        if (!f)
                return 0;
        if (ret_name) {
                *ret_name = strdup(f->name);
                if (!*ret_name)
                        return -ENOMEM;
        }
        return 1;
}

static int check_writable(XlStore *s, XvError *error) {
        if (s->read_only)
                return xv_error_setf(error, XVP_ERR_OPERATION_DENIED, "The definitions store %s is read-only",
                                     s->dir);
        return 0;
}

int xl_store_save(XlStore *s, const DomainDef *def, XvError *error) {
        _cleanup_free_ char *path = NULL, *text = NULL, *data = NULL, *file = NULL;
        char u[UUID_STRING_BUF];
        StoreFile *f;
        struct stat st;
        bool existed;
        int r;

        assert(s);
        assert(def);

        r = check_writable(s, error);
        if (r < 0)
                return r;
        r = xl_store_check_name(def->name, error);
        if (r < 0)
                return r;
        if (!def->has_uuid)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Domain '%s' has no UUID", def->name);

        r = xl_domain_format_text(def, &text, error);
        if (r < 0)
                return r;
        if (asprintf(&data, "%s%s", STORE_HEADER, text) < 0)
                return -ENOMEM;
        if (strlen(data) > XL_STORE_FILE_SIZE_MAX)
                return xv_error_setf(error, XVP_ERR_CONFIG_UNSUPPORTED,
                                     "The definition of '%s' is larger than %u bytes", def->name,
                                     (unsigned) XL_STORE_FILE_SIZE_MAX);

        STORE_LOCK(s);
        r = store_refresh(s, error);
        if (r < 0)
                return r;

        /* libvirt's refusals (virDomainObjListAdd). */
        f = find_uuid(s, &def->uuid);
        if (f && !streq(f->name, def->name))
                return xv_error_setf(error, XVP_ERR_OPERATION_FAILED, "domain '%s' is already defined with uuid %s",
                                     f->name, uuid_format(&def->uuid, u));
        f = find_name(s, def->name);
        if (f && !uuid_equal(&f->uuid, &def->uuid))
                return xv_error_setf(error, XVP_ERR_OPERATION_FAILED, "domain '%s' already exists with uuid %s",
                                     def->name, uuid_format(&f->uuid, u));
        existed = f != NULL;

        r = xl_store_path(s, def->name, &path, error);
        if (r < 0)
                return r;
        /* A file of that name that is not a valid definition belongs to someone: keep it. */
        if (!existed && lstat(path, &st) == 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_FAILED,
                                     "%s exists but is not a valid definition; not overwriting it", path);

        /* A new domain does not inherit the autostart link that an interrupted removal of an
         * earlier one of that name left. */
        if (!existed) {
                _cleanup_free_ char *link = NULL;

                r = store_link_path(s, strrchr(path, '/') + 1 /* NAME.cfg */, &link);
                if (r < 0)
                        return r;
                if (unlink(link) < 0 && errno != ENOENT)
                        return xv_error_set_errnof(error, -errno, "Cannot remove the stale autostart link %s", link);
        }
        r = write_file_atomic(path, data, strlen(data), 0600);
        if (r < 0)
                return xv_error_set_errnof(error, r, "Cannot write %s", path);

        /* The next call sees the new file through the directory's mtime (a rename changes it) and
         * the file's stat. */
        return existed ? 0 : 1;
}

int xl_store_remove(XlStore *s, const char *name, XvError *error) {
        _cleanup_free_ char *path = NULL, *link = NULL;
        StoreFile *f;
        int r;

        assert(s);

        r = check_writable(s, error);
        if (r < 0)
                return r;

        STORE_LOCK(s);
        r = store_find_name_locked(s, name, &f, error);
        if (r < 0)
                return r;

        r = store_file_path(s, f->file, &path);
        if (r < 0)
                return r;
        r = store_link_path(s, f->file, &link);
        if (r < 0)
                return r;
        /* The definition first: it is what makes the domain. A crash before the link goes leaves
         * a dangling link, which the next open (remove_dangling_links()) or a new definition of
         * the name removes; the other order would leave a defined domain that lost its autostart. */
        if (unlink(path) < 0 && errno != ENOENT)
                return xv_error_set_errnof(error, -errno, "Cannot remove %s", path);
        f->valid = f->parsed_ok = false;
        if (unlink(link) < 0 && errno != ENOENT)
                (void) log_warning_errno(-errno, "Cannot remove the autostart link %s: %m", link);
        return 0;
}

int xl_store_get_autostart(XlStore *s, const char *name, XvError *error) {
        StoreFile *f;
        int r;

        assert(s);

        STORE_LOCK(s);
        r = store_find_name_locked(s, name, &f, error);
        if (r < 0)
                return r;
        return store_autostart(s, f->file);
}

int xl_store_set_autostart(XlStore *s, const char *name, bool autostart, XvError *error) {
        _cleanup_free_ char *link = NULL, *target = NULL;
        StoreFile *f;
        int r;

        assert(s);

        r = check_writable(s, error);
        if (r < 0)
                return r;

        STORE_LOCK(s);
        r = store_find_name_locked(s, name, &f, error);
        if (r < 0)
                return r;

        r = store_link_path(s, f->file, &link);
        if (r < 0)
                return r;
        if (!autostart) {
                if (unlink(link) < 0 && errno != ENOENT)
                        return xv_error_set_errnof(error, -errno, "Cannot remove %s", link);
                return 0;
        }

        r = mkdir_mode(s->auto_dir, 0755, error);
        if (r < 0)
                return r;
        if (asprintf(&target, "../%s", f->file) < 0)
                return -ENOMEM;
        if (symlink(target, link) < 0 && errno != EEXIST)
                return xv_error_set_errnof(error, -errno, "Cannot create %s", link);
        return 0;
}
