#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# xenvirtd on the real hypervisor: run in dom0 by the real-Xen lane
# (tests/xen-lane/xen-lane run BUILDDIR tests/xen-lane/t-xenvirtd.sh). Starts the built xenvirtd
# with the libxl backend and a private configuration (sockets, xl definitions, saves below a
# temporary directory), then drives it with xvsh and the host's virsh: host information against
# `xl info`, a tiny PV guest (the lane's guest kit) defined from domain XML through its whole
# life (start, vcpus, memory, pause, shutdown, autostart at daemon start, undefine), lifecycle
# events seen by clients, xenvirtd restarted under a running guest, and a guest started with
# `xl create` behind its back.
# Prints TAP; every step's commands and output go to $XEN_LANE_OUT/t-xenvirtd.log.
#
# Waits are polls with a deadline (XV_LANE_WAIT, default 180 s): TCG on a loaded host is slow.
# XV_LANE_BUILDDIR: take xenvirtd and xvsh from another build tree than the lane's.

set -u
B=${XV_LANE_BUILDDIR:-${XEN_LANE_BUILDDIR:?run me in the xen lane (tests/xen-lane/xen-lane run BUILDDIR $0)}}
OUT=${XEN_LANE_OUT:-/tmp}
LOG=$OUT/t-xenvirtd.log
WAIT=${XV_LANE_WAIT:-180}
XVSH=$B/client/cli/xvsh
XENVIRTD=$B/daemon/xenvirtd
# The libxl backend is a module (src/xen/backend-libxl.inc.am): the uninstalled one of this tree.
export XENVIRTD_MODULE_DIR=$B/src/modules/.libs
# The program behind libtool's wrapper script: one exec instead of a shell and a sed (slow in TCG).
if [ -x "$B/client/cli/.libs/xvsh" ] && [ -e "$B/.libs/libxenvirt.so.0" ]; then
        XVSH=$B/client/cli/.libs/xvsh
        export LD_LIBRARY_PATH=$B/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
D=$(mktemp -d /tmp/xv-lane.XXXXXX)
URI="xen:///system?socket=$D/sock"
GUEST=lane1
test_count=0
test_failed=0
xvd_pid=
listeners=()

: > "$LOG"
log() { printf '%s\n' "$*" >> "$LOG"; }

cleanup() {
        local p
        for p in "${listeners[@]}"; do kill "$p" 2> /dev/null; done
        [ -z "$xvd_pid" ] || kill "$xvd_pid" 2> /dev/null
        xl destroy "$GUEST" > /dev/null 2>&1
        xl destroy tiny > /dev/null 2>&1
        mkdir -p "$OUT/t-xenvirtd" && cp "$D"/*.out "$D"/*.xml "$D"/*.conf "$OUT/t-xenvirtd/" 2> /dev/null
}
trap cleanup EXIT

# step DESC BODY: runs BODY (eval'ed in this shell, with set -x) and prints "ok N - DESC" or
# "not ok N - DESC" plus BODY's output as TAP comments.
step() {
        local desc=$1 body=$2 rc
        test_count=$((test_count + 1))
        log "=== $test_count - $desc"
        eval "cd \"\$D\" && { set -x; $body
}" > "$D/step.out" 2>&1
        rc=$?
        { set +x; } 2> /dev/null
        cat "$D/step.out" >> "$LOG"
        if [ $rc != 0 ]; then
                # What the host looked like when the step failed.
                if [ -n "$xvd_pid" ] && ! kill -0 "$xvd_pid" 2> /dev/null; then
                        wait "$xvd_pid" 2> /dev/null
                        echo "--- xenvirtd (pid $xvd_pid) is gone: exit status $? (cores: $(ls "$OUT" | grep -c '^core'))"
                fi >> "$D/step.out" 2>&1
                { echo "--- xl list"; timeout 60 xl list; echo "--- xenvirtd.log (tail)"
                  tail -n 30 "$OUT/xenvirtd.log"; } >> "$D/step.out" 2>&1
        fi
        if [ $rc = 0 ]; then
                echo "ok $test_count - $desc"
        else
                test_failed=$((test_failed + 1))
                echo "not ok $test_count - $desc"
                sed 's/^/# /' "$D/step.out" | tail -n 40
        fi
        log "=== rc=$rc"
        return $rc
}

# Clients are bounded too (XV_LANE_CMD_TIMEOUT, default 120 s): a hung call fails its step
# instead of the whole lane.
CMD_TIMEOUT=${XV_LANE_CMD_TIMEOUT:-120}
x() { timeout -k 5 "$CMD_TIMEOUT" "$XVSH" -c "$URI" "$@"; }
v() { timeout -k 5 "$CMD_TIMEOUT" virsh -c "$URI" "$@"; }

# eventually CMD...: retries CMD every second until it succeeds or $WAIT seconds passed.
eventually() {
        local end=$((SECONDS + WAIT))
        until "$@"; do
                [ $SECONDS -lt $end ] || { echo "gave up after ${WAIT}s: $*"; return 1; }
                sleep 1
        done
}

xl_info() { xl info | sed -n "s/^$1 *: //p"; }
# The field of "Key: value" in xvsh/virsh output (KEY is a basic regular expression).
field() { sed -n "s/^$1: *//p" | sed 's/ *$//'; }
domstate_is() { test "$(x domstate "$1" | sed '/^$/d')" = "$2"; }
xl_has() { xl list "$1" > /dev/null 2>&1; }
xl_gone() { ! xl list "$1" > /dev/null 2>&1; }
xl_id() { xl domid "$1" 2> /dev/null; }
# Running or idle (a vcpu blocked: what an idle guest mostly is).
listed_active() { x list | awk -v n="$1" '$2 == n && ($3 == "running" || $3 == "idle") { f = 1 } END { exit !f }'; }
domstate_active() { domstate_is "$1" running || domstate_is "$1" idle; }
guest_booted() { grep -q "GUEST: hello" "$OUT/console/guest-$1.log" 2> /dev/null; }

start_daemon() {
        "$XENVIRTD" --config "$D/xenvirtd.conf" --rw-socket "$D/sock" --ro-socket "$D/sock-ro" \
                --pid-file "$D/xenvirtd.pid" >> "$OUT/xenvirtd.log" 2>&1 &
        xvd_pid=$!
        local end=$((SECONDS + WAIT))
        until [ -s "$D/xenvirtd.pid" ] && [ -S "$D/sock" ]; do
                kill -0 "$xvd_pid" 2> /dev/null || { echo "xenvirtd exited"; tail -n 20 "$OUT/xenvirtd.log"; return 1; }
                [ $SECONDS -lt $end ] || { echo "xenvirtd not ready after ${WAIT}s"; return 1; }
                sleep 0.2
        done
}

stop_daemon() {
        kill -TERM "$xvd_pid" || return 1
        local end=$((SECONDS + WAIT))
        while kill -0 "$xvd_pid" 2> /dev/null; do
                [ $SECONDS -lt $end ] || { echo "xenvirtd did not stop"; return 1; }
                sleep 0.2
        done
        wait "$xvd_pid" 2> /dev/null
        xvd_pid=
        rm -f "$D/xenvirtd.pid"
}

# listen NAME: an event client (xvsh) in the background, output in $D/NAME.out.
listen() {
        "$XVSH" -c "$URI" event --all --loop > "$D/$1.out" 2>&1 &
        listeners+=($!)
}
# seen NAME PATTERN: the listener's output has a line matching PATTERN (grep -E).
seen() { grep -qE "$2" "$D/$1.out"; }

mkdir -p "$D/xl" "$D/save"
cat > "$D/xenvirtd.conf" << EOF
backend = "libxl"
xl_config_dir = "$D/xl"
managed_save_dir = "$D/save"
EOF
cat > "$D/$GUEST.xml" << EOF
<domain type='xen'>
  <name>$GUEST</name>
  <memory unit='KiB'>131072</memory>
  <currentMemory unit='KiB'>131072</currentMemory>
  <vcpu>1</vcpu>
  <os>
    <type>linux</type>
    <kernel>${XEN_LANE_GUEST_KERNEL:-/lane/guest/vmlinux}</kernel>
    <initrd>${XEN_LANE_GUEST_RAMDISK:-/lane/guest/initrd.gz}</initrd>
    <cmdline>console=hvc0 loglevel=4</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <console type='pty'>
      <target type='xen' port='0'/>
    </console>
  </devices>
</domain>
EOF

# The scenario is a function, and the script ends on the line that calls it: bash has read all
# of it before the first step, so editing the file during a run cannot derail the run.
main() {
        step 'xenvirtd starts with the libxl backend' '
                [ -x "$XENVIRTD" ] && [ -x "$XVSH" ] && start_daemon
        ' || { echo "Bail out! xenvirtd did not start"; echo "1..$test_count"; exit 1; }

        step 'status names the libxl backend and live channels' '
                x status > status.out; cat status.out
                grep -Eq "^Backend: +libxl$" status.out &&
                grep -Eq "^Hypercalls: +up" status.out &&
                grep -Eq "^xenstore: +up" status.out
        '

        step 'nodeinfo (xvsh and virsh) matches xl info' '
                xl info; x nodeinfo > ni.x; v nodeinfo > ni.v; cat ni.x ni.v
                cpus=$(xl_info nr_cpus); mib=$(xl_info total_memory)
                test "$(field "CPU(s)" < ni.x)" = "$cpus" &&
                test "$(field "CPU(s)" < ni.v)" = "$cpus" &&
                kib=$(field "Memory size" < ni.x | sed "s/ KiB//") &&
                test $((kib / 1024)) = "$mib" &&
                test "$(field "Memory size" < ni.v)" = "$(field "Memory size" < ni.x)"
        '

        step 'capabilities describe a Xen x86_64 host' '
                x capabilities > caps.xml; cat caps.xml
                grep -q "<arch>x86_64</arch>" caps.xml &&
                grep -q "<os_type>xen</os_type>" caps.xml
        '

        listen events1
        step 'define a PV guest from domain XML' '
                x define "$GUEST.xml" && x list --all > l.out; cat l.out
                grep -Eq " $GUEST +shut off" l.out && xl_gone "$GUEST"
        '

        step 'start it: running for xvsh, virsh and xl, same id' '
                x start "$GUEST" && eventually listed_active "$GUEST" &&
                xl list && v list &&
                id=$(x domid "$GUEST" | sed "/^$/d") && test "$id" = "$(xl_id "$GUEST")" &&
                v list | grep -Eq "^ *$id +$GUEST +(running|idle)"
        '

        step 'dominfo: state, memory and vcpus' '
                x dominfo "$GUEST" > di.out; cat di.out
                field State < di.out | grep -Eqx "running|idle" &&
                test "$(field "CPU(s)" < di.out)" = 1 &&
                max=$(field "Max memory" < di.out | sed "s/ KiB//") &&
                test "$max" -ge 131072 && test "$max" -le $((131072 + 2048)) &&
                used=$(field "Used memory" < di.out | sed "s/ KiB//") &&
                test $((used / 1024)) = "$(xl list "$GUEST" | awk "NR == 2 { print \$3 }")"
        '

        step 'vcpuinfo and vcpupin, as xl vcpu-list sees them' '
                x vcpuinfo "$GUEST" > vi.out; cat vi.out
                test "$(field VCPU < vi.out)" = 0 &&
                cpu=$(field CPU < vi.out) && test "$cpu" -lt "$(xl_info nr_cpus)" &&
                last=$(( $(xl_info nr_cpus) - 1 )) &&
                x vcpupin "$GUEST" 0 "$last" &&
                xl vcpu-list "$GUEST" > vl.out; cat vl.out
                awk -v n="$GUEST" "\$1 == n && \$3 == 0 { print \$7 }" vl.out | grep -qx "$last" &&
                x vcpupin "$GUEST" > vp.out; cat vp.out
                test "$(awk "\$1 == \"0\" || \$1 == \"0:\" { print \$2 }" vp.out)" = "$last"
        '

        step 'setmem sets the balloon target' '
                id=$(xl_id "$GUEST") &&
                x setmem "$GUEST" 122880 &&
                test "$(xenstore-read /local/domain/$id/memory/target)" = 122880
        '

        step 'suspend and resume: paused, then running again' '
                x suspend "$GUEST" && eventually domstate_is "$GUEST" paused &&
                xl list "$GUEST" | awk "NR == 2 { print \$5 }" | grep -q p &&
                x resume "$GUEST" && eventually domstate_active "$GUEST" &&
                ! xl list "$GUEST" | awk "NR == 2 { print \$5 }" | grep -q p
        '

        step 'shutdown: the guest powers off' '
                eventually guest_booted "$GUEST" &&
                x shutdown "$GUEST" && eventually domstate_is "$GUEST" "shut off" && eventually xl_gone "$GUEST"
        '

        step 'client saw lifecycle events: defined, started, suspended, resumed, stopped' '
                eventually seen events1 "domain .$GUEST.: Stopped" ; cat events1.out
                seen events1 "domain .$GUEST.: Defined" &&
                seen events1 "domain .$GUEST.: Started" &&
                seen events1 "domain .$GUEST.: Suspended" &&
                seen events1 "domain .$GUEST.: Resumed" &&
                seen events1 "domain .$GUEST.: Stopped"
        '

        step 'xenvirtd restarted under a running guest picks it up again' '
                x start "$GUEST" && eventually listed_active "$GUEST" &&
                id=$(xl_id "$GUEST") && test -n "$id" &&
                stop_daemon && xl_has "$GUEST" && start_daemon &&
                eventually listed_active "$GUEST" &&
                test "$(x domid "$GUEST" | sed "/^$/d")" = "$id"
        '

        listen events2
        step 'the picked-up guest can be destroyed' '
                x destroy "$GUEST" && eventually xl_gone "$GUEST" && eventually domstate_is "$GUEST" "shut off"
        '

        step 'a guest created with xl behind its back is listed and destroyable' '
                { xl create "${XEN_LANE_GUEST_CONFIG:-/lane/guest/tiny.cfg}" || echo "xl create: exit status $? (checked by the listing)"; } &&
                eventually listed_active tiny &&
                test "$(x domid tiny | sed "/^$/d")" = "$(xl_id tiny)" &&
                x destroy tiny && eventually xl_gone tiny
        '

        step 'events for the guests behind its back and after the restart' '
                eventually seen events2 "domain .tiny.: Stopped"; cat events2.out
                seen events2 "domain .$GUEST.: Stopped" &&
                seen events2 "domain .tiny.: Started" &&
                seen events2 "domain .tiny.: Stopped"
        '

        step 'autostart: a restarted xenvirtd starts the marked guest by itself' '
                x autostart "$GUEST" && test -L "$D/xl/auto/$GUEST.cfg" &&
                eventually domstate_is "$GUEST" "shut off" && xl_gone "$GUEST" &&
                stop_daemon && start_daemon &&
                eventually xl_has "$GUEST" && eventually listed_active "$GUEST" &&
                x destroy "$GUEST" && eventually xl_gone "$GUEST" &&
                x autostart --disable "$GUEST" && test ! -e "$D/xl/auto/$GUEST.cfg"
        '

        step 'undefine: gone from the list' '
                x undefine "$GUEST" && x list --all > l.out; cat l.out
                ! grep -q " $GUEST " l.out && ! v list --all | grep -q " $GUEST "
        '

        step 'xenvirtd stops cleanly' 'stop_daemon'

        echo "1..$test_count"
        [ $test_failed = 0 ] || { echo "# failed $test_failed of $test_count"; exit 1; }
        exit 0
}

main "$@"; exit $?
