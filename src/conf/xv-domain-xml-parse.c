/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Domain XML, parsing: libvirt-style XML into a DomainDef, with libxml2 (the program's only user
 * of it; formatting is xv-domain-xml-format.c). Tools and tests link it (libxv-xmlparse); the
 * daemon loads it as the module xml-parser.so on the first definition it parses
 * (daemon/xvd-xml-parser.c), so that an idle or read-only daemon never maps libxml2, ICU and
 * libstdc++.
 */

#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "xv-alloc.h"
#include "xv-domain-xml.h"
#include "xv-parse-util.h"
#include "xv-strbuf.h"
#include "xv-uuid.h"

/* libxml2's xmlFree is a function-pointer variable, not a function: wrap it so that it can be
 * used with _cleanup_. This file is the only user of libxml2. */
static inline void xml_freep(xmlChar **p) {
        if (*p)
                xmlFree(*p);
}

static inline void xml_free_docp(xmlDoc **p) {
        if (*p)
                xmlFreeDoc(*p);
}

static inline void xml_free_parser_ctxtp(xmlParserCtxt **p) {
        if (*p)
                xmlFreeParserCtxt(*p);
}

/* ---------------------------------------------------------------------------------------------
 * Tree helpers. Only un-namespaced elements belong to the domain vocabulary; anything else
 * (metadata of other applications) is skipped.
 */

static bool node_is(const xmlNode *n, const char *name) {
        return n && n->type == XML_ELEMENT_NODE && !n->ns && xmlStrEqual(n->name, BAD_CAST name);
}

static xmlNode *next_element(xmlNode *n) {
        for (; n; n = n->next)
                if (n->type == XML_ELEMENT_NODE && !n->ns)
                        return n;
        return NULL;
}

/* NOLINTBEGIN(bugprone-macro-parentheses): c is the name of the loop variable */
#define FOREACH_ELEMENT(c, parent) \
        for (xmlNode *c = next_element((parent)->children); c; c = next_element(c->next))
/* NOLINTEND(bugprone-macro-parentheses) */

static xmlNode *child_element(const xmlNode *parent, const char *name) {
        FOREACH_ELEMENT(c, parent)
                if (node_is(c, name))
                        return c;
        return NULL;
}

static size_t count_elements(const xmlNode *parent, const char *name) {
        size_t n = 0;

        FOREACH_ELEMENT(c, parent)
                if (node_is(c, name))
                        n++;
        return n;
}

/* Copies attribute @name of @n into *ret (malloc'd). Returns 1 when present, 0 when absent
 * (*ret = NULL), or a negative errno. Values are bounded by DOMAIN_STRING_MAX. */
static int prop_get(const xmlNode *n, const char *name, char **ret, XvError *error) {
        _cleanup_(xml_freep) xmlChar *v = NULL;
        char *s;

        v = xmlGetNoNsProp(n, BAD_CAST name);
        if (!v) {
                *ret = NULL;
                return 0;
        }
        if (strlen((const char *) v) > DOMAIN_STRING_MAX)
                return xv_error_setf(error, XVP_ERR_XML,
                                     "Attribute '%s' of <%s> is longer than %u bytes",
                                     name, (const char *) n->name, (unsigned) DOMAIN_STRING_MAX);
        s = strdup((const char *) v);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 1;
}

/* The text content of @n (its text and CDATA children, exactly as written), bounded by
 * DOMAIN_STRING_MAX. Entity references are never expanded here: documents with a DTD are
 * refused before we get this far. */
static int text_get(const xmlNode *n, char **ret, XvError *error) {
        StrBuf b = { .limit = DOMAIN_STRING_MAX };
        int r;

        for (const xmlNode *c = n->children; c; c = c->next)
                if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
                        strbuf_append(&b, (const char *) c->content);

        r = strbuf_steal(&b, ret);
        if (r == -E2BIG)
                return xv_error_setf(error, XVP_ERR_XML, "Content of <%s> is longer than %u bytes",
                                     (const char *) n->name, (unsigned) DOMAIN_STRING_MAX);
        return r;
}

/* Text of the first child element @name of @parent; *ret = NULL when there is none. */
static int child_text_get(const xmlNode *parent, const char *name, char **ret, XvError *error) {
        const xmlNode *c = child_element(parent, name);

        if (!c) {
                *ret = NULL;
                return 0;
        }
        return text_get(c, ret, error);
}

/* Numbers in text content may be surrounded by blanks (pretty-printed documents). */
static char *strip(char *s) {
        size_t n;

        s += strspn(s, " \t\r\n");
        n = strlen(s);
        while (n > 0 && strchr(" \t\r\n", s[n - 1]))
                s[--n] = 0;
        return s;
}

static int invalid_attr(XvError *error, const xmlNode *n, const char *attr, const char *value) {
        return xv_error_setf(error, XVP_ERR_XML, "Invalid value '%s' for attribute '%s' of <%s>",
                             value, attr, (const char *) n->name);
}

static int missing_attr(XvError *error, const xmlNode *n, const char *attr) {
        return xv_error_setf(error, XVP_ERR_XML, "Missing attribute '%s' of <%s>",
                             attr, (const char *) n->name);
}

static int invalid_text(XvError *error, const xmlNode *n, const char *value) {
        return xv_error_setf(error, XVP_ERR_XML, "Invalid value '%s' for <%s>",
                             value, (const char *) n->name);
}

static int too_many(XvError *error, const char *what, unsigned max) {
        return xv_error_setf(error, XVP_ERR_XML, "Too many <%s> elements, at most %u are supported",
                             what, max);
}

/* Reads attribute @name into the owned string *p (replacing nothing: *p must be NULL). */
static int prop_dup(const xmlNode *n, const char *name, char **p, XvError *error) {
        assert(!*p);
        return prop_get(n, name, p, error);
}

/* Reads a yes/no attribute; *ret is untouched when absent. */
static int prop_bool(const xmlNode *n, const char *name, bool *ret, XvError *error) {
        _cleanup_free_ char *v = NULL;
        int r;

        r = prop_get(n, name, &v, error);
        if (r <= 0)
                return r;
        if (streq(v, "yes"))
                *ret = true;
        else if (streq(v, "no"))
                *ret = false;
        else
                return invalid_attr(error, n, name, v);
        return 1;
}

/* Reads an integer attribute within [min, max]; *ret is untouched when absent. */
static int prop_int(const xmlNode *n, const char *name, int64_t min, int64_t max, unsigned base,
                    int64_t *ret, XvError *error) {
        _cleanup_free_ char *v = NULL;
        int64_t i;
        int r;

        r = prop_get(n, name, &v, error);
        if (r <= 0)
                return r;
        if (base == 10) {
                r = safe_atoi64(v, &i);
        } else {
                uint64_t u;

                r = safe_atou64_full(v, base, &u);
                if (r >= 0 && u > INT64_MAX)
                        r = -ERANGE;
                i = (int64_t) u;
        }
        if (r < 0 || i < min || i > max)
                return invalid_attr(error, n, name, v);
        *ret = i;
        return 1;
}

/* Looks an attribute up in a string table; @def when absent. */
#define PROP_ENUM(node, name, table, def, ret, error)                                   \
        ({                                                                              \
                _cleanup_free_ char *_v_ = NULL;                                        \
                int _r_ = prop_get((node), (name), &_v_, (error));                      \
                if (_r_ == 0)                                                           \
                        *(ret) = (def);                                                 \
                else if (_r_ > 0) {                                                     \
                        int _e_ = (int) table##_from_string(_v_);                       \
                        if (_e_ < 0)                                                    \
                                _r_ = invalid_attr((error), (node), (name), _v_);       \
                        else                                                            \
                                *(ret) = (__typeof__(*(ret))) _e_;                      \
                }                                                                       \
                _r_;                                                                    \
        })

/* ---------------------------------------------------------------------------------------------
 * Parsing of the top-level elements.
 */

static int parse_memory_element(const xmlNode *n, uint64_t *ret, XvError *error) {
        _cleanup_free_ char *text = NULL, *unit = NULL;
        uint64_t value, bytes;
        char *s;
        int r;

        r = text_get(n, &text, error);
        if (r < 0)
                return r;
        r = prop_get(n, "unit", &unit, error);
        if (r < 0)
                return r;

        s = strip(text);
        if (safe_atou64(s, &value) < 0)
                return invalid_text(error, n, s);

        r = parse_scaled(value, unit, 1024, &bytes);
        /* libvirt's ceiling: the size in bytes must fit a signed 64-bit integer, which is what
         * the converters and the hypervisor interfaces compute with. */
        if (r >= 0 && bytes > (uint64_t) INT64_MAX)
                r = -ERANGE;
        if (r == -ERANGE)
                return xv_error_setf(error, XVP_ERR_XML, "Value '%s' of <%s> is too large", s,
                                     (const char *) n->name);
        if (r < 0)
                return invalid_attr(error, n, "unit", unit);

        /* Stored in KiB, rounded up like libvirt does. */
        *ret = bytes / 1024 + (bytes % 1024 != 0);
        return 0;
}

static int parse_vcpu(const xmlNode *root, DomainDef *def, XvError *error) {
        _cleanup_free_ char *text = NULL;
        const xmlNode *n;
        uint32_t v;
        int64_t current = 0;
        char *s;
        int r;

        n = child_element(root, "vcpu");
        if (!n) {
                def->vcpus = 1;         /* libvirt's default */
                return 0;
        }

        r = text_get(n, &text, error);
        if (r < 0)
                return r;
        s = strip(text);
        if (safe_atou32(s, &v) < 0 || v < 1 || v > DOMAIN_VCPUS_MAX)
                return invalid_text(error, n, s);
        def->vcpus = v;

        r = prop_int(n, "current", 1, DOMAIN_VCPUS_MAX, 10, &current, error);
        if (r < 0)
                return r;
        def->vcpus_current = (unsigned) current;

        return prop_dup(n, "cpuset", &def->cpuset, error);
}

static int parse_lifecycle(const xmlNode *root, const char *name, DomainLifecycleAction *ret,
                           XvError *error) {
        _cleanup_free_ char *text = NULL;
        const xmlNode *n;
        DomainLifecycleAction a;
        int r;

        n = child_element(root, name);
        if (!n)
                return 0;       /* keeps the default from domain_def_new() */

        r = text_get(n, &text, error);
        if (r < 0)
                return r;
        a = domain_lifecycle_action_from_string(strip(text));
        if (a < 0)
                return invalid_text(error, n, strip(text));
        *ret = a;
        return 0;
}

static int parse_os(const xmlNode *root, DomainDef *def, XvError *error) {
        _cleanup_free_ char *type = NULL;
        const xmlNode *os, *t;
        DomainOsType ot;
        int r;

        os = child_element(root, "os");
        t = os ? child_element(os, "type") : NULL;
        if (!t) {
                /* Like libvirt: a PV guest with a bootloader may leave the type out. */
                if (def->bootloader) {
                        def->os_type = DOMAIN_OS_XEN;
                        return 0;
                }
                return xv_error_setf(error, XVP_ERR_OS_TYPE, "Missing <type> element in <os>");
        }

        r = text_get(t, &type, error);
        if (r < 0)
                return r;
        ot = domain_os_type_from_string(strip(type));
        if (ot < 0)
                return xv_error_setf(error, XVP_ERR_OS_TYPE, "Unsupported OS type '%s' in <os><type>",
                                     strip(type));
        def->os_type = ot;

        r = prop_dup(t, "arch", &def->os_arch, error);
        if (r < 0)
                return r;
        r = prop_dup(t, "machine", &def->os_machine, error);
        if (r < 0)
                return r;

        r = child_text_get(os, "loader", &def->loader, error);
        if (r < 0)
                return r;
        r = child_text_get(os, "kernel", &def->kernel, error);
        if (r < 0)
                return r;
        r = child_text_get(os, "initrd", &def->initrd, error);
        if (r < 0)
                return r;
        r = child_text_get(os, "cmdline", &def->cmdline, error);
        if (r < 0)
                return r;
        r = child_text_get(os, "root", &def->root, error);
        if (r < 0)
                return r;

        if (count_elements(os, "boot") > DOMAIN_BOOT_DEVS_MAX)
                return too_many(error, "boot", DOMAIN_BOOT_DEVS_MAX);
        FOREACH_ELEMENT(c, os) {
                DomainBootDev b = _DOMAIN_BOOT_DEV_INVALID;

                if (!node_is(c, "boot"))
                        continue;
                r = PROP_ENUM(c, "dev", domain_boot_dev, _DOMAIN_BOOT_DEV_INVALID, &b, error);
                if (r < 0)
                        return r;
                if (r == 0)
                        return missing_attr(error, c, "dev");
                def->boot[def->n_boot++] = b;
        }

        return 0;
}

static int parse_features(const xmlNode *root, DomainDef *def, XvError *error) {
        const xmlNode *n = child_element(root, "features");

        if (!n)
                return 0;

        FOREACH_ELEMENT(c, n) {
                DomainFeature f = domain_feature_from_string((const char *) c->name);

                if (f < 0)
                        return xv_error_setf(error, XVP_ERR_CONFIG_UNSUPPORTED,
                                             "Unsupported feature <%s> in <features>",
                                             (const char *) c->name);
                domain_def_set_feature(def, f, true);
        }
        return 0;
}

static int parse_timer(const xmlNode *n, DomainClock *clock, XvError *error) {
        _cleanup_free_ char *present = NULL;
        DomainTimer *t;
        int r;

        r = domain_def_add_device(clock->timers, clock->n_timers, &t);
        if (r == -E2BIG)
                return too_many(error, "timer", DOMAIN_DEVICES_MAX);
        if (r < 0)
                return r;

        r = prop_dup(n, "name", &t->name, error);
        if (r < 0)
                return r;
        if (r == 0)
                return missing_attr(error, n, "name");

        r = prop_get(n, "present", &present, error);
        if (r < 0)
                return r;
        if (present) {
                if (streq(present, "yes"))
                        t->present = DOMAIN_TRISTATE_YES;
                else if (streq(present, "no"))
                        t->present = DOMAIN_TRISTATE_NO;
                else
                        return invalid_attr(error, n, "present", present);
        }

        r = prop_dup(n, "mode", &t->mode, error);
        if (r < 0)
                return r;
        return prop_dup(n, "tickpolicy", &t->tickpolicy, error);
}

static int parse_clock(const xmlNode *root, DomainDef *def, XvError *error) {
        _cleanup_free_ char *adjustment = NULL;
        const xmlNode *n = child_element(root, "clock");
        const char *offset_attr = "offset";
        int r;

        if (!n)
                return 0;

        /* <clock sync='localtime'/> is the pre-0.7 spelling of offset=. */
        if (!xmlHasProp(n, BAD_CAST "offset") && xmlHasProp(n, BAD_CAST "sync"))
                offset_attr = "sync";
        r = PROP_ENUM(n, offset_attr, domain_clock_offset, DOMAIN_CLOCK_UTC, &def->clock.offset, error);
        if (r < 0)
                return r;

        r = prop_get(n, "adjustment", &adjustment, error);
        if (r < 0)
                return r;
        if (adjustment) {
                int64_t a;

                if (streq(adjustment, "reset"))
                        def->clock.adjustment_reset = true;
                else if (safe_atoi64(adjustment, &a) < 0)
                        return invalid_attr(error, n, "adjustment", adjustment);
                else {
                        def->clock.has_adjustment = true;
                        def->clock.adjustment = a;
                }
        }

        r = PROP_ENUM(n, "basis", domain_clock_basis, DOMAIN_CLOCK_BASIS_UTC, &def->clock.basis, error);
        if (r < 0)
                return r;
        def->clock.has_basis = r > 0;

        FOREACH_ELEMENT(c, n) {
                if (!node_is(c, "timer"))
                        continue;
                r = parse_timer(c, &def->clock, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Devices.
 */

static int parse_disk(const xmlNode *n, DomainDisk *d, XvError *error) {
        const xmlNode *c;
        int r;

        r = PROP_ENUM(n, "type", domain_disk_type, DOMAIN_DISK_TYPE_FILE, &d->type, error);
        if (r < 0)
                return r;
        r = PROP_ENUM(n, "device", domain_disk_device, DOMAIN_DISK_DEVICE_DISK, &d->device, error);
        if (r < 0)
                return r;

        c = child_element(n, "driver");
        if (c) {
                r = prop_dup(c, "name", &d->driver_name, error);
                if (r < 0)
                        return r;
                r = prop_dup(c, "type", &d->driver_type, error);
                if (r < 0)
                        return r;
        }

        c = child_element(n, "source");
        if (c) {
                r = prop_dup(c, d->type == DOMAIN_DISK_TYPE_BLOCK ? "dev" : "file", &d->src, error);
                if (r < 0)
                        return r;
        }

        c = child_element(n, "target");
        if (!c)
                return xv_error_setf(error, XVP_ERR_NO_TARGET, "Missing <target> element in <disk>");
        r = prop_dup(c, "dev", &d->dst, error);
        if (r < 0)
                return r;
        if (r == 0 || isempty(d->dst))
                return xv_error_setf(error, XVP_ERR_NO_TARGET,
                                     "Missing attribute 'dev' of <target> in <disk>");
        r = PROP_ENUM(c, "bus", domain_disk_bus, DOMAIN_DISK_BUS_DEFAULT, &d->bus, error);
        if (r < 0)
                return r;

        d->readonly = child_element(n, "readonly");
        d->shareable = child_element(n, "shareable");
        d->transient = child_element(n, "transient");
        return 0;
}

static int parse_interface(const xmlNode *n, DomainNet *net, XvError *error) {
        _cleanup_free_ char *type = NULL;
        const xmlNode *c;
        int r;

        r = prop_get(n, "type", &type, error);
        if (r < 0)
                return r;
        if (r == 0)
                return missing_attr(error, n, "type");
        net->type = domain_net_type_from_string(type);
        if (net->type < 0)
                return xv_error_setf(error, XVP_ERR_CONFIG_UNSUPPORTED,
                                     "Unsupported interface type '%s'", type);

        c = child_element(n, "mac");
        if (c) {
                _cleanup_free_ char *mac = NULL;

                r = prop_get(c, "address", &mac, error);
                if (r < 0)
                        return r;
                if (r == 0)
                        return missing_attr(error, c, "address");
                if (domain_mac_parse(mac, net->mac) < 0)
                        return xv_error_setf(error, XVP_ERR_INVALID_MAC, "Invalid MAC address '%s'", mac);
                if (net->mac[0] & 1)
                        return xv_error_setf(error, XVP_ERR_INVALID_MAC,
                                             "Expected a unicast MAC address, found multicast '%s'", mac);
                net->has_mac = true;
        }

        c = child_element(n, "source");
        if (c) {
                r = prop_dup(c, "bridge", &net->bridge, error);
                if (r < 0)
                        return r;
                r = prop_dup(c, "network", &net->network, error);
                if (r < 0)
                        return r;
                r = prop_dup(c, "dev", &net->source_dev, error);
                if (r < 0)
                        return r;
        }

        c = child_element(n, "script");
        if (c) {
                r = prop_dup(c, "path", &net->script, error);
                if (r < 0)
                        return r;
        }

        if (count_elements(n, "ip") > DOMAIN_DEVICES_MAX)
                return too_many(error, "ip", DOMAIN_DEVICES_MAX);
        FOREACH_ELEMENT(ip, n) {
                char *a;

                if (!node_is(ip, "ip"))
                        continue;
                r = prop_get(ip, "address", &a, error);
                if (r < 0)
                        return r;
                if (r == 0)
                        return missing_attr(error, ip, "address");
                r = strv_push(&net->ips, a);
                if (r < 0)
                        return r;
        }

        c = child_element(n, "model");
        if (c) {
                r = prop_dup(c, "type", &net->model, error);
                if (r < 0)
                        return r;
        }

        c = child_element(n, "target");
        if (c) {
                r = prop_dup(c, "dev", &net->ifname, error);
                if (r < 0)
                        return r;
        }

        c = child_element(n, "bandwidth");
        if (c)
                c = child_element(c, "outbound");
        if (c) {
                int64_t average = 0;

                r = prop_int(c, "average", 1, INT64_MAX, 10, &average, error);
                if (r < 0)
                        return r;
                net->rate_average = (uint64_t) average;
        }
        return 0;
}

static int parse_hostdev(const xmlNode *n, DomainHostdevPci *h, XvError *error) {
        _cleanup_free_ char *mode = NULL, *type = NULL;
        const xmlNode *src, *addr;
        int64_t v;
        int r;

        r = prop_get(n, "mode", &mode, error);
        if (r < 0)
                return r;
        r = prop_get(n, "type", &type, error);
        if (r < 0)
                return r;
        if (!mode || !streq(mode, "subsystem") || !type || !streq(type, "pci"))
                return xv_error_setf(error, XVP_ERR_CONFIG_UNSUPPORTED,
                                     "Unsupported <hostdev mode='%s' type='%s'>, "
                                     "only PCI subsystem devices are supported",
                                     strempty(mode), strempty(type));

        r = prop_bool(n, "managed", &h->managed, error);
        if (r < 0)
                return r;

        src = child_element(n, "source");
        addr = src ? child_element(src, "address") : NULL;
        if (!addr)
                return xv_error_setf(error, XVP_ERR_XML, "Missing <source><address> element in <hostdev>");

        v = 0;
        r = prop_int(addr, "domain", 0, 0xffff, 0, &v, error);
        if (r < 0)
                return r;
        h->domain = (unsigned) v;

        v = 0;
        r = prop_int(addr, "bus", 0, 0xff, 0, &v, error);
        if (r < 0)
                return r;
        if (r == 0)
                return missing_attr(error, addr, "bus");
        h->bus = (unsigned) v;

        v = 0;
        r = prop_int(addr, "slot", 0, 0x1f, 0, &v, error);
        if (r < 0)
                return r;
        if (r == 0)
                return missing_attr(error, addr, "slot");
        h->slot = (unsigned) v;

        v = 0;
        r = prop_int(addr, "function", 0, 7, 0, &v, error);
        if (r < 0)
                return r;
        if (r == 0)
                return missing_attr(error, addr, "function");
        h->function = (unsigned) v;
        return 0;
}

static int parse_graphics(const xmlNode *n, DomainGraphics *g, XvError *error) {
        _cleanup_free_ char *type = NULL;
        int r;

        r = prop_get(n, "type", &type, error);
        if (r < 0)
                return r;
        if (r == 0)
                return missing_attr(error, n, "type");
        g->type = domain_graphics_type_from_string(type);
        if (g->type < 0)
                return xv_error_setf(error, XVP_ERR_CONFIG_UNSUPPORTED,
                                     "Unsupported graphics type '%s'", type);

        if (g->type == DOMAIN_GRAPHICS_SDL) {
                r = prop_dup(n, "display", &g->display, error);
                if (r < 0)
                        return r;
                r = prop_dup(n, "xauth", &g->xauth, error);
                if (r < 0)
                        return r;
                r = prop_bool(n, "fullscreen", &g->fullscreen, error);
                return r < 0 ? r : 0;
        }

        int64_t port = 0;
        r = prop_int(n, "port", -1, 65535, 10, &port, error);
        if (r < 0)
                return r;
        g->port = (int) port;
        /* Like libvirt: no port, or port -1, means an automatically chosen one. */
        g->autoport = port <= 0;
        r = prop_bool(n, "autoport", &g->autoport, error);
        if (r < 0)
                return r;

        r = prop_dup(n, "listen", &g->listen, error);
        if (r < 0)
                return r;
        if (!g->listen)
                FOREACH_ELEMENT(l, n) {
                        _cleanup_free_ char *ltype = NULL;

                        if (!node_is(l, "listen"))
                                continue;
                        r = prop_get(l, "type", &ltype, error);
                        if (r < 0)
                                return r;
                        if (!ltype || !streq(ltype, "address"))
                                continue;
                        r = prop_dup(l, "address", &g->listen, error);
                        if (r < 0)
                                return r;
                        break;
                }

        r = prop_dup(n, "passwd", &g->passwd, error);
        if (r < 0)
                return r;
        return prop_dup(n, "keymap", &g->keymap, error);
}

static int parse_input(const xmlNode *n, bool hvm, DomainInput *in, XvError *error) {
        int r;

        r = PROP_ENUM(n, "type", domain_input_type, _DOMAIN_INPUT_TYPE_INVALID, &in->type, error);
        if (r < 0)
                return r;
        if (r == 0)
                return missing_attr(error, n, "type");
        /* libvirt's default bus: PS/2 for HVM, the paravirtual one otherwise. */
        r = PROP_ENUM(n, "bus", domain_input_bus, hvm ? DOMAIN_INPUT_BUS_PS2 : DOMAIN_INPUT_BUS_XEN,
                      &in->bus, error);
        return r < 0 ? r : 0;
}

static int parse_chr_source(const xmlNode *s, DomainChr *c, XvError *error) {
        _cleanup_free_ char *mode = NULL;
        bool bind;
        int r;

        r = prop_get(s, "mode", &mode, error);
        if (r < 0)
                return r;
        if (mode && !streq(mode, "bind") && !streq(mode, "connect"))
                return invalid_attr(error, s, "mode", mode);
        bind = mode && streq(mode, "bind");

        switch (c->type) {
        case DOMAIN_CHR_UDP:
                if (bind) {
                        if (c->bind_host || c->bind_service)
                                return 0;
                        r = prop_dup(s, "host", &c->bind_host, error);
                        if (r < 0)
                                return r;
                        return prop_dup(s, "service", &c->bind_service, error);
                }
                if (c->host || c->service)
                        return 0;
                r = prop_dup(s, "host", &c->host, error);
                if (r < 0)
                        return r;
                return prop_dup(s, "service", &c->service, error);

        case DOMAIN_CHR_TCP:
                if (c->host || c->service)
                        return 0;
                c->listen = bind;
                r = prop_dup(s, "host", &c->host, error);
                if (r < 0)
                        return r;
                r = prop_dup(s, "service", &c->service, error);
                if (r < 0)
                        return r;
                /* Old libvirt wrote the protocol as <source wiremode=>. */
                r = PROP_ENUM(s, "wiremode", domain_chr_tcp_protocol, c->protocol, &c->protocol, error);
                return r < 0 ? r : 0;

        case DOMAIN_CHR_UNIX:
                c->listen = bind;
                _fallthrough_;
        case DOMAIN_CHR_PTY:
        case DOMAIN_CHR_DEV:
        case DOMAIN_CHR_FILE:
        case DOMAIN_CHR_PIPE:
                if (c->path)
                        return 0;
                return prop_dup(s, "path", &c->path, error);

        default:
                return 0;
        }
}

static int parse_chr(const xmlNode *n, bool console, DomainChr *c, XvError *error) {
        int r;

        domain_chr_init(c);

        /* The legacy <console tty='/dev/pts/5'/> has no type: it is a pty, as is a bare one. */
        r = PROP_ENUM(n, "type", domain_chr_type, DOMAIN_CHR_PTY, &c->type, error);
        if (r < 0)
                return r;

        FOREACH_ELEMENT(s, n) {
                if (node_is(s, "source")) {
                        r = parse_chr_source(s, c, error);
                        if (r < 0)
                                return r;
                } else if (node_is(s, "protocol") && c->type == DOMAIN_CHR_TCP) {
                        r = PROP_ENUM(s, "type", domain_chr_tcp_protocol, DOMAIN_CHR_TCP_RAW,
                                      &c->protocol, error);
                        if (r < 0)
                                return r;
                } else if (node_is(s, "target")) {
                        int64_t port = -1;

                        r = prop_int(s, "port", 0, 65535, 10, &port, error);
                        if (r < 0)
                                return r;
                        c->target_port = (int) port;
                        if (console) {
                                r = PROP_ENUM(s, "type", domain_chr_target_type, DOMAIN_CHR_TARGET_NONE,
                                              &c->target_type, error);
                                if (r < 0)
                                        return r;
                        }
                }
        }

        if (c->type == DOMAIN_CHR_PTY && !c->path) {
                r = prop_dup(n, "tty", &c->path, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_video(const xmlNode *n, DomainVideo *v, XvError *error) {
        const xmlNode *m = child_element(n, "model");
        int64_t i;
        int r;

        if (!m)
                return 0;
        r = prop_dup(m, "type", &v->model, error);
        if (r < 0)
                return r;
        i = 0;
        r = prop_int(m, "vram", 0, UINT32_MAX, 10, &i, error);
        if (r < 0)
                return r;
        v->vram_kib = (unsigned) i;
        i = 0;
        r = prop_int(m, "heads", 0, UINT32_MAX, 10, &i, error);
        if (r < 0)
                return r;
        v->heads = (unsigned) i;
        r = prop_bool(m, "primary", &v->primary, error);
        return r < 0 ? r : 0;
}

/* Appends one element to a device vector, turning the cap into a message. */
#define ADD_DEVICE(vec, n, ret, what)                                           \
        ({                                                                      \
                int _r_ = domain_def_add_device(vec, n, ret);                   \
                _r_ == -E2BIG ? too_many(error, what, DOMAIN_DEVICES_MAX) : _r_; \
        })

static int parse_devices(const xmlNode *root, DomainDef *def, XvError *error) {
        const xmlNode *devices = child_element(root, "devices");
        int r;

        if (!devices)
                return 0;

        FOREACH_ELEMENT(n, devices) {
                if (node_is(n, "emulator")) {
                        if (def->emulator)
                                continue;
                        r = text_get(n, &def->emulator, error);
                } else if (node_is(n, "disk")) {
                        DomainDisk *d = NULL;

                        r = ADD_DEVICE(def->disks, def->n_disks, &d, "disk");
                        if (r < 0)
                                return r;
                        r = parse_disk(n, d, error);
                } else if (node_is(n, "interface")) {
                        DomainNet *net = NULL;

                        r = ADD_DEVICE(def->nets, def->n_nets, &net, "interface");
                        if (r < 0)
                                return r;
                        r = parse_interface(n, net, error);
                } else if (node_is(n, "hostdev")) {
                        DomainHostdevPci *h = NULL;

                        r = ADD_DEVICE(def->hostdevs, def->n_hostdevs, &h, "hostdev");
                        if (r < 0)
                                return r;
                        r = parse_hostdev(n, h, error);
                } else if (node_is(n, "graphics")) {
                        DomainGraphics *g = NULL;

                        r = ADD_DEVICE(def->graphics, def->n_graphics, &g, "graphics");
                        if (r < 0)
                                return r;
                        r = parse_graphics(n, g, error);
                } else if (node_is(n, "input")) {
                        DomainInput *in = NULL;

                        r = ADD_DEVICE(def->inputs, def->n_inputs, &in, "input");
                        if (r < 0)
                                return r;
                        r = parse_input(n, domain_def_is_hvm(def), in, error);
                } else if (node_is(n, "serial")) {
                        DomainChr *c = NULL;

                        r = ADD_DEVICE(def->serials, def->n_serials, &c, "serial");
                        if (r < 0)
                                return r;
                        r = parse_chr(n, false, c, error);
                } else if (node_is(n, "parallel")) {
                        DomainChr *c = NULL;

                        r = ADD_DEVICE(def->parallels, def->n_parallels, &c, "parallel");
                        if (r < 0)
                                return r;
                        r = parse_chr(n, false, c, error);
                } else if (node_is(n, "console")) {
                        DomainChr *c = NULL;

                        r = ADD_DEVICE(def->consoles, def->n_consoles, &c, "console");
                        if (r < 0)
                                return r;
                        r = parse_chr(n, true, c, error);
                } else if (node_is(n, "sound")) {
                        DomainSound *s = NULL;

                        r = ADD_DEVICE(def->sounds, def->n_sounds, &s, "sound");
                        if (r < 0)
                                return r;
                        r = prop_dup(n, "model", &s->model, error);
                        if (r == 0)
                                r = missing_attr(error, n, "model");
                } else if (node_is(n, "video")) {
                        DomainVideo *v = NULL;

                        r = ADD_DEVICE(def->videos, def->n_videos, &v, "video");
                        if (r < 0)
                                return r;
                        r = parse_video(n, v, error);
                } else if (node_is(n, "memballoon")) {
                        if (def->memballoon_model)
                                continue;
                        r = prop_dup(n, "model", &def->memballoon_model, error);
                        if (r == 0)
                                r = missing_attr(error, n, "model");
                } else
                        /* <controller> and devices Xen has no use for are dropped, as libvirt's
                         * Xen driver did. */
                        continue;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_domain(const xmlNode *root, DomainDef *def, XvError *error) {
        _cleanup_free_ char *type = NULL, *uuid = NULL;
        const xmlNode *n;
        int64_t id = -1;
        int r;

        r = prop_get(root, "type", &type, error);
        if (r < 0)
                return r;
        if (r == 0)
                return missing_attr(error, root, "type");
        if (!streq(type, "xen"))
                return xv_error_setf(error, XVP_ERR_CONFIG_UNSUPPORTED,
                                     "Unsupported domain type '%s', expected 'xen'", type);

        r = prop_int(root, "id", -1, INT32_MAX, 10, &id, error);
        if (r < 0)
                return r;
        def->id = (int) id;

        n = child_element(root, "name");
        if (!n)
                return xv_error_setf(error, XVP_ERR_NO_NAME, "Missing <name> element");
        r = text_get(n, &def->name, error);
        if (r < 0)
                return r;
        if (strlen(def->name) >= DOMAIN_NAME_MAX)
                return xv_error_setf(error, XVP_ERR_XML, "Content of <name> is longer than %u bytes",
                                     (unsigned) DOMAIN_NAME_MAX - 1);

        r = child_text_get(root, "uuid", &uuid, error);
        if (r < 0)
                return r;
        if (uuid) {
                if (uuid_from_string(strip(uuid), &def->uuid) < 0)
                        return xv_error_setf(error, XVP_ERR_XML, "Invalid value '%s' for <uuid>", uuid);
                def->has_uuid = true;
        }

        r = child_text_get(root, "description", &def->description, error);
        if (r < 0)
                return r;

        n = child_element(root, "memory");
        if (!n)
                return xv_error_setf(error, XVP_ERR_XML, "Missing <memory> element");
        r = parse_memory_element(n, &def->memory_kib, error);
        if (r < 0)
                return r;
        n = child_element(root, "currentMemory");
        if (n) {
                r = parse_memory_element(n, &def->current_memory_kib, error);
                if (r < 0)
                        return r;
        }

        r = parse_vcpu(root, def, error);
        if (r < 0)
                return r;

        r = child_text_get(root, "bootloader", &def->bootloader, error);
        if (r < 0)
                return r;
        r = child_text_get(root, "bootloader_args", &def->bootloader_args, error);
        if (r < 0)
                return r;

        r = parse_os(root, def, error);
        if (r < 0)
                return r;
        r = parse_features(root, def, error);
        if (r < 0)
                return r;
        r = parse_clock(root, def, error);
        if (r < 0)
                return r;

        r = parse_lifecycle(root, "on_poweroff", &def->on_poweroff, error);
        if (r < 0)
                return r;
        r = parse_lifecycle(root, "on_reboot", &def->on_reboot, error);
        if (r < 0)
                return r;
        r = parse_lifecycle(root, "on_crash", &def->on_crash, error);
        if (r < 0)
                return r;

        return parse_devices(root, def, error);
}

/* A domain definition never needs a DTD. Stopping the parser as soon as a DOCTYPE starts means no
 * entity is ever declared, so neither entity expansion ("billion laughs") nor external entities
 * can happen, whatever libxml2's defaults are. */
static void reject_internal_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
                                   const xmlChar *system_id) {
        xmlParserCtxt *ctxt = ctx;

        *(bool *) ctxt->_private = true;
        xmlStopParser(ctxt);
}

/* libxml2 wants its global state set up once, from one thread, before parsers run on several. */
static void xml_init_once(void) {
        xmlInitParser();
}

int domain_def_parse_xml(const char *xml, DomainDef **ret, XvError *error) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        _cleanup_(xml_free_parser_ctxtp) xmlParserCtxt *ctxt = NULL;
        _cleanup_(xml_free_docp) xmlDoc *doc = NULL;
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        const xmlNode *root;
        bool has_dtd = false;
        size_t len;
        int r;

        assert(xml);
        assert(ret);

        len = strlen(xml);
        if (len > DOMAIN_XML_SIZE_MAX)
                return xv_error_setf(error, XVP_ERR_XML, "Domain XML is larger than %u bytes",
                                     (unsigned) DOMAIN_XML_SIZE_MAX);

        (void) pthread_once(&once, xml_init_once);
        ctxt = xmlNewParserCtxt();
        if (!ctxt || !ctxt->sax)
                return -ENOMEM;
        ctxt->sax->internalSubset = reject_internal_subset;
        ctxt->_private = &has_dtd;

        /* NONET: a domain definition must never make the daemon fetch anything. No NOENT, no
         * DTDLOAD: entities are not substituted and no external subset is read. */
        doc = xmlCtxtReadMemory(ctxt, xml, (int) len, "domain.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (has_dtd || (doc && (doc->intSubset || doc->extSubset)))
                return xv_error_setf(error, XVP_ERR_XML,
                                     "Malformed domain XML: a document type declaration is not allowed");
        if (!doc) {
                const xmlError *e = xmlCtxtGetLastError(ctxt);
                const char *msg = e && e->message ? e->message : "parse error";

                return xv_error_setf(error, XVP_ERR_XML, "Malformed domain XML, line %d: %.*s",
                                     e ? e->line : 0, (int) strcspn(msg, "\n"), msg);
        }

        root = xmlDocGetRootElement(doc);
        if (root && root->ns && xmlStrEqual(root->name, BAD_CAST "domain"))
                return xv_error_setf(error, XVP_ERR_XML,
                                     "Root element <domain> must not be in an XML namespace");
        if (!root || !node_is(root, "domain"))
                return xv_error_setf(error, XVP_ERR_XML, "Root element must be <domain>, not <%s>",
                                     root ? (const char *) root->name : "");

        r = domain_def_new(&def);
        if (r < 0)
                return r;

        r = parse_domain(root, def, error);
        if (r < 0)
                return r;

        r = domain_def_validate(def, error);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(def);
        return 0;
}
