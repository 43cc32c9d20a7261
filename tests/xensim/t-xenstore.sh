#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# xensim's xenstore through Debian's unmodified xenstore-utils (libxenstore with XENSTORED_PATH):
# read/write/list/ls/rm/chmod, watches on paths and on @introduceDomain/@releaseDomain while
# domains come and go through the control socket, the guest's reaction to control/shutdown and
# memory/target, and the absent/stale fault switches. TAP output.
set -u

builddir=${XV_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
xensim=$builddir/tests/xensim/xensim
ctl=$builddir/tests/xensim/xensim-ctl

. "$(dirname "$0")/tap-lib.sh"

for tool in xenstore-read xenstore-write xenstore-ls xenstore-list xenstore-rm xenstore-watch xenstore-chmod; do
        if ! command -v "$tool" > /dev/null; then
                echo "1..0 # SKIP $tool not installed (xenstore-utils)"
                exit 0
        fi
done
if [ ! -x "$xensim" ] || [ ! -x "$ctl" ]; then
        echo "1..0 # SKIP xensim not built"
        exit 0
fi

echo "1..27"

tmp=$(mktemp -d /tmp/xv-xenstore.XXXXXX)
pid=
cleanup() {
        [ -n "$pid" ] && kill "$pid" 2> /dev/null && wait "$pid" 2> /dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

mkdir "$tmp/sim"
"$xensim" --dir "$tmp/sim" --ready-fd 3 3> "$tmp/ready" > "$tmp/xensim.log" 2>&1 &
pid=$!
ready() {
        grep -qs READY "$tmp/ready"
}
eventually ready
export XENSTORED_PATH=$tmp/sim/xenstored-socket
control() {
        "$ctl" "$tmp/sim/control-socket" "$@"
}
domid_of() {
        control list | awk -v name="$1" '$2 == name { print $1 }'
}
xs_is() {
        [ "$(timeout 5 xenstore-read "$1" 2> /dev/null)" = "$2" ]
}
xs_absent() {
        ! timeout 5 xenstore-read "$1" > /dev/null 2>&1
}

check "xensim listens on the xenstore socket" test -S "$XENSTORED_PATH"
check "xenstore-read /local/domain/0/name is Domain-0" xs_is /local/domain/0/name Domain-0
# Several pairs make xenstore-write use a transaction, which must commit (no endless EAGAIN).
check "xenstore-write of two pairs (a transaction), read back" bash -c \
        'timeout 5 xenstore-write /t/a one /t/b/c two /t2/d three &&
         [ "$(timeout 5 xenstore-read /t/a /t/b/c /t2/d | tr "\n" " ")" = "one two three " ]'
check "xenstore-list lists children in creation order" \
        bash -c '[ "$(timeout 5 xenstore-list /t | tr "\n" " ")" = "a b " ]'
check "xenstore-ls -f shows full paths" bash -c 'timeout 5 xenstore-ls -f /t | grep -qx "/t/b/c = \"two\""'
check "relative paths are dom0's home" bash -c \
        'timeout 5 xenstore-write rel 1 && [ "$(timeout 5 xenstore-read /local/domain/0/rel)" = 1 ]'
check "xenstore-rm removes a subtree" bash -c 'timeout 5 xenstore-rm /t/b && ! timeout 5 xenstore-read /t/b/c 2> /dev/null'
check "xenstore-rm of a missing node under an existing parent succeeds" timeout 5 xenstore-rm /t/none
check "xenstore-rm under a missing parent fails" bash -c '! timeout 5 xenstore-rm /none/none 2> /dev/null'
check "xenstore-chmod sets permissions that xenstore-ls -p shows" bash -c \
        'timeout 5 xenstore-chmod /t/a r0 b3 && timeout 5 xenstore-ls -p /t | grep -q "^a = \"one\".*(r0,b3)"'

# A path watch fires once on registration, then for each change below it.
timeout 5 xenstore-watch -n 3 /w > "$tmp/watch-path" 2>&1 &
wpid=$!
sleep 0.3
timeout 5 xenstore-write /w/x 1
timeout 5 xenstore-rm /w
wait "$wpid"
check "xenstore-watch sees registration, write and removal" \
        bash -c '[ "$(tr "\n" " " < "$0")" = "/w /w/x /w " ]' "$tmp/watch-path"

# Domains coming and going.
timeout 5 xenstore-watch -n 2 @introduceDomain > "$tmp/watch-intro" 2>&1 &
wpid=$!
sleep 0.3
control domain create guest1 128 2 > /dev/null
wait "$wpid"
check "@introduceDomain fires when a domain is created" \
        bash -c '[ "$(grep -c "^@introduceDomain$" "$0")" = 2 ]' "$tmp/watch-intro"
id=$(domid_of guest1)
check "the new domain has its tree" bash -c '[ -n "$0" ]' "$id"
check "name, domid and memory/target" bash -c \
        '[ "$(timeout 5 xenstore-read /local/domain/$0/name /local/domain/$0/domid /local/domain/$0/memory/target | tr "\n" " ")" = "guest1 $0 131072 " ]' "$id"
vm=$(timeout 5 xenstore-read "/local/domain/$id/vm" 2> /dev/null)
check "/vm/<uuid> names the domain" xs_is "$vm/name" guest1
check "both vcpus are online" xs_is "/local/domain/$id/cpu/1/availability" online

# Ballooning through memory/target.
timeout 5 xenstore-write "/local/domain/$id/memory/target" 65536
balloon_done() {
        control list | awk -v id="$id" '$1 == id { print $5 }' | grep -qx 65536
}
check "writing memory/target balloons the guest" eventually balloon_done

# The guest shuts down when asked through control/shutdown.
timeout 5 xenstore-watch -n 2 @releaseDomain > "$tmp/watch-release" 2>&1 &
wpid=$!
sleep 0.3
timeout 5 xenstore-write "/local/domain/$id/control/shutdown" poweroff
wait "$wpid"
check "@releaseDomain fires when the guest powers off" \
        bash -c '[ "$(grep -c "^@releaseDomain$" "$0")" = 2 ]' "$tmp/watch-release"
guest_gone() {
        [ -z "$(domid_of guest1)" ]
}
check "the guest is gone from the host" eventually guest_gone
check "its tree is gone" xs_absent "/local/domain/$id/name"

# A domain created through XenD (op=create with its SXP) gets its devices in xenstore.
if command -v curl > /dev/null; then
        config="(vm (name 'web')(memory 64)(maxmem 128)(vcpus 2)(uuid '4f77abd2-3019-58e8-3bab-6fbf2118f880')(image (linux (kernel '/boot/vmlinuz')))(device (vbd (dev 'xvda')(uname 'file:/img/web.img')(mode 'w')))(device (vif (mac '00:16:3e:00:00:01')(bridge 'xenbr0'))))"
        timeout 5 xenstore-watch -n 2 @introduceDomain > "$tmp/watch-xend" 2>&1 &
        wpid=$!
        sleep 0.3
        curl -s --max-time 5 --unix-socket "$tmp/sim/xend-socket" -o /dev/null \
                --data-urlencode op=create --data-urlencode "config=$config" http://localhost/xend/domain/
        wait "$wpid"
        check "@introduceDomain fires for a domain XenD creates" \
                bash -c '[ "$(grep -c "^@introduceDomain$" "$0")" = 2 ]' "$tmp/watch-xend"
        id=$(domid_of web)
        check "its disk and vif are in xenstore" bash -c \
                '[ "$(timeout 5 xenstore-read /local/domain/0/backend/vbd/$0/51712/params /local/domain/$0/device/vif/0/mac | tr "\n" " ")" = "/img/web.img 00:16:3e:00:00:01 " ]' "$id"
else
        ok "@introduceDomain fires for a domain XenD creates # SKIP curl not installed"
        ok "its disk and vif are in xenstore # SKIP curl not installed"
fi

# Faults.
check "xenstore absent: clients cannot connect" bash -c \
        '"$0" "$1" xenstore absent on && ! timeout 5 xenstore-read /local/domain/0/name 2> /dev/null' "$ctl" "$tmp/sim/control-socket"
check "xenstore back: clients connect again" bash -c \
        '"$0" "$1" xenstore absent off && [ "$(timeout 5 xenstore-read /local/domain/0/name)" = Domain-0 ]' "$ctl" "$tmp/sim/control-socket"
control domain create guest2 64 > /dev/null
id=$(domid_of guest2)
control xenstore stale on
control domain destroy guest2
check "xenstore stale: the tree outlives the destroyed domain" eventually xs_is "/local/domain/$id/name" guest2
control xenstore stale off

check "xensim is still running" kill -0 "$pid"

# Under the sanitizers, a report goes to xensim's stderr; it must exit cleanly and quietly.
kill "$pid"
wait "$pid"
status=$?
pid=
clean_exit() {
        [ "$status" = 0 ] && ! grep -qE "Sanitizer|runtime error" "$tmp/xensim.log"
}
check "xensim exits cleanly on SIGTERM without sanitizer reports" clean_exit
clean_exit || sed 's/^/# /' "$tmp/xensim.log" | head -40
