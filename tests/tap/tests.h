/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A small TAP test harness. TEST(name) registers a test; DEFINE_TEST_MAIN runs each registered
 * test in a forked child, so that a failed ASSERT_*() (which prints a diagnostic and abort()s)
 * cannot take the other tests down and every _cleanup_ handler of a passing test runs under
 * the sanitizers' leak check. Output is TAP for automake's tap-driver.sh.
 */

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xv-macro.h"

typedef struct TestCase {
        const char *name;
        void (*func)(void);
} TestCase;

void test_register(const char *name, void (*func)(void));

#define TEST(name)                                                              \
        static void test_##name(void);                                          \
        __attribute__((constructor)) static void test_register_##name(void) {   \
                test_register(#name, test_##name);                              \
        }                                                                       \
        static void test_##name(void)

_noreturn_ void test_fail(const char *file, int line, const char *fmt, ...) _printf_(3, 4);

#define ASSERT_TRUE(expr)                                                       \
        do {                                                                    \
                if (!(expr))                                                    \
                        test_fail(__FILE__, __LINE__, "Assertion failed: %s", #expr); \
        } while (0)
#define ASSERT_FALSE(expr) ASSERT_TRUE(!(expr))

#define ASSERT_OK(expr)                                                         \
        do {                                                                    \
                long long _r_ = (long long) (expr);                             \
                if (_r_ < 0)                                                    \
                        test_fail(__FILE__, __LINE__, "%s failed: %lld (%s)", #expr, _r_, \
                                  strerror((int) -_r_));                        \
        } while (0)

#define ASSERT_ERROR(expr, err)                                                 \
        do {                                                                    \
                long long _r_ = (long long) (expr), _e_ = (long long) (err);    \
                if (_r_ != -(_e_ < 0 ? -_e_ : _e_))                             \
                        test_fail(__FILE__, __LINE__, "%s returned %lld, expected -%s", #expr, _r_, \
                                  strerror((int) (_e_ < 0 ? -_e_ : _e_)));      \
        } while (0)

#define ASSERT_CMP(a, op, b)                                                    \
        do {                                                                    \
                long long _a_ = (long long) (a), _b_ = (long long) (b);         \
                if (!(_a_ op _b_))                                              \
                        test_fail(__FILE__, __LINE__, "Assertion failed: %s %s %s (%lld vs %lld)", \
                                  #a, #op, #b, _a_, _b_);                       \
        } while (0)
#define ASSERT_EQ(a, b) ASSERT_CMP(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_CMP(a, !=, b)
#define ASSERT_LT(a, b) ASSERT_CMP(a, <, b)
#define ASSERT_LE(a, b) ASSERT_CMP(a, <=, b)
#define ASSERT_GT(a, b) ASSERT_CMP(a, >, b)
#define ASSERT_GE(a, b) ASSERT_CMP(a, >=, b)

#define ASSERT_STREQ(a, b)                                                      \
        do {                                                                    \
                const char *_a_ = (a), *_b_ = (b);                              \
                if (!streq_ptr(_a_, _b_))                                       \
                        test_fail(__FILE__, __LINE__, "Assertion failed: %s == %s (\"%s\" vs \"%s\")", \
                                  #a, #b, strnull(_a_), strnull(_b_));          \
        } while (0)

#define ASSERT_NULL(p) ASSERT_TRUE((p) == NULL)
#define ASSERT_NOT_NULL(p) ASSERT_TRUE((p) != NULL)

/* Directories: the source tree's tests/ and the shared material (configure --with-shared-dir). */
const char *test_srcdir(void);
const char *test_shared_dir(void);

/* Builds "<dir>/<rest>" into a new string; aborts the test on OOM. */
char *test_path(const char *dir, const char *rest);

/* A new directory /tmp/<prefix>.XXXXXX (mkdtemp()), and its removal with everything below it;
 * both abort the test when they fail. */
char *test_mkdtemp(const char *prefix);
void test_rm_rf(const char *path);

/* Reads a file into a new string; aborts the test when it cannot. */
char *test_read_file(const char *path);

/* Compares @actual with tests/data/<module>/<name><ext>. With XV_TEST_REGENERATE=1 the file is
 * rewritten instead. Returns 0 when equal; prints a diff-like hint and returns -1 otherwise. */
int test_compare_golden(const char *module, const char *name, const char *ext, const char *actual);

/* Runs every registered test (or those named on the command line) and prints TAP. */
int test_main(int argc, char *argv[]);

/* Reports one extra TAP result from the parent, for data-driven tests that enumerate files. */
#define DEFINE_TEST_MAIN                                                        \
        int main(int argc, char *argv[]) {                                      \
                return test_main(argc, argv);                                   \
        }
