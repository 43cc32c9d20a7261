/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xv-alloc.h"
#include "xv-call-context.h"
#include "xv-domain-def.h"
#include "xv-domain-xml.h"
#include "xv-log.h"
#include "xv-uuid.h"
#include "xvd-client.h"
#include "xvd-config.h"
#include "xvd-dispatch-table.h"
#include "xvd-dispatch.h"
#include "xvd-lane.h"
#include "xvd-manager.h"
#include "xvd-polkit.h"
#include "xvd-workers.h"

/* The polkit questions one call may need before it runs: its @acl and its @aclflag action. */
#define CALL_CHECKS_MAX 2u
/* Return structures up to this size are built on the stack of call_run_full() (all of the
 * protocol's are: their strings and arrays are pointers). */
#define CALL_RET_INLINE_MAX 256u

typedef enum CallStage {
        CALL_AUTHORIZE,                 /* connection-level check (AUTH_POLKIT), then per-call ACLs */
        CALL_RUN,                       /* the handler, inline or on a worker */
        CALL_RUNNING,                   /* on a worker */
        CALL_POST_CHECK,                /* the domain came back in the reply: check it before replying */
        CALL_DELIVER,
} CallStage;

/* One decoded call, run inline or on a worker. */
typedef struct Call {
        WorkItem item;                  /* first: the worker pool hands this pointer back */
        Manager *manager;
        Client *client;                 /* a reference */
        const ProcRow *row;
        xvp_message_header header;
        void *args;
        Message *reply;                 /* the encoded reply or error, built where the handler ran */

        /* Authorization, loop thread only. */
        CallStage stage;
        ClientWaiter waiter;            /* registered while a polkit query is pending */
        PolkitQuery *query;
        bool counted;                   /* counts in the client's in-flight calls */
        bool connect_check;             /* AUTH_POLKIT: the connection-level question comes first */
        const char *checks[CALL_CHECKS_MAX];
        size_t n_checks, next_check;
        char *acl_name;                 /* the domain of the pre-checks, if known */
        XvUuid acl_uuid;
        bool acl_has_uuid;
        bool post_check;                /* PROC_DOMAIN_RET: check the returned domain */
        char *ret_name;                 /* ... copied from the reply by call_run() */
        XvUuid ret_uuid;
        bool have_ret_dom;

        /* The decoded arguments (@args while set), in the call's own allocation. */
        max_align_t args_storage[];
} Call;

static Call *call_free(Call *call) {
        if (!call)
                return NULL;
        if (call->args)
                xdr_free(call->row->args_filter, call->args);
        message_free(call->reply);
        if (call->query) {
                polkit_query_cancel(call->query);
                client_remove_waiter(call->client, &call->waiter);
        }
        if (call->counted)
                client_in_flight_dec(call->client);
        free(call->acl_name);
        free(call->ret_name);
        client_unref(call->client);
        return mfree(call);
}
DEFINE_CLEANUP_FUNC(Call *, call_free);

/* Builds the error reply for @call_header; NULL only on OOM (the caller drops the client). */
static Message *error_reply(const xvp_message_header *call_header, const XvError *e, int r) {
        Message *reply = NULL;

        if (message_new_error_reply(call_header, e, r, &reply) < 0)
                return NULL;
        return reply;
}

static void send_error(Client *c, const xvp_message_header *h, const XvError *e, int r) {
        Message *reply = error_reply(h, e, r);

        if (!reply) {
                client_disconnect(c);
                return;
        }
        (void) client_send(c, reply);
}

/* The audit line for a state-changing call that succeeded: once, with who asked and for which
 * domain. The domain comes from the arguments or, for creations, from the reply. */
static void audit_call(const Call *call, const void *ret) {
        const xvp_nonnull_domain *dom = NULL;
        char proc_field[96], pid_field[32], uid_field[32], dom_field[256], uuid_field[64];
        char uuid[UUID_STRING_BUF];
        const char *fields[6] = {};
        size_t n = 0;

        if (call->row->domain == PROC_DOMAIN_ARGS)
                dom = call->args;
        else if (call->row->domain == PROC_DOMAIN_RET && ret)
                dom = ret;

        (void) snprintf(proc_field, sizeof(proc_field), "XV_PROC=%s", call->row->name);
        (void) snprintf(pid_field, sizeof(pid_field), "XV_CLIENT_PID=%d", (int) client_get_pid(call->client));
        (void) snprintf(uid_field, sizeof(uid_field), "XV_CLIENT_UID=%u", (unsigned) client_get_uid(call->client));
        fields[n++] = proc_field;
        fields[n++] = pid_field;
        fields[n++] = uid_field;
        if (dom && dom->name) {
                XvUuid u;

                memcpy(u.bytes, dom->uuid, sizeof(u.bytes));
                (void) snprintf(dom_field, sizeof(dom_field), "XV_DOMAIN=%s", dom->name);
                (void) snprintf(uuid_field, sizeof(uuid_field), "XV_DOMAIN_UUID=%s", uuid_format(&u, uuid));
                fields[n++] = dom_field;
                fields[n++] = uuid_field;
        }
        fields[n] = NULL;

        log_struct(LOG_INFO, fields, "%s%s%s by pid %d uid %u", call->row->name,
                   dom && dom->name ? " of domain " : "", dom && dom->name ? dom->name : "",
                   (int) client_get_pid(call->client), (unsigned) client_get_uid(call->client));
}

/* Runs the handler and encodes its outcome into call->reply. Worker or loop thread: touches
 * only the call, the handler's arguments and the (thread-safe) client accessors. With
 * @first_try (the loop thread, blocking forbidden), a handler that answers -EWOULDBLOCK leaves
 * the call untouched, and -EWOULDBLOCK is returned: the caller hands it to a worker. */
static int call_run_full(Call *call, bool first_try) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        union {
                max_align_t align;
                uint8_t bytes[CALL_RET_INLINE_MAX];
        } ret_inline;
        _cleanup_free_ void *ret_heap = NULL;
        const ProcRow *row = call->row;
        void *ret;
        int r;

        if (row->ret_size <= sizeof(ret_inline)) {
                memset(&ret_inline, 0, sizeof(ret_inline));
                ret = &ret_inline;
        } else {
                ret = ret_heap = calloc(1, row->ret_size);
                if (!ret)
                        return -ENOMEM;
        }

        r = row->handler(call->manager, call->client, call->args, ret, &error);
        if (first_try && r == -EWOULDBLOCK) {
                if (row->ret_size > 0)
                        xdr_free(row->ret_filter, ret);
                return r;
        }
        if (r >= 0) {
                _cleanup_(xv_error_done) XvError encode_error = XV_ERROR_NULL;

                if (!(row->flags & PROC_READONLY_OK))
                        audit_call(call, ret);

                if (call->post_check && row->domain == PROC_DOMAIN_RET) {
                        const xvp_nonnull_domain *dom = ret;

                        call->ret_name = strdup(strempty(dom->name));
                        memcpy(call->ret_uuid.bytes, dom->uuid, sizeof(call->ret_uuid.bytes));
                        call->have_ret_dom = call->ret_name;
                }

                r = message_new_reply(&call->header, row->ret_filter, ret, &call->reply, &encode_error);
                if (r < 0) {
                        log_warning("Reply to %s does not encode: %s", row->name,
                                    strempty(encode_error.message));
                        call->reply = error_reply(&call->header, &encode_error, r);
                }
        } else {
                log_debug("%s failed for client %s: %s", row->name, client_get_description(call->client),
                          strempty(error.message));
                call->reply = error_reply(&call->header, &error, r);
        }

        if (row->ret_size > 0)
                xdr_free(row->ret_filter, ret);
        if (row->args_size > 0)
                xdr_free(row->args_filter, call->args);
        call->args = NULL;
        return 0;
}

static void call_run(Call *call) {
        (void) call_run_full(call, /* first_try= */ false);
}

/* Read-only calls that a backend honouring xv_call_may_block() answers from what it has at hand
 * (hypercalls, xenstore, its caches): tried on the loop thread first, which saves the worker
 * round trip (a queue, a wakeup of the worker, an eventfd write and a wakeup of the loop) and
 * keeps them from queueing behind calls that wait for XenD. */
static bool proc_try_inline(int proc) {
        switch (proc) {
        case XVP_PROC_DOMAIN_LOOKUP_BY_ID:
        case XVP_PROC_DOMAIN_LOOKUP_BY_NAME:
        case XVP_PROC_DOMAIN_LOOKUP_BY_UUID:
        case XVP_PROC_DOMAIN_GET_INFO:
        case XVP_PROC_DOMAIN_GET_STATE:
        case XVP_PROC_DOMAIN_IS_ACTIVE:
        case XVP_PROC_DOMAIN_IS_PERSISTENT:
        case XVP_PROC_DOMAIN_GET_AUTOSTART:
        case XVP_PROC_DOMAIN_GET_XML_DESC:
        case XVP_PROC_CONNECT_LIST_ALL_DOMAINS:
        case XVP_PROC_CONNECT_LIST_DOMAINS:
        case XVP_PROC_CONNECT_NUM_OF_DOMAINS:
        case XVP_PROC_CONNECT_LIST_DEFINED_DOMAINS:
        case XVP_PROC_CONNECT_NUM_OF_DEFINED_DOMAINS:
                return true;
        default:
                return false;
        }
}

/* The first try on the loop thread: true when the call ran (its reply is built). Per-call ACLs
 * keep a call off the loop: its listing filter may ask polkit synchronously. */
static bool call_run_inline(Call *call) {
        bool old;
        int r;

        if (!xv_call_nonblocking_supported() || !proc_try_inline(call->row->number) ||
            client_acl_applies(call->client))
                return false;

        old = xv_call_set_may_block(false);
        r = call_run_full(call, /* first_try= */ true);
        (void) xv_call_set_may_block(old);
        if (r == -EWOULDBLOCK)
                return false;
        /* -ENOMEM before the handler ran: no reply; call_deliver() drops the client. */
        return true;
}

static void call_deliver(Call *call) {
        if (!client_is_connected(call->client))
                return;         /* the client left while its call ran: the reply has nobody to go to */
        if (!call->reply) {
                client_disconnect(call->client);        /* OOM: not even an error fits */
                return;
        }
        (void) client_send(call->client, TAKE_PTR(call->reply));
}

static void call_step(Call *call);

static void call_item_run(WorkItem *w) {
        call_run((Call *) w);
}

/* On the loop of the call's client (its lane). */
static void call_item_complete(WorkItem *w) {
        Call *call = (Call *) w;
        Lane *lane = client_get_lane(call->client);

        client_in_flight_dec(call->client);
        call->stage = CALL_POST_CHECK;
        call_step(call);
        lane_check_idle(lane);
}

/* Answers the call with @e instead of running it (or instead of its reply) and frees it. */
static void call_fail(Call *call, const XvError *e, int r) {
        _cleanup_(call_freep) _unused_ Call *owned = call;

        message_free(call->reply);
        call->reply = error_reply(&call->header, e, r);
        call_deliver(call);
}

static void call_waiter_cancel(ClientWaiter *w) {
        Call *call = (Call *) ((char *) w - offsetof(Call, waiter));

        /* The client is going away: the query is cancelled and the call dropped unanswered. */
        polkit_query_cancel(call->query);
        call->query = NULL;
        call_free(call);
}

static void on_call_polkit(PolkitResult result, const XvError *cause, void *userdata) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        Call *call = userdata;
        int r;

        call->query = NULL;
        client_remove_waiter(call->client, &call->waiter);
        if (call->counted) {
                client_in_flight_dec(call->client);
                call->counted = false;
        }

        if (call->connect_check) {
                if (result != POLKIT_ALLOWED) {
                        log_debug("Polkit authentication of %s failed: %s", client_get_description(call->client),
                                  strempty(cause->message));
                        /* polkit's own refusal (domain polkit, codes 45/94) goes to the client as is. */
                        call_fail(call, cause, -EACCES);
                        return;
                }
                log_debug("Client %s authenticated by polkit.", client_get_description(call->client));
                client_set_authenticated(call->client);
                call->connect_check = false;
        } else if (call->stage == CALL_AUTHORIZE) {
                const char *action = call->checks[call->next_check];

                if (result != POLKIT_ALLOWED) {
                        r = client_acl_error(&error, result, cause, action, call->acl_name);
                        log_debug("%s refused to %s: %s", call->row->name, client_get_description(call->client),
                                  strempty(error.message));
                        call_fail(call, &error, r);
                        return;
                }
                client_acl_remember(call->client, action, call->acl_name,
                                    call->acl_has_uuid ? &call->acl_uuid : NULL);
                call->next_check++;
        } else {
                /* CALL_POST_CHECK: a lookup's answer names a domain the caller may not see. */
                if (result != POLKIT_ALLOWED) {
                        r = client_acl_error(&error, result, cause, call->row->polkit_action, call->ret_name);
                        call_fail(call, &error, r);
                        return;
                }
                client_acl_remember(call->client, call->row->polkit_action, call->ret_name, &call->ret_uuid);
                call->stage = CALL_DELIVER;
        }
        call_step(call);
}

/* Sends one CheckAuthorization for @call; the call waits (cancellable by its client) for the answer.
 * Returns 0 when the question is out, or fails the call and returns negative. */
static int call_ask(Call *call, const char *action, const char *name, const XvUuid *uuid) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        char uuid_buf[UUID_STRING_BUF];
        const char *details[5];
        PolkitSubject subject;
        int r;

        r = client_get_subject(call->client, &subject, &error);
        if (r >= 0) {
                client_acl_details(name, uuid, uuid_buf, details);
                r = polkit_check_async(manager_get_polkit(call->manager), &subject, action, details, on_call_polkit,
                                       call, &call->query, &error);
        }
        if (r < 0) {
                _cleanup_(xv_error_done) XvError acl_error = XV_ERROR_NULL;

                if (call->connect_check) {
                        call_fail(call, &error, r);
                        return r;
                }
                r = client_acl_error(&acl_error, POLKIT_UNAVAILABLE, &error, action, name);
                call_fail(call, &acl_error, r);
                return r;
        }
        client_add_waiter(call->client, &call->waiter);
        if (!call->counted) {
                client_in_flight_inc(call->client);
                call->counted = true;
        }
        return 0;
}

/* Drives a call through its stages until it waits (polkit, a worker) or is answered. Takes
 * ownership of @call. */
static void call_step(Call *call) {
        for (;;) {
                if (!client_is_connected(call->client)) {
                        call_free(call);
                        return;
                }

                switch (call->stage) {
                case CALL_AUTHORIZE:
                        if (call->connect_check) {
                                (void) call_ask(call, client_polkit_connect_action(call->client), NULL, NULL);
                                return;
                        }
                        while (call->next_check < call->n_checks &&
                               client_acl_cached(call->client, call->checks[call->next_check], call->acl_name,
                                                 call->acl_has_uuid ? &call->acl_uuid : NULL))
                                call->next_check++;
                        if (call->next_check < call->n_checks) {
                                (void) call_ask(call, call->checks[call->next_check], call->acl_name,
                                                call->acl_has_uuid ? &call->acl_uuid : NULL);
                                return;
                        }
                        call->stage = CALL_RUN;
                        break;

                case CALL_RUN:
                        call->stage = CALL_POST_CHECK;
                        if (!(call->row->flags & PROC_BLOCKING) || !manager_get_workers(call->manager)) {
                                call_run(call);
                                break;
                        }
                        if (call_run_inline(call))
                                break;
                        call->stage = CALL_RUNNING;
                        call->item.run = call_item_run;
                        call->item.complete = call_item_complete;
                        call->item.done = lane_get_done(client_get_lane(call->client));
                        client_in_flight_inc(call->client);
                        if (workers_submit(manager_get_workers(call->manager), &call->item) < 0) {
                                client_in_flight_dec(call->client);
                                client_disconnect(call->client);
                                call_free(call);
                        }
                        return;

                case CALL_RUNNING:
                        abort();        /* a worker owns the call: nothing steps it meanwhile */

                case CALL_POST_CHECK:
                        call->stage = CALL_DELIVER;
                        if (call->have_ret_dom &&
                            !client_acl_cached(call->client, call->row->polkit_action, call->ret_name, &call->ret_uuid)) {
                                call->stage = CALL_POST_CHECK;
                                (void) call_ask(call, call->row->polkit_action, call->ret_name, &call->ret_uuid);
                                return;
                        }
                        break;

                case CALL_DELIVER:
                        call_deliver(call);
                        call_free(call);
                        return;
                }
        }
}

/* Procedures a client may call before CONNECT_OPEN (virsh asks feature 10 first). */
static bool allowed_before_open(int proc) {
        return proc == XVP_PROC_AUTH_LIST || proc == XVP_PROC_AUTH_POLKIT ||
                proc == XVP_PROC_CONNECT_SUPPORTS_FEATURE || proc == XVP_PROC_CONNECT_OPEN ||
                proc == XVP_PROC_CONNECT_CLOSE;
}

/* Procedures a client may call before it is authenticated (libvirtd's list). */
static bool allowed_before_auth(int proc) {
        return proc == XVP_PROC_AUTH_LIST || proc == XVP_PROC_AUTH_POLKIT ||
                proc == XVP_PROC_CONNECT_SUPPORTS_FEATURE || proc == XVP_PROC_CONNECT_CLOSE;
}

/* The domain a define or create-from-XML call is about, from its XML: a rule on names must see
 * the name before the domain exists. XML that does not parse leaves the check without details
 * (a rule that needs them refuses), and the handler then reports the XML error. */
static const char *call_xml_of(const Call *call) {
        switch (call->row->number) {
        case XVP_PROC_DOMAIN_DEFINE_XML:
                return ((const xvp_domain_define_xml_args *) call->args)->xml;
        case XVP_PROC_DOMAIN_DEFINE_XML_FLAGS:
                return ((const xvp_domain_define_xml_flags_args *) call->args)->xml;
        case XVP_PROC_DOMAIN_CREATE_XML:
                return ((const xvp_domain_create_xml_args *) call->args)->xml_desc;
        default:
                return NULL;
        }
}

/* Works out which polkit questions the call needs. 0, or -ENOMEM. */
static int call_plan_acl(Call *call) {
        const ProcRow *row = call->row;
        const char *xml;

        if (!client_acl_applies(call->client) || !row->polkit_action)
                return 0;

        call->checks[call->n_checks++] = row->polkit_action;
        if (row->aclflag_mask && row->args_flags && (row->args_flags(call->args) & row->aclflag_mask))
                call->checks[call->n_checks++] = row->aclflag_action;

        xml = call_xml_of(call);
        if (xml) {
                _cleanup_(domain_def_freep) DomainDef *def = NULL;

                if (domain_def_parse_xml(xml, &def, NULL) >= 0 && def->name) {
                        call->acl_name = strdup(def->name);
                        if (!call->acl_name)
                                return -ENOMEM;
                        call->acl_uuid = def->uuid;
                        call->acl_has_uuid = def->has_uuid;
                }
        } else if (row->domain == PROC_DOMAIN_ARGS) {
                const xvp_nonnull_domain *dom = call->args;

                call->acl_name = strdup(strempty(dom->name));
                if (!call->acl_name)
                        return -ENOMEM;
                memcpy(call->acl_uuid.bytes, dom->uuid, sizeof(call->acl_uuid.bytes));
                call->acl_has_uuid = true;
        } else if (row->domain == PROC_DOMAIN_RET) {
                /* A lookup: the domain is only known from the answer, checked before it goes out. */
                call->post_check = true;
                call->n_checks = 0;
        }
        return 0;
}

static void dispatch_call(Manager *m, Client *c, Message *msg) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_(call_freep) Call *call = NULL;
        const xvp_message_header *h = &msg->header;
        const Config *config = manager_get_config(m);
        const ProcRow *row;
        int r;

        if (client_is_refused(c)) {
                r = xv_error_setf(&error, XVP_ERR_RPC, "too many active clients (limit %u), retry later",
                                  CONFIG_GET(config, max_clients));
                error.domain = XVP_FROM_RPC;
                send_error(c, h, &error, r);
                client_close_after_flush(c);
                return;
        }

        row = dispatch_table_lookup(h->proc);
        if (!row || !row->handler) {
                /* Code 3, not libvirtd's 39: only NO_SUPPORT makes the clients fall back. */
                r = xv_error_setf(&error, XVP_ERR_NO_SUPPORT, "unknown procedure %d", h->proc);
                send_error(c, h, &error, r);
                return;
        }

        if (client_is_read_only(c) && !(row->flags & PROC_READONLY_OK)) {
                r = xv_error_setf(&error, XVP_ERR_OPERATION_DENIED, "read only access prevents %s", row->api_name);
                send_error(c, h, &error, r);
                return;
        }

        if (!client_is_authenticated(c) && !allowed_before_auth(h->proc)) {
                r = xv_error_setf(&error, XVP_ERR_RPC, "authentication required");
                error.domain = XVP_FROM_RPC;
                send_error(c, h, &error, r);
                return;
        }

        if (!client_is_open(c) && !allowed_before_open(h->proc)) {
                r = xv_error_setf(&error, XVP_ERR_INTERNAL, "hypervisor connection not open");
                error.domain = XVP_FROM_RPC;
                send_error(c, h, &error, r);
                return;
        }

        /* Calls that may wait for polkit count like calls on workers. */
        if ((row->flags & PROC_BLOCKING || client_acl_applies(c) || h->proc == XVP_PROC_AUTH_POLKIT) &&
            client_get_in_flight(c) >= CONFIG_GET(config, max_requests_per_client)) {
                r = xv_error_setf(&error, XVP_ERR_RPC, "too many requests in flight on this connection (limit %u)",
                                  CONFIG_GET(config, max_requests_per_client));
                error.domain = XVP_FROM_RPC;
                send_error(c, h, &error, r);
                return;
        }

        /* The call and room for its arguments: one allocation. */
        call = calloc(1, sizeof(Call) + MAX(row->args_size, (size_t) 1));
        if (!call) {
                client_disconnect(c);
                return;
        }
        call->manager = m;
        call->client = client_ref(c);
        call->row = row;
        call->header = *h;
        call->waiter.cancel = call_waiter_cancel;
        call->args = call->args_storage;

        r = message_decode_payload(msg, row->args_size > 0 ? row->args_filter : NULL, call->args, &error);
        if (r < 0) {
                error.domain = XVP_FROM_RPC;
                call->args = NULL;      /* what was decoded is freed already */
                send_error(c, h, &error, r);
                return;
        }

        /* libvirt refuses the secure flags on read-only connections whatever the policy says. */
        if (row->aclflag_mask && row->args_flags && (row->args_flags(call->args) & row->aclflag_mask) &&
            client_is_read_only(c)) {
                /* The flag by libvirt's name: XVP_DOMAIN_XML_SECURE is VIR_DOMAIN_XML_SECURE. */
                r = xv_error_setf(&error, XVP_ERR_OPERATION_DENIED, "read only access prevents %s with flag VIR_%s",
                                  row->api_name, row->aclflag_name + (strncmp(row->aclflag_name, "XVP_", 4) == 0 ? 4 : 0));
                send_error(c, h, &error, r);
                return;
        }

        /* AUTH_POLKIT from a client that is not authenticated yet: polkit decides first. */
        call->connect_check = h->proc == XVP_PROC_AUTH_POLKIT && !client_is_authenticated(c);

        if (call_plan_acl(call) < 0) {
                client_disconnect(c);
                return;
        }

        call->stage = CALL_AUTHORIZE;
        call_step(TAKE_PTR(call));
}

void dispatch_frame(Manager *m, Client *c, Message *msg) {
        _cleanup_(message_freep) _unused_ Message *owned = msg;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        int kind;

        assert(m);
        assert(c);
        assert(msg);

        kind = message_classify(&msg->header, &error);
        if (kind < 0) {
                /* Wrong program, version, type or status: answer, and keep the connection. */
                send_error(c, &msg->header, &error, kind);
                return;
        }

        switch (kind) {
        case MESSAGE_KIND_KEEPALIVE_PING: {
                Message *pong = NULL;

                if (message_new_keepalive(XVP_KEEPALIVE_PROC_PONG, &pong) < 0) {
                        client_disconnect(c);
                        return;
                }
                (void) client_send(c, pong);
                return;
        }
        case MESSAGE_KIND_KEEPALIVE_PONG:
        case MESSAGE_KIND_IGNORE:
                return;         /* receiving anything already counts as a sign of life */
        case MESSAGE_KIND_CALL:
                dispatch_call(m, c, msg);
                return;
        default:
                return;
        }
}
