/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Replays a fuzz target's corpus (tests/fuzz/corpus/<target>/) as a TAP test, so that every
 * seed and every crash regression runs in make check, under the sanitizers in CI. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "xv-alloc.h"
#include "xv-fileio.h"

#define FUZZ_INPUT_SIZE_MAX (4 * 1024 * 1024)

static int compare(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

/* libFuzzer calls this once before the first input when a target defines it. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

int main(int argc, char *argv[]) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_strv_free_ char **names = NULL;
        const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
        DIR *d;
        size_t n = 0;

        /* libtool may run us as lt-<name>. */
        if (strncmp(name, "lt-", 3) == 0)
                name += 3;

        if (argc > 1)
                dir = strdup(argv[1]);
        else if (asprintf(&dir, "%s/%s", FUZZ_CORPUS_ROOT, name) < 0)
                dir = NULL;
        if (!dir)
                return EXIT_FAILURE;

        d = opendir(dir);
        if (!d) {
                printf("1..0 # SKIP no corpus at %s\n", dir);
                return EXIT_FAILURE;    /* a target without a corpus is a mistake, not a skip */
        }
        for (struct dirent *de; (de = readdir(d)); )
                if (de->d_name[0] != '.' && strv_extend(&names, de->d_name) < 0) {
                        closedir(d);
                        return EXIT_FAILURE;
                }
        closedir(d);

        if (LLVMFuzzerInitialize)
                (void) LLVMFuzzerInitialize(&argc, &argv);
        if (names)      /* qsort() wants a valid pointer even for no elements */
                qsort(names, strv_length(names), sizeof(char *), compare);
        printf("1..%zu\n", strv_length(names));
        STRV_FOREACH(f, names) {
                _cleanup_free_ char *path = NULL, *data = NULL;
                size_t size;
                int r;

                if (asprintf(&path, "%s/%s", dir, *f) < 0)
                        return EXIT_FAILURE;
                r = read_full_file(path, FUZZ_INPUT_SIZE_MAX, &data, &size);
                if (r < 0) {
                        printf("not ok %zu - %s # %s\n", ++n, *f, strerror(-r));
                        continue;
                }
                (void) LLVMFuzzerTestOneInput((const uint8_t *) data, size);
                printf("ok %zu - %s\n", ++n, *f);
                fflush(stdout);
        }
        return EXIT_SUCCESS;
}
