#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Hypercalls per lookup and getinfo (issue 12): xensim counts the hypercalls it serves by kind
# (xensim-ctl SOCKET hv stats [reset]; a getdomaininfolist of one domain, which is how a single
# domain is asked for, is counted apart from the lists of every domain).
#   - lookups of running domains by name, uuid and id answer from the watch-fed domain table:
#     0 hypercalls;
#   - getinfo/state/isActive of running domains are served from ONE shared hypervisor list,
#     refreshed at most once per XVB_INFO_MAX_AGE_USEC: never a per-domain hypercall, and never
#     more lists than the calls made;
#   - a listing of every domain (which needs XenD, so runs on a worker) lists the hypervisor
#     once, not once on the loop thread and again on the worker;
#   - a client sees its own change at once (the snapshot is dropped by every operation), another
#     tool's change shows after the bound, a domain created or destroyed behind xenvirtd's back is
#     found, and reported gone (VIR_ERR_NO_DOMAIN), as before.
# Nothing here is timed: the daemon's event loop also lists every domain on its own timer (every
# 2 s), so a count that such a tick may have joined is taken again, a bounded number of times.

. "$(dirname "$0")/lib.sh"

test_require_python_libvirt
sandbox_up

# py SCRIPT-ON-STDIN: python3-libvirt with the helpers of this script.
py() {
	{
		cat <<-\PY
		import libvirt, os, subprocess, sys, time
		libvirt.registerErrorHandler(lambda ctx, err: None, None)
		URI = os.environ["XENVIRT_URI"]
		def ctl(*a):
		    return subprocess.run([os.environ["XENSIM_CTL"], os.environ["XENSIM_CONTROL"]] + list(a),
		                          check=True, stdout=subprocess.PIPE, text=True).stdout
		def stats():
		    out = {}
		    for l in ctl("hv", "stats").splitlines():
		        k, v = l.split(" ", 1)
		        if k in ("total", "other"):
		            out[k] = int(v)
		        else:
		            out[v] = int(k)
		    return out
		def count(fn):
		    """Hypercalls made while fn() runs: (total, {kind: count}, seconds)."""
		    ctl("hv", "stats", "reset")
		    start = time.monotonic()
		    fn()
		    secs = time.monotonic() - start
		    s = stats()
		    s.pop("other")
		    return s.pop("total"), s, secs
		def count_until(fn, ok, attempts=5):
		    """count(fn) again while ok(result) fails (a timer tick of the event loop joined in)."""
		    for i in range(attempts):
		        res = count(fn)
		        if ok(res):
		            return res
		    return res
		def wait_for(pred, what, secs=20):
		    end = time.monotonic() + secs
		    while time.monotonic() < end:
		        if pred():
		            return
		        time.sleep(0.05)
		    raise AssertionError("timed out waiting for " + what)
		def running_names(c):
		    return sorted(d.name() for d in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
		                  if d.ID() > 0)
		PY
		cat
	} >"$TEST_DIR/step.py"
	"$TEST_PYTHON" "$TEST_DIR/step.py"
}

test_expect_success 'xensim counts hypercalls by kind, and resets' '
	py <<-\PY
	c = libvirt.open(URI)
	for i in range(1, 11):
	    ctl("domain", "create", "hc-%d" % i, "64")
	wait_for(lambda: len(running_names(c)) == 10, "10 running domains")
	n, d, _ = count(lambda: c.lookupByName("hc-1").info())
	assert n == sum(d.values()) and n >= 0, (n, d)
	ctl("hv", "stats", "reset")
	assert stats() == {"total": 0, "other": 0}, stats()
	n, d, _ = count(lambda: c.getInfo())
	assert n > 0 and "sysctl physinfo" in d, (n, d)
	PY
'

test_expect_success 'lookups of running domains by name, uuid and id: 0 hypercalls' '
	py <<-\PY
	c = libvirt.open(URI)
	doms = [c.lookupByName("hc-%d" % i) for i in range(1, 11)]
	uuids = [d.UUIDString() for d in doms]
	ids = [d.ID() for d in doms]
	def lookups():
	    for i in range(100):
	        k = i % 10
	        assert c.lookupByName("hc-%d" % (k + 1)).ID() == ids[k]
	        assert c.lookupByUUIDString(uuids[k]).name() == "hc-%d" % (k + 1)
	        assert c.lookupByID(ids[k]).UUIDString() == uuids[k]
	n, d, secs = count_until(lookups, lambda r: r[0] == 0)
	print("300 lookups:", n, d, "%.3fs" % secs)
	assert n == 0, d
	PY
'

test_expect_success 'getinfo, state, isActive of running domains: shared lists only, never one per call' '
	py <<-\PY
	c = libvirt.open(URI)
	doms = [c.lookupByName("hc-%d" % i) for i in range(1, 11)]
	def infos():
	    for i in range(100):
	        d = doms[i % 10]
	        assert d.info()[0] == libvirt.VIR_DOMAIN_RUNNING
	        assert d.state()[0] == libvirt.VIR_DOMAIN_RUNNING
	        assert d.isActive() == 1
	# A tick of the loop lists every domain too: one list at most per call is the bound here.
	n, d, secs = count_until(infos, lambda r: r[1].get("sysctl getdomaininfolist one", 0) == 0)
	print("300 calls:", n, d, "%.3fs" % secs)
	assert d.get("sysctl getdomaininfolist one", 0) == 0, d
	assert set(d) <= {"sysctl getdomaininfolist"}, d
	assert 1 <= n <= 300, d
	PY
'

test_expect_success 'list --all: one hypervisor list per listing, read on the worker only' '
	py <<-\PY
	c = libvirt.open(URI)
	# A listing of every domain needs XenD: the loop thread hands it to a worker before it
	# reads anything, so the hypervisor is listed once per listing and not twice.
	def listings():
	    for i in range(20):
	        assert len([d for d in c.listAllDomains(0) if d.name().startswith("hc-")]) == 10
	n, d, secs = count_until(listings, lambda r: r[1].get("sysctl getdomaininfolist", 0) == 20)
	print("20 listings:", n, d, "%.3fs" % secs)
	assert d.get("sysctl getdomaininfolist", 0) == 20, d
	assert d.get("sysctl getdomaininfolist one", 0) == 0, d
	PY
'

test_expect_success 'a client sees its own change at once; another tool'"'"'s after the bound' '
	py <<-\PY
	c = libvirt.open(URI)
	d = c.lookupByName("hc-3")
	for i in range(20):
	    d.info()
	    d.suspend()
	    assert d.info()[0] == libvirt.VIR_DOMAIN_PAUSED
	    assert d.state()[0] == libvirt.VIR_DOMAIN_PAUSED
	    d.resume()
	    assert d.info()[0] == libvirt.VIR_DOMAIN_RUNNING
	    mem = d.info()[2]
	    d.setMemory(mem - 1024)
	    assert d.info()[2] == mem - 1024, (d.info(), mem)
	    d.setMemory(mem)
	    assert d.info()[2] == mem
	# Paused in xensim, behind xenvirtd: shown once the snapshot is older than its bound.
	ctl("domain", "pause", "hc-3")
	wait_for(lambda: d.info()[0] == libvirt.VIR_DOMAIN_PAUSED, "the pause by another tool")
	ctl("domain", "unpause", "hc-3")
	wait_for(lambda: d.info()[0] == libvirt.VIR_DOMAIN_RUNNING, "the unpause by another tool")
	PY
'

test_expect_success 'domains created and destroyed behind xenvirtd: found, then gone' '
	py <<-\PY
	c = libvirt.open(URI)
	d = c.lookupByName("hc-1")
	d.info()                                # a fresh snapshot without hc-new
	ctl("domain", "create", "hc-new", "64")
	def found():
	    try:
	        return c.lookupByName("hc-new").info()[0] == libvirt.VIR_DOMAIN_RUNNING
	    except libvirt.libvirtError:
	        return False
	wait_for(found, "hc-new")
	new = c.lookupByName("hc-new")
	ctl("domain", "destroy", "hc-new")
	def gone():
	    try:
	        new.info()
	        return False
	    except libvirt.libvirtError as e:
	        assert e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN, e.get_error_message()
	        return True
	wait_for(gone, "hc-new reported gone")
	def lookup_gone():
	    try:
	        c.lookupByName("hc-new")
	        return False
	    except libvirt.libvirtError as e:
	        assert e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN, e.get_error_message()
	        return True
	wait_for(lookup_gone, "hc-new not found by name")
	assert d.info()[0] == libvirt.VIR_DOMAIN_RUNNING
	PY
'

# The libxl backend answers lookups from its xenstore name cache the same way.
"$SANDBOX" down "$sandbox_dir" > /dev/null 2>&1
rm -rf "$sandbox_dir"
if "$SANDBOX" up "$sandbox_dir" --backend libxl > "$TEST_DIR/sandbox-up.out" 2>&1; then
	set -a
	# shellcheck disable=SC1091
	. "$sandbox_dir/env"
	set +a
	test_expect_success 'libxl backend: lookups of running domains by name, uuid and id: 0 hypercalls' '
		py <<-\PY
		c = libvirt.open(URI)
		for i in range(1, 6):
		    ctl("domain", "create", "lx-%d" % i, "64")
		wait_for(lambda: len(running_names(c)) == 5, "5 running domains")
		doms = [c.lookupByName("lx-%d" % i) for i in range(1, 6)]
		uuids = [d.UUIDString() for d in doms]
		ids = [d.ID() for d in doms]
		def lookups():
		    for i in range(100):
		        k = i % 5
		        assert c.lookupByName("lx-%d" % (k + 1)).ID() == ids[k]
		        assert c.lookupByUUIDString(uuids[k]).name() == "lx-%d" % (k + 1)
		        assert c.lookupByID(ids[k]).UUIDString() == uuids[k]
		n, d, secs = count_until(lookups, lambda r: r[0] == 0)
		print("300 lookups:", n, d, "%.3fs" % secs)
		assert n == 0, d
		ctl("domain", "destroy", "lx-2")
		def gone():
		    try:
		        c.lookupByName("lx-2")
		        return False
		    except libvirt.libvirtError as e:
		        assert e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN, e.get_error_message()
		        return True
		wait_for(gone, "lx-2 not found by name")
		PY
	'
else
	test_diag_file "$TEST_DIR/sandbox-up.out"
	test_skip 'libxl backend: lookups of running domains by name, uuid and id: 0 hypercalls' \
		'the libxl sandbox did not come up'
fi

test_done
