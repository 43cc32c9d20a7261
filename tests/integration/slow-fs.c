/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An LD_PRELOAD module for crash tests: every unlink(), rename() and symlink() that touches a path
 * below $XV_SLOW_FS_DIR waits $XV_SLOW_FS_USEC microseconds (default 20000) before and after the
 * call. A SIGKILL that a test sends then lands before, between or after the steps of a change
 * (a config and its autostart link, a temporary file and its rename) when the test chooses, not
 * by luck, so that an order that can leave a torn state is caught every run. The daemon is the
 * shipping binary, unchanged. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int unlink(const char *path);
int rename(const char *from, const char *to);
int symlink(const char *target, const char *link);

/* Read once, at the first call: the directory, the pause, and libc's own functions, which this
 * module's definitions hide. */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static const char *slow_dir;
static size_t slow_dir_len;
static struct timespec pause_ts;
static int (*real_unlink)(const char *);
static int (*real_rename)(const char *, const char *);
static int (*real_symlink)(const char *, const char *);

static void slow_fs_init(void) {
        const char *usec = getenv("XV_SLOW_FS_USEC");
        long us = usec ? 0 : 20000;

        /* Digits only, at most 10 s: this module links nothing but libc. */
        for (const char *p = usec; p && *p >= '0' && *p <= '9' && us <= 10000000; p++)
                us = us * 10 + (*p - '0');
        if (us > 10000000)
                us = 10000000;
        pause_ts = (struct timespec) { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };
        slow_dir = getenv("XV_SLOW_FS_DIR");
        slow_dir_len = slow_dir ? strlen(slow_dir) : 0;
        real_unlink = (int (*)(const char *)) dlsym(RTLD_NEXT, "unlink");
        real_rename = (int (*)(const char *, const char *)) dlsym(RTLD_NEXT, "rename");
        real_symlink = (int (*)(const char *, const char *)) dlsym(RTLD_NEXT, "symlink");
}

static bool below_slow_dir(const char *path) {
        return slow_dir_len > 0 && path && strncmp(path, slow_dir, slow_dir_len) == 0 &&
                (path[slow_dir_len] == '/' || path[slow_dir_len] == '\0');
}

/* Every wrapper calls this before libc's function: it also makes sure that function is known. */
static void pause_if_slow(const char *a, const char *b) {
        struct timespec ts;
        int saved = errno;

        (void) pthread_once(&init_once, slow_fs_init);
        ts = pause_ts;
        if ((ts.tv_sec == 0 && ts.tv_nsec == 0) || !(below_slow_dir(a) || below_slow_dir(b)))
                return;
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        errno = saved;
}

int unlink(const char *path) {
        int r;

        pause_if_slow(path, NULL);
        r = real_unlink(path);
        pause_if_slow(path, NULL);
        return r;
}

int rename(const char *from, const char *to) {
        int r;

        pause_if_slow(from, to);
        r = real_rename(from, to);
        pause_if_slow(from, to);
        return r;
}

int symlink(const char *target, const char *link) {
        int r;

        pause_if_slow(link, NULL);
        r = real_symlink(target, link);
        pause_if_slow(link, NULL);
        return r;
}
