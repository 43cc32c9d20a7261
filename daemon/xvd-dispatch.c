/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xv-alloc.h"
#include "xv-log.h"
#include "xv-uuid.h"
#include "xvd-client.h"
#include "xvd-config.h"
#include "xvd-dispatch-table.h"
#include "xvd-dispatch.h"
#include "xvd-manager.h"
#include "xvd-workers.h"

/* One decoded call, run inline or on a worker. */
typedef struct Call {
        WorkItem item;                  /* first: the worker pool hands this pointer back */
        Manager *manager;
        Client *client;                 /* a reference */
        const ProcRow *row;
        xvp_message_header header;
        void *args;
        Message *reply;                 /* the encoded reply or error, built where the handler ran */
} Call;

static Call *call_free(Call *call) {
        if (!call)
                return NULL;
        if (call->args) {
                xdr_free(call->row->args_filter, call->args);
                free(call->args);
        }
        message_free(call->reply);
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
 * only the call, the handler's arguments and the (thread-safe) client accessors. */
static void call_run(Call *call) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_free_ void *ret = NULL;
        const ProcRow *row = call->row;
        int r;

        ret = calloc(1, MAX(row->ret_size, (size_t) 1));
        if (!ret)
                return;

        r = row->handler(call->manager, call->client, call->args, ret, &error);
        if (r >= 0) {
                _cleanup_(xv_error_done) XvError encode_error = XV_ERROR_NULL;

                if (!(row->flags & PROC_READONLY_OK))
                        audit_call(call, ret);

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
        if (row->args_size > 0) {
                xdr_free(row->args_filter, call->args);
                call->args = mfree(call->args);
        } else
                call->args = mfree(call->args);
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

static void call_item_run(WorkItem *w) {
        call_run((Call *) w);
}

static void call_item_complete(WorkItem *w) {
        _cleanup_(call_freep) Call *call = (Call *) w;

        client_in_flight_dec(call->client);
        call_deliver(call);
        manager_check_idle(call->manager);
}

/* Procedures a client may call before CONNECT_OPEN (virsh asks feature 10 first). */
static bool allowed_before_open(int proc) {
        return proc == XVP_PROC_AUTH_LIST || proc == XVP_PROC_AUTH_POLKIT ||
                proc == XVP_PROC_CONNECT_SUPPORTS_FEATURE || proc == XVP_PROC_CONNECT_OPEN ||
                proc == XVP_PROC_CONNECT_CLOSE;
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
                                  config->max_clients);
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
                r = xv_error_setf(&error, XVP_ERR_OPERATION_DENIED, "read only access prevents %s", row->name);
                send_error(c, h, &error, r);
                return;
        }

        if (!client_is_open(c) && !allowed_before_open(h->proc)) {
                r = xv_error_setf(&error, XVP_ERR_INTERNAL, "hypervisor connection not open");
                error.domain = XVP_FROM_RPC;
                send_error(c, h, &error, r);
                return;
        }

        if ((row->flags & PROC_BLOCKING) && client_get_in_flight(c) >= config->max_requests_per_client) {
                r = xv_error_setf(&error, XVP_ERR_RPC, "too many requests in flight on this connection (limit %u)",
                                  config->max_requests_per_client);
                error.domain = XVP_FROM_RPC;
                send_error(c, h, &error, r);
                return;
        }

        call = new0(Call, 1);
        if (!call) {
                client_disconnect(c);
                return;
        }
        call->manager = m;
        call->client = client_ref(c);
        call->row = row;
        call->header = *h;
        call->args = calloc(1, MAX(row->args_size, (size_t) 1));
        if (!call->args) {
                client_disconnect(c);
                return;
        }

        r = message_decode_payload(msg, row->args_size > 0 ? row->args_filter : NULL, call->args, &error);
        if (r < 0) {
                error.domain = XVP_FROM_RPC;
                call->args = mfree(call->args);
                send_error(c, h, &error, r);
                return;
        }

        if ((row->flags & PROC_BLOCKING) && manager_get_workers(m)) {
                call->item.run = call_item_run;
                call->item.complete = call_item_complete;
                client_in_flight_inc(c);
                r = workers_submit(manager_get_workers(m), &call->item);
                if (r < 0) {
                        client_in_flight_dec(c);
                        client_disconnect(c);
                        return;
                }
                TAKE_PTR(call);
                return;
        }

        call_run(call);
        call_deliver(call);
}

void dispatch_frame(Manager *m, Client *c, Message *msg) {
        _cleanup_(message_freep) Message *owned = msg;
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
