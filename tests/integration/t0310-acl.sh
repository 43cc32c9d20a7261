#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Fine-grained access control (access_drivers = [ "polkit" ]) end to end: the real polkitd on a
# private system bus (tests/sandbox up DIR --polkit), JavaScript rules, and the stock virsh and
# python3-libvirt run as unprivileged test users.
#  - xvt-alice may connect, and see/read/start/stop only the domains named web-*: she starts and
#    destroys web-1, is refused on db-1 (code 88, domain 55: already its lookup, which virsh
#    reports as "failed to get domain") and nothing changes; her "virsh list --all" shows only
#    web-1;
#  - xvt-other may see everything but start/stop nothing: the start itself is refused, naming the
#    action and the domain;
#  - dumpxml --security-info needs org.xenvirt.api.domain.read-secure: refused without it, shows
#    the VNC password with it, and plain dumpxml never shows it;
#  - lifecycle events: alice's python callback sees web-1's events and none of db-1's; root's
#    sees both;
#  - root is never restricted; with polkitd gone an authenticated non-root connection is refused
#    per call with a message naming the cause, while root keeps working.

. "$(dirname "$0")/lib.sh"

test_require_polkit
command -v virsh > /dev/null 2>&1 || { echo "Bail out! virsh (libvirt-clients) is not installed"; exit 1; }
"$TEST_PYTHON" -c 'import libvirt' > /dev/null 2>&1 ||
        { echo "Bail out! $TEST_PYTHON cannot import libvirt (python3-libvirt)"; exit 1; }
[ -f "$TEST_SEED_DIR/pv-direct-kernel.xml" ] || { echo "Bail out! no seed examples in $TEST_SEED_DIR"; exit 1; }

xv_polkit_users || { echo "Bail out! cannot create the test users"; exit 1; }
sandbox_up --polkit

VNC_PASSWORD=s3cret-vnc-pw

xv_polkit_rule 50-acl <<'EOF' || { echo "Bail out! polkitd did not load the ACL rules"; exit 1; }
polkit.addRule(function(action, subject) {
        var name = action.lookup("domain_name");
        if (subject.user == "xvt-alice") {
                if (action.id == "org.xenvirt.unix.manage" || action.id.indexOf("org.xenvirt.api.connect.") == 0)
                        return polkit.Result.YES;
                if (action.id == "org.xenvirt.api.domain.getattr" || action.id == "org.xenvirt.api.domain.read" ||
                    action.id == "org.xenvirt.api.domain.start" || action.id == "org.xenvirt.api.domain.stop")
                        return name && name.indexOf("web-") == 0 ? polkit.Result.YES : polkit.Result.NO;
                if (action.id.indexOf("org.xenvirt.") == 0)
                        return polkit.Result.NO;
        }
        if (subject.user == "xvt-other") {
                if (action.id == "org.xenvirt.unix.manage" || action.id.indexOf("org.xenvirt.api.connect.") == 0 ||
                    action.id == "org.xenvirt.api.domain.getattr" || action.id == "org.xenvirt.api.domain.read")
                        return polkit.Result.YES;
                if (action.id.indexOf("org.xenvirt.") == 0)
                        return polkit.Result.NO;
        }
});
EOF

for d in web-1 db-1; do
        sed -e "s|<name>[^<]*</name>|<name>$d</name>|" \
            -e "s|<graphics type='vnc' port='-1'/>|<graphics type='vnc' port='-1' passwd='$VNC_PASSWORD'/>|" \
            "$TEST_SEED_DIR/pv-direct-kernel.xml" > "$TEST_DIR/$d.xml"
done

# sim_state, state_is, root_virsh, as_virsh and expect_exit come from lib.sh.

# python3-libvirt as a user: "ok ..." or "error CODE DOMAIN MESSAGE" per step.
cat > "$TEST_DIR/acl.py" <<'EOF'
import sys
import libvirt

libvirt.registerErrorHandler(lambda ctx, err: None, None)
uri, what = sys.argv[1], sys.argv[2:]
c = libvirt.open(uri)


def report(e):
    print("error %d %d %s" % (e.get_error_code(), e.get_error_domain(), e.get_error_message()))


for step in what:
    op, _, arg = step.partition("=")
    try:
        if op == "list":
            print("ok list " + " ".join(sorted(d.name() for d in c.listAllDomains())))
        elif op == "lookup":
            print("ok lookup " + c.lookupByName(arg).name())
        elif op == "start":
            c.lookupByName(arg).create()
            print("ok start " + arg)
        elif op == "destroy":
            c.lookupByName(arg).destroy()
            print("ok destroy " + arg)
    except libvirt.libvirtError as e:
        report(e)
c.close()
EOF

# Lifecycle events as a user: registers a callback, writes "ready" to READY_FILE, then prints
# "event NAME EVENT" for every event until web-1 is reported stopped (20 s at most).
cat > "$TEST_DIR/acl_events.py" <<'EOF'
import sys
import threading
import time
import libvirt

libvirt.registerErrorHandler(lambda ctx, err: None, None)
uri, ready_file = sys.argv[1], sys.argv[2]
libvirt.virEventRegisterDefaultImpl()
c = libvirt.open(uri)
done = threading.Event()


def cb(conn, dom, event, detail, opaque):
    print("event %s %d" % (dom.name(), event), flush=True)
    if dom.name() == "web-1" and event == libvirt.VIR_DOMAIN_EVENT_STOPPED:
        done.set()


c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, None)
with open(ready_file, "w") as f:
    f.write("ready\n")
deadline = time.monotonic() + 20
while not done.is_set() and time.monotonic() < deadline:
    libvirt.virEventRunDefaultImpl()
print("done" if done.is_set() else "timeout", flush=True)
c.close()
EOF

# Once its connection is authenticated, writes its PID to READY_FILE, waits for GO_FILE (20 s at
# most), then asks for web-1's XML (domain.read, not asked before on this connection).
cat > "$TEST_DIR/acl_late.py" <<'EOF'
import os
import sys
import time
import libvirt

libvirt.registerErrorHandler(lambda ctx, err: None, None)
uri, ready_file, go_file = sys.argv[1], sys.argv[2], sys.argv[3]
c = libvirt.open(uri)
d = c.lookupByName("web-1")
with open(ready_file, "w") as f:
    f.write("%d\n" % os.getpid())
deadline = time.monotonic() + 20
while not os.path.exists(go_file) and time.monotonic() < deadline:
    time.sleep(0.05)
try:
    d.XMLDesc(0)
    print("ok xml")
except libvirt.libvirtError as e:
    print("error %d %d %s" % (e.get_error_code(), e.get_error_domain(), e.get_error_message()))
c.close()
EOF
chmod 0644 "$TEST_DIR"/acl*.py
mkdir -p "$TEST_DIR/shared" && chmod 0777 "$TEST_DIR/shared"

wait_file() {
        local i
        for i in $(seq 200); do
                [ -s "$1" ] && return 0
                sleep 0.1
        done
        echo "$1 did not appear within 20 s"
        return 1
}

# Waits (30 s) until the event listener writing FILE has printed its last line, "done" or
# "timeout". The line, not the exit status of a "wait", is what the step checks: bash may have
# reaped and forgotten a background job by the time it is waited for.
wait_last_line() {
        local i
        for i in $(seq 300); do
                grep -qxE "done|timeout" "$1" 2>/dev/null && return 0
                sleep 0.1
        done
        echo "$1 has no last line within 30 s"
        return 1
}

test_expect_success 'root defines web-1 and db-1 (with a VNC password)' '
	root_virsh define web-1.xml &&
	root_virsh define db-1.xml &&
	root_virsh list --all --name >out &&
	grep -qx web-1 out && grep -qx db-1 out
'

test_expect_success 'xvt-alice: virsh list --all shows only the web-* domains' '
	as_virsh xvt-alice -c "$XENVIRT_URI" list --all --name >out &&
	sed "/^$/d" out >names &&
	echo web-1 >expect &&
	test_cmp expect names
'

test_expect_success 'xvt-alice: python listAllDomains shows only web-1' '
	xv_as xvt-alice "$TEST_PYTHON" acl.py "$XENVIRT_URI" list >out &&
	grep -qx "ok list web-1" out
'

test_expect_success 'xvt-alice starts and destroys web-1' '
	as_virsh xvt-alice -c "$XENVIRT_URI" start web-1 &&
	eventually state_is web-1 running &&
	as_virsh xvt-alice -c "$XENVIRT_URI" destroy web-1 &&
	eventually state_is web-1 off
'

test_expect_success 'xvt-alice is refused on db-1 (access denied, code 88 domain 55) and nothing changes' '
	expect_exit 1 as_virsh xvt-alice -c "$XENVIRT_URI" start db-1 &&
	grep -q "failed to get domain .db-1." err &&
	xv_as xvt-alice "$TEST_PYTHON" acl.py "$XENVIRT_URI" lookup=db-1 >out &&
	grep -q "^error 88 55 access denied: .org.xenvirt.api.domain.getattr. on domain .db-1.$" out &&
	state_is db-1 off
'

test_expect_success 'xvt-alice: define is checked against the name in the XML, and refused' '
	sed -e "s|<name>web-1</name>|<name>web-2</name>|" web-1.xml >web-2.xml &&
	expect_exit 1 as_virsh xvt-alice -c "$XENVIRT_URI" define web-2.xml &&
	grep -q "access denied: .org.xenvirt.api.domain.save. on domain .web-2." err &&
	root_virsh list --all --name >out &&
	! grep -qx web-2 out
'

test_expect_success 'xvt-other may see db-1 but its start is refused, naming action and domain' '
	as_virsh xvt-other -c "$XENVIRT_URI" list --all --name >out &&
	grep -qx db-1 out && grep -qx web-1 out &&
	expect_exit 1 as_virsh xvt-other -c "$XENVIRT_URI" start db-1 &&
	grep -q "access denied: .org.xenvirt.api.domain.start. on domain .db-1." err &&
	xv_as xvt-other "$TEST_PYTHON" acl.py "$XENVIRT_URI" start=db-1 >out &&
	grep -q "^error 88 55 access denied: .org.xenvirt.api.domain.start. on domain .db-1.$" out &&
	state_is db-1 off
'

test_expect_success 'xvt-alice: dumpxml of web-1 works and never shows the VNC password' '
	as_virsh xvt-alice -c "$XENVIRT_URI" dumpxml web-1 >out &&
	grep -q "<graphics type=.vnc." out &&
	! grep -q "$VNC_PASSWORD" out
'

test_expect_success 'xvt-alice: dumpxml --security-info is refused without read-secure' '
	expect_exit 1 as_virsh xvt-alice -c "$XENVIRT_URI" dumpxml --security-info web-1 >out &&
	grep -q "access denied: .org.xenvirt.api.domain.read-secure. on domain .web-1." err &&
	! grep -q "$VNC_PASSWORD" out
'

test_expect_success 'xvt-alice: with read-secure on web-*, --security-info shows the password' '
	xv_polkit_rule 40-acl-secure <<-\EOF &&
	polkit.addRule(function(action, subject) {
	        var name = action.lookup("domain_name");
	        if (subject.user == "xvt-alice" && action.id == "org.xenvirt.api.domain.read-secure" &&
	            name && name.indexOf("web-") == 0)
	                return polkit.Result.YES;
	});
	EOF
	as_virsh xvt-alice -c "$XENVIRT_URI" dumpxml --security-info web-1 >out &&
	grep -q "passwd=.$VNC_PASSWORD." out &&
	as_virsh xvt-alice -c "$XENVIRT_URI" dumpxml web-1 >out &&
	! grep -q "$VNC_PASSWORD" out
'

test_expect_success 'read-only connections refuse the secure flag (code 29), even for root' '
	"$TEST_PYTHON" - "$XV_TEST_SRCDIR/integration" "$sandbox_dir/xenvirtd-sock-ro" "$VNC_PASSWORD" <<-\PY
	import sys, struct
	sys.path.insert(0, sys.argv[1])
	from xvd_raw import *
	c = Conn(sys.argv[2])
	c.handshake(read_only=True)
	r = c.call(23, xdr_string("web-1"))
	assert r[5] == OK, error_of(r)
	dom = r[6]
	r = c.call(14, dom + struct.pack(">I", 1))
	e = error_of(r)
	assert e and e[0] == 29, e
	assert e[2] == "operation forbidden: read only access prevents virDomainGetXMLDesc with flag VIR_DOMAIN_XML_SECURE", e
	r = c.call(14, dom + struct.pack(">I", 0))
	assert r[5] == OK, error_of(r)
	assert sys.argv[3].encode() not in r[6]
	PY
'

test_expect_success 'events: xvt-alice sees web-1 events and none of db-1, root sees both' '
	rm -f shared/alice.ready shared/root.ready
	xv_as xvt-alice "$TEST_PYTHON" acl_events.py "$XENVIRT_URI" shared/alice.ready >alice.events 2>&1 &
	alice=$! &&
	"$TEST_PYTHON" acl_events.py "$XENVIRT_URI" shared/root.ready >root.events 2>&1 &
	rootpid=$! &&
	wait_file shared/alice.ready && wait_file shared/root.ready &&
	root_virsh start db-1 && eventually state_is db-1 running &&
	root_virsh start web-1 && eventually state_is web-1 running &&
	root_virsh destroy db-1 && eventually state_is db-1 off &&
	root_virsh destroy web-1 && eventually state_is web-1 off &&
	wait_last_line alice.events && wait_last_line root.events &&
	{ wait $alice $rootpid 2>/dev/null || :; } &&
	cat alice.events root.events &&
	grep -qx done alice.events && grep -qx done root.events &&
	grep -q "^event web-1 " alice.events &&
	! grep -q "^event db-1 " alice.events &&
	grep -q "^event db-1 " root.events && grep -q "^event web-1 " root.events
'

test_expect_success 'clients that leave while polkit has not answered yet: the daemon carries on' '
	pk=$(cat "$sandbox_dir/polkitd.pid") &&
	rm -f shared/late.ready shared/late.go
	xv_as xvt-alice "$TEST_PYTHON" acl_late.py "$XENVIRT_URI" shared/late.ready shared/late.go >late.out 2>&1 &
	late=$! &&
	wait_file shared/late.ready &&
	kill -STOP "$pk" &&
	echo go >shared/late.go &&
	sleep 1 &&
	kill -KILL "$(cat shared/late.ready)" &&
	timeout -s KILL 2 setpriv --reuid=xvt-alice --regid="$(id -g xvt-alice)" --init-groups \
		virsh -c "$XENVIRT_URI" list >/dev/null 2>&1
	kill -CONT "$pk" &&
	wait $late
	kill -0 "$XENVIRTD_PID" &&
	as_virsh xvt-alice -c "$XENVIRT_URI" list --all --name >out &&
	grep -qx web-1 out &&
	root_virsh list --all --name >out &&
	grep -qx db-1 out
'

test_expect_success 'root is not restricted: sees all, reads secrets, starts db-1' '
	root_virsh list --all --name >out &&
	grep -qx db-1 out && grep -qx web-1 out && grep -qx Domain-0 out &&
	root_virsh dumpxml --security-info db-1 >out &&
	grep -q "passwd=.$VNC_PASSWORD." out &&
	root_virsh start db-1 && eventually state_is db-1 running &&
	root_virsh destroy db-1 && eventually state_is db-1 off
'

test_expect_success 'polkitd stopped: an authenticated connection is refused per call, with the cause' '
	rm -f shared/late.ready shared/late.go
	xv_as xvt-alice "$TEST_PYTHON" acl_late.py "$XENVIRT_URI" shared/late.ready shared/late.go >late.out 2>&1 &
	late=$! &&
	wait_file shared/late.ready &&
	xv_polkitd_stop &&
	echo go >shared/late.go &&
	wait $late &&
	cat late.out &&
	grep -q "^error 88 55 access denied: .org.xenvirt.api.domain.read. on domain .web-1.: polkit is not available" late.out
'

test_expect_success 'polkitd stopped: a new non-root connection is refused, root still works' '
	expect_exit 1 as_virsh xvt-alice -c "$XENVIRT_URI" list --all &&
	grep -qi polkit err &&
	root_virsh start web-1 && eventually state_is web-1 running &&
	root_virsh destroy web-1 && eventually state_is web-1 off
'

test_done
