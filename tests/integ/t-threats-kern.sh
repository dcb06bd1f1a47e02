#!/bin/sh
# Threat catalogue, sections 5 (processes and privileges), 6 (kernel attack
# surface) and 9 (information leaks): each probe runs inside the real
# sandbox and asserts the safe outcome's errno.  Host-side controls show the
# same operation works outside where that is harmless.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/threats-setup.sh"

# A host process the sandbox must not see or touch; its argv carries a token.
tok=sh-integ-token-$$-SECRET
# (blocked opening a fifo: no child process to leave behind)
mkfifo "$T/hold"
sh -c 'read x < "$1"; : "$2"' sh "$T/hold" "$tok" </dev/null >/dev/null 2>&1 &
hp=$!; _srv_pids="$_srv_pids $hp"
sleep 0.1
[ $hp -gt 20 ] || { echo "not ok - host pid $hp is too small to be unambiguous"; exit 1; }

# ---------------------------------------------------------------- PROC-01
P syscall ptrace-parent
check "PROC-01 PTRACE_SEIZE of the parent (init): EPERM" 'err EPERM'
P syscall ptrace-parent "$hp"
check "PROC-01 PTRACE_SEIZE of a host pid: EPERM" 'err EPERM'
if [ -x /usr/bin/gdb ]; then
	run "$S" -- /usr/bin/gdb -q -p 1 -batch -ex 'info registers rip'
	check "PROC-01 gdb -p 1 cannot attach" 'hasnt "$OUT" "rip " '
fi
# ---------------------------------------------------------------- PROC-02
P write --no-create /proc/1/mem
check "PROC-02 open /proc/1/mem for writing: EACCES" 'err EACCES'
P read /proc/1/mem
check "PROC-02 open /proc/1/mem for reading: EACCES" 'err EACCES'
P write --no-create "/proc/$hp/mem"
check "PROC-02 /proc/HOSTPID/mem: ENOENT" 'err ENOENT'
# ---------------------------------------------------------------- PROC-03
if have_py; then
	run "$PYTHON" ./pyprobe.py process_vm_readv $$
	check "PROC-03 (control) process_vm_readv passes its permission check outside (EFAULT)" '[ "$OUT" = EFAULT ]'
	for c in "process_vm_readv 1" "process_vm_writev 1" "process_vm_readv $hp"; do
		PY $c
		check "PROC-03 $c: EPERM" 'err EPERM'
	done
fi
# ---------------------------------------------------------------- PROC-04
P kill 1 0
check "PROC-04 kill -0 1 (init, outside the Landlock domain): EPERM" 'err EPERM'
P kill "$hp" 0
check "PROC-04 kill -0 HOSTPID: ESRCH" 'err ESRCH'
P kill "$hp" STOP
check "PROC-04 kill -STOP HOSTPID: ESRCH, and it still runs" \
	'err ESRCH && [ "$(awk "{print \$3}" /proc/$hp/stat)" != T ]'
P kill -1 CONT
check "PROC-04 kill(-1, SIGCONT) reaches nobody (ESRCH)" 'err ESRCH'
# ---------------------------------------------------------------- PROC-06 (also TERM-04 in t-threats-ipc.sh)
mark=sh-integ-dfork-$$
run timeout 20 "$S" -- /bin/sh -c "( ( exec -a $mark sleep 40 ) & ) ; nohup /bin/sh -c 'sleep 41; : $mark' >/dev/null 2>&1 & echo forked"
sleep 0.3
check "PROC-06 double-forked and nohup'ed children die with the session" \
	'[ $RC -eq 0 ] && [ "$OUT" = forked ] && [ "$(pgrep -f "$mark" | wc -l)" -eq 0 ]'
# ---------------------------------------------------------------- PROC-07
P ls /proc
n=$(printf '%s\n' "$OUT" | grep -c '^[0-9][0-9]*$')
check "PROC-07 /proc lists < 10 pids ($n)" '[ $RC -eq 0 ] && [ "$n" -lt 10 ]'
P stat "/proc/$hp"
check "PROC-07 a host pid is absent from /proc (ENOENT)" 'err ENOENT'
# the token is passed split, so that the command's own argv does not hold it
run "$S" -- "A=${tok%-SECRET}" B=-SECRET /bin/sh -c 'grep -al -- "$A$B" /proc/[0-9]*/cmdline; echo done' 
check "PROC-07 no process inside shows the host process's argv token" '[ "$OUT" = done ]'
ctl=0; grep -aq -- "$tok" "/proc/$hp/cmdline" 2>/dev/null && ctl=1
check "PROC-07 (control) the token is visible in the host's /proc" '[ $ctl = 1 ]'
# ---------------------------------------------------------------- PRIV-01
P status
check "PRIV-01 NoNewPrivs: 1" '[ $RC -eq 0 ] && has "$OUT" "NoNewPrivs:	1"'
run "$S" -- /bin/sh -c 'cat /proc/self/mountinfo'
nonosuid=$(printf '%s\n' "$OUT" | awk '$6 !~ /(^|,)nosuid(,|$)/ {print $5}' | tr '\n' ' ')
check "PRIV-01 every mount in the view is nosuid (${nonosuid:-all})" '[ $RC -eq 0 ] && [ -z "$nonosuid" ]'
if [ "$(id -u)" = 0 ] && command -v setcap >/dev/null 2>&1; then
	cp "$PROBE" "$W/capprobe" && chmod 4755 "$W/capprobe"
	if setcap 'cap_dac_read_search,cap_net_raw,cap_sys_admin+ep' "$W/capprobe" 2>/dev/null; then
		chmod 4755 "$W/capprobe"
		run "$S" -- ./capprobe status
		check "PRIV-01 setuid-root + file-capability binary: CapEff/CapPrm stay 0 inside" \
			'[ $RC -eq 0 ] && has "$OUT" "CapEff:	0000000000000000" && has "$OUT" "CapPrm:	0000000000000000"'
	else skip "PRIV-01 file capabilities" "setcap not supported on this filesystem"; fi
	rm -f "$W/capprobe"
fi
if [ -u /usr/bin/su ]; then
	run "$S" -- /usr/bin/su -c 'id -u' root
	check "PRIV-01 setuid su gains nothing (fails, no uid 0 shell for a user)" \
		'[ $RC -ne 0 ] || [ "$(id -u)" = 0 ]'
fi
# ---------------------------------------------------------------- PRIV-02
P status
check "PRIV-02 CapEff, CapPrm, CapBnd, CapAmb all empty" \
	'has "$OUT" "CapEff:	0000000000000000" && has "$OUT" "CapPrm:	0000000000000000" && has "$OUT" "CapBnd:	0000000000000000" && has "$OUT" "CapAmb:	0000000000000000"'

# ---------------------------------------------------------------- KERN-01
P syscall unshare-user
check "KERN-01 unshare(CLONE_NEWUSER): EPERM" 'err EPERM'
P syscall clone-newuser
check "KERN-01 clone(CLONE_NEWUSER): EPERM" 'err EPERM'
P syscall clone3
check "KERN-01 clone3 (flags unfilterable): ENOSYS" 'err ENOSYS'
if [ -x /usr/bin/unshare ]; then
	run "$S" -- /usr/bin/unshare -Urn /bin/sh -c 'echo VULN-netadmin-in-userns'
	check "KERN-01 unshare -Urn refused" '[ $RC -ne 0 ] && hasnt "$OUT" VULN && has "$ERR" "Operation not permitted"'
fi
# ---------------------------------------------------------------- KERN-02..05
P syscall bpf;         check "KERN-02 bpf(BPF_PROG_LOAD): EPERM" 'err EPERM'
P syscall perf;        check "KERN-03 perf_event_open (user-only sw clock): EPERM" 'err EPERM'
P syscall userfaultfd; check "KERN-04 userfaultfd(UFFD_USER_MODE_ONLY): EPERM" 'err EPERM'
P stat /dev/userfaultfd; check "KERN-04 /dev/userfaultfd absent (ENOENT)" 'err ENOENT'
P syscall io_uring;    check "KERN-05 io_uring_setup: EPERM" 'err EPERM'
if have_py; then
	PY nr 426; check "KERN-05 io_uring_enter: EPERM (not EBADF)" 'err EPERM'
	PY nr 427; check "KERN-05 io_uring_register: EPERM (not EBADF)" 'err EPERM'
fi
# ---------------------------------------------------------------- KERN-06
P syscall keyctl; check "KERN-06 keyctl: EPERM" 'err EPERM'
if have_py; then
	PY add_key;     check "KERN-06 add_key: EPERM" 'err EPERM'
	PY request_key; check "KERN-06 request_key: EPERM" 'err EPERM'
fi
# ---------------------------------------------------------------- KERN-07
P syscall personality; check "KERN-07 personality(ADDR_NO_RANDOMIZE): EPERM" 'err EPERM'
if have_py; then
	PY personality 0x0400000; check "KERN-07 personality(READ_IMPLIES_EXEC): EPERM" 'err EPERM'
	PY personality 0x0008;    check "KERN-07 personality(PER_LINUX32): EPERM" 'err EPERM'
	PY personality 0xffffffff; check "KERN-07 personality query (0xffffffff) still allowed" '[ $RC -eq 0 ]'
fi
if [ -x /usr/bin/setarch ]; then
	run "$S" -- /usr/bin/setarch -R /bin/echo VULN-ASLR-off
	check "KERN-07 setarch -R fails" '[ $RC -ne 0 ] && hasnt "$OUT" VULN'
fi
# ---------------------------------------------------------------- KERN-08 / KERN-09
if have_py; then
	for c in kexec_load kexec_file_load reboot init_module finit_module delete_module; do
		PY $c
		check "KERN-0$(case $c in kexec*|reboot) echo 8;; *) echo 9;; esac) $c: EPERM" 'err EPERM'
	done
	# implicit module autoload: socket families beyond unix/inet/inet6/netlink
	fams="3:AX25 4:IPX 5:APPLETALK 8:ATMPVC 9:X25 12:DECnet 17:PACKET 21:RDS 24:PPPOX 26:LLC 27:IB 28:MPLS 29:CAN 30:TIPC 31:BLUETOOTH 33:RXRPC 34:ISDN 35:PHONET 36:IEEE802154 37:CAIF 38:ALG 39:NFC 40:VSOCK 41:KCM 42:QIPCRTR 43:SMC 44:XDP 45:MCTP"
	pairs=""; for f in $fams; do for t in 5 2 1 3; do pairs="$pairs ${f%%:*}/$t"; done; done
	for mode in "" --enable=network; do
		run "$S" $mode -- "$PYTHON" ./pyprobe.py sockets $pairs
		check "KERN-09 28 socket families x 4 types: EAFNOSUPPORT ${mode:-(no network)}" \
			'[ $RC -eq 0 ] && [ "$(printf "%s\n" "$OUT" | grep -c "=EAFNOSUPPORT$")" -eq 112 ]'
	done
fi
# ---------------------------------------------------------------- KERN-11
if have_py; then
	# With the network granted AF_INET is allowed, so the type/protocol
	# checks are what stands: flag-or'ed variants must not slip through.
	for c in "2 3 1:inet SOCK_RAW ICMP" "2 0x80003 1:inet SOCK_RAW|SOCK_CLOEXEC" "2 0x80803 255:inet SOCK_RAW|NONBLOCK|CLOEXEC IPPROTO_RAW" \
		"10 0x80003 58:inet6 SOCK_RAW|SOCK_CLOEXEC ICMPV6" "2 0x80002 1:inet ping socket|CLOEXEC"; do
		run "$S" --enable=network -- "$PYTHON" ./pyprobe.py socket ${c%%:*}
		check "KERN-11 ${c#*:} (--enable=network): EPERM" 'err EPERM EACCES'
	done
	run "$S" --enable=network -- "$PYTHON" ./pyprobe.py socket 17 0x80003 0
	check "KERN-11 packet SOCK_RAW|SOCK_CLOEXEC (--enable=network): EAFNOSUPPORT" 'err EAFNOSUPPORT'
	for c in "0x80003 4:SOCK_DIAG" "0x80803 12:NETFILTER" "0x80002 9:AUDIT" "0x80003 6:XFRM" "0x80003 16:GENERIC"; do
		PY socket 16 ${c%%:*}
		check "KERN-11 netlink ${c#*:} with SOCK_CLOEXEC flags: refused (EPROTONOSUPPORT)" 'err EPROTONOSUPPORT'
	done
	PY socket 16 0x80003 0
	check "KERN-11 (control) netlink route stays allowed (getifaddrs)" '[ $RC -eq 0 ]'
	for c in "pidfd_getfd" "process_madvise" "mount_setattr" "open_tree_attr"; do
		PY $c
		check "KERN-11 newer duplicate syscall $c: EPERM" 'err EPERM'
	done
	for nr in 457 458; do
		PY nr $nr
		check "KERN-11 syscall $nr (statmount/listmount): ENOSYS" 'err ENOSYS'
	done
fi
P syscall x32
check "KERN-11 x32 ABI syscall: killed (SIGSYS -> 159)" '[ $RC -eq 159 ]'
if command -v gcc >/dev/null 2>&1 && gcc -static -O1 -o "$W/int80" "$FX/int80.c" 2>/dev/null; then
	run "$W/int80"
	check "KERN-11 (control) int 0x80 works outside" '[ $RC -eq 0 ]'
	run "$S" -- ./int80
	check "KERN-11 32-bit int 0x80 ABI inside: killed (SIGSYS -> 159)" '[ $RC -eq 159 ]'
else skip "KERN-11 int 0x80" "no gcc with static libc to build the probe"; fi
# ---------------------------------------------------------------- KERN-12
if have_py; then
	for ns in net mnt user pid; do
		PY setns $ns
		check "KERN-12 setns(/proc/self/ns/$ns): EPERM" 'err EPERM'
	done
	PY chroot;     check "KERN-12 chroot: EPERM" 'err EPERM'
	PY pivot_root; check "KERN-12 pivot_root: EPERM" 'err EPERM'
fi
P stat /proc/1/ns/mnt
check "KERN-12 /proc/1/ns/mnt (init's namespaces): EACCES" 'err EACCES'
P stat "/proc/$hp/ns/mnt"
check "KERN-12 a host pid's ns links: ENOENT" 'err ENOENT'
if [ -x /usr/bin/nsenter ]; then
	run "$S" -- /usr/bin/nsenter -t 1 -m /bin/echo VULN
	check "KERN-12 nsenter -t 1 -m fails" '[ $RC -ne 0 ] && hasnt "$OUT" VULN'
fi
# ---------------------------------------------------------------- KERN-13
P ls /dev
devs=$(printf '%s\n' "$OUT" | sort | tr '\n' ' ')
check "KERN-13 /dev holds only the minimal set ($devs)" \
	'[ $RC -eq 0 ] && [ "$devs" = "fd full null ptmx pts random shm stderr stdin stdout tty urandom zero " ]'
run "$S" -- /bin/sh -c 'ls -l /dev/ | awk "\$1 ~ /^[cb]/" | wc -l; ls -l /dev/ | awk "\$1 ~ /^b/" | wc -l'
check "KERN-13 at most 8 device nodes, no block device ($(echo $OUT))" \
	'[ $RC -eq 0 ] && [ "$(echo $OUT | cut -d" " -f1)" -le 8 ] && [ "$(echo $OUT | cut -d" " -f2)" -eq 0 ]'
for d in /dev/kvm /dev/fuse /dev/net/tun /dev/mem /dev/kmem /dev/port /dev/sda /dev/vda /dev/input/event0 /dev/dri/card0 /dev/vhost-net /dev/vsock /dev/loop0; do
	P stat "$d"
	check "KERN-13 $d absent (ENOENT)" 'err ENOENT'
done
if have_py; then
	PY mknod ./null2
	check "KERN-13 mknod of a char device in the workdir: EPERM" 'err EPERM && [ ! -e "$W/null2" ]'
fi
P write --no-create /dev/null
check "KERN-13 (control) /dev/null is usable" '[ $RC -eq 0 ]'

# ---------------------------------------------------------------- INFO-01
run env OPENAI_API_KEY=sk-sh-integ-1 ANTHROPIC_API_KEY=sk-sh-integ-2 GITHUB_TOKEN=ghp_sh_integ_3 \
	AWS_SECRET_ACCESS_KEY=sh-integ-4 AWS_ACCESS_KEY_ID=sh-integ-5 NPM_TOKEN=sh-integ-6 \
	DB_PASSWORD=sh-integ-7 SESSION_COOKIE=sh-integ-8 "$S" -- ./codex exec /usr/bin/env
check "INFO-01 API keys, tokens, passwords in the host env are not passed (sanitized env)" \
	'[ $RC -eq 0 ] && hasnt "$OUT" sh-integ- && hasnt "$OUT" sk-sh && hasnt "$OUT" ghp_ && has "$OUT" "HOME=$H"'
# ---------------------------------------------------------------- INFO-02
run env SH_INTEG_ENV_SECRET=leaky-$$ "$S" -- ./probe read /proc/1/environ
check "INFO-02 /proc/1/environ (init keeps the host env): EACCES" 'err EACCES'
run env SH_INTEG_ENV_SECRET=leaky-$$ "$S" -- /bin/sh -c 'cat /proc/1/environ /proc/[0-9]*/environ 2>/dev/null | tr "\0" "\n"'
check "INFO-02 no /proc/*/environ inside shows the host env" 'hasnt "$OUT" "leaky-$$"'
P read "/proc/$hp/environ"
check "INFO-02 a host pid's environ: ENOENT" 'err ENOENT'
# ---------------------------------------------------------------- INFO-03
run "$S" -- /bin/sh -c "cat /proc/[0-9]*/cmdline | tr '\0' ' '"
check "INFO-03 no argv of host processes inside (token absent)" 'hasnt "$OUT" "$tok"'
# ---------------------------------------------------------------- INFO-04
if have_py; then
	PY syslog; check "INFO-04 syslog(2): EPERM" 'err EPERM'
fi
P read /proc/kmsg
check "INFO-04 /proc/kmsg: EPERM/EACCES" 'err EPERM EACCES'
if [ -x /usr/bin/dmesg ] || [ -x /bin/dmesg ]; then
	run "$S" -- dmesg
	check "INFO-04 dmesg fails" '[ $RC -ne 0 ] && [ -z "$OUT" ]'
fi
# ---------------------------------------------------------------- INFO-05
run "$S" -- /bin/sh -c 'cat /proc/kallsyms 2>/dev/null | awk "\$1 !~ /^0+\$/" | wc -l'
check "INFO-05 /proc/kallsyms shows no non-zero address" '[ $RC -eq 0 ] && [ "$OUT" -eq 0 ]'
for p in /sys/kernel/notes /sys/module /sys/kernel /sys/class/net /sys/firmware; do
	P stat "$p"
	check "INFO-05 $p absent (ENOENT)" 'err ENOENT'
done
P ls /sys
check "INFO-05 /sys is not listable (EACCES)" 'err EACCES'
# ---------------------------------------------------------------- INFO-07
run "$S" -- /bin/sh -c 'cat /proc/sys/kernel/hostname'
check "INFO-07 own UTS namespace: hostname 'safehouse', not the host's" \
	'[ $RC -eq 0 ] && [ "$OUT" = safehouse ] && [ "$OUT" != "$(cat /proc/sys/kernel/hostname)" ]'
run "$S" -- /bin/cat /proc/net/dev
check "INFO-07 own network namespace: only lo" '[ $RC -eq 0 ] && [ "$(printf "%s\n" "$OUT" | grep -c ":")" -eq 1 ] && has "$OUT" "lo:"'
run "$S" -- /bin/cat /proc/self/mountinfo
check "INFO-07 mountinfo names no hidden path (~/.ssh, ~/.aws, /root, /home)" \
	'[ $RC -eq 0 ] && hasnt "$OUT" "/.ssh" && hasnt "$OUT" "/.aws" && hasnt "$OUT" " /root" && { case "$H$W" in /home/*) true ;; *) hasnt "$OUT" " /home" ;; esac; }'
# ---------------------------------------------------------------- INFO-08
mkdir -p "$H/.config/gh" "$H/.docker" "$H/.kube" "$H/.local/share/keyrings" "$H/.mozilla/firefox/p" \
	"$H/.config/google-chrome/Default" "$H/.claude" "$H/.config/gcloud"
for f in .ssh/id_ed25519 .aws/credentials .config/gh/hosts.yml .netrc .git-credentials .docker/config.json .kube/config \
	.npmrc .local/share/keyrings/login.keyring .mozilla/firefox/p/logins.json ".config/google-chrome/Default/Login Data" \
	.claude/.credentials.json .claude.json .config/gcloud/credentials.db .pgpass .bash_history; do
	[ -f "$H/$f" ] || echo "cred-$f" > "$H/$f"
done
echo '{"tokens":{"access_token":"codex-token"}}' > "$H/.codex/auth.json"
for f in .ssh/id_ed25519 .aws/credentials .config/gh/hosts.yml .netrc .git-credentials .docker/config.json .kube/config \
	.npmrc .local/share/keyrings/login.keyring .mozilla/firefox/p/logins.json ".config/google-chrome/Default/Login Data" \
	.claude/.credentials.json .claude.json .config/gcloud/credentials.db .pgpass .bash_history; do
	C read "$H/$f"
	check "INFO-08 ~/$f absent for codex (ENOENT)" 'err ENOENT'
done
run "$S" -- ./codex exec /bin/cat "$H/.codex/auth.json"
check "INFO-08 by design: codex's own ~/.codex/auth.json IS readable in a codex session (its token; SECURITY.md)" \
	'[ $RC -eq 0 ] && has "$OUT" codex-token'
C write --no-create "$H/.codex/auth.json"
check "INFO-08 by design: ... and writable (Codex refreshes it)" '[ $RC -eq 0 ]'
P read "$H/.codex/auth.json"
check "INFO-08 without the codex profile ~/.codex/auth.json is absent (ENOENT)" 'err ENOENT'
cp "$W/probe" "$W/claude"
run "$S" -- ./claude read "$H/.codex/auth.json"
check "INFO-08 another agent (claude) cannot read codex's token (ENOENT)" 'err ENOENT'
run "$S" -- ./claude read "$H/.claude/.credentials.json"
check "INFO-08 by design: claude reads its own ~/.claude/.credentials.json" '[ $RC -eq 0 ]'
rm -f "$W/claude"
# ---------------------------------------------------------------- INFO-09
HT=$(mktemp -d /tmp/sh-integ-host.XXXXXX) && _extra_paths="$_extra_paths $HT"
echo other-tool-temp > "$HT/build.log"
P read "$HT/build.log"
check "INFO-09 other tools' temp files in the host /tmp are invisible (ENOENT)" 'err ENOENT'
run "$S" -- /bin/sh -c 'ls -A /tmp /dev/shm'
check "INFO-09 /tmp and /dev/shm are empty at start" '[ $RC -eq 0 ] && [ "$(printf "%s\n" "$OUT" | grep -v -e "^/" -e "^$" | wc -l)" -eq 0 ]'
