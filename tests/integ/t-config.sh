#!/bin/sh
# Layered configuration (system < user < trusted workdir < environment < CLI),
# --sandbox policies, --network, and the administrator's requirements.
# Uses the test build whose system config directory is $E (never /etc).
# As root the requirements file is root-owned and enforced; as an ordinary
# user it cannot be, so the same file must be ignored with a warning.
. "$(dirname "$0")/lib.sh"
S=${SAFEHOUSE_TESTETC:?run through tests/run.sh}
E=/var/tmp/safehouse-test-etc
H=$T/home; W=$T/work
mkdir -p "$H/.ssh" "$H/.config/safehouse" "$H/sysgrant" "$H/usergrant" "$H/envgrant" "$H/cligrant" \
	"$H/wdgrant" "$H/projects" "$W/secretdir"
echo key > "$H/.ssh/id_ed25519"
export HOME=$H; unset XDG_CONFIG_HOME SAFEHOUSE_WORKDIR SAFEHOUSE_ADD_DIRS SAFEHOUSE_ADD_DIRS_RO \
	SAFEHOUSE_TRUST_WORKDIR_CONFIG SAFEHOUSE_ENV_PASS SAFEHOUSE_PROFILES_DIR
cd "$W" || exit 1
W=$(pwd -P); H=$(cd "$H" && pwd -P)
if [ -e "$E" ]; then echo "not ok - $E exists already (a previous run did not clean up)"; exit 1; fi
mkdir -m 755 "$E" || exit 1
trap 'rm -rf "$E"; chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
UC=$H/.config/safehouse/config

# --- layers and precedence
printf 'add-dirs-ro=%s\nenable=docker\nsandbox=read-only\n' "$H/sysgrant" > "$E/config"
run "$S" why --write "$W/x" --explain -- true
check "system config applies (sandbox=read-only from it)" 'has "$OUT" "deny: file-write-data" && has "$ERR" "sandbox policy: read-only (from $E/config:3)"'
check "--explain names each setting with file:line" 'has "$ERR" "setting: enable=docker (from $E/config:2)"'
printf 'add-dirs-ro=%s\nenable=ssh\nsandbox=workspace-write\n' "$H/usergrant" > "$UC"
run "$S" --explain --stdout -- true
check "user config: list keys accumulate (docker from system, ssh from user)" 'has "$OUT" "docker.sb ----" && has "$OUT" "ssh.sb ----"'
check "user config: single-valued key wins over the system layer" 'has "$ERR" "sandbox policy: workspace-write (from $UC:3)"'
printf 'add-dirs-ro=%s\nsandbox=read-only\n' "$H/wdgrant" > "$W/.safehouse"
run "$S" --explain --trust-workdir-config --stdout -- true
check "trusted workdir config wins over the user layer" 'has "$ERR" "sandbox policy: read-only (from $W/.safehouse:2)"'
run env SAFEHOUSE_ADD_DIRS_RO="$H/envgrant" "$S" why "$H/cligrant/f" --add-dirs-ro="$H/cligrant" --trust-workdir-config --sandbox=workspace-write --explain -- true
check "every layer's grants accumulate (system, user, workdir, env, CLI)" 'has "$ERR" "$H/sysgrant/" && has "$ERR" "$H/usergrant/" && has "$ERR" "$H/wdgrant/" && has "$ERR" "$H/envgrant/" && has "$OUT" "allow: file-read-data"'
check "the CLI wins over every layer" 'has "$ERR" "sandbox policy: workspace-write (from --sandbox)"'
rm -f "$W/.safehouse"
# A trusted relative grant must not follow a link the sandbox planted in its
# place (cache -> ~/.ssh), nor one further along the path.
mkdir "$W/cache" && printf 'add-dirs=cache\n' > "$W/.safehouse"
run "$S" --explain --trust-workdir-config --stdout -- true
check "a trusted add-dirs=cache grants the workdir's cache" '[ $RC -eq 0 ] && has "$ERR" "grant: read/write $W/cache/"'
rmdir "$W/cache" && ln -s "$H/.ssh" "$W/cache"
run "$S" --trust-workdir-config -- cat "$H/.ssh/id_ed25519"
check "... replaced by a symlink to ~/.ssh: refused, naming the link" '[ $RC -eq 1 ] && has "$ERR" "$W/.safehouse:1" && has "$ERR" "'"'"'$W/cache'"'"' is a symlink in the workdir" && hasnt "$OUT" key'
mkdir "$W/d" && printf 'add-dirs-ro=d/../cache\n' > "$W/.safehouse"
run "$S" --trust-workdir-config -- true
check "... also reached through .." '[ $RC -eq 1 ] && has "$ERR" "is a symlink in the workdir"'
mkdir -p "$W/shared-policy" && echo ';; x' > "$W/shared-policy/extra.sb" && ln -s shared-policy "$W/policy" &&
	printf 'append-profile=policy/extra.sb\n' > "$W/.safehouse"
run "$S" --trust-workdir-config -- true
check "... and an append-profile= through one" '[ $RC -eq 1 ] && has "$ERR" "is a symlink in the workdir"'
mkdir -p "$T/other" && echo 'PROD_SECRET=hunter2' > "$T/other/.env" && ln -s "$T/other/.env" "$W/.env"
run "$S" --env="$W/.env" -- sh -c 'echo "${PROD_SECRET:-unset}"'
check "--env=FILE through a symlink in the workdir is refused (a planted .env -> another project's)" '[ $RC -eq 1 ] && has "$ERR" "is a symlink in the workdir" && hasnt "$OUT" hunter2'
rm -rf "$W/cache" "$W/d" "$W/.safehouse" "$W/policy" "$W/shared-policy" "$W/.env" "$T/other"
# A project symlink leading to a hidden directory of the home (planted by an
# earlier session): not taken as the workdir, from the current directory or
# given; the real path, given, is.
ln -s "$H/.ssh" "$W/proj"
run sh -c 'cd "$1" && PWD="$1" "$2" -- cat "$3"' sh "$W/proj" "$S" "$H/.ssh/id_ed25519"
check "cd into a symlink to ~/.ssh: refused as the workdir" '[ $RC -eq 1 ] && has "$ERR" "'"'"'$H/.ssh'"'"' is a hidden directory of your home, reached through a symlink" && hasnt "$OUT" key'
run "$S" --workdir="$W/proj" -- true
check "... and given as --workdir" '[ $RC -eq 1 ] && has "$ERR" "hidden directory of your home"'
run sh -c 'cd "$1" && env -u PWD "$2" --workdir=. -- true' sh "$W/proj" "$S"
check "... and when the way there cannot be told (no \$PWD, a relative --workdir)" '[ $RC -eq 1 ] && has "$ERR" "cannot be told"'
run "$S" --workdir="$H/.ssh" -- true
check "... the real path given explicitly is taken" '[ $RC -eq 0 ]'
rm -f "$W/proj"
printf 'network=filtered\n' > "$UC"
run "$S" --explain --stdout -- true
check "network=filtered in a config is honoured, with file:line" '[ $RC -eq 0 ] && has "$ERR" "network: filtered (explicit setting: $UC:1)"'
printf 'publish=1455\n' > "$UC"
run "$S" --explain --stdout -- true
check "publish= in a config is honoured, with file:line" '[ $RC -eq 0 ] && has "$ERR" "publish: host 127.0.0.1:1455 -> sandbox 127.0.0.1:1455 (from $UC:1)"'
printf 'colour=blue\n' > "$UC"
run "$S" --stdout -- true
check "an unknown key in the user config fails with file:line" '[ $RC -eq 1 ] && has "$ERR" "$UC:1"'
printf 'network=full\n' > "$UC"
run "$S" --explain --stdout -- true
check "network=full in a config gives full network" 'has "$ERR" "network: full host network"'
run "$S" --explain --network=none --stdout -- true
check "--network=none wins over the config" 'has "$ERR" "network: none"'
# in a real session: init, started expecting a private network, is replaced
HOSTIF=$(grep -c : /proc/net/dev)
run "$S" -- sh -c 'grep -c : /proc/net/dev'
check "network=full in a config: the session has the host's interfaces" '[ $RC -eq 0 ] && [ "$OUT" = "$HOSTIF" ]'
run "$S" --network=none -- sh -c 'grep -c : /proc/net/dev'
check "--network=none over a config's full: lo only" '[ $RC -eq 0 ] && [ "$OUT" = 1 ]'
rm -f "$UC" "$E/config"

# --- sandbox policies, in real sessions
cp "$PROBE" "$W/probe"
run "$S" --sandbox=read-only -- ./probe create "$W/new"
check "--sandbox=read-only denies writes in the workdir (EROFS)" '[ $RC -eq 1 ] && has "$OUT" "EROFS" && [ ! -e "$W/new" ]'
echo keep > "$W/existing"
run "$S" --sandbox=read-only -- sh -c 'echo x >> existing; mkdir d; rm -f existing; mv existing moved; ln -s a l; exit 0'
check "--sandbox=read-only: append, mkdir, unlink, rename and symlink all fail" '[ "$(cat "$W/existing")" = keep ] && [ ! -e "$W/d" ] && [ ! -e "$W/moved" ] && [ ! -L "$W/l" ] && has "$ERR" "Read-only file system"'
rm -f "$W/existing"
run "$S" --sandbox=read-only -- ./probe read "$W/probe"
check "--sandbox=read-only still reads the workdir" '[ $RC -eq 0 ]'
run "$S" --sandbox=danger-full-access -- ./probe read "$H/.ssh/id_ed25519"
check "danger-full-access reads ~/.ssh and warns" '[ $RC -eq 0 ] && has "$ERR" "warning: --sandbox=danger-full-access"'
run "$S" --sandbox=danger-full-access -- /usr/bin/env
check "danger-full-access still sanitizes the environment" 'hasnt "$OUT" "SAFEHOUSE_TESTETC"'
run "$S" --sandbox=yolo -- true
check "unknown --sandbox policy fails" '[ $RC -eq 1 ]'

# --- administrator requirements
printf '(deny file-read* (subpath "%s/secretdir"))\n' "$W" > "$E/org.sb"
cat > "$E/requirements" <<REQ
forbid-env=true
forbid-danger-full-access=true
allowed-network=none
forbidden-enable=docker,keychain
append-profile=$E/org.sb
deny-path=$H/projects
REQ
chmod 644 "$E/requirements" "$E/org.sb"
if [ "$(id -u)" = 0 ]; then
	run "$S" --env --stdout -- true
	check "forbid-env: --env fails naming the requirement file:line" '[ $RC -eq 1 ] && has "$ERR" "$E/requirements:1"'
	run "$S" --sandbox=danger-full-access --stdout -- true
	check "forbid-danger-full-access: the CLI cannot loosen it" '[ $RC -eq 1 ] && has "$ERR" "$E/requirements:2"'
	printf 'sandbox=danger-full-access\n' > "$UC"
	run "$S" --stdout -- true
	check "a user config that tries to loosen a requirement fails with its file:line" '[ $RC -eq 1 ] && has "$ERR" "$E/requirements:2" && has "$ERR" "$UC:1"'
	rm -f "$UC"
	run "$S" --network=full --stdout -- true
	check "allowed-network=none: full network fails naming the requirement" '[ $RC -eq 1 ] && has "$ERR" "$E/requirements:3"'
	run "$S" --enable=network --stdout -- true
	check "allowed-network also catches --enable=network" '[ $RC -eq 1 ] && has "$ERR" "$E/requirements:3"'
	run "$S" --enable=docker --stdout -- true
	check "forbidden-enable: --enable=docker fails naming the requirement" '[ $RC -eq 1 ] && has "$ERR" "$E/requirements:4"'
	run "$S" --stdout -- goose
	check "forbidden-enable also covers integrations implied by a profile (goose -> keychain)" '[ $RC -eq 1 ] && has "$ERR" "keychain" && has "$ERR" "$E/requirements:4"'
	printf '(allow file-read* (subpath "%s/secretdir"))\n' "$W" > "$T/loosen.sb"
	run "$S" why "$W/secretdir/x" --append-profile="$T/loosen.sb" -- true
	check "mandatory appended profile comes after the user's and wins" 'has "$OUT" "deny: file-read-data" && has "$OUT" "$E/org.sb:1"'
	run "$S" why "$H/projects/a" --add-dirs="$H/projects" -- true
	check "deny-path beats an explicit grant" 'has "$OUT" "deny: file-read-data" && has "$OUT" "<generated: requirements>"'
	run "$S" doctor
	check "doctor shows the requirements in force" 'has "$OUT" "forbid-env=true ($E/requirements:1)" && has "$OUT" "deny-path=$H/projects"'
	run "$S" --explain --stdout -- true
	check "--explain names the requirements file" 'has "$ERR" "requirements: $E/requirements (7 in force)"'
	cat > "$E/requirements" <<REQ
allowed-enable=ssh
allowed-sandbox=workspace-write,read-only
deny-domains=evil.example
REQ
	run "$S" --enable=docker --stdout -- true
	check "allowed-enable: a feature outside the list fails naming the requirement" '[ $RC -eq 1 ] && has "$ERR" "$E/requirements:1"'
	run "$S" --enable=ssh --stdout -- true
	check "allowed-enable: a listed feature is accepted" '[ $RC -eq 0 ]'
	printf 'sandbox=danger-full-access\n' > "$UC"
	run "$S" --stdout -- true
	check "allowed-sandbox: a user config choosing another policy fails with both file:lines" '[ $RC -eq 1 ] && has "$ERR" "$E/requirements:2" && has "$ERR" "$UC:1"'
	rm -f "$UC"
	run "$S" --sandbox=read-only --stdout -- true
	check "allowed-sandbox: a listed policy is accepted" '[ $RC -eq 0 ]'
	run "$S" --network=full --stdout -- true
	check "deny-domains cannot be loosened by full network" '[ $RC -eq 1 ] && has "$ERR" "$E/requirements:3"'
	chmod 664 "$E/requirements"
	run "$S" --env --stdout -- true
	check "a group-writable requirements file is ignored with a warning" '[ $RC -eq 0 ] && has "$ERR" "writable by group or others"'
else
	run "$S" --env --stdout -- true
	check "as a user, a requirements file the user owns is ignored with a warning" '[ $RC -eq 0 ] && has "$ERR" "requirements ignored:"'
fi

# --- safehouse's own configuration is never writable inside, whatever the
# grants: it decides the next session's policy.
rm -f "$E/requirements"
mkdir -p "$H/.config/safehouse"
printf 'network=none\n' > "$UC"
run "$S" --workdir="$H/.config" -- sh -c 'echo network=full >> "$HOME/.config/safehouse/config";
	echo /x >> "$HOME/.config/safehouse/trusted-workdirs"; echo ok > "$HOME/.config/other"; echo done'
check "a workdir covering ~/.config: the user config and trusted-workdirs cannot be written or created" \
	'[ "$(cat "$UC")" = network=none ] && [ ! -e "$H/.config/safehouse/trusted-workdirs" ] &&
	 [ "$(cat "$H/.config/other" 2>/dev/null)" = ok ] && has "$OUT" done'
rm -rf "$H/.config/safehouse"
run "$S" --workdir="$H/.config" -- sh -c 'mkdir -p "$HOME/.config/safehouse" &&
	echo sandbox=danger-full-access > "$HOME/.config/safehouse/config"'
check "... nor the directory made when it is absent (and nothing appears on the host)" \
	'[ $RC -ne 0 ] && [ ! -e "$H/.config/safehouse" ]'
printf 'network=none\n' > "$E/config"
run "$S" --add-dirs="$E" -- sh -c 'echo network=full >> "$1/config"' sh "$E"
check "a grant covering the system configuration directory: still read-only inside" \
	'[ $RC -ne 0 ] && [ "$(cat "$E/config")" = network=none ]'
rm -f "$E/config"

# A profiles directory given for the run is read-only inside too, unless
# --allow-profile-writes.
cp -R "$SH_ROOT/profiles" "$W/myprofiles"
run "$S" --profiles-dir="$W/myprofiles" -- sh -c 'echo ";; planted" >> "$1/00-base/base.sb"' sh "$W/myprofiles"
check "--profiles-dir inside the workdir: its profiles cannot be changed from inside" \
	'[ $RC -ne 0 ] && ! grep -q planted "$W/myprofiles/00-base/base.sb"'
run "$S" --profiles-dir="$W/myprofiles" --allow-profile-writes -- sh -c 'echo ";; edited" >> "$1/00-base/base.sb"' sh "$W/myprofiles"
check "... and can with --allow-profile-writes" '[ $RC -eq 0 ] && grep -q edited "$W/myprofiles/00-base/base.sb"'
rm -rf "$W/myprofiles"
