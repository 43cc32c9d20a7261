/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/*
 * xenvirtd --import: moves a host's domains from XenD to the libxl backend. Reads XenD's managed
 * domains (FROM_XEND/<uuid>/config.sxp, autostart = (on_xend_start start)) and the XM config
 * files (every file of FROM_XM, autostart = a link in FROM_XM/auto/ to the file) and writes each domain as a
 * persistent definition of xenvirtd's xl store (TO/NAME.cfg, TO/auto/NAME.cfg). A domain (by
 * UUID) found in both sources is taken from XenD. A definition already in the store under the
 * same name and UUID is left alone, so a second run changes nothing; a different definition is
 * never overwritten.
 *
 * One line per domain on stdout: "imported NAME (UUID) from PATH[, autostart]" or
 * "skipped NAME: reason".
 */

#define IMPORT_FROM_XEND_DEFAULT "/var/lib/xend/domains"
#define IMPORT_FROM_XM_DEFAULT   "/etc/xen"
/* Files in a source directory that are looked at, at most. */
#define IMPORT_FILES_MAX         4096

typedef struct ImportOptions {
        const char *from_xend;  /* NULL: the default; "" to skip the source */
        const char *from_xm;    /* NULL: the default; "" to skip the source */
        const char *to;         /* the store directory (the daemon's xl_config_dir) */
        bool dry_run;           /* report only; write nothing, create no directory */
} ImportOptions;

/* Returns 0 when every domain was imported or already present with the same UUID, 1 when any
 * failed, a negative errno when the import could not run at all (logged). */
int import_run(const ImportOptions *o);
