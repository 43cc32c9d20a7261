#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Every domain command of protocol.md §7 through the stock virsh, for the four seed example
# domains (/work/shared/seed-examples), checked against what xensim holds: define, list --all,
# dominfo, domstate, domid/domuuid/domname, dumpxml, start, suspend/resume, setmem, setmaxmem,
# setvcpus, vcpucount, vcpuinfo, vcpupin, autostart, attach/detach-device, domblkstat, domifstat,
# schedinfo, dommemstat, save/restore, reboot, shutdown, destroy, domxml-to/from-native,
# undefine, create, and `virsh event --all` seeing the lifecycle events.
#
# The two HVM seeds share name and UUID and the two PV seeds share a name, so each is defined
# under the name of its file (and the second HVM one with another UUID). The PV seeds have no
# <uuid>: the daemon assigns one at define time, and it must stay stable.

. "$(dirname "$0")/lib.sh"

test_require_virsh
[ -d "$TEST_SEED_DIR" ] || skip_all "no seed examples in $TEST_SEED_DIR"
sandbox_up

v() {
        virsh -c "$XENVIRT_URI" "$@"
}

field() {
        sed -n "s/^$1: *//p"
}

# The xensim view of a domain: "domid name runstate state memory_kib online_vcpus uuid".
sim() {
        "$XENSIM_CTL" "$XENSIM_CONTROL" list | awk -v n="$1" '$2 == n'
}
sim_field() {
        sim "$1" | awk -v f="$2" '{ print $f }'
}

domstate_is() {
        local s
        s=$(v domstate "$1" | sed '/^$/d')
        [ "$s" = "$2" ] || { echo "domstate of $1 is '$s', expected '$2'; xensim: $(sim "$1")"; return 1; }
}

sim_is() {
        test "$(sim_field "$1" "$2")" = "$3"
}

dom_running_in_sim() {
        test "$(sim_field "$1" 3)" = running || { echo "xensim: $(sim "$1")"; return 1; }
}

domid_is() {
        local id
        id=$(v domid "$1" | sed '/^$/d')
        [ "$id" = "$2" ] || { echo "domid of $1 is '$id', expected '$2'"; return 1; }
}

# Running again under another domid than $2 (a Xen reboot builds a new domain).
dom_rebooted_in_sim() {
        local id
        id=$(sim_field "$1" 1)
        test -n "$id" && test "$id" != -1 && test "$id" != "$2" && dom_running_in_sim "$1"
}

dom_absent_or_off_in_sim() {
        local id
        id=$(sim_field "$1" 1)
        test -z "$id" || test "$id" = -1 || { echo "xensim: $(sim "$1")"; return 1; }
}

# Seeds, renamed after their files.
seeds=${XV_TEST_SEEDS:-"hvm-bios-boot hvm-direct-kernel pv-bootloader pv-direct-kernel"}
for s in $seeds; do
        sed -e "s|<name>[^<]*</name>|<name>$s</name>|" "$TEST_SEED_DIR/$s.xml" > "$TEST_DIR/$s.xml"
done
if [ -f "$TEST_DIR/hvm-direct-kernel.xml" ]; then
        sed -i -e 's|<uuid>[^<]*</uuid>|<uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fb1</uuid>|' "$TEST_DIR/hvm-direct-kernel.xml"
fi

seed_uuid() {
        sed -n 's|.*<uuid>\([^<]*\)</uuid>.*|\1|p' "$TEST_DIR/$1.xml"
}
seed_memory() {
        sed -n 's|.*<memory>\([0-9]*\)</memory>.*|\1|p' "$TEST_DIR/$1.xml"
}
# The canonical dashed form of a UUID written with or without dashes.
uuid_canon() {
        echo "$1" | tr -d - | sed 's/^\(.\{8\}\)\(.\{4\}\)\(.\{4\}\)\(.\{4\}\)\(.\{12\}\)$/\1-\2-\3-\4-\5/'
}
# The first disk target of a domain's XML, for domblkstat.
first_disk() {
        grep -o "<target dev='[a-z0-9]*'" "$TEST_DIR/$1.xml" | head -n 1 | cut -d"'" -f2
}
is_hvm() {
        case "$1" in hvm-*) return 0 ;; esac
        return 1
}

# `virsh event --all` in the background for the whole lifecycle part.
v event --all --loop --timeout 120 > "$TEST_DIR/events.out" 2>&1 &
event_pid=$!
sleep 1

test_expect_success 'virsh event --all registered (still running)' '
	kill -0 $event_pid
'

for d in $seeds; do
        f=$TEST_DIR/$d.xml
        mem=$(seed_memory "$d")

        test_expect_success "$d: define" '
		v define "$f" >out &&
		grep -q "^Domain .$d. defined from " out
	'

        test_expect_success "$d: list --all shows it shut off" '
		v list --all >list &&
		grep -qE "^ +- +$d +shut off$" list
	'

        test_expect_success "$d: domid of an inactive domain is -" '
		test "$(v domid "$d" | sed "/^$/d")" = -
	'

        if [ -n "$(seed_uuid "$d")" ]; then
                test_expect_success "$d: domuuid is the UUID of the XML" '
			test "$(v domuuid "$d" | sed "/^$/d")" = "$(uuid_canon "$(seed_uuid "$d")")"
		'
        else
                test_expect_success "$d: a UUID was assigned at define time and stays" '
			u1=$(v domuuid "$d" | sed "/^$/d") &&
			echo "$u1" | grep -qE "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" &&
			test "$u1" != 00000000-0000-0000-0000-000000000000 &&
			u2=$(v domuuid "$d" | sed "/^$/d") &&
			test "$u1" = "$u2"
		'
        fi

        test_expect_success "$d: domname by UUID" '
		u=$(v domuuid "$d" | sed "/^$/d") &&
		test "$(v domname "$u" | sed "/^$/d")" = "$d"
	'

        test_expect_success "$d: dominfo of the inactive domain" '
		v dominfo "$d" >info &&
		test "$(field Name <info)" = "$d" &&
		test "$(field Id <info)" = - &&
		test "$(field State <info)" = "shut off" &&
		test "$(field "CPU(s)" <info)" = 1 &&
		test "$(field "Max memory" <info)" = "$mem KiB" &&
		test "$(field Persistent <info)" = yes &&
		test "$(field UUID <info)" = "$(v domuuid "$d" | sed "/^$/d")"
	'

        test_expect_success "$d: dumpxml and dumpxml --inactive" '
		v dumpxml "$d" >dump &&
		grep -q "<name>$d</name>" dump &&
		grep -q "<uuid>$(v domuuid "$d" | sed "/^$/d")</uuid>" dump &&
		grep -qE "<memory( unit=.KiB.)?>$mem</memory>" dump &&
		v dumpxml --inactive "$d" >dump-inactive &&
		grep -q "<name>$d</name>" dump-inactive
	'

        test_expect_success "$d: domxml-to-native xen-sxpr and xen-xm, and back" '
		v domxml-to-native xen-sxpr "$f" >native.sxpr &&
		grep -q "(name $d)" native.sxpr &&
		v domxml-to-native xen-xm "$f" >native.xm &&
		grep -q "^name = \"$d\"" native.xm &&
		v domxml-from-native xen-xm native.xm >from-xm.xml &&
		grep -q "<name>$d</name>" from-xm.xml &&
		grep -qE "<memory( unit=.KiB.)?>$mem</memory>" from-xm.xml &&
		v domxml-from-native xen-sxpr native.sxpr >from-sxpr.xml &&
		grep -q "<name>$d</name>" from-sxpr.xml
	'

        test_expect_success "$d: domxml-to-native refuses an unknown format" '
		test_must_fail v domxml-to-native xen-foo "$f" 2>err &&
		grep -q "unsupported config type xen-foo" err
	'

        test_expect_success "$d: setvcpus --config --maximum 2 while off" '
		v setvcpus "$d" 2 --config --maximum &&
		v vcpucount "$d" >count &&
		grep -qE "^maximum +config +2$" count
	'

        test_expect_success "$d: start" '
		v start "$d" >out &&
		grep -q "^Domain .$d. started" out &&
		eventually dom_running_in_sim "$d"
	'

        test_expect_success "$d: domstate, domid and the xensim view agree" '
		domstate_is "$d" running &&
		id=$(v domid "$d" | sed "/^$/d") &&
		test "$id" = "$(sim_field "$d" 1)" &&
		test "$(sim_field "$d" 7)" = "$(v domuuid "$d" | sed "/^$/d")" &&
		test "$(v domname "$id" | sed "/^$/d")" = "$d"
	'

        test_expect_success "$d: list shows it running" '
		v list >list &&
		grep -qE "^ +$(sim_field "$d" 1) +$d +running$" list
	'

        test_expect_success "$d: dominfo of the running domain matches xensim" '
		v dominfo "$d" >info &&
		test "$(field State <info)" = running &&
		test "$(field "Used memory" <info)" = "$(sim_field "$d" 5) KiB" &&
		test "$(field "CPU(s)" <info)" = "$(sim_field "$d" 6)" &&
		test "$(field Id <info)" = "$(sim_field "$d" 1)"
	'

        test_expect_success "$d: suspend and resume" '
		v suspend "$d" &&
		domstate_is "$d" paused &&
		test "$(sim_field "$d" 3)" = paused &&
		v resume "$d" &&
		domstate_is "$d" running &&
		eventually dom_running_in_sim "$d"
	'

        test_expect_success "$d: setmem changes the balloon target" '
		half=$((mem / 2)) &&
		v setmem "$d" $half &&
		eventually sim_is "$d" 5 $half &&
		v dominfo "$d" >info &&
		test "$(field "Used memory" <info)" = "$half KiB"
	'

        test_expect_success "$d: setmaxmem" '
		v setmaxmem "$d" $((mem + 65536)) &&
		v dominfo "$d" >info &&
		test "$(field "Max memory" <info)" = "$((mem + 65536)) KiB"
	'

        test_expect_success "$d: setvcpus live within the maximum, vcpucount" '
		v setvcpus "$d" 2 &&
		eventually sim_is "$d" 6 2 &&
		v vcpucount "$d" >count &&
		grep -qE "^maximum +live +2$" count &&
		grep -qE "^current +live +2$" count &&
		v setvcpus "$d" 1 &&
		eventually sim_is "$d" 6 1
	'

        test_expect_success "$d: vcpuinfo" '
		v vcpuinfo "$d" >vcpuinfo &&
		grep -qE "^VCPU: +0$" vcpuinfo &&
		grep -qE "^State: +running$" vcpuinfo &&
		grep -qE "^CPU Affinity: +[-y]{8}$" vcpuinfo
	'

        test_expect_success "$d: vcpupin and the pin query" '
		v vcpupin "$d" 0 3 &&
		v vcpupin "$d" >pins &&
		grep -qE "^ *0 +3$" pins &&
		v vcpuinfo "$d" >vcpuinfo &&
		grep -qE "^CPU Affinity: +---y----$" vcpuinfo
	'

        test_expect_success "$d: autostart on and off" '
		v autostart "$d" &&
		v dominfo "$d" >info &&
		test "$(field Autostart <info)" = enable &&
		v autostart --disable "$d" &&
		v dominfo "$d" >info &&
		test "$(field Autostart <info)" = disable
	'

        disk=$(first_disk "$d")
        test_expect_success "$d: domblkstat $disk" '
		v domblkstat "$d" "$disk" >blk &&
		grep -qE "^$disk rd_req [0-9]+$" blk &&
		grep -qE "^$disk wr_bytes [0-9]+$" blk
	'

        test_expect_success "$d: domifstat of its vif" '
		v dumpxml "$d" >dump &&
		vif=$(sed -n "s|.*<target dev=.\(vif[0-9.]*\).*|\1|p" dump | head -n 1) &&
		test "$vif" = "vif$(sim_field "$d" 1).0" &&
		v domifstat "$d" "$vif" >ifstat &&
		grep -qE "^$vif rx_bytes [0-9]+$" ifstat &&
		grep -qE "^$vif tx_packets [0-9]+$" ifstat
	'

        test_expect_success "$d: schedinfo, and setting the credit weight" '
		v schedinfo "$d" >sched &&
		grep -qE "^Scheduler +: credit$" sched &&
		grep -qE "^weight +: [0-9]+$" sched &&
		grep -qE "^cap +: [0-9]+$" sched &&
		v schedinfo "$d" --set weight=512 >sched &&
		grep -qE "^weight +: 512$" sched &&
		v schedinfo "$d" >sched &&
		grep -qE "^weight +: 512$" sched
	'

        test_expect_success "$d: dommemstat reports the balloon" '
		v dommemstat "$d" >memstat &&
		grep -qE "^actual $(sim_field "$d" 5)$" memstat &&
		test "$(sed "/^$/d" memstat | wc -l)" -le 13
	'

        dev=xvdb
        cat > "$TEST_DIR/$d-disk.xml" <<-EOF
	<disk type='file' device='disk'>
	  <source file='/var/lib/xen/images/$d-extra.img'/>
	  <target dev='$dev' bus='xen'/>
	</disk>
	EOF
        test_expect_success "$d: attach-device and detach-device of a disk" '
		v attach-device "$d" "$TEST_DIR/$d-disk.xml" &&
		v dumpxml "$d" >dump &&
		grep -q "<target dev=.$dev." dump &&
		v detach-device "$d" "$TEST_DIR/$d-disk.xml" &&
		v dumpxml "$d" >dump &&
		! grep -q "<target dev=.$dev." dump
	'

        test_expect_success "$d: save and restore" '
		rm -f "$TEST_DIR/$d.save" &&
		v save "$d" "$TEST_DIR/$d.save" &&
		eventually domstate_is "$d" "shut off" &&
		eventually dom_absent_or_off_in_sim "$d" &&
		eventually domid_is "$d" - &&
		v restore "$TEST_DIR/$d.save" &&
		eventually domstate_is "$d" running &&
		eventually dom_running_in_sim "$d"
	'

        test_expect_success "$d: reboot" '
		old=$(sim_field "$d" 1) &&
		v reboot "$d" >out &&
		grep -q "is being rebooted" out &&
		eventually dom_rebooted_in_sim "$d" "$old" &&
		test "$(v domid "$d" | sed "/^$/d")" = "$(sim_field "$d" 1)"
	'

        test_expect_success "$d: shutdown" '
		v shutdown "$d" >out &&
		grep -q "is being shutdown" out &&
		eventually domstate_is "$d" "shut off" &&
		eventually dom_absent_or_off_in_sim "$d" &&
		eventually domid_is "$d" -
	'

        test_expect_success "$d: start again and destroy" '
		v start "$d" &&
		eventually dom_running_in_sim "$d" &&
		v destroy "$d" >out &&
		grep -q "^Domain .$d. destroyed" out &&
		domstate_is "$d" "shut off" &&
		dom_absent_or_off_in_sim "$d" &&
		domid_is "$d" -
	'

        test_expect_success "$d: undefine" '
		v undefine "$d" >out &&
		grep -q "^Domain .$d. has been undefined" out &&
		v list --all >list &&
		! grep -qE " $d " list &&
		test_must_fail v dominfo "$d"
	'

        test_expect_success "$d: create (transient), then destroy makes it vanish" '
		v create "$f" >out &&
		grep -q "^Domain .$d. created from " out &&
		eventually dom_running_in_sim "$d" &&
		v dominfo "$d" >info &&
		test "$(field Persistent <info)" = no &&
		v destroy "$d" &&
		v list --all >list &&
		! grep -qE " $d " list
	'
done

test_expect_success 'lookups of an unknown name, id or UUID fail' '
	test_must_fail v dominfo no-such-domain 2>err &&
	grep -q "failed to get domain .no-such-domain." err &&
	test_must_fail v domname 4242 2>err &&
	grep -q "failed to get domain .4242." err &&
	test_must_fail v domname 00000000-0000-0000-0000-0000000000aa 2>err &&
	grep -q "failed to get domain" err
'

test_expect_success 'define of malformed XML reports an XML error' '
	echo "<domain type=\"xen\"><name>broken" >broken.xml &&
	test_must_fail v define broken.xml 2>err &&
	grep -q "XML error" err
'

test_expect_success 'read-only socket refuses define' '
	test_must_fail virsh -r -c "$XENVIRT_URI_RO" define "$TEST_DIR/pv-bootloader.xml" 2>err &&
	grep -q "read only\|read-only" err
'

kill "$event_pid" 2>/dev/null
wait "$event_pid" 2>/dev/null

for d in $seeds; do
        test_expect_success "event --all saw $d defined, started, stopped and undefined" '
		grep -q "^event .lifecycle. for domain .$d.: Defined Added$" events.out &&
		grep -q "^event .lifecycle. for domain .$d.: Started Booted$" events.out &&
		grep -q "^event .lifecycle. for domain .$d.: Suspended Paused$" events.out &&
		grep -q "^event .lifecycle. for domain .$d.: Resumed Unpaused$" events.out &&
		grep -q "^event .lifecycle. for domain .$d.: Stopped Destroyed$" events.out &&
		grep -q "^event .lifecycle. for domain .$d.: Undefined Removed$" events.out
	'
done

test_done
