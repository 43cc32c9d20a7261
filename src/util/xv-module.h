/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * xenvirt's modules: parts of the daemon that pull in large libraries only some hosts or some
 * operations need (the libxl backend: libxenlight and friends; the XML parser: libxml2, ICU,
 * libstdc++), built as shared objects that resolve everything else against the daemon (linked
 * with -export-dynamic) and loaded on first use. They live in MODULE_DIR (the configured
 * $(pkglibdir)), or in the directory named by $XENVIRTD_MODULE_DIR, which is how a daemon run
 * from the build tree (tests/sandbox) finds the uninstalled ones (BUILDDIR/src/modules/.libs).
 */

#include "xv-error.h"

#define MODULE_DIR_ENV "XENVIRTD_MODULE_DIR"

/* Loads module @file (a file name, no directory) once for the life of the process and sets *ret
 * to its symbol @symbol. Thread-safe; a module stays loaded. Failure: XVP_ERR_NO_SUPPORT naming
 * the path and the loader's reason (the module is missing, or does not carry @symbol). */
int module_load_symbol(const char *file, const char *symbol, void **ret, XvError *error);

/* Unloads every module, for a clean exit: nothing of theirs may be used after it (call it once
 * every thread that used them has stopped). */
void module_unload_all(void);
