#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# xvsh --json: the documents of list, dominfo, domstate, nodeinfo, vcpuinfo and domstats are
# valid against tests/integration/xvsh-json-schema.json (checked by the small validator below,
# for the subset of JSON Schema the file uses: no pip packages), and carry the same values as
# the plain output of the same command.

. "$(dirname "$0")/lib.sh"

[ -d "$TEST_SEED_DIR" ] || { echo "Bail out! no seed examples in $TEST_SEED_DIR"; exit 1; }
XVSH=$XV_BUILDDIR/client/cli/xvsh
[ -x "$XVSH" ] || { echo "Bail out! $XVSH is not built"; exit 1; }
[ -x "$TEST_PYTHON" ] || { echo "Bail out! $TEST_PYTHON is missing"; exit 1; }
SCHEMA=$XV_TEST_SRCDIR/integration/xvsh-json-schema.json
sandbox_up

x() {
        "$XVSH" -c "$XENVIRT_URI" "$@"
}

cat > "$TEST_DIR/check.py" <<-\EOF
import json, re, sys

def resolve(root, schema):
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/"), ref
        node = root
        for part in ref[2:].split("/"):
            node = node[part]
        schema = node
    return schema

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}

def validate(root, schema, v, path="$"):
    schema = resolve(root, schema)
    errs = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(TYPES[t](v) for t in types):
            return ["%s: %r is not of type %s" % (path, v, types)]
    if "enum" in schema and v not in schema["enum"]:
        errs.append("%s: %r not in %r" % (path, v, schema["enum"]))
    if "minimum" in schema and TYPES["number"](v) and v < schema["minimum"]:
        errs.append("%s: %r < %r" % (path, v, schema["minimum"]))
    if "pattern" in schema and isinstance(v, str) and not re.search(schema["pattern"], v):
        errs.append("%s: %r does not match %s" % (path, v, schema["pattern"]))
    if isinstance(v, dict):
        props = schema.get("properties", {})
        for k in schema.get("required", []):
            if k not in v:
                errs.append("%s: missing %s" % (path, k))
        for k, val in v.items():
            if k in props:
                errs += validate(root, props[k], val, path + "." + k)
            else:
                extra = schema.get("additionalProperties", True)
                if extra is False:
                    errs.append("%s: unexpected %s" % (path, k))
                elif isinstance(extra, dict):
                    errs += validate(root, extra, val, path + "." + k)
    if isinstance(v, list) and "items" in schema:
        for i, item in enumerate(v):
            errs += validate(root, schema["items"], item, "%s[%d]" % (path, i))
    return errs

def fields(text, sep=":"):
    out = {}
    for line in text.splitlines():
        if sep in line:
            k, _, val = line.partition(sep)
            out[k.strip()] = val.strip()
    return out

def fail(msg):
    print(msg)
    sys.exit(1)

def expect(a, b, what):
    if a != b:
        fail("%s: json %r, plain %r" % (what, a, b))

# Values that advance between the two runs (CPU times) are only checked for presence.
def moving(key):
    return key == "cpu.time" or re.match(r"^vcpu\.[0-9]+\.time$", key)

def compare(cmd, doc, plain):
    if cmd == "list":
        rows = [l.split(None, 2) for l in plain.splitlines()[2:] if l.strip()]
        expect(len(doc["domains"]), len(rows), "number of domains")
        for d, (i, name, state) in zip(doc["domains"], rows):
            expect("-" if d["id"] is None else str(d["id"]), i, "id of " + name)
            expect(d["name"], name, "name")
            expect(d["state"], state, "state of " + name)
    elif cmd == "dominfo":
        f = fields(plain)
        expect("-" if doc["id"] is None else str(doc["id"]), f["Id"], "Id")
        expect(doc["name"], f["Name"], "Name")
        expect(doc["uuid"], f["UUID"], "UUID")
        expect(doc["os_type"], f["OS Type"], "OS Type")
        expect(doc["state"], f["State"], "State")
        expect(str(doc["cpus"]), f["CPU(s)"], "CPU(s)")
        expect("%d KiB" % doc["max_memory_kib"], f["Max memory"], "Max memory")
        expect("%d KiB" % doc["used_memory_kib"], f["Used memory"], "Used memory")
        expect("yes" if doc["persistent"] else "no", f["Persistent"], "Persistent")
        expect("enable" if doc["autostart"] else "disable", f["Autostart"], "Autostart")
        expect("yes" if doc["managed_save"] else "no", f["Managed save"], "Managed save")
    elif cmd == "domstate":
        expect("%s (%s)" % (doc["state"], doc["reason"]), plain.strip(), "state (reason)")
    elif cmd == "nodeinfo":
        f = fields(plain)
        expect(doc["cpu_model"], f["CPU model"], "CPU model")
        expect(str(doc["cpus"]), f["CPU(s)"], "CPU(s)")
        expect("%d MHz" % doc["mhz"], f["CPU frequency"], "CPU frequency")
        expect(str(doc["sockets"]), f["CPU socket(s)"], "sockets")
        expect(str(doc["cores_per_socket"]), f["Core(s) per socket"], "cores")
        expect(str(doc["threads_per_core"]), f["Thread(s) per core"], "threads")
        expect(str(doc["numa_cells"]), f["NUMA cell(s)"], "cells")
        expect("%d KiB" % doc["memory_kib"], f["Memory size"], "memory")
    elif cmd == "vcpuinfo":
        blocks = [fields(b) for b in plain.strip().split("\n\n")]
        expect(len(doc["vcpus"]), len(blocks), "number of vcpus")
        for v, b in zip(doc["vcpus"], blocks):
            expect(str(v["vcpu"]), b["VCPU"], "VCPU")
            expect(str(v["cpu"]), b["CPU"], "CPU")
            expect(v["state"], b["State"], "State")
            expect(v["affinity"], b["CPU Affinity"], "CPU Affinity")
            expect(v["cpu_time_ns"] != 0, "CPU time" in b, "CPU time shown")
    elif cmd == "domstats":
        recs = []
        for line in plain.splitlines():
            m = re.match(r"^Domain: '(.*)'$", line)
            if m:
                recs.append((m.group(1), {}))
            elif line.startswith("  ") and "=" in line:
                k, _, val = line.strip().partition("=")
                recs[-1][1][k] = val
        expect([d["name"] for d in doc["domains"]], [r[0] for r in recs], "domains")
        for d, (name, st) in zip(doc["domains"], recs):
            expect(sorted(d["stats"]), sorted(st), "stat keys of " + name)
            for k, val in d["stats"].items():
                if moving(k):
                    continue
                if isinstance(val, bool):
                    val = "yes" if val else "no"
                elif isinstance(val, float):
                    val = "%f" % val
                expect(str(val), st[k], "%s of %s" % (k, name))
    else:
        fail("no comparison for " + cmd)

schema_file, cmd, json_file, plain_file = sys.argv[1:5]
root = json.load(open(schema_file))
text = open(json_file).read()
lines = [l for l in text.splitlines() if l.strip()]
if len(lines) != 1:
    fail("expected one JSON document on one line, got %d lines" % len(lines))
doc = json.loads(lines[0])
errs = validate(root, root["commands"][cmd], doc)
if errs:
    fail("\n".join(errs))
compare(cmd, doc, open(plain_file).read())
EOF

# check CMD ARGS...: xvsh --json CMD ARGS and xvsh CMD ARGS; schema and values.
check() {
        local cmd=$1
        "$XVSH" -c "$XENVIRT_URI" --json "$@" > json.out 2> json.err || { cat json.err; return 1; }
        test ! -s json.err || { cat json.err; return 1; }
        "$XVSH" -c "$XENVIRT_URI" "$@" > plain.out || return 1
        "$TEST_PYTHON" "$TEST_DIR/check.py" "$SCHEMA" "$cmd" json.out plain.out
}

sed -e 's|<name>[^<]*</name>|<name>jpv</name>|' "$TEST_SEED_DIR/pv-direct-kernel.xml" > "$TEST_DIR/jpv.xml"
sed -e 's|<name>[^<]*</name>|<name>jhvm</name>|' "$TEST_SEED_DIR/hvm-bios-boot.xml" > "$TEST_DIR/jhvm.xml"

test_expect_success 'the schema file is valid JSON with the documented commands' '
	"$TEST_PYTHON" -c "import json, sys; s = json.load(open(sys.argv[1])); assert set(s[\"commands\"]) >= {\"list\", \"dominfo\", \"domstate\", \"nodeinfo\", \"vcpuinfo\", \"domstats\"}" "$SCHEMA"
'

test_expect_success 'the validator rejects a document that breaks the schema' '
	echo "{\"state\": \"bogus\", \"state_code\": 1, \"reason\": \"x\", \"reason_code\": -1}" >bad.json &&
	echo "bogus (x)" >bad.plain &&
	test_must_fail "$TEST_PYTHON" "$TEST_DIR/check.py" "$SCHEMA" domstate bad.json bad.plain >bad.out &&
	grep -q "not in" bad.out && grep -q "reason_code" bad.out
'

test_expect_success 'define and start test domains (--json result documents)' '
	x --json define "$TEST_DIR/jpv.xml" >def.json &&
	"$TEST_PYTHON" -c "import json, sys; d = json.load(open(sys.argv[1])); assert d == {\"domain\": \"jpv\", \"result\": \"defined\"}, d" def.json &&
	x define "$TEST_DIR/jhvm.xml" >/dev/null &&
	x --json start jpv >start.json &&
	"$TEST_PYTHON" -c "import json, sys; d = json.load(open(sys.argv[1])); assert d == {\"domain\": \"jpv\", \"result\": \"started\"}, d" start.json &&
	x start jhvm --paused >/dev/null
'

test_expect_success 'list --all' 'check list --all'
test_expect_success 'list' 'check list'
test_expect_success 'dominfo of a running domain' 'check dominfo jpv'
test_expect_success 'dominfo of a paused domain' 'check dominfo jhvm'
test_expect_success 'dominfo of Domain-0' 'check dominfo 0'
test_expect_success 'domstate' 'check domstate jpv --reason'
test_expect_success 'domstate of a paused domain' 'check domstate jhvm --reason'
test_expect_success 'nodeinfo' 'check nodeinfo'
test_expect_success 'vcpuinfo of a guest' 'check vcpuinfo jpv'
test_expect_success 'vcpuinfo of Domain-0 (several vCPUs)' 'check vcpuinfo 0'
test_expect_success 'domstats of every domain' 'check domstats'
test_expect_success 'domstats of one domain, some groups' 'check domstats --state --balloon jpv'

test_expect_success 'dominfo and list of an inactive domain' '
	x destroy jhvm >/dev/null && check dominfo jhvm &&
	"$TEST_PYTHON" -c "import json, sys; d = json.load(open(sys.argv[1])); assert d[\"id\"] is None and d[\"state\"] == \"shut off\", d" json.out &&
	check list --all
'

test_expect_success 'errors stay on stderr, stdout has no partial document' '
	test_must_fail "$XVSH" -c "$XENVIRT_URI" --json dominfo no-such >out 2>err &&
	test ! -s out && grep -q "^error: failed to get domain .no-such.$" err
'

test_expect_success 'one document per command of a command string' '
	x --json "domstate jpv; nodeinfo" >two.json &&
	test "$(wc -l <two.json)" = 2 &&
	"$TEST_PYTHON" -c "import json, sys; [json.loads(l) for l in open(sys.argv[1])]" two.json
'

test_done
