#!/bin/sh
# CLI surface (reference.md section 1): every flag, env variable and config
# file, with its normal use and its errors.  Runs the real binary with a fake
# HOME so the real home is never read or written.
. "$(dirname "$0")/lib.sh"
S=$SAFEHOUSE
H=$T/home; W=$T/work; mkdir -p "$H/.ssh" "$H/extra" "$H/ro" "$W" "$T/other"
echo secret > "$H/.ssh/id_ed25519"; echo x > "$H/file.txt"
export HOME=$H; unset XDG_CONFIG_HOME SAFEHOUSE_WORKDIR SAFEHOUSE_ADD_DIRS SAFEHOUSE_ADD_DIRS_RO \
	SAFEHOUSE_TRUST_WORKDIR_CONFIG SAFEHOUSE_ENV_PASS SAFEHOUSE_PROFILES_DIR
cd "$W" || exit 1
W=$(pwd -P); H=$(cd "$H" && pwd -P)

# --- help, version, unknown options
run "$S" --help
check "--help exits 0 and lists options" '[ $RC -eq 0 ] && has "$OUT" "--add-dirs"'
run "$S" -h;        check "-h is --help" [ $RC -eq 0 ]
run "$S" --version; check "--version prints 'safehouse VERSION'" [ $RC -eq 0 ]
has "$OUT" "safehouse " || not_ok "--version text: $OUT"
run "$S" --frobnicate -- true
check "unknown option fails with exit 1 and a hint about --" '[ $RC -eq 1 ] && has "$ERR" "after '\''--'\''"'
run "$S" --stdout --workdir
check "value flag without value fails" '[ $RC -eq 1 ] && has "$ERR" "needs a value"'
run "$S" --stdout=yes
check "flag without value rejects =value" '[ $RC -eq 1 ] && has "$ERR" "takes no value"'

# --- agent selection
run "$S" --stdout -- codex
check "--stdout -- codex includes the codex profile" '[ $RC -eq 0 ] && has "$OUT" ";; ---- 60-agents/codex.sb ----"'
run "$S" --stdout -- npx @openai/codex
check "npx @openai/codex selects codex" 'has "$OUT" ";; ---- 60-agents/codex.sb ----"'
run "$S" --stdout -- npx -y @openai/codex@latest exec hi
check "npx -y @openai/codex@latest selects codex" 'has "$OUT" "60-agents/codex.sb ----"'
run "$S" --stdout -- FOO=1 BAR=2 /usr/local/bin/codex
check "NAME=VALUE words and a path are skipped for selection" 'has "$OUT" "60-agents/codex.sb ----"'
run "$S" --stdout -- bash
check "bash selects no agent profile" '[ $RC -eq 0 ] && hasnt "$OUT" ";; ---- 60-agents/"'
run "$S" --explain --stdout -- bash
check "--explain says no agent matched" 'has "$ERR" "agent profile: none"'
run "$S" --stdout -- claude
check "claude alias selects claude-code" 'has "$OUT" "60-agents/claude-code.sb ----"'
run "$S" --stdout --enable=all-agents -- bash
check "--enable=all-agents loads every agent profile" 'has "$OUT" "60-agents/codex.sb ----" && has "$OUT" "60-agents/claude-code.sb ----"'

# --- why
run "$S" why "$H/.ssh/id_ed25519" -- codex
check "why ~/.ssh/id_ed25519 -- codex says deny" '[ $RC -eq 0 ] && has "$OUT" "deny: file-read-data $H/.ssh/id_ed25519"'
run "$S" why --write "$W/x" -- codex
check "why --write workdir/x says allow by the workdir rule" 'has "$OUT" "allow: file-write-data $W/x" && has "$OUT" "<generated: workdir>"'
printf ';; overlay\n(deny file-read* file-write* (workdir-literal "/.env"))\n' > "$T/overlay.sb"
run "$S" why "$W/.env" --append-profile="$T/overlay.sb" -- codex
check "appended deny on .env names its file:line" 'has "$OUT" "deny: file-read-data $W/.env" && has "$OUT" "$T/overlay.sb:2"'
run "$S" why --exec /usr/bin/env -- codex
check "why --exec evaluates process-exec" 'has "$OUT" "process-exec /usr/bin/env"'
run "$S" why
check "why without PATH fails" '[ $RC -eq 1 ] && has "$ERR" "missing PATH"'

# --- --add-dirs / --add-dirs-ro
run "$S" why --write "$H/extra/f" --add-dirs="$H/extra" -- true
check "--add-dirs grants write" 'has "$OUT" "allow: file-write-data"'
run "$S" why --write "$H/extra/f" --add-dirs="~/extra" -- true
check "--add-dirs expands ~" 'has "$OUT" "allow: file-write-data"'
run "$S" why --write "$H/file.txt" --add-dirs "$H/ro:$H/file.txt" -- true
check "--add-dirs takes colon lists and files (space-separated value)" 'has "$OUT" "allow: file-write-data $H/file.txt"'
run "$S" why --write "$H/ro/f" --add-dirs-ro="$H/ro" -- true
check "--add-dirs-ro denies write" 'has "$OUT" "deny: file-write-data"'
run "$S" why "$H/ro/f" --add-dirs-ro="$H/ro" -- true
check "--add-dirs-ro allows read" 'has "$OUT" "allow: file-read-data"'
run "$S" --stdout --add-dirs="$H/nope" -- true
check "--add-dirs of a missing path fails" '[ $RC -eq 1 ] && has "$ERR" "does not exist"'
run "$S" --stdout "--add-dirs=$H/a
b" -- true
check "--add-dirs with a control character fails" '[ $RC -eq 1 ] && has "$ERR" "control characters"'
run env SAFEHOUSE_ADD_DIRS="$H/extra" "$S" why --write "$H/extra/f" -- true
check "SAFEHOUSE_ADD_DIRS grants write" 'has "$OUT" "allow: file-write-data"'
run env SAFEHOUSE_ADD_DIRS_RO="$H/ro" "$S" why "$H/ro/f" -- true
check "SAFEHOUSE_ADD_DIRS_RO grants read" 'has "$OUT" "allow: file-read-data"'

# --- --workdir
run "$S" why --write "$T/other/x" --workdir="$T/other" -- true
check "--workdir=DIR makes DIR writable" 'has "$OUT" "allow: file-write-data"'
run "$S" why --write "$W/x" --workdir= -- true
check "--workdir= disables the workdir grant" 'has "$OUT" "deny: file-write-data"'
run "$S" --stdout --workdir= --append-profile="$T/overlay.sb" -- true
check "workdir-* helper with the workdir disabled is a profile error (65)" '[ $RC -eq 65 ] && has "$ERR" "overlay.sb:2:"'
run "$S" --stdout --workdir="$T/missing" -- true
check "--workdir of a missing dir fails" '[ $RC -eq 1 ] && has "$ERR" "does not exist"'
run "$S" --stdout --workdir="$H/file.txt" -- true
check "--workdir of a file fails" '[ $RC -eq 1 ] && has "$ERR" "not a directory"'
run "$S" --workdir=/dev -- true
check "a workdir in /dev (built by the sandbox) is a usage error, with a hint" \
	'[ $RC -eq 1 ] && has "$ERR" "is in /dev" && has "$ERR" "--workdir=DIR"'
if [ -d /dev/shm ] && mkdir "/dev/shm/sh-integ-$$" 2>/dev/null; then
	run sh -c "cd /dev/shm/sh-integ-$$ && exec \"\$0\" -- true" "$S"
	rmdir "/dev/shm/sh-integ-$$"
	check "the current directory in /dev/shm as the workdir: the same error" \
		'[ $RC -eq 1 ] && has "$ERR" "current directory" && has "$ERR" "is in /dev"'
else
	skip "the current directory in /dev/shm as the workdir" "no writable /dev/shm"
fi
run "$S" --workdir=/proc/self -- true
check "a workdir in /proc is a usage error" '[ $RC -eq 1 ] && has "$ERR" "is in /proc"'
run sh -c 'cd /tmp && exec "$0" -- sh -c "echo RAN"' "$S"
check "/tmp as the workdir (the private tmpfs: writes would be lost) is a usage error" \
	'[ $RC -eq 1 ] && has "$ERR" "private /tmp" && has "$ERR" "hint:" && hasnt "$OUT" RAN'
# The home directory as the workdir grants all of it (~/.ssh included):
# refused when it comes from the current directory, done with a warning
# when named.
run sh -c 'cd "$1" && exec "$2" -- sh -c "echo RAN"' sh "$H" "$S"
check "the current directory being \$HOME is refused (it would grant ~/.ssh), with a hint" \
	'[ $RC -eq 1 ] && has "$ERR" "is your home directory" && has "$ERR" "--workdir=DIR" && hasnt "$OUT" RAN'
run sh -c 'cd / && exec "$0" -- sh -c "echo RAN"' "$S"
check "the current directory / (it contains \$HOME) is refused" \
	'[ $RC -eq 1 ] && has "$ERR" "contains your home directory" && hasnt "$OUT" RAN'
run "$S" --workdir="$H" -- sh -c 'cat "$HOME/.ssh/id_ed25519"'
check "--workdir=\$HOME named explicitly: runs, with a warning that ~/.ssh is inside" \
	'[ $RC -eq 0 ] && has "$OUT" secret && has "$ERR" "warning:" && has "$ERR" "~/.ssh"'
run "$S" --add-dirs-ro="$H" -- sh -c 'cat "$HOME/.ssh/id_ed25519"'
check "--add-dirs-ro=\$HOME: done, with a warning that ~/.ssh is readable inside" \
	'[ $RC -eq 0 ] && has "$OUT" secret && has "$ERR" "--add-dirs-ro: '\''$H'\'' is your home directory" && has "$ERR" "readable inside"'
run "$S" --add-dirs=/tmp -- sh -c "echo RAN"
check "--add-dirs=/tmp (the private tmpfs) is a usage error" \
	'[ $RC -eq 1 ] && has "$ERR" "--add-dirs" && has "$ERR" "private /tmp" && hasnt "$OUT" RAN'
run env SAFEHOUSE_ADD_DIRS_RO=/dev/null "$S" -- sh -c "echo RAN"
check "a grant in /dev (SAFEHOUSE_ADD_DIRS_RO=/dev/null) is a usage error" \
	'[ $RC -eq 1 ] && has "$ERR" "SAFEHOUSE_ADD_DIRS_RO" && has "$ERR" "is in /dev" && hasnt "$OUT" RAN'
run env SAFEHOUSE_WORKDIR= "$S" why --write "$W/x" -- true
check "SAFEHOUSE_WORKDIR set but empty disables the workdir" 'has "$OUT" "deny: file-write-data"'
run env SAFEHOUSE_WORKDIR="$T/other" "$S" why --write "$T/other/x" -- true
check "SAFEHOUSE_WORKDIR=DIR sets the workdir" 'has "$OUT" "allow: file-write-data"'
run env SAFEHOUSE_WORKDIR="$T/other" "$S" why --write "$W/x" --workdir="$W" -- true
check "--workdir beats SAFEHOUSE_WORKDIR" 'has "$OUT" "allow: file-write-data"'

# --- --enable
run "$S" --stdout --enable=docker -- true
check "--enable=docker includes the docker profile" '[ $RC -eq 0 ] && has "$OUT" "55-integrations-optional/docker.sb ----"'
run "$S" --stdout --enable=DOCKER --enable ssh -- true
check "--enable is case-insensitive and repeatable" 'has "$OUT" "docker.sb ----" && has "$OUT" "ssh.sb ----"'
run "$S" --stdout --enable=nosuchthing -- true
check "--enable of an unknown feature lists the valid ones" '[ $RC -eq 1 ] && has "$ERR" "unknown feature '\''nosuchthing'\''" && has "$ERR" "docker"'

# --- --append-profile
run "$S" why --write "$T/overlay.sb" --add-dirs="$T" --append-profile="$T/overlay.sb" -- true
check "appended profile is write-protected" 'has "$OUT" "deny: file-write-data $T/overlay.sb"'
run "$S" why --write "$T/overlay.sb" --add-dirs="$T" --append-profile="$T/overlay.sb" --allow-profile-writes -- true
check "--allow-profile-writes lifts the protection" 'has "$OUT" "allow: file-write-data $T/overlay.sb"'
run "$S" --stdout --append-profile="$T/none.sb" -- true
check "--append-profile of a missing file fails" '[ $RC -eq 1 ] && has "$ERR" "does not exist"'
printf '(allow file-read*\n  (subpath "/x")\n' > "$T/unbalanced.sb"
run "$S" --stdout --append-profile="$T/unbalanced.sb" -- true
check "unbalanced paren: exit 65 with file:line:col" '[ $RC -eq 65 ] && has "$ERR" "unbalanced.sb:1:1:"'
printf '(allow file-read* (subpath "/x"))\n(frobnicate 1)\n' > "$T/unknown.sb"
run "$S" --stdout --append-profile="$T/unknown.sb" -- true
check "unknown form: exit 65 with file:line:col" '[ $RC -eq 65 ] && has "$ERR" "unknown.sb:2:"'
printf '(allow file-read* (subpaht "/x"))\n' > "$T/badfilter.sb"
run "$S" --stdout --append-profile="$T/badfilter.sb" -- true
check "bad filter: exit 65 with file:line:col" '[ $RC -eq 65 ] && has "$ERR" "badfilter.sb:1:"'
printf '(allow mach-lookup (global-name "com.apple.x"))\n' > "$T/mac.sb"
run "$S" --explain --stdout --append-profile="$T/mac.sb" -- true
check "macOS-only rules are accepted and listed as ignored on Linux" '[ $RC -eq 0 ] && has "$ERR" "ignored on Linux: allow mach-lookup"'

# --- workdir config and trust
printf 'add-dirs-ro=%s\n' "$H/ro" > "$W/.safehouse"
run "$S" why "$H/ro/f" --explain -- true
check "untrusted .safehouse is ignored" 'has "$OUT" "deny: file-read-data" && has "$ERR" "present but ignored"'
run "$S" why "$H/ro/f" --trust-workdir-config -- true
check "--trust-workdir-config loads .safehouse" 'has "$OUT" "allow: file-read-data"'
run "$S" why "$H/ro/f" --trust-workdir-config=false -- true
check "--trust-workdir-config=false does not" 'has "$OUT" "deny: file-read-data"'
run env SAFEHOUSE_TRUST_WORKDIR_CONFIG=1 "$S" why "$H/ro/f" -- true
check "SAFEHOUSE_TRUST_WORKDIR_CONFIG=1 loads .safehouse" 'has "$OUT" "allow: file-read-data"'
run env SAFEHOUSE_TRUST_WORKDIR_CONFIG=maybe "$S" --stdout -- true
check "invalid SAFEHOUSE_TRUST_WORKDIR_CONFIG fails" '[ $RC -eq 1 ]'
run "$S" --stdout --trust-workdir-config=perhaps -- true
check "invalid BOOL fails" '[ $RC -eq 1 ]'
run "$S" --always-trust-workdir-config --stdout -- true
check "--always-trust-workdir-config records the workdir" '[ $RC -eq 0 ] && grep -qxF "$W" "$H/.config/safehouse/trusted-workdirs"'
run "$S" why "$H/ro/f" -- true
check "a recorded workdir is trusted next time" 'has "$OUT" "allow: file-read-data"'
run "$S" --always-trust-workdir-config=false --stdout -- true
check "--always-trust-workdir-config=false removes it" '[ $RC -eq 0 ] && ! grep -qxF "$W" "$H/.config/safehouse/trusted-workdirs"'
mkdir -p "$T/xdg"
run env XDG_CONFIG_HOME="$T/xdg" "$S" --always-trust-workdir-config --stdout -- true
check "trusted-workdirs honours XDG_CONFIG_HOME" '[ -f "$T/xdg/safehouse/trusted-workdirs" ]'
printf 'add-dirs-ro=%s\nthis is not valid\n' "$H/ro" > "$W/.safehouse"
run "$S" --stdout --trust-workdir-config -- true
check "malformed .safehouse line fails with file:line" '[ $RC -eq 1 ] && has "$ERR" ".safehouse:2"'
printf 'colour=blue\n' > "$W/.safehouse"
run "$S" --stdout --trust-workdir-config -- true
check "unknown .safehouse key fails" '[ $RC -eq 1 ] && has "$ERR" ".safehouse:1"'
printf 'enable=docker\nappend-profile=%s\n' "$T/overlay.sb" > "$W/.safehouse"
run "$S" --stdout --trust-workdir-config -- true
check "trusted .safehouse enable and append-profile apply" 'has "$OUT" "docker.sb ----" && has "$OUT" ";; ---- $T/overlay.sb ----"'
rm -f "$W/.safehouse"; ln -s "$T/overlay.sb" "$W/.safehouse"
run "$S" --stdout --trust-workdir-config -- true
check "a symlinked .safehouse is refused" '[ $RC -eq 1 ] && has "$ERR" "symbolic link"'
rm -f "$W/.safehouse"
run "$S" why --write "$W/.safehouse" -- true
check ".safehouse is write-protected by default" 'has "$OUT" "deny: file-write-data $W/.safehouse"'
run "$S" why --write "$W/.safehouse" --allow-workdir-config-writes -- true
check "--allow-workdir-config-writes lifts it" 'has "$OUT" "allow: file-write-data $W/.safehouse"'

# --- environment options
run "$S" --stdout --env --env-pass=FOO -- true
check "--env with --env-pass fails" '[ $RC -eq 1 ] && has "$ERR" "cannot be combined"'
run "$S" --explain --stdout --env -- true
check "--env is explained as the full environment" 'has "$ERR" "full host environment"'
printf 'A=1\n' > "$T/ok.env"
run "$S" --explain --stdout --env="$T/ok.env" -- true
check "--env=FILE is accepted and explained" '[ $RC -eq 0 ] && has "$ERR" "sanitized + file"'
printf 'A=1\nnot an assignment\n' > "$T/bad.env"
run "$S" --stdout --env="$T/bad.env" -- true
check "malformed env file fails with file:line" '[ $RC -eq 1 ] && has "$ERR" "bad.env:2"'
run "$S" --stdout --env="$T/none.env" -- true
check "missing env file fails" '[ $RC -eq 1 ]'
run "$S" --explain --stdout --env-pass=FOO,BAR -- true
check "--env-pass names are explained" 'has "$ERR" "env passed by name: FOO, BAR"'
run "$S" --stdout --env-pass='1BAD' -- true
check "--env-pass with an invalid name fails" '[ $RC -eq 1 ]'
run env SAFEHOUSE_ENV_PASS=ZED "$S" --explain --stdout -- true
check "SAFEHOUSE_ENV_PASS is honoured" 'has "$ERR" "ZED"'

# --- output modes
run "$S" --output="$T/policy.sb" --stdout -- true
run "$S" --output="$T/policy.sb"
check "--output without a command writes the file and prints its path" '[ $RC -eq 0 ] && [ -s "$T/policy.sb" ] && has "$OUT" "$T/policy.sb"'
run env TMPDIR="$T" "$S"
check "no command: policy written to a temp file whose path is printed" '[ $RC -eq 0 ] && [ -s "$OUT" ]'
rm -f "$OUT"
run "$S" --stdout --target=linux -- codex
check "--target=linux renders" '[ $RC -eq 0 ]'
run "$S" --stdout --target=windows -- codex
check "--target with an unknown target fails" '[ $RC -eq 1 ]'
run "$S" --profiles-dir="$SH_ROOT/profiles" --stdout -- codex
check "--profiles-dir reads profiles from a directory" '[ $RC -eq 0 ] && has "$OUT" "60-agents/codex.sb ----"'
run "$S" --profiles-dir="$T/nodir" --stdout -- codex
check "--profiles-dir of a missing dir fails" '[ $RC -eq 1 ]'
run "$S" --explain --stdout -- codex
for line in "workdir: $W (from current directory)" "workdir config trust:" "worktree:" "integrations enabled:" \
	"agent profile: 60-agents/codex.sb" "env: sanitized" "run mode:"; do
	check "--explain has '$line'" 'has "$ERR" "$line"'
done

# --- wide-read keeps other agents' tokens hidden but not the selected agent's
run "$S" why "$H/.codex/auth.json" --enable=wide-read -- codex
check "wide-read: the selected agent still reads its own token" 'has "$OUT" "allow: file-read-data"'
run "$S" why "$H/.claude/.credentials.json" --enable=wide-read -- codex
check "wide-read: other agents tokens stay denied" 'has "$OUT" "deny: file-read-data"'
run "$S" why "$H/.ssh/id_ed25519" --enable=wide-read -- codex
check "wide-read: ssh keys stay denied" 'has "$OUT" "deny: file-read-data"'

# --- environment, observed inside a real session
printf 'FROM_FILE="a b"\nexport OTHER=2\nSAFEHOUSE_X=1\n' > "$T/run.env"
run env HOST_ONLY=1 OPENAI_API_KEY=sk-test "$S" -- /usr/bin/env
check "sanitized env: host secrets and arbitrary vars are not passed" '[ $RC -eq 0 ] && hasnt "$OUT" "OPENAI_API_KEY" && hasnt "$OUT" "HOST_ONLY=1" && has "$OUT" "HOME=$H"'
check "sanitized env: TMPDIR is the private /tmp" 'has "$OUT" "TMPDIR=/tmp"'
run env HOST_ONLY=1 "$S" --env-pass=HOST_ONLY -- /usr/bin/env
check "--env-pass passes the named variable" 'has "$OUT" "HOST_ONLY=1"'
run env HOST_ONLY=1 LD_PRELOAD=/nonexistent.so "$S" --env -- /usr/bin/env
check "--env passes the host environment but strips LD_*" 'has "$OUT" "HOST_ONLY=1" && hasnt "$OUT" "LD_PRELOAD"'
run "$S" --env="$T/run.env" -- /usr/bin/env
check "--env=FILE adds the file's variables (parsed, SAFEHOUSE_* ignored)" 'has "$OUT" "FROM_FILE=a b" && has "$OUT" "OTHER=2" && hasnt "$OUT" "SAFEHOUSE_X"'
run "$S" -- GREETING=hello /usr/bin/env
check "NAME=VALUE after -- is set in the child" 'has "$OUT" "GREETING=hello"'
printf '(allow file-read* (vnode-type DIRECTORY) (literal "/x"))\n' > "$T/vnode.sb"
run "$S" --explain --stdout --append-profile="$T/vnode.sb" -- true
check "filters with no Linux meaning are listed as ignored on Linux" 'has "$ERR" "filter ignored on Linux: (vnode-type DIRECTORY)"'

# --- agent-specific launch details
printf '#!/bin/sh\nfor a; do printf "[%%s]" "$a"; done; echo\n' > "$W/codex"; chmod +x "$W/codex"
run "$S" -- ./codex exec "a b" -- x
check "codex is told that the outer sandbox is in charge (words after the command word, the rest verbatim)" \
	'[ "$OUT" = "[-c][sandbox_mode=\"danger-full-access\"][exec][a b][--][x]" ]'
mv "$W/codex" "$W/other"
run "$S" -- ./other exec "a b"
check "other commands get their argv verbatim" '[ "$OUT" = "[exec][a b]" ]'
rm -f "$W/other"
run "$S" why --write "$H/.codex/config.toml" -- codex
check "the agent's policy-bearing files are read-only by default" 'has "$OUT" "deny: file-write-data"'
run "$S" why --write "$H/.codex/config.toml" --allow-agent-config-writes -- codex
check "--allow-agent-config-writes makes them writable" 'has "$OUT" "allow: file-write-data" && has "$OUT" "agent config writes"'
