#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Lifecycle events: a domain started and destroyed behind the daemon's back (xensim-ctl) reaches
# clients registered with 316 (as MESSAGE 318 carrying their callback id), clients registered
# the legacy way with 167 (as MESSAGE 107), and stock virsh event; deregistered clients and
# other domains' filters get nothing.

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
