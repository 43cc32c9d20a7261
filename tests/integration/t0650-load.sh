#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Load (issue 10): 64 clients, one connection each, run mixed read/write calls over 200 domains
# for 30 s while xensim delays every XenD reply by 20 ms (tests/load/xvload.py). No call fails,
# no reply or event is lost, the daemon's fds and threads return to their baseline; its peak RSS
# and the call rate are printed as TAP comments (figures, not assertions).
# XV_LOAD_SECONDS, XV_LOAD_CLIENTS, XV_LOAD_DOMAINS, XV_LOAD_XEND_DELAY_MS change the shape.

. "$(dirname "$0")/lib.sh"

test_require_python_libvirt
sandbox_up

test_expect_success 'the daemon takes 64 clients for 30 s with XenD latency, loses nothing' '
	"$TEST_PYTHON" "$XV_TEST_SRCDIR/load/xvload.py" "$XENVIRT_URI" "$XENSIM_CTL" "$XENSIM_CONTROL" \
		"$XENVIRTD_PID" >load.out 2>&1
	rc=$?; cat load.out; test $rc = 0
'
grep "^# " "$TEST_DIR/load.out" 2>/dev/null

test_expect_success 'the daemon is still up and serving' '
	kill -0 "$XENVIRTD_PID" &&
	virsh -c "$XENVIRT_URI" list --all >/dev/null
'

test_done
