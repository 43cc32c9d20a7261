/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "xsim-http.h"
#include "xv-alloc.h"
#include "xv-parse-util.h"
#include "xv-strbuf.h"

HttpRequest *http_request_free(HttpRequest *r) {
        if (!r)
                return NULL;
        free(r->method);
        free(r->path);
        strv_free(r->query);
        strv_free(r->form);
        return mfree(r);
}

int http_url_decode(const char *s, size_t n, bool plus_is_space, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t k = 0;

        out = malloc(n + 1);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '%') {
                        int hi, lo;

                        if (n - i < 3)
                                return -EINVAL;
                        hi = unhexchar(s[i + 1]);
                        lo = unhexchar(s[i + 2]);
                        if (hi < 0 || lo < 0)
                                return -EINVAL;
                        c = (char) (hi << 4 | lo);
                        i += 2;
                } else if (c == '+' && plus_is_space)
                        c = ' ';
                /* A NUL would silently cut the value short further down. */
                if (c == '\0')
                        return -EINVAL;
                out[k++] = c;
        }
        out[k] = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

int http_form_parse(const char *s, size_t n, char ***ret) {
        _cleanup_strv_free_ char **fields = NULL;
        size_t count = 0, i = 0;
        int r;

        while (i < n) {
                const char *piece = s + i, *amp, *eq;
                size_t len;

                amp = memchr(piece, '&', n - i);
                len = amp ? (size_t) (amp - piece) : n - i;
                i += len + 1;
                if (len == 0)
                        continue;
                if (++count > HTTP_FIELDS_MAX)
                        return -E2BIG;

                eq = memchr(piece, '=', len);
                size_t klen = eq ? (size_t) (eq - piece) : len;
                char *key = NULL, *value = NULL;

                r = http_url_decode(piece, klen, true, &key);
                if (r < 0)
                        return r;
                r = strv_push(&fields, key);
                if (r < 0)
                        return r;
                if (eq)
                        r = http_url_decode(eq + 1, len - klen - 1, true, &value);
                else {
                        value = strdup("");
                        r = value ? 0 : -ENOMEM;
                }
                if (r < 0)
                        return r;
                r = strv_push(&fields, value);
                if (r < 0)
                        return r;
        }

        if (!fields) {
                fields = new0(char *, 1);
                if (!fields)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(fields);
        return 0;
}

const char *http_fields_get(char * const *fields, const char *key) {
        if (!fields)
                return NULL;
        for (size_t i = 0; fields[i] && fields[i + 1]; i += 2)
                if (streq(fields[i], key))
                        return fields[i + 1];
        return NULL;
}

const char *http_request_arg(const HttpRequest *r, const char *key) {
        const char *v;

        v = http_fields_get(r->form, key);
        if (v)
                return v;
        return http_fields_get(r->query, key);
}

/* Finds the blank line that ends the header block; returns its end offset or 0. */
static size_t find_header_end(const char *buf, size_t size) {
        for (size_t i = 0; i < size; i++) {
                if (buf[i] != '\n')
                        continue;
                if (i + 1 < size && buf[i + 1] == '\n')
                        return i + 2;
                if (i + 2 < size && buf[i + 1] == '\r' && buf[i + 2] == '\n')
                        return i + 3;
        }
        return 0;
}

static bool token_list_has(const char *list, const char *token) {
        size_t n = strlen(token);

        for (const char *p = list; *p;) {
                p += strspn(p, " \t,");
                if (strncasecmp(p, token, n) == 0 && strchr(" \t,", p[n]))
                        return true;
                p += strcspn(p, ",");
        }
        return false;
}

typedef struct HttpHeaders {
        bool has_length;
        uint64_t content_length;
        bool keep_alive;
        bool expect_continue;
        bool chunked;
        char content_type[128];
} HttpHeaders;

/* Parses one "Name: value" line (without its line end). */
static int parse_header_line(const char *line, size_t len, HttpHeaders *h) {
        char name[64], value[1024];
        const char *colon;
        size_t nlen, vlen;

        colon = memchr(line, ':', len);
        if (!colon || colon == line)
                return -EINVAL;
        /* Obsolete line folding and blanks before the colon are request smuggling material. */
        if (line[0] == ' ' || line[0] == '\t' || colon[-1] == ' ' || colon[-1] == '\t')
                return -EINVAL;
        nlen = (size_t) (colon - line);
        if (nlen >= sizeof(name))
                return 0;       /* no header we care about is that long */
        memcpy(name, line, nlen);
        name[nlen] = '\0';

        const char *v = colon + 1;
        const char *end = line + len;
        while (v < end && (*v == ' ' || *v == '\t'))
                v++;
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        vlen = (size_t) (end - v);
        if (memchr(v, '\0', vlen))
                return -EINVAL;

        if (strcasecmp(name, "Content-Length") == 0) {
                uint64_t cl;

                if (vlen >= sizeof(value))
                        return -EINVAL;
                memcpy(value, v, vlen);
                value[vlen] = '\0';
                if (safe_atou64(value, &cl) < 0)
                        return -EINVAL;
                if (h->has_length && h->content_length != cl)
                        return -EINVAL;
                h->has_length = true;
                h->content_length = cl;
                return 0;
        }

        /* Headers below only need a prefix; longer values are cut at the buffer size. */
        vlen = MIN(vlen, sizeof(value) - 1);
        memcpy(value, v, vlen);
        value[vlen] = '\0';

        if (strcasecmp(name, "Connection") == 0) {
                if (token_list_has(value, "keep-alive"))
                        h->keep_alive = true;
                if (token_list_has(value, "close"))
                        h->keep_alive = false;
        } else if (strcasecmp(name, "Expect") == 0)
                h->expect_continue = strcasecmp(value, "100-continue") == 0;
        else if (strcasecmp(name, "Transfer-Encoding") == 0)
                h->chunked = true;
        else if (strcasecmp(name, "Content-Type") == 0)
                (void) snprintf(h->content_type, sizeof(h->content_type), "%.*s",
                                (int) sizeof(h->content_type) - 1, value);
        return 0;
}

static bool content_type_is_form(const char *ct) {
        static const char form[] = "application/x-www-form-urlencoded";
        size_t n = strlen(form);

        return strncasecmp(ct, form, n) == 0 && strchr("; \t", ct[n]);
}

int http_request_parse(const char *buf, size_t size, HttpRequest **ret, int *ret_status) {
        _cleanup_(http_request_freep) HttpRequest *req = NULL;
        HttpHeaders h = {};
        const char *nl, *sp1, *sp2, *line_end, *target, *query;
        size_t header_end, line_len, n_headers = 0;
        int r;

        *ret_status = 400;

        /* The request line first, so that an endless one is refused early with 414. */
        nl = memchr(buf, '\n', MIN(size, (size_t) HTTP_REQUEST_LINE_MAX + 1));
        if (!nl) {
                if (size > HTTP_REQUEST_LINE_MAX) {
                        *ret_status = 414;
                        return HTTP_PARSE_ERROR;
                }
                return HTTP_PARSE_INCOMPLETE;
        }

        header_end = find_header_end(buf, MIN(size, (size_t) HTTP_HEADER_SIZE_MAX));
        if (header_end == 0) {
                if (size >= HTTP_HEADER_SIZE_MAX) {
                        *ret_status = 431;
                        return HTTP_PARSE_ERROR;
                }
                return HTTP_PARSE_INCOMPLETE;
        }

        /* Request line: METHOD SP TARGET SP HTTP/1.x */
        line_end = nl;
        if (line_end > buf && line_end[-1] == '\r')
                line_end--;
        line_len = (size_t) (line_end - buf);
        sp1 = memchr(buf, ' ', line_len);
        if (!sp1 || sp1 == buf)
                return HTTP_PARSE_ERROR;
        sp2 = memchr(sp1 + 1, ' ', (size_t) (line_end - sp1 - 1));
        if (!sp2 || sp2 == sp1 + 1)
                return HTTP_PARSE_ERROR;
        for (const char *p = buf; p < sp1; p++)
                if (*p < 'A' || *p > 'Z')
                        return HTTP_PARSE_ERROR;
        size_t vlen = (size_t) (line_end - sp2 - 1);
        if (vlen != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0) {
                if (vlen >= 5 && memcmp(sp2 + 1, "HTTP/", 5) == 0)
                        *ret_status = 505;
                return HTTP_PARSE_ERROR;
        }
        if (sp2[8] != '0' && sp2[8] != '1') {
                *ret_status = 505;
                return HTTP_PARSE_ERROR;
        }

        /* Headers, one per line, up to the blank line. */
        for (const char *p = nl + 1; p < buf + header_end;) {
                const char *e = memchr(p, '\n', (size_t) (buf + header_end - p));
                size_t len;

                if (!e)
                        return HTTP_PARSE_ERROR;
                len = (size_t) (e - p);
                if (len > 0 && p[len - 1] == '\r')
                        len--;
                if (len == 0)
                        break;
                if (++n_headers > HTTP_HEADERS_MAX) {
                        *ret_status = 431;
                        return HTTP_PARSE_ERROR;
                }
                if (parse_header_line(p, len, &h) < 0)
                        return HTTP_PARSE_ERROR;
                p = e + 1;
        }

        req = new0(HttpRequest, 1);
        if (!req)
                return -ENOMEM;
        req->method = strndup(buf, (size_t) (sp1 - buf));
        if (!req->method)
                return -ENOMEM;
        req->keep_alive = h.keep_alive;

        if (!streq(req->method, "GET") && !streq(req->method, "POST")) {
                *ret_status = 501;
                return HTTP_PARSE_ERROR;
        }
        if (h.chunked) {
                *ret_status = 501;
                return HTTP_PARSE_ERROR;
        }
        if (streq(req->method, "POST") && !h.has_length) {
                *ret_status = 411;
                return HTTP_PARSE_ERROR;
        }
        if (h.content_length > HTTP_BODY_MAX) {
                *ret_status = 413;
                return HTTP_PARSE_ERROR;
        }
        if (size - header_end < h.content_length)
                return h.expect_continue ? HTTP_PARSE_CONTINUE : HTTP_PARSE_INCOMPLETE;

        /* The target: an absolute path, optionally with a query. */
        target = sp1 + 1;
        if (*target != '/')
                return HTTP_PARSE_ERROR;
        query = memchr(target, '?', (size_t) (sp2 - target));
        r = http_url_decode(target, (size_t) ((query ?: sp2) - target), false, &req->path);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return HTTP_PARSE_ERROR;
        r = http_form_parse(query ? query + 1 : "", query ? (size_t) (sp2 - query - 1) : 0, &req->query);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return HTTP_PARSE_ERROR;

        if (h.content_length > 0 && h.content_type[0] && !content_type_is_form(h.content_type)) {
                *ret_status = 415;
                return HTTP_PARSE_ERROR;
        }
        r = http_form_parse(buf + header_end, (size_t) h.content_length, &req->form);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return HTTP_PARSE_ERROR;

        req->size = header_end + (size_t) h.content_length;
        *ret = TAKE_PTR(req);
        *ret_status = 200;
        return HTTP_PARSE_DONE;
}

const char *http_status_reason(int status) {
        switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 408: return "Request Timeout";
        case 411: return "Length Required";
        case 413: return "Request Entity Too Large";
        case 414: return "Request-URI Too Long";
        case 415: return "Unsupported Media Type";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        case 505: return "HTTP Version Not Supported";
        default:  return "Unknown";
        }
}

int http_response_format(int status, const char *content_type, const char *body, size_t body_size,
                         bool keep_alive, char **ret, size_t *ret_size) {
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        size_t size;
        int r;

        strbuf_appendf(&b, "HTTP/1.1 %d %s\r\n", status, http_status_reason(status));
        strbuf_appendf(&b, "Content-Type: %s\r\n", content_type ?: "text/plain");
        strbuf_appendf(&b, "Content-Length: %zu\r\n", body_size);
        strbuf_appendf(&b, "Connection: %s\r\n\r\n", keep_alive ? "keep-alive" : "close");
        strbuf_appendn(&b, body ?: "", body_size);
        size = b.len;
        r = strbuf_steal(&b, ret);
        if (r < 0)
                return r;
        *ret_size = size;
        return 0;
}
