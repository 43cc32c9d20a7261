#!/bin/sh
# Wire-ABI lock, layer a: the rpcgen header of the protocol, normalized (comments stripped,
# whitespace squeezed, blank lines dropped), must equal protocol/xenvirt_protocol-structs.
# A layout change therefore shows up as a diff of that file in the commit that makes it.
# XV_TEST_REGENERATE=1 rewrites the golden file instead (review the diff very carefully).
srcdir=${XV_TEST_SRCDIR:-$(dirname "$0")/..}/..
builddir=${XV_BUILDDIR:-.}
python=${PYTHON3:-python3}
header=$builddir/protocol/xenvirt_protocol.h
golden=$srcdir/protocol/xenvirt_protocol-structs

echo "1..1"
if [ ! -f "$header" ]; then
        echo "not ok 1 - $header missing (run make first)"
        exit 0
fi

tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
"$python" - "$header" >"$tmp" <<'PY' || { echo "not ok 1 - cannot normalize $header"; exit 0; }
import re, sys
text = open(sys.argv[1], encoding='utf-8').read()
text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
for line in text.splitlines():
    line = ' '.join(line.split())
    if line:
        print(line)
PY

if [ -n "$XV_TEST_REGENERATE" ]; then
        cp "$tmp" "$golden"
        echo "ok 1 - regenerated $golden"
elif diff -u "$golden" "$tmp" >"$tmp.diff" 2>&1; then
        echo "ok 1 - the rpcgen structs match protocol/xenvirt_protocol-structs"
else
        sed 's/^/# /' "$tmp.diff" | head -200
        echo "not ok 1 - the wire ABI changed: diff against protocol/xenvirt_protocol-structs above"
fi
rm -f "$tmp.diff"
