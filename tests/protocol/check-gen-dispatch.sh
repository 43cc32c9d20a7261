#!/bin/sh
# gen-dispatch.py accepts the real protocol and refuses every inconsistency it is meant to catch.
srcdir=${XV_TEST_SRCDIR:-$(dirname "$0")/..}/..
python=${PYTHON3:-python3}
gen=$srcdir/protocol/gen-dispatch.py
x=$srcdir/protocol/xenvirt_protocol.x

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }

# must_fail NAME SED-SCRIPT EXPECTED-MESSAGE: the mutated .x is refused with that message.
must_fail() {
        sed -e "$2" "$x" >"$tmp/bad.x"
        if cmp -s "$x" "$tmp/bad.x"; then
                notok "$1 (the mutation did not apply)"
        elif "$python" "$gen" --header "$tmp/bad.x" >/dev/null 2>"$tmp/err"; then
                notok "$1 was accepted"
        elif grep -q -- "$3" "$tmp/err"; then
                ok "$1 is refused"
        else
                sed 's/^/# /' "$tmp/err"
                notok "$1 is refused, but without '$3'"
        fi
}

echo "1..21"

for mode in --header --source --stubs; do
        if "$python" "$gen" $mode "$x" >"$tmp/out" 2>"$tmp/err" && [ -s "$tmp/out" ]; then
                ok "generates $mode"
        else
                sed 's/^/# /' "$tmp/err"
                notok "generates $mode"
        fi
done

"$python" "$gen" --policy-actions "$x" >"$tmp/actions"
if [ -s "$tmp/actions" ] && ! grep -v -E '^org\.xenvirt\.api\.[a-z-]+\.[a-z-]+$' "$tmp/actions" | grep -q . &&
   ! grep -qx none "$tmp/actions" && [ "$(sort -u "$tmp/actions" | wc -l)" -eq "$(wc -l <"$tmp/actions")" ]; then
        ok "--policy-actions lists $(wc -l <"$tmp/actions") distinct actions"
else
        notok "--policy-actions output is malformed"
fi

"$python" "$gen" --readonly-list "$x" >"$tmp/ro"
if grep -qx '16 domain-get-info' "$tmp/ro" && grep -qx '1 connect-open' "$tmp/ro" &&
   ! grep -q ' domain-suspend$' "$tmp/ro" && ! grep -q ' domain-event-callback-lifecycle$' "$tmp/ro"; then
        ok "--readonly-list has the read procedures only"
else
        notok "--readonly-list is wrong"
fi

must_fail "a procedure without @acl" '0,/@acl: org.xenvirt.api.connect.getattr$/{/@acl: org.xenvirt.api.connect.getattr$/d}' 'missing @acl'
must_fail "@acl none without @readonly yes" '0,/@acl: org.xenvirt.api.domain.suspend/s//@acl: none/' '@acl: none is only allowed'
must_fail "a misspelt ret struct" 's/struct xvp_domain_get_info_ret {/struct xvp_domain_get_infos_ret {/' 'belongs to no procedure'
must_fail "a message without its struct" 's/struct xvp_domain_event_callback_reboot_msg {/struct xvp_domain_event_callback_rebooted_msg {/' 'needs struct xvp_domain_event_callback_reboot_msg'
must_fail "a duplicate procedure number" 's/XVP_PROC_DOMAIN_SUSPEND = 34/XVP_PROC_DOMAIN_SUSPEND = 33/' 'already used'
must_fail "a procedure without annotations" 's/^\( *\)XVP_PROC_CONNECT_CLOSE = 2,/\1XVP_PROC_CONNECT_CLOSE = 2,\n\1XVP_PROC_CONNECT_EXTRA = 500,/' 'has no annotations'
must_fail "an unknown annotation" '0,/@blocking: yes$/s//@blocking: yes\n         * @priority: high/' 'unknown annotation @priority'

# @aclflag ("@aclflag: <FLAG_CONSTANT> <action>"): emitted into the row with a typed flags
# accessor, listed by --policy-actions, and every misuse refused.
if "$python" "$gen" --source "$x" >"$tmp/table.c" 2>"$tmp/err" &&
   grep -q '\.aclflag_mask  = XVP_DOMAIN_XML_SECURE,' "$tmp/table.c" &&
   grep -q '\.aclflag_action = "org.xenvirt.api.domain.read-secure",' "$tmp/table.c" &&
   grep -q '\.args_flags    = args_flags_domain_get_xml_desc,' "$tmp/table.c" &&
   grep -q 'return ((const xvp_domain_get_xml_desc_args \*) args)->flags;' "$tmp/table.c"; then
        ok "DOMAIN_GET_XML_DESC's row carries the secure flag, its action and a typed flags accessor"
else
        sed 's/^/# /' "$tmp/err"
        notok "DOMAIN_GET_XML_DESC's row lacks the @aclflag fields"
fi

if "$python" "$gen" --header "$x" 2>"$tmp/err" | grep -q 'unsigned (\*args_flags)(const void \*args);'; then
        ok "the header declares the row's flags accessor"
else
        notok "the header lacks the flags accessor"
fi

if "$python" "$gen" --policy-actions "$x" | grep -qx org.xenvirt.api.domain.read-secure; then
        ok "--policy-actions lists the @aclflag action"
else
        notok "--policy-actions does not list org.xenvirt.api.domain.read-secure"
fi

aclflag='@aclflag: XVP_DOMAIN_XML_SECURE org.xenvirt.api.domain.read-secure'
must_fail "an @aclflag constant that the .x does not define" \
        "s/$aclflag/@aclflag: XVP_DOMAIN_XML_SECRET org.xenvirt.api.domain.read-secure/" \
        'XVP_DOMAIN_XML_SECRET is not a const of the .x'
must_fail "an @aclflag action of the wrong form" \
        "s/$aclflag/@aclflag: XVP_DOMAIN_XML_SECURE read-secure/" \
        "@aclflag action 'read-secure' is not org.xenvirt.api"
must_fail "an @aclflag without its action" \
        "s/$aclflag/@aclflag: XVP_DOMAIN_XML_SECURE/" \
        '@aclflag must be "<FLAG_CONSTANT> <action>"'
must_fail "an @aclflag on a procedure whose args have no flags" \
        '0,/@acl: org.xenvirt.api.connect.getattr$/s//@acl: org.xenvirt.api.connect.getattr\n         * @aclflag: XVP_DOMAIN_XML_SECURE org.xenvirt.api.domain.read-secure/' \
        '@aclflag needs an args struct with an "unsigned int flags" member'
must_fail "an @aclflag on a server-sent message" \
        '0,/@message: yes$/s//@message: yes\n         * @aclflag: XVP_DOMAIN_XML_SECURE org.xenvirt.api.domain.read-secure/' \
        'a server-sent message cannot have @aclflag'
must_fail "an @acl of two words" \
        '0,/@acl: org.xenvirt.api.domain.suspend$/s//@acl: org.xenvirt.api.domain.suspend org.xenvirt.api.domain.stop/' \
        '@acl takes one word'
