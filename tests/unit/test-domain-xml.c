/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../conformance-options.h"
#include "tests.h"
#include "xv-alloc.h"
#include "xv-domain-def.h"
#include "xv-domain-xml.h"
#include "xv-fileio.h"
#include "xv-strbuf.h"

#define MODULE "domain-xml"

/* What xmlequiv.py may ignore when comparing libvirt's expected output with ours: the corpus'
 * option set. */
static const char * const equiv_ignores[] = {
        CONFORMANCE_XML_IGNORES,
};

/* Rejected inputs that the tests build in memory: their .err files have no .xml. */
static const char * const inline_cases[] = {
        "too-many-disks",
        "oversize-document",
        "long-kernel",
};

static bool is_inline_case(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(inline_cases); i++)
                if (streq(inline_cases[i], name))
                        return true;
        return false;
}

static int compare_names(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

/* The sorted names in @dir ending in @suffix. */
static char **list_dir(const char *dir, const char *suffix) {
        _cleanup_strv_free_ char **names = NULL;
        DIR *d;

        d = opendir(dir);
        if (!d)
                test_fail(__FILE__, __LINE__, "cannot open %s: %m", dir);
        for (struct dirent *de; (de = readdir(d)); ) {
                size_t n = strlen(de->d_name), k = strlen(suffix);

                if (de->d_name[0] == '.' || n <= k || !streq(de->d_name + n - k, suffix))
                        continue;
                ASSERT_OK(strv_extend(&names, de->d_name));
        }
        closedir(d);
        if (names)
                qsort(names, strv_length(names), sizeof(char *), compare_names);
        return TAKE_PTR(names);
}

static bool file_exists(const char *dir, const char *name, const char *ext) {
        _cleanup_free_ char *p = NULL;

        ASSERT_TRUE(asprintf(&p, "%s/%s%s", dir, name, ext) >= 0);
        return access(p, F_OK) == 0;
}

static char *strip_suffix(const char *name, const char *suffix) {
        char *s = strndup(name, strlen(name) - strlen(suffix));

        ASSERT_NOT_NULL(s);
        return s;
}

/* Runs argv with its stdout sent to stderr (so that diffs land in the log, not in the TAP stream).
 * Returns the exit status. */
static int run(char * const argv[]) {
        pid_t pid;
        int status;

        fflush(stdout);
        pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
                (void) dup2(STDERR_FILENO, STDOUT_FILENO);
                execv(argv[0], argv);
                _exit(127);
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static char *write_temp(const char *content) {
        const char *tmp = getenv("TMPDIR") ?: "/tmp";
        char *path;
        int fd;

        ASSERT_TRUE(asprintf(&path, "%s/test-domain-xml.XXXXXX", tmp) >= 0);
        fd = mkstemp(path);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        ASSERT_EQ(close(fd), 0);
        return path;
}

static void unlink_freep(char **p) {
        if (*p) {
                (void) unlink(*p);
                free(*p);
        }
}

/* parse → format → parse → format: both formats must be identical. Returns the formatted XML. */
static char *round_trip(const char *what, const char *xml, DomainXmlFlags flags) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL, *def2 = NULL;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_free_ char *out2 = NULL;
        char *out = NULL;

        if (domain_def_parse_xml(xml, &def, &error) < 0)
                test_fail(__FILE__, __LINE__, "%s: parse failed: %s", what, strnull(error.message));
        ASSERT_OK(domain_def_format_xml(def, flags, &out, &error));
        if (domain_def_parse_xml(out, &def2, &error) < 0)
                test_fail(__FILE__, __LINE__, "%s: re-parse failed: %s\n%s", what,
                          strnull(error.message), out);
        ASSERT_OK(domain_def_format_xml(def2, flags, &out2, &error));
        if (!streq(out, out2))
                test_fail(__FILE__, __LINE__, "%s: not a fixed point:\n%s\n---\n%s", what, out, out2);
        return out;
}

static void validate_schema(const char *what, const char *xml) {
        _cleanup_(unlink_freep) char *path = NULL;
        const char *tool = getenv("VIRT_XML_VALIDATE");

        if (isempty(tool) || access(tool, X_OK) < 0) {
                printf("# virt-xml-validate not available, not validating %s\n", what);
                return;
        }
        path = write_temp(xml);
        if (run((char * const[]) { (char *) tool, path, (char *) "domain", NULL }) != 0)
                test_fail(__FILE__, __LINE__, "%s: formatted XML does not validate:\n%s", what, xml);
}

/* Semantic comparison with libvirt's expected output, by the corpus' own comparator. */
static void check_equivalent(const char *expected_path, const char *xml) {
        _cleanup_(unlink_freep) char *path = NULL;
        const char *python = getenv("PYTHON3");
        _cleanup_free_ char *script = NULL;
        char *argv[4 + 2 * ELEMENTSOF(equiv_ignores) + 1];
        size_t n = 0;

        if (isempty(python))
                python = "/usr/bin/python3";
        script = test_path(test_shared_dir(), "conformance/xmlequiv.py");
        path = write_temp(xml);

        argv[n++] = (char *) python;
        argv[n++] = script;
        argv[n++] = (char *) expected_path;
        argv[n++] = path;
        for (size_t i = 0; i < ELEMENTSOF(equiv_ignores); i++) {
                argv[n++] = (char *) "--ignore";
                argv[n++] = (char *) equiv_ignores[i];
        }
        argv[n] = NULL;

        if (run(argv) != 0)
                test_fail(__FILE__, __LINE__, "%s is not equivalent to its formatted form:\n%s",
                          expected_path, xml);
}

static void check_rejected(const char *name, const char *xml) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_free_ char *msg = NULL;

        if (domain_def_parse_xml(xml, &def, &error) >= 0)
                test_fail(__FILE__, __LINE__, "%s: accepted, but should be rejected", name);
        ASSERT_NULL(def);
        ASSERT_NOT_NULL(error.message);
        ASSERT_TRUE(asprintf(&msg, "%s\n", error.message) >= 0);
        if (test_compare_golden(MODULE, name, ".err", msg) < 0)
                test_fail(__FILE__, __LINE__, "%s: unexpected error message: %s", name, error.message);
}

static DomainDef *parse_ok(const char *xml) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        DomainDef *def = NULL;

        if (domain_def_parse_xml(xml, &def, &error) < 0)
                test_fail(__FILE__, __LINE__, "parse failed: %s", strnull(error.message));
        return def;
}

static char *format_ok(const DomainDef *def, DomainXmlFlags flags) {
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        char *s = NULL;

        ASSERT_OK(domain_def_format_xml(def, flags, &s, &error));
        return s;
}

/* tests/data/domain-xml/<case>.xml: with <case>.err the input must be rejected with that exact
 * message, otherwise it must round-trip to <case>.out. Every output needs an input. */
TEST(data_files) {
        _cleanup_free_ char *dir = test_path(test_srcdir(), "data/" MODULE);
        _cleanup_strv_free_ char **inputs = list_dir(dir, ".xml");
        _cleanup_strv_free_ char **outs = list_dir(dir, ".out");
        _cleanup_strv_free_ char **errs = list_dir(dir, ".err");
        size_t n = 0;

        STRV_FOREACH(f, inputs) {
                _cleanup_free_ char *name = strip_suffix(*f, ".xml");
                _cleanup_free_ char *path = test_path(dir, *f);
                _cleanup_free_ char *xml = test_read_file(path);

                if (file_exists(dir, name, ".err"))
                        check_rejected(name, xml);
                else {
                        _cleanup_free_ char *out = round_trip(name, xml, DOMAIN_XML_SECURE);

                        if (test_compare_golden(MODULE, name, ".out", out) < 0)
                                test_fail(__FILE__, __LINE__, "%s: output differs from %s.out", name, name);
                        validate_schema(name, out);
                }
                n++;
        }
        ASSERT_GE(n, 10);

        STRV_FOREACH(f, outs) {
                _cleanup_free_ char *name = strip_suffix(*f, ".out");

                /* Seeds' outputs belong to the seed test. */
                if (strncmp(name, "seed-", 5) == 0)
                        continue;
                if (!file_exists(dir, name, ".xml"))
                        test_fail(__FILE__, __LINE__, "%s has no input %s.xml", *f, name);
        }
        STRV_FOREACH(f, errs) {
                _cleanup_free_ char *name = strip_suffix(*f, ".err");

                if (!is_inline_case(name) && !file_exists(dir, name, ".xml"))
                        test_fail(__FILE__, __LINE__, "%s has no input %s.xml", *f, name);
        }
}

/* The shared seed examples: fixed point, golden output, schema-valid. */
TEST(seed_examples) {
        _cleanup_free_ char *dir = test_path(test_shared_dir(), "seed-examples");
        _cleanup_free_ char *datadir = test_path(test_srcdir(), "data/" MODULE);
        _cleanup_strv_free_ char **inputs = list_dir(dir, ".xml");
        _cleanup_strv_free_ char **outs = list_dir(datadir, ".out");
        size_t n = 0;

        STRV_FOREACH(f, inputs) {
                _cleanup_free_ char *base = strip_suffix(*f, ".xml");
                _cleanup_free_ char *path = test_path(dir, *f);
                _cleanup_free_ char *xml = test_read_file(path);
                _cleanup_free_ char *out = round_trip(*f, xml, DOMAIN_XML_SECURE);
                _cleanup_free_ char *name = NULL;

                ASSERT_TRUE(asprintf(&name, "seed-%s", base) >= 0);
                if (test_compare_golden(MODULE, name, ".out", out) < 0)
                        test_fail(__FILE__, __LINE__, "%s: output differs from %s.out", *f, name);
                validate_schema(*f, out);
                n++;
        }
        ASSERT_GE(n, 4);

        STRV_FOREACH(f, outs) {
                _cleanup_free_ char *name = strip_suffix(*f, ".out");

                if (strncmp(name, "seed-", 5) == 0 && !file_exists(dir, name + 5, ".xml"))
                        test_fail(__FILE__, __LINE__, "%s has no seed example %s.xml", *f, name + 5);
        }
}

static void check_conformance_dir(const char *sub, bool expected_outputs) {
        _cleanup_free_ char *rel = NULL, *dir = NULL;
        _cleanup_strv_free_ char **inputs = NULL;
        size_t n = 0;

        ASSERT_TRUE(asprintf(&rel, "conformance/%s", sub) >= 0);
        dir = test_path(test_shared_dir(), rel);
        inputs = list_dir(dir, ".xml");

        STRV_FOREACH(f, inputs) {
                _cleanup_free_ char *path = test_path(dir, *f);
                _cleanup_free_ char *xml = test_read_file(path);
                _cleanup_free_ char *out = round_trip(*f, xml, DOMAIN_XML_SECURE);

                /* The persistent configuration must be a fixed point too. */
                free(round_trip(*f, xml, DOMAIN_XML_INACTIVE));

                if (expected_outputs)
                        check_equivalent(path, out);
                n++;
        }
        printf("# %s: %zu documents\n", sub, n);
        ASSERT_GT(n, 0);
}

TEST(conformance_sexpr2xml) {
        check_conformance_dir("sexpr2xml", true);
}

TEST(conformance_xmconfig) {
        check_conformance_dir("xmconfig", true);
}

TEST(conformance_xml2sexpr) {
        check_conformance_dir("xml2sexpr", false);
}

TEST(parse_minimal) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;

        def = parse_ok("<domain type='xen'><name>vm1</name><memory>1024</memory>"
                       "<os><type>linux</type></os></domain>");
        ASSERT_STREQ(def->name, "vm1");
        ASSERT_EQ(def->memory_kib, 1024u);
        ASSERT_EQ(def->current_memory_kib, 0u);
        ASSERT_EQ(domain_def_current_memory(def), 1024u);
        ASSERT_EQ(def->vcpus, 1u);
        ASSERT_EQ(def->id, -1);
        ASSERT_FALSE(def->has_uuid);
        ASSERT_EQ(def->os_type, DOMAIN_OS_LINUX);
        ASSERT_EQ(def->on_poweroff, DOMAIN_LIFECYCLE_DESTROY);
        ASSERT_EQ(def->on_reboot, DOMAIN_LIFECYCLE_RESTART);
        ASSERT_EQ(def->on_crash, DOMAIN_LIFECYCLE_DESTROY);
}

TEST(parse_units_and_uuid) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_free_ char *out = NULL;

        def = parse_ok("<domain type='xen'><name>vm1</name>"
                       "<uuid>4DEA22B31D52D8F32516782E98AB3FA0</uuid>"
                       "<memory unit='GiB'>2</memory><currentMemory unit='bytes'>1025</currentMemory>"
                       "<bootloader/><vcpu current='1' cpuset='0-1'>2</vcpu></domain>");
        ASSERT_EQ(def->memory_kib, 2u * 1024 * 1024);
        ASSERT_EQ(def->current_memory_kib, 2u);                 /* rounded up */
        ASSERT_TRUE(def->has_uuid);
        ASSERT_STREQ(def->bootloader, "");
        ASSERT_EQ(def->os_type, DOMAIN_OS_XEN);                 /* no <os>, but a bootloader */
        ASSERT_EQ(def->vcpus, 2u);
        ASSERT_EQ(def->vcpus_current, 1u);
        ASSERT_STREQ(def->cpuset, "0-1");

        out = format_ok(def, 0);
        ASSERT_NOT_NULL(strstr(out, "<uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>"));
        ASSERT_NOT_NULL(strstr(out, "<memory unit='KiB'>2097152</memory>"));
        ASSERT_NOT_NULL(strstr(out, "<bootloader/>"));
        ASSERT_NOT_NULL(strstr(out, "<vcpu cpuset='0-1' current='1'>2</vcpu>"));
}

TEST(cmdline_kept_exactly) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_free_ char *out = NULL;

        def = parse_ok("<domain type='xen'><name>vm1</name><memory>1024</memory>"
                       "<os><type>linux</type><cmdline> a=&quot;b&quot; &amp; c  </cmdline></os></domain>");
        ASSERT_STREQ(def->cmdline, " a=\"b\" & c  ");
        out = format_ok(def, 0);
        ASSERT_NOT_NULL(strstr(out, "<cmdline> a=&quot;b&quot; &amp; c  </cmdline>"));
}

TEST(whitespace_survives_round_trip) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL, *def2 = NULL;
        _cleanup_free_ char *out = NULL;

        def = parse_ok("<domain type='xen'><name>vm1</name><memory>1024</memory>"
                       "<description>line 1\nline 2&#13;</description>"
                       "<os><type>linux</type></os><devices><disk type='file'>"
                       "<source file='a&#10;b&#9;c&#13;d'/><target dev='xvda'/></disk></devices></domain>");
        ASSERT_STREQ(def->disks[0].src, "a\nb\tc\rd");
        ASSERT_STREQ(def->description, "line 1\nline 2\r");
        out = round_trip("whitespace", "<domain type='xen'><name>vm1</name><memory>1024</memory>"
                         "<description>line 1\nline 2&#13;</description>"
                         "<os><type>linux</type></os><devices><disk type='file'>"
                         "<source file='a&#10;b&#9;c&#13;d'/><target dev='xvda'/></disk></devices></domain>",
                         0);
        ASSERT_NOT_NULL(strstr(out, "<source file='a&#10;b&#9;c&#13;d'/>"));
        ASSERT_NOT_NULL(strstr(out, "<description>line 1\nline 2&#13;</description>"));
        def2 = parse_ok(out);
        ASSERT_STREQ(def2->disks[0].src, "a\nb\tc\rd");
}

TEST(format_refuses_what_xml_cannot_carry) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL, error2 = XV_ERROR_NULL;
        _cleanup_free_ char *out = NULL;
        DomainSound *snd;

        def = parse_ok("<domain type='xen'><name>vm1</name><memory>1024</memory>"
                       "<os><type>hvm</type></os></domain>");
        ASSERT_OK(domain_def_add_device(def->sounds, def->n_sounds, &snd));
        snd->model = strdup("sb\00116");
        ASSERT_NOT_NULL(snd->model);
        ASSERT_ERROR(domain_def_format_xml(def, 0, &out, &error), EBADMSG);
        ASSERT_NULL(out);
        ASSERT_STREQ(error.message, "Cannot format a value with control characters or invalid UTF-8 as XML");

        /* Invalid UTF-8 from a converter, and a character device path. */
        free(snd->model);
        snd->model = strdup("sb\xc3" "(16");
        ASSERT_NOT_NULL(snd->model);
        ASSERT_ERROR(domain_def_format_xml(def, 0, &out, &error2), EBADMSG);
        free(snd->model);
        snd->model = strdup("caf\xc3\xa9");
        ASSERT_NOT_NULL(snd->model);
        ASSERT_OK(domain_def_format_xml(def, 0, &out, NULL));
        ASSERT_NOT_NULL(strstr(out, "<sound model='caf\xc3\xa9'/>"));
}

TEST(legacy_spellings) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_free_ char *out = NULL;

        def = parse_ok("<domain type='xen'><name>vm1</name><memory>1024</memory>"
                       "<os><type>hvm</type></os><clock sync='localtime'/>"
                       "<devices><console tty='/dev/pts/5'/>"
                       "<serial type='tcp'>"
                       "<source mode='connect' host='h' service='1' wiremode='telnet'/></serial>"
                       "</devices></domain>");
        ASSERT_EQ(def->clock.offset, DOMAIN_CLOCK_LOCALTIME);
        ASSERT_EQ(def->n_consoles, 1u);
        ASSERT_EQ(def->consoles[0].type, DOMAIN_CHR_PTY);
        ASSERT_STREQ(def->consoles[0].path, "/dev/pts/5");
        ASSERT_EQ(def->consoles[0].target_port, -1);
        ASSERT_EQ(def->serials[0].type, DOMAIN_CHR_TCP);
        ASSERT_EQ(def->serials[0].protocol, DOMAIN_CHR_TCP_TELNET);
        ASSERT_FALSE(def->serials[0].listen);

        out = format_ok(def, 0);
        ASSERT_NOT_NULL(strstr(out, "<clock offset='localtime'/>"));
        ASSERT_NOT_NULL(strstr(out, "<console type='pty' tty='/dev/pts/5'>"));
        ASSERT_NOT_NULL(strstr(out, "<protocol type='telnet'/>"));
        out = mfree(out);

        /* The persistent configuration carries no runtime pty path. */
        out = format_ok(def, DOMAIN_XML_INACTIVE);
        ASSERT_NULL(strstr(out, "/dev/pts/5"));
        ASSERT_NOT_NULL(strstr(out, "<console type='pty'/>"));
}

TEST(flags_secure_and_inactive) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_free_ char *plain = NULL, *secure = NULL, *inactive = NULL;

        def = parse_ok("<domain type='xen' id='12'><name>vm1</name><memory>1024</memory>"
                       "<os><type>hvm</type></os><devices>"
                       "<graphics type='vnc' port='5912' autoport='yes' passwd='s3cret' listen='0.0.0.0'/>"
                       "</devices></domain>");
        ASSERT_EQ(def->id, 12);
        ASSERT_STREQ(def->graphics[0].passwd, "s3cret");       /* parse keeps secrets always */
        ASSERT_STREQ(def->graphics[0].listen, "0.0.0.0");

        plain = format_ok(def, 0);
        ASSERT_NULL(strstr(plain, "s3cret"));
        ASSERT_NOT_NULL(strstr(plain, "<domain type='xen' id='12'>"));
        ASSERT_NOT_NULL(strstr(plain, "port='5912' autoport='yes'"));
        ASSERT_NOT_NULL(strstr(plain, "<listen type='address' address='0.0.0.0'/>"));

        secure = format_ok(def, DOMAIN_XML_SECURE);
        ASSERT_NOT_NULL(strstr(secure, "passwd='s3cret'"));

        inactive = format_ok(def, DOMAIN_XML_INACTIVE);
        ASSERT_NOT_NULL(strstr(inactive, "<domain type='xen'>"));
        ASSERT_NOT_NULL(strstr(inactive, "port='-1' autoport='yes'"));
}

TEST(graphics_listen_child_and_sdl) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;

        def = parse_ok("<domain type='xen'><name>vm1</name><memory>1024</memory>"
                       "<os><type>linux</type></os><devices>"
                       "<graphics type='vnc' port='-1'><listen type='network' network='x'/>"
                       "<listen type='address' address='::1'/></graphics>"
                       "<graphics type='sdl' display=':0' xauth='/x'/>"
                       "<input type='mouse'/></devices></domain>");
        ASSERT_EQ(def->n_graphics, 2u);
        ASSERT_STREQ(def->graphics[0].listen, "::1");
        ASSERT_EQ(def->graphics[0].port, -1);
        ASSERT_TRUE(def->graphics[0].autoport);
        ASSERT_EQ(def->graphics[1].type, DOMAIN_GRAPHICS_SDL);
        ASSERT_STREQ(def->graphics[1].display, ":0");
        ASSERT_FALSE(def->graphics[1].fullscreen);
        ASSERT_EQ(def->inputs[0].bus, DOMAIN_INPUT_BUS_XEN);     /* PV default */
}

TEST(devices_capped) {
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        strbuf_append(&b, "<domain type='xen'><name>vm1</name><memory>1024</memory>"
                          "<os><type>linux</type></os><devices>");
        for (unsigned i = 0; i <= DOMAIN_DEVICES_MAX; i++)
                strbuf_appendf(&b, "<disk type='file'><source file='/d%u'/><target dev='xvd%u'/></disk>",
                               i, i);
        strbuf_append(&b, "</devices></domain>");
        ASSERT_OK(b.error);
        check_rejected("too-many-disks", strbuf_get(&b));
}

TEST(oversize_document) {
        _cleanup_free_ char *xml = NULL;
        const char *head = "<domain type='xen'><name>vm1</name><memory>1024</memory><description>";
        size_t n = DOMAIN_XML_SIZE_MAX + 1;

        xml = malloc(n + 1);
        ASSERT_NOT_NULL(xml);
        memset(xml, ' ', n);
        memcpy(xml, head, strlen(head));
        xml[n] = 0;
        check_rejected("oversize-document", xml);
}

TEST(long_value_rejected) {
        _cleanup_(strbuf_done) StrBuf b = STRBUF_INIT;

        strbuf_append(&b, "<domain type='xen'><name>vm1</name><memory>1024</memory>"
                          "<os><type>linux</type><kernel>");
        for (unsigned i = 0; i <= DOMAIN_STRING_MAX; i++)
                strbuf_appendc(&b, 'k');
        strbuf_append(&b, "</kernel></os></domain>");
        ASSERT_OK(b.error);
        check_rejected("long-kernel", strbuf_get(&b));
}

TEST(billion_laughs_is_cheap) {
        _cleanup_free_ char *path = test_path(test_srcdir(), "data/" MODULE "/billion-laughs.xml");
        _cleanup_free_ char *xml = test_read_file(path);
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;

        /* Rejected without expanding anything: this test would take minutes otherwise. */
        ASSERT_ERROR(domain_def_parse_xml(xml, &def, &error), EBADMSG);
        ASSERT_EQ(error.code, XVP_ERR_XML);
}

TEST(mac_parse_format) {
        uint8_t mac[6];
        char buf[18];

        ASSERT_OK(domain_mac_parse("00:16:3E:5d:c7:9e", mac));
        ASSERT_STREQ(domain_mac_format(mac, buf), "00:16:3e:5d:c7:9e");
        ASSERT_OK(domain_mac_parse("0:16:3e:0:0:1", mac));
        ASSERT_STREQ(domain_mac_format(mac, buf), "00:16:3e:00:00:01");
        ASSERT_ERROR(domain_mac_parse("00:16:3e:5d:c7", mac), EINVAL);
        ASSERT_ERROR(domain_mac_parse("00:16:3e:5d:c7:9e:", mac), EINVAL);
        ASSERT_ERROR(domain_mac_parse("00:16:3e:5d:c7:9g", mac), EINVAL);
        ASSERT_ERROR(domain_mac_parse("001:16:3e:5d:c7:9e", mac), EINVAL);
        ASSERT_ERROR(domain_mac_parse("00-16-3e-5d-c7-9e", mac), EINVAL);
        ASSERT_ERROR(domain_mac_parse("", mac), EINVAL);
        ASSERT_ERROR(domain_mac_parse(NULL, mac), EINVAL);
}

TEST(string_tables) {
        ASSERT_STREQ(domain_os_type_to_string(DOMAIN_OS_HVM), "hvm");
        ASSERT_EQ(domain_os_type_from_string("xen"), DOMAIN_OS_XEN);
        ASSERT_EQ(domain_os_type_from_string("HVM"), -EINVAL);
        ASSERT_EQ(domain_os_type_from_string(NULL), -EINVAL);
        ASSERT_NULL(domain_os_type_to_string(_DOMAIN_OS_TYPE_MAX));
        ASSERT_NULL(domain_os_type_to_string(_DOMAIN_OS_TYPE_INVALID));
        ASSERT_STREQ(domain_lifecycle_action_to_string(DOMAIN_LIFECYCLE_COREDUMP_RESTART),
                     "coredump-restart");
        ASSERT_EQ(domain_boot_dev_from_string("fd"), DOMAIN_BOOT_FLOPPY);
        ASSERT_EQ(domain_boot_dev_from_string("network"), DOMAIN_BOOT_NET);
        ASSERT_STREQ(domain_feature_to_string(DOMAIN_FEATURE_VIRIDIAN), "viridian");
        ASSERT_EQ(domain_clock_offset_from_string("variable"), DOMAIN_CLOCK_VARIABLE);
        ASSERT_EQ(domain_clock_basis_from_string("localtime"), DOMAIN_CLOCK_BASIS_LOCALTIME);
        ASSERT_EQ(domain_disk_type_from_string("block"), DOMAIN_DISK_TYPE_BLOCK);
        ASSERT_EQ(domain_disk_device_from_string("floppy"), DOMAIN_DISK_DEVICE_FLOPPY);
        ASSERT_NULL(domain_disk_bus_to_string(DOMAIN_DISK_BUS_DEFAULT));
        ASSERT_EQ(domain_disk_bus_from_string("fdc"), DOMAIN_DISK_BUS_FDC);
        ASSERT_EQ(domain_disk_bus_from_string("default"), -EINVAL);
        ASSERT_EQ(domain_net_type_from_string("ethernet"), DOMAIN_NET_TYPE_ETHERNET);
        ASSERT_EQ(domain_graphics_type_from_string("sdl"), DOMAIN_GRAPHICS_SDL);
        ASSERT_EQ(domain_input_type_from_string("tablet"), DOMAIN_INPUT_TABLET);
        ASSERT_EQ(domain_input_bus_from_string("ps2"), DOMAIN_INPUT_BUS_PS2);
        ASSERT_EQ(domain_chr_type_from_string("unix"), DOMAIN_CHR_UNIX);
        ASSERT_STREQ(domain_chr_type_to_string(DOMAIN_CHR_NULL), "null");
        ASSERT_EQ(domain_chr_tcp_protocol_from_string("telnet"), DOMAIN_CHR_TCP_TELNET);
        ASSERT_EQ(domain_chr_target_type_from_string("xen"), DOMAIN_CHR_TARGET_XEN);
        ASSERT_NULL(domain_chr_target_type_to_string(DOMAIN_CHR_TARGET_NONE));
}

TEST(disk_bus_from_target) {
        ASSERT_EQ(domain_disk_bus_from_target("xvda"), DOMAIN_DISK_BUS_XEN);
        ASSERT_EQ(domain_disk_bus_from_target("hdc"), DOMAIN_DISK_BUS_IDE);
        ASSERT_EQ(domain_disk_bus_from_target("sda1"), DOMAIN_DISK_BUS_SCSI);
        ASSERT_EQ(domain_disk_bus_from_target("fda"), DOMAIN_DISK_BUS_FDC);
        ASSERT_EQ(domain_disk_bus_from_target("vdb"), DOMAIN_DISK_BUS_VIRTIO);
        ASSERT_EQ(domain_disk_bus_from_target("ioemu:hda"), DOMAIN_DISK_BUS_IDE);
        ASSERT_EQ(domain_disk_bus_from_target("cdrom"), DOMAIN_DISK_BUS_DEFAULT);
        ASSERT_EQ(domain_disk_bus_from_target(NULL), DOMAIN_DISK_BUS_DEFAULT);
}

TEST(copy_is_deep_and_equal) {
        _cleanup_free_ char *path = test_path(test_srcdir(), "data/" MODULE "/hvm-all-devices.xml");
        _cleanup_free_ char *xml = test_read_file(path);
        _cleanup_(domain_def_freep) DomainDef *def = NULL, *copy = NULL;
        _cleanup_free_ char *a = NULL, *b = NULL;

        def = parse_ok(xml);
        ASSERT_OK(domain_def_copy(def, &copy));
        a = format_ok(def, DOMAIN_XML_SECURE);
        def = domain_def_free(def);                     /* the copy must not share anything */
        b = format_ok(copy, DOMAIN_XML_SECURE);
        ASSERT_STREQ(a, b);
}

TEST(add_device_and_validate) {
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        DomainChr *c;
        DomainDisk *d;

        ASSERT_OK(domain_def_new(&def));
        ASSERT_LT(domain_def_validate(def, &error), 0);
        ASSERT_STREQ(error.message, "Missing domain name");
        xv_error_done(&error);

        def->name = strdup("vm1");
        ASSERT_NOT_NULL(def->name);
        def->memory_kib = 1024;
        def->vcpus = 1;
        ASSERT_OK(domain_def_validate(def, &error));

        ASSERT_OK(domain_def_add_device(def->consoles, def->n_consoles, &c));
        domain_chr_init(c);
        ASSERT_EQ(c->target_port, -1);
        ASSERT_EQ(def->n_consoles, 1u);

        for (unsigned i = 0; i < DOMAIN_DEVICES_MAX; i++) {
                ASSERT_OK(domain_def_add_device(def->disks, def->n_disks, &d));
                ASSERT_TRUE(asprintf(&d->dst, "xvd%u", i) >= 0);
                d->src = strdup("/x");
                ASSERT_NOT_NULL(d->src);
        }
        ASSERT_ERROR(domain_def_add_device(def->disks, def->n_disks, &d), E2BIG);
        ASSERT_EQ(def->n_disks, (size_t) DOMAIN_DEVICES_MAX);
        ASSERT_OK(domain_def_validate(def, &error));

        def->vcpus_current = 2;
        ASSERT_LT(domain_def_validate(def, &error), 0);
        ASSERT_STREQ(error.message, "Current vcpu count 2 exceeds maximum vcpu count 1");
}

DEFINE_TEST_MAIN
