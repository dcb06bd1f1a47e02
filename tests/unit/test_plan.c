/* Planner: policy -> mounts + Landlock rules, on fixture trees. Pure (no
 * privileges): sh_plan_build only looks at the host. */
#include "../harness.h"

#include <regex.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "plan/expand.h"
#include "plan/plan.h"
#include "policy/policy.h"
#include "profile/profile.h"
#include "util/str.h"

/* ---- helpers ---- */

static int t_line;

/* Append one rule: ops separated by spaces, one filter. */
static void rule(struct sh_policy *p, enum sh_action a, const char *ops, enum sh_filter_kind k,
		 const char *arg)
{
	struct sh_rule r = { 0 };
	struct sh_strv ov = { 0 };

	sh_strv_split(&ov, ops, ' ');
	r.action = a;
	r.nops = ov.n;
	r.ops = sh_xcalloc(ov.n, sizeof(char *));
	for (size_t i = 0; i < ov.n; i++)
		r.ops[i] = sh_xstrdup(ov.v[i]);
	sh_strv_free(&ov);
	if (arg) {
		r.nfilters = 1;
		r.filters = sh_xcalloc(1, sizeof(struct sh_filter));
		r.filters[0].kind = k;
		r.filters[0].arg = sh_xstrdup(arg);
		if (k == SH_F_REGEX) {
			r.filters[0].re = sh_xmalloc(sizeof(regex_t));
			if (regcomp(r.filters[0].re, arg, REG_EXTENDED | REG_NOSUB) != 0)
				abort();
		}
	}
	r.origin.source = sh_policy_source(p, "t.sb");
	r.origin.line = ++t_line;
	r.linux_meaningful = true;
	sh_policy_add(p, &r);
}

#define ALLOW(p, ops, k, arg) rule((p), SH_ALLOW, (ops), (k), (arg))
#define DENY(p, ops, k, arg) rule((p), SH_DENY, (ops), (k), (arg))

static char *cat(const char *a, const char *b)
{
	return sh_xasprintf("%s%s", a, b);
}

static void mkdirs(const char *base, const char *rel)
{
	char *p = cat(base, rel);
	for (char *s = p + strlen(base) + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	mkdir(p, 0755);
	free(p);
}

static void touch(const char *base, const char *rel)
{
	char *p = cat(base, rel);
	t_write_file(p, "x");
	free(p);
}

/* Escape ERE metacharacters of a fixture path. */
static char *re_quote(const char *s)
{
	struct sh_buf b = { 0 };
	for (; *s; s++) {
		if (strchr(".[](){}*+?|^$\\", *s))
			sh_buf_putc(&b, '\\');
		sh_buf_putc(&b, *s);
	}
	return sh_buf_take(&b);
}

struct fx {
	char *root, *home, *work;
	struct sh_policy pol;
	struct sh_plan plan;
	struct sh_plan_notes notes;
	char *text; /* "\n" + sh_plan_print output */
};

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	/* Outside /tmp: the private /tmp is a context of its own (see
	 * plan_workdir_in_tmp_is_bound_over_private_tmp). */
	f->root = sh_xstrdup("/var/tmp/sh-plan-XXXXXX");
	if (!mkdtemp(f->root)) {
		free(f->root);
		f->root = t_mkdtemp();
	}
	f->home = cat(f->root, "/home/u");
	f->work = cat(f->root, "/w");
	mkdirs(f->root, "/home/u/.codex");
	mkdirs(f->root, "/home/u/.ssh");
	touch(f->root, "/home/u/.ssh/id_ed25519");
	touch(f->root, "/home/u/.codex/auth.json");
	touch(f->root, "/home/u/.codex/config.toml");
	mkdirs(f->root, "/w/.git/hooks");
	mkdirs(f->root, "/w/src");
	touch(f->root, "/w/.git/config");
	touch(f->root, "/w/src/main.c");
	touch(f->root, "/w/.env");
	sh_policy_init(&f->pol);
	t_line = 0;
}

static int fx_build(struct fx *f, bool fallback)
{
	struct sh_plan_input in = { .policy = &f->pol, .home = f->home, .workdir = f->work,
				    .net = SH_NETMODE_NONE, .fallback = fallback };
	struct sh_err e = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int r;

	sh_plan_free(&f->plan);
	sh_plan_notes_free(&f->notes);
	free(f->text);
	sh_plan_init(&f->plan);
	r = sh_plan_build_ex(&in, &f->plan, &f->notes, &e);
	m = open_memstream(&buf, &len);
	fputc('\n', m);
	sh_plan_print(&f->plan, m);
	fclose(m);
	f->text = buf;
	if (r != 0)
		printf("#   build failed: %s\n", e.msg);
	if (getenv("T_PLAN_DUMP"))
		printf("%s", f->text);
	return r;
}

static void fx_free(struct fx *f)
{
	sh_plan_free(&f->plan);
	sh_plan_notes_free(&f->notes);
	sh_policy_free(&f->pol);
	t_rmtree(f->root);
	free(f->root);
	free(f->home);
	free(f->work);
	free(f->text);
}

/* Is there a whole line "what" (optionally followed by "  (origin)")? */
static bool has_line(const char *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool has_line(const char *text, const char *fmt, ...)
{
	va_list ap;
	char *line, *a, *b;
	bool r;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		abort();
	va_end(ap);
	a = sh_xasprintf("\n%s\n", line);
	b = sh_xasprintf("\n%s  (", line);
	r = strstr(text, a) || strstr(text, b);
	if (!r)
		printf("#   missing line: '%s'\n", line);
	free(line);
	free(a);
	free(b);
	return r;
}

#define HAS(f, ...) CHECK(has_line((f)->text, __VA_ARGS__))
#define HASNT(f, ...) CHECK(!has_line_quiet((f)->text, __VA_ARGS__))

static bool has_line_quiet(const char *text, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static bool has_line_quiet(const char *text, const char *fmt, ...)
{
	va_list ap;
	char *line, *a, *b;
	bool r;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		abort();
	va_end(ap);
	a = sh_xasprintf("\n%s\n", line);
	b = sh_xasprintf("\n%s  (", line);
	r = strstr(text, a) || strstr(text, b);
	if (r)
		printf("#   unexpected line: '%s'\n", line);
	free(line);
	free(a);
	free(b);
	return r;
}

static long mount_index(const struct sh_plan *p, const char *path)
{
	for (size_t i = 0; i < p->nmounts; i++)
		if (strcmp(p->mounts[i].path, path) == 0)
			return (long)i;
	return -1;
}

static bool any_ll_under(const struct sh_plan *p, const char *dir)
{
	size_t n = strlen(dir);
	for (size_t i = 0; i < p->nll; i++)
		if (strncmp(p->ll[i].path, dir, n) == 0 &&
		    (p->ll[i].path[n] == '\0' || p->ll[i].path[n] == '/'))
			return true;
	return false;
}

static bool strv_has_sub(const struct sh_strv *v, const char *needle)
{
	for (size_t i = 0; i < v->n; i++)
		if (strstr(v->v[i], needle))
			return true;
	return false;
}

/* Every mount's ancestors (among the mounts) come before it. */
static bool parents_first(const struct sh_plan *p)
{
	for (size_t i = 0; i < p->nmounts; i++)
		for (size_t j = i + 1; j < p->nmounts; j++) {
			const char *a = p->mounts[i].path, *b = p->mounts[j].path;
			size_t n = strlen(b);
			if (strcmp(b, "/") == 0 || (strncmp(a, b, n) == 0 && a[n] == '/')) {
				printf("#   %s listed before its parent %s\n", a, b);
				return false;
			}
		}
	return true;
}

/* ---- tests ---- */

TEST(plan_builtins_always)
{
	struct fx f;

	fx_init(&f);
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "tmpfs /tmp size=1G");
	HAS(&f, "tmpfs /dev/shm size=256M");
	HAS(&f, "proc /proc");
	HAS(&f, "dev /dev");
	HAS(&f, "landlock /tmp rwx");
	HAS(&f, "landlock /dev rw-");
	HAS(&f, "landlock /proc r--");
	HAS(&f, "net none");
	CHECK(f.plan.use_userns);
	/* Nothing of the home or the workdir without a grant. */
	CHECK(mount_index(&f.plan, f.home) < 0);
	CHECK(mount_index(&f.plan, f.work) < 0);
	CHECK(parents_first(&f.plan));
	fx_free(&f);
}

TEST(plan_subpath_ro_and_rw)
{
	struct fx f;
	char *codex, *ssh;

	fx_init(&f);
	codex = cat(f.home, "/.codex");
	ssh = cat(f.home, "/.ssh");
	ALLOW(&f.pol, "file-read*", SH_F_SUBPATH, codex);
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, f.work);
	ALLOW(&f.pol, "process-exec", SH_F_SUBPATH, f.work);
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "bind-ro %s  (t.sb:1)", codex);
	HAS(&f, "bind-rw %s  (t.sb:2)", f.work);
	HAS(&f, "landlock %s r--", codex);
	HAS(&f, "landlock %s rwx", f.work);
	/* ancestors as skeletons, nothing else of the home */
	HAS(&f, "dir %s", f.home);
	HAS(&f, "dir %s", f.root);
	CHECK(mount_index(&f.plan, ssh) < 0);
	CHECK(!any_ll_under(&f.plan, ssh));
	CHECK(parents_first(&f.plan));
	free(codex);
	free(ssh);
	fx_free(&f);
}

TEST(plan_metadata_traversal_skeletons)
{
	struct fx f;
	char *home_parent, *codex;

	fx_init(&f);
	home_parent = cat(f.root, "/home");
	codex = cat(f.home, "/.codex");
	ALLOW(&f.pol, "file-read-metadata", SH_F_LITERAL, "/");
	ALLOW(&f.pol, "file-read-metadata", SH_F_LITERAL, home_parent);
	ALLOW(&f.pol, "file-read-metadata", SH_F_LITERAL, f.home);
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, codex);
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "dir %s  (t.sb:2)", home_parent);
	HAS(&f, "dir %s  (t.sb:3)", f.home);
	HAS(&f, "bind-rw %s  (t.sb:4)", codex);
	HASNT(&f, "dir /");
	CHECK(mount_index(&f.plan, home_parent) < mount_index(&f.plan, f.home));
	CHECK(mount_index(&f.plan, f.home) < mount_index(&f.plan, codex));
	/* skeletons get no Landlock rule (traversal needs none) */
	CHECK(!has_line_quiet(f.text, "landlock %s r--", f.home));
	free(home_parent);
	free(codex);
	fx_free(&f);
}

TEST(plan_deny_inside_rw_masks_and_pins)
{
	struct fx f;
	char *env, *hooks, *git, *cfg, *deep, *secret;

	fx_init(&f);
	env = cat(f.work, "/.env");
	hooks = cat(f.work, "/.git/hooks");
	git = cat(f.work, "/.git");
	cfg = cat(f.work, "/.git/config");
	secret = cat(f.work, "/src");
	deep = cat(f.work, "/src/deep/er");
	mkdirs(f.work, "/src/deep/er");
	ALLOW(&f.pol, "file-read* file-write* process-exec", SH_F_SUBPATH, f.work);
	DENY(&f.pol, "file-read* file-write*", SH_F_LITERAL, env);       /* 2 */
	DENY(&f.pol, "file-write*", SH_F_SUBPATH, hooks);                  /* 3 */
	DENY(&f.pol, "file-write*", SH_F_LITERAL, cfg);                    /* 4 */
	DENY(&f.pol, "file-read*", SH_F_SUBPATH, deep);                    /* 5 */
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "bind-rw %s  (t.sb:1)", f.work);
	HAS(&f, "mask %s (file)  (t.sb:2)", env);
	HAS(&f, "bind-ro %s  (t.sb:3)", hooks);
	HAS(&f, "bind-ro %s (file)  (t.sb:4)", cfg);
	HAS(&f, "mask %s  (t.sb:5)", deep);
	/* pins: every directory between the rw bind and a nested mount */
	HAS(&f, "pin-rw %s", git);
	HAS(&f, "pin-rw %s", secret);
	{
		char *d = cat(f.work, "/src/deep");
		HAS(&f, "pin-rw %s", d);
		CHECK(mount_index(&f.plan, d) < mount_index(&f.plan, deep));
		free(d);
	}
	CHECK(mount_index(&f.plan, git) < mount_index(&f.plan, hooks));
	CHECK(mount_index(&f.plan, git) < mount_index(&f.plan, cfg));
	CHECK(parents_first(&f.plan));
	/* Landlock: one rule for the tree; the mount layer does the carving. */
	HAS(&f, "landlock %s rwx", f.work);
	CHECK(!has_line_quiet(f.text, "landlock %s rwx", env));
	CHECK(f.notes.missing.n == 0);
	free(env);
	free(hooks);
	free(git);
	free(cfg);
	free(deep);
	free(secret);
	fx_free(&f);
}

TEST(plan_mask_nested_in_ro_needs_no_pins)
{
	struct fx f;
	char *ssh, *key;

	fx_init(&f);
	ssh = cat(f.home, "/.ssh");
	key = cat(f.home, "/.ssh/id_ed25519");
	ALLOW(&f.pol, "file-read*", SH_F_SUBPATH, f.home);
	DENY(&f.pol, "file-read*", SH_F_LITERAL, key);
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "bind-ro %s", f.home);
	HAS(&f, "mask %s (file)  (t.sb:2)", key);
	CHECK(mount_index(&f.plan, ssh) < 0);
	free(ssh);
	free(key);
	fx_free(&f);
}

TEST(plan_grant_inside_denied_tree_goes_through_mask)
{
	struct fx f;
	char *codex, *cfg;

	fx_init(&f);
	codex = cat(f.home, "/.codex");
	cfg = cat(f.home, "/.codex/config.toml");
	/* read the whole home except .codex, but its config.toml is readable */
	ALLOW(&f.pol, "file-read*", SH_F_SUBPATH, f.home);
	DENY(&f.pol, "file-read*", SH_F_SUBPATH, codex);
	ALLOW(&f.pol, "file-read*", SH_F_LITERAL, cfg);
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "bind-ro %s", f.home);
	HAS(&f, "mask %s  (t.sb:2)", codex);
	HAS(&f, "bind-ro %s (file)  (t.sb:3)", cfg);
	CHECK(mount_index(&f.plan, codex) < mount_index(&f.plan, cfg));
	free(codex);
	free(cfg);
	fx_free(&f);
}

TEST(plan_missing_denied_path_is_listed_not_created)
{
	struct fx f;
	char *nope, *vs;
	struct stat st;

	fx_init(&f);
	nope = cat(f.work, "/.envrc");
	vs = cat(f.work, "/.vscode/settings.json");
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, f.work);
	DENY(&f.pol, "file-write*", SH_F_LITERAL, nope);
	DENY(&f.pol, "file-write*", SH_F_LITERAL, vs);
	CHECK_INT(fx_build(&f, false), ==, 0);
	CHECK(mount_index(&f.plan, nope) < 0);
	CHECK(mount_index(&f.plan, vs) < 0);
	CHECK(sh_strv_contains(&f.notes.missing, nope));
	CHECK(sh_strv_contains(&f.notes.missing, vs));
	/* nothing was created on the host */
	CHECK(lstat(nope, &st) != 0);
	{
		char *d = cat(f.work, "/.vscode");
		CHECK(lstat(d, &st) != 0);
		free(d);
	}
	free(nope);
	free(vs);
	fx_free(&f);
}

TEST(plan_symlink_in_home_is_an_entry_never_followed)
{
	struct fx f;
	char *link, *below, *target;

	fx_init(&f);
	link = cat(f.home, "/.codexlink");
	below = cat(f.home, "/.codexlink/sub");
	target = cat(f.home, "/.ssh");
	CHECK(symlink(target, link) == 0);
	ALLOW(&f.pol, "file-read*", SH_F_LITERAL, link);
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, below);
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "symlink %s -> %s  (t.sb:1)", link, target);
	/* never bound through: neither the link's target nor the path below */
	CHECK(mount_index(&f.plan, target) < 0);
	CHECK(mount_index(&f.plan, below) < 0);
	CHECK(!any_ll_under(&f.plan, target));
	CHECK(strv_has_sub(&f.notes.warnings, "below the symlink"));
	free(link);
	free(below);
	free(target);
	fx_free(&f);
}

TEST(plan_symlink_inside_bound_tree_is_left_alone)
{
	struct fx f;
	char *link;

	fx_init(&f);
	link = cat(f.work, "/lnk");
	CHECK(symlink("/etc", link) == 0);
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, f.work);
	ALLOW(&f.pol, "file-read*", SH_F_SUBPATH, link);
	CHECK_INT(fx_build(&f, false), ==, 0);
	CHECK(mount_index(&f.plan, link) < 0);
	CHECK(mount_index(&f.plan, "/etc") < 0);
	free(link);
	fx_free(&f);
}

/* A protected name that is a symlink in a writable tree: pinned (it cannot
 * be swapped for a real file), and its target inside the tree is read-only
 * too (git runs hooks from wherever .git/hooks leads). */
TEST(plan_protected_symlink_is_pinned_with_its_target)
{
	struct fx f;
	char *link = NULL, *tgt = NULL, *dang = NULL;

	fx_init(&f);
	link = cat(f.work, "/hooks");
	tgt = cat(f.work, "/myhooks");
	dang = cat(f.work, "/cfg");
	CHECK(mkdir(tgt, 0755) == 0);
	CHECK(symlink("myhooks", link) == 0);
	CHECK(symlink("nowhere", dang) == 0);
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, f.work);
	DENY(&f.pol, "file-write*", SH_F_SUBPATH, link);
	DENY(&f.pol, "file-write*", SH_F_LITERAL, dang);
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "pin-link %s -> myhooks  (t.sb:2)", link);
	HAS(&f, "bind-ro %s  (t.sb:2)", tgt);
	HAS(&f, "pin-link %s -> nowhere  (t.sb:3)", dang);
	CHECK(strv_has_sub(&f.notes.warnings, "which does not exist"));
	CHECK(strv_has_sub(&f.notes.alerts, "which does not exist")); /* said on every run */
	free(link);
	free(tgt);
	free(dang);
	fx_free(&f);
}

/* A protected file in the workdir with another name: the read-only bind
 * covers one name only, which every run says. */
TEST(plan_protected_file_with_hard_links_is_an_alert)
{
	struct fx f;
	char *cfg, *other;

	fx_init(&f);
	cfg = cat(f.work, "/config");
	other = cat(f.work, "/other");
	CHECK(close(open(cfg, O_CREAT | O_WRONLY, 0644)) == 0);
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, f.work);
	DENY(&f.pol, "file-write*", SH_F_LITERAL, cfg);
	CHECK_INT(fx_build(&f, false), ==, 0);
	CHECK_INT(f.notes.alerts.n, ==, 0);
	CHECK(link(cfg, other) == 0);
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "bind-ro %s (file)  (t.sb:2)", cfg);
	CHECK(strv_has_sub(&f.notes.alerts, "has other names (hard links, 2 in all)"));
	free(cfg);
	free(other);
	fx_free(&f);
}

TEST(plan_user_owned_symlink_outside_home_not_followed)
{
	struct fx f;
	char *link, *tdir;

	fx_init(&f);
	link = cat(f.root, "/opt-link");
	tdir = cat(f.root, "/target");
	mkdirs(f.root, "/target");
	CHECK(symlink(tdir, link) == 0);
	if (geteuid() == 0)
		CHECK(lchown(link, 12345, 12345) == 0);
	{
		char *sub = cat(link, "/x");
		ALLOW(&f.pol, "file-read*", SH_F_SUBPATH, sub);
		free(sub);
	}
	CHECK_INT(fx_build(&f, false), ==, 0);
	CHECK(mount_index(&f.plan, tdir) < 0);
	CHECK(!any_ll_under(&f.plan, tdir));
	free(link);
	free(tdir);
	fx_free(&f);
}

TEST(plan_root_owned_system_symlinks_resolve_with_aliases)
{
	struct fx f;
	struct stat st;
	char *t;

	if (lstat("/bin", &st) != 0 || !S_ISLNK(st.st_mode) || st.st_uid != 0)
		SKIP("/bin is not a root-owned symlink on this host");
	t = NULL;
	{
		char buf[256];
		ssize_t n = readlink("/bin", buf, sizeof(buf) - 1);
		if (n <= 0)
			SKIP("readlink /bin");
		buf[n] = '\0';
		t = sh_xstrdup(buf);
	}
	fx_init(&f);
	/* A rule spelled through the link: "(subpath /bin)" grants the real
	 * directory (all names of an object count), and /bin appears as a link. */
	ALLOW(&f.pol, "file-read* process-exec", SH_F_SUBPATH, "/bin");
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "symlink /bin -> %s  (t.sb:1)", t);
	{
		char *real = realpath("/bin", NULL);
		if (real) {
			HAS(&f, "bind-ro %s  (t.sb:1)", real);
			HAS(&f, "landlock %s r-x", real);
		}
		free(real);
	}
	CHECK(mount_index(&f.plan, "/bin") >= 0 &&
	      f.plan.mounts[mount_index(&f.plan, "/bin")].kind == SH_MNT_SYMLINK);
	CHECK(parents_first(&f.plan));
	free(t);
	fx_free(&f);
}

TEST(plan_literal_through_system_symlink)
{
	struct fx f;
	char *real;

	real = realpath("/bin/sh", NULL);
	if (!real || strcmp(real, "/bin/sh") == 0) {
		free(real);
		SKIP("/bin/sh is not reached through a symlink here");
	}
	fx_init(&f);
	ALLOW(&f.pol, "file-read* process-exec", SH_F_LITERAL, "/bin/sh");
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "bind-ro %s (file)  (t.sb:1)", real);
	HAS(&f, "landlock %s r-x", real);
	free(real);
	fx_free(&f);
}

TEST(plan_prefix_expansion)
{
	struct fx f;
	char *bin, *pfx, *a, *b, *other;

	fx_init(&f);
	mkdirs(f.home, "/.local/bin");
	touch(f.home, "/.local/bin/codex");
	touch(f.home, "/.local/bin/codex-linux-x64");
	touch(f.home, "/.local/bin/other");
	bin = cat(f.home, "/.local/bin");
	pfx = cat(f.home, "/.local/bin/codex");
	a = cat(f.home, "/.local/bin/codex");
	b = cat(f.home, "/.local/bin/codex-linux-x64");
	other = cat(f.home, "/.local/bin/other");
	ALLOW(&f.pol, "file-read* process-exec", SH_F_PREFIX, pfx);
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "bind-ro %s (file)  (t.sb:1)", a);
	HAS(&f, "bind-ro %s (file)  (t.sb:1)", b);
	HAS(&f, "landlock %s r-x", b);
	CHECK(mount_index(&f.plan, other) < 0);
	HAS(&f, "dir %s", bin);
	CHECK(strv_has_sub(&f.notes.expansions, "-> 2 paths"));
	free(bin);
	free(pfx);
	free(a);
	free(b);
	free(other);
	fx_free(&f);
}

/* Many names asked about in one directory: it is listed once and the
 * absent ones need no lstat; the plan is the same either way, readable
 * directory or not (an unreadable one is simply not listed). */
TEST(plan_many_names_in_one_directory)
{
	for (int unreadable = 0; unreadable < 2; unreadable++) {
		struct fx f;
		char *dir, *there, *link, *gone[12];

		fx_init(&f);
		mkdirs(f.home, "/.tools");
		touch(f.home, "/.tools/there");
		dir = cat(f.home, "/.tools");
		there = cat(f.home, "/.tools/there");
		link = cat(f.home, "/.tools/link");
		CHECK(symlink("there", link) == 0);
		for (int i = 0; i < 12; i++) {
			char n[32];
			snprintf(n, sizeof(n), "/.tools/absent%d", i);
			gone[i] = cat(f.home, n);
			ALLOW(&f.pol, "file-read*", SH_F_SUBPATH, gone[i]);
		}
		ALLOW(&f.pol, "file-read*", SH_F_SUBPATH, there);
		ALLOW(&f.pol, "file-read*", SH_F_SUBPATH, link);
		if (unreadable)
			CHECK(chmod(dir, 0311) == 0);
		CHECK_INT(fx_build(&f, false), ==, 0);
		HAS(&f, "bind-ro %s (file)  (t.sb:13)", there);
		CHECK(mount_index(&f.plan, link) >= 0);
		for (int i = 0; i < 12; i++) {
			CHECK(mount_index(&f.plan, gone[i]) < 0);
			free(gone[i]);
		}
		CHECK(chmod(dir, 0755) == 0);
		free(dir);
		free(there);
		free(link);
		fx_free(&f);
	}
}

TEST(plan_regex_expansion_masks_matches)
{
	struct fx f;
	char *q, *re, *e1, *e2, *e3;

	fx_init(&f);
	mkdirs(f.work, "/a/b");
	mkdirs(f.work, "/c");
	mkdirs(f.work, "/1/2/3/4/5");
	touch(f.work, "/a/b/.env");
	touch(f.work, "/c/.env");
	touch(f.work, "/1/2/3/4/5/.env"); /* deeper than the walk */
	q = re_quote(f.work);
	re = sh_xasprintf("^%s/(.*/)?\\.env$", q);
	e1 = cat(f.work, "/a/b/.env");
	e2 = cat(f.work, "/c/.env");
	e3 = cat(f.work, "/.env");
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, f.work);
	DENY(&f.pol, "file-read*", SH_F_REGEX, re);
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "mask %s (file)  (t.sb:2)", e1);
	HAS(&f, "mask %s (file)  (t.sb:2)", e2);
	HAS(&f, "mask %s (file)  (t.sb:2)", e3);
	{
		char *deep = cat(f.work, "/1/2/3/4/5/.env");
		CHECK(mount_index(&f.plan, deep) < 0);
		free(deep);
	}
	CHECK(strv_has_sub(&f.notes.expansions, "-> 3 paths"));
	free(q);
	free(re);
	free(e1);
	free(e2);
	free(e3);
	fx_free(&f);
}

TEST(plan_regex_walk_is_capped)
{
	struct fx f;
	char *q, *re, *big;

	fx_init(&f);
	mkdirs(f.work, "/big");
	big = cat(f.work, "/big");
	for (int i = 0; i < 2100; i++) {
		char *p = sh_xasprintf("%s/f%04d", big, i);
		t_write_file(p, "");
		free(p);
	}
	q = re_quote(big);
	re = sh_xasprintf("^%s/f[0-9]+$", q);
	ALLOW(&f.pol, "file-read*", SH_F_REGEX, re);
	CHECK_INT(fx_build(&f, false), ==, 0);
	CHECK(strv_has_sub(&f.notes.expansions, "(walk capped)"));
	{
		size_t binds = 0;
		for (size_t i = 0; i < f.plan.nmounts; i++)
			binds += f.plan.mounts[i].kind == SH_MNT_BIND;
		CHECK(binds > 0 && binds <= 2000);
	}
	free(q);
	free(re);
	free(big);
	fx_free(&f);
}

TEST(plan_regex_literal_prefix)
{
	char *s;
	struct sh_strv v = { 0 };

	s = sh_regex_literal_prefix("^/home/u/\\.config/(a|b)");
	CHECK_STR(s, "/home/u/.config/");
	free(s);
	s = sh_regex_literal_prefix("^/a/bc*");
	CHECK_STR(s, "/a/b");
	free(s);
	s = sh_regex_literal_prefix("^/a/b+x");
	CHECK_STR(s, "/a/b");
	free(s);
	s = sh_regex_literal_prefix("^/usr/lib/[^/]+\\.so$");
	CHECK_STR(s, "/usr/lib/");
	free(s);
	CHECK(sh_regex_literal_prefix("/a/b") == NULL);
	sh_regex_split_alternatives("^/a(b|c)|^/d[|]e|x\\|y", &v);
	CHECK_INT(v.n, ==, 3);
	if (v.n == 3) {
		CHECK_STR(v.v[0], "^/a(b|c)");
		CHECK_STR(v.v[1], "^/d[|]e");
		CHECK_STR(v.v[2], "x\\|y");
	}
	sh_strv_free(&v);
}

TEST(plan_never_binds_host_dev_proc_tmp)
{
	struct fx f;

	fx_init(&f);
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, "/dev");
	ALLOW(&f.pol, "file-read* file-write*", SH_F_LITERAL, "/dev/null");
	ALLOW(&f.pol, "file-read*", SH_F_SUBPATH, "/proc");
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, "/tmp");
	CHECK_INT(fx_build(&f, false), ==, 0);
	for (size_t i = 0; i < f.plan.nmounts; i++)
		CHECK(f.plan.mounts[i].kind != SH_MNT_BIND ||
		      (strncmp(f.plan.mounts[i].path, "/dev", 4) != 0 &&
		       strncmp(f.plan.mounts[i].path, "/proc", 5) != 0 &&
		       strcmp(f.plan.mounts[i].path, "/tmp") != 0));
	HAS(&f, "dev /dev");
	HAS(&f, "tmpfs /tmp size=1G");
	fx_free(&f);
}

TEST(plan_wide_read_root_bind_with_masked_home)
{
	struct fx f;
	char *codex;

	fx_init(&f);
	codex = cat(f.home, "/.codex");
	ALLOW(&f.pol, "file-read* process-exec", SH_F_SUBPATH, "/");
	DENY(&f.pol, "file-read*", SH_F_SUBPATH, f.home);
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, codex);
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "bind-ro /  (t.sb:1)");
	HAS(&f, "mask %s  (t.sb:2)", f.home);
	HAS(&f, "bind-rw %s  (t.sb:3)", codex);
	/* the private /tmp hides the host's; the fixture (in /tmp) is re-bound */
	HAS(&f, "tmpfs /tmp size=1G");
	CHECK(mount_index(&f.plan, "/") == 0);
	CHECK(parents_first(&f.plan));
	HAS(&f, "landlock / r-x");
	free(codex);
	fx_free(&f);
}

TEST(plan_exec_denied_subtree_splits_landlock)
{
	struct fx f;
	char *src, *git, *main_c;

	fx_init(&f);
	src = cat(f.work, "/src");
	git = cat(f.work, "/.git");
	main_c = cat(f.work, "/src/main.c");
	ALLOW(&f.pol, "file-read* file-write* process-exec", SH_F_SUBPATH, f.work);
	DENY(&f.pol, "process-exec", SH_F_SUBPATH, src);
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "bind-rw %s", f.work);
	HAS(&f, "pin-rw %s  (t.sb:2)", src); /* same mode, its own Landlock node */
	HAS(&f, "landlock %s rw-", f.work);
	HAS(&f, "landlock %s rwx", git); /* siblings keep exec */
	CHECK(!has_line_quiet(f.text, "landlock %s rwx", src));
	CHECK(!has_line_quiet(f.text, "landlock %s rwx", main_c));
	CHECK(strv_has_sub(&f.notes.warnings, "entries created after launch"));
	free(src);
	free(git);
	free(main_c);
	fx_free(&f);
}

TEST(plan_fallback_splits_grants_around_denials)
{
	struct fx f;
	char *env, *git, *src, *hooks;

	fx_init(&f);
	env = cat(f.work, "/.env");
	git = cat(f.work, "/.git");
	src = cat(f.work, "/src");
	hooks = cat(f.work, "/.git/hooks");
	ALLOW(&f.pol, "file-read* file-write* process-exec", SH_F_SUBPATH, f.work);
	DENY(&f.pol, "file-read* file-write*", SH_F_LITERAL, env);
	DENY(&f.pol, "file-write*", SH_F_SUBPATH, hooks);
	CHECK_INT(fx_build(&f, true), ==, 0);
	CHECK(!f.plan.use_userns);
	CHECK_INT(f.plan.nmounts, ==, 0);
	HAS(&f, "mode fallback (landlock only)");
	/* the workdir itself cannot be granted write: .env is inside */
	CHECK(!has_line_quiet(f.text, "landlock %s rwx", f.work));
	HAS(&f, "landlock %s rwx", src);
	/* .git: read-exec for all (hooks is read-only), write split around hooks */
	HAS(&f, "landlock %s r-x", git);
	CHECK(!has_line_quiet(f.text, "landlock %s rwx", hooks));
	CHECK(!any_ll_under(&f.plan, env));
	{
		char *cfg = cat(f.work, "/.git/config");
		HAS(&f, "landlock %s rwx", cfg);
		free(cfg);
	}
	HAS(&f, "landlock /dev/null rw-");
	CHECK(strv_has_sub(&f.notes.warnings, "fallback:"));
	CHECK(strv_has_sub(&f.notes.warnings, "cannot be hidden"));
	CHECK(strv_has_sub(&f.notes.warnings, "entries created after launch"));
	free(env);
	free(git);
	free(src);
	free(hooks);
	fx_free(&f);
}

TEST(plan_fallback_tmp_only_when_explicit)
{
	struct fx f;

	fx_init(&f);
	CHECK_INT(fx_build(&f, true), ==, 0);
	CHECK(!has_line_quiet(f.text, "landlock /tmp rwx"));
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, "/tmp");
	CHECK_INT(fx_build(&f, true), ==, 0);
	HAS(&f, "landlock /tmp rw-");
	CHECK(strv_has_sub(&f.notes.warnings, "/tmp is the host's"));
	fx_free(&f);
}

TEST(plan_later_rule_wins)
{
	struct fx f;
	char *codex;

	fx_init(&f);
	codex = cat(f.home, "/.codex");
	ALLOW(&f.pol, "file-read*", SH_F_SUBPATH, codex);
	DENY(&f.pol, "file-read*", SH_F_SUBPATH, codex);
	CHECK_INT(fx_build(&f, false), ==, 0);
	CHECK(mount_index(&f.plan, codex) < 0);
	sh_policy_free(&f.pol);
	sh_policy_init(&f.pol);
	DENY(&f.pol, "file-read*", SH_F_SUBPATH, codex);
	ALLOW(&f.pol, "file-read*", SH_F_SUBPATH, codex);
	CHECK_INT(fx_build(&f, false), ==, 0);
	CHECK(mount_index(&f.plan, codex) >= 0);
	free(codex);
	fx_free(&f);
}

TEST(plan_nonexistent_grants_are_not_errors)
{
	struct fx f;

	fx_init(&f);
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, "/nonexistent/sh-plan-test");
	ALLOW(&f.pol, "file-read*", SH_F_PREFIX, "/nonexistent/sh-plan-test/x");
	ALLOW(&f.pol, "file-read*", SH_F_REGEX, "^/nonexistent/sh-plan-test/.*");
	ALLOW(&f.pol, "file-read*", SH_F_LITERAL, "relative/path");
	ALLOW(&f.pol, "file-read*", SH_F_LITERAL, "/a/../b");
	CHECK_INT(fx_build(&f, false), ==, 0);
	CHECK(mount_index(&f.plan, "/nonexistent/sh-plan-test") < 0);
	fx_free(&f);
}

TEST(plan_workdir_in_tmp_is_bound_over_private_tmp)
{
	struct fx f;
	char *tmproot = t_mkdtemp(); /* under $TMPDIR or /tmp */
	char *w = cat(tmproot, "/w");

	fx_init(&f);
	mkdir(w, 0755);
	free(f.work);
	f.work = sh_xstrdup(w);
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, w);
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "bind-rw %s  (t.sb:1)", w);
	if (strncmp(tmproot, "/tmp/", 5) == 0) {
		/* skeleton inside the private tmpfs, after it */
		HAS(&f, "dir %s", tmproot);
		CHECK(mount_index(&f.plan, "/tmp") < mount_index(&f.plan, tmproot));
	}
	CHECK(parents_first(&f.plan));
	t_rmtree(tmproot);
	free(tmproot);
	free(w);
	fx_free(&f);
}

/* The grant of /tmp as a whole is the private tmpfs: with a workdir below a
 * host directory of /tmp, that directory is a skeleton, not a bind that
 * would bring its other entries in.  A deny of /tmp still applies.
 * (Fallback, where /tmp is the host's: plan_fallback_tmp_only_when_explicit.) */
TEST(plan_tmp_grant_does_not_bind_host_parents)
{
	struct fx f;
	char tmproot[] = "/tmp/sh-plan-XXXXXX";
	CHECK(mkdtemp(tmproot) != NULL);
	char *w = cat(tmproot, "/w"), *sib = cat(tmproot, "/sibling");

	CHECK_INT(mkdir(w, 0755), ==, 0);
	CHECK_INT(mkdir(sib, 0755), ==, 0);
	fx_init(&f);
	free(f.work);
	f.work = sh_xstrdup(w);
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, "/tmp");
	/* as the generated workdir profile does for the workdir's ancestors */
	ALLOW(&f.pol, "file-read-metadata", SH_F_LITERAL, tmproot);
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, w);
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "tmpfs /tmp size=1G");
	HAS(&f, "dir %s  (t.sb:2)", tmproot);
	HAS(&f, "bind-rw %s  (t.sb:3)", w);
	HASNT(&f, "bind-rw %s  (t.sb:1)", tmproot);
	CHECK(mount_index(&f.plan, sib) < 0);
	CHECK(parents_first(&f.plan));
	fx_free(&f);

	fx_init(&f);
	free(f.work);
	f.work = sh_xstrdup(w);
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, w);
	DENY(&f.pol, "file-write*", SH_F_SUBPATH, "/tmp");
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "bind-ro %s  (t.sb:1)", w);
	fx_free(&f);

	t_rmtree(tmproot);
	free(w);
	free(sib);
}

/* ---- policies compiled from SBPL text by the profile compiler ---- */

static int compile(struct fx *f, const char *text)
{
	struct sh_profile_ctx *ctx = sh_profile_ctx_new(f->home, f->work, "linux");
	struct sh_err e = { 0 };
	int r = sh_profile_compile(ctx, "t.sb", text, strlen(text), &f->pol, &e);

	if (r)
		printf("#   compile: %s\n", e.msg);
	sh_profile_ctx_free(ctx);
	return r;
}

TEST(plan_from_profile_text_agent_layout)
{
	struct fx f;
	char *p;

	fx_init(&f);
	mkdirs(f.home, "/.local/bin");
	touch(f.home, "/.local/bin/codex");
	CHECK_INT(compile(&f,
			  "(version 1)\n"
			  "(deny default)\n"
			  "(allow process-exec)\n"
			  "(allow file-read-metadata (literal HOME_DIR))\n"
			  "(allow file-read* file-write* (home-subpath \"/.codex\"))\n"
			  "(deny file-write* (home-literal \"/.codex/config.toml\"))\n"
			  "(allow file-read* (home-prefix \"/.local/bin/codex\"))\n"
			  "(allow file-read* file-write* (subpath WORK_DIR))\n"
			  "(deny file-write* (workdir-subpath \"/.git/hooks\"))\n"
			  "(deny file-read* file-write* (workdir-literal \"/.env\"))\n"
			  "(deny file-write* (workdir-literal \"/.safehouse\"))\n"),
		  ==, 0);
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "dir %s  (t.sb:4)", f.home);
	p = cat(f.home, "/.codex");
	HAS(&f, "bind-rw %s  (t.sb:5)", p);
	HAS(&f, "landlock %s rwx", p);
	free(p);
	p = cat(f.home, "/.codex/config.toml");
	HAS(&f, "bind-ro %s (file)  (t.sb:6)", p);
	free(p);
	p = cat(f.home, "/.local/bin/codex");
	HAS(&f, "bind-ro %s (file)  (t.sb:7)", p);
	free(p);
	HAS(&f, "bind-rw %s  (t.sb:8)", f.work);
	p = cat(f.work, "/.git");
	HAS(&f, "pin-rw %s  (t.sb:9)", p);
	free(p);
	p = cat(f.work, "/.git/hooks");
	HAS(&f, "bind-ro %s  (t.sb:9)", p);
	free(p);
	p = cat(f.work, "/.env");
	HAS(&f, "mask %s (file)  (t.sb:10)", p);
	free(p);
	p = cat(f.work, "/.safehouse");
	CHECK(sh_strv_contains(&f.notes.missing, p));
	free(p);
	p = cat(f.home, "/.ssh");
	CHECK(mount_index(&f.plan, p) < 0);
	CHECK(!any_ll_under(&f.plan, p));
	free(p);
	CHECK(parents_first(&f.plan));
	fx_free(&f);
}

TEST(plan_from_profile_text_regex_and_require)
{
	struct fx f;
	char *q, *text, *p;

	fx_init(&f);
	mkdirs(f.work, "/pkg/a");
	touch(f.work, "/pkg/a/.env.local");
	touch(f.work, "/pkg/a/keep.txt");
	q = re_quote(f.work);
	text = sh_xasprintf("(version 1)\n"
			    "(deny default)\n"
			    "(allow file-read* file-write* (subpath WORK_DIR))\n"
			    "(deny file-read* (regex #\"^%s/.*/\\.env[^/]*$\"))\n"
			    "(deny file-write* (require-all (subpath WORK_DIR)"
			    " (require-any (workdir-literal \"/pkg/a/keep.txt\"))))\n",
			    q);
	CHECK_INT(compile(&f, text), ==, 0);
	CHECK_INT(fx_build(&f, false), ==, 0);
	p = cat(f.work, "/pkg/a/.env.local");
	HAS(&f, "mask %s (file)  (t.sb:4)", p);
	free(p);
	p = cat(f.work, "/pkg/a/keep.txt");
	HAS(&f, "bind-ro %s (file)  (t.sb:5)", p);
	free(p);
	p = cat(f.work, "/pkg");
	HAS(&f, "pin-rw %s", p);
	free(p);
	CHECK(strv_has_sub(&f.notes.expansions, "-> 1 path"));
	free(q);
	free(text);
	fx_free(&f);
}

TEST(plan_dir_with_own_write_denied_is_pinned)
{
	struct fx f;
	char *git;

	fx_init(&f);
	git = cat(f.work, "/.git");
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, f.work);
	DENY(&f.pol, "file-write*", SH_F_LITERAL, git); /* no rename/remove of .git itself */
	CHECK_INT(fx_build(&f, false), ==, 0);
	HAS(&f, "pin-rw %s  (t.sb:2)", git);
	free(git);
	fx_free(&f);
}

TEST(plan_denied_symlink_gets_no_entry)
{
	struct fx f;
	char *link;

	fx_init(&f);
	link = cat(f.home, "/lnk");
	CHECK(symlink("/etc/passwd", link) == 0);
	ALLOW(&f.pol, "file-read*", SH_F_SUBPATH, f.home);
	DENY(&f.pol, "file-read*", SH_F_SUBPATH, f.home);
	ALLOW(&f.pol, "file-read-metadata", SH_F_LITERAL, f.home);
	CHECK_INT(fx_build(&f, false), ==, 0);
	CHECK(mount_index(&f.plan, link) < 0);
	free(link);
	fx_free(&f);
}

/* A socket is in the view only when a rule names it (docker.sock, the
 * ssh-agent socket of an enabled integration): then it is bound by itself;
 * one that no rule grants never appears. */
TEST(plan_sockets_bound_only_when_granted)
{
	struct fx f;
	struct sockaddr_un sa = { .sun_family = AF_UNIX }, sb = { .sun_family = AF_UNIX };
	char *sock, *other;
	int fd, fd2;

	fx_init(&f);
	sock = cat(f.home, "/agent.sock");
	other = cat(f.home, "/other.sock");
	CHECK(strlen(other) < sizeof(sb.sun_path));
	strcpy(sa.sun_path, sock);
	strcpy(sb.sun_path, other);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	fd2 = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(fd2 >= 0 && bind(fd2, (struct sockaddr *)&sb, sizeof(sb)) == 0);
	ALLOW(&f.pol, "file-read* file-write*", SH_F_LITERAL, sock);
	CHECK_INT(fx_build(&f, false), ==, 0);
	CHECK(mount_index(&f.plan, sock) >= 0);
	CHECK(f.plan.mounts[mount_index(&f.plan, sock)].kind == SH_MNT_BIND);
	CHECK(!f.plan.mounts[mount_index(&f.plan, sock)].is_dir);
	CHECK(mount_index(&f.plan, other) < 0);
	close(fd);
	close(fd2);
	free(sock);
	free(other);
	fx_free(&f);
}

TEST(plan_fallback_never_grants_through_symlinks)
{
	struct fx f;
	char *link;

	fx_init(&f);
	link = cat(f.work, "/to-ssh");
	{
		char *t = cat(f.home, "/.ssh");
		CHECK(symlink(t, link) == 0);
		free(t);
	}
	ALLOW(&f.pol, "file-read* file-write*", SH_F_SUBPATH, f.work);
	{
		char *env = cat(f.work, "/.env");
		DENY(&f.pol, "file-read*", SH_F_LITERAL, env);
		free(env);
	}
	CHECK_INT(fx_build(&f, true), ==, 0);
	/* the split lists the workdir: the symlink entry must not get a rule */
	CHECK(!any_ll_under(&f.plan, link));
	{
		char *ssh = cat(f.home, "/.ssh");
		CHECK(!any_ll_under(&f.plan, ssh));
		free(ssh);
	}
	free(link);
	fx_free(&f);
}

/* Prefixes in one directory list it once per plan; the same matches as
 * listing it for each, and the cap still applies. */
TEST(expand_prefix_lists_a_directory_once)
{
	char *d = t_mkdtemp();
	const char *names[] = { "java-17", "java-21", "python3", "pythonrc", "other" };
	for (size_t i = 0; i < 5; i++) {
		char *p = sh_xasprintf("%s/%s", d, names[i]);
		CHECK(mkdir(p, 0755) == 0);
		free(p);
	}
	struct sh_dircache c = { 0 };
	struct sh_strv a = { 0 }, b = { 0 }, x = { 0 };
	bool capped = false;
	char *java = sh_xasprintf("%s/java", d), *py = sh_xasprintf("%s/python", d);
	CHECK(sh_expand_prefix(java, 100, &a, &capped, &c) == 2);
	/* created after the listing: this plan does not see it */
	char *late = sh_xasprintf("%s/python-late", d);
	CHECK(mkdir(late, 0755) == 0);
	CHECK(sh_expand_prefix(py, 100, &b, &capped, &c) == 2);
	CHECK(!capped);
	CHECK(c.n == 1);
	/* without a cache: listed afresh */
	CHECK(sh_expand_prefix(py, 100, &x, &capped, NULL) == 3);
	sh_strv_free(&x);
	/* a smaller cap on the cached listing */
	CHECK(sh_expand_prefix(py, 2, &x, &capped, &c) <= 2);
	CHECK(capped);
	sh_strv_free(&a);
	sh_strv_free(&b);
	sh_strv_free(&x);
	sh_dircache_free(&c);
	free(java);
	free(py);
	free(late);
	t_rmtree(d);
	free(d);
}
