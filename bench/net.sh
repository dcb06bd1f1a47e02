#!/bin/sh
# Network proxy benchmarks (docs/network.md, "Measured"): builds
# bench/net-bench.c against src/proxy and src/util, then measures, all on
# 127.0.0.1 and in one run:
#   - a 1 GiB download from a loopback server, direct and through the proxy,
#     in rounds that alternate which goes first; the same client and server
#     code for both; ratio of the medians (target >= 90%);
#   - connection set-up overhead, CONNECT and SOCKS5, median (target <= 1 ms);
#   - 1,000 tunnels held at once, the proxy's peak RSS (target <= 16 MiB).
# Writes the figures into README.md between the bench-net markers.
#   bench/net.sh [BUILD]
# Knobs: SH_BENCH_NET_ROUNDS  download rounds (default 7)
#        SH_BENCH_NET_BYTES   bytes per download (default 1073741824)
#        SH_BENCH_README=0    do not write README.md
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
ROUNDS=${SH_BENCH_NET_ROUNDS:-7}
BYTES=${SH_BENCH_NET_BYTES:-1073741824}
mkdir -p "$BUILD" || exit 2
${CC:-cc} -std=gnu11 -D_GNU_SOURCE -O2 -I"$ROOT/src" -Wall -Wextra \
	"$ROOT/bench/net-bench.c" "$ROOT"/src/proxy/*.c "$ROOT"/src/util/*.c \
	-o "$BUILD/net-bench" || exit 2
echo "bench: network proxy, $ROUNDS rounds of $BYTES bytes each way, set-up, 1,000 tunnels"
out=$("$BUILD/net-bench" --rounds "$ROUNDS" --bytes "$BYTES") || {
	echo "$out"
	echo "bench: net-bench failed" >&2
	exit 1
}
echo "$out"

v() { printf '%s\n' "$out" | awk -v k="$1" '$1 == k { print $2; exit }'; }
verdict() { # VALUE OP TARGET
	if awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN { exit !(op == ">=" ? a >= b : a <= b) }'; then
		echo PASS
	else
		echo FAIL
	fi
}
ratio=$(v throughput_ratio)
spread=$(printf '%s\n' "$out" | awk '$1 == "throughput_round" { r = $6 / $4; if (n++ == 0 || r < lo) lo = r; if (r > hi) hi = r }
	END { printf "%.0f-%.0f%%", lo * 100, hi * 100 }')
pct=$(awk -v r="$ratio" 'BEGIN { printf "%.0f", r * 100 }')
conn=$(v setup_connect_overhead_ms) socks=$(v setup_socks_overhead_ms)
worst=$(awk -v a="$conn" -v b="$socks" 'BEGIN { print (a > b ? a : b) }')
hwm=$(v hold_proxy_hwm_kib)
hwm_mib=$(awk -v k="$hwm" 'BEGIN { printf "%.1f", k / 1024 }')
cores=$(nproc 2>/dev/null || echo "?")
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
gib=$(awk -v b="$BYTES" 'BEGIN { printf "%g", b / 1073741824 }')

md=$(cat <<EOF
Measured $(date +%F) with \`make bench\` (bench/net.sh; $(uname -m), $cores cores, Linux $(uname -r); load average $load). Everything on 127.0.0.1: the server, the proxy (src/proxy, its own process) and the client compete for the same cores.

| benchmark | target | measured | |
|---|---|---|---|
| ${gib} GiB download through the proxy vs direct, median of $ROUNDS alternating rounds each | ≥ 90% | $pct% ($(v throughput_proxy_gbs) vs $(v throughput_direct_gbs) GB/s; rounds $spread) | $(verdict "$ratio" ">=" 0.90) |
| proxy CPU per GiB relayed | | $(v throughput_proxy_cpu_s_per_gib) s | |
| connection set-up overhead, median of $(v setup_runs) (connect + request + 1-byte echo, minus direct) | ≤ 1 ms | $conn ms (CONNECT), $socks ms (SOCKS5) | $(verdict "$worst" "<=" 1) |
| $(v hold_conns) tunnels held at once ($(v hold_ok) echoed), proxy peak RSS | ≤ 16 MiB | $hwm_mib MiB, $(v hold_proxy_fds) fds | $(verdict "$hwm" "<=" 16384) |
EOF
)
printf '\n%s\n\n' "$md"
if [ "${SH_BENCH_README:-1}" != 0 ]; then
	readme="$ROOT/README.md"
	if grep -q '<!-- bench-net:start -->' "$readme" && grep -q '<!-- bench-net:end -->' "$readme"; then
		printf '%s\n' "$md" >"$BUILD/net-bench.md"
		awk -v f="$BUILD/net-bench.md" '
			/<!-- bench-net:start -->/ { print; while ((getline l < f) > 0) print l; skip = 1; next }
			/<!-- bench-net:end -->/ { skip = 0 }
			!skip' "$readme" >"$readme.tmp" && mv "$readme.tmp" "$readme"
		echo "bench: network figures written to $readme"
	else
		echo "bench: $readme has no bench-net markers; not written" >&2
	fi
fi
