/* Prefix and regex expansion over the host file system (see expand.h). */
#include "plan/expand.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/str.h"

void sh_regex_split_alternatives(const char *src, struct sh_strv *out)
{
	const char *start = src;
	int depth = 0;
	bool in_bracket = false;

	for (const char *s = src; *s; s++) {
		if (in_bracket) {
			/* "[]abc]" and "[^]abc]": a ']' right after the opening is literal. */
			if (*s == ']' && !(s[-1] == '[' || (s[-1] == '^' && s - 2 >= src && s[-2] == '[')))
				in_bracket = false;
			continue;
		}
		if (*s == '\\' && s[1]) {
			s++;
			continue;
		}
		if (*s == '[')
			in_bracket = true;
		else if (*s == '(')
			depth++;
		else if (*s == ')' && depth > 0)
			depth--;
		else if (*s == '|' && depth == 0) {
			sh_strv_push_take(out, sh_xstrndup(start, (size_t)(s - start)));
			start = s + 1;
		}
	}
	sh_strv_push(out, start);
}

static bool is_dir_entry(const struct dirent *d, const char *full)
{
	struct stat st;

	if (d->d_type == DT_DIR)
		return true;
	if (d->d_type != DT_UNKNOWN)
		return false;
	return lstat(full, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *join(const char *dir, const char *name)
{
	if (strcmp(dir, "/") == 0)
		return sh_xasprintf("/%s", name);
	return sh_xasprintf("%s/%s", dir, name);
}

size_t sh_expand_prefix(const char *prefix, size_t max_entries, struct sh_strv *out,
			bool *capped)
{
	const char *slash = strrchr(prefix, '/');
	char *dir;
	const char *name_prefix;
	size_t seen = 0, pushed = 0;
	DIR *d;
	struct dirent *de;

	if (!slash || prefix[0] != '/')
		return 0;
	dir = slash == prefix ? sh_xstrdup("/") : sh_xstrndup(prefix, (size_t)(slash - prefix));
	name_prefix = slash + 1;
	d = opendir(dir);
	if (!d) {
		free(dir);
		return 0;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (++seen > max_entries) {
			if (capped)
				*capped = true;
			break;
		}
		if (sh_str_starts(de->d_name, name_prefix)) {
			sh_strv_push_take(out, join(dir, de->d_name));
			pushed++;
		}
	}
	closedir(d);
	free(dir);
	return pushed;
}

/* Could a path below `path` (or path itself) start with lit? */
static bool compatible(const char *path, const char *lit)
{
	size_t a = strlen(path), b = strlen(lit);

	return strncmp(path, lit, a < b ? a : b) == 0;
}

struct walk_item {
	char *path;
	int depth;
};

static size_t walk(const char *root, const char *lit, const regex_t *re, size_t max_entries,
		   int max_depth, size_t *entries, struct sh_strv *out, bool *capped)
{
	struct walk_item *q = NULL;
	size_t nq = 0, cap = 0, head = 0, pushed = 0;
	struct stat st;

	if (lstat(root, &st) != 0)
		return 0;
	if (regexec(re, root, 0, NULL, 0) == 0) {
		sh_strv_push(out, root);
		pushed++;
	}
	if (!S_ISDIR(st.st_mode))
		return pushed;
	sh_xgrow(&q, &cap, 1, sizeof(*q));
	q[nq++] = (struct walk_item){ sh_xstrdup(root), 0 };
	/* Breadth first, so the cap cuts the deepest levels first. */
	while (head < nq) {
		struct walk_item it = q[head++];
		DIR *d = it.depth < max_depth ? opendir(it.path) : NULL;
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char *full;

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if (*entries >= max_entries) {
				*capped = true;
				break;
			}
			(*entries)++;
			full = join(it.path, de->d_name);
			if (!compatible(full, lit)) {
				free(full);
				continue;
			}
			if (regexec(re, full, 0, NULL, 0) == 0) {
				sh_strv_push(out, full);
				pushed++;
			}
			if (is_dir_entry(de, full)) {
				sh_xgrow(&q, &cap, nq + 1, sizeof(*q));
				q[nq++] = (struct walk_item){ full, it.depth + 1 };
			} else {
				free(full);
			}
		}
		if (d)
			closedir(d);
		free(it.path);
		if (*capped)
			break;
	}
	for (; head < nq; head++)
		free(q[head].path);
	free(q);
	return pushed;
}

size_t sh_expand_regex(const char *src, const regex_t *re, const char *unanchored_root,
		       size_t max_entries, int max_depth, size_t *entries, struct sh_strv *out,
		       bool *capped)
{
	struct sh_strv alts = { 0 };
	size_t pushed = 0;

	sh_regex_split_alternatives(src, &alts);
	for (size_t i = 0; i < alts.n; i++) {
		char *lit = sh_regex_literal_prefix(alts.v[i]);
		char *root;

		if (!lit) {
			if (unanchored_root)
				pushed += walk(unanchored_root, "", re, max_entries, max_depth,
					       entries, out, capped);
			continue;
		}
		if (lit[0] != '/') {
			/* "^(/a|/b)": no usable literal; search from "/" (bounded). */
			root = sh_xstrdup("/");
			lit[0] = '\0';
		} else {
			char *slash = strrchr(lit, '/');
			root = slash == lit ? sh_xstrdup("/")
					    : sh_xstrndup(lit, (size_t)(slash - lit));
		}
		pushed += walk(root, lit, re, max_entries, max_depth, entries, out, capped);
		free(root);
		free(lit);
	}
	sh_strv_free(&alts);
	return pushed;
}
