/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xensim's xenstore: the tree (xsim-store.c) directly, and the wire protocol (xsim-xenstore.c)
 * through the real libxenstore and through raw sockets. The server runs the real host state on
 * its own sd-event loop in a thread; the test thread is the client, and runs anything that must
 * touch the state on the server thread through server_call().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/xs_wire.h>

#include "tests.h"
#include "xsim-state.h"
#include "xsim-store.h"
#include "xsim-xenstore.h"
#include "xv-alloc.h"
#include "xv-sexpr.h"

/* ---- the tree ---- */

TEST(store_write_read_rm) {
        _cleanup_(xsim_store_freep) XsimStore *s = NULL;
        XsimNode *n;
        uint64_t g;

        ASSERT_OK(xsim_store_new(&s));
        ASSERT_EQ(s->n_nodes, 1u);
        ASSERT_OK(xsim_store_write(s, "/a/b/c", "hello", 5));
        ASSERT_EQ(s->n_nodes, 4u);
        n = xsim_store_lookup(s, "/a/b/c");
        ASSERT_NOT_NULL(n);
        ASSERT_EQ(n->value_len, 5u);
        ASSERT_STREQ(n->value, "hello");
        /* Implicit parents are empty. */
        ASSERT_STREQ(xsim_store_lookup(s, "/a/b")->value, "");

        /* Every change moves the generation of the node (and of a parent whose children change). */
        g = xsim_store_generation(s, "/a/b/c");
        ASSERT_GT(g, 0u);
        ASSERT_OK(xsim_store_write(s, "/a/b/c", "x", 1));
        ASSERT_GT(xsim_store_generation(s, "/a/b/c"), g);
        g = xsim_store_generation(s, "/a/b");
        ASSERT_OK(xsim_store_mkdir(s, "/a/b/d"));
        ASSERT_GT(xsim_store_generation(s, "/a/b"), g);
        g = xsim_store_generation(s, "/a/b");
        ASSERT_OK(xsim_store_mkdir(s, "/a/b/d"));           /* exists: nothing changes */
        ASSERT_EQ(xsim_store_generation(s, "/a/b"), g);
        ASSERT_EQ(xsim_store_generation(s, "/nope"), 0u);

        /* Children are listed in creation order. */
        n = xsim_store_lookup(s, "/a/b");
        ASSERT_EQ(n->n_children, 2u);
        ASSERT_STREQ(n->children[0]->name, "c");
        ASSERT_STREQ(n->children[1]->name, "d");

        /* Removal is recursive and counts nodes back. */
        ASSERT_OK(xsim_store_rm(s, "/a"));
        ASSERT_EQ(s->n_nodes, 1u);
        ASSERT_NULL(xsim_store_lookup(s, "/a/b/c"));
        ASSERT_ERROR(xsim_store_rm(s, "/a"), ENOENT);
        ASSERT_ERROR(xsim_store_rm(s, "/"), EINVAL);

        /* Values are binary. */
        ASSERT_OK(xsim_store_write(s, "/bin", "a\0b", 3));
        ASSERT_EQ(xsim_store_lookup(s, "/bin")->value_len, 3u);
        ASSERT_OK(xsim_store_write(s, "/empty", "", 0));
        ASSERT_ERROR(xsim_store_write(s, "/big", "", XSIM_STORE_VALUE_MAX + 1), E2BIG);
}

TEST(store_path_validation) {
        _cleanup_(xsim_store_freep) XsimStore *s = NULL;
        _cleanup_free_ char *longpath = NULL;

        ASSERT_TRUE(xsim_store_path_valid("/"));
        ASSERT_TRUE(xsim_store_path_valid("/local/domain/0/backend/vbd-x_y@z"));
        ASSERT_FALSE(xsim_store_path_valid(""));
        ASSERT_FALSE(xsim_store_path_valid("relative"));
        ASSERT_FALSE(xsim_store_path_valid("/a//b"));
        ASSERT_FALSE(xsim_store_path_valid("/a/"));
        ASSERT_FALSE(xsim_store_path_valid("/a b"));
        ASSERT_FALSE(xsim_store_path_valid("/a.b"));
        ASSERT_FALSE(xsim_store_path_valid(NULL));

        longpath = malloc(XSIM_STORE_PATH_MAX + 2);
        ASSERT_NOT_NULL(longpath);
        longpath[0] = '/';
        memset(longpath + 1, 'a', XSIM_STORE_PATH_MAX);
        longpath[XSIM_STORE_PATH_MAX + 1] = 0;
        ASSERT_FALSE(xsim_store_path_valid(longpath));
        longpath[XSIM_STORE_PATH_MAX] = 0;
        ASSERT_TRUE(xsim_store_path_valid(longpath));

        ASSERT_OK(xsim_store_new(&s));
        ASSERT_ERROR(xsim_store_write(s, "/a//b", "", 0), EINVAL);
        ASSERT_ERROR(xsim_store_mkdir(s, "x"), EINVAL);
        ASSERT_NULL(xsim_store_lookup(s, "/a//b"));
}

TEST(store_perms) {
        _cleanup_(xsim_store_freep) XsimStore *s = NULL;
        XsimPerm p[2], q;
        char buf[XSIM_PERM_STRING_MAX];

        ASSERT_OK(xsim_perm_parse("b12", &q));
        ASSERT_EQ(q.domid, 12u);
        ASSERT_EQ(q.access, 'b');
        ASSERT_STREQ(xsim_perm_format(&q, buf), "b12");
        ASSERT_ERROR(xsim_perm_parse("x1", &q), EINVAL);
        ASSERT_ERROR(xsim_perm_parse("r", &q), EINVAL);
        ASSERT_ERROR(xsim_perm_parse("r-1", &q), EINVAL);
        ASSERT_ERROR(xsim_perm_parse("r65536", &q), EINVAL);
        ASSERT_ERROR(xsim_perm_parse("", &q), EINVAL);

        ASSERT_OK(xsim_store_new(&s));
        ASSERT_EQ(s->root->n_perms, 1u);
        ASSERT_STREQ(xsim_perm_format(&s->root->perms[0], buf), "n0");
        ASSERT_OK(xsim_store_mkdir(s, "/d"));
        p[0] = (XsimPerm) { 5, 'n' };
        p[1] = (XsimPerm) { 0, 'r' };
        ASSERT_OK(xsim_store_set_perms(s, "/d", p, 2));
        /* New nodes inherit their parent's list. */
        ASSERT_OK(xsim_store_write(s, "/d/e/f", "1", 1));
        ASSERT_EQ(xsim_store_lookup(s, "/d/e/f")->n_perms, 2u);
        ASSERT_EQ(xsim_store_lookup(s, "/d/e/f")->perms[0].domid, 5u);
        ASSERT_ERROR(xsim_store_set_perms(s, "/nope", p, 2), ENOENT);
        ASSERT_ERROR(xsim_store_set_perms(s, "/d", p, 0), EINVAL);
}

TEST(store_clone_is_independent) {
        _cleanup_(xsim_store_freep) XsimStore *s = NULL, *c = NULL;

        ASSERT_OK(xsim_store_new(&s));
        ASSERT_OK(xsim_store_write(s, "/a/b", "1", 1));
        ASSERT_OK(xsim_store_clone(s, &c));
        ASSERT_EQ(c->n_nodes, s->n_nodes);
        ASSERT_EQ(xsim_store_generation(c, "/a/b"), xsim_store_generation(s, "/a/b"));
        ASSERT_OK(xsim_store_write(c, "/a/b", "2", 1));
        ASSERT_OK(xsim_store_rm(c, "/a"));
        ASSERT_STREQ(xsim_store_lookup(s, "/a/b")->value, "1");
        ASSERT_NULL(xsim_store_lookup(c, "/a"));
}

TEST(store_node_limit) {
        _cleanup_(xsim_store_freep) XsimStore *s = NULL;
        char path[64];
        int r = 0;

        ASSERT_OK(xsim_store_new(&s));
        for (unsigned i = 0; r >= 0 && i <= XSIM_STORE_NODES_MAX / 256; i++)
                for (unsigned j = 0; r >= 0 && j < 256; j++) {
                        (void) snprintf(path, sizeof(path), "/n%u/m%u", i, j);
                        r = xsim_store_mkdir(s, path);
                }
        ASSERT_EQ(r, -ENOSPC);
        ASSERT_EQ(s->n_nodes, (size_t) XSIM_STORE_NODES_MAX);
        /* A multi-node creation that does not fit leaves nothing behind. */
        ASSERT_ERROR(xsim_store_write(s, "/x/y/z", "", 0), ENOSPC);
        ASSERT_NULL(xsim_store_lookup(s, "/x"));
        ASSERT_OK(xsim_store_rm(s, "/n0"));
        ASSERT_OK(xsim_store_write(s, "/x/y/z", "", 0));
}

/* ---- the server on its own thread ---- */

typedef struct Server Server;
typedef void (*ServerFunc)(Server *s, void *arg);

struct Server {
        pthread_t thread;
        sd_event *event;
        XsimHost *host;
        XsimXenstore *xs;
        int cmd[2], ack[2];
        char dir[64];
        char path[128];
};

typedef struct ServerCall {
        ServerFunc func;
        void *arg;
} ServerCall;

static int on_server_cmd(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        Server *s = userdata;
        ServerCall call;
        char c = 1;

        if (read(fd, &call, sizeof(call)) != (ssize_t) sizeof(call))
                return sd_event_exit(s->event, 0);
        call.func(s, call.arg);
        (void) write(s->ack[1], &c, 1);
        return 0;
}

static void *server_thread(void *userdata) {
        Server *s = userdata;

        (void) sd_event_loop(s->event);
        return NULL;
}

/* Runs @func on the server thread and waits for it. */
static void server_call(Server *s, ServerFunc func, void *arg) {
        ServerCall call = { func, arg };
        char c;

        ASSERT_EQ(write(s->cmd[1], &call, sizeof(call)), (ssize_t) sizeof(call));
        ASSERT_EQ(read(s->ack[0], &c, 1), 1);
}

static void do_exit(Server *s, void *arg) {
        (void) sd_event_exit(s->event, 0);
}

static void server_start(Server *s) {
        *s = (Server) {};
        (void) snprintf(s->dir, sizeof(s->dir), "/tmp/xsim-xenstore.XXXXXX");
        ASSERT_NOT_NULL(mkdtemp(s->dir));
        (void) snprintf(s->path, sizeof(s->path), "%s/socket", s->dir);
        ASSERT_OK(setenv("XENSTORED_PATH", s->path, 1));

        ASSERT_OK(sd_event_new(&s->event));
        ASSERT_OK(xsim_host_new(s->event, 4, NULL, &s->host));
        ASSERT_OK(xsim_xenstore_new(s->host, s->path, &s->xs));
        ASSERT_OK(pipe2(s->cmd, O_CLOEXEC));
        ASSERT_OK(pipe2(s->ack, O_CLOEXEC));
        ASSERT_OK(sd_event_add_io(s->event, NULL, s->cmd[0], EPOLLIN, on_server_cmd, s));
        ASSERT_EQ(pthread_create(&s->thread, NULL, server_thread, s), 0);
}

static void server_stop(Server *s) {
        server_call(s, do_exit, NULL);
        ASSERT_EQ(pthread_join(s->thread, NULL), 0);
        s->xs = xsim_xenstore_free(s->xs);
        s->host = xsim_host_free(s->host);
        s->event = sd_event_unref(s->event);
        for (int i = 0; i < 2; i++) {
                safe_close(s->cmd[i]);
                safe_close(s->ack[i]);
        }
        (void) rmdir(s->dir);
}

static void sleep_ms(unsigned ms) {
        struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };

        (void) nanosleep(&ts, NULL);
}

static char *xs_read_str(struct xs_handle *h, xs_transaction_t t, const char *path) {
        unsigned len;

        return xs_read(h, t, path, &len);
}

/* Waits for the next watch event and checks it. */
static void expect_watch(struct xs_handle *h, const char *path, const char *token) {
        struct pollfd p = { .fd = xs_fileno(h), .events = POLLIN };
        _cleanup_free_ char **ev = NULL;
        unsigned n;

        ASSERT_EQ(poll(&p, 1, 5000), 1);
        ev = xs_read_watch(h, &n);
        ASSERT_NOT_NULL(ev);
        ASSERT_EQ(n, 2u);
        ASSERT_STREQ(ev[XS_WATCH_PATH], path);
        ASSERT_STREQ(ev[XS_WATCH_TOKEN], token);
}

static void expect_no_watch(struct xs_handle *h) {
        struct pollfd p = { .fd = xs_fileno(h), .events = POLLIN };

        ASSERT_EQ(poll(&p, 1, 100), 0);
}

TEST(libxenstore_read_write_directory_rm) {
        Server s;
        struct xs_handle *h;
        _cleanup_free_ char *v = NULL, *v2 = NULL, *dp = NULL;
        _cleanup_free_ char **dir = NULL;
        _cleanup_free_ struct xs_permissions *perms = NULL;
        struct xs_permissions set[2] = { { 0, XS_PERM_READ }, { 3, XS_PERM_READ | XS_PERM_WRITE } };
        unsigned n, len;

        server_start(&s);
        h = xs_open(0);
        ASSERT_NOT_NULL(h);

        v = xs_read_str(h, XBT_NULL, "/local/domain/0/name");
        ASSERT_STREQ(v, "Domain-0");
        ASSERT_TRUE(xs_write(h, XBT_NULL, "/t/a", "one", 3));
        ASSERT_TRUE(xs_write(h, XBT_NULL, "/t/b", "", 0));
        ASSERT_TRUE(xs_mkdir(h, XBT_NULL, "/t/c/d"));
        dir = xs_directory(h, XBT_NULL, "/t", &n);
        ASSERT_NOT_NULL(dir);
        ASSERT_EQ(n, 3u);
        ASSERT_STREQ(dir[0], "a");
        ASSERT_STREQ(dir[1], "b");
        ASSERT_STREQ(dir[2], "c");

        /* Binary values come back whole. */
        ASSERT_TRUE(xs_write(h, XBT_NULL, "/t/bin", "x\0y", 3));
        v2 = xs_read(h, XBT_NULL, "/t/bin", &len);
        ASSERT_EQ(len, 3u);
        ASSERT_EQ(memcmp(v2, "x\0y", 3), 0);

        /* Relative paths are dom0's home, as for any socket client of xenstored. */
        ASSERT_TRUE(xs_write(h, XBT_NULL, "rel", "r", 1));
        free(v);
        v = xs_read_str(h, XBT_NULL, "/local/domain/0/rel");
        ASSERT_STREQ(v, "r");

        /* Errors. */
        ASSERT_NULL(xs_read_str(h, XBT_NULL, "/t/none"));
        ASSERT_EQ(errno, ENOENT);
        ASSERT_NULL(xs_read_str(h, XBT_NULL, "/t//a"));
        ASSERT_EQ(errno, EINVAL);
        ASSERT_NULL(xs_read_str(h, XBT_NULL, "@introduceDomain"));
        ASSERT_EQ(errno, EINVAL);

        /* RM is recursive; a missing node is fine when its parent exists. */
        ASSERT_TRUE(xs_rm(h, XBT_NULL, "/t/c"));
        ASSERT_NULL(xs_read_str(h, XBT_NULL, "/t/c/d"));
        ASSERT_TRUE(xs_rm(h, XBT_NULL, "/t/c"));
        ASSERT_FALSE(xs_rm(h, XBT_NULL, "/t/c/d"));
        ASSERT_EQ(errno, ENOENT);
        ASSERT_FALSE(xs_rm(h, XBT_NULL, "/"));

        /* Permissions. */
        ASSERT_TRUE(xs_set_permissions(h, XBT_NULL, "/t/a", set, 2));
        perms = xs_get_permissions(h, XBT_NULL, "/t/a", &n);
        ASSERT_NOT_NULL(perms);
        ASSERT_EQ(n, 2u);
        ASSERT_EQ(perms[0].id, 0u);
        ASSERT_EQ(perms[0].perms, (unsigned) XS_PERM_READ);
        ASSERT_EQ(perms[1].id, 3u);
        ASSERT_EQ(perms[1].perms, (unsigned) (XS_PERM_READ | XS_PERM_WRITE));

        /* More entries than a request has strings for most operations. */
        {
                struct xs_permissions many[20];
                _cleanup_free_ struct xs_permissions *got = NULL;

                for (unsigned i = 0; i < ELEMENTSOF(many); i++)
                        many[i] = (struct xs_permissions) { i, XS_PERM_READ };
                ASSERT_TRUE(xs_set_permissions(h, XBT_NULL, "/t/b", many, ELEMENTSOF(many)));
                got = xs_get_permissions(h, XBT_NULL, "/t/b", &n);
                ASSERT_NOT_NULL(got);
                ASSERT_EQ(n, 20u);
                ASSERT_EQ(got[19].id, 19u);
        }

        dp = xs_get_domain_path(h, 7);
        ASSERT_STREQ(dp, "/local/domain/7");
        ASSERT_TRUE(xs_is_domain_introduced(h, 0));
        ASSERT_FALSE(xs_is_domain_introduced(h, 99));

        xs_close(h);
        server_stop(&s);
}

TEST(libxenstore_watches) {
        Server s;
        struct xs_handle *h, *w;

        server_start(&s);
        h = xs_open(0);
        w = xs_open(0);
        ASSERT_NOT_NULL(h);
        ASSERT_NOT_NULL(w);

        /* A watch fires once at once. */
        ASSERT_TRUE(xs_watch(w, "/w", "tok"));
        expect_watch(w, "/w", "tok");
        expect_no_watch(w);

        /* Changes at or below the path fire with the changed path. */
        ASSERT_TRUE(xs_write(h, XBT_NULL, "/w/a/b", "1", 1));
        expect_watch(w, "/w/a/b", "tok");
        ASSERT_TRUE(xs_write(h, XBT_NULL, "/other", "1", 1));
        expect_no_watch(w);

        /* Removing a parent of the watch reports the watch's own path. */
        ASSERT_TRUE(xs_watch(w, "/w/a/b", "deep"));
        expect_watch(w, "/w/a/b", "deep");
        ASSERT_TRUE(xs_rm(h, XBT_NULL, "/w"));
        expect_watch(w, "/w", "tok");
        expect_watch(w, "/w/a/b", "deep");

        /* A duplicate is refused; unwatch stops the events. */
        ASSERT_FALSE(xs_watch(w, "/w", "tok"));
        ASSERT_EQ(errno, EEXIST);
        ASSERT_TRUE(xs_unwatch(w, "/w", "tok"));
        ASSERT_TRUE(xs_unwatch(w, "/w/a/b", "deep"));
        ASSERT_FALSE(xs_unwatch(w, "/w", "tok"));
        ASSERT_TRUE(xs_write(h, XBT_NULL, "/w/x", "1", 1));
        expect_no_watch(w);

        /* A token that would not fit into an event with the longest path is refused. */
        {
                char token[XSIM_XENSTORE_TOKEN_MAX + 2];

                memset(token, 't', sizeof(token) - 1);
                token[sizeof(token) - 1] = 0;
                ASSERT_FALSE(xs_watch(w, "/w", token));
                ASSERT_EQ(errno, EINVAL);
                token[sizeof(token) - 2] = 0;
                ASSERT_TRUE(xs_watch(w, "/w", token));
                expect_watch(w, "/w", token);
                ASSERT_TRUE(xs_unwatch(w, "/w", token));
        }

        /* Relative watches report relative paths. */
        ASSERT_TRUE(xs_watch(w, "relw", "r"));
        expect_watch(w, "relw", "r");
        ASSERT_TRUE(xs_write(h, XBT_NULL, "/local/domain/0/relw/k", "1", 1));
        expect_watch(w, "relw/k", "r");

        xs_close(w);
        xs_close(h);
        server_stop(&s);
}

static void do_create_domain(Server *s, void *arg) {
        const char *config_text = arg;
        XsimDomain *d = NULL;
        Sexpr *config = NULL;
        XvUuid u;
        int r;

        ASSERT_OK(uuid_from_string("11111111-2222-3333-4444-555555555555", &u));
        if (config_text)
                ASSERT_OK(sexpr_parse_string(config_text, &config, NULL));
        r = xsim_domain_create(s->host, "guest", &u, config_text && strstr(config_text, "hvm"),
                               262144, 524288, 2, config, &d, NULL);
        ASSERT_OK(r);
        ASSERT_OK(xsim_domain_unpause(d, NULL));
}

static void do_destroy_domain(Server *s, void *arg) {
        XsimDomain *d = xsim_domain_by_name(s->host, "guest");

        ASSERT_NOT_NULL(d);
        ASSERT_OK(xsim_domain_destroy(d, NULL));
}

static void do_get_domain(Server *s, void *arg) {
        *(XsimDomain **) arg = xsim_domain_by_name(s->host, "guest");
}

/* Unplugs the vif and plugs a second disk, as XenD's device_destroy/device_create do. */
static void do_hotplug(Server *s, void *arg) {
        XsimDomain *d = xsim_domain_by_name(s->host, "guest");
        Sexpr *config, *dev;

        ASSERT_NOT_NULL(d);
        config = d->config;
        for (size_t i = 1; i < config->n_items; i++) {
                const Sexpr *c = config->items[i];

                if (streq_ptr(sexpr_head(c), "device") && streq_ptr(sexpr_head(sexpr_item(c, 1)), "vif")) {
                        sexpr_free(config->items[i]);
                        memmove(config->items + i, config->items + i + 1,
                                (config->n_items - i - 1) * sizeof(Sexpr *));
                        config->n_items--;
                        break;
                }
        }
        dev = sexpr_add_list(sexpr_add_list(config, "device"), "vbd");
        sexpr_add_pair(dev, "dev", "xvdb");
        sexpr_add_pair(dev, "uname", "phy:/dev/vg/b");
        ASSERT_OK(sexpr_check(config));
        xsim_host_emit(s->host, XSIM_EVENT_CHANGED, d);
}

static void do_set_stale(Server *s, void *arg) {
        s->host->faults.xenstore_stale = true;
}

static int guest_domid(Server *s) {
        XsimDomain *d;

        server_call(s, do_get_domain, &d);
        return d ? d->domid : -1;
}

static void check_value(struct xs_handle *h, const char *path, const char *expected) {
        _cleanup_free_ char *v = xs_read_str(h, XBT_NULL, path);

        if (!streq_ptr(v, expected))
                test_fail(__FILE__, __LINE__, "%s is \"%s\", expected \"%s\"", path, strnull(v), expected);
}

static const char pv_config[] =
        "(vm (name guest) (memory 256) (vcpus 2) (image (linux (kernel /boot/vmlinuz)))"
        " (device (vbd (uname phy:/dev/vg/guest) (dev xvda) (mode w)))"
        " (device (vbd (uname file:/img/cd.iso) (dev hdc:cdrom) (mode r)))"
        " (device (vif (mac 00:16:3e:00:00:01) (bridge br0))))";

static const char hvm_config[] =
        "(vm (name guest) (memory 256) (vcpus 2) (image (hvm (kernel hvmloader) (vnc 1))))";

static void check_valuef(struct xs_handle *h, const char *expected, const char *format, ...) _printf_(3, 4);
static void check_valuef(struct xs_handle *h, const char *expected, const char *format, ...) {
        char path[256];
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(path, sizeof(path), format, ap);
        va_end(ap);
        check_value(h, path, expected);
}

static bool exists(struct xs_handle *h, const char *format, ...) _printf_(2, 3);
static bool exists(struct xs_handle *h, const char *format, ...) {
        _cleanup_free_ char *v = NULL;
        char path[256];
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(path, sizeof(path), format, ap);
        va_end(ap);
        v = xs_read_str(h, XBT_NULL, path);
        return v != NULL;
}

TEST(domain_trees_and_events) {
        Server s;
        struct xs_handle *h, *w;
        int domid;

        server_start(&s);
        h = xs_open(0);
        w = xs_open(0);
        ASSERT_NOT_NULL(h);
        ASSERT_NOT_NULL(w);

        check_value(h, "/local/domain/0/name", "Domain-0");
        check_value(h, "/local/domain/0/domid", "0");

        ASSERT_TRUE(xs_watch(w, "@introduceDomain", "in"));
        expect_watch(w, "@introduceDomain", "in");
        ASSERT_TRUE(xs_watch(w, "@releaseDomain", "out"));
        expect_watch(w, "@releaseDomain", "out");

        server_call(&s, do_create_domain, (void *) pv_config);
        domid = guest_domid(&s);
        ASSERT_GT(domid, 0);
        expect_watch(w, "@introduceDomain", "in");
        ASSERT_TRUE(xs_is_domain_introduced(h, (unsigned) domid));

        check_valuef(h, "guest", "/local/domain/%d/name", domid);
        check_valuef(h, "/vm/11111111-2222-3333-4444-555555555555", "/local/domain/%d/vm", domid);
        check_valuef(h, "262144", "/local/domain/%d/memory/target", domid);
        check_valuef(h, "524288", "/local/domain/%d/memory/static-max", domid);
        check_valuef(h, "online", "/local/domain/%d/cpu/1/availability", domid);
        check_valuef(h, "", "/local/domain/%d/control/shutdown", domid);
        check_valuef(h, "2", "/local/domain/%d/console/port", domid);
        ASSERT_FALSE(exists(h, "/local/domain/%d/console/vnc-port", domid));
        check_value(h, "/vm/11111111-2222-3333-4444-555555555555/image/ostype", "linux");
        check_value(h, "/vm/11111111-2222-3333-4444-555555555555/name", "guest");

        /* Devices from the configuration, frontend and backend. */
        check_valuef(h, "4", "/local/domain/%d/device/vbd/51712/state", domid);
        check_valuef(h, "xvda", "/local/domain/0/backend/vbd/%d/51712/dev", domid);
        check_valuef(h, "/dev/vg/guest", "/local/domain/0/backend/vbd/%d/51712/params", domid);
        check_valuef(h, "phy", "/local/domain/0/backend/vbd/%d/51712/type", domid);
        check_valuef(h, "cdrom", "/local/domain/%d/device/vbd/5632/device-type", domid);
        check_valuef(h, "hdc", "/local/domain/0/backend/vbd/%d/5632/dev", domid);
        check_valuef(h, "r", "/local/domain/0/backend/vbd/%d/5632/mode", domid);
        check_valuef(h, "00:16:3e:00:00:01", "/local/domain/%d/device/vif/0/mac", domid);
        check_valuef(h, "br0", "/local/domain/0/backend/vif/%d/0/bridge", domid);

        /* Hot-plug and hot-unplug (XenD changes the configuration and emits CHANGED). */
        server_call(&s, do_hotplug, NULL);
        check_valuef(h, "xvdb", "/local/domain/0/backend/vbd/%d/51728/dev", domid);
        check_valuef(h, "4", "/local/domain/%d/device/vbd/51728/state", domid);
        ASSERT_FALSE(exists(h, "/local/domain/%d/device/vif/0/mac", domid));
        ASSERT_FALSE(exists(h, "/local/domain/0/backend/vif/%d/0/mac", domid));
        check_valuef(h, "xvda", "/local/domain/0/backend/vbd/%d/51712/dev", domid);

        /* Destruction removes everything and fires @releaseDomain. */
        server_call(&s, do_destroy_domain, NULL);
        expect_watch(w, "@releaseDomain", "out");
        ASSERT_FALSE(exists(h, "/local/domain/%d/name", domid));
        ASSERT_FALSE(exists(h, "/local/domain/0/backend/vbd/%d/51712/dev", domid));
        ASSERT_FALSE(exists(h, "/local/domain/0/backend/vif/%d/0/mac", domid));
        ASSERT_FALSE(exists(h, "/vm/11111111-2222-3333-4444-555555555555/name"));
        ASSERT_FALSE(xs_is_domain_introduced(h, (unsigned) domid));

        /* HVM: a VNC port and a serial tty; with the stale fault the tree outlives the domain. */
        server_call(&s, do_create_domain, (void *) hvm_config);
        domid = guest_domid(&s);
        expect_watch(w, "@introduceDomain", "in");
        check_value(h, "/vm/11111111-2222-3333-4444-555555555555/image/ostype", "hvm");
        ASSERT_TRUE(exists(h, "/local/domain/%d/console/vnc-port", domid));
        ASSERT_TRUE(exists(h, "/local/domain/%d/serial/0/tty", domid));
        server_call(&s, do_set_stale, NULL);
        server_call(&s, do_destroy_domain, NULL);
        expect_watch(w, "@releaseDomain", "out");
        check_valuef(h, "guest", "/local/domain/%d/name", domid);

        xs_close(w);
        xs_close(h);
        server_stop(&s);
}

static void do_get_memory(Server *s, void *arg) {
        XsimDomain *d = xsim_domain_by_name(s->host, "guest");

        *(uint64_t *) arg = d ? d->memory_kib : 0;
}

static void do_set_memory(Server *s, void *arg) {
        XsimDomain *d = xsim_domain_by_name(s->host, "guest");

        ASSERT_OK(xsim_domain_set_memory(d, *(uint64_t *) arg, NULL));
}

TEST(guest_reacts_to_shutdown_and_balloon) {
        Server s;
        struct xs_handle *h, *w;
        uint64_t kib;
        int domid;

        server_start(&s);
        h = xs_open(0);
        w = xs_open(0);
        ASSERT_NOT_NULL(h);
        ASSERT_NOT_NULL(w);
        server_call(&s, do_create_domain, (void *) pv_config);
        domid = guest_domid(&s);
        ASSERT_GT(domid, 0);

        /* Ballooning through memory/target reaches the state, and the state's changes reach it. */
        check_valuef(h, "262144", "/local/domain/%d/memory/target", domid);
        {
                char path[64];

                (void) snprintf(path, sizeof(path), "/local/domain/%d/memory/target", domid);
                ASSERT_TRUE(xs_write(h, XBT_NULL, path, "131072", 6));
        }
        server_call(&s, do_get_memory, &kib);
        ASSERT_EQ(kib, 131072u);
        kib = 200000;
        server_call(&s, do_set_memory, &kib);
        check_valuef(h, "200000", "/local/domain/%d/memory/target", domid);

        /* A shutdown request is acknowledged first; the guest then shuts down. */
        ASSERT_TRUE(xs_watch(w, "@releaseDomain", "out"));
        expect_watch(w, "@releaseDomain", "out");
        {
                char path[64];

                (void) snprintf(path, sizeof(path), "/local/domain/%d/control/shutdown", domid);
                ASSERT_TRUE(xs_write(h, XBT_NULL, path, "poweroff", 8));
        }
        expect_watch(w, "@releaseDomain", "out");
        for (unsigned i = 0; i < 100 && exists(h, "/local/domain/%d/name", domid); i++)
                sleep_ms(10);
        ASSERT_FALSE(exists(h, "/local/domain/%d/name", domid));
        ASSERT_LT(guest_domid(&s), 0);

        /* Dom0 ignores both. */
        ASSERT_TRUE(xs_write(h, XBT_NULL, "/local/domain/0/control/shutdown", "poweroff", 8));
        sleep_ms(50);
        check_value(h, "/local/domain/0/name", "Domain-0");

        xs_close(w);
        xs_close(h);
        server_stop(&s);
}

TEST(transactions) {
        Server s;
        struct xs_handle *a, *b;
        xs_transaction_t t;
        _cleanup_free_ char *v = NULL;

        server_start(&s);
        a = xs_open(0);
        b = xs_open(0);
        ASSERT_NOT_NULL(a);
        ASSERT_NOT_NULL(b);
        ASSERT_TRUE(xs_write(a, XBT_NULL, "/tx/x", "0", 1));

        /* Writes stay private until the commit. */
        t = xs_transaction_start(a);
        ASSERT_NE(t, XBT_NULL);
        ASSERT_TRUE(xs_write(a, t, "/tx/y", "1", 1));
        ASSERT_TRUE(xs_rm(a, t, "/tx/x"));
        v = xs_read_str(a, t, "/tx/y");
        ASSERT_STREQ(v, "1");
        ASSERT_NULL(xs_read_str(b, XBT_NULL, "/tx/y"));
        check_value(b, "/tx/x", "0");
        ASSERT_TRUE(xs_transaction_end(a, t, false));
        check_value(b, "/tx/y", "1");
        ASSERT_NULL(xs_read_str(b, XBT_NULL, "/tx/x"));

        /* A node read in the transaction and changed by somebody else: EAGAIN. */
        t = xs_transaction_start(a);
        free(v);
        v = xs_read_str(a, t, "/tx/y");
        ASSERT_STREQ(v, "1");
        ASSERT_TRUE(xs_write(b, XBT_NULL, "/tx/y", "2", 1));
        ASSERT_TRUE(xs_write(a, t, "/tx/y", "3", 1));
        ASSERT_FALSE(xs_transaction_end(a, t, false));
        ASSERT_EQ(errno, EAGAIN);
        check_value(b, "/tx/y", "2");

        /* Creating nodes under a parent the transaction changed itself is no conflict
         * (xenstore-write with several pairs does this). */
        t = xs_transaction_start(a);
        ASSERT_TRUE(xs_write(a, t, "/new1/a/b", "1", 1));
        ASSERT_TRUE(xs_write(a, t, "/new2", "2", 1));
        v = mfree(v);
        v = xs_read_str(a, t, "/new1");
        ASSERT_STREQ(v, "");
        ASSERT_TRUE(xs_transaction_end(a, t, false));
        check_value(b, "/new2", "2");

        /* Changes elsewhere do not conflict. */
        t = xs_transaction_start(a);
        ASSERT_TRUE(xs_write(a, t, "/tx/y", "4", 1));
        ASSERT_TRUE(xs_write(b, XBT_NULL, "/elsewhere", "1", 1));
        ASSERT_TRUE(xs_transaction_end(a, t, false));
        check_value(b, "/tx/y", "4");

        /* Abort discards; an ended transaction is gone. */
        t = xs_transaction_start(a);
        ASSERT_TRUE(xs_write(a, t, "/tx/z", "1", 1));
        ASSERT_TRUE(xs_transaction_end(a, t, true));
        ASSERT_NULL(xs_read_str(b, XBT_NULL, "/tx/z"));
        ASSERT_FALSE(xs_transaction_end(a, t, false));
        ASSERT_EQ(errno, ENOENT);

        /* The per-connection limit. */
        for (unsigned i = 0; i < XSIM_XENSTORE_TRANSACTIONS_MAX; i++)
                ASSERT_NE(xs_transaction_start(b), XBT_NULL);
        ASSERT_EQ(xs_transaction_start(b), XBT_NULL);
        ASSERT_EQ(errno, ENOSPC);

        xs_close(b);
        xs_close(a);
        server_stop(&s);
}

TEST(large_directory_uses_directory_part) {
        Server s;
        struct xs_handle *h;
        _cleanup_free_ char **dir = NULL;
        char path[128];
        unsigned n;

        server_start(&s);
        h = xs_open(0);
        ASSERT_NOT_NULL(h);
        /* 400 names of 40 bytes: about 16 KiB, four times the payload limit. */
        for (unsigned i = 0; i < 400; i++) {
                (void) snprintf(path, sizeof(path), "/big/entry-with-a-rather-long-name-%05u", i);
                ASSERT_TRUE(xs_write(h, XBT_NULL, path, "", 0));
        }
        dir = xs_directory(h, XBT_NULL, "/big", &n);
        ASSERT_NOT_NULL(dir);
        ASSERT_EQ(n, 400u);
        ASSERT_STREQ(dir[0], "entry-with-a-rather-long-name-00000");
        ASSERT_STREQ(dir[399], "entry-with-a-rather-long-name-00399");
        xs_close(h);
        server_stop(&s);
}

/* ---- raw protocol ---- */

static int raw_connect(Server *s) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_GE(fd, 0);
        memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
        ASSERT_OK(connect(fd, (struct sockaddr *) &sa, sizeof(sa)));
        return fd;
}

static void raw_send(int fd, uint32_t type, uint32_t req_id, uint32_t tx_id, const void *data, size_t len) {
        struct xsd_sockmsg m = { type, req_id, tx_id, (uint32_t) len };

        ASSERT_EQ(send(fd, &m, sizeof(m), MSG_NOSIGNAL), (ssize_t) sizeof(m));
        if (len > 0)
                ASSERT_EQ(send(fd, data, len, MSG_NOSIGNAL), (ssize_t) len);
}

static void read_all(int fd, void *buf, size_t len) {
        for (size_t done = 0; done < len; ) {
                ssize_t n = recv(fd, (char *) buf + done, len - done, 0);

                ASSERT_GT(n, 0);
                done += (size_t) n;
        }
}

/* Receives one message; its payload (NUL-terminated for convenience) goes to @buf. */
static void raw_recv(int fd, struct xsd_sockmsg *m, char buf[static XENSTORE_PAYLOAD_MAX + 1]) {
        read_all(fd, m, sizeof(*m));
        ASSERT_LE(m->len, (uint32_t) XENSTORE_PAYLOAD_MAX);
        read_all(fd, buf, m->len);
        buf[m->len] = 0;
}

TEST(raw_protocol) {
        Server s;
        struct xsd_sockmsg m = { XS_READ, 77, 0, 0 };
        char buf[XENSTORE_PAYLOAD_MAX + 1];
        static const char path[] = "/local/domain/0/name";
        _cleanup_free_ char *big = NULL;
        _cleanup_close_ int fd = -EBADF;

        server_start(&s);
        fd = raw_connect(&s);

        /* A request in pieces: half a header, the rest later. */
        m.len = sizeof(path);
        ASSERT_EQ(send(fd, &m, 7, 0), 7);
        sleep_ms(20);
        ASSERT_EQ(send(fd, (char *) &m + 7, sizeof(m) - 7, 0), (ssize_t) (sizeof(m) - 7));
        sleep_ms(20);
        ASSERT_EQ(send(fd, path, 5, 0), 5);
        sleep_ms(20);
        ASSERT_EQ(send(fd, path + 5, sizeof(path) - 5, 0), (ssize_t) (sizeof(path) - 5));
        raw_recv(fd, &m, buf);
        ASSERT_EQ(m.type, (uint32_t) XS_READ);
        ASSERT_EQ(m.req_id, 77u);
        ASSERT_EQ(m.len, 8u);   /* no NUL on a READ reply */
        ASSERT_STREQ(buf, "Domain-0");

        /* Errors are XS_ERROR with the errno name; ids are echoed. */
        raw_send(fd, XS_READ, 5, 0, "/nope", 6);
        raw_recv(fd, &m, buf);
        ASSERT_EQ(m.type, (uint32_t) XS_ERROR);
        ASSERT_EQ(m.req_id, 5u);
        ASSERT_STREQ(buf, "ENOENT");
        raw_send(fd, 999, 6, 0, "x", 2);
        raw_recv(fd, &m, buf);
        ASSERT_EQ(m.type, (uint32_t) XS_ERROR);
        ASSERT_STREQ(buf, "EINVAL");
        raw_send(fd, XS_READ, 6, 0, "/no-nul", 7);
        raw_recv(fd, &m, buf);
        ASSERT_STREQ(buf, "EINVAL");
        raw_send(fd, XS_READ, 8, 4242, "/local", 7);
        raw_recv(fd, &m, buf);
        ASSERT_EQ(m.tx_id, 4242u);
        ASSERT_STREQ(buf, "ENOENT");  /* unknown transaction */

        /* An oversized payload is answered with E2BIG and skipped; the stream stays usable. */
        big = malloc(XENSTORE_PAYLOAD_MAX + 100);
        ASSERT_NOT_NULL(big);
        memset(big, 'a', XENSTORE_PAYLOAD_MAX + 100);
        raw_send(fd, XS_WRITE, 9, 0, big, XENSTORE_PAYLOAD_MAX + 100);
        raw_recv(fd, &m, buf);
        ASSERT_EQ(m.type, (uint32_t) XS_ERROR);
        ASSERT_EQ(m.req_id, 9u);
        ASSERT_STREQ(buf, "E2BIG");
        raw_send(fd, XS_CONTROL, 10, 0, "print\0hello", 12);
        raw_recv(fd, &m, buf);
        ASSERT_EQ(m.type, (uint32_t) XS_CONTROL);
        ASSERT_STREQ(buf, "OK");

        /* Transaction start answers the id as a decimal string. */
        raw_send(fd, XS_TRANSACTION_START, 11, 0, "", 1);
        raw_recv(fd, &m, buf);
        ASSERT_EQ(m.type, (uint32_t) XS_TRANSACTION_START);
        ASSERT_GT(strlen(buf), 0u);

        raw_send(fd, XS_TRANSACTION_START, 13, 0, NULL, 0);
        raw_recv(fd, &m, buf);
        ASSERT_EQ(m.type, (uint32_t) XS_TRANSACTION_START);

        /* A client that vanishes mid-message does not disturb the others. */
        {
                _cleanup_close_ int gone = raw_connect(&s);

                raw_send(gone, XS_READ, 1, 0, NULL, 0);
                ASSERT_EQ(send(gone, "/loc", 4, 0), 4);
        }
        raw_send(fd, XS_READ, 12, 0, path, sizeof(path));
        raw_recv(fd, &m, buf);
        ASSERT_STREQ(buf, "Domain-0");

        server_stop(&s);
}

TEST(many_clients_and_the_limit) {
        Server s;
        int fds[XSIM_XENSTORE_CONNS_MAX + 1];
        struct xsd_sockmsg m;
        char buf[XENSTORE_PAYLOAD_MAX + 1];
        static const char path[] = "/local/domain/0/name";

        server_start(&s);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                fds[i] = raw_connect(&s);
        /* Every client below the limit is served, interleaved. */
        for (size_t i = 0; i < XSIM_XENSTORE_CONNS_MAX; i++)
                raw_send(fds[i], XS_READ, (uint32_t) i, 0, path, sizeof(path));
        for (size_t i = 0; i < XSIM_XENSTORE_CONNS_MAX; i++) {
                raw_recv(fds[i], &m, buf);
                ASSERT_EQ(m.req_id, (uint32_t) i);
                ASSERT_STREQ(buf, "Domain-0");
        }
        /* The one past the limit was closed at once. */
        ASSERT_EQ(recv(fds[XSIM_XENSTORE_CONNS_MAX], buf, sizeof(buf), 0), 0);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                safe_close(fds[i]);
        server_stop(&s);
}

static void do_flood(Server *s, void *arg) {
        char path[64];

        for (unsigned i = 0; i < 100000; i++) {
                (void) snprintf(path, sizeof(path), "/flood/%u", i % 64);
                ASSERT_OK(xsim_xenstore_write(s->xs, path, "x"));
        }
}

TEST(client_that_never_reads_is_dropped) {
        Server s;
        struct xsd_sockmsg m;
        char buf[XENSTORE_PAYLOAD_MAX + 1];
        _cleanup_close_ int fd = -EBADF, other = -EBADF;
        size_t total = 0;
        ssize_t n;

        server_start(&s);
        fd = raw_connect(&s);
        other = raw_connect(&s);
        raw_send(fd, XS_WATCH, 1, 0, "/flood\0t", 9);
        raw_recv(fd, &m, buf);
        ASSERT_EQ(m.type, (uint32_t) XS_WATCH);
        raw_recv(fd, &m, buf);
        ASSERT_EQ(m.type, (uint32_t) XS_WATCH_EVENT);
        server_call(&s, do_flood, NULL);

        /* What was queued arrives, then the connection is closed. */
        while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
                total += (size_t) n;
        ASSERT_GT(total, 0u);
        ASSERT_LT(total, 100000u * 30u);

        /* Others are served. */
        raw_send(other, XS_READ, 2, 0, "/flood/1", 9);
        raw_recv(other, &m, buf);
        ASSERT_STREQ(buf, "x");
        server_stop(&s);
}

static void do_absent(Server *s, void *arg) {
        ASSERT_OK(xsim_xenstore_set_absent(s->xs, *(bool *) arg));
}

TEST(absent_and_accessors) {
        Server s;
        struct xs_handle *h;
        bool absent = true;
        _cleanup_free_ char *v = NULL;

        server_start(&s);
        server_call(&s, do_absent, &absent);
        ASSERT_NULL(xs_open(0));
        absent = false;
        server_call(&s, do_absent, &absent);
        h = xs_open(0);
        ASSERT_NOT_NULL(h);
        xs_close(h);
        server_stop(&s);

        /* The direct accessors, without a loop. */
        server_start(&s);
        server_call(&s, do_exit, NULL);
        ASSERT_EQ(pthread_join(s.thread, NULL), 0);
        ASSERT_OK(xsim_xenstore_write(s.xs, "/acc/a", "1"));
        ASSERT_OK(xsim_xenstore_read(s.xs, "/acc/a", &v));
        ASSERT_STREQ(v, "1");
        ASSERT_OK(xsim_xenstore_rm(s.xs, "/acc"));
        ASSERT_ERROR(xsim_xenstore_rm(s.xs, "/acc"), ENOENT);
        ASSERT_ERROR(xsim_xenstore_read(s.xs, "/acc/a", &v), ENOENT);
        ASSERT_ERROR(xsim_xenstore_write(s.xs, "rel", "1"), EINVAL);
        s.xs = xsim_xenstore_free(s.xs);
        s.host = xsim_host_free(s.host);
        s.event = sd_event_unref(s.event);
        for (int i = 0; i < 2; i++) {
                safe_close(s.cmd[i]);
                safe_close(s.ack[i]);
        }
        (void) rmdir(s.dir);
}

DEFINE_TEST_MAIN;
