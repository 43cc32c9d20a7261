#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The hypervisor beneath libxenctrl: the REAL libxenctrl.so.4.17, loaded unchanged, on top of the
# replacement libxencall/libxenforeignmemory/libxendevicemodel from tests/xensim/hv/.libs, talking
# to xensim. Every value libxenctrl reports is checked against xensim's own view of the host
# (its control socket), and changes made through libxenctrl must show up there. TAP output.
set -u

builddir=${XV_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
xensim=$builddir/tests/xensim/xensim
ctl=$builddir/tests/xensim/xensim-ctl
xc=$builddir/tests/xensim/test-xenctrl
libs=$builddir/tests/xensim/hv/.libs

. "$(dirname "$0")/tap-lib.sh"

tmp=$(mktemp -d /tmp/xv-hv.XXXXXX)
dir=$tmp/sim
pid=
cleanup() {
        if [ -n "$pid" ]; then
                kill "$pid" 2> /dev/null
                wait "$pid" 2> /dev/null
        fi
        rm -rf "$tmp"
}
trap cleanup EXIT

echo "1..38"

mkdir -p "$dir"
# Only the hypervisor interface is under test here; XenD and xenstore have their own tests.
"$xensim" --dir "$dir" --no-xend --no-xenstore > "$tmp/xensim.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
        [ -s "$dir/xensim.pid" ] && break
        sleep 0.05
done
if [ ! -s "$dir/xensim.pid" ]; then
        sed 's/^/# /' "$tmp/xensim.log"
        echo "Bail out! xensim did not start"
        exit 1
fi

export XENSIM_HV_SOCKET=$dir/hv-socket
export LD_LIBRARY_PATH=$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# xc ARGS...: runs test-xenctrl, output in $out, stderr in $err, exit status in $rc.
xc() {
        out=$("$xc" "$@" 2> "$tmp/err")
        rc=$?
        err=$(cat "$tmp/err")
        [ $rc -eq 0 ] || diag "test-xenctrl $*: $err"
        return $rc
}
# fails_with ERRNO: the last xc call failed with that errno.
fails_with() {
        [ "$rc" -ne 0 ] && case "$err" in *"(errno $1)"*) return 0;; esac
        return 1
}
# val KEY: the value of KEY=... in $out.
val() {
        printf '%s\n' "$out" | sed -n "s/^$1=//p" | head -n 1
}
# field DOMID KEY: KEY from the "list" line of DOMID.
field() {
        printf '%s\n' "$out" | grep "^domid=$1 " | tr ' ' '\n' | sed -n "s/^$2=//p"
}
# sim DOMID COLUMN: xensim's own view ("list": domid name state flags memory_kib vcpus uuid).
sim() {
        "$ctl" "$dir/control-socket" list | awk -v d="$1" -v c="$2" '$1 == d { print $c }'
}

# --- The right libraries are the ones loaded. ---
for l in libxencall libxenforeignmemory libxendevicemodel; do
        soname=$(objdump -p "$libs/$l.so.1" 2> /dev/null | awk '$1 == "SONAME" { print $2 }')
        check "$l built with SONAME $l.so.1" test "$soname" = "$l.so.1"
done
check "libxencall defines the real version nodes VERS_1.0..VERS_1.3" \
        test "$(objdump -T "$libs/libxencall.so.1" | grep -cE ' VERS_1\.[0-3] +VERS_1\.[0-3]$')" -eq 4
ldd_out=$(ldd "$xc")
printf '%s\n' "$ldd_out" | grep -E 'libxen(ctrl|call|foreignmemory|devicemodel)' | sed 's/^[[:space:]]*/# /'
ldd_has() {
        printf '%s\n' "$ldd_out" | grep -qE "$1"
}
check "ldd: the real libxenctrl.so.4.17 is used" ldd_has '^[[:space:]]*libxenctrl\.so\.4\.17 => /(usr/)?lib/'
check "ldd: libxencall.so.1 resolves to the replacement" \
        ldd_has "libxencall\.so\.1 => $libs/libxencall\.so\.1 "
# The binding trace is large (huge under ASan): filter it in a pipe, never in a variable.
binding=$(LD_DEBUG=bindings "$xc" open 2>&1 | grep 'libxenctrl\.so.*normal symbol `xencall_open' | head -n 1)
diag "$binding"
check "LD_DEBUG: libxenctrl binds xencall_open to the replacement" \
        bash -c 'case "$1" in *"to $2/libxencall.so.1 "*) exit 0;; esac; exit 1' _ "$binding" "$libs"

# --- First things first: open, version, domain list. ---
check "xc_interface_open succeeds" xc open
xc version
check "xc_version(XENVER_version) is xensim's 4.1 (xend config 4)" test "$(val version)" = "4.1"
check "xc_version(XENVER_extraversion) is .2" test "$(val extraversion)" = ".2"
check "xc_version(XENVER_capabilities) lists hvm-3.0-x86_64" \
        bash -c 'case "$1" in *xen-3.0-x86_64*hvm-3.0-x86_64*) exit 0;; esac; exit 1' _ "$(val capabilities)"

xc physinfo
check "xc_physinfo: cpus, nodes and cpu_khz" \
        test "$(val nr_cpus)/$(val nr_nodes)/$(val cpu_khz)/$(val sched_id)" = "8/2/2400000/5"
total_pages=$(val total_pages)
free_pages=$(val free_pages)

xc list
check "xc_domain_getinfolist: Domain-0 is there, running, with a null handle" \
        test "$(field 0 running)/$(field 0 handle)" = "1/00000000-0000-0000-0000-000000000000"
check "Domain-0's memory matches xensim" test "$(( $(field 0 tot_pages) * 4 ))" = "$(sim 0 5)"
check "free pages = total - what the domains hold" \
        test "$free_pages" = "$(( total_pages - $(field 0 tot_pages) ))"

# --- A domain created in xensim's state appears with its memory and vcpus. ---
"$ctl" "$dir/control-socket" domain create guest1 512 2 > /dev/null
id=$("$ctl" "$dir/control-socket" list | awk '$2 == "guest1" { print $1 }')
xc list
got="$(field "$id" tot_pages)/$(field "$id" max_pages)/$(field "$id" online_vcpus)"
got="$got/$(field "$id" max_vcpu_id)"
check "guest1 (domid $id) appears with 512 MiB and 2 vcpus" test "$got" = "131072/131072/2/1"
check "guest1's handle is its UUID" test "$(field "$id" handle)" = "$(sim "$id" 7)"
xc info "$id"
check "xc_domain_getinfo agrees (found, not paused, running)" \
        test "$(val found)/$(val nr_pages)/$(val paused)/$(val running)" = "1/131072/0/1"
xc info 999
check "xc_domain_getinfo of a missing domain finds nothing" test "$(val found)" = "0"

xc threads 8 200
check "8 threads sharing one handle: 3200 hypercalls, none lost or mixed up" \
        test "$out" = "$(printf 'open=ok\nthreads=8 calls=3200 failed=0')"

# --- Control through libxenctrl is seen by xensim, and the other way round. ---
xc pause "$id"
check "xc_domain_pause: xensim shows the domain paused" test "$(sim "$id" 3)" = "paused"
xc info "$id"
check "xc_domain_getinfo reports paused" test "$(val paused)/$(val running)" = "1/0"
xc unpause "$id"
check "xc_domain_unpause: running again" test "$(sim "$id" 3)" = "running"
"$ctl" "$dir/control-socket" domain pause guest1 > /dev/null
xc info "$id"
check "a pause made in xensim is reflected in the flags" test "$(val paused)" = "1"
"$ctl" "$dir/control-socket" domain unpause guest1 > /dev/null

xc vcpus "$id"
check "xc_vcpu_getinfo: both vcpus online" test "$(printf '%s\n' "$out" | grep -c 'online=1')" = "2"
xc pin "$id" 1 2 5
check "xc_vcpu_setaffinity/getaffinity: vcpu 1 pinned to cpus 2,5" \
        test "$(printf '%s\n' "$out" | grep '^vcpu=1 ')" = "vcpu=1 affinity=2,5"

xc setmaxmem "$id" 1048576
xc info "$id"
check "xc_domain_setmaxmem: max_memkb follows" test "$(val max_memkb)" = "1048576"

xc sched "$id"
check "xc_sched_credit_domain_get: default weight 256, cap 0" test "$(val weight)/$(val cap)" = "256/0"
xc sched "$id" 512 25
check "xc_sched_credit_domain_set: weight 512, cap 25" test "$(val weight)/$(val cap)" = "512/25"

xc availheap -1
heap=$(val avail_bytes)
xc physinfo
check "xc_availheap(-1) = free pages of xc_physinfo" test "$heap" = "$(( $(val free_pages) * 4096 ))"

# --- Shutdown and destruction remove the domain. ---
"$ctl" "$dir/control-socket" domain create guest2 256 1 > /dev/null
id2=$("$ctl" "$dir/control-socket" list | awk '$2 == "guest2" { print $1 }')
xc shutdown "$id2" 0
check "xc_domain_shutdown(poweroff): guest2 goes away" \
        eventually bash -c '! "$1" list | grep -q "^domid=$2 "' _ "$xc" "$id2"
xc destroy "$id"
check "xc_domain_destroy: guest1 is gone from xensim" test -z "$(sim "$id" 1)"
xc list
check "... and from xc_domain_getinfolist" test "$(val count)/$(field "$id" tot_pages)" = "1/"
xc destroy 0
check "destroying Domain-0 is refused with EINVAL" fails_with 22

# --- Faults. ---
"$ctl" "$dir/control-socket" hypervisor fail on > /dev/null
xc list
check "hypervisor fail on: xc_domain_getinfolist fails with EPERM" fails_with 1
"$ctl" "$dir/control-socket" hypervisor fail off > /dev/null
check "hypervisor fail off: hypercalls work again" xc list
XENSIM_HV_SOCKET= xc open
check "no XENSIM_HV_SOCKET: xc_interface_open fails with ENOENT" fails_with 2
: > "$tmp/not-a-socket"
XENSIM_HV_SOCKET=$tmp/not-a-socket xc open
check "xensim unreachable: xc_interface_open fails with ECONNREFUSED" fails_with 111

[ $failed -eq 0 ]
