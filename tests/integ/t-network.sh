#!/bin/sh
# --network=filtered end to end (safehouse(1), --network): the proxy's
# listener inside the sandbox's network namespace, the proxy process on the
# host side, the environment, the default mode per agent, the summary and
# the decision log.
#
# NETWORK RULE: nothing here may send traffic anywhere but loopback, even
# when the code under test is wrong.  Every name requested is "localhost" or
# a 127.0.0.1 literal, so even a proxy that allowed everything would only
# ever resolve and connect to this machine's loopback; no DNS query leaves it.
. "$(dirname "$0")/lib.sh"

S=$SAFEHOUSE
CURL=/usr/bin/curl
PY=/usr/bin/python3
H=$T/home W=$T/work
mkdir -p "$H" "$W" "$T/srv"
export HOME="$H"
cd "$W" || exit 1
cp "$PROBE" "$W/probe"

if [ ! -x "$CURL" ] && [ "$(id -u)" = 0 ]; then
	apt-get install -y -q curl >/dev/null 2>&1 || true
fi
if [ ! -x "$CURL" ] || [ ! -x "$PY" ]; then
	skip "filtered network end to end" "needs $CURL and $PY"
	exit 0
fi

# A tiny HTTP server on the host's 127.0.0.1, ephemeral port, bounded life.
echo "hello from the host loopback" > "$T/srv/index.html"
SRV=""
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
(cd "$T/srv" && exec timeout 300 "$PY" -u -m http.server --bind 127.0.0.1 0 >"$T/srv.log" 2>&1) &
SRV=$!
PORT=""
for _ in $(seq 1 100); do
	PORT=$(sed -n 's/.*127\.0\.0\.1 port \([0-9][0-9]*\).*/\1/p' "$T/srv.log" | head -n 1)
	[ -n "$PORT" ] && break
	sleep 0.1
done
if [ -z "$PORT" ]; then
	not_ok "the test HTTP server started"
	exit 0
fi
OTHER=$((PORT == 65535 ? PORT - 1 : PORT + 1)) # a port nobody allowed
LOG=$T/netlog

# ---------------------------------------------------------------- filtered
run "$S" --network=filtered --allow-domains="localhost:$PORT" --allow-private-network \
	--network-log="$LOG" -- /bin/sh -c "
	$CURL -s -m 10 --noproxy '' http://localhost:$PORT/; echo \"rc1=\$?\"
	$CURL -s -m 10 --noproxy '' -x socks5h://127.0.0.1:3128 http://localhost:$PORT/; echo \"rc2=\$?\"
	$CURL -s -m 10 --noproxy '' http://localhost:$OTHER/; echo \"rc3=\$?\"
	$CURL -s -m 10 --noproxy '' http://127.0.0.1:$PORT/; echo \"rc4=\$?\"
	$CURL -s -m 5 --noproxy '*' http://127.0.0.1:$PORT/; echo \"direct=\$?\"
	./probe connect-tcp 127.0.0.1 $PORT; echo \"probe=\$?\"
	echo \"env=\$HTTP_PROXY \$HTTPS_PROXY \$ALL_PROXY \$NO_PROXY \$http_proxy \$all_proxy\""
check "filtered: an allowed destination is reached through the proxy (HTTP_PROXY)" \
	'[ $RC -eq 0 ] && has "$OUT" "hello from the host loopback
rc1=0"'
check "filtered: SOCKS5 (socks5h) through the same listener" 'has "$OUT" "hello from the host loopback
rc2=0"'
check "filtered: a destination not allowed gets 403 naming the rule and --allow-domains" \
	'has "$OUT" "refused localhost:$OTHER" && has "$OUT" "To allow it: --allow-domains=localhost:$OTHER"'
check "filtered: an unlisted IP literal is refused" 'has "$OUT" "refused 127.0.0.1:$PORT"'
check "filtered: a direct connection ignoring the proxy fails (curl)" \
	'has "$OUT" "direct=" && hasnt "$OUT" "direct=0"'
check "filtered: direct TCP to anything but the proxy port fails (EACCES)" \
	'has "$OUT" "EACCES" && hasnt "$OUT" "probe=0"'
check "filtered: proxy variables set for the command" \
	'has "$OUT" "env=http://127.0.0.1:3128 http://127.0.0.1:3128 socks5h://127.0.0.1:3128 localhost,127.0.0.1,::1 http://127.0.0.1:3128 socks5h://127.0.0.1:3128"'
check "filtered: the summary on stderr lists allowed and denied destinations" \
	'has "$ERR" "network: allowed 1 destination" && has "$ERR" "localhost:$PORT" && has "$ERR" "localhost:$OTHER  port-not-allowed" && has "$ERR" "127.0.0.1:$PORT  ip-literal"'
run cat "$LOG"
check "--network-log has every decision" \
	'has "$OUT" "allow http localhost:$PORT" && has "$OUT" "allow socks5 localhost:$PORT" && has "$OUT" "deny http localhost:$OTHER" && hasnt "$OUT" "index.html"'
run stat -c %a "$LOG"
check "--network-log is created 0600" '[ "$OUT" = 600 ]'

run env HTTP_PROXY=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 "$S" --env --network=filtered \
	-- /bin/sh -c 'echo "$HTTP_PROXY $http_proxy"'
check "filtered: the host's proxy variables are replaced (--env)" \
	'[ "$OUT" = "http://127.0.0.1:3128 http://127.0.0.1:3128" ]'

run "$S" --network=filtered --allow-domains="localhost:$PORT" --deny-domains=localhost:"$PORT" \
	--allow-private-network -- $CURL -s -m 10 --noproxy '' "http://localhost:$PORT/"
check "--deny-domains wins over --allow-domains" 'has "$OUT" "deny rule" && hasnt "$OUT" "hello from"'

run "$S" --network=filtered --allow-domains="localhost:$PORT" -- \
	$CURL -s -m 10 --noproxy '' "http://localhost:$PORT/"
check "without --allow-private-network, loopback answers are refused (names the flag)" \
	'has "$OUT" "--allow-private-network" && hasnt "$OUT" "hello from"'

run "$S" --network=filtered -- $CURL -s -m 10 --noproxy '' "http://localhost:$PORT/"
check "--network=filtered with no destination refuses everything" \
	'has "$OUT" "refused localhost:$PORT" && hasnt "$OUT" "hello from"'

run "$S" --network=filtered --allow-domains='*' -- true
check "an invalid destination is a usage error before anything runs" '[ $RC -eq 1 ] && has "$ERR" "--allow-domains"'

# ---------------------------------------------------------------- none / full
run "$S" --network=none -- /bin/sh -c "$CURL -s -m 5 --noproxy '' http://localhost:$PORT/; echo \"curl=\$?\"; ./probe connect-tcp 127.0.0.1 $PORT; echo \"env=\${HTTP_PROXY:-unset}\""
check "--network=none: no network at all (no AF_INET, no proxy variables)" \
	'has "$OUT" "EAFNOSUPPORT" && hasnt "$OUT" "curl=0" && has "$OUT" "env=unset" && hasnt "$OUT" "hello from"'
run "$S" --network=full -- $CURL -s -m 10 --noproxy '*' "http://127.0.0.1:$PORT/"
check "--network=full reaches the host's loopback server" '[ $RC -eq 0 ] && has "$OUT" "hello from the host loopback"'

# ---------------------------------------------------------------- defaults
mkdir -p "$W/bin" # the workdir is visible inside
printf '#!/bin/sh\n# stands in for codex: consume the -c KEY=VALUE that safehouse inserts, as codex does\nif [ "$1" = -c ] && [ "$2" = '"'"'sandbox_mode="danger-full-access"'"'"' ]; then shift 2; fi\nexec /bin/sh "$@"\n' > "$W/bin/codex"; chmod +x "$W/bin/codex"
run env PATH="$W/bin:$PATH" "$S" --explain -- codex -c 'echo "proxy=${HTTP_PROXY:-unset}"'
check "default for codex (its profile declares destinations): filtered" \
	'[ $RC -eq 0 ] && has "$ERR" "network: filtered (the profiles declare network destinations)" && has "$ERR" "network allow: api.openai.com:443 (from 60-agents/codex.sb:" && has "$ERR" "127.0.0.1:3128" && has "$OUT" "proxy=http://127.0.0.1:3128"'
run "$S" --explain -- /bin/sh -c 'echo "proxy=${HTTP_PROXY:-unset}"'
check "default for sh: none" '[ $RC -eq 0 ] && has "$ERR" "network: none (no profile" && has "$OUT" "proxy=unset"'
run "$S" --explain --network=filtered --allow-domains=example.test --deny-domains=bad.example.test -- true
check "--explain lists every rule with its origin" \
	'has "$ERR" "network allow: example.test (from --allow-domains)" && has "$ERR" "network deny: bad.example.test (from --deny-domains)"'

# ---------------------------------------------------------------- nothing left running
"$S" --network=filtered -- /bin/sh -c 'sleep 2' >/dev/null 2>&1 &
L=$!
PX=""
for _ in $(seq 1 50); do
	PX=$(pgrep -P "$L" -x safehouse-proxy 2>/dev/null | head -n 1)
	[ -n "$PX" ] && break
	sleep 0.1
done
wait "$L"
RC=$? OUT="proxy pid ${PX:-none}" ERR=""
check "the proxy ran as the launcher's child and is gone after the session" \
	'[ -n "$PX" ] && ! kill -0 "$PX" 2>/dev/null'
