/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Runs a private xensim for one test (each TEST() is its own process): a temporary directory,
 * xensim started with --ready-fd, and xensim-ctl for fault injection and for xensim's own view of
 * the host. The xensim process gets SIGTERM when the test process dies (PR_SET_PDEATHSIG), so a
 * failed assertion (abort) does not leave it behind.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-fileio.h"
#include "xv-parse-util.h"

#define XSIM_LAUNCH_READY_MS 10000
#define XSIM_LAUNCH_OUTPUT_MAX (64 * 1024)

typedef struct XsimInstance {
        char dir[64];           /* the temporary directory; xensim runs in dir/sim */
        char *sim;              /* dir/sim */
        pid_t pid;
} XsimInstance;

/* The directory to remove when an assertion aborts the test (abort() runs no atexit handlers). */
static char xsim_abort_dir[64];

static inline void xsim_on_abort(int sig) {
        pid_t pid;

        if (xsim_abort_dir[0]) {
                pid = fork();
                if (pid == 0) {
                        char *const argv[] = { (char *) "rm", (char *) "-rf", xsim_abort_dir, NULL };

                        execve("/bin/rm", argv, NULL);
                        _exit(127);
                }
                if (pid > 0)
                        (void) waitpid(pid, NULL, 0);
        }
        (void) signal(sig, SIG_DFL);
        (void) raise(sig);
}

static inline const char *xsim_builddir(void) {
        static char buf[4096];
        const char *e = getenv("XV_BUILDDIR");
        ssize_t n;
        char *p;

        if (e)
                return e;
        /* Run by hand: <builddir>/tests/unit/<test>. */
        n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
        if (n <= 0)
                return ".";
        buf[n] = '\0';
        for (int i = 0; i < 3 && (p = strrchr(buf, '/')); i++)
                *p = '\0';
        return buf;
}

static inline char *xsim_tool(const char *name) {
        char *p;

        ASSERT_TRUE(asprintf(&p, "%s/tests/xensim/%s", xsim_builddir(), name) >= 0);
        return p;
}

static inline char *xsim_path(const XsimInstance *x, const char *name) {
        char *p;

        ASSERT_TRUE(asprintf(&p, "%s/%s", x->sim, name) >= 0);
        return p;
}

static inline uint64_t xsim_now_ms(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Starts xensim with @args (NULL-terminated, may be NULL) and points XENSTORED_PATH and
 * XENSIM_HV_SOCKET of this process at it. */
static inline void xsim_start(XsimInstance *x, const char *const *args) {
        _cleanup_free_ char *xensim = xsim_tool("xensim"), *log = NULL, *xs = NULL, *hv = NULL;
        const char *argv[32];
        char fdbuf[16];
        int pipefd[2], n = 0;
        char ready[16] = {};
        uint64_t deadline;
        size_t got = 0;

        *x = (XsimInstance) { .pid = -1 };
        (void) snprintf(x->dir, sizeof(x->dir), "%s/xv-x2-XXXXXX", "/tmp");
        ASSERT_NOT_NULL(mkdtemp(x->dir));
        memcpy(xsim_abort_dir, x->dir, sizeof(xsim_abort_dir));
        (void) signal(SIGABRT, xsim_on_abort);
        ASSERT_TRUE(asprintf(&x->sim, "%s/sim", x->dir) >= 0);
        ASSERT_OK(mkdir(x->sim, 0755));
        ASSERT_TRUE(asprintf(&log, "%s/xensim.log", x->dir) >= 0);
        ASSERT_OK(pipe2(pipefd, O_CLOEXEC));
        (void) snprintf(fdbuf, sizeof(fdbuf), "%d", pipefd[1]);

        argv[n++] = xensim;
        argv[n++] = "--dir";
        argv[n++] = x->sim;
        argv[n++] = "--ready-fd";
        argv[n++] = fdbuf;
        for (size_t i = 0; args && args[i] && n < 30; i++)
                argv[n++] = args[i];
        argv[n] = NULL;

        x->pid = fork();
        ASSERT_TRUE(x->pid >= 0);
        if (x->pid == 0) {
                int fd;

                (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
                fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        (void) dup2(fd, STDOUT_FILENO);
                        (void) dup2(fd, STDERR_FILENO);
                }
                (void) fcntl(pipefd[1], F_SETFD, 0);
                execv(xensim, (char **) argv);
                _exit(127);
        }
        (void) close(pipefd[1]);

        deadline = xsim_now_ms() + XSIM_LAUNCH_READY_MS;
        while (got < 6 && xsim_now_ms() < deadline) {
                struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
                ssize_t k;

                if (poll(&p, 1, 100) <= 0)
                        continue;
                k = read(pipefd[0], ready + got, sizeof(ready) - 1 - got);
                if (k <= 0)
                        break;
                got += (size_t) k;
        }
        (void) close(pipefd[0]);
        if (strncmp(ready, "READY\n", 6) != 0) {
                _cleanup_free_ char *text = NULL;

                (void) read_full_file(log, XSIM_LAUNCH_OUTPUT_MAX, &text, NULL);
                test_fail(__FILE__, __LINE__, "xensim did not start: %s", strnull(text));
        }

        xs = xsim_path(x, "xenstored-socket");
        hv = xsim_path(x, "hv-socket");
        ASSERT_OK(setenv("XENSTORED_PATH", xs, 1));
        ASSERT_OK(setenv("XENSIM_HV_SOCKET", hv, 1));
}

static inline void xsim_stop(XsimInstance *x) {
        if (x->pid > 0) {
                (void) kill(x->pid, SIGTERM);
                (void) waitpid(x->pid, NULL, 0);
                x->pid = -1;
        }
        if (x->dir[0])
                test_rm_rf(x->dir);
        xsim_abort_dir[0] = '\0';
        x->sim = mfree(x->sim);
}

/* Runs "xensim-ctl SOCKET <words...>" (words split on blanks); returns its exit status and its
 * output in *ret_out (optional). */
static inline int xsim_ctl(XsimInstance *x, char **ret_out, const char *format, ...) _printf_(3, 4);
static inline int xsim_ctl(XsimInstance *x, char **ret_out, const char *format, ...) {
        _cleanup_free_ char *ctl = xsim_tool("xensim-ctl"), *sock = xsim_path(x, "control-socket"), *cmd = NULL;
        _cleanup_free_ char *out = NULL;
        const char *argv[16];
        char *save = NULL;
        size_t n = 0, len = 0, allocated = 0;
        int pipefd[2], status = 0;
        va_list ap;
        pid_t pid;

        va_start(ap, format);
        ASSERT_TRUE(vasprintf(&cmd, format, ap) >= 0);
        va_end(ap);
        argv[n++] = ctl;
        argv[n++] = sock;
        for (char *w = strtok_r(cmd, " ", &save); w && n < 15; w = strtok_r(NULL, " ", &save))
                argv[n++] = w;
        argv[n] = NULL;

        ASSERT_OK(pipe2(pipefd, O_CLOEXEC));
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                (void) dup2(pipefd[1], STDOUT_FILENO);
                execv(ctl, (char **) argv);
                _exit(127);
        }
        (void) close(pipefd[1]);
        for (;;) {
                ssize_t k;

                ASSERT_OK(GREEDY_REALLOC(out, allocated, len + 4097));
                k = read(pipefd[0], out + len, 4096);
                if (k <= 0)
                        break;
                len += (size_t) k;
                ASSERT_TRUE(len < XSIM_LAUNCH_OUTPUT_MAX);
        }
        out[len] = '\0';
        (void) close(pipefd[0]);
        ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
        if (ret_out)
                *ret_out = TAKE_PTR(out);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* xensim's own view: column @col (1-based: domid name state flags memory_kib vcpus uuid) of the
 * "list" line whose name is @name; NULL when absent. */
static inline char *xsim_list_field(XsimInstance *x, const char *name, unsigned col) {
        _cleanup_free_ char *out = NULL;
        char *save = NULL;

        ASSERT_EQ(xsim_ctl(x, &out, "list"), 0);
        for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *w[8] = {}, *s2 = NULL;
                unsigned k = 0;

                for (char *t = strtok_r(line, " ", &s2); t && k < 8; t = strtok_r(NULL, " ", &s2))
                        w[k++] = t;
                if (k >= 2 && streq(w[1], name) && col >= 1 && col <= k)
                        return strdup(w[col - 1]);
        }
        return NULL;
}

/* xensim's count of hypercalls of @kind ("total", or a kind "hv stats" prints) since the last
 * "hv stats reset". */
static inline uint64_t xsim_hv_count(XsimInstance *x, const char *kind) {
        _cleanup_free_ char *out = NULL;
        uint64_t v = 0;

        ASSERT_EQ(xsim_ctl(x, &out, "hv stats"), 0);
        for (char *l = out, *nl; l && *l; l = nl) {
                char *sp;

                nl = strchr(l, '\n');
                if (nl)
                        *nl++ = '\0';
                sp = strchr(l, ' ');
                if (!sp)
                        continue;
                *sp = '\0';
                if (streq(kind, "total") && streq(l, "total"))
                        ASSERT_OK(safe_atou64_full(sp + 1, 10, &v));
                else if (streq(sp + 1, kind))
                        ASSERT_OK(safe_atou64_full(l, 10, &v));
        }
        return v;
}

static inline void xsim_hv_reset(XsimInstance *x) {
        ASSERT_EQ(xsim_ctl(x, NULL, "hv stats reset"), 0);
}

/* Creates a running domain through the control socket; returns its domid. */
static inline int xsim_create_domain(XsimInstance *x, const char *name, unsigned mem_mib, unsigned vcpus) {
        _cleanup_free_ char *out = NULL;
        int id;

        ASSERT_EQ(xsim_ctl(x, &out, "domain create %s %u %u", name, mem_mib, vcpus), 0);
        out[strcspn(out, "\n")] = '\0';
        ASSERT_OK(safe_atoi(out, &id));
        return id;
}
