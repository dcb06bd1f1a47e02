#!/bin/sh
# --publish (safehouse(1), docs/network.md "Port publishing"): a loopback
# listener inside the sandbox's network namespace reached from the host's
# 127.0.0.1; the codex profile's 1455 (codex login's browser callback);
# usage errors, a busy host port, nothing left behind, and the isolation
# that must hold: an unpublished listener stays unreachable, and the
# forwarding never lets the sandbox (or a host client) reach the host's own
# loopback services.
#
# NETWORK RULE: every connection here is to 127.0.0.1 on this machine.
. "$(dirname "$0")/lib.sh"

S=$SAFEHOUSE
CURL=/usr/bin/curl
PY=/usr/bin/python3
H=$T/home W=$T/work
mkdir -p "$H/.config/safehouse" "$W/bin"
export HOME="$H"
unset XDG_CONFIG_HOME SAFEHOUSE_WORKDIR SAFEHOUSE_ADD_DIRS SAFEHOUSE_ADD_DIRS_RO \
	SAFEHOUSE_TRUST_WORKDIR_CONFIG SAFEHOUSE_ENV_PASS SAFEHOUSE_PROFILES_DIR
cd "$W" || exit 1
W=$(pwd -P)
UC=$H/.config/safehouse/config

if [ ! -x "$CURL" ] && [ "$(id -u)" = 0 ]; then
	apt-get install -y -q curl >/dev/null 2>&1 || true
fi
if [ ! -x "$CURL" ] || [ ! -x "$PY" ] || ! command -v ss >/dev/null 2>&1; then
	skip "port publishing end to end" "needs $CURL, $PY and ss"
	exit 0
fi

PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	chmod -R u+rwX "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

echo "hello from inside the sandbox" > "$W/index.html"
mkdir -p "$T/hostsrv"
echo "hello from the host loopback" > "$T/hostsrv/index.html"

# A stand-in for codex in a PATH directory the sandbox can see (the
# workdir): it takes the -c KEY=VALUE safehouse inserts, then runs sh.
printf '#!/bin/sh\n# stands in for codex: consume the -c KEY=VALUE that safehouse inserts, as codex does\nif [ "$1" = -c ] && [ "$2" = '"'"'sandbox_mode="danger-full-access"'"'"' ]; then shift 2; fi\nexec /bin/sh "$@"\n' > "$W/bin/codex"
chmod +x "$W/bin/codex"

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
listening() { [ -n "$(ss -ltnH "sport = :$1" 2>/dev/null)" ]; }
wait_free() { # PORT: up to 60 s (another test run may hold it)
	_i=0
	while listening "$1" && [ $_i -lt 600 ]; do sleep 0.1; _i=$((_i + 1)); done
	! listening "$1"
}
# get URL: the body, or nothing (bounded; no proxy)
get() { "$CURL" -s -m 3 --noproxy '*' "$1" 2>/dev/null; }
wait_get() { # URL: retry for up to 10 s until it answers
	_i=0
	while [ $_i -lt 100 ]; do
		_b=$(get "$1") && [ -n "$_b" ] && { printf '%s' "$_b"; return 0; }
		sleep 0.1; _i=$((_i + 1))
	done
	return 1
}
# A command line for inside: serve the workdir on PORT until FILE exists
# (at most 30 s), then stop the server.
serve_until() { # PORT FILE [MORE SHELL]
	echo "$PY -m http.server --bind 127.0.0.1 $1 >/dev/null 2>&1 & p=\$!; ${3:-} i=0; while [ ! -e $2 ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i+1)); done; kill \$p"
}
fwd_of() { pgrep -P "$1" -x safehouse-publi 2>/dev/null | head -n 1; }

# A host service on 127.0.0.1 that the sandbox must never reach.
(cd "$T/hostsrv" && exec timeout 300 "$PY" -m http.server --bind 127.0.0.1 0 >"$T/hostsrv.log" 2>&1) &
HS=$!
PIDS="$PIDS $HS"
X=""
for _ in $(seq 1 100); do
	X=$(sed -n 's/.*127\.0\.0\.1 port \([0-9][0-9]*\).*/\1/p' "$T/hostsrv.log" | head -n 1)
	[ -n "$X" ] && break
	sleep 0.1
done
if [ -z "$X" ] || [ "$(get "http://127.0.0.1:$X/index.html")" != "hello from the host loopback" ]; then
	not_ok "the host test service started"
	exit 0
fi

# ---------------------------------------------------------------- codex: 1455
if wait_free 1455; then
	rm -f "$W/done" "$W/up"
	PATH="$W/bin:$PATH" "$S" --explain -- codex -c "$(serve_until 1455 "$W/done" "touch $W/up;")" \
		>"$T/codex.out" 2>"$T/codex.err" &
	L=$!
	PIDS="$PIDS $L"
	for _ in $(seq 1 100); do [ -e "$W/up" ] && break; sleep 0.1; done
	FWD0=$(fwd_of "$L")
	BODY=$(wait_get "http://127.0.0.1:1455/index.html")
	FWD=$(fwd_of "$L")
	touch "$W/done"
	wait "$L"
	RC=$? OUT=$BODY ERR=$(cat "$T/codex.err")
	check "codex: its listener on 1455 inside is reached from the host's 127.0.0.1:1455 (filtered mode)" \
		'[ "$BODY" = "hello from inside the sandbox" ] && has "$ERR" "network: filtered"'
	check "codex: no forwarder process until the first connection to 1455 (then one)" \
		'[ -e "$W/up" ] && [ -z "$FWD0" ] && [ -n "$FWD" ]'
	check "codex: --explain names the port and the profile it came from" \
		'has "$ERR" "publish: host 127.0.0.1:1455 -> sandbox 127.0.0.1:1455 (from profile 60-agents/codex.sb"'
	# (by pid: a concurrent test run may hold 1455 by now)
	check "codex: after the session no host listener on 1455 and no forwarder" \
		'[ $RC -eq 0 ] && [ -n "$FWD" ] && ! kill -0 "$FWD" 2>/dev/null && hasnt "$(ss -ltnpH "sport = :1455" 2>/dev/null)" "pid=$FWD,"'
else
	not_ok "codex: port 1455 stayed busy on the host for 60 s"
fi

# A host listener on 1455 (the port busy): codex still runs, with a warning.
if wait_free 1455; then
	(exec timeout 60 "$PY" -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 1455)); s.listen(1); time.sleep(60)') &
	B=$!
	PIDS="$PIDS $B"
	for _ in $(seq 1 50); do listening 1455 && break; sleep 0.1; done
	run env PATH="$W/bin:$PATH" "$S" -- codex -c 'echo codex-ran-anyway'
	check "codex: 1455 busy on the host is a warning, and codex runs" \
		'[ $RC -eq 0 ] && has "$OUT" "codex-ran-anyway" && has "$ERR" "port 1455 is busy on the host"'
	kill "$B" 2>/dev/null
	wait "$B" 2>/dev/null
else
	not_ok "codex busy-port case: port 1455 stayed busy on the host for 60 s"
fi

# ------------------------------------------- explicit HOST:SANDBOX, mode none
HP=$(free_port) IP=$(free_port) U=$(free_port) P2=$(free_port)
rm -f "$W/done"
"$S" --network=none --publish="$HP:$IP" --publish="$P2:$X" -- /bin/sh -c "
	$PY -c 'import socket; socket.socket().bind((\"127.0.0.1\", $U))' 2>/dev/null; echo \"unpublished-bind=\$?\"
	$(serve_until "$IP" "$W/done" "
	sleep 0.5
	$CURL -s -m 3 --noproxy '*' http://127.0.0.1:$X/index.html; echo \"host-service=\$?\"
	$CURL -s -m 3 --noproxy '*' http://127.0.0.1:$HP/index.html; echo \"host-side=\$?\"
	")" >"$T/none.out" 2>"$T/none.err" &
L=$!
PIDS="$PIDS $L"
BODY=$(wait_get "http://127.0.0.1:$HP/index.html")
SBPORT=$(get "http://127.0.0.1:$IP/index.html")
VIA=$(get "http://127.0.0.1:$P2/index.html")
VIARC=$?
FWD=$(fwd_of "$L")
touch "$W/done"
wait "$L"
RC=$? OUT=$(cat "$T/none.out") ERR=$(cat "$T/none.err")
check "--publish=HOST:SANDBOX: host 127.0.0.1:$HP reaches the sandbox's listener on $IP (mode none)" \
	'[ "$BODY" = "hello from inside the sandbox" ]'
check "the sandbox's listener is reached only through its published host port (not host 127.0.0.1:$IP)" \
	'[ -z "$SBPORT" ]'
check "inside, only the published ports can listen (Landlock: binding port $U is refused)" \
	'has "$OUT" "unpublished-bind=" && hasnt "$OUT" "unpublished-bind=0"'
check "inside, the host's loopback service is unreachable (its own namespace), publishing or not" \
	'has "$OUT" "host-service=" && hasnt "$OUT" "host-service=0" && hasnt "$OUT" "hello from the host"'
check "inside, the host side of the published port is not reachable either" \
	'has "$OUT" "host-side=" && hasnt "$OUT" "host-side=0"'
check "publishing the host service's port number reaches the sandbox's port, never the host's service" \
	'[ $VIARC -ne 0 ] && [ -z "$VIA" ]'
check "after the session: no host listener on $HP or $P2, no forwarder" \
	'[ $RC -eq 0 ] && ! listening "$HP" && ! listening "$P2" && [ -n "$FWD" ] && ! kill -0 "$FWD" 2>/dev/null'

# ------------------------------------- bulk both ways and half-close, mode none
# Inside: a server that reads a connection to EOF and answers with the bytes
# reversed (so the client's FIN must cross the forwarder before any answer),
# until it is sent "quit".  Host: 4 MiB through it, checked byte for byte.
cat > "$W/echo.py" <<'PY'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
while True:
    c, _ = s.accept()
    data = bytearray()
    while True:
        b = c.recv(65536)
        if not b:
            break
        data += b
    c.sendall(bytes(reversed(data)))
    c.close()
    if data == b"quit":
        break
PY
cat > "$T/client.py" <<'PY'
import os, socket, sys, time
port = int(sys.argv[1])
def xfer(payload):
    c = socket.create_connection(("127.0.0.1", port), timeout=20)
    c.sendall(payload)
    c.shutdown(socket.SHUT_WR)
    out = bytearray()
    while True:
        b = c.recv(65536)
        if not b:
            break
        out += b
    c.close()
    return bytes(out)
for _ in range(100):  # until the server inside listens
    try:
        if xfer(b"ping") == b"gnip":
            break
    except OSError:
        pass
    time.sleep(0.1)
else:
    print("server-never-answered"); sys.exit(1)
big = os.urandom(4 << 20)
print("bulk-ok" if xfer(big) == big[::-1] else "bulk-mismatch")
print("empty-ok" if xfer(b"") == b"" else "empty-mismatch")
xfer(b"quit")
PY
EP=$(free_port)
"$S" --network=none --publish="$EP" -- "$PY" "$W/echo.py" "$EP" >"$T/echo.out" 2>"$T/echo.err" &
L=$!
PIDS="$PIDS $L"
run timeout 120 "$PY" "$T/client.py" "$EP"
wait "$L"
LRC=$?
check "4 MiB each way through a published port, intact, with the client's half-close passed on" \
	'[ $RC -eq 0 ] && has "$OUT" "bulk-ok" && has "$OUT" "empty-ok" && [ $LRC -eq 0 ]'

# ---------------------------------------------------------------- usage errors
for bad in 0 65536 abc 1:2:3 80: :80 -1 '8080 9000' ''; do
	run "$S" --publish="$bad" -- true
	check "--publish='$bad' is a usage error" '[ $RC -eq 1 ] && { has "$ERR" "not a port to publish" || has "$ERR" "no port"; }'
done
run "$S" --publish=8080:1000 --publish=8080:2000 -- true
check "one host port to two sandbox ports is a usage error naming both" \
	'[ $RC -eq 1 ] && has "$ERR" "host port 8080 is already published to sandbox port 1000"'
run "$S" --network=filtered --publish=3128 -- true
check "filtered mode: the proxy's port 3128 cannot be published" '[ $RC -eq 1 ] && has "$ERR" "3128"'
printf '# user config\npublish=12ab\n' > "$UC"
run "$S" -- true
check "publish= in a config file: a bad port fails with file:line" '[ $RC -eq 1 ] && has "$ERR" "$UC:2"'
printf 'publish=%s:%s\n' "$HP" "$IP" > "$UC"
run "$S" --explain --publish="$P2" --stdout -- true
check "publish= in the user config and --publish accumulate, each with its origin" \
	'[ $RC -eq 0 ] && has "$ERR" "publish: host 127.0.0.1:$HP -> sandbox 127.0.0.1:$IP (from $UC:1)" && has "$ERR" "publish: host 127.0.0.1:$P2 -> sandbox 127.0.0.1:$P2 (from --publish)" && has "$ERR" "publish: automatic: off"'
rm -f "$UC"

# A host port already in use: exit 125 naming it, before the command runs.
rm -f "$W/ran"
run "$S" --publish="$X" -- touch "$W/ran"
check "a busy host port fails with 125 naming the port, and nothing runs" \
	'[ $RC -eq 125 ] && has "$ERR" "127.0.0.1:$X is already in use" && [ ! -e "$W/ran" ]'

run "$S" --network=full --publish="$HP" -- true
check "full network: --publish has no effect and says so" \
	'[ $RC -eq 0 ] && has "$ERR" "no effect with full network" && ! listening "$HP"'

# ---------------------------------------------------------------- auto
A=$(free_port)
rm -f "$W/done" "$W/done2"
PATH="$W/bin:$PATH" "$S" --publish=auto --explain -- codex -c "
	$(serve_until "$A" "$W/done")
	i=0; while [ ! -e $W/done2 ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i+1)); done" \
	>"$T/auto.out" 2>"$T/auto.err" &
L=$!
PIDS="$PIDS $L"
BODY=$(wait_get "http://127.0.0.1:$A/index.html")
PROXY3128=$(ss -ltnpH "sport = :3128" 2>/dev/null)
touch "$W/done" # the listener inside goes away: so must the host's
GONE=no
for _ in $(seq 1 50); do listening "$A" || { GONE=yes; break; }; sleep 0.1; done
touch "$W/done2"
wait "$L"
RC=$? OUT=$BODY ERR=$(cat "$T/auto.err")
check "--publish=auto: a listener opened inside (port $A, filtered mode) is published on the host" \
	'[ "$BODY" = "hello from inside the sandbox" ] && has "$ERR" "publish: automatic: host 127.0.0.1:$A -> sandbox 127.0.0.1:$A"'
check "--publish=auto: when it closes inside, the host port is given back" '[ "$GONE" = yes ]'
check "--publish=auto: the filtering proxy's listener inside (3128) is never published" \
	'hasnt "$PROXY3128" "safehouse-publi" && hasnt "$ERR" "sandbox 127.0.0.1:3128"'
check "--publish=auto: --explain says automatic publishing is on and where from" \
	'[ $RC -eq 0 ] && has "$ERR" "publish: automatic: on (from --publish)"'
run "$S" --explain --stdout -- true
check "--explain: automatic publishing is off by default" 'has "$ERR" "publish: automatic: off"'

# ---------------------------------------------------------------- requirements
if [ "$(id -u)" = 0 ]; then
	E=/var/tmp/safehouse-test-etc
	if [ -e "$E" ]; then
		not_ok "forbid-publish: $E exists already (another run did not clean up)"
	else
		mkdir -m 755 "$E" && printf '# admin\nforbid-publish=true\n' > "$E/requirements" &&
			chmod 644 "$E/requirements"
		run "$SAFEHOUSE_TESTETC" --publish="$HP" -- true
		check "forbid-publish: --publish fails naming the requirement file:line" \
			'[ $RC -eq 1 ] && has "$ERR" "forbid-publish" && has "$ERR" "$E/requirements:2"'
		run env PATH="$W/bin:$PATH" "$SAFEHOUSE_TESTETC" --explain -- codex -c 'echo codex-ok'
		check "forbid-publish: the codex profile's port is left out, and --explain says why" \
			'[ $RC -eq 0 ] && has "$OUT" "codex-ok" && has "$ERR" "left out: the administrator'"'"'s requirement forbid-publish"'
		rm -rf "$E"
	fi
fi
