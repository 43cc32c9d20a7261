/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The real-Xen mode of the channel tests (XV_TEST_REAL_XEN=1, run in dom0 by the real-Xen lane,
 * tests/xen-lane): no xensim; the channels talk to the real hypervisor and xenstored, and every
 * value is checked against what the real tools say (xl info, xl list -v, xl vcpu-list). A test
 * guest is the lane's guest kit (XEN_LANE_GUEST_KERNEL / XEN_LANE_GUEST_RAMDISK) started with
 * xl create.
 *
 * REAL_TEST(name) defines a test that is registered only in real-Xen mode; xreal_main() runs those
 * tests (or the ones named on the command line) instead of the xensim ones.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-fileio.h"
#include "xv-parse-util.h"

#define XREAL_OUTPUT_MAX (256 * 1024)   /* output of one tool run */
#define XREAL_TESTS_MAX 16
#define XREAL_GUEST_MIB 128
#define XREAL_BOOT_MS (240 * 1000)      /* a guest reaching its init under TCG on a loaded host */
#define XREAL_EVENT_MS (60 * 1000)      /* a xenstore event or a state change */

typedef struct XrealTest {
        const char *name;
        void (*func)(void);
} XrealTest;

static XrealTest xreal_tests[XREAL_TESTS_MAX];
static size_t xreal_n_tests;

#define REAL_TEST(name)                                                                 \
        static void real_##name(void);                                                  \
        __attribute__((constructor)) static void xreal_register_##name(void) {          \
                if (xreal_n_tests < XREAL_TESTS_MAX)                                    \
                        xreal_tests[xreal_n_tests++] = (XrealTest) { "real_" #name, real_##name }; \
        }                                                                               \
        static void real_##name(void)

static inline bool xreal_enabled(void) {
        const char *e = getenv("XV_TEST_REAL_XEN");

        return e && streq(e, "1");
}

static inline int xreal_main(int argc, char *argv[]) {
        char *args[XREAL_TESTS_MAX + 2];
        int n = 0;

        args[n++] = argv[0];
        for (size_t i = 0; i < xreal_n_tests; i++) {
                test_register(xreal_tests[i].name, xreal_tests[i].func);
                args[n++] = (char *) xreal_tests[i].name;
        }
        args[n] = NULL;
        if (argc > 1)
                return test_main(argc, argv);
        return test_main(n, args);
}

static inline uint64_t xreal_now_ms(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Runs "/bin/sh -c CMD" (stdout and stderr captured, echoed as TAP comments); returns its exit
 * status and its output in *ret_out (optional). */
static inline int xreal_run(char **ret_out, const char *format, ...) _printf_(2, 3);
static inline int xreal_run(char **ret_out, const char *format, ...) {
        _cleanup_free_ char *cmd = NULL, *out = NULL;
        size_t len = 0, allocated = 0;
        int pipefd[2], status = 0;
        va_list ap;
        pid_t pid;

        va_start(ap, format);
        ASSERT_TRUE(vasprintf(&cmd, format, ap) >= 0);
        va_end(ap);
        ASSERT_OK(pipe2(pipefd, O_CLOEXEC));
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

                if (null >= 0)
                        (void) dup2(null, STDIN_FILENO);
                (void) dup2(pipefd[1], STDOUT_FILENO);
                (void) dup2(pipefd[1], STDERR_FILENO);
                execl("/bin/sh", "sh", "-c", cmd, (char *) NULL);
                _exit(127);
        }
        (void) close(pipefd[1]);
        for (;;) {
                ssize_t k;

                ASSERT_OK(GREEDY_REALLOC(out, allocated, len + 4097));
                k = read(pipefd[0], out + len, 4096);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                len += (size_t) k;
                ASSERT_TRUE(len < XREAL_OUTPUT_MAX);
        }
        out[len] = '\0';
        (void) close(pipefd[0]);
        ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
        printf("# $ %s\n", cmd);
        {
                char *save = NULL;
                _cleanup_free_ char *copy = strdup(out);

                ASSERT_NOT_NULL(copy);
                for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                        printf("#   %s\n", l);
        }
        fflush(stdout);
        if (ret_out)
                *ret_out = TAKE_PTR(out);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* Runs "xl ARGS..." and requires success, except that xl dying of SIGSEGV at its exit is only
 * noted (see xreal_guest_create()): the caller checks the effect. */
static inline void xreal_xl(const char *format, ...) _printf_(1, 2);
static inline void xreal_xl(const char *format, ...) {
        _cleanup_free_ char *args = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        ASSERT_TRUE(vasprintf(&args, format, ap) >= 0);
        va_end(ap);
        r = xreal_run(NULL, "xl %s", args);
        if (r == 128 + SIGSEGV)
                printf("# xl %s crashed at exit (signal %d)\n", args, SIGSEGV);
        else
                ASSERT_EQ(r, 0);
}

/* The value of "KEY : VALUE" in `xl info` (NULL when absent). xl is slow under TCG: its output
 * is kept, except for free_memory, which is read afresh each time. */
static inline char *xreal_xl_info(const char *key) {
        static char *cached = NULL;
        _cleanup_free_ char *fresh = NULL;
        char *out, *save = NULL;
        size_t n = strlen(key);

        if (streq(key, "free_memory") || !cached) {
                ASSERT_EQ(xreal_run(&fresh, "xl info"), 0);
                if (!cached)
                        cached = strdup(fresh);
                ASSERT_NOT_NULL(cached);
        }
        out = strdup(fresh ? fresh : cached);
        ASSERT_NOT_NULL(out);
        for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *v, *r;

                if (strncmp(l, key, n) != 0 || (l[n] != ' ' && l[n] != ':'))
                        continue;
                v = strchr(l, ':');
                if (!v)
                        continue;
                v++;
                while (*v == ' ')
                        v++;
                r = strdup(v);
                free(out);
                return r;
        }
        free(out);
        return NULL;
}

static inline uint64_t xreal_xl_info_u64(const char *key) {
        _cleanup_free_ char *v = xreal_xl_info(key);
        uint64_t r = 0;

        if (!v)
                test_fail(__FILE__, __LINE__, "xl info has no %s", key);
        ASSERT_OK(safe_atou64(v, &r));
        return r;
}

/* Column @col (1-based: name id mem vcpus state time uuid ...) of the `xl list -v` line of the
 * domain @name; NULL when it is not listed. */
static inline char *xreal_list_field(const char *name, unsigned col) {
        _cleanup_free_ char *out = NULL;
        char *save = NULL;

        ASSERT_EQ(xreal_run(&out, "xl list -v"), 0);
        for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *w[10] = {}, *s2 = NULL;
                unsigned k = 0;

                for (char *t = strtok_r(line, " \t", &s2); t && k < 10; t = strtok_r(NULL, " \t", &s2))
                        w[k++] = t;
                if (k >= 2 && streq(w[0], name) && col >= 1 && col <= k)
                        return strdup(w[col - 1]);
        }
        return NULL;
}

static inline uint64_t xreal_list_u64(const char *name, unsigned col) {
        _cleanup_free_ char *v = xreal_list_field(name, col);
        uint64_t r = 0;

        if (!v)
                test_fail(__FILE__, __LINE__, "xl list -v: no column %u for %s", col, name);
        ASSERT_OK(safe_atou64(v, &r));
        return r;
}

/* Starts a PV guest of the lane's guest kit named @name (XREAL_GUEST_MIB, @vcpus vcpus, xl's
 * @on_poweroff action: "destroy" or "preserve"); a leftover of an earlier failed run is destroyed
 * first. Returns its domid. */
static inline int xreal_guest_create(const char *name, unsigned vcpus, const char *on_poweroff) {
        _cleanup_free_ char *cfg = NULL, *text = NULL;
        const char *kernel = getenv("XEN_LANE_GUEST_KERNEL"), *ramdisk = getenv("XEN_LANE_GUEST_RAMDISK");
        uint64_t id = 0;
        int r;

        if (!kernel || !ramdisk)
                test_fail(__FILE__, __LINE__, "XEN_LANE_GUEST_KERNEL/RAMDISK are not set (run in the xen lane)");
        ASSERT_TRUE(asprintf(&cfg, "/tmp/%s.cfg", name) >= 0);
        ASSERT_TRUE(asprintf(&text,
                             "name = \"%s\"\ntype = \"pv\"\nkernel = \"%s\"\nramdisk = \"%s\"\n"
                             "extra = \"console=hvc0 loglevel=4\"\nmemory = %u\nvcpus = %u\n"
                             "on_poweroff = \"%s\"\non_reboot = \"destroy\"\non_crash = \"destroy\"\n",
                             name, kernel, ramdisk, XREAL_GUEST_MIB, vcpus, on_poweroff) >= 0);
        ASSERT_OK(write_file_atomic(cfg, text, strlen(text), 0644));
        (void) xreal_run(NULL, "xl destroy %s 2>/dev/null; true", name);
        r = xreal_run(NULL, "xl create %s", cfg);
        /* Under TCG, xl sometimes dies of SIGSEGV at exit, after the domain was created: libgcc's
         * unwinder races with exit() while libxenstore's reader thread is being cancelled. The
         * domain must be there all the same. */
        if (r == 128 + SIGSEGV)
                printf("# xl create crashed at exit (signal %d); checking that %s exists\n", SIGSEGV, name);
        else
                ASSERT_EQ(r, 0);
        id = xreal_list_u64(name, 2);
        ASSERT_GT(id, 0u);
        return (int) id;
}

/* Waits until the guest's console log (xenconsoled, the lane's /lane/out/console) shows its init
 * ran: the kernel then handles control/shutdown. */
static inline void xreal_guest_wait_init(const char *name) {
        const char *outdir = getenv("XEN_LANE_OUT");
        _cleanup_free_ char *log = NULL;
        uint64_t deadline = xreal_now_ms() + XREAL_BOOT_MS;

        ASSERT_NOT_NULL(outdir);
        ASSERT_TRUE(asprintf(&log, "%s/console/guest-%s.log", outdir, name) >= 0);
        for (;;) {
                _cleanup_free_ char *text = NULL;

                if (read_full_file(log, XREAL_OUTPUT_MAX, &text, NULL) >= 0 && strstr(text, "GUEST: hello"))
                        return;
                if (xreal_now_ms() > deadline)
                        test_fail(__FILE__, __LINE__, "guest %s did not reach its init (%s)", name, log);
                (void) usleep(500 * 1000);
        }
}

/* Waits until `xl list` no longer shows @name. */
static inline void xreal_wait_gone(const char *name) {
        uint64_t deadline = xreal_now_ms() + XREAL_EVENT_MS;

        for (;;) {
                _cleanup_free_ char *id = xreal_list_field(name, 2);

                if (!id)
                        return;
                if (xreal_now_ms() > deadline)
                        test_fail(__FILE__, __LINE__, "domain %s is still listed", name);
                (void) usleep(500 * 1000);
        }
}
