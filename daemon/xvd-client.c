/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "xv-alloc.h"
#include "xv-log.h"
#include "xvd-client.h"
#include "xvd-config.h"
#include "xvd-dispatch.h"
#include "xvd-lane.h"
#include "xvd-manager.h"

/* A client that does not read its replies is dropped once this much is queued for it: the
 * daemon never buffers without bound on behalf of one peer. One maximal frame always fits. */
#define CLIENT_QUEUE_MESSAGES_MAX       1024u
#define CLIENT_QUEUE_BYTES_MAX          (2 * MESSAGE_FRAME_MAX)
/* Frames handled per wakeup, so that one busy client cannot starve the others. */
#define CLIENT_FRAMES_PER_WAKEUP        16u
/* Legacy registrations exist for event ids below this (libvirtd refuses the others). */
#define CLIENT_LEGACY_EVENT_IDS         16
/* Positive ACL answers kept per connection; past this, answers are simply not cached. */
#define CLIENT_ACL_CACHE_MAX            1024u
#define CLIENT_ACL_GETATTR              "org.xenvirt.api.domain.getattr"

/* An event waiting for its domain's getattr check, with its frames ready to go. */
typedef struct ClientEvent ClientEvent;
struct ClientEvent {
        ClientEvent *next;
        char *name;
        XvUuid uuid;
        Message **msgs;
        size_t n_msgs;
};

typedef struct EventCallback {
        int callback_id;
        int event_id;
        bool has_dom;
        XvUuid dom;
} EventCallback;

struct Client {
        unsigned n_ref;
        Manager *manager;
        Lane *lane;                     /* the loop that owns the connection, once attached */

        int fd;
        uint32_t io_events;             /* what the lane watches @fd for (UINT32_MAX: unknown) */
        sd_event_source *input_defer;   /* frames read ahead wait for their turn */
        MessageReader *reader;

        bool connected;
        bool reading;
        bool hung_up;                   /* an event said so: see client_read() */
        bool close_after_flush;
        bool ro_socket;
        bool read_only;
        bool open;
        bool keepalive;
        bool close_callback;
        bool refused;

        uid_t uid;
        pid_t pid;
        gid_t gid;
        char description[64];
        char *uri;

        Message *out_head, *out_tail;   /* linked through Message.next */
        size_t out_count;
        size_t out_bytes;
        size_t out_offset;              /* bytes of out_head already written */

        unsigned in_flight;

        uint64_t last_rx_usec;
        unsigned pings_unanswered;

        EventCallback *callbacks;
        size_t n_callbacks;
        bool legacy_events[CLIENT_LEGACY_EVENT_IDS];

        /* Access control. The credentials and the flags below never change after client_new(),
         * so that workers may read them; the cache has its own lock. */
        uint64_t start_time;
        bool has_start_time;
        ConfigAuth auth;                /* of the socket this client came in on */
        bool acl;
        bool authenticated;             /* loop thread */
        pthread_mutex_t acl_lock;
        char **acl_cache;               /* "action\nuuid\nname" */
        size_t n_acl_cache;

        ClientWaiter *waiters;          /* loop thread */

        ClientEvent *ev_head, *ev_tail; /* loop thread */
        size_t n_events;
        PolkitQuery *ev_query;          /* the check for ev_head, when one is running */
};

uid_t client_get_uid(Client *c) {
        return c->uid;
}

pid_t client_get_pid(Client *c) {
        return c->pid;
}

gid_t client_get_gid(Client *c) {
        return c->gid;
}

bool client_is_read_only(Client *c) {
        return c->ro_socket || c->read_only;
}

bool client_is_ro_socket(Client *c) {
        return c->ro_socket;
}

const char *client_get_description(Client *c) {
        return c->description;
}

static void client_update_events(Client *c) {
        uint32_t events = 0;

        if (!c->connected || !c->lane)
                return;
        if (c->reading && !c->close_after_flush)
                events |= EPOLLIN;
        if (c->out_head)
                events |= EPOLLOUT;
        /* Edge-triggered, and told of a hang-up: see client_read(). */
        if (events)
                events |= EPOLLRDHUP | EPOLLET;
        /* Twice per call otherwise, for the same answer: reading, nothing queued. */
        if (events == c->io_events)
                return;
        if (lane_watch_client(c->lane, c, c->fd, events) < 0) {
                c->io_events = UINT32_MAX;      /* tried again next time */
                return;
        }
        c->io_events = events;
}

static void client_drop_queue(Client *c) {
        Message *o;

        while ((o = c->out_head)) {
                c->out_head = o->next;
                message_free(o);
        }
        c->out_tail = NULL;
        c->out_count = c->out_bytes = c->out_offset = 0;
}

static ClientEvent *client_event_free(ClientEvent *e) {
        if (!e)
                return NULL;
        for (size_t i = 0; i < e->n_msgs; i++)
                message_free(e->msgs[i]);
        free(e->msgs);
        free(e->name);
        return mfree(e);
}

static ClientEvent *client_pop_event(Client *c) {
        ClientEvent *e = c->ev_head;

        if (!e)
                return NULL;
        c->ev_head = e->next;
        if (!c->ev_head)
                c->ev_tail = NULL;
        c->n_events--;
        e->next = NULL;
        return e;
}

static void client_drop_events(Client *c) {
        polkit_query_cancel(c->ev_query);
        c->ev_query = NULL;
        while (c->ev_head)
                client_event_free(client_pop_event(c));
}

void client_disconnect(Client *c) {
        if (!c || !c->connected)
                return;

        log_debug("Client %s disconnected.", c->description);
        c->connected = false;
        if (c->lane && c->io_events != 0)
                (void) lane_watch_client(c->lane, c, c->fd, 0);
        c->input_defer = sd_event_source_disable_unref(c->input_defer);
        c->fd = safe_close(c->fd);
        c->reader = message_reader_free(c->reader);
        client_drop_queue(c);
        c->n_callbacks = 0;
        client_drop_events(c);
        while (c->waiters) {
                ClientWaiter *w = c->waiters;

                client_remove_waiter(c, w);
                w->cancel(w);
        }

        /* The manager drops its reference last: the caller holds one of its own. */
        manager_remove_client(c->manager, c);
}

bool client_is_connected(Client *c) {
        return c->connected;
}

static Client *client_free(Client *c) {
        assert(!c->connected);
        client_drop_queue(c);
        message_reader_free(c->reader);
        sd_event_source_disable_unref(c->input_defer);
        safe_close(c->fd);
        free(c->callbacks);
        free(c->uri);
        strv_free(c->acl_cache);
        pthread_mutex_destroy(&c->acl_lock);
        return mfree(c);
}

Client *client_ref(Client *c) {
        if (c)
                c->n_ref++;
        return c;
}

Client *client_unref(Client *c) {
        if (!c)
                return NULL;
        assert(c->n_ref > 0);
        if (--c->n_ref == 0)
                client_free(c);
        return NULL;
}

/* Writes as much of the queue as the socket takes. */
static int client_flush(Client *c) {
        while (c->out_head) {
                Message *o = c->out_head;
                ssize_t n;

                n = send(c->fd, o->frame + c->out_offset, o->size - c->out_offset,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        return -errno;
                }
                c->out_offset += (size_t) n;
                if (c->out_offset < o->size)
                        break;

                c->out_head = o->next;
                if (!c->out_head)
                        c->out_tail = NULL;
                c->out_count--;
                c->out_bytes -= o->size;
                c->out_offset = 0;
                message_free(o);
        }
        return 0;
}

static void client_after_flush(Client *c) {
        if (!c->out_head) {
                if (c->close_after_flush) {
                        client_disconnect(c);
                        return;
                }
                lane_check_idle(c->lane);
        }
        client_update_events(c);
}

int client_send(Client *c, Message *msg) {
        int r;

        assert(c);

        if (!msg)
                return -EINVAL;
        if (!c->connected) {
                message_free(msg);
                return -ENOTCONN;
        }

        if (c->out_count >= CLIENT_QUEUE_MESSAGES_MAX || c->out_bytes + msg->size > CLIENT_QUEUE_BYTES_MAX) {
                log_warning("Client %s does not read its replies (%zu frames, %zu bytes queued), dropping it.",
                            c->description, c->out_count, c->out_bytes);
                message_free(msg);
                client_disconnect(c);
                return -ENOBUFS;
        }

        msg->next = NULL;
        if (c->out_tail)
                c->out_tail->next = msg;
        else
                c->out_head = msg;
        c->out_tail = msg;
        c->out_count++;
        c->out_bytes += msg->size;

        /* Try at once: most replies fit into the socket buffer and need no EPOLLOUT round. */
        r = client_flush(c);
        if (r < 0) {
                log_debug_errno(r, "Client %s: write failed: %m", c->description);
                client_disconnect(c);
                return r;
        }
        if (c->out_head)
                lane_note_output(c->lane);
        client_update_events(c);
        return 0;
}

bool client_has_pending_output(Client *c) {
        return c->connected && c->out_head;
}

static void client_note_rx(Client *c) {
        uint64_t now;

        if (sd_event_now(lane_get_event(c->lane), CLOCK_MONOTONIC, &now) >= 0)
                c->last_rx_usec = now;
        c->pings_unanswered = 0;
}

static int on_client_input_defer(sd_event_source *s, void *userdata) {
        client_on_io(userdata, EPOLLIN);
        return 0;
}

/* Frames read ahead of the socket, or data left in it: no EPOLLIN announces them (the socket is
 * edge-triggered), so come back for them once the other ready sources had their turn. */
static void client_schedule_input(Client *c) {
        int r;

        if (!c->input_defer) {
                r = sd_event_add_defer(lane_get_event(c->lane), &c->input_defer, on_client_input_defer, c);
                if (r < 0) {
                        log_warning_errno(r, "Client %s: cannot schedule its pending input: %m", c->description);
                        client_disconnect(c);
                        return;
                }
                (void) sd_event_source_set_description(c->input_defer, "client-input");
        }
        (void) sd_event_source_set_enabled(c->input_defer, SD_EVENT_ONESHOT);
}

/* The socket is edge-triggered (EPOLLET): EPOLLIN comes once for data that arrives, not for as
 * long as some is left, so reading stops only once the socket is drained (a read came back short
 * or with EAGAIN), or hands the rest over to a deferred round after CLIENT_FRAMES_PER_WAKEUP
 * frames. A level-triggered socket would be reported by every epoll_wait() of the lane (see
 * on_clients_ready()) until it is read: with many busy connections on a lane, each call would
 * report all of them again (O(connections) per call).
 * A short read says nothing about a hang-up that came with the data, and the hang-up is told
 * once: once an event said the peer hung up, one more read after the data finds the end of the
 * stream. */
static int client_read(Client *c) {
        bool look_for_end = c->hung_up;
        unsigned frames = 0;

        while (c->connected && c->reading) {
                _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
                Message *msg = NULL;
                int r;

                r = message_reader_read(c->reader, c->fd, &error);
                if (r == -ENOTCONN)
                        return r;       /* orderly close between frames */
                if (r < 0) {
                        log_debug_errno(r, "Client %s: dropping the connection: %s", c->description,
                                        error.message ?: "read failed");
                        return r;
                }
                client_note_rx(c);
                if (r > 0) {
                        r = message_reader_pop(c->reader, &msg);
                        if (r > 0)
                                dispatch_frame(c->manager, c, msg);
                        frames++;
                }
                if (!c->connected)
                        return 0;
                if (message_reader_drained(c->reader)) {
                        if (!look_for_end)
                                return 0;       /* the next EPOLLIN brings more */
                        look_for_end = false;
                        continue;
                }
                if (frames >= CLIENT_FRAMES_PER_WAKEUP) {
                        client_schedule_input(c);
                        return 0;
                }
        }
        return 0;
}

void client_on_io(Client *c, uint32_t revents) {
        _cleanup_(client_unrefp) Client *ref = client_ref(c);
        int r;

        if (!c->connected)
                return;         /* ended by another connection of the same batch */
        if (revents & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                c->hung_up = true;
        if (revents & EPOLLIN) {
                r = client_read(c);
                if (r < 0) {
                        client_disconnect(c);
                        return;
                }
        }

        if (c->connected && (revents & (EPOLLOUT | EPOLLHUP | EPOLLERR)) && c->out_head) {
                r = client_flush(c);
                if (r < 0) {
                        client_disconnect(c);
                        return;
                }
        }

        if (c->connected && (revents & (EPOLLHUP | EPOLLERR)) && !(revents & EPOLLIN)) {
                client_disconnect(c);
                return;
        }

        if (c->connected)
                client_after_flush(c);
}

int client_new(Manager *m, int fd, bool ro_socket, Client **ret) {
        struct ucred cred = {};
        socklen_t len = sizeof(cred);
        const Config *config = manager_get_config(m);
        Client *c;
        int r;

        assert(m);
        assert(fd >= 0);
        assert(ret);

        c = new0(Client, 1);
        if (!c)
                return -ENOMEM;
        c->n_ref = 1;
        c->manager = m;
        c->fd = fd;
        c->ro_socket = ro_socket;
        c->connected = true;
        c->reading = true;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                cred.pid = 0;
                cred.uid = (uid_t) -1;
                cred.gid = (gid_t) -1;
        }
        c->pid = cred.pid;
        c->uid = cred.uid;
        c->gid = cred.gid;
        c->has_start_time = cred.pid > 0 && polkit_read_start_time(cred.pid, &c->start_time, NULL) >= 0;
        c->auth = ro_socket ? config->auth_unix_ro : config->auth_unix_rw;
        /* libvirtd never asks polkit about root: root is always allowed. */
        c->authenticated = c->auth == CONFIG_AUTH_NONE || c->uid == 0;
        c->acl = config->access_polkit && c->uid != 0;
        pthread_mutex_init(&c->acl_lock, NULL);
        (void) snprintf(c->description, sizeof(c->description), "pid=%d uid=%u%s", (int) c->pid,
                        (unsigned) c->uid, ro_socket ? " ro" : "");

        r = message_reader_new(CONFIG_GET(config, max_frame_size), &c->reader);
        if (r < 0) {
                c->connected = false;
                c->fd = -EBADF;         /* the caller still owns it on failure */
                client_free(c);
                return r;
        }

        *ret = c;
        return 0;
}

int client_attach(Client *c, Lane *l) {
        int r;

        assert(c);
        assert(l);
        assert(!c->lane);

        c->lane = l;
        if (!c->connected)
                return -ENOTCONN;
        c->io_events = EPOLLIN | EPOLLRDHUP | EPOLLET;
        r = lane_watch_client(l, c, c->fd, c->io_events);
        if (r < 0) {
                c->io_events = 0;
                return r;
        }
        client_note_rx(c);
        client_update_events(c);
        return 0;
}

Lane *client_get_lane(Client *c) {
        return c->lane;
}

bool client_needs_polkit(Client *c) {
        return c->acl || !c->authenticated;
}

void client_close_after_flush(Client *c) {
        c->close_after_flush = true;
        if (!c->out_head)
                client_disconnect(c);
        else
                client_update_events(c);
}

unsigned client_get_in_flight(Client *c) {
        return c->in_flight;
}

void client_in_flight_inc(Client *c) {
        c->in_flight++;
}

void client_in_flight_dec(Client *c) {
        assert(c->in_flight > 0);
        c->in_flight--;
}

void client_stop_reading(Client *c) {
        c->reading = false;
        client_update_events(c);
}

bool client_is_open(Client *c) {
        return c->open;
}

int client_set_open(Client *c, const char *name, bool read_only) {
        int r;

        r = free_and_strdup(&c->uri, name);
        if (r < 0)
                return r;
        c->open = true;
        c->read_only = read_only;
        return 0;
}

void client_set_closed(Client *c) {
        c->open = false;
        c->n_callbacks = 0;
        memset(c->legacy_events, 0, sizeof(c->legacy_events));
        c->close_callback = false;
}

const char *client_get_uri(Client *c) {
        return c->uri;
}

void client_enable_keepalive(Client *c) {
        c->keepalive = true;
}

bool client_keepalive_enabled(Client *c) {
        return c->keepalive;
}

void client_keepalive_tick(Client *c, uint64_t now_usec, uint64_t interval_usec, unsigned count) {
        _cleanup_(message_freep) Message *ping = NULL;

        if (!c->connected || !c->keepalive || interval_usec == 0)
                return;
        if (now_usec < c->last_rx_usec + interval_usec)
                return;         /* heard from it recently */

        if (c->pings_unanswered >= count) {
                log_info("Client %s did not answer %u keepalive pings, dropping it.", c->description, count);
                client_disconnect(c);
                return;
        }

        if (message_new_keepalive(XVP_KEEPALIVE_PROC_PING, &ping) < 0)
                return;
        c->pings_unanswered++;
        /* Counting from now: the next ping goes out one interval later if nothing arrives. */
        c->last_rx_usec = now_usec;
        (void) client_send(c, TAKE_PTR(ping));
}

int client_add_event_callback(Client *c, int callback_id, int event_id, const XvUuid *dom_or_null) {
        EventCallback *n;

        if (c->n_callbacks >= CLIENT_EVENT_CALLBACKS_MAX)
                return -E2BIG;
        n = reallocarray(c->callbacks, c->n_callbacks + 1, sizeof(EventCallback));
        if (!n)
                return -ENOMEM;
        c->callbacks = n;
        c->callbacks[c->n_callbacks++] = (EventCallback) {
                .callback_id = callback_id,
                .event_id = event_id,
                .has_dom = dom_or_null,
                .dom = dom_or_null ? *dom_or_null : (XvUuid) {},
        };
        return 0;
}

int client_remove_event_callback(Client *c, int callback_id) {
        for (size_t i = 0; i < c->n_callbacks; i++)
                if (c->callbacks[i].callback_id == callback_id) {
                        memmove(c->callbacks + i, c->callbacks + i + 1,
                                (c->n_callbacks - i - 1) * sizeof(EventCallback));
                        c->n_callbacks--;
                        return 0;
                }
        return -ENOENT;
}

int client_set_legacy_event(Client *c, int event_id, bool on) {
        if (event_id < 0 || event_id >= CLIENT_LEGACY_EVENT_IDS)
                return -EINVAL;
        c->legacy_events[event_id] = on;
        return 0;
}

bool client_get_legacy_event(Client *c, int event_id) {
        return event_id >= 0 && event_id < CLIENT_LEGACY_EVENT_IDS && c->legacy_events[event_id];
}

void client_foreach_event_callback(Client *c, int event_id, const XvUuid *uuid,
                                   void (*f)(Client *c, int callback_id, void *userdata), void *userdata) {
        /* The callback may send, and sending may drop the client: iterate over a snapshot. */
        size_t n = c->n_callbacks;
        _cleanup_free_ int *ids = NULL;
        size_t k = 0;

        if (n == 0)
                return;
        ids = new(int, n);
        if (!ids)
                return;
        for (size_t i = 0; i < n; i++) {
                const EventCallback *cb = &c->callbacks[i];

                if (cb->event_id != event_id)
                        continue;
                if (cb->has_dom && (!uuid || !uuid_equal(&cb->dom, uuid)))
                        continue;
                ids[k++] = cb->callback_id;
        }
        for (size_t i = 0; i < k && c->connected; i++)
                f(c, ids[i], userdata);
}

void client_set_close_callback(Client *c, bool on) {
        c->close_callback = on;
}

void client_set_refused(Client *c) {
        c->refused = true;
}

bool client_is_refused(Client *c) {
        return c->refused;
}

/* ---- access control ------------------------------------------------------------------------- */

int client_get_subject(Client *c, PolkitSubject *ret, XvError *error) {
        if (!c->has_start_time)
                return xv_error_set_full(error, -ESRCH, XVP_ERR_AUTH_FAILED, XVP_FROM_POLKIT,
                                         "Start time is required for polkit auth");
        *ret = (PolkitSubject) {
                .pid = c->pid,
                .uid = c->uid,
                .start_time = c->start_time,
        };
        return 0;
}

bool client_is_authenticated(Client *c) {
        return c->authenticated;
}

void client_set_authenticated(Client *c) {
        c->authenticated = true;
}

bool client_offers_polkit(Client *c) {
        return c->auth == CONFIG_AUTH_POLKIT && c->uid != 0;
}

const char *client_polkit_connect_action(Client *c) {
        return c->ro_socket ? POLKIT_ACTION_UNIX_MONITOR : POLKIT_ACTION_UNIX_MANAGE;
}

bool client_acl_applies(Client *c) {
        return c->acl;
}

static char *acl_cache_key(const char *action, const char *name, const XvUuid *uuid) {
        char buf[UUID_STRING_BUF];
        char *k = NULL;

        if (asprintf(&k, "%s\n%s\n%s", action, uuid ? uuid_format(uuid, buf) : "", strempty(name)) < 0)
                return NULL;
        return k;
}

bool client_acl_cached(Client *c, const char *action, const char *name, const XvUuid *uuid) {
        _cleanup_free_ char *k = acl_cache_key(action, name, uuid);
        bool found = false;

        if (!k)
                return false;
        pthread_mutex_lock(&c->acl_lock);
        for (size_t i = 0; i < c->n_acl_cache && !found; i++)
                found = streq(c->acl_cache[i], k);
        pthread_mutex_unlock(&c->acl_lock);
        return found;
}

void client_acl_remember(Client *c, const char *action, const char *name, const XvUuid *uuid) {
        char *k;

        if (client_acl_cached(c, action, name, uuid))
                return;
        k = acl_cache_key(action, name, uuid);
        if (!k)
                return;         /* not cached: asked again next time */
        pthread_mutex_lock(&c->acl_lock);
        if (c->n_acl_cache < CLIENT_ACL_CACHE_MAX) {
                char **n = reallocarray(c->acl_cache, c->n_acl_cache + 2, sizeof(char *));

                if (n) {
                        c->acl_cache = n;
                        c->acl_cache[c->n_acl_cache++] = TAKE_PTR(k);
                        c->acl_cache[c->n_acl_cache] = NULL;
                }
        }
        pthread_mutex_unlock(&c->acl_lock);
        free(k);
}

void client_acl_details(const char *name, const XvUuid *uuid, char uuid_buf[static UUID_STRING_BUF],
                        const char *ret[static 5]) {
        size_t n = 0;

        if (name) {
                ret[n++] = "domain_name";
                ret[n++] = name;
        }
        if (uuid) {
                ret[n++] = "domain_uuid";
                ret[n++] = uuid_format(uuid, uuid_buf);
        }
        ret[n] = NULL;
}

int client_acl_error(XvError *error, PolkitResult result, const XvError *cause, const char *action,
                     const char *name) {
        /* A plain "no" needs no reason; anything else (polkitd unreachable, the process vanished,
         * no start time) says why the answer could not be yes. */
        bool why = result != POLKIT_DENIED && result != POLKIT_CHALLENGE && cause && cause->message;

        if (name)
                return xv_error_set_full(error, -EACCES, XVP_ERR_ACCESS_DENIED, XVP_FROM_ACCESS,
                                         "'%s' on domain '%s'%s%s", action, name, why ? ": " : "",
                                         why ? cause->message : "");
        return xv_error_set_full(error, -EACCES, XVP_ERR_ACCESS_DENIED, XVP_FROM_ACCESS, "'%s'%s%s", action,
                                 why ? ": " : "", why ? cause->message : "");
}

bool client_acl_domain_visible(Client *c, const char *name, const XvUuid *uuid) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        char uuid_buf[UUID_STRING_BUF];
        const char *details[5];
        PolkitSubject subject;
        int r;

        if (!client_acl_applies(c) || client_acl_cached(c, CLIENT_ACL_GETATTR, name, uuid))
                return true;
        if (client_get_subject(c, &subject, &error) < 0) {
                log_debug("Hiding domain '%s' from %s: %s", strempty(name), c->description, strempty(error.message));
                return false;
        }
        client_acl_details(name, uuid, uuid_buf, details);
        r = polkit_check_sync(&subject, CLIENT_ACL_GETATTR, details, &error);
        if (r != POLKIT_ALLOWED) {
                log_debug("Hiding domain '%s' from %s: %s", strempty(name), c->description,
                          strempty(error.message));
                return false;
        }
        client_acl_remember(c, CLIENT_ACL_GETATTR, name, uuid);
        return true;
}

void client_add_waiter(Client *c, ClientWaiter *w) {
        w->prev = NULL;
        w->next = c->waiters;
        if (w->next)
                w->next->prev = w;
        c->waiters = w;
}

void client_remove_waiter(Client *c, ClientWaiter *w) {
        if (w->prev)
                w->prev->next = w->next;
        else if (c->waiters == w)
                c->waiters = w->next;
        if (w->next)
                w->next->prev = w->prev;
        w->prev = w->next = NULL;
}

static void client_events_process(Client *c);

static void client_event_deliver(Client *c, ClientEvent *e) {
        for (size_t i = 0; i < e->n_msgs; i++)
                (void) client_send(c, TAKE_PTR(e->msgs[i]));
}

static void on_event_check(PolkitResult result, const XvError *error, void *userdata) {
        /* The client is alive: disconnecting cancels this query. */
        _cleanup_(client_unrefp) Client *c = client_ref(userdata);
        ClientEvent *e;

        c->ev_query = NULL;
        e = client_pop_event(c);
        if (!e)
                return;
        if (result == POLKIT_ALLOWED) {
                client_acl_remember(c, CLIENT_ACL_GETATTR, e->name, &e->uuid);
                client_event_deliver(c, e);
        } else
                log_debug("Not sending the event of domain '%s' to %s: %s", e->name, c->description,
                          strempty(error ? error->message : NULL));
        client_event_free(e);
        if (c->connected)
                client_events_process(c);
}

/* Sends what may go, and starts the check for the first event that needs one. */
static void client_events_process(Client *c) {
        while (c->connected && c->ev_head && !c->ev_query) {
                _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
                ClientEvent *e = c->ev_head;
                char uuid_buf[UUID_STRING_BUF];
                const char *details[5];
                PolkitSubject subject;
                int r;

                if (client_acl_cached(c, CLIENT_ACL_GETATTR, e->name, &e->uuid)) {
                        (void) client_pop_event(c);
                        client_event_deliver(c, e);
                        client_event_free(e);
                        continue;
                }

                r = client_get_subject(c, &subject, &error);
                if (r >= 0) {
                        client_acl_details(e->name, &e->uuid, uuid_buf, details);
                        r = polkit_check_async(manager_get_polkit(c->manager), &subject, CLIENT_ACL_GETATTR, details,
                                               on_event_check, c, &c->ev_query, &error);
                }
                if (r < 0) {
                        log_debug("Not sending the event of domain '%s' to %s: %s", e->name, c->description,
                                  strempty(error.message));
                        client_event_free(client_pop_event(c));
                        continue;
                }
        }
}

void client_send_domain_event(Client *c, const char *name, const XvUuid *uuid, Message **msgs, size_t n) {
        ClientEvent *e;

        if (n == 0)
                return;
        if (!c->connected || !name || !uuid) {
                for (size_t i = 0; i < n; i++)
                        message_free(msgs[i]);
                return;
        }

        if (!client_acl_applies(c) || (!c->ev_head && client_acl_cached(c, CLIENT_ACL_GETATTR, name, uuid))) {
                for (size_t i = 0; i < n; i++)
                        (void) client_send(c, msgs[i]);
                return;
        }

        if (c->n_events >= CLIENT_EVENT_QUEUE_MAX) {
                for (size_t i = 0; i < n; i++)
                        message_free(msgs[i]);
                log_warning("Client %s has %zu events waiting for polkit, dropping it.", c->description, c->n_events);
                client_disconnect(c);
                return;
        }

        e = new0(ClientEvent, 1);
        if (e) {
                e->name = strdup(name);
                e->msgs = new(Message *, n);
        }
        if (!e || !e->name || !e->msgs) {
                for (size_t i = 0; i < n; i++)
                        message_free(msgs[i]);
                client_event_free(e);
                client_disconnect(c);
                return;
        }
        e->uuid = *uuid;
        memcpy(e->msgs, msgs, n * sizeof(Message *));
        e->n_msgs = n;
        if (c->ev_tail)
                c->ev_tail->next = e;
        else
                c->ev_head = e;
        c->ev_tail = e;
        c->n_events++;

        client_events_process(c);
}
