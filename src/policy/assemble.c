/* Layering (later rules win):
 *   generated definitions, 00-base, 10-system-runtime, generated traversal of
 *   / -> $HOME, 20-network, 30-toolchains, 40-shared, 50-integrations-core,
 *   the selected 55-integrations-optional, the matched 60-agents and 65-apps,
 *   generated grants (config, env, CLI), wide-read, the workdir grant,
 *   appended profiles, their write protections, and finally the deny-write on
 *   <workdir>/.safehouse. */
#include "policy/assemble.h"

#include <stdlib.h>
#include <string.h>

#include "config/envbuild.h"
#include "profile/profile.h"

static const char *const base_layers[] = { "00-base/", "10-system-runtime/", NULL };
static const char *const mid_layers[] = { "20-network/", "30-toolchains/", "40-shared/",
					  "50-integrations-core/", NULL };
#define L_OPTIONAL "55-integrations-optional/"
#define L_AGENTS "60-agents/"
#define L_APPS "65-apps/"
#define WIDE_READ L_OPTIONAL "wide-read.sb"

/* Pseudo-features that are not (only) a profile file. */
static const char *const pseudo_features[] = { "all-agents", NULL };

static bool applies_to_target(const struct sh_catalog *cat, const struct sh_embedded *p,
			      const char *target)
{
	const struct sh_profile_meta *m = sh_catalog_meta(cat, p);
	return m->targets.n == 0 || sh_strv_contains(&m->targets, target);
}

/* "55-integrations-optional/docker.sb" -> "docker" */
static char *stem(const char *name)
{
	const char *b = strrchr(name, '/');
	b = b ? b + 1 : name;
	size_t n = strlen(b);
	if (n > 3 && strcmp(b + n - 3, ".sb") == 0)
		n -= 3;
	return sh_xstrndup(b, n);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void sh_features_available(const struct sh_catalog *cat, const char *target, struct sh_strv *out)
{
	for (size_t i = 0; i < cat->n; i++) {
		const struct sh_embedded *p = &cat->items[i];
		if (!sh_str_starts(p->name, L_OPTIONAL) || !applies_to_target(cat, p, target))
			continue;
		char *s = stem(p->name);
		if (!sh_strv_contains(out, s))
			sh_strv_push_take(out, s);
		else
			free(s);
	}
	for (size_t i = 0; pseudo_features[i]; i++)
		if (!sh_strv_contains(out, pseudo_features[i]))
			sh_strv_push(out, pseudo_features[i]);
	if (out->n)
		qsort(out->v, out->n, sizeof(char *), cmp_str);
}

int sh_features_parse(const struct sh_catalog *cat, const char *target, const char *raw,
		      const char *origin, struct sh_strv *out, struct sh_err *e)
{
	struct sh_strv avail = { 0 }, words = { 0 };
	int rc = 0;

	sh_features_available(cat, target, &avail);
	sh_strv_split(&words, raw, ',');
	for (size_t i = 0; i < words.n && rc == 0; i++) {
		char *w = sh_xstrlower(words.v[i]);
		/* trim blanks around comma-separated names */
		char *s = w;
		while (*s == ' ' || *s == '\t')
			s++;
		size_t n = strlen(s);
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			s[--n] = '\0';
		if (!*s) {
			free(w);
			continue;
		}
		if (!sh_strv_contains(&avail, s)) {
			struct sh_buf b = { 0 };
			for (size_t j = 0; j < avail.n; j++)
				sh_buf_printf(&b, "%s%s", j ? ", " : "", avail.v[j]);
			rc = sh_fail(e, SH_EXIT_USAGE, 0, "%s: unknown feature '%s' (valid: %s)",
				     origin, s, sh_buf_str(&b));
			sh_buf_free(&b);
		} else if (!sh_strv_contains(out, s))
			sh_strv_push(out, s);
		free(w);
	}
	sh_strv_free(&words);
	sh_strv_free(&avail);
	return rc;
}

/* "@openai/codex@0.5" -> "codex"; "aider-chat==0.8" -> "aider-chat" */
static char *package_name(const char *spec)
{
	const char *s = spec;
	if (*s == '@') {
		const char *slash = strchr(s, '/');
		if (slash)
			s = slash + 1;
	}
	size_t n = strcspn(s, "@=<>~![ ");
	char *name = sh_xstrndup(s, n);
	char *lower = sh_xstrlower(name);
	free(name);
	return lower;
}

char *sh_agent_word(char **argv, int argc)
{
	return sh_agent_word_at(argv, argc, NULL);
}

char *sh_agent_word_at(char **argv, int argc, int *index)
{
	static const char *const runners[] = { "npx", "bunx", "pnpx", "uvx", "pipx", NULL };
	int i = 0;

	while (i < argc && sh_env_assignment_valid(argv[i]))
		i++;
	if (i >= argc)
		return NULL;
	const char *b = strrchr(argv[i], '/');
	char *word = sh_xstrlower(b ? b + 1 : argv[i]);
	for (size_t r = 0; runners[r]; r++) {
		if (strcmp(word, runners[r]) != 0)
			continue;
		/* The package follows, after the runner's own options (and pipx's "run"). */
		for (int j = i + 1; j < argc; j++) {
			if (argv[j][0] == '-' || (r == 4 && strcmp(argv[j], "run") == 0))
				continue;
			free(word);
			if (index)
				*index = j;
			return package_name(argv[j]);
		}
		break;
	}
	if (index)
		*index = i;
	return word;
}

static bool profile_matches_word(const struct sh_catalog *cat, const struct sh_embedded *p,
				 const char *word)
{
	const struct sh_profile_meta *m = sh_catalog_meta(cat, p);
	bool hit;

	if (m->commands.n)
		hit = sh_strv_contains(&m->commands, word);
	else {
		char *s = stem(p->name);
		hit = strcmp(s, word) == 0;
		free(s);
	}
	return hit;
}

static void add_source(struct sh_assembly *a, const char *name, char *text,
		       enum sh_src_kind kind)
{
	sh_xgrow(&a->src, &a->cap, a->n + 1, sizeof(*a->src));
	a->src[a->n].name = sh_xstrdup(name);
	a->src[a->n].text = text;
	a->src[a->n].len = strlen(text);
	a->src[a->n].kind = kind;
	a->src[a->n].note = NULL;
	a->n++;
}

/* Select agent (and app) profiles matched by the command word. */
static void select_agents(const struct sh_assemble_in *in, struct sh_assembly *a,
			  struct sh_strv *chosen)
{
	bool all = sh_strv_contains(in->features, "all-agents");

	a->agent_word = sh_agent_word(in->argv, in->argc);
	for (size_t i = 0; i < in->cat->n; i++) {
		const struct sh_embedded *p = &in->cat->items[i];
		bool agent = sh_str_starts(p->name, L_AGENTS), app = sh_str_starts(p->name, L_APPS);
		if ((!agent && !app) || !applies_to_target(in->cat, p, in->target))
			continue;
		if (all && agent) {
			sh_strv_push(chosen, p->name);
			continue;
		}
		if (!a->agent_word || !profile_matches_word(in->cat, p, a->agent_word))
			continue;
		if (agent && a->agent)
			continue; /* first match wins */
		sh_strv_push(chosen, p->name);
		if (agent) {
			a->agent = sh_xstrdup(p->name);
			a->agent_reason = sh_xasprintf("command '%s' matches %s", a->agent_word,
						       p->name);
		}
	}
	if (!a->agent_reason)
		a->agent_reason = a->agent_word
			? sh_xasprintf("no agent profile matches command '%s'", a->agent_word)
			: sh_xstrdup("no command given");
	if (all)
		a->agent_reason = (free(a->agent_reason),
				   sh_xasprintf("all agent profiles loaded (--enable=all-agents)%s%s",
						a->agent ? "; selected " : "", a->agent ? a->agent : ""));
}

/* Transitive closure of $$require$$ over the chosen set. */
static int close_requires(const struct sh_assemble_in *in, struct sh_strv *chosen,
			  struct sh_strv *implied, struct sh_err *e)
{
	for (size_t i = 0; i < chosen->n; i++) {
		const struct sh_embedded *p = sh_catalog_find(in->cat, chosen->v[i]);
		int rc = 0;

		if (!p)
			return sh_fail(e, SH_EXIT_PROFILE, 0, "unknown profile '%s'", chosen->v[i]);
		const struct sh_profile_meta *m = sh_catalog_meta(in->cat, p);
		for (size_t j = 0; j < m->requires.n && rc == 0; j++) {
			const char *r = m->requires.v[j];
			if (!sh_catalog_find(in->cat, r))
				rc = sh_fail(e, SH_EXIT_PROFILE, 0,
					     "%s: $$require$$ names unknown profile '%s'", p->name, r);
			else if (!sh_strv_contains(chosen, r)) {
				sh_strv_push(chosen, r);
				if (sh_str_starts(r, L_OPTIONAL))
					sh_strv_push_take(implied, stem(r));
			}
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

static void emit_layer(const struct sh_assemble_in *in, struct sh_assembly *a,
		       const struct sh_strv *chosen, const char *layer, bool all_of_layer)
{
	for (size_t i = 0; i < in->cat->n; i++) {
		const struct sh_embedded *p = &in->cat->items[i];
		if (!sh_str_starts(p->name, layer) || strcmp(p->name, WIDE_READ) == 0)
			continue;
		if (!(all_of_layer && applies_to_target(in->cat, p, in->target)) &&
		    !sh_strv_contains(chosen, p->name))
			continue;
		sh_strv_push(&a->profiles, p->name);
		add_source(a, p->name, sh_xstrndup(p->text, p->len), SH_SRC_PROFILE);
	}
}

/* Metadata-only traversal of every ancestor of path (excluding path itself
 * when exclusive), so tools can stat and walk down to granted paths. */
static void traversal_rule(struct sh_buf *b, const char *path, bool include_self)
{
	char *tmp = sh_xstrdup(path);
	struct sh_strv anc = { 0 };

	if (include_self && strcmp(tmp, "/") != 0)
		sh_strv_push(&anc, tmp);
	for (char *s = strrchr(tmp, '/'); s; s = strrchr(tmp, '/')) {
		if (s == tmp) {
			sh_strv_push(&anc, "/");
			break;
		}
		*s = '\0';
		sh_strv_push(&anc, tmp);
	}
	if (anc.n) {
		sh_buf_puts(b, "(allow file-read-metadata");
		for (size_t i = anc.n; i-- > 0;) {
			char *q = sh_sbpl_quote(anc.v[i]);
			sh_buf_printf(b, "\n    (literal %s)", q);
			free(q);
		}
		sh_buf_puts(b, ")\n");
	}
	sh_strv_free(&anc);
	free(tmp);
}

static char *gen_definitions(const struct sh_assemble_in *in)
{
	struct sh_buf b = { 0 };
	char *h = sh_sbpl_quote(in->home);

	sh_buf_printf(&b, ";; Definitions for this run.\n(define HOME_DIR %s)\n", h);
	free(h);
	if (in->workdir) {
		char *w = sh_sbpl_quote(in->workdir);
		sh_buf_printf(&b, "(define WORK_DIR %s)\n", w);
		free(w);
	} else
		sh_buf_puts(&b, ";; The workdir grant is disabled (--workdir=): no WORK_DIR.\n");
	return sh_buf_take(&b);
}

static char *gen_traversal(const struct sh_assemble_in *in)
{
	struct sh_buf b = { 0 };
	sh_buf_puts(&b, ";; Metadata-only traversal from / down to $HOME.\n");
	traversal_rule(&b, in->home, true);
	return sh_buf_take(&b);
}

static char *gen_grants(const struct sh_assemble_in *in)
{
	struct sh_buf b = { 0 };

	sh_buf_puts(&b, ";; Grants from the workdir config, the environment and the command line.\n");
	for (size_t i = 0; i < in->ngrants; i++) {
		const struct sh_grant *g = &in->grants[i];
		char *q = sh_sbpl_quote(g->path);
		sh_buf_printf(&b, ";; %s\n", g->origin);
		traversal_rule(&b, g->path, false);
		sh_buf_printf(&b, "(allow file-read*%s (%s %s))\n", g->writable ? " file-write*" : "",
			      g->is_dir ? "subpath" : "literal", q);
		free(q);
	}
	return sh_buf_take(&b);
}

/* safehouse's configuration and trusted-workdirs list decide the next
 * session's policy: a workdir or grant that covers them (~/.config, /etc)
 * must not let the command loosen it (nor create the files: they are
 * protected names when absent). */
static char *gen_config_protection(const struct sh_assemble_in *in)
{
	struct sh_buf b = { 0 };

	sh_buf_puts(&b, ";; safehouse's own configuration cannot be written from inside.\n");
	for (size_t i = 0; i < 2; i++) {
		if (!in->config_dirs[i])
			continue;
		char *q = sh_sbpl_quote(in->config_dirs[i]);
		sh_buf_printf(&b, "(deny file-write* (subpath %s))\n", q);
		free(q);
	}
	if (in->profiles_dir && !in->allow_profile_writes) {
		char *q = sh_sbpl_quote(in->profiles_dir);
		sh_buf_printf(&b, ";; The profiles directory of this run (--allow-profile-writes lifts "
				  "this).\n(deny file-write* (subpath %s))\n", q);
		free(q);
	}
	return sh_buf_take(&b);
}

static char *gen_workdir(const struct sh_assemble_in *in)
{
	struct sh_buf b = { 0 };

	if (in->workdir_readonly)
		sh_buf_puts(&b, ";; --sandbox=read-only: the workdir is readable, not writable.\n");
	else
		sh_buf_puts(&b, ";; The workdir is readable and writable.\n");
	traversal_rule(&b, in->workdir, false);
	sh_buf_printf(&b, "(allow file-read*%s (subpath WORK_DIR))\n",
		      in->workdir_readonly ? "" : " file-write*");
	if (in->workdir_readonly)
		sh_buf_puts(&b, "(deny file-write* (subpath WORK_DIR))\n");
	return sh_buf_take(&b);
}

/* Git metadata in the workdir that makes git run code later, outside the
 * sandbox (threats PERSIST-01..03): hooks, config (core.fsmonitor,
 * core.hooksPath, aliases...), info/ (attributes with filters), commondir and
 * gitdir redirection, alternates.  Objects, refs, logs and the index stay
 * writable so add/commit/branch/stash/rebase work.  The .git entry itself is
 * protected too: renaming it away and recreating it would shed the
 * protections (the mount layer pins it).  Paths that do not exist at launch
 * cannot be protected without placing files on the host; the post-session
 * audit reports them. */
/* A literal path inside an SBPL regex literal #"...": ERE metacharacters
 * get a backslash, and '"' is written \" for the reader (which keeps every
 * other byte of the literal as is). */
static void regex_escape(struct sh_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s && strchr(".[]{}()*+?^$|\\\"", *s))
			sh_buf_putc(b, '\\');
		sh_buf_putc(b, *s);
	}
}

static char *gen_git_protection(const char *workdir, const char *common,
				const struct sh_strv *includes, const struct sh_strv *hooks)
{
	struct sh_buf b = { 0 };

	sh_buf_puts(&b,
		";; Git metadata that runs code later, outside the sandbox, is read-only.\n"
		"(deny file-write*\n"
		"    (workdir-literal \"/.git\")\n"
		"    (workdir-subpath \"/.git/hooks\")\n"
		"    (workdir-literal \"/.git/config\")\n"
		"    (workdir-literal \"/.git/config.worktree\")\n"
		"    (workdir-subpath \"/.git/info\")\n"
		"    (workdir-literal \"/.git/commondir\")\n"
		"    (workdir-literal \"/.git/gitdir\")\n"
		"    (workdir-literal \"/.git/objects/info/alternates\")\n"
		"    (workdir-literal \"/.gitmodules\"))\n"
		";; The same for nested repositories and submodule git dirs that exist at\n"
		";; launch (expanded over the workdir, depth- and count-capped; the\n"
		";; post-session audit reports the rest).\n"
		"(deny file-write* (regex #\"^");
	/* One regex (no top-level '|'), so the planner walks the workdir once. */
	regex_escape(&b, workdir);
	sh_buf_puts(&b, "/(.+/)?\\.git/((modules|worktrees)/[^/]+/)?((hooks|info)(/|$)|"
			"(config|config\\.worktree|commondir|gitdir)$)\"))\n");
	if ((includes && includes->n) || (hooks && hooks->n)) {
		sh_buf_puts(&b, ";; What the repository's config makes git read or run: included files\n"
				";; and core.hooksPath, where they are in the workdir.\n"
				"(deny file-write*\n");
		for (size_t i = 0; includes && i < includes->n; i++) {
			char *q = sh_sbpl_quote(includes->v[i]);
			sh_buf_printf(&b, "    (literal %s)\n", q);
			free(q);
		}
		for (size_t i = 0; hooks && i < hooks->n; i++) {
			char *q = sh_sbpl_quote(hooks->v[i]);
			sh_buf_printf(&b, "    (subpath %s)\n", q);
			free(q);
		}
		sh_buf_puts(&b, ")\n");
	}
	if (common) {
		/* A linked worktree: its common git dir is granted read-write
		 * (objects, refs, its own index and HEAD), its code-bearing
		 * parts are not.  <common>/worktrees/<id> holds each worktree's
		 * pointers. */
		static const char *const lit[] = { "config", "config.worktree", "commondir",
						   "objects/info/alternates" };
		static const char *const sub[] = { "hooks", "info" };
		sh_buf_puts(&b, ";; The linked worktree's common git dir: the same parts.\n"
				"(deny file-write*\n");
		for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
			char *pth = sh_xasprintf("%s/%s", common, sub[i]), *q = sh_sbpl_quote(pth);
			sh_buf_printf(&b, "    (subpath %s)\n", q);
			free(q);
			free(pth);
		}
		for (size_t i = 0; i < sizeof(lit) / sizeof(lit[0]); i++) {
			char *pth = sh_xasprintf("%s/%s", common, lit[i]), *q = sh_sbpl_quote(pth);
			sh_buf_printf(&b, "    (literal %s)\n", q);
			free(q);
			free(pth);
		}
		sh_buf_puts(&b, "    (regex #\"^");
		regex_escape(&b, common);
		sh_buf_puts(&b, "/((modules|worktrees)/[^/]+/)((hooks|info)(/|$)|"
				"(config|config\\.worktree|commondir|gitdir)$)\"))\n");
	}
	return sh_buf_take(&b);
}

/* --network / network= override: decides the general outbound question
 * (specific destinations such as loopback keep their own rules). */
static char *gen_network(const struct sh_assemble_in *in)
{
	bool full = strcmp(in->network, "full") == 0;
	return sh_xasprintf(";; network=%s (from %s)\n(%s network-outbound (remote ip \"*:*\"))\n",
			    in->network, in->network_origin ? in->network_origin : "?",
			    full ? "allow" : "deny");
}

static char *gen_danger(void)
{
	return sh_xstrdup(";; --sandbox=danger-full-access: no filesystem or network restriction.\n"
			  ";; The environment is still sanitized and the process still hardened.\n"
			  "(allow file-read* file-write* process-exec (subpath \"/\"))\n"
			  "(allow network-outbound (remote ip \"*:*\"))\n");
}

static char *gen_requirements(const struct sh_assemble_in *in)
{
	struct sh_buf b = { 0 };

	sh_buf_puts(&b, ";; Administrator requirements: always denied, whatever came before.\n");
	for (size_t i = 0; i < in->ndeny; i++) {
		char *q = sh_sbpl_quote(in->deny_paths[i]);
		sh_buf_printf(&b, ";; %s\n(deny file-read* file-write* (subpath %s))\n",
			      in->deny_origins[i], q);
		free(q);
	}
	return sh_buf_take(&b);
}

/* --allow-agent-config-writes: the selected agent's state directories
 * ($$create-dirs$$) become writable as a whole again, including the files its
 * profile keeps read-only (hooks, MCP lists, permission settings). */
static char *gen_agent_config_writes(const struct sh_assemble_in *in, const struct sh_assembly *a)
{
	struct sh_buf b = { 0 };
	const struct sh_embedded *p = sh_catalog_find(in->cat, a->agent);
	const struct sh_profile_meta *m = p ? sh_catalog_meta(in->cat, p) : NULL;

	sh_buf_printf(&b, ";; --allow-agent-config-writes: %s may rewrite its own configuration.\n",
		      a->agent);
	for (size_t i = 0; m && i < m->create_dirs.n; i++) {
		char *q = sh_sbpl_quote(m->create_dirs.v[i]);
		sh_buf_printf(&b, "(allow file-read* file-write* (home-subpath %s))\n", q);
		free(q);
	}
	return sh_buf_take(&b);
}

static char *gen_protections(const struct sh_assemble_in *in)
{
	struct sh_buf b = { 0 };

	sh_buf_puts(&b, ";; Appended profiles cannot be rewritten from inside "
			"(--allow-profile-writes lifts this).\n");
	for (size_t i = 0; i < in->nappended; i++) {
		char *q = sh_sbpl_quote(in->appended[i].path);
		sh_buf_printf(&b, "(deny file-write* (literal %s))\n", q);
		free(q);
	}
	return sh_buf_take(&b);
}

/* wide-read comes after the grants (reference layering) and denies every
 * agent's credential files, including the selected agent's own, which that
 * agent needs.  So the selected agent (and app) profiles are applied once
 * more right after it: other agents' tokens stay hidden, the selected
 * agent's state stays usable. */
static void emit_wide_read(const struct sh_assemble_in *in, struct sh_assembly *a)
{
	const struct sh_embedded *w = sh_catalog_find(in->cat, WIDE_READ);
	size_t n = a->n;

	sh_strv_push(&a->profiles, WIDE_READ);
	add_source(a, WIDE_READ, sh_xstrndup(w->text, w->len), SH_SRC_PROFILE);
	for (size_t i = 0; i < n; i++) {
		const char *name = a->src[i].name;
		if (!sh_str_starts(name, L_AGENTS) && !sh_str_starts(name, L_APPS))
			continue;
		add_source(a, name, sh_xstrndup(a->src[i].text, a->src[i].len), SH_SRC_PROFILE);
		a->src[a->n - 1].note = "applied again after wide-read";
	}
}

int sh_assemble(const struct sh_assemble_in *in, struct sh_assembly *a, struct sh_err *e)
{
	struct sh_strv chosen = { 0 };
	int rc = -1;

	memset(a, 0, sizeof(*a));
	for (size_t i = 0; i < in->features->n; i++) {
		const char *f = in->features->v[i];
		sh_strv_push(&a->features_enabled, f);
		char *name = sh_xasprintf(L_OPTIONAL "%s.sb", f);
		if (sh_catalog_find(in->cat, name))
			sh_strv_push(&chosen, name);
		free(name);
	}
	select_agents(in, a, &chosen);
	if (close_requires(in, &chosen, &a->features_implied, e) < 0)
		goto out;

	add_source(a, "<generated: definitions>", gen_definitions(in), SH_SRC_GENERATED);
	for (size_t i = 0; base_layers[i]; i++)
		emit_layer(in, a, &chosen, base_layers[i], true);
	add_source(a, "<generated: traversal>", gen_traversal(in), SH_SRC_GENERATED);
	for (size_t i = 0; mid_layers[i]; i++)
		emit_layer(in, a, &chosen, mid_layers[i], true);
	emit_layer(in, a, &chosen, L_OPTIONAL, false);
	emit_layer(in, a, &chosen, L_AGENTS, false);
	emit_layer(in, a, &chosen, L_APPS, false);
	if (in->allow_agent_config_writes && a->agent)
		add_source(a, "<generated: agent config writes>", gen_agent_config_writes(in, a),
			   SH_SRC_GENERATED);
	if (in->ngrants)
		add_source(a, "<generated: grants>", gen_grants(in), SH_SRC_GENERATED);
	if (sh_strv_contains(&chosen, WIDE_READ))
		emit_wide_read(in, a);
	if (in->workdir) {
		add_source(a, "<generated: workdir>", gen_workdir(in), SH_SRC_GENERATED);
		add_source(a, "<generated: git protection>", gen_git_protection(in->workdir, in->git_common_dir,
								      in->git_includes, in->git_hooks_dirs),
			   SH_SRC_GENERATED);
	}
	if (in->network)
		add_source(a, "<generated: network>", gen_network(in), SH_SRC_GENERATED);
	for (size_t i = 0; i < in->nappended; i++)
		add_source(a, in->appended[i].path,
			   sh_xstrndup(in->appended[i].text, in->appended[i].len), SH_SRC_APPENDED);
	if (in->nappended && !in->allow_profile_writes)
		add_source(a, "<generated: profile protections>", gen_protections(in),
			   SH_SRC_GENERATED);
	if (in->workdir && !in->allow_workdir_config_writes)
		add_source(a, "<generated: workdir config protection>",
			   sh_xstrdup(";; The workdir config cannot be written from inside "
				      "(--allow-workdir-config-writes lifts this).\n"
				      "(deny file-write* (workdir-literal \"/.safehouse\"))\n"),
			   SH_SRC_GENERATED);
	if (in->config_dirs[0] || in->config_dirs[1] || (in->profiles_dir && !in->allow_profile_writes))
		add_source(a, "<generated: safehouse config protection>", gen_config_protection(in),
			   SH_SRC_GENERATED);
	if (in->danger_full_access)
		add_source(a, "<generated: danger-full-access>", gen_danger(), SH_SRC_GENERATED);
	if (in->ndeny)
		add_source(a, "<generated: requirements>", gen_requirements(in), SH_SRC_GENERATED);

	/* Features available but not included, and exec-env defaults in order. */
	{
		struct sh_strv avail = { 0 };
		sh_features_available(in->cat, in->target, &avail);
		for (size_t i = 0; i < avail.n; i++)
			if (!sh_strv_contains(&a->features_enabled, avail.v[i]) &&
			    !sh_strv_contains(&a->features_implied, avail.v[i]))
				sh_strv_push(&a->features_skipped, avail.v[i]);
		sh_strv_free(&avail);
	}
	for (size_t i = 0; i < a->profiles.n; i++) {
		const struct sh_embedded *p = sh_catalog_find(in->cat, a->profiles.v[i]);
		const struct sh_profile_meta *m = sh_catalog_meta(in->cat, p);
		for (size_t j = 0; j < m->env_defaults.n; j++)
			sh_strv_push(&a->env_defaults, m->env_defaults.v[j]);
		for (size_t j = 0; j < m->env_pass.n; j++)
			if (!sh_strv_contains(&a->env_pass, m->env_pass.v[j]))
				sh_strv_push(&a->env_pass, m->env_pass.v[j]);
		/* Only the selected agent's own arguments, never another profile's. */
		for (size_t j = 0; a->agent && strcmp(a->profiles.v[i], a->agent) == 0 &&
				   j < m->insert_args.n; j++)
			sh_strv_push(&a->insert_args, m->insert_args.v[j]);
		for (size_t j = 0; j < m->create_dirs.n; j++)
			if (!sh_strv_contains(&a->create_dirs, m->create_dirs.v[j]))
				sh_strv_push(&a->create_dirs, m->create_dirs.v[j]);
	}
	rc = 0;
out:
	sh_strv_free(&chosen);
	if (rc < 0)
		sh_assembly_free(a);
	return rc;
}

void sh_assembly_free(struct sh_assembly *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->src[i].name);
		free(a->src[i].text);
	}
	free(a->src);
	free(a->agent);
	free(a->agent_reason);
	free(a->agent_word);
	sh_strv_free(&a->features_enabled);
	sh_strv_free(&a->features_implied);
	sh_strv_free(&a->features_skipped);
	sh_strv_free(&a->profiles);
	sh_strv_free(&a->env_defaults);
	sh_strv_free(&a->env_pass);
	sh_strv_free(&a->create_dirs);
	sh_strv_free(&a->insert_args);
	memset(a, 0, sizeof(*a));
}

char *sh_assembly_render(const struct sh_assembly *a, const char *target)
{
	struct sh_buf b = { 0 };

	sh_buf_printf(&b, ";; safehouse %s policy (target: %s)\n", SH_VERSION, target);
	for (size_t i = 0; i < a->n; i++) {
		if (a->src[i].note)
			sh_buf_printf(&b, "\n;; ---- %s (%s) ----\n", a->src[i].name, a->src[i].note);
		else
			sh_buf_printf(&b, "\n;; ---- %s ----\n", a->src[i].name);
		sh_buf_append(&b, a->src[i].text, a->src[i].len);
		if (a->src[i].len && a->src[i].text[a->src[i].len - 1] != '\n')
			sh_buf_putc(&b, '\n');
	}
	return sh_buf_take(&b);
}
