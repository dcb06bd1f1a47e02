#!/bin/sh
# Git stays usable inside, but what makes git run code later, outside the
# sandbox, cannot be planted (threats PERSIST-01/02, the .git rename trick).
# Each attack is checked afterwards by running git on the host side and
# asserting that nothing ran.
. "$(dirname "$0")/lib.sh"
S=$SAFEHOUSE
H=$T/home; W=$T/work; MARK=$T/marks
mkdir -p "$H" "$W" "$MARK"
export HOME=$H GIT_CONFIG_NOSYSTEM=1; unset XDG_CONFIG_HOME SAFEHOUSE_WORKDIR
git config --global user.email t@example.invalid && git config --global user.name tester || exit 1
cd "$W" || exit 1
W=$(pwd -P)
git init -q && echo a > a.txt && git add a.txt && git commit -q -m init || exit 1

inside() { run "$S" -- sh -c "$1"; }

inside 'echo b >> a.txt && git add a.txt && git commit -q -m second && git branch topic && echo b2 > b.txt && git add b.txt && git stash -q && git stash pop -q && git checkout -q -b work && git commit -q -am third && git rebase -q topic && echo GIT-OK'
check "git add/commit/branch/stash/checkout/rebase work inside" '[ $RC -eq 0 ] && has "$OUT" "GIT-OK"'
check "the commits are on the host" '[ "$(git log --oneline | wc -l)" -ge 3 ]'

inside "printf '#!/bin/sh\necho HOOK > $MARK/hook\n' > .git/hooks/post-checkout && chmod +x .git/hooks/post-checkout"
check "planting a hook fails (read-only .git/hooks)" '[ $RC -ne 0 ] && has "$ERR" "Read-only file system" && [ ! -e .git/hooks/post-checkout ]'
for kv in "core.fsmonitor=echo FSMON > $MARK/fsmon; false" "core.hooksPath=$W/evilhooks" \
	"core.sshCommand=touch $MARK/ssh" "alias.st=!touch $MARK/alias"; do
	k=${kv%%=*}; v=${kv#*=}
	inside "git config '$k' '$v'"
	check "writing $k into .git/config fails" '[ $RC -ne 0 ] && [ -z "$(git config --local --get "$k")" ]'
done
inside "printf '[core]\n\tfsmonitor = touch $MARK/direct\n' >> .git/config"
check "appending to .git/config directly fails" '[ $RC -ne 0 ] && ! grep -q direct .git/config'
inside 'printf "* filter=x\n" > .git/info/attributes'
check "writing .git/info/attributes fails" '[ $RC -ne 0 ] && [ ! -e .git/info/attributes ]'
inside 'mv .git .git.old'
check "renaming .git away fails (EBUSY)" '[ $RC -ne 0 ] && has "$ERR" "busy" && [ -d .git ] && [ ! -e .git.old ]'
inside "cp -r .git $T/copy 2>/dev/null; mv .git/hooks .git/hooks.old"
check "renaming .git/hooks away fails" '[ $RC -ne 0 ] && [ -d .git/hooks ] && [ ! -e .git/hooks.old ]'

# commondir redirection (verified vector: git reads config and hooks from
# the common dir): creating .git/commondir is refused, with nothing left on
# the host (no placeholder).
mkdir -p "$T/evil/hooks"
inside "echo '$T/evil' > .git/commondir"
check "creating .git/commondir fails" '[ $RC -ne 0 ] && [ ! -e .git/commondir ]'

# A nested repository present at launch gets the same protection.
mkdir -p vendor/lib && git -C vendor/lib init -q && echo v > vendor/lib/v.txt
inside "printf '#!/bin/sh\necho NESTED > $MARK/nested\n' > vendor/lib/.git/hooks/post-checkout; chmod +x vendor/lib/.git/hooks/post-checkout"
check "planting a hook in a nested repository fails" '[ $RC -ne 0 ] && [ ! -e vendor/lib/.git/hooks/post-checkout ]'
inside "echo '$T/evil' > vendor/lib/.git/commondir"
check "a nested repository's absent commondir cannot be created" '[ $RC -ne 0 ] && [ ! -e vendor/lib/.git/commondir ]'
inside "git -C vendor/lib config core.fsmonitor 'touch $MARK/nested-fsmon'"
check "a nested repository's config is read-only" '[ $RC -ne 0 ] && [ -z "$(git -C vendor/lib config --get core.fsmonitor)" ]'
inside "echo changed > vendor/lib/v.txt && git -C vendor/lib add v.txt && git -C vendor/lib commit -q -m v && echo NESTED-GIT-OK"
check "git still works in the nested repository" 'has "$OUT" "NESTED-GIT-OK"'
git -C vendor/lib status >/dev/null 2>&1

# Afterwards, on the host: git runs, and none of the planted payloads ran.
git status >/dev/null 2>&1; git checkout -q topic 2>/dev/null; git st 2>/dev/null
check "host git status/checkout ran none of the payloads" '[ -z "$(ls -A "$MARK")" ]'
check "host git still works on the repository" 'git rev-parse HEAD >/dev/null 2>&1'

# Files the repository's own config points git at (a shared config file
# included from the project, a hooks directory in it) are protected as
# .git/config and .git/hooks are, and an included file that does not exist
# yet cannot be created.
mkdir -p "$T/gi/scripts/hooks" && git -C "$T/gi" init -q &&
	git -C "$T/gi" config include.path ../team.gitconfig &&
	git -C "$T/gi" config core.hooksPath scripts/hooks &&
	printf '[include]\n\tpath = more.gitconfig\n' > "$T/gi/team.gitconfig"
cd "$T/gi" || exit 1
run "$S" -- sh -c "printf '[core]\n\tfsmonitor = touch $MARK/incl\n' >> team.gitconfig"
check "a config file the repository includes is read-only" '[ $RC -ne 0 ] && ! grep -q fsmonitor team.gitconfig'
run "$S" -- sh -c "printf '[core]\n\tfsmonitor = touch $MARK/incl2\n' > more.gitconfig"
check "... one it includes that does not exist yet cannot be created" '[ $RC -ne 0 ] && [ ! -e more.gitconfig ]'
run "$S" -- sh -c "printf '#!/bin/sh\ntouch $MARK/hp\n' > scripts/hooks/post-checkout"
check "the core.hooksPath directory is read-only" '[ $RC -ne 0 ] && [ ! -e scripts/hooks/post-checkout ]'
run "$S" -- sh -c 'echo ok > notes.txt && git add notes.txt && echo GI-OK'
check "... while git and the rest of the workdir work" '[ $RC -eq 0 ] && has "$OUT" GI-OK'
cd "$W" || exit 1

# ... also as git follows them: through a symlinked directory on the way
# (pinned), to an include whose directory does not exist yet, to a program
# a config value names by path, to a hook that is a link to a script, and
# into the git dir of a submodule at a nested path.
mkdir -p "$T/gf/tools/shared" "$T/gf/scripts" && git -C "$T/gf" init -q &&
	ln -s tools/shared "$T/gf/conf" && printf '[user]\n' > "$T/gf/tools/shared/x.gitconfig" &&
	git -C "$T/gf" config include.path ../conf/x.gitconfig &&
	git -C "$T/gf" config --add include.path ../.local/git/over.gitconfig &&
	git -C "$T/gf" config core.fsmonitor tools/fsmon.sh &&
	printf '#!/bin/sh\n' > "$T/gf/tools/fsmon.sh" && chmod +x "$T/gf/tools/fsmon.sh" &&
	printf '#!/bin/sh\n' > "$T/gf/scripts/post-commit" &&
	ln -s ../../scripts/post-commit "$T/gf/.git/hooks/post-commit" &&
	mkdir -p "$T/gf/.git/modules/libs/foo/hooks" && echo ref > "$T/gf/.git/modules/libs/foo/HEAD" &&
	printf '[core]\n' > "$T/gf/.git/modules/libs/foo/config"
cd "$T/gf" || exit 1
run "$S" -- sh -c 'rm conf && mkdir conf && echo "[core] pager = x" > conf/x.gitconfig'
check "a symlinked directory on the way to an include is pinned" '[ $RC -ne 0 ] && [ -L conf ]'
run "$S" -- sh -c 'mkdir -p .local/git && echo "[core] pager = x" > .local/git/over.gitconfig'
check "an include in a directory that does not exist yet cannot be created" '[ $RC -ne 0 ] && [ ! -e .local/git/over.gitconfig ]'
run "$S" -- sh -c 'echo "touch x" >> tools/fsmon.sh'
check "a program the config names by path is read-only" '[ $RC -ne 0 ] && ! grep -q touch tools/fsmon.sh'
run "$S" -- sh -c 'echo "touch x" >> scripts/post-commit'
check "the script a hook links to is read-only" '[ $RC -ne 0 ] && ! grep -q touch scripts/post-commit'
run "$S" -- sh -c 'echo "[core] fsmonitor = x" >> .git/modules/libs/foo/config; echo x > .git/modules/libs/foo/hooks/post-checkout'
check "the git dir of a submodule at a nested path is protected" '[ $RC -ne 0 ] && ! grep -q fsmonitor .git/modules/libs/foo/config && [ ! -e .git/modules/libs/foo/hooks/post-checkout ]'
run "$S" -- sh -c 'echo ok > tools/other.txt && cat tools/other.txt'
check "... while the rest of those directories stays writable" '[ $RC -eq 0 ] && [ "$OUT" = ok ]'
cd "$W" || exit 1

# A planted name with terminal escapes reaches the launcher's warnings
# escaped, never raw (an OSC 52 clipboard write, here).
mkdir -p "$T/ge" && git -C "$T/ge" init -q && rm -rf "$T/ge/.git/hooks" &&
	ln -s "$(printf 'x\033]52;c;aGk=\007y')" "$T/ge/.git/hooks"
cd "$T/ge" || exit 1
run "$S" -- true
check "a planted link target with escapes is printed escaped in the warnings" '[ $RC -eq 0 ] && has "$ERR" "x\x1b]52" && ! printf "%s" "$ERR" | grep -q "$(printf "\033")"'
cd "$W" || exit 1

# A protected name that is a symlink (a dotfile manager's, or planted by an
# earlier session): pinned, and what it leads to inside the workdir is
# read-only too.
mkdir -p "$T/lr" && git -C "$T/lr" init -q && rm -rf "$T/lr/.git/hooks" && mkdir "$T/lr/myhooks" &&
	ln -s ../myhooks "$T/lr/.git/hooks"
cd "$T/lr" || exit 1
run "$S" -- sh -c "printf '#!/bin/sh\necho LINK > $MARK/link-hook\n' > myhooks/post-checkout"
check "a symlinked .git/hooks: its target in the workdir is read-only" '[ $RC -ne 0 ] && [ ! -e myhooks/post-checkout ]'
run "$S" -- sh -c 'rm .git/hooks && mkdir .git/hooks'
check "a symlinked .git/hooks cannot be replaced by a directory" '[ $RC -ne 0 ] && [ -L .git/hooks ]'
run "$S" -- sh -c 'echo ok > other.txt && cat other.txt'
check "... while the rest of the workdir stays writable" '[ $RC -eq 0 ] && [ "$OUT" = ok ]'
cd "$W" || exit 1

# A linked worktree as the workdir: its common git dir is granted
# read-write (objects, refs, its index), but not the parts that run code or
# redirect git: the main checkout's hooks and config, and the worktrees'
# pointers.
git worktree add -q "$T/wt" 2>/dev/null || git worktree add "$T/wt"
cd "$T/wt" || exit 1
run "$S" -- sh -c "echo wt > wt.txt && git add wt.txt && git commit -q -m wt && git status --short && echo WT-GIT-OK"
check "a linked worktree: git add/commit/status work inside" '[ $RC -eq 0 ] && has "$OUT" "WT-GIT-OK"'
run "$S" -- sh -c "printf '#!/bin/sh\necho WT > $MARK/wt-hook\n' > '$W/.git/hooks/post-checkout'"
check "a linked worktree: the common dir's hooks are read-only" '[ $RC -ne 0 ] && [ ! -e "$W/.git/hooks/post-checkout" ]'
run "$S" -- sh -c "printf '[core]\n\tfsmonitor = touch $MARK/wt-fsmon\n' >> '$W/.git/config'"
check "a linked worktree: the common dir's config is read-only" '[ $RC -ne 0 ] && ! grep -q wt-fsmon "$W/.git/config"'
id=$(basename "$(git rev-parse --git-dir)")
run "$S" -- sh -c "echo '$T/evil' > '$W/.git/worktrees/$id/commondir'"
check "a linked worktree: its commondir pointer is read-only" '[ $RC -ne 0 ] && [ "$(cat "$W/.git/worktrees/$id/commondir")" != "$T/evil" ]'
git status >/dev/null 2>&1
check "a linked worktree: host git ran none of the payloads" '[ -z "$(ls -A "$MARK")" ]'
cd "$W" || exit 1

# Deleting content is allowed (the workdir is writable), but the protected
# pieces survive and .git cannot be replaced by a directory of the agent's.
cp .git/config "$T/config.before"
inside 'rm -rf .git 2>/dev/null; mkdir -p .git/hooks 2>/dev/null; ls -d .git'
check "rm -rf .git leaves the protected hooks and config in place" '[ -d .git/hooks ] && [ -f .git/hooks/pre-commit.sample ] && cmp -s .git/config "$T/config.before"'

