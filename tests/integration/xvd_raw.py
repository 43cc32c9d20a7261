# SPDX-License-Identifier: LGPL-2.1-or-later
"""A raw client of the libvirt remote protocol for xenvirtd's robustness tests (stdlib only).

Frames are: a 4-byte big-endian length that counts itself, six header words (program, version,
procedure, type, serial, status) and an XDR payload.
"""

import socket
import struct
import time

PROGRAM = 0x20008086
KEEPALIVE = 0x6b656570
CALL, REPLY, MESSAGE = 0, 1, 2
OK, ERROR = 0, 1

AUTH_LIST = 66
CONNECT_OPEN = 1
CONNECT_CLOSE = 2
GET_TYPE = 3
GET_VERSION = 4
GET_HOSTNAME = 59
SUPPORTS_FEATURE = 60
DEFINE_XML = 11
EVENT_CALLBACK_REGISTER_ANY = 316
EVENT_CALLBACK_DEREGISTER_ANY = 317
EVENT_CALLBACK_LIFECYCLE = 318


def xdr_string(s):
    b = s.encode()
    return struct.pack('>I', len(b)) + b + b'\0' * ((4 - len(b) % 4) % 4)


def frame(proc, serial, payload=b'', prog=PROGRAM, vers=1, mtype=CALL, status=OK):
    return struct.pack('>IIIiIII', 28 + len(payload), prog, vers, proc, mtype, serial, status) + payload


class Conn:
    def __init__(self, path, timeout=10.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.serial = 0
        self.messages = []      # server-sent MESSAGE frames received while waiting for replies

    def close(self):
        self.s.close()

    def send_raw(self, data):
        self.s.sendall(data)

    def recv_exact(self, n):
        buf = b''
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError('connection closed after %d of %d bytes' % (len(buf), n))
            buf += chunk
        return buf

    def recv_frame(self):
        """Returns (prog, vers, proc, type, serial, status, payload)."""
        (length,) = struct.unpack('>I', self.recv_exact(4))
        if length < 28:
            raise ValueError('bad length %d' % length)
        rest = self.recv_exact(length - 4)
        return struct.unpack('>IIiIII', rest[:24]) + (rest[24:],)

    def recv_reply(self):
        """The next REPLY; MESSAGE frames on the way are kept in self.messages (PINGs answered)."""
        while True:
            f = self.recv_frame()
            if f[3] == MESSAGE:
                if f[0] == KEEPALIVE and f[2] == 1:
                    self.send_raw(frame(2, 0, prog=KEEPALIVE, mtype=MESSAGE))
                    continue
                self.messages.append(f)
                continue
            return f

    def call(self, proc, payload=b'', serial=None):
        if serial is None:
            serial = self.serial
            self.serial += 1
        self.send_raw(frame(proc, serial, payload))
        return self.recv_reply()

    def handshake(self, read_only=False, uri='xen:///system'):
        r = self.call(AUTH_LIST)
        assert r[5] == OK, 'AUTH_LIST failed: %r' % (error_of(r),)
        r = self.call(CONNECT_OPEN, struct.pack('>I', 1) + xdr_string(uri) + struct.pack('>I', 1 if read_only else 0))
        assert r[5] == OK, 'CONNECT_OPEN failed: %r' % (error_of(r),)

    def get_type(self):
        r = self.call(GET_TYPE)
        assert r[5] == OK, 'GET_TYPE failed: %r' % (error_of(r),)
        return decode_string(r[6], 0)[0]


def decode_string(buf, off):
    (n,) = struct.unpack_from('>I', buf, off)
    off += 4
    s = buf[off:off + n].decode()
    off += n + ((4 - n % 4) % 4)
    return s, off


def error_of(f):
    """(code, domain, message) of an error reply, or None."""
    if f[5] != ERROR:
        return None
    buf = f[6]
    code, domain, present = struct.unpack_from('>iiI', buf, 0)
    msg = None
    if present:
        msg, _ = decode_string(buf, 12)
    return code, domain, msg


def wait_closed(conn, timeout=10.0):
    """True when the server closes the connection within timeout (replies may come first)."""
    conn.s.settimeout(timeout)
    end = time.time() + timeout
    try:
        while time.time() < end:
            if not conn.s.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


# A call that waits on XenD (CONNECT_LIST_ALL_DOMAINS with the INACTIVE flag reads the defined
# domains from XenD): with "xensim-ctl ... xend delay MS" it occupies a worker for MS.
LIST_ALL_DOMAINS = 273


def slow_frame(serial):
    return frame(LIST_ALL_DOMAINS, serial, struct.pack('>iI', 1, 3))


def slow_call_works(path, delay_s):
    """True when the slow call succeeds and really took the XenD delay (its handler exists)."""
    c = Conn(path)
    c.handshake()
    t = time.time()
    c.send_raw(slow_frame(1))
    r = c.recv_reply()
    c.close()
    return r[5] == OK and time.time() - t >= delay_s * 0.9


# ---- Hostile-client helpers (t0600, t0601, t0610) ---------------------------------------------

import os
import random
import threading

DOMAIN_GET_INFO = 16
DOMAIN_LOOKUP_BY_NAME = 23
DOMAIN_CREATE_XML = 10
DOMAIN_GET_XML_DESC = 14
DOMAIN_UNDEFINE = 35


def xdr_uint(n):
    return struct.pack('>I', n)


def xdr_int(n):
    return struct.pack('>i', n)


def xdr_opaque(b):
    return struct.pack('>I', len(b)) + b + b'\0' * ((4 - len(b) % 4) % 4)


def xdr_domain(name, uuid, dom_id):
    """An xvp_nonnull_domain: name, 16 uuid bytes, id."""
    return xdr_string(name) + uuid + xdr_int(dom_id)


def decode_domain(buf, off=0):
    """(name, uuid bytes, id, next offset) of an xvp_nonnull_domain."""
    name, off = decode_string(buf, off)
    uuid = buf[off:off + 16]
    (dom_id,) = struct.unpack_from('>i', buf, off + 16)
    return name, uuid, dom_id, off + 20


def proc_status(pid):
    """/proc/PID/status as {field: first word}; VmRSS and VmHWM are in kB."""
    out = {}
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            k, _, v = line.partition(':')
            out[k] = v.split()[0] if v.split() else ''
    return out


def rss_kib(pid):
    return int(proc_status(pid)['VmRSS'])


def fd_count(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def wait_fd_count(pid, want, timeout=20.0):
    """Waits until the daemon holds at most @want fds; returns the last count."""
    end = time.time() + timeout
    n = fd_count(pid)
    while n > want and time.time() < end:
        time.sleep(0.1)
        n = fd_count(pid)
    return n


def procedures(xfile):
    """The procedures of the .x as gen-dispatch.py parses them: {number: Procedure}."""
    import importlib.util
    gen = os.path.join(os.path.dirname(os.path.abspath(xfile)), 'gen-dispatch.py')
    spec = importlib.util.spec_from_file_location('gen_dispatch', gen)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    procs, errors = mod.parse(xfile)
    assert not errors, errors
    return dict((p.number, p) for p in procs)


class GoodClient(threading.Thread):
    """A well-behaved client in the background: DOMAIN_LOOKUP_BY_NAME and DOMAIN_GET_INFO of
    @name in a loop, every reply checked (serial, status, the name echoed). stop() returns the
    number of rounds and raises if any reply was wrong or missing."""

    def __init__(self, path, name='Domain-0', read_only=False, timeout=20.0):
        super().__init__(daemon=True)
        self.conn = Conn(path, timeout)
        self.conn.handshake(read_only=read_only)
        self.name = name
        self.rounds = 0
        self.error = None
        self.halt = threading.Event()
        self.start()

    def run(self):
        c = self.conn
        try:
            while not self.halt.is_set():
                serial = c.serial
                r = c.call(DOMAIN_LOOKUP_BY_NAME, xdr_string(self.name))
                assert r[4] == serial and r[2] == DOMAIN_LOOKUP_BY_NAME, 'reply out of order: %r' % (r[:6],)
                assert r[5] == OK, 'lookup of %s failed: %r' % (self.name, error_of(r))
                name, uuid, dom_id, _ = decode_domain(r[6])
                assert name == self.name, 'lookup answered %r' % name
                r = c.call(DOMAIN_GET_INFO, xdr_domain(name, uuid, dom_id))
                assert r[2] == DOMAIN_GET_INFO and r[5] == OK, 'getinfo failed: %r' % (error_of(r),)
                self.rounds += 1
        except Exception as e:      # reported by stop()
            self.error = e

    def progress(self, timeout=10.0):
        """Waits until at least one more round completed (the client is served right now)."""
        start = self.rounds
        end = time.time() + timeout
        while self.rounds == start and time.time() < end and self.error is None and self.is_alive():
            time.sleep(0.01)
        if self.error is not None:
            raise AssertionError('the good client failed: %r' % (self.error,))
        assert self.rounds > start, 'the good client made no progress for %.0f s' % timeout

    def stop(self):
        self.halt.set()
        self.join(30)
        assert not self.is_alive(), 'the good client hangs'
        if self.error is not None:
            raise AssertionError('the good client failed: %r' % (self.error,))
        assert self.rounds > 0, 'the good client never completed a round'
        self.conn.close()
        return self.rounds


def random_bytes(rng, n):
    return rng.randbytes(n)
