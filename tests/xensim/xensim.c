/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xensim: a simulated Xen host for xenvirt's tests. One host state served on three interfaces
 * (XenD, xenstore, the hypervisor beneath libxenctrl), plus host files and a control socket,
 * all below one directory:
 *
 *   DIR/xend-socket        XenD HTTP/SXP
 *   DIR/xenstored-socket   xenstore wire protocol (XENSTORED_PATH)
 *   DIR/hv-socket          hypercalls from the replacement libraries (XENSIM_HV_SOCKET)
 *   DIR/control-socket     fault injection (xensim-ctl)
 *   DIR/root/              simulated host files (sysfs block statistics, /proc/net/dev, ...)
 *   DIR/xen/               the /etc/xen-style directory for XM files, with auto/
 *   DIR/xensim.pid         written once every socket listens
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xsim-control.h"
#include "xsim-hostfiles.h"
#include "xsim-hv.h"
#include "xsim-state.h"
#include "xsim-xend.h"
#include "xsim-xenstore.h"
#include "xv-alloc.h"
#include "xv-fileio.h"
#include "xv-log.h"
#include "xv-parse-util.h"

#define XENSIM_DIR_MAX          200     /* leaves room for "/xenstored-socket" in sun_path (108) */
#define XENSIM_BENCH_DOMAINS_MAX 10000  /* --domains */
#define XENSIM_BENCH_MEMORY_MIB 32      /* memory of each --domains guest */

static const char *arg_dir = NULL;
static int arg_xend_config_version = 4;
static unsigned arg_domains = 0;
static unsigned arg_xend_delay_ms = 0;
static bool arg_no_xend = false;
static bool arg_no_xenstore = false;
static unsigned arg_xen_major = 0, arg_xen_minor = 0;   /* --xen-version; 0 = from the xend config version */
static int arg_ready_fd = -1;

static void help(void) {
        printf("Usage: xensim --dir DIR [OPTIONS]\n"
               "A simulated Xen host: XenD, xenstore and the hypervisor on UNIX sockets in DIR.\n\n"
               "  --dir DIR                   where sockets, host files and the PID file go\n"
               "  --xend-config-version N     1..4 (default 4); also decides the Xen version\n"
               "  --domains N                 pre-create N running domains test-1..test-N\n"
               "  --xend-delay MS             delay every XenD reply\n"
               "  --no-xend                   start with XenD absent\n"
               "  --no-xenstore               start with xenstore absent\n"
               "  --xen-version MAJOR.MINOR   the Xen release the hypervisor reports (e.g. 4.17)\n"
               "  --ready-fd FD               write \"READY\\n\" to FD when listening (else stdout)\n"
               "  -h --help                   show this help\n");
}

static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_DIR = 0x100,
                ARG_XEND_CONFIG_VERSION,
                ARG_DOMAINS,
                ARG_XEND_DELAY,
                ARG_NO_XEND,
                ARG_NO_XENSTORE,
                ARG_READY_FD,
                ARG_XEN_VERSION,
        };
        static const struct option options[] = {
                { "help",                no_argument,       NULL, 'h' },
                { "dir",                 required_argument, NULL, ARG_DIR },
                { "xend-config-version", required_argument, NULL, ARG_XEND_CONFIG_VERSION },
                { "domains",             required_argument, NULL, ARG_DOMAINS },
                { "xend-delay",          required_argument, NULL, ARG_XEND_DELAY },
                { "no-xend",             no_argument,       NULL, ARG_NO_XEND },
                { "no-xenstore",         no_argument,       NULL, ARG_NO_XENSTORE },
                { "ready-fd",            required_argument, NULL, ARG_READY_FD },
                { "xen-version",         required_argument, NULL, ARG_XEN_VERSION },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_DIR:
                        arg_dir = optarg;
                        break;
                case ARG_XEND_CONFIG_VERSION:
                        if (safe_atoi(optarg, &arg_xend_config_version) < 0 ||
                            arg_xend_config_version < 1 || arg_xend_config_version > 4)
                                return log_error_errno(-EINVAL, "Invalid xend config version '%s' (1..4)", optarg);
                        break;
                case ARG_DOMAINS:
                        if (safe_atou(optarg, &arg_domains) < 0 || arg_domains > XENSIM_BENCH_DOMAINS_MAX)
                                return log_error_errno(-EINVAL, "Invalid number of domains '%s' (0..%u)",
                                                       optarg, XENSIM_BENCH_DOMAINS_MAX);
                        break;
                case ARG_XEND_DELAY:
                        if (safe_atou(optarg, &arg_xend_delay_ms) < 0 || arg_xend_delay_ms > 600000)
                                return log_error_errno(-EINVAL, "Invalid XenD delay '%s'", optarg);
                        break;
                case ARG_NO_XEND:
                        arg_no_xend = true;
                        break;
                case ARG_NO_XENSTORE:
                        arg_no_xenstore = true;
                        break;
                case ARG_READY_FD:
                        if (safe_atoi(optarg, &arg_ready_fd) < 0 || arg_ready_fd < 0)
                                return log_error_errno(-EINVAL, "Invalid file descriptor '%s'", optarg);
                        break;
                case ARG_XEN_VERSION: {
                        const char *dot = strchr(optarg, '.');
                        _cleanup_free_ char *major = dot ? strndup(optarg, (size_t) (dot - optarg)) : NULL;

                        if (!dot || !major || safe_atou(major, &arg_xen_major) < 0 ||
                            safe_atou(dot + 1, &arg_xen_minor) < 0 || arg_xen_major < 3 || arg_xen_major > 99 ||
                            arg_xen_minor > 99)
                                return log_error_errno(-EINVAL, "Invalid Xen version '%s' (MAJOR.MINOR, e.g. 4.17)", optarg);
                        break;
                }
                case '?':
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(-EINVAL, "Unexpected argument '%s'", argv[optind]);
        if (!arg_dir)
                return log_error_errno(-EINVAL, "--dir DIR is required");
        if (strlen(arg_dir) > XENSIM_DIR_MAX)
                return log_error_errno(-ENAMETOOLONG, "Directory name too long (socket paths are limited)");
        return 1;
}

static int make_dir(const char *path) {
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return log_error_errno(-errno, "Cannot create '%s': %m", path);
        return 0;
}

static char *dir_path(const char *name) {
        char *p = NULL;

        if (asprintf(&p, "%s/%s", arg_dir, name) < 0)
                return NULL;
        return p;
}

/* The control socket reaches the servers through these, so that it needs none of their headers. */
static int hook_xend_set_absent(void *userdata, bool absent) {
        return xsim_xend_set_absent(userdata, absent);
}

static int hook_xenstore_set_absent(void *userdata, bool absent) {
        return xsim_xenstore_set_absent(userdata, absent);
}

static size_t hook_xenstore_count_watches(void *userdata, const char *path) {
        return xsim_xenstore_count_watches(userdata, path);
}

static void hook_hv_stats(void *userdata, bool reset, struct StrBuf *out) {
        xsim_hv_stats(userdata, reset, out);
}

static int create_bench_domains(XsimHost *host) {
        uint64_t need = (uint64_t) arg_domains * XENSIM_BENCH_MEMORY_MIB * 1024;
        int r;

        /* Grow the host so that the benchmark domains leave the usual free memory untouched. */
        host->total_memory_kib += need;
        for (unsigned i = 1; i <= arg_domains; i++) {
                XvError error = XV_ERROR_NULL;
                char name[32];

                (void) snprintf(name, sizeof(name), "test-%u", i);
                r = xsim_control_create_domain(host, name, XENSIM_BENCH_MEMORY_MIB, 1, false, NULL, &error);
                if (r < 0) {
                        log_error_errno(r, "Cannot create domain '%s': %s", name, strnull(error.message));
                        xv_error_done(&error);
                        return r;
                }
        }
        return 0;
}

static int write_pid_file(void) {
        _cleanup_free_ char *path = dir_path("xensim.pid");
        char buf[32];
        int r;

        if (!path)
                return log_error_errno(-ENOMEM, "Out of memory");
        (void) snprintf(buf, sizeof(buf), "%d\n", (int) getpid());
        r = write_file_atomic(path, buf, strlen(buf), 0644);
        if (r < 0)
                return log_error_errno(r, "Cannot write '%s': %m", path);
        return 0;
}

static int announce_ready(void) {
        if (arg_ready_fd >= 0) {
                ssize_t n = write(arg_ready_fd, "READY\n", 6);

                safe_close(arg_ready_fd);
                arg_ready_fd = -1;
                if (n != 6)
                        return log_error_errno(n < 0 ? -errno : -EIO, "Cannot write to the ready fd: %m");
                return 0;
        }
        printf("READY\n");
        fflush(stdout);
        return 0;
}

static int run(int argc, char *argv[]) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(xsim_host_freep) XsimHost *host = NULL;
        _cleanup_(xsim_hostfiles_freep) XsimHostFiles *files = NULL;
        _cleanup_(xsim_xenstore_freep) XsimXenstore *xs = NULL;
        _cleanup_(xsim_xend_freep) XsimXend *xd = NULL;
        _cleanup_(xsim_hv_freep) XsimHv *hv = NULL;
        _cleanup_(xsim_control_freep) XsimControl *control = NULL;
        _cleanup_free_ char *root = NULL, *xm_dir = NULL, *xm_auto = NULL, *xend_socket = NULL,
                *xenstore_socket = NULL, *hv_socket = NULL, *control_socket = NULL, *pid_file = NULL;
        sigset_t mask;
        int r;

        log_set_target(LOG_TARGET_STDERR);
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;

        root = dir_path("root");
        xm_dir = dir_path("xen");
        xm_auto = dir_path("xen/auto");
        xend_socket = dir_path("xend-socket");
        xenstore_socket = dir_path("xenstored-socket");
        hv_socket = dir_path("hv-socket");
        control_socket = dir_path("control-socket");
        pid_file = dir_path("xensim.pid");
        if (!root || !xm_dir || !xm_auto || !xend_socket || !xenstore_socket || !hv_socket ||
            !control_socket || !pid_file)
                return log_error_errno(-ENOMEM, "Out of memory");
        (void) unlink(pid_file);
        r = make_dir(arg_dir);
        if (r < 0)
                return r;
        r = make_dir(root);
        if (r < 0)
                return r;
        r = make_dir(xm_dir);
        if (r < 0)
                return r;
        r = make_dir(xm_auto);
        if (r < 0)
                return r;

        /* SIGTERM and SIGINT end the loop; blocked so that sd-event sees them through a signalfd. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(-errno, "Cannot block signals: %m");
        /* A client that goes away while we write must not kill the simulator. */
        (void) signal(SIGPIPE, SIG_IGN);

        r = sd_event_new(&event);
        if (r < 0)
                return log_error_errno(r, "Cannot create the event loop: %m");
        r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Cannot watch signals: %m");

        r = xsim_host_new(event, arg_xend_config_version, root, &host);
        if (r < 0)
                return log_error_errno(r, "Cannot create the host state: %m");
        host->xm_dir = TAKE_PTR(xm_dir);
        if (arg_xen_major > 0) {
                char *extra = strdup(".0");

                if (!extra)
                        return log_error_errno(-ENOMEM, "Out of memory");
                free(host->xen_extra);
                host->xen_extra = extra;
                host->xen_major = arg_xen_major;
                host->xen_minor = arg_xen_minor;
        }
        host->faults.xend_delay_ms = arg_xend_delay_ms;
        host->faults.xend_absent = arg_no_xend;
        host->faults.xenstore_absent = arg_no_xenstore;

        r = xsim_hostfiles_new(host, &files);
        if (r < 0)
                return log_error_errno(r, "Cannot write the host files below '%s': %m", root);

        /* The servers register their state listeners; create them before any guest exists, so
         * that every domain reaches xenstore through the same INTRODUCED path. */
        r = xsim_xenstore_new(host, xenstore_socket, &xs);
        if (r < 0)
                return log_error_errno(r, "Cannot start xenstore on '%s': %m", xenstore_socket);
        r = xsim_xend_new(host, xend_socket, &xd);
        if (r < 0)
                return log_error_errno(r, "Cannot start XenD on '%s': %m", xend_socket);
        r = xsim_hv_new(host, hv_socket, &hv);
        if (r < 0)
                return log_error_errno(r, "Cannot start the hypervisor on '%s': %m", hv_socket);
        if (arg_no_xend) {
                r = xsim_xend_set_absent(xd, true);
                if (r < 0)
                        return log_error_errno(r, "Cannot switch XenD off: %m");
        }
        if (arg_no_xenstore) {
                r = xsim_xenstore_set_absent(xs, true);
                if (r < 0)
                        return log_error_errno(r, "Cannot switch xenstore off: %m");
        }

        XsimControlHooks hooks = {
                .xend_set_absent = hook_xend_set_absent,
                .xend = xd,
                .xenstore_set_absent = hook_xenstore_set_absent,
                .xenstore_count_watches = hook_xenstore_count_watches,
                .xenstore = xs,
                .hv_stats = hook_hv_stats,
                .hv = hv,
        };
        r = xsim_control_new(host, control_socket, &hooks, &control);
        if (r < 0)
                return log_error_errno(r, "Cannot listen on '%s': %m", control_socket);

        r = create_bench_domains(host);
        if (r < 0)
                return r;

        r = write_pid_file();
        if (r < 0)
                return r;
        r = announce_ready();
        if (r < 0)
                return r;

        r = sd_event_loop(event);
        (void) unlink(pid_file);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}

int main(int argc, char *argv[]) {
        int r;

        r = run(argc, argv);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
