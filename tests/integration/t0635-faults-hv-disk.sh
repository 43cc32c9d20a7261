#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Hypercalls failing (xensim "hypervisor fail on": every hypercall answers EPERM) and the XM
# directory (the sandbox's /etc/xen, xend config version 2) full or read-only (issue 10):
# clear errors, no false lifecycle events, and a failed define leaves the old config file byte
# for byte as it was, with no temporary file behind. Runs as root: permissions do not stop root,
# so a full tmpfs and a read-only bind mount are mounted over the directory (and unmounted on exit).

. "$(dirname "$0")/lib.sh"

test_require_python_libvirt
[ "$(id -u)" = 0 ] || { echo "Bail out! t0635 mounts file systems: it runs as root"; exit 1; }
sandbox_up --xend-config-version 2

ctl() {
	"$XENSIM_CTL" "$XENSIM_CONTROL" "$@"
}

mounted=()
unmount_all() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount -l "${mounted[$i]}" 2>/dev/null
	done
	mounted=()
	return 0
}
# Unmounted before the sandbox goes (lib.sh runs its hooks after "down"): also on the trap.
trap 'unmount_all; test_cleanup' EXIT

listener_pid=
stop_listener() {
	[ -z "$listener_pid" ] || kill "$listener_pid" 2>/dev/null
	listener_pid=
	return 0
}
test_cleanup_hooks+=(stop_listener)

cat >"$TEST_DIR/listener.py" <<-\PY
import libvirt, os, sys
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

# dom_xml NAME MEMORY_KIB UUID-SUFFIX (5 digits)
dom_xml() {
	cat <<-EOF
	<domain type='xen'><name>$1</name><uuid>6f1a2b3c-0000-4000-8000-0000000$3</uuid>
	<memory>$2</memory><vcpu>1</vcpu><os><type>linux</type><kernel>/boot/vmlinuz</kernel></os>
	<devices><disk type='file'><source file='/var/lib/xen/images/$1.img'/><target dev='xvda'/></disk></devices></domain>
	EOF
}

# expect_define_error FILE.xml TEXT: the define fails with VIR_ERR_SYSTEM_ERROR naming TEXT.
expect_define_error() {
	"$TEST_PYTHON" - "$1" "$2" <<-\PY
	import libvirt, os, sys
	libvirt.registerErrorHandler(lambda ctx, err: None, None)
	c = libvirt.open(os.environ["XENVIRT_URI"])
	try:
	    c.defineXML(open(sys.argv[1]).read())
	    raise AssertionError("no error")
	except libvirt.libvirtError as e:
	    print(e.get_error_code(), e.get_error_domain(), e.get_error_message())
	    assert e.get_error_code() == libvirt.VIR_ERR_SYSTEM_ERROR, e.get_error_code()
	    assert "Cannot write" in e.get_error_message(), e.get_error_message()
	    assert sys.argv[2] in e.get_error_message(), e.get_error_message()
	PY
}

no_temp_files() {
	! ls -A "$XENSIM_XM_DIR" | grep -e '\.xenvirt-' -e '^[^.].*\.[A-Za-z0-9]\{6\}$'
}

test_expect_success 'an event listener is up' '
	"$TEST_PYTHON" "$TEST_DIR/listener.py" "$TEST_DIR/events" 2>"$TEST_DIR/listener.err" &
	listener_pid=$! &&
	for i in $(seq 100); do grep -q ready "$TEST_DIR/events" 2>/dev/null && break; sleep 0.1; done &&
	grep -q ready "$TEST_DIR/events" &&
	ctl domain create hvguest >/dev/null &&
	for i in $(seq 100); do grep -q "^hvguest 2 " events && break; sleep 0.1; done &&
	grep -q "^hvguest 2 " events
'

test_expect_success 'hypercalls failing: clear errors, no false events' '
	ctl hypervisor fail on &&
	"$TEST_PYTHON" - <<-\PY &&
	import libvirt, os, time
	libvirt.registerErrorHandler(lambda ctx, err: None, None)
	c = libvirt.open(os.environ["XENVIRT_URI"])
	def expect(fn, text):
	    try:
	        fn()
	        raise AssertionError("no error")
	    except libvirt.libvirtError as e:
	        print(e.get_error_code(), e.get_error_domain(), e.get_error_message())
	        assert e.get_error_code() == libvirt.VIR_ERR_XEN_CALL, e.get_error_code()
	        assert e.get_error_domain() == libvirt.VIR_FROM_XEN, e.get_error_domain()
	        assert text in e.get_error_message() and "Operation not permitted" in e.get_error_message()
	expect(c.listDomainsID, "xc_domain_getinfolist")
	expect(c.getInfo, "xc_physinfo")
	expect(c.getVersion, "xc_version")
	# A lookup answers from xenstore (identity only, no hypercall); the first call that needs
	# the hypervisor reports its failure.
	expect(lambda: c.lookupByName("hvguest").info(), "xc_domain_getinfolist")
	# Longer than the backend poll (2 s): a failing hypervisor is not "every domain stopped".
	time.sleep(3)
	PY
	ctl hypervisor fail off &&
	virsh -c "$XENVIRT_URI" list --name >names &&
	grep -qx hvguest names &&
	cat events &&
	test "$(grep -c "^hvguest " events)" = 1
'

test_expect_success 'hypercalls back: events flow again' '
	ctl domain destroy hvguest &&
	for i in $(seq 100); do grep -q "^hvguest 5 " events && break; sleep 0.1; done &&
	grep -q "^hvguest 5 " events
'

test_expect_success 'a domain defined in the XM directory' '
	dom_xml keep 65536 00001 >keep-old.xml &&
	dom_xml keep 131072 00001 >keep-new.xml &&
	dom_xml other 98304 00002 >other.xml &&
	virsh -c "$XENVIRT_URI" define keep-old.xml &&
	test -s "$XENSIM_XM_DIR/keep" &&
	cp -p "$XENSIM_XM_DIR/keep" keep.saved
'

test_expect_success 'XM directory full: define fails clearly, the old file survives intact' '
	mkdir -p "$TEST_DIR/tiny" &&
	mount -t tmpfs -o size=64k,mode=0755 tmpfs "$TEST_DIR/tiny" && mounted+=("$TEST_DIR/tiny") &&
	cp -a "$XENSIM_XM_DIR/." "$TEST_DIR/tiny/" &&
	mount --bind "$TEST_DIR/tiny" "$XENSIM_XM_DIR" && mounted+=("$XENSIM_XM_DIR") &&
	{ dd if=/dev/zero of="$XENSIM_XM_DIR/.filler" bs=4k 2>/dev/null; true; } &&
	df "$XENSIM_XM_DIR" &&
	expect_define_error keep-new.xml "No space left on device" &&
	expect_define_error other.xml "No space left on device" &&
	cmp keep.saved "$XENSIM_XM_DIR/keep" &&
	test ! -e "$XENSIM_XM_DIR/other" &&
	no_temp_files &&
	virsh -c "$XENVIRT_URI" dumpxml keep >dump.xml &&
	grep -q "<memory unit=.KiB.>65536</memory>" dump.xml &&
	rm -f "$XENSIM_XM_DIR/.filler"
'

test_expect_success 'XM directory read-only: define fails clearly, the old file survives intact' '
	mount -o remount,bind,ro "$XENSIM_XM_DIR" &&
	expect_define_error keep-new.xml "Read-only file system" &&
	expect_define_error other.xml "Read-only file system" &&
	cmp keep.saved "$XENSIM_XM_DIR/keep" &&
	no_temp_files &&
	virsh -c "$XENVIRT_URI" dumpxml keep >dump.xml &&
	grep -q "<memory unit=.KiB.>65536</memory>" dump.xml
'

test_expect_success 'writable again: the define goes through' '
	unmount_all &&
	virsh -c "$XENVIRT_URI" define keep-new.xml &&
	! cmp -s keep.saved "$XENSIM_XM_DIR/keep" &&
	virsh -c "$XENVIRT_URI" dumpxml keep >dump.xml &&
	grep -q "<memory unit=.KiB.>131072</memory>" dump.xml &&
	no_temp_files
'

test_done
