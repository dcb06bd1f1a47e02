#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/worktree.h"
#include "harness.h"
#include "util/path.h"

/* CHECK_INT evaluates its operands twice: call once, then check. */
#define CK(call, op, want)                           \
	do {                                         \
		long long ck_r_ = (long long)(call); \
		CHECK_INT(ck_r_, op, want);          \
	} while (0)

/* Canonical fresh temp dir (TMPDIR may be a symlink). */
static char *tmpdir_canon(void)
{
	char *d = t_mkdtemp(), *c = realpath(d, NULL);
	free(d);
	return c;
}

static void mkdirs(const char *base, const char *rel)
{
	char *cmd = sh_xasprintf("mkdir -p '%s/%s'", base, rel);
	CHECK_INT(system(cmd), ==, 0);
	free(cmd);
}

static void put(const char *base, const char *rel, const char *content)
{
	char *p = sh_path_join(base, rel);
	t_write_file(p, content);
	free(p);
}

/* A fake repository: <t>/repo/.git with linked worktrees wt1, wt2 at
 * <t>/wt1, <t>/wt2 (absolute links), and wt3 registered but deleted. */
static void fake_layout(const char *t)
{
	mkdirs(t, "repo/.git/objects");
	mkdirs(t, "repo/.git/refs/heads");
	put(t, "repo/.git/HEAD", "ref: refs/heads/main\n");
	for (int i = 1; i <= 3; i++) {
		char *wtdir = sh_xasprintf("repo/.git/worktrees/wt%d", i);
		char *g = sh_xasprintf("%s/gitdir", wtdir), *c = sh_xasprintf("%s/commondir", wtdir);
		char *link = sh_xasprintf("%s/wt%d/.git\n", t, i);
		char *root = sh_xasprintf("wt%d", i), *dotgit = sh_xasprintf("wt%d/.git", i);
		char *back = sh_xasprintf("gitdir: %s/repo/.git/worktrees/wt%d\n", t, i);
		mkdirs(t, wtdir);
		put(t, g, link);
		put(t, c, "../..\n");
		if (i != 3) {
			mkdirs(t, root);
			put(t, dotgit, back);
		}
		free(wtdir);
		free(g);
		free(c);
		free(link);
		free(root);
		free(dotgit);
		free(back);
	}
}

TEST(worktree_not_a_worktree)
{
	char *t = tmpdir_canon();
	struct sh_worktree wt;
	struct sh_err e = { 0 };

	CK(sh_worktree_detect(t, &wt, &e), ==, 0);
	CHECK(wt.note == NULL && wt.commondir == NULL);
	sh_worktree_free(&wt);
	mkdirs(t, ".git");
	CK(sh_worktree_detect(t, &wt, &e), ==, 0);
	CHECK(wt.note == NULL);
	sh_worktree_free(&wt);

	CK(sh_worktree_detect("relative/dir", &wt, &e), ==, -1);
	CHECK_CONTAINS(e.msg, "is not an absolute path");
	CHECK_INT(e.exit_code, ==, SH_EXIT_USAGE);
	sh_worktree_free(&wt);
	t_rmtree(t);
	free(t);
}

TEST(worktree_fake_layout)
{
	char *t = tmpdir_canon();
	char *wt1 = sh_path_join(t, "wt1"), *wt2 = sh_path_join(t, "wt2");
	char *common = sh_path_join(t, "repo/.git");
	char *gitdir = sh_path_join(t, "repo/.git/worktrees/wt1");
	struct sh_worktree wt;
	struct sh_err e = { 0 };

	fake_layout(t);
	/* Hostile registrations in the (agent-writable) common dir: a gitdir
	 * naming a directory without a matching .git file, one whose .git
	 * points at another entry, and a symlinked entry. */
	mkdirs(t, "victim");
	mkdirs(t, "repo/.git/worktrees/evil");
	char *evil = sh_xasprintf("%s/victim/.git\n", t);
	put(t, "repo/.git/worktrees/evil/gitdir", evil);
	free(evil);
	mkdirs(t, "liar");
	char *liar = sh_xasprintf("gitdir: %s/repo/.git/worktrees/wt2\n", t);
	put(t, "liar/.git", liar);
	free(liar);
	mkdirs(t, "repo/.git/worktrees/evil2");
	char *ev2 = sh_xasprintf("%s/liar/.git\n", t);
	put(t, "repo/.git/worktrees/evil2/gitdir", ev2);
	free(ev2);
	char *lnk = sh_path_join(t, "repo/.git/worktrees/lnk");
	CK(symlink("wt2", lnk), ==, 0);
	free(lnk);

	CK(sh_worktree_detect(wt1, &wt, &e), ==, 1);
	CHECK_STR(wt.commondir, common);
	CHECK_STR(wt.gitdir, gitdir);
	CHECK(wt.note == NULL);
	CHECK_INT(wt.siblings.n, ==, 1);
	if (wt.siblings.n == 1)
		CHECK_STR(wt.siblings.v[0], wt2);
	sh_worktree_free(&wt);

	CK(sh_worktree_detect(wt2, &wt, &e), ==, 1);
	CHECK_INT(wt.siblings.n, ==, 1);
	if (wt.siblings.n == 1)
		CHECK_STR(wt.siblings.v[0], wt1);
	sh_worktree_free(&wt);

	/* The main worktree itself is an ordinary repository. */
	char *repo = sh_path_join(t, "repo");
	CK(sh_worktree_detect(repo, &wt, &e), ==, 0);
	CHECK(wt.note == NULL);
	sh_worktree_free(&wt);
	free(repo);

	free(wt1);
	free(wt2);
	free(common);
	free(gitdir);
	t_rmtree(t);
	free(t);
}

TEST(worktree_relative_links)
{
	char *t = tmpdir_canon();
	char *wt1 = sh_path_join(t, "wt1"), *wt2 = sh_path_join(t, "wt2");
	char *common = sh_path_join(t, "repo/.git");
	struct sh_worktree wt;
	struct sh_err e = { 0 };

	fake_layout(t);
	/* git >= 2.48 with worktree.useRelativePaths writes relative links. */
	put(t, "wt1/.git", "gitdir: ../repo/.git/worktrees/wt1\r\n");
	put(t, "repo/.git/worktrees/wt1/gitdir", "../../../../wt1/.git");
	put(t, "repo/.git/worktrees/wt2/gitdir", "../../../../wt2/.git\n");
	put(t, "wt2/.git", "gitdir: ../repo/.git/worktrees/wt2");
	CK(sh_worktree_detect(wt1, &wt, &e), ==, 1);
	CHECK_STR(wt.commondir, common);
	CHECK_INT(wt.siblings.n, ==, 1);
	if (wt.siblings.n == 1)
		CHECK_STR(wt.siblings.v[0], wt2);
	sh_worktree_free(&wt);

	/* commondir given as an absolute path works too. */
	char *abs = sh_xasprintf("%s\n", common);
	put(t, "repo/.git/worktrees/wt1/commondir", abs);
	free(abs);
	CK(sh_worktree_detect(wt1, &wt, &e), ==, 1);
	CHECK_STR(wt.commondir, common);
	sh_worktree_free(&wt);

	free(wt1);
	free(wt2);
	free(common);
	t_rmtree(t);
	free(t);
}

/* Rebuild the layout, apply one change, expect rejection with a note. */
static void expect_reject(const char *change, const char *content, const char *note)
{
	char *t = tmpdir_canon();
	char *wt1 = sh_path_join(t, "wt1");
	struct sh_worktree wt;
	struct sh_err e = { 0 };

	fake_layout(t);
	if (content) {
		/* "%T" stands for the temp dir. */
		const char *tok = strstr(content, "%T");
		char *c = tok ? sh_xasprintf("%.*s%s%s", (int)(tok - content), content, t, tok + 2)
			      : sh_xstrdup(content);
		put(t, change, c);
		free(c);
	} else {
		char *p = sh_path_join(t, change);
		CHECK_INT(remove(p), ==, 0);
		free(p);
	}
	int r = sh_worktree_detect(wt1, &wt, &e);
	CHECK_INT(r, ==, 0);
	CHECK(wt.commondir == NULL && wt.gitdir == NULL && wt.siblings.n == 0);
	CHECK_CONTAINS(wt.note, note);
	sh_worktree_free(&wt);
	free(wt1);
	t_rmtree(t);
	free(t);
}

TEST(worktree_hostile_or_broken)
{
	/* .git file garbage, or a gitdir that does not exist. */
	expect_reject("wt1/.git", "nonsense\n", ".git has no valid \"gitdir:\" line");
	expect_reject("wt1/.git", "gitdir: \n", ".git has no valid");
	expect_reject("wt1/.git", "gitdir: /nonexistent/x\n", ".git has no valid");
	expect_reject("wt1/.git", "gitdir: %T/repo/.git/worktrees/wt1\x1b[2J\n",
		      ".git has no valid");
	/* Pointed at a directory with no commondir (e.g. a submodule's). */
	expect_reject("wt1/.git", "gitdir: %T/repo/.git\n", "has no commondir");
	expect_reject("repo/.git/worktrees/wt1/commondir", NULL, "has no commondir");
	expect_reject("repo/.git/worktrees/wt1/commondir", "../../nope\n",
		      "commondir does not exist");
	/* commondir redirected elsewhere: gitdir is then not in its worktrees/. */
	expect_reject("repo/.git/worktrees/wt1/commondir", "../../../../wt2\n",
		      "is not in");
	/* Common dir without objects/refs/HEAD. */
	expect_reject("repo/.git/HEAD", NULL, "is not a git directory");
	/* Back link to somewhere else, or missing. */
	expect_reject("repo/.git/worktrees/wt1/gitdir", "%T/wt2/.git\n",
		      "does not point back to");
	expect_reject("repo/.git/worktrees/wt1/gitdir", NULL, "does not point back to");
}

TEST(worktree_dotgit_symlink_and_size)
{
	char *t = tmpdir_canon();
	char *wt1 = sh_path_join(t, "wt1"), *dotgit = sh_path_join(t, "wt1/.git");
	char *elsewhere = sh_path_join(t, "gitfile");
	struct sh_worktree wt;
	struct sh_err e = { 0 };

	fake_layout(t);
	/* A .git symlink to a valid gitfile is not followed. */
	CK(rename(dotgit, elsewhere), ==, 0);
	CK(symlink(elsewhere, dotgit), ==, 0);
	CK(sh_worktree_detect(wt1, &wt, &e), ==, 0);
	CHECK_CONTAINS(wt.note, ".git is not a regular file");
	sh_worktree_free(&wt);

	/* An oversized .git file is not read. */
	CK(unlink(dotgit), ==, 0);
	FILE *f = fopen(dotgit, "w");
	CHECK(f != NULL);
	if (f) {
		fprintf(f, "gitdir: %s/repo/.git/worktrees/wt1", t);
		for (int i = 0; i < 5000; i++)
			fputc(' ', f);
		fputc('\n', f);
		fclose(f);
	}
	CK(sh_worktree_detect(wt1, &wt, &e), ==, 0);
	CHECK_CONTAINS(wt.note, ".git has no valid");
	sh_worktree_free(&wt);

	free(wt1);
	free(dotgit);
	free(elsewhere);
	t_rmtree(t);
	free(t);
}

static int sh_run(const char *cmd)
{
	return system(cmd);
}

TEST(worktree_real_git)
{
	if (sh_run("git --version >/dev/null 2>&1") != 0)
		SKIP("git is not installed");
	char *t = tmpdir_canon();
	char *cmd = sh_xasprintf(
		"cd '%s' && git init -q repo && cd repo && "
		"git -c user.name=t -c user.email=t@t commit -q --allow-empty -m init && "
		"git worktree add -q ../a 2>/dev/null && git worktree add -q ../b 2>/dev/null && "
		"git worktree add -q ../c 2>/dev/null && rm -rf ../c",
		t);
	int r = sh_run(cmd);
	free(cmd);
	if (r != 0) {
		t_rmtree(t);
		free(t);
		SKIP("git worktree add failed here");
	}
	char *a = sh_path_join(t, "a"), *b = sh_path_join(t, "b");
	char *common = sh_path_join(t, "repo/.git");
	struct sh_worktree wt;
	struct sh_err e = { 0 };

	CK(sh_worktree_detect(a, &wt, &e), ==, 1);
	CHECK_STR(wt.commondir, common);
	CHECK(wt.gitdir && sh_path_is_under(wt.gitdir, common));
	CHECK_INT(wt.siblings.n, ==, 1); /* c was deleted */
	if (wt.siblings.n == 1)
		CHECK_STR(wt.siblings.v[0], b);
	CHECK(wt.note == NULL);
	sh_worktree_free(&wt);

	free(a);
	free(b);
	free(common);
	t_rmtree(t);
	free(t);
}
