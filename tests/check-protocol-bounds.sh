#!/bin/sh
# Static check: every variable-length string or array in the protocol definition has a named
# bound (string<XVP_..._MAX>, type name<XVP_..._MAX>): an unbounded <> lets a peer make us
# allocate whatever it claims.
x=${XV_TEST_SRCDIR:-$(dirname "$0")}/../protocol/xenvirt_protocol.x
code=$(sed -e 's|/\*.*\*/||g' -e '/^[[:space:]]*\*/d' -e '/^[[:space:]]*\/\*/d' "$x" | grep -n .)
echo "1..2"
if echo "$code" | grep -E '<[[:space:]]*>' | sed 's/^/# /' | grep .; then
        echo "not ok 1 - unbounded <> in $x"
else
        echo "ok 1 - no unbounded <> in the protocol"
fi
if echo "$code" | grep -E '<[[:space:]]*[0-9]+[[:space:]]*>' | sed 's/^/# /' | grep .; then
        echo "not ok 2 - numeric bounds must be named XVP_*_MAX constants"
else
        echo "ok 2 - every bound is a named constant"
fi
