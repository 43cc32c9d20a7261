/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xv-alloc.h"
#include "xv-call-context.h"
#include "xv-log.h"
#include "xv-parse-util.h"
#include "xv-strbuf.h"
#include "xv-xend.h"

#define XEND_CONFIG_VERSION_MAX 4               /* every later XenD still says 4 */

struct Xend {
        XendHttp *http;                         /* immutable after xend_new() */
        int config_version;                     /* 0 = not detected; accessed atomically */
};

_printf_(3, 4)
static int xend_errorf(XvError *error, xvp_error_code code, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = xv_error_setv(error, code, format, ap);
        va_end(ap);
        return xv_error_domain(error, XVP_FROM_XEND, r);
}

int xend_new(const char *socket_path, const char *tcp_hostport, uint64_t timeout_usec, Xend **ret) {
        _cleanup_(xend_freep) Xend *x = NULL;
        int r;

        if (!ret)
                return -EINVAL;
        x = new0(Xend, 1);
        if (!x)
                return -ENOMEM;
        r = xend_http_new(socket_path, tcp_hostport, timeout_usec, &x->http);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(x);
        return 0;
}

Xend *xend_free(Xend *x) {
        if (!x)
                return NULL;
        xend_http_free(x->http);
        return mfree(x);
}

bool xend_is_insecure(const Xend *x) {
        return x && xend_http_is_insecure(x->http);
}

const XendHttp *xend_get_http(const Xend *x) {
        return x ? x->http : NULL;
}

int xend_request(Xend *x, const char *method, const char *path, const char *form_body, XendReply **ret,
                 XvError *error) {
        if (!x)
                return -EINVAL;
        /* Every XenD request may wait (up to the request timeout): never on the daemon's loop
         * thread (see xv-call-context.h); the dispatcher retries the call on a worker. */
        if (!xv_call_may_block()) {
                (void) xv_call_would_block(error);
                return -EWOULDBLOCK;
        }
        return xend_http_call(x->http, method, path, form_body, ret, error);
}

static int reply_to_sexpr(const XendReply *reply, const char *path, Sexpr **ret, XvError *error) {
        XvError e = XV_ERROR_NULL;
        int r;

        if (reply->body_size > SEXPR_SIZE_MAX)
                return xend_errorf(error, XVP_ERR_INTERNAL,
                                   "Reply from XenD for '%.64s' is larger than %u bytes of S-expression",
                                   path, (unsigned) SEXPR_SIZE_MAX);
        r = sexpr_parse(reply->body, reply->body_size, ret, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                r = xend_errorf(error, XVP_ERR_INTERNAL, "Invalid S-expression from XenD for '%.64s': %s",
                                path, e.message ?: strerror(-r));
                xv_error_done(&e);
                return r;
        }
        return 0;
}

int xend_request_sexpr(Xend *x, const char *method, const char *path, const char *form_body, Sexpr **ret,
                       XvError *error) {
        _cleanup_(xend_reply_freep) XendReply *reply = NULL;
        int r;

        if (!ret)
                return -EINVAL;
        r = xend_request(x, method, path, form_body, &reply, error);
        if (r < 0)
                return r;
        return reply_to_sexpr(reply, path, ret, error);
}

/* ---------------------------------------------------------------- paths and forms */

/* "/xend/domain/<d>" plus "?query" when given. */
static int domain_path(const char *d, const char *query, char **ret, XvError *error) {
        StrBuf b = STRBUF_INIT;

        if (!xend_http_segment_valid(d))
                return xend_errorf(error, XVP_ERR_INVALID_ARG, "Invalid domain identifier '%s' for XenD",
                                   strempty(d));
        strbuf_append(&b, "/xend/domain/");
        xend_http_path_append(&b, d);
        if (query) {
                strbuf_appendc(&b, '?');
                strbuf_append(&b, query);
        }
        return strbuf_steal(&b, ret);
}

/* POSTs @form (consumed) to @path and checks the reply. */
static int post_form(Xend *x, const char *path, StrBuf *form, XendReply **ret, XvError *error) {
        _cleanup_free_ char *body = NULL;
        int r;

        r = strbuf_steal(form, &body);
        if (r < 0)
                return r;
        return xend_request(x, "POST", path, body, ret, error);
}

/* POST /xend/domain/<d> with @form (consumed, starting with op=...). */
static int domain_post(Xend *x, const char *d, StrBuf *form, XvError *error) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = domain_path(d, NULL, &path, error);
        if (r < 0) {
                strbuf_done(form);
                return r;
        }
        return post_form(x, path, form, NULL, error);
}

static int domain_op(Xend *x, const char *d, const char *op, XvError *error) {
        StrBuf form = STRBUF_INIT;

        xend_http_form_add(&form, "op", op);
        return domain_post(x, d, &form, error);
}

/* Requires config version >= @min for @what. */
static int require_version(Xend *x, int min, const char *what, XvError *error) {
        int v, r;

        r = xend_detect_config_version(x, &v, error);
        if (r < 0)
                return r;
        if (v < min)
                return xend_errorf(error, XVP_ERR_NO_SUPPORT,
                                   "XenD with config version %d does not support %s (needs %d)", v, what, min);
        return 0;
}

/* KiB → MiB, rounded up: XenD takes memory in MiB. */
static uint64_t kib_to_mib(uint64_t kib) {
        return kib / 1024 + (kib % 1024 != 0);
}

/* ---------------------------------------------------------------- host */

int xend_get_node(Xend *x, Sexpr **ret, XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *s = NULL;
        int r;

        if (!x || !ret)
                return -EINVAL;
        r = xend_request_sexpr(x, "GET", "/xend/node/", NULL, &s, error);
        if (r < 0)
                return r;
        if (!streq(strempty(sexpr_head(s)), "node"))
                return xend_errorf(error, XVP_ERR_INTERNAL,
                                   "XenD answered GET /xend/node/ without a (node ...)");
        *ret = TAKE_PTR(s);
        return 0;
}

static int config_version_from_node(const Sexpr *node, int *ret, XvError *error) {
        int v, r;

        /* Xen <= 3.0.2 did not report a format; libvirt took the absence as version 1. */
        r = sexpr_get_int(node, "node/xend_config_format", &v);
        if (r == -ENOENT)
                v = 1;
        else if (r < 0 || v < 1)
                return xend_errorf(error, XVP_ERR_INTERNAL, "Invalid xend_config_format '%s' from XenD",
                                   strnull(sexpr_node(node, "node/xend_config_format")));
        /* Every XenD after 3.1 keeps saying 4; anything higher is treated as 4. */
        *ret = MIN(v, XEND_CONFIG_VERSION_MAX);
        return 0;
}

int xend_detect_config_version(Xend *x, int *ret, XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *node = NULL;
        int v, r;

        if (!x || !ret)
                return -EINVAL;
        v = __atomic_load_n(&x->config_version, __ATOMIC_ACQUIRE);
        if (v > 0) {
                *ret = v;
                return 0;
        }
        r = xend_get_node(x, &node, error);
        if (r < 0)
                return r;
        r = config_version_from_node(node, &v, error);
        if (r < 0)
                return r;
        /* Two threads may both ask; they store the same value. */
        __atomic_store_n(&x->config_version, v, __ATOMIC_RELEASE);
        *ret = v;
        return 0;
}

int xend_get_config_version(const Xend *x) {
        return x ? __atomic_load_n(&x->config_version, __ATOMIC_ACQUIRE) : 0;
}

void xend_reset_config_version(Xend *x) {
        if (x)
                __atomic_store_n(&x->config_version, 0, __ATOMIC_RELEASE);
}

void xend_node_info_done(XendNodeInfo *info) {
        if (!info)
                return;
        free(info->xen_extra);
        free(info->xen_caps);
        free(info->xen_scheduler);
        free(info->node_to_cpu);
        *info = (XendNodeInfo) {};
}

/* An optional unsigned count: @def when absent, an error when present and malformed. */
static int node_unsigned(const Sexpr *node, const char *key, unsigned def, unsigned *ret, XvError *error) {
        char path[64];
        uint64_t v;
        int r;

        (void) snprintf(path, sizeof(path), "node/%s", key);
        r = sexpr_get_u64(node, path, &v);
        if (r == -ENOENT) {
                *ret = def;
                return 0;
        }
        if (r < 0 || v > UINT32_MAX)
                return xend_errorf(error, XVP_ERR_INTERNAL, "Invalid %s '%s' from XenD", key,
                                   strnull(sexpr_node(node, path)));
        *ret = (unsigned) v;
        return 0;
}

static int node_string(const Sexpr *node, const char *key, char **ret) {
        char path[64];
        const char *v;

        (void) snprintf(path, sizeof(path), "node/%s", key);
        v = sexpr_node(node, path);
        return strdup_or_null(v, ret);
}

int xend_node_info_from_sexpr(const Sexpr *node, XendNodeInfo *ret, XvError *error) {
        _cleanup_(xend_node_info_done) XendNodeInfo info = {};
        unsigned per_socket;
        const char *machine;
        uint64_t v;
        int r;

        if (!node || !ret)
                return -EINVAL;
        if (!streq(strempty(sexpr_head(node)), "node"))
                return xend_errorf(error, XVP_ERR_INTERNAL, "Node information from XenD is not a (node ...)");

        r = sexpr_get_u64(node, "node/nr_cpus", &v);
        if (r < 0 || v == 0 || v > UINT32_MAX)
                return xend_errorf(error, XVP_ERR_INTERNAL, "Missing or invalid nr_cpus '%s' from XenD",
                                   strnull(sexpr_node(node, "node/nr_cpus")));
        info.node.cpus = (unsigned) v;
        r = sexpr_get_u64(node, "node/total_memory", &v);
        if (r < 0 || v > UINT64_MAX / 1024)
                return xend_errorf(error, XVP_ERR_INTERNAL, "Missing or invalid total_memory '%s' from XenD",
                                   strnull(sexpr_node(node, "node/total_memory")));
        info.node.memory_kib = v * 1024;        /* XenD reports MiB */

        r = sexpr_get_u64(node, "node/free_memory", &v);
        if (r == -ENOENT)
                info.free_memory_kib = UINT64_MAX;
        else if (r < 0 || v > UINT64_MAX / 1024)
                return xend_errorf(error, XVP_ERR_INTERNAL, "Invalid free_memory '%s' from XenD",
                                   strnull(sexpr_node(node, "node/free_memory")));
        else
                info.free_memory_kib = v * 1024;

        r = node_unsigned(node, "cpu_mhz", 0, &info.node.mhz, error);
        if (r < 0)
                return r;
        r = node_unsigned(node, "nr_nodes", 1, &info.node.nodes, error);
        if (r < 0)
                return r;
        r = node_unsigned(node, "sockets_per_node", 0, &info.node.sockets, error);
        if (r < 0)
                return r;
        r = node_unsigned(node, "cores_per_socket", 1, &info.node.cores, error);
        if (r < 0)
                return r;
        r = node_unsigned(node, "threads_per_core", 1, &info.node.threads, error);
        if (r < 0)
                return r;
        r = node_unsigned(node, "xen_major", 0, &info.xen_major, error);
        if (r < 0)
                return r;
        r = node_unsigned(node, "xen_minor", 0, &info.xen_minor, error);
        if (r < 0)
                return r;
        r = config_version_from_node(node, &info.xend_config_format, error);
        if (r < 0)
                return r;

        if (info.node.nodes == 0)
                info.node.nodes = 1;
        if (info.node.cores == 0)
                info.node.cores = 1;
        if (info.node.threads == 0)
                info.node.threads = 1;
        /* Xen 3.2 changed sockets_per_node from the host's socket count to a per-node count (and
         * older XenD may omit it). Whenever nodes × sockets × cores × threads does not give
         * nr_cpus, derive the per-node socket count from nr_cpus, at least 1. */
        per_socket = info.node.cores * info.node.threads;
        if ((uint64_t) info.node.nodes * info.node.sockets * per_socket != info.node.cpus) {
                uint64_t s = info.node.cpus / ((uint64_t) info.node.nodes * per_socket);

                info.node.sockets = (unsigned) MAX(s, (uint64_t) 1);
        }

        machine = sexpr_node(node, "node/machine");
        (void) snprintf(info.node.model, sizeof(info.node.model), "%s", machine ?: "");

        r = node_string(node, "xen_extra", &info.xen_extra);
        if (r >= 0)
                r = node_string(node, "xen_caps", &info.xen_caps);
        if (r >= 0)
                r = node_string(node, "xen_scheduler", &info.xen_scheduler);
        if (r >= 0)
                r = node_string(node, "node_to_cpu", &info.node_to_cpu);
        if (r < 0)
                return r;

        *ret = info;
        info = (XendNodeInfo) {};
        return 0;
}

int xend_node_info(Xend *x, XendNodeInfo *ret, XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *node = NULL;
        int r;

        if (!x || !ret)
                return -EINVAL;
        r = xend_get_node(x, &node, error);
        if (r < 0)
                return r;
        r = xend_node_info_from_sexpr(node, ret, error);
        if (r < 0)
                return r;
        __atomic_store_n(&x->config_version, ret->xend_config_format, __ATOMIC_RELEASE);
        return 0;
}

/* A decimal number at *p, advancing it; at most @max. */
static bool scan_number(const char **p, unsigned max, unsigned *ret) {
        const char *s = *p;
        uint64_t v = 0;

        if (*s < '0' || *s > '9')
                return false;
        for (; *s >= '0' && *s <= '9'; s++) {
                v = v * 10 + (uint64_t) (*s - '0');
                if (v > max)
                        return false;
        }
        *p = s;
        *ret = (unsigned) v;
        return true;
}

static int node_to_cpu_invalid(const char *text, XvError *error) {
        return xend_errorf(error, XVP_ERR_INTERNAL, "Invalid node_to_cpu '%.128s' from XenD", text);
}

int xend_parse_node_to_cpu(const char *text, unsigned nr_cpus, int **ret_cpu_node, XvError *error) {
        _cleanup_free_ int *map = NULL;
        const char *p = text;

        if (!text || !ret_cpu_node || nr_cpus == 0 || nr_cpus > XEND_CPUS_MAX)
                return -EINVAL;
        map = new(int, nr_cpus);
        if (!map)
                return -ENOMEM;
        for (unsigned i = 0; i < nr_cpus; i++)
                map[i] = -1;

        for (;;) {
                unsigned node;

                /* XendNode continued its lines with blanks. */
                p += strspn(p, " \t\r\n");
                if (*p == '\0')
                        break;
                if (strncmp(p, "node", 4) != 0)
                        return node_to_cpu_invalid(text, error);
                p += 4;
                if (!scan_number(&p, XEND_NODES_MAX - 1, &node) || *p != ':')
                        return node_to_cpu_invalid(text, error);
                p++;
                if (strncmp(p, "no cpus", 7) == 0) {
                        p += 7;
                        continue;
                }
                for (;;) {
                        unsigned a, b;

                        if (!scan_number(&p, nr_cpus - 1, &a))
                                return node_to_cpu_invalid(text, error);
                        b = a;
                        if (*p == '-') {
                                p++;
                                if (!scan_number(&p, nr_cpus - 1, &b) || b < a)
                                        return node_to_cpu_invalid(text, error);
                        }
                        for (unsigned c = a; c <= b; c++)
                                map[c] = (int) node;
                        if (*p != ',')
                                break;
                        p++;
                }
                if (*p != '\0' && !strchr(" \t\r\n", *p))
                        return node_to_cpu_invalid(text, error);
        }
        *ret_cpu_node = TAKE_PTR(map);
        return 0;
}

/* ---------------------------------------------------------------- domain lists */

int xend_list_domain_names(Xend *x, bool halted, char ***ret, XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *s = NULL;
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;
        int r;

        if (!x || !ret)
                return -EINVAL;
        if (halted) {
                r = require_version(x, 3, "inactive domains", error);
                if (r < 0)
                        return r;
        }
        r = xend_request_sexpr(x, "GET", halted ? "/xend/domain?state=halted" : "/xend/domain", NULL, &s,
                               error);
        if (r < 0)
                return r;
        /* The answer is a list of names: (Domain-0 guest1 ...), or () when empty. */
        if (!sexpr_is_list(s))
                return xend_errorf(error, XVP_ERR_INTERNAL, "Domain list from XenD is not a list");
        if (sexpr_n_items(s) > XEND_DOMAIN_NAMES_MAX)
                return xend_errorf(error, XVP_ERR_INTERNAL, "Domain list from XenD has more than %u names",
                                   XEND_DOMAIN_NAMES_MAX);
        names = new0(char *, sexpr_n_items(s) + 1);
        if (!names)
                return -ENOMEM;
        for (size_t i = 0; i < sexpr_n_items(s); i++) {
                const char *name = sexpr_atom(sexpr_item(s, i));

                if (isempty(name))
                        return xend_errorf(error, XVP_ERR_INTERNAL, "Domain list from XenD holds a non-name");
                names[n] = strdup(name);
                if (!names[n])
                        return -ENOMEM;
                n++;
        }
        *ret = TAKE_PTR(names);
        return 0;
}

/* Moves the items of @s from index @first on that are lists with head @item into a new list
 * (@new_head ...), so that SEXPR_FOREACH_CHILD() visits exactly them. */
static int extract_items(Sexpr *s, size_t first, const char *item, const char *new_head, Sexpr **ret) {
        _cleanup_(sexpr_freep) Sexpr *l = NULL;
        int r;

        r = sexpr_new_list(new_head, &l);
        if (r < 0)
                return r;
        for (size_t i = first; s && i < s->n_items; i++) {
                if (!streq_ptr(sexpr_head(s->items[i]), item))
                        continue;
                if (!sexpr_add(l, TAKE_PTR(s->items[i])))
                        return -ENOMEM;
        }
        r = sexpr_check(l);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

static bool sxp_blank(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Skips the quoted string whose opening quote is at s[*i]; leaves *i on the closing quote. */
static bool skip_quoted(const char *s, size_t n, size_t *i) {
        char q = s[*i];

        for ((*i)++; *i < n; (*i)++) {
                if (s[*i] == '\\')
                        (*i)++;         /* the escaped character, whatever it is */
                else if (s[*i] == q)
                        return true;
        }
        return false;
}

/* The end (one past) of the item that starts at s[i]: a list, a quoted string or a bare word,
 * lexed the way xv-sexpr.c reads them. False when the item is not complete. */
static bool scan_item(const char *s, size_t n, size_t i, size_t *ret_end) {
        size_t depth = 0;

        if (s[i] == '\'' || s[i] == '"') {
                if (!skip_quoted(s, n, &i))
                        return false;
                *ret_end = i + 1;
                return true;
        }
        if (s[i] != '(') {
                while (i < n && !sxp_blank(s[i]) && s[i] != '(' && s[i] != ')' && s[i] != '\'' && s[i] != '"' &&
                       s[i] != '\0')
                        i++;
                *ret_end = i;
                return true;
        }
        for (; i < n; i++) {
                if (s[i] == '\'' || s[i] == '"') {
                        if (!skip_quoted(s, n, &i))
                                return false;
                } else if (s[i] == '(')
                        depth++;
                else if (s[i] == ')' && --depth == 0) {
                        *ret_end = i + 1;
                        return true;
                }
        }
        return false;
}

/*
 * Parses a reply that is one list of lists, "((item ...) (item ...) ...)", item by item, and
 * returns the items with head @item as (@new_head (item ...) ...). The S-expression parser's
 * bound (SEXPR_SIZE_MAX) then applies to each item instead of the whole reply, which for a
 * detailed list of a few thousand domains is several MiB (the reply itself is bounded by
 * XEND_REPLY_SIZE_MAX). At most @max_items items are accepted.
 */
typedef int (*ItemFunc)(Sexpr *item, void *userdata);

/* Calls @f on each item with head @item, parsed one at a time; @f takes ownership of it (see
 * parse_list_items()). */
static int walk_list_items(const XendReply *reply, const char *path, const char *item, size_t max_items,
                           ItemFunc f, void *userdata, XvError *error) {
        const char *s = reply->body;
        size_t n = reply->body_size, i = 0, count = 0;
        int r;

        while (i < n && sxp_blank(s[i]))
                i++;
        if (i >= n || s[i] != '(')
                return xend_errorf(error, XVP_ERR_INTERNAL, "Reply from XenD for '%.64s' is not a list", path);
        i++;
        for (;;) {
                _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
                _cleanup_(sexpr_freep) Sexpr *it = NULL;
                size_t end;

                while (i < n && sxp_blank(s[i]))
                        i++;
                /* The end of the list; like the parser, a missing final ')' is tolerated. */
                if (i >= n || s[i] == ')')
                        break;
                /* end > i always, except at a NUL byte, which no S-expression holds outside a string. */
                if (!scan_item(s, n, i, &end) || end <= i)
                        return xend_errorf(error, XVP_ERR_INTERNAL,
                                           "Invalid S-expression from XenD for '%.64s': unterminated item at byte %zu",
                                           path, i);
                if (s[i] != '(') {      /* a bare atom among the items: not ours */
                        i = end;
                        continue;
                }
                if (++count > max_items)
                        return xend_errorf(error, XVP_ERR_INTERNAL,
                                           "Reply from XenD for '%.64s' has more than %zu items", path, max_items);
                if (end - i > SEXPR_SIZE_MAX)
                        return xend_errorf(error, XVP_ERR_INTERNAL,
                                           "Item of %zu bytes in the reply from XenD for '%.64s' is too large",
                                           end - i, path);
                r = sexpr_parse(s + i, end - i, &it, &e);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return xend_errorf(error, XVP_ERR_INTERNAL,
                                           "Invalid S-expression from XenD for '%.64s' at byte %zu: %s",
                                           path, i, strnull(e.message));
                if (streq(strempty(sexpr_head(it)), item)) {
                        r = f(TAKE_PTR(it), userdata);
                        if (r < 0)
                                return r;
                }
                i = end;
        }
        return 0;
}

static int item_add(Sexpr *item, void *userdata) {
        return sexpr_add(userdata, item) ? 0 : -ENOMEM;
}

static int parse_list_items(const XendReply *reply, const char *path, const char *item, const char *new_head,
                            size_t max_items, Sexpr **ret, XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *l = NULL;
        int r;

        r = sexpr_new_list(new_head, &l);
        if (r < 0)
                return r;
        r = walk_list_items(reply, path, item, max_items, item_add, l, error);
        if (r < 0)
                return r;
        r = sexpr_check(l);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

/* Whether the reply is a lone (domain ...) rather than a list of them. */
static bool reply_is_lone_domain(const XendReply *reply) {
        for (size_t i = 0; i < reply->body_size; i++) {
                if (sxp_blank(reply->body[i]))
                        continue;
                return reply->body[i] == '(' && reply->body_size - i > 7 &&
                       memcmp(reply->body + i + 1, "domain", 6) == 0 &&
                       (sxp_blank(reply->body[i + 7]) || reply->body[i + 7] == '(' || reply->body[i + 7] == ')');
        }
        return false;
}

/* The answer is a list of (domain ...) items, "((domain ...) (domain ...))", or "()". A lone
 * (domain ...) is accepted too. */
static int parse_list_detail(const XendReply *reply, const char *path, Sexpr **ret, XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *s = NULL, *wrap = NULL;
        int r;

        if (!reply_is_lone_domain(reply))
                return parse_list_items(reply, path, "domain", "domains", XEND_DOMAIN_NAMES_MAX, ret, error);
        r = reply_to_sexpr(reply, path, &s, error);
        if (r < 0)
                return r;
        r = sexpr_new_list(NULL, &wrap);
        if (r < 0)
                return r;
        if (!sexpr_add(wrap, TAKE_PTR(s)))
                return -ENOMEM;
        return extract_items(wrap, 0, "domain", "domains", ret);
}

/* GET /xend/domain?detail=1, with state=all when @include_halted and XenD knows inactive domains. */
static int request_list_detail(Xend *x, bool include_halted, XendReply **ret, const char **ret_path,
                               XvError *error) {
        const char *path = "/xend/domain?detail=1";
        int v, r;

        if (include_halted) {
                r = xend_detect_config_version(x, &v, error);
                if (r < 0)
                        return r;
                /* Inactive domains exist only from 3.0.4 (config version 3) on; that XenD's
                 * XendDomain.list() takes the state 'all' for active and managed domains together. */
                if (v >= 3)
                        path = "/xend/domain?detail=1&state=all";
        }
        r = xend_request(x, "GET", path, NULL, ret, error);
        if (r < 0)
                return r;
        *ret_path = path;
        return 0;
}

int xend_list_domains_detail(Xend *x, bool include_halted, Sexpr **ret, XvError *error) {
        _cleanup_(xend_reply_freep) XendReply *reply = NULL;
        const char *path;
        int r;

        if (!x || !ret)
                return -EINVAL;
        r = request_list_detail(x, include_halted, &reply, &path, error);
        if (r < 0)
                return r;
        return parse_list_detail(reply, path, ret, error);
}

typedef struct DomainWalk {
        XendDomainFunc f;
        void *userdata;
} DomainWalk;

static int domain_walk_one(Sexpr *item, void *userdata) {
        _cleanup_(sexpr_freep) Sexpr *it = item;
        DomainWalk *w = userdata;

        return w->f(it, w->userdata);
}

int xend_foreach_domain_detail(Xend *x, bool include_halted, XendDomainFunc f, void *userdata, XvError *error) {
        _cleanup_(xend_reply_freep) XendReply *reply = NULL;
        DomainWalk w = { .f = f, .userdata = userdata };
        const char *path;
        int r;

        if (!x || !f)
                return -EINVAL;
        r = request_list_detail(x, include_halted, &reply, &path, error);
        if (r < 0)
                return r;
        if (reply_is_lone_domain(reply)) {
                /* One domain (an old XenD's answer): parsed whole, it is small. */
                _cleanup_(sexpr_freep) Sexpr *all = NULL;

                r = parse_list_detail(reply, path, &all, error);
                if (r < 0)
                        return r;
                SEXPR_FOREACH_CHILD(d, all) {
                        r = f(d, userdata);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        return walk_list_items(reply, path, "domain", XEND_DOMAIN_NAMES_MAX, domain_walk_one, &w, error);
}

int xend_parse_list_detail(const char *body, size_t size, Sexpr **ret, XvError *error) {
        XendReply reply = { .status = 200, .body = (char *) body, .body_size = size };

        if (!body || !ret)
                return -EINVAL;
        return parse_list_detail(&reply, "/xend/domain?detail=1", ret, error);
}

/* ---------------------------------------------------------------- one domain */

int xend_domain_get(Xend *x, const char *d, Sexpr **ret, XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *s = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        if (!x || !ret)
                return -EINVAL;
        r = domain_path(d, "detail=1", &path, error);
        if (r < 0)
                return r;
        r = xend_request_sexpr(x, "GET", path, NULL, &s, error);
        if (r < 0)
                return r;
        if (!streq(strempty(sexpr_head(s)), "domain"))
                return xend_errorf(error, XVP_ERR_INTERNAL,
                                   "XenD answered for domain '%s' without a (domain ...)", d);
        *ret = TAKE_PTR(s);
        return 0;
}

int xend_domain_vcpuinfo(Xend *x, const char *d, Sexpr **ret, XvError *error) {
        _cleanup_(sexpr_freep) Sexpr *s = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        if (!x || !ret)
                return -EINVAL;
        r = domain_path(d, "op=vcpuinfo", &path, error);
        if (r < 0)
                return r;
        r = xend_request_sexpr(x, "GET", path, NULL, &s, error);
        if (r < 0)
                return r;
        if (!sexpr_is_list(s))
                return xend_errorf(error, XVP_ERR_INTERNAL, "vcpu information from XenD is not a list");
        /* 3.0.4 and later: (domain (domid 3) ... (vcpu ...) (vcpu ...)); before: ((vcpu ...) ...).
         * A lone (vcpu ...) (one vcpu, printed without the outer list) is accepted too. */
        if (streq(strempty(sexpr_head(s)), "vcpu")) {
                _cleanup_(sexpr_freep) Sexpr *wrap = NULL;

                r = sexpr_new_list(NULL, &wrap);
                if (r < 0)
                        return r;
                if (!sexpr_add(wrap, TAKE_PTR(s)))
                        return -ENOMEM;
                return extract_items(wrap, 0, "vcpu", "vcpus", ret);
        }
        return extract_items(s, sexpr_head(s) ? 1 : 0, "vcpu", "vcpus", ret);
}

int xend_vcpu_cpumap(const Sexpr *vcpu, uint8_t *map, size_t maplen) {
        const Sexpr *cpumap, *l;
        int n = 0;

        if (!map && maplen > 0)
                return -EINVAL;
        if (maplen > 0)
                memset(map, 0, maplen);
        cpumap = sexpr_lookup(vcpu, "vcpu/cpumap");
        if (!cpumap)
                return -ENOENT;
        /* (cpumap (0 1 2)): the items of the inner list, head included; (cpumap 0 1 2): the children. */
        l = sexpr_item(cpumap, 1);
        if (sexpr_is_list(l) && sexpr_n_items(cpumap) == 2) {
                for (size_t i = 0; i < sexpr_n_items(l); i++) {
                        uint32_t c;

                        if (safe_atou32(strempty(sexpr_atom(sexpr_item(l, i))), &c) < 0)
                                return -EINVAL;
                        if (c / 8 < maplen && !(map[c / 8] & (1u << (c % 8)))) {
                                map[c / 8] |= (uint8_t) (1u << (c % 8));
                                n++;
                        }
                }
                return n;
        }
        SEXPR_FOREACH_CHILD(c, cpumap) {
                uint32_t v;

                if (safe_atou32(strempty(sexpr_atom(c)), &v) < 0)
                        return -EINVAL;
                if (v / 8 < maplen && !(map[v / 8] & (1u << (v % 8)))) {
                        map[v / 8] |= (uint8_t) (1u << (v % 8));
                        n++;
                }
        }
        return n;
}

/* ---------------------------------------------------------------- domain creation */

/* POST /xend/domain/ with @form (consumed); the answer parsed when it is an S-expression. */
static int domain_dir_post(Xend *x, StrBuf *form, Sexpr **ret, XvError *error) {
        _cleanup_(xend_reply_freep) XendReply *reply = NULL;
        _cleanup_(sexpr_freep) Sexpr *s = NULL;
        int r;

        r = post_form(x, "/xend/domain/", form, &reply, error);
        if (r < 0)
                return r;
        if (!ret)
                return 0;
        /* XenD answers the new domain's (domain ...) (SrvDomainDir: 201 + the domain's SXP); an empty
         * or unparsable body is no failure: the operation succeeded. */
        if (reply->body_size > 0 && reply->body_size <= SEXPR_SIZE_MAX)
                (void) sexpr_parse(reply->body, reply->body_size, &s, NULL);
        *ret = TAKE_PTR(s);
        return 0;
}

static int check_text(const char *value, const char *what, XvError *error) {
        if (isempty(value))
                return xend_errorf(error, XVP_ERR_INVALID_ARG, "Missing %s for XenD", what);
        return 0;
}

int xend_domain_create(Xend *x, const char *config, Sexpr **ret, XvError *error) {
        StrBuf form = STRBUF_INIT;
        int r;

        if (!x)
                return -EINVAL;
        r = check_text(config, "domain configuration", error);
        if (r < 0)
                return r;
        xend_http_form_add(&form, "op", "create");
        xend_http_form_add(&form, "config", config);
        return domain_dir_post(x, &form, ret, error);
}

int xend_domain_new(Xend *x, const char *config, Sexpr **ret, XvError *error) {
        StrBuf form = STRBUF_INIT;
        int r;

        if (!x)
                return -EINVAL;
        r = check_text(config, "domain configuration", error);
        if (r < 0)
                return r;
        r = require_version(x, 3, "defining inactive domains", error);
        if (r < 0)
                return r;
        xend_http_form_add(&form, "op", "new");
        xend_http_form_add(&form, "config", config);
        return domain_dir_post(x, &form, ret, error);
}

int xend_domain_restore(Xend *x, const char *file, Sexpr **ret, XvError *error) {
        StrBuf form = STRBUF_INIT;
        int r;

        if (!x)
                return -EINVAL;
        r = check_text(file, "file name", error);
        if (r < 0)
                return r;
        xend_http_form_add(&form, "op", "restore");
        xend_http_form_add(&form, "file", file);
        return domain_dir_post(x, &form, ret, error);
}

/* ---------------------------------------------------------------- domain operations */

int xend_domain_wait_for_devices(Xend *x, const char *d, XvError *error) {
        return domain_op(x, d, "wait_for_devices", error);
}

int xend_domain_unpause(Xend *x, const char *d, XvError *error) {
        return domain_op(x, d, "unpause", error);
}

int xend_domain_pause(Xend *x, const char *d, XvError *error) {
        return domain_op(x, d, "pause", error);
}

int xend_domain_shutdown(Xend *x, const char *d, const char *reason, XvError *error) {
        StrBuf form = STRBUF_INIT;

        if (!reason || !(streq(reason, "poweroff") || streq(reason, "reboot") || streq(reason, "halt")))
                return xend_errorf(error, XVP_ERR_INVALID_ARG, "Invalid shutdown reason '%s' for XenD",
                                   strnull(reason));
        xend_http_form_add(&form, "op", "shutdown");
        xend_http_form_add(&form, "reason", reason);
        return domain_post(x, d, &form, error);
}

int xend_domain_destroy(Xend *x, const char *d, XvError *error) {
        return domain_op(x, d, "destroy", error);
}

int xend_domain_save(Xend *x, const char *d, const char *file, XvError *error) {
        StrBuf form = STRBUF_INIT;
        int r;

        r = check_text(file, "file name", error);
        if (r < 0)
                return r;
        xend_http_form_add(&form, "op", "save");
        xend_http_form_add(&form, "file", file);
        return domain_post(x, d, &form, error);
}

int xend_domain_dump(Xend *x, const char *d, const char *file, bool live, bool crash, XvError *error) {
        StrBuf form = STRBUF_INIT;
        int r;

        r = check_text(file, "file name", error);
        if (r < 0)
                return r;
        xend_http_form_add(&form, "op", "dump");
        xend_http_form_add(&form, "file", file);
        xend_http_form_add(&form, "live", live ? "1" : "0");
        xend_http_form_add(&form, "crash", crash ? "1" : "0");
        return domain_post(x, d, &form, error);
}

int xend_domain_maxmem_set(Xend *x, const char *d, uint64_t kib, XvError *error) {
        StrBuf form = STRBUF_INIT;

        xend_http_form_add(&form, "op", "maxmem_set");
        xend_http_form_addf(&form, "memory", "%" PRIu64, kib_to_mib(kib));
        return domain_post(x, d, &form, error);
}

int xend_domain_mem_target_set(Xend *x, const char *d, uint64_t kib, XvError *error) {
        StrBuf form = STRBUF_INIT;

        xend_http_form_add(&form, "op", "mem_target_set");
        xend_http_form_addf(&form, "target", "%" PRIu64, kib_to_mib(kib));
        return domain_post(x, d, &form, error);
}

int xend_domain_set_vcpus(Xend *x, const char *d, unsigned n, XvError *error) {
        StrBuf form = STRBUF_INIT;

        if (n == 0)
                return xend_errorf(error, XVP_ERR_INVALID_ARG, "Cannot set 0 vcpus");
        xend_http_form_add(&form, "op", "set_vcpus");
        xend_http_form_addf(&form, "vcpus", "%u", n);
        return domain_post(x, d, &form, error);
}

/* "0,1,5": non-empty, digits separated by single commas. */
static bool cpu_list_valid(const char *s) {
        bool digit = false;

        if (isempty(s))
                return false;
        for (; *s; s++) {
                if (*s >= '0' && *s <= '9')
                        digit = true;
                else if (*s == ',' && digit)
                        digit = false;
                else
                        return false;
        }
        return digit;
}

int xend_domain_pincpu(Xend *x, const char *d, unsigned vcpu, const char *cpus, XvError *error) {
        StrBuf form = STRBUF_INIT;
        int v, r;

        if (!x)
                return -EINVAL;
        if (!cpu_list_valid(cpus))
                return xend_errorf(error, XVP_ERR_INVALID_ARG, "Invalid cpu list '%s' for XenD", strnull(cpus));
        r = xend_detect_config_version(x, &v, error);
        if (r < 0)
                return r;
        xend_http_form_add(&form, "op", "pincpu");
        xend_http_form_addf(&form, "vcpu", "%u", vcpu);
        /* XenD before 3.0.4 evaluated the map as a Python list literal. */
        if (v < 3)
                xend_http_form_addf(&form, "cpumap", "[%s]", cpus);
        else
                xend_http_form_add(&form, "cpumap", cpus);
        return domain_post(x, d, &form, error);
}

int xend_cpumap_format(const uint8_t *map, size_t maplen, char **ret) {
        StrBuf b = STRBUF_INIT;

        if (!ret || (!map && maplen > 0))
                return -EINVAL;
        for (size_t i = 0; i < maplen * 8; i++)
                if (map[i / 8] & (1u << (i % 8)))
                        strbuf_appendf(&b, "%s%zu", b.len > 0 ? "," : "", i);
        return strbuf_steal(&b, ret);
}

int xend_domain_pincpu_map(Xend *x, const char *d, unsigned vcpu, const uint8_t *map, size_t maplen,
                           XvError *error) {
        _cleanup_free_ char *cpus = NULL;
        int r;

        r = xend_cpumap_format(map, maplen, &cpus);
        if (r < 0)
                return r;
        if (isempty(cpus))
                return xend_errorf(error, XVP_ERR_INVALID_ARG, "Cannot pin a vcpu to no cpu");
        return xend_domain_pincpu(x, d, vcpu, cpus, error);
}

int xend_domain_device_create(Xend *x, const char *d, const char *config, XvError *error) {
        StrBuf form = STRBUF_INIT;
        int r;

        r = check_text(config, "device configuration", error);
        if (r < 0)
                return r;
        xend_http_form_add(&form, "op", "device_create");
        xend_http_form_add(&form, "config", config);
        return domain_post(x, d, &form, error);
}

int xend_domain_device_configure(Xend *x, const char *d, const char *config, const char *dev, XvError *error) {
        StrBuf form = STRBUF_INIT;
        int r;

        r = check_text(config, "device configuration", error);
        if (r >= 0)
                r = check_text(dev, "device id", error);
        if (r < 0)
                return r;
        xend_http_form_add(&form, "op", "device_configure");
        xend_http_form_add(&form, "config", config);
        xend_http_form_add(&form, "dev", dev);
        return domain_post(x, d, &form, error);
}

int xend_domain_device_destroy(Xend *x, const char *d, const char *type, const char *dev, bool force,
                               bool rm_cfg, XvError *error) {
        StrBuf form = STRBUF_INIT;
        int r;

        r = check_text(type, "device type", error);
        if (r >= 0)
                r = check_text(dev, "device id", error);
        if (r < 0)
                return r;
        xend_http_form_add(&form, "op", "device_destroy");
        xend_http_form_add(&form, "type", type);
        xend_http_form_add(&form, "dev", dev);
        xend_http_form_add(&form, "force", force ? "1" : "0");
        xend_http_form_add(&form, "rm_cfg", rm_cfg ? "1" : "0");
        return domain_post(x, d, &form, error);
}

int xend_domain_start(Xend *x, const char *d, XvError *error) {
        int r;

        if (!x)
                return -EINVAL;
        r = require_version(x, 3, "starting inactive domains", error);
        if (r < 0)
                return r;
        return domain_op(x, d, "start", error);
}

int xend_domain_delete(Xend *x, const char *d, XvError *error) {
        int r;

        if (!x)
                return -EINVAL;
        r = require_version(x, 3, "deleting inactive domains", error);
        if (r < 0)
                return r;
        return domain_op(x, d, "delete", error);
}

int xend_domain_migrate(Xend *x, const char *d, const char *destination, bool live, unsigned port,
                        XvError *error) {
        StrBuf form = STRBUF_INIT;
        int r;

        r = check_text(destination, "migration destination", error);
        if (r < 0)
                return r;
        if (port > 65535)
                return xend_errorf(error, XVP_ERR_INVALID_ARG, "Invalid migration port %u", port);
        xend_http_form_add(&form, "op", "migrate");
        xend_http_form_add(&form, "destination", destination);
        xend_http_form_add(&form, "live", live ? "1" : "0");
        xend_http_form_addf(&form, "port", "%u", port);
        xend_http_form_add(&form, "node", "-1");
        xend_http_form_add(&form, "ssl", "0");
        xend_http_form_add(&form, "change_home_server", "0");
        xend_http_form_add(&form, "resource", "0");
        return domain_post(x, d, &form, error);
}

int xend_domain_sched_credit_set(Xend *x, const char *d, unsigned weight, unsigned cap, XvError *error) {
        StrBuf form = STRBUF_INIT;

        xend_http_form_add(&form, "op", "domain_sched_credit_set");
        xend_http_form_addf(&form, "weight", "%u", weight);
        xend_http_form_addf(&form, "cap", "%u", cap);
        return domain_post(x, d, &form, error);
}
