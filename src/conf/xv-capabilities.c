/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "xv-alloc.h"
#include "xv-capabilities.h"
#include "xv-strbuf.h"

#define XEN_EMULATOR            "/usr/lib/xen/bin/qemu-dm"
#define XEN_EMULATOR_LIB64      "/usr/lib64/xen/bin/qemu-dm"
#define XEN_HVM_LOADER          "/usr/lib/xen/boot/hvmloader"

static const char *const dialect_table[_CAPABILITIES_DIALECT_MAX] = {
        [CAPABILITIES_DIALECT_CURRENT] = "current",
        [CAPABILITIES_DIALECT_2007]    = "2007",
};

const char *capabilities_dialect_to_string(CapabilitiesDialect d) {
        if (d < 0 || d >= _CAPABILITIES_DIALECT_MAX)
                return NULL;
        return dialect_table[d];
}

CapabilitiesDialect capabilities_dialect_from_string(const char *s) {
        if (!s)
                return _CAPABILITIES_DIALECT_INVALID;
        for (size_t i = 0; i < ELEMENTSOF(dialect_table); i++)
                if (streq(s, dialect_table[i]))
                        return (CapabilitiesDialect) i;
        return _CAPABILITIES_DIALECT_INVALID;
}

static bool is_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* Names end up as element names (<vmx/>, <acpi .../>) or element text, so they are restricted to
 * what is safe as both: a letter or '_' first, then letters, digits, '_', '-' and '.'. */
static bool name_is_valid(const char *s) {
        size_t n;

        if (isempty(s))
                return false;
        n = strnlen(s, CAPABILITIES_NAME_MAX + 1);
        if (n > CAPABILITIES_NAME_MAX)
                return false;
        if (!is_alpha(s[0]) && s[0] != '_')
                return false;
        for (size_t i = 1; i < n; i++)
                if (!is_alpha(s[i]) && !is_digit(s[i]) && !strchr("_-.", s[i]))
                        return false;
        return true;
}

static int check_name(const char *what, const char *s, XvError *error) {
        if (!name_is_valid(s))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Invalid %s '%.*s': expected 1 to %d letters, digits, '_', '-' or '.', "
                                     "starting with a letter or '_'",
                                     what, CAPABILITIES_NAME_MAX, strempty(s), CAPABILITIES_NAME_MAX);
        return 0;
}

static int check_path(const char *what, const char *s, XvError *error) {
        size_t n = strnlen(s, CAPABILITIES_PATH_MAX + 1);

        if (n > CAPABILITIES_PATH_MAX)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "The %s path is longer than %d bytes",
                                     what, CAPABILITIES_PATH_MAX);
        if (s[0] != '/')
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "The %s path '%s' is not absolute",
                                     what, s);
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                             "The %s path contains the control character 0x%02x",
                                             what, (unsigned) (unsigned char) s[i]);
        return 0;
}

/* Grows a small, bounded array by one element. Returns 0 or -ENOMEM; *p is untouched on failure. */
static int array_grow(void **p, size_t n, size_t size) {
        void *q;

        if (n >= SIZE_MAX / size - 1)
                return -ENOMEM;
        q = realloc(*p, (n + 1) * size);
        if (!q)
                return -ENOMEM;
        *p = q;
        return 0;
}

static CapabilitiesGuest *guest_free(CapabilitiesGuest *g) {
        if (!g)
                return NULL;
        free(g->os_type);
        free(g->arch);
        free(g->emulator);
        free(g->loader);
        strv_free(g->machines);
        free(g->domain_type);
        for (size_t i = 0; i < g->n_features; i++)
                free(g->features[i].name);
        free(g->features);
        return mfree(g);
}
DEFINE_CLEANUP_FUNC(CapabilitiesGuest *, guest_free);

Capabilities *capabilities_free(Capabilities *caps) {
        if (!caps)
                return NULL;
        free(caps->host_arch);
        strv_free(caps->host_features);
        strv_free(caps->migration_transports);
        for (size_t i = 0; i < caps->n_cells; i++)
                free(caps->cells[i].cpus);
        free(caps->cells);
        for (size_t i = 0; i < caps->n_guests; i++)
                guest_free(caps->guests[i]);
        free(caps->guests);
        return mfree(caps);
}

int capabilities_new(const char *host_arch, CapabilitiesDialect dialect, Capabilities **ret,
                     XvError *error) {
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;
        int r;

        assert(ret);

        if (!capabilities_dialect_to_string(dialect))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Unknown capabilities dialect %d",
                                     (int) dialect);
        /* uname's machine field: stricter than other names, it is also compared with guest arches. */
        r = check_name("host architecture", host_arch, error);
        if (r < 0)
                return r;
        if (strpbrk(host_arch, "-."))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Invalid host architecture '%s'",
                                     host_arch);

        caps = new0(Capabilities, 1);
        if (!caps)
                return -ENOMEM;
        caps->dialect = dialect;
        caps->host_arch = strdup(host_arch);
        if (!caps->host_arch)
                return -ENOMEM;

        *ret = TAKE_PTR(caps);
        return 0;
}

int capabilities_set_uuid(Capabilities *caps, const XvUuid *uuid) {
        assert(caps);
        assert(uuid);

        caps->uuid = *uuid;
        caps->has_uuid = true;
        return 0;
}

static int strv_add_unique(char ***l, size_t max, const char *what, const char *s, XvError *error) {
        int r;

        r = check_name(what, s, error);
        if (r < 0)
                return r;
        if (strv_contains(*l, s))
                return 0;
        if (strv_length(*l) >= max)
                return xv_error_setf(error, XVP_ERR_OVERFLOW, "Too many %ss (at most %zu)", what, max);
        return strv_extend(l, s);
}

int capabilities_add_host_feature(Capabilities *caps, const char *name, XvError *error) {
        assert(caps);
        return strv_add_unique(&caps->host_features, CAPABILITIES_HOST_FEATURES_MAX, "host feature",
                               name, error);
}

int capabilities_add_migration_transport(Capabilities *caps, const char *transport, XvError *error) {
        assert(caps);
        return strv_add_unique(&caps->migration_transports, CAPABILITIES_TRANSPORTS_MAX,
                               "migration transport", transport, error);
}

static CapabilitiesGuest *find_guest_exact(const Capabilities *caps, const char *os_type, const char *arch) {
        for (size_t i = 0; i < caps->n_guests; i++)
                if (streq(caps->guests[i]->os_type, os_type) && streq(caps->guests[i]->arch, arch))
                        return caps->guests[i];
        return NULL;
}

int capabilities_add_guest(Capabilities *caps, const char *os_type, const char *arch, unsigned wordsize,
                           const char *emulator, const char *loader, char * const *machines,
                           CapabilitiesGuest **ret_guest, XvError *error) {
        _cleanup_(guest_freep) CapabilitiesGuest *g = NULL;
        int r;

        assert(caps);

        r = check_name("guest OS type", os_type, error);
        if (r < 0)
                return r;
        r = check_name("guest architecture", arch, error);
        if (r < 0)
                return r;
        /* The schema's choice: s390 has 31-bit guests. */
        if (wordsize != 31 && wordsize != 32 && wordsize != 64)
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Invalid word size %u for '%s', expected 31, 32 or 64", wordsize, arch);
        if (emulator) {
                r = check_path("emulator", emulator, error);
                if (r < 0)
                        return r;
        }
        if (loader) {
                r = check_path("loader", loader, error);
                if (r < 0)
                        return r;
        }
        if (strv_length(machines) > CAPABILITIES_MACHINES_MAX)
                return xv_error_setf(error, XVP_ERR_OVERFLOW, "Too many machine types for '%s' (at most %d)",
                                     arch, CAPABILITIES_MACHINES_MAX);
        STRV_FOREACH(m, machines) {
                r = check_name("machine type", *m, error);
                if (r < 0)
                        return r;
        }
        if (find_guest_exact(caps, os_type, arch))
                return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                     "Duplicate guest '%s' for architecture '%s'", os_type, arch);
        if (caps->n_guests >= CAPABILITIES_GUESTS_MAX)
                return xv_error_setf(error, XVP_ERR_OVERFLOW, "Too many guests (at most %d)",
                                     CAPABILITIES_GUESTS_MAX);

        g = new0(CapabilitiesGuest, 1);
        if (!g)
                return -ENOMEM;
        g->wordsize = wordsize;
        g->os_type = strdup(os_type);
        g->arch = strdup(arch);
        g->domain_type = strdup("xen");
        if (!g->os_type || !g->arch || !g->domain_type)
                return -ENOMEM;
        if (strdup_or_null(emulator, &g->emulator) < 0 || strdup_or_null(loader, &g->loader) < 0)
                return -ENOMEM;
        STRV_FOREACH(m, machines) {
                r = strv_extend(&g->machines, *m);
                if (r < 0)
                        return r;
        }

        r = array_grow((void **) &caps->guests, caps->n_guests, sizeof(caps->guests[0]));
        if (r < 0)
                return r;
        caps->guests[caps->n_guests++] = g;
        if (ret_guest)
                *ret_guest = g;
        TAKE_PTR(g);
        return 0;
}

int capabilities_guest_add_feature(CapabilitiesGuest *guest, const char *name, bool has_toggle,
                                   bool default_on, bool toggle, XvError *error) {
        _cleanup_free_ char *copy = NULL;
        int r;

        assert(guest);

        r = check_name("guest feature", name, error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < guest->n_features; i++)
                if (streq(guest->features[i].name, name))
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Duplicate guest feature '%s'",
                                             name);
        if (guest->n_features >= CAPABILITIES_FEATURES_MAX)
                return xv_error_setf(error, XVP_ERR_OVERFLOW, "Too many guest features (at most %d)",
                                     CAPABILITIES_FEATURES_MAX);

        copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        r = array_grow((void **) &guest->features, guest->n_features, sizeof(guest->features[0]));
        if (r < 0)
                return r;
        guest->features[guest->n_features++] = (CapabilitiesFeature) {
                .name = TAKE_PTR(copy),
                .has_toggle = has_toggle,
                .default_on = default_on,
                .toggle = toggle,
        };
        return 0;
}

int capabilities_add_numa_cell(Capabilities *caps, unsigned id, const unsigned *cpus, size_t n_cpus,
                               uint64_t memory_kib, XvError *error) {
        /* One bit per possible CPU id (512 bytes): a CPU belongs to exactly one node. */
        uint8_t seen[CAPABILITIES_CPUS_MAX / 8] = {};
        _cleanup_free_ unsigned *copy = NULL;
        int r;

        assert(caps);
        assert(cpus || n_cpus == 0);

        if (caps->n_cells >= CAPABILITIES_CELLS_MAX)
                return xv_error_setf(error, XVP_ERR_OVERFLOW, "Too many NUMA cells (at most %d)",
                                     CAPABILITIES_CELLS_MAX);
        if (n_cpus > CAPABILITIES_CPUS_MAX)
                return xv_error_setf(error, XVP_ERR_OVERFLOW,
                                     "Too many CPUs in NUMA cell %u (%zu, at most %d)",
                                     id, n_cpus, CAPABILITIES_CPUS_MAX);
        for (size_t i = 0; i < caps->n_cells; i++) {
                if (caps->cells[i].id == id)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG, "Duplicate NUMA cell %u", id);
                for (size_t j = 0; j < caps->cells[i].n_cpus; j++)
                        seen[caps->cells[i].cpus[j] / 8] |= 1u << (caps->cells[i].cpus[j] % 8);
        }
        for (size_t i = 0; i < n_cpus; i++) {
                if (cpus[i] >= CAPABILITIES_CPUS_MAX)
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                             "CPU %u of NUMA cell %u is out of range (at most %d)",
                                             cpus[i], id, CAPABILITIES_CPUS_MAX - 1);
                if (seen[cpus[i] / 8] & (1u << (cpus[i] % 8)))
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                             "CPU %u of NUMA cell %u is listed twice", cpus[i], id);
                seen[cpus[i] / 8] |= 1u << (cpus[i] % 8);
        }

        copy = new(unsigned, n_cpus);
        if (!copy)
                return -ENOMEM;
        if (n_cpus > 0)
                memcpy(copy, cpus, n_cpus * sizeof(unsigned));

        r = array_grow((void **) &caps->cells, caps->n_cells, sizeof(caps->cells[0]));
        if (r < 0)
                return r;
        caps->cells[caps->n_cells++] = (CapabilitiesCell) {
                .id = id,
                .memory_kib = memory_kib,
                .cpus = TAKE_PTR(copy),
                .n_cpus = n_cpus,
        };
        return 0;
}

const CapabilitiesGuest *capabilities_find_guest(const Capabilities *caps, const char *os_type,
                                                 const char *arch) {
        const CapabilitiesGuest *first = NULL;

        assert(caps);

        if (!os_type)
                return NULL;
        if (arch)
                return find_guest_exact(caps, os_type, arch);

        for (size_t i = 0; i < caps->n_guests; i++) {
                if (!streq(caps->guests[i]->os_type, os_type))
                        continue;
                if (streq(caps->guests[i]->arch, caps->host_arch))
                        return caps->guests[i];
                if (!first)
                        first = caps->guests[i];
        }
        return first;
}

int capabilities_list_guest_types(const Capabilities *caps, CapabilitiesGuestType **ret, size_t *ret_n) {
        _cleanup_free_ CapabilitiesGuestType *l = NULL;

        assert(caps);
        assert(ret);
        assert(ret_n);

        if (caps->n_guests > 0) {
                l = new(CapabilitiesGuestType, caps->n_guests);
                if (!l)
                        return -ENOMEM;
                for (size_t i = 0; i < caps->n_guests; i++)
                        l[i] = (CapabilitiesGuestType) {
                                .os_type = caps->guests[i]->os_type,
                                .arch = caps->guests[i]->arch,
                        };
        }

        *ret_n = caps->n_guests;
        *ret = TAKE_PTR(l);
        return 0;
}

/*
 * Xen: /proc/cpuinfo and xen_caps.
 */

typedef struct XenGuestArch {
        const char *arch;
        unsigned wordsize;
        bool hvm;
        bool pae;
        bool nonpae;
        bool ia64_be;
} XenGuestArch;

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool word_is(const char *w, size_t n, const char *s) {
        return strlen(s) == n && memcmp(w, s, n) == 0;
}

/* Scans the "flags" lines of /proc/cpuinfo. libvirt matched each line first against
 * "^flags[[:blank:]]+:.* (vmx|svm)[[:space:]]" and only if that failed against the same pattern
 * for " pae": a host whose flags lines name vmx or svm was therefore never reported with <pae/>,
 * although every such CPU has PAE (the i686 case of libvirt's xencapstest shows only <vmx/>).
 * Clients have compared against that output for years, so it is kept. The last matching line
 * decides vmx versus svm. */
static void cpuinfo_scan(const char *cpuinfo, const char **ret_hvm, bool *ret_pae) {
        const char *hvm = NULL;
        bool pae = false;

        for (const char *line = cpuinfo; line && *line; ) {
                const char *eol = strchrnul(line, '\n');
                const char *p = line;
                const char *line_hvm = NULL;
                bool line_pae = false;

                if (strncmp(p, "flags", 5) == 0 && is_blank(p[5])) {
                        p += 5;
                        while (p < eol && is_blank(*p))
                                p++;
                        if (p < eol && *p == ':') {
                                p++;
                                while (p < eol) {
                                        const char *w;

                                        while (p < eol && is_space(*p))
                                                p++;
                                        w = p;
                                        while (p < eol && !is_space(*p))
                                                p++;
                                        if (p == w)
                                                break;
                                        if (word_is(w, p - w, "vmx"))
                                                line_hvm = "vmx";
                                        else if (word_is(w, p - w, "svm"))
                                                line_hvm = "svm";
                                        else if (word_is(w, p - w, "pae"))
                                                line_pae = true;
                                }
                        }
                }

                if (line_hvm)
                        hvm = line_hvm;
                else if (line_pae)
                        pae = true;

                line = *eol ? eol + 1 : eol;
        }

        *ret_hvm = hvm;
        *ret_pae = pae;
}

/* The guest architectures Xen names in its capability tokens ("TYPE-VERSION-ARCH"), with the
 * flavour suffix ("p": PAE; "be": big-endian ia64) spelled out. */
static const struct {
        const char *xen_name;
        const char *arch;
        unsigned wordsize;
        bool pae;
        bool nonpae;
        bool ia64_be;
} xen_arch_table[] = {
        { "x86_32",    "i686",   32, .nonpae = true },
        { "x86_32p",   "i686",   32, .pae = true },
        { "x86_64",    "x86_64", 64 },
        { "ia64",      "ia64",   64 },
        { "ia64be",    "ia64",   64, .ia64_be = true },
        { "powerpc64", "ppc64",  64 },
};

/* Splits a token of the shape TYPE-MAJOR.MINOR-ARCH (TYPE lower-case letters, ARCH letters, digits
 * and '_'). Returns false when the token does not have that shape. */
static bool xen_caps_split_token(const char *tok, size_t n, size_t *ret_type_len, size_t *ret_arch_start) {
        size_t i = 0, type_len;

        while (i < n && tok[i] >= 'a' && tok[i] <= 'z')
                i++;
        type_len = i;
        if (type_len == 0 || i >= n || tok[i++] != '-')
                return false;

        for (unsigned part = 0; part < 2; part++) {
                size_t digits = i;

                while (i < n && is_digit(tok[i]))
                        i++;
                if (i == digits || i >= n || tok[i++] != (part == 0 ? '.' : '-'))
                        return false;
        }

        if (i >= n)
                return false;
        for (size_t k = i; k < n; k++)
                if (!is_alpha(tok[k]) && !is_digit(tok[k]) && tok[k] != '_')
                        return false;

        *ret_type_len = type_len;
        *ret_arch_start = i;
        return true;
}

/* Parses one token. Returns 1 and fills *ret for a guest type we know, 0 for a well-formed token
 * of another type or architecture (skipped, as libvirt did: new Xen ports add architectures),
 * -EBADMSG when malformed. */
static int xen_caps_parse_token(const char *tok, size_t n, XenGuestArch *ret, XvError *error) {
        size_t type_len, arch_start;
        bool hvm;

        if (!xen_caps_split_token(tok, n, &type_len, &arch_start))
                return xv_error_setf(error, XVP_ERR_PARSE_FAILED,
                                     "Malformed Xen capability '%.*s', expected TYPE-MAJOR.MINOR-ARCH "
                                     "such as 'hvm-3.0-x86_32p'",
                                     (int) MIN(n, (size_t) CAPABILITIES_NAME_MAX), tok);

        if (word_is(tok, type_len, "hvm"))
                hvm = true;
        else if (word_is(tok, type_len, "xen"))
                hvm = false;
        else
                return 0;

        for (size_t k = 0; k < ELEMENTSOF(xen_arch_table); k++)
                if (word_is(tok + arch_start, n - arch_start, xen_arch_table[k].xen_name)) {
                        *ret = (XenGuestArch) {
                                .arch = xen_arch_table[k].arch,
                                .wordsize = xen_arch_table[k].wordsize,
                                .hvm = hvm,
                                .pae = xen_arch_table[k].pae,
                                .nonpae = xen_arch_table[k].nonpae,
                                .ia64_be = xen_arch_table[k].ia64_be,
                        };
                        return 1;
                }
        return 0;
}

/* Merges the tokens into at most CAPABILITIES_GUESTS_MAX (arch, paravirt/HVM) pairs, in the order
 * of their first appearance; the flavours of one pair are or-ed together. */
static int xen_caps_parse(const char *xen_caps, XenGuestArch archs[static CAPABILITIES_GUESTS_MAX],
                          size_t *ret_n, XvError *error) {
        size_t n_archs = 0, len;
        int r;

        *ret_n = 0;
        if (!xen_caps)
                return 0;

        len = strnlen(xen_caps, CAPABILITIES_XEN_CAPS_SIZE_MAX + 1);
        if (len > CAPABILITIES_XEN_CAPS_SIZE_MAX)
                return xv_error_setf(error, XVP_ERR_OVERFLOW,
                                     "Xen capabilities string is longer than %d bytes",
                                     CAPABILITIES_XEN_CAPS_SIZE_MAX);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = xen_caps[i];

                if ((c < 0x20 && !is_space((char) c)) || c >= 0x7f)
                        return xv_error_setf(error, XVP_ERR_PARSE_FAILED,
                                             "Invalid character 0x%02x at offset %zu of the Xen "
                                             "capabilities string", (unsigned) c, i);
        }

        for (size_t i = 0; i < len; ) {
                XenGuestArch a;
                size_t start, k;

                while (i < len && is_space(xen_caps[i]))
                        i++;
                if (i >= len)
                        break;
                start = i;
                while (i < len && !is_space(xen_caps[i]))
                        i++;

                r = xen_caps_parse_token(xen_caps + start, i - start, &a, error);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;

                for (k = 0; k < n_archs; k++)
                        if (streq(archs[k].arch, a.arch) && archs[k].hvm == a.hvm)
                                break;
                if (k == n_archs) {
                        /* Unreachable with today's table (6 arches x 2 types), kept as a hard bound. */
                        if (n_archs >= CAPABILITIES_GUESTS_MAX)
                                return xv_error_setf(error, XVP_ERR_OVERFLOW,
                                                     "Too many guest types in the Xen capabilities string");
                        archs[n_archs++] = a;
                        continue;
                }
                archs[k].pae = archs[k].pae || a.pae;
                archs[k].nonpae = archs[k].nonpae || a.nonpae;
                archs[k].ia64_be = archs[k].ia64_be || a.ia64_be;
        }

        *ret_n = n_archs;
        return 0;
}

static int add_xen_guest(Capabilities *caps, const XenGuestArch *a, unsigned xen_major, unsigned xen_minor,
                         XvError *error) {
        static char *const machines_2007[] = { (char *) "pc", (char *) "isapc", NULL };
        static char *const machines_pv[] = { (char *) "xenpv", NULL };
        static char *const machines_fv[] = { (char *) "xenfv", NULL };
        const char *emulator, *loader = a->hvm ? XEN_HVM_LOADER : NULL;
        char * const *machines;
        CapabilitiesGuest *g;
        int r;

        if (caps->dialect == CAPABILITIES_DIALECT_2007) {
                /* libvirt 0.3 gave only HVM guests a device model, chosen by the guest's word size. */
                emulator = !a->hvm ? NULL : a->wordsize == 64 ? XEN_EMULATOR_LIB64 : XEN_EMULATOR;
                machines = a->hvm ? machines_2007 : NULL;
        } else {
                /* Later libvirt gave every guest one (PV guests use it for the framebuffer),
                 * chosen by the host's architecture. */
                emulator = streq(caps->host_arch, "x86_64") ? XEN_EMULATOR_LIB64 : XEN_EMULATOR;
                machines = a->hvm ? machines_fv : machines_pv;
        }

        r = capabilities_add_guest(caps, a->hvm ? "hvm" : "xen", a->arch, a->wordsize, emulator, loader,
                                   machines, &g, error);
        if (r < 0)
                return r;

        if (a->pae) {
                r = capabilities_guest_add_feature(g, "pae", false, true, false, error);
                if (r < 0)
                        return r;
        }
        if (a->nonpae) {
                r = capabilities_guest_add_feature(g, "nonpae", false, true, false, error);
                if (r < 0)
                        return r;
        }
        if (a->ia64_be) {
                r = capabilities_guest_add_feature(g, "ia64_be", false, true, false, error);
                if (r < 0)
                        return r;
        }
        if (!a->hvm || caps->dialect == CAPABILITIES_DIALECT_2007)
                return 0;

        r = capabilities_guest_add_feature(g, "acpi", true, true, true, error);
        if (r < 0)
                return r;
        /* libvirt's comment says APIC cannot be switched off "in Xen 3.1.0", but its test was
         * (major > 3 && minor > 0): toggle='no' on Xen 4.1 to 4.x, 'yes' on 3.x and 4.0. Clients
         * saw that output, so it is what we report. */
        r = capabilities_guest_add_feature(g, "apic", true, true, !(xen_major > 3 && xen_minor > 0), error);
        if (r < 0)
                return r;
        /* Hardware assisted paging can be switched from Xen 3.3; libvirt reported it default='on'. */
        if (xen_major > 3 || (xen_major == 3 && xen_minor >= 3)) {
                r = capabilities_guest_add_feature(g, "hap", true, true, true, error);
                if (r < 0)
                        return r;
        }
        /* The Viridian (Hyper-V) enlightenments exist from Xen 3.4 and are off by default. */
        if (xen_major > 3 || (xen_major == 3 && xen_minor >= 4)) {
                r = capabilities_guest_add_feature(g, "viridian", true, false, true, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

int capabilities_add_xen_guests(Capabilities *caps, const char *cpuinfo, const char *xen_caps,
                                unsigned xen_major, unsigned xen_minor, XvError *error) {
        XenGuestArch archs[CAPABILITIES_GUESTS_MAX];
        const char *hvm_type;
        size_t n_archs;
        bool host_pae;
        int r;

        assert(caps);

        /* Everything that can be refused is checked before @caps changes. */
        if (cpuinfo && strnlen(cpuinfo, CAPABILITIES_CPUINFO_SIZE_MAX + 1) > CAPABILITIES_CPUINFO_SIZE_MAX)
                return xv_error_setf(error, XVP_ERR_OVERFLOW, "CPU information is longer than %d bytes",
                                     CAPABILITIES_CPUINFO_SIZE_MAX);
        r = xen_caps_parse(xen_caps, archs, &n_archs, error);
        if (r < 0)
                return r;
        if (caps->n_guests + n_archs > CAPABILITIES_GUESTS_MAX)
                return xv_error_setf(error, XVP_ERR_OVERFLOW, "Too many guests (at most %d)",
                                     CAPABILITIES_GUESTS_MAX);
        for (size_t i = 0; i < n_archs; i++)
                if (find_guest_exact(caps, archs[i].hvm ? "hvm" : "xen", archs[i].arch))
                        return xv_error_setf(error, XVP_ERR_INVALID_ARG,
                                             "Duplicate guest '%s' for architecture '%s'",
                                             archs[i].hvm ? "hvm" : "xen", archs[i].arch);
        cpuinfo_scan(cpuinfo, &hvm_type, &host_pae);

        /* From here on only -ENOMEM can happen. */
        if (hvm_type) {
                r = capabilities_add_host_feature(caps, hvm_type, error);
                if (r < 0)
                        return r;
        }
        if (host_pae) {
                r = capabilities_add_host_feature(caps, "pae", error);
                if (r < 0)
                        return r;
        }
        if (caps->dialect != CAPABILITIES_DIALECT_2007) {
                caps->live_migration = true;
                r = capabilities_add_migration_transport(caps, "xenmigr", error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n_archs; i++) {
                r = add_xen_guest(caps, &archs[i], xen_major, xen_minor, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

/*
 * The XML formatter.
 */

static void format_host(const Capabilities *caps, StrBuf *b) {
        bool legacy = caps->dialect == CAPABILITIES_DIALECT_2007;

        strbuf_append(b, "  <host>\n");
        if (caps->has_uuid) {
                char buf[UUID_STRING_BUF];

                strbuf_appendf(b, "    <uuid>%s</uuid>\n", uuid_format(&caps->uuid, buf));
        }

        strbuf_append(b, "    <cpu>\n      <arch>");
        strbuf_append_xml_escaped(b, caps->host_arch);
        strbuf_append(b, "</arch>\n");
        /* libvirt 0.3 always printed the (possibly empty) <features> element. */
        if (legacy || caps->host_features) {
                strbuf_append(b, "      <features>\n");
                STRV_FOREACH(f, caps->host_features)
                        strbuf_appendf(b, "        <%s/>\n", *f);
                strbuf_append(b, "      </features>\n");
        }
        strbuf_append(b, "    </cpu>\n");

        if (caps->live_migration || caps->migration_transports) {
                strbuf_append(b, "    <migration_features>\n");
                if (caps->live_migration)
                        strbuf_append(b, "      <live/>\n");
                if (caps->migration_transports) {
                        strbuf_append(b, "      <uri_transports>\n");
                        STRV_FOREACH(t, caps->migration_transports) {
                                strbuf_append(b, "        <uri_transport>");
                                strbuf_append_xml_escaped(b, *t);
                                strbuf_append(b, "</uri_transport>\n");
                        }
                        strbuf_append(b, "      </uri_transports>\n");
                }
                strbuf_append(b, "    </migration_features>\n");
        }

        if (caps->n_cells > 0) {
                strbuf_appendf(b, "    <topology>\n      <cells num='%zu'>\n", caps->n_cells);
                for (size_t i = 0; i < caps->n_cells; i++) {
                        const CapabilitiesCell *c = &caps->cells[i];

                        strbuf_appendf(b, "        <cell id='%u'>\n", c->id);
                        if (c->memory_kib > 0)
                                strbuf_appendf(b, "          <memory unit='KiB'>%" PRIu64 "</memory>\n",
                                               c->memory_kib);
                        strbuf_appendf(b, "          <cpus num='%zu'>\n", c->n_cpus);
                        for (size_t j = 0; j < c->n_cpus; j++)
                                strbuf_appendf(b, "            <cpu id='%u'/>\n", c->cpus[j]);
                        strbuf_append(b, "          </cpus>\n        </cell>\n");
                }
                strbuf_append(b, "      </cells>\n    </topology>\n");
        }
        strbuf_append(b, "  </host>\n");
}

static void format_text_element(StrBuf *b, const char *name, const char *value) {
        strbuf_appendf(b, "      <%s>", name);
        strbuf_append_xml_escaped(b, value);
        strbuf_appendf(b, "</%s>\n", name);
}

static void format_guest(const Capabilities *caps, const CapabilitiesGuest *g, StrBuf *b) {
        bool legacy = caps->dialect == CAPABILITIES_DIALECT_2007;

        strbuf_append(b, "\n  <guest>\n    <os_type>");
        strbuf_append_xml_escaped(b, g->os_type);
        strbuf_append(b, "</os_type>\n    <arch name='");
        strbuf_append_xml_escaped(b, g->arch);
        strbuf_appendf(b, "'>\n      <wordsize>%u</wordsize>\n", g->wordsize);

        if (legacy) {
                /* libvirt 0.3 order: domain, emulator, machines, loader. */
                strbuf_append(b, "      <domain type='");
                strbuf_append_xml_escaped(b, g->domain_type);
                strbuf_append(b, "'></domain>\n");
                if (g->emulator)
                        format_text_element(b, "emulator", g->emulator);
                STRV_FOREACH(m, g->machines)
                        format_text_element(b, "machine", *m);
                if (g->loader)
                        format_text_element(b, "loader", g->loader);
        } else {
                if (g->emulator)
                        format_text_element(b, "emulator", g->emulator);
                if (g->loader)
                        format_text_element(b, "loader", g->loader);
                STRV_FOREACH(m, g->machines)
                        format_text_element(b, "machine", *m);
                strbuf_append(b, "      <domain type='");
                strbuf_append_xml_escaped(b, g->domain_type);
                strbuf_append(b, "'>\n      </domain>\n");
        }
        strbuf_append(b, "    </arch>\n");

        if (legacy || g->n_features > 0) {
                strbuf_append(b, "    <features>\n");
                for (size_t i = 0; i < g->n_features; i++) {
                        const CapabilitiesFeature *f = &g->features[i];

                        if (f->has_toggle)
                                strbuf_appendf(b, "      <%s default='%s' toggle='%s'/>\n", f->name,
                                               f->default_on ? "on" : "off", f->toggle ? "yes" : "no");
                        else
                                strbuf_appendf(b, "      <%s/>\n", f->name);
                }
                strbuf_append(b, "    </features>\n");
        }
        strbuf_append(b, "  </guest>\n");
}

int capabilities_format_xml(const Capabilities *caps, char **ret, XvError *error) {
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;
        int r;

        assert(caps);
        assert(ret);

        b.limit = CAPABILITIES_XML_SIZE_MAX;

        strbuf_append(&b, "<capabilities>\n\n");
        format_host(caps, &b);
        for (size_t i = 0; i < caps->n_guests; i++)
                format_guest(caps, caps->guests[i], &b);
        strbuf_append(&b, "\n</capabilities>\n");

        r = strbuf_steal(&b, ret);
        if (r == -E2BIG)
                return xv_error_setf(error, XVP_ERR_OVERFLOW, "Capabilities XML is larger than %d bytes",
                                     CAPABILITIES_XML_SIZE_MAX);
        return r;
}
