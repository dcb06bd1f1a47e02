# Shared helpers for integration tests (POSIX sh).  Source it:
#   . "$(dirname "$0")/lib.sh"
# Provides: $SAFEHOUSE, $PROBE, $SH_ROOT, a scratch dir $T (removed on exit),
# ok/not_ok/skip reporting and a few assertion helpers.
set -u
: "${SAFEHOUSE:?run through tests/run.sh}"
# Never under /tmp (wherever the checkout lives): inside the sandbox /tmp is a
# private tmpfs, and the built-in profiles grant it, which would blur what a
# test asserts.  /var/tmp is not granted by any profile.
_base=/var/tmp
[ -d "$_base" ] && [ -w "$_base" ] || _base="$HOME"
case "$_base" in /tmp|/tmp/*) echo "not ok - no scratch directory outside /tmp"; exit 1 ;; esac
T=$(mktemp -d "$_base/sh-integ.XXXXXX") || exit 1
trap 'chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
_n=0

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); echo "not ok $_n - $*"; }
# skip NAME REASON — a skip is a failure when SH_MUST_WORK=1
skip() {
	_n=$((_n + 1))
	if [ "${SH_MUST_WORK:-0}" = 1 ]; then echo "not ok $_n - $1 # SKIP not allowed: $2";
	else echo "ok $_n - $1 # SKIP $2"; fi
}

# run CMD...: runs, captures stdout in $OUT, stderr in $ERR, status in $RC
run() {
	"$@" >"$T/.out" 2>"$T/.err"; RC=$?
	OUT=$(cat "$T/.out"); ERR=$(cat "$T/.err")
}

# check NAME 'CONDITION': ok if the shell condition (eval'ed, so it may use
# && and ||) is true.  Quote the condition as one argument.
check() {
	_name=$1; shift
	if eval "$*"; then ok "$_name"; else
		not_ok "$_name"
		echo "#   rc=$RC"; echo "#   stdout: $(printf '%s' "$OUT" | head -c 600)"
		echo "#   stderr: $(printf '%s' "$ERR" | head -c 600)"
	fi
}

has() { printf '%s' "$1" | grep -q -F -- "$2"; }
hasnt() { ! printf '%s' "$1" | grep -q -F -- "$2"; }
