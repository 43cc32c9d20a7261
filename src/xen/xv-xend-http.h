/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The XenD HTTP transport: one HTTP/1.1 request per new connection (XenD's model: it closes or
 * ignores keep-alive), over XenD's UNIX socket or, only when explicitly configured, plain TCP
 * (no authentication, no encryption: such a connection is flagged insecure).
 *
 * Replies are read into a growing buffer bounded by XEND_REPLY_SIZE_MAX; a reply past the bound
 * is an error, never silently truncated (libvirt's old 4 KiB buffer cut big domains short). The
 * body is delimited by Content-Length, chunked transfer encoding, or the end of the connection.
 * Every wait is bounded by the configured timeout (connect and the whole request together).
 *
 * Errors carry domain XVP_FROM_XEND (return value in brackets):
 *   connect() failure                  XVP_ERR_OPERATION_FAILED "Failed to connect to XenD at '...': ..."
 *                                      [-ECONNREFUSED; -EACCES/-EPERM kept as they are]
 *   deadline passed                    XVP_ERR_OPERATION_TIMEOUT [-ETIMEDOUT]
 *   malformed HTTP, EOF inside a reply XVP_ERR_HTTP, the message says what was wrong [-EPROTO]
 *   reply larger than the bound        XVP_ERR_HTTP [-E2BIG]
 *   send()/recv() failure              XVP_ERR_OPERATION_FAILED / XVP_ERR_HTTP [-errno]
 * and, from xend_reply_check() (xend_http_call() runs it):
 *   404 on /xend/domain/...            XVP_ERR_NO_DOMAIN [-ENOENT]
 *   other status >= 300                XVP_ERR_OPERATION_FAILED with XenD's own message [-EIO]
 *   2xx whose body is (xend.err ...)   XVP_ERR_OPERATION_FAILED with that text [-EIO]
 *   202 whose body says "failed"       XVP_ERR_OPERATION_FAILED [-EIO] (not for a (domain ...) body)
 *
 * Thread safety: an XendHttp is immutable after xend_http_new(); any number of threads may run
 * requests on it at once. Requests block the calling thread (at most timeout_usec).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xv-error.h"
#include "xv-macro.h"
#include "xv-strbuf.h"

#define XEND_SOCKET_DEFAULT "/var/lib/xend/xend-socket"
#define XEND_TIMEOUT_DEFAULT_USEC (30ULL * 1000 * 1000)
#define XEND_REPLY_SIZE_MAX (16U * 1024 * 1024)         /* body bytes accepted in one reply */
#define XEND_HEADER_LINE_MAX 8192U                      /* bytes of the status line or one header */
#define XEND_HEADERS_MAX 64U                            /* header lines in one reply (trailers included) */
#define XEND_REQUEST_SIZE_MAX (4U * 1024 * 1024)        /* bytes of a request we are willing to send */
#define XEND_PATH_MAX 4096U                             /* bytes of a request path */

typedef struct XendHttp {
        char *socket_path;      /* NULL when TCP is used */
        char *tcp_host;         /* only when explicitly configured */
        uint16_t tcp_port;
        uint64_t timeout_usec;  /* connect + whole request; 0 means XEND_TIMEOUT_DEFAULT_USEC */
} XendHttp;

/* Exactly one transport: @tcp_hostport ("host:port", "host" = port 8000, "[v6addr]:port") when it
 * is not NULL, else @socket_path (NULL = XEND_SOCKET_DEFAULT). -EINVAL for a bad host:port. */
int xend_http_new(const char *socket_path, const char *tcp_hostport, uint64_t timeout_usec, XendHttp **ret);
XendHttp *xend_http_free(XendHttp *x);
DEFINE_CLEANUP_FUNC(XendHttp *, xend_http_free);

/* TCP is plaintext and unauthenticated: whoever can reach the port controls the host. */
static inline bool xend_http_is_insecure(const XendHttp *x) {
        return x && x->tcp_host;
}
/* "/path/to/socket" or "host:port", for messages: a new string, or NULL on OOM. */
char *xend_http_describe(const XendHttp *x);

typedef struct XendReply {
        unsigned status;        /* 100..999 */
        char *body;             /* NUL-terminated for convenience; may contain NUL bytes itself */
        size_t body_size;
} XendReply;

XendReply *xend_reply_free(XendReply *r);
DEFINE_CLEANUP_FUNC(XendReply *, xend_reply_free);

/* Sends one request on a new connection and reads the whole reply. @form_body is the
 * application/x-www-form-urlencoded body of a POST (NULL for GET). Succeeds for any status code:
 * only transport failures are errors here (see xend_reply_check()). */
int xend_http_request(const XendHttp *x, const char *method, const char *path, const char *form_body,
                      XendReply **ret, XvError *error);

/* Applies XenD's error conventions to a reply of @method on @path: 0 when it is a success. */
int xend_reply_check(const XendReply *reply, const char *method, const char *path, XvError *error);

/* xend_http_request() + xend_reply_check(): returns the reply only when it is a success. */
int xend_http_call(const XendHttp *x, const char *method, const char *path, const char *form_body,
                   XendReply **ret, XvError *error);

/* XenD's own error text in a reply body: the text of an (xend.err 'text') expression, else the
 * last non-empty line of a Python traceback ("XendError: ..."), else the first line of the body;
 * control characters replaced, bounded in length. NULL when the body is empty. Returns 0 or
 * -ENOMEM. */
int xend_http_error_text(const char *body, size_t size, char **ret);

/* Appends "key=value", preceded by '&' unless @b is empty, with both URL-encoded: a name holding
 * '&', '=', '%', '+' or a newline cannot add parameters (libvirt's old code did not encode). */
void xend_http_form_add(StrBuf *b, const char *key, const char *value);
void xend_http_form_addf(StrBuf *b, const char *key, const char *format, ...) _printf_(3, 4);

/* Appends @segment percent-encoded as one path segment (everything but unreserved characters).
 * The caller must refuse segments that are empty, "." or "..", or hold '/' (XenD decodes the
 * path before splitting it, so an encoded '/' would still split): xend_http_segment_valid(). */
void xend_http_path_append(StrBuf *b, const char *segment);
bool xend_http_segment_valid(const char *segment);

/*
 * The incremental reply parser that xend_http_request() feeds, exposed for the unit test and the
 * fuzzer. Feed it bytes as they arrive; xend_http_parser_feed() returns 0 while it needs more,
 * 1 when the reply is complete (trailing bytes are ignored: the connection is closed next), or a
 * negative errno with @error set. At EOF call xend_http_parser_finish(): it completes a body
 * delimited by the end of the connection and fails for a reply cut short.
 */
typedef struct XendHttpParser XendHttpParser;

int xend_http_parser_new(size_t body_max, XendHttpParser **ret);   /* 0 = XEND_REPLY_SIZE_MAX */
XendHttpParser *xend_http_parser_free(XendHttpParser *p);
DEFINE_CLEANUP_FUNC(XendHttpParser *, xend_http_parser_free);
int xend_http_parser_feed(XendHttpParser *p, const char *data, size_t size, XvError *error);
int xend_http_parser_finish(XendHttpParser *p, XvError *error);
/* Hands out the finished reply; -EBUSY before the parser reported completion. */
int xend_http_parser_steal(XendHttpParser *p, XendReply **ret);

/* The whole parser on a buffer that holds a complete recorded reply (as if followed by EOF). */
int xend_http_parse_reply(const char *data, size_t size, XendReply **ret, XvError *error);
