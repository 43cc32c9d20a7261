/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Polkit: asks org.freedesktop.PolicyKit1's CheckAuthorization over sd-bus whether a client
 * process may perform an action, with optional details (domain_name, domain_uuid).
 *
 * The subject is always a unix-process {pid, start-time, uid} built from the connection's
 * SO_PEERCRED credentials and the start time read from /proc/<pid>/stat when the connection
 * was accepted (PolkitSubject); polkitd trusts the uid a root caller passes, so it is the
 * peer's, never ours. Interaction is never allowed (flags 0): there is no agent on a daemon's
 * connection, and a challenge is a denial ("authentication unavailable").
 *
 * Two ways to ask, one D-Bus message format:
 *  - polkit_check_async() on the loop thread, over the Manager's bus connection attached to
 *    sd-event; the callback runs on the loop thread. Used by the dispatcher (AUTH_POLKIT and
 *    per-call ACLs) and for event filtering: the loop never blocks on polkitd.
 *  - polkit_check_sync() from worker threads (list filtering inside handlers that already run
 *    on a worker), over a connection private to the calling thread, opened on first use.
 *
 * Fail closed: polkitd absent, a D-Bus error, a bad reply, a vanished client process or a
 * replaced pid all come back as POLKIT_DENIED or POLKIT_UNAVAILABLE with an XvError that says
 * why; never as allowed.
 *
 * The bus is the system bus as sd-bus finds it ($DBUS_SYSTEM_BUS_ADDRESS, else
 * /run/dbus/system_bus_socket). Connecting is lazy and retried on the next check after a
 * failure, so a polkitd (or dbus-daemon) started after xenvirtd is picked up.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "xv-error.h"
#include "xv-macro.h"
#include "xv-uuid.h"

/* Bounds: an action id, and a detail's value (a domain name is at most XVP_STRING_MAX on the
 * wire, but polkit details stay small; longer names are refused, not truncated). */
#define POLKIT_ACTION_ID_MAX            128u
#define POLKIT_DETAIL_VALUE_MAX         1024u
#define POLKIT_DETAILS_MAX              4u
/* One CheckAuthorization may take this long before the call is refused as unavailable. */
#define POLKIT_CALL_TIMEOUT_USEC        (25u * 1000u * 1000u)

/* The connection-level actions. */
#define POLKIT_ACTION_UNIX_MANAGE       "org.xenvirt.unix.manage"
#define POLKIT_ACTION_UNIX_MONITOR      "org.xenvirt.unix.monitor"

typedef struct PolkitSubject {
        pid_t pid;
        uid_t uid;
        uint64_t start_time;            /* field 22 of /proc/<pid>/stat, in clock ticks */
} PolkitSubject;

/* Reads the start time of @pid (field 22 of /proc/<pid>/stat). The comm field may contain
 * spaces and parentheses: the parse starts after the last ')'. */
int polkit_read_start_time(pid_t pid, uint64_t *ret, XvError *error);

typedef enum PolkitResult {
        POLKIT_ALLOWED,
        POLKIT_DENIED,                  /* is_authorized false, no challenge */
        POLKIT_CHALLENGE,               /* would need an authentication agent: treated as denied */
        POLKIT_UNAVAILABLE,             /* no answer: bus or polkitd unreachable, D-Bus error */
        _POLKIT_RESULT_MAX,
        _POLKIT_RESULT_INVALID = -EINVAL,
} PolkitResult;

/* "key", "value" pairs, NULL-terminated; at most POLKIT_DETAILS_MAX pairs. */
typedef const char *const *PolkitDetails;

typedef struct Polkit Polkit;

/* Loop thread. @event is the daemon's loop; the bus is opened on the first check. */
int polkit_new(sd_event *event, Polkit **ret);
Polkit *polkit_free(Polkit *p);
DEFINE_CLEANUP_FUNC(Polkit *, polkit_free);

/* Called on the loop thread with the outcome; @error says why when the result is not
 * POLKIT_ALLOWED (it is owned by the caller of the callback, valid during the call). */
typedef void (*polkit_callback_t)(PolkitResult result, const XvError *error, void *userdata);

typedef struct PolkitQuery PolkitQuery;

/* Sends CheckAuthorization and returns at once. The callback runs exactly once, later, on the
 * loop thread: never from inside this function, even when the bus cannot be reached. *@ret (may
 * be NULL) is a handle for polkit_query_cancel(), valid until the callback ran. Fails only on
 * invalid arguments (over-long action or detail: -EINVAL, nothing sent, no callback) or OOM. */
int polkit_check_async(Polkit *p, const PolkitSubject *subject, const char *action, PolkitDetails details,
                       polkit_callback_t callback, void *userdata, PolkitQuery **ret, XvError *error);

/* The callback will not run (the client went away). */
void polkit_query_cancel(PolkitQuery *q);

/* Worker threads only: the same question, blocking the calling thread up to
 * POLKIT_CALL_TIMEOUT_USEC. Returns the PolkitResult (never negative except -EINVAL/-ENOMEM
 * with @error set). */
int polkit_check_sync(const PolkitSubject *subject, const char *action, PolkitDetails details, XvError *error);

/* Frees the calling thread's private bus connection (a worker thread calls this on exit). */
void polkit_thread_done(void);

const char *polkit_result_to_string(PolkitResult r);
