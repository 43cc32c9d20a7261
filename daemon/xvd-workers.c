/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-log.h"
#include "xvd-polkit.h"
#include "xvd-workers.h"

#define WORKERS_COMPLETIONS_PER_WAKEUP 64u
#define USEC_PER_SEC 1000000ULL
#define NSEC_PER_USEC 1000ULL
/* A thread without work for this long exits: the pool shrinks back after a burst. */
#define WORKERS_IDLE_EXIT_USEC (5 * USEC_PER_SEC)

/* One loop's completions: its eventfd source, and the items run for it (under the pool's lock). */
struct WorkersDone {
        Workers *workers;
        sd_event_source *source;
        int efd;
        WorkItem *head, *tail;                  /* run, not completed */
        void (*idle_callback)(void *userdata);
        void *idle_userdata;
};

struct Workers {
        WorkersDone *dones[WORKERS_DONE_MAX];   /* [0]: the main loop's */
        unsigned n_dones;

        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop;
        WorkItem *queue_head, *queue_tail;      /* submitted, not started */

        /* Threads are detached: one that stays idle for WORKERS_IDLE_EXIT_USEC leaves, and
         * workers_free() waits on @exited until none is left. */
        pthread_cond_t exited;
        unsigned n_threads;                     /* running (under lock) */
        unsigned max_threads;
        unsigned n_idle;                        /* threads waiting for work (under lock) */
        unsigned n_queued;                      /* items in queue_head (under lock) */
        atomic_uint pending;                    /* submitted on any loop, not completed */
};

static void list_append(WorkItem **head, WorkItem **tail, WorkItem *w) {
        w->next = NULL;
        if (*tail)
                (*tail)->next = w;
        else
                *head = w;
        *tail = w;
}

static WorkItem *list_pop(WorkItem **head, WorkItem **tail) {
        WorkItem *w = *head;

        if (w) {
                *head = w->next;
                if (!*head)
                        *tail = NULL;
                w->next = NULL;
        }
        return w;
}

/* The absolute CLOCK_MONOTONIC time @usec from now. */
static struct timespec deadline_after(uint64_t usec) {
        struct timespec ts;
        uint64_t nsec;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        nsec = (uint64_t) ts.tv_nsec + (usec % USEC_PER_SEC) * NSEC_PER_USEC;
        ts.tv_sec += (time_t) (usec / USEC_PER_SEC + nsec / 1000000000ULL);
        ts.tv_nsec = (long) (nsec % 1000000000ULL);
        return ts;
}

static void *worker_main(void *userdata) {
        Workers *w = userdata;

        for (;;) {
                WorkItem *item;
                uint64_t one = 1;
                struct timespec deadline = deadline_after(WORKERS_IDLE_EXIT_USEC);
                bool timed_out = false;

                pthread_mutex_lock(&w->lock);
                w->n_idle++;
                while (!w->stop && !w->queue_head && !timed_out)
                        timed_out = pthread_cond_timedwait(&w->cond, &w->lock, &deadline) == ETIMEDOUT;
                w->n_idle--;
                item = list_pop(&w->queue_head, &w->queue_tail);
                if (!item) {
                        /* Stopping, or idle for long, and nothing left to run. The thread stops
                         * counting now, so that the next submission starts another if needed;
                         * after the unlock it touches nothing of @w (workers_free() may free it). */
                        bool stopping = w->stop;

                        w->n_threads--;
                        pthread_cond_broadcast(&w->exited);
                        pthread_mutex_unlock(&w->lock);
                        /* After a burst: hand the free memory of the threads' malloc arenas back
                         * (large transient replies and parses would otherwise stay resident). */
                        if (!stopping)
                                (void) malloc_trim(0);
                        break;
                }
                w->n_queued--;
                pthread_mutex_unlock(&w->lock);

                item->run(item);

                WorkersDone *d = item->done ?: w->dones[0];

                pthread_mutex_lock(&w->lock);
                list_append(&d->head, &d->tail, item);
                pthread_mutex_unlock(&w->lock);

                /* Wakes the loop; a full counter (impossible in practice) still leaves it readable. */
                if (write(d->efd, &one, sizeof(one)) < 0)
                        log_debug_errno(-errno, "Cannot wake the loop for a completion: %m");
        }

        /* The thread's own polkit bus goes too. */
        polkit_thread_done();
        return NULL;
}

/* Completes up to @max finished items of @d on its loop's thread. Returns how many. */
static unsigned workers_complete(WorkersDone *d, unsigned max) {
        Workers *w = d->workers;
        unsigned n = 0;

        while (n < max) {
                WorkItem *item;

                pthread_mutex_lock(&w->lock);
                item = list_pop(&d->head, &d->tail);
                pthread_mutex_unlock(&w->lock);
                if (!item)
                        break;

                item->complete(item);
                /* After complete(): whoever sees no item pending also sees the reply it queued. */
                assert(atomic_load(&w->pending) > 0);
                atomic_fetch_sub(&w->pending, 1);
                n++;
        }
        return n;
}

static int on_eventfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        WorkersDone *d = userdata;
        uint64_t v;

        /* Resets the counter; EAGAIN (nothing to read) only means another wakeup got here first. */
        if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN && errno != EINTR)
                log_debug_errno(-errno, "Cannot read the workers' eventfd: %m");
        if (workers_complete(d, WORKERS_COMPLETIONS_PER_WAKEUP) >= WORKERS_COMPLETIONS_PER_WAKEUP) {
                /* More may be waiting: make sure we come back without starving other clients. */
                v = 1;
                if (write(d->efd, &v, sizeof(v)) < 0)
                        log_debug_errno(-errno, "Cannot wake the loop for more completions: %m");
        }
        if (d->idle_callback)
                d->idle_callback(d->idle_userdata);
        return 0;
}

static WorkersDone *workers_done_free(WorkersDone *d) {
        if (!d)
                return NULL;
        sd_event_source_disable_unref(d->source);
        safe_close(d->efd);
        return mfree(d);
}

int workers_add_done(Workers *w, sd_event *e, void (*idle_callback)(void *userdata), void *userdata,
                     WorkersDone **ret) {
        WorkersDone *d;
        int r;

        assert(w);
        assert(e);

        if (w->n_dones >= WORKERS_DONE_MAX)
                return -E2BIG;
        d = new0(WorkersDone, 1);
        if (!d)
                return -ENOMEM;
        d->workers = w;
        d->idle_callback = idle_callback;
        d->idle_userdata = userdata;
        d->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (d->efd < 0) {
                r = -errno;
                free(d);
                return r;
        }
        r = sd_event_add_io(e, &d->source, d->efd, EPOLLIN, on_eventfd, d);
        if (r < 0) {
                workers_done_free(d);
                return r;
        }
        (void) sd_event_source_set_description(d->source, "workers");
        w->dones[w->n_dones++] = d;
        if (ret)
                *ret = d;
        return 0;
}

int workers_new(sd_event *e, unsigned n, Workers **ret) {
        _cleanup_(workers_freep) Workers *w = NULL;
        int r;

        assert(e);
        assert(ret);

        w = new0(Workers, 1);
        if (!w)
                return -ENOMEM;
        pthread_mutex_init(&w->lock, NULL);
        {
                pthread_condattr_t attr;

                /* Idle timeouts on the monotonic clock: a clock step neither ends nor extends them. */
                pthread_condattr_init(&attr);
                pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
                pthread_cond_init(&w->cond, &attr);
                pthread_condattr_destroy(&attr);
        }
        pthread_cond_init(&w->exited, NULL);

        r = workers_add_done(w, e, NULL, NULL, NULL);
        if (r < 0)
                return r;

        /* Threads start on demand (workers_submit()): an idle daemon has none, and one that only
         * ever sees calls served on the loop thread never pays for their stacks and arenas. */
        w->max_threads = MAX(n, 1u);

        *ret = TAKE_PTR(w);
        return 0;
}

Workers *workers_free(Workers *w) {
        WorkItem *item;

        if (!w)
                return NULL;

        /* Items still queued are run by the workers before they notice the stop flag: their
         * callers expect a reply or at least a completion. The threads exit once idle. */
        pthread_mutex_lock(&w->lock);
        w->stop = true;
        pthread_cond_broadcast(&w->cond);
        while (w->n_threads > 0)
                pthread_cond_wait(&w->exited, &w->lock);
        pthread_mutex_unlock(&w->lock);

        for (unsigned i = 0; i < w->n_dones; i++)
                (void) workers_complete(w->dones[i], UINT32_MAX);
        while ((item = list_pop(&w->queue_head, &w->queue_tail)))
                item->complete(item);   /* only when no thread could be started */

        for (unsigned i = 0; i < w->n_dones; i++)
                w->dones[i] = workers_done_free(w->dones[i]);
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->cond);
        pthread_cond_destroy(&w->exited);
        return mfree(w);
}

/* Starts one detached worker thread; called with the lock held. */
static int worker_start_locked(Workers *w) {
        pthread_attr_t attr;
        pthread_t t;
        int r;

        r = pthread_attr_init(&attr);
        if (r != 0)
                return -r;
        r = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (r == 0)
                r = pthread_create(&t, &attr, worker_main, w);
        pthread_attr_destroy(&attr);
        if (r != 0)
                return -r;
        w->n_threads++;
        return 0;
}

int workers_submit(Workers *w, WorkItem *item) {
        int r;

        assert(w);
        assert(item);
        assert(item->run);
        assert(item->complete);

        pthread_mutex_lock(&w->lock);
        /* One more thread when the items waiting (this one included) outnumber the idle threads.
         * It inherits the loop thread's signal mask (see workers_new()). */
        if (w->n_queued + 1 > w->n_idle && w->n_threads < w->max_threads) {
                r = worker_start_locked(w);
                if (r < 0 && w->n_threads == 0) {
                        pthread_mutex_unlock(&w->lock);
                        return log_warning_errno(r, "Cannot start a worker thread: %m");
                }
                if (r < 0)
                        log_debug_errno(r, "Cannot start another worker thread, %u running: %m", w->n_threads);
        }
        list_append(&w->queue_head, &w->queue_tail, item);
        w->n_queued++;
        atomic_fetch_add(&w->pending, 1);
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
        return 0;
}

unsigned workers_get_pending(Workers *w) {
        return w ? atomic_load(&w->pending) : 0;
}

void workers_set_idle_callback(Workers *w, void (*callback)(void *userdata), void *userdata) {
        w->dones[0]->idle_callback = callback;
        w->dones[0]->idle_userdata = userdata;
}
