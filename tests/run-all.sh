#!/bin/sh
# Sets everything up and runs all tests: installs the Debian packages, builds twice (a -Werror
# build and an AddressSanitizer + UBSan build) and runs make check in both, boots the real Xen
# 4.17 hypervisor under QEMU and runs the real-Xen lane (make check-xen), runs the unit and
# integration tests a third time under valgrind (make check-valgrind), fuzzes, checks make
# distcheck and make static-analysis, and prints one summary line "N passed, N failed, N skipped"
# computed from the automake results of the three test passes and the lane's own summary.
#
#   sh tests/run-all.sh [--no-install]
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "${1:-}" != "--no-install" ]; then
        sh tests/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }
fi

jobs=$(nproc 2>/dev/null || echo 2)
status=0

./autogen.sh >/dev/null || { echo "autogen.sh failed"; echo "0 passed, 1 failed"; exit 1; }

# The end of each failed test's log (its diagnostics, without the passing lines), so that a
# failure on a CI machine can be understood from this output alone.
show_failed_logs() {
        for t in $(sed -n 's/^\(FAIL\|ERROR\): \([^ ]*\).*/\2/p' "$1" | sort -u); do
                log=${t%.sh}.log
                [ -f "$log" ] || continue
                echo "-- $log (last 40 lines without the passing ones)"
                grep -vE '^(ok |PASS: )' "$log" | tail -n 40 | sed 's/^/   | /'
        done
}

build() {
        dir=$1; shift
        rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || return 1
        echo "== configure $* ($dir)"
        "$top/configure" "$@" >configure.out 2>&1 || { cat configure.out; cd "$top"; return 1; }
        echo "== make ($dir)"
        make -j"$jobs" >make.out 2>&1 || { cat make.out; cd "$top"; return 1; }
        echo "== make check ($dir)"
        make -j"$jobs" check >check.out 2>&1
        rc=$?
        grep -E '^(FAIL|ERROR|XPASS):' check.out
        show_failed_logs check.out
        sed -n '/^# TOTAL/,/^# ERROR/p' check.out
        cd "$top"
        return $rc
}

build "$top/build-ci" --enable-werror || status=1
build "$top/build-ci-asan" --enable-sanitizers || status=1

# The real-Xen lane (make check-xen, tests/xen-lane): Xen 4.17 and a PV dom0 under QEMU TCG, the
# channel tests in their real-Xen mode and the xenvirtd scenario against the real hypervisor.
# Counted from its last line "N passed, N failed"; no such line counts as one failure.
xen_passed=0 xen_failed=0 xen_skipped=0
if [ "${XV_XEN_LANE:-1}" = 1 ]; then
        echo "== make check-xen (build-ci)"
        (cd "$top/build-ci" && make check-xen >check-xen.out 2>&1) || status=1
        grep -E '^(not ok|# xen lane)' "$top/build-ci/check-xen.out"
        line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$top/build-ci/check-xen.out" | tail -n 1)
        echo "check-xen: ${line:-no summary}"
        if [ -n "$line" ]; then
                set -- $line
                xen_passed=$1 xen_failed=$3 xen_skipped=$5
        else
                xen_failed=1
        fi
fi

# The third pass: unit and integration tests under valgrind memcheck (make check-valgrind), each
# test with one more result that fails on any memory error or leak in our code.
if [ "${XV_VALGRIND:-1}" = 1 ]; then
        build_valgrind() {
                rm -rf "$top/build-ci-valgrind" && mkdir -p "$top/build-ci-valgrind" &&
                        cd "$top/build-ci-valgrind" || return 1
                echo "== configure + make check-valgrind (build-ci-valgrind)"
                "$top/configure" --enable-werror >configure.out 2>&1 || { cat configure.out; cd "$top"; return 1; }
                make -j"$jobs" >make.out 2>&1 || { cat make.out; cd "$top"; return 1; }
                make -j"$jobs" check-valgrind >check.out 2>&1
                rc=$?
                grep -E '^(FAIL|ERROR|XPASS):' check.out
                show_failed_logs check.out
                sed -n '/^# TOTAL/,/^# ERROR/p' check.out
                cd "$top"
                return $rc
        }
        build_valgrind || status=1
fi

# The libFuzzer build: every fuzz target runs XV_FUZZ_RUNS inputs from a fixed seed on top of its
# corpus (make fuzz), the same inputs on every machine.
if command -v clang >/dev/null 2>&1 && [ "${XV_FUZZ_RUNS:-50000}" != 0 ]; then
        echo "== fuzz build (clang, libFuzzer, ${XV_FUZZ_RUNS:-50000} runs per target, seed 1)"
        rm -rf "$top/build-ci-fuzz" && mkdir -p "$top/build-ci-fuzz" && (
                cd "$top/build-ci-fuzz" &&
                "$top/configure" CC=clang --enable-fuzzing >configure.out 2>&1 &&
                make -j"$jobs" fuzz FUZZ_RUNS="${XV_FUZZ_RUNS:-50000}" FUZZ_SEED=1 >fuzz.out 2>&1
        ) || {
                tail -40 "$top/build-ci-fuzz/fuzz.out" 2>/dev/null || cat "$top/build-ci-fuzz/configure.out"
                echo "fuzzing failed"
                status=1
        }
        grep -E '^(== |Done |stat::number_of_executed_units|cov: )' "$top/build-ci-fuzz/fuzz.out" 2>/dev/null | tail -20
fi

if [ "${XV_DISTCHECK:-1}" = 1 ]; then
        echo "== make distcheck"
        (cd "$top/build-ci" && make -j"$jobs" distcheck >distcheck.out 2>&1) || {
                tail -40 "$top/build-ci/distcheck.out"
                echo "distcheck failed"
                status=1
        }
fi

# cppcheck and clang-tidy over the project's own sources: any finding fails the run.
if [ "${XV_STATIC_ANALYSIS:-1}" = 1 ]; then
        echo "== make static-analysis"
        (cd "$top/build-ci" && make static-analysis >static-analysis.out 2>&1) || {
                tail -60 "$top/build-ci/static-analysis.out"
                echo "static analysis failed"
                status=1
        }
        tail -3 "$top/build-ci/static-analysis.out"
fi

# Count the results of the test passes from automake's .trs files; a build that failed before its
# tests ran counts as one failure so the summary can never look green by omission.
passed=0 failed=0 skipped=0
builds="build-ci build-ci-asan"
[ "${XV_VALGRIND:-1}" != 1 ] || builds="$builds build-ci-valgrind"
for d in $builds; do
        if ! ls "$top/$d"/tests >/dev/null 2>&1 || [ -z "$(find "$top/$d" -name '*.trs' 2>/dev/null | head -1)" ]; then
                failed=$((failed + 1))
                continue
        fi
        p=$(find "$top/$d" -name '*.trs' -exec grep -h '^:test-result: PASS' {} + | wc -l)
        x=$(find "$top/$d" -name '*.trs' -exec grep -h '^:test-result: XFAIL' {} + | wc -l)
        f=$(find "$top/$d" -name '*.trs' -exec grep -hE '^:test-result: (FAIL|ERROR|XPASS)' {} + | wc -l)
        s=$(find "$top/$d" -name '*.trs' -exec grep -h '^:test-result: SKIP' {} + | wc -l)
        passed=$((passed + p + x)); failed=$((failed + f)); skipped=$((skipped + s))
done
passed=$((passed + xen_passed)); failed=$((failed + xen_failed)); skipped=$((skipped + xen_skipped))
if [ $status -ne 0 ] && [ $failed -eq 0 ]; then
        failed=1        # distcheck or a build step failed outside the counted tests
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ $status -eq 0 ] && [ $failed -eq 0 ]
