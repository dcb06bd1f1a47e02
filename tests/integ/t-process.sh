#!/bin/sh
# Process life (issue "Process life", threats.md PROC-06, TERM-04): exit
# statuses passed through exactly, 125/126/127 from safehouse itself with a
# message, signals sent to the launcher reach the command, nothing inside
# outlives the session or the launcher, argv exact, nothing left on the host.
. "$(dirname "$0")/lib.sh"
S=$SAFEHOUSE
H=$T/home; W=$T/work; mkdir -p "$H/.ssh" "$W"
echo secret > "$H/.ssh/id_ed25519"
export HOME=$H; unset XDG_CONFIG_HOME SAFEHOUSE_WORKDIR SAFEHOUSE_ADD_DIRS SAFEHOUSE_ADD_DIRS_RO \
	SAFEHOUSE_TRUST_WORKDIR_CONFIG SAFEHOUSE_ENV_PASS SAFEHOUSE_PROFILES_DIR
cd "$W" || exit 1
W=$(pwd -P); H=$(cd "$H" && pwd -P)
cp "$PROBE" "$W/probe"
n=$$ # unique numbers for the processes we look for afterwards

# wait_for 'CONDITION': up to ~5 s
wait_for() {
	_i=0
	while [ $_i -lt 100 ]; do
		eval "$1" && return 0
		sleep 0.05; _i=$((_i + 1))
	done
	return 1
}
# gone PATTERN: no process whose full command line matches PATTERN (ERE)
gone() { ! pgrep -f -- "$1" >/dev/null 2>&1; }

# What this run could leave on the host: names under the shared temporary
# directories that safehouse would create, and mounts of our fixtures.
host_snapshot() {
	for d in /tmp /dev/shm /var/tmp /run/user/$(id -u); do
		ls -a "$d" 2>/dev/null | grep -E '^\.?safehouse' | grep -v '^safehouse-test-etc$' | sed "s#^#$d/#"
	done
	grep -F -e "$T" -e safehouse /proc/self/mountinfo
}
host_snapshot > "$T/host.before"

# --- exit statuses
for c in 0 1 3 255; do
	run "$S" -- sh -c "exit $c" </dev/null
	check "exit $c is passed through" '[ $RC -eq '$c' ] && [ -z "$ERR" ]'
done
run "$S" -- sh -c 'kill -TERM $$' </dev/null
check "a command killed by SIGTERM gives 143" '[ $RC -eq 143 ]'
run "$S" -- sh -c 'kill -KILL $$' </dev/null
check "a command killed by SIGKILL gives 137" '[ $RC -eq 137 ]'
run "$S" -- sh -c 'exit 127' </dev/null
check "the command's own 127 is passed through without a safehouse message" '[ $RC -eq 127 ] && hasnt "$ERR" "safehouse"'

# --- 126 / 127 / 125 from safehouse itself
printf 'not a program\n' > "$W/notexec"; chmod 644 "$W/notexec"
run "$S" -- ./notexec </dev/null
check "a file without x permission: 126 and a message" '[ $RC -eq 126 ] && has "$ERR" "cannot run '\''./notexec'\''"'
mkdir -p "$W/adir"
run "$S" -- ./adir </dev/null
check "a directory as command: 126" '[ $RC -eq 126 ] && has "$ERR" "adir"'
run "$S" -- "no-such-command-$n" </dev/null
check "an unknown command: 127, command not found" '[ $RC -eq 127 ] && has "$ERR" "no-such-command-$n'\'': command not found"'
run "$S" -- ./missing </dev/null
check "a missing path: 127" '[ $RC -eq 127 ] && has "$ERR" "./missing"'
# With no workdir the command starts in the current directory, and one that
# no rule grants does not exist inside: a real set-up failure after the
# namespaces exist.  (A workdir in /proc or /dev is refused before that.)
mkdir "$T/hidden"
run sh -c 'cd "$1" && exec "$2" --workdir= -- sh -c "echo RAN"' sh "$T/hidden" "$S" </dev/null
check "set-up failure: 125, the step and the path named, nothing ran" \
	'[ $RC -eq 125 ] && has "$ERR" "chdir: cannot enter '\''$T/hidden'\''" && hasnt "$OUT" "RAN"'

# --- argv and the -- boundary
run "$S" -- sh -c 'for a; do printf "[%s]" "$a"; done' argv0 "a b" "" -- "it's" '"q"' '$HOME' '*' -x "tab	x" </dev/null
check "argv with spaces, quotes, empty words and -- arrives exactly" \
	'[ "$OUT" = "[a b][][--][it'\''s][\"q\"][\$HOME][*][-x][tab	x]" ]'
run "$S" -- printf '%s|' --help --version -- --explain </dev/null
check "words after -- are the command's, not safehouse options" '[ $RC -eq 0 ] && [ "$OUT" = "--help|--version|--|--explain|" ]'
run "$S" -- FOO="a b" sh -c 'printf "%s" "$FOO"' </dev/null
check "NAME=VALUE before the command sets the variable" '[ "$OUT" = "a b" ]'

# --- signals sent to the launcher reach the command
if env --default-signal=INT true 2>/dev/null; then
	for pair in INT:41 TERM:42 HUP:43 USR1:44; do
		sig=${pair%:*}; code=${pair#*:}
		: > "$T/sig.out"
		# a background job of a script has SIGINT ignored: undo that, as an
		# interactive shell's job would have it
		env --default-signal=INT,QUIT "$S" -- sh -c \
			'trap "echo got-$1; exit $2" "$1"; echo ready; while :; do sleep 0.05; done' \
			sh "$sig" "$code" </dev/null >"$T/sig.out" 2>&1 &
		pid=$!
		wait_for 'grep -q ready "$T/sig.out"'
		kill -"$sig" $pid
		wait $pid; RC=$?
		OUT=$(cat "$T/sig.out"); ERR=""
		check "SIG$sig to the launcher reaches the command (trap runs, its exit code returns)" \
			'[ $RC -eq '$code' ] && has "$OUT" "got-'$sig'"'
	done
else
	skip "signal forwarding" "env --default-signal not supported"
fi
# without a trap: the command dies of the signal, the launcher reports 128+N
"$S" -- sh -c 'echo ready; exec sleep 30' </dev/null >"$T/sig.out" 2>&1 &
pid=$!
wait_for 'grep -q ready "$T/sig.out"'
kill -TERM $pid; wait $pid; RC=$?; OUT=""; ERR=""
check "SIGTERM to the launcher, no trap inside: 143" '[ $RC -eq 143 ]'

# --- nothing outlives the session (PROC-06)
run "$S" -- sh -c "setsid -f sleep 2$n.1; nohup sleep 2$n.2 >/dev/null 2>&1 & (sleep 2$n.3 &); exit 0" </dev/null
check "daemons started inside (setsid -f, nohup &, double fork) die with the session" \
	'[ $RC -eq 0 ] && wait_for "gone \"sleep 2$n\\.[123]\""'
# The session's own pid 1 is gone when the launcher returns: reaped by it,
# not left a zombie for the host's pid 1 to collect (some never do).
wait_for "! pgrep -x -u $(id -u) safehouse-init >/dev/null" # earlier sessions settled
run "$S" -- sh -c 'exit 0' </dev/null
RC2=$RC; OUT=$(pgrep -a -x -u "$(id -u)" safehouse-init 2>&1); RC=$RC2
check "the session's init is gone when the launcher returns" '[ $RC -eq 0 ] && [ -z "$OUT" ]'
# ... and with the launcher, even when it is killed with SIGKILL
"$S" -- sh -c "sleep 3$n.1 & setsid -f sleep 3$n.2; exec sleep 3$n.3" </dev/null >/dev/null 2>&1 &
pid=$!
wait_for "pgrep -f -x 'sleep 3$n.3' >/dev/null"
RC=0; OUT=$(pgrep -a -f "sleep 3$n" 2>&1); ERR=""
kill -KILL $pid; wait $pid 2>/dev/null
check "SIGKILL of the launcher kills everything inside" 'has "$OUT" "sleep 3$n.3" && wait_for "gone \"sleep 3$n\\.[123]\""'
# clean up should the check have failed (our own processes, by pid)
for p in $(pgrep -f "sleep [23]$n\." 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done

# --- denied special files inside a granted directory (found while testing)
# A deny rule on a FIFO or a socket under the workdir: the plan warns "not a
# regular file or directory; not mounted" and leaves it reachable (Landlock
# cannot deny below the workdir grant, and nothing masks it).
mkfifo "$W/pipe"
printf '(deny file-read* file-write* (workdir-literal "/pipe"))\n(deny file-read* file-write* (workdir-literal "/sock"))\n' > "$T/special.sb"
timeout 3 sh -c 'echo FIFO-SECRET > "$1"' sh "$W/pipe" 2>/dev/null &
wp=$!
run "$S" --append-profile="$T/special.sb" -- sh -c 'cat pipe' </dev/null
kill $wp 2>/dev/null; wait $wp 2>/dev/null
check "a denied FIFO in the workdir cannot be read (BUG: plan leaves it unmasked)" 'hasnt "$OUT" "FIFO-SECRET"'
if command -v python3 >/dev/null 2>&1; then
	timeout 4 python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
c,_=s.accept(); c.send(b"x")' "$W/sock" 2>/dev/null &
	lp=$!
	wait_for '[ -S "$W/sock" ]'
	run "$S" --append-profile="$T/special.sb" -- ./probe connect-unix "$W/sock" </dev/null
	kill $lp 2>/dev/null; wait $lp 2>/dev/null
	check "a denied unix socket in the workdir cannot be connected to (BUG: plan leaves it unmasked)" '[ $RC -ne 0 ]'
fi

# --- nothing new on the host
host_snapshot > "$T/host.after"
RC=0; OUT=$(diff "$T/host.before" "$T/host.after"); ERR=""
check "no files in /tmp, /dev/shm, /var/tmp and no mounts left on the host" '[ -z "$OUT" ]'

# A command that ignores termination signals: the first is forwarded, a
# second ends the session (everything inside is killed), not only kill -9.
"$S" -- sh -c "trap '' TERM INT HUP; exec sleep 41$$.5" >/dev/null 2>&1 &
lp=$!
wait_for "pgrep -f '^sleep 41$$.5' >/dev/null"
kill -TERM $lp; sleep 0.3
kill -0 $lp 2>/dev/null && first=alive || first=gone
kill -TERM $lp
wait $lp; RC=$?; OUT=""; ERR=""
check "a second SIGTERM ends a session whose command ignores the first" '[ "$first" = alive ] && [ $RC -eq 137 ] && ! pgrep -f "sleep 41$$.5" >/dev/null'
