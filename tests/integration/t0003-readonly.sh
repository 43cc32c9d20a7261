#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The read-only socket: every procedure not annotated @readonly: yes is refused by the daemon
# (not only by the client library) with code 29 "operation forbidden", and the connection stays
# usable; CONNECT_OPEN with the read-only flag makes a read-write connection read-only too.

. "$(dirname "$0")/lib.sh"

sandbox_up

# ro_case SOCKET READONLY-FLAG: DEFINE_XML and CONNECT_DOMAIN_XML_TO_NATIVE are refused, the
# connection still answers afterwards.
ro_case() {
	"$TEST_PYTHON" - "$XV_TEST_SRCDIR/integration" "$1" "$2" <<-\PY
	import sys, struct
	sys.path.insert(0, sys.argv[1])
	from xvd_raw import *
	c = Conn(sys.argv[2])
	c.handshake(read_only=(sys.argv[3] == "1"))
	r = c.call(DEFINE_XML, xdr_string("<domain type=\"xen\"><name>ro</name></domain>"))
	e = error_of(r)
	assert e and e[0] == 29, e
	assert e[2] == "operation forbidden: read only access prevents virDomainDefineXML", e
	r = c.call(136, xdr_string("xen-xm") + xdr_string("<domain/>") + struct.pack(">I", 0))
	assert error_of(r)[0] == 29, error_of(r)
	assert c.get_type() == "Xen"
	r = c.call(SUPPORTS_FEATURE, struct.pack(">i", 10))
	assert r[5] == OK
	assert c.get_type() == "Xen"
	PY
}

test_expect_success 'ro socket refuses a write procedure with code 29 and stays usable' '
	ro_case "$sandbox_dir/xenvirtd-sock-ro" 1
'

test_expect_success 'ro socket stays read-only when CONNECT_OPEN omits the read-only flag' '
	ro_case "$sandbox_dir/xenvirtd-sock-ro" 0
'

test_expect_success 'rw socket opened with the read-only flag is read-only' '
	ro_case "$sandbox_dir/xenvirtd-sock" 1
'

test_expect_success 'rw socket without the flag lets the write procedure through to its handler' '
	"$TEST_PYTHON" - "$XV_TEST_SRCDIR/integration" "$sandbox_dir/xenvirtd-sock" <<-\PY
	import sys
	sys.path.insert(0, sys.argv[1])
	from xvd_raw import *
	c = Conn(sys.argv[2])
	c.handshake()
	r = c.call(DEFINE_XML, xdr_string("not xml"))
	e = error_of(r)
	assert e is None or e[0] != 29, e
	PY
'

test_expect_success 'virsh -r define is refused' '
	echo "<domain type=\"xen\"><name>x</name></domain>" >x.xml &&
	test_must_fail virsh -r -c "$XENVIRT_URI_RO" define x.xml 2>err &&
	grep -q "operation forbidden" err
'

test_done
