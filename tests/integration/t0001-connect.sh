#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The connection-level procedures through the stock clients: virsh version/hostname/uri/
# capabilities and python3-libvirt's open/getType/getVersion/getLibVersion/getHostname/isSecure/
# close, on the read-write and the read-only socket.

. "$(dirname "$0")/lib.sh"

test_require_virsh
sandbox_up

test_expect_success 'the sockets exist with their modes (rw 0600, ro 0666)' '
	test "$(stat -c %a "$sandbox_dir/xenvirtd-sock")" = 600 &&
	test "$(stat -c %a "$sandbox_dir/xenvirtd-sock-ro")" = 666
'

test_expect_success 'virsh version names Xen and its version' '
	virsh -c "$XENVIRT_URI" version >out &&
	grep -q "^Using API: Xen " out &&
	grep -Eq "^Running hypervisor: Xen [0-9]+\.[0-9]+\.[0-9]+" out
'

test_expect_success 'virsh hostname answers' '
	virsh -c "$XENVIRT_URI" hostname >out &&
	test -n "$(head -n 1 out)"
'

test_expect_success 'virsh uri' '
	virsh -c "$XENVIRT_URI" uri >out &&
	grep -qx "$XENVIRT_URI" out
'

test_expect_success 'virsh capabilities prints host capabilities XML (or NO_SUPPORT until implemented)' '
	if virsh -c "$XENVIRT_URI" capabilities >out 2>err; then
		grep -q "<capabilities>" out
	else
		grep -q "this function is not supported by the connection driver" err
	fi
'

test_expect_success 'virsh -r on the read-only socket' '
	virsh -r -c "$XENVIRT_URI_RO" version >out &&
	grep -q "^Running hypervisor: Xen " out &&
	virsh -r -c "$XENVIRT_URI_RO" hostname
'

test_expect_success 'virsh keepalive handshake (feature 10) leaves the connection usable' '
	virsh -c "$XENVIRT_URI" "version; hostname; version" >out &&
	test "$(grep -c "^Running hypervisor: Xen" out)" = 2
'

if "$TEST_PYTHON" -c "import libvirt" >/dev/null 2>&1; then
	test_expect_success 'python3-libvirt: open, host calls, close' '
		"$TEST_PYTHON" - "$XENVIRT_URI" <<-\PY
		import sys, libvirt
		c = libvirt.open(sys.argv[1])
		assert c.getType() == "Xen", c.getType()
		assert c.getVersion() > 3000000, c.getVersion()
		assert c.getLibVersion() > 0
		assert c.getHostname()
		assert c.isSecure() == 1
		assert c.isAlive() == 1
		c.close()
		PY
	'
	test_expect_success 'python3-libvirt with an event loop (keepalive negotiated), read-only' '
		"$TEST_PYTHON" - "$XENVIRT_URI_RO" <<-\PY
		import sys, libvirt
		libvirt.virEventRegisterDefaultImpl()
		c = libvirt.openReadOnly(sys.argv[1])
		assert c.getType() == "Xen"
		c.close()
		PY
	'
else
	test_skip 'python3-libvirt: open, host calls, close' 'python3-libvirt missing'
	test_skip 'python3-libvirt with an event loop' 'python3-libvirt missing'
fi

test_done
