#include "util/path.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

char *sh_path_expand_tilde(const char *path, const char *home)
{
	if (!home || !*home || path[0] != '~' || (path[1] != '\0' && path[1] != '/'))
		return sh_xstrdup(path);
	if (path[1] == '\0')
		return sh_xstrdup(home);
	return sh_path_join(home, path + 2);
}

int sh_path_canon(const char *path, char **out, struct sh_err *e)
{
	char *r;

	if (!*path)
		return sh_fail(e, SH_EXIT_USAGE, 0, "empty path");
	/* Rejected before any syscall, and never echoed: such a name could
	 * rewrite the user's terminal when printed in an error. */
	if (sh_has_ctl(path))
		return sh_fail(e, SH_EXIT_USAGE, 0, "path contains control characters");
	r = realpath(path, NULL);
	if (!r) {
		if (errno == ENOENT || errno == ENOTDIR)
			return sh_fail(e, SH_EXIT_USAGE, 0, "'%s' does not exist", path);
		if (errno == ENOMEM)
			return sh_fail(e, SH_EXIT_SETUP, errno, "cannot resolve '%s'", path);
		return sh_fail(e, SH_EXIT_USAGE, errno, "cannot resolve '%s'", path);
	}
	*out = r;
	return 0;
}

char *sh_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	struct sh_buf buf = { 0 };

	if (!*a)
		return sh_xstrdup(b);
	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	sh_buf_append(&buf, a, la);
	if (*b) {
		if (a[la - 1] != '/')
			sh_buf_putc(&buf, '/');
		sh_buf_puts(&buf, b);
	}
	return sh_buf_take(&buf);
}

/* Length of s without trailing slashes, keeping a lone "/". */
static size_t trimmed_len(const char *s)
{
	size_t n = strlen(s);
	while (n > 1 && s[n - 1] == '/')
		n--;
	return n;
}

bool sh_path_is_under(const char *path, const char *dir)
{
	size_t ld = trimmed_len(dir), lp = trimmed_len(path);

	if (ld == 1 && dir[0] == '/')
		return path[0] == '/';
	if (lp < ld || memcmp(path, dir, ld) != 0)
		return false;
	/* The match must end on a component boundary. */
	return lp == ld || path[ld] == '/';
}

char *sh_path_parent(const char *path)
{
	size_t n = trimmed_len(path);

	while (n > 0 && path[n - 1] != '/')
		n--;
	if (n == 0)
		return sh_xstrdup(".");
	while (n > 1 && path[n - 1] == '/')
		n--;
	return sh_xstrndup(path, n);
}

static void pathlist_push(struct sh_pathlist *pl, char *canon, bool is_dir)
{
	sh_xgrow(&pl->is_dir, &pl->cap, pl->paths.n + 1, sizeof(bool));
	pl->is_dir[pl->paths.n] = is_dir;
	sh_strv_push_take(&pl->paths, canon);
}

int sh_path_resolve(const char *field, const char *home, const char *base, char **canon,
		    bool *is_dir, struct sh_err *e)
{
	char *exp = sh_path_expand_tilde(field, home);
	char *abs = (base && exp[0] != '/') ? sh_path_join(base, exp) : NULL;
	struct stat st;
	int r = sh_path_canon(abs ? abs : exp, canon, e);

	free(abs);
	free(exp);
	if (r < 0)
		return -1;
	if (stat(*canon, &st) < 0) {
		/* Raced away between realpath and stat. */
		sh_fail(e, SH_EXIT_USAGE, errno, "cannot stat '%s'", *canon);
		free(*canon);
		*canon = NULL;
		return -1;
	}
	*is_dir = S_ISDIR(st.st_mode);
	return 0;
}

int sh_pathlist_add(struct sh_pathlist *pl, const char *spec, const char *home,
		    const char *base, const char *what, struct sh_err *e)
{
	struct sh_strv fields = { 0 }, canon = { 0 };
	bool *dirs = NULL;
	size_t dcap = 0;
	int rc = 0;

	sh_strv_split(&fields, spec, ':');
	for (size_t i = 0; i < fields.n; i++) {
		char *c = NULL;
		bool d = false;
		if (sh_path_resolve(fields.v[i], home, base, &c, &d, e) < 0) {
			if (what)
				sh_err_prefix(e, "%s", what);
			rc = -1;
			break;
		}
		sh_xgrow(&dirs, &dcap, canon.n + 1, sizeof(bool));
		dirs[canon.n] = d;
		sh_strv_push_take(&canon, c);
	}
	/* Commit only when every entry validated. */
	for (size_t i = 0; rc == 0 && i < canon.n; i++) {
		if (sh_strv_contains(&pl->paths, canon.v[i]))
			continue;
		pathlist_push(pl, sh_xstrdup(canon.v[i]), dirs[i]);
	}
	free(dirs);
	sh_strv_free(&canon);
	sh_strv_free(&fields);
	return rc;
}

void sh_pathlist_free(struct sh_pathlist *pl)
{
	sh_strv_free(&pl->paths);
	free(pl->is_dir);
	pl->is_dir = NULL;
	pl->cap = 0;
}

static int read_all(int fd, const char *path, size_t max, char **out, size_t *len,
		    struct sh_err *e)
{
	struct sh_buf b = { 0 };
	char chunk[8192];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			sh_buf_free(&b);
			return sh_fail(e, SH_EXIT_USAGE, errno, "cannot read '%s'", path);
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > max) {
			sh_buf_free(&b);
			return sh_fail(e, SH_EXIT_USAGE, 0, "'%s' is too large (max %zu bytes)",
				       path, max);
		}
		sh_buf_append(&b, chunk, (size_t)n);
	}
	*len = b.len;
	*out = sh_buf_take(&b);
	return 0;
}

int sh_read_small_file(const char *path, int open_flags, size_t max, char **out, size_t *len,
		       struct sh_err *e)
{
	struct stat st;
	int fd, r;

	/* O_NONBLOCK: opening a FIFO must not hang waiting for a writer; it is
	 * refused right after by the S_ISREG check. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | open_flags);
	if (fd < 0) {
		if (errno == ELOOP && (open_flags & O_NOFOLLOW))
			return sh_fail(e, SH_EXIT_USAGE, 0,
				       "'%s' is a symbolic link; refusing to follow it", path);
		r = errno;
		sh_fail(e, SH_EXIT_USAGE, r, "cannot open '%s'", path);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		sh_fail(e, SH_EXIT_USAGE, errno, "cannot stat '%s'", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return sh_fail(e, SH_EXIT_USAGE, 0, "'%s' is not a regular file", path);
	}
	if ((unsigned long long)st.st_size > max) {
		close(fd);
		return sh_fail(e, SH_EXIT_USAGE, 0, "'%s' is too large (max %zu bytes)", path,
			       max);
	}
	r = read_all(fd, path, max, out, len, e);
	close(fd);
	return r;
}

int sh_mkdirs_beneath(const char *base, const char *rel, unsigned mode, struct sh_err *e)
{
	struct sh_strv parts = { 0 };
	int fd = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (sh_has_ctl(rel))
		return sh_fail(e, SH_EXIT_USAGE, 0, "path contains control characters");
	if (fd < 0)
		return sh_fail(e, SH_EXIT_USAGE, errno, "cannot open '%s'", base);
	sh_strv_split(&parts, rel, '/');
	for (size_t i = 0; i < parts.n && rc == 0; i++) {
		const char *c = parts.v[i];
		int next;
		if (strcmp(c, ".") == 0 || strcmp(c, "..") == 0) {
			rc = sh_fail(e, SH_EXIT_USAGE, 0, "'%s': '.' and '..' are not allowed", rel);
			break;
		}
		if (mkdirat(fd, c, (mode_t)mode) < 0 && errno != EEXIST) {
			rc = sh_fail(e, SH_EXIT_USAGE, errno, "cannot create '%s/%s'", base, rel);
			break;
		}
		next = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			rc = sh_fail(e, SH_EXIT_USAGE, errno == ELOOP || errno == ENOTDIR ? 0 : errno,
				     "'%s/%s': a component is not a directory (or is a symlink)", base,
				     rel);
			break;
		}
		close(fd);
		fd = next;
	}
	close(fd);
	sh_strv_free(&parts);
	return rc;
}
