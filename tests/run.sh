#!/bin/sh
# Run every test tier and print one closing line "N passed, N failed, N skipped".
#   tests/run.sh BUILD_DIR
# Tier 1: build/unit-tests (in-process and fork-per-test).
# Tier 2: tests/integ/*.sh against the real binary.  Each script prints
#         TAP-style "ok"/"not ok" lines; see tests/integ/lib.sh.
# SH_MUST_WORK=1 turns skips into failures (CI sets it).
set -u
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export SAFEHOUSE="$ROOT/$BUILD/safehouse" PROBE="$ROOT/$BUILD/probe" SH_ROOT="$ROOT"
out=$(mktemp "${TMPDIR:-/tmp}/sh-run.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT INT TERM

status=0
echo "== unit tests"
"$ROOT/$BUILD/unit-tests" >"$out" 2>&1 || status=1
grep -v -E '^[0-9]+ passed, [0-9]+ failed' "$out"
pass=$(grep -c '^ok .*' "$out" | tr -d ' ')
skip=$(grep -c '^ok .*# SKIP' "$out" | tr -d ' ')
fail=$(grep -c '^not ok ' "$out" | tr -d ' ')
pass=$((pass - skip))

for t in "$ROOT"/tests/integ/t-*.sh; do
	[ -f "$t" ] || continue
	echo "== $(basename "$t")"
	sh "$t" >"$out" 2>&1 || status=1
	cat "$out"
	p=$(grep -c '^ok ' "$out"); s=$(grep -c '^ok .*# SKIP' "$out"); f=$(grep -c '^not ok ' "$out")
	pass=$((pass + p - s)); skip=$((skip + s)); fail=$((fail + f))
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $(basename "$t") ran no test"; fail=$((fail + 1))
	fi
done

[ "$fail" -eq 0 ] || status=1
echo "$pass passed, $fail failed, $skip skipped"
exit $status
