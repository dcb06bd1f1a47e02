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
	size_t a = strcmp(dir, "/") == 0 ? 0 : strlen(dir), b = strlen(name);
	char *p = sh_xmalloc(a + b + 2);

	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

struct sh_dirlist {
	char *dir;
	struct sh_strv names; /* in readdir order, without . and .., up to max + 1 */
	size_t max;
	bool ok;              /* the directory could be opened */
	char **sorted;        /* names.v sorted (sh_dircache_has), or NULL */
};

void sh_dircache_free(struct sh_dircache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].dir);
		free(c->v[i].sorted);
		sh_strv_free(&c->v[i].names);
	}
	free(c->v);
	*c = (struct sh_dircache){ 0 };
}

/* dir's entries, at most max of them (more than max: capped), read once. */
static const struct sh_dirlist *list_dir(struct sh_dircache *c, struct sh_dirlist *own,
					 const char *dir, size_t max)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (c->v[i].max >= max && strcmp(c->v[i].dir, dir) == 0)
			return &c->v[i];
	struct sh_dirlist l = { .dir = sh_xstrdup(dir), .max = max };
	DIR *d = opendir(dir);
	struct dirent *de;
	if (d) {
		l.ok = true;
		/* one more than max, so the caller can tell it was capped */
		while (l.names.n <= max && (de = readdir(d)))
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				sh_strv_push(&l.names, de->d_name);
		closedir(d);
	}
	if (!c) {
		*own = l;
		return own;
	}
	sh_xgrow(&c->v, &c->cap, c->n + 1, sizeof(*c->v));
	c->v[c->n] = l;
	return &c->v[c->n++];
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sh_dircache_has(struct sh_dircache *c, const char *dir, const char *name, size_t max)
{
	struct sh_dirlist own = { 0 };
	if (!c)
		return -1; /* only a cached listing is worth sorting */
	struct sh_dirlist *l = (struct sh_dirlist *)list_dir(c, &own, dir, max);
	if (!l->ok || l->names.n > l->max)
		return -1; /* unreadable, or more than max entries */
	if (!l->sorted) {
		l->sorted = sh_xcalloc(l->names.n + 1, sizeof(char *));
		memcpy(l->sorted, l->names.v, l->names.n * sizeof(char *));
		qsort(l->sorted, l->names.n, sizeof(char *), cmp_name);
	}
	return bsearch(&name, l->sorted, l->names.n, sizeof(char *), cmp_name) != NULL;
}

size_t sh_expand_prefix(const char *prefix, size_t max_entries, struct sh_strv *out,
			bool *capped, struct sh_dircache *cache)
{
	const char *slash = strrchr(prefix, '/');
	size_t pushed = 0;

	if (!slash || prefix[0] != '/')
		return 0;
	char *dir = slash == prefix ? sh_xstrdup("/") : sh_xstrndup(prefix, (size_t)(slash - prefix));
	const char *name_prefix = slash + 1;
	struct sh_dirlist own = { 0 };
	const struct sh_dirlist *l = list_dir(cache, &own, dir, max_entries);
	for (size_t i = 0; l->ok && i < l->names.n; i++) {
		if (i >= max_entries) {
			if (capped)
				*capped = true;
			break;
		}
		if (sh_str_starts(l->names.v[i], name_prefix)) {
			sh_strv_push_take(out, join(dir, l->names.v[i]));
			pushed++;
		}
	}
	if (l == &own) {
		free(own.dir);
		sh_strv_free(&own.names);
	}
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

/* Can path match?  regexec only when it holds every required literal. */
static bool matches(const regex_t *re, const struct sh_strv *req, const char *path)
{
	for (size_t i = 0; i < req->n; i++)
		if (!strstr(path, req->v[i]))
			return false;
	return regexec(re, path, 0, NULL, 0) == 0;
}

static size_t walk(const char *root, const char *lit, const regex_t *re,
		   const struct sh_strv *req, size_t max_entries, int max_depth, size_t *entries,
		   struct sh_strv *out, bool *capped)
{
	struct walk_item *q = NULL;
	size_t nq = 0, cap = 0, head = 0, pushed = 0;
	struct stat st;

	if (lstat(root, &st) != 0)
		return 0;
	if (matches(re, req, root)) {
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
			if (matches(re, req, full)) {
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
	struct sh_strv alts = { 0 }, req = { 0 };
	size_t pushed = 0;

	sh_regex_split_alternatives(src, &alts);
	/* Text every match holds (one alternative only: with several, a walk
	 * finds the matches of the others too), less what the literal prefix
	 * holds: the walk only goes where paths begin with it. */
	if (alts.n == 1) {
		struct sh_strv all = { 0 };
		char *lit = sh_regex_literal_prefix(src);
		(void)sh_regex_required_literals(src, &all);
		for (size_t i = 0; i < all.n; i++)
			if (!lit || !strstr(lit, all.v[i]))
				sh_strv_push(&req, all.v[i]);
		sh_strv_free(&all);
		free(lit);
	}
	for (size_t i = 0; i < alts.n; i++) {
		char *lit = sh_regex_literal_prefix(alts.v[i]);
		char *root;

		if (!lit) {
			if (unanchored_root)
				pushed += walk(unanchored_root, "", re, &req, max_entries,
					       max_depth, entries, out, capped);
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
		pushed += walk(root, lit, re, &req, max_entries, max_depth, entries, out, capped);
		free(root);
		free(lit);
	}
	sh_strv_free(&alts);
	sh_strv_free(&req);
	return pushed;
}
