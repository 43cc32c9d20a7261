#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# systemd/org.xenvirt.policy against the protocol and against the real polkitd:
#  - every permission a procedure declares (@acl in protocol/xenvirt_protocol.x, printed by
#    gen-dispatch.py --policy-actions) is an action of the policy, and the policy declares no
#    org.xenvirt.api action that no procedure uses; org.xenvirt.unix.manage and .monitor exist;
#  - the file is well-formed XML and every action has a description, a message and complete
#    defaults; only the read-style actions are granted to everyone by default;
#  - polkitd of tests/sandbox up --polkit parsed it: pkaction lists every action;
#  - systemd/50-xenvirt.rules.example loads into polkitd and decides as it says.

. "$(dirname "$0")/lib.sh"

test_require_polkit
command -v xmllint > /dev/null 2>&1 || { echo "Bail out! xmllint (libxml2-utils) is not installed"; exit 1; }

TOP_SRCDIR=$XV_TEST_SRCDIR/..
POLICY=$TOP_SRCDIR/systemd/org.xenvirt.policy
RULES_EXAMPLE=$TOP_SRCDIR/systemd/50-xenvirt.rules.example
PY=${PYTHON3:-python3}

# The actions of the policy file, one per line: "ID ANY INACTIVE ACTIVE", after checking that
# each has a non-empty description and message and the three defaults with valid values.
cat > "$TEST_DIR/policy_actions.py" <<'EOF'
import sys
import xml.etree.ElementTree as ET

VALUES = {"no", "yes", "auth_self", "auth_admin", "auth_self_keep", "auth_admin_keep"}
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "policyconfig", root.tag
bad = []
seen = set()
for a in root.findall("action"):
    aid = a.get("id") or ""
    if aid in seen:
        bad.append("%s: declared twice" % aid)
    seen.add(aid)
    for tag in ("description", "message"):
        e = a.find(tag)
        if e is None or not (e.text or "").strip():
            bad.append("%s: no %s" % (aid, tag))
    d = a.find("defaults")
    vals = []
    for tag in ("allow_any", "allow_inactive", "allow_active"):
        e = d.find(tag) if d is not None else None
        v = (e.text or "").strip() if e is not None else ""
        if v not in VALUES:
            bad.append("%s: %s is '%s'" % (aid, tag, v))
        vals.append(v)
    print(aid, *vals)
for b in bad:
    print("BAD", b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF

test_expect_success 'the policy is well-formed XML' '
	xmllint --noout --nonet "$POLICY"
'

test_expect_success 'every action has a description, a message and valid defaults' '
	"$PY" policy_actions.py "$POLICY" >actions.txt &&
	test -s actions.txt
'

test_expect_success 'gen-dispatch.py prints the permissions of the protocol' '
	"$PY" "$TOP_SRCDIR/protocol/gen-dispatch.py" --policy-actions \
		"$TOP_SRCDIR/protocol/xenvirt_protocol.x" >protocol.txt &&
	grep -qx org.xenvirt.api.domain.start protocol.txt &&
	grep -qx org.xenvirt.api.domain.read-secure protocol.txt &&
	! grep -v "^org\.xenvirt\.api\.[a-z-]*\.[a-z-]*$" protocol.txt
'

test_expect_success 'the protocol permissions and the policy api actions are the same set' '
	awk "{ print \$1 }" actions.txt | grep "^org\.xenvirt\.api\." | sort >policy-api.txt &&
	sort -u protocol.txt >protocol-sorted.txt &&
	test_cmp protocol-sorted.txt policy-api.txt
'

test_expect_success 'the policy has the connection actions and nothing else' '
	grep -q "^org\.xenvirt\.unix\.manage no no auth_admin_keep$" actions.txt &&
	grep -q "^org\.xenvirt\.unix\.monitor yes yes yes$" actions.txt &&
	! awk "{ print \$1 }" actions.txt | grep -v "^org\.xenvirt\.api\." |
		grep -vx -e org.xenvirt.unix.manage -e org.xenvirt.unix.monitor
'

test_expect_success 'only the read-style actions are granted to everyone by default' '
	awk "\$2 == \"yes\" || \$3 == \"yes\" || \$4 == \"yes\" { print \$1 }" actions.txt | sort >open.txt &&
	printf "%s\n" org.xenvirt.api.connect.getattr org.xenvirt.api.connect.read \
		org.xenvirt.api.connect.search-domains org.xenvirt.api.domain.getattr \
		org.xenvirt.api.domain.read org.xenvirt.api.node.read org.xenvirt.unix.monitor |
		sort >expect-open.txt &&
	test_cmp expect-open.txt open.txt &&
	grep -q "^org\.xenvirt\.api\.domain\.read-secure auth_admin auth_admin auth_admin$" actions.txt
'

xv_polkit_users || { echo "Bail out! cannot create the test users"; exit 1; }
sandbox_up --polkit

# Every action of all.txt is known to polkitd, with its description.
pkaction_each() {
	local a
	for a in $(cat all.txt); do
		pkaction --action-id "$a" --verbose >one.txt &&
			grep -q "^$a:" one.txt &&
			grep -q "description: *[A-Z]" one.txt || { echo "pkaction $a:"; cat one.txt; return 1; }
	done
}

test_expect_success 'polkitd of the sandbox knows every action of the policy (pkaction)' '
	pkaction >pkaction.txt &&
	awk "{ print \$1 }" actions.txt | sort >all.txt &&
	grep "^org\.xenvirt\." pkaction.txt | sort >pk-all.txt &&
	test_cmp all.txt pk-all.txt &&
	pkaction_each
'

test_expect_success 'pkaction shows the defaults of the policy' '
	pkaction --action-id org.xenvirt.api.domain.start --verbose >one.txt &&
	grep -q "implicit any: *auth_admin$" one.txt &&
	pkaction --action-id org.xenvirt.api.domain.read --verbose >one.txt &&
	grep -q "implicit any: *yes$" one.txt
'

# pk UID ACTION [KEY VALUE]...: pkcheck's exit status for a subject of uid UID (root may name the
# uid; the process is this shell), with details: 0 authorized, 1 not, 2 needs authentication.
pk() {
	local uid=$1 action=$2 start rc
	local -a details=()
	shift 2
	while [ $# -ge 2 ]; do
		details+=(--detail "$1" "$2")
		shift 2
	done
	start=$(sed "s/.*) //" "/proc/$$/stat" | cut -d" " -f20)
	pkcheck --action-id "$action" --process "$$,$start,$uid" "${details[@]}" > /dev/null 2>&1
	rc=$?
	echo "$rc"
}

member=$(id -u xvt-member)
other=$(id -u xvt-other)
alice=$(id -u xvt-alice)

test_expect_success 'the defaults without rules: read yes, write refused (uid of xvt-member)' '
	test "$(pk "$member" org.xenvirt.api.domain.read domain_name web-1)" = 0 &&
	test "$(pk "$member" org.xenvirt.unix.monitor)" = 0 &&
	test "$(pk "$member" org.xenvirt.unix.manage)" = 1 &&
	test "$(pk "$member" org.xenvirt.api.domain.start domain_name web-1)" = 2
'

test_expect_success 'the example rules file loads into polkitd' '
	sed "s/\"alice\"/\"xvt-alice\"/" "$RULES_EXAMPLE" | xv_polkit_rule 50-xenvirt
'

# Every action of all.txt is granted to xvt-member.
member_gets_all() {
	local a
	for a in $(cat all.txt); do
		test "$(pk "$member" "$a" domain_name db-1)" = 0 || { echo "$a refused"; return 1; }
	done
}

test_expect_success 'example rule 1: group xenvirt gets every action' '
	member_gets_all
'

test_expect_success 'example rule 2: xvt-alice may start/stop web-* domains only' '
	test "$(pk "$alice" org.xenvirt.unix.manage)" = 0 &&
	test "$(pk "$alice" org.xenvirt.api.domain.start domain_name web-1)" = 0 &&
	test "$(pk "$alice" org.xenvirt.api.domain.stop domain_name web-front)" = 0 &&
	test "$(pk "$alice" org.xenvirt.api.domain.read domain_name web-1)" = 0 &&
	test "$(pk "$alice" org.xenvirt.api.domain.start domain_name db-1)" = 1 &&
	test "$(pk "$alice" org.xenvirt.api.domain.read domain_name db-1)" = 1 &&
	test "$(pk "$alice" org.xenvirt.api.domain.write domain_name web-1)" = 1 &&
	test "$(pk "$alice" org.xenvirt.api.domain.start domain_name myweb-1)" = 1
'

test_expect_success 'the example rules leave other users to the defaults' '
	test "$(pk "$other" org.xenvirt.unix.manage)" = 1 &&
	test "$(pk "$other" org.xenvirt.api.domain.start domain_name web-1)" = 2 &&
	test "$(pk "$other" org.xenvirt.api.domain.read domain_name web-1)" = 0
'

test_done
