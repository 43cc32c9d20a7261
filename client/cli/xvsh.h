/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * xvsh: the command line client of xenvirtd. Shared definitions of the command table, the parsed
 * command, the shell state (Ctl) and the output helpers. The commands themselves live in
 * xvsh-domain.c and xvsh-node.c, the output formatting in xvsh-output.c, the interactive shell in
 * xvsh-shell.c.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xenvirt.h"
#include "xv-macro.h"

/* Limits on what a command line may hold; a longer line is refused, never truncated. */
#define XVSH_LINE_MAX           (64 * 1024)
#define XVSH_TOKENS_MAX         1024
#define XVSH_CMD_OPTS_MAX       32
/* Files read by define/create/attach-device/domxml-*: the daemon's own domain XML limit is lower. */
#define XVSH_XML_FILE_MAX       (4 * 1024 * 1024)

typedef enum OptType {
        OPT_BOOL,               /* --flag */
        OPT_STRING,             /* --name VALUE */
        OPT_NUMBER,             /* --name VALUE, shown as <number> */
        OPT_ARGV,               /* every remaining positional word (domstats DOM..., schedinfo --set) */
} OptType;

#define OPT_REQUIRED    (1u << 0)
#define OPT_POSITIONAL  (1u << 1)       /* may be given without its --name, in table order */

typedef struct CmdOpt {
        const char *name;
        OptType type;
        unsigned flags;
        const char *help;
} CmdOpt;

typedef struct Ctl Ctl;
typedef struct Cmd Cmd;

#define CMD_NOCONNECT   (1u << 0)       /* runs without a connection (help, quit, ...) */

typedef struct CmdDef {
        const char *name;
        const char *group;      /* "domain", "host", "shell" */
        const char *help;       /* one line */
        const char *desc;       /* the DESCRIPTION paragraph */
        const CmdOpt *opts;     /* terminated by an entry with a NULL name */
        int (*run)(Ctl *ctl, const Cmd *cmd);   /* 0, or -1 once the error was printed */
        unsigned flags;
} CmdDef;

struct Cmd {
        const CmdDef *def;
        size_t n_opts;
        bool present[XVSH_CMD_OPTS_MAX];
        const char *value[XVSH_CMD_OPTS_MAX];   /* borrowed from the token array */
        char **argv;                            /* OPT_ARGV words, NULL-terminated, borrowed strings */
        size_t n_argv;
};

struct Ctl {
        const char *uri;                /* NULL: the library's default */
        bool readonly;
        bool quiet;
        bool json;
        bool interactive;
        xv_conn *conn;
        int ncpus;                      /* host CPUs, for cpulists; 0 = not asked yet */
};

/* The command table (xvsh.c), the domain and host tables (NULL-name terminated). */
extern const CmdDef xvsh_domain_cmds[];
extern const CmdDef xvsh_node_cmds[];
extern const CmdDef xvsh_shell_cmds[];

const CmdDef *cmd_find(const char *name);
/* Prints the help of one command, laid out as "virsh help CMD". */
int cmd_help_print(const CmdDef *def);
/* Calls @cb for every command of every table, in table order. */
void cmd_foreach(void (*cb)(const CmdDef *def, void *userdata), void *userdata);

/* Parses and runs one line ("cmd args; cmd args"). Returns 0 when every command succeeded. */
int xvsh_run_line(Ctl *ctl, const char *line);
/* Runs the interactive shell until "quit"/EOF. Returns the exit status. */
int xvsh_shell(Ctl *ctl);
/* The connection, opened on first use; NULL after printing the error. */
xv_conn *ctl_conn(Ctl *ctl);

/* Option access. */
bool cmd_has(const Cmd *cmd, const char *name);
const char *cmd_str(const Cmd *cmd, const char *name);
/* An option as an int/unsigned/u64; 0 = absent (*ret untouched), 1 = set, -1 = error printed. */
int cmd_int(const Cmd *cmd, const char *name, int *ret);
int cmd_uint(const Cmd *cmd, const char *name, unsigned *ret);
/* A size with virsh's suffixes ("1G", "512M", default KiB) in KiB; same returns as cmd_int. */
int cmd_scaled_kib(const Cmd *cmd, const char *name, uint64_t *ret_kib);
/* Prints virsh's "Options --a and --b are mutually exclusive" and returns -1 when both are set. */
int cmd_exclusive(const Cmd *cmd, const char *a, const char *b);
/* Prints "Option --a is required by option --b" and returns -1 when @b is set without @a. */
int cmd_requires(const Cmd *cmd, const char *a, const char *b);

/* The domain named by option @optname (name, id or uuid, tried as virsh does: id, uuid, name);
 * NULL after printing "error: failed to get domain 'x'". *@ret_name (optional) is the word. */
xv_domain *cmd_domain(Ctl *ctl, const Cmd *cmd, const char *optname, const char **ret_name);
xv_domain *domain_lookup(Ctl *ctl, const char *word);
/* The same with a choice of lookups (domid takes no id, domname no name, as in virsh). */
#define LOOKUP_BY_ID    (1u << 0)
#define LOOKUP_BY_UUID  (1u << 1)
#define LOOKUP_BY_NAME  (1u << 2)
#define LOOKUP_BY_ANY   (LOOKUP_BY_ID | LOOKUP_BY_UUID | LOOKUP_BY_NAME)
xv_domain *domain_lookup_by(Ctl *ctl, const char *word, unsigned by);
xv_domain *cmd_domain_by(Ctl *ctl, const Cmd *cmd, const char *optname, unsigned by, const char **ret_name);

/* Output (xvsh-output.c). */
void out(Ctl *ctl, const char *format, ...) _printf_(2, 3);             /* stdout, unless --json */
void out_extra(Ctl *ctl, const char *format, ...) _printf_(2, 3);       /* stdout, unless -q/--json */
void print_error(const char *format, ...) _printf_(1, 2);               /* "error: ...\n" on stderr */
/* "error: <library message>" for a failed call (and clears @e). */
void print_xv_error(xv_error *e);
/* "error: <format>" then "error: <library message>". Returns -1. */
int fail(xv_error *e, const char *format, ...) _printf_(2, 3);
int read_file_or_fail(const char *path, char **ret);

/* Tables the way virsh's vshTable prints them. */
typedef struct Table Table;
Table *table_new(size_t ncols, ...);     /* the column headers */
int table_add_row(Table *t, ...);        /* ncols strings, copied */
void table_print(Ctl *ctl, Table *t);
Table *table_free(Table *t);
DEFINE_CLEANUP_FUNC(Table *, table_free);

/* A JSON document writer. Values are appended in order; objects and arrays nest. */
typedef struct Json Json;
Json *json_new(void);
Json *json_free(Json *j);
DEFINE_CLEANUP_FUNC(Json *, json_free);
void json_object_begin(Json *j, const char *key);   /* key NULL inside arrays / at the top */
void json_object_end(Json *j);
void json_array_begin(Json *j, const char *key);
void json_array_end(Json *j);
void json_string(Json *j, const char *key, const char *value);   /* NULL: null */
void json_int(Json *j, const char *key, int64_t value);
void json_uint(Json *j, const char *key, uint64_t value);
void json_double(Json *j, const char *key, double value);
void json_bool(Json *j, const char *key, bool value);
void json_null(Json *j, const char *key);
/* Writes the document and a newline to stdout. */
void json_print(Json *j);
/* {"domain": NAME, "result": RESULT} for the commands that only report success. */
void json_result(Ctl *ctl, const char *domain, const char *result);
/* A typed parameter as a JSON value. */
void json_param(Json *j, const xv_param *p);
/* A typed parameter as virsh prints it (virTypedParameterToString); a static or @buf string. */
const char *param_to_string(const xv_param *p, char *buf, size_t size);

/* Elapsed-time display of a long call on a terminal (stderr is a tty and not -q). */
typedef struct Progress Progress;
Progress *progress_start(Ctl *ctl, const char *label);
void progress_stop(Progress *p);

/* CPU lists: "0-3,6" <-> bitmaps. */
int cpulist_parse(const char *s, int ncpus, uint8_t *map, size_t maplen);
void cpulist_format(const uint8_t *map, size_t maplen, int ncpus, char *buf, size_t size);
int ctl_ncpus(Ctl *ctl);

/* Completion helpers for the shell: the names of every domain (NULL-terminated, caller frees). */
char **domain_names(Ctl *ctl);
