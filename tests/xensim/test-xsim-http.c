/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xensim's HTTP request parser: framing, limits, URL decoding and form fields. */
#include <string.h>

#include "tests.h"
#include "xsim-http.h"
#include "xv-alloc.h"

static int parse(const char *text, HttpRequest **ret, int *ret_status) {
        return http_request_parse(text, strlen(text), ret, ret_status);
}

TEST(url_decode) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        ASSERT_OK(http_url_decode("a%20b+c%2Bd", 11, true, &a));
        ASSERT_STREQ(a, "a b c+d");
        ASSERT_OK(http_url_decode("a+b", 3, false, &b));
        ASSERT_STREQ(b, "a+b");
        ASSERT_OK(http_url_decode("%28vm%20%28name%20%27x%27%29%29", 31, true, &c));
        ASSERT_STREQ(c, "(vm (name 'x'))");
        ASSERT_ERROR(http_url_decode("%2", 2, true, &c), -EINVAL);
        ASSERT_ERROR(http_url_decode("%", 1, true, &c), -EINVAL);
        ASSERT_ERROR(http_url_decode("%zz", 3, true, &c), -EINVAL);
        /* An embedded NUL would cut the value short further down. */
        ASSERT_ERROR(http_url_decode("a%00b", 5, true, &c), -EINVAL);
}

TEST(form_fields) {
        _cleanup_strv_free_ char **f = NULL, **g = NULL;

        ASSERT_OK(http_form_parse("op=create&config=%28vm%29&&flag&e=", 34, &f));
        ASSERT_STREQ(http_fields_get(f, "op"), "create");
        ASSERT_STREQ(http_fields_get(f, "config"), "(vm)");
        ASSERT_STREQ(http_fields_get(f, "flag"), "");
        ASSERT_STREQ(http_fields_get(f, "e"), "");
        ASSERT_NULL(http_fields_get(f, "missing"));
        ASSERT_OK(http_form_parse("", 0, &g));
        ASSERT_NOT_NULL(g);
        ASSERT_NULL(g[0]);
}

TEST(form_fields_bounded) {
        _cleanup_free_ char *many = NULL;
        char **f = NULL;
        size_t n = (HTTP_FIELDS_MAX + 1) * 4;

        many = malloc(n + 1);
        ASSERT_NOT_NULL(many);
        for (size_t i = 0; i < HTTP_FIELDS_MAX + 1; i++)
                memcpy(many + i * 4, "a=b&", 4);
        many[n] = '\0';
        ASSERT_ERROR(http_form_parse(many, n, &f), -E2BIG);
}

TEST(get_with_query) {
        _cleanup_(http_request_freep) HttpRequest *r = NULL;
        int status;

        ASSERT_EQ(parse("GET /xend/domain/a%20b?detail=1&op=vcpuinfo HTTP/1.1\r\nHost: x\r\n\r\n", &r, &status),
                  HTTP_PARSE_DONE);
        ASSERT_STREQ(r->method, "GET");
        ASSERT_STREQ(r->path, "/xend/domain/a b");
        ASSERT_STREQ(http_request_arg(r, "detail"), "1");
        ASSERT_STREQ(http_request_arg(r, "op"), "vcpuinfo");
        ASSERT_FALSE(r->keep_alive);
}

TEST(post_form_and_pipelining) {
        _cleanup_(http_request_freep) HttpRequest *r = NULL;
        const char *text = "POST /xend/domain/x?op=pause HTTP/1.1\r\n"
                           "Content-Type: application/x-www-form-urlencoded\r\n"
                           "Connection: keep-alive\r\n"
                           "Content-Length: 10\r\n\r\n"
                           "op=unpauseGET / HTTP/1.1\r\n\r\n";
        int status;

        ASSERT_EQ(parse(text, &r, &status), HTTP_PARSE_DONE);
        /* The body wins over the query, as XenD merged them. */
        ASSERT_STREQ(http_request_arg(r, "op"), "unpause");
        ASSERT_TRUE(r->keep_alive);
        ASSERT_EQ(r->size, strlen(text) - strlen("GET / HTTP/1.1\r\n\r\n"));
}

TEST(incomplete_and_continue) {
        HttpRequest *r = NULL;
        int status;

        ASSERT_EQ(parse("GET /xend/node/ HTTP/1.1\r\nHost: x\r\n", &r, &status), HTTP_PARSE_INCOMPLETE);
        ASSERT_EQ(parse("GET /xend/no", &r, &status), HTTP_PARSE_INCOMPLETE);
        ASSERT_EQ(parse("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nop", &r, &status), HTTP_PARSE_INCOMPLETE);
        ASSERT_EQ(parse("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", &r, &status),
                  HTTP_PARSE_CONTINUE);
        ASSERT_NULL(r);
}

static int status_of(const char *text) {
        HttpRequest *r = NULL;
        int status = 0;

        ASSERT_EQ(parse(text, &r, &status), HTTP_PARSE_ERROR);
        ASSERT_NULL(r);
        return status;
}

TEST(errors) {
        ASSERT_EQ(status_of("GARBAGE\r\n\r\n"), 400);
        ASSERT_EQ(status_of("get / HTTP/1.1\r\n\r\n"), 400);
        ASSERT_EQ(status_of("GET xend HTTP/1.1\r\n\r\n"), 400);
        ASSERT_EQ(status_of("GET / HTTP/1.1\r\nNoColon\r\n\r\n"), 400);
        ASSERT_EQ(status_of("GET / HTTP/1.1\r\n folded: x\r\n\r\n"), 400);
        ASSERT_EQ(status_of("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
        ASSERT_EQ(status_of("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), 400);
        ASSERT_EQ(status_of("GET /%zz HTTP/1.1\r\n\r\n"), 400);
        ASSERT_EQ(status_of("GET / HTTP/2.0\r\n\r\n"), 505);
        ASSERT_EQ(status_of("PUT / HTTP/1.1\r\n\r\n"), 501);
        ASSERT_EQ(status_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
        ASSERT_EQ(status_of("POST / HTTP/1.1\r\n\r\n"), 411);
        ASSERT_EQ(status_of("POST / HTTP/1.1\r\nContent-Length: 2097153\r\n\r\n"), 413);
        ASSERT_EQ(status_of("POST / HTTP/1.1\r\nContent-Type: text/xml\r\nContent-Length: 1\r\n\r\nx"), 415);
}

TEST(limits) {
        _cleanup_free_ char *line = NULL, *headers = NULL;
        size_t n;

        /* A request line without an end is refused once it passes the limit. */
        n = HTTP_REQUEST_LINE_MAX + 10;
        line = malloc(n + 1);
        ASSERT_NOT_NULL(line);
        memset(line, 'a', n);
        memcpy(line, "GET /", 5);
        line[n] = '\0';
        ASSERT_EQ(status_of(line), 414);

        /* Headers that never end. */
        n = HTTP_HEADER_SIZE_MAX + 10;
        headers = malloc(n + 1);
        ASSERT_NOT_NULL(headers);
        memset(headers, 'x', n);
        memcpy(headers, "GET / HTTP/1.1\r\nX: ", 19);
        headers[n] = '\0';
        ASSERT_EQ(status_of(headers), 431);
}

TEST(response) {
        _cleanup_free_ char *out = NULL;
        size_t size;

        ASSERT_OK(http_response_format(404, "application/sxp", "(x)", 3, false, &out, &size));
        ASSERT_STREQ(out, "HTTP/1.1 404 Not Found\r\nContent-Type: application/sxp\r\nContent-Length: 3\r\n"
                          "Connection: close\r\n\r\n(x)");
        ASSERT_EQ(size, strlen(out));
}

DEFINE_TEST_MAIN
