/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Manager: the daemon's single owner of state. It holds the main sd-event loop, the backend
 * handle, the listening sockets, the I/O lanes (which own the clients, see xvd-lane.h), the
 * worker pool and the configured limits. Every field is owned by the main loop thread; handlers
 * that run on workers (@blocking: yes) only ever call manager_get_hypervisor(), which is
 * immutable after start-up. Code on a lane's thread calls only what says "any thread" below.
 */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "xv-error.h"
#include "xv-hypervisor.h"
#include "xv-macro.h"

typedef struct Manager Manager;
typedef struct Client Client;
typedef struct Config Config;

/* The backend; valid for the whole life of the daemon, safe to use from any thread. */
XvHypervisor *manager_get_hypervisor(Manager *m);

/* Loop-thread only: the rest is the daemon core's own API. */

/* Takes over @config (left initialized and empty). @config_path is re-read on SIGHUP; @debug
 * keeps the log level at debug whatever the file says. */
int manager_new(Config *config, const char *config_path, bool config_path_explicit, bool debug, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_CLEANUP_FUNC(Manager *, manager_free);

/* The event loop, polkit and the backend (with its event source): a Manager that can take
 * clients (manager_add_client()) and dispatch their calls, without listeners or workers (calls
 * then run on the loop thread). manager_startup() begins with it; the dispatch fuzzer stops here. */
int manager_setup(Manager *m, XvError *error);
/* manager_setup(), then the signals, the listeners and the worker pool; then serves until
 * SIGTERM/SIGINT. */
int manager_startup(Manager *m, XvError *error);
int manager_run(Manager *m);

sd_event *manager_get_event(Manager *m);
const Config *manager_get_config(Manager *m);

/* Any thread. A new callback id for CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: daemon-global,
 * from 0 on, as libvirtd numbers them. */
int manager_next_callback_id(Manager *m);

/* Client bookkeeping: manager_add_client() on the main loop (the listener), which hands the
 * client to a lane; manager_remove_client() on the client's lane thread (client_disconnect()). */
int manager_add_client(Manager *m, int fd, bool read_only);
void manager_remove_client(Manager *m, Client *c);

/* The lanes: 0 is the main loop's (from manager_setup() on), 1.. exist after manager_startup(). */
typedef struct Lane Lane;
Lane *manager_get_lane(Manager *m, unsigned index);

/* Iteration over the clients of lane 0 (the fuzzer; without lanes of their own, all of them);
 * NULL ends. */
Client *manager_first_client(Manager *m);
Client *manager_next_client(Manager *m, Client *c);

/* The polkit client (loop thread); NULL before startup. */
typedef struct Polkit Polkit;
Polkit *manager_get_polkit(Manager *m);

/* The worker pool; NULL before startup. */
typedef struct Workers Workers;
Workers *manager_get_workers(Manager *m);

/* Called whenever in-flight work or an outgoing queue drains, so that a pending shutdown can
 * complete. */
void manager_check_idle(Manager *m);
bool manager_is_exiting(Manager *m);

/* sd_notify STATUS= with the backend's channel states and the client count. */
void manager_notify_status(Manager *m);
