/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xensim's host state and the helpers around it: lifecycle, on_* actions, events, lookups,
 * setters' range checks, the device-number rules of the host files and the control commands. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests.h"
#include "xsim-bench.h"
#include "xsim-control.h"
#include "xsim-hostfiles.h"
#include "xsim-state.h"
#include "xv-alloc.h"
#include "xv-fileio.h"
#include "xv-sexpr.h"
#include "xv-strbuf.h"

typedef struct EventLog {
        char text[4096];
} EventLog;

static void log_event(XsimHost *host, XsimEvent event, XsimDomain *d, void *userdata) {
        static const char *const names[] = { "introduced", "released", "changed", "defined", "undefined" };
        EventLog *l = userdata;
        size_t len = strlen(l->text);

        (void) snprintf(l->text + len, sizeof(l->text) - len, "%s:%s:%d ", names[event], d->name, d->domid);
}

static XsimHost *new_host(int version, sd_event **ret_event) {
        XsimHost *host = NULL;

        ASSERT_OK(sd_event_new(ret_event));
        ASSERT_OK(xsim_host_new(*ret_event, version, NULL, &host));
        return host;
}

/* Runs the loop until nothing is pending for 100 ms (the on_* actions run on short timers). */
static void settle(sd_event *e) {
        for (int i = 0; i < 100; i++) {
                int r = sd_event_run(e, 100 * 1000);

                ASSERT_TRUE(r >= 0);
                if (r == 0)
                        return;
        }
}

TEST(dom0_exists_from_the_start) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(xsim_host_freep) XsimHost *host = new_host(4, &e);
        XsimDomain *d0 = xsim_domain_by_id(host, 0);
        char buf[7];

        ASSERT_NOT_NULL(d0);
        ASSERT_STREQ(d0->name, "Domain-0");
        ASSERT_TRUE(uuid_is_zero(&d0->uuid));
        ASSERT_EQ(d0->state, XSIM_STATE_RUNNING);
        ASSERT_FALSE(d0->managed);
        ASSERT_EQ(d0->max_vcpus, host->nr_cpus);
        ASSERT_STREQ(xsim_domain_state_string(d0, buf), "r-----");
        ASSERT_EQ(xsim_host_free_memory_kib(host), host->total_memory_kib - d0->memory_kib);
        ASSERT_TRUE(xsim_domain_lookup(host, "0") == d0);
        ASSERT_TRUE(xsim_domain_lookup(host, "Domain-0") == d0);
        ASSERT_TRUE(xsim_domain_lookup(host, "00000000-0000-0000-0000-000000000000") == d0);
        ASSERT_TRUE(xsim_domain_lookup(host, "00000000000000000000000000000000") == d0);
        ASSERT_NULL(xsim_domain_lookup(host, "nosuch"));
        ASSERT_EQ(host->xen_major, 4u);
}

TEST(xend_config_version_picks_the_xen_release) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(xsim_host_freep) XsimHost *host = new_host(1, &e);
        XsimHost *bad = NULL;

        ASSERT_EQ(host->xen_major, 3u);
        ASSERT_EQ(host->xen_minor, 0u);
        ASSERT_STREQ(host->xen_extra, ".2");
        ASSERT_ERROR(xsim_host_new(e, 5, NULL, &bad), EINVAL);
        ASSERT_ERROR(xsim_host_new(e, 0, NULL, &bad), EINVAL);
}

TEST(dom0_is_protected) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(xsim_host_freep) XsimHost *host = new_host(4, &e);
        XsimDomain *d0 = xsim_domain_by_id(host, 0);
        XvError error = XV_ERROR_NULL;

        ASSERT_TRUE(xsim_domain_destroy(d0, &error) < 0);
        ASSERT_STREQ(error.message, "Cannot destroy privileged domain Domain-0");
        ASSERT_EQ(error.code, XVP_ERR_OPERATION_DENIED);
        xv_error_done(&error);
        ASSERT_TRUE(xsim_domain_pause(d0, NULL) < 0);
        ASSERT_TRUE(xsim_domain_shutdown(d0, XSIM_SHUTDOWN_POWEROFF, NULL) < 0);
        ASSERT_TRUE(xsim_domain_crash(d0, NULL) < 0);
        ASSERT_EQ(d0->state, XSIM_STATE_RUNNING);
}

TEST(create_starts_paused_with_increasing_domids) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(xsim_host_freep) XsimHost *host = new_host(4, &e);
        EventLog log = {};
        XvError error = XV_ERROR_NULL;
        XsimDomain *a, *b;
        XvUuid u;
        char buf[7];

        ASSERT_OK(xsim_host_add_listener(host, log_event, &log));
        ASSERT_OK(xsim_domain_create(host, "a", NULL, false, 65536, 0, 2, NULL, &a, NULL));
        ASSERT_EQ(a->domid, 1);
        ASSERT_EQ(a->state, XSIM_STATE_PAUSED);
        ASSERT_STREQ(xsim_domain_state_string(a, buf), "--p---");
        ASSERT_EQ(a->max_memory_kib, 65536u);
        ASSERT_FALSE(uuid_is_zero(&a->uuid));
        ASSERT_STREQ(a->on_poweroff, "destroy");
        ASSERT_STREQ(a->on_reboot, "restart");
        ASSERT_STREQ(a->on_crash, "restart");
        ASSERT_STREQ(log.text, "introduced:a:1 ");

        /* Names and UUIDs are unique. */
        ASSERT_ERROR(xsim_domain_create(host, "a", NULL, false, 65536, 0, 1, NULL, NULL, &error), EEXIST);
        ASSERT_STREQ(error.message, "Domain 'a' already exists with ID '1'");
        xv_error_done(&error);
        u = a->uuid;
        ASSERT_ERROR(xsim_domain_create(host, "b", &u, false, 65536, 0, 1, NULL, NULL, NULL), EEXIST);
        /* Bad sizes. */
        ASSERT_ERROR(xsim_domain_create(host, "b", NULL, false, 65536, 0, 0, NULL, NULL, NULL), EINVAL);
        ASSERT_ERROR(xsim_domain_create(host, "b", NULL, false, 65536, 1024, 1, NULL, NULL, NULL), EINVAL);
        ASSERT_TRUE(xsim_domain_create(host, "b", NULL, false, host->total_memory_kib, 0, 1, NULL, NULL, NULL) < 0);

        /* Domids increase and are never reused. */
        ASSERT_OK(xsim_domain_destroy(a, NULL));
        ASSERT_NULL(xsim_domain_by_name(host, "a"));
        ASSERT_OK(xsim_domain_create(host, "b", NULL, false, 65536, 0, 1, NULL, &b, NULL));
        ASSERT_EQ(b->domid, 2);
        ASSERT_TRUE(xsim_domain_lookup(host, "2") == b);
}

TEST(pause_unpause_states_and_cpu_time) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(xsim_host_freep) XsimHost *host = new_host(4, &e);
        XvError error = XV_ERROR_NULL;
        XsimDomain *d;
        uint64_t t;

        ASSERT_OK(xsim_domain_create(host, "vm", NULL, false, 65536, 0, 2, NULL, &d, NULL));
        ASSERT_OK(xsim_domain_unpause(d, NULL));
        ASSERT_EQ(d->state, XSIM_STATE_RUNNING);
        ASSERT_TRUE(xsim_domain_unpause(d, &error) < 0);
        ASSERT_EQ(error.code, XVP_ERR_OPERATION_INVALID);
        ASSERT_STREQ(error.message, "Domain 'vm' is not paused");
        xv_error_done(&error);

        (void) usleep(20000);
        xsim_domain_account(d);
        ASSERT_GE(d->cpu_time_ns, UINT64_C(2) * 15000000);      /* two vcpus, ~20 ms each */
        ASSERT_GE(d->vcpus[0].cpu_time_ns, UINT64_C(15000000));
        ASSERT_OK(xsim_domain_pause(d, NULL));
        t = d->cpu_time_ns;
        (void) usleep(10000);
        xsim_domain_account(d);
        ASSERT_EQ(d->cpu_time_ns, t);                           /* a paused domain does not run */
        ASSERT_TRUE(xsim_domain_pause(d, NULL) < 0);
        ASSERT_OK(xsim_domain_unpause(d, NULL));
}

TEST(shutdown_actions) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(xsim_host_freep) XsimHost *host = new_host(4, &e);
        _cleanup_(sexpr_freep) Sexpr *cfg = NULL;
        EventLog log = {};
        XsimDomain *d, *p;
        char buf[7];

        ASSERT_OK(xsim_host_add_listener(host, log_event, &log));
        ASSERT_OK(xsim_domain_create(host, "vm", NULL, false, 65536, 0, 1, NULL, &d, NULL));
        ASSERT_OK(xsim_domain_unpause(d, NULL));

        /* reboot → restart: released, then introduced with a new domid, running. */
        ASSERT_OK(xsim_domain_shutdown(d, XSIM_SHUTDOWN_REBOOT, NULL));
        ASSERT_EQ(d->state, XSIM_STATE_SHUTDOWN);
        ASSERT_STREQ(xsim_domain_state_string(d, buf), "---s--");
        settle(e);
        d = xsim_domain_by_name(host, "vm");
        ASSERT_NOT_NULL(d);
        ASSERT_EQ(d->domid, 2);
        ASSERT_EQ(d->state, XSIM_STATE_RUNNING);

        /* crash → restart (the default on_crash). */
        ASSERT_OK(xsim_domain_crash(d, NULL));
        ASSERT_STREQ(xsim_domain_state_string(d, buf), "----c-");
        settle(e);
        ASSERT_EQ(d->domid, 3);

        /* poweroff → destroy: gone. */
        ASSERT_OK(xsim_domain_shutdown(d, XSIM_SHUTDOWN_POWEROFF, NULL));
        settle(e);
        ASSERT_NULL(xsim_domain_by_name(host, "vm"));
        ASSERT_STREQ(log.text,
                     "introduced:vm:1 changed:vm:1 changed:vm:1 released:vm:1 introduced:vm:2 "
                     "changed:vm:2 released:vm:2 introduced:vm:3 changed:vm:3 released:vm:3 ");

        /* on_crash preserve from the config: stays crashed until destroyed. */
        ASSERT_OK(sexpr_parse_string("(vm (name p) (on_crash preserve))", &cfg, NULL));
        ASSERT_OK(xsim_domain_create(host, "p", NULL, false, 65536, 0, 1, TAKE_PTR(cfg), &p, NULL));
        ASSERT_STREQ(p->on_crash, "preserve");
        ASSERT_OK(xsim_domain_crash(p, NULL));
        settle(e);
        ASSERT_EQ(p->state, XSIM_STATE_CRASHED);
        ASSERT_TRUE(xsim_domain_unpause(p, NULL) < 0);
        ASSERT_OK(xsim_domain_destroy(p, NULL));
        ASSERT_NULL(xsim_domain_by_name(host, "p"));
}

TEST(destroy_with_pending_action) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(xsim_host_freep) XsimHost *host = new_host(4, &e);
        XsimDomain *d;

        ASSERT_OK(xsim_domain_create(host, "vm", NULL, false, 65536, 0, 1, NULL, &d, NULL));
        ASSERT_OK(xsim_domain_shutdown(d, XSIM_SHUTDOWN_REBOOT, NULL));
        ASSERT_OK(xsim_domain_destroy(d, NULL));        /* cancels the restart timer */
        settle(e);
        ASSERT_NULL(xsim_domain_by_name(host, "vm"));
        ASSERT_EQ(host->n_domains, 1u);
}

TEST(managed_domains) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(xsim_host_freep) XsimHost *host = new_host(3, &e);
        _cleanup_(sd_event_unrefp) sd_event *e2 = NULL;
        _cleanup_(xsim_host_freep) XsimHost *old = new_host(2, &e2);
        XsimDomain *d, *again;
        uint64_t free_before = xsim_host_free_memory_kib(host);
        char buf[7];

        ASSERT_ERROR(xsim_domain_define(old, "m", NULL, false, 65536, 0, 1, NULL, NULL, NULL), EOPNOTSUPP);

        ASSERT_OK(xsim_domain_define(host, "m", NULL, false, 65536, 0, 1, NULL, &d, NULL));
        ASSERT_EQ(d->domid, -1);
        ASSERT_EQ(d->state, XSIM_STATE_HALTED);
        ASSERT_STREQ(xsim_domain_state_string(d, buf), "------");
        ASSERT_EQ(xsim_host_free_memory_kib(host), free_before);
        ASSERT_TRUE(xsim_domain_pause(d, NULL) < 0);
        ASSERT_TRUE(xsim_domain_destroy(d, NULL) < 0);

        /* Redefinition replaces the facts of a halted domain. */
        ASSERT_OK(xsim_domain_define(host, "m", &d->uuid, false, 131072, 0, 2, NULL, &again, NULL));
        ASSERT_TRUE(again == d);
        ASSERT_EQ(d->memory_kib, 131072u);
        ASSERT_EQ(d->max_vcpus, 2u);

        ASSERT_OK(xsim_domain_start(d, NULL));
        ASSERT_EQ(d->domid, 1);
        ASSERT_EQ(d->state, XSIM_STATE_PAUSED);
        ASSERT_EQ(xsim_host_free_memory_kib(host), free_before - 131072);
        ASSERT_TRUE(xsim_domain_start(d, NULL) < 0);
        ASSERT_TRUE(xsim_domain_undefine(d, NULL) < 0);

        /* Destroying a managed domain leaves it halted; start gives a new domid. */
        ASSERT_OK(xsim_domain_destroy(d, NULL));
        ASSERT_TRUE(xsim_domain_by_name(host, "m") == d);
        ASSERT_EQ(d->domid, -1);
        ASSERT_EQ(d->state, XSIM_STATE_HALTED);
        ASSERT_OK(xsim_domain_start(d, NULL));
        ASSERT_EQ(d->domid, 2);
        ASSERT_OK(xsim_domain_destroy(d, NULL));
        ASSERT_OK(xsim_domain_undefine(d, NULL));
        ASSERT_NULL(xsim_domain_by_name(host, "m"));
}

TEST(setters_check_ranges) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(xsim_host_freep) XsimHost *host = new_host(4, &e);
        XsimDomain *d;

        ASSERT_OK(xsim_domain_create(host, "vm", NULL, false, 65536, 131072, 2, NULL, &d, NULL));
        ASSERT_OK(xsim_domain_set_memory(d, 100000, NULL));
        ASSERT_EQ(d->memory_kib, 100000u);
        ASSERT_TRUE(xsim_domain_set_memory(d, 200000, NULL) < 0);
        ASSERT_TRUE(xsim_domain_set_memory(d, 0, NULL) < 0);
        ASSERT_OK(xsim_domain_set_max_memory(d, 80000, NULL));
        ASSERT_EQ(d->memory_kib, 80000u);
        ASSERT_TRUE(xsim_domain_set_max_memory(d, host->total_memory_kib + 1, NULL) < 0);

        ASSERT_OK(xsim_domain_set_vcpus(d, 1, NULL));
        ASSERT_TRUE(d->vcpus[0].online);
        ASSERT_FALSE(d->vcpus[1].online);
        ASSERT_TRUE(xsim_domain_set_vcpus(d, 3, NULL) < 0);    /* above max on a live domain */
        ASSERT_TRUE(xsim_domain_set_vcpus(d, 0, NULL) < 0);

        ASSERT_OK(xsim_domain_pin_vcpu(d, 1, 0x4, NULL));
        ASSERT_EQ(d->vcpus[1].affinity, UINT64_C(0x4));
        ASSERT_EQ(d->vcpus[1].cpu, 2);
        ASSERT_TRUE(xsim_domain_pin_vcpu(d, 2, 0x1, NULL) < 0);
        ASSERT_TRUE(xsim_domain_pin_vcpu(d, 0, UINT64_C(1) << 40, NULL) < 0);  /* no such host cpu */

        ASSERT_OK(xsim_domain_set_sched(d, 512, 50, NULL));
        ASSERT_EQ(d->sched_weight, 512u);
        ASSERT_TRUE(xsim_domain_set_sched(d, 0, 0, NULL) < 0);
        ASSERT_TRUE(xsim_domain_set_sched(d, 256, 65535, NULL) < 0);
}

TEST(disk_devids_follow_linux) {
        int id;

        ASSERT_OK(xsim_disk_devid("xvda", &id));
        ASSERT_EQ(id, 51712);
        ASSERT_OK(xsim_disk_devid("xvdb1", &id));
        ASSERT_EQ(id, (202 << 8) | 16 | 1);
        ASSERT_OK(xsim_disk_devid("/dev/xvdp", &id));
        ASSERT_EQ(id, (202 << 8) | (15 << 4));
        ASSERT_OK(xsim_disk_devid("xvdq", &id));
        ASSERT_EQ(id, (1 << 28) | (16 << 8));
        ASSERT_OK(xsim_disk_devid("xvdaa", &id));
        ASSERT_EQ(id, (1 << 28) | (26 << 8));
        ASSERT_OK(xsim_disk_devid("hda", &id));
        ASSERT_EQ(id, 768);
        ASSERT_OK(xsim_disk_devid("hdb:disk", &id));
        ASSERT_EQ(id, 768 + 64);
        ASSERT_OK(xsim_disk_devid("hdc:cdrom", &id));
        ASSERT_EQ(id, 22 << 8);
        ASSERT_OK(xsim_disk_devid("ioemu:hdd", &id));
        ASSERT_EQ(id, (22 << 8) + 64);
        ASSERT_OK(xsim_disk_devid("sda", &id));
        ASSERT_EQ(id, 2048);
        ASSERT_OK(xsim_disk_devid("sdq", &id));
        ASSERT_EQ(id, 65 << 8);
        ASSERT_ERROR(xsim_disk_devid("vda", &id), EINVAL);
        ASSERT_ERROR(xsim_disk_devid("xvd", &id), EINVAL);
        ASSERT_ERROR(xsim_disk_devid("xvda1x", &id), EINVAL);
}

TEST(control_commands) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(xsim_host_freep) XsimHost *host = new_host(4, &e);
        _cleanup_(xsim_control_freep) XsimControl *c = NULL;
        char path[] = "/tmp/xsim-control-test.XXXXXX";
        char sock[sizeof(path) + 16];
        _cleanup_free_ char *out = NULL;
        XvError error = XV_ERROR_NULL;
        StrBuf b = STRBUF_INIT;

        ASSERT_NOT_NULL(mkdtemp(path));
        (void) snprintf(sock, sizeof(sock), "%s/ctl", path);
        ASSERT_OK(xsim_control_new(host, sock, NULL, &c));

        ASSERT_OK(xsim_control_run(c, "xend delay 250", &b, NULL));
        ASSERT_EQ(host->faults.xend_delay_ms, 250u);
        ASSERT_OK(xsim_control_run(c, "xend garbage on", &b, NULL));
        ASSERT_TRUE(host->faults.xend_garbage);
        ASSERT_OK(xsim_control_run(c, "xend partial on", &b, NULL));
        ASSERT_TRUE(host->faults.xend_partial);
        ASSERT_TRUE(xsim_control_run(c, "xenstore watches @introduceDomain", &b, &error) < 0);  /* no xenstore */
        xv_error_done(&error);
        ASSERT_OK(xsim_control_run(c, "xenstore stale on", &b, NULL));
        ASSERT_TRUE(host->faults.xenstore_stale);
        ASSERT_OK(xsim_control_run(c, "hypervisor fail on", &b, NULL));
        ASSERT_TRUE(host->faults.hypervisor_fail);
        ASSERT_TRUE(xsim_control_run(c, "xend absent on", &b, &error) < 0);     /* no XenD here */
        xv_error_done(&error);
        ASSERT_TRUE(xsim_control_run(c, "xend garbage maybe", &b, &error) < 0);
        ASSERT_STREQ(error.message, "Expected 'on' or 'off', got 'maybe'");
        xv_error_done(&error);

        ASSERT_OK(xsim_control_run(c, "domain create g1 96 2", &b, NULL));
        ASSERT_STREQ(strbuf_get(&b), "1\n");
        strbuf_done(&b);
        XsimDomain *d = xsim_domain_by_name(host, "g1");
        ASSERT_NOT_NULL(d);
        ASSERT_EQ(d->state, XSIM_STATE_RUNNING);
        ASSERT_EQ(d->memory_kib, UINT64_C(96) * 1024);
        ASSERT_STREQ(sexpr_node(d->config, "vm/image/linux/root"), "/dev/xvda1");

        ASSERT_OK(xsim_control_run(c, "list", &b, NULL));
        ASSERT_OK(strbuf_steal(&b, &out));
        ASSERT_NOT_NULL(strstr(out, "0 Domain-0 running r----- "));
        ASSERT_NOT_NULL(strstr(out, "1 g1 running r----- 98304 2 "));
        ASSERT_OK(xsim_control_run(c, "stats", &b, NULL));
        ASSERT_NOT_NULL(strstr(strbuf_get(&b), "xend_requests 0\n"));
        strbuf_done(&b);

        ASSERT_OK(xsim_control_run(c, "domain shutdown g1 poweroff", &b, NULL));
        settle(e);
        ASSERT_NULL(xsim_domain_by_name(host, "g1"));
        ASSERT_TRUE(xsim_control_run(c, "domain crash nosuch", &b, &error) < 0);
        ASSERT_EQ(error.code, XVP_ERR_NO_DOMAIN);
        xv_error_done(&error);
        ASSERT_TRUE(xsim_control_run(c, "", &b, NULL) < 0);
        ASSERT_TRUE(xsim_control_run(c, "a b c d e f g h i", &b, NULL) < 0);

        c = xsim_control_free(c);
        (void) rmdir(path);
}

TEST(host_files_follow_the_state) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(xsim_host_freep) XsimHost *host = NULL;
        _cleanup_(xsim_hostfiles_freep) XsimHostFiles *files = NULL;
        char root[] = "/tmp/xsim-root-test.XXXXXX", p[256];
        _cleanup_free_ char *netdev = NULL;
        XsimDomain *d;

        ASSERT_NOT_NULL(mkdtemp(root));
        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(xsim_host_new(e, 4, root, &host));
        ASSERT_OK(xsim_hostfiles_new(host, &files));
        ASSERT_OK(xsim_control_create_domain(host, "g", 64, 1, false, &d, NULL));
        settle(e);
        {
                char u[UUID_STRING_BUF];

                (void) snprintf(p, sizeof(p), "%s/var/lib/xend/domains/%s", root, uuid_format(&d->uuid, u));
                ASSERT_TRUE(access(p, F_OK) < 0);       /* created, not managed */
        }
        (void) snprintf(p, sizeof(p), "%s/sys/bus/xen-backend/devices/vbd-1-51712/statistics/wr_sect", root);
        ASSERT_EQ(access(p, R_OK), 0);
        (void) snprintf(p, sizeof(p), "%s/proc/net/dev", root);
        ASSERT_OK(read_full_file(p, 65536, &netdev, NULL));
        ASSERT_NOT_NULL(strstr(netdev, "vif1.0:"));
        netdev = mfree(netdev);

        ASSERT_OK(xsim_domain_destroy(d, NULL));
        settle(e);
        (void) snprintf(p, sizeof(p), "%s/sys/bus/xen-backend/devices/vbd-1-51712", root);
        ASSERT_TRUE(access(p, F_OK) < 0);
        (void) snprintf(p, sizeof(p), "%s/proc/net/dev", root);
        ASSERT_OK(read_full_file(p, 65536, &netdev, NULL));
        ASSERT_NULL(strstr(netdev, "vif1.0:"));
        (void) snprintf(p, sizeof(p), "%s/proc/cpuinfo", root);
        ASSERT_EQ(access(p, R_OK), 0);

        /* XenD's directory of a managed domain: there from op=new to op=delete; a domain that
         * was only created (like "g") has none. */
        {
                char u[UUID_STRING_BUF];
                XvUuid uuid;
                XsimDomain *m;

                ASSERT_OK(uuid_from_string("6b656e63-6800-4000-8000-0000000000aa", &uuid));
                ASSERT_OK(xsim_domain_define(host, "m", &uuid, false, 65536, 65536, 1, NULL, &m, NULL));
                (void) snprintf(p, sizeof(p), "%s/var/lib/xend/domains/%s", root, uuid_format(&uuid, u));
                ASSERT_EQ(access(p, F_OK), 0);
                ASSERT_OK(xsim_domain_undefine(m, NULL));
                ASSERT_TRUE(access(p, F_OK) < 0);
        }

        files = xsim_hostfiles_free(files);
        (void) snprintf(p, sizeof(p), "rm -rf '%s'", root);
        ASSERT_EQ(system(p), 0);        /* NOLINT(cert-env33-c): our own mkdtemp() directory */
}

/* "bench populate": the domains rpcbench's setup would define (names, UUIDs, MACs), cloned from a
 * seed's configuration, every second one running. */
TEST(bench_populate) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(xsim_host_freep) XsimHost *host = new_host(4, &e);
        _cleanup_(xsim_control_freep) XsimControl *c = NULL;
        _cleanup_(sexpr_freep) Sexpr *cfg = NULL;
        char path[] = "/tmp/xsim-bench-test.XXXXXX";
        char sock[sizeof(path) + 16];
        XvError error = XV_ERROR_NULL;
        StrBuf b = STRBUF_INIT;
        XsimDomain *seed, *d;
        XvUuid u;

        ASSERT_NOT_NULL(mkdtemp(path));
        (void) snprintf(sock, sizeof(sock), "%s/ctl", path);
        ASSERT_OK(xsim_control_new(host, sock, NULL, &c));
        ASSERT_OK(uuid_from_string("6b656e63-6800-4000-8000-00000005eed0", &u));
        ASSERT_OK(sexpr_parse_string("(vm (name xvbench-seed) (uuid 6b656e63-6800-4000-8000-00000005eed0) "
                                     "(memory 2) (vcpus 1) (image (linux (kernel /boot/vmlinuz-bench))) "
                                     "(device (vbd (dev xvda) (uname file:/var/lib/xen/images/xvbench-seed.img) (mode w))) "
                                     "(device (vif (mac 00:16:3e:ff:ff:fc) (bridge xenbr0))))", &cfg, NULL));
        ASSERT_OK(xsim_domain_define(host, "xvbench-seed", &u, false, 2048, 2048, 1, TAKE_PTR(cfg), &seed, NULL));

        ASSERT_OK(xsim_control_run(c, "bench populate xvbench-seed bench-a 0 3", &b, NULL));
        ASSERT_OK(xsim_control_run(c, "bench populate xvbench-seed bench-a 3 2", &b, NULL));
        for (unsigned i = 0; i < 5; i++) {
                char name[XSIM_BENCH_NAME_MAX], uuid[40], mac[20], img[128], u2[UUID_STRING_BUF];

                xsim_bench_identity("bench-a", i, name, uuid, mac);
                d = xsim_domain_by_name(host, name);
                ASSERT_NOT_NULL(d);
                ASSERT_TRUE(d->managed);
                ASSERT_STREQ(uuid_format(&d->uuid, u2), uuid);
                ASSERT_STREQ(sexpr_node(d->config, "vm/name"), name);
                ASSERT_STREQ(sexpr_node(d->config, "vm/uuid"), uuid);
                {
                        _cleanup_free_ char *text = NULL;
                        char want[64];

                        ASSERT_OK(sexpr_format(d->config, &text));
                        (void) snprintf(want, sizeof(want), "(mac %s)", mac);
                        ASSERT_NOT_NULL(strstr(text, want));
                        (void) snprintf(img, sizeof(img), "(uname file:/var/lib/xen/images/%s.img)", name);
                        ASSERT_NOT_NULL(strstr(text, img));
                        ASSERT_NULL(strstr(text, "seed"));
                }
                ASSERT_EQ(d->memory_kib, UINT64_C(2048));
                if (i % 2 == 0) {
                        ASSERT_GT(d->domid, 0);
                        ASSERT_EQ(d->state, XSIM_STATE_RUNNING);
                } else
                        ASSERT_EQ(d->domid, -1);
        }
        /* rpcbench's scheme: FNV-1a of the prefix, then the index. */
        d = xsim_domain_by_name(host, "bench-a00001");
        {
                char u2[UUID_STRING_BUF];

                ASSERT_STREQ(uuid_format(&d->uuid, u2), "3c661d27-b3e7-4000-8000-000000000001");
        }
        ASSERT_NULL(xsim_domain_by_name(host, "bench-a00005"));
        ASSERT_STREQ(sexpr_node(seed->config, "vm/name"), "xvbench-seed");

        /* An existing name, an unknown seed, a bad prefix or count: refused. */
        ASSERT_TRUE(xsim_control_run(c, "bench populate xvbench-seed bench-a 4 1", &b, &error) < 0);
        xv_error_done(&error);
        ASSERT_TRUE(xsim_control_run(c, "bench populate nosuch bench-b 0 1", &b, &error) < 0);
        xv_error_done(&error);
        ASSERT_TRUE(xsim_control_run(c, "bench populate xvbench-seed (x 0 1", &b, &error) < 0);
        xv_error_done(&error);
        ASSERT_TRUE(xsim_control_run(c, "bench populate xvbench-seed bench-c 0 99999999", &b, &error) < 0);
        xv_error_done(&error);
        ASSERT_TRUE(xsim_control_run(c, "bench populate xvbench-seed bench-c 0", &b, &error) < 0);
        xv_error_done(&error);
        strbuf_done(&b);
        c = xsim_control_free(c);
        (void) unlink(sock);
        (void) rmdir(path);
}

DEFINE_TEST_MAIN
