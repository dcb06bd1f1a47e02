/* Post-session persistence audit: fixture trees under t_mkdtemp(). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/audit_int.h"
#include "audit/gitconfig.h"
#include "audit/rules.h"
#include "harness.h"
#include "util/str.h"

/* ---- fixture helpers ---- */

static void mkdirs(const char *base, const char *rel)
{
	char *p = sh_xasprintf("%s/%s", base, rel);

	for (char *s = p + strlen(base) + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			CHECK(!"mkdir");
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		CHECK(!"mkdir");
	free(p);
}

/* Write base/rel, creating its parent directories. */
static void put(const char *base, const char *rel, const char *content)
{
	char *p = sh_xasprintf("%s/%s", base, rel), *slash = strrchr(rel, '/');

	if (slash) {
		char *dir = sh_xstrndup(rel, (size_t)(slash - rel));
		mkdirs(base, dir);
		free(dir);
	}
	t_write_file(p, content);
	free(p);
}

static void link_at(const char *base, const char *rel, const char *target)
{
	char *p = sh_xasprintf("%s/%s", base, rel);
	CHECK_INT(symlink(target, p), ==, 0);
	free(p);
}

static void rm_at(const char *base, const char *rel)
{
	char *p = sh_xasprintf("%s/%s", base, rel);
	t_rmtree(p);
	free(p);
}

/* A workdir resembling a real checkout: a repo with hook samples and an
 * ordinary config, some source, an existing .vscode and a venv. */
static char *fixture(void)
{
	char *d = t_mkdtemp();

	put(d, ".git/HEAD", "ref: refs/heads/main\n");
	put(d, ".git/config", "[core]\n\trepositoryformatversion = 0\n\tbare = false\n"
			      "[remote \"origin\"]\n\turl = https://example.com/x.git\n");
	put(d, ".git/hooks/pre-commit.sample", "#!/bin/sh\n");
	put(d, ".git/objects/ab/cdef", "blob");
	put(d, ".git/refs/heads/main", "0123\n");
	put(d, ".vscode/settings.json", "{\"editor.tabSize\": 4}\n");
	put(d, "src/main.c", "int main(void) { return 0; }\n");
	put(d, "src/lib/util.c", "\n");
	put(d, ".venv/lib/python3.11/site-packages/distutils-precedence.pth", "import os\n");
	put(d, ".venv/lib/python3.11/site-packages/pkg/__init__.py", "\n");
	put(d, "vendor/dep/.git/config", "[core]\n\tbare = false\n");
	put(d, "vendor/dep/.git/HEAD", "ref: refs/heads/main\n");
	put(d, "vendor/dep/README", "dep\n");
	put(d, ".envrc", "export A=1\n");
	return d;
}

/* Snapshot modes: ordinary (everything in a fresh fixture is "racy", so the
 * compare re-reads every directory) and trusting every timestamp (the fast
 * path that skips unchanged directories).  The latter waits past the
 * timestamp granularity before changing anything. */
enum snapmode { SNAP_NORMAL, SNAP_TRUST };

static void snap(const char *d, enum snapmode mode, struct sh_audit_manifest *m)
{
	struct sh_err e = { 0 };
	int rc = mode == SNAP_NORMAL ? sh_audit_snapshot(d, m, &e) : au_snapshot(d, INT64_MAX, m, &e);

	if (!CHECK_INT(rc, ==, 0))
		fprintf(stderr, "# %s\n", e.msg);
	if (mode == SNAP_TRUST) {
		struct timespec ts = { 0, 30 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

static void compare(const char *d, const struct sh_audit_manifest *m, struct sh_audit_report *r)
{
	struct sh_err e = { 0 };
	if (!CHECK_INT(sh_audit_compare(d, m, r, &e), ==, 0))
		fprintf(stderr, "# %s\n", e.msg);
}

static const struct sh_audit_finding *find(const struct sh_audit_report *r, const char *path)
{
	for (size_t i = 0; i < r->n_kept; i++)
		if (strcmp(r->findings[i].path, path) == 0)
			return &r->findings[i];
	return NULL;
}

static void dump(const struct sh_audit_report *r)
{
	for (size_t i = 0; i < r->n_kept; i++)
		fprintf(stderr, "#   %s %s '%s' %s\n", sh_audit_change_name(r->findings[i].change),
			sh_audit_kind_name(r->findings[i].kind), r->findings[i].path,
			r->findings[i].detail ? r->findings[i].detail : "");
}

/* Expect a finding at path with this change and kind. */
static bool expect(const struct sh_audit_report *r, const char *path, enum sh_audit_change ch,
		   unsigned kind)
{
	const struct sh_audit_finding *f = find(r, path);
	bool ok = CHECK(f != NULL) && CHECK_STR(sh_audit_change_name(f->change), sh_audit_change_name(ch)) &&
		  CHECK_STR(sh_audit_kind_name(f->kind), sh_audit_kind_name(kind));

	if (!ok) {
		fprintf(stderr, "# expected %s %s '%s'; report:\n", sh_audit_change_name(ch),
			sh_audit_kind_name(kind), path);
		dump(r);
	}
	return ok;
}

static void expect_none(const struct sh_audit_report *r)
{
	if (!CHECK_INT(r->count, ==, 0))
		dump(r);
}

/* ---- no change ---- */

TEST(audit_no_change_no_finding)
{
	for (int mode = SNAP_NORMAL; mode <= SNAP_TRUST; mode++) {
		char *d = fixture();
		struct sh_audit_manifest m = { 0 };
		struct sh_audit_report r = { 0 };

		snap(d, mode, &m);
		/* Ordinary work: source edits, new files, git object/ref churn. */
		put(d, "src/main.c", "int main(void) { return 1; }\n");
		put(d, "src/new/file.c", "\n");
		put(d, ".git/objects/12/3456", "blob");
		put(d, ".git/refs/heads/feature", "4567\n");
		put(d, ".git/index", "DIRC");
		compare(d, &m, &r);
		expect_none(&r);
		sh_audit_report_free(&r);
		sh_audit_manifest_free(&m);
		t_rmtree(d);
		free(d);
	}
}

/* ---- each planted kind ---- */

static const struct plant {
	const char *path;
	unsigned kind;
} planted[] = {
	{ ".vscode/tasks.json", SH_AK_VSCODE },
	{ ".mcp.json", SH_AK_AGENT },
	{ ".claude/settings.json", SH_AK_AGENT },
	{ ".codex/config.toml", SH_AK_AGENT },
	{ ".npmrc", SH_AK_NPM },
	{ ".yarnrc.yml", SH_AK_YARN },
	{ ".yarn/releases/yarn-evil.cjs", SH_AK_YARN },
	{ ".cargo/config.toml", SH_AK_CARGO },
	{ "sub/.cargo/config", SH_AK_CARGO },
	{ "x/site-packages/evil.pth", SH_AK_PYTHON },
	{ ".venv/lib/python3.11/site-packages/zz-evil.pth", SH_AK_PYTHON },
	{ ".venv/lib/python3.11/site-packages/sitecustomize.py", SH_AK_PYTHON },
	{ "v2/site-packages/sitecustomize/__init__.py", SH_AK_PYTHON },
	{ "v2/site-packages/usercustomize.cpython-311-x86_64-linux-gnu.so", SH_AK_PYTHON },
	{ "v2/site-packages/sitecustomize.pyc", SH_AK_PYTHON },
	{ "opencode.json", SH_AK_AGENT },
	{ ".opencode/plugins/p.js", SH_AK_AGENT },
	{ ".aider.conf.yml", SH_AK_AGENT },
	{ ".qwen/settings.json", SH_AK_AGENT },
	{ ".crush.json", SH_AK_AGENT },
	{ ".clinerules", SH_AK_INSTRUCTIONS },
	{ ".github/copilot-instructions.md", SH_AK_INSTRUCTIONS },
	{ "vendor/dep/.git/hooks/pre-commit", SH_AK_GIT_HOOK },
	{ ".git/hooks/post-checkout", SH_AK_GIT_HOOK },
	{ ".git/commondir", SH_AK_GIT_POINTER },
	{ ".git/worktrees/w/gitdir", SH_AK_GIT_POINTER },
	{ ".git/modules/m/hooks/post-merge", SH_AK_GIT_HOOK },
	/* worktree ids and submodule names that are also git dir names */
	{ ".git/worktrees/logs/config.worktree", SH_AK_GIT_CONFIG },
	{ ".git/worktrees/config/commondir", SH_AK_GIT_POINTER },
	{ ".git/worktrees/hooks/config.worktree", SH_AK_GIT_CONFIG },
	{ ".git/modules/third_party/config/hooks/pre-commit", SH_AK_GIT_HOOK },
	{ ".git/modules/third_party/refs/config", SH_AK_GIT_CONFIG },
	{ ".git/modules/a/modules/logs/hooks/post-merge", SH_AK_GIT_HOOK },
	{ ".git/info/attributes", SH_AK_GIT_ATTR },
	{ ".git/objects/info/alternates", SH_AK_GIT_ALT },
	{ ".gitattributes", SH_AK_GIT_ATTR },
	{ ".idea/workspace.xml", SH_AK_IDEA },
	{ ".devcontainer/devcontainer.json", SH_AK_DEVCONTAINER },
	{ ".cursor/mcp.json", SH_AK_CURSOR },
	{ "AGENTS.md", SH_AK_INSTRUCTIONS },
	{ "pkg/CLAUDE.md", SH_AK_INSTRUCTIONS },
	{ ".husky/pre-commit", SH_AK_HOOK_MANAGER },
	{ ".pre-commit-config.yaml", SH_AK_HOOK_MANAGER },
	{ ".mise.toml", SH_AK_MISE },
	{ ".tool-versions", SH_AK_MISE },
	{ ".pnpmfile.cjs", SH_AK_PNPM },
	{ "src/.envrc", SH_AK_DIRENV },
	{ "vendor/dep/.envrc", SH_AK_DIRENV },
	{ "node_modules/x/.git/hooks/pre-commit", SH_AK_GIT_HOOK },
	{ "node_modules/x/site-packages/y.pth", SH_AK_PYTHON },
};

TEST(audit_each_planted_kind_is_reported)
{
	for (int mode = SNAP_NORMAL; mode <= SNAP_TRUST; mode++) {
		char *d = fixture();
		struct sh_audit_manifest m = { 0 };
		struct sh_audit_report r = { 0 };
		size_t n = sizeof(planted) / sizeof(planted[0]);

		snap(d, mode, &m);
		for (size_t i = 0; i < n; i++)
			put(d, planted[i].path, "payload\n");
		compare(d, &m, &r);
		for (size_t i = 0; i < n; i++)
			expect(&r, planted[i].path, SH_AUDIT_NEW, planted[i].kind);
		expect(&r, "node_modules/x/.git", SH_AUDIT_NEW, SH_AK_NESTED_REPO);
		CHECK_INT(r.count, ==, n + 1);
		sh_audit_report_free(&r);
		sh_audit_manifest_free(&m);
		t_rmtree(d);
		free(d);
	}
}

/* A git dir under another name (git init --bare docs, or a moved .git):
 * git finds it from inside, so its config and hooks count. */
TEST(audit_git_dir_under_another_name)
{
	for (int mode = SNAP_NORMAL; mode <= SNAP_TRUST; mode++) {
		char *d = fixture();
		struct sh_audit_manifest m = { 0 };
		struct sh_audit_report r = { 0 };

		put(d, "old/HEAD", "ref: refs/heads/main\n");
		put(d, "old/objects/.keep", "");
		put(d, "old/refs/heads/.keep", "");
		snap(d, mode, &m);
		put(d, "docs/HEAD", "ref: refs/heads/main\n");
		put(d, "docs/objects/.keep", "");
		put(d, "docs/refs/heads/.keep", "");
		put(d, "docs/config", "[core]\n\tbare = false\n\tfsmonitor = touch /tmp/x\n");
		put(d, "docs/hooks/post-checkout", "#!/bin/sh\n");
		put(d, "wt/HEAD", "x\n");
		put(d, "wt/commondir", "../elsewhere\n");
		put(d, "old/config", "[core]\n\tpager = evil\n");
		put(d, "plain/HEAD", "not a git dir: no objects or refs\n");
		put(d, "plain/config", "[core]\n\tpager = evil\n");
		compare(d, &m, &r);
		expect(&r, "docs/config", SH_AUDIT_NEW, SH_AK_GIT_CONFIG);
		expect(&r, "docs/hooks/post-checkout", SH_AUDIT_NEW, SH_AK_GIT_HOOK);
		expect(&r, "wt/commondir", SH_AUDIT_NEW, SH_AK_GIT_POINTER);
		expect(&r, "old/config", SH_AUDIT_NEW, SH_AK_GIT_CONFIG);
		CHECK(find(&r, "plain/config") == NULL);
		CHECK_INT(r.count, ==, 4);
		sh_audit_report_free(&r);
		sh_audit_manifest_free(&m);
		t_rmtree(d);
		free(d);
	}
}

/* Noise that must stay silent: sample hooks, .git data dirs, a .pth
 * outside site-packages, a file named like a zone directory. */
TEST(audit_irrelevant_names_are_silent)
{
	char *d = fixture();
	struct sh_audit_manifest m = { 0 };
	struct sh_audit_report r = { 0 };

	snap(d, SNAP_NORMAL, &m);
	put(d, ".git/hooks/post-checkout.sample", "#!/bin/sh\n");
	put(d, ".git/logs/HEAD", "x\n");
	put(d, ".git/lfs/objects/aa", "x\n");
	put(d, "src/evil.pth", "import os\n");
	put(d, "docs/settings.json", "{}\n");
	put(d, ".cargo/registry/cache/x.crate", "x");
	put(d, ".yarn/cache/x.zip", "x");
	/* what `npm install` unpacks */
	put(d, "node_modules/pkg/.npmrc", "x\n");
	put(d, "node_modules/pkg/.gitattributes", "x\n");
	put(d, "node_modules/pkg/.vscode/settings.json", "{}\n");
	put(d, "node_modules/@s/pkg/AGENTS.md", "x\n");
	compare(d, &m, &r);
	expect_none(&r);
	sh_audit_report_free(&r);
	sh_audit_manifest_free(&m);
	t_rmtree(d);
	free(d);
}

/* ---- git config ---- */

TEST(audit_git_config_gaining_fsmonitor)
{
	for (int mode = SNAP_NORMAL; mode <= SNAP_TRUST; mode++) {
		char *d = fixture();
		struct sh_audit_manifest m = { 0 };
		struct sh_audit_report r = { 0 };
		const struct sh_audit_finding *f;

		snap(d, mode, &m);
		put(d, ".git/config", "[core]\n\trepositoryformatversion = 0\n\tbare = false\n"
				      "\tfsmonitor = \"echo PWNED >&2; false\"\n"
				      "[remote \"origin\"]\n\turl = https://example.com/x.git\n");
		compare(d, &m, &r);
		expect(&r, ".git/config", SH_AUDIT_CHANGED, SH_AK_GIT_CONFIG);
		f = find(&r, ".git/config");
		if (f && CHECK(f->detail != NULL))
			CHECK_CONTAINS(f->detail, "adds core.fsmonitor=echo PWNED >&2; false");
		CHECK_INT(r.count, ==, 1);
		sh_audit_report_free(&r);
		sh_audit_manifest_free(&m);
		t_rmtree(d);
		free(d);
	}
}

/* `git push -u`, `git config user.email`: config edits that run nothing. */
TEST(audit_git_config_benign_edit_is_not_a_finding)
{
	char *d = fixture();
	struct sh_audit_manifest m = { 0 };
	struct sh_audit_report r = { 0 };

	put(d, ".git/config", "[core]\n\tbare = false\n[credential]\n\thelper = store\n");
	snap(d, SNAP_NORMAL, &m);
	put(d, ".git/config", "[core]\n\tbare = false\n[credential]\n\thelper = store\n"
			      "[branch \"feature\"]\n\tremote = origin\n\tmerge = refs/heads/feature\n"
			      "[user]\n\temail = a@b.c\n");
	compare(d, &m, &r);
	expect_none(&r);
	CHECK_INT(r.benign, ==, 1);
	sh_audit_report_free(&r);
	sh_audit_manifest_free(&m);
	t_rmtree(d);
	free(d);
}

TEST(audit_new_nested_repo)
{
	char *d = fixture();
	struct sh_audit_manifest m = { 0 };
	struct sh_audit_report r = { 0 };

	snap(d, SNAP_NORMAL, &m);
	/* What `git init -q .sbx-nested` leaves, plus the probe's hook. */
	put(d, ".sbx-nested/.git/HEAD", "ref: refs/heads/main\n");
	put(d, ".sbx-nested/.git/config", "[core]\n\trepositoryformatversion = 0\n");
	put(d, ".sbx-nested/.git/hooks/pre-commit.sample", "#!/bin/sh\n");
	put(d, ".sbx-nested/.git/hooks/pre-commit", "");
	put(d, "deep/a/b/c/.git", "gitdir: /elsewhere/.git/modules/x\n");
	compare(d, &m, &r);
	expect(&r, ".sbx-nested/.git", SH_AUDIT_NEW, SH_AK_NESTED_REPO);
	expect(&r, ".sbx-nested/.git/hooks/pre-commit", SH_AUDIT_NEW, SH_AK_GIT_HOOK);
	expect(&r, "deep/a/b/c/.git", SH_AUDIT_NEW, SH_AK_GIT_POINTER);
	/* a new config file is listed even without a key known to run anything */
	expect(&r, ".sbx-nested/.git/config", SH_AUDIT_NEW, SH_AK_GIT_CONFIG);
	CHECK_INT(r.count, ==, 4);
	sh_audit_report_free(&r);
	sh_audit_manifest_free(&m);
	t_rmtree(d);
	free(d);
}

TEST(audit_new_gitmodules_lists_urls)
{
	char *d = fixture();
	struct sh_audit_manifest m = { 0 };
	struct sh_audit_report r = { 0 };
	const struct sh_audit_finding *f;

	snap(d, SNAP_NORMAL, &m);
	put(d, ".gitmodules", "[submodule \"x\"]\n\tpath = x\n\turl = https://evil.example/x\n"
			      "\tupdate = !sh -c id\n");
	compare(d, &m, &r);
	expect(&r, ".gitmodules", SH_AUDIT_NEW, SH_AK_GITMODULES);
	f = find(&r, ".gitmodules");
	if (f && CHECK(f->detail != NULL)) {
		CHECK_CONTAINS(f->detail, "submodule.x.url=https://evil.example/x");
		CHECK_CONTAINS(f->detail, "submodule.x.update=!sh -c id");
	}
	sh_audit_report_free(&r);
	sh_audit_manifest_free(&m);
	t_rmtree(d);
	free(d);
}

/* ---- symlinks ---- */

TEST(audit_symlink_planted_at_relevant_name)
{
	for (int mode = SNAP_NORMAL; mode <= SNAP_TRUST; mode++) {
		char *d = fixture();
		struct sh_audit_manifest m = { 0 };
		struct sh_audit_report r = { 0 };
		const struct sh_audit_finding *f;

		snap(d, mode, &m);
		link_at(d, ".git/hooks/pre-commit", "/tmp/evil-hook");
		link_at(d, ".npmrc", "/home/user/.npmrc");
		compare(d, &m, &r);
		expect(&r, ".git/hooks/pre-commit", SH_AUDIT_NEW, SH_AK_GIT_HOOK);
		f = find(&r, ".git/hooks/pre-commit");
		if (f && CHECK(f->detail != NULL))
			CHECK_STR(f->detail, "symlink -> /tmp/evil-hook");
		expect(&r, ".npmrc", SH_AUDIT_NEW, SH_AK_NPM);
		CHECK_INT(r.count, ==, 2);
		sh_audit_report_free(&r);
		sh_audit_manifest_free(&m);
		t_rmtree(d);
		free(d);
	}
}

/* Loops and a link to / are reported where relevant and never walked: the
 * compare stays fast and sees nothing of the host. */
TEST(audit_symlink_loop_and_root_not_followed)
{
	char *d = fixture();
	struct sh_audit_manifest m = { 0 };
	struct sh_audit_report r = { 0 };
	struct timespec t0, t1;

	snap(d, SNAP_NORMAL, &m);
	link_at(d, "loop", ".");
	link_at(d, "src/up", "..");
	link_at(d, "rootfs", "/");
	link_at(d, ".vscode/escape", "/");
	mkdirs(d, "x");
	link_at(d, "x/.claude", "/");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	compare(d, &m, &r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK_INT((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, <, 1000);
	expect(&r, ".vscode/escape", SH_AUDIT_NEW, SH_AK_VSCODE);
	expect(&r, "x/.claude", SH_AUDIT_NEW, SH_AK_AGENT);
	CHECK_INT(r.count, ==, 2);
	sh_audit_report_free(&r);
	sh_audit_manifest_free(&m);
	t_rmtree(d);
	free(d);
}

/* A symlinked .git dir at snapshot time is an entry, not a walk into the
 * target; replacing .git/hooks with a symlink is a finding. */
TEST(audit_hooks_dir_replaced_by_symlink)
{
	char *d = fixture();
	struct sh_audit_manifest m = { 0 };
	struct sh_audit_report r = { 0 };

	snap(d, SNAP_NORMAL, &m);
	rm_at(d, ".git/hooks");
	link_at(d, ".git/hooks", "/tmp");
	compare(d, &m, &r);
	expect(&r, ".git/hooks", SH_AUDIT_NEW, SH_AK_GIT_HOOK);
	CHECK_INT(r.count, ==, 1); /* the removed hooks dir held only a sample */
	sh_audit_report_free(&r);
	sh_audit_manifest_free(&m);
	t_rmtree(d);
	free(d);
}

TEST(audit_workdir_symlink_refused)
{
	char *d = t_mkdtemp(), *l = sh_xasprintf("%s/link", d), *t = sh_xasprintf("%s/t", d);
	struct sh_audit_manifest m = { 0 };
	struct sh_err e = { 0 };

	mkdirs(d, "t");
	CHECK_INT(symlink(t, l), ==, 0);
	CHECK_INT(sh_audit_snapshot(l, &m, &e), ==, -1);
	CHECK(e.errnum == ENOTDIR || e.errnum == ELOOP); /* O_DIRECTORY|O_NOFOLLOW */
	CHECK(!m.valid);
	sh_audit_manifest_free(&m);
	t_rmtree(d);
	free(d);
	free(l);
	free(t);
}

/* ---- changes and removals ---- */

TEST(audit_changed_vscode_settings)
{
	for (int mode = SNAP_NORMAL; mode <= SNAP_TRUST; mode++) {
		char *d = fixture();
		struct sh_audit_manifest m = { 0 };
		struct sh_audit_report r = { 0 };
		char *p = sh_xasprintf("%s/.vscode/settings.json", d);
		char *tmp = sh_xasprintf("%s/.vscode/settings.json.tmp", d);

		put(d, ".vscode/extensions.json", "{}\n");
		put(d, ".idea/misc.xml", "<x/>\n");
		snap(d, mode, &m);
		/* same size, new content */
		put(d, ".vscode/settings.json", "{\"editor.tabSize\": 8}\n");
		/* replaced by rename: new inode */
		t_write_file(tmp, "{}\n");
		CHECK_INT(rename(tmp, p), ==, 0);
		/* permission change only */
		{
			char *x = sh_xasprintf("%s/.vscode/extensions.json", d);
			CHECK_INT(chmod(x, 0700), ==, 0);
			free(x);
		}
		put(d, ".idea/misc.xml", "<x attr='longer'/>\n");
		compare(d, &m, &r);
		expect(&r, ".vscode/settings.json", SH_AUDIT_CHANGED, SH_AK_VSCODE);
		expect(&r, ".vscode/extensions.json", SH_AUDIT_CHANGED, SH_AK_VSCODE);
		expect(&r, ".idea/misc.xml", SH_AUDIT_CHANGED, SH_AK_IDEA);
		CHECK_INT(r.count, ==, 3);
		sh_audit_report_free(&r);
		sh_audit_manifest_free(&m);
		t_rmtree(d);
		free(d);
		free(p);
		free(tmp);
	}
}

TEST(audit_removal_reported)
{
	for (int mode = SNAP_NORMAL; mode <= SNAP_TRUST; mode++) {
		char *d = fixture();
		struct sh_audit_manifest m = { 0 };
		struct sh_audit_report r = { 0 };

		snap(d, mode, &m);
		rm_at(d, ".envrc");
		rm_at(d, "vendor");
		compare(d, &m, &r);
		expect(&r, ".envrc", SH_AUDIT_REMOVED, SH_AK_DIRENV);
		expect(&r, "vendor/dep/.git", SH_AUDIT_REMOVED, SH_AK_NESTED_REPO);
		expect(&r, "vendor/dep/.git/config", SH_AUDIT_REMOVED, SH_AK_GIT_CONFIG);
		CHECK_INT(r.count, ==, 3);
		sh_audit_report_free(&r);
		sh_audit_manifest_free(&m);
		t_rmtree(d);
		free(d);
	}
}

/* ---- hostile file types and limits ---- */

TEST(audit_fifo_does_not_hang)
{
	char *d = fixture(), *p = sh_xasprintf("%s/.git/config", d);
	struct sh_audit_manifest m = { 0 };
	struct sh_audit_report r = { 0 };
	const struct sh_audit_finding *f;

	snap(d, SNAP_NORMAL, &m);
	CHECK_INT(unlink(p), ==, 0);
	CHECK_INT(mkfifo(p, 0644), ==, 0);
	compare(d, &m, &r);
	expect(&r, ".git/config", SH_AUDIT_CHANGED, SH_AK_GIT_CONFIG);
	f = find(&r, ".git/config");
	if (f && CHECK(f->detail != NULL))
		CHECK_STR(f->detail, "not a regular file");
	sh_audit_report_free(&r);
	sh_audit_manifest_free(&m);
	t_rmtree(d);
	free(d);
	free(p);
}

TEST(audit_unreadable_dir_is_a_finding)
{
	char *d = fixture(), *p = sh_xasprintf("%s/hide", d);
	struct sh_audit_manifest m = { 0 };
	struct sh_audit_report r = { 0 };

	if (geteuid() == 0) {
		/* Root reads mode-000 directories: the hook inside must be found
		 * (the unprivileged pass of the suite checks the unreadable case). */
		snap(d, SNAP_NORMAL, &m);
		put(d, "hide/nested/.git/hooks/pre-commit", "#!/bin/sh\n");
		CHECK_INT(chmod(p, 0), ==, 0);
		compare(d, &m, &r);
		CHECK(r.count > 0);
		CHECK_INT(chmod(p, 0755), ==, 0);
		sh_audit_report_free(&r);
		sh_audit_manifest_free(&m);
		t_rmtree(d);
		free(d);
		free(p);
		return;
	}
	snap(d, SNAP_NORMAL, &m);
	put(d, "hide/nested/.git/hooks/pre-commit", "#!/bin/sh\n");
	CHECK_INT(chmod(p, 0), ==, 0);
	compare(d, &m, &r);
	expect(&r, "hide", SH_AUDIT_UNREADABLE, SH_AK_UNAUDITED);
	sh_audit_report_free(&r);
	sh_audit_manifest_free(&m);

	/* Unreadable at launch and untouched since: nothing to say. */
	snap(d, SNAP_TRUST, &m);
	compare(d, &m, &r);
	expect_none(&r);
	CHECK_INT(chmod(p, 0755), ==, 0);
	sh_audit_report_free(&r);
	sh_audit_manifest_free(&m);
	t_rmtree(d);
	free(d);
	free(p);
}

TEST(audit_too_deep_is_a_finding)
{
	char *d = t_mkdtemp();
	struct sh_buf rel = { 0 };
	struct sh_audit_manifest m = { 0 };
	struct sh_audit_report r = { 0 };

	for (int i = 0; i < SH_AUDIT_MAX_DEPTH + 2; i++)
		sh_buf_puts(&rel, i ? "/d" : "d");
	mkdirs(d, sh_buf_str(&rel));
	snap(d, SNAP_NORMAL, &m);
	compare(d, &m, &r);
	CHECK_INT(r.count, ==, 1);
	CHECK(r.n_kept == 1 && r.findings[0].kind == SH_AK_UNAUDITED);
	sh_buf_free(&rel);
	sh_audit_report_free(&r);
	sh_audit_manifest_free(&m);
	t_rmtree(d);
	free(d);
}

/* ---- report output ---- */

__attribute__((noinline)) static char *print_report(const struct sh_audit_report *r)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	sh_audit_report_print(r, f);
	fclose(f);
	return out;
}

TEST(audit_report_lines_and_escaping)
{
	char *d = fixture(), *out;
	struct sh_audit_manifest m = { 0 };
	struct sh_audit_report r = { 0 };

	snap(d, SNAP_NORMAL, &m);
	put(d, ".git/hooks/post-checkout", "#!/bin/sh\n");
	put(d, "a\033[31m/.envrc", "x\n");
	put(d, "caf\xc3\xa9/.envrc", "x\n");
	link_at(d, ".mcp.json", "/x\xe2\x80\xaeyz\n");
	compare(d, &m, &r);
	out = print_report(&r);
	CHECK_CONTAINS(out, "safehouse: audit: 4 persistence-relevant changes in the workdir:\n");
	CHECK_CONTAINS(out, "safehouse: audit: new git-hook '.git/hooks/post-checkout': runs on the "
			    "next git command outside the sandbox\n");
	CHECK_CONTAINS(out, "'a\\x1b[31m/.envrc'");
	CHECK_CONTAINS(out, "'caf\xc3\xa9/.envrc'");
	CHECK_CONTAINS(out, "(symlink -> /x\\xe2\\x80\\xaeyz\\x0a)");
	CHECK(!strchr(out, '\033'));
	free(out);
	sh_audit_report_free(&r);

	/* empty report: silent */
	out = print_report(&r);
	CHECK_STR(out, "");
	free(out);
	sh_audit_manifest_free(&m);
	t_rmtree(d);
	free(d);
}

TEST(audit_report_is_capped)
{
	char *d = t_mkdtemp(), *out;
	struct sh_audit_manifest m = { 0 };
	struct sh_audit_report r = { 0 };

	snap(d, SNAP_NORMAL, &m);
	for (int i = 0; i < 150; i++) {
		char *rel = sh_xasprintf("p%03d/.envrc", i);
		put(d, rel, "x\n");
		free(rel);
	}
	compare(d, &m, &r);
	CHECK_INT(r.count, ==, 150);
	out = print_report(&r);
	CHECK_CONTAINS(out, "'p099/.envrc'");
	CHECK(!strstr(out, "'p100/.envrc'"));
	CHECK_CONTAINS(out, "safehouse: audit: ... and 50 more\n");
	free(out);
	sh_audit_report_free(&r);
	sh_audit_manifest_free(&m);
	t_rmtree(d);
	free(d);
}

/* More findings than are kept: the lesser kinds are dropped first, and
 * the report lists hooks and git config before editor settings. */
TEST(audit_report_keeps_what_matters_most)
{
	char *d = t_mkdtemp(), *out;
	struct sh_audit_manifest m = { 0 };
	struct sh_audit_report r = { 0 };

	snap(d, SNAP_NORMAL, &m);
	for (int i = 0; i < 1100; i++) {
		char *rel = sh_xasprintf(".idea/f%04d.xml", i);
		put(d, rel, "x\n");
		free(rel);
	}
	put(d, "zzz/.envrc", "x\n");
	put(d, "zzz/.git/hooks/pre-commit", "x\n");
	compare(d, &m, &r);
	CHECK_INT(r.count, ==, 1103); /* the nested repo too */
	CHECK_INT(r.n_kept, ==, SH_AUDIT_MAX_KEPT);
	expect(&r, "zzz/.envrc", SH_AUDIT_NEW, SH_AK_DIRENV);
	expect(&r, "zzz/.git/hooks/pre-commit", SH_AUDIT_NEW, SH_AK_GIT_HOOK);
	out = print_report(&r);
	char *h = strstr(out, "'zzz/.git/hooks/pre-commit'"), *i = strstr(out, "'.idea/");
	size_t hook = h ? (size_t)(h - out) : SIZE_MAX, idea = i ? (size_t)(i - out) : 0;
	CHECK(hook < idea); /* listed first */
	CHECK(strstr(out, "zzz/.envrc") != NULL);
	free(out);
	sh_audit_report_free(&r);
	sh_audit_manifest_free(&m);
	t_rmtree(d);
	free(d);
}

TEST(audit_mode_parse)
{
	enum sh_audit_mode mode = SH_AUDIT_WARN;
	struct sh_err e = { 0 };

	CHECK_INT(sh_audit_mode_parse("strict", &mode, &e), ==, 0);
	CHECK_INT(mode, ==, SH_AUDIT_STRICT);
	CHECK_INT(sh_audit_mode_parse("off", &mode, &e), ==, 0);
	CHECK_INT(mode, ==, SH_AUDIT_OFF);
	CHECK_INT(sh_audit_mode_parse("warn", &mode, &e), ==, 0);
	CHECK_INT(mode, ==, SH_AUDIT_WARN);
	CHECK_INT(sh_audit_mode_parse("yes", &mode, &e), ==, -1);
	CHECK_INT(e.exit_code, ==, SH_EXIT_USAGE);
	CHECK_CONTAINS(e.msg, "invalid --audit mode");
}

TEST(audit_compare_without_snapshot_fails)
{
	struct sh_audit_manifest m = { 0 };
	struct sh_audit_report r = { 0 };
	struct sh_err e = { 0 };

	CHECK_INT(sh_audit_compare("/", &m, &r, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "no launch snapshot");
}

/* ---- git config grammar ---- */

static char *keys_of(const char *cfg, bool gitmodules, int *rc)
{
	struct sh_strv k = { 0 };
	struct sh_buf b = { 0 };

	*rc = sh_audit_gitconfig_keys(cfg, strlen(cfg), gitmodules, &k);
	for (size_t i = 0; i < k.n; i++) {
		sh_buf_puts(&b, k.v[i]);
		sh_buf_putc(&b, '\n');
	}
	sh_strv_free(&k);
	return sh_buf_take(&b);
}

TEST(audit_gitconfig_grammar)
{
	static const struct {
		const char *cfg, *want;
		int rc;
	} cases[] = {
		{ "[core]\n\tfsmonitor = x\n", "core.fsmonitor=x\n", 0 },
		{ "[core] fsmonitor = x\n", "core.fsmonitor=x\n", 0 },      /* key on header line */
		{ "[Core]\n  FSMonitor=\"a b\"  # c\n", "core.fsmonitor=a b\n", 0 },
		{ "[core]\nfsmonitor = true\n[core]\nfsmonitor = false\n", "", 0 },
		/* integers as git reads them are booleans; other digits are commands */
		{ "[core]\nfsmonitor = 1\nfsmonitor = 0x10\nfsmonitor = -3\nfsmonitor = 2k\n", "", 0 },
		{ "[core]\nfsmonitor = 08\n", "core.fsmonitor=08\n", 0 },
		{ "[core]\nfsmonitor = 2147483648\n", "core.fsmonitor=2147483648\n", 0 },
		{ "[core]\nfsmonitor = 99999999999999999999\n",
		  "core.fsmonitor=99999999999999999999\n", 0 },
		{ "[hook \"lint\"]\ncommand = evil\nevent = pre-commit\n[core]\nworktree = /h\n",
		  "hook.lint.command=evil\nhook.lint.event=pre-commit\ncore.worktree=/h\n", 0 },
		{ "[lfs \"customtransfer.x\"]\npath = evil\n[imap]\ntunnel = evil\n",
		  "lfs.customtransfer.x.path=evil\nimap.tunnel=evil\n", 0 },
		{ "[core]\nfsmonitor = a\\\nb\n", "core.fsmonitor=ab\n", 0 }, /* continuation */
		{ "[core]\r\nfsmonitor = x\r\n", "core.fsmonitor=x\n", 0 },
		{ "\xef\xbb\xbf[core]\nhooksPath = /h\n", "core.hookspath=/h\n", 0 },
		{ "[alias]\n\tst = status\n\tx = \"!sh -c id\"\n", "alias.x=!sh -c id\n", 0 },
		{ "[filter \"lfs\"]\n\tclean = git-lfs clean -- %f\n\trequired\n",
		  "filter.lfs.clean=git-lfs clean -- %f\n", 0 },
		{ "[diff.X]\ntextconv = cat\n", "diff.x.textconv=cat\n", 0 }, /* legacy subsection */
		{ "[include]\npath = ../evil\n[includeIf \"gitdir:/\"]\npath = e\n",
		  "include.path=../evil\nincludeif.gitdir:/.path=e\n", 0 },
		{ "[url \"https://evil/\"]\n\tinsteadOf = https://github.com/\n",
		  "url.https://evil/.insteadof=https://github.com/\n", 0 },
		{ "[credential \"https://x\"]\nhelper = !f\n[gpg \"ssh\"]\nprogram = p\n",
		  "credential.https://x.helper=!f\ngpg.ssh.program=p\n", 0 },
		{ "[pager]\nlog = false\ndiff = evil\n", "pager.diff=evil\n", 0 },
		{ "[remote \"o\"]\nurl = x\nuploadpack = evil\n", "remote.o.uploadpack=evil\n", 0 },
		{ "[branch \"m\"]\nremote = o\n[user]\nemail = a@b\n", "", 0 },
		{ "; only a comment\n# another\n", "", 0 },
		{ "[core\nfsmonitor = x\n", "", -1 },            /* unterminated header */
		{ "[core]\nfsmonitor = \"x\n", "", -1 },         /* unterminated quote */
		{ "[core]\nfsmonitor = \\q\n", "", -1 },         /* bad escape */
		{ "[core]\n1key = x\n", "", -1 },
		{ "[core]\nfsmonitor x\n", "", -1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;
		char *got = keys_of(cases[i].cfg, false, &rc);
		if (!CHECK_STR(got, cases[i].want) | !CHECK_INT(rc, ==, cases[i].rc))
			fprintf(stderr, "# case %zu\n", i);
		free(got);
	}
	{
		int rc;
		char nul[] = "[core]\nfsmonitor = a\0b\n";
		struct sh_strv k = { 0 };
		CHECK_INT(sh_audit_gitconfig_keys(nul, sizeof(nul) - 1, false, &k), ==, -1);
		sh_strv_free(&k);
		char *got = keys_of("[submodule \"s\"]\nurl = u\nupdate = rebase\n[core]\npager = p\n",
				    true, &rc);
		CHECK_STR(got, "submodule.s.url=u\nsubmodule.s.update=rebase\n");
		free(got);
	}
}

TEST(audit_workdir_gone_or_replaced)
{
	char *d = fixture(), *moved = sh_xasprintf("%s.moved", d);
	struct sh_audit_manifest m = { 0 };
	struct sh_audit_report r = { 0 };

	snap(d, SNAP_NORMAL, &m);
	CHECK_INT(rename(d, moved), ==, 0);
	compare(d, &m, &r);
	expect(&r, ".", SH_AUDIT_UNREADABLE, SH_AK_WORKDIR);
	CHECK_INT(r.count, ==, 1);
	sh_audit_report_free(&r);

	/* a fresh directory at the same path */
	CHECK_INT(mkdir(d, 0755), ==, 0);
	put(d, ".envrc", "x\n");
	compare(d, &m, &r);
	expect(&r, ".", SH_AUDIT_CHANGED, SH_AK_WORKDIR);
	expect(&r, ".envrc", SH_AUDIT_NEW, SH_AK_DIRENV);
	CHECK_INT(r.count, ==, 2);
	sh_audit_report_free(&r);
	sh_audit_manifest_free(&m);
	t_rmtree(d);
	t_rmtree(moved);
	free(d);
	free(moved);
}
