#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# xenvirtd --import (issue 11): a fake XenD managed-domain store (DIR/<uuid>/config.sxp, from the
# seed examples through tests/xv-convert and from a conformance S-expression) and a fake XM
# directory (seed and conformance XM files, auto/ links, and the files /etc/xen holds that are no
# domain) are imported into an xl store. Checked: the files written (xl format, mode 0600, parse
# back), the autostart links, XenD winning over XM for the same UUID, idempotence (a second run
# changes nothing), refusal of clashes (never overwriting), the report lines and exit codes,
# --dry-run writing nothing, and --to defaulting to the config's xl_config_dir.

. "$(dirname "$0")/lib.sh"

XENVIRTD=$XV_BUILDDIR/daemon/xenvirtd
CONVERT=$XV_BUILDDIR/tests/xv-convert
CONF_DIR=$TEST_SEED_DIR/../conformance
[ -x "$XENVIRTD" ] || { echo "Bail out! $XENVIRTD is not built"; exit 1; }
[ -x "$CONVERT" ] || { echo "Bail out! $CONVERT is not built (make check builds it)"; exit 1; }
[ -d "$TEST_SEED_DIR" ] || { echo "Bail out! no seed examples in $TEST_SEED_DIR"; exit 1; }

HVM_UUID=4dea22b3-1d52-d8f3-2516-782e98ab3fa0
PV_UUID=11111111-2222-3333-4444-555555555501
PV2_UUID=11111111-2222-3333-4444-555555555502
XG_UUID=c7a5fdb0-cdaf-9455-926a-d65c16db1809

imp() {
        "$XENVIRTD" --import --from-xend "$TEST_DIR/xend" --from-xm "$TEST_DIR/xm" "$@"
}

# A listing of the store that changes when any file or link does.
store_state() {
        (cd "$1" && find . -printf '%p %y %m %s %T@ %l\n' | sort)
}

test_expect_success 'build a XenD store and an XM directory' '
	mkdir -p xend/$HVM_UUID xend/$PV_UUID xend/pvtest xend/not-a-domain xm/auto xm/scripts &&
	"$CONVERT" domain-xml xen-sxpr "$TEST_SEED_DIR/hvm-bios-boot.xml" |
		sed "s/^(vm /(vm (on_xend_start start) /" >xend/$HVM_UUID/config.sxp &&
	sed "s|<name>fc8</name>|<name>fc8</name><uuid>$PV_UUID</uuid>|" "$TEST_SEED_DIR/pv-bootloader.xml" >pv.xml &&
	"$CONVERT" domain-xml xen-sxpr pv.xml >xend/$PV_UUID/config.sxp &&
	sed "s/^(domain /(domain (on_xend_start ignore)/" "$CONF_DIR/sexpr2xml/sexpr2xml-net-bridged.sexpr" \
		>xend/pvtest/config.sxp &&
	sed "s|<name>fc8</name>|<name>fc8-direct</name><uuid>$PV2_UUID</uuid>|" \
		"$TEST_SEED_DIR/pv-direct-kernel.xml" >pv2.xml &&
	"$CONVERT" domain-xml xen-xm pv2.xml >xm/fc8-direct &&
	ln -s ../fc8-direct xm/auto/fc8-direct &&
	cp "$CONF_DIR/xmconfig/test-paravirt-net-e1000.cfg" xm/guest1 &&
	cp xm/guest1 xm/guest1~ &&
	cp xm/guest1 xm/guest1.bak &&
	cp xm/guest1 xm/.guest1.swp &&
	"$CONVERT" domain-xml xen-xm "$TEST_SEED_DIR/hvm-bios-boot.xml" >xm/fv0-copy &&
	printf "autoballoon = \"auto\"\n" >xm/xl.conf &&
	printf "(xend-http-server yes)\n" >xm/xend-config.sxp &&
	printf "#!/bin/sh\n" >xm/scripts/vif-bridge &&
	grep -q "(name fv0)" xend/$HVM_UUID/config.sxp &&
	grep -q "^name = \"fc8-direct\"" xm/fc8-direct
'

test_expect_success '--dry-run reports and writes nothing' '
	imp --to "$TEST_DIR/store" --dry-run >out &&
	grep -qx "imported fv0 ($HVM_UUID) from $TEST_DIR/xend/$HVM_UUID/config.sxp, autostart (dry run)" out &&
	grep -qx "imported fc8 ($PV_UUID) from $TEST_DIR/xend/$PV_UUID/config.sxp (dry run)" out &&
	grep -qx "imported fc8-direct ($PV2_UUID) from $TEST_DIR/xm/fc8-direct, autostart (dry run)" out &&
	test ! -e store
'

test_expect_success 'import: one line per domain, exit 0' '
	imp --to "$TEST_DIR/store" >out &&
	cat out &&
	grep -qx "imported fv0 ($HVM_UUID) from $TEST_DIR/xend/$HVM_UUID/config.sxp, autostart" out &&
	grep -qx "imported fc8 ($PV_UUID) from $TEST_DIR/xend/$PV_UUID/config.sxp" out &&
	grep -qx "imported pvtest (.*) from $TEST_DIR/xend/pvtest/config.sxp" out &&
	grep -qx "imported fc8-direct ($PV2_UUID) from $TEST_DIR/xm/fc8-direct, autostart" out &&
	grep -qx "imported XenGuest1 ($XG_UUID) from $TEST_DIR/xm/guest1" out &&
	grep -qx "skipped fv0: $TEST_DIR/xm/fv0-copy is the same domain as XenD.s $TEST_DIR/xend/$HVM_UUID/config.sxp, which wins" out &&
	test "$(grep -c "^imported" out)" = 5 &&
	test "$(wc -l <out)" = 6
'

test_expect_success 'the files are xl.cfg, private, and read back' '
	for n in fv0 fc8 pvtest fc8-direct XenGuest1; do
		test -f store/$n.cfg &&
		test "$(stat -c %a store/$n.cfg)" = 600 &&
		grep -q "^name = \"$n\"$" store/$n.cfg &&
		grep -qE "^type = \"(pv|hvm)\"$" store/$n.cfg &&
		! grep -q "^builder" store/$n.cfg &&
		"$CONVERT" xen-xl domain-xml store/$n.cfg >$n.xml &&
		grep -q "<name>$n</name>" $n.xml || return 1
	done &&
	test "$(stat -c %a store)" = 700 &&
	grep -q "^type = \"hvm\"$" store/fv0.cfg &&
	grep -q "^uuid = \"$HVM_UUID\"$" store/fv0.cfg &&
	grep -q "device_model_args = \[ \"-fda\", \"/root/fd.img\" \]" store/fv0.cfg &&
	grep -q "<source file=./root/fd.img./>" fv0.xml &&
	grep -q "^bootloader = \"/usr/bin/pygrub\"$" store/fc8.cfg &&
	grep -q "target=/var/lib/xen/images/fc4.img" store/fc8.cfg &&
	! ls -A store | grep -q "xenvirt-"
'

test_expect_success 'autostart links for XenD (on_xend_start start) and XM (auto/) domains only' '
	test "$(readlink store/auto/fv0.cfg)" = ../fv0.cfg &&
	test "$(readlink store/auto/fc8-direct.cfg)" = ../fc8-direct.cfg &&
	test -f store/auto/fv0.cfg &&
	test ! -e store/auto/fc8.cfg &&
	test ! -e store/auto/pvtest.cfg &&
	test ! -e store/auto/XenGuest1.cfg &&
	test "$(ls store/auto | wc -l)" = 2
'

test_expect_success 'no file that is not a domain was imported' '
	test "$(ls store | grep -c "\.cfg$")" = 5 &&
	! grep -q "xl.conf\|xend-config\|guest1~\|guest1.bak\|scripts" out
'

test_expect_success 'a second run changes nothing and exits 0' '
	store_state store >before &&
	imp --to "$TEST_DIR/store" >out2 &&
	store_state store >after &&
	test_cmp before after &&
	! grep -q "^imported" out2 &&
	grep -qx "skipped fv0: already defined with uuid $HVM_UUID" out2 &&
	grep -qx "skipped XenGuest1: already defined with uuid $XG_UUID" out2
'

test_expect_success 'clashes are refused, reported, exit 1, nothing overwritten' '
	store_state store >before &&
	mkdir xm2 &&
	sed "s/^uuid = .*/uuid = \"99999999-2222-3333-4444-555555555509\"/" xm/guest1 >xm2/guest1-other &&
	sed "s/^name = .*/name = \"renamed\"/" xm/guest1 >xm2/guest1-renamed &&
	test_must_fail "$XENVIRTD" --import --from-xend "" --from-xm "$TEST_DIR/xm2" --to "$TEST_DIR/store" >out3 &&
	cat out3 &&
	grep -qx "skipped XenGuest1: domain .XenGuest1. already exists with uuid $XG_UUID" out3 &&
	grep -qx "skipped renamed: domain .XenGuest1. is already defined with uuid $XG_UUID" out3 &&
	store_state store >after &&
	test_cmp before after &&
	test ! -e store/renamed.cfg
'

test_expect_success 'what xl cannot express is skipped with the reason, the rest imported' '
	mkdir xm3 &&
	cp "$CONF_DIR/xmconfig/test-fullvirt-parallel-tcp.cfg" xm3/par &&
	printf "name = \"small\"\nuuid = \"11111111-2222-3333-4444-555555555503\"\nmemory = 64\nkernel = \"/k\"\n" >xm3/small &&
	printf "name = \"broken\"\nmemory = [\n" >xm3/broken &&
	test_must_fail "$XENVIRTD" --import --from-xend "" --from-xm "$TEST_DIR/xm3" --to "$TEST_DIR/store" >out4 &&
	cat out4 &&
	grep -q "^skipped .*: parallel ports are not supported by xl$" out4 &&
	grep -qx "imported small (11111111-2222-3333-4444-555555555503) from $TEST_DIR/xm3/small" out4 &&
	test -f store/small.cfg
'

test_expect_success '--to defaults to xl_config_dir of --config' '
	printf "xl_config_dir = \"%s\"\n" "$TEST_DIR/store-conf" >xenvirtd.conf &&
	"$XENVIRTD" --config "$TEST_DIR/xenvirtd.conf" --import --from-xend "" --from-xm "$TEST_DIR/xm3" >out5 ;
	grep -q "^imported small" out5 &&
	test -f store-conf/small.cfg
'

test_expect_success 'import options need --import' '
	test_must_fail "$XENVIRTD" --dry-run 2>err &&
	grep -q "need --import" err
'

test_done
