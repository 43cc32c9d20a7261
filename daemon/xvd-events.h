/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Lifecycle events: the backend's event fd is watched on the loop; when it is readable,
 * hypervisor_process_events() runs our callback once per event, and each connection that
 * registered for lifecycle events gets a MESSAGE: 318 per matching callback registration (316),
 * 107 when it used a legacy registration (167, or 105 for the lifecycle event).
 */

#include <systemd/sd-event.h>

#include "xv-hypervisor.h"

typedef struct Manager Manager;

/* Installs the callback and the fd watch. A backend without an event fd delivers no events. */
int events_attach(Manager *m, XvHypervisor *h, sd_event_source **ret);

/* Delivers one event to every subscribed client (also used by tests through the callback): each
 * lane gets it for its own clients. Main loop. */
void events_broadcast(Manager *m, const HvEvent *event);
/* On @l's thread: the frames of @event to each of its clients that subscribed. */
typedef struct Lane Lane;
void events_deliver(Lane *l, const HvEvent *event);
