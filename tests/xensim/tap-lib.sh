# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The TAP helpers of the xensim shell tests (t-*.sh), sourced by each of them:
#
#   . "$(dirname "$0")/tap-lib.sh"
#
# A script prints its own plan ("1..N", before or after the tests), keeps the numbering to these
# helpers and ends with [ "$failed" -eq 0 ] when its exit status is to reflect the results. It
# may define tap_failure_details to add "# " lines after every failed check.

n=0
failed=0

ok() {
        n=$((n + 1))
        echo "ok $n - $1"
}

not_ok() {
        n=$((n + 1))
        failed=$((failed + 1))
        echo "not ok $n - $1"
}

skip() {
        n=$((n + 1))
        echo "ok $n - $1 # SKIP $2"
}

diag() {
        echo "# $*"
}

# Nothing to add by default.
tap_failure_details() {
        :
}

# check DESCRIPTION COMMAND...: one test, passing when COMMAND succeeds.
check() {
        local desc=$1
        shift
        if "$@"; then
                ok "$desc"
        else
                not_ok "$desc"
                tap_failure_details
        fi
}

# eventually COMMAND...: retries COMMAND every 0.1 s for 5 s; xensim runs state changes (shutdown
# actions, the guest's reactions) on short timers. The status is that of the last attempt.
eventually() {
        local i
        for i in $(seq 50); do
                "$@" && return 0
                sleep 0.1
        done
        "$@"
}
