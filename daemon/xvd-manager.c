/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-fileio.h"
#include "xv-log.h"
#include "xv-xend-http.h"
#include "xvd-client.h"
#include "xvd-config.h"
#include "xvd-events.h"
#include "xvd-lane.h"
#include "xvd-listener.h"
#include "xvd-manager.h"
#include "xvd-polkit.h"
#include "xvd-workers.h"

/* Connections beyond max_clients that still get their "too many clients" answer; past this they
 * are closed at once, so that a connect storm costs no memory. */
#define MANAGER_REFUSED_CLIENTS_MAX     16u
/* How long a SIGTERM waits for calls in flight and queued replies before exiting anyway. */
#define MANAGER_SHUTDOWN_TIMEOUT_USEC   (20ULL * 1000000ULL)
/* Per XenD request; shorter than half of the unit's WatchdogSec= (the loop never waits on it). */
#define USEC_PER_SEC                    1000000ULL

struct Manager {
        sd_event *event;
        XvHypervisor *hypervisor;
        Config config;
        char *config_path;
        bool config_path_explicit;
        bool debug;

        Listener *listeners[LISTENERS_MAX];
        unsigned n_listeners;

        /* The lanes own the clients; the count covers all of them, refused ones included. */
        Lane *lanes[LANES_MAX];
        unsigned n_lanes;
        unsigned next_lane;             /* round robin over the lanes */
        atomic_size_t n_clients;

        Workers *workers;
        Polkit *polkit;
        sd_event_source *event_source;
        sd_event_source *shutdown_timer;
        sd_event_source *sigterm, *sigint, *sighup;

        atomic_uint next_callback_id;
        bool exiting;
        bool pid_file_written;
};

XvHypervisor *manager_get_hypervisor(Manager *m) {
        return m->hypervisor;
}

sd_event *manager_get_event(Manager *m) {
        return m->event;
}

const Config *manager_get_config(Manager *m) {
        return &m->config;
}

Polkit *manager_get_polkit(Manager *m) {
        return m->polkit;
}

Workers *manager_get_workers(Manager *m) {
        return m->workers;
}

bool manager_is_exiting(Manager *m) {
        return m->exiting;
}

int manager_next_callback_id(Manager *m) {
        /* Wrapping after 2^31 registrations would reuse ids of long-gone callbacks: harmless. */
        return (int) (atomic_fetch_add(&m->next_callback_id, 1) & INT32_MAX);
}

Lane *manager_get_lane(Manager *m, unsigned index) {
        return index < m->n_lanes ? m->lanes[index] : NULL;
}

int manager_new(Config *config, const char *config_path, bool config_path_explicit, bool debug, Manager **ret) {
        Manager *m;

        m = new0(Manager, 1);
        if (!m)
                return -ENOMEM;
        m->config = *config;
        config_init(config);
        m->debug = debug;
        m->config_path_explicit = config_path_explicit;
        if (config_path && !(m->config_path = strdup(config_path))) {
                config_done(&m->config);
                free(m);
                return -ENOMEM;
        }
        *ret = m;
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;

        /* The lanes' threads end first: from here on, this thread owns every client. */
        for (unsigned i = 1; i < m->n_lanes; i++)
                lane_stop(m->lanes[i]);

        for (unsigned i = 0; i < m->n_listeners; i++)
                listener_free(m->listeners[i]);
        m->n_listeners = 0;

        /* Workers next: their completions still refer to clients. */
        m->workers = workers_free(m->workers);

        /* Lane 0 last: the others may still post to it while their clients go. */
        for (unsigned i = m->n_lanes; i > 0; i--)
                m->lanes[i - 1] = lane_free(m->lanes[i - 1]);
        m->n_lanes = 0;
        m->polkit = polkit_free(m->polkit);

        sd_event_source_disable_unref(m->event_source);
        sd_event_source_disable_unref(m->shutdown_timer);
        sd_event_source_disable_unref(m->sigterm);
        sd_event_source_disable_unref(m->sigint);
        sd_event_source_disable_unref(m->sighup);
        hypervisor_close(m->hypervisor);
        sd_event_unref(m->event);

        if (m->pid_file_written && m->config.pid_file)
                (void) unlink(m->config.pid_file);
        config_done(&m->config);
        free(m->config_path);
        return mfree(m);
}

Client *manager_first_client(Manager *m) {
        return m->n_lanes > 0 ? lane_get_client(m->lanes[0], 0) : NULL;
}

Client *manager_next_client(Manager *m, Client *c) {
        Lane *l = m->n_lanes > 0 ? m->lanes[0] : NULL;

        for (size_t i = 0; l && i < lane_get_n_clients(l); i++)
                if (lane_get_client(l, i) == c)
                        return lane_get_client(l, i + 1);
        return NULL;
}

/* Polkit's bus and the refusal's bookkeeping live on the main loop: such clients stay on lane 0.
 * The others go round robin over all lanes. */
static Lane *manager_pick_lane(Manager *m, Client *c) {
        if (m->n_lanes <= 1 || client_is_refused(c) || client_needs_polkit(c))
                return m->lanes[0];
        m->next_lane = (m->next_lane + 1) % m->n_lanes;
        return m->lanes[m->next_lane];
}

int manager_add_client(Manager *m, int fd, bool read_only) {
        Client *c = NULL;
        size_t n = atomic_load(&m->n_clients);
        int r;

        assert(m->n_lanes > 0);

        if (m->exiting || n >= m->config.max_clients + MANAGER_REFUSED_CLIENTS_MAX) {
                safe_close(fd);
                return -EBUSY;
        }

        r = client_new(m, fd, read_only, &c);
        if (r < 0) {
                safe_close(fd);
                return log_warning_errno(r, "Cannot set up a new connection: %m");
        }

        if (n >= m->config.max_clients) {
                log_warning("Too many clients (limit %u): refusing %s.", m->config.max_clients,
                            client_get_description(c));
                client_set_refused(c);
        } else
                log_debug("New client %s.", client_get_description(c));

        /* Counted from now on; client_disconnect() uncounts it, on whichever thread. */
        atomic_fetch_add(&m->n_clients, 1);
        lane_adopt_client(manager_pick_lane(m, c), c);
        return 0;
}

void manager_remove_client(Manager *m, Client *c) {
        Lane *l = client_get_lane(c);

        assert(atomic_load(&m->n_clients) > 0);
        atomic_fetch_sub(&m->n_clients, 1);
        if (!l) {
                manager_check_idle(m);  /* never attached: still on the main loop */
                return;
        }
        lane_remove_client(l, c);
        lane_check_idle(l);
}

void manager_check_idle(Manager *m) {
        Lane *l0;

        if (!m->exiting)
                return;
        if (workers_get_pending(m->workers) > 0)
                return;
        l0 = m->n_lanes > 0 ? m->lanes[0] : NULL;
        for (size_t i = 0; l0 && i < lane_get_n_clients(l0); i++)
                if (client_has_pending_output(lane_get_client(l0, i)))
                        return;
        for (unsigned i = 1; i < m->n_lanes; i++)
                if (m->lanes[i] && lane_is_busy(m->lanes[i]))
                        return;
        (void) sd_event_exit(m->event, 0);
}

void manager_notify_status(Manager *m) {
        HvStatus st = {};
        char xend[64] = "";

        if (m->hypervisor)
                hypervisor_get_status(m->hypervisor, &st);
        /* XenD is a channel of the xend backend only. */
        if (streq_ptr(st.backend, "xend"))
                (void) snprintf(xend, sizeof(xend), "xend %s (config version %d), ",
                                st.xend_ok ? "up" : "down", st.xend_config_version);
        (void) sd_notifyf(false, "STATUS=%s; backend %s; %sxenstore %s, hypercalls %s%s%s%s; %zu client(s)",
                          m->exiting ? "Shutting down" : "Serving", st.backend ?: "none", xend,
                          st.xenstore_ok ? "up" : "down", st.hypercalls_ok ? "up" : "down",
                          st.xm_dir_active ? ", XM directory active" : "",
                          m->config.auth_unix_rw == CONFIG_AUTH_POLKIT || m->config.auth_unix_ro == CONFIG_AUTH_POLKIT ?
                          ", polkit auth" : "",
                          m->config.access_polkit ? ", polkit ACLs" : "", atomic_load(&m->n_clients));
}

static int on_shutdown_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        log_warning("Calls still in flight after %llu s, exiting anyway.",
                    (unsigned long long) (MANAGER_SHUTDOWN_TIMEOUT_USEC / USEC_PER_SEC));
        return sd_event_exit(m->event, 0);
}

static void manager_begin_shutdown(Manager *m) {
        if (m->exiting)
                return;
        m->exiting = true;
        log_info("Shutting down: finishing %u call(s) in flight.", workers_get_pending(m->workers));
        (void) sd_notify(false, "STOPPING=1");

        for (unsigned i = 0; i < m->n_listeners; i++)
                listener_set_enabled(m->listeners[i], false);

        (void) sd_event_add_time_relative(m->event, &m->shutdown_timer, CLOCK_MONOTONIC,
                                          MANAGER_SHUTDOWN_TIMEOUT_USEC, 0, on_shutdown_timeout, m);
        /* Every lane stops reading; lane 0 (this thread) at once, which also checks for idle. */
        for (unsigned i = m->n_lanes; i > 0; i--)
                lane_begin_shutdown(m->lanes[i - 1]);
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        manager_begin_shutdown(userdata);
        return 0;
}

static int manager_arm_keepalive(Manager *m);

static void manager_reload(Manager *m) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        Config fresh;
        int r;

        (void) sd_notify(false, "RELOADING=1");
        config_init(&fresh);
        r = m->config_path ? config_load_file(&fresh, m->config_path, !m->config_path_explicit, &error) : 0;
        if (r < 0)
                log_error("Reloading the configuration failed, keeping the old one: %s",
                          error.message ?: strerror(-r));
        else {
                config_apply_reloadable(&m->config, &fresh);
                log_set_max_level(m->debug ? LOG_DEBUG : m->config.log_level);
                (void) manager_arm_keepalive(m);
                log_info("Configuration reloaded.");
        }
        config_done(&fresh);
        (void) sd_notify(false, "READY=1");
        manager_notify_status(m);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        manager_reload(userdata);
        return 0;
}

/* Each lane pings its own clients, on its own timer. */
static int manager_arm_keepalive(Manager *m) {
        uint64_t interval = (uint64_t) m->config.keepalive_interval * USEC_PER_SEC;

        for (unsigned i = 0; i < m->n_lanes; i++)
                lane_set_keepalive(m->lanes[i], interval, m->config.keepalive_count);
        return 0;
}

static void on_workers_idle(void *userdata) {
        manager_check_idle(userdata);
}

static void on_lane_workers_idle(void *userdata) {
        lane_check_idle(userdata);
}

/* The I/O lanes beyond lane 0: io_threads of them in all, 0 meaning one per two online CPUs (at
 * least one). The clients of a local socket run on the same CPUs, and every call wakes one of
 * their threads: lanes on every CPU crowd them out. On 2 CPUs with 64 connections (rpcbench
 * concurrency, N = 1000), one lane served 31,000 lookup+getinfo/s with a p99 of 2.9 ms, two lanes
 * 32,500/s with a p99 of 4.7-5.1 ms. */
static int manager_start_lanes(Manager *m) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        unsigned n = m->config.io_threads;
        int r;

        if (n == 0)
                n = cpus > 1 ? (unsigned) MIN(cpus / 2, (long) LANES_MAX) : 1u;
        n = MIN(n, LANES_MAX);

        while (m->n_lanes < n) {
                _cleanup_(lane_freep) Lane *l = NULL;
                WorkersDone *done;

                r = lane_new(m, m->n_lanes, NULL, &l);
                if (r < 0)
                        return r;
                r = workers_add_done(m->workers, lane_get_event(l), on_lane_workers_idle, l, &done);
                if (r < 0)
                        return r;
                lane_set_done(l, done);
                r = lane_start(l);
                if (r < 0)
                        return r;
                m->lanes[m->n_lanes++] = TAKE_PTR(l);
        }
        log_debug("Serving connections on %u I/O lane(s).", m->n_lanes);
        return 0;
}

static int manager_open_listeners(Manager *m, XvError *error) {
        int n, r;

        n = listeners_from_activation(m, m->listeners, error);
        if (n < 0) {
                for (unsigned i = 0; i < LISTENERS_MAX; i++)
                        m->listeners[i] = listener_free(m->listeners[i]);
                return n;
        }
        if (n > 0) {
                m->n_listeners = (unsigned) n;
                log_debug("Socket-activated with %d socket(s).", n);
                return 0;
        }

        r = listener_bind(m, m->config.rw_socket, false, config_get_rw_perms(&m->config), &m->listeners[0], error);
        if (r < 0)
                return r;
        m->n_listeners = 1;
        r = listener_bind(m, m->config.ro_socket, true, m->config.unix_sock_ro_perms, &m->listeners[1], error);
        if (r < 0)
                return r;
        m->n_listeners = 2;
        return 0;
}

static int manager_write_pid_file(Manager *m, XvError *error) {
        char buf[32];
        int r;

        if (!m->config.pid_file)
                return 0;
        (void) snprintf(buf, sizeof(buf), "%d\n", (int) getpid());
        r = write_file_atomic(m->config.pid_file, buf, strlen(buf), 0644);
        if (r < 0)
                return xv_error_set_errnof(error, r, "cannot write PID file '%s'", m->config.pid_file);
        m->pid_file_written = true;
        return 0;
}

/* The startup checks: one warning per channel that is down, with what usually causes it. The
 * daemon serves anyway: the backend reconnects by itself and calls fail clearly meanwhile. */
static void manager_log_channel_states(Manager *m) {
        HvStatus st = {};

        if (geteuid() != 0)
                log_warning("xenvirtd runs as uid %u, not root: hypercalls, xenstore and XenD's socket "
                            "normally need root.", (unsigned) geteuid());

        hypervisor_get_status(m->hypervisor, &st);
        log_info("Backend: %s", st.backend ?: "none");
        if (streq_ptr(st.backend, "xend") && !st.xend_ok)
                log_warning("XenD is not reachable at '%s': calls that need it fail until it answers. "
                            "Is xend running, with (xend-unix-server yes) in /etc/xen/xend-config.sxp?",
                            m->config.xend_socket ?: XEND_SOCKET_DEFAULT);
        if (!st.xenstore_ok)
                log_warning("xenstored is not reachable at '%s': retrying in the background.",
                            getenv("XENSTORED_PATH") ?: "/var/run/xenstored/socket");
        if (!st.hypercalls_ok)
                log_warning("Hypercalls are not available%s.",
                            access("/dev/xen/privcmd", F_OK) < 0 && access("/proc/xen/privcmd", F_OK) < 0 ?
                            ": neither /dev/xen/privcmd nor /proc/xen/privcmd exists (not a Xen dom0, or "
                            "the xen-privcmd module is not loaded)" : "");
}

int manager_setup(Manager *m, XvError *error) {
        HvConfig hv = {
                .backend = m->config.backend,
                .xend_socket = m->config.xend_socket,
                .xend_timeout_usec = (uint64_t) m->config.xend_timeout * USEC_PER_SEC,
                .xm_dir = m->config.xm_dir,
                .host_root = m->config.host_root,
                .managed_save_dir = m->config.managed_save_dir,
                .xl_dir = m->config.xl_config_dir,
        };
        int r;

        r = sd_event_default(&m->event);
        if (r < 0)
                return xv_error_set_errnof(error, r, "cannot create the event loop");

        r = lane_new(m, 0, m->event, &m->lanes[0]);
        if (r < 0)
                return xv_error_set_errnof(error, r, "cannot set up the main loop's lane");
        m->n_lanes = 1;

        /* Always there: the bus is only opened by the first check. */
        r = polkit_new(m->event, &m->polkit);
        if (r < 0)
                return xv_error_set_errnof(error, r, "cannot set up polkit");

        r = hypervisor_open(&hv, &m->hypervisor, error);
        if (r < 0)
                return r;
        manager_log_channel_states(m);

        r = events_attach(m, m->hypervisor, &m->event_source);
        if (r < 0)
                return xv_error_set_errnof(error, r, "cannot watch backend events");
        return 0;
}

int manager_startup(Manager *m, XvError *error) {
        int r;

        r = manager_setup(m, error);
        if (r < 0)
                return r;

        /* The signals are blocked by run() before any thread exists, so they arrive here only. */
        r = sd_event_add_signal(m->event, &m->sigterm, SIGTERM, on_sigterm, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sigint, SIGINT, on_sigterm, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sighup, SIGHUP, on_sighup, m);
        if (r < 0)
                return xv_error_set_errnof(error, r, "cannot watch signals");

        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                log_warning_errno(r, "Cannot set up the watchdog, ignoring: %m");

        r = manager_open_listeners(m, error);
        if (r < 0)
                return r;

        r = workers_new(m->event, m->config.max_workers, &m->workers);
        if (r < 0)
                return xv_error_set_errnof(error, r, "cannot start %u worker threads", m->config.max_workers);
        workers_set_idle_callback(m->workers, on_workers_idle, m);

        r = manager_start_lanes(m);
        if (r < 0)
                return xv_error_set_errnof(error, r, "cannot start the I/O lanes");

        r = manager_arm_keepalive(m);
        if (r < 0)
                return xv_error_set_errnof(error, r, "cannot set up the keepalive timer");

        return manager_write_pid_file(m, error);
}

int manager_run(Manager *m) {
        int r;

        (void) sd_notify(false, "READY=1");
        manager_notify_status(m);
        log_info("xenvirtd " PACKAGE_VERSION " ready.");

        r = sd_event_loop(m->event);

        m->exiting = true;
        (void) sd_notify(false, "STOPPING=1");
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        log_info("xenvirtd stopped.");
        return 0;
}
