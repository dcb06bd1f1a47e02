#!/bin/sh
# The post-session audit (threats.md section 2): files planted in the workdir
# that would run later, outside the sandbox, are reported after the session;
# --audit=strict turns a finding into a failure; planted symlinks are not
# followed.
. "$(dirname "$0")/lib.sh"
S=$SAFEHOUSE
H=$T/home; W=$T/work
mkdir -p "$H" "$W"
export HOME=$H; unset XDG_CONFIG_HOME SAFEHOUSE_WORKDIR
cd "$W" || exit 1
git init -q . 2>/dev/null || mkdir -p .git/hooks

for spec in ".envrc:echo x > .envrc" ".vscode/tasks.json:mkdir -p .vscode && echo {} > .vscode/tasks.json" \
	".mcp.json:echo {} > .mcp.json" ".claude/settings.json:mkdir -p .claude && echo {} > .claude/settings.json" \
	".npmrc:echo x=1 > .npmrc" ".yarnrc.yml:echo yarnPath: x > .yarnrc.yml" \
	".cargo/config.toml:mkdir -p .cargo && echo > .cargo/config.toml" \
	"lib/site-packages/evil.pth:mkdir -p lib/site-packages && echo import os > lib/site-packages/evil.pth" \
	"sub/.git:mkdir -p sub && git -C sub init -q"; do
	name=${spec%%:*}; cmd=${spec#*:}
	run "$S" -- sh -c "$cmd"
	check "audit reports a planted $name" '[ $RC -eq 0 ] && has "$ERR" "safehouse: audit: new" && has "$ERR" "$name"'
	rm -rf "$W/$name" "$W/.vscode" "$W/.claude" "$W/.cargo" "$W/lib" "$W/sub"
done
run "$S" -- sh -c 'echo hello > notes.txt'
check "ordinary edits produce no audit output" '[ $RC -eq 0 ] && hasnt "$ERR" "audit"'
run "$S" --audit=strict -- sh -c 'echo x > .envrc'
check "--audit=strict exits 1 when something was planted" '[ $RC -eq 1 ] && has "$ERR" "--audit=strict"'
rm -f .envrc
run "$S" --audit=strict -- sh -c 'exit 7'
check "--audit=strict keeps the command's own status when nothing was found" '[ $RC -eq 7 ]'
run "$S" --audit=off -- sh -c 'echo x > .envrc'
check "--audit=off says nothing" '[ $RC -eq 0 ] && hasnt "$ERR" "audit"'
rm -f .envrc
run "$S" -- sh -c 'ln -s / .envrc && mkdir -p .idea && ln -s /etc .idea/loop'
check "planted symlinks are reported, never followed" '[ $RC -eq 0 ] && has "$ERR" ".envrc" && hasnt "$ERR" "passwd"'
rm -rf .envrc .idea
run "$S" --audit=sometimes -- true
check "an unknown --audit mode fails" '[ $RC -eq 1 ]'
