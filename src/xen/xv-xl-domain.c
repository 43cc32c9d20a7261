/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xv-alloc.h"
#include "xv-strbuf.h"
#include "xv-xen-domain.h"
#include "xv-xl-domain.h"
#include "xv-xm-domain.h"

/*
 * xl.cfg is xm's file grammar with different keys for a handful of things. Rather than a second
 * converter, this module translates between the two key sets and lets xv-xm-domain (at xend
 * config version 4, the xenconfig-era converter) do the common part: name, uuid, memory,
 * vcpus, cpus, lifecycle, HVM features, clock, serial, sound, usb, VNC/SDL keys, vif and pci
 * lists are spelled the same in both. What differs is handled here:
 *   - `type` ("pv", "hvm", "pvh") instead of xm's `builder`;
 *   - the HVM firmware is implicit (`firmware_override` when given), so `kernel` is always a
 *     direct boot kernel; the command line is `cmdline` (root/extra still read);
 *   - `vcpus` is the online count and `maxvcpus` the maximum (no vcpu_avail mask);
 *   - disks use xl-disk-configuration(5) (parsed here, positional and key=value);
 *   - vfb entries say "vnc=1"/"sdl=1" rather than "type=vnc"/"type=sdl";
 *   - a vif "type=vif" (PV only) is xm's "type=netfront";
 *   - `bootloader_args`, `device_model_override`, `device_model_version`, `usbdevice` as a list;
 *   - HVM floppies (xl.cfg has no key for them) go to the device model as
 *     device_model_args = [ "-fda", PATH ], which qemu reads the same way xm's fda key set it;
 *   - no PV floppies, no parallel port, no shareable or transient disks: refused.
 */

#define XL_XM_VERSION 4

/* Bytes of one disk, vif or vfb specification: an item of an XM list, bounded by the file. */
#define XL_SPEC_MAX XM_CONFIG_SIZE_MAX

static int xl_error(XvError *error, xvp_error_code code, const char *format, ...) _printf_(3, 4);
static int xl_error(XvError *error, xvp_error_code code, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = xv_error_setv(error, code, format, ap);
        va_end(ap);
        return r;
}
#ifdef __clang_analyzer__
#  define xl_error(...) XV_ERROR_NEGATIVE_((xl_error)(__VA_ARGS__))
#endif

static int get_opt_string(const XmConfig *c, const char *key, const char **ret, XvError *error) {
        const char *s = NULL;
        int r;

        r = xm_config_get_string(c, key, &s, error);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        if (strlen(s) > DOMAIN_STRING_MAX)
                return xl_error(error, XVP_ERR_CONF_SYNTAX, "config value %s is longer than %u bytes", key,
                                (unsigned) DOMAIN_STRING_MAX);
        *ret = s;
        return 0;
}

static int copy_opt_string(const XmConfig *c, const char *key, char **ret, XvError *error) {
        const char *s;
        int r;

        r = get_opt_string(c, key, &s, error);
        if (r < 0)
                return r;
        if (!s)
                return 0;
        return free_and_strdup(ret, s);
}

/* ------------------------------------------------------------------------------------------ */
/* Disks: xl-disk-configuration(5) */

static const char * const disk_formats[] = { "raw", "qcow", "qcow2", "vhd", "qed" };

static bool disk_format_known(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(disk_formats); i++)
                if (streq(s, disk_formats[i]))
                        return true;
        return false;
}

typedef struct XlDiskSpec {
        char *target;
        bool has_target;
        char *format;
        char *vdev;
        char *access;
        char *devtype;
        char *backendtype;
} XlDiskSpec;

static void xl_disk_spec_done(XlDiskSpec *d) {
        free(d->target);
        free(d->format);
        free(d->vdev);
        free(d->access);
        free(d->devtype);
        free(d->backendtype);
        *d = (XlDiskSpec) {};
}

static char *strip_dup(const char *s, size_t n) {
        while (n > 0 && (*s == ' ' || *s == '\t')) {
                s++;
                n--;
        }
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
                n--;
        return strndup(s, n);
}

static int set_once(char **field, char *value, const char *name, const char *spec, XvError *error) {
        if (*field) {
                free(value);
                return xl_error(error, XVP_ERR_CONF_SYNTAX, "disk '%s' specifies %s twice", spec, name);
        }
        *field = value;
        return 0;
}

/* Splits one specification into its parameters. Keywords may come in any order; the rest are
 * positional: target, format, vdev, access, where a second positional parameter that is not a
 * format name is the vdev (xm's "SOURCE,VDEV,MODE" reads the same). `target=` takes the rest of
 * the specification, commas included, as the manual says it must come last. */
static int xl_disk_spec_parse(const char *spec, XlDiskSpec *ret, XvError *error) {
        _cleanup_(xl_disk_spec_done) XlDiskSpec d = {};
        unsigned pos = 0;
        const char *p = spec;
        int r;

        if (strlen(spec) > XL_SPEC_MAX)
                return xl_error(error, XVP_ERR_CONF_SYNTAX, "disk specification is longer than %u bytes",
                                (unsigned) XL_SPEC_MAX);

        while (p) {
                const char *comma = strchr(p, ',');
                size_t len = comma ? (size_t) (comma - p) : strlen(p);
                _cleanup_free_ char *tok = NULL;
                char *eq;

                tok = strip_dup(p, len);
                if (!tok)
                        return -ENOMEM;
                p = comma ? comma + 1 : NULL;

                eq = strchr(tok, '=');
                if (eq && strncmp(tok, "target=", 7) == 0) {
                        /* The rest of the specification, commas included. */
                        _cleanup_free_ char *rest = NULL;
                        size_t off = (size_t) (eq + 1 - tok);

                        if (comma) {
                                if (asprintf(&rest, "%s,%s", tok + off, comma + 1) < 0)
                                        return -ENOMEM;
                        } else {
                                rest = strdup(tok + off);
                                if (!rest)
                                        return -ENOMEM;
                        }
                        r = set_once(&d.target, TAKE_PTR(rest), "target", spec, error);
                        if (r < 0)
                                return r;
                        d.has_target = true;
                        break;
                }
                if (eq) {
                        static const char * const keys[] = {
                                "format", "vdev", "access", "devtype", "backendtype",
                        };
                        char **fields[] = { &d.format, &d.vdev, &d.access, &d.devtype, &d.backendtype };
                        bool found = false;

                        *eq = '\0';
                        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                                if (streq(tok, keys[i])) {
                                        char *v = strdup(eq + 1);

                                        if (!v)
                                                return -ENOMEM;
                                        r = set_once(fields[i], v, keys[i], spec, error);
                                        if (r < 0)
                                                return r;
                                        found = true;
                                        break;
                                }
                        if (found)
                                continue;
                        if (streq(tok, "backend") || streq(tok, "script"))
                                return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED,
                                                "disk '%s': parameter '%s' is not supported", spec, tok);
                        return xl_error(error, XVP_ERR_CONF_SYNTAX, "disk '%s': unknown parameter '%s'",
                                        spec, tok);
                }

                /* Flags without a value. */
                if (streq(tok, "cdrom")) {
                        r = set_once(&d.devtype, strdup("cdrom"), "devtype", spec, error);
                        if (r < 0)
                                return r;
                        if (!d.devtype)
                                return -ENOMEM;
                        continue;
                }
                if (streq(tok, "discard") || streq(tok, "no-discard") || streq(tok, "direct-io-safe"))
                        continue;       /* performance hints the model does not carry */

                /* Positional. */
                if (pos == 1 && !isempty(tok) && !disk_format_known(tok))
                        pos = 2;        /* "SOURCE,VDEV,ACCESS": no format */
                switch (pos) {
                case 0:
                        r = set_once(&d.target, TAKE_PTR(tok), "target", spec, error);
                        d.has_target = true;
                        break;
                case 1:
                        r = isempty(tok) ? 0 : set_once(&d.format, TAKE_PTR(tok), "format", spec, error);
                        break;
                case 2:
                        r = isempty(tok) ? 0 : set_once(&d.vdev, TAKE_PTR(tok), "vdev", spec, error);
                        break;
                case 3:
                        r = isempty(tok) ? 0 : set_once(&d.access, TAKE_PTR(tok), "access", spec, error);
                        break;
                default:
                        return xl_error(error, XVP_ERR_CONF_SYNTAX, "disk '%s' has too many positional parameters",
                                        spec);
                }
                if (r < 0)
                        return r;
                pos++;
        }

        *ret = d;
        d = (XlDiskSpec) {};
        return 0;
}

/* Legacy prefixes of the target ("phy:", "file:", "tap:aio:", "qcow2:", ...), as xl reads them. */
static int strip_target_prefixes(char **target, char **driver, char **format) {
        for (unsigned i = 0; i < 2 && *target; i++) {
                static const char * const drivers[] = { "phy", "file", "tap", "tap2" };
                char *colon = strchr(*target, ':');
                size_t n;
                bool matched = false;

                if (!colon)
                        return 0;
                n = (size_t) (colon - *target);
                for (size_t j = 0; j < ELEMENTSOF(drivers); j++)
                        if (!*driver && strlen(drivers[j]) == n && strncmp(*target, drivers[j], n) == 0) {
                                *driver = strndup(*target, n);
                                if (!*driver)
                                        return -ENOMEM;
                                matched = true;
                        }
                if (!matched && !*format) {
                        _cleanup_free_ char *f = strndup(*target, n);

                        if (!f)
                                return -ENOMEM;
                        if (streq(f, "aio")) {
                                *format = strdup("raw");
                                if (!*format)
                                        return -ENOMEM;
                                matched = true;
                        } else if (disk_format_known(f)) {
                                *format = TAKE_PTR(f);
                                matched = true;
                        }
                }
                if (!matched)
                        return 0;
                memmove(*target, colon + 1, strlen(colon + 1) + 1);
        }
        return 0;
}

static int parse_disk(const char *spec, bool hvm, DomainDisk *ret, XvError *error) {
        _cleanup_(xl_disk_spec_done) XlDiskSpec s = {};
        _cleanup_(domain_disk_done) DomainDisk disk = {};
        _cleanup_free_ char *legacy_driver = NULL;
        char *colon;
        int r;

        r = xl_disk_spec_parse(spec, &s, error);
        if (r < 0)
                return r;

        if (s.target) {
                r = strip_target_prefixes(&s.target, &legacy_driver, &s.format);
                if (r < 0)
                        return r;
        }

        if (isempty(s.vdev))
                return xl_error(error, XVP_ERR_CONF_SYNTAX, "disk '%s' has no vdev", spec);
        disk.device = DOMAIN_DISK_DEVICE_DISK;
        colon = strchr(s.vdev, ':');
        if (colon) {
                if (!streq(colon, ":cdrom"))
                        return xl_error(error, XVP_ERR_CONF_SYNTAX, "disk '%s' has an invalid vdev '%s'",
                                        spec, s.vdev);
                disk.device = DOMAIN_DISK_DEVICE_CDROM;
                *colon = '\0';
        }
        if (!xen_disk_target_valid(s.vdev))
                return xl_error(error, XVP_ERR_CONF_SYNTAX, "disk '%s' has an invalid vdev '%s'", spec, s.vdev);
        if (strncmp(s.vdev, "fd", 2) == 0)
                return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED, "disk '%s': xl has no floppy devices", spec);

        if (s.devtype) {
                if (streq(s.devtype, "cdrom"))
                        disk.device = DOMAIN_DISK_DEVICE_CDROM;
                else if (!streq(s.devtype, "disk"))
                        return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED, "disk '%s' has an unknown devtype '%s'",
                                        spec, s.devtype);
        }

        if (s.format && !isempty(s.format)) {
                if (streq(s.format, "empty")) {
                        s.target = mfree(s.target);
                } else if (!disk_format_known(s.format))
                        return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED, "disk '%s' has an unknown format '%s'",
                                        spec, s.format);
                else
                        disk.driver_type = TAKE_PTR(s.format);
        }

        if (s.backendtype) {
                const char *name;

                if (streq(s.backendtype, "phy"))
                        name = "phy";
                else if (streq(s.backendtype, "tap"))
                        name = "tap";
                else if (streq(s.backendtype, "qdisk"))
                        name = "qemu";
                else
                        return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED,
                                        "disk '%s' has an unsupported backendtype '%s'", spec, s.backendtype);
                disk.driver_name = strdup(name);
        } else if (legacy_driver)
                disk.driver_name = TAKE_PTR(legacy_driver);
        else
                disk.driver_name = strdup(s.target && strncmp(s.target, "/dev/", 5) == 0 ? "phy" : "file");
        if (!disk.driver_name)
                return -ENOMEM;
        disk.type = streq(disk.driver_name, "phy") ? DOMAIN_DISK_TYPE_BLOCK : DOMAIN_DISK_TYPE_FILE;

        if (s.access) {
                if (streq(s.access, "ro") || streq(s.access, "r"))
                        disk.readonly = true;
                else if (streq(s.access, "w!") || streq(s.access, "rw!") || streq(s.access, "!"))
                        return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED,
                                        "disk '%s': shareable access '%s' is not supported by xl", spec, s.access);
                else if (!streq(s.access, "rw") && !streq(s.access, "w"))
                        return xl_error(error, XVP_ERR_CONF_SYNTAX, "disk '%s' has an invalid access '%s'",
                                        spec, s.access);
        } else if (disk.device == DOMAIN_DISK_DEVICE_CDROM)
                disk.readonly = true;   /* xl's default for CD-ROMs */

        if (isempty(s.target)) {
                if (disk.device != DOMAIN_DISK_DEVICE_CDROM)
                        return xl_error(error, XVP_ERR_CONF_SYNTAX, "disk '%s' has no target", spec);
                s.target = mfree(s.target);
        }

        if (strncmp(s.vdev, "xvd", 3) == 0 || !hvm)
                disk.bus = DOMAIN_DISK_BUS_XEN;
        else if (strncmp(s.vdev, "sd", 2) == 0)
                disk.bus = DOMAIN_DISK_BUS_SCSI;
        else
                disk.bus = DOMAIN_DISK_BUS_IDE;

        disk.src = TAKE_PTR(s.target);
        disk.dst = TAKE_PTR(s.vdev);
        *ret = disk;
        disk = (DomainDisk) {};
        return 0;
}

static int parse_disks(const XmConfig *c, DomainDef *def, XvError *error) {
        const XmValue *list;
        int r;

        r = xm_config_get_list(c, "disk", &list, error);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;

        for (size_t i = 0; i < list->n_items; i++) {
                DomainDisk disk, *slot;

                if (list->items[i].type != XM_VALUE_STRING)
                        return xl_error(error, XVP_ERR_CONF_SYNTAX, "disk entry %zu is not a string", i + 1);
                r = parse_disk(list->items[i].str, domain_def_is_hvm(def), &disk, error);
                if (r < 0)
                        return r;
                r = domain_def_add_device(def->disks, def->n_disks, &slot);
                if (r < 0) {
                        domain_disk_done(&disk);
                        return r == -E2BIG ? xl_error(error, XVP_ERR_CONF_SYNTAX, "too many disks") : r;
                }
                *slot = disk;
        }
        return 0;
}

/* device_model_args: only the floppy options, the one thing the model keeps there. */
static int parse_device_model_args(const XmConfig *c, DomainDef *def, XvError *error) {
        const XmValue *list;
        int r;

        r = xm_config_get_list(c, "device_model_args", &list, error);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (!domain_def_is_hvm(def) && list->n_items > 0)
                return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED, "device_model_args needs an HVM guest");

        for (size_t i = 0; i < list->n_items; i++) {
                const XmValue *opt = &list->items[i], *arg = i + 1 < list->n_items ? &list->items[i + 1] : NULL;
                DomainDisk *slot;

                if (opt->type != XM_VALUE_STRING || (!streq(opt->str, "-fda") && !streq(opt->str, "-fdb")))
                        return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED,
                                        "device_model_args: only -fda and -fdb are supported");
                if (!arg || arg->type != XM_VALUE_STRING || isempty(arg->str))
                        return xl_error(error, XVP_ERR_CONF_SYNTAX, "device_model_args: %s needs a path", opt->str);
                if (strlen(arg->str) > DOMAIN_STRING_MAX)
                        return xl_error(error, XVP_ERR_CONF_SYNTAX, "device_model_args: path too long");

                r = domain_def_add_device(def->disks, def->n_disks, &slot);
                if (r < 0)
                        return r == -E2BIG ? xl_error(error, XVP_ERR_CONF_SYNTAX, "too many disks") : r;
                *slot = (DomainDisk) {
                        .type = DOMAIN_DISK_TYPE_FILE,
                        .device = DOMAIN_DISK_DEVICE_FLOPPY,
                        .bus = DOMAIN_DISK_BUS_FDC,
                };
                slot->driver_name = strdup("file");
                slot->src = strdup(arg->str);
                slot->dst = strdup(opt->str + 1);
                if (!slot->driver_name || !slot->src || !slot->dst)
                        return -ENOMEM;
                i++;
        }
        return 0;
}

static int format_floppies(XmConfig *x, const DomainDef *def, XvError *error) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        for (size_t i = 0; i < def->n_disks; i++) {
                const DomainDisk *d = &def->disks[i];
                char *opt;

                if (d->device != DOMAIN_DISK_DEVICE_FLOPPY)
                        continue;
                if (!d->src)
                        continue;       /* an empty drive: nothing to tell qemu, as with xm's fda */
                if (asprintf(&opt, "-%s", d->dst) < 0)
                        return -ENOMEM;
                r = strv_push(&l, opt);
                if (r < 0)
                        return r;
                r = strv_extend(&l, d->src);
                if (r < 0)
                        return r;
        }
        if (!l)
                return 0;
        r = xm_config_set_list_strv(x, "device_model_args", TAKE_PTR(l));
        return r == -E2BIG ? xl_error(error, XVP_ERR_CONF_SYNTAX, "too many floppies") : r;
}

static int check_floppy(const DomainDef *def, const DomainDisk *d, XvError *error) {
        if (!domain_def_is_hvm(def))
                return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED, "floppy disk '%s' is not supported by xl",
                                strnull(d->dst));
        if (!streq_ptr(d->dst, "fda") && !streq_ptr(d->dst, "fdb"))
                return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED, "floppy target '%s' is not fda or fdb",
                                strnull(d->dst));
        if (d->src && (strchr(d->src, '\n') || d->transient))
                return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED, "floppy '%s' cannot be written to xl", d->dst);
        return 0;
}

static int format_disk(const DomainDisk *d, char **ret, XvError *error) {
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        const char *backend = NULL, *dst = d->dst;

        if (d->transient)
                return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED, "transient disks are not supported by xl");
        if (d->shareable)
                return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED, "shareable disks are not supported by xl");
        if (d->device == DOMAIN_DISK_DEVICE_FLOPPY)
                return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED, "floppy disk '%s' is not supported by xl",
                                strnull(d->dst));
        /* xend 3.0.2's "ioemu:" marker on HVM targets has no meaning to xl. */
        if (dst && strncmp(dst, "ioemu:", 6) == 0)
                dst += 6;
        if (isempty(dst))
                return xl_error(error, XVP_ERR_NO_TARGET, "disk has no target device");
        if (strchr(dst, ',') || strchr(dst, '=') || strchr(dst, ':'))
                return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED, "disk target '%s' cannot be written to xl", dst);

        if (d->driver_name) {
                if (streq(d->driver_name, "phy"))
                        backend = "phy";
                else if (streq(d->driver_name, "tap") || streq(d->driver_name, "tap2"))
                        backend = "tap";
                else if (streq(d->driver_name, "qemu"))
                        backend = "qdisk";
                else if (!streq(d->driver_name, "file"))
                        return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED,
                                        "disk driver '%s' cannot be written to an xl config", d->driver_name);
        } else if (d->type == DOMAIN_DISK_TYPE_BLOCK)
                backend = "phy";

        if (d->driver_type) {
                const char *f = streq(d->driver_type, "aio") ? "raw" : d->driver_type;

                if (!disk_format_known(f))
                        return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED,
                                        "disk format '%s' cannot be written to an xl config", d->driver_type);
                strbuf_appendf(&b, "format=%s, ", f);
        }
        strbuf_appendf(&b, "vdev=%s, access=%s", dst, d->readonly ? "ro" : "rw");
        if (d->device == DOMAIN_DISK_DEVICE_CDROM)
                strbuf_append(&b, ", devtype=cdrom");
        if (backend)
                strbuf_appendf(&b, ", backendtype=%s", backend);
        if (d->src)
                strbuf_appendf(&b, ", target=%s", d->src);
        else if (d->device != DOMAIN_DISK_DEVICE_CDROM)
                return xl_error(error, XVP_ERR_NO_SOURCE, "disk '%s' has no source", dst);
        return strbuf_steal(&b, ret);
}

/* ------------------------------------------------------------------------------------------ */
/* List items rewritten between the two spellings. */

/* Calls @fn on every token of a comma-separated item; @fn returns the replacement (a new string,
 * or NULL to drop the token) through *ret_tok. */
typedef int (*TokenFn)(const char *tok, char **ret_tok, void *userdata);

static int rewrite_tokens(const char *item, TokenFn fn, void *userdata, char **ret) {
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        const char *p = item;
        bool first = true;
        int r;

        while (p) {
                const char *comma = strchr(p, ',');
                size_t len = comma ? (size_t) (comma - p) : strlen(p);
                _cleanup_free_ char *tok = strip_dup(p, len), *out = NULL;

                if (!tok)
                        return -ENOMEM;
                p = comma ? comma + 1 : NULL;
                if (isempty(tok))
                        continue;
                r = fn(tok, &out, userdata);
                if (r < 0)
                        return r;
                if (!out)
                        continue;
                if (!first)
                        strbuf_appendc(&b, ',');
                strbuf_append(&b, out);
                first = false;
        }
        if (first)
                strbuf_append(&b, "");
        return strbuf_steal(&b, ret);
}

static int tok_copy(const char *tok, char **ret) {
        *ret = strdup(tok);
        return *ret ? 0 : -ENOMEM;
}

typedef struct VfbState {
        int vnc, sdl;           /* -1 = not said */
} VfbState;

static int vfb_xl_to_xm_tok(const char *tok, char **ret, void *userdata) {
        VfbState *st = userdata;

        if (strncmp(tok, "vnc=", 4) == 0) {
                st->vnc = !streq(tok + 4, "0");
                *ret = NULL;
                return 0;
        }
        if (strncmp(tok, "sdl=", 4) == 0) {
                st->sdl = !streq(tok + 4, "0");
                *ret = NULL;
                return 0;
        }
        if (strncmp(tok, "type=", 5) == 0) {
                *ret = NULL;
                return 0;
        }
        return tok_copy(tok, ret);
}

static int vfb_xl_to_xm(const char *item, char **ret) {
        _cleanup_free_ char *rest = NULL;
        VfbState st = { -1, -1 };
        bool sdl;
        int r;

        r = rewrite_tokens(item, vfb_xl_to_xm_tok, &st, &rest);
        if (r < 0)
                return r;
        /* xl enables VNC unless told otherwise. */
        sdl = st.sdl > 0 && st.vnc <= 0;
        if (asprintf(ret, "type=%s%s%s", sdl ? "sdl" : "vnc", isempty(rest) ? "" : ",", rest) < 0)
                return -ENOMEM;
        return 0;
}

static int vfb_xm_to_xl_tok(const char *tok, char **ret, void *userdata _unused_) {
        if (streq(tok, "type=vnc"))
                return tok_copy("vnc=1", ret);
        if (streq(tok, "type=sdl"))
                return tok_copy("sdl=1,vnc=0", ret);
        return tok_copy(tok, ret);
}

static int vif_xl_to_xm_tok(const char *tok, char **ret, void *userdata _unused_) {
        if (streq(tok, "type=vif"))
                return tok_copy("type=netfront", ret);
        return tok_copy(tok, ret);
}

static int vif_xm_to_xl_tok(const char *tok, char **ret, void *userdata _unused_) {
        if (streq(tok, "type=netfront"))
                return tok_copy("type=vif", ret);
        return tok_copy(tok, ret);
}

/* Sets @key in @dst to the list @src with every string item rewritten. */
static int set_rewritten_list(XmConfig *dst, const char *key, const XmValue *src, TokenFn fn,
                              int (*whole)(const char *, char **), XvError *error) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        if (src->type != XM_VALUE_LIST)
                return xl_error(error, XVP_ERR_CONF_SYNTAX, "config value %s must be a list", key);
        for (size_t i = 0; i < src->n_items; i++) {
                char *s = NULL;

                if (src->items[i].type != XM_VALUE_STRING)
                        continue;
                if (strlen(src->items[i].str) > XL_SPEC_MAX)
                        return xl_error(error, XVP_ERR_CONF_SYNTAX, "config value %s has an item longer than %u bytes",
                                        key, (unsigned) XL_SPEC_MAX);
                r = whole ? whole(src->items[i].str, &s) : rewrite_tokens(src->items[i].str, fn, NULL, &s);
                if (r < 0)
                        return r;
                r = strv_push(&l, s);
                if (r < 0)
                        return r;
        }
        if (!l) {
                XmValue empty = { .type = XM_VALUE_LIST };

                return xm_config_set_value(dst, key, &empty);
        }
        r = xm_config_set_list_strv(dst, key, TAKE_PTR(l));
        return r == -E2BIG ? xl_error(error, XVP_ERR_CONF_SYNTAX, "too many entries for %s", key) : r;
}

/* ------------------------------------------------------------------------------------------ */
/* Reading */

/* Keys handled here rather than passed to the XM converter. */
static const char * const xl_own_keys[] = {
        "type", "builder", "disk", "vfb", "vif", "kernel", "ramdisk", "extra", "root", "cmdline", "loader",
        "firmware_override", "bootloader_args", "bootargs", "device_model_override", "device_model",
        "device_model_version", "device_model_args", "usbdevice", "fda", "fdb", "cdrom", "vcpu_avail",
        "parallel",
};

static bool is_own_key(const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(xl_own_keys); i++)
                if (streq(key, xl_own_keys[i]))
                        return true;
        return false;
}

static int parse_type(const XmConfig *c, bool *ret_hvm, XvError *error) {
        const char *type, *builder;
        int r;

        r = get_opt_string(c, "type", &type, error);
        if (r < 0)
                return r;
        if (type) {
                if (streq(type, "hvm"))
                        *ret_hvm = true;
                else if (streq(type, "pv"))
                        *ret_hvm = false;
                else if (streq(type, "pvh"))
                        return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED, "PVH guests (type = \"pvh\") are not supported");
                else
                        return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED, "unknown guest type '%s'", type);
                return 0;
        }

        /* xl still reads the deprecated builder key. */
        r = get_opt_string(c, "builder", &builder, error);
        if (r < 0)
                return r;
        if (!builder || streq(builder, "generic") || streq(builder, "linux"))
                *ret_hvm = false;
        else if (streq(builder, "hvm"))
                *ret_hvm = true;
        else
                return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED, "unknown builder '%s'", builder);
        return 0;
}

/* bootloader_args: a list (xl) or a string (deprecated). */
static int get_bootloader_args(const XmConfig *c, char **ret, XvError *error) {
        const XmValue *v = xm_config_get(c, "bootloader_args");
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        if (!v)
                return 0;
        if (v->type == XM_VALUE_STRING)
                return free_and_strdup(ret, v->str);
        if (v->type != XM_VALUE_LIST)
                return xl_error(error, XVP_ERR_CONF_SYNTAX, "config value bootloader_args was malformed");
        for (size_t i = 0; i < v->n_items; i++) {
                if (v->items[i].type != XM_VALUE_STRING)
                        return xl_error(error, XVP_ERR_CONF_SYNTAX, "config value bootloader_args was malformed");
                if (i > 0)
                        strbuf_appendc(&b, ' ');
                strbuf_append(&b, v->items[i].str);
        }
        if (b.len > DOMAIN_STRING_MAX)
                return xl_error(error, XVP_ERR_CONF_SYNTAX, "config value bootloader_args is too long");
        free(*ret);
        *ret = NULL;
        return strbuf_steal(&b, ret);
}

static int parse_cmdline(const XmConfig *c, DomainDef *def, XvError *error) {
        const char *cmdline, *extra, *root;
        int r;

        r = get_opt_string(c, "cmdline", &cmdline, error);
        if (r < 0)
                return r;
        if (cmdline)
                return free_and_strdup(&def->cmdline, cmdline);

        r = get_opt_string(c, "extra", &extra, error);
        if (r < 0)
                return r;
        r = get_opt_string(c, "root", &root, error);
        if (r < 0)
                return r;
        free(def->cmdline);
        def->cmdline = NULL;
        if (root) {
                if (asprintf(&def->cmdline, "root=%s%s%s", root, extra ? " " : "", strempty(extra)) < 0) {
                        def->cmdline = NULL;
                        return -ENOMEM;
                }
                return 0;
        }
        return free_and_strdup(&def->cmdline, extra);
}

int xl_domain_to_def(const XmConfig *c, DomainDef **ret, XvError *error) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_(xm_config_freep) XmConfig *m = NULL;
        const XmValue *v;
        const char *s;
        bool hvm = false;
        int r;

        assert(c);
        assert(ret);

        r = parse_type(c, &hvm, error);
        if (r < 0)
                return r;

        r = get_opt_string(c, "device_model_version", &s, error);
        if (r < 0)
                return r;
        if (s && !streq(s, "qemu-xen") && !streq(s, "qemu-xen-traditional"))
                return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED, "unknown device_model_version '%s'", s);

        /* The XM view of the file. */
        r = xm_config_new(&m);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->n_entries; i++) {
                const XmEntry *e = &c->entries[i];

                if (!e->key || is_own_key(e->key))
                        continue;
                r = xm_config_set_value(m, e->key, &e->value);
                if (r < 0)
                        return r == -E2BIG ? xl_error(error, XVP_ERR_CONF_SYNTAX, "too many entries in the config") : r;
        }
        if (hvm) {
                r = xm_config_set_string(m, "builder", "hvm");
                if (r < 0)
                        return r;
        } else
                for (const char *const *k = (const char *const[]) { "kernel", "ramdisk", "bootloader", NULL }; *k; k++) {
                        v = xm_config_get(c, *k);
                        if (!v)
                                continue;
                        r = xm_config_set_value(m, *k, v);
                        if (r < 0)
                                return r;
                }
        v = xm_config_get(c, "device_model_override");
        if (v) {
                r = xm_config_set_value(m, "device_model", v);
                if (r < 0)
                        return r;
        }
        v = xm_config_get(c, "vfb");
        if (v) {
                r = set_rewritten_list(m, "vfb", v, NULL, vfb_xl_to_xm, error);
                if (r < 0)
                        return r;
        }
        v = xm_config_get(c, "vif");
        if (v) {
                r = set_rewritten_list(m, "vif", v, vif_xl_to_xm_tok, NULL, error);
                if (r < 0)
                        return r;
        }
        v = xm_config_get(c, "usbdevice");
        if (v) {
                const XmValue *one = v;

                if (v->type == XM_VALUE_LIST) {
                        if (v->n_items > 1)
                                return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED,
                                                "more than one usbdevice is not supported");
                        one = v->n_items == 1 ? &v->items[0] : NULL;
                }
                if (one) {
                        if (one->type != XM_VALUE_STRING)
                                return xl_error(error, XVP_ERR_CONF_SYNTAX, "config value usbdevice was malformed");
                        if (!streq(one->str, "mouse") && !streq(one->str, "tablet") &&
                            !streq(one->str, "keyboard"))
                                return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED, "unsupported usbdevice '%s'",
                                                one->str);
                        r = xm_config_set_string(m, "usbdevice", one->str);
                        if (r < 0)
                                return r;
                }
        }

        r = xm_domain_to_def(m, XL_XM_VERSION, &def, error);
        if (r < 0)
                return r;

        /* The OS keys. */
        if (hvm) {
                r = copy_opt_string(c, "firmware_override", &def->loader, error);
                if (r < 0)
                        return r;
                r = copy_opt_string(c, "kernel", &def->kernel, error);
                if (r < 0)
                        return r;
                r = copy_opt_string(c, "ramdisk", &def->initrd, error);
                if (r < 0)
                        return r;
                if (def->kernel) {
                        r = parse_cmdline(c, def, error);
                        if (r < 0)
                                return r;
                }
        } else {
                r = parse_cmdline(c, def, error);
                if (r < 0)
                        return r;
                r = get_bootloader_args(c, &def->bootloader_args, error);
                if (r < 0)
                        return r;
        }

        r = parse_disks(c, def, error);
        if (r < 0)
                return r;
        r = parse_device_model_args(c, def, error);
        if (r < 0)
                return r;

        r = domain_def_validate(def, error);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(def);
        return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing */

static int check_expressible(const DomainDef *def, XvError *error) {
        if (def->n_parallels > 0)
                return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED, "parallel ports are not supported by xl");
        for (size_t i = 0; i < def->n_disks; i++) {
                _cleanup_free_ char *s = NULL;
                int r;

                if (def->disks[i].device == DOMAIN_DISK_DEVICE_FLOPPY) {
                        r = check_floppy(def, &def->disks[i], error);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = format_disk(&def->disks[i], &s, error);
                if (r < 0)
                        return r;
        }
        if (def->bootloader_args && strchr(def->bootloader_args, '\n'))
                return xl_error(error, XVP_ERR_CONFIG_UNSUPPORTED, "bootloader arguments must be one line");
        return 0;
}

static int set_opt_string(XmConfig *c, const char *key, const char *value) {
        return value ? xm_config_set_string(c, key, value) : 0;
}

static int format_os(XmConfig *x, const DomainDef *def) {
        int r;

        if (domain_def_is_hvm(def)) {
                r = set_opt_string(x, "firmware_override", def->loader);
                if (r < 0)
                        return r;
        } else {
                r = set_opt_string(x, "bootloader", def->bootloader);
                if (r < 0)
                        return r;
                /* The deprecated string form: one string, as the model holds it. */
                r = set_opt_string(x, "bootloader_args", def->bootloader_args);
                if (r < 0)
                        return r;
        }
        r = set_opt_string(x, "kernel", def->kernel);
        if (r < 0)
                return r;
        r = set_opt_string(x, "ramdisk", def->initrd);
        if (r < 0)
                return r;
        if (def->root) {
                _cleanup_free_ char *cmdline = NULL;

                if (asprintf(&cmdline, "root=%s%s%s", def->root, def->cmdline ? " " : "",
                             strempty(def->cmdline)) < 0)
                        return -ENOMEM;
                return xm_config_set_string(x, "cmdline", cmdline);
        }
        if (domain_def_is_hvm(def) && !def->kernel)
                return 0;
        return set_opt_string(x, "cmdline", def->cmdline);
}

int xl_domain_from_def(const DomainDef *def, XmConfig **ret, XvError *error) {
        _cleanup_(xm_config_freep) XmConfig *m = NULL, *x = NULL;
        _cleanup_strv_free_ char **disks = NULL;
        DomainDef tmp;
        unsigned current;
        int r;

        assert(def);
        assert(ret);

        r = check_expressible(def, error);
        if (r < 0)
                return r;

        /* The common keys from the XM converter, without what xl spells differently. */
        tmp = *def;
        tmp.disks = NULL;
        tmp.n_disks = 0;
        r = xm_domain_from_def(&tmp, XL_XM_VERSION, &m, error);
        if (r < 0)
                return r;

        r = xm_config_new(&x);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_entries; i++) {
                const XmEntry *e = &m->entries[i];

                if (!e->key)
                        continue;
                if (streq(e->key, "name") || streq(e->key, "uuid")) {
                        r = xm_config_set_value(x, e->key, &e->value);
                        if (r < 0)
                                return r;
                        if (streq(e->key, "uuid")) {
                                r = xm_config_set_string(x, "type", domain_def_is_hvm(def) ? "hvm" : "pv");
                                if (r < 0)
                                        return r;
                        }
                        continue;
                }
                if (streq(e->key, "vcpus")) {
                        current = domain_def_current_vcpus(def);
                        r = xm_config_set_int(x, "vcpus", current);
                        if (r < 0)
                                return r;
                        if (current < def->vcpus) {
                                r = xm_config_set_int(x, "maxvcpus", def->vcpus);
                                if (r < 0)
                                        return r;
                        }
                        continue;
                }
                if (streq(e->key, "device_model")) {
                        const char *slash;

                        if (e->value.type != XM_VALUE_STRING)
                                continue;
                        slash = strrchr(e->value.str, '/');
                        r = xm_config_set_string(x, "device_model_version",
                                                 strstr(slash ? slash + 1 : e->value.str, "qemu-dm") ?
                                                 "qemu-xen-traditional" : "qemu-xen");
                        if (r < 0)
                                return r;
                        r = xm_config_set_value(x, "device_model_override", &e->value);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (streq(e->key, "vfb")) {
                        r = set_rewritten_list(x, "vfb", &e->value, vfb_xm_to_xl_tok, NULL, error);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (streq(e->key, "vif")) {
                        r = set_rewritten_list(x, "vif", &e->value, vif_xm_to_xl_tok, NULL, error);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (streq(e->key, "usbdevice") && e->value.type == XM_VALUE_STRING) {
                        _cleanup_strv_free_ char **l = NULL;

                        r = strv_extend(&l, e->value.str);
                        if (r < 0)
                                return r;
                        r = xm_config_set_list_strv(x, "usbdevice", TAKE_PTR(l));
                        if (r < 0)
                                return r;
                        continue;
                }
                if (is_own_key(e->key) || streq(e->key, "maxvcpus"))
                        continue;
                r = xm_config_set_value(x, e->key, &e->value);
                if (r < 0)
                        return r;
        }

        r = format_os(x, def);
        if (r < 0)
                return r;

        for (size_t i = 0; i < def->n_disks; i++) {
                char *s = NULL;

                if (def->disks[i].device == DOMAIN_DISK_DEVICE_FLOPPY)
                        continue;
                r = format_disk(&def->disks[i], &s, error);
                if (r < 0)
                        return r;
                r = strv_push(&disks, s);
                if (r < 0)
                        return r;
        }
        if (disks) {
                r = xm_config_set_list_strv(x, "disk", TAKE_PTR(disks));
                if (r < 0)
                        return r == -E2BIG ? xl_error(error, XVP_ERR_CONF_SYNTAX, "too many disks") : r;
        }

        r = format_floppies(x, def, error);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(x);
        return 0;
}

int xl_domain_parse_text(const char *text, DomainDef **ret, XvError *error) {
        _cleanup_(xm_config_freep) XmConfig *c = NULL;
        int r;

        r = xm_config_parse(text, &c, error);
        if (r < 0)
                return xv_error_domain(error, XVP_FROM_XENXL, r);
        r = xl_domain_to_def(c, ret, error);
        return r < 0 ? xv_error_domain(error, XVP_FROM_XENXL, r) : r;
}

int xl_domain_format_text(const DomainDef *def, char **ret, XvError *error) {
        _cleanup_(xm_config_freep) XmConfig *c = NULL;
        int r;

        r = xl_domain_from_def(def, &c, error);
        if (r < 0)
                return xv_error_domain(error, XVP_FROM_XENXL, r);
        r = xm_config_format(c, ret, error);
        return r < 0 ? xv_error_domain(error, XVP_FROM_XENXL, r) : r;
}
