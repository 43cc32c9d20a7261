/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "fuzz.h"
#include "xsim-http.h"
#include "xv-alloc.h"

/* Feeds arbitrary bytes to xensim's HTTP request parser, whole and cut at every prefix length
 * the input suggests, as bytes arrive from a socket in pieces. A complete request never claims
 * more bytes than it was given, and an error always names a 4xx/5xx status. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        size_t cuts[] = { size, size / 2, size > 0 ? size - 1 : 0, 1 };

        if (size > HTTP_HEADER_SIZE_MAX + 65536)
                return 0;

        for (size_t k = 0; k < ELEMENTSOF(cuts); k++) {
                _cleanup_(http_request_freep) HttpRequest *req = NULL;
                size_t n = MIN(cuts[k], size);
                int status = 0, r;

                r = http_request_parse((const char *) data, n, &req, &status);
                if (r == HTTP_PARSE_DONE) {
                        if (!req || req->size > n || !req->path || req->path[0] != '/')
                                abort();
                        (void) http_request_arg(req, "op");
                        (void) http_request_arg(req, "config");
                } else if (r == HTTP_PARSE_ERROR) {
                        if (req || status < 400 || status > 505)
                                abort();
                } else if (req)
                        abort();
        }
        return 0;
}
