/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "xv-alloc.h"
#include "xv-log.h"
#include "xvd-listener.h"
#include "xvd-manager.h"

#define LISTENER_BACKLOG 128
/* Connections taken per wakeup, so that a connect storm cannot starve the clients. */
#define LISTENER_ACCEPTS_PER_WAKEUP 32u
/* Out of file descriptors: the pending connection keeps the socket readable, so accepting is
 * paused for this long instead of spinning. */
#define LISTENER_BACKOFF_USEC (1000ULL * 1000ULL)

struct Listener {
        Manager *manager;
        int fd;
        bool read_only;
        char *path;                     /* set when we bound it: removed on exit */
        sd_event_source *source;
        sd_event_source *backoff;
        bool enabled;
};

Listener *listener_free(Listener *l) {
        if (!l)
                return NULL;
        sd_event_source_disable_unref(l->source);
        sd_event_source_disable_unref(l->backoff);
        safe_close(l->fd);
        if (l->path)
                (void) unlink(l->path);
        free(l->path);
        return mfree(l);
}

bool listener_is_read_only(Listener *l) {
        return l->read_only;
}

void listener_set_enabled(Listener *l, bool enabled) {
        if (!l)
                return;
        l->enabled = enabled;
        if (l->source)
                (void) sd_event_source_set_enabled(l->source, enabled ? SD_EVENT_ON : SD_EVENT_OFF);
}

static int on_backoff_done(sd_event_source *s, uint64_t usec, void *userdata) {
        Listener *l = userdata;

        l->backoff = sd_event_source_disable_unref(l->backoff);
        if (l->enabled)
                (void) sd_event_source_set_enabled(l->source, SD_EVENT_ON);
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Listener *l = userdata;

        for (unsigned i = 0; i < LISTENER_ACCEPTS_PER_WAKEUP; i++) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

                if (cfd < 0) {
                        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                                return 0;
                        /* EMFILE and friends: back off instead of spinning on a readable socket. */
                        log_warning_errno(-errno, "accept() failed, pausing for a second: %m");
                        if (!l->backoff &&
                            sd_event_add_time_relative(manager_get_event(l->manager), &l->backoff, CLOCK_MONOTONIC,
                                                       LISTENER_BACKOFF_USEC, 0, on_backoff_done, l) >= 0)
                                (void) sd_event_source_set_enabled(l->source, SD_EVENT_OFF);
                        return 0;
                }
                (void) manager_add_client(l->manager, cfd, l->read_only);
        }
        return 0;
}

static int listener_attach(Listener *l, XvError *error) {
        int r;

        r = sd_event_add_io(manager_get_event(l->manager), &l->source, l->fd, EPOLLIN, on_accept, l);
        if (r < 0)
                return xv_error_set_errnof(error, r, "cannot watch the listening socket");
        (void) sd_event_source_set_description(l->source, l->read_only ? "listener-ro" : "listener-rw");
        l->enabled = true;
        return 0;
}

int listener_new_fd(Manager *m, int fd, bool read_only, Listener **ret, XvError *error) {
        _cleanup_close_ int owned = fd;
        _cleanup_(listener_freep) Listener *l = NULL;
        int flags, r;

        r = sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0);
        if (r < 0)
                return xv_error_set_errnof(error, r, "cannot inspect passed file descriptor %d", fd);
        if (r == 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "passed file descriptor %d is not a listening AF_UNIX stream socket", fd);

        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                return xv_error_set_errnof(error, -errno, "cannot set up passed file descriptor %d", fd);

        l = new0(Listener, 1);
        if (!l)
                return -ENOMEM;
        l->manager = m;
        l->fd = TAKE_FD(owned);
        l->read_only = read_only;

        r = listener_attach(l, error);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(l);
        return 0;
}

static int mkdir_parents(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        char *slash;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = '\0';

        for (char *p = dir + 1; ; p++) {
                bool last = *p == '\0';

                if (*p == '/' || last) {
                        char saved = *p;

                        *p = '\0';
                        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *p = saved;
                }
                if (last)
                        return 0;
        }
}

int listener_bind(Manager *m, const char *path, bool read_only, mode_t mode, Listener **ret, XvError *error) {
        _cleanup_(listener_freep) Listener *l = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct stat st;
        mode_t old_umask;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "socket path '%s' is too long", path);
        memcpy(sa.sun_path, path, strlen(path) + 1);

        r = mkdir_parents(path);
        if (r < 0)
                return xv_error_set_errnof(error, r, "cannot create the directory of '%s'", path);

        /* A socket left behind by a previous run: remove it, but never anything else. */
        if (lstat(path, &st) >= 0) {
                if (!S_ISSOCK(st.st_mode))
                        return xv_error_setf(error, XVP_ERR_OPERATION_INVALID,
                                             "'%s' exists and is not a socket", path);
                (void) unlink(path);
        }

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return xv_error_set_errnof(error, -errno, "cannot create a socket");

        /* umask first: between bind() and chmod() the socket must not be wider than @mode. */
        old_umask = umask(0777 & ~mode);
        r = bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ? -errno : 0;
        (void) umask(old_umask);
        if (r < 0)
                return xv_error_set_errnof(error, r, "cannot bind '%s'", path);

        l = new0(Listener, 1);
        if (!l) {
                (void) unlink(path);
                return -ENOMEM;
        }
        l->manager = m;
        l->fd = TAKE_FD(fd);
        l->read_only = read_only;
        l->path = strdup(path);
        if (!l->path) {
                (void) unlink(path);
                return -ENOMEM;
        }

        if (chmod(path, mode) < 0)
                return xv_error_set_errnof(error, -errno, "cannot chmod '%s'", path);
        if (listen(l->fd, LISTENER_BACKLOG) < 0)
                return xv_error_set_errnof(error, -errno, "cannot listen on '%s'", path);

        r = listener_attach(l, error);
        if (r < 0)
                return r;

        log_debug("Listening on %s (%s).", path, read_only ? "ro" : "rw");
        *ret = TAKE_PTR(l);
        return 0;
}

int listeners_from_activation(Manager *m, Listener **ret, XvError *error) {
        _cleanup_strv_free_ char **names = NULL;
        unsigned k = 0;
        int n, r;

        n = sd_listen_fds_with_names(true, &names);
        if (n < 0)
                return xv_error_set_errnof(error, n, "cannot get the activated sockets");

        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;
                const char *name = names && names[i] ? names[i] : "unknown";
                bool ro;

                /* Without FileDescriptorName= systemd says "unknown": that is the main socket. */
                if (streq(name, "ro"))
                        ro = true;
                else if (streq(name, "rw") || streq(name, "unknown"))
                        ro = false;
                else {
                        log_warning("Ignoring activated socket with unknown name '%s'.", name);
                        safe_close(fd);
                        continue;
                }

                if (k >= LISTENERS_MAX) {
                        log_warning("Ignoring activated socket '%s': too many sockets.", name);
                        safe_close(fd);
                        continue;
                }

                r = listener_new_fd(m, fd, ro, &ret[k], error);
                if (r < 0) {
                        for (int j = i + 1; j < n; j++)
                                safe_close(SD_LISTEN_FDS_START + j);
                        return r;
                }
                log_debug("Using activated socket '%s' (fd %d).", name, fd);
                k++;
        }
        return (int) k;
}
