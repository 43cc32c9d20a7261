/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#include "xv-alloc.h"
#include "xv-log.h"
#include "xv-parse-util.h"
#include "xvd-polkit.h"

#define POLKIT_SERVICE          "org.freedesktop.PolicyKit1"
#define POLKIT_PATH             "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_INTERFACE        "org.freedesktop.PolicyKit1.Authority"
#define POLKIT_ERROR_PREFIX     "org.freedesktop.PolicyKit1.Error."
/* /proc/<pid>/stat is one line; comm is at most 16 bytes, the rest ~50 numbers. */
#define POLKIT_STAT_SIZE_MAX    4096u
/* The start time is field 22; after the ')' that closes comm the fields start at 3. */
#define POLKIT_STAT_START_FIELD 22u

struct Polkit {
        sd_event *event;
        sd_bus *bus;                    /* opened lazily, attached to @event */
        PolkitQuery *queries;           /* in flight: freed (without callback) by polkit_free() */
};

struct PolkitQuery {
        Polkit *polkit;
        PolkitQuery *prev, *next;
        sd_bus_slot *slot;              /* the pending CheckAuthorization */
        sd_event_source *defer;         /* an outcome known at once, reported from the loop */
        PolkitResult result;
        XvError error;
        polkit_callback_t callback;
        void *userdata;
        char action[POLKIT_ACTION_ID_MAX];
};

static const char * const result_names[_POLKIT_RESULT_MAX] = {
        [POLKIT_ALLOWED] = "allowed",
        [POLKIT_DENIED] = "denied",
        [POLKIT_CHALLENGE] = "challenge",
        [POLKIT_UNAVAILABLE] = "unavailable",
};

const char *polkit_result_to_string(PolkitResult r) {
        if (r < 0 || r >= _POLKIT_RESULT_MAX)
                return NULL;
        return result_names[r];
}

int polkit_read_start_time(pid_t pid, uint64_t *ret, XvError *error) {
        char path[64], buf[POLKIT_STAT_SIZE_MAX + 1];
        _cleanup_close_ int fd = -EBADF;
        const char *p, *end;
        size_t n = 0;
        uint64_t v;

        assert(ret);

        if (pid <= 0)
                return xv_error_setf(error, XVP_ERR_INTERNAL, "invalid process id %d", (int) pid);

        (void) snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return xv_error_set_errnof(error, -errno, "cannot open '%s'", path);
        for (;;) {
                ssize_t k = read(fd, buf + n, POLKIT_STAT_SIZE_MAX - n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return xv_error_set_errnof(error, -errno, "cannot read '%s'", path);
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n >= POLKIT_STAT_SIZE_MAX)
                        return xv_error_setf(error, XVP_ERR_INTERNAL, "'%s' is longer than %u bytes", path,
                                             POLKIT_STAT_SIZE_MAX);
        }
        buf[n] = '\0';

        /* comm may hold spaces and ')': the fields proper start after the last ')'. */
        p = strrchr(buf, ')');
        if (!p)
                return xv_error_setf(error, XVP_ERR_INTERNAL, "'%s' has no command name", path);
        p++;
        for (unsigned field = 3; field <= POLKIT_STAT_START_FIELD; field++) {
                if (*p != ' ')
                        return xv_error_setf(error, XVP_ERR_INTERNAL, "'%s' is truncated", path);
                p++;
                if (field == POLKIT_STAT_START_FIELD)
                        break;
                p = strchr(p, ' ');
                if (!p)
                        return xv_error_setf(error, XVP_ERR_INTERNAL, "'%s' is truncated", path);
        }
        if (parse_u64_prefix(p, &v, &end) < 0 || (*end != ' ' && *end != '\n' && *end != '\0'))
                return xv_error_setf(error, XVP_ERR_INTERNAL, "'%s' has no valid start time", path);

        *ret = v;
        return 0;
}

/* ---- the D-Bus message, shared by both ways of asking --------------------------------------- */

static int check_arguments(const char *action, PolkitDetails details, XvError *error) {
        size_t n = 0;

        if (!action || strlen(action) >= POLKIT_ACTION_ID_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "polkit action id is missing or too long");
        for (const char *const *d = details; d && *d; d += 2) {
                if (!d[1])
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "polkit detail '%s' has no value", d[0]);
                if (++n > POLKIT_DETAILS_MAX)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "too many polkit details (limit %u)",
                                             POLKIT_DETAILS_MAX);
                if (strlen(d[0]) >= POLKIT_DETAIL_VALUE_MAX || strlen(d[1]) >= POLKIT_DETAIL_VALUE_MAX)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "polkit detail '%.64s' is too long", d[0]);
        }
        return 0;
}

static int build_message(sd_bus *bus, const PolkitSubject *s, const char *action, PolkitDetails details,
                         sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, POLKIT_SERVICE, POLKIT_PATH, POLKIT_INTERFACE,
                                           "CheckAuthorization");
        if (r < 0)
                return r;
        /* The uid is the peer's: polkitd trusts what a root caller passes. */
        r = sd_bus_message_append(m, "(sa{sv})s", "unix-process", 3,
                                  "pid", "u", (uint32_t) s->pid,
                                  "start-time", "t", s->start_time,
                                  "uid", "i", (int32_t) s->uid,
                                  action);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "{ss}");
        if (r < 0)
                return r;
        for (const char *const *d = details; d && *d; d += 2) {
                r = sd_bus_message_append(m, "{ss}", d[0], d[1]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        /* Flags 0: never interactive, nobody could answer a prompt. No cancellation id. */
        r = sd_bus_message_append(m, "us", 0u, "");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

/* Turns a reply (or an error reply) into a result and, unless allowed, the reason. */
static PolkitResult parse_reply(sd_bus_message *reply, const sd_bus_error *call_error, const char *action,
                                XvError *error) {
        const sd_bus_error *e = call_error;
        int authorized = 0, challenge = 0, r;

        if (!e && reply && sd_bus_message_is_method_error(reply, NULL))
                e = sd_bus_message_get_error(reply);
        if (e && sd_bus_error_is_set(e)) {
                /* polkitd answered, but refused the question (a replaced or vanished process, an
                 * action nobody installed): a denial. Anything else means it could not answer. */
                if (e->name && strncmp(e->name, POLKIT_ERROR_PREFIX, strlen(POLKIT_ERROR_PREFIX)) == 0) {
                        (void) xv_error_set_full(error, -EACCES, XVP_ERR_AUTH_FAILED, XVP_FROM_POLKIT,
                                                 "polkit refused the check: %s", e->message ?: e->name);
                        return POLKIT_DENIED;
                }
                (void) xv_error_set_full(error, -EHOSTDOWN, XVP_ERR_AUTH_UNAVAILABLE, XVP_FROM_POLKIT,
                                         "polkit is not available: %s", e->message ?: e->name ?: "no reply");
                return POLKIT_UNAVAILABLE;
        }

        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0) {
                (void) xv_error_set_full(error, -EBADMSG, XVP_ERR_AUTH_UNAVAILABLE, XVP_FROM_POLKIT,
                                         "polkit is not available: malformed CheckAuthorization reply");
                return POLKIT_UNAVAILABLE;
        }
        if (authorized)
                return POLKIT_ALLOWED;
        if (challenge) {
                (void) xv_error_set_full(error, -EACCES, XVP_ERR_AUTH_UNAVAILABLE, XVP_FROM_POLKIT,
                                         "no polkit agent available to authenticate action '%s'", action);
                return POLKIT_CHALLENGE;
        }
        (void) xv_error_set_full(error, -EACCES, XVP_ERR_AUTH_FAILED, XVP_FROM_POLKIT, "access denied by policy");
        return POLKIT_DENIED;
}

static void set_bus_error(XvError *error, int r, const char *what) {
        (void) xv_error_set_full(error, r, XVP_ERR_AUTH_UNAVAILABLE, XVP_FROM_POLKIT,
                                 "polkit is not available: %s: %s", what, strerror(-r));
}

/* ---- asynchronous, on the loop ------------------------------------------------------------- */

int polkit_new(sd_event *event, Polkit **ret) {
        Polkit *p;

        assert(event);
        assert(ret);

        p = new0(Polkit, 1);
        if (!p)
                return -ENOMEM;
        p->event = sd_event_ref(event);
        *ret = p;
        return 0;
}

static PolkitQuery *query_free(PolkitQuery *q) {
        if (!q)
                return NULL;
        if (q->prev)
                q->prev->next = q->next;
        else if (q->polkit->queries == q)
                q->polkit->queries = q->next;
        if (q->next)
                q->next->prev = q->prev;
        sd_bus_slot_unref(q->slot);
        sd_event_source_disable_unref(q->defer);
        xv_error_done(&q->error);
        return mfree(q);
}

Polkit *polkit_free(Polkit *p) {
        if (!p)
                return NULL;
        /* Owners cancel their queries first; whatever is left is dropped without a callback. */
        while (p->queries)
                query_free(p->queries);
        if (p->bus) {
                (void) sd_bus_detach_event(p->bus);
                sd_bus_flush_close_unref(p->bus);
        }
        sd_event_unref(p->event);
        return mfree(p);
}

static int polkit_get_bus(Polkit *p, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        /* A connection that broke (dbus-daemon restarted) is replaced on the next check. */
        if (p->bus && !sd_bus_is_open(p->bus)) {
                (void) sd_bus_detach_event(p->bus);
                p->bus = sd_bus_flush_close_unref(p->bus);
        }
        if (!p->bus) {
                r = sd_bus_open_system(&bus);
                if (r < 0)
                        return r;
                r = sd_bus_attach_event(bus, p->event, SD_EVENT_PRIORITY_NORMAL);
                if (r < 0)
                        return r;
                (void) sd_bus_set_description(bus, "polkit");
                p->bus = TAKE_PTR(bus);
        }
        *ret = p->bus;
        return 0;
}

static void query_finish(PolkitQuery *q) {
        polkit_callback_t callback = q->callback;
        void *userdata = q->userdata;
        PolkitResult result = q->result;
        XvError error = q->error;

        /* The query is gone before the callback runs: the callback may start new ones. */
        q->error = XV_ERROR_NULL;
        query_free(q);
        callback(result, &error, userdata);
        xv_error_done(&error);
}

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;

        q->result = parse_reply(reply, NULL, q->action, &q->error);
        query_finish(q);
        return 0;
}

static int on_defer(sd_event_source *s, void *userdata) {
        query_finish(userdata);
        return 0;
}

int polkit_check_async(Polkit *p, const PolkitSubject *subject, const char *action, PolkitDetails details,
                       polkit_callback_t callback, void *userdata, PolkitQuery **ret, XvError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        PolkitQuery *q;
        sd_bus *bus;
        int r;

        assert(p);
        assert(subject);
        assert(callback);

        r = check_arguments(action, details, error);
        if (r < 0)
                return r;

        q = new0(PolkitQuery, 1);
        if (!q)
                return -ENOMEM;
        q->polkit = p;
        q->callback = callback;
        q->userdata = userdata;
        memcpy(q->action, action, strlen(action) + 1);  /* bounded by check_arguments() */
        q->next = p->queries;
        if (q->next)
                q->next->prev = q;
        p->queries = q;

        r = polkit_get_bus(p, &bus);
        if (r < 0)
                set_bus_error(&q->error, r, "cannot connect to the system bus");
        else {
                r = build_message(bus, subject, action, details, &m);
                if (r == -ENOMEM) {
                        query_free(q);
                        return r;
                }
                if (r >= 0)
                        r = sd_bus_call_async(bus, &q->slot, m, on_reply, q, POLKIT_CALL_TIMEOUT_USEC);
                if (r < 0)
                        set_bus_error(&q->error, r, "cannot send CheckAuthorization");
        }
        if (r < 0) {
                /* Known at once, but reported from the loop as promised. */
                q->result = POLKIT_UNAVAILABLE;
                r = sd_event_add_defer(p->event, &q->defer, on_defer, q);
                if (r < 0) {
                        query_free(q);
                        return r;
                }
        }

        if (ret)
                *ret = q;
        return 0;
}

void polkit_query_cancel(PolkitQuery *q) {
        query_free(q);
}

/* ---- synchronous, on workers ------------------------------------------------------------- */

static _Thread_local sd_bus *thread_bus = NULL;

void polkit_thread_done(void) {
        thread_bus = sd_bus_flush_close_unref(thread_bus);
}

int polkit_check_sync(const PolkitSubject *subject, const char *action, PolkitDetails details, XvError *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        assert(subject);

        r = check_arguments(action, details, error);
        if (r < 0)
                return r;

        if (thread_bus && !sd_bus_is_open(thread_bus))
                thread_bus = sd_bus_flush_close_unref(thread_bus);
        if (!thread_bus) {
                r = sd_bus_open_system(&thread_bus);
                if (r < 0) {
                        thread_bus = NULL;
                        set_bus_error(error, r, "cannot connect to the system bus");
                        return POLKIT_UNAVAILABLE;
                }
        }

        r = build_message(thread_bus, subject, action, details, &m);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                set_bus_error(error, r, "cannot build CheckAuthorization");
                return POLKIT_UNAVAILABLE;
        }
        r = sd_bus_call(thread_bus, m, POLKIT_CALL_TIMEOUT_USEC, &e, &reply);
        if (r < 0 && !sd_bus_error_is_set(&e)) {
                set_bus_error(error, r, "CheckAuthorization failed");
                return POLKIT_UNAVAILABLE;
        }
        return parse_reply(reply, r < 0 ? &e : NULL, action, error);
}
