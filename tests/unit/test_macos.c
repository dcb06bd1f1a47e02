/* Unit tests: the macOS renderer (render/macos.h) and the macOS profiles.
 * Everything here runs on Linux: the rendered SBPL is checked by re-parsing
 * it with our own compiler, never by sandbox-exec. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "policy/assemble.h"
#include "profile/catalog.h"
#include "profile/profile.h"
#include "profile/sexp.h"
#include "render/macos.h"

#define HOME "/Users/ann"
#define WORK "/Users/ann/src/proj"

struct mr {
	struct sh_catalog cat;
	struct sh_assembly a;
	char *text;          /* rendered SBPL */
	struct sh_policy p;  /* the text, re-parsed in a fresh context */
	struct sh_err e;
	int rc;              /* 0: rendered and re-parsed */
};

struct mr_opts {
	const char *home, *workdir;
	const char *cmd;      /* one command word, or NULL */
	const char *features; /* comma list, or NULL */
	const struct sh_appended *app;
	size_t napp;
	enum sh_net_mode net;
	uint16_t port;
};

static void mr_run(struct mr *m, const struct mr_opts *o)
{
	struct sh_assemble_in in = { 0 };
	struct sh_strv features = { 0 };
	char *argv[] = { (char *)o->cmd, NULL };
	struct sh_macos_render_in ri = { 0 };
	struct sh_profile_ctx *ctx;

	memset(m, 0, sizeof(*m));
	sh_policy_init(&m->p);
	m->rc = -1;
	if (sh_catalog_load(&m->cat, NULL, "macos", &m->e) < 0)
		return;
	if (o->features &&
	    sh_features_parse(&m->cat, "macos", o->features, "test", &features, &m->e) < 0)
		goto out;
	in.cat = &m->cat;
	in.target = "macos";
	in.home = o->home ? o->home : HOME;
	in.workdir = o->workdir;
	in.argv = argv;
	in.argc = o->cmd ? 1 : 0;
	in.features = &features;
	in.appended = o->app;
	in.nappended = o->napp;
	if (sh_assemble(&in, &m->a, &m->e) < 0)
		goto out;
	ri.a = &m->a;
	ri.home = in.home;
	ri.workdir = o->workdir;
	ri.net = o->net;
	ri.proxy_port = o->port;
	if (sh_macos_render(&ri, &m->text, &m->e) < 0)
		goto out;
	/* A fresh context that knows nothing: the text must define everything
	 * itself (HOME_DIR, WORK_DIR, TARGET, the helpers). */
	ctx = sh_profile_ctx_new(NULL, NULL, "linux");
	m->rc = sh_profile_compile(ctx, "<rendered macos>", m->text, strlen(m->text), &m->p, &m->e);
	sh_profile_ctx_free(ctx);
	if (m->rc < 0)
		fprintf(stderr, "# re-parse failed: %s\n", m->e.msg);
out:
	sh_strv_free(&features);
}

static void mr_free(struct mr *m)
{
	sh_policy_free(&m->p);
	sh_assembly_free(&m->a);
	sh_catalog_free(&m->cat);
	free(m->text);
}

static bool allowed(const struct mr *m, const char *op, const char *path)
{
	return sh_policy_check(&m->p, op, path).action == SH_ALLOW;
}

/* Offset of needle in the text, or -1. */
static long pos_of(const struct mr *m, const char *needle)
{
	const char *s = m->text ? strstr(m->text, needle) : NULL;
	return s ? (long)(s - m->text) : -1;
}

/* Does any filter (recursively) of any rule have this kind and argument? */
static bool filter_has(const struct sh_filter *f, enum sh_filter_kind kind, const char *arg)
{
	if (f->kind == kind && f->arg && strcmp(f->arg, arg) == 0)
		return true;
	for (size_t i = 0; i < f->nchildren; i++)
		if (filter_has(&f->children[i], kind, arg))
			return true;
	return false;
}

static bool policy_has(const struct sh_policy *p, enum sh_action act, enum sh_filter_kind kind,
		       const char *arg)
{
	for (size_t i = 0; i < p->nrules; i++)
		for (size_t j = 0; j < p->rules[i].nfilters; j++)
			if (p->rules[i].action == act && filter_has(&p->rules[i].filters[j], kind, arg))
				return true;
	return false;
}

/* A macOS-only filter (mach-lookup global-name ...) whose text contains s. */
static bool policy_has_raw(const struct sh_policy *p, const char *op, const char *s)
{
	for (size_t i = 0; i < p->nrules; i++) {
		const struct sh_rule *r = &p->rules[i];
		bool op_ok = false;
		for (size_t k = 0; k < r->nops; k++)
			op_ok = op_ok || strcmp(r->ops[k], op) == 0;
		for (size_t j = 0; op_ok && j < r->nfilters; j++)
			if (r->filters[j].raw && strstr(r->filters[j].raw, s))
				return true;
	}
	return false;
}

static bool any_filter_arg_prefix(const struct sh_filter *f, const char *prefix)
{
	if (f->arg && strncmp(f->arg, prefix, strlen(prefix)) == 0)
		return true;
	for (size_t i = 0; i < f->nchildren; i++)
		if (any_filter_arg_prefix(&f->children[i], prefix))
			return true;
	return false;
}

static bool any_domain_filter(const struct sh_filter *f)
{
	if (f->kind == SH_F_REMOTE && f->net_kind == SH_NET_DOMAIN)
		return true;
	for (size_t i = 0; i < f->nchildren; i++)
		if (any_domain_filter(&f->children[i]))
			return true;
	return false;
}

/* Top-level forms of the text: counts of (version ...) and (deny default). */
static void count_forms(const char *text, size_t *versions, size_t *deny_defaults,
			struct sh_sexp *root)
{
	struct sh_err e = { 0 };

	*versions = *deny_defaults = 0;
	if (sh_sexp_read("<rendered>", text, strlen(text), root, &e) < 0)
		return;
	for (size_t i = 0; i < root->n; i++) {
		const struct sh_sexp *x = &root->items[i];
		if (x->kind != SH_SX_LIST || x->n < 2 || x->items[0].kind != SH_SX_SYMBOL)
			continue;
		if (strcmp(x->items[0].text, "version") == 0)
			(*versions)++;
		if (strcmp(x->items[0].text, "deny") == 0 && x->n == 2 &&
		    x->items[1].kind == SH_SX_SYMBOL && strcmp(x->items[1].text, "default") == 0)
			(*deny_defaults)++;
	}
}

TEST(macos_render_reparses_and_starts_with_version_and_deny_default)
{
	struct mr m;
	struct mr_opts o = { .workdir = WORK, .cmd = "codex" };
	struct sh_sexp root = { 0 };
	size_t nv, nd;

	mr_run(&m, &o);
	CHECK_INT(m.rc, ==, 0);
	CHECK(m.text != NULL);
	if (!m.text)
		goto out;
	count_forms(m.text, &nv, &nd, &root);
	CHECK_INT(nv, ==, 1);
	CHECK_INT(nd, ==, 1);
	CHECK(root.n >= 2);
	if (root.n >= 2) {
		char *a = sh_sexp_print(&root.items[0]), *b = sh_sexp_print(&root.items[1]);
		CHECK_STR(a, "(version 1)");
		CHECK_STR(b, "(deny default)");
		free(a);
		free(b);
	}
	CHECK_INT(m.p.version, ==, 1);
	CHECK_INT(m.p.default_action, ==, SH_DENY);
	/* real definitions, real helpers, TARGET as a define */
	CHECK_CONTAINS(m.text, "(define HOME_DIR \"" HOME "\")");
	CHECK_CONTAINS(m.text, "(define WORK_DIR \"" WORK "\")");
	CHECK_CONTAINS(m.text, "(define TARGET \"macos\")");
	CHECK_CONTAINS(m.text, "(define (home-subpath rel) (subpath (string-append HOME_DIR rel)))");
	CHECK_CONTAINS(m.text, "(define (workdir-literal rel) (literal (string-append WORK_DIR rel)))");
	/* the home's ancestors: metadata only */
	CHECK(allowed(&m, "file-read-metadata", "/Users"));
	CHECK(!allowed(&m, "file-read-data", "/Users"));
	CHECK(!allowed(&m, "file-read-data", "/Users/bob/notes.txt"));
	/* the workdir, and its final protection */
	CHECK(allowed(&m, "file-write-data", WORK "/main.c"));
	CHECK(!allowed(&m, "file-write-data", WORK "/.safehouse"));
	CHECK(allowed(&m, "file-read-data", "/usr/lib/libSystem.B.dylib"));
	CHECK(!allowed(&m, "file-read-data", HOME "/.ssh/id_ed25519"));
out:
	sh_sexp_free(&root);
	mr_free(&m);
}

TEST(macos_render_layer_order)
{
	static const char overlay[] = ";; user overlay\n(allow file-read* (home-literal \"/.x\"))\n";
	struct sh_appended app = { "/Users/ann/overlay.sb", (char *)overlay, sizeof(overlay) - 1,
				   "--append-profile" };
	struct mr m;
	struct mr_opts o = { .workdir = WORK, .cmd = "codex", .app = &app, .napp = 1 };
	const char *order[] = {
		"(version 1)",
		";; ---- <generated: definitions> ----",
		";; ---- 00-base/base.sb ----",
		";; ---- 10-system-runtime/system.sb ----",
		";; ---- <generated: traversal> ----",
		";; ---- 20-network/network.sb ----",
		";; ---- <generated: network (macos)> ----",
		";; ---- 30-toolchains/homebrew.sb ----",
		";; ---- 55-integrations-optional/keychain.sb ----",
		";; ---- 60-agents/codex.sb ----",
		";; ---- <generated: workdir> ----",
		";; ---- /Users/ann/overlay.sb ----",
		";; ---- <generated: profile protections> ----",
		";; ---- <generated: workdir config protection> ----",
	};
	long last = -1;

	mr_run(&m, &o);
	CHECK_INT(m.rc, ==, 0);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		long p = pos_of(&m, order[i]);
		if (!CHECK(p > last))
			fprintf(stderr, "# out of order or missing: %s\n", order[i]);
		last = p;
	}
	/* the generated definitions are the prelude's, not repeated */
	{
		const char *first = strstr(m.text ? m.text : "", "(define HOME_DIR");
		CHECK(first && !strstr(first + 1, "(define HOME_DIR"));
	}
	/* the macOS base replaced the Linux one */
	CHECK(pos_of(&m, "/private/tmp") > 0);
	CHECK_INT(pos_of(&m, "(subpath \"/proc\")"), ==, -1);
	mr_free(&m);
}

TEST(macos_render_overlay_verbatim_and_effective)
{
	static const char overlay[] =
		";; A Safehouse-style overlay\n"
		"(version 1) (deny default)\n"
		"(allow file-read* file-write*\n"
		"       (home-subpath \"/Library/Application Support/MyTool\"))\n"
		"(deny file-read* (workdir-literal \"/secrets.env\"))\n"
		"(allow file-read* (home-prefix \"/.mytool\") (workdir-subpath \"/vendor\"))\n";
	struct sh_appended app = { "/Users/ann/extra.sb", (char *)overlay, sizeof(overlay) - 1,
				   "--append-profile" };
	struct mr m;
	struct mr_opts o = { .workdir = WORK, .cmd = "codex", .app = &app, .napp = 1 };
	struct sh_sexp root = { 0 };
	size_t nv, nd;

	mr_run(&m, &o);
	CHECK_INT(m.rc, ==, 0);
	CHECK_CONTAINS(m.text, "(allow file-read* file-write*\n"
			       "       (home-subpath \"/Library/Application Support/MyTool\"))\n"
			       "(deny file-read* (workdir-literal \"/secrets.env\"))\n"
			       "(allow file-read* (home-prefix \"/.mytool\") "
			       "(workdir-subpath \"/vendor\"))\n");
	CHECK(allowed(&m, "file-write-data", HOME "/Library/Application Support/MyTool/db"));
	CHECK(!allowed(&m, "file-read-data", WORK "/secrets.env"));
	CHECK(allowed(&m, "file-read-data", WORK "/other.env"));
	CHECK(allowed(&m, "file-read-data", HOME "/.mytoolrc"));
	/* the overlay's own (version 1) (deny default) are commented out */
	count_forms(m.text ? m.text : "", &nv, &nd, &root);
	CHECK_INT(nv, ==, 1);
	CHECK_INT(nd, ==, 1);
	/* and its file is protected afterwards */
	CHECK(!allowed(&m, "file-write-data", "/Users/ann/extra.sb"));
	sh_sexp_free(&root);
	mr_free(&m);
}

TEST(macos_render_escapes_quotes_and_backslashes)
{
	struct mr m;
	struct mr_opts o = { .home = "/Users/a\"b", .workdir = "/Users/a\"b/w\\x\"y", .cmd = "codex" };

	mr_run(&m, &o);
	CHECK_INT(m.rc, ==, 0);
	CHECK_CONTAINS(m.text, "(define HOME_DIR \"/Users/a\\\"b\")");
	CHECK_CONTAINS(m.text, "(define WORK_DIR \"/Users/a\\\"b/w\\\\x\\\"y\")");
	CHECK(allowed(&m, "file-write-data", "/Users/a\"b/w\\x\"y/f.c"));
	CHECK(!allowed(&m, "file-write-data", "/Users/a\"b/w\\x\"y/.safehouse"));
	CHECK(allowed(&m, "file-write-data", "/Users/a\"b/.codex/sessions/s.jsonl"));
	mr_free(&m);
}

TEST(macos_render_workdir_root_has_no_double_slash)
{
	struct mr m;
	struct mr_opts o = { .workdir = "/", .cmd = "codex" };
	bool dbl = false;

	mr_run(&m, &o);
	CHECK_INT(m.rc, ==, 0);
	CHECK_CONTAINS(m.text, "(define WORK_DIR \"/\")");
	CHECK_CONTAINS(m.text, "(define (workdir-literal rel) (literal (if (string=? rel \"\") "
			       "WORK_DIR rel)))");
	CHECK(!strstr(m.text ? m.text : "", "\"//"));
	for (size_t i = 0; i < m.p.nrules; i++)
		for (size_t j = 0; j < m.p.rules[i].nfilters; j++)
			dbl = dbl || any_filter_arg_prefix(&m.p.rules[i].filters[j], "//");
	CHECK(!dbl);
	CHECK(policy_has(&m.p, SH_DENY, SH_F_LITERAL, "/.safehouse"));
	CHECK(!allowed(&m, "file-write-data", "/.safehouse"));
	CHECK(allowed(&m, "file-write-data", "/anything"));
	mr_free(&m);
}

TEST(macos_render_home_root_has_no_double_slash)
{
	struct mr m;
	struct mr_opts o = { .home = "/", .workdir = "/w", .cmd = "codex" };

	mr_run(&m, &o);
	CHECK_INT(m.rc, ==, 0);
	CHECK(policy_has(&m.p, SH_ALLOW, SH_F_SUBPATH, "/.codex"));
	CHECK(!strstr(m.text ? m.text : "", "\"//"));
	mr_free(&m);
}

TEST(macos_render_workdir_disabled)
{
	struct mr m;
	struct mr_opts o = { .workdir = NULL, .cmd = "codex" };

	mr_run(&m, &o);
	CHECK_INT(m.rc, ==, 0);
	CHECK_INT(pos_of(&m, "(define WORK_DIR"), ==, -1);
	CHECK_INT(pos_of(&m, "(define (workdir-"), ==, -1);
	mr_free(&m);
}

TEST(macos_codex_policy_has_every_seed_path)
{
	struct mr m;
	struct mr_opts o = { .workdir = WORK, .cmd = "codex" };

	mr_run(&m, &o);
	CHECK_INT(m.rc, ==, 0);
	CHECK_STR(m.a.agent, "60-agents/codex.sb");
	CHECK(policy_has(&m.p, SH_ALLOW, SH_F_PREFIX, HOME "/.local/bin/codex"));
	CHECK(policy_has(&m.p, SH_ALLOW, SH_F_SUBPATH, HOME "/.codex"));
	CHECK(policy_has(&m.p, SH_ALLOW, SH_F_SUBPATH, HOME "/.cache/codex"));
	CHECK(policy_has(&m.p, SH_ALLOW, SH_F_LITERAL,
			 HOME "/Library/Preferences/com.openai.codex.plist"));
	CHECK(policy_has(&m.p, SH_ALLOW, SH_F_LITERAL, "/Library/Preferences/com.openai.codex.plist"));
	CHECK(policy_has(&m.p, SH_ALLOW, SH_F_LITERAL,
			 "/Library/Managed Preferences/com.openai.codex.plist"));
	CHECK(policy_has(&m.p, SH_ALLOW, SH_F_SUBPATH, "/etc/codex"));
	CHECK(policy_has(&m.p, SH_ALLOW, SH_F_SUBPATH, "/private/etc/codex"));
	/* effective, not only present */
	CHECK(allowed(&m, "file-read-data", HOME "/.local/bin/codex-aarch64-apple-darwin"));
	CHECK(allowed(&m, "file-write-data", HOME "/.codex/history.jsonl"));
	CHECK(allowed(&m, "file-write-data", HOME "/.cache/codex/x"));
	CHECK(!allowed(&m, "file-write-data", HOME "/.codex/config.toml"));
	CHECK(allowed(&m, "file-read-data", "/Library/Managed Preferences/com.openai.codex.plist"));
	CHECK(allowed(&m, "file-read-data", "/private/etc/codex/config.toml"));
	/* the keychain dependency: Security framework services and the keychains */
	CHECK(sh_strv_contains(&m.a.profiles, "55-integrations-optional/keychain.sb"));
	CHECK(sh_strv_contains(&m.a.features_implied, "keychain"));
	CHECK(policy_has_raw(&m.p, "mach-lookup", "com.apple.SecurityServer"));
	CHECK(policy_has_raw(&m.p, "mach-lookup", "com.apple.securityd.xpc"));
	CHECK(policy_has_raw(&m.p, "mach-lookup", "com.apple.trustd.agent"));
	CHECK(allowed(&m, "file-write-data", HOME "/Library/Keychains/login.keychain-db"));
	CHECK(policy_has_raw(&m.p, "user-preference-read", "com.openai.codex"));
	mr_free(&m);
}

TEST(macos_render_network_modes)
{
	struct mr m;
	struct mr_opts o = { .workdir = WORK, .cmd = "codex" };
	bool domain = false;

	/* none: no outbound rule; the agent's domains are commented out */
	o.net = SH_NETMODE_NONE;
	mr_run(&m, &o);
	CHECK_INT(m.rc, ==, 0);
	CHECK_CONTAINS(m.text, ";; Network mode: none.");
	CHECK_INT(pos_of(&m, "(allow network-outbound (remote ip \"*:*\"))"), ==, -1);
	CHECK_CONTAINS(m.text, ";;        (remote domain \"api.openai.com:443\")");
	for (size_t i = 0; i < m.p.nrules; i++)
		for (size_t j = 0; j < m.p.rules[i].nfilters; j++)
			domain = domain || any_domain_filter(&m.p.rules[i].filters[j]);
	CHECK(!domain);
	CHECK_INT(sh_macos_net_mode(&m.p), ==, SH_NETMODE_NONE);
	mr_free(&m);

	/* full */
	o.net = SH_NETMODE_FULL;
	mr_run(&m, &o);
	CHECK_INT(m.rc, ==, 0);
	CHECK_CONTAINS(m.text, "(allow network-outbound (remote ip \"*:*\"))");
	CHECK(policy_has(&m.p, SH_ALLOW, SH_F_REMOTE, "*:*"));
	CHECK(policy_has(&m.p, SH_ALLOW, SH_F_REMOTE, "/private/var/run/mDNSResponder"));
	CHECK_INT(sh_macos_net_mode(&m.p), ==, SH_NETMODE_FULL);
	mr_free(&m);

	/* filtered: only the proxy's port */
	o.net = SH_NETMODE_FILTERED;
	o.port = 8123;
	mr_run(&m, &o);
	CHECK_INT(m.rc, ==, 0);
	CHECK_CONTAINS(m.text, "(allow network-outbound (remote tcp \"localhost:8123\"))");
	CHECK(policy_has(&m.p, SH_ALLOW, SH_F_REMOTE, "localhost:8123"));
	CHECK(!policy_has(&m.p, SH_ALLOW, SH_F_REMOTE, "*:*"));
	CHECK(!policy_has(&m.p, SH_ALLOW, SH_F_REMOTE, "localhost:*"));
	mr_free(&m);

	/* filtered without a known port: nothing */
	o.port = 0;
	mr_run(&m, &o);
	CHECK_INT(m.rc, ==, 0);
	CHECK_CONTAINS(m.text, "no proxy port is known");
	CHECK(!policy_has(&m.p, SH_ALLOW, SH_F_REMOTE, "localhost:0"));
	mr_free(&m);
}

TEST(macos_render_domain_rules_rewritten)
{
	static const char overlay[] =
		"(allow network-outbound (remote domain \"example.com:443\") "
		"(remote tcp \"localhost:5432\"))\n"
		"(allow network-outbound (require-any (remote domain \"a.example:443\")))\n"
		"(allow network-outbound (remote domain \"b.example:443\"))(allow file-read* "
		"(home-literal \"/.after\"))\n";
	struct sh_appended app = { "/Users/ann/net.sb", (char *)overlay, sizeof(overlay) - 1,
				   "--append-profile" };
	struct mr m;
	struct mr_opts o = { .workdir = WORK, .app = &app, .napp = 1 };

	mr_run(&m, &o);
	CHECK_INT(m.rc, ==, 0);
	/* the non-domain filter survives, the domain does not */
	CHECK_CONTAINS(m.text, "\n(allow network-outbound (remote tcp \"localhost:5432\"))\n");
	CHECK(policy_has(&m.p, SH_ALLOW, SH_F_REMOTE, "localhost:5432"));
	CHECK_CONTAINS(m.text, ";; (allow network-outbound (require-any (remote domain");
	/* the form after a rewritten one on the same line is kept */
	CHECK(allowed(&m, "file-read-data", HOME "/.after"));
	/* no rule left without filters (that would match everything) */
	for (size_t i = 0; i < m.p.nrules; i++)
		if (strcmp(m.p.rules[i].origin.source, "<rendered macos>") == 0 &&
		    m.p.rules[i].action == SH_ALLOW && m.p.rules[i].nops == 1 &&
		    strcmp(m.p.rules[i].ops[0], "network-outbound") == 0)
			CHECK_INT(m.p.rules[i].nfilters, >, 0);
	mr_free(&m);
}

TEST(macos_net_mode_from_policy)
{
	static const struct {
		const char *text;
		enum sh_net_mode want;
	} cases[] = {
		{ "(allow network-outbound)", SH_NETMODE_FULL },
		{ "(allow network* (remote ip \"*:*\"))", SH_NETMODE_FULL },
		{ "(allow network-outbound)(deny network-outbound)", SH_NETMODE_NONE },
		{ "(allow network-outbound (remote domain \"x.com:443\"))", SH_NETMODE_FILTERED },
		{ "(allow network-outbound (remote ip \"localhost:*\"))", SH_NETMODE_NONE },
		{ "(deny network-outbound)", SH_NETMODE_NONE },
		{ "(allow default)", SH_NETMODE_FULL },
		{ "", SH_NETMODE_NONE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sh_profile_ctx *ctx = sh_profile_ctx_new("/h", NULL, "macos");
		struct sh_policy p;
		struct sh_err e = { 0 };
		sh_policy_init(&p);
		CHECK_INT(sh_profile_compile(ctx, "t.sb", cases[i].text, strlen(cases[i].text), &p,
					     &e), ==, 0);
		if (!CHECK_INT(sh_macos_net_mode(&p), ==, cases[i].want))
			fprintf(stderr, "# case: %s\n", cases[i].text);
		sh_policy_free(&p);
		sh_profile_ctx_free(ctx);
	}
}

/* Every macOS profile, every feature and every agent at once: all of them
 * must render to SBPL our compiler accepts. */
TEST(macos_render_everything_reparses)
{
	struct sh_catalog cat;
	struct sh_strv avail = { 0 };
	struct sh_buf all = { 0 };
	struct sh_err e = { 0 };
	struct mr m;
	struct mr_opts o = { .workdir = WORK, .cmd = "claude", .net = SH_NETMODE_FULL };

	CHECK_INT(sh_catalog_load(&cat, NULL, "macos", &e), ==, 0);
	sh_features_available(&cat, "macos", &avail);
	for (size_t i = 0; i < avail.n; i++)
		sh_buf_printf(&all, "%s%s", i ? "," : "", avail.v[i]);
	o.features = sh_buf_str(&all);
	mr_run(&m, &o);
	CHECK_INT(m.rc, ==, 0);
	CHECK(sh_strv_contains(&m.a.profiles, "55-integrations-optional/keychain.sb"));
	CHECK(sh_strv_contains(&m.a.profiles, "55-integrations-optional/localhost.sb"));
	/* Linux-only integrations do not exist on macOS */
	CHECK(!sh_strv_contains(&avail, "wayland"));
	CHECK(!sh_strv_contains(&avail, "x11"));
	CHECK(sh_strv_contains(&avail, "clipboard"));
	mr_free(&m);
	sh_buf_free(&all);
	sh_strv_free(&avail);
	sh_catalog_free(&cat);
}

TEST(macos_profiles_use_resolved_system_paths)
{
	/* /etc, /tmp and /var are symlinks on macOS and the kernel checks the
	 * resolved path: the macOS base must grant /private/tmp, and the
	 * default session must not reach the shared /tmp's ssh-agent socket. */
	struct mr m;
	struct mr_opts o = { .workdir = WORK };

	mr_run(&m, &o);
	CHECK_INT(m.rc, ==, 0);
	CHECK(allowed(&m, "file-write-data", "/private/tmp/build.log"));
	CHECK(allowed(&m, "file-read-data", "/private/etc/zshrc"));
	CHECK(!allowed(&m, "file-read-data", "/private/etc/master.passwd"));
	CHECK(!allowed(&m, "file-read-data", "/private/etc/sudoers"));
	CHECK(!allowed(&m, "file-write-data", "/private/tmp/com.apple.launchd.abc/Listeners"));
	CHECK(!allowed(&m, "file-read-data", HOME "/Library/Keychains/login.keychain-db"));
	CHECK(!policy_has(&m.p, SH_ALLOW, SH_F_REMOTE, "localhost:*"));
	mr_free(&m);
}
