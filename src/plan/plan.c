/* The planner: compiles an evaluated policy into mounts and Landlock rules.
 *
 * Pure apart from lstat/readlink/readdir of the host (to learn what exists,
 * to expand prefix/regex filters, and, in fallback mode, to split grants).
 * It never creates, changes or opens for writing anything on the host.
 *
 * ALGORITHM
 *
 * 1. Candidates.  Every path argument of a rule covering one of the four
 *    queries below (literal/subpath, recursively through require-*), plus
 *    "/", $HOME and the workdir.  prefix filters are expanded by listing the
 *    prefix's directory; regex filters by a bounded walk from the directory
 *    of the regex's literal leading part (depth 4, 2000 entries per regex,
 *    20000 in all).  Expansions are reported in notes->expansions.
 *    Each candidate is walked component by component with lstat (cached):
 *    a symlink met on the way is itself a candidate.  A ROOT-OWNED symlink
 *    outside $HOME and the workdir (/bin -> usr/bin, /lib64 -> usr/lib64,
 *    /usr/bin/sh -> dash) is resolved and the candidate continues at its
 *    target; the original spelling is remembered as an ALIAS of the
 *    canonical path.  Any other symlink (attacker-controlled: $HOME, the
 *    workdir, user-owned) is never followed: what lies behind it is not
 *    planned (notes->warnings says so when it was granted).
 *
 * 2. Decisions.  For each existing candidate: the NODE decisions
 *    R = file-read-data, W = file-write-data, M = file-read-metadata,
 *    X = process-exec on the path, and for directories the INTERIOR
 *    decisions on path + "/\001", a child name no rule can mention.  Because
 *    every path a literal/subpath/expanded filter names is a candidate, the
 *    interior decision is exactly what applies to every descendant that is
 *    not itself (below) a candidate.  An object with aliases is matched
 *    under all its names: per query the verdict of the LATEST matching rule
 *    over all names wins (last rule wins, as in SBPL).  The four queries are
 *    answered in one backward scan over the rules (one path match per rule).
 *    Mode = rw (R and W) / ro (R) / meta (M only) / none.  Write-only is not
 *    representable and counts as its metadata mode.
 *
 * 3. Mounts.  Candidates are sorted so that parents precede their subtrees
 *    and walked top-down with the CONTEXT of the nearest mount above: none
 *    (the empty root, a skeleton dir, a mask, the private /tmp) or a ro/rw
 *    host bind (plus whether exec is allowed in it).
 *      dir, interior ro/rw != context        -> BIND (interior mode)
 *      dir, interior none, context bound     -> MASK (empty ro tmpfs)
 *      dir, context none, node visible (M/R) -> DIR (skeleton)
 *      file, node mode != context            -> BIND (ro/rw) or MASK (empty file)
 *      same mode but exec differs            -> a same-mode bind (its own
 *                                               Landlock node, see 6)
 *      dir whose own write is denied in rw   -> a same-mode bind (a
 *                                               mountpoint cannot be renamed
 *                                               or removed)
 *    Any mount placed in a none context gets DIR skeletons for its missing
 *    ancestors.  Symlinks: in a none context a readable symlink becomes
 *    SYMLINK (target = readlink, verbatim); inside a bind it is already
 *    visible as itself.  Sockets, fifos and devices are never bound.
 *    Missing candidates are never created on the host: a denied one inside
 *    a writable context is listed in notes->missing.
 *
 * 4. Pins.  Every MASK or BIND nested in a WRITABLE bind gets same-mode
 *    binds of each intermediate directory between the enclosing bind and
 *    itself, so `mv .git .git.old; mkdir .git` fails with EBUSY instead of
 *    carrying the protections away.  They print as "pin-rw".
 *
 * 5. Built-ins: PROC /proc, DEV /dev, TMPFS /tmp (1 GiB) and /dev/shm
 *    (256 MiB), always, private.  The host's /proc and /dev are never bound
 *    (rules below them are satisfied by the built-ins); paths below /tmp
 *    (a workdir in /tmp) are bound on top of the private tmpfs.  Mounts are
 *    sorted parents first (by component, stable).
 *
 * 6. Landlock, from the same mounts.  The mounts form a tree; each node has
 *    OWN rights (bind: READ, +WRITE if rw, +EXEC if exec is allowed; masks,
 *    skeletons and symlinks inherit, /tmp and /dev/shm read-write(-exec) per
 *    policy, /dev read-write, /proc read).  A rule at a node may only grant
 *    what is allowed in its whole subtree (SAFE = own rights intersected
 *    with the SAFE rights of nested nodes), because Landlock is allow-only.
 *    Rights allowed at a node but not safe there are SPLIT: granted on each
 *    existing host entry of the directory that is not on the way to the
 *    restricted node (symlinks skipped), with a warning that entries created
 *    later get nothing.  With mounts, only EXEC needs that (the mount layer
 *    already enforces read-only and hidden); in FALLBACK mode (no user
 *    namespace: Landlock is the only layer) read and write do too, masks
 *    have no rights, and no mounts are emitted at all.  Fallback also gets
 *    explicit device rules instead of /dev, and the host's /tmp only if the
 *    policy grants it explicitly.
 */
#include "plan/plan.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan/expand.h"
#include "util/str.h"
#include "util/tpoint.h"
#include "util/escape.h"

#define TMP_SIZE (1ull << 30)
#define SHM_SIZE (256ull << 20)
#define REGEX_MAX_ENTRIES 2000
#define REGEX_MAX_DEPTH 4
#define EXPAND_TOTAL_MAX 20000
#define PREFIX_MAX_ENTRIES 4096
#define SPLIT_MAX_ENTRIES 1024
#define MAX_LINK_HOPS 40
#define MAX_CANDIDATES 100000

enum { Q_R, Q_W, Q_M, Q_X, NQ };
#define Q_ALL ((1u << NQ) - 1)
static const char *const qop[NQ] = { "file-read-data", "file-write-data",
				     "file-read-metadata", "process-exec" };

enum mode { MODE_NONE, MODE_META, MODE_RO, MODE_RW };

struct dec {
	bool allow[NQ];
	long idx[NQ]; /* deciding rule index, -1 for the default */
};

/* ---- a small string -> index map (open addressing, FNV-1a) ---- */

struct smap {
	char **keys;
	size_t *vals;
	uint64_t *hashes; /* of keys[i]: compared before the strings */
	size_t cap, n;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static size_t smap_slot(const struct smap *m, const char *k, uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);

	while (m->keys[i] && (m->hashes[i] != h || strcmp(m->keys[i], k) != 0))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static bool smap_get(const struct smap *m, const char *k, size_t *v)
{
	size_t i;

	if (!m->cap)
		return false;
	i = smap_slot(m, k, hash_str(k));
	if (!m->keys[i])
		return false;
	if (v)
		*v = m->vals[i];
	return true;
}

static void smap_put(struct smap *m, const char *k, size_t v)
{
	size_t i;
	uint64_t h = hash_str(k);

	if ((m->n + 1) * 2 > m->cap) {
		/* A plan has a few hundred paths: start there. */
		struct smap big = { 0 };
		big.cap = m->cap ? m->cap * 2 : 512;
		big.keys = sh_xcalloc(big.cap, sizeof(char *));
		big.vals = sh_xcalloc(big.cap, sizeof(size_t));
		big.hashes = sh_xcalloc(big.cap, sizeof(uint64_t));
		for (size_t j = 0; j < m->cap; j++) {
			if (!m->keys[j])
				continue;
			i = smap_slot(&big, m->keys[j], m->hashes[j]);
			big.keys[i] = m->keys[j];
			big.vals[i] = m->vals[j];
			big.hashes[i] = m->hashes[j];
		}
		big.n = m->n;
		free(m->keys);
		free(m->vals);
		free(m->hashes);
		*m = big;
	}
	i = smap_slot(m, k, h);
	if (!m->keys[i]) {
		m->keys[i] = sh_xstrdup(k);
		m->hashes[i] = h;
		m->n++;
	}
	m->vals[i] = v;
}

static void smap_free(struct smap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	free(m->hashes);
	memset(m, 0, sizeof(*m));
}

/* ---- paths ---- */

/* Order in which '/' sorts before every other byte, so a directory's
 * subtree directly follows it ("/a", "/a/b", "/a-b"). */
static int path_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned ca = (unsigned char)*a, cb = (unsigned char)*b;
		if (ca == '/')
			ca = 1;
		if (cb == '/')
			cb = 1;
		if (ca != cb)
			return ca < cb ? -1 : 1;
		if (!ca)
			return 0;
	}
}

/* path == dir or below it (component-wise). */
static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool strictly_under(const char *path, const char *dir)
{
	return under(path, dir) && strcmp(path, dir) != 0;
}

/* Lexical normalisation of an absolute path: "//" and "." dropped, no
 * trailing slash.  ".." pops a component only when allow_dotdot (used after
 * resolving a trusted symlink, whose parents are known to be real
 * directories); otherwise a ".." makes the path unusable (NULL). */
static char *norm_path(const char *s, bool allow_dotdot)
{
	if (!s || s[0] != '/')
		return NULL;
	/* never longer than s (plus "/" for an empty result) */
	char *out = sh_xmalloc(strlen(s) + 2);
	size_t len = 0;
	while (*s) {
		const char *e;
		size_t n;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		e = strchr(s, '/');
		n = e ? (size_t)(e - s) : strlen(s);
		if (n == 1 && s[0] == '.') {
			/* skip */
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (!allow_dotdot) {
				free(out);
				return NULL;
			}
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
		} else {
			out[len++] = '/';
			memcpy(out + len, s, n);
			len += n;
		}
		s += n;
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	return out;
}

static char *path_join(const char *dir, const char *name)
{
	if (strcmp(dir, "/") == 0)
		return sh_xasprintf("/%s", name);
	return sh_xasprintf("%s/%s", dir, name);
}

static char *path_parent(const char *p)
{
	const char *s = strrchr(p, '/');

	if (!s || s == p)
		return sh_xstrdup("/");
	return sh_xstrndup(p, (size_t)(s - p));
}

/* The built-in areas whose host content never enters the view. */
static bool in_builtin_dev_proc(const char *p)
{
	return under(p, "/proc") || under(p, "/dev");
}

/* ---- builder state ---- */

enum ntype { N_MISSING, N_DIR, N_FILE, N_SPECIAL, N_SYMLINK, N_BELOW_LINK };

struct cand {
	char *path;
	enum ntype type;
	struct dec node, inter;
	char *target; /* N_SYMLINK: readlink() */
	char *link;   /* N_BELOW_LINK: the symlink it lies below */
};

struct alias {
	char *name;  /* spelling in the policy, e.g. "/bin" */
	char *canon; /* resolved path, e.g. "/usr/bin" */
};

struct lst {
	int err; /* 0 or errno of lstat */
	mode_t mode;
	uid_t uid;
	nlink_t nlink;
	unsigned children; /* a directory: lookups of names in it so far */
};

/* A mount being planned, with its Landlock rights. */
struct pm {
	enum sh_mount_kind kind;
	char *path;
	bool writable, is_dir;
	uint64_t size;
	char *target;
	struct sh_origin why;
	unsigned rights;  /* SH_ACC_* for its content */
	bool inherit;     /* rights are the enclosing node's (masks, skeletons) */
	bool host;        /* content comes from the host (binds) */
};

/* The rules (query-relevant ones, in order) that may match some path whose
 * first component is key, each with those of its filters that may. */
struct rsel {
	size_t rule;
	bool all; /* no filter: matches everything */
	size_t *filt;
	size_t nfilt;
	/* Per filter, a directory every path it matches is in (or is): its
	 * length (0: none known) and text; see quick_anchor(). */
	size_t *alen;
	const char **astr;
};
struct rtab {
	const char *key; /* NULL: the table for any other first component */
	size_t klen;
	struct rsel *r;
	size_t nr, cap;
};

struct bld {
	const struct sh_plan_input *in;
	const struct sh_policy *p;
	struct sh_plan_notes *notes;
	unsigned *rule_q; /* per rule: which of the four queries it covers */
	/* Deciding a host path strictly below /tmp with mounts: an allow rule
	 * on /tmp as a whole grants the private tmpfs, not the host's content
	 * (check_name() skips it; see scratch_root()). */
	bool host_below_tmp;

	struct cand *c;
	size_t nc, ccap;
	struct smap cidx;

	struct alias *al;
	size_t nal, alcap;

	struct lst *ls;
	size_t nls, lscap;
	struct smap lsidx;

	struct pm *m;
	size_t nm, mcap;
	struct smap midx;

	struct smap expanded; /* "p:ARG" / "r:ARG" already expanded */
	struct sh_dircache dirs; /* directories listed for prefixes */
	size_t expand_entries;
	struct sh_plan *out;
	unsigned care; /* rights Landlock alone must carve out */

	struct rtab *tabs; /* rule index by first path component, see index_rules() */
	size_t ntabs, ntabs_cap;
	struct rtab *generic;
};

static void vnote(struct sh_strv *v, const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0 || !s)
		return;
	if (!sh_strv_contains(v, s))
		sh_strv_push_take(v, s);
	else
		free(s);
}

static void warnf(struct bld *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(struct bld *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vnote(&b->notes->warnings, fmt, ap);
	va_end(ap);
}

/* A warning that is also said on every run (notes->alerts). */
static void alertf(struct bld *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void alertf(struct bld *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vnote(&b->notes->warnings, fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	vnote(&b->notes->alerts, fmt, ap);
	va_end(ap);
}

/* Profiles name dozens of paths that do not exist under a few directories
 * ($HOME, /etc).  A directory asked about LIST_AFTER times is listed once
 * (dircache, shared with the prefixes), and a name it does not have needs
 * no lstat: 0 for such a name, else -1. */
#define LIST_AFTER 8
#define LIST_MAX 4096
static int absent_by_listing(struct bld *b, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t i, dl = slash ? (size_t)(slash - path) : 0;
	char dir[PATH_MAX];

	if (!slash || dl == 0 || dl >= sizeof(dir) || !slash[1])
		return -1;
	memcpy(dir, path, dl);
	dir[dl] = '\0';
	if (!smap_get(&b->lsidx, dir, &i) || b->ls[i].err || !S_ISDIR(b->ls[i].mode) ||
	    ++b->ls[i].children < LIST_AFTER)
		return -1;
	return sh_dircache_has(&b->dirs, dir, slash + 1, LIST_MAX) == 0 ? 0 : -1;
}

static const struct lst *lstat_cached(struct bld *b, const char *path)
{
	size_t i;
	struct stat st;
	struct lst l = { 0 };

	if (smap_get(&b->lsidx, path, &i))
		return &b->ls[i];
	if (absent_by_listing(b, path) == 0) {
		l.err = ENOENT;
	} else if (lstat(path, &st) != 0) {
		l.err = errno ? errno : ENOENT;
	} else {
		l.mode = st.st_mode;
		l.uid = st.st_uid;
		l.nlink = st.st_nlink;
	}
	sh_xgrow(&b->ls, &b->lscap, b->nls + 1, sizeof(*b->ls));
	b->ls[b->nls] = l;
	smap_put(&b->lsidx, path, b->nls);
	return &b->ls[b->nls++];
}

/* ---- evaluation ---- */

/* ---- rule index ----
 * Every path the planner asks about is absolute, so a literal, subpath or
 * prefix filter whose argument names a whole first component ("/usr/...",
 * "/etc") can only match paths with that same first component.  Such a
 * filter is ANCHORED there; any other (regex, require-*, "/", a short
 * prefix) is generic and kept in every table.  Filters that never match a
 * path (network, macOS-only) are dropped.  check_name() then scans only
 * the table of its path's first component: same rules, same order, minus
 * those that cannot match. */

/* First component of an absolute s: [s+1, end); false if none can be told. */
static bool first_comp(const char *s, const char **k, size_t *kl, bool need_slash)
{
	if (s[0] != '/' || !s[1] || s[1] == '/')
		return false;
	const char *e = strchr(s + 1, '/');
	if (!e && need_slash)
		return false;
	*k = s + 1;
	*kl = e ? (size_t)(e - (s + 1)) : strlen(s + 1);
	return true;
}

/* 1: anchored at (*k, *kl); 0: generic; -1: never matches a path. */
static int anchor_of(const struct sh_filter *f, const char **k, size_t *kl)
{
	switch (f->kind) {
	case SH_F_LITERAL:
		return first_comp(f->arg, k, kl, false) ? 1 : 0;
	case SH_F_SUBPATH: /* "/x" or "/x/..."; "/" (and "//") is generic */
		return first_comp(f->arg, k, kl, false) ? 1 : 0;
	case SH_F_PREFIX:
		/* "/x/..." only: "/x" would also match "/xyz" */
		return first_comp(f->arg, k, kl, true) ? 1 : 0;
	case SH_F_REMOTE:
	case SH_F_LOCAL:
	case SH_F_OTHER:
		return -1;
	case SH_F_REGEX:
	case SH_F_REQUIRE_ALL:
	case SH_F_REQUIRE_ANY:
	case SH_F_REQUIRE_NOT:
	default:
		return 0;
	}
}

/* A directory D such that every path f matches is D or lies below it
 * (returns its length, 0 when there is none to tell): a literal's or
 * subpath's own argument (less trailing slashes), a "/x/..." prefix's
 * directory part.  check_name() then skips f for any path without a
 * component boundary at that length, or with other bytes before it. */
static size_t quick_anchor(const struct sh_filter *f, const char **str)
{
	const char *k;
	size_t kl, n;

	*str = f->arg;
	switch (f->kind) {
	case SH_F_LITERAL:
	case SH_F_SUBPATH:
		if (!first_comp(f->arg, &k, &kl, false))
			return 0;
		n = strlen(f->arg);
		while (n > 1 && f->arg[n - 1] == '/')
			n--;
		return f->kind == SH_F_LITERAL ? strlen(f->arg) : n;
	case SH_F_PREFIX:
		if (!first_comp(f->arg, &k, &kl, true))
			return 0;
		return (size_t)(strrchr(f->arg, '/') - f->arg);
	case SH_F_REGEX:
	case SH_F_REQUIRE_ALL:
	case SH_F_REQUIRE_ANY:
	case SH_F_REQUIRE_NOT:
	case SH_F_REMOTE:
	case SH_F_LOCAL:
	case SH_F_OTHER:
	default:
		return 0;
	}
}

static void tab_add(struct rtab *t, const struct sh_rule *r, size_t rule, bool all,
		    const size_t *filt, size_t nfilt)
{
	sh_xgrow(&t->r, &t->cap, t->nr + 1, sizeof(*t->r));
	struct rsel *e = &t->r[t->nr++];
	e->rule = rule;
	e->all = all;
	e->nfilt = nfilt;
	e->filt = nfilt ? sh_xcalloc(nfilt, sizeof(size_t)) : NULL;
	e->alen = nfilt ? sh_xcalloc(nfilt, sizeof(size_t)) : NULL;
	e->astr = nfilt ? sh_xcalloc(nfilt, sizeof(char *)) : NULL;
	for (size_t j = 0; j < nfilt; j++) {
		e->filt[j] = filt[j];
		e->alen[j] = quick_anchor(&r->filters[filt[j]], &e->astr[j]);
	}
}

static bool key_eq(const struct rtab *t, const char *k, size_t kl)
{
	return t->key && t->klen == kl && memcmp(t->key, k, kl) == 0;
}

/* One filter's anchor, computed once (index_rules visits it per table). */
struct anch {
	int a; /* anchor_of(): 1 anchored, 0 generic, -1 never matches */
	const char *k;
	size_t kl;
	size_t tab; /* anchored: its table */
};

static void index_rules(struct bld *b)
{
	const struct sh_policy *p = b->p;
	size_t maxf = 1, nf = 0;

	for (size_t i = 0; i < p->nrules; i++)
		if (b->rule_q[i])
			nf += p->rules[i].nfilters;
	struct anch *an = sh_xcalloc(nf + 1, sizeof(*an));

	/* the distinct anchors, and each filter's table */
	for (size_t i = 0, f = 0; i < p->nrules; i++) {
		if (!b->rule_q[i])
			continue;
		if (p->rules[i].nfilters > maxf)
			maxf = p->rules[i].nfilters;
		for (size_t j = 0; j < p->rules[i].nfilters; j++, f++) {
			struct anch *x = &an[f];
			size_t t;
			x->a = anchor_of(&p->rules[i].filters[j], &x->k, &x->kl);
			if (x->a != 1)
				continue;
			for (t = 0; t < b->ntabs && !key_eq(&b->tabs[t], x->k, x->kl); t++)
				;
			if (t == b->ntabs) {
				sh_xgrow(&b->tabs, &b->ntabs_cap, b->ntabs + 1, sizeof(*b->tabs));
				memset(&b->tabs[b->ntabs], 0, sizeof(b->tabs[b->ntabs]));
				b->tabs[b->ntabs].key = x->k;
				b->tabs[b->ntabs].klen = x->kl;
				b->ntabs++;
			}
			x->tab = t;
		}
	}
	b->generic = sh_xcalloc(1, sizeof(*b->generic));

	/* every table: its anchored filters and all generic ones, rule order */
	size_t *sel = sh_xcalloc(maxf, sizeof(size_t));
	for (size_t t = 0; t <= b->ntabs; t++) {
		struct rtab *tab = t < b->ntabs ? &b->tabs[t] : b->generic;
		for (size_t i = 0, f = 0; i < p->nrules; i++) {
			const struct sh_rule *r = &p->rules[i];
			size_t n = 0;
			if (!b->rule_q[i])
				continue;
			if (r->nfilters == 0) {
				tab_add(tab, r, i, true, NULL, 0);
				continue;
			}
			for (size_t j = 0; j < r->nfilters; j++, f++)
				if (an[f].a == 0 || (an[f].a == 1 && t < b->ntabs && an[f].tab == t))
					sel[n++] = j;
			if (n)
				tab_add(tab, r, i, false, sel, n);
		}
	}
	free(sel);
	free(an);
}

static const struct rtab *tab_for(const struct bld *b, const char *path)
{
	const char *k;
	size_t kl;

	if (first_comp(path, &k, &kl, false))
		for (size_t t = 0; t < b->ntabs; t++)
			if (key_eq(&b->tabs[t], k, kl))
				return &b->tabs[t];
	return b->generic;
}

static void free_tab(struct rtab *t)
{
	for (size_t i = 0; t && i < t->nr; i++) {
		free(t->r[i].filt);
		free(t->r[i].alen);
		free(t->r[i].astr);
	}
	if (t)
		free(t->r);
}

/* (subpath "/tmp"): the grant of the scratch area as a whole.  With mounts
 * /tmp is a private tmpfs, so such a rule says nothing about the host's
 * directories below /tmp: a workdir /tmp/a/b is bound by itself, not with
 * its host parent /tmp/a.  Rules naming a path below /tmp (a workdir, an
 * --add-dirs) still do. */
static bool scratch_root(const struct sh_filter *f)
{
	if (f->kind != SH_F_SUBPATH || strncmp(f->arg, "/tmp", 4) != 0)
		return false;
	for (const char *t = f->arg + 4; *t; t++)
		if (*t != '/')
			return false;
	return true;
}

/* The four queries on one name, in one backward scan (same semantics as
 * sh_policy_check: the last matching rule decides, else the default). */
static void check_name(const struct bld *b, const char *path, struct dec *d)
{
	unsigned need = Q_ALL;
	const struct rtab *tab = tab_for(b, path);
	/* The component boundaries of path: bit i set when path[i] is '/' or
	 * the end (quick_anchor()); longer paths take the full checks only. */
	uint64_t bound[PATH_MAX / 64 + 1];
	size_t len = strlen(path);
	bool quick = len < PATH_MAX;
	if (quick) {
		memset(bound, 0, (len / 64 + 1) * sizeof(bound[0]));
		for (size_t k = 0; k <= len; k++)
			if (path[k] == '/' || !path[k])
				bound[k / 64] |= 1ull << (k % 64);
	}

	for (size_t x = tab->nr; x-- > 0 && need;) {
		const struct rsel *e = &tab->r[x];
		size_t i = e->rule;
		unsigned q = b->rule_q[i] & need;
		bool hit = e->all;
		if (!q)
			continue;
		for (size_t j = 0; j < e->nfilt && !hit; j++) {
			size_t al = e->alen[j];
			if (quick && al && (al > len || !(bound[al / 64] & (1ull << (al % 64))) ||
					    memcmp(path, e->astr[j], al) != 0))
				continue; /* cannot match: not in its directory */
			const struct sh_filter *f = &b->p->rules[i].filters[e->filt[j]];
			if (b->host_below_tmp && b->p->rules[i].action == SH_ALLOW && scratch_root(f))
				continue; /* a deny of /tmp as a whole still applies */
			hit = sh_filter_matches_path(f, path);
		}
		if (!hit)
			continue;
		for (int k = 0; k < NQ; k++) {
			if (!(q & (1u << k)))
				continue;
			d->allow[k] = b->p->rules[i].action == SH_ALLOW;
			d->idx[k] = (long)i;
		}
		need &= ~q;
	}
	for (int k = 0; k < NQ; k++) {
		if (!(need & (1u << k)))
			continue;
		d->allow[k] = b->p->default_action == SH_ALLOW;
		d->idx[k] = -1;
	}
}

/* Decide path (+ suffix) under all its names: per query the latest
 * matching rule over every alias wins. */
/* a + b + c in buf when it fits (the usual case: no allocation on the
 * planner's hottest path), else in *heap (freed by the caller). */
static const char *concat3(char *buf, size_t cap, char **heap, const char *a, const char *b,
			   const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);

	*heap = NULL;
	if (la + lb + lc >= cap)
		return *heap = sh_xasprintf("%s%s%s", a, b, c);
	memcpy(buf, a, la);
	memcpy(buf + la, b, lb);
	memcpy(buf + la + lb, c, lc + 1);
	return buf;
}

static void decide(const struct bld *b, const char *path, const char *suffix, struct dec *d)
{
	char buf[512], *heap;
	const char *name = concat3(buf, sizeof(buf), &heap, path, suffix, "");

	check_name(b, name, d);
	free(heap);
	for (size_t i = 0; i < b->nal; i++) {
		const struct alias *a = &b->al[i];
		struct dec o;

		if (!under(path, a->canon))
			continue;
		name = concat3(buf, sizeof(buf), &heap, a->name,
			       strcmp(a->canon, "/") == 0 ? path : path + strlen(a->canon), suffix);
		check_name(b, name, &o);
		free(heap);
		for (int k = 0; k < NQ; k++)
			if (o.idx[k] > d->idx[k]) {
				d->allow[k] = o.allow[k];
				d->idx[k] = o.idx[k];
			}
	}
}

static enum mode mode_of(const struct dec *d)
{
	if (d->allow[Q_R] && d->allow[Q_W])
		return MODE_RW;
	if (d->allow[Q_R])
		return MODE_RO;
	if (d->allow[Q_M])
		return MODE_META;
	return MODE_NONE;
}

/* What the mount layer can give content: meta-only is hidden. */
static enum mode content_of(enum mode m)
{
	return m == MODE_META ? MODE_NONE : m;
}

static struct sh_origin origin_of(const struct bld *b, long idx)
{
	if (idx < 0)
		return b->p->default_origin;
	return b->p->rules[idx].origin;
}

/* ---- candidates ---- */

static size_t add_cand(struct bld *b, const char *path)
{
	size_t i;

	if (smap_get(&b->cidx, path, &i))
		return i;
	sh_xgrow(&b->c, &b->ccap, b->nc + 1, sizeof(*b->c));
	memset(&b->c[b->nc], 0, sizeof(b->c[b->nc]));
	b->c[b->nc].path = sh_xstrdup(path);
	smap_put(&b->cidx, path, b->nc);
	return b->nc++;
}

static void add_alias(struct bld *b, const char *name, const char *canon)
{
	for (size_t i = 0; i < b->nal; i++)
		if (strcmp(b->al[i].name, name) == 0 && strcmp(b->al[i].canon, canon) == 0)
			return;
	sh_xgrow(&b->al, &b->alcap, b->nal + 1, sizeof(*b->al));
	b->al[b->nal].name = sh_xstrdup(name);
	b->al[b->nal].canon = sh_xstrdup(canon);
	b->nal++;
}

/* A symlink we may follow: owned by root and outside $HOME and the workdir,
 * i.e. not something the sandboxed side (or a cloned repo) can plant. */
static bool trusted_link(const struct bld *b, const char *path, const struct lst *l)
{
	if (l->uid != 0)
		return false;
	if (b->in->home && under(path, b->in->home))
		return false;
	if (b->in->workdir && under(path, b->in->workdir))
		return false;
	return true;
}

static char *read_link(const char *path)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return sh_xstrdup(buf);
}

/* Walk one raw path component by component; register it (resolved through
 * trusted symlinks) and every symlink met on the way. */
static void add_path(struct bld *b, const char *raw)
{
	char *orig = norm_path(raw, false);
	char *p;
	int hops = 0;

	if (!orig || b->nc >= MAX_CANDIDATES) {
		free(orig);
		return;
	}
	if (in_builtin_dev_proc(orig)) {
		free(orig);
		return;
	}
	p = sh_xstrdup(orig);
restart:
	for (size_t i = 1;;) {
		/* prefix p[0..end) is the path up to the next component */
		size_t end = i;
		const struct lst *l;

		if (p[1] == '\0')
			break; /* "/" */
		while (p[end] && p[end] != '/')
			end++;
		/* p[0..end), looked up in place: most components are found
		 * in the cache, and a copy is made only for a symlink */
		char save = p[end];
		p[end] = '\0';
		l = lstat_cached(b, p);
		if (l->err || !S_ISLNK(l->mode))
			p[end] = save;
		if (l->err)
			break; /* missing from here on */
		if (S_ISLNK(l->mode)) {
			char *pre = sh_xstrdup(p), *t, *np;
			p[end] = save;

			add_cand(b, pre); /* the link itself: a SYMLINK entry if visible */
			if (!trusted_link(b, pre, l) || hops++ >= MAX_LINK_HOPS ||
			    in_builtin_dev_proc(pre) || !(t = read_link(pre))) {
				free(pre);
				break; /* p stays as spelled: it lies below the link */
			}
			if (t[0] == '/') {
				np = sh_xasprintf("%s%s", t, p + end);
			} else {
				char *dir = path_parent(pre);
				np = sh_xasprintf("%s/%s%s", dir, t, p + end);
				free(dir);
			}
			free(t);
			free(pre);
			free(p);
			p = norm_path(np, true);
			free(np);
			if (!p || in_builtin_dev_proc(p)) {
				free(p);
				free(orig);
				return;
			}
			goto restart;
		}
		if (!p[end])
			break;
		if (!S_ISDIR(l->mode))
			break; /* ENOTDIR below: missing */
		i = end + 1;
	}
	add_cand(b, p);
	if (strcmp(p, orig) != 0)
		add_alias(b, orig, p);
	free(p);
	free(orig);
}

/* True if this filter argument was already expanded (profiles repeat
 * them through macros); records it otherwise. */
static bool once(struct bld *b, const char *kind, const char *arg)
{
	char *k = sh_xasprintf("%s%s", kind, arg);
	bool seen = smap_get(&b->expanded, k, NULL);

	if (!seen)
		smap_put(&b->expanded, k, 0);
	free(k);
	return seen;
}

static void collect_filter(struct bld *b, const struct sh_filter *f)
{
	switch (f->kind) {
	case SH_F_LITERAL:
	case SH_F_SUBPATH:
		add_path(b, f->arg);
		break;
	case SH_F_PREFIX: {
		struct sh_strv found = { 0 };
		bool capped = false;
		size_t n;

		if (once(b, "p:", f->arg))
			break;
		n = sh_expand_prefix(f->arg, PREFIX_MAX_ENTRIES, &found, &capped, &b->dirs);

		/* The prefix itself may name an exact path (or its directory). */
		add_path(b, f->arg);
		for (size_t i = 0; i < found.n; i++)
			add_path(b, found.v[i]);
		sh_strv_push_take(&b->notes->expansions,
				  sh_xasprintf("prefix %s -> %zu path%s%s", f->arg, n,
					       n == 1 ? "" : "s", capped ? " (listing capped)" : ""));
		sh_strv_free(&found);
		break;
	}
	case SH_F_REGEX: {
		struct sh_strv found = { 0 };
		bool capped = false;
		size_t n;

		if (once(b, "r:", f->arg))
			break;
		if (!f->re || b->expand_entries >= EXPAND_TOTAL_MAX) {
			if (f->re)
				sh_strv_push_take(&b->notes->expansions,
						  sh_xasprintf("regex %s -> not expanded (total cap)",
							       f->arg));
			break;
		}
		size_t start = b->expand_entries;
		size_t limit = start + REGEX_MAX_ENTRIES;
		if (limit > EXPAND_TOTAL_MAX)
			limit = EXPAND_TOTAL_MAX;
		n = sh_expand_regex(f->arg, f->re, b->in->workdir, limit, REGEX_MAX_DEPTH,
				    &b->expand_entries, &found, &capped);
		for (size_t i = 0; i < found.n; i++)
			add_path(b, found.v[i]);
		sh_strv_push_take(&b->notes->expansions,
				  sh_xasprintf("regex %s -> %zu path%s%s", f->arg, n,
					       n == 1 ? "" : "s", capped ? " (walk capped)" : ""));
		sh_strv_free(&found);
		break;
	}
	case SH_F_REQUIRE_ALL:
	case SH_F_REQUIRE_ANY:
	case SH_F_REQUIRE_NOT:
		for (size_t i = 0; i < f->nchildren; i++)
			collect_filter(b, &f->children[i]);
		break;
	case SH_F_REMOTE:
	case SH_F_LOCAL:
	case SH_F_OTHER:
		break;
	default:
		break;
	}
}

static int cand_cmp(const void *a, const void *b)
{
	return path_cmp(((const struct cand *)a)->path, ((const struct cand *)b)->path);
}

/* Type and decisions of every candidate (sorted, parents first). */
static void classify(struct bld *b)
{
	size_t *stack = sh_xcalloc(b->nc + 1, sizeof(size_t));
	size_t depth = 0;

	for (size_t i = 0; i < b->nc; i++) {
		struct cand *c = &b->c[i];
		const struct lst *l;
		long parent = -1;

		while (depth > 0 && !strictly_under(c->path, b->c[stack[depth - 1]].path))
			depth--;
		if (depth > 0)
			parent = (long)stack[depth - 1];
		stack[depth++] = i;

		if (parent >= 0 && (b->c[parent].type == N_SYMLINK ||
				    b->c[parent].type == N_BELOW_LINK)) {
			c->type = N_BELOW_LINK;
			c->link = sh_xstrdup(b->c[parent].type == N_SYMLINK ? b->c[parent].path
									     : b->c[parent].link);
		} else if (parent >= 0 && b->c[parent].type == N_MISSING) {
			c->type = N_MISSING;
		} else {
			l = lstat_cached(b, c->path);
			if (l->err)
				c->type = N_MISSING;
			else if (S_ISLNK(l->mode))
				c->type = N_SYMLINK;
			else if (S_ISDIR(l->mode))
				c->type = N_DIR;
			else if (S_ISREG(l->mode))
				c->type = N_FILE;
			else
				c->type = N_SPECIAL;
		}
		b->host_below_tmp = !b->in->fallback && strictly_under(c->path, "/tmp");
		decide(b, c->path, "", &c->node);
		if (c->type == N_DIR)
			decide(b, c->path, strcmp(c->path, "/") == 0 ? "\001" : "/\001", &c->inter);
		b->host_below_tmp = false;
		if (c->type == N_SYMLINK)
			c->target = read_link(c->path);
	}
	free(stack);
}

/* ---- mounts ---- */

static struct pm *add_pm(struct bld *b, enum sh_mount_kind kind, const char *path, bool writable,
			 bool is_dir, struct sh_origin why)
{
	struct pm *m;

	sh_xgrow(&b->m, &b->mcap, b->nm + 1, sizeof(*b->m));
	m = &b->m[b->nm];
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->path = sh_xstrdup(path);
	m->writable = writable;
	m->is_dir = is_dir;
	m->why = why;
	m->inherit = true;
	smap_put(&b->midx, path, b->nm);
	b->nm++;
	return m;
}

static bool mounted(const struct bld *b, const char *path)
{
	return smap_get(&b->midx, path, NULL);
}

/* A mount placed where there is no host content (the empty root, a mask, a
 * skeleton, the private /tmp) needs its ancestors as skeleton directories. */
static void ensure_ancestors(struct bld *b, const char *path)
{
	char *p = path_parent(path);
	struct sh_strv need = { 0 };

	while (strcmp(p, "/") != 0 && !mounted(b, p)) {
		char *q = path_parent(p);
		sh_strv_push_take(&need, p);
		p = q;
	}
	free(p);
	for (size_t i = need.n; i-- > 0;)
		add_pm(b, SH_MNT_DIR, need.v[i], false, true, (struct sh_origin){ 0 });
	sh_strv_free(&need);
}

struct ctx {
	enum mode mode; /* MODE_NONE, MODE_RO or MODE_RW */
	bool x;         /* exec allowed in the content */
};

static unsigned bind_rights(bool writable, bool x)
{
	return SH_ACC_READ | (writable ? SH_ACC_WRITE : 0) | (x ? SH_ACC_EXEC : 0);
}

static struct pm *emit_bind(struct bld *b, struct ctx parent, const char *path, enum mode m,
			    bool x, bool is_dir, struct sh_origin why)
{
	struct pm *pm;

	if (parent.mode == MODE_NONE)
		ensure_ancestors(b, path);
	pm = add_pm(b, SH_MNT_BIND, path, m == MODE_RW, is_dir, why);
	pm->rights = bind_rights(m == MODE_RW, x);
	pm->inherit = false;
	pm->host = true;
	return pm;
}

/* Which decision made a bind differ from its context: write for rw, and
 * for ro inside rw; read for ro elsewhere. */
static int bind_reason(enum mode m, struct ctx ctx)
{
	return (m == MODE_RW || ctx.mode == MODE_RW) ? Q_W : Q_R;
}

/* Walk candidates top-down and place mounts.  Returns the context below
 * each candidate in ctxs[]. */
static void place_mounts(struct bld *b)
{
	size_t *stack = sh_xcalloc(b->nc + 1, sizeof(size_t));
	struct ctx *below = sh_xcalloc(b->nc + 1, sizeof(struct ctx));
	size_t depth = 0;

	for (size_t i = 0; i < b->nc; i++) {
		struct cand *c = &b->c[i];
		struct ctx ctx = { MODE_NONE, false };
		enum mode nm = mode_of(&c->node);
		enum mode ncont = content_of(nm);
		bool nx = c->node.allow[Q_X];

		while (depth > 0 && !strictly_under(c->path, b->c[stack[depth - 1]].path))
			depth--;
		if (depth > 0)
			ctx = below[stack[depth - 1]];
		stack[depth++] = i;
		below[i] = ctx;

		if (c->node.allow[Q_W] && !c->node.allow[Q_R] && ctx.mode == MODE_NONE &&
		    c->type != N_MISSING)
			warnf(b, "%s: write without read cannot be mounted; denied", c->path);

		if (strcmp(c->path, "/tmp") == 0) {
			below[i] = (struct ctx){ MODE_NONE, false }; /* private tmpfs */
			continue;
		}
		switch (c->type) {
		case N_MISSING:
			if (ctx.mode == MODE_RW && ncont != MODE_RW &&
			    ((c->node.idx[Q_W] >= 0 && !c->node.allow[Q_W]) ||
			     (c->node.idx[Q_R] >= 0 && !c->node.allow[Q_R])) &&
			    !sh_strv_contains(&b->notes->missing, c->path))
				sh_strv_push(&b->notes->missing, c->path);
			break;
		case N_BELOW_LINK:
			if (c->node.allow[Q_R] && ctx.mode == MODE_NONE)
				warnf(b, "%s: not mounted: it lies below the symlink %s, which is never "
					 "followed (grant its target explicitly)", c->path, c->link);
			break;
		case N_SYMLINK:
			if (ctx.mode == MODE_NONE && c->target &&
			    (c->node.allow[Q_R] || c->node.allow[Q_M] || c->node.allow[Q_X])) {
				struct pm *pm;
				ensure_ancestors(b, c->path);
				pm = add_pm(b, SH_MNT_SYMLINK, c->path, false, false,
					    origin_of(b, c->node.idx[Q_R]));
				pm->target = sh_xstrdup(c->target);
			} else if (ctx.mode == MODE_RW && c->node.idx[Q_W] >= 0 && !c->node.allow[Q_W] &&
				   !b->in->fallback) {
				/* A protected name that is a symlink (a dotfile
				 * manager's settings.json, a planted .git/hooks):
				 * pinned, so it cannot be swapped for a real file. */
				struct pm *pm = add_pm(b, SH_MNT_PINLINK, c->path, false, false,
						       origin_of(b, c->node.idx[Q_W]));
				pm->target = c->target ? sh_xstrdup(c->target) : NULL;
			} else if (ctx.mode != MODE_NONE && ncont < ctx.mode) {
				warnf(b, "%s: a symlink cannot be masked; it stays visible (its target "
					 "is governed by its own rules)", c->path);
			}
			break;
		case N_SPECIAL:
			/* A denied FIFO, socket or device node inside a granted tree
			 * is masked like a file (an empty read-only file is bound over
			 * it): a read-only bind would not stop connect() on a socket. */
			if (ncont == MODE_NONE && ctx.mode != MODE_NONE) {
				long why = c->node.allow[Q_R] ? c->node.idx[Q_W] : c->node.idx[Q_R];
				add_pm(b, SH_MNT_MASK, c->path, false, false, origin_of(b, why));
			} else if (ncont != MODE_NONE && ctx.mode == MODE_NONE) {
				if (S_ISSOCK(lstat_cached(b, c->path)->mode))
					b->out->grants_socket = true;
				/* A socket or FIFO granted by name (docker.sock, the
				 * ssh-agent or X11 socket) outside any granted tree:
				 * bound by itself.  Device nodes bound this way are
				 * inert: every bind is nodev. */
				emit_bind(b, ctx, c->path, ncont, nx, false,
					  origin_of(b, c->node.idx[bind_reason(ncont, ctx)]));
			} else if (ncont != ctx.mode)
				warnf(b, "%s: not a regular file or directory; its rights cannot be "
					 "narrowed, only denied entirely", c->path);
			break;
		case N_FILE:
			if (ncont != ctx.mode && ctx.mode == MODE_RW && b->in->workdir &&
			    strictly_under(c->path, b->in->workdir) &&
			    lstat_cached(b, c->path)->nlink > 1)
				/* Protected here, but another name of the same
				 * file in the workdir would not be.  Backup tools
				 * that snapshot with hard links give every file
				 * more names (out of the view), so this is said,
				 * not refused; the audit reports a change. */
				alertf(b, "%s has other names (hard links, %lu in all): one in the "
					 "workdir would let the file be written inside; the post-session "
					 "audit reports a change (find them: find %s -samefile %s)",
				      c->path, (unsigned long)lstat_cached(b, c->path)->nlink,
				      b->in->workdir, c->path);
			if (ncont != ctx.mode) {
				if (ncont != MODE_NONE) {
					emit_bind(b, ctx, c->path, ncont, nx, false,
						  origin_of(b, c->node.idx[bind_reason(ncont, ctx)]));
				} else {
					long why = c->node.allow[Q_R] ? c->node.idx[Q_W] : c->node.idx[Q_R];
					add_pm(b, SH_MNT_MASK, c->path, false, false, origin_of(b, why));
				}
			} else if (ctx.mode != MODE_NONE && nx != ctx.x) {
				emit_bind(b, ctx, c->path, ncont, nx, false, origin_of(b, c->node.idx[Q_X]));
			}
			break;
		case N_DIR: {
			enum mode im = content_of(mode_of(&c->inter));
			bool ix = c->inter.allow[Q_X];

			if (im != ctx.mode) {
				if (im != MODE_NONE) {
					emit_bind(b, ctx, c->path, im, ix, true,
						  origin_of(b, c->inter.idx[bind_reason(im, ctx)]));
					below[i] = (struct ctx){ im, ix };
				} else if (ctx.mode != MODE_NONE) {
					long why = c->inter.allow[Q_R] ? c->inter.idx[Q_W]
								       : c->inter.idx[Q_R];
					add_pm(b, SH_MNT_MASK, c->path, false, true, origin_of(b, why));
					below[i] = (struct ctx){ MODE_NONE, false };
				} else if (nm != MODE_NONE && strcmp(c->path, "/") != 0) {
					ensure_ancestors(b, c->path);
					add_pm(b, SH_MNT_DIR, c->path, false, true,
					       origin_of(b, c->node.idx[nm == MODE_META ? Q_M : Q_R]));
				}
			} else if (ctx.mode == MODE_NONE) {
				if (nm != MODE_NONE && strcmp(c->path, "/") != 0) {
					ensure_ancestors(b, c->path);
					add_pm(b, SH_MNT_DIR, c->path, false, true,
					       origin_of(b, c->node.idx[nm == MODE_META ? Q_M : Q_R]));
				}
			} else if (ix != ctx.x) {
				emit_bind(b, ctx, c->path, im, ix, true, origin_of(b, c->inter.idx[Q_X]));
				below[i] = (struct ctx){ im, ix };
			} else if (ctx.mode == MODE_RW && !c->node.allow[Q_W] && strcmp(c->path, "/") != 0) {
				/* Its own write is denied: a mountpoint cannot be renamed or removed. */
				emit_bind(b, ctx, c->path, im, ix, true, origin_of(b, c->node.idx[Q_W]));
			}
			break;
		}
		default:
			break;
		}
	}
	free(below);
	free(stack);
}

static long enclosing(const struct bld *b, const char *path);

/* A protected name that is a symlink protects what it points to as well:
 * git runs hooks from wherever .git/hooks leads.  Its target, resolved now,
 * is bound read-only when it lies strictly inside a writable bind (outside
 * one it is not writable anyway).  A target holding the workdir or the
 * whole bind cannot be made read-only without taking the workdir with it:
 * that is said, loudly. */
static void protect_link_targets(struct bld *b)
{
	size_t n = b->nm;

	for (size_t i = 0; i < n; i++) {
		if (b->m[i].kind != SH_MNT_PINLINK)
			continue;
		char *t = realpath(b->m[i].path, NULL);
		struct stat st;
		if (!t || stat(t, &st) < 0) {
			free(t);
			alertf(b, "%s is a symlink to %s, which does not exist: what is created "
				 "there is not protected; remove the link", b->m[i].path,
			      b->m[i].target ? b->m[i].target : "?");
			continue;
		}
		long e = enclosing(b, t);
		bool under_rw = e >= 0 && b->m[e].kind == SH_MNT_BIND && b->m[e].writable;
		size_t self;
		bool rw_mount = smap_get(&b->midx, t, &self) && b->m[self].kind == SH_MNT_BIND &&
				b->m[self].writable;
		if (rw_mount || (under_rw && b->in->workdir &&
				 (strcmp(t, b->in->workdir) == 0 || strictly_under(b->in->workdir, t)))) {
			alertf(b, "%s is a symlink to %s, which stays writable (it holds the "
				 "workdir, or is a writable grant); remove the link", b->m[i].path, t);
			free(t);
			continue;
		}
		if (!under_rw || mounted(b, t)) {
			free(t);
			continue;
		}
		struct pm *pm = add_pm(b, SH_MNT_BIND, t, false, S_ISDIR(st.st_mode), b->m[i].why);
		pm->rights = bind_rights(false, b->m[e].rights & SH_ACC_EXEC);
		pm->inherit = false;
		pm->host = true;
		free(t);
	}
}

/* Nearest mount strictly above path, or -1. */
static long enclosing(const struct bld *b, const char *path)
{
	char *p = sh_xstrdup(path);

	while (strcmp(p, "/") != 0) {
		char *q = path_parent(p);
		size_t i;
		free(p);
		p = q;
		if (smap_get(&b->midx, p, &i)) {
			free(p);
			return (long)i;
		}
	}
	free(p);
	return -1;
}

static void add_pins(struct bld *b)
{
	size_t n = b->nm;

	for (size_t i = 0; i < n; i++) {
		long e;
		struct sh_strv need = { 0 };
		char *p;

		if (b->m[i].kind != SH_MNT_MASK && b->m[i].kind != SH_MNT_BIND &&
		    b->m[i].kind != SH_MNT_PINLINK)
			continue;
		e = enclosing(b, b->m[i].path);
		if (e < 0 || b->m[e].kind != SH_MNT_BIND || !b->m[e].writable)
			continue;
		p = path_parent(b->m[i].path);
		while (strcmp(p, b->m[e].path) != 0 && strcmp(p, "/") != 0) {
			char *q = path_parent(p);
			sh_strv_push_take(&need, p);
			p = q;
		}
		free(p);
		for (size_t k = need.n; k-- > 0;) {
			struct pm *pin = add_pm(b, SH_MNT_BIND, need.v[k], true, true, b->m[i].why);
			pin->rights = b->m[e].rights;
			pin->inherit = false;
			pin->host = true;
		}
		sh_strv_free(&need);
	}
}

/* Rights for the private /tmp and /dev/shm: what the policy says, and when
 * no rule speaks (the default decides) read-write-exec with mounts (it is
 * private) but nothing in fallback (it would be the host's). */
static unsigned scratch_rights(const struct bld *b, const char *dir)
{
	struct dec d;
	unsigned r = 0;
	char *q = sh_xasprintf("%s/\001", dir);

	check_name(b, q, &d);
	free(q);
	if (d.idx[Q_R] < 0 ? !b->in->fallback : d.allow[Q_R])
		r |= SH_ACC_READ;
	if (d.idx[Q_W] < 0 ? !b->in->fallback : d.allow[Q_W])
		r |= SH_ACC_WRITE;
	if (d.idx[Q_X] < 0 ? !b->in->fallback : d.allow[Q_X])
		r |= SH_ACC_EXEC;
	return r;
}

static void add_builtins(struct bld *b)
{
	struct pm *m;
	struct dec d;
	char *q;

	/* Exec is tolerated below /proc and /dev (cons_of): nothing there is a
	 * program of its own, and Landlock checks what a magic link resolves to. */
	m = add_pm(b, SH_MNT_PROC, "/proc", false, true, (struct sh_origin){ 0 });
	m->inherit = false;
	m->rights = SH_ACC_READ;
	q = sh_xstrdup("/proc/self/\001");
	check_name(b, q, &d);
	free(q);
	if (d.idx[Q_W] >= 0 && d.allow[Q_W])
		m->rights |= SH_ACC_WRITE;

	m = add_pm(b, SH_MNT_DEV, "/dev", false, true, (struct sh_origin){ 0 });
	m->inherit = false;
	m->rights = b->in->fallback ? 0 : SH_ACC_READ | SH_ACC_WRITE;

	m = add_pm(b, SH_MNT_TMPFS, "/tmp", true, true, (struct sh_origin){ 0 });
	m->size = TMP_SIZE;
	m->inherit = false;
	m->rights = scratch_rights(b, "/tmp");
	m->host = b->in->fallback;

	m = add_pm(b, SH_MNT_TMPFS, "/dev/shm", true, true, (struct sh_origin){ 0 });
	m->size = SHM_SIZE;
	m->inherit = false;
	m->rights = scratch_rights(b, "/dev/shm");
	m->host = b->in->fallback;
}

static int pm_cmp(const void *a, const void *b)
{
	return path_cmp(((const struct pm *)a)->path, ((const struct pm *)b)->path);
}

/* ---- Landlock ---- */

static void rights_str(unsigned r, char s[4])
{
	s[0] = (r & SH_ACC_READ) ? 'r' : '-';
	s[1] = (r & SH_ACC_WRITE) ? 'w' : '-';
	s[2] = (r & SH_ACC_EXEC) ? 'x' : '-';
	s[3] = '\0';
}

/* The direct child of P on the way to q (q strictly below P). */
static char *child_toward(const char *P, const char *q)
{
	size_t start = strcmp(P, "/") == 0 ? 1 : strlen(P) + 1;
	const char *e = strchr(q + start, '/');

	return e ? sh_xstrndup(q, (size_t)(e - q)) : sh_xstrdup(q);
}

static size_t group_end(const struct bld *b, const char *c, size_t i, size_t hi)
{
	while (i < hi && under(b->m[i].path, c))
		i++;
	return i;
}

/* What a node grants to its own content... */
static unsigned own_of(const struct pm *m)
{
	/* Masks, skeletons and symlinks have no host content to grant. */
	return m->inherit ? 0 : m->rights;
}

/* ...and what it tolerates from a rule placed above it.  With mounts, the
 * empty content of masks and skeletons tolerates anything; in fallback the
 * host content is there and must get nothing. */
static unsigned cons_of(const struct pm *m, bool fallback)
{
	if (m->kind == SH_MNT_PROC || m->kind == SH_MNT_DEV)
		return m->rights | SH_ACC_EXEC;
	if (!m->inherit)
		return m->rights;
	return fallback ? 0 : (SH_ACC_READ | SH_ACC_WRITE | SH_ACC_EXEC);
}

static bool host_of(const struct pm *m, bool parent_host, bool fallback)
{
	if (fallback)
		return true;
	if (m->kind == SH_MNT_SYMLINK)
		return parent_host;
	return m->host;
}

/* Rights a rule at P may grant without reaching a nested node that does
 * not allow them (only the rights in b->care are checked). */
static unsigned safe_of(struct bld *b, const char *P, unsigned cons, size_t lo, size_t hi)
{
	unsigned s = cons;
	size_t i = lo;

	while (i < hi) {
		char *c = child_toward(P, b->m[i].path);
		size_t j = group_end(b, c, i, hi);
		unsigned sub;

		if (strcmp(b->m[i].path, c) == 0)
			sub = safe_of(b, c, cons_of(&b->m[i], b->in->fallback), i + 1, j);
		else
			sub = safe_of(b, c, cons, i, j);
		s &= sub | ~b->care;
		free(c);
		i = j;
	}
	return s;
}

static bool is_tchild(const struct bld *b, const char *P, const char *name, size_t lo, size_t hi)
{
	char *c = path_join(P, name);
	bool r = false;

	for (size_t i = lo; i < hi && !r; i++)
		r = under(b->m[i].path, c);
	free(c);
	return r;
}

/* Grant own on every existing entry of P that is not on the way to a nested
 * node (those are placed by the recursion). */
static void split(struct bld *b, const char *P, unsigned own, unsigned missing, bool host,
		  size_t lo, size_t hi)
{
	char rs[4];
	DIR *d;
	struct dirent *de;
	size_t n = 0;

	rights_str(missing, rs);
	if (!host) {
		warnf(b, "%s: '%s' cannot be granted on its content (restricted below it)", P, rs);
		return;
	}
	d = opendir(P);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *full;
		const struct lst *l;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (is_tchild(b, P, de->d_name, lo, hi))
			continue;
		full = path_join(P, de->d_name);
		l = lstat_cached(b, full);
		if (l->err || S_ISLNK(l->mode)) {
			/* A rule on a symlink would follow it: never. */
			free(full);
			continue;
		}
		if (++n > SPLIT_MAX_ENTRIES) {
			warnf(b, "%s: more than %d entries; '%s' not granted on the rest", P,
			      SPLIT_MAX_ENTRIES, rs);
			free(full);
			break;
		}
		sh_plan_add_ll(b->out, full, own);
		free(full);
	}
	closedir(d);
	warnf(b, "%s%s: '%s' granted on its %zu existing entries only (a path below it is "
		 "restricted); entries created after launch do not get it",
	      b->in->fallback ? "fallback: " : "", P, rs, n > SPLIT_MAX_ENTRIES ? SPLIT_MAX_ENTRIES : n);
}

static void place_ll(struct bld *b, const char *P, unsigned own, unsigned cons, bool host,
		     unsigned g, size_t lo, size_t hi)
{
	unsigned s = own & safe_of(b, P, cons, lo, hi);
	unsigned rest;
	size_t i = lo;

	if (s & ~g)
		sh_plan_add_ll(b->out, P, s);
	rest = own & ~(g | s);
	if (rest)
		split(b, P, own, rest, host, lo, hi);
	while (i < hi) {
		char *c = child_toward(P, b->m[i].path);
		size_t j = group_end(b, c, i, hi);

		if (strcmp(b->m[i].path, c) == 0) {
			const struct pm *m = &b->m[i];
			if (b->in->fallback && m->kind == SH_MNT_MASK && own)
				warnf(b, "fallback: %s cannot be hidden (no mount namespace); it is "
					 "left out of every grant", c);
			if (m->kind != SH_MNT_SYMLINK && m->kind != SH_MNT_PINLINK) /* Landlock checks the target */
				place_ll(b, c, own_of(m), cons_of(m, b->in->fallback),
					 host_of(m, host, b->in->fallback), g | s, i + 1, j);
		} else {
			place_ll(b, c, own, cons, host, g | s, i, j);
		}
		free(c);
		i = j;
	}
}

static void build_landlock(struct bld *b)
{
	b->care = b->in->fallback ? (SH_ACC_READ | SH_ACC_WRITE | SH_ACC_EXEC) : SH_ACC_EXEC;
	if (b->nm > 0 && strcmp(b->m[0].path, "/") == 0)
		place_ll(b, "/", own_of(&b->m[0]), cons_of(&b->m[0], b->in->fallback),
			 host_of(&b->m[0], false, b->in->fallback), 0, 1, b->nm);
	else
		place_ll(b, "/", 0, b->in->fallback ? 0 : (SH_ACC_READ | SH_ACC_WRITE | SH_ACC_EXEC),
			 b->in->fallback, 0, 0, b->nm);
	if (b->in->fallback) {
		/* Not /dev/pts: there are the user's other terminals (a
		 * password typed in one could be read); the session's own pty
		 * is added when it exists (enforce/sandbox.c). */
		static const char *const devs[] = { "/dev/null", "/dev/zero", "/dev/full",
						    "/dev/random", "/dev/urandom", "/dev/tty",
						    "/dev/ptmx" };
		for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++)
			sh_plan_add_ll(b->out, devs[i], SH_ACC_READ | SH_ACC_WRITE);
		warnf(b, "fallback: no mount namespace: denied paths are unreadable but their "
			 "names and metadata stay visible");
		warnf(b, "fallback: of the host's terminals only the session's own is reachable, "
			 "so programs inside cannot open new pseudo-terminals");
		if (b->out->grants_socket)
			warnf(b, "fallback: a Unix socket is granted by name, so socket(AF_UNIX) is "
				 "allowed and every socket file on the host the user may connect to "
				 "is reachable (Landlock does not mediate connect)");
		else
			warnf(b, "fallback: the command cannot create Unix sockets (socketpair() "
				 "works): nothing would keep the host's socket files out of reach");
		for (size_t i = 0; i < b->nm; i++) {
			char rs[4];
			if (b->m[i].kind != SH_MNT_TMPFS || !b->m[i].rights)
				continue;
			rights_str(b->m[i].rights, rs);
			warnf(b, "fallback: %s is the host's, shared with other programs (their files "
				 "and sockets); '%s' granted because a rule allows it", b->m[i].path, rs);
		}
	}
}

/* ---- entry points ---- */

void sh_plan_notes_free(struct sh_plan_notes *n)
{
	if (!n)
		return;
	sh_strv_free(&n->missing);
	sh_strv_free(&n->expansions);
	sh_strv_free(&n->warnings);
	sh_strv_free(&n->alerts);
}

static void bld_free(struct bld *b)
{
	for (size_t i = 0; i < b->nc; i++) {
		free(b->c[i].path);
		free(b->c[i].target);
		free(b->c[i].link);
	}
	free(b->c);
	smap_free(&b->cidx);
	sh_dircache_free(&b->dirs);
	for (size_t i = 0; i < b->nal; i++) {
		free(b->al[i].name);
		free(b->al[i].canon);
	}
	free(b->al);
	free(b->ls);
	smap_free(&b->lsidx);
	for (size_t i = 0; i < b->nm; i++) {
		free(b->m[i].path);
		free(b->m[i].target);
	}
	free(b->m);
	smap_free(&b->midx);
	smap_free(&b->expanded);
	free(b->rule_q);
	for (size_t t = 0; t < b->ntabs; t++)
		free_tab(&b->tabs[t]);
	free(b->tabs);
	free_tab(b->generic);
	free(b->generic);
}

int sh_plan_build_ex(const struct sh_plan_input *in, struct sh_plan *out,
		     struct sh_plan_notes *notes, struct sh_err *e)
{
	struct bld b = { 0 };
	struct sh_plan_notes local = { 0 };
	struct stat st;

	if (!in || !in->policy || !out)
		return sh_fail(e, SH_EXIT_SETUP, EINVAL, "plan: no policy");
	if (lstat("/", &st) != 0)
		return sh_fail(e, SH_EXIT_SETUP, errno, "plan: cannot stat /");
	b.in = in;
	b.p = in->policy;
	b.notes = notes ? notes : &local;
	b.out = out;
	out->net = in->net;
	out->proxy_port = in->proxy_port;
	out->use_userns = !in->fallback;

	b.rule_q = sh_xcalloc(b.p->nrules + 1, sizeof(unsigned));
	for (size_t i = 0; i < b.p->nrules; i++) {
		const struct sh_rule *r = &b.p->rules[i];
		for (size_t j = 0; j < r->nops; j++)
			for (int k = 0; k < NQ; k++)
				if (sh_op_covers(r->ops[j], qop[k]))
					b.rule_q[i] |= 1u << k;
	}

	index_rules(&b);
	SH_TP("P-index");

	/* 1. candidates */
	add_path(&b, "/");
	add_path(&b, "/tmp"); /* the private tmpfs: a context boundary */
	if (in->home)
		add_path(&b, in->home);
	if (in->workdir)
		add_path(&b, in->workdir);
	for (size_t i = 0; i < b.p->nrules; i++) {
		if (!b.rule_q[i])
			continue;
		for (size_t j = 0; j < b.p->rules[i].nfilters; j++)
			collect_filter(&b, &b.p->rules[i].filters[j]);
	}
	if (b.nc >= MAX_CANDIDATES)
		warnf(&b, "more than %d candidate paths; the rest were not planned",
		      MAX_CANDIDATES);
	SH_TP("P-cands");

	/* 2. decisions (sorted: parents first) */
	qsort(b.c, b.nc, sizeof(*b.c), cand_cmp);
	classify(&b);
	SH_TP("P-classify");

	/* 3-5. mounts */
	add_builtins(&b);
	place_mounts(&b);
	if (!in->fallback) {
		protect_link_targets(&b);
		add_pins(&b);
	}
	qsort(b.m, b.nm, sizeof(*b.m), pm_cmp);
	SH_TP("P-mounts");

	/* 6. Landlock */
	build_landlock(&b);
	SH_TP("P-landlock");

	if (!in->fallback)
		for (size_t i = 0; i < b.nm; i++) {
			const struct pm *m = &b.m[i];
			struct sh_mount *o =
				sh_plan_add_mount(out, m->kind, m->path, m->writable, m->is_dir,
						  m->why.source ? &m->why : NULL);
			o->size = m->size;
			if (m->target)
				o->target = sh_xstrdup(m->target);
		}
	SH_TP("P-out");
	bld_free(&b);
	sh_plan_notes_free(&local);
	SH_TP("P-freed");
	return 0;
}

int sh_plan_build(const struct sh_plan_input *in, struct sh_plan *out, struct sh_err *e)
{
	return sh_plan_build_ex(in, out, NULL, e);
}

/* ---- printing ---- */

static void print_size(uint64_t n, FILE *f)
{
	if (n && n % (1ull << 30) == 0)
		fprintf(f, " size=%lluG", (unsigned long long)(n >> 30));
	else if (n && n % (1ull << 20) == 0)
		fprintf(f, " size=%lluM", (unsigned long long)(n >> 20));
	else if (n)
		fprintf(f, " size=%llu", (unsigned long long)n);
}

void sh_plan_print(const struct sh_plan *p, FILE *f)
{
	fprintf(f, "mode %s\n", p->use_userns ? "namespaces" : "fallback (landlock only)");
	for (size_t i = 0; i < p->nmounts; i++) {
		const struct sh_mount *m = &p->mounts[i];
		const char *what = "?";

		switch (m->kind) {
		case SH_MNT_BIND: {
			/* A bind with the same mode as the bind it is nested in
			 * changes nothing but makes a mountpoint: a pin. */
			const struct sh_mount *enc = NULL;
			for (size_t j = i; j-- > 0;)
				if (strictly_under(m->path, p->mounts[j].path)) {
					enc = &p->mounts[j];
					break;
				}
			if (enc && enc->kind == SH_MNT_BIND && enc->writable == m->writable && m->is_dir)
				what = m->writable ? "pin-rw" : "pin-ro";
			else
				what = m->writable ? "bind-rw" : "bind-ro";
			break;
		}
		case SH_MNT_MASK:
			what = "mask";
			break;
		case SH_MNT_DIR:
			what = "dir";
			break;
		case SH_MNT_TMPFS:
			what = "tmpfs";
			break;
		case SH_MNT_PROC:
			what = "proc";
			break;
		case SH_MNT_DEV:
			what = "dev";
			break;
		case SH_MNT_SYMLINK:
			what = "symlink";
			break;
		case SH_MNT_PINLINK:
			what = "pin-link";
			break;
		default:
			break;
		}
		fprintf(f, "%s ", what);
		sh_fput_escaped(f, m->path, false); /* may be a name found in the workdir */
		if (m->kind == SH_MNT_SYMLINK || m->kind == SH_MNT_PINLINK) {
			fputs(" -> ", f);
			sh_fput_escaped(f, m->target ? m->target : "?", false);
		}
		if (m->kind == SH_MNT_TMPFS)
			print_size(m->size, f);
		if ((m->kind == SH_MNT_MASK || m->kind == SH_MNT_BIND) && !m->is_dir)
			fputs(" (file)", f);
		if (m->why.source)
			fprintf(f, "  (%s:%d)", m->why.source, m->why.line);
		fputc('\n', f);
	}
	for (size_t i = 0; i < p->nll; i++) {
		char rs[4];
		rights_str(p->ll[i].access, rs);
		fprintf(f, "landlock %s %s\n", p->ll[i].path, rs);
	}
	switch (p->net) {
	case SH_NETMODE_NONE:
		fputs("net none\n", f);
		break;
	case SH_NETMODE_FULL:
		fputs("net full\n", f);
		break;
	case SH_NETMODE_FILTERED:
		fprintf(f, "net filtered proxy-port=%u\n", (unsigned)p->proxy_port);
		break;
	default:
		fputs("net ?\n", f);
		break;
	}
}
