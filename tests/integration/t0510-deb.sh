#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Debian packages: built from the source tree with "dpkg-buildpackage -us -uc -b" (or taken
# from $XV_DEB_DIR when it holds them already), checked by lintian, installed with dpkg -i, and
# smoke-tested: the installed /usr/sbin/xenvirtd is started as the installed units describe it
# (ExecStart=, ListenStream=, FileDescriptorName=) by systemd-socket-activate, without systemd as
# PID 1, against the simulated host; virsh and the installed xvsh talk to it through the packaged
# socket paths, and a plain "virsh -c xen:///system" through the optional sockets at libvirt's
# virtxend paths. The packages are purged at the end, and the machine is compared with a
# snapshot taken before: it must be left as it was.

. "$(dirname "$0")/lib.sh"

test_require_virsh
for tool in dpkg-buildpackage dh lintian systemd-socket-activate systemd-analyze flock; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "Bail out! $tool is not installed (packages dpkg-dev, debhelper, lintian, systemd, util-linux)"
		exit 1
	}
done
PACKAGES="xenvirtd libxenvirt0 libxenvirt-dev xvsh"

SRC=$XV_TEST_SRCDIR/..
UNITDIR=$(pkg-config --variable=systemdsystemunitdir systemd)
UNITDIR=${UNITDIR:-/lib/systemd/system}

# What the packages touch, before: compared after the purge.
snapshot() {
	{
		dpkg-query -W -f '${Package} ${Version} ${db:Status-Abbrev}\n'
		find /etc/systemd /var/lib/systemd/deb-systemd-helper-enabled \
			/var/lib/systemd/deb-systemd-helper-masked /etc/xenvirt /var/lib/xenvirt \
			/run/xenvirt /run/libvirt /usr/libexec/xenvirt /usr/share/polkit-1/actions \
			/usr/lib/tmpfiles.d "$UNITDIR" /usr/sbin /usr/bin \
			-printf '%p %m %u %g\n' 2>/dev/null
	} | LC_ALL=C sort
}

installed=
act_pid=
made_run_libvirt=
deb_cleanup() {
	if [ -n "$act_pid" ]; then
		kill -TERM "$act_pid" 2>/dev/null
		wait "$act_pid" 2>/dev/null
	fi
	[ -z "$installed" ] || dpkg --purge $PACKAGES >"$TEST_DIR/purge.log" 2>&1
	[ -z "$made_run_libvirt" ] || rm -rf /run/libvirt
	return 0
}
trap 'deb_cleanup; test_cleanup' EXIT

if [ -n "${XV_DEB_DIR:-}" ]; then
	DEBS=$XV_DEB_DIR
	test_expect_success "the packages built already are in XV_DEB_DIR ($XV_DEB_DIR)" '
		n=0 &&
		for p in $PACKAGES; do ls "$DEBS/${p}_"*.deb && n=$((n + 1)); done
		test $n = 4
	'
else
	DEBS=$TEST_DIR/deb
	BUILD=$DEBS/xenvirt
	test_expect_success 'dpkg-buildpackage -us -uc -b builds xenvirtd, libxenvirt0, libxenvirt-dev, xvsh' '
		mkdir -p "$BUILD" &&
		if [ -e "$SRC/.git" ]; then
			(cd "$SRC" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$BUILD")
		else
			# An unpacked tarball (make distcheck builds in _build and installs in _inst).
			tar -C "$SRC" --exclude=./_build --exclude=./_inst -cf - . | tar -C "$BUILD" -xf - &&
			chmod -R u+w "$BUILD"
		fi &&
		test -x "$BUILD/debian/rules" &&
		start=$(date +%s) &&
		{ (cd "$BUILD" && dpkg-buildpackage -us -uc -b) >"$DEBS/build.log" 2>&1 ||
		  { tail -n 40 "$DEBS/build.log"; false; }; } &&
		echo "$(( $(date +%s) - start ))" >"$TEST_DIR/build-seconds" &&
		n=0 &&
		for p in $PACKAGES; do ls "$DEBS/${p}_"*.deb && n=$((n + 1)); done
		test $n = 4
	'
	[ -s "$TEST_DIR/build-seconds" ] && echo "# dpkg-buildpackage took $(cat "$TEST_DIR/build-seconds") s"
fi

DEB_FILES=
for p in $PACKAGES; do
	DEB_FILES="$DEB_FILES $(ls "$DEBS/${p}_"*.deb 2>/dev/null | head -n 1)"
done

test_expect_success 'lintian: no errors' '
	lintian --tag-display-limit 0 $DEB_FILES >"$TEST_DIR/lintian.out" 2>&1
	rc=$?
	cat "$TEST_DIR/lintian.out"
	test $rc -le 1 && test -n "${DEB_FILES// /}" &&
	! grep -q "^E:" "$TEST_DIR/lintian.out"
'
if [ -s "$TEST_DIR/lintian.out" ]; then
	sed 's/^/# lintian: /' "$TEST_DIR/lintian.out"
fi

# One installing test at a time on this machine (another build tree's make check): a flock on
# dpkg's front-end lock file, which dpkg and apt lock with fcntl() and so never see.
exec 8</var/lib/dpkg/lock-frontend
flock -w 900 8 || { echo "Bail out! another t0510 holds the lock"; exit 1; }
for p in $PACKAGES; do
	if dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^[ihU]'; then
		echo "Bail out! package $p is installed already: this test installs and purges it"
		exit 1
	fi
done
snapshot >"$TEST_DIR/before"

test_expect_success 'dpkg -i installs the four packages' '
	installed=yes &&
	{ dpkg -i $DEB_FILES >install.log 2>&1 || { cat install.log; false; }; } &&
	n=0 &&
	for p in $PACKAGES; do
		dpkg-query -W -f "\${db:Status-Abbrev}" "$p" | grep -q "^ii" && n=$((n + 1))
	done &&
	test $n = 4 &&
	test -x /usr/sbin/xenvirtd && test -x /usr/bin/xvsh &&
	test -f "$UNITDIR/xenvirtd.service" && test -f "$UNITDIR/xenvirtd.socket" &&
	test -f "$UNITDIR/xenvirtd-ro.socket" && test -f "$UNITDIR/xenvirtd-virtxend.socket" &&
	dpkg-query -W -f "\${Conffiles}\n" xenvirtd | grep -q " /etc/xenvirt/xenvirtd.conf " &&
	test -f /usr/share/polkit-1/actions/org.xenvirt.policy &&
	test -f /usr/include/xenvirt.h &&
	pkg-config --exists libxenvirt &&
	test -d /run/xenvirt
'

test_expect_success 'systemd-analyze verify accepts the installed units' '
	(cd / && systemd-analyze verify "$UNITDIR"/xenvirtd.service "$UNITDIR"/xenvirtd.socket \
		"$UNITDIR"/xenvirtd-ro.socket "$UNITDIR"/xenvirtd-virtxend.socket \
		"$UNITDIR"/xenvirtd-virtxend-ro.socket) >verify.out 2>&1
	rc=$?
	cat verify.out
	test $rc = 0 && test ! -s verify.out
'

unit_get() {
	sed -n "s/^$2=//p" "$1" | tail -n 1
}

sandbox_up
kill -TERM "$XENVIRTD_PID"
for i in $(seq 100); do kill -0 "$XENVIRTD_PID" 2>/dev/null || break; sleep 0.1; done
ACT=$TEST_DIR/act
mkdir -p "$ACT"

RW=$(unit_get "$UNITDIR/xenvirtd.socket" ListenStream)
RO=$(unit_get "$UNITDIR/xenvirtd-ro.socket" ListenStream)
VX=$(unit_get "$UNITDIR/xenvirtd-virtxend.socket" ListenStream)
VX_RO=$(unit_get "$UNITDIR/xenvirtd-virtxend-ro.socket" ListenStream)
NAMES=$(unit_get "$UNITDIR/xenvirtd.socket" FileDescriptorName):$(unit_get "$UNITDIR/xenvirtd-ro.socket" FileDescriptorName)
VX_NAMES=$(unit_get "$UNITDIR/xenvirtd-virtxend.socket" FileDescriptorName):$(unit_get "$UNITDIR/xenvirtd-virtxend-ro.socket" FileDescriptorName)
VX_CHECK=$(unit_get "$UNITDIR/xenvirtd-virtxend.socket" ExecStartPre)
read -r -a EXEC_START <<<"$(unit_get "$UNITDIR/xenvirtd.service" ExecStart)"

test_expect_success 'the virtxend socket check of the installed unit lets xenvirtd take libvirt'"'"'s paths' '
	test "$VX" = /run/libvirt/virtxend-sock && test "$VX_RO" = /run/libvirt/virtxend-sock-ro &&
	if [ ! -d /run/libvirt ]; then mkdir -m 0755 /run/libvirt && made_run_libvirt=yes; fi &&
	test ! -e "$VX" && test ! -e "$VX_RO" &&
	$VX_CHECK
'

# In a sanitizer build the simulated hypervisor library beneath libxenctrl is instrumented too: the
# packaged (uninstrumented) xenvirtd then needs the ASan runtime loaded first to load it.
HV_LIB=$(ls "$XV_BUILDDIR"/tests/xensim/hv/.libs/libxencall.so.* 2>/dev/null | head -n 1)
DAEMON_ENV=()
if [ -n "$HV_LIB" ] && readelf -d "$HV_LIB" | grep -q "NEEDED.*libasan"; then
	DAEMON_ENV=(LD_PRELOAD="$(gcc -print-file-name=libasan.so)" ASAN_OPTIONS=detect_leaks=0)
fi

test_expect_success 'the installed xenvirtd, socket-activated on the installed units'"'"' paths, serves virsh' '
	test "${EXEC_START[0]}" = /usr/sbin/xenvirtd &&
	{ env "${DAEMON_ENV[@]}" systemd-socket-activate -l "$RW" -l "$RO" -l "$VX" -l "$VX_RO" --fdname="$NAMES:$VX_NAMES" \
		-E XENSTORED_PATH -E XENSIM_HV_SOCKET -E LD_LIBRARY_PATH -E LD_PRELOAD -E ASAN_OPTIONS \
		"${EXEC_START[@]}" --pid-file "$ACT/xenvirtd.pid" \
		--rw-socket "$ACT/not-used-rw" --ro-socket "$ACT/not-used-ro" \
		--xend-socket "$XEND_SOCKET" --xm-dir "$XENSIM_XM_DIR" --host-root "$XENSIM_ROOT" \
		>"$ACT/log" 2>&1 & } &&
	act_pid=$! &&
	for i in $(seq 200); do [ -S "$VX_RO" ] && break; sleep 0.05; done &&
	virsh -c "xen:///system?socket=$RW" list --all >out &&
	grep -qE "^ +0 +Domain-0 +running$" out &&
	test "$(cat "$ACT/xenvirtd.pid")" = "$act_pid" &&
	test "$(readlink "/proc/$act_pid/exe")" = /usr/sbin/xenvirtd &&
	virsh -r -c "xen:///system?socket=$RO" dominfo Domain-0 >info &&
	grep -qE "^State: +running$" info &&
	test_must_fail virsh -c "xen:///system?socket=$RO" destroy Domain-0 2>err &&
	grep -q "read only access prevents" err ||
	{ cat "$ACT/log"; false; }
'

test_expect_success 'the installed xvsh talks to the installed daemon' '
	/usr/bin/xvsh -c "xen:///system?socket=$RW" list --all >out &&
	grep -q Domain-0 out &&
	/usr/bin/xvsh -r -c "xen:///system?socket=$RO" nodeinfo >out &&
	grep -qi "cpu" out &&
	ldd /usr/bin/xvsh | grep -E "libxenvirt.so.0 => (/usr)?/lib/"
'

test_expect_success 'a plain virsh -c xen:///system reaches xenvirtd at libvirt'"'"'s virtxend paths' '
	virsh -c xen:///system list --all >out &&
	grep -qE "^ +0 +Domain-0 +running$" out &&
	virsh -r -c xen:///system hostname &&
	test_must_fail virsh -r -c xen:///system destroy Domain-0 2>err &&
	grep -q "read only access prevents" err
'

test_expect_success 'dpkg --purge removes the packages and leaves the machine as it was' '
	kill -TERM "$act_pid" && wait "$act_pid" &&
	act_pid= &&
	rm -f "$RW" "$RO" "$VX" "$VX_RO" &&
	if [ -n "$made_run_libvirt" ]; then rmdir /run/libvirt && made_run_libvirt=; fi &&
	{ dpkg --purge $PACKAGES >purge.log 2>&1 || { cat purge.log; false; }; } &&
	installed= &&
	snapshot >"$TEST_DIR/after" &&
	diff -u "$TEST_DIR/before" "$TEST_DIR/after"
'

test_done
