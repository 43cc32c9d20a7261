#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Signals: SIGHUP re-reads the configuration's reloadable part (here the log level and a limit)
# and keeps serving; SIGTERM finishes the calls in flight, sends their replies, removes the
# sockets and the PID file and exits 0.

. "$(dirname "$0")/lib.sh"

sandbox_up
SOCK=$sandbox_dir/xenvirtd-sock
CONF=$sandbox_dir/xenvirtd.conf
LOG=$sandbox_dir/xenvirtd.log

test_expect_success 'SIGHUP reloads the configuration and keeps serving' '
	printf "log_level = debug\nmax_requests_per_client = 3\n" >"$CONF" &&
	kill -HUP "$XENVIRTD_PID" &&
	eventually grep -q "Configuration reloaded" "$LOG" &&
	virsh -c "$XENVIRT_URI" hostname &&
	eventually grep -q "New client" "$LOG"
'

test_expect_success 'SIGHUP with a broken file keeps the old configuration' '
	printf "log_level = loud\n" >"$CONF" &&
	kill -HUP "$XENVIRTD_PID" &&
	eventually grep -q "keeping the old one" "$LOG" &&
	grep -q "xenvirtd.conf:1:" "$LOG" &&
	virsh -c "$XENVIRT_URI" hostname
'

test_expect_success 'SIGTERM answers the call in flight, then exits cleanly' '
	"$XENSIM_CTL" "$XENSIM_CONTROL" xend delay 1000 >/dev/null &&
	"$TEST_PYTHON" - "$XV_TEST_SRCDIR/integration" "$SOCK" "$XENVIRTD_PID" <<-\PY
	import sys, os, signal, time
	sys.path.insert(0, sys.argv[1])
	from xvd_raw import *
	c = Conn(sys.argv[2])
	c.handshake()
	t = time.time()
	c.send_raw(slow_frame(77))
	time.sleep(0.2)
	os.kill(int(sys.argv[3]), signal.SIGTERM)
	r = c.recv_reply()
	# The reply of the call in flight arrives (an OK, or NO_SUPPORT while its handler is a stub).
	assert r[4] == 77 and r[2] == LIST_ALL_DOMAINS, r
	assert r[5] == OK or error_of(r)[0] == 3, error_of(r)
	print("call answered after %.2f s" % (time.time() - t))
	assert wait_closed(c), "connection not closed at exit"
	PY
	rc=$?
	"$XENSIM_CTL" "$XENSIM_CONTROL" xend delay 0 >/dev/null
	test $rc = 0 &&
	for i in $(seq 100); do kill -0 "$XENVIRTD_PID" 2>/dev/null || break; sleep 0.1; done &&
	! kill -0 "$XENVIRTD_PID" 2>/dev/null &&
	test ! -e "$sandbox_dir/xenvirtd.pid" &&
	test ! -e "$SOCK" && test ! -e "$sandbox_dir/xenvirtd-sock-ro" &&
	grep -q "xenvirtd stopped" "$LOG"
'

test_done
