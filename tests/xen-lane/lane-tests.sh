#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The suite of make check-xen, run in dom0 by the real-Xen lane: the hypercall and xenstore
# channel tests in their real-Xen mode, the libxl lifecycle wrappers (create, pause, memory,
# pinning, scheduler, core dump, save/restore, shutdown, destroy) and the xenvirtd scenario, one
# after the other.
# XV_LANE_PARALLEL=1 runs them at the same time (each uses its own guest names and checks only its
# own guests); on a loaded host that overloads dom0 (xenstored stalls: hung xenwatch), so it is
# not the default. Each part's TAP goes to $XEN_LANE_OUT/PART.tap
# and its exit status to PART.rc; the host side (xen-lane check) counts.
# Arguments: the parts to run (default: all).
B=${XEN_LANE_BUILDDIR:?run me in the xen lane}
O=${XEN_LANE_OUT:?run me in the xen lane}
S=$(cd "$(dirname "$0")" && pwd)

part() {
        local name=$1 rc t0=$SECONDS
        shift
        "$@" > "$O/$name.tap" 2>&1 < /dev/null
        rc=$?
        echo "$rc" > "$O/$name.rc"
        echo "# --- $name: exit status $rc, $((SECONDS - t0)) s"
        return $rc
}

run_part() {
        case $1 in
        test-hcall|test-xenstore-channel)
                XV_TEST_REAL_XEN=1 part "$1" "$B/tests/unit/$1" ;;
        test-libxl-ops-real)
                part "$1" "$B/tests/unit/$1" ;;
        t-xenvirtd)
                part "$1" "$S/t-xenvirtd.sh" ;;
        *)
                echo "unknown part $1" >&2; return 1 ;;
        esac
}

# A crashing test leaves its core in $XEN_LANE_OUT (dom0's core pattern; dom0 is thrown away).
ulimit -c unlimited 2> /dev/null
echo "$O/core.%e.%p" > /proc/sys/kernel/core_pattern 2> /dev/null

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(test-hcall test-xenstore-channel test-libxl-ops-real t-xenvirtd)
failed=0
pids=()
for p in "${parts[@]}"; do
        if [ "${XV_LANE_PARALLEL:-0}" != 1 ]; then
                run_part "$p" || failed=1
        else
                run_part "$p" &
                pids+=($!)
        fi
done
for pid in "${pids[@]}"; do
        wait "$pid" || failed=1
done
for p in "${parts[@]}"; do
        echo "# --- $p"
        cat "$O/$p.tap" 2> /dev/null
done
exit $failed
