/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * xenvirtd's configuration: /etc/xenvirt/xenvirtd.conf ("key = value" lines, '#' comments,
 * values optionally in double quotes) overridden by command-line options. On SIGHUP the file is
 * read again and only the reloadable part (log level, limits, keepalive) is applied.
 */

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
#define CONFIG_KEEPALIVE_INTERVAL_DEFAULT 5u
#define CONFIG_KEEPALIVE_COUNT_DEFAULT  5u

typedef struct Config {
        char *rw_socket;                /* default /run/xenvirt/xenvirtd-sock */
        char *ro_socket;                /* default /run/xenvirt/xenvirtd-sock-ro */
        char *xend_socket;              /* NULL: the backend's default */
        char *xm_dir;
        char *host_root;
        char *pid_file;
        unsigned max_clients;
        unsigned max_requests_per_client;
        unsigned max_workers;
        uint64_t max_frame_size;        /* the largest length word accepted from a client */
        unsigned keepalive_interval;    /* seconds; 0 disables server-side pings */
        unsigned keepalive_count;
        int log_level;                  /* syslog priority */
} Config;

void config_init(Config *c);
void config_done(Config *c);

/* Reads @path into @c (keys not present keep their values). A missing file is not an error when
 * @missing_ok. Errors name the file and line: "xenvirtd.conf:3: unknown key 'foo'". */
int config_load_file(Config *c, const char *path, bool missing_ok, XvError *error);

/* Sets one key from its textual value, as the file would. */
int config_set(Config *c, const char *key, const char *value, XvError *error);

/* Parses a log level name ("debug", "info", "notice", "warning", "err"/"error") or number 0..7. */
int config_parse_log_level(const char *s, int *ret);

/* Copies the reloadable part (limits, keepalive, log level) from @src into @dst. */
void config_apply_reloadable(Config *dst, const Config *src);
