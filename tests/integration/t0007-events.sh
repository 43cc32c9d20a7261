#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Lifecycle events: a domain started and destroyed behind the daemon's back (xensim-ctl) reaches
# clients registered with 316 (as MESSAGE 318 carrying their callback id), clients registered
# the legacy way with 167 or with the oldest pair 105/106 (as MESSAGE 107), stock virsh event and
# python3-libvirt's old-style domainEventRegister; deregistered clients and other domains' filters
# get nothing.

. "$(dirname "$0")/lib.sh"

sandbox_up

test_expect_success 'registration: 316 ids, unsupported ids refused, 317 of an unknown id refused' '
	"$TEST_PYTHON" - "$XV_TEST_SRCDIR/integration" "$sandbox_dir/xenvirtd-sock" <<-\PY
	import sys, struct
	sys.path.insert(0, sys.argv[1])
	from xvd_raw import *
	c = Conn(sys.argv[2])
	c.handshake()
	r = c.call(EVENT_CALLBACK_REGISTER_ANY, struct.pack(">iI", 0, 0))
	assert r[5] == OK, error_of(r)
	a = struct.unpack(">i", r[6])[0]
	r = c.call(EVENT_CALLBACK_REGISTER_ANY, struct.pack(">iI", 0, 0))
	b = struct.unpack(">i", r[6])[0]
	assert b != a
	r = c.call(EVENT_CALLBACK_REGISTER_ANY, struct.pack(">iI", 5, 0))
	assert error_of(r)[0] == 8, error_of(r)
	assert c.call(EVENT_CALLBACK_DEREGISTER_ANY, struct.pack(">i", a))[5] == OK
	assert error_of(c.call(EVENT_CALLBACK_DEREGISTER_ANY, struct.pack(">i", a)))[0] == 8
	assert c.call(167, struct.pack(">i", 0))[5] == OK
	assert error_of(c.call(167, struct.pack(">i", 0))) is not None
	assert c.call(168, struct.pack(">i", 0))[5] == OK
	PY
'

test_expect_success 'a started and destroyed domain reaches 316 and 167 registrations' '
	"$TEST_PYTHON" - "$XV_TEST_SRCDIR/integration" "$sandbox_dir/xenvirtd-sock" "$XENSIM_CTL" "$XENSIM_CONTROL" <<-\PY
	import sys, struct, subprocess, time
	sys.path.insert(0, sys.argv[1])
	from xvd_raw import *
	def ctl(*a):
	    subprocess.run([sys.argv[3], sys.argv[4]] + list(a), check=True, stdout=subprocess.DEVNULL)
	new = Conn(sys.argv[2]); new.handshake()
	r = new.call(EVENT_CALLBACK_REGISTER_ANY, struct.pack(">iI", 0, 0))
	cb = struct.unpack(">i", r[6])[0]
	old = Conn(sys.argv[2]); old.handshake()
	assert old.call(167, struct.pack(">i", 0))[5] == OK
	quiet = Conn(sys.argv[2]); quiet.handshake()
	ctl("domain", "create", "evt1")
	time.sleep(0.5)
	ctl("domain", "destroy", "evt1")
	def collect(conn, proc, want):
	    got = []
	    end = time.time() + 10
	    conn.s.settimeout(1)
	    while time.time() < end and len(got) < want:
	        try:
	            f = conn.recv_frame()
	        except Exception:
	            continue
	        if f[3] == MESSAGE and f[2] == proc:
	            got.append(f)
	    return got
	ev = collect(new, EVENT_CALLBACK_LIFECYCLE, 2)
	pairs = []
	for f in ev:
	    p = f[6]
	    cbid = struct.unpack_from(">i", p, 0)[0]
	    assert cbid == cb, (cbid, cb)
	    name, off = decode_string(p, 4)
	    assert name == "evt1", name
	    off += 16 + 4
	    pairs.append(struct.unpack_from(">ii", p, off))
	assert (2, 0) in pairs and any(e == 5 for e, d in pairs), pairs
	legacy = collect(old, 107, 2)
	assert len(legacy) >= 2, legacy
	assert decode_string(legacy[0][6], 0)[0] == "evt1"
	quiet.s.settimeout(0.5)
	try:
	    f = quiet.recv_frame()
	    assert False, "unregistered client got %r" % (f,)
	except socket.timeout:
	    pass
	PY
'

test_expect_success 'registration: 105/106 answer cb_registered, share 167 state, refuse doubles' '
	"$TEST_PYTHON" - "$XV_TEST_SRCDIR/integration" "$sandbox_dir/xenvirtd-sock" <<-\PY
	import sys, struct
	sys.path.insert(0, sys.argv[1])
	from xvd_raw import *
	c = Conn(sys.argv[2])
	c.handshake()
	# 106 before any registration: libvirtd answers VIR_ERR_INTERNAL_ERROR (1).
	e = error_of(c.call(106))
	assert e is not None and e[0] == 1 and "not registered" in e[2], e
	r = c.call(105)
	assert r[5] == OK, error_of(r)
	assert struct.unpack(">i", r[6]) == (1,), r[6]
	e = error_of(c.call(105))
	assert e is not None and "already registered" in e[2], e
	# libvirtd keeps one legacy lifecycle registration per connection: 167 for event 0 is the same.
	assert error_of(c.call(167, struct.pack(">i", 0))) is not None
	r = c.call(106)
	assert r[5] == OK, error_of(r)
	assert struct.unpack(">i", r[6]) == (1,), r[6]
	assert error_of(c.call(106))[0] == 1
	assert c.call(167, struct.pack(">i", 0))[5] == OK
	assert c.call(106)[5] == OK
	assert error_of(c.call(168, struct.pack(">i", 0))) is not None
	# A read-only connection may register too (virsh event works read-only).
	ro = Conn(sys.argv[2])
	ro.handshake(read_only=True)
	assert ro.call(105)[5] == OK
	assert ro.call(106)[5] == OK
	PY
'

test_expect_success 'a 105 registration gets MESSAGE 107 until 106' '
	"$TEST_PYTHON" - "$XV_TEST_SRCDIR/integration" "$sandbox_dir/xenvirtd-sock" "$XENSIM_CTL" "$XENSIM_CONTROL" <<-\PY
	import sys, struct, subprocess, time
	sys.path.insert(0, sys.argv[1])
	from xvd_raw import *
	def ctl(*a):
	    subprocess.run([sys.argv[3], sys.argv[4]] + list(a), check=True, stdout=subprocess.DEVNULL)
	def collect(conn, want, timeout):
	    got = [f for f in conn.messages if f[2] == 107]
	    conn.messages = []
	    end = time.time() + timeout
	    conn.s.settimeout(0.5)
	    while time.time() < end and len(got) < want:
	        try:
	            f = conn.recv_frame()
	        except socket.timeout:
	            continue
	        if f[3] == MESSAGE and f[2] == 107:
	            got.append(f)
	    return got
	old = Conn(sys.argv[2]); old.handshake()
	assert old.call(105)[5] == OK
	ctl("domain", "create", "evt105")
	ev = collect(old, 1, 10)
	assert ev, "no MESSAGE 107 after 105"
	name, off = decode_string(ev[0][6], 0)
	assert name == "evt105", name
	off += 16 + 4
	assert struct.unpack_from(">ii", ev[0][6], off) == (2, 0), struct.unpack_from(">ii", ev[0][6], off)
	collect(old, 99, 1)
	old.s.settimeout(None)
	assert old.call(106)[5] == OK
	ctl("domain", "destroy", "evt105")
	ctl("domain", "create", "evt105b")
	late = collect(old, 1, 3)
	assert not late, "MESSAGE 107 after 106: %r" % (late,)
	ctl("domain", "destroy", "evt105b")
	PY
'

if "$TEST_PYTHON" -c 'import libvirt' >/dev/null 2>&1; then
	test_expect_success 'python3-libvirt domainEventRegister (old style) sees a domain start' '
		timeout 60 "$TEST_PYTHON" - "$XENSIM_CTL" "$XENSIM_CONTROL" <<-\PY
		import os, sys, subprocess, threading, time
		import libvirt
		libvirt.virEventRegisterDefaultImpl()
		def loop():
		    while True:
		        libvirt.virEventRunDefaultImpl()
		threading.Thread(target=loop, daemon=True).start()
		c = libvirt.open(os.environ["XENVIRT_URI"])
		seen = []
		def cb(conn, dom, event, detail, opaque):
		    seen.append((dom.name(), event, detail, opaque))
		c.domainEventRegister(cb, "tag")
		subprocess.run([sys.argv[1], sys.argv[2], "domain", "create", "evtpy"], check=True,
		               stdout=subprocess.DEVNULL)
		want = ("evtpy", libvirt.VIR_DOMAIN_EVENT_STARTED, 0, "tag")
		end = time.time() + 15
		while time.time() < end and want not in seen:
		    time.sleep(0.1)
		print("events seen:", seen)
		assert want in seen, seen
		c.domainEventDeregister(cb)
		n = len(seen)
		subprocess.run([sys.argv[1], sys.argv[2], "domain", "destroy", "evtpy"], check=True,
		               stdout=subprocess.DEVNULL)
		time.sleep(2)
		assert len(seen) == n, seen[n:]
		c.close()
		PY
	'
fi

if command -v virsh >/dev/null 2>&1; then
	test_expect_success 'virsh event --all sees a domain start' '
		(timeout 30 virsh -c "$XENVIRT_URI" event --all --loop --timeout 15 >events.out 2>&1 &) &&
		for i in $(seq 12); do
			sleep 1
			"$XENSIM_CTL" "$XENSIM_CONTROL" domain create "evt2-$i" >/dev/null &&
			grep -q "event .lifecycle. for domain .evt2-[0-9]*.: Started" events.out && break
		done
		cat events.out &&
		grep -q "event .lifecycle. for domain .evt2-[0-9]*.: Started" events.out
	'
fi

test_done
