#!/bin/sh
# The x11 integration against a real X server (Xvfb, with a cookie): the
# display's socket is bound into the private /tmp, the session gets that
# display's cookie alone (its own Xauthority file, since the host name
# inside differs and the user's file may hold other cookies), and without
# the integration there is no display at all (threat IPC-10).
. "$(dirname "$0")/lib.sh"
S=$SAFEHOUSE
D=$(dirname "$SAFEHOUSE")/helpers/deny-userns

need=""
for c in Xvfb xdpyinfo xauth; do command -v "$c" >/dev/null 2>&1 || need="$need $c"; done
if [ -n "$need" ]; then
	skip "x11 integration" "missing:$need (make deps installs xvfb, x11-utils, xauth)"
	exit 0
fi

H=$T/home; W=$T/work
mkdir -p "$H" "$W" "$T/custom"
export HOME=$H
unset XDG_CONFIG_HOME SAFEHOUSE_WORKDIR SAFEHOUSE_ENV_PASS XAUTHORITY DISPLAY
cd "$W" || exit 1
cp "$PROBE" ./probe
cookie() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
wait_for() {
	_i=0
	while [ $_i -lt 200 ]; do
		eval "$1" && return 0
		sleep 0.05; _i=$((_i + 1))
	done
	return 1
}

# A free display number (another test run may hold one).
N=""
for n in $(seq 170 230); do
	if [ ! -e "/tmp/.X11-unix/X$n" ] && [ ! -e "/tmp/.X$n-lock" ]; then N=$n; break; fi
done
[ -n "$N" ] || { not_ok "a free X display number"; exit 1; }
GOOD=$(cookie); OTHER=$(cookie); FOREIGN=$(cookie)
xauth -q -f "$T/server-auth" add ":$N" . "$GOOD" 2>/dev/null
# The user's file: this display's cookie under the host's name (as xauth,
# startx and GDM write it), plus cookies that must not reach the session.
xauth -q -f "$H/.Xauthority" add ":$N" . "$GOOD" 2>/dev/null
xauth -q -f "$H/.Xauthority" add ":$((N + 1))" . "$OTHER" 2>/dev/null
xauth -q -f "$H/.Xauthority" add "otherhost/unix:$N" . "$FOREIGN" 2>/dev/null
Xvfb ":$N" -auth "$T/server-auth" -nolisten tcp >"$T/xvfb.log" 2>&1 &
XPID=$!
trap 'kill $XPID 2>/dev/null; wait $XPID 2>/dev/null; chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
if ! wait_for '[ -S "/tmp/.X11-unix/X$N" ]'; then
	not_ok "Xvfb :$N started"; sed 's/^/#   /' "$T/xvfb.log"; exit 1
fi
export DISPLAY=":$N"

# --- controls on the host
run xdpyinfo
check "control: xdpyinfo reaches :$N on the host with the cookie" '[ $RC -eq 0 ] && has "$OUT" "name of display"'
run env XAUTHORITY="$T/server-auth.none" xdpyinfo
check "control: without the cookie the server refuses" '[ $RC -ne 0 ]'

# --- with the integration
run "$S" --enable=x11 -- xdpyinfo
check "--enable=x11: an X client inside reaches the display" '[ $RC -eq 0 ] && has "$OUT" "name of display:    :$N"'
run "$S" --enable=x11 -- sh -c 'echo "$XAUTHORITY"; xauth -f "$XAUTHORITY" list; hostname'
XA=$(printf '%s\n' "$OUT" | sed -n 1p)
check "the session's XAUTHORITY is a private file, not the user's" \
	'case "$XA" in /tmp/safehouse-x11-*/Xauthority) true ;; *) false ;; esac'
check "it holds this display's cookie, as a wildcard entry (the host name inside is safehouse)" \
	'has "$OUT" "$GOOD" && has "$OUT" "#ffff#" && has "$OUT" safehouse'
check "it holds no other display's or host's cookie" 'hasnt "$OUT" "$OTHER" && hasnt "$OUT" "$FOREIGN" && [ "$(printf "%s\n" "$OUT" | grep -c MIT-MAGIC)" -eq 1 ]'
check "the session's authority file is gone afterwards" '[ -n "$XA" ] && [ ! -e "$XA" ] && [ ! -e "$(dirname "$XA")" ]'
run "$S" --enable=x11 -- ./probe read "$H/.Xauthority"
check "the user's ~/.Xauthority is not readable inside" '[ $RC -ne 0 ] && hasnt "$OUT" "$GOOD"'
run "$S" --enable=x11 -- sh -c 'echo x >> "$XAUTHORITY"'
check "the session's authority file is read-only inside" '[ $RC -ne 0 ]'

# XAUTHORITY elsewhere (GDM's /run/user/UID/gdm/Xauthority, Xwayland's
# .mutter-Xwaylandauth.*): read on the host side, whatever the path.
mv "$H/.Xauthority" "$T/custom/xauth"
run env XAUTHORITY="$T/custom/xauth" "$S" --enable=x11 -- xdpyinfo
check "XAUTHORITY at an ungranted path: still works (read by the launcher)" '[ $RC -eq 0 ] && has "$OUT" "name of display"'
run env XAUTHORITY="$T/custom/xauth" "$S" --enable=x11 -- ./probe read "$T/custom/xauth"
check "... and that file itself stays out of the view" '[ $RC -ne 0 ] && hasnt "$OUT" "$GOOD"'
# A wrong cookie is not turned into a right one.
xauth -q -f "$H/.Xauthority" add ":$N" . "$(cookie)" 2>/dev/null
run "$S" --enable=x11 -- xdpyinfo
check "a wrong cookie stays wrong: the server refuses" '[ $RC -ne 0 ]'
rm -f "$H/.Xauthority"
run "$S" --enable=x11 --explain -- xdpyinfo
check "no Xauthority at all: XAUTHORITY unset inside, --explain says so" '[ $RC -ne 0 ] && has "$ERR" "explain: x11: no X authority file"'
mv "$T/custom/xauth" "$H/.Xauthority"

# --- without the integration: no display
run "$S" -- ./probe env DISPLAY
check "without x11: DISPLAY is not passed" '[ "$OUT" = UNSET ]'
run "$S" --env-pass=DISPLAY -- xdpyinfo
check "without x11 (DISPLAY passed by hand): the client cannot connect" '[ $RC -ne 0 ] && hasnt "$OUT" "name of display"'
run "$S" --env-pass=DISPLAY -- ./probe connect-unix "/tmp/.X11-unix/X$N"
check "without x11: the X socket is not in the private /tmp (ENOENT)" '[ "$OUT" = ENOENT ]'
run "$S" --enable=x11 -- ./probe connect-unix "@/tmp/.X11-unix/X$N"
check "with x11: the abstract X socket stays unreachable (private network namespace)" '[ $RC -ne 0 ]'
run env -u DISPLAY "$S" --enable=x11 -- ./probe env DISPLAY
check "--enable=x11 without DISPLAY: a warning, the command runs" '[ "$OUT" = UNSET ] && has "$ERR" "DISPLAY is not set"'

# --- the host's network namespace (--network=full, fallback mode): libxcb
# tries the abstract socket first and gives up on Landlock's EPERM instead of
# using /tmp/.X11-unix; safehouse says so rather than failing silently.
run "$S" --network=full --enable=x11 -- xdpyinfo
check "--network=full: a warning explains why X clients fail" '[ $RC -ne 0 ] && has "$ERR" "x11: X clients will fail to connect with the host network"'
run "$S" --network=full --enable=x11 -- ./probe connect-unix "/tmp/.X11-unix/X$N"
check "--network=full: the display socket itself is reachable" '[ $RC -eq 0 ]'
if [ -x "$D" ]; then
	run "$D" "$S" --enable=x11 -- xdpyinfo
	check "fallback mode: the same warning" '[ $RC -ne 0 ] && has "$ERR" "x11: X clients will fail to connect with fallback mode"'
	run "$D" "$S" --enable=x11 -- sh -c './probe connect-unix "/tmp/.X11-unix/X$0" && ./probe read "$XAUTHORITY" >/dev/null && echo reachable' "$N"
	check "fallback mode: the display socket and the session's cookie are reachable" '[ $RC -eq 0 ] && has "$OUT" reachable'
else
	not_ok "tests/helpers/deny-userns is built ($D)"
fi
