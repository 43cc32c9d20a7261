/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzzes the daemon as a client reaches it: the input is written into one end of a socketpair
 * whose other end is a Client of a real Manager (libxvd-core: the same reader, dispatcher,
 * authorization and handlers as xenvirtd), and the loop runs until the client has hung up and
 * is gone. Everything the daemon sends back is drained and checked: each reply must be a
 * well-formed frame of our program, and every error reply must carry a decodable error.
 *
 * The backend is the real xend backend with its channels down: no xenstore, no hypercalls, no XM
 * directory, and in place of XenD a thread of this program that answers GET /xend/node/ (config
 * version 4, so that the backend opens at all: with nothing reachable hypervisor_open() refuses)
 * and 404 to everything else. Every handler decodes its arguments, validates them, parses its
 * XML and talks HTTP exactly as in production, then fails on the missing domain or channel with
 * an error reply; that reaches far more of the daemon than the generated stubs (those answer
 * NO_SUPPORT before looking at anything) and needs no xensim. polkit is a bus address that does
 * not exist: every question fails closed at once, so the auth-required and ACL paths run without
 * a dbus-daemon.
 *
 * Input: byte 0 selects the configuration (bits 0-1: 0 = no auth, no ACLs; 1 = auth_unix_* =
 * polkit; 2 = access_drivers = polkit; 3 = both), the socket (bit 2: read-only) and the peer
 * (bit 3: root, else uid 65534, by creating the socketpair with that effective uid when we are
 * root). The rest is the byte stream of the connection.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "fuzz.h"
#include "xv-log.h"
#include "xv-parse-util.h"
#include "xv-message.h"
#include "xvd-client.h"
#include "xvd-config.h"
#include "xvd-manager.h"

#define FUZZ_DISPATCH_INPUT_MAX         (256 * 1024)
/* Loop iterations per input: far more than any input needs (each round moves at least a
 * socket buffer's worth of data or one frame through the dispatcher). Hitting it means the
 * daemon kept a hung-up client: a bug. */
#define FUZZ_DISPATCH_ROUNDS_MAX        200000u
#define FUZZ_DISPATCH_READ_BUF          65536u
#define FUZZ_NOBODY_UID                 65534

#define FAKE_XEND_REQUEST_MAX           (64 * 1024)
#define FAKE_XEND_NODE                  "(node (host fuzz) (xend_config_format 4))"

static char fake_xend_dir[] = "/tmp/xenvirt-fuzz-XXXXXX";
static char fake_xend_socket[sizeof(fake_xend_dir) + 32];

static void fake_xend_cleanup(void) {
        (void) unlink(fake_xend_socket);
        (void) rmdir(fake_xend_dir);
}

/* Reads one request (headers, then Content-Length bytes of body) and answers it. */
static void fake_xend_serve(int fd) {
        static char req[FAKE_XEND_REQUEST_MAX + 1];
        size_t n = 0, want = 0;
        const char *body;
        char *end = NULL;
        char reply[512];
        int len;

        while (n < FAKE_XEND_REQUEST_MAX) {
                ssize_t k = read(fd, req + n, FAKE_XEND_REQUEST_MAX - n);

                if (k <= 0)
                        break;
                n += (size_t) k;
                req[n] = 0;
                if (!end && (end = strstr(req, "\r\n\r\n"))) {
                        const char *cl = strcasestr(req, "\r\nContent-Length:");
                        uint64_t content_length = 0;

                        want = (size_t) (end + 4 - req);
                        if (cl && cl < end) {
                                cl += strlen("\r\nContent-Length:");
                                cl += strspn(cl, " ");
                                if (parse_u64_prefix(cl, &content_length, NULL) >= 0 && content_length <= FAKE_XEND_REQUEST_MAX)
                                        want += (size_t) content_length;
                        }
                }
                if (end && n >= want)
                        break;
        }
        req[n] = 0;

        body = strncmp(req, "GET /xend/node/ ", 16) == 0 ? FAKE_XEND_NODE : NULL;
        if (body)
                len = snprintf(reply, sizeof(reply), "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                               "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
        else
                len = snprintf(reply, sizeof(reply), "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        (void) send(fd, reply, (size_t) len, MSG_NOSIGNAL);
}

static void *fake_xend_thread(void *userdata) {
        int lfd = (int) (intptr_t) userdata;

        for (;;) {
                int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

                if (fd < 0)
                        continue;
                fake_xend_serve(fd);
                close(fd);
        }
        return NULL;
}

static void fake_xend_start(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        pthread_t t;
        int fd;

        if (!mkdtemp(fake_xend_dir))
                abort();
        (void) snprintf(fake_xend_socket, sizeof(fake_xend_socket), "%s/xend-socket", fake_xend_dir);
        (void) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fake_xend_socket);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 64) < 0)
                abort();
        atexit(fake_xend_cleanup);
        if (pthread_create(&t, NULL, fake_xend_thread, (void *) (intptr_t) fd) != 0)
                abort();
        (void) pthread_detach(t);
}

enum {
        FUZZ_CONFIG_OPEN,
        FUZZ_CONFIG_AUTH,
        FUZZ_CONFIG_ACL,
        FUZZ_CONFIG_AUTH_ACL,
        _FUZZ_CONFIG_MAX,
};

static Manager *managers[_FUZZ_CONFIG_MAX];
static bool debug;

static Manager *manager_for(unsigned config) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        Manager *m = NULL;
        Config c;
        int r;

        if (managers[config])
                return managers[config];

        config_init(&c);
        r = config_set(&c, "xend_socket", fake_xend_socket, &error);
        if (r >= 0)
                r = config_set(&c, "xm_dir", "/nonexistent/xenvirt-fuzz/xen", &error);
        if (r >= 0)
                r = config_set(&c, "host_root", "/nonexistent/xenvirt-fuzz/root", &error);
        if (r >= 0 && (config == FUZZ_CONFIG_AUTH || config == FUZZ_CONFIG_AUTH_ACL)) {
                r = config_set(&c, "auth_unix_rw", "polkit", &error);
                if (r >= 0)
                        r = config_set(&c, "auth_unix_ro", "polkit", &error);
        }
        if (r >= 0 && (config == FUZZ_CONFIG_ACL || config == FUZZ_CONFIG_AUTH_ACL))
                r = config_set(&c, "access_drivers", "[ \"polkit\" ]", &error);
        if (r >= 0)
                r = manager_new(&c, NULL, false, false, &m);
        config_done(&c);
        if (r >= 0)
                r = manager_setup(m, &error);
        if (r < 0) {
                fprintf(stderr, "fuzz-dispatch: cannot set up a manager: %s\n", error.message ?: strerror(-r));
                abort();
        }
        return managers[config] = m;
}

/* A socketpair whose SO_PEERCRED says uid @uid when we can arrange it (as root: the effective
 * uid is what the kernel records). */
static int make_pair(bool as_root, int fds[2]) {
        bool switch_uid = !as_root && geteuid() == 0;
        int r = 0;

        if (switch_uid && setresuid((uid_t) -1, FUZZ_NOBODY_UID, (uid_t) -1) < 0)
                return -errno;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
                r = -errno;
        if (switch_uid && setresuid((uid_t) -1, 0, (uid_t) -1) < 0)
                abort();        /* cannot become root again: nothing below would be meaningful */
        return r;
}

/* Every frame the daemon sends must be a reply or a message, and an error must carry an
 * xvp_error. */
static void check_reply(const Message *m) {
        const xvp_message_header *h = &m->header;

        if (h->prog == XVP_KEEPALIVE_PROGRAM)
                return;
        if (debug && h->status != XVP_STATUS_ERROR)
                fprintf(stderr, "reply to %d: %s\n", h->proc, h->type == XVP_MSG_REPLY ? "ok" : "message");
        /* A call of an unknown program or version is answered with its own header echoed: any
         * program, any version; but always a reply (or a message of ours), never a call. */
        if (h->type != XVP_MSG_REPLY && h->type != XVP_MSG_MESSAGE)
                abort();
        if (h->type == XVP_MSG_MESSAGE && h->prog != XVP_PROGRAM)
                abort();
        if (h->type == XVP_MSG_REPLY && h->status == XVP_STATUS_ERROR) {
                xvp_error e = {};

                if (message_decode_payload(m, (xdrproc_t) xdr_xvp_error, &e, NULL) < 0)
                        abort();
                if (debug)
                        fprintf(stderr, "reply to %d: error %d: %s\n", h->proc, e.code,
                                e.message ? *e.message : "(null)");
                xdr_free((xdrproc_t) xdr_xvp_error, &e);
        }
}

/* Reads what the daemon sent; returns false at end of stream. */
static bool drain(int fd, MessageReader *replies) {
        static uint8_t buf[FUZZ_DISPATCH_READ_BUF];

        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                size_t off = 0;

                if (n == 0)
                        return false;
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR;

                while (off < (size_t) n) {
                        _cleanup_(message_freep) Message *m = NULL;
                        size_t consumed;

                        if (message_reader_feed(replies, buf + off, (size_t) n - off, &consumed, NULL) < 0)
                                abort();        /* the daemon sent a frame that does not parse */
                        off += consumed;
                        if (message_reader_pop(replies, &m) > 0)
                                check_reply(m);
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(message_reader_freep) MessageReader *replies = NULL;
        unsigned mode;
        Manager *m;
        sd_event *e;
        int fds[2] = { -EBADF, -EBADF };
        size_t off = 0;
        bool shut = false, open = true;
        unsigned idle = 0;
        int r;

        if (size < 1 || size > FUZZ_DISPATCH_INPUT_MAX)
                return 0;
        mode = data[0];
        data++;
        size--;

        m = manager_for(mode & 3u);
        e = manager_get_event(m);
        if (make_pair(mode & 8u, fds) < 0)
                abort();
        if (manager_add_client(m, fds[0], mode & 4u) < 0)
                abort();
        if (message_reader_new(MESSAGE_FRAME_MAX, &replies) < 0)
                abort();

        for (unsigned round = 0;; round++) {
                if (round >= FUZZ_DISPATCH_ROUNDS_MAX)
                        abort();        /* the daemon never let go of a client that hung up */

                if (off < size) {
                        ssize_t n = send(fds[1], data + off, size - off, MSG_NOSIGNAL);

                        if (n > 0)
                                off += (size_t) n;
                        else if (n < 0 && errno != EAGAIN && errno != EINTR)
                                off = size;     /* the daemon dropped us (a framing lie): fine */
                } else if (!shut && idle >= 2) {
                        /* Hang up only once the daemon has nothing left to do: calls waiting for
                         * polkit get their answers before the disconnection cancels them. */
                        (void) shutdown(fds[1], SHUT_WR);
                        shut = true;
                }

                if (open)
                        open = drain(fds[1], replies);

                r = sd_event_run(e, 0);
                if (r < 0)
                        abort();
                idle = r == 0 && off >= size ? idle + 1 : 0;
                if (shut && !manager_first_client(m))
                        break;
        }
        (void) drain(fds[1], replies);
        close(fds[1]);
        return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        /* polkit answers "unavailable" at once; the daemon's log stays quiet. */
        (void) setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/xenvirt-fuzz/bus", 1);
        /* FUZZ_DISPATCH_DEBUG=1: the daemon's debug log and every error reply on stderr. */
        debug = getenv("FUZZ_DISPATCH_DEBUG");
        log_set_target(debug ? LOG_TARGET_STDERR : LOG_TARGET_NULL);
        log_set_max_level(debug ? LOG_DEBUG : LOG_EMERG);
        fake_xend_start();
        return 0;
}
