/* The launch-time manifest: every directory's identity and change time, and
 * the metadata of every relevant entry (rules.c). */
#include "audit/audit_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes of racy files kept in all; beyond, they are "unverifiable". */
#define COPY_TOTAL_MAX (16u << 20)

struct snap {
	struct sh_audit_manifest *m;
	char *dents;   /* getdents64 buffer, reused by every level */
	size_t copied; /* bytes kept in AU_E_COPY entries */
};

static uint32_t add_name(struct sh_audit_manifest *m, const char *s)
{
	size_t n = strlen(s) + 1, off = m->names_len;

	sh_xgrow(&m->names, &m->names_cap, m->names_len + n, 1);
	memcpy(m->names + off, s, n);
	m->names_len += n;
	return (uint32_t)off;
}

static uint32_t new_nodes(struct sh_audit_manifest *m, size_t n)
{
	size_t first = m->n_nodes;

	sh_xgrow(&m->nodes, &m->cap_nodes, m->n_nodes + n, sizeof(*m->nodes));
	memset(m->nodes + first, 0, n * sizeof(*m->nodes));
	m->n_nodes += n;
	return (uint32_t)first;
}

static bool is_racy(const struct sh_audit_manifest *m, const struct au_stat *st)
{
	return st->ctime_ns >= m->racy_after_ns || st->mtime_ns >= m->racy_after_ns;
}

/* A recently changed file keeps its bytes: the compare then checks content
 * when the metadata looks the same.  Git config files keep their risky keys,
 * so the compare can tell which ones a change added. */
static void fill_ent(struct snap *s, int dirfd, const struct au_item *it, struct au_ent *e)
{
	bool racy = S_ISREG(e->st.mode) && is_racy(s->m, &e->st);
	char *buf = NULL;
	size_t len = 0;
	int err = 0;

	if (!S_ISREG(e->st.mode) || (!racy && !it->cls.gitconfig))
		return;
	err = au_read_file(dirfd, it->name, &buf, &len);
	if (it->cls.gitconfig) {
		e->flags |= AU_E_GITCONFIG;
		if (err || au_gitconfig_keys(buf, len, e->kind, &e->keys) < 0)
			e->flags |= AU_E_BADCONFIG;
	}
	if (racy && (err || s->copied + len > COPY_TOTAL_MAX)) {
		e->flags |= AU_E_UNVERIFIABLE;
	} else if (racy) {
		e->flags |= AU_E_COPY;
		e->content = buf;
		e->content_len = len;
		s->copied += len;
		buf = NULL;
	}
	free(buf);
}

static void add_entries(struct snap *s, int dirfd, uint32_t node, const struct au_items *it)
{
	struct sh_audit_manifest *m = s->m;

	m->nodes[node].ent0 = (uint32_t)m->n_ents;
	for (size_t i = 0; i < it->n; i++) {
		const struct au_item *x = &it->v[i];
		struct au_ent *e;
		struct stat st;

		if (x->cls.kind == SH_AK_NONE)
			continue;
		if (fstatat(dirfd, x->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* vanished since getdents: it is not there */
		sh_xgrow(&m->ents, &m->cap_ents, m->n_ents + 1, sizeof(*m->ents));
		e = &m->ents[m->n_ents++];
		memset(e, 0, sizeof(*e));
		au_stat_from(&e->st, &st);
		e->name = add_name(m, x->name);
		e->kind = x->cls.kind;
		fill_ent(s, dirfd, x, e);
	}
	m->nodes[node].nent = (uint32_t)(m->n_ents - m->nodes[node].ent0);
}

static void snap_dir(struct snap *s, int fd, uint32_t node, size_t depth, uint64_t parent_dev);

/* Children get consecutive nodes (sorted, as the items are) before any of
 * them is walked, so a directory's subdirectories can be binary-searched. */
static void add_children(struct snap *s, int fd, uint32_t node, const struct au_items *it,
			 size_t depth)
{
	struct sh_audit_manifest *m = s->m;
	size_t n = 0;
	uint32_t first, k = 0;

	for (size_t i = 0; i < it->n; i++)
		n += it->v[i].cls.descend;
	first = new_nodes(m, n);
	m->nodes[node].child0 = first;
	m->nodes[node].nchild = (uint32_t)n;
	for (size_t i = 0; i < it->n; i++) {
		struct au_node *c;
		if (!it->v[i].cls.descend)
			continue;
		c = &m->nodes[first + k++];
		c->name = add_name(m, it->v[i].name);
		c->zone = it->v[i].cls.zone;
		c->zone_kind = it->v[i].cls.zone_kind;
		c->flags = m->nodes[node].flags & AU_N_UNTRUSTED;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t c = first + i;
		int cfd;

		if (depth + 1 > SH_AUDIT_MAX_DEPTH) {
			m->nodes[c].flags |= AU_N_TOODEEP;
			continue;
		}
		cfd = au_open_dir(fd, m->names + m->nodes[c].name);
		if (cfd < 0) {
			struct stat st;
			m->nodes[c].flags |= AU_N_UNREADABLE;
			m->nodes[c].err = errno;
			/* Kept so the compare can tell "still untouched" apart. */
			if (fstatat(fd, m->names + m->nodes[c].name, &st, AT_SYMLINK_NOFOLLOW) == 0)
				au_stat_from(&m->nodes[c].st, &st);
			continue;
		}
		snap_dir(s, cfd, c, depth + 1, m->nodes[node].st.dev);
		close(cfd);
	}
}

static void snap_dir(struct snap *s, int fd, uint32_t node, size_t depth, uint64_t parent_dev)
{
	struct sh_audit_manifest *m = s->m;
	struct au_items it = { 0 };
	struct au_node *n = &m->nodes[node];
	struct stat st;
	int err;

	if (fstat(fd, &st) < 0) {
		n->flags |= AU_N_UNREADABLE;
		n->err = errno;
		return;
	}
	if (depth == 0 || st.st_dev != parent_dev) {
		if (au_fs_untrusted(fd))
			n->flags |= AU_N_UNTRUSTED;
	}
	au_stat_from(&n->st, &st);
	if (is_racy(m, &n->st) || (n->flags & AU_N_UNTRUSTED))
		n->flags |= AU_N_RACY;
	err = au_read_dir(fd, n->zone, n->zone_kind, depth == 0, s->dents, &it);
	if (err) {
		n->flags |= AU_N_UNREADABLE;
		n->err = err;
	} else {
		add_entries(s, fd, node, &it);
		add_children(s, fd, node, &it, depth);
	}
	au_items_free(&it);
}

int sh_audit_snapshot(const char *workdir, struct sh_audit_manifest *m, struct sh_err *e)
{
	return au_snapshot(workdir, au_now_ns() - AU_RACY_NS, m, e);
}

int au_snapshot(const char *workdir, int64_t racy_after_ns, struct sh_audit_manifest *m,
		struct sh_err *e)
{
	struct snap s = { m, NULL, 0 };
	int fd;

	memset(m, 0, sizeof(*m));
	fd = open(workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "audit: cannot open workdir '%s'", workdir);
	m->racy_after_ns = racy_after_ns;
	s.dents = sh_xmalloc(AU_DENTS_BUF);
	new_nodes(m, 1);
	m->nodes[0].name = add_name(m, "");
	snap_dir(&s, fd, 0, 0, 0);
	close(fd);
	free(s.dents);
	if (m->nodes[0].flags & AU_N_UNREADABLE) {
		int err = m->nodes[0].err;
		sh_audit_manifest_free(m);
		return sh_fail(e, SH_EXIT_SETUP, err, "audit: cannot read workdir '%s'", workdir);
	}
	m->valid = true;
	return 0;
}

void sh_audit_manifest_free(struct sh_audit_manifest *m)
{
	for (size_t i = 0; i < m->n_ents; i++) {
		free(m->ents[i].content);
		sh_strv_free(&m->ents[i].keys);
	}
	free(m->ents);
	free(m->nodes);
	free(m->names);
	memset(m, 0, sizeof(*m));
}
