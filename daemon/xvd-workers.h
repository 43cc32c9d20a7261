/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A bounded pool of worker threads for procedures annotated @blocking: yes. A WorkItem's run()
 * executes on a worker; its complete() then executes on the event loop thread the item names
 * (its WorkersDone: the main loop's by default, or an I/O lane's), woken through an eventfd, so
 * that sockets and connection state are only ever touched by the loop that owns them.
 */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "xv-macro.h"

typedef struct WorkItem WorkItem;
typedef struct WorkersDone WorkersDone;
struct WorkItem {
        WorkItem *next;
        WorkersDone *done;                      /* where complete() runs; NULL: the main loop */
        void (*run)(WorkItem *w);               /* worker thread */
        void (*complete)(WorkItem *w);          /* loop thread; also frees the item */
};

typedef struct Workers Workers;

/* A pool of at most @n threads (at least one), started on demand by workers_submit() from the
 * loop thread. The loop thread must have blocked the signals it handles, so that the threads
 * inherit the mask. */
int workers_new(sd_event *e, unsigned n, Workers **ret);

/* Loops that complete items besides the main one: at most this many, I/O lanes included. */
#define WORKERS_DONE_MAX 16u

/* A completion queue for items whose complete() must run on the loop of @e (another thread's):
 * owned by the pool, freed by workers_free(). Called before that loop's thread starts.
 * @idle_callback (may be NULL) runs on that loop after each batch of completions, once they
 * count as done (workers_get_pending() no longer includes them). */
int workers_add_done(Workers *w, sd_event *e, void (*idle_callback)(void *userdata), void *userdata,
                     WorkersDone **ret);

/* Waits for the running items, completes everything (items never run are completed without
 * running; their complete() sees workers_item_ran() == false), and joins the threads. Every
 * completion then runs on the calling thread: the threads of the other loops must be gone. */
Workers *workers_free(Workers *w);
DEFINE_CLEANUP_FUNC(Workers *, workers_free);

/* Any loop thread. Queues @item, starting a thread when every running one is busy and the pool
 * is not full; never blocks. Fails (nothing queued) only when no thread runs and none can be started. The
 * caller bounds the amount of work (per-client limits). */
int workers_submit(Workers *w, WorkItem *item);

/* Items submitted and not yet completed, on every loop (any thread). */
unsigned workers_get_pending(Workers *w);

/* The same for the main loop's completions (shutdown bookkeeping). */
void workers_set_idle_callback(Workers *w, void (*callback)(void *userdata), void *userdata);
