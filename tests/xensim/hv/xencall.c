/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A replacement libxencall.so.1 for tests: the real libxenctrl (Debian's Xen 4.17 build) is loaded
 * unchanged with LD_LIBRARY_PATH pointing here, and every hypercall it issues travels to xensim over
 * the UNIX socket named by $XENSIM_HV_SOCKET (protocol: xsim-hv-proto.h). Hypercall buffers come
 * from a memfd arena that xensim maps as well, so the guest handles libxenctrl embeds in its
 * domctl/sysctl structures stay valid on the other side.
 *
 * The exported symbols and their version nodes (libxencall.map) are the real library's, or the
 * dynamic linker would refuse to bind libxenctrl's versioned references to them.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xencall.h>

#include "xsim-hv-proto.h"
#include "xv-macro.h"

#if __has_include(<valgrind/memcheck.h>)
#  include <valgrind/memcheck.h>
#  define XSIM_HAVE_MEMCHECK 1
#endif

#define _public_ __attribute__((__visibility__("default")))

/* The real library puts a header in front of xencall_alloc_buffer() allocations, too. */
#define ALLOC_HEADER_SIZE 16

struct xencall_handle {
        int fd;
        pthread_mutex_t call_lock;      /* one request in flight per connection */
        pthread_mutex_t alloc_lock;     /* guards the page bitmap */
        uint8_t *arena;
        uint64_t used[XSIM_HV_ARENA_PAGES / 64];
};

static xencall_handle *handle_free(xencall_handle *x) {
        if (!x)
                return NULL;
        safe_close(x->fd);
        if (x->arena)
                (void) munmap(x->arena, XSIM_HV_ARENA_SIZE);
        pthread_mutex_destroy(&x->call_lock);
        pthread_mutex_destroy(&x->alloc_lock);
        free(x);
        return NULL;
}
DEFINE_CLEANUP_FUNC(xencall_handle *, handle_free);

static int arena_new(uint8_t **ret_arena, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        void *arena;

        fd = memfd_create("xensim-hypercall-arena", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        /* Sealed, so that neither side can shrink it under the other's mapping (SIGBUS). */
        if (ftruncate(fd, XSIM_HV_ARENA_SIZE) < 0 ||
            fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
                return -errno;
        arena = mmap(NULL, XSIM_HV_ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (arena == MAP_FAILED)
                return -errno;
        *ret_arena = arena;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int socket_connect(int *ret_fd) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        const char *path;
        size_t l;

        /* Unset means "no hypervisor here", which a host without Xen reports as a missing
         * /dev/xen/privcmd. */
        path = getenv("XENSIM_HV_SOCKET");
        if (!path || !*path)
                return -ENOENT;
        l = strlen(path);
        if (l >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, l + 1);

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (const struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int send_request(int fd, const XsimHvRequest *req, int pass_fd) {
        union {
                struct cmsghdr cmsghdr;
                uint8_t buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = (void *) req, .iov_len = sizeof(*req) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        if (pass_fd >= 0) {
                struct cmsghdr *c;

                mh.msg_control = &control;
                mh.msg_controllen = sizeof(control);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
        }

        do
                n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if ((size_t) n != sizeof(*req))
                return -EIO;
        return 0;
}

static int recv_reply(int fd, int64_t *ret) {
        XsimHvReply reply;
        ssize_t n;

        do
                n = recv(fd, &reply, sizeof(reply), MSG_TRUNC);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                int e = errno;

                return e > 0 ? -e : -EIO;
        }
        /* EOF: xensim went away; a vanished hypervisor is an I/O error to the caller. */
        if (n == 0)
                return -EIO;
        if ((size_t) n != sizeof(reply) || reply.magic != XSIM_HV_MAGIC || reply.type != XSIM_HV_MSG_REPLY)
                return -EPROTO;
        *ret = reply.ret;
        return 0;
}

/* Sends one request and waits for its reply; the returned int64 is the server's answer. */
static int transact(xencall_handle *x, const XsimHvRequest *req, int pass_fd, int64_t *ret) {
        int r;

        pthread_mutex_lock(&x->call_lock);
        r = send_request(x->fd, req, pass_fd);
        if (r >= 0)
                r = recv_reply(x->fd, ret);
        pthread_mutex_unlock(&x->call_lock);
        return r;
}

static int handle_new(xencall_handle **ret) {
        _cleanup_(handle_freep) xencall_handle *x = NULL;
        /* Closed on return: the mapping keeps the memory alive, xensim got its own descriptor. */
        _cleanup_close_ int arena_fd = -EBADF;
        int64_t answer = 0;
        int r;

        x = calloc(1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        x->fd = -EBADF;
        pthread_mutex_init(&x->call_lock, NULL);
        pthread_mutex_init(&x->alloc_lock, NULL);

        r = socket_connect(&x->fd);
        if (r < 0)
                return r;
        r = arena_new(&x->arena, &arena_fd);
        if (r < 0)
                return r;

        XsimHvRequest hello = {
                .magic = XSIM_HV_MAGIC,
                .type = XSIM_HV_MSG_HELLO,
                .version = XSIM_HV_PROTO_VERSION,
                .arena_base = (uint64_t) (uintptr_t) x->arena,
                .arena_size = XSIM_HV_ARENA_SIZE,
        };
        r = transact(x, &hello, arena_fd, &answer);
        if (r < 0)
                return r;
        if (answer < 0)
                return (int) answer;

        *ret = TAKE_PTR(x);
        return 0;
}

_public_ xencall_handle *xencall_open(struct xentoollog_logger *logger, unsigned open_flags) {
        xencall_handle *x = NULL;
        int r;

        /* The real library logs through @logger; libxenctrl reports the failure itself. */
        (void) logger;
        (void) open_flags;

        r = handle_new(&x);
        if (r < 0) {
                errno = -r;
                return NULL;
        }
        return x;
}

_public_ int xencall_close(xencall_handle *x) {
        (void) handle_free(x);
        return 0;
}

_public_ int xencall_fd(xencall_handle *x) {
        return x->fd;
}

/* Under valgrind (make check-valgrind): xensim wrote the hypercall's results into the arena from
 * its own process, which memcheck cannot see. As memcheck's wrappers of the real privcmd ioctl do
 * for a hypercall's output, the buffers in use count as initialised once the hypercall returned. */
static void arena_mark_defined(xencall_handle *x) {
#ifdef XSIM_HAVE_MEMCHECK
        if (!RUNNING_ON_VALGRIND)
                return;
        pthread_mutex_lock(&x->alloc_lock);
        for (size_t i = 0; i < XSIM_HV_ARENA_PAGES; i++)
                if (x->used[i / 64] & (UINT64_C(1) << (i % 64)))
                        (void) VALGRIND_MAKE_MEM_DEFINED(x->arena + i * XSIM_HV_PAGE_SIZE, XSIM_HV_PAGE_SIZE);
        pthread_mutex_unlock(&x->alloc_lock);
#endif
}

static long hypercall(xencall_handle *x, unsigned op, uint64_t a1, uint64_t a2, uint64_t a3,
                      uint64_t a4, uint64_t a5) {
        XsimHvRequest req = {
                .magic = XSIM_HV_MAGIC,
                .type = XSIM_HV_MSG_CALL,
                .op = op,
                .args = { a1, a2, a3, a4, a5 },
        };
        int64_t answer = 0;
        int r;

        r = transact(x, &req, -1, &answer);
        if (r < 0) {
                errno = -r;
                return -1;
        }
        arena_mark_defined(x);
        /* The privcmd ioctl's convention, which libxenctrl expects: -1 and errno on failure. */
        if (answer < 0) {
                errno = (int) -answer;
                return -1;
        }
        return (long) answer;
}

_public_ int xencall0(xencall_handle *x, unsigned op) {
        return (int) hypercall(x, op, 0, 0, 0, 0, 0);
}

_public_ int xencall1(xencall_handle *x, unsigned op, uint64_t a1) {
        return (int) hypercall(x, op, a1, 0, 0, 0, 0);
}

_public_ int xencall2(xencall_handle *x, unsigned op, uint64_t a1, uint64_t a2) {
        return (int) hypercall(x, op, a1, a2, 0, 0, 0);
}

_public_ long xencall2L(xencall_handle *x, unsigned op, uint64_t a1, uint64_t a2) {
        return hypercall(x, op, a1, a2, 0, 0, 0);
}

_public_ int xencall3(xencall_handle *x, unsigned op, uint64_t a1, uint64_t a2, uint64_t a3) {
        return (int) hypercall(x, op, a1, a2, a3, 0, 0);
}

_public_ int xencall4(xencall_handle *x, unsigned op, uint64_t a1, uint64_t a2, uint64_t a3,
                      uint64_t a4) {
        return (int) hypercall(x, op, a1, a2, a3, a4, 0);
}

_public_ int xencall5(xencall_handle *x, unsigned op, uint64_t a1, uint64_t a2, uint64_t a3,
                      uint64_t a4, uint64_t a5) {
        return (int) hypercall(x, op, a1, a2, a3, a4, a5);
}

static bool page_used(const xencall_handle *x, size_t i) {
        return x->used[i / 64] & (UINT64_C(1) << (i % 64));
}

static void pages_mark(xencall_handle *x, size_t first, size_t n, bool used) {
        for (size_t i = first; i < first + n; i++)
                if (used)
                        x->used[i / 64] |= UINT64_C(1) << (i % 64);
                else
                        x->used[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

_public_ void *xencall_alloc_buffer_pages(xencall_handle *x, size_t nr_pages) {
        void *p = NULL;
        size_t run = 0;

        if (nr_pages == 0 || nr_pages > XSIM_HV_ARENA_PAGES) {
                errno = ENOMEM;
                return NULL;
        }

        /* First fit over the page bitmap: a handful of buffers are live at any time. */
        pthread_mutex_lock(&x->alloc_lock);
        for (size_t i = 0; i < XSIM_HV_ARENA_PAGES; i++) {
                if (page_used(x, i)) {
                        run = 0;
                        continue;
                }
                if (++run == nr_pages) {
                        size_t first = i + 1 - nr_pages;

                        pages_mark(x, first, nr_pages, true);
                        p = x->arena + first * XSIM_HV_PAGE_SIZE;
                        break;
                }
        }
        pthread_mutex_unlock(&x->alloc_lock);

        if (!p) {
                errno = ENOMEM;
                return NULL;
        }
        /* Fresh pages, as the real library's mmap() hands out. */
        memset(p, 0, nr_pages * XSIM_HV_PAGE_SIZE);
        return p;
}

_public_ void xencall_free_buffer_pages(xencall_handle *x, void *p, size_t nr_pages) {
        uintptr_t off;

        if (!p)
                return;
        off = (uintptr_t) p - (uintptr_t) x->arena;
        if ((uintptr_t) p < (uintptr_t) x->arena || off % XSIM_HV_PAGE_SIZE != 0 ||
            off / XSIM_HV_PAGE_SIZE + nr_pages > XSIM_HV_ARENA_PAGES)
                abort();        /* not ours: the caller corrupted its buffer bookkeeping */

        pthread_mutex_lock(&x->alloc_lock);
        pages_mark(x, off / XSIM_HV_PAGE_SIZE, nr_pages, false);
        pthread_mutex_unlock(&x->alloc_lock);
}

_public_ void *xencall_alloc_buffer(xencall_handle *x, size_t size) {
        size_t nr_pages;
        uint8_t *p;

        if (size > XSIM_HV_ARENA_SIZE - ALLOC_HEADER_SIZE) {
                errno = ENOMEM;
                return NULL;
        }
        nr_pages = (size + ALLOC_HEADER_SIZE + XSIM_HV_PAGE_SIZE - 1) / XSIM_HV_PAGE_SIZE;
        p = xencall_alloc_buffer_pages(x, nr_pages);
        if (!p)
                return NULL;
        memcpy(p, &nr_pages, sizeof(nr_pages));
        return p + ALLOC_HEADER_SIZE;
}

_public_ void xencall_free_buffer(xencall_handle *x, void *p) {
        size_t nr_pages;
        uint8_t *h;

        if (!p)
                return;
        h = (uint8_t *) p - ALLOC_HEADER_SIZE;
        memcpy(&nr_pages, h, sizeof(nr_pages));
        xencall_free_buffer_pages(x, h, nr_pages);
}

_public_ int xencall_buffers_never_fault(xencall_handle *x) {
        (void) x;
        /* Arena pages are ordinary shared memory: they never fault the way unlocked pages can. */
        return 1;
}
