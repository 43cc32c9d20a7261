#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Remote management through libvirt's stock ssh transport: Debian's sshd runs on a loopback port
# with its own configuration, a throwaway host key and a throwaway user key, all in the test
# directory (never the system's sshd or its keys), and virsh drives the sandbox's xenvirtd with
#
#     xen+ssh://root@127.0.0.1:PORT/system?socket=SOCK&keyfile=KEY&no_verify=1
#
# With socket= libvirt's client runs "nc -U SOCK" on the host (netcat-openbsd); without it, it
# would run virt-ssh-helper, which looks for libvirt's own socket paths. The client's ssh is
# the stock one too, given with command= only to point it at a private known_hosts file, so that
# ~/.ssh is left alone.

. "$(dirname "$0")/lib.sh"

test_require_virsh
SSHD=/usr/sbin/sshd
for tool in "$SSHD" ssh ssh-keygen nc; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "Bail out! $tool is not installed (packages openssh-server, openssh-client, netcat-openbsd)"
		exit 1
	}
done
# libvirt's proxy command needs the OpenBSD netcat (-U for UNIX sockets).
nc -h 2>&1 | grep -q -- "-U" || { echo "Bail out! nc has no -U: install netcat-openbsd"; exit 1; }
id sshd >/dev/null 2>&1 || { echo "Bail out! no sshd privilege separation user (openssh-server)"; exit 1; }

# One such test at a time on this machine (another build tree's make check): they share
# /run/sshd. A flock on the sshd binary creates no file.
exec 8<"$SSHD"
flock -w 600 8 || { echo "Bail out! another ssh test holds the lock"; exit 1; }

sandbox_up

S=$TEST_DIR/ssh
mkdir -p "$S"
chmod 0700 "$S"
sshd_pid=
# sshd insists on its privilege separation directory; the package's unit creates it at start,
# and this test removes it again if it made it. The same for ~/.ssh, which ssh creates.
made_privsep=
[ -d /run/sshd ] || { mkdir -m 0755 /run/sshd && made_privsep=yes; }
home=$(getent passwd "$(id -un)" | cut -d: -f6)
had_dot_ssh=
[ -e "$home/.ssh" ] && had_dot_ssh=yes

ssh_cleanup() {
	if [ -n "$sshd_pid" ]; then
		kill -TERM "$sshd_pid" 2>/dev/null
		for i in $(seq 100); do kill -0 "$sshd_pid" 2>/dev/null || break; sleep 0.1; done
	fi
	[ -z "$made_privsep" ] || rmdir /run/sshd 2>/dev/null
	[ -n "$had_dot_ssh" ] || rm -rf "${home:?}/.ssh"
	return 0
}
trap 'ssh_cleanup; test_cleanup' EXIT

# A free port on the loopback interface.
PORT=$("$TEST_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

ssh-keygen -q -t ed25519 -N "" -f "$S/host_key" -C xv-test-host
ssh-keygen -q -t ed25519 -N "" -f "$S/user_key" -C xv-test-user
cp "$S/user_key.pub" "$S/authorized_keys"
cat >"$S/sshd_config" <<EOF
ListenAddress 127.0.0.1:$PORT
HostKey $S/host_key
PidFile $S/sshd.pid
AuthorizedKeysFile $S/authorized_keys
# The test directory lies below the world-writable /tmp.
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowUsers root
X11Forwarding no
AllowTcpForwarding no
LogLevel VERBOSE
EOF
# Only the test's known_hosts file is read and written.
cat >"$S/ssh_config" <<EOF
Host *
	UserKnownHostsFile $S/known_hosts
	GlobalKnownHostsFile /dev/null
	BatchMode yes
	ConnectTimeout 20
	LogLevel ERROR
EOF
cat >"$S/ssh" <<EOF
#!/bin/sh
exec ssh -F "$S/ssh_config" "\$@"
EOF
chmod +x "$S/ssh"

SOCK=$sandbox_dir/xenvirtd-sock
SOCK_RO=$sandbox_dir/xenvirtd-sock-ro
URI="xen+ssh://root@127.0.0.1:$PORT/system?socket=$SOCK&keyfile=$S/user_key&no_verify=1&command=$S/ssh"
URI_RO="xen+ssh://root@127.0.0.1:$PORT/system?socket=$SOCK_RO&keyfile=$S/user_key&no_verify=1&command=$S/ssh"

test_expect_success 'a private sshd listens on loopback and runs commands for the throwaway key' '
	"$SSHD" -t -f "$S/sshd_config" &&
	{ "$SSHD" -D -e -f "$S/sshd_config" 2>"$S/sshd.log" & } &&
	sshd_pid=$! &&
	for i in $(seq 200); do
		"$S/ssh" -p "$PORT" -i "$S/user_key" -o StrictHostKeyChecking=no root@127.0.0.1 true 2>/dev/null && break
		kill -0 "$sshd_pid" 2>/dev/null || break
		sleep 0.1
	done
	test "$("$S/ssh" -p "$PORT" -i "$S/user_key" root@127.0.0.1 echo remote-ok)" = remote-ok ||
	{ cat "$S/sshd.log"; false; }
'

v() {
	virsh -c "$URI" "$@"
}

test_expect_success 'virsh list through xen+ssh (libvirt runs nc -U on the host)' '
	v list --all >out &&
	grep -qE "^ +0 +Domain-0 +running$" out &&
	grep -q "Accepted publickey for root" "$S/sshd.log"
'

cat >"$TEST_DIR/sshdom.xml" <<'EOF'
<domain type='xen'>
  <name>sshdom</name>
  <memory>131072</memory>
  <vcpu>1</vcpu>
  <os>
    <type>linux</type>
    <kernel>/var/lib/xen/install/vmlinuz</kernel>
  </os>
</domain>
EOF

test_expect_success 'define and dominfo through xen+ssh' '
	v define "$TEST_DIR/sshdom.xml" >out &&
	grep -q "Domain .sshdom. defined" out &&
	v dominfo sshdom >info &&
	grep -qE "^State: +shut off$" info &&
	grep -qE "^Max memory: +131072 KiB$" info
'

test_expect_success 'start and destroy through xen+ssh' '
	v start sshdom >out &&
	grep -q "Domain .sshdom. started" out &&
	eventually sh -c "virsh -c \"\$0\" domstate sshdom | grep -qx running" "$URI" &&
	v dominfo sshdom >info &&
	grep -qE "^State: +running$" info &&
	v destroy sshdom >out &&
	grep -q "Domain .sshdom. destroyed" out &&
	eventually sh -c "virsh -c \"\$0\" domstate sshdom | grep -qx \"shut off\"" "$URI"
'

test_expect_success 'the read-only variant lists and reads, and refuses changes' '
	virsh -r -c "$URI_RO" list --all >out &&
	grep -q "sshdom" out &&
	virsh -r -c "$URI_RO" dominfo sshdom >info &&
	grep -qE "^Name: +sshdom$" info &&
	test_must_fail virsh -c "$URI_RO" start sshdom 2>err &&
	grep -q "read only access prevents" err
'

test_expect_success 'a key sshd does not know is refused (the transport authenticates)' '
	ssh-keygen -q -t ed25519 -N "" -f "$S/other_key" &&
	test_must_fail virsh -c "xen+ssh://root@127.0.0.1:$PORT/system?socket=$SOCK&keyfile=$S/other_key&no_verify=1&command=$S/ssh" list 2>err &&
	cat err
'

test_expect_success 'cleanup: undefine through xen+ssh' '
	v undefine sshdom &&
	! v list --all --name | grep -qx sshdom
'

test_done
