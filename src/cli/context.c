/* Resolution of a run's inputs.  Order of precedence for grants: trusted
 * workdir config, then environment variables, then the command line. */
#include "cli/context.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>

#ifndef SH_SYSCONFDIR
#define SH_SYSCONFDIR "/etc/safehouse"
#endif
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/gitconfig.h"
#include "cli/publish.h"
#include "config/envbuild.h"
#include "plan/plan.h"
#include "policy/net.h"
#include "util/path.h"

static const char *host_target(void)
{
#ifdef __APPLE__
	return "macos";
#else
	return "linux";
#endif
}

static int resolve_home(struct sh_context *c, struct sh_err *e)
{
	const char *h = getenv("HOME");
	char *canon = NULL;
	struct sh_err ignored;

	if (!h || !*h) {
		struct passwd *pw = getpwuid(getuid());
		if (!pw || !pw->pw_dir)
			return sh_fail(e, SH_EXIT_USAGE, 0, "cannot determine the home directory "
				       "(HOME is unset and there is no passwd entry)");
		h = pw->pw_dir;
	}
	if (h[0] != '/' || sh_has_ctl(h))
		return sh_fail(e, SH_EXIT_USAGE, 0, "HOME must be an absolute path without "
			       "control characters");
	/* A home that does not exist is kept as given: nothing under it is granted. */
	c->home = sh_path_canon(h, &canon, &ignored) == 0 ? canon : sh_xstrdup(h);
	return 0;
}

/* Linux: a grant (the workdir, --add-dirs) cannot name what the sandbox
 * makes itself: /dev and /proc (nothing of the host's below them is bound
 * in: the path would not exist inside) and /tmp as a whole (the session's
 * private tmpfs: what the command wrote would be gone at the end, not in
 * the host's /tmp; a directory below /tmp is bound from the host).  0, or a
 * usage error naming source. */
static int built_in_area(const char *path, const char *source, bool workdir, struct sh_err *e)
{
#ifdef __linux__
	static const char *const built[] = { "/dev", "/proc" };
	for (size_t i = 0; i < sizeof(built) / sizeof(built[0]); i++) {
		size_t n = strlen(built[i]);
		if (strncmp(path, built[i], n) != 0 || (path[n] != '/' && path[n] != '\0'))
			continue;
		sh_fail(e, SH_EXIT_USAGE, 0,
			"%s: '%s' is in %s, which the sandbox makes itself (nothing of the host's "
			"below it is bound in)", source, path, built[i]);
		return sh_hint(e, workdir ? "run from a directory elsewhere, or give one with "
					    "--workdir=DIR"
					  : "use a directory elsewhere");
	}
	if (strcmp(path, "/tmp") == 0) {
		sh_fail(e, SH_EXIT_USAGE, 0,
			"%s: '/tmp' is the sandbox's own private /tmp: files written in it would not "
			"reach the host's", source);
		return sh_hint(e, workdir ? "use a directory below it (mkdir /tmp/work && cd "
					    "/tmp/work), or give one with --workdir=DIR"
					  : "use a directory below it (mkdir /tmp/work)");
	}
#else
	(void)path;
	(void)source;
	(void)workdir;
	(void)e;
#endif
	return 0;
}

/* path is dir or lies below it (both canonical). */
static bool under_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static char *follow_path(const char *p, int (*on_link)(void *arg, const char *dir, const char *link),
			 void *arg);

/* A link on the way to the home itself (/home -> /data/home) is the
 * system's; any other one stops the walk. */
static int link_off_the_way_home(void *home, const char *dir, const char *link)
{
	(void)link;
	return sh_path_is_under(home, dir) && strcmp(dir, home) != 0 ? 0 : 1;
}

/* A hidden directory of the home (~/.ssh, ~/.aws, ~/.config/...) as the
 * workdir, reached through a symlink: a link an earlier session may have
 * planted in a project (proj -> ~/.ssh) would make it the read-write
 * workdir.  given: the path given (--workdir, SAFEHOUSE_WORKDIR), or NULL
 * for the current directory, whose name is the shell's logical $PWD.  When
 * the name cannot be told ($PWD unset or stale, a relative path without
 * it), only the real path given explicitly is taken.  0, or -1. */
static int via_link_to_hidden_home_dir(const struct sh_context *c, const char *given,
				       struct sh_err *e)
{
	if (!c->home || under_dir(c->home, c->workdir) || !under_dir(c->workdir, c->home))
		return 0;
	const char *rel = c->workdir + strlen(c->home);
	if (rel[0] != '/' || rel[1] != '.')
		return 0;
	const char *pwd = getenv("PWD");
	char *pc = pwd && pwd[0] == '/' ? realpath(pwd, NULL) : NULL;
	bool pwd_ok = pc && strcmp(pc, c->cwd) == 0;
	free(pc);
	char *named = NULL;
	if (given) {
		char *x = sh_path_expand_tilde(given, c->home);
		named = x[0] == '/' ? sh_xstrdup(x) : pwd_ok ? sh_path_join(pwd, x) : NULL;
		free(x);
	} else if (pwd_ok) {
		named = sh_xstrdup(pwd);
	}
	int rc = 0;
	char *reached = named ? follow_path(named, link_off_the_way_home, c->home) : NULL;
	bool direct = reached && strcmp(reached, c->workdir) == 0;
	free(reached);
	if (!direct) {
		sh_fail(e, SH_EXIT_USAGE, 0,
			"%s: '%s' is a hidden directory of your home, reached %s: refused as the "
			"workdir (a link planted in a project could point there)", c->workdir_source,
			c->workdir, named ? "through a symlink" : "by a path that cannot be told");
		rc = sh_hint(e, "if you mean it, give the real path: --workdir=%s", c->workdir);
	}
	free(named);
	return rc;
}

static int resolve_workdir(struct sh_context *c, const struct sh_options *o, struct sh_err *e)
{
	const char *w = NULL, *env = getenv("SAFEHOUSE_WORKDIR");
	char cwd[4096];

	if (!getcwd(cwd, sizeof(cwd)))
		return sh_fail(e, SH_EXIT_USAGE, errno, "cannot get the current directory");
	c->cwd = sh_xstrdup(cwd);
	if (o->workdir) {
		w = o->workdir;
		c->workdir_source = sh_xstrdup("--workdir");
	} else if (env) {
		w = env;
		c->workdir_source = sh_xstrdup("SAFEHOUSE_WORKDIR");
	} else {
		w = cwd;
		c->workdir_source = sh_xstrdup("current directory");
	}
	if (!*w)
		return 0; /* set but empty: the workdir grant is disabled */
	char *x = sh_path_expand_tilde(w, c->home);
	struct stat st;
	int rc = sh_path_canon(x, &c->workdir, e);
	free(x);
	if (rc < 0)
		return sh_err_prefix(e, "%s", c->workdir_source);
	if (stat(c->workdir, &st) < 0 || !S_ISDIR(st.st_mode))
		return sh_fail(e, SH_EXIT_USAGE, 0, "%s: '%s' is not a directory", c->workdir_source,
			       c->workdir);
	if (built_in_area(c->workdir, c->workdir_source, true, e) < 0)
		return -1;
	if (via_link_to_hidden_home_dir(c, w == cwd ? NULL : w, e) < 0)
		return -1;
	/* A workdir that is, or contains, the home directory grants all of it,
	 * ~/.ssh and shell startup files included: the grant comes after the
	 * integrations' denies.  Taken from the current directory (launched
	 * from ~ or / by habit) that is refused; named explicitly, it is done,
	 * with a warning. */
	if (c->home && under_dir(c->home, c->workdir)) {
		const char *what = strcmp(c->home, c->workdir) == 0 ? "is" : "contains";
		if (!o->workdir && !env) {
			sh_fail(e, SH_EXIT_USAGE, 0,
				"%s: '%s' %s your home directory: as the workdir, all of it (~/.ssh, "
				"cloud credentials, shell startup files) would be readable and "
				"writable inside", c->workdir_source, c->workdir, what);
			return sh_hint(e, "run from a project directory, or give one with "
					  "--workdir=DIR (--workdir=~ grants your whole home on purpose)");
		}
		sh_warn("the workdir '%s' %s your home directory: all of it is readable and writable "
			"inside, ~/.ssh and shell startup files included", c->workdir, what);
	}
	return 0;
}

static void add_grant(struct sh_context *c, const char *path, bool writable, bool is_dir,
		      const char *origin)
{
	sh_xgrow(&c->grants, &c->grants_cap, c->ngrants + 1, sizeof(*c->grants));
	struct sh_grant *g = &c->grants[c->ngrants++];
	g->path = sh_xstrdup(path);
	g->writable = writable;
	g->is_dir = is_dir;
	g->origin = sh_xstrdup(origin);
}

static void add_grants(struct sh_context *c, const struct sh_pathlist *pl, bool writable,
		       const char *origin)
{
	for (size_t i = 0; i < pl->paths.n; i++)
		add_grant(c, pl->paths.v[i], writable, pl->is_dir[i], origin);
}

/* Resolve the absolute path p component by component as the kernel would,
 * calling on_link(arg, dir, link) for each symlink met before following it
 * (dir: the directory that holds it, as resolved so far); a nonzero return
 * stops the walk.  From a component that does not exist on, the rest is
 * taken as written (where it would be created).  Returns the path reached
 * (caller frees), or NULL when stopped, on a loop or an unreadable link. */
static char *follow_path(const char *p, int (*on_link)(void *arg, const char *dir, const char *link),
			 void *arg)
{
	char *cur = sh_xstrdup("/"), *rest = sh_xstrdup(p);
	bool missing = false;
	for (int hops = 0; cur && rest[strspn(rest, "/")];) {
		char *q = rest + strspn(rest, "/");
		size_t l = strcspn(q, "/");
		char *comp = sh_xstrndup(q, l), *tail = sh_xstrdup(q + l);
		free(rest);
		rest = tail;
		if (strcmp(comp, ".") == 0) {
			free(comp);
			continue;
		}
		if (strcmp(comp, "..") == 0) {
			char *up = sh_path_parent(cur);
			free(cur);
			cur = up;
			free(comp);
			continue;
		}
		char *next = sh_path_join(cur, comp);
		free(comp);
		struct stat st;
		bool there = !missing && lstat(next, &st) == 0;
		if (!there || !S_ISLNK(st.st_mode)) {
			missing = !there;
			free(cur);
			cur = next;
			continue;
		}
		char target[PATH_MAX];
		ssize_t n;
		if (on_link(arg, cur, next) != 0 || ++hops > 40 ||
		    (n = readlink(next, target, sizeof(target) - 1)) <= 0) {
			free(next);
			free(cur);
			cur = NULL;
			break;
		}
		target[n] = '\0';
		char *joined = sh_path_join(target, rest);
		free(rest);
		rest = joined;
		if (target[0] == '/') {
			free(cur);
			cur = sh_xstrdup("/");
		}
		free(next);
	}
	free(rest);
	return cur;
}

struct no_link_in_wd {
	const struct sh_context *c;
	const char *origin;
	struct sh_err *e;
	bool refused;
};

static int refuse_link_in_wd(void *arg, const char *dir, const char *link)
{
	struct no_link_in_wd *w = arg;
	if (!sh_path_is_under(dir, w->c->workdir))
		return 0; /* the user's own link, outside the workdir: followed */
	sh_fail(w->e, SH_EXIT_USAGE, 0,
		"%s: '%s' is a symlink in the workdir, which a session may have planted: not "
		"followed", w->origin, link);
	sh_hint(w->e, "give the link's target itself if you mean it");
	w->refused = true;
	return 1;
}

/* A path named by the workdir's own config (or --env=FILE) must not pass
 * through a symlink that sits in the workdir: the sandbox can replace what
 * is there with a link (cache -> ~/.ssh) between sessions, and a trusted
 * "add-dirs=cache" must not follow it.  Links outside the workdir are the
 * user's own and are followed.  0, or -1 naming the entry; what does not
 * exist is left to the caller's own resolution to report. */
static int wd_entry_no_symlink(const struct sh_context *c, const char *field, const char *origin,
			       struct sh_err *e)
{
	char *x = sh_path_expand_tilde(field, c->home);
	char *abs = x[0] == '/' ? sh_xstrdup(x) : sh_path_join(c->workdir, x);
	struct no_link_in_wd w = { c, origin, e, false };
	free(follow_path(abs, refuse_link_in_wd, &w));
	free(x);
	free(abs);
	return w.refused ? -1 : 0;
}

/* Add the grants of one "P1:P2" spec; base resolves relative entries. */
static int grant_spec(struct sh_context *c, const char *spec, bool writable, const char *base,
		      const char *origin, struct sh_err *e)
{
	struct sh_pathlist pl = { 0 };
	int rc = 0;
	if (base && c->workdir && strcmp(base, c->workdir) == 0) {
		struct sh_strv f = { 0 };
		sh_strv_split(&f, spec, ':');
		for (size_t i = 0; rc == 0 && i < f.n; i++)
			rc = wd_entry_no_symlink(c, f.v[i], origin, e);
		sh_strv_free(&f);
	}
	if (rc == 0)
		rc = sh_pathlist_add(&pl, spec, c->home, base, origin, e);

	for (size_t i = 0; rc == 0 && i < pl.paths.n; i++) {
		rc = built_in_area(pl.paths.v[i], origin, false, e);
		if (rc == 0 && c->home && under_dir(c->home, pl.paths.v[i]))
			sh_warn("%s: '%s' %s your home directory: all of it is %s inside, ~/.ssh "
				"and shell startup files included", origin, pl.paths.v[i],
				strcmp(c->home, pl.paths.v[i]) == 0 ? "is" : "contains",
				writable ? "readable and writable" : "readable");
	}
	if (rc == 0)
		add_grants(c, &pl, writable, origin);
	sh_pathlist_free(&pl);
	return rc;
}

static int load_appended(struct sh_context *c, const char *file, const char *base,
			 const char *origin, struct sh_err *e)
{
	char *x, *joined, *canon = NULL, *text = NULL;
	size_t len = 0;
	int rc;

	/* from the workdir's own config: not through a link planted there */
	if (base && c->workdir && strcmp(base, c->workdir) == 0 &&
	    wd_entry_no_symlink(c, file, origin, e) < 0)
		return -1;
	x = sh_path_expand_tilde(file, c->home);

	joined = x[0] == '/' ? sh_xstrdup(x) : sh_path_join(base, x);
	free(x);
	rc = sh_path_canon(joined, &canon, e);
	free(joined);
	if (rc == 0)
		rc = sh_read_small_file(canon, 0, 1 << 20, &text, &len, e);
	if (rc < 0) {
		free(canon);
		return sh_err_prefix(e, "%s", origin);
	}
	sh_xgrow(&c->appended, &c->appended_cap, c->nappended + 1, sizeof(*c->appended));
	c->appended[c->nappended++] = (struct sh_appended){ canon, text, len, sh_xstrdup(origin) };
	return 0;
}

static int decide_trust(struct sh_context *c, const struct sh_options *o, struct sh_err *e)
{
	struct sh_trust_input in = { 0 };
	bool listed = false;

	if (sh_trust_store_path(&c->trust_store, e) < 0)
		return -1;
	c->config_dir = sh_path_parent(c->trust_store);
	if (c->workdir && sh_trust_is_trusted(c->trust_store, c->workdir, &listed, e) < 0)
		return -1;
	in.always = o->always_trust_workdir_config < 0 ? SH_TRI_UNSET
		    : o->always_trust_workdir_config ? SH_TRI_TRUE : SH_TRI_FALSE;
	in.once = o->trust_workdir_config < 0 ? SH_TRI_UNSET
		  : o->trust_workdir_config ? SH_TRI_TRUE : SH_TRI_FALSE;
	in.env = getenv("SAFEHOUSE_TRUST_WORKDIR_CONFIG");
	in.listed = listed;
	if (sh_trust_decide(&in, &c->trust, e) < 0)
		return -1;
	if (in.always != SH_TRI_UNSET) {
		if (!c->workdir)
			return sh_fail(e, SH_EXIT_USAGE, 0, "--always-trust-workdir-config needs a "
				       "workdir (it is disabled)");
		int r = in.always == SH_TRI_TRUE ? sh_trust_add(c->trust_store, c->workdir, e)
						 : sh_trust_remove(c->trust_store, c->workdir, e);
		if (r < 0)
			return -1;
		c->trust_update = sh_xasprintf("%s %s %s", r ? (in.always == SH_TRI_TRUE ? "added" : "removed")
							     : "unchanged",
					       c->workdir, c->trust_store);
	}
	return 0;
}

static void set_single(char **val, char **origin, const char *v, const char *o)
{
	free(*val);
	free(*origin);
	*val = sh_xstrdup(v);
	*origin = sh_xstrdup(o);
}

static int check_network_value(const char *v, const char *origin, struct sh_err *e)
{
	if (strcmp(v, "none") == 0 || strcmp(v, "full") == 0 || strcmp(v, "filtered") == 0)
		return 0;
	return sh_fail(e, SH_EXIT_USAGE, 0, "%s: unknown network mode '%s' (expected none, "
		       "filtered or full)", origin, v);
}

/* "a.com,*.b.com:443" -> one entry per destination. */
static int add_domains(struct sh_strv *v, struct sh_strv *origins, const char *list,
		       const char *origin, struct sh_err *e)
{
	char *copy = sh_xstrdup(list), *save = NULL;
	int n = 0;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ' || *t == '\t')
			t++;
		size_t len = strlen(t);
		while (len && (t[len - 1] == ' ' || t[len - 1] == '\t'))
			t[--len] = 0;
		if (!*t)
			continue;
		sh_strv_push(v, t);
		sh_strv_push(origins, origin);
		n++;
	}
	free(copy);
	if (n == 0)
		return sh_fail(e, SH_EXIT_USAGE, 0, "%s: no destination in '%s'", origin, list);
	return 0;
}

/* "1455,8080:3000,auto": checked now (usage error naming origin), kept as
 * given; cli/publish.c collects the entries for the run. */
static int add_publish(struct sh_context *c, const char *list, const char *origin,
		       struct sh_err *e)
{
	struct sh_pubspec s = { 0 };
	int rc = 0;

	/* with the earlier layers: a host port cannot go to two sandbox ports */
	for (size_t i = 0; rc == 0 && i < c->publish.n; i++)
		rc = sh_publish_parse(c->publish.v[i], c->publish_origins.v[i], false, &s, e);
	if (rc == 0)
		rc = sh_publish_parse(list, origin, false, &s, e);
	sh_pubspec_free(&s);
	if (rc < 0)
		return -1;
	sh_strv_push(&c->publish, list);
	sh_strv_push(&c->publish_origins, origin);
	return 0;
}

static int check_sandbox_value(const char *v, const char *origin, struct sh_err *e)
{
	if (strcmp(v, "read-only") == 0 || strcmp(v, "workspace-write") == 0 ||
	    strcmp(v, "danger-full-access") == 0)
		return 0;
	return sh_fail(e, SH_EXIT_USAGE, 0, "%s: unknown sandbox policy '%s' (expected read-only, "
		       "workspace-write or danger-full-access)", origin, v);
}

/* One config entry of any layer.  List keys accumulate; single-valued keys
 * (sandbox, network): the later layer wins.  base resolves relative paths. */
static int apply_entry(struct sh_context *c, const struct sh_wdentry *en, const char *origin,
		       const char *base, struct sh_err *e)
{
	const char *k = en->key, *v = en->value;

	sh_strv_push_take(&c->settings, sh_xasprintf("%s=%s (from %s)", k, v, origin));
	if (strcmp(k, "add-dirs") == 0 || strcmp(k, "add-dirs-ro") == 0)
		return grant_spec(c, v, strcmp(k, "add-dirs") == 0, base, origin, e);
	if (strcmp(k, "enable") == 0)
		return sh_features_parse(&c->cat, c->target, v, origin, &c->features, e);
	if (strcmp(k, "append-profile") == 0)
		return load_appended(c, v, base, origin, e);
	if (strcmp(k, "env-pass") == 0)
		return sh_env_pass_parse(v, &c->env_pass, e) < 0 ? sh_err_prefix(e, "%s", origin) : 0;
	if (strcmp(k, "sandbox") == 0) {
		if (check_sandbox_value(v, origin, e) < 0)
			return -1;
		set_single(&c->sandbox, &c->sandbox_origin, v, origin);
		return 0;
	}
	if (strcmp(k, "network") == 0) {
		if (check_network_value(v, origin, e) < 0)
			return -1;
		set_single(&c->network, &c->network_origin, v, origin);
		return 0;
	}
	if (strcmp(k, "allow-domains") == 0)
		return add_domains(&c->allow_domains, &c->allow_domain_origins, v, origin, e);
	if (strcmp(k, "deny-domains") == 0)
		return add_domains(&c->deny_domains, &c->deny_domain_origins, v, origin, e);
	if (strcmp(k, "publish") == 0)
		return add_publish(c, v, origin, e);
	return sh_fail(e, SH_EXIT_USAGE, 0, "%s: unknown key '%s'", origin, k);
}

static int apply_config(struct sh_context *c, const struct sh_wdconfig *kv, const char *base,
			struct sh_err *e)
{
	for (size_t i = 0; i < kv->n; i++) {
		char *origin = sh_xasprintf("%s:%u", kv->origin, kv->ent[i].line);
		int rc = apply_entry(c, &kv->ent[i], origin, base, e);
		free(origin);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Apply the entries of a trusted <workdir>/.safehouse. */
static int apply_wdconfig(struct sh_context *c, struct sh_err *e)
{
	return apply_config(c, &c->wdconfig, c->workdir, e);
}

/* The system (SYSCONFDIR/config) or user ($XDG_CONFIG_HOME/safehouse/config)
 * layer: absent is fine; relative paths are taken from the file's directory. */
static int load_layer_file(struct sh_context *c, const char *path, struct sh_err *e)
{
	struct sh_wdconfig kv = { 0 };
	struct sh_err le = { 0 };
	char *buf = NULL, *dir;
	size_t len = 0;
	int rc = 0;

	if (sh_read_small_file(path, 0, SH_WDCONFIG_MAX_SIZE, &buf, &len, &le) < 0) {
		if (le.errnum == ENOENT || le.errnum == ENOTDIR)
			return 0;
		*e = le;
		return -1;
	}
	dir = sh_path_parent(path);
	rc = sh_wdconfig_parse(&kv, buf, len, path, e);
	if (rc == 0)
		rc = apply_config(c, &kv, dir, e);
	sh_wdconfig_free(&kv);
	free(dir);
	free(buf);
	return rc;
}

static int load_config_layers(struct sh_context *c, struct sh_err *e)
{
	char *sys = sh_path_join(c->sysconfdir, "config"), *store_dir, *user;
	int rc = load_layer_file(c, sys, e);

	free(sys);
	if (rc < 0)
		return -1;
	/* The user layer lives beside the trusted-workdirs store. */
	store_dir = sh_path_parent(c->trust_store);
	user = sh_path_join(store_dir, "config");
	rc = load_layer_file(c, user, e);
	free(user);
	free(store_dir);
	return rc;
}

static int load_wdconfig(struct sh_context *c, struct sh_err *e)
{
	int r;

	if (!c->workdir) {
		c->wdconfig_status = sh_xstrdup("none (workdir disabled)");
		return 0;
	}
	if (!c->trust.trusted) {
		c->wdconfig_status = sh_xstrdup(sh_wdconfig_present(c->workdir)
							? "present but ignored (not trusted)"
							: "absent");
		return 0;
	}
	r = sh_wdconfig_load(&c->wdconfig, c->workdir, e);
	if (r < 0)
		return -1;
	c->wdconfig_status = sh_xasprintf("%s (%zu entries)", r ? "loaded" : "absent",
					  c->wdconfig.n);
	return r ? apply_wdconfig(c, e) : 0;
}

static int env_and_cli_grants(struct sh_context *c, const struct sh_options *o, struct sh_err *e)
{
	const char *v;

	if ((v = getenv("SAFEHOUSE_ADD_DIRS")) && *v &&
	    grant_spec(c, v, true, NULL, "SAFEHOUSE_ADD_DIRS", e) < 0)
		return -1;
	if ((v = getenv("SAFEHOUSE_ADD_DIRS_RO")) && *v &&
	    grant_spec(c, v, false, NULL, "SAFEHOUSE_ADD_DIRS_RO", e) < 0)
		return -1;
	for (size_t i = 0; i < o->add_dirs.n; i++)
		if (grant_spec(c, o->add_dirs.v[i], true, NULL, "--add-dirs", e) < 0)
			return -1;
	for (size_t i = 0; i < o->add_dirs_ro.n; i++)
		if (grant_spec(c, o->add_dirs_ro.v[i], false, NULL, "--add-dirs-ro", e) < 0)
			return -1;
	return 0;
}

/* ---- what git follows from the repository, guarded like .git/config ----
 *
 * Git reads and runs more than .git/config and .git/hooks: files its config
 * includes, a core.hooksPath, programs named by path in config values, the
 * git dirs of submodules and worktrees, and whatever symlinks on those
 * paths lead to.  The launcher reads the repository's config (untrusted:
 * regular files only, never through a final symlink, bounded) and lists
 * what git would follow; the policy then denies writing each (a symlink
 * denied is pinned by the planner; a missing path cannot be created). */

/* May the sandbox write at path (canonical)?  The workdir and the
 * writable grants. */
static bool writable_inside(const struct sh_context *c, const char *path)
{
	if (c->workdir && sh_path_is_under(path, c->workdir))
		return true;
	for (size_t i = 0; i < c->ngrants; i++)
		if (c->grants[i].writable && sh_path_is_under(path, c->grants[i].path))
			return true;
	return false;
}

static void guard_add(struct sh_context *c, const char *path, bool dir)
{
	if (sh_has_ctl(path)) { /* no rule can name it */
		sh_warn("git follows '%s' from this repository, a name with control characters: "
			"it stays writable inside; rename it", path);
		return;
	}
	/* never the workdir, a grant or an ancestor of either: the whole
	 * tree would turn read-only (said instead) */
	bool whole = c->workdir && sh_path_is_under(c->workdir, path);
	for (size_t i = 0; !whole && i < c->ngrants; i++)
		whole = c->grants[i].writable && sh_path_is_under(c->grants[i].path, path);
	if (whole) {
		sh_warn("git follows '%s' from this repository (a hooks or include path, or a link "
			"on the way), which holds the whole workdir or a grant: it stays writable "
			"inside", path);
		return;
	}
	struct sh_strv *l = dir ? &c->git_hooks_dirs : &c->git_includes;
	if (!sh_strv_contains(l, path))
		sh_strv_push(l, path);
}

static int guard_link(void *arg, const char *dir, const char *link)
{
	struct sh_context *c = arg;
	if (writable_inside(c, dir))
		guard_add(c, link, false); /* pinned: it cannot be swapped */
	return 0;
}

/* Guard the path git follows when it opens p (absolute, as written): every
 * symlink met on the way that sits where the sandbox may write, and the
 * object reached (dir: a directory whose content runs).  A missing tail is
 * guarded where it would be created.  Returns the path reached (caller
 * frees), or NULL. */
static char *guard_followed(struct sh_context *c, const char *p, bool dir)
{
	char *cur = follow_path(p, guard_link, c);
	if (cur && strcmp(cur, "/") != 0 && writable_inside(c, cur))
		guard_add(c, cur, dir);
	return cur;
}

/* A path from a config value: "~/" is the home, relative ones are taken
 * from base. */
static char *config_path(const struct sh_context *c, const char *v, const char *base)
{
	if (strncmp(v, "~/", 2) == 0)
		return c->home ? sh_path_join(c->home, v + 2) : NULL;
	return v[0] == '/' ? sh_xstrdup(v) : sh_path_join(base, v);
}

static void guard_gitdir(struct sh_context *c, const char *gitdir, int depth);

/* The config file cfg of a git dir: what it includes (git follows ten
 * levels), its core.hooksPath, and programs it names by path. */
static void guard_config(struct sh_context *c, const char *cfg, int depth)
{
	struct sh_err ignored;
	struct sh_strv keys = { 0 };
	char *buf = NULL, *dir = sh_path_parent(cfg);
	size_t len = 0;
	if (depth > 10 || sh_read_small_file(cfg, O_NOFOLLOW, 1 << 20, &buf, &len, &ignored) < 0 ||
	    sh_audit_gitconfig_keys(buf, len, false, &keys) < 0)
		goto out;
	for (size_t i = 0; i < keys.n; i++) {
		char *eq = strchr(keys.v[i], '=');
		if (!eq || !eq[1])
			continue;
		*eq = '\0';
		const char *k = keys.v[i], *v = eq + 1;
		size_t kl = strlen(k);
		bool inc = strcmp(k, "include.path") == 0 ||
			   (strncmp(k, "includeif.", 10) == 0 && kl > 15 &&
			    strcmp(k + kl - 5, ".path") == 0);
		char *p = NULL;
		if (inc) { /* relative to the including file */
			p = config_path(c, v, dir);
			char *reached = p ? guard_followed(c, p, false) : NULL;
			if (reached)
				guard_config(c, reached, depth + 1);
			free(reached);
		} else if (strcmp(k, "core.hookspath") == 0) { /* from the working tree */
			p = config_path(c, v, c->workdir);
			free(p ? guard_followed(c, p, true) : NULL);
		} else {
			/* a program named by path: the value's first word (alias
			 * "!./x"); relative to the working tree, where git runs it */
			const char *w = v + (v[0] == '!');
			w += strspn(w, " \t");
			size_t wl = strcspn(w, " \t");
			char *word = sh_xstrndup(w, wl);
			if (strchr(word, '/')) {
				p = config_path(c, word, c->workdir);
				free(p ? guard_followed(c, p, false) : NULL);
			}
			free(word);
		}
		free(p);
	}
out:
	sh_strv_free(&keys);
	free(buf);
	free(dir);
}

/* A git dir (canonical): its own code-bearing parts as git follows them,
 * its config and config.worktree, and the git dirs of its submodules
 * (modules/, at any depth: a submodule at libs/foo has modules/libs/foo)
 * and worktrees (worktrees/<id>). */
static void guard_gitdir(struct sh_context *c, const char *gitdir, int depth)
{
	static const char *const files[] = { "config", "config.worktree", "commondir", "gitdir",
					     "objects/info/alternates" };
	static const char *const dirs[] = { "hooks", "info" };
	if (depth > 8)
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *p = sh_path_join(gitdir, files[i]);
		char *reached = guard_followed(c, p, false);
		if (reached && i < 2)
			guard_config(c, reached, 0);
		free(reached);
		free(p);
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char *p = sh_path_join(gitdir, dirs[i]);
		char *reached = guard_followed(c, p, true);
		/* hooks that are links lead elsewhere: guarded too; a hook
		 * with other names (hard links) is said */
		DIR *d = reached && i == 0 ? opendir(reached) : NULL;
		for (struct dirent *de; d && (de = readdir(d));) {
			if (de->d_name[0] == '.')
				continue;
			char *h = sh_path_join(reached, de->d_name);
			struct stat st;
			if (lstat(h, &st) == 0 && S_ISLNK(st.st_mode))
				free(guard_followed(c, h, false));
			else if (lstat(h, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink > 1 &&
				 writable_inside(c, h))
				sh_warn("the hook '%s' has other names (hard links): one where the "
					"sandbox may write would let it be changed inside", h);
			free(h);
		}
		if (d)
			closedir(d);
		free(reached);
		free(p);
	}
	/* submodules' and worktrees' git dirs */
	static const char *const subs[] = { "modules", "worktrees" };
	for (size_t s = 0; s < 2; s++) {
		char *base = sh_path_join(gitdir, subs[s]);
		struct sh_strv todo = { 0 };
		sh_strv_push(&todo, base);
		for (size_t k = 0; k < todo.n && k < 512; k++) {
			DIR *d = opendir(todo.v[k]);
			for (struct dirent *de; d && (de = readdir(d));) {
				if (de->d_name[0] == '.' && (!de->d_name[1] ||
							     (de->d_name[1] == '.' && !de->d_name[2])))
					continue;
				char *sub = sh_path_join(todo.v[k], de->d_name), *head;
				struct stat st;
				if (lstat(sub, &st) < 0 || !S_ISDIR(st.st_mode)) {
					free(sub);
					continue;
				}
				head = sh_path_join(sub, "HEAD");
				if (s == 1 || access(head, F_OK) == 0)
					guard_gitdir(c, sub, depth + 1); /* a git dir */
				else if (s == 0)
					sh_strv_push(&todo, sub); /* a step of a name with '/' */
				free(head);
				free(sub);
			}
			if (d)
				closedir(d);
		}
		sh_strv_free(&todo);
		free(base);
	}
}

static void git_guarded_paths(struct sh_context *c)
{
	if (!c->workdir)
		return;
	char *gitdir = sh_path_join(c->workdir, ".git");
	struct stat st;
	if (lstat(gitdir, &st) == 0 && S_ISDIR(st.st_mode))
		guard_gitdir(c, gitdir, 0);
	free(gitdir);
	if (c->is_worktree) {
		guard_gitdir(c, c->worktree.gitdir, 0);
		char *cfg = sh_path_join(c->worktree.commondir, "config");
		guard_config(c, cfg, 0);
		free(cfg);
		char *h = sh_path_join(c->worktree.commondir, "hooks");
		free(guard_followed(c, h, true));
		free(h);
	}
}

static int worktree_grants(struct sh_context *c, struct sh_err *e)
{
	int r;

	if (!c->workdir)
		return 0;
	r = sh_worktree_detect(c->workdir, &c->worktree, e);
	if (r < 0)
		return -1;
	c->is_worktree = r == 1;
	if (!c->is_worktree)
		return 0;
	char *canon = NULL;
	bool is_dir = false;
	int rc = sh_path_resolve(c->worktree.commondir, c->home, NULL, &canon, &is_dir, e);
	if (rc == 0)
		add_grant(c, canon, true, is_dir, "worktree common git dir");
	free(canon);
	for (size_t i = 0; rc == 0 && i < c->worktree.siblings.n; i++) {
		/* One path (never split on ':'); a sibling that vanished since
		 * detection is simply not granted. */
		struct sh_err ignored;
		char *sib = NULL;
		bool sib_dir = false;
		if (sh_path_resolve(c->worktree.siblings.v[i], c->home, NULL, &sib, &sib_dir,
				    &ignored) == 0)
			add_grant(c, sib, false, sib_dir, "sibling worktree (snapshot at launch)");
		free(sib);
	}
	return rc;
}

/* Requirements that can be checked before assembly, and the mandatory
 * appended profiles (after the user's own, so they have the last word). */
static int apply_requirements(struct sh_context *c, struct sh_err *e)
{
	const struct sh_requirements *r = &c->req;

	if (r->forbid_env.value && c->opt->env_mode != SH_ENV_SANITIZED)
		return sh_fail(e, SH_EXIT_USAGE, 0, "--env is forbidden by the administrator's "
			       "requirement forbid-env at %s", r->forbid_env.origin);
	if (r->forbid_danger.value && strcmp(c->sandbox, "danger-full-access") == 0)
		return sh_fail(e, SH_EXIT_USAGE, 0, "sandbox policy danger-full-access (from %s) is "
			       "forbidden by the administrator's requirement "
			       "forbid-danger-full-access at %s", c->sandbox_origin,
			       r->forbid_danger.origin);
	if (r->forbid_publish.value && c->publish.n)
		return sh_fail(e, SH_EXIT_USAGE, 0, "publishing ports (publish %s from %s) is forbidden "
			       "by the administrator's requirement forbid-publish at %s",
			       c->publish.v[0], c->publish_origins.v[0], r->forbid_publish.origin);
	char *what = sh_xasprintf("sandbox policy '%s' (from %s)", c->sandbox, c->sandbox_origin);
	int rc = sh_req_check_allowed(&r->allowed_sandbox, "allowed-sandbox", c->sandbox, what, e);
	free(what);
	c->deny_paths = sh_xcalloc(r->deny_path.n + 1, sizeof(char *));
	c->deny_origins = sh_xcalloc(r->deny_path.n + 1, sizeof(char *));
	for (size_t i = 0; i < r->deny_path.n; i++) {
		c->deny_paths[i] = r->deny_path.v[i].value;
		c->deny_origins[i] = r->deny_path.v[i].origin;
	}
	for (size_t i = 0; rc == 0 && i < r->append_profile.n; i++) {
		char *origin = sh_xasprintf("requirement %s", r->append_profile.v[i].origin);
		rc = load_appended(c, r->append_profile.v[i].value, "/", origin, e);
		free(origin);
	}
	return rc;
}

int sh_context_build(struct sh_context *c, const struct sh_options *o, struct sh_err *e)
{
	const char *pdir = o->profiles_dir ? o->profiles_dir : getenv("SAFEHOUSE_PROFILES_DIR");
	const char *v;

	memset(c, 0, sizeof(*c));
	c->opt = o;
	c->target = sh_xstrdup(o->target ? o->target : host_target());
	if (pdir && !*pdir)
		pdir = NULL;
	c->profiles_source = pdir ? sh_xasprintf("directory %s", pdir) : sh_xstrdup("built-in");
	if (pdir) {
		struct sh_err ignored;
		if (sh_path_canon(pdir, &c->profiles_dir, &ignored) < 0)
			c->profiles_dir = NULL; /* the catalog's load reports it */
	}
	c->sysconfdir = sh_xstrdup(SH_SYSCONFDIR);
	c->sandbox = sh_xstrdup("workspace-write");
	c->sandbox_origin = sh_xstrdup("default");
	if (sh_catalog_load(&c->cat, pdir, c->target, e) < 0 || resolve_home(c, e) < 0 ||
	    resolve_workdir(c, o, e) < 0 || sh_requirements_load(c->sysconfdir, &c->req, e) < 0 ||
	    decide_trust(c, o, e) < 0 || load_config_layers(c, e) < 0 || load_wdconfig(c, e) < 0 ||
	    worktree_grants(c, e) < 0 || env_and_cli_grants(c, o, e) < 0)
		return -1;
	git_guarded_paths(c);
	if (c->req.ignored)
		sh_warn("%s", c->req.ignored);
	if (o->sandbox)
		set_single(&c->sandbox, &c->sandbox_origin, o->sandbox, "--sandbox");
	if (o->network) {
		if (check_network_value(o->network, "--network", e) < 0)
			return -1;
		set_single(&c->network, &c->network_origin, o->network, "--network");
	}
	for (size_t i = 0; i < o->allow_domains.n; i++)
		if (add_domains(&c->allow_domains, &c->allow_domain_origins, o->allow_domains.v[i],
				"--allow-domains", e) < 0)
			return -1;
	for (size_t i = 0; i < o->deny_domains.n; i++)
		if (add_domains(&c->deny_domains, &c->deny_domain_origins, o->deny_domains.v[i],
				"--deny-domains", e) < 0)
			return -1;
	for (size_t i = 0; i < o->publish.n; i++)
		if (add_publish(c, o->publish.v[i], "--publish", e) < 0)
			return -1;
	for (size_t i = 0; i < o->enable.n; i++)
		if (sh_features_parse(&c->cat, c->target, o->enable.v[i], "--enable", &c->features,
				      e) < 0)
			return -1;
	for (size_t i = 0; i < o->append_profiles.n; i++)
		if (load_appended(c, o->append_profiles.v[i], c->cwd, "--append-profile", e) < 0)
			return -1;
	if ((v = getenv("SAFEHOUSE_ENV_PASS")) && *v && sh_env_pass_parse(v, &c->env_pass, e) < 0)
		return sh_err_prefix(e, "SAFEHOUSE_ENV_PASS");
	for (size_t i = 0; i < o->env_pass.n; i++)
		if (sh_env_pass_parse(o->env_pass.v[i], &c->env_pass, e) < 0)
			return -1;
	if (o->env_mode == SH_ENV_FILE) {
		/* Not through a link in the workdir, which the sandbox may have
		 * planted (.env -> ../other-project/.env: its secrets would be
		 * handed in). */
		char *abs = o->env_file[0] == '/' || o->env_file[0] == '~'
				    ? sh_xstrdup(o->env_file)
				    : sh_path_join(c->cwd, o->env_file);
		int r = c->workdir ? wd_entry_no_symlink(c, abs, "--env", e) : 0;
		free(abs);
		if (r < 0 || sh_dotenv_load(&c->env_file, o->env_file, e) < 0)
			return r < 0 ? -1 : sh_err_prefix(e, "--env");
	}
	return apply_requirements(c, e);
}

void sh_context_free(struct sh_context *c)
{
	sh_strv_free(&c->git_includes);
	sh_strv_free(&c->git_hooks_dirs);
	free(c->target);
	free(c->home);
	free(c->workdir);
	free(c->workdir_source);
	free(c->cwd);
	sh_catalog_free(&c->cat);
	free(c->profiles_source);
	free(c->trust_store);
	free(c->config_dir);
	free(c->profiles_dir);
	free(c->wdconfig_status);
	free(c->trust_update);
	sh_wdconfig_free(&c->wdconfig);
	sh_worktree_free(&c->worktree);
	for (size_t i = 0; i < c->ngrants; i++) {
		free(c->grants[i].path);
		free(c->grants[i].origin);
	}
	free(c->grants);
	sh_strv_free(&c->features);
	for (size_t i = 0; i < c->nappended; i++) {
		free(c->appended[i].path);
		free(c->appended[i].text);
		free(c->appended[i].origin);
	}
	free(c->appended);
	sh_strv_free(&c->env_pass);
	sh_dotenv_free(&c->env_file);
	sh_strv_free(&c->notes);
	sh_strv_free(&c->settings);
	free(c->sandbox);
	free(c->sandbox_origin);
	free(c->network);
	free(c->network_origin);
	sh_strv_free(&c->allow_domains);
	sh_strv_free(&c->allow_domain_origins);
	sh_strv_free(&c->deny_domains);
	sh_strv_free(&c->deny_domain_origins);
	sh_strv_free(&c->publish);
	sh_strv_free(&c->publish_origins);
	free(c->deny_paths);
	free(c->deny_origins);
	sh_requirements_free(&c->req);
	free(c->sysconfdir);
	memset(c, 0, sizeof(*c));
}

void sh_context_assemble_in(const struct sh_context *c, struct sh_assemble_in *in)
{
	const struct sh_options *o = c->opt;

	memset(in, 0, sizeof(*in));
	in->cat = &c->cat;
	in->target = c->target;
	in->home = c->home;
	in->workdir = c->workdir;
	in->git_common_dir = c->is_worktree ? c->worktree.commondir : NULL;
	in->git_includes = &c->git_includes;
	in->git_hooks_dirs = &c->git_hooks_dirs;
	in->argv = o->argv;
	in->argc = o->argc;
	in->features = &c->features;
	in->grants = c->grants;
	in->ngrants = c->ngrants;
	in->appended = c->appended;
	in->nappended = c->nappended;
	in->allow_workdir_config_writes = o->allow_workdir_config_writes;
	in->config_dirs[0] = c->config_dir;
	in->config_dirs[1] = c->sysconfdir;
	in->profiles_dir = c->profiles_dir;
	in->allow_profile_writes = o->allow_profile_writes;
	in->allow_agent_config_writes = o->allow_agent_config_writes;
	in->workdir_readonly = strcmp(c->sandbox, "read-only") == 0;
	in->danger_full_access = strcmp(c->sandbox, "danger-full-access") == 0;
	in->network = c->network;
	in->network_origin = c->network_origin;
	in->deny_paths = c->deny_paths;
	in->deny_origins = c->deny_origins;
	in->ndeny = c->req.deny_path.n;
}

static int check_features(const struct sh_requirements *r, const struct sh_strv *f,
			  struct sh_err *e)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct sh_req_item *bad = sh_req_find(&r->forbidden_enable, f->v[i]);
		if (bad)
			return sh_fail(e, SH_EXIT_USAGE, 0, "integration '%s' is forbidden by the "
				       "administrator's requirement forbidden-enable at %s",
				       f->v[i], bad->origin);
		char *what = sh_xasprintf("integration '%s'", f->v[i]);
		int rc = sh_req_check_allowed(&r->allowed_enable, "allowed-enable", f->v[i], what, e);
		free(what);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int sh_context_check_final(const struct sh_context *c, const struct sh_assembly *a,
			   const struct sh_policy *p, struct sh_err *e)
{
	const struct sh_requirements *r = &c->req;
	int mode = sh_context_net_mode(c, p, NULL);
	const char *net = mode == SH_NETMODE_FULL ? "full"
			  : mode == SH_NETMODE_FILTERED ? "filtered" : "none";
	char *what;
	int rc;

	if (check_features(r, &a->features_enabled, e) < 0 ||
	    check_features(r, &a->features_implied, e) < 0)
		return -1;
	what = sh_xasprintf("network mode '%s'", net);
	rc = sh_req_check_allowed(&r->allowed_network, "allowed-network", net, what, e);
	free(what);
	if (rc == 0 && r->deny_domains.n && strcmp(net, "full") == 0)
		rc = sh_fail(e, SH_EXIT_USAGE, 0, "full network cannot honour the administrator's "
			     "requirement deny-domains at %s (use --network=filtered: the "
			     "filtering proxy enforces it)", r->deny_domains.v[0].origin);
	return rc;
}

int sh_context_net_mode(const struct sh_context *c, const struct sh_policy *p, const char **why)
{
	struct sh_strv doms = { 0 };
	int mode;

	if (c->network) {
		if (why)
			*why = "explicit setting";
		return strcmp(c->network, "full") == 0       ? SH_NETMODE_FULL
		       : strcmp(c->network, "filtered") == 0 ? SH_NETMODE_FILTERED
							     : SH_NETMODE_NONE;
	}
	if (sh_policy_full_network(p, NULL)) {
		if (why)
			*why = "the policy allows all outbound network";
		return SH_NETMODE_FULL;
	}
	sh_policy_domains(p, &doms);
	mode = doms.n ? SH_NETMODE_FILTERED : SH_NETMODE_NONE;
	sh_strv_free(&doms);
	if (why)
		*why = mode == SH_NETMODE_FILTERED ? "the profiles declare network destinations"
						   : "no profile allows network access";
	return mode;
}

const char *sh_context_sysconfdir(void)
{
	return SH_SYSCONFDIR;
}

/* The socket a passed variable names: an absolute path, a unix:// URL
 * (DOCKER_HOST), or WAYLAND_DISPLAY's name under XDG_RUNTIME_DIR.  NULL if
 * none. */
static char *socket_of(const char *name, const char *v)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");

	if (sh_str_starts(v, "unix://"))
		v += strlen("unix://");
	if (v[0] == '/')
		return sh_xstrdup(v);
	if (strcmp(name, "WAYLAND_DISPLAY") == 0 && rt && rt[0] == '/' && *v && !strchr(v, '/'))
		return sh_path_join(rt, v);
	return NULL;
}

int sh_context_add_socket_grants(struct sh_context *c, const struct sh_strv *names)
{
	int added = 0;

	for (size_t i = 0; i < names->n; i++) {
		const char *v = getenv(names->v[i]);
		struct stat st;
		char *path, *canon = NULL;
		struct sh_err ignored;

		if (!v || sh_has_ctl(v) || !(path = socket_of(names->v[i], v)))
			continue;
		/* Only a real socket, resolved by the host: a variable is not a
		 * way to grant an arbitrary file. */
		if (sh_path_canon(path, &canon, &ignored) == 0 && stat(canon, &st) == 0 &&
		    S_ISSOCK(st.st_mode)) {
			char *origin = sh_xasprintf("socket named by $%s (an integration passes it)",
						    names->v[i]);
			bool dup = false;
			for (size_t j = 0; j < c->ngrants; j++)
				dup = dup || strcmp(c->grants[j].path, canon) == 0;
			if (!dup) {
				add_grant(c, canon, true, false, origin);
				added++;
			}
			free(origin);
		}
		free(canon);
		free(path);
	}
	return added;
}
