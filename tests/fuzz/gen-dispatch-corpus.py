#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpus of fuzz-dispatch: for every procedure of protocol/xenvirt_protocol.x,
one input that opens the connection and then calls it with well-formed arguments (built from
the .x: one element per array, every optional present, the first arm of a union, a small domain
XML for XML strings), in each of the fuzzer's configurations that matter (plain read-write,
read-only socket, polkit auth, polkit ACLs). Deterministic: same .x, same files.

Usage: gen-dispatch-corpus.py PROTOCOL.x OUTDIR
The output is committed in tests/fuzz/corpus/fuzz-dispatch/ (seed-*); rerun after changing the .x.
"""

import importlib.util
import os
import re
import struct
import sys

PROGRAM = 0x20008086
CALL = 0
CONNECT_OPEN = 1
AUTH_LIST = 66

# Mode byte of fuzz-dispatch (see the comment at the top of tests/fuzz/fuzz-dispatch.c).
MODES = {
    'rw': 0x00,          # no auth, no ACLs, rw socket, uid 65534
    'ro': 0x04,          # read-only socket
    'auth': 0x01,        # auth_unix_* = polkit: unauthenticated
    'acl': 0x02,         # access_drivers = polkit
    'root': 0x08,        # uid 0 on the rw socket
}

DOMAIN_XML = ("<domain type='xen'><name>fuzz</name><uuid>11111111-2222-3333-4444-555555555555</uuid>"
              "<memory>131072</memory><vcpu>1</vcpu><os><type>linux</type><kernel>/boot/vmlinuz</kernel>"
              "</os><devices><disk type='file' device='disk'><source file='/var/lib/xen/images/fuzz.img'/>"
              "<target dev='xvda'/></disk><interface type='bridge'><source bridge='xenbr0'/></interface>"
              "</devices></domain>")


def load_gen_dispatch(top):
    spec = importlib.util.spec_from_file_location('gen_dispatch', os.path.join(top, 'protocol', 'gen-dispatch.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Types:
    """The typedefs, structs and unions of the .x, enough to build one value of each."""

    def __init__(self, text):
        code = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
        code = re.sub(r'%[^\n]*', '', code)
        self.consts = {}
        for m in re.finditer(r'\bconst\s+(\w+)\s*=\s*(-?\w+)\s*;', code):
            self.consts[m.group(1)] = m.group(2)
        self.structs = {}
        for m in re.finditer(r'\bstruct\s+(\w+)\s*\{(.*?)\}\s*;', code, re.S):
            self.structs[m.group(1)] = [d.strip() for d in m.group(2).split(';') if d.strip()]
        self.typedefs = {}
        for m in re.finditer(r'\btypedef\s+([^;]*?)\s*;', code, re.S):
            self.typedefs[self.decl_name(m.group(1))] = m.group(1)
        self.unions = {}
        for m in re.finditer(r'\bunion\s+(\w+)\s+switch\s*\(([^)]*)\)\s*\{(.*?)\}\s*;', code, re.S):
            arm = re.search(r'case\s+(\w+)\s*:\s*([^;]+);', m.group(3))
            self.unions[m.group(1)] = (arm.group(1), arm.group(2).strip())
        self.enums = set(m.group(1) for m in re.finditer(r'\benum\s+(\w+)\s*\{', code))

    @staticmethod
    def decl_name(decl):
        return re.match(r'.*?(\w+)\s*(?:<[^>]*>|\[[^\]]*\])?\s*$', decl, re.S).group(1)

    def value(self, decl, depth=0):
        """XDR bytes of one sample value of declaration @decl ("type name<MAX>", ...)."""
        decl = ' '.join(decl.split())
        if depth > 12:
            raise ValueError('recursive type: ' + decl)
        m = re.match(r'^(.*?)\s*\*\s*(\w+)$', decl)
        if m:                                       # optional data: present
            return struct.pack('>I', 1) + self.value(m.group(1) + ' ' + m.group(2), depth + 1)
        m = re.match(r'^(.*\S)\s+(\w+)\s*(<[^>]*>|\[[^\]]*\])?$', decl)
        if not m:
            raise ValueError('cannot parse declaration %r' % decl)
        typ, name, dim = m.group(1), m.group(2), m.group(3)
        if typ == 'string':
            s = DOMAIN_XML if 'xml' in name.lower() else 'fuzz'
            b = s.encode()
            return struct.pack('>I', len(b)) + b + b'\0' * ((4 - len(b) % 4) % 4)
        if typ == 'opaque':
            if dim and dim.startswith('['):
                n = int(self.consts.get(dim[1:-1].strip(), dim[1:-1].strip()), 0)
                return bytes([0x11]) * n + b'\0' * ((4 - n % 4) % 4)
            return struct.pack('>I', 4) + b'fuzz'
        if dim and dim.startswith('<'):             # variable array: one element
            return struct.pack('>I', 1) + self.value(typ + ' ' + name, depth + 1)
        if dim and dim.startswith('['):
            n = int(self.consts.get(dim[1:-1].strip(), dim[1:-1].strip()), 0)
            return b''.join(self.value(typ + ' ' + name, depth + 1) for _ in range(n))
        return self.scalar(typ, name, depth)

    def scalar(self, typ, name, depth):
        if typ in ('int', 'unsigned int', 'unsigned', 'bool') or typ.startswith('enum ') or typ in self.enums:
            return struct.pack('>I', 0)
        if typ in ('hyper', 'unsigned hyper'):
            return struct.pack('>Q', 0)
        if typ == 'double':
            return struct.pack('>d', 0.0)
        if typ == 'float':
            return struct.pack('>f', 0.0)
        base = typ[len('struct '):] if typ.startswith('struct ') else typ
        if base in self.structs:
            return b''.join(self.value(d, depth + 1) for d in self.structs[base])
        if base in self.unions:
            disc, arm = self.unions[base]
            return struct.pack('>i', int(self.consts.get(disc, disc), 0) if disc in self.consts else 1) + \
                self.value(arm, depth + 1)
        if base in self.typedefs:
            td = self.typedefs[base]
            # typedef T name<MAX>; used as "name field": re-target the declaration to the field.
            return self.value(re.sub(r'\b%s\b' % base, name, td, count=1), depth + 1)
        raise ValueError('unknown type %r' % typ)


def frame(proc, serial, payload=b''):
    return struct.pack('>IIIiIII', 28 + len(payload), PROGRAM, 1, proc, CALL, serial, 0) + payload


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    xfile, outdir = sys.argv[1], sys.argv[2]
    top = os.path.dirname(os.path.dirname(os.path.abspath(xfile)))
    gd = load_gen_dispatch(top)
    procs, errors = gd.parse(xfile)
    if errors:
        sys.exit('\n'.join(errors))
    with open(xfile, encoding='utf-8') as f:
        types = Types(f.read())

    # Enum constants as union discriminants: resolve the typed-parameter type numbers.
    with open(xfile, encoding='utf-8') as f:
        text = f.read()
    for m in re.finditer(r'\b(XVP_\w+)\s*=\s*(\d+)\s*,?', text):
        types.consts.setdefault(m.group(1), m.group(2))

    os.makedirs(outdir, exist_ok=True)
    # CONNECT_OPEN {name: optional string = "xen:///", flags 0}.
    open_args = struct.pack('>II', 1, 7) + b'xen:///\0' + struct.pack('>I', 0)
    open_frame = frame(CONNECT_OPEN, 1, open_args)
    written = 0
    for p in procs:
        if p.message:
            continue
        payload = types.value('struct %s args' % p.args) if p.args else b''
        call = frame(p.number, 2, payload)
        modes = ['rw', 'ro', 'acl'] if p.number not in (CONNECT_OPEN, AUTH_LIST) else ['rw', 'auth']
        for mode in modes:
            data = bytes([MODES[mode]]) + (open_frame if p.number != CONNECT_OPEN else b'') + call
            with open(os.path.join(outdir, 'seed-%s-%s' % (p.name, mode)), 'wb') as f:
                f.write(data)
            written += 1
    # The connection-level paths: not open yet, authentication required, keepalive.
    num = dict((p.const, p.number) for p in procs)
    extra = {
        'seed-before-open-rw': bytes([MODES['rw']]) + frame(num['XVP_PROC_CONNECT_GET_TYPE'], 1),
        'seed-auth-required': bytes([MODES['auth']]) + frame(AUTH_LIST, 1) + open_frame + frame(num['XVP_PROC_CONNECT_GET_TYPE'], 3),
        'seed-auth-polkit': bytes([MODES['auth']]) + frame(AUTH_LIST, 1) + frame(num['XVP_PROC_AUTH_POLKIT'], 2) + open_frame,
        'seed-root-acl': bytes([MODES['root'] | MODES['acl']]) + open_frame + frame(num['XVP_PROC_CONNECT_GET_TYPE'], 2),
        'seed-keepalive': bytes([MODES['rw']]) + struct.pack('>IIIiIII', 28, 0x6b656570, 1, 1, 2, 0, 0),
        'seed-unknown-proc': bytes([MODES['rw']]) + open_frame + frame(499, 2) + frame(-1, 3),
    }
    for name, data in extra.items():
        with open(os.path.join(outdir, name), 'wb') as f:
            f.write(data)
        written += 1
    print('%d seeds in %s' % (written, outdir))


if __name__ == '__main__':
    main()
