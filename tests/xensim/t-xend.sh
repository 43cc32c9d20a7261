#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# xensim's XenD over its UNIX socket, driven with curl (and python3 for raw HTTP): every
# endpoint and op= libvirt's xend driver used, XenD's error answers, HTTP framing limits, the
# fault switches and the differences between xend config versions 1-4. TAP output.
set -u

builddir=${XV_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
xensim=${XENSIM:-$builddir/tests/xensim/xensim}
ctl=${XENSIM_CTL:-$builddir/tests/xensim/xensim-ctl}
python=${PYTHON3:-python3}

. "$(dirname "$0")/tap-lib.sh"

# A failed check shows the last XenD answer.
tap_failure_details() {
        diag "status=$status body=$(head -c 600 "$tmp/body" 2>/dev/null)"
}

if ! command -v curl > /dev/null; then
        echo "1..0 # SKIP curl is not installed"
        exit 0
fi
if [ ! -x "$xensim" ]; then
        echo "1..0 # SKIP $xensim not built"
        exit 0
fi

tmp=$(mktemp -d /tmp/xv-xend.XXXXXX)
pid=
stop_sim() {
        local rc
        if [ -n "$pid" ]; then
                kill "$pid" 2> /dev/null
                wait "$pid" 2> /dev/null
                rc=$?
                pid=
                # Sanitizer builds report leaks and errors at exit.
                if [ "$rc" = 0 ] && ! grep -q -e Sanitizer -e 'runtime error' "$tmp/sim.err"; then
                        ok "xensim (cfg $cfg_running) exits cleanly"
                else
                        not_ok "xensim (cfg $cfg_running) exits cleanly (rc=$rc)"
                        sed 's/^/# /' "$tmp/sim.err" | head -60
                fi
        fi
}
cleanup() {
        [ -n "$pid" ] && kill "$pid" 2> /dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

# start_sim CFG [ARGS...]: a fresh xensim in $tmp/sim-CFG.
start_sim() {
        local cfg=$1 i
        shift
        stop_sim
        cfg_running=$cfg
        dir=$tmp/sim-$cfg
        sock=$dir/xend-socket
        "$xensim" --dir "$dir" --xend-config-version "$cfg" "$@" > "$tmp/sim.out" 2> "$tmp/sim.err" &
        pid=$!
        for i in $(seq 100); do
                grep -q READY "$tmp/sim.out" 2> /dev/null && return 0
                sleep 0.05
        done
        diag "xensim did not start: $(cat "$tmp/sim.err")"
        return 1
}

status=
# get PATH: sets $status, body in $tmp/body.
get() {
        status=$(curl -s --max-time 10 --unix-socket "$sock" -o "$tmp/body" -w '%{http_code}' "http://localhost$1")
}
# post PATH FIELD=VALUE...: form fields, URL-encoded by curl.
post() {
        local path=$1 a args=()
        shift
        for a in "$@"; do args+=(--data-urlencode "$a"); done
        status=$(curl -s --max-time 10 --unix-socket "$sock" -o "$tmp/body" -w '%{http_code}' "${args[@]}" \
                 "http://localhost$path")
}
body_has() { grep -qF -- "$1" "$tmp/body"; }
body_lacks() { ! grep -qF -- "$1" "$tmp/body"; }
is() { [ "$status" = "$1" ]; }
is_and_has() { [ "$status" = "$1" ] && body_has "$2"; }

# detail NAME: the domain's SXP into $tmp/body; field NAME KEY prints one value.
field() {
        get "/xend/domain/$1?detail=1"
        sed -n "s/.*($2 \([^)]*\)).*/\1/p" "$tmp/body"
}
field_is() { [ "$(field "$1" "$2")" = "$3" ]; }
domain_gone() { get "/xend/domain/$1?detail=1"; [ "$status" = 404 ]; }

# raw SCRIPT: python3 talking to the socket directly, for what curl cannot send.
raw() {
        XEND_SOCK=$sock "$python" -c "
import os, socket, sys, time
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.environ['XEND_SOCK'])
    s.settimeout(10)
    return s
def recv_all(s):
    out = b''
    while True:
        d = s.recv(65536)
        if not d:
            return out
        out += d
$1"
}

vm() {
        local name=$1 extra=${2:-}
        echo "(vm (name '$name')(memory 64)(maxmem 128)(vcpus 2)(uuid '$3')(on_poweroff 'destroy')(on_reboot 'restart')(on_crash 'destroy')(image (linux (kernel '/boot/vmlinuz')(args 'ro quiet')))(device (vbd (dev 'xvda')(uname 'file:/img/$name.img')(mode 'w')))(device (vif (mac '00:16:3e:00:00:01')(bridge 'xenbr0')))$extra)"
}
UUID1=4f77abd2-3019-58e8-3bab-6fbf2118f880
UUID2=5a1b2c3d-0000-4000-8000-000000000002
UUID3=5a1b2c3d-0000-4000-8000-000000000003
UUID4=5a1b2c3d-0000-4000-8000-000000000004

# ============================================================ config version 4
start_sim 4 || { echo "1..0 # SKIP xensim does not start"; exit 0; }

# --- node
get /xend/node/
check "node: 200" is 200
check "node: xend_config_format 4" body_has "(xend_config_format 4)"
check "node: nr_cpus, nr_nodes, topology" body_has "(nr_nodes 2)"
check "node: node_to_cpu per node" body_has "(node_to_cpu 'node0:0-3\n"
check "node: total_memory in MiB" body_has "(total_memory 32"
check "node: scheduler credit" body_has "(xen_scheduler credit)"
check "node: HTTP/1.1 with Content-Length and Connection: close" \
        bash -c "curl -s -i --unix-socket '$sock' http://localhost/xend/node/ | tr -d '\r' | grep -q '^Connection: close' &&
                 curl -s -i --unix-socket '$sock' http://localhost/xend/node/ | tr -d '\r' | grep -q '^Content-Length: [0-9]'"
get /xend/node
check "node without trailing slash" is 200

# --- list, lookup
get /xend/domain
check "domain list: (Domain-0)" is_and_has 200 "(Domain-0)"
get "/xend/domain/Domain-0?detail=1"
check "Domain-0 detail has domid 0" is_and_has 200 "(domid 0)"
get "/xend/domain/nosuch?detail=1"
check "unknown domain: 404 with xend.err" is_and_has 404 "(xend.err 'Domain not found: nosuch')"

# --- create / wait_for_devices / unpause
post /xend/domain/ op=create "config=$(vm web '' $UUID1)"
check "op=create: 201 with the domain" is_and_has 201 "(name web)"
check "op=create: paused" body_has "(state --p---)"
check "op=create: devices kept" body_has "(device (vbd (dev xvda) (uname file:/img/web.img) (mode w)))"
domid=$(sed -n 's/.*(domid \([0-9]*\)).*/\1/p' "$tmp/body")
check "op=create: got a domid" test -n "$domid"
post /xend/domain/ op=create "config=$(vm web '' $UUID1)"
check "op=create: duplicate name is a 500 xend.err" is_and_has 500 "already exists"
post /xend/domain/ op=create "config=(vm (name"
check "op=create: broken SXP is a 500 xend.err" is_and_has 500 "xend.err"
post /xend/domain/ op=create "config=(foo (name x))"
check "op=create: not a (vm) is a 500" is 500
post /xend/domain/ op=create
check "op=create: missing config is a 500" is_and_has 500 "Missing parameter: config"
post /xend/domain/web op=wait_for_devices
check "op=wait_for_devices: 200" is 200
post /xend/domain/web op=unpause
check "op=unpause: 200" is 200
check "unpaused: running" field_is web state r-----
get "/xend/domain/$domid?detail=1"
check "lookup by domid" is_and_has 200 "(name web)"
get "/xend/domain/$UUID1?detail=1"
check "lookup by UUID" is_and_has 200 "(name web)"
check "detail: memory, maxmem in MiB" bash -c "grep -qF '(memory 64)' '$tmp/body' && grep -qF '(maxmem 128)' '$tmp/body'"
check "detail: vcpus, vcpu_avail, cpu_time, status" \
        bash -c "grep -qF '(vcpus 2) (vcpu_avail 3)' '$tmp/body' && grep -q '(cpu_time [0-9]*\.[0-9]*)' '$tmp/body' && grep -qF '(status 2)' '$tmp/body'"
check "detail: on_xend_start, cpu_weight, cpu_cap, image" \
        bash -c "grep -qF '(on_xend_start ignore)' '$tmp/body' && grep -qF '(cpu_weight 256) (cpu_cap 0)' '$tmp/body' && grep -qF \"(image (linux (kernel /boot/vmlinuz) (args 'ro quiet')))\" '$tmp/body'"
get "/xend/domain"
check "domain list has the new domain" is_and_has 200 "(Domain-0 web)"
get "/xend/domain?detail=1"
check "domain list ?detail=1: full SXP" is_and_has 200 "(domain (domid 0)"

# --- pause / unpause errors
post /xend/domain/web op=pause
check "op=pause: 200" is 200
check "paused: --p---" field_is web state --p---
post /xend/domain/web op=pause
check "op=pause twice: 500 xend.err" is_and_has 500 "xend.err"
post /xend/domain/web op=unpause
post /xend/domain/Domain-0 op=pause
check "op=pause Domain-0: 500 xend.err" is_and_has 500 "privileged"
post /xend/domain/Domain-0 op=destroy
check "op=destroy Domain-0: 500 xend.err" is_and_has 500 "Cannot destroy privileged domain"
post /xend/domain/web op=frobnicate
check "unknown op: 501" is_and_has 501 "Operation not implemented: frobnicate"
post /xend/domain/web foo=bar
check "missing op: 406" is 406
post /xend/domain/nosuch op=pause
check "op on an unknown domain: 404" is 404

# --- vcpuinfo, memory, vcpus, pinning, scheduler
get "/xend/domain/web?op=vcpuinfo"
check "vcpuinfo: (domain ... (vcpu (number 0)(online 1)...))" \
        bash -c "grep -qF '(vcpu_count 2) (vcpu (number 0) (online 1)' '$tmp/body' && grep -q '(cpumap ([0-9 ]*)))' '$tmp/body'"
post /xend/domain/web op=mem_target_set target=96
check "op=mem_target_set: 200" is 200
check "memory target is 96 MiB" field_is web memory 96
post /xend/domain/web op=mem_target_set target=4096
check "mem_target_set above maxmem: 500" is 500
post /xend/domain/web op=mem_target_set target=lots
check "mem_target_set with a non-number: 500 int() error" is_and_has 500 "invalid literal for int(): lots"
post /xend/domain/web op=maxmem_set memory=256
check "op=maxmem_set: 200" is 200
check "maxmem is 256 MiB" field_is web maxmem 256
post /xend/domain/web op=set_vcpus vcpus=1
check "op=set_vcpus 1: 200" is 200
check "vcpu_avail is 1" field_is web vcpu_avail 1
post /xend/domain/web op=set_vcpus vcpus=0
check "op=set_vcpus 0: 500" is 500
post /xend/domain/web op=set_vcpus vcpus=2
post /xend/domain/web op=pincpu vcpu=1 cpumap=2,3
check "op=pincpu 2,3: 200" is 200
get "/xend/domain/web?op=vcpuinfo"
check "vcpu 1 pinned to (2 3)" body_has "(vcpu (number 1) (online 1)"
check "vcpu 1 cpumap (2 3)" bash -c "grep -o '(vcpu (number 1)[^v]*' '$tmp/body' | grep -qF '(cpumap (2 3))'"
post /xend/domain/web op=pincpu vcpu=0 "cpumap=[0,1]"
check "op=pincpu with the old [a,b] map on cfg 4: 500" is_and_has 500 "invalid literal for int()"
post /xend/domain/web op=domain_sched_credit_set weight=512 cap=50
check "op=domain_sched_credit_set: 200" is 200
check "cpu_weight 512" field_is web cpu_weight 512
post /xend/domain/web op=domain_sched_credit_set weight=0 cap=0
check "weight 0: 500 out of range" is_and_has 500 "out of range"

# --- devices
post /xend/domain/web op=device_create "config=(vbd (dev 'xvdb')(uname 'phy:/dev/vg/data')(mode 'w'))"
check "device_create vbd: 200 with devid 51728" is_and_has 200 51728
check "vbd in the config" bash -c "get_body() { :; }; curl -s --unix-socket '$sock' 'http://localhost/xend/domain/web?detail=1' | grep -qF '(dev xvdb) (uname phy:/dev/vg/data)'"
post /xend/domain/web op=device_create "config=(vbd (dev 'xvdb')(uname 'phy:/dev/vg/other')(mode 'w'))"
check "device_create of an existing disk: 500" is 500
post /xend/domain/web op=device_create "config=(vif (bridge 'xenbr1'))"
check "device_create vif: 200, devid 1" is_and_has 200 1
check "vif got a Xen OUI mac" bash -c "curl -s --unix-socket '$sock' 'http://localhost/xend/domain/web?detail=1' | grep -q '(vif (bridge xenbr1) (mac 00:16:3e:'"
post /xend/domain/web op=device_create "config=(hdc (dev x))"
check "device_create of an unknown type: 500" is 500
post /xend/domain/web op=device_create "config=(vbd (dev 'hdc:cdrom')(uname 'file:/iso/a.iso')(mode 'r'))"
post /xend/domain/web op=device_configure "config=(vbd (dev 'hdc:cdrom')(uname 'file:/iso/b.iso')(mode 'r'))" dev=5632
check "device_configure CD media change: 200" is 200
check "new media in the config" bash -c "curl -s --unix-socket '$sock' 'http://localhost/xend/domain/web?detail=1' | grep -qF 'file:/iso/b.iso' &&
                                         ! curl -s --unix-socket '$sock' 'http://localhost/xend/domain/web?detail=1' | grep -qF 'file:/iso/a.iso'"
post /xend/domain/web op=device_configure "config=(vbd (dev 'hdd:cdrom')(uname 'file:/iso/b.iso'))" dev=hdd
check "device_configure of a missing device: 500" is 500
post /xend/domain/web op=device_destroy type=vbd dev=51728 force=0 rm_cfg=1
check "device_destroy vbd by devid: 200" is 200
check "vbd gone from the config" bash -c "! curl -s --unix-socket '$sock' 'http://localhost/xend/domain/web?detail=1' | grep -qF 'xvdb'"
post /xend/domain/web op=device_destroy type=vbd dev=hdc force=0 rm_cfg=1
check "device_destroy vbd by name: 200" is 200
post /xend/domain/web op=device_destroy type=vif dev=00:16:3e:00:00:01 force=0 rm_cfg=1
check "device_destroy vif by mac: 200" is 200
post /xend/domain/web op=device_destroy type=vbd dev=xvdz force=0 rm_cfg=1
check "device_destroy of a missing device: 500" is 500
pci="(pci (dev (domain 0x0000)(bus 0x00)(slot 0x1b)(func 0x0)(state 'Initialising')))"
post /xend/domain/web op=device_create "config=$pci"
check "device_create pci: 200" is 200
check "pci device in the config, without state" bash -c "curl -s --unix-socket '$sock' 'http://localhost/xend/domain/web?detail=1' | grep -qF '(device (pci (dev (domain 0x0000) (bus 0x00) (slot 0x1b) (func 0x0))))'"
post /xend/domain/web op=device_configure "config=(pci (dev (domain 0x0)(bus 0x0)(slot 0x1b)(func 0x0)(state 'Closing')))" dev=0
check "device_configure pci Closing: 200" is 200
check "pci device gone" bash -c "! curl -s --unix-socket '$sock' 'http://localhost/xend/domain/web?detail=1' | grep -qF '(pci'"

# --- dump
post /xend/domain/Domain-0 op=dump file="$tmp/dom0.core" live=1 crash=0
check "dump Domain-0: 200 with an xend.err body" is_and_has 200 "(xend.err 'Cannot dump core for privileged domain 0')"
post /xend/domain/web op=dump file="$tmp/web.core" live=1 crash=0
check "dump: 200" is 200
check "dump wrote a core file" grep -q XSIMCORE "$tmp/web.core"
check "live dump leaves the domain running" field_is web state r-----

# --- save / restore
post /xend/domain/Domain-0 op=save file="$tmp/dom0.save"
check "save Domain-0: xend.err" body_has "xend.err"
post /xend/domain/web op=save file=relative.save
check "save to a relative path: xend.err" body_has "xend.err"
post /xend/domain/web op=save file="$tmp/web.save"
check "save: 200" is 200
check "save file has XenD's signature" bash -c "head -c 16 '$tmp/web.save' | grep -q LinuxGuestRecord"
check "saved domain is gone" eventually domain_gone web
post /xend/domain/ op=restore file="$tmp/web.save"
check "restore: 201 with the domain" is_and_has 201 "(name web)"
check "restored domain runs" field_is web state r-----
check "restored domain kept its memory" field_is web memory 96
check "restored domain kept its scheduler weight" field_is web cpu_weight 512
post /xend/domain/ op=restore file="$tmp/nonexistent.save"
check "restore of a missing file: xend.err" body_has "xend.err"
printf 'not a save image' > "$tmp/bad.save"
post /xend/domain/ op=restore file="$tmp/bad.save"
check "restore of a bad file: xend.err" body_has "xend.err"

# --- shutdown / reboot / crash via dump
old=$(field web domid)
post /xend/domain/web op=shutdown reason=reboot
check "shutdown reason=reboot: 202" is 202
check "reboot: restarted with a new domid" eventually bash -c "
        d=\$(curl -s --unix-socket '$sock' 'http://localhost/xend/domain/web?detail=1' | sed -n 's/.*(domid \([0-9]*\)).*/\1/p')
        [ -n \"\$d\" ] && [ \"\$d\" != '$old' ]"
post /xend/domain/web op=shutdown reason=sideways
check "shutdown with an invalid reason: 202 + failed" is_and_has 202 "failed"
post /xend/domain/Domain-0 op=shutdown reason=poweroff
check "shutdown Domain-0: 202 + failed" is_and_has 202 "failed"
post /xend/domain/web op=shutdown reason=poweroff
check "shutdown reason=poweroff: 202" is 202
check "powered off: gone (on_poweroff destroy)" eventually domain_gone web
post /xend/domain/ op=create "config=$(vm crashy '' $UUID2)"
post /xend/domain/crashy op=unpause
post /xend/domain/crashy op=dump file="$tmp/crashy.core" live=0 crash=1
check "dump crash=1: 200" is 200
check "crashed domain destroyed (on_crash destroy)" eventually domain_gone crashy

# --- migrate
post /xend/domain/ op=create "config=$(vm mover '' $UUID3)"
post /xend/domain/mover op=migrate live=1 port=0 node=-1 ssl=0 change_home_server=0 resource=0
check "migrate without destination: xend.err" body_has "Missing parameter: destination"
post /xend/domain/mover op=migrate destination=otherhost live=x
check "migrate with live=x: xend.err" body_has "invalid literal for int(): x"
post /xend/domain/mover op=migrate destination=otherhost live=1 port=0 node=-1 ssl=0 change_home_server=0 resource=0
check "migrate: 200" is 200
check "migrated domain is gone here" domain_gone mover

# --- managed domains
post /xend/domain/ op=new "config=$(vm managed '(on_xend_start start)' $UUID4)"
check "op=new: 201" is 201
get "/xend/domain?state=halted"
check "?state=halted lists it" is_and_has 200 "(managed)"
get "/xend/domain"
check "default list omits halted domains" body_lacks "managed"
get "/xend/domain/managed?detail=1"
check "halted managed domain: no domid" body_lacks "(domid"
check "halted managed domain: status 0, on_xend_start start" bash -c "grep -qF '(status 0)' '$tmp/body' && grep -qF '(on_xend_start start)' '$tmp/body'"
post /xend/domain/managed op=shutdown reason=poweroff
check "shutdown of a halted domain: 202 + failed" is_and_has 202 "failed"
post /xend/domain/managed op=start
check "op=start: 200" is 200
check "started managed domain runs with a domid" field_is managed state r-----
post /xend/domain/managed op=delete
check "op=delete of a running domain: 500" is_and_has 500 "still running"
post /xend/domain/managed op=destroy
check "destroyed managed domain stays halted" eventually field_is managed status 0
post /xend/domain/ op=new "config=$(vm managed '(on_xend_start ignore)' $UUID4)"
check "op=new redefines" field_is managed on_xend_start ignore
# libvirt's SetAutostart: read ?detail=1, change on_xend_start, post the (domain ...) as op=new.
post /xend/domain/ op=create "config=$(vm auto '' 5a1b2c3d-0000-4000-8000-000000000006)"
get "/xend/domain/auto?detail=1"
post /xend/domain/ op=new "config=$(sed 's/(on_xend_start ignore)/(on_xend_start start)/' "$tmp/body")"
check "op=new with a (domain ...) from ?detail=1: 201" is 201
check "... sets autostart on the running domain" field_is auto on_xend_start start
check "... keeps it running" field_is auto state --p---
check "... and stores it as a (vm) without live keys" bash -c "
        out=\$(curl -s --unix-socket '$sock' 'http://localhost/xend/domain/auto?detail=1')
        [ \$(grep -o '(domid ' <<< \"\$out\" | wc -l) = 1 ] && [ \$(grep -o '(state ' <<< \"\$out\" | wc -l) = 1 ]"
post /xend/domain/auto op=destroy
check "... so it is managed: destroyed, it stays halted" eventually field_is auto status 0
post /xend/domain/auto op=delete
post /xend/domain/Domain-0 op=delete
check "op=delete Domain-0: 500" is 500
post /xend/domain/managed op=delete
check "op=delete: 200" is 200
check "deleted domain is gone" domain_gone managed

# --- other endpoints
get /xend/node/dmesg
check "node/dmesg" is_and_has 200 "(XEN) Xen version"
get /xend/node/log
check "node/log records requests" is_and_has 200 "op=unpause"
get /xend/nothing
check "unknown resource: 404" is 404

# --- HTTP framing
reply=$(raw 's = conn(); s.sendall(b"GARBAGE\r\n\r\n"); sys.stdout.write(recv_all(s).decode(errors="replace"))')
check "malformed request line: 400" bash -c "[[ '$reply' == 'HTTP/1.1 400 '* ]]"
reply=$(raw 's = conn(); s.sendall(b"GET /xend/node/ HTTP/2.0\r\n\r\n"); sys.stdout.write(recv_all(s).decode(errors="replace"))')
check "HTTP/2.0: 505" bash -c "[[ '$reply' == 'HTTP/1.1 505 '* ]]"
reply=$(raw 's = conn(); s.sendall(b"DELETE /xend/domain/web HTTP/1.1\r\n\r\n"); sys.stdout.write(recv_all(s).decode(errors="replace"))')
check "DELETE: 501" bash -c "[[ '$reply' == 'HTTP/1.1 501 '* ]]"
reply=$(raw 's = conn(); s.sendall(b"POST /xend/domain/ HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"); sys.stdout.write(recv_all(s).decode(errors="replace"))')
check "body above the limit: 413" bash -c "[[ '$reply' == 'HTTP/1.1 413 '* ]]"
reply=$(raw 's = conn(); s.sendall(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n"); sys.stdout.write(recv_all(s).decode(errors="replace"))')
check "request line above the limit: 414" bash -c "[[ '$reply' == 'HTTP/1.1 414 '* ]]"
reply=$(raw 's = conn(); s.sendall(b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 100 + b"\r\n"); sys.stdout.write(recv_all(s).decode(errors="replace"))')
check "too many headers: 431" bash -c "[[ '$reply' == 'HTTP/1.1 431 '* ]]"
reply=$(raw 's = conn(); s.sendall(b"POST /xend/domain/ HTTP/1.1\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\nop=x&"); sys.stdout.write(recv_all(s).decode(errors="replace"))')
check "non-form body: 415" bash -c "[[ '$reply' == 'HTTP/1.1 415 '* ]]"
reply=$(raw 's = conn(); s.sendall(b"POST /xend/domain/ HTTP/1.1\r\n\r\n"); sys.stdout.write(recv_all(s).decode(errors="replace"))')
check "POST without Content-Length: 411" bash -c "[[ '$reply' == 'HTTP/1.1 411 '* ]]"
count=$(raw '
s = conn()
req = b"GET /xend/node/ HTTP/1.1\r\nConnection: keep-alive\r\n\r\n"
s.sendall(req + req + b"GET /xend/domain HTTP/1.1\r\n\r\n")
print(recv_all(s).count(b"HTTP/1.1 200 OK"))')
check "keep-alive: three pipelined requests, three replies" test "$count" = 3
big=$(printf '(description %s)' "$(head -c 4000 /dev/zero | tr '\0' 'x')")
post /xend/domain/ op=create "config=$(vm bigcfg "$big" 5a1b2c3d-0000-4000-8000-000000000005)"
check "a 4 KiB config (curl's Expect: 100-continue)" is 201
post "/xend/domain/bigcfg" op=destroy
reply=$(raw '
stalled = conn()
stalled.sendall(b"GET /xend/node/ HTTP/1.1\r\nHost: x\r\n")
t = time.time()
s = conn(); s.sendall(b"GET /xend/domain HTTP/1.1\r\n\r\n"); other = recv_all(s)
fast = time.time() - t < 2
stalled.settimeout(15)
closed = stalled.recv(100) == b""
print("fast" if fast and other.startswith(b"HTTP/1.1 200") else "slow", "closed" if closed else "open")')
check "a stalled half request does not block others" bash -c "[[ '$reply' == fast* ]]"
check "a stalled half request is timed out" bash -c "[[ '$reply' == *closed ]]"
conns=$(raw '
socks = [conn() for i in range(20)]
for s in socks: s.sendall(b"GET /xend/node/ HTTP/1.1\r\n\r\n")
print(sum(1 for s in socks if recv_all(s).startswith(b"HTTP/1.1 200")))')
check "20 concurrent clients all answered" test "$conns" = 20

# --- faults
before=$("$ctl" "$dir/control-socket" stats | sed -n 's/^xend_requests //p')
get /xend/node/
get /xend/node/
after=$("$ctl" "$dir/control-socket" stats | sed -n 's/^xend_requests //p')
check "xend_requests counts every request" test "$((after - before))" = 2
"$ctl" "$dir/control-socket" xend error500 on
get /xend/node/
check "error500: 500 with a Python traceback" is_and_has 500 "Traceback (most recent call last)"
"$ctl" "$dir/control-socket" xend error500 off
"$ctl" "$dir/control-socket" xend drop on
curl -s --max-time 5 --unix-socket "$sock" http://localhost/xend/node/ > /dev/null; rc=$?
check "drop: connection closed without a reply (curl 52)" test "$rc" = 52
"$ctl" "$dir/control-socket" xend drop off
"$ctl" "$dir/control-socket" xend garbage on
reply=$(raw 's = conn(); s.sendall(b"GET /xend/node/ HTTP/1.1\r\n\r\n"); d = recv_all(s); print("http" if d.startswith(b"HTTP/") else "garbage")')
check "garbage: non-HTTP bytes" test "$reply" = garbage
"$ctl" "$dir/control-socket" xend garbage off
"$ctl" "$dir/control-socket" xend delay 400
reply=$(raw '
t = time.time(); s = conn(); s.sendall(b"GET /xend/node/ HTTP/1.1\r\n\r\n"); a = conn(); a.sendall(b"GET /xend/domain HTTP/1.1\r\n\r\n")
ra = recv_all(s); rb = recv_all(a); dt = time.time() - t
print("ok" if ra.startswith(b"HTTP/1.1 200") and rb.startswith(b"HTTP/1.1 200") and 0.38 < dt < 0.75 else "bad %f" % dt)')
check "delay: replies delayed, two delayed clients served in parallel" test "$reply" = ok
"$ctl" "$dir/control-socket" xend delay 0
"$ctl" "$dir/control-socket" xend absent on
check "absent: the socket is gone" test ! -e "$sock"
curl -s --max-time 5 --unix-socket "$sock" http://localhost/xend/node/ > /dev/null; rc=$?
check "absent: curl cannot connect (7)" test "$rc" = 7
"$ctl" "$dir/control-socket" xend absent off
get /xend/node/
check "absent off: answering again" is 200

# ============================================================ config version 3
start_sim 3 || exit 1
get /xend/node/
check "cfg 3: xend_config_format 3" body_has "(xend_config_format 3)"
post /xend/domain/ op=new "config=$(vm m3 '' $UUID4)"
check "cfg 3: op=new" is 201
get "/xend/domain?state=halted"
check "cfg 3: ?state=halted" body_has "(m3)"

# ============================================================ config version 2
start_sim 2 || exit 1
get /xend/node/
check "cfg 2: xend_config_format 2" body_has "(xend_config_format 2)"
post /xend/domain/ op=new "config=$(vm m2 '' $UUID4)"
check "cfg 2: op=new is not implemented (501)" is 501
post /xend/domain/ op=create "config=$(vm c2 '' $UUID1)"
post /xend/domain/c2 op=start
check "cfg 2: op=start is not implemented" is 501
post /xend/domain/c2 op=delete
check "cfg 2: op=delete is not implemented" is 501
get "/xend/domain?state=halted"
check "cfg 2: ?state= ignored, running domains listed" body_has "(Domain-0 c2)"
get "/xend/domain/c2?detail=1"
check "cfg 2: no on_xend_start" body_lacks "on_xend_start"

# ============================================================ config version 1
start_sim 1 || exit 1
get /xend/node/
check "cfg 1: no xend_config_format" is_and_has 200 "(xen_scheduler credit)"
check "cfg 1: ... and really absent" body_lacks "xend_config_format"
post /xend/domain/ op=create "config=$(vm c1 '' $UUID1)"
check "cfg 1: create" is 201
check "cfg 1: domid present" body_has "(domid "
post /xend/domain/c1 op=pincpu vcpu=0 "cpumap=[0,1]"
check "cfg 1: pincpu takes [0,1]" is 200
post /xend/domain/c1 op=pincpu vcpu=0 cpumap=0,1
check "cfg 1: pincpu refuses 0,1" is 500
get "/xend/domain/c1?op=vcpuinfo"
check "cfg 1: vcpuinfo is a bare list of vcpus" bash -c "grep -q '^((vcpu (number 0)' '$tmp/body'"

stop_sim
echo "1..$n"
[ "$failed" = 0 ]
