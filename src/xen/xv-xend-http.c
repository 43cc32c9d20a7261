/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "xv-alloc.h"
#include "xv-log.h"
#include "xv-parse-util.h"
#include "xv-sexpr.h"
#include "xv-time.h"
#include "xv-xend-http.h"

#define XEND_TCP_PORT_DEFAULT 8000
#define XEND_READ_CHUNK (64U * 1024)
#define XEND_INTERIM_REPLIES_MAX 8U     /* "100 Continue" and friends before the real status */
#define XEND_ERROR_TEXT_MAX 1024U       /* bytes of XenD's message quoted in an XvError */
#define XEND_CONNECT_RETRY_USEC (10U * 1000)

_printf_(3, 4)
static int xend_errorf(XvError *error, xvp_error_code code, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = xv_error_setv(error, code, format, ap);
        va_end(ap);
        return xv_error_domain(error, XVP_FROM_XEND, r);
}

/* ---------------------------------------------------------------- configuration */

static int parse_hostport(const char *s, char **ret_host, uint16_t *ret_port) {
        _cleanup_free_ char *host = NULL;
        const char *port = NULL;
        uint32_t p = XEND_TCP_PORT_DEFAULT;
        int r;

        if (isempty(s))
                return -EINVAL;
        if (s[0] == '[') {
                const char *e = strchr(s, ']');

                if (!e || e == s + 1)
                        return -EINVAL;
                host = strndup(s + 1, (size_t) (e - s - 1));
                if (e[1] == ':')
                        port = e + 2;
                else if (e[1] != '\0')
                        return -EINVAL;
        } else {
                const char *c = strrchr(s, ':');

                /* Two colons without brackets: a bare IPv6 address, no port. */
                if (c && strchr(s, ':') == c) {
                        host = strndup(s, (size_t) (c - s));
                        port = c + 1;
                } else
                        host = strdup(s);
        }
        if (!host)
                return -ENOMEM;
        if (isempty(host))
                return -EINVAL;
        if (port) {
                r = safe_atou32(port, &p);
                if (r < 0)
                        return r;
                if (p == 0 || p > 65535)
                        return -ERANGE;
        }
        *ret_host = TAKE_PTR(host);
        *ret_port = (uint16_t) p;
        return 0;
}

int xend_http_new(const char *socket_path, const char *tcp_hostport, uint64_t timeout_usec, XendHttp **ret) {
        _cleanup_(xend_http_freep) XendHttp *x = NULL;
        int r;

        if (!ret)
                return -EINVAL;
        x = new0(XendHttp, 1);
        if (!x)
                return -ENOMEM;
        x->timeout_usec = timeout_usec > 0 ? timeout_usec : XEND_TIMEOUT_DEFAULT_USEC;

        if (tcp_hostport) {
                r = parse_hostport(tcp_hostport, &x->tcp_host, &x->tcp_port);
                if (r < 0)
                        return r;
        } else {
                const char *p = socket_path ?: XEND_SOCKET_DEFAULT;

                if (isempty(p) || strlen(p) >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
                        return -EINVAL;
                x->socket_path = strdup(p);
                if (!x->socket_path)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(x);
        return 0;
}

XendHttp *xend_http_free(XendHttp *x) {
        if (!x)
                return NULL;
        free(x->socket_path);
        free(x->tcp_host);
        return mfree(x);
}

char *xend_http_describe(const XendHttp *x) {
        char *s = NULL;

        if (!x)
                return NULL;
        if (x->socket_path)
                return strdup(x->socket_path);
        if (asprintf(&s, strchr(x->tcp_host, ':') ? "[%s]:%u" : "%s:%u", x->tcp_host, x->tcp_port) < 0)
                return NULL;
        return s;
}

/* ---------------------------------------------------------------- replies */

XendReply *xend_reply_free(XendReply *r) {
        if (!r)
                return NULL;
        free(r->body);
        return mfree(r);
}

/* ---------------------------------------------------------------- the reply parser */

typedef enum ParserState {
        PARSER_STATUS,          /* waiting for the status line */
        PARSER_HEADERS,
        PARSER_BODY_LENGTH,     /* Content-Length bytes to go */
        PARSER_BODY_EOF,        /* everything until the connection closes */
        PARSER_CHUNK_SIZE,
        PARSER_CHUNK_DATA,
        PARSER_CHUNK_END,       /* the CRLF after a chunk's data */
        PARSER_TRAILERS,
        PARSER_DONE,
        PARSER_FAILED,
} ParserState;

struct XendHttpParser {
        ParserState state;
        size_t body_max;
        StrBuf line;            /* the current status/header/chunk-size line, without its terminator */
        StrBuf body;
        unsigned status;
        unsigned n_headers;
        unsigned n_interim;
        bool have_length;
        bool chunked;
        uint64_t content_length;
        uint64_t remaining;     /* of the body (Content-Length) or of the current chunk */
};

int xend_http_parser_new(size_t body_max, XendHttpParser **ret) {
        XendHttpParser *p;

        p = new0(XendHttpParser, 1);
        if (!p)
                return -ENOMEM;
        p->body_max = body_max > 0 ? body_max : XEND_REPLY_SIZE_MAX;
        p->line.limit = XEND_HEADER_LINE_MAX;
        p->body.limit = p->body_max;
        *ret = p;
        return 0;
}

XendHttpParser *xend_http_parser_free(XendHttpParser *p) {
        if (!p)
                return NULL;
        strbuf_done(&p->line);
        strbuf_done(&p->body);
        return mfree(p);
}

static int parser_fail(XendHttpParser *p, XvError *error, int r) {
        p->state = PARSER_FAILED;
        return r;
}

_printf_(3, 4)
static int parser_failf(XendHttpParser *p, XvError *error, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = xv_error_setv(error, XVP_ERR_HTTP, format, ap);
        va_end(ap);
        return parser_fail(p, error, xv_error_domain(error, XVP_FROM_XEND, r));
}

static int parser_too_big(XendHttpParser *p, XvError *error) {
        (void) xend_errorf(error, XVP_ERR_HTTP, "Reply from XenD is larger than %zu bytes", p->body_max);
        return parser_fail(p, error, -E2BIG);
}

/* Whether @s is "HTTP/1.<digit> <3 digits>" followed by the end or a space; stores the status. */
static bool parse_status_line(const char *s, unsigned *ret) {
        unsigned status = 0;

        if (strncmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9' || s[8] != ' ')
                return false;
        s += 9;
        for (unsigned i = 0; i < 3; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                status = status * 10 + (unsigned) (s[i] - '0');
        }
        if (s[3] != '\0' && s[3] != ' ')
                return false;
        if (status < 100)
                return false;
        *ret = status;
        return true;
}

static bool token_eq(const char *a, size_t n, const char *b) {
        return strlen(b) == n && strncasecmp(a, b, n) == 0;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trims blanks at both ends of [*s, *s + *n). */
static void trim(const char **s, size_t *n) {
        while (*n > 0 && (**s == ' ' || **s == '\t')) {
                (*s)++;
                (*n)--;
        }
        while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
                (*n)--;
}

/* Transfer-Encoding: a comma-separated list of codings; only "chunked" (last) and "identity" mean
 * anything to us. Anything else (gzip: we asked for identity) is an error rather than garbage. */
static int parse_transfer_encoding(XendHttpParser *p, const char *v, XvError *error) {
        const char *s = v;

        p->chunked = false;
        for (;;) {
                const char *comma = strchr(s, ',');
                size_t n = comma ? (size_t) (comma - s) : strlen(s);
                const char *t = s;

                trim(&t, &n);
                if (token_eq(t, n, "chunked"))
                        p->chunked = true;
                else if (n == 0 || token_eq(t, n, "identity"))
                        ;
                else
                        return parser_failf(p, error, "Unsupported Transfer-Encoding '%s' from XenD", v);
                if (!comma)
                        break;
                if (p->chunked)         /* chunked must be the last coding */
                        return parser_failf(p, error, "Unsupported Transfer-Encoding '%s' from XenD", v);
                s = comma + 1;
        }
        return 0;
}

static int parse_header(XendHttpParser *p, const char *h, XvError *error) {
        const char *colon = strchr(h, ':'), *v;
        size_t klen, vlen;
        int r;

        if (!colon || colon == h)
                return parser_failf(p, error, "Malformed header line in reply from XenD: '%.64s'", h);
        klen = (size_t) (colon - h);
        for (size_t i = 0; i < klen; i++)
                if (h[i] == ' ' || h[i] == '\t')
                        return parser_failf(p, error, "Malformed header line in reply from XenD: '%.64s'", h);
        v = colon + 1;
        vlen = strlen(v);
        trim(&v, &vlen);

        if (token_eq(h, klen, "Content-Length")) {
                _cleanup_free_ char *t = strndup(v, vlen);
                uint64_t len;

                if (!t)
                        return parser_fail(p, error, -ENOMEM);
                /* safe_atou64 refuses signs, blanks, garbage and overflow, which atoi() accepted. */
                r = safe_atou64(t, &len);
                if (r < 0)
                        return parser_failf(p, error, "Invalid Content-Length '%.32s' in reply from XenD", t);
                if (p->have_length && len != p->content_length)
                        return parser_failf(p, error, "Conflicting Content-Length headers in reply from XenD");
                p->have_length = true;
                p->content_length = len;
        } else if (token_eq(h, klen, "Transfer-Encoding")) {
                _cleanup_free_ char *t = strndup(v, vlen);

                if (!t)
                        return parser_fail(p, error, -ENOMEM);
                r = parse_transfer_encoding(p, t, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The headers are complete: decide how the body is delimited. */
static int parser_start_body(XendHttpParser *p, XvError *error) {
        /* Interim replies (100 Continue) precede the real one; we never ask for them, but accept a
         * few and go on reading. */
        if (p->status < 200) {
                if (++p->n_interim > XEND_INTERIM_REPLIES_MAX)
                        return parser_failf(p, error, "Too many interim replies from XenD");
                p->have_length = p->chunked = false;
                p->state = PARSER_STATUS;
                return 0;
        }
        if (p->status == 204 || p->status == 304) {
                p->state = PARSER_DONE;
                return 1;
        }
        /* RFC 9112 6.3: chunked wins over Content-Length. */
        if (p->chunked) {
                p->state = PARSER_CHUNK_SIZE;
                return 0;
        }
        if (p->have_length) {
                /* Refuse before allocating anything. */
                if (p->content_length > p->body_max)
                        return parser_too_big(p, error);
                p->remaining = p->content_length;
                p->state = p->remaining > 0 ? PARSER_BODY_LENGTH : PARSER_DONE;
                return p->state == PARSER_DONE;
        }
        p->state = PARSER_BODY_EOF;
        return 0;
}

static int parse_chunk_size(XendHttpParser *p, const char *s, XvError *error) {
        uint64_t size = 0;
        size_t i;

        for (i = 0; s[i]; i++) {
                int d;

                if (s[i] >= '0' && s[i] <= '9')
                        d = s[i] - '0';
                else if (s[i] >= 'a' && s[i] <= 'f')
                        d = s[i] - 'a' + 10;
                else if (s[i] >= 'A' && s[i] <= 'F')
                        d = s[i] - 'A' + 10;
                else
                        break;
                if (size > (UINT64_MAX >> 4))
                        return parser_too_big(p, error);
                size = (size << 4) | (uint64_t) d;
        }
        /* Chunk extensions (";name=value") are allowed and ignored; nothing else may follow. */
        if (i == 0 || (s[i] != '\0' && s[i] != ';' && s[i] != ' ' && s[i] != '\t'))
                return parser_failf(p, error, "Invalid chunk size '%.32s' in reply from XenD", s);
        if (size > p->body_max - p->body.len)
                return parser_too_big(p, error);
        p->remaining = size;
        p->state = size > 0 ? PARSER_CHUNK_DATA : PARSER_TRAILERS;
        return 0;
}

/* A complete line of the status/header/chunk states. Returns 1 when the reply is complete. */
static int parser_line(XendHttpParser *p, XvError *error) {
        const char *l = strbuf_get(&p->line);

        switch (p->state) {

        case PARSER_STATUS:
                /* A stray empty line before the status line is tolerated (RFC 9112 2.2). */
                if (l[0] == '\0' && p->n_headers == 0 && p->n_interim == 0) {
                        p->n_headers++;
                        return 0;
                }
                if (!parse_status_line(l, &p->status))
                        return parser_failf(p, error, "Malformed status line in reply from XenD: '%.64s'", l);
                p->state = PARSER_HEADERS;
                return 0;

        case PARSER_HEADERS:
                if (l[0] == '\0')
                        return parser_start_body(p, error);
                if (++p->n_headers > XEND_HEADERS_MAX)
                        return parser_failf(p, error, "Too many header lines in reply from XenD");
                return parse_header(p, l, error);

        case PARSER_CHUNK_SIZE:
                return parse_chunk_size(p, l, error);

        case PARSER_CHUNK_END:
                if (l[0] != '\0')
                        return parser_failf(p, error, "Missing CRLF after a chunk in reply from XenD");
                p->state = PARSER_CHUNK_SIZE;
                return 0;

        case PARSER_TRAILERS:
                if (l[0] == '\0') {
                        p->state = PARSER_DONE;
                        return 1;
                }
                if (++p->n_headers > XEND_HEADERS_MAX)
                        return parser_failf(p, error, "Too many header lines in reply from XenD");
                /* Trailer fields are read and ignored: none of them changes how we read the body. */
                if (!strchr(l, ':'))
                        return parser_failf(p, error, "Malformed trailer line in reply from XenD");
                return 0;

        default:
                return parser_failf(p, error, "Internal parser error");
        }
}

int xend_http_parser_feed(XendHttpParser *p, const char *data, size_t size, XvError *error) {
        size_t i = 0;
        int r;

        if (!p || (!data && size > 0))
                return -EINVAL;
        if (p->state == PARSER_FAILED)
                return -EPROTO;
        if (p->state == PARSER_DONE)
                return 1;

        while (i < size) {
                switch (p->state) {

                case PARSER_BODY_LENGTH:
                case PARSER_CHUNK_DATA: {
                        size_t n = (size_t) MIN((uint64_t) (size - i), p->remaining);

                        strbuf_appendn(&p->body, data + i, n);
                        if (p->body.error < 0)
                                return p->body.error == -E2BIG ? parser_too_big(p, error) :
                                                                 parser_fail(p, error, p->body.error);
                        i += n;
                        p->remaining -= n;
                        if (p->remaining == 0) {
                                if (p->state == PARSER_BODY_LENGTH) {
                                        p->state = PARSER_DONE;
                                        return 1;
                                }
                                p->state = PARSER_CHUNK_END;
                        }
                        break;
                }

                case PARSER_BODY_EOF:
                        strbuf_appendn(&p->body, data + i, size - i);
                        if (p->body.error < 0)
                                return p->body.error == -E2BIG ? parser_too_big(p, error) :
                                                                 parser_fail(p, error, p->body.error);
                        i = size;
                        break;

                case PARSER_STATUS:
                case PARSER_HEADERS:
                case PARSER_CHUNK_SIZE:
                case PARSER_CHUNK_END:
                case PARSER_TRAILERS: {
                        const char *nl = memchr(data + i, '\n', size - i);
                        size_t n = nl ? (size_t) (nl - (data + i)) : size - i;

                        if (memchr(data + i, '\0', n))
                                return parser_failf(p, error, p->state == PARSER_STATUS ?
                                                    "Malformed status line in reply from XenD: NUL byte" :
                                                    "NUL byte in the header of a reply from XenD");
                        strbuf_appendn(&p->line, data + i, n);
                        if (p->line.error == -E2BIG)
                                return parser_failf(p, error,
                                                    "Header line longer than %u bytes in reply from XenD",
                                                    XEND_HEADER_LINE_MAX);
                        if (p->line.error < 0)
                                return parser_fail(p, error, p->line.error);
                        i += n;
                        if (!nl)
                                break;
                        i++;    /* the '\n' */
                        /* Lines end in CRLF; a bare LF is accepted like most HTTP clients do. */
                        if (p->line.len > 0 && p->line.buf[p->line.len - 1] == '\r')
                                p->line.buf[--p->line.len] = '\0';
                        r = parser_line(p, error);
                        p->line.len = 0;
                        if (p->line.buf)
                                p->line.buf[0] = '\0';
                        if (r != 0)
                                return r;
                        break;
                }

                case PARSER_DONE:
                        return 1;

                case PARSER_FAILED:
                default:
                        return -EPROTO;
                }
        }
        return 0;
}

int xend_http_parser_finish(XendHttpParser *p, XvError *error) {
        if (!p)
                return -EINVAL;

        switch (p->state) {

        case PARSER_DONE:
                return 1;

        case PARSER_BODY_EOF:
                p->state = PARSER_DONE;
                return 1;

        case PARSER_STATUS:
                if (p->line.len == 0 && p->n_headers == 0 && p->n_interim == 0)
                        return parser_failf(p, error, "XenD closed the connection without replying");
                return parser_failf(p, error, "XenD closed the connection inside the status line");

        case PARSER_HEADERS:
                return parser_failf(p, error, "XenD closed the connection inside the reply headers");

        case PARSER_BODY_LENGTH:
                return parser_failf(p, error,
                                    "XenD closed the connection after %zu of %" PRIu64 " body bytes",
                                    p->body.len, p->content_length);

        case PARSER_CHUNK_SIZE:
        case PARSER_CHUNK_DATA:
        case PARSER_CHUNK_END:
        case PARSER_TRAILERS:
                return parser_failf(p, error, "XenD closed the connection inside a chunked reply");

        case PARSER_FAILED:
        default:
                return -EPROTO;
        }
}

int xend_http_parser_steal(XendHttpParser *p, XendReply **ret) {
        _cleanup_(xend_reply_freep) XendReply *reply = NULL;
        int r;

        if (!p || !ret)
                return -EINVAL;
        if (p->state != PARSER_DONE)
                return -EBUSY;
        reply = new0(XendReply, 1);
        if (!reply)
                return -ENOMEM;
        reply->status = p->status;
        reply->body_size = p->body.len;
        r = strbuf_steal(&p->body, &reply->body);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(reply);
        return 0;
}

int xend_http_parse_reply(const char *data, size_t size, XendReply **ret, XvError *error) {
        _cleanup_(xend_http_parser_freep) XendHttpParser *p = NULL;
        int r;

        r = xend_http_parser_new(0, &p);
        if (r < 0)
                return r;
        r = xend_http_parser_feed(p, data, size, error);
        if (r < 0)
                return r;
        if (r == 0) {
                r = xend_http_parser_finish(p, error);
                if (r < 0)
                        return r;
        }
        return xend_http_parser_steal(p, ret);
}

/* ---------------------------------------------------------------- XenD's error conventions */

static bool is_traceback(const char *body, size_t size) {
        static const char head[] = "Traceback (most recent call last):";

        return size >= sizeof(head) - 1 && memcmp(body, head, sizeof(head) - 1) == 0;
}

/* Copies [s, s + n) with control characters turned into spaces, blanks trimmed, and at most
 * XEND_ERROR_TEXT_MAX bytes (cut before a UTF-8 continuation byte). */
static int sanitize_text(const char *s, size_t n, char **ret) {
        char *t;
        size_t m;

        trim(&s, &n);
        while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == '\n'))
                n--;
        if (n > XEND_ERROR_TEXT_MAX) {
                n = XEND_ERROR_TEXT_MAX;
                while (n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80)
                        n--;
        }
        t = malloc(n + 1);
        if (!t)
                return -ENOMEM;
        for (m = 0; m < n; m++) {
                unsigned char c = (unsigned char) s[m];

                t[m] = (char) (c < 0x20 || c == 0x7f ? ' ' : c);
        }
        t[m] = '\0';
        *ret = t;
        return 0;
}

/* (xend.err 'text'): the text, when @body is exactly that expression. */
static int xend_err_text(const char *body, size_t size, char **ret) {
        _cleanup_(sexpr_freep) Sexpr *s = NULL;
        const char *text;

        if (size > SEXPR_SIZE_MAX || sexpr_parse(body, size, &s, NULL) < 0)
                return 0;
        if (!streq(strempty(sexpr_head(s)), "xend.err"))
                return 0;
        text = sexpr_atom(sexpr_item(s, 1));
        if (!text)
                text = "";
        return sanitize_text(text, strlen(text), ret) ?: 1;
}

int xend_http_error_text(const char *body, size_t size, char **ret) {
        const char *start = NULL, *end;
        int r;

        if (!ret)
                return -EINVAL;
        *ret = NULL;
        if (!body || size == 0)
                return 0;

        r = xend_err_text(body, size, ret);
        if (r != 0)
                return r < 0 ? r : 0;

        end = body + size;
        if (size > 10 && memcmp(body, "(xend.err ", 10) == 0) {
                /* An (xend.err ...) that does not parse (cut short, bad quoting): its text, roughly. */
                start = body + 10;
                while (start < end && (*start == '\'' || *start == '"' || *start == ' '))
                        start++;
                while (end > start && (end[-1] == '\'' || end[-1] == '"' || end[-1] == ')' || is_blank(end[-1])))
                        end--;
                if (start == end)
                        return 0;
                return sanitize_text(start, (size_t) (end - start), ret);
        }
        if (is_traceback(body, size)) {
                /* Python prints the exception ("XendError: Domain not found") as the last line. */
                const char *p = end;

                while (p > body) {
                        const char *eol = p, *bol;

                        while (eol > body && (eol[-1] == '\n' || eol[-1] == '\r' || eol[-1] == ' '))
                                eol--;
                        if (eol == body)
                                break;
                        bol = eol;
                        while (bol > body && bol[-1] != '\n')
                                bol--;
                        start = bol;
                        end = eol;
                        break;
                }
        } else {
                /* The first non-empty line. */
                const char *p = body;

                while (p < end && (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t'))
                        p++;
                if (p < end) {
                        const char *nl = memchr(p, '\n', (size_t) (end - p));

                        start = p;
                        if (nl)
                                end = nl;
                }
        }
        if (!start)
                return 0;
        return sanitize_text(start, (size_t) (end - start), ret);
}

/* Whether the body is an (xend.err ...) expression, or at least starts like one when it does not
 * parse (a truncated error still is an error). A domain whose description merely contains the
 * word "xend.err" must not turn a success into a failure, as libvirt's strstr() did. */
static bool body_is_xend_err(const XendReply *reply) {
        const char *p = reply->body, *end = reply->body + reply->body_size;

        while (p < end && is_blank(*p))
                p++;
        return (size_t) (end - p) >= 9 && memcmp(p, "(xend.err", 9) == 0 &&
                (p + 9 == end || is_blank(p[9]) || p[9] == '(' || p[9] == ')' || p[9] == '\'' || p[9] == '"');
}

/* The domain named in "/xend/domain/<d>[?...]", decoded for the message; NULL when @path is not a
 * domain path. */
static char *domain_from_path(const char *path) {
        static const char prefix[] = "/xend/domain/";
        const char *s;
        size_t n, m = 0;
        char *t;

        if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
                return NULL;
        s = path + sizeof(prefix) - 1;
        n = strcspn(s, "/?");
        if (n == 0)
                return NULL;
        t = malloc(n + 1);
        if (!t)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                int hi = i + 2 < n && s[i] == '%' ? unhexchar(s[i + 1]) : -1,
                    lo = hi >= 0 ? unhexchar(s[i + 2]) : -1;

                if (lo >= 0) {
                        t[m++] = (char) (hi << 4 | lo);
                        i += 2;
                } else
                        t[m++] = s[i];
                /* The name goes into a one-line message. */
                if ((unsigned char) t[m - 1] < 0x20 || t[m - 1] == 0x7f)
                        t[m - 1] = '?';
        }
        t[m] = '\0';
        return t;
}

/* The path without its query, for messages. */
static int path_for_message(const char *path, char **ret) {
        *ret = strndup(path, MIN(strcspn(path, "?"), (size_t) 256));
        return *ret ? 0 : -ENOMEM;
}

int xend_reply_check(const XendReply *reply, const char *method, const char *path, XvError *error) {
        _cleanup_free_ char *text = NULL, *where = NULL;
        int r;

        if (!reply || !method || !path)
                return -EINVAL;

        if (reply->status >= 200 && reply->status < 300) {
                /* XenD can answer 200 and report the failure as an (xend.err '...') body: libvirt
                 * hit this with 'virsh dump Domain-0 foo' and with restore of a bad file. */
                if (body_is_xend_err(reply)) {
                        r = xend_http_error_text(reply->body, reply->body_size, &text);
                        if (r < 0)
                                return r;
                        r = path_for_message(path, &where);
                        if (r < 0)
                                return r;
                        return xend_errorf(error, XVP_ERR_OPERATION_FAILED, "XenD failed %s %s: %s",
                                           method, where, strempty(text));
                }
                /* A 202 (accepted) whose text says "failed" was how some xend operations reported
                 * an error after starting it; libvirt treated it as a failure. A domain
                 * expression that merely contains the word is no such report. */
                if (reply->status == 202 && memmem(reply->body, reply->body_size, "failed", 6)) {
                        _cleanup_(sexpr_freep) Sexpr *s = NULL;

                        if (reply->body_size > SEXPR_SIZE_MAX ||
                            sexpr_parse(reply->body, reply->body_size, &s, NULL) < 0 ||
                            !streq(strempty(sexpr_head(s)), "domain")) {
                                r = xend_http_error_text(reply->body, reply->body_size, &text);
                                if (r < 0)
                                        return r;
                                r = path_for_message(path, &where);
                                if (r < 0)
                                        return r;
                                return xend_errorf(error, XVP_ERR_OPERATION_FAILED, "XenD failed %s %s: %s",
                                                   method, where, strempty(text));
                        }
                }
                return 0;
        }

        r = xend_http_error_text(reply->body, reply->body_size, &text);
        if (r < 0)
                return r;

        /* XenD answers 404 for a domain it does not know (SrvDomainDir.get raises
         * XendInvalidDomain); libvirt treated it as a plain "not found". */
        if (reply->status == 404) {
                _cleanup_free_ char *d = domain_from_path(path);

                if (d)
                        return xend_errorf(error, XVP_ERR_NO_DOMAIN, "XenD has no domain '%s'", d);
        }

        r = path_for_message(path, &where);
        if (r < 0)
                return r;
        return xend_errorf(error, XVP_ERR_OPERATION_FAILED, "XenD failed %s %s with status %u%s%s",
                           method, where, reply->status, text ? ": " : "", strempty(text));
}

/* ---------------------------------------------------------------- encoding */

static bool is_unreserved(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.' || c == '~';
}

static void append_encoded(StrBuf *b, const char *s) {
        static const char hex[] = "0123456789ABCDEF";

        for (; *s; s++) {
                if (is_unreserved(*s))
                        strbuf_appendc(b, *s);
                else {
                        char e[3] = { '%', hex[(unsigned char) *s >> 4], hex[(unsigned char) *s & 15] };

                        strbuf_appendn(b, e, 3);
                }
        }
}

void xend_http_form_add(StrBuf *b, const char *key, const char *value) {
        if (!b || !key)
                return;
        if (b->len > 0)
                strbuf_appendc(b, '&');
        append_encoded(b, key);
        strbuf_appendc(b, '=');
        append_encoded(b, strempty(value));
}

void xend_http_form_addf(StrBuf *b, const char *key, const char *format, ...) {
        _cleanup_free_ char *v = NULL;
        va_list ap;
        int r;

        if (!b || b->error < 0)
                return;
        va_start(ap, format);
        r = vasprintf(&v, format, ap);
        va_end(ap);
        if (r < 0) {
                b->error = -ENOMEM;
                return;
        }
        xend_http_form_add(b, key, v);
}

void xend_http_path_append(StrBuf *b, const char *segment) {
        if (!b || !segment)
                return;
        append_encoded(b, segment);
}

bool xend_http_segment_valid(const char *segment) {
        return !isempty(segment) && !streq(segment, ".") && !streq(segment, "..") &&
                !strchr(segment, '/') && strlen(segment) <= XEND_PATH_MAX / 4;
}

/* ---------------------------------------------------------------- the transport */

typedef struct Request {
        const XendHttp *x;
        const char *where;      /* socket path or host:port, for messages */
        uint64_t deadline;
} Request;

static int request_timeout(const Request *q, const char *what, XvError *error) {
        (void) xend_errorf(error, XVP_ERR_OPERATION_TIMEOUT,
                           "Timed out after %" PRIu64 " ms %s XenD at '%s'",
                           (q->x->timeout_usec + 999) / 1000, what, q->where);
        return -ETIMEDOUT;
}

/* Waits until @fd is ready for @events or the deadline passes: 0, -ETIMEDOUT or -errno. */
static int wait_fd(const Request *q, int fd, short events) {
        for (;;) {
                struct pollfd pfd = { .fd = fd, .events = events };
                uint64_t n = monotonic_usec(), ms;
                int k;

                if (n >= q->deadline)
                        return -ETIMEDOUT;
                ms = (q->deadline - n + 999) / 1000;
                k = poll(&pfd, 1, (int) MIN(ms, (uint64_t) INT32_MAX));
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k > 0)
                        return 0;       /* POLLERR / POLLHUP too: the next call says what happened */
        }
}

static int connect_failed(const Request *q, int r, XvError *error) {
        (void) xend_errorf(error, XVP_ERR_OPERATION_FAILED, "Failed to connect to XenD at '%s': %s",
                           q->where, strerror(-r));
        /* Keep "permission denied" recognizable; anything else means XenD is not there. -ENOENT
         * (no socket file) would read as "no such domain" to a caller, so it is not passed on. */
        return r == -EACCES || r == -EPERM ? r : -ECONNREFUSED;
}

/* Finishes a non-blocking connect() that said EINPROGRESS. */
static int connect_wait(const Request *q, int fd) {
        socklen_t len = sizeof(int);
        int err = 0, r;

        r = wait_fd(q, fd, POLLOUT);
        if (r < 0)
                return r;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                return -errno;
        return err > 0 ? -err : 0;
}

static int connect_unix(const Request *q, XvError *error) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        size_t n = strlen(q->x->socket_path);
        int r;

        if (n >= sizeof(sa.sun_path))
                return connect_failed(q, -ENAMETOOLONG, error);
        memcpy(sa.sun_path, q->x->socket_path, n + 1);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return connect_failed(q, -errno, error);
        for (;;) {
                if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) >= 0)
                        return TAKE_FD(fd);
                r = -errno;
                if (r == -EINTR)
                        continue;
                if (r == -EINPROGRESS) {
                        r = connect_wait(q, fd);
                        if (r == -ETIMEDOUT)
                                return request_timeout(q, "connecting to", error);
                        if (r < 0)
                                return connect_failed(q, r, error);
                        return TAKE_FD(fd);
                }
                if (r != -EAGAIN)
                        return connect_failed(q, r, error);
                /* The listen backlog is full (Linux answers EAGAIN on non-blocking UNIX sockets):
                 * XenD is busy, retry until the deadline. */
                uint64_t n_usec = monotonic_usec();
                if (n_usec >= q->deadline)
                        return request_timeout(q, "connecting to", error);
                struct timespec ts = { .tv_nsec = (long) MIN((uint64_t) XEND_CONNECT_RETRY_USEC,
                                                             q->deadline - n_usec) * 1000 };
                (void) nanosleep(&ts, NULL);
        }
}

/* TCP: only when explicitly configured (xend-http-server: no authentication, plaintext). Name
 * resolution through getaddrinfo() is not bounded by the deadline; configure an address to avoid
 * a DNS wait. */
static int connect_tcp(const Request *q, XvError *error) {
        struct addrinfo hints = {
                .ai_family = AF_UNSPEC,
                .ai_socktype = SOCK_STREAM,
                .ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV,
        };
        struct addrinfo *res = NULL;
        char port[8];
        int r = -ECONNREFUSED, k;

        (void) snprintf(port, sizeof(port), "%u", q->x->tcp_port);
        k = getaddrinfo(q->x->tcp_host, port, &hints, &res);
        if (k != 0) {
                (void) xend_errorf(error, XVP_ERR_OPERATION_FAILED,
                                   "Failed to connect to XenD at '%s': %s", q->where, gai_strerror(k));
                return k == EAI_MEMORY ? -ENOMEM : -ECONNREFUSED;
        }

        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
                _cleanup_close_ int fd = -EBADF;
                int one = 1;

                fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
                if (fd < 0) {
                        r = -errno;
                        continue;
                }
                /* Requests go out in one write; don't let Nagle hold the last segment. */
                (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                if (connect(fd, ai->ai_addr, ai->ai_addrlen) >= 0) {
                        freeaddrinfo(res);
                        return TAKE_FD(fd);
                }
                r = -errno;
                if (r == -EINPROGRESS) {
                        r = connect_wait(q, fd);
                        if (r >= 0) {
                                freeaddrinfo(res);
                                return TAKE_FD(fd);
                        }
                        if (r == -ETIMEDOUT) {
                                freeaddrinfo(res);
                                return request_timeout(q, "connecting to", error);
                        }
                }
        }
        freeaddrinfo(res);
        return connect_failed(q, r, error);
}

static int send_failed(const Request *q, int r, XvError *error) {
        (void) xend_errorf(error, XVP_ERR_OPERATION_FAILED, "Failed to send a request to XenD at '%s': %s",
                           q->where, strerror(-r));
        return r;
}

static int read_failed(const Request *q, int r, XvError *error) {
        (void) xend_errorf(error, XVP_ERR_HTTP, "Failed to read the reply from XenD at '%s': %s",
                           q->where, strerror(-r));
        return r;
}

static int send_all(const Request *q, int fd, const char *data, size_t size, XvError *error) {
        while (size > 0) {
                ssize_t n = send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
                int r;

                if (n < 0) {
                        r = -errno;
                        if (r == -EINTR)
                                continue;
                        if (r != -EAGAIN)
                                return send_failed(q, r, error);
                        r = wait_fd(q, fd, POLLOUT);
                        if (r == -ETIMEDOUT)
                                return request_timeout(q, "sending a request to", error);
                        if (r < 0)
                                return send_failed(q, r, error);
                        continue;
                }
                data += n;
                size -= (size_t) n;
        }
        return 0;
}

static bool path_valid(const char *path) {
        size_t n = strlen(path);

        if (n == 0 || n > XEND_PATH_MAX || path[0] != '/')
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) path[i] <= ' ' || path[i] == 0x7f)
                        return false;
        return true;
}

static int build_request(const char *method, const char *path, const char *form_body, char **ret) {
        StrBuf b = STRBUF_INIT;

        b.limit = XEND_REQUEST_SIZE_MAX + XEND_PATH_MAX + 1024;
        strbuf_appendf(&b, "%s %s HTTP/1.1\r\n", method, path);
        /* XenD ignores Host; libvirt always sent this one. */
        strbuf_append(&b, "Host: localhost:8000\r\n");
        strbuf_append(&b, "Accept-Encoding: identity\r\n");
        strbuf_append(&b, "Content-Type: application/x-www-form-urlencoded\r\n");
        /* One request per connection (XenD's model): asking the server to close lets a reply
         * without Content-Length end at EOF instead of at our deadline. */
        strbuf_append(&b, "Connection: close\r\n");
        if (form_body)
                strbuf_appendf(&b, "Content-Length: %zu\r\n", strlen(form_body));
        strbuf_append(&b, "\r\n");
        if (form_body)
                strbuf_append(&b, form_body);
        return strbuf_steal(&b, ret);
}

static int read_reply(const Request *q, int fd, XendReply **ret, XvError *error) {
        _cleanup_(xend_http_parser_freep) XendHttpParser *p = NULL;
        _cleanup_free_ char *buf = NULL;
        int r;

        r = xend_http_parser_new(0, &p);
        if (r < 0)
                return r;
        buf = malloc(XEND_READ_CHUNK);
        if (!buf)
                return -ENOMEM;

        for (;;) {
                ssize_t n = recv(fd, buf, XEND_READ_CHUNK, MSG_DONTWAIT);

                if (n < 0) {
                        r = -errno;
                        if (r == -EINTR)
                                continue;
                        if (r != -EAGAIN)
                                return read_failed(q, r, error);
                        r = wait_fd(q, fd, POLLIN);
                        if (r == -ETIMEDOUT)
                                return request_timeout(q, "waiting for a reply from", error);
                        if (r < 0)
                                return read_failed(q, r, error);
                        continue;
                }
                if (n == 0)
                        r = xend_http_parser_finish(p, error);
                else
                        r = xend_http_parser_feed(p, buf, (size_t) n, error);
                if (r < 0)
                        return r;
                if (r > 0)
                        break;
        }
        return xend_http_parser_steal(p, ret);
}

int xend_http_request(const XendHttp *x, const char *method, const char *path, const char *form_body,
                      XendReply **ret, XvError *error) {
        _cleanup_free_ char *where = NULL, *request = NULL;
        _cleanup_close_ int fd = -EBADF;
        Request q;
        int r;

        if (!x || !method || !path || !ret)
                return -EINVAL;
        if (!streq(method, "GET") && !streq(method, "POST"))
                return xend_errorf(error, XVP_ERR_INTERNAL, "Unsupported XenD request method '%s'", method);
        if (!path_valid(path))
                return xend_errorf(error, XVP_ERR_INTERNAL, "Invalid XenD request path '%.64s'", path);
        if (form_body && strlen(form_body) > XEND_REQUEST_SIZE_MAX)
                return xend_errorf(error, XVP_ERR_INVALID_ARG,
                                   "Request to XenD is larger than %u bytes", XEND_REQUEST_SIZE_MAX);

        where = xend_http_describe(x);
        if (!where)
                return -ENOMEM;
        r = build_request(method, path, form_body, &request);
        if (r < 0)
                return r;

        uint64_t start = monotonic_usec();
        q = (Request) {
                .x = x,
                .where = where,
                .deadline = x->timeout_usec > UINT64_MAX - start ? UINT64_MAX : start + x->timeout_usec,
        };

        log_debug("xend: %s %s", method, path);
        fd = x->socket_path ? connect_unix(&q, error) : connect_tcp(&q, error);
        if (fd < 0)
                return fd;
        r = send_all(&q, fd, request, strlen(request), error);
        if (r < 0)
                return r;
        r = read_reply(&q, fd, ret, error);
        if (r < 0)
                return r;
        assert(*ret);   /* read_reply() sets it when it succeeds */
        log_debug("xend: %s %s -> %u, %zu bytes", method, path, (*ret)->status, (*ret)->body_size);
        return 0;
}

int xend_http_call(const XendHttp *x, const char *method, const char *path, const char *form_body,
                   XendReply **ret, XvError *error) {
        _cleanup_(xend_reply_freep) XendReply *reply = NULL;
        int r;

        r = xend_http_request(x, method, path, form_body, &reply, error);
        if (r < 0)
                return r;
        r = xend_reply_check(reply, method, path, error);
        if (r < 0)
                return r;
        if (ret)
                *ret = TAKE_PTR(reply);
        return 0;
}
