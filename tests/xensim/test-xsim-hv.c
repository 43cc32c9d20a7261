/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xensim's hypervisor server seen from a raw client: the protocol's guards (handshake, record
 * size, sealed arena), Xen's own checks (interface versions, guest addresses outside the arena)
 * and the decoding of a few hypercalls. t-hypervisor.sh covers the path through the real
 * libxenctrl; this covers what libxenctrl never sends. */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/domctl.h>
#include <xen/sched.h>
#include <xen/sysctl.h>
#include <xen/version.h>

#include "hv/xsim-hv-proto.h"
#include "tests.h"
#include "xsim-hv.h"
#include "xsim-state.h"
#include "xv-alloc.h"

typedef struct Fixture {
        sd_event *event;
        XsimHost *host;
        XsimHv *hv;
        char dir[64];
        char path[128];
} Fixture;

typedef struct Client {
        int fd;
        int arena_fd;
        uint8_t *arena;
} Client;

static void fixture_init(Fixture *f) {
        memset(f, 0, sizeof(*f));
        (void) snprintf(f->dir, sizeof(f->dir), "/tmp/xv-test-hv.XXXXXX");
        ASSERT_NOT_NULL(mkdtemp(f->dir));
        (void) snprintf(f->path, sizeof(f->path), "%s/hv-socket", f->dir);
        ASSERT_OK(sd_event_new(&f->event));
        ASSERT_OK(xsim_host_new(f->event, 4, NULL, &f->host));
        ASSERT_OK(xsim_hv_new(f->host, f->path, &f->hv));
}

static void fixture_done(Fixture *f) {
        f->hv = xsim_hv_free(f->hv);
        ASSERT_TRUE(access(f->path, F_OK) < 0);         /* the socket file is removed */
        f->host = xsim_host_free(f->host);
        f->event = sd_event_unref(f->event);
        (void) rmdir(f->dir);
}

static int client_connect(Fixture *f) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
        ASSERT_TRUE(connect(fd, (const struct sockaddr *) &sa, sizeof(sa)) >= 0);
        return fd;
}

static void arena_new(Client *c, bool sealed) {
        c->arena_fd = memfd_create("test-arena", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        ASSERT_TRUE(c->arena_fd >= 0);
        ASSERT_TRUE(ftruncate(c->arena_fd, XSIM_HV_ARENA_SIZE) >= 0);
        if (sealed)
                ASSERT_TRUE(fcntl(c->arena_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) >= 0);
        c->arena = mmap(NULL, XSIM_HV_ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, c->arena_fd, 0);
        ASSERT_TRUE(c->arena != MAP_FAILED);
}

static void client_done(Client *c) {
        safe_close(c->fd);
        safe_close(c->arena_fd);
        if (c->arena)
                (void) munmap(c->arena, XSIM_HV_ARENA_SIZE);
}

static void send_raw(int fd, const void *buf, size_t len, int pass_fd) {
        union {
                struct cmsghdr cmsghdr;
                uint8_t buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (pass_fd >= 0) {
                struct cmsghdr *cm;

                mh.msg_control = &control;
                mh.msg_controllen = sizeof(control);
                cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
        }
        ASSERT_EQ(sendmsg(fd, &mh, MSG_NOSIGNAL), (ssize_t) len);
}

/* Runs the server's loop until the client has something to read (a reply or EOF). */
static void pump(Fixture *f, int fd) {
        for (int i = 0; i < 200; i++) {
                struct pollfd p = { .fd = fd, .events = POLLIN };

                if (poll(&p, 1, 0) > 0)
                        return;
                ASSERT_TRUE(sd_event_run(f->event, 10 * 1000) >= 0);
        }
        test_fail(__FILE__, __LINE__, "no answer from the server");
}

/* Returns the reply's value; the connection must still be up. */
static int64_t roundtrip(Fixture *f, int fd, const XsimHvRequest *req, int pass_fd) {
        XsimHvReply reply = {};

        send_raw(fd, req, sizeof(*req), pass_fd);
        pump(f, fd);
        ASSERT_EQ(recv(fd, &reply, sizeof(reply), 0), (ssize_t) sizeof(reply));
        ASSERT_EQ(reply.magic, XSIM_HV_MAGIC);
        ASSERT_EQ(reply.type, XSIM_HV_MSG_REPLY);
        return reply.ret;
}

static bool dropped(Fixture *f, int fd) {
        char buf[sizeof(XsimHvReply)];

        pump(f, fd);
        return recv(fd, buf, sizeof(buf), 0) == 0;
}

static int64_t hello(Fixture *f, Client *c, uint32_t version) {
        XsimHvRequest req = {
                .magic = XSIM_HV_MAGIC,
                .type = XSIM_HV_MSG_HELLO,
                .version = version,
                .arena_base = (uint64_t) (uintptr_t) c->arena,
                .arena_size = XSIM_HV_ARENA_SIZE,
        };

        return roundtrip(f, c->fd, &req, c->arena_fd);
}

static void client_open(Fixture *f, Client *c) {
        c->fd = client_connect(f);
        arena_new(c, true);
        ASSERT_EQ(hello(f, c, XSIM_HV_PROTO_VERSION), 0);
}

static int64_t hypercall(Fixture *f, Client *c, uint64_t op, uint64_t a1, uint64_t a2) {
        XsimHvRequest req = {
                .magic = XSIM_HV_MAGIC,
                .type = XSIM_HV_MSG_CALL,
                .op = op,
                .args = { a1, a2 },
        };

        return roundtrip(f, c->fd, &req, -1);
}

/* A guest handle: the client's address. */
static uint64_t guest(const void *p) {
        return (uint64_t) (uintptr_t) p;
}

TEST(version_through_the_arena) {
        Fixture f;
        Client c = {};
        char *extra;

        fixture_init(&f);
        client_open(&f, &c);
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_xen_version, XENVER_version, 0),
                  (f.host->xen_major << 16) | f.host->xen_minor);
        extra = (char *) c.arena + 4096;
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_xen_version, XENVER_extraversion, guest(extra)), 0);
        ASSERT_STREQ(extra, f.host->xen_extra);
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_xen_version, XENVER_pagesize, 0), 4096);
        /* A string written outside the arena would be a write to unmapped guest memory. */
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_xen_version, XENVER_extraversion,
                            guest(c.arena) + XSIM_HV_ARENA_SIZE - 8), -EFAULT);
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_xen_version, XENVER_capabilities, 0), -EFAULT);
        ASSERT_EQ(hypercall(&f, &c, 4242, 0, 0), -ENOSYS);
        client_done(&c);
        fixture_done(&f);
}

TEST(call_before_hello_is_dropped) {
        Fixture f;
        XsimHvRequest req = {
                .magic = XSIM_HV_MAGIC,
                .type = XSIM_HV_MSG_CALL,
                .op = __HYPERVISOR_xen_version,
        };
        int fd;

        fixture_init(&f);
        fd = client_connect(&f);
        send_raw(fd, &req, sizeof(req), -1);
        ASSERT_TRUE(dropped(&f, fd));
        safe_close(fd);
        fixture_done(&f);
}

TEST(bad_records_are_dropped) {
        Fixture f;
        XsimHvRequest req = { .magic = XSIM_HV_MAGIC, .type = XSIM_HV_MSG_CALL };
        uint8_t big[sizeof(XsimHvRequest) + 1] = {};
        Client c = {};
        int fd;

        fixture_init(&f);

        fd = client_connect(&f);
        send_raw(fd, &req, sizeof(req) - 1, -1);                /* short */
        ASSERT_TRUE(dropped(&f, fd));
        safe_close(fd);

        fd = client_connect(&f);
        memcpy(big, &req, sizeof(req));
        send_raw(fd, big, sizeof(big), -1);                     /* long */
        ASSERT_TRUE(dropped(&f, fd));
        safe_close(fd);

        fd = client_connect(&f);
        req.magic = 0xdeadbeef;                                 /* wrong magic */
        send_raw(fd, &req, sizeof(req), -1);
        ASSERT_TRUE(dropped(&f, fd));
        safe_close(fd);

        /* A second HELLO on a live connection is refused; a CALL carrying a descriptor drops it. */
        client_open(&f, &c);
        ASSERT_EQ(hello(&f, &c, XSIM_HV_PROTO_VERSION), -EBUSY);
        req = (XsimHvRequest) { .magic = XSIM_HV_MAGIC, .type = XSIM_HV_MSG_CALL };
        send_raw(c.fd, &req, sizeof(req), c.arena_fd);
        ASSERT_TRUE(dropped(&f, c.fd));
        client_done(&c);

        fixture_done(&f);
}

TEST(hello_checks_version_and_arena) {
        Fixture f;
        Client c = {};

        fixture_init(&f);

        c.fd = client_connect(&f);
        arena_new(&c, true);
        ASSERT_EQ(hello(&f, &c, 99), -EPROTONOSUPPORT);
        client_done(&c);

        /* An arena that could shrink under xensim's mapping would turn into SIGBUS there. */
        c = (Client) {};
        c.fd = client_connect(&f);
        arena_new(&c, false);
        ASSERT_EQ(hello(&f, &c, XSIM_HV_PROTO_VERSION), -EINVAL);
        client_done(&c);

        c = (Client) {};
        c.fd = client_connect(&f);
        c.arena_fd = -EBADF;
        ASSERT_EQ(hello(&f, &c, XSIM_HV_PROTO_VERSION), -EINVAL);      /* no descriptor at all */
        client_done(&c);

        fixture_done(&f);
}

TEST(interface_versions_are_checked) {
        Fixture f;
        Client c = {};
        struct xen_domctl *domctl;
        struct xen_sysctl *sysctl;

        fixture_init(&f);
        client_open(&f, &c);

        domctl = (struct xen_domctl *) c.arena;
        *domctl = (struct xen_domctl) {
                .cmd = XEN_DOMCTL_getdomaininfo,
                .interface_version = XEN_DOMCTL_INTERFACE_VERSION - 1,
        };
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_domctl, guest(domctl), 0), -EACCES);
        domctl->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_domctl, guest(domctl), 0), 0);
        ASSERT_EQ(domctl->domain, 0);

        sysctl = (struct xen_sysctl *) (c.arena + 8192);
        *sysctl = (struct xen_sysctl) {
                .cmd = XEN_SYSCTL_physinfo,
                .interface_version = XEN_SYSCTL_INTERFACE_VERSION + 1,
        };
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_sysctl, guest(sysctl), 0), -EACCES);
        sysctl->interface_version = XEN_SYSCTL_INTERFACE_VERSION;
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_sysctl, guest(sysctl), 0), 0);
        ASSERT_EQ(sysctl->u.physinfo.nr_cpus, f.host->nr_cpus);

        /* The structure itself must lie inside the arena. */
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_sysctl, 0, 0), -EFAULT);
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_domctl,
                            guest(c.arena) + XSIM_HV_ARENA_SIZE - sizeof(*domctl) + 1, 0), -EFAULT);

        client_done(&c);
        fixture_done(&f);
}

static int64_t getdomaininfo(Fixture *f, Client *c, uint32_t domid, struct xen_domctl **ret) {
        struct xen_domctl *op = (struct xen_domctl *) c->arena;

        *op = (struct xen_domctl) {
                .cmd = XEN_DOMCTL_getdomaininfo,
                .interface_version = XEN_DOMCTL_INTERFACE_VERSION,
                .domain = (domid_t) domid,
        };
        *ret = op;
        return hypercall(f, c, __HYPERVISOR_domctl, guest(op), 0);
}

TEST(getdomaininfo_walks_like_xen_4_17) {
        Fixture f;
        Client c = {};
        XsimDomain *a, *b;
        struct xen_domctl *op;
        XvUuid ua = { .bytes = { 1 } }, ub = { .bytes = { 2 } };
        int ida, idb;

        fixture_init(&f);
        client_open(&f, &c);
        ASSERT_OK(xsim_domain_create(f.host, "a", &ua, false, 262144, 262144, 2, NULL, &a, NULL));
        ASSERT_OK(xsim_domain_create(f.host, "b", &ub, true, 131072, 262144, 1, NULL, &b, NULL));
        ida = a->domid;
        idb = b->domid;
        ASSERT_LT(ida, idb);

        /* The first domain at or after the one asked for answers. */
        ASSERT_EQ(getdomaininfo(&f, &c, (uint32_t) ida, &op), 0);
        ASSERT_EQ(op->domain, ida);
        ASSERT_EQ(op->u.getdomaininfo.tot_pages, 262144 / 4);
        ASSERT_EQ(op->u.getdomaininfo.nr_online_vcpus, 2);
        ASSERT_TRUE(op->u.getdomaininfo.flags & XEN_DOMINF_paused);     /* created paused */
        ASSERT_TRUE(memcmp(op->u.getdomaininfo.handle, ua.bytes, 16) == 0);

        ASSERT_OK(xsim_domain_destroy(a, NULL));
        ASSERT_EQ(getdomaininfo(&f, &c, (uint32_t) ida, &op), 0);
        ASSERT_EQ(op->domain, idb);
        ASSERT_TRUE(op->u.getdomaininfo.flags & XEN_DOMINF_hvm_guest);
        ASSERT_EQ(op->u.getdomaininfo.max_pages, 262144 / 4);
        ASSERT_EQ(getdomaininfo(&f, &c, (uint32_t) idb + 1, &op), -ESRCH);

        /* Shut down with a reason: the code sits in the flags. */
        ASSERT_OK(xsim_domain_unpause(b, NULL));
        b->on_poweroff = mfree(b->on_poweroff);
        ASSERT_OK(free_and_strdup(&b->on_reboot, "preserve"));
        ASSERT_OK(xsim_domain_shutdown(b, XSIM_SHUTDOWN_REBOOT, NULL));
        ASSERT_EQ(getdomaininfo(&f, &c, (uint32_t) idb, &op), 0);
        ASSERT_TRUE(op->u.getdomaininfo.flags & XEN_DOMINF_shutdown);
        ASSERT_EQ((op->u.getdomaininfo.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask,
                  SHUTDOWN_reboot);

        client_done(&c);
        fixture_done(&f);
}

TEST(domctl_rules) {
        Fixture f;
        Client c = {};
        XsimDomain *d;
        struct xen_domctl *op = NULL;
        XvUuid u = { .bytes = { 3 } };

        fixture_init(&f);
        client_open(&f, &c);
        ASSERT_OK(xsim_domain_create(f.host, "d", &u, false, 131072, 131072, 2, NULL, &d, NULL));
        op = (struct xen_domctl *) c.arena;

#define DOMCTL_INIT(c_, dom_)                                                   \
        (*op = (struct xen_domctl) {                                            \
                .cmd = (c_),                                                    \
                .interface_version = XEN_DOMCTL_INTERFACE_VERSION,              \
                .domain = (domid_t) (dom_),                                     \
        })
#define DOMCTL(c_, dom_) \
        (DOMCTL_INIT(c_, dom_), hypercall(&f, &c, __HYPERVISOR_domctl, guest(op), 0))

        ASSERT_EQ(DOMCTL(XEN_DOMCTL_pausedomain, 0), -EINVAL);         /* not the caller itself */
        ASSERT_EQ(DOMCTL(XEN_DOMCTL_destroydomain, 0), -EINVAL);
        ASSERT_EQ(DOMCTL(XEN_DOMCTL_pausedomain, 4000), -ESRCH);
        ASSERT_EQ(DOMCTL(XEN_DOMCTL_unpausedomain, d->domid), 0);
        ASSERT_EQ(d->state, XSIM_STATE_RUNNING);
        ASSERT_EQ(DOMCTL(XEN_DOMCTL_unpausedomain, d->domid), -EINVAL);        /* not paused */
        ASSERT_EQ(DOMCTL(XEN_DOMCTL_pausedomain, d->domid), 0);
        ASSERT_EQ(DOMCTL(XEN_DOMCTL_pausedomain, d->domid), 0);                /* Xen nests pauses */
        ASSERT_EQ(d->state, XSIM_STATE_PAUSED);
        ASSERT_EQ(DOMCTL(XEN_DOMCTL_setdomainhandle, d->domid), -ENOSYS);

        /* max_vcpus: the current count is accepted, shrinking or growing is not. */
        DOMCTL_INIT(XEN_DOMCTL_max_vcpus, d->domid);
        op->u.max_vcpus.max = 2;
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_domctl, guest(op), 0), 0);
        op->u.max_vcpus.max = 1;
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_domctl, guest(op), 0), -EINVAL);
        op->u.max_vcpus.max = 3;
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_domctl, guest(op), 0), -EBUSY);

        /* getvcpuinfo past the last vcpu. */
        DOMCTL_INIT(XEN_DOMCTL_getvcpuinfo, d->domid);
        op->u.getvcpuinfo.vcpu = 2;
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_domctl, guest(op), 0), -EINVAL);

        /* Affinity with a bitmap outside the arena faults; an empty one is refused. */
        DOMCTL_INIT(XEN_DOMCTL_setvcpuaffinity, d->domid);
        op->u.vcpuaffinity.vcpu = 0;
        op->u.vcpuaffinity.flags = XEN_VCPUAFFINITY_HARD;
        op->u.vcpuaffinity.cpumap_hard.nr_bits = 8;
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_domctl, guest(op), 0), -EFAULT);
        set_xen_guest_handle(op->u.vcpuaffinity.cpumap_hard.bitmap, c.arena + 4096);
        c.arena[4096] = 0;
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_domctl, guest(op), 0), -EINVAL);
        c.arena[4096] = 0x06;
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_domctl, guest(op), 0), 0);
        ASSERT_EQ(d->vcpus[0].affinity, 0x06);
#undef DOMCTL
#undef DOMCTL_INIT

        client_done(&c);
        fixture_done(&f);
}

TEST(hypervisor_fail_gives_eperm) {
        Fixture f;
        Client c = {};

        fixture_init(&f);
        f.host->faults.hypervisor_fail = true;
        client_open(&f, &c);            /* the handle still opens, as privcmd would */
        ASSERT_EQ(hypercall(&f, &c, __HYPERVISOR_xen_version, XENVER_version, 0), -EPERM);
        f.host->faults.hypervisor_fail = false;
        ASSERT_GT(hypercall(&f, &c, __HYPERVISOR_xen_version, XENVER_version, 0), 0);
        client_done(&c);
        fixture_done(&f);
}

DEFINE_TEST_MAIN
