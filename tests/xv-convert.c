/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xv-convert [--xend-config-version N] FROM TO [FILE]
 *
 * Converts one domain configuration between libvirt-style domain XML ("domain-xml"), XenD
 * S-expressions ("xen-sxpr") and XM config files ("xen-xm"), through the domain model, exactly as
 * the daemon will for domxml-from-native / domxml-to-native. Reads FILE or standard input, writes
 * standard output; errors go to stderr as "error: ..." with exit status 1. Used by the demo.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-domain-xml.h"
#include "xv-fileio.h"
#include "xv-parse-util.h"
#include "xv-native.h"

#define CONVERT_INPUT_MAX (4 * 1024 * 1024)

static int read_input(const char *path, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, allocated = 0;

        if (path && !streq(path, "-"))
                return read_full_file(path, CONVERT_INPUT_MAX, ret, NULL);

        for (;;) {
                size_t n;

                if (GREEDY_REALLOC(buf, allocated, len + 4096 + 1) < 0)
                        return -ENOMEM;
                n = fread(buf + len, 1, allocated - len - 1, stdin);
                len += n;
                if (len > CONVERT_INPUT_MAX)
                        return -EFBIG;
                if (n == 0)
                        break;
        }
        if (!buf)
                return -ENODATA;
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

static int parse(const char *format, const char *text, int version, DomainDef **ret, XvError *error) {
        if (streq(format, "domain-xml"))
                return domain_def_parse_xml(text, ret, error);
        return native_parse(format, text, version, ret, error);
}

static int format(const char *format, const DomainDef *def, int version, char **ret, XvError *error) {
        if (streq(format, "domain-xml"))
                return domain_def_format_xml(def, DOMAIN_XML_SECURE, ret, error);
        return native_format(format, def, version, ret, error);
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "xend-config-version", required_argument, NULL, 'v' },
                { "help",                no_argument,       NULL, 'h' },
                {}
        };
        _cleanup_(xv_error_done) XvError error = XV_ERROR_NULL;
        _cleanup_(domain_def_freep) DomainDef *def = NULL;
        _cleanup_free_ char *in = NULL, *out = NULL, *msg = NULL;
        unsigned version = 4;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'v':
                        if (safe_atou(optarg, &version) < 0 || version < 1 || version > 4) {
                                fprintf(stderr, "error: invalid xend config version '%s'\n", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case 'h':
                        printf("Usage: %s [--xend-config-version N] FROM TO [FILE]\n"
                               "Formats: domain-xml, xen-sxpr, xen-xm, xen-xl\n", argv[0]);
                        return EXIT_SUCCESS;
                default:
                        return EXIT_FAILURE;
                }

        if (argc - optind < 2 || argc - optind > 3) {
                fprintf(stderr, "Usage: %s [--xend-config-version N] FROM TO [FILE]\n", argv[0]);
                return EXIT_FAILURE;
        }

        r = read_input(argc - optind == 3 ? argv[optind + 2] : NULL, &in);
        if (r < 0) {
                fprintf(stderr, "error: cannot read input: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }

        r = parse(argv[optind], in, (int) version, &def, &error);
        if (r >= 0)
                r = format(argv[optind + 1], def, (int) version, &out, &error);
        if (r < 0) {
                msg = xv_error_format(&error, r);
                fprintf(stderr, "error: %s\n", msg ?: strerror(-r));
                return EXIT_FAILURE;
        }

        fputs(out, stdout);
        if (*out && out[strlen(out) - 1] != '\n')
                fputc('\n', stdout);
        return EXIT_SUCCESS;
}
