#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reads protocol/xenvirt_protocol.x and emits the dispatch table of xenvirtd.

The procedure enum (xvp_procedure) carries one doc comment per procedure with the annotations
@acl, @readonly, @blocking and optionally @message and @aclflag. "@aclflag: <FLAG_CONSTANT>
<action>" says that a call whose args->flags has that bit also needs <action> (the args struct
must have a 'flags' member, the constant must be a 'const' of the .x, and the action has the
form of @acl); the row carries the mask, the action and a typed accessor for flags. The argument and reply types are found by
naming convention: xvp_<name>_args and xvp_<name>_ret for calls (void when absent), and
xvp_<name>_msg for server-sent messages, where <name> is the procedure name in lower case.

Modes (exactly one):
  --header          xvd-dispatch-table.h: row type, flags, one handler prototype per call
  --source          xvd-dispatch-table.c: typed thunks and the table
  --stubs           handlers that all answer XVP_ERR_NO_SUPPORT (compile check, fuzzer)
  --policy-actions  the set of @acl and @aclflag actions, one per line (polkit policy cross-check)
  --readonly-list   "<number> <name>" of every procedure allowed on the read-only socket

Anything inconsistent (missing annotation, @acl none without @readonly yes, a message without
its _msg struct, a struct that belongs to no procedure, duplicate or descending numbers) is an
error: the script prints every problem found and exits 1, and writes nothing.

Python 3 standard library only; the output goes to the build tree.
"""

import argparse
import os
import re
import sys

ACL_RE = re.compile(r'^org\.xenvirt\.api\.[a-z]+(?:-[a-z]+)*\.[a-z]+(?:-[a-z]+)*$')
KNOWN_KEYS = ('acl', 'readonly', 'blocking', 'message', 'aclflag')
REQUIRED_KEYS = ('acl', 'readonly', 'blocking')


class Procedure:
    def __init__(self, const, number, line):
        self.const = const                      # XVP_PROC_DOMAIN_SUSPEND
        self.number = number
        self.line = line
        self.lower = const[len('XVP_PROC_'):].lower()   # domain_suspend
        self.name = self.lower.replace('_', '-')          # domain-suspend
        self.annotations = {}
        self.args = None                        # C type name or None for void
        self.ret = None
        self.msg = None
        self.args_dom = False                   # the args struct starts with 'xvp_nonnull_domain dom'
        self.ret_dom = False
        self.aclflag = None                     # (FLAG_CONSTANT, action) from @aclflag

    @property
    def api_name(self):
        """libvirt's name of the API behind the procedure: DOMAIN_GET_XML_DESC -> virDomainGetXMLDesc."""
        acronyms = {'xml': 'XML', 'uuid': 'UUID', 'id': 'ID', 'cpu': 'CPU', 'nmi': 'NMI', 'os': 'OS', 'uri': 'URI'}
        return 'vir' + ''.join(acronyms.get(w, w.capitalize()) for w in self.lower.split('_'))

    @property
    def acl(self):
        return self.annotations['acl']

    @property
    def readonly(self):
        return self.annotations['readonly'] == 'yes'

    @property
    def blocking(self):
        return self.annotations['blocking'] == 'yes'

    @property
    def message(self):
        return self.annotations.get('message', 'no') == 'yes'


def line_of(text, pos):
    return text.count('\n', 0, pos) + 1


def parse(path):
    with open(path, encoding='utf-8') as f:
        text = f.read()

    errors = []

    m = re.search(r'\benum\s+xvp_procedure\s*\{(.*?)\}\s*;', text, re.S)
    if not m:
        return None, ['%s: no "enum xvp_procedure" found' % path]
    body, body_start = m.group(1), m.start(1)

    procs = []
    pending = None          # (doc comment text, line) not yet attached to an entry
    token_re = re.compile(r'(/\*\*.*?\*/)|(/\*.*?\*/)|\b(XVP_PROC_\w+)\s*=\s*(0x[0-9a-fA-F]+|\d+)\s*,?'
                          r'|(\S)', re.S)
    for t in token_re.finditer(body):
        line = line_of(text, body_start + t.start())
        if t.group(1):
            if pending:
                errors.append('%s:%d: doc comment not followed by a procedure' % (path, pending[1]))
            pending = (t.group(1), line)
        elif t.group(2):
            continue        # ordinary comment, e.g. a removed procedure kept with its number
        elif t.group(3):
            p = Procedure(t.group(3), int(t.group(4), 0), line)
            if not pending:
                errors.append('%s:%d: %s has no annotations' % (path, line, p.const))
            else:
                for am in re.finditer(r'@(\w+)\s*:[ \t]*([^\n]*)', pending[0]):
                    key, value = am.group(1), am.group(2).strip()
                    if value.endswith('*/'):
                        value = value[:-2].rstrip()
                    if key not in KNOWN_KEYS:
                        errors.append('%s:%d: %s: unknown annotation @%s' % (path, line, p.const, key))
                    elif key in p.annotations:
                        errors.append('%s:%d: %s: @%s given twice' % (path, line, p.const, key))
                    else:
                        p.annotations[key] = value
            pending = None
            procs.append(p)
        else:
            errors.append('%s:%d: unexpected text in enum xvp_procedure: %r' % (path, line, t.group(5)))
    if pending:
        errors.append('%s:%d: doc comment not followed by a procedure' % (path, pending[1]))

    # Struct names, comments removed so that a commented-out struct does not count.
    code = re.sub(r'/\*.*?\*/', lambda c: '\n' * c.group(0).count('\n'), text, flags=re.S)
    structs = {}
    dom_first = set()       # structs whose first member is the domain handle (audit logging)
    for sm in re.finditer(r'^\s*struct\s+(xvp_\w+)\s*\{(\s*xvp_nonnull_domain\s+dom\s*;)?', code, re.M):
        structs[sm.group(1)] = line_of(code, sm.start(1))
        if sm.group(2):
            dom_first.add(sm.group(1))

    consts = set(cm.group(1) for cm in re.finditer(r'^\s*const\s+(\w+)\s*=', code, re.M))
    has_flags = set(sm.group(1) for sm in re.finditer(r'^\s*struct\s+(xvp_\w+)\s*\{([^}]*)\}', code, re.M)
                    if re.search(r'\bunsigned\s+int\s+flags\s*;', sm.group(2)))

    seen_numbers, seen_names, last = {}, {}, 0
    for p in procs:
        where = '%s:%d: %s' % (path, p.line, p.const)
        if p.number <= 0:
            errors.append('%s: procedure numbers start at 1' % where)
        if p.number in seen_numbers:
            errors.append('%s: number %d already used by %s' % (where, p.number, seen_numbers[p.number]))
        elif p.number < last:
            errors.append('%s: number %d out of order (numbers are append-only, keep them ascending)'
                          % (where, p.number))
        seen_numbers.setdefault(p.number, p.const)
        last = max(last, p.number)
        if p.const in seen_names:
            errors.append('%s: defined twice' % where)
        seen_names[p.const] = p

        for key in REQUIRED_KEYS:
            if key not in p.annotations:
                errors.append('%s: missing @%s' % (where, key))
        for key in ('acl', 'readonly', 'blocking', 'message'):
            if key in p.annotations and len(p.annotations[key].split()) != 1:
                errors.append('%s: @%s takes one word, not %r' % (where, key, p.annotations[key]))
        for key in ('readonly', 'blocking', 'message'):
            if key in p.annotations and p.annotations[key] not in ('yes', 'no'):
                errors.append('%s: @%s must be yes or no, not %r' % (where, key, p.annotations[key]))
        acl = p.annotations.get('acl')
        if acl is not None:
            if acl == 'none':
                if p.annotations.get('readonly') != 'yes':
                    errors.append('%s: @acl: none is only allowed with @readonly: yes' % where)
            elif not ACL_RE.match(acl):
                errors.append('%s: @acl %r is not org.xenvirt.api.<object>.<permission>' % (where, acl))

        base = 'xvp_' + p.lower
        if p.annotations.get('message') == 'yes':
            if base + '_msg' not in structs:
                errors.append('%s: a server-sent message needs struct %s_msg' % (where, base))
            for suffix in ('_args', '_ret'):
                if base + suffix in structs:
                    errors.append('%s: a server-sent message has no struct %s%s' % (where, base, suffix))
            if acl not in (None, 'none'):
                errors.append('%s: a server-sent message is never authorized: use @acl: none' % where)
            if p.annotations.get('blocking') == 'yes':
                errors.append('%s: a server-sent message cannot be @blocking: yes' % where)
            p.msg = base + '_msg' if base + '_msg' in structs else None
        else:
            if base + '_msg' in structs:
                errors.append('%s: struct %s_msg belongs to a message: add @message: yes' % (where, base))
            p.args = base + '_args' if base + '_args' in structs else None
            p.ret = base + '_ret' if base + '_ret' in structs else None
            p.args_dom = p.args in dom_first
            p.ret_dom = p.ret in dom_first

        aclflag = p.annotations.get('aclflag')
        if aclflag is not None:
            words = aclflag.split()
            if len(words) != 2:
                errors.append('%s: @aclflag must be "<FLAG_CONSTANT> <action>", not %r' % (where, aclflag))
            else:
                flag, action = words
                bad = False
                if flag not in consts:
                    errors.append('%s: @aclflag: %s is not a const of the .x' % (where, flag))
                    bad = True
                if not ACL_RE.match(action):
                    errors.append('%s: @aclflag action %r is not org.xenvirt.api.<object>.<permission>'
                                  % (where, action))
                    bad = True
                if p.annotations.get('message') == 'yes':
                    errors.append('%s: a server-sent message cannot have @aclflag' % where)
                    bad = True
                elif not p.args or p.args not in has_flags:
                    errors.append('%s: @aclflag needs an args struct with an "unsigned int flags" member' % where)
                    bad = True
                if not bad:
                    p.aclflag = (flag, action)

    # A struct named like a procedure's args/ret/msg that matches no procedure is a typo of one.
    owners = set('xvp_' + p.lower for p in procs)
    for name, line in sorted(structs.items(), key=lambda kv: kv[1]):
        sm = re.match(r'^(xvp_\w+?)_(args|ret|msg)$', name)
        if sm and sm.group(1) not in owners:
            errors.append('%s:%d: struct %s belongs to no procedure (is the name misspelt?)'
                          % (path, line, name))

    if not procs:
        errors.append('%s: enum xvp_procedure is empty' % path)
    return procs, errors


def c_string(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def handler_signature(p):
    args = 'const %s *args' % p.args if p.args else 'const void *args'
    ret = '%s *ret' % p.ret if p.ret else 'void *ret'
    return 'int proc_%s(Manager *m, Client *c, %s, %s, XvError *error)' % (p.lower, args, ret)


HEADER_NOTE = '/* Generated by protocol/gen-dispatch.py from xenvirt_protocol.x: do not edit. */\n'


def emit_header(procs, source_name):
    calls = [p for p in procs if not p.message]
    out = [HEADER_NOTE, '#pragma once\n\n',
           '#include <stddef.h>\n#include <rpc/rpc.h>\n\n',
           '#include "xenvirt_protocol.h"\n#include "xv-error.h"\n\n',
           '/* Defined by the daemon; the handlers receive them opaque. */\n',
           'typedef struct Manager Manager;\ntypedef struct Client Client;\n\n',
           'typedef enum ProcFlags {\n',
           '        PROC_READONLY_OK = 1 << 0,      /* @readonly: yes, allowed on the read-only socket */\n',
           '        PROC_BLOCKING    = 1 << 1,      /* @blocking: yes, runs on a worker */\n',
           '        PROC_MESSAGE     = 1 << 2,      /* server-sent MESSAGE; a client never calls it */\n',
           '} ProcFlags;\n\n',
           '/* Where the domain a call acts on is found, for the audit log: the first member of the\n',
           ' * args or ret struct when it is the xvp_nonnull_domain dom handle. */\n',
           'typedef enum ProcDomain {\n',
           '        PROC_DOMAIN_NONE = 0,\n',
           '        PROC_DOMAIN_ARGS = 1,\n',
           '        PROC_DOMAIN_RET  = 2,\n',
           '} ProcDomain;\n\n',
           '/* The uniform handler type; each row points at a typed thunk that calls proc_<name>(). */\n',
           'typedef int (*ProcHandler)(Manager *m, Client *c, const void *args, void *ret, XvError *error);\n\n',
           'typedef struct ProcRow {\n',
           '        int number;                     /* 0 in the unused slots of dispatch_table[] */\n',
           '        const char *name;               /* "domain-suspend" */\n',
           '        const char *api_name;           /* libvirt\'s API: "virDomainSuspend" (for messages) */\n',
           '        ProcHandler handler;            /* NULL for PROC_MESSAGE */\n',
           '        xdrproc_t args_filter;          /* the message struct for PROC_MESSAGE */\n',
           '        size_t args_size;\n',
           '        xdrproc_t ret_filter;\n',
           '        size_t ret_size;\n',
           '        const char *polkit_action;      /* NULL for @acl: none */\n',
           '        unsigned flags;                 /* ProcFlags */\n',
           '        ProcDomain domain;              /* where the domain handle is, if anywhere */\n',
           '        /* @aclflag: when args_flags(args) & aclflag_mask, the call also needs aclflag_action. */\n',
           '        unsigned aclflag_mask;\n',
           '        const char *aclflag_name;       /* the flag constant, for messages */\n',
           '        const char *aclflag_action;\n',
           '        unsigned (*args_flags)(const void *args);\n',
           '} ProcRow;\n\n',
           '#define DISPATCH_TABLE_SIZE %d\n' % (max(p.number for p in procs) + 1),
           '#define DISPATCH_PROC_COUNT %d\n\n' % len(procs),
           '/* Indexed by procedure number; slots without a procedure are all zero. */\n',
           'extern const ProcRow dispatch_table[DISPATCH_TABLE_SIZE];\n\n',
           '/* The row of a procedure number, or NULL when there is none (any number, even negative). */\n',
           'const ProcRow *dispatch_table_lookup(int proc);\n\n',
           '/* Handlers, hand-written in daemon/xvd-proc-*.c: one per procedure a client can call. */\n']
    for p in calls:
        out.append(handler_signature(p) + ';\n')
    return ''.join(out)


def emit_source(procs, header_name):
    out = [HEADER_NOTE, '#include "%s"\n\n' % header_name,
           '/* libtirpc declares xdr_void() without parameters, which cannot be cast to xdrproc_t\n'
           ' * without -Wcast-function-type complaining: an empty payload gets its own filter. */\n',
           'static bool_t filter_void(XDR *xdrs, void *data) {\n        return TRUE;\n}\n\n']
    for p in procs:
        if p.message:
            continue
        out.append('static int thunk_%s(Manager *m, Client *c, const void *args, void *ret, XvError *error) {\n'
                   '        return proc_%s(m, c, args, ret, error);\n}\n\n' % (p.lower, p.lower))
        if p.aclflag:
            out.append('static unsigned args_flags_%s(const void *args) {\n'
                       '        return ((const %s *) args)->flags;\n}\n\n' % (p.lower, p.args))

    out.append('const ProcRow dispatch_table[DISPATCH_TABLE_SIZE] = {\n')
    for p in procs:
        if p.message:
            args, ret = p.msg, None
        else:
            args, ret = p.args, p.ret
        flags = []
        if p.readonly:
            flags.append('PROC_READONLY_OK')
        if p.blocking:
            flags.append('PROC_BLOCKING')
        if p.message:
            flags.append('PROC_MESSAGE')
        out.append('        [%s] = {\n' % p.const)
        out.append('                .number        = %s,\n' % p.const)
        out.append('                .name          = %s,\n' % c_string(p.name))
        out.append('                .api_name      = %s,\n' % c_string(p.api_name))
        out.append('                .handler       = %s,\n' % ('NULL' if p.message else 'thunk_' + p.lower))
        out.append('                .args_filter   = (xdrproc_t) %s,\n' % ('xdr_' + args if args else 'filter_void'))
        out.append('                .args_size     = %s,\n' % ('sizeof(%s)' % args if args else '0'))
        out.append('                .ret_filter    = (xdrproc_t) %s,\n' % ('xdr_' + ret if ret else 'filter_void'))
        out.append('                .ret_size      = %s,\n' % ('sizeof(%s)' % ret if ret else '0'))
        out.append('                .polkit_action = %s,\n' % ('NULL' if p.acl == 'none' else c_string(p.acl)))
        out.append('                .flags         = %s,\n' % (' | '.join(flags) if flags else '0'))
        if p.args_dom or p.ret_dom:
            out.append('                .domain        = %s,\n'
                       % ('PROC_DOMAIN_ARGS' if p.args_dom else 'PROC_DOMAIN_RET'))
        if p.aclflag:
            out.append('                .aclflag_mask  = %s,\n' % p.aclflag[0])
            out.append('                .aclflag_name  = %s,\n' % c_string(p.aclflag[0]))
            out.append('                .aclflag_action = %s,\n' % c_string(p.aclflag[1]))
            out.append('                .args_flags    = args_flags_%s,\n' % p.lower)
        out.append('        },\n')
    out.append('};\n\n')
    out.append('const ProcRow *dispatch_table_lookup(int proc) {\n'
               '        if (proc <= 0 || proc >= DISPATCH_TABLE_SIZE || !dispatch_table[proc].name)\n'
               '                return NULL;\n'
               '        return &dispatch_table[proc];\n}\n')
    return ''.join(out)


def emit_stubs(procs, header_name):
    out = [HEADER_NOTE,
           '/* Every handler answers XVP_ERR_NO_SUPPORT, the code that makes the clients fall back.\n'
           ' * The stubs are weak: xenvirtd links them together with the hand-written handlers of\n'
           ' * daemon/xvd-proc-*.c, whose strong definitions win, so every procedure nobody has\n'
           ' * implemented answers code 3. The tests link them alone. */\n',
           '#include "%s"\n\n' % header_name]
    for p in procs:
        if p.message:
            continue
        out.append('__attribute__((weak)) %s {\n'
                   '        return xv_error_setf(error, XVP_ERR_NO_SUPPORT, "%%s", %s);\n}\n\n'
                   % (handler_signature(p), c_string(p.name)))
    return ''.join(out)


def write_output(text, output):
    if not output:
        sys.stdout.write(text)
        return
    tmp = output + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(text)
    os.replace(tmp, output)


def main():
    ap = argparse.ArgumentParser(description='Generate the xenvirtd dispatch table from the .x file.')
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument('--header', action='store_true')
    mode.add_argument('--source', action='store_true')
    mode.add_argument('--stubs', action='store_true')
    mode.add_argument('--policy-actions', action='store_true')
    mode.add_argument('--readonly-list', action='store_true')
    ap.add_argument('--header-name', default='xvd-dispatch-table.h',
                    help='the header the .c outputs include')
    ap.add_argument('-o', '--output', help='write here (atomically) instead of stdout')
    ap.add_argument('protocol', help='path to xenvirt_protocol.x')
    opts = ap.parse_args()

    try:
        procs, errors = parse(opts.protocol)
    except OSError as e:
        print('gen-dispatch: %s' % e, file=sys.stderr)
        return 1
    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        print('gen-dispatch: %d error(s), nothing generated' % len(errors), file=sys.stderr)
        return 1

    if opts.header:
        text = emit_header(procs, opts.header_name)
    elif opts.source:
        text = emit_source(procs, opts.header_name)
    elif opts.stubs:
        text = emit_stubs(procs, opts.header_name)
    elif opts.policy_actions:
        actions = set(p.acl for p in procs if p.acl != 'none')
        actions |= set(p.aclflag[1] for p in procs if p.aclflag)
        text = ''.join(a + '\n' for a in sorted(actions))
    else:
        text = ''.join('%d %s\n' % (p.number, p.name) for p in procs if p.readonly and not p.message)
    write_output(text, opts.output)
    return 0


if __name__ == '__main__':
    sys.exit(main())
