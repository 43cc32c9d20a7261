/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The xend backend (src/xen/xv-backend-xend*.c) against xensim: every test starts its own
 * simulated host (xensim --dir TMP --xend-config-version N), opens the backend on it and drives
 * it like the daemon would, counting XenD requests through xensim's control socket.
 *
 * The real libxenctrl must load xensim's replacement libxencall, which needs LD_LIBRARY_PATH set
 * before the process starts: main() re-executes the binary once with it.
 */

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-domain-xml.h"
#include "xv-fileio.h"
#include "xv-hypervisor.h"
#include "xv-sexpr-domain.h"
#include "xv-xend.h"

static const char *builddir;

typedef struct Sandbox {
        char *dir;
        pid_t pid;
        int cfg;
        XvHypervisor *h;
} Sandbox;

static Sandbox *current;

static char *sb_path(const Sandbox *s, const char *rest) {
        return test_path(s->dir, rest);
}

static void sandbox_kill(Sandbox *s) {
        if (s->pid > 0) {
                (void) kill(s->pid, SIGTERM);
                (void) waitpid(s->pid, NULL, 0);
                s->pid = 0;
        }
        if (s->dir) {
                _cleanup_free_ char *cmd = NULL;

                if (asprintf(&cmd, "rm -rf '%s'", s->dir) >= 0)
                        (void) !system(cmd);    /* NOLINT(cert-env33-c): our mkdtemp() directory */
        }
}

/* A failed assertion abort()s: stop this test's xensim (by its pid) on the way out. */
static void on_abort(int sig) {
        if (current && current->pid > 0)
                (void) kill(current->pid, SIGTERM);
        signal(sig, SIG_DFL);
        raise(sig);
}

static char *ctl_run(Sandbox *s, const char *fmt, ...) _printf_(2, 3);

static void sandbox_up(Sandbox *s, int cfg) {
        _cleanup_free_ char *xensim = NULL, *pidfile = NULL, *log = NULL, *hv = NULL, *xs = NULL, *cfgs = NULL;

        *s = (Sandbox) { .cfg = cfg };
        s->dir = strdup("/tmp/xv-test-backend.XXXXXX");
        ASSERT_NOT_NULL(s->dir);
        ASSERT_NOT_NULL(mkdtemp(s->dir));
        xensim = test_path(builddir, "tests/xensim/xensim");
        pidfile = sb_path(s, "xensim.pid");
        log = sb_path(s, "xensim.log");
        ASSERT_TRUE(asprintf(&cfgs, "%d", cfg) >= 0);

        s->pid = fork();
        ASSERT_TRUE(s->pid >= 0);
        if (s->pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644), nul = open("/dev/null", O_RDONLY);

                /* Whatever way the test process ends, xensim ends with it. */
                if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() == 1)
                        _exit(1);

                if (fd >= 0) {
                        (void) dup2(fd, 1);
                        (void) dup2(fd, 2);
                }
                if (nul >= 0)
                        (void) dup2(nul, 0);
                execl(xensim, "xensim", "--dir", s->dir, "--xend-config-version", cfgs, (char *) NULL);
                _exit(127);
        }
        current = s;
        signal(SIGABRT, on_abort);
        for (int i = 0; i < 200 && access(pidfile, F_OK) < 0; i++)
                usleep(20 * 1000);
        ASSERT_EQ(access(pidfile, F_OK), 0);

        hv = sb_path(s, "hv-socket");
        xs = sb_path(s, "xenstored-socket");
        ASSERT_EQ(setenv("XENSIM_HV_SOCKET", hv, 1), 0);
        ASSERT_EQ(setenv("XENSTORED_PATH", xs, 1), 0);
}

static XvHypervisor *hv_open_full(Sandbox *s, uint64_t timeout_usec, bool read_only) {
        _cleanup_free_ char *xend = sb_path(s, "xend-socket"), *xm = sb_path(s, "xen"), *root = sb_path(s, "root"),
                *save = sb_path(s, "save");
        HvConfig c = {
                .backend = HV_BACKEND_AUTO,
                .xend_socket = xend,
                .xend_timeout_usec = timeout_usec,
                .xm_dir = xm,
                .host_root = root,
                .managed_save_dir = save,
                .read_only = read_only,
        };
        XvError e = XV_ERROR_NULL;
        XvHypervisor *h = NULL;
        int r;

        r = hypervisor_open(&c, &h, &e);
        if (r < 0)
                test_fail(__FILE__, __LINE__, "hypervisor_open: %s", strnull(e.message));
        xv_error_done(&e);
        return h;
}

static XvHypervisor *hv_open(Sandbox *s) {
        s->h = hv_open_full(s, 5 * 1000 * 1000, false);
        return s->h;
}

static void sandbox_down(Sandbox *s) {
        s->h = hypervisor_close(s->h);
        sandbox_kill(s);
        free(s->dir);
        current = NULL;
        *s = (Sandbox) {};
}

static char *ctl_run(Sandbox *s, const char *fmt, ...) {
        _cleanup_free_ char *args = NULL, *cmd = NULL, *ctl = test_path(builddir, "tests/xensim/xensim-ctl"),
                *sock = sb_path(s, "control-socket");
        char buf[65536];
        size_t n;
        va_list ap;
        FILE *p;

        va_start(ap, fmt);
        ASSERT_TRUE(vasprintf(&args, fmt, ap) >= 0);
        va_end(ap);
        ASSERT_TRUE(asprintf(&cmd, "'%s' '%s' %s 2>&1", ctl, sock, args) >= 0);
        p = popen(cmd, "re");   /* NOLINT(cert-env33-c): the test's own xensim-ctl, quoted paths */
        ASSERT_NOT_NULL(p);
        n = fread(buf, 1, sizeof(buf) - 1, p);
        buf[n] = 0;
        if (pclose(p) != 0)
                test_fail(__FILE__, __LINE__, "xensim-ctl %s failed: %s", args, buf);
        return strdup(buf);
}

static void ctl(Sandbox *s, const char *args) {
        free(ctl_run(s, "%s", args));
}

static unsigned xend_requests(Sandbox *s) {
        _cleanup_free_ char *out = ctl_run(s, "stats");
        const char *p = strstr(out, "xend_requests ");
        unsigned v = 0;

        ASSERT_NOT_NULL(p);
        ASSERT_EQ(sscanf(p, "xend_requests %u", &v), 1);       /* NOLINT(cert-err34-c): xensim's counter */
        return v;
}

/* ---- events ------------------------------------------------------------------------------ */

#define EVENTS_MAX 256

typedef struct Seen {
        char name[64];
        int event, detail;
} Seen;

static Seen seen[EVENTS_MAX];
static size_t n_seen;

static void on_event(XvHypervisor *h, const HvEvent *ev, void *userdata) {
        if (n_seen >= EVENTS_MAX)
                return;
        (void) snprintf(seen[n_seen].name, sizeof(seen[n_seen].name), "%s", strempty(ev->ref.name));
        seen[n_seen].event = ev->event;
        seen[n_seen].detail = ev->detail;
        n_seen++;
}

static void pump(XvHypervisor *h, int ms) {
        struct pollfd p = { .fd = hypervisor_event_fd(h), .events = POLLIN };

        (void) poll(&p, 1, ms);
        ASSERT_OK(hypervisor_process_events(h));
}

static ssize_t find_event(const char *name, int event, int detail, size_t from) {
        for (size_t i = from; i < n_seen; i++)
                if (streq(seen[i].name, name) && seen[i].event == event && (detail < 0 || seen[i].detail == detail))
                        return (ssize_t) i;
        return -1;
}

/* Pumps events until (name, event, detail) arrives (detail -1 = any); returns its index. */
static size_t wait_event(XvHypervisor *h, const char *name, int event, int detail) {
        for (int i = 0; i < 100; i++) {
                ssize_t k = find_event(name, event, detail, 0);

                if (k >= 0)
                        return (size_t) k;
                pump(h, 50);
        }
        for (size_t i = 0; i < n_seen; i++)
                fprintf(stderr, "# seen: %s %d/%d\n", seen[i].name, seen[i].event, seen[i].detail);
        test_fail(__FILE__, __LINE__, "no event %d/%d for '%s'", event, detail, name);
}

static size_t count_events(const char *name, int event) {
        size_t c = 0;

        for (size_t i = 0; i < n_seen; i++)
                if (streq(seen[i].name, name) && seen[i].event == event)
                        c++;
        return c;
}

/* ---- helpers ---------------------------------------------------------------------------- */

static DomainDef *seed_def(const char *file) {
        _cleanup_free_ char *path = NULL, *xml = NULL;
        DomainDef *def = NULL;
        XvError e = XV_ERROR_NULL;

        ASSERT_TRUE(asprintf(&path, "%s/seed-examples/%s", test_shared_dir(), file) >= 0);
        xml = test_read_file(path);
        if (domain_def_parse_xml(xml, &def, &e) < 0)
                test_fail(__FILE__, __LINE__, "%s: %s", file, strnull(e.message));
        return def;
}

static DomainDef *simple_def(const char *name) {
        _cleanup_free_ char *xml = NULL;
        DomainDef *def = NULL;

        ASSERT_TRUE(asprintf(&xml,
                             "<domain type='xen'><name>%s</name><memory>262144</memory>"
                             "<currentMemory>131072</currentMemory><vcpu>2</vcpu>"
                             "<os><type>linux</type><kernel>/boot/vmlinuz</kernel></os>"
                             "<devices><disk type='file'><source file='/var/lib/xen/%s.img'/>"
                             "<target dev='xvda'/></disk>"
                             "<interface type='bridge'><source bridge='xenbr0'/>"
                             "<mac address='00:16:3e:00:00:aa'/></interface></devices></domain>",
                             name, name) >= 0);
        ASSERT_OK(domain_def_parse_xml(xml, &def, NULL));
        return def;
}

static HvDomainRef lookup(XvHypervisor *h, const char *name) {
        HvDomainRef r = {};
        XvError e = XV_ERROR_NULL;

        if (hypervisor_lookup_by_name(h, name, &r, &e) < 0)
                test_fail(__FILE__, __LINE__, "lookup '%s': %s", name, strnull(e.message));
        return r;
}

static int state_of(XvHypervisor *h, const HvDomainRef *ref, int *reason) {
        int st = -1, rs = -1;
        XvError e = XV_ERROR_NULL;

        if (hypervisor_domain_get_state(h, ref, &st, &rs, &e) < 0)
                test_fail(__FILE__, __LINE__, "get_state: %s", strnull(e.message));
        if (reason)
                *reason = rs;
        return st;
}

static bool wait_state(XvHypervisor *h, const char *name, int state) {
        for (int i = 0; i < 100; i++) {
                HvDomainRef r = {};
                int st = -1;

                if (hypervisor_lookup_by_name(h, name, &r, NULL) >= 0) {
                        (void) hypervisor_domain_get_state(h, &r, &st, NULL, NULL);
                        /* A domain Xen shut down is SHUTOFF before its toolstack destroys it. */
                        if (state == XVP_DOMAIN_SHUTOFF && r.id >= 0)
                                st = -1;
                        hv_domain_ref_done(&r);
                }
                if (st == state)
                        return true;
                usleep(50 * 1000);
        }
        return false;
}

static bool listed(XvHypervisor *h, unsigned flags, const char *name, HvDomainSummary *ret) {
        HvDomainSummary *l = NULL;
        size_t n = 0;
        bool found = false;

        ASSERT_OK(hypervisor_list_all_domains(h, flags, &l, &n, NULL));
        for (size_t i = 0; i < n; i++)
                if (streq(l[i].ref.name, name)) {
                        found = true;
                        if (ret) {
                                *ret = l[i];
                                ret->ref.name = NULL;
                        }
                }
        hv_domain_summaries_free(l, n);
        return found;
}

#define EXPECT_ERROR(expr, errvar, want)                                                   \
        do {                                                                               \
                xv_error_done(&(errvar));                                                  \
                ASSERT_TRUE((expr) < 0);                                                   \
                if ((errvar).code != (want))                                               \
                        test_fail(__FILE__, __LINE__, "%s: code %d, expected %d (%s)", #expr, \
                                  (int) (errvar).code, (int) (want), strnull((errvar).message)); \
                xv_error_done(&(errvar));                                                  \
        } while (0)

/* ---- tests: opening and the host ------------------------------------------------------------ */

TEST(open_status_and_host) {
        Sandbox s;
        XvHypervisor *h;
        HvStatus st;
        HvNodeInfo ni;
        uint64_t v = 0, freemem = 0;
        _cleanup_free_ char *caps = NULL, *host = NULL;
        _cleanup_free_ uint8_t *map = NULL;
        size_t maplen = 0;
        unsigned online = 0;
        int max = 0, cpus = 0;

        sandbox_up(&s, 4);
        h = hv_open(&s);
        hypervisor_get_status(h, &st);
        ASSERT_TRUE(st.xend_ok);
        ASSERT_EQ(st.xend_config_version, 4);
        ASSERT_TRUE(st.xenstore_ok);
        ASSERT_TRUE(st.hypercalls_ok);
        ASSERT_FALSE(st.xm_dir_active);
        ASSERT_STREQ(st.backend, "xend");
        ASSERT_STREQ(hypervisor_get_type(h), "Xen");
        ASSERT_EQ(hypervisor_get_xend_config_version(h), 4);
        ASSERT_OK(hypervisor_get_version(h, &v, NULL));
        ASSERT_GE(v, 3000000u);
        ASSERT_OK(hypervisor_get_hostname(h, &host, NULL));
        ASSERT_OK(hypervisor_get_capabilities(h, &caps, NULL));
        ASSERT_NOT_NULL(strstr(caps, "<capabilities>"));
        ASSERT_NOT_NULL(strstr(caps, "<os_type>hvm</os_type>"));
        ASSERT_NOT_NULL(strstr(caps, "<os_type>xen</os_type>"));
        ASSERT_NOT_NULL(strstr(caps, "<cells num="));
        ASSERT_NOT_NULL(strstr(caps, "xenmigr"));
        {
                /* Host-static: built once, then served without asking XenD again. */
                _cleanup_free_ char *again = NULL;
                unsigned before = xend_requests(&s);

                ASSERT_OK(hypervisor_get_capabilities(h, &again, NULL));
                ASSERT_STREQ(again, caps);
                ASSERT_EQ(xend_requests(&s), before);
        }
        ASSERT_OK(hypervisor_node_get_info(h, &ni, NULL));
        ASSERT_GT(ni.cpus, 0u);
        ASSERT_GT(ni.memory_kib, 0u);
        ASSERT_EQ(ni.nodes * ni.sockets * ni.cores * ni.threads, ni.cpus);
        ASSERT_OK(hypervisor_node_get_free_memory(h, &freemem, NULL));
        ASSERT_GT(freemem, 0u);
        ASSERT_OK(hypervisor_node_get_cpu_map(h, &map, &maplen, &online, &cpus, NULL));
        ASSERT_EQ(online, ni.cpus);
        ASSERT_OK(hypervisor_get_max_vcpus(h, "xen", &max, NULL));
        ASSERT_GT(max, 0);
        {
                uint64_t cells[4];
                int n = 0;

                ASSERT_OK(hypervisor_node_get_cells_free_memory(h, 0, 4, cells, &n, NULL));
                ASSERT_GE(n, 1);
        }
        sandbox_down(&s);
}

/* Asked for explicitly on a machine where no Xen answers (this test starts no simulated host), the
 * libxl backend refuses to open with a clear error instead of serving nothing. */
TEST(libxl_backend_without_xen_fails_clearly) {
        HvConfig c = { .backend = HV_BACKEND_LIBXL };
        XvError e = XV_ERROR_NULL;
        XvHypervisor *h = NULL;

        EXPECT_ERROR(hypervisor_open(&c, &h, &e), e, XVP_ERR_NO_SUPPORT);
        ASSERT_NULL(h);
}

TEST(xend_down_at_open) {
        _cleanup_(domain_def_freep) DomainDef *def = simple_def("later");
        XvError e = XV_ERROR_NULL;
        Sandbox s;
        XvHypervisor *h;
        HvStatus st;
        HvDomainRef d0 = {};
        HvDomainInfo info;
        _cleanup_free_ int *ids = NULL;
        size_t n = 0;

        sandbox_up(&s, 4);
        ctl(&s, "xend absent on");
        h = hv_open(&s);
        hypervisor_get_status(h, &st);
        ASSERT_FALSE(st.xend_ok);
        ASSERT_EQ(st.xend_config_version, 0);
        ASSERT_TRUE(st.hypercalls_ok);
        /* Hypercall- and xenstore-served operations keep working. */
        ASSERT_OK(hypervisor_list_domain_ids(h, &ids, &n, NULL));
        ASSERT_EQ(n, 1u);
        ASSERT_OK(hypervisor_lookup_by_id(h, 0, &d0, NULL));
        ASSERT_STREQ(d0.name, "Domain-0");
        {
                /* libvirt finds Domain-0 by its all-zero UUID. */
                HvDomainRef by_null = {};
                XvUuid zero = {};

                ASSERT_OK(hypervisor_lookup_by_uuid(h, &zero, &by_null, NULL));
                ASSERT_STREQ(by_null.name, "Domain-0");
                ASSERT_EQ(by_null.id, 0);
                hv_domain_ref_done(&by_null);
        }
        ASSERT_OK(hypervisor_domain_get_info(h, &d0, &info, NULL));
        ASSERT_EQ(info.state, XVP_DOMAIN_RUNNING);
        /* XenD-served ones fail clearly. */
        ASSERT_TRUE(hypervisor_domain_define(h, def, NULL, &e) < 0);
        ASSERT_EQ(e.code, XVP_ERR_OPERATION_FAILED);
        ASSERT_NOT_NULL(strstr(e.message, "XenD"));
        xv_error_done(&e);
        /* XenD comes back: detected on the next use. */
        ctl(&s, "xend absent off");
        ASSERT_OK(hypervisor_domain_define(h, def, NULL, NULL));
        hypervisor_get_status(h, &st);
        ASSERT_TRUE(st.xend_ok);
        ASSERT_EQ(st.xend_config_version, 4);
        hv_domain_ref_done(&d0);
        sandbox_down(&s);
}

/* ---- seed examples: the whole lifecycle, managed (cfg 4) and XM (cfg 2) ---------------------- */

static void seed_lifecycle(int cfg) {
        static const char *const files[] = {
                "pv-bootloader.xml", "pv-direct-kernel.xml", "hvm-bios-boot.xml", "hvm-direct-kernel.xml",
        };
        Sandbox s;
        XvHypervisor *h;

        sandbox_up(&s, cfg);
        h = hv_open(&s);
        n_seen = 0;
        ASSERT_OK(hypervisor_set_event_callback(h, on_event, NULL));

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_(domain_def_freep) DomainDef *def = seed_def(files[i]), *got = NULL;
                _cleanup_(hv_domain_ref_done) HvDomainRef ref = {}, started = {};
                _cleanup_free_ char *os = NULL;
                _cleanup_strv_free_ char **defined = NULL;
                HvDomainSummary sum = {};
                HvDomainInfo info;
                XvError e = XV_ERROR_NULL;
                bool b = false;
                int reason;

                n_seen = 0;
                if (hypervisor_domain_define(h, def, &ref, &e) < 0) {
                        /* Xen before 3.1 had no direct kernel boot for HVM guests: refused up front. */
                        if (cfg < 4 && streq(files[i], "hvm-direct-kernel.xml") && e.message &&
                            strstr(e.message, "xend config version")) {
                                xv_error_done(&e);
                                continue;
                        }
                        test_fail(__FILE__, __LINE__, "define %s: %s", files[i], strnull(e.message));
                }
                ASSERT_STREQ(ref.name, def->name);
                ASSERT_EQ(ref.id, -1);
                wait_event(h, def->name, XVP_DOMAIN_EVENT_DEFINED, XVP_DOMAIN_EVENT_DEFINED_ADDED);
                ASSERT_OK(hypervisor_list_defined_names(h, &defined, NULL));
                ASSERT_TRUE(strv_contains(defined, def->name));
                ASSERT_TRUE(listed(h, XVP_CONNECT_LIST_DOMAINS_INACTIVE, def->name, &sum));
                ASSERT_TRUE(sum.persistent);
                ASSERT_EQ(sum.info.state, XVP_DOMAIN_SHUTOFF);
                ASSERT_OK(hypervisor_domain_is_persistent(h, &ref, &b, NULL));
                ASSERT_TRUE(b);
                ASSERT_OK(hypervisor_domain_is_active(h, &ref, &b, NULL));
                ASSERT_FALSE(b);

                /* Inspected while inactive. */
                ASSERT_OK(hypervisor_domain_get_def(h, &ref, 0, &got, NULL));
                ASSERT_STREQ(got->name, def->name);
                ASSERT_EQ(got->memory_kib, def->memory_kib);
                ASSERT_EQ(got->os_type == DOMAIN_OS_HVM, def->os_type == DOMAIN_OS_HVM);
                got = domain_def_free(got);
                ASSERT_OK(hypervisor_domain_get_info(h, &ref, &info, NULL));
                ASSERT_EQ(info.state, XVP_DOMAIN_SHUTOFF);
                ASSERT_EQ(info.max_memory_kib, def->memory_kib);

                /* Started. */
                ASSERT_OK(hypervisor_domain_create(h, &ref, 0, &started, NULL));
                ASSERT_GT(started.id, 0);
                wait_event(h, def->name, XVP_DOMAIN_EVENT_STARTED, XVP_DOMAIN_EVENT_STARTED_BOOTED);
                ASSERT_EQ(state_of(h, &started, &reason), XVP_DOMAIN_RUNNING);
                ASSERT_EQ(reason, XVP_DOMAIN_RUNNING_BOOTED);
                ASSERT_OK(hypervisor_domain_get_os_type(h, &started, &os, NULL));
                ASSERT_STREQ(os, domain_def_is_hvm(def) ? "hvm" : "linux");
                ASSERT_OK(hypervisor_domain_get_def(h, &started, 0, &got, NULL));
                ASSERT_EQ(got->id, started.id);
                if (!domain_def_is_hvm(def)) {
                        /* The PV console's pty comes from xenstore. */
                        if (got->n_consoles < 1)
                                test_fail(__FILE__, __LINE__, "%s: no console", files[i]);
                        ASSERT_NOT_NULL(got->consoles[0].path);
                        ASSERT_TRUE(strncmp(got->consoles[0].path, "/dev/pts/", 9) == 0);
                }
                got = domain_def_free(got);
                ASSERT_OK(hypervisor_domain_is_persistent(h, &started, &b, NULL));
                ASSERT_TRUE(b);
                /* Starting twice is refused. */
                EXPECT_ERROR(hypervisor_domain_create(h, &started, 0, NULL, &e), e, XVP_ERR_OPERATION_INVALID);

                /* Paused and resumed, with reasons and one event each. */
                ASSERT_OK(hypervisor_domain_suspend(h, &started, NULL));
                ASSERT_EQ(state_of(h, &started, &reason), XVP_DOMAIN_PAUSED);
                ASSERT_EQ(reason, XVP_DOMAIN_PAUSED_USER);
                wait_event(h, def->name, XVP_DOMAIN_EVENT_SUSPENDED, XVP_DOMAIN_EVENT_SUSPENDED_PAUSED);
                ASSERT_OK(hypervisor_domain_resume(h, &started, NULL));
                ASSERT_EQ(state_of(h, &started, &reason), XVP_DOMAIN_RUNNING);
                ASSERT_EQ(reason, XVP_DOMAIN_RUNNING_UNPAUSED);
                wait_event(h, def->name, XVP_DOMAIN_EVENT_RESUMED, XVP_DOMAIN_EVENT_RESUMED_UNPAUSED);

                /* Shut down: the guest goes away, the definition stays. */
                ASSERT_OK(hypervisor_domain_shutdown(h, &started, 0, NULL));
                wait_event(h, def->name, XVP_DOMAIN_EVENT_STOPPED, XVP_DOMAIN_EVENT_STOPPED_SHUTDOWN);
                ASSERT_TRUE(wait_state(h, def->name, XVP_DOMAIN_SHUTOFF));
                ASSERT_EQ(state_of(h, &ref, &reason), XVP_DOMAIN_SHUTOFF);
                ASSERT_EQ(reason, XVP_DOMAIN_SHUTOFF_SHUTDOWN);
                ASSERT_EQ(count_events(def->name, XVP_DOMAIN_EVENT_STARTED), 1u);
                ASSERT_EQ(count_events(def->name, XVP_DOMAIN_EVENT_SUSPENDED), 1u);
                ASSERT_EQ(count_events(def->name, XVP_DOMAIN_EVENT_RESUMED), 1u);
                ASSERT_EQ(count_events(def->name, XVP_DOMAIN_EVENT_STOPPED), 1u);

                /* Undefined. */
                if (hypervisor_domain_undefine(h, &ref, 0, &e) < 0) {
                        _cleanup_free_ char *l = ctl_run(&s, "list");

                        for (size_t k = 0; k < n_seen; k++)
                                fprintf(stderr, "# seen: %s %d/%d\n", seen[k].name, seen[k].event, seen[k].detail);
                        test_fail(__FILE__, __LINE__, "undefine: %s\n%s", strnull(e.message), l);
                }
                wait_event(h, def->name, XVP_DOMAIN_EVENT_UNDEFINED, XVP_DOMAIN_EVENT_UNDEFINED_REMOVED);
                EXPECT_ERROR(hypervisor_domain_get_info(h, &ref, &info, &e), e, XVP_ERR_NO_DOMAIN);
                ASSERT_EQ(count_events(def->name, XVP_DOMAIN_EVENT_DEFINED), 1u);
                ASSERT_EQ(count_events(def->name, XVP_DOMAIN_EVENT_UNDEFINED), 1u);
        }
        sandbox_down(&s);
}

TEST(seed_examples_cfg4) {
        seed_lifecycle(4);
}

TEST(seed_examples_cfg3) {
        seed_lifecycle(3);
}

TEST(seed_examples_cfg2_xm) {
        seed_lifecycle(2);
}

TEST(seed_examples_cfg1_xm) {
        seed_lifecycle(1);
}

/* ---- events for what other tools do -------------------------------------------------------- */

TEST(events_behind_our_back) {
        Sandbox s;
        XvHypervisor *h;
        size_t started, crashed, stopped, restarted;
        HvDomainRef ref = {};
        int reason;

        sandbox_up(&s, 4);
        h = hv_open(&s);
        n_seen = 0;
        ASSERT_OK(hypervisor_set_event_callback(h, on_event, NULL));

        ctl(&s, "domain create rogue 128 1");
        started = wait_event(h, "rogue", XVP_DOMAIN_EVENT_STARTED, XVP_DOMAIN_EVENT_STARTED_BOOTED);
        ref = lookup(h, "rogue");
        ASSERT_EQ(state_of(h, &ref, NULL), XVP_DOMAIN_RUNNING);
        hv_domain_ref_done(&ref);

        /* Paused by another tool: no watch fires, the poll timer notices. */
        ctl(&s, "domain pause rogue");
        wait_event(h, "rogue", XVP_DOMAIN_EVENT_SUSPENDED, XVP_DOMAIN_EVENT_SUSPENDED_PAUSED);
        ctl(&s, "domain unpause rogue");
        wait_event(h, "rogue", XVP_DOMAIN_EVENT_RESUMED, XVP_DOMAIN_EVENT_RESUMED_UNPAUSED);

        /* Crash: CRASHED, STOPPED crashed, then on_crash=restart starts it again. */
        /* Xen keeps a crashed or shut-down domain for XenD's on_* action, xensim for 20 ms: the
         * reason is known when the watch is served within that time. A sanitizer build can be
         * slower than that; then the domain is seen vanishing (STOPPED destroyed) and the test
         * says so instead of failing. */
        ctl(&s, "domain crash rogue");
        for (int i = 0; i < 100 && count_events("rogue", XVP_DOMAIN_EVENT_STARTED) < 2; i++)
                pump(h, 5);
        ASSERT_EQ(count_events("rogue", XVP_DOMAIN_EVENT_STARTED), 2u);
        ASSERT_EQ(count_events("rogue", XVP_DOMAIN_EVENT_STOPPED), 1u);
        restarted = (size_t) find_event("rogue", XVP_DOMAIN_EVENT_STARTED, -1, started + 1);
        stopped = (size_t) find_event("rogue", XVP_DOMAIN_EVENT_STOPPED, -1, 0);
        ASSERT_LT(stopped, restarted);
        if (find_event("rogue", XVP_DOMAIN_EVENT_CRASHED, XVP_DOMAIN_EVENT_CRASHED_PANICKED, 0) >= 0) {
                crashed = (size_t) find_event("rogue", XVP_DOMAIN_EVENT_CRASHED, -1, 0);
                ASSERT_LT(started, crashed);
                ASSERT_LT(crashed, stopped);
                ASSERT_EQ(seen[stopped].detail, XVP_DOMAIN_EVENT_STOPPED_CRASHED);
                ASSERT_EQ(count_events("rogue", XVP_DOMAIN_EVENT_CRASHED), 1u);
        } else
                fprintf(stderr, "# crashed state not observed within xensim's 20 ms (slow build)\n");

        /* Guest poweroff: SHUTDOWN then STOPPED shutdown, once each. */
        ctl(&s, "domain shutdown rogue poweroff");
        for (int i = 0; i < 100 && count_events("rogue", XVP_DOMAIN_EVENT_STOPPED) < 2; i++)
                pump(h, 5);
        ASSERT_EQ(count_events("rogue", XVP_DOMAIN_EVENT_STOPPED), 2u);
        if (count_events("rogue", XVP_DOMAIN_EVENT_SHUTDOWN) > 0) {
                ASSERT_EQ(count_events("rogue", XVP_DOMAIN_EVENT_SHUTDOWN), 1u);
                ASSERT_GE(find_event("rogue", XVP_DOMAIN_EVENT_STOPPED, XVP_DOMAIN_EVENT_STOPPED_SHUTDOWN, 0), 0);
        } else
                fprintf(stderr, "# shutdown state not observed within xensim's 20 ms (slow build)\n");

        /* Destroyed by another tool. */
        ctl(&s, "domain create rogue2 64 1");
        wait_event(h, "rogue2", XVP_DOMAIN_EVENT_STARTED, -1);
        ctl(&s, "domain destroy rogue2");
        wait_event(h, "rogue2", XVP_DOMAIN_EVENT_STOPPED, XVP_DOMAIN_EVENT_STOPPED_DESTROYED);
        (void) reason;
        sandbox_down(&s);
}

TEST(events_create_destroy_not_duplicated) {
        _cleanup_(domain_def_freep) DomainDef *def = simple_def("transient");
        _cleanup_(hv_domain_ref_done) HvDomainRef ref = {};
        Sandbox s;
        XvHypervisor *h;
        bool b = true;
        int reason;

        sandbox_up(&s, 4);
        h = hv_open(&s);
        n_seen = 0;
        ASSERT_OK(hypervisor_set_event_callback(h, on_event, NULL));
        ASSERT_OK(hypervisor_domain_create_xml(h, def, 0, &ref, NULL));
        ASSERT_GT(ref.id, 0);
        ASSERT_EQ(state_of(h, &ref, &reason), XVP_DOMAIN_RUNNING);
        ASSERT_EQ(reason, XVP_DOMAIN_RUNNING_BOOTED);
        ASSERT_OK(hypervisor_domain_is_persistent(h, &ref, &b, NULL));
        ASSERT_FALSE(b);
        ASSERT_TRUE(listed(h, XVP_CONNECT_LIST_DOMAINS_TRANSIENT, "transient", NULL));
        ASSERT_FALSE(listed(h, XVP_CONNECT_LIST_DOMAINS_PERSISTENT, "transient", NULL));
        wait_event(h, "transient", XVP_DOMAIN_EVENT_STARTED, XVP_DOMAIN_EVENT_STARTED_BOOTED);
        ASSERT_OK(hypervisor_domain_destroy(h, &ref, 0, NULL));
        wait_event(h, "transient", XVP_DOMAIN_EVENT_STOPPED, XVP_DOMAIN_EVENT_STOPPED_DESTROYED);
        for (int i = 0; i < 5; i++)
                pump(h, 20);
        ASSERT_EQ(count_events("transient", XVP_DOMAIN_EVENT_STARTED), 1u);
        ASSERT_EQ(count_events("transient", XVP_DOMAIN_EVENT_STOPPED), 1u);
        ASSERT_EQ(count_events("transient", XVP_DOMAIN_EVENT_SUSPENDED), 0u);
        ASSERT_EQ(count_events("transient", XVP_DOMAIN_EVENT_RESUMED), 0u);
        ASSERT_EQ(count_events("transient", XVP_DOMAIN_EVENT_DEFINED), 0u);
        sandbox_down(&s);
}

TEST(xm_dir_events_from_other_tools) {
        _cleanup_free_ char *file = NULL, *text = NULL;
        Sandbox s;
        XvHypervisor *h;
        HvStatus st;

        sandbox_up(&s, 2);
        h = hv_open(&s);
        hypervisor_get_status(h, &st);
        ASSERT_TRUE(st.xm_dir_active);
        n_seen = 0;
        ASSERT_OK(hypervisor_set_event_callback(h, on_event, NULL));

        file = sb_path(&s, "xen/handmade");
        text = strdup("name = \"handmade\"\nmemory = 128\nvcpus = 1\nkernel = \"/boot/vmlinuz\"\n");
        ASSERT_OK(write_file_atomic(file, text, strlen(text), 0644));
        wait_event(h, "handmade", XVP_DOMAIN_EVENT_DEFINED, XVP_DOMAIN_EVENT_DEFINED_ADDED);
        ASSERT_TRUE(listed(h, 0, "handmade", NULL));
        /* Editor backups and empty files are no domains. */
        {
                _cleanup_free_ char *bak = sb_path(&s, "xen/handmade~"), *empty = sb_path(&s, "xen/empty");

                ASSERT_OK(write_file_atomic(bak, text, strlen(text), 0644));
                ASSERT_OK(write_file_atomic(empty, "", 0, 0644));
        }
        ASSERT_EQ(unlink(file), 0);
        wait_event(h, "handmade", XVP_DOMAIN_EVENT_UNDEFINED, XVP_DOMAIN_EVENT_UNDEFINED_REMOVED);
        ASSERT_FALSE(listed(h, 0, "handmade", NULL));
        ASSERT_FALSE(listed(h, 0, "empty", NULL));
        ASSERT_EQ(count_events("handmade", XVP_DOMAIN_EVENT_DEFINED), 1u);
        sandbox_down(&s);
}

/* ---- request counts ----------------------------------------------------------------------- */

static unsigned list_cost(Sandbox *s, unsigned flags) {
        HvDomainSummary *l = NULL;
        size_t n = 0;
        unsigned before = xend_requests(s);

        ASSERT_OK(hypervisor_list_all_domains(s->h, flags, &l, &n, NULL));
        hv_domain_summaries_free(l, n);
        return xend_requests(s) - before;
}

TEST(request_counts_are_constant) {
        Sandbox s;
        XvHypervisor *h;
        unsigned c1, c8;
        HvDomainRef ref = {};
        HvDomainInfo info;
        unsigned before;
        struct timespec a, b;

        sandbox_up(&s, 4);
        h = hv_open(&s);
        ctl(&s, "domain create one 64 1");
        c1 = list_cost(&s, 0);
        for (int i = 0; i < 7; i++)
                free(ctl_run(&s, "domain create many%d 64 1", i));
        {
                _cleanup_(domain_def_freep) DomainDef *def = simple_def("halted");

                ASSERT_OK(hypervisor_domain_define(h, def, NULL, NULL));
        }
        c8 = list_cost(&s, 0);
        ASSERT_EQ(c1, 1u);
        ASSERT_EQ(c8, 1u);
        /* Active domains by state need no XenD at all. */
        ASSERT_EQ(list_cost(&s, XVP_CONNECT_LIST_DOMAINS_ACTIVE), 0u);
        ASSERT_EQ(list_cost(&s, XVP_CONNECT_LIST_DOMAINS_ACTIVE | XVP_CONNECT_LIST_DOMAINS_PAUSED), 0u);

        /* get_info / lookups of running domains: zero XenD requests, even with XenD slow. */
        ctl(&s, "xend delay 500");
        before = xend_requests(&s);
        clock_gettime(CLOCK_MONOTONIC, &a);
        ref = lookup(h, "many3");
        ASSERT_OK(hypervisor_domain_get_info(h, &ref, &info, NULL));
        ASSERT_EQ(info.state, XVP_DOMAIN_RUNNING);
        ASSERT_EQ(info.memory_kib, 64u * 1024);
        {
                HvDomainRef by_uuid = {}, by_id = {};
                int st, reason;

                ASSERT_OK(hypervisor_lookup_by_uuid(h, &ref.uuid, &by_uuid, NULL));
                ASSERT_OK(hypervisor_lookup_by_id(h, ref.id, &by_id, NULL));
                ASSERT_STREQ(by_uuid.name, "many3");
                ASSERT_STREQ(by_id.name, "many3");
                ASSERT_OK(hypervisor_domain_get_state(h, &ref, &st, &reason, NULL));
                hv_domain_ref_done(&by_uuid);
                hv_domain_ref_done(&by_id);
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        ASSERT_EQ(xend_requests(&s) - before, 0u);
        ASSERT_LT((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000, 500);
        ctl(&s, "xend delay 0");
        hv_domain_ref_done(&ref);

        /* An inactive domain's info: one request for the lookup (a change through xenvirt to that
         * domain, here its autostart flag, has just dropped its entry from the inactive-domain
         * cache; the define of another domain before it drops only that one's), none for the info
         * by UUID. */
        {
                _cleanup_(domain_def_freep) DomainDef *def = simple_def("halted2");

                def->uuid.bytes[0] ^= 1;
                ASSERT_OK(hypervisor_domain_define(h, def, NULL, NULL));
        }
        ref = lookup(h, "halted");
        ASSERT_OK(hypervisor_domain_set_autostart(h, &ref, false, NULL));
        hv_domain_ref_done(&ref);
        before = xend_requests(&s);
        ref = lookup(h, "halted");
        ASSERT_OK(hypervisor_domain_get_info(h, &ref, &info, NULL));
        ASSERT_EQ(info.state, XVP_DOMAIN_SHUTOFF);
        ASSERT_EQ(xend_requests(&s) - before, 1u);
        hv_domain_ref_done(&ref);
        sandbox_down(&s);
}

/* ---- the inactive-domain cache ------------------------------------------------------------ */

static HvDomainInfo info_of(XvHypervisor *h, const char *name) {
        _cleanup_(hv_domain_ref_done) HvDomainRef ref = lookup(h, name);
        HvDomainInfo info;

        ASSERT_OK(hypervisor_domain_get_info(h, &ref, &info, NULL));
        return info;
}

static bool autostart_of(XvHypervisor *h, const char *name) {
        _cleanup_(hv_domain_ref_done) HvDomainRef ref = lookup(h, name);
        bool a = false;

        ASSERT_OK(hypervisor_domain_get_autostart(h, &ref, &a, NULL));
        return a;
}

/* A change behind xenvirt's back: (re)defines @def through XenD directly (POST op=new). */
static void xend_direct_new(Sandbox *s, const DomainDef *def) {
        _cleanup_free_ char *sock = sb_path(s, "xend-socket"), *text = NULL;
        XvError e = XV_ERROR_NULL;
        Xend *x = NULL;

        ASSERT_OK(xend_new(sock, NULL, 5 * 1000 * 1000, &x));
        ASSERT_OK(sexpr_domain_from_def(def, s->cfg, &text, NULL));
        if (xend_domain_new(x, text, NULL, &e) < 0)
                test_fail(__FILE__, __LINE__, "op=new: %s", strnull(e.message));
        xend_free(x);
}

static void xend_direct_delete(Sandbox *s, const char *name) {
        _cleanup_free_ char *sock = sb_path(s, "xend-socket");
        Xend *x = NULL;

        ASSERT_OK(xend_new(sock, NULL, 5 * 1000 * 1000, &x));
        ASSERT_OK(xend_domain_delete(x, name, NULL));
        xend_free(x);
}

/* Lets the cache's entries expire (BACKEND_INACTIVE_TTL_USEC, 2 s). */
static void past_ttl(void) {
        usleep(2200 * 1000);
}

/* Once expired, an entry is still served while the background refresh runs: a change made behind
 * xenvirt's back shows within BACKEND_INACTIVE_STALE_TTLS effective TTLs plus one listing. How
 * long the tests below wait for that at most (polling; not a timed assertion). */
#define REFRESH_WAIT_USEC (15ULL * 1000 * 1000)
#define REFRESH_POLL_USEC (50 * 1000)

/* Whether inactive domain @name shows @kib of memory before REFRESH_WAIT_USEC. */
static bool memory_shows(XvHypervisor *h, const char *name, uint64_t kib) {
        for (uint64_t waited = 0; waited < REFRESH_WAIT_USEC; waited += REFRESH_POLL_USEC) {
                if (info_of(h, name).memory_kib == kib)
                        return true;
                usleep(REFRESH_POLL_USEC);
        }
        return info_of(h, name).memory_kib == kib;
}

/* Whether a lookup of @name fails with NO_DOMAIN before REFRESH_WAIT_USEC. */
static bool lookup_fails(XvHypervisor *h, const char *name) {
        for (uint64_t waited = 0; waited <= REFRESH_WAIT_USEC; waited += REFRESH_POLL_USEC) {
                _cleanup_(hv_domain_ref_done) HvDomainRef ref = {};
                XvError e = XV_ERROR_NULL;
                int r = hypervisor_lookup_by_name(h, name, &ref, &e);
                bool gone = r < 0 && e.code == XVP_ERR_NO_DOMAIN;

                xv_error_done(&e);
                if (gone)
                        return true;
                usleep(REFRESH_POLL_USEC);
        }
        return false;
}

TEST(inactive_cache_saves_requests) {
        _cleanup_(domain_def_freep) DomainDef *def = simple_def("idle");
        Sandbox s;
        XvHypervisor *h;
        unsigned before;

        sandbox_up(&s, 4);
        h = hv_open(&s);
        ASSERT_OK(hypervisor_domain_define(h, def, NULL, NULL));

        /* The first lookup fetches the domain; everything after it within the TTL is free. */
        before = xend_requests(&s);
        {
                _cleanup_(hv_domain_ref_done) HvDomainRef ref = lookup(h, "idle");

                ASSERT_EQ(xend_requests(&s) - before, 1u);
        }
        before = xend_requests(&s);
        for (int i = 0; i < 20; i++) {
                _cleanup_(hv_domain_ref_done) HvDomainRef ref = lookup(h, "idle"), by_uuid = {};
                DomainDef *got = NULL;
                HvDomainInfo info;
                int st, reason;
                bool b;

                ASSERT_OK(hypervisor_lookup_by_uuid(h, &ref.uuid, &by_uuid, NULL));
                ASSERT_STREQ(by_uuid.name, "idle");
                ASSERT_EQ(by_uuid.id, -1);
                ASSERT_OK(hypervisor_domain_get_info(h, &ref, &info, NULL));
                ASSERT_EQ(info.state, XVP_DOMAIN_SHUTOFF);
                ASSERT_EQ(info.memory_kib, 131072u);
                ASSERT_EQ(info.max_memory_kib, 262144u);
                ASSERT_EQ(info.nr_vcpus, 2u);
                ASSERT_OK(hypervisor_domain_get_state(h, &ref, &st, &reason, NULL));
                ASSERT_EQ(st, XVP_DOMAIN_SHUTOFF);
                ASSERT_OK(hypervisor_domain_is_persistent(h, &ref, &b, NULL));
                ASSERT_TRUE(b);
                ASSERT_OK(hypervisor_domain_is_active(h, &ref, &b, NULL));
                ASSERT_FALSE(b);
                ASSERT_OK(hypervisor_domain_get_autostart(h, &ref, &b, NULL));
                ASSERT_FALSE(b);
                ASSERT_OK(hypervisor_domain_get_def(h, &ref, 0, &got, NULL));
                ASSERT_EQ(got->memory_kib, 262144u);
                domain_def_free(got);
        }
        ASSERT_EQ(xend_requests(&s) - before, 0u);

        /* A domain nobody knows is asked of XenD every time (no negative caching). */
        {
                HvDomainRef none = {};
                XvError e = XV_ERROR_NULL;

                before = xend_requests(&s);
                EXPECT_ERROR(hypervisor_lookup_by_name(h, "nosuch", &none, &e), e, XVP_ERR_NO_DOMAIN);
                ASSERT_EQ(xend_requests(&s) - before, 1u);
        }

        /* A listing fills the cache for every inactive domain it returned. */
        ASSERT_EQ(list_cost(&s, 0), 1u);
        before = xend_requests(&s);
        ASSERT_EQ(info_of(h, "idle").memory_kib, 131072u);
        ASSERT_EQ(xend_requests(&s) - before, 0u);
        sandbox_down(&s);
}

TEST(inactive_cache_never_stale_after_own_changes) {
        _cleanup_(domain_def_freep) DomainDef *def = simple_def("idle");
        Sandbox s;
        XvHypervisor *h;

        sandbox_up(&s, 4);
        h = hv_open(&s);
        ASSERT_OK(hypervisor_domain_define(h, def, NULL, NULL));
        ASSERT_EQ(info_of(h, "idle").memory_kib, 131072u);

        /* Each change is visible to the very next read, well within the TTL. */
        {
                _cleanup_(hv_domain_ref_done) HvDomainRef ref = lookup(h, "idle");

                ASSERT_OK(hypervisor_domain_set_memory(h, &ref, 65536, HV_AFFECT_CONFIG, NULL));
        }
        ASSERT_EQ(info_of(h, "idle").memory_kib, 65536u);
        {
                _cleanup_(hv_domain_ref_done) HvDomainRef ref = lookup(h, "idle");

                ASSERT_OK(hypervisor_domain_set_memory(h, &ref, 200000, HV_AFFECT_CONFIG | HV_MEM_MAXIMUM, NULL));
        }
        ASSERT_EQ(info_of(h, "idle").max_memory_kib, 200704u);
        {
                _cleanup_(hv_domain_ref_done) HvDomainRef ref = lookup(h, "idle");

                ASSERT_OK(hypervisor_domain_set_vcpus(h, &ref, 1, HV_AFFECT_CONFIG, NULL));
        }
        {
                _cleanup_(hv_domain_ref_done) HvDomainRef ref = lookup(h, "idle");
                int n = 0;

                ASSERT_OK(hypervisor_domain_get_vcpus_flags(h, &ref, HV_AFFECT_CONFIG, &n, NULL));
                ASSERT_EQ(n, 1);
        }

        ASSERT_FALSE(autostart_of(h, "idle"));
        {
                _cleanup_(hv_domain_ref_done) HvDomainRef ref = lookup(h, "idle");

                ASSERT_OK(hypervisor_domain_set_autostart(h, &ref, true, NULL));
        }
        ASSERT_TRUE(autostart_of(h, "idle"));
        {
                _cleanup_(hv_domain_ref_done) HvDomainRef ref = lookup(h, "idle");

                ASSERT_OK(hypervisor_domain_set_autostart(h, &ref, false, NULL));
        }
        ASSERT_FALSE(autostart_of(h, "idle"));

        /* A new version of the definition (same UUID, as virsh define of an edited dumpxml). */
        {
                _cleanup_(hv_domain_ref_done) HvDomainRef ref = lookup(h, "idle");

                def->uuid = ref.uuid;
                def->has_uuid = true;
        }
        def->memory_kib = 524288;
        def->current_memory_kib = 393216;
        ASSERT_OK(hypervisor_domain_define(h, def, NULL, NULL));
        ASSERT_EQ(info_of(h, "idle").memory_kib, 393216u);
        ASSERT_EQ(info_of(h, "idle").max_memory_kib, 524288u);

        /* Started, it is running at once; destroyed, it is inactive again with its definition. */
        {
                _cleanup_(hv_domain_ref_done) HvDomainRef ref = lookup(h, "idle"), run = {}, again = {};

                ASSERT_OK(hypervisor_domain_create(h, &ref, 0, &run, NULL));
                again = lookup(h, "idle");
                ASSERT_TRUE(again.id > 0);
                ASSERT_EQ(state_of(h, &ref, NULL), XVP_DOMAIN_RUNNING);
                ASSERT_OK(hypervisor_domain_destroy(h, &again, 0, NULL));
        }
        {
                _cleanup_(hv_domain_ref_done) HvDomainRef ref = lookup(h, "idle");

                ASSERT_EQ(ref.id, -1);
                ASSERT_EQ(state_of(h, &ref, NULL), XVP_DOMAIN_SHUTOFF);
                ASSERT_EQ(info_of(h, "idle").memory_kib, 393216u);
        }

        /* Undefined, it is gone at once. */
        {
                _cleanup_(hv_domain_ref_done) HvDomainRef ref = lookup(h, "idle"), none = {};
                XvError e = XV_ERROR_NULL;

                ASSERT_OK(hypervisor_domain_undefine(h, &ref, 0, NULL));
                EXPECT_ERROR(hypervisor_lookup_by_name(h, "idle", &none, &e), e, XVP_ERR_NO_DOMAIN);
                EXPECT_ERROR(hypervisor_lookup_by_uuid(h, &ref.uuid, &none, &e), e, XVP_ERR_NO_DOMAIN);
        }
        sandbox_down(&s);
}

TEST(inactive_cache_sees_other_tools_after_ttl) {
        _cleanup_(domain_def_freep) DomainDef *def = simple_def("idle"), *other = simple_def("elsewhere");
        Sandbox s;
        XvHypervisor *h;

        sandbox_up(&s, 4);
        h = hv_open(&s);
        ASSERT_OK(hypervisor_domain_define(h, def, NULL, NULL));
        ASSERT_EQ(info_of(h, "idle").memory_kib, 131072u);

        /* Redefined behind xenvirt's back: the cached answer may last until the TTL runs out. */
        {
                _cleanup_(hv_domain_ref_done) HvDomainRef ref = lookup(h, "idle");

                def->uuid = ref.uuid;
                def->has_uuid = true;
        }
        def->current_memory_kib = 98304;
        xend_direct_new(&s, def);
        past_ttl();
        ASSERT_TRUE(memory_shows(h, "idle", 98304));

        /* Defined elsewhere: found at once (unknown names are always asked). */
        other->uuid.bytes[0] ^= 1;
        xend_direct_new(&s, other);
        ASSERT_EQ(info_of(h, "elsewhere").state, XVP_DOMAIN_SHUTOFF);

        /* Deleted elsewhere: gone after the TTL (and the refresh it starts). */
        xend_direct_delete(&s, "elsewhere");
        past_ttl();
        ASSERT_TRUE(lookup_fails(h, "elsewhere"));

        /* Started and stopped by another tool: running at once (the hypervisor is asked first),
         * inactive again once it is gone, with no watch event processed in between. */
        ASSERT_EQ(info_of(h, "idle").state, XVP_DOMAIN_SHUTOFF);
        {
                _cleanup_free_ char *sock = sb_path(&s, "xend-socket");
                Xend *x = NULL;

                ASSERT_OK(xend_new(sock, NULL, 5 * 1000 * 1000, &x));
                ASSERT_OK(xend_domain_start(x, "idle", NULL));
                {
                        _cleanup_(hv_domain_ref_done) HvDomainRef ref = lookup(h, "idle");

                        ASSERT_TRUE(ref.id > 0);
                        ASSERT_EQ(state_of(h, &ref, NULL), XVP_DOMAIN_RUNNING);
                }
                ASSERT_OK(xend_domain_destroy(x, "idle", NULL));
                xend_free(x);
        }
        {
                _cleanup_(hv_domain_ref_done) HvDomainRef ref = lookup(h, "idle");

                ASSERT_EQ(ref.id, -1);
                ASSERT_EQ(state_of(h, &ref, NULL), XVP_DOMAIN_SHUTOFF);
                ASSERT_EQ(info_of(h, "idle").memory_kib, 98304u);
        }
        sandbox_down(&s);
}

typedef struct Hammer {
        XvHypervisor *h;
        int failures;
} Hammer;

static void *hammer(void *p) {
        Hammer *c = p;

        for (int i = 0; i < 200; i++) {
                HvDomainRef ref = {};
                HvDomainInfo info;

                if (hypervisor_lookup_by_name(c->h, "idle", &ref, NULL) < 0 ||
                    hypervisor_domain_get_info(c->h, &ref, &info, NULL) < 0 || info.state != XVP_DOMAIN_SHUTOFF)
                        c->failures++;
                hv_domain_ref_done(&ref);
        }
        return NULL;
}

/* Readers on several threads while another one keeps changing the domain (for the sanitizers):
 * the last change is what everybody reads afterwards. */
TEST(inactive_cache_concurrent) {
        _cleanup_(domain_def_freep) DomainDef *def = simple_def("idle");
        Sandbox s;
        XvHypervisor *h;
        pthread_t t[4];
        Hammer c[4];

        sandbox_up(&s, 4);
        h = hv_open(&s);
        ASSERT_OK(hypervisor_domain_define(h, def, NULL, NULL));
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                c[i] = (Hammer) { .h = h };
                ASSERT_EQ(pthread_create(&t[i], NULL, hammer, &c[i]), 0);
        }
        for (int i = 0; i < 20; i++) {
                _cleanup_(hv_domain_ref_done) HvDomainRef ref = lookup(h, "idle");

                ASSERT_OK(hypervisor_domain_set_memory(h, &ref, 65536 + 1024 * (uint64_t) i, HV_AFFECT_CONFIG,
                                                       NULL));
                ASSERT_EQ(info_of(h, "idle").memory_kib, 65536 + 1024 * (uint64_t) i);
        }
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                ASSERT_EQ(pthread_join(t[i], NULL), 0);
                ASSERT_EQ(c[i].failures, 0);
        }
        ASSERT_EQ(info_of(h, "idle").memory_kib, 65536u + 1024 * 19);
        sandbox_down(&s);
}

/* Exact XenD requests per operation on a running domain (the hypervisor and xenstore serve the
 * rest). */
TEST(request_counts_per_operation) {
        _cleanup_(domain_def_freep) DomainDef *def = simple_def("counted");
        _cleanup_(hv_domain_ref_done) HvDomainRef ref = {};
        Sandbox s;
        XvHypervisor *h;
        unsigned before;
        HvDomainInfo info;
        HvSchedParams sp;
        int n;
        bool b;

        sandbox_up(&s, 4);
        h = hv_open(&s);
        ASSERT_OK(hypervisor_domain_create_xml(h, def, 0, &ref, NULL));

#define COST(expr, expected)                                                                    \
        do {                                                                                    \
                before = xend_requests(&s);                                                     \
                ASSERT_OK(expr);                                                                \
                if (xend_requests(&s) - before != (expected))                                   \
                        test_fail(__FILE__, __LINE__, "%s: %u XenD requests, expected %u", #expr, \
                                  xend_requests(&s) - before, (unsigned) (expected));            \
        } while (0)

        COST(hypervisor_domain_get_info(h, &ref, &info, NULL), 0);
        COST(hypervisor_domain_get_vcpus_flags(h, &ref, HV_AFFECT_LIVE, &n, NULL), 0);
        COST(hypervisor_domain_get_sched_params(h, &ref, &sp, NULL), 0);
        COST(hypervisor_domain_is_active(h, &ref, &b, NULL), 0);
        COST(hypervisor_domain_suspend(h, &ref, NULL), 1);
        COST(hypervisor_domain_resume(h, &ref, NULL), 1);
        COST(hypervisor_domain_set_memory(h, &ref, 65536, HV_AFFECT_LIVE, NULL), 1);
        COST(hypervisor_domain_set_vcpus(h, &ref, 1, HV_AFFECT_LIVE | HV_AFFECT_CONFIG, NULL), 1);
        {
                DomainDef *got = NULL;

                COST(hypervisor_domain_get_def(h, &ref, 0, &got, NULL), 1);
                domain_def_free(got);
        }
        COST(hypervisor_domain_destroy(h, &ref, 0, NULL), 1);
#undef COST
        sandbox_down(&s);
}

typedef struct SlowCall {
        XvHypervisor *h;
        const HvDomainRef *ref;
        int r;
} SlowCall;

static void *slow_get_def(void *p) {
        SlowCall *c = p;
        DomainDef *def = NULL;

        c->r = hypervisor_domain_get_def(c->h, c->ref, 0, &def, NULL);
        domain_def_free(def);
        return NULL;
}

/* A XenD request in flight (here: slow) never holds up list or info of other domains. */
TEST(hung_xend_call_does_not_block_others) {
        _cleanup_(domain_def_freep) DomainDef *d1 = simple_def("stuck"), *d2 = simple_def("other");
        _cleanup_(hv_domain_ref_done) HvDomainRef r1 = {}, r2 = {};
        Sandbox s;
        XvHypervisor *h;
        pthread_t t;
        SlowCall c;
        struct timespec a, b;
        HvDomainInfo info;
        HvDomainSummary *l = NULL;
        size_t n = 0;
        long ms;

        sandbox_up(&s, 4);
        h = hv_open(&s);
        ASSERT_OK(hypervisor_domain_create_xml(h, d1, 0, &r1, NULL));
        d2->uuid.bytes[0] ^= 1;
        ASSERT_OK(hypervisor_domain_create_xml(h, d2, 0, &r2, NULL));
        ctl(&s, "xend delay 1500");
        c = (SlowCall) { .h = h, .ref = &r1 };
        ASSERT_EQ(pthread_create(&t, NULL, slow_get_def, &c), 0);
        usleep(100 * 1000);
        clock_gettime(CLOCK_MONOTONIC, &a);
        ASSERT_OK(hypervisor_domain_get_info(h, &r2, &info, NULL));
        ASSERT_OK(hypervisor_domain_get_info(h, &r1, &info, NULL));
        ASSERT_OK(hypervisor_list_all_domains(h, XVP_CONNECT_LIST_DOMAINS_ACTIVE, &l, &n, NULL));
        hv_domain_summaries_free(l, n);
        ASSERT_OK(hypervisor_process_events(h));
        clock_gettime(CLOCK_MONOTONIC, &b);
        ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
        ASSERT_LT(ms, 500);
        ASSERT_EQ(pthread_join(t, NULL), 0);
        ASSERT_OK(c.r);
        ctl(&s, "xend delay 0");
        sandbox_down(&s);
}

/* CD-ROM media change on a running HVM guest: device_configure, for update and for attach. */
TEST(cdrom_media_change) {
        _cleanup_(domain_def_freep) DomainDef *def = seed_def("hvm-bios-boot.xml");
        _cleanup_(hv_domain_ref_done) HvDomainRef ref = {}, run = {};
        Sandbox s;
        XvHypervisor *h;
        XvError e = XV_ERROR_NULL;
        const char *xml = "<disk type='file' device='cdrom'><source file='/var/lib/xen/images/other.iso'/>"
                          "<target dev='hdc'/><readonly/></disk>";

        sandbox_up(&s, 4);
        h = hv_open(&s);
        ASSERT_OK(hypervisor_domain_define(h, def, &ref, NULL));
        ASSERT_OK(hypervisor_domain_create(h, &ref, 0, &run, NULL));
        if (hypervisor_domain_update_device(h, &run, xml, HV_AFFECT_LIVE | HV_AFFECT_CONFIG, &e) < 0)
                test_fail(__FILE__, __LINE__, "update: %s", strnull(e.message));
        {
                DomainDef *got = NULL;
                bool found = false;

                ASSERT_OK(hypervisor_domain_get_def(h, &run, 0, &got, NULL));
                for (size_t i = 0; i < got->n_disks; i++)
                        if (streq_ptr(got->disks[i].dst, "hdc"))
                                found = streq_ptr(got->disks[i].src, "/var/lib/xen/images/other.iso");
                domain_def_free(got);
                ASSERT_TRUE(found);
        }
        /* Only disks can be updated; persistent-only changes of a running domain are refused. */
        EXPECT_ERROR(hypervisor_domain_update_device(h, &run, "<interface type='bridge'><source bridge='xenbr0'/>"
                                                     "</interface>", 0, &e), e, XVP_ERR_OPERATION_UNSUPPORTED);
        EXPECT_ERROR(hypervisor_domain_attach_device(h, &run, xml, HV_AFFECT_CONFIG, &e), e, XVP_ERR_OPERATION_INVALID);
        ASSERT_OK(hypervisor_domain_destroy(h, &run, 0, NULL));
        sandbox_down(&s);
}

/* ---- errors -------------------------------------------------------------------------------- */

TEST(errors) {
        _cleanup_(domain_def_freep) DomainDef *def = simple_def("victim");
        Sandbox s;
        XvHypervisor *h;
        XvError e = XV_ERROR_NULL;
        HvDomainRef ghost = { .name = (char *) "ghost", .id = -1 }, d0 = {}, ref = {};
        HvDomainInfo info;
        DomainDef *got = NULL;

        sandbox_up(&s, 4);
        h = hv_open(&s);
        ASSERT_OK(uuid_new_random(&ghost.uuid));
        EXPECT_ERROR(hypervisor_domain_get_info(h, &ghost, &info, &e), e, XVP_ERR_NO_DOMAIN);
        EXPECT_ERROR(hypervisor_lookup_by_name(h, "ghost", &ref, &e), e, XVP_ERR_NO_DOMAIN);
        EXPECT_ERROR(hypervisor_lookup_by_id(h, 4000, &ref, &e), e, XVP_ERR_NO_DOMAIN);
        EXPECT_ERROR(hypervisor_domain_suspend(h, &ghost, &e), e, XVP_ERR_NO_DOMAIN);

        /* Domain-0 restrictions. */
        ASSERT_OK(hypervisor_lookup_by_id(h, 0, &d0, NULL));
        EXPECT_ERROR(hypervisor_domain_shutdown(h, &d0, 0, &e), e, XVP_ERR_OPERATION_INVALID);
        EXPECT_ERROR(hypervisor_domain_destroy(h, &d0, 0, &e), e, XVP_ERR_OPERATION_INVALID);
        EXPECT_ERROR(hypervisor_domain_save(h, &d0, "/tmp/d0.save", &e), e, XVP_ERR_OPERATION_INVALID);
        EXPECT_ERROR(hypervisor_domain_undefine(h, &d0, 0, &e), e, XVP_ERR_OPERATION_INVALID);

        /* Bad arguments. */
        ASSERT_OK(hypervisor_domain_create_xml(h, def, 0, &ref, NULL));
        EXPECT_ERROR(hypervisor_domain_attach_device(h, &ref, "<disk type='file'><oops></disk>", 0, &e), e,
                     XVP_ERR_XML);
        EXPECT_ERROR(hypervisor_domain_migrate_perform(h, &ref, "tcp://elsewhere", 0, &e), e, XVP_ERR_INVALID_ARG);
        EXPECT_ERROR(hypervisor_domain_migrate_perform(h, &ref, "xenmigr://host:99999", 0, &e), e, XVP_ERR_INVALID_ARG);
        EXPECT_ERROR(hypervisor_domain_set_vcpus(h, &ref, 64, 0, &e), e, XVP_ERR_INVALID_ARG);
        EXPECT_ERROR(hypervisor_domain_save(h, &ref, "relative.save", &e), e, XVP_ERR_INVALID_ARG);
        {
                HvSchedParams p = { .weight = 0 };

                EXPECT_ERROR(hypervisor_domain_set_sched_params(h, &ref, &p, 1, &e), e, XVP_ERR_INVALID_ARG);
        }

        /* XenD misbehaving: errors with XenD's cause, and running domains still served. */
        ctl(&s, "xend error500 on");
        EXPECT_ERROR(hypervisor_domain_get_def(h, &ref, 0, &got, &e), e, XVP_ERR_OPERATION_FAILED);
        ASSERT_OK(hypervisor_domain_get_info(h, &ref, &info, NULL));
        ctl(&s, "xend error500 off");
        ctl(&s, "xend garbage on");
        xv_error_done(&e);
        ASSERT_TRUE(hypervisor_domain_get_def(h, &ref, 0, &got, &e) < 0);
        ASSERT_NOT_NULL(e.message);
        xv_error_done(&e);
        ctl(&s, "xend garbage off");
        ASSERT_OK(hypervisor_domain_destroy(h, &ref, 0, NULL));
        hv_domain_ref_done(&ref);
        hv_domain_ref_done(&d0);
        sandbox_down(&s);
}

TEST(xend_slow_times_out) {
        _cleanup_(domain_def_freep) DomainDef *def = simple_def("slowpoke");
        Sandbox s;
        XvHypervisor *h;
        XvError e = XV_ERROR_NULL;
        HvDomainRef ref = {};
        HvDomainInfo info;
        DomainDef *got = NULL;

        sandbox_up(&s, 4);
        s.h = h = hv_open_full(&s, 300 * 1000, false);
        ASSERT_OK(hypervisor_domain_create_xml(h, def, 0, &ref, NULL));
        ctl(&s, "xend delay 1000");
        EXPECT_ERROR(hypervisor_domain_get_def(h, &ref, 0, &got, &e), e, XVP_ERR_OPERATION_TIMEOUT);
        /* The hypervisor still answers for the running domain. */
        ASSERT_OK(hypervisor_domain_get_info(h, &ref, &info, NULL));
        ctl(&s, "xend delay 0");
        hv_domain_ref_done(&ref);
        sandbox_down(&s);
}

TEST(read_only_refuses_changes) {
        _cleanup_(domain_def_freep) DomainDef *def = simple_def("ro");
        Sandbox s;
        XvHypervisor *h;
        XvError e = XV_ERROR_NULL;
        HvDomainRef d0 = {};

        sandbox_up(&s, 4);
        s.h = h = hv_open_full(&s, 5000000, true);
        EXPECT_ERROR(hypervisor_domain_define(h, def, NULL, &e), e, XVP_ERR_OPERATION_DENIED);
        ASSERT_OK(hypervisor_lookup_by_id(h, 0, &d0, NULL));
        hv_domain_ref_done(&d0);
        sandbox_down(&s);
}

/* ---- operations on a running and an inactive domain ------------------------------------------ */

static void operations(int cfg) {
        _cleanup_(domain_def_freep) DomainDef *def = simple_def("ops");
        _cleanup_(hv_domain_ref_done) HvDomainRef ref = {}, run = {};
        _cleanup_free_ char *save = NULL, *dump = NULL, *sched = NULL;
        Sandbox s;
        XvHypervisor *h;
        XvError e = XV_ERROR_NULL;
        HvDomainInfo info;
        HvSchedParams sp;
        bool b;
        int n, nparams, reason;

        sandbox_up(&s, cfg);
        h = hv_open(&s);
        n_seen = 0;
        ASSERT_OK(hypervisor_set_event_callback(h, on_event, NULL));
        ASSERT_OK(hypervisor_domain_define(h, def, &ref, NULL));

        /* Inactive: config changes. */
        ASSERT_OK(hypervisor_domain_get_vcpus_flags(h, &ref, HV_AFFECT_CONFIG | HV_VCPU_MAXIMUM, &n, NULL));
        ASSERT_EQ(n, 2);
        ASSERT_OK(hypervisor_domain_set_vcpus(h, &ref, 1, HV_AFFECT_CONFIG, NULL));
        ASSERT_OK(hypervisor_domain_get_vcpus_flags(h, &ref, HV_AFFECT_CONFIG, &n, NULL));
        ASSERT_EQ(n, 1);
        EXPECT_ERROR(hypervisor_domain_set_vcpus(h, &ref, 3, HV_AFFECT_CONFIG, &e), e, XVP_ERR_INVALID_ARG);
        if (cfg >= 3) {
                _cleanup_free_ HvVcpuInfo *vi = NULL;
                _cleanup_free_ uint8_t *maps = NULL;
                size_t nv = 0;

                /* An inactive domain's vcpus come from XenD, which prints the affinity as a nested
                 * list, (cpumap (0 1 ...)): the map must not come back empty. */
                ASSERT_OK(hypervisor_domain_get_vcpus(h, &ref, 8, 1, &vi, &nv, &maps, NULL));
                ASSERT_GE(nv, 1u);
                ASSERT_NE(maps[0], 0);
        }
        ASSERT_OK(hypervisor_domain_set_memory(h, &ref, 200 * 1024, HV_AFFECT_CONFIG | HV_MEM_MAXIMUM, NULL));
        ASSERT_OK(hypervisor_domain_get_info(h, &ref, &info, NULL));
        ASSERT_EQ(info.max_memory_kib, 200u * 1024);
        ASSERT_OK(hypervisor_domain_get_autostart(h, &ref, &b, NULL));
        ASSERT_FALSE(b);
        ASSERT_OK(hypervisor_domain_set_autostart(h, &ref, true, NULL));
        ASSERT_OK(hypervisor_domain_get_autostart(h, &ref, &b, NULL));
        ASSERT_TRUE(b);
        ASSERT_TRUE(listed(h, XVP_CONNECT_LIST_DOMAINS_AUTOSTART, "ops", NULL));
        ASSERT_OK(hypervisor_domain_set_autostart(h, &ref, false, NULL));
        ASSERT_FALSE(listed(h, XVP_CONNECT_LIST_DOMAINS_AUTOSTART, "ops", NULL));
        ASSERT_OK(hypervisor_domain_get_scheduler_type(h, &ref, &sched, &nparams, NULL));
        ASSERT_STREQ(sched, "credit");
        ASSERT_EQ(nparams, 2);
        if (cfg >= 3) {
                HvSchedParams p = { .weight = 512, .cap = 10 };

                ASSERT_OK(hypervisor_domain_set_sched_params(h, &ref, &p, 3, NULL));
                ASSERT_OK(hypervisor_domain_get_sched_params(h, &ref, &sp, NULL));
                ASSERT_EQ(sp.weight, 512u);
                ASSERT_EQ(sp.cap, 10u);
        }
        /* Devices of an inactive domain (config only). */
        ASSERT_OK(hypervisor_domain_attach_device(h, &ref,
                                                  "<disk type='file'><source file='/var/lib/xen/extra.img'/>"
                                                  "<target dev='xvdb'/></disk>", HV_AFFECT_CONFIG, NULL));
        {
                DomainDef *got = NULL;

                ASSERT_OK(hypervisor_domain_get_def(h, &ref, 0, &got, NULL));
                ASSERT_EQ(got->n_disks, 2u);
                domain_def_free(got);
        }
        ASSERT_OK(hypervisor_domain_detach_device(h, &ref, "<disk type='file'><source file='/var/lib/xen/extra.img'/>"
                                                  "<target dev='xvdb'/></disk>", HV_AFFECT_CONFIG, NULL));
        {
                DomainDef *got = NULL;

                ASSERT_OK(hypervisor_domain_get_def(h, &ref, 0, &got, NULL));
                ASSERT_EQ(got->n_disks, 1u);
                domain_def_free(got);
        }

        /* Running. */
        ASSERT_OK(hypervisor_domain_create(h, &ref, 0, &run, NULL));
        ASSERT_OK(hypervisor_domain_get_info(h, &run, &info, NULL));
        ASSERT_EQ(info.nr_vcpus, 1u);
        ASSERT_OK(hypervisor_domain_set_memory(h, &run, 100 * 1024, HV_AFFECT_LIVE, NULL));
        EXPECT_ERROR(hypervisor_domain_set_memory(h, &run, 1024 * 1024, HV_AFFECT_LIVE, &e), e, XVP_ERR_INVALID_ARG);
        ASSERT_OK(hypervisor_domain_set_vcpus(h, &run, 2, HV_AFFECT_LIVE | (cfg >= 3 ? HV_AFFECT_CONFIG : 0), NULL));
        for (int i = 0; i < 50; i++) {
                ASSERT_OK(hypervisor_domain_get_vcpus_flags(h, &run, HV_AFFECT_LIVE, &n, NULL));
                if (n == 2)
                        break;
                usleep(20000);
        }
        ASSERT_EQ(n, 2);
        {
                _cleanup_free_ HvVcpuInfo *vi = NULL;
                _cleanup_free_ uint8_t *maps = NULL, *pins = NULL;
                uint8_t one = 0x2;
                size_t nv = 0;
                int np = 0;

                ASSERT_OK(hypervisor_domain_get_vcpus(h, &run, 8, 1, &vi, &nv, &maps, NULL));
                ASSERT_EQ(nv, 2u);
                ASSERT_OK(hypervisor_domain_pin_vcpu(h, &run, 0, &one, 1, HV_AFFECT_LIVE, NULL));
                ASSERT_OK(hypervisor_domain_get_vcpu_pin_info(h, &run, 8, 1, HV_AFFECT_LIVE, &pins, &np, NULL));
                ASSERT_EQ(np, 2);
                ASSERT_EQ(pins[0], 0x2);
        }
        {
                HvSchedParams p = { .weight = 100 };

                ASSERT_OK(hypervisor_domain_set_sched_params(h, &run, &p, 1, NULL));
                ASSERT_OK(hypervisor_domain_get_sched_params(h, &run, &sp, NULL));
                ASSERT_EQ(sp.weight, 100u);
        }
        {
                HvBlockStats bs;
                HvInterfaceStats is;
                _cleanup_free_ char *vif = NULL;

                ASSERT_OK(hypervisor_domain_block_stats(h, &run, "xvda", &bs, NULL));
                ASSERT_GE(bs.rd_req, 0);
                EXPECT_ERROR(hypervisor_domain_block_stats(h, &run, "xvdz", &bs, &e), e, XVP_ERR_INVALID_ARG);
                ASSERT_TRUE(asprintf(&vif, "vif%d.0", run.id) >= 0);
                for (int i = 0; i < 50 && hypervisor_domain_interface_stats(h, &run, vif, &is, NULL) < 0; i++)
                        usleep(50000);
                ASSERT_OK(hypervisor_domain_interface_stats(h, &run, vif, &is, NULL));
                EXPECT_ERROR(hypervisor_domain_interface_stats(h, &run, "vif0.0", &is, &e), e, XVP_ERR_INVALID_ARG);
        }
        /* NIC hot-plug and unplug. */
        ASSERT_OK(hypervisor_domain_attach_device(h, &run, "<interface type='bridge'><source bridge='xenbr0'/>"
                                                  "<mac address='00:16:3e:00:00:bb'/></interface>",
                                                  HV_AFFECT_LIVE | (cfg >= 3 ? HV_AFFECT_CONFIG : 0), NULL));
        for (int i = 0; i < 50; i++) {
                DomainDef *got = NULL;
                size_t nn;

                ASSERT_OK(hypervisor_domain_get_def(h, &run, 0, &got, NULL));
                nn = got->n_nets;
                domain_def_free(got);
                if (nn == 2)
                        break;
                ASSERT_LT(i, 49);
                usleep(20000);
        }
        ASSERT_OK(hypervisor_domain_detach_device(h, &run, "<interface type='bridge'><source bridge='xenbr0'/>"
                                                  "<mac address='00:16:3e:00:00:bb'/></interface>",
                                                  HV_AFFECT_LIVE | (cfg >= 3 ? HV_AFFECT_CONFIG : 0), NULL));

        /* Core dump, save and restore, managed save. */
        dump = sb_path(&s, "ops.core");
        ASSERT_OK(hypervisor_domain_core_dump(h, &run, dump, HV_DUMP_LIVE, NULL));
        save = sb_path(&s, "ops.save");
        ASSERT_OK(hypervisor_domain_save(h, &run, save, NULL));
        wait_event(h, "ops", XVP_DOMAIN_EVENT_STOPPED, XVP_DOMAIN_EVENT_STOPPED_SAVED);
        ASSERT_TRUE(wait_state(h, "ops", XVP_DOMAIN_SHUTOFF));
        hv_domain_ref_done(&run);
        run = lookup(h, "ops");
        ASSERT_EQ(state_of(h, &run, &reason), XVP_DOMAIN_SHUTOFF);
        ASSERT_EQ(reason, XVP_DOMAIN_SHUTOFF_SAVED);
        ASSERT_OK(hypervisor_domain_restore(h, save, NULL));
        wait_event(h, "ops", XVP_DOMAIN_EVENT_STARTED, XVP_DOMAIN_EVENT_STARTED_RESTORED);
        hv_domain_ref_done(&run);
        run = lookup(h, "ops");
        ASSERT_GT(run.id, 0);
        ASSERT_EQ(state_of(h, &run, &reason), XVP_DOMAIN_RUNNING);
        ASSERT_EQ(reason, XVP_DOMAIN_RUNNING_RESTORED);

        ASSERT_OK(hypervisor_domain_managed_save(h, &run, 0, NULL));
        ASSERT_TRUE(wait_state(h, "ops", XVP_DOMAIN_SHUTOFF));
        ASSERT_OK(hypervisor_domain_has_managed_save(h, &ref, &b, NULL));
        ASSERT_TRUE(b);
        ASSERT_TRUE(listed(h, XVP_CONNECT_LIST_DOMAINS_MANAGEDSAVE, "ops", NULL));
        EXPECT_ERROR(hypervisor_domain_undefine(h, &ref, 0, &e), e, XVP_ERR_OPERATION_INVALID);
        hv_domain_ref_done(&run);
        ASSERT_OK(hypervisor_domain_create(h, &ref, 0, &run, NULL));
        ASSERT_GT(run.id, 0);
        ASSERT_OK(hypervisor_domain_has_managed_save(h, &ref, &b, NULL));
        ASSERT_FALSE(b);
        ASSERT_EQ(state_of(h, &run, &reason), XVP_DOMAIN_RUNNING);
        ASSERT_EQ(reason, XVP_DOMAIN_RUNNING_RESTORED);

        /* Migration v1: XenD's op=migrate; xensim lets the domain leave. */
        if (hypervisor_domain_migrate_perform(h, &run, "xenmigr://127.0.0.1:8002", 1, &e) < 0)
                test_fail(__FILE__, __LINE__, "migrate: %s", strnull(e.message));
        wait_event(h, "ops", XVP_DOMAIN_EVENT_STOPPED, XVP_DOMAIN_EVENT_STOPPED_MIGRATED);
        ASSERT_TRUE(wait_state(h, "ops", XVP_DOMAIN_SHUTOFF));
        ASSERT_EQ(state_of(h, &ref, &reason), XVP_DOMAIN_SHUTOFF);
        ASSERT_EQ(reason, XVP_DOMAIN_SHUTOFF_MIGRATED);
        ASSERT_OK(hypervisor_domain_undefine(h, &ref, 0, NULL));
        sandbox_down(&s);
}

TEST(operations_cfg4) {
        operations(4);
}

TEST(operations_cfg2) {
        operations(2);
}

static int reexec(char *argv[]) {
        _cleanup_free_ char *libs = NULL;
        const char *old = getenv("LD_LIBRARY_PATH");
        char self[4096];
        ssize_t l;

        if (asprintf(&libs, "%s/tests/xensim/hv/.libs%s%s", builddir, old ? ":" : "", strempty(old)) < 0)
                return 1;
        if (setenv("LD_LIBRARY_PATH", libs, 1) < 0 || setenv("XV_TEST_BACKEND_REEXEC", "1", 1) < 0)
                return 1;
        /* The program's own path, not /proc/self/exe: under valgrind that is valgrind's tool,
         * which only valgrind's readlink() emulation resolves to this program. */
        l = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (l <= 0)
                return 1;
        self[l] = 0;
        execv(self, argv);
        perror("execv");
        return 1;
}

int main(int argc, char *argv[]) {
        static char dir[4096];

        builddir = getenv("XV_BUILDDIR");
        if (!builddir) {
                /* Run by hand from the build tree: <builddir>/tests/unit/test-backend-xend. */
                ssize_t l = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
                char *p;

                if (l <= 0)
                        return 1;
                dir[l] = 0;
                for (int i = 0; i < 3 && (p = strrchr(dir, '/')); i++)
                        *p = 0;
                if (strstr(dir, "/.libs"))
                        *strstr(dir, "/.libs") = 0;
                builddir = dir;
                (void) setenv("XV_BUILDDIR", builddir, 1);
        }
        if (!getenv("XV_TEST_BACKEND_REEXEC"))
                return reexec(argv);
        return test_main(argc, argv);
}
