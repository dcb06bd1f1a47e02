#!/bin/sh
# The keychain integration (threats IPC-01, IPC-07): the sandbox gets the
# freedesktop Secret Service through a filtered D-Bus proxy (xdg-dbus-proxy,
# started by safehouse for the session), never the raw session bus.
#
# A private session bus (dbus-daemon) with a real Secret Service (GNOME
# Keyring, unlocked with a test password) and stand-ins for what must stay
# out of reach: another service (org.example.Evil) and systemd's manager
# (org.freedesktop.systemd1, what systemd-run --user calls).  Each stand-in
# appends to a marker file on the host when called.
. "$(dirname "$0")/lib.sh"
S=$SAFEHOUSE
PY=/usr/bin/python3
D=$(dirname "$SAFEHOUSE")/helpers/deny-userns

need=""
for c in dbus-daemon dbus-send gdbus xdg-dbus-proxy gnome-keyring-daemon secret-tool; do
	command -v "$c" >/dev/null 2>&1 || need="$need $c"
done
"$PY" -c 'import dbus, gi' 2>/dev/null || need="$need python3-dbus/python3-gi"
if [ -n "$need" ]; then
	skip "keychain integration" "missing:$need (make deps installs them)"
	exit 0
fi

H=$T/home; W=$T/work; R=$T/rt
mkdir -p "$H" "$W" "$R" "$T/bin" "$T/nobin"
chmod 700 "$R"
export HOME=$H XDG_RUNTIME_DIR=$R
unset XDG_CONFIG_HOME SAFEHOUSE_WORKDIR SAFEHOUSE_ENV_PASS DBUS_SESSION_BUS_ADDRESS
cd "$W" || exit 1
W=$(pwd -P); H=$(cd "$H" && pwd -P); R=$(cd "$R" && pwd -P)
cp "$PROBE" ./probe
M=$T/marker

# wait_for 'CONDITION': up to 10 s
wait_for() {
	_i=0
	while [ $_i -lt 200 ]; do
		eval "$1" && return 0
		sleep 0.05; _i=$((_i + 1))
	done
	return 1
}
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT INT TERM

cat > "$T/bus.conf" <<EOF
<busconfig>
  <type>session</type>
  <listen>unix:path=$R/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
dbus-daemon --config-file="$T/bus.conf" --nofork >/dev/null 2>"$T/dbus.err" &
PIDS="$PIDS $!"
wait_for '[ -S "$R/bus" ]'
BUS="unix:path=$R/bus"
export DBUS_SESSION_BUS_ADDRESS="$BUS"
owned() {
	gdbus call --session -d org.freedesktop.DBus -o /org/freedesktop/DBus \
		-m org.freedesktop.DBus.NameHasOwner "$1" 2>/dev/null | grep -q true
}
printf 'test-password' | gnome-keyring-daemon --foreground --unlock --components=secrets \
	>"$T/keyring.out" 2>&1 &
PIDS="$PIDS $!"
"$PY" "$SH_ROOT/tests/helpers/dbus-standins.py" "$BUS" "$M" 300 2>"$T/standins.err" &
PIDS="$PIDS $!"
if ! wait_for 'owned org.freedesktop.secrets && owned org.example.Evil && owned org.freedesktop.systemd1'; then
	not_ok "test bus set up (dbus-daemon, gnome-keyring, stand-ins)"
	cat "$T/dbus.err" "$T/keyring.out" "$T/standins.err" | sed 's/^/#   /'
	exit 1
fi
printf 'S3CRET-VALUE' | secret-tool store --label=test service safehouse-test account a

# --- controls, on the host's raw bus: every door works there
run secret-tool lookup service safehouse-test account a
check "control: the secret is in the keyring (host)" '[ "$OUT" = S3CRET-VALUE ]'
run dbus-send --session --print-reply --dest=org.example.Evil /org/example/Evil org.example.Evil.Run string:host
check "control: org.example.Evil answers on the raw bus" '[ $RC -eq 0 ] && grep -q evil:host "$M"'
run dbus-send --session --print-reply --dest=org.freedesktop.systemd1 /org/freedesktop/systemd1 \
	org.freedesktop.systemd1.Manager.StartTransientUnit string:host
check "control: the systemd1 stand-in answers on the raw bus" '[ $RC -eq 0 ] && grep -q systemd:host "$M"'
run gdbus introspect --session -d org.freedesktop.secrets -o /org/freedesktop/secrets
check "control: GNOME Keyring's private interface exists on the raw bus" \
	'[ $RC -eq 0 ] && has "$OUT" org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface'
rm -f "$M"

# --- the Secret Service works inside
run "$S" --enable=keychain -- secret-tool lookup service safehouse-test account a
check "--enable=keychain: secret-tool reads the secret inside" '[ $RC -eq 0 ] && [ "$OUT" = S3CRET-VALUE ]'
run "$S" --enable=keychain -- sh -c 'printf written-inside | secret-tool store --label=in service safehouse-test account inner'
run secret-tool lookup service safehouse-test account inner
check "--enable=keychain: a secret stored inside is in the keyring on the host" '[ "$OUT" = written-inside ]'
run "$S" --enable=keychain -- ./probe env DBUS_SESSION_BUS_ADDRESS
SOCKDIR=$(printf '%s' "$OUT" | sed -n 's|^unix:path=\(.*\)/bus$|\1|p')
check "DBUS_SESSION_BUS_ADDRESS inside: the proxy's socket in a private dir under XDG_RUNTIME_DIR" \
	'case "$SOCKDIR" in "$R"/safehouse-dbus-??????) true ;; *) false ;; esac'
check "the proxy's directory is gone after the session" '[ -n "$SOCKDIR" ] && [ ! -e "$SOCKDIR" ]'
run "$S" --enable=keychain -- ./probe connect-unix "$R/bus"
check "--enable=keychain: the raw session bus socket is not in the view (ENOENT)" '[ $RC -eq 1 ] && [ "$OUT" = ENOENT ]'
run "$S" --enable=keychain -- ./probe read "$H/.local/share/keyrings/login.keyring"
check "--enable=keychain: the keyring files stay unreadable" '[ $RC -ne 0 ]'
run "$S" --enable=keychain --explain -- true
check "--explain names the proxy and its filter" 'has "$ERR" "explain: keychain:" && has "$ERR" "xdg-dbus-proxy" && has "$ERR" "org.freedesktop.secrets"'

# --- nothing else on the bus
run "$S" --enable=keychain -- dbus-send --session --print-reply --dest=org.example.Evil /org/example/Evil org.example.Evil.Run string:inside
check "another service (org.example.Evil) cannot be called" '[ $RC -ne 0 ] && [ ! -e "$M" ]'
run "$S" --enable=keychain -- dbus-send --session --print-reply --dest=org.freedesktop.systemd1 \
	/org/freedesktop/systemd1 org.freedesktop.systemd1.Manager.StartTransientUnit string:inside
check "systemd's manager (systemd-run --user) cannot be called" '[ $RC -ne 0 ] && [ ! -e "$M" ]'
run "$S" --enable=keychain -- gdbus call --session -d org.freedesktop.DBus -o /org/freedesktop/DBus -m org.freedesktop.DBus.ListNames
check "ListNames shows the Secret Service and hides every other name" \
	'[ $RC -eq 0 ] && has "$OUT" org.freedesktop.secrets && hasnt "$OUT" org.example.Evil && hasnt "$OUT" systemd1 && hasnt "$OUT" org.gnome.keyring'
run "$S" --enable=keychain -- dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
	org.freedesktop.DBus.UpdateActivationEnvironment 'dict:string:string:LD_PRELOAD,/tmp/x.so'
check "bus driver: UpdateActivationEnvironment is refused" '[ $RC -ne 0 ] && has "$ERR" AccessDenied'
run "$S" --enable=keychain -- dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
	org.freedesktop.DBus.Monitoring.BecomeMonitor 'array:string:' uint32:0
check "bus driver: BecomeMonitor (eavesdropping) is refused" '[ $RC -ne 0 ] && has "$ERR" AccessDenied'
run "$S" --enable=keychain -- dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
	org.freedesktop.DBus.RequestName string:org.example.Impostor uint32:0
check "bus driver: RequestName (owning a name) is refused" '[ $RC -ne 0 ] && ! owned org.example.Impostor'
run "$S" --enable=keychain -- dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
	org.freedesktop.DBus.StartServiceByName string:org.freedesktop.systemd1 uint32:0
check "bus driver: StartServiceByName of another name is refused" '[ $RC -ne 0 ]'
run "$S" --enable=keychain -- gdbus introspect --session -d org.freedesktop.secrets -o /org/freedesktop/secrets
check "on org.freedesktop.secrets: Introspect is refused" '[ $RC -ne 0 ] && has "$ERR" AccessDenied'
run "$S" --enable=keychain -- dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
	org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface.UnlockWithMasterPassword objpath:/org/freedesktop/secrets/collection/login
check "on org.freedesktop.secrets: GNOME Keyring's master-password interface is refused" '[ $RC -ne 0 ] && has "$ERR" AccessDenied'
# One connection (the proxy learns unique names per client): the daemon's
# unique name answers Secret Service calls and refuses the rest.
cat > "$W/unique.py" <<'EOF'
import dbus
b = dbus.SessionBus()
u = b.get_name_owner("org.freedesktop.secrets")
o = b.get_object(u, "/org/freedesktop/secrets", introspect=False)
c = o.Get("org.freedesktop.Secret.Service", "Collections",
          dbus_interface="org.freedesktop.DBus.Properties")
print("owner", u, "collections", len(c))
try:
    o.UnlockWithMasterPassword(dbus.ObjectPath("/org/freedesktop/secrets/collection/login"),
                               dbus.Struct((dbus.ObjectPath("/"), dbus.ByteArray(b""),
                                            dbus.ByteArray(b"x"), "text/plain")),
                               dbus_interface="org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface")
    print("REACHED")
except dbus.DBusException as e:
    print("refused", e.get_dbus_name())
EOF
run /usr/bin/python3 "$W/unique.py"
check "control: on the raw bus the private interface is reached" 'has "$OUT" "owner :" && hasnt "$OUT" "refused org.freedesktop.DBus.Error.AccessDenied"'
run "$S" --enable=keychain -- /usr/bin/python3 "$W/unique.py"
check "by the daemon's unique name: the Secret Service answers, the private interface is refused" \
	'has "$OUT" "owner :" && hasnt "$OUT" "collections 0" && has "$OUT" "refused org.freedesktop.DBus.Error.AccessDenied" && hasnt "$OUT" REACHED'
[ -e "$M" ] && echo "#   marker: $(cat "$M")"

# --- without the integration: no bus at all
run "$S" -- ./probe env DBUS_SESSION_BUS_ADDRESS
check "without keychain: DBUS_SESSION_BUS_ADDRESS is not set" '[ "$OUT" = UNSET ]'
run "$S" -- secret-tool lookup service safehouse-test account a
check "without keychain: secret-tool gets nothing" '[ $RC -ne 0 ] && hasnt "$OUT" S3CRET'
run "$S" --env -- ./probe connect-unix "$R/bus"
check "without keychain, --env: the raw bus its variable names is not in the view" '[ "$OUT" = ENOENT ]'

# --- the socket in /tmp when there is no usable XDG_RUNTIME_DIR
run env -u XDG_RUNTIME_DIR "$S" --enable=keychain -- sh -c 'echo "$DBUS_SESSION_BUS_ADDRESS"; secret-tool lookup service safehouse-test account a'
TD=$(printf '%s\n' "$OUT" | sed -n 's|^unix:path=\(/tmp/safehouse-dbus-......\)/bus$|\1|p')
check "no XDG_RUNTIME_DIR: proxy socket under /tmp, the secret readable" '[ -n "$TD" ] && has "$OUT" S3CRET-VALUE'
check "... and its directory is gone afterwards" '[ -n "$TD" ] && [ ! -e "$TD" ]'

# --- an agent profile that requires keychain (goose): works, and on a host
# without a session bus it warns once and still runs
printf '#!/bin/sh\nsecret-tool lookup service safehouse-test account a || echo NO-KEYRING\n' > "$T/bin/goose"
chmod +x "$T/bin/goose"
run "$S" --add-dirs-ro="$T/bin" -- "$T/bin/goose"
check "goose (requires keychain): the keyring works" '[ $RC -eq 0 ] && [ "$OUT" = S3CRET-VALUE ]'
mkdir -m 700 "$T/rt-empty"
run env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$T/rt-empty" "$S" --add-dirs-ro="$T/bin" -- "$T/bin/goose"
nwarn=$(printf '%s\n' "$ERR" | grep -c 'warning: keychain')
check "goose without a session bus: runs, without keyring access, one warning" \
	'[ $RC -eq 0 ] && [ "$OUT" = NO-KEYRING ] && [ "$nwarn" -eq 1 ] && has "$ERR" "no D-Bus session bus"'
run env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$T/rt-empty" "$S" --enable=keychain -- ./probe env X
check "explicit --enable=keychain without a session bus: error 125, says why" \
	'[ $RC -eq 125 ] && has "$ERR" "--enable=keychain" && has "$ERR" "no D-Bus session bus" && hasnt "$OUT" UNSET'
run env PATH="$T/nobin" "$S" --enable=keychain -- ./probe env X
check "explicit --enable=keychain without xdg-dbus-proxy: error 125 with the install hint" \
	'[ $RC -eq 125 ] && has "$ERR" "xdg-dbus-proxy is not installed" && has "$ERR" "apt install xdg-dbus-proxy"'
run env DBUS_SESSION_BUS_ADDRESS="unix:path=$T/nope" "$S" --enable=keychain -- ./probe env X
check "a bus address naming no socket: error, nothing runs" '[ $RC -eq 125 ] && has "$ERR" "$T/nope"'
check "no proxy directory left behind by the refused runs" '[ -z "$(ls "$T/rt-empty")" ] && [ "$(ls "$R" | grep -c safehouse-dbus)" -eq 0 ]'

# --- the launcher killed (SIGKILL): the proxy stops, its directory goes
"$S" --enable=keychain -- sleep 30 >/dev/null 2>&1 &
LP=$!
# the directory is made before the proxy binds its socket in it: wait for
# the socket (the launcher itself waits for the proxy before the command)
wait_for 'for _s in "$R"/safehouse-dbus-*/bus; do [ -S "$_s" ] && break; done'
KD=$(ls -d "$R"/safehouse-dbus-* 2>/dev/null | head -1)
check "a running session has its proxy directory" '[ -n "$KD" ] && [ -S "$KD/bus" ]'
kill -9 $LP
wait $LP 2>/dev/null
wait_for '[ ! -e "$KD" ] && ! pgrep -f -- "$KD" >/dev/null'
check "launcher killed: the proxy directory is removed" '[ -n "$KD" ] && [ ! -e "$KD" ]'
check "launcher killed: no xdg-dbus-proxy left for it" '! pgrep -f -- "$KD" >/dev/null'

# --- fallback mode (no user namespaces): the same proxy, no raw bus
if [ -x "$D" ]; then
	run "$D" "$S" --enable=keychain -- sh -c 'echo "$DBUS_SESSION_BUS_ADDRESS"; secret-tool lookup service safehouse-test account a'
	FD=$(printf '%s\n' "$OUT" | sed -n 's|^unix:path=\(.*\)/bus$|\1|p')
	check "fallback mode: the Secret Service through the proxy" '[ $RC -eq 0 ] && has "$OUT" S3CRET-VALUE && [ -n "$FD" ]'
	check "fallback mode: the proxy directory is removed afterwards" '[ -n "$FD" ] && [ ! -e "$FD" ]'
else
	not_ok "tests/helpers/deny-userns is built ($D)"
fi
check "the marker stayed absent: no stand-in was ever reached from inside" '[ ! -e "$M" ]'
