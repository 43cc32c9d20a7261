/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Internal interface of libxenvirt, shared by its source files and never installed.
 *
 * The public header declares xv_error_is_set() for xv_error, the internal src/util/xv-error.h
 * the same symbol for XvError. The two structs have the same layout (checked below), so the one
 * definition in src/util/xv-error.c serves both and is what libxenvirt.sym exports; the public
 * declaration is renamed away here so that one translation unit can see both headers. For the
 * same reason every public function passes its xv_error straight down as an XvError.
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define xv_error_is_set xv_error_is_set_public_
#include "xenvirt.h"
#undef xv_error_is_set
/* Both headers spell the empty error XV_ERROR_NULL; inside the library it is an XvError. */
#undef XV_ERROR_NULL

#include "xv-error.h"
#include "xv-message.h"
#include "xv-uuid.h"

_Static_assert(sizeof(xv_error) == sizeof(XvError), "xv_error and XvError differ");
_Static_assert(offsetof(xv_error, code) == offsetof(XvError, code), "xv_error and XvError differ");
_Static_assert(offsetof(xv_error, domain) == offsetof(XvError, domain), "xv_error and XvError differ");
_Static_assert(offsetof(xv_error, message) == offsetof(XvError, message), "xv_error and XvError differ");
_Static_assert(sizeof(xvp_error_code) == sizeof(int), "error codes are ints");
_Static_assert(sizeof(xvp_error_domain) == sizeof(int), "error domains are ints");

static inline XvError *ERR(xv_error *e) {
        return (XvError *) e;
}

/* Errors the library determines itself: @code and @domain as libvirt's client library would use
 * them, the message composed the way clients print it ("<prefix for code>: <detail>", the detail
 * alone for XVP_ERR_RPC). Sets nothing when @e already holds an error; returns @r. */
int lib_error_setf(XvError *e, int r, xvp_error_code code, xvp_error_domain domain, const char *format, ...)
        _printf_(5, 6);

/* Limits of what the library itself keeps. */
#define CONN_EVENT_QUEUE_MAX    4096u   /* queued, undispatched events; older ones are dropped */
#define CONN_REGISTRATIONS_MAX  1024u   /* event callbacks per connection */
#define CONN_URI_MAX            4096u   /* a URI given to xv_conn_open() */

typedef struct Call Call;
typedef struct Event Event;
typedef struct Registration Registration;

typedef enum EventKind {
        EVENT_LIFECYCLE,        /* 318, or 107 on the legacy path */
        EVENT_REBOOT,           /* 319 */
        EVENT_CLOSE,            /* the connection ended: runs the close callback once */
} EventKind;

struct Event {
        EventKind kind;
        int callback_id;        /* the daemon's callbackID, or -1 for the legacy path */
        char *name;
        uint8_t uuid[16];
        int id;
        int event;
        int detail;
        int reason;             /* EVENT_CLOSE */
        Event *next;
};

struct Registration {
        int id;                 /* what the application sees (the daemon's callbackID) */
        int event_id;           /* XVP_DOMAIN_EVENT_ID_* */
        bool legacy;
        bool removed;
        unsigned n_ref;         /* the list's reference plus one per running callback */
        xv_lifecycle_cb lifecycle_cb;
        xv_reboot_cb reboot_cb;
        void *userdata;
        void (*free_userdata)(void *);
        uint8_t uuid[16];       /* the domain it is restricted to */
        bool has_uuid;
        Registration *next;
};

struct xv_conn {
        atomic_uint n_ref;

        char *uri;              /* as given (or the default), returned by xv_conn_get_uri() */
        bool read_only;
        bool keepalive_supported;       /* the daemon answered feature 10 with 1 */
        bool event_callback_supported;  /* the daemon answered feature 14 with 1 */
        bool opened;            /* CONNECT_OPEN succeeded: the last unref sends CONNECT_CLOSE */
        bool closing;           /* CONNECT_CLOSE sent: the end of file that follows is ours */

        int fd;                 /* the UNIX socket, non-blocking */
        int wake_fd;            /* eventfd: wakes the I/O thread */
        int event_fd;           /* eventfd: readable while events wait (and once dead) */

        pthread_mutex_t lock;   /* protects everything below that is not marked otherwise */
        pthread_mutex_t write_lock;     /* serializes whole frames on fd */

        uint32_t next_serial;
        Call *calls;            /* callers waiting for their reply */
        uint64_t timeout_usec;

        bool dead;
        int dead_reason;        /* libvirt's virConnectCloseReason */
        XvError dead_error;     /* why, for every later call */
        bool stopping;          /* the I/O thread is asked to leave */

        unsigned ka_interval;
        unsigned ka_count;
        unsigned ka_sent;       /* pings sent since the last frame from the daemon */
        uint64_t last_rx_usec;  /* CLOCK_MONOTONIC */
        bool pong_pending;      /* the daemon pinged, the PONG is still to be written */

        pthread_t io_thread;
        bool io_started;

        Event *events, *events_tail;
        size_t n_events;
        Registration *registrations;
        size_t n_registrations;

        xv_close_cb close_cb;
        void *close_userdata;
        bool close_queued;

        pthread_mutex_t dispatch_lock;  /* one dispatcher at a time */

        pthread_t event_thread;
        bool event_thread_started;
        bool event_thread_stop;
        bool free_on_event_thread;      /* the last reference went away on the event thread */
        int next_legacy_id;     /* ids of registrations on the legacy path (no callbackIDs) */
};

struct xv_domain {
        atomic_uint n_ref;
        xv_conn *conn;          /* a reference */
        char *name;
        uint8_t uuid[16];
        char uuid_string[UUID_STRING_BUF];
        int id;
};

void event_fd_signal(int fd);
void event_fd_drain(int fd);

/* A new reference, unless the last one is already gone (the connection is being freed). */
bool conn_ref_unless_zero(xv_conn *c);

/* A handle with a new reference to @c. */
int domain_new(xv_conn *c, const char *name, const uint8_t uuid[16], int id, xv_domain **ret);

/* One call: encodes @args with @args_filter (NULL: no payload), waits for the reply with this
 * serial, decodes it into @ret (zeroed by the caller; NULL filter: no payload) or turns an error
 * reply into @error. On success the caller frees @ret with xdr_free(@ret_filter). */
int conn_call(xv_conn *c, int proc, xdrproc_t args_filter, const void *args, xdrproc_t ret_filter, void *ret,
              XvError *error);

/* Writes one whole frame under write_lock. */
int conn_write_message(xv_conn *c, const Message *m, XvError *error);

/* Marks the connection dead (first caller wins), wakes every waiter and queues the close event. */
void conn_mark_dead(xv_conn *c, int reason, int r, const char *detail);

/* The error every call on a dead connection returns. */
int conn_dead_error(xv_conn *c, XvError *error);

/* Fails with XVP_ERR_INVALID_CONN / _ARG for NULL arguments, the way libvirt's API layer does. */
int check_conn(xv_conn *c, XvError *error);
int check_arg(bool ok, const char *what, XvError *error);

/* Domain handles from and to the wire. */
int domain_from_wire(xv_conn *c, const xvp_nonnull_domain *w, xv_domain **ret);
xvp_nonnull_domain domain_to_wire(xv_domain *d);        /* borrows the handle's strings */

/* Events: queueing from the I/O thread (called with c->lock held), and teardown. */
void events_handle_message(xv_conn *c, const Message *m);
void events_queue_close(xv_conn *c, int reason);
void events_free_all(xv_conn *c);
void event_thread_stop(xv_conn *c);
void conn_free(xv_conn *c);

/* Typed parameters. */
int params_from_wire(const xvp_typed_param *w, size_t n, xv_param **ret, XvError *error);
int params_to_wire(const xv_param *p, size_t n, xvp_typed_param **ret, XvError *error);
void params_wire_free(xvp_typed_param *w, size_t n);

/* An absolute path for the daemon (same host): relative paths are resolved against the working
 * directory, as libvirt's client library does for save/restore/dump. */
int path_absolute(const char *path, char **ret, XvError *error);

/* The XDR filter of a generated type. */
#define XDR(type) ((xdrproc_t) xdr_##type)

/* conn_call() on the domain's connection; fails with XVP_ERR_INVALID_DOMAIN for a NULL handle. */
int domain_call(xv_domain *d, int proc, xdrproc_t args_filter, const void *args, xdrproc_t ret_filter, void *ret,
                xv_error *error);
/* conn_call() after check_conn(). */
int conn_call_public(xv_conn *c, int proc, xdrproc_t args_filter, const void *args, xdrproc_t ret_filter,
                     void *ret, xv_error *error);

/* Hands a decoded string out of a reply (the reply's pointer is left NULL). */
static inline char *steal_string(char **s) {
        return TAKE_PTR(*s);
}
