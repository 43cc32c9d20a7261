/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Connections: URI, socket, handshake, the private I/O thread (reads frames, matches replies to
 * waiting callers by serial, answers and sends keepalive pings, queues events), calls with
 * timeouts, and teardown.
 *
 * Locking: c->lock protects the connection state; c->write_lock serializes whole frames on the
 * socket. write_lock may be taken before c->lock, never the other way round, and the I/O thread
 * only ever try-locks write_lock, so a caller stuck writing a large frame cannot stall reading.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-client.h"
#include "xv-time.h"

#define URI_DEFAULT             "xen:///system"
#define CONN_CLOSE_TIMEOUT_USEC (10u * 1000000u)        /* for CONNECT_CLOSE at the last unref */
#define KEEPALIVE_INTERVAL_DEFAULT 5u
#define KEEPALIVE_COUNT_DEFAULT 5u
#define WRITE_POLL_MSEC         1000                    /* re-check for a dead connection this often */
#define RETRY_MSEC              50                      /* retry a PING/PONG when a caller was writing */

struct Call {
        uint32_t serial;
        bool done;
        Message *reply;
        pthread_cond_t cond;
        Call *next;
};

void event_fd_signal(int fd) {
        uint64_t one = 1;

        /* Only fails when the counter would overflow, which leaves it readable anyway. */
        (void) !write(fd, &one, sizeof(one));
}

void event_fd_drain(int fd) {
        uint64_t v;

        (void) !read(fd, &v, sizeof(v));
}

/* ------------------------------------------------------------------------------------------
 * URI
 */

static int unhex(char ch) {
        if (ch >= '0' && ch <= '9')
                return ch - '0';
        if (ch >= 'a' && ch <= 'f')
                return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F')
                return ch - 'A' + 10;
        return -1;
}

/* Percent-decodes @len bytes of @s into a new string. */
static int uri_unescape(const char *s, size_t len, char **ret) {
        _cleanup_free_ char *d = new(char, len + 1);
        size_t j = 0;

        if (!d)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '%' && i + 2 < len && unhex(s[i + 1]) >= 0 && unhex(s[i + 2]) >= 0) {
                        d[j++] = (char) (unhex(s[i + 1]) * 16 + unhex(s[i + 2]));
                        i += 2;
                } else
                        d[j++] = s[i];
        }
        d[j] = '\0';
        if (strlen(d) != j)
                return -EINVAL;         /* "%00" */
        *ret = TAKE_PTR(d);
        return 0;
}

/* Accepts "xen://[/[system]][?query]" (also with the "xen+unix" scheme virsh users type). The
 * name sent in CONNECT_OPEN is the URI without transport and query, as libvirt's client sends
 * it; the query's "socket" parameter chooses the socket, other parameters are ignored. Anything
 * else fails the way libvirt fails for a URI no driver handles: XVP_ERR_NO_CONNECT. */
static int uri_parse(const char *uri, char **ret_name, char **ret_socket, XvError *error) {
        _cleanup_free_ char *name = NULL, *socket_path = NULL;
        const char *p, *path, *query;
        size_t path_len;

        if (strnlen(uri, CONN_URI_MAX + 1) > CONN_URI_MAX)
                return lib_error_setf(error, -EINVAL, XVP_ERR_INVALID_ARG, XVP_FROM_REMOTE,
                                      "URI longer than %u bytes", CONN_URI_MAX);

        if (strncmp(uri, "xen://", 6) == 0)
                p = uri + 6;
        else if (strncmp(uri, "xen+unix://", 11) == 0)
                p = uri + 11;
        else
                return lib_error_setf(error, -EINVAL, XVP_ERR_NO_CONNECT, XVP_FROM_NONE, "%s", uri);

        /* No host part: the daemon is only reachable over its local sockets. */
        path = p;
        if (*path != '\0' && *path != '/' && *path != '?')
                return lib_error_setf(error, -EINVAL, XVP_ERR_NO_CONNECT, XVP_FROM_NONE, "%s", uri);
        query = strchr(path, '?');
        path_len = query ? (size_t) (query - path) : strlen(path);
        if (!(path_len == 0 || (path_len == 1 && path[0] == '/') ||
              (path_len == 7 && strncmp(path, "/system", 7) == 0)))
                return lib_error_setf(error, -EINVAL, XVP_ERR_NO_CONNECT, XVP_FROM_NONE, "%s", uri);

        if (asprintf(&name, "xen://%.*s", (int) (path_len ? path_len : 1), path_len ? path : "/") < 0) {
                name = NULL;
                return -ENOMEM;
        }

        for (const char *q = query ? query + 1 : NULL; q && *q;) {
                size_t len = strcspn(q, "&;");

                if (len >= 7 && strncmp(q, "socket=", 7) == 0) {
                        int r;

                        socket_path = mfree(socket_path);
                        r = uri_unescape(q + 7, len - 7, &socket_path);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0 || isempty(socket_path) ||
                            strlen(socket_path) >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
                                return lib_error_setf(error, -EINVAL, XVP_ERR_INVALID_ARG, XVP_FROM_REMOTE,
                                                      "invalid socket path in URI '%s'", uri);
                }
                q += len;
                if (*q)
                        q++;
        }

        *ret_name = TAKE_PTR(name);
        *ret_socket = TAKE_PTR(socket_path);
        return 0;
}

static int fcntl_nonblock(int fd) {
        int fl = fcntl(fd, F_GETFL);

        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
                return -errno;
        return 0;
}

static int socket_connect(const char *path, XvError *error) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (strlen(path) >= sizeof(sa.sun_path))
                return lib_error_setf(error, -EINVAL, XVP_ERR_INVALID_ARG, XVP_FROM_REMOTE,
                                      "socket path '%s' too long", path);
        memcpy(sa.sun_path, path, strlen(path) + 1);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return lib_error_setf(error, -errno, XVP_ERR_SYSTEM, XVP_FROM_RPC, "Failed to create socket: %s",
                                      strerror(errno));
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return lib_error_setf(error, -errno, XVP_ERR_SYSTEM, XVP_FROM_RPC,
                                      "Failed to connect socket to '%s': %s", path, strerror(errno));
        /* Non-blocking from now on: the I/O thread must never block in read(). */
        int fl = fcntl_nonblock(fd);
        if (fl < 0)
                return lib_error_setf(error, fl, XVP_ERR_SYSTEM, XVP_FROM_RPC, "Cannot make socket non-blocking: %s",
                                      strerror(-fl));
        return TAKE_FD(fd);
}

/* ------------------------------------------------------------------------------------------
 * Death, errors
 */

void conn_mark_dead(xv_conn *c, int reason, int r, const char *detail) {
        bool first = false;

        pthread_mutex_lock(&c->lock);
        if (!c->dead) {
                first = true;
                if (c->closing)
                        reason = 3;
                c->dead = true;
                c->dead_reason = reason;
                (void) lib_error_setf(&c->dead_error, -ENOTCONN, XVP_ERR_RPC, XVP_FROM_RPC, "%s%s%s", detail,
                                      r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
                for (Call *call = c->calls; call; call = call->next)
                        pthread_cond_signal(&call->cond);
                if (reason != 3)
                        events_queue_close(c, reason);
                event_fd_signal(c->event_fd);
        }
        pthread_mutex_unlock(&c->lock);

        if (first) {
                /* Tell the daemon too, and make the I/O thread leave its poll(). */
                (void) shutdown(c->fd, SHUT_RDWR);
                event_fd_signal(c->wake_fd);
        }
}

int conn_dead_error(xv_conn *c, XvError *error) {
        pthread_mutex_lock(&c->lock);
        (void) lib_error_setf(error, -ENOTCONN, XVP_ERR_RPC, XVP_FROM_RPC, "%s",
                              c->dead_error.message ?: "Connection closed");
        pthread_mutex_unlock(&c->lock);
        return -ENOTCONN;
}

/* An internal error (from src/: encode/decode) as the public message: prefix and detail. */
static int error_from_internal(XvError *dst, XvError *src, int r) {
        _cleanup_free_ char *m = xv_error_format(src, r);
        xvp_error_code code = xv_error_is_set(src) ? src->code : xv_error_code_from_errno(r);

        xv_error_done(src);
        if (!dst || xv_error_is_set(dst))
                return r;
        dst->code = code;
        dst->domain = XVP_FROM_RPC;
        dst->message = TAKE_PTR(m);
        return r;
}

/* ------------------------------------------------------------------------------------------
 * Writing
 */

static int write_all(xv_conn *c, const uint8_t *p, size_t n) {
        while (n > 0) {
                ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                return -errno;

                        struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
                        bool dead;

                        if (poll(&pfd, 1, WRITE_POLL_MSEC) < 0 && errno != EINTR)
                                return -errno;
                        pthread_mutex_lock(&c->lock);
                        dead = c->dead;
                        pthread_mutex_unlock(&c->lock);
                        if (dead)
                                return -ENOTCONN;
                        continue;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

int conn_write_message(xv_conn *c, const Message *m, XvError *error) {
        int r;

        pthread_mutex_lock(&c->write_lock);
        r = write_all(c, m->frame, m->size);
        pthread_mutex_unlock(&c->write_lock);
        if (r < 0) {
                if (r != -ENOTCONN)
                        conn_mark_dead(c, 0, r, "Cannot write data");
                return conn_dead_error(c, error);
        }
        return 0;
}

/* The I/O thread's writes: never waits for a caller's frame. Returns 1 when written, 0 when the
 * socket was busy, or a negative errno. */
static int conn_try_write_keepalive(xv_conn *c, int proc) {
        _cleanup_(message_freep) Message *m = NULL;
        int r;

        r = message_new_keepalive(proc, &m);
        if (r < 0)
                return r;
        if (pthread_mutex_trylock(&c->write_lock) != 0)
                return 0;
        r = write_all(c, m->frame, m->size);
        pthread_mutex_unlock(&c->write_lock);
        return r < 0 ? r : 1;
}

/* ------------------------------------------------------------------------------------------
 * The I/O thread
 */

static void conn_handle_frame(xv_conn *c, Message *m) {
        const xvp_message_header *h = &m->header;
        bool keep = false;

        pthread_mutex_lock(&c->lock);
        c->last_rx_usec = monotonic_usec();
        c->ka_sent = 0;

        if (h->prog == XVP_KEEPALIVE_PROGRAM && h->vers == XVP_KEEPALIVE_PROTOCOL_VERSION) {
                if (h->proc == XVP_KEEPALIVE_PROC_PING)
                        c->pong_pending = true;
        } else if (h->prog == XVP_PROGRAM && h->vers == XVP_PROTOCOL_VERSION) {
                if (h->type == XVP_MSG_REPLY) {
                        /* A reply nobody waits for (its call timed out) is dropped. */
                        for (Call *call = c->calls; call; call = call->next)
                                if (call->serial == h->serial && !call->done) {
                                        call->reply = m;
                                        call->done = true;
                                        keep = true;
                                        pthread_cond_signal(&call->cond);
                                        break;
                                }
                } else if (h->type == XVP_MSG_MESSAGE)
                        events_handle_message(c, m);
        }
        pthread_mutex_unlock(&c->lock);

        if (!keep)
                message_free(m);
}

static void *io_thread_main(void *userdata) {
        xv_conn *c = userdata;
        _cleanup_(message_reader_freep) MessageReader *reader = NULL;
        int r;

        r = message_reader_new(0, &reader);
        if (r < 0) {
                conn_mark_dead(c, 0, r, "Cannot start reading");
                return NULL;
        }

        for (;;) {
                bool pong, ping = false;
                int timeout = -1;

                pthread_mutex_lock(&c->lock);
                if (c->stopping || c->dead) {
                        pthread_mutex_unlock(&c->lock);
                        break;
                }
                pong = c->pong_pending;
                if (c->keepalive_supported && c->ka_interval > 0) {
                        uint64_t due = c->last_rx_usec + (uint64_t) c->ka_interval * 1000000u * (c->ka_sent + 1);
                        uint64_t now = monotonic_usec();

                        if (now >= due) {
                                if (c->ka_sent >= c->ka_count) {
                                        pthread_mutex_unlock(&c->lock);
                                        conn_mark_dead(c, 2, 0, "Connection closed due to keepalive timeout");
                                        break;
                                }
                                c->ka_sent++;
                                ping = true;
                                due = c->last_rx_usec + (uint64_t) c->ka_interval * 1000000u * (c->ka_sent + 1);
                        }
                        timeout = (int) MIN((due - MIN(due, now) + 999) / 1000, (uint64_t) 3600000);
                }
                pthread_mutex_unlock(&c->lock);

                if (pong) {
                        r = conn_try_write_keepalive(c, XVP_KEEPALIVE_PROC_PONG);
                        if (r < 0) {
                                conn_mark_dead(c, 0, r, "Cannot write data");
                                break;
                        }
                        if (r > 0) {
                                pthread_mutex_lock(&c->lock);
                                c->pong_pending = false;
                                pthread_mutex_unlock(&c->lock);
                        } else
                                timeout = timeout < 0 ? RETRY_MSEC : MIN(timeout, RETRY_MSEC);
                }
                if (ping) {
                        r = conn_try_write_keepalive(c, XVP_KEEPALIVE_PROC_PING);
                        if (r < 0) {
                                conn_mark_dead(c, 0, r, "Cannot write data");
                                break;
                        }
                        /* A caller is writing right now: that is traffic too, ping again soon. */
                        if (r == 0) {
                                pthread_mutex_lock(&c->lock);
                                c->ka_sent--;
                                pthread_mutex_unlock(&c->lock);
                                timeout = RETRY_MSEC;
                        }
                }

                struct pollfd pfd[2] = {
                        { .fd = c->fd, .events = POLLIN },
                        { .fd = c->wake_fd, .events = POLLIN },
                };
                if (poll(pfd, 2, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        conn_mark_dead(c, 0, -errno, "Cannot poll");
                        break;
                }
                if (pfd[1].revents & POLLIN)
                        event_fd_drain(c->wake_fd);
                if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;

                /* Read what is there; message_reader_read() returns 0 on EAGAIN as well. */
                for (;;) {
                        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
                        Message *m = NULL;

                        r = message_reader_read(reader, c->fd, &e);
                        if (r == -ENOTCONN) {
                                conn_mark_dead(c, 1, 0, "Connection closed by the daemon (end of file)");
                                return NULL;
                        }
                        if (r == -ECONNRESET) {
                                conn_mark_dead(c, 0, r, "Cannot recv data");
                                return NULL;
                        }
                        if (r < 0) {
                                /* Includes a length word beyond the limits: the stream can no
                                 * longer be split into frames. */
                                if (e.message)
                                        conn_mark_dead(c, 0, 0, e.message);
                                else
                                        conn_mark_dead(c, 0, r, "Cannot recv data");
                                return NULL;
                        }
                        if (r == 0)
                                break;
                        if (message_reader_pop(reader, &m) > 0)
                                conn_handle_frame(c, m);
                }
        }
        return NULL;
}

/* ------------------------------------------------------------------------------------------
 * Calls
 */

/* The waiting calls, linked through records on their callers' stacks: conn_call() links its own
 * record in and unlinks it again before it returns. Called with c->lock held. */
static void calls_link(xv_conn *c, Call *call) {
        call->next = c->calls;
        c->calls = call;
}

static void calls_unlink(xv_conn *c, Call *call) {
        for (Call **p = &c->calls; *p; p = &(*p)->next)
                if (*p == call) {
                        *p = call->next;
                        return;
                }
}

int conn_call(xv_conn *c, int proc, xdrproc_t args_filter, const void *args, xdrproc_t ret_filter, void *ret,
              XvError *error) {
        _cleanup_(message_freep) Message *m = NULL, *reply = NULL;
        XvError e = XV_ERROR_NULL;
        pthread_condattr_t attr;
        Call call = {};
        uint64_t timeout;
        bool timed_out = false;
        int r;

        pthread_mutex_lock(&c->lock);
        if (c->dead) {
                pthread_mutex_unlock(&c->lock);
                return conn_dead_error(c, error);
        }
        call.serial = c->next_serial++;
        timeout = c->timeout_usec;
        pthread_mutex_unlock(&c->lock);

        xvp_message_header h = {
                .prog = XVP_PROGRAM,
                .vers = XVP_PROTOCOL_VERSION,
                .proc = proc,
                .type = XVP_MSG_CALL,
                .serial = call.serial,
                .status = XVP_STATUS_OK,
        };
        r = message_encode(&h, args_filter, args, &m, &e);
        if (r < 0)
                return error_from_internal(error, &e, r);

        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&call.cond, &attr);
        pthread_condattr_destroy(&attr);

        /* Registered before the frame leaves, so that the reply cannot overtake us. */
        pthread_mutex_lock(&c->lock);
        calls_link(c, &call);
        pthread_mutex_unlock(&c->lock);

        uint64_t deadline = timeout > 0 ? monotonic_usec() + timeout : 0;

        r = conn_write_message(c, m, error);

        pthread_mutex_lock(&c->lock);
        if (r >= 0)
                while (!call.done && !c->dead) {
                        if (deadline == 0) {
                                pthread_cond_wait(&call.cond, &c->lock);
                                continue;
                        }
                        struct timespec ts = {
                                .tv_sec = (time_t) (deadline / 1000000u),
                                .tv_nsec = (long) (deadline % 1000000u) * 1000,
                        };
                        if (pthread_cond_timedwait(&call.cond, &c->lock, &ts) == ETIMEDOUT && !call.done) {
                                timed_out = true;
                                break;
                        }
                }
        calls_unlink(c, &call);
        reply = TAKE_PTR(call.reply);
        pthread_mutex_unlock(&c->lock);
        pthread_cond_destroy(&call.cond);

        if (r < 0)
                return r;
        if (!reply) {
                if (timed_out)
                        return lib_error_setf(error, -ETIMEDOUT, XVP_ERR_OPERATION_TIMEOUT, XVP_FROM_RPC,
                                              "no reply to procedure %d within %" PRIu64 " ms", proc,
                                              timeout / 1000);
                return conn_dead_error(c, error);
        }

        if (reply->header.status == XVP_STATUS_ERROR) {
                xvp_error w = {};

                r = message_decode_payload(reply, (xdrproc_t) xdr_xvp_error, &w, &e);
                if (r < 0)
                        return error_from_internal(error, &e, r);
                r = message_error_from_wire(&w, error);
                xdr_free((xdrproc_t) xdr_xvp_error, (char *) &w);
                /* A daemon error without a message: the code's text, as libvirt prints it. */
                if (error && !error->message)
                        error->message = strdup(xv_error_code_to_string(error->code));
                return r;
        }
        if (reply->header.status != XVP_STATUS_OK)
                return lib_error_setf(error, -EPROTO, XVP_ERR_RPC, XVP_FROM_RPC, "Unexpected message status %u",
                                      (unsigned) reply->header.status);

        r = message_decode_payload(reply, ret_filter, ret, &e);
        if (r < 0)
                return error_from_internal(error, &e, r);
        return 0;
}

static bool conn_supports_feature(xv_conn *c, int feature) {
        xvp_connect_supports_feature_args args = { .feature = feature };
        xvp_connect_supports_feature_ret ret = {};

        /* Errors mean "no", as for libvirt's connect-time feature queries. */
        if (conn_call(c, XVP_PROC_CONNECT_SUPPORTS_FEATURE, (xdrproc_t) xdr_xvp_connect_supports_feature_args,
                      &args, (xdrproc_t) xdr_xvp_connect_supports_feature_ret, &ret, NULL) < 0)
                return false;
        return ret.supported == 1;
}

/* AUTH_LIST, AUTH_POLKIT when the daemon asks for it, feature 10, CONNECT_OPEN, feature 14. */
static int conn_handshake(xv_conn *c, const char *name, XvError *error) {
        xvp_auth_list_ret auth = {};
        XvError e = XV_ERROR_NULL;
        int first = XVP_AUTH_NONE, r;

        r = conn_call(c, XVP_PROC_AUTH_LIST, NULL, NULL, (xdrproc_t) xdr_xvp_auth_list_ret, &auth, &e);
        if (r < 0) {
                /* libvirt's client takes NO_SUPPORT as "no authentication". */
                if (e.code != XVP_ERR_NO_SUPPORT) {
                        xv_error_move(error, &e);
                        return r;
                }
                xv_error_done(&e);
        } else {
                if (auth.types.types_len > 0)
                        first = auth.types.types_val[0];
                xdr_free((xdrproc_t) xdr_xvp_auth_list_ret, (char *) &auth);
        }

        switch (first) {
        case XVP_AUTH_NONE:
                break;
        case XVP_AUTH_POLKIT: {
                xvp_auth_polkit_ret pk = {};

                /* The daemon decides from the socket's peer credentials; its refusal (45 or 94)
                 * is the error of the whole open. */
                r = conn_call(c, XVP_PROC_AUTH_POLKIT, NULL, NULL, (xdrproc_t) xdr_xvp_auth_polkit_ret, &pk, error);
                if (r < 0)
                        return r;
                break;
        }
        default:
                return lib_error_setf(error, -EACCES, XVP_ERR_AUTH_UNAVAILABLE, XVP_FROM_REMOTE,
                                      "authentication type %d is not supported", first);
        }

        bool ka = conn_supports_feature(c, XVP_FEATURE_PROGRAM_KEEPALIVE);

        /* The I/O thread reads this: set it under the lock and let the thread recompute its timer. */
        pthread_mutex_lock(&c->lock);
        c->keepalive_supported = ka;
        pthread_mutex_unlock(&c->lock);
        event_fd_signal(c->wake_fd);

        xvp_nonnull_string n = (char *) name;
        xvp_connect_open_args open_args = {
                .name = &n,
                .flags = c->read_only ? XVP_CONNECT_RO : 0,
        };
        r = conn_call(c, XVP_PROC_CONNECT_OPEN, (xdrproc_t) xdr_xvp_connect_open_args, &open_args, NULL, NULL, error);
        if (r < 0)
                return r;
        pthread_mutex_lock(&c->lock);
        c->opened = true;
        pthread_mutex_unlock(&c->lock);

        c->event_callback_supported = conn_supports_feature(c, XVP_FEATURE_REMOTE_EVENT_CALLBACK);
        return 0;
}

static xv_conn *conn_new(void) {
        xv_conn *c = new0(xv_conn, 1);

        if (!c)
                return NULL;
        atomic_init(&c->n_ref, 1);
        c->fd = c->wake_fd = c->event_fd = -EBADF;
        pthread_mutex_init(&c->lock, NULL);
        pthread_mutex_init(&c->write_lock, NULL);
        pthread_mutex_init(&c->dispatch_lock, NULL);
        c->ka_interval = KEEPALIVE_INTERVAL_DEFAULT;
        c->ka_count = KEEPALIVE_COUNT_DEFAULT;
        c->last_rx_usec = monotonic_usec();
        c->next_legacy_id = 1 << 20;
        return c;
}

void conn_free(xv_conn *c) {
        if (!c)
                return;

        /* The helper thread first: nothing may be dispatched on a connection going away. */
        event_thread_stop(c);

        if (c->io_started) {
                bool alive;

                pthread_mutex_lock(&c->lock);
                alive = !c->dead && c->opened;
                pthread_mutex_unlock(&c->lock);
                if (alive) {
                        /* The daemon closes the socket after its reply; that end is ours. */
                        pthread_mutex_lock(&c->lock);
                        c->closing = true;
                        if (c->timeout_usec == 0 || c->timeout_usec > CONN_CLOSE_TIMEOUT_USEC)
                                c->timeout_usec = CONN_CLOSE_TIMEOUT_USEC;
                        pthread_mutex_unlock(&c->lock);
                        (void) conn_call(c, XVP_PROC_CONNECT_CLOSE, NULL, NULL, NULL, NULL, NULL);
                }
                conn_mark_dead(c, 3, 0, "Connection closed by the client");

                pthread_mutex_lock(&c->lock);
                c->stopping = true;
                pthread_mutex_unlock(&c->lock);
                event_fd_signal(c->wake_fd);
                pthread_join(c->io_thread, NULL);
        }

        events_free_all(c);
        safe_close(c->fd);
        safe_close(c->wake_fd);
        safe_close(c->event_fd);
        xv_error_done(&c->dead_error);
        pthread_mutex_destroy(&c->lock);
        pthread_mutex_destroy(&c->write_lock);
        pthread_mutex_destroy(&c->dispatch_lock);
        free(c->uri);
        free(c);
}

static void conn_freep(xv_conn **c) {
        if (*c)
                conn_free(*c);
}

int xv_conn_open(const char *uri, unsigned flags, xv_conn **ret, xv_error *error) {
        _cleanup_(conn_freep) xv_conn *c = NULL;
        _cleanup_free_ char *name = NULL, *socket_path = NULL;
        XvError *e = ERR(error);
        int r;

        r = check_arg(ret, "ret must not be NULL", e);
        if (r < 0)
                return r;
        if (flags & ~XV_CONN_READ_ONLY)
                return lib_error_setf(e, -EINVAL, XVP_ERR_INVALID_ARG, XVP_FROM_NONE,
                                      "unsupported flags (0x%x) in function xv_conn_open", flags & ~XV_CONN_READ_ONLY);
        if (!uri) {
                uri = secure_getenv("XENVIRT_DEFAULT_URI");
                if (isempty(uri))
                        uri = URI_DEFAULT;
        }

        r = uri_parse(uri, &name, &socket_path, e);
        if (r < 0)
                return r;

        c = conn_new();
        if (!c)
                return -ENOMEM;
        c->read_only = flags & XV_CONN_READ_ONLY;
        c->uri = strdup(uri);
        if (!c->uri)
                return -ENOMEM;

        c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        c->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (c->wake_fd < 0 || c->event_fd < 0)
                return lib_error_setf(e, -errno, XVP_ERR_SYSTEM, XVP_FROM_RPC, "Cannot create eventfd: %s",
                                      strerror(errno));

        r = socket_connect(socket_path ?: (c->read_only ? XV_SOCKET_RO_DEFAULT : XV_SOCKET_RW_DEFAULT), e);
        if (r < 0)
                return r;
        c->fd = r;

        r = -pthread_create(&c->io_thread, NULL, io_thread_main, c);
        if (r < 0)
                return lib_error_setf(e, r, XVP_ERR_SYSTEM, XVP_FROM_RPC, "Cannot start the I/O thread: %s",
                                      strerror(-r));
        c->io_started = true;

        r = conn_handshake(c, name, e);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(c);
        return 0;
}

bool conn_ref_unless_zero(xv_conn *c) {
        unsigned n = atomic_load(&c->n_ref);

        while (n > 0)
                if (atomic_compare_exchange_weak(&c->n_ref, &n, n + 1))
                        return true;
        return false;
}

xv_conn *xv_conn_ref(xv_conn *c) {
        if (c)
                atomic_fetch_add(&c->n_ref, 1);
        return c;
}

xv_conn *xv_conn_unref(xv_conn *c) {
        if (!c)
                return NULL;
        if (atomic_fetch_sub(&c->n_ref, 1) != 1)
                return NULL;

        /* The last reference went away inside a callback on the event thread (a domain handle
         * of the event): that thread frees the connection once the dispatch is over. */
        pthread_mutex_lock(&c->lock);
        if (c->event_thread_started && pthread_equal(pthread_self(), c->event_thread)) {
                c->free_on_event_thread = true;
                pthread_mutex_unlock(&c->lock);
                return NULL;
        }
        pthread_mutex_unlock(&c->lock);

        conn_free(c);
        return NULL;
}

int xv_conn_set_timeout(xv_conn *c, uint64_t usec) {
        if (!c)
                return -EINVAL;
        pthread_mutex_lock(&c->lock);
        c->timeout_usec = usec;
        pthread_mutex_unlock(&c->lock);
        return 0;
}

int xv_conn_set_keepalive(xv_conn *c, unsigned interval_sec, unsigned count) {
        if (!c)
                return -EINVAL;
        if (interval_sec > 0 && count == 0)
                return -EINVAL;
        pthread_mutex_lock(&c->lock);
        c->ka_interval = interval_sec;
        c->ka_count = count;
        c->ka_sent = 0;
        pthread_mutex_unlock(&c->lock);
        event_fd_signal(c->wake_fd);    /* recompute the I/O thread's timeout */
        return 0;
}

bool xv_conn_is_alive(xv_conn *c) {
        bool alive;

        if (!c)
                return false;
        pthread_mutex_lock(&c->lock);
        alive = !c->dead;
        pthread_mutex_unlock(&c->lock);
        return alive;
}

bool xv_conn_is_read_only(xv_conn *c) {
        return c && c->read_only;
}

const char *xv_conn_get_uri(xv_conn *c) {
        return c ? c->uri : NULL;
}
