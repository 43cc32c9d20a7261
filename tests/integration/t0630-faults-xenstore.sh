#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# xenstored faults injected by xensim (issue 10): xenstored disappearing while the daemon runs
# (calls that need it fail with VIR_ERR_NO_XENSTORE, the rest is served), coming back (the daemon
# reconnects by itself, re-registers its watches, and a define/start afterwards reaches an event
# listener that stayed connected throughout), and xenstored absent when the daemon starts.

. "$(dirname "$0")/lib.sh"

test_require_python_libvirt
sandbox_up

ctl() {
	"$XENSIM_CTL" "$XENSIM_CONTROL" "$@"
}

# Waits (20 s at most) until xensim counts $2 watches on $1.
wait_watches() {
	local i n
	for i in $(seq 200); do
		n=$(ctl xenstore watches "$1")
		[ "$n" = "$2" ] && return 0
		sleep 0.1
	done
	echo "watches on $1: $n, expected $2"
	return 1
}

restart_daemon() {
	local pid i
	pid=$(cat "$sandbox_dir/xenvirtd.pid")
	kill -TERM "$pid"
	for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && return 1
	rm -f "$sandbox_dir/xenvirtd.pid"
	"$XV_BUILDDIR/daemon/xenvirtd" --config "$sandbox_dir/xenvirtd.conf" \
		--rw-socket "$sandbox_dir/xenvirtd-sock" --ro-socket "$sandbox_dir/xenvirtd-sock-ro" \
		--pid-file "$sandbox_dir/xenvirtd.pid" --xend-socket "$XEND_SOCKET" \
		--xm-dir "$XENSIM_XM_DIR" --host-root "$XENSIM_ROOT" \
		</dev/null >>"$sandbox_dir/xenvirtd.log" 2>&1 &
	for i in $(seq 200); do
		[ -s "$sandbox_dir/xenvirtd.pid" ] && [ -S "$sandbox_dir/xenvirtd-sock" ] && return 0
		sleep 0.1
	done
	return 1
}

cat >"$TEST_DIR/listener.py" <<-\PY
import libvirt, os, sys, threading, time
libvirt.registerErrorHandler(lambda ctx, err: None, None)
libvirt.virEventRegisterDefaultImpl()
c = libvirt.open(os.environ["XENVIRT_URI"])
out = open(sys.argv[1], "a", buffering=1)
def cb(conn, dom, event, detail, opaque):
    out.write("%s %d %d\n" % (dom.name(), event, detail))
c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, None)
out.write("ready\n")
while True:
    libvirt.virEventRunDefaultImpl()
PY

DOM_XML="<domain type='xen'><name>xsd1</name><uuid>6f1a2b3c-0000-4000-8000-00000000a001</uuid>
<memory>65536</memory><vcpu>1</vcpu><os><type>linux</type><kernel>/boot/vmlinuz</kernel></os>
<devices><disk type='file'><source file='/var/lib/xen/images/xsd1.img'/><target dev='xvda'/></disk></devices></domain>"
export DOM_XML

listener_pid=
stop_listener() {
	[ -z "$listener_pid" ] || kill "$listener_pid" 2>/dev/null
	listener_pid=
	return 0
}
test_cleanup_hooks+=(stop_listener)

test_expect_success 'the daemon watches @introduceDomain and @releaseDomain; a listener is up' '
	wait_watches @introduceDomain 1 && wait_watches @releaseDomain 1 &&
	"$TEST_PYTHON" "$TEST_DIR/listener.py" "$TEST_DIR/events" 2>"$TEST_DIR/listener.err" &
	listener_pid=$! &&
	for i in $(seq 100); do grep -q ready "$TEST_DIR/events" 2>/dev/null && break; sleep 0.1; done &&
	grep -q ready "$TEST_DIR/events"
'

test_expect_success 'xenstored gone: NO_XENSTORE where it is needed, the rest served, no false events' '
	ctl domain create xsguest >/dev/null &&
	eventually virsh -c "$XENVIRT_URI" domid xsguest &&
	ctl xenstore absent on &&
	wait_watches @introduceDomain 0 &&
	"$TEST_PYTHON" - <<-\PY &&
	import libvirt, os, time
	libvirt.registerErrorHandler(lambda ctx, err: None, None)
	c = libvirt.open(os.environ["XENVIRT_URI"])
	d = c.lookupByName("xsguest")
	assert d.info()[0] == libvirt.VIR_DOMAIN_RUNNING
	# Longer than the backend poll (2 s): the listing keeps the names xenstore gave.
	time.sleep(3)
	names = sorted(x.name() for x in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE))
	assert names == ["Domain-0", "xsguest"], names
	disk = ("<disk type=\"file\" device=\"disk\"><source file=\"/var/lib/xensim/images/xsguest.img\"/>"
	        "<target dev=\"xvda\"/></disk>")
	try:
	    d.detachDeviceFlags(disk, libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG)
	    raise AssertionError("no error")
	except libvirt.libvirtError as e:
	    print(e.get_error_code(), e.get_error_domain(), e.get_error_message())
	    assert e.get_error_code() == libvirt.VIR_ERR_NO_XENSTORE, e.get_error_code()
	    assert e.get_error_domain() == libvirt.VIR_FROM_XENSTORE, e.get_error_domain()
	    assert "Cannot connect to xenstored" in e.get_error_message(), e.get_error_message()
	PY
	cat events &&
	! grep -q "^xsguest 5 " events
'

test_expect_success 'xenstored back: the daemon reconnects and re-registers its watches' '
	ctl xenstore absent off &&
	wait_watches @introduceDomain 1 && wait_watches @releaseDomain 1
'

test_expect_success 'after the reconnect a define and a start reach the listener' '
	"$TEST_PYTHON" - <<-\PY &&
	import libvirt, os
	c = libvirt.open(os.environ["XENVIRT_URI"])
	c.defineXML(os.environ["DOM_XML"]).create()
	PY
	ctl domain create xsguest2 >/dev/null &&
	for i in $(seq 200); do
		grep -q "^xsd1 0 " events && grep -q "^xsd1 2 " events && grep -q "^xsguest2 2 " events && break
		sleep 0.1
	done &&
	cat events &&
	grep -q "^xsd1 0 0$" events && grep -q "^xsd1 2 0$" events && grep -q "^xsguest2 2 0$" events &&
	virsh -c "$XENVIRT_URI" list --name >names && grep -qx xsguest2 names && grep -qx xsd1 names
'

test_expect_success 'the request channel recovered too: shutdown through xenstore works' '
	virsh -c "$XENVIRT_URI" shutdown xsguest &&
	for i in $(seq 200); do grep -q "^xsguest 5 " events && break; sleep 0.1; done &&
	grep -q "^xsguest 5 " events
'

test_expect_success 'xenstored absent when the daemon starts: it serves, then connects' '
	stop_listener &&
	ctl xenstore absent on &&
	restart_daemon &&
	grep -q "xenstored is not reachable" "$sandbox_dir/xenvirtd.log" &&
	virsh -c "$XENVIRT_URI" domid xsd1 &&
	ctl xenstore absent off &&
	wait_watches @introduceDomain 1 &&
	ctl domain create xsguest3 >/dev/null &&
	eventually virsh -c "$XENVIRT_URI" domid xsguest3 &&
	virsh -c "$XENVIRT_URI" destroy xsguest3
'

test_done
