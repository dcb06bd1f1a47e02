#!/bin/sh
# Install the build and test dependencies that are missing, on Debian/Ubuntu.
# As root: apt-get.  Otherwise via sudo if it works without a password.
# Otherwise print the exact command and fail.
set -u
PKGS="build-essential musl-tools libseccomp-dev pkg-config clang git iproute2 procps util-linux python3"
[ "${SH_BENCH_DEPS:-0}" = 1 ] && PKGS="$PKGS bubblewrap firejail hyperfine"
# For the integration tests, installed without recommends (gnome-keyring's
# would change the PAM configuration): a session bus, the keychain's D-Bus
# proxy and a real Secret Service with a client (t-keychain.sh), an X server
# and clients (t-x11.sh).
TEST_PKGS="dbus-daemon dbus-bin xdg-dbus-proxy python3-dbus python3-gi libglib2.0-bin \
gnome-keyring libsecret-tools xvfb x11-utils xauth"
missing="" test_missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
for p in $TEST_PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		test_missing="$test_missing $p"
done
[ -z "$missing$test_missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
	echo "safehouse: missing packages:$missing (no apt-get here; install them with your package manager)" >&2
	exit 1
fi
if [ "$(id -u)" = 0 ]; then SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"
else
	echo "safehouse: missing build/test dependencies:$missing$test_missing" >&2
	echo "safehouse: run: sudo apt-get update && sudo apt-get install -y$missing &&" \
		"sudo apt-get install -y --no-install-recommends$test_missing" >&2
	exit 1
fi
echo "deps: installing$missing$test_missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null || { echo "safehouse: apt-get update failed" >&2; exit 1; }
if [ -n "$missing" ]; then
	$SUDO apt-get install -y -qq $missing >/dev/null || {
		echo "safehouse: apt-get install$missing failed" >&2; exit 1; }
fi
if [ -n "$test_missing" ]; then
	$SUDO apt-get install -y -qq --no-install-recommends $test_missing >/dev/null || {
		echo "safehouse: apt-get install$test_missing failed" >&2; exit 1; }
fi
