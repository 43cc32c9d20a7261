/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libxml/parser.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests.h"
#include "xv-alloc.h"
#include "xv-capabilities.h"
#include "xv-error.h"
#include "xv-fileio.h"
#include "xv-uuid.h"

/* The two x86 hosts of libvirt's xencapstest (shared/conformance/other). */
#define CPUINFO_NO_HVM                                                                  \
        "processor\t: 0\n"                                                              \
        "vendor_id\t: GenuineIntel\n"                                                   \
        "flags\t\t: fpu tsc msr pae mce cx8 apic mtrr mca cmov pat pse36 clflush\n"     \
        "\n"                                                                            \
        "processor\t: 1\n"                                                              \
        "flags\t\t: fpu tsc msr pae mce cx8 apic mtrr mca cmov pat pse36 clflush\n"

#define CPUINFO_VMX                                                                     \
        "processor\t: 0\n"                                                              \
        "flags\t\t: fpu tsc msr pae mce cx8 apic vmx est\n"

extern char **environ;

static char *corpus_file(const char *name) {
        _cleanup_free_ char *rel = NULL;

        rel = test_path("conformance/other", name);
        return test_path(test_shared_dir(), rel);
}

static Capabilities *build(const char *arch, CapabilitiesDialect dialect, const char *cpuinfo,
                           const char *xen_caps, unsigned major, unsigned minor) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;

        ASSERT_OK(capabilities_new(arch, dialect, &caps, &error));
        if (capabilities_add_xen_guests(caps, cpuinfo, xen_caps, major, minor, &error) < 0)
                test_fail(__FILE__, __LINE__, "capabilities_add_xen_guests: %s", strnull(error.message));
        return TAKE_PTR(caps);
}

static char *format(const Capabilities *caps) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        char *xml = NULL;

        ASSERT_OK(capabilities_format_xml(caps, &xml, &error));
        ASSERT_NOT_NULL(xml);
        return xml;
}

/* Every formatted document must be well-formed, with <capabilities> as its root. */
static void assert_well_formed(const char *xml) {
        xmlDocPtr doc;
        xmlNodePtr root;

        doc = xmlReadMemory(xml, (int) strlen(xml), "capabilities.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        ASSERT_NOT_NULL(doc);
        root = xmlDocGetRootElement(doc);
        ASSERT_NOT_NULL(root);
        ASSERT_STREQ((const char *) root->name, "capabilities");
        xmlFreeDoc(doc);
}

static void check_golden(const char *name, const Capabilities *caps) {
        _cleanup_free_ char *xml = format(caps);

        assert_well_formed(xml);
        ASSERT_OK(test_compare_golden("capabilities", name, ".xml", xml));
}

/* Runs @argv with its output discarded; returns the exit status, or -1 when it could not run. */
static int run_quiet(char *const argv[]) {
        posix_spawn_file_actions_t fa;
        int status = 0;
        pid_t pid;

        ASSERT_EQ(posix_spawn_file_actions_init(&fa), 0);
        ASSERT_EQ(posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0), 0);
        ASSERT_EQ(posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0), 0);
        if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                return -1;
        }
        posix_spawn_file_actions_destroy(&fa);
        while (waitpid(pid, &status, 0) < 0)
                ASSERT_EQ(errno, EINTR);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Validates with virt-xml-validate against libvirt's capability schema; returns its exit status,
 * or -1 when the tool is not configured (the caller then has nothing to assert). */
static int validate(const char *xml) {
        const char *tool = getenv("VIRT_XML_VALIDATE");
        char path[] = "/tmp/xv-test-capabilities-XXXXXX";
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (isempty(tool)) {
                printf("# VIRT_XML_VALIDATE not set, schema check skipped\n");
                return -1;
        }
        fd = mkstemp(path);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(write(fd, xml, strlen(xml)), (ssize_t) strlen(xml));
        r = run_quiet((char *const[]) { (char *) tool, path, (char *) "capability", NULL });
        (void) unlink(path);
        return r;
}

static void check_corpus(const char *name, const char *host_arch) {
        _cleanup_free_ char *cpuinfo_name = NULL, *caps_name = NULL, *cpuinfo_path = NULL,
                *caps_path = NULL, *cpuinfo = NULL, *xen_caps = NULL, *golden = NULL;
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;

        ASSERT_GE(asprintf(&cpuinfo_name, "%s.cpuinfo", name), 0);
        ASSERT_GE(asprintf(&caps_name, "%s.caps", name), 0);
        cpuinfo_path = corpus_file(cpuinfo_name);
        caps_path = corpus_file(caps_name);
        cpuinfo = test_read_file(cpuinfo_path);
        xen_caps = test_read_file(caps_path);

        /* libvirt's 2007 test had no version-dependent features: Xen 3.0 reproduces it. */
        caps = build(host_arch, CAPABILITIES_DIALECT_2007, cpuinfo, xen_caps, 3, 0);
        ASSERT_GE(asprintf(&golden, "%s-2007", name), 0);
        check_golden(golden, caps);
        caps = capabilities_free(caps);
        golden = mfree(golden);

        /* The same host as the daemon reports it today, on the last xend-based Xen. */
        caps = build(host_arch, CAPABILITIES_DIALECT_CURRENT, cpuinfo, xen_caps, 4, 1);
        ASSERT_GE(asprintf(&golden, "%s-xen-4.1", name), 0);
        check_golden(golden, caps);
}

TEST(corpus_i686_pae_hvm) {
        check_corpus("xen-i686-pae-hvm", "i686");
}

TEST(corpus_x86_64_hvm) {
        check_corpus("xen-x86_64-hvm", "x86_64");
}

TEST(corpus_2007_is_libvirt_output) {
        /* Spot checks of the 2007 layout beyond the golden files: PAE is not reported next to vmx
         * (libvirt's quirk), HVM guests have pc/isapc and the emulator follows the guest's word
         * size, the PV guest has no emulator. */
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;
        _cleanup_free_ char *xml = NULL;

        caps = build("x86_64", CAPABILITIES_DIALECT_2007, CPUINFO_VMX,
                     "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64", 3, 0);
        ASSERT_EQ(strv_length(caps->host_features), 1u);
        ASSERT_STREQ(caps->host_features[0], "vmx");
        ASSERT_FALSE(caps->live_migration);
        ASSERT_EQ(caps->n_guests, 3u);
        ASSERT_NULL(caps->guests[0]->emulator);
        ASSERT_STREQ(caps->guests[1]->emulator, "/usr/lib/xen/bin/qemu-dm");
        ASSERT_STREQ(caps->guests[2]->emulator, "/usr/lib64/xen/bin/qemu-dm");
        ASSERT_STREQ(caps->guests[1]->machines[1], "isapc");
        xml = format(caps);
        ASSERT_NOT_NULL(strstr(xml, "<domain type='xen'></domain>\n"
                                    "      <emulator>/usr/lib/xen/bin/qemu-dm</emulator>"));
        /* The 2007 order puts <emulator> after <domain>: today's schema refuses it. */
        if (getenv("VIRT_XML_VALIDATE") && !isempty(getenv("VIRT_XML_VALIDATE")))
                ASSERT_NE(validate(xml), 0);
}

TEST(host_without_hvm) {
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;
        _cleanup_free_ char *xml = NULL;
        _cleanup_free_ CapabilitiesGuestType *types = NULL;
        size_t n_types;

        /* No vmx/svm, and Xen offers paravirtual PAE guests only: pae is reported on the host. */
        caps = build("i686", CAPABILITIES_DIALECT_CURRENT, CPUINFO_NO_HVM, "xen-3.0-x86_32p\n", 3, 1);
        check_golden("i686-pae-no-hvm", caps);
        ASSERT_EQ(strv_length(caps->host_features), 1u);
        ASSERT_STREQ(caps->host_features[0], "pae");
        ASSERT_OK(capabilities_list_guest_types(caps, &types, &n_types));
        ASSERT_EQ(n_types, 1u);
        ASSERT_STREQ(types[0].os_type, "xen");
        ASSERT_STREQ(types[0].arch, "i686");
        ASSERT_NULL(capabilities_find_guest(caps, "hvm", NULL));
        xml = format(caps);
        ASSERT_NULL(strstr(xml, "hvm"));
        ASSERT_NULL(strstr(xml, "<vmx/>"));
}

TEST(hvm_listed_by_xen_without_cpu_flag) {
        /* Later Xen releases hide vmx/svm from dom0's /proc/cpuinfo; Xen's own list decides. */
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;

        caps = build("x86_64", CAPABILITIES_DIALECT_CURRENT, CPUINFO_NO_HVM,
                     "xen-3.0-x86_64 xen-3.0-x86_32p hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64", 4, 0);
        ASSERT_EQ(caps->n_guests, 4u);
        ASSERT_NOT_NULL(capabilities_find_guest(caps, "hvm", "x86_64"));
        ASSERT_TRUE(strv_contains(caps->host_features, "pae"));
        ASSERT_FALSE(strv_contains(caps->host_features, "vmx"));
}

TEST(version_dependent_features) {
        static const struct {
                unsigned major, minor;
                const char *golden;
        } versions[] = {
                { 3, 1, "x86_64-xen-3.1" },     /* acpi, apic toggle='yes' */
                { 3, 3, "x86_64-xen-3.3" },     /* + hap */
                { 3, 4, "x86_64-xen-3.4" },     /* + viridian */
                { 4, 0, "x86_64-xen-4.0" },     /* apic still toggle='yes' (libvirt's test) */
        };

        for (size_t i = 0; i < ELEMENTSOF(versions); i++) {
                _cleanup_(capabilities_freep) Capabilities *caps = NULL;

                caps = build("x86_64", CAPABILITIES_DIALECT_CURRENT, CPUINFO_VMX,
                             "xen-3.0-x86_64 xen-3.0-x86_32p hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64",
                             versions[i].major, versions[i].minor);
                check_golden(versions[i].golden, caps);
        }
}

TEST(numa_topology_and_uuid) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;
        static const unsigned node0[] = { 0, 1, 2, 3 }, node1[] = { 4, 5, 6, 7 };
        XvUuid uuid;

        caps = build("x86_64", CAPABILITIES_DIALECT_CURRENT, CPUINFO_VMX,
                     "xen-3.0-x86_64 xen-3.0-x86_32p hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64", 3, 4);
        ASSERT_OK(uuid_from_string("4986bfb4-a7c2-4aa3-9f47-0a8d6b6d2a4b", &uuid));
        ASSERT_OK(capabilities_set_uuid(caps, &uuid));
        ASSERT_OK(capabilities_add_numa_cell(caps, 0, node0, ELEMENTSOF(node0), 8388608, &error));
        ASSERT_OK(capabilities_add_numa_cell(caps, 1, node1, ELEMENTSOF(node1), 0, &error));
        /* A memory-only node: XenD prints "node2:no cpus". */
        ASSERT_OK(capabilities_add_numa_cell(caps, 2, NULL, 0, 1048576, &error));
        check_golden("x86_64-numa", caps);
}

TEST(numa_errors) {
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;
        static const unsigned node0[] = { 0, 1 }, dup[] = { 2, 2 }, again[] = { 1, 3 },
                out_of_range[] = { CAPABILITIES_CPUS_MAX };
        _cleanup_free_ unsigned *many = NULL;

        ASSERT_OK(capabilities_new("x86_64", CAPABILITIES_DIALECT_CURRENT, &caps, NULL));
        ASSERT_OK(capabilities_add_numa_cell(caps, 0, node0, ELEMENTSOF(node0), 0, NULL));

        {
                _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
                ASSERT_ERROR(capabilities_add_numa_cell(caps, 0, NULL, 0, 0, &e), EINVAL);
                ASSERT_STREQ(e.message, "Duplicate NUMA cell 0");
        }
        {
                _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
                ASSERT_ERROR(capabilities_add_numa_cell(caps, 1, dup, ELEMENTSOF(dup), 0, &e), EINVAL);
                ASSERT_STREQ(e.message, "CPU 2 of NUMA cell 1 is listed twice");
        }
        {
                _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
                ASSERT_ERROR(capabilities_add_numa_cell(caps, 1, again, ELEMENTSOF(again), 0, &e), EINVAL);
                ASSERT_STREQ(e.message, "CPU 1 of NUMA cell 1 is listed twice");
        }
        {
                _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
                ASSERT_ERROR(capabilities_add_numa_cell(caps, 1, out_of_range, 1, 0, &e), EINVAL);
                ASSERT_STREQ(e.message, "CPU 4096 of NUMA cell 1 is out of range (at most 4095)");
        }
        {
                _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
                many = new0(unsigned, CAPABILITIES_CPUS_MAX + 1);
                ASSERT_NOT_NULL(many);
                ASSERT_ERROR(capabilities_add_numa_cell(caps, 1, many, CAPABILITIES_CPUS_MAX + 1, 0, &e),
                             EOVERFLOW);
                ASSERT_STREQ(e.message, "Too many CPUs in NUMA cell 1 (4097, at most 4096)");
        }
        /* Nothing of the refused cells was kept. */
        ASSERT_EQ(caps->n_cells, 1u);
        for (unsigned id = 1; id < CAPABILITIES_CELLS_MAX; id++)
                ASSERT_OK(capabilities_add_numa_cell(caps, id, NULL, 0, 0, NULL));
        ASSERT_ERROR(capabilities_add_numa_cell(caps, CAPABILITIES_CELLS_MAX, NULL, 0, 0, NULL), EOVERFLOW);
}

static void check_rejected_caps(const char *xen_caps, int err, const char *message) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;

        ASSERT_OK(capabilities_new("x86_64", CAPABILITIES_DIALECT_CURRENT, &caps, NULL));
        ASSERT_ERROR(capabilities_add_xen_guests(caps, CPUINFO_VMX, xen_caps, 3, 1, &e), err);
        ASSERT_STREQ(e.message, message);
        /* Refused input leaves the object as it was. */
        ASSERT_EQ(caps->n_guests, 0u);
        ASSERT_NULL(caps->host_features);
        ASSERT_FALSE(caps->live_migration);
}

TEST(malformed_xen_caps) {
        check_rejected_caps("xen-3.0-x86_64 hvm-3.x-x86_32", EBADMSG,
                            "Malformed Xen capability 'hvm-3.x-x86_32', expected TYPE-MAJOR.MINOR-ARCH "
                            "such as 'hvm-3.0-x86_32p'");
        check_rejected_caps("hvm", EBADMSG,
                            "Malformed Xen capability 'hvm', expected TYPE-MAJOR.MINOR-ARCH "
                            "such as 'hvm-3.0-x86_32p'");
        check_rejected_caps("xen-3.0-", EBADMSG,
                            "Malformed Xen capability 'xen-3.0-', expected TYPE-MAJOR.MINOR-ARCH "
                            "such as 'hvm-3.0-x86_32p'");
        check_rejected_caps("xen-3.0-x86_64,hvm-3.0-x86_64", EBADMSG,
                            "Malformed Xen capability 'xen-3.0-x86_64,hvm-3.0-x86_64', expected "
                            "TYPE-MAJOR.MINOR-ARCH such as 'hvm-3.0-x86_32p'");
        check_rejected_caps("xen-3.0-x86_64\x01", EBADMSG,
                            "Invalid character 0x01 at offset 14 of the Xen capabilities string");
        check_rejected_caps("xen-3.0-x86_64 \xc3\xa9", EBADMSG,
                            "Invalid character 0xc3 at offset 15 of the Xen capabilities string");
}

TEST(oversize_inputs) {
        _cleanup_free_ char *big_caps = NULL, *big_cpuinfo = NULL, *ok_caps = NULL;
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;
        size_t n;

        /* Exactly the limit is fine: 68 tokens of "xen-3.0-x86_64 " is 1020 bytes, pad to 1024. */
        ok_caps = new0(char, CAPABILITIES_XEN_CAPS_SIZE_MAX + 2);
        ASSERT_NOT_NULL(ok_caps);
        for (n = 0; n + 15 <= CAPABILITIES_XEN_CAPS_SIZE_MAX; n += 15)
                memcpy(ok_caps + n, "xen-3.0-x86_64 ", 15);    /* NOLINT(bugprone-not-null-terminated-result) */
        memset(ok_caps + n, ' ', CAPABILITIES_XEN_CAPS_SIZE_MAX - n);
        ASSERT_EQ(strlen(ok_caps), (size_t) CAPABILITIES_XEN_CAPS_SIZE_MAX);
        ASSERT_OK(capabilities_new("x86_64", CAPABILITIES_DIALECT_CURRENT, &caps, NULL));
        ASSERT_OK(capabilities_add_xen_guests(caps, NULL, ok_caps, 3, 1, NULL));
        ASSERT_EQ(caps->n_guests, 1u);
        caps = capabilities_free(caps);

        ok_caps[CAPABILITIES_XEN_CAPS_SIZE_MAX] = ' ';
        check_rejected_caps(ok_caps, EOVERFLOW, "Xen capabilities string is longer than 1024 bytes");

        big_cpuinfo = new(char, CAPABILITIES_CPUINFO_SIZE_MAX + 2);
        ASSERT_NOT_NULL(big_cpuinfo);
        memset(big_cpuinfo, '\n', CAPABILITIES_CPUINFO_SIZE_MAX + 1);
        big_cpuinfo[CAPABILITIES_CPUINFO_SIZE_MAX + 1] = '\0';
        ASSERT_OK(capabilities_new("x86_64", CAPABILITIES_DIALECT_CURRENT, &caps, NULL));
        ASSERT_ERROR(capabilities_add_xen_guests(caps, big_cpuinfo, "xen-3.0-x86_64", 3, 1, &e), EOVERFLOW);
        ASSERT_STREQ(e.message, "CPU information is longer than 1048576 bytes");
        ASSERT_EQ(caps->n_guests, 0u);
        big_cpuinfo[CAPABILITIES_CPUINFO_SIZE_MAX] = '\0';
        ASSERT_OK(capabilities_add_xen_guests(caps, big_cpuinfo, "xen-3.0-x86_64", 3, 1, NULL));
}

TEST(unknown_tokens_are_skipped) {
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;

        /* ARM ports and guest types we do not know are well-formed: skipped, like libvirt did. */
        caps = build("x86_64", CAPABILITIES_DIALECT_CURRENT, NULL,
                     "xen-3.0-aarch64 xen-3.0-armv7l pvh-3.0-x86_64 \t\n", 4, 4);
        ASSERT_EQ(caps->n_guests, 0u);
        ASSERT_NULL(caps->host_features);
        caps = capabilities_free(caps);

        caps = build("x86_64", CAPABILITIES_DIALECT_CURRENT, NULL, NULL, 4, 4);
        ASSERT_EQ(caps->n_guests, 0u);
        ASSERT_TRUE(caps->live_migration);
        caps = capabilities_free(caps);

        /* ia64 flavours merge into one guest, printed bare. */
        caps = build("ia64", CAPABILITIES_DIALECT_2007, NULL, "xen-3.0-ia64 xen-3.0-ia64be hvm-3.0-ia64",
                     3, 0);
        ASSERT_EQ(caps->n_guests, 2u);
        ASSERT_EQ(caps->guests[0]->n_features, 1u);
        ASSERT_STREQ(caps->guests[0]->features[0].name, "ia64_be");
        ASSERT_EQ(caps->guests[1]->n_features, 0u);
        ASSERT_STREQ(caps->guests[1]->emulator, "/usr/lib64/xen/bin/qemu-dm");
}

TEST(duplicate_guests_refused) {
        _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;

        caps = build("x86_64", CAPABILITIES_DIALECT_CURRENT, CPUINFO_VMX, "xen-3.0-x86_64 hvm-3.0-x86_64",
                     3, 1);
        ASSERT_ERROR(capabilities_add_xen_guests(caps, CPUINFO_VMX, "hvm-3.0-x86_32 hvm-3.0-x86_64",
                                                 3, 1, &e),
                     EINVAL);
        ASSERT_STREQ(e.message, "Duplicate guest 'hvm' for architecture 'x86_64'");
        ASSERT_EQ(caps->n_guests, 2u);
}

TEST(invalid_arguments) {
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;
        CapabilitiesGuest *g = NULL;

        {
                _cleanup_(xv_error_done) XvError e = XV_ERROR_NULL;
                ASSERT_ERROR(capabilities_new("x86 64", CAPABILITIES_DIALECT_CURRENT, &caps, &e), EINVAL);
                ASSERT_STREQ(e.message, "Invalid host architecture 'x86 64': expected 1 to 64 letters, "
                                        "digits, '_', '-' or '.', starting with a letter or '_'");
                ASSERT_NULL(caps);
        }
        ASSERT_ERROR(capabilities_new("", CAPABILITIES_DIALECT_CURRENT, &caps, NULL), EINVAL);
        ASSERT_ERROR(capabilities_new(NULL, CAPABILITIES_DIALECT_CURRENT, &caps, NULL), EINVAL);
        ASSERT_ERROR(capabilities_new("x86-64", CAPABILITIES_DIALECT_CURRENT, &caps, NULL), EINVAL);
        ASSERT_ERROR(capabilities_new("x86_64", _CAPABILITIES_DIALECT_MAX, &caps, NULL), EINVAL);
        ASSERT_NULL(caps);

        ASSERT_OK(capabilities_new("x86_64", CAPABILITIES_DIALECT_CURRENT, &caps, NULL));
        ASSERT_ERROR(capabilities_add_host_feature(caps, "<vmx>", NULL), EINVAL);
        ASSERT_ERROR(capabilities_add_guest(caps, "hvm", "x86_64", 48, NULL, NULL, NULL, NULL, NULL),
                     EINVAL);
        ASSERT_ERROR(capabilities_add_guest(caps, "hvm", "x86_64", 64, "qemu-dm", NULL, NULL, NULL, NULL),
                     EINVAL);
        ASSERT_OK(capabilities_add_guest(caps, "hvm", "x86_64", 64, NULL, NULL, NULL, &g, NULL));
        ASSERT_OK(capabilities_guest_add_feature(g, "acpi", true, true, true, NULL));
        ASSERT_ERROR(capabilities_guest_add_feature(g, "acpi", true, true, true, NULL), EINVAL);
        ASSERT_ERROR(capabilities_add_guest(caps, "hvm", "x86_64", 64, NULL, NULL, NULL, NULL, NULL),
                     EINVAL);

        ASSERT_STREQ(capabilities_dialect_to_string(CAPABILITIES_DIALECT_2007), "2007");
        ASSERT_EQ(capabilities_dialect_from_string("current"), CAPABILITIES_DIALECT_CURRENT);
        ASSERT_EQ(capabilities_dialect_from_string("2008"), _CAPABILITIES_DIALECT_INVALID);
}

TEST(find_guest_defaults_to_host_arch) {
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;
        _cleanup_free_ CapabilitiesGuestType *types = NULL;
        size_t n;

        caps = build("x86_64", CAPABILITIES_DIALECT_CURRENT, CPUINFO_VMX,
                     "xen-3.0-x86_64 xen-3.0-x86_32p hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64", 3, 1);
        ASSERT_STREQ(capabilities_find_guest(caps, "hvm", NULL)->arch, "x86_64");
        ASSERT_STREQ(capabilities_find_guest(caps, "xen", "i686")->os_type, "xen");
        ASSERT_NULL(capabilities_find_guest(caps, "linux", NULL));
        ASSERT_NULL(capabilities_find_guest(caps, "hvm", "ppc64"));

        ASSERT_OK(capabilities_list_guest_types(caps, &types, &n));
        ASSERT_EQ(n, 4u);
        ASSERT_STREQ(types[0].os_type, "xen");
        ASSERT_STREQ(types[0].arch, "x86_64");
        ASSERT_STREQ(types[1].arch, "i686");
        ASSERT_STREQ(types[2].os_type, "hvm");
        ASSERT_STREQ(types[2].arch, "i686");
        ASSERT_STREQ(types[3].arch, "x86_64");
}

TEST(current_layout_validates) {
        /* The CURRENT layout follows today's capability schema. The Xen content itself does not
         * validate there (libvirt 4.3 dropped "xenmigr" and never listed "viridian"), so this
         * host uses the generic builders with values the schema knows. */
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;
        _cleanup_free_ char *xml = NULL;
        static const unsigned cpus[] = { 0, 1 };
        CapabilitiesGuest *g;
        XvUuid uuid;
        int r;

        ASSERT_OK(capabilities_new("x86_64", CAPABILITIES_DIALECT_CURRENT, &caps, &error));
        ASSERT_OK(uuid_from_string("4986bfb4-a7c2-4aa3-9f47-0a8d6b6d2a4b", &uuid));
        ASSERT_OK(capabilities_set_uuid(caps, &uuid));
        /* The schema wants pae before vmx; features are printed in the order they were added. */
        ASSERT_OK(capabilities_add_host_feature(caps, "pae", &error));
        ASSERT_OK(capabilities_add_host_feature(caps, "vmx", &error));
        ASSERT_OK(capabilities_add_host_feature(caps, "vmx", &error));       /* ignored */
        caps->live_migration = true;
        ASSERT_OK(capabilities_add_migration_transport(caps, "tcp", &error));
        ASSERT_OK(capabilities_add_numa_cell(caps, 0, cpus, ELEMENTSOF(cpus), 4096, &error));
        ASSERT_OK(capabilities_add_guest(caps, "xen", "x86_64", 64, "/usr/lib64/xen/bin/qemu-dm", NULL,
                                         (char *const[]) { (char *) "xenpv", NULL }, NULL, &error));
        ASSERT_OK(capabilities_add_guest(caps, "hvm", "i686", 32, "/usr/lib64/xen/bin/qemu-dm",
                                         "/usr/lib/xen/boot/hvmloader",
                                         (char *const[]) { (char *) "xenfv", NULL }, &g, &error));
        ASSERT_OK(capabilities_guest_add_feature(g, "pae", false, true, false, &error));
        ASSERT_OK(capabilities_guest_add_feature(g, "nonpae", false, true, false, &error));
        ASSERT_OK(capabilities_guest_add_feature(g, "acpi", true, true, true, &error));
        ASSERT_OK(capabilities_guest_add_feature(g, "apic", true, true, false, &error));
        ASSERT_OK(capabilities_guest_add_feature(g, "hap", true, true, true, &error));

        xml = format(caps);
        assert_well_formed(xml);
        ASSERT_OK(test_compare_golden("capabilities", "generic-valid", ".xml", xml));
        r = validate(xml);
        if (r >= 0)
                ASSERT_EQ(r, 0);
}

TEST(format_largest_topology) {
        /* The bounds keep the largest document far below CAPABILITIES_XML_SIZE_MAX: all 4096 CPUs in
         * one cell still format, well-formed. */
        _cleanup_(capabilities_freep) Capabilities *caps = NULL;
        _cleanup_free_ unsigned *all = NULL;
        _cleanup_free_ char *xml = NULL;

        ASSERT_OK(capabilities_new("x86_64", CAPABILITIES_DIALECT_CURRENT, &caps, NULL));
        all = new(unsigned, CAPABILITIES_CPUS_MAX);
        ASSERT_NOT_NULL(all);
        for (unsigned i = 0; i < CAPABILITIES_CPUS_MAX; i++)
                all[i] = i;
        ASSERT_OK(capabilities_add_numa_cell(caps, 0, all, CAPABILITIES_CPUS_MAX, 0, NULL));
        ASSERT_OK(capabilities_format_xml(caps, &xml, NULL));
        ASSERT_LT(strlen(xml), (size_t) CAPABILITIES_XML_SIZE_MAX);
        assert_well_formed(xml);
}

DEFINE_TEST_MAIN
