/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's access-control building blocks that need no bus: the start time of a process as
 * polkit wants it (daemon/xvd-polkit.c), and the access-control keys of xenvirtd.conf
 * (daemon/xvd-config.c), their defaults, values and errors.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-error.h"
#include "xv-fileio.h"
#include "xv-parse-util.h"
#include "xvd-config.h"
#include "xvd-polkit.h"

/* ---- polkit_read_start_time ---------------------------------------------------------------- */

/* Field 22 of /proc/<pid>/stat the independent way: split what follows the last ')' into words;
 * the start time is the 20th of them (fields 3..22). */
static uint64_t stat_start_time(pid_t pid) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        char *save = NULL, *w, *p;
        uint64_t v = 0;
        size_t n = 0;

        ASSERT_TRUE(asprintf(&path, "/proc/%d/stat", (int) pid) > 0);
        text = test_read_file(path);
        p = strrchr(text, ')');
        ASSERT_NOT_NULL(p);
        for (w = strtok_r(p + 1, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
                if (++n == 20) {
                        ASSERT_OK(safe_atou64(w, &v));
                        return v;
                }
        ASSERT_TRUE(false);
        return 0;
}

TEST(start_time_of_self) {
        uint64_t t = 0;

        ASSERT_OK(polkit_read_start_time(getpid(), &t, NULL));
        ASSERT_GT(t, 0u);
        ASSERT_EQ(t, stat_start_time(getpid()));
}

/* A child whose comm holds spaces and ')' characters: the parse must start after the last ')'. */
static void start_time_with_comm(const char *comm) {
        int to_parent[2], to_child[2];
        uint64_t t = 0, t_child;
        char c = 0;
        pid_t pid;

        ASSERT_OK(pipe(to_parent));
        ASSERT_OK(pipe(to_child));
        pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
                if (prctl(PR_SET_NAME, comm, 0, 0, 0) < 0)
                        _exit(2);
                (void) write(to_parent[1], "r", 1);
                (void) read(to_child[0], &c, 1);
                _exit(0);
        }
        ASSERT_EQ(read(to_parent[0], &c, 1), 1);

        {
                _cleanup_free_ char *path = NULL, *text = NULL;

                ASSERT_TRUE(asprintf(&path, "/proc/%d/stat", (int) pid) > 0);
                text = test_read_file(path);
                ASSERT_NOT_NULL(strstr(text, comm));    /* the name really is in there */
        }

        ASSERT_OK(polkit_read_start_time(pid, &t, NULL));
        t_child = stat_start_time(pid);
        ASSERT_EQ(t, t_child);
        ASSERT_GT(t, 0u);

        (void) write(to_child[1], "x", 1);
        ASSERT_EQ(waitpid(pid, NULL, 0), pid);
        close(to_parent[0]);
        close(to_parent[1]);
        close(to_child[0]);
        close(to_child[1]);
}

TEST(start_time_comm_with_spaces_and_parens) {
        start_time_with_comm("a) b) c (d");
}

TEST(start_time_comm_with_trailing_paren) {
        start_time_with_comm(") 1 2 3 4 5");
}

TEST(start_time_of_a_gone_process_fails) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        uint64_t t = 42;
        pid_t pid;

        pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0)
                _exit(0);
        ASSERT_EQ(waitpid(pid, NULL, 0), pid);

        ASSERT_TRUE(polkit_read_start_time(pid, &t, &error) < 0);
        ASSERT_EQ(t, 42u);                      /* ret_ untouched on failure */
        ASSERT_NOT_NULL(error.message);
        ASSERT_NOT_NULL(strstr(error.message, "/stat"));
}

TEST(start_time_invalid_pid) {
        uint64_t t = 0;

        ASSERT_TRUE(polkit_read_start_time(0, &t, NULL) < 0);
        ASSERT_TRUE(polkit_read_start_time(-1, &t, NULL) < 0);
}

TEST(result_names) {
        ASSERT_STREQ(polkit_result_to_string(POLKIT_ALLOWED), "allowed");
        ASSERT_STREQ(polkit_result_to_string(POLKIT_UNAVAILABLE), "unavailable");
        ASSERT_NULL(polkit_result_to_string(_POLKIT_RESULT_MAX));
        ASSERT_NULL(polkit_result_to_string(_POLKIT_RESULT_INVALID));
}

/* ---- configuration keys -------------------------------------------------------------------- */

TEST(config_defaults) {
        Config c;

        config_init(&c);
        ASSERT_EQ(c.auth_unix_rw, CONFIG_AUTH_NONE);
        ASSERT_EQ(c.auth_unix_ro, CONFIG_AUTH_NONE);
        ASSERT_FALSE(c.access_polkit);
        ASSERT_EQ(config_get_rw_perms(&c), 0600u);
        ASSERT_EQ(c.unix_sock_ro_perms, 0666u);
        config_done(&c);
}

TEST(config_auth_values) {
        Config c;

        config_init(&c);
        ASSERT_OK(config_set(&c, "auth_unix_rw", "polkit", NULL));
        ASSERT_EQ(c.auth_unix_rw, CONFIG_AUTH_POLKIT);
        /* polkit decides: the rw socket is world-connectable unless a mode is given. */
        ASSERT_EQ(config_get_rw_perms(&c), 0666u);
        ASSERT_OK(config_set(&c, "unix_sock_rw_perms", "0660", NULL));
        ASSERT_EQ(config_get_rw_perms(&c), 0660u);
        ASSERT_OK(config_set(&c, "auth_unix_ro", "polkit", NULL));
        ASSERT_EQ(c.auth_unix_ro, CONFIG_AUTH_POLKIT);
        ASSERT_OK(config_set(&c, "auth_unix_ro", "none", NULL));
        ASSERT_EQ(c.auth_unix_ro, CONFIG_AUTH_NONE);
        ASSERT_STREQ(config_auth_to_string(CONFIG_AUTH_POLKIT), "polkit");
        config_done(&c);
}

TEST(config_access_drivers_forms) {
        static const struct {
                const char *value;
                bool polkit;
        } cases[] = {
                { "[ \"polkit\" ]", true },
                { "[\"polkit\"]", true },
                { "[ \"polkit\", \"polkit\" ]", true },
                { "polkit", true },
                { "[ ]", false },
                { "[]", false },
                { "", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Config c;

                config_init(&c);
                c.access_polkit = !cases[i].polkit;
                ASSERT_OK(config_set(&c, "access_drivers", cases[i].value, NULL));
                ASSERT_EQ(c.access_polkit, cases[i].polkit);
                config_done(&c);
        }
}

TEST(config_perms_values) {
        Config c;

        config_init(&c);
        ASSERT_OK(config_set(&c, "unix_sock_ro_perms", "0640", NULL));
        ASSERT_EQ(c.unix_sock_ro_perms, 0640u);
        ASSERT_OK(config_set(&c, "unix_sock_ro_perms", "777", NULL));
        ASSERT_EQ(c.unix_sock_ro_perms, 0777u);
        ASSERT_OK(config_set(&c, "unix_sock_rw_perms", "0", NULL));
        ASSERT_EQ(config_get_rw_perms(&c), 0u);
        config_done(&c);
}

/* Each bad value is refused with this message. */
static void expect_refused(const char *key, const char *value, const char *message) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        Config c;

        config_init(&c);
        ASSERT_TRUE(config_set(&c, key, value, &error) < 0);
        ASSERT_EQ(error.code, XVP_ERR_CONF_SYNTAX);
        ASSERT_STREQ(error.message, message);
        config_done(&c);
}

TEST(config_bad_values) {
        expect_refused("auth_unix_rw", "sasl", "'auth_unix_rw' must be \"none\" or \"polkit\", not 'sasl'");
        expect_refused("auth_unix_ro", "", "'auth_unix_ro' must be \"none\" or \"polkit\", not ''");
        expect_refused("access_drivers", "[ \"nop\" ]", "'access_drivers': unknown access driver 'nop' (only \"polkit\")");
        expect_refused("access_drivers", "selinux", "'access_drivers': unknown access driver 'selinux' (only \"polkit\")");
        expect_refused("access_drivers", "[ \"polkit\"", "'access_drivers': unterminated list '[ \"polkit\"'");
        expect_refused("access_drivers", "[ polkit ]", "'access_drivers': list entries must be quoted strings, in '[ polkit ]'");
        expect_refused("access_drivers", "[ \"polkit\" \"polkit\" ]",
                       "'access_drivers': expected ',' between entries in '[ \"polkit\" \"polkit\" ]'");
        expect_refused("access_drivers", "[ \"polkit\", \"polkit\", \"polkit\", \"polkit\", \"polkit\" ]",
                       "'access_drivers': too many entries (limit 4)");
        expect_refused("unix_sock_rw_perms", "0800", "'unix_sock_rw_perms' must be an octal file mode such as \"0600\", not '0800'");
        expect_refused("unix_sock_rw_perms", "rw", "'unix_sock_rw_perms' must be an octal file mode such as \"0600\", not 'rw'");
        expect_refused("unix_sock_ro_perms", "04777", "'unix_sock_ro_perms' must be an octal file mode such as \"0600\", not '04777'");
        expect_refused("unix_sock_ro_perms", "", "'unix_sock_ro_perms' must be an octal file mode such as \"0600\", not ''");
}

TEST(config_file_errors_name_the_line) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        char path[] = "/tmp/test-authz-XXXXXX";
        const char *text = "# access control\n"
                           "auth_unix_rw = \"polkit\"\n"
                           "access_drivers = [ \"polkit\" ]\n"
                           "auth_unix_ro = \"kerberos\"\n";
        Config c;
        int fd;

        fd = mkstemp(path);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);

        config_init(&c);
        ASSERT_TRUE(config_load_file(&c, path, false, &error) < 0);
        (void) unlink(path);
        ASSERT_NOT_NULL(error.message);
        ASSERT_NOT_NULL(strstr(error.message, ":4: 'auth_unix_ro' must be \"none\" or \"polkit\", not 'kerberos'"));
        /* What came before the bad line was read. */
        ASSERT_EQ(c.auth_unix_rw, CONFIG_AUTH_POLKIT);
        ASSERT_TRUE(c.access_polkit);
        config_done(&c);
}

TEST(config_access_keys_are_not_reloadable) {
        Config running, fresh;

        config_init(&running);
        config_init(&fresh);
        ASSERT_OK(config_set(&fresh, "auth_unix_rw", "polkit", NULL));
        ASSERT_OK(config_set(&fresh, "access_drivers", "polkit", NULL));
        ASSERT_OK(config_set(&fresh, "unix_sock_ro_perms", "0600", NULL));
        ASSERT_OK(config_set(&fresh, "max_clients", "7", NULL));
        config_apply_reloadable(&running, &fresh);
        ASSERT_EQ(running.max_clients, 7u);
        ASSERT_EQ(running.auth_unix_rw, CONFIG_AUTH_NONE);
        ASSERT_FALSE(running.access_polkit);
        ASSERT_EQ(running.unix_sock_ro_perms, 0666u);
        config_done(&running);
        config_done(&fresh);
}

DEFINE_TEST_MAIN
