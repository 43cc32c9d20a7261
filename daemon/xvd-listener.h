/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Listening sockets and their role: "rw" serves every procedure, "ro" only those annotated
 * @readonly: yes. They come from socket activation (sd_listen_fds_with_names(), names "rw" and
 * "ro"), or the daemon binds them itself: umask first, then chmod, so that the socket is never
 * reachable with a wider mode than intended.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "xv-error.h"
#include "xv-macro.h"

typedef struct Manager Manager;
typedef struct Listener Listener;

/* The modes of self-bound sockets come from the configuration (unix_sock_rw_perms,
 * unix_sock_ro_perms): without polkit the rw socket's mode (0600) is the access control. */
#define LISTENERS_MAX 8u

/* Takes @fd (a listening AF_UNIX stream socket) in every case. */
int listener_new_fd(Manager *m, int fd, bool read_only, Listener **ret, XvError *error);
/* Binds @path (removing a stale socket first, creating the parent directory). */
int listener_bind(Manager *m, const char *path, bool read_only, mode_t mode, Listener **ret, XvError *error);
/* Closes; a self-bound socket's path is removed. */
Listener *listener_free(Listener *l);
DEFINE_CLEANUP_FUNC(Listener *, listener_free);

void listener_set_enabled(Listener *l, bool enabled);
bool listener_is_read_only(Listener *l);

/* The activated sockets: fills @ret with up to LISTENERS_MAX listeners and returns how many
 * (0 without socket activation). */
int listeners_from_activation(Manager *m, Listener **ret, XvError *error);
