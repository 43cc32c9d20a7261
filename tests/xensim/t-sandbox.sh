#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The sandbox launcher and xensim's core: "tests/sandbox up/down", the env file, PID handling,
# the control socket and its fault switches, the host files, and one host state seen the same
# way over XenD (curl), xenstore (xenstore-utils) and the hypervisor (libxenctrl through the
# replacement libraries). TAP output.
set -u

srcdir=${XV_TEST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${XV_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export XV_BUILDDIR=$builddir
sandbox=$srcdir/sandbox
ctl=$builddir/tests/xensim/xensim-ctl

. "$(dirname "$0")/tap-lib.sh"

tmp=$(mktemp -d /tmp/xv-sandbox.XXXXXX)
dir=$tmp/sb
cleanup() {
        "$sandbox" down "$dir" > /dev/null 2>&1 || true
        "$sandbox" down "$tmp/sb1" > /dev/null 2>&1 || true
        rm -rf "$tmp"
}
trap cleanup EXIT



# --- up, env file, PIDs -------------------------------------------------------------------------
sandbox_up() {
        "$sandbox" up "$dir" > "$tmp/up.out" 2> "$tmp/up.err"
}
check "sandbox up starts xensim" sandbox_up
[ -s "$tmp/up.err" ] && sed 's/^/# /' "$tmp/up.err"
check "up prints the env file" cmp -s "$tmp/up.out" "$dir/env"

env_has_all() {
        local k
        for k in XENVIRT_URI XENVIRT_URI_RO XENSTORED_PATH XEND_SOCKET XENSIM_CONTROL XENSIM_XM_DIR \
                 XENSIM_ROOT XENVIRTD_PID XENSIM_PID LD_LIBRARY_PATH XENSIM_HV_SOCKET; do
                grep -q "^$k=" "$dir/env" || { diag "missing $k"; return 1; }
        done
}
check "env file has every assignment" env_has_all

# shellcheck disable=SC1091
set -a
. "$dir/env"
set +a
check "XENVIRT_URI points into DIR" test "$XENVIRT_URI" = "xen:///system?socket=$dir/xenvirtd-sock"
check "XENVIRT_URI_RO points into DIR" test "$XENVIRT_URI_RO" = "xen:///system?socket=$dir/xenvirtd-sock-ro"
check "sockets exist" test -S "$XENSTORED_PATH" -a -S "$XEND_SOCKET" -a -S "$XENSIM_CONTROL" -a -S "$XENSIM_HV_SOCKET"
check "XM directory with auto/ and host-file root exist" test -d "$XENSIM_XM_DIR/auto" -a -d "$XENSIM_ROOT"
check "XENSIM_PID is the running xensim of the PID file" \
        test -n "$XENSIM_PID" -a "$XENSIM_PID" = "$(cat "$dir/xensim.pid")" -a -d "/proc/$XENSIM_PID"
check "a second up in the same DIR is refused" bash -c '! "$0" up "$1" > /dev/null 2>&1' "$sandbox" "$dir"

# --- control socket -------------------------------------------------------------------------------
check "initial host has Domain-0 running" bash -c '"$0" "$1" list | grep -q "^0 Domain-0 running "' "$ctl" "$XENSIM_CONTROL"
check "unknown control command answers ERR" bash -c '! "$0" "$1" frobnicate 2> /dev/null' "$ctl" "$XENSIM_CONTROL"
check "Domain-0 cannot be crashed" bash -c '! "$0" "$1" domain crash Domain-0 2> /dev/null' "$ctl" "$XENSIM_CONTROL"
check "domain create makes a running domain" bash -c \
        '"$0" "$1" domain create guest1 128 2 > /dev/null && "$0" "$1" list | grep -q " guest1 running .* 131072 2 "' \
        "$ctl" "$XENSIM_CONTROL"
id1=$("$ctl" "$XENSIM_CONTROL" list | awk '$2 == "guest1" { print $1 }')

# --- host files -----------------------------------------------------------------------------------
check "block statistics of the guest's xvda (devid 51712)" \
        test -f "$XENSIM_ROOT/sys/bus/xen-backend/devices/vbd-$id1-51712/statistics/rd_req"
check "/proc/net/dev has the guest's vif" eventually grep -q "vif$id1.0:" "$XENSIM_ROOT/proc/net/dev"
check "capabilities, cpuinfo flags, xend-config.sxp" bash -c \
        'grep -q hvm-3.0-x86_64 "$0/sys/hypervisor/properties/capabilities" && grep -q " vmx " "$0/proc/cpuinfo" &&
         grep -q " pae " "$0/proc/cpuinfo" && grep -q "(xend-unix-server yes)" "$0/etc/xen/xend-config.sxp"' "$XENSIM_ROOT"

# --- guest-side events ----------------------------------------------------------------------------
"$ctl" "$XENSIM_CONTROL" domain crash guest1
crashed_restarted() {
        local id
        id=$("$ctl" "$XENSIM_CONTROL" list | awk '$2 == "guest1" && $3 == "running" { print $1 }')
        [ -n "$id" ] && [ "$id" -gt "$id1" ]
}
check "a crashed guest is restarted with a new domid (on_crash restart)" eventually crashed_restarted
check "the old domid's statistics are gone" test ! -e "$XENSIM_ROOT/sys/bus/xen-backend/devices/vbd-$id1-51712"
"$ctl" "$XENSIM_CONTROL" domain shutdown guest1 poweroff
guest_gone() {
        ! "$ctl" "$XENSIM_CONTROL" list | grep -q " guest1 "
}
check "a powered-off guest is destroyed (on_poweroff destroy)" eventually guest_gone
check "bad shutdown reason answers ERR" bash -c '! "$0" "$1" domain shutdown Domain-0 sideways 2> /dev/null' "$ctl" "$XENSIM_CONTROL"

# --- XenD over curl -------------------------------------------------------------------------------
xend_get() {
        curl -sf --max-time 5 --unix-socket "$XEND_SOCKET" "http://localhost$1"
}
xend_post() {
        local path=$1
        shift
        curl -sf --max-time 5 --unix-socket "$XEND_SOCKET" "http://localhost$path" "$@"
}
check "XenD /xend/node/ reports xend_config_format 4" bash -c \
        'curl -sf --max-time 5 --unix-socket "$0" http://localhost/xend/node/ | grep -q "(xend_config_format 4)"' "$XEND_SOCKET"
requests_before=$("$ctl" "$XENSIM_CONTROL" stats | awk '$1 == "xend_requests" { print $2 }')
xend_get /xend/domain > /dev/null
requests_after=$("$ctl" "$XENSIM_CONTROL" stats | awk '$1 == "xend_requests" { print $2 }')
check "stats counts XenD requests" test "${requests_after:-0}" -gt "${requests_before:-0}"

check "xend absent on: the XenD socket refuses" bash -c \
        '"$0" "$1" xend absent on && ! curl -sf --max-time 5 --unix-socket "$2" http://localhost/xend/node/ > /dev/null 2>&1' \
        "$ctl" "$XENSIM_CONTROL" "$XEND_SOCKET"
check "xend absent off: XenD answers again" bash -c \
        '"$0" "$1" xend absent off && curl -sf --max-time 5 --unix-socket "$2" http://localhost/xend/node/ > /dev/null' \
        "$ctl" "$XENSIM_CONTROL" "$XEND_SOCKET"
"$ctl" "$XENSIM_CONTROL" xend error500 on
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --unix-socket "$XEND_SOCKET" http://localhost/xend/node/)
"$ctl" "$XENSIM_CONTROL" xend error500 off
check "xend error500 on: requests get 500 (got $code)" test "$code" = 500
"$ctl" "$XENSIM_CONTROL" xend delay 300
start=$(date +%s%N)
xend_get /xend/node/ > /dev/null
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
"$ctl" "$XENSIM_CONTROL" xend delay 0
check "xend delay 300 delays replies (${elapsed_ms} ms)" test "$elapsed_ms" -ge 280
"$ctl" "$XENSIM_CONTROL" xend drop on
check "xend drop on: no reply" bash -c '! curl -sf --max-time 5 --unix-socket "$0" http://localhost/xend/node/ > /dev/null 2>&1' "$XEND_SOCKET"
"$ctl" "$XENSIM_CONTROL" xend drop off

# --- xenstore -------------------------------------------------------------------------------------
check "xenstore has Domain-0" bash -c '[ "$(xenstore-read /local/domain/0/name)" = Domain-0 ]'
check "xenstore absent on: xenstore-read fails" bash -c \
        '"$0" "$1" xenstore absent on && ! timeout 5 xenstore-read /local/domain/0/name > /dev/null 2>&1' \
        "$ctl" "$XENSIM_CONTROL"
check "xenstore absent off: xenstore-read works again" bash -c \
        '"$0" "$1" xenstore absent off && [ "$(timeout 5 xenstore-read /local/domain/0/name)" = Domain-0 ]' \
        "$ctl" "$XENSIM_CONTROL"

# --- one state, three interfaces ------------------------------------------------------------------
# xenstore-watch prints the initial firing of the watch, then the @introduceDomain of web1.
timeout 10 xenstore-watch -n 2 @introduceDomain > "$tmp/watch.out" 2>&1 &
watch_pid=$!
eventually test -s "$tmp/watch.out"
config="(vm (name web1) (memory 256) (maxmem 256) (vcpus 2) (on_poweroff destroy) (on_reboot restart) (on_crash restart) (image (linux (kernel /boot/vmlinuz) (args 'root=/dev/xvda1'))) (device (vbd (dev xvda) (uname file:/var/lib/xen/web1.img) (mode w))) (device (vif (mac 00:16:3e:00:00:01) (bridge xenbr0))))"
check "XenD op=create and op=unpause succeed" bash -c \
        'curl -sf --max-time 5 --unix-socket "$0" http://localhost/xend/domain/ -d op=create --data-urlencode "config=$1" > /dev/null &&
         curl -sf --max-time 5 --unix-socket "$0" http://localhost/xend/domain/web1 -d op=unpause > /dev/null' \
        "$XEND_SOCKET" "$config"
web_id=$("$ctl" "$XENSIM_CONTROL" list | awk '$2 == "web1" { print $1 }')
wait "$watch_pid"
check "the creation fired an @introduceDomain watch event" test "$(grep -c '^@introduceDomain' "$tmp/watch.out")" -ge 2
check "the XenD domain is in the host state, running (domid ${web_id:-none})" \
        bash -c '"$0" "$1" list | grep -q " web1 running "' "$ctl" "$XENSIM_CONTROL"
check "xenstore-ls /local/domain shows the XenD domain" bash -c \
        '[ -n "$0" ] && xenstore-ls /local/domain | grep -q "name = \"web1\""' "${web_id:-}"
check "xenstore /local/domain/<id>/name is web1" bash -c '[ "$(xenstore-read "/local/domain/$0/name")" = web1 ]' "${web_id:-x}"
check "XenD lists the domain" bash -c 'curl -sf --max-time 5 --unix-socket "$0" http://localhost/xend/domain | grep -q web1' "$XEND_SOCKET"

# The real libxenctrl on the replacement libraries (LD_LIBRARY_PATH and XENSIM_HV_SOCKET from env).
xc=$builddir/tests/xensim/test-xenctrl
if [ -x "$xc" ]; then
        check "the hypervisor (libxenctrl) lists the domain" bash -c '"$0" list 2>&1 | grep -q "^domid=$1 "' "$xc" "${web_id:-x}"
else
        skip "the hypervisor (libxenctrl) lists the domain" "tests/xensim/test-xenctrl not built"
fi

xend_post /xend/domain/web1 -d op=destroy > /dev/null
web_gone() {
        ! "$ctl" "$XENSIM_CONTROL" list | grep -q " web1 " &&
                ! timeout 5 xenstore-read "/local/domain/$web_id/name" > /dev/null 2>&1
}
check "XenD op=destroy removes it from the state and from xenstore" eventually web_gone

# --- down -----------------------------------------------------------------------------------------
pid=$XENSIM_PID
check "sandbox down succeeds" "$sandbox" down "$dir"
# Gone, or a zombie nobody reaps (the sandbox's parent may be a PID 1 that does not reap).
exited() {
        [ ! -e "$dir/xensim.pid" ] || return 1
        [ -d "/proc/$pid" ] || return 0
        [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" = Z ]
}
check "xensim has exited and its PID file is gone" exited
check "the log stays" test -s "$dir/xensim.log"

# --- another xend config version ------------------------------------------------------------------
"$sandbox" up "$tmp/sb1" --xend-config-version 1 > /dev/null
sock1=$(. "$tmp/sb1/env" && echo "$XEND_SOCKET")
# XenD of config version 1 (Xen 3.0.2) had no xend_config_format yet; clients assume 1.
check "--xend-config-version 1 reaches XenD's /xend/node/ (Xen 3.0.2)" bash -c \
        'node=$(curl -sf --max-time 5 --unix-socket "$0" http://localhost/xend/node/) &&
         [[ $node != *xend_config_format* && $node == *"(xen_major 3) (xen_minor 0) (xen_extra .2)"* ]]' "$sock1"
"$sandbox" down "$tmp/sb1"

echo "1..$n"
[ "$failed" -eq 0 ]
