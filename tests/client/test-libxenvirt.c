/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libxenvirt against a running sandbox (tests/integration/t0400-libxenvirt.sh starts it and
 * exports XENVIRT_URI, XENVIRT_URI_RO and XENVIRTD_PID). Every function of xenvirt.h is called
 * at least once: connections and URIs, host information, lookups and lists, the lifecycle and
 * resources of domains defined here from XML, errors, read-only refusal, events through the
 * event fd and through the helper thread, keepalive, timeouts, two threads sharing a connection,
 * and (last, because it stops the daemon) the daemon going away.
 *
 * Only the public header is used: this is what an application sees.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "tests.h"
#include "xenvirt.h"
#include "xv-parse-util.h"

#define WAIT_USEC (30ull * 1000000ull)          /* bounded waits for events and state changes */

static uint64_t mono_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static const char *env_or_fail(const char *name) {
        const char *v = getenv(name);

        if (!v || !*v)
                test_fail(__FILE__, __LINE__, "$%s is not set: run me from t0400-libxenvirt.sh", name);
        return v;
}

static pid_t daemon_pid(void) {
        uint32_t pid = 0;

        ASSERT_OK(safe_atou32(env_or_fail("XENVIRTD_PID"), &pid));
        ASSERT_GT(pid, 1);
        return (pid_t) pid;
}

/* Whether every thread of process @pid is stopped ('T' in /proc/PID/task/TID/stat); a thread that
 * exits meanwhile does not count. */
static bool all_threads_stopped(pid_t pid) {
        char path[64];
        struct dirent *de;
        bool all = true;
        DIR *d;

        (void) snprintf(path, sizeof(path), "/proc/%d/task", (int) pid);
        d = opendir(path);
        ASSERT_NOT_NULL(d);
        while (all && (de = readdir(d))) {
                char stat[512], *p;
                size_t n;
                FILE *f;

                if (de->d_name[0] == '.')
                        continue;
                (void) snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stat", (int) pid, de->d_name);
                f = fopen(path, "re");
                if (!f)
                        continue;
                n = fread(stat, 1, sizeof(stat) - 1, f);
                fclose(f);
                stat[n] = '\0';
                p = strrchr(stat, ')');
                all = p && p[1] == ' ' && (p[2] == 'T' || p[2] == 't');
        }
        closedir(d);
        return all;
}

/* While the daemon is stopped, a failed assertion (abort()) must not leave it stopped for the
 * tests that follow. */
static volatile sig_atomic_t stopped_daemon;

static void continue_daemon_and_abort(int sig) {
        if (stopped_daemon > 0)
                (void) kill((pid_t) stopped_daemon, SIGCONT);
        (void) signal(sig, SIG_DFL);
        (void) raise(sig);
}

/* SIGSTOP is asynchronous: until every thread has stopped, a loop thread on another CPU may
 * still answer a request. */
static void daemon_stop(pid_t pid) {
        uint64_t end = mono_usec() + WAIT_USEC;

        stopped_daemon = pid;
        ASSERT_TRUE(signal(SIGABRT, continue_daemon_and_abort) != SIG_ERR);
        ASSERT_OK(kill(pid, SIGSTOP));
        while (!all_threads_stopped(pid)) {
                ASSERT_LT(mono_usec(), end);
                (void) usleep(1000);
        }
}

static void daemon_continue(pid_t pid) {
        ASSERT_OK(kill(pid, SIGCONT));
        stopped_daemon = 0;
}

static xv_conn *open_rw(void) {
        xv_error e = XV_ERROR_NULL;
        xv_conn *c = NULL;
        int r;

        r = xv_conn_open(env_or_fail("XENVIRT_URI"), 0, &c, &e);
        if (r < 0)
                test_fail(__FILE__, __LINE__, "xv_conn_open: %d %s", r, strnull(e.message));
        ASSERT_FALSE(xv_error_is_set(&e));
        return c;
}

static void conn_unrefp(xv_conn **c) {
        xv_conn_unref(*c);
}
static void domain_unrefp(xv_domain **d) {
        xv_domain_unref(*d);
}
#define _cleanup_conn_ _cleanup_(conn_unrefp)
#define _cleanup_domain_ _cleanup_(domain_unrefp)
#define _cleanup_xv_error_ _cleanup_(xv_error_clear)

/* A domain name unique to this test process. */
static char *test_name(const char *what) {
        char *s = NULL;

        ASSERT_TRUE(asprintf(&s, "xvlib-%s-%d", what, (int) getpid()) > 0);
        return s;
}

/* HVM domain XML that works with xensim (the hvm-bios-boot seed, without UUID, with a vif). */
static char *domain_xml(const char *name) {
        char *s = NULL;

        ASSERT_TRUE(asprintf(&s,
                             "<domain type='xen'><name>%s</name>"
                             "<os><type>hvm</type><loader>/usr/lib/xen/boot/hvmloader</loader><boot dev='hd'/></os>"
                             "<memory>524288</memory><vcpu>1</vcpu>"
                             "<on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot>"
                             "<on_crash>restart</on_crash><features><pae/><acpi/><apic/></features>"
                             "<clock sync='localtime'/><devices><emulator>/usr/lib/xen/bin/qemu-dm</emulator>"
                             "<interface type='bridge'><source bridge='xenbr0'/><script path='vif-bridge'/></interface>"
                             "<disk type='file'><source file='/var/lib/xen/images/%s'/><target dev='hda'/></disk>"
                             "<graphics type='vnc' port='-1'/></devices></domain>",
                             name, name) > 0);
        return s;
}

static xv_domain *define_domain(xv_conn *c, const char *name) {
        _cleanup_free_ char *xml = domain_xml(name);
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        xv_domain *d = NULL;
        int r;

        r = xv_domain_define_xml(c, xml, 0, &d, &e);
        if (r < 0)
                test_fail(__FILE__, __LINE__, "define %s: %d %s", name, r, strnull(e.message));
        ASSERT_STREQ(xv_domain_get_name(d), name);
        return d;
}

/* A fresh handle (handles are snapshots: the id changes when a domain starts). */
static xv_domain *lookup(xv_conn *c, const char *name) {
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        xv_domain *d = NULL;
        int r;

        r = xv_domain_lookup_by_name(c, name, &d, &e);
        if (r < 0)
                test_fail(__FILE__, __LINE__, "lookup %s: %d %s", name, r, strnull(e.message));
        return d;
}

static void undefine_eventually(xv_domain *d) {
        uint64_t end = mono_usec() + WAIT_USEC;
        xv_error e = XV_ERROR_NULL;

        while (xv_domain_undefine(d, 0, &e) < 0) {
                if (mono_usec() > end)
                        test_fail(__FILE__, __LINE__, "undefine: %s", strnull(e.message));
                xv_error_clear(&e);
                usleep(200000);
        }
}

static int state_of(xv_conn *c, const char *name, int *ret_reason) {
        _cleanup_domain_ xv_domain *d = lookup(c, name);
        int state = -1, reason = -1;

        ASSERT_OK(xv_domain_get_state(d, &state, &reason, NULL));
        if (ret_reason)
                *ret_reason = reason;
        return state;
}

static void wait_state(xv_conn *c, const char *name, int want) {
        uint64_t end = mono_usec() + WAIT_USEC;
        int s;

        while ((s = state_of(c, name, NULL)) != want) {
                if (mono_usec() > end)
                        test_fail(__FILE__, __LINE__, "%s: state %d, expected %d", name, s, want);
                usleep(100000);
        }
}

/* ASSERT_OK() that shows the library's message. */
#define ASSERT_XV_OK(expr, e)                                                                   \
        do {                                                                                    \
                int _r_ = (expr);                                                               \
                if (_r_ < 0)                                                                    \
                        test_fail(__FILE__, __LINE__, "%s: r=%d code=%d message=%s", #expr, _r_, \
                                  (e).code, strnull((e).message));                              \
        } while (0)

#define ASSERT_XV_ERROR(expr, e, want_code)                                                     \
        do {                                                                                    \
                int _r_ = (expr);                                                               \
                if (_r_ >= 0 || (e).code != (want_code) || !(e).message)                        \
                        test_fail(__FILE__, __LINE__, "%s: r=%d code=%d (expected %d) message=%s", \
                                  #expr, _r_, (e).code, (want_code), strnull((e).message));     \
        } while (0)

/* ------------------------------------------------------------------------------------------ */

TEST(open_uris) {
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        _cleanup_free_ char *sock = NULL, *uri2 = NULL;
        const char *uri = env_or_fail("XENVIRT_URI");
        xv_conn *c = NULL;

        c = open_rw();
        ASSERT_STREQ(xv_conn_get_uri(c), uri);
        ASSERT_TRUE(xv_conn_is_alive(c));
        ASSERT_FALSE(xv_conn_is_read_only(c));
        ASSERT_TRUE(xv_conn_ref(c) == c);
        ASSERT_NULL(xv_conn_unref(c));
        ASSERT_TRUE(xv_conn_is_alive(c));
        ASSERT_NULL(xv_conn_unref(c));

        /* The read-only socket, with the flag. */
        ASSERT_XV_OK(xv_conn_open(env_or_fail("XENVIRT_URI_RO"), XV_CONN_READ_ONLY, &c, &e), e);
        ASSERT_TRUE(xv_conn_is_read_only(c));
        xv_conn_unref(c);

        /* The other spellings: xen:///, xen://, and other query parameters ignored. */
        sock = strdup(strstr(uri, "?socket=") + 8);
        ASSERT_NOT_NULL(sock);
        static const char *const forms[][2] = {
                { "xen:///?socket=", "" },
                { "xen://?socket=", "" },
                { "xen:///system?mode=direct&socket=", "&foo=bar" },
                { "xen+unix:///system?socket=", "" },
        };
        for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
                _cleanup_free_ char *u = NULL;

                ASSERT_TRUE(asprintf(&u, "%s%s%s", forms[i][0], sock, forms[i][1]) > 0);
                ASSERT_XV_OK(xv_conn_open(u, 0, &c, &e), e);
                ASSERT_STREQ(xv_conn_get_uri(c), u);
                xv_conn_unref(c);
        }

        /* NULL: $XENVIRT_DEFAULT_URI. */
        ASSERT_OK(setenv("XENVIRT_DEFAULT_URI", uri, 1));
        ASSERT_XV_OK(xv_conn_open(NULL, 0, &c, &e), e);
        ASSERT_STREQ(xv_conn_get_uri(c), uri);
        xv_conn_unref(c);
        ASSERT_OK(unsetenv("XENVIRT_DEFAULT_URI"));

        /* Bad URIs: no driver for them (libvirt's VIR_ERR_NO_CONNECT). */
        static const char *const bad[] = { "qemu:///system", "xen://remotehost/system", "xen:///session",
                                           "xen:/system", "" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                xv_error_clear(&e);
                c = NULL;
                ASSERT_XV_ERROR(xv_conn_open(bad[i], 0, &c, &e), e, XV_ERR_NO_CONNECT);
                ASSERT_NULL(c);
        }
        xv_error_clear(&e);
        ASSERT_XV_ERROR(xv_conn_open("xen:///system?socket=", 0, &c, &e), e, XV_ERR_INVALID_ARG);

        /* A socket nobody listens on: a system error naming the path. */
        xv_error_clear(&e);
        ASSERT_ERROR(xv_conn_open("xen:///system?socket=/nonexistent/xenvirtd-sock", 0, &c, &e), ENOENT);
        ASSERT_EQ(e.code, XV_ERR_SYSTEM_ERROR);
        ASSERT_NOT_NULL(strstr(e.message, "/nonexistent/xenvirtd-sock"));

        /* Unknown flags. */
        xv_error_clear(&e);
        ASSERT_XV_ERROR(xv_conn_open(uri, 0x100, &c, &e), e, XV_ERR_INVALID_ARG);

        /* Percent-escapes in the socket path. */
        uri2 = strdup(uri);
        ASSERT_NOT_NULL(uri2);
        char *slash = strrchr(uri2, '/');
        ASSERT_NOT_NULL(slash);
        _cleanup_free_ char *escaped = NULL;
        *slash = '\0';
        ASSERT_TRUE(asprintf(&escaped, "%s%%2F%s", uri2, slash + 1) > 0);
        xv_error_clear(&e);
        ASSERT_XV_OK(xv_conn_open(escaped, 0, &c, &e), e);
        xv_conn_unref(c);
}

TEST(errors_first_wins) {
        _cleanup_conn_ xv_conn *c = open_rw();
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        xv_domain *d = NULL;
        char *first;

        ASSERT_FALSE(xv_error_is_set(&e));
        ASSERT_ERROR(xv_domain_lookup_by_name(c, "no-such-domain", &d, &e), ENOENT);
        ASSERT_TRUE(xv_error_is_set(&e));
        ASSERT_EQ(e.code, XV_ERR_NO_DOMAIN);
        ASSERT_NOT_NULL(strstr(e.message, "Domain not found"));
        ASSERT_NULL(d);
        first = strdup(e.message);
        ASSERT_NOT_NULL(first);

        /* A second failure keeps the first error. */
        ASSERT_ERROR(xv_domain_lookup_by_id(c, 4242, &d, &e), ENOENT);
        ASSERT_STREQ(e.message, first);
        free(first);

        xv_error_clear(&e);
        ASSERT_FALSE(xv_error_is_set(&e));
        ASSERT_NULL(e.message);
        ASSERT_EQ(e.code, 0);

        ASSERT_ERROR(xv_domain_lookup_by_id(c, 4242, &d, &e), ENOENT);
        ASSERT_EQ(e.code, XV_ERR_NO_DOMAIN);
        xv_error_clear(&e);
        ASSERT_ERROR(xv_domain_lookup_by_uuid_string(c, "00000000-0000-0000-0000-0000000000aa", &d, &e), ENOENT);
        ASSERT_EQ(e.code, XV_ERR_NO_DOMAIN);
        xv_error_clear(&e);
        ASSERT_XV_ERROR(xv_domain_lookup_by_uuid_string(c, "not-a-uuid", &d, &e), e, XV_ERR_INVALID_ARG);

        /* NULL error pointers are allowed. */
        ASSERT_ERROR(xv_domain_lookup_by_name(c, "no-such-domain", &d, NULL), ENOENT);

        /* Bad XML: the daemon's XML error. */
        xv_error_clear(&e);
        ASSERT_XV_ERROR(xv_domain_define_xml(c, "<domain type='xen'><name>broken", 0, &d, &e), e, 27);
}

TEST(host) {
        _cleanup_conn_ xv_conn *c = open_rw();
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        _cleanup_free_ char *hostname = NULL, *type = NULL, *caps = NULL;
        uint64_t v = 0, lib = 0, free_mem = 0, cells[4] = {};
        xv_node_info info = {};
        int max = 0, n = -1;

        ASSERT_XV_OK(xv_conn_get_hostname(c, &hostname, &e), e);
        ASSERT_TRUE(hostname && *hostname);
        ASSERT_XV_OK(xv_conn_get_type(c, &type, &e), e);
        ASSERT_STREQ(type, "Xen");
        ASSERT_XV_OK(xv_conn_get_version(c, &v, &e), e);
        ASSERT_GE(v, 3000000u);
        ASSERT_XV_OK(xv_conn_get_lib_version(c, &lib, &e), e);
        ASSERT_GT(lib, 0u);
        ASSERT_XV_OK(xv_conn_get_capabilities(c, &caps, &e), e);
        ASSERT_NOT_NULL(strstr(caps, "<capabilities>"));
        ASSERT_XV_OK(xv_conn_get_max_vcpus(c, NULL, &max, &e), e);
        ASSERT_GT(max, 0);

        ASSERT_XV_OK(xv_node_get_info(c, &info, &e), e);
        ASSERT_GT(info.cpus, 0u);
        ASSERT_GT(info.memory_kib, 0u);
        ASSERT_GT(strlen(info.model), 0u);
        ASSERT_EQ(info.cpus, info.nodes * info.sockets * info.cores * info.threads);
        ASSERT_XV_OK(xv_node_get_free_memory(c, &free_mem, &e), e);
        ASSERT_GT(free_mem, 0u);
        ASSERT_LE(free_mem, info.memory_kib * 1024);
        ASSERT_XV_OK(xv_node_get_cells_free_memory(c, 0, 4, cells, &n, &e), e);
        ASSERT_GE(n, 1);
        ASSERT_LE(n, 4);
        ASSERT_GT(cells[0], 0u);
        ASSERT_XV_ERROR(xv_node_get_cells_free_memory(c, 0, 0, cells, &n, &e), e, XV_ERR_INVALID_ARG);
}

TEST(native_formats) {
        _cleanup_conn_ xv_conn *c = open_rw();
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        _cleanup_free_ char *name = test_name("native"), *xml = domain_xml(name);
        _cleanup_free_ char *xm = NULL, *back = NULL, *sxpr = NULL, *expect = NULL;

        ASSERT_XV_OK(xv_conn_domain_xml_to_native(c, "xen-xm", xml, &xm, &e), e);
        ASSERT_TRUE(asprintf(&expect, "name = \"%s\"", name) > 0);
        ASSERT_NOT_NULL(strstr(xm, expect));
        ASSERT_XV_OK(xv_conn_domain_xml_from_native(c, "xen-xm", xm, &back, &e), e);
        ASSERT_NOT_NULL(strstr(back, name));
        ASSERT_XV_OK(xv_conn_domain_xml_to_native(c, "xen-sxpr", xml, &sxpr, &e), e);
        ASSERT_NOT_NULL(strstr(sxpr, name));
        ASSERT_TRUE(xv_conn_domain_xml_to_native(c, "xen-unknown", xml, &sxpr, &e) < 0);
        ASSERT_TRUE(xv_error_is_set(&e));
}

TEST(lookups_and_lists) {
        _cleanup_conn_ xv_conn *c = open_rw();
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        _cleanup_domain_ xv_domain *d0 = NULL, *by_id = NULL, *by_uuid = NULL, *by_str = NULL, *by_compact = NULL;
        _cleanup_free_ char *name = test_name("lookup");
        _cleanup_domain_ xv_domain *mine = NULL;
        char compact[33];
        uint8_t uuid[16];
        xv_domain **list = NULL;
        size_t n = 0;
        int running = -1, defined = -1, defined2 = -1;
        bool found0 = false, found_mine = false;

        ASSERT_XV_OK(xv_domain_lookup_by_name(c, "Domain-0", &d0, &e), e);
        ASSERT_STREQ(xv_domain_get_name(d0), "Domain-0");
        ASSERT_EQ(xv_domain_get_id(d0), 0);
        ASSERT_TRUE(xv_domain_get_conn(d0) == c);
        ASSERT_EQ(strlen(xv_domain_get_uuid_string(d0)), 36u);

        ASSERT_XV_OK(xv_domain_lookup_by_id(c, 0, &by_id, &e), e);
        ASSERT_STREQ(xv_domain_get_name(by_id), "Domain-0");
        ASSERT_XV_OK(xv_conn_num_of_defined_domains(c, &defined, &e), e);
        mine = define_domain(c, name);
        ASSERT_EQ(xv_domain_get_id(mine), -1);
        xv_domain_get_uuid(mine, uuid);
        ASSERT_XV_OK(xv_domain_lookup_by_uuid(c, uuid, &by_uuid, &e), e);
        ASSERT_STREQ(xv_domain_get_name(by_uuid), name);
        ASSERT_XV_OK(xv_domain_lookup_by_uuid_string(c, xv_domain_get_uuid_string(mine), &by_str, &e), e);
        ASSERT_STREQ(xv_domain_get_uuid_string(by_str), xv_domain_get_uuid_string(mine));

        /* The 32-digit form too. */
        size_t j = 0;
        for (const char *p = xv_domain_get_uuid_string(mine); *p; p++)
                if (*p != '-')
                        compact[j++] = *p;
        compact[j] = '\0';
        ASSERT_EQ(j, 32u);
        ASSERT_XV_OK(xv_domain_lookup_by_uuid_string(c, compact, &by_compact, &e), e);
        ASSERT_STREQ(xv_domain_get_name(by_compact), name);

        ASSERT_XV_OK(xv_conn_num_of_domains(c, &running, &e), e);
        ASSERT_GE(running, 1);
        ASSERT_XV_OK(xv_conn_num_of_defined_domains(c, &defined2, &e), e);
        ASSERT_EQ(defined2, defined + 1);

        ASSERT_XV_OK(xv_conn_list_all_domains(c, 0, &list, &n, &e), e);
        ASSERT_NULL(list[n]);
        for (size_t i = 0; i < n; i++) {
                if (streq(xv_domain_get_name(list[i]), "Domain-0"))
                        found0 = true;
                if (streq(xv_domain_get_name(list[i]), name))
                        found_mine = true;
        }
        ASSERT_TRUE(found0 && found_mine);
        xv_domain_list_free(list);

        /* Filters: active ones only, inactive ones only. */
        ASSERT_XV_OK(xv_conn_list_all_domains(c, XV_LIST_DOMAINS_ACTIVE, &list, &n, &e), e);
        ASSERT_EQ((int) n, running);
        for (size_t i = 0; i < n; i++)
                ASSERT_GE(xv_domain_get_id(list[i]), 0);
        xv_domain_list_free(list);
        ASSERT_XV_OK(xv_conn_list_all_domains(c, XV_LIST_DOMAINS_INACTIVE, &list, NULL, &e), e);
        found_mine = false;
        for (xv_domain **i = list; *i; i++) {
                ASSERT_EQ(xv_domain_get_id(*i), -1);
                found_mine = found_mine || streq(xv_domain_get_name(*i), name);
        }
        ASSERT_TRUE(found_mine);
        xv_domain_list_free(list);

        ASSERT_XV_OK(xv_domain_undefine(mine, 0, &e), e);
}

TEST(domain_lifecycle) {
        _cleanup_conn_ xv_conn *c = open_rw();
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        _cleanup_free_ char *name = test_name("life"), *xml = NULL, *os = NULL;
        _cleanup_domain_ xv_domain *d = NULL, *run = NULL;
        xv_domain_info info = {};
        bool b = true;
        int state = -1, reason = -1, n = 0;
        uint64_t kib = 0;

        d = define_domain(c, name);
        ASSERT_XV_OK(xv_domain_is_active(d, &b, &e), e);
        ASSERT_FALSE(b);
        ASSERT_XV_OK(xv_domain_is_persistent(d, &b, &e), e);
        ASSERT_TRUE(b);
        ASSERT_XV_OK(xv_domain_get_state(d, &state, &reason, &e), e);
        ASSERT_EQ(state, XV_DOMAIN_SHUTOFF);
        ASSERT_STREQ(xv_domain_state_to_string(state), "shut off");
        ASSERT_XV_OK(xv_domain_get_os_type(d, &os, &e), e);
        ASSERT_STREQ(os, "hvm");
        ASSERT_XV_OK(xv_domain_get_max_memory(d, &kib, &e), e);
        ASSERT_EQ(kib, 524288u);
        ASSERT_XV_OK(xv_domain_get_info(d, &info, &e), e);
        ASSERT_EQ(info.max_mem_kib, 524288u);
        ASSERT_EQ(info.nr_virt_cpu, 1u);
        ASSERT_XV_OK(xv_domain_get_xml_desc(d, XV_DOMAIN_XML_INACTIVE, &xml, &e), e);
        ASSERT_NOT_NULL(strstr(xml, name));
        ASSERT_NOT_NULL(strstr(xml, xv_domain_get_uuid_string(d)));

        ASSERT_XV_OK(xv_domain_set_autostart(d, true, &e), e);
        ASSERT_XV_OK(xv_domain_get_autostart(d, &b, &e), e);
        ASSERT_TRUE(b);
        ASSERT_XV_OK(xv_domain_set_autostart(d, false, &e), e);
        ASSERT_XV_OK(xv_domain_get_autostart(d, &b, &e), e);
        ASSERT_FALSE(b);

        /* Inactive: no vCPU info, an operation-invalid error from the daemon. */
        ASSERT_XV_ERROR(xv_domain_suspend(d, &e), e, XV_ERR_OPERATION_INVALID);
        xv_error_clear(&e);

        /* Start. */
        ASSERT_XV_OK(xv_domain_create(d, 0, &e), e);
        wait_state(c, name, XV_DOMAIN_RUNNING);
        run = lookup(c, name);
        ASSERT_GT(xv_domain_get_id(run), 0);
        ASSERT_EQ(xv_domain_get_id(d), -1);     /* handles are snapshots */
        ASSERT_XV_OK(xv_domain_get_state(run, &state, &reason, &e), e);
        ASSERT_EQ(state, XV_DOMAIN_RUNNING);
        ASSERT_STREQ(xv_domain_state_reason_to_string(state, reason), "booted");
        ASSERT_XV_OK(xv_domain_is_active(run, &b, &e), e);
        ASSERT_TRUE(b);
        ASSERT_XV_OK(xv_domain_get_max_vcpus(run, &n, &e), e);
        ASSERT_GE(n, 1);

        ASSERT_XV_OK(xv_domain_suspend(run, &e), e);
        wait_state(c, name, XV_DOMAIN_PAUSED);
        ASSERT_XV_OK(xv_domain_get_state(run, &state, &reason, &e), e);
        ASSERT_STREQ(xv_domain_state_reason_to_string(state, reason), "user");
        ASSERT_XV_OK(xv_domain_resume(run, &e), e);
        wait_state(c, name, XV_DOMAIN_RUNNING);

        ASSERT_XV_OK(xv_domain_destroy(run, 0, &e), e);
        wait_state(c, name, XV_DOMAIN_SHUTOFF);
        ASSERT_XV_OK(xv_domain_get_state(d, &state, &reason, &e), e);
        ASSERT_STREQ(xv_domain_state_reason_to_string(state, reason), "destroyed");

        /* Start paused, then shut down gracefully. */
        xv_domain_unref(run);
        ASSERT_XV_OK(xv_domain_create(d, XV_DOMAIN_START_PAUSED, &e), e);
        wait_state(c, name, XV_DOMAIN_PAUSED);
        run = lookup(c, name);
        ASSERT_XV_OK(xv_domain_resume(run, &e), e);
        wait_state(c, name, XV_DOMAIN_RUNNING);
        /* A Xen reboot builds a new domain: wait for the new id before shutting it down. */
        ASSERT_XV_OK(xv_domain_reboot(run, 0, &e), e);
        uint64_t end = mono_usec() + WAIT_USEC;
        for (;;) {
                _cleanup_domain_ xv_domain *now = lookup(c, name);

                if (xv_domain_get_id(now) > 0 && xv_domain_get_id(now) != xv_domain_get_id(run) &&
                    state_of(c, name, NULL) == XV_DOMAIN_RUNNING)
                        break;
                if (mono_usec() > end)
                        test_fail(__FILE__, __LINE__, "%s was not rebooted", name);
                usleep(100000);
        }
        ASSERT_XV_OK(xv_domain_shutdown(run, 0, &e), e);
        wait_state(c, name, XV_DOMAIN_SHUTOFF);

        /* XenD reports a shut-down domain off a moment before it is reaped. */
        undefine_eventually(d);
        xv_domain_unref(run);
        run = NULL;
        ASSERT_ERROR(xv_domain_lookup_by_name(c, name, &run, &e), ENOENT);
        ASSERT_EQ(e.code, XV_ERR_NO_DOMAIN);
        xv_error_clear(&e);

        /* Transient: create from XML, destroy makes it vanish. */
        _cleanup_free_ char *txml = domain_xml(name);
        ASSERT_XV_OK(xv_domain_create_xml(c, txml, 0, &run, &e), e);
        ASSERT_GT(xv_domain_get_id(run), 0);
        ASSERT_XV_OK(xv_domain_is_persistent(run, &b, &e), e);
        ASSERT_FALSE(b);
        ASSERT_XV_OK(xv_domain_destroy(run, 0, &e), e);
        xv_domain *gone = NULL;
        ASSERT_ERROR(xv_domain_lookup_by_name(c, name, &gone, &e), ENOENT);
        ASSERT_NULL(gone);
}

TEST(domain_save_restore_dump) {
        _cleanup_conn_ xv_conn *c = open_rw();
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        _cleanup_free_ char *name = test_name("save"), *path = NULL, *dump = NULL;
        _cleanup_domain_ xv_domain *d = NULL, *run = NULL;
        bool b = true;

        d = define_domain(c, name);
        ASSERT_XV_OK(xv_domain_create(d, 0, &e), e);
        wait_state(c, name, XV_DOMAIN_RUNNING);
        run = lookup(c, name);

        ASSERT_TRUE(asprintf(&dump, "/tmp/%s.core", name) > 0);
        ASSERT_XV_OK(xv_domain_core_dump(run, dump, 0, &e), e);
        ASSERT_EQ(state_of(c, name, NULL), XV_DOMAIN_RUNNING);

        ASSERT_TRUE(asprintf(&path, "/tmp/%s.save", name) > 0);
        (void) unlink(path);
        ASSERT_XV_OK(xv_domain_save(run, path, NULL, 0, &e), e);
        wait_state(c, name, XV_DOMAIN_SHUTOFF);
        ASSERT_XV_OK(xv_domain_restore(c, path, NULL, 0, &e), e);
        wait_state(c, name, XV_DOMAIN_RUNNING);

        /* Managed save: the image exists until the next start or its removal. The sandbox's
         * daemon keeps images in its default directory, which may not exist here; then its
         * error must come through as it is. */
        xv_domain_unref(run);
        run = lookup(c, name);
        ASSERT_XV_OK(xv_domain_has_managed_save(run, &b, &e), e);
        ASSERT_FALSE(b);
        if (xv_domain_managed_save(run, 0, &e) >= 0) {
                wait_state(c, name, XV_DOMAIN_SHUTOFF);
                ASSERT_XV_OK(xv_domain_has_managed_save(d, &b, &e), e);
                ASSERT_TRUE(b);
                ASSERT_XV_OK(xv_domain_managed_save_remove(d, &e), e);
                ASSERT_XV_OK(xv_domain_has_managed_save(d, &b, &e), e);
                ASSERT_FALSE(b);
        } else {
                ASSERT_TRUE(xv_error_is_set(&e) && e.message);
                printf("# managed save refused by the daemon: %s\n", e.message);
                xv_error_clear(&e);
                ASSERT_XV_OK(xv_domain_has_managed_save(d, &b, &e), e);
                ASSERT_FALSE(b);
                ASSERT_XV_OK(xv_domain_destroy(run, 0, &e), e);
        }

        ASSERT_XV_OK(xv_domain_undefine(d, 0, &e), e);
        (void) unlink(path);
        (void) unlink(dump);
}

TEST(domain_resources) {
        _cleanup_conn_ xv_conn *c = open_rw();
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        _cleanup_free_ char *name = test_name("res"), *sched = NULL, *vif = NULL;
        _cleanup_domain_ xv_domain *d = NULL, *run = NULL;
        xv_vcpu_info *vcpus = NULL;
        size_t n = 0, maplen = 0;
        xv_param *params = NULL;
        size_t np = 0;
        int count = 0, nparams = -1;
        xv_domain_info info = {};
        xv_block_stats blk;
        xv_interface_stats ifs;

        d = define_domain(c, name);
        ASSERT_XV_OK(xv_domain_set_vcpus(d, 2, XV_DOMAIN_AFFECT_CONFIG | XV_DOMAIN_VCPU_MAXIMUM, &e), e);
        ASSERT_XV_OK(xv_domain_get_vcpus_flags(d, XV_DOMAIN_AFFECT_CONFIG | XV_DOMAIN_VCPU_MAXIMUM, &count, &e), e);
        ASSERT_EQ(count, 2);
        ASSERT_XV_OK(xv_domain_set_max_memory(d, 614400, &e), e);
        ASSERT_XV_OK(xv_domain_get_info(d, &info, &e), e);
        ASSERT_EQ(info.max_mem_kib, 614400u);

        ASSERT_XV_OK(xv_domain_create(d, 0, &e), e);
        wait_state(c, name, XV_DOMAIN_RUNNING);
        run = lookup(c, name);

        ASSERT_XV_OK(xv_domain_set_memory(run, 409600, XV_DOMAIN_AFFECT_LIVE, &e), e);
        ASSERT_XV_OK(xv_domain_get_info(run, &info, &e), e);
        ASSERT_EQ(info.memory_kib, 409600u);

        ASSERT_XV_OK(xv_domain_set_vcpus(run, 2, 0, &e), e);
        ASSERT_XV_OK(xv_domain_get_vcpus_flags(run, XV_DOMAIN_AFFECT_LIVE, &count, &e), e);
        ASSERT_EQ(count, 2);

        ASSERT_XV_OK(xv_domain_get_vcpus(run, &vcpus, &n, &maplen, &e), e);
        ASSERT_EQ(n, 2u);
        ASSERT_GE(maplen, 1u);
        ASSERT_EQ(vcpus[0].number, 0u);
        ASSERT_EQ(vcpus[1].number, 1u);
        ASSERT_NOT_NULL(vcpus[0].cpumap);
        xv_vcpu_info_free(vcpus, n);

        /* Pin vCPU 0 to host CPU 1, and read it back. */
        uint8_t map[2048] = {};
        map[0] = 0x02;
        ASSERT_XV_OK(xv_domain_pin_vcpu(run, 0, map, maplen, 0, &e), e);
        ASSERT_XV_OK(xv_domain_get_vcpus(run, &vcpus, &n, &maplen, &e), e);
        ASSERT_EQ(vcpus[0].cpumap[0], 0x02);
        xv_vcpu_info_free(vcpus, n);
        ASSERT_XV_OK(xv_domain_pin_vcpu(run, 0, map, maplen, XV_DOMAIN_AFFECT_LIVE, &e), e);

        /* Scheduler. */
        ASSERT_XV_OK(xv_domain_get_scheduler_type(run, &sched, &nparams, &e), e);
        ASSERT_STREQ(sched, "credit");
        ASSERT_EQ(nparams, 2);
        ASSERT_XV_OK(xv_domain_get_scheduler_params(run, 0, &params, &np, &e), e);
        ASSERT_EQ(np, 2u);
        ASSERT_STREQ(params[0].field, "weight");
        ASSERT_EQ(params[0].type, XV_PARAM_UINT);
        params[0].value.ui = 512;
        ASSERT_XV_OK(xv_domain_set_scheduler_params(run, params, 1, 0, &e), e);
        xv_params_free(params, np);
        ASSERT_XV_OK(xv_domain_get_scheduler_params(run, XV_DOMAIN_AFFECT_LIVE, &params, &np, &e), e);
        ASSERT_EQ(params[0].value.ui, 512u);
        params[0].value.ui = 256;
        ASSERT_XV_OK(xv_domain_set_scheduler_params(run, params, 1, XV_DOMAIN_AFFECT_LIVE, &e), e);
        xv_params_free(params, np);

        /* Statistics. */
        ASSERT_XV_OK(xv_domain_block_stats(run, "hda", &blk, &e), e);
        ASSERT_GE(blk.rd_req, -1);
        ASSERT_TRUE(asprintf(&vif, "vif%d.0", xv_domain_get_id(run)) > 0);
        ASSERT_XV_OK(xv_domain_interface_stats(run, vif, &ifs, &e), e);
        ASSERT_GE(ifs.rx_bytes, -1);
        ASSERT_TRUE(xv_domain_block_stats(run, "xvdz", &blk, &e) < 0);
        ASSERT_TRUE(xv_error_is_set(&e) && e.message);
        xv_error_clear(&e);

        /* Devices. */
        static const char disk[] = "<disk type='file' device='disk'><source file='/var/lib/xen/images/x.img'/>"
                                   "<target dev='xvdb' bus='xen'/></disk>";
        _cleanup_free_ char *xml = NULL;
        ASSERT_XV_OK(xv_domain_attach_device(run, disk, 0, &e), e);
        ASSERT_XV_OK(xv_domain_get_xml_desc(run, 0, &xml, &e), e);
        ASSERT_NOT_NULL(strstr(xml, "xvdb"));
        ASSERT_XV_OK(xv_domain_detach_device(run, disk, 0, &e), e);
        free(xml);
        xml = NULL;
        ASSERT_XV_OK(xv_domain_get_xml_desc(run, 0, &xml, &e), e);
        ASSERT_NULL(strstr(xml, "xvdb"));
        /* The flags variant (XenD changes both configurations together). */
        ASSERT_XV_OK(xv_domain_attach_device(run, disk, XV_DOMAIN_AFFECT_LIVE | XV_DOMAIN_AFFECT_CONFIG, &e), e);
        /* update-device: whatever the daemon answers, the library carries it through. */
        int r = xv_domain_update_device(run, disk, 0, &e);
        ASSERT_TRUE(r >= 0 || xv_error_is_set(&e));
        xv_error_clear(&e);

        /* Bulk statistics: one record for the one domain asked for, and all of them. */
        xv_domain_stats *stats = NULL;
        size_t ns = 0;
        bool saw_state = false;
        ASSERT_XV_OK(xv_conn_get_all_domain_stats(c, &run, 1, 0, 0, &stats, &ns, &e), e);
        ASSERT_EQ(ns, 1u);
        ASSERT_STREQ(xv_domain_get_name(stats[0].dom), name);
        for (size_t i = 0; i < stats[0].n_params; i++)
                if (streq(stats[0].params[i].field, "state.state")) {
                        saw_state = true;
                        ASSERT_EQ(stats[0].params[i].value.i, XV_DOMAIN_RUNNING);
                }
        ASSERT_TRUE(saw_state);
        xv_domain_stats_free(stats, ns);
        ASSERT_XV_OK(xv_conn_get_all_domain_stats(c, NULL, 0, 1, XV_LIST_DOMAINS_ACTIVE, &stats, &ns, &e), e);
        ASSERT_GE(ns, 2u);
        xv_domain_stats_free(stats, ns);

        ASSERT_XV_OK(xv_domain_destroy(run, 0, &e), e);
        ASSERT_XV_OK(xv_domain_undefine(d, 0, &e), e);
}

TEST(read_only) {
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        _cleanup_conn_ xv_conn *ro = NULL;
        _cleanup_free_ char *name = test_name("ro"), *xml = domain_xml(name);
        _cleanup_domain_ xv_domain *d0 = NULL;
        xv_domain *d = NULL;
        xv_domain **list = NULL;
        size_t n = 0;

        ASSERT_XV_OK(xv_conn_open(env_or_fail("XENVIRT_URI_RO"), XV_CONN_READ_ONLY, &ro, &e), e);
        ASSERT_XV_OK(xv_conn_list_all_domains(ro, 0, &list, &n, &e), e);
        ASSERT_GE(n, 1u);
        xv_domain_list_free(list);
        ASSERT_XV_OK(xv_domain_lookup_by_id(ro, 0, &d0, &e), e);

        ASSERT_ERROR(xv_domain_define_xml(ro, xml, 0, &d, &e), EPERM);
        ASSERT_EQ(e.code, XV_ERR_OPERATION_DENIED);
        ASSERT_NOT_NULL(strstr(e.message, "read"));
        ASSERT_NULL(d);
        xv_error_clear(&e);
        ASSERT_XV_ERROR(xv_domain_suspend(d0, &e), e, XV_ERR_OPERATION_DENIED);
}

TEST(strings) {
        ASSERT_STREQ(xv_domain_state_to_string(XV_DOMAIN_BLOCKED), "idle");
        ASSERT_STREQ(xv_domain_state_to_string(XV_DOMAIN_SHUTDOWN), "in shutdown");
        ASSERT_STREQ(xv_domain_state_to_string(99), "no state");
        ASSERT_STREQ(xv_domain_state_reason_to_string(XV_DOMAIN_SHUTOFF, 5), "saved");
        ASSERT_STREQ(xv_domain_state_reason_to_string(XV_DOMAIN_RUNNING, 3), "restored");
        ASSERT_STREQ(xv_domain_state_reason_to_string(XV_DOMAIN_RUNNING, 99), "unknown");
        ASSERT_STREQ(xv_event_type_to_string(XV_EVENT_STARTED), "Started");
        ASSERT_STREQ(xv_event_detail_to_string(XV_EVENT_STOPPED, 1), "Destroyed");
        ASSERT_STREQ(xv_event_detail_to_string(XV_EVENT_DEFINED, 0), "Added");
        ASSERT_STREQ(xv_event_detail_to_string(XV_EVENT_UNDEFINED, 0), "Removed");
        ASSERT_STREQ(xv_event_detail_to_string(XV_EVENT_STARTED, 9), "unknown");
        ASSERT_STREQ(xv_event_type_to_string(-1), "unknown");
}

/* ------------------------------------------------------------------------------------------
 * Events
 */

typedef struct Seen {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        const char *name;
        unsigned mask;          /* bit (event * 8 + detail) */
        unsigned other;         /* events of other domains (for the per-domain registration) */
        unsigned callbacks;
        bool freed;
        bool closed;
        int close_reason;
        xv_conn *conn;
} Seen;

#define BIT(ev, det) (1u << ((ev) * 4 + (det)))
#define LIFECYCLE_ALL                                                                   \
        (BIT(XV_EVENT_DEFINED, 0) | BIT(XV_EVENT_STARTED, 0) | BIT(XV_EVENT_STOPPED, 1) | \
         BIT(XV_EVENT_UNDEFINED, 0))

static void seen_init(Seen *s, const char *name) {
        *s = (Seen) { .name = name };
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
}

static void on_lifecycle(xv_conn *c, xv_domain *dom, int event, int detail, void *userdata) {
        Seen *s = userdata;

        ASSERT_NOT_NULL(dom);
        ASSERT_TRUE(xv_domain_get_conn(dom) == c);
        /* A callback may call the library on the same connection. */
        ASSERT_TRUE(xv_conn_is_alive(c));
        pthread_mutex_lock(&s->lock);
        s->callbacks++;
        if (streq(xv_domain_get_name(dom), s->name)) {
                if (event >= 0 && event < 8 && detail >= 0 && detail < 4)
                        s->mask |= BIT(event, detail);
        } else
                s->other++;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
}

static void on_free(void *userdata) {
        Seen *s = userdata;

        pthread_mutex_lock(&s->lock);
        s->freed = true;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
}

static void on_close(xv_conn *c, int reason, void *userdata) {
        Seen *s = userdata;

        pthread_mutex_lock(&s->lock);
        s->closed = true;
        s->close_reason = reason;
        s->conn = c;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
}

static unsigned seen_mask(Seen *s) {
        unsigned m;

        pthread_mutex_lock(&s->lock);
        m = s->mask;
        pthread_mutex_unlock(&s->lock);
        return m;
}

/* Define, start, destroy and undefine @name on a connection of its own. */
static void lifecycle_round(const char *name) {
        _cleanup_conn_ xv_conn *c = open_rw();
        _cleanup_domain_ xv_domain *d = define_domain(c, name), *run = NULL;

        ASSERT_OK(xv_domain_create(d, 0, NULL));
        wait_state(c, name, XV_DOMAIN_RUNNING);
        run = lookup(c, name);
        ASSERT_OK(xv_domain_destroy(run, 0, NULL));
        ASSERT_OK(xv_domain_undefine(d, 0, NULL));
}

TEST(events_fd) {
        _cleanup_conn_ xv_conn *c = open_rw();
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        _cleanup_free_ char *name = test_name("evfd");
        Seen all, one;
        int id_all = -1, id_one = -1, fd;
        uint64_t end;

        seen_init(&all, name);
        seen_init(&one, name);
        ASSERT_XV_OK(xv_conn_register_lifecycle_event(c, NULL, on_lifecycle, &all, on_free, &id_all, &e), e);

        /* A registration for Domain-0 only: it must not see our domain's events. */
        _cleanup_domain_ xv_domain *d0 = lookup(c, "Domain-0");
        one.name = "Domain-0";
        ASSERT_XV_OK(xv_conn_register_lifecycle_event(c, d0, on_lifecycle, &one, NULL, &id_one, &e), e);
        ASSERT_NE(id_all, id_one);

        fd = xv_conn_get_event_fd(c);
        ASSERT_GE(fd, 0);
        lifecycle_round(name);

        end = mono_usec() + WAIT_USEC;
        while ((seen_mask(&all) & LIFECYCLE_ALL) != LIFECYCLE_ALL) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };

                if (mono_usec() > end)
                        test_fail(__FILE__, __LINE__, "events seen: 0x%x", seen_mask(&all));
                if (poll(&pfd, 1, 1000) > 0)
                        ASSERT_GE(xv_conn_dispatch_events(c), 0);
        }
        ASSERT_TRUE(seen_mask(&all) & BIT(XV_EVENT_STOPPED, 1));
        ASSERT_EQ(one.callbacks, 0u);

        /* Nothing left: the fd is not readable once everything was dispatched. */
        ASSERT_GE(xv_conn_dispatch_events(c), 0);
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ASSERT_EQ(poll(&pfd, 1, 0), 0);

        ASSERT_XV_OK(xv_conn_deregister_event(c, id_all, &e), e);
        ASSERT_TRUE(all.freed);
        ASSERT_XV_OK(xv_conn_deregister_event(c, id_one, &e), e);
        ASSERT_XV_ERROR(xv_conn_deregister_event(c, id_one, &e), e, XV_ERR_INVALID_ARG);
}

TEST(events_thread) {
        _cleanup_conn_ xv_conn *c = open_rw();
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        _cleanup_free_ char *name = test_name("evthr");
        struct timespec ts;
        Seen s;
        int id = -1;

        seen_init(&s, name);
        ASSERT_XV_OK(xv_conn_register_lifecycle_event(c, NULL, on_lifecycle, &s, on_free, &id, &e), e);
        ASSERT_XV_OK(xv_conn_start_event_thread(c, &e), e);
        ASSERT_OK(xv_conn_start_event_thread(c, &e));   /* once is enough; a second call is a no-op */

        lifecycle_round(name);

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += WAIT_USEC / 1000000;
        pthread_mutex_lock(&s.lock);
        while ((s.mask & LIFECYCLE_ALL) != LIFECYCLE_ALL)
                if (pthread_cond_timedwait(&s.cond, &s.lock, &ts) != 0)
                        break;
        unsigned mask = s.mask;
        pthread_mutex_unlock(&s.lock);
        ASSERT_EQ(mask & LIFECYCLE_ALL, LIFECYCLE_ALL);

        /* Freed with the connection: the registration's userdata is released then. A callback
         * still running on the event thread holds a domain handle, and with it the connection,
         * so the last reference (and the release) may come from there a moment later. */
        xv_conn_unref(TAKE_PTR(c));
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += WAIT_USEC / 1000000;
        pthread_mutex_lock(&s.lock);
        while (!s.freed)
                if (pthread_cond_timedwait(&s.cond, &s.lock, &ts) != 0)
                        break;
        bool freed = s.freed;
        pthread_mutex_unlock(&s.lock);
        ASSERT_TRUE(freed);
}

static void on_reboot(xv_conn *c, xv_domain *dom, void *userdata) {
}

TEST(reboot_event_registration) {
        _cleanup_conn_ xv_conn *c = open_rw();
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        int id = -1, r;

        /* The daemon only has lifecycle events; its refusal reaches the caller unchanged, and no
         * registration remains. */
        r = xv_conn_register_reboot_event(c, NULL, on_reboot, NULL, NULL, &id, &e);
        if (r >= 0) {
                ASSERT_XV_OK(xv_conn_deregister_event(c, id, &e), e);
                return;
        }
        ASSERT_TRUE(xv_error_is_set(&e));
        ASSERT_EQ(e.code, XV_ERR_INVALID_ARG);
        ASSERT_EQ(id, -1);
        ASSERT_XV_ERROR(xv_conn_register_lifecycle_event(c, NULL, NULL, NULL, NULL, &id, &e), e, XV_ERR_INVALID_ARG);
}

/* ------------------------------------------------------------------------------------------
 * Keepalive and timeouts (the sandbox's daemon pings every second, gives up after 2)
 */

TEST(keepalive_daemon_pings) {
        _cleanup_conn_ xv_conn *c = open_rw();
        _cleanup_free_ char *h = NULL;

        /* Without our own pings the daemon's are what keeps the connection: it drops a client
         * that does not answer them within about 3 s. */
        ASSERT_OK(xv_conn_set_keepalive(c, 0, 0));
        sleep(6);
        ASSERT_TRUE(xv_conn_is_alive(c));
        ASSERT_OK(xv_conn_get_hostname(c, &h, NULL));

        /* And with ours. */
        ASSERT_OK(xv_conn_set_keepalive(c, 1, 2));
        sleep(4);
        ASSERT_TRUE(xv_conn_is_alive(c));
        free(h);
        h = NULL;
        ASSERT_OK(xv_conn_get_hostname(c, &h, NULL));
}

TEST(keepalive_timeout_and_call_timeout) {
        _cleanup_conn_ xv_conn *c = open_rw(), *k = open_rw();
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        _cleanup_free_ char *h = NULL;
        pid_t pid = daemon_pid();
        uint64_t start, end;
        Seen s;

        seen_init(&s, "");
        ASSERT_OK(xv_conn_set_close_callback(k, on_close, &s));
        ASSERT_OK(xv_conn_set_keepalive(k, 1, 2));
        ASSERT_OK(xv_conn_set_keepalive(c, 0, 0));
        ASSERT_OK(xv_conn_set_timeout(c, 500000));

        /* A stopped daemon answers nothing. */
        daemon_stop(pid);
        start = mono_usec();
        ASSERT_ERROR(xv_conn_get_hostname(c, &h, &e), ETIMEDOUT);
        end = mono_usec();
        ASSERT_EQ(e.code, XV_ERR_OPERATION_TIMEOUT);
        ASSERT_GE(end - start, 400000u);
        ASSERT_LT(end - start, 5000000u);
        ASSERT_TRUE(xv_conn_is_alive(c));       /* a timeout is not a dead connection */

        /* Client keepalive: dead after interval * (count + 1) s of silence. */
        end = mono_usec() + WAIT_USEC;
        while (xv_conn_is_alive(k) && mono_usec() < end)
                usleep(100000);
        daemon_continue(pid);
        ASSERT_FALSE(xv_conn_is_alive(k));
        ASSERT_GE(xv_conn_dispatch_events(k), 1);
        ASSERT_TRUE(s.closed);
        ASSERT_EQ(s.close_reason, 2);
        ASSERT_TRUE(s.conn == k);
        xv_error_clear(&e);
        ASSERT_ERROR(xv_conn_get_hostname(k, &h, &e), ENOTCONN);
        ASSERT_EQ(e.code, XV_ERR_RPC);
        ASSERT_NOT_NULL(strstr(e.message, "keepalive"));

        /* The late reply to the timed-out call is dropped; the next call gets its own reply. */
        ASSERT_OK(xv_conn_set_timeout(c, 0));
        xv_error_clear(&e);
        ASSERT_XV_OK(xv_conn_get_hostname(c, &h, &e), e);
        ASSERT_TRUE(h && *h);
        _cleanup_domain_ xv_domain *d0 = NULL;
        ASSERT_XV_OK(xv_domain_lookup_by_id(c, 0, &d0, &e), e);
        ASSERT_STREQ(xv_domain_get_name(d0), "Domain-0");
}

/* ------------------------------------------------------------------------------------------
 * Two threads on one connection
 */

#define THREAD_CALLS 300

typedef struct Worker {
        xv_conn *c;
        const char *name;       /* looked up by name: the reply must carry this name */
        int id;                 /* and by id */
        int failures;
} Worker;

static void *worker_main(void *userdata) {
        Worker *w = userdata;

        for (int i = 0; i < THREAD_CALLS; i++) {
                xv_domain *d = NULL;
                xv_error e = XV_ERROR_NULL;

                if (xv_domain_lookup_by_name(w->c, w->name, &d, &e) < 0 || !streq(xv_domain_get_name(d), w->name))
                        w->failures++;
                xv_domain_unref(d);
                d = NULL;
                if (w->id >= 0) {
                        if (xv_domain_lookup_by_id(w->c, w->id, &d, &e) < 0 || xv_domain_get_id(d) != w->id ||
                            !streq(xv_domain_get_name(d), w->name))
                                w->failures++;
                } else {
                        /* An error reply must reach the right caller too. */
                        if (xv_domain_lookup_by_id(w->c, 4242, &d, &e) != -ENOENT || e.code != XV_ERR_NO_DOMAIN)
                                w->failures++;
                }
                xv_domain_unref(d);
                xv_error_clear(&e);
        }
        return NULL;
}

TEST(two_threads_one_connection) {
        _cleanup_conn_ xv_conn *c = open_rw();
        _cleanup_free_ char *name = test_name("threads");
        _cleanup_domain_ xv_domain *d = define_domain(c, name);
        Worker a = { .c = c, .name = "Domain-0", .id = 0 };
        Worker b = { .c = c, .name = name, .id = -1 };
        pthread_t ta, tb;

        ASSERT_EQ(pthread_create(&ta, NULL, worker_main, &a), 0);
        ASSERT_EQ(pthread_create(&tb, NULL, worker_main, &b), 0);
        ASSERT_EQ(pthread_join(ta, NULL), 0);
        ASSERT_EQ(pthread_join(tb, NULL), 0);
        ASSERT_EQ(a.failures, 0);
        ASSERT_EQ(b.failures, 0);
        ASSERT_TRUE(xv_conn_is_alive(c));
        ASSERT_OK(xv_domain_undefine(d, 0, NULL));
}

/* ------------------------------------------------------------------------------------------
 * Polkit with the real polkitd: t0400 runs this test alone as the test users, against a
 * --polkit sandbox, with XV_TEST_POLKIT=allow (a member of group xenvirt) or deny (another
 * user). Unset (the normal run, as root without polkit): the plain open works.
 */

TEST(polkit_open) {
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        _cleanup_free_ char *h = NULL;
        const char *expect = getenv("XV_TEST_POLKIT");
        xv_conn *c = NULL;

        if (!expect || streq(expect, "allow")) {
                ASSERT_XV_OK(xv_conn_open(env_or_fail("XENVIRT_URI"), 0, &c, &e), e);
                ASSERT_XV_OK(xv_conn_get_hostname(c, &h, &e), e);
                ASSERT_TRUE(h && *h);
                xv_conn_unref(c);
                return;
        }
        ASSERT_STREQ(expect, "deny");

        /* The daemon asks for polkit on the read-write socket and refuses this user. */
        ASSERT_ERROR(xv_conn_open(env_or_fail("XENVIRT_URI"), 0, &c, &e), EACCES);
        ASSERT_NULL(c);
        ASSERT_EQ(e.code, XV_ERR_AUTH_FAILED);
        ASSERT_EQ(e.domain, 60);
        ASSERT_NOT_NULL(strstr(e.message, "authentication failed"));
        xv_error_clear(&e);

        /* The read-only socket lets everyone monitor. */
        ASSERT_XV_OK(xv_conn_open(env_or_fail("XENVIRT_URI_RO"), XV_CONN_READ_ONLY, &c, &e), e);
        ASSERT_XV_OK(xv_conn_get_hostname(c, &h, &e), e);
        xv_conn_unref(c);
}

/* ------------------------------------------------------------------------------------------
 * A scripted daemon (tests/client/fake-daemon.py, started by t0400 in $XV_TEST_FAKE_DIR) for
 * what the real one cannot show: polkit refusal and success, an over-long frame, a stray reply.
 */

static int open_fake(const char *mode, xv_conn **ret, xv_error *e) {
        _cleanup_free_ char *uri = NULL;

        ASSERT_TRUE(asprintf(&uri, "xen:///system?socket=%s/%s", env_or_fail("XV_TEST_FAKE_DIR"), mode) > 0);
        return xv_conn_open(uri, 0, ret, e);
}

TEST(fake_daemon) {
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        _cleanup_free_ char *h = NULL;
        xv_conn *c = NULL;

        /* The daemon lists polkit and refuses: its error is the error of the open. */
        ASSERT_ERROR(open_fake("polkit-deny", &c, &e), EACCES);
        ASSERT_NULL(c);
        ASSERT_EQ(e.code, XV_ERR_AUTH_FAILED);
        ASSERT_EQ(e.domain, 60);
        ASSERT_STREQ(e.message, "authentication failed: access denied by policy");
        xv_error_clear(&e);

        /* Granted. */
        ASSERT_XV_OK(open_fake("polkit-ok", &c, &e), e);
        ASSERT_XV_OK(xv_conn_get_hostname(c, &h, &e), e);
        ASSERT_STREQ(h, "fake-polkit-ok");
        xv_conn_unref(c);
        free(h);
        h = NULL;

        /* A length word beyond the protocol's limit kills the connection, nothing is allocated. */
        ASSERT_XV_OK(open_fake("oversize", &c, &e), e);
        ASSERT_ERROR(xv_conn_get_hostname(c, &h, &e), ENOTCONN);
        ASSERT_EQ(e.code, XV_ERR_RPC);
        ASSERT_FALSE(xv_conn_is_alive(c));
        ASSERT_NULL(h);
        xv_conn_unref(c);
        xv_error_clear(&e);

        /* A reply for a serial nobody waits for is dropped; the caller gets its own. */
        ASSERT_XV_OK(open_fake("wrong-serial", &c, &e), e);
        for (int i = 0; i < 3; i++) {
                ASSERT_XV_OK(xv_conn_get_hostname(c, &h, &e), e);
                ASSERT_STREQ(h, "fake-wrong-serial");
                free(h);
                h = NULL;
        }
        xv_conn_unref(c);
}

/* ------------------------------------------------------------------------------------------
 * Last: the daemon goes away.
 */

TEST(zz_daemon_gone) {
        _cleanup_conn_ xv_conn *c = open_rw(), *t = open_rw();
        _cleanup_xv_error_ xv_error e = XV_ERROR_NULL;
        _cleanup_free_ char *h = NULL;
        struct pollfd pfd = {};
        struct timespec ts;
        Seen s, st;

        seen_init(&s, "");
        seen_init(&st, "");
        ASSERT_OK(xv_conn_set_close_callback(c, on_close, &s));
        ASSERT_OK(xv_conn_set_close_callback(t, on_close, &st));
        ASSERT_XV_OK(xv_conn_start_event_thread(t, &e), e);

        ASSERT_OK(kill(daemon_pid(), SIGTERM));

        /* The event fd becomes readable; dispatching runs the close callback once. */
        pfd.fd = xv_conn_get_event_fd(c);
        pfd.events = POLLIN;
        ASSERT_EQ(poll(&pfd, 1, (int) (WAIT_USEC / 1000)), 1);
        ASSERT_FALSE(xv_conn_is_alive(c));
        ASSERT_EQ(xv_conn_dispatch_events(c), 1);
        ASSERT_TRUE(s.closed);
        ASSERT_TRUE(s.close_reason == 1 || s.close_reason == 0);
        ASSERT_EQ(xv_conn_dispatch_events(c), 0);
        /* Still readable: the connection is dead. */
        ASSERT_EQ(poll(&pfd, 1, 0), 1);

        ASSERT_ERROR(xv_conn_get_hostname(c, &h, &e), ENOTCONN);
        ASSERT_EQ(e.code, XV_ERR_RPC);
        ASSERT_NOT_NULL(e.message);
        ASSERT_NULL(h);

        /* The helper thread ran the other connection's close callback. */
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += WAIT_USEC / 1000000;
        pthread_mutex_lock(&st.lock);
        while (!st.closed)
                if (pthread_cond_timedwait(&st.cond, &st.lock, &ts) != 0)
                        break;
        pthread_mutex_unlock(&st.lock);
        ASSERT_TRUE(st.closed);

        /* A new connection fails now. */
        xv_conn *n = NULL;
        xv_error_clear(&e);
        ASSERT_TRUE(xv_conn_open(env_or_fail("XENVIRT_URI"), 0, &n, &e) < 0);
        ASSERT_NULL(n);
}

DEFINE_TEST_MAIN;
