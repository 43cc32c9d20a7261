/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <xen/io/xs_wire.h>

#include "xsim-hostfiles.h"
#include "xsim-store.h"
#include "xsim-xenstore.h"
#include "xv-alloc.h"
#include "xv-log.h"
#include "xv-parse-util.h"
#include "xv-sexpr.h"
#include "xv-strbuf.h"
#include "xv-uuid.h"

#define HEADER_SIZE sizeof(struct xsd_sockmsg)
#define MESSAGES_PER_WAKEUP 64          /* one busy client must not starve the others */
#define ARGS_MAX (XSIM_STORE_PERMS_MAX + 2)       /* SET_PERMS: the path, the perms, a reserved "" */
#define GUEST_REACTION_USEC (10 * 1000) /* the write is acknowledged before the guest acts */
#define DOM0_HOME "/local/domain/0/"

typedef struct XsimWatch {
        char *path;                     /* as the client sent it (relative paths stay relative in events) */
        char *abs_path;                 /* canonical, or the special "@..." name */
        char *token;
        bool relative;
} XsimWatch;

typedef enum TxOpType {
        TX_OP_WRITE,
        TX_OP_MKDIR,
        TX_OP_RM,
        TX_OP_SET_PERMS,
} TxOpType;

typedef struct TxOp {
        TxOpType type;
        char *path;
        char *value;
        size_t value_len;
        XsimPerm *perms;
        size_t n_perms;
} TxOp;

typedef struct TxAccess {
        char *path;
        uint64_t generation;            /* what the main store had when the transaction started, 0 = absent */
} TxAccess;

typedef struct XsimTransaction {
        uint32_t id;
        XsimStore *store;               /* private copy the transaction reads and writes */
        TxOp *ops;                      /* replayed on the main store at commit */
        size_t n_ops, allocated_ops;
        TxAccess *accesses;
        size_t n_accesses, allocated_accesses;
} XsimTransaction;

typedef struct XsimConn {
        XsimXenstore *xs;
        int fd;
        sd_event_source *io;
        bool dead;
        char in[HEADER_SIZE + XENSTORE_PAYLOAD_MAX + 1];       /* +1: a NUL after any payload */
        size_t in_len;
        uint64_t discard;               /* bytes of an oversized payload still to skip */
        char *out;
        size_t out_len, out_sent, out_allocated;
        XsimWatch *watches;
        size_t n_watches, allocated_watches;
        XsimTransaction **transactions;
        size_t n_transactions, allocated_transactions;
} XsimConn;

/* What we wrote for a domain, so that its release can undo it even after its domid is gone. */
typedef struct DomRecord {
        XsimDomain *domain;
        int domid;
        char uuid[UUID_STRING_BUF];
        bool shutdown_notified;         /* @releaseDomain already fired for the current shutdown */
} DomRecord;

typedef struct GuestAction {
        XsimXenstore *xs;
        sd_event_source *timer;
        int domid;
        XvUuid uuid;
        XsimShutdownReason reason;
} GuestAction;

struct XsimXenstore {
        XsimHost *host;
        char *socket_path;
        int listen_fd;
        sd_event_source *listen_source;
        sd_event_source *gc_source;     /* frees dropped connections outside their callbacks */
        XsimStore *store;
        XsimConn **conns;
        size_t n_conns, allocated_conns;
        uint32_t next_tx_id;
        DomRecord *records;
        size_t n_records, allocated_records;
        GuestAction **actions;
        size_t n_actions, allocated_actions;
        bool syncing;                   /* writing the state's own facts: the guest must not react */
};

/* ---- small helpers ---- */

static bool path_is_child(const char *child, const char *parent) {
        size_t l = strlen(parent);

        if (streq(parent, "/"))
                return child[0] == '/';
        return strncmp(child, parent, l) == 0 && (child[l] == 0 || child[l] == '/');
}

static const char *errno_name(int r) {
        for (size_t i = 0; i < ELEMENTSOF(xsd_errors); i++)
                if (xsd_errors[i].errnum == -r)
                        return xsd_errors[i].errstring;
        return "EIO";
}

/* Splits a payload of NUL-terminated strings. Returns -EINVAL when the payload does not end in a
 * NUL or has more than @max strings. */
static int split_args(const char *payload, size_t len, const char **argv, size_t max, size_t *ret_n) {
        size_t n = 0;

        if (len == 0 || payload[len - 1] != 0)
                return -EINVAL;
        for (const char *p = payload; p < payload + len; p += strlen(p) + 1) {
                if (n >= max)
                        return -EINVAL;
                argv[n++] = p;
        }
        *ret_n = n;
        return 0;
}

/* A client's path made absolute: relative paths are relative to dom0's home, as xenstored
 * treats socket connections. */
static int canonicalize(const char *path, char **ret) {
        char *p;

        if (path[0] == '/') {
                if (!xsim_store_path_valid(path))
                        return -EINVAL;
                p = strdup(path);
        } else {
                if (strlen(path) > XENSTORE_REL_PATH_MAX || path[0] == '@' || path[0] == 0)
                        return -EINVAL;
                if (asprintf(&p, DOM0_HOME "%s", path) < 0)
                        p = NULL;
                if (p && !xsim_store_path_valid(p)) {
                        free(p);
                        return -EINVAL;
                }
        }
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static void watch_done(XsimWatch *w) {
        free(w->path);
        free(w->abs_path);
        free(w->token);
}

static void tx_op_done(TxOp *op) {
        free(op->path);
        free(op->value);
        free(op->perms);
}

static XsimTransaction *transaction_free(XsimTransaction *t) {
        if (!t)
                return NULL;
        xsim_store_free(t->store);
        for (size_t i = 0; i < t->n_ops; i++)
                tx_op_done(&t->ops[i]);
        free(t->ops);
        for (size_t i = 0; i < t->n_accesses; i++)
                free(t->accesses[i].path);
        free(t->accesses);
        return mfree(t);
}
DEFINE_CLEANUP_FUNC(XsimTransaction *, transaction_free);

static void conn_reset(XsimConn *c) {
        for (size_t i = 0; i < c->n_watches; i++)
                watch_done(&c->watches[i]);
        c->n_watches = 0;
        for (size_t i = 0; i < c->n_transactions; i++)
                transaction_free(c->transactions[i]);
        c->n_transactions = 0;
}

static XsimConn *conn_free(XsimConn *c) {
        if (!c)
                return NULL;
        sd_event_source_disable_unref(c->io);
        safe_close(c->fd);
        conn_reset(c);
        free(c->watches);
        free(c->transactions);
        free(c->out);
        return mfree(c);
}

/* Closes the connection now and frees it later: callers may be iterating over connections or
 * running on this connection's own request. */
static void conn_drop(XsimConn *c) {
        if (c->dead)
                return;
        c->dead = true;
        c->io = sd_event_source_disable_unref(c->io);
        c->fd = safe_close(c->fd);
        if (c->xs->gc_source)
                (void) sd_event_source_set_enabled(c->xs->gc_source, SD_EVENT_ONESHOT);
}

static int conn_flush(XsimConn *c) {
        while (c->out_sent < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
                                 MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        return -errno;
                }
                c->out_sent += (size_t) n;
        }
        if (c->out_sent == c->out_len)
                c->out_sent = c->out_len = 0;
        return sd_event_source_set_io_events(c->io, c->out_len > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

/* Queues one message. A client that lets more than XSIM_XENSTORE_OUTPUT_MAX bytes pile up (it
 * sends requests or collects watches but never reads) is dropped, as xenstored drops a
 * connection whose quota of pending output is exhausted. */
static void conn_send(XsimConn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
                      const void *data, size_t len) {
        struct xsd_sockmsg hdr = { .type = type, .req_id = req_id, .tx_id = tx_id, .len = (uint32_t) len };
        size_t pending;

        if (c->dead)
                return;
        assert(len <= XENSTORE_PAYLOAD_MAX);

        /* Compact before growing, so the buffer stays bounded by what is really pending. */
        if (c->out_sent > 0) {
                memmove(c->out, c->out + c->out_sent, c->out_len - c->out_sent);
                c->out_len -= c->out_sent;
                c->out_sent = 0;
        }
        pending = c->out_len;
        if (pending + HEADER_SIZE + len > XSIM_XENSTORE_OUTPUT_MAX) {
                log_debug("xenstore: client output queue over %d bytes, dropping it",
                          XSIM_XENSTORE_OUTPUT_MAX);
                conn_drop(c);
                return;
        }
        if (GREEDY_REALLOC(c->out, c->out_allocated, pending + HEADER_SIZE + len) < 0) {
                conn_drop(c);
                return;
        }
        memcpy(c->out + pending, &hdr, HEADER_SIZE);
        if (len > 0)
                memcpy(c->out + pending + HEADER_SIZE, data, len);
        c->out_len = pending + HEADER_SIZE + len;

        if (conn_flush(c) < 0)
                conn_drop(c);
}

static void conn_reply(XsimConn *c, const struct xsd_sockmsg *req, const void *data, size_t len) {
        conn_send(c, req->type, req->req_id, req->tx_id, data, len);
}

static void conn_reply_string(XsimConn *c, const struct xsd_sockmsg *req, const char *s) {
        conn_reply(c, req, s, strlen(s) + 1);
}

static void conn_reply_error(XsimConn *c, const struct xsd_sockmsg *req, int r) {
        conn_send(c, XS_ERROR, req->req_id, req->tx_id, errno_name(r), strlen(errno_name(r)) + 1);
}

static void conn_send_event(XsimConn *c, const char *path, const char *token) {
        size_t lp = strlen(path) + 1, lt = strlen(token) + 1;
        char buf[XENSTORE_PAYLOAD_MAX];

        /* Both are bounded (path by XENSTORE_ABS_PATH_MAX, token by XSIM_XENSTORE_TOKEN_MAX), so
         * this cannot happen; never send an event a client could not take. */
        if (lp + lt > sizeof(buf))
                return;
        memcpy(buf, path, lp);
        memcpy(buf + lp, token, lt);
        conn_send(c, XS_WATCH_EVENT, 0, 0, buf, lp + lt);
}

static const char *watch_event_path(const XsimWatch *w, const char *abs) {
        if (w->relative && strncmp(abs, DOM0_HOME, strlen(DOM0_HOME)) == 0)
                return abs + strlen(DOM0_HOME);
        return abs;
}

/* Fires every watch on @path or above it; for a recursive removal also the watches below it, with
 * the watch's own path as xenstored reports them. */
static void fire_watches(XsimXenstore *xs, const char *path, bool removal) {
        for (size_t i = 0; i < xs->n_conns; i++) {
                XsimConn *c = xs->conns[i];

                for (size_t j = 0; j < c->n_watches && !c->dead; j++) {
                        XsimWatch *w = &c->watches[j];

                        if (path_is_child(path, w->abs_path))
                                conn_send_event(c, watch_event_path(w, path), w->token);
                        else if (removal && path[0] == '/' && path_is_child(w->abs_path, path))
                                conn_send_event(c, w->path, w->token);
                }
        }
}

/* ---- guest behaviour ---- */

static GuestAction *guest_action_free(GuestAction *a) {
        if (!a)
                return NULL;
        sd_event_source_disable_unref(a->timer);
        return mfree(a);
}

static void guest_action_remove(XsimXenstore *xs, GuestAction *a) {
        for (size_t i = 0; i < xs->n_actions; i++)
                if (xs->actions[i] == a) {
                        memmove(xs->actions + i, xs->actions + i + 1,
                                (xs->n_actions - i - 1) * sizeof(GuestAction *));
                        xs->n_actions--;
                        break;
                }
        guest_action_free(a);
}

static int main_write(XsimXenstore *xs, const char *path, const void *value, size_t len);

static int on_guest_action(sd_event_source *s, uint64_t usec, void *userdata) {
        GuestAction *a = userdata;
        XsimXenstore *xs = a->xs;
        XsimDomain *d = xsim_domain_by_id(xs->host, a->domid);
        _cleanup_free_ char *path = NULL;

        if (!d || !uuid_equal(&d->uuid, &a->uuid) || d->domid != a->domid) {
                guest_action_remove(xs, a);
                return 0;
        }

        /* A paused guest cannot run its xenbus handler; it acts once it is unpaused. */
        if (d->state == XSIM_STATE_PAUSED) {
                (void) sd_event_source_set_time_relative(s, GUEST_REACTION_USEC);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
                return 0;
        }
        if (d->state != XSIM_STATE_RUNNING) {
                guest_action_remove(xs, a);
                return 0;
        }

        /* Linux's shutdown_handler() clears the request before acting on it. */
        if (asprintf(&path, "/local/domain/%d/control/shutdown", a->domid) >= 0) {
                bool saved = xs->syncing;

                xs->syncing = true;
                (void) main_write(xs, path, "", 0);
                xs->syncing = saved;
        }

        (void) xsim_domain_shutdown(d, a->reason, NULL);
        guest_action_remove(xs, a);
        return 0;
}

static int guest_schedule_shutdown(XsimXenstore *xs, XsimDomain *d, XsimShutdownReason reason) {
        GuestAction *a;
        int r;

        if (xs->n_actions >= XSIM_DOMAINS_MAX)
                return -ENOSPC;
        if (GREEDY_REALLOC(xs->actions, xs->allocated_actions, xs->n_actions + 1) < 0)
                return -ENOMEM;
        a = new0(GuestAction, 1);
        if (!a)
                return -ENOMEM;
        *a = (GuestAction) { .xs = xs, .domid = d->domid, .uuid = d->uuid, .reason = reason };
        r = sd_event_add_time_relative(xs->host->event, &a->timer, CLOCK_MONOTONIC, GUEST_REACTION_USEC, 0,
                                       on_guest_action, a);
        if (r < 0) {
                guest_action_free(a);
                return r;
        }
        xs->actions[xs->n_actions++] = a;
        return 0;
}

/* A PV guest watches its control/shutdown and memory/target; emulate what it does about them. */
static void guest_react(XsimXenstore *xs, const char *path, const char *value, size_t len) {
        static const struct {
                const char *request;
                XsimShutdownReason reason;
        } requests[] = {
                { "poweroff", XSIM_SHUTDOWN_POWEROFF },
                { "halt",     XSIM_SHUTDOWN_POWEROFF },
                { "reboot",   XSIM_SHUTDOWN_REBOOT },
                { "suspend",  XSIM_SHUTDOWN_SUSPEND },
                { "crash",    XSIM_SHUTDOWN_CRASH },
        };
        char domid_buf[16], v[32];
        const char *p, *rest;
        XsimDomain *d;
        size_t l;
        int domid;

        if (xs->syncing || strncmp(path, "/local/domain/", strlen("/local/domain/")) != 0)
                return;
        p = path + strlen("/local/domain/");
        l = strcspn(p, "/");
        if (l == 0 || l >= sizeof(domid_buf) || p[l] != '/')
                return;
        memcpy(domid_buf, p, l);
        domid_buf[l] = 0;
        if (safe_atoi(domid_buf, &domid) < 0 || domid <= 0)
                return;                 /* dom0 is the simulator itself: it does not react */
        rest = p + l + 1;
        if (len >= sizeof(v))
                return;
        memcpy(v, value, len);
        v[len] = 0;

        d = xsim_domain_by_id(xs->host, domid);
        if (!d)
                return;

        if (streq(rest, "control/shutdown")) {
                for (size_t i = 0; i < ELEMENTSOF(requests); i++)
                        if (streq(v, requests[i].request)) {
                                int r = guest_schedule_shutdown(xs, d, requests[i].reason);
                                if (r < 0)
                                        log_warning_errno(r, "xenstore: cannot schedule the guest's shutdown, "
                                                          "ignoring: %m");
                                return;
                        }
        } else if (streq(rest, "memory/target")) {
                uint64_t kib;

                if (safe_atou64(v, &kib) < 0 || kib == d->memory_kib)
                        return;
                (void) xsim_domain_set_memory(d, kib, NULL);
        }
}

/* ---- changes to the main store: watches fire, the guest reacts ---- */

static int main_write(XsimXenstore *xs, const char *path, const void *value, size_t len) {
        int r;

        r = xsim_store_write(xs->store, path, value, len);
        if (r < 0)
                return r;
        fire_watches(xs, path, false);
        guest_react(xs, path, value, len);
        return 0;
}

static int main_mkdir(XsimXenstore *xs, const char *path) {
        bool existed = xsim_store_lookup(xs->store, path);
        int r;

        r = xsim_store_mkdir(xs->store, path);
        if (r < 0)
                return r;
        if (!existed)
                fire_watches(xs, path, false);
        return 0;
}

static int main_rm(XsimXenstore *xs, const char *path) {
        int r;

        r = xsim_store_rm(xs->store, path);
        if (r < 0)
                return r;
        fire_watches(xs, path, true);
        return 0;
}

static int main_set_perms(XsimXenstore *xs, const char *path, const XsimPerm *perms, size_t n) {
        int r;

        r = xsim_store_set_perms(xs->store, path, perms, n);
        if (r < 0)
                return r;
        fire_watches(xs, path, false);
        return 0;
}

/* ---- transactions ---- */

static XsimTransaction *conn_transaction(XsimConn *c, uint32_t id) {
        for (size_t i = 0; i < c->n_transactions; i++)
                if (c->transactions[i]->id == id)
                        return c->transactions[i];
        return NULL;
}

/* Records what the main store had at @path when the transaction started, the first time the
 * transaction touches it: the clone remembers the original generation of every node it copied,
 * even after the transaction changed the node (creating /a/b changes /a's list of children). */
static int tx_access(XsimTransaction *t, const char *path) {
        XsimNode *n;

        for (size_t i = 0; i < t->n_accesses; i++)
                if (streq(t->accesses[i].path, path))
                        return 0;
        if (t->n_accesses >= XSIM_XENSTORE_TX_ACCESSES_MAX)
                return -ENOSPC;
        if (GREEDY_REALLOC(t->accesses, t->allocated_accesses, t->n_accesses + 1) < 0)
                return -ENOMEM;
        n = xsim_store_lookup(t->store, path);
        t->accesses[t->n_accesses].path = strdup(path);
        if (!t->accesses[t->n_accesses].path)
                return -ENOMEM;
        t->accesses[t->n_accesses++].generation = n ? n->base_generation : 0;
        return 0;
}

/* A change touches the node and its parent's list of children. */
static int tx_access_change(XsimTransaction *t, const char *path) {
        _cleanup_free_ char *parent = NULL;
        char *slash;
        int r;

        r = tx_access(t, path);
        if (r < 0)
                return r;
        parent = strdup(path);
        if (!parent)
                return -ENOMEM;
        slash = strrchr(parent, '/');
        if (!slash || slash == parent)
                return streq(path, "/") ? 0 : tx_access(t, "/");
        *slash = 0;
        return tx_access(t, parent);
}

static int tx_log(XsimTransaction *t, TxOpType type, const char *path, const void *value, size_t len,
                  const XsimPerm *perms, size_t n_perms) {
        TxOp op = { .type = type, .value_len = len, .n_perms = n_perms };

        if (t->n_ops >= XSIM_XENSTORE_TX_ACCESSES_MAX)
                return -ENOSPC;
        if (GREEDY_REALLOC(t->ops, t->allocated_ops, t->n_ops + 1) < 0)
                return -ENOMEM;
        op.path = strdup(path);
        if (value) {
                op.value = malloc(len + 1);
                if (op.value) {
                        memcpy(op.value, value, len);
                        op.value[len] = 0;
                }
        }
        if (perms) {
                op.perms = new(XsimPerm, n_perms);
                if (op.perms)
                        memcpy(op.perms, perms, n_perms * sizeof(XsimPerm));
        }
        if (!op.path || (value && !op.value) || (perms && !op.perms)) {
                tx_op_done(&op);
                return -ENOMEM;
        }
        t->ops[t->n_ops++] = op;
        return 0;
}

static int transaction_commit(XsimXenstore *xs, XsimTransaction *t) {
        int r;

        for (size_t i = 0; i < t->n_accesses; i++)
                if (xsim_store_generation(xs->store, t->accesses[i].path) != t->accesses[i].generation)
                        return -EAGAIN;

        for (size_t i = 0; i < t->n_ops; i++) {
                const TxOp *op = &t->ops[i];

                switch (op->type) {
                case TX_OP_WRITE:
                        r = main_write(xs, op->path, op->value, op->value_len);
                        break;
                case TX_OP_MKDIR:
                        r = main_mkdir(xs, op->path);
                        break;
                case TX_OP_RM:
                        r = main_rm(xs, op->path);
                        if (r == -ENOENT)
                                r = 0;
                        break;
                case TX_OP_SET_PERMS:
                        r = main_set_perms(xs, op->path, op->perms, op->n_perms);
                        break;
                default:
                        assert(false);
                        r = -EINVAL;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- request handlers: return a negative errno, or 0 after sending the reply ---- */

typedef struct Request {
        XsimConn *conn;
        const struct xsd_sockmsg *hdr;
        const char *payload;
        XsimTransaction *tx;            /* NULL outside a transaction */
        XsimStore *store;               /* the transaction's copy or the main store */
} Request;

static int req_path(Request *q, const char **argv, size_t n, char **ret) {
        if (n < 1)
                return -EINVAL;
        return canonicalize(argv[0], ret);
}

/* The node a reading request is about. Inside a transaction the read is recorded first
 * (tx_access), so that the commit can tell whether the node changed meanwhile. */
static int req_lookup(Request *q, const char *path, XsimNode **ret) {
        XsimNode *node;
        int r;

        if (q->tx) {
                r = tx_access(q->tx, path);
                if (r < 0)
                        return r;
        }
        node = xsim_store_lookup(q->store, path);
        if (!node)
                return -ENOENT;
        *ret = node;
        return 0;
}

/* req_path() and req_lookup() in one, for the requests that need the node only. */
static int req_node(Request *q, const char **argv, size_t n, XsimNode **ret) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = req_path(q, argv, n, &path);
        if (r < 0)
                return r;
        return req_lookup(q, path, ret);
}

/* Sends the reply built in @b, or the error that building it ran into: past the payload limit,
 * E2BIG. */
static int req_reply_buf(Request *q, const StrBuf *b) {
        if (b->error < 0)
                return b->error;
        conn_reply(q->conn, q->hdr, b->buf, b->len);
        return 0;
}

static int handle_read(Request *q, const char **argv, size_t n) {
        XsimNode *node;
        int r;

        r = req_node(q, argv, n, &node);
        if (r < 0)
                return r;
        conn_reply(q->conn, q->hdr, node->value, node->value_len);
        return 0;
}

static int handle_directory(Request *q, const char **argv, size_t n) {
        _cleanup_(strbuf_done) StrBuf b = { .limit = XENSTORE_PAYLOAD_MAX };
        XsimNode *node;
        int r;

        r = req_node(q, argv, n, &node);
        if (r < 0)
                return r;
        for (size_t i = 0; i < node->n_children; i++)
                strbuf_appendn(&b, node->children[i]->name, strlen(node->children[i]->name) + 1);
        /* Past the payload limit the answer is E2BIG, and libxenstore switches to DIRECTORY_PART. */
        return req_reply_buf(q, &b);
}

static int handle_directory_part(Request *q, const char **argv, size_t n) {
        _cleanup_(strbuf_done) StrBuf b = { .limit = XENSTORE_PAYLOAD_MAX };
        _cleanup_free_ char *path = NULL;
        size_t pos = 0, offset;
        unsigned off;
        XsimNode *node;
        size_t i;
        int r;

        if (n < 2)
                return -EINVAL;
        r = req_path(q, argv, n, &path);
        if (r < 0)
                return r;
        r = safe_atou(argv[1], &off);
        if (r < 0)
                return -EINVAL;
        offset = off;
        r = req_lookup(q, path, &node);
        if (r < 0)
                return r;

        /* The reply is the node's generation, then the names from byte @offset of the full list;
         * an extra empty name marks the last part. */
        strbuf_appendf(&b, "%" PRIu64, node->generation);
        strbuf_appendc(&b, 0);
        for (i = 0; i < node->n_children; i++) {
                const char *name = node->children[i]->name;
                size_t l = strlen(name) + 1;

                if (pos >= offset) {
                        /* Keep one byte for the end marker. */
                        if (b.len + l + 1 > XENSTORE_PAYLOAD_MAX)
                                break;
                        strbuf_appendn(&b, name, l);
                }
                pos += l;
        }
        if (i == node->n_children)
                strbuf_appendc(&b, 0);
        return req_reply_buf(q, &b);
}

static int handle_get_perms(Request *q, const char **argv, size_t n) {
        _cleanup_(strbuf_done) StrBuf b = { .limit = XENSTORE_PAYLOAD_MAX };
        XsimNode *node;
        int r;

        r = req_node(q, argv, n, &node);
        if (r < 0)
                return r;
        for (size_t i = 0; i < node->n_perms; i++) {
                char buf[XSIM_PERM_STRING_MAX];

                xsim_perm_format(&node->perms[i], buf);
                strbuf_appendn(&b, buf, strlen(buf) + 1);
        }
        return req_reply_buf(q, &b);
}

static int handle_write(Request *q) {
        _cleanup_free_ char *path = NULL;
        const char *value;
        size_t plen, vlen;
        int r;

        plen = strnlen(q->payload, q->hdr->len);
        if (plen == q->hdr->len)
                return -EINVAL;         /* no NUL after the path */
        value = q->payload + plen + 1;
        vlen = q->hdr->len - plen - 1;

        r = canonicalize(q->payload, &path);
        if (r < 0)
                return r;
        if (q->tx) {
                r = tx_access_change(q->tx, path);
                if (r < 0)
                        return r;
                r = xsim_store_write(q->tx->store, path, value, vlen);
                if (r < 0)
                        return r;
                r = tx_log(q->tx, TX_OP_WRITE, path, value, vlen, NULL, 0);
        } else
                r = main_write(q->conn->xs, path, value, vlen);
        if (r < 0)
                return r;
        conn_reply_string(q->conn, q->hdr, "OK");
        return 0;
}

static int handle_mkdir(Request *q, const char **argv, size_t n) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = req_path(q, argv, n, &path);
        if (r < 0)
                return r;
        if (q->tx) {
                r = tx_access_change(q->tx, path);
                if (r < 0)
                        return r;
                r = xsim_store_mkdir(q->tx->store, path);
                if (r < 0)
                        return r;
                r = tx_log(q->tx, TX_OP_MKDIR, path, NULL, 0, NULL, 0);
        } else
                r = main_mkdir(q->conn->xs, path);
        if (r < 0)
                return r;
        conn_reply_string(q->conn, q->hdr, "OK");
        return 0;
}

static int handle_rm(Request *q, const char **argv, size_t n) {
        _cleanup_free_ char *path = NULL, *parent = NULL;
        char *slash;
        int r;

        r = req_path(q, argv, n, &path);
        if (r < 0)
                return r;
        if (streq(path, "/"))
                return -EINVAL;
        if (q->tx) {
                r = tx_access_change(q->tx, path);
                if (r < 0)
                        return r;
        }
        r = xsim_store_rm(q->store, path);
        if (r == -ENOENT) {
                /* xenstored: removing a missing node is fine as long as its parent exists. */
                parent = strdup(path);
                if (!parent)
                        return -ENOMEM;
                slash = strrchr(parent, '/');
                if (slash == parent)
                        slash[1] = 0;
                else
                        *slash = 0;
                if (!xsim_store_lookup(q->store, parent))
                        return -ENOENT;
                conn_reply_string(q->conn, q->hdr, "OK");
                return 0;
        }
        if (r < 0)
                return r;
        if (q->tx)
                r = tx_log(q->tx, TX_OP_RM, path, NULL, 0, NULL, 0);
        else
                fire_watches(q->conn->xs, path, true);
        if (r < 0)
                return r;
        conn_reply_string(q->conn, q->hdr, "OK");
        return 0;
}

static int handle_set_perms(Request *q, const char **argv, size_t n) {
        _cleanup_free_ char *path = NULL;
        XsimPerm perms[XSIM_STORE_PERMS_MAX];
        size_t n_perms = 0;
        int r;

        if (n < 2)
                return -EINVAL;
        r = req_path(q, argv, n, &path);
        if (r < 0)
                return r;
        for (size_t i = 1; i < n; i++) {
                /* libxenstore sends no trailing reserved string, but tolerate an empty one. */
                if (i == n - 1 && argv[i][0] == 0)
                        break;
                if (n_perms >= ELEMENTSOF(perms))
                        return -E2BIG;
                r = xsim_perm_parse(argv[i], &perms[n_perms]);
                if (r < 0)
                        return r;
                n_perms++;
        }
        if (n_perms == 0)
                return -EINVAL;
        if (q->tx) {
                r = tx_access_change(q->tx, path);
                if (r < 0)
                        return r;
                r = xsim_store_set_perms(q->tx->store, path, perms, n_perms);
                if (r < 0)
                        return r;
                r = tx_log(q->tx, TX_OP_SET_PERMS, path, NULL, 0, perms, n_perms);
        } else
                r = main_set_perms(q->conn->xs, path, perms, n_perms);
        if (r < 0)
                return r;
        conn_reply_string(q->conn, q->hdr, "OK");
        return 0;
}

static int watch_parse(const char **argv, size_t n, XsimWatch *ret) {
        _cleanup_free_ char *abs = NULL;
        int r;

        if (n < 2)
                return -EINVAL;
        if (strlen(argv[1]) > XSIM_XENSTORE_TOKEN_MAX)
                return -EINVAL;
        if (argv[0][0] == '@') {
                if (strlen(argv[0]) > XENSTORE_REL_PATH_MAX)
                        return -EINVAL;
                abs = strdup(argv[0]);
                if (!abs)
                        return -ENOMEM;
        } else {
                r = canonicalize(argv[0], &abs);
                if (r < 0)
                        return r;
        }
        *ret = (XsimWatch) {
                .path = strdup(argv[0]),
                .token = strdup(argv[1]),
                .relative = argv[0][0] != '/' && argv[0][0] != '@',
                .abs_path = TAKE_PTR(abs),
        };
        if (!ret->path || !ret->token) {
                watch_done(ret);
                return -ENOMEM;
        }
        return 0;
}

/* A watch is known by its path and token (as xenstored tells them apart): the index of @w's
 * twin among the connection's watches, or -ENOENT. */
static ssize_t conn_find_watch(XsimConn *c, const XsimWatch *w) {
        for (size_t i = 0; i < c->n_watches; i++)
                if (streq(c->watches[i].abs_path, w->abs_path) && streq(c->watches[i].token, w->token))
                        return (ssize_t) i;
        return -ENOENT;
}

static int handle_watch(Request *q, const char **argv, size_t n) {
        XsimConn *c = q->conn;
        XsimWatch w;
        int r;

        r = watch_parse(argv, n, &w);
        if (r < 0)
                return r;
        if (conn_find_watch(c, &w) >= 0) {
                watch_done(&w);
                return -EEXIST;
        }
        if (c->n_watches >= XSIM_XENSTORE_WATCHES_MAX ||
            GREEDY_REALLOC(c->watches, c->allocated_watches, c->n_watches + 1) < 0) {
                watch_done(&w);
                return c->n_watches >= XSIM_XENSTORE_WATCHES_MAX ? -E2BIG : -ENOMEM;
        }
        c->watches[c->n_watches++] = w;

        /* The reply goes first; then the watch fires once, which every client waits for. */
        conn_reply_string(c, q->hdr, "OK");
        conn_send_event(c, w.path, w.token);
        return 0;
}

static int handle_unwatch(Request *q, const char **argv, size_t n) {
        XsimConn *c = q->conn;
        XsimWatch w;
        ssize_t i;
        int r;

        r = watch_parse(argv, n, &w);
        if (r < 0)
                return r;
        i = conn_find_watch(c, &w);
        watch_done(&w);
        if (i < 0)
                return -ENOENT;

        watch_done(&c->watches[i]);
        memmove(c->watches + i, c->watches + i + 1, (c->n_watches - i - 1) * sizeof(XsimWatch));
        c->n_watches--;
        conn_reply_string(c, q->hdr, "OK");
        return 0;
}

static int handle_transaction_start(Request *q) {
        _cleanup_(transaction_freep) XsimTransaction *t = NULL;
        XsimConn *c = q->conn;
        XsimXenstore *xs = c->xs;
        char id[16];
        int r;

        if (q->hdr->tx_id != 0)
                return -EBUSY;
        if (c->n_transactions >= XSIM_XENSTORE_TRANSACTIONS_MAX)
                return -ENOSPC;
        if (GREEDY_REALLOC(c->transactions, c->allocated_transactions, c->n_transactions + 1) < 0)
                return -ENOMEM;
        t = new0(XsimTransaction, 1);
        if (!t)
                return -ENOMEM;
        r = xsim_store_clone(xs->store, &t->store);
        if (r < 0)
                return r;
        /* Ids are never 0 (XBT_NULL) and not reused soon after their end. */
        do
                t->id = xs->next_tx_id++;
        while (t->id == 0 || conn_transaction(c, t->id));
        (void) snprintf(id, sizeof(id), "%" PRIu32, t->id);
        c->transactions[c->n_transactions++] = TAKE_PTR(t);
        conn_reply_string(c, q->hdr, id);
        return 0;
}

static int handle_transaction_end(Request *q, const char **argv, size_t n) {
        _cleanup_(transaction_freep) XsimTransaction *t = NULL;
        XsimConn *c = q->conn;
        bool commit;
        int r;

        if (n < 1 || (!streq(argv[0], "T") && !streq(argv[0], "F")))
                return -EINVAL;
        commit = streq(argv[0], "T");
        if (!q->tx)
                return -ENOENT;

        for (size_t i = 0; i < c->n_transactions; i++)
                if (c->transactions[i] == q->tx) {
                        t = q->tx;
                        memmove(c->transactions + i, c->transactions + i + 1,
                                (c->n_transactions - i - 1) * sizeof(XsimTransaction *));
                        c->n_transactions--;
                        break;
                }
        assert(t);
        q->tx = NULL;

        if (commit) {
                r = transaction_commit(c->xs, t);
                if (r < 0)
                        return r;
        }
        conn_reply_string(c, q->hdr, "OK");
        return 0;
}

static DomRecord *record_by_domid(XsimXenstore *xs, int domid) {
        for (size_t i = 0; i < xs->n_records; i++)
                if (xs->records[i].domid == domid)
                        return &xs->records[i];
        return NULL;
}

static int parse_domid_arg(const char **argv, size_t n, unsigned *ret) {
        if (n < 1)
                return -EINVAL;
        if (safe_atou(argv[0], ret) < 0 || *ret > UINT16_MAX)
                return -EINVAL;
        return 0;
}

static int handle_domain_request(Request *q, const char **argv, size_t n) {
        XsimXenstore *xs = q->conn->xs;
        char buf[64];
        unsigned domid;
        int r;

        r = parse_domid_arg(argv, n, &domid);
        if (r < 0)
                return r;

        switch (q->hdr->type) {
        case XS_GET_DOMAIN_PATH:
                (void) snprintf(buf, sizeof(buf), "/local/domain/%u", domid);
                conn_reply_string(q->conn, q->hdr, buf);
                return 0;
        case XS_IS_DOMAIN_INTRODUCED:
                conn_reply_string(q->conn, q->hdr,
                                  domid == 0 || record_by_domid(xs, (int) domid) ? "T" : "F");
                return 0;
        case XS_INTRODUCE:
                /* The simulated domains are introduced by the state; a toolstack's own introduction
                 * only produces the event it expects. */
                if (n < 3 || domid == 0)
                        return -EINVAL;
                fire_watches(xs, "@introduceDomain", false);
                break;
        case XS_RELEASE:
                if (domid == 0)
                        return -EINVAL;
                fire_watches(xs, "@releaseDomain", false);
                break;
        case XS_RESUME:
                break;
        case XS_SET_TARGET:
                if (n < 2)
                        return -EINVAL;
                break;
        default:
                return -EINVAL;
        }
        conn_reply_string(q->conn, q->hdr, "OK");
        return 0;
}

static int handle_control(Request *q, const char **argv, size_t n) {
        if (n < 1)
                return -EINVAL;
        if (streq(argv[0], "help")) {
                static const char help[] = "check\nlog\nlogfile\nmemreport\nprint\nhelp\n";
                conn_reply_string(q->conn, q->hdr, help);
                return 0;
        }
        if (streq(argv[0], "print") || streq(argv[0], "log") || streq(argv[0], "logfile") ||
            streq(argv[0], "check") || streq(argv[0], "memreport")) {
                if (streq(argv[0], "print") && n >= 2)
                        log_debug("xenstore: %s", argv[1]);
                conn_reply_string(q->conn, q->hdr, "OK");
                return 0;
        }
        return -EINVAL;
}

static void conn_handle(XsimConn *c, const struct xsd_sockmsg *hdr, const char *payload) {
        Request q = { .conn = c, .hdr = hdr, .payload = payload, .store = c->xs->store };
        const char *argv[ARGS_MAX];
        size_t n = 0;
        int r;

        /* WATCH ignores tx_id; everything else with one works inside that transaction. */
        if (hdr->tx_id != 0 && hdr->type != XS_WATCH && hdr->type != XS_UNWATCH &&
            hdr->type != XS_TRANSACTION_START) {
                q.tx = conn_transaction(c, hdr->tx_id);
                if (!q.tx) {
                        conn_reply_error(c, hdr, -ENOENT);
                        return;
                }
                q.store = q.tx->store;
        }

        if (hdr->type == XS_WRITE)
                r = handle_write(&q);
        else if (hdr->type == XS_TRANSACTION_START)
                r = handle_transaction_start(&q);       /* its payload is reserved: "" or nothing */
        else if (hdr->type == XS_RESET_WATCHES) {
                conn_reset(c);
                conn_reply_string(c, hdr, "OK");
                r = 0;
        } else {
                r = split_args(payload, hdr->len, argv, ELEMENTSOF(argv), &n);
                if (r >= 0)
                        switch (hdr->type) {
                        case XS_CONTROL:
                                r = handle_control(&q, argv, n);
                                break;
                        case XS_DIRECTORY:
                                r = handle_directory(&q, argv, n);
                                break;
                        case XS_DIRECTORY_PART:
                                r = handle_directory_part(&q, argv, n);
                                break;
                        case XS_READ:
                                r = handle_read(&q, argv, n);
                                break;
                        case XS_GET_PERMS:
                                r = handle_get_perms(&q, argv, n);
                                break;
                        case XS_WATCH:
                                r = handle_watch(&q, argv, n);
                                break;
                        case XS_UNWATCH:
                                r = handle_unwatch(&q, argv, n);
                                break;
                        case XS_TRANSACTION_END:
                                r = handle_transaction_end(&q, argv, n);
                                break;
                        case XS_INTRODUCE:
                        case XS_RELEASE:
                        case XS_GET_DOMAIN_PATH:
                        case XS_IS_DOMAIN_INTRODUCED:
                        case XS_RESUME:
                        case XS_SET_TARGET:
                                r = handle_domain_request(&q, argv, n);
                                break;
                        case XS_MKDIR:
                                r = handle_mkdir(&q, argv, n);
                                break;
                        case XS_RM:
                                r = handle_rm(&q, argv, n);
                                break;
                        case XS_SET_PERMS:
                                r = handle_set_perms(&q, argv, n);
                                break;
                        default:
                                r = -EINVAL;
                        }
        }
        if (r < 0)
                conn_reply_error(c, hdr, r);
}

/* ---- connections ---- */

/* Reads what is there and handles every complete message. Returns -ECONNRESET at end of file. */
static int conn_read(XsimConn *c) {
        for (unsigned k = 0; k < MESSAGES_PER_WAKEUP && !c->dead; ) {
                struct xsd_sockmsg hdr;
                size_t want;
                ssize_t n;

                if (c->discard > 0) {
                        char scratch[4096];

                        n = recv(c->fd, scratch, MIN(c->discard, (uint64_t) sizeof(scratch)), MSG_DONTWAIT);
                } else {
                        want = HEADER_SIZE;
                        if (c->in_len >= HEADER_SIZE) {
                                memcpy(&hdr, c->in, HEADER_SIZE);
                                want += hdr.len;
                        }
                        n = recv(c->fd, c->in + c->in_len, want - c->in_len, MSG_DONTWAIT);
                }
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        return -errno;
                }
                if (n == 0)
                        return -ECONNRESET;

                if (c->discard > 0) {
                        c->discard -= (uint64_t) n;
                        continue;
                }
                c->in_len += (size_t) n;
                if (c->in_len < HEADER_SIZE)
                        continue;
                memcpy(&hdr, c->in, HEADER_SIZE);
                if (hdr.len > XENSTORE_PAYLOAD_MAX) {
                        /* xenstored kills such a connection; answering E2BIG and skipping the
                         * payload keeps a broken client debuggable and the stream in step. */
                        conn_reply_error(c, &hdr, -E2BIG);
                        c->discard = hdr.len;
                        c->in_len = 0;
                        k++;
                        continue;
                }
                if (c->in_len < HEADER_SIZE + hdr.len)
                        continue;

                c->in[HEADER_SIZE + hdr.len] = 0;
                c->in_len = 0;
                conn_handle(c, &hdr, c->in + HEADER_SIZE);
                k++;
        }
        return 0;
}

static int on_conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        XsimConn *c = userdata;
        int r;

        if (revents & EPOLLOUT) {
                r = conn_flush(c);
                if (r < 0) {
                        conn_drop(c);
                        return 0;
                }
        }
        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                r = conn_read(c);
                if (r < 0)
                        conn_drop(c);
        }
        return 0;
}

static int on_gc(sd_event_source *s, void *userdata) {
        XsimXenstore *xs = userdata;
        size_t j = 0;

        for (size_t i = 0; i < xs->n_conns; i++) {
                if (xs->conns[i]->dead)
                        conn_free(xs->conns[i]);
                else
                        xs->conns[j++] = xs->conns[i];
        }
        xs->n_conns = j;
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        XsimXenstore *xs = userdata;

        for (;;) {
                _cleanup_close_ int cfd = -EBADF;
                XsimConn *c;
                int r;

                cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                log_debug("xenstore: accept failed: %m");
                        return 0;
                }
                if (xs->n_conns >= XSIM_XENSTORE_CONNS_MAX) {
                        log_warning("xenstore: more than %d clients, refusing one", XSIM_XENSTORE_CONNS_MAX);
                        continue;
                }
                if (GREEDY_REALLOC(xs->conns, xs->allocated_conns, xs->n_conns + 1) < 0)
                        continue;
                c = new0(XsimConn, 1);
                if (!c)
                        continue;
                c->xs = xs;
                c->fd = TAKE_FD(cfd);
                r = sd_event_add_io(xs->host->event, &c->io, c->fd, EPOLLIN, on_conn_io, c);
                if (r < 0) {
                        conn_free(c);
                        continue;
                }
                xs->conns[xs->n_conns++] = c;
        }
}

static int xenstore_listen(XsimXenstore *xs) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct stat st;
        int r;

        if (strlen(xs->socket_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, xs->socket_path, strlen(xs->socket_path) + 1);

        /* A socket file left by an earlier run would make bind() fail. */
        if (lstat(xs->socket_path, &st) >= 0 && S_ISSOCK(st.st_mode))
                (void) unlink(xs->socket_path);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        if (listen(fd, SOMAXCONN) < 0)
                return -errno;
        r = sd_event_add_io(xs->host->event, &xs->listen_source, fd, EPOLLIN, on_accept, xs);
        if (r < 0)
                return r;
        xs->listen_fd = TAKE_FD(fd);
        return 0;
}

static void xenstore_unlisten(XsimXenstore *xs) {
        if (xs->listen_fd < 0)
                return;
        xs->listen_source = sd_event_source_disable_unref(xs->listen_source);
        xs->listen_fd = safe_close(xs->listen_fd);
        (void) unlink(xs->socket_path);
}

size_t xsim_xenstore_count_watches(XsimXenstore *xs, const char *path) {
        size_t n = 0;

        if (!xs || !path)
                return 0;
        for (size_t i = 0; i < xs->n_conns; i++)
                for (size_t j = 0; j < xs->conns[i]->n_watches && !xs->conns[i]->dead; j++)
                        if (streq(xs->conns[i]->watches[j].abs_path, path))
                                n++;
        return n;
}

int xsim_xenstore_set_absent(XsimXenstore *xs, bool absent) {
        int r;

        assert(xs);

        xs->host->faults.xenstore_absent = absent;
        if (absent) {
                xenstore_unlisten(xs);
                for (size_t i = 0; i < xs->n_conns; i++)
                        conn_drop(xs->conns[i]);
                return 0;
        }
        if (xs->listen_fd >= 0)
                return 0;
        r = xenstore_listen(xs);
        if (r < 0)
                xs->host->faults.xenstore_absent = true;
        return r;
}

/* ---- domain trees ---- */

static int sync_writef(XsimXenstore *xs, const char *base, const char *key, const char *format, ...)
        _printf_(4, 5);

/* Writes @base/@key (or @base when @key is NULL) from the state, firing watches but not the guest. */
static int sync_writef(XsimXenstore *xs, const char *base, const char *key, const char *format, ...) {
        _cleanup_free_ char *path = NULL, *value = NULL;
        XsimNode *n;
        va_list ap;
        bool saved;
        int r;

        if (key ? asprintf(&path, "%s/%s", base, key) < 0 : !(path = strdup(base)))
                return -ENOMEM;
        va_start(ap, format);
        r = vasprintf(&value, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;

        /* Unchanged values are not rewritten, so that watchers only see real changes. */
        n = xsim_store_lookup(xs->store, path);
        if (n && n->value_len == strlen(value) && memcmp(n->value, value, n->value_len) == 0)
                return 0;

        saved = xs->syncing;
        xs->syncing = true;
        r = main_write(xs, path, value, strlen(value));
        xs->syncing = saved;
        return r;
}

static int sync_mkdir(XsimXenstore *xs, const char *base, const char *key) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/%s", base, key) < 0)
                return -ENOMEM;
        return main_mkdir(xs, path);
}

/* The same number XenD and the host files use; a name Linux would not give a disk gets an id of
 * the extended form past anything the rules produce. */
static int vbd_devid(const char *devname, unsigned index) {
        int devid;

        if (xsim_disk_devid(devname, &devid) < 0)
                devid = (int) ((1u << 28) | ((0xfff00u + index) << 8));
        return devid;
}

static bool is_vbd_kind(const char *kind) {
        return streq_ptr(kind, "vbd") || streq_ptr(kind, "tap") || streq_ptr(kind, "tap2");
}

static int write_vbd(XsimXenstore *xs, const char *home, int domid, const Sexpr *dev, unsigned index) {
        _cleanup_free_ char *fe = NULL, *be = NULL, *name = NULL;
        const char *kind = sexpr_head(dev), *devname = xsim_device_value(dev, "dev");
        const char *uname = xsim_device_value(dev, "uname");
        const char *mode = xsim_device_value(dev, "mode"), *colon, *params;
        bool cdrom;
        int devid, r = 0;

        if (!devname)
                return 0;
        cdrom = strstr(devname, ":cdrom") != NULL;
        devid = vbd_devid(devname, index);
        if (strncmp(devname, "ioemu:", 6) == 0)
                devname += 6;
        name = strndup(devname, strcspn(devname, ":"));
        if (!name)
                return -ENOMEM;
        if (asprintf(&fe, "%s/device/vbd/%d", home, devid) < 0 ||
            asprintf(&be, "/local/domain/0/backend/%s/%d/%d", kind, domid, devid) < 0)
                return -ENOMEM;
        colon = uname ? strchr(uname, ':') : NULL;
        params = colon ? colon + 1 : strempty(uname);

        r = r < 0 ? r : sync_writef(xs, fe, "backend", "%s", be);
        r = r < 0 ? r : sync_writef(xs, fe, "backend-id", "0");
        r = r < 0 ? r : sync_writef(xs, fe, "virtual-device", "%d", devid);
        r = r < 0 ? r : sync_writef(xs, fe, "device-type", "%s", cdrom ? "cdrom" : "disk");
        r = r < 0 ? r : sync_writef(xs, fe, "state", "4");
        r = r < 0 ? r : sync_writef(xs, be, "frontend", "%s", fe);
        r = r < 0 ? r : sync_writef(xs, be, "frontend-id", "%d", domid);
        r = r < 0 ? r : sync_writef(xs, be, "dev", "%s", name);
        r = r < 0 ? r : sync_writef(xs, be, "params", "%s", params);
        r = r < 0 ? r : sync_writef(xs, be, "type", "%.*s", colon ? (int) (colon - uname) : 3,
                                    colon ? uname : "phy");
        r = r < 0 ? r : sync_writef(xs, be, "mode", "%s", mode ?: "w");
        r = r < 0 ? r : sync_writef(xs, be, "device-type", "%s", cdrom ? "cdrom" : "disk");
        r = r < 0 ? r : sync_writef(xs, be, "online", "1");
        r = r < 0 ? r : sync_writef(xs, be, "state", "4");
        return r;
}

static int write_vif(XsimXenstore *xs, const char *home, int domid, const Sexpr *dev, unsigned index) {
        _cleanup_free_ char *fe = NULL, *be = NULL, *mac_buf = NULL;
        const char *mac = xsim_device_value(dev, "mac"), *bridge = xsim_device_value(dev, "bridge");
        const char *script = xsim_device_value(dev, "script");
        int r = 0;

        if (!mac) {
                /* Xen's OUI with the domid and index, stable for a given domain. */
                if (asprintf(&mac_buf, "00:16:3e:%02x:%02x:%02x", (domid >> 8) & 0xff, domid & 0xff,
                             index & 0xff) < 0)
                        return -ENOMEM;
                mac = mac_buf;
        }
        if (asprintf(&fe, "%s/device/vif/%u", home, index) < 0 ||
            asprintf(&be, "/local/domain/0/backend/vif/%d/%u", domid, index) < 0)
                return -ENOMEM;

        r = r < 0 ? r : sync_writef(xs, fe, "backend", "%s", be);
        r = r < 0 ? r : sync_writef(xs, fe, "backend-id", "0");
        r = r < 0 ? r : sync_writef(xs, fe, "mac", "%s", mac);
        r = r < 0 ? r : sync_writef(xs, fe, "handle", "%u", index);
        r = r < 0 ? r : sync_writef(xs, fe, "state", "4");
        r = r < 0 ? r : sync_writef(xs, be, "frontend", "%s", fe);
        r = r < 0 ? r : sync_writef(xs, be, "frontend-id", "%d", domid);
        r = r < 0 ? r : sync_writef(xs, be, "mac", "%s", mac);
        r = r < 0 ? r : sync_writef(xs, be, "bridge", "%s", bridge ?: "xenbr0");
        r = r < 0 ? r : sync_writef(xs, be, "script", "%s", script ?: "/etc/xen/scripts/vif-bridge");
        r = r < 0 ? r : sync_writef(xs, be, "handle", "%u", index);
        r = r < 0 ? r : sync_writef(xs, be, "online", "1");
        r = r < 0 ? r : sync_writef(xs, be, "state", "4");
        return r;
}

/* Whether the configuration asks for a VNC display: (image (hvm (vnc 1))) or a (vfb ...) device
 * with (vnc 1) or (type vnc). */
static bool config_has_vnc(const Sexpr *config) {
        SEXPR_FOREACH_CHILD(c, config) {
                const char *head = sexpr_head(c);

                if (streq_ptr(head, "image")) {
                        SEXPR_FOREACH_CHILD(img, c) {
                                const char *v = xsim_device_value(img, "vnc");

                                if (v && !streq(v, "0"))
                                        return true;
                        }
                } else if (streq_ptr(head, "device")) {
                        const Sexpr *dev = sexpr_item(c, 1);
                        const char *v = xsim_device_value(dev, "vnc"), *t = xsim_device_value(dev, "type");

                        if (streq_ptr(sexpr_head(dev), "vfb") &&
                            ((v && !streq(v, "0")) || streq_ptr(t, "vnc")))
                                return true;
                }
        }
        return false;
}

/* Whether the configuration still has the device that xenstore lists as <class>/<devid>, where
 * class is "vbd" or "vif" (vifs are numbered by their position, as XenD numbers them). */
static bool config_has_device(const Sexpr *config, const char *class, const char *devid) {
        unsigned n_vbd = 0, n_vif = 0;
        char buf[32];

        SEXPR_FOREACH_CHILD(c, config) {
                const Sexpr *dev;

                if (!streq_ptr(sexpr_head(c), "device"))
                        continue;
                dev = sexpr_item(c, 1);
                if (is_vbd_kind(sexpr_head(dev)) && xsim_device_value(dev, "dev")) {
                        (void) snprintf(buf, sizeof(buf), "%d",
                                        vbd_devid(xsim_device_value(dev, "dev"), n_vbd++));
                        if (streq(class, "vbd") && streq(buf, devid))
                                return true;
                } else if (streq_ptr(sexpr_head(dev), "vif")) {
                        (void) snprintf(buf, sizeof(buf), "%u", n_vif++);
                        if (streq(class, "vif") && streq(buf, devid))
                                return true;
                }
        }
        return false;
}

/* Removes the children of @dir that name devices the configuration no longer has. */
static void prune_dir(XsimXenstore *xs, const char *dir, const char *class, const Sexpr *config) {
        _cleanup_strv_free_ char **gone = NULL;
        XsimNode *n = xsim_store_lookup(xs->store, dir);

        for (size_t i = 0; n && i < n->n_children; i++)
                if (!config_has_device(config, class, n->children[i]->name) &&
                    strv_extend(&gone, n->children[i]->name) < 0)
                        return;
        STRV_FOREACH(name, gone) {
                _cleanup_free_ char *path = NULL;

                if (asprintf(&path, "%s/%s", dir, *name) >= 0)
                        (void) main_rm(xs, path);
        }
}

/* After a hot-unplug: drop frontends and backends of devices gone from the configuration. */
static void prune_devices(XsimXenstore *xs, const char *home, int domid, const Sexpr *config) {
        static const char *const backends[] = { "vbd", "tap", "tap2", "vif" };
        char dir[128];

        (void) snprintf(dir, sizeof(dir), "%s/device/vbd", home);
        prune_dir(xs, dir, "vbd", config);
        (void) snprintf(dir, sizeof(dir), "%s/device/vif", home);
        prune_dir(xs, dir, "vif", config);
        for (size_t i = 0; i < ELEMENTSOF(backends); i++) {
                (void) snprintf(dir, sizeof(dir), "/local/domain/0/backend/%s/%d", backends[i], domid);
                prune_dir(xs, dir, streq(backends[i], "vif") ? "vif" : "vbd", config);
        }
}

static int write_devices(XsimXenstore *xs, const char *home, int domid, const Sexpr *config) {
        unsigned n_vbd = 0, n_vif = 0;
        int r;

        SEXPR_FOREACH_CHILD(c, config) {
                const Sexpr *dev;
                const char *kind;

                if (!streq_ptr(sexpr_head(c), "device"))
                        continue;
                dev = sexpr_item(c, 1);
                kind = sexpr_head(dev);
                if (is_vbd_kind(kind))
                        r = write_vbd(xs, home, domid, dev, n_vbd++);
                else if (streq_ptr(kind, "vif"))
                        r = write_vif(xs, home, domid, dev, n_vif++);
                else
                        r = 0;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int domain_write_tree(XsimXenstore *xs, XsimDomain *d, const char *uuid) {
        _cleanup_free_ char *home = NULL, *vm = NULL;
        int domid = d->domid, r = 0;
        bool vnc;

        if (asprintf(&home, "/local/domain/%d", domid) < 0 || asprintf(&vm, "/vm/%s", uuid) < 0)
                return -ENOMEM;

        r = main_mkdir(xs, home);
        if (r < 0)
                return r;
        if (domid != 0) {
                /* xend gives the domain its home ("n<domid>"); nodes below inherit it. */
                XsimPerm perms[] = { { (unsigned) domid, 'n' } };

                r = main_set_perms(xs, home, perms, ELEMENTSOF(perms));
                if (r < 0)
                        return r;
        }

        r = r < 0 ? r : sync_writef(xs, vm, "name", "%s", d->name);
        r = r < 0 ? r : sync_writef(xs, vm, "uuid", "%s", uuid);
        r = r < 0 ? r : sync_writef(xs, vm, "image/ostype", "%s", d->hvm ? "hvm" : "linux");
        r = r < 0 ? r : sync_writef(xs, vm, "memory", "%" PRIu64, d->memory_kib / 1024);
        r = r < 0 ? r : sync_writef(xs, vm, "maxmem", "%" PRIu64, d->max_memory_kib / 1024);
        r = r < 0 ? r : sync_writef(xs, vm, "vcpus", "%u", d->max_vcpus);
        r = r < 0 ? r : sync_writef(xs, vm, "on_poweroff", "%s", d->on_poweroff ?: "destroy");
        r = r < 0 ? r : sync_writef(xs, vm, "on_reboot", "%s", d->on_reboot ?: "restart");
        r = r < 0 ? r : sync_writef(xs, vm, "on_crash", "%s", d->on_crash ?: "restart");

        r = r < 0 ? r : sync_writef(xs, home, "name", "%s", d->name);
        r = r < 0 ? r : sync_writef(xs, home, "domid", "%d", domid);
        r = r < 0 ? r : sync_writef(xs, home, "vm", "%s", vm);
        r = r < 0 ? r : sync_writef(xs, home, "memory/target", "%" PRIu64, d->memory_kib);
        r = r < 0 ? r : sync_writef(xs, home, "memory/static-max", "%" PRIu64, d->max_memory_kib);
        for (unsigned i = 0; i < d->max_vcpus && i < XSIM_VCPUS_MAX && r >= 0; i++) {
                char key[32];

                (void) snprintf(key, sizeof(key), "cpu/%u/availability", i);
                r = sync_writef(xs, home, key, "%s", d->vcpus[i].online ? "online" : "offline");
        }
        if (r < 0 || domid == 0)
                return r;

        /* Fake but stable devices: the consoles as xenconsoled and qemu would announce them. */
        vnc = d->hvm || (d->config && config_has_vnc(d->config));
        r = r < 0 ? r : sync_writef(xs, home, "console/port", "2");
        r = r < 0 ? r : sync_writef(xs, home, "console/ring-ref", "%d", 0x10000 + domid);
        r = r < 0 ? r : sync_writef(xs, home, "console/limit", "1048576");
        r = r < 0 ? r : sync_writef(xs, home, "console/type", "xenconsoled");
        r = r < 0 ? r : sync_writef(xs, home, "console/tty", "/dev/pts/%d", 100 + domid);
        if (vnc)
                r = r < 0 ? r : sync_writef(xs, home, "console/vnc-port", "%d", 5900 + domid);
        if (d->hvm)
                r = r < 0 ? r : sync_writef(xs, home, "serial/0/tty", "/dev/pts/%d",
                                            100 + XSIM_DOMAINS_MAX + domid);
        r = r < 0 ? r : sync_writef(xs, home, "store/port", "1");
        r = r < 0 ? r : sync_writef(xs, home, "store/ring-ref", "%d", 0x20000 + domid);
        r = r < 0 ? r : sync_writef(xs, home, "control/shutdown", "%s", "");
        r = r < 0 ? r : sync_writef(xs, home, "control/platform-feature-multiprocessor-suspend", "1");
        r = r < 0 ? r : sync_mkdir(xs, home, "device");
        r = r < 0 ? r : sync_mkdir(xs, home, "data");
        if (r >= 0 && d->config)
                r = write_devices(xs, home, domid, d->config);
        return r;
}

static void domain_remove_tree(XsimXenstore *xs, const DomRecord *rec) {
        char path[64 + UUID_STRING_BUF];
        XsimNode *backends;

        if (xs->host->faults.xenstore_stale)
                return;

        (void) snprintf(path, sizeof(path), "/local/domain/%d", rec->domid);
        (void) main_rm(xs, path);
        (void) snprintf(path, sizeof(path), "/vm/%s", rec->uuid);
        (void) main_rm(xs, path);

        backends = xsim_store_lookup(xs->store, "/local/domain/0/backend");
        for (size_t i = 0; backends && i < backends->n_children; ) {
                char kind[64];

                (void) snprintf(kind, sizeof(kind), "%s", backends->children[i]->name);
                (void) snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%d", kind, rec->domid);
                (void) main_rm(xs, path);
                /* The watchers may have changed the tree; look the list up again. */
                backends = xsim_store_lookup(xs->store, "/local/domain/0/backend");
                if (backends && i < backends->n_children && streq(backends->children[i]->name, kind))
                        i++;
        }
}

static DomRecord *record_by_domain(XsimXenstore *xs, XsimDomain *d) {
        for (size_t i = 0; i < xs->n_records; i++)
                if (xs->records[i].domain == d)
                        return &xs->records[i];
        return NULL;
}

static void domain_release(XsimXenstore *xs, XsimDomain *d) {
        DomRecord *rec = record_by_domain(xs, d), copy;

        if (!rec)
                return;
        copy = *rec;
        *rec = xs->records[--xs->n_records];
        domain_remove_tree(xs, &copy);
        fire_watches(xs, "@releaseDomain", false);
}

static void domain_introduce(XsimXenstore *xs, XsimDomain *d) {
        DomRecord *rec;
        int r;

        if (d->domid < 0)
                return;
        rec = record_by_domain(xs, d);
        if (rec && rec->domid == d->domid)
                return;
        if (rec)
                domain_release(xs, d);  /* restarted with a new domid without a release event */
        if (xs->n_records >= XSIM_DOMAINS_MAX ||
            GREEDY_REALLOC(xs->records, xs->allocated_records, xs->n_records + 1) < 0) {
                log_warning("xenstore: cannot track domain %d", d->domid);
                return;
        }
        rec = &xs->records[xs->n_records++];
        *rec = (DomRecord) { .domain = d, .domid = d->domid };
        uuid_format(&d->uuid, rec->uuid);

        r = domain_write_tree(xs, d, rec->uuid);
        if (r < 0)
                log_warning_errno(r, "xenstore: cannot write the tree of domain %d, ignoring: %m", d->domid);
        if (d->domid != 0)
                fire_watches(xs, "@introduceDomain", false);
}

static void domain_changed(XsimXenstore *xs, XsimDomain *d) {
        _cleanup_free_ char *home = NULL;
        DomRecord *rec = record_by_domain(xs, d);
        bool down;
        int r;

        if (!rec || rec->domid != d->domid)
                return;
        if (asprintf(&home, "/local/domain/%d", d->domid) < 0)
                return;
        r = sync_writef(xs, home, "memory/target", "%" PRIu64, d->memory_kib);
        r = r < 0 ? r : sync_writef(xs, home, "memory/static-max", "%" PRIu64, d->max_memory_kib);
        for (unsigned i = 0; i < d->max_vcpus && i < XSIM_VCPUS_MAX && r >= 0; i++) {
                char key[32];

                (void) snprintf(key, sizeof(key), "cpu/%u/availability", i);
                r = sync_writef(xs, home, key, "%s", d->vcpus[i].online ? "online" : "offline");
        }
        /* XenD changes the configuration on hot-plug and hot-unplug. */
        if (r >= 0 && d->config && d->domid != 0) {
                r = write_devices(xs, home, d->domid, d->config);
                prune_devices(xs, home, d->domid, d->config);
        }
        if (r < 0)
                log_warning_errno(r, "xenstore: cannot update domain %d, ignoring: %m", d->domid);

        /* xenstored fires @releaseDomain when a domain shuts down or crashes, before it is
         * destroyed; toolstacks rely on it to notice a guest's own shutdown. */
        down = d->state == XSIM_STATE_SHUTDOWN || d->state == XSIM_STATE_CRASHED ||
                d->state == XSIM_STATE_DYING;
        rec = record_by_domain(xs, d);
        if (!rec)
                return;
        if (down && !rec->shutdown_notified) {
                rec->shutdown_notified = true;
                fire_watches(xs, "@releaseDomain", false);
        } else if (!down)
                rec->shutdown_notified = false;
}

static void on_state_event(XsimHost *host, XsimEvent event, XsimDomain *d, void *userdata) {
        XsimXenstore *xs = userdata;

        switch (event) {
        case XSIM_EVENT_INTRODUCED:
                domain_introduce(xs, d);
                break;
        case XSIM_EVENT_RELEASED:
                domain_release(xs, d);
                break;
        case XSIM_EVENT_CHANGED:
                domain_changed(xs, d);
                break;
        default:
                break;
        }
}

/* ---- object ---- */

int xsim_xenstore_new(XsimHost *host, const char *socket_path, XsimXenstore **ret) {
        _cleanup_(xsim_xenstore_freep) XsimXenstore *xs = NULL;
        int r;

        assert(host);
        assert(host->event);
        assert(socket_path);
        assert(ret);

        xs = new0(XsimXenstore, 1);
        if (!xs)
                return -ENOMEM;
        xs->host = host;
        xs->listen_fd = -EBADF;
        xs->next_tx_id = 1;
        xs->socket_path = strdup(socket_path);
        if (!xs->socket_path)
                return -ENOMEM;
        r = xsim_store_new(&xs->store);
        if (r < 0)
                return r;
        r = sd_event_add_defer(host->event, &xs->gc_source, on_gc, xs);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(xs->gc_source, SD_EVENT_OFF);
        if (r < 0)
                return r;

        /* The skeleton every xenstored has, then the domains that already run. */
        r = xsim_store_mkdir(xs->store, "/local/domain");
        if (r >= 0)
                r = xsim_store_mkdir(xs->store, "/vm");
        if (r >= 0)
                r = xsim_store_mkdir(xs->store, "/tool/xenstored");
        if (r >= 0)
                r = xsim_store_write(xs->store, "/local/domain/0/name", "Domain-0", strlen("Domain-0"));
        if (r >= 0)
                r = xsim_store_write(xs->store, "/local/domain/0/domid", "0", 1);
        if (r >= 0)
                r = xsim_store_mkdir(xs->store, "/local/domain/0/backend");
        if (r < 0)
                return r;
        for (size_t i = 0; i < host->n_domains; i++)
                if (host->domains[i]->domid >= 0)
                        domain_introduce(xs, host->domains[i]);

        r = xsim_host_add_listener(host, on_state_event, xs);
        if (r < 0)
                return r;

        if (!host->faults.xenstore_absent) {
                r = xenstore_listen(xs);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(xs);
        return 0;
}

XsimXenstore *xsim_xenstore_free(XsimXenstore *xs) {
        if (!xs)
                return NULL;
        xenstore_unlisten(xs);
        for (size_t i = 0; i < xs->n_conns; i++)
                conn_free(xs->conns[i]);
        free(xs->conns);
        for (size_t i = 0; i < xs->n_actions; i++)
                guest_action_free(xs->actions[i]);
        free(xs->actions);
        sd_event_source_disable_unref(xs->gc_source);
        free(xs->records);
        xsim_store_free(xs->store);
        free(xs->socket_path);
        return mfree(xs);
}

int xsim_xenstore_write(XsimXenstore *xs, const char *path, const char *value) {
        assert(xs);
        assert(value);

        if (!xsim_store_path_valid(path))
                return -EINVAL;
        return main_write(xs, path, value, strlen(value));
}

int xsim_xenstore_read(XsimXenstore *xs, const char *path, char **ret) {
        XsimNode *n;
        char *v;

        assert(xs);
        assert(ret);

        if (!xsim_store_path_valid(path))
                return -EINVAL;
        n = xsim_store_lookup(xs->store, path);
        if (!n)
                return -ENOENT;
        v = malloc(n->value_len + 1);
        if (!v)
                return -ENOMEM;
        memcpy(v, n->value, n->value_len + 1);
        *ret = v;
        return 0;
}

int xsim_xenstore_rm(XsimXenstore *xs, const char *path) {
        assert(xs);

        if (!xsim_store_path_valid(path))
                return -EINVAL;
        return main_rm(xs, path);
}
