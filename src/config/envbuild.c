#include "config/envbuild.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/path.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* Host variables copied in sanitized mode when set.  Nothing here carries
 * credentials by convention (proxy URLs can; upstream passes them too, and
 * without them nothing inside can reach the network through a corporate
 * proxy). */
static const char *const keep_exact[] = {
	"TERM", "COLORTERM", "EDITOR", "VISUAL", "LANG", "LANGUAGE", "TZ",
	"XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME",
	"http_proxy", "https_proxy", "no_proxy", "all_proxy",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
	"NODE_EXTRA_CA_CERTS", "NO_BROWSER", "NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES",
	/* the locale categories by name (a prefix would also pass an
	 * LC_GH_TOKEN), and what the terminal says it is */
	"LC_ALL", "LC_CTYPE", "LC_NUMERIC", "LC_TIME", "LC_COLLATE", "LC_MONETARY",
	"LC_MESSAGES", "LC_PAPER", "LC_NAME", "LC_ADDRESS", "LC_TELEPHONE", "LC_MEASUREMENT",
	"LC_IDENTIFICATION", "TERM_PROGRAM", "TERM_PROGRAM_VERSION",
	NULL,
};
static const char *const keep_prefix[] = { NULL };

/* Substrings that make a dropped variable worth naming in --explain. */
static const char *const secret_words[] = {
	"KEY", "TOKEN", "SECRET", "PASSW", "CREDENTIAL", "AUTH", "PRIVATE", NULL,
};

const char *sh_env_mode_name(enum sh_env_mode m)
{
	switch (m) {
	case SH_ENV_SANITIZED:
		return "sanitized";
	case SH_ENV_FULL:
		return "full";
	case SH_ENV_FILE:
		return "file";
	default:
		return "?";
	}
}

static bool in_list(const char *const *list, const char *name)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

static bool sanitized_keeps(const char *name)
{
	if (in_list(keep_exact, name))
		return true;
	for (size_t i = 0; keep_prefix[i]; i++)
		if (sh_str_starts(name, keep_prefix[i]))
			return true;
	return false;
}

static bool looks_secret(const char *name)
{
	for (size_t i = 0; secret_words[i]; i++)
		if (strcasestr(name, secret_words[i]))
			return true;
	return false;
}

/* Index of name in the vector, or -1. */
static long env_find(const struct sh_strv *env, const char *name)
{
	size_t k = strlen(name);

	for (size_t i = 0; i < env->n; i++)
		if (strncmp(env->v[i], name, k) == 0 && env->v[i][k] == '=')
			return (long)i;
	return -1;
}

const char *sh_env_get(char *const *env, const char *name)
{
	size_t k = strlen(name);

	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], name, k) == 0 && env[i][k] == '=')
			return env[i] + k + 1;
	return NULL;
}

static void env_set(struct sh_strv *env, const char *name, const char *value)
{
	char *kv = sh_xasprintf("%s=%s", name, value);
	long i = env_find(env, name);

	if (i >= 0) {
		free(env->v[i]);
		env->v[i] = kv;
	} else {
		sh_strv_push_take(env, kv);
	}
}

static void push_unique(struct sh_strv *sv, const char *s)
{
	if (!sh_strv_contains(sv, s))
		sh_strv_push(sv, s);
}

bool sh_env_assignment_valid(const char *s)
{
	const char *eq = strchr(s, '=');
	return eq && sh_env_name_valid(s, (size_t)(eq - s));
}

/* LD_* is dropped everywhere unless the user named it in --env-pass. */
static bool ld_blocked(const struct sh_env_opts *o, const char *name)
{
	return sh_str_starts(name, "LD_") && !(o->pass && sh_strv_contains(o->pass, name));
}

struct builder {
	const struct sh_env_opts *o;
	struct sh_strv *out;
	struct sh_env_report *rep;
	struct passwd *pw; /* lazily looked up */
	bool pw_done;
};

static struct passwd *builder_pw(struct builder *b)
{
	if (!b->pw_done) {
		b->pw = getpwuid(getuid());
		b->pw_done = true;
	}
	return b->pw;
}

static const char *host_get(const struct builder *b, const char *name)
{
	return sh_env_get(b->o->host, name);
}

/* Host value if set and non-empty, else the passwd field (may be NULL). */
static const char *host_or_pw(struct builder *b, const char *name, bool home)
{
	const char *v = host_get(b, name);
	struct passwd *pw;

	if (v && *v)
		return v;
	pw = builder_pw(b);
	if (!pw)
		return NULL;
	return home ? pw->pw_dir : pw->pw_name;
}

/* Host PATH (or the default) with ~/.local/bin and /usr/local/bin appended
 * when missing: agents install their CLIs there. */
static char *build_path(const char *host_path, const char *home)
{
	struct sh_strv parts = { 0 };
	struct sh_buf b = { 0 };
	char *local = sh_path_join(home, ".local/bin");

	sh_buf_puts(&b, host_path && *host_path ? host_path : DEFAULT_PATH);
	sh_strv_split(&parts, sh_buf_str(&b), ':');
	if (!sh_strv_contains(&parts, local))
		sh_buf_printf(&b, ":%s", local);
	if (!sh_strv_contains(&parts, "/usr/local/bin"))
		sh_buf_puts(&b, ":/usr/local/bin");
	sh_strv_free(&parts);
	free(local);
	return sh_buf_take(&b);
}

static int base_fixed(struct builder *b, struct sh_err *e)
{
	const char *home = host_or_pw(b, "HOME", true);
	const char *shell = host_get(b, "SHELL");
	const char *user = host_or_pw(b, "USER", false);
	const char *logname = host_get(b, "LOGNAME");
	char *path;

	if (!home || !*home)
		return sh_fail(e, SH_EXIT_SETUP, 0,
			       "cannot determine the home directory (HOME unset, no passwd entry)");
	env_set(b->out, "HOME", home);
	path = build_path(host_get(b, "PATH"), home);
	env_set(b->out, "PATH", path);
	free(path);
	env_set(b->out, "SHELL", shell && *shell ? shell : "/bin/sh");
	if (user)
		env_set(b->out, "USER", user);
	if (logname && *logname)
		env_set(b->out, "LOGNAME", logname);
	else if (user)
		env_set(b->out, "LOGNAME", user);
	return 0;
}

/* Copy host variables per mode; note what is stripped. */
static void base_host(struct builder *b)
{
	char *const *h = b->o->host;

	for (size_t i = 0; h && h[i]; i++) {
		const char *eq = strchr(h[i], '=');
		if (!eq || eq == h[i])
			continue;
		char *name = sh_xstrndup(h[i], (size_t)(eq - h[i]));
		b->rep->n_host++;
		if (ld_blocked(b->o, name) || sh_str_starts(name, "SAFEHOUSE_")) {
			push_unique(&b->rep->stripped, name);
		} else if (env_find(b->out, name) < 0 &&
			   (b->o->mode == SH_ENV_FULL || sanitized_keeps(name) ||
			    (b->o->runtime_dir && strcmp(name, "XDG_RUNTIME_DIR") == 0))) {
			/* First occurrence wins, as with getenv(). */
			sh_strv_push(b->out, h[i]);
		}
		free(name);
	}
}

static void layer_file(struct builder *b)
{
	const struct sh_dotenv *f = b->o->file;

	for (size_t i = 0; f && i < f->vars.n; i++) {
		const char *kv = f->vars.v[i];
		const char *eq = strchr(kv, '=');
		char *name = sh_xstrndup(kv, (size_t)(eq - kv));
		if (ld_blocked(b->o, name)) {
			push_unique(&b->rep->stripped, name);
		} else {
			env_set(b->out, name, eq + 1);
			push_unique(&b->rep->file_vars, name);
		}
		free(name);
	}
}

static void layer_pass(struct builder *b)
{
	const struct sh_strv *p = b->o->pass;

	for (size_t i = 0; p && i < p->n; i++) {
		const char *name = p->v[i];
		const char *v = host_get(b, name);
		if (sh_str_starts(name, "SAFEHOUSE_"))
			push_unique(&b->rep->stripped, name);
		else if (!v)
			push_unique(&b->rep->pass_missing, name);
		else {
			env_set(b->out, name, v);
			push_unique(&b->rep->passed, name);
		}
	}
}

/* Profile defaults (exit_code SH_EXIT_PROFILE) and command-line assignments
 * (SH_EXIT_USAGE); only_unset selects default semantics. */
static int layer_assign(struct builder *b, const struct sh_strv *list, bool only_unset,
			int exit_code, struct sh_err *e)
{
	for (size_t i = 0; list && i < list->n; i++) {
		const char *kv = list->v[i];
		if (!sh_env_assignment_valid(kv)) {
			if (sh_has_ctl(kv))
				return sh_fail(e, exit_code, 0,
					       "invalid environment assignment (control characters)");
			return sh_fail(e, exit_code, 0, "invalid environment assignment '%s'", kv);
		}
		const char *eq = strchr(kv, '=');
		char *name = sh_xstrndup(kv, (size_t)(eq - kv));
		if (ld_blocked(b->o, name)) {
			push_unique(&b->rep->stripped, name);
		} else if (only_unset && env_find(b->out, name) >= 0) {
			push_unique(&b->rep->defaults_kept, name);
		} else {
			env_set(b->out, name, eq + 1);
			if (only_unset)
				push_unique(&b->rep->defaults_set, kv);
		}
		free(name);
	}
	return 0;
}

static void count_host(struct builder *b)
{
	char *const *h = b->o->host;

	for (size_t i = 0; h && h[i]; i++) {
		const char *eq = strchr(h[i], '=');
		if (!eq || eq == h[i])
			continue;
		char *name = sh_xstrndup(h[i], (size_t)(eq - h[i]));
		long j = env_find(b->out, name);
		if (j >= 0 && strcmp(b->out->v[j], h[i]) == 0)
			b->rep->n_host_passed++;
		else if (j < 0 && looks_secret(name) && !sh_str_starts(name, "SAFEHOUSE_"))
			push_unique(&b->rep->dropped_secret, name);
		free(name);
	}
}

static int set_pwd(struct builder *b, struct sh_err *e)
{
	char *cwd = NULL;
	const char *pwd = b->o->pwd;

	if (!pwd) {
		cwd = getcwd(NULL, 0);
		if (!cwd)
			return sh_fail(e, SH_EXIT_SETUP, errno, "cannot get the current directory");
		pwd = cwd;
	}
	env_set(b->out, "PWD", pwd);
	free(cwd);
	return 0;
}

int sh_env_build(const struct sh_env_opts *o, struct sh_strv *out, struct sh_env_report *rep,
		 struct sh_err *e)
{
	struct sh_env_report local = { 0 };
	struct builder b = { o, out, rep ? rep : &local, NULL, false };
	int r = 0;

	*b.rep = (struct sh_env_report){ .mode = o->mode };
	if (o->mode != SH_ENV_FULL)
		r = base_fixed(&b, e);
	if (r == 0) {
		base_host(&b);
		/* Fixed in every mode: the sandbox's /tmp is private and the
		 * child starts in pwd. */
		env_set(out, "TMPDIR", "/tmp");
		r = set_pwd(&b, e);
	}
	if (r == 0) {
		if (o->mode == SH_ENV_FILE)
			layer_file(&b);
		layer_pass(&b);
		r = layer_assign(&b, o->defaults, true, SH_EXIT_PROFILE, e);
	}
	if (r == 0)
		r = layer_assign(&b, o->assign, false, SH_EXIT_USAGE, e);
	if (r == 0)
		count_host(&b);
	if (r < 0) {
		sh_strv_free(out);
		sh_env_report_free(b.rep);
	}
	sh_env_report_free(&local);
	return r;
}

int sh_env_pass_parse(const char *list, struct sh_strv *names, struct sh_err *e)
{
	struct sh_strv f = { 0 };
	int r = 0;

	sh_strv_split(&f, list, ',');
	for (size_t i = 0; i < f.n && r == 0; i++) {
		const char *s = f.v[i];
		size_t n = strlen(s);
		while (*s == ' ' || *s == '\t')
			s++, n--;
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n == 0)
			continue;
		if (!sh_env_name_valid(s, n)) {
			if (sh_has_ctl(f.v[i]))
				r = sh_fail(e, SH_EXIT_USAGE, 0,
					    "--env-pass: invalid variable name (control characters)");
			else
				r = sh_fail(e, SH_EXIT_USAGE, 0,
					    "--env-pass: invalid variable name '%.*s'", (int)n, s);
			break;
		}
		char *name = sh_xstrndup(s, n);
		if (sh_strv_contains(names, name))
			free(name);
		else
			sh_strv_push_take(names, name);
	}
	sh_strv_free(&f);
	return r;
}

int sh_env_check_combo(enum sh_env_mode mode, size_t n_pass, struct sh_err *e)
{
	if (mode != SH_ENV_FULL || n_pass == 0)
		return 0;
	sh_fail(e, SH_EXIT_USAGE, 0, "--env and --env-pass cannot be combined");
	return sh_hint(e, "--env already passes every host variable; use --env-pass alone to "
			  "add a few to the sanitized environment");
}

static void summary_list(struct sh_buf *b, const char *label, const struct sh_strv *sv)
{
	if (!sv->n)
		return;
	sh_buf_printf(b, "; %s: ", label);
	for (size_t i = 0; i < sv->n; i++)
		sh_buf_printf(b, "%s%s", i ? ", " : "", sv->v[i]);
}

char *sh_env_report_summary(const struct sh_env_report *rep)
{
	struct sh_buf b = { 0 };

	sh_buf_printf(&b, "env: %s, %zu of %zu host variables passed", sh_env_mode_name(rep->mode),
		      rep->n_host_passed, rep->n_host);
	summary_list(&b, "dropped credentials", &rep->dropped_secret);
	summary_list(&b, "stripped", &rep->stripped);
	summary_list(&b, "from file", &rep->file_vars);
	summary_list(&b, "--env-pass", &rep->passed);
	summary_list(&b, "--env-pass unset on host", &rep->pass_missing);
	summary_list(&b, "profile defaults", &rep->defaults_set);
	summary_list(&b, "profile defaults already set", &rep->defaults_kept);
	return sh_buf_take(&b);
}

void sh_env_report_free(struct sh_env_report *rep)
{
	sh_strv_free(&rep->passed);
	sh_strv_free(&rep->pass_missing);
	sh_strv_free(&rep->file_vars);
	sh_strv_free(&rep->defaults_set);
	sh_strv_free(&rep->defaults_kept);
	sh_strv_free(&rep->stripped);
	sh_strv_free(&rep->dropped_secret);
}
