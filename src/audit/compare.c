/* The post-session walk: compare the workdir with the launch manifest. */
#include "audit/audit_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Longest "adds k=v, ..." detail kept for a git config finding. */
#define DETAIL_MAX 480

struct cmp {
	const struct sh_audit_manifest *m;
	struct sh_audit_report *r;
	struct sh_buf path; /* the directory being read, relative to the workdir */
	char *dents;
};

static const char *mname(const struct cmp *c, uint32_t off)
{
	return c->m->names + off;
}

static char *rel(const struct cmp *c, const char *name)
{
	if (!name)
		return sh_xstrdup(c->path.len ? c->path.data : ".");
	return sh_xasprintf("%s%s%s", sh_buf_str(&c->path), c->path.len ? "/" : "", name);
}

static size_t push(struct cmp *c, const char *name)
{
	size_t old = c->path.len;

	if (old)
		sh_buf_putc(&c->path, '/');
	sh_buf_puts(&c->path, name);
	return old;
}

static void pop(struct cmp *c, size_t old)
{
	c->path.len = old;
	if (c->path.data)
		c->path.data[old] = '\0';
}

/* name NULL: the current directory itself. */
static void add(struct cmp *c, enum sh_audit_change ch, unsigned kind, const char *name,
		char *detail)
{
	au_report_add(c->r, ch, kind, rel(c, name), detail);
}

static void unaudited(struct cmp *c, const char *name, int err)
{
	add(c, SH_AUDIT_UNREADABLE, SH_AK_UNAUDITED, name,
	    err ? sh_xstrdup(strerror(err))
		: sh_xasprintf("deeper than %d levels: not walked", SH_AUDIT_MAX_DEPTH));
}

static bool same_dir(const struct au_stat *a, const struct au_stat *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->ctime_ns == b->ctime_ns &&
	       a->mtime_ns == b->mtime_ns && a->mode == b->mode;
}

/* Binary search of the snapshot entry (below: subdirectory) of n called name. */
static int64_t find_ent(const struct cmp *c, const struct au_node *n, const char *name)
{
	size_t lo = 0, hi = n ? n->nent : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(name, mname(c, c->m->ents[n->ent0 + mid].name));
		if (d == 0)
			return (int64_t)(n->ent0 + mid);
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static int64_t find_child(const struct cmp *c, const struct au_node *n, const char *name)
{
	size_t lo = 0, hi = n ? n->nchild : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(name, mname(c, c->m->nodes[n->child0 + mid].name));
		if (d == 0)
			return (int64_t)(n->child0 + mid);
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static char *symlink_detail(int dirfd, const char *name)
{
	char target[PATH_MAX + 1];
	ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);

	if (n < 0)
		return sh_xasprintf("symlink (unreadable: %s)", strerror(errno));
	target[n] = '\0';
	return sh_xasprintf("symlink -> %s", target);
}

/* True when keys of the new content make it a finding; *detail says why.
 * A change that adds no risky key is harmless (branch tracking, user.email,
 * remotes): counted as benign. */
static bool config_detail(int dirfd, const char *name, const struct au_ent *old, unsigned kind,
			  char **detail)
{
	struct sh_strv keys = { 0 };
	struct sh_buf d = { 0 };
	bool old_ok = old && (old->flags & AU_E_GITCONFIG) && !(old->flags & AU_E_BADCONFIG);
	char *buf = NULL;
	size_t len = 0;
	int err = au_read_file(dirfd, name, &buf, &len);

	if (err) {
		*detail = sh_xasprintf("cannot inspect: %s", strerror(err));
		return true;
	}
	if (au_gitconfig_keys(buf, len, kind, &keys) < 0) {
		free(buf);
		sh_strv_free(&keys);
		*detail = sh_xstrdup("does not parse as git config: keys that run programs not checked");
		return true;
	}
	free(buf);
	for (size_t i = 0; i < keys.n; i++) {
		if (old_ok && au_keys_contain(&old->keys, keys.v[i]))
			continue;
		if (d.len > DETAIL_MAX) {
			sh_buf_puts(&d, ", ...");
			break;
		}
		sh_buf_puts(&d, d.len ? ", " : "adds ");
		sh_buf_puts(&d, keys.v[i]);
	}
	sh_strv_free(&keys);
	*detail = d.len ? sh_buf_take(&d) : NULL;
	return *detail != NULL;
}

static bool content_differs(int dirfd, const char *name, const struct au_ent *old)
{
	char *buf = NULL;
	size_t len = 0;
	bool differs;

	if (au_read_file(dirfd, name, &buf, &len) != 0)
		return true;
	differs = len != old->content_len || memcmp(buf, old->content, len) != 0;
	free(buf);
	return differs;
}

static bool entry_changed(int dirfd, const char *name, const struct au_ent *old,
			  const struct au_stat *now)
{
	const struct au_stat *o = &old->st;

	if ((o->mode & S_IFMT) != (now->mode & S_IFMT) || o->dev != now->dev || o->ino != now->ino)
		return true;
	if (S_ISDIR(now->mode))
		return false; /* a .git directory: its contents are walked */
	if (o->size != now->size || o->mtime_ns != now->mtime_ns || o->ctime_ns != now->ctime_ns ||
	    o->mode != now->mode)
		return true;
	if (old->flags & AU_E_UNVERIFIABLE)
		return true;
	return (old->flags & AU_E_COPY) && content_differs(dirfd, name, old);
}

/* old NULL: the entry is new. */
static void cmp_entry(struct cmp *c, int dirfd, const char *name, const struct au_ent *old,
		      unsigned kind, bool gitconfig, const struct au_stat *now)
{
	char *detail = NULL;

	if (old && !entry_changed(dirfd, name, old, now))
		return;
	if (S_ISLNK(now->mode)) {
		detail = symlink_detail(dirfd, name);
	} else if (gitconfig && S_ISREG(now->mode)) {
		/* A changed file matters for the keys it gains; a new one
		 * always (git reads keys the list above may not know yet). */
		if (!config_detail(dirfd, name, old, kind, &detail)) {
			if (old) {
				c->r->benign++;
				return;
			}
			detail = sh_xstrdup("a new file");
		}
	} else if (old && (old->flags & AU_E_UNVERIFIABLE) && old->st.ctime_ns == now->ctime_ns) {
		detail = sh_xstrdup("changed just before launch; content could not be verified");
	} else if (!S_ISREG(now->mode) && !S_ISDIR(now->mode)) {
		detail = sh_xstrdup("not a regular file");
	}
	add(c, old ? SH_AUDIT_CHANGED : SH_AUDIT_NEW, kind, name, detail);
}

static void removed_subtree(struct cmp *c, uint32_t node)
{
	const struct au_node *n = &c->m->nodes[node];
	size_t old = push(c, mname(c, n->name));

	for (uint32_t i = 0; i < n->nent; i++) {
		const struct au_ent *e = &c->m->ents[n->ent0 + i];
		add(c, SH_AUDIT_REMOVED, e->kind, mname(c, e->name), NULL);
	}
	for (uint32_t i = 0; i < n->nchild; i++)
		removed_subtree(c, n->child0 + i);
	pop(c, old);
}

static void cmp_dir(struct cmp *c, int fd, int64_t node, uint8_t zone, uint8_t zone_kind,
		    size_t depth);

/* Subdirectory `name` of fd; node: its snapshot node or -1. */
static void cmp_subdir(struct cmp *c, int fd, const char *name, int64_t node, uint8_t zone,
		       uint8_t zone_kind, size_t depth)
{
	const struct au_node *k = node >= 0 ? &c->m->nodes[node] : NULL;
	bool trusted = k && !(k->flags & (AU_N_RACY | AU_N_UNREADABLE | AU_N_TOODEEP));
	struct au_stat now = { 0 };
	struct stat st;
	size_t old;
	int cfd;

	if (depth + 1 > SH_AUDIT_MAX_DEPTH) {
		unaudited(c, name, 0);
		return;
	}
	if (k && fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		au_stat_from(&now, &st);
		/* An unchanged leaf without relevant entries needs no open. */
		if (trusted && !k->nchild && !k->nent && same_dir(&k->st, &now))
			return;
	}
	cfd = au_open_dir(fd, name);
	if (cfd < 0) {
		int err = errno;
		/* Unreadable at launch and untouched since: nothing new inside. */
		if (k && (k->flags & AU_N_UNREADABLE) && same_dir(&k->st, &now))
			return;
		unaudited(c, name, err);
		return;
	}
	old = push(c, name);
	cmp_dir(c, cfd, node, zone, zone_kind, depth + 1);
	pop(c, old);
	close(cfd);
}

/* The directory's entry list is the launch one: stat what was recorded. */
static void cmp_same(struct cmp *c, int fd, const struct au_node *n, size_t depth)
{
	for (uint32_t i = 0; i < n->nent; i++) {
		const struct au_ent *e = &c->m->ents[n->ent0 + i];
		const char *name = mname(c, e->name);
		struct au_stat now;
		struct stat st;

		if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			add(c, SH_AUDIT_REMOVED, e->kind, name, NULL);
			continue;
		}
		au_stat_from(&now, &st);
		cmp_entry(c, fd, name, e, e->kind, e->flags & AU_E_GITCONFIG, &now);
	}
	for (uint32_t i = 0; i < n->nchild; i++) {
		const struct au_node *k = &c->m->nodes[n->child0 + i];
		cmp_subdir(c, fd, mname(c, k->name), n->child0 + i, k->zone, k->zone_kind, depth);
	}
}

static void cmp_items(struct cmp *c, int fd, const struct au_node *n, const struct au_items *it,
		      bool *seen_e, bool *seen_c, size_t depth)
{
	for (size_t i = 0; i < it->n; i++) {
		const struct au_item *x = &it->v[i];
		int64_t idx;

		if (x->cls.kind != SH_AK_NONE) {
			struct au_stat now;
			struct stat st;
			if (fstatat(fd, x->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
				idx = find_ent(c, n, x->name);
				if (idx >= 0)
					seen_e[idx - n->ent0] = true;
				au_stat_from(&now, &st);
				cmp_entry(c, fd, x->name, idx >= 0 ? &c->m->ents[idx] : NULL,
					  x->cls.kind, x->cls.gitconfig, &now);
			}
		}
		if (x->cls.descend) {
			idx = find_child(c, n, x->name);
			if (idx >= 0)
				seen_c[idx - n->child0] = true;
			cmp_subdir(c, fd, x->name, idx, x->cls.zone, x->cls.zone_kind, depth);
		}
	}
}

/* The directory changed (or is new, or cannot be trusted): list it again. */
static void cmp_changed(struct cmp *c, int fd, const struct au_node *n, uint8_t zone,
			uint8_t zone_kind, size_t depth)
{
	struct au_items it = { 0 };
	bool *seen_e = NULL, *seen_c = NULL;
	int err = au_read_dir(fd, zone, zone_kind, depth == 0, c->dents, &it);

	if (err) {
		au_items_free(&it);
		unaudited(c, NULL, err);
		return;
	}
	if (n) {
		seen_e = sh_xcalloc(n->nent + 1, sizeof(bool));
		seen_c = sh_xcalloc(n->nchild + 1, sizeof(bool));
	}
	cmp_items(c, fd, n, &it, seen_e, seen_c, depth);
	au_items_free(&it);
	for (uint32_t i = 0; n && i < n->nent; i++)
		if (!seen_e[i]) {
			const struct au_ent *e = &c->m->ents[n->ent0 + i];
			add(c, SH_AUDIT_REMOVED, e->kind, mname(c, e->name), NULL);
		}
	for (uint32_t i = 0; n && i < n->nchild; i++)
		if (!seen_c[i])
			removed_subtree(c, n->child0 + i);
	free(seen_e);
	free(seen_c);
}

static void cmp_dir(struct cmp *c, int fd, int64_t node, uint8_t zone, uint8_t zone_kind,
		    size_t depth)
{
	const struct au_node *n = node >= 0 ? &c->m->nodes[node] : NULL;
	struct au_stat now;
	struct stat st;

	if (fstat(fd, &st) < 0) {
		unaudited(c, NULL, errno);
		return;
	}
	au_stat_from(&now, &st);
	if (n && !(n->flags & (AU_N_RACY | AU_N_UNREADABLE | AU_N_TOODEEP)) &&
	    same_dir(&n->st, &now))
		cmp_same(c, fd, n, depth);
	else
		cmp_changed(c, fd, n, zone, zone_kind, depth);
}

int sh_audit_compare(const char *workdir, const struct sh_audit_manifest *before,
		     struct sh_audit_report *r, struct sh_err *e)
{
	struct cmp c = { before, r, { 0 }, NULL };
	struct stat st;
	int64_t root = 0;
	int fd;

	memset(r, 0, sizeof(*r));
	if (!before || !before->valid)
		return sh_fail(e, SH_EXIT_SETUP, 0, "audit: no launch snapshot to compare with");
	/* The session may have removed the workdir, or (with a writable
	 * parent) replaced it by a symlink: a finding, not an error, so that
	 * strict mode fails and warn mode says why. */
	fd = open(workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		add(&c, SH_AUDIT_UNREADABLE, SH_AK_WORKDIR, NULL, sh_xstrdup(strerror(err)));
		return 0;
	}
	if (st.st_dev != before->nodes[0].st.dev || st.st_ino != before->nodes[0].st.ino) {
		add(&c, SH_AUDIT_CHANGED, SH_AK_WORKDIR, NULL, NULL);
		root = -1;
	}
	c.dents = sh_xmalloc(AU_DENTS_BUF);
	cmp_dir(&c, fd, root, SH_AZ_PLAIN, 0, 0);
	close(fd);
	free(c.dents);
	sh_buf_free(&c.path);
	au_report_sort(r);
	return 0;
}
