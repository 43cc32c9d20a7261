#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The stock python3-libvirt against xenvirtd and xensim: open, listAllDomains, lookupByName/UUID/ID,
# info, state, XMLDesc, defineXML, create, shutdown, destroy, undefine, createXML, bulk statistics,
# and a lifecycle event callback (virEventRegisterDefaultImpl plus a thread running
# virEventRunDefaultImpl). Domains come from the seed examples; values are compared with xensim.

. "$(dirname "$0")/lib.sh"

test_require_python_libvirt
[ -d "$TEST_SEED_DIR" ] || skip_all "no seed examples in $TEST_SEED_DIR"
sandbox_up

# Seeds under their own names; the PV one has no <uuid>, the HVM one has one.
sed -e 's|<name>[^<]*</name>|<name>py-pv</name>|' "$TEST_SEED_DIR/pv-direct-kernel.xml" > "$TEST_DIR/py-pv.xml"
sed -e 's|<name>[^<]*</name>|<name>py-hvm</name>|' "$TEST_SEED_DIR/hvm-bios-boot.xml" > "$TEST_DIR/py-hvm.xml"
sed -e 's|<name>[^<]*</name>|<name>py-ev</name>|' "$TEST_SEED_DIR/pv-bootloader.xml" > "$TEST_DIR/py-ev.xml"

# Helpers shared by the python steps: the connection, xensim's view, and waiting.
cat > "$TEST_DIR/xvtest.py" <<'EOF'
import os, subprocess, time
import libvirt

URI = os.environ["XENVIRT_URI"]
DIR = os.environ["TEST_DIR"]

def sim(name):
    """xensim's row for a domain: [domid, name, runstate, state, memory_kib, vcpus, uuid]."""
    out = subprocess.run([os.environ["XENSIM_CTL"], os.environ["XENSIM_CONTROL"], "list"],
                         check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 7 and f[1] == name:
            return f
    return None

def eventually(pred, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()

def xml(name):
    with open(os.path.join(DIR, name + ".xml")) as f:
        return f.read()

def expect_no_domain(fn):
    try:
        fn()
    except libvirt.libvirtError as e:
        assert e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN, (e.get_error_code(), str(e))
        return
    raise AssertionError("lookup of a removed domain succeeded")
EOF
export TEST_DIR

py() {
        PYTHONPATH=$TEST_DIR "$TEST_PYTHON" -
}

test_expect_success 'open, listAllDomains shows Domain-0 running' '
	py <<-\EOF
	from xvtest import *
	c = libvirt.open(URI)
	doms = {d.name(): d for d in c.listAllDomains(0)}
	assert "Domain-0" in doms, list(doms)
	d0 = doms["Domain-0"]
	assert d0.ID() == 0 and d0.isActive() == 1, (d0.ID(), d0.isActive())
	assert d0.info()[0] == libvirt.VIR_DOMAIN_RUNNING, d0.info()
	c.close()
	EOF
'

test_expect_success 'defineXML of a seed without <uuid>: a UUID is assigned' '
	py <<-\EOF
	from xvtest import *
	c = libvirt.open(URI)
	d = c.defineXML(xml("py-pv"))
	assert d.name() == "py-pv"
	u = d.UUIDString()
	assert len(u) == 36 and u != "00000000-0000-0000-0000-000000000000", u
	assert c.lookupByName("py-pv").UUIDString() == u
	assert c.lookupByUUIDString(u).name() == "py-pv"
	assert d.isActive() == 0 and d.isPersistent() == 1
	state, maxmem, mem, nvcpu, cputime = d.info()
	assert state == libvirt.VIR_DOMAIN_SHUTOFF, state
	assert maxmem == 131072 and nvcpu == 1, d.info()
	assert d.state() == [libvirt.VIR_DOMAIN_SHUTOFF, d.state()[1]]
	x = d.XMLDesc(0)
	assert "<name>py-pv</name>" in x and ("<uuid>%s</uuid>" % u) in x, x
	assert d.ID() == -1
	c.close()
	EOF
'

test_expect_success 'listAllDomains filters active and inactive' '
	py <<-\EOF
	from xvtest import *
	c = libvirt.open(URI)
	inactive = [d.name() for d in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)]
	active = [d.name() for d in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)]
	assert "py-pv" in inactive and "py-pv" not in active, (inactive, active)
	assert "Domain-0" in active and "Domain-0" not in inactive, (inactive, active)
	assert c.numOfDefinedDomains() == len(inactive)
	assert sorted(c.listDefinedDomains()) == sorted(inactive)
	assert 0 in c.listDomainsID()
	c.close()
	EOF
'

test_expect_success 'create starts it: id, state and memory match xensim' '
	py <<-\EOF
	from xvtest import *
	c = libvirt.open(URI)
	d = c.lookupByName("py-pv")
	d.create()
	assert d.isActive() == 1
	assert eventually(lambda: (sim("py-pv") or [None] * 3)[2] == "running"), sim("py-pv")
	row = sim("py-pv")
	assert d.ID() == int(row[0]), (d.ID(), row)
	assert d.UUIDString() == row[6], (d.UUIDString(), row)
	state, maxmem, mem, nvcpu, cputime = d.info()
	assert state == libvirt.VIR_DOMAIN_RUNNING, state
	assert mem == int(row[4]) and nvcpu == int(row[5]), (d.info(), row)
	assert c.lookupByID(d.ID()).name() == "py-pv"
	c.close()
	EOF
'

test_expect_success 'getAllDomainStats: state, balloon, vcpu' '
	py <<-\EOF
	from xvtest import *
	c = libvirt.open(URI)
	d = c.lookupByName("py-pv")
	stats = dict((dom.name(), s) for dom, s in c.getAllDomainStats(0, 0))
	s = stats["py-pv"]
	assert s["state.state"] == libvirt.VIR_DOMAIN_RUNNING, s
	assert s["balloon.current"] == int(sim("py-pv")[4]), s
	assert s["vcpu.current"] == 1, s
	assert "cpu.time" in s, s
	one = c.domainListGetStats([d], libvirt.VIR_DOMAIN_STATS_STATE, 0)
	assert len(one) == 1 and one[0][0].name() == "py-pv", one
	assert set(one[0][1]) == {"state.state", "state.reason"}, one
	c.close()
	EOF
'

test_expect_success 'shutdown stops it' '
	py <<-\EOF
	from xvtest import *
	c = libvirt.open(URI)
	d = c.lookupByName("py-pv")
	d.shutdown()
	# The guest shuts down, then its on_poweroff action (destroy) reaps it: wait for both, since
	# Xen holds a shut-down domain (still active, with its id) until it is destroyed.
	assert eventually(lambda: d.info()[0] == libvirt.VIR_DOMAIN_SHUTOFF and d.isActive() == 0), \
		(d.info(), d.isActive())
	c.close()
	EOF
'

test_expect_success 'create again, destroy, undefine' '
	py <<-\EOF
	from xvtest import *
	c = libvirt.open(URI)
	d = c.lookupByName("py-pv")
	d.create()
	assert d.isActive() == 1
	d.destroy()
	assert d.info()[0] == libvirt.VIR_DOMAIN_SHUTOFF
	assert eventually(lambda: sim("py-pv") is None or sim("py-pv")[0] == "-1"), sim("py-pv")
	d.undefine()
	expect_no_domain(lambda: c.lookupByName("py-pv"))
	c.close()
	EOF
'

test_expect_success 'createXML makes a transient domain that vanishes on destroy' '
	py <<-\EOF
	from xvtest import *
	c = libvirt.open(URI)
	d = c.createXML(xml("py-hvm"), 0)
	assert d.name() == "py-hvm" and d.ID() > 0, (d.name(), d.ID())
	assert d.UUIDString() == "4dea22b3-1d52-d8f3-2516-782e98ab3fa0", d.UUIDString()
	assert d.isPersistent() == 0 and d.isActive() == 1
	assert eventually(lambda: (sim("py-hvm") or [None] * 3)[2] == "running"), sim("py-hvm")
	assert d.info()[2] == int(sim("py-hvm")[4])
	d.destroy()
	expect_no_domain(lambda: c.lookupByName("py-hvm"))
	c.close()
	EOF
'

test_expect_success 'a lifecycle event callback sees define, start, stop and undefine' '
	timeout 60 "$TEST_PYTHON" - <<-\EOF
	import sys, threading, time
	sys.path.insert(0, __import__("os").environ["TEST_DIR"])
	from xvtest import *
	libvirt.virEventRegisterDefaultImpl()
	def loop():
	    while True:
	        libvirt.virEventRunDefaultImpl()
	threading.Thread(target=loop, daemon=True).start()
	c = libvirt.open(URI)
	seen = []
	def cb(conn, dom, event, detail, opaque):
	    seen.append((dom.name(), event, detail))
	cid = c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, None)
	d = c.defineXML(xml("py-ev"))
	d.create()
	d.destroy()
	d.undefine()
	want = [
	    ("py-ev", libvirt.VIR_DOMAIN_EVENT_DEFINED, libvirt.VIR_DOMAIN_EVENT_DEFINED_ADDED),
	    ("py-ev", libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
	    ("py-ev", libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED),
	    ("py-ev", libvirt.VIR_DOMAIN_EVENT_UNDEFINED, libvirt.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED),
	]
	ok = eventually(lambda: all(w in seen for w in want), timeout=15)
	print("events seen:", seen)
	assert ok, seen
	mine = [e for e in seen if e[0] == "py-ev"]
	assert [mine.index(w) for w in want] == sorted(mine.index(w) for w in want), mine
	c.domainEventDeregisterAny(cid)
	c.close()
	EOF
'

test_done
