#!/bin/sh
# Fallback mode (issue "Fallback and diagnostics"): where user namespaces
# cannot be created (simulated with tests/helpers/deny-userns, a seccomp
# filter like a container's), safehouse still runs the command under Landlock
# and seccomp and says so in one warning line; without Landlock as well it
# refuses with 125 and a hint, and nothing runs.
. "$(dirname "$0")/lib.sh"
S=$SAFEHOUSE
D=$(dirname "$SAFEHOUSE")/helpers/deny-userns
H=$T/home; W=$T/work; mkdir -p "$H/.ssh" "$W"
echo secret > "$H/.ssh/id_ed25519"
export HOME=$H; unset XDG_CONFIG_HOME SAFEHOUSE_WORKDIR SAFEHOUSE_ADD_DIRS SAFEHOUSE_ADD_DIRS_RO \
	SAFEHOUSE_TRUST_WORKDIR_CONFIG SAFEHOUSE_ENV_PASS SAFEHOUSE_PROFILES_DIR
cd "$W" || exit 1
W=$(pwd -P); H=$(cd "$H" && pwd -P)
cp "$PROBE" "$W/probe"
n=$$
# wait_for 'CONDITION' [TRIES]: up to TRIES x 50 ms (default 100)
wait_for() {
	_i=0
	while [ $_i -lt "${2:-100}" ]; do
		eval "$1" && return 0
		sleep 0.05; _i=$((_i + 1))
	done
	return 1
}
gone() { ! pgrep -f -- "$1" >/dev/null 2>&1; }

if [ ! -x "$D" ]; then
	not_ok "tests/helpers/deny-userns is built ($D)"
	exit 1
fi

# --- the helper does what it says (outside safehouse)
run "$D" ./probe syscall unshare-user
check "deny-userns: unshare(CLONE_NEWUSER) fails with EPERM" '[ "$OUT" = EPERM ]'
run "$D" ./probe syscall clone3
check "deny-userns: clone3 fails with ENOSYS" '[ "$OUT" = ENOSYS ]'
run "$D" ./probe syscall tiocsti
check "deny-userns alone does not filter ioctl (TIOCSTI on fd -1: EBADF)" '[ "$OUT" = EBADF ]'

# --- fallback: runs, one warning line, both layers on
run "$D" "$S" -- ./probe status </dev/null
check "without user namespaces the command still runs" '[ $RC -eq 0 ] && has "$OUT" "NoNewPrivs:	1"'
check "exactly one warning line, naming what is weaker" \
	'[ "$(printf "%s\n" "$ERR" | grep -c .)" -eq 1 ] && has "$ERR" "warning: user namespaces are unavailable" && has "$ERR" "Landlock and seccomp only" && has "$ERR" "no private mount view"'
check "seccomp is active (mode 2, safehouse's filter on top of the helper's)" \
	'has "$OUT" "Seccomp:	2" && [ "$(printf "%s\n" "$OUT" | sed -n "s/^Seccomp_filters:[[:space:]]*//p")" -ge 2 ]'
run "$D" "$S" -- ./probe syscall tiocsti </dev/null
check "safehouse's seccomp filter denies TIOCSTI (EPERM, not EBADF)" '[ "$OUT" = EPERM ]'
run "$D" "$S" -- ./probe read "$H/.ssh/id_ed25519" </dev/null
check "Landlock denies reading ~/.ssh/id_ed25519 (EACCES)" '[ $RC -eq 1 ] && [ "$OUT" = EACCES ]'
run "$D" "$S" -- ./probe write "$W/created" </dev/null
check "Landlock allows writing the workdir" '[ $RC -eq 0 ] && [ -f "$W/created" ]'
run "$D" "$S" -- ./probe write "$H/outside" </dev/null
check "Landlock denies writing outside the grants" '[ $RC -eq 1 ] && [ ! -e "$H/outside" ]'
# A host service's socket anywhere (tmux, the D-Bus session bus, ssh-agent,
# docker): no mount view keeps it out and Landlock does not mediate
# connect() on it, so in fallback no AF_UNIX socket can be made at all.
if command -v python3 >/dev/null 2>&1; then
	mkdir -p "$H/.svc" && chmod 700 "$H/.svc"
	python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); time.sleep(20)' "$H/.svc/sock" &
	svc=$!
	wait_for '[ -S "$H/.svc/sock" ]'
	run "$D" "$S" -- ./probe connect-unix "$H/.svc/sock" </dev/null
	check "fallback: a host service socket outside the grants cannot be reached" '[ $RC -ne 0 ] && [ "$OUT" = EPERM ]'
	kill $svc 2>/dev/null; wait $svc 2>/dev/null
else
	skip "fallback: host service socket" "no python3"
fi
run "$D" "$S" -- ./probe socket unix stream </dev/null
check "fallback: socket(AF_UNIX) fails with EPERM" '[ $RC -ne 0 ] && [ "$OUT" = EPERM ]'
run "$D" "$S" -- python3 -c 'import socket; a, b = socket.socketpair(); a.send(b"x"); print(b.recv(1).decode())' </dev/null
check "fallback: socketpair() still works" '[ $RC -eq 0 ] && [ "$OUT" = x ]'
run "$D" "$S" -- python3 -c 'import socket
try:
    socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    print("made")
except PermissionError:
    print("EPERM")' </dev/null
check "fallback: a datagram socketpair (which could sendto any host datagram socket) is refused" '[ "$OUT" = EPERM ]'
run "$S" -- ./probe socket unix stream </dev/null
check "with namespaces socket(AF_UNIX) works" '[ $RC -eq 0 ]'
run "$D" "$S" -- sh -c 'exit 7' </dev/null
check "exit codes pass through in fallback" '[ $RC -eq 7 ]'
run env PATH=/usr/bin:/bin "$D" "$S" -- "no-such-command-$n" </dev/null
check "127 in fallback" '[ $RC -eq 127 ] && has "$ERR" "command not found"'
# A PATH directory the user cannot search (for root every directory is
# searchable, so this only bites unprivileged users): execve gives EACCES
# there although no such file exists, and the PATH search reports 126
# "Permission denied" instead of 127.
mkdir -p "$T/locked"; chmod 000 "$T/locked"
run env PATH="$T/locked:/usr/bin:/bin" "$D" "$S" -- "no-such-command-$n" </dev/null
check "fallback: an unsearchable PATH directory does not turn 'not found' into 126 (BUG in exec_command)" \
	'[ $RC -eq 127 ] && has "$ERR" "command not found"'
chmod 755 "$T/locked"

# --- diagnostics say fallback
run "$D" "$S" --explain -- true </dev/null
check "--explain under deny-userns says fallback" '[ $RC -eq 0 ] && has "$ERR" "fallback"'
run "$D" "$S" doctor
check "doctor under deny-userns: user namespaces FAIL, mode: fallback" \
	'has "$OUT" "FAIL user namespaces" && has "$OUT" "mode: fallback"'
run "$S" doctor
check "doctor without the helper: mode: full" '[ $RC -eq 0 ] && has "$OUT" "mode: full"'

# --- neither layer: refuse
rm -f "$W/marker"
run "$D" --no-landlock "$S" -- sh -c 'touch "$1"' sh "$W/marker" </dev/null
check "no user namespaces and no Landlock: exit 125 with a reason and a hint" \
	'[ $RC -eq 125 ] && has "$ERR" "cannot sandbox" && has "$ERR" "Landlock" && has "$ERR" "hint:"'
check "... and nothing ran (marker not created)" '[ ! -e "$W/marker" ]'
run "$D" --no-landlock "$S" doctor
check "doctor with neither: mode: none, exit 125" '[ $RC -eq 125 ] && has "$OUT" "mode: none"'

# --- process life in fallback
"$D" "$S" -- sh -c "exec sleep 6$n.1" </dev/null >/dev/null 2>&1 &
pid=$!
wait_for "pgrep -f -x 'sleep 6$n.1' >/dev/null"
kill -KILL $pid; wait $pid 2>/dev/null
RC=0; OUT=""; ERR=""
check "fallback: the command dies with the launcher (parent-death signal)" 'wait_for "gone \"sleep 6$n\\.1\""'
run "$D" "$S" -- sh -c "setsid -f sleep 7$n.1; exit 0" </dev/null
OUT=$(pgrep -a -f "sleep 7$n" 2>&1)
check "fallback: a daemon started inside dies with the session (BUG: survives, no pid namespace and no reaping)" \
	'wait_for "gone \"sleep 7$n\\.1\"" 20'
for p in $(pgrep -f "sleep [67]$n\." 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done

# --- terminal in fallback: own pty from the host's devpts, TIOCSTI blocked
if command -v python3 >/dev/null 2>&1; then
	run python3 "$SH_ROOT/tests/helpers/ptydrive.py" --out "$T/pty.out" -- "$D" "$S" -- sh -c \
		'test -t 0 && echo TTY-YES; ./probe syscall tiocsti 0; ./probe syscall tiocsti-high 0; exit 0'
	PTY=$(cat "$T/pty.out")
	check "fallback on a terminal: a pty inside, TIOCSTI fails with EPERM" \
		'has "$OUT" "EXIT=0" && has "$PTY" "TTY-YES" && [ "$(printf "%s" "$PTY" | grep -c EPERM)" -eq 2 ] && has "$OUT" "ICANON=1"'
	# The user's other terminals are on the same devpts: the one safehouse
	# was started from must not be reachable by its name (a password typed
	# there could be read, escapes written to it unfiltered).
	run python3 "$SH_ROOT/tests/helpers/ptydrive.py" --out "$T/pty2.out" -- sh -c \
		'outer=$(tty); exec "$0" "$1" -- sh -c "./probe write --no-create \"\$1\"; test -t 0 && echo OWN-TTY" sh "$outer"' "$D" "$S"
	PTY=$(cat "$T/pty2.out")
	check "fallback: another terminal of the user cannot be opened by its name, the session's own still works" \
		'has "$OUT" "EXIT=0" && has "$PTY" EACCES && has "$PTY" OWN-TTY'
else
	skip "fallback terminal" "no python3"
fi

# A daemon with children of its own: every generation dies, and the session
# does not hang waiting for the re-parented grandchildren.
start=$(date +%s)
run "$D" "$S" -- sh -c "setsid -f sh -c 'sleep 301.25 & sleep 301.25 & sleep 301.25'; sleep 0.2; exit 0"
end=$(date +%s)
check "fallback: a daemon's own children die with the session too, promptly" '[ $RC -eq 0 ] && [ $((end - start)) -lt 10 ] && ! pgrep -u "$(id -u)" -f "sleep 301.25" >/dev/null'
