#!/bin/sh
# xenvirtd exports its symbols for its modules (src/modules): none of them may also be a symbol
# that a system library it loads imports, or that library's calls would bind to xenvirt's
# function of the same name instead of the one it was written for (as libxenlight's uuid_parse()
# once did). Compares `nm -D` of the built daemon with the undefined symbols of every shared
# library the daemon and its modules load (ldd), the modules themselves excepted. Symbols with a
# version (libc data the executable holds by copy relocation, such as stdout) are the libraries' own.
b=${XV_BUILDDIR:?run me from make check}
echo "1..2"
daemon=$b/daemon/.libs/xenvirtd
[ -f "$daemon" ] || daemon=$b/daemon/xenvirtd
if ! command -v nm > /dev/null || ! command -v ldd > /dev/null; then
        echo "not ok 1 - nm and ldd are needed (binutils, libc-bin)"
        echo "ok 2 # SKIP no nm"
        exit 1
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$daemon" | awk 'NF >= 3 && $3 !~ /@/ { print $3 }' | sort -u > "$tmp/exported"
if [ "$(wc -l < "$tmp/exported")" -gt 100 ]; then
        echo "ok 1 - the daemon exports its symbols ($(wc -l < "$tmp/exported"))"
else
        echo "not ok 1 - the daemon exports only $(wc -l < "$tmp/exported") symbols: is this the daemon?"
fi
{ ldd "$daemon"; for m in "$b"/src/modules/.libs/*.so; do [ -f "$m" ] && ldd "$m"; done; } |
        awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u > "$tmp/libs"
: > "$tmp/imported"
while read -r lib; do
        case $lib in "$b"/*) continue ;; esac
        nm -D --undefined-only "$lib" 2> /dev/null | awk -v l="$lib" '{ sub(/@.*/, "", $2); print $2, l }' >> "$tmp/imported"
done < "$tmp/libs"
clash=$(awk 'NR == FNR { e[$1] = 1; next } ($1 in e) { print }' "$tmp/exported" "$tmp/imported" | sort -u)
if [ -z "$clash" ]; then
        echo "ok 2 - no exported symbol is imported by the $(wc -l < "$tmp/libs") libraries the daemon loads"
else
        echo "$clash" | sed 's/^/# /'
        echo "not ok 2 - exported symbols that a loaded library imports (rename them)"
        exit 1
fi
