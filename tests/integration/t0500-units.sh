#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The systemd units, the tmpfiles snippet, the default configuration and the socket check of
# the optional units at libvirt's paths. The units are made from their templates with paths into
# the build tree and checked by "systemd-analyze verify" (warnings count as failures, the man
# pages of Documentation= must resolve); "systemd-analyze security --offline" gives the service's
# exposure (printed, and bounded). Then the built daemon is started the way the units describe
# it - ExecStart= with the shipped configuration (every setting uncommented), the sockets'
# ListenStream= paths and FileDescriptorName= roles - by systemd-socket-activate, without systemd
# as PID 1, against the simulated host: READY=1, STATUS=, watchdog pings (WatchdogSec=),
# RELOADING=1 on ExecReload='s SIGHUP, STOPPING=1, and virsh through both sockets.

. "$(dirname "$0")/lib.sh"

test_require_virsh
for tool in systemd-analyze systemd-socket-activate systemd-tmpfiles man; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "Bail out! $tool is not installed (packages systemd, man-db)"
		exit 1
	}
done

SRC=$XV_TEST_SRCDIR/..
UNITS="xenvirtd.service xenvirtd.socket xenvirtd-ro.socket xenvirtd-virtxend.socket xenvirtd-virtxend-ro.socket"
U=$TEST_DIR/units
LIBEXEC=$TEST_DIR/libexec
ETC=$TEST_DIR/etc
MANDIR=$TEST_DIR/man

# Value of KEY in FILE (the last assignment; unit files may repeat a key).
unit_get() {
	sed -n "s/^$2=//p" "$1" | tail -n 1
}

test_expect_success 'the built units have every placeholder expanded to an absolute path' '
	bad= &&
	for u in $UNITS; do
		test -s "$XV_BUILDDIR/systemd/$u" || bad="$bad $u:not-built"
		! grep -n "@[a-z_]*@" "$XV_BUILDDIR/systemd/$u" || bad="$bad $u:placeholder"
	done &&
	test -z "$bad" &&
	exec_start=$(unit_get "$XV_BUILDDIR/systemd/xenvirtd.service" ExecStart) &&
	echo "$exec_start" | grep -qx "/.*/xenvirtd --config=/.*/xenvirt/xenvirtd.conf" &&
	! grep -n "\\\${" "$XV_BUILDDIR"/systemd/*.s*
'

# The templates again, with the daemon and the check from the build and source trees.
mkdir -p "$U" "$LIBEXEC/xenvirt" "$ETC/xenvirt" "$MANDIR/man8" "$MANDIR/man5"
cp "$SRC/systemd/xenvirtd-socket-check" "$LIBEXEC/xenvirt/"
cp "$SRC/daemon/xenvirtd.8" "$MANDIR/man8/"
cp "$SRC/daemon/xenvirtd.conf.5" "$MANDIR/man5/"
for u in $UNITS; do
	sed -e "s|@sbindir@|$XV_BUILDDIR/daemon|g" -e "s|@sysconfdir@|$ETC|g" \
		-e "s|@libexecdir@|$LIBEXEC|g" "$SRC/systemd/$u.in" >"$U/$u"
done

verify() {
	(cd "$U" && MANPATH=$MANDIR SYSTEMD_UNIT_PATH=$U: systemd-analyze verify "$@") >"$TEST_DIR/verify.out" 2>&1
	local rc=$?
	cat "$TEST_DIR/verify.out"
	return $rc
}

test_expect_success 'systemd-analyze verify accepts every unit without a warning' '
	verify $UNITS &&
	test ! -s "$TEST_DIR/verify.out"
'

test_expect_success 'systemd-analyze verify reports a broken unit (the check above can fail)' '
	sed "s/^WatchdogSec=/WatchdogSecs=/" "$U/xenvirtd.service" >"$U/broken.service" &&
	verify broken.service
	grep -q "Unknown key .WatchdogSecs." "$TEST_DIR/verify.out" &&
	rm -f "$U/broken.service" &&
	sed "s/^Requires=xenvirtd.socket xenvirtd-ro.socket/Requires=xenvirtd-nonexistent.socket/" "$U/xenvirtd.service" >"$U/broken.service" &&
	! verify broken.service &&
	rm -f "$U/broken.service"
'

test_expect_success 'the service: Type=notify, watchdog, restart, both sockets, hardening' '
	s=$U/xenvirtd.service &&
	test "$(unit_get "$s" Type)" = notify &&
	test -n "$(unit_get "$s" WatchdogSec)" &&
	test "$(unit_get "$s" Restart)" = on-failure &&
	test "$(unit_get "$s" Requires)" = "xenvirtd.socket xenvirtd-ro.socket" &&
	test "$(unit_get "$s" ProtectSystem)" = strict &&
	test "$(unit_get "$s" ProtectHome)" = yes &&
	test "$(unit_get "$s" PrivateTmp)" = yes &&
	test "$(unit_get "$s" NoNewPrivileges)" = yes &&
	test "$(unit_get "$s" RestrictAddressFamilies)" = AF_UNIX &&
	unit_get "$s" CapabilityBoundingSet | grep -qv CAP_SYS_ADMIN &&
	unit_get "$s" ReadWritePaths | grep -q /etc/xen &&
	unit_get "$s" ReadWritePaths | grep -q /var/lib/xen
'

test_expect_success 'the sockets: paths, fd names, modes, all for xenvirtd.service' '
	check_socket() {
		test "$(unit_get "$U/$1" ListenStream)" = "$2" &&
		test "$(unit_get "$U/$1" FileDescriptorName)" = "$3" &&
		test "$(unit_get "$U/$1" SocketMode)" = "$4" &&
		test "$(unit_get "$U/$1" Service)" = xenvirtd.service
	} &&
	check_socket xenvirtd.socket /run/xenvirt/xenvirtd-sock rw 0600 &&
	check_socket xenvirtd-ro.socket /run/xenvirt/xenvirtd-sock-ro ro 0666 &&
	check_socket xenvirtd-virtxend.socket /run/libvirt/virtxend-sock rw 0600 &&
	check_socket xenvirtd-virtxend-ro.socket /run/libvirt/virtxend-sock-ro ro 0666 &&
	grep -q "^ExecStartPre=$LIBEXEC/xenvirt/xenvirtd-socket-check /run/libvirt/virtxend-sock\$" "$U/xenvirtd-virtxend.socket" &&
	grep -q "^ExecStartPre=$LIBEXEC/xenvirt/xenvirtd-socket-check /run/libvirt/virtxend-sock-ro\$" "$U/xenvirtd-virtxend-ro.socket"
'

test_expect_success 'systemd-analyze security --offline: exposure of xenvirtd.service' '
	(cd "$U" && SYSTEMD_UNIT_PATH=$U: systemd-analyze security --offline=true --no-pager xenvirtd.service) >sec.out 2>&1
	exposure=$(sed -n "s/.*Overall exposure level for xenvirtd.service: \([0-9.]*\).*/\1/p" sec.out) &&
	test -n "$exposure" &&
	echo "exposure $exposure" >"$TEST_DIR/exposure" &&
	awk -v e="$exposure" "BEGIN { exit !(e <= 2.0) }" || { cat sec.out; false; }
'
[ -s "$TEST_DIR/exposure" ] && echo "# systemd-analyze security --offline=true xenvirtd.service: $(cat "$TEST_DIR/exposure")"

test_expect_success 'the tmpfiles snippet creates the socket and state directories' '
	mkdir -p "$TEST_DIR/root" &&
	systemd-tmpfiles --create --root="$TEST_DIR/root" "$SRC/systemd/xenvirtd.tmpfiles" &&
	test "$(stat -c %a "$TEST_DIR/root/run/xenvirt")" = 755 &&
	test "$(stat -c %a "$TEST_DIR/root/var/lib/xenvirt")" = 700 &&
	test "$(stat -c %a "$TEST_DIR/root/var/lib/xenvirt/save")" = 700
'

# Every key the daemon accepts, from the parser itself.
grep -o "streq(key, \"[a-z_]*\")" "$SRC/daemon/xvd-config.c" | sed "s/.*\"\(.*\)\".*/\1/" | sort -u >"$TEST_DIR/keys"

test_expect_success 'the default configuration and xenvirtd.conf(5) document every key' '
	test "$(wc -l <"$TEST_DIR/keys")" -ge 15 &&
	missing= &&
	while read -r key; do
		grep -q "^#$key = " "$SRC/systemd/xenvirtd.conf" || missing="$missing conf:$key"
		grep -qw -- "$key" "$SRC/daemon/xenvirtd.conf.5" || missing="$missing man:$key"
	done <"$TEST_DIR/keys" &&
	test -z "$missing" || { echo "undocumented:$missing"; false; }
'

# The shipped file with every setting uncommented (the documented defaults) is what the
# activated daemon below reads through ExecStart='s --config.
sed "s/^#\([a-z_]* = \)/\1/" "$SRC/systemd/xenvirtd.conf" >"$ETC/xenvirt/xenvirtd.conf"

test_expect_success 'the uncommented defaults name only keys the daemon knows' '
	sed -n "s/^\([a-z_]*\) = .*/\1/p" "$ETC/xenvirt/xenvirtd.conf" | sort -u >documented &&
	test "$(wc -l <documented)" -ge 15 &&
	comm -23 documented "$TEST_DIR/keys" >unknown &&
	test ! -s unknown || { cat unknown; false; }
'

# The socket check of xenvirtd-virtxend*.socket, with a stand-in systemctl on PATH.
CHECK=$LIBEXEC/xenvirt/xenvirtd-socket-check
mkdir -p "$TEST_DIR/fakebin"
cat >"$TEST_DIR/fakebin/systemctl" <<'EOF'
#!/bin/sh
# is-enabled UNIT / is-active --quiet UNIT, answered from $FAKE_ENABLED and $FAKE_ACTIVE.
case "$1" in
	is-enabled) case " $FAKE_ENABLED " in *" $2 "*) echo enabled; exit 0 ;; esac; echo disabled; exit 1 ;;
	is-active) case " $FAKE_ACTIVE " in *" $3 "*) exit 0 ;; esac; exit 3 ;;
esac
exit 1
EOF
chmod +x "$TEST_DIR/fakebin/systemctl"

test_expect_success 'the virtxend socket check refuses a path another process listens on' '
	"$TEST_PYTHON" - "$TEST_DIR/vx-sock" "$TEST_DIR/vx-ready" <<-\PY &
	import os, socket, sys, time
	s = socket.socket(socket.AF_UNIX)
	s.bind(sys.argv[1])
	s.listen()
	open(sys.argv[2], "w").close()
	time.sleep(30)
	PY
	lp=$!
	for i in $(seq 200); do [ -e "$TEST_DIR/vx-ready" ] && break; sleep 0.05; done
	PATH=$TEST_DIR/fakebin:$PATH test_must_fail "$CHECK" "$TEST_DIR/vx-sock" 2>err
	rc=$?
	kill $lp; wait $lp
	test $rc = 0 && cat err && grep -q "another process listens on $TEST_DIR/vx-sock" err
'

test_expect_success 'the virtxend socket check accepts a free path and a stale socket file' '
	PATH=$TEST_DIR/fakebin:$PATH "$CHECK" "$TEST_DIR/vx-free" &&
	test -S "$TEST_DIR/vx-sock" &&
	PATH=$TEST_DIR/fakebin:$PATH "$CHECK" "$TEST_DIR/vx-sock"
'

test_expect_success 'the virtxend socket check refuses while libvirt'"'"'s virtxend units are enabled or active' '
	PATH=$TEST_DIR/fakebin:$PATH FAKE_ENABLED=virtxend.socket test_must_fail "$CHECK" "$TEST_DIR/vx-free" 2>err &&
	grep -q "virtxend.socket is enabled" err &&
	PATH=$TEST_DIR/fakebin:$PATH FAKE_ACTIVE=virtxend.service test_must_fail "$CHECK" "$TEST_DIR/vx-free" 2>err &&
	grep -q "virtxend.service is active" err &&
	test_must_fail "$CHECK" relative/path
'

# Socket activation as the units describe it.
sandbox_up
kill -TERM "$XENVIRTD_PID"
for i in $(seq 100); do kill -0 "$XENVIRTD_PID" 2>/dev/null || break; sleep 0.1; done
ACT=$TEST_DIR/act
mkdir -p "$ACT"
act_pid=
nl_pid=
stop_all() {
	[ -n "$act_pid" ] && kill -TERM "$act_pid" 2>/dev/null && wait "$act_pid" 2>/dev/null
	[ -n "$nl_pid" ] && kill "$nl_pid" 2>/dev/null && wait "$nl_pid" 2>/dev/null
	act_pid=
	nl_pid=
	return 0
}
trap 'stop_all; test_cleanup' EXIT

# The units' paths, moved from /run/xenvirt into the test directory.
RW_PATH=$ACT/$(basename "$(unit_get "$U/xenvirtd.socket" ListenStream)")
RO_PATH=$ACT/$(basename "$(unit_get "$U/xenvirtd-ro.socket" ListenStream)")
FDNAMES=$(unit_get "$U/xenvirtd.socket" FileDescriptorName):$(unit_get "$U/xenvirtd-ro.socket" FileDescriptorName)
read -r -a EXEC_START <<<"$(unit_get "$U/xenvirtd.service" ExecStart)"
WATCHDOG_USEC=2000000

# wait_count FILE PATTERN N: waits up to 20 s until PATTERN occurs on N lines of FILE.
wait_count() {
	local i
	for i in $(seq 200); do
		[ "$(grep -c -- "$2" "$1")" -ge "$3" ] && return 0
		sleep 0.1
	done
	echo "fewer than $3 lines with $2 in $1"
	return 1
}

test_expect_success 'ExecStart= under systemd-socket-activate: READY=1, STATUS=, watchdog pings' '
	"$TEST_PYTHON" - "$ACT/notify" >"$ACT/notify.log" 2>&1 <<-\PY &
	import socket, sys
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.bind(sys.argv[1])
	s.settimeout(60)
	while True:
	    print(s.recv(4096).decode().replace("\n", " | "), flush=True)
	PY
	nl_pid=$!
	for i in $(seq 200); do [ -S "$ACT/notify" ] && break; sleep 0.05; done
	NOTIFY_SOCKET=$ACT/notify WATCHDOG_USEC=$WATCHDOG_USEC \
	systemd-socket-activate -l "$RW_PATH" -l "$RO_PATH" --fdname="$FDNAMES" \
		-E XENSTORED_PATH -E XENSIM_HV_SOCKET -E LD_LIBRARY_PATH -E NOTIFY_SOCKET -E WATCHDOG_USEC \
		"${EXEC_START[@]}" --pid-file "$ACT/xenvirtd.pid" \
		--rw-socket "$ACT/not-used-rw" --ro-socket "$ACT/not-used-ro" \
		--xend-socket "$XEND_SOCKET" --xm-dir "$XENSIM_XM_DIR" --host-root "$XENSIM_ROOT" \
		>"$ACT/log" 2>&1 &
	act_pid=$!
	for i in $(seq 200); do [ -S "$RO_PATH" ] && break; sleep 0.05; done
	virsh -c "xen:///system?socket=$RW_PATH" list --all >out &&
	grep -q Domain-0 out &&
	test "$(cat "$ACT/xenvirtd.pid")" = "$act_pid" &&
	test ! -e "$ACT/not-used-rw" && test ! -e "$ACT/not-used-ro" &&
	wait_count "$ACT/notify.log" "READY=1" 1 &&
	grep -q "STATUS=Serving; backend xend; xend up" "$ACT/notify.log" &&
	wait_count "$ACT/notify.log" "WATCHDOG=1" 3 ||
	{ cat "$ACT/notify.log" "$ACT/log"; false; }
'

test_expect_success 'the ro socket of xenvirtd-ro.socket lists but refuses changes' '
	virsh -r -c "xen:///system?socket=$RO_PATH" list --all >out &&
	grep -q Domain-0 out &&
	test_must_fail virsh -c "xen:///system?socket=$RO_PATH" destroy Domain-0 2>err &&
	grep -q "read only access prevents" err
'

test_expect_success 'ExecReload= (SIGHUP) sends RELOADING=1 then READY=1; SIGTERM sends STOPPING=1' '
	n=$(grep -c "READY=1" "$ACT/notify.log") &&
	kill -HUP "$act_pid" &&
	wait_count "$ACT/notify.log" "RELOADING=1" 1 &&
	wait_count "$ACT/notify.log" "READY=1" $((n + 1)) &&
	virsh -c "xen:///system?socket=$RW_PATH" hostname &&
	kill -TERM "$act_pid" && wait "$act_pid" &&
	act_pid= &&
	wait_count "$ACT/notify.log" "STOPPING=1" 1 ||
	{ cat "$ACT/notify.log" "$ACT/log"; false; }
'

test_done
