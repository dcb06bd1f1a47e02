#!/bin/sh
# Threat catalogue, sections 3 (terminal) and 4 (IPC): each probe runs inside
# the real sandbox.  The host side plays the user's session: pathname sockets
# in a fake XDG_RUNTIME_DIR, in the fake home and in the host's /tmp, an
# abstract socket, loopback TCP listeners and a SysV segment (all started by
# fixtures/hostsrv.py, checked reachable from the host first, stopped on
# exit).  Network rule: only 127.0.0.1/::1 listeners of our own.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/threats-setup.sh"

have_script=0; command -v script >/dev/null 2>&1 && have_script=1
# tty CMD: run CMD (a shell string) with a terminal on stdin/stdout (script(1))
tty_run() { run script -qec "$1" /dev/null </dev/null; }

# ---------------------------------------------------------------- TERM-01
P syscall tiocsti
check "TERM-01 TIOCSTI refused by the filter before the fd is looked at (EPERM, not EBADF)" 'err EPERM'
P syscall tiocsti-high
check "TERM-01 TIOCSTI|1<<32 (truncated by the kernel) refused too (EPERM)" 'err EPERM'
if [ $have_script = 1 ]; then
	tty_run "\"$S\" -- ./probe syscall tiocsti 0; echo rc=\$?"
	check "TERM-01 TIOCSTI on the terminal (fd 0) inside: EPERM" 'has "$OUT" EPERM && has "$OUT" rc=1'
	tty_run "\"$S\" -- ./probe syscall tiocsti-high 0; echo rc=\$?"
	check "TERM-01 TIOCSTI|1<<32 on the terminal: EPERM" 'has "$OUT" EPERM && has "$OUT" rc=1'
	tty_run "echo host=\$(stat -Lc %d:%i /proc/self/fd/0); \"$S\" -- /bin/sh -c 'echo in=\$(stat -Lc %d:%i /proc/self/fd/0); tty; ls /dev/pts'"
	h=$(printf '%s\n' "$OUT" | tr -d '\r\000' | sed -n 's/^host=//p'); i=$(printf '%s\n' "$OUT" | tr -d '\r\000' | sed -n 's/^.*in=//p' | head -n 1)
	check "TERM-01 the command's terminal is its own pty, not the caller's ($h vs $i)" \
		'[ -n "$h" ] && [ -n "$i" ] && [ "$h" != "$i" ] && has "$OUT" "/dev/pts/0"'
else
	skip "TERM-01 TIOCSTI on a terminal" "script(1) not installed"
fi

# ---------------------------------------------------------------- TERM-02
if have_py; then
	PY ioctl -1 0x541C
	check "TERM-02 TIOCLINUX refused by the filter (EPERM, not EBADF)" 'err EPERM'
	PY ioctl -1 0x10000541C
	check "TERM-02 TIOCLINUX|1<<32 refused (low 32 bits compared): EPERM" 'err EPERM'
	if [ $have_script = 1 ]; then
		tty_run "\"$S\" -- \"$PYTHON\" ./pyprobe.py ioctl 0 0x541C; \"$S\" -- \"$PYTHON\" ./pyprobe.py ioctl 0 0x10000541C"
		check "TERM-02 TIOCLINUX (both forms) on the terminal inside: EPERM" \
			'[ "$(printf "%s\n" "$OUT" | tr -d "\r\000" | sed "s/\^@//g" | grep -c "^EPERM$")" = 2 ]'
	fi
else skip "TERM-02 TIOCLINUX" "no /usr/bin/python3"; fi

# ---------------------------------------------------------------- TERM-03
if [ $have_script = 1 ]; then
	tty_run "\"$S\" -- /bin/sh -c 'printf \"M1-\\033]52;c;ZWNobyBwd25lZA==\\007-M2-\\033[21t-M3-\\033P+q544e\\033\\\\\\\\-M4\\n\"'"
	check "TERM-03 OSC 52 (clipboard), CSI 21 t (title report) and DCS never reach the caller's terminal" \
		'has "$OUT" "M1--M2--M3--M4" && hasnt "$OUT" "]52;" && hasnt "$OUT" "[21t" && hasnt "$OUT" "P+q"'
fi

# ---------------------------------------------------------------- TERM-04 / PROC-06
mark=sh-integ-linger-$$-$(date +%s)
run timeout 20 "$S" -- /bin/sh -c "setsid -f /bin/sh -c 'echo up > daemon.up; while :; do echo b >> daemon.beat; sleep 0.1; done; : $mark' </dev/null >/dev/null 2>&1;
	(exec -a $mark sleep 30) & nohup sleep 31 >/dev/null 2>&1 & sleep 0.4; echo started"
sleep 0.5
n1=$(wc -l < "$W/daemon.beat" 2>/dev/null || echo 0); sleep 0.6; n2=$(wc -l < "$W/daemon.beat" 2>/dev/null || echo 0)
lingering=$(pgrep -f "$mark" 2>/dev/null | wc -l)
check "TERM-04/PROC-06 the session returns promptly although daemons were started" '[ $RC -eq 0 ] && [ "$OUT" = started ]'
check "TERM-04/PROC-06 the setsid daemon had really started inside" '[ -f "$W/daemon.up" ] && [ "$n1" -ge 1 ]'
check "TERM-04/PROC-06 nothing started inside outlives the session (beats $n1 -> $n2, $lingering left)" \
	'[ "$n1" = "$n2" ] && [ "$lingering" -eq 0 ]'
if [ $have_script = 1 ]; then
	rm -f "$W/daemon.up" "$W/daemon.beat"
	tty_run "timeout --foreground 20 \"$S\" -- /bin/sh -c \"setsid -f /bin/sh -c 'echo up > daemon.up; while :; do echo b >> daemon.beat; sleep 0.1; done; : $mark-tty'; sleep 0.4\"; echo rc=\$?"
	sleep 0.5
	n1=$(wc -l < "$W/daemon.beat" 2>/dev/null || echo 0); sleep 0.6; n2=$(wc -l < "$W/daemon.beat" 2>/dev/null || echo 0)
	check "TERM-04 with a terminal: the daemon holding the (sandbox) tty dies with the session" \
		'has "$OUT" rc=0 && [ -f "$W/daemon.up" ] && [ "$n1" = "$n2" ] && [ "$(pgrep -f "$mark-tty" | wc -l)" -eq 0 ]'
fi

# ---------------------------------------------------------------- IPC set-up
if ! have_py; then
	skip "IPC-01..10 host listeners" "no /usr/bin/python3 to play the host session"
	exit 0
fi
R=$T/run; mkdir -p "$R" "$H/.gnupg" "$H/.claude/ide"; chmod 700 "$R"
HT=$(mktemp -d /tmp/sh-integ-host.XXXXXX) && _extra_paths="$_extra_paths $HT"
echo '{"authToken":"ide-secret"}' > "$H/.claude/ide/12345.lock"
abs=sh-integ-abs-$$
shmkey=$(printf '0x5e%06x' $(($$ % 16777216)))
socks="$R/bus $R/systemd/private $R/docker.sock $R/podman/podman.sock $R/gnupg/S.gpg-agent $R/wayland-0 $R/pipewire-0 $R/pulse/native
$H/.gnupg/S.gpg-agent $H/.gnupg/S.gpg-agent.ssh $HT/ssh-abc/agent.1 $HT/tmux-$uid/default $HT/.X11-unix/X0 $HT/vscode-ipc-1.sock $HT/nvim.1.0"
specs=""; for s in $socks; do specs="$specs unix:$s"; done
if ! hostsrv srv 60 $specs "abstract:$abs" tcp:127.0.0.1 tcp:::1 "shm:$shmkey"; then
	not_ok "IPC host listeners started"; cat "$T/srv.log"; exit 1
fi
port4=$(port_of srv tcp:127.0.0.1); port6=$(port_of srv tcp:::1)
bad=""
for s in $socks "@$abs"; do "$W/probe" connect-unix "$s" >/dev/null || bad="$bad $s"; done
"$W/probe" connect-tcp 127.0.0.1 "$port4" >/dev/null || bad="$bad tcp4"
RC=0; OUT=$bad; ERR=$(cat "$T/srv.log")
check "IPC host side: every planted socket and listener is reachable from outside (control)" '[ -z "$bad" ]'
run "$PYTHON" ./pyprobe.py shmget "$shmkey"
check "IPC host side: the SysV segment exists outside (control)" '[ "$OUT" = OK ]'
export XDG_RUNTIME_DIR="$R" DBUS_SESSION_BUS_ADDRESS="unix:path=$R/bus" SSH_AUTH_SOCK="$HT/ssh-abc/agent.1" \
	DISPLAY=:0 WAYLAND_DISPLAY=wayland-0 TMUX="$HT/tmux-$uid/default,1,0" NVIM="$HT/nvim.1.0" \
	VSCODE_IPC_HOOK_CLI="$HT/vscode-ipc-1.sock" GPG_AGENT_INFO="$H/.gnupg/S.gpg-agent:0:1" \
	PULSE_SERVER="unix:$R/pulse/native"
# unreachable NAME PATH...: each socket path is absent inside (ENOENT)
unreachable() {
	_id=$1; shift
	for _s; do
		C connect-unix "$_s"
		check "$_id $_s not in the view (ENOENT)" 'err ENOENT'
	done
}
# unset_inside NAME VAR...: the variables do not reach the command
unset_inside() {
	_id=$1; shift
	for _v; do
		C env "$_v"
		check "$_id \$$_v is not passed in" '[ $RC -eq 1 ] && [ "$OUT" = UNSET ]'
	done
}

# ---------------------------------------------------------------- IPC-01..10
unreachable IPC-01 "$R/bus" "/run/user/$uid/bus" /run/dbus/system_bus_socket /var/run/dbus/system_bus_socket
unset_inside IPC-01 DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR
C ls "$R"
check "IPC-01 the session's XDG_RUNTIME_DIR is absent (ENOENT)" 'err ENOENT'
unreachable IPC-02 "$R/systemd/private" "/run/user/$uid/systemd/private"
unreachable IPC-03 "$R/docker.sock" "$R/podman/podman.sock" /var/run/docker.sock /run/docker.sock \
	/run/containerd/containerd.sock /var/run/libvirt/libvirt-sock /run/snapd.socket /nix/var/nix/daemon-socket/socket
unreachable IPC-04 "$HT/ssh-abc/agent.1"
unset_inside IPC-04 SSH_AUTH_SOCK
C ls /tmp
check "IPC-04 no /tmp/ssh-* (private /tmp is empty)" '[ $RC -eq 0 ] && [ -z "$OUT" ]'

C connect-unix "@$abs"
check "IPC-05 host abstract socket, default (no network): ECONNREFUSED (private netns)" 'err ECONNREFUSED'
run "$S" --enable=network -- ./codex connect-unix "@$abs"
check "IPC-05 host abstract socket with --enable=network (shared netns): EPERM (Landlock scope)" 'err EPERM'
run "$S" -- /bin/cat /proc/net/unix
check "IPC-05 /proc/net/unix inside does not list the host's abstract socket" '[ $RC -eq 0 ] && hasnt "$OUT" "$abs"'
run "$S" -- /bin/sh -c "'$W/probe' connect-unix @$abs-own-listener; echo \$?"
check "IPC-05 (control) a name nobody listens on inside: ECONNREFUSED" 'has "$OUT" ECONNREFUSED'

unreachable IPC-06 "$H/.gnupg/S.gpg-agent" "$H/.gnupg/S.gpg-agent.ssh" "$R/gnupg/S.gpg-agent"
C ls "$H/.gnupg"
check "IPC-06 ~/.gnupg is absent (ENOENT)" 'err ENOENT'
unset_inside IPC-06 GPG_AGENT_INFO

P syscall keyctl
check "IPC-07 keyctl(@u): EPERM" 'err EPERM'
PY add_key
check "IPC-07 add_key: EPERM" 'err EPERM'
PY request_key
check "IPC-07 request_key: EPERM" 'err EPERM'
hostkeys=$(awk '{print $1}' /proc/keys 2>/dev/null | sort)
run "$S" -- /bin/sh -c "awk '{print \$1}' /proc/keys 2>/dev/null | sort"
common=$(printf '%s\n' "$hostkeys" | grep -v '^$' | grep -Fx -f - "$T/.out" 2>/dev/null | tr '\n' ' ')
check "IPC-07 /proc/keys inside shows none of the host's keys (common: ${common:-none})" '[ -z "$common" ]'

PY shmget "$shmkey"
check "IPC-08 the host's SysV segment is not reachable (own IPC namespace: ENOENT)" 'err ENOENT'
if [ -x /usr/bin/ipcs ]; then
	run "$S" -- /usr/bin/ipcs -m
	check "IPC-08 ipcs -m inside lists no segment" '[ $RC -eq 0 ] && hasnt "$OUT" "$(printf %s "$shmkey" | sed "s/^0x//")"'
fi
P ls /dev/shm
check "IPC-08 /dev/shm is private and empty" '[ $RC -eq 0 ] && [ -z "$OUT" ]'

unreachable IPC-09 "$HT/tmux-$uid/default" "$HT/vscode-ipc-1.sock" "$HT/nvim.1.0"
unset_inside IPC-09 TMUX NVIM VSCODE_IPC_HOOK_CLI
C read "$H/.claude/ide/12345.lock"
check "IPC-09 another agent's IDE bridge lock file (~/.claude/ide) is absent for codex (ENOENT)" 'err ENOENT'

unreachable IPC-10 "$HT/.X11-unix/X0" "$R/wayland-0" "$R/pipewire-0" "$R/pulse/native"
unset_inside IPC-10 DISPLAY WAYLAND_DISPLAY PULSE_SERVER
C connect-unix "@/tmp/.X11-unix/X0"
check "IPC-10 the X11 abstract name: ECONNREFUSED (private netns)" 'err ECONNREFUSED'

# ---------------------------------------------------------------- loopback services
# codex's default is filtered: a private netns whose only way out is the
# proxy port, so a direct connect to any other port is refused by Landlock
# (EACCES) before it could even reach the namespace's own loopback.
C connect-tcp 127.0.0.1 "$port4"
check "IPC/NET host 127.0.0.1 listener not reachable inside (filtered: only the proxy port, EACCES)" 'err EACCES'
C connect-tcp ::1 "$port6"
check "IPC/NET host ::1 listener not reachable inside (filtered: EACCES)" 'err EACCES'
run "$S" -- ./probe connect-tcp 127.0.0.1 "$port4"
check "IPC/NET host 127.0.0.1 listener not reachable with no network (no AF_INET: EAFNOSUPPORT)" 'err EAFNOSUPPORT'
run "$S" -- /bin/cat /proc/net/dev
check "IPC/NET the network namespace has only lo" \
	'[ $RC -eq 0 ] && has "$OUT" "lo:" && [ "$(printf "%s\n" "$OUT" | grep -c ":")" -eq 1 ]'
