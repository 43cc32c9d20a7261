/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Client: one connection, owned by one I/O lane (xvd-lane.h): created on the main loop, then
 * attached to its lane's loop, whose thread alone touches it from then on. Non-blocking input through the incremental frame reader of
 * xv-message, a bounded outgoing queue, and the per-connection limits (requests in flight,
 * frame size, queued replies). Reference-counted, because a call that runs on a worker holds
 * its client until the reply is back on the loop: a client that vanished meanwhile is only
 * marked disconnected, and the late reply is dropped.
 *
 * Threads: client_get_uid(), client_get_pid() and client_is_read_only() may be called from any
 * thread (the values do not change while a call runs). Everything else is only for the thread
 * of the client's lane ("loop thread" below).
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "xv-error.h"
#include "xv-macro.h"
#include "xv-message.h"
#include "xv-uuid.h"
#include "xvd-polkit.h"

typedef struct Manager Manager;
typedef struct Client Client;
typedef struct Lane Lane;

/* For handlers (any thread): the peer's credentials from SO_PEERCRED, for audit logging, and
 * whether the connection is read-only (the ro socket, or CONNECT_OPEN with XVP_CONNECT_RO). */
uid_t client_get_uid(Client *c);
pid_t client_get_pid(Client *c);
gid_t client_get_gid(Client *c);
bool client_is_read_only(Client *c);

/* Main loop: a client for @fd (taken on success), not watched by any loop yet. */
int client_new(Manager *m, int fd, bool ro_socket, Client **ret);
/* On @l's thread, once: @l owns the client from now on and serves it. */
int client_attach(Client *c, Lane *l);
/* Lane thread: the client's socket is ready (epoll flags, see lane_watch_client()). */
void client_on_io(Client *c, uint32_t revents);
Lane *client_get_lane(Client *c);
/* Whether the client may ever need polkit (polkit auth pending, per-call ACLs): such clients are
 * served by the main loop, where polkit's bus lives. Any thread. */
bool client_needs_polkit(Client *c);

/* Loop thread only. */
Client *client_ref(Client *c);
Client *client_unref(Client *c);
DEFINE_CLEANUP_FUNC(Client *, client_unref);

/* Closes the connection now (idempotent); the object lives on while references remain. */
void client_disconnect(Client *c);
bool client_is_connected(Client *c);
/* Closes the connection once everything queued has been written (CONNECT_CLOSE). */
void client_close_after_flush(Client *c);

/* Queues a frame for writing; takes ownership of @msg in every case. A client whose queue is
 * past its bound (it does not read) is disconnected: returns -ENOBUFS then. */
int client_send(Client *c, Message *msg);
bool client_has_pending_output(Client *c);

/* Requests running on workers. */
unsigned client_get_in_flight(Client *c);
void client_in_flight_inc(Client *c);
void client_in_flight_dec(Client *c);

/* Stops reading new requests (shutdown); replies still go out. */
void client_stop_reading(Client *c);

/* Connection state driven by the connection-level handlers (loop thread). */
bool client_is_open(Client *c);
int client_set_open(Client *c, const char *name, bool read_only);
void client_set_closed(Client *c);
const char *client_get_uri(Client *c);
bool client_is_ro_socket(Client *c);
const char *client_get_description(Client *c);          /* "pid=… uid=…" for log lines */

/* Keepalive: set when the client asked for feature 10 and got 1. */
void client_enable_keepalive(Client *c);
bool client_keepalive_enabled(Client *c);
/* Called once per keepalive interval: sends a PING to an idle client, or disconnects it after
 * @count unanswered ones. */
void client_keepalive_tick(Client *c, uint64_t now_usec, uint64_t interval_usec, unsigned count);

/* Event registrations. */
#define CLIENT_EVENT_CALLBACKS_MAX 64u

int client_add_event_callback(Client *c, int callback_id, int event_id, const XvUuid *dom_or_null);
int client_remove_event_callback(Client *c, int callback_id);
/* Legacy (167/168, and 105/106 for event 0) registrations: one flag per event id. */
int client_set_legacy_event(Client *c, int event_id, bool on);
bool client_get_legacy_event(Client *c, int event_id);
/* Calls @f for each callback registration that wants @event_id for @uuid. */
void client_foreach_event_callback(Client *c, int event_id, const XvUuid *uuid,
                                   void (*f)(Client *c, int callback_id, void *userdata), void *userdata);

void client_set_close_callback(Client *c, bool on);

/* ---- Access control (issue 7) ------------------------------------------------------------
 *
 * Credentials are taken at accept: SO_PEERCRED and the start time of the peer process. Without a
 * start time every polkit check of this client fails closed. */

/* Any thread. The unix-process subject of the peer; fails (with libvirt's message) when the
 * start time could not be read at accept. */
int client_get_subject(Client *c, PolkitSubject *ret, XvError *error);

/* Connection-level auth (libvirtd's model). A client on a socket with auth "polkit" whose uid is
 * not 0 starts unauthenticated; root and clients of "none" sockets are authenticated at once. */
bool client_is_authenticated(Client *c);
void client_set_authenticated(Client *c);
/* AUTH_LIST offers polkit to this client (polkit socket, uid != 0). */
bool client_offers_polkit(Client *c);
/* The connection-level action: org.xenvirt.unix.monitor on the ro socket, else .manage. */
const char *client_polkit_connect_action(Client *c);

/* Any thread. Per-call ACLs apply to this client: access_drivers = polkit and uid != 0. */
bool client_acl_applies(Client *c);

/* Any thread. Positive answers, cached for the life of the connection per (action, domain uuid
 * and name); @name and @uuid may be NULL for checks without a domain. Denials are not cached. */
bool client_acl_cached(Client *c, const char *action, const char *name, const XvUuid *uuid);
void client_acl_remember(Client *c, const char *action, const char *name, const XvUuid *uuid);

/* Fills the polkit details for a domain: {"domain_name", name, "domain_uuid", uuid, NULL}; the
 * uuid is formatted into @uuid_buf. Either may be NULL (left out). */
void client_acl_details(const char *name, const XvUuid *uuid, char uuid_buf[static UUID_STRING_BUF],
                        const char *ret[static 5]);

/* The refusal of a per-call check: XVP_ERR_ACCESS_DENIED in XVP_FROM_ACCESS, naming the action
 * (and domain); when polkit could not answer, its reason is appended. Returns -EACCES. */
int client_acl_error(XvError *error, PolkitResult result, const XvError *cause, const char *action,
                     const char *name);

/* Worker threads (listing handlers): may the caller see this domain (org.xenvirt.api.domain.getattr)?
 * True at once when ACLs do not apply or the answer is cached; otherwise asks polkit
 * synchronously, blocking only the calling worker. Fails closed. */
bool client_acl_domain_visible(Client *c, const char *name, const XvUuid *uuid);

/* Something waiting for polkit on behalf of this client (a call in the dispatcher): cancelled
 * and freed through @cancel when the client disconnects. Loop thread only. */
typedef struct ClientWaiter ClientWaiter;
struct ClientWaiter {
        ClientWaiter *prev, *next;
        void (*cancel)(ClientWaiter *w);
};
void client_add_waiter(Client *c, ClientWaiter *w);
void client_remove_waiter(Client *c, ClientWaiter *w);

/* Events to this client: sent at once when no ACL applies; otherwise queued in order behind an
 * org.xenvirt.api.domain.getattr check of the event's domain (cached positive), and dropped when
 * that is refused. Takes ownership of the @n messages in @msgs in every case. Loop thread. */
#define CLIENT_EVENT_QUEUE_MAX 1024u
void client_send_domain_event(Client *c, const char *name, const XvUuid *uuid, Message **msgs, size_t n);

/* Over the max_clients limit: the first call is answered with an error, then the connection is
 * closed, so that the client learns why instead of seeing a bare hang-up. */
void client_set_refused(Client *c);
bool client_is_refused(Client *c);
