/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/conformance DIR: runs every case of every MANIFEST.tsv below DIR through xenvirt's
 * converters and compares the output with the corpus' own comparators, one TAP line per case.
 * Each case runs in a child process, so a crash in a converter fails that case only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conformance-options.h"
#include "conformance.h"
#include "tests.h"
#include "xv-alloc.h"
#include "xv-fileio.h"
#include "xv-parse-util.h"

extern char **environ;

#define CONFORMANCE_FILE_SIZE_MAX (4 * 1024 * 1024)
#define CONFORMANCE_FOLDERS_MAX 16
#define CONFORMANCE_XEND_VERSION_DEFAULT 4

/* The one option set of the corpus README: every difference it hides is an era decoration. */
static const char * const xml_ignores[] = {
        CONFORMANCE_XML_IGNORES,
};

static struct {
        const char *folder;
        ConformanceHandler handler;
} handlers[CONFORMANCE_FOLDERS_MAX];
static size_t n_handlers;

static char *tools_dir;         /* where xmlequiv.py and friends live */
static char **manifests;        /* every MANIFEST.tsv below DIR, sorted */

void conformance_register(const char *folder, ConformanceHandler handler) {
        if (n_handlers >= CONFORMANCE_FOLDERS_MAX)
                abort();
        handlers[n_handlers].folder = folder;
        handlers[n_handlers].handler = handler;
        n_handlers++;
}

static ConformanceHandler handler_for(const char *folder) {
        for (size_t i = 0; i < n_handlers; i++)
                if (streq(handlers[i].folder, folder))
                        return handlers[i].handler;
        return NULL;
}

void conformance_report(const char *what, int r, const XvError *error) {
        printf("# %s failed: %s (%s)\n", what, error->message ? error->message : "(no message)",
               strerror(r < 0 ? -r : r));
}

int conformance_read_input(const ConformanceCase *c, const char *path, bool join_continuations,
                           char **ret) {
        _cleanup_free_ char *text = NULL;
        char *w;
        int r;

        r = read_full_file(path, CONFORMANCE_FILE_SIZE_MAX, &text, NULL);
        if (r < 0) {
                printf("# %s: cannot read %s: %s\n", c->name, path, strerror(-r));
                return r;
        }

        if (join_continuations) {
                /* libvirt's test loader deleted every backslash-newline pair before parsing;
                 * the wrap may fall inside a quoted string. */
                w = text;
                for (const char *p = text; *p; p++) {
                        if (p[0] == '\\' && p[1] == '\n') {
                                p++;
                                continue;
                        }
                        *w++ = *p;
                }
                *w = '\0';
        }

        *ret = TAKE_PTR(text);
        return 0;
}

static int run_comparator(char **argv) {
        posix_spawn_file_actions_t fa;
        int pipefd[2], status = 0;
        FILE *f;
        char line[1024];
        pid_t pid;
        int r;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDERR_FILENO);
        r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(pipefd[1]);
        if (r != 0) {
                close(pipefd[0]);
                printf("# cannot run %s: %s\n", argv[0], strerror(r));
                return -r;
        }

        f = fdopen(pipefd[0], "r");
        if (f) {
                while (fgets(line, sizeof(line), f))
                        printf("#   %s%s", line, strchr(line, '\n') ? "" : "\n");
                fclose(f);
        } else
                close(pipefd[0]);

        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int conformance_compare(ConformanceKind kind, const char *expected_path, const char *actual) {
        static const char * const tools[] = {
                [CONFORMANCE_XML] = "xmlequiv.py",
                [CONFORMANCE_SXP] = "sxpequiv.py",
                [CONFORMANCE_CFG] = "cfgequiv.py",
        };
        char scratch[] = "/tmp/xv-conformance-XXXXXX";
        _cleanup_free_ char *tool = NULL;
        const char *argv[64];
        const char *python = getenv("PYTHON3") ?: "/usr/bin/python3";
        size_t n = 0;
        int fd, r;

        fd = mkstemp(scratch);
        if (fd < 0)
                return -errno;
        if (write(fd, actual, strlen(actual)) != (ssize_t) strlen(actual)) {
                close(fd);
                unlink(scratch);
                return -EIO;
        }
        close(fd);

        if (asprintf(&tool, "%s/%s", tools_dir, tools[kind]) < 0)
                return -ENOMEM;

        argv[n++] = python;
        argv[n++] = tool;
        argv[n++] = expected_path;
        argv[n++] = scratch;
        if (kind == CONFORMANCE_XML)
                for (size_t i = 0; i < ELEMENTSOF(xml_ignores); i++) {
                        argv[n++] = "--ignore";
                        argv[n++] = xml_ignores[i];
                }
        else if (kind == CONFORMANCE_CFG) {
                argv[n++] = "--ignore";
                argv[n++] = "viridian";
        }
        argv[n] = NULL;

        r = run_comparator((char **) argv);
        if (r < 0) {
                printf("# expected %s, got:\n", expected_path);
                for (const char *p = actual; *p; ) {
                        size_t l = strcspn(p, "\n");

                        printf("#   | %.*s\n", (int) l, p);
                        p += l + (p[l] == '\n');
                }
        }
        unlink(scratch);
        return r;
}

static int collect(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        const char *base = path + ftw->base;

        if (type == FTW_F && streq(base, "MANIFEST.tsv"))
                return strv_extend(&manifests, path) < 0 ? -1 : 0;
        return 0;
}

static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

/* Splits one line on tabs into at most @max fields (pointers into the line). */
static size_t split_tabs(char *line, char **fields, size_t max) {
        size_t n = 0;

        while (n < max) {
                fields[n++] = line;
                line = strchr(line, '\t');
                if (!line)
                        break;
                *line++ = '\0';
        }
        return n;
}

static int note_value(const char *notes, const char *key, char **ret) {
        const char *p = strstr(notes, key);
        size_t l;

        if (!p) {
                *ret = NULL;
                return 0;
        }
        p += strlen(key);
        l = strcspn(p, " ;,|\t");
        *ret = strndup(p, l);
        return *ret ? 1 : -ENOMEM;
}

static int run_case(const char *dir, char **fields, size_t n_fields) {
        _cleanup_strv_free_ char **inputs = NULL;
        _cleanup_free_ char *expected = NULL, *version = NULL, *arch = NULL, *folder_copy = NULL;
        const char *notes = n_fields > 6 ? fields[6] : "";
        ConformanceHandler handler;
        ConformanceCase c = {};
        char *spec, *tok, *save = NULL;
        int r;

        folder_copy = strdup(dir);
        if (!folder_copy)
                return -ENOMEM;
        handler = handler_for(basename(folder_copy));
        if (!handler) {
                printf("# no converter is registered for the folder '%s'\n", dir);
                return -EOPNOTSUPP;
        }

        spec = fields[1];
        for (tok = strtok_r(spec, ";", &save); tok; tok = strtok_r(NULL, ";", &save))
                if (strv_push(&inputs, test_path(dir, tok)) < 0)
                        return -ENOMEM;
        expected = test_path(dir, fields[2]);

        c.dir = dir;
        c.name = fields[0];
        c.inputs = inputs;
        c.expected = expected;
        c.notes = notes;
        c.xend_config_version = CONFORMANCE_XEND_VERSION_DEFAULT;
        c.one_way = strstr(notes, "one-way") != NULL;

        r = note_value(notes, "xendConfigVersion=", &version);
        if (r < 0)
                return r;
        if (r > 0 && !streq(version, "not")) {
                unsigned v;

                if (safe_atou(version, &v) < 0 || v < 1 || v > 4) {
                        printf("# bad xendConfigVersion '%s' in the notes\n", version);
                        return -EINVAL;
                }
                c.xend_config_version = (int) v;
        }
        /* "xendConfigVersion=not recorded" gives no version: such a case runs with the default. */
        r = note_value(notes, "arch=", &arch);
        if (r < 0)
                return r;
        c.host_arch = arch;

        return handler(&c);
}

int main(int argc, char *argv[]) {
        size_t total = 0, n = 0, failed = 0;
        _cleanup_strv_free_ char **lines = NULL, **dirs = NULL;
        const char *root, *tools_env;

        setvbuf(stdout, NULL, _IOLBF, 0);

        if (argc != 2) {
                fprintf(stderr, "usage: %s DIR\n", argv[0]);
                return 2;
        }
        root = argv[1];

        /* The comparators ship with the corpus; a folder "with that layout" may carry its own. */
        tools_env = getenv("XV_CONFORMANCE_TOOLS");
        tools_dir = tools_env ? strdup(tools_env) : NULL;
        if (!tools_dir) {
                _cleanup_free_ char *probe = test_path(root, "xmlequiv.py");

                tools_dir = access(probe, R_OK) == 0 ? strdup(root)
                                                     : test_path(test_shared_dir(), "conformance");
        }

        if (nftw(root, collect, 16, FTW_PHYS) < 0) {
                fprintf(stderr, "cannot walk %s: %m\n", root);
                return 2;
        }
        if (!manifests) {
                fprintf(stderr, "no MANIFEST.tsv below %s\n", root);
                return 2;
        }
        qsort(manifests, strv_length(manifests), sizeof(char *), compare_strings);

        /* First pass: collect every case line so that the TAP plan comes first. */
        STRV_FOREACH(m, manifests) {
                _cleanup_free_ char *text = NULL, *mcopy = NULL;
                bool header = true;
                char *save = NULL;
                int r;

                r = read_full_file(*m, CONFORMANCE_FILE_SIZE_MAX, &text, NULL);
                if (r < 0) {
                        fprintf(stderr, "cannot read %s: %s\n", *m, strerror(-r));
                        return 2;
                }
                mcopy = strdup(*m);
                if (!mcopy)
                        return 2;
                for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        if (header) {
                                header = false;
                                continue;
                        }
                        if (isempty(l))
                                continue;
                        if (strv_extend(&lines, l) < 0 || strv_extend(&dirs, dirname(mcopy)) < 0)
                                return 2;
                        free(mcopy);
                        mcopy = strdup(*m);
                        if (!mcopy)
                                return 2;
                }
        }
        if (!lines || !dirs) {
                fprintf(stderr, "no cases in the manifests below %s\n", root);
                return 2;
        }
        total = strv_length(lines);
        if (strv_length(dirs) != total)
                return 2;       /* every manifest line carries its folder */
        printf("1..%zu\n", total);

        for (size_t i = 0; i < total; i++) {
                _cleanup_free_ char *folder = strdup(dirs[i]), *line = strdup(lines[i]);
                char *fields[8];
                size_t n_fields;
                int status = 0;
                pid_t pid;

                if (!folder || !line)
                        return 2;
                n_fields = split_tabs(line, fields, ELEMENTSOF(fields));
                if (n_fields < 3) {
                        printf("not ok %zu - %s # malformed manifest line\n", ++n, lines[i]);
                        failed++;
                        continue;
                }

                fflush(stdout);
                pid = fork();
                if (pid < 0)
                        return 2;
                if (pid == 0)
                        _exit(run_case(dirs[i], fields, n_fields) < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;

                if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                        printf("ok %zu - %s/%s\n", ++n, basename(folder), fields[0]);
                else {
                        failed++;
                        printf("not ok %zu - %s/%s%s\n", ++n, basename(folder), fields[0],
                               WIFSIGNALED(status) ? " # crashed" : "");
                }
        }

        free(tools_dir);
        manifests = strv_free(manifests);
        return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
