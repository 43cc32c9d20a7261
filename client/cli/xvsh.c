/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xvsh: main(), the global options, the command table, command-line tokenizing and option parsing.
 * Command names, options, messages and exit codes follow virsh 9.0 so that operators' scripts
 * carry over: a command that fails prints "error: ..." lines on stderr and makes xvsh exit 1.
 */

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xv-alloc.h"
#include "xv-parse-util.h"
#include "xv-uuid.h"
#include "xvsh.h"

/* ---------------------------------------------------------------------------------------------
 * The command table
 */

static const CmdDef *const cmd_tables[] = {
        xvsh_domain_cmds,
        xvsh_node_cmds,
        xvsh_shell_cmds,
};

const CmdDef *cmd_find(const char *name) {
        for (size_t t = 0; t < ELEMENTSOF(cmd_tables); t++)
                for (const CmdDef *d = cmd_tables[t]; d->name; d++)
                        if (streq(d->name, name))
                                return d;
        return NULL;
}

void cmd_foreach(void (*cb)(const CmdDef *def, void *userdata), void *userdata) {
        for (size_t t = 0; t < ELEMENTSOF(cmd_tables); t++)
                for (const CmdDef *d = cmd_tables[t]; d->name; d++)
                        cb(d, userdata);
}

/* ---------------------------------------------------------------------------------------------
 * Options of a parsed command
 */

static int opt_index(const CmdDef *def, const char *name) {
        for (size_t i = 0; def->opts && def->opts[i].name; i++)
                if (streq(def->opts[i].name, name))
                        return (int) i;
        return -1;
}

bool cmd_has(const Cmd *cmd, const char *name) {
        int i = opt_index(cmd->def, name);

        assert(i >= 0);
        return cmd->present[i];
}

const char *cmd_str(const Cmd *cmd, const char *name) {
        int i = opt_index(cmd->def, name);

        assert(i >= 0);
        return cmd->present[i] ? cmd->value[i] : NULL;
}

int cmd_int(const Cmd *cmd, const char *name, int *ret) {
        const char *s = cmd_str(cmd, name);
        int v;

        if (!s)
                return 0;
        if (safe_atoi(s, &v) < 0) {
                print_error("Numeric value '%s' for <%s> option is malformed or out of range", s, name);
                return -1;
        }
        *ret = v;
        return 1;
}

int cmd_uint(const Cmd *cmd, const char *name, unsigned *ret) {
        const char *s = cmd_str(cmd, name);
        unsigned v;

        if (!s)
                return 0;
        if (safe_atou(s, &v) < 0) {
                print_error("Numeric value '%s' for <%s> option is malformed or out of range", s, name);
                return -1;
        }
        *ret = v;
        return 1;
}

int cmd_scaled_kib(const Cmd *cmd, const char *name, uint64_t *ret_kib) {
        const char *s = cmd_str(cmd, name), *end;
        uint64_t v, bytes;

        if (!s)
                return 0;
        /* virsh's vshCommandOptScaledInt: a number, an optional unit, KiB by default. */
        if (parse_u64_prefix(s, &v, &end) < 0 ||
            parse_scaled(v, end, 1024, &bytes) < 0) {
                print_error("Scaled numeric value '%s' for <%s> option is malformed or out of range", s, name);
                return -1;
        }
        *ret_kib = bytes / 1024;
        return 1;
}

int cmd_exclusive(const Cmd *cmd, const char *a, const char *b) {
        if (cmd_has(cmd, a) && cmd_has(cmd, b)) {
                print_error("Options --%s and --%s are mutually exclusive", a, b);
                return -1;
        }
        return 0;
}

int cmd_requires(const Cmd *cmd, const char *a, const char *b) {
        if (cmd_has(cmd, b) && !cmd_has(cmd, a)) {
                print_error("Option --%s is required by option --%s", a, b);
                return -1;
        }
        return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Connection and domain lookup
 */

xv_conn *ctl_conn(Ctl *ctl) {
        xv_error e = XV_ERROR_NULL;
        int r;

        if (ctl->conn && xv_conn_is_alive(ctl->conn))
                return ctl->conn;
        ctl->conn = xv_conn_unref(ctl->conn);

        r = xv_conn_open(ctl->uri, ctl->readonly ? XV_CONN_READ_ONLY : 0, &ctl->conn, &e);
        if (r < 0) {
                print_error("failed to connect to the hypervisor");
                if (xv_error_is_set(&e))
                        print_xv_error(&e);
                else
                        print_error("%s", strerror(-r));
                return NULL;
        }
        return ctl->conn;
}

xv_domain *domain_lookup_by(Ctl *ctl, const char *word, unsigned by) {
        xv_domain *d = NULL;
        xv_conn *c;
        int id;

        c = ctl_conn(ctl);
        if (!c)
                return NULL;

        /* virsh's order: an id when the word is a non-negative number, then a UUID, then a name.
         * The errors of the attempts are not shown: only "failed to get domain". */
        if ((by & LOOKUP_BY_ID) && safe_atoi(word, &id) >= 0 && id >= 0)
                (void) xv_domain_lookup_by_id(c, id, &d, NULL);
        if (!d && (by & LOOKUP_BY_UUID) && strlen(word) == UUID_STRING_LEN)
                (void) xv_domain_lookup_by_uuid_string(c, word, &d, NULL);
        if (!d && (by & LOOKUP_BY_NAME))
                (void) xv_domain_lookup_by_name(c, word, &d, NULL);
        if (!d)
                print_error("failed to get domain '%s'", word);
        return d;
}

xv_domain *domain_lookup(Ctl *ctl, const char *word) {
        return domain_lookup_by(ctl, word, LOOKUP_BY_ANY);
}

xv_domain *cmd_domain_by(Ctl *ctl, const Cmd *cmd, const char *optname, unsigned by, const char **ret_name) {
        const char *w = cmd_str(cmd, optname);
        xv_domain *d;

        if (!w) {
                print_error("command '%s' requires <%s> option", cmd->def->name, optname);
                return NULL;
        }
        d = domain_lookup_by(ctl, w, by);
        if (d && ret_name)
                *ret_name = w;
        return d;
}

xv_domain *cmd_domain(Ctl *ctl, const Cmd *cmd, const char *optname, const char **ret_name) {
        return cmd_domain_by(ctl, cmd, optname, LOOKUP_BY_ANY, ret_name);
}

/* ---------------------------------------------------------------------------------------------
 * Help
 */

static const char *opt_placeholder(const CmdOpt *o) {
        return o->type == OPT_NUMBER ? "number" : "string";
}

static void print_synopsis(const CmdDef *def) {
        printf("    %s", def->name);
        for (const CmdOpt *o = def->opts; o && o->name; o++) {
                switch (o->type) {
                case OPT_BOOL:
                        printf(" [--%s]", o->name);
                        break;
                case OPT_ARGV:
                        if (o->flags & OPT_POSITIONAL)
                                printf(" [<%s>]...", o->name);
                        else
                                printf(" [--%s <%s>]...", o->name, opt_placeholder(o));
                        break;
                default:
                        if (o->flags & OPT_REQUIRED)
                                printf(" <%s>", o->name);
                        else if (o->flags & OPT_POSITIONAL)
                                printf(" [<%s>]", o->name);
                        else
                                printf(" [--%s <%s>]", o->name, opt_placeholder(o));
                }
        }
        printf("\n");
}

/* The layout of "virsh help CMD". */
int cmd_help_print(const CmdDef *def) {
        printf("  NAME\n    %s - %s\n\n  SYNOPSIS\n", def->name, def->help);
        print_synopsis(def);
        printf("\n");
        if (def->desc)
                printf("  DESCRIPTION\n    %s\n\n", def->desc);
        if (def->opts && def->opts[0].name) {
                printf("  OPTIONS\n");
                for (const CmdOpt *o = def->opts; o->name; o++) {
                        char left[128];

                        if (o->type == OPT_BOOL)
                                (void) snprintf(left, sizeof left, "--%s", o->name);
                        else if (o->flags & OPT_POSITIONAL)
                                (void) snprintf(left, sizeof left, "[--%s] <%s>", o->name, opt_placeholder(o));
                        else
                                (void) snprintf(left, sizeof left, "--%s <%s>", o->name, opt_placeholder(o));
                        printf("    %-15s  %s\n", left, o->help);
                }
                printf("\n");
        }
        return 0;
}

static void help_list_one(const CmdDef *def, void *userdata) {
        const char *group = userdata;

        if (streq(def->group, group))
                printf("    %-30s %s\n", def->name, def->help);
}

static void help_all(void) {
        static const struct {
                const char *key, *title;
        } groups[] = {
                { "domain", "Domain Management" },
                { "monitor", "Domain Monitoring" },
                { "host", "Host and Hypervisor" },
                { "shell", "Xvsh itself" },
        };

        printf("Grouped commands:\n\n");
        for (size_t i = 0; i < ELEMENTSOF(groups); i++) {
                printf(" %s (help keyword '%s'):\n", groups[i].title, groups[i].key);
                cmd_foreach(help_list_one, (void *) groups[i].key);
                printf("\n");
        }
}

static int cmd_help(Ctl *ctl, const Cmd *cmd) {
        const char *name = cmd_str(cmd, "command");
        const CmdDef *def;

        (void) ctl;
        if (!name) {
                help_all();
                return 0;
        }
        def = cmd_find(name);
        if (!def) {
                print_error("command or command group '%s' doesn't exist", name);
                return -1;
        }
        return cmd_help_print(def);
}

static int cmd_quit(Ctl *ctl, const Cmd *cmd) {
        (void) ctl;
        (void) cmd;
        return 0;
}

static int cmd_shell(Ctl *ctl, const Cmd *cmd) {
        (void) cmd;
        if (ctl->interactive)
                return 0;
        return xvsh_shell(ctl) == 0 ? 0 : -1;
}

static const CmdOpt opts_help[] = {
        { "command", OPT_STRING, OPT_POSITIONAL, "Prints global help, command specific help, or help for a group of related commands" },
        {}
};

const CmdDef xvsh_shell_cmds[] = {
        { "help", "shell", "print help", "Prints global help, command specific help, or help for a\n    group of related commands",
          opts_help, cmd_help, CMD_NOCONNECT },
        { "quit", "shell", "quit this interactive terminal", "quit this interactive terminal", NULL, cmd_quit, CMD_NOCONNECT },
        { "exit", "shell", "quit this interactive terminal", "quit this interactive terminal", NULL, cmd_quit, CMD_NOCONNECT },
        { "shell", "shell", "run the interactive shell", "Reads commands from the terminal, with line editing,\n"
          "    history in ~/.xvsh_history and completion of commands, options and domain names.",
          NULL, cmd_shell, CMD_NOCONNECT },
        {}
};

/* ---------------------------------------------------------------------------------------------
 * Tokenizing and running lines
 */

typedef struct Tokens {
        char *words[XVSH_TOKENS_MAX];
        bool sep[XVSH_TOKENS_MAX];      /* an unquoted ';' */
        size_t n;
} Tokens;

static void tokens_done(Tokens *t) {
        for (size_t i = 0; i < t->n; i++)
                free(t->words[i]);
        t->n = 0;
}

/* Splits a line as virsh's string parser does: blanks separate words, '...' and "..." quote,
 * a backslash escapes the next character, an unquoted ';' ends a command and '#' at the start
 * of a word starts a comment. */
static int tokenize(const char *line, Tokens *t) {
        const char *p = line;

        if (strlen(line) > XVSH_LINE_MAX) {
                print_error("command line is longer than %d bytes", XVSH_LINE_MAX);
                return -1;
        }

        for (;;) {
                _cleanup_free_ char *w = NULL;
                size_t len = 0;
                char q = 0;

                while (*p && isspace((unsigned char) *p))
                        p++;
                if (!*p || *p == '#')
                        return 0;
                if (t->n >= XVSH_TOKENS_MAX) {
                        print_error("too many words on the command line (%d)", XVSH_TOKENS_MAX);
                        return -1;
                }
                if (*p == ';') {
                        t->words[t->n] = strdup(";");
                        if (!t->words[t->n])
                                return -ENOMEM;
                        t->sep[t->n++] = true;
                        p++;
                        continue;
                }

                w = malloc(strlen(p) + 1);
                if (!w)
                        return -ENOMEM;
                for (; *p; p++) {
                        if (q) {
                                if (*p == q)
                                        q = 0;
                                else if (*p == '\\' && q == '"' && p[1])
                                        w[len++] = *++p;
                                else
                                        w[len++] = *p;
                        } else if (*p == '\'' || *p == '"')
                                q = *p;
                        else if (*p == '\\' && p[1])
                                w[len++] = *++p;
                        else if (isspace((unsigned char) *p) || *p == ';')
                                break;
                        else
                                w[len++] = *p;
                }
                if (q) {
                        print_error("dangling quote");
                        return -1;
                }
                w[len] = 0;
                t->sep[t->n] = false;
                t->words[t->n++] = TAKE_PTR(w);
        }
}

/* Parses words[0..n) (words[0] the command name) into @cmd, the virsh way. */
static int cmd_parse(char **words, size_t n, Cmd *cmd, bool *ret_help) {
        const CmdDef *def;
        size_t pos_next = 0;
        bool dashdash = false;

        *ret_help = false;
        *cmd = (Cmd) {};
        def = cmd_find(words[0]);
        if (!def) {
                print_error("unknown command: '%s'", words[0]);
                return -1;
        }

        *cmd = (Cmd) { .def = def };
        while (def->opts && def->opts[cmd->n_opts].name)
                cmd->n_opts++;
        assert(cmd->n_opts <= XVSH_CMD_OPTS_MAX);

        cmd->argv = new0(char *, n + 1);
        if (!cmd->argv)
                return -ENOMEM;

        for (size_t i = 1; i < n; i++) {
                const char *w = words[i];

                if (!dashdash && streq(w, "--")) {
                        dashdash = true;
                        continue;
                }
                if (!dashdash && w[0] == '-' && w[1] == '-' && w[2]) {
                        _cleanup_free_ char *name = strdup(w + 2);
                        char *eq;
                        int k;

                        if (!name)
                                return -ENOMEM;
                        eq = strchr(name, '=');
                        if (eq)
                                *eq++ = 0;
                        if (streq(name, "help") && opt_index(def, "help") < 0) {
                                *ret_help = true;
                                return 0;
                        }
                        k = opt_index(def, name);
                        if (k < 0) {
                                print_error("command '%s' doesn't support option --%s", def->name, name);
                                return -1;
                        }
                        if (def->opts[k].type == OPT_BOOL) {
                                if (eq) {
                                        print_error("invalid '=' after option --%s", name);
                                        return -1;
                                }
                                if (cmd->present[k]) {
                                        print_error("option --%s already seen", name);
                                        return -1;
                                }
                                cmd->present[k] = true;
                                cmd->value[k] = "";
                                continue;
                        }
                        if (!eq) {
                                if (i + 1 >= n) {
                                        print_error("expected syntax: --%s <%s>", name,
                                                    opt_placeholder(&def->opts[k]));
                                        return -1;
                                }
                                w = words[++i];
                        } else
                                w = w + 2 + (eq - name);
                        if (def->opts[k].type == OPT_ARGV) {
                                cmd->argv[cmd->n_argv++] = (char *) w;
                                cmd->present[k] = true;
                                continue;
                        }
                        if (cmd->present[k]) {
                                print_error("option --%s already seen", name);
                                return -1;
                        }
                        cmd->present[k] = true;
                        cmd->value[k] = w;
                        continue;
                }

                /* A positional word: the next positional option not yet given. */
                while (pos_next < cmd->n_opts &&
                       (!(def->opts[pos_next].flags & OPT_POSITIONAL) ||
                        (cmd->present[pos_next] && def->opts[pos_next].type != OPT_ARGV)))
                        pos_next++;
                if (pos_next >= cmd->n_opts) {
                        print_error("unexpected data '%s'", w);
                        return -1;
                }
                if (def->opts[pos_next].type == OPT_ARGV) {
                        cmd->argv[cmd->n_argv++] = (char *) w;
                        cmd->present[pos_next] = true;
                        continue;
                }
                cmd->present[pos_next] = true;
                cmd->value[pos_next] = w;
        }

        for (size_t k = 0; k < cmd->n_opts; k++)
                if ((def->opts[k].flags & OPT_REQUIRED) && !cmd->present[k]) {
                        if (def->opts[k].flags & OPT_POSITIONAL)
                                print_error("command '%s' requires <%s> option", def->name, def->opts[k].name);
                        else
                                print_error("command '%s' requires --%s option", def->name, def->opts[k].name);
                        return -1;
                }
        return 0;
}

typedef struct Parsed {
        Cmd cmd;
        bool help;
} Parsed;

static int run_parsed(Ctl *ctl, Parsed *p) {
        int r;

        if (p->help)
                r = cmd_help_print(p->cmd.def);
        else if (!(p->cmd.def->flags & CMD_NOCONNECT) && !ctl_conn(ctl))
                return -1;
        else
                r = p->cmd.def->run(ctl, &p->cmd);
        /* virsh ends the output of every command that ran with an empty line (vshPrintExtra). */
        if (!streq(p->cmd.def->name, "quit") && !streq(p->cmd.def->name, "exit") &&
            !streq(p->cmd.def->name, "shell"))
                out_extra(ctl, "\n");
        fflush(stdout);
        return r;
}

/* Parses every command of the line first, as virsh does: a usage error anywhere runs nothing.
 * Then runs them in turn; the status is the last command's. */
static int run_tokens(Ctl *ctl, Tokens *t) {
        _cleanup_free_ Parsed *parsed = new0(Parsed, t->n + 1);
        size_t np = 0, start = 0;
        int ret = 0, r;

        if (!parsed) {
                print_error("%s", strerror(ENOMEM));
                return -1;
        }
        for (size_t i = 0; i <= t->n; i++) {
                if (i < t->n && !t->sep[i])
                        continue;
                if (i > start) {
                        r = cmd_parse(t->words + start, i - start, &parsed[np].cmd, &parsed[np].help);
                        np++;
                        if (r < 0) {
                                if (r != -1)
                                        print_error("%s", strerror(-r));
                                ret = -1;
                                goto finish;
                        }
                }
                start = i + 1;
        }
        for (size_t i = 0; i < np; i++)
                ret = run_parsed(ctl, &parsed[i]);

finish:
        for (size_t i = 0; i < np; i++)
                free(parsed[i].cmd.argv);
        return ret;
}

int xvsh_run_line(Ctl *ctl, const char *line) {
        Tokens t = { .n = 0 };
        int r;

        r = tokenize(line, &t);
        if (r >= 0)
                r = run_tokens(ctl, &t);
        else if (r != -1)
                print_error("%s", strerror(-r));
        tokens_done(&t);
        return r < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------------------------------------
 * main
 */

static void usage(void) {
        printf("\n"
               "xvsh [options]... [<command_string>]\n"
               "xvsh [options]... <command> [args...]\n"
               "\n"
               "  options:\n"
               "    -c | --connect=URI      hypervisor connection URI\n"
               "    -h | --help             this help\n"
               "    -q | --quiet            quiet mode\n"
               "    -r | --readonly         connect readonly\n"
               "    -v | --version          program version\n"
               "         --json             machine-readable output: one JSON document per command\n"
               "\n"
               "  commands (non interactive mode):\n"
               "\n");
        help_all();
        printf("  (specify help <group> for details about the commands in the group)\n\n"
               "  (use --help inside a command to get command specific help)\n\n");
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "connect", required_argument, NULL, 'c' },
                { "readonly", no_argument, NULL, 'r' },
                { "quiet", no_argument, NULL, 'q' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'v' },
                {}
        };
        Ctl ctl = {};
        int c, ret;

        /* '+': stop at the command name, its options belong to it. */
        while ((c = getopt_long(argc, argv, "+c:rqhv", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        ctl.uri = optarg;
                        break;
                case 'r':
                        ctl.readonly = true;
                        break;
                case 'q':
                        ctl.quiet = true;
                        break;
                case 'j':
                        ctl.json = true;
                        break;
                case 'h':
                        usage();
                        return 0;
                case 'v':
                        printf("%s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        /* getopt printed the reason. */
                        print_error("unsupported option. See --help.");
                        return 1;
                }

        /* With -c, virsh connects before it parses the command and gives up when it cannot:
         * nothing runs (not even help) and the status is 1. Without it the connection is
         * opened when a command first needs it, so that help works without a daemon. */
        if (ctl.uri && optind < argc && !ctl_conn(&ctl))
                return 1;

        if (optind >= argc) {
                ctl.interactive = true;
                ret = xvsh_shell(&ctl);
        } else if (argc - optind == 1) {
                /* One word: a command string, which may hold several commands ("list; list"). */
                ret = xvsh_run_line(&ctl, argv[optind]) < 0 ? 1 : 0;
        } else {
                Tokens t = { .n = 0 };

                if (argc - optind > XVSH_TOKENS_MAX) {
                        print_error("too many words on the command line (%d)", XVSH_TOKENS_MAX);
                        return 1;
                }
                for (int i = optind; i < argc; i++) {
                        t.words[t.n] = strdup(argv[i]);
                        if (!t.words[t.n]) {
                                tokens_done(&t);
                                print_error("%s", strerror(ENOMEM));
                                return 1;
                        }
                        /* Like virsh, separate words are one command: ";" is not special here. */
                        t.sep[t.n++] = false;
                }
                ret = run_tokens(&ctl, &t) < 0 ? 1 : 0;
                tokens_done(&t);
        }

        ctl.conn = xv_conn_unref(ctl.conn);
        fflush(stdout);
        return ret;
}
