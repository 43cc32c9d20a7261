/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The connection side of xensim's XenD: listening socket, connections, request framing, fault
 * injection, reply delays. What a request means is decided in xsim-xend-ops.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "xsim-control.h"
#include "xsim-http.h"
#include "xsim-xend-internal.h"
#include "xv-alloc.h"
#include "xv-log.h"

#define XEND_READ_CHUNK         (64 * 1024)
#define XEND_HOLD_POLL_USEC     (10 * 1000)     /* a held listing looks at the switch this often */
#define XEND_INPUT_MAX          (HTTP_HEADER_SIZE_MAX + HTTP_BODY_MAX)

typedef struct XendConn XendConn;
struct XendConn {
        XsimXend *xend;
        int fd;
        sd_event_source *io;
        sd_event_source *timeout;       /* request/idle timeout */
        sd_event_source *delay;         /* xend_delay_ms: the reply waits for this */
        char *in;
        size_t in_size, in_allocated;
        char *out;
        size_t out_size, out_done;
        bool busy;                      /* a reply is delayed or being written; input waits */
        bool close_after;               /* close once the reply is out */
        bool sent_continue;             /* "100 Continue" went out for the current request */
        bool is_listing;                /* the current request is GET /xend/domain?detail=1 */
        bool held;                      /* its reply waits for "xend hold-listings off" */
        XendConn *prev, *next;
};

static XendConn *conn_free(XendConn *c) {
        XsimXend *x;

        if (!c)
                return NULL;
        x = c->xend;
        if (x && c->held)
                x->host->faults.xend_held--;
        if (x) {
                if (c->prev)
                        c->prev->next = c->next;
                else
                        x->conns = c->next;
                if (c->next)
                        c->next->prev = c->prev;
                x->n_conns--;
        }
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timeout);
        sd_event_source_disable_unref(c->delay);
        safe_close(c->fd);
        free(c->in);
        free(c->out);
        return mfree(c);
}

static int conn_arm_timeout(XendConn *c) {
        int r;

        r = sd_event_source_set_time_relative(c->timeout, XEND_REQUEST_TIMEOUT_USEC);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(c->timeout, SD_EVENT_ONESHOT);
}

static int conn_start_write(XendConn *c) {
        c->delay = sd_event_source_disable_unref(c->delay);
        /* While the reply is out, the timeout guards a client that stops reading. */
        (void) conn_arm_timeout(c);
        return sd_event_source_set_io_events(c->io, EPOLLOUT);
}

static int on_delay(sd_event_source *s, uint64_t usec, void *userdata) {
        XendConn *c = userdata;

        if (conn_start_write(c) < 0)
                conn_free(c);
        return 0;
}

/* "xend hold-listings": the held reply goes out once the switch is off (looked at every
 * XEND_HOLD_POLL_USEC: the control socket has no hook into the connections). */
static int on_hold(sd_event_source *s, uint64_t usec, void *userdata) {
        XendConn *c = userdata;
        int r;

        if (c->xend->host->faults.xend_hold_listings) {
                r = sd_event_source_set_time_relative(s, XEND_HOLD_POLL_USEC);
                if (r >= 0)
                        r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
                if (r < 0)
                        conn_free(c);
                return 0;
        }
        c->held = false;
        c->xend->host->faults.xend_held--;
        return on_delay(s, usec, userdata);
}

/* Holds the queued answer back: no writing, no request timeout, @callback after @usec. */
static int conn_park(XendConn *c, uint64_t usec, sd_event_time_handler_t callback) {
        int r;

        r = sd_event_source_set_io_events(c->io, 0);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(c->timeout, SD_EVENT_OFF);
        if (r < 0)
                return r;
        return sd_event_add_time_relative(c->xend->host->event, &c->delay, CLOCK_MONOTONIC, usec, 0, callback, c);
}

/* Queues @data (owned) as the whole answer; honours the reply delay fault. */
static int conn_queue(XendConn *c, char *data, size_t size) {
        XsimXend *x = c->xend;
        unsigned delay_ms = x->host->faults.xend_delay_ms;
        int r;

        free(c->out);
        c->out = data;
        c->out_size = size;
        c->out_done = 0;
        c->busy = true;

        if (c->is_listing && x->host->faults.xend_hold_listings) {
                r = conn_park(c, XEND_HOLD_POLL_USEC, on_hold);
                if (r < 0)
                        return r;
                c->held = true;
                x->host->faults.xend_held++;
                return 0;
        }
        if (delay_ms == 0)
                return conn_start_write(c);

        /* Never sleep: the loop keeps serving everyone else while this reply waits. The delay is
         * bounded by the fault setting; the request timeout must not cut it short. */
        return conn_park(c, (uint64_t) delay_ms * 1000, on_delay);
}

static int conn_reply(XendConn *c, XendReply *rep) {
        char *data = NULL;
        size_t size = 0, body_size;
        int r;

        if (rep->close)
                c->close_after = true;
        body_size = rep->body ? strlen(rep->body) : 0;
        if (c->xend->host->faults.xend_partial)
                c->close_after = true;
        r = http_response_format(rep->status, rep->content_type, rep->body, body_size, !c->close_after,
                                 &data, &size);
        if (r < 0)
                return r;
        /* A XenD that dies while writing: the headers announce the whole body (Content-Length),
         * half of it (at least one byte short) arrives, then the connection closes. */
        if (c->xend->host->faults.xend_partial)
                size -= body_size / 2 + (body_size > 0);
        return conn_queue(c, data, size);
}

static int conn_reply_simple(XendConn *c, int status, const char *text) {
        XendReply rep = { .status = status, .content_type = "text/plain" };
        int r;

        rep.body = strdup(text);
        if (!rep.body)
                return -ENOMEM;
        r = conn_reply(c, &rep);
        xend_reply_done(&rep);
        return r;
}

/* The bytes a broken XenD (or something else listening on its socket) might send. */
static const char garbage[] = "\x00\x01\xfe\xffSSH-2.0-not-a-xend\r\n\x1b[0m\x7f\x80 garbage";

/* Python's traceback for a request that blew up inside xend, as error500 answers every request. */
static const char traceback_500[] =
        "Traceback (most recent call last):\n"
        "  File \"/usr/lib64/python2.4/site-packages/xen/web/httpserver.py\", line 140, in process\n"
        "    resource = self.getResource()\n"
        "  File \"/usr/lib64/python2.4/site-packages/xen/web/SrvBase.py\", line 85, in perform\n"
        "    return op_method(op, req)\n"
        "XendError: xensim: injected failure (error500)\n";

static int conn_handle(XendConn *c, HttpRequest *req) {
        XsimXend *x = c->xend;
        _cleanup_(xend_reply_done) XendReply rep = {};
        int r;

        if (!req->keep_alive)
                c->close_after = true;
        c->is_listing = streq(req->method, "GET") && streq(req->path, "/xend/domain") &&
                streq_ptr(http_fields_get(req->query, "detail"), "1");

        if (x->host->faults.xend_error500) {
                rep.status = 500;
                rep.content_type = "text/plain";
                rep.body = strdup(traceback_500);
                if (!rep.body)
                        return -ENOMEM;
                return conn_reply(c, &rep);
        }

        r = xend_dispatch(x, req, &rep);
        if (r < 0)
                return r;
        return conn_reply(c, &rep);
}

/* Serves complete requests in the input buffer until one is pending or more bytes are needed. */
static int conn_process(XendConn *c) {
        XsimXend *x = c->xend;

        while (!c->busy) {
                _cleanup_(http_request_freep) HttpRequest *req = NULL;
                int status = 0, r;

                r = http_request_parse(c->in, c->in_size, &req, &status);
                if (r < 0)
                        return r;
                switch (r) {

                case HTTP_PARSE_INCOMPLETE:
                        return 0;

                case HTTP_PARSE_CONTINUE:
                        /* curl waits for this before sending a body above 1 KiB. */
                        if (!c->sent_continue) {
                                static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

                                c->sent_continue = true;
                                (void) send(c->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                        }
                        return 0;

                case HTTP_PARSE_ERROR: {
                        char text[128];

                        x->host->faults.xend_requests++;
                        xsim_control_count_xend_request("-", "(malformed)", NULL);
                        log_debug("xend: malformed request, answering %d", status);
                        c->close_after = true;
                        c->in_size = 0;
                        (void) snprintf(text, sizeof(text), "%d %s\n", status, http_status_reason(status));
                        return conn_reply_simple(c, status, text);
                }

                default:
                        break;
                }

                x->host->faults.xend_requests++;
                xsim_control_count_xend_request(req->method, req->path, http_request_arg(req, "op"));
                c->sent_continue = false;
                memmove(c->in, c->in + req->size, c->in_size - req->size);
                c->in_size -= req->size;
                xend_log(x, "%s %s", req->method, req->path);

                if (x->host->faults.xend_drop)
                        return -ECONNRESET;
                if (x->host->faults.xend_garbage) {
                        char *g = malloc(sizeof(garbage));

                        if (!g)
                                return -ENOMEM;
                        memcpy(g, garbage, sizeof(garbage));
                        c->close_after = true;
                        return conn_queue(c, g, sizeof(garbage) - 1);
                }
                r = conn_handle(c, req);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int conn_read(XendConn *c) {
        ssize_t n;
        int r;

        if (c->in_size >= XEND_INPUT_MAX)
                return -E2BIG;          /* cannot happen: the parser refuses long before */
        if (c->in_allocated - c->in_size < XEND_READ_CHUNK) {
                size_t want = MIN(c->in_size + XEND_READ_CHUNK, (size_t) XEND_INPUT_MAX);
                char *p = realloc(c->in, want);

                if (!p)
                        return -ENOMEM;
                c->in = p;
                c->in_allocated = want;
        }
        n = recv(c->fd, c->in + c->in_size, c->in_allocated - c->in_size, MSG_DONTWAIT);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (n == 0)
                return -ECONNRESET;     /* the client hung up; nothing is pending (input waits while busy) */

        /* The timeout runs from the first byte of a request, not from the last one: a client that
         * trickles a byte at a time must not hold its connection forever. */
        if (c->in_size == 0) {
                r = conn_arm_timeout(c);
                if (r < 0)
                        return r;
        }
        c->in_size += (size_t) n;
        return conn_process(c);
}

static int conn_write(XendConn *c) {
        size_t before = c->out_done;
        ssize_t n;
        int r;

        while (c->out_done < c->out_size) {
                n = send(c->fd, c->out + c->out_done, c->out_size - c->out_done, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR) {
                                /* The timeout is for a client that stopped reading: one that
                                 * reads a long listing slowly (under valgrind) gets more time. */
                                if (c->out_done > before)
                                        (void) conn_arm_timeout(c);
                                return 0;
                        }
                        return -errno;
                }
                c->out_done += (size_t) n;
        }

        c->out = mfree(c->out);
        c->out_size = c->out_done = 0;
        c->busy = false;
        if (c->close_after) {
                (void) shutdown(c->fd, SHUT_WR);
                return -ECONNRESET;
        }
        r = sd_event_source_set_io_events(c->io, EPOLLIN);
        if (r < 0)
                return r;
        r = conn_arm_timeout(c);
        if (r < 0)
                return r;
        return conn_process(c);         /* a pipelined request may be waiting already */
}

static int on_conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        XendConn *c = userdata;
        int r = 0;

        if (revents & EPOLLOUT)
                r = conn_write(c);
        else if (revents & EPOLLIN)
                r = conn_read(c);
        else if (revents & (EPOLLHUP | EPOLLERR))
                r = -ECONNRESET;
        if (r < 0) {
                if (r != -ECONNRESET)
                        log_debug_errno(r, "xend: closing connection: %m");
                conn_free(c);
        }
        return 0;
}

static int on_conn_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        XendConn *c = userdata;

        log_debug("xend: connection timed out with %zu bytes of an incomplete request", c->in_size);
        conn_free(c);
        return 0;
}

static void xend_close_listener(XsimXend *x) {
        x->listen_source = sd_event_source_disable_unref(x->listen_source);
        if (x->listen_fd >= 0) {
                x->listen_fd = safe_close(x->listen_fd);
                (void) unlink(x->socket_path);
        }
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        XsimXend *x = userdata;

        for (;;) {
                _cleanup_close_ int cfd = -EBADF;
                XendConn *c;
                int r;

                cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_debug_errno(-errno, "xend: accept failed: %m");
                        return 0;
                }
                /* The control socket may have switched xend off without telling us. */
                if (x->host->faults.xend_absent) {
                        xend_close_listener(x);
                        return 0;
                }
                if (x->n_conns >= XEND_CONNECTIONS_MAX) {
                        log_debug("xend: %u connections open, refusing another", x->n_conns);
                        continue;
                }

                c = new0(XendConn, 1);
                if (!c)
                        return 0;
                c->fd = TAKE_FD(cfd);
                c->xend = x;
                c->next = x->conns;
                if (x->conns)
                        x->conns->prev = c;
                x->conns = c;
                x->n_conns++;

                r = sd_event_add_io(x->host->event, &c->io, c->fd, EPOLLIN, on_conn_io, c);
                if (r >= 0)
                        r = sd_event_add_time_relative(x->host->event, &c->timeout, CLOCK_MONOTONIC,
                                                       XEND_REQUEST_TIMEOUT_USEC, 0, on_conn_timeout, c);
                if (r < 0) {
                        log_debug_errno(r, "xend: cannot watch a new connection: %m");
                        conn_free(c);
                }
        }
}

static int xend_open_listener(XsimXend *x) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (x->listen_fd >= 0)
                return 0;
        if (strlen(x->socket_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, x->socket_path, strlen(x->socket_path) + 1);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        (void) unlink(x->socket_path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        if (listen(fd, SOMAXCONN) < 0)
                return -errno;
        r = sd_event_add_io(x->host->event, &x->listen_source, fd, EPOLLIN, on_accept, x);
        if (r < 0)
                return r;
        x->listen_fd = TAKE_FD(fd);
        return 0;
}

int xsim_xend_set_absent(XsimXend *x, bool absent) {
        if (!x)
                return -EINVAL;
        x->host->faults.xend_absent = absent;
        if (!absent)
                return xend_open_listener(x);
        xend_close_listener(x);
        while (x->conns)
                conn_free(x->conns);
        return 0;
}

int xsim_xend_new(XsimHost *host, const char *socket_path, XsimXend **ret) {
        _cleanup_(xsim_xend_freep) XsimXend *x = NULL;
        int r;

        if (!host || !host->event || !socket_path || !ret)
                return -EINVAL;

        x = new0(XsimXend, 1);
        if (!x)
                return -ENOMEM;
        x->host = host;
        x->listen_fd = -EBADF;
        x->socket_path = strdup(socket_path);
        if (!x->socket_path)
                return -ENOMEM;

        if (!host->faults.xend_absent) {
                r = xend_open_listener(x);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(x);
        return 0;
}

XsimXend *xsim_xend_free(XsimXend *x) {
        if (!x)
                return NULL;
        while (x->conns)
                conn_free(x->conns);
        xend_pending_free_all(x);
        xend_close_listener(x);
        free(x->socket_path);
        strbuf_done(&x->log);
        return mfree(x);
}
