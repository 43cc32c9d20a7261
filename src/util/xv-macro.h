/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f)     __attribute__((__cleanup__(f)))
#define _printf_(a, b)   __attribute__((__format__(printf, a, b)))
#define _unused_         __attribute__((__unused__))
#define _pure_           __attribute__((__pure__))
#define _fallthrough_    __attribute__((__fallthrough__))
#define _noreturn_       __attribute__((__noreturn__))
#define _warn_unused_result_ __attribute__((__warn_unused_result__))

#define ELEMENTSOF(x)                                                   \
        (__builtin_choose_expr(                                         \
                !__builtin_types_compatible_p(__typeof__(x), __typeof__(&*(x))), \
                sizeof(x) / sizeof((x)[0]),                             \
                (void) 0))

#define STRINGIFY_ARG(x) #x
#define STRINGIFY(x) STRINGIFY_ARG(x)

/* sys/param.h (pulled in by rpc/rpc.h) defines the same two macros; keep one definition. */
#include <sys/param.h>
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

/* Defines funcp(), for use as _cleanup_(funcp), for a destructor that accepts NULL and returns NULL. */
/* NOLINTBEGIN(bugprone-macro-parentheses): type is a type name */
#define DEFINE_CLEANUP_FUNC(type, func)                                 \
        static inline void func##p(type *p) {                           \
                if (*p)                                                 \
                        *p = func(*p);                                  \
        }
/* NOLINTEND(bugprone-macro-parentheses) */

/* Hands ownership out of a _cleanup_ variable: returns the value and leaves NULL behind. */
#define TAKE_PTR(p)                                                     \
        ({                                                              \
                __typeof__(p) _taken_ = (p);                            \
                (p) = NULL;                                             \
                _taken_;                                                \
        })

/* The same for file descriptors, where -EBADF means "none". */
#define TAKE_FD(fd)                                                     \
        ({                                                              \
                int _fd_ = (fd);                                        \
                (fd) = -EBADF;                                          \
                _fd_;                                                   \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;      /* close() must not clobber the error we are returning */
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd) {
        *fd = safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline const char *strempty(const char *s) {
        return s ? s : "";
}

static inline const char *strnull(const char *s) {
        return s ? s : "(null)";
}

static inline int isempty(const char *s) {
        return !s || !*s;
}

#define streq(a, b) (strcmp((a), (b)) == 0)
#define streq_ptr(a, b) ((a) == (b) || ((a) && (b) && strcmp((a), (b)) == 0))
