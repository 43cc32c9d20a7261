/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "xv-lock.h"
#include "xv-log.h"
#include "xv-macro.h"
#include "xv-module.h"

#ifndef XV_MODULE_DIR
#  error "XV_MODULE_DIR must be defined (src/Makefile.inc.am)"
#endif

/* The modules loaded, one reference each (module_unload_all()). dlopen() is thread-safe by
 * itself; the lock keeps this list, the log line and the error to one loader. */
#define MODULES_MAX 8
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *loaded[MODULES_MAX];
static size_t n_loaded;

/* Keeps one reference to @module: a module loaded before gives its extra one back. */
static int remember_locked(void *module) {
        for (size_t i = 0; i < n_loaded; i++)
                if (loaded[i] == module) {
                        (void) dlclose(module);
                        return 0;
                }
        if (n_loaded >= MODULES_MAX)
                return -E2BIG;
        loaded[n_loaded++] = module;
        return 0;
}

int module_load_symbol(const char *file, const char *symbol, void **ret, XvError *error) {
        char path[PATH_MAX];
        const char *dir;
        void *module, *sym;
        int n;

        dir = secure_getenv(MODULE_DIR_ENV);
        if (isempty(dir))
                dir = XV_MODULE_DIR;
        n = snprintf(path, sizeof(path), "%s/%s", dir, file);
        if (n < 0 || (size_t) n >= sizeof(path))
                return xv_error_setf(error, XVP_ERR_NO_SUPPORT, "The module directory '%s' is too long", dir);

        LOCKED(&lock);

        /* RTLD_NOW: a symbol the daemon no longer carries fails here, with the loader's message,
         * not later in the middle of an operation. A module already loaded is only referenced. */
        module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!module)
                return xv_error_setf(error, XVP_ERR_NO_SUPPORT, "Cannot load module %s: %s", path,
                                     strnull(dlerror()));
        sym = dlsym(module, symbol);
        if (!sym) {
                (void) dlclose(module);
                return xv_error_setf(error, XVP_ERR_NO_SUPPORT, "Module %s does not carry '%s'", path, symbol);
        }
        if (remember_locked(module) < 0) {
                (void) dlclose(module);
                return xv_error_setf(error, XVP_ERR_NO_SUPPORT, "More than %d modules", MODULES_MAX);
        }
        log_debug("Loaded %s from %s", symbol, path);
        *ret = sym;
        return 0;
}

void module_unload_all(void) {
        LOCKED(&lock);

        while (n_loaded > 0)
                (void) dlclose(loaded[--n_loaded]);
}
