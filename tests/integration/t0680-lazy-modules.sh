#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The XML parser is a module (src/modules.inc.am, daemon/xvd-xml-parser.c; issue 12: idle RSS):
#  - a daemon that has only listed, looked up and dumped XML has mapped neither the module nor
#    libxml2 (/proc/PID/maps);
#  - the first definitions, sent by eight clients at once, load it once and all succeed; bad XML
#    still gets its precise error (code 27, VIR_ERR_XML_ERROR) through the module;
#  - without the module (XENVIRTD_MODULE_DIR naming an empty directory) a definition fails with
#    code 3 (VIR_ERR_NO_SUPPORT) naming the module, and the daemon keeps serving everything else.

. "$(dirname "$0")/lib.sh"

test_require_virsh
test_require_python_libvirt
sandbox_up

URI=$XENVIRT_URI
# domain_xml NAME N: a small PV definition with a distinct uuid and MAC.
domain_xml() {
	printf "<domain type='xen'><name>%s</name><uuid>6b656e63-6800-4000-8000-0000000006%02d</uuid>" "$1" "$2"
	printf "<memory>262144</memory><vcpu>1</vcpu><os><type>linux</type><kernel>/boot/vmlinuz</kernel></os>"
	printf "<devices><interface type='bridge'><source bridge='xenbr0'/><mac address='00:16:3e:00:06:%02d'/></interface></devices></domain>\n" "$2"
}
mapped() {
	grep -q "$1" "/proc/$XENVIRTD_PID/maps"
}

test_expect_success 'after list, dominfo and dumpxml: neither the parser module nor libxml2 is mapped' '
	virsh -q -c "$URI" list --all > /dev/null &&
	virsh -q -c "$URI" dominfo Domain-0 > /dev/null &&
	virsh -q -c "$URI" dumpxml Domain-0 | grep -q "<domain" &&
	! mapped xml-parser.so &&
	! mapped libxml2
'

test_expect_success 'eight first definitions at once: one load, all defined' '
	for i in 1 2 3 4 5 6 7 8; do
		domain_xml "lazy$i" "$i" > "$TEST_DIR/lazy$i.xml"
	done &&
	for i in 1 2 3 4 5 6 7 8; do
		virsh -q -c "$URI" define "$TEST_DIR/lazy$i.xml" > "$TEST_DIR/define$i.out" 2>&1 &
	done &&
	wait &&
	for i in 1 2 3 4 5 6 7 8; do
		virsh -q -c "$URI" domstate "lazy$i" | grep -qx "shut off" || return 1
	done &&
	mapped xml-parser.so &&
	virsh -q -c "$URI" dumpxml lazy3 | grep -q "<name>lazy3</name>"
'

test_expect_success 'malformed XML through the module: VIR_ERR_XML_ERROR (27)' '
	"$TEST_PYTHON" - <<-\PY
	import libvirt, os
	libvirt.registerErrorHandler(lambda ctx, err: None, None)
	c = libvirt.open(os.environ["XENVIRT_URI"])
	try:
	    c.defineXML("<domain type=\"xen\"><name>broken</name>")
	    raise SystemExit("malformed XML was accepted")
	except libvirt.libvirtError as e:
	    assert e.get_error_code() == 27, (e.get_error_code(), str(e))
	PY
'

# A fresh simulated host, its daemon started without the modules.
"$SANDBOX" down "$sandbox_dir" > /dev/null 2>&1
mkdir -p "$TEST_DIR/no-modules"
XV_SANDBOX_WRAPPER="env XENVIRTD_MODULE_DIR=$TEST_DIR/no-modules ${XV_SANDBOX_WRAPPER:-}" sandbox_up
URI=$XENVIRT_URI

test_expect_success 'without the module: define fails with VIR_ERR_NO_SUPPORT naming it; the rest works' '
	domain_xml lazy9 9 > "$TEST_DIR/lazy9.xml" &&
	"$TEST_PYTHON" - "$TEST_DIR/lazy9.xml" <<-\PY &&
	import libvirt, os, sys
	libvirt.registerErrorHandler(lambda ctx, err: None, None)
	c = libvirt.open(os.environ["XENVIRT_URI"])
	for attempt in range(2):
	    try:
	        c.defineXML(open(sys.argv[1]).read())
	        raise SystemExit("defined without the parser module")
	    except libvirt.libvirtError as e:
	        assert e.get_error_code() == 3, (e.get_error_code(), str(e))
	        assert "xml-parser.so" in str(e), str(e)
	assert c.lookupByName("Domain-0").info()[0] == libvirt.VIR_DOMAIN_RUNNING
	assert "<domain" in c.lookupByName("Domain-0").XMLDesc(0)
	PY
	kill -0 "$XENVIRTD_PID" &&
	virsh -q -c "$URI" list --all --name | grep -qx Domain-0 &&
	! mapped libxml2
'

test_done
