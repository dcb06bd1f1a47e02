#!/bin/sh
# Where the start-up time goes: builds safehouse with -DSH_TIMING (the
# SH_TP() points of src/util/tpoint.h print "T <ns> <name>" to stderr),
# runs the default codex policy (network none, /bin/true as codex) N times
# and prints, per point, the median time since the run started and the
# step from the point before.  Points of init and the command come from
# other processes, on the same clock.
#   bench/timeline.sh [N]     (make timeline)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-300}
B="$ROOT/build-timing"
make -C "$ROOT" --no-print-directory -s BUILD=build-timing CFLAGS="-O2 -g -DSH_TIMING" \
	build-timing/safehouse >/dev/null
mkdir -p "$B/timeline"
cc -O2 -o "$B/timeline/timeline" "$ROOT/bench/timeline.c"
WD=$(mktemp -d /tmp/sh-timeline.XXXXXX)
trap 'rm -rf "$WD"' EXIT
mkdir "$WD/bin" && cp /bin/true "$WD/bin/codex"
(cd "$WD" && "$B/timeline/timeline" "$N" "$B/safehouse" --network=none -- "$WD/bin/codex") \
	2>"$B/timeline/points.txt"
python3 - "$B/timeline/points.txt" <<'PY'
import collections, statistics, sys
runs, cur = [], None
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) != 3 or p[0] != "T":
        continue
    t, name = int(p[1]), p[2]
    if name == "run-start":
        cur = {name: t}
        runs.append(cur)
    elif cur is not None and name not in cur:
        cur[name] = t
runs = runs[len(runs) // 10:]  # warm-up
pts = collections.defaultdict(list)
for r in runs:
    for name, t in r.items():
        pts[name].append((t - r["run-start"]) / 1e6)
prev = 0.0
print("%-12s %9s %9s" % ("point", "at ms", "step ms"))
for m, name in sorted((statistics.median(v), n) for n, v in pts.items()):
    print("%-12s %9.3f %+9.3f" % (name, m, m - prev))
    prev = m
PY
