#!/bin/sh
# End-to-end enforcement: the issue's acceptance list, run against the real
# binary with the default policy for `codex`.  Every command really runs in
# the sandbox; the probe (build/probe, static) is copied into the workdir as
# ./probe and as ./codex (the agent profile is chosen from the command word's
# basename, so ./codex selects 60-agents/codex.sb).  HOME is a fake under $T.
. "$(dirname "$0")/lib.sh"
S=$SAFEHOUSE
H=$T/home; W=$T/work
mkdir -p "$H/.ssh" "$H/.aws" "$H/other-repo/.git" "$H/.codex" "$W"
echo "ssh-secret-key" > "$H/.ssh/id_ed25519"
echo "aws-secret" > "$H/.aws/credentials"
printf '[core]\n\tfsmonitor = evil\n' > "$H/other-repo/.git/config"
export HOME=$H
unset XDG_CONFIG_HOME SAFEHOUSE_WORKDIR SAFEHOUSE_ADD_DIRS SAFEHOUSE_ADD_DIRS_RO \
	SAFEHOUSE_TRUST_WORKDIR_CONFIG SAFEHOUSE_ENV_PASS SAFEHOUSE_PROFILES_DIR \
	LD_PRELOAD LD_LIBRARY_PATH FOO_API_KEY
cd "$W" || exit 1
W=$(pwd -P); H=$(cd "$H" && pwd -P)
cp "$PROBE" "$W/probe" && cp "$PROBE" "$W/codex" || { not_ok "copy the probe into the workdir"; exit 1; }

# C ARGS...: the probe under the codex profile.  P ARGS...: no agent profile.
C() { run "$S" -- ./codex "$@"; }
P() { run "$S" -- ./probe "$@"; }
# err E...: the probe failed (exit 1) with one of these errno names
err() {
	[ "$RC" -eq 1 ] || return 1
	for _e; do [ "$OUT" = "$_e" ] && return 0; done
	return 1
}

# --- the codex profile is the one in force
run "$S" --explain -- ./codex fds
check "./codex selects 60-agents/codex.sb (--explain)" \
	'[ $RC -eq 0 ] && has "$ERR" "agent profile: 60-agents/codex.sb"'
check "the sandboxed command ran (no inherited descriptors, exit 0)" '[ -z "$OUT" ]'

# --- the workdir is readable and writable
echo "from-the-host" > "$W/host.txt"
run "$S" -- ./codex exec /bin/sh -c 'cat host.txt && printf "from-inside" > out.txt && mkdir -p d/e && echo x > d/e/f && rm host.txt'
check "workdir: read a host file, create, write, mkdir, remove inside (exit 0)" \
	'[ $RC -eq 0 ] && [ "$OUT" = "from-the-host" ]'
check "workdir: what was written inside is on the host" \
	'[ "$(cat "$W/out.txt" 2>/dev/null)" = "from-inside" ] && [ -f "$W/d/e/f" ] && [ ! -e "$W/host.txt" ]'
C create "$W/new-file"
check "workdir: O_CREAT|O_EXCL by absolute path succeeds" '[ $RC -eq 0 ] && [ -f "$W/new-file" ]'

# --- secrets outside the grants are absent
C read "$H/.ssh/id_ed25519"
check "~/.ssh/id_ed25519 is absent (ENOENT)" 'err ENOENT'
C read "$H/.aws/credentials"
check "~/.aws/credentials is absent (ENOENT)" 'err ENOENT'
C read "$H/other-repo/.git/config"
check "another repo in \$HOME is absent (ENOENT)" 'err ENOENT'
C read /etc/shadow
check "/etc/shadow is absent (ENOENT)" 'err ENOENT'
C stat "$H/.ssh"
check "~/.ssh itself is absent (stat: ENOENT)" 'err ENOENT'
C ls "$H"
check "ls \$HOME does not list .ssh (traversal only: EACCES)" \
	'{ err EACCES || [ $RC -eq 0 ]; } && hasnt "$OUT" ".ssh" && hasnt "$OUT" "other-repo"'
run "$S" -- ./codex exec /bin/cat "$H/.ssh/id_ed25519"
check "cat ~/.ssh/id_ed25519 fails and prints no key" '[ $RC -ne 0 ] && hasnt "$OUT$ERR" "ssh-secret-key"'

# --- writing outside the workdir fails, and nothing appears on the host
for p in "$H/x" /usr/x /etc/x /x "$T/x" "$H/.ssh/x"; do
	C create "$p"
	case $p in "$H/.ssh/x") want=ENOENT ;; *) want="EROFS EACCES" ;; esac
	check "create $p fails ($want)" 'err $want && [ ! -e "$p" ]'
done
C write --no-create "$H/.ssh/id_ed25519"
check "write to ~/.ssh/id_ed25519 fails (ENOENT)" 'err ENOENT'

# --- toolchains run
run "$S" -- ./codex exec /usr/bin/git --version
check "git --version runs" '[ $RC -eq 0 ] && has "$OUT" "git version"'
run "$S" -- git --version
check "git found on PATH inside" '[ $RC -eq 0 ] && has "$OUT" "git version"'
if [ -x /usr/bin/python3 ]; then
	run "$S" -- ./codex exec /usr/bin/python3 -c 'print(1)'
	check "python3 -c 'print(1)' prints 1" '[ $RC -eq 0 ] && [ "$OUT" = 1 ]'
else skip "python3 runs" "/usr/bin/python3 not installed"; fi
node=$(command -v node 2>/dev/null || true)
if [ -n "$node" ]; then
	run "$S" -- node -e 'console.log(6*7)'
	check "node -e runs ($node)" '[ $RC -eq 0 ] && [ "$OUT" = 42 ]'
else skip "node -e runs" "node is not installed"; fi
if command -v gcc >/dev/null 2>&1; then
	printf '#include <stdio.h>\nint main(void) { puts("hello, sandbox"); return 0; }\n' > "$W/hello.c"
	run "$S" -- ./codex exec /bin/sh -c 'gcc -O1 -o hello hello.c && ./hello'
	check "gcc compiles and runs hello world in the workdir" \
		'[ $RC -eq 0 ] && [ "$OUT" = "hello, sandbox" ] && [ -x "$W/hello" ]'
	if command -v make >/dev/null 2>&1; then
		mkdir -p "$W/proj"
		printf 'int main(void) { return 7; }\n' > "$W/proj/m.c"
		printf 'all: m.out\nm.out: m.o\n\t$(CC) -o $@ m.o\nm.o: m.c\n\t$(CC) -c -o $@ m.c\n' > "$W/proj/Makefile"
		run "$S" -- ./codex exec /bin/sh -c 'cd proj && make CC=gcc && ./m.out; echo "status=$?"'
		check "make builds in the workdir" \
			'[ $RC -eq 0 ] && has "$OUT" "status=7" && [ -f "$W/proj/m.o" ] && [ -x "$W/proj/m.out" ]'
	else skip "make builds in the workdir" "make is not installed"; fi
else
	skip "gcc compiles hello world" "gcc is not installed"
	skip "make builds in the workdir" "gcc is not installed"
fi

# --- an appended profile denies <workdir>/.env; the rest of the workdir stays writable
echo "SECRET_TOKEN=s3cr3t" > "$W/.env"; echo keep > "$W/other"
printf ';; overlay\n(deny file-read* file-write* (workdir-literal "/.env"))\n' > "$T/overlay.sb"
A="--append-profile=$T/overlay.sb"
run "$S" "$A" -- ./codex exec /bin/cat .env
check "appended deny: .env content is not readable (masked)" 'hasnt "$OUT$ERR" "s3cr3t"'
run "$S" "$A" -- ./codex exec /bin/cat "$W/sub/../.env"
check "appended deny: no .env content through sub/../.env either" 'hasnt "$OUT$ERR" "s3cr3t"'
run "$S" "$A" -- ./codex write --no-create "$W/.env"
check "appended deny: .env is not writable (EACCES)" 'err EACCES'
run "$S" "$A" -- ./codex unlink .env
check "appended deny: .env cannot be removed (EBUSY)" 'err EBUSY'
run "$S" "$A" -- ./codex rename .env env.moved
check "appended deny: .env cannot be renamed away (EBUSY)" 'err EBUSY'
check "appended deny: .env is unchanged on the host" \
	'[ "$(cat "$W/.env")" = "SECRET_TOKEN=s3cr3t" ] && [ ! -e "$W/env.moved" ]'
run "$S" "$A" -- ./codex exec /bin/sh -c 'echo more >> other && echo new > other2'
check "appended deny: the rest of the workdir stays writable" \
	'[ $RC -eq 0 ] && [ "$(cat "$W/other")" = "keep
more" ] && [ -f "$W/other2" ]'

# --- exit status, argv, environment
run "$S" -- sh -c 'exit 3'
check "exit status propagates (sh -c 'exit 3' -> 3)" '[ $RC -eq 3 ]'
run "$S" -- sh -c 'kill -TERM $$'
check "death by signal N -> 128+N (SIGTERM -> 143)" '[ $RC -eq 143 ]'
run "$S" -- /usr/bin/printf '[%s]\n' 'a b' '"q"' "it's" '' -- '$HOME' '*' 'x	y' '\n'
check "argv preserved exactly (spaces, quotes, empty, --, \$, glob, tab, backslash)" \
	'[ $RC -eq 0 ] && [ "$OUT" = "[a b]
[\"q\"]
[it'"'"'s]
[]
[--]
[\$HOME]
[*]
[x	y]
[\\n]" ]'
run "$S" -- FOO=bar EMPTY= ./probe env FOO
check "NAME=VALUE after -- sets the child's environment" '[ $RC -eq 0 ] && [ "$OUT" = bar ]'
run "$S" -- EMPTY= ./probe env EMPTY
check "NAME= after -- sets an empty variable" '[ $RC -eq 0 ] && [ -z "$OUT" ]'
run env FOO_API_KEY=host-secret "$S" -- ./probe env FOO_API_KEY
check "sanitized env: a host FOO_API_KEY is not visible" '[ $RC -eq 1 ] && [ "$OUT" = UNSET ]'
run env FOO_API_KEY=host-secret "$S" --env-pass=FOO_API_KEY -- ./probe env FOO_API_KEY
check "--env-pass=FOO_API_KEY makes it visible" '[ $RC -eq 0 ] && [ "$OUT" = host-secret ]'
run env FOO_API_KEY=host-secret SAFEHOUSE_ENV_PASS=FOO_API_KEY "$S" -- ./probe env FOO_API_KEY
check "SAFEHOUSE_ENV_PASS=FOO_API_KEY makes it visible" '[ $RC -eq 0 ] && [ "$OUT" = host-secret ]'
# ' ' and a missing directory: harmless to the launcher itself
run env LD_PRELOAD=' ' "$S" -- ./probe env LD_PRELOAD
check "LD_PRELOAD is stripped" '[ $RC -eq 1 ] && [ "$OUT" = UNSET ]'
run env LD_PRELOAD=' ' "$S" --env -- ./probe env LD_PRELOAD
check "LD_PRELOAD is stripped even with --env" '[ $RC -eq 1 ] && [ "$OUT" = UNSET ]'
run env LD_LIBRARY_PATH=/nonexistent-sh-integ "$S" -- ./probe env LD_LIBRARY_PATH
check "LD_LIBRARY_PATH is stripped" '[ $RC -eq 1 ] && [ "$OUT" = UNSET ]'
run env LD_LIBRARY_PATH=/nonexistent-sh-integ "$S" --env-pass=LD_LIBRARY_PATH -- ./probe env LD_LIBRARY_PATH
check "--env-pass=LD_LIBRARY_PATH is the one documented way to pass LD_*" '[ $RC -eq 0 ] && [ "$OUT" = /nonexistent-sh-integ ]'
run env FOO_API_KEY=host-secret "$S" --env -- ./probe env FOO_API_KEY
check "--env passes the full environment" '[ $RC -eq 0 ] && [ "$OUT" = host-secret ]'
run "$S" -- ./probe env HOME
check "HOME inside is the (fake) home" '[ $RC -eq 0 ] && [ "$OUT" = "$H" ]'

# --- 127 / 126
run "$S" -- sh-integ-no-such-command
check "a missing command exits 127" '[ $RC -eq 127 ] && has "$ERR" "not found"'
run "$S" -- ./no-such-file
check "a missing ./path exits 127" '[ $RC -eq 127 ]'
printf '#!/bin/sh\necho should-not-run\n' > "$W/notexec.sh"; chmod 644 "$W/notexec.sh"
run "$S" -- ./notexec.sh
check "a non-executable file exits 126 and does not run" '[ $RC -eq 126 ] && hasnt "$OUT" should-not-run'
run "$S" -- "$W"
check "a directory as the command exits 126" '[ $RC -eq 126 ]'

