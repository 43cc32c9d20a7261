#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/valgrind-run.sh TEST [ARGS...]
#
# The LOG_COMPILER and SH_LOG_COMPILER of "make check-valgrind" (tests/tooling.inc.am):
#
# - A unit test program runs under valgrind memcheck. Its fork-per-test children are followed by
#   valgrind itself (every fork() is), and so is a program it exec()s, except xensim (the test
#   fixture, not the code under test) and system programs.
# - An integration script (*.sh) runs as it is, with XV_SANDBOX_WRAPPER set so that tests/sandbox
#   starts xenvirtd under valgrind (never xensim), and a longer XV_SANDBOX_TIMEOUT. The daemon's
#   own fork()ed children are not reported (--child-silent-after-fork): the daemon forks nothing
#   itself, but libxl (the libxl backend) forks helpers that run a script or a destroy and then
#   exit with the parent's threads missing, which memcheck would count as the parent's heap lost.
#
# Every traced process writes its own log, $XV_VALGRIND_LOGDIR/<test>/<pid>.log. When the test
# has finished (and "tests/sandbox down" has stopped the daemon), the logs are scanned and one
# more TAP result is appended to the test's own (its plan is rewritten to count it): a log that
# reports any error or leak, or a daemon log without valgrind's final summary (the daemon was
# killed before it could exit and be checked), fails it and is shown.
#
# Environment (set by make check-valgrind): XV_VALGRIND, the valgrind command line with its
# options; XV_VALGRIND_LOGDIR, the directory for the logs; XV_VALGRIND_LIBTOOL, the build's
# libtool with an absolute path, to look through libtool's wrapper scripts (optional).
set -u

[ $# -ge 1 ] || { echo "usage: $0 TEST [ARGS...]" >&2; exit 99; }
[ -n "${XV_VALGRIND:-}" ] || { echo "$0: XV_VALGRIND is not set (use make check-valgrind)" >&2; exit 99; }

test_prog=$1
name=$(basename "$test_prog")
logdir=${XV_VALGRIND_LOGDIR:-${TMPDIR:-/tmp}/xv-valgrind}/$name
rm -rf "$logdir" && mkdir -p "$logdir" || exit 99
out=$logdir/tap.out

# libtool --mode=execute runs the real binary behind a libtool wrapper script (a no-op for the
# plain executables this project builds today).
lt=
[ -n "${XV_VALGRIND_LIBTOOL:-}" ] && lt="$XV_VALGRIND_LIBTOOL --mode=execute"

case "$test_prog" in
*.sh)
        mode=integration
        XV_SANDBOX_WRAPPER="$lt $XV_VALGRIND --child-silent-after-fork=yes --log-file=$logdir/%p.log"
        XV_SANDBOX_TIMEOUT=${XV_SANDBOX_TIMEOUT:-120}
        export XV_SANDBOX_WRAPPER XV_SANDBOX_TIMEOUT
        "$@" > "$out"
        rc=$?
        ;;
*)
        mode=unit
        # Children that exec() are traced too (test-hcall and test-backend-xend re-execute
        # themselves), except the fixture, system programs and interpreters (the conformance
        # comparators are Python scripts, run through /usr/bin or a pyenv shim).
        # shellcheck disable=SC2086
        $lt $XV_VALGRIND --log-file="$logdir/%p.log" --trace-children=yes \
                --trace-children-skip='*/xensim,*/xensim-ctl,/bin/*,/sbin/*,/usr/*,*/.pyenv/*,*python*' \
                --trace-children-skip-by-arg='*.py' \
                "$@" > "$out"
        rc=$?
        ;;
esac

# Scans the logs: prints a verdict line, shows the failing logs on stdout as TAP comments.
nlogs=0 nbad=0
for log in "$logdir"/*.log; do
        [ -f "$log" ] || continue
        nlogs=$((nlogs + 1))
        if grep -q '^==[0-9]*== ERROR SUMMARY: 0 errors' "$log"; then
                continue
        fi
        if ! grep -q '^==[0-9]*== ERROR SUMMARY:' "$log"; then
                # No summary: the process exec()ed an untraced program (a unit test's fork
                # that runs xensim or rm), or it was killed with SIGKILL. Only the former is fine.
                [ $mode = unit ] && continue
                echo "valgrind: no ERROR SUMMARY in $log: the process was killed before it exited" >> "$logdir/bad.txt"
        fi
        nbad=$((nbad + 1))
        {
                echo "valgrind log $log:"
                cat "$log"
        } >> "$logdir/bad.txt"
done

# The test's TAP with the plan rewritten to count one more result, then that result.
plan=$(grep -E '^1\.\.[0-9]+' "$out" | head -n 1)
count=${plan#1..}
count=${count%%[!0-9]*}
if [ -n "$plan" ] && [ "$count" = 0 ] && [ $nbad -eq 0 ]; then
        cat "$out"      # skipped as a whole ("1..0 # SKIP"): nothing to add
        exit $rc
fi
grep -vE '^1\.\.[0-9]+' "$out"
# Without a plan (a Bail out!), the result is numbered after the results printed so far.
[ -n "$plan" ] || count=$(grep -cE '^(not )?ok' "$out")
n=$((${count:-0} + 1))
if [ $nbad -eq 0 ]; then
        echo "ok $n - valgrind: no errors and no leaks in $nlogs traced processes"
else
        echo "not ok $n - valgrind: errors or leaks in $nbad of $nlogs traced processes"
        sed 's/^/# /' "$logdir/bad.txt"
        [ $rc -ne 0 ] || rc=1
fi
if [ -n "$plan" ]; then
        echo "1..$n"
else
        echo "Bail out! no TAP plan from $test_prog (exit status $rc)"
fi
exit $rc
