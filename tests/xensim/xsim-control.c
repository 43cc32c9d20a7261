/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "xsim-bench.h"
#include "xsim-control.h"
#include "xv-alloc.h"
#include "xv-parse-util.h"
#include "xv-sexpr.h"
#include "xv-strbuf.h"

typedef struct ControlClient {
        XsimControl *control;
        int fd;
        sd_event_source *source;
        char buf[XSIM_CONTROL_LINE_MAX];
        size_t len;
} ControlClient;

struct XsimControl {
        XsimHost *host;
        XsimControlHooks hooks;
        char *path;
        int fd;
        sd_event_source *source;
        ControlClient *clients[XSIM_CONTROL_CLIENTS_MAX];
};

/* The XenD request counters (see xsim_control_count_xend_request()). */
typedef struct XendStat {
        char key[XSIM_XEND_STATS_KEY_MAX];
        uint64_t count;
} XendStat;

static struct {
        XendStat *stats;
        size_t n_stats;
        uint64_t total, other;
} xend_stats;

void xsim_control_count_xend_request(const char *method, const char *path, const char *op) {
        char key[XSIM_XEND_STATS_KEY_MAX];
        XendStat *s;

        (void) snprintf(key, sizeof(key), "%s %s%s%s", strnull(method), strnull(path), op ? " op=" : "",
                        strempty(op));
        xend_stats.total++;
        for (size_t i = 0; i < xend_stats.n_stats; i++)
                if (streq(xend_stats.stats[i].key, key)) {
                        xend_stats.stats[i].count++;
                        return;
                }
        if (xend_stats.n_stats >= XSIM_XEND_STATS_KEYS_MAX) {
                xend_stats.other++;
                return;
        }
        if (!xend_stats.stats) {
                xend_stats.stats = new0(XendStat, XSIM_XEND_STATS_KEYS_MAX);
                if (!xend_stats.stats) {
                        xend_stats.other++;
                        return;
                }
        }
        s = &xend_stats.stats[xend_stats.n_stats++];
        memcpy(s->key, key, sizeof(key));
        s->count = 1;
}

static void xend_stats_reset(void) {
        xend_stats.stats = mfree(xend_stats.stats);
        xend_stats.n_stats = 0;
        xend_stats.total = xend_stats.other = 0;
}

/* "total N", then "COUNT METHOD PATH[ op=OP]" per key in first-seen order, then "other N". */
static void xend_stats_format(StrBuf *out) {
        strbuf_appendf(out, "total %" PRIu64 "\n", xend_stats.total);
        for (size_t i = 0; i < xend_stats.n_stats; i++)
                strbuf_appendf(out, "%" PRIu64 " %s\n", xend_stats.stats[i].count, xend_stats.stats[i].key);
        strbuf_appendf(out, "other %" PRIu64 "\n", xend_stats.other);
}

static int run_hv(XsimControl *c, char **w, size_t n, StrBuf *out, XvError *error) {
        bool reset = n == 3 && streq(w[2], "reset");

        if (n < 2 || !streq(w[1], "stats") || (n > 2 && !reset))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Usage: hv stats [reset]");
        if (!c->hooks.hv_stats)
                return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "The hypervisor is not running");
        c->hooks.hv_stats(c->hooks.hv, reset, out);
        return 0;
}

static ControlClient *client_free(ControlClient *cl) {
        if (!cl)
                return NULL;
        sd_event_source_disable_unref(cl->source);
        safe_close(cl->fd);
        for (size_t i = 0; i < XSIM_CONTROL_CLIENTS_MAX; i++)
                if (cl->control->clients[i] == cl)
                        cl->control->clients[i] = NULL;
        return mfree(cl);
}

int xsim_control_create_domain(XsimHost *host, const char *name, unsigned memory_mib, unsigned vcpus,
                               bool paused, XsimDomain **ret, XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *vm = NULL;
        Sexpr *image, *dev;
        XsimDomain *d;
        XvUuid uuid;
        char ubuf[UUID_STRING_BUF], mac[32];
        int r;

        if (memory_mib < 1 || memory_mib > XSIM_CONTROL_DOMAIN_MEMORY_MIB_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid memory size %u MiB", memory_mib);
        if (vcpus < 1 || vcpus > XSIM_VCPUS_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid number of vcpus %u", vcpus);
        r = uuid_new_random(&uuid);
        if (r < 0)
                return xv_error_set_errnof(error, r, "Cannot generate a UUID");

        /* The shape libvirt sent for a PV guest (xen-driver.md §2.4), reduced to what a test
         * needs: a kernel, a disk and a NIC. The MAC is in Xen's OUI 00:16:3e. */
        (void) snprintf(mac, sizeof(mac), "00:16:3e:%02x:%02x:%02x", uuid.bytes[0], uuid.bytes[1],
                        uuid.bytes[2]);
        r = sexpr_new_list("vm", &vm);
        if (r < 0)
                return r;
        sexpr_add_pair(vm, "name", name);
        sexpr_add_pair(vm, "uuid", uuid_format(&uuid, ubuf));
        sexpr_add_pair_u64(vm, "memory", memory_mib);
        sexpr_add_pair_u64(vm, "maxmem", memory_mib);
        sexpr_add_pair_u64(vm, "vcpus", vcpus);
        sexpr_add_pair(vm, "on_poweroff", "destroy");
        sexpr_add_pair(vm, "on_reboot", "restart");
        sexpr_add_pair(vm, "on_crash", "restart");
        image = sexpr_add_list(sexpr_add_list(vm, "image"), "linux");
        sexpr_add_pair(image, "kernel", "/boot/vmlinuz-xensim");
        sexpr_add_pair(image, "ramdisk", "/boot/initrd-xensim.img");
        sexpr_add_pair(image, "root", "/dev/xvda1");
        sexpr_add_pair(image, "args", "console=hvc0");
        dev = sexpr_add_list(sexpr_add_list(vm, "device"), "vbd");
        sexpr_add_pair(dev, "dev", "xvda");
        sexpr_add_pairf(dev, "uname", "file:/var/lib/xensim/images/%s.img", name);
        sexpr_add_pair(dev, "mode", "w");
        dev = sexpr_add_list(sexpr_add_list(vm, "device"), "vif");
        sexpr_add_pair(dev, "mac", mac);
        sexpr_add_pair(dev, "bridge", "xenbr0");
        sexpr_add_pair(dev, "script", "vif-bridge");
        r = sexpr_check(vm);
        if (r < 0)
                return r;

        r = xsim_domain_create(host, name, &uuid, false, (uint64_t) memory_mib * 1024,
                               (uint64_t) memory_mib * 1024, vcpus, TAKE_PTR(vm), &d, error);
        if (r < 0)
                return r;
        if (!paused) {
                r = xsim_domain_unpause(d, error);
                if (r < 0)
                        return r;
        }
        if (ret)
                *ret = d;
        return 0;
}

static int parse_on_off(const char *s, bool *ret, XvError *error) {
        if (!s)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Expected 'on' or 'off'");
        if (streq(s, "on"))
                *ret = true;
        else if (streq(s, "off"))
                *ret = false;
        else
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Expected 'on' or 'off', got '%s'", s);
        return 0;
}

static XsimDomain *lookup_or_fail(XsimHost *host, const char *name, XvError *error) {
        XsimDomain *d;

        if (!name) {
                xv_error_setf(error, XVP_ERR_INVALID_ARG, "Missing domain name");
                return NULL;
        }
        d = xsim_domain_lookup(host, name);
        if (!d)
                xv_error_setf(error, XVP_ERR_NO_DOMAIN, "Domain '%s' not found", name);
        return d;
}

static int run_xend(XsimControl *c, char **w, size_t n, StrBuf *out, XvError *error) {
        XsimFaults *f = &c->host->faults;
        bool on = false;
        int r;

        if (n >= 2 && streq(w[1], "stats")) {
                if (n == 2) {
                        xend_stats_format(out);
                        return 0;
                }
                if (n == 3 && streq(w[2], "reset")) {
                        xend_stats_reset();
                        return 0;
                }
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Usage: xend stats [reset]");
        }
        if (n < 3)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Usage: xend absent|garbage|error500|drop|partial|hold-listings on|off, "
                                     "xend delay MS, xend stats [reset]");
        if (streq(w[1], "delay")) {
                unsigned ms;

                if (safe_atou(w[2], &ms) < 0 || ms > 600000)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid delay '%s'", w[2]);
                f->xend_delay_ms = ms;
                return 0;
        }
        r = parse_on_off(w[2], &on, error);
        if (r < 0)
                return r;
        if (streq(w[1], "absent")) {
                if (!c->hooks.xend_set_absent)
                        return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "XenD is not running");
                r = c->hooks.xend_set_absent(c->hooks.xend, on);
                if (r < 0)
                        return xv_error_set_errnof(error, r, "Cannot switch XenD");
                f->xend_absent = on;
        } else if (streq(w[1], "garbage"))
                f->xend_garbage = on;
        else if (streq(w[1], "error500"))
                f->xend_error500 = on;
        else if (streq(w[1], "drop"))
                f->xend_drop = on;
        else if (streq(w[1], "partial"))
                f->xend_partial = on;
        else if (streq(w[1], "hold-listings"))
                f->xend_hold_listings = on;
        else
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unknown xend switch '%s'", w[1]);
        return 0;
}

static int run_xenstore(XsimControl *c, char **w, size_t n, StrBuf *out, XvError *error) {
        bool on = false;
        int r;

        if (n < 3)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Usage: xenstore absent|stale on|off, xenstore watches PATH");
        if (streq(w[1], "watches")) {
                if (!c->hooks.xenstore_count_watches)
                        return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "xenstore is not running");
                strbuf_appendf(out, "%zu\n", c->hooks.xenstore_count_watches(c->hooks.xenstore, w[2]));
                return 0;
        }
        r = parse_on_off(w[2], &on, error);
        if (r < 0)
                return r;
        if (streq(w[1], "absent")) {
                if (!c->hooks.xenstore_set_absent)
                        return xv_error_setf(error, XVP_ERR_OPERATION_INVALID, "xenstore is not running");
                r = c->hooks.xenstore_set_absent(c->hooks.xenstore, on);
                if (r < 0)
                        return xv_error_set_errnof(error, r, "Cannot switch xenstore");
                c->host->faults.xenstore_absent = on;
        } else if (streq(w[1], "stale"))
                c->host->faults.xenstore_stale = on;
        else
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unknown xenstore switch '%s'", w[1]);
        return 0;
}

static int run_domain(XsimControl *c, char **w, size_t n, StrBuf *out, XvError *error) {
        XsimDomain *d;

        if (n < 3)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Usage: domain create|crash|shutdown|destroy|pause|unpause NAME ...");
        if (streq(w[1], "create")) {
                unsigned mem = 64, vcpus = 1;
                int r;

                if (n > 3 && safe_atou(w[3], &mem) < 0)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid memory '%s'", w[3]);
                if (n > 4 && safe_atou(w[4], &vcpus) < 0)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid vcpus '%s'", w[4]);
                r = xsim_control_create_domain(c->host, w[2], mem, vcpus, false, &d, error);
                if (r < 0)
                        return r;
                strbuf_appendf(out, "%d\n", d->domid);
                return 0;
        }

        d = lookup_or_fail(c->host, w[2], error);
        if (!d)
                return -ENOENT;
        if (streq(w[1], "crash"))
                return xsim_domain_crash(d, error);
        if (streq(w[1], "shutdown")) {
                static const struct {
                        const char *name;
                        XsimShutdownReason reason;
                } reasons[] = {
                        { "poweroff", XSIM_SHUTDOWN_POWEROFF },
                        { "reboot", XSIM_SHUTDOWN_REBOOT },
                        { "suspend", XSIM_SHUTDOWN_SUSPEND },
                        { "crash", XSIM_SHUTDOWN_CRASH },
                        { "watchdog", XSIM_SHUTDOWN_WATCHDOG },
                };
                const char *why = n > 3 ? w[3] : "poweroff";

                for (size_t i = 0; i < ELEMENTSOF(reasons); i++)
                        if (streq(why, reasons[i].name))
                                return xsim_domain_shutdown(d, reasons[i].reason, error);
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unknown shutdown reason '%s'", why);
        }
        if (streq(w[1], "destroy"))
                return xsim_domain_destroy(d, error);
        if (streq(w[1], "pause"))
                return xsim_domain_pause(d, error);
        if (streq(w[1], "unpause"))
                return xsim_domain_unpause(d, error);
        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unknown domain command '%s'", w[1]);
}

static void run_stats(XsimControl *c, StrBuf *out) {
        XsimHost *h = c->host;
        size_t active = 0;

        for (size_t i = 0; i < h->n_domains; i++)
                if (h->domains[i]->domid >= 0)
                        active++;
        strbuf_appendf(out,
                       "xend_requests %u\n"
                       "domains %zu\n"
                       "active_domains %zu\n"
                       "next_domid %d\n"
                       "total_memory_kib %" PRIu64 "\n"
                       "free_memory_kib %" PRIu64 "\n"
                       "xend_config_version %d\n"
                       "xen_version %u.%u%s\n"
                       "xend_absent %d\n"
                       "xend_delay_ms %u\n"
                       "xend_garbage %d\n"
                       "xend_error500 %d\n"
                       "xend_drop %d\n"
                       "xend_partial %d\n"
                       "xend_hold_listings %d\n"
                       "xend_held %u\n"
                       "xenstore_absent %d\n"
                       "xenstore_stale %d\n"
                       "hypervisor_fail %d\n",
                       h->faults.xend_requests, h->n_domains, active, h->next_domid,
                       h->total_memory_kib, xsim_host_free_memory_kib(h), h->xend_config_version,
                       h->xen_major, h->xen_minor, strempty(h->xen_extra),
                       h->faults.xend_absent, h->faults.xend_delay_ms, h->faults.xend_garbage,
                       h->faults.xend_error500, h->faults.xend_drop, h->faults.xend_partial,
                       h->faults.xend_hold_listings, h->faults.xend_held,
                       h->faults.xenstore_absent,
                       h->faults.xenstore_stale, h->faults.hypervisor_fail);
}

static void run_list(XsimControl *c, StrBuf *out) {
        for (size_t i = 0; i < c->host->n_domains; i++) {
                XsimDomain *d = c->host->domains[i];
                char ubuf[UUID_STRING_BUF], sbuf[7];
                unsigned online = 0;

                for (unsigned v = 0; v < d->max_vcpus; v++)
                        if (d->vcpus[v].online)
                                online++;
                strbuf_appendf(out, "%d %s %s %s %" PRIu64 " %u %s\n", d->domid, d->name,
                               xsim_run_state_to_string(d->state), xsim_domain_state_string(d, sbuf),
                               d->memory_kib, online, uuid_format(&d->uuid, ubuf));
        }
}

static const char help_text[] =
        "xend absent|garbage|error500|drop|partial|hold-listings on|off\n"
        "xend delay MS\n"
        "xend stats [reset]\n"
        "xenstore absent|stale on|off\n"
        "xenstore watches PATH\n"
        "hypervisor fail on|off\n"
        "hv stats [reset]\n"
        "domain create NAME [MEM_MIB [VCPUS]]\n"
        "domain crash NAME\n"
        "domain shutdown NAME poweroff|reboot|suspend|crash|watchdog\n"
        "domain destroy|pause|unpause NAME\n"
        "bench populate SEED PREFIX FIRST COUNT\n"
        "stats\n"
        "list\n";

int xsim_control_run(XsimControl *c, const char *line, StrBuf *out, XvError *error) {
        _cleanup_free_ char *copy = NULL;
        char *w[XSIM_CONTROL_WORDS_MAX], *save = NULL;
        size_t n = 0;

        copy = strdup(line);
        if (!copy)
                return -ENOMEM;
        for (char *tok = strtok_r(copy, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
                if (n >= XSIM_CONTROL_WORDS_MAX)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Too many words (at most %u)",
                                             XSIM_CONTROL_WORDS_MAX);
                w[n++] = tok;
        }
        if (n == 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Empty command");

        if (streq(w[0], "xend"))
                return run_xend(c, w, n, out, error);
        if (streq(w[0], "xenstore"))
                return run_xenstore(c, w, n, out, error);
        if (streq(w[0], "hypervisor")) {
                bool on = false;
                int r;

                if (n < 3 || !streq(w[1], "fail"))
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Usage: hypervisor fail on|off");
                r = parse_on_off(w[2], &on, error);
                if (r < 0)
                        return r;
                c->host->faults.hypervisor_fail = on;
                return 0;
        }
        if (streq(w[0], "hv"))
                return run_hv(c, w, n, out, error);
        if (streq(w[0], "domain"))
                return run_domain(c, w, n, out, error);
        if (streq(w[0], "bench")) {
                unsigned first = 0, count = 0;

                if (n != 6 || !streq(w[1], "populate") || safe_atou(w[4], &first) < 0 ||
                    safe_atou(w[5], &count) < 0)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                             "Usage: bench populate SEED PREFIX FIRST COUNT");
                return xsim_bench_populate(c->host, w[2], w[3], first, count, error);
        }
        if (streq(w[0], "stats")) {
                run_stats(c, out);
                return 0;
        }
        if (streq(w[0], "list")) {
                run_list(c, out);
                return 0;
        }
        if (streq(w[0], "help")) {
                strbuf_append(out, help_text);
                return 0;
        }
        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unknown command '%s'", w[0]);
}

static int send_all(int fd, const char *s, size_t len) {
        while (len > 0) {
                ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                s += n;
                len -= (size_t) n;
        }
        return 0;
}

static int client_handle_line(ControlClient *cl, const char *line) {
        _cleanup_free_ char *text = NULL;
        XvError error = XV_ERROR_NULL;
        StrBuf out = STRBUF_INIT;
        int r;

        r = xsim_control_run(cl->control, line, &out, &error);
        if (r < 0) {
                strbuf_done(&out);
                strbuf_appendf(&out, "ERR %s\n", error.message ?: strerror(-r));
        } else
                strbuf_append(&out, "OK\n");
        xv_error_done(&error);
        r = strbuf_steal(&out, &text);
        if (r < 0)
                return r;
        return send_all(cl->fd, text, strlen(text));
}

static int on_client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ControlClient *cl = userdata;
        ssize_t n;

        n = read(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (n <= 0) {
                client_free(cl);
                return 0;
        }
        cl->len += (size_t) n;

        for (;;) {
                char *nl = memchr(cl->buf, '\n', cl->len);
                size_t used;

                if (!nl)
                        break;
                *nl = 0;
                used = (size_t) (nl - cl->buf) + 1;
                if (client_handle_line(cl, cl->buf) < 0) {
                        client_free(cl);
                        return 0;
                }
                memmove(cl->buf, cl->buf + used, cl->len - used);
                cl->len -= used;
        }
        if (cl->len >= sizeof(cl->buf)) {
                (void) send_all(cl->fd, "ERR Command line too long\n", 26);
                client_free(cl);
        }
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        XsimControl *c = userdata;
        _cleanup_close_ int cfd = -EBADF;
        ControlClient *cl;
        size_t slot;

        cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0)
                return 0;
        for (slot = 0; slot < XSIM_CONTROL_CLIENTS_MAX; slot++)
                if (!c->clients[slot])
                        break;
        if (slot >= XSIM_CONTROL_CLIENTS_MAX) {
                (void) send_all(cfd, "ERR Too many control clients\n", 29);
                return 0;
        }
        cl = new0(ControlClient, 1);
        if (!cl)
                return 0;
        cl->control = c;
        cl->fd = TAKE_FD(cfd);
        c->clients[slot] = cl;
        if (sd_event_add_io(c->host->event, &cl->source, cl->fd, EPOLLIN, on_client_io, cl) < 0)
                client_free(cl);
        return 0;
}

int xsim_control_new(XsimHost *host, const char *socket_path, const XsimControlHooks *hooks,
                     XsimControl **ret) {
        _cleanup_(xsim_control_freep) XsimControl *c = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int r;

        if (!host || !host->event || !socket_path || !ret)
                return -EINVAL;
        if (strlen(socket_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        c = new0(XsimControl, 1);
        if (!c)
                return -ENOMEM;
        c->fd = -EBADF;
        c->host = host;
        if (hooks)
                c->hooks = *hooks;
        c->path = strdup(socket_path);
        if (!c->path)
                return -ENOMEM;

        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (c->fd < 0)
                return -errno;
        memcpy(sa.sun_path, socket_path, strlen(socket_path));
        (void) unlink(socket_path);
        if (bind(c->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        if (listen(c->fd, 16) < 0)
                return -errno;
        r = sd_event_add_io(host->event, &c->source, c->fd, EPOLLIN, on_accept, c);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

XsimControl *xsim_control_free(XsimControl *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < XSIM_CONTROL_CLIENTS_MAX; i++)
                client_free(c->clients[i]);
        xend_stats_reset();
        sd_event_source_disable_unref(c->source);
        if (c->fd >= 0 && c->path)
                (void) unlink(c->path);
        safe_close(c->fd);
        free(c->path);
        return mfree(c);
}
