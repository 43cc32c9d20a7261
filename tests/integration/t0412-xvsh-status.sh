#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# xvsh status (xenvirt's own CONNECT_GET_HOST_STATUS): the backend and the state of each channel
# to the host as the daemon last saw it, in plain and --json form, on both sockets; XenD made
# unreachable through xensim shows as down once a call needed it, and up again after it returns.

. "$(dirname "$0")/lib.sh"

XVSH=$XV_BUILDDIR/client/cli/xvsh
[ -x "$XVSH" ] || { echo "Bail out! $XVSH is not built"; exit 1; }
sandbox_up

x() {
        "$XVSH" -c "$XENVIRT_URI" "$@"
}

test_expect_success 'xvsh status: the xend backend with every channel up' '
	x status >out &&
	cat out &&
	grep -qx "Backend: *xend" out &&
	grep -qx "XenD: *up (config version 4)" out &&
	grep -qx "xenstore: *up" out &&
	grep -qx "Hypercalls: *up" out &&
	grep -qx "Authorization: *socket permissions" out
'

test_expect_success 'xvsh status works on the read-only socket, and --json carries the same' '
	"$XVSH" -c "$XENVIRT_URI_RO" status >ro &&
	x status >rw && cmp ro rw &&
	x --json status >json &&
	"$TEST_PYTHON" -c "
import json, sys
d = json.load(open(\"json\"))
assert d == {\"backend\": \"xend\", \"xend\": True, \"xend_config_version\": 4, \"xenstore\": True,
             \"hypercalls\": True, \"xm_dir\": False, \"polkit_auth\": False, \"polkit_acls\": False}, d
"
'

test_expect_success 'XenD unreachable: status says down once a call needed it; back up afterwards' '
	"$XENSIM_CTL" "$XENSIM_CONTROL" xend absent on &&
	test_must_fail x list --all >/dev/null 2>&1 &&
	x status >down && cat down &&
	grep -qx "XenD: *down" down &&
	grep -qx "xenstore: *up" down &&
	"$XENSIM_CTL" "$XENSIM_CONTROL" xend absent off &&
	x list --all >/dev/null &&
	x status >up && cat up &&
	grep -qx "XenD: *up (config version 4)" up
'

test_done
