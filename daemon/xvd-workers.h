/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A bounded pool of worker threads for procedures annotated @blocking: yes. A WorkItem's run()
 * executes on a worker; its complete() then executes on the event loop thread, woken through an
 * eventfd, so that sockets and connection state are only ever touched by the loop.
 */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "xv-macro.h"

typedef struct WorkItem WorkItem;
struct WorkItem {
        WorkItem *next;
        void (*run)(WorkItem *w);               /* worker thread */
        void (*complete)(WorkItem *w);          /* loop thread; also frees the item */
};

typedef struct Workers Workers;

/* A pool of at most @n threads (at least one), started on demand by workers_submit() from the
 * loop thread. The loop thread must have blocked the signals it handles, so that the threads
 * inherit the mask. */
int workers_new(sd_event *e, unsigned n, Workers **ret);

/* Waits for the running items, completes everything (items never run are completed without
 * running; their complete() sees workers_item_ran() == false), and joins the threads. */
Workers *workers_free(Workers *w);
DEFINE_CLEANUP_FUNC(Workers *, workers_free);

/* Queues @item, starting a thread when every running one is busy and the pool is not full;
 * never blocks. Fails (nothing queued) only when no thread runs and none can be started. The
 * caller bounds the amount of work (per-client limits). */
int workers_submit(Workers *w, WorkItem *item);

/* Items submitted and not yet completed. */
unsigned workers_get_pending(Workers *w);

/* Called on the loop after completions were processed (shutdown bookkeeping). */
void workers_set_idle_callback(Workers *w, void (*callback)(void *userdata), void *userdata);
