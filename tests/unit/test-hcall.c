/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hypercall channel (src/xen/xv-hcall.c): the REAL libxenctrl on top of the replacement
 * libxencall from tests/xensim/hv/.libs, talking to a private xensim. Values are checked against
 * xensim's own view (xensim-ctl list/stats). The program re-executes itself once with
 * LD_LIBRARY_PATH pointing at the replacement libraries, since the dynamic linker reads it only
 * at startup. The state mapping is table-driven.
 *
 * With XV_TEST_REAL_XEN=1 (in dom0, run by the real-Xen lane, tests/xen-lane) only the real_*
 * tests run: the real libxencall and hypervisor, checked against xl (tests/unit/test-xen-real.h).
 */
#include <pthread.h>
#include <stdio.h>

#include "tests.h"
#include "test-xen-real.h"
#include "xsim-launch.h"
#include "xv-hcall.h"
#include "xv-uuid.h"
#include "xv-xenstore.h"

TEST(domain_state_mapping) {
        static const struct {
                bool dying, shutdown;
                unsigned code;
                bool paused, blocked;
                int state, reason;
        } cases[] = {
                /* dying wins over everything */
                { true, true, HCALL_SHUTDOWN_CRASH, true, true, 4, 0 },
                { false, true, HCALL_SHUTDOWN_CRASH, false, false, 6, 1 },
                { false, true, HCALL_SHUTDOWN_POWEROFF, false, false, 5, 1 },
                { false, true, HCALL_SHUTDOWN_REBOOT, false, false, 5, 1 },
                { false, true, HCALL_SHUTDOWN_SUSPEND, true, false, 5, 5 },
                { false, true, HCALL_SHUTDOWN_WATCHDOG, false, false, 5, 0 },
                { false, true, 77, false, false, 5, 0 },
                { false, false, 0, true, true, 3, 0 },
                { false, false, 0, false, true, 2, 0 },
                { false, false, 0, false, false, 1, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int state = -1, reason = -1;

                hcall_domain_state(cases[i].dying, cases[i].shutdown, cases[i].code, cases[i].paused,
                                   cases[i].blocked, &state, &reason);
                ASSERT_EQ(state, cases[i].state);
                ASSERT_EQ(reason, cases[i].reason);
        }
        ASSERT_STREQ(hcall_shutdown_code_to_string(HCALL_SHUTDOWN_WATCHDOG), "watchdog");
        ASSERT_STREQ(hcall_shutdown_code_to_string(HCALL_SHUTDOWN_CRASH), "crash");
        ASSERT_NULL(hcall_shutdown_code_to_string(99));
        ASSERT_STREQ(hcall_sched_name(5), "credit");
        ASSERT_STREQ(hcall_sched_name(6), "credit2");
        ASSERT_NULL(hcall_sched_name(4));
}

static void open_hcall(Hcall **ret) {
        XvError error = XV_ERROR_NULL;
        int r = hcall_open(ret, &error);

        if (r < 0)
                test_fail(__FILE__, __LINE__, "hcall_open: %s", strnull(error.message));
        xv_error_done(&error);
}

/* "key value" lines of xensim-ctl stats. */
static char *sim_stat(XsimInstance *x, const char *key) {
        _cleanup_free_ char *out = NULL;
        char *save = NULL;

        ASSERT_EQ(xsim_ctl(x, &out, "stats"), 0);
        for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                size_t n = strlen(key);

                if (strncmp(line, key, n) == 0 && line[n] == ' ')
                        return strdup(line + n + 1);
        }
        return NULL;
}

static uint64_t sim_u64(char *s) {
        uint64_t v = 0;

        ASSERT_NOT_NULL(s);
        ASSERT_OK(safe_atou64(s, &v));
        free(s);
        return v;
}

static const HcallDomainInfo *find(const HcallDomainInfo *l, size_t n, int domid) {
        for (size_t i = 0; i < n; i++)
                if (l[i].domid == domid)
                        return &l[i];
        return NULL;
}

TEST(host_info) {
        _cleanup_(hcall_closep) Hcall *h = NULL;
        _cleanup_free_ char *ver = NULL;
        HcallPhysinfo p;
        HcallVersion v;
        uint64_t cells[8], sum = 0;
        int n = 0, max_cpus = 0, sched = -1;
        char buf[64];
        XsimInstance x;

        xsim_start(&x, NULL);
        open_hcall(&h);

        ASSERT_OK(hcall_version(h, &v, NULL));
        ver = sim_stat(&x, "xen_version");
        (void) snprintf(buf, sizeof(buf), "%u.%u%s", v.major, v.minor, v.extra);
        ASSERT_STREQ(buf, ver);
        ASSERT_EQ(v.micro, 2u);
        ASSERT_NOT_NULL(strstr(v.capabilities, "hvm-3.0-x86_64"));

        ASSERT_OK(hcall_physinfo(h, &p, NULL));
        ASSERT_EQ(p.nr_cpus, 8u);
        ASSERT_EQ(p.nr_nodes, 2u);
        ASSERT_EQ(p.cpu_khz, 2400000u);
        ASSERT_EQ(p.threads_per_core * p.cores_per_socket * p.sockets_per_node * p.nr_nodes, p.nr_cpus);
        ASSERT_TRUE(p.hvm_capable);
        ASSERT_EQ(p.total_kib, sim_u64(sim_stat(&x, "total_memory_kib")));
        ASSERT_EQ(p.free_kib, sim_u64(sim_stat(&x, "free_memory_kib")));

        ASSERT_OK(hcall_max_cpus(h, &max_cpus, NULL));
        ASSERT_GE(max_cpus, 8);
        ASSERT_OK(hcall_sched_id(h, &sched, NULL));
        ASSERT_STREQ(hcall_sched_name(sched), "credit");

        /* Per-node free memory: every node, adding up to the host's free memory. */
        ASSERT_OK(hcall_node_free_memory(h, 0, 8, cells, &n, NULL));
        ASSERT_EQ(n, 2);
        for (int i = 0; i < n; i++)
                sum += cells[i];
        ASSERT_EQ(sum, p.free_kib * 1024);
        ASSERT_OK(hcall_node_free_memory(h, 1, 8, cells, &n, NULL));
        ASSERT_EQ(n, 1);
        ASSERT_OK(hcall_node_free_memory(h, 0, 1, cells, &n, NULL));
        ASSERT_EQ(n, 1);
        ASSERT_ERROR(hcall_node_free_memory(h, 2, 8, cells, &n, NULL), EINVAL);
        ASSERT_ERROR(hcall_node_free_memory(h, -1, 8, cells, &n, NULL), EINVAL);

        h = hcall_close(h);
        xsim_stop(&x);
}

/* xensim applies on_poweroff/on_crash... 20 ms after a guest shuts down, so the shut-down domain
 * is visible only briefly (under load the action may win the race with our query): try with
 * fresh domains until one shutdown is seen, then check it. */
static void observe_shutdown(Hcall *h, XsimInstance *x, const char *why, unsigned code, int state, int reason) {
        static unsigned counter = 0;

        for (unsigned attempt = 0; attempt < 20; attempt++) {
                HcallDomainInfo info;
                char name[32];
                int id;

                (void) snprintf(name, sizeof(name), "sd%u", counter++);
                id = xsim_create_domain(x, name, 64, 1);
                ASSERT_EQ(xsim_ctl(x, NULL, "domain shutdown %s %s", name, why), 0);
                if (hcall_domain_info(h, id, &info, NULL) < 0 || !info.shutdown || info.dying)
                        continue;
                ASSERT_EQ(info.shutdown_code, code);
                ASSERT_EQ(info.state, state);
                ASSERT_EQ(info.reason, reason);
                return;
        }
        test_fail(__FILE__, __LINE__, "never saw a domain in shutdown '%s'", why);
}

TEST(domains) {
        _cleanup_(hcall_closep) Hcall *h = NULL;
        _cleanup_free_ HcallDomainInfo *list = NULL;
        _cleanup_free_ char *sim_uuid = NULL, *sim_mem = NULL;
        const HcallDomainInfo *d;
        HcallDomainInfo info;
        XvError error = XV_ERROR_NULL;
        char buf[UUID_STRING_BUF];
        size_t n = 0;
        XsimInstance x;
        int id;

        xsim_start(&x, NULL);
        open_hcall(&h);

        ASSERT_OK(hcall_list_domains(h, &list, &n, NULL));
        ASSERT_EQ(n, 1u);
        ASSERT_EQ(list[0].domid, 0);
        ASSERT_TRUE(uuid_is_zero(&list[0].uuid));
        list = mfree(list);

        id = xsim_create_domain(&x, "guest1", 512, 2);
        sim_uuid = xsim_list_field(&x, "guest1", 7);
        sim_mem = xsim_list_field(&x, "guest1", 5);
        ASSERT_OK(hcall_list_domains(h, &list, &n, NULL));
        ASSERT_EQ(n, 2u);
        d = find(list, n, id);
        ASSERT_NOT_NULL(d);
        ASSERT_STREQ(uuid_format(&d->uuid, buf), sim_uuid);
        ASSERT_EQ(d->memory_kib, 512u * 1024);
        ASSERT_EQ(d->memory_kib, sim_u64(TAKE_PTR(sim_mem)));
        ASSERT_EQ(d->max_memory_kib, 512u * 1024);
        ASSERT_EQ(d->online_vcpus, 2u);
        ASSERT_EQ(d->max_vcpu_id, 1u);
        ASSERT_FALSE(d->paused);
        ASSERT_FALSE(d->hvm);
        ASSERT_TRUE(d->state == 1 || d->state == 2);

        ASSERT_OK(hcall_domain_info(h, id, &info, NULL));
        ASSERT_EQ(info.domid, id);
        ASSERT_TRUE(uuid_equal(&info.uuid, &d->uuid));
        ASSERT_ERROR(hcall_domain_info(h, 999, &info, &error), ESRCH);
        ASSERT_EQ(error.code, XVP_ERR_NO_DOMAIN);
        ASSERT_EQ(error.domain, XVP_FROM_XEN);
        xv_error_done(&error);
        ASSERT_ERROR(hcall_domain_info(h, -3, &info, NULL), EINVAL);

        /* Pause and unpause, as xensim sees them. */
        ASSERT_OK(hcall_domain_pause(h, id, NULL));
        ASSERT_OK(hcall_domain_info(h, id, &info, NULL));
        ASSERT_TRUE(info.paused);
        ASSERT_EQ(info.state, 3);
        {
                _cleanup_free_ char *s = xsim_list_field(&x, "guest1", 3);

                ASSERT_STREQ(s, "paused");
        }
        ASSERT_OK(hcall_domain_unpause(h, id, NULL));
        ASSERT_OK(hcall_domain_info(h, id, &info, NULL));
        ASSERT_FALSE(info.paused);

        /* Max memory. */
        ASSERT_OK(hcall_domain_set_max_memory(h, id, 1024 * 1024, NULL));
        ASSERT_OK(hcall_domain_info(h, id, &info, NULL));
        ASSERT_EQ(info.max_memory_kib, 1024u * 1024);
        ASSERT_ERROR(hcall_domain_set_max_memory(h, id, 0, NULL), EINVAL);

        /* A crash is "crashed" with the raw code kept (see observe_shutdown()). */
        observe_shutdown(h, &x, "crash", HCALL_SHUTDOWN_CRASH, 6, 1);

        /* Destroy: gone. Dom0 is refused before any hypercall. */
        ASSERT_ERROR(hcall_domain_destroy(h, 0, NULL), EBUSY);
        ASSERT_OK(hcall_domain_destroy(h, id, NULL));
        ASSERT_ERROR(hcall_domain_info(h, id, &info, NULL), ESRCH);
        ASSERT_NULL(xsim_list_field(&x, "guest1", 1));
        ASSERT_ERROR(hcall_domain_pause(h, id, &error), ESRCH);
        ASSERT_EQ(error.code, XVP_ERR_NO_DOMAIN);
        xv_error_done(&error);

        h = hcall_close(h);
        xsim_stop(&x);
}

/* A list longer than one batch: every domain once, in id order; the batch then grows to what the
 * handle listed last, so that the next list takes one hypercall. */
TEST(list_in_batches) {
        enum { N_GUESTS = 150 };        /* with Domain-0: 151, more than the first batch of 64 */
        _cleanup_(hcall_closep) Hcall *h = NULL;
        _cleanup_free_ HcallDomainInfo *list = NULL;
        int ids[N_GUESTS];
        size_t n = 0;
        XsimInstance x;

        xsim_start(&x, NULL);
        for (unsigned i = 0; i < N_GUESTS; i++) {
                char name[32];

                (void) snprintf(name, sizeof(name), "batch%03u", i);
                ids[i] = xsim_create_domain(&x, name, 16, 1);
        }
        open_hcall(&h);

        xsim_hv_reset(&x);
        ASSERT_OK(hcall_list_domains(h, &list, &n, NULL));
        ASSERT_EQ(n, (size_t) N_GUESTS + 1);
        for (size_t i = 1; i < n; i++)
                ASSERT_LT(list[i - 1].domid, list[i].domid);
        for (unsigned i = 0; i < N_GUESTS; i++)
                ASSERT_NOT_NULL(find(list, n, ids[i]));
        ASSERT_EQ(xsim_hv_count(&x, "sysctl getdomaininfolist"), 3u);         /* 64 + 64 + 23 */
        list = mfree(list);

        xsim_hv_reset(&x);
        ASSERT_OK(hcall_list_domains(h, &list, &n, NULL));
        ASSERT_EQ(n, (size_t) N_GUESTS + 1);
        ASSERT_EQ(xsim_hv_count(&x, "sysctl getdomaininfolist"), 1u);         /* one batch of 256 */
        xsim_stop(&x);
}

TEST(shutdown_reasons) {
        _cleanup_(hcall_closep) Hcall *h = NULL;
        XsimInstance x;

        xsim_start(&x, NULL);
        open_hcall(&h);
        observe_shutdown(h, &x, "poweroff", HCALL_SHUTDOWN_POWEROFF, 5, 1);
        observe_shutdown(h, &x, "reboot", HCALL_SHUTDOWN_REBOOT, 5, 1);
        observe_shutdown(h, &x, "suspend", HCALL_SHUTDOWN_SUSPEND, 5, 5);
        observe_shutdown(h, &x, "watchdog", HCALL_SHUTDOWN_WATCHDOG, 5, 0);
        h = hcall_close(h);
        xsim_stop(&x);
}

TEST(vcpus_and_sched) {
        _cleanup_(hcall_closep) Hcall *h = NULL;
        HcallVcpuInfo vi;
        uint8_t map[4] = {}, got[4] = {};
        unsigned weight = 0, cap = 1;
        XsimInstance x;
        int id;

        xsim_start(&x, NULL);
        open_hcall(&h);
        id = xsim_create_domain(&x, "guest1", 64, 2);

        ASSERT_OK(hcall_vcpu_info(h, id, 0, &vi, NULL));
        ASSERT_TRUE(vi.online);
        ASSERT_GE(vi.cpu, 0);
        ASSERT_LT(vi.cpu, 8);
        ASSERT_OK(hcall_vcpu_info(h, id, 1, &vi, NULL));
        ASSERT_TRUE(vi.online);
        ASSERT_TRUE(hcall_vcpu_info(h, id, 7, &vi, NULL) < 0);
        ASSERT_ERROR(hcall_vcpu_info(h, 999, 0, &vi, NULL), ESRCH);

        /* Pin vcpu 1 to pcpus 2 and 5; read it back. Bits beyond the host's 8 cpus are dropped. */
        map[0] = (1u << 2) | (1u << 5);
        map[2] = 0xff;
        ASSERT_OK(hcall_vcpu_set_affinity(h, id, 1, map, sizeof(map), NULL));
        ASSERT_OK(hcall_vcpu_get_affinity(h, id, 1, got, sizeof(got), NULL));
        ASSERT_EQ(got[0], (1u << 2) | (1u << 5));
        ASSERT_EQ(got[2], 0u);
        memset(map, 0, sizeof(map));
        ASSERT_ERROR(hcall_vcpu_set_affinity(h, id, 1, map, sizeof(map), NULL), EINVAL);

        ASSERT_OK(hcall_sched_credit_get(h, id, &weight, &cap, NULL));
        ASSERT_EQ(weight, 256u);
        ASSERT_EQ(cap, 0u);
        ASSERT_OK(hcall_sched_credit_set(h, id, 512, 50, NULL));
        ASSERT_OK(hcall_sched_credit_get(h, id, &weight, &cap, NULL));
        ASSERT_EQ(weight, 512u);
        ASSERT_EQ(cap, 50u);
        ASSERT_ERROR(hcall_sched_credit_set(h, id, 0, 0, NULL), EINVAL);
        ASSERT_ERROR(hcall_sched_credit_set(h, id, 256, 65535, NULL), EINVAL);

        /* Like Xen, xensim fixes max_vcpus at creation: a later change is refused, and the
         * error names the call. */
        {
                XvError error = XV_ERROR_NULL;

                ASSERT_TRUE(hcall_domain_set_max_vcpus(h, id, 4, &error) < 0);
                ASSERT_EQ(error.code, XVP_ERR_XEN_CALL);
                ASSERT_NOT_NULL(strstr(error.message, "xc_domain_max_vcpus"));
                xv_error_done(&error);
        }
        ASSERT_ERROR(hcall_domain_set_max_vcpus(h, id, 0, NULL), EINVAL);

        h = hcall_close(h);
        xsim_stop(&x);
}

TEST(hypervisor_failure) {
        _cleanup_(hcall_closep) Hcall *h = NULL;
        _cleanup_free_ HcallDomainInfo *list = NULL;
        XvError error = XV_ERROR_NULL;
        HcallPhysinfo p;
        size_t n = 0;
        XsimInstance x;

        xsim_start(&x, NULL);
        open_hcall(&h);
        ASSERT_EQ(xsim_ctl(&x, NULL, "hypervisor fail on"), 0);
        ASSERT_ERROR(hcall_list_domains(h, &list, &n, &error), EPERM);
        ASSERT_EQ(error.code, XVP_ERR_XEN_CALL);
        ASSERT_EQ(error.domain, XVP_FROM_XEN);
        ASSERT_NOT_NULL(strstr(error.message, "xc_domain_getinfolist"));
        ASSERT_NOT_NULL(strstr(error.message, strerror(EPERM)));
        xv_error_done(&error);
        ASSERT_ERROR(hcall_physinfo(h, &p, &error), EPERM);
        ASSERT_NOT_NULL(strstr(error.message, "xc_physinfo"));
        xv_error_done(&error);

        ASSERT_EQ(xsim_ctl(&x, NULL, "hypervisor fail off"), 0);
        ASSERT_OK(hcall_list_domains(h, &list, &n, NULL));
        ASSERT_EQ(n, 1u);
        h = hcall_close(h);
        xsim_stop(&x);
}

TEST(open_without_hypervisor) {
        _cleanup_(hcall_closep) Hcall *h = NULL;
        XvError error = XV_ERROR_NULL;
        HcallPhysinfo p;
        int r;

        /* No xensim behind the socket: either the open or the first call fails, precisely. */
        ASSERT_OK(setenv("XENSIM_HV_SOCKET", "/nonexistent/hv-socket", 1));
        r = hcall_open(&h, &error);
        if (r < 0) {
                ASSERT_EQ(error.code, XVP_ERR_NO_XEN);
                ASSERT_EQ(error.domain, XVP_FROM_XEN);
        } else {
                ASSERT_TRUE(hcall_physinfo(h, &p, &error) < 0);
                ASSERT_EQ(error.code, XVP_ERR_XEN_CALL);
        }
        ASSERT_NOT_NULL(error.message);
        xv_error_done(&error);
}

/* xenstore may keep the tree of a domain that is gone (xensim: "xenstore stale on"): its id is
 * still listed there, and the hypercall channel is what tells it is dead. */
TEST(stale_xenstore_ids) {
        _cleanup_(hcall_closep) Hcall *h = NULL;
        _cleanup_(xenstore_closep) XsChannel *c = NULL;
        _cleanup_free_ int *ids = NULL;
        HcallDomainInfo info;
        size_t n = 0;
        bool listed = false;
        XsimInstance x;
        int id;

        xsim_start(&x, NULL);
        open_hcall(&h);
        ASSERT_OK(xenstore_open(true, &c, NULL));
        id = xsim_create_domain(&x, "guest1", 64, 1);
        ASSERT_EQ(xsim_ctl(&x, NULL, "xenstore stale on"), 0);
        ASSERT_EQ(xsim_ctl(&x, NULL, "domain destroy guest1"), 0);

        ASSERT_OK(xenstore_list_domain_ids(c, &ids, &n, NULL));
        for (size_t i = 0; i < n; i++)
                if (ids[i] == id)
                        listed = true;
        ASSERT_TRUE(listed);
        ASSERT_ERROR(hcall_domain_info(h, id, &info, NULL), ESRCH);

        c = xenstore_close(c);
        h = hcall_close(h);
        xsim_stop(&x);
}

typedef struct ThreadArgs {
        Hcall *h;
        int domid;
        int failures;
} ThreadArgs;

static void *list_thread(void *userdata) {
        ThreadArgs *a = userdata;

        for (unsigned i = 0; i < 100; i++) {
                _cleanup_free_ HcallDomainInfo *list = NULL;
                HcallDomainInfo info;
                size_t n = 0;

                if (hcall_list_domains(a->h, &list, &n, NULL) < 0 || n != 2)
                        a->failures++;
                if (hcall_domain_info(a->h, a->domid, &info, NULL) < 0 || info.domid != a->domid)
                        a->failures++;
        }
        return NULL;
}

TEST(concurrent_calls) {
        _cleanup_(hcall_closep) Hcall *h = NULL;
        ThreadArgs args[4];
        pthread_t t[4];
        XsimInstance x;
        int id;

        xsim_start(&x, NULL);
        open_hcall(&h);
        id = xsim_create_domain(&x, "guest1", 64, 1);
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                args[i] = (ThreadArgs) { .h = h, .domid = id };
                ASSERT_EQ(pthread_create(&t[i], NULL, list_thread, &args[i]), 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                ASSERT_EQ(pthread_join(t[i], NULL), 0);
                ASSERT_EQ(args[i].failures, 0);
        }
        h = hcall_close(h);
        xsim_stop(&x);
}

/* ---- against the real hypervisor (XV_TEST_REAL_XEN=1) ---- */

#define REAL_GUEST "xv-hcall-real"

REAL_TEST(host_info) {
        _cleanup_(hcall_closep) Hcall *h = NULL;
        _cleanup_free_ char *extra = NULL, *caps = NULL, *mhz = NULL, *sched_name = NULL, *virt = NULL;
        uint64_t free_before, free_after;
        HcallPhysinfo p;
        HcallVersion v;
        char buf[64];
        int max_cpus = 0, sched = -1;

        open_hcall(&h);
        ASSERT_OK(hcall_version(h, &v, NULL));
        ASSERT_EQ(v.major, xreal_xl_info_u64("xen_major"));
        ASSERT_EQ(v.minor, xreal_xl_info_u64("xen_minor"));
        extra = xreal_xl_info("xen_extra");
        ASSERT_STREQ(v.extra, extra);
        caps = xreal_xl_info("xen_caps");
        ASSERT_STREQ(v.capabilities, caps);
        ASSERT_NOT_NULL(strstr(v.capabilities, "xen-3.0-x86_64"));

        free_before = xreal_xl_info_u64("free_memory");
        ASSERT_OK(hcall_physinfo(h, &p, NULL));
        free_after = xreal_xl_info_u64("free_memory");
        ASSERT_EQ(p.nr_cpus, xreal_xl_info_u64("nr_cpus"));
        ASSERT_EQ(p.max_cpu_id, xreal_xl_info_u64("max_cpu_id"));
        ASSERT_EQ(p.nr_nodes, xreal_xl_info_u64("nr_nodes"));
        ASSERT_EQ(p.cores_per_socket, xreal_xl_info_u64("cores_per_socket"));
        ASSERT_EQ(p.threads_per_core, xreal_xl_info_u64("threads_per_core"));
        ASSERT_EQ(p.threads_per_core * p.cores_per_socket * p.sockets_per_node * p.nr_nodes, p.nr_cpus);
        mhz = xreal_xl_info("cpu_mhz");
        (void) snprintf(buf, sizeof(buf), "%u.%03u", p.cpu_khz / 1000, p.cpu_khz % 1000);
        ASSERT_STREQ(buf, mhz);
        /* xl prints MiB, rounded down. */
        ASSERT_EQ(p.total_kib / 1024, xreal_xl_info_u64("total_memory"));
        ASSERT_GE(p.free_kib / 1024 + 1, MIN(free_before, free_after));
        ASSERT_LE(p.free_kib / 1024, MAX(free_before, free_after) + 1);
        virt = xreal_xl_info("virt_caps");
        ASSERT_NOT_NULL(virt);
        ASSERT_EQ(p.hvm_capable, strstr(virt, "hvm") != NULL);

        ASSERT_OK(hcall_max_cpus(h, &max_cpus, NULL));
        ASSERT_GE(max_cpus, (int) p.nr_cpus);
        ASSERT_OK(hcall_sched_id(h, &sched, NULL));
        sched_name = xreal_xl_info("xen_scheduler");
        ASSERT_STREQ(hcall_sched_name(sched), sched_name);

}

REAL_TEST(node_free_memory) {
        _cleanup_(hcall_closep) Hcall *h = NULL;
        uint64_t free_before, free_after, cells[HCALL_NODES_MAX], sum = 0;
        HcallPhysinfo p;
        int n = 0;

        open_hcall(&h);
        free_before = xreal_xl_info_u64("free_memory");
        ASSERT_OK(hcall_physinfo(h, &p, NULL));
        /* Per-node free memory: one cell per node that exists (Xen's max_node_id is the largest
         * possible node id, not the last node), adding up to the host's free memory (give or
         * take what moved in between). */
        printf("# nr_nodes %u max_node_id %u\n", p.nr_nodes, p.max_node_id);
        ASSERT_OK(hcall_node_free_memory(h, 0, 8, cells, &n, NULL));
        ASSERT_EQ(n, (int) p.nr_nodes);
        for (int i = 0; i < n; i++)
                sum += cells[i];
        free_after = xreal_xl_info_u64("free_memory");
        ASSERT_LE(sum / 1024 / 1024, MAX(free_before, free_after) + 1);
        ASSERT_GE(sum / 1024 / 1024 + 1, MIN(free_before, free_after));
        ASSERT_ERROR(hcall_node_free_memory(h, (int) p.nr_nodes, 8, cells, &n, NULL), EINVAL);
}

static bool xl_state_has(const char *name, char flag) {
        _cleanup_free_ char *st = xreal_list_field(name, 5);

        ASSERT_NOT_NULL(st);
        return strchr(st, flag) != NULL;
}

/* The hard affinity column of `xl vcpu-list NAME` for @vcpu ("1", "0-1", "all"...). */
static char *xl_hard_affinity(const char *name, unsigned vcpu) {
        _cleanup_free_ char *out = NULL;
        char *save = NULL, want[16];

        (void) snprintf(want, sizeof(want), "%u", vcpu);
        ASSERT_EQ(xreal_run(&out, "xl vcpu-list %s", name), 0);
        for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *w[10] = {}, *s2 = NULL;
                unsigned k = 0;

                for (char *t = strtok_r(line, " \t", &s2); t && k < 10; t = strtok_r(NULL, " \t", &s2))
                        w[k++] = t;
                /* name id vcpu cpu state time hard / soft */
                if (k >= 7 && streq(w[0], name) && streq(w[2], want))
                        return strdup(w[6]);
        }
        return NULL;
}

REAL_TEST(domains) {
        _cleanup_(hcall_closep) Hcall *h = NULL;
        _cleanup_free_ HcallDomainInfo *list = NULL;
        _cleanup_free_ char *uuid = NULL, *aff = NULL;
        const HcallDomainInfo *d;
        HcallDomainInfo info;
        HcallVcpuInfo vi;
        HcallPhysinfo p;
        XvError error = XV_ERROR_NULL;
        char buf[UUID_STRING_BUF];
        uint8_t map[4] = {}, got[4] = {};
        uint64_t deadline;
        size_t n = 0;
        int id;

        open_hcall(&h);
        ASSERT_OK(hcall_physinfo(h, &p, NULL));

        /* Domain-0 as xl sees it. */
        ASSERT_OK(hcall_list_domains(h, &list, &n, NULL));
        d = find(list, n, 0);
        ASSERT_NOT_NULL(d);
        ASSERT_EQ(d->memory_kib / 1024, xreal_list_u64("Domain-0", 3));
        ASSERT_EQ(d->online_vcpus, xreal_list_u64("Domain-0", 4));
        uuid = xreal_list_field("Domain-0", 7);
        ASSERT_STREQ(uuid_format(&d->uuid, buf), uuid);
        ASSERT_FALSE(d->paused);
        ASSERT_FALSE(d->hvm);
        list = mfree(list);
        uuid = mfree(uuid);

        /* A guest: id, uuid, memory and vcpus as xl created it. */
        id = xreal_guest_create(REAL_GUEST, 2, "preserve");
        ASSERT_OK(hcall_list_domains(h, &list, &n, NULL));
        ASSERT_GE(n, 2u);
        d = find(list, n, id);
        ASSERT_NOT_NULL(d);
        uuid = xreal_list_field(REAL_GUEST, 7);
        ASSERT_STREQ(uuid_format(&d->uuid, buf), uuid);
        ASSERT_EQ(d->memory_kib / 1024, xreal_list_u64(REAL_GUEST, 3));
        ASSERT_GE(d->memory_kib, (XREAL_GUEST_MIB - 8) * 1024u);
        ASSERT_LE(d->memory_kib, (XREAL_GUEST_MIB + 8) * 1024u);
        ASSERT_GE(d->max_memory_kib, d->memory_kib);
        /* A PV guest starts with vcpu 0 online; its kernel brings the others up as it boots
         * (checked again below, once it has). */
        ASSERT_EQ(d->max_vcpu_id, 1u);
        ASSERT_GE(d->online_vcpus, 1u);
        ASSERT_LE(d->online_vcpus, 2u);
        ASSERT_FALSE(d->hvm);
        ASSERT_FALSE(d->dying);
        ASSERT_FALSE(d->shutdown);
        ASSERT_TRUE(d->state == 1 || d->state == 2);
        ASSERT_OK(hcall_domain_info(h, id, &info, NULL));
        ASSERT_EQ(info.domid, id);
        ASSERT_TRUE(uuid_equal(&info.uuid, &d->uuid));
        ASSERT_ERROR(hcall_domain_info(h, HCALL_DOMID_MAX, &info, &error), ESRCH);
        ASSERT_EQ(error.code, XVP_ERR_NO_DOMAIN);
        xv_error_done(&error);

        /* Pause through the hypercall: xl sees it; and the other way round. */
        ASSERT_OK(hcall_domain_pause(h, id, NULL));
        ASSERT_OK(hcall_domain_info(h, id, &info, NULL));
        ASSERT_TRUE(info.paused);
        ASSERT_EQ(info.state, 3);
        ASSERT_TRUE(xl_state_has(REAL_GUEST, 'p'));
        ASSERT_OK(hcall_domain_unpause(h, id, NULL));
        ASSERT_OK(hcall_domain_info(h, id, &info, NULL));
        ASSERT_FALSE(info.paused);
        ASSERT_FALSE(xl_state_has(REAL_GUEST, 'p'));
        xreal_xl("pause %s", REAL_GUEST);
        ASSERT_OK(hcall_domain_info(h, id, &info, NULL));
        ASSERT_TRUE(info.paused);
        xreal_xl("unpause %s", REAL_GUEST);
        ASSERT_OK(hcall_domain_info(h, id, &info, NULL));
        ASSERT_FALSE(info.paused);

        /* vcpus: online on a real pcpu; pinning seen by xl, and xl's pinning seen by us. */
        ASSERT_OK(hcall_vcpu_info(h, id, 0, &vi, NULL));
        ASSERT_TRUE(vi.online);
        ASSERT_GE(vi.cpu, 0);
        ASSERT_LT(vi.cpu, (int) p.nr_cpus);
        /* vcpu 1 exists; it is online once the guest's kernel has brought it up (below). */
        ASSERT_OK(hcall_vcpu_info(h, id, 1, &vi, NULL));
        ASSERT_TRUE(hcall_vcpu_info(h, id, 7, &vi, NULL) < 0);
        map[0] = 1u << (p.nr_cpus - 1);
        ASSERT_OK(hcall_vcpu_set_affinity(h, id, 1, map, sizeof(map), NULL));
        ASSERT_OK(hcall_vcpu_get_affinity(h, id, 1, got, sizeof(got), NULL));
        ASSERT_EQ(got[0], map[0]);
        aff = xl_hard_affinity(REAL_GUEST, 1);
        (void) snprintf(buf, sizeof(buf), "%u", p.nr_cpus - 1);
        ASSERT_STREQ(aff, buf);
        xreal_xl("vcpu-pin %s 1 0 all", REAL_GUEST);
        ASSERT_OK(hcall_vcpu_get_affinity(h, id, 1, got, sizeof(got), NULL));
        ASSERT_EQ(got[0], 1u);
        memset(map, 0, sizeof(map));
        ASSERT_ERROR(hcall_vcpu_set_affinity(h, id, 1, map, sizeof(map), NULL), EINVAL);

        /* Max memory. */
        ASSERT_OK(hcall_domain_set_max_memory(h, id, 256 * 1024, NULL));
        ASSERT_OK(hcall_domain_info(h, id, &info, NULL));
        ASSERT_EQ(info.max_memory_kib, 256u * 1024);

        /* A real poweroff (on_poweroff "preserve"): the domain stays, shut off with reason
         * "shutdown" and the raw code kept, and xl says the same. */
        xreal_guest_wait_init(REAL_GUEST);
        ASSERT_OK(hcall_domain_info(h, id, &info, NULL));
        ASSERT_EQ(info.online_vcpus, 2u);
        ASSERT_EQ(info.online_vcpus, xreal_list_u64(REAL_GUEST, 4));
        ASSERT_OK(hcall_vcpu_info(h, id, 1, &vi, NULL));
        ASSERT_TRUE(vi.online);
        ASSERT_GE(vi.cpu, 0);
        xreal_xl("shutdown %s", REAL_GUEST);
        deadline = xreal_now_ms() + XREAL_EVENT_MS;
        do {
                ASSERT_OK(hcall_domain_info(h, id, &info, NULL));
                if (!info.shutdown)
                        (void) usleep(500 * 1000);
        } while (!info.shutdown && xreal_now_ms() < deadline);
        ASSERT_TRUE(info.shutdown);
        ASSERT_EQ(info.shutdown_code, HCALL_SHUTDOWN_POWEROFF);
        ASSERT_EQ(info.state, 5);
        ASSERT_EQ(info.reason, 1);
        ASSERT_TRUE(xl_state_has(REAL_GUEST, 's'));

        /* Destroy through xl: gone for the hypercall channel too. Dom0 is refused. */
        ASSERT_ERROR(hcall_domain_destroy(h, 0, NULL), EBUSY);
        xreal_xl("destroy %s", REAL_GUEST);
        deadline = xreal_now_ms() + XREAL_EVENT_MS;
        while (hcall_domain_info(h, id, &info, NULL) >= 0 && xreal_now_ms() < deadline)
                (void) usleep(200 * 1000);
        ASSERT_ERROR(hcall_domain_info(h, id, &info, &error), ESRCH);
        ASSERT_EQ(error.code, XVP_ERR_NO_DOMAIN);
        ASSERT_EQ(error.domain, XVP_FROM_XEN);
        xv_error_done(&error);
        ASSERT_ERROR(hcall_domain_pause(h, id, NULL), ESRCH);
}

int main(int argc, char *argv[]) {
        /* Real Xen: the real libxencall, no re-execution, only the real_* tests. */
        if (xreal_enabled())
                return xreal_main(argc, argv);
        /* The replacement libxencall must be found by the dynamic linker, which reads
         * LD_LIBRARY_PATH only at startup: re-execute once with it set. */
        if (!getenv("XV_TEST_HCALL_REEXEC")) {
                _cleanup_free_ char *libs = NULL, *path = NULL;
                const char *old = getenv("LD_LIBRARY_PATH");
                char self[4096];
                ssize_t l;

                if (asprintf(&libs, "%s/tests/xensim/hv/.libs", xsim_builddir()) < 0 ||
                    asprintf(&path, "%s%s%s", libs, old ? ":" : "", strempty(old)) < 0)
                        return EXIT_FAILURE;
                if (setenv("LD_LIBRARY_PATH", path, 1) < 0 || setenv("XV_TEST_HCALL_REEXEC", "1", 1) < 0)
                        return EXIT_FAILURE;
                /* The program's own path, not /proc/self/exe: under valgrind that is valgrind's
                 * tool, which only valgrind's readlink() emulation resolves to this program. */
                l = readlink("/proc/self/exe", self, sizeof(self) - 1);
                if (l <= 0)
                        return EXIT_FAILURE;
                self[l] = 0;
                execv(self, argv);
                fprintf(stderr, "Cannot re-execute: %m\n");
                return EXIT_FAILURE;
        }
        return test_main(argc, argv);
}
