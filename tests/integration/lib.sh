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
# Commands run by test_cleanup after the sandbox is down (helpers register their own cleanup).
test_cleanup_hooks=()

TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/xv-integration.XXXXXX") || {
        echo "Bail out! cannot create a temporary directory"
        exit 1
}

test_cleanup() {
        local hook keep=
        if [ -n "$sandbox_dir" ] && [ -d "$sandbox_dir" ]; then
                if [ $test_failed -gt 0 ] && [ -n "${XV_TEST_KEEP_LOGS:-}" ]; then
                        echo "# logs kept in $sandbox_dir"
                        keep=yes
                fi
                "$SANDBOX" down "$sandbox_dir" > /dev/null 2>&1 || true
        fi
        for hook in "${test_cleanup_hooks[@]}"; do
                $hook || true
        done
        [ -n "$keep" ] && return
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
        local a
        [ -x "$XV_BUILDDIR/daemon/xenvirtd" ] || skip_all "daemon/xenvirtd is not built"
        sandbox_dir=$TEST_DIR/sb
        for a in "$@"; do
                # polkitd and the test users must reach the sandbox directory.
                [ "$a" != --polkit ] || chmod 0755 "$TEST_DIR"
        done
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

# ---- Access control: polkit, test users (tests/sandbox up DIR --polkit) ----------------------------

# Bails out unless everything the polkit tests need is here: root (users, setpriv, polkitd) and
# the tools of tests/install-deps.sh. CI installs them, so a missing one is a failure, not a skip.
test_require_polkit() {
        local t missing=
        [ "$(id -u)" = 0 ] || { echo "Bail out! the polkit tests run as root (test users, setpriv)"; exit 1; }
        for t in dbus-daemon busctl pkcheck pkaction setpriv unshare useradd groupadd userdel flock \
                /usr/lib/polkit-1/polkitd; do
                command -v "$t" > /dev/null 2>&1 || missing="$missing $t"
        done
        if [ -n "$missing" ]; then
                echo "Bail out! missing:$missing (tests/install-deps.sh: dbus-daemon polkitd systemd util-linux passwd)"
                exit 1
        fi
}

# The test users, shared by every script that runs at the same time (make check -j): the first
# script creates what does not exist yet and records it, each script registers itself as a
# holder, and the last holder to leave deletes what was created. Users and groups that existed
# before (not created here) are never deleted.
XV_TEST_USERS_STATE=${XV_TEST_USERS_STATE:-/run/xenvirt-tests/users}
XV_TEST_USERS="xvt-member xvt-other xvt-alice"
xv_users_holder=

# Whether a holder (PID-STARTTIME) is still running.
xv_holder_alive() {
        local pid=${1%%-*} start=${1#*-} now
        [ -r "/proc/$pid/stat" ] || return 1
        now=$(sed 's/.*) //' "/proc/$pid/stat" 2> /dev/null | cut -d' ' -f20)
        [ "$now" = "$start" ]
}

xv_polkit_users() {
        local start
        [ -z "$xv_users_holder" ] || return 0
        start=$(sed 's/.*) //' "/proc/$$/stat" | cut -d' ' -f20)
        xv_users_holder=$$-$start
        mkdir -p "$XV_TEST_USERS_STATE/holders" || return 1
        test_cleanup_hooks+=(xv_polkit_users_release)
        (
                flock -w 60 9 || { echo "cannot lock $XV_TEST_USERS_STATE/lock" >&2; exit 1; }
                created=$XV_TEST_USERS_STATE/created
                touch "$created"
                if ! getent group xenvirt > /dev/null; then
                        groupadd xenvirt || exit 1
                        echo group:xenvirt >> "$created"
                fi
                for u in $XV_TEST_USERS; do
                        id -u "$u" > /dev/null 2>&1 && continue
                        groups=()
                        [ "$u" != xvt-member ] || groups=(--groups xenvirt)
                        useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
                                "${groups[@]}" "$u" || exit 1
                        echo "user:$u" >> "$created"
                done
                # Membership is the test's premise: check it for users that existed before too.
                id -nG xvt-member | tr ' ' '\n' | grep -qx xenvirt || gpasswd -a xvt-member xenvirt > /dev/null || exit 1
                for u in xvt-other xvt-alice; do
                        if id -nG "$u" | tr ' ' '\n' | grep -qx xenvirt; then
                                echo "$u is a member of group xenvirt: the tests need it outside" >&2
                                exit 1
                        fi
                done
                : > "$XV_TEST_USERS_STATE/holders/$xv_users_holder"
        ) 9> "$XV_TEST_USERS_STATE/lock"
}

# Cleanup hook of xv_polkit_users: the last holder deletes what the holders created.
xv_polkit_users_release() {
        [ -n "$xv_users_holder" ] || return 0
        (
                flock -w 60 9 || exit 1
                rm -f "$XV_TEST_USERS_STATE/holders/$xv_users_holder"
                for h in "$XV_TEST_USERS_STATE"/holders/*; do
                        [ -e "$h" ] || continue
                        xv_holder_alive "${h##*/}" && exit 0
                        rm -f "$h"
                done
                created=$XV_TEST_USERS_STATE/created
                [ -f "$created" ] || exit 0
                left=
                # Users first (each takes its own group along), then the group.
                while read -r c; do
                        case $c in
                                user:*) userdel "${c#user:}" 2> /dev/null || left="$left$c\n" ;;
                        esac
                done < "$created"
                while read -r c; do
                        case $c in
                                group:*) groupdel "${c#group:}" 2> /dev/null || left="$left$c\n" ;;
                        esac
                done < "$created"
                printf "%b" "$left" > "$created"
        ) 9> "$XV_TEST_USERS_STATE/lock"
        xv_users_holder=
}

# xv_as USER CMD...: runs CMD as USER (setpriv execs in place: no root process in between), with
# the user's groups from the group database, a private HOME and XDG directories below $TEST_DIR,
# the C locale and the sandbox's environment; returns CMD's exit status.
xv_as() {
        local user=$1 home v
        local -a envs
        shift
        home=$TEST_DIR/home/$user
        if [ ! -d "$home" ]; then
                mkdir -p "$home/run" || return 1
                chmod 0755 "$TEST_DIR" "$TEST_DIR/home" &&
                        chown -R "$user:$(id -g "$user")" "$home" &&
                        chmod 0700 "$home" "$home/run" || return 1
        fi
        envs=(PATH="$PATH" HOME="$home" USER="$user" LOGNAME="$user" SHELL=/bin/sh LC_ALL=C.UTF-8
              XDG_CONFIG_HOME="$home/.config" XDG_CACHE_HOME="$home/.cache"
              XDG_DATA_HOME="$home/.local/share" XDG_STATE_HOME="$home/.local/state"
              XDG_RUNTIME_DIR="$home/run")
        for v in $(compgen -e); do
                case $v in
                        LD_LIBRARY_PATH|DBUS_SYSTEM_BUS_ADDRESS|XENVIRT_*|XENSIM_*|XENSTORED_PATH|XEND_SOCKET|\
                        LIBVIRT_*|VIRSH_*|PYTHON*|ASAN_OPTIONS|UBSAN_OPTIONS|LSAN_OPTIONS|XV_*|TEST_PYTHON)
                                envs+=("$v=${!v}") ;;
                esac
        done
        setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- env -i "${envs[@]}" "$@"
}

# The probe a rules file carries (first in the file): root asks about a subject of uid 65534 with
# the detail xv_rule_probe=TOKEN, which only this file's probe rule grants. So the probe is
# granted exactly when polkitd has loaded (and parsed) this version of the file.
xv_polkit_probe() {
        local start
        start=$(sed 's/.*) //' "/proc/$$/stat" | cut -d' ' -f20)
        pkcheck --action-id org.xenvirt.unix.manage --process "$$,$start,65534" \
                --detail xv_rule_probe "$1" > /dev/null 2>&1
}

# Waits (20 s at most) until the probe TOKEN is granted (want=0) or refused (want=1).
xv_polkit_wait_probe() {
        local token=$1 want=$2 rc
        for _ in $(seq 200); do
                xv_polkit_probe "$token"
                rc=$?
                [ $rc -eq "$want" ] && return 0
                sleep 0.1
        done
        echo "polkitd did not reload its rules within 20 s (log: $sandbox_dir/polkitd.log):"
        tail -n 5 "$sandbox_dir/polkitd.log"
        return 1
}

# xv_polkit_rule NAME <<'EOF' ... EOF: installs the JavaScript on stdin as
# $sandbox_dir/polkit/rules.d/NAME.rules (replacing an earlier version) and waits until polkitd
# has loaded it. A rule with a syntax error is never loaded: this then fails after 20 s.
xv_polkit_rule() {
        local name=$1 pk=$sandbox_dir/polkit token
        [ -d "$pk/rules.d" ] || { echo "xv_polkit_rule: no --polkit sandbox"; return 1; }
        token=$name.$$.$RANDOM$RANDOM
        mkdir -p "$pk/probe"
        {
                echo "/* added by xv_polkit_rule (lib.sh): tells the test when polkitd has loaded this file */"
                echo "polkit.addRule(function(action, subject) {"
                echo "        if (action.id == \"org.xenvirt.unix.manage\" && action.lookup(\"xv_rule_probe\") == \"$token\")"
                echo "                return polkit.Result.YES;"
                echo "});"
                cat
        } > "$pk/probe/$name.rules.tmp" || return 1
        chmod 0644 "$pk/probe/$name.rules.tmp"
        mv -f "$pk/probe/$name.rules.tmp" "$pk/rules.d/$name.rules" || return 1
        echo "$token" > "$pk/probe/$name.token"
        "$SANDBOX" polkit-sync "$sandbox_dir" || return 1
        xv_polkit_wait_probe "$token" 0
}

# xv_polkit_rule_rm NAME: removes a rules file installed by xv_polkit_rule and waits until polkitd
# has dropped it.
xv_polkit_rule_rm() {
        local name=$1 pk=$sandbox_dir/polkit token
        read -r token < "$pk/probe/$name.token" || return 1
        rm -f "$pk/rules.d/$name.rules" "$pk/probe/$name.token"
        "$SANDBOX" polkit-sync "$sandbox_dir" || return 1
        xv_polkit_wait_probe "$token" 1
}

# Stops / restarts the sandbox's polkitd (the private bus stays up).
xv_polkitd_stop() {
        "$SANDBOX" polkitd-stop "$sandbox_dir"
}

xv_polkitd_start() {
        "$SANDBOX" polkitd-start "$sandbox_dir"
}

# Helpers of the access-control tests (t0300, t0310).

# Root's view, straight from the simulated host: the run state of a domain ("running"), or
# "off" when it has no running instance.
sim_state() {
        local row
        row=$("$XENSIM_CTL" "$XENSIM_CONTROL" list | awk -v n="$1" '$2 == n')
        if [ -z "$row" ] || [ "$(echo "$row" | awk '{ print $1 }')" = -1 ]; then
                echo off
        else
                echo "$row" | awk '{ print $3 }'
        fi
}

state_is() {
        local s
        s=$(sim_state "$1")
        [ "$s" = "$2" ] || { echo "$1 is '$s', expected '$2'"; return 1; }
}

root_virsh() {
        virsh -c "$XENVIRT_URI" "$@"
}

# as USER virsh ARGS...: virsh as USER, with stderr in the file "err".
as_virsh() {
        local user=$1
        shift
        xv_as "$user" virsh "$@" 2> err
}

# expect_exit N CMD...: CMD exits with status N exactly.
expect_exit() {
        local want=$1 rc
        shift
        "$@"
        rc=$?
        [ $rc -eq "$want" ] || { echo "exit status $rc, expected $want: $*"; cat err 2> /dev/null; return 1; }
}
