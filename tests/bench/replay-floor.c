/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * replay-floor: the floor of a libvirt-protocol benchmark, a server that costs (almost) nothing.
 *
 *   replay-floor -l LISTEN_SOCKET -u UPSTREAM_SOCKET [-c PROC,PROC...]
 *
 * A proxy in front of a real server (xenvirtd): every call is forwarded to the upstream server,
 * except the calls of the procedures given with -c (default: the ones rpcbench measures:
 * lookup by name, get info, get XML description, list all domains). Those are answered from a
 * cache once the upstream server has answered the same call (same procedure, same arguments):
 * read, one hash lookup, the serial patched in, write. After the warm-up, a benchmark against
 * this proxy measures the client library, the kernel and the scheduler, with a server that does
 * nothing else; what no server can beat on this machine with this client.
 *
 * One thread per connection, each with its own upstream connection (the handshake and every
 * other call go through unchanged). Not a product: a measuring instrument for make bench.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MSG_MAX (32u * 1024u * 1024u)  /* libvirt's largest message (VIR_NET_MESSAGE_MAX) */
#define HEADER_SIZE 28u                 /* length word + prog, vers, proc, type, serial, status */
#define CACHE_SLOTS 65536u              /* power of two; the cache holds at most half of them */
#define CACHE_BYTES_MAX (512u * 1024u * 1024u)
#define PENDING_MAX 16u                 /* cacheable calls in flight per connection */
#define PROCS_MAX 32u

#define TYPE_CALL 0u
#define TYPE_REPLY 1u
#define STATUS_OK 0u

/* Procedures of the libvirt remote program (remote_protocol.x). */
#define PROC_DOMAIN_GET_INFO 16u
#define PROC_DOMAIN_GET_XML_DESC 14u
#define PROC_DOMAIN_LOOKUP_BY_NAME 23u
#define PROC_CONNECT_LIST_ALL_DOMAINS 273u

typedef struct Entry {
        uint64_t hash;
        uint32_t proc;
        uint32_t call_len;              /* the call's arguments: bytes after the header */
        uint32_t reply_len;             /* the whole reply message */
        uint8_t *call;
        uint8_t *reply;
} Entry;

static Entry cache[CACHE_SLOTS];
static size_t cache_entries, cache_bytes;
static pthread_rwlock_t cache_lock = PTHREAD_RWLOCK_INITIALIZER;
static uint32_t cacheable[PROCS_MAX];
static size_t n_cacheable;
static const char *upstream_path;

typedef struct Pending {
        uint32_t serial;
        uint32_t proc;
        uint64_t hash;
        uint32_t call_len;
        uint8_t *call;
} Pending;

typedef struct Conn {
        int fd, up;
        bool dead;                      /* -e: freed after the epoll batch that saw it end */
        uint8_t *buf;                   /* one message, MSG_MAX at most */
        Pending pending[PENDING_MAX];
} Conn;

static uint32_t get_u32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static void put_u32(uint8_t *p, uint32_t v) {
        p[0] = v >> 24;
        p[1] = v >> 16;
        p[2] = v >> 8;
        p[3] = v;
}

static uint64_t hash_call(uint32_t proc, const uint8_t *args, size_t len) {
        uint64_t h = 0xcbf29ce484222325ull ^ proc;

        for (size_t i = 0; i < len; i++)
                h = (h ^ args[i]) * 0x100000001b3ull;
        return h;
}

static bool is_cacheable(uint32_t prog, uint32_t proc) {
        if (prog != 0x20008086u)
                return false;
        for (size_t i = 0; i < n_cacheable; i++)
                if (cacheable[i] == proc)
                        return true;
        return false;
}

static int full_io(int fd, uint8_t *p, size_t n, bool writing) {
        while (n > 0) {
                ssize_t r = writing ? write(fd, p, n) : read(fd, p, n);

                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return -1;
                p += r;
                n -= (size_t) r;
        }
        return 0;
}

/* One whole message into c->buf; returns its length, or 0 at EOF or on a bad frame. */
static uint32_t read_message(int fd, uint8_t *buf) {
        uint32_t len;

        if (full_io(fd, buf, 4, false) < 0)
                return 0;
        len = get_u32(buf);
        if (len < HEADER_SIZE || len > MSG_MAX)
                return 0;
        if (full_io(fd, buf + 4, len - 4, false) < 0)
                return 0;
        return len;
}

/* The cached reply to this call, copied into @out with @serial; its length, or 0. */
static uint32_t cache_find(uint64_t hash, uint32_t proc, const uint8_t *args, uint32_t len,
                           uint32_t serial, uint8_t *out) {
        uint32_t found = 0;

        pthread_rwlock_rdlock(&cache_lock);
        for (size_t i = hash & (CACHE_SLOTS - 1);; i = (i + 1) & (CACHE_SLOTS - 1)) {
                const Entry *e = &cache[i];

                if (!e->reply)
                        break;
                if (e->hash == hash && e->proc == proc && e->call_len == len &&
                    memcmp(e->call, args, len) == 0) {
                        memcpy(out, e->reply, e->reply_len);
                        found = e->reply_len;
                        break;
                }
        }
        pthread_rwlock_unlock(&cache_lock);
        if (found)
                put_u32(out + 20, serial);
        return found;
}

/* Keeps a copy of a successful reply to a cacheable call. The call's arguments move into the entry
 * (p->call is then NULL); when nothing is stored, they stay with the caller. */
static void cache_add(Pending *p, const uint8_t *reply, uint32_t reply_len) {
        uint8_t *copy;

        pthread_rwlock_wrlock(&cache_lock);
        if (cache_entries >= CACHE_SLOTS / 2 || cache_bytes + reply_len + p->call_len > CACHE_BYTES_MAX)
                goto out;
        for (size_t i = p->hash & (CACHE_SLOTS - 1);; i = (i + 1) & (CACHE_SLOTS - 1)) {
                Entry *e = &cache[i];

                if (e->reply) {
                        if (e->hash == p->hash && e->proc == p->proc && e->call_len == p->call_len &&
                            memcmp(e->call, p->call, p->call_len) == 0)
                                goto out;       /* another connection was first */
                        continue;
                }
                copy = malloc(reply_len);
                if (!copy)
                        goto out;
                memcpy(copy, reply, reply_len);
                *e = (Entry) { .hash = p->hash, .proc = p->proc, .call_len = p->call_len,
                               .reply_len = reply_len, .call = p->call, .reply = copy };
                p->call = NULL;
                cache_entries++;
                cache_bytes += reply_len + e->call_len;
                break;
        }
out:
        pthread_rwlock_unlock(&cache_lock);
}

static int connect_upstream(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -1;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", upstream_path);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* A call from the client: answered from the cache, or forwarded (and remembered if cacheable). */
static int from_client(Conn *c, uint32_t len) {
        uint32_t prog = get_u32(c->buf + 4), proc = get_u32(c->buf + 12);
        uint32_t type = get_u32(c->buf + 16), serial = get_u32(c->buf + 20);
        const uint8_t *args = c->buf + HEADER_SIZE;
        uint32_t args_len = len - HEADER_SIZE;
        uint64_t hash;
        uint32_t n;

        if (type != TYPE_CALL || !is_cacheable(prog, proc))
                return full_io(c->up, c->buf, len, true);
        hash = hash_call(proc, args, args_len);
        n = cache_find(hash, proc, args, args_len, serial, c->buf);
        if (n > 0)
                return full_io(c->fd, c->buf, n, true);
        for (size_t i = 0; i < PENDING_MAX; i++) {
                Pending *p = &c->pending[i];

                if (p->call)
                        continue;
                p->call = malloc(args_len ? args_len : 1);
                if (!p->call)
                        break;
                memcpy(p->call, args, args_len);
                p->serial = serial;
                p->proc = proc;
                p->hash = hash;
                p->call_len = args_len;
                break;
        }
        return full_io(c->up, c->buf, len, true);
}

/* A message from the upstream server: goes to the client, and to the cache if it answers a
 * remembered call successfully. */
static int from_upstream(Conn *c, uint32_t len) {
        uint32_t type = get_u32(c->buf + 16), serial = get_u32(c->buf + 20);
        uint32_t status = get_u32(c->buf + 24);

        if (type == TYPE_REPLY)
                for (size_t i = 0; i < PENDING_MAX; i++) {
                        Pending *p = &c->pending[i];

                        if (!p->call || p->serial != serial)
                                continue;
                        if (status == STATUS_OK)
                                cache_add(p, c->buf, len);
                        free(p->call);
                        p->call = NULL;
                        break;
                }
        return full_io(c->fd, c->buf, len, true);
}

static Conn *conn_new(int fd) {
        Conn *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->fd = fd;
        c->up = connect_upstream();
        c->buf = malloc(MSG_MAX);
        if (c->up < 0 || !c->buf) {
                if (c->up >= 0)
                        close(c->up);
                free(c->buf);
                free(c);
                return NULL;
        }
        return c;
}

static void conn_free(Conn *c) {
        for (size_t i = 0; i < PENDING_MAX; i++)
                free(c->pending[i].call);
        close(c->up);
        close(c->fd);
        free(c->buf);
        free(c);
}

/* -e: one thread for every connection, on an epoll set (the tags say which side is readable). */
static int serve_epoll(int lfd) {
        struct epoll_event ev[64];
        int ep = epoll_create1(EPOLL_CLOEXEC);

        if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &(struct epoll_event) { .events = EPOLLIN }) < 0)
                return -1;
        for (;;) {
                Conn *dead[64];
                size_t n_dead = 0;
                int n = epoll_wait(ep, ev, 64, -1);

                for (int i = 0; i < n; i++) {
                        uintptr_t tag = (uintptr_t) ev[i].data.ptr;
                        Conn *c = (Conn *) (tag & ~(uintptr_t) 1);
                        uint32_t len;

                        if (!c) {
                                int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

                                if (fd < 0)
                                        continue;
                                c = conn_new(fd);
                                if (!c) {
                                        close(fd);
                                        continue;
                                }
                                epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &(struct epoll_event) { .events = EPOLLIN, .data.ptr = c });
                                epoll_ctl(ep, EPOLL_CTL_ADD, c->up,
                                          &(struct epoll_event) { .events = EPOLLIN, .data.ptr = (void *) ((uintptr_t) c | 1) });
                                continue;
                        }
                        if (c->dead)
                                continue;
                        len = read_message(tag & 1 ? c->up : c->fd, c->buf);
                        if (len == 0 || (tag & 1 ? from_upstream(c, len) : from_client(c, len)) < 0) {
                                /* Later events of this batch may still name it. */
                                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                                epoll_ctl(ep, EPOLL_CTL_DEL, c->up, NULL);
                                c->dead = true;
                                dead[n_dead++] = c;
                        }
                }
                while (n_dead > 0)
                        conn_free(dead[--n_dead]);
                if (n < 0 && errno != EINTR)
                        return -1;
        }
}

static void *serve(void *userdata) {
        Conn *c = conn_new((int) (intptr_t) userdata);

        if (!c) {
                close((int) (intptr_t) userdata);
                return NULL;
        }
        for (;;) {
                struct pollfd pfd[2] = { { .fd = c->fd, .events = POLLIN }, { .fd = c->up, .events = POLLIN } };
                uint32_t len;

                if (poll(pfd, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (pfd[0].revents) {
                        len = read_message(c->fd, c->buf);
                        if (len == 0 || from_client(c, len) < 0)
                                break;
                }
                if (pfd[1].revents) {
                        len = read_message(c->up, c->buf);
                        if (len == 0 || from_upstream(c, len) < 0)
                                break;
                }
        }
        conn_free(c);
        return NULL;
}

static int parse_procs(const char *list) {
        char *copy = strdup(list), *save = NULL;

        if (!copy)
                return -1;
        n_cacheable = 0;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                uint32_t v = 0;

                for (const char *d = t; *d; d++) {
                        if (*d < '0' || *d > '9' || v > 100000u) {
                                free(copy);
                                return -1;
                        }
                        v = v * 10u + (uint32_t) (*d - '0');
                }
                if (!*t || n_cacheable >= PROCS_MAX) {
                        free(copy);
                        return -1;
                }
                cacheable[n_cacheable++] = v;
        }
        free(copy);
        return 0;
}

int main(int argc, char **argv) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *listen_path = NULL;
        int opt, lfd;
        bool one_thread = false;

        cacheable[0] = PROC_DOMAIN_LOOKUP_BY_NAME;
        cacheable[1] = PROC_DOMAIN_GET_INFO;
        cacheable[2] = PROC_DOMAIN_GET_XML_DESC;
        cacheable[3] = PROC_CONNECT_LIST_ALL_DOMAINS;
        n_cacheable = 4;
        while ((opt = getopt(argc, argv, "l:u:c:e")) != -1)
                switch (opt) {
                case 'l': listen_path = optarg; break;
                case 'u': upstream_path = optarg; break;
                case 'e': one_thread = true; break;
                case 'c':
                        if (parse_procs(optarg) < 0) {
                                fprintf(stderr, "replay-floor: bad procedure list '%s'\n", optarg);
                                return 2;
                        }
                        break;
                default: goto usage;
                }
        if (!listen_path || !upstream_path || strlen(listen_path) >= sizeof(sa.sun_path) ||
            strlen(upstream_path) >= sizeof(sa.sun_path))
                goto usage;
        signal(SIGPIPE, SIG_IGN);
        lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", listen_path);
        unlink(listen_path);
        if (lfd < 0 || bind(lfd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(lfd, 128) < 0) {
                perror("replay-floor: listen");
                return 1;
        }
        printf("ready=1\n");
        fflush(stdout);
        if (one_thread) {
                serve_epoll(lfd);
                perror("replay-floor: epoll");
                return 1;
        }
        for (;;) {
                pthread_t t;
                int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

                if (fd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        perror("replay-floor: accept");
                        return 1;
                }
                if (pthread_create(&t, NULL, serve, (void *) (intptr_t) fd) != 0) {
                        close(fd);
                        continue;
                }
                pthread_detach(t);
        }
usage:
        fprintf(stderr, "usage: replay-floor -l LISTEN_SOCKET -u UPSTREAM_SOCKET [-c PROC,PROC...]\n");
        return 2;
}
