/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The interactive xvsh shell: libedit line editing through its readline interface, a bounded
 * history in ~/.xvsh_history, and completion of command names, of the options of the command
 * being typed, and of domain names.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline.h>

#include "xv-alloc.h"
#include "xvsh.h"

/* Lines kept in memory and in the history file. */
#define SHELL_HISTORY_MAX 500

static Ctl *shell_ctl;

/* ---------------------------------------------------------------------------------------------
 * Completion
 */

typedef struct Completion {
        char **words;
} Completion;

static Completion completion;

static void add_command_name(const CmdDef *def, void *userdata) {
        (void) userdata;
        (void) strv_extend(&completion.words, def->name);
}

/* The command word of the command the cursor is in: the first word after the last ';'. */
static const CmdDef *current_command(int start) {
        _cleanup_free_ char *head = strndup(rl_line_buffer, (size_t) start);
        char *p, *name;
        size_t len;

        if (!head)
                return NULL;
        p = strrchr(head, ';');
        p = p ? p + 1 : head;
        p += strspn(p, " \t");
        len = strcspn(p, " \t");
        if (len == 0)
                return NULL;
        name = strndup(p, len);
        if (!name)
                return NULL;
        {
                const CmdDef *d = cmd_find(name);

                free(name);
                return d;
        }
}

/* Whether the text before @start holds only blanks since the last ';' (a command name goes here). */
static bool at_command_position(int start) {
        for (int i = start - 1; i >= 0; i--) {
                if (rl_line_buffer[i] == ';')
                        return true;
                if (rl_line_buffer[i] != ' ' && rl_line_buffer[i] != '\t')
                        return false;
        }
        return true;
}

static char *completion_next(const char *text, int state) {
        static size_t idx, len;

        if (state == 0) {
                idx = 0;
                len = strlen(text);
        }
        while (completion.words && completion.words[idx]) {
                const char *w = completion.words[idx++];

                if (strncmp(w, text, len) == 0)
                        return strdup(w);
        }
        return NULL;
}

static char **shell_complete(const char *text, int start, int end) {
        (void) end;
        completion.words = strv_free(completion.words);

        if (at_command_position(start))
                cmd_foreach(add_command_name, NULL);
        else if (text[0] == '-') {
                const CmdDef *d = current_command(start);

                for (const CmdOpt *o = d ? d->opts : NULL; o && o->name; o++) {
                        _cleanup_free_ char *opt = NULL;

                        if (asprintf(&opt, "--%s", o->name) >= 0)
                                (void) strv_extend(&completion.words, opt);
                }
                (void) strv_extend(&completion.words, "--help");
        } else {
                completion.words = domain_names(shell_ctl);
        }

        /* No fallback to file names: an empty match list means no completion. */
        rl_attempted_completion_over = 1;
        return rl_completion_matches(text, completion_next);
}

/* ---------------------------------------------------------------------------------------------
 * The loop
 */

static char *history_path(void) {
        const char *home = getenv("HOME");
        char *p = NULL;

        if (isempty(home))
                return NULL;
        if (asprintf(&p, "%s/.xvsh_history", home) < 0)
                return NULL;
        return p;
}

/* Whether the line's first command is quit/exit. */
static bool line_quits(const char *line) {
        size_t len;

        line += strspn(line, " \t");
        len = strcspn(line, " \t;");
        return (len == 4 && strncmp(line, "quit", 4) == 0) || (len == 4 && strncmp(line, "exit", 4) == 0);
}

int xvsh_shell(Ctl *ctl) {
        _cleanup_free_ char *hist = history_path();
        const char *prompt = geteuid() == 0 ? "xvsh # " : "xvsh $ ";

        ctl->interactive = true;
        shell_ctl = ctl;

        rl_readline_name = "xvsh";
        rl_attempted_completion_function = shell_complete;
        using_history();
        stifle_history(SHELL_HISTORY_MAX);
        if (hist)
                (void) read_history(hist);

        if (!ctl->quiet)
                printf("Welcome to xvsh, the xenvirt interactive terminal.\n\n"
                       "Type:  'help' for help with commands\n"
                       "       'quit' to quit\n\n");
        /* Connect now, as virsh does, so that a wrong URI shows before the first prompt and
         * domain names complete from the start. A failure is not fatal: commands retry. */
        (void) ctl_conn(ctl);

        for (;;) {
                char *line = readline(prompt);

                if (!line) {
                        if (isatty(STDIN_FILENO))
                                putchar('\n');
                        break;
                }
                if (!isempty(line) && strspn(line, " \t") < strlen(line)) {
                        add_history(line);
                        if (line_quits(line)) {
                                free(line);
                                break;
                        }
                        /* As in virsh, a failed command does not change the shell's exit status. */
                        (void) xvsh_run_line(ctl, line);
                }
                free(line);
        }

        if (hist) {
                if (write_history(hist) == 0)
                        (void) history_truncate_file(hist, SHELL_HISTORY_MAX);
        }
        completion.words = strv_free(completion.words);
        return 0;
}
