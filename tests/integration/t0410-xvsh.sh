#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# xvsh against the stock virsh (Debian 12, 9.0) on the same sandbox: for every command xvsh
# implements, both clients run the same arguments and their stdout, stderr and exit status must
# be equal. Commands that change state run in pairs that undo each other (suspend/resume,
# start/destroy, define/undefine, save/restore, ...): virsh runs the pair, then xvsh runs it on
# the same domain, so both see the same state. Also the errors: unknown domain, bad usage,
# read-only refusals.

. "$(dirname "$0")/lib.sh"

# virsh is the reference and CI installs it: its absence is a failure, not a skip.
command -v virsh > /dev/null 2>&1 || { echo "Bail out! virsh (libvirt-clients) is not installed"; exit 1; }
[ -d "$TEST_SEED_DIR" ] || { echo "Bail out! no seed examples in $TEST_SEED_DIR"; exit 1; }
XVSH=$XV_BUILDDIR/client/cli/xvsh
[ -x "$XVSH" ] || { echo "Bail out! $XVSH is not built"; exit 1; }
sandbox_up

v() {
        virsh -c "$XENVIRT_URI" "$@"
}
x() {
        "$XVSH" -c "$XENVIRT_URI" "$@"
}

# Values that advance between two runs a few milliseconds apart and must be blanked: CPU times
# (dominfo/vcpuinfo "CPU time", domstats cpu.time and vcpu.N.time) keep growing on running
# domains; event timestamps differ. virsh 9.0 sometimes ends a one-shot "event" with its own
# "references were leaked" warning (a virsh refcounting quirk, not about the daemon): dropped.
# Everything else is compared as printed.
normalize() {
        sed -E -e 's/^(CPU time: +)[0-9.]+s$/\1N.Ns/' \
                -e '/^error: One or more references were leaked after disconnect from the hypervisor$/d' \
                -e 's/^(  (cpu|vcpu\.[0-9]+)\.time=)[0-9]+$/\1N/' \
                -e 's/^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+\+0000: /TIMESTAMP: /' "$1"
}

# The read-only refusal names the refused call: libvirt's client library refuses before sending
# and names its C function ("virDomainDefineXML"), xenvirtd refuses on the server and names the
# procedure. The rest of the message must agree.
normalize_ro() {
        sed -E 's/(read only access prevents) .*/\1 <call>/' "$1"
}

# run_client NAME CLIENT ARGS...: stdout, stderr and exit status into NAME.out/.err/.rc.
run_client() {
        local name=$1
        shift
        "$@" > "$name.raw" 2> "$name.err"
        echo $? > "$name.rc"
        normalize "$name.raw" > "$name.out"
}

# same ARGS...: virsh and xvsh print the same and exit the same.
same() {
        run_client v v "$@"
        run_client x x "$@"
        test_cmp v.out x.out && test_cmp v.err x.err && test_cmp v.rc x.rc ||
                { echo "virsh stderr:"; cat v.err; echo "xvsh stderr:"; cat x.err; return 1; }
}

# same_pair "ARGS1" "ARGS2": virsh runs ARGS1 then ARGS2, then xvsh does; the outputs of each
# step must agree. The words are split on blanks (no quoting needed for these tests).
same_pair() {
        # shellcheck disable=SC2086
        run_client v1 v $1 && run_client v2 v $2 &&
                run_client x1 x $1 && run_client x2 x $2 &&
                test_cmp v1.out x1.out && test_cmp v1.err x1.err && test_cmp v1.rc x1.rc &&
                test_cmp v2.out x2.out && test_cmp v2.err x2.err && test_cmp v2.rc x2.rc ||
                { echo "virsh stderr:"; cat v1.err v2.err; echo "xvsh stderr:"; cat x1.err x2.err; return 1; }
}

state_is() {
        test "$(v domstate "$1" | sed '/^$/d')" = "$2"
}

# Shut off and without an id (xensim may report the state a moment before the domain is gone).
is_off() {
        state_is "$1" "shut off" && test "$(v domid "$1" | sed '/^$/d')" = -
}

is_gone() {
        ! v domid "$1" >/dev/null 2>&1
}

sed -e 's|<name>[^<]*</name>|<name>xpv</name>|' "$TEST_SEED_DIR/pv-direct-kernel.xml" > "$TEST_DIR/xpv.xml"
sed -e 's|<name>[^<]*</name>|<name>xhvm</name>|' "$TEST_SEED_DIR/hvm-bios-boot.xml" > "$TEST_DIR/xhvm.xml"
cat > "$TEST_DIR/disk.xml" <<-EOF
<disk type='file' device='disk'>
  <source file='/var/lib/xen/images/xvsh-extra.img'/>
  <target dev='xvdb' bus='xen'/>
</disk>
EOF

test_expect_success 'xvsh runs and prints its version' '
	"$XVSH" --version | grep -qE "^[0-9]+\.[0-9]+"
'

test_expect_success 'define and undefine (virsh, then xvsh)' '
	same_pair "define $TEST_DIR/xpv.xml" "undefine xpv" &&
	grep -q "^Domain .xpv. defined from " x1.out
'

test_expect_success 'undefine --managed-save' '
	same_pair "define $TEST_DIR/xpv.xml" "undefine --managed-save xpv"
'

test_expect_success 'define both domains for the rest (one with xvsh)' '
	x define "$TEST_DIR/xpv.xml" && v define "$TEST_DIR/xhvm.xml"
'

for args in "list" "list --all" "list --inactive" "list --all --name" "list --all --uuid" \
        "list --all --name --uuid" "list --all --id" "list --all --state-shutoff" "-q list --all" \
        "dominfo xpv" "dominfo xhvm" "dominfo 0" "domstate xpv" "domstate --reason xpv" \
        "domid xpv" "domuuid xhvm" "dumpxml xpv" "dumpxml --inactive xhvm" \
        "dumpxml --security-info xhvm" "vcpucount xpv" \
        "nodeinfo" "capabilities" "freecell" "freecell --all" "freecell 1" "freecell --cellno 0" \
        "hostname" "domxml-to-native xen-xm $TEST_DIR/xhvm.xml" "domxml-to-native xen-sxpr $TEST_DIR/xhvm.xml" \
        "domxml-to-native xen-sxpr --domain xhvm" "domstats --list-inactive" "setvcpus xpv 2 --config --maximum"; do
        test_expect_success "same output: $args" "same $args"
done

test_expect_success 'domxml-from-native of what domxml-to-native wrote' '
	v domxml-to-native xen-xm "$TEST_DIR/xpv.xml" > native.xm &&
	v domxml-to-native xen-sxpr "$TEST_DIR/xpv.xml" > native.sxpr &&
	same domxml-from-native xen-xm native.xm &&
	same domxml-from-native xen-sxpr native.sxpr
'

test_expect_success 'start and destroy (virsh, then xvsh)' '
	same_pair "start xpv" "destroy xpv"
'

test_expect_success 'start --paused, then resume' '
	same_pair "start xhvm --paused" "destroy xhvm" &&
	x start xhvm --paused && state_is xhvm paused &&
	x resume xhvm && state_is xhvm running &&
	x destroy xhvm && state_is xhvm "shut off"
'

test_expect_success 'start xpv for the running-domain commands' '
	x start xpv && state_is xpv running
'

for args in "list" "list --all" "-q list" "list --name" "list --id" "list --state-running --all" \
        "dominfo xpv" "domstate --reason xpv" "domid xpv" "domname 0" \
        "dumpxml xpv" "vcpuinfo xpv" "vcpuinfo 0" "vcpupin xpv" "vcpucount xpv" "schedinfo xpv" \
        "domblkstat xpv sda1" "domstats" "domstats xpv" "domstats --state --balloon" \
        "domstats --vcpu xpv xhvm" "domstats --list-active --raw" "domstats --list-running" \
        "domxml-to-native xen-sxpr --domain xpv" "version --daemon"; do
        if [ "${args%% *}" = version ]; then
                # The library lines name the library: "libvirt 9.0.0" against "xenvirt X.Y.Z".
                test_expect_success "same output: $args (library versions aside)" '
			v version --daemon | grep -v "library\|API" >v.ver &&
			x version --daemon | grep -v "library\|API" >x.ver &&
			grep -q "^Running hypervisor: Xen " x.ver &&
			test_cmp v.ver x.ver
		'
                continue
        fi
        test_expect_success "same output: $args" "same $args"
done

test_expect_success 'domid/domname by id and uuid' '
	id=$(x domid xpv | sed "/^$/d") && uuid=$(x domuuid xpv | sed "/^$/d") &&
	same domname "$id" && same domname "$uuid" && same domuuid "$id" && same dominfo "$uuid" &&
	same domid "$uuid" && same domname xpv
'

test_expect_success 'suspend and resume' '
	same_pair "suspend xpv" "resume xpv" &&
	id=$(x domid xpv | sed "/^$/d") &&
	same_pair "suspend $id" "resume $id"
'

test_expect_success 'setmem, setmaxmem (with size suffixes)' '
	same setmaxmem xpv 256M && same setmem xpv 96M && same dominfo xpv &&
	same setmem xpv 131072 && same setmem xpv 64MiB --live && same setmem xpv 1G &&
	same setmem xpv 128M --current
'

test_expect_success 'setvcpus and vcpucount' '
	same setvcpus xpv 2 && same vcpucount xpv && same vcpucount xpv --live &&
	same vcpucount xpv --maximum --config && same setvcpus xpv 1 && same vcpuinfo xpv
'

# Every vCPU online: the pin query of an offline vCPU needs virDomainGetVcpuPinInfo, which
# libxenvirt does not offer (yet).
test_expect_success 'vcpupin' '
	same setvcpus xpv 2 && same vcpupin xpv 0 3 && same vcpupin xpv && same vcpupin xpv 0 && same vcpuinfo xpv &&
	same vcpupin xpv 0 1-2,5 && same vcpupin xpv && same vcpupin xpv 0 0-7 && same vcpupin xpv 0 99
'

test_expect_success 'autostart' '
	same_pair "autostart xpv" "autostart --disable xpv"
'

test_expect_success 'attach-device, update-device, detach-device' '
	same_pair "attach-device xpv $TEST_DIR/disk.xml" "detach-device xpv $TEST_DIR/disk.xml" &&
	same_pair "attach-device xpv $TEST_DIR/disk.xml --live" "update-device xpv $TEST_DIR/disk.xml" &&
	same detach-device xpv "$TEST_DIR/disk.xml"
'

test_expect_success 'schedinfo --set and --weight/--cap' '
	same schedinfo xpv --set weight=512 && same schedinfo xpv --weight 300 --cap 10 &&
	same schedinfo xpv --set cap=0 && same schedinfo xpv --set bogus=1 &&
	same schedinfo xpv weight=256
'

test_expect_success 'save and restore' '
	rm -f "$TEST_DIR/xpv.save" &&
	run_client v1 v save xpv "$TEST_DIR/xpv.save" && eventually is_off xpv &&
	run_client v2 v restore "$TEST_DIR/xpv.save" && eventually state_is xpv running &&
	rm -f "$TEST_DIR/xpv.save" &&
	run_client x1 x save xpv "$TEST_DIR/xpv.save" && eventually is_off xpv &&
	run_client x2 x restore "$TEST_DIR/xpv.save" && eventually state_is xpv running &&
	test_cmp v1.out x1.out && test_cmp v1.err x1.err && test_cmp v1.rc x1.rc &&
	test_cmp v2.out x2.out && test_cmp v2.err x2.err && test_cmp v2.rc x2.rc &&
	grep -q "^Domain .xpv. saved to " x1.out
'

test_expect_success 'dump --live (domain keeps running), dump of an inactive domain fails alike' '
	rm -f "$TEST_DIR/core" && same dump --live xpv "$TEST_DIR/core" && state_is xpv running &&
	rm -f "$TEST_DIR/core" && same dump xhvm "$TEST_DIR/core"
'

no_id() {
        test "$(v domid "$1" | sed '/^$/d')" = -
}

test_expect_success 'dump --crash stops the domain' '
	rm -f "$TEST_DIR/core" && run_client v1 v dump --crash xpv "$TEST_DIR/core" && eventually no_id xpv &&
	x start xpv >/dev/null && eventually state_is xpv running &&
	rm -f "$TEST_DIR/core" && run_client x1 x dump --crash xpv "$TEST_DIR/core" && eventually no_id xpv &&
	test_cmp v1.out x1.out && test_cmp v1.err x1.err && test_cmp v1.rc x1.rc &&
	grep -q "^Domain .xpv. dumped to " x1.out &&
	x start xpv >/dev/null && eventually state_is xpv running
'

test_expect_success 'managedsave (refused alike when the sandbox cannot save)' '
	run_client v1 v managedsave xpv &&
	if test "$(cat v1.rc)" = 0; then
		eventually is_off xpv && v start xpv >/dev/null && eventually state_is xpv running &&
		run_client x1 x managedsave xpv && eventually is_off xpv &&
		x start xpv >/dev/null && eventually state_is xpv running
	else
		run_client x1 x managedsave xpv
	fi &&
	test_cmp v1.out x1.out && test_cmp v1.err x1.err && test_cmp v1.rc x1.rc
'

test_expect_success 'event: lifecycle events of suspend/resume, one-shot and --loop --timestamp' '
	v event --all --loop --timeout 6 --timestamp >ev-v.raw 2>&1 & vp=$! &&
	x event --all --loop --timeout 6 --timestamp >ev-x.raw 2>&1 & xp=$! &&
	v event xpv --event lifecycle --timeout 20 >ev1-v.raw 2>&1 & v1p=$! &&
	x event xpv --event lifecycle --timeout 20 >ev1-x.raw 2>&1 & x1p=$! &&
	sleep 2 && v suspend xpv >/dev/null && v resume xpv >/dev/null &&
	wait $vp; echo $? >ev-v.rc; wait $xp; echo $? >ev-x.rc;
	wait $v1p; echo $? >ev1-v.rc; wait $x1p; echo $? >ev1-x.rc;
	normalize ev-v.raw >ev-v.out && normalize ev-x.raw >ev-x.out &&
	normalize ev1-v.raw >ev1-v.out && normalize ev1-x.raw >ev1-x.out &&
	grep -q "^TIMESTAMP: event .lifecycle. for domain .xpv.: Suspended Paused$" ev-x.out &&
	test_cmp ev-v.out ev-x.out && test_cmp ev-v.rc ev-x.rc &&
	test_cmp ev1-v.out ev1-x.out && test_cmp ev1-v.rc ev1-x.rc
'

test_expect_success 'event: a timeout without events, and usage errors' '
	same event xhvm --event lifecycle --timeout 1 &&
	same event --timeout 1 && same event --all --event lifecycle --timeout 1
'

domid_changed() {
        local id
        id=$(v domid "$1" | sed '/^$/d')
        test -n "$id" && test "$id" != - && test "$id" != "$2" && state_is "$1" running
}

test_expect_success 'reboot, shutdown' '
	id=$(v domid xpv | sed "/^$/d") &&
	run_client v1 v reboot xpv && eventually domid_changed xpv "$id" &&
	id=$(v domid xpv | sed "/^$/d") &&
	run_client x1 x reboot xpv && eventually domid_changed xpv "$id" &&
	test_cmp v1.out x1.out && test_cmp v1.rc x1.rc &&
	run_client v1 v shutdown xpv && eventually is_off xpv &&
	x start xpv >/dev/null && eventually state_is xpv running &&
	run_client x1 x shutdown xpv && eventually is_off xpv &&
	test_cmp v1.out x1.out && test_cmp v1.rc x1.rc
'

test_expect_success 'create (transient) and destroy, create --paused' '
	x undefine xhvm >/dev/null &&
	run_client v1 v create "$TEST_DIR/xhvm.xml" && run_client v2 v destroy xhvm && eventually is_gone xhvm &&
	run_client x1 x create "$TEST_DIR/xhvm.xml" && run_client x2 x destroy xhvm && eventually is_gone xhvm &&
	test_cmp v1.out x1.out && test_cmp v1.err x1.err && test_cmp v1.rc x1.rc &&
	test_cmp v2.out x2.out && test_cmp v2.err x2.err && test_cmp v2.rc x2.rc &&
	x create "$TEST_DIR/xhvm.xml" --paused >out && grep -q "^Domain .xhvm. created from " out &&
	same domstate --reason xhvm && state_is xhvm paused &&
	x destroy xhvm >/dev/null && eventually is_gone xhvm && x define "$TEST_DIR/xhvm.xml" >/dev/null
'

for args in "dominfo no-such-domain" "domstate 4242" "domname 00000000-0000-0000-0000-0000000000aa" \
        "domid 4242" "domstate xpv; start Domain-0" "destroy 0" "suspend xhvm" "save xhvm /tmp/never" \
        "undefine no-such" "dominfo xpv --bogus" "dominfo" "dominfo a b" "no-such-command" \
        "list --foo" "setmem xpv abc" "setmem xpv 1 --current --live" "setvcpus xpv 2 --maximum" \
        "vcpupin xpv 0 1-x" "freecell 9" "freecell --all 0" "define /nonexistent" \
        "attach-device xpv /nonexistent" "domxml-to-native xen-xm" "domxml-to-native xen-foo $TEST_DIR/xpv.xml" \
        "domblkstat xpv nodev" "domifstat xpv vif99.0" "setmaxmem xpv 1" "vcpucount xhvm" \
        "dominfo xpv; domstate xpv; no-such; domid xpv" "-q dominfo nope" "-q start Domain-0" \
        "domstats no-such" "list; list --all"; do
        case "$args" in
        *\;*) test_expect_success "same errors: '$args' (one command string)" "same '$args'" ;;
        *) test_expect_success "same errors: $args" "same $args" ;;
        esac
done

test_expect_success 'separate words are one command: a ; word is unexpected data, as in virsh' '
	same dominfo xpv \; domstate xpv && grep -q "^error: unexpected data .;.$" x.err
'

test_expect_success 'read-only connections refuse changes the same way' '
	run_client v1 virsh -r -c "$XENVIRT_URI_RO" define "$TEST_DIR/xpv.xml" &&
	run_client x1 "$XVSH" -r -c "$XENVIRT_URI_RO" define "$TEST_DIR/xpv.xml" &&
	normalize_ro v1.err >v1.ro && normalize_ro x1.err >x1.ro &&
	test_cmp v1.out x1.out && test_cmp v1.ro x1.ro && test_cmp v1.rc x1.rc &&
	grep -q "^error: operation forbidden: read only access prevents" x1.err &&
	run_client v1 virsh -r -c "$XENVIRT_URI_RO" suspend xpv &&
	run_client x1 "$XVSH" -r -c "$XENVIRT_URI_RO" suspend xpv &&
	normalize_ro v1.err >v1.ro && normalize_ro x1.err >x1.ro &&
	test_cmp v1.out x1.out && test_cmp v1.ro x1.ro && test_cmp v1.rc x1.rc &&
	run_client v1 virsh -r -c "$XENVIRT_URI_RO" list --all &&
	run_client x1 "$XVSH" -r -c "$XENVIRT_URI_RO" list --all &&
	test_cmp v1.out x1.out && test_cmp v1.rc x1.rc && test "$(cat x1.rc)" = 0
'

test_expect_success 'a connection failure with -c runs nothing, as in virsh' '
	bad="xen:///system?socket=$TEST_DIR/no-such-socket" &&
	run_client v1 virsh -c "$bad" "hostname; help domid" &&
	run_client x1 "$XVSH" -c "$bad" "hostname; help domid" &&
	test_cmp v1.out x1.out && test_cmp v1.rc x1.rc &&
	test "$(wc -l <x1.err)" = 2 &&
	sed -n 1p x1.err | grep -qx "error: failed to connect to the hypervisor" &&
	sed -n 2p x1.err | grep -q "^error: .*Failed to connect socket to .$TEST_DIR/no-such-socket.: No such file or directory$"
'

test_expect_success 'the default URI comes from XENVIRT_DEFAULT_URI' '
	XENVIRT_DEFAULT_URI=$XENVIRT_URI "$XVSH" hostname >h.out &&
	test "$(sed "/^$/d" h.out)" = "$(v hostname | sed "/^$/d")"
'

test_expect_success 'help: global, per command, help CMD and CMD --help' '
	"$XVSH" --help >help.out && grep -q "dominfo" help.out &&
	"$XVSH" help setmem >h1.out && "$XVSH" setmem --help >h2.out && test_cmp h1.out h2.out &&
	grep -q "^    setmem <domain> <size> \[--config\] \[--live\] \[--current\]$" h1.out &&
	grep -q "^    \[--domain\] <string>" h1.out &&
	test_must_fail "$XVSH" help no-such-cmd 2>err && grep -q "^error: command or command group" err
'

# Where xvsh has every option virsh has, the help is virsh's, word for word.
test_expect_success 'help text identical to virsh for commands with the same options' '
	for c in dominfo domstate domid domuuid domname suspend resume save managedsave setmem \
		nodeinfo capabilities hostname version autostart attach-device detach-device domifstat \
		domxml-from-native; do
		same help $c || break
	done && test "$c" = domxml-from-native &&
	same setmem --help && same dominfo --help
'

test_expect_success 'every command of the list has help (and thus a table row)' '
	for c in list dominfo domstate domid domuuid domname dumpxml define undefine start create \
		shutdown reboot destroy suspend resume save restore managedsave dump setmem setmaxmem \
		setvcpus vcpuinfo vcpupin vcpucount nodeinfo capabilities freecell hostname version \
		autostart attach-device detach-device update-device domblkstat domifstat schedinfo \
		domxml-from-native domxml-to-native event domstats; do
		"$XVSH" help $c >/dev/null || { echo "no help for $c"; echo FAIL; }
	done >help-all.out && ! grep -q FAIL help-all.out
'

test_expect_success 'interactive shell through a pty: prompt, commands, completion, history' '
	mkdir -p home && rm -f home/.xvsh_history &&
	if [ "$(id -u)" = 0 ]; then prompt="xvsh # "; else prompt="xvsh \$ "; fi &&
	"$TEST_PYTHON" - "$XVSH" "$XENVIRT_URI" "$TEST_DIR/home" "$prompt" >shell.out <<-\EOF &&
	import os, pty, select, sys, time
	xvsh, uri, home, prompt = sys.argv[1:5]
	prompt = prompt.encode()
	pid, fd = pty.fork()
	if pid == 0:
	    os.environ["HOME"] = home
	    os.execv(xvsh, [xvsh, "-c", uri])
	buf = b""
	def until(pat, timeout=20):
	    global buf
	    end = time.time() + timeout
	    while pat not in buf:
	        r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
	        if not r:
	            sys.exit("timeout waiting for %r, got %r" % (pat, buf))
	        buf += os.read(fd, 4096)
	    i = buf.index(pat) + len(pat)
	    out, buf = buf[:i], buf[i:]
	    sys.stdout.write(out.decode(errors="replace").replace("\r", "") + "\n")
	until(prompt)
	os.write(fd, b"domname 0\n")
	until(prompt)
	os.write(fd, b"dominfo xp\t\n")          # a domain name completes
	until(prompt)
	os.write(fd, b"list --al\t; hostn\t\n")  # an option and a command name complete
	until(prompt)
	os.write(fd, b"quit\n")
	_, status = os.waitpid(pid, 0)
	sys.exit(os.waitstatus_to_exitcode(status))
	EOF
	grep -q "^Welcome to xvsh" shell.out &&
	grep -q "^Domain-0$" shell.out &&
	grep -q "^Name: *xpv$" shell.out &&
	grep -qE "^ +-? *[0-9-]+ +xhvm +shut off$" shell.out &&
	grep -qx "$(v hostname | sed "/^$/d")" shell.out &&
	test -s home/.xvsh_history &&
	grep -q "domname.040\?0" home/.xvsh_history &&
	grep -q "dominfo.040\?xpv" home/.xvsh_history &&
	grep -q "list.040\?--all" home/.xvsh_history
'

cat > "$TEST_DIR/compl.sh" <<-\EOF
# Runs the completion function for "$@" (the words, the last one being completed).
. "$XV_TEST_SRCDIR/../client/cli/xvsh.bash-completion"
COMP_WORDS=(xvsh "$@")
COMP_CWORD=$#
_xvsh
echo "${COMPREPLY[*]}"
EOF

compl() {
        PATH=$XV_BUILDDIR/client/cli:$PATH bash "$TEST_DIR/compl.sh" "$@"
}

test_expect_success 'bash completion: commands, options, domain names' '
	test "$(compl domin)" = dominfo && test "$(compl domi)" = "dominfo domid domifstat" &&
	test "$(compl vcpu)" = "vcpuinfo vcpupin vcpucount" &&
	test "$(compl --js)" = --json &&
	test "$(compl setmem xpv --cu)" = --current &&
	test "$(compl -c "$XENVIRT_URI" dominfo xp)" = xpv &&
	test "$(compl --connect="$XENVIRT_URI" suspend xh)" = xhvm
'

# The roff source with its "\-" unescaped: every command of "xvsh help" has a ".B NAME ..."
# synopsis line and every option of "xvsh help NAME" a ".B --OPT" line.
test_expect_success 'the man page documents every command and its options' '
	sed "s/\\\\-/-/g" "$XV_TEST_SRCDIR/../client/cli/xvsh.1" >man.txt &&
	cmds=$("$XVSH" help | sed -n "s/^    \([a-z-]*\) .*/\1/p") && test -n "$cmds" &&
	for c in $cmds; do
		grep -qE "^\.B $c( |$)" man.txt || echo "no $c in the man page"
		for o in $("$XVSH" help $c | sed -n "s/^    \[\{0,1\}--\([a-z-]*\).*/\1/p"); do
			grep -qE "^\.B (\[)?--$o( |\]|$)" man.txt || echo "no --$o of $c in the man page"
		done
	done >man-missing.out &&
	test_cmp /dev/null man-missing.out
'

test_expect_success 'long operations print no progress when stderr is not a terminal' '
	x start xpv >/dev/null 2>&1; eventually state_is xpv running &&
	rm -f "$TEST_DIR/xpv.save" && x save xpv "$TEST_DIR/xpv.save" 2>save.err &&
	test ! -s save.err && x restore "$TEST_DIR/xpv.save" 2>restore.err && test ! -s restore.err
'

test_expect_success 'long operations show the elapsed time on a terminal' '
	eventually state_is xpv running && rm -f "$TEST_DIR/xpv.save" &&
	"$TEST_PYTHON" - "$XVSH" "$XENVIRT_URI" "$TEST_DIR/xpv.save" >pty.out <<-\EOF &&
	import os, pty, sys
	xvsh, uri, path = sys.argv[1:4]
	pid, fd = pty.fork()
	if pid == 0:
	    os.execv(xvsh, [xvsh, "-c", uri, "save", "xpv", path])
	out = b""
	while True:
	    try:
	        data = os.read(fd, 4096)
	    except OSError:
	        break
	    if not data:
	        break
	    out += data
	_, status = os.waitpid(pid, 0)
	sys.stdout.write(out.decode(errors="replace"))
	sys.exit(os.waitstatus_to_exitcode(status))
	EOF
	grep -q "Saving domain\.\.\. [0-9]*\.[0-9] s" pty.out &&
	grep -q "Domain .xpv. saved to " pty.out &&
	x restore "$TEST_DIR/xpv.save" >/dev/null && eventually state_is xpv running
'

test_done
