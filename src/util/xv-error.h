/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdarg.h>
#include <stdbool.h>

#include "xenvirt_protocol.h"
#include "xv-macro.h"

/* Why an operation failed, carried explicitly from deep inside src/ up to the RPC reply and the
 * CLI (modelled on sd_bus_error). The code and domain are libvirt's numbers, so a stock client
 * understands them. The first error set wins; may be passed as NULL by callers that only want
 * the errno. */
typedef struct XvError {
        xvp_error_code code;
        xvp_error_domain domain;
        char *message;          /* formatted and owned; NULL when unset or after OOM */
} XvError;

#define XV_ERROR_NULL ((XvError) {})

/* Sets the error (unless one is set already) and returns the negative errno matching @code. */
int xv_error_setf(XvError *e, xvp_error_code code, const char *format, ...) _printf_(3, 4);
int xv_error_setv(XvError *e, xvp_error_code code, const char *format, va_list ap) _printf_(3, 0);

/* Like xv_error_setf() for a failed system call: appends ": strerror(-r)" and returns @r
 * (which must be negative). The code is derived from the errno. */
int xv_error_set_errnof(XvError *e, int r, const char *format, ...) _printf_(3, 4);

/* The channel helpers' forms: set @code in @domain (unless an error is set already) and return @r
 * unchanged; the _errno variant appends ": strerror(-r)" to the message. */
int xv_error_set_full(XvError *e, int r, xvp_error_code code, xvp_error_domain domain,
                      const char *format, ...) _printf_(5, 6);
int xv_error_set_errno_full(XvError *e, int r, xvp_error_code code, xvp_error_domain domain,
                            const char *format, ...) _printf_(5, 6);

/* Sets the domain of an error that is already set and has none yet; returns @r unchanged so that
 * it can wrap a call: return xv_error_domain(e, XVP_FROM_XEND, r). */
int xv_error_domain(XvError *e, xvp_error_domain domain, int r);

/* Moves @src into @dst if @dst is unset; @src is left empty either way. */
void xv_error_move(XvError *dst, XvError *src);

bool xv_error_is_set(const XvError *e);
void xv_error_done(XvError *e);

/* The negative errno that matches an error code, and the code that best describes an errno. */
int xv_error_code_to_errno(xvp_error_code code);
xvp_error_code xv_error_code_from_errno(int r);

/* libvirt's fixed prefix for an error code, e.g. "XML error" or "Domain not found". Never NULL. */
const char *xv_error_code_to_string(xvp_error_code code);

/* The message as libvirt's clients print it: "<prefix>: <message>", or the prefix alone. A message
 * that is missing after OOM or an unset code falls back to strerror(-r). Returns a new string or
 * NULL on OOM. */
char *xv_error_format(const XvError *e, int r);

#if defined(__clang_analyzer__) && !defined(XV_ERROR_IMPLEMENTATION)
/* For clang's static analyzer (make static-analysis), which does not look into xv-error.c: the
 * setters return a negative errno, the others return their @r unchanged, so that a
 * "return xv_error_setf(...)" path is known to be an error path. */
#  define XV_ERROR_NEGATIVE_(call)                                              \
        ({                                                                      \
                int _xv_r_ = (call);                                            \
                if (_xv_r_ >= 0)                                                \
                        __builtin_unreachable();                                \
                _xv_r_;                                                         \
        })
/* NOLINTBEGIN(bugprone-macro-parentheses): v names the temporary */
#  define XV_ERROR_PASS_(v, r, call)                                            \
        ({                                                                      \
                int v = (r);                                                    \
                (void) (call);                                                  \
                v;                                                              \
        })
/* NOLINTEND(bugprone-macro-parentheses) */
#  define xv_error_setf(...) XV_ERROR_NEGATIVE_((xv_error_setf)(__VA_ARGS__))
#  define xv_error_setv(...) XV_ERROR_NEGATIVE_((xv_error_setv)(__VA_ARGS__))
#  define xv_error_set_errnof(e, r, ...) \
        XV_ERROR_PASS_(_xv_r1_, r, (xv_error_set_errnof)(e, _xv_r1_, __VA_ARGS__))
#  define xv_error_set_full(e, r, ...) \
        XV_ERROR_PASS_(_xv_r2_, r, (xv_error_set_full)(e, _xv_r2_, __VA_ARGS__))
#  define xv_error_set_errno_full(e, r, ...) \
        XV_ERROR_PASS_(_xv_r3_, r, (xv_error_set_errno_full)(e, _xv_r3_, __VA_ARGS__))
#  define xv_error_domain(e, d, r) XV_ERROR_PASS_(_xv_r4_, r, (xv_error_domain)(e, d, _xv_r4_))
#endif
