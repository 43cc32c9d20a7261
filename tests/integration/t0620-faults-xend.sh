#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# XenD faults injected by xensim (issue 10): XenD down when the daemon starts (it serves anyway,
# says so, answers clear errors and recovers when XenD comes), XenD dying in the middle of a
# request, hanging (the request times out once, with a clear error, while other clients keep
# being served), and answering garbage, a 500 traceback or a body cut short. Each error is checked
# by code, domain and message through python3-libvirt.

. "$(dirname "$0")/lib.sh"

test_require_python_libvirt
sandbox_up

ctl() {
	"$XENSIM_CTL" "$XENSIM_CONTROL" "$@"
}

sim_stat() {
	ctl stats | awk -v k="$1" '$1 == k { print $2 }'
}

# Restarts xenvirtd the way tests/sandbox starts it, with NOTIFY_SOCKET=$1 when given.
restart_daemon() {
	local notify=${1:-} pid i
	pid=$(cat "$sandbox_dir/xenvirtd.pid")
	kill -TERM "$pid"
	for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && return 1
	rm -f "$sandbox_dir/xenvirtd.pid"
	NOTIFY_SOCKET=$notify "$XV_BUILDDIR/daemon/xenvirtd" --config "$sandbox_dir/xenvirtd.conf" \
		--rw-socket "$sandbox_dir/xenvirtd-sock" --ro-socket "$sandbox_dir/xenvirtd-sock-ro" \
		--pid-file "$sandbox_dir/xenvirtd.pid" --xend-socket "$XEND_SOCKET" \
		--xm-dir "$XENSIM_XM_DIR" --host-root "$XENSIM_ROOT" \
		</dev/null >>"$sandbox_dir/xenvirtd.log" 2>&1 &
	for i in $(seq 200); do
		[ -s "$sandbox_dir/xenvirtd.pid" ] && [ -S "$sandbox_dir/xenvirtd-sock" ] && return 0
		sleep 0.1
	done
	return 1
}

# py SCRIPT-ON-STDIN: python3-libvirt with helpers: conn(), expect_error(fn, code, domain, text).
py() {
	{
		cat <<-\PY
		import libvirt, os, sys, threading, time, subprocess
		libvirt.registerErrorHandler(lambda ctx, err: None, None)
		URI = os.environ["XENVIRT_URI"]
		XML = os.environ["DOM_XML"]
		def conn():
		    return libvirt.open(URI)
		def ctl(*a):
		    return subprocess.run([os.environ["XENSIM_CTL"], os.environ["XENSIM_CONTROL"]] + list(a),
		                          check=True, stdout=subprocess.PIPE, text=True).stdout
		def stat(k):
		    for l in ctl("stats").splitlines():
		        if l.split()[0] == k:
		            return int(l.split()[1])
		def expect_error(fn, code, domain, text):
		    try:
		        fn()
		    except libvirt.libvirtError as e:
		        print("error:", e.get_error_code(), e.get_error_domain(), e.get_error_message())
		        assert e.get_error_code() == code, (e.get_error_code(), code)
		        assert e.get_error_domain() == domain, (e.get_error_domain(), domain)
		        assert text in e.get_error_message(), (text, e.get_error_message())
		        return e
		    raise AssertionError("no error")
		PY
		cat
	} >"$TEST_DIR/step.py"
	"$TEST_PYTHON" "$TEST_DIR/step.py"
}

DOM_XML="<domain type='xen'><name>fx1</name><uuid>6f1a2b3c-0000-4000-8000-00000000f001</uuid>
<memory>65536</memory><vcpu>1</vcpu><os><type>linux</type><kernel>/boot/vmlinuz</kernel></os>
<devices><disk type='file'><source file='/var/lib/xen/images/fx1.img'/><target dev='xvda'/></disk></devices></domain>"
export DOM_XML

test_expect_success 'XenD down at start: the daemon comes up and reports XenD down' '
	ctl xend absent on &&
	"$TEST_PYTHON" - "$TEST_DIR/notify" >"$TEST_DIR/notify.log" 2>&1 <<-\PY &
	import socket, sys
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.bind(sys.argv[1])
	s.settimeout(30)
	while True:
	    data = s.recv(4096).decode()
	    print(data.replace("\n", " | "), flush=True)
	    if "STATUS=" in data:
	        break
	PY
	nl=$! &&
	for i in $(seq 400); do [ -S "$TEST_DIR/notify" ] && break; sleep 0.05; done &&
	restart_daemon "$TEST_DIR/notify" &&
	wait $nl && cat "$TEST_DIR/notify.log" &&
	grep -q "STATUS=Serving; backend xend; xend down" "$TEST_DIR/notify.log" &&
	grep -q "XenD is not reachable" "$sandbox_dir/xenvirtd.log" &&
	grep -qF "(xend-unix-server yes) in /etc/xen/xend-config.sxp" "$sandbox_dir/xenvirtd.log"
'

test_expect_success 'XenD down: clear errors for what needs it, the rest is served' '
	py <<-\PY
	c = conn()
	d0 = c.lookupByName("Domain-0")
	assert d0.info()[0] == libvirt.VIR_DOMAIN_RUNNING
	assert 0 in c.listDomainsID()
	expect_error(lambda: c.listAllDomains(0), libvirt.VIR_ERR_OPERATION_FAILED, libvirt.VIR_FROM_XEND,
	             "Failed to connect to XenD at")
	expect_error(lambda: c.defineXML(XML), libvirt.VIR_ERR_OPERATION_FAILED, libvirt.VIR_FROM_XEND,
	             "XenD is not available")
	PY
'

test_expect_success 'XenD back: the same connection recovers without a restart' '
	ctl xend absent off &&
	py <<-\PY
	c = conn()
	for i in range(100):
	    try:
	        c.listAllDomains(0)
	        break
	    except libvirt.libvirtError:
	        time.sleep(0.1)
	d = c.defineXML(XML)
	assert d.name() == "fx1"
	assert "fx1" in [x.name() for x in c.listAllDomains(0)]
	PY
'

# The listener keeps every message; SIGHUP is repeated (bounded) until a STATUS line arrived, so
# that a signal sent before the listener was ready cannot make the step fail by itself.
test_expect_success 'after recovery, SIGHUP reports XenD up' '
	rm -f "$TEST_DIR/notify" &&
	"$TEST_PYTHON" - "$TEST_DIR/notify" >"$TEST_DIR/notify.log" 2>&1 <<-\PY &
	import socket, sys
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.bind(sys.argv[1])
	s.settimeout(60)
	while True:
	    data = s.recv(4096).decode()
	    print(data.replace("\n", " | "), flush=True)
	    if "STATUS=" in data:
	        break
	PY
	nl=$! &&
	for i in $(seq 400); do [ -S "$TEST_DIR/notify" ] && break; sleep 0.05; done &&
	for i in $(seq 30); do
		kill -HUP "$(cat "$sandbox_dir/xenvirtd.pid")" &&
		for j in $(seq 20); do grep -q "STATUS=" "$TEST_DIR/notify.log" && break 2; sleep 0.1; done
	done &&
	wait $nl &&
	cat "$TEST_DIR/notify.log" &&
	grep -q "STATUS=Serving; backend xend; xend up (config version 4)" "$TEST_DIR/notify.log"
'

test_expect_success 'XenD dying mid-request: a clear error, and the next request works' '
	py <<-\PY
	c = conn()
	ctl("xend", "delay", "5000")
	before = stat("xend_requests")
	res = {}
	def define():
	    res["e"] = expect_error(lambda: conn().defineXML(XML), libvirt.VIR_ERR_HTTP_ERROR,
	                            libvirt.VIR_FROM_XEND, "XenD closed the connection")
	t = threading.Thread(target=define)
	t.start()
	for i in range(200):
	    if stat("xend_requests") > before:
	        break
	    time.sleep(0.05)
	assert stat("xend_requests") > before
	ctl("xend", "absent", "on")     # closes every XenD connection, the pending one too
	t.join(60)
	assert not t.is_alive() and "e" in res
	ctl("xend", "delay", "0")
	ctl("xend", "absent", "off")
	ctl("xend", "drop", "on")
	expect_error(lambda: c.listAllDomains(0), libvirt.VIR_ERR_HTTP_ERROR, libvirt.VIR_FROM_XEND,
	             "XenD closed the connection without replying")
	ctl("xend", "drop", "off")
	assert "fx1" in [x.name() for x in c.listAllDomains(0)]
	PY
'

test_expect_success 'XenD hanging: one timeout with a clear error, other clients served meanwhile' '
	py <<-\PY
	ctl("xend", "delay", "45000")
	before = stat("xend_requests")
	res = {}
	def define():
	    res["e"] = expect_error(lambda: conn().defineXML(XML.replace("fx1", "fx2").replace("f001", "f002")),
	                            libvirt.VIR_ERR_OPERATION_TIMEOUT, libvirt.VIR_FROM_XEND,
	                            "Timed out after 30000 ms waiting for a reply from XenD")
	t = threading.Thread(target=define)
	t.start()
	for i in range(200):
	    if stat("xend_requests") > before:
	        break
	    time.sleep(0.05)
	# While the define waits for XenD, calls that do not need XenD are answered.
	others = [conn() for i in range(4)]
	for i in range(25):
	    for o in others:
	        assert o.lookupByName("Domain-0").info()[0] == libvirt.VIR_DOMAIN_RUNNING
	        assert 0 in o.listDomainsID()
	        o.getInfo()
	assert t.is_alive(), "the define did not wait for XenD"
	t.join(120)
	assert not t.is_alive() and "e" in res
	# One request timed out: the define gave up instead of asking the hung XenD again.
	assert stat("xend_requests") == before + 1, (stat("xend_requests"), before)
	ctl("xend", "delay", "0")
	assert "fx1" in [x.name() for x in conn().listAllDomains(0)]
	PY
'

test_expect_success 'XenD answering garbage, a 500 traceback or a cut body: clear errors' '
	py <<-\PY
	c = conn()
	ctl("xend", "garbage", "on")
	expect_error(lambda: c.listAllDomains(0), libvirt.VIR_ERR_HTTP_ERROR, libvirt.VIR_FROM_XEND,
	             "Malformed status line in reply from XenD")
	expect_error(lambda: c.defineXML(XML), libvirt.VIR_ERR_HTTP_ERROR, libvirt.VIR_FROM_XEND,
	             "Malformed status line in reply from XenD")
	ctl("xend", "garbage", "off")
	ctl("xend", "error500", "on")
	expect_error(lambda: c.listAllDomains(0), libvirt.VIR_ERR_OPERATION_FAILED, libvirt.VIR_FROM_XEND,
	             "XenD failed GET /xend/domain with status 500: XendError: xensim: injected failure (error500)")
	ctl("xend", "error500", "off")
	ctl("xend", "partial", "on")
	expect_error(lambda: c.listAllDomains(0), libvirt.VIR_ERR_HTTP_ERROR, libvirt.VIR_FROM_XEND,
	             "XenD closed the connection after")
	expect_error(lambda: c.lookupByName("fx1").XMLDesc(0), libvirt.VIR_ERR_HTTP_ERROR,
	             libvirt.VIR_FROM_XEND, "XenD closed the connection after")
	ctl("xend", "partial", "off")
	assert "fx1" in [x.name() for x in c.listAllDomains(0)]
	assert "<name>fx1</name>" in c.lookupByName("fx1").XMLDesc(0)
	PY
'

test_expect_success 'xend_timeout = 2: a hung request fails after 2000 ms, naming it' '
	printf "\nxend_timeout = 2\n" >> "$sandbox_dir/xenvirtd.conf" &&
	restart_daemon &&
	py <<-\PY
	ctl("xend", "delay", "45000")
	before = stat("xend_requests")
	expect_error(lambda: conn().defineXML(XML.replace("fx1", "fx3").replace("f001", "f003")),
	             libvirt.VIR_ERR_OPERATION_TIMEOUT, libvirt.VIR_FROM_XEND,
	             "Timed out after 2000 ms waiting for a reply from XenD")
	assert stat("xend_requests") == before + 1, (stat("xend_requests"), before)
	ctl("xend", "delay", "0")
	assert "fx1" in [x.name() for x in conn().listAllDomains(0)]
	PY
'

test_expect_success 'the daemon survived every fault' '
	kill -0 "$(cat "$sandbox_dir/xenvirtd.pid")" &&
	py <<-\PY
	c = conn()
	c.lookupByName("fx1").undefine()
	assert "fx1" not in [x.name() for x in c.listAllDomains(0)]
	PY
'

test_done
