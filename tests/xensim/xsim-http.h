/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The HTTP/1.1 subset XenD's clients speak: a request line, headers, and a body of
 * Content-Length bytes holding application/x-www-form-urlencoded fields. Parsing is stateless:
 * the caller hands the bytes received so far and learns whether a complete request is there.
 * Every size is bounded before anything is allocated.
 */

#include <stdbool.h>
#include <stddef.h>

#include "xv-macro.h"

#define HTTP_REQUEST_LINE_MAX   8192                    /* "POST /xend/domain/x?op=... HTTP/1.1" */
#define HTTP_HEADER_SIZE_MAX    (16 * 1024)             /* request line + all headers + blank line */
#define HTTP_HEADERS_MAX        64                      /* header lines */
#define HTTP_BODY_MAX           (2 * 1024 * 1024)       /* Content-Length; a config SXP is at most 1 MiB */
#define HTTP_FIELDS_MAX         128                     /* key=value pairs in a query or a form body */

typedef struct HttpRequest {
        char *method;
        char *path;             /* URL-decoded, without the query */
        char **query;           /* decoded key, value, key, value, ... (strv) */
        char **form;            /* the same for a form body */
        bool keep_alive;        /* the client asked for "Connection: keep-alive" */
        size_t size;            /* bytes of the buffer this request used */
} HttpRequest;

HttpRequest *http_request_free(HttpRequest *r);
DEFINE_CLEANUP_FUNC(HttpRequest *, http_request_free);

/* What a parse attempt found. */
typedef enum HttpParseResult {
        HTTP_PARSE_INCOMPLETE,          /* need more bytes */
        HTTP_PARSE_CONTINUE,            /* headers complete, body missing, client expects "100 Continue" */
        HTTP_PARSE_DONE,                /* *ret holds the request */
        HTTP_PARSE_ERROR,               /* *ret_status holds the HTTP status to answer with */
} HttpParseResult;

/* Parses the request at the start of @buf. Returns a HttpParseResult, or -ENOMEM. On
 * HTTP_PARSE_ERROR, *ret_status is 400, 411, 413, 414, 415, 431, 501 or 505. */
int http_request_parse(const char *buf, size_t size, HttpRequest **ret, int *ret_status);

/* Decodes %XX escapes and (when @plus_is_space) '+' into a new string; -EINVAL on a bad escape
 * or an embedded NUL. */
int http_url_decode(const char *s, size_t n, bool plus_is_space, char **ret);

/* Parses "a=1&b=2" into a strv of decoded keys and values. */
int http_form_parse(const char *s, size_t n, char ***ret);

/* The value of the first field @key in a key/value strv, or NULL. */
const char *http_fields_get(char * const *fields, const char *key);

/* The value of @key in the form body, else in the query string (XenD merged both). */
const char *http_request_arg(const HttpRequest *r, const char *key);

const char *http_status_reason(int status);

/* Formats a complete response with Content-Length. */
int http_response_format(int status, const char *content_type, const char *body, size_t body_size,
                         bool keep_alive, char **ret, size_t *ret_size);
