/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-error.h"
#include "xv-xen-chr.h"

static void chr_clear(DomainChr *c) {
        free(c->path);
        free(c->host);
        free(c->service);
        free(c->bind_host);
        free(c->bind_service);
}

/* Parses @spec, checks the fields, and checks that formatting gives @canonical back. */
static void check(const char *spec, DomainChrType type, const char *path, const char *host,
                  const char *service, bool listen, DomainChrTcpProtocol protocol, const char *bind_host,
                  const char *bind_service, const char *canonical) {
        _cleanup_(chr_clear) DomainChr c = {};
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_free_ char *s = NULL;

        ASSERT_OK(xen_chr_parse(spec, &c, &error));
        ASSERT_FALSE(xv_error_is_set(&error));
        ASSERT_EQ(c.type, type);
        ASSERT_STREQ(c.path, path);
        ASSERT_STREQ(c.host, host);
        ASSERT_STREQ(c.service, service);
        ASSERT_EQ(c.listen, listen);
        ASSERT_EQ(c.protocol, protocol);
        ASSERT_STREQ(c.bind_host, bind_host);
        ASSERT_STREQ(c.bind_service, bind_service);
        ASSERT_EQ(c.target_port, -1);
        ASSERT_EQ(c.target_type, DOMAIN_CHR_TARGET_NONE);

        ASSERT_OK(xen_chr_format(&c, &s, &error));
        ASSERT_STREQ(s, canonical ?: spec);
}

static void check_rejected(const char *spec, const char *message) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        DomainChr c = { .type = DOMAIN_CHR_FILE, .path = (char *) "untouched" };

        ASSERT_ERROR(xen_chr_parse(spec, &c, &error), EINVAL);
        ASSERT_STREQ(error.message, message);
        /* Written on success only. */
        ASSERT_STREQ(c.path, "untouched");
}

TEST(simple_types) {
        check("pty", DOMAIN_CHR_PTY, NULL, NULL, NULL, false, 0, NULL, NULL, NULL);
        check("null", DOMAIN_CHR_NULL, NULL, NULL, NULL, false, 0, NULL, NULL, NULL);
        check("stdio", DOMAIN_CHR_STDIO, NULL, NULL, NULL, false, 0, NULL, NULL, NULL);
        check("vc", DOMAIN_CHR_VC, NULL, NULL, NULL, false, 0, NULL, NULL, NULL);
        /* qemu's "vc:WxH" size is dropped. */
        check("vc:800x600", DOMAIN_CHR_VC, NULL, NULL, NULL, false, 0, NULL, NULL, "vc");
}

TEST(paths) {
        check("/dev/ttyS0", DOMAIN_CHR_DEV, "/dev/ttyS0", NULL, NULL, false, 0, NULL, NULL, NULL);
        check("file:/tmp/serial.log", DOMAIN_CHR_FILE, "/tmp/serial.log", NULL, NULL, false, 0, NULL, NULL,
              NULL);
        check("pipe:/tmp/serial.pipe", DOMAIN_CHR_PIPE, "/tmp/serial.pipe", NULL, NULL, false, 0, NULL,
              NULL, NULL);
        /* Only the first colon separates the type. */
        check("file:/tmp/a:b", DOMAIN_CHR_FILE, "/tmp/a:b", NULL, NULL, false, 0, NULL, NULL, NULL);
}

TEST(tcp) {
        check("tcp:localhost:9999", DOMAIN_CHR_TCP, NULL, "localhost", "9999", false, DOMAIN_CHR_TCP_RAW,
              NULL, NULL, NULL);
        check("tcp:localhost:9999,server,nowait", DOMAIN_CHR_TCP, NULL, "localhost", "9999", true,
              DOMAIN_CHR_TCP_RAW, NULL, NULL, NULL);
        check("telnet:localhost:9999,server,nowait", DOMAIN_CHR_TCP, NULL, "localhost", "9999", true,
              DOMAIN_CHR_TCP_TELNET, NULL, NULL, NULL);
        check("tcp::9999,server", DOMAIN_CHR_TCP, NULL, NULL, "9999", true, DOMAIN_CHR_TCP_RAW, NULL, NULL,
              "tcp::9999,server,nowait");
        check("tcp:h:1,nowait,server", DOMAIN_CHR_TCP, NULL, "h", "1", true, DOMAIN_CHR_TCP_RAW, NULL, NULL,
              "tcp:h:1,server,nowait");
        check("telnet:h:23,nodelay", DOMAIN_CHR_TCP, NULL, "h", "23", false, DOMAIN_CHR_TCP_TELNET, NULL,
              NULL, "telnet:h:23");
}

TEST(udp) {
        check("udp:localhost:9998@localhost:9999", DOMAIN_CHR_UDP, NULL, "localhost", "9998", false, 0,
              "localhost", "9999", NULL);
        check("udp:localhost:9998", DOMAIN_CHR_UDP, NULL, "localhost", "9998", false, 0, NULL, NULL, NULL);
        check("udp::9998@:9999", DOMAIN_CHR_UDP, NULL, NULL, "9998", false, 0, NULL, "9999", NULL);
}

TEST(unix_socket) {
        check("unix:/tmp/serial.sock,server,nowait", DOMAIN_CHR_UNIX, "/tmp/serial.sock", NULL, NULL, true,
              0, NULL, NULL, NULL);
        check("unix:/tmp/serial.sock", DOMAIN_CHR_UNIX, "/tmp/serial.sock", NULL, NULL, false, 0, NULL,
              NULL, NULL);
}

TEST(rejected) {
        /* "none" means no device; deciding that is the caller's business. */
        check_rejected("none", "Unknown character device type 'none'");
        check_rejected("", "Empty character device specification");
        check_rejected("serial:/x", "Unknown character device type 'serial'");
        check_rejected("dev:/dev/ttyS0", "Unknown character device type 'dev'");
        check_rejected("pty:/dev/pts/1", "Character device 'pty:/dev/pts/1' takes no argument");
        check_rejected("file:", "Malformed character device 'file:': missing path");
        check_rejected("pipe", "Malformed character device 'pipe': missing path");
        check_rejected("tcp:localhost", "Malformed character device 'tcp:localhost': expected host:port");
        check_rejected("tcp:localhost:", "Malformed character device 'tcp:localhost:': missing port");
        check_rejected("tcp:h:1,server,bogus", "Unknown option 'bogus' in character device 'tcp:h:1,server,bogus'");
        check_rejected("udp:h:1@h2", "Malformed character device 'udp:h:1@h2': expected @host:port");
        check_rejected("udp:h:@h2:3", "Malformed character device 'udp:h:@h2:3': missing port");
        check_rejected("unix:,server", "Malformed character device 'unix:,server': missing socket path");
        check_rejected("unix:", "Malformed character device 'unix:': missing address");
}

TEST(rejected_too_long) {
        _cleanup_free_ char *spec = malloc(XEN_CHR_SPEC_MAX + 7);

        ASSERT_NOT_NULL(spec);
        memcpy(spec, "file:/", 6);
        memset(spec + 6, 'a', XEN_CHR_SPEC_MAX);
        spec[XEN_CHR_SPEC_MAX + 6] = '\0';
        check_rejected(spec, "Character device specification longer than 4096 bytes");
}

TEST(format_rejected) {
        _cleanup_(xv_error_done) XvError e1 = XV_ERROR_NULL, e2 = XV_ERROR_NULL, e3 = XV_ERROR_NULL;
        DomainChr dev = { .type = DOMAIN_CHR_DEV, .target_port = -1 };
        DomainChr unix_comma = { .type = DOMAIN_CHR_UNIX, .path = (char *) "/tmp/a,server", .target_port = -1 };
        DomainChr tcp = { .type = DOMAIN_CHR_TCP, .host = (char *) "h", .target_port = -1 };
        char *s = NULL;

        ASSERT_LT(xen_chr_format(&dev, &s, &e1), 0);
        ASSERT_STREQ(e1.message, "Character device of type 'dev' without a path");
        /* A comma in a socket path would inject ",server" options. */
        ASSERT_LT(xen_chr_format(&unix_comma, &s, &e2), 0);
        ASSERT_STREQ(e2.message, "Socket path '/tmp/a,server' contains a comma, which Xen cannot express");
        ASSERT_LT(xen_chr_format(&tcp, &s, &e3), 0);
        ASSERT_STREQ(e3.message, "Character device of type 'tcp' without a port");
        ASSERT_NULL(s);
}

DEFINE_TEST_MAIN
