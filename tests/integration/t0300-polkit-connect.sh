#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Connection-level polkit authorization, with the real polkitd on a private system bus
# (tests/sandbox up DIR --polkit) and the stock virsh and python3-libvirt run as test users:
#  - a member of group "xenvirt" (rule: the group gets every org.xenvirt.* action) can manage
#    domains over the read-write socket;
#  - another user is refused there with libvirt's authentication error (code 45, domain 60
#    VIR_FROM_POLKIT) and nothing changes;
#  - the read-only socket (org.xenvirt.unix.monitor, granted to everyone) lets that user list and
#    read, and refuses every write procedure;
#  - root always works; with polkitd gone a non-root connection is refused (fail closed) with a
#    clear message, and works again once polkitd is back.

. "$(dirname "$0")/lib.sh"

test_require_polkit
command -v virsh > /dev/null 2>&1 || { echo "Bail out! virsh (libvirt-clients) is not installed"; exit 1; }
"$TEST_PYTHON" -c 'import libvirt' > /dev/null 2>&1 ||
        { echo "Bail out! $TEST_PYTHON cannot import libvirt (python3-libvirt)"; exit 1; }
[ -f "$TEST_SEED_DIR/pv-direct-kernel.xml" ] || { echo "Bail out! no seed examples in $TEST_SEED_DIR"; exit 1; }

xv_polkit_users || { echo "Bail out! cannot create the test users"; exit 1; }
sandbox_up --polkit

xv_polkit_rule 50-xenvirt-group <<'EOF' || { echo "Bail out! polkitd did not load the group rule"; exit 1; }
polkit.addRule(function(action, subject) {
        if (action.id.indexOf("org.xenvirt.") == 0 && subject.isInGroup("xenvirt"))
                return polkit.Result.YES;
});
EOF

for d in pk-web pk-db; do
        sed -e "s|<name>[^<]*</name>|<name>$d</name>|" "$TEST_SEED_DIR/pv-direct-kernel.xml" > "$TEST_DIR/$d.xml"
done
sed -e 's|<name>[^<]*</name>|<name>pk-new</name>|' "$TEST_SEED_DIR/pv-direct-kernel.xml" > "$TEST_DIR/pk-new.xml"

# sim_state, state_is, root_virsh, as_virsh and expect_exit come from lib.sh.

# The python3-libvirt check as USER: open URI (read-only with RO=1) and print the domain names,
# or "error CODE DOMAIN MESSAGE" when open fails.
cat > "$TEST_DIR/pk_open.py" <<'EOF'
import sys
import libvirt

libvirt.registerErrorHandler(lambda ctx, err: None, None)
uri, ro = sys.argv[1], sys.argv[2] == "1"
try:
    c = libvirt.openReadOnly(uri) if ro else libvirt.open(uri)
except libvirt.libvirtError as e:
    print("error %d %d %s" % (e.get_error_code(), e.get_error_domain(), e.get_error_message()))
    sys.exit(2)
print(" ".join(sorted(d.name() for d in c.listAllDomains())))
c.close()
EOF
chmod 0644 "$TEST_DIR/pk_open.py"

test_expect_success 'the sandbox: private bus in DIR/env, RW socket 0666, directories 0755' '
	test "$DBUS_SYSTEM_BUS_ADDRESS" = "unix:path=$sandbox_dir/system_bus_socket" &&
	test "$(stat -c %a "$sandbox_dir/xenvirtd-sock")" = 666 &&
	test "$(stat -c %a "$sandbox_dir")" = 755 &&
	test "$(stat -c %a "$sandbox_dir/polkit/rules.d")" = 755 &&
	grep -q "auth_unix_rw = \"polkit\"" "$sandbox_dir/xenvirtd.conf"
'

test_expect_success 'root defines two domains' '
	root_virsh define pk-web.xml &&
	root_virsh define pk-db.xml &&
	root_virsh list --all --name >out &&
	grep -qx pk-web out && grep -qx pk-db out
'

test_expect_success 'xvt-member (group xenvirt) lists the domains over the RW socket' '
	as_virsh xvt-member -c "$XENVIRT_URI" list --all --name >out &&
	grep -qx pk-web out && grep -qx pk-db out
'

test_expect_success 'xvt-member starts and destroys a domain over the RW socket' '
	as_virsh xvt-member -c "$XENVIRT_URI" start pk-web &&
	eventually state_is pk-web running &&
	as_virsh xvt-member -c "$XENVIRT_URI" destroy pk-web &&
	eventually state_is pk-web off
'

test_expect_success 'xvt-member: python3-libvirt open() on the RW socket' '
	xv_as xvt-member "$TEST_PYTHON" pk_open.py "$XENVIRT_URI" 0 >out &&
	grep -qw pk-web out
'

test_expect_success 'root starts pk-web (root is always allowed)' '
	root_virsh start pk-web &&
	eventually state_is pk-web running
'

test_expect_success 'xvt-other is refused on the RW socket: virsh exit 1, authentication failed' '
	expect_exit 1 as_virsh xvt-other -c "$XENVIRT_URI" destroy pk-web &&
	grep -q "authentication failed" err &&
	expect_exit 1 as_virsh xvt-other -c "$XENVIRT_URI" start pk-db &&
	grep -q "authentication failed" err &&
	expect_exit 1 as_virsh xvt-other -c "$XENVIRT_URI" undefine pk-db &&
	grep -q "authentication failed" err &&
	expect_exit 1 as_virsh xvt-other -c "$XENVIRT_URI" define pk-new.xml &&
	grep -q "authentication failed" err
'

test_expect_success 'xvt-other is refused on the RW socket: python error code 45 domain 60' '
	expect_exit 2 xv_as xvt-other "$TEST_PYTHON" pk_open.py "$XENVIRT_URI" 0 >out &&
	grep "^error 45 60 " out
'

test_expect_success 'nothing changed after the refused calls' '
	state_is pk-web running &&
	state_is pk-db off &&
	root_virsh list --all --name >out &&
	grep -qx pk-db out &&
	! grep -qx pk-new out
'

test_expect_success 'xvt-other on the RO socket: list and dominfo work' '
	as_virsh xvt-other -r -c "$XENVIRT_URI_RO" list --all --name >out &&
	grep -qx pk-web out && grep -qx pk-db out &&
	as_virsh xvt-other -r -c "$XENVIRT_URI_RO" dominfo pk-web >out &&
	grep -q "^State: *running" out &&
	xv_as xvt-other "$TEST_PYTHON" pk_open.py "$XENVIRT_URI_RO" 1 >out &&
	grep -qw pk-db out
'

# ro_refused ARGS...: the write command fails on the RO socket with the read-only error.
ro_refused() {
	expect_exit 1 as_virsh xvt-other -r -c "$XENVIRT_URI_RO" "$@" || return 1
	grep -Eq "read only|read-only|operation (forbidden|denied)" err || { cat err; return 1; }
}

test_expect_success 'xvt-other on the RO socket: every write procedure is refused' '
	ro_refused destroy pk-web &&
	ro_refused start pk-db &&
	ro_refused suspend pk-web &&
	ro_refused shutdown pk-web &&
	ro_refused reboot pk-web &&
	ro_refused setmem pk-web 65536 &&
	ro_refused autostart pk-db &&
	ro_refused undefine pk-db &&
	ro_refused define pk-new.xml
'

test_expect_success 'nothing changed after the refused RO calls' '
	state_is pk-web running &&
	state_is pk-db off &&
	root_virsh dominfo pk-db >out &&
	grep -q "^Autostart: *disable" out &&
	root_virsh list --all --name >out &&
	! grep -qx pk-new out
'

test_expect_success 'polkitd stopped: xvt-member is refused with a clear message (fail closed)' '
	xv_polkitd_stop &&
	busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
		NameHasOwner s org.freedesktop.PolicyKit1 >owner &&
	grep -qx "b false" owner &&
	expect_exit 1 as_virsh xvt-member -c "$XENVIRT_URI" list --all &&
	cat err &&
	grep -Eqi "authentication (failed|unavailable)" err &&
	grep -qi polkit err &&
	expect_exit 2 xv_as xvt-member "$TEST_PYTHON" pk_open.py "$XENVIRT_URI" 0 >out &&
	grep "^error " out
'

test_expect_success 'polkitd stopped: the RO socket fails closed too (auth_unix_ro = polkit)' '
	expect_exit 1 as_virsh xvt-other -r -c "$XENVIRT_URI_RO" list --all &&
	grep -Eqi "authentication (failed|unavailable)" err
'

test_expect_success 'polkitd stopped: root still works' '
	root_virsh destroy pk-web &&
	eventually state_is pk-web off &&
	root_virsh list --all --name >out &&
	grep -qx pk-web out
'

test_expect_success 'polkitd restarted: xvt-member works again' '
	xv_polkitd_start &&
	as_virsh xvt-member -c "$XENVIRT_URI" start pk-db &&
	eventually state_is pk-db running &&
	as_virsh xvt-member -c "$XENVIRT_URI" destroy pk-db &&
	eventually state_is pk-db off
'

test_expect_success 'polkitd restarted: xvt-other is still refused' '
	expect_exit 1 as_virsh xvt-other -c "$XENVIRT_URI" start pk-db &&
	grep -q "authentication failed" err &&
	state_is pk-db off
'

test_done
