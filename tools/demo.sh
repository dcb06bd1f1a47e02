#!/bin/sh
# The demo behind `make demo`:  tools/demo.sh BUILD_DIR
#
# Builds a throw-away project (a small git repository with a Makefile) inside a
# fake home directory that also holds a fake SSH key, then shows with the built
# binary what the codex profile allows, and, when this build can run commands
# sandboxed, that a build works inside while the key cannot be read.
#
# The real home directory is never used: HOME and XDG_CONFIG_HOME point into
# the scratch directory for every command, including git.  Everything made
# here is removed on exit.
set -u
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SH=$BUILD/safehouse
if [ ! -x "$SH" ]; then
	echo "demo: $SH is missing; run make first" >&2
	exit 1
fi

# The scratch directory lives next to the build rather than in /tmp: a real
# project is not under /tmp, and the sandbox gets a private /tmp of its own.
T=$(mktemp -d "$BUILD/demo.XXXXXX") || exit 1
trap 'chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

HOME=$T/home
XDG_CONFIG_HOME=$HOME/.config
GIT_CONFIG_NOSYSTEM=1
export HOME XDG_CONFIG_HOME GIT_CONFIG_NOSYSTEM
unset XDG_CACHE_HOME XDG_DATA_HOME XDG_STATE_HOME SAFEHOUSE_ADD_DIRS SAFEHOUSE_ADD_DIRS_RO \
	SAFEHOUSE_WORKDIR SAFEHOUSE_TRUST_WORKDIR_CONFIG SAFEHOUSE_ENV_PASS SAFEHOUSE_PROFILES_DIR
DEMO=$HOME/src/demo
KEY=$HOME/.ssh/id_ed25519
SECRET="demo-secret-$$-not-a-real-key"

mkdir -p "$DEMO" "$HOME/.ssh" "$HOME/.codex" "$XDG_CONFIG_HOME" || exit 1
chmod 700 "$HOME/.ssh"
printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n-----END OPENSSH PRIVATE KEY-----\n' \
	"$SECRET" >"$KEY"
chmod 600 "$KEY"

cat >"$DEMO/hello.c" <<'EOF'
#include <stdio.h>
int main(void) { puts("hello from inside the sandbox"); return 0; }
EOF
cat >"$DEMO/Makefile" <<'EOF'
hello: hello.c
	cc -O2 -o hello hello.c
	./hello
EOF
(
	cd "$DEMO" &&
		git init -q &&
		git add hello.c Makefile &&
		git -c user.name=demo -c user.email=demo@example.invalid commit -q -m "demo project"
) || { echo "demo: could not create the demo repository" >&2; exit 1; }
cd "$DEMO" || exit 1

failed=0
# show TEXT: print the command the way a user would type it
show() { printf '\n$ %s\n' "$*"; }

echo "demo: project $DEMO"
echo "demo: fake home $HOME (your real home is not used)"

show "safehouse --explain --stdout -- codex | head"
out=$("$SH" --explain --stdout -- codex 2>"$T/explain")
rc=$?
cat "$T/explain"
printf '%s\n' "$out" | head
if [ "$rc" -ne 0 ] || [ -z "$out" ]; then
	echo "demo: safehouse --stdout failed (status $rc)"
	failed=1
fi

show "safehouse why ~/.ssh/id_ed25519 -- codex"
out=$("$SH" why "$KEY" -- codex 2>&1)
rc=$?
printf '%s\n' "$out"
if [ -z "$out" ] || [ "$rc" -eq 1 ] || [ "$rc" -ge 64 ]; then
	echo "demo: safehouse why failed (status $rc)"
	failed=1
fi

show "safehouse why --write $DEMO/x -- codex"
out=$("$SH" why --write "$DEMO/x" -- codex 2>&1)
rc=$?
printf '%s\n' "$out"
if [ -z "$out" ] || [ "$rc" -eq 1 ] || [ "$rc" -ge 64 ]; then
	echo "demo: safehouse why --write failed (status $rc)"
	failed=1
fi

if "$SH" -- /bin/true >/dev/null 2>&1; then
	show "safehouse -- sh -c 'make && cat ~/.ssh/id_ed25519'"
	out=$("$SH" -- sh -c 'make && cat ~/.ssh/id_ed25519' 2>&1)
	rc=$?
	printf '%s\n' "$out"
	echo "(exit status $rc)"
	if printf '%s' "$out" | grep -q -F -- "$SECRET"; then
		echo "demo: FAILED: the key was readable inside the sandbox"
		failed=1
	elif ! printf '%s' "$out" | grep -q -F 'hello from inside the sandbox'; then
		echo "demo: FAILED: the build did not work inside the sandbox"
		failed=1
	else
		echo "demo: the build worked and the key could not be read"
	fi
else
	echo
	echo "(enforcement not available in this build yet)"
fi

exit "$failed"
