/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <xenstore.h>

#include "xv-alloc.h"
#include "xv-log.h"
#include "xv-parse-util.h"
#include "xv-xenstore.h"

/* How often the event fd wakes its owner while connected, to notice that xenstored went away:
 * libxenstore's reader thread closes a dead watch connection without making xs_fileno() readable,
 * and the only sign is that xs_check_watch() then fails with EINVAL (a local check, no request). */
#define XENSTORE_HEALTH_USEC (2 * 1000 * 1000ULL)
/* How often it wakes while disconnected, to try to reconnect: first after this long, then twice
 * as long after every failed attempt, up to XENSTORE_RETRY_MAX_USEC (a xenstored that stays away
 * costs one connect() every few seconds, one that restarts is back within a fraction of one). */
#define XENSTORE_RETRY_USEC (250 * 1000ULL)
#define XENSTORE_RETRY_MAX_USEC (4 * 1000 * 1000ULL)
#define XENSTORE_TTY_MAX 255
#define XENSTORE_PCI_FUNCS_MAX 64               /* dev-N entries of one pciback instance */

/* A libxenstore handle shared by reference: a request in flight keeps the handle it started on
 * alive while another thread swaps in a fresh one after a reconnect. */
typedef struct XsConn {
        unsigned n_ref;
        struct xs_handle *xsh;
} XsConn;

struct XsChannel {
        pthread_mutex_t lock;           /* guards the fields below; never held across a request */
        XsConn *req;                    /* NULL while disconnected */
        XsConn *watch;                  /* NULL while disconnected */
        char **watches;                 /* extra watch paths, re-registered on reconnect */
        bool read_only;
        bool resync;                    /* events may have been lost since the last read */
        uint64_t timer_usec;            /* the timer's current interval */
        uint64_t retry_usec;            /* the reconnect back-off while disconnected */

        pthread_mutex_t reconnect_lock; /* one reconnect attempt at a time; only ever try-locked */
        int epoll_fd;
        int timer_fd;

        /* For xenstore_events_pending(), which takes no lock: an epoll set over the watch fd
         * alone (the timer in epoll_fd fires for health checks and retries, which are no
         * events), and whether the watch fd says everything (connected, and no resync owed
         * to the reader of the events). Written under lock, read atomically. */
        int watch_epoll_fd;
        bool events_reliable;
};

static void reliable_set_locked(XsChannel *c) {
        __atomic_store_n(&c->events_reliable, c->watch && !c->resync, __ATOMIC_RELEASE);
}

static XsConn *conn_ref(XsConn *c) {
        if (c)
                __atomic_add_fetch(&c->n_ref, 1, __ATOMIC_SEQ_CST);
        return c;
}

static XsConn *conn_unref(XsConn *c) {
        if (c && __atomic_sub_fetch(&c->n_ref, 1, __ATOMIC_SEQ_CST) == 0) {
                xs_close(c->xsh);
                free(c);
        }
        return NULL;
}
DEFINE_CLEANUP_FUNC(XsConn *, conn_unref);

/* The failed call's errno as a negative error, -EIO when it left none. */
static int errno_or_eio(void) {
        int e = errno;

        return e > 0 ? -e : -EIO;
}

static int conn_new(XsConn **ret) {
        XsConn *c;

        c = new0(XsConn, 1);
        if (!c)
                return -ENOMEM;
        /* xs_open() honours $XENSTORED_PATH. Its flags are ignored since Xen 4.10; the channel
         * enforces read-only itself. */
        c->xsh = xs_open(0);
        if (!c->xsh) {
                int r = errno_or_eio();

                free(c);
                return r;
        }
        c->n_ref = 1;
        *ret = c;
        return 0;
}

/* Errors of this channel: error domain XVP_FROM_XENSTORE; the first form appends strerror(-r). */
#define channel_error(error, r, code, ...) xv_error_set_errno_full(error, r, code, XVP_FROM_XENSTORE, __VA_ARGS__)
#define channel_errorf(error, r, code, ...) xv_error_set_full(error, r, code, XVP_FROM_XENSTORE, __VA_ARGS__)

/* The errnos libxenstore reports when the connection itself is gone (EBADF: its reader thread
 * closed the socket; EINVAL is not here because xenstored also uses it for bad requests). */
static bool errno_is_disconnect(int e) {
        switch (e) {
        case EPIPE:
        case ECONNRESET:
        case ECONNREFUSED:
        case ECONNABORTED:
        case ENOTCONN:
        case ESHUTDOWN:
        case EBADF:
        case EIO:
                return true;
        default:
                return false;
        }
}

static void timer_arm(XsChannel *c, uint64_t usec) {
        struct itimerspec its = {
                .it_value = { .tv_sec = (time_t) (usec / 1000000), .tv_nsec = (long) (usec % 1000000) * 1000 },
                .it_interval = { .tv_sec = (time_t) (usec / 1000000), .tv_nsec = (long) (usec % 1000000) * 1000 },
        };

        /* Called with c->lock held. */
        if (c->timer_usec == usec)
                return;
        if (timerfd_settime(c->timer_fd, 0, &its, NULL) >= 0)
                c->timer_usec = usec;
}

/* Drops the connection @seen (if it is still the current one): requests then fail fast or
 * reconnect, and the event fd switches to the retry timer. */
static void channel_mark_dead(XsChannel *c, const XsConn *seen_req, const XsConn *seen_watch) {
        _cleanup_(conn_unrefp) XsConn *old_req = NULL, *old_watch = NULL;

        pthread_mutex_lock(&c->lock);
        if ((seen_req && c->req == seen_req) || (seen_watch && c->watch == seen_watch)) {
                old_req = TAKE_PTR(c->req);
                old_watch = TAKE_PTR(c->watch);
                if (old_watch) {
                        (void) epoll_ctl(c->epoll_fd, EPOLL_CTL_DEL, xs_fileno(old_watch->xsh), NULL);
                        (void) epoll_ctl(c->watch_epoll_fd, EPOLL_CTL_DEL, xs_fileno(old_watch->xsh), NULL);
                }
                c->resync = true;
                reliable_set_locked(c);
                c->retry_usec = XENSTORE_RETRY_USEC;
                timer_arm(c, c->retry_usec);
                log_debug("xenstore: connection lost");
        }
        pthread_mutex_unlock(&c->lock);
}

static int watch_register(struct xs_handle *xsh, const char *path) {
        /* The token is the path itself: a fired event reports the path that changed, which may be
         * below the watched one, and the token names the watch it belongs to. */
        if (!xs_watch(xsh, path, path))
                return errno_or_eio();
        return 0;
}

static int channel_do_reconnect(XsChannel *c, XvError *error) {
        _cleanup_(conn_unrefp) XsConn *req = NULL, *watch = NULL;
        _cleanup_strv_free_ char **paths = NULL;
        int r;

        /* A failed connect() is -ENOTCONN whatever its errno: -ENOENT (no socket file, xenstored
         * gone) must not read as "no such node", which callers take for an empty store. */
        r = conn_new(&req);
        if (r >= 0)
                r = conn_new(&watch);
        if (r == -ENOMEM)
                return channel_error(error, r, XVP_ERR_NO_MEMORY, "Cannot connect to xenstored");
        if (r < 0) {
                (void) channel_error(error, r, XVP_ERR_NO_XENSTORE, "Cannot connect to xenstored");
                return -ENOTCONN;
        }
        assert(req && watch);   /* conn_new() sets them when it succeeds */

        pthread_mutex_lock(&c->lock);
        r = 0;
        STRV_FOREACH(p, c->watches)
                if (r >= 0)
                        r = strv_extend(&paths, *p);
        pthread_mutex_unlock(&c->lock);
        if (r < 0)
                return channel_error(error, r, XVP_ERR_NO_MEMORY, "Cannot copy the watch list");

        /* Registration talks to xenstored: done before taking the lock. */
        r = watch_register(watch->xsh, XENSTORE_WATCH_INTRODUCE);
        if (r >= 0)
                r = watch_register(watch->xsh, XENSTORE_WATCH_RELEASE);
        STRV_FOREACH(p, paths)
                if (r >= 0)
                        r = watch_register(watch->xsh, *p);
        if (r < 0) {
                (void) channel_error(error, r, XVP_ERR_NO_XENSTORE, "Cannot register xenstore watches");
                return r == -ENOMEM ? r : -ENOTCONN;
        }

        pthread_mutex_lock(&c->lock);
        if (!c->req) {
                struct epoll_event ev = { .events = EPOLLIN };

                r = epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, xs_fileno(watch->xsh), &ev);
                if (r < 0)
                        r = -errno;
                else if (epoll_ctl(c->watch_epoll_fd, EPOLL_CTL_ADD, xs_fileno(watch->xsh), &ev) < 0) {
                        r = -errno;
                        (void) epoll_ctl(c->epoll_fd, EPOLL_CTL_DEL, xs_fileno(watch->xsh), NULL);
                } else {
                        c->req = TAKE_PTR(req);
                        c->watch = TAKE_PTR(watch);
                        c->resync = true;
                        reliable_set_locked(c);
                        timer_arm(c, XENSTORE_HEALTH_USEC);
                        log_debug("xenstore: connected");
                }
        }
        pthread_mutex_unlock(&c->lock);
        if (r < 0)
                return channel_error(error, r, XVP_ERR_INTERNAL, "Cannot poll the xenstore watch handle");
        return 0;
}

int xenstore_reconnect(XsChannel *c, XvError *error) {
        bool connected;
        int r;

        if (!c)
                return -EINVAL;
        pthread_mutex_lock(&c->lock);
        connected = c->req;
        pthread_mutex_unlock(&c->lock);
        if (connected)
                return 0;

        /* Another thread already trying means xenstored is being probed right now: do not queue
         * behind it, fail fast. */
        if (pthread_mutex_trylock(&c->reconnect_lock) != 0)
                return channel_errorf(error, -ENOTCONN, XVP_ERR_NO_XENSTORE, "xenstored is not connected");
        r = channel_do_reconnect(c, error);
        pthread_mutex_unlock(&c->reconnect_lock);
        return r;
}

/* A reference on the request connection, reconnecting first if needed. */
static int channel_get_req(XsChannel *c, XsConn **ret, XvError *error) {
        int r;

        for (unsigned attempt = 0;; attempt++) {
                pthread_mutex_lock(&c->lock);
                *ret = conn_ref(c->req);
                pthread_mutex_unlock(&c->lock);
                if (*ret)
                        return 0;
                if (attempt > 0)
                        return channel_errorf(error, -ENOTCONN, XVP_ERR_NO_XENSTORE, "xenstored is not connected");
                r = xenstore_reconnect(c, error);
                if (r < 0)
                        return r;
        }
}

typedef enum XsOp {
        XS_OP_READ,
        XS_OP_DIRECTORY,
        XS_OP_WRITE,
} XsOp;

static const char *const op_names[] = {
        [XS_OP_READ] = "read",
        [XS_OP_DIRECTORY] = "list",
        [XS_OP_WRITE] = "write",
};

/* One libxenstore request; on a dead connection reconnects once and repeats it (every request
 * here is idempotent). Never sleeps. */
static int channel_request(XsChannel *c, XsOp op, const char *path, const char *value, void **ret,
                           unsigned *ret_n, XvError *error) {
        int r;

        if (!c || !path || path[0] != '/' || strlen(path) >= XENSTORE_ABS_PATH_MAX)
                return channel_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Invalid xenstore path");
        if (op == XS_OP_WRITE && c->read_only)
                return channel_errorf(error, -EPERM, XVP_ERR_OPERATION_DENIED,
                                      "Cannot write xenstore node %s on a read-only connection", path);

        for (unsigned attempt = 0;; attempt++) {
                _cleanup_(conn_unrefp) XsConn *conn = NULL;
                void *result = NULL;
                unsigned n = 0;
                bool ok;

                r = channel_get_req(c, &conn, error);
                if (r < 0)
                        return r;
                errno = 0;
                switch (op) {
                case XS_OP_READ:
                        result = xs_read(conn->xsh, XBT_NULL, path, &n);
                        ok = result;
                        break;
                case XS_OP_DIRECTORY:
                        result = xs_directory(conn->xsh, XBT_NULL, path, &n);
                        ok = result;
                        break;
                case XS_OP_WRITE:
                        ok = xs_write(conn->xsh, XBT_NULL, path, value, (unsigned) strlen(value));
                        break;
                default:
                        return -EINVAL;
                }
                if (ok) {
                        if (ret)
                                *ret = result;
                        else
                                free(result);
                        if (ret_n)
                                *ret_n = n;
                        return 0;
                }

                r = errno_or_eio();
                if (r == -ENOENT)
                        return r;       /* the caller decides whether a missing node is an error */
                if (r == -EACCES || r == -EPERM)
                        return channel_error(error, r, XVP_ERR_OPERATION_DENIED, "Cannot %s xenstore node %s",
                                             op_names[op], path);
                if (!errno_is_disconnect(-r))
                        return channel_error(error, r, XVP_ERR_OPERATION_FAILED, "Cannot %s xenstore node %s",
                                             op_names[op], path);
                channel_mark_dead(c, conn, NULL);
                if (attempt > 0)
                        return channel_error(error, r, XVP_ERR_NO_XENSTORE, "Cannot %s xenstore node %s",
                                             op_names[op], path);
        }
}

int xenstore_read(XsChannel *c, const char *path, char **ret, XvError *error) {
        _cleanup_free_ char *v = NULL;
        unsigned n = 0;
        int r;

        r = channel_request(c, XS_OP_READ, path, NULL, (void **) &v, &n, error);
        if (r == -ENOENT)
                return channel_errorf(error, r, XVP_ERR_OPERATION_FAILED, "xenstore node %s does not exist", path);
        if (r < 0)
                return r;
        /* Values are byte strings; the ones we read are text, so an embedded NUL is garbage. */
        if (strlen(v) != n)
                return channel_errorf(error, -EBADMSG, XVP_ERR_INTERNAL, "xenstore node %s holds binary data", path);
        if (ret)
                *ret = TAKE_PTR(v);
        return 0;
}

/* Like xenstore_read() but -ENOENT is quiet (no error set). */
static int read_optional(XsChannel *c, const char *path, char **ret, XvError *error) {
        _cleanup_free_ char *v = NULL;
        unsigned n = 0;
        int r;

        r = channel_request(c, XS_OP_READ, path, NULL, (void **) &v, &n, error);
        if (r < 0)
                return r;
        assert(v);      /* channel_request() sets it when a read succeeds */
        if (strlen(v) != n)
                return channel_errorf(error, -EBADMSG, XVP_ERR_INTERNAL, "xenstore node %s holds binary data", path);
        *ret = TAKE_PTR(v);
        return 0;
}

static int directory_optional(XsChannel *c, const char *path, size_t max, char ***ret, XvError *error) {
        _cleanup_free_ char **entries = NULL;   /* one allocation, libxenstore style */
        _cleanup_strv_free_ char **l = NULL;
        unsigned n = 0;
        int r;

        r = channel_request(c, XS_OP_DIRECTORY, path, NULL, (void **) &entries, &n, error);
        if (r < 0)
                return r;
        if (n > max)
                return channel_errorf(error, -E2BIG, XVP_ERR_INTERNAL,
                                      "xenstore directory %s has %u entries, more than %zu", path, n, max);
        l = new0(char *, n + 1);
        if (!l)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++) {
                l[i] = strdup(entries[i]);
                if (!l[i])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int xenstore_directory(XsChannel *c, const char *path, char ***ret, XvError *error) {
        int r;

        r = directory_optional(c, path, XENSTORE_PAYLOAD_MAX, ret, error);
        if (r == -ENOENT)
                return channel_errorf(error, r, XVP_ERR_OPERATION_FAILED, "xenstore node %s does not exist", path);
        return r;
}

int xenstore_write(XsChannel *c, const char *path, const char *value, XvError *error) {
        if (!value || strlen(value) > XENSTORE_PAYLOAD_MAX)
                return channel_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Invalid xenstore value");
        return channel_request(c, XS_OP_WRITE, path, value, NULL, NULL, error);
}

/* ---- lifetime ---- */

/* A channel with its event fd and no connection yet. */
static int channel_new(bool read_only, XsChannel **ret, XvError *error) {
        _cleanup_(xenstore_closep) XsChannel *c = NULL;
        struct epoll_event ev = { .events = EPOLLIN };

        if (!ret)
                return -EINVAL;
        c = new0(XsChannel, 1);
        if (!c)
                return channel_errorf(error, -ENOMEM, XVP_ERR_NO_MEMORY, "Out of memory");
        c->epoll_fd = c->timer_fd = c->watch_epoll_fd = -EBADF;
        pthread_mutex_init(&c->lock, NULL);
        pthread_mutex_init(&c->reconnect_lock, NULL);
        c->read_only = read_only;

        c->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (c->epoll_fd < 0)
                return channel_error(error, -errno, XVP_ERR_INTERNAL, "Cannot create an epoll fd");
        c->watch_epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (c->watch_epoll_fd < 0)
                return channel_error(error, -errno, XVP_ERR_INTERNAL, "Cannot create an epoll fd");
        c->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (c->timer_fd < 0)
                return channel_error(error, -errno, XVP_ERR_INTERNAL, "Cannot create a timer fd");
        if (epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->timer_fd, &ev) < 0)
                return channel_error(error, -errno, XVP_ERR_INTERNAL, "Cannot poll the timer fd");
        *ret = TAKE_PTR(c);
        return 0;
}

int xenstore_open(bool read_only, XsChannel **ret, XvError *error) {
        _cleanup_(xenstore_closep) XsChannel *c = NULL;
        int r;

        r = channel_new(read_only, &c, error);
        if (r < 0)
                return r;
        r = xenstore_reconnect(c, error);
        if (r < 0)
                return r;
        /* The first read reports no resync: the caller has not seen anything it could miss. */
        c->resync = false;
        reliable_set_locked(c);         /* not shared yet: no lock needed */
        *ret = TAKE_PTR(c);
        return 0;
}

int xenstore_open_or_retry(bool read_only, XsChannel **ret, XvError *error) {
        _cleanup_(xenstore_closep) XsChannel *c = NULL;
        int r;

        r = channel_new(read_only, &c, error);
        if (r < 0)
                return r;
        assert(c);      /* channel_new() sets it when it succeeds */
        r = xenstore_reconnect(c, NULL);
        if (r == -ENOMEM)
                return channel_errorf(error, r, XVP_ERR_NO_MEMORY, "Out of memory");
        if (r < 0) {
                /* Not there (yet): as if the connection had been lost, the event fd retries. */
                pthread_mutex_lock(&c->lock);
                c->retry_usec = XENSTORE_RETRY_USEC;
                timer_arm(c, c->retry_usec);
                pthread_mutex_unlock(&c->lock);
        } else {
                c->resync = false;
                reliable_set_locked(c);         /* not shared yet: no lock needed */
        }
        *ret = TAKE_PTR(c);
        return 0;
}

XsChannel *xenstore_close(XsChannel *c) {
        if (!c)
                return NULL;
        c->req = conn_unref(c->req);
        c->watch = conn_unref(c->watch);
        c->watches = strv_free(c->watches);
        c->epoll_fd = safe_close(c->epoll_fd);
        c->watch_epoll_fd = safe_close(c->watch_epoll_fd);
        c->timer_fd = safe_close(c->timer_fd);
        pthread_mutex_destroy(&c->lock);
        pthread_mutex_destroy(&c->reconnect_lock);
        free(c);
        return NULL;
}

bool xenstore_is_connected(XsChannel *c) {
        bool connected;

        if (!c)
                return false;
        pthread_mutex_lock(&c->lock);
        connected = c->req;
        pthread_mutex_unlock(&c->lock);
        return connected;
}

bool xenstore_is_read_only(XsChannel *c) {
        return c && c->read_only;
}

/* ---- domains ---- */

static int domid_check(int domid, XvError *error) {
        if (domid < 0 || domid > XENSTORE_DOMID_MAX)
                return channel_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Invalid domain id %d", domid);
        return 0;
}

static int cmp_int(const void *a, const void *b) {
        int x = *(const int *) a, y = *(const int *) b;

        return (x > y) - (x < y);
}

int xenstore_list_domain_ids(XsChannel *c, int **ret, size_t *ret_n, XvError *error) {
        _cleanup_strv_free_ char **entries = NULL;
        _cleanup_free_ int *ids = NULL;
        size_t n = 0;
        int r;

        if (!ret || !ret_n)
                return -EINVAL;
        r = directory_optional(c, "/local/domain", XENSTORE_DOMAINS_MAX, &entries, error);
        if (r == -ENOENT)
                r = 0;  /* an empty store: no domain at all */
        if (r < 0)
                return r;
        ids = new0(int, strv_length(entries) + 1);
        if (!ids)
                return -ENOMEM;
        STRV_FOREACH(e, entries) {
                int id;

                /* Anything that is not a domain id is not ours to interpret. */
                if (xenstore_parse_domid(*e, &id) >= 0)
                        ids[n++] = id;
        }
        qsort(ids, n, sizeof(int), cmp_int);
        *ret = TAKE_PTR(ids);
        *ret_n = n;
        return 0;
}

void xs_domains_free(XsDomain *list, size_t n) {
        if (!list)
                return;
        for (size_t i = 0; i < n; i++)
                free(list[i].name);
        free(list);
}

int xenstore_read_domain(XsChannel *c, int domid, XsDomain *ret, XvError *error) {
        _cleanup_free_ char *name = NULL, *vm = NULL;
        char path[64];
        int r;

        if (!ret || domid < 0)
                return -EINVAL;
        /* A domain being built or torn down may lack either node: that is a normal state of the
         * store, reported as missing fields, not as an error. */
        (void) snprintf(path, sizeof(path), "/local/domain/%d/name", domid);
        r = read_optional(c, path, &name, error);
        if (r < 0 && r != -ENOENT)
                return r;
        (void) snprintf(path, sizeof(path), "/local/domain/%d/vm", domid);
        r = read_optional(c, path, &vm, error);
        if (r < 0 && r != -ENOENT)
                return r;
        *ret = (XsDomain) { .id = domid, .name = TAKE_PTR(name) };
        if (vm && xenstore_parse_vm_path(vm, &ret->uuid) >= 0)
                ret->has_uuid = true;
        return 0;
}

int xenstore_list_domains(XsChannel *c, XsDomain **ret, size_t *ret_n, XvError *error) {
        _cleanup_free_ int *ids = NULL;
        XsDomain *list = NULL;
        size_t n_ids = 0;
        int r;

        if (!ret || !ret_n)
                return -EINVAL;
        r = xenstore_list_domain_ids(c, &ids, &n_ids, error);
        if (r < 0)
                return r;
        list = new0(XsDomain, n_ids);
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < n_ids; i++) {
                r = xenstore_read_domain(c, ids[i], &list[i], error);
                if (r < 0) {
                        xs_domains_free(list, n_ids);
                        return r;
                }
        }
        *ret = list;
        *ret_n = n_ids;
        return 0;
}

/* Reads /local/domain/<domid>/<key>; a missing node is XVP_ERR_NO_DOMAIN when the domain's home is
 * gone too, XVP_ERR_OPERATION_FAILED otherwise. */
static int domain_read(XsChannel *c, int domid, const char *key, char **ret, XvError *error) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = domid_check(domid, error);
        if (r < 0)
                return r;
        if (asprintf(&path, "/local/domain/%d/%s", domid, key) < 0)
                return -ENOMEM;
        r = read_optional(c, path, ret, error);
        if (r == -ENOENT) {
                _cleanup_free_ char *home = NULL, *v = NULL;

                if (asprintf(&home, "/local/domain/%d", domid) < 0)
                        return -ENOMEM;
                if (read_optional(c, home, &v, NULL) == -ENOENT)
                        return channel_errorf(error, r, XVP_ERR_NO_DOMAIN, "No domain with id %d in xenstore", domid);
                return channel_errorf(error, r, XVP_ERR_OPERATION_FAILED, "xenstore has no %s for domain %d",
                                      key, domid);
        }
        return r;
}

int xenstore_get_domain_name(XsChannel *c, int domid, char **ret, XvError *error) {
        _cleanup_free_ char *v = NULL;
        int r;

        r = domain_read(c, domid, "name", &v, error);
        if (r < 0)
                return r;
        if (isempty(v))
                return channel_errorf(error, -EBADMSG, XVP_ERR_INTERNAL, "Empty name for domain %d in xenstore", domid);
        *ret = TAKE_PTR(v);
        return 0;
}

int xenstore_get_vm_path(XsChannel *c, int domid, char **ret, XvError *error) {
        _cleanup_free_ char *v = NULL;
        XvUuid u;
        int r;

        r = domain_read(c, domid, "vm", &v, error);
        if (r < 0)
                return r;
        if (xenstore_parse_vm_path(v, &u) < 0)
                return channel_errorf(error, -EBADMSG, XVP_ERR_INTERNAL, "Invalid vm path for domain %d in xenstore",
                                      domid);
        *ret = TAKE_PTR(v);
        return 0;
}

int xenstore_get_domain_uuid(XsChannel *c, int domid, XvUuid *ret, XvError *error) {
        _cleanup_free_ char *v = NULL;
        int r;

        r = xenstore_get_vm_path(c, domid, &v, error);
        if (r < 0)
                return r;
        return xenstore_parse_vm_path(v, ret);
}

int xenstore_get_os_type(XsChannel *c, int domid, char **ret, XvError *error) {
        _cleanup_free_ char *vm = NULL, *path = NULL, *v = NULL;
        int r;

        r = xenstore_get_vm_path(c, domid, &vm, error);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/image/ostype", vm) < 0)
                return -ENOMEM;
        r = read_optional(c, path, &v, error);
        if (r == -ENOENT)
                return channel_errorf(error, r, XVP_ERR_OPERATION_FAILED, "xenstore has no OS type for domain %d",
                                      domid);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

static int get_tty(XsChannel *c, int domid, const char *key, char **ret, XvError *error) {
        _cleanup_free_ char *v = NULL;
        int r;

        r = domain_read(c, domid, key, &v, error);
        if (r < 0)
                return r;
        if (xenstore_parse_tty(v) < 0)
                return channel_errorf(error, -EBADMSG, XVP_ERR_INTERNAL, "Invalid %s of domain %d in xenstore",
                                      key, domid);
        *ret = TAKE_PTR(v);
        return 0;
}

int xenstore_get_console_tty(XsChannel *c, int domid, char **ret, XvError *error) {
        return get_tty(c, domid, "console/tty", ret, error);
}

int xenstore_get_serial_tty(XsChannel *c, int domid, char **ret, XvError *error) {
        return get_tty(c, domid, "serial/0/tty", ret, error);
}

int xenstore_get_vnc_port(XsChannel *c, int domid, int *ret, XvError *error) {
        _cleanup_free_ char *v = NULL;
        unsigned port;
        int r;

        r = domain_read(c, domid, "console/vnc-port", &v, error);
        if (r < 0)
                return r;
        if (safe_atou(v, &port) < 0 || port == 0 || port > 65535)
                return channel_errorf(error, -EBADMSG, XVP_ERR_INTERNAL, "Invalid VNC port of domain %d in xenstore",
                                      domid);
        *ret = (int) port;
        return 0;
}

int xenstore_get_memory_target(XsChannel *c, int domid, uint64_t *ret_kib, XvError *error) {
        _cleanup_free_ char *v = NULL;
        uint64_t kib;
        int r;

        r = domain_read(c, domid, "memory/target", &v, error);
        if (r < 0)
                return r;
        if (safe_atou64(v, &kib) < 0)
                return channel_errorf(error, -EBADMSG, XVP_ERR_INTERNAL,
                                      "Invalid memory target of domain %d in xenstore", domid);
        *ret_kib = kib;
        return 0;
}

/* ---- backend devices ---- */

/* A devid as a backend directory names it (a non-negative int). */
static int parse_devid(const char *s, int *ret) {
        int v;

        if (safe_atoi(s, &v) < 0 || v < 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* "/dev/xvda:disk" → "xvda" (into @buf); false when nothing is left. */
static bool disk_name_normalize(const char *s, char *buf, size_t size) {
        size_t n;

        if (strncmp(s, "/dev/", 5) == 0)
                s += 5;
        n = strcspn(s, ":");
        if (n == 0 || n >= size)
                return false;
        memcpy(buf, s, n);
        buf[n] = '\0';
        return true;
}

/* Calls @match on the value of <kind>/<domid>/<devid>/<key> for every devid of every kind;
 * returns the first devid matched, -ENOENT when none does. */
static int backend_find(XsChannel *c, int domid, const char *const *kinds, const char *key,
                        bool (*match)(const char *value, const void *userdata), const void *userdata,
                        int *ret_devid, XvError *error) {
        int r;

        r = domid_check(domid, error);
        if (r < 0)
                return r;
        for (size_t k = 0; kinds[k]; k++) {
                _cleanup_strv_free_ char **devs = NULL;
                char dir[96];

                (void) snprintf(dir, sizeof(dir), "/local/domain/0/backend/%s/%d", kinds[k], domid);
                r = directory_optional(c, dir, XENSTORE_DEVICES_MAX, &devs, error);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                STRV_FOREACH(d, devs) {
                        _cleanup_free_ char *path = NULL, *v = NULL;
                        int devid;

                        if (parse_devid(*d, &devid) < 0)
                                continue;
                        if (asprintf(&path, "%s/%d/%s", dir, devid, key) < 0)
                                return -ENOMEM;
                        r = read_optional(c, path, &v, error);
                        if (r == -ENOENT)
                                continue;       /* a device being removed */
                        if (r < 0)
                                return r;
                        if (match(v, userdata)) {
                                *ret_devid = devid;
                                return 0;
                        }
                }
        }
        return -ENOENT;
}

static bool match_disk(const char *value, const void *userdata) {
        char a[64];

        return disk_name_normalize(value, a, sizeof(a)) && streq(a, (const char *) userdata);
}

static bool match_mac(const char *value, const void *userdata) {
        return strcasecmp(value, (const char *) userdata) == 0;
}

typedef struct PciAddr {
        unsigned domain, bus, slot, function;
} PciAddr;

static int parse_hex_field(const char *s, size_t len, unsigned max, unsigned *ret) {
        char buf[8];
        uint32_t v;

        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = '\0';
        for (size_t i = 0; i < len; i++)
                if (!strchr("0123456789abcdefABCDEF", buf[i]))
                        return -EINVAL;
        if (safe_atou32_full(buf, 16, &v) < 0 || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* "[dddd:]bb:ss.f" in hex. */
static int parse_pci_addr(const char *s, PciAddr *ret) {
        PciAddr a = {};
        const char *c1, *c2, *dot;

        c1 = strchr(s, ':');
        if (!c1)
                return -EINVAL;
        c2 = strchr(c1 + 1, ':');
        if (c2) {
                if (parse_hex_field(s, (size_t) (c1 - s), 0xffff, &a.domain) < 0)
                        return -EINVAL;
                s = c1 + 1;
                c1 = c2;
        }
        dot = strchr(c1 + 1, '.');
        if (!dot ||
            parse_hex_field(s, (size_t) (c1 - s), 0xff, &a.bus) < 0 ||
            parse_hex_field(c1 + 1, (size_t) (dot - c1 - 1), 0x1f, &a.slot) < 0 ||
            parse_hex_field(dot + 1, strlen(dot + 1), 0x7, &a.function) < 0)
                return -EINVAL;
        *ret = a;
        return 0;
}

int xenstore_find_disk_devid(XsChannel *c, int domid, const char *target, int *ret_devid, XvError *error) {
        static const char *const kinds[] = { "vbd", "tap", "tap2", NULL };
        char name[64];
        int r;

        if (!target || !disk_name_normalize(target, name, sizeof(name)))
                return channel_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Invalid disk target '%s'", strnull(target));
        r = backend_find(c, domid, kinds, "dev", match_disk, name, ret_devid, error);
        if (r == -ENOENT)
                return channel_errorf(error, r, XVP_ERR_OPERATION_INVALID, "No disk %s in domain %d", name, domid);
        return r;
}

int xenstore_find_nic_devid(XsChannel *c, int domid, const char *mac, int *ret_devid, XvError *error) {
        static const char *const kinds[] = { "vif", NULL };
        int r;

        if (isempty(mac) || strlen(mac) > 32)
                return channel_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Invalid MAC address");
        r = backend_find(c, domid, kinds, "mac", match_mac, mac, ret_devid, error);
        if (r == -ENOENT)
                return channel_errorf(error, r, XVP_ERR_OPERATION_INVALID, "No interface with MAC %s in domain %d",
                                      mac, domid);
        return r;
}

int xenstore_find_pci_devid(XsChannel *c, int domid, const char *bdf, int *ret_devid, XvError *error) {
        _cleanup_strv_free_ char **devs = NULL;
        char dir[96];
        PciAddr want;
        int r;

        if (!bdf || parse_pci_addr(bdf, &want) < 0)
                return channel_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Invalid PCI address '%s'", strnull(bdf));
        r = domid_check(domid, error);
        if (r < 0)
                return r;
        (void) snprintf(dir, sizeof(dir), "/local/domain/0/backend/pci/%d", domid);
        r = directory_optional(c, dir, XENSTORE_DEVICES_MAX, &devs, error);
        if (r < 0 && r != -ENOENT)
                return r;
        /* pciback keeps all of a domain's devices in one instance, as dev-0 .. dev-(num_devs - 1). */
        STRV_FOREACH(d, devs) {
                int devid;

                if (parse_devid(*d, &devid) < 0)
                        continue;
                for (unsigned i = 0; i < XENSTORE_PCI_FUNCS_MAX; i++) {
                        _cleanup_free_ char *v = NULL;
                        char path[160];
                        PciAddr a;

                        (void) snprintf(path, sizeof(path), "%s/%d/dev-%u", dir, devid, i);
                        r = read_optional(c, path, &v, error);
                        if (r == -ENOENT)
                                break;
                        if (r < 0)
                                return r;
                        if (parse_pci_addr(v, &a) >= 0 && a.domain == want.domain && a.bus == want.bus &&
                            a.slot == want.slot && a.function == want.function) {
                                *ret_devid = devid;
                                return 0;
                        }
                }
        }
        return channel_errorf(error, -ENOENT, XVP_ERR_OPERATION_INVALID, "No PCI device %s in domain %d", bdf, domid);
}

int xenstore_get_vbd_state(XsChannel *c, int domid, int devid, int *ret_state, XvError *error) {
        static const char *const kinds[] = { "vbd", "tap", "tap2" };
        int r;

        r = domid_check(domid, error);
        if (r < 0)
                return r;
        if (devid < 0)
                return channel_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Invalid device id %d", devid);
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                _cleanup_free_ char *v = NULL;
                char path[128];
                unsigned state;

                (void) snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%d/%d/state", kinds[k], domid, devid);
                r = read_optional(c, path, &v, error);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                if (safe_atou(v, &state) < 0 || state > 8)
                        return channel_errorf(error, -EBADMSG, XVP_ERR_INTERNAL, "Invalid xenbus state in %s", path);
                *ret_state = (int) state;
                return 0;
        }
        return channel_errorf(error, -ENOENT, XVP_ERR_OPERATION_INVALID, "No block device %d in domain %d", devid,
                              domid);
}

/* ---- writes ---- */

static int domain_write(XsChannel *c, int domid, const char *key, const char *value, XvError *error) {
        _cleanup_free_ char *home = NULL, *name = NULL, *path = NULL;
        int r;

        r = domid_check(domid, error);
        if (r < 0)
                return r;
        if (c && c->read_only)
                return channel_errorf(error, -EPERM, XVP_ERR_OPERATION_DENIED,
                                      "Cannot change domain %d on a read-only xenstore connection", domid);
        /* dom0 may create any node, so writing for a domain that just went away would leave a
         * stray tree behind: check that the domain's home is still there first. */
        if (asprintf(&home, "/local/domain/%d", domid) < 0 || asprintf(&path, "%s/%s", home, key) < 0)
                return -ENOMEM;
        r = read_optional(c, home, &name, error);
        if (r == -ENOENT)
                return channel_errorf(error, r, XVP_ERR_NO_DOMAIN, "No domain with id %d in xenstore", domid);
        if (r < 0)
                return r;
        return xenstore_write(c, path, value, error);
}

int xenstore_request_shutdown(XsChannel *c, int domid, const char *request, XvError *error) {
        static const char *const requests[] = { "poweroff", "reboot", "suspend", "halt" };
        bool known = false;

        for (size_t i = 0; i < ELEMENTSOF(requests); i++)
                if (streq_ptr(request, requests[i]))
                        known = true;
        if (!known)
                return channel_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Invalid shutdown request '%s'",
                                      strnull(request));
        if (domid == 0)
                return channel_errorf(error, -EBUSY, XVP_ERR_OPERATION_INVALID, "Domain 0 cannot be shut down");
        return domain_write(c, domid, "control/shutdown", request, error);
}

int xenstore_set_memory_target(XsChannel *c, int domid, uint64_t kib, XvError *error) {
        char buf[32];

        (void) snprintf(buf, sizeof(buf), "%" PRIu64, kib);
        return domain_write(c, domid, "memory/target", buf, error);
}

/* ---- watches ---- */

int xenstore_event_fd(XsChannel *c) {
        return c ? c->epoll_fd : -EBADF;
}

bool xenstore_events_pending(XsChannel *c) {
        struct pollfd p = { .events = POLLIN };

        /* No channel, no connection, or events that may have been lost and not yet reported
         * (a resync): nothing the caller holds can be trusted. */
        if (!c || !__atomic_load_n(&c->events_reliable, __ATOMIC_ACQUIRE))
                return true;
        p.fd = c->watch_epoll_fd;
        return poll(&p, 1, 0) != 0;
}

static bool watch_path_valid(const char *path) {
        size_t n;

        if (!path)
                return false;
        n = strlen(path);
        if (n == 0 || n >= XENSTORE_ABS_PATH_MAX || (path[0] != '/' && path[0] != '@'))
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) path[i] <= ' ' || (unsigned char) path[i] >= 127)
                        return false;
        return true;
}

int xenstore_watch_domain_trees(XsChannel *c) {
        int r;

        r = xenstore_add_watch(c, XENSTORE_TREE_DOMAINS, NULL);
        if (r != -ENOMEM)
                r = xenstore_add_watch(c, XENSTORE_TREE_VMS, NULL);
        return r == -ENOMEM ? r : 0;
}

int xenstore_add_watch(XsChannel *c, const char *path, XvError *error) {
        _cleanup_(conn_unrefp) XsConn *watch = NULL;
        int r = 0;

        if (!c || !watch_path_valid(path) || streq(path, XENSTORE_WATCH_INTRODUCE) ||
            streq(path, XENSTORE_WATCH_RELEASE))
                return channel_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Invalid xenstore watch path");

        pthread_mutex_lock(&c->lock);
        if (strv_contains(c->watches, path))
                r = -EEXIST;
        else if (strv_length(c->watches) >= XENSTORE_WATCHES_MAX)
                r = -E2BIG;
        else
                r = strv_extend(&c->watches, path);
        if (r >= 0)
                watch = conn_ref(c->watch);
        pthread_mutex_unlock(&c->lock);
        if (r == -EEXIST)
                return 0;
        if (r < 0)
                return channel_errorf(error, r, r == -ENOMEM ? XVP_ERR_NO_MEMORY : XVP_ERR_OPERATION_FAILED,
                                      "Cannot add xenstore watch %s", path);
        /* Disconnected: the reconnect registers it. */
        if (!watch)
                return 0;
        r = watch_register(watch->xsh, path);
        if (r < 0 && errno_is_disconnect(-r)) {
                channel_mark_dead(c, NULL, watch);
                return 0;
        }
        if (r < 0) {
                pthread_mutex_lock(&c->lock);
                for (size_t i = 0; c->watches && c->watches[i]; i++)
                        if (streq(c->watches[i], path)) {
                                free(c->watches[i]);
                                memmove(c->watches + i, c->watches + i + 1,
                                        (strv_length(c->watches + i + 1) + 1) * sizeof(char *));
                                break;
                        }
                pthread_mutex_unlock(&c->lock);
                return channel_error(error, r, XVP_ERR_OPERATION_FAILED, "Cannot watch xenstore node %s", path);
        }
        return 0;
}

int xenstore_remove_watch(XsChannel *c, const char *path, XvError *error) {
        _cleanup_(conn_unrefp) XsConn *watch = NULL;
        bool found = false;

        if (!c || !watch_path_valid(path))
                return channel_errorf(error, -EINVAL, XVP_ERR_INVALID_ARG, "Invalid xenstore watch path");
        pthread_mutex_lock(&c->lock);
        for (size_t i = 0; c->watches && c->watches[i]; i++)
                if (streq(c->watches[i], path)) {
                        free(c->watches[i]);
                        memmove(c->watches + i, c->watches + i + 1,
                                (strv_length(c->watches + i + 1) + 1) * sizeof(char *));
                        found = true;
                        break;
                }
        if (found)
                watch = conn_ref(c->watch);
        pthread_mutex_unlock(&c->lock);
        if (!found)
                return channel_errorf(error, -ENOENT, XVP_ERR_OPERATION_INVALID, "No xenstore watch on %s", path);
        /* A failure (xenstored gone) needs no handling: the reconnect does not re-register it. */
        if (watch)
                (void) xs_unwatch(watch->xsh, path, path);
        return 0;
}

int xenstore_read_events(XsChannel *c, char ***ret_paths, bool *ret_resync, XvError *error) {
        _cleanup_(conn_unrefp) XsConn *watch = NULL;
        _cleanup_strv_free_ char **paths = NULL;
        uint64_t expirations;
        bool resync = false, dead = false;
        size_t n = 0;
        int r;

        if (!c || !ret_paths)
                return -EINVAL;
        /* Clear the timer's readability; its expiry only means "look". */
        (void) read(c->timer_fd, &expirations, sizeof(expirations));

        pthread_mutex_lock(&c->lock);
        watch = conn_ref(c->watch);
        pthread_mutex_unlock(&c->lock);

        if (!watch) {
                r = xenstore_reconnect(c, NULL);
                pthread_mutex_lock(&c->lock);
                if (r >= 0)
                        watch = conn_ref(c->watch);
                else if (!c->req) {
                        /* Still away: wait longer before the next attempt. */
                        c->retry_usec = MIN(MAX(c->retry_usec, XENSTORE_RETRY_USEC) * 2, XENSTORE_RETRY_MAX_USEC);
                        timer_arm(c, c->retry_usec);
                }
                pthread_mutex_unlock(&c->lock);
        }

        while (watch) {
                char **ev;

                if (n >= XENSTORE_EVENTS_MAX) {
                        /* The rest stays queued and keeps the fd readable. */
                        break;
                }
                errno = 0;
                ev = xs_check_watch(watch->xsh);
                if (!ev) {
                        /* EAGAIN: drained. Anything else: the reader thread found the connection
                         * dead (EINVAL once the socket is closed and the queue empty). */
                        if (errno != EAGAIN)
                                dead = true;
                        break;
                }
                r = strv_extend(&paths, ev[XS_WATCH_PATH]);
                free(ev);
                if (r < 0)
                        return channel_errorf(error, r, XVP_ERR_NO_MEMORY, "Out of memory");
                n++;
        }
        if (dead)
                channel_mark_dead(c, NULL, watch);

        pthread_mutex_lock(&c->lock);
        resync = c->resync;
        c->resync = false;
        reliable_set_locked(c);
        pthread_mutex_unlock(&c->lock);

        if (!paths) {
                paths = new0(char *, 1);
                if (!paths)
                        return -ENOMEM;
        }
        *ret_paths = TAKE_PTR(paths);
        if (ret_resync)
                *ret_resync = resync;
        return 0;
}

/* ---- parsers ---- */

int xenstore_parse_domid(const char *s, int *ret) {
        unsigned v;

        if (isempty(s) || (s[0] == '0' && s[1] != '\0'))
                return -EINVAL;
        for (const char *p = s; *p; p++)
                if (*p < '0' || *p > '9')
                        return -EINVAL;
        if (safe_atou(s, &v) < 0 || v > XENSTORE_DOMID_MAX)
                return -EINVAL;
        if (ret)
                *ret = (int) v;
        return 0;
}

/* Whether @s (of @len chars) is a UUID in the canonical dashed or the 32-digit form. */
static bool uuid_chars_valid(const char *s, size_t len) {
        for (size_t j = 0; j < len; j++) {
                bool dash = len == UUID_STRING_LEN && (j == 8 || j == 13 || j == 18 || j == 23);

                if (dash ? s[j] != '-' : !(s[j] != '\0' && strchr("0123456789abcdefABCDEF", s[j])))
                        return false;
        }
        return true;
}

/* "-<n>" (xend appends it when the /vm/<uuid> node is taken, after a rename) or nothing. */
static bool vm_suffix_valid(const char *s) {
        size_t n;

        if (*s == '\0')
                return true;
        if (*s != '-')
                return false;
        n = strlen(++s);
        if (n == 0 || n > 9)
                return false;
        return strspn(s, "0123456789") == n;
}

int xenstore_parse_vm_path(const char *s, XvUuid *ret) {
        static const size_t lens[] = { UUID_STRING_LEN, 32 };
        const char *rest;

        if (!s || strncmp(s, "/vm/", 4) != 0)
                return -EINVAL;
        rest = s + 4;
        for (size_t i = 0; i < ELEMENTSOF(lens); i++) {
                char buf[UUID_STRING_BUF];
                XvUuid u;

                if (strnlen(rest, lens[i]) < lens[i] || !uuid_chars_valid(rest, lens[i]) ||
                    !vm_suffix_valid(rest + lens[i]))
                        continue;
                memcpy(buf, rest, lens[i]);
                buf[lens[i]] = '\0';
                if (uuid_from_string(buf, &u) < 0)
                        continue;
                if (ret)
                        *ret = u;
                return 0;
        }
        return -EINVAL;
}

int xenstore_path_domid(const char *path, int *ret) {
        static const char prefix[] = "/local/domain/";
        char buf[16];
        size_t n;

        if (!path || strncmp(path, prefix, strlen(prefix)) != 0)
                return -EINVAL;
        path += strlen(prefix);
        n = strcspn(path, "/");
        if (n == 0 || n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, path, n);
        buf[n] = '\0';
        return xenstore_parse_domid(buf, ret);
}

int xenstore_path_backend_domid(const char *path, int *ret) {
        static const char backend[] = "/backend/";
        const char *p;
        char buf[16];
        size_t n;
        int id;

        if (xenstore_path_domid(path, &id) < 0)
                return -EINVAL;
        /* Past "/local/domain/<id>" come "/backend/<type>/<frontend id>". */
        p = path + strlen("/local/domain/");
        p += strcspn(p, "/");
        if (strncmp(p, backend, strlen(backend)) != 0)
                return -EINVAL;
        p += strlen(backend);
        n = strcspn(p, "/");
        if (n == 0 || p[n] != '/')
                return -EINVAL;
        p += n + 1;
        n = strcspn(p, "/");
        if (n == 0 || n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, p, n);
        buf[n] = '\0';
        return xenstore_parse_domid(buf, ret);
}

bool xenstore_path_in_tree(const char *path, const char *tree) {
        size_t n = strlen(tree);

        return strncmp(path, tree, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int xenstore_path_vm_uuid(const char *path, XvUuid *ret) {
        char buf[sizeof("/vm/") + UUID_STRING_LEN + 16];
        size_t n;

        if (!path || strncmp(path, "/vm/", 4) != 0)
                return -EINVAL;
        n = strcspn(path + 4, "/");
        if (n == 0 || 4 + n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, path, 4 + n);
        buf[4 + n] = '\0';
        return xenstore_parse_vm_path(buf, ret);
}

int xenstore_parse_tty(const char *s) {
        size_t n;

        if (!s || strncmp(s, "/dev/", 5) != 0)
                return -EINVAL;
        n = strlen(s);
        if (n <= 5 || n > XENSTORE_TTY_MAX || s[n - 1] == '/')
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] <= ' ' || (unsigned char) s[i] >= 127)
                        return -EINVAL;
        if (strstr(s, "/../") || strstr(s, "/./") || strstr(s, "//") ||
            (n >= 3 && streq(s + n - 3, "/..")) || (n >= 2 && streq(s + n - 2, "/.")))
                return -EINVAL;
        return 0;
}
