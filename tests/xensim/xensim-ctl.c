/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xensim-ctl SOCKET COMMAND...: sends one command to xensim's control socket and prints the
 * answer. Output lines go to stdout; the final "OK" is swallowed (exit 0), "ERR <message>" is
 * printed to stderr as "error: <message>" (exit 1). Exit 2 when the socket cannot be reached.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "xv-macro.h"

#define CTL_LINE_MAX    4096            /* the server's XSIM_CONTROL_LINE_MAX */
#define CTL_REPLY_MAX   (16 * 1024 * 1024)

static int send_all(int fd, const char *s, size_t len) {
        while (len > 0) {
                ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                s += n;
                len -= (size_t) n;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *reply = NULL;
        char line[CTL_LINE_MAX];
        size_t len = 0, size = 0, allocated = 0;
        char *last;

        if (argc < 3) {
                fprintf(stderr, "Usage: %s SOCKET COMMAND...\n", argv[0]);
                return 2;
        }
        if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "error: socket path too long\n");
                return 2;
        }
        for (int i = 2; i < argc; i++) {
                size_t l = strlen(argv[i]);

                if (len + l + 2 > sizeof(line) || strchr(argv[i], '\n')) {
                        fprintf(stderr, "error: command too long or with a newline\n");
                        return 2;
                }
                if (i > 2)
                        line[len++] = ' ';
                memcpy(line + len, argv[i], l);
                len += l;
        }
        line[len++] = '\n';

        memcpy(sa.sun_path, argv[1], strlen(argv[1]));
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                fprintf(stderr, "error: cannot connect to '%s': %s\n", argv[1], strerror(errno));
                return 2;
        }
        if (send_all(fd, line, len) < 0) {
                fprintf(stderr, "error: cannot send: %s\n", strerror(errno));
                return 2;
        }
        /* One command per connection: half-close, then read until the server's final line. */
        (void) shutdown(fd, SHUT_WR);
        for (;;) {
                ssize_t n;

                if (size + 4096 + 1 > allocated) {
                        char *p;

                        if (allocated >= CTL_REPLY_MAX) {
                                fprintf(stderr, "error: reply too long\n");
                                return 2;
                        }
                        allocated = allocated ? allocated * 2 : 8192;
                        p = realloc(reply, allocated);
                        if (!p) {
                                fprintf(stderr, "error: out of memory\n");
                                return 2;
                        }
                        reply = p;
                }
                n = read(fd, reply + size, allocated - size - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        fprintf(stderr, "error: cannot read: %s\n", strerror(errno));
                        return 2;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        if (!reply || size == 0 || reply[size - 1] != '\n') {
                fprintf(stderr, "error: incomplete reply from '%s'\n", argv[1]);
                return 2;
        }
        reply[size - 1] = 0;
        last = strrchr(reply, '\n');
        last = last ? last + 1 : reply;
        fwrite(reply, 1, (size_t) (last - reply), stdout);
        if (streq(last, "OK"))
                return 0;
        if (strncmp(last, "ERR ", 4) == 0) {
                fprintf(stderr, "error: %s\n", last + 4);
                return 1;
        }
        fprintf(stderr, "error: unexpected reply '%s'\n", last);
        return 2;
}
