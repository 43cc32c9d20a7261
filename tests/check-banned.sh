#!/bin/sh
# Static check: no atoi()/atol(), strcpy(), sprintf()/vsprintf(), gets() or bare strtol()-family
# calls in the project's own C code, outside src/util/xv-parse-util.c which wraps them safely.
top=${XV_TEST_SRCDIR:-$(dirname "$0")}/..
echo "1..1"
hits=$(grep -rnE '\<(atoi|atol|atoll|strcpy|sprintf|vsprintf|gets|strtol|strtoul|strtoll|strtoull)[[:space:]]*\(' \
        "$top/src" "$top/daemon" "$top/client" "$top/protocol" "$top/tests" \
        --include='*.c' --include='*.h' 2>/dev/null |
        grep -v 'src/util/xv-parse-util\.c:' |
        grep -vE ':[0-9]+:[[:space:]]*(/\*|\*)' |
        grep -v 'tests/check-banned\.sh')
if [ -n "$hits" ]; then
        echo "$hits" | sed 's/^/# /'
        echo "not ok 1 - banned libc calls found (use xv-parse-util.h / snprintf / StrBuf)"
        exit 1
fi
echo "ok 1 - no banned libc calls"
