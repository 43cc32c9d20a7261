/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The xenstore channel (src/xen/xv-xenstore.c) through the real libxenstore against a private
 * xensim: reads are checked against xensim's own view (xensim-ctl list), writes against what
 * xensim's guest does with them, watches against domain lifecycle changes, reconnect against
 * "xenstore absent on|off". The pure parsers are table-driven.
 *
 * With XV_TEST_REAL_XEN=1 (in dom0, run by the real-Xen lane, tests/xen-lane) only the real_*
 * tests run: the real xenstored, checked against xl and the xenstore-* tools
 * (tests/unit/test-xen-real.h).
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <xenstore.h>

#include "tests.h"
#include "test-xen-real.h"
#include "xsim-launch.h"
#include "xv-alloc.h"
#include "xv-uuid.h"
#include "xv-xenstore.h"

/* ---- parsers ---- */

TEST(parse_domid) {
        static const struct {
                const char *s;
                int expect;     /* -1 = rejected */
        } cases[] = {
                { "0", 0 }, { "1", 1 }, { "32751", 32751 }, { "32752", -1 }, { "65535", -1 },
                { "01", -1 }, { "", -1 }, { "-1", -1 }, { "+1", -1 }, { " 1", -1 }, { "1 ", -1 },
                { "1a", -1 }, { "0x1", -1 }, { "99999999999999999999", -1 }, { "backend", -1 },
        };
        int id;

        ASSERT_ERROR(xenstore_parse_domid(NULL, &id), EINVAL);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r = xenstore_parse_domid(cases[i].s, &id);

                if (cases[i].expect < 0) {
                        if (r != -EINVAL)
                                test_fail(__FILE__, __LINE__, "'%s' accepted", cases[i].s);
                } else {
                        ASSERT_OK(r);
                        ASSERT_EQ(id, cases[i].expect);
                }
        }
}

TEST(parse_vm_path) {
        static const struct {
                const char *s;
                const char *uuid;       /* NULL = rejected */
        } cases[] = {
                { "/vm/4dea22b3-1d52-d8f3-2516-782e98ab3fa0", "4dea22b3-1d52-d8f3-2516-782e98ab3fa0" },
                { "/vm/4DEA22B3-1D52-D8F3-2516-782E98AB3FA0", "4dea22b3-1d52-d8f3-2516-782e98ab3fa0" },
                { "/vm/4dea22b3-1d52-d8f3-2516-782e98ab3fa0-1", "4dea22b3-1d52-d8f3-2516-782e98ab3fa0" },
                { "/vm/4dea22b3-1d52-d8f3-2516-782e98ab3fa0-12", "4dea22b3-1d52-d8f3-2516-782e98ab3fa0" },
                { "/vm/4dea22b31d52d8f32516782e98ab3fa0", "4dea22b3-1d52-d8f3-2516-782e98ab3fa0" },
                { "/vm/00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000" },
                { "/vm/4dea22b3-1d52-d8f3-2516-782e98ab3fa0-", NULL },
                { "/vm/4dea22b3-1d52-d8f3-2516-782e98ab3fa0-x", NULL },
                { "/vm/4dea22b3-1d52-d8f3-2516-782e98ab3fa0/image", NULL },
                { "/vm/4dea22b3-1d52-d8f3-2516-782e98ab3fa", NULL },
                { "/vm/4dea22b3-1d52-d8f3-2516-782e98ab3fag", NULL },
                { "/vm/4dea22b31d52-d8f3-2516-782e98ab3fa0xx", NULL },
                { "/vm/", NULL },
                { "/vm", NULL },
                { "vm/4dea22b3-1d52-d8f3-2516-782e98ab3fa0", NULL },
                { "/local/domain/1", NULL },
                { "", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[UUID_STRING_BUF];
                XvUuid u;
                int r = xenstore_parse_vm_path(cases[i].s, &u);

                if (!cases[i].uuid) {
                        if (r != -EINVAL)
                                test_fail(__FILE__, __LINE__, "'%s' accepted", cases[i].s);
                        continue;
                }
                ASSERT_OK(r);
                ASSERT_STREQ(uuid_format(&u, buf), cases[i].uuid);
        }
}

TEST(path_domid) {
        int id = -1;

        ASSERT_OK(xenstore_path_domid("/local/domain/7", &id));
        ASSERT_EQ(id, 7);
        ASSERT_OK(xenstore_path_domid("/local/domain/12/control/shutdown", &id));
        ASSERT_EQ(id, 12);
        ASSERT_ERROR(xenstore_path_domid("/local/domain/", &id), EINVAL);
        ASSERT_ERROR(xenstore_path_domid("/local/domain//x", &id), EINVAL);
        ASSERT_ERROR(xenstore_path_domid("/local/domain/07", &id), EINVAL);
        ASSERT_ERROR(xenstore_path_domid("/local/domain/7x", &id), EINVAL);
        ASSERT_ERROR(xenstore_path_domid("/local/domainx/7", &id), EINVAL);
        ASSERT_ERROR(xenstore_path_domid("@releaseDomain", &id), EINVAL);
        ASSERT_ERROR(xenstore_path_domid(NULL, &id), EINVAL);
}

TEST(parse_tty) {
        ASSERT_OK(xenstore_parse_tty("/dev/pts/5"));
        ASSERT_OK(xenstore_parse_tty("/dev/ttyS0"));
        ASSERT_ERROR(xenstore_parse_tty("/dev/"), EINVAL);
        ASSERT_ERROR(xenstore_parse_tty("/dev/pts/"), EINVAL);
        ASSERT_ERROR(xenstore_parse_tty("/dev/../etc/passwd"), EINVAL);
        ASSERT_ERROR(xenstore_parse_tty("/dev/pts/.."), EINVAL);
        ASSERT_ERROR(xenstore_parse_tty("/dev//pts/1"), EINVAL);
        ASSERT_ERROR(xenstore_parse_tty("/dev/pts/1\n"), EINVAL);
        ASSERT_ERROR(xenstore_parse_tty("/dev/pts 1"), EINVAL);
        ASSERT_ERROR(xenstore_parse_tty("pts/1"), EINVAL);
        ASSERT_ERROR(xenstore_parse_tty(""), EINVAL);
        ASSERT_ERROR(xenstore_parse_tty(NULL), EINVAL);
}

/* ---- against xensim ---- */

static void open_channel(bool read_only, XsChannel **ret) {
        XvError error = XV_ERROR_NULL;
        int r = xenstore_open(read_only, ret, &error);

        if (r < 0)
                test_fail(__FILE__, __LINE__, "xenstore_open: %s", strnull(error.message));
        xv_error_done(&error);
}

static bool domains_have(const XsDomain *l, size_t n, int id, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (l[i].id == id && streq_ptr(l[i].name, name))
                        return true;
        return false;
}

TEST(open_fails_without_xenstored) {
        static const char *const args[] = { "--no-xenstore", NULL };
        XvError error = XV_ERROR_NULL;
        XsimInstance x;
        XsChannel *c = NULL;

        xsim_start(&x, args);
        ASSERT_TRUE(xenstore_open(true, &c, &error) < 0);
        ASSERT_NULL(c);
        ASSERT_EQ(error.code, XVP_ERR_NO_XENSTORE);
        ASSERT_EQ(error.domain, XVP_FROM_XENSTORE);
        ASSERT_NOT_NULL(error.message);
        xv_error_done(&error);
        xsim_stop(&x);
}

TEST(list_and_read_domains) {
        _cleanup_(xenstore_closep) XsChannel *c = NULL;
        _cleanup_free_ int *ids = NULL;
        _cleanup_free_ char *name = NULL, *vm = NULL, *ostype = NULL, *tty = NULL, *sim_uuid = NULL;
        _cleanup_free_ char *expect_tty = NULL, *expect_vm = NULL;
        XvError error = XV_ERROR_NULL;
        XsDomain *doms = NULL;
        size_t n = 0, n_doms = 0;
        char buf[UUID_STRING_BUF];
        uint64_t kib = 0;
        XvUuid u;
        XsimInstance x;
        int id, port;

        xsim_start(&x, NULL);
        open_channel(true, &c);
        ASSERT_TRUE(xenstore_is_connected(c));
        ASSERT_TRUE(xenstore_is_read_only(c));

        ASSERT_OK(xenstore_list_domain_ids(c, &ids, &n, NULL));
        ASSERT_EQ(n, 1u);
        ASSERT_EQ(ids[0], 0);
        ids = mfree(ids);

        id = xsim_create_domain(&x, "guest1", 128, 2);
        ASSERT_GT(id, 0);
        sim_uuid = xsim_list_field(&x, "guest1", 7);
        ASSERT_NOT_NULL(sim_uuid);

        ASSERT_OK(xenstore_list_domain_ids(c, &ids, &n, NULL));
        ASSERT_EQ(n, 2u);
        ASSERT_EQ(ids[0], 0);
        ASSERT_EQ(ids[1], id);

        ASSERT_OK(xenstore_list_domains(c, &doms, &n_doms, NULL));
        ASSERT_EQ(n_doms, 2u);
        ASSERT_TRUE(domains_have(doms, n_doms, 0, "Domain-0"));
        ASSERT_TRUE(domains_have(doms, n_doms, id, "guest1"));
        ASSERT_EQ(doms[1].id, id);
        ASSERT_TRUE(doms[1].has_uuid);
        ASSERT_STREQ(uuid_format(&doms[1].uuid, buf), sim_uuid);
        xs_domains_free(doms, n_doms);

        ASSERT_OK(xenstore_get_domain_name(c, id, &name, NULL));
        ASSERT_STREQ(name, "guest1");
        ASSERT_OK(xenstore_get_domain_uuid(c, id, &u, NULL));
        ASSERT_STREQ(uuid_format(&u, buf), sim_uuid);
        ASSERT_OK(xenstore_get_vm_path(c, id, &vm, NULL));
        ASSERT_TRUE(asprintf(&expect_vm, "/vm/%s", sim_uuid) >= 0);
        ASSERT_STREQ(vm, expect_vm);
        ASSERT_OK(xenstore_get_os_type(c, id, &ostype, NULL));
        ASSERT_STREQ(ostype, "linux");
        ASSERT_OK(xenstore_get_console_tty(c, id, &tty, NULL));
        ASSERT_TRUE(asprintf(&expect_tty, "/dev/pts/%d", 100 + id) >= 0);
        ASSERT_STREQ(tty, expect_tty);
        ASSERT_OK(xenstore_get_memory_target(c, id, &kib, NULL));
        ASSERT_EQ(kib, 128u * 1024);

        /* A PV guest without a framebuffer has neither a serial tty nor a VNC port: the node is
         * missing while the domain exists. */
        ASSERT_ERROR(xenstore_get_serial_tty(c, id, &tty, &error), ENOENT);
        ASSERT_EQ(error.code, XVP_ERR_OPERATION_FAILED);
        ASSERT_EQ(error.domain, XVP_FROM_XENSTORE);
        xv_error_done(&error);
        ASSERT_ERROR(xenstore_get_vnc_port(c, id, &port, NULL), ENOENT);

        /* An id that is not there is "no domain". */
        ASSERT_ERROR(xenstore_get_domain_name(c, 4242, &name, &error), ENOENT);
        ASSERT_EQ(error.code, XVP_ERR_NO_DOMAIN);
        xv_error_done(&error);
        ASSERT_ERROR(xenstore_get_domain_name(c, -1, &name, NULL), EINVAL);
        ASSERT_ERROR(xenstore_get_domain_name(c, 40000, &name, NULL), EINVAL);

        /* Raw reads. */
        {
                _cleanup_free_ char *v = NULL;
                _cleanup_strv_free_ char **l = NULL;

                ASSERT_OK(xenstore_read(c, "/local/domain/0/name", &v, NULL));
                ASSERT_STREQ(v, "Domain-0");
                ASSERT_OK(xenstore_directory(c, "/local/domain", &l, NULL));
                ASSERT_EQ(strv_length(l), 2u);
                ASSERT_ERROR(xenstore_read(c, "/no/such/node", NULL, NULL), ENOENT);
                ASSERT_ERROR(xenstore_read(c, "relative", NULL, NULL), EINVAL);
        }

        /* The domain goes: its id leaves the list. */
        ASSERT_EQ(xsim_ctl(&x, NULL, "domain destroy guest1"), 0);
        ids = mfree(ids);
        ASSERT_OK(xenstore_list_domain_ids(c, &ids, &n, NULL));
        ASSERT_EQ(n, 1u);
        ASSERT_EQ(ids[0], 0);

        c = xenstore_close(c);
        xsim_stop(&x);
}

TEST(backend_devices) {
        _cleanup_(xenstore_closep) XsChannel *c = NULL;
        _cleanup_free_ char *sim_uuid = NULL;
        XvError error = XV_ERROR_NULL;
        char mac[32];
        XvUuid u;
        XsimInstance x;
        int id, devid = -1, state = -1;

        xsim_start(&x, NULL);
        open_channel(true, &c);
        id = xsim_create_domain(&x, "guest1", 64, 1);
        sim_uuid = xsim_list_field(&x, "guest1", 7);
        ASSERT_OK(uuid_from_string(sim_uuid, &u));

        /* xensim's "domain create" gives the guest disk xvda (devid 202 << 8) and one NIC whose
         * MAC is 00:16:3e + the first three bytes of its UUID. */
        ASSERT_OK(xenstore_find_disk_devid(c, id, "xvda", &devid, NULL));
        ASSERT_EQ(devid, 51712);
        devid = -1;
        ASSERT_OK(xenstore_find_disk_devid(c, id, "/dev/xvda", &devid, NULL));
        ASSERT_EQ(devid, 51712);
        ASSERT_ERROR(xenstore_find_disk_devid(c, id, "xvdb", &devid, &error), ENOENT);
        ASSERT_EQ(error.code, XVP_ERR_OPERATION_INVALID);
        ASSERT_EQ(error.domain, XVP_FROM_XENSTORE);
        xv_error_done(&error);
        ASSERT_ERROR(xenstore_find_disk_devid(c, id, "", &devid, NULL), EINVAL);

        (void) snprintf(mac, sizeof(mac), "00:16:3E:%02X:%02X:%02X", u.bytes[0], u.bytes[1], u.bytes[2]);
        devid = -1;
        ASSERT_OK(xenstore_find_nic_devid(c, id, mac, &devid, NULL));
        ASSERT_EQ(devid, 0);
        ASSERT_ERROR(xenstore_find_nic_devid(c, id, "00:16:3e:ff:ff:fe", &devid, NULL), ENOENT);

        ASSERT_ERROR(xenstore_find_pci_devid(c, id, "0000:00:1b.0", &devid, NULL), ENOENT);
        ASSERT_ERROR(xenstore_find_pci_devid(c, id, "00:1b", &devid, NULL), EINVAL);
        ASSERT_ERROR(xenstore_find_pci_devid(c, id, "zz:00.0", &devid, NULL), EINVAL);

        ASSERT_OK(xenstore_get_vbd_state(c, id, 51712, &state, NULL));
        ASSERT_EQ(state, XENSTORE_XENBUS_STATE_CONNECTED);
        ASSERT_ERROR(xenstore_get_vbd_state(c, id, 51728, &state, NULL), ENOENT);

        /* Another domain's devices are not this one's. */
        ASSERT_ERROR(xenstore_find_disk_devid(c, 0, "xvda", &devid, NULL), ENOENT);

        c = xenstore_close(c);
        xsim_stop(&x);
}

TEST(writes) {
        _cleanup_(xenstore_closep) XsChannel *ro = NULL, *rw = NULL;
        _cleanup_free_ char *state0 = NULL;
        XvError error = XV_ERROR_NULL;
        uint64_t kib = 0;
        XsimInstance x;
        int id;

        xsim_start(&x, NULL);
        open_channel(true, &ro);
        open_channel(false, &rw);
        ASSERT_FALSE(xenstore_is_read_only(rw));
        id = xsim_create_domain(&x, "guest1", 256, 1);

        /* Read-only: refused before anything is sent. */
        ASSERT_ERROR(xenstore_set_memory_target(ro, id, 131072, &error), EPERM);
        ASSERT_EQ(error.code, XVP_ERR_OPERATION_DENIED);
        xv_error_done(&error);
        ASSERT_ERROR(xenstore_request_shutdown(ro, id, "poweroff", NULL), EPERM);
        ASSERT_ERROR(xenstore_write(ro, "/local/domain/0/x", "1", NULL), EPERM);

        ASSERT_OK(xenstore_set_memory_target(rw, id, 131072, NULL));
        ASSERT_OK(xenstore_get_memory_target(ro, id, &kib, NULL));
        ASSERT_EQ(kib, 131072u);

        /* Not for dom0, not for a missing domain, only known requests. */
        ASSERT_ERROR(xenstore_request_shutdown(rw, 0, "poweroff", &error), EBUSY);
        ASSERT_EQ(error.code, XVP_ERR_OPERATION_INVALID);
        xv_error_done(&error);
        ASSERT_ERROR(xenstore_request_shutdown(rw, 4242, "poweroff", &error), ENOENT);
        ASSERT_EQ(error.code, XVP_ERR_NO_DOMAIN);
        xv_error_done(&error);
        ASSERT_ERROR(xenstore_request_shutdown(rw, id, "explode", NULL), EINVAL);
        ASSERT_ERROR(xenstore_set_memory_target(rw, 4242, 1024, NULL), ENOENT);

        /* xensim's guest acts on the request like Linux's shutdown handler. */
        state0 = xsim_list_field(&x, "guest1", 3);
        ASSERT_STREQ(state0, "running");
        ASSERT_OK(xenstore_request_shutdown(rw, id, "poweroff", NULL));
        {
                uint64_t deadline = xsim_now_ms() + 5000;
                bool changed = false;

                do {
                        _cleanup_free_ char *s = xsim_list_field(&x, "guest1", 3);

                        changed = !streq_ptr(s, "running");
                        if (!changed)
                                (void) usleep(50 * 1000);
                } while (!changed && xsim_now_ms() < deadline);
                ASSERT_TRUE(changed);
        }

        ro = xenstore_close(ro);
        rw = xenstore_close(rw);
        xsim_stop(&x);
}

/* Polls the event fd up to @ms and drains it; appends the fired paths to *paths. */
static int wait_events(XsChannel *c, unsigned ms, char ***paths, bool *ret_resync) {
        struct pollfd p = { .fd = xenstore_event_fd(c), .events = POLLIN };
        _cleanup_strv_free_ char **got = NULL;
        bool resync = false;
        int r;

        r = poll(&p, 1, (int) ms);
        if (r <= 0)
                return 0;
        ASSERT_OK(xenstore_read_events(c, &got, &resync, NULL));
        if (ret_resync)
                *ret_resync = *ret_resync || resync;
        STRV_FOREACH(s, got)
                ASSERT_OK(strv_extend(paths, *s));
        return (int) strv_length(got);
}

/* Collects events for up to @ms until @want was seen. */
static bool wait_for_path(XsChannel *c, const char *want, unsigned ms, bool *ret_resync) {
        uint64_t deadline = xsim_now_ms() + ms;

        do {
                _cleanup_strv_free_ char **paths = NULL;

                (void) wait_events(c, 100, &paths, ret_resync);
                if (strv_contains(paths, want))
                        return true;
        } while (xsim_now_ms() < deadline);
        return false;
}

/* Collects events for up to @ms until a resync was reported; whether one was. */
static bool wait_for_resync(XsChannel *c, unsigned ms) {
        uint64_t deadline = xsim_now_ms() + ms;
        bool resync = false;

        while (!resync && xsim_now_ms() < deadline) {
                _cleanup_strv_free_ char **paths = NULL;

                (void) wait_events(c, 100, &paths, &resync);
        }
        return resync;
}

/* Reads events until none came for 200 ms. */
static void drain_events(XsChannel *c) {
        _cleanup_strv_free_ char **paths = NULL;

        while (wait_events(c, 200, &paths, NULL) > 0)
                ;
}

TEST(watches) {
        _cleanup_(xenstore_closep) XsChannel *c = NULL, *rw = NULL;
        _cleanup_strv_free_ char **paths = NULL;
        _cleanup_free_ char *shutdown_path = NULL;
        bool resync = false;
        uint64_t t0;
        XsimInstance x;
        int fd, id;

        xsim_start(&x, NULL);
        open_channel(true, &c);
        open_channel(false, &rw);
        fd = xenstore_event_fd(c);
        ASSERT_GE(fd, 0);

        /* Registration fires each watch once; the first read reports no resync. */
        ASSERT_TRUE(wait_for_path(c, XENSTORE_WATCH_INTRODUCE, 2000, &resync));
        ASSERT_FALSE(resync);

        /* Nothing pending: the read returns at once with no paths. */
        (void) wait_events(c, 200, &paths, NULL);
        paths = strv_free(paths);
        t0 = xsim_now_ms();
        ASSERT_OK(xenstore_read_events(c, &paths, &resync, NULL));
        ASSERT_LT(xsim_now_ms() - t0, 100u);
        ASSERT_NOT_NULL(paths);
        ASSERT_EQ(strv_length(paths), 0u);
        paths = strv_free(paths);

        id = xsim_create_domain(&x, "guest1", 64, 1);
        ASSERT_TRUE(wait_for_path(c, XENSTORE_WATCH_INTRODUCE, 3000, NULL));

        /* A per-domain watch, fired by a write, and removed again. */
        ASSERT_TRUE(asprintf(&shutdown_path, "/local/domain/%d/memory/target", id) >= 0);
        ASSERT_OK(xenstore_add_watch(c, shutdown_path, NULL));
        ASSERT_OK(xenstore_add_watch(c, shutdown_path, NULL));     /* twice is once */
        ASSERT_TRUE(wait_for_path(c, shutdown_path, 2000, NULL));  /* the registration event */
        ASSERT_OK(xenstore_set_memory_target(rw, id, 32768, NULL));
        ASSERT_TRUE(wait_for_path(c, shutdown_path, 2000, NULL));
        ASSERT_OK(xenstore_remove_watch(c, shutdown_path, NULL));
        ASSERT_ERROR(xenstore_remove_watch(c, shutdown_path, NULL), ENOENT);
        ASSERT_ERROR(xenstore_add_watch(c, "relative/path", NULL), EINVAL);
        ASSERT_ERROR(xenstore_add_watch(c, XENSTORE_WATCH_RELEASE, NULL), EINVAL);

        ASSERT_EQ(xsim_ctl(&x, NULL, "domain destroy guest1"), 0);
        ASSERT_TRUE(wait_for_path(c, XENSTORE_WATCH_RELEASE, 3000, NULL));

        c = xenstore_close(c);
        rw = xenstore_close(rw);
        xsim_stop(&x);
}

/* xenstore_events_pending(): true while a watch event waits undrained, while disconnected and
 * until the resync after a reconnect was read; never because of the event fd's own timer (the
 * health check makes the fd readable every XENSTORE_HEALTH_USEC, 2 s, which is no event). */
TEST(events_pending_means_events) {
        _cleanup_(xenstore_closep) XsChannel *c = NULL;
        _cleanup_free_ char *name = NULL;
        bool resync = false, timer_seen = false;
        uint64_t deadline;
        XsimInstance x;

        xsim_start(&x, NULL);
        open_channel(true, &c);
        ASSERT_TRUE(wait_for_path(c, XENSTORE_WATCH_INTRODUCE, 2000, &resync));
        drain_events(c);
        ASSERT_FALSE(xenstore_events_pending(c));

        /* The health timer fires (the event fd turns readable) without an event. */
        deadline = xsim_now_ms() + 3000;
        while (!timer_seen && xsim_now_ms() < deadline) {
                struct pollfd p = { .fd = xenstore_event_fd(c), .events = POLLIN };

                timer_seen = poll(&p, 1, 100) > 0;
        }
        ASSERT_TRUE(timer_seen);
        ASSERT_FALSE(xenstore_events_pending(c));

        /* A domain comes: pending until the events are read. */
        ASSERT_GT(xsim_create_domain(&x, "pend1", 64, 1), 0);
        deadline = xsim_now_ms() + 3000;
        while (!xenstore_events_pending(c) && xsim_now_ms() < deadline)
                (void) poll(NULL, 0, 10);
        ASSERT_TRUE(xenstore_events_pending(c));
        ASSERT_TRUE(wait_for_path(c, XENSTORE_WATCH_INTRODUCE, 3000, NULL));
        drain_events(c);
        ASSERT_FALSE(xenstore_events_pending(c));

        /* xenstored goes away: pending while disconnected, and after the reconnect until the
         * resync was read. */
        ASSERT_EQ(xsim_ctl(&x, NULL, "xenstore absent on"), 0);
        ASSERT_LT(xenstore_get_domain_name(c, 0, &name, NULL), 0);
        ASSERT_FALSE(xenstore_is_connected(c));
        ASSERT_TRUE(xenstore_events_pending(c));
        ASSERT_EQ(xsim_ctl(&x, NULL, "xenstore absent off"), 0);
        ASSERT_OK(xenstore_get_domain_name(c, 0, &name, NULL));         /* reconnects */
        ASSERT_TRUE(xenstore_is_connected(c));
        ASSERT_TRUE(xenstore_events_pending(c));                        /* the resync is owed */
        ASSERT_TRUE(wait_for_resync(c, 5000));
        drain_events(c);
        ASSERT_FALSE(xenstore_events_pending(c));

        c = xenstore_close(c);
        xsim_stop(&x);
}

TEST(reconnect) {
        _cleanup_(xenstore_closep) XsChannel *c = NULL;
        _cleanup_free_ char *name = NULL;
        XvError error = XV_ERROR_NULL;
        bool resync = false;
        uint64_t deadline;
        XsimInstance x;
        int id;

        xsim_start(&x, NULL);
        open_channel(true, &c);
        ASSERT_TRUE(wait_for_path(c, XENSTORE_WATCH_INTRODUCE, 2000, &resync));

        ASSERT_EQ(xsim_ctl(&x, NULL, "xenstore absent on"), 0);
        /* The errno is whatever connecting said (ENOENT: the socket is gone). */
        ASSERT_LT(xenstore_get_domain_name(c, 0, &name, &error), 0);
        ASSERT_NULL(name);
        ASSERT_EQ(error.code, XVP_ERR_NO_XENSTORE);
        ASSERT_EQ(error.domain, XVP_FROM_XENSTORE);
        ASSERT_NOT_NULL(error.message);
        xv_error_done(&error);
        ASSERT_FALSE(xenstore_is_connected(c));

        /* The event fd keeps working while xenstored is away (timer-driven retries) and never
         * blocks the reader. */
        deadline = xsim_now_ms() + 1000;
        while (xsim_now_ms() < deadline) {
                _cleanup_strv_free_ char **paths = NULL;

                (void) wait_events(c, 100, &paths, NULL);
        }
        ASSERT_FALSE(xenstore_is_connected(c));

        /* xenstored comes back: the event side reconnects by itself, reports a resync and the
         * watches work again. */
        ASSERT_EQ(xsim_ctl(&x, NULL, "xenstore absent off"), 0);
        ASSERT_TRUE(wait_for_resync(c, 5000));
        ASSERT_TRUE(xenstore_is_connected(c));
        ASSERT_OK(xenstore_get_domain_name(c, 0, &name, NULL));
        ASSERT_STREQ(name, "Domain-0");
        id = xsim_create_domain(&x, "guest1", 64, 1);
        ASSERT_GT(id, 0);
        ASSERT_TRUE(wait_for_path(c, XENSTORE_WATCH_INTRODUCE, 3000, NULL));

        /* A restart between two requests is invisible to the caller: the request path
         * reconnects once by itself. */
        ASSERT_EQ(xsim_ctl(&x, NULL, "xenstore absent on"), 0);
        ASSERT_EQ(xsim_ctl(&x, NULL, "xenstore absent off"), 0);
        name = mfree(name);
        ASSERT_OK(xenstore_get_domain_name(c, id, &name, NULL));
        ASSERT_STREQ(name, "guest1");

        /* And the watch side notices the restart on its own within the health interval. */
        ASSERT_TRUE(wait_for_resync(c, 6000));
        ASSERT_EQ(xsim_ctl(&x, NULL, "domain destroy guest1"), 0);
        ASSERT_TRUE(wait_for_path(c, XENSTORE_WATCH_RELEASE, 3000, NULL));

        c = xenstore_close(c);
        xsim_stop(&x);
}

/* Only the event side runs (no requests): it must notice the loss by itself (health timer) and
 * reconnect by itself (retry timer). */
TEST(event_side_detects_loss) {
        _cleanup_(xenstore_closep) XsChannel *c = NULL;
        bool resync = false;
        uint64_t deadline;
        XsimInstance x;

        xsim_start(&x, NULL);
        open_channel(true, &c);
        ASSERT_TRUE(wait_for_path(c, XENSTORE_WATCH_INTRODUCE, 2000, &resync));
        ASSERT_EQ(xsim_ctl(&x, NULL, "xenstore absent on"), 0);

        deadline = xsim_now_ms() + 5000;
        while (xenstore_is_connected(c) && xsim_now_ms() < deadline) {
                _cleanup_strv_free_ char **paths = NULL;

                (void) wait_events(c, 100, &paths, NULL);
        }
        ASSERT_FALSE(xenstore_is_connected(c));

        ASSERT_EQ(xsim_ctl(&x, NULL, "xenstore absent off"), 0);
        ASSERT_TRUE(wait_for_resync(c, 5000));
        ASSERT_TRUE(xenstore_is_connected(c));
        (void) xsim_create_domain(&x, "guest1", 64, 1);
        ASSERT_TRUE(wait_for_path(c, XENSTORE_WATCH_INTRODUCE, 3000, NULL));

        c = xenstore_close(c);
        xsim_stop(&x);
}

typedef struct ReaderArgs {
        XsChannel *c;
        int failures;
} ReaderArgs;

static void *reader_thread(void *userdata) {
        ReaderArgs *a = userdata;

        for (unsigned i = 0; i < 200; i++) {
                _cleanup_free_ char *name = NULL;
                XvUuid u;

                if (xenstore_get_domain_name(a->c, 0, &name, NULL) < 0 || !streq(name, "Domain-0"))
                        a->failures++;
                if (i % 10 == 0 && xenstore_get_domain_uuid(a->c, 0, &u, NULL) < 0)
                        a->failures++;
        }
        return NULL;
}

TEST(concurrent_requests) {
        _cleanup_(xenstore_closep) XsChannel *c = NULL;
        ReaderArgs args[4];
        pthread_t t[4];
        XsimInstance x;

        xsim_start(&x, NULL);
        open_channel(true, &c);
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                args[i] = (ReaderArgs) { .c = c };
                ASSERT_EQ(pthread_create(&t[i], NULL, reader_thread, &args[i]), 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                ASSERT_EQ(pthread_join(t[i], NULL), 0);
                ASSERT_EQ(args[i].failures, 0);
        }
        c = xenstore_close(c);
        xsim_stop(&x);
}

/* ---- against the real xenstored (XV_TEST_REAL_XEN=1) ---- */

#define REAL_GUEST "xv-xs-real"
#define REAL_DIR "/local/domain/0/xv-real"

/* Collects events for up to @ms until a path equal to @want, or below it when @prefix, fired. */
static bool real_wait_for(XsChannel *c, const char *want, bool prefix, unsigned ms) {
        uint64_t deadline = xreal_now_ms() + ms;
        size_t n = strlen(want);

        do {
                _cleanup_strv_free_ char **paths = NULL;

                (void) wait_events(c, 200, &paths, NULL);
                STRV_FOREACH(p, paths) {
                        if (streq(*p, want) || (prefix && strncmp(*p, want, n) == 0 && (*p)[n] == '/'))
                                return true;
                }
        } while (xreal_now_ms() < deadline);
        return false;
}

static bool ids_have(const int *ids, size_t n, int id) {
        for (size_t i = 0; i < n; i++)
                if (ids[i] == id)
                        return true;
        return false;
}

REAL_TEST(read_write_watch) {
        _cleanup_(xenstore_closep) XsChannel *ro = NULL, *rw = NULL;
        _cleanup_free_ char *v = NULL, *out = NULL;
        _cleanup_strv_free_ char **l = NULL;
        XvError error = XV_ERROR_NULL;
        XsDomain *doms = NULL;
        struct xs_handle *xs;
        xs_transaction_t t;
        size_t n_doms = 0;

        (void) xreal_run(NULL, "xenstore-rm %s 2>/dev/null; true", REAL_DIR);
        open_channel(true, &ro);
        open_channel(false, &rw);
        ASSERT_TRUE(xenstore_is_connected(ro));

        ASSERT_OK(xenstore_list_domains(ro, &doms, &n_doms, NULL));
        ASSERT_TRUE(domains_have(doms, n_doms, 0, "Domain-0"));
        xs_domains_free(doms, n_doms);
        ASSERT_OK(xenstore_read(ro, "/local/domain/0/name", &v, NULL));
        ASSERT_STREQ(v, "Domain-0");
        v = mfree(v);
        ASSERT_ERROR(xenstore_read(ro, "/no/such/node", NULL, NULL), ENOENT);
        ASSERT_ERROR(xenstore_read(ro, "relative", NULL, NULL), EINVAL);

        /* A watch on a directory fires for writes below it, ours and another client's. */
        ASSERT_TRUE(real_wait_for(ro, XENSTORE_WATCH_INTRODUCE, false, XREAL_EVENT_MS));
        ASSERT_OK(xenstore_add_watch(ro, REAL_DIR, NULL));
        ASSERT_TRUE(real_wait_for(ro, REAL_DIR, false, XREAL_EVENT_MS));  /* the registration event */

        /* Our write, read back by another client; another client's write, read by us. */
        ASSERT_ERROR(xenstore_write(ro, REAL_DIR "/key", "value42", &error), EPERM);
        ASSERT_EQ(error.code, XVP_ERR_OPERATION_DENIED);
        xv_error_done(&error);
        ASSERT_OK(xenstore_write(rw, REAL_DIR "/key", "value42", NULL));
        ASSERT_EQ(xreal_run(&out, "xenstore-read %s/key", REAL_DIR), 0);
        ASSERT_STREQ(out, "value42\n");
        ASSERT_TRUE(real_wait_for(ro, REAL_DIR, true, XREAL_EVENT_MS));
        ASSERT_EQ(xreal_run(NULL, "xenstore-write %s/other hello", REAL_DIR), 0);
        ASSERT_TRUE(real_wait_for(ro, REAL_DIR "/other", false, XREAL_EVENT_MS));
        ASSERT_OK(xenstore_read(ro, REAL_DIR "/other", &v, NULL));
        ASSERT_STREQ(v, "hello");
        v = mfree(v);
        ASSERT_OK(xenstore_directory(ro, REAL_DIR, &l, NULL));
        ASSERT_EQ(strv_length(l), 2u);
        ASSERT_TRUE(strv_contains(l, "key"));
        ASSERT_TRUE(strv_contains(l, "other"));
        l = strv_free(l);

        /* Transactions (another client, libxenstore): a committed one is seen whole, an aborted
         * one not at all, and a conflicting write from the channel makes the commit fail. */
        xs = xs_open(0);
        ASSERT_NOT_NULL(xs);
        t = xs_transaction_start(xs);
        ASSERT_TRUE(t != XBT_NULL);
        ASSERT_TRUE(xs_write(xs, t, REAL_DIR "/t1", "a", 1));
        ASSERT_TRUE(xs_write(xs, t, REAL_DIR "/t2", "b", 1));
        ASSERT_ERROR(xenstore_read(ro, REAL_DIR "/t1", NULL, NULL), ENOENT);
        ASSERT_TRUE(xs_transaction_end(xs, t, false));
        ASSERT_OK(xenstore_read(ro, REAL_DIR "/t2", &v, NULL));
        ASSERT_STREQ(v, "b");
        v = mfree(v);
        t = xs_transaction_start(xs);
        ASSERT_TRUE(t != XBT_NULL);
        ASSERT_TRUE(xs_write(xs, t, REAL_DIR "/t3", "c", 1));
        ASSERT_TRUE(xs_transaction_end(xs, t, true));
        ASSERT_ERROR(xenstore_read(ro, REAL_DIR "/t3", NULL, NULL), ENOENT);
        t = xs_transaction_start(xs);
        ASSERT_TRUE(t != XBT_NULL);
        {
                unsigned len = 0;
                char *old = xs_read(xs, t, REAL_DIR "/key", &len);

                ASSERT_STREQ(old, "value42");
                free(old);
        }
        ASSERT_TRUE(xs_write(xs, t, REAL_DIR "/key", "from-t", 6));
        ASSERT_OK(xenstore_write(rw, REAL_DIR "/key", "from-channel", NULL));
        ASSERT_FALSE(xs_transaction_end(xs, t, false));
        ASSERT_EQ(errno, EAGAIN);
        ASSERT_OK(xenstore_read(ro, REAL_DIR "/key", &v, NULL));
        ASSERT_STREQ(v, "from-channel");
        v = mfree(v);
        xs_close(xs);
        ASSERT_OK(xenstore_directory(ro, REAL_DIR, &l, NULL));
        ASSERT_EQ(strv_length(l), 4u);

        /* The watch goes; once what was already queued is read, removing the node is not
         * reported any more. */
        ASSERT_OK(xenstore_remove_watch(ro, REAL_DIR, NULL));
        ASSERT_ERROR(xenstore_remove_watch(ro, REAL_DIR, NULL), ENOENT);
        for (unsigned quiet = 0; quiet < 2;) {
                _cleanup_strv_free_ char **paths = NULL;

                quiet = wait_events(ro, 500, &paths, NULL) > 0 ? 0 : quiet + 1;
        }
        ASSERT_EQ(xreal_run(NULL, "xenstore-rm %s", REAL_DIR), 0);
        ASSERT_FALSE(real_wait_for(ro, REAL_DIR, true, 2000));
        ASSERT_ERROR(xenstore_read(ro, REAL_DIR "/key", NULL, NULL), ENOENT);
}

REAL_TEST(guest_lifecycle) {
        _cleanup_(xenstore_closep) XsChannel *c = NULL, *rw = NULL;
        _cleanup_free_ int *ids = NULL;
        _cleanup_free_ char *name = NULL, *vm = NULL, *tty = NULL, *uuid = NULL, *expect_vm = NULL;
        _cleanup_free_ char *target_path = NULL, *out = NULL;
        XsDomain *doms = NULL;
        char buf[UUID_STRING_BUF];
        size_t n = 0, n_doms = 0;
        uint64_t kib = 0;
        XvUuid u;
        int id;

        open_channel(true, &c);
        open_channel(false, &rw);
        ASSERT_TRUE(real_wait_for(c, XENSTORE_WATCH_INTRODUCE, false, XREAL_EVENT_MS));

        /* xl create: @introduceDomain, and the domain's tree as libxl wrote it. */
        id = xreal_guest_create(REAL_GUEST, 1, "preserve");
        ASSERT_TRUE(real_wait_for(c, XENSTORE_WATCH_INTRODUCE, false, XREAL_EVENT_MS));
        ASSERT_OK(xenstore_list_domain_ids(c, &ids, &n, NULL));
        ASSERT_TRUE(ids_have(ids, n, 0));
        ASSERT_TRUE(ids_have(ids, n, id));
        ids = mfree(ids);
        ASSERT_OK(xenstore_list_domains(c, &doms, &n_doms, NULL));
        ASSERT_TRUE(domains_have(doms, n_doms, 0, "Domain-0"));
        ASSERT_TRUE(domains_have(doms, n_doms, id, REAL_GUEST));
        xs_domains_free(doms, n_doms);
        ASSERT_OK(xenstore_get_domain_name(c, id, &name, NULL));
        ASSERT_STREQ(name, REAL_GUEST);
        uuid = xreal_list_field(REAL_GUEST, 7);
        ASSERT_OK(xenstore_get_domain_uuid(c, id, &u, NULL));
        ASSERT_STREQ(uuid_format(&u, buf), uuid);
        ASSERT_OK(xenstore_get_vm_path(c, id, &vm, NULL));
        ASSERT_TRUE(asprintf(&expect_vm, "/vm/%s", uuid) >= 0);
        ASSERT_STREQ(vm, expect_vm);
        ASSERT_OK(xenstore_get_memory_target(c, id, &kib, NULL));
        ASSERT_EQ(kib, XREAL_GUEST_MIB * 1024u);
        /* xenconsoled gives the PV console a pty. */
        ASSERT_OK(xenstore_get_console_tty(c, id, &tty, NULL));
        ASSERT_TRUE(strncmp(tty, "/dev/pts/", 9) == 0);
        ASSERT_ERROR(xenstore_get_vnc_port(c, id, &(int) { 0 }, NULL), ENOENT);

        /* A per-domain watch, fired by our memory target write; xenstore-read agrees. */
        ASSERT_TRUE(asprintf(&target_path, "/local/domain/%d/memory/target", id) >= 0);
        ASSERT_OK(xenstore_add_watch(c, target_path, NULL));
        ASSERT_TRUE(real_wait_for(c, target_path, false, XREAL_EVENT_MS));
        ASSERT_OK(xenstore_set_memory_target(rw, id, (XREAL_GUEST_MIB - 8) * 1024, NULL));
        ASSERT_TRUE(real_wait_for(c, target_path, false, XREAL_EVENT_MS));
        ASSERT_EQ(xreal_run(&out, "xenstore-read %s", target_path), 0);
        (void) snprintf(buf, sizeof(buf), "%u\n", (unsigned) ((XREAL_GUEST_MIB - 8) * 1024));
        ASSERT_STREQ(out, buf);
        ASSERT_OK(xenstore_remove_watch(c, target_path, NULL));

        /* A shutdown request through the channel: the guest's kernel powers it off (preserved:
         * @releaseDomain fires on the shutdown), then xl destroy fires it again and the id
         * leaves xenstore. */
        ASSERT_ERROR(xenstore_request_shutdown(rw, 0, "poweroff", NULL), EBUSY);
        xreal_guest_wait_init(REAL_GUEST);
        ASSERT_OK(xenstore_request_shutdown(rw, id, "poweroff", NULL));
        ASSERT_TRUE(real_wait_for(c, XENSTORE_WATCH_RELEASE, false, XREAL_EVENT_MS));
        {
                _cleanup_free_ char *st = xreal_list_field(REAL_GUEST, 5);

                ASSERT_NOT_NULL(st);
                ASSERT_NOT_NULL(strchr(st, 's'));
        }
        xreal_xl("destroy %s", REAL_GUEST);
        ASSERT_TRUE(real_wait_for(c, XENSTORE_WATCH_RELEASE, false, XREAL_EVENT_MS));
        xreal_wait_gone(REAL_GUEST);
        ASSERT_OK(xenstore_list_domain_ids(c, &ids, &n, NULL));
        ASSERT_TRUE(ids_have(ids, n, 0));
        ASSERT_FALSE(ids_have(ids, n, id));
        ASSERT_ERROR(xenstore_get_domain_name(c, id, &name, NULL), ENOENT);
}

int main(int argc, char *argv[]) {
        if (xreal_enabled())
                return xreal_main(argc, argv);
        return test_main(argc, argv);
}
