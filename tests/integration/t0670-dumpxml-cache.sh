#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# dumpxml's definition cache in the xend backend (issue 12: dumpxml >= 1.5x libvirtd). A warm
# dumpxml costs no XenD request; every value of the XML stays correct:
#  - a change made through xenvirtd shows in the very next dumpxml (no wait);
#  - a change made behind xenvirtd's back shows once the xenstore watch on /local/domain or /vm has
#    fired (a bounded wait): XenD requests that change memory or vcpus (xensim, like XenD, writes
#    them to xenstore), xenstore writes of the console tty and the VNC port, a domain stopped and
#    started by another tool (a new id);
#  - what leaves no trace in xenstore is fetched again after BACKEND_XML_RUNNING_MAX_AGE_USEC (2 s),
#    or the effective TTL of inactive domains when that is longer.
# XenD requests are counted by xensim (xensim-ctl SOCKET xend stats). Nothing here is timed: a
# count that an expired entry (on a very slow machine) turned from warm into cold is measured
# again, a bounded number of times; the waits are bounded (20 s, and 70 s for the maximum age).

. "$(dirname "$0")/lib.sh"

test_require_python_libvirt
command -v xenstore-write > /dev/null 2>&1 || skip_all "xenstore-write (Debian: xenstore-utils) is not installed"
sandbox_up

# py SCRIPT-ON-STDIN: python3-libvirt with the helpers of this script.
py() {
	{
		cat <<-\PY
		import http.client, libvirt, os, socket, subprocess, sys, time, urllib.parse
		import xml.etree.ElementTree as ET
		libvirt.registerErrorHandler(lambda ctx, err: None, None)
		URI = os.environ["XENVIRT_URI"]
		MAX_AGE = 2.0       # BACKEND_XML_RUNNING_MAX_AGE_USEC
		def ctl(*a):
		    return subprocess.run([os.environ["XENSIM_CTL"], os.environ["XENSIM_CONTROL"]] + list(a),
		                          check=True, stdout=subprocess.PIPE, text=True).stdout
		class UnixHTTP(http.client.HTTPConnection):
		    def connect(self):
		        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		        self.sock.connect(os.environ["XEND_SOCKET"])
		def xend(path, **args):
		    """A POST straight to XenD: a change made by another tool."""
		    h = UnixHTTP("localhost")
		    h.request("POST", path, urllib.parse.urlencode(args),
		              {"Content-Type": "application/x-www-form-urlencoded"})
		    r = h.getresponse()
		    body = r.read()
		    assert r.status in (200, 201, 202), (path, args, r.status, body)
		def xs_write(path, value):
		    subprocess.run(["xenstore-write", path, value], check=True)
		def count(fn):
		    """XenD requests made while fn() runs."""
		    ctl("xend", "stats", "reset")
		    fn()
		    for l in ctl("xend", "stats").splitlines():
		        k, v = l.split(" ", 1)
		        if k == "total":
		            return int(v)
		    raise AssertionError("no total in xend stats")
		def warm(fn, expect):
		    """fn's count right after a call that filled the cache; measured again (a bounded number
		    of times) when the entry may have expired in between (a slow machine), or when a burst
		    of xenstore events from an earlier step made the cache refuse the fill (it keeps only
		    XML_CACHE_DROPS_MAX drops to check a fill against). A broken cache fails every time."""
		    for attempt in range(5):
		        fn()
		        n = count(fn)
		        if n == expect:
		            return n
		        time.sleep(0.2)
		    return n
		def root(dom, flags=0):
		    return ET.fromstring(dom.XMLDesc(flags))
		def eventually(what, pred, timeout=20.0):
		    end = time.monotonic() + timeout
		    while True:
		        v = pred()
		        if v:
		            return v
		        if time.monotonic() > end:
		            raise AssertionError("not within %gs: %s" % (timeout, what))
		        time.sleep(0.05)
		def dom_xml(name, n, extra=""):
		    return ("<domain type='xen'><name>%s</name><uuid>6f1a2b3c-0000-4000-8000-%012x</uuid>"
		            "<memory>65536</memory><vcpu>2</vcpu><os><type>linux</type><kernel>/boot/vmlinuz</kernel></os>"
		            "<devices><disk type='file'><source file='/var/lib/xen/images/%s.img'/>"
		            "<target dev='xvda'/></disk>%s</devices></domain>" % (name, 0x67000 + n, name, extra))
		def mem(dom):
		    return int(root(dom).find("currentMemory").text)
		def vcpu_current(dom):
		    v = root(dom).find("vcpu")
		    return int(v.get("current", v.text))
		PY
		cat
	} >"$TEST_DIR/step.py"
	"$TEST_PYTHON" "$TEST_DIR/step.py"
}

test_expect_success 'setup: run-a started by xensim, def-a defined and vnc-a started through xenvirtd' '
	"$XENSIM_CTL" "$XENSIM_CONTROL" domain create run-a 64 2 &&
	py <<-\PY
	c = libvirt.open(URI)
	c.defineXML(dom_xml("def-a", 1))
	d = c.defineXML(dom_xml("vnc-a", 2, "<graphics type=\"vnc\" port=\"-1\" autoport=\"yes\"/>"))
	d.create()
	eventually("run-a listed", lambda: "run-a" in [x.name() for x in c.listAllDomains(0)])
	PY
'

test_expect_success 'xenvirtd watches /local/domain and /vm' '
	test "$("$XENSIM_CTL" "$XENSIM_CONTROL" xenstore watches /local/domain)" -ge 1 &&
	test "$("$XENSIM_CTL" "$XENSIM_CONTROL" xenstore watches /vm)" -ge 1
'

test_expect_success 'dumpxml of a running domain: cold 1 XenD request, warm 0, whatever the flags' '
	py <<-\PY
	c = libvirt.open(URI)
	d = c.lookupByName("run-a")
	d.setMemory(60 * 1024)          # a change through xenvirtd: the entry goes
	n = count(lambda: d.XMLDesc(0))
	assert n == 1, n
	n = warm(lambda: [d.XMLDesc(0), d.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE),
	                  d.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE)], 0)
	assert n == 0, n
	# The incarnation and the flags still show: the id is there, except with INACTIVE.
	assert root(d).get("id") == str(d.ID()), root(d).attrib
	assert root(d, libvirt.VIR_DOMAIN_XML_INACTIVE).get("id") is None
	PY
'

test_expect_success 'dumpxml of an inactive domain: warm 0 XenD requests' '
	py <<-\PY
	c = libvirt.open(URI)
	d = c.lookupByName("def-a")
	n = warm(lambda: d.XMLDesc(0), 0)
	assert n == 0, n
	assert root(d).get("id") is None
	PY
'

test_expect_success 'a change to ANOTHER domain leaves the entry of a running one' '
	py <<-\PY
	c = libvirt.open(URI)
	d, other = c.lookupByName("run-a"), c.lookupByName("def-a")
	for attempt in range(5):
	    d.XMLDesc(0)
	    other.setAutostart(0)
	    n = count(lambda: d.XMLDesc(0))
	    if n == 0:
	        break
	    time.sleep(0.2)             # expired in between, or a fill refused (see warm())
	assert n == 0, n
	PY
'

test_expect_success 'changes through xenvirtd show in the very next dumpxml' '
	py <<-\PY
	c = libvirt.open(URI)
	d = c.lookupByName("run-a")
	for kib in (40 * 1024, 56 * 1024):
	    d.XMLDesc(0)
	    d.setMemory(kib)
	    assert mem(d) == kib, (mem(d), kib)
	for n in (1, 2):
	    d.XMLDesc(0)
	    d.setVcpus(n)
	    assert vcpu_current(d) == n, (vcpu_current(d), n)
	i = c.lookupByName("def-a")
	i.XMLDesc(0)
	c.defineXML(dom_xml("def-a", 1).replace("<memory>65536</memory>", "<memory>32768</memory>"))
	assert int(root(i).find("memory").text) == 32768, i.XMLDesc(0)
	PY
'

test_expect_success 'XenD changes behind our back (memory, vcpus) show once the watch fired' '
	py <<-\PY
	c = libvirt.open(URI)
	d = c.lookupByName("run-a")
	d.XMLDesc(0)
	xend("/xend/domain/run-a", op="mem_target_set", target="44")
	eventually("currentMemory 44 MiB", lambda: mem(d) == 44 * 1024)
	xend("/xend/domain/run-a", op="set_vcpus", vcpus="1")
	eventually("1 vcpu", lambda: vcpu_current(d) == 1)
	xend("/xend/domain/run-a", op="set_vcpus", vcpus="2")
	eventually("2 vcpus", lambda: vcpu_current(d) == 2)
	PY
'

test_expect_success 'xenstore writes behind our back (console tty, VNC port) show once the watch fired' '
	py <<-\PY
	c = libvirt.open(URI)
	d = c.lookupByName("vnc-a")
	g = root(d).find("devices/graphics")
	assert g is not None and g.get("port") == str(5900 + d.ID()), d.XMLDesc(0)
	xs_write("/local/domain/%d/console/vnc-port" % d.ID(), "5977")
	eventually("VNC port 5977", lambda: root(d).find("devices/graphics").get("port") == "5977")
	xs_write("/local/domain/%d/console/tty" % d.ID(), "/dev/pts/77")
	eventually("tty /dev/pts/77", lambda: root(d).find("devices/console").get("tty") == "/dev/pts/77")
	PY
'

# Without the watch the maximum age would bring the change too: this step tells them apart. It
# fails only when the change does not show within 3/4 of the maximum age five times in a row.
test_expect_success 'the watch, not the maximum age, brings a xenstore change' '
	py <<-\PY
	c = libvirt.open(URI)
	d = c.lookupByName("vnc-a")
	for attempt in range(5):
	    tty = "/dev/pts/%d" % (80 + attempt)
	    d.setAutostart(0)           # through xenvirtd: the next dumpxml makes a fresh entry
	    start = time.monotonic()
	    d.XMLDesc(0)
	    xs_write("/local/domain/%d/console/tty" % d.ID(), tty)
	    while time.monotonic() - start < MAX_AGE * 0.75:
	        if root(d).find("devices/console").get("tty") == tty:
	            break
	        time.sleep(0.02)
	    else:
	        continue
	    break
	else:
	    raise AssertionError("a xenstore write never showed before the maximum age")
	PY
'

test_expect_success 'a domain stopped and started behind our back: the XML follows its id' '
	py <<-\PY
	c = libvirt.open(URI)
	d = c.lookupByName("vnc-a")
	old = d.ID()
	assert root(d).get("id") == str(old)
	ctl("domain", "destroy", "vnc-a")
	eventually("vnc-a inactive in its XML", lambda: root(c.lookupByName("vnc-a")).get("id") is None)
	xend("/xend/domain/vnc-a", op="start")
	def started():
	    d = c.lookupByName("vnc-a")
	    return d.ID() > old and root(d).get("id") == str(d.ID())
	eventually("vnc-a running again under a new id", started)
	PY
'

# The maximum age is MAX_AGE or, when longer, the effective TTL of inactive domains (a detailed
# listing slower than 40 ms: valgrind, a loaded machine), at most TTL_MAX: the step polls until
# the entry is fetched again instead of sleeping a guessed time.
test_expect_success 'an entry older than the maximum age is fetched again (changes XenD alone knows)' '
	py <<-\PY
	TTL_MAX = 60.0      # BACKEND_INACTIVE_TTL_MAX_USEC
	c = libvirt.open(URI)
	d = c.lookupByName("run-a")
	n = warm(lambda: d.XMLDesc(0), 0)
	assert n == 0, n
	start = time.monotonic()
	ctl("xend", "stats", "reset")
	fetched = False
	while not fetched and time.monotonic() - start < TTL_MAX + 10:
	    d.XMLDesc(0)
	    fetched = any(l.endswith("GET /xend/domain/run-a") for l in ctl("xend", "stats").splitlines())
	    time.sleep(0.1)
	age = time.monotonic() - start
	print("run-a fetched again after %.1f s" % age)
	assert fetched, "run-a was never fetched again"
	# Served from the cache until then: not before the maximum age (less the warm-up above).
	assert age >= MAX_AGE * 0.5, age
	PY
'

test_done
