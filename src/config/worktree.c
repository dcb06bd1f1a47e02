#include "config/worktree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/path.h"

/* Link files hold one path; anything bigger is not git's. */
#define LINK_MAX_SIZE 4096

/* Read a one-line link file (not following a final symlink), strip trailing
 * whitespace and, when prefix is given, require and strip it.  NULL if the
 * file is missing, odd, or holds control characters. */
static char *read_link(const char *path, const char *prefix)
{
	struct sh_err e = { 0 };
	char *buf = NULL, *r = NULL;
	size_t len = 0;

	if (sh_read_small_file(path, O_NOFOLLOW, LINK_MAX_SIZE, &buf, &len, &e) < 0)
		return NULL;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
		       buf[len - 1] == '\t'))
		buf[--len] = '\0';
	if (strlen(buf) == len && !sh_has_ctl(buf)) {
		const char *s = buf;
		if (prefix && sh_str_starts(s, prefix))
			s += strlen(prefix);
		else if (prefix)
			s = NULL;
		if (s && *s)
			r = sh_xstrdup(s);
	}
	free(buf);
	return r;
}

/* Canonical form of p, relative paths taken from base; NULL if missing. */
static char *resolve(const char *base, const char *p)
{
	struct sh_err e = { 0 };
	char *joined = p[0] == '/' ? sh_xstrdup(p) : sh_path_join(base, p);
	char *out = NULL;

	if (sh_path_canon(joined, &out, &e) < 0)
		out = NULL;
	free(joined);
	return out;
}

/* Read the "gitdir: X" line of the .git file in root, resolve X against
 * root.  NULL when any of that fails. */
static char *gitfile_target(const char *root)
{
	char *dotgit = sh_path_join(root, ".git");
	char *link = read_link(dotgit, "gitdir: ");
	char *r = link ? resolve(root, link) : NULL;

	free(link);
	free(dotgit);
	return r;
}

static bool is_type(const char *dir, const char *name, mode_t type)
{
	char *p = sh_path_join(dir, name);
	struct stat st;
	bool ok = stat(p, &st) == 0 && (st.st_mode & S_IFMT) == type;

	free(p);
	return ok;
}

static bool looks_like_git_dir(const char *c)
{
	return is_type(c, "HEAD", S_IFREG) && is_type(c, "objects", S_IFDIR) &&
	       is_type(c, "refs", S_IFDIR);
}

/* Does <dir>/gitdir point back at want (a canonical path)? */
static bool back_link_ok(const char *dir, const char *want)
{
	char *file = sh_path_join(dir, "gitdir");
	char *link = read_link(file, NULL);
	char *target = link ? resolve(dir, link) : NULL;
	bool ok = target && strcmp(target, want) == 0;

	free(target);
	free(link);
	free(file);
	return ok;
}

/* Root of the worktree registered as <wtdir> (= C/worktrees/N), if its two
 * links agree; NULL otherwise. */
static char *sibling_root(const char *wtdir)
{
	char *file = sh_path_join(wtdir, "gitdir");
	char *link = read_link(file, NULL);
	char *dotgit = link ? resolve(wtdir, link) : NULL;
	char *root = NULL, *back = NULL;

	if (dotgit && sh_str_ends(dotgit, "/.git")) {
		root = sh_path_parent(dotgit);
		back = gitfile_target(root);
		if (!back || strcmp(back, wtdir) != 0 || !is_type(root, ".", S_IFDIR)) {
			free(root);
			root = NULL;
		}
	}
	free(back);
	free(dotgit);
	free(link);
	free(file);
	return root;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void find_siblings(struct sh_worktree *wt, const char *workdir)
{
	char *wts = sh_path_join(wt->commondir, "worktrees");
	int fd = open(wts, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		free(wts);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char *wtdir = sh_path_join(wts, de->d_name);
		char *canon = resolve(wts, de->d_name);
		char *root = NULL;
		/* canon == wtdir rejects entries that are symlinks. */
		if (canon && strcmp(canon, wtdir) == 0 && strcmp(canon, wt->gitdir) != 0)
			root = sibling_root(canon);
		if (root && strcmp(root, workdir) != 0 && !sh_strv_contains(&wt->siblings, root))
			sh_strv_push_take(&wt->siblings, root);
		else
			free(root);
		free(canon);
		free(wtdir);
	}
	closedir(d);
	free(wts);
	if (wt->siblings.n > 1)
		qsort(wt->siblings.v, wt->siblings.n, sizeof(char *), cmp_str);
}

static int reject(struct sh_worktree *wt, char *note)
{
	free(wt->gitdir);
	free(wt->commondir);
	wt->gitdir = wt->commondir = NULL;
	wt->note = note;
	return 0;
}

/* The two-sided checks on G (gitdir) and C (commondir); sets wt->commondir. */
static int check_common(struct sh_worktree *wt, const char *workdir, const char *dotgit)
{
	char *cfile = sh_path_join(wt->gitdir, "commondir");
	char *clink = read_link(cfile, NULL);
	char *wts, *parent;
	bool placed;

	free(cfile);
	if (!clink)
		return reject(wt, sh_xasprintf("not a linked worktree: %s has no commondir",
					       wt->gitdir));
	wt->commondir = resolve(wt->gitdir, clink);
	free(clink);
	if (!wt->commondir)
		return reject(wt, sh_xstrdup("not a linked worktree: commondir does not exist"));
	wts = sh_path_join(wt->commondir, "worktrees");
	parent = sh_path_parent(wt->gitdir);
	placed = strcmp(wts, parent) == 0;
	free(wts);
	free(parent);
	if (!placed)
		return reject(wt, sh_xasprintf("not a linked worktree: %s is not in %s/worktrees",
					       wt->gitdir, wt->commondir));
	if (!looks_like_git_dir(wt->commondir))
		return reject(wt, sh_xasprintf("not a linked worktree: %s is not a git directory",
					       wt->commondir));
	if (!back_link_ok(wt->gitdir, dotgit))
		return reject(wt, sh_xasprintf("not a linked worktree: %s/gitdir does not point "
					       "back to %s",
					       wt->gitdir, workdir));
	find_siblings(wt, workdir);
	return 1;
}

int sh_worktree_detect(const char *workdir, struct sh_worktree *wt, struct sh_err *e)
{
	char *dotgit;
	struct stat st;
	int r;

	*wt = (struct sh_worktree){ 0 };
	if (workdir[0] != '/')
		return sh_fail(e, SH_EXIT_USAGE, 0, "worktree: '%s' is not an absolute path",
			       workdir);
	dotgit = sh_path_join(workdir, ".git");
	if (lstat(dotgit, &st) < 0 || S_ISDIR(st.st_mode)) {
		free(dotgit);
		return 0; /* no .git, or an ordinary repository */
	}
	if (!S_ISREG(st.st_mode)) {
		free(dotgit);
		return reject(wt, sh_xstrdup("not a linked worktree: .git is not a regular file"));
	}
	wt->gitdir = gitfile_target(workdir);
	if (!wt->gitdir)
		r = reject(wt, sh_xstrdup("not a linked worktree: .git has no valid "
					  "\"gitdir:\" line"));
	else
		r = check_common(wt, workdir, dotgit);
	free(dotgit);
	return r;
}

void sh_worktree_free(struct sh_worktree *wt)
{
	free(wt->gitdir);
	free(wt->commondir);
	free(wt->note);
	sh_strv_free(&wt->siblings);
	*wt = (struct sh_worktree){ 0 };
}
