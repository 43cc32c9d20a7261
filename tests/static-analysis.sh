#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/static-analysis.sh [--srcdir DIR] [--workdir DIR] [--jobs N] [FILE...]
#
# make static-analysis: cppcheck and clang-tidy over the project's own C sources (src/, daemon/,
# client/, tests/; not the rpcgen output). The compile database comes from a scratch build in
# WORKDIR/build recorded by bear, so both tools see each file with its real flags and the
# generated protocol headers. clang-tidy's checks are in .clang-tidy; cppcheck's settings and
# suppressions are below, each with its reason. Exits 1 when either tool reports anything,
# 2 when a tool is missing or the scratch build cannot be configured. FILE... limits the run to
# those sources (paths relative to the source tree).
set -u

srcdir=$(cd "$(dirname "$0")/.." && pwd)
workdir=
jobs=2
while [ $# -gt 0 ]; do
        case "$1" in
                --srcdir) srcdir=$(cd "$2" && pwd); shift 2 ;;
                --workdir) workdir=$2; shift 2 ;;
                --jobs) jobs=$2; shift 2 ;;
                --) shift; break ;;
                -*) echo "usage: $0 [--srcdir DIR] [--workdir DIR] [--jobs N] [FILE...]" >&2; exit 2 ;;
                *) break ;;
        esac
done
[ -n "$workdir" ] || workdir=$srcdir/build-static-analysis
mkdir -p "$workdir" && workdir=$(cd "$workdir" && pwd) || exit 2

clang_tidy=$(command -v clang-tidy-14 || command -v clang-tidy) || {
        echo "static-analysis: clang-tidy not found: install the Debian package 'clang-tidy'" >&2; exit 2; }
command -v cppcheck >/dev/null || {
        echo "static-analysis: cppcheck not found: install the Debian package 'cppcheck'" >&2; exit 2; }
command -v bear >/dev/null || {
        echo "static-analysis: bear not found: install the Debian package 'bear'" >&2; exit 2; }

start=$(date +%s)

# The compile database: a fresh scratch build (-O0: only the command lines matter) of every
# program and test program (make check with no tests: "all" and the check programs), recorded
# by bear. make -k: a file that does not compile is still
# recorded (clang-tidy reports its errors); a link failure does not stop the others.
echo "== compile database (scratch build in $workdir/build)"
build=$workdir/build
mkdir -p "$build"
if [ ! -f "$build/Makefile" ]; then
        (cd "$build" && "$srcdir/configure" CFLAGS='-O0 -g0' > configure.out 2>&1) || {
                cat "$build/configure.out"; echo "static-analysis: configure failed" >&2; exit 2; }
fi
(cd "$build" && make clean > /dev/null 2>&1
 bear --output "$workdir/compile_commands.all.json" -- \
        make -k -j"$jobs" check TESTS= > make.out 2>&1) || true

# Our sources only, each once (a source built into two targets appears twice).
# cppcheck gets its own copy with "command" strings: it loses the quotes of a string macro
# (-DXV_TEST_SRCDIR="...") given as an "arguments" element, but reads an escaped \" right.
python3 - "$srcdir" "$workdir/compile_commands.all.json" "$workdir/compile_commands.json" \
        "$workdir/files.txt" "$workdir/cppcheck-project.json" "$@" <<-'PY' || exit 2
	import json, os, sys
	src, full, out, listing, cpc, wanted = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:]
	dirs = ("src/", "daemon/", "client/", "tests/")
	seen, keep = set(), []
	for e in json.load(open(full)):
	    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
	    rel = os.path.relpath(f, src)
	    if not rel.startswith(dirs) or not f.endswith(".c") or f in seen:
	        continue
	    if wanted and rel not in wanted:
	        continue
	    seen.add(f)
	    e["file"] = f
	    keep.append(e)
	json.dump(keep, open(out, "w"), indent=1)
	def word(a):
	    a = a.replace("\\", "\\\\").replace('"', '\\"')
	    return '"%s"' % a if " " in a else a
	json.dump([{"directory": e["directory"], "file": e["file"],
	            "command": " ".join(word(a) for a in e["arguments"])} for e in keep],
	          open(cpc, "w"), indent=1)
	open(listing, "w").write("".join(e["file"] + "\n" for e in keep))
	print("%d source files" % len(keep))
	PY
[ -s "$workdir/files.txt" ] || { echo "static-analysis: no source files in the compile database" >&2; exit 2; }

status=0

# cppcheck: the warning, portability and performance classes. Suppressed, with the reason:
#  memleak, leakReturnValNotUsed: cppcheck 2.10 does not model __attribute__((cleanup)) (every
#    _cleanup_free_ variable "leaks"); LeakSanitizer and valgrind check leaks instead.
#  literalWithCharPtrCompare: cppcheck does not see through streq() (strcmp() == 0).
#  missingIncludeSystem, unmatchedSuppression: bookkeeping, not findings.
echo "== cppcheck $(cppcheck --version | sed 's/^Cppcheck //')"
mkdir -p "$workdir/cppcheck-build"
cppcheck --project="$workdir/cppcheck-project.json" --cppcheck-build-dir="$workdir/cppcheck-build" \
        -j"$jobs" --quiet --std=c11 --enable=warning,portability,performance --inline-suppr \
        --suppress=memleak --suppress=leakReturnValNotUsed --suppress=literalWithCharPtrCompare \
        --suppress=missingIncludeSystem --suppress=unmatchedSuppression \
        --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
        --error-exitcode=1 > "$workdir/cppcheck.out" 2>&1
rc=$?
sed "s|^$srcdir/||" "$workdir/cppcheck.out"
n_cppcheck=$(grep -cE '^[^ ]+:[0-9]+:[0-9]+: ' "$workdir/cppcheck.out")
if [ $rc -ne 0 ] || [ "$n_cppcheck" -gt 0 ]; then
        status=1
fi

# clang-tidy with the source tree's .clang-tidy (WarningsAsErrors: every finding fails).
echo "== $($clang_tidy --version | grep -i 'version' | head -n 1 | sed 's/^ *//')"
: > "$workdir/clang-tidy.out"
# shellcheck disable=SC2046
xargs -P "$jobs" -n 4 "$clang_tidy" -p "$workdir" --quiet < "$workdir/files.txt" \
        > "$workdir/clang-tidy.out" 2>&1
rc=$?
grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^[0-9]+ warnings? treated as errors?$|^Error while processing' \
        "$workdir/clang-tidy.out" | sed "s|^$srcdir/||"
# A finding in a header is reported once per source including it: count each once.
n_tidy=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): ' "$workdir/clang-tidy.out" | sort -u | wc -l)
if [ $rc -ne 0 ] || [ "$n_tidy" -gt 0 ]; then
        status=1
fi

echo "== static analysis: cppcheck $n_cppcheck findings, clang-tidy $n_tidy findings" \
        "($(wc -l < "$workdir/files.txt") files, $(( $(date +%s) - start )) s)"
exit $status
