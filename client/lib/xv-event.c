/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Events: the I/O thread decodes event messages into a bounded queue and makes the event fd
 * readable; xv_conn_dispatch_events() runs the callbacks on the caller's thread, or the helper
 * thread of xv_conn_start_event_thread() does. Registrations use the callback procedures
 * (316/317, events 318/319) when the daemon offers feature 14, else the legacy ones (167/168,
 * event 107).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "xv-alloc.h"
#include "xv-client.h"

static Event *event_free(Event *ev) {
        if (ev) {
                free(ev->name);
                free(ev);
        }
        return NULL;
}

/* Called with c->lock held. */
static void events_push(xv_conn *c, Event *ev) {
        /* Bounded: an application that never dispatches loses the oldest events, not memory. */
        if (c->n_events >= CONN_EVENT_QUEUE_MAX && c->events) {
                Event *old = c->events;

                c->events = old->next;
                if (!c->events)
                        c->events_tail = NULL;
                c->n_events--;
                event_free(old);
        }
        if (c->events_tail)
                c->events_tail->next = ev;
        else
                c->events = ev;
        c->events_tail = ev;
        c->n_events++;
        event_fd_signal(c->event_fd);
}

static int event_new_domain(EventKind kind, int callback_id, const xvp_nonnull_domain *dom, Event **ret) {
        Event *ev = new0(Event, 1);

        if (!ev)
                return -ENOMEM;
        ev->kind = kind;
        ev->callback_id = callback_id;
        ev->name = strdup(dom->name ?: "");
        if (!ev->name)
                return event_free(ev), -ENOMEM;
        memcpy(ev->uuid, dom->uuid, sizeof(ev->uuid));
        ev->id = dom->id;
        *ret = ev;
        return 0;
}

void events_handle_message(xv_conn *c, const Message *m) {
        Event *ev = NULL;

        switch (m->header.proc) {
        case XVP_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE: {
                xvp_domain_event_callback_lifecycle_msg msg = {};

                if (message_decode_payload(m, (xdrproc_t) xdr_xvp_domain_event_callback_lifecycle_msg, &msg, NULL) < 0)
                        return;
                if (event_new_domain(EVENT_LIFECYCLE, msg.callback_id, &msg.dom, &ev) >= 0) {
                        ev->event = msg.event;
                        ev->detail = msg.detail;
                }
                xdr_free((xdrproc_t) xdr_xvp_domain_event_callback_lifecycle_msg, (char *) &msg);
                break;
        }
        case XVP_PROC_DOMAIN_EVENT_CALLBACK_REBOOT: {
                xvp_domain_event_callback_reboot_msg msg = {};

                if (message_decode_payload(m, (xdrproc_t) xdr_xvp_domain_event_callback_reboot_msg, &msg, NULL) < 0)
                        return;
                (void) event_new_domain(EVENT_REBOOT, msg.callback_id, &msg.dom, &ev);
                xdr_free((xdrproc_t) xdr_xvp_domain_event_callback_reboot_msg, (char *) &msg);
                break;
        }
        case XVP_PROC_DOMAIN_EVENT_LIFECYCLE: {
                xvp_domain_event_lifecycle_msg msg = {};

                if (message_decode_payload(m, (xdrproc_t) xdr_xvp_domain_event_lifecycle_msg, &msg, NULL) < 0)
                        return;
                if (event_new_domain(EVENT_LIFECYCLE, -1, &msg.dom, &ev) >= 0) {
                        ev->event = msg.event;
                        ev->detail = msg.detail;
                }
                xdr_free((xdrproc_t) xdr_xvp_domain_event_lifecycle_msg, (char *) &msg);
                break;
        }
        default:
                return;         /* other events are not offered by the API */
        }

        if (ev)
                events_push(c, ev);
}

void events_queue_close(xv_conn *c, int reason) {
        Event *ev;

        if (c->close_queued)
                return;
        ev = new0(Event, 1);
        if (!ev)
                return;
        ev->kind = EVENT_CLOSE;
        ev->reason = reason;
        c->close_queued = true;
        events_push(c, ev);
}

static Registration *registration_unref_locked(Registration *reg) {
        if (--reg->n_ref > 0)
                return NULL;
        return reg;     /* the caller frees it outside the lock */
}

static void registration_free(Registration *reg) {
        if (!reg)
                return;
        if (reg->free_userdata)
                reg->free_userdata(reg->userdata);
        free(reg);
}

static void registration_unref(xv_conn *c, Registration *reg) {
        Registration *dead;

        pthread_mutex_lock(&c->lock);
        dead = registration_unref_locked(reg);
        pthread_mutex_unlock(&c->lock);
        registration_free(dead);
}

void events_free_all(xv_conn *c) {
        while (c->events) {
                Event *ev = c->events;

                c->events = ev->next;
                event_free(ev);
        }
        c->events_tail = NULL;
        c->n_events = 0;

        while (c->registrations) {
                Registration *reg = c->registrations;

                c->registrations = reg->next;
                registration_free(reg);
        }
        c->n_registrations = 0;
}

static int register_event(xv_conn *c, xv_domain *dom, int event_id, xv_lifecycle_cb lcb, xv_reboot_cb rcb,
                          void *userdata, void (*free_userdata)(void *), int *ret_id, XvError *error) {
        _cleanup_free_ Registration *reg = NULL;
        bool full;
        int r;

        r = check_conn(c, error);
        if (r < 0)
                return r;
        r = check_arg(lcb || rcb, "callback must not be NULL", error);
        if (r < 0)
                return r;

        pthread_mutex_lock(&c->lock);
        full = c->n_registrations >= CONN_REGISTRATIONS_MAX;
        pthread_mutex_unlock(&c->lock);
        if (full)
                return lib_error_setf(error, -E2BIG, XVP_ERR_INVALID_ARG, XVP_FROM_REMOTE,
                                      "too many event callbacks on this connection (limit %u)",
                                      CONN_REGISTRATIONS_MAX);

        reg = new0(Registration, 1);
        if (!reg)
                return -ENOMEM;
        reg->event_id = event_id;
        reg->lifecycle_cb = lcb;
        reg->reboot_cb = rcb;
        reg->n_ref = 1;
        if (dom) {
                memcpy(reg->uuid, dom->uuid, sizeof(reg->uuid));
                reg->has_uuid = true;
        }

        if (c->event_callback_supported) {
                xvp_nonnull_domain wire = domain_to_wire(dom);
                xvp_connect_domain_event_callback_register_any_args args = {
                        .event_id = event_id,
                        .dom = dom ? &wire : NULL,
                };
                xvp_connect_domain_event_callback_register_any_ret ret = {};

                r = conn_call(c, XVP_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
                              (xdrproc_t) xdr_xvp_connect_domain_event_callback_register_any_args, &args,
                              (xdrproc_t) xdr_xvp_connect_domain_event_callback_register_any_ret, &ret, error);
                if (r < 0)
                        return r;
                reg->id = ret.callback_id;
        } else {
                /* The legacy path has one registration per event ID and connection on the daemon's
                 * side; the library fans the events out to its own registrations. */
                xvp_connect_domain_event_register_any_args args = { .event_id = event_id };
                bool registered = false;

                pthread_mutex_lock(&c->lock);
                for (Registration *i = c->registrations; i; i = i->next)
                        if (i->legacy && i->event_id == event_id)
                                registered = true;
                pthread_mutex_unlock(&c->lock);

                if (!registered) {
                        r = conn_call(c, XVP_PROC_CONNECT_DOMAIN_EVENT_REGISTER_ANY,
                                      (xdrproc_t) xdr_xvp_connect_domain_event_register_any_args, &args, NULL, NULL,
                                      error);
                        if (r < 0)
                                return r;
                }
                reg->legacy = true;
        }

        /* Only now does the registration own the userdata. */
        reg->userdata = userdata;
        reg->free_userdata = free_userdata;

        pthread_mutex_lock(&c->lock);
        if (reg->legacy)
                reg->id = c->next_legacy_id++;
        reg->next = c->registrations;
        c->registrations = reg;
        c->n_registrations++;
        if (ret_id)
                *ret_id = reg->id;
        pthread_mutex_unlock(&c->lock);
        TAKE_PTR(reg);
        return 0;
}

int xv_conn_register_lifecycle_event(xv_conn *c, xv_domain *dom, xv_lifecycle_cb cb, void *userdata,
                                     void (*free_userdata)(void *), int *ret_id, xv_error *error) {
        if (!cb)
                return check_arg(false, "callback must not be NULL", ERR(error));
        return register_event(c, dom, XVP_DOMAIN_EVENT_ID_LIFECYCLE, cb, NULL, userdata, free_userdata, ret_id,
                              ERR(error));
}

int xv_conn_register_reboot_event(xv_conn *c, xv_domain *dom, xv_reboot_cb cb, void *userdata,
                                  void (*free_userdata)(void *), int *ret_id, xv_error *error) {
        if (!cb)
                return check_arg(false, "callback must not be NULL", ERR(error));
        return register_event(c, dom, XVP_DOMAIN_EVENT_ID_REBOOT, NULL, cb, userdata, free_userdata, ret_id,
                              ERR(error));
}

int xv_conn_deregister_event(xv_conn *c, int id, xv_error *error) {
        XvError *e = ERR(error);
        Registration *reg = NULL;
        bool other_legacy = false;
        int r;

        r = check_conn(c, e);
        if (r < 0)
                return r;

        pthread_mutex_lock(&c->lock);
        for (Registration **p = &c->registrations; *p; p = &(*p)->next)
                if ((*p)->id == id) {
                        reg = *p;
                        *p = reg->next;
                        reg->next = NULL;
                        reg->removed = true;
                        c->n_registrations--;
                        break;
                }
        if (reg && reg->legacy)
                for (Registration *i = c->registrations; i; i = i->next)
                        if (i->legacy && i->event_id == reg->event_id)
                                other_legacy = true;
        pthread_mutex_unlock(&c->lock);

        if (!reg)
                return lib_error_setf(e, -ENOENT, XVP_ERR_INVALID_ARG, XVP_FROM_REMOTE,
                                      "callback %d not registered", id);

        if (!reg->legacy) {
                xvp_connect_domain_event_callback_deregister_any_args args = { .callback_id = id };

                r = conn_call(c, XVP_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY,
                              (xdrproc_t) xdr_xvp_connect_domain_event_callback_deregister_any_args, &args, NULL,
                              NULL, e);
        } else if (!other_legacy) {
                xvp_connect_domain_event_deregister_any_args args = { .event_id = reg->event_id };

                r = conn_call(c, XVP_PROC_CONNECT_DOMAIN_EVENT_DEREGISTER_ANY,
                              (xdrproc_t) xdr_xvp_connect_domain_event_deregister_any_args, &args, NULL, NULL, e);
        }

        /* The registration ends here whatever the daemon said (a dead connection has none). */
        registration_unref(c, reg);
        return r;
}

static bool registration_matches(const Registration *reg, const Event *ev) {
        int event_id = ev->kind == EVENT_REBOOT ? XVP_DOMAIN_EVENT_ID_REBOOT : XVP_DOMAIN_EVENT_ID_LIFECYCLE;

        if (reg->removed || reg->event_id != event_id)
                return false;
        if (ev->callback_id >= 0)
                return !reg->legacy && reg->id == ev->callback_id;
        return reg->legacy && (!reg->has_uuid || memcmp(reg->uuid, ev->uuid, sizeof(reg->uuid)) == 0);
}

static int dispatch_one(xv_conn *c, const Event *ev) {
        _cleanup_free_ Registration **regs = NULL;
        xv_domain *d = NULL;
        size_t n = 0;

        if (ev->kind == EVENT_CLOSE) {
                xv_close_cb cb;
                void *userdata;

                pthread_mutex_lock(&c->lock);
                cb = c->close_cb;
                userdata = c->close_userdata;
                pthread_mutex_unlock(&c->lock);
                if (!cb)
                        return 0;
                cb(c, ev->reason, userdata);
                return 1;
        }

        pthread_mutex_lock(&c->lock);
        regs = new(Registration *, c->n_registrations);
        if (regs)
                for (Registration *reg = c->registrations; reg; reg = reg->next)
                        if (n < c->n_registrations && registration_matches(reg, ev)) {
                                reg->n_ref++;
                                regs[n++] = reg;
                        }
        pthread_mutex_unlock(&c->lock);
        if (n == 0)
                return 0;

        int ran = 0;

        if (domain_new(c, ev->name, ev->uuid, ev->id, &d) >= 0) {
                for (size_t i = 0; i < n; i++) {
                        if (regs[i]->lifecycle_cb)
                                regs[i]->lifecycle_cb(c, d, ev->event, ev->detail, regs[i]->userdata);
                        else
                                regs[i]->reboot_cb(c, d, regs[i]->userdata);
                        ran++;
                }
                xv_domain_unref(d);
        }

        /* A callback may have deregistered itself: the last reference frees it here. */
        for (size_t i = 0; i < n; i++)
                registration_unref(c, regs[i]);
        return ran;
}

int xv_conn_dispatch_events(xv_conn *c) {
        Event *list;
        int n = 0;

        if (!c)
                return -EINVAL;
        /* A reference for the duration, so that a callback's handles cannot free @c under us. */
        if (!conn_ref_unless_zero(c))
                return 0;

        pthread_mutex_lock(&c->dispatch_lock);
        pthread_mutex_lock(&c->lock);
        event_fd_drain(c->event_fd);
        list = c->events;
        c->events = c->events_tail = NULL;
        c->n_events = 0;
        /* A dead connection keeps the fd readable, so that pollers notice. */
        if (c->dead)
                event_fd_signal(c->event_fd);
        pthread_mutex_unlock(&c->lock);

        while (list) {
                Event *ev = list;

                list = ev->next;
                n += dispatch_one(c, ev);
                event_free(ev);
        }
        pthread_mutex_unlock(&c->dispatch_lock);

        xv_conn_unref(c);
        return n;
}

int xv_conn_get_event_fd(xv_conn *c) {
        return c ? c->event_fd : -EINVAL;
}

static void *event_thread_main(void *userdata) {
        xv_conn *c = userdata;

        for (;;) {
                struct pollfd pfd = { .fd = c->event_fd, .events = POLLIN };
                bool stop, done, free_now;

                pthread_mutex_lock(&c->lock);
                stop = c->event_thread_stop;
                pthread_mutex_unlock(&c->lock);
                if (stop)
                        break;

                if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                        break;

                pthread_mutex_lock(&c->lock);
                stop = c->event_thread_stop;
                pthread_mutex_unlock(&c->lock);
                if (stop)
                        break;

                (void) xv_conn_dispatch_events(c);

                pthread_mutex_lock(&c->lock);
                free_now = c->free_on_event_thread;
                /* Once the connection is dead and its close event went out, nothing more comes. */
                done = c->dead && !c->events;
                pthread_mutex_unlock(&c->lock);
                if (free_now) {
                        conn_free(c);
                        break;
                }
                if (done)
                        break;
        }
        return NULL;
}

int xv_conn_start_event_thread(xv_conn *c, xv_error *error) {
        XvError *e = ERR(error);
        int r;

        r = check_conn(c, e);
        if (r < 0)
                return r;

        pthread_mutex_lock(&c->lock);
        if (c->event_thread_started) {
                pthread_mutex_unlock(&c->lock);
                return 0;
        }
        r = -pthread_create(&c->event_thread, NULL, event_thread_main, c);
        if (r == 0)
                c->event_thread_started = true;
        pthread_mutex_unlock(&c->lock);
        if (r < 0)
                return lib_error_setf(e, r, XVP_ERR_SYSTEM, XVP_FROM_REMOTE, "Cannot start the event thread: %s",
                                      strerror(-r));
        return 0;
}

void event_thread_stop(xv_conn *c) {
        bool started;

        pthread_mutex_lock(&c->lock);
        started = c->event_thread_started;
        c->event_thread_stop = true;
        c->event_thread_started = false;
        pthread_mutex_unlock(&c->lock);
        if (!started)
                return;

        if (pthread_equal(pthread_self(), c->event_thread)) {
                pthread_detach(c->event_thread);
                return;
        }
        event_fd_signal(c->event_fd);
        pthread_join(c->event_thread, NULL);
}

int xv_conn_set_close_callback(xv_conn *c, xv_close_cb cb, void *userdata) {
        if (!c)
                return -EINVAL;
        pthread_mutex_lock(&c->lock);
        c->close_cb = cb;
        c->close_userdata = userdata;
        pthread_mutex_unlock(&c->lock);
        return 0;
}

/* ------------------------------------------------------------------------------------------
 * virsh's words for events (virsh event --all prints "Started Booted").
 */

static const char *const event_type_names[] = {
        "Defined", "Undefined", "Started", "Suspended", "Resumed", "Stopped", "Shutdown", "PMSuspended", "Crashed",
};

static const char *const defined_details[] = { "Added", "Updated", "Renamed", "Snapshot" };
static const char *const undefined_details[] = { "Removed", "Renamed" };
static const char *const started_details[] = { "Booted", "Migrated", "Restored", "Snapshot", "Event wakeup" };
static const char *const suspended_details[] = {
        "Paused", "Migrated", "I/O Error", "Watchdog", "Restored", "Snapshot", "API error", "Post-copy",
        "Post-copy Error",
};
static const char *const resumed_details[] = { "Unpaused", "Migrated", "Snapshot", "Post-copy", "Post-copy Error" };
static const char *const stopped_details[] = {
        "Shutdown", "Destroyed", "Crashed", "Migrated", "Saved", "Failed", "Snapshot",
};
static const char *const shutdown_details[] = {
        "Finished", "Finished after guest request", "Finished after host request",
};
static const char *const pmsuspended_details[] = { "Memory", "Disk" };
static const char *const crashed_details[] = { "Panicked", "Crashloaded" };

#define DETAILS(a) { a, ELEMENTSOF(a) }
static const struct {
        const char *const *names;
        size_t n;
} event_details[] = {
        DETAILS(defined_details),
        DETAILS(undefined_details),
        DETAILS(started_details),
        DETAILS(suspended_details),
        DETAILS(resumed_details),
        DETAILS(stopped_details),
        DETAILS(shutdown_details),
        DETAILS(pmsuspended_details),
        DETAILS(crashed_details),
};

const char *xv_event_type_to_string(int event) {
        if (event < 0 || (size_t) event >= ELEMENTSOF(event_type_names))
                return "unknown";
        return event_type_names[event];
}

const char *xv_event_detail_to_string(int event, int detail) {
        if (event < 0 || (size_t) event >= ELEMENTSOF(event_details) || detail < 0 ||
            (size_t) detail >= event_details[event].n)
                return "unknown";
        return event_details[event].names[detail];
}
