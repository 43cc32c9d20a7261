#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# xenvirtd.conf: syntax and value errors stop the daemon at startup with the file and line;
# command-line options override the file; the limits it sets (max_clients, max_frame_size,
# max_requests_per_client) are enforced with a clear error to the offending client only.

. "$(dirname "$0")/lib.sh"

XENVIRTD=$XV_BUILDDIR/daemon/xenvirtd
[ -x "$XENVIRTD" ] || skip_all "daemon/xenvirtd is not built"

# bad_config NAME CONTENT EXPECTED: the daemon refuses to start and says EXPECTED.
bad_config() {
	printf "%b" "$2" >"$TEST_DIR/$1.conf"
	test_must_fail timeout 10 "$XENVIRTD" --config "$TEST_DIR/$1.conf" --socket-dir "$TEST_DIR/nosock" \
		>"$TEST_DIR/$1.out" 2>&1 || return 1
	grep -F -- "$3" "$TEST_DIR/$1.out" || { cat "$TEST_DIR/$1.out"; return 1; }
	test ! -e "$TEST_DIR/nosock/xenvirtd-sock"
}

test_expect_success 'unknown key' '
	bad_config unknown "# comment\nmax_clients = 4\nbogus = 1\n" "unknown.conf:3: unknown key '\''bogus'\''"
'
test_expect_success 'missing =' '
	bad_config noeq "max_clients 4\n" "noeq.conf:1: expected '\''key = value'\''"
'
test_expect_success 'number out of range' '
	bad_config range "\n\nmax_workers = 0\n" "range.conf:3: '\''max_workers'\'' must be a number between 1 and 256"
'
test_expect_success 'xend_timeout out of range' '
	bad_config xto "xend_timeout = 0\n" "xto.conf:1: '\''xend_timeout'\'' must be a number between 1 and 3600"
'
test_expect_success 'not a number' '
	bad_config nan "max_frame_size = lots\n" "nan.conf:1: '\''max_frame_size'\'' must be a number"
'
test_expect_success 'unterminated quote' '
	bad_config quote "xend_socket = \"/var/lib/xend/xend-socket\n" "quote.conf:1: unterminated quoted value"
'
test_expect_success 'relative path' '
	bad_config rel "rw_socket = sock\n" "rel.conf:1: '\''rw_socket'\'' must be an absolute path"
'
test_expect_success 'bad log level' '
	bad_config level "log_level = loud\n" "level.conf:1: '\''log_level'\''"
'
test_expect_success 'an explicit --config that does not exist' '
	test_must_fail "$XENVIRTD" --config "$TEST_DIR/none.conf" 2>err &&
	grep -q "cannot read configuration file" err
'
test_expect_success 'unknown option' '
	test_must_fail "$XENVIRTD" --no-such-option 2>err
'
test_expect_success '--help and --version' '
	"$XENVIRTD" --help | grep -q -- "--socket-dir" &&
	"$XENVIRTD" --version | grep -q "^xenvirtd "
'

# Limits: a small configuration for the sandbox's daemon, written before it starts.
mkdir -p "$TEST_DIR/sb"
cat >"$TEST_DIR/sb/xenvirtd.conf" <<-\CONF
	# limits for t0006
	max_clients = 3
	max_frame_size = 4096
	max_requests_per_client = 2
	log_level = "info"
	rw_socket = /nonexistent/overridden-by-the-command-line
CONF
sandbox_up

limits() {
	"$TEST_PYTHON" - "$XV_TEST_SRCDIR/integration" "$sandbox_dir/xenvirtd-sock" "$@"
}

test_expect_success 'command-line socket paths override the file' '
	test -S "$sandbox_dir/xenvirtd-sock" && test ! -e /nonexistent/overridden-by-the-command-line
'

test_expect_success 'max_clients: the extra client gets an error, the others are served' '
	limits <<-\PY
	import sys, time
	sys.path.insert(0, sys.argv[1])
	from xvd_raw import *
	conns = [Conn(sys.argv[2]) for _ in range(3)]
	for c in conns:
	    c.handshake()
	extra = Conn(sys.argv[2])
	e = error_of(extra.call(AUTH_LIST))
	assert e and "too many active clients" in e[2], e
	assert wait_closed(extra)
	for c in conns:
	    assert c.get_type() == "Xen"
	conns[0].close()
	time.sleep(0.3)
	again = Conn(sys.argv[2])
	again.handshake()
	assert again.get_type() == "Xen"
	PY
'

test_expect_success 'max_frame_size: a larger frame drops only that client' '
	limits <<-\PY
	import sys
	sys.path.insert(0, sys.argv[1])
	from xvd_raw import *
	good = Conn(sys.argv[2])
	good.handshake()
	big = Conn(sys.argv[2])
	big.handshake()
	big.send_raw(frame(DEFINE_XML, 9, xdr_string("x" * 5000)))
	assert wait_closed(big)
	ok = Conn(sys.argv[2])
	ok.handshake()
	r = ok.call(DEFINE_XML, xdr_string("x" * 3000))
	assert r[4] == ok.serial - 1
	assert good.get_type() == "Xen"
	PY
'

test_expect_success 'max_requests_per_client: calls past the limit get an error, the rest are answered' '
	"$XENSIM_CTL" "$XENSIM_CONTROL" xend delay 500 >/dev/null &&
	limits <<-\PY
	import sys
	sys.path.insert(0, sys.argv[1])
	from xvd_raw import *
	c = Conn(sys.argv[2])
	c.handshake()
	c.send_raw(b"".join(slow_frame(s) for s in range(10, 16)))
	replies = [c.recv_reply() for _ in range(6)]
	# Answered by the handler: OK, or NO_SUPPORT while the handler is a stub.
	done = [r for r in replies if r[5] == OK or error_of(r)[0] == 3]
	errs = [error_of(r) for r in replies if r not in done]
	assert len(done) >= 2, replies
	assert errs and all("too many requests in flight" in e[2] for e in errs), errs
	assert sorted(r[4] for r in replies) == list(range(10, 16))
	assert c.get_type() == "Xen"
	PY
	rc=$?
	"$XENSIM_CTL" "$XENSIM_CONTROL" xend delay 0 >/dev/null
	test $rc = 0
'

test_done
