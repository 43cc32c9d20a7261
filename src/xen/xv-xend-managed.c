/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * XenD's managed-domain directory, cached and watched (see xv-xend-managed.h). The watch is
 * added before the directory is read, so a change made while it is being read leaves an event
 * that makes the next question read it again: nothing is ever missed, at worst read twice.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-lock.h"
#include "xv-xend-managed.h"

/* Entries appearing or going (XenD writes its config files inside each entry; those do not
 * matter), and the directory itself going (the watch is then added again, to the new one). */
#define MANAGED_INOTIFY_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
                              IN_MOVE_SELF | IN_ONLYDIR)

struct XendManaged {
        pthread_mutex_t lock;
        char *dir;
        int inotify_fd;                 /* -1: not created yet */
        int wd;                         /* the watch on dir; -1: not watching (yet, or any more) */
        bool valid;                     /* uuids matches the directory as of the last event read */
        XvUuid *uuids;                  /* sorted */
        size_t n, n_allocated;
        uint64_t scans;
};

int xend_managed_new(const char *dir, XendManaged **ret) {
        XendManaged *m = new0(XendManaged, 1);

        if (!m)
                return -ENOMEM;
        m->dir = strdup(dir);
        if (!m->dir) {
                free(m);
                return -ENOMEM;
        }
        m->wd = -1;
        /* Made now, so that the daemon's fds do not change while it serves (the watch, which
         * takes no fd, comes with the first question). On failure the first question tries
         * again. */
        m->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        (void) pthread_mutex_init(&m->lock, NULL);
        *ret = m;
        return 0;
}

XendManaged *xend_managed_free(XendManaged *m) {
        if (!m)
                return NULL;
        if (m->inotify_fd >= 0)
                (void) close(m->inotify_fd);
        free(m->uuids);
        free(m->dir);
        (void) pthread_mutex_destroy(&m->lock);
        return mfree(m);
}

static int cmp_uuid(const void *a, const void *b) {
        return memcmp(a, b, sizeof(XvUuid));
}

/* Watches the directory: created, or created again after it went (the old watch is gone with
 * it). Whatever happened in between, it is read again. */
static int watch_locked(XendManaged *m) {
        int wd;

        if (m->inotify_fd < 0) {
                m->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
                if (m->inotify_fd < 0)
                        return -errno;
        }
        wd = inotify_add_watch(m->inotify_fd, m->dir, MANAGED_INOTIFY_MASK);
        if (wd < 0)
                return -errno;
        m->wd = wd;
        m->valid = false;
        return 0;
}

/* Reads every pending event: any of them may change the set (an overflow, the watch removed or
 * the directory moved away, too). */
static void drain_locked(XendManaged *m) {
        /* inotify(7): large enough for at least one event with the longest name. */
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

        for (;;) {
                ssize_t k = read(m->inotify_fd, buf, sizeof(buf));

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return;
                m->valid = false;
                for (char *p = buf; p < buf + k;) {
                        const struct inotify_event *ev = (const struct inotify_event *) p;

                        /* The directory went (its watch with it, IN_IGNORED follows) or was
                         * moved away: watch the path again at the next question. An overflow
                         * only costs a full read. */
                        if (ev->wd == m->wd && (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF))) {
                                if (ev->mask & IN_MOVE_SELF)
                                        (void) inotify_rm_watch(m->inotify_fd, m->wd);
                                m->wd = -1;
                        }
                        p += sizeof(struct inotify_event) + ev->len;
                }
        }
}

static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

static int scan_locked(XendManaged *m) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;

        d = opendir(m->dir);
        if (!d)
                return -errno;
        m->n = 0;
        m->scans++;
        while ((errno = 0, de = readdir(d))) {
                XvUuid u;

                if (strlen(de->d_name) != UUID_STRING_LEN || uuid_from_string(de->d_name, &u) < 0)
                        continue;
                if (m->n >= XEND_MANAGED_MAX)
                        return -E2BIG;
                if (GREEDY_REALLOC(m->uuids, m->n_allocated, m->n + 1) < 0)
                        return -ENOMEM;
                m->uuids[m->n++] = u;
        }
        if (errno != 0)
                return -errno;
        if (m->n > 1)
                qsort(m->uuids, m->n, sizeof(XvUuid), cmp_uuid);
        m->valid = true;
        return 0;
}

/* Brings the set up to date: watch (again) when not watching, read the events, read the
 * directory when one came. */
static int update_locked(XendManaged *m) {
        int r;

        if (m->inotify_fd >= 0)
                drain_locked(m);
        if (m->wd < 0) {
                r = watch_locked(m);
                if (r < 0)
                        return r;
        }
        if (m->valid)
                return 0;
        r = scan_locked(m);
        if (r < 0)
                m->valid = false;
        return r;
}

static bool contains_locked(const XendManaged *m, const XvUuid *uuid) {
        return m->n > 0 && bsearch(uuid, m->uuids, m->n, sizeof(XvUuid), cmp_uuid);
}

int xend_managed_contains(XendManaged *m, const XvUuid *uuid) {
        int r;

        LOCKED(&m->lock);

        r = update_locked(m);
        if (r < 0)
                return r;
        return contains_locked(m, uuid);
}

int xend_managed_mark(XendManaged *m, const HcallDomainInfo *info, size_t n, bool *ret) {
        int r;

        LOCKED(&m->lock);

        r = update_locked(m);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                ret[i] = contains_locked(m, &info[i].uuid);
        return 0;
}

uint64_t xend_managed_scans(XendManaged *m) {
        LOCKED(&m->lock);

        return m->scans;
}
