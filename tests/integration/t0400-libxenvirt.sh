#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# libxenvirt: the shared library's ABI (SONAME, exported symbols exactly the functions of
# xenvirt.h and of the version script, NEEDED only libc and libtirpc, the pkg-config file), then
# tests/client/test-libxenvirt against a sandbox whose daemon pings every second (keepalive
# interval 1, count 2) and a scripted fake daemon (tests/client/fake-daemon.py: polkit, framing).
# The C program's TAP results are passed through, renumbered; its last test stops the daemon.
#
# XV_TEST_VALGRIND=1 runs the C program under valgrind (memcheck, leaks as errors) instead.

. "$(dirname "$0")/lib.sh"

lib=$XV_BUILDDIR/.libs/libxenvirt.so.0
header=$XV_TEST_SRCDIR/../client/lib/xenvirt.h
symfile=$XV_TEST_SRCDIR/../client/lib/libxenvirt.sym
prog=$XV_BUILDDIR/tests/client/test-libxenvirt

test_expect_success 'libxenvirt.so.0 is built with its SONAME' '
	test -f "$lib" &&
	readelf -d "$lib" >dynamic &&
	grep -q "Library soname: \[libxenvirt.so.0\]" dynamic
'

test_expect_success 'it needs libc and libtirpc only (no libxml2, Xen libraries or libsystemd)' '
	sed -n "s/.*Shared library: \[\(.*\)\]/\1/p" dynamic >needed &&
	cat needed &&
	grep -qx "libtirpc.so.3" needed &&
	grep -qx "libc.so.6" needed &&
	! grep -Evx "libc\.so\.6|libtirpc\.so\.3|libpthread\.so\.0|libasan\.so\.[0-9]+|libubsan\.so\.[0-9]+|libm\.so\.6|libgcc_s\.so\.1|libstdc\+\+\.so\.6" needed
'

# The functions xenvirt.h declares: identifiers directly followed by "(" once the comments are
# gone (callback typedefs read "(*xv_name)(" and do not match).
test_expect_success 'the exported symbols are exactly the functions of xenvirt.h' '
	gcc -fpreprocessed -dD -E -P "$header" | grep -oE "\<xv_[a-z0-9_]+\(" | tr -d "(" | sort -u >declared &&
	test "$(wc -l <declared)" -ge 80 &&
	nm -D --defined-only "$lib" | awk "{ print \$3 }" | sed "s/@.*//" | grep -v "^XENVIRT_" | sort -u >exported &&
	test_cmp declared exported
'

test_expect_success 'the version script lists the same names, under XENVIRT_0.1' '
	grep -q "^XENVIRT_0.1 {" "$symfile" &&
	sed -n "s/^ *\(xv_[a-z0-9_]*\);$/\1/p" "$symfile" | sort -u >scripted &&
	test_cmp declared scripted &&
	nm -D --defined-only "$lib" | grep -q " XENVIRT_0.1$" &&
	! nm -D --defined-only "$lib" | grep -q "xv_error_setf\|message_\|xdr_"
'

test_expect_success 'the pkg-config file links -lxenvirt' '
	grep -q "^Libs: .*-lxenvirt" "$XV_BUILDDIR/client/lib/libxenvirt.pc" &&
	grep -q "^Name: libxenvirt" "$XV_BUILDDIR/client/lib/libxenvirt.pc"
'

mkdir -p "$TEST_DIR/sb"
printf "keepalive_interval = 1\nkeepalive_count = 2\n" >"$TEST_DIR/sb/xenvirtd.conf"
sandbox_up

if [ ! -x "$prog" ]; then
        echo "Bail out! $prog is not built (make check builds it)"
        exit 1
fi

# The scripted daemon of tests/client/fake-daemon.py, for polkit and framing cases.
XV_TEST_FAKE_DIR=$TEST_DIR/fake
export XV_TEST_FAKE_DIR
mkdir -p "$XV_TEST_FAKE_DIR"
"$TEST_PYTHON" "$XV_TEST_SRCDIR/client/fake-daemon.py" "$XV_TEST_FAKE_DIR" 2>"$TEST_DIR/fake.err" &
fake_pid=$!
for _ in $(seq 100); do
        [ -s "$XV_TEST_FAKE_DIR/ready" ] && break
        sleep 0.1
done
if [ ! -s "$XV_TEST_FAKE_DIR/ready" ]; then
        test_diag_file "$TEST_DIR/fake.err"
        echo "Bail out! tests/client/fake-daemon.py did not start"
        exit 1
fi

run=("$prog")
if [ -n "${XV_TEST_VALGRIND:-}" ]; then
        # The program is a libtool wrapper script until installed: let libtool run the binary.
        run=("$XV_BUILDDIR/libtool" --mode=execute valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
             --show-leak-kinds=definite,indirect "$prog")
fi

# Pass the C program's TAP through, numbered after the steps above.
(cd "$TEST_DIR" && "${run[@]}") >"$TEST_DIR/c-tap.out" 2>"$TEST_DIR/c-tap.err"
c_rc=$?
c_planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$TEST_DIR/c-tap.out")
c_seen=0
while IFS= read -r line; do
        case "$line" in
        "ok "*)
                c_seen=$((c_seen + 1))
                test_count=$((test_count + 1))
                echo "ok $test_count - test-libxenvirt: ${line#* - }"
                ;;
        "not ok "*)
                c_seen=$((c_seen + 1))
                test_count=$((test_count + 1))
                test_failed=$((test_failed + 1))
                echo "not ok $test_count - test-libxenvirt: ${line#* - }"
                ;;
        "#"*)
                echo "$line"
                ;;
        esac
done <"$TEST_DIR/c-tap.out"

kill "$fake_pid" 2>/dev/null
wait "$fake_pid" 2>/dev/null

test_expect_success 'test-libxenvirt ran its whole plan and exited cleanly' '
	test_diag_file c-tap.err &&
	test -n "$c_planned" && test "$c_planned" -ge 15 &&
	test "$c_seen" -eq "$c_planned" &&
	test "$c_rc" -eq 0
'

# Part 2: connection-level polkit with the real polkitd (tests/sandbox up --polkit), the C
# program's polkit_open test run alone as the test users of lib.sh.
test_require_polkit
xv_polkit_users || { echo "Bail out! cannot create the test users"; exit 1; }
"$SANDBOX" down "$sandbox_dir" > /dev/null 2>&1
rm -rf "$sandbox_dir"
sandbox_up --polkit
xv_polkit_rule 50-xenvirt-group <<'EOF' || { echo "Bail out! polkitd did not load the group rule"; exit 1; }
polkit.addRule(function(action, subject) {
        if (action.id.indexOf("org.xenvirt.") == 0 && subject.isInGroup("xenvirt"))
                return polkit.Result.YES;
});
EOF

# The binary itself, not libtool's wrapper (which may want to write next to it).
bin=$XV_BUILDDIR/tests/client/.libs/test-libxenvirt
LD_LIBRARY_PATH=$XV_BUILDDIR/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH

test_expect_success 'polkit: a member of group xenvirt opens the read-write socket' '
	XV_TEST_POLKIT=allow xv_as xvt-member "$bin" polkit_open >out 2>&1
	rc=$?
	cat out &&
	test $rc -eq 0 &&
	grep -qx "ok 1 - polkit_open" out
'

test_expect_success 'polkit: another user is refused (code 45, domain 60) but may monitor read-only' '
	XV_TEST_POLKIT=deny xv_as xvt-other "$bin" polkit_open >out 2>&1
	rc=$?
	cat out &&
	test $rc -eq 0 &&
	grep -qx "ok 1 - polkit_open" out
'

test_done
