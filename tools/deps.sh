#!/bin/sh
# Install the build and test dependencies that are missing, on Debian/Ubuntu.
# As root: apt-get.  Otherwise via sudo if it works without a password.
# Otherwise print the exact command and fail.
set -u
PKGS="build-essential libseccomp-dev pkg-config clang git iproute2 procps util-linux python3"
[ "${SH_BENCH_DEPS:-0}" = 1 ] && PKGS="$PKGS bubblewrap firejail hyperfine"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
	echo "safehouse: missing packages:$missing (no apt-get here; install them with your package manager)" >&2
	exit 1
fi
if [ "$(id -u)" = 0 ]; then SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"
else
	echo "safehouse: missing build dependencies:$missing" >&2
	echo "safehouse: run: sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq $missing >/dev/null || {
	echo "safehouse: apt-get install$missing failed" >&2; exit 1; }
