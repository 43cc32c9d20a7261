/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xv-alloc.h"
#include "xv-fileio.h"
#include "xv-log.h"
#include "xv-sexpr-domain.h"
#include "xv-sexpr.h"
#include "xv-xl-domain.h"
#include "xv-xl-store.h"
#include "xv-xm-config.h"
#include "xv-xm-dir.h"
#include "xv-xm-domain.h"
#include "xvd-import.h"

typedef enum ImportSource {
        IMPORT_SOURCE_XEND,
        IMPORT_SOURCE_XM,
} ImportSource;

typedef struct Candidate {
        DomainDef *def;
        char *path;
        bool autostart;
        bool uuid_given;        /* false: an XM file without a uuid key (a random one was made) */
        ImportSource source;
} Candidate;

typedef struct Candidates {
        Candidate *items;
        size_t n, allocated;
} Candidates;

static void candidates_done(Candidates *c) {
        for (size_t i = 0; i < c->n; i++) {
                domain_def_free(c->items[i].def);
                free(c->items[i].path);
        }
        free(c->items);
        *c = (Candidates) {};
}

static int candidates_add(Candidates *c, DomainDef **def, char **path, bool autostart, bool uuid_given,
                          ImportSource source) {
        if (GREEDY_REALLOC(c->items, c->allocated, c->n + 1) < 0)
                return -ENOMEM;
        c->items[c->n++] = (Candidate) {
                .def = TAKE_PTR(*def),
                .path = TAKE_PTR(*path),
                .autostart = autostart,
                .uuid_given = uuid_given,
                .source = source,
        };
        return 0;
}

static void closedirp_(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

/* Directory entries, sorted, so that the report is stable. NULL-terminated. */
static int list_dir(const char *dir, char ***ret) {
        _cleanup_(closedirp_) DIR *d = NULL;
        _cleanup_strv_free_ char **l = NULL;
        struct dirent *de;
        size_t n = 0;
        int r;

        d = opendir(dir);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (++n > IMPORT_FILES_MAX)
                        return -E2BIG;
                r = strv_extend(&l, de->d_name);
                if (r < 0)
                        return r;
        }
        if (l)
                qsort(l, strv_length(l), sizeof(char *), strcmp_ptr);
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- XenD's managed-domain store -------------------------------------------------------------- */

static int collect_xend(const char *dir, Candidates *c, unsigned *failed) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = list_dir(dir, &names);
        if (r == -ENOENT) {
                log_info("No XenD domain store at %s.", dir);
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Cannot read %s: %s", dir, strerror(-r));

        STRV_FOREACH(n, names) {
                _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
                _cleanup_(sexpr_freep) Sexpr *sxp = NULL;
                _cleanup_(domain_def_freep) DomainDef *def = NULL;
                _cleanup_free_ char *path = NULL, *text = NULL;
                SexprDomainOptions opts = SEXPR_DOMAIN_OPTIONS_INIT(XEND_CONFIG_VERSION_3_1_0);
                size_t size = 0;
                bool autostart = false;
                struct stat st;

                if (asprintf(&path, "%s/%s/config.sxp", dir, *n) < 0)
                        return log_error_errno(-ENOMEM, "Out of memory.");
                if (stat(path, &st) < 0)
                        continue;       /* not a domain directory */

                /* The files are xend 3.x/4.x's: read them as the newest config version. */
                r = read_full_file(path, SEXPR_SIZE_MAX, &text, &size);
                if (r < 0) {
                        printf("skipped %s: cannot read %s: %s\n", *n, path, strerror(-r));
                        (*failed)++;
                        continue;
                }
                r = sexpr_parse(text, size, &sxp, &e);
                if (r >= 0)
                        r = sexpr_domain_to_def(sxp, &opts, &def, &e);
                if (r < 0) {
                        printf("skipped %s: %s: %s\n", *n, path, e.message ?: strerror(-r));
                        (*failed)++;
                        continue;
                }
                def->id = -1;
                (void) sexpr_domain_autostart(sxp, &autostart);

                r = candidates_add(c, &def, &path, autostart, true, IMPORT_SOURCE_XEND);
                if (r < 0)
                        return log_error_errno(-ENOMEM, "Out of memory.");
        }
        return 0;
}

/* ---- XM config files -------------------------------------------------------------------------- */

/* Backups and package-manager leftovers next to the real files. */
static bool xm_backup_name(const char *name) {
        static const char * const suffixes[] = {
                ".bak", ".old", ".orig", ".rej", ".swp", ".rpmsave", ".rpmnew", ".rpmorig",
                ".dpkg-old", ".dpkg-new", ".dpkg-dist", ".dpkg-bak", ".ucf-old", ".ucf-dist", ".sxp",
        };
        size_t l = strlen(name);

        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                size_t s = strlen(suffixes[i]);

                if (l > s && streq(name + l - s, suffixes[i]))
                        return true;
        }
        return false;
}

/* xend before 3.0.4 had the PV framebuffer as top-level vnc/sdl keys; files written for later
 * versions (vfb lists, the xend 3.1 clock and CPU keys) are read as version 4. */
static int xm_guess_version(const XmConfig *c) {
        const XmValue *builder = xm_config_get(c, "builder");
        bool hvm = builder && builder->type == XM_VALUE_STRING && streq(builder->str, "hvm");

        if (!hvm && !xm_config_has(c, "vfb") && (xm_config_has(c, "vnc") || xm_config_has(c, "sdl")))
                return 2;
        return 4;
}

static bool xm_autostart(const char *xm_dir, const char *path) {
        _cleanup_free_ char *auto_dir = NULL, *real = NULL;
        _cleanup_strv_free_ char **links = NULL;

        if (asprintf(&auto_dir, "%s/auto", xm_dir) < 0)
                return false;
        real = realpath(path, NULL);
        if (!real || list_dir(auto_dir, &links) < 0)
                return false;
        STRV_FOREACH(l, links) {
                _cleanup_free_ char *p = NULL, *target = NULL;

                if (asprintf(&p, "%s/%s", auto_dir, *l) < 0)
                        return false;
                target = realpath(p, NULL);
                if (target && streq(target, real))
                        return true;
        }
        return false;
}

static int collect_xm(const char *dir, Candidates *c, unsigned *failed) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = list_dir(dir, &names);
        if (r == -ENOENT) {
                log_info("No XM configuration directory at %s.", dir);
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Cannot read %s: %s", dir, strerror(-r));

        STRV_FOREACH(n, names) {
                _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
                _cleanup_(xm_config_freep) XmConfig *cfg = NULL;
                _cleanup_(domain_def_freep) DomainDef *def = NULL;
                _cleanup_free_ char *path = NULL, *text = NULL;
                const XmValue *name;
                struct stat st;

                /* Skips scripts/, auto/, xenvirt/ (directories), XenD's and the tools' own files,
                 * editor backups and dot-files. */
                if (xm_dir_name_is_skipped(*n) || xm_backup_name(*n))
                        continue;
                if (asprintf(&path, "%s/%s", dir, *n) < 0)
                        return log_error_errno(-ENOMEM, "Out of memory.");
                if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
                        continue;

                /* Only files that read as an XM config and name a domain are domain configs
                 * (/etc/xen also holds xl.conf, cpupool files, READMEs). */
                r = read_full_file(path, XM_CONFIG_SIZE_MAX, &text, NULL);
                if (r < 0) {
                        log_debug("Ignoring %s: %s", path, strerror(-r));
                        continue;
                }
                if (xm_config_parse(text, &cfg, NULL) < 0) {
                        log_debug("Ignoring %s: not an XM config", path);
                        continue;
                }
                name = xm_config_get(cfg, "name");
                if (!name || name->type != XM_VALUE_STRING) {
                        log_debug("Ignoring %s: no domain name", path);
                        continue;
                }

                r = xm_domain_to_def(cfg, xm_guess_version(cfg), &def, &e);
                if (r < 0) {
                        printf("skipped %s: %s: %s\n", name->str, path, e.message ?: strerror(-r));
                        (*failed)++;
                        continue;
                }

                r = candidates_add(c, &def, &path, false, xm_config_has(cfg, "uuid"), IMPORT_SOURCE_XM);
                if (r < 0)
                        return log_error_errno(-ENOMEM, "Out of memory.");
                c->items[c->n - 1].autostart = xm_autostart(dir, c->items[c->n - 1].path);
        }
        return 0;
}

/* ---- writing ---------------------------------------------------------------------------------- */

static int import_one(XlStore *store, const Candidate *cand, bool dry_run) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_free_ char *other = NULL;
        const DomainDef *def = cand->def;
        char u[UUID_STRING_BUF];
        XvUuid have;
        int r;

        uuid_format(&def->uuid, u);

        /* Already there? By name: an XM file without a uuid gets a new random one on every read,
         * so its name alone identifies it. */
        r = store ? xl_store_lookup_name(store, def->name, &have, &e) : 0;
        if (r < 0) {
                printf("skipped %s: %s\n", def->name, e.message ?: strerror(-r));
                return -1;
        }
        if (r > 0) {
                char hu[UUID_STRING_BUF];

                if (uuid_equal(&have, &def->uuid) || !cand->uuid_given) {
                        printf("skipped %s: already defined with uuid %s\n", def->name, uuid_format(&have, hu));
                        return 0;
                }
                printf("skipped %s: domain '%s' already exists with uuid %s\n", def->name, def->name,
                       uuid_format(&have, hu));
                return -1;
        }
        r = store ? xl_store_lookup_uuid(store, &def->uuid, &other, &e) : 0;
        if (r < 0) {
                printf("skipped %s: %s\n", def->name, e.message ?: strerror(-r));
                return -1;
        }
        if (r > 0) {
                printf("skipped %s: domain '%s' is already defined with uuid %s\n", def->name, other, u);
                return -1;
        }

        if (dry_run) {
                _cleanup_free_ char *text = NULL;

                /* Everything but the write: the name and the conversion must work. */
                r = xl_store_check_name(def->name, &e);
                if (r >= 0)
                        r = xl_domain_format_text(def, &text, &e);
                if (r < 0) {
                        printf("skipped %s: %s\n", def->name, e.message ?: strerror(-r));
                        return -1;
                }
        } else {
                r = xl_store_save(store, def, &e);
                if (r < 0) {
                        printf("skipped %s: %s\n", def->name, e.message ?: strerror(-r));
                        return -1;
                }
                if (cand->autostart) {
                        r = xl_store_set_autostart(store, def->name, true, &e);
                        if (r < 0) {
                                printf("skipped %s: imported, but autostart failed: %s\n", def->name,
                                       e.message ?: strerror(-r));
                                return -1;
                        }
                }
        }

        printf("imported %s (%s) from %s%s%s\n", def->name, u, cand->path, cand->autostart ? ", autostart" : "",
               dry_run ? " (dry run)" : "");
        return 0;
}

int import_run(const ImportOptions *o) {
        _cleanup_(candidates_done) Candidates c = {};
        _cleanup_(xl_store_closep) XlStore *store = NULL;
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        const char *from_xend = o->from_xend ?: IMPORT_FROM_XEND_DEFAULT;
        const char *from_xm = o->from_xm ?: IMPORT_FROM_XM_DEFAULT;
        const char *to = o->to ?: XL_STORE_DIR_DEFAULT;
        unsigned failed = 0;
        size_t n_xend;
        struct stat st;
        int r;

        if (!isempty(from_xend)) {
                r = collect_xend(from_xend, &c, &failed);
                if (r < 0)
                        return r;
        }
        n_xend = c.n;
        if (!isempty(from_xm)) {
                r = collect_xm(from_xm, &c, &failed);
                if (r < 0)
                        return r;
        }

        /* A dry run creates nothing: a missing store reads as empty. */
        if (!o->dry_run || stat(to, &st) == 0) {
                r = xl_store_open(to, o->dry_run, &store, &e);
                if (r < 0)
                        return log_error_errno(r, "Cannot open the definitions store: %s", e.message ?: strerror(-r));
        }

        for (size_t i = 0; i < c.n; i++) {
                const Candidate *cand = &c.items[i];
                bool shadowed = false;

                /* The same domain in both sources: XenD managed it, its copy wins. */
                if (cand->source == IMPORT_SOURCE_XM && cand->uuid_given)
                        for (size_t j = 0; j < n_xend && !shadowed; j++)
                                if (uuid_equal(&c.items[j].def->uuid, &cand->def->uuid)) {
                                        printf("skipped %s: %s is the same domain as XenD's %s, which wins\n",
                                               cand->def->name, cand->path, c.items[j].path);
                                        shadowed = true;
                                }
                if (shadowed)
                        continue;

                if (import_one(store, cand, o->dry_run) < 0)
                        failed++;
        }

        fflush(stdout);
        return failed > 0 ? 1 : 0;
}
