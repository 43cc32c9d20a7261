/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>

#include "xv-log.h"
#include "xv-parse-util.h"

/* The only process-wide state of the library: set once at program start, read everywhere. */
static LogTarget log_target = LOG_TARGET_AUTO;
static int log_max_level = LOG_INFO;

void log_set_target(LogTarget target) {
        log_target = target;
}

LogTarget log_get_target(void) {
        return log_target;
}

/* Set by the main loop (on SIGHUP too) while other threads log: atomic, not locked. */
void log_set_max_level(int level) {
        __atomic_store_n(&log_max_level, level, __ATOMIC_RELAXED);
}

int log_get_max_level(void) {
        return __atomic_load_n(&log_max_level, __ATOMIC_RELAXED);
}

LogTarget log_target_detect(void) {
        const char *e = getenv("JOURNAL_STREAM");
        struct stat st;

        /* systemd.exec(5): stderr goes to the journal when $JOURNAL_STREAM names its device:inode. */
        if (e && fstat(STDERR_FILENO, &st) >= 0) {
                const char *colon = strchr(e, ':');
                uint64_t dev, ino;

                if (colon) {
                        _cleanup_free_ char *d = strndup(e, colon - e);

                        if (d && safe_atou64(d, &dev) >= 0 && safe_atou64(colon + 1, &ino) >= 0 &&
                            (uint64_t) st.st_dev == dev && (uint64_t) st.st_ino == ino)
                                return LOG_TARGET_JOURNAL;
                }
        }

        if (getenv("INVOCATION_ID"))
                return LOG_TARGET_STDERR_PREFIX;

        return LOG_TARGET_STDERR;
}

static int log_to_journal(int level, const char *file, int line, const char *func,
                          const char * const *fields, const char *message) {
        struct iovec iov[64];
        size_t n = 0;
        _cleanup_free_ char *m = NULL, *p = NULL, *f = NULL, *l = NULL, *fn = NULL;

        if (asprintf(&m, "MESSAGE=%s", message) < 0 ||
            asprintf(&p, "PRIORITY=%d", level) < 0 ||
            asprintf(&f, "CODE_FILE=%s", file) < 0 ||
            asprintf(&l, "CODE_LINE=%d", line) < 0 ||
            asprintf(&fn, "CODE_FUNC=%s", func) < 0)
                return -ENOMEM;

        iov[n++] = (struct iovec) { m, strlen(m) };
        iov[n++] = (struct iovec) { p, strlen(p) };
        iov[n++] = (struct iovec) { f, strlen(f) };
        iov[n++] = (struct iovec) { l, strlen(l) };
        iov[n++] = (struct iovec) { fn, strlen(fn) };
        for (; fields && *fields && n < ELEMENTSOF(iov); fields++)
                iov[n++] = (struct iovec) { (void *) *fields, strlen(*fields) };

        return sd_journal_sendv(iov, (int) n);
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char * const *fields, const char *format, ...) {
        _cleanup_free_ char *message = NULL;
        int saved = errno;
        LogTarget target;
        va_list ap;

        if (error < 0)
                error = -error;

        if (level > log_get_max_level() || log_target == LOG_TARGET_NULL) {
                errno = error ?: saved;
                return -error;
        }

        errno = error ?: saved;
        va_start(ap, format);
        if (vasprintf(&message, format, ap) < 0)
                message = NULL;
        va_end(ap);

        target = log_target == LOG_TARGET_AUTO ? log_target_detect() : log_target;

        if (target == LOG_TARGET_JOURNAL && message &&
            log_to_journal(level, file, line, func, fields, message) >= 0) {
                errno = error ?: saved;
                return -error;
        }

        if (target == LOG_TARGET_STDERR_PREFIX || target == LOG_TARGET_JOURNAL)
                fprintf(stderr, "<%d>%s\n", level, message ?: format);
        else
                fprintf(stderr, "%s\n", message ?: format);

        errno = error ?: saved;
        return -error;
}
