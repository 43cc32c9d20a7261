/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What xensim's XenD answers: the /xend/node/ and /xend/domain resources and every op= that
 * libvirt's xend driver sent, on the shared host state.
 *
 * Error replies follow what XenD did: an op that raised inside xend answered 500 with an SXP
 * body "(xend.err 'message')"; ops xend ran in a request thread (save, dump, restore, migrate)
 * lost that status and answered 200 with the same body, which is why libvirt looked for
 * "xend.err" in successful replies too; op=shutdown is "accepted" (202) before anything can
 * fail, so its failures come back as 202 with a body that says "failed". An unknown domain in
 * the URL is 404, an unknown op is 501 ("Operation not implemented"), a request without op
 * 406. Replies are always SXP, as XenD answered clients that sent no Accept header.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "xsim-hostfiles.h"
#include "xsim-xend-internal.h"
#include "xv-alloc.h"
#include "xv-fileio.h"
#include "xv-log.h"
#include "xv-parse-util.h"
#include "xv-sexpr.h"

#define SXP_MIME                "application/sxp"
#define XEND_SAVE_MAGIC         "LinuxGuestRecord"      /* XendCheckpoint's signature */
#define XEND_CORE_MAGIC         "XSIMCORE"
#define XEND_DEFAULT_MEMORY_MIB 128
#define XEND_URL_DEPTH_MAX      8

/* ---------------------------------------------------------------- replies */

void xend_reply_done(XendReply *rep) {
        rep->body = mfree(rep->body);
}

static int reply_set(XendReply *rep, int status, const char *content_type, char *body) {
        free(rep->body);
        rep->status = status;
        rep->content_type = content_type;
        rep->body = body;
        return body ? 0 : -ENOMEM;
}

static int reply_empty(XendReply *rep, int status) {
        return reply_set(rep, status, SXP_MIME, strdup(""));
}

static int reply_text(XendReply *rep, int status, const char *format, ...) _printf_(3, 4);
static int reply_text(XendReply *rep, int status, const char *format, ...) {
        char *s = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&s, format, ap);
        va_end(ap);
        return reply_set(rep, status, "text/plain", r < 0 ? NULL : s);
}

static int reply_sexpr(XendReply *rep, int status, const Sexpr *s) {
        char *text = NULL;
        int r;

        r = sexpr_format(s, &text);
        if (r < 0)
                return r;
        return reply_set(rep, status, SXP_MIME, text);
}

/* (xend.err 'message'): how XenD reported an exception to an SXP client. */
static int reply_errv(XendReply *rep, int status, const char *format, va_list ap) _printf_(3, 0);
static int reply_errv(XendReply *rep, int status, const char *format, va_list ap) {
        _cleanup_(sexpr_freep) Sexpr *s = NULL;
        _cleanup_free_ char *msg = NULL;
        int r;

        if (vasprintf(&msg, format, ap) < 0)
                return -ENOMEM;
        r = sexpr_new_list("xend.err", &s);
        if (r < 0)
                return r;
        sexpr_add_atom(s, msg);
        return reply_sexpr(rep, status, s);
}

static int reply_err(XendReply *rep, int status, const char *format, ...) _printf_(3, 4);
static int reply_err(XendReply *rep, int status, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = reply_errv(rep, status, format, ap);
        va_end(ap);
        return r;
}
#ifdef __clang_analyzer__
/* The analyzer does not follow variadic functions: a reply helper returns 0 or a negative errno,
 * never the positive "go on" of the argument parsers. */
#  define reply_err(...)                                                        \
        ({                                                                      \
                int _reply_r_ = (reply_err)(__VA_ARGS__);                       \
                if (_reply_r_ > 0)                                              \
                        __builtin_unreachable();                                \
                _reply_r_;                                                      \
        })
#endif

/* A failed state call: its XvError message, or the errno text. -ENOMEM stays -ENOMEM. */
static int reply_xv(XendReply *rep, int status, const XvError *e, int r) {
        if (r == -ENOMEM && !(e && e->message))
                return r;
        return reply_err(rep, status, "%s", e && e->message ? e->message : strerror(-r));
}

/* The answer of an op with nothing to return, after the state call that returned @r: 200 with
 * an empty body, or the failure as a 500. */
static int reply_result(XendReply *rep, const XvError *e, int r) {
        if (r < 0)
                return reply_xv(rep, 500, e, r);
        return reply_empty(rep, 200);
}

/* ---------------------------------------------------------------- arguments */

/* XenD's FormFn: a missing parameter or one Python's int() refuses fails the request. Returns 1
 * with *ret set, 0 when @rep holds the error answer, or -ENOMEM. */
static int arg_int(const HttpRequest *req, const char *key, bool required, int64_t def,
                   int status, int64_t *ret, XendReply *rep) {
        const char *v = http_request_arg(req, key);
        int64_t i;
        int r;

        if (!v) {
                if (required)
                        return reply_err(rep, status, "Missing parameter: %s", key) ?: 0;
                *ret = def;
                return 1;
        }
        r = safe_atoi64(v, &i);
        if (r < 0)
                return reply_err(rep, status, "invalid literal for int(): %s", v) ?: 0;
        *ret = i;
        return 1;
}

static int arg_string(const HttpRequest *req, const char *key, int status, const char **ret, XendReply *rep) {
        const char *v = http_request_arg(req, key);

        if (!v)
                return reply_err(rep, status, "Missing parameter: %s", key) ?: 0;
        *ret = v;
        return 1;
}

/* MiB as XenD took memory sizes, to the state's KiB. */
static int arg_mib(const HttpRequest *req, const char *key, int status, uint64_t *ret_kib, XendReply *rep) {
        int64_t mib = 0;
        int r;

        r = arg_int(req, key, true, 0, status, &mib, rep);
        if (r <= 0)
                return r;
        if (mib < 0 || (uint64_t) mib > UINT64_MAX / 1024)
                return reply_err(rep, status, "Invalid memory size: %" PRIi64, mib) ?: 0;
        *ret_kib = (uint64_t) mib * 1024;
        return 1;
}

/* ---------------------------------------------------------------- log, pending shutdowns */

void xend_log(XsimXend *x, const char *format, ...) {
        char line[512];
        va_list ap;

        va_start(ap, format);
        (void) vsnprintf(line, sizeof(line), format, ap);
        va_end(ap);
        /* Bounded: a full log starts over rather than growing. */
        if (x->log.len + strlen(line) + 64 > XEND_LOG_MAX)
                strbuf_done(&x->log);
        strbuf_appendf(&x->log, "[xensim] INFO (SrvServer) %s\n", line);
        log_debug("xend: %s", line);
}

struct XendPending {
        XsimXend *xend;
        sd_event_source *source;
        int domid;
        XvUuid uuid;
        XsimShutdownReason reason;
        XendPending *prev, *next;
};

static XendPending *pending_free(XendPending *p) {
        if (!p)
                return NULL;
        if (p->prev)
                p->prev->next = p->next;
        else
                p->xend->pending = p->next;
        if (p->next)
                p->next->prev = p->prev;
        sd_event_source_disable_unref(p->source);
        return mfree(p);
}

void xend_pending_free_all(XsimXend *x) {
        while (x->pending)
                pending_free(x->pending);
}

/* The guest sees control/shutdown and shuts itself down; a paused guest only once it runs. */
static int on_pending(sd_event_source *s, uint64_t usec, void *userdata) {
        XendPending *p = userdata;
        XsimDomain *d;

        d = xsim_domain_by_id(p->xend->host, p->domid);
        if (d && uuid_equal(&d->uuid, &p->uuid)) {
                if (d->state == XSIM_STATE_PAUSED &&
                    sd_event_source_set_time_relative(s, XEND_SHUTDOWN_DELAY_USEC) >= 0 &&
                    sd_event_source_set_enabled(s, SD_EVENT_ONESHOT) >= 0)
                        return 0;
                if (d->state == XSIM_STATE_RUNNING)
                        (void) xsim_domain_shutdown(d, p->reason, NULL);
        }
        pending_free(p);
        return 0;
}

static int pending_add(XsimXend *x, XsimDomain *d, XsimShutdownReason reason) {
        XendPending *p;
        int r;

        p = new0(XendPending, 1);
        if (!p)
                return -ENOMEM;
        p->xend = x;
        p->domid = d->domid;
        p->uuid = d->uuid;
        p->reason = reason;
        p->next = x->pending;
        if (x->pending)
                x->pending->prev = p;
        x->pending = p;
        r = sd_event_add_time_relative(x->host->event, &p->source, CLOCK_MONOTONIC,
                                       XEND_SHUTDOWN_DELAY_USEC, 0, on_pending, p);
        if (r < 0)
                pending_free(p);
        return r;
}

/* ---------------------------------------------------------------- SXP of the host and domains */

static void list_remove(Sexpr *l, size_t i) {
        sexpr_free(l->items[i]);
        memmove(l->items + i, l->items + i + 1, (l->n_items - i - 1) * sizeof(Sexpr *));
        l->n_items--;
}

static void sexpr_copy_into(Sexpr *parent, const Sexpr *s) {
        Sexpr *l;

        if (!parent || !s)
                return;
        if (sexpr_is_atom(s)) {
                sexpr_add_atom(parent, sexpr_atom(s));
                return;
        }
        l = sexpr_add_list(parent, NULL);
        for (size_t i = 0; i < sexpr_n_items(s); i++)
                sexpr_copy_into(l, sexpr_item(s, i));
}

/* Python's str() of a float of seconds: at least one decimal, no trailing zeros. */
static void format_seconds(uint64_t ns, char buf[static 32]) {
        size_t n;

        (void) snprintf(buf, 32, "%" PRIu64 ".%09" PRIu64, ns / 1000000000, ns % 1000000000);
        n = strlen(buf);
        while (n > 0 && buf[n - 1] == '0' && buf[n - 2] != '.')
                buf[--n] = '\0';
}

/* vcpu_avail is a Python long: bit i set when vcpu i is online, any width. */
static void format_vcpu_avail(const XsimDomain *d, char buf[static 48]) {
        unsigned __int128 mask = 0;
        char tmp[48];
        size_t n = 0;

        for (unsigned i = 0; i < d->max_vcpus && i < 128; i++)
                if (d->vcpus[i].online)
                        mask |= (unsigned __int128) 1 << i;
        do {
                tmp[n++] = (char) ('0' + (int) (mask % 10));
                mask /= 10;
        } while (mask > 0);
        for (size_t i = 0; i < n; i++)
                buf[i] = tmp[n - 1 - i];
        buf[n] = '\0';
}

static unsigned domain_online_vcpus(const XsimDomain *d) {
        unsigned n = 0;

        for (unsigned i = 0; i < d->max_vcpus; i++)
                n += d->vcpus[i].online;
        return n;
}

/* XenD's power states (XendConstants DOM_STATE_*), reported as "status". */
static unsigned domain_status(const XsimDomain *d) {
        switch (d->state) {
        case XSIM_STATE_HALTED:
                return 0;
        case XSIM_STATE_PAUSED:
                return 1;
        case XSIM_STATE_RUNNING:
                return 2;
        case XSIM_STATE_SHUTDOWN:
                return d->shutdown_reason == XSIM_SHUTDOWN_SUSPEND ? 3 : 4;
        case XSIM_STATE_CRASHED:
                return 5;
        default:
                return 4;
        }
}

static const char *shutdown_reason_name(XsimShutdownReason r) {
        switch (r) {
        case XSIM_SHUTDOWN_POWEROFF: return "poweroff";
        case XSIM_SHUTDOWN_REBOOT:   return "reboot";
        case XSIM_SHUTDOWN_SUSPEND:  return "suspend";
        case XSIM_SHUTDOWN_CRASH:    return "crash";
        default:                     return "halt";
        }
}

/* Keys the live state provides; the stored configuration's copies of them are not repeated. */
static bool key_is_generated(const char *key) {
        static const char *const keys[] = {
                "domid", "name", "uuid", "memory", "maxmem", "vcpus", "vcpu_avail", "online_vcpus",
                "state", "status", "cpu_time", "on_xend_start", "on_xend_stop", "cpu_weight",
                "cpu_cap", "on_poweroff", "on_reboot", "on_crash", "shutdown_reason", "start_time",
        };

        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (streq(key, keys[i]))
                        return true;
        return false;
}

static int domain_sexpr(XsimXend *x, XsimDomain *d, Sexpr **ret) {
        _cleanup_(sexpr_freep) Sexpr *s = NULL;
        int cfg = x->host->xend_config_version;
        char uuid[UUID_STRING_BUF], state[7], secs[32], avail[48];
        int r;

        xsim_domain_account(d);
        r = sexpr_new_list("domain", &s);
        if (r < 0)
                return r;

        /* Before 3.0.4 every domain xend knew was running, so domid was always there. */
        if (d->domid >= 0 || cfg < 3)
                sexpr_add_pair_i64(s, "domid", d->domid);
        sexpr_add_pair(s, "name", d->name);
        sexpr_add_pair(s, "uuid", uuid_format(&d->uuid, uuid));
        sexpr_add_pair(s, "state", d->state == XSIM_STATE_HALTED ? "------" : xsim_domain_state_string(d, state));
        sexpr_add_pair_u64(s, "status", domain_status(d));
        if (d->state == XSIM_STATE_SHUTDOWN || d->state == XSIM_STATE_CRASHED)
                sexpr_add_pair(s, "shutdown_reason", shutdown_reason_name(d->shutdown_reason));
        sexpr_add_pair_u64(s, "memory", d->memory_kib / 1024);
        sexpr_add_pair_u64(s, "maxmem", d->max_memory_kib / 1024);
        sexpr_add_pair_u64(s, "vcpus", d->max_vcpus);
        format_vcpu_avail(d, avail);
        sexpr_add_pair(s, "vcpu_avail", avail);
        sexpr_add_pair_u64(s, "online_vcpus", domain_online_vcpus(d));
        format_seconds(d->cpu_time_ns, secs);
        sexpr_add_pair(s, "cpu_time", secs);
        if (cfg >= 3) {
                sexpr_add_pair(s, "on_xend_start", d->autostart ? "start" : "ignore");
                sexpr_add_pair(s, "on_xend_stop", "ignore");
                sexpr_add_pair_u64(s, "cpu_weight", d->sched_weight);
                sexpr_add_pair_u64(s, "cpu_cap", d->sched_cap);
        }
        if (d->on_poweroff)
                sexpr_add_pair(s, "on_poweroff", d->on_poweroff);
        if (d->on_reboot)
                sexpr_add_pair(s, "on_reboot", d->on_reboot);
        if (d->on_crash)
                sexpr_add_pair(s, "on_crash", d->on_crash);

        /* Everything else comes from the (vm ...) the domain was created or defined with. */
        SEXPR_FOREACH_CHILD(c, d->config) {
                const char *head = sexpr_head(c);

                if (head && key_is_generated(head))
                        continue;
                sexpr_copy_into(s, c);
        }

        r = sexpr_check(s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

static int reply_domain(XsimXend *x, XsimDomain *d, int status, XendReply *rep) {
        _cleanup_(sexpr_freep) Sexpr *s = NULL;
        int r;

        r = domain_sexpr(x, d, &s);
        if (r < 0)
                return r;
        return reply_sexpr(rep, status, s);
}

/* XendNode's list_to_strrange(): "0-3", "0-1,4", or "no cpus". */
static void format_cpu_range(unsigned first, unsigned count, char *buf, size_t size) {
        if (count == 0)
                (void) snprintf(buf, size, "no cpus");
        else if (count == 1)
                (void) snprintf(buf, size, "%u", first);
        else
                (void) snprintf(buf, size, "%u-%u", first, first + count - 1);
}

static int node_sexpr(XsimXend *x, Sexpr **ret) {
        _cleanup_(sexpr_freep) Sexpr *s = NULL;
        _cleanup_(strbuf_done) StrBuf n2c = STRBUF_INIT;
        _cleanup_free_ char *node_to_cpu = NULL;
        XsimHost *h = x->host;
        unsigned nodes = MAX(h->nr_nodes, 1u), per_node = h->nr_cpus / nodes;
        int r;

        /* XendNode printed one "nodeN:cpus" line per node, continued with 25 blanks. */
        for (unsigned i = 0; i < nodes; i++) {
                char range[64];

                format_cpu_range(i * per_node, per_node, range, sizeof(range));
                strbuf_appendf(&n2c, "%snode%u:%s\n", i == 0 ? "" : "                         ", i, range);
        }
        r = strbuf_steal(&n2c, &node_to_cpu);
        if (r < 0)
                return r;

        r = sexpr_new_list("node", &s);
        if (r < 0)
                return r;
        sexpr_add_pair(s, "host", strempty(h->hostname));
        sexpr_add_pair(s, "release", "2.6.18-xen");
        sexpr_add_pair(s, "version", "#1 SMP Tue Oct 16 12:00:00 UTC 2007");
        sexpr_add_pair(s, "machine", "x86_64");
        sexpr_add_pair_u64(s, "nr_cpus", h->nr_cpus);
        sexpr_add_pair_u64(s, "nr_nodes", nodes);
        sexpr_add_pair_u64(s, "sockets_per_node", h->sockets_per_node);
        sexpr_add_pair_u64(s, "cores_per_socket", h->cores_per_socket);
        sexpr_add_pair_u64(s, "threads_per_core", h->threads_per_core);
        sexpr_add_pair_u64(s, "cpu_mhz", h->cpu_mhz);
        sexpr_add_pair(s, "hw_caps", "bfebfbff:20100800:00000000:00000140:0000e3bd:00000000:00000001");
        sexpr_add_pair_u64(s, "total_memory", h->total_memory_kib / 1024);
        sexpr_add_pair_u64(s, "free_memory", xsim_host_free_memory_kib(h) / 1024);
        sexpr_add_pair(s, "node_to_cpu", node_to_cpu);
        sexpr_add_pair_u64(s, "xen_major", h->xen_major);
        sexpr_add_pair_u64(s, "xen_minor", h->xen_minor);
        sexpr_add_pair(s, "xen_extra", strempty(h->xen_extra));
        sexpr_add_pair(s, "xen_caps",
                       "xen-3.0-x86_64 xen-3.0-x86_32p hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64");
        sexpr_add_pair(s, "xen_pagesize", "4096");
        sexpr_add_pair(s, "platform_params", "virt_start=0xffff800000000000");
        sexpr_add_pair(s, "xen_changeset", "unavailable");
        sexpr_add_pair(s, "xen_scheduler", h->scheduler ?: "credit");
        sexpr_add_pair(s, "cc_compiler", "gcc version 4.1.2 20070626 (Red Hat 4.1.2-14)");
        sexpr_add_pair(s, "cc_compile_by", "xensim");
        sexpr_add_pair(s, "cc_compile_domain", "xenvirt.test");
        sexpr_add_pair(s, "cc_compile_date", "Tue Oct 16 12:00:00 UTC 2007");
        /* Xen 3.0.2's xend did not report its format; libvirt took the absence as version 1. */
        if (h->xend_config_version >= 2)
                sexpr_add_pair_i64(s, "xend_config_format", h->xend_config_version);

        r = sexpr_check(s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

/* ---------------------------------------------------------------- (vm ...) configurations */

typedef struct VmFacts {
        const char *name;
        XvUuid uuid;
        bool hvm;
        uint64_t memory_kib, max_memory_kib;
        unsigned vcpus, online;
        int autostart;                  /* -1: not given */
        int64_t weight, cap;            /* -1: not given */
} VmFacts;

static int vm_u64(const Sexpr *vm, const char *path, uint64_t def, uint64_t *ret, XvError *error) {
        int r;

        r = sexpr_get_u64(vm, path, ret);
        if (r == -ENOENT) {
                *ret = def;
                return 0;
        }
        if (r < 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "invalid literal for int(): %s",
                                     strempty(sexpr_node(vm, path)));
        return 0;
}

/* The facts the host state needs from a (vm ...) configuration, with XenD's defaults. */
static int vm_facts(const Sexpr *vm, VmFacts *f, XvError *error) {
        uint64_t mem = 0, maxmem = 0, vcpus = 0, avail = 0, weight = 0, cap = 0;
        const char *s;
        int r;

        *f = (VmFacts) { .autostart = -1, .weight = -1, .cap = -1 };
        if (!streq_ptr(sexpr_head(vm), "vm"))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Invalid configuration: expected (vm ...), got (%s ...)",
                                     strnull(sexpr_head(vm)));
        f->name = sexpr_node(vm, "vm/name");
        if (isempty(f->name))
                return xv_error_setf(error, XVP_ERR_NO_NAME, "Invalid configuration: missing name");

        s = sexpr_node(vm, "vm/uuid");
        if (s && uuid_from_string(s, &f->uuid) < 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid UUID: %s", s);

        r = vm_u64(vm, "vm/memory", XEND_DEFAULT_MEMORY_MIB, &mem, error);
        if (r < 0)
                return r;
        r = vm_u64(vm, "vm/maxmem", mem, &maxmem, error);
        if (r < 0)
                return r;
        if (mem > UINT64_MAX / 1024 || maxmem > UINT64_MAX / 1024)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid memory size");
        f->memory_kib = mem * 1024;
        f->max_memory_kib = MAX(maxmem, mem) * 1024;

        r = vm_u64(vm, "vm/vcpus", 1, &vcpus, error);
        if (r < 0)
                return r;
        if (vcpus < 1 || vcpus > XSIM_VCPUS_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid number of vcpus: %" PRIu64, vcpus);
        f->vcpus = (unsigned) vcpus;
        f->online = f->vcpus;
        r = sexpr_get_u64(vm, "vm/vcpu_avail", &avail);
        if (r >= 0) {
                unsigned n = 0;

                for (unsigned i = 0; i < f->vcpus && i < 64; i++)
                        n += (avail >> i) & 1;
                if (n > 0)
                        f->online = n;
        }

        f->hvm = sexpr_has(vm, "vm/image/hvm");
        s = sexpr_node(vm, "vm/on_xend_start");
        if (s)
                f->autostart = streq(s, "start");
        if (sexpr_get_u64(vm, "vm/cpu_weight", &weight) >= 0 && weight <= 65535)
                f->weight = (int64_t) weight;
        if (sexpr_get_u64(vm, "vm/cpu_cap", &cap) >= 0 && cap <= 65534)
                f->cap = (int64_t) cap;
        return 0;
}

/* Applies what the create/define calls do not take. Values were checked by vm_facts(). */
static void vm_apply(XsimDomain *d, const VmFacts *f) {
        if (f->online != d->max_vcpus && f->online <= d->max_vcpus)
                (void) xsim_domain_set_vcpus(d, f->online, NULL);
        if (f->weight >= 0 || f->cap >= 0)
                (void) xsim_domain_set_sched(d, f->weight >= 0 ? (unsigned) f->weight : d->sched_weight,
                                             f->cap >= 0 ? (unsigned) f->cap : d->sched_cap, NULL);
        if (f->autostart >= 0)
                d->autostart = f->autostart;
}

/* libvirt's SetAutostart posted back the (domain ...) it had read with ?detail=1, with
 * on_xend_start changed, and XenD's config parser did not care about the head. Store such a
 * configuration as the (vm ...) it describes, without the keys that only report live state. */
static int config_normalize(Sexpr *cfg) {
        static const char *const runtime_keys[] = {
                "domid", "state", "status", "cpu_time", "online_vcpus", "shutdown_reason", "start_time",
                "up_time",
        };
        char *vm;

        if (!streq_ptr(sexpr_head(cfg), "domain"))
                return 0;
        vm = strdup("vm");
        if (!vm)
                return -ENOMEM;
        free(cfg->items[0]->value);
        cfg->items[0]->value = vm;
        for (size_t i = sexpr_n_items(cfg); i-- > 1;) {
                const char *head = sexpr_head(sexpr_item(cfg, i));

                for (size_t k = 0; head && k < ELEMENTSOF(runtime_keys); k++)
                        if (streq(head, runtime_keys[k])) {
                                list_remove(cfg, i);
                                break;
                        }
        }
        return 0;
}

/* Parses config= as XenD's sxp.Parser did. Returns 1, 0 with the error answer, or -ENOMEM. */
static int arg_config(const HttpRequest *req, Sexpr **ret, XendReply *rep) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        const char *text = NULL;
        int r;

        r = arg_string(req, "config", 500, &text, rep);
        if (r <= 0)
                return r;
        r = sexpr_parse_string(text, ret, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return reply_err(rep, 500, "Invalid configuration: %s", strnull(e.message)) ?: 0;
        if (!sexpr_is_list(*ret)) {
                *ret = sexpr_free(*ret);
                return reply_err(rep, 500, "Invalid configuration: not a list") ?: 0;
        }
        return 1;
}

/* ---------------------------------------------------------------- /xend/domain/ ops */

/* The normalized (vm ...) of op=create and op=new, and the facts read from it (which point into
 * it). Returns 1 with both set, 0 when @rep holds the error answer, or a negative errno. */
static int arg_vm(const HttpRequest *req, Sexpr **ret_vm, VmFacts *ret_facts, XendReply *rep) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_(sexpr_freep) Sexpr *vm = NULL;
        int r;

        r = arg_config(req, &vm, rep);
        if (r <= 0)
                return r;
        r = config_normalize(vm);
        if (r < 0)
                return r;
        r = vm_facts(vm, ret_facts, &e);
        if (r < 0)
                return reply_xv(rep, 500, &e, r);
        *ret_vm = TAKE_PTR(vm);
        return 1;
}

static int op_create(XsimXend *x, const HttpRequest *req, XendReply *rep) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_(sexpr_freep) Sexpr *vm = NULL;
        XsimDomain *d;
        VmFacts f;
        int r;

        r = arg_vm(req, &vm, &f, rep);
        if (r <= 0)
                return r;
        r = xsim_domain_create(x->host, f.name, &f.uuid, f.hvm, f.memory_kib, f.max_memory_kib, f.vcpus,
                               TAKE_PTR(vm), &d, &e);
        if (r < 0)
                return reply_err(rep, 500, "Error creating domain: %s", e.message ?: strerror(-r));
        vm_apply(d, &f);
        xend_log(x, "Domain %s (%d) created, paused", d->name, d->domid);
        return reply_domain(x, d, 201, rep);
}

static int op_new(XsimXend *x, const HttpRequest *req, XendReply *rep) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_(sexpr_freep) Sexpr *vm = NULL;
        XsimDomain *d;
        VmFacts f;
        int r;

        r = arg_vm(req, &vm, &f, rep);
        if (r <= 0)
                return r;
        r = xsim_domain_define(x->host, f.name, &f.uuid, f.hvm, f.memory_kib, f.max_memory_kib, f.vcpus,
                               TAKE_PTR(vm), &d, &e);
        if (r < 0)
                return reply_xv(rep, 500, &e, r);
        if (d->state == XSIM_STATE_HALTED)
                vm_apply(d, &f);
        else if (f.autostart >= 0)
                d->autostart = f.autostart;
        xend_log(x, "Domain %s defined", d->name);
        return reply_domain(x, d, 201, rep);
}

/* A save image: XendCheckpoint's "LinuxGuestRecord", a 4-byte big-endian length and the
 * configuration, then (instead of memory pages) the state xensim needs back. */
static int save_image(XsimDomain *d, char **ret, size_t *ret_size) {
        _cleanup_(sexpr_freep) Sexpr *st = NULL, *minimal = NULL;
        _cleanup_free_ char *cfg = NULL, *state = NULL, *out = NULL;
        const Sexpr *config = d->config;
        char uuid[UUID_STRING_BUF];
        size_t cfg_len, state_len, magic_len = strlen(XEND_SAVE_MAGIC), size;
        int r;

        if (!config) {
                r = sexpr_new_list("vm", &minimal);
                if (r < 0)
                        return r;
                sexpr_add_pair(minimal, "name", d->name);
                config = minimal;
        }
        r = sexpr_format(config, &cfg);
        if (r < 0)
                return r;

        r = sexpr_new_list("xsim_state", &st);
        if (r < 0)
                return r;
        sexpr_add_pair(st, "name", d->name);
        sexpr_add_pair(st, "uuid", uuid_format(&d->uuid, uuid));
        sexpr_add_pair_u64(st, "hvm", d->hvm);
        sexpr_add_pair_u64(st, "memory_kib", d->memory_kib);
        sexpr_add_pair_u64(st, "max_memory_kib", d->max_memory_kib);
        sexpr_add_pair_u64(st, "vcpus", d->max_vcpus);
        sexpr_add_pair_u64(st, "online_vcpus", domain_online_vcpus(d));
        sexpr_add_pair_u64(st, "cpu_weight", d->sched_weight);
        sexpr_add_pair_u64(st, "cpu_cap", d->sched_cap);
        r = sexpr_format(st, &state);
        if (r < 0)
                return r;

        cfg_len = strlen(cfg);
        state_len = strlen(state);
        size = magic_len + 4 + cfg_len + 1 + state_len + 1;
        out = malloc(size);
        if (!out)
                return -ENOMEM;
        memcpy(out, XEND_SAVE_MAGIC, magic_len);
        out[magic_len] = (char) (cfg_len >> 24);
        out[magic_len + 1] = (char) (cfg_len >> 16);
        out[magic_len + 2] = (char) (cfg_len >> 8);
        out[magic_len + 3] = (char) cfg_len;
        memcpy(out + magic_len + 4, cfg, cfg_len);
        out[magic_len + 4 + cfg_len] = '\n';
        memcpy(out + magic_len + 5 + cfg_len, state, state_len);
        out[size - 1] = '\n';
        *ret = TAKE_PTR(out);
        *ret_size = size;
        return 0;
}

static int state_u64(const Sexpr *st, const char *key, uint64_t *ret, XvError *error) {
        char path[64];

        (void) snprintf(path, sizeof(path), "xsim_state/%s", key);
        if (sexpr_get_u64(st, path, ret) < 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Corrupt save image: no %s", key);
        return 0;
}

static int op_restore(XsimXend *x, const HttpRequest *req, XendReply *rep) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_(sexpr_freep) Sexpr *vm = NULL, *st = NULL;
        _cleanup_free_ char *data = NULL;
        uint64_t mem = 0, maxmem = 0, vcpus = 0, online = 0, hvm = 0, weight = 0, cap = 0;
        size_t size, magic_len = strlen(XEND_SAVE_MAGIC), cfg_len;
        const char *file = NULL, *name;
        XsimDomain *d;
        XvUuid uuid;
        int r;

        r = arg_string(req, "file", 200, &file, rep);
        if (r <= 0)
                return r;
        r = read_full_file(file, XEND_SAVE_FILE_MAX, &data, &size);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return reply_err(rep, 200, "Restore failed: [Errno %d] %s: '%s'", -r, strerror(-r), file);
        if (size < magic_len + 4 || memcmp(data, XEND_SAVE_MAGIC, magic_len) != 0)
                return reply_err(rep, 200, "Restore failed: not a valid guest state file: signature mismatch");
        cfg_len = (size_t) (uint8_t) data[magic_len] << 24 | (size_t) (uint8_t) data[magic_len + 1] << 16 |
                  (size_t) (uint8_t) data[magic_len + 2] << 8 | (size_t) (uint8_t) data[magic_len + 3];
        if (cfg_len > size - magic_len - 4 || cfg_len > SEXPR_SIZE_MAX)
                return reply_err(rep, 200, "Restore failed: not a valid guest state file: config size");

        r = sexpr_parse(data + magic_len + 4, cfg_len, &vm, &e);
        if (r >= 0) {
                const char *rest = data + magic_len + 4 + cfg_len;

                r = sexpr_parse(rest, strlen(rest), &st, &e);
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !streq_ptr(sexpr_head(st), "xsim_state"))
                return reply_err(rep, 200, "Restore failed: not a valid guest state file: %s",
                                 e.message ?: "no state record");

        name = sexpr_node(st, "xsim_state/name");
        if (!name || uuid_from_string(strempty(sexpr_node(st, "xsim_state/uuid")), &uuid) < 0)
                return reply_err(rep, 200, "Restore failed: not a valid guest state file: identity");
        r = state_u64(st, "memory_kib", &mem, &e);
        r = r < 0 ? r : state_u64(st, "max_memory_kib", &maxmem, &e);
        r = r < 0 ? r : state_u64(st, "vcpus", &vcpus, &e);
        r = r < 0 ? r : state_u64(st, "online_vcpus", &online, &e);
        r = r < 0 ? r : state_u64(st, "hvm", &hvm, &e);
        r = r < 0 ? r : state_u64(st, "cpu_weight", &weight, &e);
        r = r < 0 ? r : state_u64(st, "cpu_cap", &cap, &e);
        if (r < 0 || vcpus < 1 || vcpus > XSIM_VCPUS_MAX)
                return reply_err(rep, 200, "Restore failed: %s", e.message ?: "Corrupt save image: vcpus");

        /* A managed halted domain of that name and UUID takes the image back (create does that). */
        r = xsim_domain_create(x->host, name, &uuid, hvm, mem, maxmem, (unsigned) vcpus, TAKE_PTR(vm), &d, &e);
        if (r < 0)
                return reply_err(rep, 200, "Restore failed: %s", e.message ?: strerror(-r));
        if (online >= 1 && online < d->max_vcpus)
                (void) xsim_domain_set_vcpus(d, (unsigned) online, NULL);
        (void) xsim_domain_set_sched(d, (unsigned) weight, (unsigned) cap, NULL);
        (void) xsim_domain_unpause(d, NULL);
        xend_log(x, "Domain %s (%d) restored from %s", d->name, d->domid, file);
        return reply_domain(x, d, 201, rep);
}

/* ---------------------------------------------------------------- /xend/domain/<d> ops */

typedef int (*DomainOpFn)(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep);

static bool domain_is_active(const XsimDomain *d) {
        return d->domid >= 0;
}

static int op_wait_for_devices(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        if (!domain_is_active(d))
                return reply_err(rep, 500, "Domain '%s' is not running", d->name);
        return reply_empty(rep, 200);
}

static int op_unpause(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        int r;

        r = xsim_domain_unpause(d, &e);
        return reply_result(rep, &e, r);
}

static int op_pause(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        int r;

        r = xsim_domain_pause(d, &e);
        return reply_result(rep, &e, r);
}

static int op_shutdown(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        static const struct {
                const char *name;
                XsimShutdownReason reason;
        } reasons[] = {
                /* A guest asked to "halt" powers off. */
                { "poweroff", XSIM_SHUTDOWN_POWEROFF },
                { "halt",     XSIM_SHUTDOWN_POWEROFF },
                { "reboot",   XSIM_SHUTDOWN_REBOOT },
                { "suspend",  XSIM_SHUTDOWN_SUSPEND },
                { "crash",    XSIM_SHUTDOWN_CRASH },
        };
        const char *reason = http_request_arg(req, "reason");
        int r;

        for (size_t i = 0; reason && i < ELEMENTSOF(reasons); i++) {
                if (!streq(reason, reasons[i].name))
                        continue;
                if (d->domid == 0)
                        return reply_err(rep, 202, "Shutdown failed: cannot shut down privileged domain %s",
                                         d->name);
                if (!domain_is_active(d) ||
                    (d->state != XSIM_STATE_RUNNING && d->state != XSIM_STATE_PAUSED))
                        return reply_err(rep, 202, "Shutdown failed: domain '%s' is not running", d->name);
                r = pending_add(x, d, reasons[i].reason);
                if (r < 0)
                        return r;
                xend_log(x, "Domain %s (%d) asked to %s", d->name, d->domid, reason);
                return reply_empty(rep, 202);
        }
        return reply_err(rep, 202, "Shutdown failed: Invalid reason: %s", strnull(reason));
}

static int op_destroy(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        int r;

        r = xsim_domain_destroy(d, &e);
        return reply_result(rep, &e, r);
}

/* save, dump and migrate ran in a request thread: failures are 200 + (xend.err ...). */
static int check_file_arg(const HttpRequest *req, const char **ret, XendReply *rep) {
        const char *file = NULL;
        int r;

        r = arg_string(req, "file", 200, &file, rep);
        if (r <= 0)
                return r;
        if (!file || file[0] != '/')
                return reply_err(rep, 200, "File name must be absolute: '%s'", strempty(file)) ?: 0;
        *ret = file;
        return 1;
}

static int op_save(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_free_ char *image = NULL;
        const char *file = NULL;
        size_t size = 0;
        int r;

        r = check_file_arg(req, &file, rep);
        if (r <= 0)
                return r;
        if (d->domid == 0)
                return reply_err(rep, 200, "Cannot save privileged domain %s", d->name);
        if (!domain_is_active(d))
                return reply_err(rep, 200, "Domain '%s' is not running", d->name);
        r = save_image(d, &image, &size);
        if (r < 0)
                return r;
        r = write_file_atomic(file, image, size, 0600);
        if (r < 0)
                return reply_err(rep, 200, "[Errno %d] %s: '%s'", -r, strerror(-r), file);
        xend_log(x, "Domain %s (%d) saved to %s", d->name, d->domid, file);
        r = xsim_domain_destroy(d, &e);
        if (r < 0)
                return reply_xv(rep, 200, &e, r);
        return reply_empty(rep, 200);
}

static int op_dump(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_(sexpr_freep) Sexpr *s = NULL;
        _cleanup_free_ char *text = NULL, *core = NULL;
        const char *file = NULL;
        int64_t live = 0, crash = 0;
        int r;

        r = check_file_arg(req, &file, rep);
        if (r <= 0)
                return r;
        r = arg_int(req, "live", false, 0, 200, &live, rep);
        if (r <= 0)
                return r;
        r = arg_int(req, "crash", false, 0, 200, &crash, rep);
        if (r <= 0)
                return r;
        /* Observed: xend answered 200 with an (xend.err ...) body here, not an error status. */
        if (d->domid == 0)
                return reply_err(rep, 200, "Cannot dump core for privileged domain %d", d->domid);
        if (!domain_is_active(d))
                return reply_err(rep, 200, "Domain '%s' is not started", d->name);

        r = domain_sexpr(x, d, &s);
        if (r < 0)
                return r;
        r = sexpr_format(s, &text);
        if (r < 0)
                return r;
        if (asprintf(&core, "%s\n%s\n", XEND_CORE_MAGIC, text) < 0)
                return -ENOMEM;
        r = write_file_atomic(file, core, strlen(core), 0600);
        if (r < 0)
                return reply_err(rep, 200, "Failed to dump core: [Errno %d] %s: '%s'", -r, strerror(-r), file);
        xend_log(x, "Domain %s (%d) dumped to %s (live=%" PRIi64 ")", d->name, d->domid, file, live);
        if (crash) {
                r = xsim_domain_shutdown(d, XSIM_SHUTDOWN_CRASH, &e);
                if (r < 0)
                        return reply_xv(rep, 200, &e, r);
        }
        return reply_empty(rep, 200);
}

/* maxmem_set and mem_target_set: one argument in MiB, handed to @set in KiB; a bad argument and a
 * refusal are both 500. */
static int op_memory_set(XsimDomain *d, const HttpRequest *req, const char *arg,
                         int (*set)(XsimDomain *d, uint64_t kib, XvError *error), XendReply *rep) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        uint64_t kib = 0;
        int r;

        r = arg_mib(req, arg, 500, &kib, rep);
        if (r <= 0)
                return r;
        r = set(d, kib, &e);
        return reply_result(rep, &e, r);
}

static int op_maxmem_set(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        return op_memory_set(d, req, "memory", xsim_domain_set_max_memory, rep);
}

static int op_mem_target_set(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        return op_memory_set(d, req, "target", xsim_domain_set_memory, rep);
}

static int op_set_vcpus(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        int64_t n = 0;
        int r;

        r = arg_int(req, "vcpus", true, 0, 500, &n, rep);
        if (r <= 0)
                return r;
        if (n <= 0 || n > XSIM_VCPUS_MAX)
                return reply_err(rep, 500, "Invalid VCPUs: %" PRIi64, n);
        r = xsim_domain_set_vcpus(d, (unsigned) n, &e);
        return reply_result(rep, &e, r);
}

/* cpumap: "0,1,5" (xend ≥ 3.0.4 split it on commas and int()ed each) or "[0,1,5]" (older
 * xend eval()ed a Python list). Returns 1, 0 with the error answer, or -ENOMEM. */
static int parse_cpumap(XsimXend *x, const char *s, uint64_t *ret, XendReply *rep) {
        _cleanup_free_ char *copy = NULL;
        char *p, *save = NULL;
        size_t n = strlen(s);
        uint64_t mask = 0;

        if (x->host->xend_config_version < 3) {
                if (n < 2 || s[0] != '[' || s[n - 1] != ']')
                        return reply_err(rep, 500, "invalid syntax: %s", s) ?: 0;
                copy = strndup(s + 1, n - 2);
        } else
                copy = strdup(s);
        if (!copy)
                return -ENOMEM;

        for (p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
                unsigned cpu;

                p += strspn(p, " ");
                p[strcspn(p, " ")] = '\0';
                if (safe_atou(p, &cpu) < 0)
                        return reply_err(rep, 500, "invalid literal for int(): %s", p) ?: 0;
                if (cpu >= XSIM_PCPUS_MAX)
                        return reply_err(rep, 500, "Invalid CPU: %u", cpu) ?: 0;
                mask |= UINT64_C(1) << cpu;
        }
        *ret = mask;
        return 1;
}

static int op_pincpu(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        const char *vcpu = NULL, *cpumap = NULL;
        unsigned first, last;
        uint64_t mask = 0;
        int r;

        r = arg_string(req, "vcpu", 500, &vcpu, rep);
        if (r <= 0)
                return r;
        r = arg_string(req, "cpumap", 500, &cpumap, rep);
        if (r <= 0)
                return r;
        r = parse_cpumap(x, cpumap, &mask, rep);
        if (r <= 0)
                return r;
        if (strcasecmp(vcpu, "all") == 0) {
                first = 0;
                last = d->max_vcpus - 1;
        } else {
                if (safe_atou(vcpu, &first) < 0)
                        return reply_err(rep, 500, "invalid literal for int(): %s", vcpu);
                last = first;
        }
        for (unsigned i = first; i <= last; i++) {
                r = xsim_domain_pin_vcpu(d, i, mask, &e);
                if (r < 0)
                        return reply_xv(rep, 500, &e, r);
        }
        return reply_empty(rep, 200);
}

static int op_sched_credit_set(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        int64_t weight = 0, cap = 0;
        int r;

        r = arg_int(req, "weight", false, d->sched_weight, 500, &weight, rep);
        if (r <= 0)
                return r;
        r = arg_int(req, "cap", false, d->sched_cap, 500, &cap, rep);
        if (r <= 0)
                return r;
        if (weight < 1 || weight > 65535)
                return reply_err(rep, 500, "Cpu weight out of range, valid values are within range from 1 to 65535");
        if (cap < 0 || cap > 65534)
                return reply_err(rep, 500, "Cpu cap out of range, valid value is from 0 to 65534 for specified cpu");
        r = xsim_domain_set_sched(d, (unsigned) weight, (unsigned) cap, &e);
        return reply_result(rep, &e, r);
}

static void add_vcpu(Sexpr *parent, const XsimDomain *d, unsigned i, bool active) {
        Sexpr *v, *map;
        char secs[32];

        v = sexpr_add_list(parent, "vcpu");
        sexpr_add_pair_u64(v, "number", i);
        sexpr_add_pair_u64(v, "online", active && d->vcpus[i].online);
        sexpr_add_pair_u64(v, "blocked", active && d->vcpus[i].blocked);
        sexpr_add_pair_u64(v, "running", active && d->state == XSIM_STATE_RUNNING &&
                           d->vcpus[i].online && !d->vcpus[i].blocked);
        format_seconds(active ? d->vcpus[i].cpu_time_ns : 0, secs);
        sexpr_add_pair(v, "cpu_time", secs);
        sexpr_add_pair_i64(v, "cpu", active ? d->vcpus[i].cpu : -1);
        /* Python printed the cpumap list as a nested list: (cpumap (0 1 2 3)). */
        map = sexpr_add_list(sexpr_add_list(v, "cpumap"), NULL);
        for (unsigned c = 0; c < XSIM_PCPUS_MAX; c++)
                if (d->vcpus[i].affinity & (UINT64_C(1) << c)) {
                        char num[8];

                        (void) snprintf(num, sizeof(num), "%u", c);
                        sexpr_add_atom(map, num);
                }
}

static int op_vcpuinfo(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        _cleanup_(sexpr_freep) Sexpr *s = NULL;
        bool active = domain_is_active(d);
        int r;

        xsim_domain_account(d);
        /* xend 3.0.4 and later wrap the list in (domain (name)(domid)(vcpu_count) ...). */
        if (x->host->xend_config_version >= 3) {
                r = sexpr_new_list("domain", &s);
                if (r < 0)
                        return r;
                if (active)
                        sexpr_add_pair_i64(s, "domid", d->domid);
                sexpr_add_pair(s, "name", d->name);
                sexpr_add_pair_u64(s, "vcpu_count", d->max_vcpus);
        } else {
                r = sexpr_new_list(NULL, &s);
                if (r < 0)
                        return r;
        }
        for (unsigned i = 0; i < d->max_vcpus; i++)
                add_vcpu(s, d, i, active);
        return reply_sexpr(rep, 200, s);
}

/* ------------------------------------------------ devices in the stored configuration */

static bool is_disk_type(const char *t) {
        return streq_ptr(t, "vbd") || streq_ptr(t, "tap") || streq_ptr(t, "tap2");
}

static bool is_device_type(const char *t) {
        static const char *const types[] = {
                "vbd", "tap", "tap2", "vif", "pci", "vfb", "vkbd", "console", "vscsi", "vtpm", "ioports", "irq",
        };

        for (size_t i = 0; t && i < ELEMENTSOF(types); i++)
                if (streq(t, types[i]))
                        return true;
        return false;
}

/* "hdc:cdrom", "ioemu:hda", "/dev/xvda" → "hdc", "hda", "xvda" (in @buf). */
static const char *disk_base_name(const char *name, char buf[static 64]) {
        const char *n = name;

        if (strncmp(n, "ioemu:", 6) == 0)
                n += 6;
        if (strncmp(n, "/dev/", 5) == 0)
                n += 5;
        (void) snprintf(buf, 64, "%.*s", (int) strcspn(n, ":"), n);
        return buf;
}

/* The device id the xenstore side gives the device: Linux's number for disks, the position among
 * the domain's vifs for network interfaces (@index), 0 for the rest. */
static int device_devid(const Sexpr *dev, unsigned index) {
        const char *name;
        int devid;

        if (is_disk_type(sexpr_head(dev))) {
                char buf[64];

                name = xsim_device_value(dev, "dev");
                if (name && xsim_disk_devid(disk_base_name(name, buf), &devid) >= 0)
                        return devid;
                return -1;
        }
        if (streq_ptr(sexpr_head(dev), "vif"))
                return (int) index;
        return 0;
}

static bool device_matches(const Sexpr *dev, unsigned index, const char *ref) {
        const char *head = sexpr_head(dev), *v;
        unsigned num;

        if (safe_atou(ref, &num) >= 0)
                return device_devid(dev, index) == (int) num;
        if (is_disk_type(head)) {
                char a[64], b[64];

                v = xsim_device_value(dev, "dev");
                return v && streq(disk_base_name(v, a), disk_base_name(ref, b));
        }
        if (streq_ptr(head, "vif")) {
                v = xsim_device_value(dev, "mac");
                if (v && strcasecmp(v, ref) == 0)
                        return true;
                v = xsim_device_value(dev, "vifname");
                return v && streq(v, ref);
        }
        return false;
}

/* Finds the (device (type ...)) item of @config matching @ref; @type "vbd" also finds tap disks. */
static ssize_t config_find_device(const Sexpr *config, const char *type, const char *ref) {
        unsigned n_vif = 0;

        for (size_t i = 1; i < sexpr_n_items(config); i++) {
                const Sexpr *c = sexpr_item(config, i), *dev;
                const char *head;
                unsigned index = 0;

                if (!streq_ptr(sexpr_head(c), "device"))
                        continue;
                dev = sexpr_item(c, 1);
                head = sexpr_head(dev);
                if (streq_ptr(head, "vif"))
                        index = n_vif++;
                if (type && !(streq_ptr(head, type) || (is_disk_type(type) && is_disk_type(head))))
                        continue;
                if (device_matches(dev, index, ref))
                        return (ssize_t) i;
        }
        return -1;
}

static int domain_config(XsimDomain *d, Sexpr **ret) {
        int r;

        if (!d->config) {
                r = sexpr_new_list("vm", &d->config);
                if (r < 0)
                        return r;
                sexpr_add_pair(d->config, "name", d->name);
        }
        *ret = d->config;
        return 0;
}

static void config_changed(XsimXend *x, XsimDomain *d) {
        xsim_host_emit(x->host, XSIM_EVENT_CHANGED, d);
        if (d->managed)
                xsim_host_emit(x->host, XSIM_EVENT_DEFINED, d);
}

/* Drops (state ...) from a hot-plug PCI request, at the (pci ...) level and inside each (dev). */
static const char *pci_take_state(Sexpr *pci) {
        const char *state = NULL;

        for (size_t i = sexpr_n_items(pci); i-- > 1;) {
                Sexpr *c = pci->items[i];

                if (streq_ptr(sexpr_head(c), "state")) {
                        state = state ?: sexpr_atom(sexpr_item(c, 1));
                        continue;
                }
                if (!streq_ptr(sexpr_head(c), "dev"))
                        continue;
                for (size_t k = sexpr_n_items(c); k-- > 1;)
                        if (streq_ptr(sexpr_head(c->items[k]), "state")) {
                                state = state ?: sexpr_atom(sexpr_item(c->items[k], 1));
                                /* The pointer stays valid: the parent keeps a copy below. */
                        }
        }
        return state;
}

static void pci_strip_state(Sexpr *pci) {
        for (size_t i = sexpr_n_items(pci); i-- > 1;) {
                Sexpr *c = pci->items[i];

                if (streq_ptr(sexpr_head(c), "state")) {
                        list_remove(pci, i);
                        continue;
                }
                if (streq_ptr(sexpr_head(c), "dev"))
                        for (size_t k = sexpr_n_items(c); k-- > 1;)
                                if (streq_ptr(sexpr_head(c->items[k]), "state"))
                                        list_remove(c, k);
        }
}

static bool pci_dev_equal(const Sexpr *a, const Sexpr *b) {
        static const char *const keys[] = { "domain", "bus", "slot", "func" };

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                char path[32];
                uint64_t x = 0, y = 0;

                (void) snprintf(path, sizeof(path), "dev/%s", keys[i]);
                (void) sexpr_get_u64(a, path, &x);
                (void) sexpr_get_u64(b, path, &y);
                if (x != y) {
                        const char *sa = sexpr_node(a, path), *sb = sexpr_node(b, path);
                        uint64_t ux, uy;

                        /* Hex spellings ("0x0a") are what xend got; compare their values. */
                        if (!sa || !sb || safe_atou64_full(sa, 0, &ux) < 0 || safe_atou64_full(sb, 0, &uy) < 0 ||
                            ux != uy)
                                return false;
                }
        }
        return true;
}

/* Adds (Initialising) or removes (Closing) the (dev ...) entries of @pci in the domain's single
 * (device (pci ...)) item. Takes ownership of @pci. */
static int config_pci_update(Sexpr *config, Sexpr *pci, bool remove) {
        _cleanup_(sexpr_freep) Sexpr *req = pci;
        Sexpr *have = NULL;
        size_t have_index = 0;

        for (size_t i = 1; i < sexpr_n_items(config); i++) {
                Sexpr *c = config->items[i];

                if (streq_ptr(sexpr_head(c), "device") && streq_ptr(sexpr_head(sexpr_item(c, 1)), "pci")) {
                        have = c->items[1];
                        have_index = i;
                        break;
                }
        }
        pci_strip_state(req);

        if (remove) {
                if (!have)
                        return -ENOENT;
                SEXPR_FOREACH_CHILD(want, req) {
                        bool found = false;

                        if (!streq_ptr(sexpr_head(want), "dev"))
                                continue;
                        for (size_t k = sexpr_n_items(have); k-- > 1;)
                                if (streq_ptr(sexpr_head(have->items[k]), "dev") &&
                                    pci_dev_equal(have->items[k], want)) {
                                        list_remove(have, k);
                                        found = true;
                                }
                        if (!found)
                                return -ENOENT;
                }
                if (sexpr_n_items(have) <= 1)
                        list_remove(config, have_index);
                return 0;
        }

        if (!have) {
                Sexpr *dev = sexpr_add_list(config, "device");

                if (!sexpr_add(dev, TAKE_PTR(req)))
                        return -ENOMEM;
                return sexpr_check(config);
        }
        for (size_t i = 1; i < sexpr_n_items(req); i++)
                if (streq_ptr(sexpr_head(req->items[i]), "dev")) {
                        sexpr_copy_into(have, req->items[i]);
                }
        return sexpr_check(config);
}

/* The (device ...) configuration of op=device_create and op=device_configure, its type, and the
 * domain's configuration it goes into. Returns 1 with all three set, 0 when @rep holds the error
 * answer, or a negative errno. */
static int arg_device(XsimDomain *d, const HttpRequest *req, Sexpr **ret_dev, const char **ret_type,
                      Sexpr **ret_config, XendReply *rep) {
        _cleanup_(sexpr_freep) Sexpr *dev = NULL;
        const char *type;
        int r;

        r = arg_config(req, &dev, rep);
        if (r <= 0)
                return r;
        type = sexpr_head(dev);
        if (!is_device_type(type))
                return reply_err(rep, 500, "Invalid device type: %s", strnull(type));
        r = domain_config(d, ret_config);
        if (r < 0)
                return r;
        *ret_type = type;
        *ret_dev = TAKE_PTR(dev);
        return 1;
}

static int op_device_create(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        _cleanup_(sexpr_freep) Sexpr *dev = NULL;
        const char *type;
        Sexpr *config, *item;
        unsigned n_vif = 0;
        int r;

        r = arg_device(d, req, &dev, &type, &config, rep);
        if (r <= 0)
                return r;

        if (streq(type, "pci")) {
                r = config_pci_update(config, TAKE_PTR(dev), false);
                if (r < 0)
                        return r;
                config_changed(x, d);
                return reply_empty(rep, 200);
        }

        if (is_disk_type(type)) {
                const char *name = xsim_device_value(dev, "dev");

                if (!name)
                        return reply_err(rep, 500, "Device name (dev) missing from the vbd configuration");
                if (config_find_device(config, type, name) >= 0)
                        return reply_err(rep, 500, "Device %s is already connected.", name);
        }
        SEXPR_FOREACH_CHILD(c, config)
                if (streq_ptr(sexpr_head(c), "device") && streq_ptr(sexpr_head(sexpr_item(c, 1)), "vif"))
                        n_vif++;
        if (streq(type, "vif") && !xsim_device_value(dev, "mac")) {
                uint8_t b[3];

                /* xend picked a random address in Xen's OUI. */
                if (getentropy(b, sizeof(b)) < 0)
                        return -errno;
                if (!sexpr_add_pairf(dev, "mac", "00:16:3e:%02x:%02x:%02x", b[0] & 0x7f, b[1], b[2]))
                        return -ENOMEM;
        }

        int devid = device_devid(dev, n_vif);

        item = sexpr_add_list(config, "device");
        if (!sexpr_add(item, TAKE_PTR(dev)))
                return -ENOMEM;
        r = sexpr_check(config);
        if (r < 0)
                return r;
        config_changed(x, d);
        xend_log(x, "Domain %s: device %s %d created", d->name, type, devid);
        return reply_text(rep, 200, "%d", devid);
}

static int op_device_configure(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        _cleanup_(sexpr_freep) Sexpr *dev = NULL;
        const char *type, *ref, *state;
        Sexpr *config;
        ssize_t i;
        int r;

        r = arg_device(d, req, &dev, &type, &config, rep);
        if (r <= 0)
                return r;

        /* PCI hot-plug and unplug travel as (pci ... (state 'Initialising'|'Closing')). */
        if (streq(type, "pci")) {
                state = pci_take_state(dev);
                r = config_pci_update(config, TAKE_PTR(dev), streq_ptr(state, "Closing"));
                if (r == -ENOENT)
                        return reply_err(rep, 500, "Cannot find the PCI device to detach");
                if (r < 0)
                        return r;
                config_changed(x, d);
                return reply_empty(rep, 200);
        }

        ref = http_request_arg(req, "dev");
        if (!ref)
                ref = xsim_device_value(dev, "dev");
        if (!ref)
                return reply_err(rep, 500, "Missing parameter: dev");
        i = config_find_device(config, type, ref);
        if (i < 0)
                return reply_err(rep, 500, "Cannot find device %s of type %s in domain %s", ref, type, d->name);

        /* Replace the whole device: a CD-ROM media change carries the complete new vbd. */
        Sexpr *item = config->items[i];
        sexpr_free(item->items[1]);
        item->items[1] = TAKE_PTR(dev);
        config_changed(x, d);
        return reply_empty(rep, 200);
}

static int op_device_destroy(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        const char *type = NULL, *ref;
        int64_t force = 0, rm_cfg = 0;
        ssize_t i;
        int r;

        r = arg_string(req, "type", 500, &type, rep);
        if (r <= 0)
                return r;
        /* Old xend called it idx, newer dev. */
        ref = http_request_arg(req, "dev") ?: http_request_arg(req, "idx");
        if (!ref)
                return reply_err(rep, 500, "Missing parameter: dev");
        r = arg_int(req, "force", false, 0, 500, &force, rep);
        if (r <= 0)
                return r;
        r = arg_int(req, "rm_cfg", false, 0, 500, &rm_cfg, rep);
        if (r <= 0)
                return r;
        if (!is_device_type(type))
                return reply_err(rep, 500, "Invalid device type: %s", type);

        i = d->config ? config_find_device(d->config, type, ref) : -1;
        if (i < 0)
                return reply_err(rep, 500, "Device %s not connected", ref);
        /* xensim keeps one configuration: unplugging always removes the device from it. */
        list_remove(d->config, (size_t) i);
        config_changed(x, d);
        xend_log(x, "Domain %s: device %s %s destroyed (force=%" PRIi64 ", rm_cfg=%" PRIi64 ")",
                 d->name, type, ref, force, rm_cfg);
        return reply_empty(rep, 200);
}

static int op_start(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        int64_t paused = 0;
        int r;

        r = arg_int(req, "paused", false, 0, 500, &paused, rep);
        if (r <= 0)
                return r;
        if (domain_is_active(d))
                return reply_err(rep, 500, "Domain is already running");
        r = xsim_domain_start(d, &e);
        if (r < 0)
                return reply_xv(rep, 500, &e, r);
        if (!paused)
                (void) xsim_domain_unpause(d, NULL);
        xend_log(x, "Domain %s (%d) started", d->name, d->domid);
        return reply_empty(rep, 200);
}

static int op_delete(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_free_ char *name = NULL;
        int r;

        if (d->domid == 0)
                return reply_err(rep, 500, "Cannot delete privileged domain %s", d->name);
        if (domain_is_active(d))
                return reply_err(rep, 500, "Domain is still running");
        name = strdup(d->name);
        if (!name)
                return -ENOMEM;
        r = xsim_domain_undefine(d, &e);
        if (r < 0)
                return reply_xv(rep, 500, &e, r);
        xend_log(x, "Domain %s deleted", name);
        return reply_empty(rep, 200);
}

static int op_migrate(XsimXend *x, XsimDomain *d, const HttpRequest *req, XendReply *rep) {
        static const char *const int_args[] = { "live", "port", "node", "ssl", "change_home_server", "resource" };
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        const char *dst = NULL;
        int r;

        r = arg_string(req, "destination", 200, &dst, rep);
        if (r <= 0)
                return r;
        /* xend ignored parameters it did not know but int()ed the ones it did. */
        for (size_t i = 0; i < ELEMENTSOF(int_args); i++) {
                int64_t v = 0;

                r = arg_int(req, int_args[i], false, 0, 200, &v, rep);
                if (r <= 0)
                        return r;
        }
        if (d->domid == 0)
                return reply_err(rep, 200, "Cannot migrate privileged domain %s", d->name);
        if (!domain_is_active(d))
                return reply_err(rep, 200, "Domain '%s' is not running", d->name);
        xend_log(x, "Domain %s (%d) migrated to %s", d->name, d->domid, dst);
        /* The simulated destination always accepts; here the domain is gone. */
        r = xsim_domain_destroy(d, &e);
        if (r < 0)
                return reply_xv(rep, 200, &e, r);
        return reply_empty(rep, 200);
}

typedef struct DomainOp {
        const char *name;
        DomainOpFn fn;
        int min_config_version;         /* op unknown to older xend: 501 like theirs */
} DomainOp;

static const DomainOp domain_ops[] = {
        { "wait_for_devices",        op_wait_for_devices, 1 },
        { "unpause",                 op_unpause,          1 },
        { "pause",                   op_pause,            1 },
        { "shutdown",                op_shutdown,         1 },
        { "destroy",                 op_destroy,          1 },
        { "save",                    op_save,             1 },
        { "dump",                    op_dump,             1 },
        { "maxmem_set",              op_maxmem_set,       1 },
        { "mem_target_set",          op_mem_target_set,   1 },
        { "set_vcpus",               op_set_vcpus,        1 },
        { "pincpu",                  op_pincpu,           1 },
        { "device_create",           op_device_create,    1 },
        { "device_configure",        op_device_configure, 1 },
        { "device_destroy",          op_device_destroy,   1 },
        { "migrate",                 op_migrate,          1 },
        { "domain_sched_credit_set", op_sched_credit_set, 1 },
        { "vcpuinfo",                op_vcpuinfo,         1 },
        { "start",                   op_start,            3 },
        { "delete",                  op_delete,           3 },
};

/* ---------------------------------------------------------------- resources */

/* 1 and the request's op in @ret, or 0 when there is none (the reply says so), or -errno. */
static int get_op(const HttpRequest *req, const char **ret, XendReply *rep) {
        const char *op = http_request_arg(req, "op");

        if (isempty(op)) {
                int r = reply_text(rep, 406, "Invalid operation: no op given");

                return r < 0 ? r : 0;
        }
        *ret = op;
        return 1;
}

static int serve_domain(XsimXend *x, const HttpRequest *req, const char *name, XendReply *rep) {
        const char *op = http_request_arg(req, "op");
        bool post = streq(req->method, "POST");
        XsimDomain *d;
        int r;

        d = xsim_domain_lookup(x->host, name);
        /* libvirt took a 404 below /xend/domain/ as a plain "no such domain". */
        if (!d || (x->host->xend_config_version < 3 && !domain_is_active(d)))
                return reply_err(rep, 404, "Domain not found: %s", name);

        if (!post && !streq_ptr(op, "vcpuinfo"))
                return reply_domain(x, d, 200, rep);

        r = get_op(req, &op, rep);
        if (r <= 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(domain_ops); i++)
                if (streq(op, domain_ops[i].name) &&
                    x->host->xend_config_version >= domain_ops[i].min_config_version) {
                        xend_log(x, "op=%s on domain %s", op, d->name);
                        return domain_ops[i].fn(x, d, req, rep);
                }
        return reply_text(rep, 501, "Operation not implemented: %s", op);
}

static bool domain_in_state(const XsimDomain *d, const char *state) {
        if (streq(state, "all"))
                return true;
        if (streq(state, "halted"))
                return d->state == XSIM_STATE_HALTED;
        /* "running" was xend's default: every domain that has a domid. */
        if (streq(state, "running") || streq(state, "active"))
                return domain_is_active(d);
        if (streq(state, "paused"))
                return d->state == XSIM_STATE_PAUSED;
        if (streq(state, "shutdown") || streq(state, "suspended"))
                return d->state == XSIM_STATE_SHUTDOWN;
        if (streq(state, "crashed"))
                return d->state == XSIM_STATE_CRASHED;
        return false;
}

static int serve_domain_dir(XsimXend *x, const HttpRequest *req, XendReply *rep) {
        _cleanup_(sexpr_freep) Sexpr *s = NULL;
        const char *state = http_fields_get(req->query, "state") ?: "running";
        const char *detail = http_fields_get(req->query, "detail");
        const char *op = NULL;
        int r;

        if (streq(req->method, "POST")) {
                r = get_op(req, &op, rep);
                if (r <= 0)
                        return r;
                if (streq(op, "create"))
                        return op_create(x, req, rep);
                if (streq(op, "restore"))
                        return op_restore(x, req, rep);
                if (streq(op, "new") && x->host->xend_config_version >= 3)
                        return op_new(x, req, rep);
                return reply_text(rep, 501, "Operation not implemented: %s", op);
        }

        /* Before 3.0.4 there were no inactive domains and no state parameter. */
        if (x->host->xend_config_version < 3)
                state = "running";

        r = sexpr_new_list(NULL, &s);
        if (r < 0)
                return r;
        for (size_t i = 0; i < x->host->n_domains; i++) {
                XsimDomain *d = x->host->domains[i];

                if (!domain_in_state(d, state))
                        continue;
                if (streq_ptr(detail, "1")) {
                        Sexpr *ds = NULL;

                        r = domain_sexpr(x, d, &ds);
                        if (r < 0)
                                return r;
                        sexpr_add(s, ds);
                } else
                        sexpr_add_atom(s, d->name);
        }
        return reply_sexpr(rep, 200, s);
}


static int serve_node(XsimXend *x, const HttpRequest *req, const char *sub, XendReply *rep) {
        _cleanup_(sexpr_freep) Sexpr *s = NULL;
        const char *op = http_request_arg(req, "op");
        int r;

        if (streq_ptr(sub, "dmesg")) {
                bool clear = streq_ptr(op, "clear");
                int rr;

                if (x->dmesg_cleared)
                        rr = reply_text(rep, 200, "%s", "");
                else
                        rr = reply_text(rep, 200,
                                        "(XEN) Xen version %u.%u%s (xensim@xenvirt.test) (gcc version 4.1.2)\n"
                                        "(XEN) Command line: dom0_mem=%" PRIu64 "M\n"
                                        "(XEN) Scheduler: SMP Credit Scheduler (%s)\n"
                                        "(XEN) *** LOADING DOMAIN 0 ***\n"
                                        "(XEN) Xen trace buffers: disabled\n",
                                        x->host->xen_major, x->host->xen_minor, strempty(x->host->xen_extra),
                                        x->host->n_domains > 0 ? x->host->domains[0]->memory_kib / 1024 : 0,
                                        strempty(x->host->scheduler));
                if (clear)
                        x->dmesg_cleared = true;
                return rr;
        }
        if (streq_ptr(sub, "log"))
                return reply_text(rep, 200, "%s", strbuf_get(&x->log));
        if (sub)
                return reply_text(rep, 404, "Not found");

        if (streq(req->method, "POST")) {
                r = get_op(req, &op, rep);
                if (r <= 0)
                        return r;
                /* Host power: accepted and ignored, the simulated host stays up. */
                if (streq(op, "halt") || streq(op, "restart") || streq(op, "shutdown") || streq(op, "reboot"))
                        return reply_empty(rep, 200);
                return reply_text(rep, 501, "Operation not implemented: %s", op);
        }

        r = node_sexpr(x, &s);
        if (r < 0)
                return r;
        return reply_sexpr(rep, 200, s);
}

int xend_dispatch(XsimXend *x, const HttpRequest *req, XendReply *rep) {
        _cleanup_free_ char *copy = NULL;
        char *parts[XEND_URL_DEPTH_MAX], *p, *save = NULL;
        size_t n = 0;

        copy = strdup(req->path);
        if (!copy)
                return -ENOMEM;
        for (p = strtok_r(copy, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
                if (n >= XEND_URL_DEPTH_MAX)
                        return reply_text(rep, 404, "Not found");
                parts[n++] = p;
        }

        if (n == 0 || !streq(parts[0], "xend"))
                return reply_text(rep, 404, "Not found");
        if (n == 1) {
                _cleanup_(sexpr_freep) Sexpr *s = NULL;
                int r;

                r = sexpr_new_list(NULL, &s);
                if (r < 0)
                        return r;
                sexpr_add_atom(s, "node");
                sexpr_add_atom(s, "domain");
                return reply_sexpr(rep, 200, s);
        }
        if (streq(parts[1], "node") && n <= 3)
                return serve_node(x, req, n == 3 ? parts[2] : NULL, rep);
        if (streq(parts[1], "domain")) {
                if (n == 2)
                        return serve_domain_dir(x, req, rep);
                if (n == 3)
                        return serve_domain(x, req, parts[2], rep);
        }
        return reply_text(rep, 404, "Not found");
}
