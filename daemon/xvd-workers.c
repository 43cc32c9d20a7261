/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-log.h"
#include "xvd-polkit.h"
#include "xvd-workers.h"

#define WORKERS_COMPLETIONS_PER_WAKEUP 64u

struct Workers {
        sd_event_source *source;
        int efd;

        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop;
        WorkItem *queue_head, *queue_tail;      /* submitted, not started */
        WorkItem *done_head, *done_tail;        /* run, not completed */

        pthread_t *threads;
        unsigned n_threads;
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

static void *worker_main(void *userdata) {
        Workers *w = userdata;

        for (;;) {
                WorkItem *item;
                uint64_t one = 1;

                pthread_mutex_lock(&w->lock);
                while (!w->stop && !w->queue_head)
                        pthread_cond_wait(&w->cond, &w->lock);
                item = list_pop(&w->queue_head, &w->queue_tail);
                pthread_mutex_unlock(&w->lock);
                if (!item) {
                        /* Stopping, and nothing left to run: the thread's own polkit bus goes too. */
                        polkit_thread_done();
                        return NULL;
                }

                item->run(item);

                pthread_mutex_lock(&w->lock);
                list_append(&w->done_head, &w->done_tail, item);
                pthread_mutex_unlock(&w->lock);

                /* Wakes the loop; a full counter (impossible in practice) still leaves it readable. */
                if (write(w->efd, &one, sizeof(one)) < 0)
                        log_debug_errno(-errno, "Cannot wake the loop for a completion: %m");
        }
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
        pthread_cond_init(&w->cond, NULL);

        w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->efd < 0)
                return -errno;

        r = sd_event_add_io(e, &w->source, w->efd, EPOLLIN, on_eventfd, w);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(w->source, "workers");

        n = MAX(n, 1u);
        w->threads = new0(pthread_t, n);
        if (!w->threads)
                return -ENOMEM;
        for (; w->n_threads < n; w->n_threads++) {
                r = pthread_create(&w->threads[w->n_threads], NULL, worker_main, w);
                if (r != 0)
                        return -r;
        }

        *ret = TAKE_PTR(w);
        return 0;
}

Workers *workers_free(Workers *w) {
        WorkItem *item;

        if (!w)
                return NULL;

        pthread_mutex_lock(&w->lock);
        w->stop = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);

        /* Items still queued are run by the workers before they notice the stop flag: their
         * callers expect a reply or at least a completion. The threads exit once idle. */
        for (unsigned i = 0; i < w->n_threads; i++)
                (void) pthread_join(w->threads[i], NULL);

        (void) workers_complete(w, UINT32_MAX);
        while ((item = list_pop(&w->queue_head, &w->queue_tail)))
                item->complete(item);   /* only when no thread could be started */

        sd_event_source_disable_unref(w->source);
        safe_close(w->efd);
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->cond);
        free(w->threads);
        return mfree(w);
}

int workers_submit(Workers *w, WorkItem *item) {
        assert(w);
        assert(item);
        assert(item->run);
        assert(item->complete);

        pthread_mutex_lock(&w->lock);
        list_append(&w->queue_head, &w->queue_tail, item);
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
