#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Socket activation without systemd as PID 1: systemd-socket-activate passes the listening
# sockets with their names (sd_listen_fds_with_names: "rw", "ro"), and a notify socket stand-in
# receives READY=1 and STATUS=. The sandbox's own daemon is stopped first; the activated one
# talks to the same xensim.

. "$(dirname "$0")/lib.sh"

test_require_virsh
command -v systemd-socket-activate >/dev/null 2>&1 || skip_all "systemd-socket-activate is not installed"
sandbox_up
# Only xensim is needed: the activated daemon replaces the sandbox's one.
kill -TERM "$XENVIRTD_PID"
for i in $(seq 100); do kill -0 "$XENVIRTD_PID" 2>/dev/null || break; sleep 0.1; done

ACT=$TEST_DIR/act
mkdir -p "$ACT"
XENVIRTD=$XV_BUILDDIR/daemon/xenvirtd
: >"$ACT/empty.conf"
act_pid=

stop_activated() {
	if [ -n "$act_pid" ]; then
		kill -TERM "$act_pid" 2>/dev/null
		wait "$act_pid" 2>/dev/null
		act_pid=
	fi
	return 0
}
trap 'stop_activated; test_cleanup' EXIT

# activate FDNAMES -l PATH... : systemd-socket-activate in the background, with the daemon's
# environment passed explicitly (the tool scrubs it).
activate() {
	local names=$1
	shift
	systemd-socket-activate "$@" --fdname="$names" \
		-E XENSTORED_PATH -E XENSIM_HV_SOCKET -E LD_LIBRARY_PATH -E NOTIFY_SOCKET \
		"$XENVIRTD" --config "$ACT/empty.conf" --pid-file "$ACT/xenvirtd.pid" \
		--xend-socket "$XEND_SOCKET" --xm-dir "$XENSIM_XM_DIR" --host-root "$XENSIM_ROOT" \
		--rw-socket "$ACT/not-used-rw" --ro-socket "$ACT/not-used-ro" \
		>"$ACT/log" 2>&1 &
	act_pid=$!
	for i in $(seq 400); do [ -S "$ACT/$(basename "$2")" ] && return 0; sleep 0.05; done
	return 1
}

test_expect_success 'one activated socket named rw serves virsh' '
	activate rw -l "$ACT/sock-rw" &&
	virsh -c "xen:///system?socket=$ACT/sock-rw" version >out &&
	grep -q "^Running hypervisor: Xen" out &&
	test "$(cat "$ACT/xenvirtd.pid")" = "$act_pid" &&
	test ! -e "$ACT/not-used-rw" && test ! -e "$ACT/not-used-ro" &&
	stop_activated
'

test_expect_success 'two activated sockets rw:ro keep their roles, READY=1 and STATUS= are sent' '
	"$TEST_PYTHON" - "$ACT/notify" >"$ACT/notify.log" 2>&1 <<-\PY &
	import os, socket, sys
	path = sys.argv[1]
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.bind(path)
	s.settimeout(20)
	seen = []
	while True:
	    data = s.recv(4096).decode()
	    print(data.replace("\n", " | "), flush=True)
	    seen += data.split("\n")
	    if "READY=1" in seen and any(l.startswith("STATUS=") for l in seen):
	        sys.exit(0)
	PY
	nl=$!
	for i in $(seq 400); do [ -S "$ACT/notify" ] && break; sleep 0.05; done
	NOTIFY_SOCKET=$ACT/notify activate rw:ro -l "$ACT/sock-rw2" -l "$ACT/sock-ro2" &&
	virsh -c "xen:///system?socket=$ACT/sock-rw2" hostname &&
	wait $nl && cat "$ACT/notify.log" && grep -q "STATUS=Serving" "$ACT/notify.log" &&
	"$TEST_PYTHON" - "$XV_TEST_SRCDIR/integration" "$ACT/sock-ro2" <<-\PY &&
	import sys
	sys.path.insert(0, sys.argv[1])
	from xvd_raw import *
	c = Conn(sys.argv[2])
	c.handshake()
	assert error_of(c.call(DEFINE_XML, xdr_string("<domain/>")))[0] == 29
	assert c.get_type() == "Xen"
	PY
	stop_activated
'

test_done
