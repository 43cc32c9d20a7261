/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "xv-alloc.h"
#include "xv-xend-http.h"
#include "xv-xend.h"

/* Parses arbitrary bytes as a reply from XenD, whole and split at a point chosen by the first
 * byte; both ways must agree. A rejection always says why, an accepted reply's body is
 * NUL-terminated and within the bound, and XenD's error conventions and the message extraction
 * must cope with any body. */
static int parse_split(const char *data, size_t size, size_t split, XendReply **ret, XvError *error) {
        _cleanup_(xend_http_parser_freep) XendHttpParser *p = NULL;
        int r;

        r = xend_http_parser_new(4096, &p);
        if (r < 0)
                return r;
        r = xend_http_parser_feed(p, data, split, error);
        if (r == 0)
                r = xend_http_parser_feed(p, data + split, size - split, error);
        if (r == 0)
                r = xend_http_parser_finish(p, error);
        if (r < 0)
                return r;
        return xend_http_parser_steal(p, ret);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(xv_error_done) XvError e1 = XV_ERROR_NULL, e2 = XV_ERROR_NULL, e3 = XV_ERROR_NULL,
                e4 = XV_ERROR_NULL;
        _cleanup_(xend_reply_freep) XendReply *a = NULL, *b = NULL;
        _cleanup_free_ char *text = NULL;
        const char *s = (const char *) data;
        size_t split;
        int ra, rb;

        if (size < 1 || size > 64 * 1024)
                return 0;
        split = data[0] % size;
        s++;
        size--;
        if (split > size)
                split = size;

        ra = parse_split(s, size, 0, &a, &e1);
        rb = parse_split(s, size, split, &b, &e2);
        if ((ra < 0) != (rb < 0))
                abort();
        if (ra < 0) {
                if (!e1.message || !e2.message || e1.code != XVP_ERR_HTTP || !streq(e1.message, e2.message))
                        abort();
                return 0;
        }
        if (a->status != b->status || a->body_size != b->body_size ||
            memcmp(a->body, b->body, a->body_size) != 0)
                abort();
        if (a->status < 100 || a->status > 999 || a->body_size > 4096 || a->body[a->body_size] != '\0')
                abort();

        if (xend_reply_check(a, "GET", "/xend/domain/guest?detail=1", &e3) < 0 && !e3.message)
                abort();
        if (xend_reply_check(a, "POST", "/xend/node/", &e4) < 0 && !e4.message)
                abort();
        if (xend_http_error_text(a->body, a->body_size, &text) < 0)
                abort();
        if (text && (strlen(text) > 1024 || strpbrk(text, "\n\r")))
                abort();

        /* The body as a detailed domain list: every item kept is a (domain ...). */
        {
                _cleanup_(xv_error_done) XvError e5 = XV_ERROR_NULL;
                _cleanup_(sexpr_freep) Sexpr *list = NULL;

                if (xend_parse_list_detail(a->body, a->body_size, &list, &e5) >= 0) {
                        SEXPR_FOREACH_CHILD(d, list)
                                if (!streq(strempty(sexpr_head(d)), "domain"))
                                        abort();
                } else if (!e5.message)
                        abort();
        }
        return 0;
}
