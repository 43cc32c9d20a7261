#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Protocol abuse against a live sandbox daemon (issue 10, "Hostile input"), with the raw client of
# tests/integration/xvd_raw.py: every procedure number 0..500 with empty, random and oversize
# payloads from an unprivileged client on the read-only socket; frame length words that lie;
# arrays of 10000 elements where the .x allows fewer; hostile XML (deep nesting, billion laughs,
# external entities) in define/create as root. Each case is refused with an error (or costs the
# offending client its connection, for framing lies), and a well-behaved client doing lookups and
# getinfo in a background thread, every reply checked, is served throughout each case. The
# daemon's RSS and fd count are checked around every case.

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

sandbox_up
RW=$sandbox_dir/xenvirtd-sock
RO=$sandbox_dir/xenvirtd-sock-ro
# The unprivileged client must reach the read-only socket (0666) through the test directories.
chmod 0755 "$TEST_DIR" "$sandbox_dir"

# RSS growth allowed over a case. A client costs at most its frame buffer (max_frame_size,
# 32 MiB by default, only while such a frame is being read) plus its output queue (bounded by
# CLIENT_QUEUE_BYTES_MAX); these cases send at most 4 MiB frames one at a time, and the XML
# parser must not amplify: 64 MiB is twice the largest legitimate buffer and far below what an
# entity expansion or an unbounded queue would take. (More under ASan, see MEM_FACTOR.)
RSS_GROWTH_MAX_KIB=$((65536 * MEM_FACTOR + MEM_SLACK_KIB))
export RSS_GROWTH_MAX_KIB

# The daemon's fds as "number target" lines, and its VmRSS in KiB (read as root: the unprivileged
# client cannot look into /proc/PID of a root process).
daemon_fds() {
        local f
        for f in /proc/$XENVIRTD_PID/fd/*; do
                echo "${f##*/} $(readlink "$f")"
        done
}
daemon_rss() {
        awk '/^VmRSS:/ { print $2 }' /proc/$XENVIRTD_PID/status
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

# raw [USER]: runs python on stdin with xvd_raw importable and GOOD, a GoodClient started before
# the case (on the rw socket as root, else on the ro socket); check_good() asserts that it made
# progress during the case and that every one of its replies was right. Around the case the
# daemon's RSS may grow by at most RSS_GROWTH_MAX_KIB, and its fds must come back to the
# baseline. Runs as USER when given.
raw() {
        local user=${1:-} rss0 rss1
        {
                cat <<-PYEOF
		import sys, os, socket, struct, time, random
		sys.path.insert(0, "$XV_TEST_SRCDIR/integration")
		from xvd_raw import *
		RW = "$RW"
		RO = "$RO"
		XFILE = "$XV_TEST_SRCDIR/../protocol/xenvirt_protocol.x"
		GOOD = GoodClient(RW if os.geteuid() == 0 else RO)
		GOOD.progress()
		def check_good():
		    GOOD.progress()
		    print("good client: %d rounds" % GOOD.stop())
		PYEOF
                cat
                echo 'check_good()'
                echo 'print("done")'
        } > "$TEST_DIR/case.py"
        chmod 0644 "$TEST_DIR/case.py"
        daemon_fds > "$TEST_DIR/fds.before"
        rss0=$(daemon_rss)
        if [ -n "$user" ]; then
                setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups -- \
                        "$TEST_PYTHON" "$TEST_DIR/case.py" || return 1
        else
                "$TEST_PYTHON" "$TEST_DIR/case.py" || return 1
        fi
        xenvirtd_alive || return 1
        rss1=$(daemon_rss)
        echo "daemon RSS $rss0 -> $rss1 KiB"
        [ $((rss1 - rss0)) -le $RSS_GROWTH_MAX_KIB ] || { echo "RSS grew by $((rss1 - rss0)) KiB"; return 1; }
        fds_back_to "$TEST_DIR/fds.before"
}

xenvirtd_alive() {
        kill -0 "$XENVIRTD_PID" || { echo "xenvirtd died"; tail -n 20 "$sandbox_dir/xenvirtd.log"; return 1; }
}

test_expect_success 'the unprivileged client really is unprivileged and on the ro socket' '
raw nobody <<-\PY
	assert os.geteuid() != 0 and os.getegid() != 0 and os.getgroups() == []
	c = Conn(RO)
	c.handshake()
	r = c.call(DEFINE_XML, xdr_string("<domain type=\"xen\"><name>x</name></domain>"))
	assert error_of(r)[0] == 29, error_of(r)       # read only access prevents ...
	PY
'

test_expect_success 'every procedure 0..500 with empty, random and oversize payloads (ro, uid nobody)' '
raw nobody <<-\PY
	procs = procedures(XFILE)
	rng = random.Random(600)
	big = random_bytes(rng, 1024 * 1024)
	counts = {"ok": 0, "error": 0}
	for opened in (False, True):
	    c = Conn(RO)
	    if opened:
	        c.handshake()
	    for proc in range(0, 501):
	        if proc in (CONNECT_OPEN, CONNECT_CLOSE):
	            continue        # they change the connection state under the loop
	        p = procs.get(proc)
	        for kind, payload in (("empty", b""), ("random", random_bytes(rng, rng.randrange(1, 512))),
	                              ("oversize", big)):
	            r = c.call(proc, payload)
	            assert r[2] == proc and r[3] == REPLY, (proc, kind, r[:6])
	            e = error_of(r)
	            if e is None:
	                # Only a read-only procedure may succeed here, and only after CONNECT_OPEN
	                # (or the few allowed before it), with arguments it could decode.
	                assert p is not None and p.readonly, (proc, kind, "succeeded")
	                counts["ok"] += 1
	            else:
	                assert e[0] in (1, 3, 8, 29, 38, 39, 42, 43, 55, 88), (proc, kind, e)
	                if p is None or p.message:
	                    assert e[0] == 3, (proc, kind, e)
	                elif not p.readonly:
	                    assert e[0] == 29 or (not opened and e[0] == 1), (proc, kind, e)
	                counts["error"] += 1
	            if proc % 50 == 0 and kind == "empty":
	                GOOD.progress()
	    assert c.get_type() == "Xen" if opened else True
	    c.close()
	print(counts)
	assert counts["error"] > 2000, counts
	PY
'

test_expect_success 'frame length lies cost only the liar its connection' '
raw nobody <<-\PY
	hdr = struct.pack(">IIiIII", PROGRAM, 1, GET_TYPE, CALL, 1, OK)
	# Longer than what is sent, then hang up (several times: no fd or buffer may stay behind).
	for n in (29, 1000, 65536, 4 * 1024 * 1024):
	    for i in range(5):
	        b = Conn(RO)
	        b.handshake()
	        b.send_raw(struct.pack(">I", n) + hdr + b"x" * 3)
	        b.close()
	    GOOD.progress()
	# Shorter than the header: the connection is dropped.
	for n in (0, 1, 4, 8, 27):
	    b = Conn(RO)
	    b.send_raw(struct.pack(">I", n) + hdr)
	    assert wait_closed(b), "length %d did not close the connection" % n
	    b.close()
	# Over the frame limit (32 MiB + 4), and the largest words: dropped before any allocation.
	for n in (33554437, 0x7fffffff, 0x80000000, 0xffffffff):
	    b = Conn(RO)
	    b.handshake()
	    b.send_raw(struct.pack(">I", n) + hdr)
	    assert wait_closed(b), "length %d did not close the connection" % n
	    b.close()
	    GOOD.progress()
	# A lying client keeps its connection only until it lies: pipelined good calls before the
	# lie are answered first.
	b = Conn(RO)
	b.handshake()
	b.send_raw(frame(GET_TYPE, 50) + frame(GET_TYPE, 51) + struct.pack(">I", 5) + b"\0")
	assert b.recv_reply()[4] == 50 and b.recv_reply()[4] == 51
	assert wait_closed(b)
	PY
'

test_expect_success '10000-element arrays where the .x allows fewer are refused (rw, root)' '
raw <<-\PY
	c = Conn(RW)
	c.handshake()
	dom = xdr_domain("Domain-0", b"\0" * 16, 0)
	param = xdr_string("weight") + xdr_int(1) + xdr_int(256)
	cases = [
	    # SET_SCHEDULER_PARAMETERS: params<16>.
	    (58, dom + xdr_uint(10000) + param * 10000),
	    # DOMAIN_PIN_VCPU: cpumap<2048> bytes.
	    (26, dom + xdr_uint(0) + xdr_opaque(b"\xff" * 10000)),
	    # DOMAIN_SEND_KEY: keycodes<16>.
	    (226, dom + xdr_uint(0) + xdr_uint(0) + xdr_uint(10000) + xdr_uint(30) * 10000 + xdr_uint(0)),
	    # NODE_GET_CELLS_FREE_MEMORY: maxcells over XVP_NODE_CELLS_MAX.
	    (101, xdr_int(0) + xdr_int(10000)),
	    # CONNECT_LIST_DOMAINS / LIST_DEFINED_DOMAINS: a maximum over XVP_DOMAIN_LIST_MAX.
	    (37, xdr_int(100000)),
	    (21, xdr_int(100000)),
	    # An array length word of 2^32-1 with nothing behind it.
	    (58, dom + xdr_uint(0xffffffff)),
	    (26, dom + xdr_uint(0) + xdr_uint(0xfffffff0)),
	]
	for proc, payload in cases:
	    r = c.call(proc, payload)
	    e = error_of(r)
	    assert e is not None, (proc, "accepted")
	    assert e[0] in (3, 8, 39), (proc, e)
	    GOOD.progress()
	# 10000 domains in bulk stats is within XVP_DOMAIN_LIST_MAX: answered, with an error or not.
	r = c.call(344, xdr_uint(10000) + dom * 10000 + xdr_uint(0) + xdr_uint(0))
	assert r[2] == 344 and r[3] == REPLY
	assert c.get_type() == "Xen"
	PY
'

# Hostile XML, as root on the rw socket: each define/create must fail with an XML error, read no
# file and not blow up. The secret file holds a marker that must never come back in a reply.
# Its access time tells whether anything read it (atime moves on the first read after a write,
# under relatime too); the test itself never reads it.
SECRET=$TEST_DIR/secret.txt
XV_SECRET_MARK="xenvirt-secret-$$-marker"
export XV_SECRET_MARK
echo "$XV_SECRET_MARK" > "$SECRET"
chmod 0644 "$SECRET"

test_expect_success 'deep nesting, billion laughs and external entities are refused without blowup' '
atime0=$(stat -c %x "$SECRET") &&
raw <<-PY &&
	SECRET = "$SECRET"
	MARK = os.environ["XV_SECRET_MARK"]
	laughs = "<!DOCTYPE domain [<!ENTITY a \"lollollollollollollollollollol\">" + "".join(
	    "<!ENTITY %s \"%s\">" % (chr(98 + i), ("&%s;" % chr(97 + i)) * 10) for i in range(9)) + "]>"
	docs = {
	    "deep": "<domain type=\"xen\"><name>deep</name>" + "<a>" * 200000 + "</a>" * 200000 + "</domain>",
	    "deep-open": "<domain type=\"xen\">" + "<x>" * 1000000,
	    "laughs": laughs + "<domain type=\"xen\"><name>&j;</name><memory>1</memory></domain>",
	    "laughs-attr": laughs + "<domain type=\"xen\" id=\"&j;\"><name>l</name></domain>",
	    "xxe": "<!DOCTYPE domain [<!ENTITY x SYSTEM \"file://%s\">]><domain type=\"xen\"><name>&x;</name></domain>" % SECRET,
	    "xxe-desc": "<!DOCTYPE domain [<!ENTITY x SYSTEM \"%s\">]><domain type=\"xen\"><name>xxe</name><description>&x;</description></domain>" % SECRET,
	    "xxe-param": "<!DOCTYPE domain [<!ENTITY %% p SYSTEM \"file://%s\"> %%p;]><domain type=\"xen\"><name>p</name></domain>" % SECRET,
	    "xinclude": "<domain type=\"xen\" xmlns:xi=\"http://www.w3.org/2001/XInclude\"><name>xi</name><xi:include href=\"%s\" parse=\"text\"/></domain>" % SECRET,
	    "dtd-remote": "<!DOCTYPE domain SYSTEM \"%s\"><domain type=\"xen\"><name>d</name></domain>" % SECRET,
	}
	c = Conn(RW)
	c.handshake()
	PID = int(os.environ["XENVIRTD_PID"])
	hwm0 = int(proc_status(PID)["VmHWM"])
	for name, xml in sorted(docs.items()):
	    for proc, payload in ((DEFINE_XML, xdr_string(xml)), (DOMAIN_CREATE_XML, xdr_string(xml) + xdr_uint(0)),
	                          (350, xdr_string(xml) + xdr_uint(0))):
	        t = time.time()
	        r = c.call(proc, payload)
	        e = error_of(r)
	        assert r[5] == ERROR, (name, proc, "accepted")
	        assert MARK not in repr(r[6]), (name, proc, "leaked the file")
	        assert time.time() - t < 10, (name, proc, "took %.1f s" % (time.time() - t))
	        assert e[0] in (27, 8), (name, proc, e)    # XML_ERROR / INVALID_ARG
	        GOOD.progress()
	hwm1 = int(proc_status(PID)["VmHWM"])
	print("VmHWM %d -> %d KiB" % (hwm0, hwm1))
	assert hwm1 - hwm0 <= 2 * int(os.environ["RSS_GROWTH_MAX_KIB"]), "peak RSS grew by %d KiB" % (hwm1 - hwm0)
	# Nothing was defined.
	r = c.call(DOMAIN_LOOKUP_BY_NAME, xdr_string("xxe"))
	assert error_of(r)[0] == 42, error_of(r)
	PY
test "$(stat -c %x "$SECRET")" = "$atime0" || { echo "the secret file was read"; false; }
'

test_expect_success 'nothing hostile reached XenD: no domain was defined' '
"$XENSIM_CTL" "$XENSIM_CONTROL" list >list.out &&
! grep -E " (deep|l|p|xi|d|xxe|lol)" list.out &&
! grep -q "xenvirt-secret" list.out
'

test_expect_success 'the daemon is alive and its log shows no crash' '
xenvirtd_alive &&
! grep -E "AddressSanitizer|runtime error|Assertion|Aborted" "$sandbox_dir/xenvirtd.log"
'

test_done
