#!/bin/sh
# Run every test tier and print one closing line "N passed, N failed, N skipped".
#   tests/run.sh BUILD_DIR
# Tier 1: BUILD/unit-tests (in-process and fork-per-test).
# Tier 2: tests/integ/t-*.sh against the real binary (TAP-style lines; see
#         tests/integ/lib.sh).
# When run as root, both tiers run again as an unprivileged user (created with
# useradd if needed), because real users are not root and user namespaces
# behave differently for them.  SH_MUST_WORK=1 turns skips into failures.
set -u
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export SAFEHOUSE="$ROOT/$BUILD/safehouse" PROBE="$ROOT/$BUILD/probe" SH_ROOT="$ROOT"
export SAFEHOUSE_TESTETC="$ROOT/$BUILD/safehouse-testetc"
TEST_USER=${SH_TEST_USER:-safehouse-test}
out=$(mktemp "${TMPDIR:-/tmp}/sh-run.XXXXXX") || exit 1
userdir=""
trap 'rm -f "$out"; [ -n "$userdir" ] && rm -rf "$userdir"' EXIT INT TERM
pass=0 fail=0 skip=0 status=0

# tally LABEL CMD...: run, show output (minus its own summary line), add counts.
tally() {
	label=$1; shift
	echo "== $label"
	"$@" >"$out" 2>&1 || status=1
	grep -v -E '^[0-9]+ passed, [0-9]+ failed' "$out"
	p=$(grep -c '^ok ' "$out"); s=$(grep -c '^ok .*# SKIP' "$out"); f=$(grep -c '^not ok ' "$out")
	pass=$((pass + p - s)); skip=$((skip + s)); fail=$((fail + f))
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $label ran no test"; fail=$((fail + 1))
	fi
}

tally "unit tests" "$ROOT/$BUILD/unit-tests"
for t in "$ROOT"/tests/integ/t-*.sh; do
	[ -f "$t" ] && tally "$(basename "$t")" sh "$t"
done

# The same tiers as an unprivileged user, from a private copy it owns.
if [ "$(id -u)" = 0 ] && [ "${SH_NO_USER_RUN:-0}" != 1 ]; then
	if ! id "$TEST_USER" >/dev/null 2>&1; then
		useradd -m -s /bin/sh "$TEST_USER" >/dev/null 2>&1 || true
	fi
	if id "$TEST_USER" >/dev/null 2>&1; then
		# Not under /tmp, which is private (and granted) inside the sandbox.
		uhome=$(getent passwd "$TEST_USER" | cut -d: -f6)
		userdir=$(mktemp -d "${uhome:-/home/$TEST_USER}/sh-run.XXXXXX")
		chmod 755 "$userdir"
		(cd "$ROOT" && tar cf - --exclude=./.git --exclude=./build-fuzz \
			--exclude=./build-sanitize . ) | (cd "$userdir" && tar xf -)
		chown -R "$TEST_USER" "$userdir"
		tally "all tiers as unprivileged user $TEST_USER" \
			su "$TEST_USER" -s /bin/sh -c "cd '$userdir' && SH_NO_USER_RUN=1 SH_MUST_WORK=${SH_MUST_WORK:-0} sh tests/run.sh '$BUILD'"
	else
		echo "ok - unprivileged run # SKIP cannot create user $TEST_USER"
		if [ "${SH_MUST_WORK:-0}" = 1 ]; then fail=$((fail + 1)); else skip=$((skip + 1)); fi
	fi
fi

[ "$fail" -eq 0 ] || status=1
echo "$pass passed, $fail failed, $skip skipped"
exit $status
