#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Keepalive (interval 1 s, count 2 here): a client that asked for feature 10 and answers the
# daemon's PINGs stays connected while idle; one that ignores them is dropped as dead; a client
# that never asked is never pinged.

. "$(dirname "$0")/lib.sh"

mkdir -p "$TEST_DIR/sb"
printf "keepalive_interval = 1\nkeepalive_count = 2\n" >"$TEST_DIR/sb/xenvirtd.conf"
sandbox_up

test_expect_success 'pings to idle clients; a silent peer is dropped, a live one is kept' '
	"$TEST_PYTHON" - "$XV_TEST_SRCDIR/integration" "$sandbox_dir/xenvirtd-sock" <<-\PY
	import sys, struct, time, socket
	sys.path.insert(0, sys.argv[1])
	from xvd_raw import *
	def ask10(c):
	    r = c.call(SUPPORTS_FEATURE, struct.pack(">i", 10))
	    assert struct.unpack(">i", r[6])[0] == 1
	dead = Conn(sys.argv[2]); ask10(dead); dead.handshake()
	live = Conn(sys.argv[2]); ask10(live); live.handshake()
	never = Conn(sys.argv[2]); never.handshake()
	# live answers pings for 5 s; dead only collects them.
	pings_dead = pings_live = 0
	closed_dead = False
	end = time.time() + 15
	for c in (dead, live):
	    c.s.setblocking(False)
	while time.time() < end and not (closed_dead and pings_live >= 3):
	    for c in (dead, live):
	        try:
	            hdr = c.s.recv(4)
	        except BlockingIOError:
	            continue
	        if not hdr:
	            assert c is dead, "the live client was dropped"
	            closed_dead = True
	            continue
	        c.s.setblocking(True)
	        (n,) = struct.unpack(">I", hdr)
	        rest = c.recv_exact(n - 4)
	        c.s.setblocking(False)
	        prog, vers, proc = struct.unpack_from(">IIi", rest, 0)
	        assert prog == KEEPALIVE and proc == 1, (prog, proc)
	        if c is live:
	            pings_live += 1
	            c.send_raw(frame(2, 0, prog=KEEPALIVE, mtype=MESSAGE))
	        else:
	            pings_dead += 1
	    time.sleep(0.05)
	assert closed_dead, "the silent peer was not dropped (%d pings)" % pings_dead
	assert pings_dead >= 1 and pings_live >= 3, (pings_dead, pings_live)
	live.s.setblocking(True)
	assert live.get_type() == "Xen"
	never.s.settimeout(0.2)
	try:
	    f = never.recv_frame()
	    assert False, "a client without feature 10 got %r" % (f,)
	except socket.timeout:
	    pass
	assert never.get_type() == "Xen"
	PY
'

test_done
