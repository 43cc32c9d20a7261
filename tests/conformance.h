/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The conformance runner (tests/conformance DIR): walks every MANIFEST.tsv below DIR and hands
 * each case to the handler registered for its folder's name (sexpr2xml, xml2sexpr, xmconfig,
 * other). Handlers live in tests/conformance-<area>.c, one per converter family; this core
 * knows nothing about formats.
 */

#include <stdbool.h>

#include "xv-error.h"
#include "xv-macro.h"

typedef enum ConformanceKind {
        CONFORMANCE_XML,        /* xmlequiv.py with the one option set of the corpus README */
        CONFORMANCE_SXP,        /* sxpequiv.py, no options */
        CONFORMANCE_CFG,        /* cfgequiv.py --ignore viridian */
} ConformanceKind;

typedef struct ConformanceCase {
        const char *dir;                /* the folder holding MANIFEST.tsv */
        const char *name;               /* column "case" */
        char **inputs;                  /* absolute paths, column "input" split on ';' */
        const char *expected;           /* absolute path, column "expected" */
        const char *notes;
        int xend_config_version;        /* "xendConfigVersion=N" in the notes, else 4 */
        bool one_way;                   /* the notes say "one-way" (cfg->xml only) */
        const char *host_arch;          /* "arch=X" in the notes (capabilities cases), or NULL */
} ConformanceCase;

/* Converts the case and compares; returns 0 when everything matched, negative otherwise after
 * printing "# " diagnostic lines. */
typedef int (*ConformanceHandler)(const ConformanceCase *c);

void conformance_register(const char *folder, ConformanceHandler handler);

#define CONFORMANCE_FOLDER(folder, handler)                                             \
        __attribute__((constructor)) static void conformance_register_##handler(void) { \
                conformance_register(folder, handler);                                  \
        }

/* Runs the comparator for @kind on the expected file and @actual (written to a scratch file).
 * Returns 0 when equivalent, -1 (after printing the comparator's report as "# " lines) when not. */
int conformance_compare(ConformanceKind kind, const char *expected_path, const char *actual);

/* Reads an input file of case @c. With @join_continuations, every backslash-newline pair is
 * deleted first, as libvirt's test loader did for the wrapped .sexpr files. A failure is
 * reported as a "# " line naming the case and the file. */
int conformance_read_input(const ConformanceCase *c, const char *path, bool join_continuations,
                           char **ret);

/* Reports the failed conversion step @what (e.g. "SXP -> model") as a "# " line with its
 * XvError message. */
void conformance_report(const char *what, int r, const XvError *error);
