#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Host procedures through the stock clients against xensim: virsh nodeinfo, capabilities,
# hostname, version, freecell, maxvcpus, and the same facts through python3-libvirt. The expected
# numbers are xensim's host (8 CPUs in 2 NUMA cells, 2400 MHz, 32 GiB; "xensim-ctl stats").

. "$(dirname "$0")/lib.sh"

test_require_virsh
sandbox_up

v() {
        virsh -c "$XENVIRT_URI" "$@"
}

stat_value() {
        "$XENSIM_CTL" "$XENSIM_CONTROL" stats | awk -v k="$1" '$1 == k { print $2 }'
}

# "Label:   value" of a virsh key/value listing.
field() {
        sed -n "s/^$1: *//p"
}

test_expect_success 'virsh nodeinfo' '
	v nodeinfo >nodeinfo &&
	test "$(field "CPU model" <nodeinfo)" = x86_64 &&
	test "$(field "CPU(s)" <nodeinfo)" = 8 &&
	test "$(field "CPU frequency" <nodeinfo)" = "2400 MHz" &&
	test "$(field "NUMA cell(s)" <nodeinfo)" = 2 &&
	test "$(field "Memory size" <nodeinfo)" = "$(stat_value total_memory_kib) KiB"
'

test_expect_success 'nodeinfo topology multiplies to the CPU count' '
	s=$(field "CPU socket(s)" <nodeinfo) &&
	c=$(field "Core(s) per socket" <nodeinfo) &&
	t=$(field "Thread(s) per core" <nodeinfo) &&
	test $((2 * s * c * t)) = 8
'

test_expect_success 'virsh capabilities is host capabilities XML' '
	v capabilities >caps &&
	grep -q "<capabilities>" caps &&
	grep -q "<arch>x86_64</arch>" caps &&
	grep -q "<os_type>xen</os_type>" caps &&
	grep -q "<os_type>hvm</os_type>" caps &&
	grep -q "</capabilities>" caps
'

test_expect_success 'virsh hostname' '
	v hostname >hostname &&
	test -n "$(cat hostname)"
'

test_expect_success 'virsh version reports the Xen version of the host' '
	v version >version &&
	grep -q "^Running hypervisor: Xen 4\.1\.2$" version
'

test_expect_success 'virsh freecell: total free memory matches the host' '
	v freecell >freecell &&
	free=$(stat_value free_memory_kib) &&
	grep -q "^Total: $free KiB$" freecell
'

test_expect_success 'virsh freecell --all lists both NUMA cells' '
	v freecell --all >freecell-all &&
	grep -q "^ *0: " freecell-all &&
	grep -q "^ *1: " freecell-all
'

test_expect_success 'virsh maxvcpus' '
	n=$(v maxvcpus) &&
	test "$n" -ge 1
'

test_expect_success 'read-only socket serves nodeinfo' '
	virsh -r -c "$XENVIRT_URI_RO" nodeinfo >nodeinfo-ro &&
	test_cmp nodeinfo nodeinfo-ro
'

if "$TEST_PYTHON" -c 'import libvirt' > /dev/null 2>&1; then
        test_expect_success 'python3-libvirt: getInfo, getHostname, getVersion, getType, getFreeMemory' '
		"$TEST_PYTHON" - "$XENVIRT_URI" "$(stat_value free_memory_kib)" "$(cat hostname)" <<-\EOF
		import sys, libvirt
		uri, free_kib, hostname = sys.argv[1], int(sys.argv[2]), sys.argv[3]
		c = libvirt.open(uri)
		info = c.getInfo()
		assert info[0] == "x86_64", info
		assert info[2] == 8 and info[3] == 2400 and info[4] == 2, info
		assert c.getHostname() == hostname, c.getHostname()
		assert c.getVersion() == 4001002, c.getVersion()
		assert c.getType() == "Xen", c.getType()
		assert c.getFreeMemory() == free_kib * 1024, (c.getFreeMemory(), free_kib)
		cells = c.getCellsFreeMemory(0, 2)
		assert len(cells) == 2, cells
		assert c.getLibVersion() >= 1
		c.close()
		EOF
	'
else
        test_skip 'python3-libvirt host calls' 'python3-libvirt is not installed'
fi

test_done
