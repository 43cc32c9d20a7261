/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The libxl wrappers (src/xen/xv-libxl-ops.c) against a real hypervisor. Not part of make check:
 * the real-Xen lane runs it in dom0 (tests/xen-lane/xen-lane run BUILDDIR SCRIPT, with SCRIPT
 * running BUILDDIR/tests/unit/test-libxl-ops-real). It builds the lane's tiny PV guest
 * ($XEN_LANE_GUEST_KERNEL, $XEN_LANE_GUEST_RAMDISK) from a DomainDef and drives it through every
 * lxops_* call, checking each effect through libxl's own queries. Prints TAP; exits 1 when any
 * check failed, 77 (skip) only when there is no guest kit in the environment.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <libxl_utils.h>

#include "xv-alloc.h"
#include "xv-domain-xml.h"
#include "xv-libxl-domcfg.h"
#include "xv-libxl-ops.h"
#include "xv-log.h"

#define GUEST_NAME "lxops-smoke"
#define GUEST_MEMORY_KIB (128 * 1024)
#define WAIT_SECONDS 90

static unsigned n_test, n_failed;

static void check(bool ok, const char *format, ...) _printf_(2, 3);
static void check(bool ok, const char *format, ...) {
        va_list ap;

        printf("%s %u - ", ok ? "ok" : "not ok", ++n_test);
        va_start(ap, format);
        vprintf(format, ap);
        va_end(ap);
        putchar('\n');
        fflush(stdout);
        if (!ok)
                n_failed++;
}

static bool check_r(int r, XvError *e, const char *what) {
        check(r >= 0, "%s%s%s", what, r < 0 ? ": " : "", r < 0 ? strnull(e->message) : "");
        xv_error_done(e);
        return r >= 0;
}

static bool dominfo(libxl_ctx *ctx, uint32_t domid, libxl_dominfo *ret) {
        libxl_dominfo_init(ret);
        return libxl_domain_info(ctx, ret, domid) == 0;
}

static bool domain_exists(libxl_ctx *ctx, uint32_t domid) {
        return libxl_domain_info(ctx, NULL, domid) == 0;
}

static bool is_paused(libxl_ctx *ctx, uint32_t domid) {
        libxl_dominfo info;
        bool p = dominfo(ctx, domid, &info) && info.paused;

        libxl_dominfo_dispose(&info);
        return p;
}

static void sleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        (void) nanosleep(&ts, NULL);
}

/* libxl finishes a destroy (also the one after a save) in a child process: the domain may still
 * be listed for a moment after the call returned. Waits, bounded, for it to go. */
static bool domain_gone(libxl_ctx *ctx, uint32_t domid) {
        for (unsigned i = 0; i < WAIT_SECONDS * 10; i++) {
                if (!domain_exists(ctx, domid))
                        return true;
                sleep_ms(100);
        }
        return false;
}

static char *guest_xml(const char *kernel, const char *ramdisk) {
        char *xml = NULL;

        if (asprintf(&xml,
                     "<domain type='xen'><name>" GUEST_NAME "</name>"
                     "<memory>%u</memory><vcpu current='2'>2</vcpu>"
                     "<os><type>linux</type><kernel>%s</kernel><initrd>%s</initrd>"
                     "<cmdline>console=hvc0 loglevel=4</cmdline></os>"
                     "<on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>"
                     "<devices><console type='pty'/></devices></domain>",
                     GUEST_MEMORY_KIB, kernel, ramdisk) < 0)
                return NULL;
        return xml;
}

static void test_vcpus_and_pinning(libxl_ctx *ctx, uint32_t domid) {
        XvError e = XV_ERROR_NULL;
        libxl_vcpuinfo *v;
        int nb = 0, nrcpus = 0;
        uint8_t map[1] = { 0x2 };       /* host cpu 1 only */

        if (check_r(lxops_pin_vcpu(ctx, domid, GUEST_NAME, 0, map, sizeof(map), &e), &e, "pin vcpu 0 to cpu 1")) {
                v = libxl_list_vcpu(ctx, domid, &nb, &nrcpus);
                check(v && nb >= 1 && libxl_bitmap_test(&v[0].cpumap, 1) && !libxl_bitmap_test(&v[0].cpumap, 0),
                      "vcpu 0 affinity is cpu 1 only (%d vcpus, %d host cpus)", nb, nrcpus);
                if (v)
                        libxl_vcpuinfo_list_free(v, nb);
        }

        if (check_r(lxops_set_vcpus(ctx, domid, GUEST_NAME, 1, 2, &e), &e, "set online vcpus to 1")) {
                _cleanup_(domain_def_freep) DomainDef *def = NULL;
                int r = lxops_get_def(ctx, domid, GUEST_NAME, &def, &e);

                check(r >= 0 && def->vcpus == 2 && domain_def_current_vcpus(def) == 1,
                      "configuration says 2 vcpus, 1 online (%s)", r < 0 ? strnull(e.message) : "read back");
                xv_error_done(&e);
        }
}

static void test_memory(libxl_ctx *ctx, uint32_t domid) {
        XvError e = XV_ERROR_NULL;
        libxl_dominfo info;
        uint64_t target = 0;

        if (check_r(lxops_set_memory(ctx, domid, GUEST_NAME, 96 * 1024, &e), &e, "set memory target 96 MiB")) {
                int rc = libxl_get_memory_target(ctx, domid, &target);

                check(rc == 0 && target == 96 * 1024, "memory target is 98304 KiB (%" PRIu64 ")", target);
        }
        if (check_r(lxops_set_max_memory(ctx, domid, GUEST_NAME, 160 * 1024, &e), &e, "set max memory 160 MiB")) {
                bool ok = dominfo(ctx, domid, &info);

                check(ok && info.max_memkb >= 160 * 1024, "max memory >= 163840 KiB (%" PRIu64 ")",
                      ok ? info.max_memkb : 0);
                libxl_dominfo_dispose(&info);
        }
}

static void test_sched(libxl_ctx *ctx, uint32_t domid) {
        XvError e = XV_ERROR_NULL;
        unsigned weight = 0, cap = 0;
        const char *sched = NULL;

        if (!check_r(lxops_sched_credit_get(ctx, domid, GUEST_NAME, &weight, &cap, &sched, &e), &e,
                     "get scheduler parameters"))
                return;
        check(weight == 256, "default weight 256 (%u), cap %u, scheduler %s", weight, cap, strnull(sched));
        if (check_r(lxops_sched_credit_set(ctx, domid, GUEST_NAME, 512, 50, &e), &e, "set weight 512 cap 50")) {
                int r = lxops_sched_credit_get(ctx, domid, GUEST_NAME, &weight, &cap, NULL, &e);

                check(r >= 0 && weight == 512 && cap == 50, "weight/cap read back 512/50 (%u/%u)", weight, cap);
                xv_error_done(&e);
        }
        /* A cap of half a CPU would make the guest's boot under QEMU crawl: lift it. */
        check_r(lxops_sched_credit_set(ctx, domid, GUEST_NAME, 256, 0, &e), &e, "set weight 256, no cap");
}

static void test_disk(libxl_ctx *ctx, uint32_t domid) {
        _cleanup_(domain_def_freep) DomainDef *dd = NULL;
        static const char img[] = "/tmp/lxops-smoke-disk.img";
        XvError e = XV_ERROR_NULL;
        libxl_device_disk *list;
        bool found = false;
        int num = 0, r;
        FILE *f;

        /* The block backend is a dom0 kernel module: without it the backend never leaves state 1
         * and libxl times out after 10 s, leaving a half-made vbd that then blocks suspend. */
        if (access("/sys/module/xen_blkback", F_OK) < 0) {
                printf("ok %u - attach/detach a disk # SKIP no xen-blkback in this dom0\n", ++n_test);
                return;
        }
        f = fopen(img, "we");
        if (!f || ftruncate(fileno(f), 16 * 1024 * 1024) < 0) {
                check(false, "create a disk image: %m");
                if (f)
                        fclose(f);
                return;
        }
        fclose(f);

        r = domain_def_parse_xml("<domain type='xen'><name>d</name><memory>1024</memory><vcpu>1</vcpu>"
                                 "<os><type>linux</type><kernel>/k</kernel></os><devices>"
                                 "<disk type='file'><source file='/tmp/lxops-smoke-disk.img'/>"
                                 "<target dev='xvdb'/></disk></devices></domain>", &dd, &e);
        if (!check_r(r, &e, "parse a disk definition"))
                return;
        if (!check_r(lxops_disk_add(ctx, domid, GUEST_NAME, &dd->disks[0], false, &e), &e, "attach disk xvdb"))
                return;
        list = libxl_device_disk_list(ctx, domid, &num);
        for (int i = 0; list && i < num; i++)
                found = found || streq_ptr(list[i].vdev, "xvdb");
        if (list)
                libxl_device_disk_list_free(list, num);
        check(found, "xvdb listed after attach (%d disks)", num);

        check_r(lxops_disk_remove(ctx, domid, GUEST_NAME, &dd->disks[0], false, &e), &e, "detach disk xvdb");
        found = false;
        list = libxl_device_disk_list(ctx, domid, &num);
        for (int i = 0; list && i < num; i++)
                found = found || streq_ptr(list[i].vdev, "xvdb");
        if (list)
                libxl_device_disk_list_free(list, num);
        check(!found, "xvdb gone after detach");

        r = lxops_disk_remove(ctx, domid, GUEST_NAME, &dd->disks[0], false, &e);
        check(r < 0 && e.code == XVP_ERR_DEVICE_MISSING, "detaching it again: device missing (%d: %s)",
              (int) e.code, strnull(e.message));
        xv_error_done(&e);
        (void) unlink(img);
}

/* A PV guest cannot be dumped (no p2m yet) or suspended (tasks refuse to freeze) while its kernel
 * is still booting: wait for the guest kit's init line in the console log xenconsoled keeps. */
static void wait_guest_booted(void) {
        const char *out = getenv("XEN_LANE_OUT");
        _cleanup_free_ char *path = NULL;

        if (!out || asprintf(&path, "%s/console/guest-" GUEST_NAME ".log", out) < 0) {
                printf("# no console log to watch: not waiting for the guest to boot\n");
                return;
        }
        for (int i = 0; i < WAIT_SECONDS * 2; i++) {
                _cleanup_free_ char *text = NULL;
                FILE *f = fopen(path, "re");

                if (f) {
                        size_t n;

                        text = calloc(1, 65537);
                        n = text ? fread(text, 1, 65536, f) : 0;
                        fclose(f);
                        if (n > 0 && strstr(text, "hello from domU")) {
                                printf("# guest booted after %d.%d s\n", i / 2, (i % 2) * 5);
                                return;
                        }
                }
                sleep_ms(500);
        }
        printf("# the guest did not print its hello line within %d s\n", WAIT_SECONDS);
}

static void test_save_restore(libxl_ctx *ctx, const DomainDef *def, uint32_t *domid) {
        _cleanup_(domain_def_freep) DomainDef *saved = NULL, *got = NULL;
        static const char path[] = "/tmp/lxops-smoke.save";
        XvError e = XV_ERROR_NULL;
        uint32_t newid = 0;
        struct stat st;

        if (!check_r(lxops_save_file(ctx, *domid, def, path, &e), &e, "save to a file"))
                return;
        check(domain_gone(ctx, *domid), "domain %" PRIu32 " gone after save", *domid);
        check(stat(path, &st) == 0 && st.st_size > GUEST_MEMORY_KIB * 512, "save file holds the memory (%lld bytes)",
              stat(path, &st) == 0 ? (long long) st.st_size : -1LL);

        if (!check_r(lxops_restore_file(ctx, path, false, &newid, &saved, &e), &e, "restore from the file"))
                return;
        *domid = newid;
        check(saved && streq_ptr(saved->name, GUEST_NAME), "saved definition names the guest");
        check(domain_exists(ctx, newid) && !is_paused(ctx, newid), "restored as domain %" PRIu32 ", running", newid);
        if (check_r(lxops_get_def(ctx, newid, GUEST_NAME, &got, &e), &e, "get the restored configuration"))
                check(streq_ptr(got->name, GUEST_NAME) && got->id == (int) newid, "restored configuration is the guest's");
        (void) unlink(path);
}

static void test_core_dump(libxl_ctx *ctx, uint32_t domid) {
        static const char path[] = "/tmp/lxops-smoke.core";
        XvError e = XV_ERROR_NULL;
        struct stat st;

        if (!check_r(lxops_core_dump(ctx, domid, GUEST_NAME, path, false, false, &e), &e, "core dump (not live)"))
                return;
        check(stat(path, &st) == 0 && st.st_size > 0, "core file written (%lld bytes)",
              stat(path, &st) == 0 ? (long long) st.st_size : -1LL);
        check(domain_exists(ctx, domid) && !is_paused(ctx, domid), "domain running again after the dump");
        (void) unlink(path);
}

static void test_shutdown(libxl_ctx *ctx, uint32_t domid) {
        XvError e = XV_ERROR_NULL;
        bool down = false;

        /* The guest's init must have registered its shutdown watch: give it time to boot. */
        for (int i = 0; i < WAIT_SECONDS * 2 && !down; i++) {
                libxl_dominfo info;
                int r;

                if (i == 0 || i % 20 == 0) {
                        r = lxops_shutdown(ctx, domid, GUEST_NAME, false, &e);
                        if (r < 0 && e.code != XVP_ERR_OPERATION_INVALID) {
                                check(false, "shutdown request: %s", strnull(e.message));
                                xv_error_done(&e);
                                return;
                        }
                        xv_error_done(&e);
                }
                if (!dominfo(ctx, domid, &info))
                        down = true;    /* already reaped */
                else
                        down = info.shutdown && info.shutdown_reason == LIBXL_SHUTDOWN_REASON_POWEROFF;
                libxl_dominfo_dispose(&info);
                if (!down)
                        sleep_ms(500);
        }
        check(down, "guest powered off after a PV shutdown request");
}

static void run(libxl_ctx *ctx, const char *kernel, const char *ramdisk, uint32_t *domid) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_free_ char *xml = NULL;
        XvError e = XV_ERROR_NULL;
        uint32_t other = 0;
        int r;

        xml = guest_xml(kernel, ramdisk);
        r = xml ? domain_def_parse_xml(xml, &def, &e) : -ENOMEM;
        if (!check_r(r, &e, "parse the guest definition"))
                return;

        if (!check_r(lxops_create(ctx, def, true, domid, &e), &e, "create paused"))
                return;
        check(*domid > 0 && is_paused(ctx, *domid), "domain %" PRIu32 " exists, paused", *domid);

        r = lxops_create(ctx, def, false, &other, &e);
        check(r < 0 && e.code == XVP_ERR_OPERATION_INVALID, "a second create of the same name is refused (%s)",
              strnull(e.message));
        xv_error_done(&e);

        check_r(lxops_unpause(ctx, *domid, GUEST_NAME, &e), &e, "unpause");
        check(!is_paused(ctx, *domid), "running after unpause");
        check_r(lxops_pause(ctx, *domid, GUEST_NAME, &e), &e, "pause");
        check(is_paused(ctx, *domid), "paused after pause");
        check_r(lxops_unpause(ctx, *domid, GUEST_NAME, &e), &e, "unpause again");
        check(!is_paused(ctx, *domid), "running again");

        {
                _cleanup_(domain_def_freep) DomainDef *got = NULL;

                if (check_r(lxops_get_def(ctx, *domid, GUEST_NAME, &got, &e), &e, "get the running configuration"))
                        check(streq_ptr(got->name, GUEST_NAME) && got->memory_kib == GUEST_MEMORY_KIB &&
                              streq_ptr(got->kernel, kernel) && got->id == (int) *domid && got->vcpus == 2,
                              "configuration: name, memory, kernel, id, vcpus as created");
        }

        test_memory(ctx, *domid);
        test_vcpus_and_pinning(ctx, *domid);
        test_sched(ctx, *domid);
        test_disk(ctx, *domid);
        wait_guest_booted();
        test_core_dump(ctx, *domid);
        test_save_restore(ctx, def, domid);
        test_shutdown(ctx, *domid);

        if (domain_exists(ctx, *domid))
                check_r(lxops_destroy(ctx, *domid, GUEST_NAME, &e), &e, "destroy");
        /* libxl finishes the destruction in a child process: the domain lingers as dying. */
        for (int i = 0; i < WAIT_SECONDS * 2 && domain_exists(ctx, *domid); i++)
                sleep_ms(500);
        check(domain_gone(ctx, *domid), "domain gone");

        r = lxops_pause(ctx, *domid, GUEST_NAME, &e);
        check(r < 0 && e.code == XVP_ERR_NO_DOMAIN, "pause of a gone domain: no domain (%d: %s)", (int) e.code,
              strnull(e.message));
        xv_error_done(&e);
        r = lxops_destroy(ctx, *domid, GUEST_NAME, &e);
        check(r < 0 && e.code == XVP_ERR_NO_DOMAIN, "destroy of a gone domain: no domain (%d: %s)", (int) e.code,
              strnull(e.message));
        xv_error_done(&e);
}

int main(void) {
        const char *kernel = getenv("XEN_LANE_GUEST_KERNEL"), *ramdisk = getenv("XEN_LANE_GUEST_RAMDISK");
        xentoollog_logger *logger;
        libxl_ctx *ctx = NULL;
        uint32_t domid = 0;

        if (!kernel || !ramdisk) {
                printf("1..0 # SKIP no guest kit (XEN_LANE_GUEST_KERNEL/RAMDISK): run me in the real-Xen lane\n");
                return 77;
        }
        if (getenv("XV_DEBUG"))
                log_set_max_level(LOG_DEBUG);

        logger = lxops_logger_new();
        if (!logger || libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, logger) != 0) {
                printf("1..1\nnot ok 1 - libxl context (is this dom0?)\n");
                return 1;
        }

        run(ctx, kernel, ramdisk, &domid);

        if (domid > 0 && domain_exists(ctx, domid))
                (void) libxl_domain_destroy(ctx, domid, NULL);
        libxl_ctx_free(ctx);
        logger->destroy(logger);
        printf("1..%u\n# %u passed, %u failed\n", n_test, n_test - n_failed, n_failed);
        return n_failed > 0 ? 1 : 0;
}
