#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Hostile domain names in define XML (issue 10, "Hostile input"): path traversal ("../x", "a/b"),
# newlines, quotes, parentheses, spaces, URL and shell metacharacters. Each name is either refused
# with an error, or defined exactly as given: XenD (xensim) holds one new domain with exactly that
# name and the memory of the XML (nothing injected into the S-expression), a lookup by that name
# finds it (the HTTP request line carried it intact), starting it hands XenD an S-expression that
# yields the same name and memory, and under XenD config version 2 the XM file is written inside
# the XM directory and nowhere else. A well-behaved client is served throughout.

. "$(dirname "$0")/lib.sh"

sandbox_up
RW=$sandbox_dir/xenvirtd-sock

# The names, as Python literals. Those that must be refused: a path separator or a parent
# directory could leave the XM directory; a newline (or a CR, which XML turns into one) would
# break an XM file line or an HTTP request line; "." and ".." name directories.
cat > "$TEST_DIR/names.py" <<-\PYEOF
	REFUSED = ["../x", "a/b", "../../../../tmp/evil", "/abs", "..", ".", "a\nb", "a\rb",
	           "a\r\n\r\nGET /xend/node HTTP/1.1", "a\tb", ""]
	MAYBE = ['a"b', "a'b", "a(b", "a)b", "a)(memory 1)(name evil", "(name evil)", "a b", " a",
	         "a%0d%0ab", "a%2f..%2fb", "a?b", "a#b", "a&b=c", "a\\b", "-x", "a;b", "a`id`", "a$(id)",
	         "\u00fc-dom", "a]b[", "a=b", "a,b", "a{b}", "a<b>"]
	PYEOF

# run_names: runs python on stdin with xvd_raw, the names, C (a root client on the rw socket,
# open) and GOOD (a GoodClient in the background), and checks GOOD at the end.
run_names() {
        {
                cat <<-PYEOF
		import sys, os, struct, time
		sys.path.insert(0, "$XV_TEST_SRCDIR/integration")
		sys.path.insert(0, "$TEST_DIR")
		from xvd_raw import *
		from names import REFUSED, MAYBE
		XENSIM_CTL = "$XENSIM_CTL"
		XENSIM_CONTROL = "$XENSIM_CONTROL"
		GOOD = GoodClient("$RW")
		C = Conn("$RW")
		C.handshake()
		PYEOF
                cat
                echo 'GOOD.progress()'
                echo 'print("good client: %d rounds" % GOOD.stop())'
        } > "$TEST_DIR/case.py"
        "$TEST_PYTHON" "$TEST_DIR/case.py" && kill -0 "$XENVIRTD_PID"
}

cat > "$TEST_DIR/lib_names.py" <<-\PYEOF
	import subprocess
	from xvd_raw import *

	def xml_of(name, memory_kib=65536):
	    esc = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
	    return ("<domain type=\"xen\"><name>%s</name><memory>%d</memory><vcpu>1</vcpu>"
	            "<os><type>linux</type><kernel>/boot/vmlinuz</kernel></os></domain>" % (esc, memory_kib))

	def xensim_domains(ctl, control):
	    """xensim's own view: [(id, name, state, memory_kib)] (names are single tokens only if
	    they have no space: split from both ends)."""
	    out = subprocess.run([ctl, control, "list"], check=True, capture_output=True).stdout.decode()
	    doms = []
	    for line in out.split("\n"):
	        if not line:
	            continue
	        first, rest = line.split(" ", 1)
	        name, state, flags, mem, vcpus, uuid = rest.rsplit(" ", 5)
	        doms.append((int(first), name, state, int(mem)))
	    return doms
	PYEOF

test_expect_success 'names with a path, a newline or a dot-name are refused' '
run_names <<-\PY
	from lib_names import *
	before = xensim_domains(XENSIM_CTL, XENSIM_CONTROL)
	for name in REFUSED:
	    r = C.call(DEFINE_XML, xdr_string(xml_of(name)))
	    e = error_of(r)
	    assert e is not None, (name, "was defined")
	    assert e[0] in (8, 27), (name, e)
	    GOOD.progress()
	assert xensim_domains(XENSIM_CTL, XENSIM_CONTROL) == before, "XenD got a domain"
	PY
'

test_expect_success 'other odd names are refused or defined exactly, nothing injected into SXP or HTTP' '
run_names <<-\PY
	from lib_names import *
	defined = 0
	for name in MAYBE:
	    before = xensim_domains(XENSIM_CTL, XENSIM_CONTROL)
	    r = C.call(DEFINE_XML, xdr_string(xml_of(name)))
	    e = error_of(r)
	    if e is not None:
	        assert e[0] in (8, 27), (name, e)
	        assert xensim_domains(XENSIM_CTL, XENSIM_CONTROL) == before, (name, "refused but XenD got it")
	        continue
	    defined += 1
	    got, uuid, dom_id, _ = decode_domain(r[6])
	    assert got == name, (name, got)
	    after = xensim_domains(XENSIM_CTL, XENSIM_CONTROL)
	    new = [d for d in after if d not in before]
	    assert len(after) == len(before) + 1 and len(new) == 1, (name, new)
	    assert new[0][1] == name and new[0][3] == 65536, (name, "XenD holds", new)
	    # The name in an HTTP request line (GET /xend/domain/<name>) and back.
	    r = C.call(DOMAIN_LOOKUP_BY_NAME, xdr_string(name))
	    assert r[5] == OK and decode_domain(r[6])[:2] == (name, uuid), (name, error_of(r))
	    dom = xdr_domain(name, uuid, -1)
	    r = C.call(DOMAIN_GET_XML_DESC, dom + xdr_uint(0))
	    assert r[5] == OK, (name, error_of(r))
	    # Started: XenD builds the domain from the SXP it is given.
	    r = C.call(9, dom)
	    assert r[5] == OK, (name, "start", error_of(r))
	    running = [d for d in xensim_domains(XENSIM_CTL, XENSIM_CONTROL) if d[1] == name]
	    assert len(running) == 1 and running[0][0] > 0 and running[0][3] == 65536, (name, running)
	    r = C.call(DOMAIN_LOOKUP_BY_NAME, xdr_string(name))
	    assert r[5] == OK, (name, error_of(r))
	    name2, uuid2, id2, _ = decode_domain(r[6])
	    r = C.call(12, xdr_domain(name2, uuid2, id2))
	    assert r[5] == OK, (name, "destroy", error_of(r))
	    r = C.call(DOMAIN_UNDEFINE, dom)
	    assert r[5] == OK, (name, "undefine", error_of(r))
	    deadline = time.time() + 10
	    while xensim_domains(XENSIM_CTL, XENSIM_CONTROL) != before and time.time() < deadline:
	        time.sleep(0.1)
	    assert xensim_domains(XENSIM_CTL, XENSIM_CONTROL) == before, (name, "left behind")
	    GOOD.progress()
	print("defined and removed %d of %d odd names" % (defined, len(MAYBE)))
	assert defined > 0
	PY
'

# The regular files below the test directory, except logs, pid files and the test's own.
list_files() {
        find "$TEST_DIR" -type f ! -name "*.log" ! -name "*.pid" ! -name "files.*" \
                ! -path "*/__pycache__/*" | sort
}

# XenD config version 2: inactive domains live in XM files. A second sandbox.
test_expect_success 'XM files: hostile names write nothing outside the XM directory' '
"$SANDBOX" down "$sandbox_dir" >/dev/null 2>&1 && rm -rf "$sandbox_dir" &&
sandbox_up --xend-config-version 2 &&
list_files >files.before &&
run_names <<-\PY &&
	from lib_names import *
	for name in REFUSED:
	    r = C.call(DEFINE_XML, xdr_string(xml_of(name)))
	    assert error_of(r) is not None and error_of(r)[0] in (8, 27), (name, error_of(r))
	defined = 0
	for name in MAYBE:
	    r = C.call(DEFINE_XML, xdr_string(xml_of(name)))
	    if error_of(r) is not None:
	        assert error_of(r)[0] in (8, 27), (name, error_of(r))
	        continue
	    defined += 1
	    r = C.call(DOMAIN_LOOKUP_BY_NAME, xdr_string(name))
	    assert r[5] == OK and decode_domain(r[6])[0] == name, (name, error_of(r))
	    GOOD.progress()
	print("defined %d XM domains" % defined)
	assert defined > 0
	PY
list_files >files.after &&
comm -13 files.before files.after >files.new &&
cat files.new &&
test -s files.new &&
! grep -v "^$XENSIM_XM_DIR/[^/]*\$" files.new &&
! find /tmp -maxdepth 1 -name evil -newer files.before | grep . &&
! find "$TEST_DIR" -name x -newer files.before | grep .
'

test_done
