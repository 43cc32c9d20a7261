#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The reply bounds and flag checks of the domain and node handlers, with a raw protocol client
# (tests/integration/xvd_raw.py) because the stock clients always send the "right" maxima: no
# reply carries more entries than the caller declared (the clients copy them into fixed arrays
# without checking), LIST_ALL_DOMAINS' ret is the array length, char arrays are 4 bytes per
# element, unknown flag bits get libvirt's wording, and the procedures that must make virsh fall
# back answer code 3. Also migration v1 (PREPARE/PERFORM), which the stock clients only use once
# the daemon advertises feature MIGRATION_V1.

. "$(dirname "$0")/lib.sh"

command -v python3 > /dev/null 2>&1 || skip_all "python3 is not installed"
sandbox_up

# A running guest with two vCPUs, made directly in xensim.
"$XENSIM_CTL" "$XENSIM_CONTROL" domain create bounds1 128 2 > /dev/null ||
        { echo "Bail out! xensim-ctl domain create failed"; exit 1; }

cat > "$TEST_DIR/bounds.py" <<'EOF'
import os, struct, sys
sys.path.insert(0, os.environ["XV_TEST_SRCDIR"] + "/integration")
from xvd_raw import *

LOOKUP_BY_NAME, GET_VCPUS, GET_SCHED_PARAMS = 23, 20, 57
NODE_GET_INFO, BLOCK_STATS, CELLS_FREE, SEC_MODEL = 6, 64, 101, 122
MEMORY_STATS, SNAPSHOT_NUM, GET_VCPU_PIN_INFO, GET_STATE = 159, 187, 230, 212
BLOCK_STATS_FLAGS, LIST_ALL, GET_CPU_MAP, LIST_DOMAINS, LIST_DEFINED = 243, 273, 293, 37, 21

def u32(buf, off):
    return struct.unpack_from('>I', buf, off)[0], off + 4

def i32(buf, off):
    return struct.unpack_from('>i', buf, off)[0], off + 4

def dom_decode(buf, off):
    name, off = decode_string(buf, off)
    uuid = buf[off:off + 16]
    did, off = i32(buf, off + 16)
    return (name, uuid, did), off

def dom_encode(d):
    return xdr_string(d[0]) + d[1] + struct.pack('>i', d[2])

def ok(r):
    assert r[5] == OK, error_of(r)
    return r[6]

def conn():
    c = Conn(os.environ["SOCK"])
    c.handshake()
    return c

def lookup(c, name):
    d, _ = dom_decode(ok(c.call(LOOKUP_BY_NAME, xdr_string(name))), 0)
    return d

def expect_error(r, code, text=None):
    e = error_of(r)
    assert e is not None, "call succeeded"
    assert e[0] == code, e
    if text is not None:
        assert text in (e[2] or ""), e
EOF

raw() {
        SOCK=${SOCK:-$sandbox_dir/xenvirtd-sock} PYTHONPATH=$TEST_DIR python3 -
}

test_expect_success 'LIST_ALL_DOMAINS: ret is the array length; need_results 0 counts only' '
	raw <<-\EOF
	from bounds import *
	c = conn()
	buf = ok(c.call(LIST_ALL, struct.pack(">iI", 1, 0)))
	n, off = u32(buf, 0)
	names = []
	for i in range(n):
	    d, off = dom_decode(buf, off)
	    names.append(d[0])
	ret, off = u32(buf, off)
	assert ret == n and "Domain-0" in names and "bounds1" in names, (ret, names)
	buf = ok(c.call(LIST_ALL, struct.pack(">iI", 0, 0)))
	assert u32(buf, 0)[0] == 0 and u32(buf, 4)[0] == n, buf
	EOF
'

test_expect_success 'unknown flag bits are refused with libvirt wording (code 8)' '
	raw <<-\EOF
	from bounds import *
	c = conn()
	expect_error(c.call(LIST_ALL, struct.pack(">iI", 1, 0x100000)), 8, "unsupported flags (0x100000) in function")
	d = lookup(c, "bounds1")
	expect_error(c.call(GET_STATE, dom_encode(d) + struct.pack(">I", 2)), 8, "unsupported flags (0x2) in function")
	expect_error(c.call(MEMORY_STATS, dom_encode(d) + struct.pack(">II", 13, 1)), 8, "unsupported flags (0x1)")
	EOF
'

test_expect_success 'NODE_GET_CELLS_FREE_MEMORY returns at most maxcells cells' '
	raw <<-\EOF
	from bounds import *
	c = conn()
	buf = ok(c.call(CELLS_FREE, struct.pack(">ii", 0, 1)))
	assert u32(buf, 0)[0] == 1, buf
	buf = ok(c.call(CELLS_FREE, struct.pack(">ii", 0, 2)))
	assert u32(buf, 0)[0] == 2, buf
	buf = ok(c.call(CELLS_FREE, struct.pack(">ii", 1, 2)))
	assert u32(buf, 0)[0] <= 2, buf
	expect_error(c.call(CELLS_FREE, struct.pack(">ii", 0, 0)), 8)
	expect_error(c.call(CELLS_FREE, struct.pack(">ii", 0, 1025)), 8)
	expect_error(c.call(CELLS_FREE, struct.pack(">ii", -1, 1)), 8)
	EOF
'

test_expect_success 'DOMAIN_MEMORY_STATS returns at most maxStats entries' '
	raw <<-\EOF
	from bounds import *
	c = conn()
	d = lookup(c, "bounds1")
	for max_stats, want in ((0, 0), (1, 1), (13, 1)):
	    buf = ok(c.call(MEMORY_STATS, dom_encode(d) + struct.pack(">II", max_stats, 0)))
	    n, off = u32(buf, 0)
	    assert n == want, (max_stats, n)
	    if n:
	        tag, val = struct.unpack_from(">iQ", buf, off)
	        assert tag == 6 and val == 131072, (tag, val)
	expect_error(c.call(MEMORY_STATS, dom_encode(d) + struct.pack(">II", 1025, 0)), 8)
	EOF
'

test_expect_success 'DOMAIN_GET_VCPUS stays within maxinfo and maxinfo * maplen' '
	raw <<-\EOF
	from bounds import *
	c = conn()
	d = lookup(c, "bounds1")
	buf = ok(c.call(GET_VCPUS, dom_encode(d) + struct.pack(">ii", 1, 1)))
	n, off = u32(buf, 0)
	assert n == 1, n
	off += 4 + 4 + 8 + 4
	maps, off = u32(buf, off)
	assert maps == 1, maps
	buf = ok(c.call(GET_VCPUS, dom_encode(d) + struct.pack(">ii", 2, 1)))
	assert u32(buf, 0)[0] == 2
	buf = ok(c.call(GET_VCPUS, dom_encode(d) + struct.pack(">ii", 4, 0)))
	n, off = u32(buf, 0)
	assert n == 2, n
	assert u32(buf, off + n * 20)[0] == 0, "cpumaps without maplen"
	expect_error(c.call(GET_VCPUS, dom_encode(d) + struct.pack(">ii", 16385, 1)), 8)
	expect_error(c.call(GET_VCPUS, dom_encode(d) + struct.pack(">ii", 1, 2049)), 8)
	EOF
'

test_expect_success 'DOMAIN_GET_VCPU_PIN_INFO returns at most ncpumaps maps' '
	raw <<-\EOF
	from bounds import *
	c = conn()
	d = lookup(c, "bounds1")
	buf = ok(c.call(GET_VCPU_PIN_INFO, dom_encode(d) + struct.pack(">iiI", 1, 1, 0)))
	maplen, off = u32(buf, 0)
	off += (maplen + 3) // 4 * 4
	num, off = i32(buf, off)
	assert maplen == 1 and num == 1, (maplen, num)
	EOF
'

test_expect_success 'DOMAIN_GET_SCHEDULER_PARAMETERS returns at most nparams' '
	raw <<-\EOF
	from bounds import *
	c = conn()
	d = lookup(c, "bounds1")
	for nparams, want in ((0, []), (1, ["weight"]), (2, ["weight", "cap"]), (16, ["weight", "cap"])):
	    buf = ok(c.call(GET_SCHED_PARAMS, dom_encode(d) + struct.pack(">i", nparams)))
	    n, off = u32(buf, 0)
	    got = []
	    for i in range(n):
	        field, off = decode_string(buf, off)
	        t, off = i32(buf, off)
	        assert t == 2, (field, t)
	        off += 4
	        got.append(field)
	    assert got == want, (nparams, got)
	expect_error(c.call(GET_SCHED_PARAMS, dom_encode(d) + struct.pack(">i", 17)), 8)
	EOF
'

test_expect_success 'CONNECT_LIST_DOMAINS and LIST_DEFINED_DOMAINS honour maxids / maxnames' '
	raw <<-\EOF
	from bounds import *
	c = conn()
	buf = ok(c.call(LIST_DOMAINS, struct.pack(">i", 1)))
	assert u32(buf, 0)[0] == 1, buf
	buf = ok(c.call(LIST_DOMAINS, struct.pack(">i", 0)))
	assert u32(buf, 0)[0] == 0, buf
	buf = ok(c.call(LIST_DEFINED, struct.pack(">i", 0)))
	assert u32(buf, 0)[0] == 0, buf
	expect_error(c.call(LIST_DOMAINS, struct.pack(">i", -1)), 8)
	expect_error(c.call(LIST_DEFINED, struct.pack(">i", 16385)), 8)
	EOF
'

test_expect_success 'NODE_GET_INFO model is char[32] at 4 bytes per char' '
	raw <<-\EOF
	from bounds import *
	c = conn()
	buf = ok(c.call(NODE_GET_INFO))
	assert len(buf) == 32 * 4 + 8 + 6 * 4, len(buf)
	model = bytes(struct.unpack_from(">32i", buf, 0)).split(b"\0")[0]
	assert model == b"x86_64", model
	cpus, = struct.unpack_from(">i", buf, 32 * 4 + 8)
	assert cpus == 8, cpus
	EOF
'

test_expect_success 'NODE_GET_SECURITY_MODEL is empty, NUL counted' '
	raw <<-\EOF
	from bounds import *
	c = conn()
	buf = ok(c.call(SEC_MODEL))
	assert buf == struct.pack(">IiIi", 1, 0, 1, 0), buf
	EOF
'

test_expect_success 'NODE_GET_CPU_MAP: ret is the host CPU count, map only on request' '
	raw <<-\EOF
	from bounds import *
	c = conn()
	buf = ok(c.call(GET_CPU_MAP, struct.pack(">iiI", 0, 0, 0)))
	assert buf == struct.pack(">IIi", 0, 0, 8), buf
	buf = ok(c.call(GET_CPU_MAP, struct.pack(">iiI", 1, 1, 0)))
	n, off = u32(buf, 0)
	assert n == 1 and buf[4] == 0xff, buf
	assert struct.unpack_from(">Ii", buf, 8) == (8, 8), buf
	EOF
'

test_expect_success 'BLOCK_STATS_FLAGS and SNAPSHOT_NUM answer code 3 (virsh falls back)' '
	raw <<-\EOF
	from bounds import *
	c = conn()
	d = lookup(c, "bounds1")
	expect_error(c.call(BLOCK_STATS_FLAGS, dom_encode(d) + xdr_string("xvda") + struct.pack(">iI", 0, 0)), 3)
	expect_error(c.call(SNAPSHOT_NUM, dom_encode(d) + struct.pack(">I", 0)), 3)
	buf = ok(c.call(BLOCK_STATS, dom_encode(d) + xdr_string("xvda")))
	assert len(buf) == 5 * 8, len(buf)
	EOF
'

test_expect_success 'migration v1: PREPARE names this host, PERFORM moves the domain away' '
	"$XENSIM_CTL" "$XENSIM_CONTROL" domain create mig1 64 1 >/dev/null &&
	raw <<-\EOF
	from bounds import *
	import subprocess
	PREPARE, PERFORM = 61, 62
	c = conn()
	hostname = decode_string(ok(c.call(GET_HOSTNAME)), 0)[0]
	buf = ok(c.call(PREPARE, struct.pack(">IQIQ", 0, 1, 0, 0)))
	cookie, off = u32(buf, 0)
	present, off = u32(buf, off + (cookie + 3) // 4 * 4)
	assert present == 1 and decode_string(buf, off)[0] == "xenmigr://" + hostname, buf
	buf = ok(c.call(PREPARE, struct.pack(">I", 1) + xdr_string("xenmigr://elsewhere") + struct.pack(">QIQ", 1, 0, 0)))
	assert buf == struct.pack(">II", 0, 0), buf
	d = lookup(c, "mig1")
	def perform(uri, flags, dname=None, resource=0):
	    p = dom_encode(d) + struct.pack(">I", 0) + xdr_string(uri) + struct.pack(">Q", flags)
	    p += (struct.pack(">I", 1) + xdr_string(dname)) if dname else struct.pack(">I", 0)
	    return c.call(PERFORM, p + struct.pack(">Q", resource))
	expect_error(perform("xenmigr://peer", 1, dname="other"), 74)
	expect_error(perform("xenmigr://peer", 1, resource=100), 74)
	expect_error(perform("xenmigr://peer", 1 << 6), 8, "unsupported flags (0x40)")
	ok(perform("xenmigr://peer", 1))
	out = subprocess.run([os.environ["XENSIM_CTL"], os.environ["XENSIM_CONTROL"], "list"],
	                     check=True, capture_output=True, text=True).stdout
	assert " mig1 " not in out, out
	EOF
'

test_expect_success 'a stale handle of a destroyed domain answers code 42' '
	raw <<-\EOF
	from bounds import *
	import subprocess
	c = conn()
	d = lookup(c, "bounds1")
	subprocess.run([os.environ["XENSIM_CTL"], os.environ["XENSIM_CONTROL"], "domain", "destroy", "bounds1"], check=True)
	expect_error(c.call(GET_STATE, dom_encode(d) + struct.pack(">I", 0)), 42)
	EOF
'

test_done
