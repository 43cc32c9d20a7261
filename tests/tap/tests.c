/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-fileio.h"

#define TESTS_MAX 1024
#define TEST_FILE_SIZE_MAX (16 * 1024 * 1024)

static TestCase tests[TESTS_MAX];
static size_t n_tests;

void test_register(const char *name, void (*func)(void)) {
        if (n_tests >= TESTS_MAX) {
                fprintf(stderr, "too many tests\n");
                abort();
        }
        tests[n_tests++] = (TestCase) { name, func };
}

void test_fail(const char *file, int line, const char *fmt, ...) {
        va_list ap;

        fprintf(stdout, "# %s:%d: ", file, line);
        va_start(ap, fmt);
        vfprintf(stdout, fmt, ap);
        va_end(ap);
        fputc('\n', stdout);
        fflush(stdout);
        abort();
}

const char *test_srcdir(void) {
        const char *e = getenv("XV_TEST_SRCDIR");

#ifdef XV_TEST_SRCDIR
        return e ?: XV_TEST_SRCDIR;
#else
        return e ?: "tests";
#endif
}

const char *test_shared_dir(void) {
        const char *e = getenv("XV_SHARED_DIR");

#ifdef XV_SHARED_DIR
        return e ?: XV_SHARED_DIR;
#else
        return e ?: "../shared";
#endif
}

char *test_path(const char *dir, const char *rest) {
        char *p;

        if (asprintf(&p, "%s/%s", dir, rest) < 0)
                test_fail(__FILE__, __LINE__, "out of memory");
        return p;
}

char *test_mkdtemp(const char *prefix) {
        char *d;

        if (asprintf(&d, "/tmp/%s.XXXXXX", prefix) < 0)
                test_fail(__FILE__, __LINE__, "out of memory");
        if (!mkdtemp(d))
                test_fail(__FILE__, __LINE__, "mkdtemp() failed");
        return d;
}

void test_rm_rf(const char *path) {
        int status = -1;
        pid_t pid = fork();

        if (pid < 0)
                test_fail(__FILE__, __LINE__, "fork() failed");
        if (pid == 0) {
                execlp("rm", "rm", "-rf", "--", path, (char *) NULL);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) != pid || status != 0)
                test_fail(__FILE__, __LINE__, "rm -rf failed");
}

char *test_read_file(const char *path) {
        char *s;
        int r;

        r = read_full_file(path, TEST_FILE_SIZE_MAX, &s, NULL);
        if (r < 0)
                test_fail(__FILE__, __LINE__, "cannot read %s: %s", path, strerror(-r));
        return s;
}

int test_compare_golden(const char *module, const char *name, const char *ext, const char *actual) {
        _cleanup_free_ char *rel = NULL, *path = NULL, *expected = NULL;
        int r;

        if (asprintf(&rel, "data/%s/%s%s", module, name, ext) < 0)
                return -ENOMEM;
        path = test_path(test_srcdir(), rel);

        if (getenv("XV_TEST_REGENERATE")) {
                r = write_file_atomic(path, actual, strlen(actual), 0644);
                if (r < 0)
                        printf("# cannot regenerate %s: %s\n", path, strerror(-r));
                return r;
        }

        r = read_full_file(path, TEST_FILE_SIZE_MAX, &expected, NULL);
        if (r < 0) {
                printf("# cannot read golden file %s: %s\n", path, strerror(-r));
                return r;
        }
        if (!streq(expected, actual)) {
                size_t i = 0;

                while (expected[i] && expected[i] == actual[i])
                        i++;
                printf("# %s differs at byte %zu\n# expected: %.60s\n# actual:   %.60s\n",
                       path, i, expected + i, actual + i);
                return -1;
        }
        return 0;
}

static bool selected(int argc, char *argv[], const char *name) {
        if (argc <= 1)
                return true;
        for (int i = 1; i < argc; i++)
                if (streq(argv[i], name))
                        return true;
        return false;
}

int test_main(int argc, char *argv[]) {
        size_t planned = 0, n = 0, failed = 0;

        setvbuf(stdout, NULL, _IOLBF, 0);

        for (size_t i = 0; i < n_tests; i++)
                if (selected(argc, argv, tests[i].name))
                        planned++;
        printf("1..%zu\n", planned);

        for (size_t i = 0; i < n_tests; i++) {
                int status = 0;
                pid_t pid;

                if (!selected(argc, argv, tests[i].name))
                        continue;

                fflush(stdout);
                pid = fork();
                if (pid < 0) {
                        printf("not ok %zu - %s # fork failed: %m\n", ++n, tests[i].name);
                        failed++;
                        continue;
                }
                if (pid == 0) {
                        tests[i].func();
                        /* exit(), not _exit(): LeakSanitizer checks at exit, per test. */
                        exit(EXIT_SUCCESS);
                }

                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;

                if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                        printf("ok %zu - %s\n", ++n, tests[i].name);
                else {
                        failed++;
                        if (WIFSIGNALED(status))
                                printf("not ok %zu - %s # killed by signal %d\n", ++n, tests[i].name,
                                       WTERMSIG(status));
                        else
                                printf("not ok %zu - %s # exit status %d\n", ++n, tests[i].name,
                                       WEXITSTATUS(status));
                }
        }

        return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
