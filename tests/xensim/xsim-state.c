/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "xsim-state.h"
#include "xv-alloc.h"
#include "xv-parse-util.h"
#include "xv-sexpr.h"

/* The simulated machine: 8 cpus on 2 NUMA nodes, 32 GiB, of which Domain-0 holds 2 GiB. */
#define XSIM_HOST_CPUS          8
#define XSIM_HOST_NODES         2
#define XSIM_HOST_MEMORY_KIB    (UINT64_C(32) * 1024 * 1024)
#define XSIM_DOM0_MEMORY_KIB    (UINT64_C(2) * 1024 * 1024)
#define XSIM_DOM0_MAX_VCPUS     XSIM_HOST_CPUS
#define XSIM_ACTION_DELAY_MS    20      /* XenD reacted to a shutdown within a few milliseconds */
#define XSIM_MEMORY_MIN_KIB     1024    /* the smallest domain Xen would build */

static const char *const run_state_names[_XSIM_RUN_STATE_MAX] = {
        [XSIM_STATE_RUNNING] = "running",
        [XSIM_STATE_PAUSED] = "paused",
        [XSIM_STATE_SHUTDOWN] = "shutdown",
        [XSIM_STATE_CRASHED] = "crashed",
        [XSIM_STATE_DYING] = "dying",
        [XSIM_STATE_HALTED] = "halted",
};

const char *xsim_run_state_to_string(XsimRunState s) {
        if ((unsigned) s >= _XSIM_RUN_STATE_MAX)
                return NULL;
        return run_state_names[s];
}

static uint64_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000) + (uint64_t) ts.tv_nsec / 1000;
}

static bool domain_is_active(const XsimDomain *d) {
        return d->domid >= 0;
}

static uint64_t host_cpu_mask(const XsimHost *host) {
        if (host->nr_cpus >= 64)
                return UINT64_MAX;
        return (UINT64_C(1) << host->nr_cpus) - 1;
}

void xsim_host_emit(XsimHost *host, XsimEvent event, XsimDomain *d) {
        for (size_t i = 0; i < host->n_listeners; i++)
                host->listeners[i](host, event, d, host->listener_data[i]);
}

int xsim_host_add_listener(XsimHost *host, XsimListener listener, void *userdata) {
        if (!host || !listener)
                return -EINVAL;
        if (host->n_listeners >= ELEMENTSOF(host->listeners))
                return -ENOSPC;
        host->listeners[host->n_listeners] = listener;
        host->listener_data[host->n_listeners] = userdata;
        host->n_listeners++;
        return 0;
}

static XsimDomain *domain_free(XsimDomain *d) {
        if (!d)
                return NULL;
        sd_event_source_disable_unref(d->action_source);
        free(d->name);
        sexpr_free(d->config);
        free(d->on_poweroff);
        free(d->on_reboot);
        free(d->on_crash);
        return mfree(d);
}
DEFINE_CLEANUP_FUNC(XsimDomain *, domain_free);

/* Removes @d from the host's array and frees it. */
static void host_remove_domain(XsimHost *host, XsimDomain *d) {
        for (size_t i = 0; i < host->n_domains; i++)
                if (host->domains[i] == d) {
                        memmove(host->domains + i, host->domains + i + 1,
                                (host->n_domains - i - 1) * sizeof(XsimDomain *));
                        host->n_domains--;
                        break;
                }
        domain_free(d);
}

static int host_add_domain(XsimHost *host, XsimDomain *d) {
        XsimDomain **a;

        if (host->n_domains >= XSIM_DOMAINS_MAX)
                return -ENOSPC;
        a = reallocarray(host->domains, host->n_domains + 1, sizeof(XsimDomain *));
        if (!a)
                return -ENOMEM;
        host->domains = a;
        host->domains[host->n_domains++] = d;
        return 0;
}

/* host_add_domain()'s limit, worded, for the callers to ask before they change anything. */
static int check_host_room(XsimHost *host, XvError *error) {
        if (host->n_domains >= XSIM_DOMAINS_MAX)
                return xv_error_setf(error, XVP_ERR_OPERATION_FAILED, "Too many domains (at most %u)",
                                     XSIM_DOMAINS_MAX);
        return 0;
}

/* Places the vcpus on physical cpus: vcpu i goes to the i-th allowed cpu, round robin. */
static void domain_place_vcpus(XsimDomain *d) {
        unsigned nr = MAX(d->host->nr_cpus, 1u);

        for (unsigned i = 0; i < d->max_vcpus; i++) {
                uint64_t mask = d->vcpus[i].affinity & host_cpu_mask(d->host);
                unsigned n_allowed = (unsigned) __builtin_popcountll(mask), pick, k = 0;

                if (n_allowed == 0) {
                        d->vcpus[i].cpu = (int) (i % nr);
                        continue;
                }
                pick = i % n_allowed;
                for (unsigned c = 0; c < 64; c++)
                        if (mask & (UINT64_C(1) << c)) {
                                if (k == pick) {
                                        d->vcpus[i].cpu = (int) c;
                                        break;
                                }
                                k++;
                        }
        }
}

static int domain_set_actions_from_config(XsimDomain *d) {
        static const char *const keys[] = { "on_poweroff", "on_reboot", "on_crash" };
        static const char *const defaults[] = { "destroy", "restart", "restart" };
        char **fields[] = { &d->on_poweroff, &d->on_reboot, &d->on_crash };
        const char *head = sexpr_head(d->config);
        int r;

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const char *v = NULL;

                if (head) {
                        char path[64];

                        (void) snprintf(path, sizeof(path), "%s/%s", head, keys[i]);
                        v = sexpr_node(d->config, path);
                }
                r = free_and_strdup(fields[i], isempty(v) ? defaults[i] : v);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int domain_new(XsimHost *host, const char *name, const XvUuid *uuid, bool hvm,
                      uint64_t memory_kib, uint64_t max_memory_kib, unsigned vcpus,
                      XsimDomain **ret, XvError *error) {
        _cleanup_(domain_freep) XsimDomain *d = NULL;
        int r;

        if (isempty(name))
                return xv_error_setf(error, XVP_ERR_NO_NAME, "Domain name is missing");
        if (strlen(name) > 255 || strchr(name, '/'))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid domain name '%s'", name);
        if (vcpus < 1 || vcpus > XSIM_VCPUS_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Invalid number of vcpus %u (must be 1..%u)", vcpus, XSIM_VCPUS_MAX);
        if (max_memory_kib == 0)
                max_memory_kib = memory_kib;
        if (memory_kib < XSIM_MEMORY_MIN_KIB || memory_kib > max_memory_kib ||
            max_memory_kib > host->total_memory_kib)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Invalid memory %" PRIu64 " KiB (maximum %" PRIu64 " KiB)",
                                     memory_kib, max_memory_kib);

        d = new0(XsimDomain, 1);
        if (!d)
                return -ENOMEM;
        d->host = host;
        d->domid = -1;
        d->name = strdup(name);
        if (!d->name)
                return -ENOMEM;
        if (uuid && !uuid_is_zero(uuid))
                d->uuid = *uuid;
        else {
                r = uuid_new_random(&d->uuid);
                if (r < 0)
                        return xv_error_set_errnof(error, r, "Cannot generate a UUID");
        }
        d->hvm = hvm;
        d->state = XSIM_STATE_HALTED;
        d->memory_kib = memory_kib;
        d->max_memory_kib = max_memory_kib;
        d->max_vcpus = vcpus;
        for (unsigned i = 0; i < vcpus; i++) {
                d->vcpus[i].online = true;
                d->vcpus[i].affinity = host_cpu_mask(host);
        }
        domain_place_vcpus(d);
        d->sched_weight = 256;
        d->sched_cap = 0;

        *ret = TAKE_PTR(d);
        return 0;
}

/* Checks that @name and @uuid do not clash with another domain than @self. */
static int check_unique(XsimHost *host, XsimDomain *self, const char *name, const XvUuid *uuid,
                        XvError *error) {
        XsimDomain *o;

        o = xsim_domain_by_name(host, name);
        if (o && o != self) {
                if (domain_is_active(o))
                        return xv_error_setf(error, XVP_ERR_DOM_EXIST,
                                             "Domain '%s' already exists with ID '%d'", name, o->domid);
                return xv_error_setf(error, XVP_ERR_DOM_EXIST, "Domain '%s' already exists", name);
        }
        if (uuid && !uuid_is_zero(uuid)) {
                o = xsim_domain_by_uuid(host, uuid);
                if (o && o != self) {
                        char buf[UUID_STRING_BUF];

                        return xv_error_setf(error, XVP_ERR_DOM_EXIST,
                                             "Domain '%s' already exists with UUID '%s'",
                                             o->name, uuid_format(uuid, buf));
                }
        }
        return 0;
}

static int check_memory_available(XsimDomain *d, XvError *error) {
        uint64_t free_kib = xsim_host_free_memory_kib(d->host);

        if (d->memory_kib > free_kib)
                return xv_error_setf(error, XVP_ERR_OPERATION_FAILED,
                                     "Not enough free memory to start domain '%s': need %" PRIu64
                                     " KiB, %" PRIu64 " KiB free",
                                     d->name, d->memory_kib, free_kib);
        return 0;
}

/* Gives a halted domain a fresh domid, paused, and tells the listeners. */
static int domain_introduce(XsimDomain *d, XsimRunState state) {
        XsimHost *host = d->host;

        if (host->next_domid >= 0x7FF0)         /* DOMID_FIRST_RESERVED: the hypervisor's id space */
                return -ENOSPC;
        d->domid = host->next_domid++;
        d->state = state;
        d->shutdown_reason = XSIM_SHUTDOWN_POWEROFF;
        d->cpu_time_ns = 0;
        for (unsigned i = 0; i < d->max_vcpus; i++)
                d->vcpus[i].cpu_time_ns = 0;
        d->running_since_usec = state == XSIM_STATE_RUNNING ? now_usec() : 0;
        domain_place_vcpus(d);
        xsim_host_emit(host, XSIM_EVENT_INTRODUCED, d);
        return 0;
}

int xsim_host_new(sd_event *event, int xend_config_version, const char *root, XsimHost **ret) {
        _cleanup_(xsim_host_freep) XsimHost *host = NULL;
        _cleanup_(domain_freep) XsimDomain *dom0 = NULL;
        XvUuid zero = {};
        int r;

        if (!ret || xend_config_version < 1 || xend_config_version > 4)
                return -EINVAL;

        host = new0(XsimHost, 1);
        if (!host)
                return -ENOMEM;
        if (event)
                host->event = sd_event_ref(event);
        host->xend_config_version = xend_config_version;
        /* The Xen release that shipped each xend config format (xen-driver.md §2.5). */
        switch (xend_config_version) {
        case 1:
                host->xen_major = 3, host->xen_minor = 0, host->xen_extra = strdup(".2");
                break;
        case 2:
                host->xen_major = 3, host->xen_minor = 0, host->xen_extra = strdup(".3");
                break;
        case 3:
                host->xen_major = 3, host->xen_minor = 0, host->xen_extra = strdup(".4");
                break;
        default:
                host->xen_major = 4, host->xen_minor = 1, host->xen_extra = strdup(".2");
                break;
        }
        if (!host->xen_extra)
                return -ENOMEM;
        host->nr_cpus = XSIM_HOST_CPUS;
        host->nr_nodes = XSIM_HOST_NODES;
        host->sockets_per_node = 1;
        host->cores_per_socket = XSIM_HOST_CPUS / XSIM_HOST_NODES;
        host->threads_per_core = 1;
        host->cpu_mhz = 2400;
        host->total_memory_kib = XSIM_HOST_MEMORY_KIB;
        host->hostname = strdup("xensim");
        host->scheduler = strdup("credit");
        if (!host->hostname || !host->scheduler)
                return -ENOMEM;
        if (root) {
                host->root = strdup(root);
                if (!host->root)
                        return -ENOMEM;
        }
        host->next_domid = 1;
        host->action_delay_ms = XSIM_ACTION_DELAY_MS;

        /* Domain-0 exists before anything else and is never managed by xend. */
        r = domain_new(host, "Domain-0", &zero, false, XSIM_DOM0_MEMORY_KIB, XSIM_DOM0_MEMORY_KIB,
                       MIN(host->nr_cpus, (unsigned) XSIM_VCPUS_MAX), &dom0, NULL);
        if (r < 0)
                return r;
        dom0->uuid = zero;      /* domain_new() generates one for a null UUID */
        dom0->domid = 0;
        dom0->state = XSIM_STATE_RUNNING;
        dom0->running_since_usec = now_usec();
        r = free_and_strdup(&dom0->on_poweroff, "destroy");
        if (r >= 0)
                r = free_and_strdup(&dom0->on_reboot, "restart");
        if (r >= 0)
                r = free_and_strdup(&dom0->on_crash, "restart");
        if (r < 0)
                return r;
        r = host_add_domain(host, dom0);
        if (r < 0)
                return r;
        TAKE_PTR(dom0);

        *ret = TAKE_PTR(host);
        return 0;
}

XsimHost *xsim_host_free(XsimHost *host) {
        if (!host)
                return NULL;
        for (size_t i = 0; i < host->n_domains; i++)
                domain_free(host->domains[i]);
        free(host->domains);
        free(host->xen_extra);
        free(host->hostname);
        free(host->scheduler);
        free(host->root);
        free(host->xm_dir);
        sd_event_unref(host->event);
        return mfree(host);
}

uint64_t xsim_host_free_memory_kib(const XsimHost *host) {
        uint64_t used = 0;

        /* Every domain that has a domid holds its memory, whatever its run state. */
        for (size_t i = 0; i < host->n_domains; i++)
                if (domain_is_active(host->domains[i]))
                        used += host->domains[i]->memory_kib;
        return used >= host->total_memory_kib ? 0 : host->total_memory_kib - used;
}

uint64_t xsim_host_node_free_memory_kib(const XsimHost *host, unsigned node) {
        if (host->nr_nodes == 0 || node >= host->nr_nodes)
                return 0;
        return xsim_host_free_memory_kib(host) / host->nr_nodes;
}

XsimDomain *xsim_domain_by_id(XsimHost *host, int domid) {
        if (domid < 0)
                return NULL;
        for (size_t i = 0; i < host->n_domains; i++)
                if (host->domains[i]->domid == domid)
                        return host->domains[i];
        return NULL;
}

XsimDomain *xsim_domain_by_name(XsimHost *host, const char *name) {
        if (!name)
                return NULL;
        for (size_t i = 0; i < host->n_domains; i++)
                if (streq(host->domains[i]->name, name))
                        return host->domains[i];
        return NULL;
}

XsimDomain *xsim_domain_by_uuid(XsimHost *host, const XvUuid *uuid) {
        if (!uuid)
                return NULL;
        for (size_t i = 0; i < host->n_domains; i++)
                if (uuid_equal(&host->domains[i]->uuid, uuid))
                        return host->domains[i];
        return NULL;
}

const char *xsim_device_value(const Sexpr *dev, const char *key) {
        char path[64];

        if (!sexpr_head(dev))
                return NULL;
        (void) snprintf(path, sizeof(path), "%s/%s", sexpr_head(dev), key);
        return sexpr_node(dev, path);
}

XsimDomain *xsim_domain_lookup(XsimHost *host, const char *s) {
        XsimDomain *d;
        XvUuid uuid;
        int id;

        if (isempty(s))
                return NULL;
        /* XenD's domain_lookup_nr() tries the name first, then the domid, then the UUID. */
        d = xsim_domain_by_name(host, s);
        if (d)
                return d;
        if (safe_atoi(s, &id) >= 0)
                return xsim_domain_by_id(host, id);
        if (uuid_from_string(s, &uuid) >= 0)
                return xsim_domain_by_uuid(host, &uuid);
        return NULL;
}

/* A stored domain takes the facts of @from (built by domain_new() from a new configuration). */
static void domain_take_facts(XsimDomain *d, const XsimDomain *from) {
        d->hvm = from->hvm;
        d->memory_kib = from->memory_kib;
        d->max_memory_kib = from->max_memory_kib;
        d->max_vcpus = from->max_vcpus;
        memcpy(d->vcpus, from->vcpus, sizeof(d->vcpus));
}

/* ... and the configuration *@cfg, when there is one, which it then owns. */
static void domain_take_config(XsimDomain *d, Sexpr **cfg) {
        if (!*cfg)
                return;
        sexpr_free(d->config);
        d->config = TAKE_PTR(*cfg);
}

int xsim_domain_create(XsimHost *host, const char *name, const XvUuid *uuid, bool hvm,
                       uint64_t memory_kib, uint64_t max_memory_kib, unsigned vcpus,
                       Sexpr *config, XsimDomain **ret, XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *cfg = config;
        _cleanup_(domain_freep) XsimDomain *d = NULL;
        XsimDomain *existing;
        int r;

        if (!host)
                return -EINVAL;

        /* Creating a domain with the name and UUID of a halted managed one starts that one with
         * the new configuration, as XenD did. */
        existing = xsim_domain_by_name(host, name);
        if (existing && existing->managed && !domain_is_active(existing) &&
            (!uuid || uuid_is_zero(uuid) || uuid_equal(uuid, &existing->uuid))) {
                _cleanup_(domain_freep) XsimDomain *tmp = NULL;

                r = domain_new(host, name, &existing->uuid, hvm, memory_kib, max_memory_kib, vcpus,
                               &tmp, error);
                if (r < 0)
                        return r;
                if (tmp->memory_kib > xsim_host_free_memory_kib(host))
                        return check_memory_available(tmp, error);
                domain_take_facts(existing, tmp);
                domain_take_config(existing, &cfg);
                r = domain_set_actions_from_config(existing);
                if (r < 0)
                        return r;
                r = domain_introduce(existing, XSIM_STATE_PAUSED);
                if (r < 0)
                        return xv_error_setf(error, XVP_ERR_OPERATION_FAILED, "No domain id left");
                if (ret)
                        *ret = existing;
                return 0;
        }

        r = check_unique(host, NULL, name, uuid, error);
        if (r < 0)
                return r;
        r = domain_new(host, name, uuid, hvm, memory_kib, max_memory_kib, vcpus, &d, error);
        if (r < 0)
                return r;
        d->config = TAKE_PTR(cfg);
        r = domain_set_actions_from_config(d);
        if (r < 0)
                return r;
        r = check_memory_available(d, error);
        if (r < 0)
                return r;
        r = check_host_room(host, error);
        if (r < 0)
                return r;
        r = host_add_domain(host, d);
        if (r < 0)
                return r;
        XsimDomain *added = TAKE_PTR(d);
        r = domain_introduce(added, XSIM_STATE_PAUSED);
        if (r < 0) {
                host_remove_domain(host, added);
                return xv_error_setf(error, XVP_ERR_OPERATION_FAILED, "No domain id left");
        }
        if (ret)
                *ret = added;
        return 0;
}

int xsim_domain_define(XsimHost *host, const char *name, const XvUuid *uuid, bool hvm,
                       uint64_t memory_kib, uint64_t max_memory_kib, unsigned vcpus,
                       Sexpr *config, XsimDomain **ret, XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *cfg = config;
        _cleanup_(domain_freep) XsimDomain *d = NULL;
        XsimDomain *existing;
        int r;

        if (!host)
                return -EINVAL;
        if (host->xend_config_version < 3)
                return xv_error_setf(error, XVP_ERR_NO_SUPPORT,
                                     "xend config version %d does not manage inactive domains",
                                     host->xend_config_version);

        r = domain_new(host, name, uuid, hvm, memory_kib, max_memory_kib, vcpus, &d, error);
        if (r < 0)
                return r;

        /* Redefinition: same name and (if given) same UUID replaces the stored configuration. A
         * running domain keeps its live values; only a halted one takes the new facts. */
        existing = xsim_domain_by_name(host, name);
        if (!existing && uuid && !uuid_is_zero(uuid))
                existing = xsim_domain_by_uuid(host, uuid);
        if (existing) {
                if (existing->domid == 0)
                        return xv_error_setf(error, XVP_ERR_OPERATION_DENIED,
                                             "Cannot redefine privileged domain %s", existing->name);
                if (uuid && !uuid_is_zero(uuid) && !uuid_equal(uuid, &existing->uuid))
                        return xv_error_setf(error, XVP_ERR_DOM_EXIST,
                                             "Domain '%s' already exists with a different UUID", name);
                if (!streq(existing->name, name)) {
                        r = check_unique(host, existing, name, NULL, error);
                        if (r < 0)
                                return r;
                        r = free_and_strdup(&existing->name, name);
                        if (r < 0)
                                return r;
                }
                if (!domain_is_active(existing))
                        domain_take_facts(existing, d);
                domain_take_config(existing, &cfg);
                existing->managed = true;
                r = domain_set_actions_from_config(existing);
                if (r < 0)
                        return r;
                xsim_host_emit(host, XSIM_EVENT_DEFINED, existing);
                if (ret)
                        *ret = existing;
                return 0;
        }

        r = check_unique(host, NULL, name, uuid, error);
        if (r < 0)
                return r;
        r = check_host_room(host, error);
        if (r < 0)
                return r;
        d->managed = true;
        d->config = TAKE_PTR(cfg);
        r = domain_set_actions_from_config(d);
        if (r < 0)
                return r;
        r = host_add_domain(host, d);
        if (r < 0)
                return r;
        XsimDomain *added = TAKE_PTR(d);
        xsim_host_emit(host, XSIM_EVENT_DEFINED, added);
        if (ret)
                *ret = added;
        return 0;
}

int xsim_domain_undefine(XsimDomain *d, XvError *error) {
        if (!d)
                return -EINVAL;
        if (!d->managed)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID,
                                     "Domain '%s' is not managed by xend", d->name);
        if (domain_is_active(d))
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID,
                                     "Domain '%s' is not halted", d->name);
        xsim_host_emit(d->host, XSIM_EVENT_UNDEFINED, d);
        host_remove_domain(d->host, d);
        return 0;
}

int xsim_domain_start(XsimDomain *d, XvError *error) {
        int r;

        if (!d)
                return -EINVAL;
        if (domain_is_active(d) || !d->managed)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID,
                                     "Domain '%s' is already running", d->name);
        r = check_memory_available(d, error);
        if (r < 0)
                return r;
        r = domain_introduce(d, XSIM_STATE_PAUSED);
        if (r < 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_FAILED, "No domain id left");
        return 0;
}

void xsim_domain_account(XsimDomain *d) {
        uint64_t now, delta_ns;
        unsigned online = 0;

        if (!d || d->state != XSIM_STATE_RUNNING || d->running_since_usec == 0)
                return;
        now = now_usec();
        if (now <= d->running_since_usec)
                return;
        delta_ns = (now - d->running_since_usec) * 1000;
        /* Each online vcpu that is not blocked runs all the time; the domain's time is their sum. */
        for (unsigned i = 0; i < d->max_vcpus; i++)
                if (d->vcpus[i].online && !d->vcpus[i].blocked) {
                        d->vcpus[i].cpu_time_ns += delta_ns;
                        online++;
                }
        d->cpu_time_ns += delta_ns * online;
        d->running_since_usec = now;
}

/* Leaves the RUNNING state: books the time spent running first. */
static void domain_set_state(XsimDomain *d, XsimRunState state) {
        xsim_domain_account(d);
        d->state = state;
        d->running_since_usec = state == XSIM_STATE_RUNNING ? now_usec() : 0;
}

static int check_active(XsimDomain *d, XvError *error) {
        if (!domain_is_active(d))
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Domain '%s' is not running",
                                     d->name);
        return 0;
}

/* What pause, unpause and destroy ask first: a running guest, never domain 0. @verb words the
 * refusal for domain 0. */
static int check_active_guest(XsimDomain *d, const char *verb, XvError *error) {
        if (!d)
                return -EINVAL;
        if (d->domid == 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_DENIED,
                                     "Cannot %s privileged domain %s", verb, d->name);
        return check_active(d, error);
}

/* A state change listeners hear about. */
static void domain_change_state(XsimDomain *d, XsimRunState state) {
        domain_set_state(d, state);
        xsim_host_emit(d->host, XSIM_EVENT_CHANGED, d);
}

int xsim_domain_pause(XsimDomain *d, XvError *error) {
        int r;

        r = check_active_guest(d, "pause", error);
        if (r < 0)
                return r;
        if (d->state == XSIM_STATE_PAUSED)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Domain '%s' is already paused",
                                     d->name);
        if (d->state != XSIM_STATE_RUNNING)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID,
                                     "Domain '%s' is %s and cannot be paused", d->name,
                                     xsim_run_state_to_string(d->state));
        domain_change_state(d, XSIM_STATE_PAUSED);
        return 0;
}

int xsim_domain_unpause(XsimDomain *d, XvError *error) {
        int r;

        r = check_active_guest(d, "unpause", error);
        if (r < 0)
                return r;
        if (d->state != XSIM_STATE_PAUSED)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "Domain '%s' is not paused",
                                     d->name);
        domain_change_state(d, XSIM_STATE_RUNNING);
        return 0;
}

/* The domain's domid goes away: listeners see RELEASED with the old id. */
static void domain_release_domid(XsimDomain *d) {
        d->action_source = sd_event_source_disable_unref(d->action_source);
        domain_set_state(d, XSIM_STATE_DYING);
        xsim_host_emit(d->host, XSIM_EVENT_RELEASED, d);
}

/* Destruction: a managed domain stays as HALTED without a domid, any other is freed. */
static void domain_release(XsimDomain *d) {
        XsimHost *host = d->host;

        domain_release_domid(d);
        if (!d->managed) {
                host_remove_domain(host, d);
                return;
        }
        d->domid = -1;
        d->state = XSIM_STATE_HALTED;
        d->running_since_usec = 0;
        xsim_host_emit(host, XSIM_EVENT_CHANGED, d);
}

/* Runs the on_* action the way XenD's domain watcher did after the hypervisor reported the
 * shutdown. */
static void domain_run_action(XsimDomain *d) {
        const char *action;

        d->action_source = sd_event_source_disable_unref(d->action_source);
        switch (d->shutdown_reason) {
        case XSIM_SHUTDOWN_REBOOT:
                action = d->on_reboot;
                break;
        case XSIM_SHUTDOWN_CRASH:
        case XSIM_SHUTDOWN_WATCHDOG:
                action = d->on_crash;
                break;
        case XSIM_SHUTDOWN_SUSPEND:
                action = "destroy";     /* a suspended guest has been saved; xend destroys it */
                break;
        default:
                action = d->on_poweroff;
                break;
        }
        action = strempty(action);

        if (strstr(action, "preserve"))
                return;
        if (strstr(action, "restart")) {
                /* XenD rebuilt the domain under the same name and UUID with a new domid. */
                domain_release_domid(d);
                d->domid = -1;
                if (domain_introduce(d, XSIM_STATE_RUNNING) >= 0)
                        return;
                /* No domid left: the restart fails and the domain stays down. */
                if (!d->managed) {
                        host_remove_domain(d->host, d);
                        return;
                }
                d->state = XSIM_STATE_HALTED;
                xsim_host_emit(d->host, XSIM_EVENT_CHANGED, d);
                return;
        }
        domain_release(d);
}

static int on_action_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        domain_run_action(userdata);
        return 0;
}

int xsim_domain_shutdown(XsimDomain *d, XsimShutdownReason reason, XvError *error) {
        int r;

        if (!d)
                return -EINVAL;
        if (d->domid == 0)
                return xv_error_setf(error, XVP_ERR_OPERATION_DENIED, "Domain 0 cannot be shutdown");
        if ((unsigned) reason > XSIM_SHUTDOWN_WATCHDOG)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid shutdown reason %d",
                                     (int) reason);
        r = check_active(d, error);
        if (r < 0)
                return r;
        if (d->state != XSIM_STATE_RUNNING && d->state != XSIM_STATE_PAUSED)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID,
                                     "Domain '%s' is %s and cannot be shut down", d->name,
                                     xsim_run_state_to_string(d->state));

        d->shutdown_reason = reason;
        domain_change_state(d, reason == XSIM_SHUTDOWN_CRASH ? XSIM_STATE_CRASHED : XSIM_STATE_SHUTDOWN);

        if (!d->host->event) {
                domain_run_action(d);
                return 0;
        }
        d->action_source = sd_event_source_disable_unref(d->action_source);
        r = sd_event_add_time_relative(d->host->event, &d->action_source, CLOCK_MONOTONIC,
                                       (uint64_t) d->host->action_delay_ms * 1000, 0,
                                       on_action_timer, d);
        if (r < 0) {
                domain_run_action(d);
                return 0;
        }
        return 0;
}

int xsim_domain_crash(XsimDomain *d, XvError *error) {
        return xsim_domain_shutdown(d, XSIM_SHUTDOWN_CRASH, error);
}

int xsim_domain_destroy(XsimDomain *d, XvError *error) {
        int r;

        r = check_active_guest(d, "destroy", error);
        if (r < 0)
                return r;
        domain_release(d);
        return 0;
}

int xsim_domain_set_memory(XsimDomain *d, uint64_t kib, XvError *error) {
        if (!d)
                return -EINVAL;
        if (kib < XSIM_MEMORY_MIN_KIB || kib > d->max_memory_kib)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Memory target %" PRIu64 " KiB out of range (%u..%" PRIu64 " KiB)",
                                     kib, XSIM_MEMORY_MIN_KIB, d->max_memory_kib);
        if (domain_is_active(d) && kib > d->memory_kib &&
            kib - d->memory_kib > xsim_host_free_memory_kib(d->host))
                return xv_error_setf(error, XVP_ERR_OPERATION_FAILED,
                                     "Not enough free memory to balloon domain '%s' to %" PRIu64 " KiB",
                                     d->name, kib);
        d->memory_kib = kib;
        xsim_host_emit(d->host, XSIM_EVENT_CHANGED, d);
        return 0;
}

int xsim_domain_set_max_memory(XsimDomain *d, uint64_t kib, XvError *error) {
        if (!d)
                return -EINVAL;
        if (kib < XSIM_MEMORY_MIN_KIB || kib > d->host->total_memory_kib)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Maximum memory %" PRIu64 " KiB out of range (%u..%" PRIu64 " KiB)",
                                     kib, XSIM_MEMORY_MIN_KIB, d->host->total_memory_kib);
        d->max_memory_kib = kib;
        /* Lowering the maximum below the current allocation shrinks the domain, as Xen does. */
        if (d->memory_kib > kib)
                d->memory_kib = kib;
        xsim_host_emit(d->host, XSIM_EVENT_CHANGED, d);
        return 0;
}

int xsim_domain_set_vcpus(XsimDomain *d, unsigned online, XvError *error) {
        if (!d)
                return -EINVAL;
        if (online < 1 || online > XSIM_VCPUS_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid number of vcpus %u", online);
        if (domain_is_active(d) && online > d->max_vcpus)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Cannot set vcpus greater than max vcpus on running domain");
        xsim_domain_account(d);
        if (!domain_is_active(d) && online > d->max_vcpus) {
                for (unsigned i = d->max_vcpus; i < online; i++) {
                        d->vcpus[i] = (XsimVcpu) { .affinity = host_cpu_mask(d->host) };
                }
                d->max_vcpus = online;
                domain_place_vcpus(d);
        }
        for (unsigned i = 0; i < d->max_vcpus; i++)
                d->vcpus[i].online = i < online;
        xsim_host_emit(d->host, XSIM_EVENT_CHANGED, d);
        return 0;
}

int xsim_domain_pin_vcpu(XsimDomain *d, unsigned vcpu, uint64_t affinity, XvError *error) {
        if (!d)
                return -EINVAL;
        if (vcpu >= d->max_vcpus)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid vcpu %u (domain '%s' has %u)",
                                     vcpu, d->name, d->max_vcpus);
        affinity &= host_cpu_mask(d->host);
        if (affinity == 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Empty cpu affinity for vcpu %u (host has %u cpus)",
                                     vcpu, d->host->nr_cpus);
        d->vcpus[vcpu].affinity = affinity;
        domain_place_vcpus(d);
        xsim_host_emit(d->host, XSIM_EVENT_CHANGED, d);
        return 0;
}

int xsim_domain_set_sched(XsimDomain *d, unsigned weight, unsigned cap, XvError *error) {
        if (!d)
                return -EINVAL;
        if (weight < 1 || weight > 65535)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid weight %u (must be 1..65535)",
                                     weight);
        if (cap > 65534)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid cap %u (must be 0..65534)", cap);
        d->sched_weight = weight;
        d->sched_cap = cap;
        xsim_host_emit(d->host, XSIM_EVENT_CHANGED, d);
        return 0;
}

const char *xsim_domain_state_string(const XsimDomain *d, char buf[static 7]) {
        memcpy(buf, "------", 7);
        switch (d->state) {
        case XSIM_STATE_RUNNING: {
                bool any_running = false;

                for (unsigned i = 0; i < d->max_vcpus; i++)
                        if (d->vcpus[i].online && !d->vcpus[i].blocked)
                                any_running = true;
                if (any_running)
                        buf[0] = 'r';
                else
                        buf[1] = 'b';
                break;
        }
        case XSIM_STATE_PAUSED:
                buf[2] = 'p';
                break;
        case XSIM_STATE_SHUTDOWN:
                buf[3] = 's';
                break;
        case XSIM_STATE_CRASHED:
                buf[4] = 'c';
                break;
        case XSIM_STATE_DYING:
                buf[5] = 'd';
                break;
        default:
                break;
        }
        return buf;
}
