#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# I/O lanes (io_threads = 4 here): connections are spread over the main loop and three lane
# threads, each owning its connections. Whatever the lane: interleaved calls on many connections
# are all answered in order, worker calls come back to the right connection, lifecycle events
# reach every registered connection, keepalive drops a silent peer, and SIGTERM waits for the
# calls in flight on every lane before the daemon exits (well before its 20 s shutdown timeout).

. "$(dirname "$0")/lib.sh"

mkdir -p "$TEST_DIR/sb"
printf "io_threads = 4\nkeepalive_interval = 1\nkeepalive_count = 2\n" >"$TEST_DIR/sb/xenvirtd.conf"
sandbox_up
SOCK=$sandbox_dir/xenvirtd-sock
LOG=$sandbox_dir/xenvirtd.log

test_expect_success 'io_threads = 4: three lane threads next to the main loop' '
	test "$(cat /proc/"$XENVIRTD_PID"/task/*/comm | grep -c "^xvd-lane[123]$")" = 3
'

test_expect_success 'sixteen connections, interleaved calls (inline and on workers): every reply in order' '
	"$TEST_PYTHON" - "$XV_TEST_SRCDIR/integration" "$SOCK" <<-\PY
	import sys, struct
	sys.path.insert(0, sys.argv[1])
	from xvd_raw import *
	conns = [Conn(sys.argv[2]) for i in range(16)]
	for c in conns:
	    c.handshake()
	for rnd in range(20):
	    # Two calls in flight per connection before any reply is read: a worker call (the
	    # listing) and an inline one (the lookup) may complete in either order, each must come
	    # back on its own connection with its own serial.
	    for i, c in enumerate(conns):
	        c.send_raw(frame(LIST_ALL_DOMAINS, 1000 * rnd + 2 * i, struct.pack(">iI", 1, 3)))
	        c.send_raw(frame(DOMAIN_LOOKUP_BY_NAME, 1000 * rnd + 2 * i + 1, xdr_string("Domain-0")))
	    for i, c in enumerate(conns):
	        got = {}
	        for k in range(2):
	            r = c.recv_reply()
	            got[r[4]] = r
	        want = {1000 * rnd + 2 * i: LIST_ALL_DOMAINS, 1000 * rnd + 2 * i + 1: DOMAIN_LOOKUP_BY_NAME}
	        assert sorted(got) == sorted(want), (i, sorted(got))
	        for serial, r in got.items():
	            assert r[2] == want[serial] and r[5] == OK, (i, r[:6], error_of(r))
	for c in conns:
	    assert c.get_type() == "Xen"
	PY
'

test_expect_success 'a lifecycle event reaches registered connections on every lane' '
	"$TEST_PYTHON" - "$XV_TEST_SRCDIR/integration" "$SOCK" "$XENSIM_CTL" "$XENSIM_CONTROL" <<-\PY
	import sys, struct, subprocess, time
	sys.path.insert(0, sys.argv[1])
	from xvd_raw import *
	conns, ids = [], []
	for i in range(8):
	    c = Conn(sys.argv[2]); c.handshake()
	    r = c.call(EVENT_CALLBACK_REGISTER_ANY, struct.pack(">iI", 0, 0))
	    assert r[5] == OK, error_of(r)
	    conns.append(c); ids.append(struct.unpack(">i", r[6])[0])
	assert len(set(ids)) == 8, ids
	subprocess.run([sys.argv[3], sys.argv[4], "domain", "create", "lanes1"], check=True, stdout=subprocess.DEVNULL)
	for c, cb in zip(conns, ids):
	    end = time.time() + 10
	    seen = None
	    c.s.settimeout(1)
	    while time.time() < end and seen is None:
	        try:
	            f = c.recv_frame()
	        except Exception:
	            continue
	        if f[3] == MESSAGE and f[2] == EVENT_CALLBACK_LIFECYCLE:
	            seen = f
	    assert seen is not None, "callback %d got no event" % cb
	    assert struct.unpack_from(">i", seen[6], 0)[0] == cb
	    assert decode_string(seen[6], 4)[0] == "lanes1"
	subprocess.run([sys.argv[3], sys.argv[4], "domain", "destroy", "lanes1"], check=True, stdout=subprocess.DEVNULL)
	PY
'

test_expect_success 'keepalive on every lane: silent peers are dropped, a live one is kept' '
	"$TEST_PYTHON" - "$XV_TEST_SRCDIR/integration" "$SOCK" <<-\PY
	import sys, struct, time
	sys.path.insert(0, sys.argv[1])
	from xvd_raw import *
	def ask10(c):
	    r = c.call(SUPPORTS_FEATURE, struct.pack(">i", 10))
	    assert struct.unpack(">i", r[6])[0] == 1
	# Four silent ones (the round robin puts them on four different loops) and a live one.
	dead = []
	for i in range(4):
	    c = Conn(sys.argv[2]); ask10(c); c.handshake(); dead.append(c)
	live = Conn(sys.argv[2]); ask10(live); live.handshake()
	end = time.time() + 15
	while time.time() < end and not all(wait_closed(c, 0.1) for c in dead):
	    live.s.settimeout(0.1)
	    try:
	        f = live.recv_frame()
	        assert f[0] == KEEPALIVE and f[2] == 1, f
	        live.send_raw(frame(2, 0, prog=KEEPALIVE, mtype=MESSAGE))
	    except OSError:
	        pass
	assert all(wait_closed(c, 0.1) for c in dead), "a silent peer was not dropped"
	live.s.settimeout(10)
	assert live.get_type() == "Xen"
	PY
'

test_expect_success 'SIGTERM: the calls in flight on every lane are answered, then a prompt exit' '
	"$XENSIM_CTL" "$XENSIM_CONTROL" xend delay 1000 >/dev/null &&
	"$TEST_PYTHON" - "$XV_TEST_SRCDIR/integration" "$SOCK" "$XENVIRTD_PID" <<-\PY
	import sys, os, signal, time
	sys.path.insert(0, sys.argv[1])
	from xvd_raw import *
	conns = [Conn(sys.argv[2]) for i in range(8)]
	for c in conns:
	    c.handshake()
	for i, c in enumerate(conns):
	    c.send_raw(slow_frame(500 + i))
	time.sleep(0.2)
	t = time.time()
	os.kill(int(sys.argv[3]), signal.SIGTERM)
	for i, c in enumerate(conns):
	    r = c.recv_reply()
	    assert r[4] == 500 + i and r[2] == LIST_ALL_DOMAINS, r
	    assert r[5] == OK or error_of(r)[0] == 3, error_of(r)
	for c in conns:
	    assert wait_closed(c), "connection not closed at exit"
	# The shutdown timeout is 20 s: every lane must have reported its replies written long before.
	assert time.time() - t < 12, time.time() - t
	PY
	rc=$?
	"$XENSIM_CTL" "$XENSIM_CONTROL" xend delay 0 >/dev/null
	test $rc = 0 &&
	for i in $(seq 100); do kill -0 "$XENVIRTD_PID" 2>/dev/null || break; sleep 0.1; done &&
	! kill -0 "$XENVIRTD_PID" 2>/dev/null &&
	! grep -q "exiting anyway" "$LOG" &&
	grep -q "xenvirtd stopped" "$LOG"
'

test_expect_success 'io_threads beyond 8 is refused' '
	printf "io_threads = 9\n" >"$TEST_DIR/bad.conf" &&
	test_must_fail timeout 10 "$XV_BUILDDIR/daemon/xenvirtd" --config "$TEST_DIR/bad.conf" \
		--socket-dir "$TEST_DIR/nosock" >"$TEST_DIR/bad.out" 2>&1 &&
	grep -F "bad.conf:1: '\''io_threads'\'' must be a number between 0 and 8" "$TEST_DIR/bad.out"
'

test_done
