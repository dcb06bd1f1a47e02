#!/bin/sh
# Start-up and workload benchmarks: safehouse against the baselines, all from
# ONE run on the same machine, so the ratios mean something even where the
# absolute numbers drift (shared, noisy virtual machines).
#   bench/run.sh [BUILD]   (make bench: installs hyperfine, bubblewrap and
#                           firejail first, via SH_BENCH_DEPS=1 tools/deps.sh)
# Knobs: SH_BENCH_RUNS   start-up runs per command (default 300)
#        SH_BENCH_WORK=0 skip the workloads
#        SH_BENCH_USER=0 skip the unprivileged start-up pass (root only)
#        SH_BENCH_README=0 do not write the figures into README.md
#        SH_BENCH_GIT_ROUNDS rounds of git status inside a session (default 30)
#
# Start-up: `-- /bin/true`, hyperfine -N (no shell), median of the runs, for
#   bare exec, safehouse (default codex policy, network none, fresh workdir:
#   /bin/true copied as bin/codex), safehouse
#   --enable=all-agents, bubblewrap with the agent-like view safehouse
#   itself builds (the same mounts, from --print-plan; every namespace
#   unshared, new session, die with parent), bubblewrap with a minimal view
#   (reference) and firejail --noprofile.  Ratio: (safehouse - bare) /
#   (bwrap - bare), target <= 0.5.
# Workloads, inside vs outside, median of several runs, in rounds that
#   alternate which side goes first: make -j2 of a generated 150-file C
#   project (cleaned before every run) and git status in a generated
#   20k-file repository (the workdir), the latter twice: inside one running
#   session (hyperfine runs in the sandbox: what an agent's git commands
#   cost) and one session per command (start-up and the post-session audit
#   included).  Overhead inside/outside - 1, target <= 3%.  For reference
#   (no target): unpacking a 5,000-file tar inside one session, where every
#   file created goes through the creation supervisor.
# Everything generated lives in BUILD/bench/ and is removed at the end.
#
# Internal: bench/run.sh --startup SAFEHOUSE WORKDIR OUT.json [firejail]
#   one start-up measurement (used again for the unprivileged pass).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY="$ROOT/bench/stats.py"
RUNS=${SH_BENCH_RUNS:-300}

die() { echo "bench: $*" >&2; exit 1; }

# bubblewrap with a minimal view (system read-only, a few /etc files,
# private /tmp and $HOME, the project read-write): shown for reference.
bwrap_cmd() { # WORKDIR HOME
	a="bwrap --ro-bind /usr /usr"
	for l in bin sbin lib lib32 lib64; do
		[ -L "/$l" ] && a="$a --symlink $(readlink "/$l") /$l"
	done
	a="$a --dir /etc"
	for f in passwd group hosts resolv.conf nsswitch.conf ld.so.cache localtime ssl \
		ca-certificates alternatives; do
		[ -e "/etc/$f" ] && a="$a --ro-bind /etc/$f /etc/$f"
	done
	echo "$a --proc /proc --dev /dev --tmpfs /tmp --tmpfs $2 --bind $1 $1 --chdir $1" \
		"--unshare-all --new-session --die-with-parent"
}

# bubblewrap given the very view safehouse builds for this workdir (from its
# --print-plan: the same binds, pins, directories, symlinks, masks and
# tmpfs, in the same order), so the ratio compares two tools doing the same
# mount work.  Fails (prints nothing) if a path needs quoting.
bwrap_plan_cmd() { # SAFEHOUSE WORKDIR SAFEHOUSE-ARGS...
	sh_bin=$1 wd=$2
	shift 2
	(cd "$wd" && "$sh_bin" --print-plan "$@") 2>/dev/null | awk -v wd="$wd" '
	function add(s) { a = a " " s }
	function ok(p) { if (p ~ /[[:space:]\047"\\$`*?]/) bad = 1; return p }
	$1 == "bind-ro" || $1 == "pin-ro" { add("--ro-bind " ok($2) " " $2) }
	$1 == "bind-rw" || $1 == "pin-rw" { add("--bind " ok($2) " " $2) }
	$1 == "dir"     { add("--dir " ok($2)) }
	$1 == "symlink" { add("--symlink " ok($4) " " ok($2)) }
	$1 == "tmpfs"   { add("--tmpfs " ok($2)) }
	$1 == "mask"    { add(($3 == "(file)" ? "--ro-bind /dev/null " : "--tmpfs ") ok($2)) }
	$1 == "proc"    { add("--proc " ok($2)) }
	$1 == "dev"     { add("--dev " ok($2)) }
	END {
		if (bad || a == "") exit 1
		print "bwrap" a " --chdir " wd " --unshare-all --new-session --die-with-parent"
	}'
}

# startup SAFEHOUSE WORKDIR OUT.json FIREJAIL(0/1): hyperfine over every
# command, in one run; the command names go to OUT.json.names.
startup() {
	sh_bin=$1 wd=$2 out=$3 fj=$4
	# The default codex policy (network none): the command is a stand-in
	# named codex (a copy of /bin/true) in the workdir, so the codex
	# profile is selected as for the real agent.
	mkdir -p "$wd/bin" && cp /bin/true "$wd/bin/codex" || return 1
	codex="--network=none -- $wd/bin/codex"
	set -- "/bin/true" "$sh_bin $codex" "$sh_bin --enable=all-agents -- /bin/true"
	names="bare safehouse safehouse-all-agents"
	b=$(bwrap_cmd "$wd" "$HOME")
	if command -v bwrap >/dev/null 2>&1 && (cd "$wd" && $b /bin/true) >/dev/null 2>&1; then
		set -- "$@" "$b /bin/true"
		names="$names bwrap-minimal"
	fi
	b=$(bwrap_plan_cmd "$sh_bin" "$wd" --network=none -- "$wd/bin/codex")
	if [ -n "$b" ] && command -v bwrap >/dev/null 2>&1 && (cd "$wd" && $b /bin/true) >/dev/null 2>&1
	then
		set -- "$@" "$b /bin/true"
		names="$names bwrap"
	else
		echo "bench: bubblewrap with safehouse's view could not run here" >&2
	fi
	if [ "$fj" = 1 ]; then
		set -- "$@" "firejail --quiet --noprofile /bin/true"
		names="$names firejail"
	fi
	# In ROUNDS short rounds, the order reversed every other round: the
	# report takes each round's ratio and then their median, so load that
	# comes and goes on a shared machine does not fall on one command.
	rounds=${SH_BENCH_ROUNDS:-10}
	per=$(( (RUNS + rounds - 1) / rounds ))
	# the commands one per line, in both orders (IFS splits at newlines only)
	fwd="" rev=""
	for c in "$@"; do fwd="$fwd$c
" rev="$c
$rev"; done
	oldifs=$IFS
	set -f # the split below must not glob
	r=1
	while [ "$r" -le "$rounds" ]; do
		IFS='
'
		if [ $((r % 2)) = 0 ]; then set -- $rev; else set -- $fwd; fi
		IFS=$oldifs
		(cd "$wd" && hyperfine -N --style none --warmup 5 --runs "$per" \
			--export-json "$out.r$r" "$@") >/dev/null 2>"$out.err" ||
			{ cat "$out.err" >&2; return 1; }
		r=$((r + 1))
	done
	IFS='
'
	set -- $fwd
	IFS=$oldifs
	set +f
	# One file: every command's times pooled, and per round.
	python3 - "$out" "$rounds" "$@" <<'PY' || return 1
import json, sys
out, rounds, cmds = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
res = {c: {"command": c, "times": [], "round_times": []} for c in cmds}
for r in range(1, rounds + 1):
    with open("%s.r%d" % (out, r)) as f:
        for x in json.load(f)["results"]:
            res[x["command"]]["times"].extend(x["times"])
            res[x["command"]]["round_times"].append(x["times"])
with open(out, "w") as f:
    json.dump({"results": [res[c] for c in cmds]}, f)
PY
	rm -f "$out".r*
	echo "$names" >"$out.names"
}

firejail_ok() { # WORKDIR -> prints the reason when it cannot run
	if ! command -v firejail >/dev/null 2>&1; then
		echo "not installed"
		return 1
	fi
	if ! o=$(cd "$1" && firejail --quiet --noprofile /bin/true 2>&1); then
		echo "cannot run here: $(echo "$o" | head -1)"
		return 1
	fi
	return 0
}

if [ "${1:-}" = "--startup" ]; then
	startup "$2" "$3" "$4" "${5:-0}"
	exit $?
fi

BUILD=${1:-build}
SH="$ROOT/$BUILD/safehouse"
BENCH="$ROOT/$BUILD/bench"
udir=""
[ -x "$SH" ] || die "$SH not built (make all)"
command -v hyperfine >/dev/null 2>&1 || die "hyperfine missing (make bench installs it)"
command -v python3 >/dev/null 2>&1 || die "python3 missing"

cleanup() {
	rm -rf "$BENCH"
	[ -n "$udir" ] && rm -rf "$udir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
rm -rf "$BENCH"
mkdir -p "$BENCH/wd" "$BENCH/json" || die "cannot create $BENCH"
WD="$BENCH/wd"
NOTES="$BENCH/notes"
: >"$NOTES"

# ---- start-up, as the current user ----
me=$(id -un)
fj=1
why=$(firejail_ok "$WD") || { fj=0; echo "firejail ($me): skipped, $why" >>"$NOTES"; }
echo "bench: start-up as $me, $RUNS runs per command"
startup "$SH" "$WD" "$BENCH/json/startup-$me.json" "$fj" || die "start-up measurement failed"
set -- "$me=$BENCH/json/startup-$me.json"

# ---- start-up, as an unprivileged user (when root) ----
tuser=${SH_TEST_USER:-safehouse-test}
if [ "$(id -u)" = 0 ] && [ "${SH_BENCH_USER:-1}" != 0 ]; then
	id "$tuser" >/dev/null 2>&1 || useradd -m -s /bin/sh "$tuser" >/dev/null 2>&1
	uhome=$(getent passwd "$tuser" 2>/dev/null | cut -d: -f6)
	if [ -n "$uhome" ] && [ -d "$uhome" ] && udir=$(mktemp -d "$uhome/sh-bench.XXXXXX"); then
		chmod 755 "$udir"
		cp "$SH" "$udir/safehouse" && cp "$ROOT/bench/run.sh" "$udir/run.sh" &&
			mkdir "$udir/wd" && chown -R "$tuser" "$udir"
		ufj=1
		why=$(su "$tuser" -s /bin/sh -c "$(command -v firejail || echo false) --quiet --noprofile /bin/true" 2>&1) ||
			{ ufj=0; echo "firejail ($tuser): skipped, cannot run here: $(echo "$why" | head -1)" >>"$NOTES"; }
		echo "bench: start-up as $tuser"
		if su "$tuser" -s /bin/sh -c "cd '$udir/wd' && HOME='$uhome' SH_BENCH_RUNS=$RUNS sh '$udir/run.sh' --startup '$udir/safehouse' '$udir/wd' '$udir/startup.json' $ufj"; then
			cp "$udir/startup.json" "$BENCH/json/startup-$tuser.json"
			cp "$udir/startup.json.names" "$BENCH/json/startup-$tuser.json.names"
			set -- "$@" "$tuser=$BENCH/json/startup-$tuser.json"
		else
			echo "unprivileged start-up ($tuser): failed, see above" >>"$NOTES"
		fi
	fi
fi

# in_session NAME DIR ROUNDS WARMUP RUNS COMMAND LABEL: COMMAND run by
# hyperfine inside one session (hyperfine itself in the sandbox; its JSON
# comes back through a pipe, since the sandbox cannot reopen a host file as
# /dev/stdout, so nothing is written into DIR) and outside, in ROUNDS rounds
# that alternate which side goes first: json/NAME-in-R.json and
# json/NAME-out-R.json.
in_session() {
	_n=$1 _d=$2 _rounds=$3 _w=$4 _runs=$5 _cmd=$6 _label=$7
	for r in $(seq "$_rounds"); do
		echo "bench: $_label, round $r"
		ins() { (cd "$_d" && $SH -- hyperfine -N --style none --warmup "$_w" --runs "$_runs" \
			--export-json /dev/stdout "$_cmd" 2>"$BENCH/$_n.err") |
			cat >"$BENCH/json/$_n-in-$r.json" && [ -s "$BENCH/json/$_n-in-$r.json" ]; }
		outs() { (cd "$_d" && hyperfine -N --style none --warmup "$_w" --runs "$_runs" \
			--export-json /dev/stdout "$_cmd") >"$BENCH/json/$_n-out-$r.json" \
			2>"$BENCH/$_n.err"; }
		if [ $((r % 2)) = 1 ]; then outs && ins; else ins && outs; fi ||
			{ cat "$BENCH/$_n.err" >&2; die "$_label failed"; }
	done
}

# ---- workloads ----
WORK=""
if [ "${SH_BENCH_WORK:-1}" != 0 ]; then
	echo "bench: generating the workloads in $BENCH"
	python3 "$PY" gen-c "$BENCH/cproj" 150 || die "cannot generate the C project"
	python3 "$PY" gen-repo "$BENCH/repo" 20000 || die "cannot generate the git repository"
	# rounds alternate which side runs first, against drift
	for r in 1 2 3; do
		echo "bench: make -j2, round $r"
		in="$SH -- make -s -j2" outc="make -s -j2"
		if [ $((r % 2)) = 1 ]; then a=$outc b=$in; else a=$in b=$outc; fi
		(cd "$BENCH/cproj" && hyperfine -N --style none --runs 3 --prepare "make -s clean" \
			--export-json "$BENCH/json/make-$r.json" "$a" "$b") >/dev/null 2>"$BENCH/make.err" ||
			{ cat "$BENCH/make.err" >&2; die "make workload failed"; }
		echo "bench: git status, round $r"
		in="$SH -- git status" outc="git status"
		if [ $((r % 2)) = 1 ]; then a=$outc b=$in; else a=$in b=$outc; fi
		(cd "$BENCH/repo" && hyperfine -N --style none --warmup 3 --runs 10 \
			--export-json "$BENCH/json/git-$r.json" "$a" "$b") >/dev/null 2>"$BENCH/git.err" ||
			{ cat "$BENCH/git.err" >&2; die "git workload failed"; }
	done
	# The agent's view: one session, many git commands inside it
	# (hyperfine itself runs in the sandbox; its JSON comes back on
	# stdout, so nothing is written into the repository).  Short rounds,
	# alternating which side goes first; the report takes the median of
	# the per-round ratios (a paired estimate: the machine's drift between
	# rounds cancels out).  Single rounds swing by +-10% on a shared
	# machine, so thirty of them (about a second each).
	in_session gitsess "$BENCH/repo" "${SH_BENCH_GIT_ROUNDS:-30}" 3 12 "git status" \
		"git status inside one session"
	# Creation-heavy (reference, no target in the issue): unpacking 5,000
	# small files from a tar, one session running, each run into a new
	# directory (nothing deleted between runs: some filesystems make
	# creating right after deleting slower).  Every file created inside
	# is a round trip to the creation supervisor (init).
	mkdir -p "$BENCH/untar" &&
		(cd "$BENCH/repo" && git ls-files | head -5000 | tar -cf "$BENCH/untar/src.tar" -T -) ||
		die "cannot make the tar"
	in_session untar "$BENCH/untar" 3 1 5 'sh -c "tar -C \$(mktemp -d out.XXXXXX) -xf src.tar"' \
		"tar -x of 5,000 files inside one session"
	WORK="$BENCH/json"
fi

readme=""
[ "${SH_BENCH_README:-1}" != 0 ] && readme="$ROOT/README.md"
python3 "$PY" report --sh "$SH" --notes "$NOTES" --work "$WORK" --readme "$readme" "$@"

# The network proxy: 1 GiB through it vs direct, set-up, 1,000 tunnels.
sh "$ROOT/bench/net.sh" "$BUILD" || echo "bench: network benchmark failed (see above)"

# The post-session audit on a 100k-file workdir (target: under 50 ms).
echo "bench: audit of a 100k-file workdir"
sh "$ROOT/bench/audit.sh" "$BUILD" || echo "bench: audit over budget (see above)"
