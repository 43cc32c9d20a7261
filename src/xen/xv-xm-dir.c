/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "xv-alloc.h"
#include "xv-fileio.h"
#include "xv-log.h"
#include "xv-xm-config.h"
#include "xv-xm-dir.h"
#include "xv-xm-domain.h"

#define XM_DIR_INOTIFY_MASK (IN_CREATE | IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM)

typedef struct XmFile {
        char *file;                     /* name inside the directory */
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime;
        DomainDef *def;                 /* NULL when the file did not parse */
        uint64_t generation;            /* bumped at every (re-)parse */
        bool owner;                     /* this file owns def->name */
        bool seen;                      /* found by the running scan */
} XmFile;

typedef struct XmReported {
        char *name;
        XvUuid uuid;
        uint64_t generation;
} XmReported;

struct XmDir {
        pthread_mutex_t lock;
        char *path;
        char *auto_path;
        int version;
        int inotify_fd;
        bool dirty;                     /* a rescan is due */

        XmFile *files;                  /* sorted by file name */
        size_t n_files;
        uint64_t next_generation;

        XmReported *reported;           /* sorted by name */
        size_t n_reported;
};

static void xm_file_done(XmFile *f) {
        free(f->file);
        domain_def_free(f->def);
        *f = (XmFile) {};
}

static void reported_free(XmReported *l, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(l[i].name);
        free(l);
}

void xm_dir_domains_free(XmDirDomain *l, size_t n) {
        for (size_t i = 0; l && i < n; i++) {
                free(l[i].name);
                free(l[i].file);
        }
        free(l);
}

void xm_dir_changes_free(XmDirChange *l, size_t n) {
        for (size_t i = 0; l && i < n; i++)
                free(l[i].name);
        free(l);
}

static bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool xm_dir_name_is_skipped(const char *filename) {
        size_t l;

        if (isempty(filename) || filename[0] == '.' || filename[0] == '#')
                return true;
        l = strlen(filename);
        if (filename[l - 1] == '~')
                return true;
        /* Files of XenD and of the Xen tools that live in /etc/xen but define no domain. */
        return startswith(filename, "xend-config.sxp") || startswith(filename, "xend-pci-") ||
                startswith(filename, "xmexample") || startswith(filename, "qemu-ifup");
}

static void xm_dir_lock(XmDir *d) {
        (void) pthread_mutex_lock(&d->lock);
}

static void xm_dir_unlockp(XmDir **d) {
        if (*d)
                (void) pthread_mutex_unlock(&(*d)->lock);
}

#define XM_DIR_LOCKED(d) \
        _cleanup_(xm_dir_unlockp) _unused_ XmDir *_locked_ = (xm_dir_lock(d), (d))

XmDir *xm_dir_free(XmDir *d) {
        if (!d)
                return NULL;
        for (size_t i = 0; i < d->n_files; i++)
                xm_file_done(&d->files[i]);
        free(d->files);
        reported_free(d->reported, d->n_reported);
        safe_close(d->inotify_fd);
        free(d->path);
        free(d->auto_path);
        (void) pthread_mutex_destroy(&d->lock);
        return mfree(d);
}

const char *xm_dir_path(const XmDir *d) {
        return d->path;
}

int xm_dir_inotify_fd(const XmDir *d) {
        return d->inotify_fd;
}

static XmFile *find_file(XmDir *d, const char *file) {
        for (size_t i = 0; i < d->n_files; i++)
                if (streq(d->files[i].file, file))
                        return &d->files[i];
        return NULL;
}

static XmFile *find_owner(XmDir *d, const char *name) {
        for (size_t i = 0; i < d->n_files; i++)
                if (d->files[i].owner && d->files[i].def && streq(d->files[i].def->name, name))
                        return &d->files[i];
        return NULL;
}

static int file_cmp(const void *a, const void *b) {
        return strcmp(((const XmFile *) a)->file, ((const XmFile *) b)->file);
}

/* Parses one file into @f (which has its stat fields set). A file that fails is kept with no
 * definition, so that it is not re-read until it changes. */
static int parse_file(XmDir *d, XmFile *f) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        XvError e = XV_ERROR_NULL;
        int r;

        f->def = domain_def_free(f->def);
        f->generation = ++d->next_generation;
        if (asprintf(&path, "%s/%s", d->path, f->file) < 0)
                return -ENOMEM;
        r = read_full_file(path, XM_CONFIG_SIZE_MAX, &text, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_debug_errno(r, "XM directory: cannot read '%s', ignoring: %m", path);
                return 0;
        }
        r = xm_domain_parse_text(text, d->version, &def, &e);
        if (r == -ENOMEM) {
                xv_error_done(&e);
                return r;
        }
        if (r < 0 || !def->name) {
                log_debug("XM directory: '%s' is not a domain config, ignoring: %s", path,
                          strempty(e.message));
                xv_error_done(&e);
                return 0;
        }
        f->def = TAKE_PTR(def);
        return 0;
}

/* Decides which file owns each name: a previous owner that still claims its name keeps it, the
 * others go to the first claiming file in name order. */
static void assign_owners(XmDir *d) {
        for (size_t i = 0; i < d->n_files; i++) {
                XmFile *f = &d->files[i];

                if (!f->def) {
                        f->owner = false;
                        continue;
                }
                if (!f->owner)
                        continue;
                /* Two owners of one name can arise when a file was renamed to the owner's name;
                 * keep the first. */
                for (size_t j = 0; j < i; j++)
                        if (d->files[j].owner && d->files[j].def && streq(d->files[j].def->name, f->def->name)) {
                                f->owner = false;
                                break;
                        }
        }
        for (size_t i = 0; i < d->n_files; i++) {
                XmFile *f = &d->files[i];

                if (f->def && !f->owner && !find_owner(d, f->def->name))
                        f->owner = true;
        }
}

static int rescan(XmDir *d) {
        DIR *dir;
        size_t n_seen = 0;
        int r = 0;

        for (size_t i = 0; i < d->n_files; i++)
                d->files[i].seen = false;

        dir = opendir(d->path);
        if (!dir)
                return -errno;
        for (struct dirent *de; (de = readdir(dir)); ) {
                struct stat st;
                XmFile *f;

                if (xm_dir_name_is_skipped(de->d_name))
                        continue;
                if (fstatat(dirfd(dir), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
                        continue;
                if (n_seen >= XM_DIR_ENTRIES_MAX) {
                        log_debug("XM directory: more than %u files in '%s', ignoring the rest",
                                  XM_DIR_ENTRIES_MAX, d->path);
                        break;
                }
                n_seen++;

                f = find_file(d, de->d_name);
                if (!f) {
                        XmFile *n;

                        n = reallocarray(d->files, d->n_files + 1, sizeof(XmFile));
                        if (!n) {
                                r = -ENOMEM;
                                break;
                        }
                        d->files = n;
                        f = &d->files[d->n_files++];
                        *f = (XmFile) {};
                        f->file = strdup(de->d_name);
                        if (!f->file) {
                                d->n_files--;
                                r = -ENOMEM;
                                break;
                        }
                        f->generation = 0;
                }
                f->seen = true;
                if (f->generation != 0 && f->dev == st.st_dev && f->ino == st.st_ino && f->size == st.st_size &&
                    f->mtime.tv_sec == st.st_mtim.tv_sec && f->mtime.tv_nsec == st.st_mtim.tv_nsec)
                        continue;
                f->dev = st.st_dev;
                f->ino = st.st_ino;
                f->size = st.st_size;
                f->mtime = st.st_mtim;
                r = parse_file(d, f);
                if (r < 0)
                        break;
        }
        closedir(dir);
        if (r < 0)
                return r;

        /* Reap what the scan did not find. */
        for (size_t i = 0; i < d->n_files; ) {
                if (d->files[i].seen) {
                        i++;
                        continue;
                }
                xm_file_done(&d->files[i]);
                memmove(&d->files[i], &d->files[i + 1], (d->n_files - i - 1) * sizeof(XmFile));
                d->n_files--;
        }
        if (d->n_files > 0)
                qsort(d->files, d->n_files, sizeof(XmFile), file_cmp);
        assign_owners(d);
        d->dirty = false;
        return 0;
}

/* Reads the pending inotify events. Any event may change what the directory defines. */
static void drain_inotify(XmDir *d) {
        union {
                struct inotify_event ev;
                char buf[4096];
        } u;

        if (d->inotify_fd < 0) {
                d->dirty = true;
                return;
        }
        for (;;) {
                ssize_t l = read(d->inotify_fd, u.buf, sizeof(u.buf));

                if (l <= 0)
                        break;
                d->dirty = true;
        }
}

static int sync_locked(XmDir *d, XvError *error) {
        int r;

        drain_inotify(d);
        if (!d->dirty)
                return 0;
        r = rescan(d);
        if (r < 0)
                return xv_error_set_errnof(error, r, "Cannot read the XM config directory '%s'", d->path);
        return 0;
}

static int snapshot(XmDir *d, XmReported **ret, size_t *ret_n);
static bool snapshot_differs(XmDir *d);
static void remove_leftover_tmps(const char *path);
static void remove_dangling_autostart_links(const XmDir *d);

int xm_dir_new(const char *path, int xend_config_version, bool watch, XmDir **ret, XvError *error) {
        _cleanup_(xm_dir_freep) XmDir *d = NULL;
        int r;

        assert(path);
        assert(ret);

        if (xend_config_version < XM_CONFIG_VERSION_MIN || xend_config_version > XM_CONFIG_VERSION_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid xend config version %d",
                                     xend_config_version);
        if (strlen(path) > XM_DIR_PATH_MAX / 2)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "XM directory path too long");

        d = new0(XmDir, 1);
        if (!d)
                return -ENOMEM;
        d->inotify_fd = -EBADF;
        d->version = xend_config_version;
        d->dirty = true;
        (void) pthread_mutex_init(&d->lock, NULL);
        d->path = strdup(path);
        if (!d->path || asprintf(&d->auto_path, "%s/auto", path) < 0)
                return -ENOMEM;

        if (watch) {
                d->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
                if (d->inotify_fd < 0)
                        return xv_error_set_errnof(error, -errno, "Cannot create an inotify instance");
                if (inotify_add_watch(d->inotify_fd, path, XM_DIR_INOTIFY_MASK) < 0)
                        return xv_error_set_errnof(error, -errno, "Cannot watch the XM config directory '%s'",
                                                   path);
        }

        remove_leftover_tmps(path);
        remove_dangling_autostart_links(d);
        r = rescan(d);
        if (r < 0)
                return xv_error_set_errnof(error, r, "Cannot read the XM config directory '%s'", path);
        r = snapshot(d, &d->reported, &d->n_reported);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(d);
        return 0;
}

int xm_dir_sync(XmDir *d, XvError *error) {
        XM_DIR_LOCKED(d);
        int r;

        r = sync_locked(d, error);
        if (r < 0)
                return r;
        return snapshot_differs(d);
}

static int domain_cmp(const void *a, const void *b) {
        return strcmp(((const XmDirDomain *) a)->name, ((const XmDirDomain *) b)->name);
}

/* Whether auto/<name> leads to @f. */
static bool autostart_of(XmDir *d, const char *name, const XmFile *f) {
        _cleanup_free_ char *link = NULL;
        struct stat st;

        if (asprintf(&link, "%s/%s", d->auto_path, name) < 0)
                return false;
        if (stat(link, &st) < 0)
                return false;
        return st.st_dev == f->dev && st.st_ino == f->ino;
}

int xm_dir_list(XmDir *d, XmDirDomain **ret, size_t *ret_n, XvError *error) {
        XM_DIR_LOCKED(d);
        XmDirDomain *l = NULL;
        size_t n = 0;
        int r;

        r = sync_locked(d, error);
        if (r < 0)
                return r;

        l = new0(XmDirDomain, d->n_files);
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_files; i++) {
                const XmFile *f = &d->files[i];

                if (!f->owner)
                        continue;
                l[n].name = strdup(f->def->name);
                l[n].file = strdup(f->file);
                if (!l[n].name || !l[n].file) {
                        xm_dir_domains_free(l, n + 1);
                        return -ENOMEM;
                }
                l[n].uuid = f->def->uuid;
                l[n].autostart = autostart_of(d, f->def->name, f);
                n++;
        }
        if (n > 0)
                qsort(l, n, sizeof(XmDirDomain), domain_cmp);
        *ret = l;
        *ret_n = n;
        return 0;
}

int xm_dir_get(XmDir *d, const char *name, DomainDef **ret, XvError *error) {
        XM_DIR_LOCKED(d);
        const XmFile *f;
        int r;

        r = sync_locked(d, error);
        if (r < 0)
                return r;
        f = find_owner(d, name);
        if (!f) {
                xv_error_setf(error, XVP_ERR_NO_DOMAIN, "No XM config defines domain '%s'", name);
                return -ENOENT;
        }
        return domain_def_copy(f->def, ret);
}

int xm_dir_find_uuid(XmDir *d, const XvUuid *uuid, char **ret_name) {
        XM_DIR_LOCKED(d);
        int r;

        r = sync_locked(d, NULL);
        if (r < 0)
                return r;
        for (size_t i = 0; i < d->n_files; i++) {
                const XmFile *f = &d->files[i];
                char *s;

                if (!f->owner || !uuid_equal(&f->def->uuid, uuid))
                        continue;
                s = strdup(f->def->name);
                if (!s)
                        return -ENOMEM;
                *ret_name = s;
                return 0;
        }
        return -ENOENT;
}

/* A write in progress is a dot-file (write_file_atomic(), ATOMIC_TMP_INFIX) that every scan skips
 * (xm_dir_name_is_skipped()), so that a daemon killed between creating it and renaming it over
 * <file> leaves nothing the directory would parse as a (torn) domain config; xm_dir_new() removes
 * such leftovers. The longest domain name stored as a file name leaves room for that name. */
#define XM_DIR_FILE_NAME_MAX (NAME_MAX - ATOMIC_TMP_NAME_EXTRA)

static void remove_leftover_tmps(const char *path) {
        DIR *dir = opendir(path);

        if (!dir)
                return;
        for (struct dirent *de; (de = readdir(dir)); )
                if (atomic_tmp_name_is(de->d_name) && unlinkat(dirfd(dir), de->d_name, 0) >= 0)
                        log_debug("XM directory: removed the leftover '%s/%s' of an interrupted write",
                                  path, de->d_name);
        closedir(dir);
}

/* Whether the symbolic link auto/<entry> leads to a file of this directory (as the links that
 * xm_dir_set_autostart() makes do) that no longer exists. */
static bool is_dangling_own_link(const XmDir *d, int auto_fd, const char *entry) {
        char target[PATH_MAX];
        const char *slash;
        struct stat st;
        ssize_t n;

        n = readlinkat(auto_fd, entry, target, sizeof(target) - 1);
        if (n <= 0)
                return false;
        target[n] = '\0';
        slash = strrchr(target, '/');
        if (!slash || (size_t) (slash - target) != strlen(d->path) || !startswith(target, d->path))
                return false;
        return stat(target, &st) < 0 && errno == ENOENT;
}

/* Removes the autostart links that an undefine interrupted between removing the config and its
 * link left behind (xm_dir_undefine()). Links to configs elsewhere are the administrator's. */
static void remove_dangling_autostart_links(const XmDir *d) {
        DIR *dir = opendir(d->auto_path);

        if (!dir)
                return;
        for (struct dirent *de; (de = readdir(dir)); )
                if (de->d_name[0] != '.' && is_dangling_own_link(d, dirfd(dir), de->d_name) &&
                    unlinkat(dirfd(dir), de->d_name, 0) >= 0)
                        log_info("XM directory: removed the autostart link '%s/%s' of an undefined domain",
                                 d->auto_path, de->d_name);
        closedir(dir);
}

/* Replaces @file in the directory by @text (write_file_atomic(): readers see the old or the new
 * version, never a part of one; a full or read-only file system fails before the rename and leaves
 * the old file as it was). */
static int write_config_atomic(XmDir *d, const char *file, const char *text) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/%s", d->path, file) < 0)
                return -ENOMEM;
        return write_file_atomic(path, text, strlen(text), 0600);
}

static int check_file_name(const char *name, XvError *error) {
        if (isempty(name) || strlen(name) > XM_DIR_FILE_NAME_MAX || strchr(name, '/') || strchr(name, '\n') ||
            xm_dir_name_is_skipped(name) || streq(name, "auto") || streq(name, "scripts"))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Domain name '%s' cannot be stored in the XM config directory", strempty(name));
        return 0;
}

int xm_dir_define(XmDir *d, const DomainDef *def, bool *ret_updated, XvError *error) {
        XM_DIR_LOCKED(d);
        _cleanup_(domain_def_freep) DomainDef *copy = NULL;
        _cleanup_free_ char *text = NULL, *path = NULL;
        XmFile *owner, *f;
        struct stat st;
        bool updated;
        int r;

        assert(def);

        r = check_file_name(def->name, error);
        if (r < 0)
                return r;
        r = sync_locked(d, error);
        if (r < 0)
                return r;

        r = domain_def_copy(def, &copy);
        if (r < 0)
                return r;
        owner = find_owner(d, def->name);
        if (!copy->has_uuid) {
                /* A redefinition without a UUID keeps the domain's identity. */
                if (owner)
                        copy->uuid = owner->def->uuid;
                else {
                        r = uuid_new_random(&copy->uuid);
                        if (r < 0)
                                return xv_error_set_errnof(error, r, "Cannot generate a UUID");
                }
                copy->has_uuid = true;
        }
        for (size_t i = 0; i < d->n_files; i++) {
                const XmFile *o = &d->files[i];
                char ubuf[UUID_STRING_BUF];

                if (o->owner && !streq(o->def->name, def->name) && uuid_equal(&o->def->uuid, &copy->uuid))
                        return xv_error_setf(error, XVP_ERR_OPERATION_FAILED,
                                             "Domain '%s' is already defined with UUID %s", o->def->name,
                                             uuid_format(&copy->uuid, ubuf));
        }

        r = xm_domain_format_text(copy, d->version, &text, error);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/%s", d->path, owner ? owner->file : def->name) < 0)
                return -ENOMEM;
        r = write_config_atomic(d, owner ? owner->file : def->name, text);
        if (r < 0)
                return xv_error_set_errnof(error, r, "Cannot write '%s'", path);
        if (stat(path, &st) < 0)
                return xv_error_set_errnof(error, -errno, "Cannot stat '%s'", path);

        updated = owner;
        f = find_file(d, owner ? owner->file : def->name);
        if (!f) {
                XmFile *n = reallocarray(d->files, d->n_files + 1, sizeof(XmFile));

                if (!n)
                        return -ENOMEM;
                d->files = n;
                f = &d->files[d->n_files];
                *f = (XmFile) {};
                f->file = strdup(def->name);
                if (!f->file)
                        return -ENOMEM;
                d->n_files++;
        }
        f->dev = st.st_dev;
        f->ino = st.st_ino;
        f->size = st.st_size;
        f->mtime = st.st_mtim;
        f->seen = true;
        /* Read back what was written, so that the cache holds what any reader of the file sees. */
        r = parse_file(d, f);
        if (r < 0)
                return r;
        if (!f->def) {
                d->dirty = true;
                return xv_error_setf(error, XVP_ERR_INTERNAL, "The XM config written to '%s' does not parse back",
                                     path);
        }
        /* A file that claimed the name without owning it may have taken over: this one wins. */
        for (size_t i = 0; i < d->n_files; i++)
                if (d->files[i].def && streq(d->files[i].def->name, def->name))
                        d->files[i].owner = false;
        f->owner = true;
        qsort(d->files, d->n_files, sizeof(XmFile), file_cmp);
        assign_owners(d);

        if (ret_updated)
                *ret_updated = updated;
        return 0;
}

int xm_dir_undefine(XmDir *d, const char *name, XvError *error) {
        XM_DIR_LOCKED(d);
        _cleanup_free_ char *path = NULL, *link = NULL;
        bool autostart;
        XmFile *f;
        int r;

        r = sync_locked(d, error);
        if (r < 0)
                return r;
        f = find_owner(d, name);
        if (!f) {
                xv_error_setf(error, XVP_ERR_NO_DOMAIN, "No XM config defines domain '%s'", name);
                return -ENOENT;
        }
        if (asprintf(&path, "%s/%s", d->path, f->file) < 0 || asprintf(&link, "%s/%s", d->auto_path, name) < 0)
                return -ENOMEM;
        autostart = autostart_of(d, name, f);
        /* The config goes first: it is what defines the domain. A daemon killed before the link
         * goes leaves a dangling link, which xm_dir_new() removes; the other order would leave a
         * domain that is still defined but has lost its autostart. */
        if (unlink(path) < 0 && errno != ENOENT)
                return xv_error_set_errnof(error, -errno, "Cannot remove '%s'", path);
        if (autostart && unlink(link) < 0 && errno != ENOENT)
                (void) log_warning_errno(-errno, "XM directory: cannot remove the autostart link '%s': %m", link);

        xm_file_done(f);
        memmove(f, f + 1, (size_t) (&d->files[d->n_files] - (f + 1)) * sizeof(XmFile));
        d->n_files--;
        assign_owners(d);
        return 0;
}

int xm_dir_get_autostart(XmDir *d, const char *name, bool *ret, XvError *error) {
        XM_DIR_LOCKED(d);
        const XmFile *f;
        int r;

        r = sync_locked(d, error);
        if (r < 0)
                return r;
        f = find_owner(d, name);
        if (!f) {
                xv_error_setf(error, XVP_ERR_NO_DOMAIN, "No XM config defines domain '%s'", name);
                return -ENOENT;
        }
        *ret = autostart_of(d, name, f);
        return 0;
}

int xm_dir_set_autostart(XmDir *d, const char *name, bool autostart, XvError *error) {
        XM_DIR_LOCKED(d);
        _cleanup_free_ char *path = NULL, *link = NULL;
        const XmFile *f;
        int r;

        r = sync_locked(d, error);
        if (r < 0)
                return r;
        f = find_owner(d, name);
        if (!f) {
                xv_error_setf(error, XVP_ERR_NO_DOMAIN, "No XM config defines domain '%s'", name);
                return -ENOENT;
        }
        if (autostart_of(d, name, f) == autostart)
                return 0;
        if (asprintf(&path, "%s/%s", d->path, f->file) < 0 || asprintf(&link, "%s/%s", d->auto_path, name) < 0)
                return -ENOMEM;
        if (!autostart) {
                if (unlink(link) < 0 && errno != ENOENT)
                        return xv_error_set_errnof(error, -errno, "Cannot remove the autostart link '%s'", link);
                return 0;
        }
        if (mkdir(d->auto_path, 0755) < 0 && errno != EEXIST)
                return xv_error_set_errnof(error, -errno, "Cannot create '%s'", d->auto_path);
        /* A stale link (to another file) is replaced. */
        (void) unlink(link);
        if (symlink(path, link) < 0)
                return xv_error_set_errnof(error, -errno, "Cannot create the autostart link '%s'", link);
        return 0;
}

static int reported_cmp(const void *a, const void *b) {
        return strcmp(((const XmReported *) a)->name, ((const XmReported *) b)->name);
}

static int snapshot(XmDir *d, XmReported **ret, size_t *ret_n) {
        XmReported *l;
        size_t n = 0;

        l = new0(XmReported, d->n_files);
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_files; i++) {
                const XmFile *f = &d->files[i];

                if (!f->owner)
                        continue;
                l[n].name = strdup(f->def->name);
                if (!l[n].name) {
                        reported_free(l, n);
                        return -ENOMEM;
                }
                l[n].uuid = f->def->uuid;
                l[n].generation = f->generation;
                n++;
        }
        if (n > 0)
                qsort(l, n, sizeof(XmReported), reported_cmp);
        *ret = l;
        *ret_n = n;
        return 0;
}

static const XmReported *find_reported(const XmReported *l, size_t n, const char *name) {
        XmReported key = { .name = (char *) name };

        return n > 0 ? bsearch(&key, l, n, sizeof(XmReported), reported_cmp) : NULL;
}

static bool snapshot_differs(XmDir *d) {
        size_t owners = 0;

        for (size_t i = 0; i < d->n_files; i++) {
                const XmFile *f = &d->files[i];
                const XmReported *p;

                if (!f->owner)
                        continue;
                owners++;
                p = find_reported(d->reported, d->n_reported, f->def->name);
                if (!p || p->generation != f->generation)
                        return true;
        }
        return owners != d->n_reported;
}

int xm_dir_take_changes(XmDir *d, XmDirChange **ret, size_t *ret_n) {
        XM_DIR_LOCKED(d);
        XmReported *now = NULL;
        XmDirChange *l;
        size_t n_now = 0, n = 0;
        int r;

        r = sync_locked(d, NULL);
        if (r < 0)
                return r;
        r = snapshot(d, &now, &n_now);
        if (r < 0)
                return r;
        l = new0(XmDirChange, n_now + d->n_reported);
        if (!l) {
                reported_free(now, n_now);
                return -ENOMEM;
        }

        for (size_t i = 0; i < d->n_reported; i++)
                if (!find_reported(now, n_now, d->reported[i].name)) {
                        l[n].type = XM_DIR_CHANGE_REMOVED;
                        l[n].uuid = d->reported[i].uuid;
                        l[n].name = strdup(d->reported[i].name);
                        if (!l[n++].name)
                                r = -ENOMEM;
                }
        for (size_t i = 0; i < n_now; i++) {
                const XmReported *p = find_reported(d->reported, d->n_reported, now[i].name);

                if (p && p->generation == now[i].generation)
                        continue;
                l[n].type = p ? XM_DIR_CHANGE_UPDATED : XM_DIR_CHANGE_ADDED;
                l[n].uuid = now[i].uuid;
                l[n].name = strdup(now[i].name);
                if (!l[n++].name)
                        r = -ENOMEM;
        }
        if (r < 0) {
                xm_dir_changes_free(l, n);
                reported_free(now, n_now);
                return r;
        }

        reported_free(d->reported, d->n_reported);
        d->reported = now;
        d->n_reported = n_now;
        if (n == 0)
                l = mfree(l);
        *ret = l;
        *ret_n = n;
        return 0;
}
