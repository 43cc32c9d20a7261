/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "xv-log.h"
#include "xvd-client.h"
#include "xvd-events.h"
#include "xvd-lane.h"
#include "xvd-manager.h"

/* The frames one client gets for one event: one per matching callback registration, plus the
 * legacy one. Bounded by the registrations a client may hold. */
#define EVENTS_FRAMES_MAX (CLIENT_EVENT_CALLBACKS_MAX + 1u)

typedef struct EventSend {
        const HvEvent *event;
        xvp_nonnull_domain dom;
        Message *msgs[EVENTS_FRAMES_MAX];
        size_t n_msgs;
} EventSend;

static void add_callback_lifecycle(Client *c, int callback_id, void *userdata) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        EventSend *s = userdata;
        Message *msg = NULL;
        xvp_domain_event_callback_lifecycle_msg payload = {
                .callback_id = callback_id,
                .dom = s->dom,
                .event = s->event->event,
                .detail = s->event->detail,
        };

        if (s->n_msgs >= EVENTS_FRAMES_MAX)
                return;
        if (message_new_event(XVP_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
                              (xdrproc_t) xdr_xvp_domain_event_callback_lifecycle_msg, &payload, &msg, &error) < 0) {
                log_warning("Cannot encode a lifecycle event: %s", strempty(error.message));
                return;
        }
        s->msgs[s->n_msgs++] = msg;
}

static void add_legacy_lifecycle(EventSend *s) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        Message *msg = NULL;
        xvp_domain_event_lifecycle_msg payload = {
                .dom = s->dom,
                .event = s->event->event,
                .detail = s->event->detail,
        };

        if (s->n_msgs >= EVENTS_FRAMES_MAX)
                return;
        if (message_new_event(XVP_PROC_DOMAIN_EVENT_LIFECYCLE, (xdrproc_t) xdr_xvp_domain_event_lifecycle_msg,
                              &payload, &msg, &error) < 0) {
                log_warning("Cannot encode a lifecycle event: %s", strempty(error.message));
                return;
        }
        s->msgs[s->n_msgs++] = msg;
}

void events_deliver(Lane *l, const HvEvent *event) {
        EventSend s = { .event = event };
        size_t i = 0;

        assert(event);

        if (!event->ref.name)
                return;
        s.dom.name = event->ref.name;
        memcpy(s.dom.uuid, event->ref.uuid.bytes, sizeof(s.dom.uuid));
        s.dom.id = event->ref.id;

        while (i < lane_get_n_clients(l)) {
                /* Sending may drop this client (one that does not read) from the list, never
                 * another one: keep it alive while we look, and move on only if it stayed. */
                Client *c = lane_get_client(l, i);
                _cleanup_(client_unrefp) _unused_ Client *ref = client_ref(c);

                if (client_is_connected(c) && client_is_open(c)) {
                        s.n_msgs = 0;
                        client_foreach_event_callback(c, XVP_DOMAIN_EVENT_ID_LIFECYCLE, &event->ref.uuid,
                                                      add_callback_lifecycle, &s);
                        if (client_get_legacy_event(c, XVP_DOMAIN_EVENT_ID_LIFECYCLE))
                                add_legacy_lifecycle(&s);
                        /* With ACLs, the client's frames wait (in order) for its getattr check of the domain. */
                        client_send_domain_event(c, event->ref.name, &event->ref.uuid, s.msgs, s.n_msgs);
                }
                if (i < lane_get_n_clients(l) && lane_get_client(l, i) == c)
                        i++;
        }
}

void events_broadcast(Manager *m, const HvEvent *event) {
        Lane *l;

        assert(event);

        if (!event->ref.name)
                return;
        log_debug("Lifecycle event %d/%d for domain '%s'.", event->event, event->detail, event->ref.name);

        /* Each lane delivers to its own clients, in the order the events came. */
        for (unsigned i = 0; (l = manager_get_lane(m, i)); i++)
                lane_broadcast_event(l, event);
}

static void on_hv_event(XvHypervisor *h, const HvEvent *event, void *userdata) {
        events_broadcast(userdata, event);
}

static int on_event_fd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        int r;

        r = hypervisor_process_events(manager_get_hypervisor(m));
        if (r < 0)
                log_warning_errno(r, "Processing backend events failed, ignoring: %m");
        return 0;
}

int events_attach(Manager *m, XvHypervisor *h, sd_event_source **ret) {
        int fd, r;

        r = hypervisor_set_event_callback(h, on_hv_event, m);
        if (r < 0)
                return r;

        fd = hypervisor_event_fd(h);
        if (fd < 0) {
                log_notice("The backend offers no event source: no lifecycle events will be delivered.");
                *ret = NULL;
                return 0;
        }

        r = sd_event_add_io(manager_get_event(m), ret, fd, EPOLLIN, on_event_fd, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(*ret, "backend-events");
        return 0;
}
