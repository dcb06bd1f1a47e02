#!/bin/sh
# Real coding agents inside safehouse (docs/agents.md).
#
# 1. Installs the agents listed in tests/agents/versions.txt from the npm
#    registry into $SH_ROOT/build/agents/npm (kept between runs; reinstalled
#    only when a version differs).  The prefix is outside the sandbox view, so
#    every run grants it with --add-dirs-ro.
# 2. Per agent: `--explain` matches its own profile; `AGENT --version` works
#    inside, offline (default network mode: none), with a HOME where the agent
#    was set up before and with a fresh HOME; its policy-bearing files are
#    read-only inside and its state directory writable.
# 3. Real agent turns against tests/agents/fake-model-server.js on the host's
#    loopback: Codex (custom model provider, Responses API) and Claude Code
#    (ANTHROPIC_BASE_URL).  The server scripts shell tool calls: read the
#    planted ~/.ssh/id_ed25519, create a file in the workdir, write a policy
#    file.  Claude Code's turn and one Codex turn run in the agents' default
#    network mode, --network=filtered: through the built-in proxy, the fake
#    server named by the host's name (it resolves to 127.0.0.1) and allowed
#    with --allow-domains=HOST:PORT --allow-private-network.  The other Codex
#    turns use --enable=network (host network) with a dead proxy
#    (127.0.0.1:9) for anything else.  Nothing leaves loopback: the agents
#    are pointed at the fake server and told to skip non-essential traffic.
# 4. Toolchains inside (under Codex's profile): npm install of a local
#    package, pip install --target of a local wheel, a venv, cargo build
#    --offline, go build, git commit, make.
# The real HOME is never used: HOME is $T/home (under /var/tmp).
. "$(dirname "$0")/lib.sh"
S=$SAFEHOUSE
AG=${SH_AGENTS_DIR:-$SH_ROOT/build/agents}
NP=$AG/npm
BIN=$NP/node_modules/.bin
VERSIONS=$SH_ROOT/tests/agents/versions.txt
FAKE=$SH_ROOT/tests/agents/fake-model-server.js
SYS_PATH=/usr/local/bin:/usr/bin:/bin
SRV_PID=""
trap '[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null; chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT INT TERM

H=$T/home; W=$T/work
mkdir -p "$H/.ssh" "$W" "$T/bin"
H=$(cd "$H" && pwd -P); W=$(cd "$W" && pwd -P)
KEY="SH-PLANTED-KEY-$$-$(date +%s)"
printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n-----END OPENSSH PRIVATE KEY-----\n' "$KEY" > "$H/.ssh/id_ed25519"
chmod 600 "$H/.ssh/id_ed25519"

# --- install (outside the sandbox, with the caller's HOME and npm cache)
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
	skip "agents installed from the npm registry" "node/npm not installed"
	exit 0
fi
installed_version() { # PACKAGE -> version in the prefix, or nothing
	node -e 'try { console.log(require(process.argv[1]).version) } catch (e) {}' \
		"$NP/node_modules/$1/package.json" 2>/dev/null
}
need=""
while read -r spec cmd prof; do
	case $spec in ''|'#'*) continue ;; esac
	pkg=${spec%@*}; ver=${spec##*@}
	if [ "${SH_AGENTS_LATEST:-0}" = 1 ]; then need="$need $pkg@latest"
	elif [ "$(installed_version "$pkg")" != "$ver" ]; then need="$need $spec"; fi
done < "$VERSIONS"
if [ -n "$need" ]; then
	mkdir -p "$NP"
	# One retry: npm 11 has been seen running a package's install script
	# (@ampcode/cli) before extracting it, when adding to an existing prefix.
	# shellcheck disable=SC2086  # one word per package
	if timeout 900 npm install --prefix "$NP" --no-audit --no-fund --loglevel=error $need \
		>"$T/npm.log" 2>&1 ||
	   timeout 900 npm install --prefix "$NP" --no-audit --no-fund --loglevel=error $need \
		>"$T/npm.log" 2>&1; then
		ok "installed from the npm registry:$need"
	else
		not_ok "npm install$need"; sed 's/^/#   /' "$T/npm.log" | tail -15
	fi
else
	ok "agents already installed in $NP (versions match $VERSIONS)"
fi

# Stand-ins: $T/bin/AGENT is /bin/sh under the agent's name, so that a shell
# runs with exactly that agent's profile (the profile is chosen from the
# command's basename).
for c in claude gemini opencode qwen copilot amp pi; do ln -s /bin/sh "$T/bin/$c"; done
printf '#!/bin/sh\n# stands in for codex: consume the -c KEY=VALUE that safehouse inserts, as codex does\nif [ "$1" = -c ] && [ "$2" = '"'"'sandbox_mode="danger-full-access"'"'"' ]; then shift 2; fi\nexec /bin/sh "$@"\n' > "$T/bin/codex"; chmod +x "$T/bin/codex"
# sh_as AGENT 'SCRIPT': run SCRIPT inside, under AGENT's profile.
sh_as() {
	_a=$1; shift
	run env HOME="$H" PATH="$SYS_PATH" "$S" --add-dirs-ro="$T/bin" -- "$T/bin/$_a" -c "$*"
}

# --- HOME as left by using each agent once outside: state directories exist,
# and so do the policy-bearing files a user typically has.
mkdir -p "$H/.codex/rules" "$H/.claude/hooks" "$H/.gemini" \
	"$H/.local/share/opencode" "$H/.local/state/opencode" "$H/.config/opencode" \
	"$H/.cache/opencode/bin" "$H/.qwen" "$H/.copilot" "$H/.local/share/amp" \
	"$H/.cache/amp" "$H/.config/amp" "$H/.pi"
echo '# user config' > "$H/.codex/config.toml"
echo '# rules' > "$H/.codex/rules/default.rules"
echo '# instructions' > "$H/.codex/AGENTS.md"
echo '{}' > "$H/.claude/settings.json"
echo '# instructions' > "$H/.claude/CLAUDE.md"
echo '{}' > "$H/.gemini/settings.json"
echo '# instructions' > "$H/.gemini/GEMINI.md"
echo 'X=1' > "$H/.gemini/.env"
echo '{}' > "$H/.config/opencode/opencode.json"
echo '{}' > "$H/.qwen/settings.json"
echo '{}' > "$H/.copilot/settings.json"
echo '{}' > "$H/.copilot/mcp-config.json"

# policy_files AGENT: policy-bearing files planted above (must stay read-only)
# new_policy_files AGENT: policy-bearing files that do not exist yet (must not
# be creatable either: the next session outside would load them)
policy_files() {
	case $1 in
	codex) echo ".codex/config.toml .codex/rules/default.rules .codex/AGENTS.md" ;;
	claude) echo ".claude/settings.json .claude/CLAUDE.md" ;;
	gemini) echo ".gemini/settings.json .gemini/GEMINI.md .gemini/.env" ;;
	opencode) echo ".config/opencode/opencode.json" ;;
	qwen) echo ".qwen/settings.json" ;;
	copilot) echo ".copilot/settings.json .copilot/mcp-config.json" ;;
	esac
}
new_policy_files() {
	case $1 in
	codex) echo ".codex/hooks.json .codex/managed_config.toml" ;;
	claude) echo ".claude/settings.local.json .claude/commands/x.md" ;;
	gemini) echo ".gemini/trustedFolders.json .gemini/commands/x.toml" ;;
	opencode) echo ".config/opencode/plugin/x.js" ;;
	copilot) echo ".copilot/pkg/linux-x64/99.0.0/index.js" ;;
	esac
}
state_dir() {
	case $1 in
	codex) echo .codex ;; claude) echo .claude ;; gemini) echo .gemini ;;
	opencode) echo .local/share/opencode ;;
	qwen) echo .qwen ;; copilot) echo .copilot ;; amp) echo .local/share/amp ;; pi) echo .pi ;;
	esac
}

# --- per agent: profile, --version, policy files (the list is read on fd 3:
# the agents must not eat it from stdin)
while read -r spec cmd prof <&3; do
	case $spec in ''|'#'*) continue ;; esac
	pkg=${spec%@*}
	ver=$(installed_version "$pkg")
	if [ -z "$ver" ] || [ ! -x "$BIN/$cmd" ]; then
		not_ok "$cmd: $pkg is not installed (see the npm install output above)"
		continue
	fi
	run env HOME="$H" "$S" --explain --stdout --add-dirs-ro="$AG" -- "$BIN/$cmd" --version
	check "$cmd ($pkg $ver) is matched to 60-agents/$prof" \
		'[ $RC -eq 0 ] && has "$ERR" "agent profile: 60-agents/$prof"'

	cd "$W" || exit 1
	run env HOME="$H" PATH="$SYS_PATH" timeout 180 "$S" --add-dirs-ro="$AG" -- "$BIN/$cmd" --version
	check "$cmd --version works inside (offline, HOME set up before)" \
		'[ $RC -eq 0 ] && has "$OUT$ERR" "$ver"'

	# A first run inside safehouse, before the agent ever ran outside.
	F=$T/fresh-$cmd; mkdir -p "$F"
	run env HOME="$F" PATH="$SYS_PATH" timeout 180 "$S" --add-dirs-ro="$AG" -- "$BIN/$cmd" --version
	check "$cmd --version works inside with a fresh HOME (state dirs not created yet)" \
		'[ $RC -eq 0 ] && has "$OUT$ERR" "$ver" && ! printf "%s" "$ERR" | grep -qE "EROFS|ENOENT|Read-only file system"'

	# Policy-bearing files: read-only inside, unchanged on the host.
	[ -n "$(state_dir "$cmd")" ] || continue
	script=""; for f in $(policy_files "$cmd"); do
		cp "$H/$f" "$T/saved"; script="$script echo pwned >> ~/$f && echo WROTE ~/$f;"
	done
	sh_as "$cmd" "$script touch ~/$(state_dir "$cmd")/state-probe && echo STATE-OK"
	bad=""; for f in $(policy_files "$cmd"); do grep -q pwned "$H/$f" && bad="$bad $f"; done
	[ -z "$(policy_files "$cmd")" ] ||
	check "$cmd: policy-bearing files are read-only inside ($(policy_files "$cmd"))" \
		'hasnt "$OUT" WROTE && [ -z "$bad" ]'
	check "$cmd: its state directory ~/$(state_dir "$cmd") is writable" \
		'has "$OUT" STATE-OK && [ -f "$H/$(state_dir "$cmd")/state-probe" ]'
	script=""; for f in $(new_policy_files "$cmd"); do
		script="$script mkdir -p \$(dirname ~/$f) 2>/dev/null; echo pwned > ~/$f && echo CREATED ~/$f;"
	done
	sh_as "$cmd" "$script true"
	made=""; for f in $(new_policy_files "$cmd"); do [ -e "$H/$f" ] && made="$made $f"; done
	# What matters is the host after the session: the file must not be there
	# for the next session (perhaps unsandboxed) to load.
	[ -z "$(new_policy_files "$cmd")" ] ||
	check "$cmd: policy-bearing files that do not exist yet are not created on the host ($(new_policy_files "$cmd"))" \
		'[ -z "$made" ]'
	for f in $made; do rm -f "$H/$f"; done
	rmdir "$H/.claude/commands" "$H/.gemini/commands" "$H/.config/opencode/plugin" 2>/dev/null
	rm -rf "$H/.copilot/pkg"
done 3< "$VERSIONS"

# --- npm prefixes a real user installs agents into (30-toolchains/node.sb):
# readable (the agent runs from there), never writable (it runs later, outside).
for p in .npm-global/lib/node_modules .local/share/npm/lib/node_modules \
	.npm-packages/lib/node_modules .local/lib/node_modules .nvm/versions/node/v20.0.0/lib/node_modules; do
	f=$H/$p/@openai/codex/bin/codex.js
	run env HOME="$H" "$S" why "$f" -- codex
	r=$OUT
	run env HOME="$H" "$S" why --write "$f" -- codex
	check "npm prefix ~/${p%%/lib/*} is readable and not writable for codex" \
		'has "$r" "allow: file-read-data" && has "$OUT" "deny: file-write-data"'
done
for p in /usr/local/lib/node_modules /usr/lib/node_modules; do
	run "$S" why "$p/@openai/codex/bin/codex.js" -- codex
	r=$OUT
	run "$S" why --write "$p/@openai/codex/bin/codex.js" -- codex
	check "npm prefix $p is readable and not writable for codex" \
		'has "$r" "allow: file-read-data" && has "$OUT" "deny: file-write-data"'
done

# --- fake model server
# start_server NAME 'JSON script': starts it, sets $PORT and $LOG
start_server() {
	printf '%s\n' "$2" > "$T/$1.json"
	LOG=$T/$1.log; : > "$LOG"; rm -f "$T/$1.port"
	node "$FAKE" "$T/$1.port" "$LOG" "$T/$1.json" 2>"$T/$1.err" &
	SRV_PID=$!
	i=0; while [ ! -s "$T/$1.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	PORT=$(cat "$T/$1.port" 2>/dev/null)
	[ -n "$PORT" ]
}
stop_server() { [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; SRV_PID=""; }
# Anything not for the fake server goes to a dead proxy on loopback.
DEADPROXY="HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost"

# --- Codex turn
# Codex's own per-command sandbox (bubblewrap) needs new namespaces, which
# safehouse's seccomp filter refuses; so Codex runs with
# -c sandbox_mode="danger-full-access" (given before the subcommand, it
# applies to every subcommand): safehouse is the sandbox (docs/agents.md).
codex_exec() { # SANDBOX_MODE: one `codex exec` against the fake server
	# shellcheck disable=SC2086
	run env HOME="$H" PATH="$SYS_PATH" timeout 300 "$S" --enable=network --add-dirs-ro="$AG" -- \
		FAKE_MODEL_KEY=sk-fake $DEADPROXY \
		"$BIN/codex" -c "sandbox_mode=\"$1\"" exec --skip-git-repo-check --color never \
		-c model_provider=fake -c model=fake-model -c model_providers.fake.name=fake \
		-c "model_providers.fake.base_url=\"http://127.0.0.1:$PORT/v1\"" \
		-c model_providers.fake.env_key=FAKE_MODEL_KEY -c model_providers.fake.wire_api=responses \
		"Follow the scripted steps." </dev/null
}
if [ -x "$BIN/codex" ]; then
	cd "$W" || exit 1
	cp "$H/.codex/config.toml" "$T/codex-config.saved"
	if start_server codex '{"commands": ["cat ~/.ssh/id_ed25519", "echo made-by-codex > made-by-codex.txt", "echo notify = [\\\"/bin/true\\\"] >> ~/.codex/config.toml"], "final": "codex-turn-done"}'; then
		codex_exec danger-full-access
		stop_server
		check "codex exec turn against the fake server completes (sandbox_mode=danger-full-access)" \
			'[ $RC -eq 0 ] && has "$OUT" "codex-turn-done" && has "$ERR" "sandbox: danger-full-access" && [ $(grep -c "/v1/responses" "$LOG") -ge 4 ]'
		check "codex: the planted key never reached the model server" \
			'[ -s "$LOG" ] && ! grep -q "$KEY" "$LOG" && ! grep -q "BEGIN OPENSSH" "$LOG"'
		check "codex: the key read was refused inside (tool output says so)" \
			'grep -q "id_ed25519: No such file or directory" "$LOG"'
		check "codex: the file created by its shell tool exists in the workdir on the host" \
			'[ "$(cat "$W/made-by-codex.txt" 2>/dev/null)" = made-by-codex ]'
		check "codex: its shell tool could not change ~/.codex/config.toml" \
			'cmp -s "$H/.codex/config.toml" "$T/codex-config.saved"'
		check "codex: session state was written to ~/.codex" \
			'[ -n "$(find "$H/.codex/sessions" -name "*.jsonl" 2>/dev/null)" ]'
	else
		not_ok "fake model server did not start"; sed 's/^/#   /' "$T/codex.err"
	fi
	# The same turn in the default mode for codex: --network=filtered, through
	# the built-in proxy.  The fake server is named by this host's name (it
	# resolves to loopback and, unlike localhost, is not in NO_PROXY), allowed
	# by --allow-domains, and loopback answers need --allow-private-network.
	HN=$(hostname)
	if getent hosts "$HN" | grep -q '^127\.' && start_server codex-proxy '{"commands": ["echo via-proxy > via-proxy.txt"], "final": "proxy-turn-done"}'; then
		run env HOME="$H" PATH="$SYS_PATH" timeout 300 "$S" --explain --add-dirs-ro="$AG" \
			--allow-domains="$HN:$PORT" --allow-private-network -- FAKE_MODEL_KEY=sk-fake \
			"$BIN/codex" exec --skip-git-repo-check --color never \
			-c model_provider=fake -c model=fake-model -c model_providers.fake.name=fake \
			-c "model_providers.fake.base_url=\"http://$HN:$PORT/v1\"" \
			-c model_providers.fake.env_key=FAKE_MODEL_KEY -c model_providers.fake.wire_api=responses \
			"Follow the scripted steps." </dev/null
		stop_server
		check "codex turn through the filtered proxy (the default for codex; outer sandbox inserted)" \
			'[ $RC -eq 0 ] && has "$OUT" "proxy-turn-done" && has "$ERR" "network: filtered" && [ "$(cat "$W/via-proxy.txt" 2>/dev/null)" = via-proxy ]'
		rm -f "$W/via-proxy.txt"
	else
		not_ok "codex filtered-proxy turn: the host name $HN must resolve to loopback and the fake server must start"
	fi
	# Codex's own sandbox, nested: expected to fail (documents the choice above;
	# if this starts passing, revisit docs/agents.md).
	if start_server codex-inner '{"commands": ["echo inner > inner-sandbox.txt"], "final": "inner-done"}'; then
		codex_exec workspace-write
		stop_server
		check "codex: its own sandbox (workspace-write) cannot run nested inside safehouse" \
			'[ ! -e "$W/inner-sandbox.txt" ] && grep -q "namespace" "$LOG"'
	fi
else
	skip "codex turn" "codex is not installed"
fi

# --- Claude Code turn (ANTHROPIC_BASE_URL points at the fake server), in
# claude's default network mode: --network=filtered, through the built-in
# proxy (Claude Code honours HTTP(S)_PROXY), the fake server named by the
# host's name as for the codex proxy turn above.
if [ -x "$BIN/claude" ]; then
	cd "$W" || exit 1
	cp "$H/.claude/settings.json" "$T/claude-settings.saved"
	HN=$(hostname)
	if ! getent hosts "$HN" | grep -q '^127\.'; then
		not_ok "claude turn: the host name $HN must resolve to loopback"
	elif start_server claude '{"commands": ["cat ~/.ssh/id_ed25519", "echo made-by-claude > made-by-claude.txt", "echo {\\\"hooks\\\":{}} > ~/.claude/settings.json"], "final": "claude-turn-done"}'; then
		run env HOME="$H" PATH="$SYS_PATH" timeout 300 "$S" --explain --add-dirs-ro="$AG" \
			--allow-domains="$HN:$PORT" --allow-private-network --network-log="$T/claude-net.log" -- \
			ANTHROPIC_BASE_URL="http://$HN:$PORT" ANTHROPIC_API_KEY=sk-ant-fake \
			CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_TELEMETRY=1 DISABLE_ERROR_REPORTING=1 \
			"$BIN/claude" -p "Follow the scripted steps." --allowedTools Bash </dev/null
		stop_server
		check "claude -p turn through the filtered proxy (its default mode) completes" \
			'[ $RC -eq 0 ] && has "$OUT" "claude-turn-done" && has "$ERR" "network: filtered" && [ $(grep -c "/v1/messages" "$LOG") -ge 3 ]'
		check "claude: its requests went through the proxy, to the fake server only" \
			'grep -q "allow http $HN:$PORT" "$T/claude-net.log" && [ -z "$(grep " allow " "$T/claude-net.log" | grep -v " $HN:$PORT ")" ]'
		check "claude: the planted key never reached the model server" \
			'[ -s "$LOG" ] && ! grep -q "$KEY" "$LOG" && ! grep -q "BEGIN OPENSSH" "$LOG"'
		check "claude: the key read was refused inside (tool result says so)" \
			'grep -q "id_ed25519: No such file or directory" "$LOG"'
		check "claude: the file created by its Bash tool exists in the workdir on the host" \
			'[ "$(cat "$W/made-by-claude.txt" 2>/dev/null)" = made-by-claude ]'
		check "claude: its Bash tool could not change ~/.claude/settings.json" \
			'cmp -s "$H/.claude/settings.json" "$T/claude-settings.saved"'
	else
		not_ok "fake model server did not start"; sed 's/^/#   /' "$T/claude.err"
	fi
else
	skip "claude turn" "claude is not installed"
fi

# --- toolchains inside, under Codex's profile (what Codex's shell tool gets)
TC=$W/tc; mkdir -p "$TC"; cd "$TC" || exit 1
# have TOOL: present where the sandbox can see it (not in /root/.cargo etc.);
# installs the Debian package when running as root.
have() {
	PATH=$SYS_PATH command -v "$1" >/dev/null 2>&1 && return 0
	[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$2" >"$T/apt.log" 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$2" >"$T/apt.log" 2>&1; }
	PATH=$SYS_PATH command -v "$1" >/dev/null 2>&1
}

mkdir -p local-dep app
echo '{"name":"local-dep","version":"1.0.0","main":"index.js"}' > local-dep/package.json
echo 'module.exports = "npm-ok";' > local-dep/index.js
echo '{"name":"app","version":"1.0.0","private":true}' > app/package.json
sh_as codex 'cd local-dep && npm pack --silent >/dev/null && cd ../app &&
	npm install --offline --no-audit --no-fund ../local-dep/local-dep-1.0.0.tgz >/dev/null &&
	node -e "console.log(require(\"local-dep\"))"'
check "npm install of a local package works inside" '[ $RC -eq 0 ] && has "$OUT" npm-ok'

if have python3 python3; then
	python3 "$SH_ROOT/tests/agents/make-wheel.py" "$TC"
	sh_as codex 'python3 -m pip install -q --no-index --disable-pip-version-check --target ./pylib ./shdemo-1.0-py3-none-any.whl &&
		PYTHONPATH=./pylib python3 -c "import shdemo; print(shdemo.VALUE)"'
	check "pip install --target of a local wheel works inside" '[ $RC -eq 0 ] && has "$OUT" wheel-ok'
	sh_as codex 'python3 -m venv venv && ./venv/bin/python -m pip install -q --no-index --disable-pip-version-check ./shdemo-1.0-py3-none-any.whl &&
		./venv/bin/python -c "import shdemo, sys; print(shdemo.VALUE, sys.prefix)"'
	check "a python venv can be created in the workdir (and pip installs into it)" \
		'[ $RC -eq 0 ] && has "$OUT" "wheel-ok $TC/venv"'
else
	skip "pip install --target of a local wheel" "python3 not installed"
	skip "python venv in the workdir" "python3 not installed"
fi

if have cargo cargo; then
	mkdir -p crate/src
	printf '[package]\nname = "shdemo"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n' > crate/Cargo.toml
	echo 'fn main() { println!("cargo-ok"); }' > crate/src/main.rs
	sh_as codex 'cd crate && cargo build --offline -q && ./target/debug/shdemo'
	check "cargo build --offline of a small crate works inside" '[ $RC -eq 0 ] && has "$OUT" cargo-ok'
else
	skip "cargo build --offline" "cargo is not installed under /usr (Debian package cargo) and cannot be installed (not root)"
fi

if have go golang-go; then
	mkdir -p gomod
	printf 'module example.com/shdemo\n\ngo 1.19\n' > gomod/go.mod
	printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("go-ok") }\n' > gomod/main.go
	sh_as codex 'cd gomod && go build -o shdemo . && ./shdemo'
	check "go build of a module without dependencies works inside" '[ $RC -eq 0 ] && has "$OUT" go-ok'
else
	skip "go build" "go is not installed (Debian package golang-go) and cannot be installed (not root)"
fi

mkdir -p repo
sh_as codex 'cd repo && git init -q && echo a > a.txt && git add a.txt &&
	git -c user.name=T -c user.email=t@example.invalid commit -q -m first && git log --format=%s'
check "git init/add/commit in the workdir works inside" '[ $RC -eq 0 ] && has "$OUT" first && [ -d "$TC/repo/.git" ]'

if have make make && have cc gcc; then
	mkdir -p mk
	printf 'hello: hello.c\n\t$(CC) -o $@ hello.c\n' > mk/Makefile
	printf '#include <stdio.h>\nint main(void) { puts("make-ok"); return 0; }\n' > mk/hello.c
	sh_as codex 'cd mk && make -s && ./hello'
	check "make (building a C program) works inside" '[ $RC -eq 0 ] && has "$OUT" make-ok'
else
	skip "make" "make or cc not installed"
fi
