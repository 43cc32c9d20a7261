#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/bench/run-bench.sh: "make bench" (issue 12) — xenvirtd on the sandbox (simulated Xen host)
# against the stock libvirtd with its in-memory test driver, measured by the same client binary
# (rpcbench, built on the real libvirt client library) side by side.
#
#   run-bench.sh --builddir DIR --srcdir DIR --bindir DIR --rpcbench-src DIR --out DIR
#
# Environment (all optional):
#   BENCH_N="10 100 1000 10000"  numbers of domains (half running), measured in ascending order;
#                                the servers grow from one N to the next (no teardown)
#   BENCH_REPS=3 BENCH_SECS=5    repetitions per cell and seconds per measurement
#   BENCH_THREADS="1 4 16 64"    connection counts of the concurrency benchmark
#   BENCH_TMPDIR=/dev/shm        where the sandbox and libvirtd's run dir go (a tmpfs: xensim
#                                with many domains is slow on ext4)
#   BENCH_SETUP_TIMEOUT=300      seconds one server may take to grow to the next N; a server
#                                that does not make it is left out from that N on (reported)
#   BENCH_LIBVIRTD=libvirtd      the reference daemon; "no" runs xenvirtd alone (no ratios)
#   BENCH_XEND_DELAY_MS=200      XenD delay of the slow-XenD isolation check
#   BENCH_ONLY="connect lookup_info list dumpxml concurrency xend_requests xend_slow pingpong"
#                                the measurements to run (default: all of them)
#   BENCH_FLOOR=yes              also measure the floor: replay-floor, a caching proxy in front of
#                                xenvirtd that answers the measured calls from what xenvirtd
#                                answered before (primed at every N), so a server that costs
#                                nothing: what no server can beat with this client on this machine
#   BENCH_SETUP=populate         how xenvirtd's sandbox grows: "populate" has xensim clone the
#                                domains rpcbench's setup would define (same names, UUIDs, MACs,
#                                every second one running) from one seed defined through the API
#                                ("xensim-ctl SOCK bench populate"); "api" runs rpcbench setup
#                                (define + start through xenvirtd, minutes at N = 10,000). The
#                                reference libvirtd always grows through the API.
#
# Every cell (N, benchmark, threads) runs A, B, A, B... (xenvirtd, libvirtd) for BENCH_REPS
# repetitions, so that both servers see the same machine. Raw rpcbench lines go to OUT/raw.txt,
# every command to OUT/commands.txt; bench-report.py turns them into OUT/bench.md, and gnuplot
# (Debian: gnuplot-nox) into OUT/bench.png and OUT/list-cost.png.
set -euo pipefail

prog=${0##*/}
BENCH_N_MAX=10000               # xensim holds at most XSIM_DOMAINS_MAX (16384) domains
READY_TIMEOUT=20                # seconds for libvirtd to listen
STOP_TIMEOUT=20                 # seconds for a process we started to exit on SIGTERM

die() {
        echo "$prog: $*" >&2
        exit 1
}

note() {
        echo "$prog: $*" >&2
        echo "$*" >> "$out/notes.txt"
}

builddir= srcdir= bindir= rbsrc= out=
while [ $# -gt 0 ]; do
        [ $# -ge 2 ] || die "option $1 needs a value"
        case "$1" in
                --builddir) builddir=$2 ;;
                --srcdir) srcdir=$2 ;;
                --bindir) bindir=$2 ;;
                --rpcbench-src) rbsrc=$2 ;;
                --out) out=$2 ;;
                *) die "unknown option $1" ;;
        esac
        shift 2
done
[ -n "$builddir" ] && [ -n "$srcdir" ] && [ -n "$bindir" ] && [ -n "$rbsrc" ] && [ -n "$out" ] ||
        die "usage: $prog --builddir DIR --srcdir DIR --bindir DIR --rpcbench-src DIR --out DIR"

ns=${BENCH_N:-10 100 1000 10000}
reps=${BENCH_REPS:-3}
secs=${BENCH_SECS:-5}
threads=${BENCH_THREADS:-1 4 16 64}
tmpdir=${BENCH_TMPDIR:-/dev/shm}
setup_timeout=${BENCH_SETUP_TIMEOUT:-300}
libvirtd_bin=${BENCH_LIBVIRTD:-libvirtd}
xend_delay=${BENCH_XEND_DELAY_MS:-200}
all_benches="connect lookup_info list dumpxml concurrency xend_requests xend_slow pingpong"
only=${BENCH_ONLY:-$all_benches}
setup_mode=${BENCH_SETUP:-populate}
floor_mode=${BENCH_FLOOR:-yes}

is_uint() {
        case "$1" in ''|*[!0-9]*) return 1 ;; esac
        [ ${#1} -le 6 ]
}
for v in $ns; do
        is_uint "$v" && [ "$v" -ge 1 ] && [ "$v" -le $BENCH_N_MAX ] || die "BENCH_N: '$v' is not 1..$BENCH_N_MAX"
done
for v in $threads; do
        is_uint "$v" && [ "$v" -ge 1 ] && [ "$v" -le 256 ] || die "BENCH_THREADS: '$v' is not 1..256"
done
is_uint "$reps" && [ "$reps" -ge 1 ] && [ "$reps" -le 100 ] || die "BENCH_REPS: '$reps' is not 1..100"
is_uint "$setup_timeout" && [ "$setup_timeout" -ge 1 ] || die "BENCH_SETUP_TIMEOUT: '$setup_timeout'"
is_uint "$xend_delay" && [ "$xend_delay" -le 600000 ] || die "BENCH_XEND_DELAY_MS: '$xend_delay'"
case "$secs" in ''|*[!0-9.]*) die "BENCH_SECS: '$secs' is not a number" ;; esac
for v in $only; do
        case " $all_benches " in *" $v "*) ;; *) die "BENCH_ONLY: '$v' is not one of: $all_benches" ;; esac
done
case "$setup_mode" in populate|api) ;; *) die "BENCH_SETUP: '$setup_mode' is not populate or api" ;; esac
case "$floor_mode" in yes|no) ;; *) die "BENCH_FLOOR: '$floor_mode' is not yes or no" ;; esac
want() {                # BENCH: it is in BENCH_ONLY
        case " $only " in *" $1 "*) return 0 ;; esac
        return 1
}
ns=$(printf '%s\n' $ns | sort -n -u | tr '\n' ' ')
ns=${ns% }

rb=$bindir/rpcbench
pp=$bindir/pingpong
rf=$builddir/tests/bench/replay-floor
sandbox=$srcdir/tests/sandbox
template=$srcdir/tests/bench/domain.xml
ctl=$builddir/tests/xensim/xensim-ctl
for f in "$rb" "$pp" "$rf" "$ctl" "$builddir/tests/xensim/xensim" "$builddir/daemon/xenvirtd"; do
        [ -x "$f" ] || die "$f is not built"
done
[ -r "$template" ] || die "cannot read $template"
command -v virsh > /dev/null || die "virsh not found: install the Debian package 'libvirt-clients'"
command -v gnuplot > /dev/null || die "gnuplot not found: install the Debian package 'gnuplot-nox'"
if [ "$libvirtd_bin" = no ]; then
        libvirtd_bin=
elif ! command -v "$libvirtd_bin" > /dev/null; then
        die "$libvirtd_bin not found: install the Debian package 'libvirt-daemon' (or BENCH_LIBVIRTD=no)"
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/raw.txt" "$out/commands.txt" "$out/notes.txt" "$out/errors.txt" "$out/bench.md" "$out"/*.png "$out"/xend-paths-*.txt
raw=$out/raw.txt
cmdlog=$out/commands.txt
: > "$raw"
: > "$cmdlog"
: > "$out/notes.txt"

[ -d "$tmpdir" ] || die "BENCH_TMPDIR $tmpdir does not exist"
[ "$(stat -f -c %T "$tmpdir")" = tmpfs ] || note "warning: $tmpdir is not a tmpfs (xensim is slow with many domains on a disk)"
work=$(mktemp -d "$tmpdir/xv-bench.XXXXXX")
sb=$work/sb
lvdir=$work/lv

lv_pid= holder= bg_pids= floor_pid=
stop_pid() {            # PID: SIGTERM, bounded wait, SIGKILL
        local pid=$1 i=0
        [ -n "$pid" ] || return 0
        kill -TERM "$pid" 2>/dev/null || return 0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt $((STOP_TIMEOUT * 10)) ]; do
                sleep 0.1
                i=$((i + 1))
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
}
cleanup() {
        set +e
        for p in $bg_pids; do stop_pid "$p"; done
        stop_pid "$holder"
        stop_pid "$lv_pid"
        stop_pid "$floor_pid"
        XV_BUILDDIR=$builddir "$sandbox" down "$sb" > /dev/null 2>&1
        mkdir -p "$out/logs"
        for f in "$sb/xenvirtd.log" "$sb/xensim.log" "$lvdir/libvirtd.log"; do
                [ -f "$f" ] && tail -n 300 "$f" > "$out/logs/${f##*/}"
        done
        rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# rbx ARGS...: rpcbench, logged to commands.txt
rbx() {
        printf '%s\n' "rpcbench $*" >> "$cmdlog"
        "$rb" "$@"
}

echo "$prog: work directory $work, results in $out" >&2
{
        echo "date $(date -u '+%F %T UTC')"
        echo "nproc $(nproc)"
        echo "cpu $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
        echo "mem_mib $(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo)"
        echo "kernel $(uname -sr)"
        echo "loadavg_start $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "libvirt_client $(pkg-config --modversion libvirt 2>/dev/null || echo '?')"
        [ -z "$libvirtd_bin" ] || echo "libvirtd $("$libvirtd_bin" --version 2>/dev/null | head -n 1)"
        echo "xenvirt $(git -C "$srcdir" describe --always --dirty 2>/dev/null || echo '?')"
        echo "params N=\"$ns\" reps=$reps secs=$secs threads=\"$threads\" xend_delay_ms=$xend_delay tmpdir=$tmpdir only=\"$only\" setup=$setup_mode"
} > "$out/machine.txt"

# ---- the servers ----------------------------------------------------------------------------

servers=xenvirtd
declare -A uri pid ok
XV_BUILDDIR=$builddir "$sandbox" up "$sb" > /dev/null
# shellcheck disable=SC1091
. "$sb/env"
uri[xenvirtd]=$XENVIRT_URI
pid[xenvirtd]=$XENVIRTD_PID
ok[xenvirtd]=1
echo "sandbox: XV_BUILDDIR=$builddir tests/sandbox up DIR (xensim + xenvirtd, DIR on $tmpdir)" >> "$cmdlog"
# Idle RSS: right after the start, before any client has connected.
rbx -P "${pid[xenvirtd]}" -l "server=xenvirtd n=0 rep=0 phase=idle_start" rss >> "$raw"

if [ -n "$libvirtd_bin" ]; then
        mkdir -p "$lvdir/no-drivers"
        # The shared configuration with its run directory moved below the work directory.
        sed "s|/tmp/bench|$lvdir|g" "$rbsrc/libvirtd-bench.conf" > "$lvdir/libvirtd.conf"
        echo "libvirtd: LIBVIRT_DRIVER_DIR=DIR/no-drivers $libvirtd_bin -f DIR/libvirtd.conf -p DIR/libvirtd.pid (libvirtd-bench.conf, unix_sock_dir=DIR)" >> "$cmdlog"
        LIBVIRT_DRIVER_DIR=$lvdir/no-drivers "$libvirtd_bin" -f "$lvdir/libvirtd.conf" \
                -p "$lvdir/libvirtd.pid" < /dev/null > "$lvdir/libvirtd.log" 2>&1 &
        lv_pid=$!
        i=0
        until [ -S "$lvdir/libvirt-sock" ] && [ -s "$lvdir/libvirtd.pid" ]; do
                kill -0 "$lv_pid" 2>/dev/null || { cat "$lvdir/libvirtd.log" >&2; lv_pid=; die "libvirtd exited at start-up"; }
                [ $i -lt $((READY_TIMEOUT * 10)) ] || die "libvirtd did not listen within ${READY_TIMEOUT}s"
                sleep 0.1
                i=$((i + 1))
        done
        uri[libvirtd]="test+unix:///default?socket=$lvdir/libvirt-sock"
        pid[libvirtd]=$lv_pid
        ok[libvirtd]=1
        servers="xenvirtd libvirtd"
        sleep 1         # let it finish its start-up before the idle sample
        rbx -P "$lv_pid" -l "server=libvirtd n=0 rep=0 phase=idle_start" rss >> "$raw"
        # The test driver frees its state when its last connection closes: hold one open.
        fifo=$work/hold.fifo
        mkfifo "$fifo"
        echo "rpcbench -c URI hold" >> "$cmdlog"
        "$rb" -c "${uri[libvirtd]}" hold > "$fifo" &      # not through rbx: $! must be rpcbench
        holder=$!
        line=
        read -r line < "$fifo" || true
        case $line in *ready=1*) ;; *) die "the libvirtd holder connection failed" ;; esac
fi

# The floor: replay-floor -e (one thread on epoll: the tightest tail of the designs tried) in front
# of xenvirtd's read-write socket, measured after the two servers in every cell. It holds nothing
# of its own: it is started afresh (an empty cache) after every growth and primed, so that it
# answers every measured call itself, with what xenvirtd answered at this N.
start_floor() {         # N
        local n=$1 i=0
        [ "$floor_mode" = yes ] && [ "${ok[xenvirtd]}" = 1 ] || return 0
        stop_pid "$floor_pid"
        floor_pid=
        ok[floor]=0
        rm -f "$work/floor.out"
        echo "floor: replay-floor -e -l DIR/floor-sock -u SANDBOX/xenvirtd-sock" >> "$cmdlog"
        "$rf" -e -l "$work/floor-sock" -u "$sb/xenvirtd-sock" > "$work/floor.out" 2>&1 &
        floor_pid=$!
        until grep -q 'ready=1' "$work/floor.out" 2>/dev/null; do
                if ! kill -0 "$floor_pid" 2>/dev/null || [ $i -ge $((READY_TIMEOUT * 10)) ]; then
                        note "replay-floor did not start at N=$n: $(cat "$work/floor.out")"
                        return 0
                fi
                sleep 0.1
                i=$((i + 1))
        done
        uri[floor]="xen:///system?socket=$work/floor-sock"
        pid[floor]=$floor_pid
        echo "rpcbench -c FLOOR -i N lookup_info; rpcbench -c FLOOR -i N dumpxml; rpcbench -c FLOOR -i 2 list (priming)" >> "$cmdlog"
        if "$rb" -c "${uri[floor]}" -w 0 -i "$n" lookup_info > /dev/null 2>> "$out/errors.txt" &&
           "$rb" -c "${uri[floor]}" -w 0 -i "$n" dumpxml > /dev/null 2>> "$out/errors.txt" &&
           "$rb" -c "${uri[floor]}" -w 0 -i 2 list > /dev/null 2>> "$out/errors.txt"; then
                ok[floor]=1
        else
                note "priming the floor at N=$n failed: no floor at N=$n"
        fi
}

alive() {               # SERVER: the server process still runs
        kill -0 "${pid[$1]}" 2>/dev/null
}

# measure SERVER LABEL RPCBENCH-ARGS...: one measurement; a failure is recorded, not fatal
measure() {
        local s=$1 lbl=$2
        shift 2
        [ "${ok[$s]}" = 1 ] || return 0
        if ! rbx -c "${uri[$s]}" -P "${pid[$s]}" -d "$secs" -l "server=$s $lbl" "$@" >> "$raw" 2>> "$out/errors.txt"; then
                echo "server=$s $lbl bench=error args=$(echo "$*" | tr ' ' '_')" >> "$raw"
                note "rpcbench $* against $s ($lbl) failed: $(tail -n 1 "$out/errors.txt")"
                if ! alive "$s"; then
                        note "$s is gone: left out from here on"
                        ok[$s]=0
                fi
        fi
}

# ---- the XenD side --------------------------------------------------------------------------

xend_total() {
        local t
        t=$("$ctl" "$XENSIM_CONTROL" xend stats 2>/dev/null | awk '$1 == "total" { print $2 }') || true
        [ -n "$t" ] || t=$("$ctl" "$XENSIM_CONTROL" stats | awk '$1 == "xend_requests" { print $2 }')
        echo "$t"
}

# XenD requests of one virsh command, minus those of connecting (a virsh running only "uri").
xend_count() {
        local a b
        a=$(xend_total)
        virsh -q -c "${uri[xenvirtd]}" "$1" > /dev/null 2>> "$out/errors.txt" || note "virsh '$1' failed"
        b=$(xend_total)
        echo $((b - a))
}

xend_requests() {       # N
        local n=$1 k base c what key
        [ "${ok[xenvirtd]}" = 1 ] || return 0
        want xend_requests || return 0
        echo "virsh -c URI 'uri; list --all' | 'uri; dominfo bench-a00000' | 'uri; dominfo bench-a00001' (XenD requests: xensim-ctl SOCK xend stats, minus 'uri' alone)" >> "$cmdlog"
        for what in "list --all" "dominfo bench-a00000" "dominfo bench-a00001"; do
                case "$what" in
                        list*) key=list_all ;;
                        *00000) key=dominfo_running ;;
                        *) key=dominfo_inactive ;;
                esac
                for k in 1 2 3; do
                        base=$(xend_count "uri")
                        c=$(xend_count "uri; $what")
                        echo "server=xenvirtd n=$n rep=$k bench=xend_requests cmd=$key requests=$((c - base)) connect_requests=$base" >> "$raw"
                done
        done
        # Which requests they make, for the record (connecting included).
        for what in "list --all" "dominfo bench-a00000"; do
                "$ctl" "$XENSIM_CONTROL" xend stats reset > /dev/null 2>&1 || break
                virsh -q -c "${uri[xenvirtd]}" "$what" > /dev/null 2>&1 || true
                "$ctl" "$XENSIM_CONTROL" xend stats > "$out/xend-paths-$(echo "${what% *}" | tr ' -' '__')-n$n.txt" || true
        done
}

# With XenD answering after BENCH_XEND_DELAY_MS, two clients keep XenD busy (listing all
# domains; defining and undefining a scratch domain) while a third measures lookup+getinfo.
xend_slow() {           # N
        local n=$1 r stop=$work/slow.stop lpid dpid scratch=$work/scratch.xml
        [ "${ok[xenvirtd]}" = 1 ] || return 0
        want xend_slow || return 0
        sed -e 's/@NAME@/xvbench-scratch/g' -e 's/@UUID@/6b656e63-6800-4000-8000-00000000beef/' \
            -e 's/@MAC@/00:16:3e:ff:ff:fe/' -e 's/@TYPE@/xen/' "$template" > "$scratch"
        echo "xensim-ctl SOCK xend delay $xend_delay; background: virsh 'list --all' loop, virsh define/undefine loop; rpcbench lookup_info" >> "$cmdlog"
        "$ctl" "$XENSIM_CONTROL" xend delay "$xend_delay" > /dev/null
        rm -f "$stop"
        ( while [ ! -e "$stop" ]; do
                t0=$(date +%s%N)
                virsh -q -c "${uri[xenvirtd]}" "list --all" > /dev/null 2>&1 || true
                echo "server=xenvirtd n=$n rep=0 phase=xend_slow_bg bench=bg_list ms=$((($(date +%s%N) - t0) / 1000000))"
          done ) >> "$raw" &
        lpid=$!
        ( while [ ! -e "$stop" ]; do
                t0=$(date +%s%N)
                virsh -q -c "${uri[xenvirtd]}" "define $scratch; undefine xvbench-scratch" > /dev/null 2>&1 || true
                echo "server=xenvirtd n=$n rep=0 phase=xend_slow_bg bench=bg_define ms=$((($(date +%s%N) - t0) / 1000000))"
          done ) >> "$raw" &
        dpid=$!
        bg_pids="$lpid $dpid"
        sleep 1
        for r in $(seq 1 "$reps"); do
                measure xenvirtd "n=$n rep=$r phase=xend_slow" lookup_info
        done
        "$ctl" "$XENSIM_CONTROL" xend delay 0 > /dev/null
        touch "$stop"
        for r in $(seq 1 300); do
                kill -0 "$lpid" 2>/dev/null || kill -0 "$dpid" 2>/dev/null || break
                sleep 0.1
        done
        stop_pid "$lpid"
        stop_pid "$dpid"
        bg_pids=
        virsh -q -c "${uri[xenvirtd]}" "undefine xvbench-scratch" > /dev/null 2>&1 || true
}

# ---- the matrix -----------------------------------------------------------------------------

for r in $(seq 1 "$reps"); do
        want pingpong || break
        echo "pingpong -d $secs" >> "$cmdlog"
        "$pp" -d "$secs" -l "server=floor n=0 rep=$r" >> "$raw"
done

# populate PREFIX COUNT: xenvirtd's sandbox grows by COUNT domains PREFIX00000... as rpcbench's setup
# would define them, cloned inside xensim from a seed defined through xenvirtd (the XML the
# template gives, so every clone has the configuration xenvirtd would have sent to XenD). Prints
# a line like rpcbench's setup line.
seed=xvbench-seed
populate() {
        local prefix=$1 count=$2 t0 t1 xml=$work/seed.xml total
        sed -e "s/@NAME@/$seed/g" -e 's/@UUID@/6b656e63-6800-4000-8000-00000005eed0/' \
            -e 's/@MAC@/00:16:3e:ff:ff:fc/' -e 's/@TYPE@/xen/' "$template" > "$xml"
        t0=$(date +%s%N)
        virsh -q -c "${uri[xenvirtd]}" define "$xml" > /dev/null || return 1
        "$ctl" "$XENSIM_CONTROL" bench populate "$seed" "$prefix" 0 "$count" > /dev/null || return 1
        virsh -q -c "${uri[xenvirtd]}" undefine "$seed" > /dev/null || return 1
        t1=$(date +%s%N)
        total=$(virsh -q -c "${uri[xenvirtd]}" list --all --name | grep -c .) || return 1
        echo "bench=setup ndom=$total defined=$count started=$(((count + 1) / 2)) secs=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f", d / 1e9 }') domtype=xen method=populate"
}

slow_n=
for n in $ns; do
        [ "$n" -le 1000 ] && slow_n=$n
done
[ -n "$slow_n" ] || slow_n=${ns%% *}

have=0
running=0
stage=0
letters=(a b c d e f g h i j k l m n o p q r s t u v w x y z)
for n in $ns; do
        # Grow every server from $have to $n domains, every second one started, with a prefix of
        # this step (bench-a, bench-b, ...): the benchmarks go round-robin over bench-*.
        [ $stage -lt ${#letters[@]} ] || die "too many values in BENCH_N"
        prefix=bench-${letters[$stage]}
        for s in $servers; do
                [ "${ok[$s]}" = 1 ] || continue
                echo "$(date -u +%T) $s: setup to N=$n" >&2
                if [ "$s" = xenvirtd ] && [ "$setup_mode" = populate ]; then
                        if ! line=$(populate "$prefix" $((n - have)) 2>> "$out/errors.txt"); then
                                note "$s: populating to N=$n domains failed: left out from N=$n on"
                                echo "server=$s n=$n rep=0 bench=setup_failed method=populate" >> "$raw"
                                ok[$s]=0
                        else
                                echo "server=$s n=$n rep=0 $line" >> "$raw"
                        fi
                        echo "virsh -c URI define SEED.xml; xensim-ctl SOCK bench populate $seed $prefix 0 $((n - have)); virsh -c URI undefine $seed (SEED.xml: tests/bench/domain.xml for $seed)" >> "$cmdlog"
                        continue
                fi
                if ! timeout "$setup_timeout" "$rb" -c "${uri[$s]}" -n $((n - have)) -p "$prefix" -x "$template" \
                        -l "server=$s n=$n rep=0" setup >> "$raw" 2>> "$out/errors.txt"; then
                        note "$s: growing to N=$n domains failed or took more than ${setup_timeout}s (BENCH_SETUP_TIMEOUT): left out from N=$n on"
                        echo "server=$s n=$n rep=0 bench=setup_failed timeout_s=$setup_timeout" >> "$raw"
                        ok[$s]=0
                fi
                echo "rpcbench -c URI -n $((n - have)) -p $prefix -x tests/bench/domain.xml setup" >> "$cmdlog"
        done
        running=$((running + (n - have + 1) / 2))
        have=$n
        stage=$((stage + 1))
        # Both servers must hold the same domains: N named bench-*, half of them running.
        for s in $servers; do
                [ "${ok[$s]}" = 1 ] || continue
                all=$(virsh -q -c "${uri[$s]}" list --all --name | grep -c '^bench-') || true
                act=$(virsh -q -c "${uri[$s]}" list --name | grep -c '^bench-') || true
                echo "server=$s n=$n rep=0 bench=holds domains=$all running=$act" >> "$raw"
                if [ "$all" != "$n" ] || [ "$act" != "$running" ]; then
                        note "$s holds $all bench-* domains ($act running) instead of $n ($running running) at N=$n: left out from N=$n on"
                        ok[$s]=0
                fi
        done
        for s in $servers; do
                [ "${ok[$s]}" = 1 ] || continue
                rbx -P "${pid[$s]}" -l "server=$s n=$n rep=0 phase=idle_after_setup" rss >> "$raw"
        done
        xend_requests "$n"
        start_floor "$n"
        measured=$servers
        [ "${ok[floor]:-0}" = 0 ] || measured="$servers floor"

        echo "$(date -u +%T) N=$n: measuring" >&2
        for mode in connect lookup_info list dumpxml; do
                want "$mode" || continue
                for r in $(seq 1 "$reps"); do
                        for s in $measured; do
                                [ "$s/$mode" != floor/connect ] || continue
                                measure "$s" "n=$n rep=$r" "$mode"
                        done
                done
        done
        for t in $threads; do
                want concurrency || break
                for r in $(seq 1 "$reps"); do
                        for s in $measured; do
                                measure "$s" "n=$n rep=$r" -t "$t" concurrency
                        done
                done
        done
        for s in $servers; do
                [ "${ok[$s]}" = 1 ] || continue
                rbx -P "${pid[$s]}" -l "server=$s n=$n rep=0 phase=idle_after_load" rss >> "$raw"
        done
        if [ "$n" = "$slow_n" ]; then
                echo "$(date -u +%T) N=$n: XenD slow (${xend_delay} ms per request)" >&2
                xend_slow "$n"
        fi
done
echo "loadavg_end $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.txt"

# ---- the report -----------------------------------------------------------------------------

python3 "$srcdir/tests/bench/bench-report.py" --raw "$raw" --machine "$out/machine.txt" \
        --commands "$cmdlog" --notes "$out/notes.txt" --out "$out"
(cd "$out" && gnuplot "$srcdir/tests/bench/bench.gp")
echo "$prog: $out/bench.md" >&2
