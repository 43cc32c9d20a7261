#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The demo: sets everything up (Debian packages, build) and walks through xenvirt at work.
#   sh tests/demo.sh [--no-install]
#
# 1. The domain model: the four example domains parsed from domain XML, converted to XenD
#    S-expressions and XM config files and back, and checked with libvirt's own schema.
# 2. The simulated Xen host (xensim) started with tests/sandbox: one host state answering on
#    XenD (HTTP/SXP), xenstore (the real xenstore-utils) and the hypervisor (the real libxenctrl
#    on top of xensim's replacement hypercall library), with a domain created from domain XML.
# 3. xenvirtd on the same sandbox, driven by the stock virsh (read-write and read-only sockets,
#    lifecycle events).
# 4. xvsh, xenvirt's own client, and fault injection.
# 5. A modern host (Xen 4.17, no XenD): the same daemon picks its libxl backend, keeps defined
#    domains as xl.cfg files, adopts a domain started behind its back, and imports a XenD host's
#    domains.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
shared=${XV_SHARED_DIR:-$top/../shared}
build=$top/build-demo

step() {
        printf '\n\033[1m== %s\033[0m\n' "$*"
}
run() {
        printf '$ %s\n' "$*"
        "$@"
}

if [ "${1:-}" != "--no-install" ]; then
        step "Installing the Debian packages"
        sh "$top/tests/install-deps.sh" >/dev/null
fi

step "Building"
cd "$top"
./autogen.sh >/dev/null 2>&1
mkdir -p "$build" && cd "$build"
[ -f Makefile ] || "$top/configure" --with-shared-dir="$shared" >/dev/null
make -j"$(nproc)" >/dev/null
make -j"$(nproc)" daemon/xenvirtd tests/xv-convert tests/xensim/xensim tests/xensim/xensim-ctl tests/xensim/test-xenctrl \
        tests/xensim/hv/libxencall.la tests/xensim/hv/libxenforeignmemory.la \
        tests/xensim/hv/libxendevicemodel.la >/dev/null
convert=$build/tests/xv-convert
export XV_BUILDDIR=$build

work=$(mktemp -d /tmp/xenvirt-demo.XXXXXX)
trap '"$top/tests/sandbox" down "$work/sandbox" >/dev/null 2>&1 || true
      "$top/tests/sandbox" down "$work/modern" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

step "1. The domain model: the example domains in three formats"
for example in "$shared"/seed-examples/*.xml; do
        name=$(basename "$example" .xml)
        echo
        echo "--- $name: domain XML, as written by its author"
        cat "$example"; echo
        echo "--- canonical domain XML (parse -> format)"
        "$convert" domain-xml domain-xml "$example" | tee "$work/$name.xml"
        echo "--- as XenD S-expression (op=create / op=new)"
        "$convert" domain-xml xen-sxpr "$work/$name.xml" | tee "$work/$name.sxp"
        echo "--- as XM config file (/etc/xen/$name)"
        "$convert" domain-xml xen-xm "$work/$name.xml" | tee "$work/$name.cfg"
        for fmt in xen-sxpr xen-xm; do
                # One pass through the native format fills in what XenD / xm would (defaults such
                # as disk drivers and buses); from then on the conversion is a fixed point.
                "$convert" domain-xml "$fmt" "$work/$name.xml" > "$work/$name.1.$fmt"
                "$convert" "$fmt" domain-xml "$work/$name.1.$fmt" > "$work/$name.1.$fmt.xml"
                "$convert" domain-xml "$fmt" "$work/$name.1.$fmt.xml" > "$work/$name.2.$fmt"
                "$convert" "$fmt" domain-xml "$work/$name.2.$fmt" > "$work/$name.2.$fmt.xml"
                if cmp -s "$work/$name.1.$fmt.xml" "$work/$name.2.$fmt.xml"; then
                        echo ">>> XML -> $fmt -> XML is a fixed point; what the first pass filled in:"
                        diff "$work/$name.xml" "$work/$name.1.$fmt.xml" | grep '^[<>]' | sed 's/^/      /' || true
                else
                        echo ">>> XML -> $fmt -> XML is NOT a fixed point:"
                        diff "$work/$name.1.$fmt.xml" "$work/$name.2.$fmt.xml" || true
                        exit 1
                fi
        done
        run virt-xml-validate "$work/$name.xml" domain
done

step "Bad input gets a precise error"
echo '<domain type="xen"><name>x</name><memory unit="furlong">1</memory></domain>' > "$work/bad.xml"
run "$convert" domain-xml xen-sxpr "$work/bad.xml" || true
printf 'name = "x"\nmemory = \n' > "$work/bad.cfg"
run "$convert" xen-xm domain-xml "$work/bad.cfg" || true
printf "(vm (name 'unterminated)" > "$work/bad.sxp"
run "$convert" xen-sxpr domain-xml "$work/bad.sxp" || true

step "2. A simulated Xen host (xensim) in a sandbox"
run "$top/tests/sandbox" up "$work/sandbox"
set -a
. "$work/sandbox/env"
set +a

step "XenD over its UNIX socket (HTTP + S-expressions)"
run curl -s --unix-socket "$XEND_SOCKET" http://localhost/xend/node/ | head -12
echo
step "Create the HVM example over XenD: op=create leaves it paused until op=unpause"
sxp=$("$convert" domain-xml xen-sxpr "$work/hvm-bios-boot.xml")
run curl -s --unix-socket "$XEND_SOCKET" --data-urlencode op=create --data-urlencode "config=$sxp" \
        http://localhost/xend/domain/ | head -3
echo
run curl -s --unix-socket "$XEND_SOCKET" -d op=unpause http://localhost/xend/domain/fv0
run curl -s --unix-socket "$XEND_SOCKET" http://localhost/xend/domain
echo

step "The same host through xenstore (Debian's xenstore-utils, XENSTORED_PATH=$XENSTORED_PATH)"
run xenstore-ls /local/domain | head -30
id=$(xenstore-read /local/domain/1/domid 2>/dev/null || echo 1)
run xenstore-read "/local/domain/$id/name"

step "... and through the hypervisor: the real libxenctrl over xensim's libxencall"
run "$build/tests/xensim/test-xenctrl" list

step "The XenD answer converted back to domain XML (what 'virsh dumpxml' will show)"
curl -s --unix-socket "$XEND_SOCKET" "http://localhost/xend/domain/fv0?detail=1" > "$work/fv0.sexpr"
run "$convert" xen-sxpr domain-xml "$work/fv0.sexpr"

step "The guest shuts itself down (xenstore control/shutdown), XenD destroys it"
run xenstore-write "/local/domain/$id/control/shutdown" poweroff
sleep 0.5
run curl -s --unix-socket "$XEND_SOCKET" http://localhost/xend/domain
echo

step "3. xenvirtd: the stock virsh manages the host (virsh -c \"\$XENVIRT_URI\")"
v() {
        run virsh -c "$XENVIRT_URI" "$@"
}
v version
v nodeinfo
v list --all
virsh -c "$XENVIRT_URI" event --all --loop --timeout 20 > "$work/events.log" 2>&1 &
events_pid=$!
sleep 0.5
v define "$work/pv-direct-kernel.xml"
v start fc8
v list --all
v dominfo fc8
v domstate --reason fc8
v vcpuinfo fc8
v setmem fc8 98304 --live
v dommemstat fc8
v suspend fc8
v domstate --reason fc8
v resume fc8
v dumpxml fc8
v domxml-to-native xen-xm "$work/pv-direct-kernel.xml"
step "The read-only socket serves monitoring only"
run virsh -c "$XENVIRT_URI_RO" list --all
run virsh -c "$XENVIRT_URI_RO" destroy fc8 || echo "(refused on the read-only socket, as it must be)"
step "Destroy and undefine through the read-write socket"
v destroy fc8
v undefine fc8
v list --all
step "Lifecycle events seen by 'virsh event --all' meanwhile"
sleep 1
kill "$events_pid" 2>/dev/null || true
wait "$events_pid" 2>/dev/null || true
cat "$work/events.log"

step "4. xvsh, xenvirt's own command line client: virsh's commands and output, plus --json"
x() {
        run "$build/client/cli/xvsh" -c "$XENVIRT_URI" "$@"
}
x version
x define "$work/pv-direct-kernel.xml"
x start fc8
x list --all
x dominfo fc8
x --json dominfo fc8
x vcpuinfo fc8
x vcpupin fc8 0 0
x setvcpus fc8 1 --live
x vcpucount fc8
x 'suspend fc8; domstate --reason fc8; resume fc8; domstate --reason fc8'
x --json list --all
x domstats fc8
step "Errors read the way virsh users expect"
x dominfo no-such-domain || echo "(exit code $?)"
run "$build/client/cli/xvsh" -c "$XENVIRT_URI_RO" destroy fc8 || echo "(refused on the read-only socket, exit code $?)"
x destroy fc8
x undefine fc8

step "Fault injection: XenD made unreachable and back"
run "$XENSIM_CTL" "$XENSIM_CONTROL" xend absent on
run curl -s --unix-socket "$XEND_SOCKET" http://localhost/xend/node/ || echo "(curl: XenD is down, as asked)"
run "$XENSIM_CTL" "$XENSIM_CONTROL" xend absent off
run "$XENSIM_CTL" "$XENSIM_CONTROL" stats

step "Stopping the sandbox"
run "$top/tests/sandbox" down "$work/sandbox"

step "5. A modern Xen host (Xen 4.17, no XenD): the same daemon picks its libxl backend"
run "$top/tests/sandbox" up "$work/modern" --backend auto >/dev/null
. "$work/modern/env"
x status
x define "$work/pv-direct-kernel.xml"
x autostart fc8
step "Defined domains are xl.cfg files of xenvirtd's own (xl_config_dir), autostart a link"
run ls -l "$work/modern/xl" "$work/modern/xl/auto"
run cat "$work/modern/xl/fc8.cfg"
x domxml-to-native xen-xl "$work/pv-direct-kernel.xml"
step "A domain started behind xenvirtd's back (here: in the simulated hypervisor) is adopted"
run "$XENSIM_CTL" "$XENSIM_CONTROL" domain create other 64 1
sleep 1
x list --all
step "... and its end is seen too (the simulation cannot run libxl's destroy; the real-Xen lane does)"
run "$XENSIM_CTL" "$XENSIM_CONTROL" domain destroy other
sleep 1
x list --all
x autostart --disable fc8
x undefine fc8
step "Moving a XenD host to libxl: xenvirtd --import converts its domains into the xl store"
uuid=$(cat /proc/sys/kernel/random/uuid)
sed "s|<name>fc8</name>|<name>fc8</name><uuid>$uuid</uuid>|" "$work/pv-direct-kernel.xml" > "$work/managed.xml"
mkdir -p "$work/xend/$uuid"
"$convert" domain-xml xen-sxpr "$work/managed.xml" > "$work/xend/$uuid/config.sxp"
run "$build/daemon/xenvirtd" --import --from-xend "$work/xend" --from-xm "$work/no-xm" --to "$work/imported"
run ls "$work/imported"
run "$top/tests/sandbox" down "$work/modern"
echo
echo "Demo finished: domain XML and Xen's native formats, the simulated Xen host, and xenvirtd"
echo "serving the stock virsh and xvsh, on a XenD-era host and on a modern (libxl) one. See README"
echo "for building, testing and installing."
