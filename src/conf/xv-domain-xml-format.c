/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Domain XML, formatting: a DomainDef as libvirt-style XML. Written with a string buffer, not
 * libxml2, so that everything that only formats (dumpxml, the daemon's hot paths) never needs
 * the parser (xv-domain-xml-parse.c), which the daemon loads as a module on first use.
 */

#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "xv-alloc.h"
#include "xv-domain-xml.h"
#include "xv-parse-util.h"
#include "xv-strbuf.h"
#include "xv-uuid.h"

/* ---------------------------------------------------------------------------------------------
 * Formatting: libvirt's element order and conventions, two spaces of indentation.
 */

/* Length of the UTF-8 sequence at @p, or 0 when it is not valid (overlong forms, surrogates and
 * code points past U+10FFFF included). */
static size_t utf8_sequence_length(const unsigned char *p) {
        uint32_t cp;
        size_t n;

        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf) {
                n = 2;
                cp = p[0] & 0x1f;
        } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
                n = 3;
                cp = p[0] & 0x0f;
        } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
                n = 4;
                cp = p[0] & 0x07;
        } else
                return 0;

        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
                return 0;
        return n;
}

/* Appends @s escaped for XML. In attribute values (@attr) tabs and line breaks become character
 * references, because attribute-value normalization would turn them into spaces on the next
 * parse; in text only the carriage return needs that. Strings that XML 1.0 cannot carry at all
 * (other control characters, invalid UTF-8, which a converter might hand us) fail the buffer with
 * -EBADMSG rather than produce a document nobody can read back. */
static void append_escaped(StrBuf *b, const char *s, bool attr) {
        const char *run = s;
        const unsigned char *p = (const unsigned char *) s;

        while (*p) {
                const char *rep;
                size_t n;

                switch (*p) {
                case '<':  rep = "&lt;";   break;
                case '>':  rep = "&gt;";   break;
                case '&':  rep = "&amp;";  break;
                case '\'': rep = "&apos;"; break;
                case '"':  rep = "&quot;"; break;
                case '\r': rep = "&#13;";  break;
                case '\t': rep = attr ? "&#9;" : NULL;  break;
                case '\n': rep = attr ? "&#10;" : NULL; break;
                default:
                        if (*p < 0x20)
                                n = 0;
                        else
                                n = utf8_sequence_length(p);
                        if (n == 0) {
                                if (b->error == 0)
                                        b->error = -EBADMSG;
                                return;
                        }
                        p += n;
                        continue;
                }
                if (!rep) {
                        p++;
                        continue;
                }
                strbuf_appendn(b, run, (const char *) p - run);
                strbuf_append(b, rep);
                p++;
                run = (const char *) p;
        }
        strbuf_append(b, run);
}

static void append_attr(StrBuf *b, const char *name, const char *value) {
        if (!value)
                return;
        strbuf_appendf(b, " %s='", name);
        append_escaped(b, value, true);
        strbuf_appendc(b, '\'');
}

/* <name>text</name> on its own line, when text is set; an empty text gives <name/>. */
static void append_text_element(StrBuf *b, unsigned indent, const char *name, const char *text) {
        if (!text)
                return;
        strbuf_indent(b, indent);
        if (isempty(text)) {
                strbuf_appendf(b, "<%s/>\n", name);
                return;
        }
        strbuf_appendf(b, "<%s>", name);
        append_escaped(b, text, false);
        strbuf_appendf(b, "</%s>\n", name);
}

/* Looks up the spelling of an enum value, failing the formatter on a value out of range. */
#define ENUM_STR(table, value, what)                                                    \
        ({                                                                              \
                const char *_s_ = table##_to_string(value);                             \
                if (!_s_)                                                               \
                        return xv_error_setf(error, XVP_ERR_INTERNAL,                   \
                                             "Cannot format invalid %s value %d", what, (int) (value)); \
                _s_;                                                                    \
        })

static int format_os(StrBuf *b, const DomainDef *def, XvError *error) {
        strbuf_append(b, "  <os>\n");
        strbuf_append(b, "    <type");
        append_attr(b, "arch", def->os_arch);
        append_attr(b, "machine", def->os_machine);
        strbuf_appendf(b, ">%s</type>\n", ENUM_STR(domain_os_type, def->os_type, "OS type"));
        append_text_element(b, 4, "loader", def->loader);
        append_text_element(b, 4, "kernel", def->kernel);
        append_text_element(b, 4, "initrd", def->initrd);
        append_text_element(b, 4, "cmdline", def->cmdline);
        append_text_element(b, 4, "root", def->root);
        for (size_t i = 0; i < def->n_boot && i < DOMAIN_BOOT_DEVS_MAX; i++)
                strbuf_appendf(b, "    <boot dev='%s'/>\n",
                               ENUM_STR(domain_boot_dev, def->boot[i], "boot device"));
        strbuf_append(b, "  </os>\n");
        return 0;
}

static void format_features(StrBuf *b, const DomainDef *def) {
        /* libvirt's order, not our enum's. */
        static const DomainFeature order[] = {
                DOMAIN_FEATURE_ACPI, DOMAIN_FEATURE_APIC, DOMAIN_FEATURE_PAE,
                DOMAIN_FEATURE_HAP, DOMAIN_FEATURE_VIRIDIAN,
        };

        if (def->features == 0)
                return;
        strbuf_append(b, "  <features>\n");
        for (size_t i = 0; i < ELEMENTSOF(order); i++)
                if (domain_def_has_feature(def, order[i]))
                        strbuf_appendf(b, "    <%s/>\n", domain_feature_to_string(order[i]));
        strbuf_append(b, "  </features>\n");
}

static int format_clock(StrBuf *b, const DomainClock *clock, XvError *error) {
        strbuf_appendf(b, "  <clock offset='%s'",
                       ENUM_STR(domain_clock_offset, clock->offset, "clock offset"));
        if (clock->adjustment_reset)
                strbuf_append(b, " adjustment='reset'");
        else if (clock->has_adjustment)
                strbuf_appendf(b, " adjustment='%lld'", clock->adjustment);
        if (clock->has_basis)
                strbuf_appendf(b, " basis='%s'", ENUM_STR(domain_clock_basis, clock->basis, "clock basis"));
        if (clock->n_timers == 0) {
                strbuf_append(b, "/>\n");
                return 0;
        }
        strbuf_append(b, ">\n");
        for (size_t i = 0; i < clock->n_timers; i++) {
                const DomainTimer *t = &clock->timers[i];

                strbuf_append(b, "    <timer");
                append_attr(b, "name", t->name);
                if (t->present != DOMAIN_TRISTATE_ABSENT)
                        append_attr(b, "present", t->present == DOMAIN_TRISTATE_YES ? "yes" : "no");
                append_attr(b, "tickpolicy", t->tickpolicy);
                append_attr(b, "mode", t->mode);
                strbuf_append(b, "/>\n");
        }
        strbuf_append(b, "  </clock>\n");
        return 0;
}

static int format_disk(StrBuf *b, const DomainDisk *d, XvError *error) {
        strbuf_appendf(b, "    <disk type='%s' device='%s'>\n",
                       ENUM_STR(domain_disk_type, d->type, "disk type"),
                       ENUM_STR(domain_disk_device, d->device, "disk device"));
        if (d->driver_name || d->driver_type) {
                strbuf_append(b, "      <driver");
                append_attr(b, "name", d->driver_name);
                append_attr(b, "type", d->driver_type);
                strbuf_append(b, "/>\n");
        }
        if (d->src) {
                strbuf_append(b, "      <source");
                append_attr(b, d->type == DOMAIN_DISK_TYPE_BLOCK ? "dev" : "file", d->src);
                strbuf_append(b, "/>\n");
        }
        strbuf_append(b, "      <target");
        append_attr(b, "dev", d->dst);
        if (d->bus != DOMAIN_DISK_BUS_DEFAULT)
                append_attr(b, "bus", ENUM_STR(domain_disk_bus, d->bus, "disk bus"));
        strbuf_append(b, "/>\n");
        if (d->readonly)
                strbuf_append(b, "      <readonly/>\n");
        if (d->shareable)
                strbuf_append(b, "      <shareable/>\n");
        if (d->transient)
                strbuf_append(b, "      <transient/>\n");
        strbuf_append(b, "    </disk>\n");
        return 0;
}

static int format_interface(StrBuf *b, const DomainNet *n, XvError *error) {
        strbuf_appendf(b, "    <interface type='%s'>\n",
                       ENUM_STR(domain_net_type, n->type, "interface type"));
        if (n->has_mac) {
                char mac[18];

                strbuf_appendf(b, "      <mac address='%s'/>\n", domain_mac_format(n->mac, mac));
        }
        if (n->bridge || n->network || n->source_dev) {
                strbuf_append(b, "      <source");
                append_attr(b, "network", n->network);
                append_attr(b, "bridge", n->bridge);
                append_attr(b, "dev", n->source_dev);
                strbuf_append(b, "/>\n");
        }
        if (n->rate_average > 0)
                strbuf_appendf(b, "      <bandwidth>\n"
                                  "        <outbound average='%" PRIu64 "'/>\n"
                                  "      </bandwidth>\n", n->rate_average);
        STRV_FOREACH(ip, n->ips) {
                strbuf_append(b, "      <ip");
                append_attr(b, "address", *ip);
                strbuf_append(b, "/>\n");
        }
        if (n->script) {
                strbuf_append(b, "      <script");
                append_attr(b, "path", n->script);
                strbuf_append(b, "/>\n");
        }
        if (n->ifname) {
                strbuf_append(b, "      <target");
                append_attr(b, "dev", n->ifname);
                strbuf_append(b, "/>\n");
        }
        if (n->model) {
                strbuf_append(b, "      <model");
                append_attr(b, "type", n->model);
                strbuf_append(b, "/>\n");
        }
        strbuf_append(b, "    </interface>\n");
        return 0;
}

static void format_chr_source(StrBuf *b, const char *mode, const char *host, const char *service) {
        strbuf_appendf(b, "      <source mode='%s'", mode);
        append_attr(b, "host", host);
        append_attr(b, "service", service);
        strbuf_append(b, "/>\n");
}

static int format_chr(StrBuf *b, const char *element, const DomainChr *c, DomainXmlFlags flags,
                      XvError *error) {
        _cleanup_(strbuf_done) StrBuf body = STRBUF_INIT;
        _cleanup_free_ char *s = NULL;
        bool show_pty = c->type == DOMAIN_CHR_PTY && c->path && !(flags & DOMAIN_XML_INACTIVE);
        /* libvirt repeats the first console's pty as tty=, the legacy <console tty=> spelling. */
        bool tty_compat = show_pty && streq(element, "console") && c->target_port <= 0;
        int r;

        strbuf_appendf(b, "    <%s type='%s'", element,
                       ENUM_STR(domain_chr_type, c->type, "character device type"));
        if (tty_compat)
                append_attr(b, "tty", c->path);

        switch (c->type) {
        case DOMAIN_CHR_PTY:
                if (!show_pty)
                        break;
                _fallthrough_;
        case DOMAIN_CHR_DEV:
        case DOMAIN_CHR_FILE:
        case DOMAIN_CHR_PIPE:
                if (c->path) {
                        strbuf_append(&body, "      <source");
                        append_attr(&body, "path", c->path);
                        strbuf_append(&body, "/>\n");
                }
                break;
        case DOMAIN_CHR_UDP:
                if (c->bind_host || c->bind_service)
                        format_chr_source(&body, "bind", c->bind_host, c->bind_service);
                if (c->host || c->service)
                        format_chr_source(&body, "connect", c->host, c->service);
                break;
        case DOMAIN_CHR_TCP:
                format_chr_source(&body, c->listen ? "bind" : "connect", c->host, c->service);
                strbuf_appendf(&body, "      <protocol type='%s'/>\n",
                               ENUM_STR(domain_chr_tcp_protocol, c->protocol, "protocol"));
                break;
        case DOMAIN_CHR_UNIX:
                strbuf_appendf(&body, "      <source mode='%s'", c->listen ? "bind" : "connect");
                append_attr(&body, "path", c->path);
                strbuf_append(&body, "/>\n");
                break;
        default:
                break;
        }

        if (c->target_type != DOMAIN_CHR_TARGET_NONE || c->target_port >= 0) {
                strbuf_append(&body, "      <target");
                if (c->target_type != DOMAIN_CHR_TARGET_NONE)
                        append_attr(&body, "type",
                                    ENUM_STR(domain_chr_target_type, c->target_type, "target type"));
                if (c->target_port >= 0)
                        strbuf_appendf(&body, " port='%d'", c->target_port);
                strbuf_append(&body, "/>\n");
        }

        r = strbuf_steal(&body, &s);
        if (r < 0)
                return r;       /* -EBADMSG from a value XML cannot carry is reported by the caller */
        if (isempty(s))
                strbuf_append(b, "/>\n");
        else
                strbuf_appendf(b, ">\n%s    </%s>\n", s, element);
        return 0;
}

static int format_graphics(StrBuf *b, const DomainGraphics *g, DomainXmlFlags flags, XvError *error) {
        strbuf_appendf(b, "    <graphics type='%s'",
                       ENUM_STR(domain_graphics_type, g->type, "graphics type"));

        if (g->type == DOMAIN_GRAPHICS_SDL) {
                append_attr(b, "display", g->display);
                append_attr(b, "xauth", g->xauth);
                if (g->fullscreen)
                        strbuf_append(b, " fullscreen='yes'");
                strbuf_append(b, "/>\n");
                return 0;
        }

        /* libvirt's rule: a chosen port is shown unless the persistent config is asked for. */
        if (g->port > 0 && !(g->autoport && (flags & DOMAIN_XML_INACTIVE)))
                strbuf_appendf(b, " port='%d'", g->port);
        else if (g->autoport || g->port == -1)
                strbuf_append(b, " port='-1'");
        strbuf_appendf(b, " autoport='%s'", g->autoport ? "yes" : "no");
        append_attr(b, "listen", g->listen);
        if (flags & DOMAIN_XML_SECURE)
                append_attr(b, "passwd", g->passwd);
        append_attr(b, "keymap", g->keymap);

        if (!g->listen) {
                strbuf_append(b, "/>\n");
                return 0;
        }
        strbuf_append(b, ">\n      <listen type='address'");
        append_attr(b, "address", g->listen);
        strbuf_append(b, "/>\n    </graphics>\n");
        return 0;
}

static void format_video(StrBuf *b, const DomainVideo *v) {
        if (!v->model && v->vram_kib == 0 && v->heads == 0 && !v->primary) {
                strbuf_append(b, "    <video/>\n");
                return;
        }
        strbuf_append(b, "    <video>\n      <model");
        append_attr(b, "type", v->model);
        if (v->vram_kib > 0)
                strbuf_appendf(b, " vram='%u'", v->vram_kib);
        if (v->heads > 0)
                strbuf_appendf(b, " heads='%u'", v->heads);
        if (v->primary)
                strbuf_append(b, " primary='yes'");
        strbuf_append(b, "/>\n    </video>\n");
}

static int format_devices(StrBuf *b, const DomainDef *def, DomainXmlFlags flags, XvError *error) {
        int r;

        strbuf_append(b, "  <devices>\n");
        append_text_element(b, 4, "emulator", def->emulator);

        for (size_t i = 0; i < def->n_disks; i++) {
                r = format_disk(b, &def->disks[i], error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < def->n_nets; i++) {
                r = format_interface(b, &def->nets[i], error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < def->n_serials; i++) {
                r = format_chr(b, "serial", &def->serials[i], flags, error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < def->n_parallels; i++) {
                r = format_chr(b, "parallel", &def->parallels[i], flags, error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < def->n_consoles; i++) {
                r = format_chr(b, "console", &def->consoles[i], flags, error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < def->n_inputs; i++)
                strbuf_appendf(b, "    <input type='%s' bus='%s'/>\n",
                               ENUM_STR(domain_input_type, def->inputs[i].type, "input type"),
                               ENUM_STR(domain_input_bus, def->inputs[i].bus, "input bus"));
        for (size_t i = 0; i < def->n_graphics; i++) {
                r = format_graphics(b, &def->graphics[i], flags, error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < def->n_sounds; i++) {
                strbuf_append(b, "    <sound");
                append_attr(b, "model", def->sounds[i].model);
                strbuf_append(b, "/>\n");
        }
        for (size_t i = 0; i < def->n_videos; i++)
                format_video(b, &def->videos[i]);
        for (size_t i = 0; i < def->n_hostdevs; i++) {
                const DomainHostdevPci *h = &def->hostdevs[i];

                strbuf_appendf(b, "    <hostdev mode='subsystem' type='pci' managed='%s'>\n"
                                  "      <source>\n"
                                  "        <address domain='0x%04x' bus='0x%02x' slot='0x%02x'"
                                  " function='0x%x'/>\n"
                                  "      </source>\n"
                                  "    </hostdev>\n",
                               h->managed ? "yes" : "no", h->domain, h->bus, h->slot, h->function);
        }
        if (def->memballoon_model) {
                strbuf_append(b, "    <memballoon");
                append_attr(b, "model", def->memballoon_model);
                strbuf_append(b, "/>\n");
        }
        strbuf_append(b, "  </devices>\n");
        return 0;
}

static int format_domain(StrBuf *b, const DomainDef *def, DomainXmlFlags flags, XvError *error);

int domain_def_format_xml(const DomainDef *def, DomainXmlFlags flags, char **ret, XvError *error) {
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        char *s;
        int r;

        assert(def);
        assert(ret);

        r = format_domain(&b, def, flags, error);
        if (r >= 0)
                r = strbuf_steal(&b, &s);
        if (r == -EBADMSG)
                return xv_error_setf(error, XVP_ERR_XML,
                                     "Cannot format a value with control characters or invalid UTF-8 as XML");
        if (r < 0)
                return r;

        *ret = s;
        return 0;
}

static int format_domain(StrBuf *b, const DomainDef *def, DomainXmlFlags flags, XvError *error) {
        int r;

        strbuf_append(b, "<domain type='xen'");
        if (def->id >= 0 && !(flags & DOMAIN_XML_INACTIVE))
                strbuf_appendf(b, " id='%d'", def->id);
        strbuf_append(b, ">\n");

        append_text_element(b, 2, "name", def->name);
        if (def->has_uuid) {
                char u[UUID_STRING_BUF];

                strbuf_appendf(b, "  <uuid>%s</uuid>\n", uuid_format(&def->uuid, u));
        }
        append_text_element(b, 2, "description", def->description);
        strbuf_appendf(b, "  <memory unit='KiB'>%" PRIu64 "</memory>\n", def->memory_kib);
        if (def->current_memory_kib > 0)
                strbuf_appendf(b, "  <currentMemory unit='KiB'>%" PRIu64 "</currentMemory>\n",
                               def->current_memory_kib);
        strbuf_append(b, "  <vcpu");
        append_attr(b, "cpuset", def->cpuset);
        if (def->vcpus_current > 0)
                strbuf_appendf(b, " current='%u'", def->vcpus_current);
        strbuf_appendf(b, ">%u</vcpu>\n", def->vcpus);

        append_text_element(b, 2, "bootloader", def->bootloader);
        append_text_element(b, 2, "bootloader_args", def->bootloader_args);

        r = format_os(b, def, error);
        if (r < 0)
                return r;
        format_features(b, def);
        r = format_clock(b, &def->clock, error);
        if (r < 0)
                return r;

        strbuf_appendf(b, "  <on_poweroff>%s</on_poweroff>\n",
                       ENUM_STR(domain_lifecycle_action, def->on_poweroff, "lifecycle action"));
        strbuf_appendf(b, "  <on_reboot>%s</on_reboot>\n",
                       ENUM_STR(domain_lifecycle_action, def->on_reboot, "lifecycle action"));
        strbuf_appendf(b, "  <on_crash>%s</on_crash>\n",
                       ENUM_STR(domain_lifecycle_action, def->on_crash, "lifecycle action"));

        r = format_devices(b, def, flags, error);
        if (r < 0)
                return r;
        strbuf_append(b, "</domain>\n");

        return 0;
}
