/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenvirtd: serves the libvirt remote protocol for a Xen host on two UNIX sockets. run() reads
 * the configuration and the command line, blocks the signals the loop handles (before any
 * worker thread exists, so that the threads inherit the mask), and hands over to the Manager.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "xv-alloc.h"
#include "xv-log.h"
#include "xv-module.h"
#include "xvd-config.h"
#include "xvd-import.h"
#include "xvd-manager.h"

static void help(void) {
        printf("Usage: xenvirtd [OPTIONS]\n\n"
               "Serve the libvirt remote protocol for a Xen host.\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "  -f --config=PATH       Configuration file (default " CONFIG_FILE_DEFAULT ")\n"
               "     --socket-dir=DIR    Put xenvirtd-sock and xenvirtd-sock-ro in DIR\n"
               "     --rw-socket=PATH    Read-write socket path\n"
               "     --ro-socket=PATH    Read-only socket path\n"
               "     --xend-socket=PATH  XenD's UNIX socket\n"
               "     --xm-dir=DIR        XM configuration directory\n"
               "     --host-root=DIR     Prefix for host files (/proc, /sys)\n"
               "  -p --pid-file=PATH     Write the PID here\n"
               "  -d --debug             Log at debug level\n"
               "     --import            Import XenD's and XM's domains into the xl store, then exit\n"
               "     --from-xend=DIR     With --import: XenD's domain store (default " IMPORT_FROM_XEND_DEFAULT ")\n"
               "     --from-xm=DIR       With --import: XM config directory (default " IMPORT_FROM_XM_DEFAULT ")\n"
               "     --to=DIR            With --import: xl store (default: xl_config_dir)\n"
               "     --dry-run           With --import: report, write nothing\n");
}

enum {
        ARG_VERSION = 0x100,
        ARG_SOCKET_DIR,
        ARG_RW_SOCKET,
        ARG_RO_SOCKET,
        ARG_XEND_SOCKET,
        ARG_XM_DIR,
        ARG_HOST_ROOT,
        ARG_IMPORT,
        ARG_FROM_XEND,
        ARG_FROM_XM,
        ARG_TO,
        ARG_DRY_RUN,
};

typedef struct Override {
        const char *key;
        const char *value;
} Override;

#define OVERRIDES_MAX 16

static int parse_argv(int argc, char *argv[], const char **ret_config, bool *ret_debug,
                      Override *overrides, size_t *n_overrides, bool *ret_import, ImportOptions *import) {
        static const struct option options[] = {
                { "help",        no_argument,       NULL, 'h' },
                { "version",     no_argument,       NULL, ARG_VERSION },
                { "config",      required_argument, NULL, 'f' },
                { "socket-dir",  required_argument, NULL, ARG_SOCKET_DIR },
                { "rw-socket",   required_argument, NULL, ARG_RW_SOCKET },
                { "ro-socket",   required_argument, NULL, ARG_RO_SOCKET },
                { "xend-socket", required_argument, NULL, ARG_XEND_SOCKET },
                { "xm-dir",      required_argument, NULL, ARG_XM_DIR },
                { "host-root",   required_argument, NULL, ARG_HOST_ROOT },
                { "pid-file",    required_argument, NULL, 'p' },
                { "debug",       no_argument,       NULL, 'd' },
                { "import",      no_argument,       NULL, ARG_IMPORT },
                { "from-xend",   required_argument, NULL, ARG_FROM_XEND },
                { "from-xm",     required_argument, NULL, ARG_FROM_XM },
                { "to",          required_argument, NULL, ARG_TO },
                { "dry-run",     no_argument,       NULL, ARG_DRY_RUN },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "hf:p:d", options, NULL)) >= 0) {
                const char *key = NULL;

                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("xenvirtd " PACKAGE_VERSION "\n");
                        return 0;
                case 'f':
                        *ret_config = optarg;
                        break;
                case 'd':
                        *ret_debug = true;
                        break;
                case ARG_SOCKET_DIR:
                        key = "socket_dir";
                        break;
                case ARG_RW_SOCKET:
                        key = "rw_socket";
                        break;
                case ARG_RO_SOCKET:
                        key = "ro_socket";
                        break;
                case ARG_XEND_SOCKET:
                        key = "xend_socket";
                        break;
                case ARG_XM_DIR:
                        key = "xm_dir";
                        break;
                case ARG_HOST_ROOT:
                        key = "host_root";
                        break;
                case 'p':
                        key = "pid_file";
                        break;
                case ARG_IMPORT:
                        *ret_import = true;
                        break;
                case ARG_FROM_XEND:
                        import->from_xend = optarg;
                        break;
                case ARG_FROM_XM:
                        import->from_xm = optarg;
                        break;
                case ARG_TO:
                        import->to = optarg;
                        break;
                case ARG_DRY_RUN:
                        import->dry_run = true;
                        break;
                default:        /* '?': getopt_long() has printed the error */
                        return -EINVAL;
                }
                if (key) {
                        if (*n_overrides >= OVERRIDES_MAX) {
                                log_error("Too many options.");
                                return -E2BIG;
                        }
                        overrides[(*n_overrides)++] = (Override) { key, optarg };
                }
        }
        if (optind < argc) {
                log_error("Unexpected argument '%s'.", argv[optind]);
                return -EINVAL;
        }
        if (!*ret_import && (import->from_xend || import->from_xm || import->to || import->dry_run)) {
                log_error("--from-xend, --from-xm, --to and --dry-run need --import.");
                return -EINVAL;
        }
        return 1;
}

static int run(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        Override overrides[OVERRIDES_MAX];
        size_t n_overrides = 0;
        const char *config_path = NULL;
        ImportOptions import = {};
        bool debug = false, import_mode = false;
        sigset_t mask;
        Config config;
        int r;

        log_set_target(log_target_detect());
        log_set_max_level(LOG_INFO);

        r = parse_argv(argc, argv, &config_path, &debug, overrides, &n_overrides, &import_mode, &import);
        if (r <= 0)
                return r;

        config_init(&config);
        /* Command-line options override the file: the file first, then the options. */
        r = config_load_file(&config, config_path ?: CONFIG_FILE_DEFAULT, !config_path, &error);
        for (size_t i = 0; r >= 0 && i < n_overrides; i++)
                r = config_set(&config, overrides[i].key, overrides[i].value, &error);
        if (r >= 0 && !config.rw_socket)
                r = config_set(&config, "rw_socket", CONFIG_SOCKET_DIR_DEFAULT "/xenvirtd-sock", &error);
        if (r >= 0 && !config.ro_socket)
                r = config_set(&config, "ro_socket", CONFIG_SOCKET_DIR_DEFAULT "/xenvirtd-sock-ro", &error);
        if (r < 0) {
                config_done(&config);
                log_error("%s", error.message ?: strerror(-r));
                return r;
        }
        log_set_max_level(debug ? LOG_DEBUG : config.log_level);

        if (import_mode) {
                if (!import.to)
                        import.to = config.xl_config_dir;
                r = import_run(&import);
                config_done(&config);
                return r > 0 ? -EIO : r;
        }

        r = manager_new(&config, config_path ?: CONFIG_FILE_DEFAULT, !!config_path, debug, &m);
        if (r < 0) {
                config_done(&config);
                return log_error_errno(r, "Out of memory.");
        }

        /* Blocked before the worker threads exist: they inherit the mask, and the signals are
         * delivered to the loop's signalfd only. A peer that hangs up must not kill us either. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(-errno, "Cannot block signals: %m");
        (void) signal(SIGPIPE, SIG_IGN);

        r = manager_startup(m, &error);
        if (r < 0) {
                log_error("Startup failed: %s", error.message ?: strerror(-r));
                return r;
        }

        return manager_run(m);
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv);

        /* Every thread has stopped (run() freed the manager): what the modules hold goes back. */
        module_unload_all();
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
