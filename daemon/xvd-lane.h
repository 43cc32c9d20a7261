/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * I/O lanes: event loops that each own a share of the connections. Lane 0 is the main loop (the
 * Manager's sd_event: listeners, signals, polkit, backend events, the default worker
 * completions); lanes 1.. run an sd_event of their own on a thread of their own. A connection is
 * owned by one lane for its whole life: its socket, buffers, calls and replies are only ever
 * touched by that lane's thread, so that the connection code stays single-threaded. With many
 * busy connections, the lanes serve them in parallel, and the daemon no longer depends on one
 * thread getting the CPU among many runnable client threads.
 *
 * What other threads want from a lane's connections (a new connection, an event, a keepalive
 * setting, shutdown) is posted to the lane as a task and runs on its thread, in order.
 * Connections that need polkit (polkit auth, per-call ACLs) and connections refused over
 * max_clients stay on lane 0, where polkit's bus lives.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "xv-hypervisor.h"
#include "xv-macro.h"

typedef struct Manager Manager;
typedef struct Client Client;
typedef struct Lane Lane;
typedef struct WorkersDone WorkersDone;

/* Lanes at most, lane 0 included; by default one per two online CPUs (io_threads in the config). */
#define LANES_MAX 8u

/* Lane 0 on @e (the Manager's loop, no thread of its own); lanes 1.. get a loop of their own,
 * whose thread lane_start() starts. */
int lane_new(Manager *m, unsigned index, sd_event *e, Lane **ret);
int lane_start(Lane *l);
/* Any lane but 0: asks its thread to finish and joins it. Idempotent. */
void lane_stop(Lane *l);
/* After lane_stop(): runs the tasks still posted, disconnects the lane's clients and frees it
 * (on the calling thread). */
Lane *lane_free(Lane *l);
DEFINE_CLEANUP_FUNC(Lane *, lane_free);

unsigned lane_get_index(Lane *l);
sd_event *lane_get_event(Lane *l);
/* Where the completions of this lane's calls on workers run (NULL for lane 0: the default). */
WorkersDone *lane_get_done(Lane *l);
void lane_set_done(Lane *l, WorkersDone *d);

/* Any thread, the lane's own included: queues @f(@l, @userdata) to run on the lane's thread, in
 * order. On failure (-ENOMEM) nothing is queued and @f never runs. */
typedef void (*LaneTaskFunc)(Lane *l, void *userdata);
int lane_post(Lane *l, LaneTaskFunc f, void *userdata);

/* Takes the client (and the caller's reference) over, on the lane's thread: lane 0 at once, the
 * others through a task. The client is attached to the lane's loop there. */
void lane_adopt_client(Lane *l, Client *c);

/* Connections served per dispatch of the lane's loop at most. */
#define LANE_READY_MAX 64u

/* Lane thread: watches the connection's socket @fd for @events (epoll flags; 0: not at all) on the
 * lane's epoll set; client_on_io() runs when it is ready. */
int lane_watch_client(Lane *l, Client *c, int fd, uint32_t events);

/* Lane thread: the lane's connection list (each entry holds one reference). */
void lane_remove_client(Lane *l, Client *c);
size_t lane_get_n_clients(Lane *l);
Client *lane_get_client(Lane *l, size_t i);

/* Delivers a backend event to the lane's clients (any thread; the event is copied). */
void lane_broadcast_event(Lane *l, const HvEvent *event);

/* The keepalive of the lane's clients (any thread): interval 0 turns it off. */
void lane_set_keepalive(Lane *l, uint64_t interval_usec, unsigned count);

/* Shutdown: the lane stops reading its clients (any thread). */
void lane_begin_shutdown(Lane *l);
/* Lane thread: something drained (a queue, a call); during shutdown, reports whether the lane
 * still has replies to write, and tells the main loop when it has none. */
void lane_check_idle(Lane *l);
/* Lane thread: a reply stays queued (shutdown must wait for it). */
void lane_note_output(Lane *l);
/* Any thread: lane 1.. still has replies queued (true until it has seen the shutdown). */
bool lane_is_busy(Lane *l);
