/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * xenvirtd's configuration: /etc/xenvirt/xenvirtd.conf ("key = value" lines, '#' comments,
 * values optionally in double quotes) overridden by command-line options. On SIGHUP the file is
 * read again and only the reloadable part (log level, limits, keepalive) is applied.
 *
 * Access control keys (libvirtd.conf's names; NOT reloadable on SIGHUP, a restart applies them):
 *   auth_unix_rw = "none" | "polkit"     connection-level polkit auth on the rw socket (default none)
 *   auth_unix_ro = "none" | "polkit"     the same on the ro socket (default none)
 *   access_drivers = [ "polkit" ]        per-call polkit ACLs; also "polkit"; [ ] or "" = off (default)
 *   unix_sock_rw_perms = "0600"          octal mode of a self-bound rw socket (default 0600, or 0666
 *                                        when auth_unix_rw = "polkit" and the key is not given)
 *   unix_sock_ro_perms = "0666"          octal mode of a self-bound ro socket (default 0666)
 * Under socket activation the units decide the socket modes.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "xv-error.h"
#include "xv-macro.h"

#define CONFIG_FILE_DEFAULT             "/etc/xenvirt/xenvirtd.conf"
#define CONFIG_SOCKET_DIR_DEFAULT       "/run/xenvirt"
#define CONFIG_FILE_SIZE_MAX            (64u * 1024u)
#define CONFIG_VALUE_MAX                4096u

#define CONFIG_MAX_CLIENTS_DEFAULT      128u
#define CONFIG_MAX_CLIENTS_MAX          65536u
#define CONFIG_MAX_REQUESTS_DEFAULT     16u
#define CONFIG_MAX_REQUESTS_MAX         1024u
#define CONFIG_MAX_WORKERS_DEFAULT      8u
#define CONFIG_MAX_WORKERS_MAX          256u
#define CONFIG_IO_THREADS_MAX           8u      /* LANES_MAX */
#define CONFIG_KEEPALIVE_INTERVAL_DEFAULT 5u
#define CONFIG_KEEPALIVE_COUNT_DEFAULT  5u
#define CONFIG_XEND_TIMEOUT_DEFAULT     30u     /* seconds per XenD request */
#define CONFIG_XEND_TIMEOUT_MAX         3600u

/* The largest socket mode accepted (no setuid/setgid/sticky bits on a socket). */
#define CONFIG_SOCK_PERMS_MAX           0777u
#define CONFIG_SOCK_RW_PERMS_DEFAULT    0600u
#define CONFIG_SOCK_RW_PERMS_POLKIT     0666u
#define CONFIG_SOCK_RO_PERMS_DEFAULT    0666u
/* access_drivers = [ ... ]: at most this many entries. */
#define CONFIG_ACCESS_DRIVERS_MAX       4u

typedef enum ConfigAuth {
        CONFIG_AUTH_NONE,
        CONFIG_AUTH_POLKIT,
        _CONFIG_AUTH_MAX,
        _CONFIG_AUTH_INVALID = -EINVAL,
} ConfigAuth;

typedef struct Config {
        char *rw_socket;                /* default /run/xenvirt/xenvirtd-sock */
        char *ro_socket;                /* default /run/xenvirt/xenvirtd-sock-ro */
        char *xend_socket;              /* NULL: the backend's default */
        unsigned xend_timeout;          /* seconds a XenD request may take */
        char *xm_dir;
        char *host_root;
        char *managed_save_dir;         /* NULL: the backend's default, /var/lib/xenvirt/save */
        char *xl_config_dir;            /* NULL: the libxl backend's default, /etc/xen/xenvirt */
        int backend;                    /* HvBackendType: "auto" (default), "xend", "libxl" */
        char *pid_file;
        unsigned max_clients;
        unsigned max_requests_per_client;
        unsigned max_workers;
        unsigned io_threads;            /* event loops serving connections; 0: one per 2 CPUs */
        uint64_t max_frame_size;        /* the largest length word accepted from a client */
        unsigned keepalive_interval;    /* seconds; 0 disables server-side pings */
        unsigned keepalive_count;
        int log_level;                  /* syslog priority */
        ConfigAuth auth_unix_rw;
        ConfigAuth auth_unix_ro;
        bool access_polkit;             /* access_drivers = [ "polkit" ] */
        unsigned unix_sock_rw_perms;    /* CONFIG_SOCK_PERMS_UNSET: derived from auth_unix_rw */
        unsigned unix_sock_ro_perms;
} Config;

#define CONFIG_SOCK_PERMS_UNSET         (~0u)

/* The mode for a self-bound rw socket: the configured one, else 0666 with polkit auth, else 0600. */
unsigned config_get_rw_perms(const Config *c);
const char *config_auth_to_string(ConfigAuth a);

void config_init(Config *c);
void config_done(Config *c);

/* Reads @path into @c (keys not present keep their values). A missing file is not an error when
 * @missing_ok. Errors name the file and line: "xenvirtd.conf:3: unknown key 'foo'". */
int config_load_file(Config *c, const char *path, bool missing_ok, XvError *error);

/* Sets one key from its textual value, as the file would. */
int config_set(Config *c, const char *key, const char *value, XvError *error);

/* Parses a log level name ("debug", "info", "notice", "warning", "err"/"error") or number 0..7. */
int config_parse_log_level(const char *s, int *ret);

/* A reloadable field (config_apply_reloadable()) as read by a thread other than the main loop's,
 * which rewrites it on SIGHUP: one whole aligned value, never a torn or cached one. */
#define CONFIG_GET(config, field) __atomic_load_n(&(config)->field, __ATOMIC_RELAXED)

/* Copies the reloadable part (limits, keepalive, log level) from @src into @dst.
 * Each field is stored atomically: lanes and workers read them (CONFIG_GET()) while it runs. */
void config_apply_reloadable(Config *dst, const Config *src);
