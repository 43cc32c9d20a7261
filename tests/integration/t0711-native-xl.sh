#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# virsh domxml-to-native xen-xl / domxml-from-native xen-xl (libvirt's name for the xl.cfg
# format) through the sandbox daemon: the four seed examples there and back (a fixed point after
# one trip), a hand-written xl.cfg in xl-disk-configuration syntax, and precise errors for what
# xl.cfg cannot say or what is malformed.

. "$(dirname "$0")/lib.sh"

test_require_virsh
[ -d "$TEST_SEED_DIR" ] || { echo "Bail out! no seed examples in $TEST_SEED_DIR"; exit 1; }
sandbox_up

v() {
        virsh -c "$XENVIRT_URI" "$@"
}

for f in "$TEST_SEED_DIR"/*.xml; do
        s=$(basename "$f" .xml)
        name=$(sed -n "s|.*<name>\([^<]*\)</name>.*|\1|p" "$f")
        case $s in hvm-*) type=hvm ;; *) type=pv ;; esac

        test_expect_success "$s: domxml-to-native xen-xl" '
		v domxml-to-native xen-xl "$f" >$s.cfg &&
		grep -qx "name = \"$name\"" $s.cfg &&
		grep -qx "type = \"$type\"" $s.cfg &&
		! grep -q "^builder" $s.cfg &&
		grep -q "^disk = \[ \"" $s.cfg
	'

        test_expect_success "$s: domxml-from-native xen-xl, and a fixed point" '
		v domxml-from-native xen-xl $s.cfg >$s.back.xml &&
		grep -q "<name>$name</name>" $s.back.xml &&
		v domxml-to-native xen-xl $s.back.xml >$s.again.cfg &&
		test_cmp $s.cfg $s.again.cfg
	'
done

test_expect_success 'the HVM floppy goes through device_model_args' '
	grep -qx "device_model_args = \[ \"-fda\", \"/root/fd.img\" \]" hvm-bios-boot.cfg &&
	grep -q "<target dev=.fda." hvm-bios-boot.back.xml
'

test_expect_success 'xl-disk-configuration syntax reads into the right model' '
	cat >hand.cfg <<-\EOF &&
	name = "hand"
	uuid = "c7a5fdb0-cdaf-9455-926a-d65c16db1809"
	type = "hvm"
	memory = 256
	disk = [ "/dev/vg/hand,raw,xvda,rw", "format=qcow2, vdev=hdb, access=ro, target=/img/b.qcow2", ",,hdc:cdrom,r" ]
	vif = [ "mac=00:16:3e:00:00:01,bridge=xenbr0,type=vif" ]
	usbdevice = [ "tablet" ]
	EOF
	v domxml-from-native xen-xl hand.cfg >hand.xml &&
	cat hand.xml &&
	grep -q "<source dev=./dev/vg/hand./>" hand.xml &&
	grep -q "<target dev=.xvda. bus=.xen./>" hand.xml &&
	grep -q "<driver name=.file. type=.qcow2./>" hand.xml &&
	grep -q "<source file=./img/b.qcow2./>" hand.xml &&
	grep -q "<disk type=.file. device=.cdrom.>" hand.xml &&
	grep -q "<model type=.netfront./>" hand.xml &&
	grep -q "<input type=.tablet. bus=.usb./>" hand.xml
'

test_expect_success 'PVH is refused with a clear error' '
	printf "name = \"p\"\ntype = \"pvh\"\n" >pvh.cfg &&
	test_must_fail v domxml-from-native xen-xl pvh.cfg 2>err &&
	grep -q "PVH guests (type = \"pvh\") are not supported" err
'

test_expect_success 'a bad disk specification names the problem' '
	printf "name = \"d\"\nkernel = \"/k\"\ndisk = [ \"/img/a,raw\" ]\n" >disk.cfg &&
	test_must_fail v domxml-from-native xen-xl disk.cfg 2>err &&
	grep -q "disk ./img/a,raw. has no vdev" err
'

test_expect_success 'a syntax error names the line' '
	printf "name = \"s\"\nmemory = \n" >syntax.cfg &&
	test_must_fail v domxml-from-native xen-xl syntax.cfg 2>err &&
	grep -q "line 2" err
'

test_expect_success 'a parallel port cannot be written to xl.cfg' '
	printf "%s\n" "<domain type=\"xen\"><name>par</name><memory>65536</memory><vcpu>1</vcpu>" \
		"<os><type>hvm</type></os><devices><parallel type=\"pty\"/></devices></domain>" >par.xml &&
	test_must_fail v domxml-to-native xen-xl par.xml 2>err &&
	grep -q "parallel ports are not supported by xl" err
'

test_expect_success 'an unknown format is still refused' '
	test_must_fail v domxml-to-native xen-foo "$TEST_SEED_DIR/pv-bootloader.xml" 2>err &&
	grep -q "unsupported config type xen-foo" err
'

test_done
