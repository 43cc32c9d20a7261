/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xv-alloc.h"
#include "xv-xen-chr.h"

/* The type names Xen (and qemu-dm behind it) understand as a prefix. "telnet" is a tcp device
 * speaking the telnet protocol; "dev" is not a prefix: a device is given by its absolute path. */
static const char * const chr_prefix[] = {
        [DOMAIN_CHR_NULL]  = "null",
        [DOMAIN_CHR_VC]    = "vc",
        [DOMAIN_CHR_PTY]   = "pty",
        [DOMAIN_CHR_FILE]  = "file",
        [DOMAIN_CHR_PIPE]  = "pipe",
        [DOMAIN_CHR_STDIO] = "stdio",
        [DOMAIN_CHR_UDP]   = "udp",
        [DOMAIN_CHR_TCP]   = "tcp",
        [DOMAIN_CHR_UNIX]  = "unix",
};

/* Copies [s, s + n) into *ret, or leaves *ret NULL for an empty range (an absent host). */
static int dup_range(const char *s, size_t n, char **ret) {
        char *p;

        if (n == 0) {
                *ret = NULL;
                return 0;
        }

        p = strndup(s, n);
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

/* Parses the ",server,nowait" style options that follow a tcp or unix address. */
static int parse_options(const char *spec, const char *opts, bool *ret_listen, XvError *error) {
        bool listen = false;

        while (*opts) {
                const char *end;
                size_t n;

                assert(*opts == ',');
                opts++;
                end = strchrnul(opts, ',');
                n = end - opts;

                if (n == 6 && strncmp(opts, "server", n) == 0)
                        listen = true;
                else if ((n == 6 && strncmp(opts, "nowait", n) == 0) ||
                         (n == 4 && strncmp(opts, "wait", n) == 0) ||
                         (n == 7 && strncmp(opts, "nodelay", n) == 0))
                        ; /* Connection behaviour of qemu-dm; the model has no place for it. */
                else
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                             "Unknown option '%.*s' in character device '%s'",
                                             (int) n, opts, spec);
                opts = end;
        }

        *ret_listen = listen;
        return 0;
}

static int parse_tcp(const char *spec, const char *rest, DomainChr *c, XvError *error) {
        const char *colon, *opts;
        int r;

        /* "host:port[,server][,nowait]"; the host may be empty (all addresses). */
        colon = strchr(rest, ':');
        if (!colon)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Malformed character device '%s': expected host:port", spec);

        opts = strchrnul(colon + 1, ',');
        if (opts == colon + 1)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Malformed character device '%s': missing port", spec);

        r = parse_options(spec, opts, &c->listen, error);
        if (r < 0)
                return r;

        r = dup_range(rest, colon - rest, &c->host);
        if (r < 0)
                return r;

        return dup_range(colon + 1, opts - colon - 1, &c->service);
}

static int parse_udp(const char *spec, const char *rest, DomainChr *c, XvError *error) {
        const char *colon, *at;
        int r;

        /* "host:port[@bindhost:bindport]": where to send to, and optionally where to listen. */
        colon = strchr(rest, ':');
        if (!colon)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Malformed character device '%s': expected host:port", spec);

        at = strchrnul(colon + 1, '@');
        if (at == colon + 1)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Malformed character device '%s': missing port", spec);

        r = dup_range(rest, colon - rest, &c->host);
        if (r < 0)
                return r;

        r = dup_range(colon + 1, at - colon - 1, &c->service);
        if (r < 0)
                return r;

        if (*at == '@') {
                const char *bind = at + 1, *bcolon = strchr(bind, ':');

                if (!bcolon || bcolon[1] == '\0')
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                             "Malformed character device '%s': expected @host:port",
                                             spec);

                r = dup_range(bind, bcolon - bind, &c->bind_host);
                if (r < 0)
                        return r;

                r = dup_range(bcolon + 1, strlen(bcolon + 1), &c->bind_service);
                if (r < 0)
                        return r;
        }

        return 0;
}

static int parse_unix(const char *spec, const char *rest, DomainChr *c, XvError *error) {
        const char *opts = strchrnul(rest, ',');
        int r;

        if (opts == rest)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Malformed character device '%s': missing socket path", spec);

        r = parse_options(spec, opts, &c->listen, error);
        if (r < 0)
                return r;

        return dup_range(rest, opts - rest, &c->path);
}

int xen_chr_parse(const char *spec, DomainChr *ret, XvError *error) {
        _cleanup_(domain_chr_done) DomainChr c = { .target_port = -1 };
        const char *colon, *rest;
        size_t len, plen;
        int type = -1;
        int r;

        assert(spec);
        assert(ret);

        len = strnlen(spec, XEN_CHR_SPEC_MAX + 1);
        if (len > XEN_CHR_SPEC_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Character device specification longer than %d bytes",
                                     XEN_CHR_SPEC_MAX);
        if (len == 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Empty character device specification");

        if (spec[0] == '/') {
                c.type = DOMAIN_CHR_DEV;
                c.path = strdup(spec);
                if (!c.path)
                        return -ENOMEM;
                *ret = c;
                c = (DomainChr) {};
                return 0;
        }

        colon = strchr(spec, ':');
        plen = colon ? (size_t) (colon - spec) : len;
        rest = colon ? colon + 1 : NULL;

        if (plen == 6 && strncmp(spec, "telnet", plen) == 0) {
                type = DOMAIN_CHR_TCP;
                c.protocol = DOMAIN_CHR_TCP_TELNET;
        } else
                for (size_t i = 0; i < ELEMENTSOF(chr_prefix); i++)
                        if (chr_prefix[i] && strlen(chr_prefix[i]) == plen &&
                            strncmp(spec, chr_prefix[i], plen) == 0) {
                                type = (int) i;
                                break;
                        }

        if (type < 0)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Unknown character device type '%.*s'", (int) plen, spec);
        c.type = type;

        switch (c.type) {

        case DOMAIN_CHR_VC:
                /* qemu accepts "vc:WxH"; the size has no place in the model and is dropped. */
                break;

        case DOMAIN_CHR_NULL:
        case DOMAIN_CHR_PTY:
        case DOMAIN_CHR_STDIO:
                if (rest)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                             "Character device '%s' takes no argument", spec);
                break;

        case DOMAIN_CHR_FILE:
        case DOMAIN_CHR_PIPE:
                if (isempty(rest))
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                             "Malformed character device '%s': missing path", spec);
                c.path = strdup(rest);
                if (!c.path)
                        return -ENOMEM;
                break;

        case DOMAIN_CHR_TCP:
        case DOMAIN_CHR_UDP:
        case DOMAIN_CHR_UNIX:
                if (isempty(rest))
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                             "Malformed character device '%s': missing address", spec);
                r = c.type == DOMAIN_CHR_TCP ? parse_tcp(spec, rest, &c, error) :
                    c.type == DOMAIN_CHR_UDP ? parse_udp(spec, rest, &c, error) :
                                               parse_unix(spec, rest, &c, error);
                if (r < 0)
                        return r;
                break;

        default:
                assert(false);
        }

        *ret = c;
        c = (DomainChr) {};
        return 0;
}

int xen_chr_format(const DomainChr *chr, char **ret, XvError *error) {
        char *s = NULL;
        int r;

        assert(chr);
        assert(ret);

        switch (chr->type) {

        case DOMAIN_CHR_NULL:
        case DOMAIN_CHR_VC:
        case DOMAIN_CHR_PTY:
        case DOMAIN_CHR_STDIO:
                s = strdup(chr_prefix[chr->type]);
                r = s ? 0 : -1;
                break;

        case DOMAIN_CHR_DEV:
                if (isempty(chr->path))
                        return xv_error_setf(error, XVP_ERR_NO_SOURCE,
                                             "Character device of type 'dev' without a path");
                s = strdup(chr->path);
                r = s ? 0 : -1;
                break;

        case DOMAIN_CHR_FILE:
        case DOMAIN_CHR_PIPE:
                if (isempty(chr->path))
                        return xv_error_setf(error, XVP_ERR_NO_SOURCE,
                                             "Character device of type '%s' without a path",
                                             chr_prefix[chr->type]);
                r = asprintf(&s, "%s:%s", chr_prefix[chr->type], chr->path);
                break;

        case DOMAIN_CHR_TCP:
                if (isempty(chr->service))
                        return xv_error_setf(error, XVP_ERR_NO_SOURCE,
                                             "Character device of type 'tcp' without a port");
                r = asprintf(&s, "%s:%s:%s%s",
                             chr->protocol == DOMAIN_CHR_TCP_TELNET ? "telnet" : "tcp",
                             strempty(chr->host), chr->service,
                             chr->listen ? ",server,nowait" : "");
                break;

        case DOMAIN_CHR_UDP:
                if (isempty(chr->service))
                        return xv_error_setf(error, XVP_ERR_NO_SOURCE,
                                             "Character device of type 'udp' without a port");
                if (chr->bind_host || chr->bind_service)
                        r = asprintf(&s, "udp:%s:%s@%s:%s", strempty(chr->host), chr->service,
                                     strempty(chr->bind_host), strempty(chr->bind_service));
                else
                        r = asprintf(&s, "udp:%s:%s", strempty(chr->host), chr->service);
                break;

        case DOMAIN_CHR_UNIX:
                if (isempty(chr->path))
                        return xv_error_setf(error, XVP_ERR_NO_SOURCE,
                                             "Character device of type 'unix' without a path");
                /* A comma would start an option when qemu-dm reads the string back. */
                if (strchr(chr->path, ','))
                        return xv_error_setf(error, XVP_ERR_CONFIG_UNSUPPORTED,
                                             "Socket path '%s' contains a comma, which Xen cannot express",
                                             chr->path);
                r = asprintf(&s, "unix:%s%s", chr->path, chr->listen ? ",server,nowait" : "");
                break;

        default:
                return xv_error_setf(error, XVP_ERR_CONFIG_UNSUPPORTED,
                                     "Character device type %d cannot be expressed for Xen",
                                     (int) chr->type);
        }

        if (r < 0)
                return -ENOMEM;

        *ret = s;
        return 0;
}

int xen_chr_append(DomainChr **vec, size_t *n, const char *spec, int port, DomainChr **ret,
                   XvError *error) {
        DomainChr chr, *slot;
        int r;

        assert(vec);
        assert(n);
        assert(spec);

        r = xen_chr_parse(spec, &chr, error);
        if (r < 0)
                return r;
        chr.target_port = port;

        r = domain_def_add_device_internal((void **) vec, n, sizeof(DomainChr), (void **) &slot);
        if (r < 0) {
                domain_chr_done(&chr);
                return r;
        }
        *slot = chr;
        if (ret)
                *ret = slot;
        return 0;
}
