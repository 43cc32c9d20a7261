#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A scripted stand-in for xenvirtd, for what the real daemon in the sandbox cannot show the
client library (stdlib only): a daemon that asks for polkit authentication and refuses or grants
it, one that sends a frame whose length word breaks the protocol limit, and one that answers a
call with a reply for another serial first.

Usage: fake-daemon.py DIR   -- listens on DIR/polkit-deny, DIR/polkit-ok, DIR/oversize and
DIR/wrong-serial, writes DIR/ready when listening, and serves until killed.
"""

import os
import socket
import struct
import sys
import threading

PROGRAM = 0x20008086
CALL, REPLY, MESSAGE = 0, 1, 2
OK, ERROR = 0, 1

AUTH_LIST = 66
AUTH_POLKIT = 70
CONNECT_OPEN = 1
CONNECT_CLOSE = 2
GET_HOSTNAME = 59
SUPPORTS_FEATURE = 60

MESSAGE_MAX = 33554432


def xdr_string(s):
    b = s.encode()
    return struct.pack('>I', len(b)) + b + b'\0' * ((4 - len(b) % 4) % 4)


def xdr_error(code, domain, message):
    return (struct.pack('>ii', code, domain) + struct.pack('>I', 1) + xdr_string(message) +
            struct.pack('>i', 2) + struct.pack('>IIII', 0, 0, 0, 0) + struct.pack('>ii', -1, -1) +
            struct.pack('>I', 0))


def reply(hdr, payload=b'', status=OK, serial=None):
    prog, vers, proc, _, ser, _ = hdr
    return struct.pack('>IIIiIII', 28 + len(payload), prog, vers, proc, REPLY,
                       ser if serial is None else serial, status) + payload


def recv_exact(s, n):
    buf = b''
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def serve(conn, mode):
    try:
        serve_one(conn, mode)
    except OSError:
        pass            # the client gave up on us: that is what some cases test


def serve_one(conn, mode):
    with conn:
        while True:
            word = recv_exact(conn, 4)
            if word is None:
                return
            (length,) = struct.unpack('>I', word)
            rest = recv_exact(conn, length - 4)
            if rest is None:
                return
            hdr = struct.unpack('>IIiIII', rest[:24])
            proc = hdr[2]
            if proc == AUTH_LIST:
                polkit = mode.startswith('polkit')
                conn.sendall(reply(hdr, struct.pack('>Ii', 1, 2) if polkit else struct.pack('>I', 0)))
            elif proc == AUTH_POLKIT:
                if mode == 'polkit-deny':
                    conn.sendall(reply(hdr, xdr_error(45, 60, 'authentication failed: access denied by policy'),
                                       status=ERROR))
                    return      # libvirtd keeps the socket; the client closes it
                conn.sendall(reply(hdr, struct.pack('>i', 1)))
            elif proc == SUPPORTS_FEATURE:
                conn.sendall(reply(hdr, struct.pack('>i', 0)))
            elif proc == CONNECT_OPEN:
                conn.sendall(reply(hdr))
            elif proc == CONNECT_CLOSE:
                conn.sendall(reply(hdr))
                return
            elif proc == GET_HOSTNAME:
                if mode == 'oversize':
                    # One byte beyond the largest frame: the client must give up without allocating.
                    conn.sendall(struct.pack('>I', MESSAGE_MAX + 4 + 1) + b'\0' * 24)
                    continue
                if mode == 'wrong-serial':
                    # First a reply nobody waits for, then the real one.
                    conn.sendall(reply(hdr, xdr_string('not-yours'), serial=hdr[4] + 1000))
                conn.sendall(reply(hdr, xdr_string('fake-' + mode)))
            else:
                conn.sendall(reply(hdr, xdr_error(3, 7, 'this function is not supported by the connection driver'),
                                   status=ERROR))


def listen(path, mode):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)

    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=serve, args=(c, mode), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def main():
    d = sys.argv[1]
    for mode in ('polkit-deny', 'polkit-ok', 'oversize', 'wrong-serial'):
        p = os.path.join(d, mode)
        if os.path.exists(p):
            os.unlink(p)
        listen(p, mode)
    with open(os.path.join(d, 'ready'), 'w') as f:
        f.write('%d\n' % os.getpid())
    threading.Event().wait()


if __name__ == '__main__':
    main()
