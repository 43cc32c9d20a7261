/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An LD_PRELOAD module for crash tests: every unlink(), rename() and symlink() that touches a path
 * below $XV_SLOW_FS_DIR waits $XV_SLOW_FS_USEC microseconds (default 20000) before and after the
 * call. A SIGKILL that a test sends then lands before, between or after the steps of a change
 * (a config and its autostart link, a temporary file and its rename) when the test chooses, not
 * by luck, so that an order that can leave a torn state is caught every run. The daemon is the
 * shipping binary, unchanged. */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int unlink(const char *path);
int rename(const char *from, const char *to);
int symlink(const char *target, const char *link);

static bool below_slow_dir(const char *path) {
        const char *dir = getenv("XV_SLOW_FS_DIR");
        size_t n;

        if (!dir || !*dir || !path)
                return false;
        n = strlen(dir);
        return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static void pause_if_slow(const char *a, const char *b) {
        const char *usec = getenv("XV_SLOW_FS_USEC");
        long us = usec ? 0 : 20000;
        struct timespec ts;
        int saved = errno;

        /* Digits only, at most 10 s: this module links nothing but libc. */
        for (const char *p = usec; p && *p >= '0' && *p <= '9' && us <= 10000000; p++)
                us = us * 10 + (*p - '0');
        if (us <= 0 || !(below_slow_dir(a) || below_slow_dir(b)))
                return;
        if (us > 10000000)
                us = 10000000;
        ts.tv_sec = us / 1000000;
        ts.tv_nsec = (us % 1000000) * 1000;
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        errno = saved;
}

/* libc's own functions, which this module's definitions hide. */
static int (*real_unlink)(const char *);
static int (*real_rename)(const char *, const char *);
static int (*real_symlink)(const char *, const char *);

static void *next_symbol(const char *name) {
        return dlsym(RTLD_NEXT, name);
}

int unlink(const char *path) {
        int r;

        if (!real_unlink)
                real_unlink = (int (*)(const char *)) next_symbol("unlink");
        pause_if_slow(path, NULL);
        r = real_unlink(path);
        pause_if_slow(path, NULL);
        return r;
}

int rename(const char *from, const char *to) {
        int r;

        if (!real_rename)
                real_rename = (int (*)(const char *, const char *)) next_symbol("rename");
        pause_if_slow(from, to);
        r = real_rename(from, to);
        pause_if_slow(from, to);
        return r;
}

int symlink(const char *target, const char *link) {
        int r;

        if (!real_symlink)
                real_symlink = (int (*)(const char *, const char *)) next_symbol("symlink");
        pause_if_slow(link, NULL);
        r = real_symlink(target, link);
        pause_if_slow(link, NULL);
        return r;
}
