/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared between the connection side (xsim-xend.c) and the operations (xsim-xend-ops.c). */

#include <systemd/sd-event.h>

#include "xsim-http.h"
#include "xsim-xend.h"
#include "xv-strbuf.h"

typedef struct XendPending XendPending;

struct XsimXend {
        XsimHost *host;
        char *socket_path;
        int listen_fd;
        sd_event_source *listen_source;
        struct XendConn *conns;
        unsigned n_conns;
        XendPending *pending;           /* guests about to act on op=shutdown */
        StrBuf log;                     /* what GET /xend/node/log shows */
        bool dmesg_cleared;
};

typedef struct XendReply {
        int status;
        const char *content_type;       /* static; NULL = text/plain */
        char *body;                     /* owned, NUL-terminated */
        bool close;                     /* close the connection after this reply */
} XendReply;

void xend_reply_done(XendReply *rep);

/* Answers one request; only fails with -ENOMEM (every other failure is an HTTP answer). */
int xend_dispatch(XsimXend *x, const HttpRequest *req, XendReply *rep);

void xend_pending_free_all(XsimXend *x);
void xend_log(XsimXend *x, const char *format, ...) _printf_(2, 3);
