#!/bin/sh
# Threat catalogue, sections 0 (launcher integrity) and 1 (filesystem): one
# or more tests per vector, named by its ID, each running the vector's probe
# INSIDE the real sandbox and asserting the catalogue's safe outcome (the
# exact errno).  Sections 3-4: t-threats-ipc.sh; 5, 6 and 9: t-threats-kern.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/threats-setup.sh"

# ---------------------------------------------------------------- LAUNCH-00
P status
check "LAUNCH-00 NoNewPrivs: 1, Seccomp: 2 (filter mode), CapEff 0" \
	'[ $RC -eq 0 ] && has "$OUT" "NoNewPrivs:	1" && has "$OUT" "Seccomp:	2" && has "$OUT" "CapEff:	0000000000000000"'
P read "$H/.ssh/id_ed25519"
check "LAUNCH-00 canary ~/.ssh/id_ed25519 denied (ENOENT)" 'err ENOENT'
P read /etc/shadow
check "LAUNCH-00 canary /etc/shadow denied (ENOENT)" 'err ENOENT'
P ls /proc
npids=$(printf '%s\n' "$OUT" | grep -c '^[0-9][0-9]*$')
check "LAUNCH-00 own pid namespace: /proc lists < 10 pids ($npids)" '[ $RC -eq 0 ] && [ "$npids" -ge 1 ] && [ "$npids" -lt 10 ]'
P pid1
check "LAUNCH-00 pid 1 inside is safehouse's init" '[ $RC -eq 0 ] && has "$OUT" "safehouse"'
# Fail closed: starve the launcher of descriptors at every step.  Each run
# must either refuse (125, the step named) or run fully confined.
bad=""
for n in 4 5 6 7 8 9 10 11 12 13 14 16 20 24; do
	run sh -c 'ulimit -n "$1" && exec "$2" -- ./probe status' sh "$n" "$S"
	if [ $RC -eq 0 ]; then
		has "$OUT" "NoNewPrivs:	1" && has "$OUT" "Seccomp:	2" || bad="$bad n=$n:ran-unconfined"
	elif [ $RC -eq 125 ]; then
		has "$ERR" "safehouse: " || bad="$bad n=$n:125-without-message"
	elif [ $RC -ne 1 ]; then bad="$bad n=$n:rc=$RC"; fi
	has "$OUT" "NoNewPrivs:	0" && bad="$bad n=$n:NNP0"
done
RC=0; OUT=$bad; ERR=""
check "LAUNCH-00 fd starvation at every step: refuses (125) or runs confined, never unconfined" '[ -z "$bad" ]'
# Nested: inside the sandbox no user namespace can be made, so an inner
# safehouse must fall back (saying so) and still confine.
cp "$S" "$W/sh-inner"
run "$S" -- ./sh-inner -- ./probe status
check "LAUNCH-00 nested safehouse: fallback announced on stderr" \
	'has "$ERR" "user namespaces are unavailable" && has "$ERR" "Landlock and seccomp only"'
check "LAUNCH-00 nested safehouse: inner command still NoNewPrivs 1 / Seccomp 2" \
	'[ $RC -eq 0 ] && has "$OUT" "NoNewPrivs:	1" && has "$OUT" "Seccomp:	2"'
run "$S" -- ./sh-inner -- ./probe create "$T/nested-escape"
check "LAUNCH-00 nested safehouse: no write outside the inner workdir" '[ $RC -eq 1 ] && [ ! -e "$T/nested-escape" ]'
rm -f "$W/sh-inner"

# ---------------------------------------------------------------- LAUNCH-01
# Stage symlinked carve-outs (what a hostile repo or a previous session can
# leave behind), then look from inside: nothing of ~/.ssh may appear.
ln -s "$H/.ssh/id_ed25519" "$W/.safehouse"
mkdir -p "$W/.git"; ln -s "$H/.ssh" "$W/.git/hooks"
ln -s "$H/.ssh" "$W/.env"
ln -s "$H/.ssh/id_ed25519" "$H/.codex/config.toml"
ln -s "$H/.ssh" "$H/.codex/rules"
printf '(deny file-read* file-write* (workdir-subpath "/.env"))\n' > "$T/env-deny.sb"
run "$S" --append-profile="$T/env-deny.sb" -- ./codex exec /bin/sh -c \
	'cat .safehouse .env/id_ed25519 .git/hooks/id_ed25519 "$HOME/.codex/config.toml" "$HOME/.codex/rules/id_ed25519"; ls .git/hooks/ .env/; grep -c "/\.ssh" /proc/self/mountinfo'
check "LAUNCH-01 symlinked carve-outs (.safehouse, .env, .git/hooks, ~/.codex/config.toml, ~/.codex/rules) expose nothing of ~/.ssh" \
	'hasnt "$OUT" "ssh-secret-key" && hasnt "$ERR" "ssh-secret-key" && [ "$(printf "%s\n" "$OUT" | tail -n 1)" = 0 ] && hasnt "$OUT" id_ed25519'
check "LAUNCH-01 the staged links are left as they were on the host, ~/.ssh untouched" \
	'[ -L "$W/.safehouse" ] && [ -L "$W/.env" ] && [ -L "$H/.codex/config.toml" ] && [ -L "$H/.codex/rules" ] &&
	 [ "$(ls -A "$H/.ssh")" = id_ed25519 ] && [ "$(cat "$H/.ssh/id_ed25519")" = ssh-secret-key ]'
rm -rf "$W/.safehouse" "$W/.git" "$W/.env" "$H/.codex/config.toml" "$H/.codex/rules"

# ---------------------------------------------------------------- LAUNCH-02
run sh -c 'exec 7<"$1" 8<"$2" 9<>/dev/null; exec "$3" -- ./probe fds' sh "$H/.ssh/id_ed25519" "$H" "$S"
check "LAUNCH-02 descriptors open in the caller (a key file, \$HOME dir) are not inherited: only 0-2" \
	'[ $RC -eq 0 ] && [ -z "$OUT" ]'
if command -v script >/dev/null 2>&1; then
	run script -qec "sh -c 'exec 7<\"$H/.ssh/id_ed25519\" 8<\"$H\"; exec \"$S\" -- ./probe fds; '; echo rc=\$?" /dev/null </dev/null
	check "LAUNCH-02 with a terminal (own pty): still only 0-2" 'has "$OUT" "rc=0" && hasnt "$OUT" "/"'
else skip "LAUNCH-02 with a terminal" "script(1) not installed"; fi

# ---------------------------------------------------------------- LAUNCH-03
echo "add-dirs-ro=$H/.ssh" > "$W/.safehouse"
P write --no-create "$W/.safehouse"
check "LAUNCH-03 existing <workdir>/.safehouse is read-only inside (EROFS)" 'err EROFS'
P unlink "$W/.safehouse"
check "LAUNCH-03 existing .safehouse cannot be removed (EBUSY)" 'err EBUSY'
P rename "$W/.safehouse" "$W/moved"
check "LAUNCH-03 existing .safehouse cannot be renamed away (EBUSY)" 'err EBUSY'
rm -f "$W/.safehouse"
# An absent .safehouse must not be creatable either: once the workdir is
# trusted (--always-trust-workdir-config), it widens the next session.
P create "$W/.safehouse"
check "LAUNCH-03 absent <workdir>/.safehouse cannot be created inside (EROFS/EACCES)" \
	'err EROFS EACCES EPERM && [ ! -e "$W/.safehouse" ]'
rm -f "$W/.safehouse"
run "$S" --always-trust-workdir-config -- ./probe exec /bin/sh -c "echo 'add-dirs-ro=$H/.ssh' > .safehouse"
P read "$H/.ssh/id_ed25519"
check "LAUNCH-03 a trusted workdir: the session cannot widen the next one by writing .safehouse" 'err ENOENT'
run "$S" --always-trust-workdir-config=false -- true
rm -f "$W/.safehouse"
mkdir -p "$H/.config/safehouse"; echo "$W" > "$H/.config/safehouse/trusted-workdirs"
P read "$H/.config/safehouse/trusted-workdirs"
check "LAUNCH-03 the trust list is not visible inside (ENOENT)" 'err ENOENT'
P create "$H/.config/safehouse/x"
check "LAUNCH-03 the trust list's directory is not writable (ENOENT)" 'err ENOENT'
rm -rf "$H/.config/safehouse"
printf '(allow file-read* (home-subpath "/.aws"))\n' > "$T/ov.sb"
run "$S" --append-profile="$T/ov.sb" -- ./probe write --no-create "$T/ov.sb"
check "LAUNCH-03 an appended profile outside the grants is absent (ENOENT)" 'err ENOENT'
run "$S" --add-dirs="$T" --append-profile="$T/ov.sb" -- ./probe write --no-create "$T/ov.sb"
check "LAUNCH-03 an appended profile inside an --add-dirs grant is read-only (EROFS)" 'err EROFS'
echo 'sandbox_mode = "workspace-write"' > "$H/.codex/config.toml"
C write --no-create "$H/.codex/config.toml"
check "LAUNCH-03 existing ~/.codex/config.toml (sandbox_mode) is read-only (EROFS)" 'err EROFS'
rm -f "$H/.codex/config.toml"
C create "$H/.codex/config.toml"
check "LAUNCH-03 absent ~/.codex/config.toml cannot be created inside (EROFS/EACCES)" \
	'err EROFS EACCES EPERM && [ ! -e "$H/.codex/config.toml" ]'
rm -f "$H/.codex/config.toml"
C mkdir "$H/.codex/rules"
check "LAUNCH-03 absent ~/.codex/rules (execpolicy) cannot be created inside" \
	'err EROFS EACCES EPERM && [ ! -e "$H/.codex/rules" ]'
rm -rf "$H/.codex/rules"

# ---------------------------------------------------------------- LAUNCH-04
for d in '--bind / x' 'a,b:c=ro,rw' '-x' 'sp ace' 'x;y$(id)'; do
	mkdir -p "$T/w/$d" && cp "$PROBE" "$T/w/$d/probe"
	run sh -c 'cd "$1" && exec "$2" -- ./probe exec /bin/sh -c "$3"' sh "$T/w/$d" "$S" \
		": > created; (: > '$T/w/outside') 2>/dev/null; echo done"
	check "LAUNCH-04 workdir named '$d': works, and grants nothing more" \
		'[ $RC -eq 0 ] && [ "$OUT" = done ] && [ -f "$T/w/$d/created" ] && [ ! -e "$T/w/outside" ]'
done
nl='
'
mkdir -p "$T/w/nl${nl}x" && cp "$PROBE" "$T/w/nl${nl}x/probe"
run sh -c 'cd "$1" && exec "$2" -- ./probe create ran' sh "$T/w/nl${nl}x" "$S"
check "LAUNCH-04 a workdir with a newline is refused (1), the command does not run" \
	'[ $RC -eq 1 ] && has "$ERR" "control characters" && [ ! -e "$T/w/nl${nl}x/ran" ]'
mkdir -p "$T/w/g,ro"; echo g > "$T/w/g,ro/f"
run "$S" --add-dirs-ro="$T/w/g,ro" -- ./probe read "$T/w/g,ro/f"
check "LAUNCH-04 --add-dirs-ro of a path with ',' grants exactly that path" '[ $RC -eq 0 ]'
run "$S" --add-dirs-ro="$T/w/g,ro" -- ./probe write --no-create "$T/w/g,ro/f"
check "LAUNCH-04 ... read-only (EROFS)" 'err EROFS'

# ---------------------------------------------------------------- LAUNCH-05
if have_py; then
	PY threads "$H/.ssh/id_ed25519"
	check "LAUNCH-05 every thread: Seccomp 2, NoNewPrivs 1, canary ENOENT" \
		'[ $RC -eq 0 ] && [ "$OUT" = "seccomp=2 nnp=1 open=ENOENT" ]'
else skip "LAUNCH-05 threads" "no /usr/bin/python3"; fi

# ---------------------------------------------------------------- LAUNCH-06
P write --no-create /proc/1/exe
check "LAUNCH-06 /proc/1/exe (the launcher's init) not writable (EACCES)" 'err EACCES'
P write --no-create /usr/bin/git
check "LAUNCH-06 host toolchain binary /usr/bin/git not writable (EROFS; EACCES for a non-owner)" 'err EROFS EACCES'
have_py && { P write --no-create "$PYTHON"; check "LAUNCH-06 $PYTHON not writable (EROFS; EACCES for a non-owner)" 'err EROFS EACCES'; }
P write --no-create "$S"
check "LAUNCH-06 the safehouse binary itself is not in the view (ENOENT)" 'err ENOENT'
run "$S" -- /bin/sh -c 'exec 3>>/proc/self/exe' 
check "LAUNCH-06 /proc/self/exe of a system binary not writable" '[ $RC -ne 0 ]'

# ---------------------------------------------------------------- FS-01
ln -s "$H/.bashrc" "$W/.sbx-l"
P write --no-create "$W/.sbx-l"
check "FS-01 write through a workdir symlink to ~/.bashrc: ENOENT (target not in the view)" 'err ENOENT'
P write "$W/.sbx-l"
check "FS-01 O_CREAT through it: EROFS (the link's parent is a read-only skeleton), ~/.bashrc untouched" \
	'err EROFS ENOENT && [ "$(cat "$H/.bashrc")" = "# host bashrc" ]'
rm -f "$W/.sbx-l"; ln -s /etc/passwd "$W/.sbx-p"
P write --no-create "$W/.sbx-p"
check "FS-01 write through a workdir symlink to visible /etc/passwd: EROFS (EACCES for a non-owner)" 'err EROFS EACCES'
rm -f "$W/.sbx-p"
run "$S" -- /bin/sh -c "ln -s '$H/.ssh' sshlink && cat sshlink/id_ed25519"
check "FS-01 a symlink made inside to ~/.ssh reads nothing" '[ $RC -ne 0 ] && hasnt "$OUT" ssh-secret-key'
rm -f "$W/sshlink"

# ---------------------------------------------------------------- FS-02
if have_py; then
	PY link "$H/.bashrc" ./h
	check "FS-02 hardlink of ~/.bashrc into the workdir: ENOENT" 'err ENOENT && [ ! -e "$W/h" ]'
	PY link /etc/passwd ./pw
	check "FS-02 hardlink of a visible read-only file into the workdir: EXDEV" 'err EXDEV'
	echo 'model = "x"' > "$H/.codex/config.toml"
	run "$S" -- ./codex exec "$PYTHON" ./pyprobe.py link "$H/.codex/config.toml" "$H/.codex/cfg-link"
	check "FS-02 hardlink of a read-only carve-out into its writable parent: EXDEV" \
		'err EXDEV && [ ! -e "$H/.codex/cfg-link" ]'
	rm -f "$H/.codex/config.toml"
else skip "FS-02 hardlinks" "no /usr/bin/python3"; fi
: > "$W/.m"
P rename "$W/.m" "$H/.m"
check "FS-02 rename out of the workdir into \$HOME: EXDEV, nothing on the host" 'err EXDEV && [ ! -e "$H/.m" ]'
P rename "$W/.m" "$T/.m"
check "FS-02 rename into the workdir's parent: EXDEV" 'err EXDEV && [ ! -e "$T/.m" ]'

# ---------------------------------------------------------------- FS-03 / FS-04
P ls /proc/1/root/
check "FS-03 /proc/1/root (init, outside the Landlock domain): EACCES" 'err EACCES'
P read /proc/1/root/etc/hostname
check "FS-03 /proc/1/root/etc/hostname: EACCES" 'err EACCES'
P ls /proc/1/cwd
check "FS-04 /proc/1/cwd: EACCES" 'err EACCES'
P read /proc/1/fd/0
check "FS-04 /proc/1/fd/0 (init holds the caller's stdin/terminal): EACCES" 'err EACCES'
P write --no-create /proc/1/fd/1
check "FS-04 /proc/1/fd/1 not writable: EACCES" 'err EACCES'
if [ $$ -gt 20 ]; then
	P ls "/proc/$$/root/"
	check "FS-03 a host pid's /proc/PID/root: ENOENT" 'err ENOENT'
	P ls "/proc/$$/cwd"
	check "FS-04 a host pid's /proc/PID/cwd: ENOENT" 'err ENOENT'
else skip "FS-03/04 host pid" "this shell's pid ($$) may exist inside"; fi

# ---------------------------------------------------------------- FS-05
P syscall open-by-handle
check "FS-05 name_to_handle_at/open_by_handle_at: EPERM" 'err EPERM'

# ---------------------------------------------------------------- FS-06
P syscall mount-tmpfs /tmp
check "FS-06 mount(tmpfs) on /tmp: EPERM" 'err EPERM'
P syscall mount-tmpfs "$W"
check "FS-06 mount(tmpfs) on the workdir: EPERM" 'err EPERM'
if have_py; then
	echo "SECRET=1" > "$W/.env"
	printf '(deny file-read* file-write* (workdir-literal "/.env"))\n' > "$T/env.sb"
	run "$S" --append-profile="$T/env.sb" -- "$PYTHON" ./pyprobe.py umount2 "$W/.env"
	check "FS-06 umount of a mask (<workdir>/.env): EPERM" 'err EPERM'
	rm -f "$W/.env"
	for c in "umount2 /tmp" fsopen fspick open_tree open_tree_attr move_mount mount_setattr pivot_root chroot; do
		PY $c
		check "FS-06 $c: EPERM" 'err EPERM'
	done
else skip "FS-06 umount/new mount API" "no /usr/bin/python3"; fi
P syscall unshare-user
check "FS-06 unshare(CLONE_NEWUSER): EPERM" 'err EPERM'
if [ -x /usr/bin/unshare ]; then
	run "$S" -- /usr/bin/unshare -Urm /bin/sh -c 'umount -l /tmp && echo VULN'
	check "FS-06 unshare -Urm: refused (Operation not permitted)" \
		'[ $RC -ne 0 ] && hasnt "$OUT" VULN && has "$ERR" "Operation not permitted"'
fi

# ---------------------------------------------------------------- FS-08
rm -rf "$W/.git"; mkdir -p "$W/.git/hooks"; printf '[core]\n' > "$W/.git/config"
# .git stays writable for objects, refs and the index (git must work); what
# FS-08 is about -- redirecting the common dir to attacker config -- is not.
P create "$W/.git/commondir"
check "FS-08 .git/commondir cannot be created inside (EACCES/EROFS)" 'err EACCES EROFS && [ ! -e "$W/.git/commondir" ]'
P create "$W/.git/hooks/post-checkout"
check "FS-08 .git/hooks is read-only inside (EROFS/EACCES)" 'err EROFS EACCES && [ ! -e "$W/.git/hooks/post-checkout" ]'
P write --no-create "$W/.git/config"
check "FS-08 .git/config is read-only inside (EROFS/EACCES)" 'err EROFS EACCES && [ "$(cat "$W/.git/config")" = "[core]" ]'
rm -rf "$W/.git"

# ---------------------------------------------------------------- FS-09
echo "top-secret" > "$W/secret.txt"; mkdir -p "$W/sub"
printf '(deny file-read* file-write* (workdir-literal "/secret.txt") (workdir-literal "/later.txt"))\n' > "$T/deny.sb"
run "$S" --append-profile="$T/deny.sb" -- /bin/sh -c \
	'cat ./sub/../secret.txt; cat ./SECRET.TXT; ln -s secret.txt s && cat s; cat "$(realpath secret.txt)"; cat /proc/self/cwd/secret.txt; cp secret.txt copy && cat copy; (cd sub && cat ../secret.txt)'
check "FS-09 deny on secret.txt holds for sub/../, case, symlink, realpath, /proc/self/cwd, cp, relative" \
	'hasnt "$OUT" top-secret && hasnt "$ERR" top-secret'
run "$S" --append-profile="$T/deny.sb" -- ./probe write --no-create secret.txt
check "FS-09 ... and it is not writable (EACCES)" 'err EACCES && [ "$(cat "$W/secret.txt")" = top-secret ]'
rm -f "$W/s" "$W/copy"
# A denied name that does not exist yet must not be creatable either.
run "$S" --append-profile="$T/deny.sb" -- ./probe create later.txt
check "FS-09 a denied, not-yet-existing path cannot be created inside (EROFS/EACCES)" \
	'err EROFS EACCES EPERM && [ ! -e "$W/later.txt" ]'
rm -f "$W/later.txt"

# ---------------------------------------------------------------- FS-10
HT=$(mktemp -d /tmp/sh-integ-host.XXXXXX) && _extra_paths="$_extra_paths $HT"
echo host-temp > "$HT/file"
shmf=/dev/shm/sh-integ-$$
if [ -d /dev/shm ] && [ -w /dev/shm ] && echo host-shm > "$shmf"; then _extra_paths="$_extra_paths $shmf"; else shmf=""; fi
P ls /tmp
check "FS-10 /tmp inside is private and empty at start" '[ $RC -eq 0 ] && [ -z "$OUT" ]'
P ls /dev/shm
check "FS-10 /dev/shm inside is private and empty at start" '[ $RC -eq 0 ] && [ -z "$OUT" ]'
P read "$HT/file"
check "FS-10 a host /tmp file is not visible (ENOENT)" 'err ENOENT'
if [ -n "$shmf" ]; then
	P read "$shmf"
	check "FS-10 a host /dev/shm file is not visible (ENOENT)" 'err ENOENT'
fi
plant=/tmp/sh-integ-plant-$$
run "$S" -- /bin/sh -c "echo planted > $plant && ln -s '$H/.bashrc' /tmp/sh-integ-link-$$ && cat $plant"
check "FS-10 files planted in /tmp inside do not reach the host's /tmp" \
	'[ $RC -eq 0 ] && [ "$OUT" = planted ] && [ ! -e "$plant" ] && [ ! -L /tmp/sh-integ-link-$$ ]'
rm -f "$plant" "/tmp/sh-integ-link-$$"
P read "$plant"
check "FS-10 ... nor the next session's /tmp (ENOENT)" 'err ENOENT'
P exec /bin/sh -c 'grep " /tmp " /proc/self/mountinfo'
check "FS-10 /tmp is a size-limited tmpfs" 'has "$OUT" "tmpfs" && has "$OUT" "size="'

# ---------------------------------------------------------------- FS-11
caches=".npm .cache/pip .cache/go-build .cargo/registry .cargo/git go/pkg/mod .m2/repository .gradle/caches .cache/yarn .pnpm-store .local/share/pnpm .rustup"
for d in $caches; do mkdir -p "$H/$d"; echo orig > "$H/$d/entry"; done
for d in $caches; do
	C create "$H/$d/.p"
	check "FS-11 ~/$d not writable (EROFS/ENOENT), nothing on the host" \
		'err EROFS ENOENT EACCES && [ ! -e "$H/$d/.p" ]'
	C write --no-create "$H/$d/entry"
	check "FS-11 ~/$d/entry cannot be poisoned (EROFS/ENOENT)" 'err EROFS ENOENT EACCES && [ "$(cat "$H/$d/entry")" = orig ]'
done
run "$S" -- ./probe exec /bin/sh -c 'mkdir -p "$npm_config_cache" && : > "$npm_config_cache/x" && echo "$npm_config_cache"'
check "FS-11 npm gets a per-session cache under the private /tmp" '[ $RC -eq 0 ] && has "$OUT" "/tmp/"'
