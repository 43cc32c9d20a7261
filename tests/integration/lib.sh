# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Shared helpers for the integration scripts (tests/integration/tNNNN-*.sh), in the git t/ style,
# printing TAP. A script sources this file, optionally declares prerequisites, calls sandbox_up
# (a simulated Xen host plus xenvirtd in a temporary directory), runs test_expect_success steps
# and ends with test_done:
#
#       . "$(dirname "$0")/lib.sh"
#       test_require_virsh
#       sandbox_up
#       test_expect_success 'list works' '
#               virsh -c "$XENVIRT_URI" list --all >actual &&
#               grep -q Domain-0 actual
#       '
#       test_done
#
# Step bodies are eval'ed in the script's shell (so they may set variables for later steps),
# with the working directory at $TEST_DIR, their output captured and shown as TAP comments
# when the step fails. The sandbox is stopped and the temporary directory removed on exit,
# whatever happens.

XV_TEST_SRCDIR=${XV_TEST_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
XV_BUILDDIR=${XV_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export XV_TEST_SRCDIR XV_BUILDDIR
SANDBOX=$XV_TEST_SRCDIR/sandbox
TEST_SEED_DIR=${XV_SHARED_DIR:-$XV_TEST_SRCDIR/../../shared}/seed-examples
# The interpreter the distribution's python3-libvirt belongs to (not a pyenv shim).
TEST_PYTHON=${TEST_PYTHON:-/usr/bin/python3}

test_count=0
test_failed=0
test_skip_all_reason=
sandbox_dir=

TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/xv-integration.XXXXXX") || {
        echo "Bail out! cannot create a temporary directory"
        exit 1
}

test_cleanup() {
        if [ -n "$sandbox_dir" ] && [ -d "$sandbox_dir" ]; then
                if [ $test_failed -gt 0 ] && [ -n "${XV_TEST_KEEP_LOGS:-}" ]; then
                        echo "# logs kept in $sandbox_dir"
                        "$SANDBOX" down "$sandbox_dir" > /dev/null 2>&1 || true
                        return
                fi
                "$SANDBOX" down "$sandbox_dir" > /dev/null 2>&1 || true
        fi
        [ -n "${XV_TEST_KEEP_LOGS:-}" ] || rm -rf "$TEST_DIR"
}
trap test_cleanup EXIT
trap 'exit 130' INT TERM

# Prints the lines of a file as TAP comments.
test_diag_file() {
        [ -s "$1" ] && sed 's/^/# /' "$1"
        return 0
}

# Skips the whole script (TAP "1..0 # SKIP") and exits successfully.
skip_all() {
        echo "1..0 # SKIP $*"
        exit 0
}

# Prerequisites: a missing optional tool skips the script instead of failing it.
test_require_virsh() {
        command -v virsh > /dev/null 2>&1 || skip_all "virsh (libvirt-clients) is not installed"
}

test_require_python_libvirt() {
        "$TEST_PYTHON" -c 'import libvirt' > /dev/null 2>&1 ||
                skip_all "$TEST_PYTHON cannot import libvirt (python3-libvirt is not installed)"
}

# Starts xensim and xenvirtd in $TEST_DIR/sb and loads the env file. Skips the script when the
# daemon has not been built, fails (Bail out!) when the sandbox does not come up.
sandbox_up() {
        [ -x "$XV_BUILDDIR/daemon/xenvirtd" ] || skip_all "daemon/xenvirtd is not built"
        sandbox_dir=$TEST_DIR/sb
        if ! "$SANDBOX" up "$sandbox_dir" "$@" > "$TEST_DIR/sandbox-up.out" 2>&1; then
                test_diag_file "$TEST_DIR/sandbox-up.out"
                echo "Bail out! tests/sandbox up failed"
                exit 1
        fi
        set -a
        # shellcheck disable=SC1091
        . "$sandbox_dir/env"
        set +a
        if [ -z "${XENVIRTD_PID:-}" ]; then
                skip_all "tests/sandbox does not start xenvirtd yet"
        fi
}

# test_expect_success DESC BODY: one TAP line for BODY (eval'ed) succeeding.
test_expect_success() {
        local desc=$1 body=$2 rc
        test_count=$((test_count + 1))
        eval "cd \"\$TEST_DIR\" && { $body
}" > "$TEST_DIR/step.out" 2>&1
        rc=$?
        cd "$TEST_DIR" || true
        if [ $rc -eq 0 ]; then
                echo "ok $test_count - $desc"
        else
                test_failed=$((test_failed + 1))
                echo "not ok $test_count - $desc"
                test_diag_file "$TEST_DIR/step.out"
        fi
        return 0
}

# test_skip DESC REASON: a step that cannot run here.
test_skip() {
        test_count=$((test_count + 1))
        echo "ok $test_count - $1 # SKIP $2"
}

# Succeeds when the command fails normally (exit status 1..125, not a crash or a signal).
test_must_fail() {
        local rc
        "$@"
        rc=$?
        if [ $rc -eq 0 ]; then
                echo "test_must_fail: command succeeded: $*"
                return 1
        elif [ $rc -gt 125 ]; then
                echo "test_must_fail: command died with status $rc: $*"
                return 1
        fi
        return 0
}

# test_cmp EXPECTED ACTUAL: the files are equal, else the diff is shown.
test_cmp() {
        diff -u "$1" "$2"
}

# Retries a command for up to 5 s (state changes in xensim and events run on short timers).
eventually() {
        local i
        for i in $(seq 50); do
                "$@" > /dev/null 2>&1 && return 0
                sleep 0.1
        done
        "$@"
}

# The plan, and the exit status of the script: 0 when every step passed.
test_done() {
        echo "1..$test_count"
        if [ $test_failed -gt 0 ]; then
                echo "# failed $test_failed of $test_count"
                exit 1
        fi
        exit 0
}
