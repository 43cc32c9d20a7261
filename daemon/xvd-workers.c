/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
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

struct Workers {
        sd_event_source *source;
        int efd;

        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop;
        WorkItem *queue_head, *queue_tail;      /* submitted, not started */
        WorkItem *done_head, *done_tail;        /* run, not completed */

        /* Threads are detached: one that stays idle for WORKERS_IDLE_EXIT_USEC leaves, and
         * workers_free() waits on @exited until none is left. */
        pthread_cond_t exited;
        unsigned n_threads;                     /* running (under lock) */
        unsigned max_threads;
        unsigned n_idle;                        /* threads waiting for work (under lock) */
        unsigned n_queued;                      /* items in queue_head (under lock) */
        unsigned pending;                       /* loop thread only */

        void (*idle_callback)(void *userdata);
        void *idle_userdata;
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

                pthread_mutex_lock(&w->lock);
                list_append(&w->done_head, &w->done_tail, item);
                pthread_mutex_unlock(&w->lock);

                /* Wakes the loop; a full counter (impossible in practice) still leaves it readable. */
                if (write(w->efd, &one, sizeof(one)) < 0)
                        log_debug_errno(-errno, "Cannot wake the loop for a completion: %m");
        }

        /* The thread's own polkit bus goes too. */
        polkit_thread_done();
        return NULL;
}

/* Completes up to @max finished items on the loop thread. Returns how many. */
static unsigned workers_complete(Workers *w, unsigned max) {
        unsigned n = 0;

        while (n < max) {
                WorkItem *item;

                pthread_mutex_lock(&w->lock);
                item = list_pop(&w->done_head, &w->done_tail);
                pthread_mutex_unlock(&w->lock);
                if (!item)
                        break;

                assert(w->pending > 0);
                w->pending--;
                item->complete(item);
                n++;
        }
        return n;
}

static int on_eventfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Workers *w = userdata;
        uint64_t v;

        /* Resets the counter; EAGAIN (nothing to read) only means another wakeup got here first. */
        if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN && errno != EINTR)
                log_debug_errno(-errno, "Cannot read the workers' eventfd: %m");
        if (workers_complete(w, WORKERS_COMPLETIONS_PER_WAKEUP) >= WORKERS_COMPLETIONS_PER_WAKEUP) {
                /* More may be waiting: make sure we come back without starving other clients. */
                v = 1;
                if (write(w->efd, &v, sizeof(v)) < 0)
                        log_debug_errno(-errno, "Cannot wake the loop for more completions: %m");
        }
        if (w->idle_callback)
                w->idle_callback(w->idle_userdata);
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
        w->efd = -EBADF;
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

        w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->efd < 0)
                return -errno;

        r = sd_event_add_io(e, &w->source, w->efd, EPOLLIN, on_eventfd, w);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(w->source, "workers");

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

        (void) workers_complete(w, UINT32_MAX);
        while ((item = list_pop(&w->queue_head, &w->queue_tail)))
                item->complete(item);   /* only when no thread could be started */

        sd_event_source_disable_unref(w->source);
        safe_close(w->efd);
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
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
        w->pending++;
        return 0;
}

unsigned workers_get_pending(Workers *w) {
        return w ? w->pending : 0;
}

void workers_set_idle_callback(Workers *w, void (*callback)(void *userdata), void *userdata) {
        w->idle_callback = callback;
        w->idle_userdata = userdata;
}
