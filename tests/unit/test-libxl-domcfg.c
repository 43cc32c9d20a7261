/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * DomainDef <-> libxl_domain_config (src/xen/xv-libxl-domcfg.c) and the parts of the libxl
 * wrappers (src/xen/xv-libxl-ops.c) that need no hypervisor: error mapping, argument checks and
 * the save file header. Nothing here talks to Xen: libxl_ctx_alloc() fails without one, and
 * libxl_domain_config_to_json() works with a NULL context, so the golden files in
 * tests/data/libxl-domcfg/ hold libxl's own JSON rendering of the converted seed examples.
 */

#include <dirent.h>
#include <stdarg.h>
#include <syslog.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <libxl_utils.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-domain-xml.h"
#include "xv-libxl-domcfg.h"
#include "xv-libxl-ops.h"
#include "xv-log.h"
#include "xv-xen-chr.h"
#include "xv-xen-domain.h"

static void config_done(libxl_domain_config *c) {
        libxl_domain_config_dispose(c);
}

static DomainDef *parse_file(const char *path) {
        _cleanup_free_ char *xml = test_read_file(path);
        DomainDef *def = NULL;
        XvError e = XV_ERROR_NULL;

        if (domain_def_parse_xml(xml, &def, &e) < 0)
                test_fail(__FILE__, __LINE__, "%s: %s", path, strnull(e.message));
        return def;
}

static DomainDef *seed_def(const char *file) {
        _cleanup_free_ char *path = NULL;

        ASSERT_TRUE(asprintf(&path, "%s/seed-examples/%s", test_shared_dir(), file) >= 0);
        return parse_file(path);
}

static DomainDef *parse_string(const char *xml) {
        DomainDef *def = NULL;
        XvError e = XV_ERROR_NULL;

        if (domain_def_parse_xml(xml, &def, &e) < 0)
                test_fail(__FILE__, __LINE__, "%s", strnull(e.message));
        return def;
}

static void remove_disk(DomainDef *def, const char *dst) {
        for (size_t i = 0; i < def->n_disks; i++)
                if (streq_ptr(def->disks[i].dst, dst)) {
                        domain_disk_done(&def->disks[i]);
                        memmove(&def->disks[i], &def->disks[i + 1], (def->n_disks - i - 1) * sizeof(def->disks[0]));
                        def->n_disks--;
                        return;
                }
        test_fail(__FILE__, __LINE__, "no disk %s", dst);
}

/* Converts and checks libxl's JSON rendering against tests/data/libxl-domcfg/<name>.json. A
 * definition without a UUID gets a random one: it is cleared for the comparison. */
static void check_golden(const DomainDef *def, const char *name) {
        _cleanup_(config_done) libxl_domain_config c = {};
        _cleanup_free_ char *json = NULL;
        XvError e = XV_ERROR_NULL;

        if (domcfg_from_def(NULL, def, &c, &e) < 0)
                test_fail(__FILE__, __LINE__, "%s: %s", name, strnull(e.message));
        if (!def->has_uuid)
                libxl_uuid_clear(&c.c_info.uuid);
        json = libxl_domain_config_to_json(NULL, &c);
        ASSERT_NOT_NULL(json);
        ASSERT_OK(test_compare_golden("libxl-domcfg", name, ".json", json));
}

static void expect_unsupported(const DomainDef *def, const char *needle) {
        _cleanup_(config_done) libxl_domain_config c = {};
        XvError e = XV_ERROR_NULL;
        int r;

        r = domcfg_from_def(NULL, def, &c, &e);
        ASSERT_LT(r, 0);
        ASSERT_EQ(e.code, XVP_ERR_CONFIG_UNSUPPORTED);
        ASSERT_EQ(e.domain, XVP_FROM_LIBXL);
        if (!e.message || !strstr(e.message, needle))
                test_fail(__FILE__, __LINE__, "message '%s' does not mention '%s'", strnull(e.message), needle);
        xv_error_done(&e);
}

/* ---- seed examples ------------------------------------------------------------------------ */

TEST(seed_pv_bootloader) {
        _cleanup_(domain_def_freep) DomainDef *def = seed_def("pv-bootloader.xml");
        _cleanup_(config_done) libxl_domain_config c = {};
        char mac[18];

        ASSERT_OK(domcfg_from_def(NULL, def, &c, NULL));
        ASSERT_EQ(c.c_info.type, LIBXL_DOMAIN_TYPE_PV);
        ASSERT_STREQ(c.c_info.name, "fc8");
        ASSERT_FALSE(libxl_uuid_is_nil(&c.c_info.uuid));        /* none given: a fresh one */
        ASSERT_EQ(c.b_info.max_memkb, 131072);
        ASSERT_EQ(c.b_info.target_memkb, 131072);
        ASSERT_EQ(c.b_info.max_vcpus, 1);
        ASSERT_TRUE(libxl_bitmap_test(&c.b_info.avail_vcpus, 0));
        ASSERT_FALSE(libxl_bitmap_test(&c.b_info.avail_vcpus, 1));
        /* /usr/bin/pygrub is Xen's pygrub, wherever this Xen installs it. */
        ASSERT_STREQ(c.b_info.bootloader, "pygrub");
        ASSERT_NULL(c.b_info.kernel);
        ASSERT_EQ(c.on_poweroff, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);
        ASSERT_EQ(c.on_reboot, LIBXL_ACTION_ON_SHUTDOWN_RESTART);
        ASSERT_EQ(c.on_crash, LIBXL_ACTION_ON_SHUTDOWN_DESTROY);

        ASSERT_EQ(c.num_disks, 1);
        ASSERT_STREQ(c.disks[0].pdev_path, "/var/lib/xen/images/fc4.img");
        ASSERT_STREQ(c.disks[0].vdev, "sda1");
        ASSERT_EQ(c.disks[0].format, LIBXL_DISK_FORMAT_RAW);
        ASSERT_EQ(c.disks[0].backend, LIBXL_DISK_BACKEND_UNKNOWN);
        ASSERT_EQ(c.disks[0].readwrite, 1);
        ASSERT_EQ(c.disks[0].is_cdrom, 0);

        ASSERT_EQ(c.num_nics, 1);
        ASSERT_STREQ(domain_mac_format(c.nics[0].mac, mac), "aa:00:00:00:00:11");
        ASSERT_STREQ(c.nics[0].bridge, "xenbr0");
        ASSERT_STREQ(c.nics[0].script, "/etc/xen/scripts/vif-bridge");
        ASSERT_EQ(c.nics[0].nictype, LIBXL_NIC_TYPE_VIF);
        ASSERT_EQ(c.num_vfbs, 0);
        ASSERT_EQ(c.num_vkbs, 0);

        check_golden(def, "pv-bootloader");
}

TEST(seed_pv_direct_kernel) {
        _cleanup_(domain_def_freep) DomainDef *def = seed_def("pv-direct-kernel.xml");
        _cleanup_(config_done) libxl_domain_config c = {};

        ASSERT_OK(domcfg_from_def(NULL, def, &c, NULL));
        ASSERT_EQ(c.c_info.type, LIBXL_DOMAIN_TYPE_PV);
        ASSERT_STREQ(c.b_info.kernel, "/var/lib/xen/install/vmlinuz-fedora8-x86_64");
        ASSERT_STREQ(c.b_info.ramdisk, "/var/lib/xen/install/initrd-vmlinuz-fedora8-x86_64");
        ASSERT_NOT_NULL(strstr(c.b_info.cmdline, "kickstart=http://example.com/myguest.ks"));
        ASSERT_NULL(c.b_info.bootloader);
        /* <graphics type='vnc' port='-1'/>: a frame buffer on the first free display. */
        ASSERT_EQ(c.num_vfbs, 1);
        ASSERT_TRUE(libxl_defbool_val(c.vfbs[0].vnc.enable));
        ASSERT_TRUE(libxl_defbool_val(c.vfbs[0].vnc.findunused));
        ASSERT_FALSE(libxl_defbool_val(c.vfbs[0].sdl.enable));
        ASSERT_EQ(c.num_vkbs, 1);

        check_golden(def, "pv-direct-kernel");
}

static void check_seed_hvm(const char *file, bool direct_kernel) {
        _cleanup_(domain_def_freep) DomainDef *def = seed_def(file);
        _cleanup_(config_done) libxl_domain_config c = {};
        const libxl_domain_build_info *b = &c.b_info;
        char mac[18];

        /* libxl (and QEMU upstream) have no floppy drive: the seed as written is refused. */
        expect_unsupported(def, "floppy");

        remove_disk(def, "fda");
        ASSERT_OK(domcfg_from_def(NULL, def, &c, NULL));
        ASSERT_EQ(c.c_info.type, LIBXL_DOMAIN_TYPE_HVM);
        ASSERT_STREQ(c.c_info.name, "fv0");
        ASSERT_EQ(memcmp(libxl_uuid_bytearray_const(&c.c_info.uuid), def->uuid.bytes, 16), 0);
        ASSERT_EQ(b->max_memkb, 524288);
        ASSERT_TRUE(libxl_defbool_val(b->acpi));
        ASSERT_TRUE(libxl_defbool_val(b->apic));
        ASSERT_TRUE(libxl_defbool_val(b->u.hvm.pae));
        ASSERT_FALSE(libxl_defbool_val(b->u.hvm.viridian));
        ASSERT_TRUE(libxl_defbool_is_default(c.c_info.hap));
        ASSERT_TRUE(libxl_defbool_val(b->localtime));
        /* xend's hvmloader and qemu-dm paths mean libxl's own firmware and device model. */
        ASSERT_NULL(b->u.hvm.system_firmware);
        ASSERT_NULL(b->device_model);
        ASSERT_EQ(c.on_crash, LIBXL_ACTION_ON_SHUTDOWN_RESTART);
        /* <graphics type='vnc' port='5904'/> */
        ASSERT_TRUE(libxl_defbool_val(b->u.hvm.vnc.enable));
        ASSERT_FALSE(libxl_defbool_val(b->u.hvm.vnc.findunused));
        ASSERT_EQ(b->u.hvm.vnc.display, 4);
        ASSERT_FALSE(libxl_defbool_val(b->u.hvm.sdl.enable));
        ASSERT_FALSE(libxl_defbool_val(b->u.hvm.nographic));

        if (direct_kernel) {
                ASSERT_STREQ(b->kernel, "/var/lib/xen/install/vmlinuz-fedora8-x86_64");
                ASSERT_NULL(b->u.hvm.boot);
        } else {
                ASSERT_NULL(b->kernel);
                ASSERT_STREQ(b->u.hvm.boot, "c");
        }

        ASSERT_EQ(c.num_disks, 2);
        ASSERT_STREQ(c.disks[0].vdev, "hda");
        ASSERT_EQ(c.disks[0].is_cdrom, 0);
        ASSERT_STREQ(c.disks[1].vdev, "hdc");
        ASSERT_STREQ(c.disks[1].pdev_path, "/var/lib/xen/images/fc5-x86_64-boot.iso");
        ASSERT_EQ(c.disks[1].is_cdrom, 1);
        ASSERT_EQ(c.disks[1].removable, 1);
        ASSERT_EQ(c.disks[1].readwrite, 0);

        ASSERT_EQ(c.num_nics, 1);
        ASSERT_STREQ(domain_mac_format(c.nics[0].mac, mac), "00:16:3e:5d:c7:9e");
        ASSERT_EQ(c.nics[0].nictype, LIBXL_NIC_TYPE_VIF_IOEMU);
        ASSERT_STREQ(c.nics[0].script, "vif-bridge");
        ASSERT_EQ(c.num_vfbs, 0);

        check_golden(def, direct_kernel ? "hvm-direct-kernel-nofloppy" : "hvm-bios-boot-nofloppy");
}

TEST(seed_hvm_bios_boot) {
        check_seed_hvm("hvm-bios-boot.xml", false);
}

TEST(seed_hvm_direct_kernel) {
        check_seed_hvm("hvm-direct-kernel.xml", true);
}

/* ---- round trips ---------------------------------------------------------------------------- */

static void drop_inputs_not_usb(DomainDef *def) {
        size_t j = 0;

        for (size_t i = 0; i < def->n_inputs; i++)
                if (def->inputs[i].bus == DOMAIN_INPUT_BUS_USB)
                        def->inputs[j++] = def->inputs[i];
        def->n_inputs = j;
}

static void set_string(char **p, const char *s) {
        ASSERT_OK(free_and_strdup(p, s));
}

/* What a definition looks like after a trip through libxl: the spellings libxl normalizes and
 * the things it does not carry. Applied to both sides, so only real losses show. */
static void normalize(DomainDef *def) {
        bool hvm = domain_def_is_hvm(def);

        def->id = -1;
        def->description = mfree(def->description);
        def->os_arch = mfree(def->os_arch);
        def->memballoon_model = mfree(def->memballoon_model);
        if (def->os_type == DOMAIN_OS_XEN)
                def->os_type = DOMAIN_OS_LINUX;
        if (!streq_ptr(def->os_machine, "xenpvh"))
                def->os_machine = mfree(def->os_machine);
        if (def->current_memory_kib == def->memory_kib)
                def->current_memory_kib = 0;
        if (def->vcpus_current == def->vcpus)
                def->vcpus_current = 0;
        if (def->cpuset) {
                libxl_bitmap map;
                char *s = NULL;

                ASSERT_OK(domcfg_cpuset_parse(def->cpuset, 0, &map, NULL));
                ASSERT_OK(domcfg_cpuset_format(&map, &s));
                libxl_bitmap_dispose(&map);
                free(def->cpuset);
                def->cpuset = s;
        }
        if (def->bootloader && (isempty(def->bootloader) || streq(strrchr(def->bootloader, '/') ?
                                                                   strrchr(def->bootloader, '/') + 1 :
                                                                   def->bootloader, "pygrub")))
                set_string(&def->bootloader, "pygrub");
        if (def->bootloader_args) {
                _cleanup_strv_free_ char **l = NULL;
                char *s = NULL;

                for (char *p = def->bootloader_args; *p;) {
                        size_t n;

                        p += strspn(p, " \t\n");
                        n = strcspn(p, " \t\n");
                        if (n > 0)
                                ASSERT_OK(strv_push(&l, strndup(p, n)));
                        p += n;
                }
                for (char **w = l; w && *w; w++) {
                        char *t = NULL;

                        ASSERT_TRUE(asprintf(&t, "%s%s%s", strempty(s), s ? " " : "", *w) >= 0);
                        free(s);
                        s = t;
                }
                free(def->bootloader_args);
                def->bootloader_args = s;
        }
        if (def->root) {
                char *s = NULL;

                ASSERT_TRUE(asprintf(&s, "root=%s%s%s", def->root, def->cmdline ? " " : "",
                                     strempty(def->cmdline)) >= 0);
                free(def->cmdline);
                def->cmdline = s;
                def->root = mfree(def->root);
        }
        if (def->emulator && strstr(def->emulator, "qemu-dm"))
                def->emulator = mfree(def->emulator);
        if (def->loader && strstr(def->loader, "hvmloader"))
                def->loader = mfree(def->loader);
        if (!hvm) {
                def->features = 0;
                for (size_t i = 0; i < def->n_videos; i++)
                        free(def->videos[i].model);
                def->videos = mfree(def->videos);
                def->n_videos = 0;
        }
        {
                /* The clock as Xen stores it: localtime flag and (HVM) RTC offset. */
                int localtime = 0;
                long long offset = 0;

                DomainTimer *timers = def->clock.timers;
                size_t n_timers = def->clock.n_timers;

                ASSERT_OK(xen_domain_clock_to_xen(&def->clock, hvm, &localtime, &offset, NULL));
                def->clock = (DomainClock) { .timers = timers, .n_timers = n_timers };
                xen_domain_clock_from_xen(&def->clock, localtime, hvm, offset);
        }

        for (size_t i = 0; i < def->n_disks; i++) {
                DomainDisk *d = &def->disks[i];

                d->bus = DOMAIN_DISK_BUS_DEFAULT;
                d->shareable = false;
                if (d->dst && strncmp(d->dst, "ioemu:", 6) == 0)
                        set_string(&d->dst, d->dst + 6);
                if (d->device == DOMAIN_DISK_DEVICE_CDROM)
                        d->readonly = true;
                if (streq_ptr(d->driver_name, "file") || streq_ptr(d->driver_name, "qdisk"))
                        set_string(&d->driver_name, "qemu");
                else if (streq_ptr(d->driver_name, "tap2"))
                        set_string(&d->driver_name, "tap");
                if (d->driver_name && (!d->driver_type || streq(d->driver_type, "aio")))
                        set_string(&d->driver_type, "raw");
                if (!d->driver_name && streq_ptr(d->driver_type, "raw"))
                        d->driver_type = mfree(d->driver_type);
                d->type = d->src && strncmp(d->src, "/dev/", 5) == 0 && !streq_ptr(d->driver_name, "qemu") ?
                        DOMAIN_DISK_TYPE_BLOCK : DOMAIN_DISK_TYPE_FILE;
        }
        for (size_t i = 0; i < def->n_videos; i++) {
                /* libxl has one VGA: the primary one, with one head. */
                if (def->videos[i].heads == 1)
                        def->videos[i].heads = 0;
                def->videos[i].primary = false;
        }
        for (size_t i = 0; i < def->n_graphics; i++) {
                DomainGraphics *g = &def->graphics[i];

                if (g->autoport || g->port <= 0) {
                        g->autoport = true;
                        g->port = -1;
                } else
                        g->autoport = false;
        }
        for (size_t i = 0; i < def->n_serials; i++) {
                DomainChr *c = &def->serials[i];

                if (c->target_port < 0)
                        c->target_port = (int) i;
                if (c->type == DOMAIN_CHR_PTY)
                        c->path = mfree(c->path);
        }
        drop_inputs_not_usb(def);
        for (size_t i = 0; i < def->n_consoles; i++)
                domain_chr_done(&def->consoles[i]);
        def->consoles = mfree(def->consoles);
        def->n_consoles = 0;
}

static char *format(const DomainDef *def) {
        char *xml = NULL;
        XvError e = XV_ERROR_NULL;

        if (domain_def_format_xml(def, DOMAIN_XML_SECURE, &xml, &e) < 0)
                test_fail(__FILE__, __LINE__, "format: %s", strnull(e.message));
        return xml;
}

/* Returns 0 when @def survives the round trip, -EOPNOTSUPP (with the message in @e) when libxl
 * refuses it, and fails the test when it comes back different. */
static int round_trip(const char *name, const DomainDef *orig, XvError *e) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL, *back = NULL;
        _cleanup_(config_done) libxl_domain_config c = {};
        _cleanup_free_ char *a = NULL, *b = NULL;
        int r;

        ASSERT_OK(domain_def_copy(orig, &def));
        r = domcfg_from_def(NULL, def, &c, e);
        if (r < 0)
                return r;
        ASSERT_OK(domcfg_to_def(&c, &back, NULL));
        if (!def->has_uuid) {
                /* libxl wanted one: compare without it. */
                back->has_uuid = false;
                memset(&back->uuid, 0, sizeof(back->uuid));
        }
        normalize(def);
        normalize(back);
        a = format(def);
        b = format(back);
        if (!streq(a, b)) {
                size_t i = 0;

                while (a[i] && a[i] == b[i])
                        i++;
                while (i > 0 && a[i - 1] != '\n')
                        i--;
                test_fail(__FILE__, __LINE__, "%s: round trip differs:\n# before: %.300s\n# after:  %.300s", name,
                          a + i, b + i);
        }
        return 0;
}

TEST(round_trip_seeds) {
        static const char *const files[] = {
                "pv-bootloader.xml", "pv-direct-kernel.xml", "hvm-bios-boot.xml", "hvm-direct-kernel.xml",
        };

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_(domain_def_freep) DomainDef *def = seed_def(files[i]);

                if (strncmp(files[i], "hvm", 3) == 0)
                        remove_disk(def, "fda");
                ASSERT_OK(round_trip(files[i], def, NULL));
        }
}

/* The conformance corpus: every input XML either survives the round trip or is refused with
 * code 67 for the reason listed here. */
static const struct {
        const char *file;
        const char *reason;     /* a word of the expected message */
} refused[] = {
        { "xml2sexpr-fv-parallel-tcp.xml", "parallel" },
        { "test-fullvirt-parallel-tcp.xml", "parallel" },
};

static const char *expected_refusal(const char *file) {
        for (size_t i = 0; i < ELEMENTSOF(refused); i++)
                if (streq(refused[i].file, file))
                        return refused[i].reason;
        return NULL;
}

static void conformance_dir(const char *sub, size_t *ret_ok, size_t *ret_refused) {
        _cleanup_free_ char *dir = NULL;
        struct dirent **names = NULL;
        size_t ok = 0, no = 0;
        int n;

        ASSERT_TRUE(asprintf(&dir, "%s/conformance/%s", test_shared_dir(), sub) >= 0);
        n = scandir(dir, &names, NULL, alphasort);
        ASSERT_GT(n, 0);
        for (int i = 0; i < n; i++) {
                const char *f = names[i]->d_name;
                size_t len = strlen(f);

                if (len > 4 && streq(f + len - 4, ".xml")) {
                        _cleanup_free_ char *path = test_path(dir, f);
                        _cleanup_(domain_def_freep) DomainDef *def = parse_file(path);
                        const char *why = expected_refusal(f);
                        XvError e = XV_ERROR_NULL;
                        int r;

                        r = round_trip(f, def, &e);
                        if (r < 0) {
                                if (!why || e.code != XVP_ERR_CONFIG_UNSUPPORTED || !strstr(strempty(e.message), why))
                                        test_fail(__FILE__, __LINE__, "%s: refused (code %d): %s", f, (int) e.code,
                                                  strnull(e.message));
                                printf("# %s: refused as expected: %s\n", f, e.message);
                                no++;
                        } else {
                                if (why)
                                        test_fail(__FILE__, __LINE__, "%s: accepted, expected a refusal (%s)", f, why);
                                ok++;
                        }
                        xv_error_done(&e);
                }
                free(names[i]);
        }
        free(names);
        *ret_ok = ok;
        *ret_refused = no;
}

TEST(round_trip_conformance_xml2sexpr) {
        size_t ok, no;

        conformance_dir("xml2sexpr", &ok, &no);
        printf("# xml2sexpr: %zu round trips, %zu refused\n", ok, no);
        ASSERT_GE(ok, 30);
}

TEST(round_trip_conformance_sexpr2xml) {
        size_t ok, no;

        conformance_dir("sexpr2xml", &ok, &no);
        printf("# sexpr2xml: %zu round trips, %zu refused\n", ok, no);
        ASSERT_GE(ok, 20);
}

TEST(round_trip_conformance_xmconfig) {
        size_t ok, no;

        conformance_dir("xmconfig", &ok, &no);
        printf("# xmconfig: %zu round trips, %zu refused\n", ok, no);
        ASSERT_GE(ok, 10);
}

/* ---- refusals --------------------------------------------------------------------------------- */

#define PV_HEAD "<domain type='xen'><name>t</name><memory>65536</memory><vcpu>1</vcpu>" \
        "<os><type>linux</type><kernel>/k</kernel></os>"
#define HVM_HEAD "<domain type='xen'><name>t</name><memory>65536</memory><vcpu>1</vcpu>" \
        "<os><type>hvm</type><boot dev='hd'/></os>"

TEST(unsupported_features) {
        static const struct {
                const char *xml;
                const char *needle;
        } cases[] = {
                { HVM_HEAD "<devices><parallel type='pty'/></devices></domain>", "parallel" },
                { HVM_HEAD "<devices><disk type='file' device='floppy'><source file='/f'/><target dev='fda'/></disk>"
                  "</devices></domain>", "floppy" },
                { PV_HEAD "<devices><disk type='file'><source file='/f'/><target dev='xvda'/><transient/></disk>"
                  "</devices></domain>", "transient" },
                { PV_HEAD "<devices><disk type='file'><driver name='file' type='vmdk'/><source file='/f'/>"
                  "<target dev='xvda'/></disk></devices></domain>", "vmdk" },
                { PV_HEAD "<devices><interface type='network'><source network='default'/></interface></devices>"
                  "</domain>", "network" },
                { PV_HEAD "<devices><graphics type='vnc' port='5901'/><graphics type='vnc' port='5902'/></devices>"
                  "</domain>", "more than one vnc" },
                { PV_HEAD "<devices><serial type='pty'/></devices></domain>", "serial" },
                { PV_HEAD "<devices><sound model='sb16'/></devices></domain>", "sound" },
                { HVM_HEAD "<clock offset='utc'><timer name='pit' tickpolicy='delay'/></clock></domain>", "pit" },
                { HVM_HEAD "<devices><graphics type='vnc' port='80'/></devices></domain>", "VNC port 80" },
                { HVM_HEAD "<devices><video><model type='xen'/></video></devices></domain>", "video model 'xen'" },
                { HVM_HEAD "<devices><console type='file'><source path='/tmp/c'/><target type='xen'/></console>"
                  "</devices></domain>", "console type 'file'" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(domain_def_freep) DomainDef *def = parse_string(cases[i].xml);

                printf("# case %zu: %s\n", i, cases[i].needle);
                expect_unsupported(def, cases[i].needle);
        }
}

TEST(unsupported_device_helpers) {
        _cleanup_(domain_def_freep) DomainDef *def = parse_string(
                HVM_HEAD "<devices><disk type='file' device='floppy'><source file='/f'/><target dev='fda'/></disk>"
                "<interface type='network'><source network='default'/></interface></devices></domain>");
        libxl_device_disk d;
        libxl_device_nic n;
        XvError e = XV_ERROR_NULL;

        ASSERT_LT(domcfg_disk_from_def(NULL, &def->disks[0], true, &d, &e), 0);
        ASSERT_EQ(e.code, XVP_ERR_CONFIG_UNSUPPORTED);
        libxl_device_disk_dispose(&d);
        xv_error_done(&e);
        ASSERT_LT(domcfg_nic_from_def(NULL, &def->nets[0], true, &n, &e), 0);
        ASSERT_EQ(e.code, XVP_ERR_CONFIG_UNSUPPORTED);
        libxl_device_nic_dispose(&n);
        xv_error_done(&e);
}

/* ---- the reverse, from what xl writes ------------------------------------------------------------ */

static void bitmap_new(libxl_bitmap *b, unsigned bits) {
        libxl_bitmap_init(b);
        b->size = bits / 8 + 1;
        b->map = calloc(b->size, 1);
        ASSERT_NOT_NULL(b->map);
}

/* A PV guest as xl builds it: per-vcpu affinity arrays, the pre-4.6 u.pv fields, defaults left
 * unset. */
TEST(to_def_xl_pv) {
        _cleanup_(config_done) libxl_domain_config c = {};
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        static const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x01, 0x02, 0x03 };
        char buf[18];

        libxl_domain_config_init(&c);
        c.c_info.type = LIBXL_DOMAIN_TYPE_PV;
        c.c_info.name = strdup("xlguest");
        ASSERT_OK(libxl_uuid_from_string(&c.c_info.uuid, "11111111-2222-3333-4444-555555555555"));
        libxl_domain_build_info_init_type(&c.b_info, LIBXL_DOMAIN_TYPE_PV);
        c.b_info.max_memkb = 262144;
        c.b_info.target_memkb = 131072;
        c.b_info.max_vcpus = 4;
        bitmap_new(&c.b_info.avail_vcpus, 4);
        libxl_bitmap_set(&c.b_info.avail_vcpus, 0);
        libxl_bitmap_set(&c.b_info.avail_vcpus, 1);
        c.b_info.num_vcpu_hard_affinity = 4;
        c.b_info.vcpu_hard_affinity = calloc(4, sizeof(libxl_bitmap));
        ASSERT_NOT_NULL(c.b_info.vcpu_hard_affinity);
        for (int i = 0; i < 4; i++) {
                bitmap_new(&c.b_info.vcpu_hard_affinity[i], 8);
                libxl_bitmap_set(&c.b_info.vcpu_hard_affinity[i], 2);
                libxl_bitmap_set(&c.b_info.vcpu_hard_affinity[i], 3);
                libxl_bitmap_set(&c.b_info.vcpu_hard_affinity[i], 5);
        }
        c.b_info.u.pv.bootloader = strdup("pygrub");
        c.b_info.u.pv.bootloader_args = calloc(3, sizeof(char *));
        ASSERT_NOT_NULL(c.b_info.u.pv.bootloader_args);
        c.b_info.u.pv.bootloader_args[0] = strdup("-q");
        c.b_info.u.pv.bootloader_args[1] = strdup("--entry=1");
        c.on_poweroff = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
        c.on_reboot = LIBXL_ACTION_ON_SHUTDOWN_RESTART;
        c.on_crash = LIBXL_ACTION_ON_SHUTDOWN_PRESERVE;

        c.num_disks = 2;
        c.disks = calloc(2, sizeof(libxl_device_disk));
        ASSERT_NOT_NULL(c.disks);
        libxl_device_disk_init(&c.disks[0]);
        c.disks[0].pdev_path = strdup("/dev/vg0/xlguest");
        c.disks[0].vdev = strdup("xvda");
        c.disks[0].backend = LIBXL_DISK_BACKEND_PHY;
        c.disks[0].format = LIBXL_DISK_FORMAT_RAW;
        c.disks[0].readwrite = 1;
        libxl_device_disk_init(&c.disks[1]);
        c.disks[1].pdev_path = strdup("/srv/data.qcow2");
        c.disks[1].vdev = strdup("xvdb");
        c.disks[1].backend = LIBXL_DISK_BACKEND_QDISK;
        c.disks[1].format = LIBXL_DISK_FORMAT_QCOW2;
        c.disks[1].readwrite = 0;

        c.num_nics = 1;
        c.nics = calloc(1, sizeof(libxl_device_nic));
        ASSERT_NOT_NULL(c.nics);
        libxl_device_nic_init(&c.nics[0]);
        memcpy(c.nics[0].mac, mac, 6);
        c.nics[0].bridge = strdup("br0");
        c.nics[0].ip = strdup("10.0.0.2 10.0.0.3");
        c.nics[0].ifname = strdup("vif-xl");
        c.nics[0].nictype = LIBXL_NIC_TYPE_VIF;
        c.nics[0].rate_bytes_per_interval = 51200;     /* 50 ms: 1000 KiB/s */
        c.nics[0].rate_interval_usecs = 50000;

        c.num_vfbs = 1;
        c.vfbs = calloc(1, sizeof(libxl_device_vfb));
        ASSERT_NOT_NULL(c.vfbs);
        libxl_device_vfb_init(&c.vfbs[0]);
        libxl_defbool_set(&c.vfbs[0].vnc.enable, true);
        libxl_defbool_set(&c.vfbs[0].vnc.findunused, false);
        c.vfbs[0].vnc.display = 3;
        c.vfbs[0].vnc.listen = strdup("0.0.0.0");

        ASSERT_OK(domcfg_to_def(&c, &def, NULL));
        ASSERT_EQ(def->os_type, DOMAIN_OS_LINUX);
        ASSERT_STREQ(def->name, "xlguest");
        ASSERT_TRUE(def->has_uuid);
        ASSERT_EQ(def->uuid.bytes[0], 0x11);
        ASSERT_EQ(def->memory_kib, 262144);
        ASSERT_EQ(def->current_memory_kib, 131072);
        ASSERT_EQ(def->vcpus, 4);
        ASSERT_EQ(def->vcpus_current, 2);
        ASSERT_STREQ(def->cpuset, "2-3,5");
        ASSERT_STREQ(def->bootloader, "pygrub");
        ASSERT_STREQ(def->bootloader_args, "-q --entry=1");
        ASSERT_EQ(def->on_crash, DOMAIN_LIFECYCLE_PRESERVE);

        ASSERT_EQ(def->n_disks, 2);
        ASSERT_EQ(def->disks[0].type, DOMAIN_DISK_TYPE_BLOCK);
        ASSERT_STREQ(def->disks[0].driver_name, "phy");
        ASSERT_STREQ(def->disks[0].src, "/dev/vg0/xlguest");
        ASSERT_FALSE(def->disks[0].readonly);
        ASSERT_EQ(def->disks[1].type, DOMAIN_DISK_TYPE_FILE);
        ASSERT_STREQ(def->disks[1].driver_name, "qemu");
        ASSERT_STREQ(def->disks[1].driver_type, "qcow2");
        ASSERT_TRUE(def->disks[1].readonly);

        ASSERT_EQ(def->n_nets, 1);
        ASSERT_EQ(def->nets[0].type, DOMAIN_NET_TYPE_BRIDGE);
        ASSERT_TRUE(def->nets[0].has_mac);
        ASSERT_STREQ(domain_mac_format(def->nets[0].mac, buf), "00:16:3e:01:02:03");
        ASSERT_STREQ(def->nets[0].bridge, "br0");
        ASSERT_EQ(strv_length(def->nets[0].ips), 2);
        ASSERT_STREQ(def->nets[0].ips[1], "10.0.0.3");
        ASSERT_STREQ(def->nets[0].ifname, "vif-xl");
        ASSERT_EQ(def->nets[0].rate_average, 1000);

        ASSERT_EQ(def->n_graphics, 1);
        ASSERT_EQ(def->graphics[0].type, DOMAIN_GRAPHICS_VNC);
        ASSERT_EQ(def->graphics[0].port, 5903);
        ASSERT_FALSE(def->graphics[0].autoport);
        ASSERT_STREQ(def->graphics[0].listen, "0.0.0.0");
        /* The implied PV console, mouse and keyboard. */
        ASSERT_EQ(def->n_consoles, 1);
        ASSERT_EQ(def->consoles[0].type, DOMAIN_CHR_PTY);
        ASSERT_EQ(def->n_inputs, 2);
        ASSERT_EQ(def->inputs[0].bus, DOMAIN_INPUT_BUS_XEN);
}

/* An HVM guest with libxl's defaults unset (as xl leaves them before libxl fills them in), a
 * serial list with a gap, several sound cards and a USB tablet. */
TEST(to_def_xl_hvm_defaults) {
        _cleanup_(config_done) libxl_domain_config c = {};
        _cleanup_(domain_def_freep) DomainDef *def = NULL;

        libxl_domain_config_init(&c);
        c.c_info.type = LIBXL_DOMAIN_TYPE_HVM;
        c.c_info.name = strdup("win");
        libxl_domain_build_info_init_type(&c.b_info, LIBXL_DOMAIN_TYPE_HVM);
        c.b_info.max_memkb = 1048576;
        c.b_info.max_vcpus = 2;
        c.b_info.rtc_timeoffset = (uint32_t) -3600;
        libxl_defbool_set(&c.b_info.localtime, true);
        c.b_info.u.hvm.boot = strdup("dc");
        c.b_info.u.hvm.serial_list = calloc(3, sizeof(char *));
        ASSERT_NOT_NULL(c.b_info.u.hvm.serial_list);
        c.b_info.u.hvm.serial_list[0] = strdup("none");
        c.b_info.u.hvm.serial_list[1] = strdup("pty");
        c.b_info.u.hvm.soundhw = strdup("sb16,es1370");
        libxl_defbool_set(&c.b_info.u.hvm.usb, true);
        c.b_info.u.hvm.usbdevice = strdup("tablet");
        c.b_info.u.hvm.vga.kind = LIBXL_VGA_INTERFACE_TYPE_STD;
        c.b_info.video_memkb = 16384;
        c.b_info.device_model = strdup("/opt/qemu/bin/qemu-system-i386");
        c.b_info.tsc_mode = LIBXL_TSC_MODE_NATIVE;
        libxl_defbool_set(&c.b_info.u.hvm.hpet, false);
        c.on_poweroff = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
        c.on_reboot = LIBXL_ACTION_ON_SHUTDOWN_RESTART;
        c.on_crash = LIBXL_ACTION_ON_SHUTDOWN_SOFT_RESET;      /* not in the model: the default */

        ASSERT_OK(domcfg_to_def(&c, &def, NULL));
        ASSERT_EQ(def->os_type, DOMAIN_OS_HVM);
        ASSERT_FALSE(def->has_uuid);
        ASSERT_EQ(def->vcpus, 2);
        ASSERT_EQ(def->vcpus_current, 0);
        ASSERT_NULL(def->cpuset);
        /* libxl's defaults: ACPI, APIC and PAE on, viridian off, HAP as the host has it. */
        ASSERT_TRUE(domain_def_has_feature(def, DOMAIN_FEATURE_ACPI));
        ASSERT_TRUE(domain_def_has_feature(def, DOMAIN_FEATURE_APIC));
        ASSERT_TRUE(domain_def_has_feature(def, DOMAIN_FEATURE_PAE));
        ASSERT_FALSE(domain_def_has_feature(def, DOMAIN_FEATURE_VIRIDIAN));
        ASSERT_FALSE(domain_def_has_feature(def, DOMAIN_FEATURE_HAP));
        ASSERT_EQ(def->clock.offset, DOMAIN_CLOCK_VARIABLE);
        ASSERT_EQ(def->clock.adjustment, -3600);
        ASSERT_EQ(def->clock.basis, DOMAIN_CLOCK_BASIS_LOCALTIME);
        ASSERT_EQ(def->n_boot, 2);
        ASSERT_EQ(def->boot[0], DOMAIN_BOOT_CDROM);
        ASSERT_EQ(def->boot[1], DOMAIN_BOOT_DISK);
        ASSERT_STREQ(def->emulator, "/opt/qemu/bin/qemu-system-i386");
        ASSERT_EQ(def->on_crash, DOMAIN_LIFECYCLE_DESTROY);

        /* The VNC display libxl enables by default, on a free port. */
        ASSERT_EQ(def->n_graphics, 1);
        ASSERT_EQ(def->graphics[0].type, DOMAIN_GRAPHICS_VNC);
        ASSERT_TRUE(def->graphics[0].autoport);
        ASSERT_EQ(def->n_videos, 1);
        ASSERT_STREQ(def->videos[0].model, "vga");
        ASSERT_EQ(def->videos[0].vram_kib, 16384);

        ASSERT_EQ(def->n_serials, 1);
        ASSERT_EQ(def->serials[0].type, DOMAIN_CHR_PTY);
        ASSERT_EQ(def->serials[0].target_port, 1);
        ASSERT_EQ(def->n_sounds, 2);
        ASSERT_STREQ(def->sounds[0].model, "sb16");
        ASSERT_STREQ(def->sounds[1].model, "es1370");
        ASSERT_EQ(def->n_inputs, 3);
        ASSERT_EQ(def->inputs[0].type, DOMAIN_INPUT_TABLET);
        ASSERT_EQ(def->inputs[0].bus, DOMAIN_INPUT_BUS_USB);

        ASSERT_EQ(def->clock.n_timers, 2);
        ASSERT_STREQ(def->clock.timers[0].name, "tsc");
        ASSERT_STREQ(def->clock.timers[0].mode, "native");
        ASSERT_STREQ(def->clock.timers[1].name, "hpet");
        ASSERT_EQ(def->clock.timers[1].present, DOMAIN_TRISTATE_NO);
}

/* nographic=1 (xl's nographic, or a definition without graphics) means no VNC display either. */
TEST(to_def_nographic) {
        _cleanup_(domain_def_freep) DomainDef *def = parse_string(HVM_HEAD "</domain>"), *back = NULL;
        _cleanup_(config_done) libxl_domain_config c = {};

        ASSERT_OK(domcfg_from_def(NULL, def, &c, NULL));
        ASSERT_TRUE(libxl_defbool_val(c.b_info.u.hvm.nographic));
        libxl_defbool_unset(&c.b_info.u.hvm.vnc.enable);       /* as xl leaves it */
        ASSERT_OK(domcfg_to_def(&c, &back, NULL));
        ASSERT_EQ(back->n_graphics, 0);
}

TEST(to_def_limits) {
        _cleanup_(config_done) libxl_domain_config c = {};
        DomainDef *def = NULL;
        XvError e = XV_ERROR_NULL;

        libxl_domain_config_init(&c);
        c.c_info.type = LIBXL_DOMAIN_TYPE_PV;
        c.c_info.name = strdup("big");
        libxl_domain_build_info_init_type(&c.b_info, LIBXL_DOMAIN_TYPE_PV);
        c.b_info.max_memkb = 65536;
        c.b_info.max_vcpus = DOMCFG_VCPUS_MAX + 1;
        ASSERT_LT(domcfg_to_def(&c, &def, &e), 0);
        ASSERT_NULL(def);
        ASSERT_EQ(e.code, XVP_ERR_OVERFLOW);
        xv_error_done(&e);

        /* A device count past the limit is refused before anything is read from the array. */
        c.b_info.max_vcpus = 1;
        c.num_disks = DOMCFG_DEVICES_MAX + 1;
        ASSERT_LT(domcfg_to_def(&c, &def, &e), 0);
        ASSERT_EQ(e.code, XVP_ERR_OVERFLOW);
        xv_error_done(&e);
        c.num_disks = 0;

        c.b_info.max_memkb = LIBXL_MEMKB_DEFAULT;
        ASSERT_LT(domcfg_to_def(&c, &def, &e), 0);
        xv_error_done(&e);
        c.b_info.max_memkb = 65536;

        free(c.c_info.name);
        c.c_info.name = NULL;
        ASSERT_LT(domcfg_to_def(&c, &def, &e), 0);
        ASSERT_EQ(e.code, XVP_ERR_NO_NAME);
        xv_error_done(&e);
}

TEST(cpuset) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "0", "0" },
                { "1-3,^2", "1,3" },
                { "0-3, 7", "0-3,7" },
                { "4096", "4096" },
                { "0-1,1-2", "0-2" },
        };
        libxl_bitmap map;
        XvError e = XV_ERROR_NULL;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *s = NULL;

                ASSERT_OK(domcfg_cpuset_parse(cases[i].in, 0, &map, NULL));
                ASSERT_OK(domcfg_cpuset_format(&map, &s));
                ASSERT_STREQ(s, cases[i].out);
                libxl_bitmap_dispose(&map);
        }

        /* At least @min_bits wide. */
        ASSERT_OK(domcfg_cpuset_parse("1", 64, &map, NULL));
        ASSERT_GE(map.size, 8);
        libxl_bitmap_dispose(&map);

        ASSERT_LT(domcfg_cpuset_parse("65536", 0, &map, &e), 0);      /* past DOMCFG_CPUMAP_BITS_MAX */
        ASSERT_EQ(e.code, XVP_ERR_CONFIG_UNSUPPORTED);
        xv_error_done(&e);
        libxl_bitmap_dispose(&map);
        ASSERT_LT(domcfg_cpuset_parse("3-1", 0, &map, NULL), 0);
        libxl_bitmap_dispose(&map);
        ASSERT_LT(domcfg_cpuset_parse("^1", 0, &map, NULL), 0);        /* empty */
        libxl_bitmap_dispose(&map);
        ASSERT_LT(domcfg_cpuset_parse("1,x", 0, &map, NULL), 0);
        libxl_bitmap_dispose(&map);
}

TEST(device_helpers) {
        _cleanup_(domain_def_freep) DomainDef *def = parse_string(
                HVM_HEAD "<devices><disk type='block'><driver name='phy'/><source dev='/dev/sdb'/>"
                "<target dev='hdb'/><readonly/></disk>"
                "<interface type='bridge'><source bridge='br1'/><mac address='52:54:00:aa:bb:cc'/>"
                "<model type='e1000'/><bandwidth><outbound average='1001'/></bandwidth></interface>"
                "<interface type='bridge'><source bridge='br1'/><model type='netfront'/></interface>"
                "</devices></domain>");
        libxl_device_disk d;
        libxl_device_nic n;
        DomainNet back;

        ASSERT_OK(domcfg_disk_from_def(NULL, &def->disks[0], true, &d, NULL));
        ASSERT_EQ(d.backend, LIBXL_DISK_BACKEND_PHY);
        ASSERT_STREQ(d.pdev_path, "/dev/sdb");
        ASSERT_STREQ(d.vdev, "hdb");
        ASSERT_EQ(d.readwrite, 0);
        libxl_device_disk_dispose(&d);

        ASSERT_OK(domcfg_nic_from_def(NULL, &def->nets[0], true, &n, NULL));
        ASSERT_EQ(n.nictype, LIBXL_NIC_TYPE_VIF_IOEMU);
        ASSERT_STREQ(n.model, "e1000");
        /* 1001 KiB/s does not divide into 50 ms slices: a 1 s interval keeps it exact. */
        ASSERT_EQ(n.rate_interval_usecs, 1000000);
        ASSERT_EQ(n.rate_bytes_per_interval, 1001 * 1024);
        ASSERT_OK(domcfg_nic_to_def(&n, &back, NULL));
        ASSERT_EQ(back.rate_average, 1001);
        domain_net_done(&back);
        libxl_device_nic_dispose(&n);

        /* model='netfront' on an HVM guest: a PV NIC only. */
        ASSERT_OK(domcfg_nic_from_def(NULL, &def->nets[1], true, &n, NULL));
        ASSERT_EQ(n.nictype, LIBXL_NIC_TYPE_VIF);
        ASSERT_NULL(n.model);
        libxl_device_nic_dispose(&n);
}

/* ---- xv-libxl-ops: what needs no hypervisor ----------------------------------------------------- */

TEST(ops_error_mapping) {
        static const struct {
                int rc;
                xvp_error_code code;
        } cases[] = {
                { ERROR_DOMAIN_NOTFOUND, XVP_ERR_NO_DOMAIN },
                { ERROR_NOTFOUND, XVP_ERR_DEVICE_MISSING },
                { ERROR_INVAL, XVP_ERR_INVALID_ARG },
                { ERROR_NOMEM, XVP_ERR_NO_MEMORY },
                { ERROR_NOPARAVIRT, XVP_ERR_OPERATION_INVALID },
                { ERROR_FEATURE_REMOVED, XVP_ERR_NO_SUPPORT },
                { ERROR_TIMEDOUT, XVP_ERR_OPERATION_TIMEOUT },
                { ERROR_FAIL, XVP_ERR_OPERATION_FAILED },
                { ERROR_QMP_GENERIC_ERROR, XVP_ERR_OPERATION_FAILED },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                XvError e = XV_ERROR_NULL;

                ASSERT_LT(lxops_error(&e, cases[i].rc, "destroy", "vm1", 7), 0);
                ASSERT_EQ(e.code, cases[i].code);
                ASSERT_EQ(e.domain, XVP_FROM_LIBXL);
                ASSERT_NOT_NULL(strstr(e.message, "destroy"));
                ASSERT_NOT_NULL(strstr(e.message, "'vm1'"));
                xv_error_done(&e);
        }

        {
                XvError e = XV_ERROR_NULL;

                ASSERT_LT(lxops_error(&e, ERROR_FAIL, "pause", NULL, 12), 0);
                ASSERT_NOT_NULL(strstr(e.message, "domain 12"));
                xv_error_done(&e);
        }
}

TEST(ops_argument_checks) {
        XvError e = XV_ERROR_NULL;
        uint8_t map[1] = { 1 };

        /* Refused before libxl is called: no context needed. */
        ASSERT_LT(lxops_set_vcpus(NULL, 1, "vm", 0, 4, &e), 0);
        ASSERT_EQ(e.code, XVP_ERR_INVALID_ARG);
        xv_error_done(&e);
        ASSERT_LT(lxops_set_vcpus(NULL, 1, "vm", 5, 4, &e), 0);
        ASSERT_EQ(e.code, XVP_ERR_INVALID_ARG);
        xv_error_done(&e);
        ASSERT_LT(lxops_set_vcpus(NULL, 1, "vm", 1, DOMCFG_VCPUS_MAX + 1, &e), 0);
        xv_error_done(&e);
        ASSERT_LT(lxops_pin_vcpu(NULL, 1, "vm", 0, map, 0, &e), 0);
        ASSERT_EQ(e.code, XVP_ERR_INVALID_ARG);
        xv_error_done(&e);
        ASSERT_LT(lxops_pin_vcpu(NULL, 1, "vm", 0, map, DOMCFG_CPUMAP_BITS_MAX / 8 + 1, &e), 0);
        xv_error_done(&e);
        ASSERT_LT(lxops_set_memory(NULL, 1, "vm", 0, &e), 0);
        ASSERT_EQ(e.code, XVP_ERR_INVALID_ARG);
        xv_error_done(&e);
        ASSERT_LT(lxops_sched_credit_set(NULL, 1, "vm", 70000, -1, &e), 0);
        ASSERT_EQ(e.code, XVP_ERR_INVALID_ARG);
        xv_error_done(&e);
        ASSERT_LT(lxops_sched_credit_set(NULL, 1, "vm", 0, 70000, &e), 0);
        ASSERT_EQ(e.code, XVP_ERR_INVALID_ARG);
        xv_error_done(&e);
}

static char *write_save_file(const void *data, size_t n) {
        char *path = strdup("/tmp/xv-test-lxsave.XXXXXX");
        int fd;

        ASSERT_NOT_NULL(path);
        fd = mkstemp(path);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(write(fd, data, n), (ssize_t) n);
        close(fd);
        return path;
}

static void put_bytes(char *dst, const char *src, size_t n) {
        for (size_t i = 0; i < n; i++)
                dst[i] = src[i];
}

static char *save_file_with(const char *magic, uint32_t len, const char *xml) {
        _cleanup_free_ char *buf = NULL;
        size_t m = strlen(magic), x = strlen(xml);
        uint8_t l[4] = { (uint8_t) len, (uint8_t) (len >> 8), (uint8_t) (len >> 16), (uint8_t) (len >> 24) };

        buf = malloc(m + 4 + x + 16);
        ASSERT_NOT_NULL(buf);
        /* Byte copies, no terminators: the save file's header is not a string. */
        put_bytes(buf, magic, m);
        memcpy(buf + m, l, 4);
        put_bytes(buf + m + 4, xml, x);
        put_bytes(buf + m + 4 + x, "libxl-stream....", 16);  /* what libxl would read next */
        return write_save_file(buf, m + 4 + x + 16);
}

TEST(ops_save_file_header) {
        static const char xml[] = PV_HEAD "</domain>";
        DomainDef *def = NULL;
        XvError e = XV_ERROR_NULL;
        char *path;

        path = save_file_with(LXOPS_SAVE_MAGIC, sizeof(xml) - 1, xml);
        ASSERT_OK(lxops_save_file_read_def(path, &def, NULL));
        ASSERT_STREQ(def->name, "t");
        ASSERT_STREQ(def->kernel, "/k");
        def = domain_def_free(def);
        unlink(path);
        free(path);

        path = save_file_with("LinuxGuestRecord", sizeof(xml) - 1, xml);    /* xend's, or anything else */
        ASSERT_LT(lxops_save_file_read_def(path, &def, &e), 0);
        ASSERT_EQ(e.code, XVP_ERR_INVALID_ARG);
        ASSERT_NULL(def);
        xv_error_done(&e);
        unlink(path);
        free(path);

        path = save_file_with(LXOPS_SAVE_MAGIC, LXOPS_SAVE_XML_MAX + 1, xml);  /* checked before allocating */
        ASSERT_LT(lxops_save_file_read_def(path, &def, &e), 0);
        ASSERT_EQ(e.code, XVP_ERR_INVALID_ARG);
        ASSERT_NOT_NULL(strstr(e.message, "length"));
        xv_error_done(&e);
        unlink(path);
        free(path);

        path = save_file_with(LXOPS_SAVE_MAGIC, 100000, xml);                  /* truncated */
        ASSERT_LT(lxops_save_file_read_def(path, &def, &e), 0);
        ASSERT_NOT_NULL(strstr(e.message, "truncated"));
        xv_error_done(&e);
        unlink(path);
        free(path);

        ASSERT_LT(lxops_save_file_read_def("/nonexistent/save", &def, &e), 0);
        xv_error_done(&e);
}

static void logger_log(xentoollog_logger *l, xentoollog_level level, int errnoval, const char *format, ...)
        _printf_(4, 5);
static void logger_log(xentoollog_logger *l, xentoollog_level level, int errnoval, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        l->vmessage(l, level, errnoval, "libxl", format, ap);
        va_end(ap);
}

TEST(ops_logger) {
        xentoollog_logger *l = lxops_logger_new();

        /* libxentoollog is not linked: drive the vtable as xtl_log() would. */
        ASSERT_NOT_NULL(l);
        log_set_max_level(LOG_DEBUG);
        logger_log(l, XTL_ERROR, -1, "a message %d", 42);
        logger_log(l, XTL_DEBUG, 2, "with errno");
        l->destroy(l);
}

DEFINE_TEST_MAIN
