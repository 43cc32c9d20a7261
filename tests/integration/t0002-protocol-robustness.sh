#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# xenvirtd against misbehaving peers, spoken to with a raw python client (tests/integration/
# xvd_raw.py): truncated, oversize and garbage frames, wrong program and version, unknown
# procedures, out-of-order serials, a client vanishing mid-call and a client that never reads.
# Every case opens a well-behaved client first and checks that it is still served afterwards,
# and that the daemon still accepts new connections.

. "$(dirname "$0")/lib.sh"

sandbox_up
SOCK=$sandbox_dir/xenvirtd-sock

# The cases with a call in flight need a procedure that waits on XenD; until its handler is
# linked (it answers NO_SUPPORT at once) they are skipped.
"$XENSIM_CTL" "$XENSIM_CONTROL" xend delay 500 >/dev/null 2>&1
if "$TEST_PYTHON" -c "import sys; sys.path.insert(0, \"$XV_TEST_SRCDIR/integration\")
from xvd_raw import slow_call_works
sys.exit(0 if slow_call_works(\"$SOCK\", 0.5) else 1)" >/dev/null 2>&1; then
        have_slow=yes
else
        have_slow=no
fi
"$XENSIM_CTL" "$XENSIM_CONTROL" xend delay 0 >/dev/null 2>&1

# raw: runs python on stdin with xvd_raw importable, the good client "good" already connected
# and open, and "check_good()" asserting that it and a fresh connection are served.
raw() {
        {
                cat <<-PYEOF
		import sys, os, socket, struct, time
		sys.path.insert(0, "$XV_TEST_SRCDIR/integration")
		from xvd_raw import *
		SOCK = "$SOCK"
		good = Conn(SOCK)
		good.handshake()
		def check_good():
		    assert good.get_type() == "Xen", "the good client is no longer served"
		    fresh = Conn(SOCK)
		    fresh.handshake()
		    assert fresh.get_type() == "Xen", "a new client is not served"
		    fresh.close()
		PYEOF
                cat
                echo 'check_good()'
                echo 'print("done")'
        } > "$TEST_DIR/case.py"
        "$TEST_PYTHON" "$TEST_DIR/case.py" && xenvirtd_alive
}

xenvirtd_alive() {
        kill -0 "$XENVIRTD_PID" || { echo "xenvirtd died"; tail -n 20 "$sandbox_dir/xenvirtd.log"; return 1; }
}

test_expect_success 'a truncated frame, then hang-up, costs only that connection' '
raw <<-\PY
	b = Conn(SOCK)
	b.handshake()
	b.send_raw(frame(GET_TYPE, 7)[:17])
	b.close()
	c = Conn(SOCK)
	c.send_raw(struct.pack(">I", 1000) + b"x" * 100)
	c.close()
	PY
'

test_expect_success 'a length word over the frame limit drops that connection' '
raw <<-\PY
	b = Conn(SOCK)
	b.handshake()
	b.send_raw(struct.pack(">I", 33554437) + struct.pack(">IIiIII", PROGRAM, 1, GET_TYPE, CALL, 9, OK))
	assert wait_closed(b), "oversize frame did not close the connection"
	c = Conn(SOCK)
	c.send_raw(struct.pack(">I", 0x7fffffff))
	assert wait_closed(c), "2 GiB length word did not close the connection"
	d = Conn(SOCK)
	d.send_raw(struct.pack(">I", 8) + b"\0" * 4)
	assert wait_closed(d), "length word below 28 did not close the connection"
	PY
'

test_expect_success 'garbage instead of frames drops that connection' '
raw <<-\PY
	b = Conn(SOCK)
	b.send_raw(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
	assert wait_closed(b), "HTTP garbage did not close the connection"
	c = Conn(SOCK)
	c.send_raw(bytes(range(255, -1, -1)) * 4)
	assert wait_closed(c), "binary garbage did not close the connection"
	# Garbage that happens to frame correctly is answered like any wrong header.
	d = Conn(SOCK)
	d.send_raw(struct.pack(">I", 28) + bytes(range(100, 124)))
	assert error_of(d.recv_reply())[0] == 39
	d.handshake()
	assert d.get_type() == "Xen"
	PY
'

test_expect_success 'an undecodable payload is answered with error 39, the connection stays' '
raw <<-\PY
	b = Conn(SOCK)
	b.call(AUTH_LIST)
	r = b.call(CONNECT_OPEN, struct.pack(">II", 1, 0xffffff00))
	assert error_of(r) == (39, 7, "Unable to decode message payload"), error_of(r)
	b.handshake()
	assert b.get_type() == "Xen"
	PY
'

test_expect_success 'a wrong program or version gets error 39 echoing the header, the connection stays' '
raw <<-\PY
	b = Conn(SOCK)
	b.handshake()
	b.send_raw(frame(GET_TYPE, 41, prog=0x12345678))
	r = b.recv_reply()
	assert r[0] == 0x12345678 and r[4] == 41, r
	assert error_of(r) == (39, 7, "Cannot find program 305419896 version 1"), error_of(r)
	b.send_raw(frame(GET_TYPE, 42, vers=2))
	r = b.recv_reply()
	assert r[1] == 2 and r[4] == 42, r
	assert error_of(r)[0] == 39 and "version 2" in error_of(r)[2], error_of(r)
	b.send_raw(frame(GET_TYPE, 43, status=1))
	r = b.recv_reply()
	assert error_of(r) == (39, 7, "Unexpected message status 1"), error_of(r)
	b.send_raw(frame(GET_TYPE, 44, mtype=3))
	r = b.recv_reply()
	assert error_of(r)[0] == 39, error_of(r)
	b.send_raw(frame(GET_TYPE, 45, mtype=MESSAGE))
	assert b.get_type() == "Xen"
	PY
'

test_expect_success 'unknown procedures answer code 3 (NO_SUPPORT), before and after open' '
raw <<-\PY
	b = Conn(SOCK)
	for proc in (9999, 0, -1, 318, 104):
	    r = b.call(proc)
	    e = error_of(r)
	    assert e and e[0] == 3, (proc, e)
	    assert e[2].startswith("this function is not supported by the connection driver"), e
	    assert r[2] == proc, r
	b.handshake()
	r = b.call(9999)
	assert error_of(r)[0] == 3, error_of(r)
	assert b.get_type() == "Xen"
	PY
'

test_expect_success 'calls before CONNECT_OPEN, and a second CONNECT_OPEN, are refused' '
raw <<-\PY
	b = Conn(SOCK)
	r = b.call(GET_TYPE)
	assert error_of(r) == (1, 7, "internal error: hypervisor connection not open"), error_of(r)
	r = b.call(SUPPORTS_FEATURE, struct.pack(">i", 14))
	assert r[5] == OK and struct.unpack(">i", r[6])[0] == 1, r
	r = b.call(SUPPORTS_FEATURE, struct.pack(">i", 4242))
	assert r[5] == OK and struct.unpack(">i", r[6])[0] == 0, r
	b.handshake()
	r = b.call(CONNECT_OPEN, struct.pack(">I", 0) + struct.pack(">I", 0))
	assert error_of(r) == (1, 0, "internal error: connection already open"), error_of(r)
	c = Conn(SOCK)
	c.call(AUTH_LIST)
	r = c.call(CONNECT_OPEN, struct.pack(">I", 1) + xdr_string("qemu:///system") + struct.pack(">I", 0))
	assert error_of(r)[0] == 5, error_of(r)
	assert b.get_type() == "Xen"
	PY
'

test_expect_success 'serials are echoed as sent, in any order' '
raw <<-\PY
	b = Conn(SOCK)
	b.handshake()
	for s in (100, 5, 5, 0, 4294967295, 7):
	    r = b.call(GET_TYPE, serial=s)
	    assert r[4] == s and r[5] == OK, (s, r)
	# Pipelined calls with descending serials: one reply each, serials matched.
	b.send_raw(b"".join(frame(GET_TYPE, s) for s in (30, 20, 10)))
	got = sorted(b.recv_reply()[4] for _ in range(3))
	assert got == [10, 20, 30], got
	PY
'

# The daemon reads its clients edge-triggered: EPOLLIN comes once per arrival of data, so each
# wakeup must read until the socket is drained, come back for what it left (16 frames per round),
# and notice a hang-up that arrived together with the data.
test_expect_success 'edge-triggered reads: bursts, byte-wise frames, a hang-up behind data' '
XENVIRTD_PID=$XENVIRTD_PID raw <<-\PY
	pid = int(os.environ["XENVIRTD_PID"])
	b = Conn(SOCK)
	b.handshake()
	# 100 calls in one write: answered in rounds of 16, every one of them.
	b.send_raw(b"".join(frame(GET_TYPE, s) for s in range(1000, 1100)))
	got = sorted(b.recv_reply()[4] for _ in range(100))
	assert got == list(range(1000, 1100)), got
	# One frame a byte at a time: each byte is an edge of its own.
	for byte in frame(GET_TYPE, 77):
	    b.send_raw(bytes([byte]))
	    time.sleep(0.002)
	r = b.recv_reply()
	assert r[4] == 77 and r[5] == OK, r
	b.close()
	# Three calls, then the write side shut: three replies, then the daemon closes. Often enough
	# that the hang-up comes with the data (one edge for both) in some of the rounds.
	for i in range(50):
	    c = Conn(SOCK)
	    c.handshake()
	    c.send_raw(b"".join(frame(GET_TYPE, s) for s in (1, 2, 3)))
	    c.s.shutdown(socket.SHUT_WR)
	    got = sorted(c.recv_reply()[4] for _ in range(3))
	    assert got == [1, 2, 3], got
	    assert wait_closed(c, 5.0), "round %d: the daemon kept a connection whose peer hung up" % i
	    c.close()
	# Connections that send a burst (more than a round) and hang up at once leave nothing behind.
	base = fd_count(pid)
	for i in range(20):
	    c = Conn(SOCK)
	    c.handshake()
	    c.send_raw(b"".join(frame(GET_TYPE, s) for s in range(40)))
	    c.close()
	n = wait_fd_count(pid, base)
	assert n <= base, "fds %d, baseline %d" % (n, base)
	PY
'

if [ $have_slow = yes ]; then
test_expect_success 'a client vanishing during a call on a worker is harmless' '
"$XENSIM_CTL" "$XENSIM_CONTROL" xend delay 300 >/dev/null 2>&1
raw <<-\PY
	for i in range(5):
	    b = Conn(SOCK)
	    b.handshake()
	    b.send_raw(slow_frame(1) + slow_frame(2))
	    b.close()
	time.sleep(1)
	PY
rc=$?
"$XENSIM_CTL" "$XENSIM_CONTROL" xend delay 0 >/dev/null 2>&1
test $rc = 0
'

test_expect_success 'a slow call on a worker does not stall other clients' '
"$XENSIM_CTL" "$XENSIM_CONTROL" xend delay 3000 >/dev/null 2>&1
raw <<-\PY
	slow = Conn(SOCK)
	slow.handshake()
	t0 = time.time()
	slow.send_raw(slow_frame(5))
	time.sleep(0.2)
	for i in range(5):
	    t = time.time()
	    assert good.get_type() == "Xen"
	    assert good.call(GET_VERSION)[5] == OK
	    assert time.time() - t < 1.5, "a fast call waited %.2f s" % (time.time() - t)
	r = slow.recv_reply()
	assert r[4] == 5 and r[5] == OK, r
	assert time.time() - t0 >= 2.9, time.time() - t0
	PY
rc=$?
"$XENSIM_CTL" "$XENSIM_CONTROL" xend delay 0 >/dev/null 2>&1
test $rc = 0
'
else
test_skip 'a client vanishing during a call on a worker is harmless' 'no procedure waiting on XenD is implemented yet'
test_skip 'a slow call on a worker does not stall other clients' 'no procedure waiting on XenD is implemented yet'
fi

test_expect_success 'a client that never reads is dropped past its queue limit' '
raw <<-\PY
	b = Conn(SOCK)
	b.handshake()
	b.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
	burst = b"".join(frame(GET_TYPE, i) for i in range(1000))
	dropped = False
	try:
	    for i in range(100):
	        b.send_raw(burst)
	except (BrokenPipeError, ConnectionResetError):
	    dropped = True
	if not dropped:
	    assert wait_closed(b, 20), "a client that never reads was not dropped"
	PY
grep -q "does not read its replies" "$sandbox_dir/xenvirtd.log"
'

test_expect_success 'keepalive PING from the client is answered with PONG' '
raw <<-\PY
	b = Conn(SOCK)
	b.send_raw(frame(1, 0, prog=KEEPALIVE, mtype=MESSAGE))
	f = b.recv_frame()
	assert f[:6] == (KEEPALIVE, 1, 2, MESSAGE, 0, OK) and f[6] == b"", f
	b.handshake()
	b.send_raw(frame(1, 0, prog=KEEPALIVE, mtype=MESSAGE))
	f = b.recv_frame()
	assert f[0] == KEEPALIVE and f[2] == 2, f
	PY
'

test_done
