/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The XenD HTTP transport (src/xen/xv-xend-http.c): recorded replies in tests/data/xend-http/
 * (<case>.reply → <case>.out) go through the parser whole, byte by byte and over a real UNIX
 * socket, and must give the same result all three ways; then the request we send, the
 * encodings, deadlines and size limits, against a small server thread.
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-error.h"
#include "xv-fileio.h"
#include "xv-parse-util.h"
#include "xv-strbuf.h"
#include "xv-time.h"
#include "xv-xend-http.h"

#define GOLDEN_REPLY_MAX (1024U * 1024)
#define GOLDEN_PATH "/xend/domain/guest1?detail=1"

/* ---------------------------------------------------------------- a one-shot server thread */

typedef struct Server {
        char dir[64];
        char path[128];
        int listen_fd;
        bool tcp;                       /* listen on 127.0.0.1 instead */
        int tcp_port;                   /* the port it got */
        pthread_t thread;
        const char *reply;              /* bytes to send, then close */
        size_t reply_size;
        unsigned delay_ms;              /* before replying */
        unsigned drip_ms;               /* > 0: send one byte every drip_ms */
        bool never_reply;               /* hold the connection open until the client leaves */
        size_t eof_body_size;           /* > 0: send a 200 header and this many body bytes, no length */
        StrBuf request;                 /* what the client sent */
} Server;

static void sleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        (void) nanosleep(&ts, NULL);
}

static void send_bytes(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return;         /* the client gave up: fine for the timeout tests */
                }
                p += k;
                n -= (size_t) k;
        }
}

/* Reads the request: headers up to the blank line plus Content-Length bytes of body. */
static void read_request(Server *s, int fd) {
        char buf[4096];

        for (;;) {
                const char *h = strbuf_get(&s->request), *end = strstr(h, "\r\n\r\n"), *cl;
                ssize_t n;

                if (end) {
                        size_t want = (size_t) (end - h) + 4;

                        cl = strstr(h, "Content-Length: ");
                        if (cl && cl < end) {
                                const char *e = NULL;
                                uint64_t len = 0;

                                ASSERT_OK(parse_u64_prefix(cl + 16, &len, &e));
                                want += (size_t) len;
                        }
                        if (s->request.len >= want)
                                return;
                }
                n = recv(fd, buf, sizeof(buf), 0);
                if (n <= 0)
                        return;
                strbuf_appendn(&s->request, buf, (size_t) n);
        }
}

static void *server_thread(void *userdata) {
        Server *s = userdata;
        _cleanup_close_ int fd = -EBADF;

        fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return NULL;
        read_request(s, fd);
        if (s->delay_ms > 0)
                sleep_ms(s->delay_ms);
        if (s->never_reply) {
                char c;

                /* Until the client closes its end. */
                while (recv(fd, &c, 1, 0) > 0)
                        ;
                return NULL;
        }
        if (s->eof_body_size > 0) {
                static const char head[] = "HTTP/1.0 200 OK\r\nContent-Type: application/sxp\r\n\r\n";
                _cleanup_free_ char *chunk = malloc(65536);

                memset(chunk, 'x', 65536);
                send_bytes(fd, head, sizeof(head) - 1);
                for (size_t left = s->eof_body_size; left > 0;) {
                        size_t n = MIN(left, (size_t) 65536);

                        send_bytes(fd, chunk, n);
                        left -= n;
                }
                return NULL;
        }
        if (s->drip_ms > 0) {
                for (size_t i = 0; i < s->reply_size; i++) {
                        send_bytes(fd, s->reply + i, 1);
                        sleep_ms(s->drip_ms);
                }
                return NULL;
        }
        send_bytes(fd, s->reply, s->reply_size);
        return NULL;
}

static void server_start(Server *s) {
        _cleanup_close_ int fd = -EBADF;

        s->request = STRBUF_INIT;
        if (s->tcp) {
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
                socklen_t len = sizeof(sa);

                fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                ASSERT_TRUE(fd >= 0);
                ASSERT_TRUE(bind(fd, (struct sockaddr *) &sa, sizeof(sa)) >= 0);
                ASSERT_TRUE(getsockname(fd, (struct sockaddr *) &sa, &len) >= 0);
                s->tcp_port = ntohs(sa.sin_port);
        } else {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };

                (void) snprintf(s->dir, sizeof(s->dir), "/tmp/xv-xend-http.XXXXXX");
                ASSERT_NOT_NULL(mkdtemp(s->dir));
                (void) snprintf(s->path, sizeof(s->path), "%s/xend-socket", s->dir);
                memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                ASSERT_TRUE(fd >= 0);
                ASSERT_TRUE(bind(fd, (struct sockaddr *) &sa, sizeof(sa)) >= 0);
        }
        ASSERT_TRUE(listen(fd, 4) >= 0);
        s->listen_fd = TAKE_FD(fd);
        ASSERT_EQ(pthread_create(&s->thread, NULL, server_thread, s), 0);
}

static void server_stop(Server *s) {
        (void) pthread_join(s->thread, NULL);
        s->listen_fd = safe_close(s->listen_fd);
        if (s->path[0]) {
                (void) unlink(s->path);
                (void) rmdir(s->dir);
        }
        strbuf_done(&s->request);
}

static XendHttp *http_for(const Server *s, uint64_t timeout_usec) {
        XendHttp *x = NULL;

        if (s->tcp) {
                char hp[32];

                (void) snprintf(hp, sizeof(hp), "127.0.0.1:%d", s->tcp_port);
                ASSERT_OK(xend_http_new(NULL, hp, timeout_usec, &x));
        } else
                ASSERT_OK(xend_http_new(s->path, NULL, timeout_usec, &x));
        return x;
}

/* ---------------------------------------------------------------- golden replies */

static void append_escaped(StrBuf *b, const char *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];

                if (c == '\n' || (c >= 0x20 && c < 0x7f && c != '\\'))
                        strbuf_appendc(b, (char) c);
                else
                        strbuf_appendf(b, "\\x%02x", c);
        }
}

/* The result of one reply as the .out file records it. */
static char *describe(int r, const XendReply *reply, const XvError *error) {
        _cleanup_(xv_error_done) XvError check = XV_ERROR_NULL;
        StrBuf b = STRBUF_INIT;
        char *s = NULL;

        if (r < 0) {
                strbuf_appendf(&b, "transport error: %s, code %d, domain %d\n", strerror(-r), error->code,
                               error->domain);
                strbuf_appendf(&b, "message: %s\n", strnull(error->message));
        } else {
                ASSERT_NOT_NULL(reply);         /* success must come with a reply */
                strbuf_appendf(&b, "status: %u\nbody: %zu bytes\n", reply->status, reply->body_size);
                append_escaped(&b, reply->body, reply->body_size);
                if (reply->body_size > 0 && reply->body[reply->body_size - 1] != '\n')
                        strbuf_append(&b, "\\no-newline\n");
                r = xend_reply_check(reply, "GET", GOLDEN_PATH, &check);
                if (r < 0)
                        strbuf_appendf(&b, "check: %s, code %d, domain %d\nmessage: %s\n", strerror(-r),
                                       check.code, check.domain, strnull(check.message));
                else
                        strbuf_append(&b, "check: ok\n");
        }
        ASSERT_OK(strbuf_steal(&b, &s));
        return s;
}

static char *parse_whole(const char *data, size_t size) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_(xend_reply_freep) XendReply *reply = NULL;
        int r;

        r = xend_http_parse_reply(data, size, &reply, &error);
        return describe(r, reply, &error);
}

static char *parse_bytewise(const char *data, size_t size) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_(xend_reply_freep) XendReply *reply = NULL;
        _cleanup_(xend_http_parser_freep) XendHttpParser *p = NULL;
        int r = 0;

        ASSERT_OK(xend_http_parser_new(0, &p));
        for (size_t i = 0; i < size && r == 0; i++)
                r = xend_http_parser_feed(p, data + i, 1, &error);
        if (r == 0)
                r = xend_http_parser_finish(p, &error);
        if (r > 0)
                r = xend_http_parser_steal(p, &reply);
        return describe(r, reply, &error);
}

static char *parse_socket(const char *data, size_t size) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_(xend_reply_freep) XendReply *reply = NULL;
        _cleanup_(xend_http_freep) XendHttp *x = NULL;
        Server s = { .reply = data, .reply_size = size };
        char *d;
        int r;

        server_start(&s);
        x = http_for(&s, 5 * 1000 * 1000);
        r = xend_http_request(x, "GET", GOLDEN_PATH, NULL, &reply, &error);
        server_stop(&s);
        d = describe(r, reply, &error);
        return d;
}

static char **list_cases(const char *suffix) {
        _cleanup_free_ char *dir = test_path(test_srcdir(), "data/xend-http");
        _cleanup_strv_free_ char **names = NULL;
        struct dirent *de;
        DIR *d;

        d = opendir(dir);
        ASSERT_NOT_NULL(d);
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name), m = strlen(suffix);

                if (n > m && streq(de->d_name + n - m, suffix))
                        ASSERT_OK(strv_push(&names, strndup(de->d_name, n - m)));
        }
        closedir(d);
        return TAKE_PTR(names);
}

TEST(golden_replies) {
        _cleanup_strv_free_ char **names = list_cases(".reply");
        unsigned n = 0, failed = 0;

        STRV_FOREACH(name, names) {
                _cleanup_free_ char *rel = NULL, *path = NULL, *data = NULL, *whole = NULL, *bytewise = NULL,
                        *sock = NULL;
                size_t size = 0;

                ASSERT_OK(asprintf(&rel, "data/xend-http/%s.reply", *name));
                path = test_path(test_srcdir(), rel);
                ASSERT_OK(read_full_file(path, GOLDEN_REPLY_MAX, &data, &size));

                whole = parse_whole(data, size);
                bytewise = parse_bytewise(data, size);
                sock = parse_socket(data, size);
                if (test_compare_golden("xend-http", *name, ".out", whole) < 0)
                        failed++;
                if (!streq(whole, bytewise)) {
                        printf("# %s: byte-by-byte parsing differs:\n# %s\n", *name, bytewise);
                        failed++;
                }
                if (!streq(whole, sock)) {
                        printf("# %s: over a socket differs:\n# %s\n", *name, sock);
                        failed++;
                }
                n++;
        }
        ASSERT_EQ(failed, 0u);
        ASSERT_GE(n, 20u);
}

/* An output without its input is a stale file. */
TEST(golden_no_orphans) {
        _cleanup_strv_free_ char **outs = list_cases(".out");
        _cleanup_strv_free_ char **ins = list_cases(".reply");

        STRV_FOREACH(o, outs)
                if (!strv_contains(ins, *o))
                        test_fail(__FILE__, __LINE__, "tests/data/xend-http/%s.out has no .reply", *o);
}

/* ---------------------------------------------------------------- the request */

TEST(request_format) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_(xend_reply_freep) XendReply *reply = NULL;
        _cleanup_(xend_http_freep) XendHttp *x = NULL;
        _cleanup_(strbuf_done) StrBuf form = STRBUF_INIT;
        static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n()";
        Server s = { .reply = ok, .reply_size = sizeof(ok) - 1 };
        const char *req;

        xend_http_form_add(&form, "op", "create");
        xend_http_form_add(&form, "config", "(vm (name 'a&b=c\nd'))");
        server_start(&s);
        x = http_for(&s, 5 * 1000 * 1000);
        ASSERT_OK(xend_http_request(x, "POST", "/xend/domain/", strbuf_get(&form), &reply, &error));
        req = strbuf_get(&s.request);
        ASSERT_STREQ(req,
                     "POST /xend/domain/ HTTP/1.1\r\n"
                     "Host: localhost:8000\r\n"
                     "Accept-Encoding: identity\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     "Connection: close\r\n"
                     "Content-Length: 60\r\n"
                     "\r\n"
                     "op=create&config=%28vm%20%28name%20%27a%26b%3Dc%0Ad%27%29%29");
        ASSERT_EQ(reply->status, 200u);
        ASSERT_STREQ(reply->body, "()");
        server_stop(&s);
}

TEST(request_get_has_no_length) {
        _cleanup_(xend_reply_freep) XendReply *reply = NULL;
        _cleanup_(xend_http_freep) XendHttp *x = NULL;
        static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n()";
        Server s = { .reply = ok, .reply_size = sizeof(ok) - 1 };

        server_start(&s);
        x = http_for(&s, 5 * 1000 * 1000);
        ASSERT_OK(xend_http_call(x, "GET", "/xend/domain?detail=1", NULL, &reply, NULL));
        ASSERT_TRUE(strncmp(strbuf_get(&s.request), "GET /xend/domain?detail=1 HTTP/1.1\r\n", 36) == 0);
        ASSERT_NULL(strstr(strbuf_get(&s.request), "Content-Length"));
        server_stop(&s);
}

TEST(request_refused_arguments) {
        _cleanup_(xv_error_done) XvError e1 = XV_ERROR_NULL, e2 = XV_ERROR_NULL;
        _cleanup_(xend_http_freep) XendHttp *x = NULL;
        XendReply *reply = NULL;

        ASSERT_OK(xend_http_new("/nonexistent/xend-socket", NULL, 0, &x));
        ASSERT_EQ(x->timeout_usec, XEND_TIMEOUT_DEFAULT_USEC);
        /* A path with a blank or newline would split the request line: refused before sending. */
        ASSERT_TRUE(xend_http_request(x, "GET", "/xend/domain/a b", NULL, &reply, &e1) < 0);
        ASSERT_EQ(e1.code, XVP_ERR_INTERNAL);
        ASSERT_TRUE(xend_http_request(x, "DELETE", "/xend/domain/a", NULL, &reply, &e2) < 0);
        ASSERT_NULL(reply);
}

/* ---------------------------------------------------------------- encodings */

TEST(form_encoding) {
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        xend_http_form_add(&b, "op", "new");
        xend_http_form_add(&b, "name", "a&op=destroy");
        xend_http_form_add(&b, "x", "line1\nline2 'q' \"d\" 50% 1+1=2");
        xend_http_form_add(&b, "utf8", "\xc3\xa9t\xc3\xa9");
        xend_http_form_add(&b, "k&=", NULL);
        xend_http_form_addf(&b, "n", "%d", -1);
        ASSERT_STREQ(strbuf_get(&b),
                     "op=new&name=a%26op%3Ddestroy"
                     "&x=line1%0Aline2%20%27q%27%20%22d%22%2050%25%201%2B1%3D2"
                     "&utf8=%C3%A9t%C3%A9&k%26%3D=&n=-1");
        ASSERT_EQ(b.error, 0);
}

TEST(path_encoding) {
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        strbuf_append(&b, "/xend/domain/");
        xend_http_path_append(&b, "we?ird#na me&x=1\n");
        ASSERT_STREQ(strbuf_get(&b), "/xend/domain/we%3Fird%23na%20me%26x%3D1%0A");

        ASSERT_TRUE(xend_http_segment_valid("guest1"));
        ASSERT_TRUE(xend_http_segment_valid("4dea22b3-1d52-d8f3-2516-782e98ab3fa0"));
        ASSERT_TRUE(xend_http_segment_valid("0"));
        ASSERT_FALSE(xend_http_segment_valid(""));
        ASSERT_FALSE(xend_http_segment_valid(NULL));
        ASSERT_FALSE(xend_http_segment_valid("."));
        ASSERT_FALSE(xend_http_segment_valid(".."));
        ASSERT_FALSE(xend_http_segment_valid("a/b"));
}

TEST(error_text) {
        static const char tb[] =
                "Traceback (most recent call last):\n"
                "  File \"x.py\", line 1, in f\n"
                "XendError: Domain 'x' does not exist\n\n  \n";
        char *t = NULL;

        ASSERT_OK(xend_http_error_text("(xend.err 'No such device\\tvbd')", 32, &t));
        ASSERT_STREQ(t, "No such device vbd");
        t = mfree(t);
        ASSERT_OK(xend_http_error_text(tb, sizeof(tb) - 1, &t));
        ASSERT_STREQ(t, "XendError: Domain 'x' does not exist");
        t = mfree(t);
        ASSERT_OK(xend_http_error_text("\n\n  first line\nsecond", 21, &t));
        ASSERT_STREQ(t, "first line");
        t = mfree(t);
        ASSERT_OK(xend_http_error_text("", 0, &t));
        ASSERT_NULL(t);
        ASSERT_OK(xend_http_error_text("\n\n", 2, &t));
        ASSERT_NULL(t);

        /* Bounded: a megabyte of text is cut, never copied whole into a message. */
        _cleanup_free_ char *big = malloc(1024 * 1024 + 1);
        memset(big, 'e', 1024 * 1024);
        big[1024 * 1024] = '\0';
        ASSERT_OK(xend_http_error_text(big, 1024 * 1024, &t));
        ASSERT_LE(strlen(t), 1024u);
        t = mfree(t);
}

TEST(reply_check_rules) {
        XendReply r404 = { .status = 404, .body = (char *) "", .body_size = 0 };
        XendReply r200 = { .status = 200, .body = (char *) "()", .body_size = 2 };
        XendReply r500 = { .status = 500, .body = (char *) "(xend.err 'boom')", .body_size = 17 };
        _cleanup_(xv_error_done) XvError e1 = XV_ERROR_NULL, e2 = XV_ERROR_NULL, e3 = XV_ERROR_NULL,
                e4 = XV_ERROR_NULL;

        /* 404 on a domain is "no such domain", named after the decoded path segment. */
        ASSERT_ERROR(xend_reply_check(&r404, "POST", "/xend/domain/a%26b", &e1), ENOENT);
        ASSERT_EQ(e1.code, XVP_ERR_NO_DOMAIN);
        ASSERT_EQ(e1.domain, XVP_FROM_XEND);
        ASSERT_STREQ(e1.message, "XenD has no domain 'a&b'");
        /* Anywhere else it is a failure of the request. */
        ASSERT_ERROR(xend_reply_check(&r404, "GET", "/xend/node/", &e2), EIO);
        ASSERT_EQ(e2.code, XVP_ERR_OPERATION_FAILED);
        ASSERT_STREQ(e2.message, "XenD failed GET /xend/node/ with status 404");
        ASSERT_ERROR(xend_reply_check(&r404, "POST", "/xend/domain/", &e3), EIO);
        ASSERT_EQ(e3.code, XVP_ERR_OPERATION_FAILED);
        ASSERT_OK(xend_reply_check(&r200, "GET", "/xend/domain", NULL));
        ASSERT_ERROR(xend_reply_check(&r500, "POST", "/xend/domain/x?op=y", &e4), EIO);
        ASSERT_STREQ(e4.message, "XenD failed POST /xend/domain/x with status 500: boom");
}

/* ---------------------------------------------------------------- deadlines and limits */

TEST(timeout_no_reply) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_(xend_http_freep) XendHttp *x = NULL;
        XendReply *reply = NULL;
        Server s = { .never_reply = true };
        uint64_t t0;

        server_start(&s);
        x = http_for(&s, 300 * 1000);
        t0 = monotonic_usec();
        ASSERT_ERROR(xend_http_request(x, "GET", "/xend/node/", NULL, &reply, &error), ETIMEDOUT);
        ASSERT_LT(monotonic_usec() - t0, 3 * 1000 * 1000ULL);
        ASSERT_GE(monotonic_usec() - t0, 290 * 1000ULL);
        ASSERT_EQ(error.code, XVP_ERR_OPERATION_TIMEOUT);
        ASSERT_EQ(error.domain, XVP_FROM_XEND);
        ASSERT_TRUE(strstr(error.message, "Timed out after 300 ms waiting for a reply from XenD at '"));
        ASSERT_NULL(reply);
        x = xend_http_free(x);          /* closes nothing: the connection is already closed */
        server_stop(&s);
}

/* The deadline covers the whole request: a server that trickles bytes cannot keep us forever. */
TEST(timeout_trickle) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_(xend_http_freep) XendHttp *x = NULL;
        static const char slow[] = "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n(domain (name 0123456789012345678901))";
        XendReply *reply = NULL;
        Server s = { .reply = slow, .reply_size = sizeof(slow) - 1, .drip_ms = 20 };
        uint64_t t0;

        server_start(&s);
        x = http_for(&s, 400 * 1000);
        t0 = monotonic_usec();
        ASSERT_ERROR(xend_http_request(x, "GET", "/xend/node/", NULL, &reply, &error), ETIMEDOUT);
        ASSERT_LT(monotonic_usec() - t0, 3 * 1000 * 1000ULL);
        ASSERT_EQ(error.code, XVP_ERR_OPERATION_TIMEOUT);
        server_stop(&s);
}

TEST(delay_within_deadline) {
        _cleanup_(xend_reply_freep) XendReply *reply = NULL;
        _cleanup_(xend_http_freep) XendHttp *x = NULL;
        static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n()";
        Server s = { .reply = ok, .reply_size = sizeof(ok) - 1, .delay_ms = 100 };

        server_start(&s);
        x = http_for(&s, 2 * 1000 * 1000);
        ASSERT_OK(xend_http_call(x, "GET", "/xend/node/", NULL, &reply, NULL));
        ASSERT_EQ(reply->status, 200u);
        server_stop(&s);
}

TEST(connect_failure) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_(xend_http_freep) XendHttp *x = NULL;
        XendReply *reply = NULL;

        ASSERT_OK(xend_http_new("/nonexistent/xend-socket", NULL, 1000 * 1000, &x));
        ASSERT_ERROR(xend_http_request(x, "GET", "/xend/node/", NULL, &reply, &error), ECONNREFUSED);
        ASSERT_EQ(error.code, XVP_ERR_OPERATION_FAILED);
        ASSERT_EQ(error.domain, XVP_FROM_XEND);
        ASSERT_STREQ(error.message,
                     "Failed to connect to XenD at '/nonexistent/xend-socket': No such file or directory");
}

/* A socket file nobody listens on any more. */
TEST(connect_refused) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_(xend_http_freep) XendHttp *x = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char dir[] = "/tmp/xv-xend-http.XXXXXX", path[64];
        XendReply *reply = NULL;
        int fd;

        ASSERT_NOT_NULL(mkdtemp(dir));
        (void) snprintf(path, sizeof(path), "%s/sock", dir);
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(bind(fd, (struct sockaddr *) &sa, sizeof(sa)) >= 0);
        safe_close(fd);

        ASSERT_OK(xend_http_new(path, NULL, 1000 * 1000, &x));
        ASSERT_ERROR(xend_http_request(x, "GET", "/xend/node/", NULL, &reply, &error), ECONNREFUSED);
        ASSERT_TRUE(strstr(error.message, "Connection refused"));
        (void) unlink(path);
        (void) rmdir(dir);
}

/* Exactly the limit is accepted; one byte more is an error, never a silent truncation. */
TEST(size_limit_eof_delimited) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_(xend_reply_freep) XendReply *reply = NULL;
        _cleanup_(xend_http_freep) XendHttp *x = NULL;
        Server s1 = { .eof_body_size = XEND_REPLY_SIZE_MAX };
        Server s2 = { .eof_body_size = XEND_REPLY_SIZE_MAX + 1 };

        server_start(&s1);
        x = http_for(&s1, 20 * 1000 * 1000);
        ASSERT_OK(xend_http_request(x, "GET", "/xend/domain", NULL, &reply, NULL));
        ASSERT_EQ(reply->body_size, (size_t) XEND_REPLY_SIZE_MAX);
        server_stop(&s1);
        reply = xend_reply_free(reply);
        x = xend_http_free(x);

        server_start(&s2);
        x = http_for(&s2, 20 * 1000 * 1000);
        ASSERT_ERROR(xend_http_request(x, "GET", "/xend/domain", NULL, &reply, &error), E2BIG);
        ASSERT_EQ(error.code, XVP_ERR_HTTP);
        ASSERT_STREQ(error.message, "Reply from XenD is larger than 16777216 bytes");
        ASSERT_NULL(reply);
        server_stop(&s2);
}

TEST(size_limit_chunked) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_(xend_http_parser_freep) XendHttpParser *p = NULL;
        static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        int r;

        /* Many small chunks add up: the bound is on the sum. */
        ASSERT_OK(xend_http_parser_new(100, &p));
        ASSERT_EQ(xend_http_parser_feed(p, head, sizeof(head) - 1, &error), 0);
        for (unsigned i = 0; i < 20; i++) {
                r = xend_http_parser_feed(p, "a\r\n0123456789\r\n", 15, &error);
                if (r < 0)
                        break;
                ASSERT_EQ(r, 0);
        }
        ASSERT_ERROR(r, E2BIG);
        ASSERT_STREQ(error.message, "Reply from XenD is larger than 100 bytes");
        /* A failed parser stays failed. */
        ASSERT_TRUE(xend_http_parser_feed(p, "0\r\n\r\n", 5, NULL) < 0);
}

/* ---------------------------------------------------------------- configuration and TCP */

TEST(config) {
        _cleanup_(xend_http_freep) XendHttp *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        _cleanup_free_ char *da = NULL, *dc = NULL, *dd = NULL;
        XendHttp *bad = NULL;

        ASSERT_OK(xend_http_new(NULL, NULL, 0, &a));
        ASSERT_STREQ(a->socket_path, XEND_SOCKET_DEFAULT);
        ASSERT_FALSE(xend_http_is_insecure(a));
        da = xend_http_describe(a);
        ASSERT_STREQ(da, "/var/lib/xend/xend-socket");

        ASSERT_OK(xend_http_new("/ignored", "xenhost", 0, &b));
        ASSERT_TRUE(xend_http_is_insecure(b));
        ASSERT_NULL(b->socket_path);
        ASSERT_STREQ(b->tcp_host, "xenhost");
        ASSERT_EQ(b->tcp_port, 8000);

        ASSERT_OK(xend_http_new(NULL, "[::1]:8001", 0, &c));
        ASSERT_STREQ(c->tcp_host, "::1");
        ASSERT_EQ(c->tcp_port, 8001);
        dc = xend_http_describe(c);
        ASSERT_STREQ(dc, "[::1]:8001");

        ASSERT_OK(xend_http_new(NULL, "10.0.0.1:8000", 0, &d));
        dd = xend_http_describe(d);
        ASSERT_STREQ(dd, "10.0.0.1:8000");

        ASSERT_TRUE(xend_http_new(NULL, "host:0", 0, &bad) < 0);
        ASSERT_TRUE(xend_http_new(NULL, "host:65536", 0, &bad) < 0);
        ASSERT_TRUE(xend_http_new(NULL, "host:80x", 0, &bad) < 0);
        ASSERT_TRUE(xend_http_new(NULL, ":80", 0, &bad) < 0);
        ASSERT_TRUE(xend_http_new(NULL, "[::1", 0, &bad) < 0);
        ASSERT_TRUE(xend_http_new(NULL, "", 0, &bad) < 0);
        ASSERT_NULL(bad);
}

TEST(tcp_transport) {
        _cleanup_(xend_reply_freep) XendReply *reply = NULL;
        _cleanup_(xend_http_freep) XendHttp *x = NULL;
        static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n(node)";
        Server s = { .reply = ok, .reply_size = sizeof(ok) - 1, .tcp = true };

        server_start(&s);
        x = http_for(&s, 5 * 1000 * 1000);
        ASSERT_TRUE(xend_http_is_insecure(x));
        ASSERT_OK(xend_http_call(x, "GET", "/xend/node/", NULL, &reply, NULL));
        ASSERT_STREQ(reply->body, "(node)");
        server_stop(&s);
}

DEFINE_TEST_MAIN
