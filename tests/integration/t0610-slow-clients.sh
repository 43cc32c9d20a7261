#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Slow and stuck clients (issue 10, "Faults"): clients that send half a frame and stall, a client
# that sends calls but never reads its replies or events, and a storm of connections past
# max_clients. Each time the daemon's memory stays bounded (VmRSS, and VmSize for buffers
# reserved but not touched), the offending clients are dropped, a well-behaved client in a
# background thread (lookups + getinfo, every reply checked) is served throughout, and the
# daemon's fds come back to their baseline.
#
# Configuration: keepalive every second, 2 unanswered pings drop a client (so that a stalled
# client that asked for keepalive is dropped within seconds); max_clients = 24. Memory bounds
# are larger in sanitizer builds (MEM_FACTOR, MEM_SLACK_KIB).

. "$(dirname "$0")/lib.sh"

# Sanitizer builds: freed memory waits in ASan's quarantine (256 MiB by default) and every
# allocation carries redzones and shadow memory. A small quarantine keeps RSS meaningful (the
# later quarantine_size_mb wins over one CI may set); the memory bounds below double, plus
# MEM_SLACK_KIB for the quarantine itself (filled by any churn, the good client's included) and
# the allocator's caches.
MEM_FACTOR=1
MEM_SLACK_KIB=0
if nm -D "$XV_BUILDDIR/daemon/xenvirtd" 2>/dev/null | grep -q " U __asan_init"; then
        export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"
        MEM_FACTOR=2
        MEM_SLACK_KIB=32768
fi
# Under valgrind (make check-valgrind runs the daemon through XV_SANDBOX_WRAPPER), memcheck's
# shadow memory and its allocator's redzones count in the daemon's RSS too: the same allowance.
case "${XV_SANDBOX_WRAPPER:-}" in
*valgrind*)
        MEM_FACTOR=2
        MEM_SLACK_KIB=32768
        ;;
esac

# VmSize is to count the buffers the daemon reserves, not glibc's per-thread malloc arenas (64 MiB
# of address space each, created whenever a worker first allocates): one arena for the daemon.
export MALLOC_ARENA_MAX=1

MAX_CLIENTS=24
mkdir -p "$TEST_DIR/sb"
printf "keepalive_interval = 1\nkeepalive_count = 2\nmax_clients = %d\n" $MAX_CLIENTS >"$TEST_DIR/sb/xenvirtd.conf"
sandbox_up
RW=$sandbox_dir/xenvirtd-sock

daemon_fds() {
        local f
        for f in /proc/$XENVIRTD_PID/fd/*; do
                echo "${f##*/} $(readlink "$f")"
        done
}

# Waits (20 s) until the daemon holds no more fds than listed in file $1; shows the difference.
fds_back_to() {
        local i
        for i in $(seq 200); do
                daemon_fds > "$TEST_DIR/fds.now"
                [ "$(wc -l < "$TEST_DIR/fds.now")" -le "$(wc -l < "$1")" ] && return 0
                sleep 0.1
        done
        echo "fds not back to baseline:"
        diff "$1" "$TEST_DIR/fds.now"
        return 1
}

# slow: runs python on stdin with xvd_raw, GOOD (a GoodClient on the rw socket, started before
# the case) and mem() (VmRSS, VmSize in KiB); GOOD must have progressed and be intact at the end,
# and the daemon's fds must come back to what they were before the case.
slow() {
        {
                cat <<-PYEOF
		import sys, os, socket, struct, time
		sys.path.insert(0, "$XV_TEST_SRCDIR/integration")
		from xvd_raw import *
		RW = "$RW"
		PID = $XENVIRTD_PID
		MAX_CLIENTS = $MAX_CLIENTS
		MEM_FACTOR = $MEM_FACTOR
		MEM_SLACK_KIB = $MEM_SLACK_KIB
		def mem():
		    st = proc_status(PID)
		    return int(st["VmRSS"]), int(st["VmSize"])
		def ask_keepalive(c):
		    r = c.call(SUPPORTS_FEATURE, struct.pack(">i", 10))
		    assert r[5] == OK and struct.unpack(">i", r[6])[0] == 1, r
		def wait_all_closed(conns, timeout):
		    end = time.time() + timeout
		    for c in conns:
		        assert wait_closed(c, max(0.1, end - time.time())), "a stuck client was not dropped"
		GOOD = GoodClient(RW)
		GOOD.progress()
		PYEOF
                cat
                echo 'GOOD.progress()'
                echo 'print("good client: %d rounds" % GOOD.stop())'
        } > "$TEST_DIR/case.py"
        daemon_fds > "$TEST_DIR/fds.before"
        "$TEST_PYTHON" "$TEST_DIR/case.py" || return 1
        kill -0 "$XENVIRTD_PID" || { echo "xenvirtd died"; return 1; }
        fds_back_to "$TEST_DIR/fds.before"
}

# Half frames: 20 clients (below max_clients) each announce a maximal frame (32 MiB) and send
# 256 KiB of it, then stall. What they cost is what they sent, plus the reader's doubling: at most
# 2 x 20 x 256 KiB = 10 MiB of RSS (+ 4 MiB slack); reserving the announced size up front would be
# 20 x 32 MiB = 640 MiB of address space, so VmSize may grow by 160 MiB at most (the 10 MiB plus
# malloc arenas and slack).
# The clients asked for keepalive and do not answer pings: all are dropped within seconds.
test_expect_success 'half a frame, then a stall: bounded memory, dropped by keepalive, others served' '
slow <<-\PY
	rss0, vsz0 = mem()
	stalled = []
	for i in range(20):
	    c = Conn(RW)
	    ask_keepalive(c)
	    c.handshake()
	    c.send_raw(struct.pack(">I", 33554436) + struct.pack(">IIiIII", PROGRAM, 1, GET_TYPE, CALL, 9, OK)
	               + b"\0" * (256 * 1024 - 28))
	    stalled.append(c)
	GOOD.progress()
	time.sleep(0.5)
	rss1, vsz1 = mem()
	print("20 half frames: RSS %d -> %d KiB, VmSize %d -> %d KiB" % (rss0, rss1, vsz0, vsz1))
	assert rss1 - rss0 <= (10 * 1024 + 4096) * MEM_FACTOR + MEM_SLACK_KIB, "RSS grew by %d KiB" % (rss1 - rss0)
	assert vsz1 - vsz0 <= 160 * 1024 * MEM_FACTOR, "VmSize grew by %d KiB" % (vsz1 - vsz0)
	# A short stall (the length word alone, then a header half) from a client without keepalive:
	# it stays until it hangs up, costing nothing much; it is closed below.
	quiet = Conn(RW)
	quiet.send_raw(struct.pack(">I", 100) + b"\0" * 10)
	# Dropped by keepalive: 1 s interval x 2 pings, generously within 20 s.
	wait_all_closed(stalled, 20)
	GOOD.progress()
	quiet.close()
	for c in stalled:
	    c.close()
	PY
grep -q "did not answer 2 keepalive pings" "$sandbox_dir/xenvirtd.log"
'

# A client that sends calls and registers for events but never reads: its queue is bounded by
# CLIENT_QUEUE_MESSAGES_MAX (1024) frames and CLIENT_QUEUE_BYTES_MAX bytes; once past either it is
# dropped. The capabilities XML is the largest reply at hand (a few KiB): 1024 of them are a few
# MiB, so RSS may grow by 64 MiB at most (the byte bound itself is 2 x 32 MiB).
test_expect_success 'a client that never reads replies or events is dropped, memory bounded' '
slow <<-\PY
	rss0, vsz0 = mem()
	bad = Conn(RW)
	bad.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
	bad.handshake()
	r = bad.call(EVENT_CALLBACK_REGISTER_ANY, struct.pack(">iI", 0, 0))
	assert r[5] == OK, error_of(r)
	root = Conn(RW)
	root.handshake()
	dropped = False
	burst = b"".join(frame(7, i) for i in range(200))    # CONNECT_GET_CAPABILITIES
	try:
	    for i in range(100):
	        bad.send_raw(burst)
	        # Events for it as well: define and undefine a domain.
	        xml = "<domain type=\"xen\"><name>slow%d</name><memory>65536</memory><vcpu>1</vcpu><os><type>linux</type><kernel>/k</kernel></os></domain>" % i
	        r = root.call(DEFINE_XML, xdr_string(xml))
	        assert r[5] == OK, error_of(r)
	        name, uuid, dom_id, _ = decode_domain(r[6])
	        assert root.call(DOMAIN_UNDEFINE, xdr_domain(name, uuid, -1))[5] == OK
	        GOOD.progress()
	except (BrokenPipeError, ConnectionResetError):
	    dropped = True
	if not dropped:
	    assert wait_closed(bad, 20), "a client that never reads was not dropped"
	rss1, vsz1 = mem()
	print("never-reader: RSS %d -> %d KiB" % (rss0, rss1))
	assert rss1 - rss0 <= 64 * 1024 * MEM_FACTOR + MEM_SLACK_KIB, "RSS grew by %d KiB" % (rss1 - rss0)
	bad.close()
	root.close()
	PY
grep -q "does not read its replies" "$sandbox_dir/xenvirtd.log"
'

# max_clients (24, the good client being one of them): the connections past it get one answer,
# "too many active clients", and are closed; past max_clients + 16 they are closed at once.
test_expect_success 'a connection storm past max_clients: the extra clients are refused and dropped' '
slow <<-\PY
	rss0, vsz0 = mem()
	held = []
	for i in range(MAX_CLIENTS - 1):        # the good client holds one slot
	    c = Conn(RW)
	    c.handshake()
	    held.append(c)
	GOOD.progress()
	refused = []
	for i in range(40):
	    c = Conn(RW)
	    refused.append(c)
	n_answered = 0
	for c in refused:
	    try:
	        c.send_raw(frame(AUTH_LIST, 1))
	        r = c.recv_reply()
	        e = error_of(r)
	        assert e is not None and "too many active clients" in e[2], e
	        n_answered += 1
	    except (EOFError, ConnectionResetError, BrokenPipeError):
	        pass
	    assert wait_closed(c, 20), "a refused client was not closed"
	    GOOD.progress()
	print("%d of 40 extra clients got the refusal" % n_answered)
	assert n_answered >= 1
	for c in held:
	    assert c.get_type() == "Xen"
	rss1, vsz1 = mem()
	print("storm: RSS %d -> %d KiB" % (rss0, rss1))
	assert rss1 - rss0 <= 16 * 1024 * MEM_FACTOR + MEM_SLACK_KIB, "RSS grew by %d KiB" % (rss1 - rss0)
	for c in held + refused:
	    c.close()
	# Slots are free again: a new client is served.
	time.sleep(0.5)
	fresh = Conn(RW)
	fresh.handshake()
	assert fresh.get_type() == "Xen"
	fresh.close()
	PY
'

test_expect_success 'the daemon is alive and its log shows no crash' '
kill -0 "$XENVIRTD_PID" &&
! grep -E "AddressSanitizer|runtime error|Assertion|Aborted" "$sandbox_dir/xenvirtd.log"
'

test_done
