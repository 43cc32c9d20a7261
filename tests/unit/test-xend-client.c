/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The XenD client (src/xen/xv-xend.c) against a live xensim: every typed operation for xend
 * config versions 1 to 4, the faults of xensim's control socket (each must give its precise
 * error and none may hang), injection attempts through domain names and file names, and
 * concurrent use of one Xend from several threads.
 *
 * Each test starts its own xensim ($XV_BUILDDIR/tests/xensim/xensim --dir TMP) in a fresh
 * directory and stops it at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-error.h"
#include "xv-parse-util.h"
#include "xv-sexpr.h"
#include "xv-strbuf.h"
#include "xv-time.h"
#include "xv-xend.h"

#define SIM_START_TIMEOUT_MS 60000
#define CTL_REPLY_MAX (64U * 1024)
#define REQUEST_TIMEOUT_USEC (5ULL * 1000 * 1000)

typedef struct Sim {
        char dir[64];
        char xend_socket[128];
        char control_socket[128];
        pid_t pid;
        int version;
} Sim;

static void sim_start_full(Sim *s, int version, unsigned domains) {
        const char *builddir = getenv("XV_BUILDDIR");
        _cleanup_free_ char *exe = NULL;
        char vbuf[16], fdbuf[16], dbuf[16], buf[16];
        int pipefd[2];
        size_t got = 0;

        ASSERT_NOT_NULL(builddir);
        ASSERT_OK(asprintf(&exe, "%s/tests/xensim/xensim", builddir));
        (void) snprintf(s->dir, sizeof(s->dir), "/tmp/xv-xend-client.XXXXXX");
        ASSERT_NOT_NULL(mkdtemp(s->dir));
        (void) snprintf(s->xend_socket, sizeof(s->xend_socket), "%s/xend-socket", s->dir);
        (void) snprintf(s->control_socket, sizeof(s->control_socket), "%s/control-socket", s->dir);
        s->version = version;

        ASSERT_TRUE(pipe2(pipefd, O_CLOEXEC) >= 0);
        s->pid = fork();
        ASSERT_TRUE(s->pid >= 0);
        if (s->pid == 0) {
                int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

                /* The ready pipe must survive exec: a copy without O_CLOEXEC. */
                int fd = dup(pipefd[1]);

                if (fd < 0)
                        _exit(127);
                /* A failed test aborts its process: the simulator must not outlive it. */
                (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (devnull >= 0 && !getenv("XV_TEST_SIM_VERBOSE"))
                        (void) dup2(devnull, STDERR_FILENO);
                (void) snprintf(vbuf, sizeof(vbuf), "%d", version);
                (void) snprintf(fdbuf, sizeof(fdbuf), "%d", fd);
                (void) snprintf(dbuf, sizeof(dbuf), "%u", domains);
                execl(exe, exe, "--dir", s->dir, "--xend-config-version", vbuf, "--ready-fd", fdbuf,
                      "--domains", dbuf, (char *) NULL);
                _exit(127);
        }
        safe_close(pipefd[1]);

        /* Wait for "READY\n", bounded. */
        uint64_t deadline = monotonic_usec() + SIM_START_TIMEOUT_MS * 1000ULL;
        while (got < 6) {
                struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
                uint64_t n = monotonic_usec();
                ssize_t k;

                if (n >= deadline)
                        test_fail(__FILE__, __LINE__, "xensim did not become ready");
                if (poll(&p, 1, (int) ((deadline - n) / 1000 + 1)) <= 0)
                        continue;
                k = read(pipefd[0], buf + got, sizeof(buf) - 1 - got);
                if (k <= 0)
                        test_fail(__FILE__, __LINE__, "xensim exited before it was ready");
                got += (size_t) k;
        }
        safe_close(pipefd[0]);
        buf[got] = '\0';
        ASSERT_TRUE(strncmp(buf, "READY", 5) == 0);
}

static void sim_start(Sim *s, int version) {
        sim_start_full(s, version, 0);
}

static void remove_tree(const char *dir) {
        pid_t pid = fork();

        if (pid == 0) {
                execlp("rm", "rm", "-rf", dir, (char *) NULL);
                _exit(127);
        }
        if (pid > 0)
                (void) waitpid(pid, NULL, 0);
}

static void sim_stop(Sim *s) {
        int status;

        if (s->pid <= 0)
                return;
        (void) kill(s->pid, SIGTERM);
        (void) waitpid(s->pid, &status, 0);
        s->pid = 0;
        remove_tree(s->dir);
}

/* Runs one control command; returns its output (without the final "OK"). */
static char *sim_ctl(const Sim *s, const char *command) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        StrBuf b = STRBUF_INIT;
        char buf[4096], *out = NULL, *last;

        memcpy(sa.sun_path, s->control_socket, strlen(s->control_socket) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(connect(fd, (struct sockaddr *) &sa, sizeof(sa)) >= 0);
        ASSERT_TRUE(send(fd, command, strlen(command), MSG_NOSIGNAL) == (ssize_t) strlen(command));
        ASSERT_TRUE(send(fd, "\n", 1, MSG_NOSIGNAL) == 1);
        (void) shutdown(fd, SHUT_WR);
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                ASSERT_TRUE(n >= 0);
                if (n == 0)
                        break;
                strbuf_appendn(&b, buf, (size_t) n);
                ASSERT_LE(b.len, CTL_REPLY_MAX);
        }
        ASSERT_OK(strbuf_steal(&b, &out));
        ASSERT_TRUE(strlen(out) > 0 && out[strlen(out) - 1] == '\n');
        out[strlen(out) - 1] = '\0';
        last = strrchr(out, '\n');
        last = last ? last + 1 : out;
        if (!streq(last, "OK"))
                test_fail(__FILE__, __LINE__, "control command '%s' failed: %s", command, last);
        *last = '\0';
        return out;
}

/* A counter from "stats". */
static unsigned sim_stat(const Sim *s, const char *key) {
        _cleanup_free_ char *out = sim_ctl(s, "stats");
        const char *p = out;
        size_t n = strlen(key);

        while (p && *p) {
                if (strncmp(p, key, n) == 0 && p[n] == ' ') {
                        const char *end = NULL;
                        uint64_t v;

                        ASSERT_OK(parse_u64_prefix(p + n + 1, &v, &end));
                        return (unsigned) v;
                }
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
        test_fail(__FILE__, __LINE__, "no '%s' in stats", key);
}

static Xend *client(const Sim *s, uint64_t timeout_usec) {
        Xend *x = NULL;

        ASSERT_OK(xend_new(s->xend_socket, NULL, timeout_usec, &x));
        return x;
}

#define ASSERT_XV_ERROR(expr, err, code_)                                               \
        do {                                                                            \
                _cleanup_(xv_error_done) XvError _e_ = XV_ERROR_NULL;                   \
                XvError *error = &_e_;                                                  \
                int _r_ = (expr);                                                       \
                if (_r_ >= 0 || _e_.code != (code_))                                    \
                        test_fail(__FILE__, __LINE__, "%s: got %d, code %d (%s), expected code %d", \
                                  #expr, _r_, _e_.code, strnull(_e_.message), (int) (code_)); \
                (void) (err);                                                           \
                if (_e_.domain != XVP_FROM_XEND)                                        \
                        test_fail(__FILE__, __LINE__, "%s: error domain %d", #expr, _e_.domain); \
                printf("# %s: %s\n", #expr, strnull(_e_.message));                      \
        } while (0)

#define ASSERT_XV_OK(expr)                                                              \
        do {                                                                            \
                _cleanup_(xv_error_done) XvError _e_ = XV_ERROR_NULL;                   \
                XvError *error = &_e_;                                                  \
                int _r_ = (expr);                                                       \
                if (_r_ < 0)                                                            \
                        test_fail(__FILE__, __LINE__, "%s failed: %d (%s)", #expr, _r_, \
                                  strnull(_e_.message));                                \
        } while (0)

static Sexpr *get_domain(Xend *x, const char *d) {
        Sexpr *s = NULL;

        ASSERT_XV_OK(xend_domain_get(x, d, &s, error));
        return s;
}

static const char *node(const Sexpr *s, const char *path) {
        return sexpr_node(s, path);
}

static bool names_contain(char **names, const char *name) {
        return strv_contains(names, name);
}

/* ---------------------------------------------------------------- the operations, per version */

static const char guest_config[] =
        "(vm (name guest1) (uuid 4dea22b3-1d52-d8f3-2516-782e98ab3fa0) (memory 256) (maxmem 512) (vcpus 2)"
        " (on_poweroff destroy) (on_reboot restart) (on_crash destroy)"
        " (image (linux (kernel /boot/vmlinuz-xen) (root '/dev/xvda1 ro')))"
        " (device (vbd (dev xvda) (uname phy:/dev/vg/guest1) (mode w))))";

static void check_host(Xend *x, int version) {
        _cleanup_(xend_node_info_done) XendNodeInfo info = {};
        _cleanup_(sexpr_freep) Sexpr *nodes = NULL;
        int v = 0;

        ASSERT_EQ(xend_get_config_version(x), 0);
        ASSERT_XV_OK(xend_detect_config_version(x, &v, error));
        ASSERT_EQ(v, version);
        ASSERT_EQ(xend_get_config_version(x), version);

        ASSERT_XV_OK(xend_get_node(x, &nodes, error));
        ASSERT_STREQ(sexpr_head(nodes), "node");

        ASSERT_XV_OK(xend_node_info(x, &info, error));
        ASSERT_STREQ(info.node.model, "x86_64");
        ASSERT_EQ(info.node.cpus, 8u);
        ASSERT_EQ(info.node.mhz, 2400u);
        ASSERT_EQ(info.node.nodes, 2u);
        ASSERT_EQ(info.node.cores, 4u);
        ASSERT_EQ(info.node.threads, 1u);
        ASSERT_EQ((uint64_t) info.node.nodes * info.node.sockets * info.node.cores * info.node.threads,
                  info.node.cpus);
        ASSERT_EQ(info.node.memory_kib, 32768ULL * 1024);
        ASSERT_TRUE(info.free_memory_kib > 0 && info.free_memory_kib < info.node.memory_kib);
        ASSERT_GE(info.xen_major, 3u);
        ASSERT_STREQ(info.xen_scheduler, "credit");
        ASSERT_NOT_NULL(info.node_to_cpu);
        ASSERT_TRUE(strncmp(info.node_to_cpu, "node0:0-3", 9) == 0);
        _cleanup_free_ int *cpu_node = NULL;
        ASSERT_XV_OK(xend_parse_node_to_cpu(info.node_to_cpu, info.node.cpus, &cpu_node, error));
        for (unsigned i = 0; i < info.node.cpus; i++)
                ASSERT_EQ(cpu_node[i], (int) (i / 4));
        ASSERT_EQ(info.xend_config_format, version);
}

static void check_lists(Xend *x, int version) {
        _cleanup_strv_free_ char **running = NULL, **halted = NULL;

        ASSERT_XV_OK(xend_list_domain_names(x, false, &running, error));
        ASSERT_TRUE(names_contain(running, "Domain-0"));
        if (version >= 3) {
                ASSERT_XV_OK(xend_list_domain_names(x, true, &halted, error));
                ASSERT_NOT_NULL(halted);
        } else
                ASSERT_XV_ERROR(xend_list_domain_names(x, true, &halted, error), EOPNOTSUPP, XVP_ERR_NO_SUPPORT);
}

static void check_create_and_lifecycle(Xend *x, const Sim *s) {
        _cleanup_(sexpr_freep) Sexpr *created = NULL, *d = NULL, *by_id = NULL, *by_uuid = NULL;
        _cleanup_strv_free_ char **running = NULL;
        const char *domid;

        ASSERT_XV_OK(xend_domain_create(x, guest_config, &created, error));
        ASSERT_NOT_NULL(created);
        ASSERT_STREQ(node(created, "domain/name"), "guest1");
        domid = node(created, "domain/domid");
        ASSERT_NOT_NULL(domid);

        /* XenD builds domains paused. */
        d = get_domain(x, "guest1");
        ASSERT_TRUE(strchr(node(d, "domain/state"), 'p'));
        ASSERT_STREQ(node(d, "domain/memory"), "256");
        by_id = get_domain(x, domid);
        ASSERT_STREQ(node(by_id, "domain/name"), "guest1");
        by_uuid = get_domain(x, "4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
        ASSERT_STREQ(node(by_uuid, "domain/name"), "guest1");

        ASSERT_XV_OK(xend_domain_wait_for_devices(x, "guest1", error));
        ASSERT_XV_OK(xend_domain_unpause(x, "guest1", error));
        d = sexpr_free(d);
        d = get_domain(x, "guest1");
        ASSERT_NULL(strchr(node(d, "domain/state"), 'p'));

        ASSERT_XV_OK(xend_domain_pause(x, domid, error));
        d = sexpr_free(d);
        d = get_domain(x, "guest1");
        ASSERT_TRUE(strchr(node(d, "domain/state"), 'p'));
        ASSERT_XV_OK(xend_domain_unpause(x, "guest1", error));

        ASSERT_XV_OK(xend_list_domain_names(x, false, &running, error));
        ASSERT_TRUE(names_contain(running, "guest1"));
        (void) s;
}

static void check_resources(Xend *x, int version) {
        _cleanup_(sexpr_freep) Sexpr *d = NULL, *vcpus = NULL;
        unsigned n = 0;

        /* KiB in, MiB rounded up on the wire. */
        ASSERT_XV_OK(xend_domain_maxmem_set(x, "guest1", 1024 * 1024 + 1, error));
        ASSERT_XV_OK(xend_domain_mem_target_set(x, "guest1", 300 * 1024, error));
        d = get_domain(x, "guest1");
        ASSERT_STREQ(node(d, "domain/maxmem"), "1025");
        ASSERT_STREQ(node(d, "domain/memory"), "300");
        d = sexpr_free(d);

        ASSERT_XV_OK(xend_domain_set_vcpus(x, "guest1", 1, error));
        ASSERT_XV_ERROR(xend_domain_set_vcpus(x, "guest1", 0, error), EINVAL, XVP_ERR_INVALID_ARG);

        /* "1,3" travels as "[1,3]" to XenD before 3.0.4; xensim refuses the wrong form. */
        ASSERT_XV_OK(xend_domain_pincpu(x, "guest1", 0, "1,3", error));
        ASSERT_XV_ERROR(xend_domain_pincpu(x, "guest1", 0, "1,,3", error), EINVAL, XVP_ERR_INVALID_ARG);
        ASSERT_XV_ERROR(xend_domain_pincpu(x, "guest1", 0, "1&op=destroy", error), EINVAL, XVP_ERR_INVALID_ARG);
        /* XenD refuses a cpu it does not have, with its own message. */
        ASSERT_XV_ERROR(xend_domain_pincpu(x, "guest1", 1, "0,200", error), EIO, XVP_ERR_OPERATION_FAILED);
        uint8_t map[2] = { 0x05, 0x00 };        /* cpus 0 and 2 */
        ASSERT_XV_OK(xend_domain_pincpu_map(x, "guest1", 1, map, 2, error));
        map[0] = 0;
        ASSERT_XV_ERROR(xend_domain_pincpu_map(x, "guest1", 1, map, 2, error), EINVAL, XVP_ERR_INVALID_ARG);

        ASSERT_XV_OK(xend_domain_vcpuinfo(x, "guest1", &vcpus, error));
        ASSERT_STREQ(sexpr_head(vcpus), "vcpus");
        SEXPR_FOREACH_CHILD(v, vcpus) {
                const Sexpr *cpumap;

                ASSERT_STREQ(sexpr_head(v), "vcpu");
                cpumap = sexpr_item(sexpr_lookup(v, "vcpu/cpumap"), 1);
                uint8_t m[1];

                if (streq(strempty(node(v, "vcpu/number")), "0")) {
                        ASSERT_EQ(xend_vcpu_cpumap(v, m, 1), 2);
                        ASSERT_EQ(m[0], 0x0a);
                        ASSERT_EQ(sexpr_n_items(cpumap), 2u);
                        ASSERT_STREQ(sexpr_atom(sexpr_item(cpumap, 0)), "1");
                        ASSERT_STREQ(sexpr_atom(sexpr_item(cpumap, 1)), "3");
                        ASSERT_STREQ(node(v, "vcpu/online"), "1");
                } else {
                        ASSERT_STREQ(node(v, "vcpu/number"), "1");
                        ASSERT_EQ(sexpr_n_items(cpumap), 2u);
                        ASSERT_STREQ(sexpr_atom(sexpr_item(cpumap, 0)), "0");
                        ASSERT_STREQ(sexpr_atom(sexpr_item(cpumap, 1)), "2");
                        ASSERT_STREQ(node(v, "vcpu/online"), "0");       /* set_vcpus 1 */
                }
                n++;
        }
        ASSERT_EQ(n, 2u);

        ASSERT_XV_OK(xend_domain_sched_credit_set(x, "guest1", 512, 50, error));
        d = get_domain(x, "guest1");
        /* XenD before 3.0.4 did not report the credit parameters in the domain's SXP. */
        if (version >= 3) {
                ASSERT_STREQ(node(d, "domain/cpu_weight"), "512");
                ASSERT_STREQ(node(d, "domain/cpu_cap"), "50");
        }
        ASSERT_XV_ERROR(xend_domain_sched_credit_set(x, "guest1", 0, 0, error), EIO, XVP_ERR_OPERATION_FAILED);
}

static const Sexpr *find_device(const Sexpr *d, const char *type, const char *dev) {
        SEXPR_FOREACH_CHILD(c, d) {
                const Sexpr *t = sexpr_item(c, 1);
                char path[64];

                if (!streq(strempty(sexpr_head(c)), "device") || !streq_ptr(sexpr_head(t), type))
                        continue;
                (void) snprintf(path, sizeof(path), "%s/dev", type);
                if (streq_ptr(sexpr_node(t, path), dev))
                        return t;
        }
        return NULL;
}

static void check_devices(Xend *x) {
        _cleanup_(sexpr_freep) Sexpr *d1 = NULL, *d2 = NULL, *d3 = NULL;

        ASSERT_XV_OK(xend_domain_device_create(x, "guest1", "(vbd (dev xvdb) (uname phy:/dev/sdb) (mode w))", error));
        d1 = get_domain(x, "guest1");
        ASSERT_STREQ(sexpr_node(find_device(d1, "vbd", "xvdb"), "vbd/uname"), "phy:/dev/sdb");
        ASSERT_XV_ERROR(xend_domain_device_create(x, "guest1", "(vbd (dev xvdb) (uname phy:/dev/sdb) (mode w))",
                                                  error), EIO, XVP_ERR_OPERATION_FAILED);

        ASSERT_XV_OK(xend_domain_device_configure(x, "guest1", "(vbd (dev xvdb) (uname 'file:/var/a b.img') (mode r))",
                                                  "xvdb", error));
        d2 = get_domain(x, "guest1");
        ASSERT_STREQ(sexpr_node(find_device(d2, "vbd", "xvdb"), "vbd/uname"), "file:/var/a b.img");

        ASSERT_XV_OK(xend_domain_device_destroy(x, "guest1", "vbd", "xvdb", false, true, error));
        d3 = get_domain(x, "guest1");
        ASSERT_NULL(find_device(d3, "vbd", "xvdb"));
        ASSERT_NOT_NULL(find_device(d3, "vbd", "xvda"));
        ASSERT_XV_ERROR(xend_domain_device_destroy(x, "guest1", "vbd", "xvdb", false, true, error), EIO,
                        XVP_ERR_OPERATION_FAILED);
}

static void check_save_restore_dump(Xend *x, const Sim *s) {
        _cleanup_(sexpr_freep) Sexpr *restored = NULL, *gone = NULL;
        _cleanup_free_ char *save = NULL, *core = NULL;
        struct stat st;

        ASSERT_OK(asprintf(&save, "%s/guest1.save", s->dir));
        ASSERT_OK(asprintf(&core, "%s/guest1.core", s->dir));

        ASSERT_XV_OK(xend_domain_dump(x, "guest1", core, true, false, error));
        ASSERT_TRUE(stat(core, &st) >= 0 && st.st_size > 0);
        /* Observed: XenD answers 200 with (xend.err ...) for a dump of Domain-0. */
        ASSERT_XV_ERROR(xend_domain_dump(x, "Domain-0", core, false, false, error), EIO, XVP_ERR_OPERATION_FAILED);
        ASSERT_XV_ERROR(xend_domain_dump(x, "guest1", "", false, false, error), EINVAL, XVP_ERR_INVALID_ARG);

        ASSERT_XV_OK(xend_domain_save(x, "guest1", save, error));
        ASSERT_TRUE(stat(save, &st) >= 0 && st.st_size > 0);
        ASSERT_XV_ERROR(xend_domain_get(x, "guest1", &gone, error), ENOENT, XVP_ERR_NO_DOMAIN);

        ASSERT_XV_OK(xend_domain_restore(x, save, &restored, error));
        ASSERT_NOT_NULL(restored);
        ASSERT_STREQ(node(restored, "domain/name"), "guest1");
        ASSERT_NOT_NULL(node(restored, "domain/domid"));
        ASSERT_XV_ERROR(xend_domain_restore(x, "/nonexistent/file", NULL, error), EIO, XVP_ERR_OPERATION_FAILED);
}

static void check_shutdown_destroy_migrate(Xend *x) {
        _cleanup_(sexpr_freep) Sexpr *gone = NULL, *gone2 = NULL, *g2 = NULL;
        static const char g2_config[] = "(vm (name guest2) (memory 128) (vcpus 1) (image (linux (kernel /k))))";

        ASSERT_XV_ERROR(xend_domain_shutdown(x, "guest1", "sleep", error), EINVAL, XVP_ERR_INVALID_ARG);
        /* XenD answers 202 + (xend.err 'Shutdown failed ...') for Domain-0. */
        ASSERT_XV_ERROR(xend_domain_shutdown(x, "Domain-0", "poweroff", error), EIO, XVP_ERR_OPERATION_FAILED);
        ASSERT_XV_OK(xend_domain_shutdown(x, "guest1", "reboot", error));

        ASSERT_XV_OK(xend_domain_destroy(x, "guest1", error));
        ASSERT_XV_ERROR(xend_domain_get(x, "guest1", &gone, error), ENOENT, XVP_ERR_NO_DOMAIN);
        ASSERT_XV_ERROR(xend_domain_destroy(x, "guest1", error), ENOENT, XVP_ERR_NO_DOMAIN);

        ASSERT_XV_OK(xend_domain_create(x, g2_config, &g2, error));
        ASSERT_XV_OK(xend_domain_unpause(x, "guest2", error));
        ASSERT_XV_ERROR(xend_domain_migrate(x, "guest2", "", true, 0, error), EINVAL, XVP_ERR_INVALID_ARG);
        ASSERT_XV_OK(xend_domain_migrate(x, "guest2", "remote.example.org", true, 0, error));
        ASSERT_XV_ERROR(xend_domain_get(x, "guest2", &gone2, error), ENOENT, XVP_ERR_NO_DOMAIN);
}

static void check_managed(Xend *x, int version) {
        static const char g3_config[] = "(vm (name guest3) (memory 128) (vcpus 1) (on_xend_start ignore)"
                                        " (image (linux (kernel /k))))";
        _cleanup_(sexpr_freep) Sexpr *defined = NULL, *d = NULL, *gone = NULL;
        _cleanup_strv_free_ char **halted = NULL, **halted2 = NULL, **halted3 = NULL;

        if (version < 3) {
                ASSERT_XV_ERROR(xend_domain_new(x, g3_config, &defined, error), EOPNOTSUPP, XVP_ERR_NO_SUPPORT);
                ASSERT_XV_ERROR(xend_domain_start(x, "guest3", error), EOPNOTSUPP, XVP_ERR_NO_SUPPORT);
                ASSERT_XV_ERROR(xend_domain_delete(x, "guest3", error), EOPNOTSUPP, XVP_ERR_NO_SUPPORT);
                return;
        }
        ASSERT_XV_OK(xend_domain_new(x, g3_config, &defined, error));
        ASSERT_XV_OK(xend_list_domain_names(x, true, &halted, error));
        ASSERT_TRUE(names_contain(halted, "guest3"));
        d = get_domain(x, "guest3");
        ASSERT_NULL(node(d, "domain/domid"));

        ASSERT_XV_OK(xend_domain_start(x, "guest3", error));
        d = sexpr_free(d);
        d = get_domain(x, "guest3");
        ASSERT_NOT_NULL(node(d, "domain/domid"));
        ASSERT_XV_ERROR(xend_domain_delete(x, "guest3", error), EIO, XVP_ERR_OPERATION_FAILED);

        ASSERT_XV_OK(xend_domain_destroy(x, "guest3", error));
        ASSERT_XV_OK(xend_list_domain_names(x, true, &halted2, error));
        ASSERT_TRUE(names_contain(halted2, "guest3"));
        ASSERT_XV_OK(xend_domain_delete(x, "guest3", error));
        ASSERT_XV_OK(xend_list_domain_names(x, true, &halted3, error));
        ASSERT_FALSE(names_contain(halted3, "guest3"));
        ASSERT_XV_ERROR(xend_domain_get(x, "guest3", &gone, error), ENOENT, XVP_ERR_NO_DOMAIN);
}

/* list-all is one request, whatever the number of domains. */
static void check_list_detail(Xend *x, const Sim *s, int version) {
        _cleanup_strv_free_ char **running = NULL, **halted = NULL;
        _cleanup_(sexpr_freep) Sexpr *all = NULL, *active = NULL;
        unsigned before, n = 0;
        int v;

        for (unsigned i = 0; i < 5; i++) {
                _cleanup_free_ char *cfg = NULL;

                ASSERT_OK(asprintf(&cfg, "(vm (name list%u) (memory 64) (vcpus 1) (image (linux (kernel /k))))", i));
                if (version >= 3 && i % 2)
                        ASSERT_XV_OK(xend_domain_new(x, cfg, NULL, error));
                else
                        ASSERT_XV_OK(xend_domain_create(x, cfg, NULL, error));
        }
        ASSERT_XV_OK(xend_detect_config_version(x, &v, error));         /* cached from here on */

        before = sim_stat(s, "xend_requests");
        ASSERT_XV_OK(xend_list_domains_detail(x, true, &all, error));
        ASSERT_EQ(sim_stat(s, "xend_requests"), before + 1);
        ASSERT_STREQ(sexpr_head(all), "domains");

        ASSERT_XV_OK(xend_list_domain_names(x, false, &running, error));
        if (version >= 3)
                ASSERT_XV_OK(xend_list_domain_names(x, true, &halted, error));
        SEXPR_FOREACH_CHILD(d, all) {
                const char *name = node(d, "domain/name");

                ASSERT_STREQ(sexpr_head(d), "domain");
                ASSERT_NOT_NULL(node(d, "domain/memory"));
                ASSERT_TRUE(names_contain(running, name) || names_contain(halted, name));
                n++;
        }
        ASSERT_EQ(n, strv_length(running) + strv_length(halted));
        ASSERT_EQ(n, 6u);

        ASSERT_XV_OK(xend_list_domains_detail(x, false, &active, error));
        ASSERT_EQ(sexpr_n_children(active), strv_length(running));
}

static void run_all_operations(int version) {
        _cleanup_(xend_freep) Xend *x = NULL;
        Sim s = {};

        sim_start(&s, version);
        x = client(&s, REQUEST_TIMEOUT_USEC);
        ASSERT_FALSE(xend_is_insecure(x));
        check_host(x, version);
        check_lists(x, version);
        check_create_and_lifecycle(x, &s);
        check_resources(x, version);
        check_devices(x);
        check_save_restore_dump(x, &s);
        check_shutdown_destroy_migrate(x);
        check_managed(x, version);
        check_list_detail(x, &s, version);
        sim_stop(&s);
}

TEST(operations_config_version_1) {
        run_all_operations(1);
}

TEST(operations_config_version_2) {
        run_all_operations(2);
}

TEST(operations_config_version_3) {
        run_all_operations(3);
}

TEST(operations_config_version_4) {
        run_all_operations(4);
}

/* A process that answers one request on a UNIX socket with @reply, then exits. */
static pid_t serve_once(const char *path, const char *reply, size_t size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        pid_t pid;

        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(bind(fd, (struct sockaddr *) &sa, sizeof(sa)) >= 0);
        ASSERT_TRUE(listen(fd, 1) >= 0);
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                char buf[4096];
                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

                if (c < 0)
                        _exit(1);
                /* A GET request: everything up to the blank line. */
                for (size_t got = 0; got < sizeof(buf);) {
                        ssize_t n = recv(c, buf + got, sizeof(buf) - got, 0);

                        if (n <= 0)
                                break;
                        got += (size_t) n;
                        if (memmem(buf, got, "\r\n\r\n", 4))
                                break;
                }
                for (size_t off = 0; off < size;) {
                        ssize_t n = send(c, reply + off, size - off, MSG_NOSIGNAL);

                        if (n <= 0)
                                _exit(1);
                        off += (size_t) n;
                }
                _exit(0);
        }
        return pid;
}

/* XenD's answer to GET /xend/domain?detail=1, served from a file-less fake XenD. */
static int list_detail_from(const char *body, Sexpr **ret, XvError *error) {
        _cleanup_(xend_freep) Xend *x = NULL;
        _cleanup_free_ char *reply = NULL;
        char dir[] = "/tmp/xv-xend-client.XXXXXX", path[64];
        int status, r;
        pid_t pid;

        ASSERT_NOT_NULL(mkdtemp(dir));
        (void) snprintf(path, sizeof(path), "%s/xend-socket", dir);
        ASSERT_OK(asprintf(&reply, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body));
        pid = serve_once(path, reply, strlen(reply));
        ASSERT_OK(xend_new(path, NULL, 10 * 1000 * 1000, &x));
        r = xend_list_domains_detail(x, false, ret, error);
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        (void) unlink(path);
        (void) rmdir(dir);
        return r;
}

/* A detailed list of thousands of domains is several MiB: more than one S-expression may be
 * (SEXPR_SIZE_MAX), but it is still one request, read and parsed item by item. */
TEST(list_detail_large) {
        _cleanup_(sexpr_freep) Sexpr *all = NULL;
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        unsigned n = 0;

        strbuf_append(&b, "(");
        for (unsigned i = 0; i < 10000; i++)
                strbuf_appendf(&b, "(domain (domid %u) (name 'guest %u') (description 'a (b) \\' c \\\\')"
                               " (uuid 4dea22b3-1d52-d8f3-2516-%012u) (state -b----) (memory 256) (maxmem 256)"
                               " (vcpus 2) (cpu_time 1.5) (image (linux (kernel /boot/vmlinuz)))"
                               " (device (vbd (dev xvda) (uname phy:/dev/vg/guest%u) (mode w))))\n",
                               i + 1, i, i, i);
        strbuf_append(&b, ")");
        ASSERT_EQ(b.error, 0);
        ASSERT_GT(b.len, (size_t) SEXPR_SIZE_MAX * 2);

        ASSERT_XV_OK(list_detail_from(strbuf_get(&b), &all, error));
        ASSERT_STREQ(sexpr_head(all), "domains");
        SEXPR_FOREACH_CHILD(d, all) {
                char name[32];

                (void) snprintf(name, sizeof(name), "guest %u", n);
                ASSERT_STREQ(node(d, "domain/name"), name);
                ASSERT_STREQ(node(d, "domain/description"), "a (b) ' c \\");
                n++;
        }
        ASSERT_EQ(n, 10000u);
}

TEST(list_detail_shapes) {
        _cleanup_(sexpr_freep) Sexpr *empty = NULL, *lone = NULL, *mixed = NULL, *open = NULL;
        Sexpr *bad = NULL;

        ASSERT_XV_OK(list_detail_from("()", &empty, error));
        ASSERT_EQ(sexpr_n_children(empty), 0u);
        ASSERT_XV_OK(list_detail_from("(domain (name a))", &lone, error));
        ASSERT_EQ(sexpr_n_children(lone), 1u);
        /* Atoms and other lists among the items are dropped. */
        ASSERT_XV_OK(list_detail_from(" ((domain (name a)) junk 'q' (other) (domain (name 'b)')))\n", &mixed, error));
        ASSERT_EQ(sexpr_n_children(mixed), 2u);
        ASSERT_STREQ(node(sexpr_item(mixed, 2), "domain/name"), "b)");
        /* Like the parser: the outermost list may stay open. */
        ASSERT_XV_OK(list_detail_from("((domain (name a))", &open, error));
        ASSERT_EQ(sexpr_n_children(open), 1u);

        ASSERT_XV_ERROR(list_detail_from("((domain (name 'a))", &bad, error), EIO, XVP_ERR_INTERNAL);
        ASSERT_XV_ERROR(list_detail_from("garbage", &bad, error), EIO, XVP_ERR_INTERNAL);
        ASSERT_XV_ERROR(list_detail_from("((domain (name a)) (domain (name ", &bad, error), EIO, XVP_ERR_INTERNAL);
        ASSERT_NULL(bad);
}

/* ---------------------------------------------------------------- parsers without XenD */

static void check_node_to_cpu(const char *text, unsigned nr_cpus, const char *expected) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        _cleanup_free_ int *map = NULL;
        int r;

        r = xend_parse_node_to_cpu(text, nr_cpus, &map, &error);
        if (!expected) {
                ASSERT_TRUE(r < 0);
                ASSERT_EQ(error.code, XVP_ERR_INTERNAL);
                ASSERT_NULL(map);
                return;
        }
        ASSERT_OK(r);
        for (unsigned i = 0; i < nr_cpus; i++)
                strbuf_appendf(&b, "%s%d", i ? " " : "", map[i]);
        ASSERT_STREQ(strbuf_get(&b), expected);
}

TEST(node_to_cpu) {
        check_node_to_cpu("node0:0-3\n                         node1:4-7\n", 8, "0 0 0 0 1 1 1 1");
        check_node_to_cpu("node0:0,2,4-5\nnode1:no cpus\nnode2:1", 7, "0 2 0 -1 0 0 -1");
        check_node_to_cpu("node0:0", 1, "0");
        check_node_to_cpu("", 2, "-1 -1");
        check_node_to_cpu("node0:0-8", 8, NULL);
        check_node_to_cpu("node0:3-1", 8, NULL);
        check_node_to_cpu("node0:", 8, NULL);
        check_node_to_cpu("cpu0:0", 8, NULL);
        check_node_to_cpu("node0:0,", 8, NULL);
        check_node_to_cpu("node0:1x", 8, NULL);
        check_node_to_cpu("node99999999999:1", 8, NULL);
}

TEST(node_info_derivations) {
        _cleanup_(xv_error_done) XvError e1 = XV_ERROR_NULL, e2 = XV_ERROR_NULL;
        _cleanup_(xend_node_info_done) XendNodeInfo a = {}, b = {}, c = {};
        _cleanup_(sexpr_freep) Sexpr *old = NULL, *bare = NULL, *bad = NULL, *nomem = NULL;
        XendNodeInfo none = {};

        /* Xen before 3.2: sockets_per_node counted the host's sockets (4 over 2 nodes). */
        ASSERT_OK(sexpr_parse_string("(node (machine i686) (nr_cpus 16) (nr_nodes 2) (sockets_per_node 4)"
                                     " (cores_per_socket 2) (threads_per_core 2) (cpu_mhz 1000)"
                                     " (total_memory 1024) (free_memory 10) (xen_major 3) (xen_minor 1))",
                                     &old, NULL));
        ASSERT_OK(xend_node_info_from_sexpr(old, &a, NULL));
        ASSERT_EQ(a.node.sockets, 2u);
        ASSERT_EQ(a.node.memory_kib, 1024u * 1024);
        ASSERT_EQ(a.free_memory_kib, 10u * 1024);
        ASSERT_EQ(a.xend_config_format, 1);
        ASSERT_STREQ(a.node.model, "i686");

        /* Counts missing: one node, one core, one thread, every cpu its own socket. */
        ASSERT_OK(sexpr_parse_string("(node (nr_cpus 4) (total_memory 512) (xend_config_format 7))", &bare, NULL));
        ASSERT_OK(xend_node_info_from_sexpr(bare, &b, NULL));
        ASSERT_EQ(b.node.nodes, 1u);
        ASSERT_EQ(b.node.sockets, 4u);
        ASSERT_EQ(b.node.cores, 1u);
        ASSERT_EQ(b.node.threads, 1u);
        ASSERT_EQ(b.free_memory_kib, UINT64_MAX);
        ASSERT_EQ(b.xend_config_format, 4);     /* every later XenD is treated as 4 */
        ASSERT_NULL(b.xen_scheduler);

        ASSERT_OK(sexpr_parse_string("(node (nr_cpus -4) (total_memory 512))", &bad, NULL));
        ASSERT_TRUE(xend_node_info_from_sexpr(bad, &c, &e1) < 0);
        ASSERT_STREQ(e1.message, "Missing or invalid nr_cpus '-4' from XenD");
        ASSERT_OK(sexpr_parse_string("(node (nr_cpus 4))", &nomem, NULL));
        ASSERT_TRUE(xend_node_info_from_sexpr(nomem, &none, &e2) < 0);
        ASSERT_STREQ(e2.message, "Missing or invalid total_memory '(null)' from XenD");
}

TEST(vcpu_cpumap) {
        _cleanup_(sexpr_freep) Sexpr *nested = NULL, *flat = NULL, *empty = NULL, *bad = NULL, *none = NULL;
        uint8_t map[2] = { 0xff, 0xff };

        ASSERT_OK(sexpr_parse_string("(vcpu (number 0) (cpumap (0 3 9 40)))", &nested, NULL));
        ASSERT_EQ(xend_vcpu_cpumap(nested, map, 2), 3);         /* 40 is beyond the map */
        ASSERT_EQ(map[0], 0x09);
        ASSERT_EQ(map[1], 0x02);
        ASSERT_OK(sexpr_parse_string("(vcpu (number 1) (cpumap 1 2))", &flat, NULL));
        ASSERT_EQ(xend_vcpu_cpumap(flat, map, 2), 2);
        ASSERT_EQ(map[0], 0x06);
        ASSERT_EQ(map[1], 0x00);
        ASSERT_OK(sexpr_parse_string("(vcpu (number 1) (cpumap ()))", &empty, NULL));
        ASSERT_EQ(xend_vcpu_cpumap(empty, map, 2), 0);
        ASSERT_OK(sexpr_parse_string("(vcpu (cpumap (0 x)))", &bad, NULL));
        ASSERT_ERROR(xend_vcpu_cpumap(bad, map, 2), EINVAL);
        ASSERT_OK(sexpr_parse_string("(vcpu (number 1))", &none, NULL));
        ASSERT_ERROR(xend_vcpu_cpumap(none, map, 2), ENOENT);
}

TEST(cpumap_format) {
        _cleanup_free_ char *a = NULL, *b = NULL;
        uint8_t map[3] = { 0x23, 0x00, 0x80 };

        ASSERT_OK(xend_cpumap_format(map, 3, &a));
        ASSERT_STREQ(a, "0,1,5,23");
        ASSERT_OK(xend_cpumap_format(map, 0, &b));
        ASSERT_STREQ(b, "");
}

/* ---------------------------------------------------------------- identifiers and injection */

TEST(not_found_and_invalid_identifiers) {
        _cleanup_(xend_freep) Xend *x = NULL;
        Sexpr *d = NULL;
        Sim s = {};
        unsigned before;

        sim_start(&s, 4);
        x = client(&s, REQUEST_TIMEOUT_USEC);
        ASSERT_XV_ERROR(xend_domain_get(x, "nosuchdomain", &d, error), ENOENT, XVP_ERR_NO_DOMAIN);
        ASSERT_XV_ERROR(xend_domain_pause(x, "nosuchdomain", error), ENOENT, XVP_ERR_NO_DOMAIN);
        ASSERT_XV_ERROR(xend_domain_vcpuinfo(x, "nosuchdomain", &d, error), ENOENT, XVP_ERR_NO_DOMAIN);

        /* Refused before any request. */
        before = sim_stat(&s, "xend_requests");
        ASSERT_XV_ERROR(xend_domain_get(x, "a/b", &d, error), EINVAL, XVP_ERR_INVALID_ARG);
        ASSERT_XV_ERROR(xend_domain_get(x, "..", &d, error), EINVAL, XVP_ERR_INVALID_ARG);
        ASSERT_XV_ERROR(xend_domain_destroy(x, "", error), EINVAL, XVP_ERR_INVALID_ARG);
        ASSERT_XV_ERROR(xend_domain_destroy(x, NULL, error), EINVAL, XVP_ERR_INVALID_ARG);
        ASSERT_EQ(sim_stat(&s, "xend_requests"), before);
        ASSERT_NULL(d);
        sim_stop(&s);
}

/* A name with '&', '=', '?', a newline and quotes travels as data: in the path, in form values
 * and in the SXP configuration. What XenD stored is read back through the domain list. */
TEST(names_cannot_inject) {
        static const char *const evil[] = {
                "x&op=destroy",
                "victim?op=destroy",
                "a=b&c=d\nname='q\"",
                "100%25+sure",
        };
        _cleanup_(xend_freep) Xend *x = NULL;
        _cleanup_(sexpr_freep) Sexpr *victim = NULL, *v2 = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *file = NULL;
        Sim s = {};
        struct stat st;

        sim_start(&s, 4);
        x = client(&s, REQUEST_TIMEOUT_USEC);
        ASSERT_XV_OK(xend_domain_create(x, "(vm (name victim) (memory 64) (vcpus 1) (image (linux (kernel /k))))",
                                        &victim, error));
        ASSERT_XV_OK(xend_domain_unpause(x, "victim", error));

        for (size_t i = 0; i < ELEMENTSOF(evil); i++) {
                _cleanup_(sexpr_freep) Sexpr *vm = NULL, *created = NULL, *d = NULL;
                _cleanup_free_ char *cfg = NULL;

                ASSERT_OK(sexpr_new_list("vm", &vm));
                sexpr_add_pair(vm, "name", evil[i]);
                sexpr_add_pair(vm, "memory", "64");
                sexpr_add_pair(vm, "vcpus", "1");
                sexpr_add_atom(sexpr_add_list(sexpr_add_list(sexpr_add_list(vm, "image"), "linux"), "kernel"), "/k");
                ASSERT_OK(sexpr_format(vm, &cfg));
                ASSERT_XV_OK(xend_domain_create(x, cfg, &created, error));
                ASSERT_STREQ(node(created, "domain/name"), evil[i]);
                /* Operations by that name reach that domain and no other. */
                ASSERT_XV_OK(xend_domain_unpause(x, evil[i], error));
                ASSERT_XV_OK(xend_domain_pause(x, evil[i], error));
                d = get_domain(x, evil[i]);
                ASSERT_STREQ(node(d, "domain/name"), evil[i]);
                ASSERT_TRUE(strchr(node(d, "domain/state"), 'p'));
        }
        ASSERT_XV_OK(xend_list_domain_names(x, false, &names, error));
        for (size_t i = 0; i < ELEMENTSOF(evil); i++)
                ASSERT_TRUE(names_contain(names, evil[i]));
        ASSERT_TRUE(names_contain(names, "victim"));
        ASSERT_EQ(strv_length(names), ELEMENTSOF(evil) + 2);

        /* "victim" is still running: nothing above paused or destroyed it. */
        v2 = get_domain(x, "victim");
        ASSERT_NULL(strchr(node(v2, "domain/state"), 'p'));

        /* A file name that looks like more parameters is a file name. */
        ASSERT_OK(asprintf(&file, "%s/core&op=destroy&x=1", s.dir));
        ASSERT_XV_OK(xend_domain_dump(x, "victim", file, false, false, error));
        ASSERT_TRUE(stat(file, &st) >= 0);
        v2 = sexpr_free(v2);
        v2 = get_domain(x, "victim");
        ASSERT_NOT_NULL(node(v2, "domain/domid"));
        sim_stop(&s);
}

/* ---------------------------------------------------------------- faults */

static void expect_fault(const Sim *s, const char *command, xvp_error_code code, const char *message_part) {
        _cleanup_(xend_freep) Xend *x = client(s, 400 * 1000);
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_free_ char *out = NULL;
        Sexpr *node = NULL;
        uint64_t t0;
        int v, r;

        out = sim_ctl(s, command);
        t0 = monotonic_usec();
        r = xend_detect_config_version(x, &v, &e);
        ASSERT_LT(monotonic_usec() - t0, 3 * 1000 * 1000ULL);
        printf("# %s: %d %s\n", command, r, strnull(e.message));
        ASSERT_TRUE(r < 0);
        ASSERT_EQ(e.code, code);
        ASSERT_EQ(e.domain, XVP_FROM_XEND);
        if (!strstr(strnull(e.message), message_part))
                test_fail(__FILE__, __LINE__, "'%s' does not contain '%s'", strnull(e.message), message_part);
        ASSERT_NULL(node);
}

TEST(fault_delay_times_out) {
        _cleanup_(xend_freep) Xend *x = NULL;
        _cleanup_free_ char *o1 = NULL, *o2 = NULL;
        Sexpr *n = NULL;
        Sim s = {};

        sim_start(&s, 4);
        expect_fault(&s, "xend delay 2000", XVP_ERR_OPERATION_TIMEOUT, "Timed out after 400 ms waiting for a reply");
        /* A delay within the deadline is only slow. */
        o1 = sim_ctl(&s, "xend delay 100");
        x = client(&s, 2 * 1000 * 1000);
        ASSERT_XV_OK(xend_get_node(x, &n, error));
        n = sexpr_free(n);
        o2 = sim_ctl(&s, "xend delay 0");
        sim_stop(&s);
}

TEST(fault_garbage) {
        Sim s = {};

        sim_start(&s, 4);
        expect_fault(&s, "xend garbage on", XVP_ERR_HTTP, "Malformed status line in reply from XenD");
        sim_stop(&s);
}

TEST(fault_error500) {
        Sim s = {};

        sim_start(&s, 4);
        expect_fault(&s, "xend error500 on", XVP_ERR_OPERATION_FAILED,
                     "with status 500: XendError: xensim: injected failure (error500)");
        sim_stop(&s);
}

TEST(fault_drop) {
        Sim s = {};

        sim_start(&s, 4);
        expect_fault(&s, "xend drop on", XVP_ERR_HTTP, "XenD closed the connection without replying");
        sim_stop(&s);
}

TEST(fault_absent_and_back) {
        _cleanup_(xend_freep) Xend *x = NULL;
        _cleanup_free_ char *o = NULL;
        int v = 0;
        Sim s = {};

        sim_start(&s, 4);
        expect_fault(&s, "xend absent on", XVP_ERR_OPERATION_FAILED, "Failed to connect to XenD at '");
        o = sim_ctl(&s, "xend absent off");
        x = client(&s, REQUEST_TIMEOUT_USEC);
        ASSERT_XV_OK(xend_detect_config_version(x, &v, error));
        ASSERT_EQ(v, 4);
        sim_stop(&s);
}

/* XenD gone for good (the simulator killed): connection refused, quickly. */
TEST(fault_xend_killed) {
        _cleanup_(xend_freep) Xend *x = NULL;
        Sexpr *n = NULL;
        Sim s = {};

        sim_start(&s, 4);
        x = client(&s, REQUEST_TIMEOUT_USEC);
        (void) kill(s.pid, SIGKILL);
        (void) waitpid(s.pid, NULL, 0);
        s.pid = 0;
        ASSERT_XV_ERROR(xend_get_node(x, &n, error), ECONNREFUSED, XVP_ERR_OPERATION_FAILED);
        remove_tree(s.dir);
}

/* ---------------------------------------------------------------- threads */

typedef struct Worker {
        Xend *x;
        unsigned ok;
} Worker;

static void *worker(void *userdata) {
        Worker *w = userdata;

        for (unsigned i = 0; i < 25; i++) {
                _cleanup_(sexpr_freep) Sexpr *d = NULL, *all = NULL;
                _cleanup_strv_free_ char **names = NULL;
                int v = 0;

                if (xend_detect_config_version(w->x, &v, NULL) >= 0 && v == 4 &&
                    xend_domain_get(w->x, "Domain-0", &d, NULL) >= 0 &&
                    xend_list_domain_names(w->x, false, &names, NULL) >= 0 &&
                    xend_list_domains_detail(w->x, true, &all, NULL) >= 0)
                        w->ok++;
        }
        return NULL;
}

TEST(concurrent_requests) {
        _cleanup_(xend_freep) Xend *x = NULL;
        pthread_t t[8];
        Worker w[8];
        Sim s = {};

        sim_start(&s, 4);
        x = client(&s, REQUEST_TIMEOUT_USEC);
        for (unsigned i = 0; i < ELEMENTSOF(t); i++) {
                w[i] = (Worker) { .x = x };
                ASSERT_EQ(pthread_create(&t[i], NULL, worker, &w[i]), 0);
        }
        for (unsigned i = 0; i < ELEMENTSOF(t); i++) {
                ASSERT_EQ(pthread_join(t[i], NULL), 0);
                ASSERT_EQ(w[i].ok, 25u);
        }
        sim_stop(&s);
}

DEFINE_TEST_MAIN
