/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <syslog.h>

#include "xv-macro.h"

/* Where log lines go. The policy is chosen by the program (the daemon, the CLI, a test); library
 * code in src/ only ever logs at LOG_DEBUG. */
typedef enum LogTarget {
        LOG_TARGET_AUTO,        /* journal if stderr is the journal stream, else stderr */
        LOG_TARGET_JOURNAL,     /* native journal protocol with structured fields */
        LOG_TARGET_STDERR_PREFIX, /* stderr with "<N>" priority prefixes (under systemd, no journal) */
        LOG_TARGET_STDERR,      /* plain stderr, for a person at a terminal */
        LOG_TARGET_NULL,
} LogTarget;

void log_set_target(LogTarget target);
LogTarget log_get_target(void);
void log_set_max_level(int level);
int log_get_max_level(void);

/* Resolves LOG_TARGET_AUTO from $JOURNAL_STREAM and $INVOCATION_ID (systemd.exec(5)). */
LogTarget log_target_detect(void);

/* Logs one message with optional structured journal fields: a NULL-terminated list of
 * "FIELD=value" strings. Returns @error (a negative errno or 0), with errno set to -error so that
 * %m works in @format. */
int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char * const *fields, const char *format, ...) _printf_(7, 8);

#define log_full_errno(level, error, ...)                                               \
        ({                                                                              \
                int _level_ = (level), _e_ = (error);                                   \
                _level_ <= log_get_max_level()                                          \
                        ? log_internal(_level_, _e_, __FILE__, __LINE__, __func__, NULL, __VA_ARGS__) \
                        : (_e_ < 0 ? _e_ : -_e_);                                        \
        })

#define log_full(level, ...) (void) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...)   log_full_errno(LOG_DEBUG, error, __VA_ARGS__)
#define log_info_errno(error, ...)    log_full_errno(LOG_INFO, error, __VA_ARGS__)
#define log_notice_errno(error, ...)  log_full_errno(LOG_NOTICE, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error_errno(error, ...)   log_full_errno(LOG_ERR, error, __VA_ARGS__)

/* With structured fields, e.g. log_struct(LOG_INFO, ((const char*[]) { "XV_DOMAIN=vm1", NULL }), "…"). */
#define log_struct(level, fields, ...) \
        (void) log_internal((level), 0, __FILE__, __LINE__, __func__, (fields), __VA_ARGS__)
