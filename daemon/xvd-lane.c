/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-log.h"
#include "xvd-client.h"
#include "xvd-events.h"
#include "xvd-lane.h"
#include "xvd-manager.h"

typedef struct LaneTask LaneTask;
struct LaneTask {
        LaneTask *next;
        LaneTaskFunc f;
        void *userdata;
};

struct Lane {
        Manager *manager;
        Lane *main_lane;                /* lane 0, which hears about idleness */
        unsigned index;
        sd_event *event;
        pthread_t thread;
        bool started;
        atomic_bool stop;

        /* The mailbox: tasks from other threads, and the eventfd that wakes the loop for them. */
        int wake_fd;
        sd_event_source *wake_source;
        pthread_mutex_t lock;
        LaneTask *tasks_head, *tasks_tail;

        WorkersDone *done;

        /* The connections' sockets, on an epoll set of the lane's own (see on_clients_ready()). */
        int clients_epoll;
        sd_event_source *clients_source;

        /* Lane thread only. */
        Client **clients;               /* each holds one reference */
        size_t n_clients;
        size_t clients_allocated;
        sd_event_source *keepalive_timer;
        uint64_t keepalive_interval;
        unsigned keepalive_count;
        bool exiting;

        atomic_bool busy;               /* lanes 1..: replies still queued during shutdown */
};

unsigned lane_get_index(Lane *l) {
        return l->index;
}

sd_event *lane_get_event(Lane *l) {
        return l->event;
}

WorkersDone *lane_get_done(Lane *l) {
        return l ? l->done : NULL;
}

void lane_set_done(Lane *l, WorkersDone *d) {
        l->done = d;
}

size_t lane_get_n_clients(Lane *l) {
        return l->n_clients;
}

Client *lane_get_client(Lane *l, size_t i) {
        return i < l->n_clients ? l->clients[i] : NULL;
}

static LaneTask *lane_take_tasks(Lane *l) {
        LaneTask *t;

        pthread_mutex_lock(&l->lock);
        t = l->tasks_head;
        l->tasks_head = l->tasks_tail = NULL;
        pthread_mutex_unlock(&l->lock);
        return t;
}

static void lane_run_tasks(Lane *l) {
        LaneTask *t = lane_take_tasks(l);

        while (t) {
                LaneTask *next = t->next;

                t->f(l, t->userdata);
                free(t);
                t = next;
        }
}

static int on_wake(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Lane *l = userdata;
        uint64_t v;

        /* Resets the counter; EAGAIN only means another wakeup got here first. */
        if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN && errno != EINTR)
                log_debug_errno(-errno, "Cannot read the wakeup eventfd of lane %u: %m", l->index);
        lane_run_tasks(l);
        if (atomic_load(&l->stop))
                (void) sd_event_exit(l->event, 0);
        return 0;
}

static void lane_wake(Lane *l) {
        uint64_t one = 1;

        /* A full counter (impossible in practice) still leaves the eventfd readable. */
        if (write(l->wake_fd, &one, sizeof(one)) < 0)
                log_debug_errno(-errno, "Cannot wake lane %u: %m", l->index);
}

int lane_post(Lane *l, LaneTaskFunc f, void *userdata) {
        LaneTask *t;

        assert(l);
        assert(f);

        t = new0(LaneTask, 1);
        if (!t)
                return -ENOMEM;
        t->f = f;
        t->userdata = userdata;

        pthread_mutex_lock(&l->lock);
        if (l->tasks_tail)
                l->tasks_tail->next = t;
        else
                l->tasks_head = t;
        l->tasks_tail = t;
        pthread_mutex_unlock(&l->lock);

        lane_wake(l);
        return 0;
}

/* Every connection that is ready, in one dispatch of the lane's loop. sd-event makes one
 * epoll_wait() per source it dispatches (and more work per iteration: preparing, timers); with
 * each socket a source of its own, a lane with many busy connections paid that per call. The
 * sockets are edge-triggered here (see client_read()), so each one comes once per arrival of data;
 * when more than LANE_READY_MAX are ready, the set stays readable and the loop comes back. */
static int on_clients_ready(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct epoll_event ev[LANE_READY_MAX];
        Lane *l = userdata;
        int n;

        n = epoll_wait(fd, ev, LANE_READY_MAX, 0);
        if (n < 0) {
                if (errno != EINTR)
                        log_debug_errno(-errno, "Cannot read the connections of lane %u: %m", l->index);
                return 0;
        }
        /* A connection may end another one of this batch (and drop the lane's reference): hold
         * each one until the batch is done. */
        for (int i = 0; i < n; i++)
                client_ref(ev[i].data.ptr);
        for (int i = 0; i < n; i++)
                client_on_io(ev[i].data.ptr, ev[i].events);
        for (int i = 0; i < n; i++)
                client_unref(ev[i].data.ptr);
        return 0;
}

int lane_watch_client(Lane *l, Client *c, int fd, uint32_t events) {
        struct epoll_event ev = { .events = events, .data.ptr = c };

        assert(l);
        assert(fd >= 0);

        if (events == 0) {
                if (epoll_ctl(l->clients_epoll, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != ENOENT)
                        return -errno;
                return 0;
        }
        if (epoll_ctl(l->clients_epoll, EPOLL_CTL_MOD, fd, &ev) >= 0)
                return 0;
        if (errno != ENOENT || epoll_ctl(l->clients_epoll, EPOLL_CTL_ADD, fd, &ev) < 0)
                return -errno;
        return 0;
}

int lane_new(Manager *m, unsigned index, sd_event *e, Lane **ret) {
        _cleanup_(lane_freep) Lane *l = NULL;
        int r;

        assert(m);
        assert(ret);
        assert(index < LANES_MAX);
        assert((index == 0) == !!e);

        l = new0(Lane, 1);
        if (!l)
                return -ENOMEM;
        l->manager = m;
        l->index = index;
        l->main_lane = index == 0 ? l : manager_get_lane(m, 0);
        assert(l->main_lane);
        l->wake_fd = -EBADF;
        l->clients_epoll = -EBADF;
        pthread_mutex_init(&l->lock, NULL);
        /* Until it has seen the shutdown, a lane may have replies to write. */
        atomic_init(&l->busy, index > 0);
        atomic_init(&l->stop, false);

        if (e)
                l->event = sd_event_ref(e);
        else {
                r = sd_event_new(&l->event);
                if (r < 0)
                        return r;
        }

        l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (l->wake_fd < 0)
                return -errno;
        r = sd_event_add_io(l->event, &l->wake_source, l->wake_fd, EPOLLIN, on_wake, l);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(l->wake_source, "lane-wake");

        l->clients_epoll = epoll_create1(EPOLL_CLOEXEC);
        if (l->clients_epoll < 0)
                return -errno;
        r = sd_event_add_io(l->event, &l->clients_source, l->clients_epoll, EPOLLIN, on_clients_ready, l);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(l->clients_source, "lane-clients");

        *ret = TAKE_PTR(l);
        return 0;
}

static void *lane_main(void *userdata) {
        Lane *l = userdata;
        char name[16];
        int r;

        (void) snprintf(name, sizeof(name), "xvd-lane%u", l->index);
        (void) pthread_setname_np(pthread_self(), name);

        r = sd_event_loop(l->event);
        if (r < 0)
                log_error_errno(r, "The event loop of lane %u failed: %m", l->index);
        return NULL;
}

int lane_start(Lane *l) {
        int r;

        assert(l->index > 0);
        assert(!l->started);

        /* The thread inherits the caller's signal mask: the main loop's signals stay blocked. */
        r = pthread_create(&l->thread, NULL, lane_main, l);
        if (r != 0)
                return -r;
        l->started = true;
        return 0;
}

void lane_stop(Lane *l) {
        if (!l || !l->started)
                return;
        atomic_store(&l->stop, true);
        lane_wake(l);
        (void) pthread_join(l->thread, NULL);
        l->started = false;
}

Lane *lane_free(Lane *l) {
        if (!l)
                return NULL;

        assert(!l->started);

        /* The thread is gone: what it did not get to runs here, then the connections close. */
        lane_run_tasks(l);
        while (l->n_clients > 0) {
                Client *c = client_ref(l->clients[l->n_clients - 1]);

                client_disconnect(c);   /* drops the lane's reference */
                if (l->n_clients > 0 && l->clients[l->n_clients - 1] == c)
                        lane_remove_client(l, c);
                client_unref(c);
        }
        lane_run_tasks(l);
        free(l->clients);

        sd_event_source_disable_unref(l->keepalive_timer);
        sd_event_source_disable_unref(l->wake_source);
        safe_close(l->wake_fd);
        sd_event_source_disable_unref(l->clients_source);
        safe_close(l->clients_epoll);
        sd_event_unref(l->event);
        pthread_mutex_destroy(&l->lock);
        return mfree(l);
}

/* ---- connections ---------------------------------------------------------------------------- */

static void lane_attach(Lane *l, Client *c) {
        int r;

        /* The client belongs to the lane from here on, even when this fails. */
        r = client_attach(c, l);
        if (r >= 0)
                r = GREEDY_REALLOC(l->clients, l->clients_allocated, l->n_clients + 1);
        if (r < 0) {
                log_warning_errno(r, "Cannot set up a new connection on lane %u: %m", l->index);
                client_disconnect(c);
                client_unref(c);
                return;
        }
        l->clients[l->n_clients++] = c;         /* the caller's reference */
        if (l->exiting)
                client_stop_reading(c);
}

static void task_adopt(Lane *l, void *userdata) {
        lane_attach(l, userdata);
}

void lane_adopt_client(Lane *l, Client *c) {
        if (l->index == 0) {
                lane_attach(l, c);
                return;
        }
        if (lane_post(l, task_adopt, c) < 0) {
                client_disconnect(c);
                client_unref(c);
        }
}

void lane_remove_client(Lane *l, Client *c) {
        for (size_t i = 0; i < l->n_clients; i++)
                if (l->clients[i] == c) {
                        memmove(l->clients + i, l->clients + i + 1, (l->n_clients - i - 1) * sizeof(Client *));
                        l->n_clients--;
                        client_unref(c);
                        return;
                }
}

/* ---- events --------------------------------------------------------------------------------- */

static void task_event(Lane *l, void *userdata) {
        HvEvent *event = userdata;

        events_deliver(l, event);
        hv_domain_ref_done(&event->ref);
        free(event);
}

void lane_broadcast_event(Lane *l, const HvEvent *event) {
        HvEvent *copy;

        if (l->index == 0) {
                events_deliver(l, event);
                return;
        }

        copy = new0(HvEvent, 1);
        if (!copy || hv_domain_ref_copy(&event->ref, &copy->ref) < 0) {
                free(copy);
                log_warning("Cannot pass an event to lane %u: out of memory.", l->index);
                return;
        }
        copy->event = event->event;
        copy->detail = event->detail;
        if (lane_post(l, task_event, copy) < 0) {
                hv_domain_ref_done(&copy->ref);
                free(copy);
                log_warning("Cannot pass an event to lane %u: out of memory.", l->index);
        }
}

/* ---- keepalive ------------------------------------------------------------------------------ */

static int on_keepalive(sd_event_source *s, uint64_t usec, void *userdata) {
        Lane *l = userdata;
        size_t i = 0;

        while (i < l->n_clients) {
                Client *c = l->clients[i];

                client_keepalive_tick(c, usec, l->keepalive_interval, l->keepalive_count);
                /* A dropped client left the array: the same index now holds the next one. */
                if (i < l->n_clients && l->clients[i] == c)
                        i++;
        }

        if (l->keepalive_interval > 0)
                (void) sd_event_source_set_time(s, usec + l->keepalive_interval);
        return 0;
}

static void lane_apply_keepalive(Lane *l, uint64_t interval_usec, unsigned count) {
        int r;

        l->keepalive_interval = interval_usec;
        l->keepalive_count = count;
        if (interval_usec == 0) {
                if (l->keepalive_timer)
                        (void) sd_event_source_set_enabled(l->keepalive_timer, SD_EVENT_OFF);
                return;
        }
        if (!l->keepalive_timer) {
                r = sd_event_add_time_relative(l->event, &l->keepalive_timer, CLOCK_MONOTONIC, interval_usec, 0,
                                               on_keepalive, l);
                if (r < 0) {
                        log_warning_errno(r, "Cannot set up the keepalive timer of lane %u: %m", l->index);
                        return;
                }
                (void) sd_event_source_set_description(l->keepalive_timer, "keepalive");
        } else
                (void) sd_event_source_set_time_relative(l->keepalive_timer, interval_usec);
        (void) sd_event_source_set_enabled(l->keepalive_timer, SD_EVENT_ON);
}

typedef struct KeepaliveSetting {
        uint64_t interval_usec;
        unsigned count;
} KeepaliveSetting;

static void task_keepalive(Lane *l, void *userdata) {
        KeepaliveSetting *k = userdata;

        lane_apply_keepalive(l, k->interval_usec, k->count);
        free(k);
}

void lane_set_keepalive(Lane *l, uint64_t interval_usec, unsigned count) {
        KeepaliveSetting *k;

        if (l->index == 0) {
                lane_apply_keepalive(l, interval_usec, count);
                return;
        }
        k = new(KeepaliveSetting, 1);
        if (!k) {
                log_warning("Cannot pass the keepalive setting to lane %u: out of memory.", l->index);
                return;
        }
        *k = (KeepaliveSetting) { .interval_usec = interval_usec, .count = count };
        if (lane_post(l, task_keepalive, k) < 0) {
                free(k);
                log_warning("Cannot pass the keepalive setting to lane %u: out of memory.", l->index);
        }
}

/* ---- shutdown ------------------------------------------------------------------------------- */

static void task_shutdown(Lane *l, void *userdata) {
        l->exiting = true;
        for (size_t i = 0; i < l->n_clients; i++)
                client_stop_reading(l->clients[i]);
        lane_check_idle(l);
}

void lane_begin_shutdown(Lane *l) {
        if (l->index == 0) {
                task_shutdown(l, NULL);
                return;
        }
        if (lane_post(l, task_shutdown, NULL) < 0)
                /* Without the task the lane never reports idle: the shutdown timeout ends it. */
                log_warning("Cannot pass the shutdown to lane %u: out of memory.", l->index);
}

static void task_main_check_idle(Lane *l, void *userdata) {
        manager_check_idle(l->manager);
}

void lane_check_idle(Lane *l) {
        if (l->index == 0) {
                manager_check_idle(l->manager);
                return;
        }
        if (!l->exiting)
                return;
        for (size_t i = 0; i < l->n_clients; i++)
                if (client_has_pending_output(l->clients[i])) {
                        atomic_store(&l->busy, true);
                        return;
                }
        atomic_store(&l->busy, false);
        /* The main loop decides, with the calls in flight and the other lanes. */
        (void) lane_post(l->main_lane, task_main_check_idle, NULL);
}

void lane_note_output(Lane *l) {
        if (l && l->index > 0 && l->exiting)
                atomic_store(&l->busy, true);
}

bool lane_is_busy(Lane *l) {
        return l->index > 0 && atomic_load(&l->busy);
}
